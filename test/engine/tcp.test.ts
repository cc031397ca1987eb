// TCP through the engine: handshakes, closes, resets, flags, windows, reuse.
// alice (100.64.0.10:40000) connects to db-1 (100.64.0.20:5432); the engine runs on db-1,
// so alice's packets are inbound and db-1's are outbound.

import { WINDOW_DETAIL_NAMES } from "../../src/engine/reasons.ts";
import { describe, expect, it } from "vitest";
import type { FlowEvent } from "../../src/conntrack/flow-event.ts";
import {
  CLASS_ACK,
  CLASS_ACK_ACKS_FIN,
  CLASS_FIN,
  CLASS_FIN_ACKS_FIN,
  CLASS_RST,
  CLASS_SYN,
  CLASS_SYNACK,
} from "../../src/conntrack/tcp-states.ts";
import { Conversation } from "./conversation.ts";
import { Harness } from "./helpers.ts";

describe("TCP handshakes and closes", () => {
  it("three-way handshake, data both ways, active close by the originator, TIME_WAIT expiry", () => {
    const c = new Conversation().establish();
    expect(c.send(0, CLASS_ACK, { payload: 500, flags: "PA" })).toBe("accept:established");
    expect(c.send(1, CLASS_ACK, { payload: 1200, flags: "PA" })).toBe("accept:established");
    expect(c.send(0, CLASS_FIN)).toBe("accept:established");
    expect(c.state).toBe("fin-wait-1");
    expect(c.send(1, CLASS_ACK_ACKS_FIN)).toBe("accept:established");
    expect(c.state).toBe("fin-wait-2");
    expect(c.send(1, CLASS_FIN_ACKS_FIN)).toBe("accept:established");
    expect(c.state).toBe("time-wait");
    expect(c.send(0, CLASS_ACK_ACKS_FIN)).toBe("accept:established");
    expect(c.state).toBe("time-wait");
    c.h.advance(121_000);
    expect(c.send(0, CLASS_ACK)).toBe("drop:tcp-no-connection");
  });

  it("passive close: the responder closes first (CLOSE_WAIT, LAST_ACK, TIME_WAIT)", () => {
    const c = new Conversation().establish();
    expect(c.send(1, CLASS_FIN)).toBe("accept:established");
    expect(c.state).toBe("close-wait");
    expect(c.send(0, CLASS_ACK_ACKS_FIN)).toBe("accept:established");
    expect(c.state).toBe("close-wait");
    expect(c.send(0, CLASS_FIN_ACKS_FIN)).toBe("accept:established");
    expect(c.state).toBe("last-ack");
    expect(c.send(1, CLASS_ACK_ACKS_FIN)).toBe("accept:established");
    expect(c.state).toBe("time-wait");
  });

  it("simultaneous close: both FINs cross (CLOSING, then TIME_WAIT)", () => {
    const c = new Conversation().establish();
    expect(c.send(0, CLASS_FIN)).toBe("accept:established");
    expect(c.send(1, CLASS_FIN)).toBe("accept:established");
    expect(c.state).toBe("closing");
    expect(c.send(0, CLASS_ACK_ACKS_FIN)).toBe("accept:established");
    expect(c.state).toBe("closing");
    expect(c.send(1, CLASS_ACK_ACKS_FIN)).toBe("accept:established");
    expect(c.state).toBe("time-wait");
  });

  it("simultaneous open: both ends send a SYN (SYN_SENT2)", () => {
    const c = new Conversation();
    expect(c.send(0, CLASS_SYN)).toBe("accept:rule");
    expect(c.send(1, CLASS_SYN)).toBe("accept:established");
    expect(c.state).toBe("syn-sent2");
    expect(c.send(1, CLASS_SYNACK)).toBe("accept:established");
    expect(c.state).toBe("syn-received");
    expect(c.send(0, CLASS_SYNACK)).toBe("accept:established");
    expect(c.send(0, CLASS_ACK)).toBe("accept:established");
    expect(c.state).toBe("established");
    expect(c.send(1, CLASS_ACK, { payload: 10 })).toBe("accept:established");
  });

  it("a SYN-ACK that does not acknowledge the SYN is dropped and does not disturb the handshake", () => {
    const c = new Conversation();
    c.send(0, CLASS_SYN);
    expect(c.send(1, CLASS_SYNACK, { ack: 12345 })).toBe("drop:tcp-out-of-window");
    expect(c.send(1, CLASS_SYNACK)).toBe("accept:established");
    expect(c.state).toBe("syn-received");
  });

  it("port reuse after TIME_WAIT: a new SYN starts a new connection, judged by the rules again", () => {
    const h = new Harness();
    const events: string[] = [];
    h.engine.onFlowEvent = (e: FlowEvent) => events.push(`${e.kind}:${e.reasonName}`);
    const c = new Conversation(h).establish();
    c.send(0, CLASS_FIN);
    c.send(1, CLASS_FIN_ACKS_FIN);
    c.send(0, CLASS_ACK_ACKS_FIN);
    expect(c.state).toBe("time-wait");
    const again = new Conversation(h);
    again.sim.isn[0] = 5_000_000;
    again.sim.isn[1] = 7_000_000;
    again.establish();
    expect(events).toContain("1:reused");
    expect([...h.engine.flows()]).toHaveLength(1);
  });

  it("port reuse after a reset (CLOSED)", () => {
    const c = new Conversation().establish();
    expect(c.send(1, CLASS_RST)).toBe("accept:established");
    expect(c.state).toBe("closed");
    const again = new Conversation(c.h);
    again.sim.isn[0] = 3_000_000;
    again.establish();
  });

  it("a SYN from the originator on an established connection passes without a state change (Linux IGNORE)", () => {
    const c = new Conversation().establish();
    expect(c.send(0, CLASS_SYN)).toBe("accept:tcp-syn-ignored");
    expect(c.state).toBe("established");
    expect(c.send(0, CLASS_ACK, { payload: 1 })).toBe("accept:established");
    expect(c.send(1, CLASS_ACK)).toBe("accept:established");
  });

  it("a SYN from the responder on an established connection is still dropped", () => {
    const c = new Conversation().establish();
    expect(c.send(1, CLASS_SYN)).toBe("drop:tcp-invalid-state");
    expect(c.state).toBe("established");
  });

  it("restarted originator reusing its port: the responder's SYN-ACK to the passed SYN starts a new connection", () => {
    const h = new Harness();
    const events: string[] = [];
    h.engine.onFlowEvent = (e: FlowEvent) => events.push(`${e.kind}:${e.reasonName}:${e.packetsOriginal}/${e.packetsReply}`);
    const c = new Conversation(h).establish();
    c.send(0, CLASS_ACK, { payload: 700 });
    c.send(1, CLASS_ACK, { payload: 300 });
    // alice reboots and connects again from the same port; db-1 answers with a SYN-ACK.
    const again = new Conversation(c.h);
    again.sim.isn[0] = 0xfff0_0000; // wraps during the new connection
    again.sim.isn[1] = 40_000_000;
    expect(again.send(0, CLASS_SYN, { windowScale: 7 })).toBe("accept:tcp-syn-ignored");
    expect(again.state).toBe("established");
    expect(again.send(1, CLASS_SYNACK, { windowScale: 7 })).toBe("accept:established");
    expect(again.state).toBe("syn-received");
    expect(again.send(0, CLASS_ACK)).toBe("accept:established");
    expect(again.state).toBe("established");
    // Window scaling from the noted SYN is in force: 2,000 x 128 = 256,000 bytes of window.
    for (let i = 0; i < 4; i++) {
      expect(again.send(1, CLASS_ACK, { window: 2000 })).toBe("accept:established");
      expect(again.send(0, CLASS_ACK, { payload: 60_000, window: 2000 })).toBe("accept:established");
    }
    // The old connection's segments are out of window now.
    expect(c.send(1, CLASS_ACK, { payload: 10 })).toBe("drop:tcp-out-of-window");
    expect([...c.h.engine.flows()]).toHaveLength(1);
    // Reported as the old flow's end and a new flow's start, with the counters started over.
    expect(events.filter((e) => !e.startsWith("2:"))).toEqual(["0::1/0", "1:reused:4/2", "0::0/0"]);
    expect([...c.h.engine.flows()][0]).toMatchObject({ packetsOriginal: 5, packetsReply: 5 });
  });

  it("a SYN-ACK that does not acknowledge the passed SYN restarts nothing", () => {
    const c = new Conversation().establish();
    const again = new Conversation(c.h);
    again.sim.isn[0] = 8_000_000;
    expect(again.send(0, CLASS_SYN)).toBe("accept:tcp-syn-ignored");
    // Not an answer to the noted SYN: a repeated SYN-ACK on an established flow, which
    // Linux passes unchanged (IGNORE); it restarts nothing.
    expect(again.send(1, CLASS_SYNACK, { ack: 8_000_000 + 2 })).toBe("accept:tcp-ignored");
    expect(again.state).toBe("established");
    expect(c.send(0, CLASS_ACK, { payload: 5 })).toBe("accept:established");
  });

  it("a flow picked up mid-stream (loose) that restarts through a SYN-ACK gets window checks again", () => {
    const h = new Harness(undefined, { looseTcp: true });
    const old = new Conversation(h);
    old.sim.next[0] = 42;
    expect(old.send(0, CLASS_ACK, { payload: 10 })).toBe("accept:rule");
    expect(old.send(0, CLASS_ACK, { seq: 900_000_000, payload: 10 })).toBe("accept:established"); // liberal: unchecked
    const again = new Conversation(h);
    again.sim.isn[0] = 6_000_000;
    expect(again.send(0, CLASS_SYN)).toBe("accept:tcp-syn-ignored");
    expect(again.send(1, CLASS_SYNACK)).toBe("accept:established");
    expect(again.send(0, CLASS_ACK)).toBe("accept:established");
    expect(again.state).toBe("established");
    expect(again.send(0, CLASS_ACK, { seq: again.sim.next[0] + 900_000_000, payload: 10 })).toBe("drop:tcp-out-of-window");
  });

  it("restarted originator, responder answers with a challenge ACK: the exact RST it draws closes the flow, the SYN then reopens it", () => {
    const c = new Conversation().establish();
    const again = new Conversation(c.h);
    again.sim.isn[0] = 8_000_000;
    expect(again.send(0, CLASS_SYN)).toBe("accept:tcp-syn-ignored");
    // db-1's challenge ACK is a plain ACK of the old connection; alice knows no such
    // connection and resets at the sequence number that ACK acknowledges (RFC 793).
    expect(c.send(1, CLASS_ACK)).toBe("accept:established");
    expect(c.send(0, CLASS_RST, { seq: c.sim.next[0], flags: "R" })).toBe("accept:established");
    expect(c.state).toBe("closed");
    again.sim.synSent[0] = false;
    again.establish();
  });
});

