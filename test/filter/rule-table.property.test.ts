// The key correctness test: the indexed lookup must give exactly the answer of a
// naive linear scan over the rules, for random rule sets and random packets.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cidrContains, parseCidr } from "../../src/packet/address.ts";
import { PacketRecord, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP } from "../../src/packet/record.ts";
import { RuleTable, type RuleKind } from "../../src/filter/rule-table.ts";
import type { CompiledPeerPolicy, CompiledRule } from "../../src/filter/compiled-policy.ts";
import { packet, policy, route, rule } from "./fixtures.ts";

// A small address universe so that random prefixes and addresses often meet.
const v4Address = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 7 })).map(([a, b]) => `10.0.${a}.${b}`);
const v6Address = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 7 })).map(([a, b]) => `fd00:0:0:${a}::${b}`);
const v4Prefix = fc
  .tuple(v4Address, fc.constantFrom(0, 8, 16, 22, 24, 29, 30, 31, 32))
  .map(([a, l]) => { const p = parseCidr(`${a}/${l}`); return `${p.words[0] >>> 24}.${(p.words[0] >>> 16) & 255}.${(p.words[0] >>> 8) & 255}.${p.words[0] & 255}/${l}`; });
const v6Prefix = fc.tuple(v6Address, fc.constantFrom(0, 48, 62, 64, 125, 127, 128)).map(([a, l]) => `${a}/${l}`);
const prefix = fc.oneof(v4Prefix, v4Prefix, v6Prefix);
const port = fc.integer({ min: 15, max: 35 });

const ruleFields = fc.record({
  action: fc.constantFrom("accept" as const, "drop" as const),
  protocol: fc.constantFrom("all" as const, "tcp" as const, "udp" as const, "icmp" as const),
  sources: fc.array(prefix, { minLength: 0, maxLength: 4 }),
  destinations: fc.array(prefix, { minLength: 0, maxLength: 3 }),
  ports: fc.oneof(fc.constant([] as number[]), fc.array(port, { maxLength: 3 })),
  portRanges: fc.oneof(
    fc.constant([] as { start: number; end: number }[]),
    fc.array(fc.tuple(port, port).map(([a, b]) => ({ start: Math.min(a, b), end: Math.max(a, b) })), { maxLength: 2 }),
  ),
});

const packetFields = fc.record({
  protocol: fc.constantFrom<"tcp" | "udp" | "icmp" | number>("tcp", "udp", "icmp", 47),
  v6: fc.boolean(),
  src: fc.tuple(v4Address, v6Address),
  dst: fc.tuple(v4Address, v6Address),
  port,
});
type PacketFields = typeof packetFields extends fc.Arbitrary<infer T> ? T : never;

/** Fills `rec` with the generated packet, from its IPv4 or its IPv6 addresses. */
function packetFrom(x: PacketFields, rec: PacketRecord): PacketRecord {
  return packet(x.protocol, x.v6 ? x.src[1] : x.src[0], x.v6 ? x.dst[1] : x.dst[0], x.port, rec);
}

function naiveMatches(r: CompiledRule, rec: PacketRecord): boolean {
  const p = rec.protocol;
  if (r.protocol === "tcp" && p !== PROTO_TCP) return false;
  if (r.protocol === "udp" && p !== PROTO_UDP) return false;
  if (r.protocol === "icmp" && p !== PROTO_ICMP && p !== PROTO_ICMPV6) return false;
  if ((r.protocol === "tcp" || r.protocol === "udp") && (r.ports.length > 0 || r.portRanges.length > 0)) {
    const inPorts = r.ports.includes(rec.dstPort);
    const inRanges = r.portRanges.some((x) => x.start <= rec.dstPort && rec.dstPort <= x.end);
    if (!inPorts && !inRanges) return false;
  }
  const src = [rec.src0, rec.src1, rec.src2, rec.src3];
  const dst = [rec.dst0, rec.dst1, rec.dst2, rec.dst3];
  return (
    r.sources.some((s) => cidrContains(parseCidr(s), rec.ipVersion, src)) &&
    r.destinations.some((d) => cidrContains(parseCidr(d), rec.ipVersion, dst))
  );
}

