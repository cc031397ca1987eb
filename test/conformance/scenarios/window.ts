// Window edges without window scaling: each of Linux's tcp_in_window checks, probed
// just inside and just outside, each in a fresh connection (a passing probe moves the
// window). I: seq <= sender.td_maxend, except that since 6.1 an overshoot of at most
// receiver.td_maxwin passes too (tcp-script.ts firstRefusedSeq); II: end >=
// sender.td_end - receiver.td_maxwin; III: ack <= receiver.td_end; IV: ack >=
// receiver.td_end - max(sender.td_maxwin, 66000). Linux drops I and III failures
// (invalid) and passes II and IV failures without looking further (NFCT_TCP_IGNORE):
// their verdict is accept either way, so the IV probes carry new data, which Linux
// then has not seen: the receiver's ACK of it fails III.

import type { Scenario, ScenarioContext, Verdict } from "../scenario.ts";
import { TcpScript } from "../tcp-script.ts";

/** Client window 20000, server window 2000; the client has sent 3000 bytes, all acked. */
async function open(ctx: ScenarioContext): Promise<TcpScript> {
  const t = new TcpScript(ctx);
  await t.handshake({ window: [20000, 2000] });
  for (let i = 0; i < 3; i++) {
    await t.c("PA", { data: 1000 });
    await t.s("A");
  }
  await t.s("PA", { data: 100 });
  await t.c("A");
  return t;
}

function probe(name: string, what: (t: TcpScript) => Promise<unknown>): Scenario {
  return {
    name,
    category: "window",
    kind: "scripted",
    async run(ctx) {
      const t = await open(ctx);
      await what(t);
      // A normal segment afterwards: the probe left the connection working.
      await t.c("PA", { data: 10, label: "after" });
      await t.s("A", { label: "after A" });
    },
  };
}

const data = (t: TcpScript, seq: number, len: number, expect: Verdict, label: string) => t.c("PA", { seq, data: len, advance: false, label, expect });

/** New data acking `ack`, then the server's ACK of it. */
async function dataWithAck(t: TcpScript, ack: number, expect: [Verdict, Verdict], label: string): Promise<void> {
  const seq = t.nxt("c");
  await t.c("PA", { seq, ack, data: 10, advance: false, label, expect: expect[0] });
  await t.s("A", { ack: seq + 10, advance: false, label: "s A of it", expect: expect[1] });
}

export const window: Scenario[] = [
  // I: the first byte may be at td_maxend; a segment may straddle it.
  probe("window-seq-at-maxend", (t) => data(t, t.maxend("c"), 10, "accept", "seq = maxend")),
  probe("window-data-straddles-maxend", (t) => data(t, t.maxend("c") - 5, 100, "accept", "straddles maxend")),
  // I, Linux 6.1+'s overshoot allowance: just beyond td_maxend, the last byte it allows, the first it refuses.
  probe("window-seq-overshoot", async (t) => {
    await data(t, t.maxend("c") + 1, 10, "accept", "seq = maxend+1");
    await t.s("A", { ack: t.maxend("c") + 11, advance: false, label: "s A of it", expect: "accept" });
  }),
  probe("window-seq-overshoot-last", (t) => data(t, t.firstRefusedSeq("c", 10) - 1, 10, "accept", "overshoot = maxwin")),
  probe("window-seq-overshoot-refused", (t) => data(t, t.firstRefusedSeq("c", 10), 10, "drop", "overshoot = maxwin+1")),
  probe("window-server-seq-refused", (t) => t.s("PA", { seq: t.firstRefusedSeq("s", 10), data: 10, advance: false, label: "s overshoot = maxwin+1", expect: "drop" })),
  // II: a retransmission ending at / just below sender.td_end - receiver.td_maxwin.
  probe("window-retransmit-at-lower-edge", (t) => data(t, t.end("c") - t.maxwin("s") - 10, 10, "accept", "end = td_end-maxwin")),
  probe("window-retransmit-below-lower-edge", (t) => data(t, t.end("c") - t.maxwin("s") - 11, 10, "accept", "end = td_end-maxwin-1")),
  // III: an ACK of data the other side never sent.
  probe("window-ack-at-sent", (t) => t.c("A", { ack: t.end("s"), advance: false, label: "ack = td_end", expect: "accept" })),
  probe("window-ack-above-sent", (t) => t.c("A", { ack: t.end("s") + 1, advance: false, label: "ack = td_end+1", expect: "drop" })),
  // IV: an ACK max(sender.td_maxwin, 66000) behind, and one more.
  probe("window-ack-at-lower-edge", (t) => dataWithAck(t, t.end("s") - 66000, ["accept", "accept"], "data, ack = td_end-66000")),
  probe("window-ack-below-lower-edge", (t) => dataWithAck(t, t.end("s") - 66001, ["accept", "drop"], "data, ack = td_end-66001")),
  // A zero window does not shrink Linux's td_maxend; a one-byte probe passes.
  probe("window-zero-window-probe", async (t) => {
    await t.s("A", { window: 0, label: "s A win 0" });
    await data(t, t.nxt("c"), 1, "accept", "zero-window probe");
  }),
  {
    // Sequence numbers wrapping through 2^32 mid-stream.
    name: "window-sequence-wrap",
    category: "window",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx, ctx.port, undefined, 0xffffffff - 1500, 0xffffffff - 50);
      await t.handshake();
      for (let i = 0; i < 3; i++) {
        await t.c("PA", { data: 1000, label: `c data ${i}`, expect: "accept" });
        await t.s("PA", { data: 100, label: `s data ${i}`, expect: "accept" });
      }
      await t.c("A");
    },
  },
];
