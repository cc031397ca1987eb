// docs/replay.md documents the verdict stream's closed sets: every reason and state
// name the engine can write must be explained there.

import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { STATE_NAMES } from "../../src/conntrack/states.ts";
import { REASON_NAMES } from "../../src/engine/reasons.ts";
import { ROOT } from "./cli.ts";

const docs = readFileSync(path.join(ROOT, "docs/replay.md"), "utf8");

it("docs/replay.md has a row for every reason in the engine's closed set", () => {
  for (const reason of REASON_NAMES) expect(docs, reason).toMatch(new RegExp(`^\\| \`${reason}\` \\| (accept|drop) \\|`, "m"));
});

it("docs/replay.md names every connection state", () => {
  for (const state of STATE_NAMES) expect(docs, state).toContain(`\`${state}\``);
});
