// End to end: four peers and a LAN host in network namespaces, each peer running
// `meshfilter run`, traffic from real tools (nc, ping, curl), policy from POLICY.md's
// seed patterns. Holds the agent to P3, P5, P6, P7 and P14.

import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Lab, labUnavailableReason, waitListening, type AgentHandle, type LabPeer } from "./lab.ts";
import { BAD_POLICY_YAML, meshPolicyYaml } from "./mesh-policy.ts";

const unavailable = labUnavailableReason();
if (unavailable) console.warn(`test/e2e: skipping the mesh tests: ${unavailable}`);

const laptop: LabPeer = { role: "laptop", peer: "laptop-alice", overlay: "100.64.0.10", underlay: "198.18.0.10" };
const db: LabPeer = { role: "db", peer: "db-1", overlay: "100.64.0.20", underlay: "198.18.0.20" };
const web: LabPeer = { role: "web", peer: "web-1", overlay: "100.64.0.30", underlay: "198.18.0.30" };
const router: LabPeer = { role: "router", peer: "router-1", overlay: "100.64.0.40", underlay: "198.18.0.40" };
const peers = [laptop, db, web, router];
const LAN_HOST = "198.18.1.10";
const PORT = 51820;

describe.skipIf(unavailable !== "")("mesh of meshfilter agents in network namespaces", () => {
  let lab: Lab;
  let dir: string;
  let policyFile: string;
  const agents: Record<string, AgentHandle> = {};

  function agentArgs(self: LabPeer): string[] {
    const args = ["--policy", policyFile, "--peer", self.peer, "--tun", "mf0", "--listen", `${self.underlay}:${PORT}`, "--metrics", "127.0.0.1:9464"];
    for (const other of peers) if (other !== self) args.push("--peer-endpoint", `${other.overlay}=${other.underlay}:${PORT}`);
    if (self !== router) args.push("--route", `198.18.1.0/24=${router.overlay}`);
    if (self === laptop) args.push("--flow-log", join(dir, "laptop-flows.ndjson"));
    return args;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "mf-e2e-"));
    policyFile = join(dir, "policy.yaml");
    writeFileSync(policyFile, meshPolicyYaml({ dbAccess: true }));
    lab = new Lab();
    lab.buildUnderlay(peers);
    lab.addLan("router", "lan", "198.18.1.1/24", `${LAN_HOST}/24`);
    const started = await Promise.all(peers.map((p) => lab.startAgent(p, agentArgs(p))));
    for (const a of started) agents[a.peer.role] = a;
  }, 90_000);

  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A one-shot server: answers `reply` once it has received a line, and keeps what it received. */
  async function serveOnce(role: string, port: number, reply: string) {
    const server = lab.spawn(role, ["nc", "-l", String(port)]);
    let received = "";
    server.stdout!.on("data", (d: Buffer) => {
      const first = received === "";
      received += d.toString();
      if (first) server.stdin!.write(`${reply}\n`, () => {});
    });
    await waitListening(lab, role, port);
    return { received: () => received, stop: () => server.kill() };
  }

  function tcpConnects(role: string, host: string, port: number): boolean {
    return lab.exec(role, ["nc", "-z", "-w", "2", host, String(port)]).status === 0;
  }

  function pings(role: string, host: string): boolean {
    return lab.exec(role, ["ping", "-c", "1", "-W", "2", host]).status === 0;
  }

  it("P7: the laptop connects to the database on tcp/5432 and gets replies", async () => {
    const server = await serveOnce("db", 5432, "pong");
    // The client keeps its side open 2 s after sending (nc would send FIN at the end of its input), for the reply.
    const client = await lab.execAsync("laptop", ["sh", "-c", `(echo ping; sleep 2) | nc -q 0 -w 5 ${db.overlay} 5432`]);
    expect(server.received().trim()).toBe("ping");
    expect(client.stdout.trim()).toBe("pong");
    server.stop();
  });

  it("P3: the database cannot open a connection to the laptop, on the rule's port or any other", async () => {
    const listener = lab.spawn("laptop", ["nc", "-lk", "5432"]);
    await waitListening(lab, "laptop", 5432);
    expect(tcpConnects("db", laptop.overlay, 5432)).toBe(false);
    expect(tcpConnects("web", laptop.overlay, 5432)).toBe(false);
    listener.kill();
  });

  it("P5: ping works only where an icmp or all rule allows it (in both directions of the icmp rule)", () => {
    expect(pings("laptop", web.overlay)).toBe(true);
    expect(pings("web", laptop.overlay)).toBe(true); // ICMP rules are always bidirectional
    expect(pings("laptop", db.overlay)).toBe(false); // only tcp/5432 towards db
    expect(pings("db", web.overlay)).toBe(false);
  });

  it("P6: the resource subnet behind the routing peer is reachable from allowed peers and cannot reach back", async () => {
    expect(pings("laptop", LAN_HOST)).toBe(true);
    const server = await serveOnce("lan", 8000, "hello-from-lan");
    const client = await lab.execAsync("laptop", ["sh", "-c", `(echo hi; sleep 2) | nc -q 0 -w 5 ${LAN_HOST} 8000`]);
    expect(client.stdout.trim()).toBe("hello-from-lan");
    server.stop();
    // web-1 is not in engineering; the LAN host may not initiate towards the mesh.
    expect(pings("web", LAN_HOST)).toBe(false);
    expect(pings("lan", laptop.overlay)).toBe(false);
    const listener = lab.spawn("laptop", ["nc", "-lk", "2222"]);
    await waitListening(lab, "laptop", 2222);
    expect(tcpConnects("lan", laptop.overlay, 2222)).toBe(false);
    listener.kill();
  });

  /** Serves `bytes` random bytes over HTTP from `role`, downloads them with curl on the laptop, returns both sha256s. */
  async function download(role: string, host: string, port: number, bytes: number): Promise<[string, string]> {
    const file = join(dir, `${role}.bin`);
    const data = randomBytes(bytes);
    writeFileSync(file, data);
    const server = lab.spawn(role, [
      process.execPath,
      "-e",
      `require("http").createServer((q,s)=>require("fs").createReadStream(${JSON.stringify(file)}).pipe(s)).listen(${port},"0.0.0.0")`,
    ]);
    await waitListening(lab, role, port);
    const out = join(dir, `${role}-downloaded.bin`);
    const r = lab.exec("laptop", ["curl", "-sS", "--max-time", "60", "-o", out, `http://${host}:${port}/file.bin`], { timeoutMs: 70_000 });
    server.kill();
    expect(r.stderr).toBe("");
    const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
    return [sha(readFileSync(out)), sha(data)];
  }

  it("a large download over HTTP arrives byte-identical (sha256)", async () => {
    const [got, sent] = await download("web", web.overlay, 8080, 24 * 1024 * 1024);
    expect(got).toBe(sent);
    // db-1 is not allowed to fetch from web-1.
    expect(tcpConnects("db", web.overlay, 8080)).toBe(false);
  }, 90_000);

  it("P6: a large download from the resource subnet, forwarded by the routing peer, arrives byte-identical", async () => {
    const [got, sent] = await download("lan", LAN_HOST, 8081, 8 * 1024 * 1024);
    expect(got).toBe(sent);
  }, 90_000);

  it("meshfilter stats reads a running agent's counters, and the flow log has NDJSON events", () => {
    const text = lab.exec("db", [process.execPath, "--import", "tsx", "src/cli/main.ts", "stats"]);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/packets by reason:/);
    expect(text.stdout).toMatch(/engineering-to-db\S*\s+hits\s+[1-9]/);
    const json = lab.exec("db", [process.execPath, "--import", "tsx", "src/cli/main.ts", "stats", "--json"]);
    const samples = JSON.parse(json.stdout) as { name: string; labels: Record<string, string>; value: number }[];
    const drops = samples.filter((s) => s.name === "meshfilter_dropped_total" && s.labels.direction === "inbound");
    expect(drops[0].value).toBeGreaterThan(0); // the refused pings and connections above
    const flows = readFileSync(join(dir, "laptop-flows.ndjson"), "utf8").trim().split("\n");
    expect(flows.length).toBeGreaterThan(0);
    for (const line of flows) expect(() => JSON.parse(line)).not.toThrow();
  });

  it("P14: a bad policy file changes nothing; revoking access cuts an open nc session", async () => {
    const dbAgent = agents.db;
    const received: string[] = [];
    const server = lab.spawn("db", ["nc", "-lk", "5432"]);
    server.stdout!.on("data", (d: Buffer) => received.push(d.toString()));
    await waitListening(lab, "db", 5432);
    const client = lab.spawn("laptop", ["nc", db.overlay, "5432"]);
    const arrived = async (line: string, withinMs: number) => {
      const end = Date.now() + withinMs;
      while (Date.now() < end) {
        if (received.join("").includes(line)) return true;
        await new Promise((r) => setTimeout(r, 50));
      }
      return false;
    };
    client.stdin!.write("one\n");
    expect(await arrived("one", 5000)).toBe(true);

    let mark = dbAgent.log().length;
    writeFileSync(policyFile, BAD_POLICY_YAML);
    const rejected = await dbAgent.waitForLog("policy rejected; the previous policy stays in force", mark);
    expect(rejected).toContain("tcpp");
    client.stdin!.write("two\n");
    expect(await arrived("two", 5000)).toBe(true);
    expect(tcpConnects("web", db.overlay, 5432)).toBe(false); // still the old policy, not an open one

    mark = dbAgent.log().length;
    writeFileSync(policyFile, meshPolicyYaml({ dbAccess: false }));
    const applied = await dbAgent.waitForLog("policy applied", mark);
    expect(JSON.parse(applied).flowsCut).toBeGreaterThanOrEqual(1);
    client.stdin!.write("three\n");
    expect(await arrived("three", 2000)).toBe(false);
    expect(tcpConnects("laptop", db.overlay, 5432)).toBe(false);
    // Access that the new policy keeps still works.
    expect(pings("laptop", web.overlay)).toBe(true);
    client.kill();
    server.kill();
  }, 60_000);

  it("agents shut down cleanly on SIGTERM and remove their TUN device", async () => {
    for (const p of peers) {
      expect(await lab.stopAgent(p.role)).toBe(0);
      expect(lab.exec(p.role, ["ip", "link", "show", "mf0"]).status).not.toBe(0);
    }
  });
});
