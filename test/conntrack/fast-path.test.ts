// Conntrack.trackFast must be invisible: for any packet, "trackFast, else lookup +
// update" leaves the table exactly as "lookup + update" alone does, with the same
// outcome. So must trackTcp4Segment, which reads the segment from its bytes. Checked on random segment streams over established TCP flows (in and out
// of window, every flag class, window scaling, FINs, RSTs, idle gaps past the
// timeouts) and on UDP flows, comparing every record word after every packet.

import fc from "fast-check";
import { parseIp } from "../../src/packet/address.ts";
import { arrivedInbound } from "./tcp-sim.ts";
import { describe, expect, it } from "vitest";
import { CT_OK, Conntrack, FAST_GENERAL, FAST_UNTRACKED, ORIGIN_INBOUND } from "../../src/conntrack/conntrack.ts";
import { RECORD_WORDS } from "../../src/conntrack/flow-record.ts";
import { buildPacket } from "../../src/packet/builder.ts";
import type { PacketSpec } from "../../src/packet/builder.ts";
import { viewOf } from "../../src/packet/buffer-view.ts";
import { decodePacket } from "../../src/packet/decode.ts";
import { PacketRecord } from "../../src/packet/record.ts";

const CLIENT = "100.64.0.10";
const SERVER = "198.18.1.7"; // above 2^31 as a word: the unsigned comparisons matter

/** Two tables with the same hash keys, so entries land on the same ids and slots. */
function twins(): [Conntrack, Conntrack] {
  const seeded = () => {
    let x = 12345;
    return () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 0x100000000);
  };
  return [new Conntrack({ capacity: 64, random: seeded() }), new Conntrack({ capacity: 64, random: seeded() })];
}

const rec = new PacketRecord();
/** The client opens every flow here, inbound: its packets arrive from the mesh. */
const CLIENT_WORD = parseIp(CLIENT).words[0];
const CLIENT_BYTES = CLIENT.split(".").map(Number);
function fastFor(ct: Conntrack, spec: PacketSpec): number {
  return ct.trackFast(decoded(spec), spec.src === CLIENT);
}
function decoded(spec: PacketSpec): PacketRecord {
  const p = buildPacket(spec);
  expect(decodePacket(p, 0, p.length, rec)).toBe(true);
  return rec;
}

/** The general path: CT_* result, or -1 when the flow is not tracked (lookup failed). */
function general(ct: Conntrack, r: PacketRecord): number {
  const ref = ct.lookup(r);
  return ref < 0 ? -1 : ct.update(ref, r, arrivedInbound(ref));
}

let fastTaken = 0;
/** The engine's way: fast path first. */
function fastThenGeneral(ct: Conntrack, r: PacketRecord): number {
  const fast = ct.trackFast(r, r.src0 === CLIENT_WORD);
  if (fast >= 0) {
    fastTaken++;
    return CT_OK;
  }
  const result = general(ct, r);
  if (fast === FAST_UNTRACKED) expect(result).toBe(-1); // "not tracked" must be what lookup says
  return result;
}

let bytesTaken = 0;
/** The engine's batch way: the segment's bytes first (trackTcp4Segment, no decode), then the general path on the decoded record. */
function bytesThenGeneral(ct: Conntrack, packet: Uint8Array): number {
  viewOf(packet); // the array is then seen twice in a row, so the bytes path gets its DataView
  const fast = ct.trackTcp4Segment(packet, 0, packet.length, packet[12] === CLIENT_BYTES[0] && packet[15] === CLIENT_BYTES[3], new Int32Array(1));
  if (fast >= 0) {
    bytesTaken++;
    return CT_OK;
  }
  return general(ct, decodedBytes(packet));
}

function decodedBytes(packet: Uint8Array): PacketRecord {
  expect(decodePacket(packet, 0, packet.length, rec)).toBe(true);
  return rec;
}

