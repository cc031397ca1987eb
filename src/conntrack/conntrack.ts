// Connection tracking: the per-protocol state machines over a FlowTable, with
// timeouts (adaptive as the table fills), eviction, expiry and flow events.
//
// The engine drives it per packet: `lookup` (or `lookupRelated` for ICMP errors),
// then `update` for a tracked flow or `create` for a new one the rules allowed.
// `lookup`, `trackFast` and `trackTcp4Segment` answer with a flow reference: the entry
// and the packet's direction in it, `entry * 2 + direction` (refEntry, refDirection),
// so no call depends on what an earlier one left behind.
// The clock is `now` (ms), set by the caller; nothing here reads the system clock.

import { formatIp } from "../packet/address.ts";
import { viewOf } from "../packet/buffer-view.ts";
import { commonTcpIpv4HeaderLength } from "../packet/decode-common-tcp-ipv4.ts";
import * as wire from "../packet/layout.ts";
import { tcp4View } from "../packet/tcp4-view.ts";
import type { PacketRecord } from "../packet/record.ts";
import * as packet from "../packet/record.ts";
import * as flow from "./flow-record.ts";
import { FlowTable } from "./flow-table.ts";
import {
  END_CLOSED,
  END_REASON_NAMES,
  END_EVICTED,
  END_REUSED,
  END_TIMEOUT,
  FLOW_END,
  FLOW_START,
  FlowEvent,
} from "./flow-event.ts";
import type { FlowInfo } from "./flow-event.ts";
import * as states from "./states.ts";
import { isClosingDown, isUnconfirmed, STATE_NAMES } from "./states.ts";
import * as tcp from "./tcp-states.ts";
import { tcpFlagClass, tcpTransition } from "./tcp-states.ts";
import * as tcpWindow from "./tcp-window.ts";
import {
  acksIgnoredSyn,
  acksPeerFin,
  clearLast,
  directionUnseen,
  initFromSyn,
  initMidStream,
  noteIgnored,
  noteLast,
  quotedSeqInWindow,
  restartFromIgnoredSyn,
  rstVerdict,
  runRestInWindow,
  segmentEnd,
  synAckAcksSyn,
  tcpInWindow,
  windowAdvance,
  windowCheck,
} from "./tcp-window.ts";
import { timeoutsByState } from "./timeouts.ts";
import type { Timeouts } from "./timeouts.ts";

// Module-local copies of imported constants (flow-record.ts says why).
const PROTO_ICMP = packet.PROTO_ICMP;
const PROTO_ICMPV6 = packet.PROTO_ICMPV6;
const PROTO_TCP = packet.PROTO_TCP;
const PROTO_UDP = packet.PROTO_UDP;
const TCP_ACK = packet.TCP_ACK;
const F_INBOUND = flow.F_INBOUND;
const F_LIBERAL = flow.F_LIBERAL;
const F_ORIG_IS_A = flow.F_ORIG_IS_A;
const F_OUTBOUND = flow.F_OUTBOUND;
const F_REPLIED = flow.F_REPLIED;
const F_ROUTED = flow.F_ROUTED;
const D_BYTES = flow.D_BYTES;
const D_LAST_SEEN = flow.D_LAST_SEEN;
const K_META = flow.K_META;
const K_PACKETS = flow.K_PACKETS;
const K_TCP = flow.K_TCP;
const IPV4_MIN_HEADER = wire.IPV4_MIN_HEADER; // the segment path takes IPv4 headers without options only (commonTcpIpv4HeaderLength)
const TD_MAXWIN = flow.TD_MAXWIN;
const K_MAXACK = flow.K_MAXACK;
const META_FLAGS_SHIFT = flow.META_FLAGS_SHIFT;
const META_TD_SHIFT = flow.META_TD_SHIFT;
const RECORD_DOUBLES = flow.RECORD_DOUBLES;
const RECORD_WORDS = flow.RECORD_WORDS;
const TD_FIN_SEEN = flow.TD_FIN_SEEN;
const ICMP_REPLIED = states.ICMP_REPLIED;
const ICMP_UNREPLIED = states.ICMP_UNREPLIED;
const OTHER_REPLIED = states.OTHER_REPLIED;
const OTHER_UNREPLIED = states.OTHER_UNREPLIED;
const TCP_CLOSED = states.TCP_CLOSED;
const TCP_ESTABLISHED = states.TCP_ESTABLISHED;
const TCP_SYN_SENT = states.TCP_SYN_SENT;
const TCP_TIME_WAIT = states.TCP_TIME_WAIT;
const UDP_REPLIED = states.UDP_REPLIED;
const UDP_UNREPLIED = states.UDP_UNREPLIED;
const CLASS_ACK = tcp.CLASS_ACK;
const CLASS_FIN = tcp.CLASS_FIN;
const CLASS_INVALID = tcp.CLASS_INVALID;
const CLASS_RST = tcp.CLASS_RST;
const CLASS_SYN = tcp.CLASS_SYN;
const CLASS_SYNACK = tcp.CLASS_SYNACK;
const DIR_ORIGINAL = tcp.DIR_ORIGINAL;
const DIR_REPLY = tcp.DIR_REPLY;
const T_IGNORE = tcp.T_IGNORE;
const T_INVALID = tcp.T_INVALID;
const T_RESTART = tcp.T_RESTART;
const RST_CHALLENGE = tcpWindow.RST_CHALLENGE;
const RST_EXACT = tcpWindow.RST_EXACT;
const SYNACK_NOT_ACKING_SYN = tcpWindow.SYNACK_NOT_ACKING_SYN;
const WINDOW_OK = tcpWindow.WINDOW_OK;
const WINDOW_OVERSHOOT = tcpWindow.WINDOW_OVERSHOOT;

