// Throughput over WireGuard between two network namespaces, measured with iperf3: two
// meshfilter agents, a meshfilter agent and Debian's wireguard-go, and two wireguard-go
// (the reference pace), the agents with filtering on and off (--no-filter); two
// meshfilter agents with one TUN queue and with two (--queues 2), both under the same
// `--streams` parallel TCP connections so the kernel can spread flows over the queues;
// and directly over the underlay for scale. Prints a table, the agents' CPU use and batch
// sizes (where the time goes), and writes bench/out/iperf.json.
//
//   npx tsx bench/iperf.ts [--seconds 5] [--omit 2] [--mtu 1420] [--underlay-mtu 1500] [--batch 64] [--rounds 2] [--udp-rate 1G]
//                          [--streams 4] [--queues-only]
//
// --queues-only runs only the 1- and 2-queue rows (and the underlay).
// Needs root, iproute2, iperf3, wireguard-go and wg. About 10 x rounds x (seconds + omit + 1) s plus start-ups.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Lab, labUnavailableReason, REPO, type LabPeer } from "../test/e2e/lab.ts";
import { WireGuardGo, wgConfigText, wireguardGoUnavailableReason } from "../test/wireguard/wireguard-go.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    omit: { type: "string", default: "2" },
    mtu: { type: "string", default: "1420" },
    "underlay-mtu": { type: "string", default: "1500" },
    batch: { type: "string", default: "64" },
    rounds: { type: "string", default: "2" },
    "udp-rate": { type: "string", default: "1G" },
    streams: { type: "string", default: "4" },
    "queues-only": { type: "boolean", default: false },
  },
});
const seconds = Number(values.seconds);
// iperf3 --omit: seconds left out of the figures at the start of each run, for TCP slow
// start and for the freshly started agents' JIT compilation (which runs on the same two
// cores as everything else).
const omit = Number(values.omit);
const mtu = Number(values.mtu);
const batch = Number(values.batch);
const underlayMtu = Number(values["underlay-mtu"]);
// Filtering on and off alternate, `rounds` times, and the figures are averaged: on a small
// shared machine one run of each is at the mercy of whatever else ran at that moment.
const rounds = Number(values.rounds);
// UDP is offered at a fixed rate: an unlimited sender (-b 0) mostly measures how much CPU the
// iperf3 client steals from the agents on a small machine, and varies wildly from run to run.
const udpRate = values["udp-rate"];
// Parallel TCP connections of the queue rows (iperf3 -P): one flow stays on one queue.
const streams = Number(values.streams);
const queuesOnly = values["queues-only"];

const a: LabPeer = { role: "a", peer: "client", overlay: "100.64.0.10", underlay: "198.18.0.10" };
const b: LabPeer = { role: "b", peer: "server", overlay: "100.64.0.20", underlay: "198.18.0.20" };
const POLICY = `format: meshfilter/v1
groups: [clients, servers]
peers:
  - { name: client, ip: 100.64.0.10, groups: [clients] }
  - { name: server, ip: 100.64.0.20, groups: [servers] }
policies:
  - name: iperf
    protocol: tcp
    ports: [5201]
    sources: [clients]
    destinations: [servers]
  - name: iperf-udp
    protocol: udp
    ports: [5201]
    sources: [clients]
    destinations: [servers]
`;

// The pairs compared: which implementation runs each end (client a, server b), and the
// agents' extra arguments; filtering on and off differ only in --no-filter.
type End = "meshfilter" | "wireguard-go";
// The queue rows run TCP only, with `streams` parallel connections (1 queue and 2 queues alike).
interface Mode {
  path: string;
  a: End;
  b: End;
  args: readonly string[];
  /** Parallel TCP connections (iperf3 -P) and no UDP run: the queue rows. */
  streams?: number;
}
const QUEUE_MODES: readonly Mode[] = [
  { path: `meshfilter ↔ meshfilter, filter on, 1 queue, ${streams} streams`, a: "meshfilter", b: "meshfilter", args: [], streams },
  { path: `meshfilter ↔ meshfilter, filter on, 2 queues, ${streams} streams`, a: "meshfilter", b: "meshfilter", args: ["--queues", "2"], streams },
];
const MODES: readonly Mode[] = [
  ...(queuesOnly
    ? []
    : ([
        { path: "meshfilter ↔ meshfilter, filter on", a: "meshfilter", b: "meshfilter", args: [] },
        { path: "meshfilter ↔ meshfilter, filter off", a: "meshfilter", b: "meshfilter", args: ["--no-filter"] },
        { path: "meshfilter ↔ wireguard-go, filter on", a: "meshfilter", b: "wireguard-go", args: [] },
        { path: "meshfilter ↔ wireguard-go, filter off", a: "meshfilter", b: "wireguard-go", args: ["--no-filter"] },
        { path: "wireguard-go ↔ wireguard-go", a: "wireguard-go", b: "wireguard-go", args: [] },
      ] satisfies Mode[])),
  ...QUEUE_MODES,
];

