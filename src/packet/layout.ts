// Wire layout of the headers meshfilter reads and writes: field offsets (from the start
// of each header), fixed lengths and protocol codes, written once here so the decoder
// and the builder cannot disagree.

// ---- IPv4 (RFC 791) ----
export const IPV4_MIN_HEADER = 20;
export const IPV4_TOTAL_LENGTH = 2;
export const IPV4_ID = 4;
export const IPV4_FLAGS_FRAGMENT = 6; // 3 flag bits (reserved, DF, MF) + 13-bit offset in 8-byte units
export const IPV4_TTL = 8;
export const IPV4_PROTOCOL = 9;
export const IPV4_CHECKSUM = 10;
export const IPV4_SRC = 12;
export const IPV4_DST = 16;
export const IPV4_FLAG_DF = 0x4000;
export const IPV4_FLAG_MF = 0x2000;
export const IPV4_OFFSET_MASK = 0x1fff;
// IPv4 options (RFC 791): the two one-byte options; all others are type, length, data.
export const IPV4_OPTION_END = 0;
export const IPV4_OPTION_NOP = 1;

// ---- IPv6 (RFC 8200) ----
export const IPV6_HEADER = 40;
export const IPV6_PAYLOAD_LENGTH = 4;
export const IPV6_NEXT_HEADER = 6;
export const IPV6_HOP_LIMIT = 7;
export const IPV6_SRC = 8;
export const IPV6_DST = 24;
// Extension headers and the other next-header codes the decoder must recognise.
export const NH_HOP_BY_HOP = 0;
export const NH_ROUTING = 43;
export const NH_FRAGMENT = 44;
export const NH_ESP = 50;
export const NH_AH = 51;
export const NH_NO_NEXT_HEADER = 59;
export const NH_DESTINATION_OPTIONS = 60;
/** Fragment header: next header, reserved, offset (13 bits, 8-byte units) << 3 | M, identification. */
export const IPV6_FRAGMENT_HEADER = 8;
export const IPV6_FRAGMENT_MF = 0x0001;
export const IPV6_FRAGMENT_OFFSET_MASK = 0xfff8;

// ---- TCP (RFC 9293) ----
export const TCP_MIN_HEADER = 20;
export const TCP_SEQ = 4;
export const TCP_ACK_NUMBER = 8;
export const TCP_DATA_OFFSET = 12; // high nibble, in 32-bit words
export const TCP_FLAGS = 13;
export const TCP_WINDOW = 14;
export const TCP_CHECKSUM = 16;
export const TCP_URGENT = 18;
/** Bytes a first fragment must hold so the flags are not in a later fragment (RFC 1858 "tiny fragment"). */
export const TCP_BYTES_THROUGH_FLAGS = 14;
export const TCP_MAX_OPTIONS = 40;
export const TCPOPT_END = 0;
export const TCPOPT_NOP = 1;
export const TCPOPT_MSS = 2;
export const TCPOPT_WINDOW_SCALE = 3;
export const TCPOPT_SACK_PERMITTED = 4;
export const TCPOPT_SACK = 5;
export const TCPOPT_TIMESTAMP = 8;
export const TCPOPT_TIMESTAMP_LENGTH = 10;

// ---- UDP (RFC 768) ----
export const UDP_HEADER = 8;
export const UDP_LENGTH = 4;
export const UDP_CHECKSUM = 6;

// ---- ICMPv4 (RFC 792) and ICMPv6 (RFC 4443) ----
export const ICMP_HEADER = 8;
export const ICMP_CHECKSUM = 2;
export const ICMP_ID = 4;
export const ICMP_SEQ = 6;
export const ICMP4_ECHO_REPLY = 0;
export const ICMP4_UNREACHABLE = 3;
export const ICMP4_SOURCE_QUENCH = 4;
export const ICMP4_REDIRECT = 5;
export const ICMP4_ECHO_REQUEST = 8;
export const ICMP4_TIME_EXCEEDED = 11;
export const ICMP4_PARAMETER_PROBLEM = 12;
export const ICMP6_UNREACHABLE = 1;
export const ICMP6_PACKET_TOO_BIG = 2;
export const ICMP6_TIME_EXCEEDED = 3;
export const ICMP6_PARAMETER_PROBLEM = 4;
export const ICMP6_ECHO_REQUEST = 128;
export const ICMP6_ECHO_REPLY = 129;
