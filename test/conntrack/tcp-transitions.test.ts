// Every cell of the TCP transition table (src/conntrack/tcp-states.ts), driven with real
// packets: reach the state through an honest exchange, send one packet of the cell's
// class in the cell's direction, and check that conntrack did what the table in
// docs/conntrack.md ("TCP state machine") says: new state, drop with the state
// unchanged (tcp-invalid-state), pass with the state unchanged, or restart. The
// documented table is the oracle, not the source's, so a changed cell fails here. Then
// every cell is changed in place to every other outcome (a mutant of the table, which
// a mutation tool's operators do not make) and the same check must notice.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Conntrack, CT_IGNORED, CT_INVALID_FLAGS, CT_INVALID_STATE, CT_OK, CT_RESTART, CT_SYN_IGNORED, ORIGIN_INBOUND, refEntry } from "../../src/conntrack/conntrack.ts";
import { STATE_NAMES, TCP_CLOSE_WAIT, TCP_CLOSED, TCP_CLOSING, TCP_ESTABLISHED, TCP_FIN_WAIT_1, TCP_FIN_WAIT_2, TCP_LAST_ACK, TCP_STATE_COUNT, TCP_SYN_RECEIVED, TCP_SYN_SENT, TCP_SYN_SENT2, TCP_TIME_WAIT } from "../../src/conntrack/states.ts";
import {
  CLASS_ACK,
  CLASS_ACK_ACKS_FIN,
  CLASS_COUNT,
  CLASS_FIN,
  CLASS_FIN_ACKS_FIN,
  CLASS_INVALID,
  CLASS_RST,
  CLASS_SYN,
  CLASS_SYNACK,
  DIR_ORIGINAL,
  T_IGNORE,
  T_INVALID,
  T_RESTART,
  TCP_TRANSITIONS,
  tcpTransition,
} from "../../src/conntrack/tcp-states.ts";
import { arrivedInbound, decoded, SERVER, TcpSim } from "./tcp-sim.ts";

type Step = [side: 0 | 1, cls: number];

/** An honest exchange that leaves the connection in each state. */
const PATHS: Record<number, Step[]> = {
  [TCP_SYN_SENT]: [[0, CLASS_SYN]],
  [TCP_SYN_SENT2]: [[0, CLASS_SYN], [1, CLASS_SYN]],
  [TCP_SYN_RECEIVED]: [[0, CLASS_SYN], [1, CLASS_SYNACK]],
  [TCP_ESTABLISHED]: [[0, CLASS_SYN], [1, CLASS_SYNACK], [0, CLASS_ACK]],
  [TCP_FIN_WAIT_1]: [[0, CLASS_SYN], [1, CLASS_SYNACK], [0, CLASS_ACK], [0, CLASS_FIN]],
  [TCP_FIN_WAIT_2]: [[0, CLASS_SYN], [1, CLASS_SYNACK], [0, CLASS_ACK], [0, CLASS_FIN], [1, CLASS_ACK_ACKS_FIN]],
  [TCP_CLOSING]: [[0, CLASS_SYN], [1, CLASS_SYNACK], [0, CLASS_ACK], [0, CLASS_FIN], [1, CLASS_FIN]],
  [TCP_TIME_WAIT]: [[0, CLASS_SYN], [1, CLASS_SYNACK], [0, CLASS_ACK], [0, CLASS_FIN], [1, CLASS_FIN_ACKS_FIN]],
  [TCP_CLOSE_WAIT]: [[0, CLASS_SYN], [1, CLASS_SYNACK], [0, CLASS_ACK], [1, CLASS_FIN]],
  [TCP_LAST_ACK]: [[0, CLASS_SYN], [1, CLASS_SYNACK], [0, CLASS_ACK], [1, CLASS_FIN], [0, CLASS_FIN_ACKS_FIN]],
  // Through CLOSING, so both FINs were seen and every class can be sent in CLOSED.
  [TCP_CLOSED]: [[0, CLASS_SYN], [1, CLASS_SYNACK], [0, CLASS_ACK], [0, CLASS_FIN], [1, CLASS_FIN], [0, CLASS_RST]],
};

