// Fuzzing the engine with structured mutations of valid packets: truncation (with and
// without the length fields following), flipped bits and bytes, lying lengths,
// fragment fields, and cut or altered ICMP quotes. The same packets go through the
// per-packet entry points (inbound/outbound and judge) and through judgeBatch (with
// the direction given, and classified), on engines that saw the same traffic before.
// Asserted for every packet:
// - every entry point gives the same verdict (and inbound/outbound and judgeBatch
//   count the same reasons);
// - no packet the decoder calls malformed is accepted;
// - no fragment reaching past 65,535 bytes is accepted;
// - no ICMP error is accepted as related unless its quote holds what the relation
//   needs (TCP: the sequence number; UDP: the ports; ICMP: an echo request and its id),
//   and no source quench at all.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DIR_IN, DIR_NONE, DIR_OUT, Engine, VERDICT_ACCEPT } from "../../src/engine/engine.ts";
import type { EngineOptions } from "../../src/engine/engine.ts";
import { REASON_RELATED } from "../../src/engine/reasons.ts";
import { buildPacket } from "../../src/packet/builder.ts";
import type { PacketSpec } from "../../src/packet/builder.ts";
import { decodePacket } from "../../src/packet/decode.ts";
import { PacketRecord, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP } from "../../src/packet/record.ts";
import { packBatch } from "../support/batch.ts";
import { ALICE, DB, policyFor, WEB } from "./helpers.ts";

const SELF6 = "fd00::20";
const ALICE6 = "fd00::10";
const WEB6 = "fd00::30";
const ROUTER = "100.64.0.99";
const ROUTER6 = "fd00::99";

function policy() {
  const p = policyFor(DB, {
    inbound: [
      { id: "pg/alice", protocol: "tcp", sources: [`${ALICE}/32`, `${ALICE6}/128`], destinations: [`${DB}/32`, `${SELF6}/128`], ports: [5432] },
      { id: "icmp/all", protocol: "icmp", sources: ["100.64.0.0/16", "fd00::/64"], destinations: [`${DB}/32`, `${SELF6}/128`] },
      { id: "dns/udp", protocol: "udp", sources: ["100.64.0.0/16", "fd00::/64"], destinations: [`${DB}/32`, `${SELF6}/128`], ports: [53] },
    ],
  });
  p.peer.addresses = [DB, SELF6];
  return p;
}

interface Base {
  bytes: Uint8Array;
  dir: number;
  /** The packet has an IPv6 fragment header right after the fixed header. */
  v6Fragment?: boolean;
}

const inn = (spec: PacketSpec, extra: Partial<Base> = {}): Base => ({ bytes: buildPacket(spec), dir: DIR_IN, ...extra });
const out = (spec: PacketSpec, extra: Partial<Base> = {}): Base => ({ bytes: buildPacket(spec), dir: DIR_OUT, ...extra });

/** Traffic that opens flows, sessions and datagrams, judged unmutated first. */
function setupPackets(): Base[] {
  const list: Base[] = [];
  for (const [self, alice, web] of [
    [DB, ALICE, WEB],
    [SELF6, ALICE6, WEB6],
  ]) {
    list.push(
      out({ src: self, dst: web, protocol: "tcp", srcPort: 41000, dstPort: 443, tcp: { flags: "S", seq: 10 } }),
      inn({ src: web, dst: self, protocol: "tcp", srcPort: 443, dstPort: 41000, tcp: { flags: "SA", seq: 5000, ack: 11 } }),
      out({ src: self, dst: web, protocol: "tcp", srcPort: 41000, dstPort: 443, tcp: { flags: "A", seq: 11, ack: 5001 } }),
      inn({ src: alice, dst: self, protocol: "tcp", srcPort: 50000, dstPort: 5432, tcp: { flags: "S", seq: 0 } }),
      out({ src: self, dst: web, protocol: "icmp", icmp: { id: 0, seq: 1 } }),
      out({ src: self, dst: web, protocol: "icmp", icmp: { id: 7, seq: 1 } }),
      inn({ src: alice, dst: self, protocol: "icmp", icmp: { id: 0, seq: 1 } }),
      out({ src: self, dst: web, protocol: "udp", srcPort: 0, dstPort: 0, payload: 8 }),
      out({ src: self, dst: web, protocol: "udp", srcPort: 4000, dstPort: 53, payload: 8 }),
      inn({ src: alice, dst: self, protocol: "udp", srcPort: 5000, dstPort: 53, ipId: 42, moreFragments: true, payload: 64 }, { v6Fragment: self === SELF6 }),
      out({ src: self, dst: web, protocol: "udp", srcPort: 4001, dstPort: 53, ipId: 43, moreFragments: true, payload: 64 }, { v6Fragment: self === SELF6 }),
    );
  }
  return list;
}

