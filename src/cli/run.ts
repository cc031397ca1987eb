// meshfilter run: one peer agent (TUN device, filter, WireGuard transport) until SIGINT/SIGTERM.

import { readFileSync } from "node:fs";
import { pino, type Logger } from "pino";
import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { PeerAgent, type PeerAgentConfig } from "../agent/peer-agent.ts";
import type { UdpRoute } from "../agent/udp-transport.ts";
import { systemReason } from "../io/system-reason.ts";
import { loadPolicyFile } from "../policy/input/load.ts";
import { PolicyError } from "../policy/model/model.ts";
import { NetworkMapError } from "../policy/input/netbird/network-map.ts";
import { routesFromPolicy } from "../policy/compile/peer-routes.ts";
import { WireGuardConfigError } from "../wireguard/config.ts";
import { badFlagValue, CliError, defineCommand, parseFlags, UsageError, type FlagSpec, type FlagValues } from "./command.ts";
import { policyFailure, withPolicy } from "./common.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./exit-codes.ts";
import { MAX_QUEUES } from "../agent/multi-queue.ts";
import { LOG_LEVELS } from "../agent/control-handlers.ts";
import { textDestination } from "../agent/log-format.ts";
import { DEFAULT_TIMEOUTS } from "../conntrack/timeouts.ts";

/** The idle timeouts that --timeout and the config file's `timeouts` may set. */
const TIMEOUT_NAMES = Object.keys(DEFAULT_TIMEOUTS);

