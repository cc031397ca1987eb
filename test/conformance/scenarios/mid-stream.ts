// Mid-stream pickup: segments of a connection neither judge saw open. Linux
// (nf_conntrack_tcp_loose=1) tracks a mid-stream segment as a new connection with
// liberal windows; the policy lets the server's own traffic open connections (P13)
// and the client's only with a SYN.

import type { Scenario } from "../scenario.ts";
import { TcpScript } from "../tcp-script.ts";

export const midStream: Scenario[] = [
  {
    // The client's data with no connection: no SYN, so no new connection from it.
    name: "mid-stream-client-data",
    category: "mid-stream",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      await t.c("PA", { data: 10, label: "c data", expect: "drop" });
      await t.s("A", { label: "s A" });
      await t.c("PA", { data: 10, label: "c data 2" });
    },
  },
  {
    // The server's data with no connection: picked up, and the client's replies pass.
    name: "mid-stream-server-data",
    category: "mid-stream",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      await t.s("PA", { data: 10, label: "s data", expect: "accept" });
      await t.c("A", { label: "c A", expect: "accept" });
      await t.c("PA", { data: 10, label: "c data", expect: "accept" });
      await t.s("PA", { data: 10, label: "s data 2", expect: "accept" });
    },
  },
  {
    // Picked up with liberal windows: far-apart sequence numbers still pass in Linux.
    name: "mid-stream-server-pickup-liberal",
    category: "mid-stream",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      await t.s("A", { label: "s A" });
      await t.c("PA", { data: 10, label: "c data" });
      await t.c("PA", { seq: t.nxt("c") + 5_000_000, data: 10, advance: false, label: "c data far ahead" });
      await t.s("PA", { seq: t.nxt("s") + 5_000_000, data: 10, advance: false, label: "s data far ahead" });
    },
  },
  {
    // A FIN cannot open a connection.
    name: "mid-stream-server-fin",
    category: "mid-stream",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      await t.s("FA", { label: "s FA", expect: "drop" });
      await t.c("A", { label: "c A" });
    },
  },
  {
    // Nor can an RST, from either side.
    name: "mid-stream-rst",
    category: "mid-stream",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      await t.s("R", { label: "s R", expect: "drop" });
      await t.c("RA", { label: "c RA", expect: "drop" });
    },
  },
  {
    // A SYN-ACK with no SYN seen, from the server: not an opening segment either.
    name: "mid-stream-server-synack",
    category: "mid-stream",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      await t.s("SA", { ack: 777, label: "s SA unsolicited" });
      await t.c("A", { label: "c A" });
    },
  },
];
