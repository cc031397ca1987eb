// The explainer: what this peer's filter would do with a NEW connection, and why. It
// compiles the peer's tables (as the filter would get them), matches the connection the
// way the filter does (drop beats accept, P9; no match is a drop, P1), and when nothing
// accepts it, looks for the reason a user would want to know, in this order:
//   posture   a rule would match but the source failed a posture check (P8)
//   disabled  a rule would match but it, its policy, resource or router is disabled (P10)
//   direction a one-way rule allows the other direction only (P3/P7), or a network
//             resource tries to initiate (P6)
//   default-deny  nothing at all (P1)
// Packets that are not new connections (TCP without a bare SYN, echo replies, ICMP
// errors) are answered up front: only connection tracking can pass them (P7, P11).

import { cidrContains, parseCidr, parseIp, type ParsedCidr } from "../packet/address.ts";
import { compileForPeer, findSelf, routedPrefixes, type WhatIfOptions } from "./compile.ts";
import type { CompiledPeerPolicy, CompiledRule, CompileOptions } from "./compiled.ts";
import { AccountIndex } from "./effective-groups.ts";
import { formatQuery, ICMP_ECHO_REPLY, ICMP_ERROR_TYPES, parseExplainQuery, type ExplainQuery } from "./explain-query.ts";
import type { Account, Peer } from "./model.ts";
import { PostureEvaluator, type PostureFailure } from "./posture.ts";

export { ExplainQueryError, parseExplainQuery, type ExplainQuery } from "./explain-query.ts";

export interface ExplainOptions extends CompileOptions {
  /** Egress mode: outbound connections are judged by the outbound table (P13). Default false. */
  egress?: boolean;
}

export type ExplainStage = "local" | "rules" | "posture" | "disabled" | "direction" | "default-deny" | "not-for-peer" | "not-new" | "outbound-unfiltered";

export interface Explanation {
  verdict: "accept" | "drop";
  stage: ExplainStage;
  /** Which of this peer's paths the connection takes. */
  direction: "inbound" | "outbound" | "route" | "none";
  /** The compiled rule id that decided (or would have decided), e.g. "db-access/pg:rev". */
  rule: string | null;
  policy: string | null;
  reason: string;
  /** For stage "posture": the check the source peer failed. */
  postureCheck?: PostureFailure;
  query: ExplainQuery;
}

/** Parsed prefixes of rules, cached by text: compiled tables repeat the same prefix strings. */
class PrefixMatcher {
  private readonly cache = new Map<string, ParsedCidr>();
  contains(prefixes: string[], address: string): boolean {
    const ip = parseIp(address);
    return prefixes.some((text) => {
      let cidr = this.cache.get(text);
      if (!cidr) this.cache.set(text, (cidr = parseCidr(text)));
      return cidrContains(cidr, ip.version, ip.words);
    });
  }
}

function portMatches(rule: CompiledRule, q: ExplainQuery): boolean {
  const hasPorts = rule.ports.length > 0 || rule.portRanges.length > 0;
  if (q.protocol === "icmp") return !hasPorts; // P12: a port rule never matches ICMP
  if (!hasPorts) return true;
  const port = q.dstPort!;
  return rule.ports.includes(port) || rule.portRanges.some((r) => r.start <= port && port <= r.end);
}

/** The deciding rule among `rules` for the connection: a matching drop first (P9), else a matching accept. */
function decide(rules: CompiledRule[], q: ExplainQuery, prefixes: PrefixMatcher): CompiledRule | undefined {
  const matching = rules.filter(
    (r) => (r.protocol === "all" || r.protocol === q.protocol) && portMatches(r, q) && prefixes.contains(r.sources, q.src) && prefixes.contains(r.destinations, q.dst),
  );
  return matching.find((r) => r.action === "drop") ?? matching.find((r) => r.action === "accept");
}

function describeRule(rule: CompiledRule): string {
  return `rule "${rule.ruleName}" of policy "${rule.policyName}" (${rule.id})`;
}

/** Why a TCP or ICMP packet does not open a connection, or null when it does. */
const ICMP_SOURCE_QUENCH = 4;

function notNewConnection(q: ExplainQuery): string | null {
  if (q.protocol === "tcp") {
    const f = q.tcpFlags ?? "S";
    if (f.includes("S") && !/[AFR]/.test(f)) return null;
    return `TCP flags ${f} do not open a new connection (that needs a bare SYN): such a packet passes only as part of a connection the tracker already knows (P7), otherwise it is dropped`;
  }
  if (q.protocol === "icmp") {
    if (q.icmpType === ICMP_ECHO_REPLY) return "an echo reply is not a new connection: it passes only when it answers a tracked echo request (P11)";
    if (q.icmpType === ICMP_SOURCE_QUENCH) return "ICMP source quench (type 4) is deprecated (RFC 6633): it never passes, not even about a tracked connection (P11)";
    if (ICMP_ERROR_TYPES.has(q.icmpType!)) return `ICMP type ${q.icmpType} is an error message: it passes only when the packet it quotes belongs to a tracked connection (P11)`;
  }
  return null;
}

const peerByAddress = (account: Account, address: string): Peer | undefined => account.peers.find((p) => p.ip === address || p.ipv6 === address);

