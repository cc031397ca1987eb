// Builds IPv4/IPv6 packets with correct headers and checksums, for tests, benchmarks
// and examples. Cold path: clarity over speed. Every field the decoder reads can be set
// here, and a few escape hatches (raw L4 bytes, raw TCP options, IPv4 options, IPv6
// extension headers) let tests build the odd and the broken packets too.

import { parseIp } from "./address.ts";
import { internetChecksum, transportChecksum } from "./checksum.ts";
import {
  ICMP4_ECHO_REQUEST,
  ICMP6_ECHO_REQUEST,
  ICMP_CHECKSUM,
  ICMP_HEADER,
  ICMP_ID,
  ICMP_SEQ,
  IPV4_CHECKSUM,
  IPV4_DST,
  IPV4_FLAG_DF,
  IPV4_FLAG_MF,
  IPV4_FLAGS_FRAGMENT,
  IPV4_ID,
  IPV4_MIN_HEADER,
  IPV4_PROTOCOL,
  IPV4_SRC,
  IPV4_TOTAL_LENGTH,
  IPV4_TTL,
  IPV6_DST,
  IPV6_FRAGMENT_MF,
  IPV6_HEADER,
  IPV6_HOP_LIMIT,
  IPV6_NEXT_HEADER,
  IPV6_PAYLOAD_LENGTH,
  IPV6_SRC,
  NH_DESTINATION_OPTIONS,
  NH_FRAGMENT,
  NH_HOP_BY_HOP,
  NH_ROUTING,
  TCP_ACK_NUMBER,
  TCP_CHECKSUM,
  TCP_DATA_OFFSET,
  TCP_FLAGS,
  TCP_MAX_OPTIONS,
  TCP_MIN_HEADER,
  TCP_SEQ,
  TCP_URGENT,
  TCP_WINDOW,
  TCPOPT_MSS,
  TCPOPT_NOP,
  TCPOPT_SACK,
  TCPOPT_SACK_PERMITTED,
  TCPOPT_TIMESTAMP,
  TCPOPT_WINDOW_SCALE,
  UDP_CHECKSUM,
  UDP_HEADER,
  UDP_LENGTH,
} from "./layout.ts";
import { PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP } from "./record.ts";
import { tcpFlags } from "./tcp-flags.ts";

export type ExtensionHeaderName = "hop-by-hop" | "routing" | "destination" | "fragment";

export interface TcpSpec {
  /** A number (TCP_* bits) or letters F S R P A U E C, e.g. "SA". Default "S". */
  flags?: number | string;
  seq?: number;
  ack?: number;
  /** Raw window field. Default 65535. */
  window?: number;
  urgent?: number;
  mss?: number;
  windowScale?: number;
  sackPermitted?: boolean;
  /** SACK blocks as [left edge, right edge]. */
  sack?: [number, number][];
  /** [TSval, TSecr]. */
  timestamp?: [number, number];
  /** Option bytes written as given (zero-padded to 4) instead of the options above: for malformed-option tests. */
  rawOptions?: Uint8Array;
}

export interface IcmpSpec {
  /** Default echo request (8 for ICMPv4, 128 for ICMPv6). */
  type?: number;
  code?: number;
  /** Echo identifier and sequence (bytes 4..7 of echo messages). */
  id?: number;
  seq?: number;
  /** Bytes 4..7 of an error as one number (next-hop MTU, pointer); default 0. Used when `quote` is given. */
  rest?: number;
  /** The quoted packet of an error message, placed after the 8-byte header. */
  quote?: Uint8Array;
}

export interface PacketSpec {
  /** "100.64.0.1" or "fd00::1"; both addresses must have the same version. */
  src: string;
  dst: string;
  /** "icmp" means ICMPv6 when the addresses are IPv6. A number is the IP protocol; unknown ones carry `payload` raw. */
  protocol: "tcp" | "udp" | "icmp" | number;
  /** Default 40000. */
  srcPort?: number;
  /** Default 80. */
  dstPort?: number;
  tcp?: TcpSpec;
  icmp?: IcmpSpec;
  /** L4 payload: bytes, or a length of zero bytes. */
  payload?: Uint8Array | number;
  /** IPv4 TTL / IPv6 hop limit. Default 64. */
  ttl?: number;
  /** IPv4 identification, or the IPv6 fragment header's identification. Default 1. */
  ipId?: number;
  dontFragment?: boolean;
  moreFragments?: boolean;
  /** Fragment offset in bytes (a multiple of 8). A non-first fragment carries `payload` raw, without an L4 header. */
  fragmentOffset?: number;
  /** IPv4 options, zero-padded to a multiple of 4 bytes. */
  ipOptions?: Uint8Array;
  /** IPv6 extension headers in order; a fragment header is added last when fragment fields are set and none is listed. */
  extensionHeaders?: ExtensionHeaderName[];
  /** Write `payload` right after the IP header with no L4 header built (hand-made or truncated L4). */
  rawL4?: boolean;
}

