// The engine's decision order beyond TCP: UDP, ICMP echo and errors, fragments,
// outbound and routed traffic, policy swaps and revocation, events and listings.

import { describe, expect, it } from "vitest";
import type { FlowEvent } from "../../src/conntrack/flow-event.ts";
import { DIR_IN, DIR_NONE, DIR_OUT, Engine, VERDICT_ACCEPT, VERDICT_DROP } from "../../src/engine/engine.ts";
import { REASON_COUNT, REASON_NAMES, REASON_REVOKED } from "../../src/engine/reasons.ts";
import { buildPacket } from "../../src/packet/builder.ts";
import type { PacketSpec } from "../../src/packet/builder.ts";
import { CLASS_ACK, CLASS_SYN, CLASS_SYNACK } from "../../src/conntrack/tcp-states.ts";
import { TcpSim } from "../conntrack/tcp-sim.ts";
import { ALICE, DB, dbPolicy, Harness, OFFICE_HOST, policyFor, ROUTER, rule, WEB } from "./helpers.ts";

const udp = (src: string, dst: string, srcPort: number, dstPort: number, payload = 20): PacketSpec => ({
  src, dst, protocol: "udp", srcPort, dstPort, payload,
});
const echo = (src: string, dst: string, id: number, reply = false, v6 = false): PacketSpec => ({
  src, dst, protocol: "icmp", icmp: { type: reply ? (v6 ? 129 : 0) : v6 ? 128 : 8, id, seq: 1 }, payload: 16,
});
const tcp = (src: string, dst: string, srcPort: number, dstPort: number, flags: string, seq = 1000, ack = 0): PacketSpec => ({
  src, dst, protocol: "tcp", srcPort, dstPort, tcp: { flags, seq, ack },
});

describe("UDP", () => {
  it("a flow starts with its first allowed packet; unreplied flows expire after 30 s", () => {
    const h = new Harness();
    expect(h.inWhy(udp(ALICE, DB, 5000, 53))).toBe("accept:rule");
    expect(h.state).toBe("udp-unreplied");
    h.advance(29_000);
    expect(h.inWhy(udp(ALICE, DB, 5000, 53))).toBe("accept:established");
    h.advance(31_000);
    expect(h.outWhy(udp(DB, ALICE, 53, 5000))).toBe("accept:outbound"); // old flow gone: db-1 opens a new one
  });

  it("replied flows live 120 s", () => {
    const h = new Harness();
    h.in(udp(ALICE, DB, 5000, 53));
    expect(h.outWhy(udp(DB, ALICE, 53, 5000))).toBe("accept:established");
    expect(h.state).toBe("udp-replied");
    h.advance(100_000);
    expect(h.inWhy(udp(ALICE, DB, 5000, 53))).toBe("accept:established");
    h.advance(121_000);
    expect(h.inWhy(udp(ALICE, DB, 5000, 54))).toBe("drop:no-rule");
    expect([...h.engine.flows()]).toHaveLength(0);
  });

  it("timeouts are configurable", () => {
    const h = new Harness(dbPolicy(), { conntrack: { timeouts: { udpUnreplied: 5_000 } } });
    h.in(udp(ALICE, DB, 5000, 53));
    h.advance(6_000);
    expect([...h.engine.flows()]).toHaveLength(0);
    expect(() => new Engine(dbPolicy(), { conntrack: { timeouts: { udpUnreplied: -1 } } })).toThrow(/udpUnreplied/);
  });
});

