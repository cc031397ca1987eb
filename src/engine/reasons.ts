// Why the engine accepted or dropped a packet: a closed set of numeric codes with
// names. The engine counts every verdict under its reason (Engine.reasonCounts) and
// leaves the last one in Engine.lastReason.

// ---- accept ----
/** A new connection that a rule allowed (now tracked). */
export const REASON_RULE = 0;
/** A packet of a tracked connection, in either direction (P7). */
export const REASON_ESTABLISHED = 1;
/** An ICMP error (or ICMPv4 redirect) quoting a tracked connection with all the evidence the relation needs (P11). */
export const REASON_RELATED = 2;
/** A connection this peer opened: not filtered, but tracked so its replies pass (P13). */
export const REASON_OUTBOUND = 3;
/** As REASON_OUTBOUND, but the table was full: sent untracked, so its replies will not pass. */
export const REASON_OUTBOUND_UNTRACKED = 4;
/** A non-first fragment whose first fragment was accepted. */
export const REASON_FRAGMENT = 5;
/** An ICMP message that opens no session (not echo, not an error), allowed by an icmp rule (P11), or sent by this peer (P13). */
export const REASON_RULE_UNTRACKED = 6;
/** An RST inside the window but not at the exact sequence number: passed to the endpoint,
 *  which answers it with a challenge ACK (RFC 5961 3.2); the flow's state is kept. */
export const REASON_TCP_RST_CHALLENGE = 7;
/** A SYN from the originator on an established (or closing) connection: passed without a
 *  state change, in case the originator restarted (Linux TCP_CONNTRACK_IGNORE). */
export const REASON_TCP_SYN_IGNORED = 8;
/** A packet other than a SYN passed without a state change, as Linux IGNOREs it: the
 *  responder's ACK before its SYN-ACK (a challenge ACK from a host still in TIME_WAIT
 *  answering a reused port's SYN; the originator's RST answering it ends the entry, and
 *  its next SYN opens a new connection), or a SYN-ACK repeated after the first. */
export const REASON_TCP_IGNORED = 9;
/** A segment beyond the receiver's window by at most one window: passed, the state kept
 *  but for the sender's highest sequence number (Linux: "bytes more than expected"). */
export const REASON_TCP_OVERSHOOT = 10;

// ---- drop ----
/** The packet could not be decoded (see record.malformed for the detail). */
export const REASON_MALFORMED = 11;
/** RFC 1858: a first fragment too short to hold the transport header. */
export const REASON_FRAGMENT_TINY = 12;
/** A fragment overlapping an earlier one of its datagram (RFC 1858, RFC 5722). */
export const REASON_FRAGMENT_OVERLAP = 13;
/** A non-first fragment with no first fragment seen before it. */
export const REASON_FRAGMENT_NO_FIRST = 14;
/** A non-first fragment whose first fragment was dropped. */
export const REASON_FRAGMENT_FIRST_DROPPED = 15;
/** No rule allows this new connection (deny by default, P1). */
export const REASON_NO_RULE = 16;
/** A drop rule matched (P9). */
export const REASON_DROP_RULE = 17;
/** Illegal TCP flag combination (SYN+FIN, SYN+RST, FIN+RST, FIN without ACK, none, xmas...). */
export const REASON_TCP_INVALID_FLAGS = 18;
/** TCP segment outside the tracked sequence/ack window (including RSTs far outside it). */
export const REASON_TCP_OUT_OF_WINDOW = 19;
/** TCP flags not acceptable in the connection's state (e.g. a SYN from the responder on an established connection). */
export const REASON_TCP_INVALID_STATE = 20;
/** A TCP packet that is not a SYN and belongs to no tracked connection. */
export const REASON_TCP_NO_CONNECTION = 21;
/** An ICMP error (or ICMPv4 redirect) that quotes no tracked connection, arrives at the wrong host, quotes too little to tell (TCP: no sequence number; UDP: no ports; ICMP: not an echo request with its id), or (TCP) quotes a sequence number outside the connection's window; and every ICMPv4 source quench (P11). */
export const REASON_ICMP_UNRELATED = 22;
/** An ICMP echo reply with no echo request session (P11). */
export const REASON_ICMP_NO_REQUEST = 23;
/** An ICMP echo request/reply going the wrong way for its session's direction. */
export const REASON_ICMP_WRONG_DIRECTION = 24;
/** The connection table is full and nothing could be evicted. */
export const REASON_TABLE_FULL = 25;
/** Counts flows (not packets) cut by a policy change (P14). */
export const REASON_REVOKED = 26;
/** Inbound packet for an address that is neither this peer's nor a routed resource's. */
export const REASON_NOT_FOR_PEER = 27;
/** Outbound packet from an address that is neither this peer's nor a routed resource's. */
export const REASON_NOT_FROM_PEER = 28;
/** A packet of a tracked flow on the wrong path (the originator's packet arriving the way
 *  the responder's travel, or the other way round), or an inbound packet carrying this
 *  peer's own address as its source: spoofed. */
export const REASON_WRONG_PATH = 29;
/** A fragment reaching past the 65,535 bytes a datagram can hold (IPv4 total length, IPv6 payload length): the "ping of death". */
export const REASON_FRAGMENT_TOO_LONG = 30;

export const REASON_COUNT = 31;
/** Codes below this accept, the rest drop. */
export const FIRST_DROP_REASON = REASON_MALFORMED;

export const REASON_NAMES: readonly string[] = [
  "rule",
  "established",
  "related",
  "outbound",
  "outbound-untracked",
  "fragment",
  "rule-untracked",
  "tcp-rst-challenge",
  "tcp-syn-ignored",
  "tcp-ignored",
  "tcp-overshoot",
  "malformed",
  "fragment-tiny",
  "fragment-overlap",
  "fragment-no-first",
  "fragment-first-dropped",
  "no-rule",
  "drop-rule",
  "tcp-invalid-flags",
  "tcp-out-of-window",
  "tcp-invalid-state",
  "tcp-no-connection",
  "icmp-unrelated",
  "icmp-no-request",
  "icmp-wrong-direction",
  "table-full",
  "revoked",
  "not-for-peer",
  "not-from-peer",
  "wrong-path",
  "fragment-too-long",
];

/**
 * The sub-reasons of `tcp-out-of-window`: which check failed (conntrack/tcp-window.ts
 * names them; index 0 is "none"). The engine keeps the last one in `lastDetail` and
 * counts them in `detailCounts`.
 */
export const WINDOW_DETAIL_NAMES: readonly string[] = [
  "",
  "seq-above-window",
  "seq-below-window",
  "ack-above-sent",
  "ack-below-window",
  "rst-before-ack",
  "rst-not-acking-syn",
  "synack-not-acking-syn",
];

/** True for the codes that accept a packet. */
export function isAcceptReason(code: number): boolean {
  return code >= 0 && code < FIRST_DROP_REASON;
}

/** Printable name of a reason code; "unknown(n)" outside the set. */
export function reasonName(code: number): string {
  return code >= 0 && code < REASON_COUNT ? REASON_NAMES[code] : `unknown(${code})`;
}
