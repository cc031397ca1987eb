// Property tests: the decoder never throws on any input, reports a reason from the closed
// set, reads back what the builder wrote, and never leaks a field from one packet into
// the next when the record is reused.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { formatIpv4, formatIpv6 } from "../../src/packet/address.ts";
import { buildPacket } from "../../src/packet/builder.ts";
import type { PacketSpec } from "../../src/packet/builder.ts";
import { decodePacket } from "../../src/packet/decode.ts";
import { MALFORMED_REASONS, PacketRecord } from "../../src/packet/record.ts";
import { decode, snapshot } from "./helpers.ts";

const u32 = fc.nat(0xffffffff);
const u16 = fc.nat(0xffff);
const v4Address = u32.map(formatIpv4);
const v6Address = fc.tuple(u32, u32, u32, u32).map(([a, b, c, d]) => formatIpv6(a, b, c, d));
const addressPair = fc.oneof(fc.tuple(v4Address, v4Address), fc.tuple(v6Address, v6Address));

const tcpSpec = fc.record(
  {
    flags: fc.nat(0xff),
    seq: u32,
    ack: u32,
    window: u16,
    mss: u16,
    windowScale: fc.nat(14),
    sackPermitted: fc.boolean(),
    timestamp: fc.tuple(u32, u32),
    sack: fc.array(fc.tuple(u32, u32), { minLength: 1, maxLength: 2 }),
  },
  { requiredKeys: ["flags", "seq", "ack", "window"] },
);

const anySpec: fc.Arbitrary<PacketSpec> = fc.oneof(
  fc.record({
    addresses: addressPair,
    srcPort: u16,
    dstPort: u16,
    tcp: tcpSpec,
    payload: fc.nat(64),
  }).map(({ addresses, ...rest }) => ({ src: addresses[0], dst: addresses[1], protocol: "tcp" as const, ...rest })),
  fc.record({ addresses: addressPair, srcPort: u16, dstPort: u16, payload: fc.nat(64) }).map(({ addresses, ...rest }) => ({
    src: addresses[0],
    dst: addresses[1],
    protocol: "udp" as const,
    ...rest,
  })),
  fc.record({ addresses: addressPair, id: u16, seq: u16, reply: fc.boolean() }).map(({ addresses, id, seq, reply }) => ({
    src: addresses[0],
    dst: addresses[1],
    protocol: "icmp" as const,
    icmp: { id, seq, type: reply ? (addresses[0].includes(":") ? 129 : 0) : undefined },
  })),
);

/** Options that fit in 40 bytes: drop SACK blocks when everything else is present. */
function fitOptions(spec: PacketSpec): PacketSpec {
  const tcp = spec.tcp;
  if (tcp && tcp.mss !== undefined && tcp.windowScale !== undefined && tcp.sackPermitted && tcp.timestamp && tcp.sack) {
    return { ...spec, tcp: { ...tcp, sack: tcp.sack.slice(0, 1) } };
  }
  return spec;
}