describe("P11: ICMP", () => {
  it("P11: an echo request opens a session keyed by echo id; the matching reply passes, a foreign id does not", () => {
    const h = new Harness();
    expect(h.inWhy(echo(ALICE, DB, 77))).toBe("accept:rule");
    expect(h.outWhy(echo(DB, ALICE, 77, true))).toBe("accept:established");
    expect(h.state).toBe("icmp-replied");
    expect(h.outWhy(echo(DB, ALICE, 78, true))).toBe("drop:icmp-no-request");
    expect(h.inWhy(echo(ALICE, DB, 77, true))).toBe("drop:icmp-wrong-direction");
  });

  it("P11: an echo reply with no request is dropped", () => {
    const h = new Harness();
    expect(h.inWhy(echo(WEB, DB, 9, true))).toBe("drop:icmp-no-request");
  });

  it("P11: echo sessions time out after 30 s", () => {
    const h = new Harness();
    h.out(echo(DB, WEB, 5));
    h.advance(31_000);
    expect(h.inWhy(echo(WEB, DB, 5, true))).toBe("drop:icmp-no-request");
  });

  it("P11: an ICMP error quoting a tracked flow passes, one quoting an untracked flow does not", () => {
    const h = new Harness();
    const sent = buildPacket(udp(DB, WEB, 33000, 53));
    expect(h.outWhy(sent)).toBe("accept:outbound");
    const unreachable = (from: string, quote: Uint8Array): PacketSpec => ({
      src: from, dst: DB, protocol: "icmp", icmp: { type: 3, code: 3, quote },
    });
    expect(h.inWhy(unreachable(WEB, sent))).toBe("accept:related");
    expect(h.inWhy(unreachable("100.64.0.99", sent))).toBe("accept:related"); // a router on the path
    const other = buildPacket(udp(DB, WEB, 33001, 53));
    expect(h.inWhy(unreachable(WEB, other))).toBe("drop:icmp-unrelated");
    const timeExceeded: PacketSpec = { src: "100.64.0.99", dst: DB, protocol: "icmp", icmp: { type: 11, code: 0, quote: sent } };
    expect(h.inWhy(timeExceeded)).toBe("accept:related");
  });

  it("P11: an ICMP error whose outer destination is not the quoted packet's source is dropped", () => {
    const h = new Harness();
    h.in(udp(ALICE, DB, 5000, 53)); // tracked: alice -> db-1
    // Quote db-1's reply direction (db-1 -> alice) but send the error to db-1: the quoted
    // packet's sender is db-1... so quote alice's packet instead and send it to db-1.
    const alicePacket = buildPacket(udp(ALICE, DB, 5000, 53));
    const misdirected: PacketSpec = { src: WEB, dst: DB, protocol: "icmp", icmp: { type: 3, code: 1, quote: alicePacket } };
    expect(h.inWhy(misdirected)).toBe("drop:icmp-unrelated");
    const dbPacket = buildPacket(udp(DB, ALICE, 53, 5000));
    const proper: PacketSpec = { src: ALICE, dst: DB, protocol: "icmp", icmp: { type: 3, code: 3, quote: dbPacket } };
    expect(h.inWhy(proper)).toBe("accept:related");
  });

  it("P11: ICMP errors about echo sessions relate by echo id; source quench never passes", () => {
    const h = new Harness();
    const ping = buildPacket(echo(DB, WEB, 300));
    h.out(ping);
    expect(h.inWhy({ src: "100.64.0.99", dst: DB, protocol: "icmp", icmp: { type: 11, quote: ping } })).toBe("accept:related");
    expect(h.inWhy({ src: WEB, dst: DB, protocol: "icmp", icmp: { type: 4, quote: ping } })).toBe("drop:icmp-unrelated");
  });

  it("P11: ICMPv6 packet-too-big quoting a tracked IPv6 TCP flow passes", () => {
    const self = "fd00::20";
    const policy = policyFor(DB);
    policy.peer.addresses = [DB, self];
    const h = new Harness(policy);
    const syn = buildPacket(tcp(self, "fd00::30", 41000, 443, "S"));
    expect(h.outWhy(syn)).toBe("accept:outbound");
    const tooBig: PacketSpec = { src: "fd00::99", dst: self, protocol: "icmp", icmp: { type: 2, code: 0, rest: 1280, quote: syn } };
    expect(h.inWhy(tooBig)).toBe("accept:related");
    const stray = buildPacket(tcp(self, "fd00::30", 41001, 443, "S"));
    expect(h.inWhy({ ...tooBig, icmp: { type: 2, rest: 1280, quote: stray } })).toBe("drop:icmp-unrelated");
  });

  it("P11: an ICMP error about a TCP flow relates only when the quoted sequence number is in the window", () => {
    const h = new Harness();
    const sim = new TcpSim({ ip: DB, port: 41000 }, { ip: WEB, port: 443 }); // db-1 connects to web-1
    expect(h.outWhy(sim.segment(0, CLASS_SYN))).toBe("accept:outbound");
    expect(h.inWhy(sim.segment(1, CLASS_SYNACK))).toBe("accept:established");
    expect(h.outWhy(sim.segment(0, CLASS_ACK))).toBe("accept:established");
    const fragNeeded = (quote: Uint8Array): PacketSpec => ({
      src: "100.64.0.99", dst: DB, protocol: "icmp", icmp: { type: 3, code: 4, rest: 1280, quote },
    });
    const data = sim.segment(0, CLASS_ACK, { payload: 1400 });
    expect(h.outWhy(data)).toBe("accept:established");
    expect(h.inWhy(fragNeeded(data))).toBe("accept:related");
    const next = sim.next[0];
    for (const seq of [next + 0x40000000, next - 0x40000000, next + 200_000, next - 200_000]) {
      const forged = new TcpSim({ ip: DB, port: 41000 }, { ip: WEB, port: 443 }).segment(0, CLASS_ACK, { seq, payload: 1400 });
      expect(h.inWhy(fragNeeded(forged)), `seq ${seq >>> 0}`).toBe("drop:icmp-unrelated");
    }
    // The flow is untouched by the forged errors.
    expect(h.inWhy(sim.segment(1, CLASS_ACK))).toBe("accept:established");
    expect(h.state).toBe("established");
  });

  it("P11: an ICMP error quoting a handshake's SYN relates (the SYN's sequence number is in window)", () => {
    const h = new Harness();
    const sim = new TcpSim({ ip: DB, port: 41001 }, { ip: WEB, port: 443 });
    const syn = sim.segment(0, CLASS_SYN);
    expect(h.outWhy(syn)).toBe("accept:outbound");
    expect(h.inWhy({ src: WEB, dst: DB, protocol: "icmp", icmp: { type: 3, code: 3, quote: syn } })).toBe("accept:related");
    // A quote from the side that never sent anything cannot be genuine.
    const fromWeb = new TcpSim({ ip: DB, port: 41001 }, { ip: WEB, port: 443 }).segment(1, CLASS_SYNACK);
    expect(h.outWhy({ src: DB, dst: WEB, protocol: "icmp", icmp: { type: 3, code: 3, quote: fromWeb } })).toBe("drop:icmp-unrelated");
  });

  it("P11: an icmp rule allows every ICMP type (non-echo informational passes untracked)", () => {
    const h = new Harness();
    expect(h.inWhy({ src: ALICE, dst: DB, protocol: "icmp", icmp: { type: 13, id: 1 } })).toBe("accept:rule-untracked");
    expect([...h.engine.flows()]).toHaveLength(0);
  });
});