/** Build one IP packet from `spec`. Throws on impossible specs (mixed versions, oversized options). */
export function buildPacket(spec: PacketSpec): Uint8Array {
  const src = parseIp(spec.src);
  const dst = parseIp(spec.dst);
  if (src.version !== dst.version) {
    throw new Error(`buildPacket: source ${spec.src} and destination ${spec.dst} are different IP versions`);
  }
  const isV6 = src.version === 6;
  const protocol = protocolNumber(spec.protocol, isV6);
  const fragmentOffset = spec.fragmentOffset ?? 0;
  if (fragmentOffset % 8 !== 0 || fragmentOffset < 0 || fragmentOffset > 0xfff8) {
    throw new Error(`buildPacket: fragmentOffset ${fragmentOffset} must be a multiple of 8 in 0..65528`);
  }
  const raw = spec.rawL4 === true || fragmentOffset > 0;
  const l4 = raw ? payloadBytes(spec.payload) : buildL4(spec, protocol, isV6);

  const packet = isV6 ? buildIpv6(spec, src.words, dst.words, protocol, l4) : buildIpv4(spec, src.words[0], dst.words[0], protocol, l4);
  if (!raw) fillTransportChecksum(packet, packet.length - l4.length, l4.length, protocol);
  return packet;
}

function protocolNumber(protocol: PacketSpec["protocol"], isV6: boolean): number {
  if (protocol === "tcp") return PROTO_TCP;
  if (protocol === "udp") return PROTO_UDP;
  if (protocol === "icmp") return isV6 ? PROTO_ICMPV6 : PROTO_ICMP;
  if (!Number.isInteger(protocol) || protocol < 0 || protocol > 255) {
    throw new Error(`buildPacket: protocol ${protocol} is not tcp, udp, icmp or 0..255`);
  }
  return protocol;
}

function payloadBytes(payload: Uint8Array | number | undefined): Uint8Array {
  if (payload === undefined) return new Uint8Array(0);
  return typeof payload === "number" ? new Uint8Array(payload) : payload;
}

function buildL4(spec: PacketSpec, protocol: number, isV6: boolean): Uint8Array {
  const payload = payloadBytes(spec.payload);
  switch (protocol) {
    case PROTO_TCP:
      return buildTcp(spec, payload);
    case PROTO_UDP:
      return buildUdp(spec, payload);
    case PROTO_ICMP:
    case PROTO_ICMPV6:
      return buildIcmp(spec.icmp ?? {}, payload, isV6);
    default:
      return payload;
  }
}

function buildTcp(spec: PacketSpec, payload: Uint8Array): Uint8Array {
  const tcp = spec.tcp ?? {};
  const options = tcp.rawOptions ? padTo4(tcp.rawOptions) : tcpOptions(tcp);
  if (options.length > TCP_MAX_OPTIONS) throw new Error(`buildPacket: TCP options take ${options.length} bytes, at most 40 fit`);
  const headerLength = TCP_MIN_HEADER + options.length;
  const out = new Uint8Array(headerLength + payload.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, spec.srcPort ?? 40000);
  view.setUint16(2, spec.dstPort ?? 80);
  view.setUint32(TCP_SEQ, (tcp.seq ?? 0) >>> 0);
  view.setUint32(TCP_ACK_NUMBER, (tcp.ack ?? 0) >>> 0);
  out[TCP_DATA_OFFSET] = (headerLength / 4) << 4;
  const flags = tcp.flags ?? "S";
  out[TCP_FLAGS] = typeof flags === "number" ? flags : tcpFlags(flags);
  view.setUint16(TCP_WINDOW, tcp.window ?? 65535);
  view.setUint16(TCP_URGENT, tcp.urgent ?? 0);
  out.set(options, TCP_MIN_HEADER);
  out.set(payload, headerLength);
  return out;
}