/** Both tables hold one flow, in entry 0 (the lowest free id): compare its record. */
function expectSameRecord(a: Conntrack, b: Conntrack): void {
  expect(Array.from(a.table.words.subarray(0, RECORD_WORDS))).toEqual(Array.from(b.table.words.subarray(0, RECORD_WORDS)));
  expect(Array.from(a.table.doubles.subarray(0, RECORD_WORDS / 2))).toEqual(Array.from(b.table.doubles.subarray(0, RECORD_WORDS / 2)));
  expect(Array.from(a.table.slots)).toEqual(Array.from(b.table.slots));
  expect(a.count).toBe(b.count);
}

/** Open a flow through both tables (SYN [+ SYN-ACK + ACK] for TCP) and return nothing. */
function open(cts: Conntrack[], specs: PacketSpec[]): void {
  for (const ct of cts) {
    specs.forEach((spec, i) => {
      const r = decoded(spec);
      if (i === 0) {
        expect(ct.lookup(r)).toBe(-1);
        expect(ct.create(r, ORIGIN_INBOUND, 0)).toBeGreaterThanOrEqual(0);
      } else {
        expect(general(ct, r)).toBe(CT_OK);
      }
    });
  }
}

/** Mostly honest segments (so the fast path has work), with every kind of deviation mixed in. */
const often = <T>(value: T, rest: fc.Arbitrary<T>) => fc.oneof({ arbitrary: fc.constant(value), weight: 4 }, { arbitrary: rest, weight: 1 });
const segment = fc.record({
  fromClient: fc.boolean(),
  flags: fc.oneof({ arbitrary: fc.constantFrom("A", "PA", "UA", "EA"), weight: 6 }, { arbitrary: fc.constantFrom("FA", "R", "RA", "SA", "S", ""), weight: 1 }),
  seqDelta: often(0, fc.oneof(fc.integer({ min: -70_000, max: 70_000 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }))),
  ackDelta: often(0, fc.integer({ min: -70_000, max: 70_000 })),
  payload: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1400 })),
  window: fc.integer({ min: 0, max: 65535 }),
  idleMs: often(1, fc.oneof(fc.integer({ min: 0, max: 200_000 }), fc.constant(5 * 24 * 3600_000 + 1))),
});

