// `meshfilter run` options and config file into a PeerAgentConfig.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { engineOptions } from "../../src/agent/peer-agent.ts";
import { parseRunArgs } from "../../src/cli/run.ts";
import { meshfilter } from "../replay/cli.ts";

const dir = mkdtempSync(join(tmpdir(), "mf-run-args-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("meshfilter run options", () => {
  it("takes a NetBird NetworkMap instead of --policy and --peer, and the domain resolver's settings", () => {
    const config = parseRunArgs([
      "--network-map", "network_map.json", "--wireguard", "wg0.conf",
      "--dns-server", "127.0.0.1:5353", "--dns-server", "198.18.1.53", "--dns-min-refresh-ms", "1000", "--dns-max-refresh-ms", "60000",
    ]);
    expect(config).toMatchObject({ policyFile: "network_map.json", networkMap: true, dns: { servers: ["127.0.0.1:5353", "198.18.1.53"], minRefreshMs: 1000, maxRefreshMs: 60000 } });
    expect(() => parseRunArgs(["--network-map", "m.json", "--peer", "db-1", "--wireguard", "wg0.conf"])).toThrow(/give it without --policy and --peer/);
    expect(() => parseRunArgs(["--wireguard", "wg0.conf"])).toThrow(/missing --policy, --peer/);
  });

  it("reads peers, routes and switches from the command line", () => {
    const config = parseRunArgs([
      "--policy", "p.yaml", "--peer", "laptop-alice", "--transport", "plaintext-udp", "--listen", "198.18.0.10:51820",
      "--peer-endpoint", "100.64.0.20=198.18.0.20:51820", "--route", "198.18.1.0/24=100.64.0.40",
      "--mtu", "1380", "--no-filter", "--no-offload", "--metrics", "127.0.0.1:9464",
    ]);
    expect(config).toMatchObject({
      policyFile: "p.yaml",
      peer: "laptop-alice",
      listen: "198.18.0.10:51820",
      peers: [{ overlay: "100.64.0.20", endpoint: "198.18.0.20:51820" }],
      routes: [{ prefix: "198.18.1.0/24", via: "100.64.0.40" }],
      mtu: 1380,
      filter: false,
      offload: false,
      metrics: "127.0.0.1:9464",
      logLevel: "info",
    });
  });

  it("reads the policy loader's limits and the watcher's settle time", () => {
    const config = parseRunArgs([
      "--policy", "p.yaml", "--peer", "db-1", "--transport", "plaintext-udp", "--listen", "198.18.0.20:51820",
      "--policy-memory-mb", "256", "--policy-timeout-ms", "5000", "--policy-settle-ms", "500",
    ]);
    expect(config).toMatchObject({ policyMemoryMb: 256, policyTimeoutMs: 5000, policySettleMs: 500 });
    expect(() => parseRunArgs(["--policy", "p.yaml", "--peer", "db-1", "--transport", "plaintext-udp", "--listen", "x:1", "--policy-memory-mb", "lots"])).toThrow(/--policy-memory-mb/);
  });

  it("takes a config file, with command-line options winning and lists adding up", () => {
    const file = join(dir, "agent.yaml");
    writeFileSync(file, "policyFile: a.yaml\npeer: db-1\nlisten: 198.18.0.20:51820\nmtu: 1400\npeers:\n  - { overlay: 100.64.0.10, endpoint: 198.18.0.10:51820 }\n");
    const config = parseRunArgs(["--config", file, "--transport", "plaintext-udp", "--mtu", "1300", "--peer-endpoint", "100.64.0.30=198.18.0.30:51820"]);
    expect(config.mtu).toBe(1300);
    expect(config.peer).toBe("db-1");
    expect(config.peers!.map((p) => p.overlay)).toEqual(["100.64.0.10", "100.64.0.30"]);
  });

  it("runs over WireGuard unless the plaintext UDP test transport is named", () => {
    expect(parseRunArgs(["--policy", "p.yaml", "--peer", "db-1", "--wireguard", "wg0.conf"])).toMatchObject({ wireguard: "wg0.conf" });
    expect(() => parseRunArgs(["--policy", "p.yaml", "--peer", "db-1"])).toThrow(/missing --wireguard/);
    expect(() => parseRunArgs(["--policy", "p.yaml", "--peer", "db-1", "--listen", "198.18.0.20:51820"])).toThrow(
      /belong to the plaintext UDP test transport: name it with --transport plaintext-udp/,
    );
    expect(() => parseRunArgs(["--policy", "p.yaml", "--peer", "db-1", "--transport", "udp"])).toThrow(/--transport "udp": expected wireguard or plaintext-udp/);
  });

  it("names what is wrong: a missing option, a bad pair, a bad config key", () => {
    expect(() => parseRunArgs(["--peer", "x"])).toThrow(/missing --policy, --wireguard/);
    expect(() => parseRunArgs(["--policy", "p", "--peer", "x", "--transport", "plaintext-udp", "--listen", "1.2.3.4:5", "--peer-endpoint", "100.64.0.20"])).toThrow(
      /--peer-endpoint "100.64.0.20": expected OVERLAY_IP=ADDR:PORT/,
    );
    expect(() => parseRunArgs(["--policy", "p", "--peer", "x", "--transport", "plaintext-udp", "--listen", "1.2.3.4:5", "--mtu", "big"])).toThrow(/--mtu "big"/);
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "policyFile: a.yaml\nmtu: 10\nlisen: x\n");
    expect(() => parseRunArgs(["--config", file])).toThrow(/invalid config file .*bad\.yaml[\s\S]*mtu[\s\S]*lisen/);
  });

  it("reads the table, timeouts, loose pickup, bidirectional flag, egress, control socket, flow log and log settings", () => {
    const config = parseRunArgs([
      "--policy", "p.yaml", "--peer", "db-1", "--wireguard", "wg0.conf",
      "--conntrack-capacity", "131072", "--timeout", "tcpEstablished=7200", "--timeout", "udpUnreplied=10",
      "--loose-tcp", "--honour-bidirectional", "--egress", "--control", "/tmp/x.sock", "--control-group", "meshfilter",
      "--flow-log", "-", "--flow-log-window-ms", "5000", "--log-level", "debug", "--log-format", "json",
    ]);
    expect(config).toMatchObject({
      conntrackCapacity: 131072, timeouts: { tcpEstablished: 7200, udpUnreplied: 10 }, looseTcp: true, honourBidirectional: true, egress: true,
      control: "/tmp/x.sock", controlGroup: "meshfilter", flowLog: "-", flowLogWindowMs: 5000, logLevel: "debug", logFormat: "json",
    });
    expect(engineOptions(config)).toEqual({ egress: true, looseTcp: true, conntrack: { capacity: 131072, timeouts: { tcpEstablished: 7_200_000, udpUnreplied: 10_000 } } });
    expect(parseRunArgs(["--policy", "p", "--peer", "x", "--wireguard", "wg0.conf", "--no-control"]).control).toBe("");
    expect(() => parseRunArgs(["--policy", "p", "--peer", "x", "--wireguard", "wg0.conf", "--timeout", "tcpForever=1"])).toThrow(/--timeout "tcpForever=1": tcpForever is not one of tcpSynSent/);
    expect(() => parseRunArgs(["--policy", "p", "--peer", "x", "--wireguard", "wg0.conf", "--log-level", "loud"])).toThrow(/--log-level "loud"/);
    expect(() => parseRunArgs(["--policy", "p", "--peer", "x", "--wireguard", "wg0.conf", "--log-format", "xml"])).toThrow(/--log-format "xml"/);
  });

  it("takes the same settings from a YAML config file, and names each bad one with its line", () => {
    const file = join(dir, "full.yaml");
    writeFileSync(file, ["policyFile: a.yaml", "peer: db-1", "wireguard: wg0.conf", "conntrackCapacity: 4096", "timeouts:", "  tcpEstablished: 600", "looseTcp: true", "honourBidirectional: true", "egress: true", "logLevel: warn", "logFormat: text", "control: /tmp/y.sock", ""].join("\n"));
    expect(parseRunArgs(["--config", file])).toMatchObject({ conntrackCapacity: 4096, timeouts: { tcpEstablished: 600 }, looseTcp: true, honourBidirectional: true, egress: true, logLevel: "warn", logFormat: "text", control: "/tmp/y.sock" });
    const bad = join(dir, "bad-lines.yaml");
    writeFileSync(bad, ["policyFile: a.yaml", "conntrackCapacity: lots", "timeouts:", "  tcpForever: 5", "logLevel: loud", ""].join("\n"));
    let message = "";
    try {
      parseRunArgs(["--config", bad]);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(`${bad}:2: $.conntrackCapacity:`);
    expect(message).toContain(`${bad}:4: $.timeouts:`);
    expect(message).toContain(`${bad}:5: $.logLevel:`);
    const broken = join(dir, "broken.yaml");
    writeFileSync(broken, "peer: [unclosed\n");
    expect(() => parseRunArgs(["--config", broken])).toThrow(new RegExp(`^invalid config file ${broken}:\\d+: `));
    expect(() => parseRunArgs(["--config", join(dir, "absent.yaml")])).toThrow(/^cannot read config file .*absent\.yaml: no such file or directory \(ENOENT\)$/);
  });

  it("--queues: a whole number from 1 to the kernel's 256 (drivers/net/tun.c MAX_TAP_QUEUES), else a one-line usage error, exit 2", () => {
    const base = ["--policy", "p.yaml", "--peer", "db-1", "--wireguard", "wg0.conf"];
    expect(parseRunArgs([...base, "--queues", "2"]).queues).toBe(2);
    expect(parseRunArgs(base).queues).toBeUndefined();
    const file = join(dir, "queues.yaml");
    writeFileSync(file, "queues: 300\n");
    expect(() => parseRunArgs([...base, "--config", file])).toThrow(new RegExp(`${file}:1: \\$\\.queues:`));
    for (const bad of ["0", "1.5", "257", "two"]) {
      const r = meshfilter("run", ...base, "--queues", bad);
      // The error's line, then the usage hint every usage error ends with.
      expect(r.stderr).toBe(`meshfilter run: --queues "${bad}": expected a whole number from 1 to 256 (the kernel's limit of queues per TUN device)\ntry 'meshfilter run --help'\n`);
      expect(r.status).toBe(2);
    }
  });

  it("--flow-log needs one queue", () => {
    expect(() => parseRunArgs(["--policy", "p.yaml", "--peer", "db-1", "--wireguard", "w.conf", "--queues", "2", "--flow-log", "-"])).toThrow(/--flow-log needs one queue/);
  });
});
