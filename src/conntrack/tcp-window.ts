// TCP sequence and window tracking, the way Linux conntrack does it (tcp_in_window,
// after Guido van Rooij's "Real Stateful TCP Packet Filtering in IP Filter"), on the
// per-direction fields of a FlowTable entry:
//   td_end    highest sequence number this side has sent, + 1
//   td_maxend highest sequence number this side may send (the peer's ack + its window)
//   td_maxwin the largest window this side has advertised (scaled)
//   td_scale  this side's window-scale shift (RFC 7323), 0 unless both SYNs offered it
// A segment from `sender` to `receiver`, covering [seq, end) and acknowledging `ack`,
// must pass all four:
//   I   seq <= sender.td_maxend                         (not beyond what the receiver allowed)
//   II  end >= sender.td_end - receiver.td_maxwin        (not older than one window back)
//   III ack <= receiver.td_end                           (does not ack data never sent)
//   IV  ack >= receiver.td_end - max(sender.td_maxwin, 66000)  (ack not absurdly old)
// Sequence numbers wrap: comparisons are on the signed 32-bit difference.

import type { PacketRecord } from "../packet/record.ts";
import * as packet from "../packet/record.ts";
import * as flow from "./flow-record.ts";
import type { FlowTable } from "./flow-table.ts";

// Module-local copies of imported constants (flow-record.ts says why).
const TCP_ACK = packet.TCP_ACK;
const TCP_FIN = packet.TCP_FIN;
const TCP_SYN = packet.TCP_SYN;
const F_LIBERAL = flow.F_LIBERAL;
const F_SYN_IGNORED = flow.F_SYN_IGNORED;
const TD_END = flow.TD_END;
const TD_FIN_SEEN = flow.TD_FIN_SEEN;
const TD_MAXEND = flow.TD_MAXEND;
const TD_MAXWIN = flow.TD_MAXWIN;
const TD_WSCALE = flow.TD_WSCALE;

/** RFC 7323: a shift above 14 is treated as 14. */
const MAX_WINDOW_SCALE = 14;
/** Linux MAXACKWINDOW floor: how far back an ACK may lag when windows are small. */
export const MIN_ACK_WINDOW = 66000;

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

/**
 * Start tracking direction `d` of entry `e` from its SYN (or SYN-ACK): the first
 * packet this side sends. Windows in SYNs are never scaled.
 */
export function initFromSyn(t: FlowTable, e: number, d: number, rec: PacketRecord): void {
  const s = t.tcpBase(e, d);
  const r = t.tcpBase(e, 1 - d);
  const tcp = t.tcp;
  const end = segmentEnd(rec);
  tcp[s + TD_END] = end;
  tcp[s + TD_MAXEND] = end;
  tcp[s + TD_MAXWIN] = rec.tcpWindow === 0 ? 1 : rec.tcpWindow;
  const offered = rec.tcpWindowScale >= 0;
  t.setTd(e, d, offered ? Math.min(rec.tcpWindowScale, MAX_WINDOW_SCALE) : 0, offered ? TD_WSCALE : 0);
  // Scaling is on only when both SYNs offered it; until the answer, the other side is unknown.
  if (tcp[r + TD_MAXWIN] !== 0 && !(offered && t.tdFlags(e, 1 - d) & TD_WSCALE)) {
    t.setTd(e, d, 0, t.tdFlags(e, d));
    t.setTd(e, 1 - d, 0, t.tdFlags(e, 1 - d));
  }
}

/**
 * Start tracking direction `d` from a mid-stream packet (loose pickup, or the first
 * packet of the other side of a picked-up flow): trust what the packet says.
 */
export function initMidStream(t: FlowTable, e: number, d: number, rec: PacketRecord): void {
  const s = t.tcpBase(e, d);
  const r = t.tcpBase(e, 1 - d);
  const tcp = t.tcp;
  const end = segmentEnd(rec);
  const win = rec.tcpWindow === 0 ? 1 : rec.tcpWindow;
  tcp[s + TD_END] = end;
  tcp[s + TD_MAXWIN] = win;
  tcp[s + TD_MAXEND] = (end + win) | 0;
  if (tcp[r + TD_MAXWIN] === 0 && rec.tcpFlags & TCP_ACK) {
    // Nothing seen from the other side yet: let its ack point stand for its end.
    tcp[r + TD_END] = rec.tcpAck;
    tcp[r + TD_MAXEND] = rec.tcpAck;
  }
}

