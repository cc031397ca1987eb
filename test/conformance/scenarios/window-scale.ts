// Window edges with window scaling (RFC 7323): windows of non-SYN segments are
// shifted only when both SYNs carried the option; a SYN's own window never is.

import type { Scenario } from "../scenario.ts";
import { TcpScript } from "../tcp-script.ts";

const probeData = (t: TcpScript, seq: number, expect: "accept" | "drop", label: string) => t.c("PA", { seq, data: 10, advance: false, label, expect });

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
    name: "wscale-seq-above-scaled-maxend",
    category: "window-scale",
    kind: "scripted",
    async run(ctx) {
      const t = new TcpScript(ctx);
      await t.handshake({ window: [20000, 8000], wscale: [7, 7] });
      await t.s("A", { window: 100 });
      await probeData(t, t.maxend("c") + 1, "drop", "seq = scaled maxend+1");
      await probeData(t, t.nxt("c") + 100 * 128 - 1, "accept", "inside scaled window");
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
      await probeData(t, t.maxend("c") + 1, "drop", "seq = unscaled maxend+1");
      await probeData(t, t.maxend("c"), "accept", "seq = unscaled maxend");
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
      await probeData(t, t.maxend("c") + 1, "drop", "seq = SYN window+1");
      await probeData(t, t.maxend("c"), "accept", "seq = SYN window");
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
      await probeData(t, t.maxend("c") + 1, "drop", "seq = maxend+1");
      await probeData(t, t.maxend("c"), "accept", "seq = maxend");
    },
  },
  {
    // With a scaled window above 66000 the ACK lower bound is the window itself:
    // the client advertised 1000 << 7 = 128000 bytes.
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
      await t.c("A", { ack: t.end("s") - t.maxwin("c") + 1, advance: false, label: "ack = td_end-maxwin+1", expect: "accept" });
      await t.c("A", { ack: t.end("s") - t.maxwin("c"), advance: false, label: "ack = td_end-maxwin", expect: "accept" });
    },
  },
  {
    // The same old-data edge as without scaling, with the receiver's window scaled:
    // the server advertised 16 << 7 = 2048 bytes.
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
      await probeData(t, floor + 1 - 10, "accept", "end = td_end-maxwin+1");
      await probeData(t, floor - 10, "accept", "end = td_end-maxwin");
    },
  },
];
