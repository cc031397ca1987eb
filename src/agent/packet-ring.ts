// A single-producer, single-consumer queue of packets in shared memory: how the threads
// of a multi-queue agent (multi-queue.ts) hand each other packets without copying them
// through postMessage. One thread writes, one thread reads; neither ever waits for a lock.
//
// Layout of the SharedArrayBuffer:
//   control  Int32Array: [TAIL] records published (the producer's), [HEAD] records
//            released (the consumer's), [WAKE] bumped by the producer after publishing so
//            a consumer sleeping in Atomics.waitAsync wakes. TAIL and HEAD sit on separate
//            cache lines; both count records modulo 2^32.
//   records  Int32Array, two words per record slot: byte offset in `data`, and the length
//            with a 8-bit tag above bit 20 (what the record is: multi-queue.ts).
//   data     Uint8Array: packets, each contiguous. The producer writes at its write
//            position and wraps to 0 when the rest of the buffer is too short; the
//            consumer's oldest unreleased record marks where the data still in use begins.
//
// A record stays the consumer's until it calls release(): the consumer judges and writes
// packets in place in `data` (no copy), and only then gives the room back. The producer
// may write packets straight into `data` too (a TUN read into reserve()'s room, then
// publish()), or copy them in with push().

import { loadNativeAddon, type NativeAddon } from "../io/tun.ts";

const TAIL = 0;
const HEAD = 16; // 64 bytes after TAIL: the two ends of the ring do not share a cache line
const WAKE = 32;
const CONTROL_WORDS = 48;
const LENGTH_BITS = 20;
const LENGTH_MASK = (1 << LENGTH_BITS) - 1;

/** What a ring is made of: pass `buffer` (with `slots` and `dataBytes`) to another thread and open it there. */
export interface PacketRingShape {
  buffer: SharedArrayBuffer;
  /** Records the ring holds at most (a power of two). */
  slots: number;
  dataBytes: number;
}

export function createPacketRing(slots: number, dataBytes: number): PacketRingShape {
  if (!Number.isInteger(Math.log2(slots))) throw new RangeError(`packet ring: slots must be a power of two, not ${slots}`);
  if (dataBytes > 2 ** 31 - 1 || dataBytes < 1) throw new RangeError(`packet ring: dataBytes ${dataBytes} out of range`);
  const bytes = CONTROL_WORDS * 4 + slots * 8 + dataBytes;
  return { buffer: new SharedArrayBuffer(bytes), slots, dataBytes };
}

/** The producer's and the consumer's view of one ring (each thread opens its own). */
export class PacketRing {
  readonly data: Uint8Array;
  private readonly control: Int32Array;
  private readonly records: Int32Array;
  private readonly mask: number;
  private readonly slots: number;
  private readonly dataBytes: number;
  /** Packets are copied in by the addon: a subarray view per packet would be an allocation on the data path. */
  private readonly copyBytes: NativeAddon["copyBytes"] = loadNativeAddon().copyBytes;
  // Producer side (only the producer's thread uses these).
  private writePos = 0;
  private tail = 0;
  /** Records push()ed since the last flush(): written, not yet visible. */
  private unflushed = 0;
  // Consumer side.
  private head = 0;

  constructor(shape: PacketRingShape) {
    const { buffer, slots, dataBytes } = shape;
    this.slots = slots;
    this.mask = slots - 1;
    this.dataBytes = dataBytes;
    this.control = new Int32Array(buffer, 0, CONTROL_WORDS);
    this.records = new Int32Array(buffer, CONTROL_WORDS * 4, slots * 2);
    this.data = new Uint8Array(buffer, CONTROL_WORDS * 4 + slots * 8, dataBytes);
    this.tail = Atomics.load(this.control, TAIL);
    this.head = Atomics.load(this.control, HEAD);
  }

  // ---- producer ------------------------------------------------------------------

  /**
   * Where the producer may write up to `bytes` contiguous bytes now, or -1 when the
   * ring has not that much room (or no free record slot). Nothing is taken until publish().
   */
  reserve(bytes: number): number {
    const head = Atomics.load(this.control, HEAD);
    const published = (this.tail - head) | 0;
    const pending = published + this.unflushed;
    if (pending >= this.slots) return -1;
    if (pending === 0) {
      // Everything written was released: the whole buffer is free; start again at 0.
      this.writePos = 0;
      return bytes <= this.dataBytes ? 0 : -1;
    }
    // The oldest packet still in use: the consumer's next, or the first pushed but not flushed.
    const inUse = this.records[((published === 0 ? this.tail : head) & this.mask) * 2];
    const at = this.writePos;
    if (at > inUse) {
      if (this.dataBytes - at >= bytes) return at;
      // Wrap: the start of the buffer, up to the oldest packet still in use.
      return inUse >= bytes ? 0 : -1;
    }
    // at < inUse: between the write position and the oldest packet in use. (at === inUse
    // only when the producer filled the ring up to that packet: full.)
    return inUse - at >= bytes ? at : -1;
  }

