// The order of decisions for one packet. After the decode, `judgeInbound` and
// `judgeOutbound` each read top to bottom as the decision order: fragments -> tracked
// connection (fast path first) -> rules -> track -> verdict. judgeBatch offers each
// packet to the tracked-connection fast path straight from its bytes first, which for an
// established TCP/IPv4 segment is all those steps would do. Everything they call is
// allocation-free; the policy in force is one reference (`ruleTable`), swapped whole by
// applyPolicy (P14).

import { Conntrack, FAST_GENERAL, FAST_UNTRACKED, CT_IGNORED, CT_ICMP_MISMATCH, CT_INVALID_FLAGS, CT_INVALID_STATE, CT_OK, CT_OUT_OF_WINDOW, CT_OVERSHOOT, CT_RESTART, CT_RST_CHALLENGE, CT_SYN_IGNORED, CT_WRONG_PATH, ctDetail, ctKind, ORIGIN_INBOUND, ORIGIN_OUTBOUND, ORIGIN_ROUTED } from "../conntrack/conntrack.ts";
import type { ConntrackOptions } from "../conntrack/conntrack.ts";
import { END_FLUSHED, END_REUSED, END_REVOKED, FLOW_DROP, FlowEvent } from "../conntrack/flow-event.ts";
import type { FlowInfo } from "../conntrack/flow-event.ts";
import { F_OUTBOUND, F_ROUTED } from "../conntrack/flow-record.ts";
import { stateName, TCP_CLOSED, TCP_TIME_WAIT } from "../conntrack/states.ts";
import { CLASS_ACK, CLASS_INVALID, CLASS_SYN, tcpFlagClass } from "../conntrack/tcp-states.ts";
import { WINDOW_DETAIL_COUNT } from "../conntrack/tcp-window.ts";
import { FRAG_OVERLAP, FRAG_UNKNOWN, FragmentTable } from "../filter/fragments.ts";
import { ACTION_DROP, RuleTable } from "../filter/rule-table.ts";
import { parseIp } from "../packet/address.ts";
import { viewOf } from "../packet/buffer-view.ts";
import { decodePacket } from "../packet/decode.ts";
import { RUN_END, RUN_LAST_SEQ, RUN_REST_BYTES, tcpSegmentRun } from "../packet/segment-run.ts";
import { MALFORMED_FRAGMENT_OVERLAP, MALFORMED_FRAGMENT_TOO_LONG, MALFORMED_TINY_FRAGMENT, PacketRecord, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP } from "../packet/record.ts";
import type { CompiledPeerPolicy } from "../filter/compiled-policy.ts";
import * as R from "./reasons.ts";
import { RevokedFlows } from "./revoked-flows.ts";

export const VERDICT_DROP = 0;
export const VERDICT_ACCEPT = 1;
export const DIR_NONE = 0;
export const DIR_IN = 1;
export const DIR_OUT = 2;

export interface EngineOptions {
  /** Connection table: capacity (hard cap, default 65536), timeouts (ms), adaptive scaling... */
  conntrack?: ConntrackOptions;
  /** Enforce the policy's outbound rules on connections this peer opens (P13). Default false. */
  egress?: boolean;
  /** Linux tcp_loose: a mid-stream TCP ACK may open a connection (windows unchecked). Default false. */
  looseTcp?: boolean;
  /** First-fragment verdict memory. Defaults: 4096 datagrams, 30 s. */
  fragments?: { capacity?: number; timeoutMs?: number };
  /** Verify IP/TCP/UDP/ICMP checksums while decoding. Default false (the kernel or the tunnel did). */
  verifyChecksum?: boolean;
  /**
   * judgeBatch judges a run of in-order segments of one established TCP connection as
   * one segment (packet/segment-run.ts), as Linux conntrack judges a GSO/GRO packet.
   * Default true; off, every segment is judged alone (the verdicts are the same).
   */
  segmentRuns?: boolean;
}

/** A packet whose verdict the tracked-connection step did not settle. */
const UNDECIDED = -1;
/** inboundOpening/outboundOpening: a rule decides (its index and origin in Engine.opening). */
export const OPEN_BY_RULE = -1;
/** outboundOpening: this peer's own traffic, unfiltered without egress rules (P13). */
export const OPEN_UNFILTERED = -2;
/** trackedLookup: no tracked flow; the rules decide. */
export const STEP_UNTRACKED = -1;
/** trackedLookup: a tracked flow (its reference in Engine.tracked[0]); Conntrack.update decides. */
export const STEP_FLOW = -2;
/** Clock time between two incremental expiry sweeps. */
const SWEEP_INTERVAL_MS = 100;
/** Entries per sweep: the whole table every SWEEP_TABLE_MS of clock time. */
const SWEEP_TABLE_MS = 5000;
const FRAGMENT_EXPIRE_INTERVAL_MS = 1000;
/** Default wall-clock budget of one revocation slice: a packet waits at most about this
 *  long behind one (bench/revoke.bench.ts measures the longest slice over 1,000,000 flows). */
export const REVOKE_SLICE_MS = 2;
/** Entries a revocation slice visits between two looks at the clock (~60 us of work with 1,000,000 flows). */
const REVOKE_CHECK_EVERY = 256;
/** judgeBatch loads the index slots of this many packets ahead of judging them... */
const PREFETCH_GROUP = 16;
/** ...when the index is too large for the CPU caches. Measured on the 2-core machine:
 *  with a 1 MiB index (100,000 flows) it costs 25% (the slots are cache hits anyway),
 *  with an 8 MiB one (1,000,000 flows) it gains ~50% (in flow order and shuffled alike).
 *  Loading the records as well helped shuffled traffic (+20%) but cost flow-ordered
 *  traffic as much, so only the slots are loaded ahead. */
const PREFETCH_MIN_INDEX_BYTES = 4 << 20;