describe("fragments (through the engine)", () => {
  const first = (id: number, dstPort = 53): PacketSpec => ({ ...udp(ALICE, DB, 5000, dstPort, 64), ipId: id, moreFragments: true });
  const rest = (id: number, offset: number, more: boolean, length = 64): PacketSpec => ({
    src: ALICE, dst: DB, protocol: "udp", ipId: id, fragmentOffset: offset, moreFragments: more, payload: length,
  });

  it("in order: later fragments follow an accepted first fragment", () => {
    const h = new Harness();
    expect(h.inWhy(first(7))).toBe("accept:rule");
    expect(h.inWhy(rest(7, 72, true))).toBe("accept:fragment");
    expect(h.inWhy(rest(7, 136, false))).toBe("accept:fragment");
  });

  it("later fragments follow a dropped first fragment", () => {
    const h = new Harness();
    expect(h.inWhy(first(8, 9999))).toBe("drop:no-rule");
    expect(h.inWhy(rest(8, 72, false))).toBe("drop:fragment-first-dropped");
  });

  it("out of order or without a first fragment: dropped", () => {
    const h = new Harness();
    expect(h.inWhy(rest(9, 72, false))).toBe("drop:fragment-no-first");
    expect(h.inWhy(first(9))).toBe("accept:rule");
    expect(h.inWhy(rest(10, 72, true))).toBe("drop:fragment-no-first");
  });

  it("a new policy forgets the verdicts of first fragments judged under the old one (P14)", () => {
    const h = new Harness();
    expect(h.inWhy(first(12))).toBe("accept:rule");
    // dns/udp revoked: the rest of a datagram the old policy let in must not pass.
    h.engine.applyPolicy(policyFor(DB, { inbound: [{ id: "pg/alice", protocol: "tcp", sources: [`${ALICE}/32`], ports: [5432] }] }));
    expect(h.inWhy(rest(12, 72, false))).toBe("drop:fragment-no-first");
    expect(h.inWhy(first(13))).toBe("drop:no-rule");
    expect(h.inWhy(rest(13, 72, false))).toBe("drop:fragment-first-dropped");
  });

  it("overlapping fragments are dropped", () => {
    const h = new Harness();
    h.in(first(11));
    expect(h.inWhy(rest(11, 72, true))).toBe("accept:fragment");
    expect(h.inWhy(rest(11, 96, false))).toBe("drop:fragment-overlap");
  });

  it("a tiny first fragment is dropped (RFC 1858)", () => {
    const h = new Harness();
    const tiny: PacketSpec = { src: ALICE, dst: DB, protocol: "tcp", ipId: 12, moreFragments: true, rawL4: true, payload: 8 };
    expect(h.inWhy(tiny)).toBe("drop:fragment-tiny");
  });
});

