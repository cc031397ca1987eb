// The end of a replay: the counters and the engine's own tallies turned into one plain
// object (printed as JSON by --json) and into text in the manner of tcpdump's closing
// lines followed by small tables. Cold path: built once per replay.

import type { CaptureError } from "../io/capture-error.ts";
import { MAX_TIME_MS } from "../io/capture-reader.ts";
import { formatBytes, formatCount } from "../text/numbers.ts";
import { printableLines } from "../text/printable.ts";
import type { ReplayCounters } from "./counters.ts";

/** What the summary reads from the engine (the Engine satisfies it). */
export interface SummarySource {
  reasonName(code: number): string;
  /** `tcp-out-of-window` drops per failing check, and the checks' names. */
  readonly detailCounts: Float64Array;
  detailName(code: number): string;
  readonly rules: {
    readonly ruleCount: number;
    readonly hits: Float64Array;
    readonly bytes: Float64Array;
    ruleId(index: number): string;
    ruleAction(index: number): number;
  };
  flows(): Iterable<{ state: string }>;
}

export interface ReplayContext {
  capture: string;
  policy: string;
  peer: { name: string; addresses: string[] };
}

export interface RuleHits {
  rule: string;
  action: "accept" | "drop";
  /** New connections this rule decided (packets that opened a flow or were dropped by it). */
  hits: number;
  bytes: number;
}

export interface ReplaySummary extends ReplayContext {
  /** False when the capture ended in an error or the replay was interrupted: the figures cover the packets before it. */
  complete: boolean;
  /** True when Ctrl-C stopped the replay before the end of the capture. */
  interrupted: boolean;
  error: { message: string; byteOffset: number } | null;
  packets: { read: number; judged: number; accepted: number; dropped: number; notForPeer: number; nonIp: number };
  bytes: { accepted: number; dropped: number };
  inbound: { accepted: number; dropped: number };
  outbound: { accepted: number; dropped: number };
  acceptsByReason: Record<string, number>;
  dropsByReason: Record<string, number>;
  /** The `tcp-out-of-window` drops by the check that failed (seq-above-window, ...). */
  outOfWindowByCheck: Record<string, number>;
  topRules: RuleHits[];
  flowsByState: Record<string, number>;
  /** Capture time of the first and last packet (ISO 8601), null for an empty capture. */
  firstPacket: string | null;
  lastPacket: string | null;
}

const TOP_RULES = 10;

function byReason(counts: Float64Array, source: SummarySource): Record<string, number> {
  const entries: [string, number][] = [];
  counts.forEach((count, code) => {
    if (count > 0) entries.push([source.reasonName(code), count]);
  });
  return Object.fromEntries(entries.sort((a, b) => b[1] - a[1]));
}

function byDetail(source: SummarySource): Record<string, number> {
  const entries: [string, number][] = [];
  source.detailCounts.forEach((count, code) => {
    if (count > 0 && code > 0) entries.push([source.detailName(code), count]);
  });
  return Object.fromEntries(entries.sort((a, b) => b[1] - a[1]));
}

function topRules(source: SummarySource): RuleHits[] {
  const { rules } = source;
  const list: RuleHits[] = [];
  for (let i = 0; i < rules.ruleCount; i++) {
    if (rules.hits[i] === 0) continue;
    list.push({ rule: rules.ruleId(i), action: rules.ruleAction(i) === 1 ? "accept" : "drop", hits: rules.hits[i], bytes: rules.bytes[i] });
  }
  return list.sort((a, b) => b.hits - a.hits).slice(0, TOP_RULES);
}

function flowsByState(source: SummarySource): Record<string, number> {
  const counts = new Map<string, number>();
  for (const flow of source.flows()) counts.set(flow.state, (counts.get(flow.state) ?? 0) + 1);
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]));
}

function isoTime(ms: number): string | null {
  // The readers refuse times outside a Date's range; this keeps a summary printable whatever the source.
  return Math.abs(ms) <= MAX_TIME_MS ? new Date(ms).toISOString() : null;
}

