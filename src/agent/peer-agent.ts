// One mesh peer, assembled: the policy (loaded, compiled for this peer, watched), the
// engine, the TUN device (configured with the peer's overlay address), the transport
// (WireGuard, or plaintext UDP for tests), the data path between them, metrics and the flow log. `meshfilter run`
// is a thin command line over this; an agent author embeds the same pieces.

import type { Server } from "node:http";
import type { Logger } from "pino";
import { Engine, type EngineOptions } from "../engine/engine.ts";
import { openTun, type TunDevice } from "../io/tun.ts";
import type { CompiledPeerPolicy } from "../filter/compiled-policy.ts";
import type { PolicyProblem } from "../policy/model/model.ts";
import type { Explanation } from "../policy/explain/explain.ts";
import type { ExplainQuery } from "../policy/explain/explain-query.ts";
import { ControlServer } from "../control/server.ts";
import { DEFAULT_CONTROL_PATH } from "../control/protocol.ts";
import type { FlowEvent } from "../conntrack/flow-event.ts";
import type { Timeouts } from "../conntrack/timeouts.ts";
import { controlHandlers } from "./control-handlers.ts";
import { FlowEventFormat, FlowLog } from "./flow-log.ts";
import { RuleCounters } from "./rule-counters.ts";
import { DomainResolver, dnsResolver } from "./domain-resolver.ts";
import { configureLink } from "./link.ts";
import { Masquerade, masqueradedPrefixes } from "./masquerade.ts";
import { createAgentMetrics, serveMetrics, type PolicyCounters } from "./metrics.ts";
import { MultiQueue } from "./multi-queue.ts";
import { PacketLoop, type PacketLoopCounters } from "./packet-loop.ts";
import { loadPolicyInWorker } from "./policy-load-worker.ts";
import { PolicyWatcher } from "./policy-watcher.ts";
import type { Transport } from "./transport.ts";
import { UdpTransport, type UdpPeer, type UdpRoute } from "./udp-transport.ts";
import { readWireGuardConfig, type WireGuardConfig } from "../wireguard/config.ts";
import { formatKey } from "../wireguard/keys.ts";
import type { WireGuardTimers } from "../wireguard/timers.ts";
import { WireGuardTransport, type WireGuardEvent } from "../wireguard/wireguard-transport.ts";
import { cidrContains, formatParsed, parseCidr } from "../packet/address.ts";
import { RuleTable } from "../filter/rule-table.ts";
import { REASON_NAMES } from "../engine/reasons.ts";

/** The data path: one PacketLoop on this thread, or a MultiQueue of worker threads. */
export interface DataPath {
  readonly counters: PacketLoopCounters;
  start(): void;
  stop(): void;
}

