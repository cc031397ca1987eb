// A dry run of the engine for one packet: the verdict the engine would give it now, and
// each stage that led there (decode, direction, fragments, tracked connection, rules,
// tracking), without changing anything. It calls the engine's own stage functions, the
// ones judge calls (Engine.directionOf, trackedLookup, inboundOpening, outboundOpening,
// ruleOutcome, outboundOutcome, the reason mappings), in judge's order; the one stage
// that changes state when it decides, Conntrack.update, runs for real on the flow's
// record and the record is put back (FlowTable.copyRecord / restoreRecord), with flow
// events held back. `meshfilter trace` runs it in the live agent, `explain` on an
// engine built for a compiled policy. Cold path: it allocates freely.

import { CT_OUT_OF_WINDOW, CT_RESTART, ctDetail, ctKind, ORIGIN_INBOUND, ORIGIN_OUTBOUND, ORIGIN_ROUTED, protocolName } from "../conntrack/conntrack.ts";
import type { FlowInfo } from "../conntrack/flow-event.ts";
import { FRAG_OVERLAP, FRAG_UNKNOWN } from "../filter/fragments.ts";
import { formatIp } from "../packet/address.ts";
import { decodePacket } from "../packet/decode.ts";
import { MALFORMED_REASONS, PacketRecord, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP } from "../packet/record.ts";
import { formatTcpFlags } from "../packet/tcp-flags.ts";
import { DIR_IN, DIR_NONE, DIR_OUT, malformedReason, OPEN_BY_RULE, OPEN_UNFILTERED, STEP_FLOW, STEP_UNTRACKED, trackedReason, VERDICT_ACCEPT, type Engine } from "./engine.ts";
import * as R from "./reasons.ts";

/** The engine's stages; "why" is added by the agent for a no-rule drop (explain's reason: posture check, disabled policy, one-way rule). */
export type TraceStageName = "decode" | "direction" | "fragments" | "conntrack" | "rules" | "track" | "verdict" | "why";

export interface TraceStage {
  name: TraceStageName;
  /** One word: ok, skip, accept, drop, match, no-match, ... */
  outcome: string;
  /** What the stage saw, for a person. */
  detail: string;
}

export interface TracedRule {
  /** Compiled rule id, e.g. "db-access/pg" (":rev", ":route:..." suffixes as compiled). */
  id: string;
  name: string;
  ruleId: string;
  policyId: string;
  policyName: string;
  action: "accept" | "drop";
  /** inbound, outbound or route table. */
  table: string;
  /** For a route rule: the network resource (or route) it leads to. */
  resourceId?: string;
}

export interface TraceResult {
  verdict: "accept" | "drop";
  /** The engine's reason name (docs/replay.md, Reasons). */
  reason: string;
  /** For tcp-out-of-window: the failing check; else "". */
  detail: string;
  direction: "inbound" | "outbound" | "none";
  /** For a new connection: the origin it would be tracked with (inbound, outbound, routed); else "". */
  origin: string;
  /** The rule that decided, or allowed the flow the packet belongs to. */
  rule: TracedRule | null;
  /** The tracked flow the packet belongs to (or, for an ICMP error, the flow it quotes), as it is now. */
  flow: FlowInfo | null;
  /** The flow's state after the packet ("syn-sent", ...), or null when it is not tracked. */
  stateAfter: string | null;
  /** The packet, tcpdump-like. */
  packet: string;
  stages: TraceStage[];
}

export interface TraceOptions {
  /** Judge the packet as arriving from the mesh ("in") or from this side ("out"); default: as judge classifies it. */
  direction?: "in" | "out";
}

