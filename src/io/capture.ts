// Opening a capture file: the first four bytes tell pcap (either byte order, micro- or
// nanosecond timestamps) from pcapng, and the matching streaming reader is returned.
// `openCapture` is the hot-path pull reader; `readCapture` is a convenience iterator
// for cold paths that wants a copy of every packet.

import { CaptureError } from "./capture-error.ts";
import type { CaptureReader } from "./capture-reader.ts";
import { ChunkedFile } from "./chunked-file.ts";
import { PCAP_MAGIC_MICROSECONDS, PCAP_MAGIC_NANOSECONDS, PcapReader } from "./pcap-reader.ts";
import { BLOCK_SECTION_HEADER, PcapngReader } from "./pcapng-reader.ts";

export { CaptureError } from "./capture-error.ts";
export { CaptureReader, MAX_RECORD_BYTES } from "./capture-reader.ts";

/** Default size of the chunk buffer a reader streams the file through. */
export const DEFAULT_CHUNK_BYTES = 1 << 20;

/** The smallest chunk accepted: room for any file, record or block header. */
export const MIN_CHUNK_BYTES = 64;

export interface CaptureOptions {
  /** Size of the read buffer in bytes (default 1 MiB). It grows only for a record larger than itself. */
  chunkBytes?: number;
}

/** Opens a pcap or pcapng file for streaming reads. Throws CaptureError when the header is not a capture's. */
export function openCapture(path: string, options: CaptureOptions = {}): CaptureReader {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isInteger(chunkBytes) || chunkBytes < MIN_CHUNK_BYTES) {
    throw new RangeError(`chunkBytes must be an integer of at least ${MIN_CHUNK_BYTES}, got ${chunkBytes}`);
  }
  const file = new ChunkedFile(path, chunkBytes);
  try {
    if (!file.ensure(4)) {
      throw new CaptureError(path, 0, `file too short for a capture header: 4 bytes of magic expected, ${file.buffered} present`);
    }
    const magicLe = file.view.getUint32(0, true);
    const magicBe = file.view.getUint32(0, false);
    if (magicBe === BLOCK_SECTION_HEADER) return new PcapngReader(path, file);
    for (const magic of [PCAP_MAGIC_MICROSECONDS, PCAP_MAGIC_NANOSECONDS]) {
      if (magicLe === magic || magicBe === magic) return new PcapReader(path, file);
    }
    throw new CaptureError(
      path,
      0,
      `bad magic 0x${magicBe.toString(16).padStart(8, "0")}: pcap (a1b2c3d4, a1b23c4d, either byte order) or pcapng (0a0d0d0a) expected`,
    );
  } catch (error) {
    file.close();
    throw error;
  }
}

/** One packet, copied out of the reader's buffer (cold path). */
export interface CapturedPacket {
  index: number;
  timeMs: number;
  linkType: number;
  interfaceId: number;
  /** File offset of the packet's record or block. */
  byteOffset: number;
  originalLength: number;
  /** The whole link-layer frame as captured. */
  frame: Uint8Array;
  /** The IP packet inside the frame (a view into `frame`); empty when the frame carries no IP. */
  ip: Uint8Array;
}

/** Iterates over every packet of a capture, each copied into its own buffers. The file is closed at the end or on break. */
export function* readCapture(path: string, options: CaptureOptions = {}): Generator<CapturedPacket, void, undefined> {
  const reader = openCapture(path, options);
  try {
    while (reader.next()) {
      const frame = reader.data.slice(reader.frameOffset, reader.frameOffset + reader.capturedLength);
      const ipStart = reader.ipOffset - reader.frameOffset;
      yield {
        index: reader.index,
        timeMs: reader.timeMs,
        linkType: reader.linkType,
        interfaceId: reader.interfaceId,
        byteOffset: reader.byteOffset,
        originalLength: reader.originalLength,
        frame,
        ip: frame.subarray(ipStart, ipStart + reader.ipLength),
      };
    }
  } finally {
    reader.close();
  }
}
