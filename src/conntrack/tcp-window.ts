// TCP sequence and window tracking, the way Linux conntrack does it (tcp_in_window in
// nf_conntrack_proto_tcp.c, after Guido van Rooij's "Real Stateful TCP Packet Filtering
// in IP Filter"), on the per-direction words of a FlowTable record:
//   td_end    highest sequence number this side has sent, + 1
//   td_maxend highest sequence number this side may send (the peer's ack + its window)
//   td_maxwin the largest window this side has advertised (scaled)
//   td_maxack the highest ACK this side has sent; before its first ACK, the first
//             sequence number after the other side's SYN (see initFromSyn): a lower
//             bound in the same sequence space, so the plain maximum keeps it right
//   td_scale  this side's window-scale shift (RFC 7323), 0 unless both SYNs offered it
//
// THE window check is `windowCheck` below: every path (the general per-packet path, the
// fast paths from a record or from bytes, and segment runs) calls it, and calls
// `windowAdvance` when it passes. A segment from `sender` to `receiver`, covering [seq,
// end) and acknowledging `ack`, must pass all four, checked in Linux's order:
//   I   seq <= sender.td_maxend                               else SEQ_ABOVE_WINDOW
//   III ack <= receiver.td_end                                else ACK_ABOVE_SENT
//   II  end >= sender.td_end - receiver.td_maxwin             else SEQ_BELOW_WINDOW
//       (only once the receiver has spoken: td_maxwin != 0)
//   IV  ack >= receiver.td_end - max(sender.td_maxwin, 66000) else ACK_BELOW_WINDOW
// The sequence number of every segment is checked, empty or not (Linux since 5.x: a
// pure ACK or an RST is not moved to td_end first). A segment without ACK is judged as
// if it acked everything the receiver sent, as is an RST+ACK with ACK number 0 (broken
// stacks), as in Linux; so is data beyond td_maxend by at most one receiver window
// (overshootWithinWindow). Departures from Linux (docs/conntrack.md, "Departures from
// Linux"): II and IV failures are dropped (Linux 6.1+ passes them unchanged,
// NFCT_TCP_IGNORE); SACK blocks are not read (Linux checks III/IV against the highest SACK).
// Sequence numbers wrap: comparisons are on the signed 32-bit difference.

import type { PacketRecord } from "../packet/record.ts";
import * as packet from "../packet/record.ts";
import * as flow from "./flow-record.ts";
import type { FlowTable } from "./flow-table.ts";
import * as tcpStates from "./tcp-states.ts";

// Module-local copies of imported constants (flow-record.ts says why).
const TCP_ACK = packet.TCP_ACK;
const TCP_FIN = packet.TCP_FIN;
const TCP_RST = packet.TCP_RST;
const TCP_SYN = packet.TCP_SYN;
const F_LIBERAL = flow.F_LIBERAL;
const K_TCP = flow.K_TCP;
const K_MAXACK = flow.K_MAXACK;
const K_LAST = flow.K_LAST;
const K_NOTE = flow.K_NOTE;
const LAST_CLASS_SHIFT = flow.LAST_CLASS_SHIFT;
const LAST_DIR = flow.LAST_DIR;
const LAST_IGNORED = flow.LAST_IGNORED;
const LAST_NONE = flow.LAST_NONE;
const LAST_SCALE_OFFERED = flow.LAST_SCALE_OFFERED;
const LAST_SCALE_SHIFT = flow.LAST_SCALE_SHIFT;
const RECORD_WORDS = flow.RECORD_WORDS;
const TD_END = flow.TD_END;
const TD_FIN_SEEN = flow.TD_FIN_SEEN;
const TD_MAXEND = flow.TD_MAXEND;
const TD_MAXWIN = flow.TD_MAXWIN;
const TD_WSCALE = flow.TD_WSCALE;
const CLASS_ACK = tcpStates.CLASS_ACK;
const CLASS_SYN = tcpStates.CLASS_SYN;
/** The K_LAST bits that say which packet it was: direction, class, ignored or not. */
const LAST_WHICH = LAST_DIR | (7 << flow.LAST_CLASS_SHIFT) | flow.LAST_IGNORED;