/**
 * Check a segment from direction `d` against the four inequalities and, when it
 * passes, advance the window state. Returns false (and changes nothing) when the
 * segment is out of window. `checkOnly` tests without updating (used for RSTs).
 */
export function tcpInWindow(t: FlowTable, e: number, d: number, rec: PacketRecord, checkOnly: boolean): boolean {
  const s = t.tcpBase(e, d);
  const r = t.tcpBase(e, 1 - d);
  const tcp = t.tcp;
  const flags = rec.tcpFlags;
  const senderEnd = tcp[s + TD_END];
  const senderMaxEnd = tcp[s + TD_MAXEND];
  const senderMaxWin = tcp[s + TD_MAXWIN];
  const receiverEnd = tcp[r + TD_END];
  const receiverMaxWin = tcp[r + TD_MAXWIN];
  let seq = rec.tcpSeq | 0;
  let end = segmentEnd(rec);
  // A segment without ACK is judged as if it acked everything the receiver sent.
  const ack = flags & TCP_ACK ? rec.tcpAck | 0 : receiverEnd;
  // The window in a SYN is never scaled (RFC 7323 section 2.2).
  const win = flags & TCP_SYN ? rec.tcpWindow : rec.tcpWindow * (1 << t.tdScale(e, d));
  // An empty segment (pure ACK) sits at the sender's current end.
  if (seq === end) seq = end = senderEnd;

  const maxAckWindow = senderMaxWin > MIN_ACK_WINDOW ? senderMaxWin : MIN_ACK_WINDOW;
  const inWindow =
    !seqAfter(seq, senderMaxEnd) && // I
    !seqBefore(end, (senderEnd - receiverMaxWin) | 0) && // II
    !seqAfter(ack, receiverEnd) && // III
    !seqBefore(ack, (receiverEnd - maxAckWindow) | 0); // IV
  if (!inWindow || checkOnly) return inWindow;

  if (senderMaxWin < win) tcp[s + TD_MAXWIN] = win;
  advanceEnd(tcp, s, r, end);
  const allowed = (ack + win + (win === 0 ? 1 : 0)) | 0;
  if (seqAfter(allowed, tcp[r + TD_MAXEND])) tcp[r + TD_MAXEND] = allowed;
  if (flags & TCP_FIN) t.setTd(e, d, t.tdScale(e, d), t.tdFlags(e, d) | TD_FIN_SEEN);
  return true;
}

/**
 * The rest of a segment run (packet/segment-run.ts) from direction `d` whose first
 * segment just passed: in-order segments of the same ACK number and window, the last
 * starting at `lastSeq` and ending before `end`. Checks and updates exactly what
 * tcpInWindow would segment by segment: of the four inequalities only I can fail for a
 * later segment of such a run (II holds once the first passed, III and IV test the same
 * ACK), and only the last segment can straddle td_maxend. Returns false, changing
 * nothing, when the last segment fails I.
 */
export function tcpRunRestInWindow(t: FlowTable, e: number, d: number, lastSeq: number, end: number): boolean {
  const s = t.tcpBase(e, d);
  const tcp = t.tcp;
  if (seqAfter(lastSeq, tcp[s + TD_MAXEND])) return false; // I
  advanceEnd(tcp, s, t.tcpBase(e, 1 - d), end);
  return true;
}

/**
 * Direction `s`'s td_end moves to `end` when that is further on; what the sender pushed
 * past its td_maxend widens the receiver's (`r`) max window, as in Linux.
 */
function advanceEnd(tcp: Int32Array, s: number, r: number, end: number): void {
  if (!seqAfter(end, tcp[s + TD_END])) return;
  const senderMaxEnd = tcp[s + TD_MAXEND];
  const receiverMaxWin = tcp[r + TD_MAXWIN];
  if (receiverMaxWin !== 0 && seqAfter(end, senderMaxEnd)) tcp[r + TD_MAXWIN] = receiverMaxWin + ((end - senderMaxEnd) | 0);
  tcp[s + TD_END] = end;
}

