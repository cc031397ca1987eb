// Connection state codes: one number space for every protocol, so a table entry's
// state byte, its timeout and its printable name are all looked up by the same index.
//
// TCP states describe the connection as a middlebox sees both ends of it. The
// handshake states follow Linux conntrack (SYN_RECEIVED = the responder's SYN-ACK
// was seen; SYN_SENT2 = both ends sent a SYN, simultaneous open). The close states
// name the ORIGINATOR's RFC 793 state: FIN_WAIT_1/FIN_WAIT_2/CLOSING/TIME_WAIT when
// the originator closes first (its active close), CLOSE_WAIT/LAST_ACK when the
// responder closes first. CLOSED means reset.

export const TCP_NONE = 0;
export const TCP_SYN_SENT = 1;
export const TCP_SYN_SENT2 = 2;
export const TCP_SYN_RECEIVED = 3;
export const TCP_ESTABLISHED = 4;
export const TCP_FIN_WAIT_1 = 5;
export const TCP_FIN_WAIT_2 = 6;
export const TCP_CLOSING = 7;
export const TCP_TIME_WAIT = 8;
export const TCP_CLOSE_WAIT = 9;
export const TCP_LAST_ACK = 10;
export const TCP_CLOSED = 11;
/** Number of TCP state codes (columns of the transition table). */
export const TCP_STATE_COUNT = 12;

// UDP and other connectionless protocols: a flow is unreplied until the responder
// sends something back (Linux: "UNREPLIED" vs "ASSURED"; pf: SINGLE vs MULTIPLE).
export const UDP_UNREPLIED = 12;
export const UDP_REPLIED = 13;
// ICMP echo sessions.
export const ICMP_UNREPLIED = 14;
export const ICMP_REPLIED = 15;
// Any other IP protocol (GRE, ESP, SCTP...): tracked by addresses only.
export const OTHER_UNREPLIED = 16;
export const OTHER_REPLIED = 17;

export const STATE_COUNT = 18;

export const STATE_NAMES: readonly string[] = [
  "none",
  "syn-sent",
  "syn-sent2",
  "syn-received",
  "established",
  "fin-wait-1",
  "fin-wait-2",
  "closing",
  "time-wait",
  "close-wait",
  "last-ack",
  "closed",
  "udp-unreplied",
  "udp-replied",
  "icmp-unreplied",
  "icmp-replied",
  "other-unreplied",
  "other-replied",
];

/** Printable name of a state code; "unknown(n)" for codes outside the set. */
export function stateName(code: number): string {
  return code >= 0 && code < STATE_COUNT ? STATE_NAMES[code] : `unknown(${code})`;
}

/** True for states a connection can be torn down from quietly (eviction priority 1). */
export function isClosingDown(state: number): boolean {
  return state === TCP_TIME_WAIT || state === TCP_CLOSED || state === TCP_CLOSING || state === TCP_LAST_ACK;
}

/** True for states in which the responder has not (yet) confirmed the flow (eviction priority 2). */
export function isUnconfirmed(state: number): boolean {
  return (
    state === TCP_SYN_SENT ||
    state === TCP_SYN_SENT2 ||
    state === TCP_SYN_RECEIVED ||
    state === UDP_UNREPLIED ||
    state === ICMP_UNREPLIED ||
    state === OTHER_UNREPLIED
  );
}
