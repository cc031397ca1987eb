// P14: the flows a new policy cuts are counted (revokedByLastPolicy, the agent's flowsCut
// and meshfilter_policy_revoked_flows_total) only when they were live: a TCP connection
// that has already closed (time-wait) is removed with the others but is no cut connection.

import { describe, expect, it } from "vitest";
import type { PacketSpec } from "../../src/packet/builder.ts";
import { ALICE, DB, Harness, policyFor, WEB } from "./helpers.ts";

const tcp = (src: string, dst: string, srcPort: number, dstPort: number, flags: string, seq: number, ack: number): PacketSpec => ({
  src, dst, protocol: "tcp", srcPort, dstPort, tcp: { flags, seq, ack },
});

describe("P14: flows cut by a new policy", () => {
  it("P14: a connection that has closed (time-wait) is not counted as cut; a live one is", () => {
    const h = new Harness(policyFor(DB, { inbound: [{ id: "pg/mesh", protocol: "tcp", sources: ["100.64.0.0/16"], ports: [5432] }] }));
    // A connection from WEB, opened and closed (FIN both ways): time-wait.
    expect(h.inWhy(tcp(WEB, DB, 40000, 5432, "S", 100, 0))).toBe("accept:rule");
    expect(h.outWhy(tcp(DB, WEB, 5432, 40000, "SA", 5000, 101))).toBe("accept:established");
    expect(h.inWhy(tcp(WEB, DB, 40000, 5432, "A", 101, 5001))).toBe("accept:established");
    expect(h.inWhy(tcp(WEB, DB, 40000, 5432, "FA", 101, 5001))).toMatch(/^accept:/);
    expect(h.outWhy(tcp(DB, WEB, 5432, 40000, "FA", 5001, 102))).toMatch(/^accept:/);
    expect(h.inWhy(tcp(WEB, DB, 40000, 5432, "A", 102, 5002))).toMatch(/^accept:/);
    // A live connection from ALICE.
    expect(h.inWhy(tcp(ALICE, DB, 41000, 5432, "S", 700, 0))).toBe("accept:rule");
    expect(h.outWhy(tcp(DB, ALICE, 5432, 41000, "SA", 9000, 701))).toBe("accept:established");
    expect(h.inWhy(tcp(ALICE, DB, 41000, 5432, "A", 701, 9001))).toBe("accept:established");
    const states = [...h.engine.flows()].map((f) => f.state).sort();
    expect(states).toEqual(["established", "time-wait"]);

    // The new policy allows neither: both entries go, one connection was cut.
    const cut = h.engine.applyPolicy(policyFor(DB, { inbound: [] }));
    expect(cut).toBe(1);
    expect(h.engine.revokedByLastPolicy).toBe(1);
    expect([...h.engine.flows()]).toEqual([]);
  });
});