/** The usual option layout of real stacks: NOPs align each option on its natural boundary. */
function tcpOptions(tcp: TcpSpec): Uint8Array {
  const bytes: number[] = [];
  const u16 = (v: number) => bytes.push((v >>> 8) & 0xff, v & 0xff);
  const u32 = (v: number) => bytes.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  if (tcp.mss !== undefined) {
    bytes.push(TCPOPT_MSS, 4);
    u16(tcp.mss);
  }
  if (tcp.windowScale !== undefined) bytes.push(TCPOPT_NOP, TCPOPT_WINDOW_SCALE, 3, tcp.windowScale);
  if (tcp.sackPermitted) bytes.push(TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK_PERMITTED, 2);
  if (tcp.timestamp) {
    bytes.push(TCPOPT_NOP, TCPOPT_NOP, TCPOPT_TIMESTAMP, 10);
    u32(tcp.timestamp[0]);
    u32(tcp.timestamp[1]);
  }
  if (tcp.sack && tcp.sack.length > 0) {
    bytes.push(TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK, 2 + 8 * tcp.sack.length);
    for (const [left, right] of tcp.sack) {
      u32(left);
      u32(right);
    }
  }
  return padTo4(Uint8Array.from(bytes));
}

/** Zero-pad to a multiple of 4 bytes (zero is the end-of-options code for both IPv4 and TCP). */
function padTo4(bytes: Uint8Array): Uint8Array {
  const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  padded.set(bytes);
  return padded;
}

function buildUdp(spec: PacketSpec, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(UDP_HEADER + payload.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, spec.srcPort ?? 40000);
  view.setUint16(2, spec.dstPort ?? 80);
  view.setUint16(UDP_LENGTH, out.length & 0xffff);
  out.set(payload, UDP_HEADER);
  return out;
}

function buildIcmp(icmp: IcmpSpec, payload: Uint8Array, isV6: boolean): Uint8Array {
  const quote = icmp.quote ?? new Uint8Array(0);
  const out = new Uint8Array(ICMP_HEADER + quote.length + payload.length);
  const view = new DataView(out.buffer);
  out[0] = icmp.type ?? (isV6 ? ICMP6_ECHO_REQUEST : ICMP4_ECHO_REQUEST);
  out[1] = icmp.code ?? 0;
  if (icmp.quote) {
    view.setUint32(ICMP_ID, (icmp.rest ?? 0) >>> 0);
  } else {
    view.setUint16(ICMP_ID, icmp.id ?? 0);
    view.setUint16(ICMP_SEQ, icmp.seq ?? 0);
  }
  out.set(quote, ICMP_HEADER);
  out.set(payload, ICMP_HEADER + quote.length);
  return out;
}

function buildIpv4(spec: PacketSpec, src: number, dst: number, protocol: number, l4: Uint8Array): Uint8Array {
  const options = spec.ipOptions ? padTo4(spec.ipOptions) : new Uint8Array(0);
  if (options.length > 40) throw new Error(`buildPacket: IPv4 options take ${options.length} bytes, at most 40 fit`);
  if (spec.extensionHeaders?.length) throw new Error("buildPacket: extensionHeaders are for IPv6 only");
  const headerLength = IPV4_MIN_HEADER + options.length;
  const totalLength = headerLength + l4.length;
  if (totalLength > 0xffff) throw new Error(`buildPacket: IPv4 packet of ${totalLength} bytes exceeds 65535`);
  const out = new Uint8Array(totalLength);
  const view = new DataView(out.buffer);
  out[0] = 0x40 | (headerLength / 4);
  view.setUint16(IPV4_TOTAL_LENGTH, totalLength);
  view.setUint16(IPV4_ID, spec.ipId ?? 1);
  let flagsFragment = (spec.fragmentOffset ?? 0) / 8;
  if (spec.dontFragment) flagsFragment |= IPV4_FLAG_DF;
  if (spec.moreFragments) flagsFragment |= IPV4_FLAG_MF;
  view.setUint16(IPV4_FLAGS_FRAGMENT, flagsFragment);
  out[IPV4_TTL] = spec.ttl ?? 64;
  out[IPV4_PROTOCOL] = protocol;
  view.setUint32(IPV4_SRC, src);
  view.setUint32(IPV4_DST, dst);
  out.set(options, IPV4_MIN_HEADER);
  view.setUint16(IPV4_CHECKSUM, internetChecksum(out, 0, headerLength));
  out.set(l4, headerLength);
  return out;
}

