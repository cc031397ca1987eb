// `meshfilter status`: a running agent's peer, policy, table, counters and settings, from its control socket.

import { printableLines } from "../text/printable.ts";
import { defineCommand } from "./command.ts";
import { ask, CONTROL_EXITS, CONTROL_FLAGS, duration } from "./control-client.ts";
import { EXIT_OK } from "./exit-codes.ts";

interface Status {
  peer: { id: string; name: string; addresses: string[] };
  pid: number;
  uptimeMs: number;
  policyFile: string;
  rules: number;
  filter: boolean;
  egress: boolean;
  tun: string;
  listen: string;
  flows: { count: number; capacity: number; adaptiveTimeoutScale: number } | null;
  packets: { tunRead: number; tunWritten: number; droppedInbound: number; droppedOutbound: number };
  policyReloads: { applied: number; rejected: number; flowsRevoked: number; lastRejection: string | null };
  logLevel: string;
  flowLog: { path: string; lines: number; suppressedLines: number; drops: number } | null;
  control: string;
  /** 1, or with --queues N > 1 each queue worker's counters. */
  queues?: number | { queue: number; tunRead: number; tunWritten: number; droppedInbound: number; droppedOutbound: number; passedToOwner: number; flows: number }[];
}

export function formatStatus(s: Status): string {
  const lines = [
    `agent    peer ${s.peer.name} (${s.peer.addresses.join(", ")}), pid ${s.pid}, up ${duration(s.uptimeMs)}`,
    `policy   ${s.policyFile}: ${s.rules} rule${s.rules === 1 ? "" : "s"}; reloads applied ${s.policyReloads.applied}, rejected ${s.policyReloads.rejected}; flows revoked ${s.policyReloads.flowsRevoked}`,
  ];
  if (s.policyReloads.lastRejection) lines.push(`         last rejected: ${s.policyReloads.lastRejection}`);
  lines.push(
    `filter   ${s.filter ? `on, egress ${s.egress ? "on" : "off"}` : "off (--no-filter)"}` +
      (s.flows ? `; flows ${s.flows.count} of ${s.flows.capacity}${s.flows.adaptiveTimeoutScale < 1 ? `, timeouts scaled to ${s.flows.adaptiveTimeoutScale.toFixed(2)}` : ""}` : ""),
    `packets  tun ${s.tun}: read ${s.packets.tunRead}, written ${s.packets.tunWritten}; dropped inbound ${s.packets.droppedInbound}, outbound ${s.packets.droppedOutbound}`,
    ...(Array.isArray(s.queues)
      ? [
          `queues   ${s.queues.length}: ` +
            s.queues.map((q) => `#${q.queue} read ${q.tunRead}, written ${q.tunWritten}, dropped ${q.droppedInbound}/${q.droppedOutbound}, passed to owner ${q.passedToOwner}, flows ${q.flows}`).join("; "),
        ]
      : []),
    `log      level ${s.logLevel}` + (s.flowLog ? `; flow log ${s.flowLog.path}: ${s.flowLog.lines} lines, ${s.flowLog.suppressedLines} suppressed, ${s.flowLog.drops} drops counted` : "; no flow log"),
    `control  ${s.control}; transport listens on ${s.listen}`,
  );
  return printableLines(lines);
}

export const command = defineCommand({
  name: "status",
  usage: "[--control PATH] [--json]",
  description: "What a running agent ('meshfilter run') is: its peer, policy, connection table, packet counters, policy reloads, log level and flow log.",
  flags: CONTROL_FLAGS,
  exits: CONTROL_EXITS,
  async run({ flags }) {
    const result = await ask("status", {}, flags.control);
    console.log(flags.json ? JSON.stringify(result, null, 2) : formatStatus(result as Status));
    return EXIT_OK;
  },
});
