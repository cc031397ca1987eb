// `meshfilter watch --iface IF --policy FILE --peer P`: shadow mode. Captures live
// traffic on an interface with libpcap (the `cap` package), judges it as peer P's filter
// would, and enforces nothing: it prints a line per new connection the policy would
// drop, and totals every --interval seconds. Stops cleanly on SIGINT/SIGTERM.

import { createRequire } from "node:module";
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_NULL, LINKTYPE_RAW } from "../io/link-layer.ts";
import { NEW_CONNECTION_DROP_REASONS } from "../replay/new-connection-drops.ts";
import { formatDropReport, ShadowJudge, type DropReport } from "../replay/shadow.ts";
import type { ReplayCounters } from "../replay/counters.ts";
import { formatCount } from "../text/numbers.ts";
import { printable } from "../text/printable.ts";
import { badFlagValue, CliError, defineCommand, type FlagSpec, type FlagValues } from "./command.ts";
import { loadPeerFilter, PEER_FILTER_FLAGS } from "./common.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./exit-codes.ts";

/** The subset of the `cap` package used here (it ships no types). */
interface CapHandle {
  open(device: string, filter: string, bufferSize: number, buffer: Buffer): string;
  on(event: "packet", listener: (bytes: number, truncated: boolean) => void): void;
  close(): void;
}
type CapModule = { Cap: (new () => CapHandle) & { deviceList(): { name: string }[] } };

/** cap's link type names to LINKTYPE_* numbers. */
const CAP_LINK_TYPES: Record<string, number> = {
  ETHERNET: LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL: LINKTYPE_LINUX_SLL,
  RAW: LINKTYPE_RAW,
  NULL: LINKTYPE_NULL,
};

const CAPTURE_BUFFER_BYTES = 16 * 1024 * 1024;
const SNAPLEN_BYTES = 65_536;

function loadCap(): CapModule {
  // cap is a CommonJS native addon and an optional dependency: load it only here.
  const require = createRequire(import.meta.url);
  return require("cap") as CapModule;
}

function totalsLine(c: ReplayCounters, json: boolean): string {
  const totals = { packets: c.read, judged: c.judged, accepted: c.accepted, dropped: c.dropped, notForPeer: c.notForPeer };
  if (json) return JSON.stringify({ type: "totals", time: new Date().toISOString(), ...totals });
  const n = formatCount;
  return `${new Date().toISOString()} totals: ${n(totals.packets)} packets, ${n(totals.judged)} judged, ${n(totals.accepted)} accepted, ${n(totals.dropped)} dropped, ${n(totals.notForPeer)} not for this peer`;
}

const WATCH_FLAGS = {
  iface: { type: "string", value: "IF", required: true, help: "interface to capture on (Ethernet, raw IP or Linux cooked)" },
  ...PEER_FILTER_FLAGS,
  interval: { type: "string", value: "SECONDS", help: "seconds between totals lines (default 10; 0 = only at exit)" },
  json: { type: "boolean", help: "print drops and totals as JSON lines" },
} as const satisfies Record<string, FlagSpec>;

export const command = defineCommand({
  name: "watch",
  usage: "--iface IF --policy FILE --peer PEER [--interval SECONDS] [--json]",
  description: `Shadow mode: captures live traffic on IF (libpcap, needs root or CAP_NET_RAW) and
judges it as PEER's filter would, WITHOUT enforcing anything. Prints one line per new
connection the policy would drop, and the totals every --interval seconds and at exit.`,
  flags: WATCH_FLAGS,
  exits: {
    [EXIT_OK]: "stopped by SIGINT/SIGTERM",
    [EXIT_FAILURE]: "capture failed (no libpcap, no such interface, no permission)",
    [EXIT_USAGE]: "bad usage or bad policy (problems listed with JSON paths)",
  },
  run: (invocation) => watch(invocation.flags),
});

async function watch(values: FlagValues<typeof WATCH_FLAGS>): Promise<number> {
  const intervalText = values.interval ?? "10";
  const intervalSeconds = Number(intervalText);
  if (!(intervalSeconds >= 0)) badFlagValue("interval", intervalText, "expected a number of seconds >= 0");

  const filter = loadPeerFilter(values);

  let cap: CapModule;
  try {
    cap = loadCap();
  } catch (err) {
    throw new CliError(`the libpcap binding (npm package "cap") is not available: ${(err as Error).message}`, EXIT_FAILURE);
  }
  // Checked before a capture handle exists: cap's handle crashes the process at exit
  // when its open() failed.
  const devices = cap.Cap.deviceList().map((d) => d.name);
  if (!devices.includes(values.iface)) {
    throw new CliError(`no interface ${values.iface} to capture on (libpcap sees: ${devices.join(", ") || "none; are you root?"})`, EXIT_FAILURE);
  }
  const handle = new cap.Cap();
  const buffer = Buffer.alloc(SNAPLEN_BYTES);
  let capLinkType: string;
  try {
    capLinkType = handle.open(values.iface, "", CAPTURE_BUFFER_BYTES, buffer);
  } catch (err) {
    throw new CliError(`cannot capture on ${values.iface}: ${(err as Error).message}`, EXIT_FAILURE);
  }
  const linkType = CAP_LINK_TYPES[capLinkType];
  if (linkType === undefined) {
    handle.close();
    throw new CliError(`${values.iface} has link type ${capLinkType}, which watch cannot read (Ethernet, raw IP, Linux cooked or BSD loopback)`, EXIT_FAILURE);
  }

  const json = values.json;
  const print = (report: DropReport): void => {
    console.log(json ? JSON.stringify({ type: "drop", ...report }) : formatDropReport(report));
  };
  const judge = new ShadowJudge(filter, linkType, NEW_CONNECTION_DROP_REASONS, print);
  handle.on("packet", (bytes) => judge.frame(buffer, bytes, Date.now()));
  const peer = filter.policy.peer;
  console.error(printable(`meshfilter watch: listening on ${values.iface} (${capLinkType}) as peer ${peer.name} (${peer.addresses.join(", ")}), not enforcing`));

  const timer = intervalSeconds > 0 ? setInterval(() => console.log(totalsLine(judge.counters, json)), intervalSeconds * 1000) : undefined;
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  if (timer) clearInterval(timer);
  handle.close();
  console.log(totalsLine(judge.counters, json));
  return EXIT_OK;
}
