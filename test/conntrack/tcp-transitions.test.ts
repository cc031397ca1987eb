// Every reachable cell of the TCP transition table (src/conntrack/tcp-states.ts),
// driven with real packets: reach the state through an honest exchange, send one
// packet of the cell's class in the cell's direction, and check that conntrack did
// what the table says (new state, drop with the state unchanged, pass with the state
// unchanged, or restart).

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Conntrack, CT_IGNORED, CT_OK, CT_RESTART, CT_SYN_IGNORED, ORIGIN_INBOUND, refEntry } from "../../src/conntrack/conntrack.ts";
import { STATE_NAMES, TCP_CLOSE_WAIT, TCP_CLOSED, TCP_CLOSING, TCP_ESTABLISHED, TCP_FIN_WAIT_1, TCP_FIN_WAIT_2, TCP_LAST_ACK, TCP_STATE_COUNT, TCP_SYN_RECEIVED, TCP_SYN_SENT, TCP_SYN_SENT2, TCP_TIME_WAIT } from "../../src/conntrack/states.ts";
import {
  CLASS_ACK,
  CLASS_ACK_ACKS_FIN,
  CLASS_COUNT,
  CLASS_FIN,
  CLASS_FIN_ACKS_FIN,
  CLASS_NAMES,
  CLASS_RST,
  CLASS_SYN,
  CLASS_SYNACK,
  DIR_ORIGINAL,
  T_IGNORE,
  T_INVALID,
  T_RESTART,
  tcpTransition,
} from "../../src/conntrack/tcp-states.ts";
import { arrivedInbound, decoded, TcpSim } from "./tcp-sim.ts";

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
  [TCP_CLOSED]: [[0, CLASS_SYN], [1, CLASS_SYNACK], [0, CLASS_ACK], [0, CLASS_RST]],
};

/** Drive a fresh table along `path`; returns the table, the entry and the endpoints. */
export function reach(state: number): { ct: Conntrack; sim: TcpSim; entry: number } {
  const ct = new Conntrack({ capacity: 64 });
  const sim = new TcpSim();
  let entry = -1;
  for (const [side, cls] of PATHS[state]) {
    const rec = decoded(sim.segment(side, cls));
    const ref = ct.lookup(rec);
    if (ref < 0) entry = refEntry(ct.create(rec, ORIGIN_INBOUND, 0));
    else expect(ct.update(ref, rec, arrivedInbound(ref)), `${STATE_NAMES[state]} path: ${side}/${CLASS_NAMES[cls]}`).toBe(CT_OK);
  }
  expect(STATE_NAMES[ct.table.state(entry)]).toBe(STATE_NAMES[state]);
  return { ct, sim, entry };
}

/** Classes that need the other side's FIN to be constructible. */
function reachable(side: number, cls: number, sim: TcpSim): boolean {
  if (cls === CLASS_ACK_ACKS_FIN || cls === CLASS_FIN_ACKS_FIN) return sim.finSent[1 - side];
  return true;
}

describe("TCP transition table, cell by cell", () => {
  for (let state = 1; state < TCP_STATE_COUNT; state++) {
    for (const side of [0, 1] as const) {
      for (let cls = 0; cls < CLASS_COUNT; cls++) {
        const expected = tcpTransition(side, cls, state);
        const dir = side === DIR_ORIGINAL ? "original" : "reply";
        const outcome = expected === T_INVALID ? "drop" : expected === T_RESTART ? "restart" : expected === T_IGNORE ? "pass, state kept" : STATE_NAMES[expected];
        it(`${STATE_NAMES[state]} + ${dir} ${CLASS_NAMES[cls]} -> ${outcome}`, () => {
          const { ct, sim, entry } = reach(state);
          if (!reachable(side, cls, sim)) return; // e.g. "acks their FIN" before any FIN: the packet is plain ACK/FIN
          const rec = decoded(sim.segment(side, cls));
          const ref = ct.lookup(rec);
          const e = refEntry(ref);
          expect(e).toBe(entry);
          const result = ct.update(ref, rec, arrivedInbound(ref));
          if (expected === T_INVALID) {
            expect(result).not.toBe(CT_OK);
            expect(STATE_NAMES[ct.table.state(e)]).toBe(STATE_NAMES[state]);
          } else if (expected === T_RESTART) {
            expect(result).toBe(CT_RESTART);
          } else if (expected === T_IGNORE) {
            expect(result).toBe(cls === CLASS_SYN ? CT_SYN_IGNORED : CT_IGNORED);
            expect(STATE_NAMES[ct.table.state(e)]).toBe(STATE_NAMES[state]);
          } else {
            expect(result).toBe(CT_OK);
            expect(STATE_NAMES[ct.table.state(e)]).toBe(STATE_NAMES[expected]);
          }
        });
      }
    }
  }

  it("only a SYN opens a connection (loose mode off)", () => {
    const ct = new Conntrack({ capacity: 16 });
    const sim = new TcpSim();
    for (const cls of [CLASS_SYNACK, CLASS_FIN, CLASS_ACK, CLASS_RST]) {
      expect(ct.canOpen(decoded(sim.segment(0, cls))), CLASS_NAMES[cls]).toBe(false);
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

describe("docs/conntrack.md's transition tables", () => {
  it("are the table the code uses, cell by cell", () => {
    const doc = readFileSync(new URL("../../docs/conntrack.md", import.meta.url), "utf8");
    const abbr = ["NO", "SS", "S2", "SR", "ES", "F1", "F2", "CG", "TW", "CW", "LA", "CL"];
    const cell = (n: number) => (n === T_INVALID ? "IV" : n === T_RESTART ? "RS" : n === T_IGNORE ? "IG" : abbr[n]);
    const tables = doc.split("| class \\ state |").slice(1, 3);
    expect(tables).toHaveLength(2);
    tables.forEach((table, dir) => {
      const rows = table.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| ---")).slice(0, 7);
      rows.forEach((row, cls) => {
        const cells = row.split("|").slice(2, -1).map((c) => c.trim());
        expect(cells, `${dir === 0 ? "originator" : "responder"} ${CLASS_NAMES[cls]}`).toEqual(abbr.slice(1).map((_, i) => cell(tcpTransition(dir, cls, i + 1))));
      });
    });
  });
});
