// ICMPv4 (RFC 792) and ICMPv6 (RFC 4443) messages, and the packet an error quotes: the
// conntrack relates an error to a flow through the quoted addresses and ports.

import { internetChecksum, transportChecksum } from "./checksum.ts";
import { extensionWalk, walkIpv6Extensions } from "./ipv6-extensions.ts";
import * as layout from "./layout.ts";
import { markMalformed } from "./malformed.ts";
import * as record from "./record.ts";
import type { PacketRecord } from "./record.ts";

// Module-local copies of imported constants: V8 folds these into the optimized code as
// literals, whereas it re-reads an imported binding (with a TDZ check) at every use.
const ICMP4_ECHO_REPLY = layout.ICMP4_ECHO_REPLY;
const ICMP4_ECHO_REQUEST = layout.ICMP4_ECHO_REQUEST;
const ICMP4_PARAMETER_PROBLEM = layout.ICMP4_PARAMETER_PROBLEM;
const ICMP4_REDIRECT = layout.ICMP4_REDIRECT;
const ICMP4_SOURCE_QUENCH = layout.ICMP4_SOURCE_QUENCH;
const ICMP4_TIME_EXCEEDED = layout.ICMP4_TIME_EXCEEDED;
const ICMP4_UNREACHABLE = layout.ICMP4_UNREACHABLE;
const ICMP6_ECHO_REPLY = layout.ICMP6_ECHO_REPLY;
const ICMP6_ECHO_REQUEST = layout.ICMP6_ECHO_REQUEST;
const ICMP6_PARAMETER_PROBLEM = layout.ICMP6_PARAMETER_PROBLEM;
const ICMP6_UNREACHABLE = layout.ICMP6_UNREACHABLE;
const ICMP_CHECKSUM = layout.ICMP_CHECKSUM;
const ICMP_HEADER = layout.ICMP_HEADER;
const ICMP_ID = layout.ICMP_ID;
const IPV4_DST = layout.IPV4_DST;
const IPV4_FLAGS_FRAGMENT = layout.IPV4_FLAGS_FRAGMENT;
const IPV4_MIN_HEADER = layout.IPV4_MIN_HEADER;
const IPV4_OFFSET_MASK = layout.IPV4_OFFSET_MASK;
const IPV4_PROTOCOL = layout.IPV4_PROTOCOL;
const IPV4_SRC = layout.IPV4_SRC;
const IPV6_DST = layout.IPV6_DST;
const IPV6_HEADER = layout.IPV6_HEADER;
const IPV6_NEXT_HEADER = layout.IPV6_NEXT_HEADER;
const IPV6_SRC = layout.IPV6_SRC;
const MALFORMED_BAD_CHECKSUM = record.MALFORMED_BAD_CHECKSUM;
const MALFORMED_TRUNCATED = record.MALFORMED_TRUNCATED;
const PROTO_ICMP = record.PROTO_ICMP;
const PROTO_ICMPV6 = record.PROTO_ICMPV6;
const PROTO_TCP = record.PROTO_TCP;
const PROTO_UDP = record.PROTO_UDP;
const TCP_SEQ = layout.TCP_SEQ;

/** Set every ICMP and quoted-packet field to its "absent" value. */
export function clearIcmp(rec: PacketRecord): void {
  rec.icmpType = 0;
  rec.icmpCode = 0;
  rec.icmpId = 0;
  rec.icmpIsError = false;
  rec.icmpIsEchoRequest = false;
  rec.icmpIsEchoReply = false;
  // decodeQuote writes the inner fields only once the quote is known valid, and then sets
  // innerValid: with innerValid false they are all still zero.
  if (rec.innerValid) clearInner(rec);
}

function clearInner(rec: PacketRecord): void {
  rec.innerValid = false;
  rec.innerVersion = 0;
  rec.innerProtocol = 0;
  rec.innerSrc0 = 0;
  rec.innerSrc1 = 0;
  rec.innerSrc2 = 0;
  rec.innerSrc3 = 0;
  rec.innerDst0 = 0;
  rec.innerDst1 = 0;
  rec.innerDst2 = 0;
  rec.innerDst3 = 0;
  rec.innerL4Length = 0;
  rec.innerSrcPort = 0;
  rec.innerDstPort = 0;
  rec.innerIcmpId = 0;
  rec.innerIcmpType = 0;
  rec.innerTcpSeq = 0;
}

