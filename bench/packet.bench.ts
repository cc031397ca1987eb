// Decode throughput: ns/packet, packets/s and heap growth per million packets for the
// packet kinds the hot path sees most.
//
// First the figure the issue asks for: decoding one TCP/IPv4 packet (without options,
// and with the timestamp option every established Linux segment carries), in process
// CPU ns per packet (wall-clock ns on a shared machine also count other processes), and
// the heap growth over a million decodes with no timer or other work in the loop.
// Then batches: packets back to back in one buffer with an offsets array, the way a TUN
// batch read or a capture chunk delivers them; one scenario alternates between
// separately allocated arrays; and the real packets of capture fixtures, read with
// openCapture.

import { existsSync } from "node:fs";
import { openCapture } from "../src/io/capture.ts";
import { buildPacket } from "../src/packet/builder.ts";
import type { PacketSpec } from "../src/packet/builder.ts";
import { decodePacket } from "../src/packet/decode.ts";
import { PacketRecord } from "../src/packet/record.ts";
import { measure } from "./harness.ts";
import type { BenchContext } from "./harness.ts";

const BATCH = 64;

interface Batch {
  buffer: Uint8Array;
  offsets: Uint32Array;
  lengths: Uint32Array;
}

/** Pack packets into one buffer, as a batch read would. */
function batchOf(packets: Uint8Array[]): Batch {
  const buffer = new Uint8Array(packets.reduce((n, p) => n + p.length, 0));
  const offsets = new Uint32Array(packets.length);
  const lengths = new Uint32Array(packets.length);
  let at = 0;
  packets.forEach((p, i) => {
    buffer.set(p, at);
    offsets[i] = at;
    lengths[i] = p.length;
    at += p.length;
  });
  return { buffer, offsets, lengths };
}

function variants(make: (i: number) => PacketSpec): Uint8Array[] {
  return Array.from({ length: BATCH }, (_, i) => buildPacket(make(i)));
}

const inner = buildPacket({ src: "100.64.0.20", dst: "198.18.1.5", protocol: "udp", srcPort: 40000, dstPort: 53, payload: 32 });