const EXTENSION_CODES: Record<ExtensionHeaderName, number> = {
  "hop-by-hop": NH_HOP_BY_HOP,
  routing: NH_ROUTING,
  destination: NH_DESTINATION_OPTIONS,
  fragment: NH_FRAGMENT,
};

function buildIpv6(spec: PacketSpec, src: number[], dst: number[], protocol: number, l4: Uint8Array): Uint8Array {
  if (spec.ipOptions) throw new Error("buildPacket: ipOptions are for IPv4 only; use extensionHeaders");
  const extensions = [...(spec.extensionHeaders ?? [])];
  const wantsFragment = spec.moreFragments === true || (spec.fragmentOffset ?? 0) > 0;
  if (wantsFragment && !extensions.includes("fragment")) extensions.push("fragment");
  // Every extension header built here is 8 bytes: the smallest legal size.
  const headerLength = IPV6_HEADER + 8 * extensions.length;
  const payloadLength = headerLength - IPV6_HEADER + l4.length;
  if (payloadLength > 0xffff) throw new Error(`buildPacket: IPv6 payload of ${payloadLength} bytes exceeds 65535`);
  const out = new Uint8Array(headerLength + l4.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x60000000);
  view.setUint16(IPV6_PAYLOAD_LENGTH, payloadLength);
  out[IPV6_NEXT_HEADER] = extensions.length > 0 ? EXTENSION_CODES[extensions[0]] : protocol;
  out[IPV6_HOP_LIMIT] = spec.ttl ?? 64;
  for (let i = 0; i < 4; i++) {
    view.setUint32(IPV6_SRC + 4 * i, src[i]);
    view.setUint32(IPV6_DST + 4 * i, dst[i]);
  }
  extensions.forEach((name, i) => {
    const at = IPV6_HEADER + 8 * i;
    out[at] = i + 1 < extensions.length ? EXTENSION_CODES[extensions[i + 1]] : protocol;
    if (name === "fragment") {
      let offsetFlags = spec.fragmentOffset ?? 0; // bytes, a multiple of 8: already the field's position
      if (spec.moreFragments) offsetFlags |= IPV6_FRAGMENT_MF;
      view.setUint16(at + 2, offsetFlags);
      view.setUint32(at + 4, (spec.ipId ?? 1) >>> 0);
    } else if (name === "routing") {
      out[at + 1] = 0; // header extension length: 8 bytes in all
      out[at + 2] = 0; // routing type 0 with segments left 0: skipped by every node
      out[at + 3] = 0;
    } else {
      out[at + 1] = 0;
      out[at + 2] = 1; // PadN option filling the 6 option bytes
      out[at + 3] = 4;
    }
  });
  out.set(l4, headerLength);
  return out;
}

function fillTransportChecksum(packet: Uint8Array, l4Offset: number, l4Length: number, protocol: number): void {
  let field: number;
  if (protocol === PROTO_TCP) field = TCP_CHECKSUM;
  else if (protocol === PROTO_UDP) field = UDP_CHECKSUM;
  else if (protocol === PROTO_ICMP || protocol === PROTO_ICMPV6) field = ICMP_CHECKSUM;
  else return;
  let checksum: number;
  // ICMPv4 has no pseudo-header (RFC 792); TCP, UDP and ICMPv6 do.
  if (protocol === PROTO_ICMP) checksum = internetChecksum(packet, l4Offset, l4Length);
  else checksum = transportChecksum(packet, 0, l4Offset, l4Length, protocol);
  // UDP sends a computed 0 as 0xffff, since 0 means "no checksum" (RFC 768).
  if (protocol === PROTO_UDP && checksum === 0) checksum = 0xffff;
  packet[l4Offset + field] = checksum >>> 8;
  packet[l4Offset + field + 1] = checksum & 0xff;
}
