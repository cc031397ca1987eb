// A TCP conversation through the engine for tests: alice (side 0) connects to db-1
// (side 1); the engine runs on db-1, so alice's packets are inbound and db-1's outbound.

import { expect } from "vitest";
import { CLASS_ACK, CLASS_SYN, CLASS_SYNACK } from "../../src/conntrack/tcp-states.ts";
import { TcpSim } from "../conntrack/tcp-sim.ts";
import type { SegmentOptions } from "../conntrack/tcp-sim.ts";
import { Harness } from "./helpers.ts";

/** A connection between alice (side 0, inbound) and db-1 (side 1, outbound). */
export class Conversation {
  readonly h: Harness;
  readonly sim: TcpSim;
  constructor(h = new Harness(), sim = new TcpSim()) {
    this.h = h;
    this.sim = sim;
  }
  send(side: 0 | 1, cls: number, options?: SegmentOptions): string {
    const packet = this.sim.segment(side, cls, options);
    return side === 0 ? this.h.inWhy(packet) : this.h.outWhy(packet);
  }
  get state(): string {
    return this.h.state;
  }
  establish(): this {
    expect(this.send(0, CLASS_SYN)).toBe("accept:rule");
    expect(this.state).toBe("syn-sent");
    expect(this.send(1, CLASS_SYNACK)).toBe("accept:established");
    expect(this.state).toBe("syn-received");
    expect(this.send(0, CLASS_ACK)).toBe("accept:established");
    expect(this.state).toBe("established");
    return this;
  }
}

