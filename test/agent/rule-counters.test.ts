// Per-rule totals across policy reloads: kept by policy id, rule id and direction.

import { describe, expect, it } from "vitest";
import { RuleCounters } from "../../src/agent/rule-counters.ts";
import { Engine } from "../../src/engine/engine.ts";
import { buildPacket } from "../../src/packet/builder.ts";
import { ALICE, DB, policyFor } from "../engine/helpers.ts";

const pg = { id: "pg/alice", protocol: "tcp" as const, sources: [`${ALICE}/32`], ports: [5432] };
const dns = { id: "dns/udp", protocol: "udp" as const, sources: ["100.64.0.0/16"], ports: [53] };

function open(engine: Engine, port: number, protocol: "tcp" | "udp", srcPort: number) {
  const p = buildPacket({ src: ALICE, dst: DB, protocol, srcPort, dstPort: port, tcp: protocol === "tcp" ? { flags: "S" } : undefined });
  engine.inbound(p, 0, p.length);
}

describe("rule counters", () => {
  it("keep each remaining rule's totals across reloads, even when its index moves", () => {
    const counters = new RuleCounters();
    const engine = new Engine(policyFor(DB, { inbound: [pg, dns] }));
    for (let i = 0; i < 3; i++) open(engine, 5432, "tcp", 40000 + i);
    open(engine, 53, "udp", 5000);
    const reload = (inbound: (typeof pg | typeof dns)[]) => {
      const old = engine.rules;
      engine.applyPolicy(policyFor(DB, { inbound }));
      counters.carry(old);
    };
    reload([dns, pg]); // order swapped: pg's index changes
    open(engine, 5432, "tcp", 41000);
    const totals = counters.totals(engine.rules);
    expect(totals.find((t) => t.id === "pg/alice")).toMatchObject({ policyId: "pg", ruleId: "pg/alice", direction: "inbound", hits: 4 });
    expect(totals.find((t) => t.id === "dns/udp")).toMatchObject({ hits: 1 });
    reload([dns]); // pg removed: not listed, its totals kept for when it comes back
    expect(counters.totals(engine.rules).map((t) => t.id)).toEqual(["dns/udp"]);
    reload([dns, pg]);
    expect(counters.totals(engine.rules).find((t) => t.id === "pg/alice")!.hits).toBe(4);
  });
});
