// Shadowed rules: rule A is shadowed by rule B when every connection A would decide is
// already decided by B with the same or a stronger outcome: B is a drop rule (drop beats
// accept, P9, so A never changes a verdict), or both accept (A is redundant). "Every
// connection" is checked on what the rules really cover: B's source peers include A's
// (and B has no posture check A lacks, P8), B's destinations include A's, B's protocol
// and ports include A's, and if A works both ways (P4/P5) so does B.

import { isEffectivelyBidirectional } from "../compile/compile.ts";
import type { CompileOptions } from "../../filter/compiled-policy.ts";
import type { AccountIndex } from "../model/effective-groups.ts";
import type { Policy, PolicyRule, PortRange, RuleEnd } from "../model/model.ts";

interface RuleCover {
  key: string;
  policy: Policy;
  rule: PolicyRule;
  sources: Set<string>;
  destinations: Set<string>;
  bidirectional: boolean;
}

function members(index: AccountIndex, end: RuleEnd): Set<string> {
  const ids = new Set(index.peersOfGroups(end.groups).map((p) => `peer:${p.id}`));
  if (end.peer) ids.add(`peer:${end.peer}`);
  if (end.resource) ids.add(`resource:${end.resource}`);
  for (const g of end.groups) for (const r of index.resourcesOf(g)) ids.add(`resource:${r.id}`);
  return ids;
}

function isSubset(small: Set<string>, big: Set<string>): boolean {
  if (small.size > big.size) return false;
  for (const x of small) if (!big.has(x)) return false;
  return true;
}

function anyPort(rule: PolicyRule): boolean {
  return rule.protocol === "all" || rule.protocol === "icmp" || (rule.ports.length === 0 && rule.portRanges.length === 0);
}

function portsCovered(inner: PolicyRule, outer: PolicyRule): boolean {
  if (anyPort(outer)) return true;
  if (anyPort(inner)) return false;
  const inside = (start: number, end: number) =>
    outer.ports.some((p) => start === p && end === p) || outer.portRanges.some((r: PortRange) => r.start <= start && end <= r.end);
  return inner.ports.every((p) => inside(p, p)) && inner.portRanges.every((r) => inside(r.start, r.end));
}

function covers(outer: RuleCover, inner: RuleCover): boolean {
  if (outer.rule.action === "accept" && inner.rule.action === "drop") return false;
  if (outer.rule.protocol !== "all" && outer.rule.protocol !== inner.rule.protocol) return false;
  if (!portsCovered(inner.rule, outer.rule)) return false;
  if (inner.bidirectional && !outer.bidirectional) return false;
  if (!outer.policy.sourcePostureChecks.every((c) => inner.policy.sourcePostureChecks.includes(c))) return false;
  return isSubset(inner.sources, outer.sources) && isSubset(inner.destinations, outer.destinations);
}

/** Pairs [shadowed, shadowing] among the enabled rules, each shadowed rule reported once. */
export function findShadowedRules(index: AccountIndex, options: CompileOptions): [RuleCover, RuleCover][] {
  const rules: RuleCover[] = [];
  for (const policy of index.account.policies) {
    if (!policy.enabled) continue;
    for (const rule of policy.rules) {
      if (!rule.enabled) continue;
      const sources = members(index, rule.sources);
      const destinations = members(index, rule.destinations);
      if (sources.size === 0 || destinations.size === 0) continue; // reported as empty-group
      rules.push({ key: `${policy.id}/${rule.id}`, policy, rule, sources, destinations, bidirectional: isEffectivelyBidirectional(rule, options) });
    }
  }
  const found: [RuleCover, RuleCover][] = [];
  rules.forEach((inner, i) => {
    // Of two rules that cover each other, only the later one is reported (the earlier one is kept).
    const outer = rules.find((candidate, j) => j !== i && covers(candidate, inner) && (j < i || !covers(inner, candidate)));
    if (outer) found.push([inner, outer]);
  });
  return found;
}
