// meshfilter stats: read a running agent's counters from its metrics endpoint and print
// them for a person (or as JSON with --json).

import { parsePrometheusText, type Sample } from "../agent/prometheus-text.ts";
import { formatCount, formatDecimal } from "../text/numbers.ts";
import { printableLines } from "../text/printable.ts";
import { CliError, defineCommand } from "./command.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./exit-codes.ts";

function pick(samples: Sample[], name: string, label?: string, value?: string): number {
  let total = 0;
  for (const s of samples) if (s.name === name && (label === undefined || s.labels[label] === value)) total += s.value;
  return total;
}

function byLabel(samples: Sample[], name: string, label: string): [string, number][] {
  return samples.filter((s) => s.name === name).map((s) => [s.labels[label] ?? "", s.value] as [string, number]);
}

export function formatStats(samples: Sample[], where: string): string {
  const lines = [`meshfilter agent at ${where}`, `flows tracked: ${formatCount(pick(samples, "meshfilter_flows"))}`, "", "packets by reason:"];
  const reasons = byLabel(samples, "meshfilter_packets_total", "reason").sort((a, b) => b[1] - a[1]);
  if (reasons.length === 0) lines.push("  (none yet, or filtering is off)");
  const width = Math.max(10, ...reasons.map(([r]) => r.length));
  for (const [reason, n] of reasons) lines.push(`  ${reason.padEnd(width)} ${formatCount(n)}`);
  lines.push("", "rules:");
  const bytes = new Map(byLabel(samples, "meshfilter_rule_bytes_total", "rule"));
  const rules = byLabel(samples, "meshfilter_rule_hits_total", "rule");
  if (rules.length === 0) lines.push("  (no rules)");
  const ruleWidth = Math.max(10, ...rules.map(([r]) => r.length));
  for (const [rule, hits] of rules) lines.push(`  ${rule.padEnd(ruleWidth)} hits ${formatCount(hits).padStart(10)}  bytes ${formatCount(bytes.get(rule) ?? 0)}`);
  const read = pick(samples, "meshfilter_tun_packets_total", "direction", "read");
  const batches = pick(samples, "meshfilter_tun_read_batches_total");
  lines.push(
    "",
    "data path:",
    `  tun       read ${formatCount(read)}, written ${formatCount(pick(samples, "meshfilter_tun_packets_total", "direction", "written"))}, ` +
      `${formatDecimal(batches > 0 ? read / batches : 0)} packets per read, ` +
      `${formatCount(pick(samples, "meshfilter_tun_split_reads_total"))} large TCP reads split, ` +
      `${formatCount(pick(samples, "meshfilter_tun_merged_writes_total"))} merged TCP writes`,
    `  transport sent ${formatCount(pick(samples, "meshfilter_transport_packets_total", "direction", "sent"))}, ` +
      `received ${formatCount(pick(samples, "meshfilter_transport_packets_total", "direction", "received"))}, ` +
      `no route ${formatCount(pick(samples, "meshfilter_transport_errors_total", "kind", "no-route"))}, ` +
      `send errors ${formatCount(pick(samples, "meshfilter_transport_errors_total", "kind", "send"))}`,
    `  dropped   inbound ${formatCount(pick(samples, "meshfilter_dropped_total", "direction", "inbound"))}, ` +
      `outbound ${formatCount(pick(samples, "meshfilter_dropped_total", "direction", "outbound"))}; ` +
      `MSS clamped ${formatCount(pick(samples, "meshfilter_mss_clamped_total"))}`,
    `  filter    ${formatCount(pick(samples, "meshfilter_segment_run_packets_total"))} packets judged within TCP segment runs (no lookup of their own)`,
    "",
    `policy reloads: applied ${formatCount(pick(samples, "meshfilter_policy_reloads_total", "result", "applied"))}, ` +
      `rejected ${formatCount(pick(samples, "meshfilter_policy_reloads_total", "result", "rejected"))}, ` +
      `flows revoked ${formatCount(pick(samples, "meshfilter_policy_revoked_flows_total"))}`,
  );
  // Rule ids come from the policy, through the agent's metrics: printable like every text output.
  return printableLines(lines);
}

export const command = defineCommand({
  name: "stats",
  usage: "[--metrics ADDR:PORT] [--json]",
  description: "Prints the counters of an agent started with 'meshfilter run --metrics ADDR:PORT'.",
  flags: {
    metrics: { type: "string", value: "ADDR:PORT", help: "the agent's metrics endpoint (default 127.0.0.1:9464)" },
    json: { type: "boolean", help: "print the samples as JSON" },
  },
  exits: {
    [EXIT_OK]: "printed",
    [EXIT_FAILURE]: "the metrics endpoint cannot be read",
    [EXIT_USAGE]: "bad usage",
  },
  async run({ flags }) {
    const where = flags.metrics ?? "127.0.0.1:9464";
    let text: string;
    try {
      const res = await fetch(`http://${where}/metrics`);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      text = await res.text();
    } catch (err) {
      const cause = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
      throw new CliError(`cannot read metrics from http://${where}/metrics (${cause}); is 'meshfilter run --metrics ${where}' running?`, EXIT_FAILURE);
    }
    const samples = parsePrometheusText(text);
    console.log(flags.json ? JSON.stringify(samples, null, 2) : formatStats(samples, where));
    return EXIT_OK;
  },
});
