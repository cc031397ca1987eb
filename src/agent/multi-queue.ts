// The data path of `meshfilter run --queues N` (N >= 2): N queues of one TUN device
// (IFF_MULTI_QUEUE), each read and written by a worker thread with its own Engine and
// connection table (queue-worker.ts), over the same compiled policy. This thread keeps
// the transport (WireGuard's handshakes, timers, sealing and opening, the UDP socket)
// and moves packets between it and the workers through shared-memory rings
// (packet-ring.ts), two per worker:
//
//   worker's outbound ring -> this thread: judged packets are sealed and sent; a packet a
//     queue read for a flow another worker owns is passed to that worker's inbound ring
//   transport -> flow owner (flow-owners.ts; a new flow goes to the worker its hash names,
//     which owns it from then on) -> that worker's inbound ring
//
// A policy is put in force in every worker (each swaps at its next batch and walks its
// own table, P14); the counters are the workers' sums. docs/agent.md, "Multi-queue".

import { Worker } from "node:worker_threads";
import type { FlowInfo } from "../conntrack/flow-event.ts";
import type { CompiledPeerPolicy } from "../filter/compiled-policy.ts";
import { REASON_COUNT } from "../engine/reasons.ts";
import { FlowOwners, createFlowOwners, flowHash } from "./flow-owners.ts";
import { PacketLoopCounters } from "./packet-loop.ts";
import { PacketRing, createPacketRing } from "./packet-ring.ts";
import type { RuleTotal } from "./rule-counters.ts";
import { STAT, STAT_REASONS, STAT_WORDS, TAG_FORWARD, TAG_OUT, TAG_IN, TAG_SEND, type FromWorker, type QueueWorkerData, type ToWorker } from "./queue-protocol.ts";
import type { Transport } from "./transport.ts";
import { siblingModule, workerEntry } from "./worker-entry.ts";

/** The kernel's limit on the queues of one TUN device (drivers/net/tun.c MAX_TAP_QUEUES). */
export const MAX_QUEUES = 256;
const RING_SLOTS = 4096;
const RING_BYTES = 8 * 1024 * 1024;
const OWNER_BUCKETS = 1 << 16;
const DRAIN_BATCH = 256;

export interface MultiQueueOptions {
  /** The TUN device's name (it exists: the agent opened one multi-queue queue of it). */
  tun: string;
  queues: number;
  mtu: number;
  offload: boolean;
  batchSize: number;
  /** The compiled policy, or null for --no-filter. */
  policy: CompiledPeerPolicy | null;
  engineOptions: unknown;
  transport: Transport;
  /** Told when a worker fails after it started (an error in its thread); the others go on. */
  onWorkerError?: (queue: number, error: Error) => void;
}

/** A worker's counters, as `status` shows them. */
export interface QueueStatus {
  queue: number;
  tunRead: number;
  tunWritten: number;
  droppedInbound: number;
  droppedOutbound: number;
  /** Packets its queue read for flows another worker owns (passed to the owner). */
  passedToOwner: number;
  flows: number;
  /** Connections its engine cut because a new policy no longer allowed them (P14). */
  flowsCut: number;
}

/** A failure starting a worker's queue (the kernel refused it): `code` is the errno name. */
export class QueueStartError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = "QueueStartError";
  }
}

interface QueueWorker {
  worker: Worker;
  inRing: PacketRing;
  outRing: PacketRing;
  stats: Float64Array;
}

