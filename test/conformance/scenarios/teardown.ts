// FIN and RST teardown in every order, and what may still pass afterwards.

import type { Scenario, ScenarioContext } from "../scenario.ts";
import { TcpScript } from "../tcp-script.ts";

async function open(ctx: ScenarioContext): Promise<TcpScript> {
  const t = new TcpScript(ctx);
  await t.handshake();
  await t.c("PA", { data: 10 });
  await t.s("PA", { data: 10 });
  await t.c("A");
  return t;
}

export const teardown: Scenario[] = [
  {
    // The client closes first, the server acknowledges, then closes.
    name: "teardown-fin-client-first",
    category: "teardown",
    kind: "scripted",
    async run(ctx) {
      const t = await open(ctx);
      await t.c("FA", { expect: "accept" });
      await t.s("A");
      await t.s("FA", { expect: "accept" });
      await t.c("A", { expect: "accept" });
    },
  },
  {
    // The server closes first.
    name: "teardown-fin-server-first",
    category: "teardown",
    kind: "scripted",
    async run(ctx) {
      const t = await open(ctx);
      await t.s("FA", { expect: "accept" });
      await t.c("A");
      await t.c("FA", { expect: "accept" });
      await t.s("A", { expect: "accept" });
    },
  },
  {
    // Both FINs cross: each acknowledges the other's data but not its FIN.
    name: "teardown-fin-simultaneous",
    category: "teardown",
    kind: "scripted",
    async run(ctx) {
      const t = await open(ctx);
      const cFin = t.nxt("c");
      await t.c("FA");
      await t.s("FA", { ack: cFin, label: "s FA (crossing)" });
      await t.c("A", { label: "c A" });
      await t.s("A", { label: "s A" });
    },
  },
  {
    // FIN on the last data segment, answered by FIN-ACK in one segment.
    name: "teardown-fin-with-data",
    category: "teardown",
    kind: "scripted",
    async run(ctx) {
      const t = await open(ctx);
      await t.c("FPA", { data: 100, label: "FPA" });
      await t.s("FA", { label: "s FA" });
      await t.c("A", { label: "c A" });
    },
  },
  {
    // The server keeps sending after the client's FIN (half close), then closes.
    name: "teardown-half-close",
    category: "teardown",
    kind: "scripted",
    async run(ctx) {
      const t = await open(ctx);
      await t.c("FA");
      await t.s("A");
      await t.s("PA", { data: 100, label: "data after c FIN", expect: "accept" });
      await t.c("A", { label: "c A" });
      await t.s("PA", { data: 100, label: "more data" });
      await t.c("A", { label: "c A 2" });
      await t.s("FA", { label: "s FA" });
      await t.c("A", { label: "c A 3" });
    },
  },
  {
    // Data from the client after its own FIN: beyond what it may send.
    name: "teardown-data-after-fin",
    category: "teardown",
    kind: "scripted",
    async run(ctx) {
      const t = await open(ctx);
      await t.c("FA");
      await t.s("A");
      await t.c("PA", { data: 10, advance: false, label: "data after own FIN" });
    },
  },
  {
    // The client's FIN retransmitted before the server answers.
    name: "teardown-fin-retransmit",
    category: "teardown",
    kind: "scripted",
    async run(ctx) {
      const t = await open(ctx);
      const fin = t.nxt("c");
      await t.c("FA", { label: "FA" });
      await t.c("FA", { seq: fin, label: "FA again", expect: "accept" });
      await t.s("A");
      await t.s("FA");
      await t.c("A");
    },
  },
  {
    // An exact RST from the client closes; the server's data already in flight follows it.
    name: "teardown-rst-then-late-data",
    category: "teardown",
    kind: "scripted",
    async run(ctx) {
      const t = await open(ctx);
      await t.c("R", { advance: false, label: "R exact", expect: "accept" });
      await t.s("PA", { data: 10, label: "late data" });
      await t.s("A", { label: "late A" });
    },
  },
  {
    // RST+ACK at the exact sequence number, then a new connection on the same ports.
    name: "teardown-rst-then-new-syn",
    category: "teardown",
    kind: "scripted",
    async run(ctx) {
      const t = await open(ctx);
      await t.c("RA", { advance: false, label: "RA exact", expect: "accept" });
      const isn = t.nxt("c") + 100_000;
      await t.c("S", { seq: isn, advance: false, label: "S", expect: "accept" });
      t.h.c.nxt = isn + 1;
      await t.s("SA", { seq: t.nxt("s") + 1_000_000, label: "SA" });
      await t.c("A", { label: "A" });
    },
  },
  {
    // The server resets after the client's FIN (FIN_WAIT): exact RST passes.
    name: "teardown-rst-after-fin",
    category: "teardown",
    kind: "scripted",
    async run(ctx) {
      const t = await open(ctx);
      await t.c("FA");
      await t.s("RA", { advance: false, label: "RA", expect: "accept" });
      await t.c("A", { label: "c A after RST", advance: false });
    },
  },
  {
    // An RST right after the sender's own data segment, before the receiver acked it
    // (an RST train: a stack aborting with data in flight).
    name: "teardown-rst-train",
    category: "teardown",
    kind: "scripted",
    async run(ctx) {
      const t = await open(ctx);
      await t.s("PA", { data: 100, label: "s data" });
      await t.s("R", { advance: false, label: "R after data", expect: "accept" });
      await t.c("A", { label: "c A after RST" });
    },
  },
  {
    // An RST at the receiver's highest ACK while the sender has unacknowledged data
    // (the receiver's view of the stream): exact for Linux (td_maxack).
    name: "teardown-rst-at-maxack-data-in-flight",
    category: "teardown",
    kind: "scripted",
    async run(ctx) {
      const t = await open(ctx);
      const acked = t.nxt("c");
      await t.c("PA", { data: 100, label: "c data" });
      await t.s("PA", { data: 10, ack: acked, label: "s data, old ack" });
      await t.c("R", { seq: acked, advance: false, label: "R at maxack", expect: "accept" });
      await t.s("A", { label: "s A after RST" });
    },
  },
  {
    // Both ends reset (the second RST answers a segment sent after the first).
    name: "teardown-rst-both",
    category: "teardown",
    kind: "scripted",
    async run(ctx) {
      const t = await open(ctx);
      await t.c("R", { advance: false, label: "c R", expect: "accept" });
      await t.s("R", { advance: false, label: "s R" });
    },
  },
];