describe("fast path = general path", () => {
  it("TCP: every record word and every outcome agree, packet after packet", () => {
    fc.assert(
      fc.property(fc.boolean(), fc.boolean(), fc.array(segment, { minLength: 1, maxLength: 40 }), (scaled, stamped, segments) => {
        const [fast, slow] = twins();
        const [bytes] = twins();
        const ws = scaled ? 7 : undefined;
        open(
          [fast, slow, bytes],
          [
            { src: CLIENT, dst: SERVER, protocol: "tcp", srcPort: 40000, dstPort: 443, tcp: { flags: "S", seq: 1000, window: 64240, windowScale: ws } },
            { src: SERVER, dst: CLIENT, protocol: "tcp", srcPort: 443, dstPort: 40000, tcp: { flags: "SA", seq: 0xfff00000, ack: 1001, window: 65160, windowScale: ws } },
            { src: CLIENT, dst: SERVER, protocol: "tcp", srcPort: 40000, dstPort: 443, tcp: { flags: "A", seq: 1001, ack: 0xfff00001, window: 502 } },
          ],
        );
        // Both sides' next sequence numbers, advanced as honest endpoints would (plus the random deltas).
        const next = [1001, 0xfff00001];
        let now = 0;
        for (const s of segments) {
          now += s.idleMs;
          fast.now = slow.now = bytes.now = now;
          const side = s.fromClient ? 0 : 1;
          const spec: PacketSpec = {
            src: s.fromClient ? CLIENT : SERVER,
            dst: s.fromClient ? SERVER : CLIENT,
            protocol: "tcp",
            srcPort: s.fromClient ? 40000 : 443,
            dstPort: s.fromClient ? 443 : 40000,
            tcp: { flags: s.flags, seq: (next[side] + s.seqDelta) >>> 0, ack: (next[1 - side] + s.ackDelta) >>> 0, window: s.window, timestamp: stamped ? [1, 2] : undefined },
            payload: s.payload,
          };
          const a = fastThenGeneral(fast, decoded(spec));
          const b = general(slow, decoded(spec));
          expect(a).toBe(b);
          expect(bytesThenGeneral(bytes, buildPacket(spec))).toBe(b);
          expectSameRecord(bytes, slow);
          if (a === CT_OK && s.seqDelta === 0) next[side] = (next[side] + s.payload) >>> 0;
          expectSameRecord(fast, slow);
        }
      }),
      { numRuns: 300 },
    );
    expect(fastTaken).toBeGreaterThan(300); // the fast path was exercised, not just skipped
    expect(bytesTaken).toBeGreaterThan(300);
  });

  it("UDP: the first reply marks the flow replied; counters and times agree", () => {
    const [fast, slow] = twins();
    const request: PacketSpec = { src: CLIENT, dst: SERVER, protocol: "udp", srcPort: 5353, dstPort: 53, payload: 40 };
    const reply: PacketSpec = { src: SERVER, dst: CLIENT, protocol: "udp", srcPort: 53, dstPort: 5353, payload: 120 };
    open([fast, slow], [request]);
    const steps: [PacketSpec, number][] = [[request, 10], [reply, 10], [reply, 1000], [request, 29_000], [reply, 121_000], [request, 1]];
    let now = 0;
    for (const [spec, idle] of steps) {
      now += idle;
      fast.now = slow.now = now;
      expect(fastThenGeneral(fast, decoded(spec))).toBe(general(slow, decoded(spec)));
      expectSameRecord(fast, slow);
    }
  });

  it("trackFast takes the common cases (so the engine's fast path is really used); a miss leaves the key for create", () => {
    const [ct] = twins();
    open(
      [ct],
      [
        { src: CLIENT, dst: SERVER, protocol: "tcp", srcPort: 40000, dstPort: 443, tcp: { flags: "S", seq: 1000 } },
        { src: SERVER, dst: CLIENT, protocol: "tcp", srcPort: 443, dstPort: 40000, tcp: { flags: "SA", seq: 5000, ack: 1001 } },
        { src: CLIENT, dst: SERVER, protocol: "tcp", srcPort: 40000, dstPort: 443, tcp: { flags: "A", seq: 1001, ack: 5001 } },
      ],
    );
    ct.now = 1;
    expect(fastFor(ct, ({ src: CLIENT, dst: SERVER, protocol: "tcp", srcPort: 40000, dstPort: 443, tcp: { flags: "PA", seq: 1001, ack: 5001 }, payload: 100 }))).toBeGreaterThanOrEqual(0);
    expect(fastFor(ct, ({ src: SERVER, dst: CLIENT, protocol: "tcp", srcPort: 443, dstPort: 40000, tcp: { flags: "A", seq: 5001, ack: 1101 } }))).toBeGreaterThanOrEqual(0);
    // not for the fast path: a FIN (general path), an unknown flow (untracked, the key set for create)
    expect(fastFor(ct, ({ src: CLIENT, dst: SERVER, protocol: "tcp", srcPort: 40000, dstPort: 443, tcp: { flags: "FA", seq: 1101, ack: 5001 } }))).toBe(FAST_GENERAL);
    const syn = decoded({ src: CLIENT, dst: SERVER, protocol: "tcp", srcPort: 40001, dstPort: 443, tcp: { flags: "S", seq: 1 } });
    expect(ct.trackFast(syn, true)).toBe(FAST_UNTRACKED);
    const ref = ct.create(syn, ORIGIN_INBOUND, 0);
    expect(ct.lookup(syn)).toBe(ref);
  });
});
