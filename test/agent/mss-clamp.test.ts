import { describe, expect, it } from "vitest";
import { clampMss, mssForMtu } from "../../src/agent/mss-clamp.ts";
import { buildPacket } from "../../src/packet/builder.ts";
import { transportChecksum } from "../../src/packet/checksum.ts";

function tcpChecksumValid(p: Uint8Array): boolean {
  const v6 = p[0] >> 4 === 6;
  const l4 = v6 ? 40 : (p[0] & 15) * 4;
  return transportChecksum(p, 0, l4, p.length - l4, 6) === 0;
}

function mssOf(p: Uint8Array, optionOffset: number): number {
  return (p[optionOffset + 2] << 8) | p[optionOffset + 3];
}

describe("MSS clamping", () => {
  it("lowers the MSS of an outbound SYN to the tunnel MTU and keeps the checksum valid", () => {
    const syn = buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp", dstPort: 5432, tcp: { flags: "S", mss: 1460 } });
    expect(clampMss(syn, 0, syn.length, 1420)).toBe(true);
    expect(mssOf(syn, 40)).toBe(1380);
    expect(mssForMtu(1420, 4)).toBe(1380);
    expect(tcpChecksumValid(syn)).toBe(true);
  });

  it("clamps a SYN-ACK too, and IPv6 to MTU - 60", () => {
    const synAck = buildPacket({ src: "100.64.0.20", dst: "100.64.0.10", protocol: "tcp", tcp: { flags: "SA", mss: 1460 } });
    expect(clampMss(synAck, 0, synAck.length, 1420)).toBe(true);
    expect(tcpChecksumValid(synAck)).toBe(true);
    const v6 = buildPacket({ src: "fd00::1", dst: "fd00::2", protocol: "tcp", tcp: { flags: "S", mss: 1440 } });
    expect(clampMss(v6, 0, v6.length, 1420)).toBe(true);
    expect(mssOf(v6, 60)).toBe(1360);
    expect(tcpChecksumValid(v6)).toBe(true);
  });

  it("fixes the checksum when the MSS option sits at an odd offset (after a NOP)", () => {
    const p = buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp", tcp: { flags: "S", mss: 1460, windowScale: 7 } });
    expect((p[32] >> 4) * 4).toBe(28); // 8 bytes of options
    p.set([1, 2, 4, 0x05, 0xb4, 0, 0, 0], 40);
    p[36] = 0;
    p[37] = 0;
    const sum = transportChecksum(p, 0, 20, p.length - 20, 6);
    p[36] = sum >> 8;
    p[37] = sum & 0xff;
    expect(clampMss(p, 0, p.length, 1420)).toBe(true);
    expect(mssOf(p, 41)).toBe(1380);
    expect(tcpChecksumValid(p)).toBe(true);
  });

  it("leaves alone a small MSS, a segment without SYN, UDP, and a packet at an offset other than its own", () => {
    const small = buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp", tcp: { flags: "S", mss: 1200 } });
    expect(clampMss(small, 0, small.length, 1420)).toBe(false);
    const ack = buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp", tcp: { flags: "A" } });
    expect(clampMss(ack, 0, ack.length, 1420)).toBe(false);
    const udp = buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "udp", payload: 40 });
    expect(clampMss(udp, 0, udp.length, 1420)).toBe(false);
    // Inside a larger buffer, as in a batch.
    const syn = buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp", tcp: { flags: "S", mss: 1460 } });
    const buf = new Uint8Array(syn.length + 100);
    buf.set(syn, 37);
    expect(clampMss(buf, 37, syn.length, 1420)).toBe(true);
    expect(tcpChecksumValid(buf.subarray(37, 37 + syn.length))).toBe(true);
  });

  it("does not read past a truncated options area", () => {
    const syn = buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp", tcp: { flags: "S", mss: 1460 } });
    expect(clampMss(syn, 0, 42, 1420)).toBe(false);
  });
});
