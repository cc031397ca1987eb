// Which worker of a multi-queue agent (multi-queue.ts) owns a flow: the one whose engine
// holds the flow's connection entry, so that every packet of the flow, both directions,
// is judged there. A table in a SharedArrayBuffer that every thread reads and writes
// with single-word atomics; no locks.
//
// The key is a symmetric hash of the flow (flowHash: the same for a packet and its
// reply). The table is set-associative: a bucket of WAYS entries per hash's low bits;
// an entry is one Int32, the hash's high 24 bits and the owner + 1 in the low 8 (so a
// reader never sees a key without its owner), with a second word, the second it was last
// used, that only guides which entry a full bucket gives up. The first worker to claim a
// hash owns it for as long as its entry lives; a new flow that finds its bucket full
// takes the entry used longest ago.

import { avalanche } from "../conntrack/flow-table.ts";
import { tcp4View } from "../packet/tcp4-view.ts";

const WAYS = 4;
const TAG_MASK = ~0xff;
/** Owners are stored as owner + 1 in 8 bits. */
export const MAX_OWNERS = 255;
const PROTO_TCP = 6;

export interface FlowOwnersShape {
  buffer: SharedArrayBuffer;
  /** Buckets (a power of two); the table holds buckets * 4 flows. */
  buckets: number;
}

export function createFlowOwners(buckets: number): FlowOwnersShape {
  if (!Number.isInteger(Math.log2(buckets))) throw new RangeError(`flow owners: buckets must be a power of two, not ${buckets}`);
  return { buffer: new SharedArrayBuffer(buckets * WAYS * 8), buckets };
}

export class FlowOwners {
  private readonly keys: Int32Array;
  private readonly used: Int32Array;
  private readonly mask: number;

  constructor(shape: FlowOwnersShape) {
    const entries = shape.buckets * WAYS;
    this.keys = new Int32Array(shape.buffer, 0, entries);
    this.used = new Int32Array(shape.buffer, entries * 4, entries);
    this.mask = shape.buckets - 1;
  }

  /** The owner of `hash`, or -1 when no worker has claimed it. */
  owner(hash: number): number {
    const keys = this.keys;
    const base = (hash & this.mask) * WAYS;
    const tag = hash & TAG_MASK;
    for (let i = 0; i < WAYS; i++) {
      const k = Atomics.load(keys, base + i);
      if (k !== 0 && (k & TAG_MASK) === tag) return (k & 0xff) - 1;
    }
    return -1;
  }

  /**
   * The owner of `hash`: the worker that claimed it before, or else `worker`, which owns
   * it from now on. `nowSeconds` marks the entry as used (coarse: a store at most once a
   * second per flow).
   */
  claim(hash: number, worker: number, nowSeconds: number): number {
    const { keys, used } = this;
    const base = (hash & this.mask) * WAYS;
    const tag = hash & TAG_MASK;
    const mine = tag | (worker + 1);
    let oldest = base;
    for (let i = base; i < base + WAYS; i++) {
      let k = Atomics.load(keys, i);
      if (k === 0) {
        k = Atomics.compareExchange(keys, i, 0, mine);
        if (k === 0) {
          used[i] = nowSeconds;
          return worker;
        }
      }
      if ((k & TAG_MASK) === tag) {
        if (used[i] !== nowSeconds) used[i] = nowSeconds;
        return (k & 0xff) - 1;
      }
      if (used[i] < used[oldest]) oldest = i;
    }
    // Full bucket: the entry used longest ago goes. Another thread may take it at the same
    // moment; then whichever won owns the hash.
    const was = Atomics.load(keys, oldest);
    const got = Atomics.compareExchange(keys, oldest, was, mine);
    if (got === was) {
      used[oldest] = nowSeconds;
      return worker;
    }
    return (got & TAG_MASK) === tag ? (got & 0xff) - 1 : worker;
  }
}

/**
 * A symmetric hash of an IPv4 packet's flow (a packet and its reply hash alike): TCP by
 * addresses and ports; other protocols and fragments by addresses and protocol (a
 * fragment after the first carries no ports, and every fragment of a datagram must meet
 * the same engine). 0 for a packet that is not IPv4 (judged where it is read).
 * `view` is a DataView over exactly `buf` (made once per buffer by the caller).
 */
export function flowHash(buf: Uint8Array, view: DataView<ArrayBufferLike>, off: number, len: number): number {
  const v = tcp4View;
  if (len < 20 || v.ipVersionByte(buf, off) !== 4) return 0;
  const src = v.ipv4SrcBytes(buf, off);
  const dst = v.ipv4DstBytes(buf, off);
  const proto = v.ipv4ProtocolByte(buf, off);
  const l4 = off + v.ipv4HeaderLengthByte(buf, off);
  // A fragment has MF set or a non-zero fragment offset.
  const fragment = (v.ipv4IdFragment(view, off) & 0x3fff) !== 0;
  let a = src;
  let b = dst;
  if (proto === PROTO_TCP && !fragment && l4 + 4 <= off + len) {
    a = avalanche(src ^ Math.imul(v.srcPortBytes(buf, l4), 0x9e3779b1));
    b = avalanche(dst ^ Math.imul(v.dstPortBytes(buf, l4), 0x9e3779b1));
  } else {
    a = avalanche(src);
    b = avalanche(dst);
  }
  const h = avalanche(((a + b) | 0) ^ proto);
  return h === 0 ? 1 : h;
}
