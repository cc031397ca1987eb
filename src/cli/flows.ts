// `meshfilter flows`: a running agent's tracked connections, like `conntrack -L`; with
// --watch, their starts and ends as they happen, like `conntrack -E`.

import { ControlError, stream } from "../control/client.ts";
import { DEFAULT_CONTROL_PATH } from "../control/protocol.ts";
import type { FlowEntry } from "../agent/control-handlers.ts";
import { printableLines } from "../text/printable.ts";
import { badFlagValue, CliError, defineCommand } from "./command.ts";
import { ask, CONTROL_EXITS, CONTROL_FLAGS, duration } from "./control-client.ts";
import { EXIT_FAILURE, EXIT_OK } from "./exit-codes.ts";

export const FILTER_FLAGS = {
  address: { type: "string", value: "IP", help: "either end" },
  src: { type: "string", value: "IP", help: "the originator" },
  dst: { type: "string", value: "IP", help: "the responder" },
  port: { type: "string", value: "N", help: "either port" },
  proto: { type: "string", value: "NAME", help: "tcp, udp, icmp or icmpv6" },
  state: { type: "string", value: "NAME", help: "e.g. established, syn-sent, time-wait, udp-replied" },
  policy: { type: "string", value: "NAME", help: "the policy's name or id" },
} as const;

/** The filter options as the control protocol's args. */
export function filterArgs(values: Record<string, unknown>): Record<string, unknown> {
  if (typeof values.port === "string" && !/^[0-9]+$/.test(values.port)) badFlagValue("port", values.port, "expected a port number");
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

export const command = defineCommand({
  name: "flows",
  usage: "[filters] [--watch] [--control PATH] [--json]",
  description: `A running agent's tracked connections, like 'conntrack -L': protocol, state, both
ends, packets and bytes each way, age, idle time left before it expires, and the policy
and rule that allowed it. The filters must all hold. With --watch, flows as they start
and end, like 'conntrack -E', until interrupted.`,
  flags: { ...FILTER_FLAGS, watch: { type: "boolean", help: "print flows as they start and end, until interrupted" }, ...CONTROL_FLAGS },
  exits: CONTROL_EXITS,
  async run({ flags }) {
    const args = filterArgs(flags);
    if (flags.watch) {
      const stop = new AbortController();
      process.once("SIGINT", () => stop.abort());
      process.once("SIGTERM", () => stop.abort());
      try {
        await stream("watch", args, flags.control ?? DEFAULT_CONTROL_PATH, (event) => console.log(flags.json ? JSON.stringify(event) : formatWatchEvent(event as Record<string, unknown>)), stop.signal);
      } catch (err) {
        if (err instanceof ControlError) throw new CliError(err.message, EXIT_FAILURE);
        throw err;
      }
      return EXIT_OK;
    }
    const result = await ask("flows", args, flags.control);
    console.log(flags.json ? JSON.stringify(result, null, 2) : formatFlows(result as FlowEntry[]));
    return EXIT_OK;
  },
});
