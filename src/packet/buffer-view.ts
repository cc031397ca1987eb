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
 * batch). Four module variables rather than an array: each check is one compare.
 */
let array0: Uint8Array | null = null;
let view0: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
let array1: Uint8Array | null = null;
let view1: DataView<ArrayBufferLike> = view0;
let array2: Uint8Array | null = null;
let view2: DataView<ArrayBufferLike> = view0;
let array3: Uint8Array | null = null;
let view3: DataView<ArrayBufferLike> = view0;
/** The array of the previous call without a view. */
let previousArray: Uint8Array | null = null;

/**
 * A DataView over exactly buf's bytes (index 0 is buf[0]) when buf was also the array of
 * the previous call or already has one; null the first time an array is seen, and for
 * arrays over resizable or growable buffers. The reads must stay below buf.length.
 */
export function viewOf(buf: Uint8Array): DataView<ArrayBufferLike> | null {
  return buf === array0 ? view0 : viewOfAnother(buf);
}

/** viewOf for an array other than the latest one with a view (kept apart so that viewOf stays small enough to inline). */
function viewOfAnother(buf: Uint8Array): DataView<ArrayBufferLike> | null {
  if (buf === array1) return view1;
  if (buf === array2) return view2;
  if (buf === array3) return view3;
  if (buf !== previousArray) {
    previousArray = buf;
    return null;
  }
  // A resizable or growable buffer can change length under a fixed-length view, whose
  // reads would then throw: such arrays are left to the byte-reading decoder.
  const buffer = buf.buffer as ArrayBufferLike & { resizable?: boolean; growable?: boolean };
  if (buffer.resizable === true || buffer.growable === true) return null;
  // The oldest view gives way.
  array3 = array2;
  view3 = view2;
  array2 = array1;
  view2 = view1;
  array1 = array0;
  view1 = view0;
  array0 = buf;
  view0 = new DataView(buffer, buf.byteOffset, buf.byteLength);
  return view0;
}
