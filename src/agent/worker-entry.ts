// How the agent starts a worker thread on one of its modules, from the built package or
// from the sources. The built package runs the compiled .js file. From the sources
// (development, tests, the CLI under tsx) the module is TypeScript: Node 20 does not carry
// tsx's loader into a worker's entry module, so a short bootstrap registers it in the
// worker first.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

/**
 * The Worker entry for `module` (a URL of a .ts file beside the caller, or the .js file
 * it compiles to): { entry, eval } for `new Worker(entry, { eval })`. `lowPriority`
 * lowers the thread's priority before the sources are compiled (tsx's compile is CPU
 * work too, and the esbuild process it starts inherits the thread's nice value).
 */
export function workerEntry(module: URL, lowPriority = false): { entry: URL | string; eval: boolean } {
  if (!module.href.endsWith(".ts")) return { entry: module, eval: false };
  // tsx's ESM register(), located through its package.json (require.resolve would give the CommonJS build).
  const tsxPackage = createRequire(import.meta.url).resolve("tsx/package.json");
  const exports = (JSON.parse(readFileSync(tsxPackage, "utf8")) as { exports: Record<string, { import: { default: string } }> }).exports;
  const tsxApi = pathToFileURL(join(dirname(tsxPackage), exports["./esm/api"].import.default)).href;
  const first = lowPriority ? `import("node:os").then((os) => { try { os.setPriority(19); } catch {} })` : "Promise.resolve()";
  const code = `${first}.then(() => import(${JSON.stringify(tsxApi)}))` + `.then((tsx) => { tsx.register(); return import(${JSON.stringify(module.href)}); });`;
  return { entry: code, eval: true };
}

/** The URL of a sibling module `name` ("queue-worker") of the module at `from` (its import.meta.url), .ts from the sources and .js when built. */
export function siblingModule(from: string, name: string): URL {
  return new URL(`./${name}${from.endsWith(".ts") ? ".ts" : ".js"}`, from);
}
