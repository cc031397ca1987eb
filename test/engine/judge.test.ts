// The engine's one-decode entry points must answer exactly as the two-step ones:
// `judge` as classify + inbound/outbound, and judgeBatch (which, with a table beyond
// the CPU caches, loads index slots ahead) as the packets judged one by one.

import { describe, expect, it } from "vitest";
import { DIR_IN, DIR_NONE, DIR_OUT, Engine, VERDICT_DROP } from "../../src/engine/engine.ts";
import { REASON_NOT_FOR_PEER } from "../../src/engine/reasons.ts";
import { buildPacket } from "../../src/packet/builder.ts";
import type { PacketSpec } from "../../src/packet/builder.ts";
import { packBatch } from "../support/batch.ts";
import { ALICE, DB, dbPolicy, OFFICE_HOST, policyFor, ROUTER, WEB } from "./helpers.ts";

const tcp = (src: string, dst: string, sp: number, dp: number, flags: string, seq = 0, ack = 0, payload = 0): PacketSpec => ({
  src, dst, protocol: "tcp", srcPort: sp, dstPort: dp, tcp: { flags, seq, ack }, payload,
});

/** A conversation touching every path: handshakes, data, UDP, ICMP, IPv6, routed, strangers, fragments, junk. */
function conversation(): Uint8Array[] {
  const specs: PacketSpec[] = [
    tcp(ALICE, DB, 40000, 5432, "S", 100),
    tcp(DB, ALICE, 5432, 40000, "SA", 5000, 101),
    tcp(ALICE, DB, 40000, 5432, "A", 101, 5001),
    tcp(ALICE, DB, 40000, 5432, "PA", 101, 5001, 200),
    tcp(DB, ALICE, 5432, 40000, "A", 5001, 301),
    tcp(ALICE, DB, 40000, 5432, "A", 999_999, 5001), // out of window
    tcp(WEB, DB, 1, 5432, "S"), // no rule
    tcp(ALICE, DB, 40001, 5432, "A", 1, 1), // no connection
    { src: ALICE, dst: DB, protocol: "udp", srcPort: 5353, dstPort: 53, payload: 30 },
    { src: DB, dst: ALICE, protocol: "udp", srcPort: 53, dstPort: 5353, payload: 90 },
    { src: WEB, dst: DB, protocol: "icmp", icmp: { id: 7, seq: 1 } },
    { src: DB, dst: WEB, protocol: "icmp", icmp: { type: 0, id: 7, seq: 1 } },
    { src: "fd00::10", dst: "fd00::20", protocol: "udp", srcPort: 1, dstPort: 53 },
    { src: ALICE, dst: OFFICE_HOST, protocol: "tcp", srcPort: 1, dstPort: 22, tcp: { flags: "S" } },
    { src: ALICE, dst: WEB, protocol: "udp", srcPort: 1, dstPort: 53 }, // neither from nor to db-1
    { src: ALICE, dst: DB, protocol: "udp", srcPort: 9, dstPort: 53, moreFragments: true, ipId: 5, payload: 64 },
    { src: ALICE, dst: DB, protocol: "udp", srcPort: 0, dstPort: 0, fragmentOffset: 72, ipId: 5, payload: 16 },
  ];
  const packets = specs.map((s) => buildPacket(s));
  const truncated = packets[0].slice(0, 30);
  truncated[3] = 40; // total length says 40, 30 bytes present
  return [...packets, truncated, new Uint8Array([0x45, 0, 0])];
}

describe("Engine.judge", () => {
  it("classifies and judges with one decode, exactly as classify + inbound/outbound", () => {
    const one = new Engine(dbPolicy());
    const two = new Engine(dbPolicy());
    one.setTime(1000);
    two.setTime(1000);
    const seen = [0, 0, 0];
    for (const p of conversation()) {
      const verdict = one.judge(p, 0, p.length);
      const dir = two.classify(p, 0, p.length);
      expect(one.lastDirection).toBe(dir);
      seen[dir]++;
      if (dir === DIR_NONE) {
        // not judged, not counted
        expect(verdict).toBe(VERDICT_DROP);
        expect(one.lastReason).toBe(REASON_NOT_FOR_PEER);
        continue;
      }
      expect(verdict).toBe(dir === DIR_IN ? two.inbound(p, 0, p.length) : two.outbound(p, 0, p.length));
      expect([one.lastReason, one.lastRule, one.lastState]).toEqual([two.lastReason, two.lastRule, two.lastState]);
    }
    expect(seen.every((n) => n > 0)).toBe(true);
    expect(Array.from(one.reasonCounts)).toEqual(Array.from(two.reasonCounts));
    expect([...one.flows()]).toEqual([...two.flows()]);
  });

  it("a peer with a routed resource: replies from the resource are outbound", () => {
    const policy = policyFor(ROUTER, { routes: [{ id: "office/alice", protocol: "tcp", sources: [`${ALICE}/32`], destinations: ["198.18.1.0/24"], ports: [22] }] });
    const engine = new Engine(policy);
    const syn = buildPacket(tcp(ALICE, OFFICE_HOST, 40000, 22, "S", 100));
    const synAck = buildPacket(tcp(OFFICE_HOST, ALICE, 22, 40000, "SA", 5000, 101));
    engine.judge(syn, 0, syn.length);
    expect(engine.lastDirection).toBe(DIR_IN);
    expect(engine.reasonName(engine.lastReason)).toBe("rule");
    engine.judge(synAck, 0, synAck.length);
    expect(engine.lastDirection).toBe(DIR_OUT);
    expect(engine.reasonName(engine.lastReason)).toBe("established");
  });
});

describe("judgeBatch", () => {
  // 2^19 flows: a 4 MiB index, where judgeBatch starts loading index slots ahead.
  for (const capacity of [1024, 1 << 19]) {
    it(`gives the verdicts of the packets judged one by one (capacity ${capacity}), in every direction mode`, () => {
      const packets = conversation();
      const { buf, offsets, lengths } = packBatch(packets);
      for (const dir of [DIR_NONE, DIR_IN, DIR_OUT]) {
        const batch = new Engine(dbPolicy(), { conntrack: { capacity } });
        const single = new Engine(dbPolicy(), { conntrack: { capacity } });
        const verdicts = new Uint8Array(packets.length);
        batch.judgeBatch(dir, buf, offsets, lengths, packets.length, verdicts);
        const expected = packets.map((p) => {
          if (dir === DIR_IN) return single.inbound(p, 0, p.length);
          if (dir === DIR_OUT) return single.outbound(p, 0, p.length);
          return single.judge(p, 0, p.length); // DIR_NONE: judge's verdict and counting, packet by packet
        });
        expect(Array.from(verdicts)).toEqual(expected);
        expect(Array.from(batch.reasonCounts)).toEqual(Array.from(single.reasonCounts));
      }
    });
  }
});