describe("P7, P13: stateful, outbound tracked", () => {
  it("P7: a one-way rule S -> D tcp/5432 lets D answer S but not open a connection to S on 5432", () => {
    // On alice (S): she may open to db-1; db-1 has no rule towards her.
    const alice = new Harness(policyFor(ALICE, { inbound: [] }));
    expect(alice.outWhy(tcp(ALICE, DB, 40000, 5432, "S", 100))).toBe("accept:outbound");
    expect(alice.inWhy(tcp(DB, ALICE, 5432, 40000, "SA", 9000, 101))).toBe("accept:established");
    expect(alice.inWhy(tcp(DB, ALICE, 40001, 5432, "S", 9000))).toBe("drop:no-rule");
    // On db-1 (D): alice's SYN passes by the rule, db-1's own SYN to alice goes out (P13) but
    // a SYN from anyone else to db-1:5432 does not.
    const db = new Harness();
    expect(db.inWhy(tcp(ALICE, DB, 40000, 5432, "S", 100))).toBe("accept:rule");
    expect(db.outWhy(tcp(DB, ALICE, 5432, 40000, "SA", 9000, 101))).toBe("accept:established");
    expect(db.inWhy(tcp(WEB, DB, 40000, 5432, "S", 100))).toBe("drop:no-rule");
  });

  it("P13: connections the peer opens are not filtered but tracked, so replies pass", () => {
    const h = new Harness(policyFor(DB));
    expect(h.outWhy(udp(DB, WEB, 40000, 9999))).toBe("accept:outbound");
    expect(h.inWhy(udp(WEB, DB, 9999, 40000))).toBe("accept:established");
    expect(h.inWhy(udp(WEB, DB, 9999, 40001))).toBe("drop:no-rule");
  });

  it("P13: egress mode enforces the outbound rules", () => {
    const policy = policyFor(DB, { outbound: [{ id: "out/web", protocol: "tcp", destinations: [`${WEB}/32`], ports: [443] }] });
    const h = new Harness(policy, { egress: true });
    expect(h.outWhy(tcp(DB, WEB, 40000, 443, "S"))).toBe("accept:rule");
    expect(h.engine.ruleId(h.engine.lastRule)).toBe("out/web");
    expect(h.outWhy(tcp(DB, WEB, 40000, 80, "S"))).toBe("drop:no-rule");
    expect(h.outWhy(tcp(DB, ALICE, 40000, 443, "S"))).toBe("drop:no-rule");
  });

  it("P13: packets neither from nor to this peer are dropped", () => {
    const h = new Harness();
    expect(h.inWhy(udp(ALICE, WEB, 1, 53))).toBe("drop:not-for-peer");
    expect(h.outWhy(udp(WEB, ALICE, 1, 53))).toBe("drop:not-from-peer");
  });
});