export interface PeerAgentConfig {
  /** The account's policy file (meshfilter YAML/JSON or a NetBird export), or with `networkMap` a NetBird NetworkMap. Watched for changes. */
  policyFile: string;
  /** `policyFile` is a NetBird peer's NetworkMap (network_map.json or binary); `peer` is then not used. */
  networkMap?: boolean;
  /** This peer's id, name or overlay IP in the account. */
  peer: string;
  /** TUN device name. Default "mf0". */
  tun?: string;
  /** TUN MTU. Default 1420 (a 1500-byte underlay minus IPv4, UDP and headroom). */
  mtu?: number;
  /** TUN transmit queue length (packets waiting for the agent). Default 5000; see link.ts. */
  txQueueLength?: number;
  /** Prefix length of the overlay network for the TUN address. Default 16 (100.64.0.0/16). */
  prefixLength?: number;
  /** Set the TUN address, MTU, up state and routes with `ip`. Default true. */
  configureLink?: boolean;
  /**
   * A WireGuard configuration file (wg-quick style: [Interface] PrivateKey, ListenPort,
   * Address; [Peer] PublicKey, PresharedKey, AllowedIPs, Endpoint, PersistentKeepalive).
   * The agent's transport; without it the plaintext UDP test transport runs (listen, peers, routes).
   */
  wireguard?: string;
  /** WireGuard protocol timers in ms, shortened by tests (defaults: the protocol's, wireguard/timers.ts). */
  wireguardTimers?: Partial<WireGuardTimers>;
  /** Handshake messages a second past which the WireGuard transport answers with cookies. Default 64. */
  wireguardHandshakesBeforeCookies?: number;
  /** Plaintext UDP test transport: UDP "address:port" to listen on. */
  listen?: string;
  /** Plaintext UDP test transport: underlay endpoints of the other peers. */
  peers?: UdpPeer[];
  /** Plaintext UDP test transport: prefixes behind routing peers. */
  routes?: UdpRoute[];
  /** "127.0.0.1:9464" to serve Prometheus metrics; omitted = no metrics endpoint. */
  metrics?: string;
  /** The flow log (docs/operating.md): a file (size-capped, rotated) or "-" for stdout. */
  flowLog?: string;
  /** Drop aggregation window of the flow log (ms). Default 10 000. */
  flowLogWindowMs?: number;
  /** Flow log output budget (bytes per second). Default 65 536. */
  flowLogMaxBytesPerSecond?: number;
  /** Flow log file size at which it is rotated to FILE.1. Default 100 MiB. */
  flowLogMaxFileBytes?: number;
  /** Control socket path (docs/operating.md); "" for none. Default /run/meshfilter/meshfilter.sock. */
  control?: string;
  /** Group (name or gid) whose members may use the control socket (mode 0660). Default: root only (0600). */
  controlGroup?: string;
  /** Connection table capacity (flows). Default 65 536. */
  conntrackCapacity?: number;
  /** Idle timeouts per state, in seconds (names as in conntrack/timeouts.ts: tcpEstablished, udpUnreplied...). */
  timeouts?: Partial<Timeouts>;
  /** Linux tcp_loose: a mid-stream TCP ACK may open a connection (windows unchecked). Default false. */
  looseTcp?: boolean;
  /** Honour NetBird's bidirectional flag for every protocol (P5). Default false. */
  honourBidirectional?: boolean;
  /** Filter packets (default true); false is the baseline for benchmarks (--no-filter). */
  filter?: boolean;
  /** Enforce the peer's outbound rules too (P13). Default false. */
  egress?: boolean;
  /** Packets per batch. Default 64. */
  batchSize?: number;
  /**
   * TUN queues, each read and written by a worker thread with its own engine
   * (multi-queue.ts). Default 1: one queue, every packet on the agent's thread.
   */
  queues?: number;
  /** Kernel offloads: UDP GSO/GRO on the transport, merged TCP writes into the TUN. Default true. */
  offload?: boolean;
  /** Heap limit (MB) of the thread that loads a policy file; a file that needs more is rejected. Default 1024. */
  policyMemoryMb?: number;
  /** Time limit (ms) for loading a policy file; a file that takes longer is rejected. Default 60 000. */
  policyTimeoutMs?: number;
  /** How long a policy file changed in place must stay unchanged before it is read (ms). Default 2000. */
  policySettleMs?: number;
  /** Resolving domain resources (domain-resolver.ts): DNS servers ("127.0.0.1:53"; default the system's), refresh bounds. */
  dns?: { servers?: string[]; minRefreshMs?: number; maxRefreshMs?: number };
}

export class PeerAgent {
  readonly policyCounters: PolicyCounters = { applied: 0, rejected: 0, flowsRevoked: 0 };
  /** Per-rule totals across reloads. */
  readonly ruleCounters = new RuleCounters();
  /** Names for flow events (flow log, flows --watch). */
  readonly format = new FlowEventFormat();
  /** Flow-event listeners besides the flow log (flows --watch). */
  readonly flowListeners = new Set<(ev: FlowEvent) => void>();
  readonly startedAt = Date.now();
  /** The account's peers by overlay address, from the last policy load. */
  private peerNames = new Map<string, string>();
  /** Why the last reload was rejected (one line), or null. */
  private lastRejection: string | null = null;
  private control: ControlServer | null = null;
  private watcher: PolicyWatcher | null = null;

