// Decodes one IP packet into a reused PacketRecord without allocating: the hot path's
// first step. It checks only what it must to read safely and to catch the classic
// evasions (RFC 1858 fragments, lying lengths), and says why and where a packet is
// malformed instead of throwing.
//
// Stale values: the record is reused, so a field written for one packet must not leak
// into the next. The IP and common L4 fields are written for every packet. Each
// protocol's own group (TCP, UDP, ICMP + quote) is written whole by its decoder; a group
// the previous packet filled and this one did not is cleared at the end, so a stream of
// TCP packets never pays for clearing the ICMP fields.
//
// Speed without allocation (docs/packet.md has the measurements):
// - The most common packet, TCP/IPv4 without options or with timestamps only, takes a
//   fast path (decode-common-tcp-ipv4.ts) that reads through a DataView and writes each
//   field once; everything else, and every error, comes here.
// - Multi-byte fields are assembled from single bytes where they are stored, with no
//   helper call: a uint32 above 2^31 returned from a call the compiler did not inline is
//   boxed in a fresh heap number, i.e. an allocation per packet.
// - The IPv4 + TCP path is shaped to fit V8's inlining budget: decodeGeneral holds the
//   IPv4 header code, and decodeTransport, decodeTcp and the timestamp fast path are
//   small; decodePacket calls two functions too large to inline, so it stays small.

import { internetChecksum } from "./checksum.ts";
import * as commonTcpIpv4 from "./decode-common-tcp-ipv4.ts";
import { clearIcmp, decodeIcmp } from "./decode-icmp.ts";
import { clearTcp, decodeTcp } from "./decode-tcp.ts";
import { decodeUdp } from "./decode-udp.ts";
import { extensionWalk, isExtensionHeader, walkIpv6Extensions } from "./ipv6-extensions.ts";
import * as layout from "./layout.ts";
import { markMalformed } from "./malformed.ts";
import * as record from "./record.ts";
import { clearIpv6AddressWords, type PacketRecord } from "./record.ts";

// Module-local copies of imported constants: V8 folds these into the optimized code as
// literals, whereas it re-reads an imported binding (with a TDZ check) at every use.
const IPV4_CHECKSUM = layout.IPV4_CHECKSUM;
const IPV4_DST = layout.IPV4_DST;
const IPV4_FLAGS_FRAGMENT = layout.IPV4_FLAGS_FRAGMENT;
const IPV4_FLAG_MF = layout.IPV4_FLAG_MF;
const IPV4_ID = layout.IPV4_ID;
const IPV4_MIN_HEADER = layout.IPV4_MIN_HEADER;
const IPV4_OFFSET_MASK = layout.IPV4_OFFSET_MASK;
const IPV4_OPTION_END = layout.IPV4_OPTION_END;
const IPV4_OPTION_NOP = layout.IPV4_OPTION_NOP;
const IPV4_PROTOCOL = layout.IPV4_PROTOCOL;
const IPV4_SRC = layout.IPV4_SRC;
const IPV4_TOTAL_LENGTH = layout.IPV4_TOTAL_LENGTH;
const IPV4_TTL = layout.IPV4_TTL;
const IPV6_DST = layout.IPV6_DST;
const IPV6_FRAGMENT_HEADER = layout.IPV6_FRAGMENT_HEADER;
const IPV6_HEADER = layout.IPV6_HEADER;
const IPV6_HOP_LIMIT = layout.IPV6_HOP_LIMIT;
const IPV6_NEXT_HEADER = layout.IPV6_NEXT_HEADER;
const IPV6_PAYLOAD_LENGTH = layout.IPV6_PAYLOAD_LENGTH;
const IPV6_SRC = layout.IPV6_SRC;
const MALFORMED_BAD_CHECKSUM = record.MALFORMED_BAD_CHECKSUM;
const MALFORMED_BAD_EXTENSION_HEADER = record.MALFORMED_BAD_EXTENSION_HEADER;
const MALFORMED_BAD_HEADER_LENGTH = record.MALFORMED_BAD_HEADER_LENGTH;
const MALFORMED_BAD_OPTIONS = record.MALFORMED_BAD_OPTIONS;
const MALFORMED_BAD_VERSION = record.MALFORMED_BAD_VERSION;
const MALFORMED_FRAGMENT_OVERLAP = record.MALFORMED_FRAGMENT_OVERLAP;
const MALFORMED_FRAGMENT_TOO_LONG = record.MALFORMED_FRAGMENT_TOO_LONG;
const MALFORMED_LENGTH_MISMATCH = record.MALFORMED_LENGTH_MISMATCH;
const MALFORMED_TINY_FRAGMENT = record.MALFORMED_TINY_FRAGMENT;
const MALFORMED_TRUNCATED = record.MALFORMED_TRUNCATED;
const PROTO_ICMP = record.PROTO_ICMP;
const PROTO_ICMPV6 = record.PROTO_ICMPV6;
const PROTO_TCP = record.PROTO_TCP;
const PROTO_UDP = record.PROTO_UDP;
const TCP_BYTES_THROUGH_FLAGS = layout.TCP_BYTES_THROUGH_FLAGS;
/** The most an IPv4 datagram's total length, or an IPv6 packet's payload length, can say (not counting jumbograms, which we do not take). */
const MAX_DATAGRAM = 0xffff;
const decodeCommonTcpIpv4 = commonTcpIpv4.decodeCommonTcpIpv4;