/** Drive a fresh table along `path`; returns the table, the entry and the endpoints. */
export function reach(state: number): { ct: Conntrack; sim: TcpSim; entry: number } {
  const ct = new Conntrack({ capacity: 64 });
  // Another flow first, so this one's record is not at word 0 of the table.
  const decoy = new TcpSim({ ip: "100.64.0.99", port: 1 }, SERVER);
  ct.create(decoded(decoy.segment(0, CLASS_SYN)), ORIGIN_INBOUND, 0);
  const sim = new TcpSim();
  let entry = -1;
  for (const [side, cls] of PATHS[state]) {
    const rec = decoded(sim.segment(side, cls));
    const ref = ct.lookup(rec);
    if (ref < 0) entry = refEntry(ct.create(rec, ORIGIN_INBOUND, 0));
    else expect(ct.update(ref, rec, arrivedInbound(ref)), `${STATE_NAMES[state]} path: ${side}/${ROWS[cls]}`).toBe(CT_OK);
  }
  expect(STATE_NAMES[ct.table.state(entry)]).toBe(STATE_NAMES[state]);
  return { ct, sim, entry };
}

/** Classes that need the other side's FIN to be constructible. */
function reachable(side: number, cls: number, sim: TcpSim): boolean {
  if (cls === CLASS_ACK_ACKS_FIN || cls === CLASS_FIN_ACKS_FIN) return sim.finSent[1 - side];
  return true;
}

// The documented table (docs/conntrack.md, "TCP state machine"), read as text: the
// oracle depends on no constant of the source (a changed T_INVALID must show too).
const STATE_OF: Record<string, string> = {
  SS: "syn-sent",
  S2: "syn-sent2",
  SR: "syn-received",
  ES: "established",
  F1: "fin-wait-1",
  F2: "fin-wait-2",
  CG: "closing",
  TW: "time-wait",
  CW: "close-wait",
  LA: "last-ack",
  CL: "closed",
};
const COLUMNS = Object.keys(STATE_OF);
const ROWS = ["syn", "synack", "fin", "fin-acks-fin", "ack", "ack-acks-fin", "rst", "invalid"];
/** The source's codes for the documented cells (for the table-against-table check). */
const CODE_OF: Record<string, number> = {
  SS: TCP_SYN_SENT,
  S2: TCP_SYN_SENT2,
  SR: TCP_SYN_RECEIVED,
  ES: TCP_ESTABLISHED,
  F1: TCP_FIN_WAIT_1,
  F2: TCP_FIN_WAIT_2,
  CG: TCP_CLOSING,
  TW: TCP_TIME_WAIT,
  CW: TCP_CLOSE_WAIT,
  LA: TCP_LAST_ACK,
  CL: TCP_CLOSED,
  IV: T_INVALID,
  RS: T_RESTART,
  IG: T_IGNORE,
};

/** [side][cls][state] abbreviations from the markdown tables; `invalid` is IV everywhere (the doc says so). */
function documentedTable(): string[][][] {
  const doc = readFileSync(new URL("../../docs/conntrack.md", import.meta.url), "utf8").split("\n");
  return ["From the originator:", "From the responder:"].map((heading) => {
    const at = doc.indexOf(heading);
    const rows: string[][] = [];
    if (at < 0) return rows;
    const header = doc[at + 2].split("|").map((c) => c.trim()).filter((c) => c !== "");
    if (header.slice(1).join(" ") !== COLUMNS.join(" ")) return rows;
    for (let i = at + 4; doc[i].startsWith("|"); i++) {
      const cells = doc[i].split("|").map((c) => c.trim()).filter((c) => c !== "");
      rows[ROWS.indexOf(cells[0].split(" ")[0])] = ["NONE", ...cells.slice(1)];
    }
    rows[ROWS.indexOf("invalid")] = new Array<string>(TCP_STATE_COUNT).fill("IV");
    return rows;
  });
}
const DOCUMENTED = documentedTable();

