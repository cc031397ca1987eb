// How a passing segment moves the window words (tcp-window.ts windowAdvance, advanceEnd,
// initFromSyn) and the RST rules that read them, each seen from outside: a later
// segment that passes or fails only because of the rule. alice (side 0) talks to db-1
// (side 1) through the engine, as in tcp-conformance.test.ts.

import { describe, expect, it } from "vitest";
import { CLASS_ACK, CLASS_RST, CLASS_SYN, CLASS_SYNACK } from "../../src/conntrack/tcp-states.ts";
import { DIR_OUT, VERDICT_ACCEPT } from "../../src/engine/engine.ts";
import { WINDOW_DETAIL_NAMES } from "../../src/engine/reasons.ts";
import { CLIENT, TcpSim } from "../conntrack/tcp-sim.ts";
import { packBatch } from "../support/batch.ts";
import { Conversation } from "./conversation.ts";
import { dbPolicy, Harness } from "./helpers.ts";

const detail = (c: Conversation): string => WINDOW_DETAIL_NAMES[c.h.engine.lastDetail];

describe("windowAdvance: what a passing segment leaves behind", () => {
  it("td_maxack is the highest ACK sent: an older ACK after it does not lower it (an RST at the older one is before it)", () => {
    const c = new Conversation().establish();
    const start = c.sim.next[0];
    c.send(0, CLASS_ACK, { payload: 1000 });
    c.send(0, CLASS_ACK, { payload: 1000 });
    expect(c.send(1, CLASS_ACK, { ack: start + 2000 })).toBe("accept:established");
    expect(c.send(1, CLASS_ACK, { ack: start + 1000 })).toBe("accept:established"); // reordered, older
    expect(c.send(0, CLASS_RST, { seq: start + 1000 })).toBe("drop:tcp-out-of-window");
    expect(detail(c)).toBe("rst-before-ack");
    expect(c.send(0, CLASS_RST, { seq: start + 2000 })).toBe("accept:established");
    expect(c.state).toBe("closed");
  });

  it("a zero window still lets one sequence number through (a zero-window probe, Linux: ack + max(win, 1))", () => {
    const c = new Conversation();
    c.send(0, CLASS_SYN);
    expect(c.send(1, CLASS_SYNACK, { window: 0 })).toBe("accept:established");
    const isnNext = c.sim.next[0];
    expect(c.send(0, CLASS_ACK)).toBe("accept:established");
    expect(c.send(0, CLASS_ACK, { seq: isnNext + 2 })).toBe("drop:tcp-out-of-window");
    expect(c.send(0, CLASS_ACK, { seq: isnNext + 1 })).toBe("accept:established");
  });

  it("td_maxend never moves back: a smaller window later does not shrink what was allowed", () => {
    const c = new Conversation().establish();
    const next = c.sim.next[0];
    expect(c.send(1, CLASS_ACK, { window: 1000 })).toBe("accept:established"); // allows up to next + 65535 still
    expect(c.send(0, CLASS_ACK, { seq: next + 60_000 })).toBe("accept:established");
  });

  it("td_end never moves back: an old segment after new data leaves the data acknowledgeable", () => {
    const c = new Conversation().establish();
    const start = c.sim.next[0];
    c.send(0, CLASS_ACK, { payload: 1000 });
    expect(c.send(0, CLASS_ACK, { seq: start })).toBe("accept:established"); // a late pure ACK
    expect(c.send(1, CLASS_ACK, { ack: start + 1000 })).toBe("accept:established");
  });

  it("data pushed past td_maxend widens the receiver's max window by the overshoot (Linux), which widens II", () => {
    const c = new Conversation();
    c.send(0, CLASS_SYN);
    c.send(1, CLASS_SYNACK, { window: 1000 }); // db-1's td_maxwin 1000; alice may send up to isn + 1 + 1000
    c.send(0, CLASS_ACK);
    const first = c.sim.next[0];
    expect(c.send(0, CLASS_ACK, { payload: 1500 })).toBe("accept:established"); // 500 past td_maxend: db-1's max window 1500
    expect(c.send(0, CLASS_ACK, { seq: first, payload: 1500 })).toBe("accept:established"); // retransmitted: ends at td_end, widens nothing more
    // II for alice: end >= td_end - 1500 = first
    expect(c.send(0, CLASS_ACK, { seq: first - 1 })).toBe("drop:tcp-out-of-window");
    expect(detail(c)).toBe("seq-below-window");
    expect(c.send(0, CLASS_ACK, { seq: first })).toBe("accept:established");
  });
});

