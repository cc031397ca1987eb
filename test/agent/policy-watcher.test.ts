import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PolicyWatcher } from "../../src/agent/policy-watcher.ts";

const dirs: string[] = [];
const watchers: PolicyWatcher[] = [];
afterEach(() => {
  for (const w of watchers.splice(0)) w.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(): { dir: string; file: string; calls: () => number } {
  const dir = mkdtempSync(join(tmpdir(), "mf-watch-"));
  dirs.push(dir);
  const file = join(dir, "policy.yaml");
  writeFileSync(file, "a: 1\n");
  let n = 0;
  const w = new PolicyWatcher(file, () => n++, 50);
  watchers.push(w);
  w.start();
  return { dir, file, calls: () => n };
}

const settle = () => new Promise((r) => setTimeout(r, 250));

describe("policy watcher", () => {
  it("calls back once for a burst of writes", async () => {
    const { file, calls } = setup();
    writeFileSync(file, "a: 2\n");
    writeFileSync(file, "a: 3\n");
    await settle();
    expect(calls()).toBe(1);
  });

  it("keeps watching when an editor replaces the file by renaming a new one over it", async () => {
    const { dir, file, calls } = setup();
    writeFileSync(join(dir, ".policy.yaml.tmp"), "a: 4\n");
    renameSync(join(dir, ".policy.yaml.tmp"), file);
    await settle();
    expect(calls()).toBe(1);
    writeFileSync(file, "a: 5\n");
    await settle();
    expect(calls()).toBe(2);
  });

  it("ignores other files in the directory", async () => {
    const { dir, calls } = setup();
    writeFileSync(join(dir, "other.txt"), "x");
    await settle();
    expect(calls()).toBe(0);
  });
});
