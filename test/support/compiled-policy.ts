// Compiled policies built by hand, for tests and benchmarks that exercise the filter or
// the engine without going through the policy compiler.

import type { CompiledPeerPolicy, CompiledRule } from "../../src/filter/compiled-policy.ts";

/**
 * A rule with id "POLICY/RULE": its policy and rule ids and names are taken from the id,
 * everything else defaults to "accept any protocol, from nowhere to nowhere, any port";
 * `fields` overrides any of it.
 */
export function compiledRule(id: string, fields: Partial<CompiledRule> = {}): CompiledRule {
  const [policyId, ruleId = policyId] = id.split("/");
  return {
    id,
    policyId,
    policyName: policyId,
    ruleId,
    ruleName: ruleId,
    action: "accept",
    protocol: "all",
    sources: [],
    destinations: [],
    ports: [],
    portRanges: [],
    reverse: false,
    ...fields,
  };
}

/** The policy of peer `name` (also its id) with overlay `addresses`; tables not given are empty. */
export function compiledPolicy(
  name: string,
  addresses: string[],
  tables: Partial<Pick<CompiledPeerPolicy, "inbound" | "outbound" | "routes">> = {},
): CompiledPeerPolicy {
  return { peer: { id: name, name, addresses }, inbound: [], outbound: [], routes: [], ...tables };
}