describe("segment runs (runRestInWindow)", () => {
  it("a run from db-1 whose last segment ends past its window widens alice's max window by the overshoot once, as one by one, and counts each packet once", () => {
    const c = new Conversation();
    c.send(0, CLASS_SYN, { window: 3500 }); // alice's td_maxwin 3500
    c.send(1, CLASS_SYNACK);
    expect(c.send(0, CLASS_ACK, { window: 3500 })).toBe("accept:established"); // db-1 may send up to its ISN + 1 + 3500
    const first = c.sim.next[1];
    // Four segments of 1000: the last starts inside the window (at +3000) and ends 500 past it.
    const burst = Array.from({ length: 4 }, () => c.sim.segment(1, CLASS_ACK, { payload: 1000 }));
    const batch = packBatch(burst);
    const verdicts = new Uint8Array(batch.count);
    // Sent twice: the retransmitted run ends at db-1's td_end, so it widens nothing more.
    for (let time = 1; time <= 2; time++) {
      c.h.engine.judgeBatch(DIR_OUT, batch.buf, batch.offsets, batch.lengths, batch.count, verdicts);
      expect(Array.from(verdicts)).toEqual(burst.map(() => VERDICT_ACCEPT));
      expect(c.h.engine.segmentRunCounts[1]).toBe(3 * time); // judged as one run
      expect([...c.h.engine.flows()][0].packetsReply).toBe(1 + 4 * time);
    }
    // II for db-1: end >= td_end - alice's max window, now 3500 + 500 = 4000, so >= first.
    expect(c.send(1, CLASS_ACK, { seq: first - 1 })).toBe("drop:tcp-out-of-window");
    expect(detail(c)).toBe("seq-below-window");
    expect(c.send(1, CLASS_ACK, { seq: first })).toBe("accept:established");
  });
});

describe("window scaling (initFromSyn)", () => {
  it("a shift of 0 offered counts as offered: the other side's shift applies", () => {
    const c = new Conversation();
    expect(c.send(0, CLASS_SYN, { windowScale: 0 })).toBe("accept:rule");
    expect(c.send(1, CLASS_SYNACK, { windowScale: 7, window: 1024 })).toBe("accept:established");
    expect(c.send(0, CLASS_ACK)).toBe("accept:established");
    expect(c.send(1, CLASS_ACK, { window: 1024 })).toBe("accept:established"); // 1024 << 7
    expect(c.send(0, CLASS_ACK, { seq: c.sim.next[0] + 100_000, payload: 100 })).toBe("accept:established");
  });

  it("the shift is what was offered, not more: 1024 << 7 allows 131072, not beyond", () => {
    const c = new Conversation();
    c.send(0, CLASS_SYN, { windowScale: 7 });
    c.send(1, CLASS_SYNACK, { windowScale: 7, window: 1024 });
    c.send(0, CLASS_ACK);
    const ack = c.sim.next[0];
    expect(c.send(1, CLASS_ACK, { window: 1024 })).toBe("accept:established");
    expect(c.send(0, CLASS_ACK, { seq: ack + 131_072 + 1 })).toBe("accept:tcp-overshoot"); // past it: I fails (within one more window, passed unchanged)
    expect(c.send(0, CLASS_ACK, { seq: ack + 131_072 })).toBe("accept:established");
  });

  it("a shift above 14 counts as 14 (RFC 7323)", () => {
    const c = new Conversation();
    c.send(0, CLASS_SYN, { windowScale: 15 });
    c.send(1, CLASS_SYNACK, { windowScale: 15, window: 1024 });
    c.send(0, CLASS_ACK);
    const ack = c.sim.next[0];
    expect(c.send(1, CLASS_ACK, { window: 1 })).toBe("accept:established"); // 1 << 14
    expect(c.send(0, CLASS_ACK, { seq: ack + (1 << 14) + 1 })).toBe("accept:tcp-overshoot");
    expect(c.send(0, CLASS_ACK, { seq: ack + (1 << 14) })).toBe("accept:established");
  });

  it("when only the originator offers scaling it is off for both: the originator's windows are not scaled either", () => {
    const c = new Conversation();
    c.send(0, CLASS_SYN, { windowScale: 7 });
    c.send(1, CLASS_SYNACK);
    c.send(0, CLASS_ACK, { window: 1000 }); // 1000, not 1000 << 7
    const ack = c.sim.next[1];
    expect(c.send(1, CLASS_ACK, { seq: ack + 1000 + 1 })).toBe("accept:tcp-overshoot");
    expect(c.send(1, CLASS_ACK, { seq: ack + 1000 })).toBe("accept:established");
  });
});