/** The protocol group a decoder wrote: TCP, UDP, ICMP (both versions share the fields) or none. */
const GROUP_NONE = -1;

/**
 * Decode the IP packet buf[offset, offset + length) into `rec`. Returns true when it is
 * well formed (rec.malformed === 0). Never throws. With `verifyChecksum` the IPv4 header
 * checksum and the TCP/UDP/ICMP checksums (of non-fragments) are verified too.
 */
export function decodePacket(
  buf: Uint8Array,
  offset: number,
  length: number,
  rec: PacketRecord,
  verifyChecksum = false,
): boolean {
  if (!verifyChecksum && decodeCommonTcpIpv4(buf, offset, length, rec)) return true;
  return decodeGeneral(buf, offset, length, rec, verifyChecksum);
}

/** The common L4 fields of a packet no L4 decoder ran for (each decoder writes them all itself). */
function clearL4(rec: PacketRecord): void {
  rec.hasL4 = false;
  rec.payloadOffset = 0;
  rec.payloadLength = 0;
  rec.srcPort = 0;
  rec.dstPort = 0;
}

function groupOf(protocol: number): number {
  if (protocol === PROTO_TCP || protocol === PROTO_UDP || protocol === PROTO_ICMP) return protocol;
  if (protocol === PROTO_ICMPV6) return PROTO_ICMP;
  return GROUP_NONE;
}

function clearGroup(rec: PacketRecord, group: number): void {
  if (group === PROTO_TCP) clearTcp(rec);
  else if (group === PROTO_ICMP) clearIcmp(rec);
}

/** Reset the IP fields of a packet whose IP header could not be read. */
function clearIp(rec: PacketRecord, version: number): void {
  rec.ipVersion = version;
  rec.ipHeaderLength = 0;
  rec.ipTotalLength = 0;
  rec.ttl = 0;
  rec.protocol = 0;
  rec.ipId = 0;
  rec.moreFragments = false;
  rec.fragmentOffset = 0;
  rec.isFragment = false;
  rec.src0 = 0;
  rec.dst0 = 0;
  clearIpv6AddressWords(rec);
}

