// `meshfilter counters`: a running agent's per-rule totals (kept across policy reloads,
// by policy id, rule id and direction) and its verdicts by reason, like `pfctl -vsr`.

import type { RuleTotal } from "../agent/rule-counters.ts";
import { printableLines } from "../text/printable.ts";
import { defineCommand } from "./command.ts";
import { ask, CONTROL_EXITS, CONTROL_FLAGS } from "./control-client.ts";
import { EXIT_OK } from "./exit-codes.ts";

export function formatCounters(c: { rules: RuleTotal[]; reasons: Record<string, number> }): string {
  const rows = c.rules.map((r) => [r.policyName, r.ruleName, r.direction, r.action, String(r.hits), String(r.bytes), r.id]);
  const header = ["POLICY", "RULE", "DIRECTION", "ACTION", "HITS", "BYTES", "ID"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((cell, i) => (i === r.length - 1 ? cell : i === 4 || i === 5 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join("  ");
  const lines = rows.length > 0 ? [line(header), ...rows.map(line)] : ["(no rules)"];
  lines.push("", "packets by reason:");
  const reasons = Object.entries(c.reasons).sort((a, b) => b[1] - a[1]);
  if (reasons.length === 0) lines.push("  (none yet)");
  const width = Math.max(10, ...reasons.map(([r]) => r.length));
  for (const [reason, n] of reasons) lines.push(`  ${reason.padEnd(width)} ${n}`);
  return printableLines(lines);
}

export const command = defineCommand({
  name: "counters",
  usage: "[--control PATH] [--json]",
  description: `Per rule of the policy in force: the connections it opened (or, for a drop rule, the
packets it dropped) and their bytes, since the agent started: totals survive policy
reloads, kept by the rule's policy id, rule id and direction. Then the packets judged,
by reason (docs/replay.md, Reasons).`,
  flags: CONTROL_FLAGS,
  exits: CONTROL_EXITS,
  async run({ flags }) {
    const result = await ask("counters", {}, flags.control);
    console.log(flags.json ? JSON.stringify(result, null, 2) : formatCounters(result as { rules: RuleTotal[]; reasons: Record<string, number> }));
    return EXIT_OK;
  },
});
