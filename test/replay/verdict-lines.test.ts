import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { VerdictLineWriter } from "../../src/replay/verdict-lines.ts";

const dir = mkdtempSync(path.join(os.tmpdir(), "meshfilter-verdict-lines-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const names = {
  reasonName: (code: number) => ["rule", "established", "no-rule"][code],
  ruleId: (index: number) => [`p1/r1`, `pol "quoted"/r\\2`][index],
  stateName: (code: number) => ["syn-sent", "established"][code],
  detailName: (code: number) => ["", "seq-above-window"][code],
};

describe("VerdictLineWriter", () => {
  it("writes one JSON object per line with index, dir, verdict, reason, rule and state", () => {
    const file = path.join(dir, "basic.jsonl");
    const writer = new VerdictLineWriter(file, names);
    writer.write(0, 1, 1, 0, 0, 0);
    writer.write(1, 2, 1, 1, -1, 1);
    writer.write(2, 0, 0, 2, -1, -1);
    writer.write(1234567890, 1, 0, 2, 1, -1);
    writer.close();
    const lines = readFileSync(file, "utf8").trimEnd().split("\n");
    expect(lines[0]).toBe('{"index": 0, "dir": "in", "verdict": "accept", "reason": "rule", "rule": "p1/r1", "state": "syn-sent"}');
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { index: 0, dir: "in", verdict: "accept", reason: "rule", rule: "p1/r1", state: "syn-sent" },
      { index: 1, dir: "out", verdict: "accept", reason: "established", rule: null, state: "established" },
      { index: 2, dir: "none", verdict: "drop", reason: "no-rule", rule: null, state: null },
      { index: 1234567890, dir: "in", verdict: "drop", reason: "no-rule", rule: 'pol "quoted"/r\\2', state: null },
    ]);
  });

  it("adds the failing check as `detail` when there is one", () => {
    const file = path.join(dir, "detail.jsonl");
    const writer = new VerdictLineWriter(file, names);
    writer.write(0, 1, 0, 2, 0, 1, 1);
    writer.write(1, 1, 0, 2, 0, 1, 0);
    writer.close();
    const lines = readFileSync(file, "utf8").trimEnd().split("\n");
    expect(lines[0]).toBe('{"index": 0, "dir": "in", "verdict": "drop", "reason": "no-rule", "rule": "p1/r1", "state": "established", "detail": "seq-above-window"}');
    expect(JSON.parse(lines[1])).toEqual({ index: 1, dir: "in", verdict: "drop", reason: "no-rule", rule: "p1/r1", state: "established" });
  });

  it("keeps every line intact across many buffer flushes", () => {
    const file = path.join(dir, "many.jsonl");
    const writer = new VerdictLineWriter(file, names);
    const count = 50_000; // ~100 bytes a line: several 1 MiB flushes
    for (let i = 0; i < count; i++) writer.write(i, 1 + (i % 2), i % 2, i % 3, (i % 3) - 1, (i % 3) - 1);
    writer.close();
    writer.close(); // idempotent
    const lines = readFileSync(file, "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(count);
    lines.forEach((line, i) => {
      const parsed = JSON.parse(line);
      expect(parsed.index).toBe(i);
      expect(parsed.verdict).toBe(i % 2 === 1 ? "accept" : "drop");
    });
  });
});
