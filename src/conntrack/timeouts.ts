// Idle timeouts per state, in milliseconds. An entry expires when it has seen no
// packet for its state's timeout (scaled down by adaptive timeouts as the table
// fills, see conntrack.ts). Defaults follow Linux nf_conntrack; docs/conntrack.md
// lists them next to pf's and NetBird's.

import {
  ICMP_REPLIED,
  ICMP_UNREPLIED,
  OTHER_REPLIED,
  OTHER_UNREPLIED,
  STATE_COUNT,
  TCP_CLOSE_WAIT,
  TCP_CLOSED,
  TCP_CLOSING,
  TCP_ESTABLISHED,
  TCP_FIN_WAIT_1,
  TCP_FIN_WAIT_2,
  TCP_LAST_ACK,
  TCP_NONE,
  TCP_SYN_RECEIVED,
  TCP_SYN_SENT,
  TCP_SYN_SENT2,
  TCP_TIME_WAIT,
  UDP_REPLIED,
  UDP_UNREPLIED,
} from "./states.ts";

export interface Timeouts {
  tcpSynSent: number;
  tcpSynReceived: number;
  tcpEstablished: number;
  /** FIN_WAIT_1, FIN_WAIT_2 and CLOSING (Linux: fin_wait). */
  tcpFinWait: number;
  tcpCloseWait: number;
  tcpLastAck: number;
  tcpTimeWait: number;
  /** After a RST (Linux: close). */
  tcpClosed: number;
  udpUnreplied: number;
  /** Linux "udp stream": a flow that saw replies. */
  udpReplied: number;
  icmp: number;
  /** Other IP protocols (Linux generic: 600 s; pf other.multiple: 60 s). */
  other: number;
}

const SECOND = 1000;

export const DEFAULT_TIMEOUTS: Readonly<Timeouts> = Object.freeze({
  tcpSynSent: 120 * SECOND,
  tcpSynReceived: 60 * SECOND,
  tcpEstablished: 5 * 24 * 3600 * SECOND,
  tcpFinWait: 120 * SECOND,
  tcpCloseWait: 60 * SECOND,
  tcpLastAck: 30 * SECOND,
  tcpTimeWait: 120 * SECOND,
  tcpClosed: 10 * SECOND,
  udpUnreplied: 30 * SECOND,
  udpReplied: 120 * SECOND,
  icmp: 30 * SECOND,
  other: 60 * SECOND,
});

/**
 * Merge `overrides` into the defaults and lay the result out by state code, the form
 * the hot path reads. Throws naming the field when a value is not a positive number.
 */
export function timeoutsByState(overrides: Partial<Timeouts> = {}): Float64Array {
  const t: Timeouts = { ...DEFAULT_TIMEOUTS };
  for (const [name, value] of Object.entries(overrides)) {
    if (!(name in DEFAULT_TIMEOUTS)) throw new Error(`conntrack timeouts: unknown field "${name}"`);
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      throw new Error(`conntrack timeouts.${name}: ${String(value)} is not a positive number of milliseconds`);
    }
    t[name as keyof Timeouts] = value;
  }
  const byState = new Float64Array(STATE_COUNT);
  byState[TCP_NONE] = t.tcpClosed;
  byState[TCP_SYN_SENT] = t.tcpSynSent;
  byState[TCP_SYN_SENT2] = t.tcpSynSent;
  byState[TCP_SYN_RECEIVED] = t.tcpSynReceived;
  byState[TCP_ESTABLISHED] = t.tcpEstablished;
  byState[TCP_FIN_WAIT_1] = t.tcpFinWait;
  byState[TCP_FIN_WAIT_2] = t.tcpFinWait;
  byState[TCP_CLOSING] = t.tcpFinWait;
  byState[TCP_TIME_WAIT] = t.tcpTimeWait;
  byState[TCP_CLOSE_WAIT] = t.tcpCloseWait;
  byState[TCP_LAST_ACK] = t.tcpLastAck;
  byState[TCP_CLOSED] = t.tcpClosed;
  byState[UDP_UNREPLIED] = t.udpUnreplied;
  byState[UDP_REPLIED] = t.udpReplied;
  byState[ICMP_UNREPLIED] = t.icmp;
  byState[ICMP_REPLIED] = t.icmp;
  byState[OTHER_UNREPLIED] = t.other;
  byState[OTHER_REPLIED] = t.other;
  return byState;
}
