// Each class of bad input through the real bin: one line on stderr naming what is wrong
// and where (flag, file and system reason, line:column beside the JSON path), nothing on
// stdout, and the exit code of the table in src/cli/exit-codes.ts.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { MESH, meshfilter, RESTRICTIVE_POLICY } from "../replay/cli.ts";

const dir = mkdtempSync(path.join(tmpdir(), "meshfilter-cli-errors-"));
function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** Exactly one line on stderr, equal to `line`, nothing on stdout, exit `code`. */
function expectOneLine(r: { status: number | null; stdout: string; stderr: string }, line: string, code: number): void {
  expect(r.stderr).toBe(`${line}\n`);
  expect(r.stdout).toBe("");
  expect(r.status).toBe(code);
}

describe("a --peer the policy does not have", () => {
  it("names the flag, the policy file and the closest peer, for every command that takes --peer", () => {
    const line = (cmd: string) => `meshfilter ${cmd}: --peer "db1": ${RESTRICTIVE_POLICY} has no peer with that id, name, IP, FQDN or DNS label (did you mean db-1?)`;
    expectOneLine(meshfilter("compile", "--policy", RESTRICTIVE_POLICY, "--peer", "db1"), line("compile"), 2);
    expectOneLine(meshfilter("explain", "--policy", RESTRICTIVE_POLICY, "--peer", "db1", "tcp 100.64.0.10:5 > 100.64.0.20:5432"), line("explain"), 2);
    expectOneLine(meshfilter("replay", MESH, "--policy", RESTRICTIVE_POLICY, "--peer", "db1"), line("replay"), 2);
  });

  it("offers nothing when no peer is close", () => {
    expectOneLine(
      meshfilter("compile", "--policy", RESTRICTIVE_POLICY, "--peer", "mainframe"),
      `meshfilter compile: --peer "mainframe": ${RESTRICTIVE_POLICY} has no peer with that id, name, IP, FQDN or DNS label`,
      2,
    );
  });

  it("a name that is also another peer's IP: the flag, and the candidates by id and IP", () => {
    const impostor = file("impostor.yaml", 'peers:\n  - { name: db, ip: 100.64.0.1 }\n  - { name: "100.64.0.1", ip: 100.64.0.2 }\n');
    const r = meshfilter("compile", "--policy", impostor, "--peer", "100.64.0.1");
    expect(r.status).toBe(2);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^meshfilter compile: --peer "100\.64\.0\.1" is ambiguous: it names 2 peers: .*IP 100\.64\.0\.1.*IP 100\.64\.0\.2.*; name the peer by its id, IP or FQDN\n$/);
  });
});

describe("a file that cannot be read: its path and the system's reason", () => {
  it("a missing policy file", () => {
    const missing = path.join(dir, "nope.yaml");
    for (const args of [["compile", "--policy", missing, "--peer", "db-1"], ["lint", missing], ["replay", MESH, "--policy", missing, "--peer", "db-1"]]) {
      expectOneLine(meshfilter(...args), `meshfilter ${args[0]}: cannot read policy file ${missing}: no such file or directory (ENOENT)`, 2);
    }
  });

  it("a directory given as the policy", () => {
    expectOneLine(meshfilter("lint", dir), `meshfilter lint: cannot read policy file ${dir}: illegal operation on a directory (EISDIR)`, 2);
  });

  it("a missing capture (the work's input: exit 1)", () => {
    const missing = path.join(dir, "nope.pcap");
    expectOneLine(
      meshfilter("replay", missing, "--policy", RESTRICTIVE_POLICY, "--peer", "db-1"),
      `meshfilter replay: cannot read capture ${missing}: no such file or directory (ENOENT)`,
      1,
    );
  });

  it("a missing --config file", () => {
    const missing = path.join(dir, "agent.yaml");
    expectOneLine(meshfilter("run", "--config", missing), `meshfilter run: cannot read config file ${missing}: no such file or directory (ENOENT)`, 2);
  });
});

