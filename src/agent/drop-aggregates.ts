// The flow log's drop counters for one window: one aggregate per (source, destination,
// protocol, destination port, reason, direction), found by an open-addressing hash over
// typed arrays, so that counting a dropped packet allocates nothing and costs one hash
// and a probe or two (a drop flood is when the log is busiest). Only a new aggregate
// (at most `capacity` per window) builds its line's fixed fields, once.

import type { FlowEvent } from "../conntrack/flow-event.ts";

/** Key words per aggregate: source and destination (4 words each), protocol, port, reason, direction. */
const KEY_WORDS = 12;

export class DropAggregates {
  /** Aggregates in this window. */
  size = 0;
  readonly capacity: number;
  /** Per aggregate: drops counted, first and last time (ms). */
  readonly counts: Float64Array;
  readonly first: Float64Array;
  readonly last: Float64Array;
  /** Per aggregate: the key's words (KEY_WORDS each). */
  private readonly keys: Uint32Array;
  /** Per aggregate: what the log line says besides the counts (built once, on the aggregate's first drop). */
  readonly lines: Record<string, unknown>[] = [];
  /** Hash slots: 0 empty, else aggregate index + 1. Twice the capacity, a power of two. */
  private readonly slots: Int32Array;
  private readonly mask: number;
  private readonly probe = new Uint32Array(KEY_WORDS);

  constructor(capacity: number) {
    this.capacity = capacity;
    let n = 16;
    while (n < capacity * 2) n *= 2;
    this.slots = new Int32Array(n);
    this.mask = n - 1;
    this.counts = new Float64Array(capacity);
    this.first = new Float64Array(capacity);
    this.last = new Float64Array(capacity);
    this.keys = new Uint32Array(capacity * KEY_WORDS);
  }

  /**
   * Counts one dropped packet in its aggregate and returns the aggregate's index; when the
   * packet is the first of a new aggregate, counts nothing and returns -1 - slot, the slot
   * to give insert() (when `size` has reached `capacity`, the caller counts it elsewhere).
   */
  count(ev: FlowEvent, outbound: boolean): number {
    const k = this.probe;
    k[0] = ev.src0;
    k[1] = ev.src1;
    k[2] = ev.src2;
    k[3] = ev.src3;
    k[4] = ev.dst0;
    k[5] = ev.dst1;
    k[6] = ev.dst2;
    k[7] = ev.dst3;
    k[8] = ev.protocol;
    k[9] = ev.dstPort;
    k[10] = ev.reason;
    k[11] = outbound ? 1 : 0;
    let h = 0x811c9dc5;
    for (let i = 0; i < KEY_WORDS; i++) h = Math.imul(h ^ k[i], 0x01000193);
    h ^= h >>> 15;
    let slot = h & this.mask;
    for (;;) {
      const at = this.slots[slot];
      if (at === 0) break;
      const i = at - 1;
      if (this.sameKey(i)) {
        this.counts[i]++;
        this.last[i] = ev.timeMs;
        return i;
      }
      slot = (slot + 1) & this.mask;
    }
    return -1 - slot;
  }

  /** Adds the aggregate count() found missing, at `slot` (-1 - count's answer), with its line. */
  insert(slot: number, timeMs: number, line: Record<string, unknown>): void {
    const i = this.size++;
    this.keys.set(this.probe, i * KEY_WORDS);
    this.slots[slot] = i + 1;
    this.counts[i] = 1;
    this.first[i] = timeMs;
    this.last[i] = timeMs;
    this.lines[i] = line;
  }

  /** Starts a new window. */
  clear(): void {
    this.slots.fill(0);
    this.size = 0;
    this.lines.length = 0;
  }

  private sameKey(i: number): boolean {
    const base = i * KEY_WORDS;
    for (let w = 0; w < KEY_WORDS; w++) if (this.keys[base + w] !== this.probe[w]) return false;
    return true;
  }
}
