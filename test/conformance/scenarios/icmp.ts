// ICMP: echo sessions, and errors quoting tracked and untracked flows. An error is
// related when it quotes a tracked flow and travels back to the quoted packet's
// sender (Linux nf_conntrack_inet_error checks the outer destination).

import { buildPacket } from "../../../src/packet/builder.ts";
import { CLIENT, SERVER, TCP_SCRIPTED, UDP_PORT } from "../policy.ts";
import type { Scenario, ScenarioContext, Side, Verdict } from "../scenario.ts";
import { TcpScript } from "../tcp-script.ts";

function echo(ctx: ScenarioContext, from: Side, type: 0 | 8, seq: number, label: string, expect?: Verdict, id = ctx.port) {
  return ctx.inject(from, { protocol: "icmp", icmp: { type, id, seq }, payload: 16 }, { label, expect });
}

/** The first 28 bytes of a packet (IP header + 8): what RFC 792 requires an error to quote. */
const quote = (packet: Uint8Array) => packet.slice(0, 28);

function error(ctx: ScenarioContext, from: Side, type: number, code: number, quoted: Uint8Array, label: string, expect?: Verdict) {
  return ctx.inject(from, { protocol: "icmp", icmp: { type, code, quote: quote(quoted), rest: type === 3 && code === 4 ? 1400 : 0 } }, { label, expect });
}

function udpFromClient(ctx: ScenarioContext, port = ctx.port) {
  return ctx.inject("c", { protocol: "udp", srcPort: port, dstPort: UDP_PORT, payload: 20 }, { label: "udp request" });
}

export const icmpScenarios: Scenario[] = [
  {
    name: "icmp-echo",
    category: "icmp",
    kind: "scripted",
    async run(ctx) {
      await echo(ctx, "c", 8, 1, "request 1", "accept");
      await echo(ctx, "s", 0, 1, "reply 1", "accept");
      await echo(ctx, "c", 8, 2, "request 2", "accept");
      await echo(ctx, "s", 0, 2, "reply 2", "accept");
      await echo(ctx, "s", 0, 2, "duplicate reply 2");
    },
  },
  {
    // An echo reply nobody asked for, from the client.
    name: "icmp-echo-reply-unsolicited",
    category: "icmp",
    kind: "scripted",
    async run(ctx) {
      await echo(ctx, "c", 0, 1, "reply without request", "drop");
    },
  },
  {
    // The server pings the client (P13).
    name: "icmp-echo-from-server",
    category: "icmp",
    kind: "scripted",
    async run(ctx) {
      await echo(ctx, "s", 8, 1, "s request", "accept");
      await echo(ctx, "c", 0, 1, "c reply", "accept");
    },
  },
  {
    // Real kernel: the server's stack answers the ping itself.
    name: "icmp-echo-real",
    category: "icmp",
    kind: "kernel",
    async run(ctx) {
      await echo(ctx, "c", 8, 1, "request", "accept");
      await ctx.settle();
    },
  },
  {
    // Port unreachable quoting the client's tracked UDP datagram.
    name: "icmp-error-tracked-udp",
    category: "icmp",
    kind: "scripted",
    async run(ctx) {
      const d = await udpFromClient(ctx);
      await error(ctx, "s", 3, 3, d, "port unreachable", "accept");
    },
  },
  {
    // Real kernel: the server's stack sends the port unreachable (nothing listens).
    name: "icmp-error-tracked-udp-real",
    category: "icmp",
    kind: "kernel",
    async run(ctx) {
      await udpFromClient(ctx);
      await ctx.settle();
    },
  },
  {
    // Port unreachable quoting a datagram that never passed: no flow to relate to.
    name: "icmp-error-untracked-udp",
    category: "icmp",
    kind: "scripted",
    async run(ctx) {
      const d = buildPacket({ src: CLIENT, dst: SERVER, protocol: "udp", srcPort: ctx.port, dstPort: UDP_PORT, payload: 20 });
      await error(ctx, "s", 3, 3, d, "port unreachable, untracked", "drop");
    },
  },
  {
    // Time exceeded quoting a tracked datagram.
    name: "icmp-error-time-exceeded-udp",
    category: "icmp",
    kind: "scripted",
    async run(ctx) {
      const d = await udpFromClient(ctx);
      await error(ctx, "s", 11, 0, d, "time exceeded", "accept");
    },
  },
  {
    // Fragmentation needed quoting the client's data segment, inside the window.
    name: "icmp-error-tracked-tcp-in-window",
    category: "icmp",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      await t.handshake();
      const seg = await t.c("PA", { data: 100 });
      await error(ctx, "s", 3, 4, seg, "frag needed", "accept");
    },
  },
  {
    // The same error quoting a sequence number far outside the window.
    name: "icmp-error-tracked-tcp-seq-out-of-window",
    category: "icmp",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      await t.handshake();
      await t.c("PA", { data: 100 });
      const forged = buildPacket({ src: CLIENT, dst: SERVER, protocol: "tcp", srcPort: ctx.port, dstPort: TCP_SCRIPTED, tcp: { flags: "PA", seq: (t.nxt("c") + 2 ** 30) >>> 0, ack: t.nxt("s") } });
      await error(ctx, "s", 3, 4, forged, "frag needed, seq far off", "accept");
    },
  },
  {
    // An error quoting the SYN of a connection being opened.
    name: "icmp-error-tracked-tcp-syn",
    category: "icmp",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      const syn = await t.c("S");
      await error(ctx, "s", 3, 1, syn, "host unreachable", "accept");
    },
  },
  {
    // An error quoting a TCP segment of no tracked connection.
    name: "icmp-error-untracked-tcp",
    category: "icmp",
    kind: "scripted",
    async run(ctx) {
      const seg = buildPacket({ src: CLIENT, dst: SERVER, protocol: "tcp", srcPort: ctx.port, dstPort: TCP_SCRIPTED, tcp: { flags: "PA", seq: 1, ack: 1 } });
      await error(ctx, "s", 3, 4, seg, "frag needed, untracked", "drop");
    },
  },
  {
    // The client reports an error about the server's segment (the other direction).
    name: "icmp-error-from-client",
    category: "icmp",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      await t.handshake();
      const seg = await t.s("PA", { data: 100 });
      await error(ctx, "c", 3, 4, seg, "c frag needed", "accept");
    },
  },
  {
    // An error sent to the wrong host: the server "reports" its own segment to the
    // client, which never sent it (outer destination is not the quoted source).
    name: "icmp-error-wrong-direction",
    category: "icmp",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      await t.handshake();
      const seg = await t.s("PA", { data: 100 });
      await error(ctx, "s", 3, 4, seg, "error about own segment", "drop");
    },
  },
  {
    // An error quoting the client's echo request.
    name: "icmp-error-tracked-echo",
    category: "icmp",
    kind: "scripted",
    async run(ctx) {
      const req = await echo(ctx, "c", 8, 1, "request");
      await error(ctx, "s", 3, 1, req, "host unreachable", "accept");
    },
  },
  {
    // Source quench (deprecated, RFC 6633) quoting a tracked flow.
    name: "icmp-source-quench",
    category: "icmp",
    kind: "scripted",
    async run(ctx) {
      const d = await udpFromClient(ctx);
      await error(ctx, "s", 4, 0, d, "source quench");
    },
  },
];