const RUN_FLAGS = {
  policy: {
    type: "string",
    value: "FILE",
    help: "account policy (meshfilter YAML/JSON or NetBird export); watched and re-applied on change (SIGHUP reloads too); an invalid file is rejected. Write it by renaming a complete file over it: a file changed in place is read once it has not changed for the settle time",
  },
  "policy-memory-mb": { type: "string", value: "N", help: "heap limit of the thread that loads the policy (default 1024); a file that needs more is rejected" },
  "policy-timeout-ms": { type: "string", value: "N", help: "time limit for loading the policy (default 60000); a file that takes longer is rejected" },
  "policy-settle-ms": { type: "string", value: "N", help: "quiet time before a policy file changed in place is read (default 2000)" },
  peer: { type: "string", value: "NAME", help: "this peer's name, id, overlay IP, FQDN or DNS label in the policy" },
  "network-map": {
    type: "string",
    value: "FILE",
    help: "instead of --policy and --peer: a NetBird peer's NetworkMap (network_map.json or binary protobuf), watched like a policy file",
  },
  "dns-server": { type: "string", value: "ADDR[:PORT]", multiple: true, help: "DNS server for domain resources (default: the system's resolver)" },
  "dns-min-refresh-ms": { type: "string", value: "N", help: "keep a resolved domain resource at least this long, whatever its TTL (default 5000)" },
  "dns-max-refresh-ms": { type: "string", value: "N", help: "keep it at most this long (default 3600000); each is resolved again halfway through" },
  wireguard: {
    type: "string",
    value: "FILE",
    help: "WireGuard configuration, wg-quick style: [Interface] PrivateKey, ListenPort, Address; [Peer] PublicKey, PresharedKey, AllowedIPs, Endpoint, PersistentKeepalive (docs/agent.md)",
  },
  transport: {
    type: "string",
    value: "NAME",
    help: "wireguard (default), or plaintext-udp: the TEST transport (--listen, --peer-endpoint, --route), UNENCRYPTED AND UNAUTHENTICATED: anyone on the underlay can read the traffic and inject packets with any inner source address, which defeats every policy. For tests and benchmarks only",
  },
  listen: { type: "string", value: "ADDR:PORT", help: "plaintext-udp test transport: UDP address to receive on, e.g. 198.18.0.1:51820" },
  "peer-endpoint": { type: "string", value: "IP=ADDR:PORT", multiple: true, help: "plaintext-udp test transport: overlay IP of another peer = its underlay endpoint" },
  route: {
    type: "string",
    value: "PREFIX=IP",
    multiple: true,
    help: "plaintext-udp test transport: a prefix behind the routing peer with overlay IP; without --route (and without routes in --config) the routes come from the policy: the network resources this peer may reach and the routes distributed to it",
  },
  tun: { type: "string", value: "NAME", help: "TUN device (default mf0); the agent sets its address, MTU, routes, up" },
  mtu: { type: "string", value: "N", help: "TUN MTU (default 1420)" },
  txqueuelen: { type: "string", value: "N", help: "packets the kernel queues on the TUN for the agent (default 5000)" },
  "prefix-length": { type: "string", value: "N", help: "overlay prefix length for the TUN address (default 16)" },
  "no-configure-link": { type: "boolean", help: "leave address, MTU, routes and link state to the operator" },
  metrics: { type: "string", value: "ADDR:PORT", help: "serve Prometheus metrics at http://ADDR:PORT/metrics" },
  control: { type: "string", value: "PATH", help: "control socket for status, flows, trace, counters, reload, log-level, flush (default /run/meshfilter/meshfilter.sock, mode 0600)" },
  "control-group": { type: "string", value: "GROUP", help: "let GROUP's members use the control socket (mode 0660)" },
  "no-control": { type: "boolean", help: "serve no control socket" },
  "flow-log": { type: "string", value: "FILE|-", help: "flow log (JSON lines, docs/operating.md) to FILE, rotated to FILE.1 at --flow-log-max-file-bytes, or - for stdout" },
  "flow-log-window-ms": { type: "string", value: "N", help: "drops are aggregated over windows of N ms (default 10000)" },
  "flow-log-max-bytes-per-second": { type: "string", value: "N", help: "output budget of the flow log (default 65536); what exceeds it is counted, not written" },
  "flow-log-max-file-bytes": { type: "string", value: "N", help: "size at which the flow log file is rotated (default 104857600)" },
  "conntrack-capacity": { type: "string", value: "N", help: "connection table capacity (default 65536)" },
  timeout: { type: "string", value: "NAME=SECONDS", multiple: true, help: "an idle timeout, e.g. tcpEstablished=7200 or udpUnreplied=30 (names in docs/operating.md)" },
  "loose-tcp": { type: "boolean", help: "a mid-stream TCP ACK may open a connection (Linux tcp_loose)" },
  "honour-bidirectional": { type: "boolean", help: "honour NetBird's bidirectional flag for every protocol (P5)" },
  egress: { type: "boolean", help: "also enforce this peer's outbound rules (P13)" },
  "no-filter": { type: "boolean", help: "pass every packet (throughput baseline)" },
  batch: { type: "string", value: "N", help: "packets per batch (default 64)" },
  queues: {
    type: "string",
    value: "N",
    help: `TUN queues (IFF_MULTI_QUEUE), each judged by a worker thread with its own connection table (default 1; at most ${MAX_QUEUES}; docs/agent.md "Multi-queue")`,
  },
  "no-offload": { type: "boolean", help: "no UDP GSO/GRO and no merged TCP writes into the TUN" },
  config: {
    type: "string",
    value: "FILE",
    help: "YAML/JSON file with the same settings (camelCase keys, see docs/agent.md); command-line options override it",
  },
  "log-level": { type: "string", value: "LEVEL", help: "fatal, error, warn, info (default), debug, trace or silent; changed at run time with 'meshfilter log-level LEVEL'" },
  "log-format": { type: "string", value: "text|json", help: "log lines for a person or for a machine (default: text when stderr is a terminal, else json)" },
} as const satisfies Record<string, FlagSpec>;

