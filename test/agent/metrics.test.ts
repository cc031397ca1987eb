// Metrics as an agent exposes them, read back the way `meshfilter stats` reads them.
import { afterEach, describe, expect, it } from "vitest";
import type { Server } from "node:http";
import { createAgentMetrics, serveMetrics, type EngineMetricsView } from "../../src/agent/metrics.ts";
import { PacketLoopCounters } from "../../src/agent/packet-loop.ts";
import { parsePrometheusText } from "../../src/agent/prometheus-text.ts";
import { execute } from "../../src/cli/command.ts";
import { command as statsCommand, formatStats } from "../../src/cli/stats.ts";

const stats = (argv: string[]) => execute(statsCommand, argv);

const fakeEngine: EngineMetricsView = {
  reasonCounts: Float64Array.of(0, 12, 3),
  segmentRunCounts: Float64Array.of(2, 9),
  reasonName: (code) => ["unused", "established", "no-rule"][code],
  rules: { ruleCount: 1, ruleId: () => 'pol-db/rule-1 "quoted"', hits: Float64Array.of(4), bytes: Float64Array.of(240) },
  flows: () => [1, 2],
};

function sources() {
  const loop = new PacketLoopCounters();
  loop.tunReadPackets = 100;
  loop.tunReadBatches = 25;
  loop.inboundDropped = 3;
  return {
    engine: () => fakeEngine,
    loop,
    tun: { mergedWrites: 7, splitReads: 3 },
    transport: { sentPackets: 90, sentBytes: 9000, receivedPackets: 80, receivedBytes: 8000, noRoute: 2, sendErrors: 0 },
    policy: { applied: 1, rejected: 2, flowsRevoked: 1 },
  };
}

let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

describe("agent metrics", () => {
  it("exposes per-reason, per-rule, flow and data-path counters in Prometheus text", async () => {
    const text = await createAgentMetrics(sources()).metrics();
    const samples = parsePrometheusText(text);
    const value = (name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value("meshfilter_packets_total", { reason: "established" })).toBe(12);
    expect(value("meshfilter_packets_total", { reason: "no-rule" })).toBe(3);
    expect(value("meshfilter_rule_hits_total", { rule: 'pol-db/rule-1 "quoted"' })).toBe(4);
    expect(value("meshfilter_flows")).toBe(2);
    expect(value("meshfilter_tun_merged_writes_total")).toBe(7);
    expect(value("meshfilter_segment_run_packets_total")).toBe(9);
    expect(value("meshfilter_transport_errors_total", { kind: "no-route" })).toBe(2);
    expect(value("meshfilter_policy_reloads_total", { result: "rejected" })).toBe(2);
  });

  it("takes the per-rule counters from the agent's totals across reloads when it has them", async () => {
    const text = await createAgentMetrics({ ...sources(), ruleTotals: () => [{ id: "pol-db/rule-1", hits: 40, bytes: 2400 }] }).metrics();
    const samples = parsePrometheusText(text);
    expect(samples.find((s) => s.name === "meshfilter_rule_hits_total")).toMatchObject({ labels: { rule: "pol-db/rule-1" }, value: 40 });
    expect(samples.find((s) => s.name === "meshfilter_rule_bytes_total")).toMatchObject({ value: 2400 });
  });

  it("stats prints them readably", async () => {
    const samples = parsePrometheusText(await createAgentMetrics(sources()).metrics());
    const out = formatStats(samples, "127.0.0.1:9464");
    expect(out).toMatch(/flows tracked: 2/);
    expect(out).toMatch(/established\s+12/);
    expect(out).toMatch(/pol-db\/rule-1 "quoted"\s+hits\s+4\s+bytes 240/);
    expect(out).toMatch(/4\.0 packets per read/);
    expect(out).toMatch(/9 packets judged within TCP segment runs/);
    expect(out).toMatch(/rejected 2, flows revoked 1/);
  });

  it("are served over HTTP and read by `meshfilter stats --json`", async () => {
    const port = 30000 + (process.pid % 20000);
    server = await serveMetrics(createAgentMetrics(sources()), `127.0.0.1:${port}`);
    const lines: string[] = [];
    const log = console.log;
    console.log = (s: string) => lines.push(s);
    try {
      expect(await stats(["--metrics", `127.0.0.1:${port}`, "--json"])).toBe(0);
    } finally {
      console.log = log;
    }
    const samples = JSON.parse(lines.join("\n"));
    expect(samples).toContainEqual({ name: "meshfilter_flows", labels: {}, value: 2 });
  });

  it("stats explains an unreachable agent", async () => {
    const errors: string[] = [];
    const error = console.error;
    console.error = (s: string) => errors.push(s);
    try {
      expect(await stats(["--metrics", "127.0.0.1:1"])).toBe(1);
    } finally {
      console.error = error;
    }
    expect(errors.join("")).toMatch(/cannot read metrics from http:\/\/127\.0\.0\.1:1\/metrics.*meshfilter run --metrics/);
  });
});