/** True when this packet acknowledges the FIN the other direction sent. */
export function acksPeerFin(t: FlowTable, e: number, d: number, rec: PacketRecord): boolean {
  return (
    (t.tdFlags(e, 1 - d) & TD_FIN_SEEN) !== 0 &&
    (rec.tcpFlags & TCP_ACK) !== 0 &&
    !seqBefore(rec.tcpAck | 0, t.tcp[t.tcpBase(e, 1 - d) + TD_END])
  );
}

/** The exact sequence number an RST from direction `d` must carry (RFC 5961 section 3.2): the sender's next. */
export function expectedRstSeq(t: FlowTable, e: number, d: number): number {
  return t.tcp[t.tcpBase(e, d) + TD_END];
}

/** True when direction `d` of entry `e` has sent nothing yet. */
export function directionUnseen(t: FlowTable, e: number, d: number): boolean {
  return t.tcp[t.tcpBase(e, d) + TD_MAXWIN] === 0;
}

/** td_end of direction `d`: the next sequence number it will send. */
export function directionEnd(t: FlowTable, e: number, d: number): number {
  return t.tcp[t.tcpBase(e, d) + TD_END];
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
  const tcp = t.tcp;
  const s = t.tcpBase(e, d);
  const receiverMaxWin = tcp[t.tcpBase(e, 1 - d) + TD_MAXWIN];
  const back = receiverMaxWin > MIN_ACK_WINDOW ? receiverMaxWin : MIN_ACK_WINDOW;
  return !seqAfter(seq, tcp[s + TD_MAXEND]) && !seqBefore(seq, (tcp[s + TD_END] - back) | 0);
}

// An ignored SYN (a SYN from the originator on a live connection, T_IGNORE) is noted in
// one word, as Linux keeps last_end/last_wscale: the low 27 bits of the sequence number
// after it (ISN + 1) above its window-scale option (bit 4: offered, bits 0-3: shift). The
// window itself is not kept (no room in the record): the originator's first ACK after a
// restart sets it.
const NOTE_SCALE_BITS = 5;
const NOTE_OFFERED = 0x10;

/** Remember the SYN `rec` that was passed without a state change on entry `e`. */
export function noteIgnoredSyn(t: FlowTable, e: number, rec: PacketRecord): void {
  const offered = rec.tcpWindowScale >= 0;
  const scale = offered ? Math.min(rec.tcpWindowScale, MAX_WINDOW_SCALE) : 0;
  t.setIgnoredSyn(e, (segmentEnd(rec) << NOTE_SCALE_BITS) | (offered ? NOTE_OFFERED : 0) | scale);
  t.addFlags(e, F_SYN_IGNORED);
}

/** True when `rec` (a SYN-ACK from the responder) acknowledges the ignored SYN of entry `e`. */
export function acksIgnoredSyn(t: FlowTable, e: number, rec: PacketRecord): boolean {
  return (t.flags(e) & F_SYN_IGNORED) !== 0 && ((rec.tcpAck << NOTE_SCALE_BITS) ^ t.ignoredSyn(e)) >>> NOTE_SCALE_BITS === 0;
}

/**
 * Both ends agree on a new connection the filter missed: the responder answered the
 * ignored SYN with `synAck`. Start entry `e` over as if it had seen that SYN (Linux
 * does the same from its last_* notes): the originator's side from the note, the
 * responder's unseen, so the SYN-ACK then initialises it as in any handshake.
 */
export function restartFromIgnoredSyn(t: FlowTable, e: number, synAck: PacketRecord): void {
  const tcp = t.tcp;
  const o = t.tcpBase(e, 0);
  const r = t.tcpBase(e, 1);
  const note = t.ignoredSyn(e);
  tcp[o + TD_END] = synAck.tcpAck;
  tcp[o + TD_MAXEND] = synAck.tcpAck;
  tcp[o + TD_MAXWIN] = 1; // unknown (not kept): non-zero marks the side as seen
  tcp[r + TD_END] = 0;
  tcp[r + TD_MAXEND] = 0;
  tcp[r + TD_MAXWIN] = 0;
  t.setTd(e, 0, note & 0x0f, note & NOTE_OFFERED ? TD_WSCALE : 0);
  t.setTd(e, 1, 0, 0);
  t.removeFlags(e, F_SYN_IGNORED | F_LIBERAL);
}
