// End to end: operating running agents through their control sockets, with real traffic
// between network namespaces. trace is held to what real packets get, flows to a live
// iperf3 connection, counters to a reload, the flow log to a million dropped packets, and
// SIGTERM to the process `npx meshfilter run` started.

import { execFile, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildPacket } from "../../src/packet/builder.ts";
import { Lab, labUnavailableReason, REPO, waitListening, type AgentHandle, type LabPeer } from "./lab.ts";
import { meshPolicyYaml } from "./mesh-policy.ts";

const unavailable = labUnavailableReason();
if (unavailable) console.warn(`test/e2e: skipping the operate tests: ${unavailable}`);

const laptop: LabPeer = { role: "laptop", peer: "laptop-alice", overlay: "100.64.0.10", underlay: "198.18.0.10" };
const db: LabPeer = { role: "db", peer: "db-1", overlay: "100.64.0.20", underlay: "198.18.0.20" };
const solo: LabPeer = { role: "solo", peer: "web-1", overlay: "100.64.0.30", underlay: "198.18.0.30" };
const PORT = 51820;
const DROPS = 1_000_000;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `meshfilter ARGS` (from the root namespace: the socket is a file) without blocking the event loop. */
function cli(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { cwd: REPO, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function json<T>(args: string[]): Promise<T> {
  const r = await cli([...args, "--json"]);
  if (r.code !== 0) throw new Error(`meshfilter ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

interface Counters {
  rules: { policyName: string; ruleName: string; direction: string; hits: number; bytes: number }[];
  reasons: Record<string, number>;
}

describe.skipIf(unavailable !== "")("operating running agents", () => {
  let lab: Lab;
  let dir: string;
  let policyFile: string;
  let flowLog: string;
  let dbAgent: AgentHandle;

  function agentArgs(self: LabPeer, other: LabPeer): string[] {
    return ["--policy", policyFile, "--peer", self.peer, "--tun", "mf0", "--listen", `${self.underlay}:${PORT}`, "--peer-endpoint", `${other.overlay}=${other.underlay}:${PORT}`];
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "mf-operate-"));
    policyFile = join(dir, "policy.yaml");
    flowLog = join(dir, "db-flows.ndjson");
    writeFileSync(policyFile, meshPolicyYaml({ dbAccess: true }));
    // The plaintext test transport: the flow-log test injects a million packets straight
    // at db-1's transport socket, which WireGuard (rightly) refuses before the filter.
    lab = new Lab({ transport: "plaintext-udp" });
    lab.buildUnderlay([laptop, db, solo]);
    await lab.startAgent(laptop, agentArgs(laptop, db));
    dbAgent = await lab.startAgent(db, [...agentArgs(db, laptop), "--flow-log", flowLog, "--flow-log-window-ms", "1000"]);
  }, 90_000);

  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const control = () => ["--control", dbAgent.control];

  it("status names the peer; a command without an agent says so in one line", async () => {
    const status = await json<{ peer: { name: string }; flows: { capacity: number } }>(["status", ...control()]);
    expect(status.peer.name).toBe("db-1");
    expect(status.flows.capacity).toBe(65536);
    const none = await cli(["status", "--control", join(dir, "nobody.sock")]);
    expect(none.code).toBe(1);
    expect(none.stderr.trim().split("\n")).toHaveLength(1);
    expect(none.stderr).toMatch(/no agent is listening at .*nobody\.sock/);
  });

  it("trace gives an allowed and a forbidden connection the verdicts their real packets get", async () => {
    const syn = (port: number) => ["trace", ...control(), "--src", laptop.overlay, "--dst", db.overlay, "--proto", "tcp", "--sport", "40000", "--dport", String(port), "--flags", "S"];
    const allowed = await json<{ verdict: string; reason: string; stages: { name: string; outcome: string }[]; rule: { policyName: string } }>(syn(5432));
    const forbidden = await json<{ verdict: string; reason: string; stages: unknown[] }>(syn(22));
    expect(allowed).toMatchObject({ verdict: "accept", reason: "rule", rule: { policyName: "engineering-to-db" } });
    expect(allowed.stages.map((s) => s.name)).toEqual(["direction", "decode", "fragments", "conntrack", "rules", "track", "verdict"]);
    expect(forbidden).toMatchObject({ verdict: "drop", reason: "no-rule" });
    // No rule: the trace says why, from explain: db-1 may not open tcp/5432 to the laptop, the rule is one-way.
    const laptopControl = lab.agents.get("laptop")!.control;
    const back = await json<{ verdict: string; reason: string; stages: { name: string; outcome: string; detail: string }[] }>(
      ["trace", "--control", laptopControl, "--src", db.overlay, "--dst", laptop.overlay, "--proto", "tcp", "--dport", "5432"],
    );
    expect(back).toMatchObject({ verdict: "drop", reason: "no-rule" });
    expect(back.stages.find((s) => s.name === "why")).toMatchObject({ outcome: "direction", detail: expect.stringMatching(/one-way \(P3\)/) });
    // A trace changes nothing: no flow was opened by it.
    expect(await json<unknown[]>(["flows", ...control(), "--port", "40000"])).toEqual([]);

    // The real packets, watched as `conntrack -E` would show them.
    const watch = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "flows", "--watch", "--json", ...control(), "--port", "5432"], { cwd: REPO });
    let watched = "";
    watch.stdout.on("data", (d: Buffer) => (watched += d.toString()));
    await new Promise((r) => setTimeout(r, 1500)); // the watcher is connected
    const before = await json<Counters>(["counters", ...control()]);
    const server = lab.spawn("db", ["nc", "-l", "-k", "5432"]);
    await waitListening(lab, "db", 5432);
    const ok = await lab.execAsync("laptop", ["nc", "-z", "-w", "3", db.overlay, "5432"]);
    const refused = await lab.execAsync("laptop", ["nc", "-z", "-w", "2", db.overlay, "22"]);
    server.kill();
    const after = await json<Counters>(["counters", ...control()]);
    await new Promise((r) => setTimeout(r, 500));
    watch.kill("SIGINT");
    const events = watched.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as { type: string; destination: { port: number }; policy: { name: string } | null });
    expect(events.find((e) => e.type === "TYPE_START")).toMatchObject({ destination: { port: 5432 }, policy: { name: "engineering-to-db" } });
    expect(ok.status).toBe(0); // accepted: the handshake completed
    expect(refused.status).not.toBe(0); // dropped: no answer at all
    expect(after.reasons["no-rule"] - (before.reasons["no-rule"] ?? 0)).toBeGreaterThanOrEqual(1);
    expect(after.reasons.rule - (before.reasons.rule ?? 0)).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it("flows lists a running iperf3 connection with growing counters and the policy that allowed it", async () => {
    lab.spawn("db", ["iperf3", "-s", "-p", "5432", "-1"]);
    await waitListening(lab, "db", 5432);
    const client = lab.execAsync("laptop", ["iperf3", "-c", db.overlay, "-p", "5432", "-t", "6", "-b", "50M"], { timeoutMs: 30_000 });
    type Flow = { protocol: string; state: string; src: string; dst: string; dstPort: number; bytesOriginal: number; packetsOriginal: number; packetsReply: number; policy: { name: string } | null; ruleName: string };
    const biggest = async (): Promise<Flow | undefined> => {
      const flows = await json<Flow[]>(["flows", ...control(), "--port", "5432", "--proto", "tcp"]);
      return flows.sort((a, b) => b.bytesOriginal - a.bytesOriginal)[0];
    };
    await new Promise((r) => setTimeout(r, 2000));
    const first = await biggest();
    const text = await cli(["flows", ...control(), "--port", "5432", "--state", "established"]);
    await new Promise((r) => setTimeout(r, 1500));
    const second = await biggest();
    const done = await client;
    expect(done.status, done.stderr).toBe(0);
    expect(first).toMatchObject({ protocol: "tcp", state: "established", src: laptop.overlay, dst: db.overlay, dstPort: 5432, policy: { name: "engineering-to-db" } });
    expect(second!.bytesOriginal).toBeGreaterThan(first!.bytesOriginal);
    expect(second!.packetsReply).toBeGreaterThan(0);
    expect(text.stdout, text.stdout + text.stderr).toMatch(/tcp\s+established\s+100\.64\.0\.10:\d+\s+100\.64\.0\.20:5432.*engineering-to-db/);
  }, 60_000);

  it("counters keep the totals of the remaining rules across a reload", async () => {
    const before = await json<Counters>(["counters", ...control()]);
    const db5432 = before.rules.find((r) => r.policyName === "engineering-to-db")!;
    expect(db5432.hits).toBeGreaterThan(0);
    // A new policy without engineering-to-web, renamed over the old one; reload at once.
    const next = join(dir, ".next.yaml");
    writeFileSync(next, meshPolicyYaml({ dbAccess: true }).replace(/  - name: engineering-to-web\n(    .*\n)+?(?=  - name:)/, ""));
    renameSync(next, policyFile);
    const reload = await json<{ applied: boolean }>(["reload", ...control()]);
    expect(reload.applied).toBe(true);
    const after = await json<Counters>(["counters", ...control()]);
    expect(after.rules.some((r) => r.policyName === "engineering-to-web")).toBe(false);
    const kept = after.rules.find((r) => r.policyName === "engineering-to-db")!;
    expect(kept.hits).toBeGreaterThanOrEqual(db5432.hits);
    expect(kept.bytes).toBeGreaterThanOrEqual(db5432.bytes);
  }, 30_000);

  it("flush removes the flows its filters select", async () => {
    const server = lab.spawn("db", ["nc", "-l", "5432"]);
    await waitListening(lab, "db", 5432);
    const client = lab.spawn("laptop", ["sh", "-c", `sleep 5 | nc -w 10 ${db.overlay} 5432`]);
    const until = Date.now() + 5000;
    while ((await json<unknown[]>(["flows", ...control(), "--port", "5432", "--state", "established"])).length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    const flushed = await json<{ flushed: number }>(["flush", ...control(), "--port", "5432"]);
    expect(flushed.flushed).toBeGreaterThanOrEqual(1);
    expect(await json<unknown[]>(["flows", ...control(), "--port", "5432", "--state", "established"])).toEqual([]);
    client.kill();
    server.kill();
  }, 30_000);

  it("log-level takes the level as its argument", async () => {
    expect(await json(["log-level", "debug", ...control()])).toEqual({ level: "debug", previous: "info" });
    expect(await json(["log-level", "info", ...control()])).toEqual({ level: "info", previous: "debug" });
  });

  it(`${DROPS.toLocaleString("en")} dropped packets make a flow log under 1 MB whose aggregated counts sum to the drops`, async () => {
    // Sent straight at db-1's transport (plain UDP carrying IP packets): UDP from the
    // laptop's overlay address to ports no rule allows, 16 of them.
    const packets = Array.from({ length: 16 }, (_, i) => Buffer.from(buildPacket({ src: laptop.overlay, dst: db.overlay, protocol: "udp", srcPort: 40000, dstPort: 9000 + i, payload: 16 })).toString("hex"));
    const sender = `import socket,sys
pk=[bytes.fromhex(h) for h in sys.argv[1].split(",")]
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
a=("${db.underlay}",${PORT})
for i in range(int(sys.argv[2])): s.sendto(pk[i&15],a)
`;
    const noRule = async () => (await json<Counters>(["counters", ...control()])).reasons["no-rule"] ?? 0;
    const start = await noRule();
    // UDP may lose datagrams in the socket buffers: send until the agent has dropped a million.
    for (let round = 0; round < 5 && (await noRule()) - start < DROPS; round++) {
      const missing = DROPS - ((await noRule()) - start);
      const r = await lab.execAsync("laptop", ["python3", "-c", sender, packets.join(","), String(Math.ceil(missing * 1.05))], { timeoutMs: 120_000 });
      expect(r.status, r.stderr).toBe(0);
      await new Promise((res) => setTimeout(res, 500));
    }
    const total = await noRule();
    expect(total - start).toBeGreaterThanOrEqual(DROPS);
    // Every window has closed once a second has passed with no new drops; then the sums must match.
    const sumOfLog = () => {
      let sum = 0;
      for (const line of readFileSync(flowLog, "utf8").split("\n")) {
        if (!line) continue;
        const e = JSON.parse(line) as { type: string; reason?: string; num_of_drops?: number };
        if (e.type === "TYPE_DROP" && e.reason === "no-rule") sum += e.num_of_drops!;
        if (e.type === "SUPPRESSED") sum += e.num_of_drops!;
      }
      return sum;
    };
    const deadline = Date.now() + 10_000;
    while (sumOfLog() !== total && Date.now() < deadline) await new Promise((res) => setTimeout(res, 250));
    expect(sumOfLog()).toBe(total);
    expect(statSync(flowLog).size).toBeLessThan(1_000_000);
    const lines = readFileSync(flowLog, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const drop = lines.find((l) => l.type === "TYPE_DROP" && (l.destination as { port: number }).port === 9000)!;
    expect(drop).toMatchObject({ schema: "meshfilter.flow/1", protocol: 17, protocol_name: "udp", direction: "INGRESS", reason: "no-rule", source: { address: laptop.overlay, name: "laptop-alice", type: "PEER" }, destination: { address: db.overlay, name: "db-1" } });
  }, 240_000);

  it("SIGTERM to the process that `npx meshfilter run` started leaves no meshfilter process and no TUN device", async () => {
    const socket = join(dir, "solo.sock");
    // A project with meshfilter in its node_modules, as an operator's would have it: npx runs
    // its node_modules/.bin/meshfilter. (No dependency is declared: npx then installs nothing.)
    const project = join(dir, "project");
    mkdirSync(join(project, "node_modules", ".bin"), { recursive: true });
    symlinkSync(REPO, join(project, "node_modules", "meshfilter"));
    symlinkSync("../meshfilter/bin/meshfilter.js", join(project, "node_modules", ".bin", "meshfilter"));
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "operator", version: "1.0.0", private: true }));
    const npx = lab.spawn("solo", ["sh", "-c", `cd ${project} && exec npx meshfilter run "$@"`, "sh", "--policy", policyFile, "--peer", solo.peer, "--tun", "mfnpx", "--transport", "plaintext-udp", "--listen", `${solo.underlay}:${PORT}`, "--control", socket]);
    let log = "";
    npx.stderr!.on("data", (d: Buffer) => (log += d.toString()));
    const deadline = Date.now() + 30_000;
    while (!log.includes("agent running") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(log).toContain("agent running");
    const pids = () => spawnSync("ip", ["netns", "pids", lab.ns("solo")], { encoding: "utf8" }).stdout.trim().split(/\s+/).filter(Boolean);
    expect(pids().length).toBeGreaterThanOrEqual(2); // npx and the agent (and the shell between them)
    const exited = new Promise<number | null>((resolve) => npx.once("exit", (code) => resolve(code)));
    npx.kill("SIGTERM");
    await exited;
    const gone = Date.now() + 10_000;
    while (pids().length > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 100));
    expect(pids()).toEqual([]);
    expect(lab.exec("solo", ["ip", "link", "show", "mfnpx"]).status).not.toBe(0);
    expect(() => statSync(socket)).toThrow();
    expect(log).toContain("agent stopped");
  }, 60_000);
});