describe("routed traffic (P6)", () => {
  const routerPolicy = () =>
    policyFor(ROUTER, { routes: [{ id: "office/alice", protocol: "tcp", sources: [`${ALICE}/32`], destinations: ["198.18.1.0/24"], ports: [22] }] });

  it("a route rule lets a peer open a connection to a resource; the resource's replies pass; it cannot open one back", () => {
    const h = new Harness(routerPolicy());
    expect(h.inWhy(tcp(ALICE, OFFICE_HOST, 40000, 22, "S", 100))).toBe("accept:rule");
    expect([...h.engine.flows()][0].origin).toBe("routed");
    expect(h.outWhy(tcp(OFFICE_HOST, ALICE, 22, 40000, "SA", 5000, 101))).toBe("accept:established");
    expect(h.outWhy(tcp(OFFICE_HOST, ALICE, 22, 40001, "S", 5000))).toBe("drop:no-rule");
    expect(h.inWhy(tcp(WEB, OFFICE_HOST, 40000, 22, "S", 100))).toBe("drop:no-rule");
  });

  it("classify tells directions apart by the peer's addresses and routes", () => {
    const h = new Harness(routerPolicy());
    const c = (spec: PacketSpec) => {
      const p = buildPacket(spec);
      return h.engine.classify(p, 0, p.length);
    };
    expect(c(udp(ROUTER, ALICE, 1, 2))).toBe(DIR_OUT);
    expect(c(udp(ALICE, ROUTER, 1, 2))).toBe(DIR_IN);
    expect(c(udp(ALICE, OFFICE_HOST, 1, 2))).toBe(DIR_IN);
    expect(c(udp(OFFICE_HOST, ALICE, 1, 2))).toBe(DIR_OUT);
    expect(c(udp(ALICE, WEB, 1, 2))).toBe(DIR_NONE);
  });
});