describe("TCP illegal flag combinations", () => {
  const illegal = ["SF", "SR", "FR", "", "F", "FPU", "SFPU", "SRAF", "FSRPAU", "P", "U", "SAR"];
  for (const flags of illegal) {
    it(`"${flags || "no flags"}" never opens a connection and never passes on an established one`, () => {
      const c = new Conversation();
      const fresh = c.sim.segment(0, CLASS_SYN, { flags, seq: 1 });
      expect(c.h.inWhy(fresh)).toBe("drop:tcp-invalid-flags");
      c.establish();
      const packet = c.sim.segment(0, CLASS_ACK, { flags, seq: c.sim.next[0], ack: c.sim.next[1] });
      expect(c.h.inWhy(packet)).toBe("drop:tcp-invalid-flags");
      expect(c.send(0, CLASS_ACK)).toBe("accept:established");
      expect(c.state).toBe("established");
    });
  }

  it("ECN (SYN+ECE+CWR) and PSH are legal", () => {
    const c = new Conversation();
    expect(c.send(0, CLASS_SYN, { flags: "SEC" })).toBe("accept:rule");
    expect(c.send(1, CLASS_SYNACK, { flags: "SAE" })).toBe("accept:established");
    expect(c.send(0, CLASS_ACK, { flags: "PA", payload: 3 })).toBe("accept:established");
  });
});

