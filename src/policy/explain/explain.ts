// The explainer: what this peer's filter would do with a packet (a NEW connection, as a
// rule writer asks), and why. It asks the engine itself: the peer's tables are compiled
// as the filter gets them, and the packet is traced through a fresh engine
// (engine/trace.ts, the same stages `meshfilter trace` runs in a live agent), so explain
// and the filter cannot disagree. When the engine finds no rule, explain asks it again
// about what-if versions of the policy, to find the reason a user would want to know, in
// this order:
//   posture   a rule would match but the source failed a posture check (P8)
//   disabled  a rule would match but it, its policy, resource or router is disabled (P10)
//   direction a one-way rule allows the other direction only (P3/P7), or a network
//             resource tries to initiate (P6)
//   default-deny  nothing at all (P1)
// Packets that are not new connections (TCP without a bare SYN, echo replies, ICMP
// errors) find no tracked connection in a fresh engine: only tracking passes them (P7, P11).

import { Engine } from "../../engine/engine.ts";
import { applyResolved } from "../../engine/resolved-domains.ts";
import { tracePacket, type TracedRule, type TraceResult, type TraceStage } from "../../engine/trace.ts";
import { buildPacket } from "../../packet/builder.ts";
import { compileForPeer, findSelf, type WhatIfOptions } from "../compile/compile.ts";
import type { CompiledPeerPolicy, CompileOptions } from "../../filter/compiled-policy.ts";
import { AccountIndex } from "../model/effective-groups.ts";
import { formatQuery, parseExplainQuery, type ExplainQuery } from "./explain-query.ts";
import type { Account, Peer } from "../model/model.ts";
import { PostureEvaluator, type PostureFailure } from "../compile/posture.ts";

export { ExplainQueryError, parseExplainQuery, type ExplainQuery } from "./explain-query.ts";

export interface ExplainOptions extends CompileOptions {
  /** Egress mode: outbound connections are judged by the outbound table (P13). Default false. */
  egress?: boolean;
  /** Addresses of domain resources by name (--resolve), as a routing peer's resolver would have them. */
  resolve?: Map<string, string[]>;
}

export type ExplainStage = "rules" | "posture" | "disabled" | "direction" | "default-deny" | "not-for-peer" | "not-new" | "outbound-unfiltered";

export interface Explanation {
  verdict: "accept" | "drop";
  stage: ExplainStage;
  /** Which of this peer's paths the connection takes. */
  direction: "inbound" | "outbound" | "route" | "none";
  /** The compiled rule id that decided (or would have decided), e.g. "db-access/pg:rev". */
  rule: string | null;
  policy: string | null;
  reason: string;
  /** The engine's reason for its verdict (docs/replay.md, Reasons): what the filter counts it under. */
  engineReason: string;
  /** For stage "posture": the check the source peer failed. */
  postureCheck?: PostureFailure;
  /** The engine's stages for the packet (engine/trace.ts). */
  stages: TraceStage[];
  query: ExplainQuery;
}

/** ICMPv4 type numbers (the query's) as ICMPv6 ones, for a query between IPv6 addresses. */
const ICMP6_TYPE: Record<number, number> = { 8: 128, 0: 129, 3: 1, 11: 3, 12: 4 };

/** The packet the query describes, as buildPacket writes it. */
export function queryPacket(q: ExplainQuery): Uint8Array {
  if (q.protocol === "icmp") {
    const type = q.icmpType ?? 8;
    return buildPacket({ src: q.src, dst: q.dst, protocol: "icmp", icmp: { type: q.src.includes(":") ? (ICMP6_TYPE[type] ?? type) : type } });
  }
  return buildPacket({ src: q.src, dst: q.dst, protocol: q.protocol, srcPort: q.srcPort, dstPort: q.dstPort, tcp: q.protocol === "tcp" ? { flags: q.tcpFlags ?? "S" } : undefined });
}

/** The engine's trace of `q` through a fresh engine for `policy` (with the domain resources' given addresses). */
function traceQuery(policy: CompiledPeerPolicy, q: ExplainQuery, egress: boolean, resolve?: Map<string, string[]>): TraceResult {
  const engine = new Engine(policy, { egress, conntrack: { capacity: 16 } });
  if (resolve) applyResolved(engine, policy, resolve);
  return tracePacket(engine, queryPacket(q));
}

