// Compilation: from an account (everybody's policies) to the rule tables ONE peer enforces
// (src/filter/compiled-policy.ts). The semantics are POLICY.md's P1-P13; docs/policy-semantics.md
// says how each is implemented. In short, for every enabled rule of every enabled policy:
//   S = source peers that pass the policy's posture checks (P8), D = destination peers,
//   R = destination network resources; the rule is one-way S -> D, plus D -> S when it is
//   bidirectional (the flag, or always for all/icmp/portless tcp/udp unless the flag is
//   honoured, P4/P5), and always one-way S -> R (P6).
//   inbound  (enforced here, P3): S -> self when self is in D; D -> self (":rev") when reversed and self in S.
//   outbound (egress mode, P13):  self -> D when self is in S; self -> S (":rev") when reversed and self in D.
//   routes   (P6): S -> resource when self routes the resource's network.
// A peer never filters its own traffic to itself, so self is left out of every peer list.

import { formatParsed, parseCidr } from "../../packet/address.ts";
import type { CompiledPeerPolicy, CompiledRouteRule, CompiledRule, CompileOptions } from "../../filter/compiled-policy.ts";
import { AccountIndex } from "../model/effective-groups.ts";
import { PolicyError, type Account, type NetworkResource, type Peer, type Policy, type PolicyRule, type Route, type RuleEnd } from "../model/model.ts";
import { rulePorts } from "./native-ssh.ts";
import { resolvePeer } from "../model/peer-ref.ts";
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
  const compilation = new PeerCompilation(index, self, options);
  for (const policy of index.account.policies) {
    if (!policy.enabled && !options.includeDisabled) continue; // P10
    for (const rule of policy.rules) {
      if (!rule.enabled && !options.includeDisabled) continue; // P10
      compilation.rule(policy, rule);
    }
  }
  compilation.defaultPermits();
  return compilation.result;
}

/** One peer's compilation: the tables it fills, and the lookups every rule shares. */
class PeerCompilation {
  readonly result: CompiledPeerPolicy;
  private readonly account: Account;
  private readonly posture: PostureEvaluator;
  private readonly selfAddresses: string[];
  private readonly routed: ReturnType<typeof routedBy>;
  // Peer lists are cached by (groups, single peer, posture checks): rules naming the same
  // groups share one prefix array instead of rebuilding it (thousands of rules, few group sets).
  private readonly prefixCache = new Map<string, string[]>();
  private readonly prefixesOfPeer = new Map<Peer, string[]>();

  constructor(
    private readonly index: AccountIndex,
    private readonly self: Peer,
    private readonly options: WhatIfOptions,
  ) {
    this.account = index.account;
    this.posture = new PostureEvaluator(this.account);
    this.selfAddresses = peerPrefixes(self);
    this.routed = routedBy(index, self, options.includeDisabled);
    this.result = { peer: { id: self.id, name: self.name, addresses: this.selfAddresses.map((p) => p.split("/")[0]) }, inbound: [], outbound: [], routes: [] };
  }

  /** Everything one enabled rule of an enabled policy gives this peer. */
  rule(policy: Policy, rule: PolicyRule): void {
    const checks = this.options.ignorePostureChecks ? [] : policy.sourcePostureChecks;
    const base = ruleBase(policy, rule, this.self);
    const selfIsSource = this.selfIn(rule.sources) && !this.posture.firstFailure(checks, this.self);
    this.betweenPeers(rule, base, checks, selfIsSource);
    this.toResourcesRoutedHere(rule, base, checks);
    this.toLegacyRoutesHere(rule, base, checks);
    if (selfIsSource) this.result.outbound.push(...this.outboundToRouted(rule, base));
  }

  /**
   * P3, P4/P5, P13: sources may open connections to destinations, enforced where they
   * arrive (inbound); the reverse too when the rule works both ways; the same pairs seen
   * from the opening side make the outbound table (egress mode). P8: posture checks
   * narrow the sources.
   */
  private betweenPeers(rule: PolicyRule, base: CompiledRule, checks: readonly string[], selfIsSource: boolean): void {
    const { result, selfAddresses } = this;
    const selfIsDestination = this.selfIn(rule.destinations);
    const reversed = isEffectivelyBidirectional(rule, this.options);
    const push = (list: CompiledRule[], suffix: string, sources: string[], destinations: string[], reverse: boolean): void => {
      if (sources.length > 0 && destinations.length > 0) list.push({ ...base, id: base.id + suffix, sources, destinations, reverse });
    };
    if (selfIsDestination) push(result.inbound, "", this.prefixesOf(rule.sources, checks), selfAddresses, false);
    if (reversed && selfIsSource) push(result.inbound, ":rev", this.prefixesOf(rule.destinations, []), selfAddresses, true);
    if (selfIsSource) push(result.outbound, "", selfAddresses, this.prefixesOf(rule.destinations, []), false);
    if (reversed && selfIsDestination) push(result.outbound, ":rev", selfAddresses, this.prefixesOf(rule.sources, checks), true);
  }

