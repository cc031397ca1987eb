// The flow log under volume, on an injected clock: drops aggregated per (source,
// destination, protocol, port, reason) per window, the byte budget with what it held back
// counted, rotation, names and end reasons from a real engine's events.

import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FlowLog } from "../../src/agent/flow-log.ts";
import { Engine, VERDICT_ACCEPT } from "../../src/engine/engine.ts";
import { buildPacket } from "../../src/packet/builder.ts";
import { ALICE, DB, dbPolicy } from "../engine/helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "mf-flowlog-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Line = Record<string, unknown> & { type: string; num_of_drops?: number };
const lines = (path: string): Line[] => readFileSync(path, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Line);

/** An engine for db-1 whose events go to a flow log on a clock the test moves. */
function setup(name: string, options: { maxBytesPerSecond?: number; maxFileBytes?: number; maxAggregates?: number } = {}) {
  const clock = { now: 1_700_000_000_000 };
  const path = join(dir, name);
  const log = new FlowLog({ path, windowMs: 1000, now: () => clock.now, ...options });
  const policy = dbPolicy();
  log.format.setPolicy(policy, new Map([[ALICE, "laptop-alice"], [DB, "db-1"]]));
  const engine = new Engine(policy);
  engine.onFlowEvent = log.onEvent;
  const judge = (spec: Parameters<typeof buildPacket>[0]) => {
    engine.setTime(clock.now);
    const p = buildPacket(spec);
    return engine.inbound(p, 0, p.length);
  };
  return { clock, path, log, engine, judge };
}

describe("flow log", () => {
  it("aggregates drops per window, one line per (source, destination, protocol, port, reason), with names", async () => {
    const { clock, path, log, judge } = setup("agg.ndjson");
    for (let i = 0; i < 50_000; i++) judge({ src: ALICE, dst: DB, protocol: "udp", srcPort: 40000 + (i % 100), dstPort: 9000 + (i % 3) });
    for (let i = 0; i < 7; i++) judge({ src: "100.64.0.99", dst: DB, protocol: "tcp", dstPort: 22, tcp: { flags: "S" } });
    clock.now += 1000;
    log.tick();
    for (let i = 0; i < 5; i++) judge({ src: ALICE, dst: DB, protocol: "udp", dstPort: 9000 });
    await log.close();
    const all = lines(path);
    const drops = all.filter((l) => l.type === "TYPE_DROP");
    expect(drops).toHaveLength(5); // 3 ports + the ssh attempts in the first window, port 9000 in the second
    expect(drops.reduce((n, l) => n + l.num_of_drops!, 0)).toBe(50_012);
    const first = drops.find((l) => (l.destination as { port: number }).port === 9000)!;
    expect(first).toMatchObject({
      schema: "meshfilter.flow/1",
      reporter_name: DB, // policyFor names the peer by its address
      protocol: 17,
      protocol_name: "udp",
      direction: "INGRESS",
      reason: "no-rule",
      source: { address: ALICE, port: null, name: "laptop-alice", type: "PEER" },
      destination: { address: DB, port: 9000, name: DB, type: "PEER" },
      num_of_drops: 16_667,
    });
    expect(Date.parse(first.window_end as string) - Date.parse(first.window_start as string)).toBe(1000);
    const ssh = drops.find((l) => (l.destination as { port: number }).port === 22)!;
    expect(ssh).toMatchObject({ protocol_name: "tcp", num_of_drops: 7, source: { address: "100.64.0.99", name: "", type: "UNKNOWN" } });
  });

  it("writes starts and ends per flow with counters and the end reason, never a line per packet", async () => {
    const { clock, path, log, engine, judge } = setup("flows.ndjson");
    expect(judge({ src: ALICE, dst: DB, protocol: "udp", srcPort: 5353, dstPort: 53, payload: 20 })).toBe(VERDICT_ACCEPT);
    for (let i = 0; i < 100; i++) judge({ src: ALICE, dst: DB, protocol: "udp", srcPort: 5353, dstPort: 53, payload: 20 });
    expect(judge({ src: ALICE, dst: DB, protocol: "tcp", srcPort: 41000, dstPort: 5432, tcp: { flags: "S", seq: 100 } })).toBe(VERDICT_ACCEPT);
    engine.flush();
    clock.now += 1000;
    await log.close();
    const all = lines(path);
    expect(all.map((l) => l.type)).toEqual(["TYPE_START", "TYPE_START", "TYPE_END", "TYPE_END"]);
    const udpEnd = all.find((l) => l.type === "TYPE_END" && l.protocol_name === "udp")!;
    expect(udpEnd).toMatchObject({ end_reason: "flushed", rx_packets: 101, tx_packets: 0, policy: { id: "dns", name: "dns/udp" }, rule: { id: "dns/udp" }, origin: "inbound", state: "udp-unreplied" });
    expect(all[0].flow_id).toBe(udpEnd.flow_id);
  });

  it("keeps to its byte budget, and the SUPPRESSED line makes the counts add up to the drops", async () => {
    const { clock, path, log, judge } = setup("budget.ndjson", { maxBytesPerSecond: 2048 });
    let n = 0;
    for (let port = 0; port < 500; port++) for (let i = 0; i < 3; i++, n++) judge({ src: ALICE, dst: DB, protocol: "udp", dstPort: 10000 + port });
    clock.now += 1000;
    await log.close();
    const all = lines(path);
    expect(statSync(path).size).toBeLessThan(2048 + 400); // one window's budget, plus the SUPPRESSED line
    const suppressed = all.find((l) => l.type === "SUPPRESSED")!;
    expect(suppressed.suppressed_lines).toBeGreaterThan(400);
    const sum = all.reduce((s, l) => s + (l.num_of_drops ?? 0), 0);
    expect(sum).toBe(n);
  });

  it("counts drops beyond its aggregate limit as suppressed", async () => {
    const { clock, path, log, judge } = setup("limit.ndjson", { maxAggregates: 10 });
    for (let port = 0; port < 30; port++) judge({ src: ALICE, dst: DB, protocol: "udp", dstPort: 10000 + port });
    clock.now += 1000;
    await log.close();
    const all = lines(path);
    expect(all.filter((l) => l.type === "TYPE_DROP")).toHaveLength(10);
    expect(all.find((l) => l.type === "SUPPRESSED")).toMatchObject({ num_of_drops: 20 });
  });

  it("rotates the file at its size cap", async () => {
    const { clock, path, log, judge } = setup("rotate.ndjson", { maxFileBytes: 4096, maxBytesPerSecond: 1 << 20 });
    for (let w = 0; w < 6; w++) {
      for (let port = 0; port < 10; port++) judge({ src: ALICE, dst: DB, protocol: "udp", dstPort: 10000 + port });
      clock.now += 1000;
      log.tick();
    }
    await log.close();
    expect(statSync(path).size).toBeLessThanOrEqual(4096);
    expect(statSync(`${path}.1`).size).toBeLessThanOrEqual(4096);
    expect(statSync(`${path}.1`).size).toBeGreaterThan(0);
  });

  it("names an unreadable target in one line", () => {
    expect(() => new FlowLog({ path: join(dir, "missing-dir", "x.ndjson") })).toThrow(/^cannot open the flow log .*missing-dir\/x\.ndjson: ENOENT/);
  });
});
