// `meshfilter trace`: what a running agent's filter does with a packet now, stage by
// stage, without changing anything (the equivalent of `netbird debug trace`). The packet
// comes from flags, from hex, or from a frame of a capture file; the agent runs it
// through its live engine (engine/trace.ts).

import type { TraceResult } from "../engine/trace.ts";
import { readCapture } from "../io/capture.ts";
import { ICMP_TYPES } from "../policy/explain-query.ts";
import { buildPacket } from "../packet/builder.ts";
import { printableLines } from "../text/printable.ts";
import { EXIT_USAGE, HELP_OPTION, parseCommandLine, fail } from "./common.ts";
import { ask, CONTROL_HELP, CONTROL_OPTIONS } from "./control-client.ts";

const HELP = `usage: meshfilter trace PACKET [--direction in|out] [--control PATH] [--json]

Runs a packet through a running agent's filter, stage by stage (decode, fragments,
tracked connection, rules, tracking, verdict), and prints what each stage decided and
the verdict. Nothing changes: no flow is opened, no counter moves.

PACKET, one of:
  --src IP --dst IP --proto tcp|udp|icmp [--sport N] [--dport N] [--flags S|SA|A|PA|FA|R...]
                   [--seq N] [--ack N] [--icmp-type NAME|N] [--icmp-code N]
  --hex HEX        the IP packet's bytes
  --pcap FILE --frame N
                   frame N (1-based, as Wireshark numbers them) of a pcap/pcapng file

options:
  --direction in|out  judge it as arriving from the mesh (in) or from this side (out);
                      default: by its addresses, as the filter classifies a packet
${CONTROL_HELP}
  -h, --help       this text

exit codes: 0 traced (accept or drop); 1 no agent, or it refused; 2 bad usage`;

const COMMAND = "trace";

class UsageError extends Error {}

function num(text: string | undefined, what: string, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || n > max) throw new UsageError(`${what} "${text}" is not a number from 0 to ${max}`);
  return n;
}

/** The packet the options describe, as bytes. */
export function packetFromOptions(v: Record<string, string | boolean | undefined>): Uint8Array {
  const given = [v.hex !== undefined, v.pcap !== undefined, v.src !== undefined || v.dst !== undefined].filter(Boolean).length;
  if (given !== 1) throw new UsageError("give the packet one way: --src/--dst/--proto, --hex, or --pcap with --frame");
  if (typeof v.hex === "string") {
    const hex = v.hex.replace(/\s+/g, "");
    if (!/^([0-9a-fA-F]{2})+$/.test(hex)) throw new UsageError("--hex must be the packet's bytes as hex digits, two per byte");
    return new Uint8Array(Buffer.from(hex, "hex"));
  }
  if (typeof v.pcap === "string") {
    const frame = num(v.frame as string | undefined, "--frame", Number.MAX_SAFE_INTEGER);
    if (frame === undefined || frame < 1) throw new UsageError("--pcap needs --frame N (1 is the first frame)");
    for (const p of readCapture(v.pcap)) {
      if (p.index + 1 !== frame) continue;
      if (p.ip.length === 0) throw new UsageError(`${v.pcap}: frame ${frame} carries no IP packet`);
      return p.ip.slice();
    }
    throw new UsageError(`${v.pcap} has fewer than ${frame} frames`);
  }
  if (typeof v.src !== "string" || typeof v.dst !== "string" || typeof v.proto !== "string") throw new UsageError("--src, --dst and --proto are needed together");
  const proto = v.proto.toLowerCase();
  if (proto !== "tcp" && proto !== "udp" && proto !== "icmp") throw new UsageError(`--proto "${v.proto}" is not tcp, udp or icmp`);
  let icmpType: number | undefined;
  if (typeof v["icmp-type"] === "string") {
    const name = v["icmp-type"].toLowerCase();
    icmpType = /^[0-9]+$/.test(name) ? num(name, "--icmp-type", 255) : ICMP_TYPES[name];
    if (icmpType === undefined) throw new UsageError(`--icmp-type "${v["icmp-type"]}" is unknown (a number, or one of ${Object.keys(ICMP_TYPES).join(", ")})`);
  }
  try {
    return buildPacket({
      src: v.src,
      dst: v.dst,
      protocol: proto,
      srcPort: num(v.sport as string | undefined, "--sport", 65535),
      dstPort: num(v.dport as string | undefined, "--dport", 65535),
      tcp: proto === "tcp" ? { flags: (v.flags as string | undefined) ?? "S", seq: num(v.seq as string | undefined, "--seq", 0xffffffff), ack: num(v.ack as string | undefined, "--ack", 0xffffffff) } : undefined,
      icmp: proto === "icmp" ? { type: icmpType, code: num(v["icmp-code"] as string | undefined, "--icmp-code", 255) } : undefined,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function formatTrace(t: TraceResult): string {
  const lines = [`packet     ${t.packet}`];
  for (const s of t.stages) lines.push(`${s.name.padEnd(10)} ${s.outcome.padEnd(9)} ${s.detail}`);
  if (t.rule) lines.push(`rule       ${t.rule.id}: "${t.rule.name}" of policy "${t.rule.policyName}" (id ${t.rule.policyId}), ${t.rule.action}`);
  lines.push(`=> ${t.verdict.toUpperCase()} (${t.reason}${t.detail ? `: ${t.detail}` : ""})`);
  return printableLines(lines);
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(COMMAND, HELP, {
    args: argv,
    options: {
      ...CONTROL_OPTIONS,
      src: { type: "string" },
      dst: { type: "string" },
      proto: { type: "string" },
      sport: { type: "string" },
      dport: { type: "string" },
      flags: { type: "string" },
      seq: { type: "string" },
      ack: { type: "string" },
      "icmp-type": { type: "string" },
      "icmp-code": { type: "string" },
      hex: { type: "string" },
      pcap: { type: "string" },
      frame: { type: "string" },
      direction: { type: "string" },
      help: HELP_OPTION,
    },
  });
  if (typeof parsed === "number") return parsed;
  const { values } = parsed;
  let packet: Uint8Array;
  try {
    if (values.direction !== undefined && values.direction !== "in" && values.direction !== "out") throw new UsageError(`--direction "${values.direction}" is not in or out`);
    packet = packetFromOptions(values);
  } catch (err) {
    if (err instanceof UsageError) return fail(COMMAND, `${err.message}\n\n${HELP}`, EXIT_USAGE);
    // An unreadable capture: its path and the reason, one line.
    return fail(COMMAND, (err as Error).message.split("\n")[0], EXIT_USAGE);
  }
  const args: Record<string, unknown> = { packet: Buffer.from(packet).toString("hex") };
  if (values.direction) args.direction = values.direction;
  const answer = await ask(COMMAND, "trace", args, values.control);
  if (typeof answer === "number") return answer;
  console.log(values.json ? JSON.stringify(answer.result, null, 2) : formatTrace(answer.result as TraceResult));
  return 0;
}
