// Masquerade on a routing peer: traffic the agent forwards from the mesh to a network
// resource whose route or network router has `masquerade: true` leaves with this peer's
// own address on the resource's side, and the replies are mapped back before they reach
// the TUN device, so the resource's LAN needs no route to the overlay. NetBird's Linux
// client does the same with the kernel's NAT (client/firewall/nftables, its router's
// masquerade rules), and so does this module: one nftables table per TUN device,
//
//   postrouting (nat): iifname <tun> ip daddr @masq4 masquerade   (ip6 daddr @masq6 too)
//
// replaced in one `nft -f` transaction whenever the set of masqueraded prefixes changes
// (a policy reload, a domain resource's new addresses). The kernel's conntrack entry of
// each NATed connection maps its replies back. Why not in the agent's own data path: the
// kernel forwards what the agent writes into the TUN device, and it drops a packet that
// arrives there with one of the host's own addresses as its source (a martian), so a
// rewrite before the TUN write cannot work; after it, it is the kernel's job anyway.
// The filter never sees the rewritten addresses: it judges the overlay side of the flow.

import { spawnSync } from "node:child_process";
import type { CompiledPeerPolicy } from "../filter/compiled-policy.ts";

/** The prefixes to masquerade: destinations of route rules with `masquerade`, and the resolved addresses of their domain resources. */
export function masqueradedPrefixes(policy: CompiledPeerPolicy, resolved: ReadonlyMap<string, readonly string[]> = new Map()): string[] {
  const prefixes = new Set<string>();
  for (const rule of policy.routes) {
    if (!rule.masquerade) continue;
    for (const p of rule.domain ? (resolved.get(rule.resourceId) ?? []) : rule.destinations) prefixes.add(p);
  }
  return [...prefixes].sort();
}

export class Masquerade {
  private applied: string | null = null;
  readonly table: string;

  /** `tun`: the agent's TUN device, whose forwarded traffic is masqueraded. */
  constructor(private readonly tun: string) {
    this.table = `meshfilter_${tun.replace(/[^A-Za-z0-9_]/g, "_")}`;
  }

  /** Put the prefixes in force (nothing is run when they did not change). Throws Error with nft's message. */
  apply(prefixes: readonly string[]): void {
    const v4 = prefixes.filter((p) => !p.includes(":"));
    const v6 = prefixes.filter((p) => p.includes(":"));
    const script = [
      `table inet ${this.table} {}`,
      `delete table inet ${this.table}`,
      ...(prefixes.length === 0
        ? []
        : [
            `table inet ${this.table} {`,
            `  set masq4 { type ipv4_addr; flags interval; auto-merge;${v4.length ? ` elements = { ${v4.join(", ")} };` : ""} }`,
            `  set masq6 { type ipv6_addr; flags interval; auto-merge;${v6.length ? ` elements = { ${v6.join(", ")} };` : ""} }`,
            `  chain postrouting {`,
            `    type nat hook postrouting priority srcnat; policy accept;`,
            `    iifname "${this.tun}" ip daddr @masq4 masquerade`,
            `    iifname "${this.tun}" ip6 daddr @masq6 masquerade`,
            `  }`,
            `}`,
          ]),
    ].join("\n");
    if (script === this.applied) return;
    nft(script);
    this.applied = script;
  }

  /** Remove the table (the agent is stopping). */
  close(): void {
    if (this.applied === null) return;
    this.applied = null;
    try {
      nft(`table inet ${this.table} {}\ndelete table inet ${this.table}`);
    } catch {
      // the namespace or the table is gone already
    }
  }
}

function nft(script: string): void {
  const r = spawnSync("nft", ["-f", "-"], { input: script, encoding: "utf8" });
  if (r.error) throw new Error(`masquerade needs nftables: cannot run nft (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`);
  if (r.status !== 0) throw new Error(`nft refused the masquerade rules: ${r.stderr.trim().split("\n")[0]}`);
}
