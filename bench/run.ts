// The benchmark runner (`npm run bench`): discovers bench/*.bench.ts, runs each one's
// default export with a BenchContext, prints one table, and, for a full run, writes
// bench/results.json, the chart bench/throughput.svg, and the generated section of
// bench/RESULTS.md. Run it with --expose-gc so heap growth figures are clean.
//
//   node --expose-gc --import tsx bench/run.ts [--quick] [--only AREA[,AREA]] [--write]

import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
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
                 --only run (a full run always writes them)`;

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

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string", multiple: true },
      write: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const only = (values.only ?? []).flatMap((v) => v.split(",")).filter((v) => v !== "");
  const all = discoverBenches(BENCH_DIR);
  const selected = only.length === 0 ? all : all.filter((f) => only.includes(areaOf(f)));
  const unknown = only.filter((a) => !all.some((f) => areaOf(f) === a));
  if (unknown.length > 0) {
    console.error(`bench: no bench file for ${unknown.join(", ")} (have: ${all.map(areaOf).join(", ")})`);
    return 2;
  }
  if (!globalThis.gc) console.error("bench: run node with --expose-gc for clean heap-growth figures");

  const figures: BenchFigure[] = [];
  const failures: BenchFailure[] = [];
  for (const file of selected) {
    process.stderr.write(`bench: ${areaOf(file)}${values.quick ? " (quick)" : ""}\n`);
    try {
      await runBench(file, values.quick, figures);
    } catch (err) {
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      console.error(`bench: ${areaOf(file)} failed: ${error}`);
      failures.push({ bench: areaOf(file), error: err instanceof Error ? err.message : String(err) });
    }
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
