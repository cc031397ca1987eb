// Fragments carry no ports (only the first one has the L4 header), so they cannot be
// judged by the rules on their own. The engine judges a datagram's FIRST fragment
// like any packet and records the verdict here; later fragments of the same datagram
// get that verdict. We never reassemble.
//
// Policy (deliberate; see docs/filter.md):
// - The first fragment must arrive first. A non-first fragment with no recorded first
//   fragment gets FRAG_UNKNOWN and the engine drops it, as Tailscale's filter does
//   with state-less non-first fragments. Senders fragmenting locally emit the first
//   fragment first; reordering in flight costs the datagram (the sender's
//   retransmission or PMTU discovery recovers).
// - Overlapping fragments (RFC 5722 for IPv6; RFC 1858 attacks for IPv4) poison the
//   datagram: that fragment and every later one get FRAG_OVERLAP. Per datagram we
//   keep up to MAX_RANGES disjoint byte ranges, merging adjacent ones (in-order
//   arrival always uses one). A fragment that would need a fifth disjoint range, or
//   whose end disagrees with the datagram's known total length, is treated like an
//   overlap: we can no longer prove it is not one.
// - A datagram's entry lives `timeoutMs` from its first fragment (no refresh), and is
//   freed as soon as its fragments cover it exactly.
// - Only datagrams whose first fragment was ACCEPTED take a slot. A dropped first
//   fragment leaves a negative answer in a small direct-mapped array of key hashes that
//   belongs to no source and may be overwritten at any time: its later fragments get
//   verdict 0 (the engine's `fragment-first-dropped`) while it lasts, FRAG_UNKNOWN
//   (`fragment-no-first`) after; they are dropped either way. So senders the rules
//   refuse, spoofed or not, cannot take slots from the ones they allow.
// - Each source gets a bounded share of the table (`share`, default capacity / 16, at
//   least one set): a count per source, in a seeded hashed array of counters, limits
//   how many datagrams it holds at once. A source at its share may only replace its own
//   oldest datagram in the set the new one hashes to; with none there, the new datagram
//   is not recorded. A full set evicts the datagram of its largest holder (the source
//   holding most datagrams in the whole table; ties: the oldest entry), and only if that
//   source holds more than the newcomer (or is the newcomer): a flood from one sender
//   evicts its own datagrams, never a smaller sender's.
//
// Key: (source, destination, identification, protocol) for IPv4 (RFC 791);
// (source, destination, identification) for IPv6 (RFC 8200: the protocol after the
// fragment header may differ between first and later fragments).
//
// Storage: a set-associative table over typed arrays: the key hash (seeded per
// table, so a sender cannot aim fragments at one set) picks a set of WAYS slots; a new
// datagram takes a free or expired slot of its set, else evicts as above. Capacity is a
// hard bound; nothing is allocated per packet.

import type { PacketRecord } from "../packet/record.ts";
import { hashWords } from "./word-hash.ts";

/** No first fragment recorded for this datagram (or it expired): drop. */
export const FRAG_UNKNOWN = -1;
/** The fragment overlaps one already seen (or the datagram was poisoned): drop. */
export const FRAG_OVERLAP = -2;

/** Disjoint byte ranges remembered per datagram. */
export const MAX_RANGES = 4;
const WAYS = 8;
const KEY_WORDS = 10;
/** The default share of one source: this fraction of the capacity (at least one set). */
const SHARE_DIVISOR = 16;
const ACCEPT = 1;
const DROP = 0;

export class FragmentTable {
  readonly capacity: number;
  readonly timeoutMs: number;
  /** The most datagrams one source (one counter of `held`) holds at once. */
  readonly share: number;
  private readonly ways: number;
  private readonly sets: number;
  private readonly seed: number;
  private readonly probe = new Uint32Array(KEY_WORDS + 1);
  /** The hash of the key in `probe` (loadKey). */
  private keyHash = 0;
  /** The source's counter in `held` for the key in `probe` (loadKey). */
  private source = 0;
  /** Source address words, IP version and a seed of its own: hashed to a counter. */
  private readonly sourceProbe = new Uint32Array(6);
  /**
   * The current time (ms). `rememberFirst` and `lookup` take `now` as an argument for
   * convenience, but a time that is not a small integer (fractional capture times,
   * epoch milliseconds) gets boxed, that is allocated, when passed to a call V8 does
   * not inline. The allocation-free way: write `clock[0] = now` once per batch (or call
   * setTime) and omit the argument.
   */
  readonly clock = new Float64Array(1);
  private readonly keys: Uint32Array;
  /** 0 = free; else the time the entry expires. An expired entry still counts for its source until its slot is freed. */
  private readonly expiresAt: Float64Array;
  /** Per slot: the counter (in `held`) of the source that holds it. */
  private readonly owners: Uint32Array;
  /** Per source counter: how many slots with a non-zero `expiresAt` it owns. */
  private readonly held: Uint32Array;
  /** Dropped first fragments: key hash per direct-mapped entry, valid until `deniedUntil`. */
  private readonly deniedHash: Int32Array;
  private readonly deniedUntil: Float64Array;
  private readonly poisoned: Uint8Array;
  private readonly rangeCount: Uint8Array;
  private readonly ranges: Uint32Array;
  /** Datagram length once its last fragment (MF = 0) is seen, else -1. */
  private readonly totalLength: Int32Array;

