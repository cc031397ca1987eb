// The flow log: JSON lines (schema "meshfilter.flow/1", docs/operating.md) built for
// volume. Flows are logged as they start and end (per flow, never per packet); drops are
// aggregated per (source, destination, protocol, destination port, reason) over a window
// and written once per window with their count and first/last time. Output is bounded in
// bytes per second: lines beyond the budget are not written but counted, and reported in
// a "SUPPRESSED" line, so that the drop counts of the log always add up to the drops.
// Field names follow NetBird's NetworkTrafficEvent where they fit (source/destination
// objects with address and name, policy with id and name, protocol number, direction
// INGRESS/EGRESS, rx/tx packets and bytes, window_start/window_end, num_of_drops), so the
// same tooling can read both. The target is a file with a size cap and rotation (FILE,
// FILE.1), or "-" for stdout (a log shipper's pipe).

import { closeSync, openSync, renameSync, statSync, writeSync } from "node:fs";
import { END_CLOSED, END_REASON_NAMES, FLOW_DROP, FLOW_START, type FlowEvent } from "../conntrack/flow-event.ts";
import { stateName, TCP_CLOSED, TCP_TIME_WAIT } from "../conntrack/states.ts";
import { protocolName } from "../conntrack/conntrack.ts";
import { formatIp } from "../packet/address.ts";
import { PROTO_ICMP, PROTO_ICMPV6 } from "../packet/record.ts";
import type { CompiledPeerPolicy } from "../filter/compiled-policy.ts";
import { DropAggregates } from "./drop-aggregates.ts";

export const FLOW_LOG_SCHEMA = "meshfilter.flow/1";

export interface FlowLogOptions {
  /** File path, or "-" for stdout. */
  path: string;
  /** Drop aggregation window (ms). Default 10 000. */
  windowMs?: number;
  /** Output budget (bytes per second, averaged over a window). Default 65 536. */
  maxBytesPerSecond?: number;
  /** A file is rotated (to FILE.1) when it would grow past this. Default 100 MiB. */
  maxFileBytes?: number;
  /** Distinct drop aggregates kept per window; drops of further ones are counted as suppressed. Default 10 000. */
  maxAggregates?: number;
  /** The clock (ms), for tests. Default Date.now. */
  now?: () => number;
}

/** Turns engine flow events into flow-log lines: addresses as text, names of peers, policies and rules. */
export class FlowEventFormat {
  peer = { id: "", name: "" };
  private peerNames = new Map<string, string>();
  private selfAddresses = new Set<string>();
  private rules = new Map<string, { policyId: string; policyName: string; ruleName: string }>();

  /** The policy in force: names this peer and the rules' policies. Rules of earlier policies stay known (their flows may still end). */
  setPolicy(policy: CompiledPeerPolicy, peerNames?: Map<string, string>): void {
    this.peer = { id: policy.peer.id, name: policy.peer.name };
    this.selfAddresses = new Set(policy.peer.addresses);
    for (const r of [...policy.inbound, ...policy.outbound, ...policy.routes]) this.rules.set(r.id, { policyId: r.policyId, policyName: r.policyName, ruleName: r.ruleName });
    if (peerNames) this.peerNames = peerNames;
  }

  common(ev: FlowEvent, direction: string): Record<string, unknown> {
    const rule = ev.ruleId ? this.rules.get(ev.ruleId) : undefined;
    return {
      reporter_id: this.peer.id,
      reporter_name: this.peer.name,
      protocol: ev.protocol,
      protocol_name: protocolName(ev.protocol),
      direction,
      policy: rule ? { id: rule.policyId, name: rule.policyName } : null,
      rule: ev.ruleId ? { id: ev.ruleId, name: rule?.ruleName ?? "" } : null,
    };
  }

  endpoint(ev: FlowEvent, side: 0 | 1, port: number): { address: string; port: number | null; name: string; type: string } {
    const address = side === 0 ? formatIp(ev.ipVersion, ev.src0, ev.src1, ev.src2, ev.src3) : formatIp(ev.ipVersion, ev.dst0, ev.dst1, ev.dst2, ev.dst3);
    const name = this.selfAddresses.has(address) ? this.peer.name : (this.peerNames.get(address) ?? "");
    return { address, port: port >= 0 ? port : null, name, type: name ? "PEER" : "UNKNOWN" };
  }

