// The four inequalities of THE window check (tcp-window.ts windowCheck), each at its
// exact bound: a segment at the bound passes, one a sequence number past it fails with
// that check's sub-reason. Each is run on every path that calls windowCheck: the
// general path (lookup + update), the fast path from a decoded record (trackFast) and
// the one from the segment's bytes (trackTcp4Segment).
//   I   seq <= sender.td_maxend
//   II  end >= sender.td_end - receiver.td_maxwin
//   III ack <= receiver.td_end
//   IV  ack >= receiver.td_end - max(sender.td_maxwin, 66000)
// Client (side 0) opens the flow inbound; its td_* words below are the tracker's, worked
// out from the packets sent.

import { describe, expect, it } from "vitest";
import { Conntrack, CT_OVERSHOOT, CT_OK, CT_OUT_OF_WINDOW, CT_WRONG_PATH, ctDetail, ctKind, FAST_GENERAL, ORIGIN_INBOUND, ORIGIN_OUTBOUND, refEntry } from "../../src/conntrack/conntrack.ts";
import { TCP_CLOSED, TCP_ESTABLISHED } from "../../src/conntrack/states.ts";
import { SYNACK_NOT_ACKING_SYN } from "../../src/conntrack/tcp-window.ts";
import { CLASS_ACK, CLASS_RST, CLASS_SYN, CLASS_SYNACK } from "../../src/conntrack/tcp-states.ts";
import { WINDOW_DETAIL_NAMES } from "../../src/engine/reasons.ts";
import { arrivedInbound, decoded, SERVER, TcpSim } from "./tcp-sim.ts";
import type { SegmentOptions } from "./tcp-sim.ts";

type Path = "general" | "record" | "bytes";
const PATHS: Path[] = ["general", "record", "bytes"];

class Flow {
  readonly ct = new Conntrack({ capacity: 16 });
  readonly sim = new TcpSim();
  entry = -1;
  /** Another flow, created first, so this one's record is not at word 0 of the table; no step may touch it. */
  readonly decoy = decoded(new TcpSim({ ip: "100.64.0.99", port: 1 }, SERVER).segment(0, CLASS_SYN));
  constructor(readonly path: Path) {
    this.ct.create(this.decoy, ORIGIN_INBOUND, 0);
  }

  /** Send through the general path, expecting it to pass (the set-up steps). */
  step(side: 0 | 1, cls: number, options?: SegmentOptions): void {
    const rec = decoded(this.sim.segment(side, cls, options));
    const ref = this.ct.lookup(rec);
    if (ref < 0) {
      this.entry = refEntry(this.ct.create(rec, ORIGIN_INBOUND, 0));
      return;
    }
    expect(this.ct.update(ref, rec, arrivedInbound(ref))).toBe(CT_OK);
  }

  /** Judge a pure ACK on this flow's path: "pass", or the failing check's name. */
  ack(side: 0 | 1, options: SegmentOptions): string {
    expect(this.ct.lookup(this.decoy), "the other flow is intact").toBe(0);
    const packet = this.sim.segment(side, CLASS_ACK, options);
    const rec = decoded(packet);
    const fromClient = side === 0;
    if (this.path !== "general") {
      const ref = this.path === "record" ? this.ct.trackFast(rec, fromClient) : this.ct.trackTcp4Segment(packet, 0, packet.length, fromClient, new Int32Array(1));
      if (ref >= 0) {
        expect(refEntry(ref)).toBe(this.entry);
        return "pass";
      }
      expect(ref).toBe(FAST_GENERAL); // the general path then names the failure
    }
    const ref = this.ct.lookup(rec);
    const result = this.ct.update(ref, rec, arrivedInbound(ref));
    if (result === CT_OK) {
      expect(this.path).toBe("general"); // a fast path would have taken it
      return "pass";
    }
    if (result === CT_OVERSHOOT) return "overshoot"; // I failed by at most the receiver's window: passed unchanged
    expect(ctKind(result)).toBe(CT_OUT_OF_WINDOW);
    return WINDOW_DETAIL_NAMES[ctDetail(result)];
  }

  get state(): number {
    return this.ct.table.state(this.entry);
  }
}

