// decodeCommonTcpIpv4, the fast path for TCP/IPv4 without IP options (no TCP options, or
// NOP, NOP, timestamp), must give exactly what the general decoder gives, and must leave
// every other packet to it without touching the record. decodePacket skips the fast path
// when verifying checksums, which is how these tests reach the general decoder. The fast
// path reads through a DataView made for an array seen twice in a row (buffer-view.ts):
// `adopt` shows each packet's array twice first.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { formatIpv4 } from "../../src/packet/address.ts";
import { buildPacket } from "../../src/packet/builder.ts";
import type { PacketSpec } from "../../src/packet/builder.ts";
import { viewOf } from "../../src/packet/buffer-view.ts";
import { commonTcpIpv4HeaderLength, decodeCommonTcpIpv4 } from "../../src/packet/decode-common-tcp-ipv4.ts";
import { decodePacket } from "../../src/packet/decode.ts";
import { PacketRecord } from "../../src/packet/record.ts";
import { tcp4View } from "../../src/packet/tcp4-view.ts";
import { decode, setU16, snapshot } from "./helpers.ts";

const u32 = fc.nat(0xffffffff);
const u16 = fc.nat(0xffff);

const commonShape: fc.Arbitrary<PacketSpec> = fc
  .record({
    src: u32.map(formatIpv4),
    dst: u32.map(formatIpv4),
    srcPort: u16,
    dstPort: u16,
    ttl: fc.nat(255),
    ipId: u16,
    dontFragment: fc.boolean(),
    flags: fc.nat(0xff),
    seq: u32,
    ack: u32,
    window: u16,
    timestamp: fc.option(fc.tuple(u32, u32), { nil: undefined }),
    payload: fc.nat(64),
  })
  .map(({ src, dst, srcPort, dstPort, ttl, ipId, dontFragment, flags, seq, ack, window, timestamp, payload }) => ({
    src,
    dst,
    protocol: "tcp" as const,
    srcPort,
    dstPort,
    ttl,
    ipId,
    dontFragment,
    tcp: { flags, seq, ack, window, timestamp },
    payload,
  }));

function adopt(packet: Uint8Array): void {
  viewOf(packet);
  expect(viewOf(packet), "an array seen twice in a row gets a view").not.toBeNull();
}

/** The record decodeCommonTcpIpv4 leaves, or null when it declined (the record must then be untouched). */
function fastDecode(packet: Uint8Array, length = packet.length, rec = new PacketRecord()): PacketRecord | null {
  adopt(packet);
  const before = snapshot(rec);
  if (decodeCommonTcpIpv4(packet, 0, length, rec)) return rec;
  expect(snapshot(rec), "a declined packet leaves the record as it was").toEqual(before);
  return null;
}