describe("initFromSyn: the window of a SYN", () => {
  it("a SYN's window is its side's first td_maxwin (II for the other side), even when later windows are smaller", () => {
    const c = new Conversation();
    c.send(0, CLASS_SYN, { window: 5000 });
    c.send(1, CLASS_SYNACK);
    c.send(0, CLASS_ACK, { window: 100 }); // db-1 may send up to its ISN + 1 + 100
    expect(c.send(1, CLASS_ACK, { payload: 100 })).toBe("accept:established");
    const end = c.sim.next[1];
    expect(c.send(1, CLASS_ACK, { seq: end - 5000 - 1 })).toBe("drop:tcp-out-of-window");
    expect(detail(c)).toBe("seq-below-window");
    expect(c.send(1, CLASS_ACK, { seq: end - 5000 })).toBe("accept:established");
  });

  it("a SYN-ACK with window 0 still marks the responder as seen: its next segment is checked, not taken as a first", () => {
    const c = new Conversation();
    c.send(0, CLASS_SYN);
    expect(c.send(1, CLASS_SYNACK, { window: 0 })).toBe("accept:established");
    expect(c.send(0, CLASS_ACK)).toBe("accept:established");
    expect(c.send(1, CLASS_ACK, { seq: c.sim.next[1] + 0x20000000 })).toBe("drop:tcp-out-of-window");
  });
});