export interface ConntrackOptions {
  /** Hard maximum of tracked flows. Default 65536 (140 bytes each: 8.75 MiB). */
  capacity?: number;
  /** Idle timeouts in ms, per state; missing fields keep the defaults (timeouts.ts). */
  timeouts?: Partial<Timeouts>;
  /** Linux nf_conntrack_tcp_loose: a mid-stream ACK may open an established, unchecked entry. Default false. */
  looseTcp?: boolean;
  /** pf adaptive.start / adaptive.end as fractions of capacity: timeouts shrink linearly between them. Default 0.6 / 1.2. */
  adaptiveStart?: number;
  adaptiveEnd?: number;
  /** Entries looked at (in index order from the new flow's hash position, at most 64 slots) to find one to evict. Default 8. */
  evictionSample?: number;
  /** An established/replied flow seen more recently than this (ms) is never evicted. Default 60 000. */
  evictionMinIdleMs?: number;
  /** Source of the hash keys; tests may inject a deterministic one. */
  random?: () => number;
}

// Results of `update`.
export const CT_OK = 0;
/** TCP flags are an illegal combination. */
export const CT_INVALID_FLAGS = 1;
/** TCP segment outside the tracked window; the failing check (tcp-window.ts
 *  SEQ_ABOVE_WINDOW...) rides in the bits from CT_DETAIL_SHIFT up: ctDetail(result). */
export const CT_OUT_OF_WINDOW = 2;
export const CT_DETAIL_SHIFT = 4;
/** TCP flags not acceptable in the connection's state (the table says invalid). */
export const CT_INVALID_STATE = 3;
/** RST inside the window but not at the exact expected sequence number: passed (the
 *  endpoint answers it with a challenge ACK, RFC 5961 3.2), the state is NOT changed. */
export const CT_RST_CHALLENGE = 4;
/** SYN on a finished connection: remove the entry and judge the packet as a new connection. */
export const CT_RESTART = 5;
/** ICMP echo in the wrong direction for its session (a "reply" from the requester). */
export const CT_ICMP_MISMATCH = 6;
/** SYN from the originator on a live connection: passed, the state is NOT changed (Linux
 *  TCP_CONNTRACK_IGNORE); a SYN-ACK answering it restarts the entry as a new handshake. */
export const CT_SYN_IGNORED = 7;
/** A packet other than a SYN passed, the state NOT changed (Linux TCP_CONNTRACK_IGNORE):
 *  the responder's ACK while the originator's SYN is unanswered (a challenge ACK, RFC 9293
 *  3.10.7.4, as a host still in TIME_WAIT sends to a reused port; the originator's RST
 *  answering it ends the entry, so its next SYN opens a new flow), or a SYN-ACK repeated
 *  after the first (it may carry a new ISN: the endpoints, not the filter, decide). */
export const CT_IGNORED = 8;
/** A packet of a tracked flow on the wrong path: the originator's packet arriving the way
 *  the responder's travel, or the other way round (a spoofed source, a host on a routed
 *  LAN posing as a mesh peer). */
export const CT_WRONG_PATH = 9;
/** A segment beyond the receiver's window by at most one window: passed, the state NOT
 *  changed but for the sender's td_end (Linux NFCT_TCP_IGNORE, tcp-window.ts overshootWithinWindow). */
export const CT_OVERSHOOT = 10;

/** The kind of an `update` result (CT_*), without its detail. */
export function ctKind(result: number): number {
  return result & ((1 << CT_DETAIL_SHIFT) - 1);
}

/** The detail of a CT_OUT_OF_WINDOW result: which check failed (tcp-window.ts), 0 for none. */
export function ctDetail(result: number): number {
  return result >>> CT_DETAIL_SHIFT;
}

function outOfWindow(detail: number): number {
  return CT_OUT_OF_WINDOW | (detail << CT_DETAIL_SHIFT);
}

/** The entry of a flow reference. */
export function refEntry(ref: number): number {
  return ref >> 1;
}

/** The packet's direction (DIR_ORIGINAL / DIR_REPLY) of a flow reference. */
export function refDirection(ref: number): number {
  return ref & 1;
}
// Results of `trackFast` other than an entry.
/** Not for the fast path: use `lookup` / `lookupRelated` and `update`. */
export const FAST_GENERAL = -1;
/** An IPv4 TCP/UDP packet of no tracked flow (`lookup` would return -1); the key is set for `create`. */
export const FAST_UNTRACKED = -2;

// Values for `create`'s origin.
export const ORIGIN_INBOUND = F_INBOUND;
export const ORIGIN_OUTBOUND = F_OUTBOUND;
export const ORIGIN_ROUTED = F_ROUTED;

/** Index slots an eviction looks through at most (the table is at most half full, so ~32 entries). */
const MAX_EVICTION_SLOTS = 64;

export class Conntrack {
  readonly table: FlowTable;
  readonly looseTcp: boolean;
  /** The clock, in ms. */
  now = 0;
  /** Receives flow start/end events; the event object is reused (copy what you keep). */
  listener: ((e: FlowEvent) => void) | null = null;
  /** Resolves a rule index to its id for events and listings (set by the engine). */
  ruleIds: (index: number) => string = () => "";
  readonly event = new FlowEvent();

