// bench/preload-commonjs.cjs keeps V8's ArrayBufferDetaching protector intact in a
// benchmark process under tsx (the file says why that matters: ~15% on the conntrack
// fast path). V8 reports each protector it drops with --trace-protector-invalidation;
// tsx's own loader thread drops one of its own, so the counts are compared with a
// process that loads nothing.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const REPO = path.resolve(import.meta.dirname, "../..");
const PRELOAD = path.join(REPO, "bench/preload-commonjs.cjs");
const dir = mkdtempSync(path.join(tmpdir(), "meshfilter-preload-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** How many times a process that imports `modules` (under tsx, with or without the preload) drops ArrayBufferDetaching. */
function detachingInvalidations(modules: string[], preload: boolean): number {
  const script = path.join(dir, `import-${Math.random().toString(36).slice(2)}.mts`);
  writeFileSync(script, modules.map((m) => `await import(${JSON.stringify(pathToFileURL(m).href)});`).join("\n") + "\n");
  const args = ["--trace-protector-invalidation", ...(preload ? ["--require", PRELOAD] : []), "--import", "tsx", script];
  const run = spawnSync(process.execPath, args, { cwd: REPO, encoding: "utf8" });
  expect(run.status, run.stderr).toBe(0);
  return (run.stdout + run.stderr).split("\n").filter((line) => line.includes("protector cell ArrayBufferDetaching")).length;
}

describe("bench/preload-commonjs.cjs", () => {
  it("importing the whole library with the preload drops no protector beyond tsx's own", () => {
    const baseline = detachingInvalidations([], true);
    expect(detachingInvalidations([path.join(REPO, "src/index.ts")], true)).toBe(baseline);
  });

  it("without it, loading a CommonJS module under tsx does drop it (what the preload prevents)", () => {
    // No package.json above it: CommonJS. Some 100 KB, as a real dependency: a one-line
    // module is loaded without the detach (the loader's buffers need not grow).
    const commonjs = path.join(dir, "dependency.js");
    writeFileSync(commonjs, Array.from({ length: 5000 }, (_, i) => `exports.a${i} = ${i};`).join("\n") + "\n");
    expect(detachingInvalidations([commonjs], false)).toBeGreaterThan(detachingInvalidations([], false));
  });
});