/** RFC 7323: a shift above 14 is treated as 14. */
const MAX_WINDOW_SCALE = 14;
/** Linux MAXACKWINDOW floor: how far back an ACK may lag when windows are small. */
export const MIN_ACK_WINDOW = 66000;

// What windowCheck (and the RST and SYN-ACK rules) answer: 0, or which check failed.
// They are the sub-reasons of the engine's `tcp-out-of-window` (reasons.ts WINDOW_DETAIL_NAMES).
export const WINDOW_OK = 0;
/** I: the segment starts beyond what the receiver allowed (td_maxend). */
export const SEQ_ABOVE_WINDOW = 1;
/** II: the segment ends more than one receiver window before the sender's td_end. */
export const SEQ_BELOW_WINDOW = 2;
/** III: it acknowledges data the receiver never sent. */
export const ACK_ABOVE_SENT = 3;
/** IV: its ACK lags more than max(sender's window, 66000) behind the receiver's td_end. */
export const ACK_BELOW_WINDOW = 4;
/** An RST whose sequence number lies before the ACK the receiver already sent (Linux "invalid rst"). */
export const RST_BEFORE_ACK = 5;
/** An RST answering a SYN that does not acknowledge it (RFC 9293 3.10.7.3: SYN-SENT accepts an RST only if it acks the SYN). */
export const RST_NOT_ACKING_SYN = 6;
/** A SYN-ACK whose ACK is not in (ISN, td_end] of the SYN it answers. */
export const SYNACK_NOT_ACKING_SYN = 7;
export const WINDOW_DETAIL_COUNT = 8;
/** Not a failure: I failed by at most one receiver window while II-IV hold (tcpInWindow). */
export const WINDOW_OVERSHOOT = -1;

