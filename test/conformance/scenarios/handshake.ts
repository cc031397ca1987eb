// Handshake variants: how each judge opens a connection, and which answers to a SYN
// it lets through. Scripted unless the kind says "kernel".

import { SERVER, TCP_CLOSED, TCP_FASTOPEN_LISTENER, TCP_PLAIN_LISTENER } from "../policy.ts";
import type { Scenario } from "../scenario.ts";
import { TcpScript } from "../tcp-script.ts";

const DATA = 20;

export const handshake: Scenario[] = [
  {
    // The baseline: handshake, data both ways. Everything passes in both judges.
    name: "handshake-basic",
    category: "handshake",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      await t.handshake();
      await t.c("PA", { data: 100, expect: "accept" });
      await t.s("A");
      await t.s("PA", { data: 50, expect: "accept" });
      await t.c("A");
    },
  },
  {
    // SYN carrying data whose SYN-ACK acknowledges only ISN+1 (the responder did not
    // take the data, as without TFO); the client then sends the data again.
    name: "handshake-syn-data-synack-acks-isn",
    category: "handshake",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      const isn = t.nxt("c");
      await t.c("S", { data: DATA, label: "S+data", expect: "accept" });
      await t.s("SA", { ack: isn + 1, label: "SA acks ISN+1", expect: "accept" });
      await t.c("A", { seq: isn + 1, label: "A" });
      await t.c("PA", { seq: isn + 1, data: DATA, label: "data again", expect: "accept" });
      await t.s("A");
    },
  },
  {
    // SYN carrying data and a SYN-ACK acknowledging it all (TFO accepted).
    name: "handshake-syn-data-synack-acks-data",
    category: "handshake",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      await t.c("S", { data: DATA, label: "S+data" });
      await t.s("SA", { label: "SA acks data", expect: "accept" });
      await t.c("A");
      await t.s("PA", { data: 10 });
      await t.c("A");
    },
  },
  {
    // Real TCP Fast Open: the kernel puts the data on the SYN, the listener takes it
    // (no cookie needed, see topology.ts) and its SYN-ACK acknowledges it.
    name: "handshake-tfo-real",
    category: "handshake",
    kind: "kernel",
    async run(ctx) {
      await ctx.client.call({ op: "fastopen", id: "tfo-c", lport: ctx.port, host: SERVER, port: TCP_FASTOPEN_LISTENER, hex: "62".repeat(DATA) });
      await ctx.server.call({ op: "accept", id: "tfo-s", port: TCP_FASTOPEN_LISTENER });
      await ctx.server.call({ op: "recv", id: "tfo-s", n: DATA });
      await ctx.server.call({ op: "send", id: "tfo-s", hex: "63".repeat(10) });
      await ctx.client.call({ op: "recv", id: "tfo-c", n: 10 });
      await ctx.client.call({ op: "close", id: "tfo-c" });
      await ctx.server.call({ op: "close", id: "tfo-s" });
    },
  },
  {
    // A real SYN with data to a listener without TCP_FASTOPEN: the SYN-ACK acknowledges
    // ISN+1 only and the client kernel retransmits the data after the handshake.
    name: "handshake-syn-data-real-refused",
    category: "handshake",
    kind: "kernel",
    async run(ctx) {
      await ctx.client.call({ op: "fastopen", id: "syn-c", lport: ctx.port, host: SERVER, port: TCP_PLAIN_LISTENER, hex: "62".repeat(DATA) });
      await ctx.server.call({ op: "accept", id: "syn-s", port: TCP_PLAIN_LISTENER });
      await ctx.server.call({ op: "recv", id: "syn-s", n: DATA });
      await ctx.client.call({ op: "close", id: "syn-c" });
      await ctx.server.call({ op: "close", id: "syn-s" });
    },
  },
  {
    // Simultaneous open: both send a SYN, then each a SYN-ACK (Linux SYN_SENT2).
    name: "handshake-simultaneous-open",
    category: "handshake",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      const c = t.nxt("c");
      const s = t.nxt("s");
      await t.c("S", { label: "c S" });
      await t.s("S", { label: "s S", expect: "accept" });
      await t.c("SA", { seq: c, label: "c SA", expect: "accept" });
      await t.s("SA", { seq: s, label: "s SA", expect: "accept" });
      await t.c("A");
      await t.s("PA", { data: 10 });
      await t.c("PA", { data: 10 });
    },
  },
  {
    // The client retransmits its SYN with a new, higher ISN before any answer
    // (RFC 793 reinitialisation): the answer to the second SYN must pass.
    name: "handshake-syn-retransmit-higher-isn",
    category: "handshake",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      const second = t.nxt("c") + 100_000;
      await t.c("S", { label: "S1" });
      await t.c("S", { seq: second, label: "S2 higher ISN", expect: "accept" });
      await t.s("SA", { ack: second + 1, label: "SA acks S2", expect: "accept" });
      await t.c("A");
      await t.c("PA", { data: 10 });
    },
  },
  {
    // The same with a lower ISN: Linux keeps the first SYN's sequence space and lets
    // the SYN-ACK of the second one through (it is within the window it allows).
    name: "handshake-syn-retransmit-lower-isn",
    category: "handshake",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      const second = t.nxt("c") - 100_000;
      await t.c("S", { label: "S1" });
      await t.c("S", { seq: second, label: "S2 lower ISN" });
      t.h.c.nxt = second + 1;
      await t.s("SA", { ack: second + 1, label: "SA acks S2" });
      await t.c("A", { label: "A" });
      await t.c("PA", { data: 10, label: "data" });
    },
  },
  {
    // The same with an ISN less than 66000 lower: the SYN-ACK of the second SYN is
    // within Linux's ACK window, so the handshake completes there too.
    name: "handshake-syn-retransmit-slightly-lower-isn",
    category: "handshake",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      const second = t.nxt("c") - 1000;
      await t.c("S", { label: "S1" });
      await t.c("S", { seq: second, label: "S2 lower ISN" });
      t.h.c.nxt = second + 1;
      await t.s("SA", { ack: second + 1, label: "SA acks S2", expect: "accept" });
      await t.c("A", { label: "A", expect: "accept" });
      await t.c("PA", { data: 10, label: "data", expect: "accept" });
    },
  },
  {
    // A SYN-ACK answering the first of two SYNs (a slow answer to the old ISN): in
    // Linux's window after the second SYN reinitialised the originator's side.
    name: "handshake-synack-answers-first-syn",
    category: "handshake",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      const first = t.nxt("c");
      const s = t.nxt("s");
      await t.c("S", { label: "S1" });
      await t.c("S", { seq: first + 1000, label: "S2" });
      await t.s("SA", { ack: first + 1, label: "SA acks S1" });
      await t.s("SA", { seq: s, ack: first + 1001, label: "SA acks S2" });
      await t.c("A");
    },
  },
  {
    // The responder retransmits an identical SYN-ACK (its ACK was lost).
    name: "handshake-synack-retransmit",
    category: "handshake",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      const s = t.nxt("s");
      await t.c("S");
      await t.s("SA", { label: "SA" });
      await t.s("SA", { seq: s, label: "SA again", expect: "accept" });
      await t.c("A");
      await t.c("PA", { data: 10 });
    },
  },
  {
    // The responder answers again with a new ISN (it restarted): Linux reinitialises
    // the reply side; the client's ACK of the new ISN must pass.
    name: "handshake-synack-retransmit-new-isn",
    category: "handshake",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      const s2 = t.nxt("s") + 500_000;
      await t.c("S");
      await t.s("SA", { label: "SA1" });
      await t.s("SA", { seq: s2, label: "SA2 new ISN" });
      await t.c("A", { ack: s2 + 1, label: "A acks SA2" });
      await t.s("PA", { seq: s2 + 1, data: 10, label: "data from SA2" });
    },
  },
  {
    // A SYN-ACK acknowledging more than the SYN (forged or broken) is dropped; the right one then passes.
    name: "handshake-synack-wrong-ack",
    category: "handshake",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      const isn = t.nxt("c");
      await t.c("S");
      await t.s("SA", { ack: isn + 5, advance: false, label: "SA ack ISN+5", expect: "drop" });
      await t.s("SA", { label: "SA", expect: "accept" });
      await t.c("A");
    },
  },
  {
    // An ACK from the client before any SYN-ACK: nothing to acknowledge.
    name: "handshake-ack-before-synack",
    category: "handshake",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      await t.c("S");
      await t.c("A", { ack: 12345, advance: false, label: "early A", expect: "drop" });
      await t.s("SA");
      await t.c("A");
    },
  },
  {
    // The server's RST answering the SYN (closed port behind an allowed rule), then a new attempt on the same ports.
    name: "handshake-rst-answers-syn",
    category: "handshake",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      const isn = t.nxt("c");
      await t.c("S");
      await t.s("RA", { seq: 0, ack: isn + 1, advance: false, label: "RA", expect: "accept" });
      await t.c("S", { seq: isn + 50_000, label: "S again" });
      await t.s("SA", { label: "SA" });
      await t.c("A");
    },
  },
  {
    // An RST answering the SYN with the wrong ACK number (blind): dropped. (Not ISN+2:
    // Linux takes a first reply acking td_end+1 for a keepalive answer and passes it.)
    name: "handshake-rst-answers-syn-wrong-ack",
    category: "handshake",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      const isn = t.nxt("c");
      await t.c("S");
      await t.s("RA", { seq: 0, ack: isn + 100, advance: false, label: "RA ack ISN+100", expect: "drop" });
      await t.s("SA", { label: "SA" });
      await t.c("A", { label: "A completing the handshake" });
    },
  },
  {
    // A SYN no rule allows, and the server's RST answering it (the server never got
    // the SYN in either judge, so the RST belongs to nothing).
    name: "handshake-syn-to-closed-port",
    category: "handshake",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx, ctx.port, TCP_CLOSED);
      const isn = t.nxt("c");
      await t.c("S", { label: "S", expect: "drop" });
      await t.s("RA", { seq: 0, ack: isn + 1, advance: false, label: "RA" });
    },
  },
  {
    // The server opens the connection (P13: its own traffic is tracked, not filtered).
    name: "handshake-server-initiated",
    category: "handshake",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      await t.s("S", { label: "s S", expect: "accept" });
      await t.c("SA", { label: "c SA", expect: "accept" });
      await t.s("A");
      await t.c("PA", { data: 10, expect: "accept" });
      await t.s("A");
    },
  },
  {
    // An ECN-setup SYN (SYN+ECE+CWR) is still a SYN.
    name: "handshake-ecn-syn",
    category: "handshake",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      await t.c("SEC", { label: "S+ECE+CWR", expect: "accept" });
      await t.s("SAE");
      await t.c("A");
    },
  },
  {
    // SYN+FIN is no legal flag combination.
    name: "handshake-syn-fin",
    category: "handshake",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      await t.c("SF", { label: "SF", expect: "drop" });
    },
  },
  {
    // A SYN with a new ISN on an established connection (the client rebooted): Linux
    // passes it without a state change, the server's challenge ACK passes, the
    // client's RST at the acknowledged number closes, and the next SYN opens anew.
    name: "handshake-syn-on-established",
    category: "handshake",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      await t.handshake();
      await t.c("PA", { data: 10 });
      await t.s("A");
      const reboot = t.nxt("c") + 7_000_000;
      await t.c("S", { seq: reboot, advance: false, label: "S new ISN", expect: "accept" });
      await t.s("A", { label: "challenge A", expect: "accept" });
      await t.c("R", { seq: t.nxt("c"), advance: false, label: "R at challenge ack", expect: "accept" });
      await t.c("S", { seq: reboot, advance: false, label: "S again", expect: "accept" });
      t.h.c.nxt = reboot + 1;
      await t.s("SA", { seq: t.nxt("s") + 1_000_000, label: "SA" });
      t.h.s.nxt = t.h.s.isn + 1;
      await t.c("A", { label: "A" });
    },
  },
];
