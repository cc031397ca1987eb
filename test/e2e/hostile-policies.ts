// Hostile and huge policy files for the reload tests, generated at test time (they are
// megabytes; nothing this size is kept in the repository).

/**
 * A YAML alias amplification ("billion laughs" in one level): a list of `names` short
 * group names under an anchor, and `references` peers that are each in all of them. 100,000
 * names and 999 references make a ~0.9 MB file that the yaml package's maxAliasCount
 * (1000) lets through and that makes ~100 million group memberships.
 */
export function aliasAmplificationYaml(names = 100_000, references = 999): string {
  const list: string[] = [];
  for (let i = 0; i < names; i++) list.push(`g${i.toString().padStart(7, "0")}`);
  const peers: string[] = [];
  for (let i = 0; i < references; i++) peers.push(`  - {name: p${i}, ip: 100.66.${i >> 8}.${i & 255}, groups: *g}\n`);
  return `format: meshfilter/v1\ngroups: &g [${list.join(",")}]\npeers:\n${peers.join("")}`;
}

/**
 * The account of the reload tests: laptop-alice (engineering) may reach db-1
 * (production-db) on tcp/5201 (iperf3) and with ping; `sshRule` adds tcp/22, a change
 * that shows in db-1's rule set. `fleetPeers` bulk peers (100.80.0.0 up, clear of the
 * lab's) in a group of their own, allowed to reach each other on tcp/443, make the file
 * large without changing what db-1 enforces: about 62 bytes of YAML per fleet peer, so
 * 850,000 make ~52 MB.
 */
export function reloadPolicyYaml(options: { fleetPeers?: number; sshRule?: boolean } = {}): string {
  const fleet = options.fleetPeers ?? 0;
  const out: string[] = [
    "format: meshfilter/v1\n",
    "users:\n  - { name: alice, groups: [engineering] }\n",
    "setup_keys:\n  - { name: servers-key, groups: [production-db] }\n",
    "groups: [engineering, production-db, fleet]\n",
    "peers:\n",
    "  - { name: laptop-alice, ip: 100.64.0.10, user: alice }\n",
    "  - { name: db-1, ip: 100.64.0.20, setup_key: servers-key }\n",
  ];
  for (let i = 0; i < fleet; i++) {
    const n = 80 * 65536 + i; // 100.80.0.0 + i
    out.push(`  - { name: fleet-${i.toString().padStart(7, "0")}, ip: 100.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}, groups: [fleet] }\n`);
  }
  out.push(
    "policies:\n",
    "  - { name: engineering-to-db, protocol: tcp, ports: [5201], sources: [engineering], destinations: [production-db] }\n",
    "  - { name: engineering-ping-db, protocol: icmp, sources: [engineering], destinations: [production-db] }\n",
  );
  if (options.sshRule) out.push("  - { name: engineering-ssh-db, protocol: tcp, ports: [22], sources: [engineering], destinations: [production-db] }\n");
  if (fleet > 0) out.push("  - { name: fleet-mesh, protocol: tcp, ports: [443], sources: [fleet], destinations: [fleet] }\n");
  return out.join("");
}

/** A large valid policy: reloadPolicyYaml with a fleet of `fleetPeers`. */
export function hugePolicyYaml(fleetPeers: number): string {
  return reloadPolicyYaml({ fleetPeers });
}
