// P11 on hostile input: an ICMP error relates to a flow only on evidence the quote
// actually carries. A field the quote does not hold never defaults to a value that
// matches; only an echo request the error's receiver sent relates to an echo session;
// errors about errors never relate; non-echo ICMP never looks up an echo session;
// redirects and source quench never pass unrelated.

import { describe, expect, it } from "vitest";
import { DIR_NONE } from "../../src/engine/engine.ts";
import { buildPacket } from "../../src/packet/builder.ts";
import type { PacketSpec } from "../../src/packet/builder.ts";
import { ALICE, DB, Harness, policyFor, WEB } from "./helpers.ts";

const ROUTER_ON_PATH = "100.64.0.99";

const echo = (src: string, dst: string, id: number, reply = false): PacketSpec => ({
  src, dst, protocol: "icmp", icmp: { type: reply ? (src.includes(":") ? 129 : 0) : src.includes(":") ? 128 : 8, id, seq: 1 }, payload: 16,
});
const error = (src: string, dst: string, quote: Uint8Array, type = 3, code = 1): PacketSpec => ({
  src, dst, protocol: "icmp", icmp: { type, code, quote },
});
/** The quoted packet cut `l4Bytes` bytes into its L4 header (IPv4 without options). */
const cut = (packet: Uint8Array, l4Bytes: number): Uint8Array => packet.subarray(0, 20 + l4Bytes);

