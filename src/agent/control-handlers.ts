// What the agent answers on its control socket (control/protocol.ts): status, flows (and
// watch, flush), trace, counters, reload, log-level. Every answer is read from the
// running engine; trace is engine/trace.ts on the live engine (nothing changes).
// docs/operating.md shows each with real output.

import type { Logger } from "pino";
import { END_FLUSHED, FLOW_DROP, type FlowEvent, type FlowInfo } from "../conntrack/flow-event.ts";
import type { Engine } from "../engine/engine.ts";
import { tracePacket, type TraceResult } from "../engine/trace.ts";
import { formatIp } from "../packet/address.ts";
import { decodePacket } from "../packet/decode.ts";
import { PacketRecord, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP } from "../packet/record.ts";
import { formatTcpFlags } from "../packet/tcp-flags.ts";
import type { Explanation } from "../policy/explain/explain.ts";
import type { ExplainQuery } from "../policy/explain/explain-query.ts";
import { CommandError, STREAMING, type CommandContext, type Handler } from "../control/server.ts";
import type { CommandName } from "../control/protocol.ts";
import type { CompiledPeerPolicy, CompiledRule } from "../filter/compiled-policy.ts";
import type { FlowEventFormat, FlowLog } from "./flow-log.ts";
import type { PacketLoopCounters } from "./packet-loop.ts";
import type { RuleCounters } from "./rule-counters.ts";
import type { MultiQueue } from "./multi-queue.ts";
import { REASON_NAMES } from "../engine/reasons.ts";

/** What the handlers read from the agent (PeerAgent provides it). */
export interface ControlSource {
  readonly engine: Engine | null;
  readonly policy: CompiledPeerPolicy;
  readonly log: Logger;
  readonly startedAt: number;
  readonly status: () => Record<string, unknown>;
  readonly loop: { readonly counters: PacketLoopCounters };
  readonly ruleCounters: RuleCounters;
  readonly flowLog: FlowLog | null;
  readonly format: FlowEventFormat;
  /** Flow-event listeners besides the flow log (watchers). */
  readonly flowListeners: Set<(ev: FlowEvent) => void>;
  reload(): Promise<{ applied: boolean; error: string | null }>;
  /** Explains a new connection against the policy file (in a worker). */
  explain(query: ExplainQuery): Promise<Explanation>;
  /** Re-attaches the engine's flow listener after flowListeners changed. */
  updateFlowListener(): void;
  /** The queue workers with --queues N > 1: each has its own engine, and `engine` is null. */
  readonly queues?: MultiQueue | null;
}

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/** A flow as `flows` lists it: FlowInfo with the policy and rule names, age and timeout left. */
export interface FlowEntry extends FlowInfo {
  policy: { id: string; name: string } | null;
  ruleName: string | null;
  ageMs: number;
}

export function controlHandlers(agent: ControlSource): Record<CommandName, Handler> {
  const engineOf = (): Engine => {
    if (!agent.engine && agent.queues) throw new CommandError(`not available with --queues ${agent.queues.queues}: each queue's worker has its own engine (status, counters, flows and reload are)`);
    if (!agent.engine) throw new CommandError("filtering is off (--no-filter): there is no engine to ask");
    return agent.engine;
  };
  const queues = agent.queues;
  return {
    status: () => agent.status(),
    flows: (args) => {
      if (!queues) return listFlows(engineOf(), agent.policy, flowFilter(args));
      const filter = flowFilter(args);
      const now = Date.now();
      return queues.flows().then((flows) => flows.map((f) => entryOf(f, agent.policy, now)).filter(filter));
    },
    flush: (args) => {
      const engine = engineOf();
      const filter = flowFilter(args);
      const ct = engine.conntrack;
      let n = 0;
      for (const e of [...ct.liveEntries()]) {
        if (!filter(entryOf(ct.info(e), agent.policy, engine.conntrack.now))) continue;
        ct.remove(e, END_FLUSHED);
        n++;
      }
      agent.log.info({ flushed: n, filter: args }, "flows flushed");
      return { flushed: n };
    },
    watch: (args: Record<string, unknown>, ctx: CommandContext) => {
      engineOf();
      const filter = flowFilter(args);
      const stop = () => {
        agent.flowListeners.delete(listener);
        agent.updateFlowListener();
      };
      const listener = (ev: FlowEvent) => {
        if (ev.kind === FLOW_DROP) return;
        const line = agent.format.flowLine(ev, Date.now());
        if (filter(watchEntry(line)) && !ctx.emit(line)) stop();
      };
      agent.flowListeners.add(listener);
      agent.updateFlowListener();
      ctx.onClose(stop);
      return STREAMING;
    },
    trace: async (args) => {
      const engine = engineOf();
      const hex = args.packet;
      if (typeof hex !== "string" || !/^([0-9a-fA-F]{2})+$/.test(hex)) throw new CommandError("trace: $.args.packet must be the packet's bytes in hex");
      const direction = args.direction;
      if (direction !== undefined && direction !== "in" && direction !== "out") throw new CommandError('trace: $.args.direction must be "in" or "out"');
      const bytes = new Uint8Array(Buffer.from(hex, "hex"));
      const result: TraceResult & { why?: Explanation } = tracePacket(engine, bytes, 0, bytes.length, { direction });
      // No rule: explain (offline, against the policy file) names what kept a rule from
      // matching, such as the posture check that excluded the source.
      const query = result.reason === "no-rule" ? queryOf(bytes) : null;
      if (query) {
        const why = await agent.explain(query).catch(() => null);
        if (why && why.stage !== "default-deny") {
          result.why = why;
          result.stages.splice(result.stages.length - 1, 0, { name: "why", outcome: why.stage, detail: why.reason });
        }
      }
      return result;
    },
    counters: () => {
      if (queues) {
        return queues.ruleTotals().then((rules) => {
          queues.refresh();
          const reasons: Record<string, number> = {};
          queues.reasonCounts.forEach((n, code) => {
            if (n > 0) reasons[REASON_NAMES[code]] = n;
          });
          return { rules, reasons, dropped: { inbound: agent.loop.counters.inboundDropped, outbound: agent.loop.counters.outboundDropped }, queues: queues.perQueue() };
        });
      }
      const engine = engineOf();
      const reasons: Record<string, number> = {};
      engine.reasonCounts.forEach((n, code) => {
        if (n > 0) reasons[engine.reasonName(code)] = n;
      });
      return { rules: agent.ruleCounters.totals(engine.rules), reasons, dropped: { inbound: agent.loop.counters.inboundDropped, outbound: agent.loop.counters.outboundDropped } };
    },
    reload: () => agent.reload(),
    "log-level": (args) => {
      const level = args.level;
      if (typeof level !== "string" || !LOG_LEVELS.includes(level)) throw new CommandError(`log-level: level ${JSON.stringify(level)} is not one of ${LOG_LEVELS.join(", ")}`);
      const previous = agent.log.level;
      agent.log.level = level;
      agent.log.info({ level, previous }, "log level changed");
      return { level, previous };
    },
  };
}

