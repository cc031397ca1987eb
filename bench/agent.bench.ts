// The agent's data path in JavaScript, without the kernel: PacketLoop moving batches of
// 64 packets from a stand-in TUN device to a stand-in transport, with no filter and with
// the engine judging an established UDP flow. The kernel's share (TUN and UDP system
// calls) is measured end to end by bench/iperf.ts; this isolates what the agent adds.

import type { BenchContext } from "./harness.ts";
import { measure } from "./harness.ts";
import { PacketLoop, type BatchJudge } from "../src/agent/packet-loop.ts";
import type { DeliverBatch, Transport } from "../src/agent/transport.ts";
import { Engine } from "../src/engine/engine.ts";
import { buildPacket } from "../src/packet/builder.ts";
import { compiledPolicy } from "../test/support/compiled-policy.ts";
import { StandInTun } from "../test/support/stand-in-tun.ts";

const BATCH = 64;

/** A TUN device whose every read returns the same batch of packets, once per fire(). */
class BatchTun extends StandInTun {
  constructor(private readonly batch: Uint8Array) {
    super("bench0");
  }
  protected fill(buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array): number {
    buf.set(this.batch);
    const size = this.batch.length / BATCH;
    for (let i = 0; i < BATCH; i++) {
      offsets[i] = i * size;
      lengths[i] = size;
    }
    return BATCH;
  }
  write(): number {
    return 0;
  }
}

const nullTransport: Transport = {
  counters: { sentPackets: 0, sentBytes: 0, receivedPackets: 0, receivedBytes: 0, noRoute: 0, sendErrors: 0 },
  send: (_b, _o, _l, count) => count,
  start: (_deliver: DeliverBatch) => {},
  close: () => {},
};

const policy = compiledPolicy("laptop-alice", ["100.64.0.10"]);

export default async function (ctx: BenchContext): Promise<void> {
  const packet = buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "udp", srcPort: 40000, dstPort: 5353, payload: 1372 });
  const batch = new Uint8Array(packet.length * BATCH);
  for (let i = 0; i < BATCH; i++) batch.set(packet, i * packet.length);
  const seconds = ctx.quick ? 0.5 : 2;
  const scenarios: [string, BatchJudge | null][] = [
    ["agent/loop-no-filter", null],
    ["agent/loop-engine-udp-flow", new Engine(policy)],
  ];
  for (const [name, judge] of scenarios) {
    const tun = new BatchTun(batch);
    const loop = new PacketLoop({ tun, transport: nullTransport, judge, mtu: 1420, batchSize: BATCH });
    loop.start();
    ctx.record({ ...measure(name, BATCH, () => tun.fire(), seconds), extra: { packetBytes: packet.length, batch: BATCH } });
    loop.stop();
  }
}