  /** A start or end event as a flow-log line (also what `flows --watch` shows). */
  flowLine(ev: FlowEvent, now: number): Record<string, unknown> {
    const icmp = ev.protocol === PROTO_ICMP || ev.protocol === PROTO_ICMPV6;
    const ingress = ev.origin !== "outbound";
    const start = ev.kind === FLOW_START;
    const line: Record<string, unknown> = {
      schema: FLOW_LOG_SCHEMA,
      type: start ? "TYPE_START" : "TYPE_END",
      timestamp: new Date(now).toISOString(),
      flow_id: `${ev.startMs.toString(36)}-${ev.protocol}-${ev.srcPort}-${ev.dstPort}-${(ev.src0 ^ ev.dst0) >>> 0}`,
      ...this.common(ev, ingress ? "INGRESS" : "EGRESS"),
      origin: ev.origin,
      source: this.endpoint(ev, 0, icmp ? -1 : ev.srcPort),
      destination: this.endpoint(ev, 1, icmp ? -1 : ev.dstPort),
      state: ev.state >= 0 ? stateName(ev.state) : null,
    };
    if (icmp) line.icmp_id = ev.srcPort;
    if (!start) {
      line.end_reason = endReason(ev);
      // rx: what this peer received (the originator's packets on an inbound flow).
      line.rx_packets = ingress ? ev.packetsOriginal : ev.packetsReply;
      line.rx_bytes = ingress ? ev.bytesOriginal : ev.bytesReply;
      line.tx_packets = ingress ? ev.packetsReply : ev.packetsOriginal;
      line.tx_bytes = ingress ? ev.bytesReply : ev.bytesOriginal;
      line.duration_ms = ev.timeMs - ev.startMs;
    }
    return line;
  }
}

export class FlowLog {
  private readonly path: string;
  private fd: number;
  private size = 0;
  private readonly windowMs: number;
  private readonly maxBytesPerSecond: number;
  private readonly maxFileBytes: number;
  private readonly now: () => number;
  private readonly drops: DropAggregates;
  private pending: string[] = [];
  private windowStart: number;
  /** Bytes the log may still write (refilled by maxBytesPerSecond). */
  private budget: number;
  private lastRefill: number;
  private suppressedLines = 0;
  private suppressedDrops = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Totals since start: lines written, lines suppressed, drops counted. */
  readonly totals = { lines: 0, suppressedLines: 0, drops: 0 };

  constructor(
    options: FlowLogOptions,
    /** Names for the lines: the agent's, shared with `flows --watch`. */
    readonly format: FlowEventFormat = new FlowEventFormat(),
  ) {
    this.path = options.path;
    this.windowMs = options.windowMs ?? 10_000;
    this.maxBytesPerSecond = options.maxBytesPerSecond ?? 65_536;
    this.maxFileBytes = options.maxFileBytes ?? 100 * 1024 * 1024;
    this.drops = new DropAggregates(options.maxAggregates ?? 10_000);
    this.now = options.now ?? Date.now;
    this.windowStart = this.now();
    this.lastRefill = this.windowStart;
    this.budget = this.maxBytesPerSecond;
    if (this.path === "-") {
      this.fd = 1;
    } else {
      try {
        this.fd = openSync(this.path, "a", 0o640);
        this.size = statSync(this.path).size;
      } catch (err) {
        throw new Error(`cannot open the flow log ${this.path}: ${(err as Error).message}`);
      }
    }
  }

  /** Writes the pending lines every second, and the drop aggregates at the end of each window. */
  start(): void {
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref();
  }

  /** The engine's flow listener. Drops are aggregated; starts and ends become lines. */
  readonly onEvent = (ev: FlowEvent): void => {
    if (ev.kind === FLOW_DROP) this.countDrop(ev);
    else this.queue(this.format.flowLine(ev, this.now()));
  };

  private countDrop(ev: FlowEvent): void {
    this.totals.drops++;
    const outbound = ev.origin === "outbound";
    const found = this.drops.count(ev, outbound);
    if (found >= 0) return;
    if (this.drops.size >= this.drops.capacity) {
      this.suppressedDrops++;
      return;
    }
    const icmp = ev.protocol === PROTO_ICMP || ev.protocol === PROTO_ICMPV6;
    this.drops.insert(-1 - found, ev.timeMs, {
      ...this.format.common(ev, outbound ? "EGRESS" : "INGRESS"),
      destination: this.format.endpoint(ev, 1, icmp ? -1 : ev.dstPort),
      source: this.format.endpoint(ev, 0, -1),
      reason: ev.reasonName,
    });
  }