interface Row {
  path: string;
  protocol: "tcp" | "udp";
  mbitPerSec: number;
  /** Slowest and fastest round, for the spread on a shared machine. */
  range?: [number, number];
  lossPercent?: number;
  retransmits?: number;
  /** CPU seconds per wall second of the agents or wireguard-go (1.0 = one core busy), client side and server side. */
  agentCpu?: [number, number];
  packetsPerRead?: [number, number];
  /** Share of the judged packets that were judged as part of a segment run, after its first. */
  inRuns?: [number, number];
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (USER_HZ = 100)
}

function iperf(lab: Lab, host: string, protocol: "tcp" | "udp", parallel = 1): Pick<Row, "mbitPerSec" | "lossPercent" | "retransmits"> {
  const args = ["iperf3", "-c", host, "-t", String(seconds), "-O", String(omit), "-J", "-P", String(parallel)];
  // UDP: a fixed offered rate, datagrams that fit the tunnel MTU (IPv4 20 + UDP 8 headers).
  if (protocol === "udp") args.push("-u", "-b", udpRate, "-l", String(mtu - 28));
  const r = lab.exec("a", args, { timeoutMs: (seconds + omit + 20) * 1000 });
  const out = JSON.parse(r.stdout || "{}");
  if (out.error || !out.end) throw new Error(`iperf3 ${protocol} to ${host} failed: ${out.error ?? r.stderr}`);
  if (protocol === "tcp") {
    return { mbitPerSec: out.end.sum_received.bits_per_second / 1e6, retransmits: out.end.sum_sent.retransmits };
  }
  // The receiver's view: what actually arrived.
  const recv = out.end.sum_received ?? out.end.sum;
  return { mbitPerSec: recv.bits_per_second / 1e6, lossPercent: recv.lost_percent ?? out.end.sum.lost_percent };
}

async function metric(lab: Lab, role: string, name: string): Promise<number> {
  const r = lab.exec(role, ["curl", "-s", "http://127.0.0.1:9464/metrics"]);
  const line = r.stdout.split("\n").find((l) => l.startsWith(name + " ") || l.startsWith(name + "{"));
  return line ? Number(line.split(" ").pop()) : 0;
}

/** Packets the agent's filter judged (TUN reads + transport receipts) and those judged within segment runs. */
async function judgedPackets(lab: Lab, role: string): Promise<{ all: number; inRuns: number }> {
  const read = await metric(lab, role, 'meshfilter_tun_packets_total{direction="read"}');
  const received = await metric(lab, role, 'meshfilter_transport_packets_total{direction="received"}');
  return { all: read + received, inRuns: await metric(lab, role, "meshfilter_segment_run_packets_total") };
}

