// The bounds on a policy document (src/policy/input/limits.ts, docs/policy-format.md
// "Limits"): a hostile file is refused with one problem naming where, quickly, instead
// of running the process out of memory. Large inputs are generated here, at run time.

import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, ftruncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadPolicyFile } from "../../src/policy/input/load.ts";
import { MAX_ALIAS_EXPANSION, MAX_POLICY_BYTES, MAX_POLICY_DEPTH, MAX_POLICY_NODES } from "../../src/policy/input/limits.ts";
import { MESH, meshfilter } from "../replay/cli.ts";
import { problemsOf, refusalProblems } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), `meshfilter-limits-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** About 0.9 MB: one 100,000-name list, then 999 aliases of it (each peer's groups), as in the report. */
function aliasAmplification(): string {
  const names = Array.from({ length: 100_000 }, (_, i) => `g${i}`);
  const lines = [`groups: &all [${names.join(", ")}]`, "peers:"];
  for (let i = 0; i < 999; i++) lines.push(`  - { name: p${i}, ip: 100.64.${Math.floor(i / 250)}.${(i % 250) + 1}, groups: *all }`);
  return `${lines.join("\n")}\n`;
}

describe("alias amplification", () => {
  const text = aliasAmplification();
  const file = join(dir, "amplified.yaml");
  writeFileSync(file, text);

  it("is refused at the alias that passes the limit, with its JSON path and line", () => {
    expect(text.length).toBeLessThan(1_000_000);
    // The anchor's 100,000 values and nine aliases fit in 1,000,000; the tenth alias does not.
    const aliasesThatFit = Math.floor(MAX_ALIAS_EXPANSION / 100_001);
    expect(refusalProblems(() => loadPolicyFile(file), "loaded")).toEqual([
      {
        path: `$.peers[${aliasesThatFit}].groups`,
        message: `line ${aliasesThatFit + 3}: alias *all repeats 100,001 values, past the limit (aliases may repeat 1,000,000 values in all); see "Limits" in docs/policy-format.md`,
      },
    ]);
  });

  it("lint, compile and replay exit 2 with that one problem", () => {
    const runs = [
      ["lint", file],
      ["compile", "--policy", file, "--peer", "p0"],
      ["replay", MESH, "--policy", file, "--peer", "p0"],
    ];
    for (const args of runs) {
      const r = meshfilter(...args);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain(`${file}: $.peers[9].groups: line 12: alias *all repeats 100,001 values, past the limit`);
    }
  });

  it("a real use of aliases (a short list repeated in many places) loads", () => {
    const peers = Array.from({ length: 2000 }, (_, i) => `  - { name: p${i}, ip: 100.64.${Math.floor(i / 250)}.${(i % 250) + 1}, groups: *team }`);
    const account = loadPolicyFile(writeFile("anchors.yaml", `groups: &team [a, b, c]\npeers:\n${peers.join("\n")}\n`));
    expect(account.peers).toHaveLength(2000);
  });
});

function writeFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe("size, value count and depth", () => {
  it("a file over the size limit is refused before it is read", () => {
    const file = join(dir, "huge.json");
    const fd = openSync(file, "w");
    ftruncateSync(fd, MAX_POLICY_BYTES + 1); // sparse: nothing is written
    closeSync(fd);
    expect(refusalProblems(() => loadPolicyFile(file), "loaded")).toEqual([
      { path: "$", message: `the file is 134,217,729 bytes, over the limit of 134,217,728 bytes (128 MiB) for a policy; see "Limits" in docs/policy-format.md` },
    ]);
  });

  it("a JSON document with more values than the limit names where it passed it", () => {
    const text = `{"groups": [${"0,".repeat(MAX_POLICY_NODES)}0]}`;
    expect(problemsOf(text)).toEqual([
      { path: `$.groups[${MAX_POLICY_NODES - 2}]`, message: `the document has more than 10,000,000 values, the limit for a policy; see "Limits" in docs/policy-format.md` },
    ]);
  });

  it("nesting deeper than the limit, in JSON and in YAML", () => {
    const json = `{"groups": ${"[".repeat(MAX_POLICY_DEPTH + 5)}${"]".repeat(MAX_POLICY_DEPTH + 5)}}`;
    const [problem] = problemsOf(json);
    expect(problem.message).toMatch(/^nested more than 100 levels deep/);
    // The top-level object is level 0 and "groups" level 1: the list at level 100 is the one refused.
    expect(problem.path).toBe(`$.groups${"[0]".repeat(MAX_POLICY_DEPTH - 1)}`);
    const yaml = `groups: ${"[".repeat(MAX_POLICY_DEPTH + 5)}${"]".repeat(MAX_POLICY_DEPTH + 5)}\n`;
    expect(problemsOf(yaml)[0].message).toMatch(/^YAML syntax error at line 1, column \d+: nesting exceeded maxDepth \(100\)/);
  });
});
