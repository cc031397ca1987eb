// One worker thread of a multi-queue agent (multi-queue.ts starts it): one queue of the
// TUN device (IFF_MULTI_QUEUE) and one Engine with its own connection table, over the
// policy the agent compiled. It judges every packet of the flows it owns (flow-owners.ts),
// both directions:
//
//   TUN queue -> read straight into the outbound ring -> owner check -> judgeBatch(OUT)
//     -> MSS clamp -> published to the agent's thread, which seals and sends
//   inbound ring (packets the agent's thread received for this worker's flows)
//     -> judgeBatch(IN) -> MSS clamp -> written to this worker's TUN queue (so the
//        kernel's TUN flow table sends the flow's outbound packets to this queue too)
//
// An outbound packet the kernel put on this queue for a flow another worker owns (the
// kernel forgets a flow's queue after 3 s without a write: tun.c TUN_FLOW_EXPIRE) is
// not judged here: it goes to its owner through the agent's thread.

import { parentPort, workerData } from "node:worker_threads";
import { Engine, DIR_IN, DIR_OUT, type EngineOptions } from "../engine/engine.ts";
import { openTun, type TunDevice } from "../io/tun.ts";
import type { CompiledPeerPolicy } from "../filter/compiled-policy.ts";
import { FlowOwners, flowHash, type FlowOwnersShape } from "./flow-owners.ts";
import { clampMss } from "./mss-clamp.ts";
import { PacketRing, type PacketRingShape } from "./packet-ring.ts";
import { RuleCounters } from "./rule-counters.ts";
import { STAT, STAT_REASONS, TAG_DROPPED, TAG_FORWARD, TAG_IN, TAG_OUT, TAG_SEND, type QueueWorkerData, type ToWorker } from "./queue-protocol.ts";

const data = workerData as QueueWorkerData;
const me = data.index;
const port = parentPort!;

let tun: TunDevice;
try {
  tun = openTun(data.tun, { multiQueue: true, packetRoom: data.mtu, offload: data.offload });
} catch (err) {
  const e = err as Error & { code?: string };
  port.postMessage({ type: "error", message: e.message.split("\n")[0], code: e.code ?? "" });
  process.exit(0);
}

const engine: Engine | null = data.policy ? new Engine(data.policy, data.engineOptions as EngineOptions) : null;
const owners = new FlowOwners(data.owners as FlowOwnersShape);
const out = new PacketRing(data.outRing as PacketRingShape);
const inbound = new PacketRing(data.inRing as PacketRingShape);
const outView = new DataView(out.data.buffer, out.data.byteOffset, out.data.byteLength);
const stats = new Float64Array(data.stats);
const mtu = data.mtu;
const batch = data.batchSize;
const readRoom = batch * mtu;

// Scratch, made once.
const readOffsets = new Uint32Array(batch);
const readLengths = new Uint32Array(batch);
const readTags = new Uint8Array(batch);
const judgeIndex = new Uint32Array(batch);
const judgeOffsets = new Uint32Array(batch);
const judgeLengths = new Uint32Array(batch);
const verdicts = new Uint8Array(batch).fill(1);
const inOffsets = new Uint32Array(batch);
const inLengths = new Uint32Array(batch);
const inTags = new Uint8Array(batch);

let running = true;
let readingPaused = false;
let nowSeconds = Math.floor(Date.now() / 1000);

// ---- outbound: the TUN queue -------------------------------------------------------

function onTunReadable(): void {
  if (!running || readingPaused) return;
  for (let round = 0; round < 8; round++) {
    if (out.freeRecords() < batch) return waitForRoom();
    const base = out.reserve(readRoom);
    if (base < 0) return waitForRoom();
    const n = tun.read(out.data.subarray(base, base + readRoom), readOffsets, readLengths, batch);
    if (n === 0) return;
    stats[STAT.tunReadBatches]++;
    stats[STAT.tunReadPackets] += n;
    const now = Date.now();
    nowSeconds = Math.floor(now / 1000);
    // The packets of flows this worker owns are judged here; the others go to their owner.
    let k = 0;
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const off = base + readOffsets[i];
      const len = readLengths[i];
      bytes += len;
      const h = flowHash(out.data, outView, off, len);
      const owner = h === 0 ? me : owners.claim(h, me, nowSeconds);
      if (owner !== me) {
        readTags[i] = TAG_FORWARD + owner;
        stats[STAT.forwarded]++;
        continue;
      }
      judgeIndex[k] = i;
      judgeOffsets[k] = off;
      judgeLengths[k] = len;
      k++;
    }
    stats[STAT.tunReadBytes] += bytes;
    if (engine !== null && k > 0) {
      engine.setTime(now);
      engine.judgeBatch(DIR_OUT, out.data, judgeOffsets, judgeLengths, k, verdicts);
    }
    for (let j = 0; j < k; j++) {
      const i = judgeIndex[j];
      if (engine !== null && verdicts[j] === 0) {
        readTags[i] = TAG_DROPPED;
        stats[STAT.outboundDropped]++;
        continue;
      }
      readTags[i] = TAG_SEND;
      if (clampMss(out.data, judgeOffsets[j], judgeLengths[j], mtu)) stats[STAT.mssClamped]++;
    }
    out.publish(base, readOffsets, readLengths, n, readTags);
    out.wake();
  }
  if (running) setImmediate(onTunReadable);
}

