// P14 with P13: a connection a new policy cut stays cut although this peer's own packets
// pass. The local end does not know about the cut and keeps sending; its packet, which
// finds no entry, must not pick the connection up again (revoked-flows.ts), or the
// forbidden peer's packets would pass again as its replies.

import { describe, expect, it } from "vitest";
import type { PacketSpec } from "../../src/packet/builder.ts";
import { ALICE, DB, Harness, policyFor } from "./helpers.ts";

const tcp = (src: string, dst: string, srcPort: number, dstPort: number, flags: string, seq: number, ack: number, payload = 0): PacketSpec => ({
  src, dst, protocol: "tcp", srcPort, dstPort, tcp: { flags, seq, ack }, payload,
});
const udp = (src: string, dst: string, srcPort: number, dstPort: number): PacketSpec => ({ src, dst, protocol: "udp", srcPort, dstPort, payload: 20 });

const ALLOW_PG = policyFor(DB, { inbound: [{ id: "pg/mesh", protocol: "tcp", sources: ["100.64.0.0/16"], ports: [5432] }] });
const ALLOW_DNS = policyFor(DB, { inbound: [{ id: "dns/mesh", protocol: "udp", sources: ["100.64.0.0/16"], ports: [53] }] });
const NOTHING = policyFor(DB, { inbound: [] });

/** An established connection ALICE -> DB:5432. */
function connected(h: Harness): void {
  expect(h.inWhy(tcp(ALICE, DB, 41000, 5432, "S", 700, 0))).toBe("accept:rule");
  expect(h.outWhy(tcp(DB, ALICE, 5432, 41000, "SA", 9000, 701))).toBe("accept:established");
  expect(h.inWhy(tcp(ALICE, DB, 41000, 5432, "A", 701, 9001, 100))).toBe("accept:established");
}

describe("P14: a cut connection stays cut", () => {
  it("P14: this peer's next segment passes untracked and the forbidden peer's packets stay dropped", () => {
    const h = new Harness(ALLOW_PG);
    connected(h);
    expect(h.engine.applyPolicy(NOTHING)).toBe(1);
    // DB's server still answers: its own traffic passes (P13) but opens nothing.
    expect(h.outWhy(tcp(DB, ALICE, 5432, 41000, "A", 9001, 801, 50))).toBe("accept:outbound-untracked");
    expect([...h.engine.flows()]).toEqual([]);
    expect(h.inWhy(tcp(ALICE, DB, 41000, 5432, "A", 801, 9051, 100))).toMatch(/^drop:/);
    // However long it keeps talking.
    h.engine.setTime(3_600_000);
    expect(h.outWhy(tcp(DB, ALICE, 5432, 41000, "PA", 9051, 801, 50))).toBe("accept:outbound-untracked");
    expect(h.inWhy(tcp(ALICE, DB, 41000, 5432, "A", 801, 9101, 0))).toMatch(/^drop:/);
  });

  it("P14: a policy that allows the connection again lets this peer's segment pick it up", () => {
    const h = new Harness(ALLOW_PG);
    connected(h);
    h.engine.applyPolicy(NOTHING);
    h.engine.applyPolicy(ALLOW_PG);
    expect(h.outWhy(tcp(DB, ALICE, 5432, 41000, "A", 9001, 801, 50))).toBe("accept:outbound");
    expect(h.inWhy(tcp(ALICE, DB, 41000, 5432, "A", 801, 9051, 100))).toBe("accept:established");
  });

  it("P14: a UDP flow from the mesh stays cut while this peer keeps answering", () => {
    const h = new Harness(ALLOW_DNS);
    expect(h.inWhy(udp(ALICE, DB, 5353, 53))).toBe("accept:rule");
    expect(h.outWhy(udp(DB, ALICE, 53, 5353))).toBe("accept:established");
    expect(h.engine.applyPolicy(NOTHING)).toBe(1);
    expect(h.outWhy(udp(DB, ALICE, 53, 5353))).toBe("accept:outbound-untracked");
    expect(h.inWhy(udp(ALICE, DB, 5353, 53))).toMatch(/^drop:/);
  });

  it("P13: this peer's own connections are not remembered: after their entry goes, a segment picks them up", () => {
    const h = new Harness(ALLOW_PG);
    expect(h.outWhy(tcp(DB, ALICE, 50000, 443, "S", 100, 0))).toBe("accept:outbound");
    expect(h.inWhy(tcp(ALICE, DB, 443, 50000, "SA", 7000, 101))).toBe("accept:established");
    h.engine.applyPolicy(NOTHING); // nothing of DB's own traffic is cut without egress rules
    h.engine.flush();
    expect(h.outWhy(tcp(DB, ALICE, 50000, 443, "A", 101, 7001, 10))).toBe("accept:outbound");
    expect(h.inWhy(tcp(ALICE, DB, 443, 50000, "A", 7001, 111))).toBe("accept:established");
  });

  it("P14: after the memory's time of silence from this peer, its segment picks the connection up (as one older than the agent)", () => {
    const h = new Harness(ALLOW_PG);
    connected(h);
    h.engine.applyPolicy(NOTHING);
    h.engine.setTime(6 * 24 * 3600 * 1000); // past the five days kept, this side silent
    expect(h.outWhy(tcp(DB, ALICE, 5432, 41000, "A", 9001, 801, 50))).toBe("accept:outbound");
  });
});