describe("TCP RST", () => {
  // The path to each state, as (side, class) steps after the handshake's SYN.
  const paths: Record<string, [0 | 1, number][]> = {
    "syn-sent": [],
    "syn-received": [[1, CLASS_SYNACK]],
    established: [[1, CLASS_SYNACK], [0, CLASS_ACK]],
    "fin-wait-1": [[1, CLASS_SYNACK], [0, CLASS_ACK], [0, CLASS_FIN]],
    "fin-wait-2": [[1, CLASS_SYNACK], [0, CLASS_ACK], [0, CLASS_FIN], [1, CLASS_ACK_ACKS_FIN]],
    closing: [[1, CLASS_SYNACK], [0, CLASS_ACK], [0, CLASS_FIN], [1, CLASS_FIN]],
    "time-wait": [[1, CLASS_SYNACK], [0, CLASS_ACK], [0, CLASS_FIN], [1, CLASS_FIN_ACKS_FIN]],
    "close-wait": [[1, CLASS_SYNACK], [0, CLASS_ACK], [1, CLASS_FIN]],
    "last-ack": [[1, CLASS_SYNACK], [0, CLASS_ACK], [1, CLASS_FIN], [0, CLASS_FIN_ACKS_FIN]],
  };
  const reachState = (state: string): Conversation => {
    const c = new Conversation();
    c.send(0, CLASS_SYN);
    for (const [side, cls] of paths[state]) expect(c.send(side, cls)).toBe("accept:established");
    expect(c.state).toBe(state);
    return c;
  };

  // Which side has sent an ACK in each state (its td_maxack is known): all but the
  // originator in syn-sent and syn-received.
  const hasAcked = (state: string, side: 0 | 1): boolean => !(side === 0 && (state === "syn-sent" || state === "syn-received"));
  const detail = (c: Conversation): string => WINDOW_DETAIL_NAMES[c.h.engine.lastDetail];

  for (const state of Object.keys(paths)) {
    for (const side of [0, 1] as const) {
      const who = side === 0 ? "originator" : "responder";
      // In syn-sent the originator has received nothing it could acknowledge: its RST carries no ACK.
      const noAck = state === "syn-sent" && side === 0 ? { flags: "R" } : {};
      it(`${state}: an exact RST from the ${who} (at the receiver's highest ACK) closes the connection`, () => {
        const c = reachState(state);
        expect(c.send(side, CLASS_RST, noAck)).toBe("accept:established");
        expect(c.state).toBe("closed");
        // A late segment changes nothing: the flow stays closed (Linux CLOSE passes in-window ones).
        c.send(0, CLASS_ACK);
        expect(c.state).toBe("closed");
      });
      it(`${state}: an RST from the ${who} far outside the window is dropped, state kept`, () => {
        const c = reachState(state);
        expect(c.send(side, CLASS_RST, { ...noAck, seq: c.sim.next[side] + 0x40000000, ack: c.sim.next[1 - side] + 0x40000000 })).toMatch(
          /^drop:tcp-out-of-window$/,
        );
        expect(c.h.engine.stateName(c.h.engine.lastState)).toBe(state);
      });
      if (state === "syn-sent") continue; // the responder's window is unknown: only the exact RST is in window
      if (hasAcked(state, (1 - side) as 0 | 1)) {
        it(`${state}: an RST from the ${who} behind the receiver's highest ACK is dropped (rst-before-ack), state kept`, () => {
          const c = reachState(state);
          expect(c.send(side, CLASS_RST, { seq: c.sim.next[side] - 100 })).toBe("drop:tcp-out-of-window");
          expect(detail(c)).toBe("rst-before-ack");
          expect(c.state).toBe(state);
        });
      }
      if (state === "established") {
        it(`established: an in-window RST from the ${who} ahead of the receiver's ACK passes for a challenge ACK (RFC 5961), state kept`, () => {
          const c = reachState(state);
          expect(c.send(side, CLASS_RST, { seq: c.sim.next[side] + 1000 })).toBe("accept:tcp-rst-challenge");
          expect(c.h.engine.stateName(c.h.engine.lastState)).toBe(state);
          expect(c.state).toBe(state);
          // The endpoint's challenge ACK draws the exact RST, which closes the flow.
          expect(c.send((1 - side) as 0 | 1, CLASS_ACK)).toBe("accept:established");
          expect(c.send(side, CLASS_RST)).toBe("accept:established");
          expect(c.state).toBe("closed");
        });
      } else if (state === "syn-received" && side === 1) {
        it("syn-received: an RST from the responder beyond its first sequence number: within one window it passes unchanged (overshoot), beyond it is out of window", () => {
          const c = reachState(state);
          expect(c.send(side, CLASS_RST, { seq: c.sim.next[side] + 1000 })).toBe("accept:tcp-rst-challenge");
          expect(c.state).toBe(state);
          expect(c.send(side, CLASS_RST, { seq: c.sim.next[side] + 100_000 })).toBe("drop:tcp-out-of-window");
          expect(detail(c)).toBe("seq-above-window");
          expect(c.state).toBe(state);
        });
      } else {
        it(`${state}: an in-window RST from the ${who} ahead of the receiver's ACK closes (not established: exact, as in Linux)`, () => {
          const c = reachState(state);
          expect(c.send(side, CLASS_RST, { seq: c.sim.next[side] + 1000 })).toBe("accept:established");
          expect(c.state).toBe("closed");
        });
      }
    }
  }

  it("syn-sent: a refusing RST must acknowledge the SYN exactly", () => {
    const c = reachState("syn-sent");
    expect(c.send(1, CLASS_RST, { ack: c.sim.next[0] + 1 })).toBe("drop:tcp-out-of-window");
    expect(c.send(1, CLASS_RST)).toBe("accept:established");
    expect(c.state).toBe("closed");
  });
});