/** What `engine` would do with buf[offset, offset + length) now; changes nothing. */
export function tracePacket(engine: Engine, buf: Uint8Array, offset = 0, length = buf.length - offset, options: TraceOptions = {}): TraceResult {
  const rec = new PacketRecord();
  const ok = decodePacket(buf, offset, length, rec, engine.verifyChecksum);
  const stages: TraceStage[] = [];
  const out: TraceResult = { verdict: "drop", reason: "", detail: "", direction: "none", origin: "", rule: null, flow: null, stateAfter: null, packet: describePacket(rec, ok), stages };
  const finish = (reason: number, detail = ""): TraceResult => {
    out.reason = R.reasonName(reason);
    out.verdict = R.isAcceptReason(reason) ? "accept" : "drop";
    out.detail = detail;
    stages.push({ name: "verdict", outcome: out.verdict, detail: `${out.verdict} (${out.reason}${detail ? `: ${detail}` : ""})` });
    return out;
  };

  // Direction: judge classifies before looking at the decode's result; the agent's data path knows it from the side.
  const dir = options.direction === "in" ? DIR_IN : options.direction === "out" ? DIR_OUT : engine.directionOf(rec);
  if (!options.direction) stages.push({ name: "direction", outcome: dirName(dir), detail: directionDetail(dir) });
  out.direction = dirName(dir);
  if (dir === DIR_NONE) return finish(R.REASON_NOT_FOR_PEER);

  // 1. decode
  if (!ok) {
    stages.push({ name: "decode", outcome: "malformed", detail: `${MALFORMED_REASONS[rec.malformed] ?? rec.malformed} at byte ${rec.malformedAt}` });
    return finish(malformedReason(rec.malformed));
  }
  stages.push({ name: "decode", outcome: "ok", detail: out.packet });
  if (options.direction) stages.push({ name: "direction", outcome: dirName(dir), detail: `${directionDetail(dir)} (as given)` });
  const inbound = dir === DIR_IN;

  // 2. fragments
  if (rec.isFragment && rec.fragmentOffset > 0) {
    const v = engine.fragmentTable.peek(rec);
    const reason = v === FRAG_UNKNOWN ? R.REASON_FRAGMENT_NO_FIRST : v === FRAG_OVERLAP ? R.REASON_FRAGMENT_OVERLAP : v === VERDICT_ACCEPT ? R.REASON_FRAGMENT : R.REASON_FRAGMENT_FIRST_DROPPED;
    stages.push({ name: "fragments", outcome: v === VERDICT_ACCEPT ? "accept" : "drop", detail: `non-first fragment at offset ${rec.fragmentOffset}: ${R.reasonName(reason)}` });
    return finish(reason);
  }
  stages.push({ name: "fragments", outcome: rec.isFragment ? "first" : "skip", detail: rec.isFragment ? "first fragment: its verdict is remembered for the datagram's other fragments" : "not a fragment" });

  // 3. tracked connection
  const ct = engine.conntrack;
  const table = ct.table;
  const step = engine.trackedLookup(rec, inbound, true);
  if (step === R.REASON_RELATED) {
    const e = engine.tracked[0];
    out.flow = ct.info(e);
    out.rule = describeRule(engine, table.rule(e));
    out.stateAfter = out.flow.state;
    stages.push({ name: "conntrack", outcome: "related", detail: `an ICMP error quoting the tracked flow ${flowText(out.flow)}` });
    return finish(step);
  }
  if (step === STEP_FLOW) {
    const ref = engine.tracked[0];
    const e = ref >> 1;
    out.flow = ct.info(e);
    out.rule = describeRule(engine, table.rule(e));
    const saved = table.newRecordCopy();
    table.copyRecord(e, saved);
    const listener = ct.listener;
    ct.listener = null;
    let result: number;
    let stateAfter: string;
    try {
      result = ct.update(ref, rec, inbound);
      stateAfter = engine.stateName(table.state(e));
    } finally {
      table.restoreRecord(e, saved);
      ct.listener = listener;
    }
    const side = (ref & 1) === 0 ? "originator" : "responder";
    if (result !== CT_RESTART) {
      const reason = trackedReason(result);
      const detail = ctKind(result) === CT_OUT_OF_WINDOW ? engine.detailName(ctDetail(result)) : "";
      out.stateAfter = stateAfter;
      stages.push({
        name: "conntrack",
        outcome: R.isAcceptReason(reason) ? "accept" : "drop",
        detail: `flow ${flowText(out.flow)} in state ${out.flow.state}, from its ${side}: ${R.reasonName(reason)}${detail ? ` (${detail})` : ""}, state after ${stateAfter}`,
      });
      return finish(reason, detail);
    }
    stages.push({ name: "conntrack", outcome: "restart", detail: `flow ${flowText(out.flow)} in state ${out.flow.state} is over: the SYN reuses its ports, it is removed and the SYN judged as new` });
    out.flow = null;
    out.rule = null;
  } else if (step === STEP_UNTRACKED) {
    stages.push({ name: "conntrack", outcome: "no-flow", detail: "no tracked flow" });
  } else {
    stages.push({ name: "conntrack", outcome: "drop", detail: `no tracked flow: ${R.reasonName(step)}` });
    return finish(step);
  }

  // 4. rules
  const opening = inbound ? engine.inboundOpening(rec) : engine.outboundOpening(rec);
  let reason: number;
  if (opening === OPEN_UNFILTERED) {
    reason = engine.outboundOutcome(rec);
    out.origin = "outbound";
    stages.push({ name: "rules", outcome: "skip", detail: "this peer's own traffic: not filtered without egress rules, only tracked so that its replies pass (P13)" });
  } else if (opening === OPEN_BY_RULE) {
    const rule = engine.opening[0];
    out.origin = originName(engine.opening[1]);
    reason = engine.ruleOutcome(rule, rec);
    const tableName = out.origin === "routed" ? "route" : out.origin;
    if (rule < 0) {
      stages.push({ name: "rules", outcome: "no-match", detail: `no ${tableName} rule matches (deny by default, P1)` });
    } else {
      out.rule = describeRule(engine, rule);
      stages.push({ name: "rules", outcome: out.rule!.action, detail: `${tableName} rule ${out.rule!.id} ("${out.rule!.name}" of policy "${out.rule!.policyName}", id ${out.rule!.policyId}): ${out.rule!.action}` });
    }
  } else {
    stages.push({ name: "rules", outcome: "drop", detail: `before any rule: ${R.reasonName(opening)}` });
    return finish(opening);
  }

  // 5. track
  if (reason === R.REASON_RULE || reason === R.REASON_OUTBOUND) {
    const full = table.count >= table.capacity;
    stages.push({
      name: "track",
      outcome: "new-flow",
      detail: full ? `the table is full (${table.count} flows): an idle flow is evicted to make room, or the packet is ${reason === R.REASON_RULE ? "dropped (table-full)" : "sent untracked"}` : `a new ${out.origin} flow is tracked`,
    });
  } else if (R.isAcceptReason(reason)) {
    stages.push({ name: "track", outcome: "untracked", detail: "passes without opening a flow" });
  }
  return finish(reason);
}

