// What the agent's thread and its queue workers (multi-queue.ts, queue-worker.ts) share:
// the worker's start data, the messages between them, the tags of the packets in their
// rings (packet-ring.ts), and the layout of a worker's counters in shared memory.

import type { CompiledPeerPolicy } from "../filter/compiled-policy.ts";
import type { FlowInfo } from "../conntrack/flow-event.ts";
import { REASON_COUNT } from "../engine/reasons.ts";
import type { FlowOwnersShape } from "./flow-owners.ts";
import type { PacketRingShape } from "./packet-ring.ts";
import type { RuleTotal } from "./rule-counters.ts";

/** Ring tags. Agent -> worker: */
export const TAG_IN = 1; // received from a peer: judge inbound, write to the TUN queue
export const TAG_OUT = 2; // read by another worker's queue for a flow this one owns: judge outbound, send
/** Worker -> agent: */
export const TAG_SEND = 3; // judged and accepted: seal and send
export const TAG_DROPPED = 4; // judged and dropped: only its room is given back
export const TAG_FORWARD = 16; // + owner: a packet of a flow another worker owns, for that worker to judge

export interface QueueWorkerData {
  index: number;
  tun: string;
  mtu: number;
  offload: boolean;
  batchSize: number;
  /** null: --no-filter. */
  policy: CompiledPeerPolicy | null;
  engineOptions: unknown;
  owners: FlowOwnersShape;
  inRing: PacketRingShape;
  outRing: PacketRingShape;
  /** Float64 counters, STAT's layout. */
  stats: SharedArrayBuffer;
}

export type ToWorker =
  | { type: "policy"; id: number; policy: CompiledPeerPolicy }
  | { type: "resources"; resource: string; cidrs: string[] }
  | { type: "flows"; id: number }
  | { type: "rules"; id: number }
  | { type: "stop" };

export type FromWorker =
  | { type: "ready"; name: string }
  | { type: "error"; message: string; code: string }
  | { type: "revoked"; id: number; cut: number }
  | { type: "flows"; id: number; flows: FlowInfo[] }
  | { type: "rules"; id: number; rules: RuleTotal[] };

/** A worker's counters: index into its Float64Array. */
export const STAT = {
  tunReadPackets: 0,
  tunReadBytes: 1,
  tunWrittenPackets: 2,
  outboundDropped: 3,
  inboundDropped: 4,
  mssClamped: 5,
  tunReadBatches: 6,
  flows: 7,
  capacity: 8,
  forwarded: 9,
  mergedWrites: 10,
  splitReads: 11,
  segmentRuns: 12,
  segmentRunPackets: 13,
  outRingFull: 14,
  flowsCut: 15,
} as const;
/** The engine's counts by decision reason start here (REASON_COUNT of them). */
export const STAT_REASONS = 16;
export const STAT_WORDS = STAT_REASONS + REASON_COUNT;
