// Reading files and text: syntax errors with line and column, empty files, wrong top
// levels, unreadable files, and telling the two formats apart.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { detectFormat } from "../../src/policy/input/detect-format.ts";
import { loadPolicyFile, parsePolicyText } from "../../src/policy/input/load.ts";
import { PolicyError } from "../../src/policy/model/model.ts";
import { problemsOf } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), `meshfilter-policy-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("syntax and top level", () => {
  it("names the line and column of a YAML syntax error", () => {
    const [p] = problemsOf("peers:\n  - name: a\n    ip: [100.64.0.1\ngroups: []\n");
    expect(p.path).toBe("$");
    expect(p.message).toMatch(/^YAML syntax error at line \d+, column \d+: /);
  });

  it("reports a duplicate YAML key with its line", () => {
    expect(problemsOf("groups: [a]\ngroups: [b]\n")).toEqual([{ path: "$", message: expect.stringMatching(/^YAML syntax error at line 2, column 1: duplicated mapping key/) }]);
  });

  it("reports a JSON syntax error with its line and column", () => {
    const [p] = problemsOf('{\n  "peers": [\n    { "name": "a", }\n  ]\n}');
    expect(p.message).toMatch(/^JSON syntax error at line 3, column \d+: /);
  });

  it("refuses an empty file", () => {
    expect(problemsOf("  \n\n")).toEqual([{ path: "$", message: "the file is empty; expected a policy object" }]);
  });

  it("refuses a top level that is not an object", () => {
    expect(problemsOf("- peers\n- groups\n")[0].message).toContain("the top level must be a policy object (a mapping of keys), but it is a list");
    expect(problemsOf("just words")[0].message).toContain("but it is a string");
    expect(problemsOf("null")[0].message).toContain("but it is nothing (null)");
  });

  it("refuses an unknown format marker", () => {
    expect(problemsOf({ format: "meshfilter/v9" })).toEqual([{ path: "$.format", message: expect.stringContaining('unknown format "meshfilter/v9"') }]);
  });

  it("reports an unreadable file as a PolicyError naming the file", () => {
    const missing = join(dir, "missing.yaml");
    expect(() => loadPolicyFile(missing)).toThrowError(PolicyError);
    try {
      loadPolicyFile(missing);
    } catch (err) {
      expect((err as PolicyError).source).toBe(missing);
      expect((err as PolicyError).problems[0].message).toBe("cannot read the file: no such file or directory (ENOENT)");
      expect((err as PolicyError).message).toBe(`cannot read policy file ${missing}: no such file or directory (ENOENT)`);
    }
  });

  it("loads a file and names it in errors", () => {
    const good = join(dir, "good.yaml");
    writeFileSync(good, "peers: [{ name: a, ip: 100.64.0.1 }]\n");
    expect(loadPolicyFile(good).peers[0].ip).toBe("100.64.0.1");
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "peers: [{ name: a, ip: 100.64.0.999 }]\n");
    expect(() => loadPolicyFile(bad)).toThrowError(`${bad}: line 1:20 $.peers[0].ip: "100.64.0.999" is not a valid IPv4 address`);
  });

  it("accepts an empty account (a mapping with nothing in it)", () => {
    expect(parsePolicyText("{}", "empty.json").peers).toEqual([]);
  });
});

describe("format detection", () => {
  it("reads a document whose collections carry ids as a NetBird export", () => {
    expect(detectFormat({ peers: [{ id: "x", name: "a", ip: "100.64.0.1" }] })).toBe("netbird");
    expect(detectFormat({ groups: ["a", { id: "g1", name: "b" }] })).toBe("netbird");
  });

  it("reads a document without ids as meshfilter's format", () => {
    expect(detectFormat({ peers: [{ name: "a", ip: "100.64.0.1" }], groups: ["g"] })).toBe("meshfilter");
    expect(detectFormat({})).toBe("meshfilter");
  });

  it("lets the format marker decide", () => {
    expect(detectFormat({ format: "netbird", peers: [{ name: "a" }] })).toBe("netbird");
    expect(detectFormat({ format: "meshfilter/v1", peers: [{ id: "a" }] })).toBe("meshfilter");
    expect(detectFormat({ format: 1 })).toBe("unknown");
  });

  it("reports meshfilter-format mistakes (strict) but ignores unknown NetBird fields", () => {
    expect(problemsOf({ peers: [{ name: "a", ip: "100.64.0.1", hostname: "a" }] })).toEqual([{ path: "$.peers[0].hostname", message: 'unknown field "hostname"' }]);
    expect(parsePolicyText(JSON.stringify({ peers: [{ id: "a", name: "a", ip: "100.64.0.1", hostname: "a" }] }), "x").peers).toHaveLength(1);
  });
});

it("explains a guessed NetBird reading when a meshfilter file carries a stray id", () => {
  const problems = problemsOf({ peers: [{ id: "x", name: "a", ip: "100.64.0.1" }], policies: [{ name: "p", sources: ["g"], destinations: ["g"] }] });
  expect(problems).toContainEqual({ path: "$.policies[0].id", message: "required field is missing (expected a string)" });
  expect(problems).toContainEqual({ path: "$.peers[0].id", message: expect.stringContaining('this "id" field made the file read as a NetBird export') });
});

it("reads a file that starts with a byte-order mark", () => {
  expect(parsePolicyText('\uFEFF{"peers": [{"name": "a", "ip": "100.64.0.1"}]}', "bom.json").peers).toHaveLength(1);
});

it("reports an alias to an unknown anchor as a YAML error, and an alias bomb at the alias past the limit", () => {
  expect(problemsOf("*nowhere")[0].message).toMatch(/^YAML syntax error at line 1, column \d+: unidentified alias "nowhere"/);
  const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]", ..."bcdef".split("").map((k, i) => `${k}: &${k} [${Array(10).fill(`*${"abcdef"[i]}`).join(", ")}]`)].join("\n");
  expect(problemsOf(bomb)).toEqual([{ path: "$.f[7]", message: expect.stringMatching(/^line 6: alias \*e repeats 111,111 values, past the limit \(aliases may repeat 1,000,000 values in all\)/) }]);
});
