import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { buildPacket } from "../../src/packet/builder.ts";
import {
  finishChecksum,
  foldSum,
  internetChecksum,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
  sumWords,
  transportChecksum,
  updateChecksum16,
  updateChecksum32,
} from "../../src/packet/checksum.ts";
import { parseIpv4, parseIpv6 } from "../../src/packet/address.ts";
import { PROTO_TCP, PROTO_UDP } from "../../src/packet/record.ts";

describe("internet checksum (RFC 1071)", () => {
  it("matches the RFC 1071 worked example", () => {
    const data = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
    expect(foldSum(sumWords(data, 0, data.length))).toBe(0xddf2);
    expect(internetChecksum(data, 0, data.length)).toBe(0x220d);
  });

  it("pads an odd last byte with zero and honours the offset", () => {
    const data = Uint8Array.of(0xaa, 0x12, 0x34, 0x56);
    expect(sumWords(data, 1, 3)).toBe(0x1234 + 0x5600);
  });

  it("is 0 over data that includes its own checksum", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 2, maxLength: 200 }), (bytes) => {
        const data = Uint8Array.from(bytes.length % 2 ? [...bytes, 0] : bytes);
        data[0] = 0;
        data[1] = 0;
        const sum = internetChecksum(data, 0, data.length);
        data[0] = sum >>> 8;
        data[1] = sum & 0xff;
        expect(foldSum(sumWords(data, 0, data.length))).toBe(0xffff);
      }),
    );
  });
});

describe("pseudo-header checksums", () => {
  it("IPv4: transportChecksum equals the pseudo-header sum plus the segment", () => {
    const packet = buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp", payload: 7 });
    expect(transportChecksum(packet, 0, 20, packet.length - 20, PROTO_TCP)).toBe(0);
    const pseudo = pseudoHeaderSumV4(parseIpv4("100.64.0.10"), parseIpv4("100.64.0.20"), PROTO_TCP, packet.length - 20);
    expect(finishChecksum(sumWords(packet, 20, packet.length - 20, pseudo))).toBe(0);
  });

  it("IPv6: transportChecksum equals the pseudo-header sum plus the segment", () => {
    const packet = buildPacket({ src: "fd00::1", dst: "fd00::2", protocol: "udp", payload: 9 });
    expect(transportChecksum(packet, 0, 40, packet.length - 40, PROTO_UDP)).toBe(0);
    const pseudo = pseudoHeaderSumV6(parseIpv6("fd00::1"), parseIpv6("fd00::2"), PROTO_UDP, packet.length - 40);
    expect(finishChecksum(sumWords(packet, 40, packet.length - 40, pseudo))).toBe(0);
  });
});

describe("RFC 1624 incremental update", () => {
  it("updateChecksum16 agrees with recomputing from scratch", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.integer({ min: 1, max: 9 }), fc.nat(0xffff), (bytes, wordIndex, newWord) => {
        const data = Uint8Array.from(bytes);
        data[0] = 0;
        data[1] = 0;
        const before = internetChecksum(data, 0, data.length);
        const at = wordIndex * 2;
        const oldWord = (data[at] << 8) | data[at + 1];
        data[at] = newWord >>> 8;
        data[at + 1] = newWord & 0xff;
        const after = internetChecksum(data, 0, data.length);
        // 0x0000 and 0xffff are the same one's complement value; compare folded sums.
        expect(foldSum(updateChecksum16(before, oldWord, newWord)) % 0xffff).toBe(after % 0xffff);
      }),
    );
  });

  it("updateChecksum32 rewrites an IPv4 source address (NAT-style) correctly", () => {
    const packet = buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "icmp" });
    const oldChecksum = (packet[10] << 8) | packet[11];
    const newSrc = parseIpv4("198.18.0.1");
    const updated = updateChecksum32(oldChecksum, parseIpv4("100.64.0.10"), newSrc);
    new DataView(packet.buffer).setUint32(12, newSrc);
    packet[10] = updated >>> 8;
    packet[11] = updated & 0xff;
    expect(internetChecksum(packet, 0, 20)).toBe(0);
  });
});