/**
 * Every other packet: the full decoder, which handles every layout and every error. It
 * decodes the IP layer and hands over to the L4 decoder, then clears the protocol group
 * the previous packet filled if this one did not.
 *
 * IPv4 is decoded right here rather than in a function of its own: V8 inlines callees
 * only within a bytecode budget, and this way the whole IPv4 + TCP path compiles into
 * this one function (measured ~30% faster than three calls). Being that large (over
 * V8's 460-byte limit) it is also never inlined into decodePacket, which so stays small
 * enough for its callers to inline whatever traffic the process has decoded before:
 * with this function inlined into it after a UDP-heavy run (the agent benchmark),
 * the one-packet TCP/IPv4 decode took 24 ns instead of 15.
 */
function decodeGeneral(buf: Uint8Array, base: number, length: number, rec: PacketRecord, verify: boolean): boolean {
  const previousGroup = groupOf(rec.protocol);
  rec.commonShape = false;
  rec.malformed = 0;
  rec.malformedAt = 0;
  rec.l4Offset = 0;
  let written = GROUP_NONE;
  ip: {
    // `>>> 0` rejects negative, fractional and huge values in one comparison each.
    if (base >>> 0 !== base || length >>> 0 !== length || length === 0 || base + length > buf.length) {
      clearIp(rec, 0);
      markMalformed(rec, MALFORMED_TRUNCATED, 0);
      break ip;
    }
    const version = buf[base] >> 4;
    if (version === 6) {
      written = decodeIpv6(buf, base, length, rec, verify);
      break ip;
    }
    if (version !== 4) {
      clearIp(rec, version);
      markMalformed(rec, MALFORMED_BAD_VERSION, 0);
      break ip;
    }
    if (length < IPV4_MIN_HEADER) {
      clearIp(rec, 4);
      markMalformed(rec, MALFORMED_TRUNCATED, 0);
      break ip;
    }
    const headerLength = (buf[base] & 0x0f) * 4;
    const totalLength = (buf[base + IPV4_TOTAL_LENGTH] << 8) | buf[base + IPV4_TOTAL_LENGTH + 1];
    const flagsFragment = (buf[base + IPV4_FLAGS_FRAGMENT] << 8) | buf[base + IPV4_FLAGS_FRAGMENT + 1];
    const fragmentOffset = (flagsFragment & IPV4_OFFSET_MASK) * 8;
    const moreFragments = (flagsFragment & IPV4_FLAG_MF) !== 0;
    // Words 1..3 are always 0 after an IPv4 packet: only an IPv6 one can have set them.
    if (rec.ipVersion !== 4) clearIpv6AddressWords(rec);
    rec.ipVersion = 4;
    rec.ipHeaderLength = headerLength;
    rec.ipTotalLength = totalLength;
    rec.ttl = buf[base + IPV4_TTL];
    rec.protocol = buf[base + IPV4_PROTOCOL];
    rec.ipId = (buf[base + IPV4_ID] << 8) | buf[base + IPV4_ID + 1];
    rec.moreFragments = moreFragments;
    rec.fragmentOffset = fragmentOffset;
    rec.isFragment = moreFragments || fragmentOffset !== 0;
    const src = base + IPV4_SRC;
    const dst = base + IPV4_DST;
    rec.src0 = ((buf[src] << 24) | (buf[src + 1] << 16) | (buf[src + 2] << 8) | buf[src + 3]) >>> 0;
    rec.dst0 = ((buf[dst] << 24) | (buf[dst + 1] << 16) | (buf[dst + 2] << 8) | buf[dst + 3]) >>> 0;
    if (headerLength < IPV4_MIN_HEADER || headerLength > length) {
      markMalformed(rec, MALFORMED_BAD_HEADER_LENGTH, 0);
      break ip;
    }
    // Bytes past the total length are link-layer padding (Ethernet pads to 60); fewer is a lie or a cut.
    if (totalLength < headerLength || totalLength > length) {
      markMalformed(rec, MALFORMED_LENGTH_MISMATCH, IPV4_TOTAL_LENGTH);
      break ip;
    }
    if (headerLength > IPV4_MIN_HEADER) {
      const badAt = findBadIpv4Option(buf, base + IPV4_MIN_HEADER, base + headerLength);
      if (badAt >= 0) {
        markMalformed(rec, MALFORMED_BAD_OPTIONS, badAt - base);
        break ip;
      }
    }
    if (verify && internetChecksum(buf, base, headerLength) !== 0) {
      markMalformed(rec, MALFORMED_BAD_CHECKSUM, IPV4_CHECKSUM);
      break ip;
    }
    written = decodeTransport(buf, base, base + headerLength, base + totalLength, rec, verify, IPV4_FLAGS_FRAGMENT);
  }
  if (written === GROUP_NONE) clearL4(rec);
  if (written !== previousGroup) clearGroup(rec, previousGroup);
  return rec.malformed === 0;
}