/** The packets the fuzzer mutates: the setup traffic again, errors about it, fragments, other ICMP. */
function probePackets(setup: Base[]): Base[] {
  const list: Base[] = [...setup];
  for (const [self, alice, web, router] of [
    [DB, ALICE, WEB, ROUTER],
    [SELF6, ALICE6, WEB6, ROUTER6],
  ]) {
    const v6 = self === SELF6;
    const quoted = setup.filter((b) => b.dir === DIR_OUT && (b.bytes[0] >> 4 === 6) === v6).map((b) => b.bytes);
    quoted.push(buildPacket({ src: self, dst: web, protocol: "tcp", srcPort: 41000, dstPort: 443, tcp: { flags: "A", seq: 11, ack: 5001 }, payload: 100 }));
    quoted.push(buildPacket({ src: self, dst: alice, protocol: "icmp", icmp: { type: v6 ? 129 : 0, id: 0, seq: 1 } }));
    quoted.push(buildPacket({ src: self, dst: web, protocol: "icmp", icmp: { type: v6 ? 1 : 3, quote: quoted[0].subarray(0, v6 ? 48 : 28) } }));
    const types = v6 ? [1, 2, 3, 4] : [3, 4, 5, 11, 12];
    quoted.forEach((quote, i) => {
      const type = types[i % types.length];
      list.push(inn({ src: i % 2 === 0 ? router : web, dst: self, protocol: "icmp", icmp: { type, code: 1, quote } }));
    });
    // Errors this peer sends about what reached it.
    const fromAlice = setup.filter((b) => b.dir === DIR_IN && (b.bytes[0] >> 4 === 6) === v6).map((b) => b.bytes);
    for (const quote of fromAlice) list.push(out({ src: self, dst: alice, protocol: "icmp", icmp: { type: v6 ? 1 : 3, code: 3, quote } }));
    list.push(
      inn({ src: alice, dst: self, protocol: "icmp", icmp: { type: v6 ? 130 : 13 } }),
      out({ src: self, dst: alice, protocol: "icmp", icmp: { type: v6 ? 131 : 14 } }),
      inn({ src: web, dst: self, protocol: "icmp", icmp: { type: v6 ? 129 : 0, id: 7, seq: 1 } }),
      inn({ src: web, dst: self, protocol: "icmp", icmp: { type: v6 ? 129 : 0, id: 0, seq: 1 } }),
      inn({ src: alice, dst: self, protocol: "udp", ipId: 42, fragmentOffset: 72, moreFragments: true, payload: 64 }, { v6Fragment: v6 }),
      inn({ src: alice, dst: self, protocol: "udp", ipId: 42, fragmentOffset: 65504, payload: 8 }, { v6Fragment: v6 }),
      inn({ src: alice, dst: self, protocol: "udp", ipId: 42, fragmentOffset: 65528, payload: 8 }, { v6Fragment: v6 }),
      out({ src: self, dst: web, protocol: "udp", ipId: 43, fragmentOffset: 72, payload: 64 }, { v6Fragment: v6 }),
      inn({ src: web, dst: self, protocol: "tcp", srcPort: 443, dstPort: 41000, tcp: { flags: "A", seq: 5001, ack: 11 }, payload: 200 }),
      inn({ src: web, dst: self, protocol: "udp", srcPort: 53, dstPort: 4000, payload: 20 }),
    );
  }
  return list;
}

type Mutation =
  | { kind: "none" }
  | { kind: "truncate"; keep: number; fixLength: boolean }
  | { kind: "bit"; at: number; bit: number }
  | { kind: "byte"; at: number; value: number }
  | { kind: "ipLength"; value: number }
  | { kind: "fragment"; offset: number; more: boolean }
  | { kind: "quoteCut"; keep: number }
  | { kind: "quoteL4Byte"; at: number; value: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant({ kind: "none" as const }),
  fc.record({ kind: fc.constant("truncate" as const), keep: fc.nat(160), fixLength: fc.boolean() }),
  fc.record({ kind: fc.constant("bit" as const), at: fc.nat(100), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant("byte" as const), at: fc.nat(120), value: fc.nat(255) }),
  fc.record({ kind: fc.constant("ipLength" as const), value: fc.nat(0xffff) }),
  fc.record({ kind: fc.constant("fragment" as const), offset: fc.oneof(fc.nat(0x1fff), fc.integer({ min: 0x1ff0, max: 0x1fff })), more: fc.boolean() }),
  fc.record({ kind: fc.constant("quoteCut" as const), keep: fc.nat(72) }),
  fc.record({ kind: fc.constant("quoteL4Byte" as const), at: fc.nat(7), value: fc.nat(255) }),
);

