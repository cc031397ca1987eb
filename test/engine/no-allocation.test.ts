// The established path allocates nothing: 2,000,000 packets of established flows
// (TCP both ways, UDP, ICMP echo) through judgeBatch cause no young-generation
// collection and leave new space flat after warm-up (allocation-probe.ts says why
// that is the robust proof). Never by timing.

import { describe, expect, it } from "vitest";
import { CLASS_ACK, CLASS_FIN, CLASS_SYN, CLASS_SYNACK } from "../../src/conntrack/tcp-states.ts";
import { DIR_IN, DIR_OUT, VERDICT_ACCEPT } from "../../src/engine/engine.ts";
import { buildPacket } from "../../src/packet/builder.ts";
import type { PacketSpec } from "../../src/packet/builder.ts";
import { TcpSim } from "../conntrack/tcp-sim.ts";
import { probeAllocation } from "./allocation-probe.ts";
import { packBatch } from "../support/batch.ts";
import { ALICE, DB, Harness, policyFor } from "./helpers.ts";

const FLOWS = 256;
const PACKETS = 2_000_000;
/** New-space bytes the loop may leave: one heap number per packet would be 32 MB. */
const NEW_SPACE_BUDGET = 256 * 1024;

/**
 * Lay both directions' packets end to end in ONE buffer, as a TUN batch read would
 * (the decoder keeps one view per buffer, so a buffer per batch is the realistic case).
 */
function batches(inbound: Uint8Array[], outbound: Uint8Array[]) {
  const all = packBatch([...inbound, ...outbound]);
  const n = inbound.length;
  return {
    ins: { buf: all.buf, offsets: all.offsets.subarray(0, n), lengths: all.lengths.subarray(0, n) },
    outs: { buf: all.buf, offsets: all.offsets.subarray(n), lengths: all.lengths.subarray(n) },
  };
}