function dirName(dir: number): "inbound" | "outbound" | "none" {
  return dir === DIR_IN ? "inbound" : dir === DIR_OUT ? "outbound" : "none";
}

function directionDetail(dir: number): string {
  if (dir === DIR_IN) return "to this peer (or a resource it routes to): judged as inbound";
  if (dir === DIR_OUT) return "from this peer (or a resource it routes for): judged as outbound";
  return "neither to nor from this peer or a resource it routes: not for this peer";
}

function originName(origin: number): string {
  return origin === ORIGIN_ROUTED ? "routed" : origin === ORIGIN_OUTBOUND ? "outbound" : origin === ORIGIN_INBOUND ? "inbound" : "";
}

function describeRule(engine: Engine, index: number): TracedRule | null {
  if (index < 0 || index >= engine.rules.ruleCount) return null;
  const r = engine.rules.rule(index);
  const resourceId = (r as { resourceId?: string }).resourceId;
  return { id: r.id, name: r.ruleName, ruleId: r.ruleId, policyId: r.policyId, policyName: r.policyName, action: r.action === "drop" ? "drop" : "accept", table: engine.rules.ruleKind(index), resourceId };
}

function flowText(f: FlowInfo): string {
  const ported = f.protocol === "tcp" || f.protocol === "udp";
  return ported ? `${f.protocol} ${f.src}:${f.srcPort} > ${f.dst}:${f.dstPort}` : `${f.protocol} ${f.src} > ${f.dst} id ${f.srcPort}`;
}

/** The decoded packet, tcpdump-like: "tcp 100.64.0.10:51000 > 100.64.0.20:5432 [S]". */
function describePacket(rec: PacketRecord, ok: boolean): string {
  if (rec.ipVersion !== 4 && rec.ipVersion !== 6) return "not an IP packet";
  const src = formatIp(rec.ipVersion, rec.src0, rec.src1, rec.src2, rec.src3);
  const dst = formatIp(rec.ipVersion, rec.dst0, rec.dst1, rec.dst2, rec.dst3);
  const p = rec.protocol;
  const frag = rec.isFragment ? ` (fragment at ${rec.fragmentOffset}${rec.moreFragments ? ", more" : ""})` : "";
  if (!ok || !rec.hasL4) return `${protocolName(p)} ${src} > ${dst}${frag}`;
  if (p === PROTO_TCP) return `tcp ${src}:${rec.srcPort} > ${dst}:${rec.dstPort} [${formatTcpFlags(rec.tcpFlags)}] seq ${rec.tcpSeq >>> 0} ack ${rec.tcpAck >>> 0} len ${rec.payloadLength}${frag}`;
  if (p === PROTO_UDP) return `udp ${src}:${rec.srcPort} > ${dst}:${rec.dstPort} len ${rec.payloadLength}${frag}`;
  if (p === PROTO_ICMP || p === PROTO_ICMPV6) return `${protocolName(p)} ${src} > ${dst} type ${rec.icmpType} code ${rec.icmpCode}${rec.icmpIsEchoRequest || rec.icmpIsEchoReply ? ` id ${rec.icmpId}` : ""}${frag}`;
  return `${protocolName(p)} ${src} > ${dst}${frag}`;
}
