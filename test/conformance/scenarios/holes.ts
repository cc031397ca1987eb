// Holes in the stream (a segment lost before the firewall), with and without SACK:
// data beyond the hole, the receiver's duplicate ACKs and SACK blocks, the repair,
// and an RST from beyond the hole.

import type { Scenario, ScenarioContext } from "../scenario.ts";
import { TcpScript } from "../tcp-script.ts";

/** The client's segment [n, n+1000) never reaches the firewall; [n+1000, n+1100) does. */
async function withHole(ctx: ScenarioContext, sack: boolean): Promise<{ t: TcpScript; hole: number }> {
  const t = new TcpScript(ctx);
  await t.handshake({ window: [20000, 20000], sackPermitted: sack });
  const hole = t.nxt("c");
  await t.c("PA", { seq: hole + 1000, data: 100, label: "data beyond hole", expect: "accept" });
  return { t, hole };
}

export const holes: Scenario[] = [
  {
    // Repair with SACK: the receiver's duplicate ACK reports the later block.
    name: "holes-sack-recovery",
    category: "holes",
    kind: "scripted",
    async run(ctx) {
      const { t, hole } = await withHole(ctx, true);
      await t.s("A", { ack: hole, sack: [[hole + 1000, hole + 1100]], label: "dup A + SACK", expect: "accept" });
      await t.c("PA", { seq: hole, data: 1000, label: "fill hole", expect: "accept" });
      await t.s("A", { label: "A all" });
    },
  },
  {
    // Repair without SACK: plain duplicate ACKs.
    name: "holes-no-sack-recovery",
    category: "holes",
    kind: "scripted",
    async run(ctx) {
      const { t, hole } = await withHole(ctx, false);
      await t.s("A", { ack: hole, label: "dup A", expect: "accept" });
      await t.s("A", { ack: hole, label: "dup A 2", expect: "accept" });
      await t.c("PA", { seq: hole, data: 1000, label: "fill hole", expect: "accept" });
      await t.s("A", { label: "A all" });
    },
  },
  {
    // A SACK block beyond anything the client sent: Linux checks the highest SACKed
    // byte like an ACK (III) when SACK was permitted.
    name: "holes-sack-block-beyond-sent",
    category: "holes",
    kind: "scripted",
    async run(ctx) {
      const { t, hole } = await withHole(ctx, true);
      await t.s("A", { ack: hole, sack: [[hole + 1000, hole + 5000]], advance: false, label: "SACK beyond sent", expect: "drop" });
      await t.s("A", { ack: hole, sack: [[hole + 1000, hole + 1100]], label: "SACK ok" });
    },
  },
  {
    // The same SACK block when the SYNs did not permit SACK: Linux ignores the option.
    name: "holes-sack-block-without-permission",
    category: "holes",
    kind: "scripted",
    async run(ctx) {
      const { t, hole } = await withHole(ctx, false);
      await t.s("A", { ack: hole, sack: [[hole + 1000, hole + 5000]], advance: false, label: "SACK beyond sent", expect: "accept" });
    },
  },
  {
    // The client resets from its snd_nxt, beyond the hole, after the receiver's dup
    // ACK: not at the receiver's highest ACK, so an in-window inexact RST.
    name: "holes-rst-beyond-hole",
    category: "holes",
    kind: "scripted",
    async run(ctx) {
      const { t, hole } = await withHole(ctx, true);
      await t.s("A", { ack: hole, sack: [[hole + 1000, hole + 1100]], label: "dup A + SACK" });
      await t.c("R", { seq: t.nxt("c"), advance: false, label: "R beyond hole", expect: "accept" });
      await t.c("R", { seq: hole, advance: false, label: "R at maxack", expect: "accept" });
    },
  },
  {
    // Data beyond a hole from the server side, then its repair.
    name: "holes-server-side",
    category: "holes",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      await t.handshake({ window: [20000, 20000], sackPermitted: true });
      const hole = t.nxt("s");
      await t.s("PA", { seq: hole + 500, data: 500, label: "s data beyond hole", expect: "accept" });
      await t.c("A", { ack: hole, sack: [[hole + 500, hole + 1000]], label: "c dup A + SACK" });
      await t.s("PA", { seq: hole, data: 500, label: "s fill hole" });
      await t.c("A", { label: "c A all" });
    },
  },
];
