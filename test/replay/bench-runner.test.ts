// The benchmark runner runs each area in a process of its own (bench/run.ts): the
// figures must come back from the child to the parent's table, and a child that fails
// must say so rather than vanish.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const RUN = ["--expose-gc", "--import", "tsx", "bench/run.ts"];

describe("bench runner", () => {
  it("brings an area's figures back from its own process into the table", () => {
    const r = spawnSync(process.execPath, [...RUN, "--quick", "--only", "compile"], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^compile\/1000-peers-200-rules\s+\d/m);
    expect(r.stderr).toContain("bench: compile (quick)");
  });

  it("runs an area as many times as --repeat says, one process each", () => {
    const r = spawnSync(process.execPath, [...RUN, "--quick", "--only", "compile", "--repeat", "2"], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("bench: compile, run 1 of 2");
    expect(r.stderr).toContain("bench: compile, run 2 of 2");
    expect(r.stdout.match(/^compile\/1000-peers-200-rules\s/gm)).toHaveLength(1);
  });

  it("refuses a --repeat that is not a whole number from 1 to 100", () => {
    for (const bad of ["0", "1.5", "x"]) {
      const r = spawnSync(process.execPath, [...RUN, "--quick", "--only", "compile", "--repeat", bad], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
      expect(r.status, bad).toBe(2);
      expect(r.stderr).toContain(`--repeat wants a whole number from 1 to 100, got ${bad}`);
    }
  });

  it("reports an area whose process fails, with the reason", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "bench-runner-"));
    try {
      const out = path.join(dir, "figures.json");
      const missing = path.join(dir, "nothing.bench.ts");
      const r = spawnSync(process.execPath, [...RUN, "--area-child", missing, "--area-out", out], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
      expect(r.status).toBe(1);
      const result = JSON.parse(readFileSync(out, "utf8")) as { figures: unknown[]; failure?: string };
      expect(result.figures).toEqual([]);
      expect(result.failure).toContain("nothing.bench.ts");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
