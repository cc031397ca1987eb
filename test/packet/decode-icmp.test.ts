import { describe, expect, it } from "vitest";
import { buildPacket } from "../../src/packet/builder.ts";
import { parseIpv4, parseIpv6 } from "../../src/packet/address.ts";
import { MALFORMED_BAD_CHECKSUM, MALFORMED_TRUNCATED, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP } from "../../src/packet/record.ts";
import { buildAndDecode, decode, reason } from "./helpers.ts";

const v4 = { src: "100.64.0.40", dst: "100.64.0.20", protocol: "icmp" } as const;
const v6 = { src: "fd00::40", dst: "fd00::20", protocol: "icmp" } as const;

describe("ICMP echo", () => {
  it.each([
    ["ICMPv4 request", v4, undefined, PROTO_ICMP, 8, true, false],
    ["ICMPv4 reply", v4, 0, PROTO_ICMP, 0, false, true],
    ["ICMPv6 request", v6, undefined, PROTO_ICMPV6, 128, true, false],
    ["ICMPv6 reply", v6, 129, PROTO_ICMPV6, 129, false, true],
  ] as const)("%s: type, id and flags", (_name, addresses, type, protocol, expectedType, isRequest, isReply) => {
    const rec = buildAndDecode({ ...addresses, icmp: { type, id: 0xabcd, seq: 0xffff }, payload: 56 });
    expect(reason(rec)).toBe("none");
    expect(rec).toMatchObject({
      protocol,
      hasL4: true,
      icmpType: expectedType,
      icmpCode: 0,
      icmpId: 0xabcd,
      icmpIsEchoRequest: isRequest,
      icmpIsEchoReply: isReply,
      icmpIsError: false,
      innerValid: false,
      srcPort: 0,
      dstPort: 0,
      payloadLength: 56,
    });
  });

  it("reports id/seq only for echo messages", () => {
    const rec = buildAndDecode({ ...v4, icmp: { type: 13, id: 5, seq: 6 } }); // timestamp request
    expect(rec).toMatchObject({ icmpType: 13, icmpId: 0, icmpIsError: false, icmpIsEchoRequest: false });
  });
});