function listFlows(engine: Engine, policy: CompiledPeerPolicy, filter: (f: FlowEntry) => boolean): FlowEntry[] {
  const out: FlowEntry[] = [];
  const now = engine.conntrack.now;
  for (const f of engine.flows()) {
    const entry = entryOf(f, policy, now);
    if (filter(entry)) out.push(entry);
  }
  return out;
}

function entryOf(f: FlowInfo, policy: CompiledPeerPolicy, now: number): FlowEntry {
  const rule = f.rule ? ruleById(policy, f.rule) : undefined;
  return { ...f, policy: rule ? { id: rule.policyId, name: rule.policyName } : null, ruleName: rule?.ruleName ?? null, ageMs: now - f.startMs };
}

const rulesByPolicy = new WeakMap<CompiledPeerPolicy, Map<string, CompiledRule>>();
function ruleById(policy: CompiledPeerPolicy, id: string): CompiledRule | undefined {
  let map = rulesByPolicy.get(policy);
  if (!map) {
    map = new Map([...policy.inbound, ...policy.outbound, ...policy.routes].map((r) => [r.id, r]));
    rulesByPolicy.set(policy, map);
  }
  return map.get(id);
}

/** The listing's filter fields, from a watch line (flow-log form). */
function watchEntry(line: Record<string, unknown>): FlowEntry {
  const s = line.source as { address: string; port: number | null };
  const d = line.destination as { address: string; port: number | null };
  const policy = line.policy as { id: string; name: string } | null;
  return { src: s.address, dst: d.address, srcPort: s.port ?? 0, dstPort: d.port ?? 0, protocol: String(line.protocol_name), state: String(line.state ?? ""), policy } as FlowEntry;
}

/** Filters of flows, flush and watch: address (either end), src, dst, port (either end), protocol, state, policy (id or name). */
export function flowFilter(args: Record<string, unknown>): (f: FlowEntry) => boolean {
  const known = ["address", "src", "dst", "port", "protocol", "state", "policy"];
  for (const key of Object.keys(args)) if (!known.includes(key)) throw new CommandError(`unknown filter $.args.${key} (filters: ${known.join(", ")})`);
  const text = (key: string): string | undefined => {
    const v = args[key];
    if (v === undefined) return undefined;
    if (typeof v !== "string") throw new CommandError(`filter $.args.${key} must be a string`);
    return v;
  };
  const address = text("address");
  const src = text("src");
  const dst = text("dst");
  const protocol = text("protocol");
  const state = text("state");
  const policy = text("policy");
  const port = args.port === undefined ? undefined : Number(args.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new CommandError(`filter $.args.port ${JSON.stringify(args.port)} is not a port number`);
  return (f) =>
    (address === undefined || f.src === address || f.dst === address) &&
    (src === undefined || f.src === src) &&
    (dst === undefined || f.dst === dst) &&
    (port === undefined || f.srcPort === port || f.dstPort === port) &&
    (protocol === undefined || f.protocol === protocol) &&
    (state === undefined || f.state === state) &&
    (policy === undefined || f.policy?.id === policy || f.policy?.name === policy);
}

/** The new connection a traced packet would open, as explain's query; null when it is not TCP, UDP or ICMP. */
function queryOf(bytes: Uint8Array): ExplainQuery | null {
  const rec = new PacketRecord();
  if (!decodePacket(bytes, 0, bytes.length, rec, false) || !rec.hasL4) return null;
  const src = formatIp(rec.ipVersion, rec.src0, rec.src1, rec.src2, rec.src3);
  const dst = formatIp(rec.ipVersion, rec.dst0, rec.dst1, rec.dst2, rec.dst3);
  if (rec.protocol === PROTO_TCP) return { protocol: "tcp", src, dst, srcPort: rec.srcPort, dstPort: rec.dstPort, tcpFlags: formatTcpFlags(rec.tcpFlags) };
  if (rec.protocol === PROTO_UDP) return { protocol: "udp", src, dst, srcPort: rec.srcPort, dstPort: rec.dstPort };
  // explain speaks ICMPv4 type numbers; an ICMPv6 echo request is its echo request.
  if (rec.protocol === PROTO_ICMP) return { protocol: "icmp", src, dst, icmpType: rec.icmpType };
  if (rec.protocol === PROTO_ICMPV6 && rec.icmpIsEchoRequest) return { protocol: "icmp", src, dst, icmpType: 8 };
  return null;
}