  private queue(line: Record<string, unknown>): void {
    this.refill();
    const text = JSON.stringify(line) + "\n";
    if (text.length > this.budget) {
      this.suppressedLines++;
      return;
    }
    this.budget -= text.length;
    this.pending.push(text);
  }

  private refill(): void {
    const t = this.now();
    const elapsed = t - this.lastRefill;
    if (elapsed <= 0) return;
    this.lastRefill = t;
    // The bucket holds at most one window's worth, so one window's aggregates always fit.
    this.budget = Math.min(this.budget + (elapsed / 1000) * this.maxBytesPerSecond, (this.maxBytesPerSecond * Math.max(this.windowMs, 1000)) / 1000);
  }

  /** Once a second: write what is pending; at a window's end, its drop aggregates first. */
  tick(): void {
    const t = this.now();
    if (t - this.windowStart >= this.windowMs) this.closeWindow(t);
    this.writePending();
  }

  private closeWindow(t: number): void {
    const windowStart = new Date(this.windowStart).toISOString();
    const windowEnd = new Date(t).toISOString();
    const drops = this.drops;
    for (let i = 0; i < drops.size; i++) {
      const before = this.suppressedLines;
      this.queue({
        schema: FLOW_LOG_SCHEMA,
        type: "TYPE_DROP",
        timestamp: windowEnd,
        ...drops.lines[i],
        num_of_drops: drops.counts[i],
        first_seen: new Date(drops.first[i]).toISOString(),
        last_seen: new Date(drops.last[i]).toISOString(),
        window_start: windowStart,
        window_end: windowEnd,
      });
      if (this.suppressedLines > before) this.suppressedDrops += drops.counts[i];
    }
    this.drops.clear();
    if (this.suppressedLines > 0 || this.suppressedDrops > 0) {
      // Always written, outside the budget: what the budget held back.
      this.pending.push(
        JSON.stringify({ schema: FLOW_LOG_SCHEMA, type: "SUPPRESSED", reporter_id: this.format.peer.id, suppressed_lines: this.suppressedLines, num_of_drops: this.suppressedDrops, window_start: windowStart, window_end: windowEnd }) + "\n",
      );
      this.totals.suppressedLines += this.suppressedLines;
      this.suppressedLines = 0;
      this.suppressedDrops = 0;
    }
    this.windowStart = t;
  }

  private writePending(): void {
    if (this.pending.length === 0) return;
    const lines = this.pending;
    this.totals.lines += lines.length;
    this.pending = [];
    // Lines go out in chunks that fit the file's size cap; the file is rotated between them.
    let chunk = "";
    for (const line of lines) {
      if (this.fd !== 1 && this.size + chunk.length + line.length > this.maxFileBytes && this.size + chunk.length > 0) {
        this.write(chunk);
        chunk = "";
        this.rotate();
      }
      chunk += line;
    }
    this.write(chunk);
  }

  private write(text: string): void {
    if (text === "") return;
    try {
      writeSync(this.fd, text);
      this.size += Buffer.byteLength(text);
    } catch {
      // A full disk or a closed pipe must not stop the agent: the lines are lost, the
      // counters (status) still tell.
    }
  }

  private rotate(): void {
    try {
      closeSync(this.fd);
      renameSync(this.path, `${this.path}.1`);
    } catch {
      // keep writing to whatever we can open
    }
    this.fd = openSync(this.path, "a", 0o640);
    this.size = 0;
  }

  /** Ends the current window and writes everything (shutdown). */
  close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.closeWindow(this.now());
    this.writePending();
    if (this.fd !== 1) closeSync(this.fd);
    return Promise.resolve();
  }
}

/** fin, rst, timeout, evicted, revoked, flushed or reused. */
function endReason(ev: FlowEvent): string {
  if (ev.reason === END_CLOSED) return ev.state === TCP_TIME_WAIT ? "fin" : ev.state === TCP_CLOSED ? "rst" : "closed";
  return END_REASON_NAMES[ev.reason] ?? String(ev.reason);
}