  /** This peer's WireGuard public key (base64), or null on the plaintext UDP test transport. */
  get publicKey(): string | null {
    return this.transport instanceof WireGuardTransport ? formatKey(this.transport.publicKey) : null;
  }
  private metricsServer: Server | null = null;
  flowLog: FlowLog | null = null;
  private closed = false;
  /** The reload in progress (a worker loading the file), and whether another was asked for meanwhile. */
  private reloading: Promise<boolean> | null = null;
  private reloadAgain = false;
  /** Aborts a load in progress when the agent closes (a worker would keep the process alive). */
  private readonly loads = new AbortController();
  /** The revocation walk's next slice (setImmediate), while one is under way. */
  private revocationTimer: NodeJS.Immediate | null = null;
  /** Resolves the domain resources this peer routes to; null without a filter. */
  resolver: DomainResolver | null = null;
  /** The addresses in force per domain resource (for masquerade). */
  private readonly resolved = new Map<string, string[]>();
  /** NAT of forwarded traffic to masqueraded resources; null when the agent does not configure the link. */
  private masquerade: Masquerade | null = null;

  private constructor(
    readonly config: PeerAgentConfig,
    readonly log: Logger,
    public policy: CompiledPeerPolicy,
    readonly engine: Engine | null,
    readonly tun: TunDevice,
    readonly transport: Transport & { readonly offload: boolean },
    readonly loop: DataPath,
    /** The queue workers with --queues N > 1 (then `engine` is null: each worker has its own). */
    readonly queues: MultiQueue | null = null,
  ) {}

  /** Loads and compiles the policy, opens and configures the TUN device, and starts moving packets. */
  static async start(config: PeerAgentConfig, log: Logger): Promise<PeerAgent> {
    // The first load is bounded like every reload: a file that needs too much memory or time fails the start.
    const peerNames = new Map<string, string>();
    const policy = await loadPolicyInWorker(config.policyFile, config.peer, { ...policyLimits(config), peerNames });
    const address = policy.peer.addresses.find((a) => !a.includes(":"));
    if (!address) throw new Error(`peer '${config.peer}' has no IPv4 overlay address in ${config.policyFile}`);
    const mtu = config.mtu ?? 1420;
    const filter = config.filter ?? true;
    const queueCount = config.queues ?? 1;
    const multiQueue = queueCount > 1;
    const engine = filter && !multiQueue ? new Engine(policy, engineOptions(config)) : null;
    const offload = config.offload ?? true;
    const wireguard = config.wireguard ? readWireGuardConfig(config.wireguard) : null;
    if (!wireguard && !config.listen) throw new Error("no transport: give a WireGuard configuration file (or, for tests, the plaintext UDP transport's listen address)");
    // With queues, this first queue makes (or checks) the device; the workers then attach theirs and it is closed.
    const tun = openTun(config.tun ?? "mf0", { packetRoom: mtu, offload, multiQueue });
    const configure = (): void => {
      if (config.configureLink ?? true) {
        configureLink({
          name: tun.name,
          address: `${address}/${config.prefixLength ?? 16}`,
          mtu,
          txQueueLength: config.txQueueLength ?? 5000,
          routes: wireguard ? tunnelRoutes(wireguard, address, config.prefixLength ?? 16) : (config.routes ?? []).map((r) => r.prefix),
        });
      }
    };
    let transport: (Transport & { readonly offload: boolean }) | null = null;
    let queues: MultiQueue | null = null;
    try {
      if (!multiQueue) configure();
      transport = wireguard
        ? new WireGuardTransport({
            config: wireguard,
            mtu,
            batchSize: config.batchSize,
            offload,
            timers: config.wireguardTimers,
            handshakesBeforeCookies: config.wireguardHandshakesBeforeCookies,
            onEvent: (e) => logWireGuardEvent(log, e),
          })
        : new UdpTransport({ listen: config.listen!, peers: config.peers ?? [], routes: config.routes, mtu, batchSize: config.batchSize, offload });
      if (multiQueue) {
        queues = await MultiQueue.start({
          tun: tun.name,
          queues: queueCount,
          mtu,
          offload,
          batchSize: config.batchSize ?? (offload ? 256 : 64),
          policy: filter ? policy : null,
          engineOptions: engineOptions(config),
          transport,
          onWorkerError: (queue, err) => log.error({ queue, error: err.message.split("\n")[0] }, "queue worker failed; its queue is no longer read"),
        });
        // The workers' queues hold the device now; this one would take a share of the kernel's packets that nobody reads.
        tun.close();
        configure();
      }
    } catch (err) {
      queues?.stop();
      transport?.close();
      tun.close();
      throw err;
    }
    const loop: DataPath = queues ?? new PacketLoop({ tun, transport, judge: engine, mtu, batchSize: config.batchSize });
    const agent = new PeerAgent(config, log, policy, engine, tun, transport, loop, queues);
    agent.peerNames = peerNames;
    agent.format.setPolicy(policy, peerNames);
    try {
      await agent.startSideServices();
    } catch (err) {
      await agent.close();
      throw err;
    }
    loop.start();
    const transportInfo =
      transport instanceof WireGuardTransport
        ? { transport: "wireguard", publicKey: formatKey(transport.publicKey), listenPort: transport.localPort }
        : { transport: "plaintext-udp", listen: config.listen };
    log.info(
      { peer: policy.peer.name, address, tun: tun.name, mtu, ...transportInfo, filter, offload: transport.offload, queues: queueCount, rules: ruleCount(policy) },
      "agent running",
    );
    return agent;
  }