describe("decoder robustness", () => {
  it("never throws on random bytes, and reports a known reason", () => {
    const rec = new PacketRecord();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.boolean(), (bytes, verify) => {
        const ok = decodePacket(bytes, 0, bytes.length, rec, verify);
        expect(ok).toBe(rec.malformed === 0);
        expect(MALFORMED_REASONS[rec.malformed]).toBeDefined();
        expect(rec.malformedAt).toBeLessThanOrEqual(bytes.length);
      }),
      { numRuns: 3000 },
    );
  });

  it("never throws on random bytes that start like IPv4 or IPv6", () => {
    const rec = new PacketRecord();
    fc.assert(
      fc.property(fc.constantFrom(0x45, 0x46, 0x4f, 0x60), fc.uint8Array({ minLength: 1, maxLength: 120 }), (first, bytes) => {
        bytes[0] = first;
        decodePacket(bytes, 0, bytes.length, rec, true);
        expect(MALFORMED_REASONS[rec.malformed]).toBeDefined();
        expect(rec.malformedAt).toBeLessThanOrEqual(bytes.length);
      }),
      { numRuns: 3000 },
    );
  });

  it("never throws on mutated or truncated valid packets", () => {
    const rec = new PacketRecord();
    fc.assert(
      fc.property(
        anySpec,
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }),
        fc.nat(),
        fc.boolean(),
        (spec, mutations, cut, verify) => {
          const packet = buildPacket(fitOptions(spec));
          for (const [at, value] of mutations) packet[at % packet.length] = value;
          const length = cut % (packet.length + 1);
          decodePacket(packet, 0, length, rec, verify);
          expect(MALFORMED_REASONS[rec.malformed]).toBeDefined();
          if (rec.malformed !== 0) expect(rec.malformedAt).toBeLessThanOrEqual(length);
          // What consumers index with must stay inside the packet.
          if (rec.malformed === 0) expect(rec.ipTotalLength).toBeLessThanOrEqual(length);
          if (rec.malformed === 0 && rec.hasL4) {
            expect(rec.l4Offset).toBeLessThanOrEqual(rec.payloadOffset);
            expect(rec.payloadOffset + rec.payloadLength).toBeLessThanOrEqual(rec.ipTotalLength);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("build then decode", () => {
  it("returns what was built: addresses, ports, seq/ack, flags, window, options, echo ids", () => {
    fc.assert(
      fc.property(anySpec, (rawSpec) => {
        const spec = fitOptions(rawSpec);
        const rec = decode(buildPacket(spec), true);
        expect(MALFORMED_REASONS[rec.malformed]).toBe("none");
        expect(rec.hasL4).toBe(true);
        const fresh = decode(buildPacket({ ...spec, src: spec.dst, dst: spec.src }));
        // Swapping the addresses swaps the decoded words: addresses are read from the right place.
        expect([fresh.dst0, fresh.dst1, fresh.dst2, fresh.dst3]).toEqual([rec.src0, rec.src1, rec.src2, rec.src3]);
        if (spec.protocol === "tcp") {
          const tcp = spec.tcp!;
          expect(rec.srcPort).toBe(spec.srcPort);
          expect(rec.dstPort).toBe(spec.dstPort);
          expect(rec.tcpSeq).toBe(tcp.seq);
          expect(rec.tcpAck).toBe(tcp.ack);
          expect(rec.tcpFlags).toBe(tcp.flags);
          expect(rec.tcpWindow).toBe(tcp.window);
          expect(rec.tcpWindowScale).toBe(tcp.windowScale ?? -1);
          expect(rec.payloadLength).toBe(spec.payload);
        } else if (spec.protocol === "udp") {
          expect([rec.srcPort, rec.dstPort, rec.payloadLength]).toEqual([spec.srcPort, spec.dstPort, spec.payload]);
        } else {
          expect(rec.icmpId).toBe(spec.icmp!.id);
          expect(rec.icmpIsEchoReply).toBe(spec.icmp!.type !== undefined);
          expect(rec.icmpIsEchoRequest).toBe(spec.icmp!.type === undefined);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

function withByte(packet: Uint8Array, at: number, value: number): Uint8Array {
  packet[at] = value;
  return packet;
}

describe("record reuse", () => {
  const inner = buildPacket({ src: "100.64.0.20", dst: "100.64.0.30", protocol: "tcp", tcp: { seq: 99 } });
  const corpus: Uint8Array[] = [
    buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp", tcp: { flags: "S", mss: 1460, windowScale: 7, sackPermitted: true, timestamp: [1, 2] } }),
    buildPacket({ src: "fd00::1", dst: "fd00::2", protocol: "tcp", tcp: { flags: "A", sack: [[1, 2], [3, 4], [5, 6]] }, payload: 10 }),
    buildPacket({ src: "100.64.0.40", dst: "100.64.0.20", protocol: "icmp", icmp: { type: 3, code: 3, quote: inner } }),
    buildPacket({ src: "fd00::1", dst: "fd00::2", protocol: "icmp", icmp: { id: 3, seq: 4 } }),
    buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "udp", payload: 20, moreFragments: true, ipId: 5 }),
    buildPacket({ src: "fd00::1", dst: "fd00::2", protocol: "udp", fragmentOffset: 1232, ipId: 6, payload: 8 }),
    buildPacket({ src: "fd00::1", dst: "fd00::2", protocol: 50, payload: 8 }),
    buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp", tcp: { rawOptions: Uint8Array.of(2, 4, 5, 180, 8, 3) } }),
    buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp" }).subarray(0, 30),
    buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "udp" }).subarray(0, 10),
    Uint8Array.of(0x70, 1, 2, 3),
    withByte(buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp", payload: 8 }), 32, 0x30), // bad TCP offset
    withByte(buildPacket({ src: "fd00::1", dst: "fd00::2", protocol: "udp", payload: 8 }), 45, 99), // bad UDP length
    buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "icmp", rawL4: true, payload: 5 }), // truncated ICMP
    buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp", moreFragments: true, rawL4: true, payload: 8 }), // tiny fragment
    buildPacket({ src: "fd00::1", dst: "fd00::2", protocol: "tcp", fragmentOffset: 8, payload: 8 }), // overlap
    buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "udp", ipOptions: Uint8Array.of(148, 0) }), // bad IPv4 option
    // The shapes decodeCommonTcpIpv4 takes: no TCP options, and NOP, NOP, timestamp.
    buildPacket({ src: "100.64.0.10", dst: "200.64.0.20", protocol: "tcp", dontFragment: true, tcp: { flags: "PA", seq: 0xf0000000, ack: 7 }, payload: 12 }),
    buildPacket({ src: "200.64.0.10", dst: "100.64.0.20", protocol: "tcp", tcp: { flags: "A", timestamp: [0x80000001, 0xffffffff] }, payload: 3 }),
  ];

  it("decoding B after A gives exactly what decoding B into a fresh record gives", () => {
    fc.assert(
      fc.property(fc.constantFrom(...corpus), fc.constantFrom(...corpus), (a, b) => {
        const reused = decode(b, false, decode(a));
        expect(snapshot(reused)).toEqual(snapshot(decode(b)));
      }),
      { numRuns: 1500 },
    );
  });
});
