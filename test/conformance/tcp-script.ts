// A scripted TCP conversation: both ends' segments crafted, with the sequence
// bookkeeping a real stack would do, and a model of Linux's per-direction window
// state (td_end, td_maxend, td_maxwin, td_scale; tcp_in_window in
// net/netfilter/nf_conntrack_proto_tcp.c) so that scenarios can aim at its edges.
// The model only places probes; the verdicts come from the real kernel.

import type { InjectOptions, ScenarioContext, Side, Verdict } from "./scenario.ts";
import { TCP_SCRIPTED } from "./policy.ts";

export interface SegmentOptions {
  seq?: number;
  ack?: number;
  /** Payload length (zero bytes) or bytes. */
  data?: number | Uint8Array;
  /** Raw window field. Default the side's window (65535 unless set). */
  window?: number;
  windowScale?: number;
  sackPermitted?: boolean;
  sack?: [number, number][];
  mss?: number;
  /** Advance the side's sequence bookkeeping (default true; false for forged or blind segments). */
  advance?: boolean;
  label?: string;
  expect?: Verdict;
}

interface Half {
  isn: number;
  /** Next sequence number to send (the stack's snd_nxt). */
  nxt: number;
  /** Default window field. */
  window: number;
  /** Window-scale option sent on this side's SYN, or undefined. */
  wscale: number | undefined;
  /** Linux's view of this direction. */
  tdEnd: number;
  tdMaxend: number;
  tdMaxwin: number;
  /** Highest ACK this side sent. */
  maxack: number;
}

const u32 = (n: number) => n >>> 0;
/** a > b in sequence space. */
export const after = (a: number, b: number) => ((a - b) | 0) > 0;

export class TcpScript {
  readonly h: Record<Side, Half>;

  constructor(
    private readonly ctx: ScenarioContext,
    readonly clientPort: number = ctx.port,
    readonly serverPort: number = TCP_SCRIPTED,
    cIsn = 1_000_000,
    sIsn = 3_000_000_000,
  ) {
    const half = (isn: number): Half => ({ isn, nxt: isn, window: 65535, wscale: undefined, tdEnd: isn, tdMaxend: isn, tdMaxwin: 0, maxack: 0 });
    this.h = { c: half(cIsn), s: half(sIsn) };
  }

  /** Both SYNs carried the option: windows of non-SYN segments are scaled. */
  scale(side: Side): number {
    const { c, s } = this.h;
    return c.wscale !== undefined && s.wscale !== undefined ? this.h[side].wscale! : 0;
  }

  nxt(side: Side): number {
    return this.h[side].nxt;
  }

  /** Linux's td_end of a direction: the highest sequence number it sent, plus one. */
  end(side: Side): number {
    return this.h[side].tdEnd;
  }

  /** Linux's td_maxend: the highest sequence number `side` may send (the other's ack + window). */
  maxend(side: Side): number {
    return this.h[side].tdMaxend;
  }

  /** Linux's td_maxwin: the largest (scaled) window `side` advertised. */
  maxwin(side: Side): number {
    return this.h[side].tdMaxwin;
  }

  /**
   * The lowest sequence number at which Linux refuses a `len`-byte segment from
   * `side`: since 6.1 a segment starting beyond td_maxend still passes when it
   * overshoots by at most the receiver's td_maxwin (end - td_maxend + 1 <=
   * td_maxwin: "%u bytes more than expected", NFCT_TCP_IGNORE with td_end moved).
   */
  firstRefusedSeq(side: Side, len: number): number {
    return this.maxend(side) + this.maxwin(side === "c" ? "s" : "c") - len;
  }

  /** The highest ACK `side` sent (Linux's td_maxack). */
  maxack(side: Side): number {
    return this.h[side].maxack;
  }

  setWindow(side: Side, window: number): void {
    this.h[side].window = window;
  }

  c(flags: string, o: SegmentOptions = {}): Promise<Uint8Array> {
    return this.send("c", flags, o);
  }

  s(flags: string, o: SegmentOptions = {}): Promise<Uint8Array> {
    return this.send("s", flags, o);
  }

  /** The usual three-way handshake (options apply to both SYNs; `window` stays each side's window afterwards). */
  async handshake(o: { window?: [number, number]; wscale?: [number?, number?]; sackPermitted?: boolean } = {}): Promise<void> {
    if (o.window) {
      this.setWindow("c", o.window[0]);
      this.setWindow("s", o.window[1]);
    }
    await this.c("S", { window: o.window?.[0], windowScale: o.wscale?.[0], sackPermitted: o.sackPermitted, label: "handshake S" });
    await this.s("SA", { window: o.window?.[1], windowScale: o.wscale?.[1], sackPermitted: o.sackPermitted, label: "handshake SA" });
    await this.c("A", { label: "handshake A" });
  }

  private async send(side: Side, flags: string, o: SegmentOptions): Promise<Uint8Array> {
    const me = this.h[side];
    const other = this.h[side === "c" ? "s" : "c"];
    const syn = flags.includes("S");
    if (syn && o.windowScale !== undefined) me.wscale = o.windowScale;
    const seq = u32(o.seq ?? me.nxt);
    const hasAck = flags.includes("A");
    const ack = hasAck ? u32(o.ack ?? other.nxt) : u32(o.ack ?? 0);
    const window = o.window ?? me.window;
    const len = typeof o.data === "number" ? o.data : (o.data?.length ?? 0);
    const end = u32(seq + len + (syn ? 1 : 0) + (flags.includes("F") ? 1 : 0));
    const options: InjectOptions = { label: o.label, expect: o.expect };
    const packet = await this.ctx.inject(
      side,
      {
        protocol: "tcp",
        srcPort: side === "c" ? this.clientPort : this.serverPort,
        dstPort: side === "c" ? this.serverPort : this.clientPort,
        tcp: { flags, seq, ack, window, windowScale: syn ? o.windowScale : undefined, sackPermitted: syn ? o.sackPermitted : undefined, sack: o.sack, mss: o.mss },
        payload: o.data,
      },
      options,
    );
    if (o.advance !== false) {
      if (after(end, me.nxt) || (syn && me.nxt === me.isn)) me.nxt = end;
      if (syn) me.isn = seq;
      this.model(side, end, ack, hasAck, syn, window);
    }
    return packet;
  }

  /** Linux's bookkeeping for an accepted segment (the part of tcp_in_window after the checks). */
  private model(side: Side, end: number, ack: number, hasAck: boolean, syn: boolean, window: number): void {
    const me = this.h[side];
    const other = this.h[side === "c" ? "s" : "c"];
    const win = syn ? window : window * 2 ** this.scale(side);
    if (syn && (me.tdMaxwin === 0 || after(end, me.tdEnd))) {
      me.tdEnd = me.tdMaxend = end;
      me.tdMaxwin = Math.max(win, 1);
    }
    if (me.tdMaxwin < win) me.tdMaxwin = win;
    if (after(end, me.tdEnd)) me.tdEnd = end;
    if (hasAck && (me.maxack === 0 || after(ack, me.maxack))) me.maxack = ack;
    const edge = u32((hasAck ? ack : other.tdEnd) + win);
    if (after(edge, other.tdMaxend)) other.tdMaxend = edge;
  }
}