export function buildSummary(context: ReplayContext, counters: ReplayCounters, source: SummarySource, error: CaptureError | null, interrupted = false): ReplaySummary {
  return {
    ...context,
    complete: error === null && !interrupted,
    interrupted,
    error: error ? { message: error.message, byteOffset: error.byteOffset } : null,
    packets: {
      read: counters.read,
      judged: counters.judged,
      accepted: counters.accepted,
      dropped: counters.dropped,
      notForPeer: counters.notForPeer,
      nonIp: counters.nonIp,
    },
    bytes: { accepted: counters.acceptedBytes, dropped: counters.droppedBytes },
    inbound: { accepted: counters.inboundAccepted, dropped: counters.inboundDropped },
    outbound: { accepted: counters.outboundAccepted, dropped: counters.outboundDropped },
    acceptsByReason: byReason(counters.acceptedByReason, source),
    dropsByReason: byReason(counters.droppedByReason, source),
    outOfWindowByCheck: byDetail(source),
    topRules: topRules(source),
    flowsByState: flowsByState(source),
    firstPacket: isoTime(counters.firstTimeMs),
    lastPacket: isoTime(counters.lastTimeMs),
  };
}

/** Rows of label/value pairs as an indented two-column table; numbers are counts. */
function table(title: string, rows: [string, string | number][]): string[] {
  if (rows.length === 0) return [];
  const cells = rows.map(([label, value]) => [label, typeof value === "number" ? formatCount(value) : value] as const);
  const width = Math.max(...cells.map(([label]) => label.length));
  const valueWidth = Math.max(...cells.map(([, value]) => value.length));
  return ["", `${title}:`, ...cells.map(([label, value]) => `  ${label.padEnd(width)}  ${value.padStart(valueWidth)}`)];
}

/** Bytes for reading, with the exact count beside a rounded one: "1.2 MB (1,234,567 bytes)". */
function bytesText(n: number): string {
  return n < 1000 ? `${formatCount(n)} bytes` : `${formatBytes(n)} (${formatCount(n)} bytes)`;
}

function stoppedEarly(s: ReplaySummary): string {
  if (s.interrupted) return " (interrupted: partial, the figures cover the packets before Ctrl-C)";
  return s.complete ? "" : " (capture stopped early, see the error below)";
}

/** The human-readable summary: tcpdump-style closing lines, then the tables. */
export function formatSummary(s: ReplaySummary): string {
  const p = s.packets;
  const lines = [
    `${formatCount(p.read)} packets read from ${s.capture}${stoppedEarly(s)}`,
    `${formatCount(p.judged)} packets judged for peer ${s.peer.name} (${s.peer.addresses.join(", ")}) with ${s.policy}`,
    `${formatCount(p.accepted)} packets accepted`,
    `${formatCount(p.dropped)} packets dropped`,
    `${formatCount(p.notForPeer)} packets not for this peer${p.nonIp > 0 ? ` (${formatCount(p.nonIp)} not IP)` : ""}`,
  ];
  lines.push(
    ...table("Traffic", [
      ["accepted packets", p.accepted],
      ["accepted bytes", bytesText(s.bytes.accepted)],
      ["dropped packets", p.dropped],
      ["dropped bytes", bytesText(s.bytes.dropped)],
      ["inbound accepted / dropped", `${formatCount(s.inbound.accepted)} / ${formatCount(s.inbound.dropped)}`],
      ["outbound accepted / dropped", `${formatCount(s.outbound.accepted)} / ${formatCount(s.outbound.dropped)}`],
    ]),
  );
  lines.push(...table("Drops by reason", Object.entries(s.dropsByReason)));
  lines.push(...table("tcp-out-of-window by failing check", Object.entries(s.outOfWindowByCheck)));
  lines.push(...table("Accepts by reason", Object.entries(s.acceptsByReason)));
  lines.push(...table("Top rules by hits (new connections)", s.topRules.map((r) => [`${r.rule} (${r.action})`, r.hits])));
  lines.push(...table("Flows by final state", Object.entries(s.flowsByState)));
  if (s.firstPacket) lines.push("", `Capture time: ${s.firstPacket} .. ${s.lastPacket}`);
  return printableLines(lines);
}
