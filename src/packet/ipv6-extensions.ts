// Walks the IPv6 extension header chain (RFC 8200 section 4) to the upper-layer header.
// The result goes into one module-level object instead of a fresh one per packet: the
// walk runs on the hot path and must not allocate. Read it right after the call.

import * as layout from "./layout.ts";

// Module-local copies of imported constants: V8 folds these into the optimized code as
// literals, whereas it re-reads an imported binding (with a TDZ check) at every use.
const IPV6_FRAGMENT_HEADER = layout.IPV6_FRAGMENT_HEADER;
const IPV6_FRAGMENT_MF = layout.IPV6_FRAGMENT_MF;
const IPV6_FRAGMENT_OFFSET_MASK = layout.IPV6_FRAGMENT_OFFSET_MASK;
const NH_DESTINATION_OPTIONS = layout.NH_DESTINATION_OPTIONS;
const NH_FRAGMENT = layout.NH_FRAGMENT;
const NH_HOP_BY_HOP = layout.NH_HOP_BY_HOP;
const NH_ROUTING = layout.NH_ROUTING;

/** More headers than any sane packet carries; a longer chain is an attack on the walker. */
export const MAX_EXTENSION_HEADERS = 8;

export interface ExtensionWalk {
  /** The next-header value where the walk stopped: the upper-layer protocol, or ESP/AH/no-next-header. */
  next: number;
  /** Absolute index of the byte after the last extension header walked. */
  end: number;
  /** A fragment header was seen; its fields follow. */
  hasFragment: boolean;
  /** Absolute index of the fragment header. */
  fragmentAt: number;
  fragmentOffset: number;
  moreFragments: boolean;
  fragmentId: number;
  /** Absolute index of the header that is cut short or out of place; -1 when the chain is sound. */
  errorAt: number;
}

export const extensionWalk: ExtensionWalk = {
  next: 0,
  end: 0,
  hasFragment: false,
  fragmentAt: 0,
  fragmentOffset: 0,
  moreFragments: false,
  fragmentId: 0,
  errorAt: -1,
};

/** True for the next-header codes this walker steps over (hop-by-hop, routing, fragment, destination options). */
export function isExtensionHeader(next: number): boolean {
  return next === NH_HOP_BY_HOP || next === NH_ROUTING || next === NH_FRAGMENT || next === NH_DESTINATION_OPTIONS;
}

/**
 * Walk from `next` (the fixed header's next-header field) over the headers starting at
 * absolute index `at`, never reading at or past `end`. Fills `extensionWalk`.
 */
export function walkIpv6Extensions(buf: Uint8Array, next: number, at: number, end: number): void {
  const walk = extensionWalk;
  walk.hasFragment = false;
  walk.fragmentAt = 0;
  walk.fragmentOffset = 0;
  walk.moreFragments = false;
  walk.fragmentId = 0;
  walk.errorAt = -1;
  let count = 0;
  for (;;) {
    if (next === NH_HOP_BY_HOP || next === NH_ROUTING || next === NH_DESTINATION_OPTIONS) {
      // Hop-by-hop options are only legal right after the fixed header (RFC 8200 4.1).
      if (count === MAX_EXTENSION_HEADERS || (next === NH_HOP_BY_HOP && count !== 0) || at + 2 > end) break;
      const length = (buf[at + 1] + 1) * 8;
      if (at + length > end) break;
      next = buf[at];
      at += length;
    } else if (next === NH_FRAGMENT) {
      if (count === MAX_EXTENSION_HEADERS || at + IPV6_FRAGMENT_HEADER > end) break;
      const offsetFlags = (buf[at + 2] << 8) | buf[at + 3];
      walk.hasFragment = true;
      walk.fragmentAt = at;
      walk.fragmentOffset = offsetFlags & IPV6_FRAGMENT_OFFSET_MASK;
      walk.moreFragments = (offsetFlags & IPV6_FRAGMENT_MF) !== 0;
      walk.fragmentId = ((buf[at + 4] << 24) | (buf[at + 5] << 16) | (buf[at + 6] << 8) | buf[at + 7]) >>> 0;
      next = buf[at];
      at += IPV6_FRAGMENT_HEADER;
      // After a non-first fragment's header come fragment data bytes, not more headers.
      if (walk.fragmentOffset !== 0) {
        walk.next = next;
        walk.end = at;
        return;
      }
    } else {
      walk.next = next;
      walk.end = at;
      return;
    }
    count++;
  }
  walk.next = next;
  walk.end = at;
  walk.errorAt = at;
}