  /** Masquerade what the policy in force says (masquerade.ts); a failure is logged, forwarding goes on without it. */
  private updateMasquerade(): void {
    if (!this.masquerade) return;
    try {
      this.masquerade.apply(masqueradedPrefixes(this.policy, this.resolved));
    } catch (err) {
      this.log.error({ error: (err as Error).message }, "masquerade not in force");
    }
  }

  private async startSideServices(): Promise<void> {
    const { config, engine } = this;
    if (config.configureLink ?? true) {
      this.masquerade = new Masquerade(this.tun.name);
      this.updateMasquerade();
    }
    if (config.flowLog && engine) {
      const flowLog = new FlowLog(
        { path: config.flowLog, windowMs: config.flowLogWindowMs, maxBytesPerSecond: config.flowLogMaxBytesPerSecond, maxFileBytes: config.flowLogMaxFileBytes },
        this.format,
      );
      this.flowLog = flowLog;
      flowLog.start();
    }
    if (engine) this.updateFlowListener();
    const controlPath = config.control ?? DEFAULT_CONTROL_PATH;
    if (controlPath !== "") {
      this.control = await ControlServer.listen({
        path: controlPath,
        group: config.controlGroup,
        handlers: controlHandlers(this),
        onError: (request, err) => this.log.error({ request: request.slice(0, 200), error: (err as Error).message }, "control request failed"),
      });
    }
    if (config.metrics) {
      const queues = this.queues;
      const registry = createAgentMetrics({
        engine: () => this.engine ?? (queues && config.filter !== false ? queuesMetricsView(queues) : null),
        flowCount: queues ? () => queues.flowCount : undefined,
        loop: this.loop.counters,
        tun: queues ? queues.tunTotals : this.tun,
        transport: this.transport.counters,
        policy: this.policyCounters,
        ruleTotals: () => (this.engine ? this.ruleCounters.totals(this.engine.rules) : (queues?.lastRuleTotals ?? [])),
      });
      this.metricsServer = await serveMetrics(registry, config.metrics);
    }
    const queues = this.queues;
    if (engine || (queues && config.filter !== false)) {
      this.resolver = new DomainResolver({
        resolve: dnsResolver(config.dns?.servers),
        minRefreshMs: config.dns?.minRefreshMs,
        maxRefreshMs: config.dns?.maxRefreshMs,
        apply: (resource, cidrs) => {
          if (engine) engine.setResourceAddresses(resource, cidrs);
          else queues?.setResourceAddresses(resource, cidrs);
          this.resolved.set(resource, cidrs);
          this.updateMasquerade();
          if (engine && this.revocationTimer === null) this.revocationTimer = setImmediate(this.revokeSlice);
        },
        log: this.log,
      });
      this.resolver.setPolicy(this.policy);
      this.watcher = new PolicyWatcher(config.policyFile, () => void this.reloadPolicy(), config.policySettleMs);
      this.watcher.start();
    }
  }

