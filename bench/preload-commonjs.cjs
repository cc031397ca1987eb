// Preloads the package's CommonJS dependencies with Node's own require, before tsx
// installs its hooks: bench/run.ts starts every benchmark process with
// `--require bench/preload-commonjs.cjs` ahead of `--import tsx`.
//
// Why: under tsx, loading a CommonJS module detaches an ArrayBuffer in the main thread,
// and the first detach anywhere in a process makes V8 drop a global assumption (its
// ArrayBufferDetaching protector): from then on every typed-array and DataView access
// in optimised code checks whether its buffer was detached. That costs the conntrack
// fast path about 15% (the established-flow figure at 1,000 flows: 49 -> 57 ns a
// packet). The agent runs compiled JavaScript on plain Node, where loading these
// modules detaches nothing, so a benchmark run under tsx would measure a slower engine
// than the one users run, and a change that merely adds a CommonJS dependency would
// look like a slowdown. test/bench/preload-commonjs.test.ts checks that importing the
// library with this preload keeps the protector.
"use strict";

const { dependencies } = require("../package.json");

for (const name of Object.keys(dependencies)) {
  try {
    require(name);
  } catch {
    // An ESM-only package (or one without a CommonJS entry): imported later through
    // tsx's ESM hooks, which run on their own thread and detach nothing here.
  }
}
