// Compilation: from an account (everybody's policies) to the rule tables ONE peer enforces
// (src/policy/compiled.ts). The semantics are POLICY.md's P1-P13; docs/policy-semantics.md
// says how each is implemented. In short, for every enabled rule of every enabled policy:
//   S = source peers that pass the policy's posture checks (P8), D = destination peers,
//   R = destination network resources; the rule is one-way S -> D, plus D -> S when it is
//   bidirectional (the flag, or always for all/icmp/portless tcp/udp unless the flag is
//   honoured, P4/P5), and always one-way S -> R (P6).
//   inbound  (enforced here, P3): S -> self when self is in D; D -> self (":rev") when reversed and self in S.
//   outbound (egress mode, P13):  self -> D when self is in S; self -> S (":rev") when reversed and self in D.
//   routes   (P6): S -> resource when self routes the resource's network.
// A peer never filters its own traffic to itself, so self is left out of every peer list.

import { formatParsed, parseCidr } from "../packet/address.ts";
import type { CompiledPeerPolicy, CompiledRouteRule, CompiledRule, CompileOptions } from "./compiled.ts";
import { AccountIndex } from "./effective-groups.ts";
import { PolicyError, type Account, type NetworkResource, type Peer, type Policy, type PolicyRule, type Route, type RuleEnd } from "./model.ts";
import { rulePorts } from "./native-ssh.ts";
import { resolvePeer } from "./peer-ref.ts";
import { PostureEvaluator } from "./posture.ts";

/** Variants used by the explainer to find out why nothing matched; not for enforcement. */
export interface WhatIfOptions extends CompileOptions {
  /** Keep source peers that fail posture checks (to find rules that posture switched off). */
  ignorePostureChecks?: boolean;
  /** Compile disabled policies and rules as if enabled (to find rules that P10 switched off). */
  includeDisabled?: boolean;
}

/** The rule tables of `self` (a peer id, name or overlay IP). Throws PolicyError when no such peer exists, or several do. */
export function compilePeer(account: Account, self: string, options: CompileOptions = {}): CompiledPeerPolicy {
  const index = new AccountIndex(account);
  return compileForPeer(index, findSelf(index, self), options);
}

/** The peer `self` names, or a PolicyError saying it is unknown or ambiguous (see resolvePeer). */
export function findSelf(index: AccountIndex, self: string): Peer {
  return resolvePeer(index.account.peers, self);
}

/** P5: the rule works in both directions whatever its flag says, unless the flag is honoured. */
export function isEffectivelyBidirectional(rule: PolicyRule, options: CompileOptions = {}): boolean {
  if (rule.bidirectional || options.honourBidirectionalFlag) return rule.bidirectional;
  if (rule.protocol === "all" || rule.protocol === "icmp") return true;
  return rule.ports.length === 0 && rule.portRanges.length === 0;
}

/** The overlay prefixes of a peer: "ip/32" and, if it has one, "ipv6/128". */
export function peerPrefixes(peer: Peer): string[] {
  return peer.ipv6 ? [`${peer.ip}/32`, `${peer.ipv6}/128`] : [`${peer.ip}/32`];
}

/** A resource's destination prefix ("10.0.1.5" -> "10.0.1.5/32"); undefined for a domain resource. */
function resourcePrefix(resource: NetworkResource, account: Account): string | undefined {
  if (resource.type === "domain") return undefined;
  try {
    return formatParsed(parseCidr(resource.address));
  } catch (err) {
    const at = account.resources.indexOf(resource);
    throw new PolicyError([{ path: `$.resources[${at}].address`, message: (err as Error).message }]);
  }
}

