// The TCP state machine, as ONE table indexed by (direction, flag class, state), in
// the manner of Linux nf_conntrack_proto_tcp.c. A reader finds every transition here;
// the code around it only computes the indexes. State meanings: see states.ts.

import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, TCP_URG } from "../packet/record.ts";
import {
  TCP_CLOSE_WAIT as CW,
  TCP_CLOSED as CL,
  TCP_CLOSING as CG,
  TCP_ESTABLISHED as ES,
  TCP_FIN_WAIT_1 as F1,
  TCP_FIN_WAIT_2 as F2,
  TCP_LAST_ACK as LA,
  TCP_STATE_COUNT,
  TCP_SYN_RECEIVED as SR,
  TCP_SYN_SENT as SS,
  TCP_SYN_SENT2 as S2,
  TCP_TIME_WAIT as TW,
} from "./states.ts";

/** Packet direction relative to the entry: from the originator, or from the responder. */
export const DIR_ORIGINAL = 0;
export const DIR_REPLY = 1;

// Flag classes. FIN and ACK are split by whether the packet acknowledges the other
// end's FIN, because that is what moves a closing connection along.
export const CLASS_SYN = 0;
export const CLASS_SYNACK = 1;
export const CLASS_FIN = 2;
export const CLASS_FIN_ACKS_FIN = 3;
export const CLASS_ACK = 4;
export const CLASS_ACK_ACKS_FIN = 5;
export const CLASS_RST = 6;
/** An illegal flag combination (SYN+FIN, SYN+RST, FIN+RST, FIN without ACK, no flags, xmas...). */
export const CLASS_INVALID = 7;
export const CLASS_COUNT = 8;

export const CLASS_NAMES: readonly string[] = ["syn", "synack", "fin", "fin-acks-fin", "ack", "ack-acks-fin", "rst", "invalid"];

/** Outcome: drop the packet, leave the state alone. */
export const T_INVALID = -1;
/** Outcome: a SYN on a finished connection (port reuse): forget the entry, judge the packet as new. */
export const T_RESTART = -2;

/** Outcome: pass the packet without a state change (Linux TCP_CONNTRACK_IGNORE): a SYN
 *  from the originator of a live connection, which may have restarted and reused its port;
 *  an ACK from the responder before its SYN-ACK (a challenge ACK from a host that still
 *  holds an old connection on the tuple), which the originator answers with an RST; or a
 *  SYN-ACK repeated after the first. */
export const T_IGNORE = -3;

const IV = T_INVALID;
const RS = T_RESTART;
const IG = T_IGNORE;

// Columns (state before):
//   NO  SS  S2  SR  ES  F1  F2  CG  TW  CW  LA  CL
// prettier-ignore
const ORIGINAL: readonly (readonly number[])[] = [
  /* syn          */ [SS, SS, S2, SR, IG, IG, IG, IG, RS, IG, IG, RS], // retransmits keep the state; reuse after TW/CL; IG: restarted originator?
  /* synack       */ [IV, IV, SR, SR, IV, IV, IV, IV, IV, IV, IV, IV], // only in simultaneous open
  /* fin          */ [IV, IV, IV, F1, F1, F1, F2, CG, TW, CG, LA, CL], // CW+FIN not acking theirs: both closing
  /* fin-acks-fin */ [IV, IV, IV, F1, F1, F1, F2, CG, TW, LA, LA, CL],
  /* ack          */ [IV, IV, IV, ES, ES, F1, F2, CG, TW, CW, LA, CL], // SR+ACK completes the handshake; CL: late segments after an RST (Linux)
  /* ack-acks-fin */ [IV, IV, IV, ES, ES, F1, F2, CG, TW, CW, LA, CL], // acking their FIN does not change our side
  /* rst          */ [IV, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL],
  /* invalid      */ [IV, IV, IV, IV, IV, IV, IV, IV, IV, IV, IV, IV],
];

// prettier-ignore
const REPLY: readonly (readonly number[])[] = [
  /* syn          */ [IV, S2, S2, IV, IV, IV, IV, IV, RS, IV, IV, RS], // SS+SYN: simultaneous open
  /* synack       */ [IV, SR, SR, IG, IG, IV, IV, IV, IV, IV, IV, IV], // SR, ES: a repeated SYN-ACK (lost final ACK, or a new ISN) passes unchanged (Linux)
  /* fin          */ [IV, IV, IV, IV, CW, CG, TW, CG, TW, CW, LA, CL], // responder closes first: CW
  /* fin-acks-fin */ [IV, IV, IV, IV, CW, TW, TW, TW, TW, CW, TW, CL], // F1+FIN acking ours: straight to TW
  /* ack          */ [IV, IG, IV, ES, ES, F1, F2, CG, TW, CW, LA, CL], // SS: a challenge ACK (RFC 9293 3.10.7.4), passed unchanged; SR: only simultaneous open lets the responder ACK here
  /* ack-acks-fin */ [IV, IV, IV, ES, ES, F2, F2, TW, TW, CW, TW, CL], // our FIN acked: F1->F2, CG/LA->TW
  /* rst          */ [IV, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL],
  /* invalid      */ [IV, IV, IV, IV, IV, IV, IV, IV, IV, IV, IV, IV],
];

/** Flattened [direction][class][state] for the hot path. */
export const TCP_TRANSITIONS: Int8Array = (() => {
  const table = new Int8Array(2 * CLASS_COUNT * TCP_STATE_COUNT);
  [ORIGINAL, REPLY].forEach((rows, dir) =>
    rows.forEach((row, cls) => {
      if (row.length !== TCP_STATE_COUNT) throw new Error(`tcp-states: row ${dir}/${CLASS_NAMES[cls]} has ${row.length} columns`);
      row.forEach((next, state) => (table[(dir * CLASS_COUNT + cls) * TCP_STATE_COUNT + state] = next));
    }),
  );
  return table;
})();

/** The next state (or T_INVALID / T_RESTART) for a packet of `cls` in `dir` on a connection in `state`. */
export function tcpTransition(dir: number, cls: number, state: number): number {
  return TCP_TRANSITIONS[(dir * CLASS_COUNT + cls) * TCP_STATE_COUNT + state];
}

// The legal flag combinations, as Linux's tcp_valid_flags: PSH, ECE and CWR do not
// matter and are masked away; URG may ride along with SYN, ACK and FIN+ACK.
const FLAG_MASK = TCP_FIN | TCP_SYN | TCP_RST | TCP_ACK | TCP_URG;
const BASE_CLASS = (() => {
  const table = new Uint8Array(FLAG_MASK + 1).fill(CLASS_INVALID);
  table[TCP_SYN] = CLASS_SYN;
  table[TCP_SYN | TCP_URG] = CLASS_SYN;
  table[TCP_SYN | TCP_ACK] = CLASS_SYNACK;
  table[TCP_RST] = CLASS_RST;
  table[TCP_RST | TCP_ACK] = CLASS_RST;
  table[TCP_FIN | TCP_ACK] = CLASS_FIN;
  table[TCP_FIN | TCP_ACK | TCP_URG] = CLASS_FIN;
  table[TCP_ACK] = CLASS_ACK;
  table[TCP_ACK | TCP_URG] = CLASS_ACK;
  return table;
})();

/** The flag class of a TCP flags byte, before the acks-their-FIN refinement. */
export function tcpFlagClass(flags: number): number {
  return BASE_CLASS[flags & FLAG_MASK];
}
