// Segment runs (Engine option segmentRuns, on by default): judgeBatch judges a run of
// in-order segments of an established connection in one step. It must be invisible:
// the same verdicts, reasons, flow states, windows and counters as judging every
// segment alone. Checked on random batches of a bulk transfer with everything that
// breaks or bends a run mixed in (gaps, retransmissions, windows too small for the
// burst, FIN, RST, other flows), comparing the whole flow table after every batch.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Conntrack } from "../../src/conntrack/conntrack.ts";
import { DIR_IN, DIR_OUT, Engine, VERDICT_ACCEPT } from "../../src/engine/engine.ts";
import { buildPacket } from "../../src/packet/builder.ts";
import type { TcpSpec } from "../../src/packet/builder.ts";
import { packBatch } from "../support/batch.ts";
import { ALICE, DB, dbPolicy } from "./helpers.ts";

const MSS = 1000;
const A0 = 0xffff0000; // alice's initial sequence number: the transfer wraps past 2^32
const D0 = 0x1000;

function seeded(): () => number {
  let x = 987654321;
  return () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 0x100000000;
}

/** db-1's engine, with or without segment runs, on the same hash seed (same table layout). */
function engine(segmentRuns: boolean): Engine {
  const e = new Engine(dbPolicy(), { segmentRuns, conntrack: { capacity: 64, random: seeded() } });
  e.setTime(1_000_000);
  return e;
}

function tableOf(e: Engine): Conntrack["table"] {
  return (e as unknown as { ct: Conntrack }).ct.table;
}

const fromAlice = (tcp: TcpSpec, payload = 0, srcPort = 40000) =>
  buildPacket({ src: ALICE, dst: DB, protocol: "tcp", srcPort, dstPort: 5432, tcp: { window: 502, ...tcp }, payload });
const fromDb = (tcp: TcpSpec) => buildPacket({ src: DB, dst: ALICE, protocol: "tcp", srcPort: 5432, dstPort: 40000, tcp });

/** Judge each of `packets` alone with inbound() / outbound(): decoded, then judgeInbound / judgeOutbound. */
function judgeEach(e: Engine, dir: number, packets: Uint8Array[]): number[] {
  return packets.map((p) => (dir === DIR_IN ? e.inbound(p, 0, p.length) : e.outbound(p, 0, p.length)));
}

/** Judge `packets` as one batch in `dir`; the verdicts. */
function judge(e: Engine, dir: number, packets: Uint8Array[]): number[] {
  const batch = packBatch(packets);
  const verdicts = new Uint8Array(batch.count);
  e.judgeBatch(dir, batch.buf, batch.offsets, batch.lengths, batch.count, verdicts);
  return Array.from(verdicts);
}

/** The handshake, alice -> db-1:5432, each packet its own batch. */
function establish(e: Engine, dbWindow: number): void {
  expect(judge(e, DIR_IN, [fromAlice({ flags: "S", seq: A0 - 1, window: 502 })])).toEqual([VERDICT_ACCEPT]);
  expect(judge(e, DIR_OUT, [fromDb({ flags: "SA", seq: D0 - 1, ack: A0, window: dbWindow })])).toEqual([VERDICT_ACCEPT]);
  expect(judge(e, DIR_IN, [fromAlice({ flags: "A", seq: A0, ack: D0 })])).toEqual([VERDICT_ACCEPT]);
}

