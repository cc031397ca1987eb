// End to end: two agents with `--queues 2` over WireGuard in network namespaces. Parallel
// TCP connections opened from either side (so each agent judges flows it started and
// flows that arrived new from the tunnel) pass both ways with their replies, a forbidden
// one is dropped, both workers of each agent judge packets, and a reload that forbids
// the connections cuts them in every worker (P14).

import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request } from "../../src/control/client.ts";
import type { QueueStatus } from "../../src/agent/multi-queue.ts";
import { formatStatus } from "../../src/cli/status.ts";
import { Lab, labUnavailableReason, waitListening, type LabPeer } from "./lab.ts";

const unavailable = labUnavailableReason();
if (unavailable) console.warn(`test/e2e: skipping the multi-queue tests: ${unavailable}`);
if (unavailable && process.env.CI === "true") throw new Error(`test/e2e multi-queue: CI runs as root, and the lab cannot run: ${unavailable}`);

const laptop: LabPeer = { role: "laptop", peer: "laptop-alice", overlay: "100.64.0.10", underlay: "198.18.0.10" };
const db: LabPeer = { role: "db", peer: "db-1", overlay: "100.64.0.20", underlay: "198.18.0.20" };
const PORT = 51820;
const TO_DB = 5201; // laptop -> db, allowed until the reload
const TO_LAPTOP = 5202; // db -> laptop, allowed
const FORBIDDEN = 5203; // laptop -> db, never allowed

function policyYaml(dbAccess: boolean): string {
  const rule = (name: string, port: number, from: string, to: string) =>
    `  - { name: ${name}, protocol: tcp, ports: [${port}], sources: [${from}], destinations: [${to}] }\n`;
  return `format: meshfilter/v1
groups: [laptops, servers]
peers:
  - { name: laptop-alice, ip: 100.64.0.10, groups: [laptops] }
  - { name: db-1, ip: 100.64.0.20, groups: [servers] }
policies:
${dbAccess ? rule("laptop-to-db", TO_DB, "laptops", "servers") : ""}${rule("db-to-laptop", TO_LAPTOP, "servers", "laptops")}`;
}

interface Status {
  queues: QueueStatus[];
  flows: { count: number };
  packets: { tunRead: number; tunWritten: number; droppedInbound: number };
}