/** compilePeer over a prebuilt index (the explainer compiles one peer several ways). */
export function compileForPeer(index: AccountIndex, self: Peer, options: WhatIfOptions = {}): CompiledPeerPolicy {
  const account = index.account;
  const posture = new PostureEvaluator(account);
  const selfAddresses = peerPrefixes(self);
  const result: CompiledPeerPolicy = {
    peer: { id: self.id, name: self.name, addresses: selfAddresses.map((p) => p.split("/")[0]) },
    inbound: [],
    outbound: [],
    routes: [],
  };

  // Peer lists are cached by (groups, single peer, posture checks): rules naming the same
  // groups share one prefix array instead of rebuilding it (thousands of rules, few group sets).
  const prefixCache = new Map<string, string[]>();
  const prefixesOfPeer = new Map<Peer, string[]>();
  const endPeers = (end: RuleEnd): Peer[] => {
    const peers = index.peersOfGroups(end.groups);
    const single = end.peer ? index.peersById.get(end.peer) : undefined;
    if (single && !peers.includes(single)) peers.push(single);
    return peers;
  };
  const prefixesOf = (end: RuleEnd, checks: readonly string[]): string[] => {
    const key = `${end.groups.join(",")}|${end.peer ?? ""}|${checks.join(",")}`;
    let prefixes = prefixCache.get(key);
    if (!prefixes) {
      prefixes = [];
      for (const peer of endPeers(end)) {
        if (peer === self || posture.firstFailure(checks, peer)) continue;
        let own = prefixesOfPeer.get(peer);
        if (!own) prefixesOfPeer.set(peer, (own = peerPrefixes(peer)));
        for (const p of own) prefixes.push(p);
      }
      prefixCache.set(key, prefixes);
    }
    return prefixes;
  };
  const selfIn = (end: RuleEnd): boolean => end.peer === self.id || index.inAnyGroup(self.id, end.groups);

  const { networks: routedNetworks, routes: routesHere, masqueradedNetworks } = routedBy(index, self, options.includeDisabled);

  // Egress mode (P13) judges what self opens towards resources and routed prefixes with
  // the outbound table too; these rules are one-way like every resource rule (P6).
  // Domain resources are left out: their addresses exist only on the routing peer.
  function outboundToRouted(rule: PolicyRule, base: CompiledRule): CompiledRule[] {
    const rules: CompiledRule[] = [];
    const to = (targetId: string, prefix: string): void => {
      rules.push({ ...base, id: `${base.id}:to:${targetId}`, sources: selfAddresses, destinations: [prefix], reverse: false });
    };
    for (const resource of destinationResources(index, rule.destinations)) {
      const prefix = resource.enabled || options.includeDisabled ? resourcePrefix(resource, account) : undefined;
      if (prefix) to(resource.id, prefix);
    }
    for (const route of account.routes) {
      if (!(route.enabled || options.includeDisabled) || !route.network || !distributedToSelf(route)) continue;
      if (rule.destinations.groups.some((g) => route.accessControlGroups.includes(g))) to(route.id, formatParsed(parseCidr(route.network)));
    }
    return rules;
  }
  function distributedToSelf(route: Route): boolean {
    return route.groups.length === 0 || index.inAnyGroup(self.id, route.groups);
  }
  function distributedTo(route: Route, sources: string[]): string[] {
    if (route.groups.length === 0) return sources;
    const allowed = new Set(index.peersOfGroups(route.groups).flatMap(peerPrefixes));
    return sources.filter((p) => allowed.has(p));
  }

  for (const policy of account.policies) {
    if (!policy.enabled && !options.includeDisabled) continue;
    const checks = options.ignorePostureChecks ? [] : policy.sourcePostureChecks;
    for (const rule of policy.rules) {
      if (!rule.enabled && !options.includeDisabled) continue;
      const base = ruleBase(policy, rule, self);
      const selfIsSource = selfIn(rule.sources) && !posture.firstFailure(checks, self);
      const selfIsDestination = selfIn(rule.destinations);
      const reversed = isEffectivelyBidirectional(rule, options);
      const push = (list: CompiledRule[], suffix: string, sources: string[], destinations: string[], reverse: boolean): void => {
        if (sources.length > 0 && destinations.length > 0) list.push({ ...base, id: base.id + suffix, sources, destinations, reverse });
      };
      if (selfIsDestination) push(result.inbound, "", prefixesOf(rule.sources, checks), selfAddresses, false);
      if (reversed && selfIsSource) push(result.inbound, ":rev", prefixesOf(rule.destinations, []), selfAddresses, true);
      if (selfIsSource) push(result.outbound, "", selfAddresses, prefixesOf(rule.destinations, []), false);
      if (reversed && selfIsDestination) push(result.outbound, ":rev", selfAddresses, prefixesOf(rule.sources, checks), true);

      for (const resource of destinationResources(index, rule.destinations)) {
        if ((!resource.enabled && !options.includeDisabled) || !routedNetworks.has(resource.networkId)) continue;
        const sources = prefixesOf(rule.sources, checks);
        if (sources.length === 0) continue;
        const prefix = resourcePrefix(resource, account);
        const route: CompiledRouteRule = {
          ...base,
          id: `${base.id}:route:${resource.id}`,
          sources,
          destinations: prefix ? [prefix] : [],
          reverse: false,
          resourceId: resource.id,
          resourceName: resource.name,
        };
        if (!prefix) route.domain = resource.address;
        if (masqueradedNetworks.has(resource.networkId)) route.masquerade = true;
        result.routes.push(route);
      }
      // NetBird: a legacy route's access control groups are the destinations of the policies
      // that govern it, and only peers the route is distributed to (its groups) can use it.
      for (const route of routesHere) {
        if (route.accessControlGroups.length === 0 || !rule.destinations.groups.some((g) => route.accessControlGroups.includes(g))) continue;
        const sources = distributedTo(route, prefixesOf(rule.sources, checks));
        if (sources.length > 0) result.routes.push(...legacyRouteRules(route, { ...base, sources }));
      }
      if (selfIsSource) result.outbound.push(...outboundToRouted(rule, base));
    }
  }
  // A legacy route without access control groups is open to everyone who has the route (NetBird's default permit).
  for (const route of account.routes) {
    if (route.accessControlGroups.length > 0 || !(route.enabled || options.includeDisabled)) continue;
    const permit = defaultPermit(route);
    if (route.network && distributedToSelf(route) && !routesHere.includes(route)) {
      result.outbound.push({ ...permit, id: `${permit.id}:to:${route.id}`, sources: selfAddresses, destinations: [formatParsed(parseCidr(route.network))] });
    }
    if (routesHere.includes(route)) result.routes.push(...legacyRouteRules(route, permit, false));
  }
  return result;
}