  private readonly timeouts: Float64Array;
  private readonly adaptiveStart: number;
  private readonly adaptiveEnd: number;
  private readonly evictionSample: number;
  private readonly evictionMinIdle: number;
  /** [0]: multiplier of every timeout, 1 until the table fills past adaptiveStart. (A typed
   *  array, not a field: storing a fresh double into an object field can allocate.) */
  private readonly scale = new Float64Array([1]);
  private sweepCursor = 0;

  constructor(options: ConntrackOptions = {}) {
    this.table = new FlowTable(options.capacity ?? 65536, options.random);
    this.timeouts = timeoutsByState(options.timeouts);
    this.looseTcp = options.looseTcp ?? false;
    const start = options.adaptiveStart ?? 0.6;
    const end = options.adaptiveEnd ?? 1.2;
    if (!(start > 0 && end > start)) throw new Error(`conntrack adaptive timeouts: need 0 < adaptiveStart (${start}) < adaptiveEnd (${end})`);
    this.adaptiveStart = start * this.table.capacity;
    this.adaptiveEnd = end * this.table.capacity;
    this.evictionSample = options.evictionSample ?? 8;
    this.evictionMinIdle = options.evictionMinIdleMs ?? 60_000;
  }

  /** Live flows. */
  get count(): number {
    return this.table.count;
  }

  /** Set the table's key to the packet's flow (ICMP: the echo id stands for both ports). */
  private keyFromPacket(rec: PacketRecord): void {
    const p = rec.protocol;
    let sp = 0;
    let dp = 0;
    if (p === PROTO_TCP || p === PROTO_UDP) {
      sp = rec.srcPort;
      dp = rec.dstPort;
    } else if (p === PROTO_ICMP || p === PROTO_ICMPV6) {
      sp = dp = rec.icmpId;
    }
    // Address words go as int32 (| 0): a uint32 >= 2^31 (IPv6, 128.0.0.0 and up) passed
    // to a call V8 does not inline is boxed, an allocation per packet.
    if (rec.ipVersion === 4) this.table.setKey4(p, rec.src0 | 0, sp, rec.dst0 | 0, dp);
    else this.table.setKey(p, rec.ipVersion, rec.src0 | 0, rec.src1 | 0, rec.src2 | 0, rec.src3 | 0, sp, rec.dst0 | 0, rec.dst1 | 0, rec.dst2 | 0, rec.dst3 | 0, dp);
  }

  /** The live, unexpired flow this packet belongs to, as a flow reference, or -1. Expired entries found here are removed. */
  lookup(rec: PacketRecord): number {
    const ref = this.findFlow(rec);
    if (ref < 0) return -1;
    const e = ref >> 1;
    if (this.isExpired(e)) {
      this.remove(e, this.expiryReason(e));
      return -1;
    }
    return ref;
  }

  /**
   * The fast path for the bulk of the traffic: a packet of a tracked IPv4 TCP or UDP flow
   * that changes nothing but windows and counters (TCP: an ESTABLISHED, checked flow, a
   * plain ACK from a side already seen, no FIN from the other side, in window; UDP: any
   * packet), arriving on the path its flow expects (`arrivedInbound`: from the mesh).
   * Returns the flow reference, updated and counted exactly as `lookup` + `update` would
   * do it; FAST_UNTRACKED when the IPv4 TCP/UDP flow is not in the table (what `lookup`
   * would say); or FAST_GENERAL when the packet needs the general path, in which case
   * nothing was changed: a wrong path, an expired entry, a window failure, any flag or
   * state change are left to the general path, which decides them and names the reason.
   *
   * It is the general path's steps for such a packet in another order, calling the same
   * window functions (tcp-window.ts): one hash, one probe, one read of the meta word, the
   * window words in place. The general path is ~10 calls (V8 stops inlining once a
   * function's budget is spent), and that, not the arithmetic, was most of the cost. The
   * test "fast path = general path" (test/conntrack/fast-path.test.ts) holds the two equal.
   */
  trackFast(rec: PacketRecord, arrivedInbound: boolean): number {
    const p = rec.protocol;
    if (rec.ipVersion !== 4 || rec.isFragment || (p !== PROTO_TCP && p !== PROTO_UDP)) return FAST_GENERAL;
    return this.trackIpv4(p, rec.src0 | 0, rec.dst0 | 0, (rec.srcPort << 16) | rec.dstPort, (rec.tcpFlags << 16) | rec.tcpWindow, rec.tcpSeq | 0, rec.payloadLength, rec.tcpAck | 0, rec.ipTotalLength, arrivedInbound);
  }

