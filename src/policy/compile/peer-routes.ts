// Which prefixes a peer reaches through another peer, read from the account: what
// `meshfilter run` gives its transport (and the TUN's kernel routes) when no --route is
// given. As NetBird hands them out:
// - a network resource (host or subnet) is routed to a peer that some accept rule lets
//   reach it, via one of the network's enabled routers (a routing peer, or the peers of
//   its peer groups); whether a rule lets the peer reach it is read from the routing
//   peer's compiled route rules, so it is the compiler's answer, not a second one;
// - a legacy route goes to the peers of its distribution groups, via its routing peer.
// A peer is never routed through itself; of several routing peers the first (in the
// account's order) carries the traffic.

import { parseCidr, parseIp, cidrContains } from "../../packet/address.ts";
import { compilePeer } from "./compile.ts";
import type { CompileOptions } from "../../filter/compiled-policy.ts";
import { AccountIndex } from "../model/effective-groups.ts";
import type { Account, Peer } from "../model/model.ts";
import { resolvePeer } from "../model/peer-ref.ts";

/** A prefix and the overlay IPv4 of the peer that routes it. */
export interface PeerRoute {
  prefix: string;
  via: string;
}

function within(prefixes: readonly string[], ip: string): boolean {
  const address = parseIp(ip);
  return prefixes.some((p) => {
    const cidr = parseCidr(p);
    return cidr.version === address.version && cidrContains(cidr, address.version, address.words);
  });
}

/** The routes `self` (id, name or overlay IP) uses, in the account's order, one per prefix. Throws PolicyError (PeerRefError) for an unknown peer. */
export function routesFromPolicy(account: Account, self: string, options: CompileOptions = {}): PeerRoute[] {
  const me = resolvePeer(account.peers, self);
  const index = new AccountIndex(account);
  const routes = new Map<string, string>();
  const add = (prefix: string, routers: readonly Peer[]): void => {
    const via = routers.find((p) => p.id !== me.id);
    if (via && !routes.has(prefix) && !routers.some((p) => p.id === me.id)) routes.set(prefix, via.ip);
  };

  const routersOf = (networkId: string): Peer[] => {
    const peers: Peer[] = [];
    for (const r of account.routers) {
      if (!r.enabled || r.networkId !== networkId) continue;
      if (r.peer) {
        const p = index.peersById.get(r.peer);
        if (p) peers.push(p);
      } else peers.push(...index.peersOfGroups(r.peerGroups));
    }
    return peers;
  };
  const compiledFor = new Map<string, ReturnType<typeof compilePeer>>();
  for (const resource of account.resources) {
    if (!resource.enabled || resource.type === "domain") continue;
    const routers = routersOf(resource.networkId);
    const allowed = routers.some((router) => {
      let compiled = compiledFor.get(router.id);
      if (!compiled) compiledFor.set(router.id, (compiled = compilePeer(account, router.id, options)));
      return compiled.routes.some((rule) => rule.action === "accept" && rule.resourceId === resource.id && within(rule.sources, me.ip));
    });
    if (allowed) add(resource.address, routers);
  }
  for (const route of account.routes) {
    if (!route.enabled || route.network === "" || !index.inAnyGroup(me.id, route.groups)) continue;
    const routers = route.peer ? [index.peersById.get(route.peer)].filter((p): p is Peer => p !== undefined) : index.peersOfGroups(route.peerGroups);
    add(route.network, routers);
  }
  return [...routes].map(([prefix, via]) => ({ prefix, via }));
}
