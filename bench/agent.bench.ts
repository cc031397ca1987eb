// The agent's data path in JavaScript, without the kernel: PacketLoop moving batches of
// 64 packets from a stand-in TUN device to a stand-in transport, with no filter, with
// the engine judging an established UDP flow, and with it judging a TSO burst of an
// established TCP connection (64 in-order segments: one segment run). The kernel's share (TUN and UDP system
// calls) is measured end to end by bench/iperf.ts; this isolates what the agent adds.

import type { BenchContext } from "./harness.ts";
import { measure } from "./harness.ts";
import { PacketLoop, type BatchJudge } from "../src/agent/packet-loop.ts";
import type { DeliverBatch, Transport } from "../src/agent/transport.ts";
import { DIR_IN, DIR_OUT, Engine } from "../src/engine/engine.ts";
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
  const scenarios: [string, BatchJudge | null, Uint8Array][] = [
    ["agent/loop-no-filter", null, batch],
    ["agent/loop-engine-udp-flow", new Engine(policy), batch],
    ["agent/loop-engine-tcp-no-segment-runs", tcpEngine(false), tcpBurst()],
    ["agent/loop-engine-tcp-segment-run", tcpEngine(), tcpBurst()],
  ];
  for (const [name, judge, batch] of scenarios) {
    const tun = new BatchTun(batch);
    const loop = new PacketLoop({ tun, transport: nullTransport, judge, mtu: 1420, batchSize: BATCH });
    loop.start();
    ctx.record({ ...measure(name, BATCH, () => tun.fire(), seconds), extra: { packetBytes: batch.length / BATCH, batch: BATCH } });
    loop.stop();
    if (loop.counters.outboundDropped > 0) throw new Error(`${name}: the filter dropped packets; the scenario measures the wrong path`);
  }
}

const ALICE = "100.64.0.10";
const DB = "100.64.0.20";
const MSS = 1368;
const tcp = (src: string, dst: string, flags: string, seq: number, ack: number, payload = 0, windowScale?: number) =>
  buildPacket({ src, dst, protocol: "tcp", srcPort: src === ALICE ? 40000 : 5432, dstPort: src === ALICE ? 5432 : 40000, tcp: { flags, seq, ack, window: 65535, windowScale }, payload });

/** alice's engine with a connection to db-1:5432 established (window scale 7 both ways). */
function tcpEngine(segmentRuns = true): Engine {
  const engine = new Engine(policy, { segmentRuns });
  engine.setTime(Date.now()); // the loop's clock: a handshake on another clock would have expired
  for (const [dir, p] of [
    [DIR_OUT, tcp(ALICE, DB, "S", 999, 0, 0, 7)],
    [DIR_IN, tcp(DB, ALICE, "SA", 4999, 1000, 0, 7)],
    [DIR_OUT, tcp(ALICE, DB, "A", 1000, 5000)],
    // db-1's first scaled window (65535 << 7): the burst fits in it.
    [DIR_IN, tcp(DB, ALICE, "A", 5000, 1000)],
  ] as const) {
    if ((dir === DIR_OUT ? engine.outbound(p, 0, p.length) : engine.inbound(p, 0, p.length)) !== 1) throw new Error("bench handshake refused");
  }
  return engine;
}

/** 64 in-order segments from alice, as the TUN hands over a split TSO packet (sent again each round: retransmissions in window). */
function tcpBurst(): Uint8Array {
  const segments = Array.from({ length: BATCH }, (_, k) => tcp(ALICE, DB, "A", 1000 + k * MSS, 5000, MSS));
  const out = new Uint8Array(segments.length * segments[0].length);
  segments.forEach((p, k) => out.set(p, k * p.length));
  return out;
}
