// The compiled, immutable rule tables of one peer: what the engine asks when a packet
// would open a new connection. Built once per policy from a CompiledPeerPolicy.
//
// Rule indices are global to the table, in this order:
//   [0, inboundCount)                                   policy.inbound
//   [inboundCount, inboundCount + outboundCount)        policy.outbound
//   [inboundCount + outboundCount, ruleCount)           policy.routes
// The match functions return such an index (or -1 for "no rule": deny by default, P1).
//
// The deciding rule (P9): when any drop rule matches, the matching drop rule with the
// lowest index; otherwise the matching accept rule with the lowest index. Internally a
// rule's rank is its index for drop rules and ruleCount + index for accept rules, and
// lookup returns the smallest matching rank.
//
// The only mutation after build is setResourceAddresses (domain resources) and the
// per-rule counters. JavaScript runs one packet at a time on a thread, so a call made
// between two packets is seen whole by the next packet and not at all by the previous.

import { parseIp } from "../packet/address.ts";
import { PacketRecord, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP } from "../packet/record.ts";
import type { Action } from "./compiled-policy.ts";
import type { CompiledPeerPolicy, CompiledRule } from "./compiled-policy.ts";
import { CidrCache } from "./cidr-cache.ts";
import { FilterError } from "./filter-error.ts";
import { PrefixSet } from "./prefix-set.ts";
import { NO_MATCH, RuleIndex, type IndexedRule } from "./rule-index.ts";

export const ACTION_DROP = 0;
export const ACTION_ACCEPT = 1;

export type RuleKind = "inbound" | "outbound" | "route";

export class RuleTable {
  readonly ruleCount: number;
  readonly inboundCount: number;
  readonly outboundCount: number;
  readonly routeCount: number;
  /** Per rule: packets counted by countHit. */
  readonly hits: Float64Array;
  /** Per rule: bytes counted by countHit. */
  readonly bytes: Float64Array;

  private readonly rules: CompiledRule[];
  private readonly actions: Uint8Array;
  private readonly ids: string[];
  private readonly inbound: RuleIndex;
  private readonly outbound: RuleIndex;
  /** Route rules of resources with fixed prefixes. */
  private readonly staticRoutes: RuleIndex;
  /** Route rules of domain resources: rebuilt by setResourceAddresses. */
  private dynamicRoutes: RuleIndex;
  private readonly selfAddresses: PrefixSet;
  private readonly staticRouted: PrefixSet;
  private dynamicRouted: PrefixSet;
  /** Global indices of the route rules of each domain resource. */
  private readonly domainRules = new Map<string, number[]>();
  /** Addresses set by setResourceAddresses, per domain resource. */
  private readonly resolved = new Map<string, string[]>();
  private readonly cidrs = new CidrCache();
  /** Scratch record for the cold-path matchTuple. */
  private readonly scratch = new PacketRecord();

  private constructor(policy: CompiledPeerPolicy) {
    const { inbound, outbound, routes } = policy;
    for (const [name, list] of [["inbound", inbound], ["outbound", outbound], ["routes", routes]] as const) {
      if (!Array.isArray(list)) throw new FilterError(name, "expected a list of compiled rules");
    }
    this.inboundCount = inbound.length;
    this.outboundCount = outbound.length;
    this.routeCount = routes.length;
    this.ruleCount = inbound.length + outbound.length + routes.length;
    this.rules = [...inbound, ...outbound, ...routes];
    this.rules.forEach((rule, i) => {
      if (typeof rule !== "object" || rule === null) throw new FilterError(this.pathOf(i), "expected a compiled rule object");
      if (typeof rule.id !== "string") throw new FilterError(`${this.pathOf(i)}.id`, "expected a string");
    });
    this.ids = this.rules.map((r) => r.id);
    this.actions = new Uint8Array(this.ruleCount);
    this.rules.forEach((rule, i) => (this.actions[i] = actionCode(rule.action, this.pathOf(i))));
    this.hits = new Float64Array(this.ruleCount);
    this.bytes = new Float64Array(this.ruleCount);

    this.inbound = new RuleIndex(this.indexed(0, this.inboundCount), this.cidrs);
    this.outbound = new RuleIndex(this.indexed(this.inboundCount, this.outboundCount), this.cidrs);
    const routeBase = this.inboundCount + this.outboundCount;
    const staticRoutes: IndexedRule[] = [];
    routes.forEach((route, i) => {
      if (route.domain === undefined) {
        staticRoutes.push(this.indexedRule(routeBase + i));
        return;
      }
      const list = this.domainRules.get(route.resourceId) ?? [];
      list.push(routeBase + i);
      this.domainRules.set(route.resourceId, list);
    });
    this.staticRoutes = new RuleIndex(staticRoutes, this.cidrs);
    this.staticRouted = new PrefixSet(
      staticRoutes.flatMap(({ rule, path }) => this.cidrs.parseAll(rule.destinations, `${path}.destinations`)),
    );
    this.selfAddresses = new PrefixSet(this.cidrs.parseAll(policy.peer?.addresses ?? [], "peer.addresses"));
    [this.dynamicRoutes, this.dynamicRouted] = this.buildDynamicRoutes();
  }

