import { describe, expect, it } from "vitest";
import { buildPacket } from "../../src/packet/builder.ts";
import { decodePacket } from "../../src/packet/decode.ts";
import { parseIpv4 } from "../../src/packet/address.ts";
import {
  MALFORMED_BAD_CHECKSUM,
  MALFORMED_BAD_HEADER_LENGTH,
  MALFORMED_BAD_OPTIONS,
  MALFORMED_BAD_VERSION,
  MALFORMED_LENGTH_MISMATCH,
  MALFORMED_TRUNCATED,
  PacketRecord,
  PROTO_UDP,
} from "../../src/packet/record.ts";
import { buildAndDecode, concatBytes, decode, reason, setU16 } from "./helpers.ts";

const base = { src: "100.64.0.10", dst: "100.64.0.20" } as const;

describe("IPv4 header fields", () => {
  it("decodes version, lengths, TTL, protocol, id, flags and addresses", () => {
    const rec = buildAndDecode({ ...base, protocol: "udp", ttl: 9, ipId: 0xbeef, dontFragment: true, payload: 10 });
    expect(reason(rec)).toBe("none");
    expect(rec).toMatchObject({
      ipVersion: 4,
      ipHeaderLength: 20,
      ipTotalLength: 38,
      ttl: 9,
      protocol: PROTO_UDP,
      ipId: 0xbeef,
      moreFragments: false,
      fragmentOffset: 0,
      isFragment: false,
      src0: parseIpv4("100.64.0.10"),
      dst0: parseIpv4("100.64.0.20"),
      src1: 0,
      src2: 0,
      src3: 0,
      dst1: 0,
      dst2: 0,
      dst3: 0,
      l4Offset: 20,
    });
  });

  it("decodes addresses above 2^31 as unsigned", () => {
    const rec = buildAndDecode({ src: "255.255.255.254", dst: "198.18.1.1", protocol: "udp" });
    expect(rec.src0).toBe(0xfffffffe);
    expect(rec.dst0).toBe(0xc6120101);
  });

  it("accepts well-formed IPv4 options and skips past them", () => {
    // NOP, then Router Alert (RFC 2113: type 148, length 4), then end of list.
    const rec = buildAndDecode({ ...base, protocol: "tcp", ipOptions: Uint8Array.of(1, 148, 4, 0, 0, 0) });
    expect(reason(rec)).toBe("none");
    expect(rec.ipHeaderLength).toBe(28);
    expect(rec.l4Offset).toBe(28);
    expect(rec.hasL4).toBe(true);
  });

  it("ignores bytes past the total length (link-layer padding)", () => {
    const packet = buildPacket({ ...base, protocol: "udp", payload: 2 });
    const padded = concatBytes(packet, new Uint8Array(18));
    const rec = decode(padded, true);
    expect(reason(rec)).toBe("none");
    expect(rec.ipTotalLength).toBe(30);
    expect(rec.payloadLength).toBe(2);
  });

  it("decodes from a Node Buffer (a Uint8Array subclass) just the same", () => {
    const packet = Buffer.from(buildPacket({ ...base, protocol: "tcp", dstPort: 5432 }));
    const rec = decode(packet, true);
    expect(reason(rec)).toBe("none");
    expect(rec.dstPort).toBe(5432);
  });

  it("decodes a packet in the middle of a larger buffer and through a subarray view", () => {
    const packet = buildPacket({ ...base, protocol: "tcp", srcPort: 1111, dstPort: 2222 });
    const big = concatBytes(new Uint8Array(13), packet, new Uint8Array(7));
    const rec = new PacketRecord();
    expect(decodePacket(big, 13, packet.length, rec, true)).toBe(true);
    expect(rec.dstPort).toBe(2222);
    expect(rec.l4Offset).toBe(20);
    const view = big.subarray(5);
    expect(decodePacket(view, 8, packet.length, rec, true)).toBe(true);
    expect(rec.srcPort).toBe(1111);
  });
});

describe("IPv4 malformed reasons", () => {
  it("truncated: fewer than 20 bytes", () => {
    const rec = decode(buildPacket({ ...base, protocol: "udp" }).subarray(0, 19));
    expect(reason(rec)).toBe("truncated");
    expect(rec.malformedAt).toBe(0);
    expect(rec.ipVersion).toBe(4);
  });

  it("bad-version: neither 4 nor 6", () => {
    const packet = buildPacket({ ...base, protocol: "udp" });
    packet[0] = 0x55;
    const rec = decode(packet);
    expect(rec.malformed).toBe(MALFORMED_BAD_VERSION);
    expect(rec.malformedAt).toBe(0);
    expect(rec.ipVersion).toBe(5);
    expect(rec.hasL4).toBe(false);
  });

  it("bad-header-length: IHL below 5 or beyond the buffer", () => {
    const small = buildPacket({ ...base, protocol: "udp" });
    small[0] = 0x44;
    expect(decode(small).malformed).toBe(MALFORMED_BAD_HEADER_LENGTH);
    const large = buildPacket({ ...base, protocol: "udp" });
    large[0] = 0x4f; // 60 bytes of header in a 28-byte packet
    expect(decode(large).malformed).toBe(MALFORMED_BAD_HEADER_LENGTH);
  });

  it("length-mismatch: total length beyond the buffer or below the header", () => {
    const packet = buildPacket({ ...base, protocol: "udp", payload: 4 });
    const rec = decode(packet.subarray(0, packet.length - 1));
    expect(rec.malformed).toBe(MALFORMED_LENGTH_MISMATCH);
    expect(rec.malformedAt).toBe(2);
    expect(decode(setU16(buildPacket({ ...base, protocol: "udp" }), 2, 19)).malformed).toBe(MALFORMED_LENGTH_MISMATCH);
  });

  it.each([
    ["length 0", Uint8Array.of(148, 0, 0, 0), 20],
    ["length 1", Uint8Array.of(1, 1, 148, 1), 22],
    ["past the header", Uint8Array.of(1, 148, 8, 0), 21],
    ["type with no length byte", Uint8Array.of(1, 1, 1, 148), 23],
  ])("bad-options: option %s", (_name, options, at) => {
    const rec = decode(buildPacket({ ...base, protocol: "udp", ipOptions: options }));
    expect(rec.malformed).toBe(MALFORMED_BAD_OPTIONS);
    expect(rec.malformedAt).toBe(at);
  });

  it("bad-checksum: only when verification is asked for", () => {
    const packet = buildPacket({ ...base, protocol: "udp" });
    packet[8] = 1; // TTL changed, checksum not updated
    expect(decode(packet, false).malformed).toBe(0);
    const rec = decode(packet, true);
    expect(rec.malformed).toBe(MALFORMED_BAD_CHECKSUM);
    expect(rec.malformedAt).toBe(10);
  });

  it("bad arguments are 'truncated', never a throw", () => {
    const packet = buildPacket({ ...base, protocol: "udp" });
    const rec = new PacketRecord();
    for (const [offset, length] of [
      [-1, 10],
      [0, packet.length + 1],
      [0, 0],
      [1.5, 10],
      [packet.length, 1],
      [0, Number.NaN],
    ]) {
      expect(decodePacket(packet, offset, length, rec)).toBe(false);
      expect(rec.malformed).toBe(MALFORMED_TRUNCATED);
    }
  });
});