describe("RST rules (rstVerdict)", () => {
  it("syn-sent: a refusing RST without the ACK flag is dropped, even with the right number in its ACK field", () => {
    const c = new Conversation();
    c.send(0, CLASS_SYN);
    expect(c.send(1, CLASS_RST, { flags: "R", ack: c.sim.next[0] })).toBe("drop:tcp-out-of-window");
    expect(c.state).toBe("syn-sent");
  });

  it("syn-received: the originator has acked nothing, so the responder's RST is not held to a td_maxack (whatever its numbers)", () => {
    const c = new Conversation();
    c.sim.isn[0] = 2_000_000;
    c.sim.isn[1] = 1000; // the responder's numbers lie before the originator's
    c.send(0, CLASS_SYN);
    c.send(1, CLASS_SYNACK);
    expect(c.send(1, CLASS_RST)).toBe("accept:established");
    expect(c.state).toBe("closed");
  });

  it("after an ignored SYN, td_maxack is stale: db-1's in-window RST closes without being held to it", () => {
    const c = new Conversation().establish();
    expect(c.send(0, CLASS_SYN, { seq: c.sim.next[0] + 5_000_000 })).toBe("accept:tcp-syn-ignored");
    expect(c.send(1, CLASS_RST, { seq: c.sim.next[1] + 1000 })).toBe("accept:established");
    expect(c.state).toBe("closed");
  });

  it("an RST train needs the sender's own last segment: an RST at the other side's last end is only a challenge", () => {
    const c = new Conversation();
    c.sim.isn[0] = 1000;
    c.sim.isn[1] = 1500; // db-1's numbers inside alice's window
    c.establish();
    expect(c.send(1, CLASS_ACK, { payload: 100 })).toBe("accept:established"); // db-1's last end: 1601
    expect(c.send(0, CLASS_RST, { seq: 1601 })).toBe("accept:tcp-rst-challenge");
    expect(c.state).toBe("established");
  });

  it("an RST+ACK with ACK number 0 (broken stacks) is judged as acking everything: exact, it closes", () => {
    const c = new Conversation().establish();
    expect(c.send(0, CLASS_RST, { ack: 0 })).toBe("accept:established");
    expect(c.state).toBe("closed");
  });

  it("... from the responder too", () => {
    const c = new Conversation().establish();
    expect(c.send(1, CLASS_RST, { ack: 0 })).toBe("accept:established");
    expect(c.state).toBe("closed");
  });

  it("db-1's RST at the ACK alice sent closes, with db-1's sequence numbers past 2^31 (alice's td_maxack starts at db-1's ISN + 1, not at 0)", () => {
    const c = new Conversation();
    c.sim.isn[1] = 0x9000_0000;
    c.establish();
    expect(c.send(1, CLASS_RST)).toBe("accept:established");
    expect(c.state).toBe("closed");
  });

  it("db-1's RST+ACK with ACK number 0 is judged as acking all alice sent, whatever her sequence numbers", () => {
    const c = new Conversation();
    c.sim.isn[0] = 0x4000_0000; // far from 0: an ACK of 0 would lag more than a window behind
    c.establish();
    expect(c.send(1, CLASS_RST, { ack: 0 })).toBe("accept:established");
    expect(c.state).toBe("closed");
  });

  it("a note is evidence for the next packet only: after alice's ignored SYN and db-1's ACK, her RST at that SYN's end is a challenge", () => {
    const c = new Conversation().establish();
    const syn = c.sim.next[0] + 5000;
    expect(c.send(0, CLASS_SYN, { seq: syn })).toBe("accept:tcp-syn-ignored");
    expect(c.send(1, CLASS_ACK)).toBe("accept:established"); // db-1's challenge ACK, for the connection it knows
    expect(c.send(0, CLASS_RST, { seq: syn + 1 })).toBe("accept:tcp-rst-challenge");
    expect(c.state).toBe("established");
  });

  it("an RST+ACK acking data never sent is dropped (ack-above-sent): only ACK 0 stands for everything", () => {
    const c = new Conversation().establish();
    expect(c.send(0, CLASS_RST, { ack: c.sim.next[1] + 10 })).toBe("drop:tcp-out-of-window");
    expect(detail(c)).toBe("ack-above-sent");
  });
});

describe("updateTcp: which packets restart or re-initialise a side", () => {
  it("only a SYN-ACK from the responder restarts the entry from an ignored SYN: an ACK acking it does not", () => {
    const c = new Conversation().establish();
    const syn = c.sim.next[0] + 5_000_000;
    expect(c.send(0, CLASS_SYN, { seq: syn })).toBe("accept:tcp-syn-ignored");
    expect(c.send(1, CLASS_ACK, { ack: syn + 1 })).toBe("drop:tcp-out-of-window");
    expect(c.state).toBe("established");
  });

  it("... nor a SYN-ACK from the originator's side", () => {
    const c = new Conversation().establish();
    const syn = c.sim.next[0] + 5_000_000;
    expect(c.send(0, CLASS_SYN, { seq: syn })).toBe("accept:tcp-syn-ignored");
    expect(c.send(0, CLASS_SYNACK, { seq: syn, ack: syn + 1 })).toBe("drop:tcp-invalid-state");
    expect(c.state).toBe("established");
  });

  it("a SYN retransmitted in SYN_RECEIVED does not start the originator's side over: the SYN-ACK's window still holds", () => {
    const c = new Conversation();
    c.send(0, CLASS_SYN);
    c.send(1, CLASS_SYNACK);
    expect(c.send(0, CLASS_SYN)).toBe("accept:established");
    expect(c.state).toBe("syn-received");
    expect(c.send(0, CLASS_ACK)).toBe("accept:established");
    expect(c.send(0, CLASS_ACK, { seq: c.sim.next[0] + 60_000 })).toBe("accept:established");
  });
});

