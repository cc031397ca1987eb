// Connections a policy change cut (P14), remembered so that this peer's own next packet
// on one does not open it again.
//
// Why: this peer's own traffic is not filtered (P13), and its TCP segment (or UDP
// datagram) with no entry picks up a loose one so that replies keep working for a
// connection older than the agent (docs/conntrack.md, "This peer's own TCP with no
// entry"). A connection a mesh peer opened and a new policy forbids is cut by removing
// its entry; the local end does not know and sends again (an ACK, a retransmit, data),
// and without this memory that packet would pick the connection up again, the forbidden
// peer's packets then passing as its replies. Linux conntrack after `conntrack -D`
// behaves that way (`nf_conntrack_tcp_loose`); P14 asks for the cut to hold.
//
// So the engine remembers each cut TCP/UDP connection opened from the mesh or through a
// route (the original direction: the remote end to this peer or a resource), and this
// peer's packet of such a connection passes untracked while the rules in force still
// forbid it. Each such packet keeps the memory for another `keepMs`; a later policy that
// allows the connection again, or `keepMs` of silence from this side, ends it.
//
// A direct-mapped table of `slots` entries with the whole key in each (no false match):
// a new cut may overwrite an older one in its slot, so at most `slots` cut connections
// are remembered at a time. Nothing here runs per packet of a tracked flow: only when a
// policy cuts, and for this peer's packets that find no entry.

import { randomInt } from "node:crypto";

import type { PacketRecord } from "../packet/record.ts";

/** Key words: version and protocol; remote address (4); local address (4); ports. */
const KEY_WORDS = 10;

export class RevokedFlows {
  private readonly keys: Uint32Array;
  /** 0 = free; else the time (ms) the memory of the slot's connection ends. */
  private readonly until: Float64Array;
  /** 1 when the slot's connection came through a route (the route rules judge it). */
  private readonly routed: Uint8Array;
  private readonly mask: number;
  /** Drawn per table: which keys share a slot cannot be known, so a cut cannot be aimed at another's slot. */
  private readonly seed = randomInt(0x7fffffff);
  private readonly probe = new Uint32Array(KEY_WORDS);
  /** How many slots have been written and not forgotten (0: nothing to look up). */
  private used = 0;

  constructor(
    slots = 16_384,
    /** How long a cut connection is remembered after this peer's last packet on it. */
    readonly keepMs = 5 * 24 * 3600 * 1000,
  ) {
    let size = 1;
    while (size < slots) size *= 2;
    this.mask = size - 1;
    this.keys = new Uint32Array(size * KEY_WORDS);
    this.until = new Float64Array(size);
    this.routed = new Uint8Array(size);
  }

  /** Connections remembered now (some may have run out of time and not been looked at since). */
  get size(): number {
    return this.used;
  }

  /**
   * Remember the cut connection whose original packet is `original` (TCP or UDP, from the
   * remote end: as Conntrack.writeOriginalTuple writes it); `routed` when it came
   * through a route to a resource.
   */
  remember(original: PacketRecord, routed: boolean, now: number): void {
    const k = this.keyOf(original);
    const slot = this.slotOf(k);
    if (this.until[slot] === 0) this.used++;
    this.keys.set(k, slot * KEY_WORDS);
    this.routed[slot] = routed ? 1 : 0;
    this.until[slot] = now + this.keepMs;
  }

  /**
   * The slot of the remembered cut connection whose original packet (from the remote
   * end, as `remember` took it) is `original`, or -1. `routedOf(slot)` says which rules
   * judged it.
   */
  find(original: PacketRecord, now: number): number {
    if (this.used === 0) return -1;
    const k = this.keyOf(original);
    const slot = this.slotOf(k);
    if (this.until[slot] === 0 || !this.holds(slot, k)) return -1;
    if (this.until[slot] <= now) {
      this.forget(slot);
      return -1;
    }
    return slot;
  }

  /** Whether the connection in `slot` came through a route. */
  routedOf(slot: number): boolean {
    return this.routed[slot] === 1;
  }

  /** This peer spoke on the connection in `slot` again: remember it for another keepMs. */
  refresh(slot: number, now: number): void {
    this.until[slot] = now + this.keepMs;
  }

  /** The connection in `slot` may be picked up again (a policy allows it now). */
  forget(slot: number): void {
    if (this.until[slot] === 0) return;
    this.until[slot] = 0;
    this.used--;
  }

  /** The key of a connection, from its original packet (in `probe`). */
  private keyOf(original: PacketRecord): Uint32Array {
    const k = this.probe;
    k[0] = original.ipVersion | (original.protocol << 8);
    k[1] = original.src0;
    k[2] = original.src1;
    k[3] = original.src2;
    k[4] = original.src3;
    k[5] = original.dst0;
    k[6] = original.dst1;
    k[7] = original.dst2;
    k[8] = original.dst3;
    k[9] = ((original.srcPort << 16) | original.dstPort) >>> 0;
    return k;
  }

  private holds(slot: number, k: Uint32Array): boolean {
    const at = slot * KEY_WORDS;
    for (let i = 0; i < KEY_WORDS; i++) if (this.keys[at + i] !== k[i]) return false;
    return true;
  }

  private slotOf(k: Uint32Array): number {
    let h = 0x811c9dc5 ^ this.seed;
    for (let i = 0; i < KEY_WORDS; i++) h = Math.imul(h ^ k[i], 0x01000193);
    h ^= h >>> 15;
    return h & this.mask;
  }
}