export class Engine {
  /** The last decoded packet. */
  readonly record = new PacketRecord();
  /** Why the last packet got its verdict (reasons.ts). */
  lastReason = 0;
  /** Index of the rule that decided (or allowed the flow of) the last packet, -1 when none. */
  lastRule = -1;
  /** Conntrack state of the last packet's flow after it, -1 when untracked. */
  lastState = -1;
  /** Direction the last packet was judged in: DIR_IN, DIR_OUT, or DIR_NONE (judge: not for this peer). */
  lastDirection = DIR_NONE;
  /** For a `tcp-out-of-window` drop, which check failed (reasons.ts WINDOW_DETAIL_NAMES); else 0. */
  lastDetail = 0;
  /** Verdicts counted per reason code (plus revoked flows under REASON_REVOKED). */
  readonly reasonCounts = new Float64Array(R.REASON_COUNT);
  /** `tcp-out-of-window` drops counted per failing check (index: WINDOW_DETAIL_NAMES). */
  readonly detailCounts = new Float64Array(WINDOW_DETAIL_COUNT);
  /** Index 0: segment runs judgeBatch took whole; index 1: the packets after the first in them (counted as established too). */
  readonly segmentRunCounts = new Float64Array(2);
  readonly egress: boolean;

  private ruleTable: RuleTable;
  /** The table whose ids flow events resolve against (the old one while revoking). */
  private eventRules: RuleTable;
  private readonly ct: Conntrack;
  private readonly fragments: FragmentTable;
  /** Checksums are verified while decoding (EngineOptions.verifyChecksum). */
  readonly verifyChecksum: boolean;
  private readonly segmentRuns: boolean;
  /** judgeBatch tries Conntrack.trackTcp4Segment before decoding (not when checksums must be verified: it reads no payload). */
  private readonly fromBytes: boolean;
  /** judgeBatch's segment run (tcpSegmentRun's RUN_* fields), as int32: sequence numbers
   *  read from it are passed on to trackRunRest, and a uint32 >= 2^31 passed to a call V8
   *  did not inline is boxed (an allocation). */
  private readonly run = new Int32Array(3);
  private readonly sweepSlice: number;
  private now = 0;
  private lastSweep = 0;
  private lastFragmentExpiry = 0;
  private userListener: ((e: FlowEvent) => void) | undefined;
  /** Index 0: this peer's IPv4 address; index 1: 1 when it has exactly one (classify's shortcut).
   *  A typed array: the word is >= 2^30 (100.64.x.x), which a field could hold boxed. */
  private readonly selfV4 = new Uint32Array(2);
  /** Payload bytes of the segment trackTcp4Segment just took (its out-argument): a run starts only at data. */
  private readonly segmentPayload = new Int32Array(1);
  /** judgeBatch's prefetch: the home index slots of the group about to be judged. */
  private readonly prefetchHomes = new Int32Array(PREFETCH_GROUP);
  /** The prefetch loads' combined value, kept so that they are not optimised away. */
  private readonly prefetchSink = new Int32Array(1);
  /** inboundOpening/outboundOpening's answer for OPEN_BY_RULE: [0] the rule index (-1: none), [1] the origin (ORIGIN_*). */
  readonly opening = new Int32Array(2);
  /** trackedLookup's flow reference (STEP_FLOW) or related entry (REASON_RELATED). */
  readonly tracked = new Int32Array(1);
  /** Scratch record for the cold paths (revocation). */
  private readonly scratch = new PacketRecord();
  /** Connections revocation cut, so that this peer's next packet on one does not open it again (revoked-flows.ts). */
  private readonly revoked = new RevokedFlows();
  /** originalOf's record: a cut connection's original packet, to look it up and ask the rules in force. */
  private readonly revokedProbe = new PacketRecord();
  /** Revocation walk (beginPolicy, revokeSlice): under way, next entry id, flows cut. */
  private revoking = false;
  private revocationCursor = 0;
  private revocationCut = 0;
  /** The table in force before the walk: the rule indices of the flows it has not reached. */
  private revokedRules: RuleTable;
  /** revisitPacket's decode: `record` belongs to the judge that follows. */
  private readonly revisitRecord = new PacketRecord();

  constructor(policy: CompiledPeerPolicy, options: EngineOptions = {}) {
    this.ruleTable = RuleTable.build(policy);
    this.eventRules = this.ruleTable;
    this.revokedRules = this.ruleTable;
    this.setSelfAddresses(policy);
    this.egress = options.egress ?? false;
    this.ct = new Conntrack({ ...options.conntrack, looseTcp: options.looseTcp ?? options.conntrack?.looseTcp ?? false });
    // "" for an index the table does not have: during a revocation walk a flow not yet
    // reached still holds an index into the previous table (see beginPolicy).
    this.ct.ruleIds = (index) => this.eventRules.ruleId(index) ?? "";
    this.fragments = new FragmentTable(options.fragments?.capacity, options.fragments?.timeoutMs);
    this.verifyChecksum = options.verifyChecksum ?? false;
    this.fromBytes = !this.verifyChecksum;
    this.segmentRuns = (options.segmentRuns ?? true) && this.fromBytes;
    this.sweepSlice = Math.max(256, Math.ceil((this.ct.table.capacity * SWEEP_INTERVAL_MS) / SWEEP_TABLE_MS));
  }

  /** The rule table in force. */
  get rules(): RuleTable {
    return this.ruleTable;
  }

  /** The connection tracker (cold path: trace.ts and listings read it). */
  get conntrack(): Conntrack {
    return this.ct;
  }

  /** The first-fragment verdict memory (cold path: trace.ts). */
  get fragmentTable(): FragmentTable {
    return this.fragments;
  }

  /** Flow events (start, end with reason, drop). The event object is reused: copy what you keep. */
  get onFlowEvent(): ((e: FlowEvent) => void) | undefined {
    return this.userListener;
  }

  set onFlowEvent(listener: ((e: FlowEvent) => void) | undefined) {
    this.userListener = listener;
    this.ct.listener = listener ?? null;
  }

  /** Advance the clock (ms; capture time in replays). Runs incremental expiry as time passes. */
  setTime(ms: number): void {
    this.now = ms;
    this.ct.now = ms;
    this.fragments.setTime(ms);
    if (ms - this.lastSweep >= SWEEP_INTERVAL_MS) {
      // One slice per interval elapsed (a clock jump sweeps more, at most the whole table).
      const ticks = Math.min(Math.floor((ms - this.lastSweep) / SWEEP_INTERVAL_MS), SWEEP_TABLE_MS / SWEEP_INTERVAL_MS);
      this.lastSweep = ms;
      this.ct.expireSome(ms, this.sweepSlice * ticks);
    }
    if (ms - this.lastFragmentExpiry >= FRAGMENT_EXPIRE_INTERVAL_MS) {
      this.lastFragmentExpiry = ms;
      this.fragments.expire(ms);
    }
  }

