// Flow events (start, end, drop) and the cold-path flow listing.
//
// Events are delivered through ONE reused FlowEvent object, filled with numbers, so
// the hot path allocates nothing: a listener that keeps an event must copy what it
// needs before returning. Events happen only at flow start, flow end and on drops,
// never per packet of an established flow.

export const FLOW_START = 0;
export const FLOW_END = 1;
/** A packet was dropped (the engine's reason code is in `reason`). */
export const FLOW_DROP = 2;
export const FLOW_EVENT_KINDS: readonly string[] = ["start", "end", "drop"];

// Why a flow ended.
/** Idle longer than its state's timeout. */
export const END_TIMEOUT = 0;
/** Timed out after an orderly close (TIME_WAIT) or a reset (CLOSED). */
export const END_CLOSED = 1;
/** Pushed out to make room when the table was full. */
export const END_EVICTED = 2;
/** The new policy no longer allows it (P14). */
export const END_REVOKED = 3;
/** A new connection reused the tuple of a finished one (SYN after TIME_WAIT). */
export const END_REUSED = 4;
/** Removed by an operator (flush). */
export const END_FLUSHED = 5;
export const END_REASON_NAMES: readonly string[] = ["timeout", "closed", "evicted", "revoked", "reused", "flushed"];

export class FlowEvent {
  /** FLOW_START, FLOW_END or FLOW_DROP. */
  kind = 0;
  /** END_* for FLOW_END; the engine's reason code for FLOW_START (why accepted) and FLOW_DROP. */
  reason = 0;
  /** Printable form of `reason`. */
  reasonName = "";
  /** Event time (the injected clock, ms). */
  timeMs = 0;
  protocol = 0;
  ipVersion = 0;
  /** Originator (for drops: the packet's source) address words; IPv4 uses word 0. */
  src0 = 0;
  src1 = 0;
  src2 = 0;
  src3 = 0;
  /** Responder (for drops: the packet's destination) address words. */
  dst0 = 0;
  dst1 = 0;
  dst2 = 0;
  dst3 = 0;
  /** Ports of originator/responder; for ICMP echo both hold the echo id. */
  srcPort = 0;
  dstPort = 0;
  /** Index of the rule that allowed the flow (or decided the drop), -1 when none. */
  ruleIndex = -1;
  /** Id of that rule ("" when none). */
  ruleId = "";
  /** Conntrack state code (-1 for drops of untracked packets). */
  state = -1;
  /** "inbound", "outbound" or "routed"; for drops, the way the packet was judged ("inbound" or "outbound"). */
  origin = "";
  /** Counters (end events): originator->responder and responder->originator. */
  packetsOriginal = 0;
  packetsReply = 0;
  bytesOriginal = 0;
  bytesReply = 0;
  /** When the flow started (end events). */
  startMs = 0;
}

/** One tracked flow, as the `conntrack -L` style listing shows it (cold path). */
export interface FlowInfo {
  protocol: string;
  protocolNumber: number;
  state: string;
  /** Originator and responder addresses and ports (ICMP echo: both ports are the echo id). */
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  origin: "inbound" | "outbound" | "routed";
  replied: boolean;
  /** Id of the rule that allowed the flow, or null (outbound flows without egress rules). */
  rule: string | null;
  packetsOriginal: number;
  packetsReply: number;
  bytesOriginal: number;
  bytesReply: number;
  startMs: number;
  lastSeenMs: number;
  /** Milliseconds until the flow expires if idle (with adaptive scaling applied). */
  expiresInMs: number;
}
