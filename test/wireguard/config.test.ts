// WireGuard configuration files as `wg setconf` and wg-quick write them, and the one-line
// errors naming the file and line of what is wrong.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseWireGuardConfig, readWireGuardConfig } from "../../src/wireguard/config.ts";
import { formatKey, generatePresharedKey, generatePrivateKey, publicKeyOf } from "../../src/wireguard/keys.ts";
import { AllowedIps } from "../../src/wireguard/allowed-ips.ts";
import { parseCidr, parseIpv4 } from "../../src/packet/address.ts";
import { spawnSync } from "node:child_process";
import { MESHFILTER_BIN, ROOT } from "../support/cli.ts";

const priv = generatePrivateKey();
const peerKey = formatKey(publicKeyOf(generatePrivateKey()));
const psk = formatKey(generatePresharedKey());
const dir = mkdtempSync(join(tmpdir(), "mf-wgconf-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("WireGuard configuration", () => {
  it("reads a wg-quick file: keys, port, addresses, MTU, peers with every field", () => {
    const config = parseWireGuardConfig(
      `# laptop
[Interface]
PrivateKey = ${formatKey(priv)}
ListenPort = 51820
Address = 100.64.0.10/16, fd00::10/64
MTU = 1380

[Peer]
PublicKey = ${peerKey}   # db-1
PresharedKey = ${psk}
AllowedIPs = 100.64.0.20/32,198.18.1.0/24
Endpoint = 198.18.0.20:51820
PersistentKeepalive = 25
`,
      "wg0.conf",
    );
    expect(config.publicKey).toEqual(publicKeyOf(priv));
    expect(config.listenPort).toBe(51820);
    expect(config.mtu).toBe(1380);
    expect(config.addresses.map((a) => a.prefixLength)).toEqual([16, 64]);
    expect(config.peers).toHaveLength(1);
    const [peer] = config.peers;
    expect(formatKey(peer.publicKey)).toBe(peerKey);
    expect(formatKey(peer.presharedKey!)).toBe(psk);
    expect(peer.allowedIps.map((p) => p.prefixLength)).toEqual([32, 24]);
    expect(peer.endpoint).toEqual({ address: "198.18.0.20", port: 51820 });
    expect(peer.persistentKeepalive).toBe(25);
  });

  it("a peer without Endpoint waits to be reached; keys are case-insensitive as in wg", () => {
    const config = parseWireGuardConfig(`[interface]\nprivatekey=${formatKey(priv)}\n[peer]\npublickey=${peerKey}\nallowedips=100.64.0.0/16\n`, "x");
    expect(config.listenPort).toBe(0);
    expect(config.peers[0].endpoint).toBeNull();
    expect(config.peers[0].presharedKey).toBeNull();
  });

  it("names the file and line of each problem", () => {
    const base = `[Interface]\nPrivateKey = ${formatKey(priv)}\n`;
    const cases: [string, RegExp][] = [
      [`${base}ListenPort = 70000\n`, /^wg0\.conf:3: \[Interface\] ListenPort: "70000" is not an integer from 0 to 65535$/],
      [`${base}[Peer]\nPublicKey = nope\n`, /^wg0\.conf:4: \[Peer\] PublicKey: not a WireGuard key/],
      [`${base}[Peer]\nPublicKey = ${peerKey}\nEndpoint = db.example:51820\n`, /^wg0\.conf:5: \[Peer\] Endpoint: "db\.example:51820" is not IPv4:port \(host names/],
      [`${base}[Peer]\nPublicKey = ${peerKey}\nAllowedIPs = 10.0.0.0/33\n`, /^wg0\.conf:5: \[Peer\] AllowedIPs: .*33/],
      [`${base}PostUp = iptables -A FORWARD\n`, /^wg0\.conf:3: \[Interface\] PostUp: wg-quick's PostUp configures the host; meshfilter does not run it$/],
      [`${base}Colour = blue\n`, /^wg0\.conf:3: \[Interface\] Colour: unknown key$/],
      [`${base}[Peer]\nAllowedIPs = 10.0.0.0/8\n`, /^wg0\.conf:3: \[Peer\] has no PublicKey$/],
      [`PrivateKey = x\n`, /^wg0\.conf:1: \[Interface\] PrivateKey: outside any section/],
      [`[Interface]\nListenPort = 1\n`, /^wg0\.conf: no \[Interface\] PrivateKey$/],
      [`${base}[Peer]\nPublicKey = ${peerKey}\n[Peer]\nPublicKey = ${peerKey}\n`, /^wg0\.conf: \[Peer\] 2 repeats the PublicKey of \[Peer\] 1$/],
      [`${base}[Peer]\nPublicKey = ${formatKey(publicKeyOf(priv))}\n`, /^wg0\.conf: \[Peer\] 1 has this interface's own public key$/],
      [`${base}[Tunnel]\n`, /^wg0\.conf:3: unknown section \[Tunnel\]/],
    ];
    for (const [text, error] of cases) expect(() => parseWireGuardConfig(text, "wg0.conf")).toThrow(error);
  });

  it("an unreadable file is named with the OS reason", () => {
    expect(() => readWireGuardConfig(join(dir, "missing.conf"))).toThrow(/^cannot read WireGuard configuration .*missing\.conf: no such file or directory \(ENOENT\)$/);
    const file = join(dir, "ok.conf");
    writeFileSync(file, `[Interface]\nPrivateKey = ${formatKey(priv)}\n`);
    expect(readWireGuardConfig(file).peers).toEqual([]);
  });
});

describe("meshfilter run with a bad WireGuard configuration", () => {
  it("exits 2 with one line naming the file and line, before opening any device", () => {
    const file = join(dir, "bad.conf");
    writeFileSync(file, "[Interface]\nPrivateKey = abc\n");
    for (const [path, message] of [
      [file, `meshfilter run: ${file}:2: [Interface] PrivateKey: not a WireGuard key`],
      [join(dir, "none.conf"), `meshfilter run: cannot read WireGuard configuration ${join(dir, "none.conf")}: no such file or directory (ENOENT)`],
    ]) {
      const r = spawnSync(process.execPath, [MESHFILTER_BIN, "run", "--policy", "examples/restrictive.yaml", "--peer", "db-1", "--wireguard", path], {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain(message);
    }
  }, 120_000);
});

describe("cryptokey routing (AllowedIps)", () => {
  const table = new AllowedIps([
    [parseCidr("100.64.0.20/32"), parseCidr("10.0.0.0/8")],
    [parseCidr("100.64.0.30/32"), parseCidr("10.1.0.0/16"), parseCidr("fd00::/8")],
    [parseCidr("0.0.0.0/0")],
    [parseCidr("10.0.0.0/8")], // listed again under a later peer: it moves there
  ]);

  it("gives the peer owning the longest matching prefix", () => {
    expect(table.lookup(parseIpv4("100.64.0.20"))).toBe(0);
    expect(table.lookup(parseIpv4("100.64.0.30"))).toBe(1);
    expect(table.lookup(parseIpv4("10.1.2.3"))).toBe(1);
    expect(table.lookup(parseIpv4("10.2.0.1"))).toBe(3);
    expect(table.lookup(parseIpv4("8.8.8.8"))).toBe(2);
  });

  it("without a default route, an address nobody owns has no peer", () => {
    expect(new AllowedIps([[parseCidr("100.64.0.20/32")]]).lookup(parseIpv4("100.64.0.21"))).toBe(-1);
  });
});