  /** Build the tables of one peer. Throws FilterError naming the field when the policy is malformed. */
  static build(policy: CompiledPeerPolicy): RuleTable {
    return new RuleTable(policy);
  }

  /** Hot path: the deciding inbound rule for a connection-opening packet, or -1 (no rule). */
  matchInbound(rec: PacketRecord): number {
    return this.indexOfRank(this.inbound.match(rec));
  }

  /** Hot path: the deciding outbound rule (egress mode, P13), or -1. */
  matchOutbound(rec: PacketRecord): number {
    return this.indexOfRank(this.outbound.match(rec));
  }

  /** Hot path: the deciding route rule for a packet this peer forwards to a resource (P6), or -1. */
  matchRoute(rec: PacketRecord): number {
    const a = this.staticRoutes.match(rec);
    const b = this.dynamicRoutes.match(rec);
    return this.indexOfRank(a < b ? a : b);
  }

  /** 0 (ACTION_DROP) or 1 (ACTION_ACCEPT). */
  ruleAction(index: number): 0 | 1 {
    return this.actions[index] as 0 | 1;
  }

  ruleId(index: number): string {
    return this.ids[index];
  }

  /** The compiled rule (for route rules of domain resources, with the current destinations). */
  rule(index: number): CompiledRule {
    return this.rules[index];
  }

  /** Which list a global rule index belongs to. */
  ruleKind(index: number): RuleKind {
    if (index < this.inboundCount) return "inbound";
    return index < this.inboundCount + this.outboundCount ? "outbound" : "route";
  }

  /** Hot path: count one packet of `bytes` bytes against a rule. */
  countHit(index: number, bytes: number): void {
    this.hits[index]++;
    this.bytes[index] += bytes;
  }

  /** Hot path: the packet's destination is one of this peer's own addresses. */
  isLocalDestination(rec: PacketRecord): boolean {
    return this.selfAddresses.containsDestination(rec);
  }

  /** Hot path: the packet's source is one of this peer's own addresses. */
  isLocalSource(rec: PacketRecord): boolean {
    return this.selfAddresses.containsSource(rec);
  }

  /** Hot path: the destination lies inside some route rule's destination (a resource this peer routes to). */
  isRoutedDestination(rec: PacketRecord): boolean {
    return this.staticRouted.containsDestination(rec) || this.dynamicRouted.containsDestination(rec);
  }

  /** Hot path: the source lies inside some route destination (a reply coming from a resource). */
  isRoutedSource(rec: PacketRecord): boolean {
    return this.staticRouted.containsSource(rec) || this.dynamicRouted.containsSource(rec);
  }

  /**
   * Replace the destination prefixes of a domain resource (its freshly resolved
   * addresses). Rebuilds only the index of domain-resource route rules; other rules,
   * indices and counters are untouched. Safe between packets: the new index replaces
   * the old one in a single assignment once fully built. Throws FilterError when the
   * resource is not a domain resource of this policy or a CIDR is invalid (nothing
   * changes then).
   */
  setResourceAddresses(resourceId: string, cidrs: string[]): void {
    if (!this.domainRules.has(resourceId)) {
      throw new FilterError(
        `resource "${resourceId}"`,
        "not a domain resource of any route rule in this policy (only domain resources take resolved addresses)",
      );
    }
    this.cidrs.parseAll(cidrs, `setResourceAddresses("${resourceId}")`);
    this.replaceResolved(new Map([[resourceId, [...cidrs]]]));
  }

  /**
   * After a policy update: carry the resolved addresses of domain resources over from
   * the table this one replaces, for the resources both policies have. Call it on the
   * new table before putting it in force, so connections to domain resources are not
   * revoked and new ones keep working until the next resolution.
   */
  inheritResourceAddresses(previous: RuleTable): void {
    const carried = new Map<string, string[]>();
    for (const [resourceId, cidrs] of previous.resolved) {
      if (this.domainRules.has(resourceId)) carried.set(resourceId, cidrs);
    }
    if (carried.size > 0) this.replaceResolved(carried);
  }