  /** Judge a packet arriving from the mesh (for this peer, or for a resource it routes to). */
  inbound(buf: Uint8Array, offset: number, length: number): number {
    // P14 while a revocation walk is under way: re-check this packet's flow first.
    if (this.revoking) this.revisitPacket(buf, offset, length);
    this.lastDirection = DIR_IN;
    // 1. decode
    return this.decode(buf, offset, length) ? this.judgeInbound() : this.drop(malformedReason(this.record.malformed));
  }

  /** Judge a packet this peer sends into the mesh (its own, or a routed resource's reply). */
  outbound(buf: Uint8Array, offset: number, length: number): number {
    // P14 while a revocation walk is under way: re-check this packet's flow first.
    if (this.revoking) this.revisitPacket(buf, offset, length);
    this.lastDirection = DIR_OUT;
    // 1. decode
    return this.decode(buf, offset, length) ? this.judgeOutbound() : this.drop(malformedReason(this.record.malformed));
  }

  /**
   * Classify and judge in one go, with one decode: a packet from this peer (or a routed
   * resource) is judged as outbound, one to it as inbound (the directions of
   * `classify`), and `lastDirection` says which. A packet that is neither is not judged
   * and not counted: the verdict is VERDICT_DROP, `lastDirection` DIR_NONE and
   * `lastReason` REASON_NOT_FOR_PEER (a capture replay counts those itself).
   */
  judge(buf: Uint8Array, offset: number, length: number): number {
    // P14 while a revocation walk is under way: re-check this packet's flow first.
    if (this.revoking) this.revisitPacket(buf, offset, length);
    const ok = this.decode(buf, offset, length);
    const dir = this.directionOfRecord();
    this.lastDirection = dir;
    if (dir === DIR_NONE) {
      this.lastReason = R.REASON_NOT_FOR_PEER;
      return VERDICT_DROP;
    }
    if (!ok) return this.drop(malformedReason(this.record.malformed));
    return dir === DIR_IN ? this.judgeInbound() : this.judgeOutbound();
  }

  /**
   * Judge `count` packets buf[offsets[i], +lengths[i]) in direction `dir` (DIR_IN,
   * DIR_OUT, or DIR_NONE: each packet as `judge` judges it, so a packet for nobody here
   * is dropped and not counted, the same way), writing verdicts[i]. A run of segments of an
   * established connection is judged at once (acceptRunRest); every other packet alone.
   * After it, `record` holds the last packet decoded: the established TCP/IPv4 segments
   * judged from their bytes are not decoded.
   */
  judgeBatch(dir: number, buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, verdicts: Uint8Array): void {
    // P14 while a revocation walk is under way: re-check the batch's flows first.
    if (this.revoking) this.revisitBatch(buf, offsets, lengths, count);
    // The array holds several packets: have viewOf see it once, so that the first packet's
    // reads already get its DataView (buffer-view.ts makes one for an array seen twice).
    if (count > 1) viewOf(buf);
    const table = this.ct.table;
    const prefetch = table.slots.byteLength >= PREFETCH_MIN_INDEX_BYTES;
    const homes = this.prefetchHomes;
    const fromBytes = this.fromBytes && dir !== DIR_NONE;
    let sink = 0;
    let prefetched = 0;
    // Packets judged from their bytes (below) are counted once, after the loop, and
    // the last* fields set for the last of them only if it is the batch's last packet.
    let established = 0;
    let lastEntry = -1;
    for (let i = 0; i < count; ) {
      if (prefetch && i >= prefetched) {
        // Hash the next group first, then load its index slots with the cache misses overlapping.
        const end = i + PREFETCH_GROUP < count ? i + PREFETCH_GROUP : count;
        for (let j = i; j < end; j++) homes[j - i] = table.homeSlot4(buf, offsets[j], lengths[j]);
        sink ^= table.prefetchSlots(homes, end - i);
        prefetched = end;
      }
      // An established TCP/IPv4 segment is judged straight from its bytes
      // (Conntrack.trackTcp4Segment): that is step 3 of judgeInbound/judgeOutbound, all
      // they would do for it, without the decode. So is the run of segments after it.
      const ref = fromBytes ? this.ct.trackTcp4Segment(buf, offsets[i], lengths[i], dir === DIR_IN, this.segmentPayload) : FAST_GENERAL;
      if (ref >= 0) {
        verdicts[i] = VERDICT_ACCEPT;
        const rest = this.segmentRuns && this.segmentPayload[0] > 0 ? this.acceptRunRest(ref, buf, offsets, lengths, i, count) : 0;
        if (rest > 0) verdicts.fill(VERDICT_ACCEPT, i + 1, i + 1 + rest);
        established += 1 + rest;
        lastEntry = ref >> 1;
        i += 1 + rest;
      } else {
        // Every other packet is decoded into `record` and judged by them.
        verdicts[i] = dir === DIR_NONE ? this.judge(buf, offsets[i], lengths[i]) : this.judgeDecoded(dir, buf, offsets[i], lengths[i]);
        lastEntry = -1;
        i++;
      }
    }
    this.prefetchSink[0] = sink;
    if (established > 0) {
      this.reasonCounts[R.REASON_ESTABLISHED] += established;
      if (lastEntry >= 0) {
        this.lastDirection = dir;
        this.noteEstablished(lastEntry);
      }
    }
  }

  /** judgeBatch for a packet not judged from its bytes: decode, then judgeInbound / judgeOutbound. */
  private judgeDecoded(dir: number, buf: Uint8Array, offset: number, length: number): number {
    this.lastDirection = dir;
    if (!this.decode(buf, offset, length)) return this.drop(malformedReason(this.record.malformed));
    return dir === DIR_IN ? this.judgeInbound() : this.judgeOutbound();
  }

  /**
   * After the fast path took packet `i` for flow reference `ref`: when the packets after it continue it as
   * a run of segments (packet/segment-run.ts) that fits the flow's window, accept them
   * with the same checks and counters as segment by segment, and return how many they
   * were; otherwise change nothing and return 0 (they are then judged one by one).
   */
  private acceptRunRest(ref: number, buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, i: number, count: number): number {
    const run = this.run;
    const n = tcpSegmentRun(buf, offsets, lengths, i, count, run);
    if (n === 1 || !this.ct.trackRunRest(ref, run[RUN_LAST_SEQ], run[RUN_END], n - 1, run[RUN_REST_BYTES])) return 0;
    this.segmentRunCounts[0]++;
    this.segmentRunCounts[1] += n - 1;
    return n - 1;
  }