describe("TCP/IPv4 fast path", () => {
  it("decodes the common shapes exactly as the general decoder does", () => {
    fc.assert(
      fc.property(commonShape, (spec) => {
        const packet = buildPacket(spec);
        const fast = fastDecode(packet);
        expect(fast, "the fast path takes this packet").not.toBeNull();
        expect(snapshot(fast!)).toEqual(snapshot(decode(packet, true)));
      }),
      { numRuns: 1000 },
    );
  });

  it("reads every field it decodes at the offset the one TCP/IPv4 header view reads it (it keeps its own reads, for speed)", () => {
    fc.assert(
      fc.property(commonShape, fc.nat(16), (spec, at) => {
        const packet = buildPacket(spec);
        const buf = new Uint8Array(at + packet.length);
        buf.set(packet, at);
        adopt(buf);
        const rec = new PacketRecord();
        expect(decodeCommonTcpIpv4(buf, at, packet.length, rec)).toBe(true);
        const view = viewOf(buf)!;
        const v = tcp4View;
        const l4 = at + 20;
        const ofw = v.tcpOffsetFlagsWindow(view, l4);
        expect(rec.ipTotalLength).toBe(v.ipv4TotalLength(view, at));
        expect(rec.ipTotalLength).toBe(v.ipv4TotalLengthBytes(buf, at));
        expect(rec.ttl).toBe(v.ipv4TtlProtocol(view, at) >>> 24);
        expect(rec.ipId).toBe(v.ipv4IdFragment(view, at) >>> 16);
        expect(rec.src0).toBe(v.ipv4Src(view, at) >>> 0);
        expect(rec.dst0).toBe(v.ipv4Dst(view, at) >>> 0);
        expect((rec.srcPort << 16) | rec.dstPort).toBe(v.l4Ports(view, l4) | 0);
        expect(rec.tcpSeq).toBe(v.tcpSeq(view, l4) >>> 0);
        expect(rec.tcpAck).toBe(v.tcpAck(view, l4) >>> 0);
        expect(rec.tcpHeaderLength).toBe(v.headerLengthOf(ofw));
        expect(rec.tcpFlags).toBe(v.flagsOf(ofw));
        expect(rec.tcpWindow).toBe(v.windowOf(ofw));
      }),
      { numRuns: 500 },
    );
  });

  it("the header view's byte reader takes the IP total length from bytes 2-3, also past 255 and not at the buffer's start", () => {
    const packet = buildPacket({ src: "100.64.0.1", dst: "100.64.0.2", protocol: "tcp", srcPort: 1, dstPort: 2, tcp: { flags: "A" }, payload: 1000 });
    const buf = new Uint8Array(8 + packet.length).fill(0xff);
    buf.set(packet, 8);
    expect(tcp4View.ipv4TotalLengthBytes(buf, 8)).toBe(packet.length);
  });

  it("agrees with the general decoder on mutated and cut packets, malformed ones included", () => {
    fc.assert(
      fc.property(
        commonShape,
        fc.array(fc.tuple(fc.nat(59), fc.nat(255)), { maxLength: 3 }),
        fc.nat(),
        (spec, mutations, cut) => {
          const packet = buildPacket(spec);
          for (const [at, value] of mutations) packet[at % packet.length] = value;
          const length = cut % (packet.length + 1);
          // A fresh copy is an array decodePacket has not seen: the general decoder takes it.
          const general = new PacketRecord();
          const generalOk = decodePacket(packet.slice(), 0, length, general);
          adopt(packet);
          const rec = new PacketRecord();
          expect(decodePacket(packet, 0, length, rec)).toBe(generalOk);
          expect(snapshot(rec)).toEqual(snapshot(general));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("ignores link-layer padding past the total length, as the general decoder does", () => {
    const packet = new Uint8Array(80);
    packet.set(buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp", tcp: { flags: "A" }, payload: 6 }));
    expect(snapshot(fastDecode(packet)!)).toEqual(snapshot(decode(packet, true)));
  });

  it("declines every other layout and every malformed packet, leaving them to the general decoder", () => {
    const tcp = (spec: Partial<PacketSpec> = {}) => buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp", payload: 8, ...spec });
    const declined: [string, Uint8Array, number?][] = [
      ["IP options", tcp({ ipOptions: Uint8Array.of(1, 1, 1, 0) })],
      ["first fragment", tcp({ moreFragments: true })],
      ["later fragment", tcp({ fragmentOffset: 16 })],
      ["SYN options", tcp({ tcp: { flags: "S", mss: 1460, timestamp: [1, 0] } })],
      ["SACK", tcp({ tcp: { flags: "A", sack: [[1, 2]] } })],
      ["UDP", buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "udp" })],
      ["IPv6", buildPacket({ src: "fd00::1", dst: "fd00::2", protocol: "tcp" })],
      ["buffer shorter than the total length", tcp(), 40],
      ["total length past the TCP header's end", setU16(tcp(), 2, 39)],
      ["TCP data offset < 5", (() => { const p = tcp(); p[32] = 0x40; return p; })()],
      ["TCP data offset past the segment", (() => { const p = tcp({ payload: 0 }); p[32] = 0x60; return p; })()],
      ["timestamp header cut by the total length", setU16(tcp({ tcp: { flags: "A", timestamp: [1, 2] }, payload: 0 }), 2, 48)],
      ["too short for IPv4 + TCP", tcp().subarray(0, 39)],
    ];
    for (const [what, packet, length] of declined) {
      expect(fastDecode(packet, length ?? packet.length), what).toBeNull();
    }
    const rec = new PacketRecord();
    const packet = tcp();
    adopt(packet);
    expect(decodeCommonTcpIpv4(packet, -1, 48, rec), "negative offset").toBe(false);
    expect(decodeCommonTcpIpv4(packet, 0.5, 48, rec), "fractional offset").toBe(false);
    expect(decodeCommonTcpIpv4(packet, 1, 48, rec), "range past the buffer").toBe(false);
    expect(decodeCommonTcpIpv4(packet, 0, 48, rec), "the same packet, well formed").toBe(true);
  });

  it("clears what a packet of another kind left in a reused record", () => {
    const quoted = buildPacket({ src: "100.64.0.20", dst: "198.18.1.5", protocol: "udp" });
    const tcp = (spec: Partial<PacketSpec> = {}) => buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp", payload: 8, ...spec });
    const previous = [
      buildPacket({ src: "fd00::1", dst: "fd00::2", protocol: "tcp", tcp: { flags: "A", timestamp: [5, 6] } }),
      buildPacket({ src: "fd00::1", dst: "fd00::2", protocol: "udp", payload: 4 }),
      buildPacket({ src: "100.64.0.40", dst: "100.64.0.20", protocol: "icmp", icmp: { type: 3, code: 3, quote: quoted } }),
      buildPacket({ src: "fd00::1", dst: "fd00::2", protocol: "icmp", icmp: { id: 1, seq: 2 } }),
      buildPacket({ src: "fd00::1", dst: "fd00::2", protocol: 50, payload: 8 }),
      tcp({ tcp: { flags: "S", mss: 1460, windowScale: 7, sackPermitted: true } }),
      tcp({ tcp: { flags: "A", sack: [[1, 2]] } }),
      tcp({ ipOptions: Uint8Array.of(1, 1, 1, 0) }),
      tcp({ moreFragments: true }),
      tcp({ fragmentOffset: 16 }),
      (() => { const p = tcp(); p[32] = 0x40; return p; })(), // malformed: TCP data offset < 5
      tcp().subarray(0, 30), // truncated
    ];
    const next = tcp({ tcp: { flags: "A", timestamp: [7, 8] } });
    const fresh = snapshot(decode(next));
    // Each fast decode must come out as a fresh record would, whatever the general
    // decoder wrote in between (verify = true makes decodePacket take the general path).
    const rec = new PacketRecord();
    for (const p of previous) {
      expect(snapshot(fastDecode(next, next.length, rec)!)).toEqual(fresh);
      decodePacket(p, 0, p.length, rec, true);
      expect(snapshot(fastDecode(next, next.length, rec)!), `after ${p.length}-byte packet ${previous.indexOf(p)}`).toEqual(fresh);
    }
  });

  it("decodes packets at any offset of a batch buffer, and of a subarray of one", () => {
    const packets = [
      buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp", tcp: { flags: "A", seq: 1 }, payload: 3 }),
      buildPacket({ src: "100.64.0.20", dst: "100.64.0.10", protocol: "tcp", tcp: { flags: "A", timestamp: [9, 10] }, payload: 1 }),
    ];
    const batch = new Uint8Array(7 + packets[0].length + packets[1].length);
    batch.set(packets[0], 7);
    batch.set(packets[1], 7 + packets[0].length);
    const window = batch.subarray(5);
    viewOf(window);
    const rec = new PacketRecord();
    for (const [at, packet] of [[2, packets[0]], [2 + packets[0].length, packets[1]]] as const) {
      expect(decodeCommonTcpIpv4(window, at, packet.length, rec)).toBe(true);
      expect(snapshot(rec)).toEqual(snapshot(decode(packet, true)));
    }
  });
});

describe("commonTcpIpv4HeaderLength", () => {
  /** What it says for buf[base, base + length), checked against what decodeCommonTcpIpv4 does with the same bytes. */
  function agrees(packet: Uint8Array, base: number, length: number): number {
    adopt(packet);
    const headerLength = commonTcpIpv4HeaderLength(packet, viewOf(packet)!, base, length);
    const rec = new PacketRecord();
    const decoded = decodeCommonTcpIpv4(packet, base, length, rec);
    expect(headerLength !== 0, "accepts exactly what the fast decoder decodes").toBe(decoded);
    if (decoded) expect(headerLength).toBe(rec.tcpHeaderLength);
    return headerLength;
  }

  it("accepts exactly the packets decodeCommonTcpIpv4 decodes, with their TCP header length", () => {
    fc.assert(
      fc.property(commonShape, fc.array(fc.tuple(fc.nat(59), fc.nat(255)), { maxLength: 3 }), fc.nat(), (spec, mutations, cut) => {
        const packet = buildPacket(spec);
        expect(agrees(packet, 0, packet.length)).toBe(spec.tcp?.timestamp === undefined ? 20 : 32);
        for (const [at, value] of mutations) packet[at % packet.length] = value;
        agrees(packet, 0, cut % (packet.length + 1));
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses offsets and lengths outside the buffer", () => {
    const packet = buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp", tcp: { flags: "A" }, payload: 8 });
    for (const [base, length] of [[-1, 48], [0.5, 48], [1, 48], [0, 48.5], [0, -48], [0, 2 ** 32 + 48]]) {
      expect(agrees(packet, base, length), `base ${base}, length ${length}`).toBe(0);
    }
    expect(agrees(packet, 0, 48)).toBe(20);
  });
});

describe("viewOf", () => {
  it("makes a view only for an array seen twice in a row, so alternating arrays never allocate one", () => {
    const a = new Uint8Array(100);
    const b = new Uint8Array(100);
    for (let i = 0; i < 10; i++) {
      expect(viewOf(a)).toBeNull();
      expect(viewOf(b)).toBeNull();
    }
    expect(viewOf(b)).not.toBeNull();
    expect(viewOf(a)).toBeNull();
    expect(viewOf(b), "the view stays with its array").not.toBeNull();
  });

  it("keeps the views of four arrays used in turn, as an agent's read buffers are", () => {
    const arrays = Array.from({ length: 5 }, () => new Uint8Array(64));
    const views = arrays.slice(0, 4).map((a) => (viewOf(a), viewOf(a)));
    for (let round = 0; round < 3; round++) arrays.slice(0, 4).forEach((a, i) => expect(viewOf(a), `array ${i}`).toBe(views[i]));
    // A fifth array takes the place of the one whose view is oldest.
    viewOf(arrays[4]);
    expect(viewOf(arrays[4])).not.toBeNull();
    expect(viewOf(arrays[0])).toBeNull();
    expect(viewOf(arrays[1])).toBe(views[1]);
  });

  it("views exactly the array's bytes, also for a subarray", () => {
    const whole = Uint8Array.from({ length: 16 }, (_, i) => i);
    const part = whole.subarray(3, 11);
    viewOf(part);
    const view = viewOf(part)!;
    expect([view.byteLength, view.getUint8(0), view.getUint32(4)]).toEqual([8, 3, 0x0708090a]);
  });

  it("leaves arrays over resizable buffers alone: their length can change under a view", () => {
    const Resizable = ArrayBuffer as unknown as new (length: number, options: { maxByteLength: number }) => ArrayBuffer;
    const buffer = new Resizable(64, { maxByteLength: 128 });
    const array = new Uint8Array(buffer);
    viewOf(array);
    expect(viewOf(array)).toBeNull();
  });
});
