// The decoded form of one packet: a flat record of numbers, filled in place by
// `decodePacket` (see decode.ts) and reused for every packet, so decoding allocates
// nothing. Each field says when it is valid. Addresses are numbers: IPv4 is one
// uint32 in `src0`/`dst0` (the other words are 0); IPv6 is four uint32 words, most
// significant first.

// IP protocol numbers (the upper-layer protocol after any IPv6 extension headers).
export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_ICMPV6 = 58;

// TCP flag bits, as in byte 13 of the TCP header.
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

// Why a packet could not be decoded. A closed set: 0 means the packet is well formed.
export const MALFORMED_NONE = 0;
export const MALFORMED_TRUNCATED = 1; // the buffer ends before a header does
export const MALFORMED_BAD_VERSION = 2; // IP version is neither 4 nor 6
export const MALFORMED_BAD_HEADER_LENGTH = 3; // IPv4 IHL < 5 or beyond the buffer
export const MALFORMED_LENGTH_MISMATCH = 4; // IP total/payload length disagrees with the buffer
export const MALFORMED_BAD_TCP_OFFSET = 5; // TCP data offset < 5 or beyond the segment
export const MALFORMED_TINY_FRAGMENT = 6; // RFC 1858: first fragment too short to hold the L4 ports/flags
export const MALFORMED_FRAGMENT_OVERLAP = 7; // RFC 1858: non-first fragment at offset 8 bytes (rewrites TCP flags)
export const MALFORMED_BAD_UDP_LENGTH = 8; // UDP length field < 8 or beyond the datagram
export const MALFORMED_BAD_EXTENSION_HEADER = 9; // IPv6 extension header chain runs off the packet or is too long
export const MALFORMED_BAD_OPTIONS = 10; // IPv4 or TCP options are malformed (length 0/1 or past the header)
export const MALFORMED_BAD_CHECKSUM = 11; // IPv4 header or TCP/UDP/ICMP checksum wrong (only when verification is asked for)
export const MALFORMED_FRAGMENT_TOO_LONG = 12; // a fragment reaching past the 65,535 bytes a datagram can hold (ping of death)

export const MALFORMED_REASONS: readonly string[] = [
  "none",
  "truncated",
  "bad-version",
  "bad-header-length",
  "length-mismatch",
  "bad-tcp-offset",
  "tiny-fragment",
  "fragment-overlap",
  "bad-udp-length",
  "bad-extension-header",
  "bad-options",
  "bad-checksum",
  "fragment-too-long",
];

/** RFC 2018: a SACK option holds at most four blocks (the decoder refuses more as malformed). */
export const MAX_SACK_BLOCKS = 4;

export class PacketRecord {
  /** 0 when the packet is well formed, else one of the MALFORMED_* reasons. Always valid. */
  malformed = 0;
  /** Byte offset (from the packet start) where decoding found the problem; valid when malformed != 0. */
  malformedAt = 0;

  // ---- IP layer (valid once malformed is 0, or partially when the L4 header failed) ----
  /** 4 or 6. */
  ipVersion = 0;
  /** Length of the IP header including IPv4 options / IPv6 extension headers. */
  ipHeaderLength = 0;
  /** Length of the IP datagram (IPv4 total length; IPv6 40 + payload length). */
  ipTotalLength = 0;
  /** IPv4 TTL or IPv6 hop limit. */
  ttl = 0;
  /** Upper-layer protocol (PROTO_*), after walking IPv6 extension headers. */
  protocol = 0;
  /** IPv4 identification, or the IPv6 fragment header's identification (0 when none). */
  ipId = 0;
  /** More Fragments bit (IPv4, or IPv6 fragment header). */
  moreFragments = false;
  /** Fragment offset in bytes (IPv4, or IPv6 fragment header). */
  fragmentOffset = 0;
  /** True when this packet is a fragment (MF set or offset > 0). Non-first fragments have no L4 fields. */
  isFragment = false;
  /** Source address words; IPv4 uses src0 only. */
  src0 = 0;
  src1 = 0;
  src2 = 0;
  src3 = 0;
  /** Destination address words; IPv4 uses dst0 only. */
  dst0 = 0;
  dst1 = 0;
  dst2 = 0;
  dst3 = 0;

