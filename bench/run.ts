// The benchmark runner (`npm run bench`): discovers bench/*.bench.ts, runs each one's
// default export with a BenchContext, prints one table, and, for a full run, writes
// bench/results.json, the chart bench/throughput.svg, and the generated section of
// bench/RESULTS.md. Run it with --expose-gc so heap growth figures are clean.
//
// Each area runs in a process of its own (this script again, with --area-child), so
// that its figures do not depend on which areas ran before it: in one process, V8's
// compiled code and the heap carry over from area to area, and the same engine
// benchmark measured 47 ns a packet alone and 68 ns after the agent, capture and
// compile benchmarks. --same-process runs them all in this process, as before.
//
// Processes also differ from each other: V8 compiles the same code differently from run
// to run, and the one-packet decode read 14.5 ns in one process and 15.3 in the next. A
// full run therefore runs each area three times (--repeat) and keeps, for each figure,
// the run with the median time.
//
//   node --expose-gc --require ./bench/preload-commonjs.cjs --import tsx bench/run.ts [--quick] [--only AREA[,AREA]] [--write] [--repeat N] [--same-process]

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { throughputChart } from "./chart.ts";
import type { BenchContext, BenchFigure } from "./harness.ts";
import {
  type BenchFailure,
  type BenchResults,
  consoleTable,
  describeMachine,
  medianFigures,
  resultsSection,
  updateResultsMarkdown,
} from "./report.ts";

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const RESULTS_JSON = path.join(BENCH_DIR, "results.json");
const CHART_SVG = path.join(BENCH_DIR, "throughput.svg");
const RESULTS_MD = path.join(BENCH_DIR, "RESULTS.md");

const HELP = `usage: npm run bench -- [--quick] [--only AREA[,AREA...]] [--write]

Runs every bench/<area>.bench.ts and prints packets/s, ns/packet, heap growth per
million packets and the decode-only rate beside each figure.

  --quick        CI smoke mode: small tables, short runs (about 3 s per area)
  --only AREAS   run only these areas (file names without .bench.ts), comma-separated
  --write        also write results.json, throughput.svg and RESULTS.md for a quick or
                 --only run (a full run always writes them)
  --repeat N     run each area N times, each in a fresh process, and keep for each
                 figure the run with the median time (default: 3 for a full run, else 1)
  --same-process run every area in this process instead of one process per area
                 (figures then depend on the areas that ran before)`;

/** "replay" for bench/replay.bench.ts. */
function areaOf(file: string): string {
  return path.basename(file).replace(/\.bench\.ts$/, "");
}

function discoverBenches(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".bench.ts"))
    .sort()
    .map((f) => path.join(dir, f));
}

/** A figure a benchmark got wrong would poison the JSON and the chart: refuse it loudly. */
function checkFigure(area: string, figure: BenchFigure): void {
  if (typeof figure.name !== "string" || figure.name === "") throw new Error(`${area}: a figure has no name`);
  if (!Number.isFinite(figure.opsPerSec) || !Number.isFinite(figure.nsPerOp)) {
    throw new Error(`${area}: figure ${figure.name} has a non-finite rate (${figure.opsPerSec} ops/s, ${figure.nsPerOp} ns/op)`);
  }
}

async function runBench(file: string, quick: boolean, figures: BenchFigure[]): Promise<void> {
  const area = areaOf(file);
  const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  if (typeof mod.default !== "function") throw new Error(`${path.basename(file)} has no default-exported function`);
  const ctx: BenchContext = {
    quick,
    record(figure) {
      checkFigure(area, figure);
      figures.push(figure);
      process.stderr.write(`  ${figure.name}: ${Math.round(figure.opsPerSec).toLocaleString("en-US")} /s\n`);
    },
  };
  await (mod.default as (ctx: BenchContext) => Promise<void> | void)(ctx);
}

function commandLine(argv: string[]): string {
  const script = path.relative(process.cwd(), fileURLToPath(import.meta.url));
  return ["node", ...process.execArgv, script, ...argv].join(" ");
}

/** What a child process hands back: the area's figures, or why it failed. */
interface AreaResult {
  figures: BenchFigure[];
  failure?: string;
}

/** Every area's process preloads the CommonJS dependencies first (preload-commonjs.cjs says why). */
const PRELOAD = path.join(BENCH_DIR, "preload-commonjs.cjs");

/**
 * Run one area in a fresh process (this script with --area-child) and collect its
 * figures. The child's progress lines go to this process's stderr as they come.
 */