  /**
   * The engine's flow listener: the flow log and any watchers. None at all when neither
   * is there, so that the engine builds no events (flows --watch adds itself here).
   */
  updateFlowListener(): void {
    const engine = this.engine;
    if (!engine) return;
    const flowLog = this.flowLog;
    const listeners = this.flowListeners;
    if (!flowLog && listeners.size === 0) {
      engine.onFlowEvent = undefined;
      return;
    }
    engine.onFlowEvent = (ev) => {
      flowLog?.onEvent(ev);
      for (const l of listeners) l(ev);
    };
  }

  /** The `status` answer. */
  readonly status = (): Record<string, unknown> => {
    const engine = this.engine;
    const stats = engine?.stats();
    const queues = this.queues;
    queues?.refresh();
    const filter = engine !== null || (queues !== null && this.config.filter !== false);
    return {
      peer: { id: this.policy.peer.id, name: this.policy.peer.name, addresses: this.policy.peer.addresses },
      pid: process.pid,
      uptimeMs: Date.now() - this.startedAt,
      policyFile: this.config.policyFile,
      rules: ruleCount(this.policy),
      filter,
      egress: filter && (this.config.egress ?? false),
      tun: this.tun.name,
      listen: this.config.listen,
      flows: stats
        ? { count: stats.flows, capacity: stats.capacity, adaptiveTimeoutScale: stats.adaptiveTimeoutScale }
        : queues && filter
          ? { count: queues.flowCount, capacity: queues.flowCapacity }
          : null,
      packets: { tunRead: this.loop.counters.tunReadPackets, tunWritten: this.loop.counters.tunWrittenPackets, droppedInbound: this.loop.counters.inboundDropped, droppedOutbound: this.loop.counters.outboundDropped },
      queues: queues ? queues.perQueue() : 1,
      ...(queues ? { droppedRingFull: queues.inboundRingFull } : {}),
      policyReloads: { ...this.policyCounters, lastRejection: this.lastRejection },
      logLevel: this.log.level,
      flowLog: this.flowLog ? { path: this.config.flowLog, ...this.flowLog.totals } : null,
      control: this.control?.path ?? null,
    };
  };

  /**
   * explain (policy/explain.ts) for a new connection, against the policy file as it is
   * now, in a loader worker (the file may be large: never on this thread). trace uses it
   * to name the posture check, disabled policy or one-way rule behind a no-rule drop.
   */
  explain(query: ExplainQuery): Promise<Explanation> {
    return new Promise((resolve, reject) => {
      let answer: Explanation | undefined;
      loadPolicyInWorker(this.config.policyFile, this.config.peer, {
        ...policyLimits(this.config),
        signal: this.loads.signal,
        explain: { query, egress: this.config.egress ?? false },
        onExplanation: (e) => (answer = e),
      }).then(() => (answer ? resolve(answer) : reject(new Error("no explanation"))), reject);
    });
  }

  /** The `reload` answer: reload now and say whether the policy was applied, or why not. */
  async reload(): Promise<{ applied: boolean; error: string | null }> {
    const applied = await this.reloadPolicy();
    return { applied, error: applied ? null : this.lastRejection };
  }

