// The WireGuard transport against an implementation nobody here wrote: Debian's
// wireguard-go, configured with wg, in network namespaces joined by an underlay bridge.
// `meshfilter run --wireguard` in one namespace, wireguard-go in another; real ping,
// nc, iperf3 traffic through both. Then the attacks: a peer with a key we do not know,
// replayed transport messages, an inner source outside AllowedIPs, a roaming endpoint, a
// handshake flood; and rekeying with shortened timers.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCapture } from "../../src/io/capture.ts";
import { formatKey, generatePrivateKey, publicKeyOf } from "../../src/wireguard/keys.ts";
import { Lab, labUnavailableReason, waitListening, type LabPeer } from "../e2e/lab.ts";
import { WireGuardGo, wgConfigText, wireguardGoUnavailableReason } from "./wireguard-go.ts";

const inCi = process.env.CI === "true";
const unavailable = labUnavailableReason() || wireguardGoUnavailableReason();
if (unavailable && !inCi) console.warn(`test/wireguard: skipping the wireguard-go interop tests: ${unavailable}`);

const mf: LabPeer = { role: "mf", peer: "mf", overlay: "100.64.0.10", underlay: "198.18.0.10" };
const wg: LabPeer = { role: "wg", peer: "wg", overlay: "100.64.0.20", underlay: "198.18.0.20" };
const rogue: LabPeer = { role: "rogue", peer: "rogue", overlay: "100.64.0.30", underlay: "198.18.0.30" };
const PORT = 51820;

const POLICY = `format: meshfilter/v1
groups: [all]
peers:
  - { name: mf, ip: 100.64.0.10, groups: [all] }
  - { name: wg, ip: 100.64.0.20, groups: [all] }
policies:
  - { name: all, protocol: all, sources: [all], destinations: [all], bidirectional: true }
`;

function key(): { privateKey: string; publicKey: string } {
  const privateKey = generatePrivateKey();
  return { privateKey: formatKey(privateKey), publicKey: formatKey(publicKeyOf(privateKey)) };
}