/** Why a packet that is no new connection is dropped, by the engine's reason. */
const NOT_NEW: Record<string, (q: ExplainQuery) => string> = {
  "tcp-no-connection": (q) =>
    `TCP flags ${q.tcpFlags} do not open a new connection (that needs a bare SYN): such a packet passes only as part of a connection the tracker already knows (P7), otherwise it is dropped`,
  "tcp-invalid-flags": (q) => `TCP flags ${q.tcpFlags} are an illegal combination: dropped whatever the rules say`,
  "icmp-no-request": () => "an echo reply is not a new connection: it passes only when it answers a tracked echo request (P11)",
  "icmp-unrelated": (q) =>
    q.icmpType === ICMP_SOURCE_QUENCH
      ? "ICMP source quench (type 4) is deprecated (RFC 6633): it never passes, not even about a tracked connection (P11)"
      : `ICMP type ${q.icmpType} is an error message: it passes only when the packet it quotes belongs to a tracked connection (P11)`,
};
const ICMP_SOURCE_QUENCH = 4;

function describeRule(rule: { name: string; policyName: string; id: string }): string {
  return `rule "${rule.name}" of policy "${rule.policyName}" (${rule.id})`;
}

const peerByAddress = (account: Account, address: string): Peer | undefined => account.peers.find((p) => p.ip === address || p.ipv6 === address);

/** What the engine says of `q` under `compiled`, and the explanation when that settles it (anything but no rule). */
function engineAnswer(compiled: CompiledPeerPolicy, q: ExplainQuery, options: ExplainOptions) {
  const text = formatQuery(q);
  const self = compiled.peer.name;
  const trace = traceQuery(compiled, q, options.egress ?? false, options.resolve);
  const direction: Explanation["direction"] = trace.direction === "inbound" && trace.origin === "routed" ? "route" : trace.direction;
  const result = (stage: ExplainStage, reason: string, rule?: { id: string; policyId: string } | null): Explanation => ({
    verdict: trace.verdict,
    stage,
    direction,
    rule: rule?.id ?? null,
    policy: rule?.policyId ?? null,
    reason,
    engineReason: trace.reason,
    stages: trace.stages,
    query: q,
  });
  const settled = ((): Explanation | null => {
    const decided = trace.rule;
    switch (trace.reason) {
      case "rule":
      case "rule-untracked":
        if (decided) return result("rules", `${text} is a new connection allowed by ${describeRule(decided)}`, decided);
        return result("outbound-unfiltered", `${text} is sent by ${self} itself and opens no session: outbound traffic is not filtered unless egress mode is on (P13)`);
      case "outbound":
      case "outbound-untracked":
        return result("outbound-unfiltered", `${text} is initiated by ${self} itself: outbound traffic is not filtered unless egress mode is on, only tracked so its replies pass (P13)`);
      case "drop-rule":
        return result("rules", `${text} matches drop ${describeRule(decided!)}; drop beats accept (P9)`, decided);
      case "not-for-peer":
      case "not-from-peer":
      case "wrong-path":
        return result("not-for-peer", `${text} is neither to nor from ${self} (${compiled.peer.addresses.join(", ")}), nor to a network resource it routes (${trace.reason})`);
      case "no-rule":
        return null;
      default: {
        const notNew = NOT_NEW[trace.reason];
        return result("not-new", notNew ? `${text}: ${notNew(q)}` : `${text}: ${trace.reason}`);
      }
    }
  })();
  return { text, trace, direction, result, settled };
}

/**
 * explain for tables already compiled (a NetBird NetworkMap, --network-map): the engine's
 * answer; with no account to ask "what if", a connection no rule allows is a default deny.
 */
export function explainCompiled(compiled: CompiledPeerPolicy, query: string | ExplainQuery, options: ExplainOptions = {}): Explanation {
  const q = typeof query === "string" ? parseExplainQuery(query) : query;
  const { text, settled, result } = engineAnswer(compiled, q, options);
  return settled ?? result("default-deny", `no rule of ${compiled.peer.name}'s tables allows ${text}; anything not allowed is dropped (P1)`);
}

