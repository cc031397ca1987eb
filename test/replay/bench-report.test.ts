// The benchmark runner's outputs: chart series, the SVG, the console table and the
// regenerated section of RESULTS.md (the hand-written rest must survive).

import { describe, expect, it } from "vitest";
import { seriesAlong, throughputChart } from "../../bench/chart.ts";
import type { BenchFigure } from "../../bench/harness.ts";
import { consoleTable, medianFigures, RESULTS_END, RESULTS_START, resultsSection, updateResultsMarkdown, type BenchResults } from "../../bench/report.ts";

const figures: BenchFigure[] = [
  { name: "engine/established-tcp4-100000-flows", opsPerSec: 4e6, nsPerOp: 250, extra: { flows: 100_000 } },
  { name: "engine/established-tcp4-100-flows", opsPerSec: 8e6, nsPerOp: 125, heapBytesPerMillion: 0, decodeOnlyOpsPerSec: 16e6, extra: { flows: 100 } },
  { name: "replay/established-1000-flows", opsPerSec: 5e6, nsPerOp: 200, extra: { flows: 1000, packets: 300000 } },
  { name: "filter/lookup-10-rules", opsPerSec: 2e7, nsPerOp: 50 },
  { name: "filter/lookup-10000-rules", opsPerSec: 1.5e7, nsPerOp: 66 },
  { name: "filter/build-10000-rules", opsPerSec: 12, nsPerOp: 8e7 },
  { name: "packet/decode-tcp4", opsPerSec: 3e7, nsPerOp: 33 },
];

describe("bench chart", () => {
  it("groups figures into series by the number of flows or rules, sorted by size", () => {
    expect(seriesAlong(figures, "flows")).toEqual([
      { name: "engine/established-tcp4-N-flows", points: [{ x: 100, y: 8e6 }, { x: 100_000, y: 4e6 }] },
      { name: "replay/established-N-flows", points: [{ x: 1000, y: 5e6 }] },
    ]);
    // Table building is not packet throughput and stays off the chart.
    expect(seriesAlong(figures, "rules")).toEqual([{ name: "filter/lookup-N-rules", points: [{ x: 10, y: 2e7 }, { x: 10_000, y: 1.5e7 }] }]);
  });

  it("draws an SVG with both panels and a legend entry per series", () => {
    const svg = throughputChart(figures);
    expect(svg.startsWith("<svg xmlns=\"http://www.w3.org/2000/svg\"")).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg).toContain("Throughput against tracked flows");
    expect(svg).toContain("Throughput against rules");
    expect(svg.match(/<polyline /g)).toHaveLength(3);
    expect(svg).toContain("engine/established-tcp4-N-flows");
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
    expect(throughputChart([])).toContain("no figures");
  });
});

describe("bench report", () => {
  const results: BenchResults = {
    machine: { cpu: "Test CPU", cores: 2, memoryBytes: 8 * 2 ** 30, node: "v20.0.0", platform: "linux" },
    date: "2026-01-01T00:00:00.000Z",
    command: "node --expose-gc --import tsx bench/run.ts",
    quick: false,
    figures,
    failures: [],
  };

  it("prints a table with the decode-only rate and the cost ratio beside a figure", () => {
    const lines = consoleTable(figures).split("\n");
    expect(lines[0]).toMatch(/^benchmark\s+packets\/s\s+ns\/packet\s+heap B\/M packets\s+decode-only\/s\s+cost vs decode\s+extra$/);
    const row = lines.find((l) => l.startsWith("engine/established-tcp4-100-flows "))!;
    expect(row).toMatch(/8,000,000\s+125\.0\s+0\s+16,000,000\s+2\.00x\s+flows=100$/);
  });

  it("regenerates only the marked section of RESULTS.md, keeping the hand-written text", () => {
    const section = resultsSection(results, "throughput.svg");
    expect(section.startsWith(RESULTS_START) && section.endsWith(RESULTS_END)).toBe(true);
    expect(section).toContain("Test CPU, 2 cores, 8.0 GiB memory, Node v20.0.0");
    expect(section).toContain("![Throughput against flows and rules](throughput.svg)");
    expect(section).toContain("| filter/lookup-10000-rules | 15,000,000 | 66.0 |");

    const handWritten = `# Results\n\nWhat these mean, by hand.\n\n${RESULTS_START}\nold figures\n${RESULTS_END}\n\n## Notes kept\n`;
    const updated = updateResultsMarkdown(handWritten, section);
    expect(updated).toBe(`# Results\n\nWhat these mean, by hand.\n\n${section}\n\n## Notes kept\n`);
    expect(updateResultsMarkdown(updated, section)).toBe(updated);
    expect(updateResultsMarkdown("# Mine\n", section)).toBe(`# Mine\n\n${section}\n`);
    expect(updateResultsMarkdown(null, section)).toContain(section);
  });
});

describe("bench repeats", () => {
  const run = (ns: number, extra: number): BenchFigure[] => [
    { name: "decode/one", opsPerSec: 1e9 / ns, nsPerOp: ns, extra: { run: extra } },
    { name: "decode/two", opsPerSec: 1e9 / (2 * ns), nsPerOp: 2 * ns },
  ];

  it("keeps, for each figure, the run with the median time, with that run's extra fields", () => {
    const figures = medianFigures([run(15.3, 1), run(14.5, 2), run(14.7, 3)]);
    expect(figures.map((f) => [f.name, f.nsPerOp, f.extra?.run])).toEqual([
      ["decode/one", 14.7, 3],
      ["decode/two", 29.4, undefined],
    ]);
  });

  it("takes the lower middle of an even count, and figures only some runs have", () => {
    const figures = medianFigures([run(20, 1), [{ name: "only/second", opsPerSec: 1, nsPerOp: 1e9 }], run(10, 2)]);
    expect(figures.map((f) => [f.name, f.nsPerOp])).toEqual([
      ["decode/one", 10],
      ["decode/two", 20],
      ["only/second", 1e9],
    ]);
  });
});
