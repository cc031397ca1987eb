// UDP: a flow opens on a datagram the policy allows (from the client) or on any the
// server sends (P13); the other side's datagrams on the same ports are its replies.

import { UDP_CLOSED, UDP_PORT } from "../policy.ts";
import type { Scenario, ScenarioContext, Side, Verdict } from "../scenario.ts";

function udp(ctx: ScenarioContext, from: Side, serverPort: number, label: string, expect?: Verdict, clientPort = ctx.port) {
  return ctx.inject(
    from,
    { protocol: "udp", srcPort: from === "c" ? clientPort : serverPort, dstPort: from === "c" ? serverPort : clientPort, payload: 20 },
    { label, expect },
  );
}

export const udpScenarios: Scenario[] = [
  {
    // Request, reply, and more of both.
    name: "udp-request-reply",
    category: "udp",
    kind: "scripted",
    async run(ctx) {
      await udp(ctx, "c", UDP_PORT, "request", "accept");
      await udp(ctx, "s", UDP_PORT, "reply", "accept");
      await udp(ctx, "c", UDP_PORT, "request 2", "accept");
      await udp(ctx, "s", UDP_PORT, "reply 2", "accept");
    },
  },
  {
    // A port no rule allows; the server's "reply" then opens a flow of its own (P13),
    // whose reply is the client's next datagram.
    name: "udp-closed-port",
    category: "udp",
    kind: "scripted",
    async run(ctx) {
      await udp(ctx, "c", UDP_CLOSED, "request", "drop");
      await udp(ctx, "s", UDP_CLOSED, "server datagram", "accept");
      await udp(ctx, "c", UDP_CLOSED, "request again", "accept");
    },
  },
  {
    // The server starts: its flow, the client's replies.
    name: "udp-server-initiated",
    category: "udp",
    kind: "scripted",
    async run(ctx) {
      await udp(ctx, "s", 7777, "server datagram", "accept");
      await udp(ctx, "c", 7777, "client reply", "accept");
      await udp(ctx, "s", 7777, "server again", "accept");
    },
  },
  {
    // Several unanswered requests: the flow stays open for the client's side.
    name: "udp-unreplied-repeats",
    category: "udp",
    kind: "scripted",
    async run(ctx) {
      for (let i = 0; i < 3; i++) await udp(ctx, "c", UDP_PORT, `request ${i}`, "accept");
      await udp(ctx, "s", UDP_PORT, "late reply", "accept");
    },
  },
  {
    // The reply comes from another port: a different flow, which the server may open.
    name: "udp-reply-from-other-port",
    category: "udp",
    kind: "scripted",
    async run(ctx) {
      await udp(ctx, "c", UDP_PORT, "request", "accept");
      await udp(ctx, "s", UDP_PORT + 1, "reply from other port", "accept");
      await udp(ctx, "c", UDP_PORT + 1, "client to other port", "accept");
    },
  },
];