describe("syntax errors: line and column", () => {
  it("YAML", () => {
    const bad = file("bad-syntax.yaml", "peers:\n  - { name: a, ip: 100.64.0.1\ngroups: []\n");
    const r = meshfilter("lint", bad);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^meshfilter lint: ${bad}: \\$: YAML syntax error at line 3, column \\d+: .+\\n$`));
  });

  it("JSON, also where V8 gives no position (a trailing comma)", () => {
    const bad = file("bad-syntax.json", '{\n  "peers": [\n    {"name": "a", "ip": "100.64.0.1"},\n  ]\n}\n');
    expectOneLine(meshfilter("lint", bad), `meshfilter lint: ${bad}: $: JSON syntax error at line 4, column 3: Unexpected token ']'`, 2);
    const missingComma = file("missing-comma.json", '{"peers": [], "groups": [] "policies": []}');
    const r = meshfilter("lint", missingComma);
    expect(r.stderr).toMatch(/: JSON syntax error at line 1, column 28: /);
    expect(r.status).toBe(2);
  });

  it("the --config file's YAML", () => {
    const bad = file("agent-bad.yaml", "mtu: [1\n");
    const r = meshfilter("run", "--config", bad);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^meshfilter run: invalid config file ${bad}:2: .+ at line 2, column 1:?\\n$`));
  });
});

describe("policy problems: line:column beside the JSON path", () => {
  it("one problem is one line", () => {
    const bad = file("bad-ip.yaml", "peers:\n  - { name: a, ip: 100.64.0.1 }\n  - name: b\n    ip: 100.64.0.300\n");
    expectOneLine(meshfilter("lint", bad), `meshfilter lint: ${bad}: line 4:5 $.peers[1].ip: "100.64.0.300" is not a valid IPv4 address`, 2);
  });

  it("several problems: a count, then one line each, in the order of the file", () => {
    const bad = file(
      "bad-rule.yaml",
      'peers:\n  - { name: a, ip: 100.64.0.1 }\ngroups: [g]\npolicies:\n  - name: p\n    rules:\n      - { sources: [g], destinations: [nope], protocol: tcp, ports: ["9000-8000"] }\n',
    );
    const r = meshfilter("compile", "--policy", bad, "--peer", "a");
    expect(r.status).toBe(2);
    expect(r.stderr.trimEnd().split("\n")).toEqual([
      `meshfilter compile: ${bad}: 2 problems in policy:`,
      "  line 7:70 $.policies[0].rules[0].ports[0]: port range 9000-8000 starts after it ends",
      '  line 7:40 $.policies[0].rules[0].destinations[0]: unknown group "nope"',
    ]);
  });

  it("a NetBird export (JSON) gets the same positions", () => {
    const bad = file("export.json", '{\n  "peers": [\n    {"id": "p1", "name": "a", "ip": "100.64.0.999"}\n  ]\n}\n');
    const r = meshfilter("lint", bad);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/line 3:31 \$\.peers\[0\]\.ip: /);
  });

  it("the --config file's problems, each with its line", () => {
    const bad = file("agent.yaml", "policyFile: a.yaml\nmtu: 10\nlisen: x\n");
    const r = meshfilter("run", "--config", bad);
    expect(r.status).toBe(2);
    expect(r.stderr.trimEnd().split("\n")).toEqual([
      `meshfilter run: invalid config file ${bad}:`,
      `  ${bad}:2: $.mtu: Too small: expected number to be >=576`,
      `  ${bad}:3: $: Unrecognized key: "lisen"`,
    ]);
  });
});

describe("a query explain cannot read", () => {
  it("is bad input: the parse error, where to look, exit 2", () => {
    const r = meshfilter("explain", "--policy", RESTRICTIVE_POLICY, "--peer", "db-1", "tcp 100.64.0.10 > 100.64.0.20");
    expect(r.status).toBe(2);
    expect(r.stderr.trimEnd().split("\n")).toEqual([
      'meshfilter explain: bad query: destination "100.64.0.20" needs a port (e.g. 100.64.0.20:443)',
      "try 'meshfilter explain --help'",
    ]);
  });
});