describe("on the table's second entry (records not at word 0)", () => {
  /** A conversation on a table that already holds another connection of alice's. */
  const second = (): Conversation => {
    const first = new Conversation().establish();
    return new Conversation(first.h, new TcpSim({ ip: CLIENT.ip, port: CLIENT.port + 1 }));
  };

  it("a SYN-ACK that does not ack the SYN is dropped", () => {
    const c = second();
    expect(c.send(0, CLASS_SYN)).toBe("accept:rule");
    expect(c.send(1, CLASS_SYNACK, { ack: c.sim.next[0] + 1 })).toBe("drop:tcp-out-of-window");
    expect(detail(c)).toBe("synack-not-acking-syn");
  });

  it("an RST+ACK with ACK 0 is judged as acking everything: exact, it closes", () => {
    const c = second().establish();
    expect(c.send(1, CLASS_RST, { ack: 0 })).toBe("accept:established");
    expect(c.state).toBe("closed");
  });

  it("an in-window RST that is not exact is a challenge; one far outside is dropped", () => {
    const c = second().establish();
    expect(c.send(0, CLASS_RST, { seq: c.sim.next[0] + 0x20000000 })).toBe("drop:tcp-out-of-window");
    expect(c.send(0, CLASS_RST, { seq: c.sim.next[0] + 1000 })).toBe("accept:tcp-rst-challenge");
    expect(c.state).toBe("established");
  });

  it("in a simultaneous open, db-1's SYN (no ACK) opens alice's window from her SYN's end: her segment far beyond it is dropped (alice's numbers past 2^31)", () => {
    const c = second();
    c.sim.isn[0] = 0x9000_0000;
    expect(c.send(0, CLASS_SYN)).toBe("accept:rule");
    expect(c.send(1, CLASS_SYN)).toBe("accept:established");
    expect(c.send(0, CLASS_SYNACK)).toBe("accept:established");
    expect(c.send(1, CLASS_ACK)).toBe("accept:established");
    expect(c.state).toBe("established");
    expect(c.send(0, CLASS_ACK, { seq: c.sim.next[0] + 0x2000_0000 })).toBe("drop:tcp-out-of-window");
    expect(detail(c)).toBe("seq-above-window");
  });

  it("on a connection picked up mid-stream (looseTcp), an ignored SYN's note lasts one packet: a SYN-ACK after db-1's ACK restarts nothing", () => {
    const h = new Harness(dbPolicy(), { looseTcp: true });
    new Conversation(h).establish();
    const c = new Conversation(h, new TcpSim({ ip: CLIENT.ip, port: CLIENT.port + 1 }));
    expect(c.send(0, CLASS_ACK)).toBe("accept:rule");
    expect(c.send(1, CLASS_ACK)).toBe("accept:established");
    const syn = c.sim.next[0] + 5_000_000;
    expect(c.send(0, CLASS_SYN, { seq: syn })).toBe("accept:tcp-syn-ignored");
    expect(c.send(1, CLASS_ACK)).toBe("accept:established");
    expect(c.send(1, CLASS_SYNACK, { seq: 42, ack: syn + 1 })).toBe("accept:tcp-ignored");
    expect(c.state).toBe("established");
  });

  it("on a connection picked up mid-stream (looseTcp), db-1's first packet sets db-1's side only: the flow's rule and counters stay right", () => {
    const h = new Harness(dbPolicy(), { looseTcp: true });
    new Conversation(h).establish();
    const sim = new TcpSim({ ip: CLIENT.ip, port: CLIENT.port + 1 });
    sim.next[0] = 0x7000_0000; // alice is far into her sequence space; db-1's ACK carries it
    const c = new Conversation(h, sim);
    const first = sim.segment(0, CLASS_ACK);
    expect(h.inWhy(first)).toBe("accept:rule");
    const reply = sim.segment(1, CLASS_ACK);
    expect(h.outWhy(reply)).toBe("accept:established");
    expect(c.state).toBe("established");
    const flow = [...h.engine.flows()].find((f) => f.srcPort === CLIENT.port + 1);
    expect(flow).toMatchObject({ rule: "pg/alice", packetsOriginal: 1, packetsReply: 1, bytesOriginal: first.length, bytesReply: reply.length });
  });

  it("picking up the table's 33rd connection mid-stream (looseTcp) leaves the first one's windows alone", () => {
    const h = new Harness(dbPolicy(), { looseTcp: true });
    const c = new Conversation(h).establish();
    for (let k = 1; k <= 31; k++) {
      expect(new Conversation(h, new TcpSim({ ip: CLIENT.ip, port: CLIENT.port + k })).send(0, CLASS_SYN)).toBe("accept:rule");
    }
    expect(new Conversation(h, new TcpSim({ ip: CLIENT.ip, port: CLIENT.port + 32 })).send(0, CLASS_ACK)).toBe("accept:rule");
    expect(c.send(0, CLASS_ACK, { payload: 100 })).toBe("accept:established");
    expect(c.send(1, CLASS_ACK, { payload: 100 })).toBe("accept:established");
    expect(c.send(0, CLASS_ACK, { seq: c.sim.next[0] + 0x2000_0000 })).toBe("drop:tcp-out-of-window");
  });

  it("opening a connection leaves the established one before it in the table alone", () => {
    const first = new Conversation().establish();
    const c = new Conversation(first.h, new TcpSim({ ip: CLIENT.ip, port: CLIENT.port + 1 }));
    expect(c.send(0, CLASS_SYN)).toBe("accept:rule");
    expect(first.send(0, CLASS_ACK, { payload: 1000 })).toBe("accept:established");
    expect(first.send(1, CLASS_ACK)).toBe("accept:established");
  });

  it("an ignored SYN's note is its connection's own: 32 connections opening meanwhile leave it, and db-1's SYN-ACK to that SYN restarts the entry", () => {
    const c = new Conversation().establish();
    const syn = c.sim.next[0] + 5_000_000;
    expect(c.send(0, CLASS_SYN, { seq: syn })).toBe("accept:tcp-syn-ignored");
    for (let k = 1; k <= 32; k++) {
      expect(new Conversation(c.h, new TcpSim({ ip: CLIENT.ip, port: CLIENT.port + k })).send(0, CLASS_SYN)).toBe("accept:rule");
    }
    expect(c.send(1, CLASS_SYNACK, { seq: 42, ack: syn + 1 })).toBe("accept:established");
    expect(c.state).toBe("syn-received");
  });

  it("an ignored SYN answered by a SYN-ACK restarts the entry; the next packet of another kind clears the note", () => {
    const c = second().establish();
    const syn = c.sim.next[0] + 5_000_000;
    expect(c.send(0, CLASS_SYN, { seq: syn })).toBe("accept:tcp-syn-ignored");
    expect(c.send(1, CLASS_SYNACK, { seq: 42, ack: syn + 1 })).toBe("accept:established");
    expect(c.state).toBe("syn-received");
  });

  it("an RST answering an ignored SYN closes; the SYN-ACK that follows restarts nothing", () => {
    const c = second().establish();
    const syn = c.sim.next[0] + 5_000_000;
    expect(c.send(0, CLASS_SYN, { seq: syn })).toBe("accept:tcp-syn-ignored");
    expect(c.send(1, CLASS_RST, { seq: c.sim.next[1] + 0x20000000, ack: syn + 1 })).toBe("accept:established");
    expect(c.state).toBe("closed");
    expect(c.send(1, CLASS_SYNACK, { seq: 42, ack: syn + 1 })).toBe("drop:tcp-invalid-state");
    expect(c.state).toBe("closed");
  });
});