/** Index of the first malformed IPv4 option in buf[at, end), or -1 (RFC 791: type, length >= 2, data). */
function findBadIpv4Option(buf: Uint8Array, at: number, end: number): number {
  while (at < end) {
    const type = buf[at];
    if (type === IPV4_OPTION_END) return -1;
    if (type === IPV4_OPTION_NOP) {
      at++;
      continue;
    }
    if (at + 1 >= end) return at;
    const optionLength = buf[at + 1];
    if (optionLength < 2 || at + optionLength > end) return at;
    at += optionLength;
  }
  return -1;
}

function decodeIpv6(buf: Uint8Array, base: number, length: number, rec: PacketRecord, verify: boolean): number {
  if (length < IPV6_HEADER) {
    clearIp(rec, 6);
    markMalformed(rec, MALFORMED_TRUNCATED, 0);
    return GROUP_NONE;
  }
  const payloadLength = (buf[base + IPV6_PAYLOAD_LENGTH] << 8) | buf[base + IPV6_PAYLOAD_LENGTH + 1];
  rec.ipVersion = 6;
  rec.ipHeaderLength = IPV6_HEADER;
  rec.ipTotalLength = IPV6_HEADER + payloadLength;
  rec.ttl = buf[base + IPV6_HOP_LIMIT];
  rec.protocol = buf[base + IPV6_NEXT_HEADER];
  rec.ipId = 0;
  rec.moreFragments = false;
  rec.fragmentOffset = 0;
  rec.isFragment = false;
  const src = base + IPV6_SRC;
  const dst = base + IPV6_DST;
  rec.src0 = ((buf[src] << 24) | (buf[src + 1] << 16) | (buf[src + 2] << 8) | buf[src + 3]) >>> 0;
  rec.src1 = ((buf[src + 4] << 24) | (buf[src + 5] << 16) | (buf[src + 6] << 8) | buf[src + 7]) >>> 0;
  rec.src2 = ((buf[src + 8] << 24) | (buf[src + 9] << 16) | (buf[src + 10] << 8) | buf[src + 11]) >>> 0;
  rec.src3 = ((buf[src + 12] << 24) | (buf[src + 13] << 16) | (buf[src + 14] << 8) | buf[src + 15]) >>> 0;
  rec.dst0 = ((buf[dst] << 24) | (buf[dst + 1] << 16) | (buf[dst + 2] << 8) | buf[dst + 3]) >>> 0;
  rec.dst1 = ((buf[dst + 4] << 24) | (buf[dst + 5] << 16) | (buf[dst + 6] << 8) | buf[dst + 7]) >>> 0;
  rec.dst2 = ((buf[dst + 8] << 24) | (buf[dst + 9] << 16) | (buf[dst + 10] << 8) | buf[dst + 11]) >>> 0;
  rec.dst3 = ((buf[dst + 12] << 24) | (buf[dst + 13] << 16) | (buf[dst + 14] << 8) | buf[dst + 15]) >>> 0;
  if (IPV6_HEADER + payloadLength > length) {
    markMalformed(rec, MALFORMED_LENGTH_MISMATCH, IPV6_PAYLOAD_LENGTH);
    return GROUP_NONE;
  }
  const end = base + IPV6_HEADER + payloadLength;
  // Most packets have no extension header: go straight to the upper layer.
  if (!isExtensionHeader(rec.protocol)) return decodeTransport(buf, base, base + IPV6_HEADER, end, rec, verify, 0);
  const walk = extensionWalk;
  walkIpv6Extensions(buf, rec.protocol, base + IPV6_HEADER, end);
  rec.protocol = walk.next;
  rec.ipHeaderLength = walk.end - base;
  if (walk.hasFragment) {
    rec.ipId = walk.fragmentId;
    rec.moreFragments = walk.moreFragments;
    rec.fragmentOffset = walk.fragmentOffset;
    rec.isFragment = walk.moreFragments || walk.fragmentOffset !== 0;
  }
  if (walk.errorAt >= 0) {
    markMalformed(rec, MALFORMED_BAD_EXTENSION_HEADER, walk.errorAt - base);
    return GROUP_NONE;
  }
  return decodeTransport(buf, base, walk.end, end, rec, verify, walk.fragmentAt - base);
}

