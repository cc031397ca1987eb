// An ICMP error quoting a TCP segment relates to the flow only when the quoted sequence
// number lies in the window of the direction that sent it (tcp-window.ts
// quotedSeqInWindow, pf's check): sender.td_end - max(receiver.td_maxwin, 66000) <=
// seq <= sender.td_maxend. Each bound is met exactly and missed by one. db-1 connects to
// web-1 (db-1's own flow, outbound); the errors come back to db-1 from a router.

import { describe, expect, it } from "vitest";
import { CLASS_ACK, CLASS_SYN, CLASS_SYNACK } from "../../src/conntrack/tcp-states.ts";
import type { PacketSpec } from "../../src/packet/builder.ts";
import { TcpSim } from "../conntrack/tcp-sim.ts";
import { DB, Harness, WEB } from "./helpers.ts";

/** Fragmentation needed, from a router on the path, quoting `quote` (a segment db-1 sent). */
const fragNeeded = (quote: Uint8Array): PacketSpec => ({ src: "100.64.0.99", dst: DB, protocol: "icmp", icmp: { type: 3, code: 4, rest: 1280, quote } });

/** db-1's connection to web-1, established; `scale` offered by both SYNs, web-1's last window `webWindow`. */
function connection(scale?: number, webWindow = 65535): { h: Harness; sim: TcpSim } {
  const h = new Harness();
  // Another connection first, so that this one's record is not at word 0 of the table.
  expect(h.outWhy(new TcpSim({ ip: DB, port: 41001 }, { ip: WEB, port: 443 }).segment(0, CLASS_SYN))).toBe("accept:outbound");
  const sim = new TcpSim({ ip: DB, port: 41000 }, { ip: WEB, port: 443 });
  expect(h.outWhy(sim.segment(0, CLASS_SYN, { windowScale: scale }))).toBe("accept:outbound");
  expect(h.inWhy(sim.segment(1, CLASS_SYNACK, { windowScale: scale }))).toBe("accept:established");
  expect(h.outWhy(sim.segment(0, CLASS_ACK))).toBe("accept:established");
  expect(h.inWhy(sim.segment(1, CLASS_ACK, { window: webWindow }))).toBe("accept:established");
  return { h, sim };
}

/** The verdict on an error quoting db-1's segment at `seq`. */
const quoting = (c: { h: Harness; sim: TcpSim }, seq: number): string => c.h.inWhy(fragNeeded(c.sim.segment(0, CLASS_ACK, { seq: seq >>> 0, payload: 1400 })));

/** The verdict on an error db-1 sends web-1 about web-1's segment at `seq` (port unreachable). */
const quotingWeb = (h: Harness, seq: number): string =>
  h.outWhy({ src: DB, dst: WEB, protocol: "icmp", icmp: { type: 3, code: 3, quote: new TcpSim({ ip: DB, port: 41000 }, { ip: WEB, port: 443 }).segment(1, CLASS_ACK, { seq: seq >>> 0 }) } });

describe("ICMP errors quoting TCP: the quoted sequence number's window", () => {
  it("above: relates up to db-1's td_maxend (web-1's ack + window), not one past", () => {
    const c = connection();
    const maxEnd = c.sim.next[0] + 65535;
    expect(quoting(c, maxEnd)).toBe("accept:related");
    expect(quoting(c, maxEnd + 1)).toBe("drop:icmp-unrelated");
  });

  it("below: relates back to db-1's td_end - 66000 while web-1's max window is smaller, not one before", () => {
    const c = connection();
    const end = c.sim.next[0];
    expect(quoting(c, end - 66000)).toBe("accept:related");
    expect(quoting(c, end - 66000 - 1)).toBe("drop:icmp-unrelated");
  });

  it("below: relates back to db-1's td_end - web-1's max window once that exceeds 66000 (scaled), not one before", () => {
    const c = connection(2, 65535); // web-1's window 65535 << 2
    const end = c.sim.next[0];
    const maxWin = 65535 * 4;
    expect(quoting(c, end - maxWin)).toBe("accept:related");
    expect(quoting(c, end - maxWin - 1)).toBe("drop:icmp-unrelated");
  });

  it("below, for web-1's segments: back to web-1's td_end - db-1's max window (scaled, above 66000), not one before", () => {
    const c = connection(2); // db-1's window 65535 << 2
    const end = c.sim.next[1];
    const maxWin = 65535 * 4;
    expect(quotingWeb(c.h, end - maxWin)).toBe("accept:related");
    expect(quotingWeb(c.h, end - maxWin - 1)).toBe("drop:icmp-unrelated");
  });

  it("a quote of a segment from a side that has sent nothing does not relate, even at sequence number 0, where that side's unset words would admit it", () => {
    const h = new Harness();
    const sim = new TcpSim({ ip: DB, port: 41000 }, { ip: WEB, port: 443 });
    expect(h.outWhy(sim.segment(0, CLASS_SYN))).toBe("accept:outbound");
    expect(quotingWeb(h, 0)).toBe("drop:icmp-unrelated");
    expect(quotingWeb(h, sim.isn[1])).toBe("drop:icmp-unrelated");
    expect(h.inWhy({ src: WEB, dst: DB, protocol: "icmp", icmp: { type: 3, code: 3, quote: sim.segment(0, CLASS_ACK, { seq: sim.isn[0] }) } })).toBe("accept:related");
  });
});