  /** P6: a network resource is reached one way, source -> resource, through its network's routing peers (this one, if it is one). */
  private toResourcesRoutedHere(rule: PolicyRule, base: CompiledRule, checks: readonly string[]): void {
    for (const resource of destinationResources(this.index, rule.destinations)) {
      if ((!resource.enabled && !this.options.includeDisabled) || !this.routed.networks.has(resource.networkId)) continue;
      const sources = this.prefixesOf(rule.sources, checks);
      if (sources.length === 0) continue;
      const prefix = resourcePrefix(resource, this.account);
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
      if (this.routed.masqueradedNetworks.has(resource.networkId)) route.masquerade = true;
      this.result.routes.push(route);
    }
  }

  /**
   * NetBird's legacy routes: a route's access control groups are the destinations of the
   * policies that govern it, and only peers the route is distributed to (its groups) can use it.
   */
  private toLegacyRoutesHere(rule: PolicyRule, base: CompiledRule, checks: readonly string[]): void {
    for (const route of this.routed.routes) {
      if (route.accessControlGroups.length === 0 || !rule.destinations.groups.some((g) => route.accessControlGroups.includes(g))) continue;
      const sources = this.distributedTo(route, this.prefixesOf(rule.sources, checks));
      if (sources.length > 0) this.result.routes.push(...legacyRouteRules(route, { ...base, sources }));
    }
  }

  /**
   * Egress mode (P13) judges what this peer opens towards resources and routed prefixes
   * with the outbound table too; these rules are one-way like every resource rule (P6).
   * Domain resources are left out: their addresses exist only on the routing peer.
   */
  private outboundToRouted(rule: PolicyRule, base: CompiledRule): CompiledRule[] {
    const rules: CompiledRule[] = [];
    const to = (targetId: string, prefix: string): void => {
      rules.push({ ...base, id: `${base.id}:to:${targetId}`, sources: this.selfAddresses, destinations: [prefix], reverse: false });
    };
    for (const resource of destinationResources(this.index, rule.destinations)) {
      const prefix = resource.enabled || this.options.includeDisabled ? resourcePrefix(resource, this.account) : undefined;
      if (prefix) to(resource.id, prefix);
    }
    for (const route of this.account.routes) {
      if (!(route.enabled || this.options.includeDisabled) || !route.network || !this.distributedToSelf(route)) continue;
      if (rule.destinations.groups.some((g) => route.accessControlGroups.includes(g))) to(route.id, formatParsed(parseCidr(route.network)));
    }
    return rules;
  }

  /** A legacy route without access control groups is open to everyone who has the route (NetBird's default permit). */
  defaultPermits(): void {
    for (const route of this.account.routes) {
      if (route.accessControlGroups.length > 0 || !(route.enabled || this.options.includeDisabled)) continue;
      const permit = defaultPermit(route);
      const routedHere = this.routed.routes.includes(route);
      if (route.network && this.distributedToSelf(route) && !routedHere) {
        this.result.outbound.push({ ...permit, id: `${permit.id}:to:${route.id}`, sources: this.selfAddresses, destinations: [formatParsed(parseCidr(route.network))] });
      }
      if (routedHere) this.result.routes.push(...legacyRouteRules(route, permit, false));
    }
  }

  /** The overlay prefixes of a rule end's peers that pass `checks` (P8), this peer left out. */
  private prefixesOf(end: RuleEnd, checks: readonly string[]): string[] {
    const key = `${end.groups.join(",")}|${end.peer ?? ""}|${checks.join(",")}`;
    let prefixes = this.prefixCache.get(key);
    if (!prefixes) {
      prefixes = [];
      for (const peer of this.endPeers(end)) {
        if (peer === this.self || this.posture.firstFailure(checks, peer)) continue;
        let own = this.prefixesOfPeer.get(peer);
        if (!own) this.prefixesOfPeer.set(peer, (own = peerPrefixes(peer)));
        for (const p of own) prefixes.push(p);
      }
      this.prefixCache.set(key, prefixes);
    }
    return prefixes;
  }

  private endPeers(end: RuleEnd): Peer[] {
    const peers = this.index.peersOfGroups(end.groups);
    const single = end.peer ? this.index.peersById.get(end.peer) : undefined;
    if (single && !peers.includes(single)) peers.push(single);
    return peers;
  }

  private selfIn(end: RuleEnd): boolean {
    return end.peer === this.self.id || this.index.inAnyGroup(this.self.id, end.groups);
  }

  private distributedToSelf(route: Route): boolean {
    return route.groups.length === 0 || this.index.inAnyGroup(this.self.id, route.groups);
  }

  private distributedTo(route: Route, sources: string[]): string[] {
    if (route.groups.length === 0) return sources;
    const allowed = new Set(this.index.peersOfGroups(route.groups).flatMap(peerPrefixes));
    return sources.filter((p) => allowed.has(p));
  }
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
