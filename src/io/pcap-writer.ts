// Writes classic pcap files (raw IP by default), buffered. Used for fixtures, for
// converting captures, for tests (both byte orders, nanosecond timestamps) and to
// save what a replay or a live peer accepted or dropped.

import { BufferedFileWriter } from "./buffered-file-writer.ts";
import { LINKTYPE_RAW, isSupportedLinkType } from "./link-layer.ts";
import { PCAP_MAGIC_MICROSECONDS, PCAP_MAGIC_NANOSECONDS } from "./pcap-reader.ts";

export interface PcapWriterOptions {
  /** Nanosecond timestamps (magic a1b23c4d) instead of microseconds. */
  nanosecond?: boolean;
  /** Big-endian headers instead of little-endian. */
  bigEndian?: boolean;
  /** Snaplen recorded in the file header (default 262144). */
  snaplen?: number;
}

const FILE_HEADER = 24;
const RECORD_HEADER = 16;

export class PcapWriter {
  private readonly le: boolean;
  private readonly fractionsPerMs: number;
  private readonly fractionsPerSecond: number;

  private constructor(
    private readonly out: BufferedFileWriter,
    readonly linkType: number,
    options: PcapWriterOptions,
  ) {
    this.le = !options.bigEndian;
    this.fractionsPerMs = options.nanosecond ? 1e6 : 1e3;
    this.fractionsPerSecond = options.nanosecond ? 1e9 : 1e6;
    out.reserve(FILE_HEADER);
    const view = out.view;
    view.setUint32(0, options.nanosecond ? PCAP_MAGIC_NANOSECONDS : PCAP_MAGIC_MICROSECONDS, this.le);
    view.setUint16(4, 2, this.le);
    view.setUint16(6, 4, this.le);
    view.setInt32(8, 0, this.le); // thiszone: timestamps are UTC
    view.setUint32(12, 0, this.le); // sigfigs
    view.setUint32(16, options.snaplen ?? 262_144, this.le);
    view.setUint32(20, linkType, this.le);
    out.pos = FILE_HEADER;
  }

  /** Creates (or truncates) `path` and writes the file header. */
  static open(path: string, linkType: number = LINKTYPE_RAW, options: PcapWriterOptions = {}): PcapWriter {
    if (!isSupportedLinkType(linkType)) throw new Error(`unsupported link type ${linkType}`);
    return new PcapWriter(new BufferedFileWriter(path), linkType, options);
  }

  /** Appends one frame (`length` bytes of `data` from `offset`) with its time in ms since the epoch. */
  write(data: Uint8Array, offset: number, length: number, timeMs: number, originalLength = length): void {
    const out = this.out;
    out.reserve(RECORD_HEADER + length);
    let seconds = Math.floor(timeMs / 1000);
    let fraction = Math.round((timeMs - seconds * 1000) * this.fractionsPerMs);
    if (fraction >= this.fractionsPerSecond) {
      seconds++;
      fraction -= this.fractionsPerSecond;
    }
    const at = out.pos;
    out.view.setUint32(at, seconds, this.le);
    out.view.setUint32(at + 4, fraction, this.le);
    out.view.setUint32(at + 8, length, this.le);
    out.view.setUint32(at + 12, originalLength, this.le);
    out.pos = at + RECORD_HEADER;
    out.put(data, offset, length);
  }

  /** Flushes and closes the file; idempotent. Throws OutputError (path and reason) when it cannot be written. */
  close(): void {
    this.out.close();
  }

  /** Closes without writing what is still buffered; never throws (after another failure). */
  abandon(): void {
    this.out.abandon();
  }
}