function defaultPermit(route: Route): CompiledRule {
  return {
    id: `route:${route.id}/default-permit`,
    policyId: `route:${route.id}`,
    policyName: `route ${route.id} (no access control groups)`,
    ruleId: "default-permit",
    ruleName: "default permit",
    action: "accept",
    protocol: "all",
    sources: ["0.0.0.0/0", "::/0"],
    destinations: [],
    ports: [],
    portRanges: [],
    reverse: false,
  };
}

/** The networks (of network routers) and legacy routes for which `self` is a routing peer, and the networks it masquerades for. */
export function routedBy(index: AccountIndex, self: Peer, includeDisabled = false): { networks: Set<string>; routes: Route[]; masqueradedNetworks: Set<string> } {
  const routesVia = (r: { peer?: string; peerGroups: string[]; enabled: boolean }) =>
    (r.enabled || includeDisabled) && (r.peer === self.id || index.inAnyGroup(self.id, r.peerGroups));
  const routers = index.account.routers.filter(routesVia);
  return {
    networks: new Set(routers.map((r) => r.networkId)),
    routes: index.account.routes.filter(routesVia),
    masqueradedNetworks: new Set(routers.filter((r) => r.masquerade).map((r) => r.networkId)),
  };
}

/** The prefixes `self` routes to (resources of its networks, legacy route networks); domains are left out. */
export function routedPrefixes(index: AccountIndex, self: Peer): string[] {
  const { networks, routes } = routedBy(index, self, true);
  const prefixes = index.account.resources.filter((r) => networks.has(r.networkId)).map((r) => resourcePrefix(r, index.account));
  for (const r of routes) if (r.network) prefixes.push(formatParsed(parseCidr(r.network)));
  return prefixes.filter((p): p is string => p !== undefined);
}

function ruleBase(policy: Policy, rule: PolicyRule, self: Peer): CompiledRule {
  return {
    id: `${policy.id}/${rule.id}`,
    policyId: policy.id,
    policyName: policy.name,
    ruleId: rule.id,
    ruleName: rule.name,
    action: rule.action,
    ...rulePorts(rule, self),
    sources: [],
    destinations: [],
    reverse: false,
  };
}

/** The network resources a rule end reaches: its resource and the resources of its groups. */
export function destinationResources(index: AccountIndex, end: RuleEnd): NetworkResource[] {
  const resources = new Set<NetworkResource>();
  const named = end.resource ? index.resourcesById.get(end.resource) : undefined;
  if (named) resources.add(named);
  for (const g of end.groups) for (const r of index.resourcesOf(g)) resources.add(r);
  return [...resources];
}

/** Route rules for a legacy route: one for its prefix, one per domain (filled in at run time). */
function legacyRouteRules(route: Route, base: CompiledRule, suffixed = true): CompiledRouteRule[] {
  const id = suffixed ? `${base.id}:route:${route.id}` : base.id;
  const rules: CompiledRouteRule[] = [];
  const common = { ...base, id, reverse: false, resourceId: route.id, resourceName: route.network || route.domains.join(","), ...(route.masquerade ? { masquerade: true } : {}) };
  if (route.network) rules.push({ ...common, destinations: [formatParsed(parseCidr(route.network))] });
  for (const domain of route.domains) rules.push({ ...common, id: `${id}:${domain}`, destinations: [], domain });
  return rules;
}
