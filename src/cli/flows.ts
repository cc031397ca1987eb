// `meshfilter flows`: a running agent's tracked connections, like `conntrack -L`; with
// --watch, their starts and ends as they happen, like `conntrack -E`.

import { stream } from "../control/client.ts";
import { ControlError } from "../control/client.ts";
import type { FlowEntry } from "../agent/control-handlers.ts";
import { printableLines } from "../text/printable.ts";
import { EXIT_USAGE, HELP_OPTION, parseCommandLine, fail } from "./common.ts";
import { ask, CONTROL_HELP, CONTROL_OPTIONS, duration, EXIT_AGENT } from "./control-client.ts";

const HELP = `usage: meshfilter flows [filters] [--watch] [--control PATH] [--json]

A running agent's tracked connections: protocol, state, both ends, packets and bytes
each way, age, idle time left before it expires, and the policy and rule that allowed it.

filters (all must hold):
  --address IP     either end
  --src IP         the originator
  --dst IP         the responder
  --port N         either port
  --proto NAME     tcp, udp, icmp, icmpv6
  --state NAME     e.g. established, syn-sent, time-wait, udp-replied
  --policy NAME    policy name or id

options:
  --watch          print flows as they start and end (until interrupted)
${CONTROL_HELP}
  -h, --help       this text`;

const COMMAND = "flows";

export const FILTER_OPTIONS = {
  address: { type: "string" },
  src: { type: "string" },
  dst: { type: "string" },
  port: { type: "string" },
  proto: { type: "string" },
  state: { type: "string" },
  policy: { type: "string" },
} as const;

/** The filter options as the control protocol's args. */
export function filterArgs(values: Record<string, unknown>): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const key of ["address", "src", "dst", "state", "policy"]) if (values[key] !== undefined) args[key] = values[key];
  if (values.proto !== undefined) args.protocol = values.proto;
  if (values.port !== undefined) args.port = Number(values.port);
  return args;
}

const end = (address: string, port: number, protocol: string) => (protocol === "tcp" || protocol === "udp" ? `${address.includes(":") ? `[${address}]` : address}:${port}` : address);

export function formatFlows(flows: FlowEntry[]): string {
  if (flows.length === 0) return "(no flows)";
  const rows = flows.map((f) => [
    f.protocol,
    f.state,
    end(f.src, f.srcPort, f.protocol),
    end(f.dst, f.dstPort, f.protocol),
    `${f.packetsOriginal}/${f.bytesOriginal}`,
    `${f.packetsReply}/${f.bytesReply}`,
    duration(f.ageMs),
    duration(f.expiresInMs),
    f.policy ? `${f.policy.name}/${f.ruleName}` : f.origin === "outbound" ? "(own traffic)" : "-",
  ]);
  const header = ["PROTO", "STATE", "SOURCE", "DESTINATION", "PKTS/BYTES >", "PKTS/BYTES <", "AGE", "EXPIRES", "POLICY/RULE"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ");
  return printableLines([line(header), ...rows.map(line), `${flows.length} flow${flows.length === 1 ? "" : "s"}`]);
}

/** One --watch event (a flow-log line) as conntrack -E would print it. */
export function formatWatchEvent(e: Record<string, unknown>): string {
  const s = e.source as { address: string; port: number | null; name: string };
  const d = e.destination as { address: string; port: number | null; name: string };
  const proto = String(e.protocol_name);
  const ep = (x: { address: string; port: number | null; name: string }) => `${x.port === null ? x.address : end(x.address, x.port, proto)}${x.name ? ` (${x.name})` : ""}`;
  const policy = e.policy as { name: string } | null;
  const rule = e.rule as { name: string } | null;
  const head = `${e.type === "TYPE_START" ? "[NEW]    " : "[DESTROY]"} ${proto} ${ep(s)} > ${ep(d)} ${e.state ?? ""}`;
  const why = policy ? ` policy ${policy.name} rule ${rule?.name ?? ""}` : "";
  const counts = e.type === "TYPE_END" ? ` ${e.end_reason} rx ${e.rx_packets}/${e.rx_bytes} tx ${e.tx_packets}/${e.tx_bytes}` : "";
  return printableLines([`${head}${why}${counts}`]);
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(COMMAND, HELP, { args: argv, options: { ...CONTROL_OPTIONS, ...FILTER_OPTIONS, watch: { type: "boolean", default: false }, help: HELP_OPTION } });
  if (typeof parsed === "number") return parsed;
  const { values } = parsed;
  if (values.port !== undefined && !/^[0-9]+$/.test(values.port)) return fail(COMMAND, `--port "${values.port}" is not a port number`, EXIT_USAGE);
  const args = filterArgs(values);
  if (values.watch) {
    const stop = new AbortController();
    process.once("SIGINT", () => stop.abort());
    process.once("SIGTERM", () => stop.abort());
    try {
      await stream("watch", args, values.control, (event) => console.log(values.json ? JSON.stringify(event) : formatWatchEvent(event as Record<string, unknown>)), stop.signal);
    } catch (err) {
      if (err instanceof ControlError) return fail(COMMAND, err.message, EXIT_AGENT);
      throw err;
    }
    return 0;
  }
  const answer = await ask(COMMAND, "flows", args, values.control);
  if (typeof answer === "number") return answer;
  console.log(values.json ? JSON.stringify(answer.result, null, 2) : formatFlows(answer.result as FlowEntry[]));
  return 0;
}