describe("P11: ICMP errors relate only on evidence", () => {
  it("P11: an error quoting a non-echo ICMP packet does not relate to an echo session with id 0", () => {
    const h = new Harness();
    expect(h.outWhy(echo(DB, WEB, 0))).toBe("accept:outbound");
    const timestamp = buildPacket({ src: DB, dst: WEB, protocol: "icmp", icmp: { type: 13 } });
    expect(h.inWhy(error(ROUTER_ON_PATH, DB, timestamp))).toBe("drop:icmp-unrelated");
    // The request itself relates (control).
    expect(h.inWhy(error(ROUTER_ON_PATH, DB, buildPacket(echo(DB, WEB, 0))))).toBe("accept:related");
  });

  it("P11: an error quoting an echo reply does not relate (only the request the receiver sent does)", () => {
    const h = new Harness();
    expect(h.inWhy(echo(ALICE, DB, 5))).toBe("accept:rule");
    // db-1 never sent a reply; an error "about" one must not pass.
    const reply = buildPacket(echo(DB, ALICE, 5, true));
    expect(h.inWhy(error(ROUTER_ON_PATH, DB, reply))).toBe("drop:icmp-unrelated");
    // Not even once db-1 has replied: the quote must be a request.
    expect(h.outWhy(reply)).toBe("accept:established");
    expect(h.inWhy(error(ROUTER_ON_PATH, DB, reply))).toBe("drop:icmp-unrelated");
    // An echo *request* from db-1 to alice with that id was never sent either: db-1 is the responder.
    expect(h.inWhy(error(ROUTER_ON_PATH, DB, buildPacket(echo(DB, ALICE, 5))))).toBe("drop:icmp-unrelated");
    // Alice's request, quoted in an error to alice, relates (control).
    expect(h.outWhy(error(DB, ALICE, buildPacket(echo(ALICE, DB, 5))))).toBe("accept:related");
  });

  it("P11: an ICMPv6 error quoting an echo reply does not relate", () => {
    const self = "fd00::20";
    const policy = policyFor(DB);
    policy.peer.addresses = [DB, self];
    const h = new Harness(policy);
    const request = buildPacket(echo(self, "fd00::30", 7));
    expect(h.outWhy(request)).toBe("accept:outbound");
    const tooBig = (quote: Uint8Array): PacketSpec => ({ src: "fd00::99", dst: self, protocol: "icmp", icmp: { type: 2, rest: 1280, quote } });
    expect(h.inWhy(tooBig(request))).toBe("accept:related");
    expect(h.inWhy(tooBig(buildPacket(echo(self, "fd00::30", 7, true))))).toBe("drop:icmp-unrelated");
  });

  it("P11: an echo quote cut before its id does not relate to an id-0 session", () => {
    const h = new Harness();
    const ping = buildPacket(echo(DB, WEB, 0));
    expect(h.outWhy(ping)).toBe("accept:outbound");
    expect(h.inWhy(error(ROUTER_ON_PATH, DB, cut(ping, 4)))).toBe("drop:icmp-unrelated");
    expect(h.inWhy(error(ROUTER_ON_PATH, DB, cut(ping, 6)))).toBe("accept:related");
  });

  it("P11: a TCP quote cut after the ports (no sequence number) does not relate, even when the window spans 0", () => {
    const h = new Harness();
    const syn = buildPacket({ src: DB, dst: WEB, protocol: "tcp", srcPort: 41000, dstPort: 443, tcp: { flags: "S", seq: 10 } });
    expect(h.outWhy(syn)).toBe("accept:outbound");
    expect(h.inWhy(error(WEB, DB, cut(syn, 4), 3, 3))).toBe("drop:icmp-unrelated");
    expect(h.inWhy(error(WEB, DB, cut(syn, 7), 3, 3))).toBe("drop:icmp-unrelated");
    expect(h.inWhy(error(WEB, DB, cut(syn, 8), 3, 3))).toBe("accept:related");
  });

  it("P11: a TCP quote without a sequence number does not relate to a flow picked up mid-stream (looseTcp)", () => {
    const h = new Harness(policyFor(DB), { looseTcp: true });
    const ack = buildPacket({ src: DB, dst: WEB, protocol: "tcp", srcPort: 41000, dstPort: 443, tcp: { flags: "A", seq: 5000, ack: 9 } });
    expect(h.outWhy(ack)).toBe("accept:outbound");
    expect(h.inWhy(error(WEB, DB, cut(ack, 4), 3, 3))).toBe("drop:icmp-unrelated");
    expect(h.inWhy(error(WEB, DB, cut(ack, 8), 3, 3))).toBe("accept:related");
  });

  it("P11: a UDP quote without ports does not relate to a flow on port 0", () => {
    const h = new Harness();
    const datagram = buildPacket({ src: DB, dst: WEB, protocol: "udp", srcPort: 0, dstPort: 0, payload: 8 });
    expect(h.outWhy(datagram)).toBe("accept:outbound");
    expect(h.inWhy(error(WEB, DB, cut(datagram, 0), 3, 3))).toBe("drop:icmp-unrelated");
    expect(h.inWhy(error(WEB, DB, cut(datagram, 3), 3, 3))).toBe("drop:icmp-unrelated");
    expect(h.inWhy(error(WEB, DB, cut(datagram, 4), 3, 3))).toBe("accept:related");
  });

  it("P11: a quoted non-first fragment carries no ports and relates to nothing", () => {
    const h = new Harness();
    expect(h.outWhy({ src: DB, dst: WEB, protocol: "udp", srcPort: 0, dstPort: 0, payload: 8 })).toBe("accept:outbound");
    const tail = buildPacket({ src: DB, dst: WEB, protocol: "udp", fragmentOffset: 64, payload: 16 });
    expect(h.inWhy(error(ROUTER_ON_PATH, DB, tail, 11, 1))).toBe("drop:icmp-unrelated");
  });

  it("P11: an error neither to nor from this peer never relates, whatever it quotes", () => {
    const h = new Harness();
    const syn = buildPacket({ src: ALICE, dst: DB, protocol: "tcp", srcPort: 50000, dstPort: 5432, tcp: { flags: "S", seq: 10 } });
    expect(h.inWhy(syn)).toBe("accept:rule");
    // Addressed to alice (it is about her packet), but it reached db-1's inbound path.
    const stray = buildPacket(error(WEB, ALICE, syn, 3, 3));
    expect(h.inWhy(stray)).toBe("drop:not-for-peer");
    // Nor can one leave as if db-1 sent it.
    expect(h.outWhy(error(WEB, ALICE, syn, 3, 3))).toBe("drop:not-from-peer");
    // judgeBatch, classifying: not judged as ours either.
    const verdicts = new Uint8Array(1);
    h.engine.judgeBatch(DIR_NONE, stray, Uint32Array.of(0), Uint32Array.of(stray.length), 1, verdicts);
    expect(verdicts[0]).toBe(0);
    // The same error from db-1 to alice is db-1's own, about alice's packet (control).
    expect(h.outWhy(error(DB, ALICE, syn, 3, 3))).toBe("accept:related");
  });

  it("P11: errors about errors never relate", () => {
    const h = new Harness();
    expect(h.outWhy(echo(DB, WEB, 0))).toBe("accept:outbound");
    const udpFromWeb = buildPacket({ src: WEB, dst: DB, protocol: "udp", srcPort: 9, dstPort: 9 });
    const dbError = buildPacket(error(DB, WEB, udpFromWeb, 3, 3));
    expect(h.inWhy(error(ROUTER_ON_PATH, DB, dbError, 11, 0))).toBe("drop:icmp-unrelated");
  });
});

