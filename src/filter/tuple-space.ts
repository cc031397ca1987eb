// Address matching inside a bucket, by tuple space search (Srinivasan, Suri and
// Varghese, 1999): a rule contributes one (source prefix, destination prefix) pair per
// source and destination of the same IP version. Pairs whose prefix lengths are equal
// form a "tuple" (bucket, version, source length, destination length). All pairs of
// all tuples live in one hash table per IP version, keyed by (tuple tag, masked
// source, masked destination), whose value is the best rank among the rules that
// contributed that pair.
//
// Looking a packet up in a bucket is one hash probe per tuple of the bucket, never a
// walk over rules: the cost depends on how many distinct (source length, destination
// length) combinations the bucket's rules use. Tuples are visited in order of the best
// rank they hold, so the walk stops as soon as no remaining tuple can beat the match
// found so far.
//
// Ranks: lower is better. The rule table ranks drop rules before accept rules and,
// within an action, by rule index; so the smallest rank is the deciding rule (P9).

import type { ParsedCidr } from "../packet/address.ts";
import type { PacketRecord } from "../packet/record.ts";
import { MASK_V4, MASK_V6 } from "./prefix-masks.ts";
import { hashWords, WordHashTable } from "./word-hash.ts";

/** Rank returned when nothing matched; above every real rank. */
export const NO_MATCH = 0x7fffffff;

const TUPLE_STRIDE = 4;
/**
 * A list's record: LIST_RECORD words (one 64-byte line) for its tuples, then a line for
 * its presence filter when the list is small enough (INLINE_FILTER_PAIRS): the filter
 * line then sits next to the record and comes in with it, where a filter elsewhere was
 * the largest cache miss of a lookup at 100,000 rules.
 */
const LIST_STRIDE = 32;
const LIST_RECORD = 16;
const LIST_TUPLE_COUNT = 0;
const LIST_MORE_TUPLES = 1;
const LIST_FILTER_BASE = 2;
const LIST_FILTER_BLOCKS = 3;
const LIST_TUPLE0 = 4;
/** Tuples a list record holds itself (the rest are in `order`): the record is then one 64-byte line. */
const INLINE_TUPLES = 3;
/**
 * Presence filters are blocked Bloom filters: a key sets two bits of one 32-bit word of
 * one 512-bit block (a cache line), all chosen by its hash, so testing a key is one load
 * and one comparison. Two bits, not one: at 8 bits per pair about 1 absent key in 18
 * gets past (1 in 50 at 16 bits), against 1 in 9 (1 in 16) with one bit. Hash bits: 0-3
 * the word, 4-8 and 9-13 the two bits, 14-29 the block.
 */
const BLOCK_BITS = 512;
const BLOCK_WORDS = BLOCK_BITS / 32;
/** Lists of up to this many pairs have their one-block filter in their record (8 bits per pair or more). */
const INLINE_FILTER_PAIRS = 64;
/** Bits per pair of a larger list's filter, in whole blocks (a power of two of them). */
const FILTER_BITS_PER_PAIR = 16;
/** At most 2^16 blocks (4 MiB) per list: the hash has 30 bits, 14 of which choose the bits in a block. */
const MAX_FILTER_BLOCKS = 1 << 16;
const BEST_RANK = 0;
const TAG = 1;
const SOURCE_LENGTH = 2;
const DESTINATION_LENGTH = 3;

export class TupleSpace {
  // No presence filter of their own: each list has one (below), so that the probes of one
  // lookup test bits in a few small regions, not at random in a filter of megabytes.
  private readonly table4 = new WordHashTable(3, 0, false);
  private readonly table6 = new WordHashTable(9, 0, false);

  // Build time: one entry per tuple, in creation order.
  private readonly tupleIds = new Map<number, number>();
  private readonly tupleList: number[] = []; // bucket * 2 + (version === 6 ? 1 : 0)
  private readonly tupleSourceLength: number[] = [];
  private readonly tupleDestinationLength: number[] = [];
  private readonly tupleBestRank: number[] = [];
  /** Per pair added: its list and its key's hash (for the list filters). */
  private readonly pairList: number[] = [];
  private readonly pairHash: number[] = [];

  // Sealed: tuples grouped per list (bucket and version), each group sorted by best
  // rank. One Int32Array, TUPLE_STRIDE words per tuple (best rank, tag, source length,
  // destination length), so reading a tuple touches one cache line.
  private order = new Int32Array(0);
  // Sealed: per list, LIST_STRIDE words in one Int32Array: a record of one 64-byte line
  // that holds what a lookup reads of most lists (one to three tuples): its tuple count,
  // its first INLINE_TUPLES tuples (TUPLE_STRIDE words each, from LIST_TUPLE0), where the
  // others start in `order` (LIST_MORE_TUPLES, in tuples), and where its presence filter
  // is (LIST_FILTER_BASE, a word index into this same array, and LIST_FILTER_BLOCKS, the
  // number of 512-bit blocks minus one). A small list's filter is the line after its
  // record; larger lists' filters follow all the records.
  private lists = new Int32Array(LIST_STRIDE);
  private bucketCount = 0;