export function explain(account: Account, self: string, query: string | ExplainQuery, options: ExplainOptions = {}): Explanation {
  const q = typeof query === "string" ? parseExplainQuery(query) : query;
  const index = new AccountIndex(account);
  const selfPeer = findSelf(index, self);
  const compileOptions: CompileOptions = { honourBidirectionalFlag: options.honourBidirectionalFlag };
  const compiled = compileForPeer(index, selfPeer, compileOptions);
  const whatIf = (extra: WhatIfOptions): CompiledPeerPolicy => compileForPeer(index, selfPeer, { ...compileOptions, ...extra });
  const egress = options.egress ?? false;
  const { text, trace, direction, result, settled } = engineAnswer(compiled, q, options);
  if (settled) return settled;

  // No rule. A packet from a routed resource that no rule opens: resources cannot initiate (P6).
  if (trace.direction === "outbound" && trace.origin === "") {
    return result("direction", `${text} would come from a network resource this peer routes; resources cannot open connections into the mesh, rules to resources are one-way (P6)`);
  }

  const withoutPosture = traceQuery(whatIf({ ignorePostureChecks: true }), q, egress, options.resolve);
  if (withoutPosture.verdict === "accept" && withoutPosture.rule) {
    const rule = withoutPosture.rule;
    // The peer that failed is the initiator, or this peer when it is the source of a
    // bidirectional policy whose reverse half would have let the initiator in.
    const initiator = direction === "outbound" ? selfPeer : peerByAddress(account, q.src);
    const checks = account.policies.find((p) => p.id === rule.policyId)?.sourcePostureChecks ?? [];
    const evaluator = new PostureEvaluator(account);
    const failed = [initiator, selfPeer].find((peer) => peer && evaluator.firstFailure(checks, peer));
    const failure = failed ? evaluator.firstFailure(checks, failed) : null;
    if (failed && failure) {
      const explanation = result(
        "posture",
        `${text} would be allowed by ${describeRule(rule)}, but ${failed === selfPeer ? "this peer" : "its source"} ${failed.name} fails posture check "${failure.checkName}" (${failure.kind}): ${failure.reason} (P8)`,
        rule,
      );
      explanation.postureCheck = failure;
      return explanation;
    }
  }

  const whenEnabled = traceQuery(whatIf({ includeDisabled: true }), q, egress, options.resolve);
  if (whenEnabled.verdict === "accept" && whenEnabled.rule) {
    const rule = whenEnabled.rule;
    return result("disabled", `${text} would be allowed by ${describeRule(rule)}, but ${disabledPart(account, rule)} is disabled; disabled policies and rules are ignored (P10)`, rule);
  }

  if (direction !== "route") {
    // The same connection opened the other way round, judged by rules (egress on, so an
    // outbound connection is judged by the outbound table too).
    const reversed: ExplainQuery = { ...q, src: q.dst, dst: q.src, srcPort: q.dstPort, dstPort: q.dstPort };
    const other = traceQuery(compiled, reversed, true, options.resolve);
    if (other.verdict === "accept" && other.rule) {
      return result(
        "direction",
        `${describeRule(other.rule)} lets ${q.dst} open this kind of connection to ${q.src}, not the other way round: the rule is one-way (P3); replies to connections ${q.dst} opens pass through connection tracking (P7)`,
        other.rule,
      );
    }
  }
  const stranger = direction !== "outbound" && !peerByAddress(account, q.src) ? ` (${q.src} is not a peer of this account)` : "";
  return result("default-deny", `no rule allows ${text}${stranger}; anything not allowed is dropped (P1)`);
}

/** What switched a rule off: its policy, the rule itself, or (for a route rule) its resource or router. */
function disabledPart(account: Account, rule: TracedRule): string {
  const policy = account.policies.find((p) => p.id === rule.policyId);
  if (policy && !policy.enabled) return `policy "${policy.name}"`;
  const source = policy?.rules.find((r) => r.id === rule.ruleId);
  if (source && !source.enabled) return `rule "${source.name}"`;
  const resource = account.resources.find((r) => r.id === rule.resourceId);
  if (resource && !resource.enabled) return `resource "${resource.name}"`;
  return "the route or its router";
}
