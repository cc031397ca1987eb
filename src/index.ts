// The public API of meshfilter. Everything an agent author, an operator's tooling or a
// benchmark needs is exported from here; the layers below (packet, io, policy, filter,
// conntrack, engine, agent) can also be imported directly.

import { Engine, type EngineOptions } from "./engine/engine.ts";
import { compilePeer } from "./policy/compile/compile.ts";
import type { CompiledPeerPolicy, CompileOptions } from "./filter/compiled-policy.ts";
import { lintAccount, type Finding } from "./policy/lint/lint.ts";
import { loadPolicyFile } from "./policy/input/load.ts";
import type { Account, PolicyProblem } from "./policy/model/model.ts";
import { validateAccount as checkAccount } from "./policy/model/validate.ts";

// ---- Packets ----
export * from "./packet/record.ts";
export { decodePacket } from "./packet/decode.ts";
export { buildPacket, type PacketSpec, type TcpSpec, type IcmpSpec, type ExtensionHeaderName } from "./packet/builder.ts";
export { tcpFlags, formatTcpFlags } from "./packet/tcp-flags.ts";
export { parseIp, parseCidr, formatIp, AddressError, type ParsedIp, type ParsedCidr, type AddressWords } from "./packet/address.ts";
export { internetChecksum, transportChecksum, updateChecksum16, updateChecksum32 } from "./packet/checksum.ts";

// ---- Captures and devices ----
export { openCapture, readCapture, type CaptureOptions, type CapturedPacket } from "./io/capture.ts";
export type { CaptureReader } from "./io/capture-reader.ts";
export type { ChunkedFile } from "./io/chunked-file.ts";
export { CaptureError } from "./io/capture-error.ts";
export { PcapWriter, type PcapWriterOptions } from "./io/pcap-writer.ts";
export { PcapngWriter, type PcapngWriterOptions, type PcapngInterfaceOptions } from "./io/pcapng-writer.ts";
export * from "./io/link-layer.ts";
export { openTun, TunError, type TunDevice, type TunOptions } from "./io/tun.ts";

// ---- Policy (cold path) ----
export type * from "./policy/model/model.ts";
export { PolicyError } from "./policy/model/model.ts";
export { PolicyFileError } from "./policy/input/policy-file-error.ts";
export { PeerRefError } from "./policy/model/peer-ref.ts";
export type { TextPosition } from "./policy/input/problem-location.ts";
export type { CompiledPeerPolicy, CompiledRule, CompiledRouteRule, CompiledPeer, CompileOptions } from "./filter/compiled-policy.ts";
export { loadPolicyFile, parsePolicyText } from "./policy/input/load.ts";
export { loadPeerMeta, parsePeerMetaText, withPeerMeta } from "./policy/input/peer-meta.ts";
export { compilePeer } from "./policy/compile/compile.ts";
export { lintAccount, LINT_CHECKS, type Finding, type Severity } from "./policy/lint/lint.ts";
export { explain, type Explanation, type ExplainOptions, type ExplainStage } from "./policy/explain/explain.ts";
export type { PostureFailure, PostureKind } from "./policy/compile/posture.ts";
export { parseExplainQuery, ExplainQueryError, type ExplainQuery } from "./policy/explain/explain-query.ts";
export { loadNetworkMapFile, NetworkMapError } from "./policy/input/netbird/network-map.ts";

// ---- NetBird's management API ----
export { NetBirdApiClient, type ApiClientOptions } from "./pull/api-client.ts";
export { pullAccount, type PulledAccount } from "./pull/pull-account.ts";
export { PullError } from "./pull/pull-error.ts";

// ---- Filter, connection tracking, engine (hot path) ----
export { RuleTable, ACTION_ACCEPT, ACTION_DROP, type RuleKind } from "./filter/rule-table.ts";
export { FragmentTable, FRAG_OVERLAP, FRAG_UNKNOWN } from "./filter/fragments.ts";
export * from "./engine/reasons.ts";
export { Engine, VERDICT_ACCEPT, VERDICT_DROP, DIR_IN, DIR_OUT, DIR_NONE, type EngineOptions } from "./engine/engine.ts";
export { tracePacket, type TraceResult, type TraceStage, type TraceStageName, type TracedRule, type TraceOptions } from "./engine/trace.ts";
export type { FlowEvent, FlowInfo } from "./conntrack/flow-event.ts";
export { DEFAULT_TIMEOUTS, type Timeouts } from "./conntrack/timeouts.ts";
export type { ConntrackOptions } from "./conntrack/conntrack.ts";