/** a is before b in sequence space. */
export function seqBefore(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** a is after b in sequence space. */
export function seqAfter(a: number, b: number): boolean {
  return ((b - a) | 0) < 0;
}

/** Sequence space the segment occupies: payload, plus one for SYN and one for FIN. */
export function segmentEnd(rec: PacketRecord): number {
  let end = rec.tcpSeq + rec.payloadLength;
  if (rec.tcpFlags & TCP_SYN) end++;
  if (rec.tcpFlags & TCP_FIN) end++;
  return end | 0;
}

/** Index of direction `d`'s td_end (then td_maxend, td_maxwin) in the record at word `r`. */
export function tdAt(r: number, d: number): number {
  return r + K_TCP + 3 * d;
}

/** Index of direction `d`'s td_maxack in the record at word `r`. */
export function maxAckAt(r: number, d: number): number {
  return r + K_MAXACK + d;
}

// windowCheck and windowAdvance address a direction's words as w[s] (td_end), w[s + 1]
// (td_maxend) and w[s + 2] (td_maxwin): literal offsets, because every use of a module
// constant is a context-slot load in the bytecode, and bytecode size is what V8's inlining
// budget counts; with the constants they no longer both fit into the fast path. The
// layout is checked against flow-record.ts when this module loads.
// Stryker disable all: a load-time layout guard. It throws only when a constant in another file changes; its mutants either never throw (equivalent) or stop the module loading, which the vitest runner does not count as a failure.
if (TD_END !== 0 || TD_MAXEND !== 1 || TD_MAXWIN !== 2) throw new Error("tcp-window: the TD_* word offsets changed; update windowCheck and windowAdvance");
// Stryker restore all

/**
 * THE window check (see the top of this file): WINDOW_OK, or the first of the four
 * inequalities that segment [seq, end) acking `ack` fails, the sender's window words at
 * `s` and the receiver's at `o` (tdAt). Reads only; windowAdvance applies a passing
 * segment. Small enough that V8 inlines it and windowAdvance into the fast path.
 */
export function windowCheck(w: Int32Array, s: number, o: number, seq: number, end: number, ack: number): number {
  const receiverEnd = w[o];
  if (((w[s + 1] - seq) | 0) < 0) return 1; // I   seq <= sender.td_maxend, else SEQ_ABOVE_WINDOW
  if (((receiverEnd - ack) | 0) < 0) return 3; // III ack <= receiver.td_end, else ACK_ABOVE_SENT
  const receiverMaxWin = w[o + 2];
  if (receiverMaxWin !== 0 && ((end - w[s] + receiverMaxWin) | 0) < 0) return 2; // II end >= sender.td_end - receiver.td_maxwin, else SEQ_BELOW_WINDOW
  const senderMaxWin = w[s + 2];
  if (((ack - receiverEnd + (senderMaxWin > 66000 ? senderMaxWin : 66000)) | 0) < 0) return 4; // IV ack >= receiver.td_end - max(sender.td_maxwin, MIN_ACK_WINDOW), else ACK_BELOW_WINDOW
  return 0; // WINDOW_OK
}
// Stryker disable all: a load-time layout guard. It throws only when a constant in another file changes; its mutants either never throw (equivalent) or stop the module loading, which the vitest runner does not count as a failure.
if (SEQ_ABOVE_WINDOW !== 1 || SEQ_BELOW_WINDOW !== 2 || ACK_ABOVE_SENT !== 3 || ACK_BELOW_WINDOW !== 4 || WINDOW_OK !== 0 || MIN_ACK_WINDOW !== 66000) {
  throw new Error("tcp-window: windowCheck's literal results changed; update it");
}
// Stryker restore all

/**
 * For a segment whose check I failed: true when it overshoots `td_maxend` by at most
 * the receiver's max window while II, III and IV hold. Linux passes such a segment
 * unchanged but for moving `td_end` ("N bytes more than expected", NFCT_TCP_IGNORE),
 * for stacks that send beyond a window the receiver shrank: should the receiver take
 * and acknowledge that data, an ACK of it must not then fail check III.
 */
export function overshootWithinWindow(w: Int32Array, s: number, o: number, end: number, ack: number): boolean {
  const maxEnd = w[s + TD_MAXEND];
  const receiverMaxWin = w[o + TD_MAXWIN];
  return receiverMaxWin !== 0 && ((end - maxEnd + 1) >>> 0) <= receiverMaxWin >>> 0 && windowCheck(w, s, o, maxEnd, end, ack) === WINDOW_OK;
}

/**
 * Advance the window state for a segment that passed windowCheck (words as there; `m`
 * the sender's td_maxack, maxAckAt): ending at `end`, acking `ack` (when `hasAck`),
 * with scaled window `win`. Linux's "update sender data" / "update receiver data".
 */
export function windowAdvance(w: Int32Array, s: number, o: number, m: number, end: number, ack: number, win: number, hasAck: boolean): void {
  if (w[s + 2] < win) w[s + 2] = win; // td_maxwin
  if (((w[s] - end) | 0) < 0) advanceEnd(w, s, o, end);
  if (hasAck && ((w[m] - ack) | 0) < 0) w[m] = ack;
  const allowed = (ack + (win === 0 ? 1 : win)) | 0; // a zero window still allows one byte (a probe)
  if (((w[o + 1] - allowed) | 0) < 0) w[o + 1] = allowed; // the receiver's td_maxend
}

/**
 * The sender's (td words at `s`) td_end moves on to `end`, which is after it; what it
 * pushed past its td_maxend widens the receiver's (at `o`) max window, as in Linux.
 */
function advanceEnd(w: Int32Array, s: number, o: number, end: number): void {
  const over = (end - w[s + TD_MAXEND]) | 0;
  const receiverMaxWin = w[o + TD_MAXWIN];
  if (receiverMaxWin !== 0 && over > 0) w[o + TD_MAXWIN] = receiverMaxWin + over;
  w[s + TD_END] = end;
}

/**
 * Remember which packet conntrack just passed (Linux last_dir, last_index): its
 * direction and flag class (tcp-states.ts CLASS_*). The RST train rule reads it (an RST
 * right after the sender's own segment, at its td_end), and it ends the note of a packet
 * passed unchanged (noteIgnored), which alone also keeps its end and ACK number (Linux
 * last_end, last_ack): only the rules for those packets read them.
 */
export function noteLast(w: Int32Array, r: number, d: number, cls: number): void {
  w[r + 20] = d | (cls << 1); // K_LAST (a literal offset, for the inlining budget: see windowCheck)
}
// Stryker disable all: a load-time layout guard. It throws only when a constant in another file changes; its mutants either never throw (equivalent) or stop the module loading, which the vitest runner does not count as a failure.
if (K_LAST !== 20 || LAST_CLASS_SHIFT !== 1) throw new Error("tcp-window: the last-packet word moved; update noteLast");
// Stryker restore all

/**
 * The rest of a segment run (packet/segment-run.ts) from direction `d` whose first
 * segment just passed: in-order segments of the same ACK number and window, the last
 * starting at `lastSeq` and ending at `end`. What windowCheck and windowAdvance would do
 * segment by segment: of the four inequalities only I can fail for a later segment of
 * such a run (II holds once the first passed, III and IV test the same ACK), and only
 * the last segment can straddle td_maxend; the window and ACK were applied with the
 * first. Returns false, changing nothing, when the last segment fails I.
 */
export function runRestInWindow(w: Int32Array, r: number, d: number, cls: number, lastSeq: number, end: number): boolean {
  const s = tdAt(r, d);
  if (((w[s + TD_MAXEND] - lastSeq) | 0) < 0) return false; // I
  if (((w[s + TD_END] - end) | 0) < 0) advanceEnd(w, s, tdAt(r, 1 - d), end);
  noteLast(w, r, d, cls);
  return true;
}

/**
 * Start tracking direction `d` of entry `e` from its SYN (or SYN-ACK): the first
 * packet this side sends. Windows in SYNs are never scaled. The other side's td_maxack
 * starts at the first sequence number after this SYN: nothing before it can ever be
 * acknowledged, and a SYN-ACK answering the SYN must acknowledge a number in
 * [that, td_end] (the SYN and any data it carried).
 */
export function initFromSyn(t: FlowTable, e: number, d: number, rec: PacketRecord): void {
  const w = t.tcp;
  const r = e * RECORD_WORDS;
  const s = tdAt(r, d);
  const end = segmentEnd(rec);
  w[s + TD_END] = end;
  w[s + TD_MAXEND] = end;
  w[s + TD_MAXWIN] = rec.tcpWindow === 0 ? 1 : rec.tcpWindow;
  w[r + K_MAXACK + 1 - d] = (rec.tcpSeq + 1) | 0;
  const offered = rec.tcpWindowScale >= 0;
  // A SYN starts the direction over: no FIN seen, no ACK sent yet.
  t.setTd(e, d, offered ? Math.min(rec.tcpWindowScale, MAX_WINDOW_SCALE) : 0, offered ? TD_WSCALE : 0);
  // Scaling is on only when both SYNs offered it; until the answer, the other side is unknown.
  if (w[tdAt(r, 1 - d) + TD_MAXWIN] !== 0 && !(offered && t.tdFlags(e, 1 - d) & TD_WSCALE)) {
    t.setTd(e, d, 0, t.tdFlags(e, d));
    t.setTd(e, 1 - d, 0, t.tdFlags(e, 1 - d));
  }
}

/**
 * Start tracking direction `d` from a mid-stream packet (loose pickup, or the first
 * packet of the other side of a picked-up flow): trust what the packet says.
 */
export function initMidStream(t: FlowTable, e: number, d: number, rec: PacketRecord): void {
  const w = t.tcp;
  const r = e * RECORD_WORDS;
  const s = tdAt(r, d);
  const o = tdAt(r, 1 - d);
  const end = segmentEnd(rec);
  const win = rec.tcpWindow === 0 ? 1 : rec.tcpWindow;
  w[s + TD_END] = end;
  w[s + TD_MAXWIN] = win;
  w[s + TD_MAXEND] = (end + win) | 0;
  if (rec.tcpFlags & TCP_ACK) w[r + K_MAXACK + d] = rec.tcpAck | 0;
  if (w[o + TD_MAXWIN] === 0 && rec.tcpFlags & TCP_ACK) {
    // Nothing seen from the other side yet: let its ack point stand for its end.
    w[o + TD_END] = rec.tcpAck;
    w[o + TD_MAXEND] = rec.tcpAck;
  }
}

/** True when direction `d` of entry `e` has sent nothing yet. */
export function directionUnseen(t: FlowTable, e: number, d: number): boolean {
  return t.tcp[tdAt(e * RECORD_WORDS, d) + TD_MAXWIN] === 0;
}

/** The ACK number and scaled window a segment is judged with (see the top of this file). */
function effectiveAck(t: FlowTable, e: number, d: number, rec: PacketRecord): number {
  const flags = rec.tcpFlags;
  const receiverEnd = t.tcp[tdAt(e * RECORD_WORDS, 1 - d) + TD_END];
  if (!(flags & TCP_ACK)) return receiverEnd;
  if (flags & TCP_RST && rec.tcpAck === 0) return receiverEnd; // broken stacks: RST+ACK with ACK 0
  return rec.tcpAck | 0;
}

/**
 * The general path's window step for a non-RST segment `rec` of class `cls` from
 * direction `d`: check, and apply when it passes. Returns WINDOW_OK; WINDOW_OVERSHOOT
 * (only td_end moved, see overshootWithinWindow); or the failing check (nothing changed).
 */
export function tcpInWindow(t: FlowTable, e: number, d: number, rec: PacketRecord, cls: number): number {
  const w = t.tcp;
  const r = e * RECORD_WORDS;
  const seq = rec.tcpSeq | 0;
  const end = segmentEnd(rec);
  const ack = effectiveAck(t, e, d, rec);
  const snd = tdAt(r, d);
  const rcv = tdAt(r, 1 - d);
  const failed = windowCheck(w, snd, rcv, seq, end, ack);
  if (failed === SEQ_ABOVE_WINDOW && overshootWithinWindow(w, snd, rcv, end, ack)) {
    w[snd + TD_END] = end;
    return WINDOW_OVERSHOOT;
  }
  if (failed !== WINDOW_OK) return failed;
  // The window in a SYN is never scaled (RFC 7323 section 2.2).
  const win = rec.tcpFlags & TCP_SYN ? rec.tcpWindow : rec.tcpWindow * (1 << t.tdScale(e, d));
  windowAdvance(w, snd, rcv, maxAckAt(r, d), end, ack, win, (rec.tcpFlags & TCP_ACK) !== 0);
  if (rec.tcpFlags & TCP_FIN) t.setTd(e, d, t.tdScale(e, d), t.tdFlags(e, d) | TD_FIN_SEEN);
  noteLast(w, r, d, cls);
  return WINDOW_OK;
}

/** True when this packet acknowledges the FIN the other direction sent. */
export function acksPeerFin(t: FlowTable, e: number, d: number, rec: PacketRecord): boolean {
  return (
    (t.tdFlags(e, 1 - d) & TD_FIN_SEEN) !== 0 &&
    (rec.tcpFlags & TCP_ACK) !== 0 &&
    !seqBefore(rec.tcpAck | 0, t.tcp[tdAt(e * RECORD_WORDS, 1 - d) + TD_END])
  );
}

/**
 * A SYN-ACK from direction `d` answering the other direction's SYN must acknowledge a
 * number in (ISN, td_end]: the SYN, and any of the data the SYN carried (TCP Fast Open).
 * Linux checks only III/IV here; an exact range keeps a blind SYN-ACK from initialising
 * the responder's side with made-up numbers.
 */
export function synAckAcksSyn(t: FlowTable, e: number, d: number, rec: PacketRecord): boolean {
  const r = e * RECORD_WORDS;
  const w = t.tcp;
  const ack = rec.tcpAck | 0;
  const firstAfterSyn = w[r + K_MAXACK + d]; // d has sent nothing: its td_maxack is still the SYN's ISN + 1
  return ((ack - firstAfterSyn) | 0) >= 0 && ((w[tdAt(r, 1 - d) + TD_END] - ack) | 0) >= 0;
}

// RST outcomes (rstVerdict).
/** Exact: the flow closes. */
export const RST_EXACT = 0;
/** In the window but not exact: passed, the state kept (the endpoint answers with a challenge ACK). */
export const RST_CHALLENGE = -1;

/**
 * An RST from direction `d` on entry `e`, as Linux judges it (nf_conntrack_tcp_packet's
 * TCP_CONNTRACK_CLOSE case, then tcp_in_window):
 * - the sender never spoke (it refuses the SYN): exact when it acks the SYN (RFC 9293
 *   3.10.7.3), else RST_NOT_ACKING_SYN;
 * - an RST answering a packet passed without a state change just before it (a SYN on a
 *   live flow, acked exactly; or a challenge ACK in SYN_SENT, whose ACK number it
 *   carries as its sequence number): exact, without a window check;
 * - once the receiver has sent an ACK (td_maxack), and unless the last packet was a SYN
 *   (which makes td_maxack stale): before it, RST_BEFORE_ACK (the receiver accepts an
 *   RST only at RCV.NXT, which is at least that ACK); on an `established` flow exact
 *   only at it, or right after the sender's previous segment when nothing came between
 *   (an RST train: data, then RST); on a flow not yet or no longer established, any
 *   such RST is exact (Linux: "!nf_conntrack_tcp_established(ct) || seq == td_maxack");
 * - then the window check: outside, its failure; inside but not exact, RST_CHALLENGE
 *   (the endpoint answers with a challenge ACK, RFC 5961 3.2, and a peer that really
 *   reset answers that with an exact RST).
 * Returns RST_EXACT, RST_CHALLENGE, or a failure code (> 0). Changes nothing.
 */
export function rstVerdict(t: FlowTable, e: number, d: number, rec: PacketRecord, established: boolean): number {
  const w = t.tcp;
  const r = e * RECORD_WORDS;
  if (directionUnseen(t, e, d)) {
    return (rec.tcpFlags & TCP_ACK) !== 0 && synAckAcksSyn(t, e, d, rec) ? RST_EXACT : RST_NOT_ACKING_SYN;
  }
  const last = w[r + K_LAST] & LAST_WHICH;
  const seq = rec.tcpSeq | 0;
  if (last === ((1 - d) | LAST_IGNORED | (CLASS_SYN << LAST_CLASS_SHIFT)) && (rec.tcpFlags & TCP_ACK) !== 0 && (rec.tcpAck | 0) === w[r + K_NOTE]) return RST_EXACT;
  if (d === 0 && last === (1 | LAST_IGNORED | (CLASS_ACK << LAST_CLASS_SHIFT)) && seq === w[r + K_NOTE]) return RST_EXACT;
  let exact = true;
  // td_maxack counts once the receiver has spoken (before, it is only the SYN's bound).
  // The originator always has (its SYN or first packet opened the entry), so that is
  // whether the responder has.
  if (!directionUnseen(t, e, 1) && (last & (7 << LAST_CLASS_SHIFT)) !== CLASS_SYN << LAST_CLASS_SHIFT) {
    const maxAck = w[r + K_MAXACK + 1 - d];
    if (((seq - maxAck) | 0) < 0) return RST_BEFORE_ACK;
    if (established && seq !== maxAck) exact = last === (d | (CLASS_ACK << LAST_CLASS_SHIFT)) && seq === w[tdAt(r, d) + TD_END];
  }
  const ack = effectiveAck(t, e, d, rec);
  const snd = tdAt(r, d);
  const rcv = tdAt(r, 1 - d);
  const failed = windowCheck(w, snd, rcv, seq, seq, ack);
  // Overshooting by less than a window: passed unchanged, as Linux does.
  if (failed === SEQ_ABOVE_WINDOW && overshootWithinWindow(w, snd, rcv, seq, ack)) return RST_CHALLENGE;
  if (failed !== WINDOW_OK) return failed;
  return exact ? RST_EXACT : RST_CHALLENGE;
}

/**
 * Note a packet passed without a state change (Linux TCP_CONNTRACK_IGNORE): a SYN from
 * the originator on a live connection, or an ACK from the responder in SYN_SENT (a
 * challenge ACK). Linux keeps the same last_* fields; the note is good for the very next
 * packet of the flow only (any packet conntrack passes overwrites it), and the engine
 * bounds it in time too (Conntrack.updateTcp).
 */
export function noteIgnored(t: FlowTable, e: number, d: number, rec: PacketRecord, cls: number): void {
  const w = t.tcp;
  const r = e * RECORD_WORDS;
  const offered = rec.tcpWindowScale >= 0;
  const scale = offered ? Math.min(rec.tcpWindowScale, MAX_WINDOW_SCALE) : 0;
  w[r + K_LAST] = d | (cls << LAST_CLASS_SHIFT) | LAST_IGNORED | (offered ? LAST_SCALE_OFFERED : 0) | (scale << LAST_SCALE_SHIFT);
  // Linux last_end for a SYN, last_ack for an ACK: the only one its rules read (K_NOTE).
  w[r + K_NOTE] = cls === CLASS_SYN ? segmentEnd(rec) : rec.tcpAck | 0;
}

/** Forget the last-packet note (a new entry, a restart). */
export function clearLast(t: FlowTable, e: number): void {
  t.tcp[e * RECORD_WORDS + K_LAST] = LAST_NONE;
}

/**
 * True when `synAck` (from the responder, direction 1) acknowledges the SYN ignored
 * just before it: the note is the flow's last packet, an ignored SYN from the
 * originator, and the SYN-ACK acks its end (Linux: last_index == TCP_SYN_SET, last_dir
 * != dir, ack == last_end).
 */
export function acksIgnoredSyn(t: FlowTable, e: number, synAck: PacketRecord): boolean {
  const w = t.tcp;
  const r = e * RECORD_WORDS;
  const last = w[r + K_LAST];
  return (last & LAST_WHICH) === (LAST_IGNORED | (CLASS_SYN << LAST_CLASS_SHIFT)) && (synAck.tcpAck | 0) === w[r + K_NOTE];
}

/**
 * Both ends agree on a new connection the filter missed: the responder answered the
 * ignored SYN with `synAck`. Start entry `e` over as if it had seen that SYN (Linux
 * does the same from its last_* notes): the originator's side from the note, the
 * responder's unseen, so the SYN-ACK then initialises it as in any handshake.
 */
export function restartFromIgnoredSyn(t: FlowTable, e: number, synAck: PacketRecord): void {
  const w = t.tcp;
  const r = e * RECORD_WORDS;
  const o = tdAt(r, 0);
  const p = tdAt(r, 1);
  const note = w[r + K_LAST];
  const end = w[r + K_NOTE];
  w[o + TD_END] = end;
  w[o + TD_MAXEND] = end;
  w[o + TD_MAXWIN] = 1; // unknown (not kept): non-zero marks the side as seen
  w[r + K_MAXACK] = 0; // set from the SYN-ACK (initFromSyn)
  w[r + K_MAXACK + 1] = end; // the responder acknowledges nothing before the noted SYN's end
  w[p + TD_END] = 0;
  w[p + TD_MAXEND] = 0;
  w[p + TD_MAXWIN] = 0;
  t.setTd(e, 0, (note >>> LAST_SCALE_SHIFT) & 0x0f, note & LAST_SCALE_OFFERED ? TD_WSCALE : 0);
  t.setTd(e, 1, 0, 0);
  t.removeFlags(e, F_LIBERAL);
  clearLast(t, e);
}

/**
 * True when a TCP sequence number quoted in an ICMP error, from a packet direction `d`
 * sent, lies in that direction's window: not beyond what the receiver allowed, and not
 * older than one window back (pf's check; the 66000 floor as for ACKs, so that an error
 * about a SYN or about data sent a little while ago still relates). A side that never
 * sent anything cannot be quoted.
 */
export function quotedSeqInWindow(t: FlowTable, e: number, d: number, seq: number): boolean {
  if (directionUnseen(t, e, d)) return false;
  const w = t.tcp;
  const r = e * RECORD_WORDS;
  const s = tdAt(r, d);
  const receiverMaxWin = w[tdAt(r, 1 - d) + TD_MAXWIN];
  const back = receiverMaxWin > MIN_ACK_WINDOW ? receiverMaxWin : MIN_ACK_WINDOW;
  return !seqAfter(seq, w[s + TD_MAXEND]) && !seqBefore(seq, (w[s + TD_END] - back) | 0);
}