/**
 * Decode the ICMP message buf[l4, end) of the packet starting at `base` (ICMPv6 when
 * rec.protocol is PROTO_ICMPV6). Writes every ICMP field and every common L4 field. A
 * quote too short to hold an IP header leaves innerValid false without making the
 * packet malformed: the conntrack then finds no flow to relate the error to.
 */
export function decodeIcmp(buf: Uint8Array, base: number, l4: number, end: number, rec: PacketRecord, verify: boolean): void {
  clearIcmp(rec);
  rec.srcPort = 0;
  rec.dstPort = 0;
  if (end - l4 < ICMP_HEADER) {
    rec.payloadOffset = 0;
    rec.payloadLength = 0;
    markMalformed(rec, MALFORMED_TRUNCATED, l4 - base);
    return;
  }
  const isV6 = rec.protocol === PROTO_ICMPV6;
  const type = buf[l4];
  rec.icmpType = type;
  rec.icmpCode = buf[l4 + 1];
  rec.payloadOffset = l4 + ICMP_HEADER - base;
  rec.payloadLength = end - l4 - ICMP_HEADER;
  if (isV6) {
    rec.icmpIsEchoRequest = type === ICMP6_ECHO_REQUEST;
    rec.icmpIsEchoReply = type === ICMP6_ECHO_REPLY;
    rec.icmpIsError = type >= ICMP6_UNREACHABLE && type <= ICMP6_PARAMETER_PROBLEM;
  } else {
    rec.icmpIsEchoRequest = type === ICMP4_ECHO_REQUEST;
    rec.icmpIsEchoReply = type === ICMP4_ECHO_REPLY;
    // Source quench and redirect quote the packet they are about, as the errors do (RFC 792).
    rec.icmpIsError =
      type === ICMP4_UNREACHABLE || type === ICMP4_TIME_EXCEEDED || type === ICMP4_PARAMETER_PROBLEM || type === ICMP4_SOURCE_QUENCH || type === ICMP4_REDIRECT;
  }
  if (rec.icmpIsEchoRequest || rec.icmpIsEchoReply) {
    rec.icmpId = (buf[l4 + ICMP_ID] << 8) | buf[l4 + ICMP_ID + 1];
  }
  if (verify && !rec.isFragment) {
    // ICMPv4 has no pseudo-header; ICMPv6 does (RFC 4443 2.3).
    const sum = isV6 ? transportChecksum(buf, base, l4, end - l4, PROTO_ICMPV6) : internetChecksum(buf, l4, end - l4);
    if (sum !== 0) {
      markMalformed(rec, MALFORMED_BAD_CHECKSUM, l4 + ICMP_CHECKSUM - base);
      return;
    }
  }
  if (rec.icmpIsError) decodeQuote(buf, l4 + ICMP_HEADER, end, rec);
  rec.hasL4 = true;
}

