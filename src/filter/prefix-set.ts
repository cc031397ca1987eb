// A set of IPv4 and IPv6 prefixes with an allocation-free membership test:
// "is this address inside any of the prefixes?". Used for this peer's own addresses
// and for the union of the route destinations (resources).
//
// One hash table per IP version keyed by (prefix length, masked address), plus the
// list of distinct prefix lengths present. A test probes once per distinct length,
// so its cost depends on how many lengths the set uses (at most 33 / 129), never on
// how many prefixes it holds.

import type { ParsedCidr } from "../packet/address.ts";
import type { PacketRecord } from "../packet/record.ts";
import { MASK_V4, MASK_V6 } from "./prefix-masks.ts";
import { WordHashTable } from "./word-hash.ts";

export class PrefixSet {
  private readonly lengths4: Uint8Array;
  private readonly lengths6: Uint8Array;
  private readonly table4 = new WordHashTable(2);
  private readonly table6 = new WordHashTable(5);
  /** Scratch: the address being tested. */
  private readonly address = new Uint32Array(4);

  constructor(prefixes: Iterable<ParsedCidr>) {
    const seen4 = new Set<number>();
    const seen6 = new Set<number>();
    for (const prefix of prefixes) {
      const length = prefix.prefixLength;
      if (prefix.version === 4) {
        seen4.add(length);
        this.table4.probe[0] = length;
        this.table4.probe[1] = prefix.words[0];
        this.table4.insertMin(0);
      } else {
        seen6.add(length);
        const probe = this.table6.probe;
        probe[0] = length;
        for (let i = 0; i < 4; i++) probe[1 + i] = prefix.words[i];
        this.table6.insertMin(0);
      }
    }
    // Longest first: host addresses (the common case) answer on the first probe.
    this.lengths4 = Uint8Array.from([...seen4].sort((a, b) => b - a));
    this.lengths6 = Uint8Array.from([...seen6].sort((a, b) => b - a));
  }

  /** Number of distinct prefixes stored. */
  get size(): number {
    return this.table4.size + this.table6.size;
  }

  /** Hot path: the packet's source lies inside some prefix of the set. */
  containsSource(rec: PacketRecord): boolean {
    const address = this.address;
    address[0] = rec.src0;
    address[1] = rec.src1;
    address[2] = rec.src2;
    address[3] = rec.src3;
    return this.containsAddress(rec.ipVersion);
  }

  /** Hot path: the packet's destination lies inside some prefix of the set. */
  containsDestination(rec: PacketRecord): boolean {
    const address = this.address;
    address[0] = rec.dst0;
    address[1] = rec.dst1;
    address[2] = rec.dst2;
    address[3] = rec.dst3;
    return this.containsAddress(rec.ipVersion);
  }

  /** Tests the words in `address`. Addresses travel through a typed array, not arguments:
   *  words above 2^30 are not small integers, and passing them to a call could box them. */
  private containsAddress(version: number): boolean {
    const address = this.address;
    if (version === 4) {
      const lengths = this.lengths4;
      const probe = this.table4.probe;
      for (let i = 0; i < lengths.length; i++) {
        const length = lengths[i];
        probe[0] = length;
        probe[1] = address[0] & MASK_V4[length];
        if (this.table4.find() >= 0) return true;
      }
      return false;
    }
    if (version !== 6) return false;
    const lengths = this.lengths6;
    const probe = this.table6.probe;
    for (let i = 0; i < lengths.length; i++) {
      const length = lengths[i];
      const m = length * 4;
      probe[0] = length;
      probe[1] = address[0] & MASK_V6[m];
      probe[2] = address[1] & MASK_V6[m + 1];
      probe[3] = address[2] & MASK_V6[m + 2];
      probe[4] = address[3] & MASK_V6[m + 3];
      if (this.table6.find() >= 0) return true;
    }
    return false;
  }
}