async function main(): Promise<void> {
  const unavailable = labUnavailableReason() || wireguardGoUnavailableReason();
  if (unavailable) {
    console.error(`bench/iperf: cannot run: ${unavailable}`);
    process.exitCode = 1;
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "mf-iperf-"));
  const policyFile = join(dir, "policy.yaml");
  writeFileSync(policyFile, POLICY);
  const lab = new Lab();
  const rows: Row[] = [];
  try {
    lab.buildUnderlay([a, b], underlayMtu);
    const server = lab.spawn("b", ["iperf3", "-s"]);
    await new Promise((r) => setTimeout(r, 300));
    // Odd rounds run the modes in reverse order (A B C, C B A, ...): whatever drifts during
    // a run (the machine's other load, memory, caches) then weighs on every mode alike.
    const order = Array.from({ length: rounds }, (_, round) => (round % 2 === 0 ? [...MODES] : [...MODES].reverse())).flat();
    for (const mode of order) {
      const args = (self: LabPeer, other: LabPeer) => [
        "--policy", policyFile, "--peer", self.peer, "--tun", "mf0", "--mtu", String(mtu), "--batch", String(batch),
        "--listen", `${self.underlay}:51820`, "--peer-endpoint", `${other.overlay}=${other.underlay}:51820`,
        "--metrics", "127.0.0.1:9464", ...mode.args,
      ];
      // Each end: a meshfilter agent, or wireguard-go with the key the lab gave that peer.
      const start = async (self: LabPeer, other: LabPeer, kind: End): Promise<{ pid: number; meshfilter: boolean; stop: () => Promise<unknown> }> => {
        if (kind === "meshfilter") {
          // The CommonJS dependencies preloaded before tsx, as bench/run.ts does (bench/preload-commonjs.cjs says why).
          const h = await lab.startAgent(self, args(self, other), ["--require", join(REPO, "bench/preload-commonjs.cjs")]);
          return { pid: h.process.pid!, meshfilter: true, stop: () => lab.stopAgent(self.role) };
        }
        const go = new WireGuardGo(lab, self.role, dir);
        const config = wgConfigText(lab.wireguardKey(self.overlay).privateKey, 51820, [
          { publicKey: lab.wireguardKey(other.overlay).publicKey, allowedIps: [`${other.overlay}/32`], endpoint: `${other.underlay}:51820` },
        ]);
        await go.start(config, `${self.overlay}/16`, mtu);
        return { pid: go.pid!, meshfilter: false, stop: () => go.stop() };
      };
      const ends = await Promise.all([start(a, b, mode.a), start(b, a, mode.b)]);
      const roles = ["a", "b"];
      for (const protocol of mode.streams ? (["tcp"] as const) : (["tcp", "udp"] as const)) {
        const pids = ends.map((e) => e.pid);
        const readsBefore = await Promise.all(roles.map((r) => metric(lab, r, "meshfilter_tun_read_batches_total")));
        const pktsBefore = await Promise.all(roles.map((r) => metric(lab, r, 'meshfilter_tun_packets_total{direction="read"}')));
        const judgedBefore = await Promise.all(roles.map((r) => judgedPackets(lab, r)));
        const cpuBefore = pids.map(cpuSeconds);
        const started = performance.now();
        const result = iperf(lab, b.overlay, protocol, mode.streams);
        const wall = (performance.now() - started) / 1000;
        const cpu = pids.map((pid, i) => (cpuSeconds(pid) - cpuBefore[i]) / wall) as [number, number];
        const reads = await Promise.all(roles.map((r) => metric(lab, r, "meshfilter_tun_read_batches_total")));
        const pkts = await Promise.all(roles.map((r) => metric(lab, r, 'meshfilter_tun_packets_total{direction="read"}')));
        const perRead = [0, 1].map((i) => (ends[i].meshfilter ? (pkts[i] - pktsBefore[i]) / Math.max(1, reads[i] - readsBefore[i]) : NaN)) as [number, number];
        const judged = await Promise.all(roles.map((r) => judgedPackets(lab, r)));
        // Share of the judged packets that rode on a segment run's first (no lookup of their own).
        const inRuns = [0, 1].map((i) =>
          ends[i].meshfilter ? (judged[i].inRuns - judgedBefore[i].inRuns) / Math.max(1, judged[i].all - judgedBefore[i].all) : NaN,
        ) as [number, number];
        const filtered = !mode.args.includes("--no-filter") && ends.some((e) => e.meshfilter);
        rows.push({ path: mode.path, protocol, ...result, agentCpu: cpu, packetsPerRead: perRead, ...(filtered ? { inRuns } : {}) });
        console.error(`${mode.path} ${protocol}: ${result.mbitPerSec.toFixed(0)} Mbit/s`);
      }
      await Promise.all(ends.map((e) => e.stop()));
    }
    for (let round = 0; round < rounds; round++) {
      for (const protocol of ["tcp", "udp"] as const) rows.push({ path: "underlay", protocol, ...iperf(lab, b.underlay, protocol) });
    }
    server.kill();
  } finally {
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  report(average(rows), rows);
}

