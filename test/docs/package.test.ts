// The package as a consumer gets it: its public types load without the schema library
// (zod's types made a consumer's typecheck take seconds), and what `npm pack` would
// ship holds the built code, the LICENSE and the bin.

import { spawnSync } from "node:child_process";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { ROOT } from "../replay/cli.ts";

describe("the published package", () => {
  it("its public .d.ts reach no zod type", () => {
    const program = ts.createProgram([path.join(ROOT, "dist/index.d.ts")], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      noEmit: true,
      skipLibCheck: true,
    });
    const files = program.getSourceFiles().map((f) => f.fileName);
    expect(files.some((f) => f.includes("/dist/engine/engine.d.ts"))).toBe(true);
    expect(files.filter((f) => f.includes("/node_modules/zod/"))).toEqual([]);
    const errors = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    expect(errors).toEqual([]);
  }, 60_000);

  it("npm pack ships dist/, the bin, the LICENSE and the install scripts", () => {
    const r = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, encoding: "utf8" });
    expect(r.status).toBe(0);
    const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
    for (const f of ["LICENSE", "README.md", "bin/meshfilter.js", "dist/index.js", "dist/index.d.ts", "dist/cli/main.js", "scripts/install-addon.mjs", "scripts/build-dist-if-stale.mjs", "native/binding.gyp"]) {
      expect(files, f).toContain(f);
    }
  }, 60_000);
});