// ---- Replay: a capture judged as one peer's filter would (meshfilter replay) ----
export { buildPeerFilter, type FilterOptions, type PeerFilter } from "./replay/setup.ts";
export { replayCapture, replayCaptureUntil, type ReplaySinks, type ReplayResult } from "./replay/replay.ts";
export { buildSummary, formatSummary, type ReplaySummary, type ReplayContext, type RuleHits, type SummarySource } from "./replay/summary.ts";
export { ReplayCounters } from "./replay/counters.ts";
export { VerdictLineWriter, type VerdictNames } from "./replay/verdict-lines.ts";
export { ProgressBar } from "./replay/progress.ts";
export { OutputError } from "./io/output-error.ts";

// ---- The reference agent's parts, for agent authors ----
export { PeerAgent, type PeerAgentConfig, type DataPath } from "./agent/peer-agent.ts";
export { MultiQueue, QueueStartError, MAX_QUEUES, type MultiQueueOptions, type QueueStatus } from "./agent/multi-queue.ts";
export type { PolicyCounters } from "./agent/metrics.ts";
export type { RuleCounters, RuleTotal, CountedRules } from "./agent/rule-counters.ts";
export type { WireGuardTimers } from "./wireguard/timers.ts";
export { PacketLoop, type PacketLoopOptions, type BatchJudge, type PacketLoopCounters } from "./agent/packet-loop.ts";
export type { Transport, DeliverBatch, TransportCounters } from "./agent/transport.ts";
export { UdpTransport, type UdpTransportOptions, type UdpPeer, type UdpRoute } from "./agent/udp-transport.ts";
export { clampMss, mssForMtu } from "./agent/mss-clamp.ts";
export { DomainResolver, dnsResolver, type ResolveName, type ResolvedAddress, type DomainResolverOptions, type ResolverCounters } from "./agent/domain-resolver.ts";
export { Masquerade, masqueradedPrefixes } from "./agent/masquerade.ts";
export { FlowLog, FlowEventFormat, FLOW_LOG_SCHEMA, type FlowLogOptions } from "./agent/flow-log.ts";
export { request as controlRequest, ControlError } from "./control/client.ts";
export { PROTOCOL_VERSION as CONTROL_PROTOCOL_VERSION, DEFAULT_CONTROL_PATH } from "./control/protocol.ts";

/**
 * The meaning checks of a policy (references, addresses, ports, rules) on an Account built
 * in code: every problem found, [] when there is none. loadPolicyFile runs them itself.
 */
export function validateAccount(account: Account): PolicyProblem[] {
  // Narrower than the loader's function: its source-map and unusable-item arguments are
  // the loader's business, and their types would pull the schema library into the API.
  return checkAccount(account);
}

/** A policy given as a file path (JSON or YAML, NetBird export or meshfilter format) or as an Account. */
export type PolicySource = string | Account;

function toAccount(source: PolicySource): Account {
  return typeof source === "string" ? loadPolicyFile(source) : source;
}

/** Load (if a path) and compile a policy for one peer (by id, name or overlay IP). Throws PolicyError. */
export function compilePolicy(source: PolicySource, peer: string, options?: CompileOptions): CompiledPeerPolicy {
  return compilePeer(toAccount(source), peer, options);
}

/** Load (if a path) and lint a policy: the zero-trust findings of POLICY.md. Throws PolicyError. */
export function lintPolicy(source: PolicySource, options?: CompileOptions): Finding[] {
  return lintAccount(toAccount(source), options);
}

export interface FirewallOptions extends EngineOptions {
  /** The peer this firewall protects: id, name or overlay IP. */
  peer: string;
  /** The policy: a file path, an Account, or tables already compiled for the peer. */
  policy: PolicySource | CompiledPeerPolicy;
  /** Compile options (for example honourBidirectionalFlag). */
  compile?: CompileOptions;
}

function isCompiled(policy: FirewallOptions["policy"]): policy is CompiledPeerPolicy {
  return typeof policy === "object" && "inbound" in policy && "peer" in policy;
}

/**
 * A ready stateful filter for one peer: the Engine with the peer's compiled policy.
 * Judge packets with `inbound`/`outbound`/`judgeBatch`, advance `setTime`, and swap
 * policies atomically with `applyPolicy(compilePolicy(...))`.
 */
export function createFirewall(options: FirewallOptions): Engine {
  const { peer, policy, compile, ...engineOptions } = options;
  const compiled = isCompiled(policy) ? policy : compilePolicy(policy, peer, compile);
  return new Engine(compiled, engineOptions);
}
