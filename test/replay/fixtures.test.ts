// Replay over every capture fixture (real traffic; pcap and pcapng; Ethernet, Linux
// cooked v1/v2, raw IP; both byte orders; several interfaces), for a peer on the
// fixtures' own addresses with an allow-all policy: every packet the peer sees is
// judged and accepted, whatever the link type.

import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readCapture } from "../../src/io/capture.ts";
import { meshfilter, ROOT } from "./cli.ts";

// The fixtures' namespace `a` is 198.18.0.1 on the veth link and 198.18.2.1 on the TUN link.
const POLICY = `format: meshfilter/v1
peers:
  - { name: veth-a, ip: 198.18.0.1, ipv6: "fd00:18::1", groups: [lab] }
  - { name: veth-b, ip: 198.18.0.2, ipv6: "fd00:18::2", groups: [lab] }
  - { name: tun-a, ip: 198.18.2.1, ipv6: "fd00:2::1", groups: [lab] }
  - { name: tun-b, ip: 198.18.2.2, ipv6: "fd00:2::2", groups: [lab] }
groups: [lab]
policies:
  - { name: everyone, sources: [lab], destinations: [lab], protocol: all }
`;

const dir = mkdtempSync(path.join(os.tmpdir(), "meshfilter-replay-fixtures-"));
const policy = path.join(dir, "lab.yaml");
writeFileSync(policy, POLICY);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fixtures = readdirSync(path.join(ROOT, "fixtures")).filter((f) => /\.pcap(ng)?$/.test(f));

describe("replay of every fixture capture", () => {
  it("has fixtures to replay", () => expect(fixtures.length).toBeGreaterThan(0));

  for (const file of fixtures) {
    it(`P2: ${file}: every packet for the peer is judged and accepted`, () => {
      const capture = path.join(ROOT, "fixtures", file);
      const peer = file.startsWith("raw-ip") ? "tun-a" : "veth-a";
      const r = meshfilter("replay", capture, "--policy", policy, "--peer", peer, "--json");
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const s = JSON.parse(r.stdout);
      expect(s.packets.read).toBe([...readCapture(capture)].length);
      expect(s.packets.judged).toBeGreaterThan(0);
      expect(s.packets.dropped).toBe(0);
    });
  }
});
