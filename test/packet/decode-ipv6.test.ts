import { describe, expect, it } from "vitest";
import { buildPacket } from "../../src/packet/builder.ts";
import { parseIpv6 } from "../../src/packet/address.ts";
import { MAX_EXTENSION_HEADERS } from "../../src/packet/ipv6-extensions.ts";
import {
  MALFORMED_BAD_EXTENSION_HEADER,
  MALFORMED_LENGTH_MISMATCH,
  MALFORMED_TRUNCATED,
  PROTO_TCP,
  PROTO_UDP,
} from "../../src/packet/record.ts";
import { buildAndDecode, concatBytes, decode, reason, setU16 } from "./helpers.ts";

const base = { src: "fd00::a", dst: "fd00:1:2:3:4:5:6:7" } as const;

describe("IPv6 header fields", () => {
  it("decodes addresses as four words, hop limit, lengths and protocol", () => {
    const rec = buildAndDecode({ ...base, protocol: "tcp", ttl: 3, payload: 5 });
    expect(reason(rec)).toBe("none");
    const [s0, s1, s2, s3] = parseIpv6(base.src);
    const [d0, d1, d2, d3] = parseIpv6(base.dst);
    expect(rec).toMatchObject({
      ipVersion: 6,
      ipHeaderLength: 40,
      ipTotalLength: 40 + 20 + 5,
      ttl: 3,
      protocol: PROTO_TCP,
      ipId: 0,
      isFragment: false,
      src0: s0,
      src1: s1,
      src2: s2,
      src3: s3,
      dst0: d0,
      dst1: d1,
      dst2: d2,
      dst3: d3,
      hasL4: true,
      l4Offset: 40,
    });
  });

  it("decodes addresses whose words are above 2^31 as unsigned", () => {
    const rec = buildAndDecode({ src: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", dst: "fe80::1", protocol: "udp" });
    expect(rec.src0).toBe(0xffffffff);
    expect(rec.src3).toBe(0xfffffffe);
    expect(rec.dst0).toBe(0xfe800000);
  });

  it("walks hop-by-hop, routing, destination options and fragment headers", () => {
    const rec = buildAndDecode({
      ...base,
      protocol: "udp",
      extensionHeaders: ["hop-by-hop", "routing", "destination", "fragment"],
      ipId: 0xdeadbeef,
      payload: 3,
    });
    expect(reason(rec)).toBe("none");
    expect(rec.protocol).toBe(PROTO_UDP);
    expect(rec.ipHeaderLength).toBe(40 + 32);
    expect(rec.l4Offset).toBe(72);
    expect(rec.ipId).toBe(0xdeadbeef);
    expect(rec.isFragment).toBe(false); // an atomic fragment (offset 0, no MF) is a whole packet
    expect(rec.hasL4).toBe(true);
    expect(rec.payloadLength).toBe(3);
  });

  it("walks a header longer than 8 bytes by its length field", () => {
    const packet = buildPacket({ ...base, protocol: "udp", extensionHeaders: ["destination"] });
    // Grow the destination options header to 16 bytes: length field 1, eight more PadN bytes.
    const grown = concatBytes(packet.subarray(0, 48), Uint8Array.of(1, 6, 0, 0, 0, 0, 0, 0), packet.subarray(48));
    grown[41] = 1;
    setU16(grown, 4, grown.length - 40);
    const rec = decode(grown);
    expect(reason(rec)).toBe("none");
    expect(rec.l4Offset).toBe(56);
    expect(rec.protocol).toBe(PROTO_UDP);
  });

  it.each([
    ["ESP", 50],
    ["AH", 51],
    ["no next header", 59],
  ])("stops at %s with no L4 and no error", (_name, code) => {
    const rec = buildAndDecode({ ...base, protocol: code, payload: 16 });
    expect(reason(rec)).toBe("none");
    expect(rec.protocol).toBe(code);
    expect(rec.hasL4).toBe(false);
  });

  it("ignores bytes past the payload length", () => {
    const rec = decode(concatBytes(buildPacket({ ...base, protocol: "udp", payload: 1 }), new Uint8Array(5)), true);
    expect(reason(rec)).toBe("none");
    expect(rec.payloadLength).toBe(1);
  });
});

describe("IPv6 malformed reasons", () => {
  it("truncated: fewer than 40 bytes", () => {
    const rec = decode(buildPacket({ ...base, protocol: "udp" }).subarray(0, 39));
    expect(rec.malformed).toBe(MALFORMED_TRUNCATED);
    expect(rec.ipVersion).toBe(6);
  });

  it("length-mismatch: payload length beyond the buffer", () => {
    const packet = buildPacket({ ...base, protocol: "udp", payload: 4 });
    const rec = decode(packet.subarray(0, packet.length - 1));
    expect(rec.malformed).toBe(MALFORMED_LENGTH_MISMATCH);
    expect(rec.malformedAt).toBe(4);
  });

  it("bad-extension-header: a header runs off the packet", () => {
    const packet = buildPacket({ ...base, protocol: "udp", extensionHeaders: ["destination"] });
    packet[41] = 4; // claims 40 bytes
    const rec = decode(packet);
    expect(rec.malformed).toBe(MALFORMED_BAD_EXTENSION_HEADER);
    expect(rec.malformedAt).toBe(40);
  });

  it("bad-extension-header: a header cut before its length byte", () => {
    const packet = buildPacket({ ...base, protocol: 60, payload: 1 });
    const rec = decode(packet);
    expect(rec.malformed).toBe(MALFORMED_BAD_EXTENSION_HEADER);
    expect(rec.malformedAt).toBe(40);
  });

  it("bad-extension-header: a chain longer than the limit", () => {
    const ok = buildAndDecode({ ...base, protocol: "udp", extensionHeaders: Array(MAX_EXTENSION_HEADERS).fill("destination") });
    expect(reason(ok)).toBe("none");
    const rec = buildAndDecode({ ...base, protocol: "udp", extensionHeaders: Array(MAX_EXTENSION_HEADERS + 1).fill("destination") });
    expect(rec.malformed).toBe(MALFORMED_BAD_EXTENSION_HEADER);
    expect(rec.malformedAt).toBe(40 + 8 * MAX_EXTENSION_HEADERS);
  });

  it("bad-extension-header: hop-by-hop anywhere but first", () => {
    const rec = buildAndDecode({ ...base, protocol: "udp", extensionHeaders: ["destination", "hop-by-hop"] });
    expect(rec.malformed).toBe(MALFORMED_BAD_EXTENSION_HEADER);
    expect(rec.malformedAt).toBe(48);
  });
});
