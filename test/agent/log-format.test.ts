import { describe, expect, it } from "vitest";
import { formatLogLine } from "../../src/agent/log-format.ts";

describe("text log lines", () => {
  it("show time, level, message and the fields as key=value", () => {
    const line = JSON.stringify({ level: 30, time: Date.UTC(2026, 0, 2, 3, 4, 5, 678), pid: 1, hostname: "h", name: "meshfilter", msg: "agent running", peer: "db-1", rules: 7, file: "a b.yaml" });
    expect(formatLogLine(line)).toBe('03:04:05.678 INFO  agent running peer=db-1 rules=7 file="a b.yaml"');
    expect(formatLogLine("not json\n")).toBe("not json");
  });
});
