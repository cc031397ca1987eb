import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parse as parseYaml } from "yaml";
import { execute } from "../../src/cli/command.ts";
import { command as compileCommand } from "../../src/cli/compile.ts";
import { command as explainCommand } from "../../src/cli/explain.ts";
import { command as lintCommand } from "../../src/cli/lint.ts";
import { compilePeer } from "../../src/policy/compile/compile.ts";
import { loadPolicyFile } from "../../src/policy/input/load.ts";
import { withPeerMeta } from "../../src/policy/input/peer-meta.ts";
import { formatDropReport } from "../../src/replay/shadow.ts";
import { printable } from "../../src/text/printable.ts";
import { MESH, meshfilter } from "../replay/cli.ts";
import { ROOT, runCommand } from "../support/cli.ts";

const example = (name: string) => path.join(ROOT, "examples", name);
const runCompile = (argv: string[]) => execute(compileCommand, argv);
const runExplain = (argv: string[]) => execute(explainCommand, argv);
const runLint = (argv: string[]) => execute(lintCommand, argv);

afterEach(() => vi.restoreAllMocks());

const tmp = mkdtempSync(path.join(tmpdir(), `meshfilter-cli-${process.pid}-`));
function writePolicy(name: string, text: string): string {
  const file = path.join(tmp, name);
  writeFileSync(file, text);
  return file;
}