describe.skipIf(unavailable !== "")("two agents with two TUN queues each, over WireGuard", () => {
  let lab: Lab;
  let dir: string;
  let policyFile: string;

  const status = (role: string) => request("status", {}, lab.agents.get(role)!.control) as Promise<Status>;

  function agentArgs(self: LabPeer, other: LabPeer): string[] {
    return ["--policy", policyFile, "--peer", self.peer, "--tun", "mf0", "--queues", "2", "--listen", `${self.underlay}:${PORT}`, "--peer-endpoint", `${other.overlay}=${other.underlay}:${PORT}`, "--metrics", "127.0.0.1:9464"];
  }

  /** A sample of an agent's /metrics (its own namespace's 127.0.0.1:9464). */
  function metric(role: string, sample: string): number {
    const text = lab.exec(role, ["curl", "-s", "http://127.0.0.1:9464/metrics"]).stdout;
    const line = text.split("\n").find((l) => l.startsWith(`${sample} `));
    return line ? Number(line.slice(sample.length + 1)) : NaN;
  }

  /** iperf3 with `streams` parallel connections from `client` to `server`'s port; resolves with the bytes received. */
  async function iperf(client: LabPeer, server: LabPeer, port: number, streams: number, reverse: boolean): Promise<number> {
    lab.spawn(server.role, ["iperf3", "-s", "-1", "-p", String(port)]);
    await waitListening(lab, server.role, port);
    const args = ["iperf3", "-c", server.overlay, "-p", String(port), "-P", String(streams), "-t", "2", "-J", ...(reverse ? ["-R"] : [])];
    const r = await lab.execAsync(client.role, args, { timeoutMs: 30_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { end: { sum_received: { bytes: number } } }).end.sum_received.bytes;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "mf-mq-"));
    policyFile = join(dir, "policy.yaml");
    writeFileSync(policyFile, policyYaml(true));
    lab = new Lab();
    lab.buildUnderlay([laptop, db]);
    await Promise.all([lab.startAgent(laptop, agentArgs(laptop, db)), lab.startAgent(db, agentArgs(db, laptop))]);
  }, 90_000);

  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("parallel connections opened from either side pass both ways, and both workers of each agent judge packets", async () => {
    // Data each way on connections each side opened: laptop -> db (and the reverse
    // direction with -R), db -> laptop; four streams each, so the kernel spreads the flows over both queues.
    expect(await iperf(laptop, db, TO_DB, 4, false)).toBeGreaterThan(1_000_000);
    expect(await iperf(laptop, db, TO_DB, 4, true)).toBeGreaterThan(1_000_000);
    expect(await iperf(db, laptop, TO_LAPTOP, 4, false)).toBeGreaterThan(1_000_000);
    for (const role of ["laptop", "db"]) {
      const s = await status(role);
      expect(s.queues).toHaveLength(2);
      for (const q of s.queues) {
        // Each worker read packets from its queue and wrote replies into it.
        expect(q.tunRead, `${role} queue ${q.queue}: ${JSON.stringify(s.queues)}`).toBeGreaterThan(100);
        expect(q.tunWritten, `${role} queue ${q.queue}: ${JSON.stringify(s.queues)}`).toBeGreaterThan(100);
      }
      expect(s.packets.tunRead).toBe(s.queues[0].tunRead + s.queues[1].tunRead);
      expect(formatStatus(s as unknown as Parameters<typeof formatStatus>[0])).toMatch(/^queues {3}2: #0 read \d+, written \d+, .*; #1 read \d+/m);
    }
    // The connections laptop -> db (two iperf3 runs: a control connection and four streams
    // each), opened in both of db's workers: the rule's hits are their sum.
    const counters = (await request("counters", {}, lab.agents.get("db")!.control)) as { rules: { ruleName: string; hits: number }[] };
    expect(counters.rules.find((r) => r.ruleName === "laptop-to-db")?.hits).toBe(10);
    // The metrics sum the workers too (the rules' totals are asked of them once a second).
    await new Promise((r) => setTimeout(r, 1200));
    const dbStatus = await status("db");
    expect(metric("db", 'meshfilter_tun_packets_total{direction="read"}')).toBeGreaterThanOrEqual(dbStatus.queues[0].tunRead + dbStatus.queues[1].tunRead);
    expect(metric("db", 'meshfilter_rule_hits_total{rule="laptop-to-db/1"}')).toBe(10);
    expect(metric("db", 'meshfilter_packets_total{reason="rule"}')).toBe(10);
  }, 120_000);

  it("a flow whose outbound packets the kernel moves to the other queue is still judged by its owner", async () => {
    // Connections db opens to the laptop arrive new at the laptop's agent: the worker its
    // hash names owns them. The laptop's server then stays silent longer than the kernel
    // keeps a flow's queue (TUN_FLOW_EXPIRE, 3 s), so its answer leaves on the queue the
    // kernel's own hash picks: for about half of the connections the other worker's. That
    // worker passes the packets to the owner, whose table has the connection.
    const server = lab.spawn("laptop", [process.execPath, "-e", `require("node:net").createServer((s) => setTimeout(() => s.end("hello\\n"), 7000)).listen(${TO_LAPTOP}, "${laptop.overlay}")`]);
    await waitListening(lab, "laptop", TO_LAPTOP);
    const before = (await status("laptop")).queues.reduce((n, q) => n + q.passedToOwner, 0);
    const clients = Array.from({ length: 8 }, () => lab.execAsync("db", ["nc", "-w", "15", laptop.overlay, String(TO_LAPTOP)], { timeoutMs: 30_000 }));
    const answers = await Promise.all(clients);
    server.kill();
    expect(answers.map((a) => a.stdout.trim())).toEqual(Array(8).fill("hello"));
    const passed = (await status("laptop")).queues.reduce((n, q) => n + q.passedToOwner, 0) - before;
    expect(passed, "no answer left on the other queue (each does with probability 1/2)").toBeGreaterThan(0);
  }, 60_000);

  it("a connection the policy does not allow is dropped", async () => {
    lab.spawn("db", ["nc", "-l", String(FORBIDDEN)]);
    await waitListening(lab, "db", FORBIDDEN);
    const before = (await status("db")).packets.droppedInbound;
    expect(lab.exec("laptop", ["nc", "-z", "-w", "2", db.overlay, String(FORBIDDEN)]).status).not.toBe(0);
    expect((await status("db")).packets.droppedInbound).toBeGreaterThan(before);
  }, 30_000);

  it("a reload that forbids the connections cuts them in every worker", async () => {
    const dbAgent = lab.agents.get("db")!;
    lab.spawn("db", ["iperf3", "-s", "-1", "-p", String(TO_DB)]);
    await waitListening(lab, "db", TO_DB);
    const client = lab.spawn("laptop", ["iperf3", "-c", db.overlay, "-p", String(TO_DB), "-P", "8", "-t", "30", "-b", "20M"]);
    // Wait until both of db's workers track connections.
    const until = Date.now() + 10_000;
    let s = await status("db");
    while (!(s.queues[0].flows > 0 && s.queues[1].flows > 0 && s.flows.count >= 9) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 200));
      s = await status("db");
    }
    expect(s.queues.map((q) => q.flows).every((n) => n > 0), JSON.stringify(s.queues)).toBe(true);
    const since = dbAgent.log().length;
    writeFileSync(`${policyFile}.tmp`, policyYaml(false));
    renameSync(`${policyFile}.tmp`, policyFile);
    const applied = JSON.parse(await dbAgent.waitForLog("policy applied", since, 20_000)) as { flowsCut: number };
    // The iperf3 control connection and the eight streams, spread over both workers: each cut its own.
    expect(applied.flowsCut).toBeGreaterThanOrEqual(9);
    const after = await status("db");
    for (const q of after.queues) expect(q.flowsCut, JSON.stringify(after.queues)).toBeGreaterThan(0);
    // Each worker then drops the packets of the streams it cut: the laptop keeps sending.
    // (db's end of a cut connection may send again too: its segments pass as this peer's
    // own traffic but pick nothing up, src/engine/revoked-flows.ts.)
    await new Promise((r) => setTimeout(r, 1500));
    const later = await status("db");
    client.kill();
    for (const q of later.queues) {
      expect(q.droppedInbound, JSON.stringify({ before: s.queues, later: later.queues })).toBeGreaterThan(s.queues[q.queue].droppedInbound);
    }
  }, 90_000);

  it("a device already open in single-queue mode: the kernel's refusal as one line naming the device, exit 1", () => {
    lab.exec("laptop", ["ip", "tuntap", "add", "dev", "mfsingle", "mode", "tun"]);
    const r = lab.exec("laptop", [process.execPath, "--import", "tsx", "src/cli/main.ts", "run", ...lab.transportArgs(laptop, agentArgs(laptop, db).map((a) => (a === "mf0" ? "mfsingle" : a))), "--no-control"]);
    expect(r.stderr).toBe(
      "meshfilter run: TUN device 'mfsingle' exists with another type or queue mode (EINVAL): it is single-queue or not a TUN device, and multiQueue: true was asked; open it with the matching multiQueue option, or delete it (ip link del mfsingle)\n",
    );
    expect(r.status).toBe(1);
  }, 30_000);

  it("SIGTERM stops an agent and its workers cleanly: exit 0, the TUN device gone", async () => {
    expect(await lab.stopAgent("laptop")).toBe(0);
    expect(lab.exec("laptop", ["ip", "link", "show", "mf0"]).status).not.toBe(0);
  }, 30_000);
});