  /**
   * trackFast for TCP/IPv4 read straight from the packet's bytes, without a decode: the
   * flow reference when buf[base, base + length) is a segment trackFast takes (and of the
   * shape the decoder's fast path takes whole, so it is well formed: see
   * commonTcpIpv4HeaderLength), updated and counted as trackFast would do it; otherwise
   * FAST_GENERAL or FAST_UNTRACKED, having changed nothing. Engine.judgeBatch tries it
   * first: for the established segments that are most of the traffic, filling the
   * 55-field PacketRecord and reading it back cost more than the tracking itself. The
   * fields are read through the one TCP/IPv4 header view (packet/tcp4-view.ts).
   * `payload[0]` receives the segment's payload bytes (a segment run starts only at data).
   */
  trackTcp4Segment(buf: Uint8Array, base: number, length: number, arrivedInbound: boolean, payload: Int32Array): number {
    const view = viewOf(buf);
    if (view === null) return FAST_GENERAL;
    const tcpHeaderLength = commonTcpIpv4HeaderLength(buf, view, base, length);
    if (tcpHeaderLength === 0) return FAST_GENERAL;
    const l4 = base + IPV4_MIN_HEADER;
    const tcp4 = tcp4View;
    const offsetFlagsWindow = tcp4.tcpOffsetFlagsWindow(view, l4);
    const flags = tcp4.flagsOf(offsetFlagsWindow);
    if (tcpFlagClass(flags) !== CLASS_ACK) return FAST_GENERAL; // before the lookup: a SYN needs the decoder anyway
    const ports = tcp4.l4Ports(view, l4);
    const totalLength = tcp4.ipv4TotalLength(view, base);
    const payloadLength = totalLength - IPV4_MIN_HEADER - tcpHeaderLength;
    payload[0] = payloadLength;
    return this.trackIpv4(PROTO_TCP, tcp4.ipv4Src(view, base), tcp4.ipv4Dst(view, base), ports | 0, offsetFlagsWindow | 0, tcp4.tcpSeq(view, l4), payloadLength, tcp4.tcpAck(view, l4), totalLength, arrivedInbound);
  }

  /**
   * The fast path proper, shared by trackFast and trackTcp4Segment: the IPv4 `protocol`
   * (TCP or UDP) packet src -> dst, its `ports` as the header's first word (source port
   * << 16 | destination port); for TCP its flags and raw (unscaled) window as the word
   * `flagsWindow` (flags << 16 | window: the low half of the header's word 3), seq and
   * ack (int32, `| 0`) and payload; its IP length in `bytes`; whether it arrived from the
   * mesh. Packed words, because every argument of a call V8 does not inline costs a
   * move (measured: ~0.7 ns a packet for the two). Returns the flow reference, updated and counted;
   * FAST_UNTRACKED when no flow has it; or FAST_GENERAL, having changed nothing: a packet
   * on the wrong path for its flow, an expired entry, a window failure, any flag or state
   * change. The TCP window step is tcp-window.ts's windowCheck / windowAdvance /
   * noteLast, the same calls the general path makes for such a segment.
   */
  private trackIpv4(protocol: number, src: number, dst: number, ports: number, flagsWindow: number, seq: number, payloadLength: number, ack: number, bytes: number, arrivedInbound: boolean): number {
    const t = this.table;
    const e = t.find4(protocol, src, ports >>> 16, dst, ports & 0xffff);
    if (e < 0) return FAST_UNTRACKED;
    const w = t.words;
    const r = e * RECORD_WORDS;
    let meta = w[r + K_META];
    const seenAt = e * RECORD_DOUBLES + D_LAST_SEEN;
    const now = this.now;
    if (now - t.doubles[seenAt] > this.timeouts[meta & 0xff] * this.scale[0]) return FAST_GENERAL; // expired: the general path removes it
    const d = ((meta & (F_ORIG_IS_A << META_FLAGS_SHIFT)) !== 0) === t.srcIsA ? DIR_ORIGINAL : DIR_REPLY;
    // Path before state: the originator's packets travel the path the flow was opened on.
    if ((d === DIR_ORIGINAL) !== (((meta & (F_OUTBOUND << META_FLAGS_SHIFT)) === 0) === arrivedInbound)) return FAST_GENERAL;
    if (protocol === PROTO_TCP) {
      // flagsWindow is split here, not with tcp4View.flagsOf/windowOf: two more inlined
      // calls leave windowAdvance outside V8's inlining budget for this function (+7 ns a packet).
      if (tcpFlagClass((flagsWindow >>> 16) & 0xff) !== CLASS_ACK || (meta & 0xff) !== TCP_ESTABLISHED || (meta & (F_LIBERAL << META_FLAGS_SHIFT)) !== 0) return FAST_GENERAL;
      if (((meta >>> (META_TD_SHIFT + 8 * (1 - d))) & (TD_FIN_SEEN << 4)) !== 0) return FAST_GENERAL;
      const tw = t.tcp;
      const snd = r + K_TCP + 3 * d; // tcp-window.ts tdAt, written out: V8's inlining budget
      const rcv = r + K_TCP + 3 - 3 * d;
      if (tw[snd + TD_MAXWIN] === 0) return FAST_GENERAL; // this side's first packet: initialised by the general path
      const end = (seq + payloadLength) | 0;
      if (windowCheck(tw, snd, rcv, seq, end, ack) !== WINDOW_OK) return FAST_GENERAL;
      windowAdvance(tw, snd, rcv, r + K_MAXACK + d, end, ack, (flagsWindow & 0xffff) * (1 << ((meta >>> (META_TD_SHIFT + 8 * d)) & 0x0f)), true);
      noteLast(tw, r, d, CLASS_ACK);
    } else if (d === DIR_REPLY) {
      meta = (meta & ~0xff) | UDP_REPLIED;
    }
    if (d === DIR_REPLY) w[r + K_META] = meta | (F_REPLIED << META_FLAGS_SHIFT);
    w[r + K_PACKETS + d]++;
    const doubles = t.doubles;
    doubles[seenAt + D_BYTES - D_LAST_SEEN + d] += bytes;
    doubles[seenAt] = now;
    return e * 2 + d;
  }