  /**
   * Which way a packet goes relative to this peer: DIR_OUT when it comes from this
   * peer (or a resource it routes for), DIR_IN when it goes to it (or such a resource),
   * DIR_NONE when neither or undecodable.
   */
  classify(buf: Uint8Array, offset: number, length: number): number {
    decodePacket(buf, offset, length, this.record, this.verifyChecksum);
    return this.directionOfRecord();
  }

  /** Decode into `record` and reset the per-packet results; false when malformed. */
  private decode(buf: Uint8Array, offset: number, length: number): boolean {
    this.lastRule = -1;
    this.lastState = -1;
    this.lastDetail = 0;
    return decodePacket(buf, offset, length, this.record, this.verifyChecksum);
  }

  /** True when the record's source is one of this peer's addresses (its one IPv4 address is compared first). */
  private fromSelf(rec: PacketRecord): boolean {
    if (rec.ipVersion === 4 && this.selfV4[1] === 1) return rec.src0 === this.selfV4[0];
    return this.ruleTable.isLocalSource(rec);
  }

  /** classify's answer for the decoded record. Most packets are to or from the peer's one IPv4 address: that is checked first. */
  private directionOfRecord(): number {
    return this.directionOf(this.record);
  }

  /** classify's answer for a decoded record (trace.ts asks it for its own record). */
  directionOf(rec: PacketRecord): number {
    const rules = this.ruleTable;
    if (rec.ipVersion === 4 && this.selfV4[1] === 1) {
      if (rec.src0 === this.selfV4[0]) return DIR_OUT;
      if (rec.dst0 === this.selfV4[0]) return DIR_IN;
    } else if (rec.ipVersion !== 4 && rec.ipVersion !== 6) {
      return DIR_NONE;
    }
    if (rules.isLocalSource(rec)) return DIR_OUT;
    if (rules.isLocalDestination(rec) || rules.isRoutedDestination(rec)) return DIR_IN;
    if (rules.isRoutedSource(rec)) return DIR_OUT;
    return DIR_NONE;
  }

  /** Steps 2-6 for a decoded inbound packet. */
  private judgeInbound(): number {
    const rec = this.record;
    // 2. fragments: a non-first fragment follows its first fragment's verdict
    if (rec.isFragment && rec.fragmentOffset > 0) return this.followFirstFragment();
    // 3. tracked connection: the common case (established TCP, UDP) first, then the rest;
    //    a packet of a tracked flow on the wrong path is dropped (`wrong-path`)
    const fast = this.ct.trackFast(rec, true);
    if (fast >= 0) return this.established(fast >> 1);
    let verdict = fast === FAST_UNTRACKED ? UNDECIDED : this.judgeTracked(true);
    if (verdict === UNDECIDED) {
      // 4. rules, for a packet that may open a connection; 5. track it
      const step = this.inboundOpening(rec);
      verdict = step === OPEN_BY_RULE ? this.openByRule(this.opening[0], this.opening[1]) : this.drop(step);
    }
    // 6. verdict (a first fragment's is remembered for the rest of its datagram)
    if (rec.isFragment) this.fragments.rememberFirst(rec, verdict);
    return verdict;
  }

  /** Steps 2-6 for a decoded outbound packet. */
  private judgeOutbound(): number {
    const rec = this.record;
    // 2. fragments
    if (rec.isFragment && rec.fragmentOffset > 0) return this.followFirstFragment();
    // 3. tracked connection (replies to inbound/routed flows, our own flows)
    const fast = this.ct.trackFast(rec, false);
    if (fast >= 0) return this.established(fast >> 1);
    let verdict = fast === FAST_UNTRACKED ? UNDECIDED : this.judgeTracked(false);
    if (verdict === UNDECIDED) {
      // 4. rules: our own traffic passes unfiltered unless egress is on (P13), TCP that
      //    is no SYN included (openOutbound); a routed resource may not open connections
      //    into the mesh (P6: one-way)
      const step = this.outboundOpening(rec);
      if (step === OPEN_UNFILTERED) verdict = this.openOutbound();
      else verdict = step === OPEN_BY_RULE ? this.openByRule(this.opening[0], this.opening[1]) : this.drop(step);
    }
    // 6. verdict
    if (rec.isFragment) this.fragments.rememberFirst(rec, verdict);
    return verdict;
  }

  // ---- the steps ----

  /**
   * Step 4 for an inbound packet no tracked flow took, deciding without changing
   * anything: OPEN_BY_RULE with the rule (-1: none) and origin in `opening`, or the
   * reason it is dropped before any rule. judgeInbound and trace (trace.ts) both ask it.
   */
  inboundOpening(rec: PacketRecord): number {
    const rules = this.ruleTable;
    if (this.fromSelf(rec)) return R.REASON_WRONG_PATH; // our own address, arriving from the mesh: spoofed
    if (rec.protocol === PROTO_TCP && !this.ct.canOpen(rec)) return tcpRefusal(rec);
    if (rules.isLocalDestination(rec)) return this.openWith(rules.matchInbound(rec), ORIGIN_INBOUND);
    if (rules.isRoutedDestination(rec)) return this.openWith(rules.matchRoute(rec), ORIGIN_ROUTED);
    return R.REASON_NOT_FOR_PEER;
  }

  /**
   * Step 4 for an outbound packet no tracked flow took, as inboundOpening: OPEN_UNFILTERED
   * for this peer's own traffic without egress rules (P13), TCP that is no SYN included
   * (openOutbound); OPEN_BY_RULE (egress); or the drop reason. A routed resource may not
   * open connections into the mesh (P6: one-way).
   */
  outboundOpening(rec: PacketRecord): number {
    const rules = this.ruleTable;
    const local = rules.isLocalSource(rec);
    if (local && !this.egress) return OPEN_UNFILTERED;
    if (rec.protocol === PROTO_TCP && !this.ct.canOpen(rec)) return tcpRefusal(rec);
    if (local) return this.openWith(rules.matchOutbound(rec), ORIGIN_OUTBOUND);
    if (rules.isRoutedSource(rec)) return R.REASON_NO_RULE;
    return R.REASON_NOT_FROM_PEER;
  }