describe("P11, P13: non-echo ICMP never looks up an echo session", () => {
  it("P13: the peer's own timestamp request passes while an inbound id-0 echo session exists", () => {
    const h = new Harness();
    expect(h.inWhy(echo(ALICE, DB, 0))).toBe("accept:rule");
    expect(h.outWhy({ src: DB, dst: ALICE, protocol: "icmp", icmp: { type: 13 } })).toBe("accept:rule-untracked");
    // The session is untouched: the reply still passes, once.
    expect(h.outWhy(echo(DB, ALICE, 0, true))).toBe("accept:established");
  });

  it("P11: inbound non-echo ICMP follows the rules while an outbound id-0 echo session exists", () => {
    const h = new Harness();
    expect(h.outWhy(echo(DB, ALICE, 0))).toBe("accept:outbound");
    expect(h.inWhy({ src: ALICE, dst: DB, protocol: "icmp", icmp: { type: 14 } })).toBe("accept:rule-untracked");
    const strict = new Harness(policyFor(DB, { inbound: [{ id: "tcp", protocol: "tcp", ports: [22] }] }));
    expect(strict.outWhy(echo(DB, ALICE, 0))).toBe("accept:outbound");
    expect(strict.inWhy({ src: ALICE, dst: DB, protocol: "icmp", icmp: { type: 13 } })).toBe("drop:no-rule");
  });
});

describe("P11: redirect and source quench quote a packet like other errors", () => {
  it("P11: a redirect relates to the flow it quotes, and never passes unrelated (even with an icmp rule)", () => {
    const h = new Harness();
    const datagram = buildPacket({ src: DB, dst: WEB, protocol: "udp", srcPort: 4000, dstPort: 53 });
    expect(h.outWhy(datagram)).toBe("accept:outbound");
    expect(h.inWhy(error(ROUTER_ON_PATH, DB, datagram, 5, 1))).toBe("accept:related");
    const stray = buildPacket({ src: DB, dst: WEB, protocol: "udp", srcPort: 4001, dstPort: 53 });
    expect(h.inWhy(error(ROUTER_ON_PATH, DB, stray, 5, 1))).toBe("drop:icmp-unrelated");
    expect(h.inWhy({ src: ROUTER_ON_PATH, dst: DB, protocol: "icmp", icmp: { type: 5 } })).toBe("drop:icmp-unrelated");
    // Outbound (P13 does not pass it unrelated either).
    const fromWeb = buildPacket({ src: WEB, dst: DB, protocol: "udp", srcPort: 5, dstPort: 6 });
    expect(h.outWhy(error(DB, WEB, fromWeb, 5, 0))).toBe("drop:icmp-unrelated");
  });

  it("P11: source quench never passes, even quoting a tracked flow", () => {
    const h = new Harness();
    const datagram = buildPacket({ src: DB, dst: WEB, protocol: "udp", srcPort: 4000, dstPort: 53 });
    expect(h.outWhy(datagram)).toBe("accept:outbound");
    expect(h.inWhy(error(WEB, DB, datagram, 4, 0))).toBe("drop:icmp-unrelated");
    expect(h.inWhy({ src: WEB, dst: DB, protocol: "icmp", icmp: { type: 4 } })).toBe("drop:icmp-unrelated");
  });
});
