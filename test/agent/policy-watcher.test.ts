import { closeSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
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

function setup(settleMs = 50): { dir: string; file: string; calls: () => number } {
  const dir = mkdtempSync(join(tmpdir(), "mf-watch-"));
  dirs.push(dir);
  const file = join(dir, "policy.yaml");
  writeFileSync(file, "a: 1\n");
  let n = 0;
  const w = new PolicyWatcher(file, () => n++, settleMs);
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

  it("a file written in place in two parts with a pause between is read only when complete", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mf-watch-"));
    dirs.push(dir);
    const file = join(dir, "policy.yaml");
    writeFileSync(file, "old: policy\n");
    const seen: string[] = [];
    let changed: () => void = () => {};
    const applied = new Promise<void>((resolve) => (changed = resolve));
    // The default settle time (2 s); the writer pauses 500 ms, as in the reported failure.
    const w = new PolicyWatcher(file, () => {
      seen.push(readFileSync(file, "utf8"));
      changed();
    });
    watchers.push(w);
    w.start();
    const fd = openSync(file, "w"); // truncates in place: same inode
    writeSync(fd, "first: half\n");
    await new Promise((r) => setTimeout(r, 500));
    expect(seen).toEqual([]); // nothing read between the two parts
    writeSync(fd, "second: half\n");
    closeSync(fd);
    await applied;
    expect(seen).toEqual(["first: half\nsecond: half\n"]);
  }, 20_000);

  it("a file renamed over the policy is read at once, without waiting for the settle time", async () => {
    // A settle time longer than the test's timeout: only the rename path can call back.
    const dir = mkdtempSync(join(tmpdir(), "mf-watch-"));
    dirs.push(dir);
    const file = join(dir, "policy.yaml");
    writeFileSync(file, "old: policy\n");
    const seen: string[] = [];
    let changed: () => void = () => {};
    const applied = new Promise<void>((resolve) => (changed = resolve));
    const w = new PolicyWatcher(
      file,
      () => {
        seen.push(readFileSync(file, "utf8"));
        changed();
      },
      3_600_000,
    );
    watchers.push(w);
    w.start();
    writeFileSync(join(dir, ".policy.yaml.tmp"), "new: policy\n");
    renameSync(join(dir, ".policy.yaml.tmp"), file);
    await applied;
    expect(seen).toEqual(["new: policy\n"]);
  }, 10_000);
});
