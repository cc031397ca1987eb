// `meshfilter compile --policy FILE --peer P`: print the rule tables one peer enforces, in
// the spirit of `nft list ruleset` / `pfctl -s rules`: a section per table, one rule per
// line (action, protocol, from, to, ports) followed by where it came from.

import type { CompiledPeerPolicy, CompiledRouteRule, CompiledRule } from "../filter/compiled-policy.ts";
import { buildPeerFilter } from "../replay/setup.ts";
import { formatCount } from "../text/numbers.ts";
import { printableLines } from "../text/printable.ts";
import { defineCommand } from "./command.ts";
import { HONOUR_BIDIRECTIONAL_FLAG, POLICY_OR_MAP_FLAGS, policySource, withPolicy } from "./common.ts";
import { EXIT_OK, EXIT_USAGE } from "./exit-codes.ts";

function portsText(rule: CompiledRule): string {
  if (rule.protocol === "icmp" || rule.protocol === "all") return "";
  const parts = [...rule.ports.map(String), ...rule.portRanges.map((r) => `${r.start}-${r.end}`)];
  return parts.length === 0 ? " port any" : ` port ${parts.join(",")}`;
}

function listText(prefixes: string[]): string {
  return prefixes.length === 1 ? prefixes[0] : `{ ${prefixes.join(", ")} }`;
}

function originText(rule: CompiledRule): string {
  const route = rule as Partial<CompiledRouteRule>;
  const what = rule.reverse ? "reverse of rule" : "rule";
  const resource = route.resourceId ? `, resource "${route.resourceName}" (${route.resourceId})` : "";
  return `# ${rule.id}: policy "${rule.policyName}" (${rule.policyId}), ${what} "${rule.ruleName}" (${rule.ruleId})${resource}`;
}

/** One line per rule: `accept tcp from X to Y port 5432  # origin`. */
export function formatRule(rule: CompiledRule): string {
  const route = rule as Partial<CompiledRouteRule>;
  const to = route.domain ? `domain ${route.domain}` : listText(rule.destinations);
  return `${rule.action.padEnd(6)} ${rule.protocol.padEnd(4)} from ${listText(rule.sources)} to ${to}${portsText(rule)}  ${originText(rule)}`;
}

function section(title: string, rules: CompiledRule[]): string[] {
  const lines = [`${title}: ${rules.length === 0 ? "no rules" : rules.length === 1 ? "1 rule" : `${formatCount(rules.length)} rules`}`];
  for (const rule of rules) lines.push(`  ${formatRule(rule)}`);
  return lines;
}

/** The human listing of a peer's tables. */
export function formatCompiledPolicy(compiled: CompiledPeerPolicy): string {
  const { peer } = compiled;
  return printableLines([
    `peer ${peer.name} (id ${peer.id}) ${peer.addresses.join(" ")}`,
    "",
    ...section("inbound (other peers -> this peer; no match = drop, P1; drop beats accept, P9)", compiled.inbound),
    "",
    ...section("outbound (this peer -> other peers; enforced only in egress mode, P13)", compiled.outbound),
    "",
    ...section("routes (routed to network resources, one-way, P6)", compiled.routes),
  ]);
}

export const command = defineCommand({
  name: "compile",
  usage: "(--policy FILE --peer PEER | --network-map FILE) [--json] [--honour-bidirectional]",
  description: `Prints the rule tables PEER enforces: inbound (connections other peers may open to
it), outbound (connections it may open; enforced only in egress mode) and routes
(traffic it routes to network resources). A connection no rule accepts is dropped
(P1); a matching drop rule beats any accept rule (P9). With --network-map, the tables
of the NetworkMap a NetBird peer was sent.`,
  flags: {
    ...POLICY_OR_MAP_FLAGS,
    json: { type: "boolean", help: "print the CompiledPeerPolicy as JSON" },
    "honour-bidirectional": HONOUR_BIDIRECTIONAL_FLAG,
  },
  exits: {
    [EXIT_OK]: "printed",
    [EXIT_USAGE]: "bad usage, bad policy or unknown peer",
  },
  async run({ flags }) {
    const source = policySource(flags);
    const compiled = withPolicy(source.networkMapPath ?? source.policyPath!, () => buildPeerFilter({ ...source, honourBidirectional: flags["honour-bidirectional"] }).policy);
    console.log(flags.json ? JSON.stringify(compiled, null, 2) : formatCompiledPolicy(compiled));
    return EXIT_OK;
  },
});
