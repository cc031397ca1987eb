// The decoder must not allocate per packet (DESIGN.md hot-path rules). Measured, not timed:
// decode a mix of packets in chunks of 100,000 and look at heap growth per chunk. A chunk
// during which a garbage collection ran shows a drop and is set aside; with zero allocation
// no collection runs at all. One allocation per packet would be >= 1.6 MB per chunk.

import { describe, expect, it } from "vitest";
import { buildPacket } from "../../src/packet/builder.ts";
import { decodePacket } from "../../src/packet/decode.ts";
import { PacketRecord } from "../../src/packet/record.ts";

const CHUNK = 100_000;
const CHUNKS = 10; // 1,000,000 packets

function corpus(): Uint8Array[] {
  const inner = buildPacket({ src: "100.64.0.20", dst: "100.64.0.30", protocol: "tcp", tcp: { seq: 0xf0000000 } });
  return [
    buildPacket({ src: "100.64.0.10", dst: "200.64.0.20", protocol: "tcp", tcp: { flags: "A", seq: 0xfffffff0, ack: 0x80000001, timestamp: [0xffff0000, 0x90000000] }, payload: 100 }),
    buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp", tcp: { flags: "S", mss: 1460, windowScale: 7, sackPermitted: true, timestamp: [0xf1234567, 0] } }),
    buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp", tcp: { flags: "A", sack: [[0xf0000000, 0xf0001000]] } }),
    buildPacket({ src: "fd00::ffff:1", dst: "ff02::fb", protocol: "udp", payload: 60, extensionHeaders: ["hop-by-hop"] }),
    buildPacket({ src: "100.64.0.40", dst: "100.64.0.20", protocol: "icmp", icmp: { type: 3, code: 3, quote: inner } }),
    buildPacket({ src: "fd00::1", dst: "fd00::2", protocol: "icmp", icmp: { id: 9, seq: 1 } }),
    buildPacket({ src: "fd00::1", dst: "fd00::2", protocol: "udp", fragmentOffset: 1232, ipId: 0xf0000001, payload: 8 }),
    buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp", tcp: { rawOptions: Uint8Array.of(2, 0) } }),
  ];
}

describe("decodePacket allocation", () => {
  it("heap stays flat over 1,000,000 decodes of mixed packets (with checksum verification)", () => {
    const packets = corpus();
    const rec = new PacketRecord();
    const decodeChunk = () => {
      for (let i = 0; i < CHUNK; i++) {
        const p = packets[i & 7];
        decodePacket(p, 0, p.length, rec, (i & 8) !== 0);
      }
    };
    for (let i = 0; i < 5; i++) decodeChunk(); // warm-up: let the optimizing compiler settle
    (globalThis as { gc?: () => void }).gc?.();
    const growth: number[] = [];
    for (let c = 0; c < CHUNKS; c++) {
      const before = process.memoryUsage().heapUsed;
      decodeChunk();
      const delta = process.memoryUsage().heapUsed - before;
      if (delta >= 0) growth.push(delta);
    }
    growth.sort((a, b) => a - b);
    const median = growth[Math.floor(growth.length / 2)] ?? 0;
    // Most chunks saw no collection; their growth is the allocation (plus memoryUsage's own few bytes).
    expect(growth.length, `garbage collections ran during ${CHUNKS - growth.length} of ${CHUNKS} chunks: decoding allocates`).toBeGreaterThanOrEqual(CHUNKS / 2);
    expect(median, "median heap growth per 100,000 decodes (bytes)").toBeLessThan(64 * 1024);
  });
});
