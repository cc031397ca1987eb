// The property that keeps trace and explain honest: for random policies and random
// packets, what they say is what the engine does. Explain is checked against a fresh
// engine judging the new connection it describes; trace against the engine judging each
// packet of a random conversation right after the trace, and a trace must change nothing
// (flows, counters, rule hits).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Engine, VERDICT_ACCEPT } from "../../src/engine/engine.ts";
import { tracePacket } from "../../src/engine/trace.ts";
import { buildPacket, type PacketSpec } from "../../src/packet/builder.ts";
import { compileForPeer, findSelf } from "../../src/policy/compile/compile.ts";
import { AccountIndex } from "../../src/policy/model/effective-groups.ts";
import { explain, queryPacket } from "../../src/policy/explain/explain.ts";
import type { ExplainQuery } from "../../src/policy/explain/explain-query.ts";
import type { PolicyRule } from "../../src/policy/model/model.ts";
import { account, peer, policy, rule } from "../policy/build-account.ts";

const PEERS = [
  { name: "alice", ip: "100.64.0.10" },
  { name: "bob", ip: "100.64.0.11" },
  { name: "db", ip: "100.64.0.20" },
  { name: "web", ip: "100.64.0.30" },
];
const GROUPS = ["g1", "g2", "g3"];
const PORTS = [22, 53, 80, 443, 5432];

const ruleArb = fc.record({
  sources: fc.subarray(GROUPS, { minLength: 1 }),
  destinations: fc.subarray(GROUPS, { minLength: 1 }),
  action: fc.constantFrom("accept" as const, "accept" as const, "drop" as const),
  protocol: fc.constantFrom("all" as const, "tcp" as const, "udp" as const, "icmp" as const),
  ports: fc.subarray(PORTS, { maxLength: 2 }),
  bidirectional: fc.boolean(),
  enabled: fc.boolean(),
});

const accountArb = fc.record({
  membership: fc.array(fc.subarray(GROUPS), { minLength: PEERS.length, maxLength: PEERS.length }),
  rules: fc.array(ruleArb, { minLength: 0, maxLength: 6 }),
  self: fc.constantFrom(...PEERS.map((p) => p.name)),
});

interface RandomAccount {
  membership: string[][];
  rules: Array<Omit<Partial<PolicyRule>, "sources" | "destinations"> & { sources: string[]; destinations: string[] }>;
  self: string;
}

function buildAccount(a: RandomAccount) {
  return account({
    peers: PEERS.map((p, i) => peer(p.name, p.ip, { groups: a.membership[i] })),
    groups: [],
    policies: a.rules.map((r, i: number) => {
      const { sources, destinations, protocol, ports, ...rest } = r;
      return policy(`p${i}`, [rule(sources, destinations, { ...rest, id: `r${i}`, protocol, ports: protocol === "tcp" || protocol === "udp" ? ports : [] })]);
    }),
  });
}

const address = fc.constantFrom(...PEERS.map((p) => p.ip), "100.64.0.99");

const queryArb: fc.Arbitrary<ExplainQuery> = fc.oneof(
  fc.record({ protocol: fc.constant("tcp" as const), src: address, srcPort: fc.constant(40000), dst: address, dstPort: fc.constantFrom(...PORTS), tcpFlags: fc.constantFrom("S", "S", "A", "SA", "R", "FA", "SF") }),
  fc.record({ protocol: fc.constant("udp" as const), src: address, srcPort: fc.constant(40000), dst: address, dstPort: fc.constantFrom(...PORTS) }),
  fc.record({ protocol: fc.constant("icmp" as const), src: address, dst: address, icmpType: fc.constantFrom(8, 8, 0, 3, 4, 13) }),
);

