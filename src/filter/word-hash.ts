// An open-addressing hash table from fixed-width keys of uint32 words to a
// non-negative int32 value, over typed arrays. The filter builds these once per
// policy (insert) and then only reads them on the hot path (find).
//
// To look a key up without allocating, the caller writes the key words into the
// table's own `probe` array and calls `find()`; no key array is ever created per
// packet. Linear probing, power-of-two capacity, load factor at most 1/2.
//
// A one-bit-per-hash presence filter (a Bloom filter with one hash function), 8 bits
// per slot, sits in front of the slots: most absent keys are answered from it without
// touching the slots. For a large rule set the slots span megabytes and every probe
// would miss the CPU caches, while the filter is 16 times smaller and stays cached;
// most probes of a lookup are for absent keys (the other prefix lengths). A caller
// with a better-placed filter of its own (tuple-space.ts: one per bucket list) makes
// the table without one and calls `findHashed`.
//
// The tables are not seeded: their contents come from the operator's policy, not
// from packets, so a sender cannot aim collisions at them; a lookup of an
// attacker-chosen key costs the same expected probe length as any other.

const EMPTY = -1;
const INITIAL_CAPACITY = 16;
/** Presence-filter bits per slot: with at most one key per two slots, about 1 in 16 absent keys gets past the filter. */
const FILTER_BITS_PER_SLOT = 8;

export class WordHashTable {
  /** Number of uint32 words in every key. */
  readonly keyWords: number;
  /** Scratch key: fill words [0, keyWords) before `find()` / `insertMin()`. */
  readonly probe: Uint32Array;
  /** Words per slot: the value plus one (0 = empty slot), then the key. Value and key
   *  share a slot so that a probe touches one cache line, not two. */
  private readonly stride: number;
  private capacity: number;
  private mask: number;
  private slots: Uint32Array;
  /** Bit (hash & filterMask) is set for the hash of every stored key; empty without a filter. */
  private filter: Int32Array;
  private filterMask: number;
  private readonly withFilter: boolean;
  private count = 0;

  /** `presenceFilter` false: the caller keeps its own (tuple-space.ts does, one per bucket) and calls `findHashed`. */
  constructor(keyWords: number, expectedEntries = 0, presenceFilter = true) {
    this.keyWords = keyWords;
    this.stride = keyWords + 1;
    this.probe = new Uint32Array(keyWords);
    let capacity = INITIAL_CAPACITY;
    while (capacity < expectedEntries * 2) capacity *= 2;
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.slots = new Uint32Array(capacity * this.stride);
    this.withFilter = presenceFilter;
    this.filterMask = capacity * FILTER_BITS_PER_SLOT - 1;
    this.filter = new Int32Array(presenceFilter ? (capacity * FILTER_BITS_PER_SLOT) >>> 5 : 0);
  }

  /** Number of distinct keys stored. */
  get size(): number {
    return this.count;
  }

  /** Value stored for the key in `probe`, or -1 when absent. */
  find(): number {
    const hash = hashWords(this.probe, 0, this.keyWords);
    const bit = hash & this.filterMask;
    if (this.withFilter && (this.filter[bit >>> 5] & (1 << (bit & 31))) === 0) return EMPTY;
    return this.findHashed(hash);
  }

  /** `find` for a key whose hash (hashWords of `probe`) the caller has, without the presence filter. */
  findHashed(hash: number): number {
    const probe = this.probe;
    const keyWords = this.keyWords;
    const stride = this.stride;
    const slots = this.slots;
    let slot = hash & this.mask;
    for (;;) {
      const base = slot * stride;
      const stored = slots[base];
      if (stored === 0) return EMPTY;
      let equal = true;
      for (let i = 0; i < keyWords; i++) {
        if (slots[base + 1 + i] !== probe[i]) {
          equal = false;
          break;
        }
      }
      if (equal) return stored - 1;
      slot = (slot + 1) & this.mask;
    }
  }

  /** Store `value` (0 <= value < 2^31) for the key in `probe`; when the key is present keep the smaller value. */
  insertMin(value: number): void {
    if ((this.count + 1) * 2 > this.capacity) this.grow();
    const probe = this.probe;
    const keyWords = this.keyWords;
    const stride = this.stride;
    const hash = hashWords(probe, 0, keyWords);
    let slot = hash & this.mask;
    for (;;) {
      const base = slot * stride;
      const stored = this.slots[base];
      if (stored === 0) {
        for (let i = 0; i < keyWords; i++) this.slots[base + 1 + i] = probe[i];
        this.slots[base] = value + 1;
        this.count++;
        this.markFilter(hash);
        return;
      }
      let equal = true;
      for (let i = 0; i < keyWords; i++) {
        if (this.slots[base + 1 + i] !== probe[i]) {
          equal = false;
          break;
        }
      }
      if (equal) {
        if (value + 1 < stored) this.slots[base] = value + 1;
        return;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  private markFilter(hash: number): void {
    if (!this.withFilter) return;
    const bit = hash & this.filterMask;
    this.filter[bit >>> 5] |= 1 << (bit & 31);
  }

  private grow(): void {
    const old = this.slots;
    const stride = this.stride;
    this.capacity *= 2;
    this.mask = this.capacity - 1;
    this.slots = new Uint32Array(this.capacity * stride);
    this.filterMask = this.capacity * FILTER_BITS_PER_SLOT - 1;
    this.filter = new Int32Array(this.withFilter ? (this.capacity * FILTER_BITS_PER_SLOT) >>> 5 : 0);
    for (let oldBase = 0; oldBase < old.length; oldBase += stride) {
      if (old[oldBase] === 0) continue;
      const hash = hashWords(old, oldBase + 1, this.keyWords);
      this.markFilter(hash);
      let slot = hash & this.mask;
      while (this.slots[slot * stride] !== 0) slot = (slot + 1) & this.mask;
      this.slots.set(old.subarray(oldBase, oldBase + stride), slot * stride);
    }
  }
}

/**
 * Mix `count` words starting at `start` into a 30-bit hash (multiply-xorshift, murmur3's
 * finaliser). 30 bits, not 32: V8 keeps integers below 2^30 unboxed ("small integers"),
 * so returning one from a call that is not inlined allocates nothing.
 */
export function hashWords(words: Uint32Array, start: number, count: number): number {
  let h = 0x9e3779b9;
  for (let i = 0; i < count; i++) {
    h = Math.imul(h ^ words[start + i], 0x85ebca6b);
    h ^= h >>> 13;
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 2;
}
