// The agent's data path: TUN -> filter (outbound) -> transport, and transport -> filter
// (inbound) -> TUN. Each readiness event moves whole batches: one read call for up to
// `batchSize` packets, one judgeBatch call, one send call. Nothing here allocates per
// packet; the buffers and verdict arrays are made once.

import type { TunDevice } from "../io/tun.ts";
import { clampMss } from "./mss-clamp.ts";
import type { Transport } from "./transport.ts";

// The engine's direction codes (src/engine/engine.ts DIR_IN / DIR_OUT), repeated here so
// the loop can run without an engine (--no-filter) and be tested with a stand-in.
const DIR_IN = 1;
const DIR_OUT = 2;

/** The part of the engine the data path uses (src/engine/engine.ts Engine satisfies it). */
export interface BatchJudge {
  setTime(ms: number): void;
  judgeBatch(dir: number, buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, verdicts: Uint8Array): void;
}

export interface PacketLoopOptions {
  tun: TunDevice;
  transport: Transport;
  /** The filter; null passes every packet (the --no-filter baseline for benchmarks). */
  judge: BatchJudge | null;
  /** The TUN MTU: sizes the read buffer and the MSS that SYNs are clamped to. */
  mtu: number;
  /** Packets per TUN read. Default 64. */
  batchSize?: number;
  /** Clamp the MSS of SYN/SYN-ACK segments to fit the MTU. Default true. */
  clampMss?: boolean;
}

/** Running totals of the data path (plain numbers, read by the metrics endpoint). */
export class PacketLoopCounters {
  tunReadPackets = 0;
  tunReadBytes = 0;
  tunWrittenPackets = 0;
  outboundDropped = 0;
  inboundDropped = 0;
  mssClamped = 0;
  /** Readiness events on the TUN side, so packets per batch = tunReadPackets / tunReadBatches. */
  tunReadBatches = 0;
}

export class PacketLoop {
  readonly counters = new PacketLoopCounters();
  private readonly tun: TunDevice;
  private readonly transport: Transport;
  private judge: BatchJudge | null;
  private readonly mtu: number;
  private readonly batchSize: number;
  private readonly clamp: boolean;
  private readonly outBuf: Uint8Array;
  private readonly outOffsets: Uint32Array;
  private readonly outLengths: Uint32Array;
  private readonly outVerdicts: Uint8Array;
  private inVerdicts: Uint8Array;
  private running = false;

  constructor(options: PacketLoopOptions) {
    this.tun = options.tun;
    this.transport = options.transport;
    this.judge = options.judge;
    this.mtu = options.mtu;
    // With offload one read may split a 64 KiB TCP packet into ~46 segments: batches are larger.
    this.batchSize = options.batchSize ?? (options.tun.offload ? 256 : 64);
    this.clamp = options.clampMss ?? true;
    this.outBuf = new Uint8Array(this.batchSize * this.mtu);
    this.outOffsets = new Uint32Array(this.batchSize);
    this.outLengths = new Uint32Array(this.batchSize);
    this.outVerdicts = new Uint8Array(this.batchSize).fill(1);
    this.inVerdicts = new Uint8Array(this.batchSize).fill(1);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.tun.onReadable(this.onTunReadable);
    this.transport.start(this.onTransportBatch);
  }

  /** Stops moving packets (TUN callbacks paused; the transport is closed by its owner). */
  stop(): void {
    this.running = false;
    if (!this.tun.closed) this.tun.pause();
  }

  private readonly onTunReadable = (): void => {
    if (!this.running) return;
    const { tun, outBuf, outOffsets, outLengths, outVerdicts, batchSize, counters } = this;
    // A bounded number of batches per readiness: the inbound side gets its turn between them.
    // Reading goes on until read() returns 0 (with offload a packet may wait in the addon
    // without the fd being readable), so after the last round the loop continues later.
    for (let round = 0; round < 8; round++) {
      const n = tun.read(outBuf, outOffsets, outLengths, batchSize);
      if (n === 0) return;
      counters.tunReadBatches++;
      counters.tunReadPackets += n;
      if (this.judge !== null) {
        this.judge.setTime(Date.now());
        this.judge.judgeBatch(DIR_OUT, outBuf, outOffsets, outLengths, n, outVerdicts);
      }
      for (let i = 0; i < n; i++) {
        counters.tunReadBytes += outLengths[i];
        if (outVerdicts[i] === 0) counters.outboundDropped++;
        else if (this.clamp && clampMss(outBuf, outOffsets[i], outLengths[i], this.mtu)) counters.mssClamped++;
      }
      this.transport.send(outBuf, outOffsets, outLengths, n, outVerdicts);
    }
    if (this.running) setImmediate(this.onTunReadable);
  };

  private readonly onTransportBatch = (buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, n: number): void => {
    if (!this.running) return;
    if (this.inVerdicts.length < n) this.inVerdicts = new Uint8Array(n).fill(1);
    const verdicts = this.inVerdicts;
    const counters = this.counters;
    if (this.judge !== null) {
      this.judge.setTime(Date.now());
      this.judge.judgeBatch(DIR_IN, buf, offsets, lengths, n, verdicts);
    }
    for (let i = 0; i < n; i++) {
      if (verdicts[i] === 0) counters.inboundDropped++;
      else if (this.clamp && clampMss(buf, offsets[i], lengths[i], this.mtu)) counters.mssClamped++;
    }
    counters.tunWrittenPackets += this.tun.write(buf, offsets, lengths, n, verdicts);
  };
}
