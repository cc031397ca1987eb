// Per-rule counters that survive policy reloads. The rule table counts hits and bytes
// per rule index (filter/rule-table.ts), and a reload replaces the table, so the agent
// carries each old table's counts over, keyed by the rule's stable identity: its table
// (inbound, outbound, route) and its compiled id, which is made of the policy id, the
// rule id and, for the halves and targets a rule compiles into, a suffix (":rev",
// ":route:<resource>", ":to:<resource>"). Ids, not names: renaming a policy keeps its
// counts; a rule that goes and comes back finds its totals again.

import type { RuleTable } from "../filter/rule-table.ts";

export interface RuleTotal {
  /** Compiled rule id, e.g. "db-access/pg" or "ping/icmp:rev". */
  id: string;
  policyId: string;
  policyName: string;
  ruleId: string;
  ruleName: string;
  /** The table the rule is in: inbound, outbound or route. */
  direction: string;
  action: string;
  /** Connections the rule opened (accept) or packets it dropped (drop), since the agent started. */
  hits: number;
  bytes: number;
}

/** The part of the rule table the counters read. */
export type CountedRules = Pick<RuleTable, "ruleCount" | "hits" | "bytes" | "rule" | "ruleKind">;

export class RuleCounters {
  /** Totals of the tables no longer in force, by key. */
  private readonly carried = new Map<string, { hits: number; bytes: number }>();

  /** Adds the counts of `table`, which is being replaced, to the carried totals. */
  carry(table: CountedRules): void {
    for (let i = 0; i < table.ruleCount; i++) {
      if (table.hits[i] === 0 && table.bytes[i] === 0) continue;
      const key = keyOf(table, i);
      const total = this.carried.get(key) ?? { hits: 0, bytes: 0 };
      total.hits += table.hits[i];
      total.bytes += table.bytes[i];
      this.carried.set(key, total);
    }
  }

  /** Every rule of `table` (the one in force) with its totals since the agent started. */
  totals(table: CountedRules): RuleTotal[] {
    const byKey = new Map<string, RuleTotal>();
    for (let i = 0; i < table.ruleCount; i++) {
      const key = keyOf(table, i);
      let total = byKey.get(key);
      if (!total) {
        const r = table.rule(i);
        const carried = this.carried.get(key);
        total = { id: r.id, policyId: r.policyId, policyName: r.policyName, ruleId: r.ruleId, ruleName: r.ruleName, direction: table.ruleKind(i), action: r.action, hits: carried?.hits ?? 0, bytes: carried?.bytes ?? 0 };
        byKey.set(key, total);
      }
      total.hits += table.hits[i];
      total.bytes += table.bytes[i];
    }
    return [...byKey.values()];
  }
}

function keyOf(table: CountedRules, i: number): string {
  const r = table.rule(i);
  return `${table.ruleKind(i)}\u0000${r.policyId}\u0000${r.ruleId}\u0000${r.id}`;
}