const scenarios: [string, Uint8Array[]][] = [
  [
    "tcp-ipv4-established",
    variants((i) => ({
      src: "100.64.0.10",
      dst: "100.64.0.20",
      protocol: "tcp",
      srcPort: 40000 + i,
      dstPort: 5432,
      tcp: { flags: "A", seq: 0x90000000 + i * 1448, ack: 0xf0000000 + i, window: 501, timestamp: [0x80000000 + i, 0x70000000] },
      payload: 1448,
    })),
  ],
  [
    "tcp-ipv4-plain",
    variants((i) => ({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp", srcPort: 40000 + i, dstPort: 443, tcp: { flags: "PA", seq: i, ack: i }, payload: 100 })),
  ],
  [
    "tcp-ipv4-syn-options",
    variants((i) => ({
      src: "100.64.0.10",
      dst: "100.64.0.20",
      protocol: "tcp",
      srcPort: 40000 + i,
      dstPort: 22,
      tcp: { flags: "S", seq: 0xc0000000 + i, mss: 1380, windowScale: 7, sackPermitted: true, timestamp: [i, 0] },
    })),
  ],
  [
    "udp-ipv6",
    variants((i) => ({ src: "fd00::a", dst: "fd00::ffff:14", protocol: "udp", srcPort: 50000 + i, dstPort: 53, payload: 60 })),
  ],
  ["icmp-echo-ipv4", variants((i) => ({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "icmp", icmp: { id: 7, seq: i }, payload: 56 }))],
  [
    "icmp-error-ipv4",
    variants(() => ({ src: "100.64.0.40", dst: "100.64.0.20", protocol: "icmp", icmp: { type: 3, code: 3, quote: inner } })),
  ],
];

/**
 * Process CPU time per packet of `fn`, which decodes `perCall` packets. On a shared
 * machine the wall-clock figures also count time other processes held the CPU.
 */
function cpuNsPerPacket(fn: () => void, perCall: number, calls: number): number {
  const start = process.cpuUsage();
  for (let i = 0; i < calls; i++) fn();
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / (calls * perCall);
}

/**
 * Heap growth in bytes per million packets of `decodeMany(count)`: run once so it is
 * compiled (compiling allocates), then gc and run again with nothing else in the loop.
 */
function heapBytesPerMillion(decodeMany: (count: number) => void, count: number): number {
  decodeMany(count);
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  decodeMany(count);
  return ((process.memoryUsage().heapUsed - before) / count) * 1e6;
}

/** The IP packets of a capture file, copied out of openCapture's reused chunk buffer. */
function capturePackets(path: string): Uint8Array[] {
  const reader = openCapture(path);
  const packets: Uint8Array[] = [];
  try {
    while (reader.next()) if (reader.ipLength > 0) packets.push(reader.data.slice(reader.ipOffset, reader.ipOffset + reader.ipLength));
  } finally {
    reader.close();
  }
  return packets;
}

/** The figure: one TCP/IPv4 packet decoded over and over, CPU ns per packet (best of 5 runs). */
function singlePacketFigure(ctx: BenchContext, name: string, packet: Uint8Array, rec: PacketRecord): void {
  const runs = 5;
  const perRun = ctx.quick ? 500_000 : 5_000_000;
  const length = packet.length;
  let sink = 0;
  // The loop sums into a local and hands the sum on once: a closure variable updated per
  // packet is a context load and store each time, which the figure would count as decoding.
  const decodeMany = (count: number) => {
    let sum = 0;
    for (let i = 0; i < count; i++) if (decodePacket(packet, 0, length, rec)) sum = (sum + rec.srcPort) | 0;
    sink = (sink + sum) | 0;
  };
  decodeMany(perRun);
  let best = Infinity;
  let bestWall = Infinity;
  for (let r = 0; r < runs; r++) {
    const wallStart = performance.now();
    const cpuStart = process.cpuUsage();
    decodeMany(perRun);
    const used = process.cpuUsage(cpuStart);
    best = Math.min(best, ((used.user + used.system) * 1000) / perRun);
    bestWall = Math.min(bestWall, ((performance.now() - wallStart) * 1e6) / perRun);
  }
  ctx.record({
    name,
    opsPerSec: 1e9 / best,
    nsPerOp: +best.toFixed(1),
    heapBytesPerMillion: heapBytesPerMillion(decodeMany, ctx.quick ? 1_000_000 : 4_000_000),
    extra: { clock: "process CPU", wallNs: +bestWall.toFixed(1), ok: sink === -1 ? 0 : 1 },
  });
}

export default async function (ctx: BenchContext): Promise<void> {
  const seconds = ctx.quick ? 0.25 : 1.25;
  const cpuPackets = ctx.quick ? 200_000 : 2_000_000;
  const rec = new PacketRecord();
  let sink = 0;

  // Warm the decoder on every kind first, so it is compiled for the mix once rather than
  // deoptimised and recompiled (allocating code) inside a later measurement. The mix is
  // TCP-heavy, like real traffic: the compiler inlines the most frequent path.
  const [, established] = scenarios[0];
  for (let round = 0; round < 2000; round++) {
    for (let k = 0; k < 8; k++) for (const p of established) decodePacket(p, 0, p.length, rec);
    for (const [, packets] of scenarios) for (const p of packets) decodePacket(p, 0, p.length, rec, (round & 1) === 1);
  }

  singlePacketFigure(ctx, "decode/tcp-ipv4-one-packet", scenarios[1][1][0], rec);
  singlePacketFigure(ctx, "decode/tcp-ipv4-timestamps-one-packet", scenarios[0][1][0], rec);

  for (const [name, packets] of scenarios) {
    const { buffer, offsets, lengths } = batchOf(packets);
    const decodeBatch = () => {
      let sum = 0;
      for (let i = 0; i < BATCH; i++) if (decodePacket(buffer, offsets[i], lengths[i], rec)) sum = (sum + rec.payloadLength) | 0;
      sink = (sink + sum) | 0;
    };
    const figure = measure(`decode/${name}`, BATCH, decodeBatch, seconds);
    const cpuNs = cpuNsPerPacket(decodeBatch, BATCH, Math.ceil(cpuPackets / BATCH));
    ctx.record({ ...figure, extra: { cpuNsPerPacket: +cpuNs.toFixed(1) } });
  }

  // Checksum verification walks every byte: its cost grows with the payload.
  {
    const { buffer, offsets, lengths } = batchOf(scenarios[0][1]);
    ctx.record({
      ...measure(`decode/tcp-ipv4-established-verify-checksums`, BATCH, () => {
        let sum = 0;
        for (let i = 0; i < BATCH; i++) if (decodePacket(buffer, offsets[i], lengths[i], rec, true)) sum = (sum + rec.payloadLength) | 0;
        sink = (sink + sum) | 0;
      }, seconds),
      extra: { payloadBytes: 1448 },
    });
  }

  // Every packet in its own array, all kinds interleaved: the pattern of tests and of
  // callers that keep packets apart. Must not allocate either.
  {
    const mixed = scenarios.flatMap(([, packets]) => packets.slice(0, 8));
    ctx.record({
      ...measure(`decode/mixed-separate-arrays`, mixed.length, () => {
        let sum = 0;
        for (const p of mixed) if (decodePacket(p, 0, p.length, rec)) sum = (sum + rec.protocol) | 0;
        sink = (sink + sum) | 0;
      }, seconds),
      extra: { packets: mixed.length },
    });
  }

  // Real traffic: the bundled capture of the mesh peers, and a raw-IP fixture.
  for (const [name, file] of [
    ["capture-raw-ip", "../fixtures/raw-ip.pcap"],
    ["capture-mesh", "../examples/mesh.pcap"],
  ]) {
    const path = new URL(file, import.meta.url).pathname;
    if (!existsSync(path)) continue;
    const packets = capturePackets(path);
    const { buffer, offsets, lengths } = batchOf(packets);
    const count = packets.length;
    const decodeAll = () => {
      let sum = 0;
      for (let i = 0; i < count; i++) if (decodePacket(buffer, offsets[i], lengths[i], rec)) sum = (sum + rec.srcPort) | 0;
      sink = (sink + sum) | 0;
    };
    const figure = measure(`decode/${name}`, count, decodeAll, seconds);
    const cpuNs = cpuNsPerPacket(decodeAll, count, Math.ceil(cpuPackets / count));
    ctx.record({ ...figure, extra: { packets: count, cpuNsPerPacket: +cpuNs.toFixed(1) } });
  }
  if (sink === -1) console.log(sink); // keep the work observable so it is not optimised away
}
