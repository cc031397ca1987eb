// TCP header and options (RFC 9293, RFC 7323 window scale and timestamps, RFC 2018 SACK).

import { transportChecksum } from "./checksum.ts";
import * as layout from "./layout.ts";
import { markMalformed } from "./malformed.ts";
import * as record from "./record.ts";
import type { PacketRecord } from "./record.ts";

// Module-local copies of imported constants: V8 folds these into the optimized code as
// literals, whereas it re-reads an imported binding (with a TDZ check) at every use.
const MALFORMED_BAD_CHECKSUM = record.MALFORMED_BAD_CHECKSUM;
const MALFORMED_BAD_OPTIONS = record.MALFORMED_BAD_OPTIONS;
const MALFORMED_BAD_TCP_OFFSET = record.MALFORMED_BAD_TCP_OFFSET;
const MALFORMED_TRUNCATED = record.MALFORMED_TRUNCATED;
const MAX_SACK_BLOCKS = record.MAX_SACK_BLOCKS;
const PROTO_TCP = record.PROTO_TCP;
const TCPOPT_END = layout.TCPOPT_END;
const TCPOPT_MSS = layout.TCPOPT_MSS;
const TCPOPT_NOP = layout.TCPOPT_NOP;
const TCPOPT_SACK = layout.TCPOPT_SACK;
const TCPOPT_SACK_PERMITTED = layout.TCPOPT_SACK_PERMITTED;
const TCPOPT_TIMESTAMP = layout.TCPOPT_TIMESTAMP;
const TCPOPT_TIMESTAMP_LENGTH = layout.TCPOPT_TIMESTAMP_LENGTH;
const TCPOPT_WINDOW_SCALE = layout.TCPOPT_WINDOW_SCALE;
const TCP_ACK_NUMBER = layout.TCP_ACK_NUMBER;
const TCP_CHECKSUM = layout.TCP_CHECKSUM;
const TCP_DATA_OFFSET = layout.TCP_DATA_OFFSET;
const TCP_FLAGS = layout.TCP_FLAGS;
const TCP_MIN_HEADER = layout.TCP_MIN_HEADER;
const TCP_SEQ = layout.TCP_SEQ;
const TCP_WINDOW = layout.TCP_WINDOW;

/** NOP, NOP, timestamp: 12 option bytes. */
const TIMESTAMP_LAYOUT_LENGTH = 12;

/** Set every TCP field to its "absent" value. */
export function clearTcp(rec: PacketRecord): void {
  rec.tcpSeq = 0;
  rec.tcpAck = 0;
  rec.tcpHeaderLength = 0;
  rec.tcpFlags = 0;
  rec.tcpWindow = 0;
  rec.tcpWindowScale = -1;
}

/** A segment whose header cannot be read: clear what the decoder wrote and say why. Rare, so kept out of line. */
function rejectSegment(rec: PacketRecord, reason: number, at: number): void {
  clearTcp(rec);
  rec.srcPort = 0;
  rec.dstPort = 0;
  rec.payloadOffset = 0;
  rec.payloadLength = 0;
  markMalformed(rec, reason, at);
}

/**
 * Decode the TCP segment buf[l4, end) of the packet starting at `base`. Writes every TCP
 * field (so none is left from an earlier packet) and the common L4 fields. Rare work
 * lives in helpers to keep this function under V8's inlining limit (460 bytecode bytes),
 * so it compiles into the IP decoder with no call on the hot path.
 */