  private openWith(rule: number, origin: number): number {
    this.opening[0] = rule;
    this.opening[1] = origin;
    return OPEN_BY_RULE;
  }

  /**
   * Step 5's outcome for a packet whose opening is rule `rule` (-1: none), deciding
   * without changing anything: REASON_NO_RULE, REASON_DROP_RULE, REASON_RULE_UNTRACKED
   * (allowed, opens no session), or REASON_RULE (allowed and tracked, unless the table is full).
   */
  ruleOutcome(rule: number, rec: PacketRecord): number {
    if (rule < 0) return R.REASON_NO_RULE;
    if (this.ruleTable.ruleAction(rule) === ACTION_DROP) return R.REASON_DROP_RULE;
    if (!this.ct.canOpen(rec)) return R.REASON_RULE_UNTRACKED;
    return R.REASON_RULE;
  }

  /**
   * Step 5's outcome for this peer's own packet that passes unfiltered (openOutbound),
   * without changing anything: REASON_TCP_INVALID_FLAGS, REASON_OUTBOUND_UNTRACKED (an
   * RST, FIN, SYN-ACK or fragmented ACK, which open nothing), REASON_RULE_UNTRACKED (ICMP
   * that opens no session) or REASON_OUTBOUND (tracked, unless the table is full).
   */
  outboundOutcome(rec: PacketRecord): number {
    if (rec.protocol === PROTO_TCP) {
      const cls = tcpFlagClass(rec.tcpFlags);
      if (cls === CLASS_INVALID) return R.REASON_TCP_INVALID_FLAGS;
      // Only a SYN or a plain ACK (with or without data) opens an entry, as in Linux's
      // tcp_new; an RST, a FIN or a SYN-ACK with no entry passes untracked.
      if (cls !== CLASS_SYN && cls !== CLASS_ACK) return R.REASON_OUTBOUND_UNTRACKED;
      if (cls === CLASS_ACK && rec.isFragment) return R.REASON_OUTBOUND_UNTRACKED;
      // A plain ACK of a connection revocation cut: the cut holds (P14), nothing opens.
      if (cls === CLASS_ACK && this.stillRevoked(rec) >= 0) return R.REASON_OUTBOUND_UNTRACKED;
      return R.REASON_OUTBOUND;
    }
    if (!this.ct.canOpen(rec)) return R.REASON_RULE_UNTRACKED;
    return rec.protocol === PROTO_UDP && this.stillRevoked(rec) >= 0 ? R.REASON_OUTBOUND_UNTRACKED : R.REASON_OUTBOUND;
  }

  /**
   * For this peer's TCP/UDP packet `rec` that finds no entry: the RevokedFlows slot of
   * the connection it belongs to when a policy change cut that connection and the rules
   * in force still forbid it to its remote end; else -1. Changes nothing but forgetting
   * memories that ran out of time.
   */
  private stillRevoked(rec: PacketRecord): number {
    const revoked = this.revoked;
    if (revoked.size === 0) return -1;
    const original = this.originalOf(rec);
    const slot = revoked.find(original, this.now);
    if (slot < 0) return -1;
    const rules = this.ruleTable;
    const rule = revoked.routedOf(slot) ? rules.matchRoute(original) : rules.matchInbound(original);
    return rule < 0 || rules.ruleAction(rule) === ACTION_DROP ? slot : -1;
  }

  /** The original packet (from the remote end) of the connection this peer's packet `rec` belongs to, as revisit asks about it: in revokedProbe. */
  private originalOf(rec: PacketRecord): PacketRecord {
    const p = this.revokedProbe;
    p.commonShape = false;
    p.ipVersion = rec.ipVersion;
    p.protocol = rec.protocol;
    p.src0 = rec.dst0;
    p.src1 = rec.dst1;
    p.src2 = rec.dst2;
    p.src3 = rec.dst3;
    p.dst0 = rec.src0;
    p.dst1 = rec.src1;
    p.dst2 = rec.src2;
    p.dst3 = rec.src3;
    p.srcPort = rec.dstPort;
    p.dstPort = rec.srcPort;
    p.hasL4 = true;
    p.isFragment = false;
    p.tcpFlags = rec.protocol === PROTO_TCP ? 0x02 : 0;
    return p;
  }

  /** Step 2: a non-first fragment gets its first fragment's verdict. */
  private followFirstFragment(): number {
    const v = this.fragments.lookup(this.record);
    if (v === FRAG_UNKNOWN) return this.drop(R.REASON_FRAGMENT_NO_FIRST);
    if (v === FRAG_OVERLAP) return this.drop(R.REASON_FRAGMENT_OVERLAP);
    return v === VERDICT_ACCEPT ? this.accept(R.REASON_FRAGMENT) : this.drop(R.REASON_FRAGMENT_FIRST_DROPPED);
  }

  /**
   * Step 3's look-up for a decoded packet, deciding without changing anything but the
   * removal of an expired flow it finds (`peek`: not even that, trace.ts): STEP_UNTRACKED
   * (no flow: on to the rules), STEP_FLOW (its flow's reference in `tracked[0]`, for
   * Conntrack.update), or a reason: REASON_RELATED (the quoted flow's entry in
   * `tracked[0]`), REASON_ICMP_UNRELATED or REASON_ICMP_NO_REQUEST.
   */
  trackedLookup(rec: PacketRecord, arrivedInbound: boolean, peek: boolean): number {
    const ct = this.ct;
    const isIcmp = rec.protocol === PROTO_ICMP || rec.protocol === PROTO_ICMPV6;
    if (isIcmp) {
      // Errors (and redirects) pass only as related to the flow they quote (P11), in
      // either direction; source quench never does. Nothing else about ICMP but echo
      // has a session: other types never look one up (an id-0 echo session must not
      // catch a timestamp request) and go on to the rules (inbound) or pass (P13).
      if (rec.icmpIsError) {
        // Relating keys on the quoted packet, not on the error's own addresses: an error
        // neither to (inbound) nor from (outbound) this peer or a resource it routes
        // for goes on to step 4, which names it not-for-peer / not-from-peer.
        if (!isOurs(this.ruleTable, rec, !arrivedInbound)) return STEP_UNTRACKED;
        const related = isSourceQuench(rec) ? -1 : ct.lookupRelated(rec);
        if (related < 0) return R.REASON_ICMP_UNRELATED;
        this.tracked[0] = related;
        return R.REASON_RELATED;
      }
      if (!rec.icmpIsEchoRequest && !rec.icmpIsEchoReply) return STEP_UNTRACKED;
    }
    const ref = peek ? ct.peek(rec) : ct.lookup(rec);
    if (ref < 0) return isIcmp && rec.icmpIsEchoReply ? R.REASON_ICMP_NO_REQUEST : STEP_UNTRACKED;
    this.tracked[0] = ref;
    return STEP_FLOW;
  }