/** P9 by the book: lowest matching drop, else lowest matching accept, else -1. */
function naiveDecide(rules: CompiledRule[], first: number, rec: PacketRecord): number {
  let accept = -1;
  for (let i = 0; i < rules.length; i++) {
    if (!naiveMatches(rules[i], rec)) continue;
    if (rules[i].action === "drop") return first + i;
    if (accept < 0) accept = first + i;
  }
  return accept;
}

function naive(p: CompiledPeerPolicy, kind: RuleKind, rec: PacketRecord): number {
  if (kind === "inbound") return naiveDecide(p.inbound, 0, rec);
  if (kind === "outbound") return naiveDecide(p.outbound, p.inbound.length, rec);
  return naiveDecide(p.routes, p.inbound.length + p.outbound.length, rec);
}

describe("RuleTable against a linear scan", () => {
  it("P9/P12: indexed lookup equals the naive scan for random rules and packets", () => {
    fc.assert(
      fc.property(
        fc.array(ruleFields, { maxLength: 25 }),
        fc.array(ruleFields, { maxLength: 10 }),
        fc.array(ruleFields, { maxLength: 10 }),
        fc.array(packetFields, { minLength: 1, maxLength: 40 }),
        (inbound, outbound, routes, packets) => {
          const p = policy({
            inbound: inbound.map((f, i) => rule(`in/${i}`, f)),
            outbound: outbound.map((f, i) => rule(`out/${i}`, f)),
            routes: routes.map((f, i) => route(`rt/${i}`, `res-${i}`, f)),
          });
          const table = RuleTable.build(p);
          const rec = new PacketRecord();
          for (const x of packets) {
            packetFrom(x, rec);
            expect(table.matchInbound(rec)).toBe(naive(p, "inbound", rec));
            expect(table.matchOutbound(rec)).toBe(naive(p, "outbound", rec));
            expect(table.matchRoute(rec)).toBe(naive(p, "route", rec));
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it("P9: large random rule sets (tables grow, many tuples) agree with the naive scan", () => {
    fc.assert(
      fc.property(
        fc.array(ruleFields, { minLength: 500, maxLength: 1500 }),
        fc.array(packetFields, { minLength: 300, maxLength: 300 }),
        (inbound, packets) => {
          const p = policy({ inbound: inbound.map((f, i) => rule(`in/${i}`, f)) });
          const table = RuleTable.build(p);
          const rec = new PacketRecord();
          for (const x of packets) {
            packetFrom(x, rec);
            expect(table.matchInbound(rec)).toBe(naive(p, "inbound", rec));
          }
        },
      ),
      { numRuns: 5 },
    );
  });

  it("P6: domain resources filled by setResourceAddresses agree with the naive scan", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(ruleFields, fc.boolean(), fc.integer({ min: 0, max: 2 })), { minLength: 1, maxLength: 12 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.array(prefix, { maxLength: 3 })), { maxLength: 4 }),
        fc.array(packetFields, { minLength: 1, maxLength: 30 }),
        (routeSpecs, updates, packets) => {
          const routes = routeSpecs.map(([f, isDomain, resource], i) =>
            isDomain
              ? route(`rt/${i}`, `dom-${resource}`, { ...f, destinations: [], domain: `d${resource}.example` })
              : route(`rt/${i}`, `net-${i}`, f),
          );
          const p = policy({ routes });
          const table = RuleTable.build(p);
          for (const [resource, cidrs] of updates) {
            const id = `dom-${resource}`;
            if (!routes.some((r) => r.resourceId === id)) continue;
            table.setResourceAddresses(id, cidrs);
            for (const r of routes) if (r.resourceId === id) r.destinations = cidrs;
          }
          const rec = new PacketRecord();
          for (const x of packets) {
            packetFrom(x, rec);
            expect(table.matchRoute(rec)).toBe(naive(p, "route", rec));
            const routed = routes.some((r) =>
              r.destinations.some((d) => cidrContains(parseCidr(d), rec.ipVersion, [rec.dst0, rec.dst1, rec.dst2, rec.dst3])),
            );
            expect(table.isRoutedDestination(rec)).toBe(routed);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
