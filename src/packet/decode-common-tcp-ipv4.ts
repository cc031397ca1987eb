// The fast path for the packet the hot path sees most: TCP over IPv4 without IP options
// or fragmentation, with either no TCP options or the NOP, NOP, timestamp layout every
// established Linux segment carries. It either decodes the packet whole (and returns
// true) or writes nothing and returns false, leaving the packet to the general decoder
// (decode.ts), which handles every other layout and every error.
//
// Why it is faster than the general decoder for the same packet:
// - It reads 16- and 32-bit fields through a DataView (buffer-view.ts) rather than byte
//   by byte, after one length check up front that covers every read (40 bytes, or 52
//   with timestamps, inside both the buffer and the IPv4 total length).
// - It writes each record field at most once, and the fields a packet of this shape
//   always has at the same value (version 4, header length 20, no fragment, no MSS...)
//   only when the previous packet was of another shape (record.commonShape says so):
//   18 stores a packet instead of 33.
// - It calls nothing on the way for a packet from the same array and of the same shape
//   as the previous one (viewOf and the DataView reads are inlined); its two possible
//   calls sit first and last, where no computed value is live across them.
// - It reads the words itself, with layout.ts's named offsets, rather than through
//   tcp4-view.ts's readers as conntrack, segment runs and the flow table's hash do:
//   written with those readers (as module functions, and again as the methods of the
//   one view object, the form that costs conntrack nothing), this decoder measured 58-77
//   ns a packet against 14.5-17 (`npm run bench -- --only packet`), unevenly from run to
//   run; why V8 compiles it so much worse is not known yet.
//   test/packet/decode-fast-path.test.ts holds its fields equal to the view's.

import { viewOf } from "./buffer-view.ts";
import { clearIcmp } from "./decode-icmp.ts";
import * as layout from "./layout.ts";
import * as record from "./record.ts";
import { clearIpv6AddressWords, type PacketRecord } from "./record.ts";

// Module-local copies of the constants this path uses. V8 reads an imported binding
// through its module cell, with a "not yet initialised" check, at every use: three
// instructions and a branch each time. A module-local const holds a number the
// optimizing compiler folds into the code as a literal.
const IPV4_DST = layout.IPV4_DST;
const IPV4_FLAG_MF = layout.IPV4_FLAG_MF;
const IPV4_ID = layout.IPV4_ID;
const IPV4_MIN_HEADER = layout.IPV4_MIN_HEADER;
const IPV4_OFFSET_MASK = layout.IPV4_OFFSET_MASK;
const IPV4_SRC = layout.IPV4_SRC;
const IPV4_TTL = layout.IPV4_TTL;
const TCP_ACK_NUMBER = layout.TCP_ACK_NUMBER;
const TCP_DATA_OFFSET = layout.TCP_DATA_OFFSET;
const TCP_MIN_HEADER = layout.TCP_MIN_HEADER;
const TCP_SEQ = layout.TCP_SEQ;
const PROTO_ICMP = record.PROTO_ICMP;
const PROTO_ICMPV6 = record.PROTO_ICMPV6;
const PROTO_TCP = record.PROTO_TCP;
const PROTO_UDP = record.PROTO_UDP;

/** Version 4, IHL 5: the first byte of an IPv4 header without options. */
const IPV4_NO_OPTIONS = 0x45;
/** IPv4 header + TCP header, both without options. */
const PLAIN_LENGTH = IPV4_MIN_HEADER + TCP_MIN_HEADER;
/** TCP header with NOP, NOP, timestamp (RFC 7323 appendix A). */
const TIMESTAMP_HEADER = TCP_MIN_HEADER + 12;
/** The option bytes NOP, NOP, kind 8, length 10 as one big-endian word. */
const NOP_NOP_TIMESTAMP = 0x0101080a;

/**
 * The TCP header length (20, or 32 with the timestamp layout) when buf[base, base +
 * length), read through `view` (viewOf(buf)), is a packet decodeCommonTcpIpv4 decodes;
 * 0 when it is anything else. For callers that read the few fields they need straight
 * from the bytes (Conntrack.trackTcp4Segment): the same checks as below, written out
 * apart because sharing them cost the decoder 3-5 ns a packet (it re-reads the words it
 * needs for its fields). test/packet/decode-fast-path.test.ts holds the two equal.
 */
export function commonTcpIpv4HeaderLength(buf: Uint8Array, view: DataView<ArrayBufferLike>, base: number, length: number): number {
  if (base >>> 0 !== base || length >>> 0 !== length || length < PLAIN_LENGTH || base + length > buf.length) return 0;
  const versionToLength = view.getUint32(base);
  if (versionToLength >>> 24 !== IPV4_NO_OPTIONS || ((view.getUint32(base + IPV4_TTL) >>> 16) & 0xff) !== PROTO_TCP) return 0;
  if ((view.getUint32(base + IPV4_ID) & (IPV4_FLAG_MF | IPV4_OFFSET_MASK)) !== 0) return 0;
  const totalLength = versionToLength & 0xffff;
  if (totalLength < PLAIN_LENGTH || totalLength > length) return 0;
  const l4 = base + IPV4_MIN_HEADER;
  const tcpHeaderLength = (view.getUint32(l4 + TCP_DATA_OFFSET) >>> 28) * 4;
  if (tcpHeaderLength === TCP_MIN_HEADER) return TCP_MIN_HEADER;
  const hasTimestamp =
    tcpHeaderLength === TIMESTAMP_HEADER &&
    totalLength >= IPV4_MIN_HEADER + TIMESTAMP_HEADER &&
    view.getUint32(l4 + TCP_MIN_HEADER) === NOP_NOP_TIMESTAMP;
  return hasTimestamp ? TIMESTAMP_HEADER : 0;
}