/** What a cell's outcome looks like from outside: the new state's name, or what else happened. */
function expectedOutcome(side: number, cls: number, state: number): string {
  const cell = DOCUMENTED[side]?.[cls]?.[state] ?? "missing";
  if (ROWS[cls] === "invalid") return "drop: invalid flags";
  if (cell === "IV") return "drop: invalid state";
  if (cell === "RS") return "restart";
  if (cell === "IG") return ROWS[cls] === "syn" ? "pass: syn ignored" : "pass: ack ignored";
  return STATE_OF[cell] ?? `undocumented ${cell}`;
}

/** Reach `state`, send the cell's packet, and describe what conntrack did (null: the class cannot be sent there). */
function cellOutcome(state: number, side: 0 | 1, cls: number): string | null {
  const { ct, sim, entry } = reach(state);
  if (!reachable(side, cls, sim)) return null; // e.g. "acks their FIN" before any FIN: the packet is plain ACK/FIN
  const rec = decoded(sim.segment(side, cls));
  const ref = ct.lookup(rec);
  expect(refEntry(ref)).toBe(entry);
  const result = ct.update(ref, rec, arrivedInbound(ref));
  const after = STATE_NAMES[ct.table.state(entry)];
  const kept = after === STATE_NAMES[state] ? "" : ` (now ${after})`;
  if (result === CT_OK) return after;
  if (result === CT_RESTART) return "restart";
  if (result === CT_SYN_IGNORED) return `pass: syn ignored${kept}`;
  if (result === CT_IGNORED) return `pass: ack ignored${kept}`;
  if (result === CT_INVALID_STATE) return `drop: invalid state${kept}`;
  if (result === CT_INVALID_FLAGS) return `drop: invalid flags${kept}`;
  return `result ${result}${kept}`;
}

const cellIndex = (side: number, cls: number, state: number): number => (side * CLASS_COUNT + cls) * TCP_STATE_COUNT + state;
const dirName = (side: number): string => (side === DIR_ORIGINAL ? "original" : "reply");

/** Cells conntrack never reads, so no behaviour can pin them (docs/conntrack.md, "Mutation testing"). */
function neverRead(side: number, cls: number, state: number): string | null {
  if (state === 0) return "state NONE: a new entry is created in SYN_SENT or ESTABLISHED, never looked up in NONE";
  if (cls === CLASS_INVALID) return "invalid flags: updateTcp answers tcp-invalid-flags before the table";
  if (cls === CLASS_ACK_ACKS_FIN || cls === CLASS_FIN_ACKS_FIN) {
    const theirFinSeen = side === DIR_ORIGINAL ? [TCP_CLOSING, TCP_TIME_WAIT, TCP_CLOSE_WAIT, TCP_LAST_ACK, TCP_CLOSED] : [TCP_FIN_WAIT_1, TCP_FIN_WAIT_2, TCP_CLOSING, TCP_TIME_WAIT, TCP_LAST_ACK, TCP_CLOSED];
    if (!theirFinSeen.includes(state)) return "acks their FIN in a state the other side's FIN cannot have passed in (it would have left the state)";
  }
  return null;
}

