// How the heap-growth tests prove "no allocation per packet" robustly, even when the
// machine is loaded and other test files run in parallel.
//
// Per-packet garbage lands in V8's young generation (new space): a million packets
// times even one heap number (16 bytes) is 16 MB there, which forces young-generation
// collections (scavenges) since new space starts at about 1 MB after a full gc. So
// the proof is: after a forced full gc, the loop causes NO young-generation collection
// and new space grows by less than `newSpaceBudget` bytes. Both are unaffected by what
// makes the total heap size noisy under load: code and feedback that the optimising
// compiler installs mid-loop go to old and code space, and an old-generation
// collection started by someone else is not young garbage. Best of `attempts`: a
// stray allocation (a compilation finishing, the test runner) can hit one attempt,
// per-packet garbage hits every one.

import v8 from "node:v8";
import { runInNewContext } from "node:vm";

v8.setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Young-generation collection types as GCProfiler names them. */
const YOUNG_GC = new Set(["Scavenge", "MinorMarkCompact", "MinorMarkSweep"]);

/** Blocks this thread (not the process) for a moment without allocating. */
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * V8 optimises on a background thread. When test files run in parallel on a small
 * machine, that thread can wait a long time for a core while this one spins in the
 * loop, which then runs as unoptimised code, and unoptimised code boxes every uint32
 * above 2^31 it computes (seen once in CI: 1.2 MB over a million packets, in every
 * attempt). Blocking for a moment before an attempt lets a pending compilation finish.
 */
function letCompilerFinish(): void {
  Atomics.wait(pause, 0, 0, 50);
}

function newSpaceUsed(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_used_size ?? 0;
}

export interface AllocationProbe {
  /** Young-generation collections during the best attempt (0 when nothing is allocated per packet). */
  youngCollections: number;
  /** New-space growth in bytes during the best attempt. */
  newSpaceGrowth: number;
}

/**
 * Run `loop` (already warmed up by the caller) under the probe, up to `attempts` times;
 * the best attempt counts. `prepare`, when given, runs before each attempt, outside the
 * measurement (fresh objects the loop needs).
 */
export function probeAllocation(loop: () => void, newSpaceBudget: number, prepare?: () => void, attempts = 4): AllocationProbe {
  let best: AllocationProbe = { youngCollections: Infinity, newSpaceGrowth: Infinity };
  for (let attempt = 0; attempt < attempts; attempt++) {
    prepare?.();
    letCompilerFinish();
    gc();
    const profiler = new v8.GCProfiler();
    profiler.start();
    const before = newSpaceUsed();
    loop();
    const after = newSpaceUsed();
    const stats = profiler.stop()?.statistics ?? [];
    const result = { youngCollections: stats.filter((s) => YOUNG_GC.has(s.gcType)).length, newSpaceGrowth: after - before };
    if (result.youngCollections < best.youngCollections || (result.youngCollections === best.youngCollections && result.newSpaceGrowth < best.newSpaceGrowth)) best = result;
    if (best.youngCollections === 0 && best.newSpaceGrowth < newSpaceBudget) break;
  }
  return best;
}
