// `meshfilter status`: a running agent's peer, policy, table, counters and settings, from its control socket.

import { printableLines } from "../text/printable.ts";
import { EXIT_USAGE, HELP_OPTION, parseCommandLine, fail } from "./common.ts";
import { ask, CONTROL_HELP, CONTROL_OPTIONS, duration } from "./control-client.ts";

const HELP = `usage: meshfilter status [--control PATH] [--json]

What a running agent ('meshfilter run') is: its peer, policy, connection table, packet
counters, policy reloads, log level and flow log.

options:
${CONTROL_HELP}
  -h, --help       this text`;

const COMMAND = "status";

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
}

export function formatStatus(s: Status): string {
  const lines = [
    `agent    peer ${s.peer.name} (${s.peer.addresses.join(", ")}), pid ${s.pid}, up ${duration(s.uptimeMs)}`,
    `policy   ${s.policyFile}: ${s.rules} rules; reloads applied ${s.policyReloads.applied}, rejected ${s.policyReloads.rejected}; flows revoked ${s.policyReloads.flowsRevoked}`,
  ];
  if (s.policyReloads.lastRejection) lines.push(`         last rejected: ${s.policyReloads.lastRejection}`);
  lines.push(
    `filter   ${s.filter ? `on, egress ${s.egress ? "on" : "off"}` : "off (--no-filter)"}` +
      (s.flows ? `; flows ${s.flows.count} of ${s.flows.capacity}${s.flows.adaptiveTimeoutScale < 1 ? `, timeouts scaled to ${s.flows.adaptiveTimeoutScale.toFixed(2)}` : ""}` : ""),
    `packets  tun ${s.tun}: read ${s.packets.tunRead}, written ${s.packets.tunWritten}; dropped inbound ${s.packets.droppedInbound}, outbound ${s.packets.droppedOutbound}`,
    `log      level ${s.logLevel}` + (s.flowLog ? `; flow log ${s.flowLog.path}: ${s.flowLog.lines} lines, ${s.flowLog.suppressedLines} suppressed, ${s.flowLog.drops} drops counted` : "; no flow log"),
    `control  ${s.control}; transport listens on ${s.listen}`,
  );
  return printableLines(lines);
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(COMMAND, HELP, { args: argv, options: { ...CONTROL_OPTIONS, help: HELP_OPTION } });
  if (typeof parsed === "number") return parsed;
  const answer = await ask(COMMAND, "status", {}, parsed.values.control);
  if (typeof answer === "number") return answer;
  console.log(parsed.values.json ? JSON.stringify(answer.result, null, 2) : formatStatus(answer.result as Status));
  return 0;
}