const configFileSchema = z
  .object({
    policyFile: z.string(),
    peer: z.string(),
    tun: z.string(),
    mtu: z.number().int().min(576).max(65535),
    prefixLength: z.number().int().min(1).max(32),
    txQueueLength: z.number().int().min(1),
    configureLink: z.boolean(),
    wireguard: z.string(),
    transport: z.enum(["wireguard", "plaintext-udp"]),
    wireguardTimers: z
      .object({
        rekeyAfterTime: z.number().positive(),
        rejectAfterTime: z.number().positive(),
        rekeyAttemptTime: z.number().positive(),
        rekeyTimeout: z.number().positive(),
        rekeyTimeoutJitter: z.number().min(0),
        keepaliveTimeout: z.number().positive(),
        cookieRefreshTime: z.number().positive(),
        handshakeInitiationRate: z.number().min(0),
        rekeyAfterMessages: z.number().positive(),
        rejectAfterMessages: z.number().positive(),
      })
      .partial()
      .strict(),
    wireguardHandshakesBeforeCookies: z.number().int().min(0),
    listen: z.string(),
    peers: z.array(z.object({ overlay: z.string(), endpoint: z.string() }).strict()),
    routes: z.array(z.object({ prefix: z.string(), via: z.string() }).strict()),
    metrics: z.string(),
    flowLog: z.string(),
    filter: z.boolean(),
    egress: z.boolean(),
    batchSize: z.number().int().min(1).max(256),
    queues: z.number().int().min(1).max(MAX_QUEUES),
    offload: z.boolean(),
    policyMemoryMb: z.number().int().min(16),
    policyTimeoutMs: z.number().int().min(1),
    policySettleMs: z.number().int().min(0),
    networkMap: z.boolean(),
    dns: z.object({ servers: z.array(z.string()), minRefreshMs: z.number().int().min(1), maxRefreshMs: z.number().int().min(1) }).partial().strict(),
    control: z.string(),
    controlGroup: z.string(),
    flowLogWindowMs: z.number().int().min(100),
    flowLogMaxBytesPerSecond: z.number().int().min(1024),
    flowLogMaxFileBytes: z.number().int().min(4096),
    conntrackCapacity: z.number().int().min(16).max(1 << 26),
    timeouts: z.object(Object.fromEntries(TIMEOUT_NAMES.map((n) => [n, z.number().positive()]))).partial().strict(),
    looseTcp: z.boolean(),
    honourBidirectional: z.boolean(),
    logLevel: z.enum(LOG_LEVELS as [string, ...string[]]),
    logFormat: z.enum(["text", "json"]),
  })
  .partial()
  .strict();

function splitPair(text: string, option: string, example: string): [string, string] {
  const eq = text.indexOf("=");
  if (eq <= 0 || eq === text.length - 1) badFlagValue(option, text, `expected ${example}`);
  return [text.slice(0, eq), text.slice(eq + 1)];
}

function positiveInt(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) badFlagValue(option, text, "expected a positive integer");
  return n;
}

/** --queues: a whole number from 1 to the kernel's limit of queues per TUN device. */
function queueCount(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > MAX_QUEUES) badFlagValue("queues", text, `expected a whole number from 1 to ${MAX_QUEUES} (the kernel's limit of queues per TUN device)`);
  return n;
}

type ConfigFile = z.infer<typeof configFileSchema>;

/** The config file, validated; each problem as "FILE:LINE: $.key: message". */
function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new CliError(`cannot read config file ${path}: ${systemReason(err)}`, EXIT_USAGE);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new CliError(`invalid config file ${path}:${e.linePos?.[0].line ?? 1}: ${e.message.split("\n")[0]}`, EXIT_USAGE);
  }
  const parsed = configFileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const keys = i.path.map(String);
      // An unknown key has no node of its own in the issue's path: point at the key itself.
      const at = i.code === "unrecognized_keys" ? [...keys, i.keys[0]] : keys;
      const node = doc.getIn(at, true) as { range?: [number, number, number] } | undefined;
      const line = node?.range ? lines.linePos(node.range[0]).line : keyLine(doc, at, lines);
      return `${path}:${line}: $${keys.map((k) => (/^[0-9]+$/.test(k) ? `[${k}]` : `.${k}`)).join("")}: ${i.message}`;
    });
    throw new CliError(`invalid config file ${path}:\n  ${problems.join("\n  ")}`, EXIT_USAGE);
  }
  return parsed.data;
}