export function decodeTcp(buf: Uint8Array, base: number, l4: number, end: number, rec: PacketRecord, verify: boolean): void {
  const segmentLength = end - l4;
  if (segmentLength < TCP_MIN_HEADER) {
    rejectSegment(rec, MALFORMED_TRUNCATED, l4 - base);
    return;
  }
  // Words are assembled from bytes right here, never through a helper: a uint32 above
  // 2^31 returned from a call that is not inlined gets boxed, i.e. allocated (decode.ts).
  const seq = l4 + TCP_SEQ;
  const ack = l4 + TCP_ACK_NUMBER;
  rec.srcPort = (buf[l4] << 8) | buf[l4 + 1];
  rec.dstPort = (buf[l4 + 2] << 8) | buf[l4 + 3];
  rec.tcpSeq = ((buf[seq] << 24) | (buf[seq + 1] << 16) | (buf[seq + 2] << 8) | buf[seq + 3]) >>> 0;
  rec.tcpAck = ((buf[ack] << 24) | (buf[ack + 1] << 16) | (buf[ack + 2] << 8) | buf[ack + 3]) >>> 0;
  const headerLength = (buf[l4 + TCP_DATA_OFFSET] >> 4) * 4;
  rec.tcpHeaderLength = headerLength;
  rec.tcpFlags = buf[l4 + TCP_FLAGS];
  rec.tcpWindow = (buf[l4 + TCP_WINDOW] << 8) | buf[l4 + TCP_WINDOW + 1];
  rec.tcpWindowScale = -1;
  if (headerLength < TCP_MIN_HEADER || headerLength > segmentLength) {
    rejectSegment(rec, MALFORMED_BAD_TCP_OFFSET, l4 + TCP_DATA_OFFSET - base);
    return;
  }
  rec.payloadOffset = l4 + headerLength - base;
  rec.payloadLength = segmentLength - headerLength;
  if (headerLength !== TCP_MIN_HEADER && !decodeTcpOptions(buf, base, l4 + TCP_MIN_HEADER, l4 + headerLength, rec)) return;
  rec.hasL4 = !verify || checksumOk(buf, base, l4, segmentLength, rec);
}

/** Verify the checksum (fragments excepted: theirs covers the reassembled segment); false and malformed when wrong. */
function checksumOk(buf: Uint8Array, base: number, l4: number, segmentLength: number, rec: PacketRecord): boolean {
  if (rec.isFragment || transportChecksum(buf, base, l4, segmentLength, PROTO_TCP) === 0) return true;
  markMalformed(rec, MALFORMED_BAD_CHECKSUM, l4 + TCP_CHECKSUM - base);
  return false;
}

/**
 * Check the options in buf[at, end) and read the one conntrack uses, the window scale
 * (already cleared). The others (MSS, SACK, timestamps) are checked for their length
 * and skipped: no stage reads them (docs/packet.md, "What the record holds").
 * Returns false, with rec marked malformed, when an option is bad. Kept out of decodeTcp
 * so that decodeTcp stays small enough for V8 to inline it into the IP decoder.
 */
function decodeTcpOptions(buf: Uint8Array, base: number, at: number, end: number, rec: PacketRecord): boolean {
  if (
    end - at === TIMESTAMP_LAYOUT_LENGTH &&
    buf[at] === TCPOPT_NOP &&
    buf[at + 1] === TCPOPT_NOP &&
    buf[at + 2] === TCPOPT_TIMESTAMP &&
    buf[at + 3] === TCPOPT_TIMESTAMP_LENGTH
  ) {
    // Fast path: the layout Linux and most stacks send on every established segment (RFC 7323 appendix A).
    return true;
  }
  const badAt = findBadTcpOption(buf, at, end, rec);
  if (badAt < 0) return true;
  markMalformed(rec, MALFORMED_BAD_OPTIONS, badAt - base);
  return false;
}

/** Check each option, reading the window scale into rec; -1 when all are sound, else the index of the bad one. */
function findBadTcpOption(buf: Uint8Array, at: number, end: number, rec: PacketRecord): number {
  while (at < end) {
    const kind = buf[at];
    if (kind === TCPOPT_END) return -1;
    if (kind === TCPOPT_NOP) {
      at++;
      continue;
    }
    if (at + 1 >= end) return at;
    const length = buf[at + 1];
    if (length < 2 || at + length > end) return at;
    switch (kind) {
      case TCPOPT_MSS:
        if (length !== 4) return at;
        break;
      case TCPOPT_WINDOW_SCALE:
        if (length !== 3) return at;
        rec.tcpWindowScale = buf[at + 2];
        break;
      case TCPOPT_SACK_PERMITTED:
        if (length !== 2) return at;
        break;
      case TCPOPT_TIMESTAMP:
        if (length !== TCPOPT_TIMESTAMP_LENGTH) return at;
        break;
      case TCPOPT_SACK: {
        const blocks = (length - 2) / 8;
        if (blocks < 1 || blocks > MAX_SACK_BLOCKS || (length - 2) % 8 !== 0) return at;
        break;
      }
      default:
        break; // unknown options are skipped by their length, as RFC 9293 asks
    }
    at += length;
  }
  return -1;
}
