// The replay benchmark: file read + decode + judge, the whole `meshfilter replay` loop,
// on the bundled capture and on large generated captures of established traffic, with
// the decode-only rate of the same packets beside each figure (read + decode, no
// judging) so the reader sees what the filter itself costs.
//
// In full mode it also replays a ~100 MB and a ~1 GiB capture, each in a child process
// (a fresh process, so its peak RSS is the replay's own): the same peak for ten times
// the data shows that memory stays bounded whatever the size.
// Generated captures live in a temp directory that is removed afterwards.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Engine } from "../src/engine/engine.ts";
import { openCapture } from "../src/io/capture.ts";
import { decodePacket } from "../src/packet/decode.ts";
import { PacketRecord } from "../src/packet/record.ts";
import type { CompiledPeerPolicy } from "../src/filter/compiled-policy.ts";
import { compilePeer } from "../src/policy/compile/compile.ts";
import { loadPolicyFile } from "../src/policy/input/load.ts";
import { replayCapture } from "../src/replay/replay.ts";
import type { BenchContext, BenchFigure } from "./harness.ts";
import { serverPolicy, writeSyntheticCapture } from "./synthetic-capture.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BUNDLED_CAPTURE = path.join(ROOT, "examples/mesh.pcap");
const BUNDLED_POLICY = path.join(ROOT, "examples/restrictive.yaml");
const ONE_GIB = 2 ** 30;
/** Bytes per record of the generated captures: 16 (pcap record header) + 100 (IP packet). */
const RECORD_BYTES = 116;

interface PassResult {
  packets: number;
  ms: number;
  heapGrowth: number;
}


/**
 * One timed pass of the replay loop over `file` with a fresh engine (built outside the
 * timing) whose table holds `flows` (default capacity when omitted). `allAccepted`: the
 * capture is all allowed traffic, and a figure that counted drops (a table too small,
 * say, refusing flows) would measure another path: refuse it.
 */
function replayPass(file: string, policy: CompiledPeerPolicy, flows = 0, allAccepted = false): PassResult {
  let capacity = 65536;
  while (capacity < flows) capacity *= 2;
  const filter = { policy, engine: new Engine(policy, { conntrack: { capacity } }) };
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const start = performance.now();
  const reader = openCapture(file);
  const { counters, error } = replayCapture(reader, filter);
  reader.close();
  const ms = performance.now() - start;
  if (error) throw error;
  if (allAccepted && counters.accepted !== counters.read) {
    throw new Error(`replay bench: ${counters.read - counters.accepted} of ${counters.read} packets of ${file} were not accepted`);
  }
  return { packets: counters.read, ms, heapGrowth: process.memoryUsage().heapUsed - heapBefore };
}

/** One timed pass of read + decode only. */
function decodePass(file: string): PassResult {
  const rec = new PacketRecord();
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const start = performance.now();
  const reader = openCapture(file);
  let packets = 0;
  while (reader.next()) {
    decodePacket(reader.data, reader.ipOffset, reader.ipLength, rec);
    packets++;
  }
  reader.close();
  return { packets, ms: performance.now() - start, heapGrowth: process.memoryUsage().heapUsed - heapBefore };
}

/** Run `pass` once to warm up, then `passes` times; totals over the timed passes. */
function repeat(passes: number, pass: () => PassResult): PassResult {
  pass();
  const total: PassResult = { packets: 0, ms: 0, heapGrowth: 0 };
  for (let i = 0; i < passes; i++) {
    const r = pass();
    total.packets += r.packets;
    total.ms += r.ms;
    total.heapGrowth += Math.max(0, r.heapGrowth);
  }
  return total;
}

function figure(name: string, replay: PassResult, decode: PassResult, extra: BenchFigure["extra"]): BenchFigure {
  return {
    name,
    opsPerSec: (replay.packets / replay.ms) * 1000,
    nsPerOp: (replay.ms * 1e6) / replay.packets,
    // NaN: not measured (the child process reports its peak RSS instead).
    heapBytesPerMillion: Number.isNaN(replay.heapGrowth) ? undefined : (replay.heapGrowth / replay.packets) * 1e6,
    decodeOnlyOpsPerSec: (decode.packets / decode.ms) * 1000,
    extra,
  };
}

/** Replays `file` in a fresh node process and returns its own figures (see replay-child.ts). */
function replayInChild(file: string): { packets: number; ms: number; maxRssBytes: number; heapUsedBytes: number } {
  const child = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "bench/replay-child.ts"), file], {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 1 << 20,
  });
  if (child.status !== 0) throw new Error(`child replay failed (${child.status}): ${child.stderr}`);
  return JSON.parse(child.stdout);
}

/** Generate a capture of about `bytes` (10,000 flows), replay it in a child process, delete it. */
function childFigure(name: string, file: string, bytes: number): BenchFigure {
  const written = writeSyntheticCapture(file, { flows: 10_000, packets: Math.ceil(bytes / RECORD_BYTES) });
  const child = replayInChild(file);
  const decode = decodePass(file);
  rmSync(file);
  return figure(name, { packets: child.packets, ms: child.ms, heapGrowth: Number.NaN }, decode, {
    packets: written.packets,
    fileMB: Math.round(written.bytes / 1e6),
    peakRssMB: Math.round(child.maxRssBytes / 1e6),
    heapUsedMB: Math.round(child.heapUsedBytes / 1e6),
  });
}

export default async function (ctx: BenchContext): Promise<void> {
  const passes = ctx.quick ? 1 : 2;
  if (existsSync(BUNDLED_CAPTURE) && existsSync(BUNDLED_POLICY)) {
    const policy = compilePeer(loadPolicyFile(BUNDLED_POLICY), "db-1");
    const bundledPasses = ctx.quick ? 20 : 100;
    const replay = repeat(bundledPasses, () => replayPass(BUNDLED_CAPTURE, policy));
    const decode = repeat(bundledPasses, () => decodePass(BUNDLED_CAPTURE));
    // Each pass opens the file (and its 1 MiB read buffer) for a few hundred packets: this
    // figure is dominated by that, the generated captures below show the loop itself.
    ctx.record(figure("replay/bundled-mesh-restrictive", replay, decode, { packets: replay.packets / bundledPasses }));
  }

  const dir = mkdtempSync(path.join(os.tmpdir(), "meshfilter-replay-bench-"));
  try {
    const policy = serverPolicy();
    const sizes = ctx.quick ? [1_000] : [100, 10_000, 100_000];
    const packets = ctx.quick ? 300_000 : 2_000_000;
    for (const flows of sizes) {
      const file = path.join(dir, `established-${flows}.pcap`);
      writeSyntheticCapture(file, { flows, packets });
      const replay = repeat(passes, () => replayPass(file, policy, flows, true));
      const decode = repeat(passes, () => decodePass(file));
      ctx.record(figure(`replay/established-${flows}-flows`, replay, decode, { flows, packets }));
      rmSync(file);
    }

    if (!ctx.quick) {
      // Bounded memory: the same peak RSS for a capture ten times larger.
      ctx.record(childFigure("replay/100mb-capture-child", path.join(dir, "hundred-mb.pcap"), 100e6));
      ctx.record(childFigure("replay/1gib-capture-child", path.join(dir, "one-gib.pcap"), ONE_GIB));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