/** The line of a key in the document (a key with no value node), or 1. */
function keyLine(doc: ReturnType<typeof parseDocument>, path: string[], lines: LineCounter): number {
  const parent = path.length > 1 ? doc.getIn(path.slice(0, -1), true) : doc.contents;
  const items = (parent as { items?: { key?: { value?: unknown; range?: [number, number, number] } }[] } | null)?.items ?? [];
  const pair = items.find((p) => String(p.key?.value) === path[path.length - 1]);
  return pair?.key?.range ? lines.linePos(pair.key.range[0]).line : 1;
}

/** --timeout NAME=SECONDS pairs as a Timeouts object (seconds). */
function parseTimeouts(pairs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const text of pairs) {
    const [name, value] = splitPair(text, "timeout", "NAME=SECONDS, e.g. tcpEstablished=7200");
    if (!TIMEOUT_NAMES.includes(name)) badFlagValue("timeout", text, `${name} is not one of ${TIMEOUT_NAMES.join(", ")}`);
    const seconds = Number(value);
    if (!(seconds > 0)) badFlagValue("timeout", text, "expected a positive number of seconds");
    out[name] = seconds;
  }
  return out;
}

export interface RunSettings extends PeerAgentConfig {
  logLevel: string;
  /** Neither --route nor the config file's routes: the routes come from the policy (routesFromPolicy). */
  routesFromPolicy: boolean;
  /** "text" or "json"; undefined: text on a terminal. */
  logFormat?: string;
}

/** The agent's configuration from argv (and --config). Throws UsageError, or CliError for a bad config file. */
export function parseRunArgs(argv: string[]): RunSettings {
  const parsed = parseFlags(command, argv);
  if (parsed === null) throw new UsageError("--help asks for the help text, not a configuration");
  return runConfig(parsed.flags);
}

function withoutTransport(file: ConfigFile | Record<string, never>): Omit<ConfigFile, "transport"> {
  const { transport: _, ...rest } = file as ConfigFile;
  return rest;
}

