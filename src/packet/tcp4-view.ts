// THE view of a TCP/IPv4 header for the readers that take fields straight from the
// bytes: the decoder's fast path (decode-common-tcp-ipv4.ts), segment runs
// (segment-run.ts), conntrack's segment path (Conntrack.trackTcp4Segment) and the flow
// table's prefetch hash (FlowTable.homeSlot4). Offsets are layout.ts's named constants;
// each field is read by one small reader here, in the manner of smoltcp's `field`
// module, so a fast path specialises by calling these, never by re-deriving an offset.
// `base` is the IPv4 header's first byte, `l4` the TCP header's (base + IHL * 4).
//
// DataView reads take a `view` over the whole array (buffer-view.ts viewOf), so the
// fast paths read 16/32-bit words in one load; byte reads take the array itself, for the
// flow table's hash, which runs before any view is made. Addresses, sequence and ACK
// numbers are returned as int32 (`getInt32`): sequence arithmetic is modulo 2^32 either
// way, and an int32 passed to a call V8 does not inline is never boxed.
//
// Every reader is a single read, which V8 inlines into its callers. They are the
// methods of one object (tcp4View), not module functions, for the fast paths' sake: an
// inlined call to an imported function is guarded by a load of its binding and a
// check that it is still that function, at every call site, while the methods of one
// object of a stable class cost one check of the object's map for all of them
// (measured on the established-flow path: 55 ns a packet with nine imported readers,
// 50 ns as methods or as bare DataView reads). A caller takes `tcp4View` into a local
// once, then calls its readers.

import * as layout from "./layout.ts";

// The offsets are written as literals in the readers below, each reader named for its
// field: a module constant, even a module-local one, is a context-slot load with a
// hole check wherever the function is inlined, and on the fast paths that measured ~5 ns
// a packet in conntrack and several times the decode in the decoder. They are checked
// against layout.ts, where every offset has its name, when this module loads.
// Stryker disable all: a load-time layout guard. It throws only when a constant in another file changes; its mutants either never throw (equivalent) or stop the module loading, which the vitest runner does not count as a failure.
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
// Stryker restore all

/** The TCP/IPv4 header view: one reader per field (see above). */
export class Tcp4HeaderView {
  /** IPv4 byte 0 (version and IHL) through the total length, as one word. */
  ipv4VersionToLength(view: DataView<ArrayBufferLike>, base: number): number {
    return view.getUint32(base);
  }

  /** IPv4 total length. */
  ipv4TotalLength(view: DataView<ArrayBufferLike>, base: number): number {
    return view.getUint16(base + 2);
  }

  /** IPv4 identification << 16 | flags and fragment offset, as one word. */
  ipv4IdFragment(view: DataView<ArrayBufferLike>, base: number): number {
    return view.getUint32(base + 4);
  }

  /** IPv4 TTL << 24 | protocol << 16 | header checksum, as one word. */
  ipv4TtlProtocol(view: DataView<ArrayBufferLike>, base: number): number {
    return view.getUint32(base + 8);
  }

  /** IPv4 protocol. */
  ipv4Protocol(view: DataView<ArrayBufferLike>, base: number): number {
    return view.getUint8(base + 9);
  }

  /** IPv4 source address (int32). */
  ipv4Src(view: DataView<ArrayBufferLike>, base: number): number {
    return view.getInt32(base + 12);
  }

  /** IPv4 destination address (int32). */
  ipv4Dst(view: DataView<ArrayBufferLike>, base: number): number {
    return view.getInt32(base + 16);
  }

  /** TCP (or UDP) source port << 16 | destination port (the first header word). */
  l4Ports(view: DataView<ArrayBufferLike>, l4: number): number {
    return view.getUint32(l4);
  }

  /** TCP sequence number (int32). */
  tcpSeq(view: DataView<ArrayBufferLike>, l4: number): number {
    return view.getInt32(l4 + 4);
  }

  /** TCP acknowledgment number (int32). */
  tcpAck(view: DataView<ArrayBufferLike>, l4: number): number {
    return view.getInt32(l4 + 8);
  }

  /** TCP data offset, reserved bits and flags, window: one word (split it with the three below). */
  tcpOffsetFlagsWindow(view: DataView<ArrayBufferLike>, l4: number): number {
    return view.getUint32(l4 + 12);
  }

  /** The first word of the TCP options. */
  tcpFirstOptionWord(view: DataView<ArrayBufferLike>, l4: number): number {
    return view.getUint32(l4 + 20);
  }

  /** TCP header length in bytes, from tcpOffsetFlagsWindow's word. */
  headerLengthOf(offsetFlagsWindow: number): number {
    return (offsetFlagsWindow >>> 28) * 4;
  }

  /** TCP flags byte, from tcpOffsetFlagsWindow's word. */
  flagsOf(offsetFlagsWindow: number): number {
    return (offsetFlagsWindow >>> 16) & 0xff;
  }

  /** TCP window (unscaled), from tcpOffsetFlagsWindow's word. */
  windowOf(offsetFlagsWindow: number): number {
    return offsetFlagsWindow & 0xffff;
  }

  // Byte reads, for a hash that runs before a view is made (FlowTable.homeSlot4).

  /** IP version nibble. */
  ipVersionByte(buf: Uint8Array, base: number): number {
    return buf[base] >> 4;
  }

  /** IPv4 header length in bytes. */
  ipv4HeaderLengthByte(buf: Uint8Array, base: number): number {
    return (buf[base] & 0x0f) * 4;
  }

  /** IPv4 protocol. */
  ipv4ProtocolByte(buf: Uint8Array, base: number): number {
    return buf[base + 9];
  }

  /** IPv4 total length (header and payload, bytes). */
  ipv4TotalLengthBytes(buf: Uint8Array, base: number): number {
    return (buf[base + 2] << 8) | buf[base + 3];
  }

  /** IPv4 source address (uint32). */
  ipv4SrcBytes(buf: Uint8Array, base: number): number {
    return this.readUint32(buf, base + 12);
  }

  /** IPv4 destination address (uint32). */
  ipv4DstBytes(buf: Uint8Array, base: number): number {
    return this.readUint32(buf, base + 16);
  }

  /** Source port of a TCP/UDP header. */
  srcPortBytes(buf: Uint8Array, l4: number): number {
    return (buf[l4] << 8) | buf[l4 + 1];
  }

  /** Destination port of a TCP/UDP header. */
  dstPortBytes(buf: Uint8Array, l4: number): number {
    return (buf[l4 + 2] << 8) | buf[l4 + 3];
  }

  private readUint32(buf: Uint8Array, at: number): number {
    return ((buf[at] << 24) | (buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3]) >>> 0;
  }
}

/** The one instance: every fast path reads headers through it. */
export const tcp4View = new Tcp4HeaderView();