export class MultiQueue {
  /** The workers' data-path totals (summed by refresh()). */
  readonly counters = new PacketLoopCounters();
  /** The engines' decision counts, summed. */
  readonly reasonCounts = new Float64Array(REASON_COUNT);
  readonly segmentRunCounts = new Float64Array(2);
  readonly tunTotals = { mergedWrites: 0, splitReads: 0 };
  flowCount = 0;
  flowCapacity = 0;
  /** Received packets dropped because their worker's inbound ring was full. */
  inboundRingFull = 0;
  private readonly workers: QueueWorker[];
  private readonly owners: FlowOwners;
  private readonly transport: Transport;
  private running = false;
  private stopped = false;
  private nextId = 1;
  private readonly revocations = new Map<number, { waiting: number; cut: number; done: (cut: number) => void }>();
  private readonly requests = new Map<number, { waiting: number; answers: unknown[][]; done: (answers: unknown[][]) => void }>();
  /** The rules' totals summed over the workers, as of the last ruleTotals() answer (the metrics read these). */
  lastRuleTotals: RuleTotal[] = [];
  private readonly refreshTimer: NodeJS.Timeout;
  // Scratch of the drains and of the delivery, made once.
  private readonly offsets = new Uint32Array(DRAIN_BATCH);
  private readonly lengths = new Uint32Array(DRAIN_BATCH);
  private readonly tags = new Uint8Array(DRAIN_BATCH);
  private readonly verdicts = new Uint8Array(DRAIN_BATCH);
  private deliverBuf: Uint8Array | null = null;
  private deliverView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

  private constructor(workers: QueueWorker[], owners: FlowOwners, options: MultiQueueOptions) {
    this.workers = workers;
    this.owners = owners;
    this.transport = options.transport;
    workers.forEach((w, queue) => {
      w.worker.on("message", (m: FromWorker) => this.onMessage(m));
      w.worker.removeAllListeners("error");
      w.worker.on("error", (err: Error) => options.onWorkerError?.(queue, err));
    });
    let tick = 0;
    this.refreshTimer = setInterval(() => {
      this.refresh();
      // The per-rule totals travel as messages: once a second is enough for a scrape.
      if (++tick % 10 === 0) void this.ruleTotals();
    }, 100);
    this.refreshTimer.unref();
  }

  /** Starts the workers; each opens its queue of the device. Rejects (and stops them all) when the kernel refuses one. */
  static async start(options: MultiQueueOptions): Promise<MultiQueue> {
    const ownersShape = createFlowOwners(OWNER_BUCKETS);
    const { entry, eval: isCode } = workerEntry(siblingModule(import.meta.url, "queue-worker"));
    const workers: QueueWorker[] = [];
    const ready: Promise<void>[] = [];
    for (let index = 0; index < options.queues; index++) {
      const inShape = createPacketRing(RING_SLOTS, RING_BYTES);
      const outShape = createPacketRing(RING_SLOTS, RING_BYTES);
      const stats = new SharedArrayBuffer(STAT_WORDS * 8);
      const workerData: QueueWorkerData = {
        index,
        tun: options.tun,
        mtu: options.mtu,
        offload: options.offload,
        batchSize: options.batchSize,
        policy: options.policy,
        engineOptions: options.engineOptions,
        owners: ownersShape,
        inRing: inShape,
        outRing: outShape,
        stats,
      };
      const worker = new Worker(entry, { eval: isCode, workerData });
      workers.push({ worker, inRing: new PacketRing(inShape), outRing: new PacketRing(outShape), stats: new Float64Array(stats) });
      ready.push(
        new Promise((resolve, reject) => {
          const onExit = (code: number) => reject(new QueueStartError(`queue worker ${index} stopped (exit code ${code}) before its queue of ${options.tun} was open`, "EXIT"));
          worker.once("error", (err) => reject(new QueueStartError(`queue worker ${index}: ${err.message.split("\n")[0]}`, "ERR_WORKER")));
          worker.once("exit", onExit);
          worker.once("message", (m: FromWorker) => {
            worker.off("exit", onExit);
            if (m.type === "ready") resolve();
            else if (m.type === "error") reject(new QueueStartError(`queue ${index} of ${options.tun}: ${m.message}`, m.code));
          });
        }),
      );
    }
    try {
      await Promise.all(ready);
    } catch (err) {
      await Promise.all(workers.map((w) => w.worker.terminate()));
      throw err;
    }
    return new MultiQueue(workers, new FlowOwners(ownersShape), options);
  }

