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

  // Conversations among the peers: up to four flows (each with its initiator, peer,
  // protocol's port), and steps that follow TCP's handshake and sequence numbers (SYN,
  // SYN-ACK, data, FIN, RST from either side), UDP and pings both ways, ICMP errors
  // quoting a flow's packet, fragments of UDP datagrams (first and later, overlapping or
  // not), and junk segments with arbitrary flags and numbers.
  const flowArb = fc.record({ other: fc.constantFrom(...PEERS.map((p) => p.ip)), selfInitiates: fc.boolean(), port: fc.constantFrom(...PORTS), isn: fc.nat(), peerIsn: fc.nat() });
  const stepArb = fc.record({
    flow: fc.nat(3),
    fromInitiator: fc.boolean(),
    kind: fc.constantFrom("syn", "synack", "ack", "data", "data", "fin", "rst", "udp", "ping", "pong", "icmp-error", "junk", "frag-first", "frag-next"),
    fragOffset: fc.constantFrom(8, 16, 24, 32),
    moreFragments: fc.boolean(),
    junkFlags: fc.constantFrom("S", "SA", "A", "PA", "FA", "R", "RA", "SF", ""),
    junkSeq: fc.nat(),
  });

  it("trace gives each packet of a conversation the engine's verdict, reason, rule and state, and changes nothing", () => {
    fc.assert(
      fc.property(accountArb, fc.array(flowArb, { minLength: 4, maxLength: 4 }), fc.array(stepArb, { minLength: 1, maxLength: 30 }), fc.boolean(), (a, flows, steps, egress) => {
        const acc = buildAccount(a);
        const index = new AccountIndex(acc);
        const self = findSelf(index, a.self);
        const engine = new Engine(compileForPeer(index, self), { egress, conntrack: { capacity: 64 } });
        // Per flow, the next sequence number of each side: [initiator, responder].
        const next = flows.map((f) => [f.isn >>> 0, f.peerIsn >>> 0]);
        let now = 1_000_000;
        for (const step of steps) {
          const f = flows[step.flow];
          const d = step.fromInitiator ? 0 : 1;
          const initiator = f.selfInitiates ? self.ip : f.other;
          const responder = f.selfInitiates ? f.other : self.ip;
          const [src, dst] = d === 0 ? [initiator, responder] : [responder, initiator];
          const [srcPort, dstPort] = d === 0 ? [40000, f.port] : [f.port, 40000];
          const n = next[step.flow];
          const tcp = (flags: string, seq: number, ack: number, payload = 0): PacketSpec => ({ src, dst, protocol: "tcp", srcPort, dstPort, payload, tcp: { flags, seq: seq >>> 0, ack: ack >>> 0 } });
          let spec: PacketSpec;
          switch (step.kind) {
            case "syn":
              spec = tcp("S", n[d] - 1, 0);
              break;
            case "synack":
              spec = tcp("SA", n[d] - 1, n[1 - d]);
              break;
            case "ack":
              spec = tcp("A", n[d], n[1 - d]);
              break;
            case "data":
              spec = tcp("PA", n[d], n[1 - d], 100);
              n[d] = (n[d] + 100) >>> 0;
              break;
            case "fin":
              spec = tcp("FA", n[d], n[1 - d]);
              n[d] = (n[d] + 1) >>> 0;
              break;
            case "rst":
              spec = tcp("R", n[d], 0);
              break;
            case "udp":
              spec = { src, dst, protocol: "udp", srcPort, dstPort, payload: 20 };
              break;
            case "ping":
            case "pong":
              spec = { src, dst, protocol: "icmp", icmp: { type: step.kind === "ping" ? 8 : 0, id: 7 } };
              break;
            case "icmp-error":
              // From this step's sender, about a packet the other side sent it.
              spec = { src, dst, protocol: "icmp", icmp: { type: 3, code: 3, quote: buildPacket({ src: dst, dst: src, protocol: "tcp", srcPort: dstPort, dstPort: srcPort, tcp: { flags: "A", seq: (n[1 - d] - 1) >>> 0 } }) } };
              break;
            case "frag-first":
              // A UDP datagram's first fragment (8 bytes of header, 16 of data), datagram id = the flow.
              spec = { src, dst, protocol: "udp", srcPort, dstPort, payload: 16, moreFragments: true, ipId: step.flow + 1 };
              break;
            case "frag-next":
              spec = { src, dst, protocol: "udp", payload: 8, fragmentOffset: step.fragOffset, moreFragments: step.moreFragments, ipId: step.flow + 1 };
              break;
            default:
              spec = tcp(step.junkFlags, step.junkSeq, step.junkSeq ^ 0x5555);
          }
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
      { numRuns: 300 },
    );
  });
});
