// The connection an `explain` question is about, written like a tcpdump line:
//   "tcp 100.64.0.5:51000 > 100.64.0.9:5432 S"     (flags optional, default S: a new connection)
//   "udp 1.2.3.4:53000 > 100.64.0.9:53"
//   "icmp 100.64.0.5 > 100.64.0.9 echo-request"    (type name or number, default echo-request)
//   "tcp [fd00::1]:51000 > [fd00::9]:443"          (IPv6 in brackets when a port follows)

import { tryParseIp } from "../../packet/address.ts";

export interface ExplainQuery {
  protocol: "tcp" | "udp" | "icmp";
  src: string;
  srcPort?: number;
  dst: string;
  dstPort?: number;
  /** TCP flag letters (F S R P A U E C), upper case; "S" when not given. */
  tcpFlags?: string;
  /** ICMP type name (echo-request, echo-reply, destination-unreachable, ...) or number. */
  icmpType?: number;
}

/** A query that cannot be read; the message quotes the part at fault. */
export class ExplainQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExplainQueryError";
  }
}

/** ICMP (v4) type numbers by name; ICMPv6 names map to the v4 meaning we reason about. */
export const ICMP_TYPES: Record<string, number> = {
  "echo-reply": 0,
  "destination-unreachable": 3,
  unreachable: 3,
  redirect: 5,
  "echo-request": 8,
  echo: 8,
  "time-exceeded": 11,
  "parameter-problem": 12,
  timestamp: 13,
  "timestamp-reply": 14,
  "packet-too-big": 3, // ICMPv6 type 2; for us it is an error quoting a packet, like unreachable
};

export const ICMP_ECHO_REQUEST = 8;
export const ICMP_ECHO_REPLY = 0;
/** ICMP errors: they quote a packet and pass only as related traffic (P11). */
export const ICMP_ERROR_TYPES = new Set([3, 4, 5, 11, 12]);

function parseEndpoint(text: string, needPort: boolean, which: string): { address: string; port?: number } {
  let address = text;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    address = bracketed[1];
    portText = bracketed[2];
  } else if ((text.match(/:/g) ?? []).length === 1) {
    [address, portText] = text.split(":");
  }
  if (!tryParseIp(address)) throw new ExplainQueryError(`${which} "${text}" is not an IP address (write IPv6 with a port as [fd00::1]:443)`);
  if (portText === undefined) {
    if (needPort) throw new ExplainQueryError(`${which} "${text}" needs a port (e.g. ${address}:443)`);
    return { address };
  }
  const port = Number(portText);
  if (!/^[0-9]+$/.test(portText) || port > 65535) throw new ExplainQueryError(`${which} port "${portText}" is not a number from 0 to 65535`);
  return { address, port };
}

export function parseExplainQuery(text: string): ExplainQuery {
  const words = text.trim().split(/\s+/);
  const arrow = words.indexOf(">");
  if (arrow !== 2 || words.length < 4 || words.length > 5) {
    throw new ExplainQueryError(`cannot read "${text}": expected "PROTO SRC[:PORT] > DST[:PORT] [FLAGS|ICMP-TYPE]", e.g. "tcp 100.64.0.5:51000 > 100.64.0.9:5432 S"`);
  }
  const protocolWord = words[0].toLowerCase();
  const protocol = protocolWord === "icmp6" || protocolWord === "icmpv6" ? "icmp" : protocolWord;
  if (protocol !== "tcp" && protocol !== "udp" && protocol !== "icmp") throw new ExplainQueryError(`protocol "${words[0]}" is not tcp, udp or icmp`);
  const ported = protocol !== "icmp";
  const src = parseEndpoint(words[1], false, "source");
  const dst = parseEndpoint(words[3], ported, "destination");
  const query: ExplainQuery = { protocol, src: src.address, srcPort: src.port, dst: dst.address, dstPort: dst.port };
  if (!ported && (src.port !== undefined || dst.port !== undefined)) throw new ExplainQueryError("icmp has no ports");
  const extra = words[4];
  if (protocol === "tcp") {
    const flags = (extra ?? "S").replace(/^\[|\]$/g, "").toUpperCase();
    if (!/^[FSRPAUEC.]+$/.test(flags)) throw new ExplainQueryError(`TCP flags "${extra}" are not letters among F S R P A U E C`);
    query.tcpFlags = flags.replace(".", "A");
  } else if (protocol === "icmp") {
    const name = (extra ?? "echo-request").toLowerCase();
    const type = /^[0-9]+$/.test(name) ? Number(name) : ICMP_TYPES[name];
    if (type === undefined || type > 255) throw new ExplainQueryError(`ICMP type "${extra}" is unknown (use a number or one of ${Object.keys(ICMP_TYPES).join(", ")})`);
    query.icmpType = type;
  } else if (extra !== undefined) {
    throw new ExplainQueryError(`udp takes nothing after the destination, got "${extra}"`);
  }
  return query;
}

/** The query written back in its own syntax, for messages. */
export function formatQuery(q: ExplainQuery): string {
  const end = (address: string, port?: number) => (port === undefined ? address : address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`);
  return `${q.protocol} ${end(q.src, q.srcPort)} > ${end(q.dst, q.dstPort)}`;
}
