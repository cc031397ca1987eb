import { describe, expect, it } from "vitest";
import { FilterError } from "../../src/filter/filter-error.ts";
import { ACTION_ACCEPT, ACTION_DROP, RuleTable } from "../../src/filter/rule-table.ts";
import { packet, policy, route, rule, SELF, SELF6 } from "./fixtures.ts";

describe("RuleTable matching", () => {
  it("P1: no rule matches -> -1 (deny by default)", () => {
    const table = RuleTable.build(policy());
    expect(table.matchInbound(packet("tcp", "100.64.0.10", SELF, 22))).toBe(-1);
    expect(table.ruleCount).toBe(0);
  });

  it("P9: a matching drop rule beats any accept rule, whatever the order", () => {
    const table = RuleTable.build(
      policy({
        inbound: [
          rule("allow/all", { action: "accept", protocol: "all" }),
          rule("deny/ssh", { action: "drop", protocol: "tcp", ports: [22], sources: ["100.64.0.10/32"] }),
        ],
      }),
    );
    expect(table.matchInbound(packet("tcp", "100.64.0.10", SELF, 22))).toBe(1);
    expect(table.ruleAction(1)).toBe(ACTION_DROP);
    expect(table.matchInbound(packet("tcp", "100.64.0.11", SELF, 22))).toBe(0);
    expect(table.ruleAction(0)).toBe(ACTION_ACCEPT);
    expect(table.matchInbound(packet("tcp", "100.64.0.10", SELF, 23))).toBe(0);
  });

  it("P9: policies are a union: any matching accept allows", () => {
    const table = RuleTable.build(
      policy({
        inbound: [
          rule("a/pg", { protocol: "tcp", ports: [5432], sources: ["100.64.0.10/32"] }),
          rule("b/web", { protocol: "tcp", ports: [443], sources: ["100.64.0.30/32"] }),
        ],
      }),
    );
    expect(table.matchInbound(packet("tcp", "100.64.0.10", SELF, 5432))).toBe(0);
    expect(table.matchInbound(packet("tcp", "100.64.0.30", SELF, 443))).toBe(1);
    expect(table.matchInbound(packet("tcp", "100.64.0.30", SELF, 5432))).toBe(-1);
    expect(table.matchInbound(packet("tcp", "100.64.0.10", SELF, 443))).toBe(-1);
  });

  it("P12: a port rule never matches ICMP; an icmp rule ignores ports", () => {
    const table = RuleTable.build(
      policy({
        inbound: [
          rule("tcp/all-ports", { protocol: "tcp", portRanges: [{ start: 0, end: 65535 }] }),
          rule("udp/any", { protocol: "udp" }),
        ],
      }),
    );
    expect(table.matchInbound(packet("icmp", "100.64.0.10", SELF))).toBe(-1);
    expect(table.matchInbound(packet("icmp", "fd00::10", SELF6))).toBe(-1);
    const icmp = RuleTable.build(policy({ inbound: [rule("icmp/r", { protocol: "icmp" })] }));
    expect(icmp.matchInbound(packet("icmp", "100.64.0.10", SELF))).toBe(0);
    expect(icmp.matchInbound(packet("icmp", "fd00::10", SELF6))).toBe(0);
    expect(icmp.matchInbound(packet("tcp", "100.64.0.10", SELF, 80))).toBe(-1);
  });

  it("protocol all matches tcp, udp, icmp, icmpv6 and other protocols (GRE)", () => {
    const table = RuleTable.build(policy({ inbound: [rule("all/r", { protocol: "all" })] }));
    expect(table.matchInbound(packet("tcp", "100.64.0.10", SELF, 1))).toBe(0);
    expect(table.matchInbound(packet("udp", "100.64.0.10", SELF, 53))).toBe(0);
    expect(table.matchInbound(packet("icmp", "100.64.0.10", SELF))).toBe(0);
    expect(table.matchInbound(packet(47, "100.64.0.10", SELF))).toBe(0);
    expect(table.matchInbound(packet("icmp", "fd00::10", SELF6))).toBe(0);
  });

  it("P12: single ports and ranges of one rule both match; tcp/udp rules without ports match any port", () => {
    const table = RuleTable.build(
      policy({
        inbound: [
          rule("p/mixed", { protocol: "tcp", ports: [22, 443], portRanges: [{ start: 8000, end: 8099 }] }),
          rule("p/udp-any", { protocol: "udp", sources: ["100.64.0.30/32"] }),
        ],
      }),
    );
    for (const port of [22, 443, 8000, 8050, 8099]) {
      expect(table.matchInbound(packet("tcp", "100.64.0.10", SELF, port))).toBe(0);
    }
    for (const port of [21, 444, 7999, 8100]) {
      expect(table.matchInbound(packet("tcp", "100.64.0.10", SELF, port))).toBe(-1);
    }
    expect(table.matchInbound(packet("udp", "100.64.0.10", SELF, 22))).toBe(-1);
    for (const port of [0, 53, 65535]) expect(table.matchInbound(packet("udp", "100.64.0.30", SELF, port))).toBe(1);
  });

  it("overlapping port ranges all apply", () => {
    const table = RuleTable.build(
      policy({
        inbound: [
          rule("r/wide", { protocol: "tcp", portRanges: [{ start: 1000, end: 2000 }], sources: ["100.64.0.10/32"] }),
          rule("r/narrow", { protocol: "tcp", portRanges: [{ start: 1500, end: 1600 }], sources: ["100.64.0.30/32"] }),
          rule("r/drop", { action: "drop", protocol: "tcp", portRanges: [{ start: 1550, end: 1550 }] }),
        ],
      }),
    );
    expect(table.matchInbound(packet("tcp", "100.64.0.10", SELF, 1550))).toBe(2);
    expect(table.matchInbound(packet("tcp", "100.64.0.10", SELF, 1551))).toBe(0);
    expect(table.matchInbound(packet("tcp", "100.64.0.30", SELF, 1551))).toBe(1);
    expect(table.matchInbound(packet("tcp", "100.64.0.30", SELF, 1601))).toBe(-1);
  });

  it("/32 and CIDR sources, including 0.0.0.0/0", () => {
    const table = RuleTable.build(
      policy({
        inbound: [
          rule("s/host", { protocol: "tcp", ports: [1], sources: ["100.64.0.10/32"] }),
          rule("s/net", { protocol: "tcp", ports: [2], sources: ["100.64.1.0/24"] }),
          rule("s/any", { protocol: "tcp", ports: [3], sources: ["0.0.0.0/0"] }),
        ],
      }),
    );
    expect(table.matchInbound(packet("tcp", "100.64.0.10", SELF, 1))).toBe(0);
    expect(table.matchInbound(packet("tcp", "100.64.0.11", SELF, 1))).toBe(-1);
    expect(table.matchInbound(packet("tcp", "100.64.1.200", SELF, 2))).toBe(1);
    expect(table.matchInbound(packet("tcp", "100.64.2.1", SELF, 2))).toBe(-1);
    expect(table.matchInbound(packet("tcp", "203.0.113.9", SELF, 3))).toBe(2);
    expect(table.matchInbound(packet("tcp", "fd00::10", SELF6, 3))).toBe(-1); // IPv4 prefix never matches IPv6
  });

  it("IPv6 sources: host and prefix", () => {
    const table = RuleTable.build(
      policy({
        inbound: [
          rule("v6/host", { protocol: "tcp", ports: [22], sources: ["fd00::10/128"] }),
          rule("v6/net", { protocol: "udp", sources: ["fd00:1::/48"] }),
        ],
      }),
    );
    expect(table.matchInbound(packet("tcp", "fd00::10", SELF6, 22))).toBe(0);
    expect(table.matchInbound(packet("tcp", "fd00::11", SELF6, 22))).toBe(-1);
    expect(table.matchInbound(packet("udp", "fd00:1:0:ffff::1", SELF6, 9))).toBe(1);
    expect(table.matchInbound(packet("udp", "fd00:2::1", SELF6, 9))).toBe(-1);
  });

  it("inbound rules check the destination is this peer", () => {
    const table = RuleTable.build(policy({ inbound: [rule("all/r")] }));
    expect(table.matchInbound(packet("tcp", "100.64.0.10", "100.64.0.21", 22))).toBe(-1);
    expect(table.isLocalDestination(packet("tcp", "100.64.0.10", SELF, 22))).toBe(true);
    expect(table.isLocalDestination(packet("tcp", "fd00::10", SELF6, 22))).toBe(true);
    expect(table.isLocalDestination(packet("tcp", "100.64.0.10", "100.64.0.21", 22))).toBe(false);
    expect(table.isLocalSource(packet("tcp", SELF, "100.64.0.10", 22))).toBe(true);
    expect(table.isLocalSource(packet("tcp", "100.64.0.10", SELF, 22))).toBe(false);
  });

  it("lowest index decides among equal actions (determinism)", () => {
    const table = RuleTable.build(
      policy({
        inbound: [
          rule("a/0", { protocol: "tcp", ports: [80], sources: ["100.64.0.0/16"] }),
          rule("d/1", { action: "drop", protocol: "all", sources: ["100.64.0.0/24"] }),
          rule("a/2", { protocol: "tcp", sources: ["100.64.0.10/32"] }),
          rule("d/3", { action: "drop", protocol: "tcp", ports: [80], sources: ["100.64.0.10/32"] }),
        ],
      }),
    );
    expect(table.matchInbound(packet("tcp", "100.64.0.10", SELF, 80))).toBe(1);
    expect(table.matchInbound(packet("tcp", "100.64.1.10", SELF, 80))).toBe(0);
    expect(table.matchInbound(packet("tcp", "100.64.1.10", SELF, 81))).toBe(-1);
  });

  it("rules with many sources and shared prefixes", () => {
    const sources = Array.from({ length: 500 }, (_, i) => `100.64.${i >> 8}.${i & 255}/32`);
    const table = RuleTable.build(
      policy({ inbound: [rule("big/r", { protocol: "tcp", ports: [5432], sources }), rule("b/r", { sources })] }),
    );
    expect(table.matchInbound(packet("tcp", "100.64.1.243", SELF, 5432))).toBe(0);
    expect(table.matchInbound(packet("tcp", "100.64.1.244", SELF, 5432))).toBe(-1);
    expect(table.matchInbound(packet("udp", "100.64.0.3", SELF, 1))).toBe(1);
  });

  it("outbound rules are a separate list with global indices after inbound", () => {
    const table = RuleTable.build(
      policy({
        inbound: [rule("in/r")],
        outbound: [rule("out/r", { protocol: "tcp", ports: [443], sources: [`${SELF}/32`], destinations: ["100.64.0.30/32"] })],
      }),
    );
    expect(table.matchOutbound(packet("tcp", SELF, "100.64.0.30", 443))).toBe(1);
    expect(table.ruleId(1)).toBe("out/r");
    expect(table.ruleKind(1)).toBe("outbound");
    expect(table.matchOutbound(packet("tcp", SELF, "100.64.0.31", 443))).toBe(-1);
    expect(table.matchInbound(packet("tcp", "100.64.0.30", SELF, 443))).toBe(0);
  });
});

