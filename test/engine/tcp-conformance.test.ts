// The window check and RST rules where they follow Linux nf_conntrack (tcp_in_window
// and the RST handling of nf_conntrack_tcp_packet), one test per rule: each failed
// before the window check became one function checking every segment.
// alice (side 0, inbound) talks to db-1 (side 1, outbound); the engine runs on db-1.

import { describe, expect, it } from "vitest";
import { CLASS_ACK, CLASS_FIN, CLASS_RST, CLASS_SYN, CLASS_SYNACK } from "../../src/conntrack/tcp-states.ts";
import { WINDOW_DETAIL_NAMES } from "../../src/engine/reasons.ts";
import { buildPacket } from "../../src/packet/builder.ts";
import { Conversation } from "./conversation.ts";
import { ALICE, DB, Harness, OFFICE_HOST, policyFor, ROUTER } from "./helpers.ts";

const detail = (c: Conversation): string => WINDOW_DETAIL_NAMES[c.h.engine.lastDetail];

describe("every segment's sequence number is checked, empty or not (Linux tcp_in_window)", () => {
  it("a blind pure ACK whose sequence number is far ahead of the window is dropped (seq-above-window)", () => {
    const c = new Conversation().establish();
    expect(c.send(0, CLASS_ACK, { seq: c.sim.next[0] + 0x20000000 })).toBe("drop:tcp-out-of-window");
    expect(detail(c)).toBe("seq-above-window");
    expect(c.state).toBe("established");
  });

  it("a blind pure ACK whose sequence number is more than a window behind is dropped (seq-below-window)", () => {
    const c = new Conversation().establish();
    expect(c.send(0, CLASS_ACK, { seq: c.sim.next[0] - 0x20000000 })).toBe("drop:tcp-out-of-window");
    expect(detail(c)).toBe("seq-below-window");
  });

  it("a blind RST far ahead of the window is dropped; one behind the receiver's ACK too (rst-before-ack)", () => {
    const c = new Conversation().establish();
    expect(c.send(0, CLASS_RST, { seq: c.sim.next[0] + 0x20000000 })).toBe("drop:tcp-out-of-window");
    expect(detail(c)).toBe("seq-above-window");
    expect(c.send(0, CLASS_RST, { seq: c.sim.next[0] - 0x20000000 })).toBe("drop:tcp-out-of-window");
    expect(detail(c)).toBe("rst-before-ack");
    expect(c.state).toBe("established");
  });

  it("an ACK of data never sent is dropped (ack-above-sent); one lagging far behind too (ack-below-window)", () => {
    const c = new Conversation().establish();
    expect(c.send(0, CLASS_ACK, { ack: c.sim.next[1] + 10 })).toBe("drop:tcp-out-of-window");
    expect(detail(c)).toBe("ack-above-sent");
    expect(c.send(0, CLASS_ACK, { ack: c.sim.next[1] - 200_000 })).toBe("drop:tcp-out-of-window");
    expect(detail(c)).toBe("ack-below-window");
  });

  it("a pure ACK or RST exactly at the receiver's max end, right after a segment that filled the window, passes; one byte further does not", () => {
    const c = new Conversation();
    expect(c.send(0, CLASS_SYN)).toBe("accept:rule");
    expect(c.send(1, CLASS_SYNACK, { window: 1000 })).toBe("accept:established");
    expect(c.send(0, CLASS_ACK)).toBe("accept:established");
    const maxEnd = c.sim.next[0] + 1000; // db-1's ack + its window
    expect(c.send(0, CLASS_ACK, { payload: 1000 })).toBe("accept:established"); // fills the window
    expect(c.sim.next[0]).toBe(maxEnd);
    // I: seq <= td_maxend. One past it fails I, but passes unchanged while it overshoots by
    // at most db-1's max window (1000: end - td_maxend + 1 <= 1000), as Linux does.
    expect(c.send(0, CLASS_ACK, { seq: maxEnd + 1 })).toBe("accept:tcp-overshoot");
    expect(c.send(0, CLASS_ACK, { seq: maxEnd + 999 })).toBe("accept:tcp-overshoot");
    expect(c.send(0, CLASS_ACK, { seq: maxEnd + 1000 })).toBe("drop:tcp-out-of-window");
    expect(detail(c)).toBe("seq-above-window");
    expect(c.send(0, CLASS_ACK, { seq: maxEnd })).toBe("accept:established");
    expect(c.send(0, CLASS_RST, { seq: maxEnd + 1000 })).toBe("drop:tcp-out-of-window");
    expect(c.send(0, CLASS_RST, { seq: maxEnd })).not.toMatch(/^drop/);
  });

  it("the sub-reason is counted per check", () => {
    const c = new Conversation().establish();
    c.send(0, CLASS_ACK, { seq: c.sim.next[0] + 0x20000000 });
    c.send(0, CLASS_ACK, { seq: c.sim.next[0] + 0x20000000 });
    c.send(0, CLASS_ACK, { ack: c.sim.next[1] + 10 });
    const counts = c.h.engine.detailCounts;
    expect(counts[WINDOW_DETAIL_NAMES.indexOf("seq-above-window")]).toBe(2);
    expect(counts[WINDOW_DETAIL_NAMES.indexOf("ack-above-sent")]).toBe(1);
  });
});