  // ---- L4 (valid when hasL4 is true: not a non-first fragment, header present) ----
  /** True when the L4 header was decoded (false for non-first fragments, unknown protocols, and a malformed L4 header). */
  hasL4 = false;
  /** Offset of the L4 header from the packet start. */
  l4Offset = 0;
  /** Offset of the L4 payload from the packet start. */
  payloadOffset = 0;
  /** Bytes of L4 payload (TCP data, UDP data, ICMP body after the 8-byte header). */
  payloadLength = 0;
  /** TCP/UDP ports. 0 for ICMP. */
  srcPort = 0;
  dstPort = 0;

  // ---- TCP (valid when protocol == PROTO_TCP && hasL4) ----
  tcpSeq = 0;
  tcpAck = 0;
  /** Data offset in bytes (header length). */
  tcpHeaderLength = 0;
  /** All eight flag bits (TCP_*). */
  tcpFlags = 0;
  /** Raw (unscaled) window. */
  tcpWindow = 0;
  /** Window scale shift, -1 when absent. */
  tcpWindowScale = -1;

  // ---- ICMPv4 / ICMPv6 (valid when protocol is PROTO_ICMP or PROTO_ICMPV6 && hasL4) ----
  icmpType = 0;
  icmpCode = 0;
  /** Echo identifier (valid for echo request/reply): ICMP sessions are tracked by it. */
  icmpId = 0;
  /** True for messages that quote a packet: errors (unreachable, time exceeded, packet too big, parameter problem) and ICMPv4 source quench and redirect. */
  icmpIsError = false;
  /** True for echo request. */
  icmpIsEchoRequest = false;
  /** True for echo reply. */
  icmpIsEchoReply = false;

  // ---- The packet quoted inside an ICMP error (valid when innerValid) ----
  innerValid = false;
  innerVersion = 0;
  innerProtocol = 0;
  innerSrc0 = 0;
  innerSrc1 = 0;
  innerSrc2 = 0;
  innerSrc3 = 0;
  innerDst0 = 0;
  innerDst1 = 0;
  innerDst2 = 0;
  innerDst3 = 0;
  /**
   * Bytes of the quoted packet's L4 header present in the quote (from its start to the
   * end of the quote; 0 for a quoted non-first fragment). Which quoted fields below are
   * real depends on it: ports need 4, the ICMP echo id 6, the TCP sequence number 8.
   * An absent field reads 0, which must never be taken for a value.
   */
  innerL4Length = 0;
  /** Quoted TCP/UDP ports (0 when not TCP/UDP or not quoted). */
  innerSrcPort = 0;
  innerDstPort = 0;
  /** Quoted ICMP echo id and type, when the quoted packet is an echo. */
  innerIcmpId = 0;
  innerIcmpType = 0;
  /** Quoted TCP sequence number (valid when innerL4Length >= 8; RFC 792 asks for 8 bytes, a forger need not send them). */
  innerTcpSeq = 0;

  /**
   * Internal to the decoder: true while the fields every common TCP/IPv4 packet has at
   * the same value (version, header lengths, no fragment, no MSS...) hold those values,
   * so that the next such packet need not write them (decode-common-tcp-ipv4.ts). Code
   * that writes a record's fields itself, rather than through decodePacket, sets it
   * false.
   */
  commonShape = false;
}

/** Zero address words 1-3 of both addresses: an IPv4 packet uses word 0 only, and only an IPv6 one sets the others. */
export function clearIpv6AddressWords(rec: PacketRecord): void {
  rec.src1 = 0;
  rec.src2 = 0;
  rec.src3 = 0;
  rec.dst1 = 0;
  rec.dst2 = 0;
  rec.dst3 = 0;
}
