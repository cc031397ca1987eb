// Which rule buckets a (protocol class, destination port) falls into.
//
// A bucket is a group of rules judged together against the addresses (see
// tuple-space.ts). Every class has one "general" bucket: rules that ignore the port
// (protocol "all", "icmp", tcp/udp rules without ports). TCP and UDP additionally
// have one bucket per distinct single port (found through a 65536-entry array) and
// one bucket per distinct port range. Ranges may overlap, so the port space is cut
// into elementary segments at every range boundary; each port maps to its segment,
// each segment lists the range buckets covering it. A lookup therefore visits at most
// 2 + (number of distinct ranges covering the port) buckets, whatever the rule count.

import { CLASS_COUNT, PORTED_CLASS_COUNT } from "./protocol-class.ts";

const PORT_COUNT = 65536;
const NONE = -1;

export class PortIndex {
  /** Number of buckets handed out so far; bucket ids are 0..bucketCount-1. */
  bucketCount = CLASS_COUNT;
  /**
   * Per ported class, two words per port: [2 * port] the bucket of the rules naming that
   * single port, [2 * port + 1] the port's segment (see `segment`); -1 for none. One array
   * rather than two, so that a lookup reads one cache line for both. Null until a rule of
   * the class names a port or a range.
   */
  private readonly portWords: (Int32Array | null)[] = new Array(PORTED_CLASS_COUNT).fill(null);
  /** Per ported class: "start:end" -> bucket, while building. */
  private readonly ranges: Map<string, { start: number; end: number; bucket: number }>[] = [];
  /** Segment s lists buckets segmentBuckets[segmentStart[s] .. segmentStart[s + 1]). */
  private segmentStart = new Int32Array(1);
  private segmentBuckets = new Int32Array(0);

  constructor() {
    for (let cls = 0; cls < PORTED_CLASS_COUNT; cls++) this.ranges.push(new Map());
  }

  /** The bucket of rules that match every packet of the class, whatever its port. */
  generalBucket(cls: number): number {
    return cls;
  }

  /** Build time: the bucket of rules naming `port` for a ported class (created on first use). */
  addPort(cls: number, port: number): number {
    const table = this.portWordsOf(cls);
    if (table[2 * port] === NONE) table[2 * port] = this.bucketCount++;
    return table[2 * port];
  }

  private portWordsOf(cls: number): Int32Array {
    let table = this.portWords[cls];
    if (table === null) {
      table = new Int32Array(2 * PORT_COUNT).fill(NONE);
      this.portWords[cls] = table;
    }
    return table;
  }

  /** Build time: the bucket of rules naming the range [start, end] (created on first use). */
  addRange(cls: number, start: number, end: number): number {
    const key = `${start}:${end}`;
    let range = this.ranges[cls].get(key);
    if (range === undefined) {
      range = { start, end, bucket: this.bucketCount++ };
      this.ranges[cls].set(key, range);
    }
    return range.bucket;
  }

  /** Build time, once after every addRange: cut the port space into segments. */
  seal(): void {
    const starts: number[] = [0];
    const buckets: number[] = [];
    for (let cls = 0; cls < PORTED_CLASS_COUNT; cls++) {
      const ranges = [...this.ranges[cls].values()];
      if (ranges.length === 0) continue;
      const table = this.portWordsOf(cls);
      const boundaries = new Set<number>();
      for (const r of ranges) {
        boundaries.add(r.start);
        boundaries.add(r.end + 1);
      }
      const cuts = [...boundaries].sort((a, b) => a - b);
      for (let i = 0; i + 1 < cuts.length; i++) {
        const from = cuts[i];
        const to = cuts[i + 1]; // exclusive
        const covering = ranges.filter((r) => r.start <= from && r.end >= from);
        if (covering.length === 0) continue;
        const segment = starts.length - 1;
        for (const r of covering) buckets.push(r.bucket);
        starts.push(buckets.length);
        for (let port = from; port < Math.min(to, PORT_COUNT); port++) table[2 * port + 1] = segment;
      }
    }
    this.segmentStart = Int32Array.from(starts);
    this.segmentBuckets = Int32Array.from(buckets);
  }

  /** Hot path: the single-port bucket of (class, port), or -1. `cls` must be a ported class. */
  exactBucket(cls: number, port: number): number {
    const table = this.portWords[cls];
    return table === null ? NONE : table[2 * port];
  }

  /** Hot path: the segment of (class, port), or -1 when no range covers it. */
  segment(cls: number, port: number): number {
    const table = this.portWords[cls];
    return table === null ? NONE : table[2 * port + 1];
  }

  /** Hot path: first index into `segmentBucketList` for a segment. */
  segmentFirst(segment: number): number {
    return this.segmentStart[segment];
  }

  /** Hot path: one past the last index into `segmentBucketList` for a segment. */
  segmentEnd(segment: number): number {
    return this.segmentStart[segment + 1];
  }

  /** Hot path: the range bucket at a position of the segment lists. */
  segmentBucket(position: number): number {
    return this.segmentBuckets[position];
  }
}
