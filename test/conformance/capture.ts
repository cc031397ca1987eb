// The firewall's capture (capture.py in fw) and what Linux decided: a packet that
// arrived at fw was accepted by Linux iff its forwarded copy left the other
// interface. Copies are matched by IP id, addresses, protocol and the bytes after
// the IP header (forwarding changes the TTL and IP checksum only; nothing is NATed).
// Injected packets carry distinct IP ids, so a dropped packet and a later identical
// one that passes are told apart; identical kernel packets are matched first in,
// first out.

import type { ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { FW_CLIENT_IF, FW_SERVER_IF, PYTHON, type Topology } from "./topology.ts";
import { clientPort, viewPacket, type PacketView } from "./packet-view.ts";

const CAPTURE = resolve(import.meta.dirname, "capture.py");
const PACKET_HOST = 0;
const PACKET_OUTGOING = 4;

export interface Arrival {
  /** Position among all arrivals at fw, in capture order. */
  index: number;
  /** Capture time, ms since the epoch. */
  timeMs: number;
  /** Interface it arrived on. */
  iface: string;
  bytes: Uint8Array;
  view: PacketView;
  /** The client-side port (or echo id) naming its scenario; -1 for none. */
  port: number;
  /** Linux's verdict: forwarded (true) or dropped; set by linuxVerdicts(). */
  forwarded: boolean;
}

function l4Key(b: Uint8Array): string {
  const ihl = (b[0] & 15) * 4;
  const id = Buffer.from(b.subarray(4, 6)).toString("hex");
  return id + Buffer.from(b.subarray(12, 20)).toString("hex") + b[9].toString(16) + Buffer.from(b.subarray(ihl)).toString("hex");
}

export class Capture {
  readonly arrivals: Arrival[] = [];
  private child!: ChildProcess;
  private readonly departures: string[] = [];
  /** Arrivals per exact packet (all bytes), to wait for an injected packet. */
  private readonly seen = new Map<string, number>();
  private readonly waiters: (() => void)[] = [];
  private stats: [number, number] | null = null;
  private stderr = "";

  async start(topology: Topology): Promise<void> {
    this.child = topology.spawn("fw", [PYTHON, "-u", CAPTURE]);
    this.child.stderr!.on("data", (d: Buffer) => (this.stderr += d.toString()));
    let ready!: () => void;
    const started = new Promise<void>((r) => (ready = r));
    createInterface({ input: this.child.stdout! }).on("line", (line) => {
      if (line === "ready") return ready();
      if (line.startsWith("stats ")) {
        const [, packets, drops] = line.split(" ");
        this.stats = [Number(packets), Number(drops)];
      } else {
        this.add(line);
      }
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.once("exit", () => {
      ready();
      for (const w of this.waiters.splice(0)) w();
    });
    await started;
    if (this.child.exitCode !== null) throw new Error(`capture.py exited: ${this.stderr}`);
  }

  private add(line: string): void {
    const [time, iface, type, hex] = line.split(" ");
    const bytes = new Uint8Array(Buffer.from(hex, "hex"));
    if (Number(type) === PACKET_OUTGOING) {
      if (iface === FW_CLIENT_IF || iface === FW_SERVER_IF) this.departures.push(`${this.arrivals.length} ${iface} ${l4Key(bytes)}`);
      return;
    }
    if (Number(type) !== PACKET_HOST) return;
    const view = viewPacket(bytes);
    if (!view) return;
    this.arrivals.push({ index: this.arrivals.length, timeMs: Number(time) * 1000, iface, bytes, view, port: clientPort(view), forwarded: false });
    this.seen.set(hex, (this.seen.get(hex) ?? 0) + 1);
  }

  /** How many copies of exactly these bytes arrived at fw so far. */
  arrived(packet: Uint8Array): number {
    return this.seen.get(Buffer.from(packet).toString("hex")) ?? 0;
  }

  /** Resolves once `test()` holds (re-checked on every captured line); rejects after `timeoutMs`. */
  until(test: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`capture: ${what} not seen within ${timeoutMs} ms`)), timeoutMs);
      const check = () => {
        if (test()) {
          clearTimeout(timer);
          resolvePromise();
        } else if (this.child.exitCode !== null) {
          clearTimeout(timer);
          reject(new Error(`capture.py exited: ${this.stderr}`));
        } else {
          this.waiters.push(check);
        }
      };
      this.waiters.push(check);
    });
  }

  /** Resolves when no packet of `port`'s scenario arrived for `quietMs` (the endpoints' kernels are done answering). */
  async quiet(port: (p: number) => boolean, quietMs = 40): Promise<void> {
    for (;;) {
      const before = this.arrivals.filter((a) => port(a.port)).length;
      await new Promise((r) => setTimeout(r, quietMs));
      if (this.arrivals.filter((a) => port(a.port)).length === before) return;
    }
  }

  /** Stops the capture; returns the socket's [packets, drops] counters. */
  async stop(): Promise<[number, number]> {
    this.child.stdin!.end();
    await this.until(() => this.stats !== null, "capture statistics", 5000);
    return this.stats!;
  }

  /**
   * Sets `forwarded` on every arrival: an arrival on one interface is matched with
   * the first later departure of the same packet on the other one.
   */
  linuxVerdicts(): void {
    const pending = new Map<string, Arrival[]>();
    let next = 0;
    const admitUpTo = (n: number) => {
      for (; next < n && next < this.arrivals.length; next++) {
        const a = this.arrivals[next];
        const out = a.iface === FW_CLIENT_IF ? FW_SERVER_IF : a.iface === FW_SERVER_IF ? FW_CLIENT_IF : "";
        if (!out) continue;
        const key = `${out} ${l4Key(a.bytes)}`;
        const list = pending.get(key);
        if (list) list.push(a);
        else pending.set(key, [a]);
      }
    };
    for (const d of this.departures) {
      const space = d.indexOf(" ");
      admitUpTo(Number(d.slice(0, space))); // only arrivals captured before this departure
      const list = pending.get(d.slice(space + 1));
      const a = list?.shift();
      if (a) a.forwarded = true;
    }
  }
}
