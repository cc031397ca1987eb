// A DataView over the caller's packet buffer, for the TCP/IPv4 fast path: one bounds
// check and one load per 16/32-bit field instead of one per byte (measured 17 against
// 22 CPU ns per packet). A DataView is an object, so it is made only for an array that
// comes back: batch callers (TUN batch reads, capture chunks, the bench) pass the same
// array for packet after packet and get the view from the second packet on, and keep
// it while they use up to four arrays in turn, while a caller that hands over a new
// array per packet never causes an allocation (the fast path then declines and the
// general decoder reads bytes).
//
// Keyed on the Uint8Array itself, not its ArrayBuffer: `buf.buffer` is a builtin call
// that cost more than the view saves.

/**
 * The arrays with a view, most recently made first. Several, because an agent decodes
 * from a few buffers in turn (its TUN read buffer and its transport's receive buffer):
 * with one cached view, the first packet of every batch after a switch took the slow
 * decoder and a new DataView was made (measured in the agent: ~700 ns per one-packet ACK
 * batch). Fields of one const object rather than module variables: a module `let` is
 * read with a hole check at every use (measured: 0.7 ns of the decoder's 16).
 */
const cache: {
  array0: Uint8Array | null;
  view0: DataView<ArrayBufferLike>;
  array1: Uint8Array | null;
  view1: DataView<ArrayBufferLike>;
  array2: Uint8Array | null;
  view2: DataView<ArrayBufferLike>;
  array3: Uint8Array | null;
  view3: DataView<ArrayBufferLike>;
  /** The array of the previous call without a view. */
  previousArray: Uint8Array | null;
} = (() => {
  const empty = new DataView(new ArrayBuffer(0));
  return { array0: null, view0: empty, array1: null, view1: empty, array2: null, view2: empty, array3: null, view3: empty, previousArray: null };
})();

/**
 * A DataView over exactly buf's bytes (index 0 is buf[0]) when buf was also the array of
 * the previous call or already has one; null the first time an array is seen, and for
 * arrays over resizable or growable buffers. The reads must stay below buf.length.
 */
export function viewOf(buf: Uint8Array): DataView<ArrayBufferLike> | null {
  return buf === cache.array0 ? cache.view0 : viewOfAnother(buf);
}

/** viewOf for an array other than the latest one with a view (kept apart so that viewOf stays small enough to inline). */
function viewOfAnother(buf: Uint8Array): DataView<ArrayBufferLike> | null {
  if (buf === cache.array1) return cache.view1;
  if (buf === cache.array2) return cache.view2;
  if (buf === cache.array3) return cache.view3;
  if (buf !== cache.previousArray) {
    cache.previousArray = buf;
    return null;
  }
  // A resizable or growable buffer can change length under a fixed-length view, whose
  // reads would then throw: such arrays are left to the byte-reading decoder.
  const buffer = buf.buffer as ArrayBufferLike & { resizable?: boolean; growable?: boolean };
  if (buffer.resizable === true || buffer.growable === true) return null;
  // The oldest view gives way.
  cache.array3 = cache.array2;
  cache.view3 = cache.view2;
  cache.array2 = cache.array1;
  cache.view2 = cache.view1;
  cache.array1 = cache.array0;
  cache.view1 = cache.view0;
  cache.array0 = buf;
  cache.view0 = new DataView(buffer, buf.byteOffset, buf.byteLength);
  return cache.view0;
}
