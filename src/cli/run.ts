// meshfilter run: one peer agent (TUN device, filter, UDP transport) until SIGINT/SIGTERM.

import { readFileSync } from "node:fs";
import { pino } from "pino";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { PeerAgent, type PeerAgentConfig } from "../agent/peer-agent.ts";
import { PolicyError } from "../policy/model.ts";
import { NetworkMapError } from "../policy/network-map.ts";
import { badFlagValue, CliError, defineCommand, parseFlags, UsageError, type FlagSpec, type FlagValues } from "./command.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./exit-codes.ts";

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
  listen: { type: "string", value: "ADDR:PORT", help: "UDP underlay address to receive on, e.g. 198.18.0.1:51820" },
  "peer-endpoint": { type: "string", value: "IP=ADDR:PORT", multiple: true, help: "overlay IP of another peer = its underlay endpoint" },
  route: { type: "string", value: "PREFIX=IP", multiple: true, help: "a prefix behind the routing peer with overlay IP" },
  tun: { type: "string", value: "NAME", help: "TUN device (default mf0); the agent sets its address, MTU, routes, up" },
  mtu: { type: "string", value: "N", help: "TUN MTU (default 1420)" },
  txqueuelen: { type: "string", value: "N", help: "packets the kernel queues on the TUN for the agent (default 5000)" },
  "prefix-length": { type: "string", value: "N", help: "overlay prefix length for the TUN address (default 16)" },
  "no-configure-link": { type: "boolean", help: "leave address, MTU, routes and link state to the operator" },
  metrics: { type: "string", value: "ADDR:PORT", help: "serve Prometheus metrics at http://ADDR:PORT/metrics" },
  "flow-log": { type: "string", value: "FILE", help: "append flow events as NDJSON" },
  egress: { type: "boolean", help: "also enforce this peer's outbound rules (P13)" },
  "no-filter": { type: "boolean", help: "pass every packet (throughput baseline)" },
  batch: { type: "string", value: "N", help: "packets per batch (default 64)" },
  "no-offload": { type: "boolean", help: "no UDP GSO/GRO and no merged TCP writes into the TUN" },
  config: {
    type: "string",
    value: "FILE",
    help: "YAML/JSON file with the same settings (camelCase keys, see docs/agent.md); command-line options override it",
  },
  "log-level": { type: "string", value: "LEVEL", help: "pino level (default info)" },
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
    listen: z.string(),
    peers: z.array(z.object({ overlay: z.string(), endpoint: z.string() }).strict()),
    routes: z.array(z.object({ prefix: z.string(), via: z.string() }).strict()),
    metrics: z.string(),
    flowLog: z.string(),
    filter: z.boolean(),
    egress: z.boolean(),
    batchSize: z.number().int().min(1).max(256),
    offload: z.boolean(),
    policyMemoryMb: z.number().int().min(16),
    policyTimeoutMs: z.number().int().min(1),
    policySettleMs: z.number().int().min(0),
    networkMap: z.boolean(),
    dns: z.object({ servers: z.array(z.string()), minRefreshMs: z.number().int().min(1), maxRefreshMs: z.number().int().min(1) }).partial().strict(),
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

function readConfigFile(path: string): Partial<PeerAgentConfig> {
  const parsed = configFileSchema.safeParse(parseYaml(readFileSync(path, "utf8")));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join(".") || "(top)"}: ${i.message}`).join("\n");
    throw new CliError(`invalid config file ${path}:\n${problems}`, EXIT_USAGE);
  }
  return parsed.data;
}

/** The agent's configuration from argv (and --config). Throws UsageError, or CliError for a bad config file. */
export function parseRunArgs(argv: string[]): PeerAgentConfig & { logLevel: string } {
  const parsed = parseFlags(command, argv);
  if (parsed === null) throw new UsageError("--help asks for the help text, not a configuration");
  return runConfig(parsed.flags);
}

function runConfig(values: FlagValues<typeof RUN_FLAGS>): PeerAgentConfig & { logLevel: string } {
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
    ...file,
    policyFile: values["network-map"] ?? values.policy ?? file.policyFile,
    networkMap,
    dns,
    peer: networkMap ? (values.peer ?? file.peer ?? "") : (values.peer ?? file.peer),
    listen: values.listen ?? file.listen,
    peers: [...(file.peers ?? []), ...peers],
    routes: [...(file.routes ?? []), ...routes],
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
    offload: values["no-offload"] ? false : file.offload,
    policyMemoryMb: positiveInt(values["policy-memory-mb"], "policy-memory-mb") ?? file.policyMemoryMb,
    policyTimeoutMs: positiveInt(values["policy-timeout-ms"], "policy-timeout-ms") ?? file.policyTimeoutMs,
    policySettleMs: positiveInt(values["policy-settle-ms"], "policy-settle-ms") ?? file.policySettleMs,
  };
  const missing = (["policyFile", "peer", "listen"] as const).filter((k) => !config[k] && !(k === "peer" && networkMap));
  if (missing.length > 0) {
    const names = { policyFile: "--policy", peer: "--peer", listen: "--listen" };
    throw new UsageError(`missing ${missing.map((k) => names[k]).join(", ")}`);
  }
  return { ...(config as PeerAgentConfig), logLevel: values["log-level"] ?? "info" };
}

export const command = defineCommand({
  name: "run",
  usage: "--policy FILE --peer NAME --listen ADDR:PORT [options]",
  description: `Runs one mesh peer: a TUN device, the stateful filter and a plain UDP transport,
until SIGINT or SIGTERM. The UDP transport is UNENCRYPTED and UNAUTHENTICATED: for
tests and benchmarks only. --policy, --peer and --listen may come from --config.`,
  flags: RUN_FLAGS,
  exits: {
    [EXIT_OK]: "stopped by SIGINT/SIGTERM",
    [EXIT_FAILURE]: "the agent could not start (TUN device, socket, permission)",
    [EXIT_USAGE]: "bad usage, a bad config file, a bad policy, or a --peer the policy does not have",
  },
  async run({ flags }) {
    const { logLevel, ...config } = runConfig(flags);
    // Logs go to stderr, synchronously, so the last lines before an exit are never lost.
    const log = pino({ name: "meshfilter", level: logLevel }, pino.destination({ fd: 2, sync: true }));
    let agent: PeerAgent;
    try {
      agent = await PeerAgent.start(config, log);
    } catch (err) {
      // A bad policy, or a --peer that names no peer or several: the same exit 2 as the other commands.
      if (err instanceof PolicyError || err instanceof NetworkMapError) throw new CliError(err.message, EXIT_USAGE);
      throw err;
    }
    const reload = () => void agent.reloadPolicy();
    process.on("SIGHUP", reload);
    const signal = await new Promise<string>((resolve) => {
      process.once("SIGINT", () => resolve("SIGINT"));
      process.once("SIGTERM", () => resolve("SIGTERM"));
    });
    log.info({ signal }, "shutting down");
    process.off("SIGHUP", reload);
    await agent.close();
    return EXIT_OK;
  },
});
