// The storage of connection tracking: a fixed pool of entry records in typed arrays
// and an open-addressing index over it.
//
// - The index is an Int32Array of 2^k slots (>= 2 x capacity, so the load factor stays
//   <= 0.5 even when full) holding entry+1 (0 = empty), probed linearly. Deletion
//   shifts later members of the cluster back (no tombstones), so probe lengths only
//   depend on the live entries.
// - One entry holds both directions of a flow. The key is canonical: the two endpoints
//   (address, port) are ordered, the smaller one stored as "A", so a packet and its
//   reply compute the same key and find the entry with one lookup. A flag says whether
//   the originator is endpoint A.
// - The hash is multilinear over the ten key words with random odd multipliers drawn
//   per table, then avalanched: without the multipliers nobody can compute which keys
//   collide, so collisions cannot be aimed from outside.
// - Each entry is one 128-byte record (the "struct" is laid out inside one ArrayBuffer,
//   read through a Uint32Array and a Float64Array view), so a packet of a tracked flow
//   touches its index slot and two or three adjacent cache lines, not one line per
//   field: with a million flows, memory latency is what costs. Per flow: 128 bytes of
//   record + 8 bytes of index + 4 bytes of hash = 140 bytes at a power-of-two capacity
//   (the hashes sit apart: flow-record.ts says why). Free records are
//   chained through a spare word, so there is no separate free list.
//
// No method here allocates: the key is passed through `key` (a scratch array), and
// numbers that may leave the small-integer range live in typed arrays, not fields.

import type { PacketRecord } from "../packet/record.ts";
import { tcp4View } from "../packet/tcp4-view.ts";

import * as layout from "./flow-record.ts";

// Module-local copies of the record layout (flow-record.ts says why).
const KEY_WORDS = layout.KEY_WORDS;
const KEY_PORTS = layout.KEY_PORTS;
const KEY_PROTO = layout.KEY_PROTO;
const F_LIVE = layout.F_LIVE;
const F_ORIG_IS_A = layout.F_ORIG_IS_A;
const RECORD_WORDS = layout.RECORD_WORDS;
const RECORD_DOUBLES = layout.RECORD_DOUBLES;
const K_PORTS = layout.K_PORTS;
const K_PROTO = layout.K_PROTO;
const K_META = layout.K_META;
const META_FLAGS_SHIFT = layout.META_FLAGS_SHIFT;
const META_TD_SHIFT = layout.META_TD_SHIFT;
const K_TCP = layout.K_TCP;
const K_RULE = layout.K_RULE;
const K_PACKETS = layout.K_PACKETS;
const K_NEXT_FREE = layout.K_NEXT_FREE;
const D_CREATED = layout.D_CREATED;
const D_LAST_SEEN = layout.D_LAST_SEEN;
const D_BYTES = layout.D_BYTES;
const TD_END = layout.TD_END;
const TD_MAXEND = layout.TD_MAXEND;
const TD_MAXWIN = layout.TD_MAXWIN;

/** -1, stored as 0xffffffff and read back with | 0: freeHead stays a small integer, since
 *  a field that sometimes holds a larger number may box a fresh number on a store. */
const NO_FREE = -1;

/** Address words in the record's layout (PacketRecord, FlowEvent): IPv4 uses word 0. */
export interface AddressWords {
  src0: number;
  src1: number;
  src2: number;
  src3: number;
  dst0: number;
  dst1: number;
  dst2: number;
  dst3: number;
}

export class FlowTable {
  /** Hard maximum of live entries. */
  readonly capacity: number;
  /** Number of index slots (a power of two). */
  readonly slotCount: number;
  readonly mask: number;
  /** Live entries. */
  count = 0;