  /**
   * Reads the policy file again, in a worker thread (policy-load-worker.ts) while packets
   * keep moving under the policy in force. A valid policy is put in force at once
   * (Engine.beginPolicy) and the connections it no longer allows are cut by a walk of the
   * flow table in slices between batches (P14); an invalid one, or one that exceeds the
   * loader's memory or time limit, is logged and the running one stays. A reload asked
   * for while one is loading runs after it. Resolves with whether the (last) policy was applied.
   */
  reloadPolicy(): Promise<boolean> {
    const filtering = this.engine !== null || (this.queues !== null && this.config.filter !== false);
    if (!filtering || this.closed) return Promise.resolve(false);
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    const run = async (): Promise<boolean> => {
      let applied = false;
      do {
        this.reloadAgain = false;
        applied = await this.reloadOnce();
      } while (this.reloadAgain && !this.closed);
      return applied;
    };
    this.reloading = run().finally(() => (this.reloading = null));
    return this.reloading;
  }

  private async reloadOnce(): Promise<boolean> {
    const file = this.config.policyFile;
    const peerNames = new Map<string, string>();
    let policy: CompiledPeerPolicy;
    try {
      policy = await loadPolicyInWorker(file, this.config.peer, { ...policyLimits(this.config), signal: this.loads.signal, peerNames });
    } catch (err) {
      if (this.closed) return false;
      return this.rejectPolicy(file, err);
    }
    if (this.closed) return false;
    if (this.queues) return this.applyInQueues(file, policy, peerNames);
    if (!this.engine) return false;
    const engine = this.engine;
    // A walk still under way for the policy before: count what it cut; beginPolicy restarts it.
    if (engine.revocationPending) this.policyCounters.flowsRevoked += engine.revokedByLastPolicy;
    const previousRules = engine.rules;
    try {
      engine.beginPolicy(policy);
    } catch (err) {
      return this.rejectPolicy(file, err);
    }
    // The old table's counts, carried by rule identity: the totals survive the reload.
    this.ruleCounters.carry(previousRules);
    this.lastRejection = null;
    this.peerNames = peerNames;
    this.format.setPolicy(policy, peerNames);
    this.policy = policy;
    this.resolver?.setPolicy(policy);
    this.updateMasquerade();
    this.policyCounters.applied++;
    this.log.info({ file, rules: ruleCount(policy) }, "policy in force; revoking the connections it no longer allows");
    if (this.revocationTimer === null) this.revocationTimer = setImmediate(this.revokeSlice);
    return true;
  }

  /** A policy that cannot be put in force: counted and logged (with its problems, when it has them); the one in force stays. */
  private rejectPolicy(file: string, err: unknown): false {
    this.policyCounters.rejected++;
    this.lastRejection = oneLine(file, err);
    const problems = (err as { problems?: PolicyProblem[] } | null)?.problems;
    this.log.error({ file, problems, error: this.lastRejection }, "policy rejected; the previous policy stays in force");
    return false;
  }

  /**
   * A reload with queue workers: the rule table is built here first, so a policy that
   * cannot be put in force is rejected before any worker sees it; then every worker swaps
   * to it at its next batch and walks its own table (P14). Logged as on one queue.
   */
  private applyInQueues(file: string, policy: CompiledPeerPolicy, peerNames: Map<string, string>): boolean {
    const queues = this.queues!;
    try {
      RuleTable.build(policy);
    } catch (err) {
      return this.rejectPolicy(file, err);
    }
    this.lastRejection = null;
    this.peerNames = peerNames;
    this.format.setPolicy(policy, peerNames);
    this.policy = policy;
    this.resolver?.setPolicy(policy);
    this.updateMasquerade();
    this.policyCounters.applied++;
    this.log.info({ file, rules: ruleCount(policy), queues: queues.queues }, "policy in force; revoking the connections it no longer allows");
    void queues.applyPolicy(policy).then((cut) => {
      this.policyCounters.flowsRevoked += cut;
      this.log.info({ file, rules: ruleCount(policy), flowsCut: cut }, "policy applied");
    });
    return true;
  }

  /** One slice of the revocation walk, then the event loop's other work (packets), then the next. */
  private readonly revokeSlice = (): void => {
    this.revocationTimer = null;
    const engine = this.engine;
    if (!engine || this.closed) return;
    if (!engine.revokeSlice()) {
      this.revocationTimer = setImmediate(this.revokeSlice);
      return;
    }
    const cut = engine.revokedByLastPolicy;
    this.policyCounters.flowsRevoked += cut;
    this.log.info({ file: this.config.policyFile, rules: ruleCount(this.policy), flowsCut: cut }, "policy applied");
  };