/**
 * The agent's thread has not taken the last batches yet: stop reading (the kernel queues
 * meanwhile; the device's readiness would otherwise call back at once, again and again)
 * and look again in a millisecond.
 */
function waitForRoom(): void {
  stats[STAT.outRingFull]++;
  if (readingPaused) return;
  readingPaused = true;
  tun.pause();
  setTimeout(resumeWhenRoom, 1);
}

function resumeWhenRoom(): void {
  if (!running) return;
  if (out.freeRecords() < batch || out.reserve(readRoom) < 0) {
    setTimeout(resumeWhenRoom, 1);
    return;
  }
  readingPaused = false;
  tun.onReadable(onTunReadable);
  onTunReadable();
}

// ---- inbound: packets the agent's thread hands this worker -------------------------

function drainInbound(): void {
  if (!running) return;
  const seen = inbound.wakeValue();
  for (let round = 0; round < 8; round++) {
    const n = inbound.peek(inOffsets, inLengths, inTags, batch);
    if (n === 0) break;
    judgeRing(TAG_IN, n);
    judgeRing(TAG_OUT, n);
    inbound.release(n);
  }
  if (inbound.waiting) {
    setImmediate(drainInbound);
    return;
  }
  const wait = inbound.waitForData(seen, 1000);
  if (wait) void wait.then(drainInbound);
  else setImmediate(drainInbound);
}

/** Judges the peeked packets tagged `tag`: inbound ones are written to the TUN queue, outbound ones (read by another queue) sent. */
function judgeRing(tag: number, n: number): void {
  const data = inbound.data;
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (inTags[i] !== tag) continue;
    judgeOffsets[k] = inOffsets[i];
    judgeLengths[k] = inLengths[i];
    k++;
  }
  if (k === 0) return;
  const dir = tag === TAG_IN ? DIR_IN : DIR_OUT;
  if (engine !== null) {
    engine.setTime(Date.now());
    engine.judgeBatch(dir, data, judgeOffsets, judgeLengths, k, verdicts);
  }
  for (let j = 0; j < k; j++) {
    if (engine !== null && verdicts[j] === 0) {
      stats[dir === DIR_IN ? STAT.inboundDropped : STAT.outboundDropped]++;
      continue;
    }
    if (clampMss(data, judgeOffsets[j], judgeLengths[j], mtu)) stats[STAT.mssClamped]++;
    if (dir === DIR_OUT && !out.push(data, judgeOffsets[j], judgeLengths[j], TAG_SEND)) stats[STAT.outRingFull]++;
  }
  if (dir === DIR_IN) stats[STAT.tunWrittenPackets] += tun.write(data, judgeOffsets, judgeLengths, k, engine !== null ? verdicts : undefined);
  else out.flush();
}

// ---- the agent's requests ------------------------------------------------------------

let revocation: NodeJS.Immediate | null = null;
let policyId = 0;
/** This worker's per-rule totals across reloads (the agent thread sums the workers'). */
const ruleCounters = new RuleCounters();

function revokeSlice(): void {
  revocation = null;
  if (engine === null || !running) return;
  if (!engine.revokeSlice()) {
    revocation = setImmediate(revokeSlice);
    return;
  }
  reportRevoked();
}

function reportRevoked(): void {
  const cut = engine!.revokedByLastPolicy;
  stats[STAT.flowsCut] += cut;
  port.postMessage({ type: "revoked", id: policyId, cut });
}

port.on("message", (m: ToWorker) => {
  if (m.type === "policy") {
    if (engine === null) return;
    // A walk still under way for the policy before: what it cut so far counts; beginPolicy restarts it.
    if (engine.revocationPending) reportRevoked();
    policyId = m.id;
    const previous = engine.rules;
    engine.beginPolicy(m.policy as CompiledPeerPolicy);
    ruleCounters.carry(previous);
    if (revocation === null) revocation = setImmediate(revokeSlice);
  } else if (m.type === "resources") {
    if (engine === null) return;
    engine.setResourceAddresses(m.resource, m.cidrs);
    if (revocation === null) revocation = setImmediate(revokeSlice);
  } else if (m.type === "flows") {
    port.postMessage({ type: "flows", id: m.id, flows: engine ? [...engine.flows()] : [] });
  } else if (m.type === "rules") {
    port.postMessage({ type: "rules", id: m.id, rules: engine ? ruleCounters.totals(engine.rules) : [] });
  } else if (m.type === "stop") {
    running = false;
    if (revocation !== null) clearImmediate(revocation);
    clearInterval(statsTimer);
    tun.close();
    port.close();
    // End the wait for inbound packets now (it would keep the thread alive until it times out).
    inbound.wake();
  }
});

// ---- counters ---------------------------------------------------------------------------

/** The engine's and the device's totals, copied where the agent's thread reads them (a few times a second, off the packet path). */
function publishStats(): void {
  stats[STAT.mergedWrites] = tun.mergedWrites;
  stats[STAT.splitReads] = tun.splitReads;
  if (engine === null) return;
  const table = engine.conntrack.table;
  stats[STAT.flows] = table.count;
  stats[STAT.capacity] = table.capacity;
  stats[STAT.segmentRuns] = engine.segmentRunCounts[0];
  stats[STAT.segmentRunPackets] = engine.segmentRunCounts[1];
  stats.set(engine.reasonCounts, STAT_REASONS);
}
const statsTimer = setInterval(publishStats, 100);

tun.onReadable(onTunReadable);
drainInbound();
port.postMessage({ type: "ready", name: tun.name });