describe("RST exactness (Linux: td_maxack, or an RST train)", () => {
  it("an RST at the sender's td_end beyond a hole (no SACK) does not cut the connection: the receiver ignores it", () => {
    const c = new Conversation().establish();
    const start = c.sim.next[0];
    expect(c.send(0, CLASS_ACK, { payload: 1000 })).toBe("accept:established"); // 1
    expect(c.send(0, CLASS_ACK, { payload: 1000 })).toBe("accept:established"); // 2, lost before db-1
    expect(c.send(0, CLASS_ACK, { payload: 1000 })).toBe("accept:established"); // 3
    // db-1 acks only the first segment (a hole after it), twice (a duplicate ACK for the third).
    expect(c.send(1, CLASS_ACK, { ack: start + 1000 })).toBe("accept:established");
    expect(c.send(1, CLASS_ACK, { ack: start + 1000 })).toBe("accept:established");
    // alice resets from her snd_nxt: db-1 accepts an RST only at RCV.NXT (start + 1000).
    expect(c.send(0, CLASS_RST)).toBe("accept:tcp-rst-challenge");
    expect(c.state).toBe("established");
    // ... so the connection lives on at both ends, and so it does here.
    expect(c.send(0, CLASS_ACK, { payload: 10 })).toBe("accept:established");
    expect(c.send(1, CLASS_ACK)).toBe("accept:established");
  });

  it("an RST at the receiver's highest ACK closes", () => {
    const c = new Conversation().establish();
    const start = c.sim.next[0];
    c.send(0, CLASS_ACK, { payload: 1000 });
    c.send(0, CLASS_ACK, { payload: 1000 });
    expect(c.send(1, CLASS_ACK, { ack: start + 1000 })).toBe("accept:established");
    expect(c.send(0, CLASS_RST, { seq: start + 1000 })).toBe("accept:established");
    expect(c.state).toBe("closed");
  });

  it("an RST right after the sender's own data segment (an RST train) closes, though the receiver has not acked it", () => {
    const c = new Conversation().establish();
    expect(c.send(1, CLASS_ACK, { payload: 500 })).toBe("accept:established");
    expect(c.send(1, CLASS_RST)).toBe("accept:established");
    expect(c.state).toBe("closed");
  });
});