describe("restart from an ignored SYN: the note's window scale and the sides it starts over", () => {
  /** Established, then alice restarts: her new SYN (with `scale`) is ignored and db-1 answers it with a SYN-ACK (with `answer`). */
  const restarted = (scale: number | undefined, answer: number | undefined, aliceWindow?: number): Conversation => {
    const c = new Conversation().establish();
    const again = new Conversation(c.h);
    again.sim.isn[0] = 6_000_000;
    again.sim.isn[1] = 7_000_000;
    expect(again.send(0, CLASS_SYN, { windowScale: scale })).toBe("accept:tcp-syn-ignored");
    expect(again.send(1, CLASS_SYNACK, { windowScale: answer })).toBe("accept:established");
    expect(again.send(0, CLASS_ACK, { window: aliceWindow })).toBe("accept:established");
    return again;
  };

  it("both offered 7: alice's window 1000 allows db-1 128000 (the noted SYN's shift scales alice's windows)", () => {
    const c = restarted(7, 7, 1000);
    const next = c.sim.next[1];
    expect(c.send(1, CLASS_ACK, { seq: next + 128_000 + 1 })).toBe("accept:tcp-overshoot");
    expect(c.send(1, CLASS_ACK, { seq: next + 128_000 })).toBe("accept:established");
  });

  it("both offered 7: db-1's window 1000 allows 128000", () => {
    const c = restarted(7, 7);
    const ack = c.sim.next[0];
    expect(c.send(1, CLASS_ACK, { window: 1000 })).toBe("accept:established");
    expect(c.send(0, CLASS_ACK, { seq: ack + 128_000 + 1 })).toBe("accept:tcp-overshoot");
    expect(c.send(0, CLASS_ACK, { seq: ack + 128_000 })).toBe("accept:established");
  });

  it("the SYN offered 0: still offered, db-1's shift 7 applies", () => {
    const c = restarted(0, 7);
    const ack = c.sim.next[0];
    expect(c.send(1, CLASS_ACK, { window: 1000 })).toBe("accept:established");
    expect(c.send(0, CLASS_ACK, { seq: ack + 100_000 })).toBe("accept:established");
  });

  it("the SYN offered nothing: scaling is off though db-1 offered it", () => {
    const c = restarted(undefined, 7);
    const ack = c.sim.next[0];
    expect(c.send(1, CLASS_ACK, { window: 1000 })).toBe("accept:established");
    expect(c.send(0, CLASS_ACK, { seq: ack + 65_535 + 1000 })).toBe("accept:tcp-overshoot");
  });

  it("alice's side is checked again at once: her first ACK far outside the window is dropped", () => {
    const c = new Conversation().establish();
    const again = new Conversation(c.h);
    again.sim.isn[0] = 6_000_000;
    expect(again.send(0, CLASS_SYN)).toBe("accept:tcp-syn-ignored");
    expect(again.send(1, CLASS_SYNACK)).toBe("accept:established");
    expect(again.send(0, CLASS_ACK, { seq: again.sim.next[0] + 0x20000000 })).toBe("drop:tcp-out-of-window");
    expect(again.state).toBe("syn-received");
  });
});