  /**
   * The rest of a segment run (packet/segment-run.ts) whose first packet trackFast just
   * took for flow reference `ref`: `packets` more in-order segments of the same
   * direction, ACK number and window, the last starting at `lastSeq` and ending before
   * `end`, `bytes` IP bytes in all. The window step is tcp-window.ts's runRestInWindow,
   * equal to the per-segment step segment by segment; every packet and byte is counted.
   * Returns false, changing nothing, when the run does not fit the window: the caller
   * then judges the segments one by one.
   */
  trackRunRest(ref: number, lastSeq: number, end: number, packets: number, bytes: number): boolean {
    const t = this.table;
    const e = ref >> 1;
    const d = ref & 1;
    if (!runRestInWindow(t.tcp, e * RECORD_WORDS, d, CLASS_ACK, lastSeq, end)) return false;
    t.words[e * RECORD_WORDS + K_PACKETS + d] += packets;
    t.doubles[e * RECORD_DOUBLES + D_BYTES + d] += bytes;
    return true;
  }

  /**
   * For an ICMP error: the tracked flow of the packet it quotes, or -1. The error must
   * travel back towards the quoted packet's sender (outer destination == inner source),
   * as it does when the flow's other end or a router on the path reports a problem (P11).
   * It relates only on evidence the quote carries; a field it does not hold is never
   * taken for the 0 the record holds instead (docs/conntrack.md, "ICMP errors"):
   * - TCP: the ports and the sequence number (8 bytes of the TCP header), and the
   *   sequence number must lie in the quoting direction's window (pf, Linux): an error
   *   forged without knowing the connection's sequence numbers cannot pass, nor reset it
   *   at the endpoint (RFC 5927);
   * - UDP: the ports (4 bytes);
   * - ICMP: an echo request with its id (6 bytes), sent by the session's requester, so
   *   the error's receiver. An error about an echo reply, or about an error, never relates.
   */
  lookupRelated(rec: PacketRecord): number {
    if (!rec.innerValid || rec.innerVersion !== rec.ipVersion) return -1;
    if (rec.dst0 !== rec.innerSrc0 || rec.dst1 !== rec.innerSrc1 || rec.dst2 !== rec.innerSrc2 || rec.dst3 !== rec.innerSrc3) return -1;
    const p = rec.innerProtocol;
    const quoted = rec.innerL4Length;
    let sp = 0;
    let dp = 0;
    let echo = false;
    if (p === PROTO_TCP || p === PROTO_UDP) {
      if (quoted < (p === PROTO_TCP ? TCP_SEQ + 4 : 4)) return -1;
      sp = rec.innerSrcPort;
      dp = rec.innerDstPort;
    } else if (p === PROTO_ICMP || p === PROTO_ICMPV6) {
      if (quoted < QUOTED_ECHO_ID_END || rec.innerIcmpType !== (rec.innerVersion === 4 ? ICMP4_ECHO_REQUEST : ICMP6_ECHO_REQUEST)) return -1;
      sp = dp = rec.innerIcmpId;
      echo = true;
    }
    const t = this.table;
    // int32 address words, as in keyFromPacket (no boxing).
    t.setKey(p, rec.innerVersion, rec.innerSrc0 | 0, rec.innerSrc1 | 0, rec.innerSrc2 | 0, rec.innerSrc3 | 0, sp, rec.innerDst0 | 0, rec.innerDst1 | 0, rec.innerDst2 | 0, rec.innerDst3 | 0, dp);
    const e = t.find();
    if (e < 0 || this.isExpired(e)) return -1;
    // The quoted request went from the requester to the responder: the original direction.
    if (echo && !t.isOriginalDirection(e)) return -1;
    if (p === PROTO_TCP && (t.flags(e) & F_LIBERAL) === 0) {
      const quotedDirection = t.isOriginalDirection(e) ? DIR_ORIGINAL : DIR_REPLY;
      if (!quotedSeqInWindow(t, e, quotedDirection, rec.innerTcpSeq | 0)) return -1;
    }
    return e;
  }

  /**
   * Judge a packet of the tracked flow `ref` (a flow reference from `lookup`) that
   * arrived from the mesh (`arrivedInbound`) or from this side, and, when it is
   * acceptable, advance the flow's state and counters. Returns CT_* (out-of-window
   * results carry their detail: ctKind, ctDetail).
   */
  update(ref: number, rec: PacketRecord, arrivedInbound: boolean): number {
    const t = this.table;
    const e = ref >> 1;
    const d = ref & 1;
    // Path before state: the originator's packets travel the path the flow was opened on
    // (inbound for inbound and routed flows), the responder's the other one.
    if ((d === DIR_ORIGINAL) !== (((t.flags(e) & F_OUTBOUND) === 0) === arrivedInbound)) return CT_WRONG_PATH;
    const p = rec.protocol;
    let result = CT_OK;
    if (p === PROTO_TCP) {
      result = this.updateTcp(e, d, rec);
      // Passed without a state change: counted like any packet of the flow.
      if (result !== CT_OK && result !== CT_RST_CHALLENGE && result !== CT_SYN_IGNORED && result !== CT_IGNORED && result !== CT_OVERSHOOT) return result;
    } else if (p === PROTO_ICMP || p === PROTO_ICMPV6) {
      if (d === DIR_ORIGINAL ? !rec.icmpIsEchoRequest : !rec.icmpIsEchoReply) return CT_ICMP_MISMATCH;
      if (d === DIR_REPLY) t.setState(e, ICMP_REPLIED);
    } else if (d === DIR_REPLY) {
      t.setState(e, p === PROTO_UDP ? UDP_REPLIED : OTHER_REPLIED);
    }
    if (d === DIR_REPLY) t.addFlags(e, F_REPLIED);
    t.count1(e, d, rec.ipTotalLength, this.now);
    return result;
  }

