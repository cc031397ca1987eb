// Real kernel TCP connections between the client and server namespaces, driven
// through the endpoint agents, for scenarios that inject next to a live connection.

import { SERVER, TCP_LISTENER } from "./policy.ts";
import type { ScenarioContext } from "./scenario.ts";

export interface RealConnection {
  client: string;
  server: string;
  lport: number;
}

/** Connects the client from `lport` to the listener and accepts on the server. */
export async function connect(ctx: ScenarioContext, lport = ctx.port, port = TCP_LISTENER): Promise<RealConnection> {
  const c: RealConnection = { client: `${ctx.scenario.name}/${lport}/c`, server: `${ctx.scenario.name}/${lport}/s`, lport };
  await ctx.client.call({ op: "connect", id: c.client, lport, host: SERVER, port });
  await ctx.server.call({ op: "accept", id: c.server, port });
  return c;
}

/** `n` bytes from one side, read by the other. */
export async function transfer(ctx: ScenarioContext, conn: RealConnection, from: "c" | "s", n: number): Promise<void> {
  const [tx, rx, txId, rxId] = from === "c" ? [ctx.client, ctx.server, conn.client, conn.server] : [ctx.server, ctx.client, conn.server, conn.client];
  await tx.call({ op: "send", id: txId, hex: "61".repeat(n) });
  await rx.call({ op: "recv", id: rxId, n });
}

/** A connection with 100 bytes each way, then quiet: the state blind injections aim at. */
export async function established(ctx: ScenarioContext, lport = ctx.port): Promise<RealConnection> {
  const conn = await connect(ctx, lport);
  await transfer(ctx, conn, "c", 100);
  await transfer(ctx, conn, "s", 100);
  await ctx.settle(60);
  return conn;
}

/** Closes both sockets with RSTs (SO_LINGER 0) so nothing lingers into later scenarios. */
export async function abort(ctx: ScenarioContext, conn: RealConnection): Promise<void> {
  await ctx.client.tryCall({ op: "abort", id: conn.client });
  await ctx.server.tryCall({ op: "abort", id: conn.server });
}
