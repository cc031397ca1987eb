// TIME_WAIT reuse: a new SYN on the ports of a connection both ends closed. Linux
// ends the old entry and judges the SYN as new (RFC 1122 4.2.2.13), whatever its ISN.

import { connect, transfer } from "../real-tcp.ts";
import type { Scenario, ScenarioContext } from "../scenario.ts";
import { TcpScript } from "../tcp-script.ts";

/** A connection closed by the client first, both FINs acknowledged: TIME_WAIT. */
async function toTimeWait(ctx: ScenarioContext): Promise<TcpScript> {
  const t = new TcpScript(ctx);
  await t.handshake();
  await t.c("PA", { data: 10 });
  await t.s("A");
  await t.c("FA");
  await t.s("A");
  await t.s("FA");
  await t.c("A");
  return t;
}

async function reopen(t: TcpScript, isn: number): Promise<void> {
  await t.c("S", { seq: isn, advance: false, label: "S reuse", expect: "accept" });
  t.h.c.nxt = isn + 1;
  await t.s("SA", { seq: t.nxt("s") + 1_000_000, label: "SA" });
  await t.c("A", { label: "A" });
  await t.c("PA", { data: 10, label: "data" });
}

export const timeWait: Scenario[] = [
  {
    // The usual reuse: the new ISN is above the old connection's sequence space.
    name: "time-wait-reuse-higher-isn",
    category: "time-wait",
    kind: "scripted",
    async run(ctx) {
      const t = await toTimeWait(ctx);
      await reopen(t, t.nxt("c") + 100_000);
    },
  },
  {
    // Reuse with an ISN below the old connection's: still a new connection for Linux.
    name: "time-wait-reuse-lower-isn",
    category: "time-wait",
    kind: "scripted",
    async run(ctx) {
      const t = await toTimeWait(ctx);
      await reopen(t, t.h.c.isn - 100_000);
    },
  },
  {
    // Reuse after the server closed first (the entry went through CLOSE_WAIT and LAST_ACK).
    name: "time-wait-reuse-after-server-close",
    category: "time-wait",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      await t.handshake();
      await t.s("FA");
      await t.c("A");
      await t.c("FA");
      await t.s("A");
      await reopen(t, t.nxt("c") + 100_000);
    },
  },
  {
    // Late retransmissions in TIME_WAIT: the server's FIN again, the client's ACK again.
    name: "time-wait-retransmitted-fin",
    category: "time-wait",
    kind: "scripted",
    async run(ctx) {
      const t = await toTimeWait(ctx);
      await t.s("FA", { seq: t.nxt("s") - 1, label: "FA again", expect: "accept" });
      await t.c("A", { label: "A again", expect: "accept" });
    },
  },
  {
    // Real kernels: the server closes first and sits in TIME_WAIT; the client connects
    // again from the same port, and the server's TIME_WAIT socket accepts the new SYN.
    name: "time-wait-reuse-real",
    category: "time-wait",
    kind: "kernel",
    async run(ctx) {
      const first = await connect(ctx);
      await transfer(ctx, first, "c", 10);
      await ctx.server.call({ op: "close", id: first.server });
      await ctx.client.call({ op: "recv", id: first.client, n: 1 }); // EOF
      await ctx.client.call({ op: "close", id: first.client });
      await ctx.settle(60);
      const second = await connect(ctx);
      await transfer(ctx, second, "c", 10);
      await transfer(ctx, second, "s", 10);
      await ctx.client.call({ op: "close", id: second.client });
      await ctx.server.call({ op: "close", id: second.server });
    },
  },
];