  /**
   * The index: per slot 0 (empty) or entry + 1 in the low `entryBits` bits, with the
   * hash bits above the index's in the bits above (a tag, up to the sign bit). A probe
   * reads a record only when the tag matches, so the ~0.5 extra probes per lookup of a
   * half-full table cost no record read (with a million flows, a cache miss each).
   */
  readonly slots: Int32Array;
  /** Bits of a slot holding entry + 1 (the rest is the tag). */
  readonly entryBits: number;
  readonly entryMask: number;
  /** The records' words as int32, for the window tracking (tcp-window.ts) at tcpBase():
   *  sequence arithmetic is modulo 2^32 either way, and an int32 is never boxed when it
   *  is passed to or returned from a call V8 did not inline (a uint32 >= 2^31 is). */
  readonly tcp: Int32Array;
  /** The records as 32-bit words and as doubles (read in place by the conntrack fast path). */
  readonly words: Uint32Array;
  readonly doubles: Float64Array;
  /** Each entry's key hash, by entry: removal reads it for every member of the index
   *  cluster it shifts, and here that costs a line of this dense array, not a record. */
  private readonly hashes: Int32Array;
  private freeHead: number;

  // ---- hashing ----
  /** KEY_WORDS random odd multipliers, then the seed: int32s in a typed array, so reading
   *  them never boxes (a field holding a number beyond the small-integer range would). */
  private readonly multipliers: Int32Array;

  /** Scratch key written by `setKey*` and read by `find` / `insert`. */
  readonly key = new Uint32Array(KEY_WORDS);
  /** Hash of `key`, computed by `setKey*`: [0]. A typed array, not a field: a field that
   *  holds numbers beyond the small-integer range may box a fresh number on a store. */
  private readonly keyHashCell = new Uint32Array(1);
  /** After `setKey*`: true when the packet's source is endpoint A of the canonical key. */
  srcIsA = false;

