// Window edges without window scaling: each of Linux's four tcp_in_window checks,
// probed just inside and just outside, each in a fresh connection (a passing probe
// moves the window). I: seq <= sender.td_maxend; II: end > sender.td_end -
// receiver.td_maxwin; III: ack <= receiver.td_end; IV: ack > receiver.td_end -
// max(sender.td_maxwin, 66000). Linux drops I and III failures as invalid; since 6.1
// it passes II and IV failures untouched (NFCT_TCP_IGNORE).

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

export const window: Scenario[] = [
  // I: the first byte may be at td_maxend, not beyond; a segment may straddle it.
  probe("window-seq-at-maxend", (t) => data(t, t.maxend("c"), 10, "accept", "seq = maxend")),
  probe("window-seq-above-maxend", (t) => data(t, t.maxend("c") + 1, 10, "drop", "seq = maxend+1")),
  probe("window-data-straddles-maxend", (t) => data(t, t.maxend("c") - 5, 100, "accept", "straddles maxend")),
  probe("window-server-seq-above-maxend", (t) => t.s("PA", { seq: t.maxend("s") + 1, data: 10, advance: false, label: "s seq = maxend+1", expect: "drop" })),
  // II: a retransmission ending just above / at sender.td_end - receiver.td_maxwin.
  probe("window-retransmit-at-lower-edge", (t) => data(t, t.end("c") - t.maxwin("s") + 1 - 10, 10, "accept", "end = td_end-maxwin+1")),
  probe("window-retransmit-below-lower-edge", (t) => data(t, t.end("c") - t.maxwin("s") - 10, 10, "accept", "end = td_end-maxwin")),
  // III: an ACK of data the other side never sent.
  probe("window-ack-at-sent", (t) => t.c("A", { ack: t.end("s"), advance: false, label: "ack = td_end", expect: "accept" })),
  probe("window-ack-above-sent", (t) => t.c("A", { ack: t.end("s") + 1, advance: false, label: "ack = td_end+1", expect: "drop" })),
  // IV: an ACK more than max(sender.td_maxwin, 66000) behind.
  probe("window-ack-at-lower-edge", (t) => t.c("A", { ack: t.end("s") - 66000 + 1, advance: false, label: "ack = td_end-66000+1", expect: "accept" })),
  probe("window-ack-below-lower-edge", (t) => t.c("A", { ack: t.end("s") - 66000, advance: false, label: "ack = td_end-66000", expect: "accept" })),
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
