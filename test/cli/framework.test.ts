// The command-line framework through the real bin: --version, help for every command,
// usage errors in two lines with did-you-mean, and one exit-code table.

import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { closest } from "../../src/cli/did-you-mean.ts";
import { EXIT_CODE_TABLE } from "../../src/cli/exit-codes.ts";
import { COMMANDS } from "../../src/cli/registry.ts";
import { meshfilter, ROOT } from "../replay/cli.ts";

const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };

/** The lines of a usage error: what is wrong, then where to look. */
function expectUsageError(r: { status: number | null; stdout: string; stderr: string }, prefix: string, message: RegExp): void {
  expect(r.status).toBe(2);
  expect(r.stdout).toBe("");
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(new RegExp(`^${prefix}: `));
  expect(lines[0].slice(prefix.length + 2)).toMatch(message);
  expect(lines[1]).toBe(`try '${prefix} --help'`);
}

describe("meshfilter --version and help", () => {
  it("--version prints the package's version, exit 0", () => {
    const r = meshfilter("--version");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`meshfilter ${pkg.version}\n`);
  });

  it("--help lists every command with its summary and the exit-code table, exit 0", () => {
    const r = meshfilter("--help");
    expect(r.status).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toContain(`  ${c.name}`.padEnd(2 + Math.max(...COMMANDS.map((x) => x.name.length)) + 2) + c.summary);
    for (const [code, meaning] of EXIT_CODE_TABLE) expect(r.stdout).toContain(`${code}  ${meaning}`);
  });

  it("no command at all: the general help, exit 2", () => {
    const r = meshfilter();
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/^usage: meshfilter COMMAND/);
  });

  it("`help CMD` and `CMD --help` print the same command help, exit 0, for every command", { timeout: 180_000 }, async () => {
    for (const entry of COMMANDS) {
      const viaHelp = meshfilter("help", entry.name);
      const viaFlag = meshfilter(entry.name, "--help");
      const viaShort = meshfilter(entry.name, "-h");
      expect(viaHelp.status, entry.name).toBe(0);
      expect(viaFlag.status, entry.name).toBe(0);
      expect(viaHelp.stdout).toBe(viaFlag.stdout);
      expect(viaShort.stdout).toBe(viaFlag.stdout);
      expect(viaHelp.stdout).toMatch(new RegExp(`^usage: meshfilter ${entry.name} `));
      // Every declared flag is in the help, and the exit codes are from the one table.
      const { command } = await entry.load();
      expect(command.name).toBe(entry.name);
      for (const flag of Object.keys(command.flags)) expect(viaHelp.stdout, `${entry.name} --${flag}`).toContain(`--${flag}`);
      const known = new Set(EXIT_CODE_TABLE.map(([code]) => code));
      for (const code of Object.keys(command.exits)) expect(known.has(Number(code)), `${entry.name} exit ${code}`).toBe(true);
    }
  });
});