function runConfig(values: FlagValues<typeof RUN_FLAGS>): RunSettings {
  const file = values.config ? readConfigFile(values.config) : {};
  const peers = values["peer-endpoint"].map((text) => {
    const [overlay, endpoint] = splitPair(text, "peer-endpoint", "OVERLAY_IP=ADDR:PORT, e.g. 100.64.0.20=198.18.0.2:51820");
    return { overlay, endpoint };
  });
  const routes = values.route.map((text) => {
    const [prefix, via] = splitPair(text, "route", "PREFIX=OVERLAY_IP, e.g. 198.18.1.0/24=100.64.0.40");
    return { prefix, via };
  });
  if (values["network-map"] !== undefined && (values.policy !== undefined || values.peer !== undefined)) {
    throw new UsageError("--network-map is one peer's tables already: give it without --policy and --peer");
  }
  const networkMap = values["network-map"] !== undefined || file.networkMap === true;
  const dns = {
    ...file.dns,
    ...(values["dns-server"].length > 0 ? { servers: values["dns-server"] } : {}),
    ...(values["dns-min-refresh-ms"] !== undefined ? { minRefreshMs: positiveInt(values["dns-min-refresh-ms"], "dns-min-refresh-ms") } : {}),
    ...(values["dns-max-refresh-ms"] !== undefined ? { maxRefreshMs: positiveInt(values["dns-max-refresh-ms"], "dns-max-refresh-ms") } : {}),
  };
  const config = {
    ...withoutTransport(file),
    policyFile: values["network-map"] ?? values.policy ?? file.policyFile,
    networkMap,
    dns,
    peer: networkMap ? (values.peer ?? file.peer ?? "") : (values.peer ?? file.peer),
    wireguard: values.wireguard ?? file.wireguard,
    listen: values.listen ?? file.listen,
    peers: [...(file.peers ?? []), ...peers],
    routes: [...(file.routes ?? []), ...routes],
    routesFromPolicy: routes.length === 0 && file.routes === undefined,
    tun: values.tun ?? file.tun,
    mtu: positiveInt(values.mtu, "mtu") ?? file.mtu,
    prefixLength: positiveInt(values["prefix-length"], "prefix-length") ?? file.prefixLength,
    txQueueLength: positiveInt(values.txqueuelen, "txqueuelen") ?? file.txQueueLength,
    configureLink: values["no-configure-link"] ? false : file.configureLink,
    metrics: values.metrics ?? file.metrics,
    flowLog: values["flow-log"] ?? file.flowLog,
    egress: values.egress || file.egress,
    filter: values["no-filter"] ? false : file.filter,
    batchSize: positiveInt(values.batch, "batch") ?? file.batchSize,
    queues: queueCount(values.queues) ?? file.queues,
    offload: values["no-offload"] ? false : file.offload,
    policyMemoryMb: positiveInt(values["policy-memory-mb"], "policy-memory-mb") ?? file.policyMemoryMb,
    policyTimeoutMs: positiveInt(values["policy-timeout-ms"], "policy-timeout-ms") ?? file.policyTimeoutMs,
    policySettleMs: positiveInt(values["policy-settle-ms"], "policy-settle-ms") ?? file.policySettleMs,
    control: values["no-control"] ? "" : (values.control ?? file.control),
    controlGroup: values["control-group"] ?? file.controlGroup,
    flowLogWindowMs: positiveInt(values["flow-log-window-ms"], "flow-log-window-ms") ?? file.flowLogWindowMs,
    flowLogMaxBytesPerSecond: positiveInt(values["flow-log-max-bytes-per-second"], "flow-log-max-bytes-per-second") ?? file.flowLogMaxBytesPerSecond,
    flowLogMaxFileBytes: positiveInt(values["flow-log-max-file-bytes"], "flow-log-max-file-bytes") ?? file.flowLogMaxFileBytes,
    conntrackCapacity: positiveInt(values["conntrack-capacity"], "conntrack-capacity") ?? file.conntrackCapacity,
    timeouts: { ...(file.timeouts ?? {}), ...parseTimeouts(values.timeout) },
    looseTcp: values["loose-tcp"] || file.looseTcp,
    honourBidirectional: values["honour-bidirectional"] || file.honourBidirectional,
  };
  const logLevel = values["log-level"] ?? file.logLevel ?? "info";
  if (!LOG_LEVELS.includes(logLevel)) badFlagValue("log-level", logLevel, `expected one of ${LOG_LEVELS.join(", ")}`);
  const logFormat = values["log-format"] ?? file.logFormat;
  if (logFormat !== undefined && logFormat !== "text" && logFormat !== "json") badFlagValue("log-format", logFormat, "expected text or json");
  const transport = values.transport ?? file.transport ?? "wireguard";
  if (transport !== "wireguard" && transport !== "plaintext-udp") badFlagValue("transport", transport, "expected wireguard or plaintext-udp");
  if (transport === "wireguard" && (config.listen || config.peers.length > 0 || config.routes.length > 0)) {
    throw new UsageError("--listen, --peer-endpoint and --route belong to the plaintext UDP test transport: name it with --transport plaintext-udp");
  }
  if (transport === "plaintext-udp") config.wireguard = undefined;
  if ((config.queues ?? 1) > 1 && config.flowLog) {
    throw new UsageError(`--flow-log needs one queue: with --queues ${config.queues} each worker has its own engine, and their flow events are not gathered`);
  }
  const needed = transport === "wireguard" ? (["policyFile", "peer", "wireguard"] as const) : (["policyFile", "peer", "listen"] as const);
  const missing = needed.filter((k) => !config[k] && !(k === "peer" && networkMap));
  if (missing.length > 0) {
    const names = { policyFile: "--policy", peer: "--peer", wireguard: "--wireguard", listen: "--listen" };
    throw new UsageError(`missing ${missing.map((k) => names[k]).join(", ")}`);
  }
  return { ...(config as PeerAgentConfig & { routesFromPolicy: boolean }), logLevel, logFormat };
}

/**
 * The routes the policy gives this peer (network resources it may reach, legacy routes
 * distributed to it), for those whose routing peer has a --peer-endpoint; the others are
 * logged and left out. Read once at start: a reloaded policy keeps the routes.
 */