describe("meshfilter compile", () => {
  it("prints the inbound, outbound and routes sections with one rule per line and its origin", async () => {
    const { code, stdout } = await runCommand(runCompile, ["--policy", example("restrictive.yaml"), "--peer", "db-1"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^peer db-1 \(id db-1\) 100\.64\.0\.20/);
    expect(stdout).toMatch(/inbound .*: \d+ rules?/);
    expect(stdout).toMatch(/outbound .*:/);
    expect(stdout).toMatch(/routes .*:/);
    expect(stdout).toMatch(/accept tcp  from 100\.64\.0\.10\/32 to 100\.64\.0\.20\/32 port 5432  # \S+: policy "[^"]+" \(\S+\), rule/);
  });

  it("--json prints the CompiledPeerPolicy", async () => {
    const { code, stdout } = await runCommand(runCompile, ["--policy", example("account.yaml"), "--peer", "100.64.0.20", "--json"]);
    expect(code).toBe(0);
    const parsed = JSON.parse(stdout);
    expect(Object.keys(parsed)).toEqual(["peer", "inbound", "outbound", "routes"]);
    expect(parsed).toEqual(JSON.parse(JSON.stringify(compilePeer(loadPolicyFile(example("account.yaml")), "db-1"))));
  });

  it("exit code 2 for an unknown peer, a missing file or missing options", async () => {
    expect((await runCommand(runCompile, ["--policy", example("account.yaml"), "--peer", "nobody"])).code).toBe(2);
    expect((await runCommand(runCompile, ["--policy", path.join(tmp, "missing.yaml"), "--peer", "db-1"])).code).toBe(2);
    expect((await runCommand(runCompile, ["--peer", "db-1"])).code).toBe(2);
  });

  it("the NetBird export and the same account in meshfilter's format compile to identical tables", () => {
    for (const [yaml, json] of ["account", "restrictive", "default", "mixed-group", "seed-patterns"].map((n) => [`${n}.yaml`, `${n}.netbird.json`])) {
      if (!existsSync(example(json))) continue;
      const a = loadPolicyFile(example(yaml));
      const b = loadPolicyFile(example(json));
      for (const peer of a.peers) {
        for (const honourBidirectionalFlag of [false, true]) {
          expect(compilePeer(b, peer.name, { honourBidirectionalFlag }), `${yaml} vs ${json}, peer ${peer.name}`).toEqual(compilePeer(a, peer.name, { honourBidirectionalFlag }));
        }
      }
    }
  });
});

describe("meshfilter lint", () => {
  it("reports the Default policy in the Default example, as an error (exit 1)", async () => {
    const { code, stdout } = await runCommand(runLint, [example("default.yaml"), "--json"]);
    expect(code).toBe(1);
    expect(JSON.parse(stdout).findings.map((f: { id: string }) => f.id)).toContain("default-policy");
  });

  it("reports the mixed-group anti-pattern", async () => {
    const { stdout } = await runCommand(runLint, [example("mixed-group.yaml"), "--json"]);
    const ids = JSON.parse(stdout).findings.map((f: { id: string }) => f.id);
    expect(ids).toContain("mixed-group");
    expect(ids).toContain("mixed-mesh");
  });

  it("reports no warnings or errors on the recommended examples (exit 0)", async () => {
    for (const name of ["restrictive.yaml", "account.yaml", "seed-patterns.yaml"]) {
      if (!existsSync(example(name))) continue;
      const { code, stdout } = await runCommand(runLint, [example(name), "--json"]);
      const serious = JSON.parse(stdout).findings.filter((f: { severity: string }) => f.severity !== "info");
      expect(serious, name).toEqual([]);
      expect(code).toBe(0);
    }
  });

  it("--json prints {findings: [{id, severity, message, objects}]}; the human form prints a summary line", async () => {
    const { stdout } = await runCommand(runLint, [example("default.yaml"), "--json"]);
    for (const f of JSON.parse(stdout).findings) expect(Object.keys(f).sort()).toEqual(["id", "message", "objects", "severity"]);
    const human = await runCommand(runLint, [example("default.yaml")]);
    expect(human.stdout).toMatch(/default\.yaml: 1 finding: 1 error, 0 warning, 0 info\nerror +default-policy +Policy "Default"/);
  });

  it("exit code 2 for a policy that fails validation, with the problems printed", async () => {
    const file = writePolicy("bad.yaml", "format: meshfilter/v1\npeers:\n  - name: a\n    ip: 999.1.1.1\n");
    const { code, stderr } = await runCommand(runLint, [file]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/\$\.peers\[0\]\.ip/);
  });
});

describe("meshfilter explain", () => {
  it("prints the verdict, the deciding rule and the reason", async () => {
    const { code, stdout } = await runCommand(runExplain, ["--policy", example("account.yaml"), "--peer", "db-1", "tcp 100.64.0.10:51000 > 100.64.0.20:5432 S"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ACCEPT \(inbound, rules\) rule eng-to-db\//);
  });

  it("--json has verdict, stage, rule, policy and reason; a drop also exits 0", async () => {
    const { code, stdout } = await runCommand(runExplain, ["--policy", example("account.yaml"), "--peer", "web-1", "--json", "tcp 100.64.0.11:50000 > 100.64.0.30:443"]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ verdict: "drop", stage: "posture", rule: expect.stringMatching(/^contractor-web\//), policy: "contractor-web", reason: expect.stringMatching(/min-version/) });
  });

  it("exit code 2 for a bad query (bad input), with the parse error", async () => {
    const { code, stderr } = await runCommand(runExplain, ["--policy", example("account.yaml"), "--peer", "db-1", "tcp 100.64.0.10 > 100.64.0.20"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/bad query: destination "100\.64\.0\.20" needs a port/);
  });

  it("works through the real command line (node --import tsx src/cli/main.ts)", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "explain", "--policy", "examples/account.yaml", "--peer", "db-1", "--json", "icmp 100.64.0.10 > 100.64.0.20"], { cwd: ROOT, encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ verdict: "drop", stage: "default-deny" });
  });
});

describe("an ambiguous --peer", () => {
  // A NetBird export with two peers named db-1, and a peer named after db-1's IP.
  const exportWithImpostors = writePolicy(
    "impostors.json",
    JSON.stringify({
      peers: [
        { id: "p-db", name: "db-1", ip: "100.64.0.20" },
        { id: "p-evil", name: "db-1", ip: "100.64.0.99" },
        { id: "p-ip", name: "100.64.0.20", ip: "100.64.0.98" },
      ],
      groups: [{ id: "g-all", name: "All", peers: ["p-db", "p-evil", "p-ip"] }],
      policies: [],
    }),
  );
  const byName = `"db-1" is ambiguous: it names 2 peers: id "p-db" (name "db-1", IP 100.64.0.20; matched by name); id "p-evil" (name "db-1", IP 100.64.0.99; matched by name); name the peer by its id, IP or FQDN`;
  const byIp = `"100.64.0.20" is ambiguous: it names 2 peers: id "p-db" (name "db-1", IP 100.64.0.20; matched by IP); id "p-ip" (name "100.64.0.20", IP 100.64.0.98; matched by name)`;

  it("compile and explain fail with exit 2, listing the candidates by id and IP", async () => {
    for (const [peerArg, expected] of [["db-1", byName], ["100.64.0.20", byIp]]) {
      const compiled = await runCommand(runCompile, ["--policy", exportWithImpostors, "--peer", peerArg]);
      expect(compiled.code).toBe(2);
      expect(compiled.stderr).toContain(expected);
      const explained = await runCommand(runExplain, ["--policy", exportWithImpostors, "--peer", peerArg, "tcp 100.64.0.10:51000 > 100.64.0.20:5432 S"]);
      expect(explained.code).toBe(2);
      expect(explained.stderr).toContain(expected);
    }
  });

  it("the id or the IP still picks one peer", async () => {
    expect((await runCommand(runCompile, ["--policy", exportWithImpostors, "--peer", "p-evil"])).stdout).toMatch(/^peer db-1 \(id p-evil\) 100\.64\.0\.99/);
    expect((await runCommand(runCompile, ["--policy", exportWithImpostors, "--peer", "100.64.0.99"])).code).toBe(0);
  });

  it("replay, watch and run (before any capture or device) fail the same way", () => {
    for (const args of [
      ["replay", MESH, "--policy", exportWithImpostors, "--peer", "db-1"],
      ["watch", "--iface", "lo", "--policy", exportWithImpostors, "--peer", "db-1"],
      ["run", "--policy", exportWithImpostors, "--peer", "db-1", "--transport", "plaintext-udp", "--listen", "127.0.0.1:0", "--tun", "mfambig0"],
    ]) {
      const r = meshfilter(...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(byName);
    }
  });

  it("withPeerMeta refuses to choose as well", () => {
    expect(() => withPeerMeta(loadPolicyFile(exportWithImpostors), "db-1", {})).toThrow(byName);
  });

  it("lint reports both as errors (exit 1)", async () => {
    const { code, stdout } = await runCommand(runLint, [exportWithImpostors]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^error +duplicate-peer-name +2 peers are named "db-1"/m);
    expect(stdout).toMatch(/^error +peer-name-is-ip +Peer "100\.64\.0\.20" \(id p-ip\) is named after the overlay IP of peer p-db/m);
  });
});

describe("terminal injection: names are printed escaped", () => {
  const EVIL = "eng\x1b]0;pwned\x07\nFAKE-to-db\u202e";
  const SHOWN = "eng\\x1b]0;pwned\\x07\\x0aFAKE-to-db\\u202e";
  // restrictive.yaml with its first policy renamed (meshfilter format: the name is the policy's id).
  const doc = JSON.parse(JSON.stringify(parseYaml(readFileSync(example("restrictive.yaml"), "utf8")))) as { policies: { name: string; sources?: string[] }[] };
  doc.policies[0].name = EVIL;
  const evilPolicy = writePolicy("evil.json", JSON.stringify(doc));
  const unknownGroup = structuredClone(doc);
  unknownGroup.policies[0].sources = [`engineering${EVIL}`];
  const evilProblem = writePolicy("evil-problem.json", JSON.stringify(unknownGroup));
  const raw = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

  it("printable escapes C0, DEL, C1 and bidi controls and keeps printable Unicode", () => {
    expect(printable("a\x1b[31mb\r\n\t\x7f\x9b\u2066")).toBe("a\\x1b[31mb\\x0d\\x0a\\x09\\x7f\\x9b\\u2066");
    expect(printable("db-1 Zürich 数据库 👩‍💻 C:\\Program Files")).toBe("db-1 Zürich 数据库 👩‍💻 C:\\Program Files");
  });

  it("compile, lint and explain print the name escaped, on one line; --json stays JSON", async () => {
    const outputs = [
      await runCommand(runCompile, ["--policy", evilPolicy, "--peer", "db-1"]),
      await runCommand(runLint, [evilPolicy]),
      await runCommand(runExplain, ["--policy", evilPolicy, "--peer", "db-1", "tcp 100.64.0.10:51000 > 100.64.0.20:5432 S"]),
    ];
    for (const { stdout } of outputs) {
      expect(stdout).toContain(SHOWN);
      expect(stdout).not.toMatch(raw);
      for (const line of stdout.split("\n")) expect(line).not.toMatch(/^FAKE/);
    }
    const json = await runCommand(runCompile, ["--policy", evilPolicy, "--peer", "db-1", "--json"]);
    expect(JSON.parse(json.stdout).inbound.some((r: { policyName: string }) => r.policyName === EVIL)).toBe(true);
  });

  it("a policy problem quoting the name is escaped too (stderr)", async () => {
    const { code, stderr } = await runCommand(runCompile, ["--policy", evilProblem, "--peer", "db-1"]);
    expect(code).toBe(2);
    expect(stderr).toContain(`unknown group "engineering${SHOWN}"`);
    expect(stderr).not.toMatch(raw);
  });

  it("replay's summary and watch's drop lines print rule ids escaped", () => {
    const r = meshfilter("replay", MESH, "--policy", evilPolicy, "--peer", "db-1");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`  ${SHOWN}/1 (accept)`);
    expect(r.stdout).not.toMatch(raw);
    const line = formatDropReport({ time: "t", direction: "in", protocol: "tcp", src: "a", srcPort: 1, dst: "b", dstPort: 2, reason: "drop-rule", rule: `${EVIL}/1` });
    expect(line).toBe(`t in tcp a:1 > b:2 dropped: drop-rule (rule ${SHOWN}/1)`);
  });
});
