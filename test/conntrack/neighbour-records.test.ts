// A step on one entry touches that entry's record only: the records beside it in the
// table, of other flows, stay as they were. Checked where a step writes words other
// than the window words (td_maxack: a pickup mid-stream, a restart from an ignored SYN),
// with an IPv6 flow next to it, whose key fills all eight address words (an IPv4 key
// uses two, so a stray write into another IPv4 key's unused words shows nowhere).

import { describe, expect, it } from "vitest";
import { Conntrack, CT_OK, CT_SYN_IGNORED, ORIGIN_INBOUND, refEntry } from "../../src/conntrack/conntrack.ts";
import { TCP_SYN_RECEIVED } from "../../src/conntrack/states.ts";
import { CLASS_ACK, CLASS_SYN, CLASS_SYNACK } from "../../src/conntrack/tcp-states.ts";
import { arrivedInbound, decoded, TcpSim } from "./tcp-sim.ts";

const V6_CLIENT = { ip: "fd7a:115c:a1e0:ab12:4843:cd96:6258:b240", port: 40000 };
const V6_SERVER = { ip: "fd7a:115c:a1e0:ab12:4843:cd96:6258:b241", port: 5432 };

describe("neighbouring records", () => {
  it("a connection picked up mid-stream (looseTcp) leaves the IPv6 flow in the record before it reachable, on either side's first packet", () => {
    const ct = new Conntrack({ capacity: 16, looseTcp: true });
    const v6 = new TcpSim(V6_CLIENT, V6_SERVER);
    expect(refEntry(ct.create(decoded(v6.segment(0, CLASS_SYN)), ORIGIN_INBOUND, 0))).toBe(0);
    const v4 = new TcpSim();
    expect(refEntry(ct.create(decoded(v4.segment(0, CLASS_ACK)), ORIGIN_INBOUND, 0))).toBe(1);
    const reply = decoded(v4.segment(1, CLASS_ACK));
    expect(ct.update(ct.lookup(reply), reply, false)).toBe(CT_OK);
    const synAck = decoded(v6.segment(1, CLASS_SYNACK));
    const ref = ct.lookup(synAck);
    expect(ref, "the IPv6 flow is found").toBeGreaterThanOrEqual(0);
    expect(ct.update(ref, synAck, false)).toBe(CT_OK);
  });

  it("an entry restarted from an ignored SYN leaves the IPv6 flow in the record before it reachable", () => {
    const ct = new Conntrack({ capacity: 16 });
    const v6 = new TcpSim(V6_CLIENT, V6_SERVER);
    expect(refEntry(ct.create(decoded(v6.segment(0, CLASS_SYN)), ORIGIN_INBOUND, 0))).toBe(0);
    const v4 = new TcpSim();
    const e = refEntry(ct.create(decoded(v4.segment(0, CLASS_SYN)), ORIGIN_INBOUND, 0));
    expect(e).toBe(1);
    const step = (sim: TcpSim, side: 0 | 1, cls: number, options?: { seq?: number; ack?: number }): number => {
      const rec = decoded(sim.segment(side, cls, options));
      const ref = ct.lookup(rec);
      expect(ref, "the flow is found").toBeGreaterThanOrEqual(0);
      return ct.update(ref, rec, arrivedInbound(ref));
    };
    expect(step(v4, 1, CLASS_SYNACK)).toBe(CT_OK);
    expect(step(v4, 0, CLASS_ACK)).toBe(CT_OK);
    const syn = v4.next[0] + 5_000_000;
    expect(step(v4, 0, CLASS_SYN, { seq: syn })).toBe(CT_SYN_IGNORED);
    expect(step(v4, 1, CLASS_SYNACK, { seq: 42, ack: syn + 1 })).toBe(CT_OK);
    expect(ct.table.state(e)).toBe(TCP_SYN_RECEIVED);
    expect(step(v6, 1, CLASS_SYNACK)).toBe(CT_OK);
    expect(step(v6, 0, CLASS_ACK)).toBe(CT_OK);
  });
});
