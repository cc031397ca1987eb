// Blind injection next to a real kernel connection: RST, ACK and data from an
// attacker who knows the addresses and ports but guesses the numbers, at each
// boundary of the window checks. The endpoints' kernels answer what reaches them
// (challenge ACKs, duplicate ACKs), and those answers are judged too. Numbers are
// taken from the capture: after `established`, the client's next sequence number is
// the ACK the server last sent (Linux's td_maxack of the server).

import { abort, established } from "../real-tcp.ts";
import type { Scenario, ScenarioContext, Side, Verdict } from "../scenario.ts";
import { CLIENT, SERVER, TCP_LISTENER } from "../policy.ts";
import { TcpScript } from "../tcp-script.ts";

interface Numbers {
  /** Next sequence number of the client and of the server. */
  c: number;
  s: number;
}

function numbers(ctx: ScenarioContext): Numbers {
  return { c: ctx.last("s").ack, s: ctx.last("c").ack };
}

async function blind(ctx: ScenarioContext, from: Side, flags: string, seq: number, ack: number, data: number, label: string, expect?: Verdict): Promise<void> {
  await ctx.inject(
    from,
    {
      protocol: "tcp",
      src: from === "c" ? CLIENT : SERVER,
      dst: from === "c" ? SERVER : CLIENT,
      srcPort: from === "c" ? ctx.port : TCP_LISTENER,
      dstPort: from === "c" ? TCP_LISTENER : ctx.port,
      tcp: { flags, seq: seq >>> 0, ack: ack >>> 0, window: 502 },
      payload: data,
    },
    { label, expect },
  );
}

function scenario(name: string, probe: (ctx: ScenarioContext, n: Numbers) => Promise<void>): Scenario {
  return {
    name,
    category: "blind",
    kind: "kernel",
    async run(ctx) {
      const conn = await established(ctx);
      await probe(ctx, numbers(ctx));
      await ctx.settle(60);
      await abort(ctx, conn);
    },
  };
}

const FAR = 2 ** 30;

/**
 * Blind RSTs at the upper window edge, where the live numbers of a kernel connection
 * are too coarse to aim: scripted, client window 20000, server window 2000, and an
 * ordinary segment afterwards to show whether the connection survived.
 */
function rstEdge(name: string, seq: (t: TcpScript) => number, expect: Verdict, label: string): Scenario {
  return {
    name,
    category: "blind",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      await t.handshake({ window: [20000, 2000] });
      await t.c("PA", { data: 1000 });
      await t.s("A");
      await t.c("R", { seq: seq(t), advance: false, label, expect });
      await t.s("PA", { data: 10, label: "s data after" });
      await t.c("A", { label: "c A after" });
    },
  };
}

export const blindInjection: Scenario[] = [
  // RST from the client's side: before, at and after the server's highest ACK, at the far edge.
  scenario("blind-rst-below-maxack", (ctx, n) => blind(ctx, "c", "R", n.c - 1, 0, 0, "R maxack-1", "drop")),
  scenario("blind-rst-at-maxack", (ctx, n) => blind(ctx, "c", "R", n.c, 0, 0, "R maxack", "accept")),
  scenario("blind-rst-ack-at-maxack", (ctx, n) => blind(ctx, "c", "RA", n.c, n.s, 0, "RA maxack", "accept")),
  scenario("blind-rst-above-maxack-in-window", async (ctx, n) => {
    await blind(ctx, "c", "R", n.c + 1, 0, 0, "R maxack+1", "accept");
    await ctx.settle();
    await blind(ctx, "c", "A", n.c, n.s, 0, "A after challenge"); // the connection still works
  }),
  scenario("blind-rst-far-above-window", (ctx, n) => blind(ctx, "c", "R", n.c + FAR, 0, 0, "R far above", "drop")),
  scenario("blind-rst-far-below", (ctx, n) => blind(ctx, "c", "R", n.c - FAR, 0, 0, "R far below", "drop")),
  // RST from the server's side.
  scenario("blind-rst-server-at-maxack", (ctx, n) => blind(ctx, "s", "R", n.s, 0, 0, "s R maxack", "accept")),
  scenario("blind-rst-server-in-window", (ctx, n) => blind(ctx, "s", "R", n.s + 100, 0, 0, "s R maxack+100", "accept")),
  // ACK: above what the server sent, at it, and far behind it.
  scenario("blind-ack-above-sent", (ctx, n) => blind(ctx, "c", "A", n.c, n.s + 1, 0, "ack = sent+1", "drop")),
  scenario("blind-ack-far-above-sent", (ctx, n) => blind(ctx, "c", "A", n.c, n.s + FAR, 0, "ack far above", "drop")),
  scenario("blind-ack-too-old", (ctx, n) => blind(ctx, "c", "A", n.c, n.s - FAR, 0, "ack far below", "accept")),
  // Data: far above the window, inside it beyond a hole, and older than the window.
  scenario("blind-data-far-above-window", (ctx, n) => blind(ctx, "c", "PA", n.c + FAR, n.s, 10, "data far above", "drop")),
  scenario("blind-data-in-window-hole", (ctx, n) => blind(ctx, "c", "PA", n.c + 10, n.s, 10, "data beyond hole", "accept")),
  scenario("blind-data-too-old", (ctx, n) => blind(ctx, "c", "PA", n.c - FAR, n.s, 10, "data far below", "accept")),
  scenario("blind-data-server-too-old", (ctx, n) => blind(ctx, "s", "PA", n.s - FAR, n.c, 10, "s data far below", "accept")),
  // RST at the top of the window (in window, inexact), just beyond it (Linux's
  // overshoot allowance: ignored, passed), and where Linux starts refusing.
  rstEdge("blind-rst-at-maxend", (t) => t.maxend("c"), "accept", "R at maxend"),
  rstEdge("blind-rst-just-above-maxend", (t) => t.maxend("c") + 1, "accept", "R at maxend+1"),
  rstEdge("blind-rst-overshoot-refused", (t) => t.firstRefusedSeq("c", 0), "drop", "R overshoot = maxwin+1"),
  // RST+ACK at the exact sequence number but acknowledging data never sent (check III).
  scenario("blind-rst-ack-above-sent", (ctx, n) => blind(ctx, "c", "RA", n.c, n.s + 1000, 0, "RA ack above sent", "drop")),
  // A SYN on the live connection: the server answers with a challenge ACK (RFC 5961 4).
  scenario("blind-syn-on-established", (ctx, n) => blind(ctx, "c", "S", n.c + 12345678, 0, 0, "S", "accept")),
];