function policyRoutes(config: PeerAgentConfig, log: Logger): UdpRoute[] {
  const routes = withPolicy(config.policyFile, () => routesFromPolicy(loadPolicyFile(config.policyFile), config.peer));
  const endpoints = new Set((config.peers ?? []).map((p) => p.overlay));
  for (const r of routes) {
    if (!endpoints.has(r.via)) log.warn({ prefix: r.prefix, via: r.via }, "the policy routes this prefix through a peer with no --peer-endpoint: left out");
  }
  const usable = routes.filter((r) => endpoints.has(r.via));
  log.info({ routes: usable }, "routes from the policy");
  return usable;
}

export const command = defineCommand({
  name: "run",
  usage: "--policy FILE --peer NAME --wireguard FILE [options]",
  description: `Runs one mesh peer until SIGINT or SIGTERM: a TUN device, the stateful filter and a
WireGuard transport that interoperates with wireguard-go and the Linux module. Prints
its public key at start. --transport plaintext-udp (with --listen, --peer-endpoint,
--route) runs the UNENCRYPTED, UNAUTHENTICATED test transport instead: for tests and
benchmarks only. --policy, --peer, --wireguard and --listen may come from --config.

SIGTERM and SIGINT stop the agent cleanly (TUN closed, control socket removed, flow
log flushed, exit 0); SIGHUP reloads the policy. docs/operating.md has the control
socket, the flow log's schema and the config file's keys.`,
  flags: RUN_FLAGS,
  exits: {
    [EXIT_OK]: "stopped by SIGINT/SIGTERM",
    [EXIT_FAILURE]: "the agent could not start (TUN device, socket, permission)",
    [EXIT_USAGE]: "bad usage, a bad config file, a bad policy or WireGuard configuration, or a --peer the policy does not have",
  },
  async run({ flags }) {
    const { logLevel, logFormat, routesFromPolicy: fromPolicy, ...config } = runConfig(flags);
    // Logs go to stderr, synchronously, so the last lines before an exit are never lost.
    const text = logFormat === "text" || (logFormat === undefined && process.stderr.isTTY);
    const log = pino({ name: "meshfilter", level: logLevel }, text ? textDestination(2) : pino.destination({ fd: 2, sync: true }));
    // The plaintext test transport routes by prefix; WireGuard routes by its peers' AllowedIPs.
    // A NetworkMap is one peer's tables, not an account: its routes are not read here.
    if (fromPolicy && !config.wireguard && !config.networkMap) config.routes = policyRoutes(config, log);
    let agent: PeerAgent;
    try {
      agent = await PeerAgent.start(config, log);
      if (agent.publicKey) console.log(`public key: ${agent.publicKey}`);
    } catch (err) {
      // A bad policy, NetworkMap or WireGuard configuration, or a --peer that names no peer or several: the same exit 2 as the other commands.
      if (err instanceof PolicyError) throw policyFailure(err, config.policyFile) ?? err;
      if (err instanceof NetworkMapError || err instanceof WireGuardConfigError) throw new CliError(err.message, EXIT_USAGE);
      throw new CliError((err as Error).message.split("\n")[0], EXIT_FAILURE);
    }
    const reload = () => void agent.reloadPolicy();
    process.on("SIGHUP", reload);
    const signal = await new Promise<string>((resolve) => {
      process.once("SIGINT", () => resolve("SIGINT"));
      process.once("SIGTERM", () => resolve("SIGTERM"));
      watchLauncher(() => resolve("launcher gone"));
    });
    log.info({ signal }, "shutting down");
    process.off("SIGHUP", reload);
    await agent.close();
    return EXIT_OK;
  },
});

/**
 * Started through npm (`npx meshfilter run`, `npm start`), the agent's parent is a shell
 * that npm runs it in: npm passes SIGTERM on to that shell, which dies of it without
 * passing it on, and the agent would be left running, orphaned, with its TUN device. So
 * when npm started it (npm sets npm_command in its children's environment), the agent
 * stops as on SIGTERM once its parent is gone (it is adopted by another process). Started
 * any other way (directly, by a service manager), the parent is left alone.
 */
function watchLauncher(onGone: () => void): void {
  if (!process.env.npm_command) return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onGone();
    }
  }, PARENT_CHECK_MS);
  timer.unref();
}

const PARENT_CHECK_MS = 250;