describe.skipIf(unavailable !== "" && !inCi)("the WireGuard transport against wireguard-go", () => {
  let lab: Lab;
  let dir: string;
  let wgo: WireGuardGo;
  const mfKey = key();
  const wgKey = key();
  let agentLog: () => string;

  const wgSideConfig = () => wgConfigText(wgKey.privateKey, PORT, [{ publicKey: mfKey.publicKey, allowedIps: [`${mf.overlay}/32`], endpoint: `${mf.underlay}:${PORT}` }]);

  async function startAgent(): Promise<void> {
    const wgFile = join(dir, "mf.conf");
    writeFileSync(
      wgFile,
      wgConfigText(mfKey.privateKey, PORT, [{ publicKey: wgKey.publicKey, allowedIps: [`${wg.overlay}/32`], endpoint: `${wg.underlay}:${PORT}` }], [`Address = ${mf.overlay}/16`]),
    );
    const configFile = join(dir, "agent.yaml");
    // Rekeying every 3 s instead of 120 s: several rekeys happen while the tests run.
    writeFileSync(configFile, "wireguardTimers: { rekeyAfterTime: 3000 }\nwireguardHandshakesBeforeCookies: 20\n");
    const policyFile = join(dir, "policy.yaml");
    writeFileSync(policyFile, POLICY);
    const agent = await lab.startAgent(mf, [
      "--config", configFile, "--policy", policyFile, "--peer", "mf", "--tun", "mf0", "--wireguard", wgFile, "--metrics", "127.0.0.1:9464",
    ]);
    agentLog = agent.log;
  }

  /** The agent's WireGuard counters from its metrics endpoint. */
  function wgCounters(): Record<string, number> {
    const text = lab.exec("mf", ["curl", "-sS", "http://127.0.0.1:9464/metrics"]).stdout;
    const out: Record<string, number> = {};
    for (const m of text.matchAll(/^meshfilter_wireguard_events_total\{event="([a-z-]+)"\} (\d+)/gm)) out[m[1]] = Number(m[2]);
    const written = /^meshfilter_tun_packets_total\{direction="written"\} (\d+)/m.exec(text);
    out["tun-written"] = written ? Number(written[1]) : 0;
    return out;
  }

  /** Waits (letting the agent's log stream in) until the log after `since` matches `pattern`. */
  async function logShows(pattern: RegExp, since = 0, timeoutMs = 5000): Promise<string> {
    const end = Date.now() + timeoutMs;
    while (!pattern.test(agentLog().slice(since)) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    return agentLog().slice(since);
  }

  function pings(role: string, host: string, extra: string[] = []): boolean {
    return lab.exec(role, ["ping", "-c", "1", "-W", "2", ...extra, host]).status === 0;
  }

  beforeAll(async () => {
    if (unavailable) return;
    dir = mkdtempSync(join(tmpdir(), "mf-wg-"));
    lab = new Lab();
    lab.buildUnderlay([mf, wg, rogue]);
    wgo = new WireGuardGo(lab, "wg", dir);
    await wgo.start(wgSideConfig(), `${wg.overlay}/16`);
    await startAgent();
  }, 60_000);

  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("runs here (under CI the kernel and wireguard-go must be there)", () => {
    expect(unavailable).toBe("");
  });

  it("prints its public key at start", async () => {
    expect(await logShows(/public key: /)).toContain(`public key: ${mfKey.publicKey}\n`);
  });

  it("meshfilter initiates the handshake; ping works both ways", async () => {
    expect(pings("mf", wg.overlay)).toBe(true);
    expect(await logShows(/"initiator":true,"msg":"wireguard handshake complete"/)).toMatch(/"initiator":true,"msg":"wireguard handshake complete"/);
    expect(pings("wg", mf.overlay)).toBe(true);
    const [peer] = wgo.peers();
    expect(peer.publicKey).toBe(mfKey.publicKey);
    expect(peer.latestHandshake).toBeGreaterThan(0);
  });

  it("TCP and UDP carry data both ways", async () => {
    const server = lab.spawn("wg", ["nc", "-l", "7000"]);
    let received = "";
    server.stdout!.on("data", (d: Buffer) => (received += d.toString()));
    await waitListening(lab, "wg", 7000);
    const client = await lab.execAsync("mf", ["sh", "-c", `(echo over-wireguard; sleep 1) | nc -q 0 -w 5 ${wg.overlay} 7000`]);
    expect(client.status).toBe(0);
    expect(received.trim()).toBe("over-wireguard");
    server.kill();

    const udpServer = lab.spawn("mf", ["nc", "-u", "-l", "7001"]);
    let udpReceived = "";
    udpServer.stdout!.on("data", (d: Buffer) => (udpReceived += d.toString()));
    await new Promise((r) => setTimeout(r, 300));
    await lab.execAsync("wg", ["sh", "-c", `echo datagram | nc -u -q 1 -w 2 ${mf.overlay} 7001`]);
    await new Promise((r) => setTimeout(r, 300));
    expect(udpReceived.trim()).toBe("datagram");
    udpServer.kill();
  });

  it("iperf3 TCP runs both ways, and rekeys (every 3 s here) do not interrupt it", async () => {
    for (const [server, client, host] of [
      ["wg", "mf", wg.overlay],
      ["mf", "wg", mf.overlay],
    ] as const) {
      const s = lab.spawn(server, ["iperf3", "-s", "-1", "-p", "5201"]);
      await waitListening(lab, server, 5201);
      const r = await lab.execAsync(client, ["iperf3", "-c", host, "-p", "5201", "-t", "5", "-J"], { timeoutMs: 30_000 });
      s.kill();
      expect(r.status).toBe(0);
      const result = JSON.parse(r.stdout) as { end: { sum_received: { bytes: number } } };
      expect(result.end.sum_received.bytes).toBeGreaterThan(1_000_000);
    }
    // The first handshake, then one about every 3 s of the 10 s of traffic.
    expect(wgCounters()["handshakes-completed"]).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it("wireguard-go initiates the handshake (a restarted wireguard-go, no session yet)", async () => {
    await wgo.stop();
    wgo = new WireGuardGo(lab, "wg", dir);
    await wgo.start(wgSideConfig(), `${wg.overlay}/16`);
    const since = agentLog().length;
    expect(pings("wg", mf.overlay)).toBe(true);
    const pattern = /"initiator":false,"msg":"wireguard handshake complete"/;
    expect(await logShows(pattern, since)).toMatch(pattern);
  }, 30_000);

  it("a packet whose inner source lies outside the peer's AllowedIPs is dropped and counted", () => {
    lab.exec("wg", ["ip", "addr", "add", "100.64.0.99/32", "dev", wgo.iface]);
    const before = wgCounters()["allowed-ips-mismatch"] ?? 0;
    expect(pings("wg", mf.overlay, ["-I", "100.64.0.99"])).toBe(false);
    expect(wgCounters()["allowed-ips-mismatch"]).toBeGreaterThan(before);
    expect(pings("wg", mf.overlay)).toBe(true);
  });

  it("replayed transport messages are dropped and counted, never delivered", async () => {
    const pcap = join(dir, "replay.pcap");
    const capture = lab.spawn("wg", ["tcpdump", "--immediate-mode", "-i", "eth0", "-U", "-w", pcap, "udp", "and", "dst", "port", String(PORT), "and", "dst", "host", mf.underlay]);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("tcpdump did not start")), 10_000);
      capture.stderr!.on("data", (d: Buffer) => {
        if (d.toString().includes("listening on")) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    expect(lab.exec("wg", ["ping", "-c", "3", "-i", "0.2", "-W", "2", mf.overlay]).status).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    capture.kill("SIGINT");
    await new Promise((r) => capture.once("exit", r));
    // The UDP payloads of the transport messages (type 4) the capture saw.
    const captured = [...readCapture(pcap)];
    const messages = captured.map((p) => p.ip.subarray(28)).filter((m) => m[0] === 4);
    expect(messages.length).toBeGreaterThan(0);
    const before = wgCounters();
    const r = lab.exec("rogue", [process.execPath, "--import", "tsx", "test/wireguard/underlay-tool.ts", "resend", `${mf.underlay}:${PORT}`, ...messages.map((m) => Buffer.from(m).toString("hex"))]);
    expect(r.stderr).toBe("");
    await new Promise((res) => setTimeout(res, 300));
    const after = wgCounters();
    // Each replay is refused by the window, or (if two rekeys, 3 s apart here, retired its
    // keys meanwhile) as naming a session that no longer exists; none reaches the TUN.
    const replayed = (after.replayed ?? 0) - (before.replayed ?? 0);
    const unknown = (after["unknown-receiver"] ?? 0) - (before["unknown-receiver"] ?? 0);
    expect(replayed).toBeGreaterThan(0);
    expect(replayed + unknown).toBe(messages.length);
    expect(after["tun-written"]).toBe(before["tun-written"]);
  }, 30_000);

  it("a peer whose key the agent does not know gets no handshake and no traffic through", async () => {
    // wireguard-go in the rogue namespace knows the agent's public key but has a key of its own the agent was never told.
    const rogueKey = key();
    const rogueGo = new WireGuardGo(lab, "rogue", dir);
    await rogueGo.start(
      wgConfigText(rogueKey.privateKey, PORT, [{ publicKey: mfKey.publicKey, allowedIps: [`${mf.overlay}/32`], endpoint: `${mf.underlay}:${PORT}` }]),
      `${rogue.overlay}/16`,
    );
    const before = wgCounters()["handshakes-rejected"] ?? 0;
    expect(pings("rogue", mf.overlay)).toBe(false);
    expect(wgCounters()["handshakes-rejected"]).toBeGreaterThan(before);
    expect(rogueGo.peers()[0].latestHandshake).toBe(0);
    await rogueGo.stop();
  }, 30_000);

  it("a roaming peer: when wireguard-go's underlay endpoint changes (it rebinds to another port, as behind a NAT), the agent follows it", async () => {
    const since = agentLog().length;
    lab.exec("wg", ["wg", "set", wgo.iface, "listen-port", String(PORT + 1)]);
    expect(pings("wg", mf.overlay)).toBe(true);
    const pattern = new RegExp(`"endpoint":"198\\.18\\.0\\.20:${PORT + 1}","msg":"wireguard peer endpoint changed"`);
    expect(await logShows(pattern, since)).toMatch(pattern);
    // The agent's own packets go to the new endpoint too.
    expect(pings("mf", wg.overlay)).toBe(true);
  }, 30_000);

  it("a handshake flood is answered with cookie replies, and the established peer keeps working", async () => {
    const flood = lab.execAsync("rogue", [process.execPath, "--import", "tsx", "test/wireguard/underlay-tool.ts", "flood", mfKey.publicKey, `${mf.underlay}:${PORT}`, "400"], {
      timeoutMs: 60_000,
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(pings("wg", mf.overlay)).toBe(true);
    const result = await flood;
    expect(result.stderr).toBe("");
    const { sent, cookieReplies } = JSON.parse(result.stdout) as { sent: number; cookieReplies: number };
    expect(sent).toBe(400);
    expect(cookieReplies).toBeGreaterThan(0);
    // Some replies may be lost in the flooder's socket buffer; none is made up.
    expect(wgCounters()["cookie-replies-sent"]).toBeGreaterThanOrEqual(cookieReplies);
    expect(pings("mf", wg.overlay)).toBe(true);
  }, 90_000);
});