describe("no allocation on the established path", () => {
  // 2^19 flows: a 4 MiB index, where judgeBatch also loads index slots ahead.
  for (const capacity of [65536, 1 << 19]) it(`2,000,000 established-flow packets: new space stays flat, no young-generation collection (capacity ${capacity})`, () => {
    const h = new Harness(undefined, { conntrack: { capacity } });
    const events: number[] = [];
    h.engine.onFlowEvent = (e) => events.push(e.kind); // a listener must not make the established path allocate
    const inbound: Uint8Array[] = [];
    const outbound: Uint8Array[] = [];
    for (let i = 0; i < FLOWS; i++) {
      const sim = new TcpSim({ ip: ALICE, port: 20000 + i }, { ip: DB, port: 5432 });
      h.in(sim.segment(0, CLASS_SYN));
      h.out(sim.segment(1, CLASS_SYNACK));
      h.in(sim.segment(0, CLASS_ACK));
      inbound.push(sim.segment(0, CLASS_ACK));
      outbound.push(sim.segment(1, CLASS_ACK));
    }
    const udp = { src: ALICE, dst: DB, protocol: "udp" as const, srcPort: 5353, dstPort: 53, payload: 40 };
    h.in(udp);
    inbound.push(buildPacket(udp));
    outbound.push(buildPacket({ ...udp, src: DB, dst: ALICE, srcPort: 53, dstPort: 5353 }));
    const ping = { src: ALICE, dst: DB, protocol: "icmp" as const, icmp: { id: 9, seq: 1 }, payload: 32 };
    h.in(ping);
    inbound.push(buildPacket(ping));
    outbound.push(buildPacket({ ...ping, src: DB, dst: ALICE, icmp: { type: 0, id: 9, seq: 1 } }));

    const { ins, outs } = batches(inbound, outbound);
    const verdicts = new Uint8Array(inbound.length);
    const perRound = inbound.length + outbound.length;
    // Locals only: counters kept in closure variables would themselves allocate.
    const judgeRounds = (rounds: number): number => {
      let accepted = 0;
      for (let r = 0; r < rounds; r++) {
        h.engine.judgeBatch(DIR_IN, ins.buf, ins.offsets, ins.lengths, inbound.length, verdicts);
        for (let i = 0; i < inbound.length; i++) accepted += verdicts[i];
        h.engine.judgeBatch(DIR_OUT, outs.buf, outs.offsets, outs.lengths, outbound.length, verdicts);
        for (let i = 0; i < outbound.length; i++) accepted += verdicts[i];
      }
      return accepted;
    };
    const rounds = Math.ceil(PACKETS / perRound);
    judgeRounds(rounds); // warm-up to the optimising tier
    judgeRounds(rounds);
    let accepted = 0;
    const probe = probeAllocation(() => {
      accepted = judgeRounds(rounds);
    }, NEW_SPACE_BUDGET);
    const judged = rounds * perRound;

    expect(judged).toBeGreaterThanOrEqual(PACKETS);
    expect(accepted).toBe(judged);
    expect(h.engine.lastReason).toBe(1); // established
    expect(verdicts[0]).toBe(VERDICT_ACCEPT);
    expect(probe.newSpaceGrowth).toBeLessThan(NEW_SPACE_BUDGET);
    expect(probe.youngCollections).toBe(0);
  }, 60_000);

  it("new connections on a full table (create + evict) allocate nothing either", () => {
    const h = new Harness(undefined, { conntrack: { capacity: 4096 } });
    const count = 4096;
    const syn = buildPacket({ src: ALICE, dst: DB, protocol: "tcp", srcPort: 1, dstPort: 5432, tcp: { flags: "S", seq: 1 } });
    const { buf, offsets, lengths } = packBatch(new Array<Uint8Array>(count).fill(syn));
    const verdicts = new Uint8Array(count);
    let round = 0;
    const judgeRounds = (rounds: number): number => {
      let accepted = 0;
      for (let r = 0; r < rounds; r++) {
        round++;
        // A new source port per packet and round: every SYN opens a connection not seen before.
        for (let i = 0; i < count; i++) {
          const port = 1024 + ((round * count + i) % 64_000);
          buf[i * syn.length + 20] = port >>> 8;
          buf[i * syn.length + 21] = port & 255;
        }
        h.engine.judgeBatch(DIR_IN, buf, offsets, lengths, count, verdicts);
        for (let i = 0; i < count; i++) accepted += verdicts[i];
      }
      return accepted;
    };
    const rounds = Math.ceil(400_000 / count);
    judgeRounds(rounds);
    judgeRounds(rounds);
    let accepted = 0;
    const probe = probeAllocation(() => {
      accepted = judgeRounds(rounds);
    }, 128 * 1024);
    expect(accepted).toBe(rounds * count);
    expect(h.engine.stats().flows).toBe(4096);
    expect(probe.newSpaceGrowth).toBeLessThan(128 * 1024);
    expect(probe.youngCollections).toBe(0);
  }, 60_000);
  it("the general path allocates nothing either: RST challenges, ignored SYNs, window drops, FIN retransmits, ICMP echo and errors, fragments, IPv6, SACK, sequence numbers >= 2^31", () => {
    const self6 = "fd00::20";
    const policy = policyFor(DB, { inbound: [{ id: "all", protocol: "all", sources: ["0.0.0.0/0", "::/0"], destinations: [`${DB}/32`, `${self6}/128`] }] });
    policy.peer.addresses = [DB, self6];
    const h = new Harness(policy);
    h.engine.onFlowEvent = () => {}; // drops emit events
    const inbound: Uint8Array[] = [];
    const outbound: Uint8Array[] = [];
    const tcp = (src: string, dst: string, srcPort: number, dstPort: number, t: PacketSpec["tcp"], payload = 0) =>
      buildPacket({ src, dst, protocol: "tcp", srcPort, dstPort, tcp: t, payload });
    const established = (client: { ip: string; port: number }, server: { ip: string; port: number }) => {
      const sim = new TcpSim(client, server);
      for (const side of [0, 1]) sim.isn[side] = sim.next[side] = 0x9000_0000 + side * 0x100_0000; // uint32 >= 2^31
      expect(h.inWhy(sim.segment(0, CLASS_SYN, { windowScale: 7 }))).toBe("accept:rule");
      h.out(sim.segment(1, CLASS_SYNACK, { windowScale: 7 }));
      h.in(sim.segment(0, CLASS_ACK));
      return sim;
    };
    const sim = established({ ip: ALICE, port: 30000 }, { ip: DB, port: 5432 });
    const [c, s] = sim.next;
    inbound.push(
      tcp(ALICE, DB, 30000, 5432, { flags: "PA", seq: c, ack: s, window: 500, timestamp: [1, 2] }, 1000), // data (a retransmission each round)
      tcp(ALICE, DB, 30000, 5432, { flags: "PA", seq: c + 3000, ack: s, window: 500 }, 1000), // out of order
      tcp(ALICE, DB, 30000, 5432, { flags: "R", seq: c + 100 }), // in window, inexact: tcp-rst-challenge
      tcp(ALICE, DB, 30000, 5432, { flags: "S", seq: 0xa000_0000, windowScale: 7 }), // tcp-syn-ignored
      tcp(ALICE, DB, 30000, 5432, { flags: "A", seq: c + 50_000_000, ack: s }, 10), // tcp-out-of-window (a drop event)
    );
    outbound.push(
      tcp(DB, ALICE, 5432, 30000, { flags: "A", seq: s, ack: c, window: 500, sack: [[c + 3000, c + 4000]] }), // dup ACK with SACK
      tcp(DB, ALICE, 5432, 30000, { flags: "A", seq: s, ack: c, window: 900 }), // window update
    );
    const closing = established({ ip: ALICE, port: 30001 }, { ip: DB, port: 5432 });
    h.in(closing.segment(0, CLASS_FIN));
    inbound.push(closing.segment(0, CLASS_FIN)); // retransmitted FIN in FIN_WAIT_1
    const quoted = tcp(DB, ALICE, 5432, 30000, { flags: "A", seq: s, ack: c }, 1200);
    inbound.push(buildPacket({ src: "100.64.0.99", dst: DB, protocol: "icmp", icmp: { type: 3, code: 4, rest: 1280, quote: quoted } }));
    const v6 = established({ ip: "fd00::10", port: 30002 }, { ip: self6, port: 5432 });
    inbound.push(v6.segment(0, CLASS_ACK, { payload: 100 }));
    outbound.push(v6.segment(1, CLASS_ACK));
    // An echo session with an address >= 128.0.0.0 (a uint32 >= 2^31).
    const far = "198.18.0.7";
    h.out({ src: DB, dst: far, protocol: "icmp", icmp: { id: 9, seq: 1 }, payload: 32 });
    inbound.push(buildPacket({ src: far, dst: DB, protocol: "icmp", icmp: { type: 0, id: 9, seq: 1 }, payload: 32 }));
    outbound.push(buildPacket({ src: DB, dst: far, protocol: "icmp", icmp: { id: 9, seq: 1 }, payload: 32 }));
    // An error about that echo request (related), one whose quote is cut before the
    // sequence number (icmp-unrelated), and this peer's own timestamp request (rule-untracked).
    const ping = buildPacket({ src: DB, dst: far, protocol: "icmp", icmp: { id: 9, seq: 1 }, payload: 32 });
    inbound.push(buildPacket({ src: far, dst: DB, protocol: "icmp", icmp: { type: 11, quote: ping } }));
    inbound.push(buildPacket({ src: "100.64.0.99", dst: DB, protocol: "icmp", icmp: { type: 3, code: 4, quote: quoted.subarray(0, 24) } }));
    outbound.push(buildPacket({ src: DB, dst: far, protocol: "icmp", icmp: { type: 13 } }));
    // A datagram in two fragments (a slot taken and freed every round), and a fragment past 65,535 bytes.
    inbound.push(buildPacket({ src: ALICE, dst: DB, protocol: "udp", dstPort: 53, ipId: 77, moreFragments: true, payload: 64 }));
    inbound.push(buildPacket({ src: ALICE, dst: DB, protocol: "udp", ipId: 77, fragmentOffset: 72, payload: 64 }));
    inbound.push(buildPacket({ src: ALICE, dst: DB, protocol: "udp", ipId: 78, fragmentOffset: 65528, payload: 8 }));

    const { ins, outs } = batches(inbound, outbound);
    const verdicts = new Uint8Array(inbound.length);
    const seen = new Float64Array(3);
    const judgeRounds = (rounds: number): void => {
      for (let r = 0; r < rounds; r++) {
        h.engine.judgeBatch(DIR_IN, ins.buf, ins.offsets, ins.lengths, inbound.length, verdicts);
        for (let i = 0; i < inbound.length; i++) seen[verdicts[i]]++;
        h.engine.judgeBatch(DIR_OUT, outs.buf, outs.offsets, outs.lengths, outbound.length, verdicts);
        for (let i = 0; i < outbound.length; i++) seen[verdicts[i]]++;
      }
    };
    const rounds = Math.ceil(1_000_000 / (inbound.length + outbound.length));
    judgeRounds(rounds);
    judgeRounds(rounds);
    const before = h.engine.stats().reasons;
    seen.fill(0);
    const probe = probeAllocation(() => judgeRounds(rounds), NEW_SPACE_BUDGET, () => seen.fill(0));
    const after = h.engine.stats().reasons;
    // Every kind of packet took its intended path, every round.
    const reasons = ["established", "related", "tcp-rst-challenge", "tcp-syn-ignored", "tcp-out-of-window", "icmp-unrelated", "rule-untracked", "fragment", "fragment-too-long"];
    for (const reason of reasons) expect(after[reason], reason).toBeGreaterThan(before[reason]);
    expect(seen[VERDICT_ACCEPT]).toBe(rounds * (inbound.length + outbound.length - 3)); // all but the out-of-window segment, the cut quote, the long fragment
    expect(probe.newSpaceGrowth).toBeLessThan(NEW_SPACE_BUDGET);
    expect(probe.youngCollections).toBe(0);
  }, 60_000);
});