describe("TCP transition table, cell by cell", () => {
  it("the documented table is complete", () => {
    for (const side of [0, 1])
      for (let cls = 0; cls < CLASS_COUNT; cls++) {
        expect(DOCUMENTED[side][cls], `${dirName(side)} ${ROWS[cls]}`).toHaveLength(TCP_STATE_COUNT);
        for (const cell of DOCUMENTED[side][cls].slice(1)) expect(Object.keys(CODE_OF)).toContain(cell);
      }
  });

  it("the source table is the documented one", () => {
    for (const side of [0, 1])
      for (let cls = 0; cls < CLASS_COUNT; cls++)
        for (let state = 1; state < TCP_STATE_COUNT; state++) {
          if (cls === CLASS_INVALID) continue; // never read (neverRead)
          const name = `${STATE_NAMES[state]} + ${dirName(side)} ${ROWS[cls]}`;
          expect(tcpTransition(side, cls, state), name).toBe(CODE_OF[DOCUMENTED[side][cls][state]]);
        }
  });

  for (let state = 1; state < TCP_STATE_COUNT; state++) {
    for (const side of [0, 1] as const) {
      for (let cls = 0; cls < CLASS_COUNT; cls++) {
        const expected = expectedOutcome(side, cls, state);
        it(`${STATE_NAMES[state]} + ${dirName(side)} ${ROWS[cls]} -> ${expected}`, () => {
          const outcome = cellOutcome(state, side, cls);
          if (outcome === null) {
            expect(neverRead(side, cls, state)).not.toBeNull();
            return;
          }
          expect(outcome).toBe(expected);
        });
      }
    }
  }

  it("every cell conntrack reads is pinned: changed to any other outcome, the cell's check fails", () => {
    const outcomes = [...Array.from({ length: TCP_STATE_COUNT - 1 }, (_, i) => i + 1), T_INVALID, T_RESTART, T_IGNORE];
    const unpinned: string[] = [];
    let cells = 0;
    for (const side of [0, 1] as const)
      for (let cls = 0; cls < CLASS_COUNT; cls++)
        for (let state = 0; state < TCP_STATE_COUNT; state++) {
          if (neverRead(side, cls, state) !== null) continue;
          cells++;
          const i = cellIndex(side, cls, state);
          const original = TCP_TRANSITIONS[i];
          const expected = expectedOutcome(side, cls, state);
          for (const mutant of outcomes) {
            if (mutant === original) continue;
            TCP_TRANSITIONS[i] = mutant;
            try {
              if (cellOutcome(state, side, cls) === expected) unpinned.push(`${STATE_NAMES[state]} + ${dirName(side)} ${ROWS[cls]} as ${mutant}`);
            } finally {
              TCP_TRANSITIONS[i] = original;
            }
          }
        }
    expect(cells).toBe(2 * 7 * 11 - 22); // every state and class but the 22 acks-FIN cells neverRead names
    expect(unpinned).toEqual([]);
  });

  it("only a SYN opens a connection (loose mode off)", () => {
    const ct = new Conntrack({ capacity: 16 });
    const sim = new TcpSim();
    for (const cls of [CLASS_SYNACK, CLASS_FIN, CLASS_ACK, CLASS_RST]) {
      expect(ct.canOpen(decoded(sim.segment(0, cls))), ROWS[cls]).toBe(false);
    }
    expect(ct.canOpen(decoded(new TcpSim().segment(0, CLASS_SYN)))).toBe(true);
  });

  it("loose mode: a mid-stream ACK opens an established, window-liberal entry", () => {
    const ct = new Conntrack({ capacity: 16, looseTcp: true });
    const sim = new TcpSim();
    sim.next[0] = 77_000;
    sim.next[1] = 88_000;
    const rec = decoded(sim.segment(0, CLASS_ACK, { payload: 100 }));
    expect(ct.canOpen(rec)).toBe(true);
    expect(ct.lookup(rec)).toBe(-1);
    const e = refEntry(ct.create(rec, ORIGIN_INBOUND, 0));
    expect(ct.table.state(e)).toBe(TCP_ESTABLISHED);
    const reply = decoded(sim.segment(1, CLASS_ACK, { payload: 10 }));
    const ref = ct.lookup(reply);
    expect(refEntry(ref)).toBe(e);
    expect(ct.update(ref, reply, false)).toBe(CT_OK);
  });
});