describe("usage errors: two lines on stderr, exit 2", () => {
  it("an unknown command, with the closest one", () => {
    expectUsageError(meshfilter("replya"), "meshfilter", /^unknown command 'replya' \(did you mean replay\?\)$/);
    expectUsageError(meshfilter("frobnicate"), "meshfilter", /^unknown command 'frobnicate'$/);
    expectUsageError(meshfilter("help", "complie"), "meshfilter", /^unknown command 'complie' \(did you mean compile\?\)$/);
  });

  it("an unknown flag, with the closest one", () => {
    expectUsageError(meshfilter("replay", "--polcy", "x"), "meshfilter replay", /^unknown flag --polcy \(did you mean --policy\?\)$/);
    expectUsageError(meshfilter("compile", "--jsno"), "meshfilter compile", /^unknown flag --jsno \(did you mean --json\?\)$/);
    expectUsageError(meshfilter("lint", "-x", "f.yaml"), "meshfilter lint", /^unknown flag -x$/);
    expectUsageError(meshfilter("--verison"), "meshfilter", /^unknown flag --verison \(did you mean --version\?\)/);
  });

  it("names only the flags that are missing", () => {
    const r = meshfilter("replay", "examples/mesh.pcap", "--policy", "examples/restrictive.yaml");
    expectUsageError(r, "meshfilter replay", /^missing --peer \(or --network-map\)$/);
    expectUsageError(meshfilter("compile"), "meshfilter compile", /^missing --policy, --peer \(or --network-map\)$/);
    expectUsageError(meshfilter("run", "--peer", "db-1"), "meshfilter run", /^missing --policy, --wireguard$/);
  });

  it("a flag without its value, a value given to a switch, a flag given twice", () => {
    expectUsageError(meshfilter("compile", "--peer", "db-1", "--policy"), "meshfilter compile", /^--policy needs a value \(FILE\)$/);
    expectUsageError(meshfilter("compile", "--policy", "--peer", "db-1"), "meshfilter compile", /^--policy needs a value \(FILE\)$/);
    expectUsageError(meshfilter("compile", "--policy", "a", "--peer", "b", "--json=yes"), "meshfilter compile", /^--json takes no value \(got "yes"\)$/);
    expectUsageError(meshfilter("compile", "--policy", "a", "--policy", "b", "--peer", "c"), "meshfilter compile", /^--policy given twice \("a" and "b"\)$/);
  });

  it("the wrong number of arguments, and a bad flag value", () => {
    expectUsageError(meshfilter("lint"), "meshfilter lint", /^missing FILE$/);
    expectUsageError(meshfilter("lint", "a.yaml", "b.yaml"), "meshfilter lint", /^expected at most 1 FILE, got 2: "a.yaml" "b.yaml"$/);
    expectUsageError(meshfilter("compile", "--policy", "a", "--peer", "b", "extra"), "meshfilter compile", /^unexpected argument "extra"$/);
    expectUsageError(meshfilter("run", "--policy", "p", "--peer", "x", "--listen", "1.2.3.4:5", "--mtu", "big"), "meshfilter run", /^--mtu "big": expected a positive integer$/);
    expectUsageError(meshfilter("watch", "--iface", "lo", "--policy", "p", "--peer", "x", "--interval", "-1"), "meshfilter watch", /^--interval needs a value/);
    expectUsageError(meshfilter("watch", "--iface", "lo", "--policy", "p", "--peer", "x", "--interval", "soon"), "meshfilter watch", /^--interval "soon": expected a number of seconds >= 0$/);
  });

  it("`--` ends the flags: what follows is an argument", () => {
    expectUsageError(meshfilter("lint", "--", "--json", "x"), "meshfilter lint", /^expected at most 1 FILE, got 2/);
  });
});

describe("did-you-mean", () => {
  const flags = ["--policy", "--peer", "--json", "--egress", "--verdicts", "--write-dropped", "--honour-bidirectional"];
  it("suggests a name one or two edits away, or one the typed text starts", () => {
    expect(closest("--polcy", flags)).toBe("--policy");
    expect(closest("--peeer", flags)).toBe("--peer");
    expect(closest("--verdict", flags)).toBe("--verdicts");
    expect(closest("--honor-bidirectional", flags)).toBe("--honour-bidirectional");
    expect(closest("--write", flags)).toBe("--write-dropped");
    expect(closest("db1", ["db-1", "web-1", "laptop-alice"])).toBe("db-1");
    expect(closest("DB-1", ["db-1", "web-1"])).toBe("db-1");
  });
  it("suggests nothing for an unrelated name", () => {
    expect(closest("--frobnicate", flags)).toBeUndefined();
    expect(closest("x", ["db-1", "web-1"])).toBeUndefined();
    expect(closest("zz", ["lint", "run"])).toBeUndefined();
  });
});

describe("the README's exit-code table", () => {
  it("is the table every command uses", () => {
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    const rows = [...readme.matchAll(/^\| (\d+) \| (.+) \|$/gm)].map((m) => [Number(m[1]), m[2]]);
    expect(rows).toEqual(EXIT_CODE_TABLE.map(([code, meaning]) => [code, meaning]));
  });
});

describe("numbers in text output", () => {
  it("counts grouped, sizes and rates rounded, durations as a clock, the same on every machine", async () => {
    const { formatBytes, formatCount, formatDecimal, formatDuration, formatRate } = await import("../../src/text/numbers.ts");
    expect(formatCount(1234567)).toBe("1,234,567");
    expect(formatCount(0)).toBe("0");
    expect(formatDecimal(4)).toBe("4.0");
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(1_234_567)).toBe("1.2 MB");
    expect(formatBytes(5_600_000_000)).toBe("5.6 GB");
    expect(formatRate(612_345.6, "packets")).toBe("612.3K packets/s");
    expect(formatDuration(65_000)).toBe("1:05");
    expect(formatDuration(3_723_000)).toBe("1:02:03");
  });
});