describe("RuleTable routes", () => {
  const routes = [
    route("net/office", "office-lan", { protocol: "tcp", ports: [445], sources: ["100.64.0.10/32"] }),
    route("net/office-all", "office-lan", { protocol: "icmp", sources: ["100.64.0.0/16"] }),
    route("net/printers", "printers", { destinations: ["198.18.1.128/25"], action: "drop", sources: ["100.64.0.10/32"] }),
    route("net/wiki", "wiki", { domain: "wiki.example", destinations: [], sources: ["100.64.0.10/32"] }),
  ];
  const build = () => RuleTable.build(policy({ inbound: [rule("in/r")], routes }));

  it("P6: route rules match destination prefixes (source -> resource)", () => {
    const table = build();
    expect(table.matchRoute(packet("tcp", "100.64.0.10", "198.18.1.7", 445))).toBe(1);
    expect(table.matchRoute(packet("tcp", "100.64.0.30", "198.18.1.7", 445))).toBe(-1);
    expect(table.matchRoute(packet("icmp", "100.64.0.30", "198.18.1.7"))).toBe(2);
    expect(table.matchRoute(packet("tcp", "100.64.0.10", "198.18.2.7", 445))).toBe(-1);
    expect(table.matchRoute(packet("tcp", "100.64.0.10", "198.18.1.200", 445))).toBe(3); // drop rule wins
    // P6: never the other way round
    expect(table.matchRoute(packet("tcp", "198.18.1.7", "100.64.0.10", 445))).toBe(-1);
  });

  it("isRoutedDestination / isRoutedSource", () => {
    const table = build();
    expect(table.isRoutedDestination(packet("tcp", "100.64.0.10", "198.18.1.7", 445))).toBe(true);
    expect(table.isRoutedDestination(packet("tcp", "100.64.0.10", "198.18.2.7", 445))).toBe(false);
    expect(table.isRoutedSource(packet("tcp", "198.18.1.7", "100.64.0.10", 445))).toBe(true);
    expect(table.isRoutedSource(packet("tcp", "100.64.0.10", "198.18.1.7", 445))).toBe(false);
  });

  it("P6: setResourceAddresses fills a domain resource's prefixes at run time", () => {
    const table = build();
    const wiki = packet("tcp", "100.64.0.10", "203.0.113.5", 443);
    expect(table.matchRoute(wiki)).toBe(-1);
    expect(table.isRoutedDestination(wiki)).toBe(false);
    table.setResourceAddresses("wiki", ["203.0.113.5/32", "2001:db8::5/128"]);
    expect(table.matchRoute(wiki)).toBe(4);
    expect(table.isRoutedDestination(wiki)).toBe(true);
    expect(table.matchRoute(packet("tcp", "fd00::10", "2001:db8::5", 443))).toBe(-1); // source is IPv4 only
    expect(table.rule(4).destinations).toEqual(["203.0.113.5/32", "2001:db8::5/128"]);
    // other rules untouched
    expect(table.matchRoute(packet("tcp", "100.64.0.10", "198.18.1.7", 445))).toBe(1);
    table.setResourceAddresses("wiki", ["203.0.113.6/32"]);
    expect(table.matchRoute(wiki)).toBe(-1);
    expect(table.matchRoute(packet("tcp", "100.64.0.10", "203.0.113.6", 1))).toBe(4);
  });

  it("P14: a new table inherits the resolved addresses of domain resources both policies have", () => {
    const previous = build();
    previous.setResourceAddresses("wiki", ["203.0.113.5/32"]);
    const next = RuleTable.build(policy({ routes }));
    expect(next.matchRoute(packet("tcp", "100.64.0.10", "203.0.113.5", 443))).toBe(-1);
    next.inheritResourceAddresses(previous);
    expect(next.matchRoute(packet("tcp", "100.64.0.10", "203.0.113.5", 443))).toBe(3); // no inbound rule in this policy
    expect(next.resourceAddresses("wiki")).toEqual(["203.0.113.5/32"]);
    const without = RuleTable.build(policy({ routes: routes.slice(0, 3) }));
    without.inheritResourceAddresses(previous); // wiki is gone: nothing to carry
    expect(without.matchRoute(packet("tcp", "100.64.0.10", "203.0.113.5", 443))).toBe(-1);
  });

  it("setResourceAddresses refuses non-domain or unknown resources and bad CIDRs, changing nothing", () => {
    const table = build();
    expect(() => table.setResourceAddresses("office-lan", ["10.0.0.0/8"])).toThrow(FilterError);
    expect(() => table.setResourceAddresses("nope", [])).toThrow(/not a domain resource/);
    table.setResourceAddresses("wiki", ["203.0.113.5/32"]);
    expect(() => table.setResourceAddresses("wiki", ["203.0.113.300/32"])).toThrow(/setResourceAddresses\("wiki"\)\[0\]/);
    expect(table.matchRoute(packet("tcp", "100.64.0.10", "203.0.113.5", 1))).toBe(4);
  });
});

