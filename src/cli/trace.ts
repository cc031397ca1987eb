// `meshfilter trace`: what a running agent's filter does with a packet now, stage by
// stage, without changing anything (the equivalent of `netbird debug trace`). The packet
// comes from flags, from hex, or from a frame of a capture file; the agent runs it
// through its live engine (engine/trace.ts).

import type { TraceResult } from "../engine/trace.ts";
import { readCapture } from "../io/capture.ts";
import { ICMP_TYPES } from "../policy/explain/explain-query.ts";
import { buildPacket } from "../packet/builder.ts";
import { printableLines } from "../text/printable.ts";
import { CliError, defineCommand, UsageError } from "./command.ts";
import { ask, CONTROL_EXITS, CONTROL_FLAGS } from "./control-client.ts";
import { EXIT_OK, EXIT_USAGE } from "./exit-codes.ts";


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

export const command = defineCommand({
  name: "trace",
  usage: "(--src IP --dst IP --proto P [...] | --hex HEX | --pcap FILE --frame N) [--direction in|out] [--control PATH] [--json]",
  description: `Runs a packet through a running agent's filter, stage by stage (decode, fragments,
tracked connection, rules, tracking, verdict), and prints what each stage decided and
the verdict: the equivalent of 'netbird debug trace'. Nothing changes: no flow is opened,
no counter moves. The packet comes from flags (TCP flags default to S), from its bytes in
hex, or from frame N (1-based, as Wireshark numbers them) of a pcap/pcapng file.`,
  flags: {
    src: { type: "string", value: "IP", help: "source address" },
    dst: { type: "string", value: "IP", help: "destination address" },
    proto: { type: "string", value: "tcp|udp|icmp", help: "protocol" },
    sport: { type: "string", value: "N", help: "source port (default 40000)" },
    dport: { type: "string", value: "N", help: "destination port (default 80)" },
    flags: { type: "string", value: "LETTERS", help: "TCP flags among F S R P A U E C (default S)" },
    seq: { type: "string", value: "N", help: "TCP sequence number" },
    ack: { type: "string", value: "N", help: "TCP acknowledgment number" },
    "icmp-type": { type: "string", value: "NAME|N", help: "ICMP type, e.g. echo-request (default), echo-reply, 3" },
    "icmp-code": { type: "string", value: "N", help: "ICMP code" },
    hex: { type: "string", value: "HEX", help: "the IP packet's bytes in hex" },
    pcap: { type: "string", value: "FILE", help: "a pcap or pcapng file to take the packet from (with --frame)" },
    frame: { type: "string", value: "N", help: "which frame of --pcap (1 is the first)" },
    direction: { type: "string", value: "in|out", help: "judge it as arriving from the mesh (in) or from this side (out); default: by its addresses" },
    ...CONTROL_FLAGS,
  },
  exits: { ...CONTROL_EXITS, [EXIT_OK]: "traced (accept or drop)", [EXIT_USAGE]: "bad usage, or a capture that cannot be read" },
  async run({ flags }) {
    if (flags.direction !== undefined && flags.direction !== "in" && flags.direction !== "out") throw new UsageError(`--direction "${flags.direction}" is not in or out`);
    let packet: Uint8Array;
    try {
      packet = packetFromOptions(flags);
    } catch (err) {
      if (err instanceof UsageError) throw err;
      // An unreadable capture: its path and the reason, one line.
      throw new CliError((err as Error).message.split("\n")[0], EXIT_USAGE);
    }
    const args: Record<string, unknown> = { packet: Buffer.from(packet).toString("hex") };
    if (flags.direction) args.direction = flags.direction;
    const result = await ask("trace", args, flags.control);
    console.log(flags.json ? JSON.stringify(result, null, 2) : formatTrace(result as TraceResult));
    return EXIT_OK;
  },
});