  /**
   * Publishes `count` packets the producer wrote into `data` (packet i at base + offsets[i],
   * lengths[i] bytes, within the room reserve() returned at `base`), packet i with tags[i].
   * The caller checked with freeRecords() that they fit. wake() then wakes the consumer.
   */
  publish(base: number, offsets: Uint32Array, lengths: Uint32Array, count: number, tags: Uint8Array): void {
    const { records, mask } = this;
    let tail = this.tail;
    let end = base;
    for (let i = 0; i < count; i++) {
      const slot = (tail & mask) * 2;
      const at = base + offsets[i];
      records[slot] = at;
      records[slot + 1] = lengths[i] | (tags[i] << LENGTH_BITS);
      if (at + lengths[i] > end) end = at + lengths[i];
      tail = (tail + 1) | 0;
    }
    this.writePos = end;
    this.tail = tail;
    Atomics.store(this.control, TAIL, tail);
  }

  /** Record slots free now (how many packets publish()/push() may add). */
  freeRecords(): number {
    return this.slots - ((this.tail - Atomics.load(this.control, HEAD)) | 0) - this.unflushed;
  }

  /**
   * Copies one packet (src[offset, offset + length)) into the ring with `tag`; false when
   * it is full. The record is not visible until flush(). (Not mixed with publish() between two flushes.)
   */
  push(src: Uint8Array, offset: number, length: number, tag: number): boolean {
    const at = this.reserve(length);
    if (at < 0) return false;
    this.copyBytes(src, offset, this.data, at, length);
    const slot = ((this.tail + this.unflushed) & this.mask) * 2;
    this.records[slot] = at;
    this.records[slot + 1] = length | (tag << LENGTH_BITS);
    this.writePos = at + length;
    this.unflushed++;
    return true;
  }

  /** Makes the packets push()ed since the last flush visible to the consumer, and wakes it. */
  flush(): void {
    if (this.unflushed === 0) return;
    this.tail = (this.tail + this.unflushed) | 0;
    this.unflushed = 0;
    Atomics.store(this.control, TAIL, this.tail);
    this.wake();
  }

  /** Wakes a consumer waiting in waitForData() (after publish()). */
  wake(): void {
    Atomics.add(this.control, WAKE, 1);
    Atomics.notify(this.control, WAKE);
  }

  // ---- consumer ------------------------------------------------------------------

  /**
   * Up to `max` waiting packets: packet i is data[offsets[i], offsets[i] + lengths[i]), its
   * tag in tags[i]. They stay valid (and may be changed in place) until release(count).
   */
  peek(offsets: Uint32Array, lengths: Uint32Array, tags: Uint8Array, max: number): number {
    const tail = Atomics.load(this.control, TAIL);
    let n = (tail - this.head) | 0;
    if (n > max) n = max;
    const { records, mask } = this;
    for (let i = 0; i < n; i++) {
      const slot = ((this.head + i) & mask) * 2;
      offsets[i] = records[slot];
      const word = records[slot + 1];
      lengths[i] = word & LENGTH_MASK;
      tags[i] = word >>> LENGTH_BITS;
    }
    return n;
  }

  /** Gives the room of the oldest `count` peeked packets back to the producer. */
  release(count: number): void {
    this.head = (this.head + count) | 0;
    Atomics.store(this.control, HEAD, this.head);
  }

  /** True when packets are waiting. */
  get waiting(): boolean {
    return Atomics.load(this.control, TAIL) !== this.head;
  }

  /** The wake word's value now: read it before draining, then waitForData(value) sleeps only if nothing came since. */
  wakeValue(): number {
    return Atomics.load(this.control, WAKE);
  }

  /** Resolves when the producer published after `seen` (wakeValue() read before the last drain), or after `timeoutMs`. */
  waitForData(seen: number, timeoutMs: number): Promise<unknown> | null {
    const r = waitAsync(this.control, WAKE, seen, timeoutMs);
    return r.async ? (r.value as Promise<unknown>) : null;
  }
}

// Atomics.waitAsync (Node 16+; TypeScript types it from lib es2024, which this project does not target).
const waitAsync = (Atomics as unknown as {
  waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): { async: boolean; value: Promise<unknown> | string };
}).waitAsync;