const isV6 = (p: Uint8Array) => p[0] >> 4 === 6;

function setLength(p: Uint8Array, length: number): void {
  const field = isV6(p) ? Math.max(0, length - 40) : length;
  const at = isV6(p) ? 4 : 2;
  p[at] = (field >> 8) & 0xff;
  p[at + 1] = field & 0xff;
}

/** Where the quote of an ICMP error starts (after the 8-byte ICMP header), or -1. */
function quoteStart(p: Uint8Array): number {
  const rec = new PacketRecord();
  if (!decodePacket(p, 0, p.length, rec) || !rec.icmpIsError) return -1;
  return rec.l4Offset + 8;
}

function mutate(base: Base, m: Mutation): Uint8Array {
  const p = base.bytes.slice();
  switch (m.kind) {
    case "none":
      return p;
    case "truncate": {
      const q = p.subarray(0, Math.min(m.keep, p.length)).slice();
      if (m.fixLength && q.length >= 6) setLength(q, q.length);
      return q;
    }
    case "bit":
      if (m.at < p.length) p[m.at] ^= 1 << m.bit;
      return p;
    case "byte":
      if (m.at < p.length) p[m.at] = m.value;
      return p;
    case "ipLength":
      setLength(p, isV6(p) ? m.value + 40 : m.value);
      return p;
    case "fragment":
      if (!isV6(p)) {
        const word = (m.more ? 0x2000 : 0) | m.offset;
        p[6] = word >> 8;
        p[7] = word & 0xff;
      } else if (base.v6Fragment) {
        const word = (m.offset << 3) | (m.more ? 1 : 0);
        p[42] = word >> 8;
        p[43] = word & 0xff;
      }
      return p;
    case "quoteCut": {
      const at = quoteStart(p);
      if (at < 0) return p;
      const q = p.subarray(0, Math.min(p.length, at + m.keep)).slice();
      setLength(q, q.length);
      return q;
    }
    case "quoteL4Byte": {
      const at = quoteStart(p);
      if (at < 0 || at >= p.length) return p;
      const innerL4 = at + (isV6(p.subarray(at)) ? 40 : (p[at] & 0x0f) * 4);
      if (innerL4 + m.at < p.length) p[innerL4 + m.at] = m.value;
      return p;
    }
  }
}

/** Whether an ICMP error's quote holds what relating it needs, read from the bytes. */
function quoteCarriesEvidence(p: Uint8Array, rec: PacketRecord): boolean {
  if (rec.protocol === PROTO_ICMP && rec.icmpType === 4) return false; // source quench: never
  const end = rec.ipTotalLength;
  const q = rec.l4Offset + 8;
  if (q >= end) return false;
  let protocol: number;
  let l4: number;
  if (p[q] >> 4 === 4) {
    const ihl = (p[q] & 0x0f) * 4;
    protocol = p[q + 9];
    const offset = ((p[q + 6] << 8) | p[q + 7]) & 0x1fff;
    l4 = offset !== 0 ? end : q + ihl;
  } else {
    protocol = p[q + 6];
    if (protocol !== PROTO_TCP && protocol !== PROTO_UDP && protocol !== PROTO_ICMPV6) return true; // extension headers: not judged here
    l4 = q + 40;
  }
  const quoted = end - l4;
  if (protocol === PROTO_TCP) return quoted >= 8;
  if (protocol === PROTO_UDP) return quoted >= 4;
  if (protocol === PROTO_ICMP || protocol === PROTO_ICMPV6) return quoted >= 6 && (p[l4] === 8 || p[l4] === 128);
  return true;
}

/** Offset * 8 + data past 65,535 (IPv4 from the bytes; IPv6 from the decoded fragment header). */
function reachesPast65535(p: Uint8Array, rec: PacketRecord): boolean {
  if (p.length >= 20 && p[0] >> 4 === 4) {
    const ihl = (p[0] & 0x0f) * 4;
    const total = (p[2] << 8) | p[3];
    const offset = (((p[6] << 8) | p[7]) & 0x1fff) * 8;
    return offset > 0 && offset + total - ihl > 65535;
  }
  return rec.isFragment && rec.fragmentOffset > 0 && rec.fragmentOffset + rec.ipTotalLength - rec.ipHeaderLength > 65535;
}

