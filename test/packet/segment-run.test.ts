// tcpSegmentRun: which packets after a first one continue it as one larger segment
// would. A TSO-like burst forms one run; each thing that makes a packet more than "the
// next bytes of the same segment" ends the run before it.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildPacket } from "../../src/packet/builder.ts";
import type { PacketSpec } from "../../src/packet/builder.ts";
import { viewOf } from "../../src/packet/buffer-view.ts";
import { decodePacket } from "../../src/packet/decode.ts";
import { PacketRecord } from "../../src/packet/record.ts";
import { MAX_RUN_PAYLOAD, RUN_END, RUN_LAST_SEQ, RUN_REST_BYTES, tcpSegmentRun } from "../../src/packet/segment-run.ts";
import { packBatch } from "../support/batch.ts";

/** Show the batch's array twice, so that it has a DataView (buffer-view.ts), as in a batch. */
function adopt(buf: Uint8Array): void {
  viewOf(buf);
  expect(viewOf(buf)).not.toBeNull();
}

const SEQ = 0xfffff000; // the run wraps past 2^32
const MSS = 1368;

function segment(k: number, changes: Partial<PacketSpec> = {}): Uint8Array {
  const { tcp, ...rest } = changes;
  return buildPacket({
    src: "100.64.0.10",
    dst: "198.18.1.7",
    protocol: "tcp",
    srcPort: 40000,
    dstPort: 5432,
    payload: MSS,
    ...rest,
    tcp: { flags: "A", seq: (SEQ + k * MSS) >>> 0, ack: 77, window: 501, timestamp: [1000, 2000], ...tcp },
  });
}

/** tcpSegmentRun over `packets` from index 0, and what it wrote. */
function runOf(packets: Uint8Array[]): { n: number; run: Int32Array } {
  const batch = packBatch(packets);
  adopt(batch.buf);
  const run = new Int32Array(3);
  return { n: tcpSegmentRun(batch.buf, batch.offsets, batch.lengths, 0, batch.count, run), run };
}

describe("tcpSegmentRun", () => {
  it("takes a TSO-like burst whole: contiguous segments, PSH on the last, sequence numbers wrapping", () => {
    const packets = Array.from({ length: 45 }, (_, k) => segment(k, k === 44 ? { tcp: { flags: "PA" } } : {}));
    const { n, run } = runOf(packets);
    expect(n).toBe(45);
    expect(run[RUN_LAST_SEQ]).toBe((SEQ + 44 * MSS) | 0);
    expect(run[RUN_END]).toBe((SEQ + 45 * MSS) | 0);
    expect(run[RUN_REST_BYTES]).toBe(44 * packets[1].length);
  });

  it("takes segments without TCP options, and a shorter last segment", () => {
    const plain = (k: number, payload = MSS) => segment(k, { payload, tcp: { timestamp: undefined, window: 501 } });
    expect(runOf([plain(0), plain(1), plain(2, 100)]).n).toBe(3);
  });

  it("is 1 when the first packet is not a data segment of the common shape", () => {
    expect(runOf([segment(0, { payload: 0 }), segment(0)]).n).toBe(1);
    expect(runOf([segment(0, { tcp: { flags: "FA" } }), segment(1)]).n).toBe(1);
    expect(runOf([segment(0, { tcp: { flags: "SA" } }), segment(1)]).n).toBe(1);
    expect(runOf([segment(0, { tcp: { mss: 1400 } }), segment(1)]).n).toBe(1);
    expect(runOf([segment(0)]).n).toBe(1);
  });

  it.each<[string, Uint8Array]>([
    ["a gap in the sequence", segment(3)],
    ["a retransmission", segment(1)],
    ["another source port", segment(2, { srcPort: 40001 })],
    ["another destination", segment(2, { dst: "198.18.1.8" })],
    ["another source", segment(2, { src: "100.64.0.11" })],
    ["another ACK number", segment(2, { tcp: { ack: 78 } })],
    ["another window", segment(2, { tcp: { window: 502 } })],
    ["a FIN", segment(2, { tcp: { flags: "FA" } })],
    ["an RST", segment(2, { tcp: { flags: "RA" } })],
    ["URG", segment(2, { tcp: { flags: "UA" } })],
    ["ECE", segment(2, { tcp: { flags: "EA" } })],
    ["other TCP options", segment(2, { tcp: { timestamp: undefined, sack: [[1, 2]] } })],
    ["no timestamp where the run has one", segment(2, { tcp: { timestamp: undefined } })],
    ["a pure ACK", segment(2, { payload: 0 })],
    ["UDP", buildPacket({ src: "100.64.0.10", dst: "198.18.1.7", protocol: "udp", srcPort: 40000, dstPort: 5432, payload: 100 })],
    ["IPv4 options", segment(2, { ipOptions: new Uint8Array([1, 1, 1, 0]) })],
    ["a fragment", segment(2, { moreFragments: true })],
  ])("ends before %s", (_, breaker) => {
    expect(runOf([segment(0), segment(1), breaker, segment(3)]).n).toBe(2);
  });

  it("ends before a packet whose IP total length is not its length (trailing bytes)", () => {
    const padded = new Uint8Array(segment(2).length + 4);
    padded.set(segment(2));
    expect(runOf([segment(0), segment(1), padded]).n).toBe(2);
  });

  it("stops before the run's payload would pass 64 KiB, as a GSO packet would", () => {
    const packets = Array.from({ length: 60 }, (_, k) => segment(k));
    expect(runOf(packets).n).toBe(Math.floor(MAX_RUN_PAYLOAD / MSS));
  });

  it("never throws, on any bytes, and never reaches past the batch or into a packet it did not check", () => {
    const burst = Array.from({ length: 6 }, (_, k) => segment(0, { payload: 100, tcp: { seq: (SEQ + k * 100) >>> 0 } }));
    let longRuns = 0;
    fc.assert(
      fc.property(
        fc.array(fc.record({ packet: fc.integer({ min: 0, max: 5 }), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { maxLength: 8 }),
        fc.array(fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 200 }) }), { minLength: 6, maxLength: 6 }),
        (flips, cuts) => {
          // A burst with bytes flipped and packets cut short (lengths below their IP total length).
          const packets = burst.map((p, i) => p.slice(0, Math.max(1, p.length - cuts[i])));
          for (const { packet, at, byte } of flips) packets[packet][at % packets[packet].length] = byte;
          const batch = packBatch(packets);
          adopt(batch.buf);
          const n = tcpSegmentRun(batch.buf, batch.offsets, batch.lengths, 0, batch.count, new Int32Array(3));
          expect(n).toBeGreaterThanOrEqual(1);
          expect(n).toBeLessThanOrEqual(batch.count);
          if (n > 1) longRuns++;
          // Every packet of a run, the first too, is one the decoder finds well formed, of the same flow.
          const rec = new PacketRecord();
          if (n > 1) expect(decodePacket(batch.buf, batch.offsets[0], batch.lengths[0], rec)).toBe(true);
          for (let k = 1; k < n; k++) {
            const next = new PacketRecord();
            expect(decodePacket(batch.buf, batch.offsets[k], batch.lengths[k], next)).toBe(true);
            expect([next.srcPort, next.dstPort, next.src0, next.dst0, next.protocol]).toEqual([rec.srcPort, rec.dstPort, rec.src0, rec.dst0, 6]);
          }
        },
      ),
      { numRuns: 500 },
    );
    expect(longRuns, "some batches still hold runs").toBeGreaterThan(50);
  });
});