  /** Step 3: the verdict for a packet of a tracked flow, or UNDECIDED when it has none. */
  private judgeTracked(arrivedInbound: boolean): number {
    const rec = this.record;
    const ct = this.ct;
    const step = this.trackedLookup(rec, arrivedInbound, false);
    if (step === STEP_UNTRACKED) return UNDECIDED;
    if (step === R.REASON_RELATED) {
      const related = this.tracked[0];
      this.lastRule = ct.table.rule(related);
      this.lastState = ct.table.state(related);
      return this.accept(R.REASON_RELATED);
    }
    if (step !== STEP_FLOW) return this.drop(step);
    const ref = this.tracked[0];
    const e = ref >> 1;
    const result = ct.update(ref, rec, arrivedInbound);
    this.lastRule = ct.table.rule(e);
    this.lastState = ct.table.state(e);
    const reason = trackedReason(result);
    if (reason < R.FIRST_DROP_REASON) return this.accept(reason);
    if (ctKind(result) === CT_OUT_OF_WINDOW) {
      const detail = ctDetail(result);
      this.lastDetail = detail;
      this.detailCounts[detail]++;
    }
    if (result === CT_RESTART) {
      // Port reuse after TIME_WAIT/CLOSED: the old flow is over; judge the SYN as new.
      ct.remove(e, END_REUSED);
      this.lastRule = -1;
      this.lastState = -1;
      return UNDECIDED;
    }
    return this.drop(reason);
  }

  /** Step 3, fast path: flow `e` took the packet (Conntrack.trackFast). */
  private established(e: number): number {
    this.noteEstablished(e);
    return this.accept(R.REASON_ESTABLISHED);
  }

  /** The last* fields for a packet flow `e` took on the fast path (judgeBatch counts it itself). */
  private noteEstablished(e: number): void {
    const t = this.ct.table;
    this.lastReason = R.REASON_ESTABLISHED;
    this.lastRule = t.rule(e);
    this.lastState = t.state(e);
  }

  /** Steps 4-5 for a new connection matched by rule `rule` (-1 = none): allow and track, or drop. */
  private openByRule(rule: number, origin: number): number {
    const rec = this.record;
    const ct = this.ct;
    const rules = this.ruleTable;
    this.lastRule = rule;
    const outcome = this.ruleOutcome(rule, rec);
    if (outcome === R.REASON_NO_RULE) return this.drop(outcome);
    if (outcome === R.REASON_DROP_RULE) {
      rules.countHit(rule, rec.ipTotalLength);
      return this.drop(outcome);
    }
    if (outcome === R.REASON_RULE_UNTRACKED) return this.passUntracked(rule);
    const ref = ct.create(rec, origin, rule);
    if (ref < 0) return this.drop(R.REASON_TABLE_FULL);
    rules.countHit(rule, rec.ipTotalLength);
    this.lastState = ct.table.state(ref >> 1);
    return this.accept(R.REASON_RULE);
  }

  /**
   * Steps 4-5 for this peer's own traffic without egress rules (P13): it passes, and is
   * tracked so that the replies pass. TCP that is no SYN, with no entry, is this peer's
   * side of a connection the table does not know (it began before the agent, or its
   * entry expired): it passes and picks up a loose entry (windows unchecked, as Linux
   * tcp_loose does for a packet its `ct state new` rule accepts), so the replies keep
   * working. An RST, a FIN or a SYN-ACK opens nothing (Linux's tcp_new does not pick up
   * those either) and passes untracked: the peer refusing a SYN the filter dropped, or
   * ending a connection the table no longer knows. Illegal flags: dropped.
   */
  private openOutbound(): number {
    const ct = this.ct;
    const rec = this.record;
    const outcome = this.outboundOutcome(rec);
    if (outcome === R.REASON_TCP_INVALID_FLAGS) return this.drop(outcome);
    if (outcome === R.REASON_OUTBOUND_UNTRACKED) {
      // This peer speaking on a connection revocation cut keeps the cut remembered.
      const slot = this.stillRevoked(rec);
      if (slot >= 0) this.revoked.refresh(slot, this.now);
      return this.accept(outcome);
    }
    if (outcome === R.REASON_RULE_UNTRACKED) return this.passUntracked(-1);
    if (this.revoked.size > 0) {
      // A cut connection the rules allow again may be picked up: its memory ends.
      const slot = this.revoked.find(this.originalOf(rec), this.now);
      if (slot >= 0) this.revoked.forget(slot);
    }
    const ref = ct.create(rec, ORIGIN_OUTBOUND, -1);
    if (ref < 0) return this.accept(R.REASON_OUTBOUND_UNTRACKED);
    this.lastState = ct.table.state(ref >> 1);
    return this.accept(R.REASON_OUTBOUND);
  }

  /** ICMP that is neither echo nor error opens no session: it passes untracked when allowed (P11: an icmp rule allows every type). */
  private passUntracked(rule: number): number {
    if (rule >= 0) this.ruleTable.countHit(rule, this.record.ipTotalLength);
    return this.accept(R.REASON_RULE_UNTRACKED);
  }

  private accept(reason: number): number {
    this.lastReason = reason;
    this.reasonCounts[reason]++;
    return VERDICT_ACCEPT;
  }

  private drop(reason: number): number {
    this.lastReason = reason;
    this.reasonCounts[reason]++;
    if (this.userListener !== undefined) this.emitDrop(reason);
    return VERDICT_DROP;
  }