describe("segment runs", () => {
  it("judge a TSO burst in one step, with every packet counted", () => {
    const e = engine(true);
    establish(e, 65535);
    const burst = Array.from({ length: 40 }, (_, k) => fromAlice({ flags: k === 39 ? "PA" : "A", seq: (A0 + k * MSS) >>> 0, ack: D0 }, MSS));
    expect(judge(e, DIR_IN, burst)).toEqual(burst.map(() => VERDICT_ACCEPT));
    expect(Array.from(e.segmentRunCounts)).toEqual([1, 39]);
    const [flow] = e.flows();
    expect(flow.packetsOriginal).toBe(2 + 40);
    expect(flow.bytesOriginal).toBe(2 * 40 + 40 * (40 + MSS));
    expect(e.stats().reasons.established).toBe(2 + 40);
    // db-1's ACK of the whole burst passes: the run moved alice's window end past it.
    expect(judge(e, DIR_OUT, [fromDb({ flags: "A", seq: D0, ack: (A0 + 40 * MSS) >>> 0, window: 65535 })])).toEqual([VERDICT_ACCEPT]);
  });

  it("a burst from db-1 on the table's second flow is counted on that flow, in the reply direction, as one by one", () => {
    const engines = [engine(true), engine(false)];
    let burst0Length = 0;
    for (const e of engines) {
      for (const srcPort of [40001, 40000]) {
        // Alice opens with a full window (db-1 sends the burst); port 40001 first, so 40000 is not entry 0.
        const toAlice = (tcp: TcpSpec) => buildPacket({ src: DB, dst: ALICE, protocol: "tcp", srcPort: 5432, dstPort: srcPort, tcp });
        expect(judge(e, DIR_IN, [fromAlice({ flags: "S", seq: A0 - 1, window: 65535 }, 0, srcPort)])).toEqual([VERDICT_ACCEPT]);
        expect(judge(e, DIR_OUT, [toAlice({ flags: "SA", seq: D0 - 1, ack: A0, window: 65535 })])).toEqual([VERDICT_ACCEPT]);
        expect(judge(e, DIR_IN, [fromAlice({ flags: "A", seq: A0, ack: D0, window: 65535 }, 0, srcPort)])).toEqual([VERDICT_ACCEPT]);
      }
      const burst = Array.from({ length: 10 }, (_, k) =>
        buildPacket({ src: DB, dst: ALICE, protocol: "tcp", srcPort: 5432, dstPort: 40000, tcp: { flags: "A", seq: D0 + k * MSS, ack: A0, window: 65535 }, payload: MSS }),
      );
      burst0Length = burst[0].length;
      expect(judge(e, DIR_OUT, burst)).toEqual(burst.map(() => VERDICT_ACCEPT));
    }
    expect(engines[0].segmentRunCounts[1]).toBe(9);
    expect(Array.from(tableOf(engines[1]).words)).toEqual(Array.from(tableOf(engines[0]).words));
    expect(Array.from(tableOf(engines[1]).doubles)).toEqual(Array.from(tableOf(engines[0]).doubles));
    const main = [...engines[0].flows()].find((f) => f.srcPort === 40000);
    const synAckBytes = buildPacket({ src: DB, dst: ALICE, protocol: "tcp", srcPort: 5432, dstPort: 40000, tcp: { flags: "SA", seq: D0 - 1, ack: A0, window: 65535 } }).length;
    expect(main).toMatchObject({ packetsReply: 11, packetsOriginal: 2, bytesReply: synAckBytes + 10 * burst0Length });
  });

  it("are not taken with segmentRuns off", () => {
    const e = engine(false);
    establish(e, 65535);
    const burst = Array.from({ length: 10 }, (_, k) => fromAlice({ flags: "A", seq: (A0 + k * MSS) >>> 0, ack: D0 }, MSS));
    expect(judge(e, DIR_IN, burst)).toEqual(burst.map(() => VERDICT_ACCEPT));
    expect(Array.from(e.segmentRunCounts)).toEqual([0, 0]);
  });

  it("past db-1's window: the segments beyond it are judged as one by one (overshoot within a window passes, beyond it drops)", () => {
    const runs = engine(true);
    const alone = engine(false);
    // db-1 advertises 3.5 segments: the 5th and later start past td_maxend; Linux passes
    // up to one more window of them unchanged ("bytes more than expected"), then drops.
    for (const e of [runs, alone]) establish(e, 3500);
    const burst = Array.from({ length: 16 }, (_, k) => fromAlice({ flags: "A", seq: (A0 + k * MSS) >>> 0, ack: D0 }, MSS));
    const verdicts = judge(runs, DIR_IN, burst);
    expect(verdicts).toEqual(judge(alone, DIR_IN, burst));
    expect(Array.from(runs.reasonCounts)).toEqual(Array.from(alone.reasonCounts));
    expect(verdicts.slice(0, 4)).toEqual([1, 1, 1, 1]);
    expect(runs.stats().reasons["tcp-overshoot"]).toBeGreaterThan(0);
    expect(verdicts.slice(-4).includes(VERDICT_ACCEPT)).toBe(false);
  });

  type Op =
    | { kind: "data"; segments: number; payload: number; gapBefore: number }
    | { kind: "retransmit"; back: number }
    | { kind: "flags"; flags: string }
    | { kind: "other-flow" }
    | { kind: "ack"; window: number; behind: number; sack: boolean };

  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 8, arbitrary: fc.record({ kind: fc.constant("data" as const), segments: fc.integer({ min: 1, max: 12 }), payload: fc.constantFrom(MSS, MSS, 1, 500), gapBefore: fc.constantFrom(0, 0, 0, 1, MSS, 70000) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("retransmit" as const), back: fc.integer({ min: 1, max: 20_000 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("flags" as const), flags: fc.constantFrom("FA", "RA", "R", "PA", "UA", "SA") }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("other-flow" as const) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant("ack" as const), window: fc.constantFrom(0, 1000, 3500, 8000, 65535), behind: fc.constantFrom(0, 0, 2000), sack: fc.boolean() }) },
  );

  // Three engines on the same traffic: judgeBatch with segment runs, judgeBatch without,
  // and every packet alone through inbound()/outbound(), which decode it and judge the
  // record (trackFast, then the general path). The first two take established TCP/IPv4
  // segments from their bytes (Conntrack.trackTcp4Segment), so this also holds that path
  // equal to the decoder's.
  it("change nothing but the speed: same verdicts, reasons and flow table as one by one", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 65535 }), fc.boolean(), fc.array(fc.array(op, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 12 }), (dbWindow, stamped, batches) => {
        const runs = engine(true);
        const alone = engine(false);
        const each = engine(true);
        for (const e of [runs, alone, each]) establish(e, dbWindow);
        const ts: TcpSpec = stamped ? { timestamp: [7, 8] } : {};
        let seq = A0; // alice's next sequence number
        let acked = A0;
        for (const batch of batches) {
          const inbound: Uint8Array[] = [];
          const outbound: Uint8Array[] = [];
          for (const o of batch) {
            if (o.kind === "data") {
              seq = (seq + o.gapBefore) >>> 0;
              for (let k = 0; k < o.segments; k++) {
                inbound.push(fromAlice({ ...ts, flags: "A", seq, ack: D0 }, o.payload));
                seq = (seq + o.payload) >>> 0;
              }
            } else if (o.kind === "retransmit") {
              inbound.push(fromAlice({ ...ts, flags: "A", seq: (seq - o.back) >>> 0, ack: D0 }, MSS));
            } else if (o.kind === "flags") {
              inbound.push(fromAlice({ ...ts, flags: o.flags, seq, ack: D0 }, o.flags.includes("R") ? 0 : MSS));
            } else if (o.kind === "other-flow") {
              inbound.push(fromAlice({ ...ts, flags: "A", seq, ack: D0 }, MSS, 40001));
            } else {
              acked = (seq - o.behind) >>> 0;
              outbound.push(fromDb({ ...ts, flags: "A", seq: D0, ack: acked, window: o.window, sack: o.sack ? [[acked, (acked + 100) >>> 0]] : undefined }));
            }
          }
          for (const [dir, packets] of [[DIR_IN, inbound], [DIR_OUT, outbound]] as const) {
            if (packets.length === 0) continue;
            const verdicts = judge(runs, dir, packets);
            expect(judge(alone, dir, packets)).toEqual(verdicts);
            expect(judgeEach(each, dir, packets)).toEqual(verdicts);
          }
          for (const other of [alone, each]) {
            expect(Array.from(other.reasonCounts)).toEqual(Array.from(runs.reasonCounts));
            expect(Array.from(tableOf(other).words)).toEqual(Array.from(tableOf(runs).words));
            expect(Array.from(tableOf(other).doubles)).toEqual(Array.from(tableOf(runs).doubles));
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