describe("TCP sequence and window checks", () => {
  it("a data segment beyond the receiver's window is dropped and changes nothing", () => {
    const c = new Conversation().establish();
    const next = c.sim.next[0];
    expect(c.send(0, CLASS_ACK, { seq: next + 200_000, payload: 100 })).toBe("drop:tcp-out-of-window");
    expect(c.state).toBe("established");
    expect(c.send(0, CLASS_ACK, { payload: 100 })).toBe("accept:established");
  });

  it("a segment far behind the window (old data replayed) is dropped", () => {
    const c = new Conversation().establish();
    for (let i = 0; i < 4; i++) {
      expect(c.send(0, CLASS_ACK, { payload: 60_000 })).toBe("accept:established");
      expect(c.send(1, CLASS_ACK)).toBe("accept:established");
    }
    expect(c.send(0, CLASS_ACK, { seq: c.sim.isn[0] + 1, payload: 100 })).toBe("drop:tcp-out-of-window");
  });

  it("an ACK for data never sent is dropped", () => {
    const c = new Conversation().establish();
    expect(c.send(1, CLASS_ACK, { ack: c.sim.next[0] + 5000 })).toBe("drop:tcp-out-of-window");
  });

  it("a FIN outside the window does not start a close", () => {
    const c = new Conversation().establish();
    expect(c.send(0, CLASS_FIN, { seq: c.sim.next[0] + 0x10000000 })).toBe("drop:tcp-out-of-window");
    expect(c.state).toBe("established");
  });

  it("window scaling from the SYN options widens the window (and is off unless both sides offer it)", () => {
    const scaled = new Conversation();
    expect(scaled.send(0, CLASS_SYN, { windowScale: 7 })).toBe("accept:rule");
    expect(scaled.send(1, CLASS_SYNACK, { windowScale: 7, window: 1024 })).toBe("accept:established");
    expect(scaled.send(0, CLASS_ACK)).toBe("accept:established");
    expect(scaled.send(1, CLASS_ACK, { window: 1024 })).toBe("accept:established"); // 1024 << 7 = 131072
    expect(scaled.send(0, CLASS_ACK, { seq: scaled.sim.next[0] + 100_000, payload: 100 })).toBe("accept:established");

    const unscaled = new Conversation();
    expect(unscaled.send(0, CLASS_SYN, { windowScale: 7 })).toBe("accept:rule");
    expect(unscaled.send(1, CLASS_SYNACK, { window: 1024 })).toBe("accept:established");
    expect(unscaled.send(0, CLASS_ACK)).toBe("accept:established");
    expect(unscaled.send(1, CLASS_ACK, { window: 1024 })).toBe("accept:established"); // not scaled: 1024
    expect(unscaled.send(0, CLASS_ACK, { seq: unscaled.sim.next[0] + 100_000, payload: 100 })).toBe("drop:tcp-out-of-window");
  });

  it("sequence numbers wrap around 2^32", () => {
    const c = new Conversation();
    c.sim.isn[0] = 0xffffff00;
    c.sim.isn[1] = 0xfffffff0;
    c.establish();
    for (let i = 0; i < 5; i++) {
      expect(c.send(0, CLASS_ACK, { payload: 100 })).toBe("accept:established");
      expect(c.send(1, CLASS_ACK, { payload: 100 })).toBe("accept:established");
    }
    expect(c.sim.next[0]).toBeLessThan(0x1000);
  });

  it("a mid-stream ACK with no connection is dropped (loose pickup off by default)", () => {
    const c = new Conversation();
    c.sim.next[0] = 42;
    expect(c.send(0, CLASS_ACK, { payload: 10 })).toBe("drop:tcp-no-connection");
    const loose = new Conversation(new Harness(undefined, { looseTcp: true }));
    loose.sim.next[0] = 42;
    expect(loose.send(0, CLASS_ACK, { payload: 10 })).toBe("accept:rule");
    expect(loose.state).toBe("established");
  });
});