  private emitDrop(reason: number): void {
    const rec = this.record;
    const ev = this.ct.event;
    ev.kind = FLOW_DROP;
    ev.reason = reason;
    ev.reasonName = R.REASON_NAMES[reason];
    ev.timeMs = this.now;
    ev.protocol = rec.protocol;
    ev.ipVersion = rec.ipVersion;
    ev.src0 = rec.src0;
    ev.src1 = rec.src1;
    ev.src2 = rec.src2;
    ev.src3 = rec.src3;
    ev.dst0 = rec.dst0;
    ev.dst1 = rec.dst1;
    ev.dst2 = rec.dst2;
    ev.dst3 = rec.dst3;
    ev.srcPort = rec.srcPort;
    ev.dstPort = rec.dstPort;
    ev.ruleIndex = this.lastRule;
    ev.ruleId = this.lastRule >= 0 ? this.ruleTable.ruleId(this.lastRule) : "";
    ev.state = this.lastState;
    ev.origin = this.lastDirection === DIR_OUT ? "outbound" : "inbound";
    ev.packetsOriginal = ev.packetsReply = ev.bytesOriginal = ev.bytesReply = 0;
    ev.startMs = this.now;
    this.userListener!(ev);
  }

  // ---- policy ----

  /**
   * Put `policy` in force (P14) and revoke at once: beginPolicy, then revokeSlice until
   * the table has been walked. Returns the number of flows cut. For a large table in a
   * running agent use beginPolicy and revokeSlice between batches instead.
   */
  applyPolicy(policy: CompiledPeerPolicy): number {
    this.beginPolicy(policy);
    while (!this.revokeSlice(Infinity));
    return this.revocationCut;
  }

  /**
   * Put `policy` in force (P14): the new rule table is built first, so a bad policy throws
   * and leaves the old one in force; then one reference is swapped, so every packet is
   * judged wholly by the old or wholly by the new rules, and new packets by the new ones
   * from now on. Revocation (cutting the tracked flows the new rules would not allow:
   * inbound and routed flows, outbound ones only in egress mode) then runs in slices,
   * revokeSlice, which the caller runs between batches. Until it is done, every packet is
   * first offered to revisitBatch/revisitPacket (the judging entry points do it), which
   * re-checks the packet's flow if the walk has not reached it yet: no packet of a flow
   * the new policy forbids is accepted, however far the walk has got. A policy given
   * while a walk is under way restarts it against the newest rules.
   */
  beginPolicy(policy: CompiledPeerPolicy): void {
    const next = RuleTable.build(policy);
    // Resolved domain-resource addresses live in the rule table: carry them over before
    // the swap, or every flow to a domain resource would be revoked and new ones refused.
    next.inheritResourceAddresses(this.ruleTable);
    // Flow events name a flow's rule by resolving its index in eventRules. New flows and
    // the flows the walk confirms point into the new table; the flows it cuts still point
    // into the old one, and revisit names them there. (An unvisited flow that times out
    // during the walk is named by the new table; after a restarted walk the cut ones are
    // named by the table before the first of the two.)
    if (!this.revoking) this.revokedRules = this.ruleTable;
    this.ruleTable = next;
    this.eventRules = next;
    this.setSelfAddresses(policy);
    this.fragments.clear();
    this.revocationCursor = 0;
    this.revocationCut = 0;
    this.revoking = true;
  }

  /**
   * Give a domain resource its freshly resolved addresses (P6), in one swap of the
   * domain-resource index (RuleTable.setResourceAddresses; throws FilterError and changes
   * nothing for a bad CIDR or a resource that is not a domain resource), then revoke like
   * a policy change (P14): flows to addresses that left the set are cut by the walk
   * (revokeSlice), flows to addresses still in it keep flowing.
   */
  setResourceAddresses(resourceId: string, cidrs: string[]): void {
    this.ruleTable.setResourceAddresses(resourceId, cidrs);
    if (!this.revoking) this.revokedRules = this.ruleTable;
    this.revocationCursor = 0;
    this.revocationCut = 0;
    this.revoking = true;
  }

  /**
   * One slice of the revocation walk begun by beginPolicy: entries are visited in pool
   * order from the cursor until `budgetMs` of wall-clock time has passed (checked every
   * REVOKE_CHECK_EVERY entries). Returns true when the walk is done (and false while
   * entries are left). Allocates nothing.
   */
  revokeSlice(budgetMs = REVOKE_SLICE_MS): boolean {
    if (!this.revoking) return true;
    const t = this.ct.table;
    const capacity = t.capacity;
    const deadline = budgetMs === Infinity ? Infinity : performance.now() + budgetMs;
    let e = this.revocationCursor;
    while (e < capacity) {
      const end = e + REVOKE_CHECK_EVERY < capacity ? e + REVOKE_CHECK_EVERY : capacity;
      for (; e < end; e++) if (t.isLive(e)) this.revisit(e);
      if (performance.now() >= deadline) break;
    }
    this.revocationCursor = e;
    if (e < capacity) return false;
    this.revoking = false;
    this.revokedRules = this.ruleTable; // the old table is garbage now
    return true;
  }

  /** True while a revocation walk is under way (revokeSlice has entries left). */
  get revocationPending(): boolean {
    return this.revoking;
  }

  /** Flows cut since the last beginPolicy (by the walk and by revisits of packets' flows). */
  get revokedByLastPolicy(): number {
    return this.revocationCut;
  }

  /**
   * During a revocation walk: re-check, against the rules in force, the flow of each of
   * `count` packets that the walk has not visited yet, so that the judge that follows
   * finds it either cut or confirmed. (A flow at or past the cursor may have been
   * confirmed already, or opened under the new rules: checking it again is harmless.)
   */
  revisitBatch(buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number): void {
    for (let i = 0; i < count; i++) this.revisitPacket(buf, offsets[i], lengths[i]);
  }

  /** revisitBatch for one packet. */
  revisitPacket(buf: Uint8Array, offset: number, length: number): void {
    if (!this.revoking) return;
    const rec = this.revisitRecord;
    if (!decodePacket(buf, offset, length, rec, this.verifyChecksum)) return; // dropped as malformed anyway
    // A non-first fragment has no ports: it follows its first fragment, whose verdict
    // memory beginPolicy cleared.
    if (rec.isFragment && rec.fragmentOffset > 0) return;
    // An ICMP error is accepted for the flow it quotes: re-check that flow.
    const isIcmp = rec.protocol === PROTO_ICMP || rec.protocol === PROTO_ICMPV6;
    // lookupRelated answers an entry, lookup a flow reference (entry * 2 + direction).
    const e = isIcmp && rec.icmpIsError ? this.ct.lookupRelated(rec) : this.ct.lookup(rec) >> 1;
    if (e >= this.revocationCursor) this.revisit(e);
  }

