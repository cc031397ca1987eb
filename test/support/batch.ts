// Packets laid out the way the batched I/O calls (TUN read/write, UDP send/recv, the
// engine's judgeBatch) take them: back to back in one byte buffer, with each packet's
// offset and length in two Uint32Arrays. Shared by tests and benchmarks.

export interface PacketBatch {
  buf: Uint8Array;
  offsets: Uint32Array;
  lengths: Uint32Array;
  count: number;
}

/**
 * Copies `packets` back to back into `buf` from offset 0, recording each one's offset and
 * length; returns how many. Allocates nothing, so a stand-in device can call it per read.
 */
export function fillBatch(packets: readonly Uint8Array[], buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array): number {
  let at = 0;
  for (let i = 0; i < packets.length; i++) {
    buf.set(packets[i], at);
    offsets[i] = at;
    lengths[i] = packets[i].length;
    at += packets[i].length;
  }
  return packets.length;
}

/** A new batch holding `packets`; the buffer is exactly their total size unless `bufferBytes` asks for more. */
export function packBatch(packets: readonly Uint8Array[], bufferBytes = packets.reduce((n, p) => n + p.length, 0)): PacketBatch {
  const batch = {
    buf: new Uint8Array(bufferBytes),
    offsets: new Uint32Array(packets.length),
    lengths: new Uint32Array(packets.length),
    count: packets.length,
  };
  fillBatch(packets, batch.buf, batch.offsets, batch.lengths);
  return batch;
}

/** `parts` back to back in one new array (hand-made packets and frames in tests). */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
