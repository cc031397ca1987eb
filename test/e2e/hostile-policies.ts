// Hostile and huge policy files for the reload tests, generated at test time (they are
// megabytes; nothing this size is kept in the repository).

import { meshPolicyYaml } from "./mesh-policy.ts";

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
 * The mesh policy of the end-to-end tests (the same rules for its four peers) plus a
 * fleet of `fleetPeers` bulk peers in a group of their own, which may reach the web
 * servers on tcp/443. About 60 bytes of YAML per fleet peer: 850,000 make ~52 MB.
 * The fleet gets addresses from 100.80.0.0 up, clear of the lab's peers.
 */
export function hugePolicyYaml(fleetPeers: number, options: { dbAccess?: boolean } = {}): string {
  const base = meshPolicyYaml({ dbAccess: options.dbAccess ?? true });
  const lines: string[] = [];
  for (let i = 0; i < fleetPeers; i++) {
    const n = 80 * 65536 + i; // 100.80.0.0 + i
    lines.push(`  - { name: fleet-${i.toString().padStart(7, "0")}, ip: 100.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}, groups: [fleet] }\n`);
  }
  return (
    base
      .replace("groups: [engineering,", "groups: [fleet, engineering,")
      .replace("networks:\n", `${lines.join("")}networks:\n`) +
    "  - name: fleet-to-web\n    protocol: tcp\n    ports: [443]\n    sources: [fleet]\n    destinations: [web-servers]\n"
  );
}