describe("explain and trace agree with the engine", () => {
  it("explain's verdict, engine reason and rule are the engine's for the packet it describes", () => {
    fc.assert(
      fc.property(accountArb, queryArb, fc.boolean(), (a, q, egress) => {
        const acc = buildAccount(a);
        const e = explain(acc, a.self, q, { egress });
        const compiled = compileForPeer(new AccountIndex(acc), findSelf(new AccountIndex(acc), a.self));
        const engine = new Engine(compiled, { egress, conntrack: { capacity: 16 } });
        const packet = queryPacket(q);
        const verdict = engine.judge(packet, 0, packet.length);
        expect(e.verdict).toBe(verdict === VERDICT_ACCEPT ? "accept" : "drop");
        expect(e.engineReason).toBe(engine.reasonName(engine.lastReason));
        if (e.stage === "rules") expect(e.rule).toBe(engine.ruleId(engine.lastRule));
        expect(e.stages.length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });

  // A conversation among the peers: SYNs, replies, data, FINs, RSTs, UDP and pings both
  // ways, with sequence numbers that are sometimes right and sometimes not.
  const packetArb: fc.Arbitrary<PacketSpec> = fc.record({
    fromSelf: fc.boolean(),
    other: fc.constantFrom(...PEERS.map((p) => p.ip)),
    kind: fc.constantFrom("tcp", "tcp", "tcp", "udp", "icmp"),
    port: fc.constantFrom(...PORTS),
    flags: fc.constantFrom("S", "SA", "A", "PA", "FA", "R", "RA"),
    seq: fc.constantFrom(1000, 1001, 2000, 2001, 5000, 0x7fffffff),
    ack: fc.constantFrom(0, 1001, 2001, 3000),
    icmpType: fc.constantFrom(8, 0),
    payload: fc.constantFrom(0, 0, 100),
    swapPorts: fc.boolean(),
  }).map((p) => ({ ...p })) as unknown as fc.Arbitrary<PacketSpec>;

  it("trace gives each packet of a conversation the engine's verdict, reason, rule and state, and changes nothing", () => {
    fc.assert(
      fc.property(accountArb, fc.array(packetArb, { minLength: 1, maxLength: 25 }), fc.boolean(), (a, packets, egress) => {
        const acc = buildAccount(a);
        const index = new AccountIndex(acc);
        const self = findSelf(index, a.self);
        const engine = new Engine(compileForPeer(index, self), { egress, conntrack: { capacity: 64 } });
        let now = 1_000_000;
        for (const raw of packets) {
          const p = raw as unknown as { fromSelf: boolean; other: string; kind: string; port: number; flags: string; seq: number; ack: number; icmpType: number; payload: number; swapPorts: boolean };
          const [src, dst] = p.fromSelf ? [self.ip, p.other] : [p.other, self.ip];
          const [srcPort, dstPort] = p.swapPorts ? [p.port, 40000] : [40000, p.port];
          const spec: PacketSpec =
            p.kind === "icmp"
              ? { src, dst, protocol: "icmp", icmp: { type: p.icmpType, id: 7 } }
              : { src, dst, protocol: p.kind as "tcp" | "udp", srcPort, dstPort, payload: p.payload, tcp: p.kind === "tcp" ? { flags: p.flags, seq: p.seq, ack: p.ack } : undefined };
          const buf = buildPacket(spec);
          engine.setTime((now += 10));
          const flowsBefore = JSON.stringify([...engine.flows()]);
          const countsBefore = [...engine.reasonCounts].join();
          const hitsBefore = [...engine.rules.hits].join();
          const t = tracePacket(engine, buf);
          expect(JSON.stringify([...engine.flows()])).toBe(flowsBefore);
          expect([...engine.reasonCounts].join()).toBe(countsBefore);
          expect([...engine.rules.hits].join()).toBe(hitsBefore);
          const verdict = engine.judge(buf, 0, buf.length);
          expect(t.verdict).toBe(verdict === VERDICT_ACCEPT ? "accept" : "drop");
          expect(t.reason).toBe(engine.reasonName(engine.lastReason));
          expect(t.rule?.id ?? "").toBe(engine.ruleId(engine.lastRule));
          if (t.stateAfter !== null) expect(t.stateAfter).toBe(engine.stateName(engine.lastState));
        }
      }),
      { numRuns: 200 },
    );
  });
});