  /** Stops everything: watcher, data path, transport, TUN, metrics, flow log. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watcher?.close();
    this.resolver?.close();
    this.loads.abort();
    if (this.revocationTimer !== null) clearImmediate(this.revocationTimer);
    this.revocationTimer = null;
    this.loop.stop();
    this.masquerade?.close();
    this.transport.close();
    this.tun.close();
    await this.queues?.closed();
    await this.control?.close();
    if (this.metricsServer) {
      const server = this.metricsServer;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    await this.flowLog?.close();
    this.log.info("agent stopped");
  }
}

/**
 * The prefixes of the peers' AllowedIPs that the TUN's own overlay network does not
 * cover get a route into the tunnel, as wg-quick adds them; a default route (/0) is left
 * to the operator, since it would also capture the tunnel's own underlay traffic.
 */
function tunnelRoutes(config: WireGuardConfig, address: string, prefixLength: number): string[] {
  const overlay = parseCidr(`${address}/${prefixLength}`);
  const routes = new Set<string>();
  for (const peer of config.peers) {
    for (const prefix of peer.allowedIps) {
      if (prefix.version !== 4 || prefix.prefixLength === 0) continue;
      if (prefix.prefixLength >= overlay.prefixLength && cidrContains(overlay, 4, prefix.words)) continue;
      routes.add(formatParsed(prefix));
    }
  }
  return [...routes];
}

function logWireGuardEvent(log: Logger, event: WireGuardEvent): void {
  if (event.type === "handshake-complete") log.info({ peer: event.peer, endpoint: event.endpoint, initiator: event.initiator }, "wireguard handshake complete");
  else if (event.type === "endpoint-changed") log.info({ peer: event.peer, endpoint: event.endpoint }, "wireguard peer endpoint changed");
  else log.warn({ peer: event.peer, dropped: event.dropped }, "wireguard handshake given up; waiting packets dropped");
}

function ruleCount(policy: CompiledPeerPolicy): number {
  return policy.inbound.length + policy.outbound.length + policy.routes.length;
}

function policyLimits(config: PeerAgentConfig): { memoryMb?: number; timeoutMs?: number; compile: { honourBidirectionalFlag?: boolean }; networkMap?: boolean } {
  return { memoryMb: config.policyMemoryMb, timeoutMs: config.policyTimeoutMs, compile: { honourBidirectionalFlag: config.honourBidirectional }, networkMap: config.networkMap };
}

/** The engine's options from the agent's (timeouts in seconds here, ms in the engine). */
export function engineOptions(config: PeerAgentConfig): EngineOptions {
  const timeouts: Partial<Timeouts> = {};
  for (const [name, seconds] of Object.entries(config.timeouts ?? {})) timeouts[name as keyof Timeouts] = seconds * 1000;
  return { egress: config.egress ?? false, looseTcp: config.looseTcp ?? false, conntrack: { capacity: config.conntrackCapacity, timeouts } };
}

/** An error as one line naming the file: each problem's JSON path and message, joined. */
function oneLine(file: string, err: unknown): string {
  const problems = (err as { problems?: PolicyProblem[] }).problems;
  if (problems && problems.length > 0) return `${file}: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`;
  return `${file}: ${(err instanceof Error ? err.message : String(err)).split("\n")[0]}`;
}

/** What the metrics read of the engines of queue workers: their summed counts (the rules' totals come from MultiQueue.lastRuleTotals). */
function queuesMetricsView(queues: MultiQueue) {
  queues.refresh();
  return {
    reasonCounts: queues.reasonCounts,
    segmentRunCounts: queues.segmentRunCounts,
    reasonName: (code: number) => REASON_NAMES[code] ?? `unknown(${code})`,
    rules: { ruleCount: 0, ruleId: () => "", hits: new Float64Array(0), bytes: new Float64Array(0) },
    flows: () => [],
  };
}