describe("handshake variants", () => {
  it("a SYN carrying data (TCP Fast Open) whose SYN-ACK acknowledges only the SYN works end to end", () => {
    const c = new Conversation();
    expect(c.send(0, CLASS_SYN, { payload: 100 })).toBe("accept:rule");
    expect(c.send(1, CLASS_SYNACK, { ack: c.sim.isn[0] + 1 })).toBe("accept:established");
    expect(c.state).toBe("syn-received");
    // alice retransmits the data the server did not take with the SYN, then acks.
    expect(c.send(0, CLASS_ACK, { seq: c.sim.isn[0] + 1, payload: 100 })).toBe("accept:established");
    expect(c.state).toBe("established");
    expect(c.send(1, CLASS_ACK, { payload: 20 })).toBe("accept:established");
  });

  it("a SYN-ACK acknowledging the SYN and all of its data is accepted too; one acking beyond it is not", () => {
    const c = new Conversation();
    c.send(0, CLASS_SYN, { payload: 100 });
    expect(c.send(1, CLASS_SYNACK, { ack: c.sim.isn[0] + 102 })).toBe("drop:tcp-out-of-window");
    expect(detail(c)).toBe("synack-not-acking-syn");
    expect(c.send(1, CLASS_SYNACK, { ack: c.sim.isn[0] })).toBe("drop:tcp-out-of-window");
    expect(c.send(1, CLASS_SYNACK)).toBe("accept:established");
  });

  it("port reuse from TIME_WAIT with a lower ISN: the responder's challenge ACK passes, the RST answering it ends the entry, the retried SYN connects", () => {
    const c = new Conversation().establish();
    c.send(0, CLASS_FIN);
    c.send(1, CLASS_FIN + 1); // FIN acking alice's FIN
    c.send(0, CLASS_ACK + 1);
    expect(c.state).toBe("time-wait");
    const oldServerNext = c.sim.next[1];
    const oldClientNext = c.sim.next[0];
    const syn = { seq: c.sim.isn[0] - 50_000 }; // lower than anything of the old connection
    expect(c.h.inWhy(c.sim.segment(0, CLASS_SYN, syn))).toBe("accept:rule");
    // db-1, still in TIME_WAIT, answers the unexpected SYN with an ACK of the old connection.
    expect(c.send(1, CLASS_ACK, { seq: oldServerNext, ack: oldClientNext })).toBe("accept:tcp-ignored");
    expect(c.state).toBe("syn-sent");
    // alice answers that ACK with an RST carrying its ACK number: the entry ends.
    expect(c.send(0, CLASS_RST, { flags: "R", seq: oldClientNext })).toBe("accept:established");
    expect(c.state).toBe("closed");
    // alice's retried SYN opens a new connection, which completes.
    expect(c.h.inWhy(c.sim.segment(0, CLASS_SYN, syn))).toBe("accept:rule");
    expect(c.send(1, CLASS_SYNACK, { ack: syn.seq + 1 })).toBe("accept:established");
    expect(c.send(0, CLASS_ACK, { seq: syn.seq + 1 })).toBe("accept:established");
    expect(c.state).toBe("established");
  });

  it("port reuse from TIME_WAIT with a higher ISN restarts the entry at once", () => {
    const c = new Conversation().establish();
    c.send(0, CLASS_FIN);
    c.send(1, CLASS_FIN + 1);
    c.send(0, CLASS_ACK + 1);
    const syn = { seq: c.sim.next[0] + 1_000_000 };
    expect(c.h.inWhy(c.sim.segment(0, CLASS_SYN, syn))).toBe("accept:rule");
    expect(c.send(1, CLASS_SYNACK, { ack: syn.seq + 1 })).toBe("accept:established");
    expect(c.state).toBe("syn-received");
  });
});

describe("this peer's own TCP with no connection (P13)", () => {
  it("the peer's RST answering an inbound SYN that the policy dropped passes", () => {
    const h = new Harness();
    const syn = { src: ALICE, dst: DB, protocol: "tcp" as const, srcPort: 41000, dstPort: 22, tcp: { flags: "S", seq: 7000 } };
    expect(h.inWhy(syn)).toBe("drop:no-rule");
    expect(h.outWhy({ src: DB, dst: ALICE, protocol: "tcp", srcPort: 22, dstPort: 41000, tcp: { flags: "RA", seq: 0, ack: 7001 } })).toBe("accept:outbound-untracked");
    expect(h.engine.flows()[Symbol.iterator]().next().done).toBe(true);
  });

  it("an outbound mid-stream segment (a connection older than the agent) passes and picks up a loose entry, so its replies pass", () => {
    const h = new Harness();
    expect(h.outWhy({ src: DB, dst: ALICE, protocol: "tcp", srcPort: 5000, dstPort: 443, tcp: { flags: "PA", seq: 1234, ack: 999 }, payload: 50 })).toBe("accept:outbound");
    expect(h.inWhy({ src: ALICE, dst: DB, protocol: "tcp", srcPort: 443, dstPort: 5000, tcp: { flags: "A", seq: 999, ack: 1284 } })).toBe("accept:established");
  });

  it("with egress rules enforced, an outbound segment with no connection is still refused", () => {
    const h = new Harness(undefined, { egress: true });
    expect(h.outWhy({ src: DB, dst: ALICE, protocol: "tcp", srcPort: 5000, dstPort: 443, tcp: { flags: "A", seq: 1, ack: 1 } })).toBe("drop:tcp-no-connection");
  });
});