describe.each(PATHS)("window check bounds (%s path)", (path) => {
  it("I: seq <= sender.td_maxend (the receiver's ack + window): passes at td_maxend, fails one past", () => {
    const f = new Flow(path);
    f.step(0, CLASS_SYN);
    f.step(1, CLASS_SYNACK, { window: 1000 }); // client td_maxend = 1001 + 1000
    f.step(0, CLASS_ACK);
    const maxEnd = 1001 + 1000;
    expect(f.ack(0, { seq: maxEnd + 1 })).toBe("overshoot"); // I fails; within db-1's window of 1000 past it (Linux)
    expect(f.ack(0, { seq: maxEnd + 999 })).toBe("overshoot");
    expect(f.ack(0, { seq: maxEnd + 1000 })).toBe("seq-above-window");
    // An overshoot passes only while II-IV hold: acking data the server never sent, it is out of window.
    expect(f.ack(0, { seq: maxEnd + 1, ack: f.sim.next[1] + 1 })).toBe("seq-above-window");
    expect(f.ack(0, { seq: maxEnd })).toBe("pass");
    expect(f.state).toBe(TCP_ESTABLISHED);
  });

  it("II: end >= sender.td_end - receiver.td_maxwin: passes with end at the bound, fails one before (pure ACK and data)", () => {
    const f = new Flow(path);
    f.step(0, CLASS_SYN);
    f.step(1, CLASS_SYNACK, { window: 1000 }); // server td_maxwin = 1000
    f.step(0, CLASS_ACK);
    f.step(0, CLASS_ACK, { payload: 1000 }); // client td_end = 2001
    f.step(1, CLASS_ACK, { window: 1000 }); // acked: client td_maxend = 3001; server td_maxwin stays 1000
    const bound = 2001 - 1000;
    expect(f.ack(0, { seq: bound - 1 })).toBe("seq-below-window");
    expect(f.ack(0, { seq: bound })).toBe("pass");
    // It is the segment's end that counts, not its start.
    expect(f.ack(0, { seq: bound - 101, payload: 100 })).toBe("seq-below-window");
    expect(f.ack(0, { seq: bound - 100, payload: 100 })).toBe("pass");
  });

  it("III: ack <= receiver.td_end: acking all the receiver sent passes, one more fails", () => {
    const f = new Flow(path);
    f.step(0, CLASS_SYN);
    f.step(1, CLASS_SYNACK);
    f.step(0, CLASS_ACK);
    f.step(1, CLASS_ACK, { payload: 500 }); // server td_end = 900001 + 500
    const serverEnd = 900_001 + 500;
    expect(f.ack(0, { ack: serverEnd + 1 })).toBe("ack-above-sent");
    expect(f.ack(0, { ack: serverEnd })).toBe("pass");
  });

  it("IV: ack >= receiver.td_end - 66000 while the sender's max window is below 66000: passes at the bound, fails one before", () => {
    const f = new Flow(path);
    f.step(0, CLASS_SYN); // client td_maxwin = 65535 < 66000
    f.step(1, CLASS_SYNACK);
    f.step(0, CLASS_ACK);
    const serverEnd = 900_001;
    expect(f.ack(0, { ack: serverEnd - 66_000 - 1 })).toBe("ack-below-window");
    expect(f.ack(0, { ack: serverEnd - 66_000 })).toBe("pass");
  });

  it("IV: ack >= receiver.td_end - sender.td_maxwin once that exceeds 66000 (scaled window): passes at the bound, fails one before", () => {
    const f = new Flow(path);
    f.step(0, CLASS_SYN, { windowScale: 2 });
    f.step(1, CLASS_SYNACK, { windowScale: 2 });
    f.step(0, CLASS_ACK, { window: 65535 }); // client td_maxwin = 65535 << 2
    const serverEnd = 900_001;
    const maxWin = 65535 * 4;
    expect(f.ack(0, { ack: serverEnd - maxWin - 1 })).toBe("ack-below-window");
    expect(f.ack(0, { ack: serverEnd - maxWin })).toBe("pass");
  });

  it.each([
    ["the responder's", 1, 0, 1001],
    ["the originator's", 0, 1, 900_001],
  ] as const)("td_maxwin is the largest window advertised, not the last (%s): a smaller window later does not narrow the other side's II", (_, receiver, sender, start) => {
    const f = new Flow(path);
    f.step(0, CLASS_SYN); // client td_maxwin = 65535
    f.step(1, CLASS_SYNACK); // server td_maxwin = 65535
    f.step(0, CLASS_ACK);
    f.step(sender, CLASS_ACK, { payload: 30_000 });
    f.step(sender, CLASS_ACK, { payload: 30_000 }); // the sender's td_end = start + 60000
    f.step(receiver, CLASS_ACK, { window: 2000 }); // acks it all, advertising less
    const end = start + 60_000;
    expect(f.ack(sender, { seq: end - 65_535 - 1 })).toBe("seq-below-window");
    expect(f.ack(sender, { seq: end - 65_535 })).toBe("pass");
  });
});