describe("RuleTable counters, ids and errors", () => {
  it("counts hits and bytes per rule", () => {
    const table = RuleTable.build(policy({ inbound: [rule("a/r"), rule("b/r")] }));
    table.countHit(1, 100);
    table.countHit(1, 60);
    table.countHit(0, 1);
    expect([...table.hits]).toEqual([1, 2]);
    expect([...table.bytes]).toEqual([1, 160]);
    expect(table.ruleId(1)).toBe("b/r");
    expect(table.rule(1).id).toBe("b/r");
    // two rules with the same addresses share their entries: 1 IPv4 source x 1 IPv4 destination,
    // 1 IPv6 x 1 IPv6, in the four protocol classes
    expect(table.indexStats().pairs).toBe(8);
  });

  it("matchTuple answers from text", () => {
    const table = RuleTable.build(
      policy({ inbound: [rule("a/r", { protocol: "tcp", ports: [22] }), rule("b/r", { protocol: "icmp" })] }),
    );
    expect(table.matchTuple("inbound", "tcp", "100.64.0.10", SELF, 22)).toBe(0);
    expect(table.matchTuple("inbound", "icmp", "100.64.0.10", SELF)).toBe(1);
    expect(table.matchTuple("inbound", "udp", "100.64.0.10", SELF, 22)).toBe(-1);
    expect(() => table.matchTuple("inbound", "tcp", "100.64.0.10", SELF6, 22)).toThrow(/IP version/);
  });

  it("bad input names the field", () => {
    expect(() => RuleTable.build(policy({ inbound: [rule("a/r", { sources: ["100.64.0.0/33"] })] }))).toThrow(
      /inbound\[0\]\.sources\[0\]: .*prefix length 33/,
    );
    expect(() =>
      RuleTable.build(policy({ inbound: [rule("a/r"), rule("b/r", { protocol: "tcp", ports: [70000] })] })),
    ).toThrow(/inbound\[1\]\.ports\[0\]/);
    expect(() =>
      RuleTable.build(policy({ inbound: [rule("a/r", { protocol: "tcp", portRanges: [{ start: 9, end: 8 }] })] })),
    ).toThrow(/inbound\[0\]\.portRanges\[0\]: start 9 is above end 8/);
    expect(() => RuleTable.build(policy({ outbound: [rule("a/r", { action: "maybe" as never })] }))).toThrow(
      /outbound\[0\]\.action/,
    );
    expect(() => RuleTable.build(policy({ routes: [route("a/r", "x", { protocol: "sctp" as never })] }))).toThrow(
      /routes\[0\]\.protocol/,
    );
    expect(() => RuleTable.build(policy({ inbound: [rule("a/r"), null as never] }))).toThrow(/inbound\[1\]: expected a compiled rule/);
    expect(() => RuleTable.build(policy({ inbound: [rule("a/r", { sources: undefined as never })] }))).toThrow(
      /inbound\[0\]\.sources: expected a list/,
    );
    expect(() => RuleTable.build(policy({ inbound: [rule("a/r", { destinations: [42 as never] })] }))).toThrow(
      /inbound\[0\]\.destinations\[0\]: expected a CIDR string/,
    );
  });
});
