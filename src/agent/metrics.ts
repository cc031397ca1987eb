// The agent's counters in Prometheus text format (prom-client), served on a local
// HTTP port at /metrics. Values are pulled from the engine and the data path when
// scraped (collect callbacks), so the hot path only bumps plain numbers.

import { createServer, type Server } from "node:http";
import { Counter, Gauge, Registry } from "prom-client";
import { parseEndpoint } from "./udp-transport.ts";
import type { PacketLoopCounters } from "./packet-loop.ts";
import type { TransportCounters } from "./transport.ts";

/** The engine surface read by the metrics (src/engine/engine.ts Engine satisfies it). */
export interface EngineMetricsView {
  readonly reasonCounts: Float64Array;
  /** [0] segment runs judged whole, [1] packets judged within them after the first. */
  readonly segmentRunCounts: Float64Array;
  reasonName(code: number): string;
  readonly rules: { readonly ruleCount: number; ruleId(index: number): string; readonly hits: Float64Array; readonly bytes: Float64Array };
  flows(): Iterable<unknown>;
}

export interface PolicyCounters {
  applied: number;
  rejected: number;
  flowsRevoked: number;
}

export interface MetricsSources {
  /** The current engine (null when filtering is off). */
  engine: () => EngineMetricsView | null;
  /** Connections tracked now, when the engine's flows() does not list them all (queue workers: multi-queue.ts). */
  flowCount?: () => number;
  loop: PacketLoopCounters;
  /** The TUN device, for its merged-write count (offload). */
  tun: { readonly mergedWrites: number; readonly splitReads: number };
  transport: TransportCounters;
  policy: PolicyCounters;
  /** Per-rule totals that survive reloads (the agent's rule-counters.ts); without them, the table in force is read. */
  ruleTotals?: () => { id: string; hits: number; bytes: number }[];
}

type Collectable = { reset(): void };

/** A counter whose value is read from `read` at scrape time. */
function pulledCounter(registry: Registry, name: string, help: string, labelNames: string[], fill: (c: Counter<string>) => void): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect(this: Counter<string>) {
      (this as Collectable).reset();
      fill(this);
    },
  });
}