  constructor(capacity: number, random: () => number = Math.random) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1 << 26) {
      throw new Error(`conntrack capacity ${capacity} must be an integer in 1..${1 << 26}`);
    }
    this.capacity = capacity;
    let slotCount = 16;
    while (slotCount < capacity * 2) slotCount *= 2;
    this.slotCount = slotCount;
    this.mask = slotCount - 1;
    this.slots = new Int32Array(slotCount);
    // entry + 1 <= capacity < slotCount = 2^entryBits; the index uses hash bits below
    // entryBits, the tag the 31 - entryBits bits from entryBits + 1 up (int32, no sign).
    this.entryBits = Math.log2(slotCount);
    this.entryMask = slotCount - 1;
    const records = new ArrayBuffer(capacity * RECORD_WORDS * 4);
    this.words = new Uint32Array(records);
    this.tcp = new Int32Array(records);
    this.doubles = new Float64Array(records);
    this.hashes = new Int32Array(capacity);
    // Chain the free records, low ids first, so a lightly used table keeps its entries together.
    for (let e = 0; e < capacity; e++) this.words[e * RECORD_WORDS + K_NEXT_FREE] = e + 1 < capacity ? e + 1 : NO_FREE;
    this.freeHead = 0;
    this.multipliers = new Int32Array(KEY_WORDS + 1);
    for (let i = 0; i < KEY_WORDS; i++) this.multipliers[i] = Math.floor(random() * 0x100000000) | 1;
    this.multipliers[KEY_WORDS] = Math.floor(random() * 0x100000000);
  }

  /** Bytes held by the table's typed arrays (index, records, hashes). */
  get byteSize(): number {
    return this.slots.byteLength + this.words.byteLength + this.hashes.byteLength;
  }

  // ---- per-entry fields ----

  state(e: number): number {
    return this.words[e * RECORD_WORDS + K_META] & 0xff;
  }

  setState(e: number, state: number): void {
    const at = e * RECORD_WORDS + K_META;
    this.words[at] = (this.words[at] & ~0xff) | state;
  }

  /** F_* bits. */
  flags(e: number): number {
    return (this.words[e * RECORD_WORDS + K_META] >>> META_FLAGS_SHIFT) & 0xff;
  }

  addFlags(e: number, bits: number): void {
    this.words[e * RECORD_WORDS + K_META] |= bits << META_FLAGS_SHIFT;
  }

  removeFlags(e: number, bits: number): void {
    this.words[e * RECORD_WORDS + K_META] &= ~(bits << META_FLAGS_SHIFT);
  }

  /** Window-scale shift of direction `d`. */
  tdScale(e: number, d: number): number {
    return (this.words[e * RECORD_WORDS + K_META] >>> (META_TD_SHIFT + 8 * d)) & 0x0f;
  }

  /** TD_* flag bits of direction `d`. */
  tdFlags(e: number, d: number): number {
    return (this.words[e * RECORD_WORDS + K_META] >>> (META_TD_SHIFT + 8 * d + 4)) & 0x0f;
  }

  setTd(e: number, d: number, scale: number, tdFlags: number): void {
    const at = e * RECORD_WORDS + K_META;
    const shift = META_TD_SHIFT + 8 * d;
    this.words[at] = (this.words[at] & ~(0xff << shift)) | ((scale | (tdFlags << 4)) << shift);
  }

  /** Index in `tcp` of direction `d`'s three words (add TD_END, TD_MAXEND, TD_MAXWIN). */
  tcpBase(e: number, d: number): number {
    return e * RECORD_WORDS + K_TCP + 3 * d;
  }

  /** Index of the rule that allowed the flow in the rule table in force, -1 for none (outbound). */
  rule(e: number): number {
    return this.words[e * RECORD_WORDS + K_RULE] | 0;
  }

  setRule(e: number, rule: number): void {
    this.words[e * RECORD_WORDS + K_RULE] = rule;
  }

  created(e: number): number {
    return this.doubles[e * RECORD_DOUBLES + D_CREATED];
  }

  lastSeen(e: number): number {
    return this.doubles[e * RECORD_DOUBLES + D_LAST_SEEN];
  }

  /** Count one packet of `bytes` in direction `d` at time `now`. */
  count1(e: number, d: number, bytes: number, now: number): void {
    this.words[e * RECORD_WORDS + K_PACKETS + d]++;
    const base = e * RECORD_DOUBLES;
    this.doubles[base + D_BYTES + d] += bytes;
    this.doubles[base + D_LAST_SEEN] = now;
  }

  /** Start entry `e`'s counters over, as a new connection created `now` (a restart in place). */
  resetCounters(e: number, now: number): void {
    const r = e * RECORD_WORDS;
    this.words[r + K_PACKETS] = 0;
    this.words[r + K_PACKETS + 1] = 0;
    const base = e * RECORD_DOUBLES;
    this.doubles[base + D_BYTES] = 0;
    this.doubles[base + D_BYTES + 1] = 0;
    this.doubles[base + D_CREATED] = now;
  }

  /** A scratch area for copyRecord/restoreRecord. */
  newRecordCopy(): Uint32Array {
    return new Uint32Array(RECORD_WORDS);
  }

  /** Copy entry `e`'s record into `into`; restoreRecord writes it back (a dry run of an update, trace.ts). The index is not touched. */
  copyRecord(e: number, into: Uint32Array): void {
    into.set(this.words.subarray(e * RECORD_WORDS, (e + 1) * RECORD_WORDS));
  }

  restoreRecord(e: number, from: Uint32Array): void {
    this.words.set(from, e * RECORD_WORDS);
  }

  packetsOf(e: number, d: number): number {
    return this.words[e * RECORD_WORDS + K_PACKETS + d];
  }

  bytesOf(e: number, d: number): number {
    return this.doubles[e * RECORD_DOUBLES + D_BYTES + d];
  }

  /** True when entry `e` is live. */
  isLive(e: number): boolean {
    return (this.flags(e) & F_LIVE) !== 0;
  }

  // ---- keys ----

  /** Hash of the key set last. */
  get keyHash(): number {
    return this.keyHashCell[0];
  }

  /** Index slot the key set last hashes to. */
  get keyHome(): number {
    return this.keyHashCell[0] & this.mask;
  }

  /**
   * Write the canonical key of a flow between (src, srcPort) and (dst, dstPort) into
   * `key`, compute its hash and set `srcIsA`. IPv4 addresses use word 0. Address words
   * may be given as uint32 or as int32 (`| 0`, what the per-packet callers pass: a
   * uint32 >= 2^31 would be boxed on the way into a call that is not inlined).
   */
  setKey(
    protocol: number, version: number,
    s0: number, s1: number, s2: number, s3: number, srcPort: number,
    d0: number, d1: number, d2: number, d3: number, dstPort: number,
  ): void {
    // Order the endpoints by (address words, port); unsigned comparisons via >>> 0.
    let srcFirst: boolean;
    if (s0 !== d0) srcFirst = s0 >>> 0 < d0 >>> 0;
    else if (s1 !== d1) srcFirst = s1 >>> 0 < d1 >>> 0;
    else if (s2 !== d2) srcFirst = s2 >>> 0 < d2 >>> 0;
    else if (s3 !== d3) srcFirst = s3 >>> 0 < d3 >>> 0;
    else srcFirst = srcPort <= dstPort;
    const k = this.key;
    if (srcFirst) {
      k[0] = s0; k[1] = s1; k[2] = s2; k[3] = s3;
      k[4] = d0; k[5] = d1; k[6] = d2; k[7] = d3;
      k[KEY_PORTS] = ((srcPort << 16) | dstPort) >>> 0;
    } else {
      k[0] = d0; k[1] = d1; k[2] = d2; k[3] = d3;
      k[4] = s0; k[5] = s1; k[6] = s2; k[7] = s3;
      k[KEY_PORTS] = ((dstPort << 16) | srcPort) >>> 0;
    }
    k[KEY_PROTO] = protocol | (version << 8);
    this.srcIsA = srcFirst;
    this.keyHashCell[0] = this.hashKey();
  }

  /**
   * setKey for IPv4, the common case: same key layout (other address words 0), but
   * only the four non-zero words go through the hash. (The version is part of the key,
   * so IPv4 and IPv6 keys never compare equal whichever way each is hashed.)
   */
  setKey4(protocol: number, src: number, srcPort: number, dst: number, dstPort: number): void {
    const srcFirst = src !== dst ? src >>> 0 < dst >>> 0 : srcPort <= dstPort;
    const k = this.key;
    const a = srcFirst ? src : dst;
    const b = srcFirst ? dst : src;
    const ports = (srcFirst ? (srcPort << 16) | dstPort : (dstPort << 16) | srcPort) >>> 0;
    const proto = protocol | (4 << 8);
    // Words 1-3 and 5-7 are left as they are: find() does not read them for IPv4 keys
    // (the version in KEY_PROTO already tells IPv4 from IPv6) and insert() zeroes them.
    k[0] = a;
    k[4] = b;
    k[KEY_PORTS] = ports;
    k[KEY_PROTO] = proto;
    this.srcIsA = srcFirst;
    this.keyHashCell[0] = this.hash4(a, b, ports, proto);
  }

  /** The hash of an IPv4 key (a, b, ports, proto), as an int32 (a Smi, never boxed): the same function setKey4 and find4 use. */
  private hash4(a: number, b: number, ports: number, proto: number): number {
    const m = this.multipliers;
    return avalanche((m[KEY_WORDS] + Math.imul(a, m[0]) + Math.imul(b, m[4]) + Math.imul(ports, m[KEY_PORTS]) + Math.imul(proto, m[KEY_PROTO])) | 0) | 0;
  }

  /**
   * The fast paths' lookup: the live entry of the IPv4 flow (src, srcPort) -> (dst,
   * dstPort) of `protocol`, or -1; sets `srcIsA` as setKey4 does. Unlike setKey4 + find
   * it leaves the scratch key alone (call setKey4 before `insert`) and compares the
   * record's key words with locals. The addresses come as int32 (`word | 0`): a uint32
   * >= 2^31 passed to a call V8 does not inline would be boxed, an allocation per packet.
   */
  find4(protocol: number, src: number, srcPort: number, dst: number, dstPort: number): number {
    const srcFirst = src !== dst ? src >>> 0 < dst >>> 0 : srcPort <= dstPort;
    this.srcIsA = srcFirst;
    const a = srcFirst ? src : dst;
    const b = srcFirst ? dst : src;
    const ports = (srcFirst ? (srcPort << 16) | dstPort : (dstPort << 16) | srcPort) | 0;
    const proto = protocol | (4 << 8);
    const h = this.hash4(a, b, ports, proto);
    const slots = this.slots;
    const w = this.words;
    const mask = this.mask;
    const entryMask = this.entryMask;
    const tag = this.tagOf(h);
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const s = slots[i];
      if (s === 0) return -1;
      if ((s & ~entryMask) !== tag) continue; // another flow's slot: its record stays untouched
      const r = ((s & entryMask) - 1) * RECORD_WORDS;
      // Key words read as int32 (| 0), like a, b and ports.
      if ((w[r + K_PORTS] | 0) === ports && (w[r] | 0) === a && (w[r + 4] | 0) === b && w[r + K_PROTO] === proto) return (s & entryMask) - 1;
    }
  }

  /**
   * The index slot `find4` will probe first for the IPv4 TCP/UDP packet buf[offset,
   * offset + length), computed from the header bytes (no decode), or -1 when the packet
   * is anything else. judgeBatch loads these slots for a group of packets in a tight
   * loop before judging them, so that with a table far larger than the CPU caches the
   * misses overlap instead of coming one after another. A hint only: a wrong guess costs
   * a load.
   */
  homeSlot4(buf: Uint8Array, offset: number, length: number): number {
    const tcp4 = tcp4View;
    if (length < 24 || tcp4.ipVersionByte(buf, offset) !== 4) return -1;
    const protocol = tcp4.ipv4ProtocolByte(buf, offset);
    const l4 = offset + tcp4.ipv4HeaderLengthByte(buf, offset);
    if ((protocol !== 6 && protocol !== 17) || l4 + 4 > offset + length) return -1;
    const src = tcp4.ipv4SrcBytes(buf, offset);
    const dst = tcp4.ipv4DstBytes(buf, offset);
    const srcPort = tcp4.srcPortBytes(buf, l4);
    const dstPort = tcp4.dstPortBytes(buf, l4);
    const srcFirst = src !== dst ? src < dst : srcPort <= dstPort;
    const ports = (srcFirst ? (srcPort << 16) | dstPort : (dstPort << 16) | srcPort) >>> 0;
    return this.hash4(srcFirst ? src : dst, srcFirst ? dst : src, ports, protocol | (4 << 8)) & this.mask;
  }


  /**
   * Load the index slots homes[0..n) (-1: skip) in a loop of independent loads, so the
   * CPU has all their cache misses in flight at once (see homeSlot4). Returns a value
   * the caller must keep, or the compiler could drop the loads.
   */
  prefetchSlots(homes: Int32Array, n: number): number {
    const slots = this.slots;
    let sink = 0;
    for (let j = 0; j < n; j++) if (homes[j] >= 0) sink ^= slots[homes[j]];
    return sink & 0xff; // a small integer whatever the slots hold: returning it never boxes
  }

  /** The tag bits of a slot holding an entry of hash `h`: hash bits the index does not use (see `slots`). */
  private tagOf(h: number): number {
    return ((h >>> (this.entryBits + 1)) << this.entryBits) | 0;
  }

  private hashKey(): number {
    const k = this.key;
    const m = this.multipliers;
    let h = m[KEY_WORDS];
    for (let i = 0; i < KEY_WORDS; i++) h = (h + Math.imul(k[i], m[i])) | 0;
    return avalanche(h);
  }

  /** The live entry with `key`, or -1. */
  find(): number {
    const h = this.keyHashCell[0];
    const k = this.key;
    const slots = this.slots;
    const keys = this.words;
    const mask = this.mask;
    const ports = k[KEY_PORTS];
    const proto = k[KEY_PROTO];
    const a0 = k[0];
    const b0 = k[4];
    const v6 = proto >>> 8 === 6;
    const entryMask = this.entryMask;
    const tag = this.tagOf(h);
    let i = h & mask;
    for (;;) {
      const s = slots[i];
      if (s === 0) return -1;
      const r = ((s & entryMask) - 1) * RECORD_WORDS;
      if (
        (s & ~entryMask) === tag &&
        keys[r + K_PORTS] === ports && keys[r + K_PROTO] === proto &&
        keys[r] === a0 && keys[r + 4] === b0 &&
        (!v6 ||
          (keys[r + 1] === k[1] && keys[r + 2] === k[2] && keys[r + 3] === k[3] &&
            keys[r + 5] === k[5] && keys[r + 6] === k[6] && keys[r + 7] === k[7]))
      ) return (s & entryMask) - 1;
      i = (i + 1) & mask;
    }
  }

  /**
   * Add an entry for `key` (which must not be present) and return its id, or -1 when
   * the table holds `capacity` entries. Counters and TCP fields start at zero.
   */
  insert(flags: number, state: number, rule: number, now: number): number {
    if (this.freeHead === NO_FREE) return -1;
    const e = this.freeHead;
    const w = this.words;
    const r = e * RECORD_WORDS;
    this.freeHead = w[r + K_NEXT_FREE] | 0;
    w.fill(0, r, r + RECORD_WORDS);
    const k = this.key;
    const v6 = k[KEY_PROTO] >>> 8 === 6;
    for (let i = 0; i < 8; i++) if (v6 || i === 0 || i === 4) w[r + i] = k[i];
    w[r + K_PORTS] = k[KEY_PORTS];
    w[r + K_PROTO] = k[KEY_PROTO];
    this.hashes[e] = this.keyHashCell[0];
    w[r + K_RULE] = rule;
    this.setState(e, state);
    this.addFlags(e, flags | F_LIVE);
    this.doubles[e * RECORD_DOUBLES + D_CREATED] = now;
    this.doubles[e * RECORD_DOUBLES + D_LAST_SEEN] = now;
    let i = this.keyHashCell[0] & this.mask;
    while (this.slots[i] !== 0) i = (i + 1) & this.mask;
    this.slots[i] = this.tagOf(this.keyHashCell[0]) | (e + 1);
    this.count++;
    return e;
  }

  /** Remove live entry `e`: backward-shift its index cluster and return the id to the pool. */
  remove(e: number): void {
    const slots = this.slots;
    const words = this.words;
    const mask = this.mask;
    // Hashes are read in place and masked at once: a uint32 returned from a helper that
    // V8 does not inline would be boxed, one allocation per call.
    const hashes = this.hashes;
    let i = hashes[e] & mask;
    const entryMask = this.entryMask;
    while ((slots[i] & entryMask) !== e + 1) i = (i + 1) & mask;
    // Walk the rest of the cluster; a member may move into the hole when the hole lies
    // between its home slot and where it sits now (cyclically).
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const s = slots[j];
      if (s === 0) break;
      const home = hashes[(s & entryMask) - 1] & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        slots[i] = s;
        i = j;
      }
    }
    slots[i] = 0;
    words[e * RECORD_WORDS + K_META] = 0;
    words[e * RECORD_WORDS + K_NEXT_FREE] = this.freeHead;
    this.freeHead = e;
    this.count--;
  }

  /** True when the originator of entry `e` is the source of the packet whose key was set last. */
  isOriginalDirection(e: number): boolean {
    return ((this.flags(e) & F_ORIG_IS_A) !== 0) === this.srcIsA;
  }

  /** Protocol number of entry `e`. */
  protocolOf(e: number): number {
    return this.words[e * RECORD_WORDS + K_PROTO] & 0xff;
  }

  /** IP version (4 or 6) of entry `e`. */
  versionOf(e: number): number {
    return this.words[e * RECORD_WORDS + K_PROTO] >>> 8;
  }

  /** Address word `w` (0..3) of the originator (`side` 0) or responder (`side` 1) of `e`. */
  addressWord(e: number, side: number, w: number): number {
    const origIsA = (this.flags(e) & F_ORIG_IS_A) !== 0;
    const isA = side === 0 ? origIsA : !origIsA;
    return this.words[e * RECORD_WORDS + (isA ? 0 : 4) + w];
  }

  /** Write the originator's (src*) and responder's (dst*) address words of `e` into `out` (a flow event, a record). */
  copyAddresses(e: number, out: AddressWords): void {
    out.src0 = this.addressWord(e, 0, 0);
    out.src1 = this.addressWord(e, 0, 1);
    out.src2 = this.addressWord(e, 0, 2);
    out.src3 = this.addressWord(e, 0, 3);
    out.dst0 = this.addressWord(e, 1, 0);
    out.dst1 = this.addressWord(e, 1, 1);
    out.dst2 = this.addressWord(e, 1, 2);
    out.dst3 = this.addressWord(e, 1, 3);
  }

  /** Port of the originator (`side` 0) or responder (`side` 1) of `e`. */
  portOf(e: number, side: number): number {
    const origIsA = (this.flags(e) & F_ORIG_IS_A) !== 0;
    const isA = side === 0 ? origIsA : !origIsA;
    const ports = this.words[e * RECORD_WORDS + K_PORTS];
    return isA ? ports >>> 16 : ports & 0xffff;
  }
}

/** murmur3's finalizer: spreads every bit of h over the low bits the index uses (the multi-queue flow-owner table's hash uses it too). */
export function avalanche(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0; // int32: never boxed, even when this call is not inlined
}