  /**
   * The TCP step for a packet from direction `d` of entry `e`: the state table
   * (tcp-states.ts), then RST exactness or the window check (tcp-window.ts).
   */
  private updateTcp(e: number, d: number, rec: PacketRecord): number {
    const t = this.table;
    let cls = tcpFlagClass(rec.tcpFlags);
    if (cls === CLASS_INVALID) return CT_INVALID_FLAGS;
    // ACK/FIN that acknowledges the other side's FIN is the next class (see tcp-states.ts).
    if ((cls === CLASS_ACK || cls === CLASS_FIN) && acksPeerFin(t, e, d, rec)) cls++;
    let state = t.state(e);
    if (cls === CLASS_SYNACK && d === DIR_REPLY && acksIgnoredSyn(t, e, rec) && this.now - t.lastSeen(e) <= this.timeouts[TCP_SYN_SENT]) {
      // The responder accepted the SYN we passed just before (the note lives for one
      // packet and at most the SYN_SENT timeout): the originator had restarted. Start over.
      this.restartFromSynAck(e, rec);
      state = TCP_SYN_SENT;
    }
    const next = tcpTransition(d, cls, state);
    if (next === T_IGNORE) {
      noteIgnored(t, e, d, rec, cls);
      return cls === CLASS_SYN ? CT_SYN_IGNORED : CT_IGNORED;
    }
    if (next === T_RESTART) return CT_RESTART;
    if (next === T_INVALID) return CT_INVALID_STATE;
    if ((t.flags(e) & F_LIBERAL) !== 0) {
      // Picked up mid-stream: windows unknown, so nothing is checked (Linux BE_LIBERAL).
      if (directionUnseen(t, e, d)) initMidStream(t, e, d, rec);
      noteLast(t.tcp, e * RECORD_WORDS, d, cls);
      t.setState(e, next);
      return CT_OK;
    }
    if (cls === CLASS_RST) {
      const verdict = rstVerdict(t, e, d, rec, state === TCP_ESTABLISHED);
      if (verdict === RST_CHALLENGE) return CT_RST_CHALLENGE;
      if (verdict !== RST_EXACT) return outOfWindow(verdict);
      noteLast(t.tcp, e * RECORD_WORDS, d, cls);
      t.setState(e, next);
      return CT_OK;
    }
    if (directionUnseen(t, e, d) || (cls === CLASS_SYN && d === DIR_ORIGINAL && state === TCP_SYN_SENT)) {
      // First packet from this side, or a retransmitted SYN (maybe with a new ISN).
      // A SYN-ACK must acknowledge the SYN, checked before it may initialise anything.
      if (cls === CLASS_SYNACK && !synAckAcksSyn(t, e, d, rec)) return outOfWindow(SYNACK_NOT_ACKING_SYN);
      if (cls === CLASS_SYN || cls === CLASS_SYNACK) initFromSyn(t, e, d, rec);
      else initMidStream(t, e, d, rec);
    }
    const failed = tcpInWindow(t, e, d, rec, cls);
    if (failed === WINDOW_OVERSHOOT) return CT_OVERSHOOT;
    if (failed !== WINDOW_OK) return outOfWindow(failed);
    t.setState(e, next);
    return CT_OK;
  }

  /**
   * The entry of a finished connection becomes that of a new one (same tuple, same
   * rule): reported as the old flow's end (`reused`) and a new flow's start, like a
   * port reuse after TIME_WAIT, but in place (the SYN that opened it was passed earlier).
   */
  private restartFromSynAck(e: number, synAck: PacketRecord): void {
    const t = this.table;
    if (this.listener !== null) this.emit(FLOW_END, e, END_REUSED, END_REASON_NAMES[END_REUSED]);
    restartFromIgnoredSyn(t, e, synAck);
    t.resetCounters(e, this.now);
    t.removeFlags(e, F_REPLIED);
    t.setState(e, TCP_SYN_SENT);
    if (this.listener !== null) this.emit(FLOW_START, e, 0, "");
  }

  /**
   * Can this untracked packet open a flow? TCP: a SYN (or, in loose mode, an ACK);
   * UDP and other protocols: any packet; ICMP: an echo request.
   */
  canOpen(rec: PacketRecord): boolean {
    const p = rec.protocol;
    if (p === PROTO_TCP) {
      const cls = tcpFlagClass(rec.tcpFlags);
      return cls === CLASS_SYN || (this.looseTcp && cls === CLASS_ACK);
    }
    if (p === PROTO_ICMP || p === PROTO_ICMPV6) return rec.icmpIsEchoRequest;
    return true;
  }