describe("window check: II waits for the receiver's first packet; SYN retransmissions", () => {
  const general = (ct: Conntrack, sim: TcpSim, side: 0 | 1, cls: number, options?: SegmentOptions): number => {
    const rec = decoded(sim.segment(side, cls, options));
    const ref = ct.lookup(rec);
    return ref < 0 ? (ct.create(rec, ORIGIN_INBOUND, 0), CT_OK) : ct.update(ref, rec, arrivedInbound(ref));
  };

  it("II is not checked while the receiver has sent nothing (td_maxwin 0, as Linux): in SYN_SENT the originator's RST one before its SYN's end closes", () => {
    const ct = new Conntrack({ capacity: 16 });
    const sim = new TcpSim();
    expect(general(ct, sim, 0, CLASS_SYN)).toBe(CT_OK);
    expect(general(ct, sim, 0, CLASS_RST, { flags: "R", seq: sim.isn[0] })).toBe(CT_OK);
    expect(ct.table.state(refEntry(ct.lookup(decoded(sim.segment(0, CLASS_ACK)))))).toBe(TCP_CLOSED);
  });

  it("a SYN retransmitted with a new ISN starts the originator's side over: the SYN-ACK must ack the new one", () => {
    const ct = new Conntrack({ capacity: 16 });
    const sim = new TcpSim();
    expect(general(ct, sim, 0, CLASS_SYN)).toBe(CT_OK);
    const newIsn = 0x7000_0000;
    expect(general(ct, sim, 0, CLASS_SYN, { seq: newIsn })).toBe(CT_OK);
    expect(ctDetail(general(ct, sim, 1, CLASS_SYNACK, { ack: sim.isn[0] + 1 }))).toBe(SYNACK_NOT_ACKING_SYN);
    expect(general(ct, sim, 1, CLASS_SYNACK, { ack: newIsn + 1 })).toBe(CT_OK);
    expect(general(ct, sim, 0, CLASS_ACK, { seq: newIsn + 1 })).toBe(CT_OK);
  });

  it("a SYN retransmitted with the same ISN: a SYN-ACK acking the ISN itself is still refused (the SYN sent no ACK to record)", () => {
    const ct = new Conntrack({ capacity: 16 });
    const sim = new TcpSim();
    expect(general(ct, sim, 0, CLASS_SYN)).toBe(CT_OK);
    expect(general(ct, sim, 0, CLASS_SYN)).toBe(CT_OK);
    expect(ctDetail(general(ct, sim, 1, CLASS_SYNACK, { ack: sim.isn[0] }))).toBe(SYNACK_NOT_ACKING_SYN);
    expect(general(ct, sim, 1, CLASS_SYNACK)).toBe(CT_OK);
  });
});

describe("fast path, UDP", () => {
  it("the originator's packets leave a UDP flow unreplied; the responder's mark it replied", async () => {
    const { UDP_REPLIED, UDP_UNREPLIED } = await import("../../src/conntrack/states.ts");
    const { buildPacket } = await import("../../src/packet/builder.ts");
    const ct = new Conntrack({ capacity: 16 });
    const out = decoded(buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "udp", srcPort: 5000, dstPort: 53 }));
    const back = decoded(buildPacket({ src: "100.64.0.20", dst: "100.64.0.10", protocol: "udp", srcPort: 53, dstPort: 5000 }));
    const e = refEntry(ct.create(out, ORIGIN_INBOUND, 0));
    expect(ct.trackFast(out, true)).toBe(e * 2);
    expect(ct.table.state(e)).toBe(UDP_UNREPLIED);
    expect(ct.trackFast(back, false)).toBe(e * 2 + 1);
    expect(ct.table.state(e)).toBe(UDP_REPLIED);
  });
});