  /**
   * `capacity` datagrams at most (the bound used is `capacity` rounded down to a multiple
   * of 8 when above 8); `share` datagrams at most per source (default capacity / 16, at
   * least 8, at most the capacity).
   */
  constructor(capacity = 4096, timeoutMs = 30_000, seed = (Math.random() * 0x100000000) >>> 0, share?: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`FragmentTable capacity must be a positive integer, got ${capacity}`);
    if (!(timeoutMs > 0)) throw new RangeError(`FragmentTable timeoutMs must be positive, got ${timeoutMs}`);
    if (share !== undefined && (!Number.isInteger(share) || share < 1)) throw new RangeError(`FragmentTable share must be a positive integer, got ${share}`);
    this.ways = Math.min(WAYS, capacity);
    this.sets = Math.floor(capacity / this.ways);
    this.capacity = this.sets * this.ways;
    this.timeoutMs = timeoutMs;
    this.seed = seed;
    this.share = Math.min(this.capacity, share ?? Math.max(WAYS, Math.floor(this.capacity / SHARE_DIVISOR)));
    const slots = this.capacity;
    // Four source counters per slot (a power of two), so that the sources holding
    // slots rarely share one; a negative answer per slot.
    let counters = 64;
    while (counters < 4 * slots) counters *= 2;
    let denied = 64;
    while (denied < slots) denied *= 2;
    this.keys = new Uint32Array(slots * KEY_WORDS);
    this.expiresAt = new Float64Array(slots);
    this.owners = new Uint32Array(slots);
    this.held = new Uint32Array(counters);
    this.deniedHash = new Int32Array(denied);
    this.deniedUntil = new Float64Array(denied);
    this.sourceProbe[5] = Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) >>> 0;
    this.poisoned = new Uint8Array(slots);
    this.rangeCount = new Uint8Array(slots);
    this.ranges = new Uint32Array(slots * MAX_RANGES * 2);
    this.totalLength = new Int32Array(slots);
  }

  /**
   * Record the verdict (0 drop / 1 accept) of a datagram's first fragment (offset 0,
   * More Fragments set). Ignores anything else, including malformed packets such as
   * tiny first fragments (the engine drops those). An accepted datagram takes a slot
   * within its source's share (or is not recorded, see the file comment); a dropped one
   * takes none, only a negative answer. A repeated first fragment restarts the
   * datagram's entry (or frees it, when dropped this time). `now` defaults to `clock[0]`.
   */
  rememberFirst(rec: PacketRecord, verdict: number, now?: number): void {
    if (!rec.isFragment || rec.fragmentOffset !== 0 || rec.malformed !== 0) return;
    if (now !== undefined) this.clock[0] = now;
    this.loadKey(rec);
    let slot = this.find();
    const denied = this.keyHash & (this.deniedHash.length - 1);
    if (verdict !== ACCEPT) {
      if (slot >= 0) this.release(slot);
      this.deniedHash[denied] = this.keyHash;
      this.deniedUntil[denied] = this.clock[0] + this.timeoutMs;
      return;
    }
    if (this.deniedHash[denied] === this.keyHash) this.deniedUntil[denied] = 0;
    if (slot < 0) {
      slot = this.claimSlot();
      if (slot < 0) return; // not recorded (at its share, or no larger holder to evict): its later fragments find no first
      for (let i = 0; i < KEY_WORDS; i++) this.keys[slot * KEY_WORDS + i] = this.probe[i];
      this.owners[slot] = this.source;
      this.held[this.source]++;
    }
    this.expiresAt[slot] = this.clock[0] + this.timeoutMs;
    this.poisoned[slot] = 0;
    this.rangeCount[slot] = 1;
    this.ranges[slot * MAX_RANGES * 2] = 0;
    this.ranges[slot * MAX_RANGES * 2 + 1] = dataLength(rec);
    this.totalLength[slot] = -1;
  }

  /**
   * The verdict for a non-first fragment: 1 when its first fragment was accepted, 0 when
   * it was dropped (while that is remembered), FRAG_UNKNOWN when no first fragment is
   * recorded, FRAG_OVERLAP when this fragment overlaps an earlier one of its datagram (or
   * the datagram is already poisoned). `now` defaults to `clock[0]`.
   */
  lookup(rec: PacketRecord, now?: number): number {
    if (now !== undefined) this.clock[0] = now;
    this.loadKey(rec);
    const slot = this.find();
    if (slot < 0) return this.notHeld();
    if (this.poisoned[slot] !== 0) return FRAG_OVERLAP;
    const start = rec.fragmentOffset;
    const end = start + dataLength(rec);
    if (!this.fits(slot, start, end, rec.moreFragments) || !this.addRange(slot, start, end)) {
      this.poisoned[slot] = 1;
      return FRAG_OVERLAP;
    }
    if (!rec.moreFragments) this.totalLength[slot] = end;
    const base = slot * MAX_RANGES * 2;
    const total = this.totalLength[slot];
    if (total >= 0 && this.rangeCount[slot] === 1 && this.ranges[base + 1] === total) {
      this.release(slot); // complete: free the slot now
    }
    return ACCEPT;
  }

  /**
   * `lookup` changing nothing, for trace: the first fragment's verdict (ACCEPT, DROP),
   * FRAG_UNKNOWN, or FRAG_OVERLAP for a datagram already poisoned or a fragment that
   * overlaps what was seen. Not seen: a fragment that would need a fifth range of its
   * datagram (lookup poisons it; peek answers ACCEPT).
   */
  peek(rec: PacketRecord): number {
    this.loadKey(rec);
    const slot = this.find();
    if (slot < 0) return this.notHeld();
    if (this.poisoned[slot] !== 0) return FRAG_OVERLAP;
    const start = rec.fragmentOffset;
    return this.fits(slot, start, start + dataLength(rec), rec.moreFragments) ? ACCEPT : FRAG_OVERLAP;
  }

  /** The answer for a datagram that holds no slot: DROP while its first fragment's drop is remembered, else FRAG_UNKNOWN. */
  private notHeld(): number {
    const denied = this.keyHash & (this.deniedHash.length - 1);
    return this.deniedHash[denied] === this.keyHash && this.deniedUntil[denied] > this.clock[0] ? DROP : FRAG_UNKNOWN;
  }

  /** Set the clock (ms) used by calls that omit `now`. */
  setTime(now: number): void {
    this.clock[0] = now;
  }

  /**
   * Forget every datagram. The engine does this when a new policy comes into force
   * (P14): a remembered first-fragment verdict was the old policy's, and the first
   * fragment's ports, which the new rules would need, are not kept. Fragments of
   * datagrams in flight at that moment are then dropped (no first fragment).
   */
  clear(): void {
    this.expiresAt.fill(0);
    this.held.fill(0);
    this.deniedUntil.fill(0);
  }

  /** Free every entry expired at `now`; returns how many. (Lookups also ignore expired entries.) */
  expire(now: number): number {
    let freed = 0;
    for (let slot = 0; slot < this.capacity; slot++) {
      if (this.expiresAt[slot] !== 0 && this.expiresAt[slot] <= now) {
        this.release(slot);
        freed++;
      }
    }
    return freed;
  }

  /** Datagrams the source of `rec` holds, expired ones not yet freed included (cold; for tests and stats). */
  heldBy(rec: PacketRecord): number {
    this.loadKey(rec);
    return this.held[this.source];
  }

  /** Entries alive at `now` (cold path: scans the table). */
  size(now: number): number {
    let live = 0;
    for (let slot = 0; slot < this.capacity; slot++) if (this.expiresAt[slot] > now) live++;
    return live;
  }

  private loadKey(rec: PacketRecord): void {
    const probe = this.probe;
    probe[0] = rec.src0;
    probe[1] = rec.src1;
    probe[2] = rec.src2;
    probe[3] = rec.src3;
    probe[4] = rec.dst0;
    probe[5] = rec.dst1;
    probe[6] = rec.dst2;
    probe[7] = rec.dst3;
    probe[8] = rec.ipId;
    probe[9] = rec.ipVersion === 6 ? 0x600 : 0x400 | rec.protocol;
    probe[10] = this.seed;
    this.keyHash = hashWords(probe, 0, KEY_WORDS + 1);
    const source = this.sourceProbe;
    source[0] = rec.src0;
    source[1] = rec.src1;
    source[2] = rec.src2;
    source[3] = rec.src3;
    source[4] = rec.ipVersion;
    this.source = hashWords(source, 0, 6) & (this.held.length - 1);
  }

  private setOf(): number {
    return this.keyHash % this.sets;
  }

  /** Free `slot` (which holds an entry, live or expired) and uncount it from its source. */
  private release(slot: number): void {
    this.expiresAt[slot] = 0;
    this.held[this.owners[slot]]--;
  }

  /** The live slot holding the key in `probe`, or -1. */
  private find(): number {
    const now = this.clock[0];
    const first = this.setOf() * this.ways;
    const probe = this.probe;
    for (let slot = first; slot < first + this.ways; slot++) {
      if (!(this.expiresAt[slot] > now)) continue;
      const base = slot * KEY_WORDS;
      let equal = true;
      for (let i = 0; i < KEY_WORDS; i++) {
        if (this.keys[base + i] !== probe[i]) {
          equal = false;
          break;
        }
      }
      if (equal) return slot;
    }
    return -1;
  }

  /**
   * A free slot for a new datagram of `source` in its set, or -1 when it may not have
   * one: expired entries of the set are freed first; a source at its share may only
   * replace its own oldest entry there; otherwise a free slot, else the entry of the
   * set's largest holder (ties: the oldest), if that holder holds more than `source` or
   * is `source` itself.
   */
  private claimSlot(): number {
    const now = this.clock[0];
    const first = this.setOf() * this.ways;
    const end = first + this.ways;
    const held = this.held;
    const owners = this.owners;
    const source = this.source;
    let free = -1;
    let own = -1;
    for (let slot = first; slot < end; slot++) {
      const expires = this.expiresAt[slot];
      if (expires !== 0 && expires <= now) this.release(slot);
      if (this.expiresAt[slot] === 0) {
        if (free < 0) free = slot;
      } else if (owners[slot] === source && (own < 0 || expires < this.expiresAt[own])) {
        own = slot;
      }
    }
    if (held[source] >= this.share) {
      if (own >= 0) this.release(own);
      return own;
    }
    if (free >= 0) return free;
    let victim = first;
    for (let slot = first + 1; slot < end; slot++) {
      const count = held[owners[slot]];
      const victimCount = held[owners[victim]];
      if (count > victimCount || (count === victimCount && this.expiresAt[slot] < this.expiresAt[victim])) victim = slot;
    }
    if (held[owners[victim]] <= held[source]) victim = own; // no larger holder here: only its own entry may go
    if (victim >= 0) this.release(victim);
    return victim;
  }

  /** False when [start, end) contradicts the datagram's length or overlaps a range already seen. */
  private fits(slot: number, start: number, end: number, moreFragments: boolean): boolean {
    const total = this.totalLength[slot];
    if (total >= 0 && (end > total || (!moreFragments && end !== total))) return false;
    const base = slot * MAX_RANGES * 2;
    const count = this.rangeCount[slot];
    for (let r = 0; r < count; r++) {
      const a = this.ranges[base + 2 * r];
      const b = this.ranges[base + 2 * r + 1];
      if (start < b && a < end) return false;
      if (!moreFragments && b > end) return false; // data seen beyond the claimed end
    }
    return true;
  }

  /** Add [start, end) (known disjoint), merging with adjacent ranges; false when no room is left. */
  private addRange(slot: number, start: number, end: number): boolean {
    const base = slot * MAX_RANGES * 2;
    let count = this.rangeCount[slot];
    // Absorb every range touching [start, end) into it, removing them from the list.
    for (let r = 0; r < count; ) {
      const a = this.ranges[base + 2 * r];
      const b = this.ranges[base + 2 * r + 1];
      if (b === start || a === end) {
        if (a < start) start = a;
        if (b > end) end = b;
        count--;
        this.ranges[base + 2 * r] = this.ranges[base + 2 * count];
        this.ranges[base + 2 * r + 1] = this.ranges[base + 2 * count + 1];
        continue;
      }
      r++;
    }
    if (count === MAX_RANGES) return false;
    this.ranges[base + 2 * count] = start;
    this.ranges[base + 2 * count + 1] = end;
    this.rangeCount[slot] = count + 1;
    return true;
  }
}

/** Bytes of fragmentable data the packet carries (after the IP header and extension headers). */
function dataLength(rec: PacketRecord): number {
  const length = rec.ipTotalLength - rec.ipHeaderLength;
  return length > 0 ? length : 0;
}