  /**
   * Track a new flow opened by `rec` (which `canOpen` accepted and the rules allowed, or
   * a packet of this peer's own picked up mid-stream). `origin` is ORIGIN_*; `rule` the
   * index of the allowing rule (-1 for none). Returns the flow reference (the packet is
   * the originator's: direction DIR_ORIGINAL), or -1 when the table is full and nothing
   * could be evicted. A TCP packet other than a SYN opens a loose entry (F_LIBERAL).
   */
  create(rec: PacketRecord, origin: number, rule: number): number {
    const t = this.table;
    this.keyFromPacket(rec);
    if (t.count >= t.capacity && !this.evictOne()) return -1;
    const p = rec.protocol;
    let state: number;
    let flags = origin | (t.srcIsA ? F_ORIG_IS_A : 0);
    if (p === PROTO_TCP) {
      const loose = tcpFlagClass(rec.tcpFlags) !== CLASS_SYN;
      state = loose ? TCP_ESTABLISHED : TCP_SYN_SENT;
      if (loose) flags |= F_LIBERAL;
    } else if (p === PROTO_UDP) state = UDP_UNREPLIED;
    else if (p === PROTO_ICMP || p === PROTO_ICMPV6) state = ICMP_UNREPLIED;
    else state = OTHER_UNREPLIED;
    const e = t.insert(flags, state, rule, this.now);
    this.updateTimeoutScale();
    if (p === PROTO_TCP) {
      clearLast(t, e);
      if (state === TCP_SYN_SENT) initFromSyn(t, e, DIR_ORIGINAL, rec);
      else initMidStream(t, e, DIR_ORIGINAL, rec);
    }
    t.count1(e, DIR_ORIGINAL, rec.ipTotalLength, this.now);
    if (this.listener !== null) this.emit(FLOW_START, e, 0, "");
    return e * 2 + DIR_ORIGINAL;
  }

  /** Remove flow `e`, reporting an end event with `reason` (END_*). */
  remove(e: number, reason: number): void {
    if (this.listener !== null) this.emit(FLOW_END, e, reason, END_REASON_NAMES[reason]);
    this.table.remove(e);
    this.updateTimeoutScale();
  }

  /** `lookup` changing nothing: an expired entry found is left for the sweep (trace). */
  peek(rec: PacketRecord): number {
    const ref = this.findFlow(rec);
    return ref >= 0 && this.isExpired(ref >> 1) ? -1 : ref;
  }

  /** The entry holding this packet's flow, live or expired, as a flow reference, or -1. */
  private findFlow(rec: PacketRecord): number {
    this.keyFromPacket(rec);
    const e = this.table.find();
    if (e < 0) return -1;
    return e * 2 + (this.table.isOriginalDirection(e) ? DIR_ORIGINAL : DIR_REPLY);
  }

  /** True when flow `e` has been idle longer than its state's (scaled) timeout. */
  isExpired(e: number): boolean {
    const t = this.table;
    return this.now - t.lastSeen(e) > this.timeouts[t.state(e)] * this.scale[0];
  }

  /** Milliseconds until `e` expires if it stays idle. */
  expiresIn(e: number): number {
    const t = this.table;
    return t.lastSeen(e) + this.timeouts[t.state(e)] * this.scale[0] - this.now;
  }

  private expiryReason(e: number): number {
    const s = this.table.state(e);
    return s === TCP_TIME_WAIT || s === TCP_CLOSED ? END_CLOSED : END_TIMEOUT;
  }

  /**
   * Look at the next `slots` entries of the pool (round robin) and remove the expired
   * ones. Returns how many were removed. Call it regularly (the engine does, per clock tick).
   */
  expireSome(now: number, slots: number): number {
    this.now = now;
    const t = this.table;
    let removed = 0;
    let i = this.sweepCursor;
    for (let n = 0; n < slots && n < t.capacity; n++) {
      if (t.isLive(i) && this.isExpired(i)) {
        this.remove(i, this.expiryReason(i));
        removed++;
      }
      i = i + 1 === t.capacity ? 0 : i + 1;
    }
    this.sweepCursor = i;
    return removed;
  }

  /**
   * Make room for the flow whose key is set, looking only at the first
   * `evictionSample` entries from its hash position on (bounded work, no scan). The
   * first closing/closed or half-open/unreplied entry found goes (cheapest to lose, and
   * taking the first one costs one memory access per candidate, which matters under a
   * SYN flood); failing those, an expired entry, else the least recently seen
   * established one that has been idle for evictionMinIdleMs at least (an active
   * connection is never pushed out by a newcomer).
   */
  private evictOne(): boolean {
    const t = this.table;
    let victim = -1;
    let victimSeen = Infinity;
    let i = t.keyHome;
    let examined = 0;
    for (let n = 0; n < MAX_EVICTION_SLOTS && examined < this.evictionSample; n++, i = (i + 1) & t.mask) {
      const s = t.slots[i];
      if (s === 0) continue;
      examined++;
      const e = (s & t.entryMask) - 1;
      const state = t.state(e);
      if (isClosingDown(state) || isUnconfirmed(state) || this.isExpired(e)) {
        victim = e;
        break;
      }
      const seen = t.lastSeen(e);
      if (this.now - seen >= this.evictionMinIdle && seen < victimSeen) {
        victim = e;
        victimSeen = seen;
      }
    }
    if (victim < 0) return false;
    this.remove(victim, this.isExpired(victim) ? this.expiryReason(victim) : END_EVICTED);
    // Removing may have shifted index slots, but the key scratch is untouched: insert still works.
    return true;
  }

  /** pf-style adaptive timeouts: full size between adaptiveStart and adaptiveEnd entries, shrinking linearly. */
  private updateTimeoutScale(): void {
    const c = this.table.count;
    this.scale[0] = c <= this.adaptiveStart ? 1 : c >= this.adaptiveEnd ? 0 : (this.adaptiveEnd - c) / (this.adaptiveEnd - this.adaptiveStart);
  }

