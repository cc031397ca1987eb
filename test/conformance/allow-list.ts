// Disagreements with Linux that are meshfilter's deliberate choices. Each entry names
// the scenario and packet and the departure that explains it; each departure is a
// section of docs/conntrack.md ("Departures from Linux"), which says what Linux does,
// what meshfilter does instead, and why. The test checks that every departure named
// here is written there. Anything not listed here (or, for now, in
// expected-failures.ts) fails the test.

import type { PacketSelector } from "./compare.ts";

/** The departures, by their heading in docs/conntrack.md. */
export const DEPARTURES = {
  oldSegment: "Segments older than the window are dropped",
  icmpQuoteWindow: "ICMP errors must quote a sequence number inside the window",
  sourceQuench: "ICMP source quench is always dropped",
  refusedChangesNothing: "A refused segment changes nothing",
  sackNotRead: "SACK blocks are not read",
  synRetransmit: "A retransmitted SYN restarts the originator's side whatever its sequence number",
  synAckInForce: "A SYN-ACK must acknowledge the SYN in force",
  ownTcpUntracked: "This peer's own TCP that opens nothing passes untracked",
} as const;

export type Departure = (typeof DEPARTURES)[keyof typeof DEPARTURES];

export interface AllowEntry extends PacketSelector {
  departure: Departure;
  /** Why this packet shows the departure. */
  why: string;
}

const OLD = DEPARTURES.oldSegment;

export const ALLOW_LIST: AllowEntry[] = [
  { scenario: "window-retransmit-below-lower-edge", packet: "end = td_end-maxwin-1", departure: OLD, why: "ends one byte below sender.td_end - receiver.td_maxwin (check II): Linux ignores it and passes it" },
  { scenario: "wscale-retransmit-lower-edge", packet: "end = td_end-maxwin-1", departure: OLD, why: "check II with a scaled receiver window: Linux ignores it and passes it" },
  { scenario: "window-ack-below-lower-edge", packet: "data, ack = td_end-66001", departure: OLD, why: "ACK one below receiver.td_end - 66000 (check IV): Linux ignores the segment, data and all, and passes it" },
  { scenario: "wscale-ack-lower-edge-large-window", packet: "data, ack = td_end-maxwin-1", departure: OLD, why: "ACK one below receiver.td_end - sender.td_maxwin (check IV, window above 66000): Linux ignores and passes it" },
  { scenario: "blind-ack-too-old", packet: "ack far below", departure: OLD, why: "a blind ACK 2^30 behind (check IV): Linux passes it to the endpoint" },
  { scenario: "blind-data-too-old", packet: "data far below", departure: OLD, why: "blind data 2^30 behind (check II): Linux passes it to the endpoint" },
  { scenario: "blind-data-server-too-old", packet: "s data far below", departure: OLD, why: "blind data from the server's side 2^30 behind (check II): Linux passes it" },
  {
    scenario: "icmp-error-tracked-tcp-seq-out-of-window",
    packet: "frag needed, seq far off",
    departure: DEPARTURES.icmpQuoteWindow,
    why: "the quoted sequence number is 2^30 beyond the client's window: Linux relates it by the tuple alone",
  },
  { scenario: "icmp-source-quench", packet: "source quench", departure: DEPARTURES.sourceQuench, why: "Linux relates a source quench quoting a tracked flow like any ICMP error" },
  {
    scenario: "handshake-rst-answers-syn-wrong-ack",
    packet: "A completing the handshake",
    departure: DEPARTURES.refusedChangesNothing,
    why: "the refused RST initialised Linux's reply direction, so it ignored the real SYN-ACK and drops the client's final ACK",
  },
  {
    scenario: "window-seq-overshoot",
    packet: "after",
    departure: OLD,
    why: "after the overshoot moved the client's td_end, this retransmission ends more than the server's window (2000) below it (check II): Linux ignores and passes it",
  },
  {
    scenario: "window-seq-overshoot-last",
    packet: "after",
    departure: OLD,
    why: "as in window-seq-overshoot: check II after td_end moved by the overshoot; Linux ignores and passes it",
  },
  { scenario: "holes-sack-block-beyond-sent", packet: "SACK beyond sent", departure: DEPARTURES.sackNotRead, why: "its SACK block acknowledges data the client never sent; its ACK number is fine, and only that is checked" },
  { scenario: "handshake-syn-retransmit-lower-isn", packet: "A", departure: DEPARTURES.synRetransmit, why: "the retried SYN (lower ISN) is the one in force: the ACK completing its handshake passes; Linux kept the first SYN's numbers" },
  { scenario: "handshake-syn-retransmit-lower-isn", packet: "data", departure: DEPARTURES.synRetransmit, why: "data on the connection the retried SYN opened; Linux never left SYN_SENT" },
  { scenario: "handshake-synack-answers-first-syn", packet: "SA acks S1", departure: DEPARTURES.synAckInForce, why: "acknowledges the first SYN, not the retried one in force: dropped (synack-not-acking-syn); Linux passes it on III/IV" },
  { scenario: "handshake-syn-to-closed-port", packet: "RA", departure: DEPARTURES.ownTcpUntracked, why: "the server's RST refusing a SYN the policy dropped: its own traffic (P13), passed untracked; Linux finds no connection and marks it invalid" },
  { scenario: "mid-stream-rst", packet: "s R", departure: DEPARTURES.ownTcpUntracked, why: "the server's RST on a connection the table does not know (P13): passed untracked; invalid for Linux" },
  { scenario: "mid-stream-server-fin", packet: "s FA", departure: DEPARTURES.ownTcpUntracked, why: "the server's FIN on a connection the table does not know (P13): passed untracked; Linux's tcp_new refuses a FIN" },
  { scenario: "mid-stream-server-synack", packet: "s SA unsolicited", departure: DEPARTURES.ownTcpUntracked, why: "the server's unsolicited SYN-ACK (P13): passed untracked; Linux's tcp_new refuses a SYN-ACK" },
];
