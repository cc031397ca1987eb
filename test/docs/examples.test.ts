// Every example in README.md and docs/ runs, against the built package (dist/, as a user
// installs it), and shows what it prints:
// - a ```ts block that imports from "meshfilter" runs as a program (through tsx, with
//   the package resolved from node_modules like a user's project); it must exit 0 and
//   print nothing on stderr. Blocks that list a layer's internal API with placeholders
//   are marked ```ts signatures and are not programs;
// - in a ```sh block, each `npx meshfilter ...` line and `npm start` runs (the bin, from
//   the repository's root) and must exit 0 (lint: 1 when it reports an error finding);
// - a plain ``` block whose first line is `$ COMMAND` is a transcript: the command runs
//   and its output (stdout, then stderr) must be the lines that follow, where a line
//   `...` stands for any number of lines. Transcripts of the commands that talk to a
//   running agent (AGENT_COMMANDS: docs/operating.md shows them against one) and blocks
//   holding several `$` lines are illustrations; test/control/ runs those commands.

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../replay/cli.ts";

interface Block {
  file: string;
  line: number;
  info: string;
  body: string;
}

const DOCS = ["README.md", ...readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

function blocks(file: string): Block[] {
  const lines = readFileSync(path.join(ROOT, file), "utf8").split("\n");
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(.*)$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    while (++i < lines.length && !lines[i].startsWith("```")) body.push(lines[i]);
    out.push({ file, line: start + 1, info: open[1].trim(), body: body.join("\n") });
  }
  return out;
}

const ALL = DOCS.flatMap(blocks);
const PROGRAMS = ALL.filter((b) => b.info === "ts" && /from "meshfilter"/.test(b.body));
const COMMANDS = ALL.filter((b) => b.info === "sh").flatMap((b) =>
  b.body
    .split("\n")
    .map((l) => l.replace(/\s+#.*$/, "").trim())
    .filter((l) => l.startsWith("npx meshfilter ") || l === "npm start" || l.endsWith("&& npm start"))
    .map((l) => ({ where: `${b.file}:${b.line}`, command: l.replace(/^.*&& npm start$/, "npm start") })),
);
const AGENT_COMMANDS = ["run", "stats", "watch", "status", "flows", "flush", "trace", "counters", "reload", "log-level"];
const TRANSCRIPTS = ALL.filter((b) => {
  if ((b.info !== "" && b.info !== "console") || !b.body.startsWith("$ ")) return false;
  const words = b.body.slice(2).split(/\s+/);
  const subcommand = words[0] === "npx" ? words[2] : words[1];
  return b.body.split("\n").filter((l) => l.startsWith("$ ")).length === 1 && !AGENT_COMMANDS.includes(subcommand);
});

/** argv for a documented command: `npx meshfilter ARGS` and `meshfilter ARGS` run the bin; `npm start` runs its script's command. */
function argvOf(command: string): string[] {
  const words = [...command.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
  if (words[0] === "npm" && words[1] === "start") {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: { start: string } };
    return argvOf(pkg.scripts.start);
  }
  const rest = words[0] === "npx" ? words.slice(2) : words[0] === "meshfilter" ? words.slice(1) : words[0] === "node" ? words.slice(2) : undefined;
  if (rest === undefined) throw new Error(`not a meshfilter command: ${command}`);
  return [process.execPath, path.join(ROOT, "bin/meshfilter.js"), ...rest];
}

function run(command: string) {
  const [exe, ...args] = argvOf(command);
  return spawnSync(exe, args, { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
}

/** Whether `actual` lines match `expected` lines, `...` standing for any lines. */
function matches(actual: string[], expected: string[]): boolean {
  if (expected.length === 0) return actual.length === 0;
  if (expected[0] === "...") {
    for (let skip = 0; skip <= actual.length; skip++) if (matches(actual.slice(skip), expected.slice(1))) return true;
    return false;
  }
  return actual.length > 0 && actual[0].trimEnd() === expected[0].trimEnd() && matches(actual.slice(1), expected.slice(1));
}

describe("the documentation's examples", () => {
  it("finds examples of every kind", () => {
    expect(PROGRAMS.length).toBeGreaterThanOrEqual(2);
    expect(COMMANDS.length).toBeGreaterThanOrEqual(5);
    expect(TRANSCRIPTS.length).toBeGreaterThanOrEqual(2);
  });

  // A user's project: the package under node_modules/meshfilter (a link to this checkout).
  const project = mkdtempSync(path.join(tmpdir(), "meshfilter-docs-"));
  mkdirSync(path.join(project, "node_modules"));
  symlinkSync(ROOT, path.join(project, "node_modules/meshfilter"));
  writeFileSync(path.join(project, "package.json"), '{ "type": "module", "private": true }\n');

  for (const block of PROGRAMS) {
    it(`${block.file}:${block.line}: the program runs against the built package`, () => {
      const file = path.join(project, `example-${path.basename(block.file, ".md")}-${block.line}.ts`);
      writeFileSync(file, block.body);
      const tsx = path.join(ROOT, "node_modules/tsx/dist/esm/index.mjs");
      const argv = [process.execPath, "--import", tsx, file];
      let r;
      if (block.body.includes("openTun(")) {
        // An agent: it opens a TUN device and runs until Ctrl-C. It runs as root, in a
        // network namespace of its own (its device name is then free), and gets SIGINT.
        const denied = process.getuid?.() !== 0 ? "not root" : "";
        if (denied) {
          if (process.env.CI === "true") throw new Error(`${block.file}:${block.line} needs root to open a TUN device (${denied})`);
          console.warn(`skipped ${block.file}:${block.line}: opening a TUN device needs root (${denied})`);
          return;
        }
        r = spawnSync("unshare", ["--net", ...argv], { cwd: ROOT, encoding: "utf8", timeout: 5_000, killSignal: "SIGINT" });
      } else {
        r = spawnSync(argv[0], argv.slice(1), { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
      }
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
    }, 90_000);
  }

  it("README: the --verdicts line shown is a line its replay command writes", () => {
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    const shown = /A line of `--verdicts` output[\s\S]*?```json\n(.*)\n```/.exec(readme)?.[1];
    const command = /^npx meshfilter replay .* --verdicts (\S+)$/m.exec(readme);
    expect(shown).toBeDefined();
    expect(command).not.toBeNull();
    const out = path.join(project, "verdicts.ndjson");
    const r = run(command![0].replace(command![1], out));
    expect(r.status).toBe(0);
    expect(readFileSync(out, "utf8").split("\n")).toContain(shown);
  });

  for (const { where, command } of COMMANDS) {
    it(`${where}: ${command}`, () => {
      const r = run(command);
      expect(r.stderr).toBe("");
      const lintFindings = / lint /.test(` ${command} `) && r.status === 1;
      expect(r.status === 0 || lintFindings, `exit ${r.status}`).toBe(true);
    }, 90_000);
  }

  for (const block of TRANSCRIPTS) {
    const [first, ...expected] = block.body.split("\n");
    const command = first.slice(2);
    it(`${block.file}:${block.line}: \`${command}\` prints what the page shows`, () => {
      const r = run(command);
      const actual = `${r.stdout}${r.stderr}`.replace(/\n$/, "").split("\n");
      if (!matches(actual, expected)) expect(actual.join("\n")).toBe(expected.join("\n"));
    }, 90_000);
  }
});