  /** Number of address pairs stored. */
  get pairCount(): number {
    return this.table4.size + this.table6.size;
  }

  /** Number of tuples (distinct bucket, version and prefix-length combinations). */
  get tupleCount(): number {
    return this.tupleList.length;
  }

  /** Build time: a rule of rank `rank` in `bucket` matches traffic from `source` to `destination` (same IP version). */
  add(bucket: number, source: ParsedCidr, destination: ParsedCidr, rank: number): void {
    const v6 = source.version === 6 ? 1 : 0;
    const list = bucket * 2 + v6;
    const tupleKey = (list * 129 + source.prefixLength) * 129 + destination.prefixLength;
    let tag = this.tupleIds.get(tupleKey);
    if (tag === undefined) {
      tag = this.tupleList.length;
      this.tupleIds.set(tupleKey, tag);
      this.tupleList.push(list);
      this.tupleSourceLength.push(source.prefixLength);
      this.tupleDestinationLength.push(destination.prefixLength);
      this.tupleBestRank.push(rank);
    } else if (rank < this.tupleBestRank[tag]) {
      this.tupleBestRank[tag] = rank;
    }
    if (v6 === 0) {
      const probe = this.table4.probe;
      probe[0] = tag;
      probe[1] = source.words[0];
      probe[2] = destination.words[0];
      this.notePair(list, hashWords(probe, 0, 3));
      this.table4.insertMin(rank);
    } else {
      const probe = this.table6.probe;
      probe[0] = tag;
      for (let i = 0; i < 4; i++) {
        probe[1 + i] = source.words[i];
        probe[5 + i] = destination.words[i];
      }
      this.notePair(list, hashWords(probe, 0, 9));
      this.table6.insertMin(rank);
    }
  }

  /** Build time, once after every add: lay the tuples out for lookup. */
  seal(bucketCount: number): void {
    const listCount = bucketCount * 2;
    // Lists were numbered bucket * 2 + v6 while the buckets were not all known; from here
    // on the IPv4 lists come first (bucket) and the IPv6 ones after (bucketCount + bucket),
    // so that the records an IPv4 lookup reads lie together.
    const renumber = (list: number) => ((list & 1) === 0 ? list >> 1 : bucketCount + (list >> 1));
    for (let tag = 0; tag < this.tupleList.length; tag++) this.tupleList[tag] = renumber(this.tupleList[tag]);
    for (let i = 0; i < this.pairList.length; i++) this.pairList[i] = renumber(this.pairList[i]);
    this.bucketCount = bucketCount;
    const order = this.tupleList.map((_, tag) => tag);
    order.sort(
      (a, b) => this.tupleList[a] - this.tupleList[b] || this.tupleBestRank[a] - this.tupleBestRank[b],
    );
    this.order = new Int32Array(order.length * TUPLE_STRIDE);
    order.forEach((tag, t) => {
      const at = t * TUPLE_STRIDE;
      this.order[at + BEST_RANK] = this.tupleBestRank[tag];
      this.order[at + TAG] = tag;
      this.order[at + SOURCE_LENGTH] = this.tupleSourceLength[tag];
      this.order[at + DESTINATION_LENGTH] = this.tupleDestinationLength[tag];
    });
    const pairs = new Int32Array(listCount);
    for (const list of this.pairList) pairs[list]++;
    // Where each list's filter goes: inline after its record, or in blocks after all records.
    const filterBase = new Int32Array(listCount);
    const filterBlocks = new Int32Array(listCount);
    let words = listCount * LIST_STRIDE;
    for (let list = 0; list < listCount; list++) {
      if (pairs[list] <= INLINE_FILTER_PAIRS) {
        filterBase[list] = list * LIST_STRIDE + LIST_RECORD;
        filterBlocks[list] = 1;
        continue;
      }
      let blocks = 1;
      while (blocks < MAX_FILTER_BLOCKS && blocks * BLOCK_BITS < pairs[list] * FILTER_BITS_PER_PAIR) blocks *= 2;
      filterBase[list] = words;
      filterBlocks[list] = blocks;
      words += blocks * BLOCK_WORDS;
    }
    const lists = new Int32Array(words);
    for (let list = 0, t = 0; list < listCount; list++) {
      const first = t;
      while (t < order.length && this.tupleList[order[t]] === list) t++;
      const at = list * LIST_STRIDE;
      lists[at + LIST_TUPLE_COUNT] = t - first;
      const inline = Math.min(t - first, INLINE_TUPLES);
      lists[at + LIST_MORE_TUPLES] = first + inline;
      lists[at + LIST_FILTER_BASE] = filterBase[list];
      lists[at + LIST_FILTER_BLOCKS] = filterBlocks[list] - 1;
      lists.set(this.order.subarray(first * TUPLE_STRIDE, (first + inline) * TUPLE_STRIDE), at + LIST_TUPLE0);
    }
    this.pairList.forEach((list, i) => {
      const hash = this.pairHash[i];
      lists[filterBase[list] + filterWord(hash, filterBlocks[list] - 1)] |= filterBits(hash);
    });
    this.lists = lists;
    // Build-time only: two numbers per pair (megabytes at 100,000 rules) not to keep.
    this.pairList.length = 0;
    this.pairHash.length = 0;
  }