/**
 * Decode the upper-layer header at buf[l4, end). `fragmentFieldAt` locates the fragment
 * offset field, for malformedAt. Returns the group written; a decoder that runs writes
 * every common L4 field (ports, payload, hasL4).
 */
function decodeTransport(
  buf: Uint8Array,
  base: number,
  l4: number,
  end: number,
  rec: PacketRecord,
  verify: boolean,
  fragmentFieldAt: number,
): number {
  const protocol = rec.protocol;
  rec.l4Offset = l4 - base;
  if (rec.isFragment && !fragmentHasL4(rec, end - l4, fragmentFieldAt)) return GROUP_NONE;
  rec.hasL4 = false;
  if (protocol === PROTO_TCP) {
    decodeTcp(buf, base, l4, end, rec, verify);
    return PROTO_TCP;
  }
  if (protocol === PROTO_UDP) {
    decodeUdp(buf, base, l4, end, rec, verify);
    return PROTO_UDP;
  }
  if (protocol === PROTO_ICMP || protocol === PROTO_ICMPV6) {
    decodeIcmp(buf, base, l4, end, rec, verify);
    return PROTO_ICMP;
  }
  return GROUP_NONE;
}

/**
 * Whether a fragment carries an L4 header to decode: only the first one does, and then
 * only when RFC 1858's checks pass (kept out of decodeTransport, which must stay small
 * enough to be inlined).
 */
function fragmentHasL4(rec: PacketRecord, l4Length: number, fragmentFieldAt: number): boolean {
  if (rec.fragmentOffset !== 0) {
    // A TCP fragment at offset 8 overwrites the flags of the first one (RFC 1858 3.2.2).
    if (rec.protocol === PROTO_TCP && rec.fragmentOffset === 8) {
      markMalformed(rec, MALFORMED_FRAGMENT_OVERLAP, fragmentFieldAt);
    }
    // The datagram it belongs to would be longer than any datagram can be (the "ping of
    // death"): IPv4's total length counts the header (RFC 791), IPv6's payload length the
    // unfragmentable extension headers before the fragment header (RFC 8200 4.5).
    const unfragmentable = rec.ipVersion === 4 ? rec.l4Offset : rec.l4Offset - IPV6_HEADER - IPV6_FRAGMENT_HEADER;
    if (unfragmentable + rec.fragmentOffset + l4Length > MAX_DATAGRAM) {
      markMalformed(rec, MALFORMED_FRAGMENT_TOO_LONG, fragmentFieldAt);
    }
    return false;
  }
  // A first fragment must carry the TCP flags, or a later fragment could supply them (RFC 1858 3.2.1).
  if (rec.protocol === PROTO_TCP && l4Length < TCP_BYTES_THROUGH_FLAGS) {
    markMalformed(rec, MALFORMED_TINY_FRAGMENT, rec.l4Offset);
    return false;
  }
  return true;
}
