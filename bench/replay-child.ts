// Run by bench/replay.bench.ts in a fresh process, so that the peak RSS it reports is
// the replay's own and not the benchmark runner's:
//   node --import tsx bench/replay-child.ts FILE
// replays FILE (a capture from synthetic-capture.ts) for the synthetic server peer and
// prints {packets, ms, maxRssBytes, heapUsedBytes} as one JSON line.

import { Engine } from "../src/engine/engine.ts";
import { openCapture } from "../src/io/capture.ts";
import { replayCapture } from "../src/replay/replay.ts";
import { serverPolicy } from "./synthetic-capture.ts";

const file = process.argv[2];
if (!file) throw new Error("usage: replay-child.ts CAPTURE");
const policy = serverPolicy();
const filter = { policy, engine: new Engine(policy) };
const start = performance.now();
const reader = openCapture(file);
const { counters, error } = replayCapture(reader, filter);
reader.close();
const ms = performance.now() - start;
if (error) throw error;
// maxRSS is in kilobytes (getrusage's ru_maxrss).
const maxRssBytes = process.resourceUsage().maxRSS * 1024;
console.log(JSON.stringify({ packets: counters.read, ms, maxRssBytes, heapUsedBytes: process.memoryUsage().heapUsed }));
