// Shadow mode on a real interface: two network namespaces joined by a veth pair, a
// server peer in one and a client peer in the other, real ping and nc traffic, and
// `meshfilter watch` capturing on the server's veth (an Ethernet link) with libpcap.
// The policy lets the client open tcp/8080 only, so the forbidden connections (tcp/2222
// and ping) must be reported and the allowed one must not.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MESHFILTER_BIN, ROOT } from "../support/cli.ts";

const SERVER_NS = `mfw${process.pid}s`;
const CLIENT_NS = `mfw${process.pid}c`;

const POLICY = `format: meshfilter/v1
peers:
  - { name: client, ip: 100.64.0.10, groups: [clients] }
  - { name: server, ip: 100.64.0.20, groups: [servers] }
groups: [clients, servers]
policies:
  - name: web
    action: accept
    protocol: tcp
    ports: [8080]
    sources: [clients]
    destinations: [servers]
`;

function sh(...args: string[]): { ok: boolean; output: string } {
  const r = spawnSync(args[0], args.slice(1), { encoding: "utf8", timeout: 10_000 });
  return { ok: r.status === 0, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

/** Why this test cannot run here, or null when it can. */
function unavailable(): string | null {
  if (process.getuid?.() !== 0) return "needs root for network namespaces and packet capture";
  try {
    createRequire(import.meta.url)("cap");
  } catch (err) {
    return `the libpcap binding "cap" does not load: ${(err as Error).message}`;
  }
  const probe = `mfw${process.pid}p`;
  const added = sh("ip", "netns", "add", probe);
  if (!added.ok) return `ip netns add fails: ${added.output.trim()}`;
  sh("ip", "netns", "del", probe);
  return null;
}

const skipReason = unavailable();
if (skipReason) console.warn(`test/watch skipped: ${skipReason}`);

let dir = "";
let watcher: ChildProcess | undefined;
let server: ChildProcess | undefined;

function setUpNamespaces(): void {
  for (const ns of [SERVER_NS, CLIENT_NS]) {
    if (!sh("ip", "netns", "add", ns).ok) throw new Error(`cannot add namespace ${ns}`);
    sh("ip", "-n", ns, "link", "set", "lo", "up");
  }
  const steps = [
    ["ip", "link", "add", "ws", "netns", SERVER_NS, "type", "veth", "peer", "name", "wc", "netns", CLIENT_NS],
    ["ip", "-n", SERVER_NS, "addr", "add", "100.64.0.20/16", "dev", "ws"],
    ["ip", "-n", CLIENT_NS, "addr", "add", "100.64.0.10/16", "dev", "wc"],
    ["ip", "-n", SERVER_NS, "link", "set", "ws", "up"],
    ["ip", "-n", CLIENT_NS, "link", "set", "wc", "up"],
  ];
  for (const step of steps) {
    const r = sh(...step);
    if (!r.ok) throw new Error(`${step.join(" ")}: ${r.output}`);
  }
}

/** Resolves once `child` has written `text` to the stream, rejects on exit or timeout. */
function waitFor(child: ChildProcess, stream: "stdout" | "stderr", text: string, timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`timed out waiting for "${text}"; got: ${seen}`)), timeoutMs);
    child[stream]!.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before "${text}"; got: ${seen}`));
    });
  });
}

function collect(child: ChildProcess): { stdout: string; stderr: string } {
  const out = { stdout: "", stderr: "" };
  child.stdout!.on("data", (c: Buffer) => (out.stdout += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (out.stderr += c.toString()));
  return out;
}

describe.skipIf(skipReason !== null)("meshfilter watch (shadow mode on a veth)", () => {
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "meshfilter-watch-"));
    writeFileSync(path.join(dir, "policy.yaml"), POLICY);
    setUpNamespaces();
  });

  afterAll(() => {
    watcher?.kill("SIGKILL");
    server?.kill("SIGKILL");
    for (const ns of [SERVER_NS, CLIENT_NS]) sh("ip", "netns", "del", ns);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Resolves once `test` holds, polling; rejects after `timeoutMs`. */
  async function until(test: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    for (const end = Date.now() + timeoutMs; !test(); ) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  // ws is the veth (Ethernet frames); "any" is libpcap's Linux cooked capture of every interface.
  for (const iface of ["ws", "any"]) {
    it(`P3: on ${iface}, reports the forbidden new connections (tcp/2222, ping), not the allowed one (tcp/8080), and exits cleanly on SIGINT`, async () => {
      if (!server) server = spawn("ip", ["netns", "exec", SERVER_NS, "nc", "-lk", "8080"], { stdio: "ignore" });
      const policy = path.join(dir, "policy.yaml");
      watcher = spawn(
        "ip",
        ["netns", "exec", SERVER_NS, process.execPath, MESHFILTER_BIN, "watch", "--iface", iface, "--policy", policy, "--peer", "server", "--interval", "0"],
        { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
      );
      const listening = waitFor(watcher, "stderr", `listening on ${iface}`);
      const output = collect(watcher);
      await listening;
      await until(() => sh("ip", "netns", "exec", SERVER_NS, "ss", "-Hltn", "sport = :8080").output.includes("8080"), "the server");

      // One allowed connection, one forbidden, one ping (forbidden: the policy has no icmp rule).
      expect(sh("ip", "netns", "exec", CLIENT_NS, "nc", "-z", "-w", "2", "100.64.0.20", "8080").ok).toBe(true);
      sh("ip", "netns", "exec", CLIENT_NS, "nc", "-z", "-w", "2", "100.64.0.20", "2222");
      expect(sh("ip", "netns", "exec", CLIENT_NS, "ping", "-n", "-c", "1", "-W", "2", "100.64.0.20").ok).toBe(true);
      await until(() => output.stdout.includes("icmp 100.64.0.10 > 100.64.0.20"), "the ping's drop line");

      const exited = new Promise<number | null>((resolve) => watcher!.on("exit", (code) => resolve(code)));
      watcher.kill("SIGINT");
      expect(await exited).toBe(0);

      const drops = output.stdout.split("\n").filter((l) => l.includes("dropped:"));
      expect(drops.some((l) => / in tcp 100\.64\.0\.10:\d+ > 100\.64\.0\.20:2222 dropped: no-rule$/.test(l))).toBe(true);
      expect(drops.some((l) => / in icmp 100\.64\.0\.10 > 100\.64\.0\.20 type 8 dropped: no-rule$/.test(l))).toBe(true);
      expect(drops.filter((l) => l.includes(":8080"))).toEqual([]);
      // The forbidden tcp/2222 connection is reported once, whatever the SYN retransmissions.
      expect(drops.filter((l) => l.includes(":2222 "))).toHaveLength(1);
      expect(output.stdout).toMatch(/totals: \d+ packets, [1-9]\d* judged, [1-9]\d* accepted, [1-9]\d* dropped/);
    });
  }

  it("an unknown interface: a message naming it, exit 1", () => {
    const r = spawnSync(process.execPath, [MESHFILTER_BIN, "watch", "--iface", `nope${process.pid}`, "--policy", path.join(dir, "policy.yaml"), "--peer", "server"], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`no interface nope${process.pid}`);
  });
});