function runBenchInChild(file: string, quick: boolean): AreaResult {
  const dir = mkdtempSync(path.join(tmpdir(), "meshfilter-bench-"));
  const out = path.join(dir, "figures.json");
  try {
    const args = ["--require", PRELOAD, ...process.execArgv, fileURLToPath(import.meta.url), "--area-child", file, "--area-out", out];
    if (quick) args.push("--quick");
    const child = spawnSync(process.execPath, args, { stdio: ["ignore", "inherit", "inherit"] });
    if (!existsSync(out)) {
      const why = child.error?.message ?? (child.signal !== null ? `killed by ${child.signal}` : `exit status ${child.status}`);
      return { figures: [], failure: `the area's process ended without results (${why})` };
    }
    return JSON.parse(readFileSync(out, "utf8")) as AreaResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** runBench, reporting a failure (its stack on stderr) and returning its message instead of throwing. */
async function runBenchReporting(file: string, quick: boolean, figures: BenchFigure[]): Promise<string | undefined> {
  try {
    await runBench(file, quick, figures);
    return undefined;
  } catch (err) {
    console.error(`bench: ${areaOf(file)} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return err instanceof Error ? err.message : String(err);
  }
}

/** --area-child: run one bench file here and write its figures (or its failure) as JSON to `out`. */
async function areaChild(file: string, out: string, quick: boolean): Promise<number> {
  const result: AreaResult = { figures: [] };
  result.failure = await runBenchReporting(file, quick, result.figures);
  writeFileSync(out, JSON.stringify(result));
  return result.failure === undefined ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string", multiple: true },
      write: { type: "boolean", default: false },
      "same-process": { type: "boolean", default: false },
      repeat: { type: "string" },
      "area-child": { type: "string" },
      "area-out": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values["area-child"] !== undefined) return areaChild(values["area-child"], values["area-out"] ?? "", values.quick);
  const only = (values.only ?? []).flatMap((v) => v.split(",")).filter((v) => v !== "");
  const all = discoverBenches(BENCH_DIR);
  const selected = only.length === 0 ? all : all.filter((f) => only.includes(areaOf(f)));
  const unknown = only.filter((a) => !all.some((f) => areaOf(f) === a));
  if (unknown.length > 0) {
    console.error(`bench: no bench file for ${unknown.join(", ")} (have: ${all.map(areaOf).join(", ")})`);
    return 2;
  }
  if (!globalThis.gc) console.error("bench: run node with --expose-gc for clean heap-growth figures");
  const defaultRepeat = !values.quick && only.length === 0 ? 3 : 1;
  const repeat = values.repeat === undefined ? defaultRepeat : Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 100) {
    console.error(`bench: --repeat wants a whole number from 1 to 100, got ${values.repeat}`);
    return 2;
  }

  const figures: BenchFigure[] = [];
  const failures: BenchFailure[] = [];
  for (const file of selected) {
    process.stderr.write(`bench: ${areaOf(file)}${values.quick ? " (quick)" : ""}\n`);
    if (!values["same-process"]) {
      const runs: BenchFigure[][] = [];
      for (let r = 0; r < repeat; r++) {
        if (repeat > 1) process.stderr.write(`bench: ${areaOf(file)}, run ${r + 1} of ${repeat}\n`);
        const result = runBenchInChild(file, values.quick);
        runs.push(result.figures);
        if (result.failure !== undefined) {
          failures.push({ bench: areaOf(file), error: result.failure });
          break;
        }
      }
      figures.push(...medianFigures(runs));
      continue;
    }
    const failure = await runBenchReporting(file, values.quick, figures);
    if (failure !== undefined) failures.push({ bench: areaOf(file), error: failure });
    globalThis.gc?.();
  }

  console.log(consoleTable(figures));
  const results: BenchResults = {
    machine: describeMachine(),
    date: new Date().toISOString(),
    command: commandLine(argv),
    quick: values.quick,
    figures,
    failures,
  };
  const fullRun = !values.quick && only.length === 0;
  if (fullRun || values.write) {
    writeFileSync(RESULTS_JSON, `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(CHART_SVG, throughputChart(figures));
    const existing = existsSync(RESULTS_MD) ? readFileSync(RESULTS_MD, "utf8") : null;
    writeFileSync(RESULTS_MD, updateResultsMarkdown(existing, resultsSection(results, path.basename(CHART_SVG))));
    console.error(`bench: wrote ${[RESULTS_JSON, CHART_SVG, RESULTS_MD].map((f) => path.relative(process.cwd(), f)).join(", ")}`);
  }
  if (failures.length > 0) console.error(`bench: ${failures.length} benchmark file(s) failed: ${failures.map((f) => f.bench).join(", ")}`);
  return failures.length > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
  },
);