export function explain(account: Account, self: string, query: string | ExplainQuery, options: ExplainOptions = {}): Explanation {
  const q = typeof query === "string" ? parseExplainQuery(query) : query;
  const index = new AccountIndex(account);
  const selfPeer = findSelf(index, self);
  const compileOptions: CompileOptions = { honourBidirectionalFlag: options.honourBidirectionalFlag };
  const compiled = compileForPeer(index, selfPeer, compileOptions);
  const whatIf = (extra: WhatIfOptions): CompiledPeerPolicy => compileForPeer(index, selfPeer, { ...compileOptions, ...extra });
  const routed = routedPrefixes(index, selfPeer);
  const prefixes = new PrefixMatcher();
  const text = formatQuery(q);
  const isSelf = (address: string) => compiled.peer.addresses.includes(address);

  const result = (verdict: Explanation["verdict"], stage: ExplainStage, direction: Explanation["direction"], reason: string, rule?: CompiledRule): Explanation => ({
    verdict,
    stage,
    direction,
    rule: rule?.id ?? null,
    policy: rule?.policyId ?? null,
    reason,
    query: q,
  });

  let direction: Explanation["direction"];
  let table: (c: CompiledPeerPolicy) => CompiledRule[];
  if (isSelf(q.dst) && isSelf(q.src)) return result("accept", "local", "none", `${text} stays inside ${selfPeer.name}: a peer never filters its own traffic to itself`);
  if (isSelf(q.dst)) [direction, table] = ["inbound", (c) => c.inbound];
  else if (isSelf(q.src)) [direction, table] = ["outbound", (c) => c.outbound];
  else if (prefixes.contains(routed, q.dst)) [direction, table] = ["route", (c) => c.routes];
  else {
    if (prefixes.contains(routed, q.src)) {
      return result("drop", "direction", "none", `${text} would come from a network resource this peer routes; resources cannot open connections into the mesh, rules to resources are one-way (P6)`);
    }
    return result("drop", "not-for-peer", "none", `${text} is neither to nor from ${selfPeer.name} (${compiled.peer.addresses.join(", ")}), nor to a network resource it routes`);
  }

  if (direction === "outbound" && !options.egress) {
    return result("accept", "outbound-unfiltered", direction, `${text} is initiated by ${selfPeer.name} itself: outbound traffic is not filtered unless egress mode is on, only tracked so its replies pass (P13)`);
  }
  const notNew = notNewConnection(q);
  if (notNew) return result("drop", "not-new", direction, `${text}: ${notNew}`);

  const decided = decide(table(compiled), q, prefixes);
  if (decided?.action === "drop") return result("drop", "rules", direction, `${text} matches drop ${describeRule(decided)}; drop beats accept (P9)`, decided);
  if (decided) return result("accept", "rules", direction, `${text} is a new connection allowed by ${describeRule(decided)}`, decided);

  const withoutPosture = decide(table(whatIf({ ignorePostureChecks: true })), q, prefixes);
  if (withoutPosture?.action === "accept") {
    // The peer that failed is the initiator, or this peer when it is the source of a
    // bidirectional policy whose reverse half would have let the initiator in.
    const initiator = direction === "outbound" ? selfPeer : peerByAddress(account, q.src);
    const checks = account.policies.find((p) => p.id === withoutPosture.policyId)?.sourcePostureChecks ?? [];
    const evaluator = new PostureEvaluator(account);
    const failed = [initiator, selfPeer].find((peer) => peer && evaluator.firstFailure(checks, peer));
    const failure = failed ? evaluator.firstFailure(checks, failed) : null;
    if (failed && failure) {
      const explanation = result(
        "drop",
        "posture",
        direction,
        `${text} would be allowed by ${describeRule(withoutPosture)}, but ${failed === selfPeer ? "this peer" : "its source"} ${failed.name} fails posture check "${failure.checkName}" (${failure.kind}): ${failure.reason} (P8)`,
        withoutPosture,
      );
      explanation.postureCheck = failure;
      return explanation;
    }
  }

  const whenEnabled = decide(table(whatIf({ includeDisabled: true })), q, prefixes);
  if (whenEnabled?.action === "accept") {
    return result("drop", "disabled", direction, `${text} would be allowed by ${describeRule(whenEnabled)}, but ${disabledPart(account, whenEnabled)} is disabled; disabled policies and rules are ignored (P10)`, whenEnabled);
  }

  if (direction !== "route") {
    const reversed: ExplainQuery = { ...q, src: q.dst, dst: q.src };
    const other = direction === "inbound" ? compiled.outbound : compiled.inbound;
    const oneWay = decide(other, reversed, prefixes);
    if (oneWay?.action === "accept") {
      return result(
        "drop",
        "direction",
        direction,
        `${describeRule(oneWay)} lets ${q.dst} open this kind of connection to ${q.src}, not the other way round: the rule is one-way (P3); replies to connections ${q.dst} opens pass through connection tracking (P7)`,
        oneWay,
      );
    }
  }
  const stranger = direction !== "outbound" && !peerByAddress(account, q.src) ? ` (${q.src} is not a peer of this account)` : "";
  return result("drop", "default-deny", direction, `no rule allows ${text}${stranger}; anything not allowed is dropped (P1)`);
}

/** What switched a rule off: its policy, the rule itself, or (for a route rule) its resource or router. */
function disabledPart(account: Account, rule: CompiledRule): string {
  const policy = account.policies.find((p) => p.id === rule.policyId);
  if (policy && !policy.enabled) return `policy "${policy.name}"`;
  const source = policy?.rules.find((r) => r.id === rule.ruleId);
  if (source && !source.enabled) return `rule "${source.name}"`;
  const resourceId = (rule as { resourceId?: string }).resourceId;
  const resource = account.resources.find((r) => r.id === resourceId);
  if (resource && !resource.enabled) return `resource "${resource.name}"`;
  return "the route or its router";
}
