// The shared-memory packet ring of the multi-queue agent (src/agent/packet-ring.ts):
// records come out in order with their bytes and tags, the data area wraps around, a full
// ring refuses more until the consumer releases, and a producer on another thread hands
// over every packet intact.

import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { PacketRing, createPacketRing } from "../../src/agent/packet-ring.ts";
import { workerEntry } from "../../src/agent/worker-entry.ts";
import { loadNativeAddon } from "../../src/io/tun.ts";

function packet(seq: number, length: number): Uint8Array {
  const p = new Uint8Array(length);
  for (let i = 0; i < length; i++) p[i] = (seq + i) & 0xff;
  return p;
}

function consumer(ring: PacketRing, max = 64) {
  const offsets = new Uint32Array(max);
  const lengths = new Uint32Array(max);
  const tags = new Uint8Array(max);
  return {
    take(): { bytes: Uint8Array; tag: number }[] {
      const n = ring.peek(offsets, lengths, tags, max);
      const out = Array.from({ length: n }, (_, i) => ({ bytes: ring.data.slice(offsets[i], offsets[i] + lengths[i]), tag: tags[i] }));
      ring.release(n);
      return out;
    },
  };
}

describe("PacketRing", () => {
  it("hands over pushed packets in order, with their tags, once flushed", () => {
    const shape = createPacketRing(8, 4096);
    const producer = new PacketRing(shape);
    const c = consumer(new PacketRing(shape));
    for (let i = 0; i < 3; i++) expect(producer.push(packet(i, 100 + i), 0, 100 + i, i + 1)).toBe(true);
    expect(c.take()).toEqual([]); // not flushed yet
    producer.flush();
    const got = c.take();
    expect(got.map((g) => g.tag)).toEqual([1, 2, 3]);
    got.forEach((g, i) => expect(g.bytes).toEqual(packet(i, 100 + i)));
  });

  it("copies through the addon's copyBytes, which refuses a range outside either array", () => {
    const { copyBytes } = loadNativeAddon();
    const src = packet(3, 64);
    const dst = new Uint8Array(new SharedArrayBuffer(64));
    expect(copyBytes(src, 10, dst, 20, 30)).toBe(30);
    expect(dst.slice(20, 50)).toEqual(src.slice(10, 40));
    expect(() => copyBytes(src, 40, dst, 0, 30)).toThrow(/outside the source or the destination/);
    expect(() => copyBytes(src, 0, dst, 40, 30)).toThrow(RangeError);
  });

  it("pushes a packet from the middle of a larger buffer", () => {
    const shape = createPacketRing(8, 4096);
    const producer = new PacketRing(shape);
    const src = new Uint8Array(300);
    src.set(packet(7, 100), 150);
    producer.push(src, 150, 100, 9);
    producer.flush();
    expect(consumer(new PacketRing(shape)).take()).toEqual([{ bytes: packet(7, 100), tag: 9 }]);
  });

  it("refuses packets when its record slots are full, and takes them again after a release", () => {
    const shape = createPacketRing(4, 1 << 16);
    const producer = new PacketRing(shape);
    const ring = new PacketRing(shape);
    for (let i = 0; i < 4; i++) expect(producer.push(packet(i, 60), 0, 60, 1)).toBe(true);
    expect(producer.push(packet(4, 60), 0, 60, 1)).toBe(false);
    producer.flush();
    expect(producer.freeRecords()).toBe(0);
    const offsets = new Uint32Array(4);
    const lengths = new Uint32Array(4);
    const tags = new Uint8Array(4);
    expect(ring.peek(offsets, lengths, tags, 1)).toBe(1);
    ring.release(1);
    expect(producer.push(packet(4, 60), 0, 60, 1)).toBe(true);
    producer.flush();
    const got = consumer(ring).take();
    expect(got.map((g) => g.bytes[0])).toEqual([1, 2, 3, 4]);
  });

  it("refuses a packet when its data area is full, and never overwrites a packet not yet released", () => {
    const shape = createPacketRing(64, 1000);
    const producer = new PacketRing(shape);
    const ring = new PacketRing(shape);
    // 3 x 300 bytes fit in 1000; a fourth does not.
    for (let i = 0; i < 3; i++) expect(producer.push(packet(i, 300), 0, 300, 1)).toBe(true);
    expect(producer.push(packet(3, 300), 0, 300, 1)).toBe(false);
    producer.flush();
    const offsets = new Uint32Array(64);
    const lengths = new Uint32Array(64);
    const tags = new Uint8Array(64);
    // The consumer holds the first packet; releasing only it frees its 300 bytes at the start.
    expect(ring.peek(offsets, lengths, tags, 1)).toBe(1);
    ring.release(1);
    expect(producer.push(packet(3, 300), 0, 300, 1)).toBe(true); // wraps to the start
    expect(producer.push(packet(4, 300), 0, 300, 1)).toBe(false);
    producer.flush();
    const got = consumer(ring).take();
    got.forEach((g, i) => expect(g.bytes).toEqual(packet(i + 1, 300)));
    expect(got).toHaveLength(3);
  });

  it("wraps around many times with packets of varying sizes, and reserve/publish place them as read", () => {
    const shape = createPacketRing(16, 5000);
    const producer = new PacketRing(shape);
    const ring = new PacketRing(shape);
    const c = consumer(ring, 16);
    let sent = 0;
    let received = 0;
    const offsets = new Uint32Array(4);
    const lengths = new Uint32Array(4);
    const tags = new Uint8Array(4).fill(5);
    for (let round = 0; round < 2000; round++) {
      // Alternate: pushes, then a reserve/publish batch written in place (as a TUN read does).
      if (round % 2 === 0) {
        const len = 20 + ((round * 37) % 1400);
        if (producer.push(packet(sent, len), 0, len, 1)) sent++;
        producer.flush();
      } else {
        const base = producer.reserve(4 * 400);
        if (base >= 0 && producer.freeRecords() >= 4) {
          let at = 0;
          for (let i = 0; i < 4; i++) {
            const len = 40 + ((sent * 13) % 360);
            producer.data.set(packet(sent++, len), base + at);
            offsets[i] = at;
            lengths[i] = len;
            at += len;
          }
          producer.publish(base, offsets, lengths, 4, tags);
        }
      }
      if (round % 3 === 0) {
        for (const g of c.take()) {
          expect(g.bytes).toEqual(packet(received, g.bytes.length));
          received++;
        }
      }
    }
    for (const g of c.take()) expect(g.bytes).toEqual(packet(received++, g.bytes.length));
    expect(received).toBe(sent);
    expect(sent).toBeGreaterThan(1000); // the 5000-byte area wrapped hundreds of times
  });

  it("a producer on another thread hands 200,000 packets over intact and in order", async () => {
    const shape = createPacketRing(256, 1 << 16);
    const ring = new PacketRing(shape);
    const total = 200_000;
    const { entry, eval: isCode } = workerEntry(new URL("./ring-producer.ts", import.meta.url));
    const worker = new Worker(entry, { eval: isCode, workerData: { shape, total } });
    const offsets = new Uint32Array(64);
    const lengths = new Uint32Array(64);
    const tags = new Uint8Array(64);
    let seq = 0;
    let bad = 0;
    const deadline = Date.now() + 60_000; // "did not hang", not a speed figure
    while (seq < total && Date.now() < deadline) {
      const seen = ring.wakeValue();
      const n = ring.peek(offsets, lengths, tags, 64);
      for (let i = 0; i < n; i++, seq++) {
        const len = 20 + (seq % 1400);
        if (lengths[i] !== len || tags[i] !== 1 + (seq % 7) || ring.data[offsets[i]] !== (seq & 0xff) || ring.data[offsets[i] + len - 1] !== ((seq + len - 1) & 0xff)) bad++;
      }
      ring.release(n);
      if (n === 0) await ring.waitForData(seen, 100);
    }
    await worker.terminate();
    expect(seq).toBe(total);
    expect(bad).toBe(0);
  }, 90_000);
});
