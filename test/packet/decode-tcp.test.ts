import { describe, expect, it } from "vitest";
import { buildPacket } from "../../src/packet/builder.ts";
import {
  MALFORMED_BAD_CHECKSUM,
  MALFORMED_BAD_OPTIONS,
  MALFORMED_BAD_TCP_OFFSET,
  MALFORMED_TRUNCATED,
  PROTO_TCP,
  TCP_ACK,
  TCP_CWR,
  TCP_ECE,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  TCP_URG,
} from "../../src/packet/record.ts";
import { buildAndDecode, decode, reason } from "./helpers.ts";

const v4 = { src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp" } as const;
const v6 = { src: "fd00::10", dst: "fd00::20", protocol: "tcp" } as const;

describe("TCP header fields", () => {
  it.each([
    ["IPv4", v4, 20],
    ["IPv6", v6, 40],
  ] as const)("%s: ports, seq/ack (unsigned), data offset, window, payload", (_name, addresses, ipHeader) => {
    const rec = buildAndDecode({
      ...addresses,
      srcPort: 65535,
      dstPort: 5432,
      tcp: { flags: "PA", seq: 0xffffffff, ack: 0x80000000, window: 1234 },
      payload: 100,
    });
    expect(reason(rec)).toBe("none");
    expect(rec).toMatchObject({
      protocol: PROTO_TCP,
      hasL4: true,
      srcPort: 65535,
      dstPort: 5432,
      tcpSeq: 0xffffffff,
      tcpAck: 0x80000000,
      tcpHeaderLength: 20,
      tcpFlags: TCP_PSH | TCP_ACK,
      tcpWindow: 1234,
      l4Offset: ipHeader,
      payloadOffset: ipHeader + 20,
      payloadLength: 100,
      tcpWindowScale: -1,
    });
  });

  it("decodes each of the eight flags", () => {
    for (const flag of [TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK, TCP_URG, TCP_ECE, TCP_CWR]) {
      expect(buildAndDecode({ ...v4, tcp: { flags: flag } }).tcpFlags).toBe(flag);
    }
    expect(buildAndDecode({ ...v4, tcp: { flags: 0xff } }).tcpFlags).toBe(0xff);
  });

  it("reads the window scale of a SYN among MSS, SACK-permitted and timestamps", () => {
    const rec = buildAndDecode({ ...v6, tcp: { flags: "S", mss: 1380, windowScale: 7, sackPermitted: true, timestamp: [0xfffffff0, 77] } });
    expect(reason(rec)).toBe("none");
    expect(rec).toMatchObject({
      tcpHeaderLength: 44, // MSS 4 + NOP window scale 4 + NOP NOP SACK-permitted 4 + NOP NOP timestamp 12
      tcpWindowScale: 7,
      payloadLength: 0,
    });
  });

  it("takes the common established layout NOP NOP timestamp", () => {
    const rec = buildAndDecode({ ...v4, tcp: { flags: "A", timestamp: [5, 6] }, payload: 9 });
    expect(reason(rec)).toBe("none");
    expect(rec).toMatchObject({ tcpHeaderLength: 32, tcpWindowScale: -1, payloadLength: 9 });
  });

  it.each([1, 2, 3, 4])("accepts %i SACK blocks", (count) => {
    const blocks: [number, number][] = Array.from({ length: count }, (_, i) => [0xfffffff0 + i, i * 1000 + 5]);
    const rec = buildAndDecode({ ...v4, tcp: { flags: "A", sack: blocks } });
    expect(reason(rec)).toBe("none");
    expect(rec.payloadLength).toBe(0);
    expect(rec.hasL4).toBe(true);
  });

  it("skips unknown options by their length and stops at end-of-options", () => {
    // Unknown kind 30 (MPTCP) with length 4, then window scale 5 and a NOP; then EOL followed by garbage that must be ignored.
    const rec = buildAndDecode({ ...v4, tcp: { rawOptions: Uint8Array.of(30, 4, 0, 0, 3, 3, 5, 1, 0, 99, 1, 2) } });
    expect(reason(rec)).toBe("none");
    expect(rec.tcpWindowScale).toBe(5);
    expect(rec.tcpHeaderLength).toBe(32);
  });
});

describe("TCP malformed reasons", () => {
  it("truncated: fewer than 20 bytes of TCP header", () => {
    const rec = buildAndDecode({ ...v4, rawL4: true, payload: 19 });
    expect(rec.malformed).toBe(MALFORMED_TRUNCATED);
    expect(rec.malformedAt).toBe(20);
    expect(rec.hasL4).toBe(false);
  });

  it("bad-tcp-offset: data offset below 5 words", () => {
    const packet = buildPacket({ ...v4 });
    packet[20 + 12] = 4 << 4;
    const rec = decode(packet);
    expect(rec.malformed).toBe(MALFORMED_BAD_TCP_OFFSET);
    expect(rec.malformedAt).toBe(32);
    expect(rec.hasL4).toBe(false);
  });

  it("bad-tcp-offset: data offset beyond the segment", () => {
    const packet = buildPacket({ ...v4, payload: 3 });
    packet[20 + 12] = 6 << 4; // 24 bytes of header, 23 bytes of segment
    expect(decode(packet).malformed).toBe(MALFORMED_BAD_TCP_OFFSET);
  });

  it.each([
    ["option length 0", [2, 0, 0, 0], 40],
    ["option length 1", [1, 8, 1, 0], 41],
    ["option past the header", [1, 1, 8, 10], 42],
    ["kind with no length byte", [1, 1, 1, 8], 43],
    ["MSS of length 3", [2, 3, 0, 0], 40],
    ["window scale of length 4", [3, 4, 0, 0], 40],
    ["SACK-permitted of length 3", [4, 3, 0, 0], 40],
    ["timestamp of length 8", [8, 8, 0, 0, 0, 0, 0, 0], 40],
    ["SACK of length 6", [5, 6, 0, 0, 0, 0, 0, 0], 40],
    ["SACK with no block", [5, 2, 0, 0], 40],
  ])("bad-options: %s", (_name, options, at) => {
    const rec = buildAndDecode({ ...v4, tcp: { rawOptions: Uint8Array.from(options) } });
    expect(reason(rec)).toBe("bad-options");
    expect(rec.malformed).toBe(MALFORMED_BAD_OPTIONS);
    expect(rec.malformedAt).toBe(at);
    expect(rec.hasL4).toBe(false);
  });

  it("bad-checksum: only when verification is asked for (IPv4 and IPv6)", () => {
    for (const addresses of [v4, v6]) {
      const packet = buildPacket({ ...addresses, payload: 4 });
      packet[packet.length - 1] ^= 0xff;
      expect(decode(packet, false).malformed).toBe(0);
      const rec = decode(packet, true);
      expect(rec.malformed).toBe(MALFORMED_BAD_CHECKSUM);
      expect(rec.malformedAt).toBe(rec.l4Offset + 16);
    }
  });
});
