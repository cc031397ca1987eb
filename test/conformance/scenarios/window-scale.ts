// Window edges with window scaling (RFC 7323): windows of non-SYN segments are
// shifted only when both SYNs carried the option; a SYN's own window never is. The
// probes aim at the first sequence number Linux refuses (tcp-script.ts
// firstRefusedSeq), which moves with both td_maxend and the receiver's td_maxwin:
// a wrong shift in either moves it by far more than the probes' one byte.

import type { Scenario } from "../scenario.ts";
import { TcpScript } from "../tcp-script.ts";

const probeData = (t: TcpScript, seq: number, expect: "accept" | "drop", label: string) => t.c("PA", { seq, data: 10, advance: false, label, expect });

/** The refused probe first (it changes nothing), then the last one allowed. */
async function edges(t: TcpScript): Promise<void> {
  await probeData(t, t.firstRefusedSeq("c", 10), "drop", "first refused");
  await probeData(t, t.firstRefusedSeq("c", 10) - 1, "accept", "last allowed");
}

export const windowScale: Scenario[] = [
  {
    // Scale 7 both ways; the server's window of 100 means 12800 bytes.
    name: "wscale-seq-at-scaled-maxend",
    category: "window-scale",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      await t.handshake({ window: [20000, 8000], wscale: [7, 7] });
      await t.s("A", { window: 100 });
      await probeData(t, t.maxend("c"), "accept", "seq = scaled maxend");
    },
  },
  {
    name: "wscale-scaled-edges",
    category: "window-scale",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      await t.handshake({ window: [20000, 8000], wscale: [7, 7] });
      await t.s("A", { window: 100 });
      await edges(t);
    },
  },
  {
    // Only the client offered scaling: the server's windows are not shifted.
    name: "wscale-one-side-only",
    category: "window-scale",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      await t.c("S", { window: 20000, windowScale: 7, label: "S wscale 7" });
      await t.s("SA", { window: 50, label: "SA no wscale" });
      await t.c("A");
      await t.s("A", { window: 100, label: "s A win 100" });
      await edges(t);
    },
  },
  {
    // The SYN-ACK's window is not scaled even though both offered scaling.
    name: "wscale-synack-window-unscaled",
    category: "window-scale",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      await t.c("S", { window: 20000, windowScale: 7, label: "S wscale 7" });
      await t.s("SA", { window: 50, windowScale: 7, label: "SA win 50 wscale 7" });
      await t.c("A");
      await edges(t);
    },
  },
  {
    // The largest shift, 14: a window field of 4 is 65536 bytes.
    name: "wscale-shift-14",
    category: "window-scale",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      await t.handshake({ window: [20000, 8000], wscale: [14, 14] });
      await t.s("A", { window: 4 });
      await edges(t);
    },
  },
  {
    // With a scaled window above 66000 the ACK lower bound is the window itself: the
    // client advertised 1000 << 7 = 128000 bytes. New data acking one byte too old is
    // ignored by Linux (accepted, unseen), so the server's ACK of it fails; at the
    // edge both pass.
    name: "wscale-ack-lower-edge-large-window",
    category: "window-scale",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      await t.handshake({ window: [100, 8000], wscale: [7, 7] });
      t.setWindow("c", 1000);
      await t.c("A");
      await t.s("PA", { data: 100 });
      await t.c("A");
      const seq = t.nxt("c");
      await t.c("PA", { ack: t.end("s") - t.maxwin("c") - 1, data: 10, advance: false, label: "data, ack = td_end-maxwin-1", expect: "accept" });
      await t.s("A", { ack: seq + 10, advance: false, label: "s A of ignored data", expect: "drop" });
      await t.c("PA", { ack: t.end("s") - t.maxwin("c"), data: 10, label: "data, ack = td_end-maxwin", expect: "accept" });
      await t.s("A", { label: "s A of data", expect: "accept" });
    },
  },
  {
    // The old-data edge with the receiver's window scaled: the server advertised
    // 16 << 7 = 2048 bytes.
    name: "wscale-retransmit-lower-edge",
    category: "window-scale",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      await t.handshake({ window: [20000, 16], wscale: [7, 7] });
      await t.s("A", { window: 16 });
      for (let i = 0; i < 3; i++) {
        await t.c("PA", { data: 1000 });
        await t.s("A", { window: 16 });
      }
      const floor = t.end("c") - t.maxwin("s");
      await probeData(t, floor - 10, "accept", "end = td_end-maxwin");
      await probeData(t, floor - 11, "accept", "end = td_end-maxwin-1");
    },
  },
];