const OPTIONS: EngineOptions = { conntrack: { capacity: 1024 }, fragments: { capacity: 256 } };
const NOW = 1_000_000;

describe("engine fuzz: structured mutations of valid packets", () => {
  const setup = setupPackets();
  const probes = probePackets(setup);

  it("per-packet and batch entry points agree; nothing malformed, too long or unrelated passes", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(probes.length - 1), mutation), { minLength: 1, maxLength: 24 }), (choices) => {
        const engines = [0, 1, 2, 3].map(() => new Engine(policy(), OPTIONS));
        for (const e of engines) e.setTime(NOW);
        const traffic = [...setup.map((b) => ({ bytes: b.bytes, dir: b.dir })), ...choices.map(([i, m]) => ({ bytes: mutate(probes[i], m), dir: probes[i].dir }))];
        const [single, classified, batched, batchedClassified] = engines;
        // Per packet: inbound/outbound, and judge (which classifies).
        const verdicts = traffic.map(({ bytes, dir }) => {
          const v = dir === DIR_IN ? single.inbound(bytes, 0, bytes.length) : single.outbound(bytes, 0, bytes.length);
          return { v, reason: single.lastReason };
        });
        // judge classifies: a mutated address can make it judge a packet the other way (or
        // not at all), after which the two engines' states may differ.
        let sameDirections = traffic.length;
        const judged = traffic.map(({ bytes, dir }, i) => {
          const v = classified.judge(bytes, 0, bytes.length);
          if (classified.lastDirection !== dir && sameDirections > i) sameDirections = i;
          return v;
        });
        // Batches: runs of one direction with the direction given; everything at once classified.
        const fromBatches = new Uint8Array(traffic.length);
        for (let i = 0; i < traffic.length; ) {
          let j = i;
          while (j < traffic.length && traffic[j].dir === traffic[i].dir) j++;
          const batch = packBatch(traffic.slice(i, j).map((t) => t.bytes));
          const out = new Uint8Array(batch.count);
          batched.judgeBatch(traffic[i].dir, batch.buf, batch.offsets, batch.lengths, batch.count, out);
          fromBatches.set(out, i);
          i = j;
        }
        const all = packBatch(traffic.map((t) => t.bytes));
        const fromClassified = new Uint8Array(all.count);
        batchedClassified.judgeBatch(DIR_NONE, all.buf, all.offsets, all.lengths, all.count, fromClassified);

        expect([...fromBatches]).toEqual(verdicts.map((x) => x.v));
        expect([...fromClassified]).toEqual(judged);
        expect(judged.slice(0, sameDirections)).toEqual(verdicts.slice(0, sameDirections).map((x) => x.v));
        expect([...batched.reasonCounts]).toEqual([...single.reasonCounts]);

        const rec = new PacketRecord();
        traffic.forEach(({ bytes }, i) => {
          if (verdicts[i].v !== VERDICT_ACCEPT) return;
          const what = `packet ${i} (${single.reasonName(verdicts[i].reason)}): ${Buffer.from(bytes).toString("hex")}`;
          expect(decodePacket(bytes, 0, bytes.length, rec), what).toBe(true);
          expect(reachesPast65535(bytes, rec), what).toBe(false);
          if (verdicts[i].reason === REASON_RELATED) expect(quoteCarriesEvidence(bytes, rec), what).toBe(true);
        });
      }),
      { numRuns: 250 },
    );
  });

  it("the probes themselves: unmutated errors about tracked flows relate, cut ones do not", () => {
    // A check of the fuzzer's material: without it the properties above could pass vacuously.
    const engine = new Engine(policy(), OPTIONS);
    engine.setTime(NOW);
    for (const b of setup) (b.dir === DIR_IN ? engine.inbound(b.bytes, 0, b.bytes.length) : engine.outbound(b.bytes, 0, b.bytes.length));
    const reasons = new Set<string>();
    for (const b of probes.slice(setup.length)) {
      if (b.dir === DIR_IN) engine.inbound(b.bytes, 0, b.bytes.length);
      else engine.outbound(b.bytes, 0, b.bytes.length);
      reasons.add(engine.reasonName(engine.lastReason));
    }
    for (const r of ["related", "icmp-unrelated", "fragment", "fragment-too-long", "rule-untracked", "established"]) expect(reasons).toContain(r);
  });
});
