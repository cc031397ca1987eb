// The hot-path lookups must not allocate. Proven by the absence of young-generation
// garbage collections and a flat new space over many lookups (never by timing), with
// test/engine/allocation-probe.ts, which says why that and not the total heap: code and
// feedback that V8 installs mid-loop grow the old generation now and then (seen: 168 KB
// in about one run in ten when this test read the total heap), per-call garbage never does.

import { describe, expect, it } from "vitest";
import { FragmentTable } from "../../src/filter/fragments.ts";
import { RuleTable } from "../../src/filter/rule-table.ts";
import { PacketRecord } from "../../src/packet/record.ts";
import type { CompiledRule } from "../../src/filter/compiled-policy.ts";
import { probeAllocation } from "../engine/allocation-probe.ts";
import { packet, policy, route, rule, SELF, SELF6 } from "./fixtures.ts";

/** Young collections and new-space growth while running `fn` `calls` times, after a
 *  warm-up long enough for V8 to reach its optimising tier. */
function allocationOf(fn: () => void, calls: number): { heapGrowth: number; collections: number } {
  for (let i = 0; i < 4 * calls; i++) fn();
  const probe = probeAllocation(() => {
    for (let i = 0; i < calls; i++) fn();
  }, 64 * 1024);
  return { heapGrowth: probe.newSpaceGrowth, collections: probe.youngCollections };
}

function manyRules(): CompiledRule[] {
  const rules: CompiledRule[] = [];
  for (let i = 0; i < 2000; i++) {
    rules.push(
      rule(`p${i}/r`, {
        action: i % 7 === 0 ? "drop" : "accept",
        protocol: i % 3 === 0 ? "udp" : "tcp",
        ports: [1000 + (i % 50)],
        portRanges: i % 11 === 0 ? [{ start: 2000 + i, end: 2100 + i }] : [],
        sources: [`100.64.${(i >> 8) & 255}.${i & 255}/32`, `10.${i & 255}.0.0/16`, `fd00::${i.toString(16)}/128`],
      }),
    );
  }
  return rules;
}

describe("no allocation per lookup", () => {
  it("RuleTable match functions, local and routed checks", () => {
    const table = RuleTable.build(
      policy({
        inbound: manyRules(),
        routes: [route("r/office", "office-lan", { sources: ["100.64.0.0/16"] })],
      }),
    );
    const records = [
      packet("tcp", "100.64.0.7", SELF, 1007),
      packet("udp", "100.64.0.9", SELF, 1009),
      packet("tcp", "10.7.3.3", SELF, 1040),
      packet("tcp", "100.64.0.22", SELF, 2050),
      packet("icmp", "100.64.0.7", SELF),
      packet("tcp", "fd00::7", SELF6, 1007),
      packet("tcp", "100.64.0.7", "198.18.1.5", 445),
      packet("tcp", "203.0.113.1", SELF, 9),
    ];
    let sink = 0;
    let n = 0;
    const { heapGrowth, collections } = allocationOf(() => {
      const rec = records[n++ & 7];
      sink += table.matchInbound(rec) + table.matchRoute(rec) + table.matchOutbound(rec);
      if (table.isLocalDestination(rec) || table.isRoutedDestination(rec) || table.isRoutedSource(rec)) sink++;
      table.countHit(0, 60);
    }, 300_000);
    expect(sink).not.toBe(0);
    expect(collections).toBe(0);
    expect(heapGrowth).toBeLessThan(64 * 1024);
  });

  it("FragmentTable rememberFirst and lookup (time through clock[0])", () => {
    const table = new FragmentTable(1024, 30_000);
    const first = new PacketRecord();
    const later = new PacketRecord();
    packet("udp", "100.64.0.10", SELF, 53, first);
    packet("udp", "100.64.0.10", SELF, 53, later);
    first.isFragment = later.isFragment = true;
    first.moreFragments = true;
    later.moreFragments = false; // the last fragment: the datagram completes and its slot is freed
    first.ipTotalLength = later.ipTotalLength = 60;
    first.ipHeaderLength = later.ipHeaderLength = 20;
    later.fragmentOffset = 40;
    let id = 0;
    let sink = 0;
    const { heapGrowth, collections } = allocationOf(() => {
      first.ipId = later.ipId = id++ & 0xffff;
      table.clock[0] = 1.7e12 + id * 0.25; // epoch ms, fractional: never a small integer
      table.rememberFirst(first, id & 1); // accepted (a slot) and dropped (a negative answer) in turn
      sink += table.lookup(later);
    }, 300_000);
    expect(sink).toBe((5 * 300_000) / 2); // every trailing fragment got the first one's verdict
    expect(collections).toBe(0);
    expect(heapGrowth).toBeLessThan(64 * 1024);
  });
});
