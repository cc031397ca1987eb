// The layers' one-way flow (DESIGN.md): the hot path (packet, filter, conntrack, engine)
// and io import nothing from the policy layer; the compiled tables are the filter's own type.

import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/cli.ts";

function importsOf(folder: string): { file: string; spec: string }[] {
  const dir = path.join(ROOT, "src", folder);
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .flatMap((f) => [...readFileSync(path.join(dir, f), "utf8").matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)].map((m) => ({ file: `${folder}/${f}`, spec: path.relative(path.join(ROOT, "src"), path.resolve(dir, path.dirname(f), m[1])) })));
}

describe("layers", () => {
  it.each(["packet", "io", "filter", "conntrack", "engine"])("src/%s imports nothing from src/policy", (folder) => {
    expect(importsOf(folder).filter((i) => i.spec.startsWith("policy/"))).toEqual([]);
  });
});