/** One row per (path, protocol): the mean of the rounds. */
function average(rows: Row[]): Row[] {
  const groups = new Map<string, Row[]>();
  for (const r of rows) groups.set(`${r.path}/${r.protocol}`, [...(groups.get(`${r.path}/${r.protocol}`) ?? []), r]);
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const opt = (rs: Row[], f: (r: Row) => number | undefined) => (f(rs[0]) === undefined ? undefined : mean(rs.map((r) => f(r)!)));
  const pair = (rs: Row[], f: (r: Row) => [number, number] | undefined): [number, number] | undefined =>
    f(rs[0]) === undefined ? undefined : [mean(rs.map((r) => f(r)![0])), mean(rs.map((r) => f(r)![1]))];
  return [...groups.values()].map((rs) => ({
    path: rs[0].path,
    protocol: rs[0].protocol,
    mbitPerSec: mean(rs.map((r) => r.mbitPerSec)),
    range: [Math.min(...rs.map((r) => r.mbitPerSec)), Math.max(...rs.map((r) => r.mbitPerSec))] as [number, number],
    lossPercent: opt(rs, (r) => r.lossPercent),
    retransmits: opt(rs, (r) => r.retransmits),
    agentCpu: pair(rs, (r) => r.agentCpu),
    packetsPerRead: pair(rs, (r) => r.packetsPerRead),
    inRuns: pair(rs, (r) => r.inRuns),
  }));
}

function report(rows: Row[], runs: Row[]): void {
  const command =
    `npx tsx bench/iperf.ts --seconds ${seconds} --omit ${omit} --mtu ${mtu} --underlay-mtu ${underlayMtu} --batch ${batch} --rounds ${rounds} --udp-rate ${udpRate}` +
    ` --streams ${streams}${queuesOnly ? " --queues-only" : ""}`;
  const lines = [
    `iperf3 over WireGuard (TUN MTU ${mtu}, underlay MTU ${underlayMtu}, agents' batch ${batch}), ` +
      `${seconds} s per run after ${omit} s left out, mean of ${rounds} rounds, UDP offered at ${udpRate}bit/s`,
    `command: ${command}`,
    "",
    "| path | protocol | Mbit/s (mean) | rounds min–max | loss % | TCP retransmits | CPU (client, server) | packets per TUN read (client, server) | judged in segment runs (client, server) |",
    "| --- | --- | ---: | ---: | ---: | ---: | --- | --- | --- |",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.path} | ${r.protocol} | ${r.mbitPerSec.toFixed(0)} | ${r.range ? r.range.map((x) => x.toFixed(0)).join("–") : ""} | ${r.lossPercent?.toFixed(1) ?? ""} | ${r.retransmits?.toFixed(0) ?? ""} | ` +
        `${r.agentCpu ? r.agentCpu.map((c) => `${(c * 100).toFixed(0)}%`).join(", ") : ""} | ` +
        `${r.packetsPerRead ? r.packetsPerRead.map((p) => (Number.isNaN(p) ? "–" : p.toFixed(1))).join(", ") : ""} | ` +
        `${r.inRuns ? r.inRuns.map((p) => (Number.isNaN(p) ? "–" : `${(p * 100).toFixed(0)}%`)).join(", ") : ""} |`,
    );
  }
  const tcp = (path: string) => rows.find((r) => r.path === path && r.protocol === "tcp")?.mbitPerSec;
  const ratio = (x: number | undefined, y: number | undefined) => (x !== undefined && y !== undefined ? x / y : undefined);
  const cost = ratio(tcp("meshfilter ↔ meshfilter, filter on"), tcp("meshfilter ↔ meshfilter, filter off"));
  if (cost !== undefined) lines.push("", `meshfilter ↔ meshfilter TCP, filtering on relative to off: ${cost >= 1 ? "+" : ""}${(100 * (cost - 1)).toFixed(1)}% (the cost of filtering is the negative of this)`);
  const queues = ratio(tcp(QUEUE_MODES[1].path), tcp(QUEUE_MODES[0].path));
  if (queues !== undefined) lines.push(`meshfilter ↔ meshfilter TCP over ${streams} streams, 2 queues relative to 1: ${queues.toFixed(2)}×`);
  const mixed = ratio(tcp("meshfilter ↔ wireguard-go, filter on"), tcp("wireguard-go ↔ wireguard-go"));
  if (mixed !== undefined) lines.push(`meshfilter ↔ wireguard-go TCP (filter on) relative to wireguard-go ↔ wireguard-go: ${mixed.toFixed(2)}×`);
  const text = lines.join("\n");
  console.log(text);
  mkdirSync(join(REPO, "bench/out"), { recursive: true });
  writeFileSync(join(REPO, "bench/out/iperf.json"), JSON.stringify({ command, seconds, omit, mtu, underlayMtu, batch, rounds, streams, rows, runs }, null, 2) + "\n");
  writeFileSync(join(REPO, "bench/out/iperf.md"), text + "\n");
}

await main();