  /** The addresses last set for a domain resource (undefined before any). */
  resourceAddresses(resourceId: string): readonly string[] | undefined {
    return this.resolved.get(resourceId);
  }

  /** Give domain resources new destinations and rebuild their index; all or nothing. */
  private replaceResolved(updates: Map<string, string[]>): void {
    const previousRules = new Map<number, CompiledRule>();
    for (const [resourceId, cidrs] of updates) {
      for (const i of this.domainRules.get(resourceId)!) {
        previousRules.set(i, this.rules[i]);
        this.rules[i] = { ...this.rules[i], destinations: [...cidrs] };
      }
    }
    try {
      [this.dynamicRoutes, this.dynamicRouted] = this.buildDynamicRoutes();
    } catch (error) {
      for (const [i, rule] of previousRules) this.rules[i] = rule;
      throw error;
    }
    for (const [resourceId, cidrs] of updates) this.resolved.set(resourceId, cidrs);
  }

  /** Cold path: the size of the lookup structures (for benchmarks and diagnostics). */
  indexStats(): { pairs: number; tuples: number } {
    const indices = [this.inbound, this.outbound, this.staticRoutes, this.dynamicRoutes];
    return {
      pairs: indices.reduce((n, index) => n + index.pairCount, 0),
      tuples: indices.reduce((n, index) => n + index.tupleCount, 0),
    };
  }

  /**
   * Cold path (explain, revocation, tests): the deciding rule for a connection from
   * `source` to `destination` (address text) on `protocol` and destination port, or -1.
   * "icmp" means ICMPv6 for IPv6 addresses.
   */
  matchTuple(
    kind: RuleKind,
    protocol: "tcp" | "udp" | "icmp" | number,
    source: string,
    destination: string,
    destinationPort = 0,
  ): number {
    const src = parseIp(source);
    const dst = parseIp(destination);
    if (src.version !== dst.version) {
      throw new FilterError("matchTuple", `source ${source} and destination ${destination} differ in IP version`);
    }
    const rec = this.scratch;
    rec.commonShape = false;
    rec.ipVersion = src.version;
    rec.protocol = protocolNumber(protocol, src.version);
    [rec.src0, rec.src1, rec.src2, rec.src3] = src.words;
    [rec.dst0, rec.dst1, rec.dst2, rec.dst3] = dst.words;
    rec.dstPort = destinationPort;
    if (kind === "inbound") return this.matchInbound(rec);
    if (kind === "outbound") return this.matchOutbound(rec);
    return this.matchRoute(rec);
  }

  private indexOfRank(rank: number): number {
    if (rank === NO_MATCH) return -1;
    return rank < this.ruleCount ? rank : rank - this.ruleCount;
  }

  private rankOf(index: number): number {
    return this.actions[index] === ACTION_DROP ? index : this.ruleCount + index;
  }

  private pathOf(index: number): string {
    if (index < this.inboundCount) return `inbound[${index}]`;
    if (index < this.inboundCount + this.outboundCount) return `outbound[${index - this.inboundCount}]`;
    return `routes[${index - this.inboundCount - this.outboundCount}]`;
  }

  private indexedRule(index: number): IndexedRule {
    return { rule: this.rules[index], rank: this.rankOf(index), path: this.pathOf(index) };
  }

  private indexed(first: number, count: number): IndexedRule[] {
    const out: IndexedRule[] = [];
    for (let i = first; i < first + count; i++) out.push(this.indexedRule(i));
    return out;
  }

  private buildDynamicRoutes(): [RuleIndex, PrefixSet] {
    const rules: IndexedRule[] = [];
    for (const indices of this.domainRules.values()) for (const i of indices) rules.push(this.indexedRule(i));
    const index = new RuleIndex(rules, this.cidrs);
    const routed = new PrefixSet(
      rules.flatMap(({ rule, path }) => this.cidrs.parseAll(rule.destinations, `${path}.destinations`)),
    );
    return [index, routed];
  }
}

function actionCode(action: Action, path: string): number {
  if (action === "drop") return ACTION_DROP;
  if (action === "accept") return ACTION_ACCEPT;
  throw new FilterError(`${path}.action`, `expected "accept" or "drop", got ${JSON.stringify(action)}`);
}

function protocolNumber(protocol: "tcp" | "udp" | "icmp" | number, version: number): number {
  if (typeof protocol === "number") return protocol;
  if (protocol === "tcp") return PROTO_TCP;
  if (protocol === "udp") return PROTO_UDP;
  return version === 6 ? PROTO_ICMPV6 : PROTO_ICMP;
}