describe("ICMP errors and the quoted packet", () => {
  it.each([3, 4, 5, 11, 12])("ICMPv4 type %i quotes a packet (an error, source quench, redirect)", (type) => {
    expect(buildAndDecode({ ...v4, icmp: { type, quote: new Uint8Array(0) } }).icmpIsError).toBe(true);
  });
  it.each([0, 8, 13, 14])("ICMPv4 type %i is not an error", (type) => {
    expect(buildAndDecode({ ...v4, icmp: { type } }).icmpIsError).toBe(false);
  });
  it.each([1, 2, 3, 4])("ICMPv6 type %i is an error", (type) => {
    expect(buildAndDecode({ ...v6, icmp: { type, quote: new Uint8Array(0) } }).icmpIsError).toBe(true);
  });
  it.each([0, 5, 127, 128, 129, 135])("ICMPv6 type %i is not an error", (type) => {
    expect(buildAndDecode({ ...v6, icmp: { type } }).icmpIsError).toBe(false);
  });

  it("decodes a quoted UDP packet: version, protocol, addresses, ports", () => {
    const inner = buildPacket({ src: "100.64.0.20", dst: "198.18.1.5", protocol: "udp", srcPort: 40001, dstPort: 53, payload: 30 });
    const rec = buildAndDecode({ ...v4, icmp: { type: 3, code: 3, quote: inner } });
    expect(reason(rec)).toBe("none");
    expect(rec).toMatchObject({
      icmpType: 3,
      icmpCode: 3,
      icmpIsError: true,
      innerValid: true,
      innerVersion: 4,
      innerProtocol: PROTO_UDP,
      innerSrc0: parseIpv4("100.64.0.20"),
      innerDst0: parseIpv4("198.18.1.5"),
      innerSrcPort: 40001,
      innerDstPort: 53,
      innerTcpSeq: 0,
    });
  });

  it("decodes a quoted TCP packet cut to 8 bytes of L4 (RFC 792 minimum): ports and seq", () => {
    const inner = buildPacket({ src: "100.64.0.20", dst: "100.64.0.30", protocol: "tcp", srcPort: 5432, dstPort: 41000, tcp: { seq: 0xfedcba98 } });
    const rec = buildAndDecode({ ...v4, icmp: { type: 11, quote: inner.subarray(0, 28) } });
    expect(rec).toMatchObject({ innerValid: true, innerProtocol: PROTO_TCP, innerL4Length: 8, innerSrcPort: 5432, innerDstPort: 41000, innerTcpSeq: 0xfedcba98 });
  });

  it("tolerates a quote cut inside the L4 header: ports only, or nothing", () => {
    const inner = buildPacket({ src: "100.64.0.20", dst: "100.64.0.30", protocol: "tcp", srcPort: 5432, dstPort: 41000, tcp: { seq: 7 } });
    const portsOnly = buildAndDecode({ ...v4, icmp: { type: 3, quote: inner.subarray(0, 25) } });
    // innerL4Length says how much is real: the seq (and below, the ports) read 0 but are absent.
    expect(portsOnly).toMatchObject({ innerValid: true, innerL4Length: 5, innerSrcPort: 5432, innerDstPort: 41000, innerTcpSeq: 0 });
    const headerOnly = buildAndDecode({ ...v4, icmp: { type: 3, quote: inner.subarray(0, 21) } });
    expect(headerOnly).toMatchObject({ innerValid: true, innerL4Length: 1, innerSrcPort: 0, innerDstPort: 0 });
    expect(reason(headerOnly)).toBe("none");
  });

  it("a quote too short for an IP header leaves innerValid false without making the packet malformed", () => {
    const inner = buildPacket({ src: "100.64.0.20", dst: "100.64.0.30", protocol: "udp" });
    const rec = buildAndDecode({ ...v4, icmp: { type: 3, quote: inner.subarray(0, 19) } });
    expect(reason(rec)).toBe("none");
    expect(rec.icmpIsError).toBe(true);
    expect(rec.innerValid).toBe(false);
    expect(rec.innerSrc0).toBe(0);
  });

  it("decodes a quoted ICMP echo: type and id", () => {
    const inner = buildPacket({ src: "100.64.0.20", dst: "100.64.0.99", protocol: "icmp", icmp: { id: 4242, seq: 1 } });
    const rec = buildAndDecode({ ...v4, icmp: { type: 3, code: 1, quote: inner } });
    expect(rec).toMatchObject({ innerValid: true, innerProtocol: PROTO_ICMP, innerL4Length: 8, innerIcmpType: 8, innerIcmpId: 4242, innerSrcPort: 0 });
    const cut = buildAndDecode({ ...v4, icmp: { type: 3, code: 1, quote: inner.subarray(0, 25) } });
    expect(cut).toMatchObject({ innerValid: true, innerL4Length: 5, innerIcmpType: 8, innerIcmpId: 0 });
  });

  it("decodes an ICMPv6 error quoting IPv6 UDP behind an extension header", () => {
    const inner = buildPacket({ src: "fd00::20", dst: "fd00::99", protocol: "udp", srcPort: 5000, dstPort: 6000, extensionHeaders: ["destination"] });
    const rec = buildAndDecode({ ...v6, icmp: { type: 1, code: 4, quote: inner } });
    const [s0, s1, s2, s3] = parseIpv6("fd00::20");
    const [d0, d1, d2, d3] = parseIpv6("fd00::99");
    expect(rec).toMatchObject({
      icmpIsError: true,
      innerValid: true,
      innerVersion: 6,
      innerProtocol: PROTO_UDP,
      innerSrc0: s0,
      innerSrc1: s1,
      innerSrc2: s2,
      innerSrc3: s3,
      innerDst0: d0,
      innerDst1: d1,
      innerDst2: d2,
      innerDst3: d3,
      innerSrcPort: 5000,
      innerDstPort: 6000,
    });
  });

  it("decodes an ICMPv6 packet-too-big quoting an ICMPv6 echo reply", () => {
    const inner = buildPacket({ src: "fd00::20", dst: "fd00::99", protocol: "icmp", icmp: { type: 129, id: 77 } });
    const rec = buildAndDecode({ ...v6, icmp: { type: 2, rest: 1280, quote: inner } });
    expect(rec).toMatchObject({ innerValid: true, innerProtocol: PROTO_ICMPV6, innerIcmpType: 129, innerIcmpId: 77 });
  });

  it("a quoted non-first fragment has no ports", () => {
    const inner = buildPacket({ src: "100.64.0.20", dst: "100.64.0.30", protocol: "udp", fragmentOffset: 64, payload: 16 });
    const rec = buildAndDecode({ ...v4, icmp: { type: 11, code: 1, quote: inner } });
    expect(rec).toMatchObject({ innerValid: true, innerProtocol: PROTO_UDP, innerL4Length: 0, innerSrcPort: 0, innerDstPort: 0 });
  });

  it("a redirect's quote is decoded like an error's", () => {
    const inner = buildPacket({ src: "100.64.0.20", dst: "100.64.0.30", protocol: "udp", srcPort: 7, dstPort: 9 });
    const rec = buildAndDecode({ ...v4, icmp: { type: 5, code: 1, rest: 0x64400001, quote: inner } });
    expect(rec).toMatchObject({ icmpIsError: true, innerValid: true, innerProtocol: PROTO_UDP, innerL4Length: 8, innerSrcPort: 7, innerDstPort: 9 });
  });
});

describe("ICMP malformed reasons", () => {
  it("truncated: fewer than 8 bytes", () => {
    const rec = buildAndDecode({ ...v6, rawL4: true, payload: 7 });
    expect(rec.malformed).toBe(MALFORMED_TRUNCATED);
    expect(rec.malformedAt).toBe(40);
  });

  it("bad-checksum (ICMPv4 plain, ICMPv6 with pseudo-header), only when verifying", () => {
    for (const addresses of [v4, v6]) {
      const packet = buildPacket({ ...addresses, icmp: { id: 1 }, payload: 8 });
      packet[packet.length - 1] ^= 1;
      expect(decode(packet).malformed).toBe(0);
      const rec = decode(packet, true);
      expect(rec.malformed).toBe(MALFORMED_BAD_CHECKSUM);
      expect(rec.malformedAt).toBe(rec.l4Offset + 2);
    }
    // Same ICMPv6 message with a different source: the pseudo-header makes the checksum wrong.
    const packet = buildPacket({ ...v6, icmp: { id: 1 } });
    packet[23] ^= 1;
    expect(decode(packet, true).malformed).toBe(MALFORMED_BAD_CHECKSUM);
  });
});
