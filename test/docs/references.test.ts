// Every file, folder and section the documentation points at exists: Markdown links in
// README.md, docs/, bench/RESULTS.md, examples/ and fixtures/ (with their #anchors), and
// repository paths written in backticks there or in source comments. A rename that
// leaves a dead reference fails here.

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../replay/cli.ts";

const TOP_FOLDERS = ["src", "test", "bench", "examples", "fixtures", "scripts", "native", "docs", "bin", ".ci"];
/** Folders that commands create (docs/api/, bench/out/): .gitignore's folder entries. */
const GENERATED = readFileSync(path.join(ROOT, ".gitignore"), "utf8")
  .split("\n")
  .filter((line) => line.endsWith("/") && !line.startsWith("#"))
  .map((line) => line.replace(/^\//, ""));

function filesUnder(dir: string, keep: (f: string) => boolean): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (rel !== "docs/api") out.push(...filesUnder(rel, keep));
    } else if (keep(rel)) out.push(rel);
  }
  return out;
}

const MARKDOWN = ["README.md", ...["docs", "bench", "examples", "fixtures"].flatMap((d) => filesUnder(d, (f) => f.endsWith(".md")))];
const SOURCES = ["src", "test", "bench", "scripts"].flatMap((d) => filesUnder(d, (f) => /\.(ts|mjs|sh|py)$/.test(f)));

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  const set = new Set<string>();
  for (const m of markdown.matchAll(/^#{1,6} (.+)$/gm)) {
    set.add(m[1].trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-"));
  }
  return set;
}

/** Paths named in `backticks` that start with a top folder: `src/policy/input/load.ts`, `test/policy/`. */
function backtickPaths(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/`([^`\s]+)`/g)) {
    const p = m[1].replace(/[.,:;)]+$/, "").replace(/#.*$/, "");
    if (TOP_FOLDERS.some((top) => p.startsWith(`${top}/`)) && !/[*{}<>$]|\.\.\./.test(p) && !p.includes("NAME")) found.push(p);
  }
  return found;
}

describe("references in the documentation resolve", () => {
  it("Markdown links: the file exists, and a #section of a Markdown file is one of its headings", () => {
    const dead: string[] = [];
    for (const file of MARKDOWN) {
      const text = readFileSync(path.join(ROOT, file), "utf8").replace(/```[\s\S]*?```/g, "");
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1];
        if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
        const [where, anchor] = target.split("#");
        const resolved = where === "" ? path.join(ROOT, file) : path.resolve(path.dirname(path.join(ROOT, file)), where);
        if (!existsSync(resolved)) dead.push(`${file}: ${target} (no such file)`);
        else if (anchor && resolved.endsWith(".md") && !anchors(readFileSync(resolved, "utf8")).has(anchor)) dead.push(`${file}: ${target} (no such section)`);
      }
    }
    expect(dead).toEqual([]);
  });

  it("paths in backticks, in the documentation and in source comments, exist", () => {
    const dead: string[] = [];
    for (const file of [...MARKDOWN, ...SOURCES]) {
      const text = readFileSync(path.join(ROOT, file), "utf8");
      for (const p of backtickPaths(text)) {
        if (!existsSync(path.join(ROOT, p)) && !GENERATED.some((g) => p.startsWith(g))) dead.push(`${file}: ${p}`);
      }
    }
    expect(dead).toEqual([]);
  });

  it("test files named in source comments exist", () => {
    const dead: string[] = [];
    for (const file of SOURCES) {
      const text = readFileSync(path.join(ROOT, file), "utf8");
      for (const m of text.matchAll(/\b(test\/[\w./-]+\.test\.ts)\b/g)) if (!existsSync(path.join(ROOT, m[1]))) dead.push(`${file}: ${m[1]}`);
      for (const m of text.matchAll(/\b([\w-]+\.test\.ts)\b/g)) {
        const name = m[1];
        if (!SOURCES.some((s) => s.endsWith(`/${name}`))) dead.push(`${file}: ${name}`);
      }
    }
    expect(dead).toEqual([]);
  });

  it("checks something: the documentation has links and paths", () => {
    expect(MARKDOWN.length).toBeGreaterThan(5);
    expect(statSync(path.join(ROOT, "docs")).isDirectory()).toBe(true);
  });
});