/** Decode the quoted packet buf[at, end): IP header and as much of its L4 header as was quoted. */
function decodeQuote(buf: Uint8Array, at: number, end: number, rec: PacketRecord): void {
  if (at >= end) return;
  const version = buf[at] >> 4;
  let l4: number;
  let protocol: number;
  if (version === 4) {
    const headerLength = (buf[at] & 0x0f) * 4;
    if (end - at < IPV4_MIN_HEADER || headerLength < IPV4_MIN_HEADER || at + headerLength > end) return;
    protocol = buf[at + IPV4_PROTOCOL];
    rec.innerSrc0 = ((buf[at + IPV4_SRC] << 24) | (buf[at + IPV4_SRC + 1] << 16) | (buf[at + IPV4_SRC + 2] << 8) | buf[at + IPV4_SRC + 3]) >>> 0;
    rec.innerDst0 = ((buf[at + IPV4_DST] << 24) | (buf[at + IPV4_DST + 1] << 16) | (buf[at + IPV4_DST + 2] << 8) | buf[at + IPV4_DST + 3]) >>> 0;
    l4 = at + headerLength;
    // A quoted non-first fragment carries no L4 header.
    if ((((buf[at + IPV4_FLAGS_FRAGMENT] << 8) | buf[at + IPV4_FLAGS_FRAGMENT + 1]) & IPV4_OFFSET_MASK) !== 0) l4 = end;
  } else if (version === 6) {
    if (end - at < IPV6_HEADER) return;
    rec.innerSrc0 = ((buf[at + IPV6_SRC] << 24) | (buf[at + IPV6_SRC + 1] << 16) | (buf[at + IPV6_SRC + 2] << 8) | buf[at + IPV6_SRC + 3]) >>> 0;
    rec.innerSrc1 = ((buf[at + IPV6_SRC + 4] << 24) | (buf[at + IPV6_SRC + 5] << 16) | (buf[at + IPV6_SRC + 6] << 8) | buf[at + IPV6_SRC + 7]) >>> 0;
    rec.innerSrc2 = ((buf[at + IPV6_SRC + 8] << 24) | (buf[at + IPV6_SRC + 9] << 16) | (buf[at + IPV6_SRC + 10] << 8) | buf[at + IPV6_SRC + 11]) >>> 0;
    rec.innerSrc3 = ((buf[at + IPV6_SRC + 12] << 24) | (buf[at + IPV6_SRC + 13] << 16) | (buf[at + IPV6_SRC + 14] << 8) | buf[at + IPV6_SRC + 15]) >>> 0;
    rec.innerDst0 = ((buf[at + IPV6_DST] << 24) | (buf[at + IPV6_DST + 1] << 16) | (buf[at + IPV6_DST + 2] << 8) | buf[at + IPV6_DST + 3]) >>> 0;
    rec.innerDst1 = ((buf[at + IPV6_DST + 4] << 24) | (buf[at + IPV6_DST + 5] << 16) | (buf[at + IPV6_DST + 6] << 8) | buf[at + IPV6_DST + 7]) >>> 0;
    rec.innerDst2 = ((buf[at + IPV6_DST + 8] << 24) | (buf[at + IPV6_DST + 9] << 16) | (buf[at + IPV6_DST + 10] << 8) | buf[at + IPV6_DST + 11]) >>> 0;
    rec.innerDst3 = ((buf[at + IPV6_DST + 12] << 24) | (buf[at + IPV6_DST + 13] << 16) | (buf[at + IPV6_DST + 14] << 8) | buf[at + IPV6_DST + 15]) >>> 0;
    walkIpv6Extensions(buf, buf[at + IPV6_NEXT_HEADER], at + IPV6_HEADER, end);
    protocol = extensionWalk.next;
    l4 = extensionWalk.errorAt >= 0 || extensionWalk.fragmentOffset !== 0 ? end : extensionWalk.end;
  } else {
    return;
  }
  rec.innerValid = true;
  rec.innerVersion = version;
  rec.innerProtocol = protocol;
  const quoted = end - l4;
  rec.innerL4Length = quoted;
  if (protocol === PROTO_TCP || protocol === PROTO_UDP) {
    if (quoted >= 4) {
      rec.innerSrcPort = (buf[l4] << 8) | buf[l4 + 1];
      rec.innerDstPort = (buf[l4 + 2] << 8) | buf[l4 + 3];
    }
    if (protocol === PROTO_TCP && quoted >= TCP_SEQ + 4) rec.innerTcpSeq = ((buf[l4 + TCP_SEQ] << 24) | (buf[l4 + TCP_SEQ + 1] << 16) | (buf[l4 + TCP_SEQ + 2] << 8) | buf[l4 + TCP_SEQ + 3]) >>> 0;
  } else if (protocol === (version === 4 ? PROTO_ICMP : PROTO_ICMPV6)) {
    if (quoted >= 1) rec.innerIcmpType = buf[l4];
    const echo =
      version === 4
        ? rec.innerIcmpType === ICMP4_ECHO_REQUEST || rec.innerIcmpType === ICMP4_ECHO_REPLY
        : rec.innerIcmpType === ICMP6_ECHO_REQUEST || rec.innerIcmpType === ICMP6_ECHO_REPLY;
    if (echo && quoted >= ICMP_ID + 2) rec.innerIcmpId = (buf[l4 + ICMP_ID] << 8) | buf[l4 + ICMP_ID + 1];
  }
}