  private notePair(list: number, hash: number): void {
    this.pairList.push(list);
    this.pairHash.push(hash);
  }

  /** Hot path: the best rank in `bucket` matching the packet's addresses, if better than `best`; else `best`. */
  probe(bucket: number, rec: PacketRecord, best: number): number {
    if (rec.ipVersion === 4) {
      const at = bucket * LIST_STRIDE;
      const lists = this.lists;
      const count = lists[at + LIST_TUPLE_COUNT];
      const base = lists[at + LIST_FILTER_BASE];
      const blocks = lists[at + LIST_FILTER_BLOCKS];
      const probe = this.table4.probe;
      const source = rec.src0;
      const destination = rec.dst0;
      const more = lists[at + LIST_MORE_TUPLES] - INLINE_TUPLES;
      for (let k = 0; k < count; k++) {
        // The first INLINE_TUPLES tuples are in the list record, the others in `order`.
        const words = k < INLINE_TUPLES ? lists : this.order;
        const t = k < INLINE_TUPLES ? at + LIST_TUPLE0 + k * TUPLE_STRIDE : (more + k) * TUPLE_STRIDE;
        if (words[t + BEST_RANK] >= best) break;
        probe[0] = words[t + TAG];
        probe[1] = source & MASK_V4[words[t + SOURCE_LENGTH]];
        probe[2] = destination & MASK_V4[words[t + DESTINATION_LENGTH]];
        const hash = hashWords(probe, 0, 3);
        const bits = filterBits(hash);
        if ((lists[base + filterWord(hash, blocks)] & bits) !== bits) continue;
        const rank = this.table4.findHashed(hash);
        if (rank >= 0 && rank < best) best = rank;
      }
      return best;
    }
    if (rec.ipVersion !== 6) return best;
    const at = (this.bucketCount + bucket) * LIST_STRIDE;
    const lists = this.lists;
    const count = lists[at + LIST_TUPLE_COUNT];
    const base = lists[at + LIST_FILTER_BASE];
    const blocks = lists[at + LIST_FILTER_BLOCKS];
    const probe = this.table6.probe;
    const more = lists[at + LIST_MORE_TUPLES] - INLINE_TUPLES;
    for (let k = 0; k < count; k++) {
      const words = k < INLINE_TUPLES ? lists : this.order;
      const t = k < INLINE_TUPLES ? at + LIST_TUPLE0 + k * TUPLE_STRIDE : (more + k) * TUPLE_STRIDE;
      if (words[t + BEST_RANK] >= best) break;
      const s = words[t + SOURCE_LENGTH] * 4;
      const d = words[t + DESTINATION_LENGTH] * 4;
      probe[0] = words[t + TAG];
      probe[1] = rec.src0 & MASK_V6[s];
      probe[2] = rec.src1 & MASK_V6[s + 1];
      probe[3] = rec.src2 & MASK_V6[s + 2];
      probe[4] = rec.src3 & MASK_V6[s + 3];
      probe[5] = rec.dst0 & MASK_V6[d];
      probe[6] = rec.dst1 & MASK_V6[d + 1];
      probe[7] = rec.dst2 & MASK_V6[d + 2];
      probe[8] = rec.dst3 & MASK_V6[d + 3];
      const hash = hashWords(probe, 0, 9);
      const bits = filterBits(hash);
      if ((lists[base + filterWord(hash, blocks)] & bits) !== bits) continue;
      const rank = this.table6.findHashed(hash);
      if (rank >= 0 && rank < best) best = rank;
    }
    return best;
  }
}

/** Which word of a list's filter (from its base) holds a key's bits: `blocks` is the block count minus one (see BLOCK_BITS). */
function filterWord(hash: number, blocks: number): number {
  return ((hash >>> 14) & blocks) * BLOCK_WORDS + (hash & 15);
}

/** A key's two bits in that word. */
function filterBits(hash: number): number {
  return (1 << ((hash >>> 4) & 31)) | (1 << ((hash >>> 9) & 31));
}