/**
 * Decode buf[base, base + length) into `rec` when it is a well-formed TCP/IPv4 packet of
 * the common shape (see above) and return true; otherwise write nothing and return false.
 */
export function decodeCommonTcpIpv4(buf: Uint8Array, base: number, length: number, rec: PacketRecord): boolean {
  // The view first: viewOf may call out, and values computed before a call stay on the
  // stack (measured: 14.8 -> 14.5 ns a packet).
  const view = viewOf(buf);
  if (view === null) return false;
  // `>>> 0` rejects negative, fractional and huge values in one comparison each.
  if (base >>> 0 !== base || length >>> 0 !== length || length < PLAIN_LENGTH || base + length > buf.length) return false;
  // Whole 32-bit words, split with shifts: fewer bounds-checked reads than one per field.
  const versionToLength = view.getUint32(base); // version, IHL, DSCP/ECN, total length
  const idFragment = view.getUint32(base + IPV4_ID); // identification, flags + fragment offset
  const ttlProtocol = view.getUint32(base + IPV4_TTL); // TTL, protocol, header checksum
  if (versionToLength >>> 24 !== IPV4_NO_OPTIONS || ((ttlProtocol >>> 16) & 0xff) !== PROTO_TCP) return false;
  const flagsFragment = idFragment & 0xffff;
  if ((flagsFragment & (IPV4_FLAG_MF | IPV4_OFFSET_MASK)) !== 0) return false;
  const totalLength = versionToLength & 0xffff;
  if (totalLength < PLAIN_LENGTH || totalLength > length) return false;
  const l4 = base + IPV4_MIN_HEADER;
  const offsetFlagsWindow = view.getUint32(l4 + TCP_DATA_OFFSET); // data offset, flags, window
  const tcpHeaderLength = (offsetFlagsWindow >>> 28) * 4;
  const options = l4 + TCP_MIN_HEADER;
  const hasTimestamp =
    tcpHeaderLength === TIMESTAMP_HEADER &&
    totalLength >= IPV4_MIN_HEADER + TIMESTAMP_HEADER &&
    view.getUint32(options) === NOP_NOP_TIMESTAMP;
  if (tcpHeaderLength !== TCP_MIN_HEADER && !hasTimestamp) return false;

  rec.ipTotalLength = totalLength;
  rec.ttl = ttlProtocol >>> 24;
  rec.ipId = idFragment >>> 16;
  rec.src0 = view.getUint32(base + IPV4_SRC);
  rec.dst0 = view.getUint32(base + IPV4_DST);
  rec.payloadOffset = IPV4_MIN_HEADER + tcpHeaderLength;
  rec.payloadLength = totalLength - IPV4_MIN_HEADER - tcpHeaderLength;
  const ports = view.getUint32(l4);
  rec.srcPort = ports >>> 16;
  rec.dstPort = ports & 0xffff;
  rec.tcpSeq = view.getUint32(l4 + TCP_SEQ);
  rec.tcpAck = view.getUint32(l4 + TCP_ACK_NUMBER);
  rec.tcpHeaderLength = tcpHeaderLength;
  rec.tcpFlags = (offsetFlagsWindow >>> 16) & 0xff;
  rec.tcpWindow = offsetFlagsWindow & 0xffff;
  // The fields every packet of this shape has at the same value are written only when
  // the previous packet was of another shape (see enterCommonShape). Last, so that no
  // value is live across the call: V8 would keep every such value on the stack, also
  // when the call is not made (measured: 15.3 -> 14.8 ns a packet).
  if (rec.commonShape !== true) enterCommonShape(rec);
  return true;
}

/**
 * Write the fields that are the same for every packet of the common shape (version 4,
 * no IP options, not a fragment, TCP without MSS, window scale or SACK...), and clear
 * what a previous packet of another kind (IPv6, UDP, ICMP, none) may have left: only
 * that packet's own protocol group can hold values (decode.ts). Then mark the record,
 * so that a stream of such packets writes 14 fields a packet instead of 25. Out of
 * line: it runs when the shape changes, which in a TCP/IPv4 stream is rare.
 */
function enterCommonShape(rec: PacketRecord): void {
  const protocol = rec.protocol;
  if (protocol !== PROTO_TCP || rec.ipVersion !== 4) {
    clearIpv6AddressWords(rec);
    if (protocol === PROTO_ICMP || protocol === PROTO_ICMPV6) clearIcmp(rec);
  }
  rec.malformed = 0;
  rec.malformedAt = 0;
  rec.ipVersion = 4;
  rec.ipHeaderLength = IPV4_MIN_HEADER;
  rec.protocol = PROTO_TCP;
  rec.moreFragments = false;
  rec.fragmentOffset = 0;
  rec.isFragment = false;
  rec.hasL4 = true;
  rec.l4Offset = IPV4_MIN_HEADER;
  rec.tcpWindowScale = -1;
  rec.commonShape = true;
}