describe("path before state", () => {
  it("a packet of a tracked flow on the wrong path is dropped (wrong-path): the reply direction arriving from the mesh", () => {
    const c = new Conversation().establish();
    // db-1's side of the flow (src db-1) arriving inbound: someone in the mesh spoofing db-1.
    const spoof = c.sim.segment(1, CLASS_ACK, { seq: c.sim.next[1] });
    expect(c.h.inWhy(spoof)).toBe("drop:wrong-path");
    // and alice's side leaving outbound: not alice's packet.
    expect(c.h.outWhy(c.sim.segment(0, CLASS_ACK, { seq: c.sim.next[0] }))).toBe("drop:wrong-path");
    expect(c.send(0, CLASS_ACK)).toBe("accept:established");
  });

  it("an inbound packet carrying this peer's own address as source opens nothing (wrong-path)", () => {
    const h = new Harness();
    const p = buildPacket({ src: DB, dst: DB, protocol: "udp", srcPort: 5353, dstPort: 53 });
    expect(h.inWhy(p)).toBe("drop:wrong-path");
  });
});

describe("the ignored-SYN note (Linux last_index): one packet, bounded time", () => {
  it("a SYN-ACK answering the ignored SYN restarts the entry only when it is the very next packet", () => {
    const c = new Conversation().establish();
    const syn = { seq: c.sim.next[0] + 5_000_000 };
    expect(c.h.inWhy(c.sim.segment(0, CLASS_SYN, syn))).toBe("accept:tcp-syn-ignored");
    expect(c.send(1, CLASS_ACK)).toBe("accept:established"); // another packet passes: the note is gone
    expect(c.send(1, CLASS_SYNACK, { seq: 42, ack: syn.seq + 1 })).not.toBe("accept:established");
    expect(c.state).toBe("established");
  });

  it("... and only within the SYN_SENT timeout", () => {
    const c = new Conversation().establish();
    const syn = { seq: c.sim.next[0] + 5_000_000 };
    expect(c.h.inWhy(c.sim.segment(0, CLASS_SYN, syn))).toBe("accept:tcp-syn-ignored");
    c.h.advance(121_000);
    expect(c.send(1, CLASS_SYNACK, { seq: 42, ack: syn.seq + 1 })).not.toBe("accept:established");
    expect(c.state).toBe("established");
  });

  it("... the SYN_SENT timeout included: answered exactly 120 s later, it still restarts the entry", () => {
    const c = new Conversation().establish();
    const syn = { seq: c.sim.next[0] + 5_000_000 };
    expect(c.h.inWhy(c.sim.segment(0, CLASS_SYN, syn))).toBe("accept:tcp-syn-ignored");
    c.h.advance(120_000);
    expect(c.send(1, CLASS_SYNACK, { seq: 42, ack: syn.seq + 1 })).toBe("accept:established");
    expect(c.state).toBe("syn-received");
  });

  it("answered at once, it restarts the entry as a new handshake", () => {
    const c = new Conversation().establish();
    const syn = { seq: c.sim.next[0] + 5_000_000 };
    c.h.inWhy(c.sim.segment(0, CLASS_SYN, syn));
    expect(c.send(1, CLASS_SYNACK, { seq: 42, ack: syn.seq + 1 })).toBe("accept:established");
    expect(c.state).toBe("syn-received");
  });
});

describe("path before state, on a routed flow", () => {
  it("a host on the resource's LAN cannot restart a routed flow by posing as the mesh peer on the outbound path", () => {
    const h = new Harness(policyFor(ROUTER, { routes: [{ id: "office/alice", protocol: "tcp", sources: [`${ALICE}/32`], destinations: ["198.18.1.0/24"], ports: [22] }] }));
    const tcp = (src: string, dst: string, sp: number, dp: number, flags: string, seq: number, ack = 0) =>
      buildPacket({ src, dst, protocol: "tcp", srcPort: sp, dstPort: dp, tcp: { flags, seq, ack } });
    expect(h.inWhy(tcp(ALICE, OFFICE_HOST, 40000, 22, "S", 100))).toBe("accept:rule");
    expect(h.outWhy(tcp(OFFICE_HOST, ALICE, 22, 40000, "SA", 5000, 101))).toBe("accept:established");
    expect(h.inWhy(tcp(ALICE, OFFICE_HOST, 40000, 22, "A", 101, 5001))).toBe("accept:established");
    // From the LAN (the outbound path): alice's SYN, then a SYN-ACK answering it.
    expect(h.outWhy(tcp(ALICE, OFFICE_HOST, 40000, 22, "S", 900_000))).toBe("drop:wrong-path");
    expect(h.inWhy(tcp(OFFICE_HOST, ALICE, 22, 40000, "SA", 7000, 900_001))).toBe("drop:wrong-path");
    // The honest packets still pass.
    expect(h.inWhy(tcp(ALICE, OFFICE_HOST, 40000, 22, "PA", 101, 5001))).toBe("accept:established");
    expect(h.outWhy(tcp(OFFICE_HOST, ALICE, 22, 40000, "A", 5001, 101))).toBe("accept:established");
  });
});

