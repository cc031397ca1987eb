// Terse builders for accounts in tests: ids default to names, every list defaults to
// empty, the All group exists, and groups that peers or rules mention are created.

import type { Account, Group, NetworkResource, NetworkRouter, Peer, Policy, PolicyRule, PostureCheck, Route } from "../../src/policy/model/model.ts";

export function peer(name: string, ip: string, extra: Partial<Peer> = {}): Peer {
  return { id: name, name, ip, groups: [], meta: {}, ...extra };
}

export function group(id: string, peers: string[] = [], extra: Partial<Group> = {}): Group {
  return { id, name: id, peers, resources: [], isAll: false, ...extra };
}

let ruleCounter = 0;
/** A rule from source groups to destination groups; accept, all protocols, bidirectional off by default. */
export function rule(sources: string[], destinations: string[], extra: Partial<PolicyRule> & { destinationResource?: string; sourcePeer?: string; destinationPeer?: string } = {}): PolicyRule {
  const { destinationResource, sourcePeer, destinationPeer, ...rest } = extra;
  return {
    id: `r${++ruleCounter}`,
    name: `rule ${ruleCounter}`,
    enabled: true,
    action: "accept",
    bidirectional: false,
    protocol: "all",
    ports: [],
    portRanges: [],
    sources: { groups: sources, peer: sourcePeer },
    destinations: { groups: destinations, resource: destinationResource, peer: destinationPeer },
    ...rest,
  };
}

export function policy(id: string, rules: PolicyRule[], extra: Partial<Policy> = {}): Policy {
  return { id, name: id, enabled: true, sourcePostureChecks: [], rules, ...extra };
}

export function resource(id: string, networkId: string, address: string, groups: string[] = [], extra: Partial<NetworkResource> = {}): NetworkResource {
  const type = extra.type ?? (/^[0-9.:a-f]+\/?[0-9]*$/i.test(address) ? (address.endsWith("/32") || !address.includes("/") ? "host" : "subnet") : "domain");
  return { id, name: id, networkId, type, address, groups, enabled: true, ...extra };
}

export function router(networkId: string, target: { peer?: string; peerGroups?: string[] }): NetworkRouter {
  return { id: `router-${networkId}-${target.peer ?? target.peerGroups?.join("+")}`, networkId, peer: target.peer, peerGroups: target.peerGroups ?? [], masquerade: true, enabled: true };
}

export function route(id: string, network: string, extra: Partial<Route> = {}): Route {
  return { id, networkId: id, network, domains: [], peerGroups: [], groups: [], accessControlGroups: [], masquerade: true, enabled: true, ...extra };
}

export function posture(id: string, check: Omit<PostureCheck, "id" | "name">): PostureCheck {
  return { id, name: id, ...check };
}

/** An account from parts; `createGroups: false` keeps only the groups given (for unknown-group tests). */
export function account(parts: Partial<Account>, options: { createGroups?: boolean } = {}): Account {
  const a: Account = {
    peers: [], users: [], setupKeys: [], groups: [], policies: [], postureChecks: [], networks: [], resources: [], routers: [], routes: [],
    ...parts,
  };
  a.groups = [...a.groups];
  if (!a.groups.some((g) => g.isAll)) a.groups.unshift(group("All", [], { isAll: true }));
  if (options.createGroups !== false) {
    const mentioned = new Set<string>();
    for (const p of a.peers) p.groups.forEach((g) => mentioned.add(g));
    for (const u of [...a.users, ...a.setupKeys]) u.autoGroups.forEach((g) => mentioned.add(g));
    for (const pol of a.policies) for (const r of pol.rules) [...r.sources.groups, ...r.destinations.groups].forEach((g) => mentioned.add(g));
    for (const r of a.resources) r.groups.forEach((g) => mentioned.add(g));
    for (const r of a.routers) r.peerGroups.forEach((g) => mentioned.add(g));
    for (const g of mentioned) if (!a.groups.some((x) => x.id === g)) a.groups.push(group(g));
  }
  for (const n of new Set([...a.resources.map((r) => r.networkId), ...a.routers.map((r) => r.networkId)])) {
    if (!a.networks.some((x) => x.id === n)) a.networks.push({ id: n, name: n });
  }
  return a;
}

/** The team's shared example peers (prompts/common.md): alice's laptop, db-1, web-1, router-1 and the office LAN. */
export function sharedPeers(): Pick<Account, "peers" | "users" | "setupKeys" | "resources" | "routers"> {
  return {
    users: [{ id: "alice", autoGroups: ["engineering"] }],
    setupKeys: [
      { id: "servers-key", autoGroups: [] },
    ],
    peers: [
      peer("laptop-alice", "100.64.0.10", { userId: "alice", meta: { version: "0.30.0", os: "linux", kernelVersion: "6.1.0-18-amd64" } }),
      peer("db-1", "100.64.0.20", { setupKeyId: "servers-key", groups: ["production-db"] }),
      peer("web-1", "100.64.0.30", { setupKeyId: "servers-key", groups: ["web-servers"] }),
      peer("router-1", "100.64.0.40", { setupKeyId: "servers-key", groups: ["routers"] }),
    ],
    resources: [resource("office-lan", "office", "198.18.1.0/24", ["office-resources"])],
    routers: [router("office", { peerGroups: ["routers"] })],
  };
}
