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
// Every function here is a single read, which V8 inlines into its callers.

import * as layout from "./layout.ts";

// The offsets are written as literals in the functions below, each function named for
// its field: a module constant, even a module-local one, is a context-slot load with a
// hole check wherever the function is inlined, and on the fast paths that measured ~5 ns
// a packet in conntrack and several times the decode in the decoder. They are checked
// against layout.ts, where every offset has its name, when this module loads.
if (
  layout.IPV4_TOTAL_LENGTH !== 2 ||
  layout.IPV4_ID !== 4 ||
  layout.IPV4_TTL !== 8 ||
  layout.IPV4_PROTOCOL !== 9 ||
  layout.IPV4_SRC !== 12 ||
  layout.IPV4_DST !== 16 ||
  layout.TCP_SEQ !== 4 ||
  layout.TCP_ACK_NUMBER !== 8 ||
  layout.TCP_DATA_OFFSET !== 12 ||
  layout.TCP_MIN_HEADER !== 20
) {
  throw new Error("tcp4-view: an offset in layout.ts changed; update the reads here");
}

/** IPv4 byte 0 (version and IHL) through the total length, as one word. */
export function ipv4VersionToLength(view: DataView<ArrayBufferLike>, base: number): number {
  return view.getUint32(base);
}

/** IPv4 total length. */
export function ipv4TotalLength(view: DataView<ArrayBufferLike>, base: number): number {
  return view.getUint16(base + 2);
}

/** IPv4 identification << 16 | flags and fragment offset, as one word. */
export function ipv4IdFragment(view: DataView<ArrayBufferLike>, base: number): number {
  return view.getUint32(base + 4);
}

/** IPv4 TTL << 24 | protocol << 16 | header checksum, as one word. */
export function ipv4TtlProtocol(view: DataView<ArrayBufferLike>, base: number): number {
  return view.getUint32(base + 8);
}

/** IPv4 protocol. */
export function ipv4Protocol(view: DataView<ArrayBufferLike>, base: number): number {
  return view.getUint8(base + 9);
}

/** IPv4 source address (int32). */
export function ipv4Src(view: DataView<ArrayBufferLike>, base: number): number {
  return view.getInt32(base + 12);
}

/** IPv4 destination address (int32). */
export function ipv4Dst(view: DataView<ArrayBufferLike>, base: number): number {
  return view.getInt32(base + 16);
}

/** TCP (or UDP) source port << 16 | destination port (the first header word). */
export function l4Ports(view: DataView<ArrayBufferLike>, l4: number): number {
  return view.getUint32(l4);
}

/** TCP sequence number (int32). */
export function tcpSeq(view: DataView<ArrayBufferLike>, l4: number): number {
  return view.getInt32(l4 + 4);
}

/** TCP acknowledgment number (int32). */
export function tcpAck(view: DataView<ArrayBufferLike>, l4: number): number {
  return view.getInt32(l4 + 8);
}

/** TCP data offset, reserved bits and flags, window: one word (split it with the three below). */
export function tcpOffsetFlagsWindow(view: DataView<ArrayBufferLike>, l4: number): number {
  return view.getUint32(l4 + 12);
}

/** The first word of the TCP options. */
export function tcpFirstOptionWord(view: DataView<ArrayBufferLike>, l4: number): number {
  return view.getUint32(l4 + 20);
}

/** TSval of a timestamp option in the NOP, NOP, timestamp layout (tcpFirstOptionWord says so). */
export function tcpLayoutTsVal(view: DataView<ArrayBufferLike>, l4: number): number {
  return view.getUint32(l4 + 24);
}

/** TSecr of a timestamp option in the NOP, NOP, timestamp layout. */
export function tcpLayoutTsEcr(view: DataView<ArrayBufferLike>, l4: number): number {
  return view.getUint32(l4 + 28);
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
  return buf[base + 9];
}

/** IPv4 total length (header and payload, bytes). */
export function ipv4TotalLengthBytes(buf: Uint8Array, base: number): number {
  return (buf[base + 2] << 8) | buf[base + 3];
}

/** IPv4 source address (uint32). */
export function ipv4SrcBytes(buf: Uint8Array, base: number): number {
  return readUint32(buf, base + 12);
}

/** IPv4 destination address (uint32). */
export function ipv4DstBytes(buf: Uint8Array, base: number): number {
  return readUint32(buf, base + 16);
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