describe("an RST answering a packet passed without a state change is exact, without a window check (Linux last_index/last_ack)", () => {
  /** Established, then alice's SYN of a restarted connection passes unchanged; returns its sequence number. */
  const ignoredSyn = (c: Conversation): number => {
    c.establish();
    const seq = c.sim.next[0] + 5_000_000;
    expect(c.send(0, CLASS_SYN, { seq })).toBe("accept:tcp-syn-ignored");
    return seq;
  };
  const far = (c: Conversation, side: 0 | 1): number => c.sim.next[side] + 0x20000000;

  it("db-1's RST+ACK acking the ignored SYN exactly closes the flow, wherever its sequence number lies", () => {
    const c = new Conversation();
    const syn = ignoredSyn(c);
    expect(c.send(1, CLASS_RST, { seq: far(c, 1), ack: syn + 1 })).toBe("accept:established");
    expect(c.state).toBe("closed");
  });

  it("... not when it acks anything else", () => {
    const c = new Conversation();
    const syn = ignoredSyn(c);
    expect(c.send(1, CLASS_RST, { seq: far(c, 1), ack: syn + 2 })).toBe("drop:tcp-out-of-window");
    expect(c.send(1, CLASS_RST, { seq: far(c, 1), ack: syn })).toBe("drop:tcp-out-of-window");
    expect(c.state).toBe("established");
  });

  it("... not without the ACK flag (the ACK field then means nothing)", () => {
    const c = new Conversation();
    const syn = ignoredSyn(c);
    expect(c.send(1, CLASS_RST, { flags: "R", seq: far(c, 1), ack: syn + 1 })).toBe("drop:tcp-out-of-window");
    expect(c.state).toBe("established");
  });

  it("... not from the side that sent the SYN", () => {
    const c = new Conversation();
    const syn = ignoredSyn(c);
    expect(c.send(0, CLASS_RST, { seq: far(c, 0), ack: syn + 1 })).toBe("drop:tcp-out-of-window");
    expect(c.state).toBe("established");
  });

  it("... and only as the very next packet of the flow", () => {
    const c = new Conversation();
    const syn = ignoredSyn(c);
    expect(c.send(0, CLASS_ACK)).toBe("accept:established");
    expect(c.send(1, CLASS_RST, { seq: far(c, 1), ack: syn + 1 })).toBe("drop:tcp-out-of-window");
    expect(c.state).toBe("established");
  });

  it("alice's RST answering db-1's challenge ACK in SYN_SENT must carry exactly the ACK number it answers", () => {
    const c = new Conversation().establish();
    c.send(0, CLASS_FIN);
    c.send(1, CLASS_FIN + 1);
    c.send(0, CLASS_ACK + 1);
    const oldServerNext = c.sim.next[1];
    const oldClientNext = c.sim.next[0];
    expect(c.h.inWhy(c.sim.segment(0, CLASS_SYN, { seq: c.sim.isn[0] - 50_000 }))).toBe("accept:rule");
    expect(c.send(1, CLASS_ACK, { seq: oldServerNext, ack: oldClientNext })).toBe("accept:tcp-ignored");
    expect(c.send(0, CLASS_RST, { flags: "R", seq: oldClientNext + 1 })).toBe("drop:tcp-out-of-window");
    expect(c.send(0, CLASS_RST, { flags: "R", seq: oldClientNext - 1 })).toBe("drop:tcp-out-of-window");
    expect(c.state).toBe("syn-sent");
  });
});
