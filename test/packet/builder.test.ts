import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildPacket } from "../../src/packet/builder.ts";
import type { PacketSpec } from "../../src/packet/builder.ts";
import { internetChecksum } from "../../src/packet/checksum.ts";
import { formatTcpFlags, tcpFlags } from "../../src/packet/tcp-flags.ts";
import { TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG } from "../../src/packet/record.ts";

describe("tcpFlags", () => {
  it("maps letters to bits and back", () => {
    expect(tcpFlags("S")).toBe(TCP_SYN);
    expect(tcpFlags("SA")).toBe(TCP_SYN | TCP_ACK);
    expect(tcpFlags("pa")).toBe(TCP_PSH | TCP_ACK);
    expect(tcpFlags("FSRPAUEC")).toBe(TCP_FIN | TCP_SYN | TCP_RST | TCP_PSH | TCP_ACK | TCP_URG | TCP_ECE | TCP_CWR);
    expect(tcpFlags("")).toBe(0);
    expect(formatTcpFlags(TCP_SYN | TCP_ACK)).toBe("SA");
    expect(formatTcpFlags(tcpFlags("RA"))).toBe("RA");
    expect(() => tcpFlags("SX")).toThrow(/unknown TCP flag letter "X"/);
  });
});

describe("buildPacket layout", () => {
  it("writes an IPv4 header with a correct checksum and the asked fields", () => {
    const p = buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "udp", ttl: 7, ipId: 0x1234, dontFragment: true, payload: 3 });
    expect(p.length).toBe(20 + 8 + 3);
    expect(p[0]).toBe(0x45);
    expect((p[2] << 8) | p[3]).toBe(31);
    expect((p[4] << 8) | p[5]).toBe(0x1234);
    expect((p[6] << 8) | p[7]).toBe(0x4000);
    expect(p[8]).toBe(7);
    expect(p[9]).toBe(17);
    expect(internetChecksum(p, 0, 20)).toBe(0);
  });

  it("pads TCP options to 4 bytes and sets the data offset", () => {
    const p = buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", protocol: "tcp", tcp: { mss: 1400 } });
    expect(p[20 + 12] >> 4).toBe(6);
    const q = buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", protocol: "tcp", tcp: { rawOptions: Uint8Array.of(3, 3, 7) } });
    expect(q[20 + 12] >> 4).toBe(6);
    expect([...q.subarray(40, 44)]).toEqual([3, 3, 7, 0]);
  });

  it("refuses impossible specs with a clear message", () => {
    expect(() => buildPacket({ src: "10.0.0.1", dst: "fd00::1", protocol: "tcp" })).toThrow(/different IP versions/);
    expect(() => buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", protocol: "udp", fragmentOffset: 3 })).toThrow(/multiple of 8/);
    expect(() =>
      buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", protocol: "tcp", tcp: { mss: 1, windowScale: 1, sackPermitted: true, timestamp: [1, 2], sack: [[1, 2], [3, 4]] } }),
    ).toThrow(/at most 40/);
    expect(() => buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", protocol: 300 })).toThrow(/0..255/);
    expect(() => buildPacket({ src: "fd00::1", dst: "fd00::2", protocol: "udp", ipOptions: Uint8Array.of(1) })).toThrow(/IPv4 only/);
  });

  it("builds IPv6 extension headers in order, fragment last when implied", () => {
    const p = buildPacket({ src: "fd00::1", dst: "fd00::2", protocol: "udp", extensionHeaders: ["hop-by-hop", "routing"], moreFragments: true });
    expect(p[6]).toBe(0); // hop-by-hop
    expect(p[40]).toBe(43); // then routing
    expect(p[48]).toBe(44); // then fragment
    expect(p[56]).toBe(17); // then UDP
    expect((p[4] << 8) | p[5]).toBe(24 + 8);
  });
});

// The builder's checksums, checked by an independent implementation: tcpdump -vv prints
// "correct"/"sum ok" or "incorrect"/"bad" for each. Real tool, so skipped (loudly) without it.
const hasTcpdump = (() => {
  try {
    execFileSync("tcpdump", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
if (!hasTcpdump) console.warn("builder.test: tcpdump not installed; skipping the independent checksum check");

function pcapOf(packets: Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const header = new DataView(new ArrayBuffer(24));
  header.setUint32(0, 0xa1b2c3d4, true);
  header.setUint16(4, 2, true);
  header.setUint16(6, 4, true);
  header.setUint32(16, 65535, true);
  header.setUint32(20, 101, true); // LINKTYPE_RAW: packets start at the IP header
  parts.push(new Uint8Array(header.buffer));
  for (const p of packets) {
    const record = new DataView(new ArrayBuffer(16));
    record.setUint32(8, p.length, true);
    record.setUint32(12, p.length, true);
    parts.push(new Uint8Array(record.buffer), p);
  }
  return Buffer.concat(parts);
}

describe.skipIf(!hasTcpdump)("buildPacket checksums, verified by tcpdump", () => {
  const inner = buildPacket({ src: "100.64.0.20", dst: "198.18.1.5", protocol: "udp", dstPort: 53, payload: 12 });
  const specs: PacketSpec[] = [
    { src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp", dstPort: 5432, tcp: { flags: "S", seq: 0xfffffff0, mss: 1460, windowScale: 7, sackPermitted: true, timestamp: [1, 2] } },
    { src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp", tcp: { flags: "A", sack: [[1000, 2000]] }, payload: 33 },
    { src: "100.64.0.10", dst: "100.64.0.20", protocol: "udp", payload: 5 },
    { src: "100.64.0.10", dst: "100.64.0.20", protocol: "icmp", icmp: { id: 7, seq: 9 }, payload: 56 },
    { src: "100.64.0.40", dst: "100.64.0.20", protocol: "icmp", icmp: { type: 3, code: 3, quote: inner } },
    { src: "fd00::1", dst: "fd00::2", protocol: "tcp", tcp: { flags: "SA", ack: 12345 } },
    { src: "fd00::1", dst: "fd00::2", protocol: "udp", payload: 11, extensionHeaders: ["hop-by-hop", "destination"] },
    { src: "fd00::1", dst: "fd00::2", protocol: "icmp", icmp: { id: 1, seq: 2 }, payload: 8 },
  ];

  it("every checksum is correct", () => {
    const dir = mkdtempSync(join(tmpdir(), `packet-builder-${process.pid}-`));
    try {
      const file = join(dir, "built.pcap");
      writeFileSync(file, pcapOf(specs.map(buildPacket)));
      const out = execFileSync("tcpdump", ["-nn", "-vv", "-r", file], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
      expect(out).not.toMatch(/incorrect|wrong icmp cksum|\[bad/i);
      // TCP (3), UDP (3 with the quoted one) and ICMPv6 (1) report good sums; ICMPv4 only reports a wrong one.
      expect(out.match(/\(correct\)/g)?.length).toBe(3);
      expect(out.match(/udp sum ok/g)?.length).toBe(3);
      expect(out.match(/icmp6 sum ok/g)?.length).toBe(1);
      expect(out.split("\n").filter((l) => /^\d/.test(l)).length).toBe(specs.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