describe("late packets after the originator's RST in SYN_SENT (CLOSED, db-1 never spoke)", () => {
  /** alice's SYN, then her RST: the entry is CLOSED and db-1's side unseen. */
  const reset = (): Conversation => {
    const c = new Conversation();
    expect(c.send(0, CLASS_SYN)).toBe("accept:rule");
    expect(c.send(0, CLASS_RST, { flags: "R", seq: c.sim.isn[0] + 1 })).toBe("accept:established");
    expect(c.state).toBe("closed");
    return c;
  };

  it("db-1's first packet picks its side up (Linux: a sender without SYN starts from its own segment): its next may start as far as the window it advertised", () => {
    const c = reset();
    const start = c.sim.next[1];
    expect(c.send(1, CLASS_ACK, { window: 30_000 })).toBe("accept:established");
    expect(c.send(1, CLASS_ACK, { seq: start + 30_000 })).toBe("accept:established");
    expect(c.send(1, CLASS_ACK, { seq: start + 30_000 + 1 })).toBe("accept:tcp-overshoot"); // within alice's window past it
    expect(c.send(1, CLASS_ACK, { seq: start + 30_000 + 65_535 + 1 })).toBe("drop:tcp-out-of-window");
    expect(c.state).toBe("closed");
  });

  it("db-1's first packet is checked once its side is set up from it: acking more than alice sent is dropped (ack-above-sent)", () => {
    const c = reset();
    expect(c.send(1, CLASS_ACK, { ack: c.sim.isn[0] + 2 })).toBe("drop:tcp-out-of-window");
    expect(detail(c)).toBe("ack-above-sent");
  });

  it("db-1's first packet with window 0 still marks its side as seen: its next segment is checked, not taken as a first", () => {
    const c = reset();
    expect(c.send(1, CLASS_ACK, { window: 0 })).toBe("accept:established");
    expect(c.send(1, CLASS_ACK, { seq: c.sim.next[1] + 0x2000_0000 })).toBe("drop:tcp-out-of-window");
  });

  it("db-1's td_maxack starts at its first packet's ACK: alice's later RST at or after it closes, before it is dropped", () => {
    const c = reset();
    const aliceEnd = c.sim.isn[0] + 1;
    expect(c.send(1, CLASS_ACK, { ack: aliceEnd - 100 })).toBe("accept:established");
    expect(c.send(0, CLASS_RST, { flags: "R", seq: aliceEnd - 101 })).toBe("drop:tcp-out-of-window");
    expect(detail(c)).toBe("rst-before-ack");
    expect(c.send(0, CLASS_RST, { flags: "R", seq: aliceEnd - 100 })).toBe("accept:established");
  });
});