  /** Current multiplier of all timeouts (1 = not scaled). */
  get adaptiveScale(): number {
    return this.scale[0];
  }

  private emit(kind: number, e: number, reason: number, reasonName: string): void {
    const ev = this.event;
    const t = this.table;
    ev.kind = kind;
    ev.reason = reason;
    ev.reasonName = reasonName;
    ev.timeMs = this.now;
    ev.protocol = t.protocolOf(e);
    ev.ipVersion = t.versionOf(e);
    t.copyAddresses(e, ev);
    ev.srcPort = t.portOf(e, 0);
    ev.dstPort = t.portOf(e, 1);
    ev.ruleIndex = t.rule(e);
    ev.ruleId = t.rule(e) >= 0 ? this.ruleIds(t.rule(e)) : "";
    ev.state = t.state(e);
    ev.origin = originName(t.flags(e));
    ev.packetsOriginal = t.packetsOf(e, DIR_ORIGINAL);
    ev.packetsReply = t.packetsOf(e, DIR_REPLY);
    ev.bytesOriginal = t.bytesOf(e, DIR_ORIGINAL);
    ev.bytesReply = t.bytesOf(e, DIR_REPLY);
    ev.startMs = t.created(e);
    this.listener!(ev);
  }

  /**
   * Write flow `e`'s initiating packet tuple (originator -> responder) into `rec`, so
   * the rules can be asked again whether they would allow it (revocation, cold path).
   */
  writeOriginalTuple(e: number, rec: PacketRecord): void {
    const t = this.table;
    const p = t.protocolOf(e);
    rec.commonShape = false;
    rec.protocol = p;
    rec.ipVersion = t.versionOf(e);
    t.copyAddresses(e, rec);
    const icmp = p === PROTO_ICMP || p === PROTO_ICMPV6;
    rec.srcPort = icmp ? 0 : t.portOf(e, 0);
    rec.dstPort = icmp ? 0 : t.portOf(e, 1);
    rec.hasL4 = true;
    rec.isFragment = false;
    rec.icmpId = icmp ? t.portOf(e, 0) : 0;
    rec.icmpIsEchoRequest = icmp;
    rec.icmpIsEchoReply = false;
    rec.icmpIsError = false;
    rec.icmpType = icmp ? (p === PROTO_ICMP ? 8 : 128) : 0;
    rec.icmpCode = 0;
    rec.tcpFlags = p === PROTO_TCP ? 0x02 : 0;
  }

  /** Live entry ids (cold path). */
  *liveEntries(): Generator<number> {
    const t = this.table;
    for (let e = 0; e < t.capacity; e++) if (t.isLive(e)) yield e;
  }

  /** Remove every flow (END_FLUSHED or the given reason). Returns how many. */
  flush(reason: number): number {
    let n = 0;
    for (const e of [...this.liveEntries()]) {
      this.remove(e, reason);
      n++;
    }
    return n;
  }

  /** The `conntrack -L` view of flow `e` (cold path). */
  info(e: number): FlowInfo {
    const t = this.table;
    const v = t.versionOf(e);
    const p = t.protocolOf(e);
    return {
      protocol: protocolName(p),
      protocolNumber: p,
      state: STATE_NAMES[t.state(e)],
      src: formatIp(v, t.addressWord(e, 0, 0), t.addressWord(e, 0, 1), t.addressWord(e, 0, 2), t.addressWord(e, 0, 3)),
      dst: formatIp(v, t.addressWord(e, 1, 0), t.addressWord(e, 1, 1), t.addressWord(e, 1, 2), t.addressWord(e, 1, 3)),
      srcPort: t.portOf(e, 0),
      dstPort: t.portOf(e, 1),
      origin: originName(t.flags(e)) as FlowInfo["origin"],
      replied: (t.flags(e) & F_REPLIED) !== 0,
      rule: t.rule(e) >= 0 ? this.ruleIds(t.rule(e)) : null,
      packetsOriginal: t.packetsOf(e, DIR_ORIGINAL),
      packetsReply: t.packetsOf(e, DIR_REPLY),
      bytesOriginal: t.bytesOf(e, DIR_ORIGINAL),
      bytesReply: t.bytesOf(e, DIR_REPLY),
      startMs: t.created(e),
      lastSeenMs: t.lastSeen(e),
      expiresInMs: this.expiresIn(e),
    };
  }
}

function originName(flags: number): string {
  return flags & F_ROUTED ? "routed" : flags & F_OUTBOUND ? "outbound" : "inbound";
}

export function protocolName(p: number): string {
  return p === PROTO_TCP ? "tcp" : p === PROTO_UDP ? "udp" : p === PROTO_ICMP ? "icmp" : p === PROTO_ICMPV6 ? "icmpv6" : String(p);
}

// lookupRelated's constants (module-local, as above).
/** A quoted TCP header holds the sequence number up to this byte. */
const TCP_SEQ = wire.TCP_SEQ;
const ICMP4_ECHO_REQUEST = wire.ICMP4_ECHO_REQUEST;
const ICMP6_ECHO_REQUEST = wire.ICMP6_ECHO_REQUEST;
/** A quoted ICMP header holds the echo id up to this byte (type, code, checksum, id). */
const QUOTED_ECHO_ID_END = wire.ICMP_ID + 2;