export function createAgentMetrics(sources: MetricsSources): Registry {
  const registry = new Registry();
  pulledCounter(registry, "meshfilter_packets_total", "Packets judged by the filter, by decision reason", ["reason"], (c) => {
    const engine = sources.engine();
    if (!engine) return;
    for (let code = 0; code < engine.reasonCounts.length; code++) {
      if (engine.reasonCounts[code] > 0) c.inc({ reason: engine.reasonName(code) }, engine.reasonCounts[code]);
    }
  });
  // Totals since the agent started, across policy reloads (rule-counters.ts), when the agent keeps them.
  const ruleTotals = (): { id: string; hits: number; bytes: number }[] => {
    const engine = sources.engine();
    if (!engine) return [];
    if (sources.ruleTotals) return sources.ruleTotals();
    const rules = engine.rules;
    return Array.from({ length: rules.ruleCount }, (_, i) => ({ id: rules.ruleId(i), hits: rules.hits[i], bytes: rules.bytes[i] }));
  };
  pulledCounter(registry, "meshfilter_rule_hits_total", "Connections opened (or packets dropped) by each rule", ["rule"], (c) => {
    for (const r of ruleTotals()) c.inc({ rule: r.id }, r.hits);
  });
  pulledCounter(registry, "meshfilter_rule_bytes_total", "Bytes of the packets counted in meshfilter_rule_hits_total", ["rule"], (c) => {
    for (const r of ruleTotals()) c.inc({ rule: r.id }, r.bytes);
  });
  pulledCounter(
    registry,
    "meshfilter_segment_run_packets_total",
    "Packets judged as part of a run of TCP segments, after its first (one flow lookup per run, as Linux conntrack judges a GSO packet)",
    [],
    (c) => {
      const engine = sources.engine();
      if (engine) c.inc(engine.segmentRunCounts[1]);
    },
  );
  new Gauge({
    name: "meshfilter_flows",
    help: "Connections currently tracked",
    registers: [registry],
    collect(this: Gauge<string>) {
      if (sources.flowCount) {
        this.set(sources.flowCount());
        return;
      }
      const engine = sources.engine();
      let n = 0;
      if (engine) for (const _ of engine.flows()) n++;
      this.set(n);
    },
  });
  const { loop, tun, transport, policy } = sources;
  pulledCounter(registry, "meshfilter_tun_packets_total", "Packets read from and written to the TUN device", ["direction"], (c) => {
    c.inc({ direction: "read" }, loop.tunReadPackets);
    c.inc({ direction: "written" }, loop.tunWrittenPackets);
  });
  pulledCounter(registry, "meshfilter_tun_read_batches_total", "TUN read calls that returned packets (packets per batch = packets/batches)", [], (c) =>
    c.inc(loop.tunReadBatches),
  );
  pulledCounter(registry, "meshfilter_tun_merged_writes_total", "TUN writes that carried a merged run of TCP segments (offload)", [], (c) =>
    c.inc(tun.mergedWrites),
  );
  pulledCounter(registry, "meshfilter_tun_split_reads_total", "Large TCP packets (TSO) read from the TUN and split into segments (offload)", [], (c) =>
    c.inc(tun.splitReads),
  );
  pulledCounter(registry, "meshfilter_dropped_total", "Packets the filter dropped, by direction", ["direction"], (c) => {
    c.inc({ direction: "inbound" }, loop.inboundDropped);
    c.inc({ direction: "outbound" }, loop.outboundDropped);
  });
  pulledCounter(registry, "meshfilter_mss_clamped_total", "SYN segments whose MSS was lowered to fit the tunnel", [], (c) => c.inc(loop.mssClamped));
  pulledCounter(registry, "meshfilter_transport_packets_total", "Packets sent to and received from other peers", ["direction"], (c) => {
    c.inc({ direction: "sent" }, transport.sentPackets);
    c.inc({ direction: "received" }, transport.receivedPackets);
  });
  pulledCounter(registry, "meshfilter_transport_bytes_total", "Bytes sent to and received from other peers", ["direction"], (c) => {
    c.inc({ direction: "sent" }, transport.sentBytes);
    c.inc({ direction: "received" }, transport.receivedBytes);
  });
  pulledCounter(registry, "meshfilter_transport_errors_total", "Packets the transport could not send", ["kind"], (c) => {
    c.inc({ kind: "no-route" }, transport.noRoute);
    c.inc({ kind: "send" }, transport.sendErrors);
  });
  pulledCounter(registry, "meshfilter_wireguard_events_total", "WireGuard handshakes, cookies, keepalives and drops, by event", ["event"], (c) => {
    // The WireGuard transport's counters beyond the common ones (wireguard-transport.ts WireGuardCounters).
    for (const [key, value] of Object.entries(transport)) {
      if (!COMMON_TRANSPORT_COUNTERS.has(key) && typeof value === "number" && value > 0) c.inc({ event: kebabCase(key) }, value);
    }
  });
  pulledCounter(registry, "meshfilter_policy_reloads_total", "Policy file reloads, by result", ["result"], (c) => {
    c.inc({ result: "applied" }, policy.applied);
    c.inc({ result: "rejected" }, policy.rejected);
  });
  pulledCounter(registry, "meshfilter_policy_revoked_flows_total", "Connections cut because a new policy no longer allowed them (P14)", [], (c) =>
    c.inc(policy.flowsRevoked),
  );
  return registry;
}

const COMMON_TRANSPORT_COUNTERS = new Set(["sentPackets", "sentBytes", "receivedPackets", "receivedBytes", "noRoute", "sendErrors"]);

function kebabCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Serves `registry` at http://ADDRESS:PORT/metrics. Resolves once listening. */
export function serveMetrics(registry: Registry, listen: string): Promise<Server> {
  const { address, port } = parseEndpoint(listen);
  const server = createServer((req, res) => {
    if (req.url !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("try /metrics\n");
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
      (err: Error) => res.writeHead(500, { "content-type": "text/plain" }).end(`${err.message}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once("error", (err) => reject(new Error(`cannot serve metrics on ${listen}: ${err.message}`)));
    server.listen(port, address, () => resolve(server));
  });
}