describe("P14: policy changes", () => {
  it("P14: revocation cuts flows the new policy no longer allows and keeps the others", () => {
    const h = new Harness();
    const events: string[] = [];
    h.engine.onFlowEvent = (e: FlowEvent) => {
      if (e.kind === 1) events.push(`${e.reasonName}:${e.ruleId}`);
    };
    expect(h.inWhy(tcp(ALICE, DB, 40000, 5432, "S", 100))).toBe("accept:rule");
    expect(h.inWhy(echo(WEB, DB, 1))).toBe("accept:rule");
    expect(h.outWhy(udp(DB, WEB, 7000, 53))).toBe("accept:outbound");
    const without = policyFor(DB, { inbound: [{ id: "icmp/all", protocol: "icmp", sources: ["100.64.0.0/16"] }] });
    expect(h.engine.applyPolicy(without)).toBe(1);
    expect(events).toEqual(["revoked:pg/alice"]);
    expect(h.engine.reasonCounts[REASON_REVOKED]).toBe(1);
    expect(h.inWhy(tcp(ALICE, DB, 40000, 5432, "A", 101, 0))).toBe("drop:tcp-no-connection");
    expect(h.outWhy(echo(DB, WEB, 1, true))).toBe("accept:established");
    expect(h.inWhy(udp(WEB, DB, 53, 7000))).toBe("accept:established");
    const kept = [...h.engine.flows()].find((f) => f.protocol === "icmp");
    expect(kept?.rule).toBe("icmp/all");
  });

  it("P14: a policy that fails to build leaves the one in force untouched", () => {
    const h = new Harness();
    h.in(tcp(ALICE, DB, 40000, 5432, "S", 100));
    const broken = policyFor(DB, { inbound: [{ id: "bad", protocol: "tcp", sources: ["not-an-address"] }] });
    expect(() => h.engine.applyPolicy(broken)).toThrow();
    expect(h.engine.rules.ruleId(0)).toBe("pg/alice");
    expect([...h.engine.flows()]).toHaveLength(1);
    expect(h.inWhy(tcp(ALICE, DB, 40001, 5432, "S", 100))).toBe("accept:rule");
  });

  it("P14: the swap is one reference: the next packet sees the whole new rule set", () => {
    const h = new Harness();
    const before = h.engine.rules;
    h.engine.applyPolicy(policyFor(DB, { inbound: [{ id: "web/all", protocol: "tcp", ports: [443] }] }));
    expect(h.engine.rules).not.toBe(before);
    expect(h.inWhy(tcp(WEB, DB, 1, 443, "S"))).toBe("accept:rule");
    expect(h.inWhy(tcp(ALICE, DB, 1, 5432, "S"))).toBe("drop:no-rule");
  });

  it("P14: a flow to a domain resource survives a policy update (resolved addresses carry over)", () => {
    const wikiPolicy = () => {
      const p = policyFor(ROUTER, { routes: [{ id: "wiki/alice", protocol: "tcp", sources: [`${ALICE}/32`], destinations: [], ports: [443], resourceId: "wiki" }] });
      p.routes[0].domain = "wiki.example";
      return p;
    };
    const wiki = "203.0.113.5";
    const h = new Harness(wikiPolicy());
    h.engine.rules.setResourceAddresses("wiki", [`${wiki}/32`]);
    expect(h.inWhy(tcp(ALICE, wiki, 40000, 443, "S", 100))).toBe("accept:rule");
    expect(h.engine.applyPolicy(wikiPolicy())).toBe(0);
    expect(h.engine.rules.resourceAddresses("wiki")).toEqual([`${wiki}/32`]);
    expect([...h.engine.flows()]).toHaveLength(1);
    expect(h.outWhy(tcp(wiki, ALICE, 443, 40000, "SA", 5000, 101))).toBe("accept:established");
    expect(h.inWhy(tcp(ALICE, wiki, 40001, 443, "S", 100))).toBe("accept:rule");
  });

  it("P14: in egress mode outbound flows are revoked too; otherwise they are left alone", () => {
    const out = policyFor(DB, { outbound: [{ id: "out/all", protocol: "udp" }] });
    const egress = new Harness(out, { egress: true });
    egress.out(udp(DB, WEB, 7000, 53));
    expect(egress.engine.applyPolicy(policyFor(DB))).toBe(1);
    const plain = new Harness(out);
    plain.out(udp(DB, WEB, 7000, 53));
    expect(plain.engine.applyPolicy(policyFor(DB))).toBe(0);
  });
});

describe("events, counters, listings", () => {
  it("flow events: start with the allowing rule, end with reason and counters, drops with reason", () => {
    const h = new Harness();
    const seen: string[] = [];
    h.engine.onFlowEvent = (e: FlowEvent) => {
      seen.push(`${["start", "end", "drop"][e.kind]}:${e.reasonName}:${e.ruleId}:${e.packetsOriginal}/${e.packetsReply}`);
    };
    h.in(udp(ALICE, DB, 5000, 53));
    h.out(udp(DB, ALICE, 53, 5000));
    h.in(udp(ALICE, DB, 5000, 53));
    h.in(udp(WEB, DB, 1, 9));
    h.advance(200_000);
    expect(seen).toEqual(["start::dns/udp:1/0", "drop:no-rule::0/0", "end:timeout:dns/udp:2/1"]);
  });

  it("reasons are a closed, named set and every verdict is counted", () => {
    expect(REASON_NAMES).toHaveLength(REASON_COUNT);
    const h = new Harness();
    h.in(udp(ALICE, DB, 5000, 53));
    h.in(new Uint8Array([0x45, 0, 0]));
    const stats = h.engine.stats();
    expect(stats.reasons.rule).toBe(1);
    expect(stats.reasons.malformed).toBe(1);
    expect(h.engine.lastReason).toBe(REASON_NAMES.indexOf("malformed"));
  });

  it("flows() lists tracked flows like conntrack -L; rule hit counters count new connections", () => {
    const h = new Harness();
    h.in(tcp(ALICE, DB, 40000, 5432, "S", 100));
    const [flow] = [...h.engine.flows()];
    expect(flow).toMatchObject({
      protocol: "tcp", state: "syn-sent", src: ALICE, dst: DB, srcPort: 40000, dstPort: 5432,
      origin: "inbound", replied: false, rule: "pg/alice", packetsOriginal: 1,
    });
    expect(h.engine.rules.hits[0]).toBe(1);
  });

  it("judgeBatch writes one verdict per packet", () => {
    const h = new Harness();
    const packets = [buildPacket(udp(ALICE, DB, 5000, 53)), buildPacket(udp(ALICE, DB, 5000, 9))];
    const buf = new Uint8Array(packets[0].length + packets[1].length);
    buf.set(packets[0], 0);
    buf.set(packets[1], packets[0].length);
    const verdicts = new Uint8Array(2);
    h.engine.judgeBatch(DIR_IN, buf, Uint32Array.of(0, packets[0].length), Uint32Array.of(packets[0].length, packets[1].length), 2, verdicts);
    expect([...verdicts]).toEqual([VERDICT_ACCEPT, VERDICT_DROP]);
    h.engine.judgeBatch(DIR_NONE, buf, Uint32Array.of(0), Uint32Array.of(packets[0].length), 1, verdicts);
    expect(verdicts[0]).toBe(VERDICT_ACCEPT);
  });
});