  get queues(): number {
    return this.workers.length;
  }

  /** Starts moving packets: the transport's batches to the workers, the workers' judged batches to the transport. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.transport.start(this.deliver);
    this.workers.forEach((_, w) => this.drainOutbound(w));
  }

  /** Stops the workers (each closes its queue). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.running = false;
    clearInterval(this.refreshTimer);
    for (const w of this.workers) w.worker.postMessage({ type: "stop" } satisfies ToWorker);
  }

  /** Waits for the workers to end (after stop()); terminates any that does not within a second. */
  async closed(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.worker.threadId < 0) return resolve();
            const timer = setTimeout(() => void w.worker.terminate(), 1000);
            w.worker.once("exit", () => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
    );
  }

  // ---- packets ----------------------------------------------------------------------

  /** The transport's batch: each packet to the worker that owns its flow (a new flow: the worker its hash names). */
  private readonly deliver = (buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, n: number): void => {
    if (!this.running) return;
    if (buf !== this.deliverBuf) {
      this.deliverBuf = buf;
      this.deliverView = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    const { workers, owners } = this;
    const count = workers.length;
    const nowSeconds = Math.floor(Date.now() / 1000);
    for (let i = 0; i < n; i++) {
      const off = offsets[i];
      const len = lengths[i];
      const h = flowHash(buf, this.deliverView, off, len);
      const w = h === 0 ? 0 : owners.claim(h, (h >>> 0) % count, nowSeconds);
      if (!workers[w].inRing.push(buf, off, len, TAG_IN)) this.inboundRingFull++;
    }
    for (const w of workers) w.inRing.flush();
  };

  /** Sends what worker `w` judged, passes on what its queue read for other workers' flows, then waits for more. */
  private drainOutbound(w: number): void {
    if (!this.running) return;
    const ring = this.workers[w].outRing;
    const { offsets, lengths, tags, verdicts } = this;
    const seen = ring.wakeValue();
    for (let round = 0; round < 8; round++) {
      const n = ring.peek(offsets, lengths, tags, DRAIN_BATCH);
      if (n === 0) break;
      let send = 0;
      for (let i = 0; i < n; i++) {
        const tag = tags[i];
        verdicts[i] = tag === TAG_SEND ? 1 : 0;
        if (tag === TAG_SEND) send++;
        else if (tag >= TAG_FORWARD) {
          const owner = this.workers[tag - TAG_FORWARD];
          if (!owner.inRing.push(ring.data, offsets[i], lengths[i], TAG_OUT)) this.inboundRingFull++;
        }
      }
      if (send > 0) this.transport.send(ring.data, offsets, lengths, n, verdicts);
      ring.release(n);
      for (const other of this.workers) other.inRing.flush();
    }
    if (ring.waiting) {
      setImmediate(() => this.drainOutbound(w));
      return;
    }
    const wait = ring.waitForData(seen, 1000);
    if (wait) void wait.then(() => this.drainOutbound(w));
    else setImmediate(() => this.drainOutbound(w));
  }

  // ---- policy and questions ---------------------------------------------------------

  /**
   * Puts `policy` in force in every worker (validated by the caller); each then cuts the
   * flows of its own table the policy no longer allows. Resolves with the flows cut in all.
   */
  applyPolicy(policy: CompiledPeerPolicy): Promise<number> {
    const id = this.nextId++;
    return new Promise((done) => {
      this.revocations.set(id, { waiting: this.workers.length, cut: 0, done });
      for (const w of this.workers) w.worker.postMessage({ type: "policy", id, policy } satisfies ToWorker);
    });
  }

  /** A domain resource's new addresses, in every worker (Engine.setResourceAddresses). */
  setResourceAddresses(resource: string, cidrs: string[]): void {
    for (const w of this.workers) w.worker.postMessage({ type: "resources", resource, cidrs } satisfies ToWorker);
  }

  /** Every worker's tracked flows. */
  async flows(): Promise<FlowInfo[]> {
    return ((await this.ask("flows")) as FlowInfo[][]).flat();
  }

  /**
   * Each rule's hits and bytes since the agent started, summed over the workers (each
   * carries its own totals across reloads, as the single-queue agent does).
   */
  async ruleTotals(): Promise<RuleTotal[]> {
    const byKey = new Map<string, RuleTotal>();
    for (const rules of (await this.ask("rules")) as RuleTotal[][]) {
      for (const r of rules) {
        const key = `${r.direction}\u0000${r.id}`;
        const sum = byKey.get(key);
        if (sum) {
          sum.hits += r.hits;
          sum.bytes += r.bytes;
        } else byKey.set(key, { ...r });
      }
    }
    this.lastRuleTotals = [...byKey.values()];
    return this.lastRuleTotals;
  }

  /** Asks every worker the same question; resolves with their answers. */
  private ask(type: "flows" | "rules"): Promise<unknown[][]> {
    const id = this.nextId++;
    return new Promise((done) => {
      this.requests.set(id, { waiting: this.workers.length, answers: [], done });
      for (const w of this.workers) w.worker.postMessage({ type, id } satisfies ToWorker);
    });
  }

  private onMessage(m: FromWorker): void {
    if (m.type === "revoked") {
      const r = this.revocations.get(m.id);
      if (!r) return;
      r.cut += m.cut;
      if (--r.waiting === 0) {
        this.revocations.delete(m.id);
        r.done(r.cut);
      }
    } else if (m.type === "flows" || m.type === "rules") {
      const r = this.requests.get(m.id);
      if (!r) return;
      r.answers.push(m.type === "flows" ? m.flows : m.rules);
      if (--r.waiting === 0) {
        this.requests.delete(m.id);
        r.done(r.answers);
      }
    }
  }

  // ---- counters ---------------------------------------------------------------------

  /** Sums the workers' counters into counters, reasonCounts, segmentRunCounts and the flow totals. */
  refresh(): void {
    const c = this.counters;
    c.tunReadPackets = c.tunReadBytes = c.tunWrittenPackets = c.outboundDropped = c.inboundDropped = c.mssClamped = c.tunReadBatches = 0;
    this.reasonCounts.fill(0);
    this.segmentRunCounts.fill(0);
    this.tunTotals.mergedWrites = this.tunTotals.splitReads = 0;
    this.flowCount = this.flowCapacity = 0;
    for (const { stats: s } of this.workers) {
      c.tunReadPackets += s[STAT.tunReadPackets];
      c.tunReadBytes += s[STAT.tunReadBytes];
      c.tunWrittenPackets += s[STAT.tunWrittenPackets];
      c.outboundDropped += s[STAT.outboundDropped];
      c.inboundDropped += s[STAT.inboundDropped];
      c.mssClamped += s[STAT.mssClamped];
      c.tunReadBatches += s[STAT.tunReadBatches];
      this.tunTotals.mergedWrites += s[STAT.mergedWrites];
      this.tunTotals.splitReads += s[STAT.splitReads];
      this.segmentRunCounts[0] += s[STAT.segmentRuns];
      this.segmentRunCounts[1] += s[STAT.segmentRunPackets];
      this.flowCount += s[STAT.flows];
      this.flowCapacity += s[STAT.capacity];
      for (let r = 0; r < REASON_COUNT; r++) this.reasonCounts[r] += s[STAT_REASONS + r];
    }
  }

  /** Each worker's counters. */
  perQueue(): QueueStatus[] {
    return this.workers.map(({ stats: s }, queue) => ({
      queue,
      tunRead: s[STAT.tunReadPackets],
      tunWritten: s[STAT.tunWrittenPackets],
      droppedInbound: s[STAT.inboundDropped],
      droppedOutbound: s[STAT.outboundDropped],
      passedToOwner: s[STAT.forwarded],
      flows: s[STAT.flows],
      flowsCut: s[STAT.flowsCut],
    }));
  }
}
