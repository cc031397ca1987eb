// What a scenario is and what it may do. A scenario owns a block of client-side ports
// (PORTS_PER_SCENARIO from its first port): every packet whose client-side port (or
// ICMP echo id, or the quote's, for an ICMP error) is in the block belongs to it, so
// one topology, one capture and one meshfilter replay serve all scenarios. Packets a
// scenario injects carry a label (allow-list and expectation entries name packets by
// it); packets the endpoint kernels send on their own are labelled "kernel <flags>".

import { buildPacket, type PacketSpec } from "../../src/packet/builder.ts";
import type { Capture } from "./capture.ts";
import type { Endpoint } from "./endpoint.ts";
import type { PacketView } from "./packet-view.ts";
import { CLIENT, PORTS_PER_SCENARIO, SERVER } from "./policy.ts";

export type Category =
  | "handshake"
  | "time-wait"
  | "window"
  | "window-scale"
  | "holes"
  | "blind"
  | "teardown"
  | "mid-stream"
  | "udp"
  | "icmp";

export type Verdict = "accept" | "drop";
export type Side = "c" | "s";

export interface Scenario {
  name: string;
  category: Category;
  /** "scripted": every packet is crafted, the endpoint kernels ignore the ports;
   *  "kernel": real sockets in cli/srv talk, and crafted packets join them. */
  kind: "scripted" | "kernel";
  run(ctx: ScenarioContext): Promise<void>;
}

export interface Injected {
  hex: string;
  label: string;
  /** What Linux must decide for the scenario to probe what it claims (checked, not compared). */
  expect?: Verdict;
}

export interface InjectOptions {
  label?: string;
  expect?: Verdict;
}

/** IP ids of injected packets: distinct, so that capture.ts can match each forwarded copy to its packet. */
let nextIpId = 0;

export class ScenarioContext {
  readonly injected: Injected[] = [];
  private steps = 0;

  constructor(
    readonly scenario: Scenario,
    /** First client-side port of the block; the scenario may use port .. port + PORTS_PER_SCENARIO - 1. */
    readonly port: number,
    readonly client: Endpoint,
    readonly server: Endpoint,
    readonly capture: Capture,
  ) {}

  owns(port: number): boolean {
    return port >= this.port && port < this.port + PORTS_PER_SCENARIO;
  }

  /** Sends a crafted packet from the client's (c) or the server's (s) namespace and waits until it reached fw. */
  async inject(side: Side, spec: Omit<PacketSpec, "src" | "dst"> & { src?: string; dst?: string }, options: InjectOptions = {}): Promise<Uint8Array> {
    nextIpId = (nextIpId % 0xffff) + 1;
    const packet = buildPacket({ src: side === "c" ? CLIENT : SERVER, dst: side === "c" ? SERVER : CLIENT, ipId: nextIpId, ...spec });
    return this.injectBytes(side, packet, options);
  }

  async injectBytes(side: Side, packet: Uint8Array, options: InjectOptions = {}): Promise<Uint8Array> {
    this.steps++;
    const hex = Buffer.from(packet).toString("hex");
    const before = this.capture.arrived(packet);
    this.injected.push({ hex, label: options.label ?? `step ${this.steps}`, expect: options.expect });
    await (side === "c" ? this.client : this.server).sendRaw(packet);
    await this.capture.until(() => this.capture.arrived(packet) > before, `${this.scenario.name}: ${options.label ?? `step ${this.steps}`}`);
    return packet;
  }

  /** Waits until the endpoint kernels stopped sending packets of this scenario. */
  settle(quietMs = 40): Promise<void> {
    return this.capture.quiet((p) => this.owns(p), quietMs);
  }

  /** The last TCP segment of flow `port` that arrived at fw from side `from` (for injecting next to a live connection). */
  last(from: Side, port = this.port): PacketView {
    const src = from === "c" ? CLIENT : SERVER;
    for (let i = this.capture.arrivals.length - 1; i >= 0; i--) {
      const v = this.capture.arrivals[i].view;
      if (v.protocol === 6 && v.src === src && (from === "c" ? v.srcPort : v.dstPort) === port) return v;
    }
    throw new Error(`${this.scenario.name}: no segment from ${from} on port ${port} yet`);
  }
}
