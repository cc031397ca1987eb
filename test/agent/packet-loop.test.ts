// The agent's data path with a stand-in TUN device and transport: verdicts decide what is
// sent and written, SYNs are clamped, and moving packets allocates nothing per packet.
import { PerformanceObserver, constants } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import { PacketLoop, type BatchJudge } from "../../src/agent/packet-loop.ts";
import type { DeliverBatch, Transport } from "../../src/agent/transport.ts";
import { buildPacket } from "../../src/packet/builder.ts";
import { fillBatch, packBatch } from "../support/batch.ts";
import { StandInTun } from "../support/stand-in-tun.ts";

/** A TUN device that hands out `batch` once per readiness and records what is written. */
class FakeTun extends StandInTun {
  written: number[] = [];
  constructor(private readonly batch: Uint8Array[]) {
    super("fake0");
  }
  protected fill(buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array): number {
    return fillBatch(this.batch, buf, offsets, lengths);
  }
  write(_buf: Uint8Array, _offsets: Uint32Array, lengths: Uint32Array, count: number, verdicts?: Uint8Array): number {
    let n = 0;
    for (let i = 0; i < count; i++) if (!verdicts || verdicts[i]) n++;
    this.written.push(n);
    return n;
  }
}

class FakeTransport implements Transport {
  readonly counters = { sentPackets: 0, sentBytes: 0, receivedPackets: 0, receivedBytes: 0, noRoute: 0, sendErrors: 0 };
  deliver: DeliverBatch | null = null;
  lastMss = 0;
  send(buf: Uint8Array, offsets: Uint32Array, _lengths: Uint32Array, count: number, verdicts: Uint8Array): number {
    let n = 0;
    for (let i = 0; i < count; i++) {
      if (!verdicts[i]) continue;
      n++;
      if (buf[offsets[i] + 33] === 0x02) this.lastMss = (buf[offsets[i] + 42] << 8) | buf[offsets[i] + 43];
    }
    this.counters.sentPackets += n;
    return n;
  }
  start(deliver: DeliverBatch): void {
    this.deliver = deliver;
  }
  close(): void {}
}

/** Drops every packet whose index in the batch is odd. */
const oddDropper: BatchJudge = {
  setTime() {},
  judgeBatch(_dir, _buf, _offsets, _lengths, count, verdicts) {
    for (let i = 0; i < count; i++) verdicts[i] = i % 2 === 0 ? 1 : 0;
  },
};

const packets = [
  buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp", tcp: { flags: "S", mss: 1460 } }),
  buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "udp", payload: 100 }),
  buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "udp", payload: 200 }),
];

describe("packet loop", () => {
  it("sends only what the filter accepts outbound, clamping SYNs to the MTU", async () => {
    const tun = new FakeTun(packets);
    const transport = new FakeTransport();
    const loop = new PacketLoop({ tun, transport, judge: oddDropper, mtu: 1420 });
    loop.start();
    tun.fire();
    loop.stop();
    expect(transport.counters.sentPackets).toBe(2);
    expect(transport.lastMss).toBe(1380);
    expect(loop.counters).toMatchObject({ tunReadPackets: 3, outboundDropped: 1, mssClamped: 1 });
  });

  it("writes only what the filter accepts inbound; with no filter everything passes", () => {
    for (const [judge, expected] of [[oddDropper, 2], [null, 3]] as const) {
      const tun = new FakeTun([]);
      const transport = new FakeTransport();
      const loop = new PacketLoop({ tun, transport, judge, mtu: 1420 });
      loop.start();
      const { buf, offsets, lengths, count } = packBatch(packets, 4096);
      transport.deliver!(buf, offsets, lengths, count);
      loop.stop();
      expect(tun.written).toEqual([expected]);
    }
  });

  it("moves a million packets without allocating (no young-generation GC, no heap growth)", async () => {
    const batch = Array.from({ length: 64 }, (_, i) => packets[i % packets.length]);
    const tun = new FakeTun(batch);
    const transport = new FakeTransport();
    const loop = new PacketLoop({ tun, transport, judge: oddDropper, mtu: 1420 });
    loop.start();
    for (let i = 0; i < 2000; i++) tun.fire(); // warm-up: let the JIT settle
    globalThis.gc?.();
    await new Promise((r) => setImmediate(r));
    // Any allocation per packet (16+ bytes each, 16+ MB for a million) would fill the young
    // generation and show up as scavenges, and in heap growth if it survived them.
    let scavenges = 0;
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
    });
    observer.observe({ entryTypes: ["gc"] });
    const before = process.memoryUsage().heapUsed;
    const rounds = 1_000_000 / batch.length;
    for (let i = 0; i < rounds; i++) tun.fire();
    const grown = process.memoryUsage().heapUsed - before;
    await new Promise((r) => setImmediate(r));
    observer.disconnect();
    loop.stop();
    expect(scavenges).toBe(0);
    expect(grown).toBeLessThan(1024 * 1024);
  });
});
