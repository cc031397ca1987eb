// The table under pressure: a SYN flood from 1,000,000 spoofed sources must not push
// out established connections, and the table never grows past its cap.

import { describe, expect, it } from "vitest";
import { CLASS_ACK, CLASS_SYN, CLASS_SYNACK } from "../../src/conntrack/tcp-states.ts";
import { VERDICT_ACCEPT } from "../../src/engine/engine.ts";
import { buildPacket } from "../../src/packet/builder.ts";
import { TcpSim } from "../conntrack/tcp-sim.ts";
import { DB, Harness, policyFor } from "./helpers.ts";

const ESTABLISHED = 1000;
const SPOOFED = 1_000_000;
const CAPACITY = 16_384;

describe("table full under a SYN flood", () => {
  it("1,000,000 spoofed SYNs: the 1,000 established flows keep passing, none lost; the cap holds", () => {
    const policy = policyFor(DB, { inbound: [{ id: "pg/mesh", protocol: "tcp", sources: ["100.64.0.0/10"], ports: [5432] }] });
    const h = new Harness(policy, { conntrack: { capacity: CAPACITY } });
    const engine = h.engine;

    // 1,000 honest connections, each with a pure ACK per direction to replay.
    const fromClient: Uint8Array[] = [];
    const fromServer: Uint8Array[] = [];
    for (let i = 0; i < ESTABLISHED; i++) {
      const sim = new TcpSim({ ip: `100.65.${i >> 8}.${i & 255}`, port: 30000 + i }, { ip: DB, port: 5432 });
      expect(h.in(sim.segment(0, CLASS_SYN))).toBe(VERDICT_ACCEPT);
      expect(h.out(sim.segment(1, CLASS_SYNACK))).toBe(VERDICT_ACCEPT);
      expect(h.in(sim.segment(0, CLASS_ACK))).toBe(VERDICT_ACCEPT);
      fromClient.push(sim.segment(0, CLASS_ACK));
      fromServer.push(sim.segment(1, CLASS_ACK));
    }

    // One SYN, rewritten in place: source 100.64.x.y / 100.66.x.y and source port vary.
    const syn = buildPacket({ src: "100.64.0.1", dst: DB, protocol: "tcp", srcPort: 1, dstPort: 5432, tcp: { flags: "S", seq: 1 } });
    let lost = 0;
    let floodAccepted = 0;
    for (let n = 0; n < SPOOFED; n++) {
      syn[12] = 100;
      syn[13] = n & 1 ? 64 : 66;
      syn[14] = (n >>> 8) & 255;
      syn[15] = n & 255;
      syn[20] = (n >>> 16) & 255;
      syn[21] = (n >>> 24) + 1;
      floodAccepted += engine.inbound(syn, 0, syn.length);
      if (n % 10_000 === 9_999) {
        h.advance(10); // the flood runs at 1 Mpps of clock time
        for (let i = 0; i < ESTABLISHED; i++) {
          if (engine.inbound(fromClient[i], 0, fromClient[i].length) !== VERDICT_ACCEPT) lost++;
          if (engine.outbound(fromServer[i], 0, fromServer[i].length) !== VERDICT_ACCEPT) lost++;
        }
        expect(engine.stats().flows).toBeLessThanOrEqual(CAPACITY);
      }
    }
    expect(lost).toBe(0);
    expect(floodAccepted).toBeGreaterThan(0);
    const established = [...engine.flows()].filter((f) => f.state === "established");
    expect(established).toHaveLength(ESTABLISHED);
    expect(engine.stats().flows).toBe(CAPACITY);
    expect(engine.stats().adaptiveTimeoutScale).toBeLessThan(1);
  }, 120_000);
});