describe("fast path, expiry", () => {
  it("with adaptive timeouts in force, the fast path expires a flow exactly when lookup does (the scaled timeout)", () => {
    // 16 records, timeouts shrinking from 1 flow (full) to 4 (zero): with 2 flows, 2/3 of normal.
    const ct = new Conntrack({ capacity: 16, adaptiveStart: 1 / 16, adaptiveEnd: 4 / 16, timeouts: { tcpEstablished: 3000 } });
    const sim = new TcpSim();
    ct.create(decoded(new TcpSim({ ip: "100.64.0.99", port: 1 }, SERVER).segment(0, CLASS_SYN)), ORIGIN_INBOUND, 0);
    ct.create(decoded(sim.segment(0, CLASS_SYN)), ORIGIN_INBOUND, 0);
    for (const [side, cls] of [[1, CLASS_SYNACK], [0, CLASS_ACK]] as const) {
      const rec = decoded(sim.segment(side, cls));
      expect(ct.update(ct.lookup(rec), rec, side === 0)).toBe(CT_OK);
    }
    expect(ct.adaptiveScale).toBeCloseTo(2 / 3);
    const seen = ct.now;
    const ack = decoded(sim.segment(0, CLASS_ACK));
    ct.now = seen + 1999; // within 3000 * 2/3
    expect(ct.trackFast(ack, true)).toBeGreaterThanOrEqual(0);
    ct.now += 2001; // idle 2001 ms: past the scaled timeout, within the unscaled one
    expect(ct.trackFast(ack, true)).toBe(FAST_GENERAL);
    expect(ct.lookup(ack)).toBe(-1);
  });
});

describe("fast path, path check", () => {
  it.each([
    ["A (the lower address)", "100.64.0.10"],
    ["B (the higher address)", "100.64.0.30"],
  ])("with the originator as endpoint %s of the key, its packet on the responder's path is left to the general path (wrong path), even carrying the responder's numbers", (_, client) => {
    const ct = new Conntrack({ capacity: 16 });
    const sim = new TcpSim({ ip: client, port: 40000 }, SERVER);
    const e = refEntry(ct.create(decoded(sim.segment(0, CLASS_SYN)), ORIGIN_INBOUND, 0));
    for (const [side, cls] of [[1, CLASS_SYNACK], [0, CLASS_ACK]] as const) {
      const rec = decoded(sim.segment(side, cls));
      expect(ct.update(ct.lookup(rec), rec, side === 0)).toBe(CT_OK);
    }
    // From the originator's address, with seq and ack that fit the responder's direction.
    const packet = sim.segment(0, CLASS_ACK, { seq: sim.next[1], ack: sim.next[0] });
    expect(ct.trackFast(decoded(packet), false)).toBe(FAST_GENERAL);
    expect(ct.trackTcp4Segment(packet, 0, packet.length, false, new Int32Array(1))).toBe(FAST_GENERAL);
    const rec = decoded(packet);
    expect(ct.update(ct.lookup(rec), rec, false)).toBe(CT_WRONG_PATH);
    expect(ct.trackFast(decoded(sim.segment(0, CLASS_ACK)), true)).toBe(e * 2);
    expect(ct.trackFast(decoded(sim.segment(1, CLASS_ACK)), false)).toBe(e * 2 + 1);
  });


  it("on a flow this side opened (outbound), the originator's segment arriving from the mesh is left to the general path (wrong path)", () => {
    const ct = new Conntrack({ capacity: 16 });
    const sim = new TcpSim();
    const e = refEntry(ct.create(decoded(sim.segment(0, CLASS_SYN)), ORIGIN_OUTBOUND, 0));
    for (const [side, cls] of [[1, CLASS_SYNACK], [0, CLASS_ACK]] as const) {
      const rec = decoded(sim.segment(side, cls));
      expect(ct.update(ct.lookup(rec), rec, side === 1)).toBe(CT_OK);
    }
    const packet = sim.segment(0, CLASS_ACK);
    expect(ct.trackFast(decoded(packet), true)).toBe(FAST_GENERAL);
    expect(ct.trackTcp4Segment(packet, 0, packet.length, true, new Int32Array(1))).toBe(FAST_GENERAL);
    expect(ct.trackFast(decoded(packet), false)).toBe(e * 2);
  });
});