  /** Re-check live flow `e` against the rules in force: point it at its rule there, or cut it. */
  private revisit(e: number): void {
    const t = this.ct.table;
    const flags = t.flags(e);
    const outbound = (flags & F_OUTBOUND) !== 0;
    if (outbound && !this.egress) return;
    const rules = this.ruleTable;
    const probe = this.scratch;
    this.ct.writeOriginalTuple(e, probe);
    const rule = outbound ? rules.matchOutbound(probe) : flags & F_ROUTED ? rules.matchRoute(probe) : rules.matchInbound(probe);
    if (rule < 0 || rules.ruleAction(rule) === ACTION_DROP) {
      // A TCP connection in time-wait or closed has ended: its entry goes, but there is
      // no live connection to cut, so it is not counted as one.
      const state = t.state(e);
      const ended = state === TCP_TIME_WAIT || state === TCP_CLOSED;
      // A live TCP or UDP connection from the mesh: remembered, so that this peer's next
      // packet on it does not pick it up again (revoked-flows.ts).
      const p = probe.protocol;
      if (!outbound && !ended && (p === PROTO_TCP || p === PROTO_UDP)) this.revoked.remember(probe, (flags & F_ROUTED) !== 0, this.now);
      this.eventRules = this.revokedRules;
      this.ct.remove(e, END_REVOKED);
      this.eventRules = rules;
      if (!ended) {
        this.revocationCut++;
        this.reasonCounts[R.REASON_REVOKED]++;
      }
    } else {
      t.setRule(e, rule);
    }
  }

  private setSelfAddresses(policy: CompiledPeerPolicy): void {
    const v4 = (policy.peer?.addresses ?? []).map((a) => parseIp(a)).filter((p) => p.version === 4);
    this.selfV4[0] = v4.length === 1 ? v4[0].words[0] : 0;
    this.selfV4[1] = v4.length === 1 ? 1 : 0;
  }

  // ---- names and listings (cold path) ----

  reasonName(code: number): string {
    return R.reasonName(code);
  }

  /** Name of a `tcp-out-of-window` detail (lastDetail, detailCounts' index): "seq-above-window"... */
  detailName(code: number): string {
    return R.WINDOW_DETAIL_NAMES[code] ?? `unknown(${code})`;
  }

  stateName(code: number): string {
    return code < 0 ? "untracked" : stateName(code);
  }

  ruleId(index: number): string {
    return index < 0 ? "" : this.ruleTable.ruleId(index);
  }

  /** Tracked flows, like `conntrack -L` (expired ones not yet swept are left out). */
  *flows(): Iterable<FlowInfo> {
    const ct = this.ct;
    for (const e of ct.liveEntries()) if (!ct.isExpired(e)) yield ct.info(e);
  }

  /** Remove every tracked flow; returns how many. */
  flush(): number {
    return this.ct.flush(END_FLUSHED);
  }

  stats(): {
    flows: number;
    capacity: number;
    adaptiveTimeoutScale: number;
    tableBytes: number;
    bytesPerFlow: number;
    reasons: Record<string, number>;
  } {
    const t = this.ct.table;
    const reasons: Record<string, number> = {};
    R.REASON_NAMES.forEach((name, i) => (reasons[name] = this.reasonCounts[i]));
    return {
      flows: t.count,
      capacity: t.capacity,
      adaptiveTimeoutScale: this.ct.adaptiveScale,
      tableBytes: t.byteSize,
      bytesPerFlow: t.byteSize / t.capacity,
      reasons,
    };
  }
}

/** The drop reason for a decoder's MALFORMED_* code. */
export function malformedReason(malformed: number): number {
  if (malformed === MALFORMED_TINY_FRAGMENT) return R.REASON_FRAGMENT_TINY;
  if (malformed === MALFORMED_FRAGMENT_OVERLAP) return R.REASON_FRAGMENT_OVERLAP;
  if (malformed === MALFORMED_FRAGMENT_TOO_LONG) return R.REASON_FRAGMENT_TOO_LONG;
  return R.REASON_MALFORMED;
}

/** Why an untracked TCP packet that is no SYN cannot open a connection. */
function tcpRefusal(rec: PacketRecord): number {
  return tcpFlagClass(rec.tcpFlags) === CLASS_INVALID ? R.REASON_TCP_INVALID_FLAGS : R.REASON_TCP_NO_CONNECTION;
}

/**
 * The reason for a tracked packet's Conntrack.update result (CT_*): an accept reason
 * for the results that pass it, else the drop's. CT_RESTART is no verdict (the packet is
 * judged as a new connection); it maps to REASON_MALFORMED here, unused.
 */
export function trackedReason(result: number): number {
  if (result === CT_OK) return R.REASON_ESTABLISHED;
  if (result === CT_RST_CHALLENGE) return R.REASON_TCP_RST_CHALLENGE;
  if (result === CT_SYN_IGNORED) return R.REASON_TCP_SYN_IGNORED;
  if (result === CT_IGNORED) return R.REASON_TCP_IGNORED;
  if (result === CT_OVERSHOOT) return R.REASON_TCP_OVERSHOOT;
  return trackReason(ctKind(result));
}

function trackReason(result: number): number {
  switch (result) {
    case CT_INVALID_FLAGS:
      return R.REASON_TCP_INVALID_FLAGS;
    case CT_OUT_OF_WINDOW:
      return R.REASON_TCP_OUT_OF_WINDOW;
    case CT_INVALID_STATE:
      return R.REASON_TCP_INVALID_STATE;
    case CT_ICMP_MISMATCH:
      return R.REASON_ICMP_WRONG_DIRECTION;
    case CT_WRONG_PATH:
      return R.REASON_WRONG_PATH;
    default:
      return R.REASON_MALFORMED;
  }
}

/** ICMPv4 source quench: deprecated (RFC 6633), never related to anything, dropped (the decoder counts it among the errors: it quotes a packet). */
function isSourceQuench(rec: PacketRecord): boolean {
  return rec.protocol === PROTO_ICMP && rec.icmpType === 4;
}

/** For an ICMP error: inbound, addressed to this peer or a routed resource; outbound, sent by one. */
function isOurs(rules: RuleTable, rec: PacketRecord, outbound: boolean): boolean {
  if (outbound) return rules.isLocalSource(rec) || rules.isRoutedSource(rec);
  return rules.isLocalDestination(rec) || rules.isRoutedDestination(rec);
}