describe("simultaneous open", () => {
  it("the originator's SYN-ACK is held to III like any segment of a side already seen (as Linux): acking beyond the responder's SYN is dropped", () => {
    const c = new Conversation();
    c.send(0, CLASS_SYN);
    expect(c.send(1, CLASS_SYN)).toBe("accept:established");
    expect(c.state).toBe("syn-sent2");
    expect(c.send(0, CLASS_SYNACK, { ack: c.sim.isn[1] + 2 })).toBe("drop:tcp-out-of-window");
    expect(detail(c)).toBe("ack-above-sent");
    expect(c.send(0, CLASS_SYNACK)).toBe("accept:established");
    expect(c.state).toBe("syn-received");
  });

  it("db-1's SYN carries no ACK, so it leaves db-1's td_maxack alone: when db-1 acks only alice's SYN (not the data on it), alice's RST at that ACK closes", () => {
    const c = new Conversation();
    expect(c.send(0, CLASS_SYN, { payload: 100 })).toBe("accept:rule");
    expect(c.send(1, CLASS_SYN)).toBe("accept:established");
    expect(c.send(0, CLASS_SYNACK)).toBe("accept:established");
    const synEnd = c.sim.isn[0] + 1;
    expect(c.send(1, CLASS_ACK, { ack: synEnd })).toBe("accept:established");
    expect(c.state).toBe("established");
    expect(c.send(0, CLASS_RST, { seq: synEnd })).toBe("accept:established");
    expect(c.state).toBe("closed");
  });
});
