// Cryptokey routing (WireGuard paper, section 2): each peer owns the IPv4 prefixes of its
// AllowedIPs. Outbound, a packet goes to the peer owning the longest prefix that holds
// its destination; inbound, a decrypted packet is accepted only when the peer that
// sealed it owns its source. A prefix listed under two peers belongs to the later one,
// as `wg setconf` moves it.
//
// The lookup probes the filter's hash table (filter/word-hash.ts) once per distinct
// prefix length present, longest first, and allocates nothing. IPv6 prefixes are held
// by the configuration but not routed: the transport carries IPv4 overlays only.

import type { ParsedCidr } from "../packet/address.ts";
import { MASK_V4 } from "../filter/prefix-masks.ts";
import { WordHashTable } from "../filter/word-hash.ts";

export class AllowedIps {
  private readonly table = new WordHashTable(2);
  /** The distinct IPv4 prefix lengths present, longest first. */
  private readonly lengths: Uint8Array;

  /** `prefixes[i]` are the AllowedIPs of peer i. */
  constructor(prefixes: readonly (readonly ParsedCidr[])[]) {
    const owner = new Map<string, { length: number; network: number; peer: number }>();
    prefixes.forEach((list, peer) => {
      for (const p of list) {
        if (p.version !== 4) continue;
        owner.set(`${p.prefixLength}/${p.words[0]}`, { length: p.prefixLength, network: p.words[0], peer });
      }
    });
    const lengths = new Set<number>();
    for (const { length, network, peer } of owner.values()) {
      lengths.add(length);
      this.table.probe[0] = length;
      this.table.probe[1] = network;
      this.table.insertMin(peer);
    }
    this.lengths = Uint8Array.from([...lengths].sort((a, b) => b - a));
  }

  /** The peer owning the longest prefix that holds IPv4 address `address`, or -1. */
  lookup(address: number): number {
    const { lengths, table } = this;
    const probe = table.probe;
    for (let i = 0; i < lengths.length; i++) {
      const length = lengths[i];
      probe[0] = length;
      probe[1] = (address & MASK_V4[length]) >>> 0;
      const peer = table.find();
      if (peer >= 0) return peer;
    }
    return -1;
  }
}