describe("IPv6 and other protocols", () => {
  const v6Policy = () => {
    const policy = policyFor(DB, {
      inbound: [
        { id: "pg/v6", protocol: "tcp", sources: ["fd00::/64"], destinations: ["fd00::20/128"], ports: [5432] },
        { id: "all/alice", protocol: "all", sources: [`${ALICE}/32`] },
      ],
    });
    policy.peer.addresses = [DB, "fd00::20"];
    return policy;
  };

  it("an IPv6 TCP connection: handshake, data, reply; a different source port is a different flow", () => {
    const h = new Harness(v6Policy());
    expect(h.inWhy(tcp("fd00::10", "fd00::20", 40000, 5432, "S", 100))).toBe("accept:rule");
    expect(h.outWhy(tcp("fd00::20", "fd00::10", 5432, 40000, "SA", 7000, 101))).toBe("accept:established");
    expect(h.inWhy(tcp("fd00::10", "fd00::20", 40000, 5432, "A", 101, 7001))).toBe("accept:established");
    expect(h.state).toBe("established");
    expect(h.inWhy(tcp("fd00::10", "fd00::20", 40001, 5432, "A", 101, 7001))).toBe("drop:tcp-no-connection");
    const [flow] = [...h.engine.flows()];
    expect(flow).toMatchObject({ src: "fd00::10", dst: "fd00::20", state: "established", rule: "pg/v6" });
  });

  it("ICMPv6 echo sessions work like ICMPv4 ones", () => {
    const policy = v6Policy();
    policy.inbound.push(rule({ id: "icmp6", protocol: "icmp", sources: ["fd00::/64"], destinations: ["fd00::20/128"] }));
    const h = new Harness(policy);
    expect(h.inWhy(echo("fd00::10", "fd00::20", 5, false, true))).toBe("accept:rule");
    expect(h.outWhy(echo("fd00::20", "fd00::10", 5, true, true))).toBe("accept:established");
    expect(h.outWhy(echo("fd00::20", "fd00::10", 6, true, true))).toBe("drop:icmp-no-request");
  });

  it("other IP protocols (GRE) are tracked by addresses under a protocol-all rule", () => {
    const h = new Harness(v6Policy());
    const gre = (src: string, dst: string): PacketSpec => ({ src, dst, protocol: 47, payload: 24 });
    expect(h.inWhy(gre(ALICE, DB))).toBe("accept:rule");
    expect(h.state).toBe("other-unreplied");
    expect(h.outWhy(gre(DB, ALICE))).toBe("accept:established");
    expect(h.state).toBe("other-replied");
    expect(h.inWhy(gre(WEB, DB))).toBe("drop:no-rule");
  });
});

