// The shared shape of every benchmark. Each area writes `bench/<area>.bench.ts` whose
// default export takes a BenchContext and records figures through it; bench/run.ts
// runs them all, prints the table, and writes bench/results.json.

export interface BenchFigure {
  /** "area/scenario", e.g. "decode/tcp-ipv4" or "engine/established-1000-flows". */
  name: string;
  /** Packets (or operations) per second. */
  opsPerSec: number;
  /** Nanoseconds per packet (or operation). */
  nsPerOp: number;
  /** Heap growth in bytes per million operations, measured around the timed loop; ~0 means no allocation. */
  heapBytesPerMillion?: number;
  /** The decode-only rate of the same packets, so the reader sees the cost ratio. */
  decodeOnlyOpsPerSec?: number;
  /** Anything else worth printing: flows, rules, bytes per flow, peak RSS... */
  extra?: Record<string, number | string>;
}

export interface BenchContext {
  /** Quick mode (CI smoke run): fewer iterations, smaller tables. */
  quick: boolean;
  record(figure: BenchFigure): void;
}

/**
 * Time `fn`, which performs `opsPerCall` operations per call, for about `seconds`
 * seconds after a warm-up, and report ops/s, ns/op and heap growth per million ops.
 */
export function measure(
  name: string,
  opsPerCall: number,
  fn: () => void,
  seconds = 1,
): Pick<BenchFigure, "name" | "opsPerSec" | "nsPerOp" | "heapBytesPerMillion"> {
  const warmupEnd = performance.now() + Math.min(300, seconds * 300);
  while (performance.now() < warmupEnd) fn();
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  let calls = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 16; i++) fn();
    calls += 16;
    now = performance.now();
  }
  const elapsedMs = now - start;
  const heapAfter = process.memoryUsage().heapUsed;
  const ops = calls * opsPerCall;
  return {
    name,
    opsPerSec: (ops / elapsedMs) * 1000,
    nsPerOp: (elapsedMs * 1e6) / ops,
    heapBytesPerMillion: ((heapAfter - heapBefore) / ops) * 1e6,
  };
}

/**
 * `measure` in `rounds` rounds of seconds / rounds each, keeping the fastest round (its
 * rate) and the largest heap growth of any round: on a shared machine a round that other
 * work interrupted only reads slower, never faster, while an allocation shows in every
 * round. The filter bench and the one-packet decode figure keep the best of several
 * rounds the same way.
 */
export function measureBest(
  name: string,
  opsPerCall: number,
  fn: () => void,
  seconds = 1,
  rounds = 4,
): Pick<BenchFigure, "name" | "opsPerSec" | "nsPerOp" | "heapBytesPerMillion"> {
  let best = measure(name, opsPerCall, fn, seconds / rounds);
  let heap = best.heapBytesPerMillion ?? 0;
  for (let r = 1; r < rounds; r++) {
    const figure = measure(name, opsPerCall, fn, seconds / rounds);
    heap = Math.max(heap, figure.heapBytesPerMillion ?? 0);
    if (figure.nsPerOp < best.nsPerOp) best = figure;
  }
  return { ...best, heapBytesPerMillion: heap };
}
