// Which prefixes a routing peer masquerades (the nftables side runs in test/e2e/masquerade.test.ts).

import { describe, expect, it } from "vitest";
import { masqueradedPrefixes } from "../../src/agent/masquerade.ts";
import type { CompiledRouteRule } from "../../src/filter/compiled-policy.ts";

const route = (extra: Partial<CompiledRouteRule>): CompiledRouteRule => ({
  id: "p/r:route:x", policyId: "p", policyName: "p", ruleId: "r", ruleName: "r", action: "accept", protocol: "tcp",
  sources: ["100.64.0.10/32"], destinations: [], ports: [], portRanges: [], reverse: false, resourceId: "x", resourceName: "x", ...extra,
});

describe("masqueradedPrefixes", () => {
  it("takes the destinations of masqueraded route rules and the resolved addresses of their domains, nothing else", () => {
    const policy = {
      peer: { id: "r", name: "r", addresses: ["100.64.0.40"] },
      inbound: [],
      outbound: [],
      routes: [
        route({ destinations: ["198.18.1.0/24"], masquerade: true }),
        route({ destinations: ["198.18.2.0/24"] }),
        route({ resourceId: "wiki", domain: "wiki.corp.example", masquerade: true }),
        route({ resourceId: "other", domain: "other.example", masquerade: false }),
        route({ destinations: ["0.0.0.0/0"], masquerade: true }), // an exit node's route
      ],
    };
    const resolved = new Map([["wiki", ["203.0.113.5/32", "2001:db8::5/128"]], ["other", ["203.0.113.9/32"]]]);
    expect(masqueradedPrefixes(policy, resolved)).toEqual(["0.0.0.0/0", "198.18.1.0/24", "2001:db8::5/128", "203.0.113.5/32"]);
  });
});
