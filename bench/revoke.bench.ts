// The revocation benchmark (P14 in slices): an engine tracking 1,000,000 established TCP
// connections gets a policy that no longer allows half of them. The agent runs
// beginPolicy (build the new rule table, swap) and then revokeSlice between batches;
// this measures the longest pause of each kind (the swap, one slice, one batch of 256
// packets judged between slices, which re-checks the flows the walk has not reached),
// in wall-clock time and in CPU time, and the whole walk, beside
// applyPolicy revoking the same table at once (the old behaviour: one pause for the
// whole table).

import { DIR_IN, REVOKE_SLICE_MS } from "../src/engine/engine.ts";
import { CHUNK, establishedEngine, policyWith, rule } from "./engine.bench.ts";
import type { BenchContext } from "./harness.ts";

const SERVER_PORT = 5432;
const BATCH = 256;

/**
 * CPU time this process has run, in ms (getrusage: all threads, but only this one works
 * here). On a shared machine a slice's wall-clock time also counts the time the thread
 * waited for a CPU, which delays packets just the same with no revocation going on; the
 * CPU time is the part the walk is responsible for.
 */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Rules that keep the clients of the even-numbered addresses (100.64.1.0, .2, .4...): half the flows. */
function halfPolicy(flows: number) {
  const addresses = Math.ceil(flows / 50_000); // engine.bench's clientAddress: 50,000 ports per address
  const sources: string[] = [];
  for (let a = 0; a < addresses; a += 2) sources.push(`100.64.${1 + ((a >> 8) & 255)}.${a & 255}/32`);
  return policyWith([rule(0, sources, [SERVER_PORT])]);
}

export default async function (ctx: BenchContext): Promise<void> {
  const flows = ctx.quick ? 100_000 : 1_000_000;

  // The old behaviour, for comparison: the whole table in one call.
  const whole = establishedEngine(flows).engine;
  let t0 = performance.now();
  const cutAtOnce = whole.applyPolicy(halfPolicy(flows));
  const atOnceMs = performance.now() - t0;

  const { engine, acks } = establishedEngine(flows);
  const verdicts = new Uint8Array(BATCH);
  globalThis.gc?.();
  t0 = performance.now();
  engine.beginPolicy(halfPolicy(flows));
  const beginMs = performance.now() - t0;
  let slices = 0;
  let worstSliceMs = 0;
  let worstSliceCpuMs = 0;
  let worstBatchMs = 0;
  let worstBatchCpuMs = 0;
  let batch = 0;
  const batchesPerChunk = Math.floor(CHUNK / BATCH);
  const walkStart = performance.now();
  for (;;) {
    const s = performance.now();
    const sRun = cpuMs();
    const done = engine.revokeSlice(REVOKE_SLICE_MS);
    const sliceMs = performance.now() - s;
    worstSliceCpuMs = Math.max(worstSliceCpuMs, cpuMs() - sRun);
    slices++;
    if (sliceMs > worstSliceMs) worstSliceMs = sliceMs;
    if (done) break;
    // A batch of traffic between slices, as the agent's loop has: established ACKs of
    // flows spread over the table (most of them not reached by the walk yet).
    const c = acks.chunks[batch % acks.chunks.length];
    const at = (Math.floor(batch / acks.chunks.length) % batchesPerChunk) * BATCH;
    const b = performance.now();
    const bRun = cpuMs();
    engine.judgeBatch(DIR_IN, acks.buf, c.offsets.subarray(at, at + BATCH), c.lengths.subarray(at, at + BATCH), BATCH, verdicts);
    const batchMs = performance.now() - b;
    worstBatchCpuMs = Math.max(worstBatchCpuMs, cpuMs() - bRun);
    if (batchMs > worstBatchMs) worstBatchMs = batchMs;
    batch++;
  }
  const walkMs = performance.now() - walkStart;
  // Flows are also cut by the batches (their flows re-checked ahead of the walk) and by
  // ACKs of flows that were cut: the total must equal what applyPolicy cut at once.
  const cut = engine.revokedByLastPolicy;
  if (cut !== cutAtOnce) throw new Error(`revoke bench: the walk cut ${cut} flows, applyPolicy at once ${cutAtOnce}`);
  const round = (ms: number) => Math.round(ms * 100) / 100;
  ctx.record({
    name: `revoke/walk-${flows}-flows`,
    opsPerSec: (flows / walkMs) * 1000,
    nsPerOp: (walkMs * 1e6) / flows,
    extra: {
      flows,
      cut,
      sliceBudgetMs: REVOKE_SLICE_MS,
      slices,
      worstSliceMs: round(worstSliceMs),
      worstSliceCpuMs: round(worstSliceCpuMs),
      worstBatchMs: round(worstBatchMs),
      worstBatchCpuMs: round(worstBatchCpuMs),
      swapMs: round(beginMs),
      walkMs: Math.round(walkMs),
      atOnceMs: Math.round(atOnceMs),
    },
  });
}
