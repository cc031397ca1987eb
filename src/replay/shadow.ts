// Shadow mode's judge: live frames from an interface, judged as the peer's filter would
// judge them, enforcing nothing. It reports each new connection the filter would drop
// (once per connection: retransmitted SYNs and repeated pings within a few seconds are
// the same connection) and keeps the same counters as a replay for periodic totals.
// Frames come with their link-layer header, whose type the capture library reports.

import { DIR_IN, DIR_NONE, type Engine, VERDICT_DROP } from "../engine/engine.ts";
import { ipPacketLength, linkHeaderLength } from "../io/link-layer.ts";
import { formatIp } from "../packet/address.ts";
import { PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP, type PacketRecord } from "../packet/record.ts";
import { ReplayCounters } from "./counters.ts";
import type { PeerFilter } from "./setup.ts";
import { printable } from "../text/printable.ts";

/** One dropped new connection, as printed by `meshfilter watch`. */
export interface DropReport {
  time: string;
  direction: "in" | "out";
  protocol: string;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  reason: string;
  /** The deciding drop rule's id, null when no rule allowed it (default deny). */
  rule: string | null;
}

/** A drop line is printed once per connection within this many ms. */
const REPEAT_WINDOW_MS = 10_000;
/** Bound on remembered connections (only dropped ones): cleared when it fills. */
const MAX_REMEMBERED = 10_000;

function protocolName(protocol: number): string {
  switch (protocol) {
    case PROTO_TCP:
      return "tcp";
    case PROTO_UDP:
      return "udp";
    case PROTO_ICMP:
      return "icmp";
    case PROTO_ICMPV6:
      return "icmp6";
    default:
      return `proto-${protocol}`;
  }
}

function describe(rec: PacketRecord, direction: number, reason: string, rule: string | null, timeMs: number): DropReport {
  const isIcmp = rec.protocol === PROTO_ICMP || rec.protocol === PROTO_ICMPV6;
  return {
    time: new Date(timeMs).toISOString(),
    direction: direction === DIR_IN ? "in" : "out",
    protocol: protocolName(rec.protocol),
    src: formatIp(rec.ipVersion, rec.src0, rec.src1, rec.src2, rec.src3),
    srcPort: isIcmp ? 0 : rec.srcPort,
    dst: formatIp(rec.ipVersion, rec.dst0, rec.dst1, rec.dst2, rec.dst3),
    // For ICMP the "port" people look for is the type (8 = echo request).
    dstPort: isIcmp ? rec.icmpType : rec.dstPort,
    reason,
    rule,
  };
}

/** A drop line for people: `time in tcp 100.64.0.10:40000 > 100.64.0.20:22 dropped: no-rule`. */
export function formatDropReport(d: DropReport): string {
  const ports = d.protocol === "icmp" || d.protocol === "icmp6";
  const src = ports ? d.src : `${d.src}:${d.srcPort}`;
  const dst = ports ? `${d.dst} type ${d.dstPort}` : `${d.dst}:${d.dstPort}`;
  return printable(`${d.time} ${d.direction} ${d.protocol} ${src} > ${dst} dropped: ${d.reason}${d.rule ? ` (rule ${d.rule})` : ""}`);
}

export class ShadowJudge {
  readonly counters = new ReplayCounters();
  private readonly recent = new Map<string, number>();
  private readonly engine: Engine;
  /** The engine's clock only moves forward, even if the wall clock steps back. */
  private clock = Number.NEGATIVE_INFINITY;

  /**
   * @param newConnectionDropReasons reason codes that mean "a new connection was refused"
   *   (no rule / a drop rule); other drops (out-of-window segments...) are only counted.
   */
  constructor(
    filter: PeerFilter,
    private readonly linkType: number,
    private readonly newConnectionDropReasons: ReadonlySet<number>,
    private readonly onDrop: (report: DropReport) => void,
  ) {
    this.engine = filter.engine;
  }

  /** Judge one frame of `length` bytes at the start of `frame`, seen at `timeMs`. */
  frame(frame: Uint8Array, length: number, timeMs: number): void {
    const { engine, counters } = this;
    if (timeMs > this.clock) {
      this.clock = timeMs;
      engine.setTime(timeMs);
    }
    counters.countTime(timeMs);
    const header = linkHeaderLength(this.linkType, frame, 0, length);
    const ipLength = header < 0 ? 0 : ipPacketLength(frame, header, length - header);
    // One decode: judge classifies the packet and judges it in that direction.
    const verdict = ipLength > 0 ? engine.judge(frame, header, ipLength) : VERDICT_DROP;
    const dir = ipLength > 0 ? engine.lastDirection : DIR_NONE;
    if (dir === DIR_NONE) {
      counters.countNotForPeer(ipLength > 0);
      return;
    }
    const reason = engine.lastReason;
    counters.countVerdict(dir, verdict, reason, ipLength);
    if (verdict === VERDICT_DROP && this.newConnectionDropReasons.has(reason)) this.reportOnce(dir, reason, timeMs);
  }

  private reportOnce(dir: number, reason: number, timeMs: number): void {
    const { engine } = this;
    const rule = engine.lastRule >= 0 ? engine.ruleId(engine.lastRule) : null;
    const report = describe(engine.record, dir, engine.reasonName(reason), rule, timeMs);
    // A connection: the 5-tuple; for ICMP, addresses, type and echo id (one ping session).
    const key = `${report.protocol} ${report.src}:${report.srcPort} ${report.dst}:${report.dstPort} ${engine.record.icmpId}`;
    const seen = this.recent.get(key);
    if (seen !== undefined && timeMs - seen < REPEAT_WINDOW_MS) return;
    if (this.recent.size >= MAX_REMEMBERED) this.recent.clear();
    this.recent.set(key, timeMs);
    this.onDrop(report);
  }
}
