// THE view of a TCP/IPv4 header for the readers that take fields straight from the
// bytes: the decoder's fast path (decode-common-tcp-ipv4.ts), segment runs
// (segment-run.ts), conntrack's segment path (Conntrack.trackTcp4Segment) and the flow
// table's prefetch hash (FlowTable.homeSlot4). Offsets are layout.ts's named constants;
// each field is read by one small function here, in the manner of smoltcp's `field`
// module, so a fast path specialises by calling these, never by re-deriving an offset.
// `base` is the IPv4 header's first byte, `l4` the TCP header's (base + IHL * 4).
//
// DataView reads take a `view` over the whole array (buffer-view.ts viewOf), so the
// fast paths read 16/32-bit words in one load; byte reads take the array itself, for the
// flow table's hash, which runs before any view is made. Addresses, sequence and ACK
// numbers are returned as int32 (`getInt32`): sequence arithmetic is modulo 2^32 either
// way, and an int32 passed to a call V8 does not inline is never boxed.
//
// Every function here is a single read (V8 inlines them into their callers; measured
// with `npm run bench`, see bench/RESULTS.md).

import * as layout from "./layout.ts";

// Module-local copies (a module-local const is folded into the caller as a literal).
const IPV4_TOTAL_LENGTH = layout.IPV4_TOTAL_LENGTH;
const IPV4_ID = layout.IPV4_ID;
const IPV4_TTL = layout.IPV4_TTL;
const IPV4_PROTOCOL = layout.IPV4_PROTOCOL;
const IPV4_SRC = layout.IPV4_SRC;
const IPV4_DST = layout.IPV4_DST;
const TCP_SEQ = layout.TCP_SEQ;
const TCP_ACK_NUMBER = layout.TCP_ACK_NUMBER;
const TCP_DATA_OFFSET = layout.TCP_DATA_OFFSET;
const TCP_MIN_HEADER = layout.TCP_MIN_HEADER;

/** IPv4 byte 0 (version and IHL) through the total length, as one word. */
export function ipv4VersionToLength(view: DataView<ArrayBufferLike>, base: number): number {
  return view.getUint32(base);
}

/** IPv4 total length. */
export function ipv4TotalLength(view: DataView<ArrayBufferLike>, base: number): number {
  return view.getUint16(base + IPV4_TOTAL_LENGTH);
}

/** IPv4 identification << 16 | flags and fragment offset, as one word. */
export function ipv4IdFragment(view: DataView<ArrayBufferLike>, base: number): number {
  return view.getUint32(base + IPV4_ID);
}

/** IPv4 TTL << 24 | protocol << 16 | header checksum, as one word. */
export function ipv4TtlProtocol(view: DataView<ArrayBufferLike>, base: number): number {
  return view.getUint32(base + IPV4_TTL);
}

/** IPv4 protocol. */
export function ipv4Protocol(view: DataView<ArrayBufferLike>, base: number): number {
  return view.getUint8(base + IPV4_PROTOCOL);
}

/** IPv4 source address (int32). */
export function ipv4Src(view: DataView<ArrayBufferLike>, base: number): number {
  return view.getInt32(base + IPV4_SRC);
}

/** IPv4 destination address (int32). */
export function ipv4Dst(view: DataView<ArrayBufferLike>, base: number): number {
  return view.getInt32(base + IPV4_DST);
}

/** TCP (or UDP) source port << 16 | destination port (the first header word). */
export function l4Ports(view: DataView<ArrayBufferLike>, l4: number): number {
  return view.getUint32(l4);
}

/** TCP sequence number (int32). */
export function tcpSeq(view: DataView<ArrayBufferLike>, l4: number): number {
  return view.getInt32(l4 + TCP_SEQ);
}

/** TCP acknowledgment number (int32). */
export function tcpAck(view: DataView<ArrayBufferLike>, l4: number): number {
  return view.getInt32(l4 + TCP_ACK_NUMBER);
}

/** TCP data offset, reserved bits and flags, window: one word (split it with the three below). */
export function tcpOffsetFlagsWindow(view: DataView<ArrayBufferLike>, l4: number): number {
  return view.getUint32(l4 + TCP_DATA_OFFSET);
}

/** The first word of the TCP options. */
export function tcpFirstOptionWord(view: DataView<ArrayBufferLike>, l4: number): number {
  return view.getUint32(l4 + TCP_MIN_HEADER);
}

/** TSval of a timestamp option in the NOP, NOP, timestamp layout (tcpFirstOptionWord says so). */
export function tcpLayoutTsVal(view: DataView<ArrayBufferLike>, l4: number): number {
  return view.getUint32(l4 + TCP_MIN_HEADER + 4);
}

/** TSecr of a timestamp option in the NOP, NOP, timestamp layout. */
export function tcpLayoutTsEcr(view: DataView<ArrayBufferLike>, l4: number): number {
  return view.getUint32(l4 + TCP_MIN_HEADER + 8);
}

/** TCP header length in bytes, from tcpOffsetFlagsWindow's word. */
export function headerLengthOf(offsetFlagsWindow: number): number {
  return (offsetFlagsWindow >>> 28) * 4;
}

/** TCP flags byte, from tcpOffsetFlagsWindow's word. */
export function flagsOf(offsetFlagsWindow: number): number {
  return (offsetFlagsWindow >>> 16) & 0xff;
}

/** TCP window (unscaled), from tcpOffsetFlagsWindow's word. */
export function windowOf(offsetFlagsWindow: number): number {
  return offsetFlagsWindow & 0xffff;
}

// Byte reads, for a hash that runs before a view is made (FlowTable.homeSlot4).

/** IP version nibble. */
export function ipVersionByte(buf: Uint8Array, base: number): number {
  return buf[base] >> 4;
}

/** IPv4 header length in bytes. */
export function ipv4HeaderLengthByte(buf: Uint8Array, base: number): number {
  return (buf[base] & 0x0f) * 4;
}

/** IPv4 protocol. */
export function ipv4ProtocolByte(buf: Uint8Array, base: number): number {
  return buf[base + IPV4_PROTOCOL];
}

/** IPv4 source address (uint32). */
export function ipv4SrcBytes(buf: Uint8Array, base: number): number {
  return readUint32(buf, base + IPV4_SRC);
}

/** IPv4 destination address (uint32). */
export function ipv4DstBytes(buf: Uint8Array, base: number): number {
  return readUint32(buf, base + IPV4_DST);
}

/** Source port of a TCP/UDP header. */
export function srcPortBytes(buf: Uint8Array, l4: number): number {
  return (buf[l4] << 8) | buf[l4 + 1];
}

/** Destination port of a TCP/UDP header. */
export function dstPortBytes(buf: Uint8Array, l4: number): number {
  return (buf[l4 + 2] << 8) | buf[l4 + 3];
}

function readUint32(buf: Uint8Array, at: number): number {
  return ((buf[at] << 24) | (buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3]) >>> 0;
}
