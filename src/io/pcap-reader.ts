// Classic pcap (tcpdump/libpcap format): a 24-byte file header, then records of a
// 16-byte header (seconds, micro- or nanoseconds, captured length, original length)
// followed by the frame. Byte order and timestamp resolution come from the magic.

import { CaptureReader, MAX_RECORD_BYTES } from "./capture-reader.ts";
import type { ChunkedFile } from "./chunked-file.ts";
import { isSupportedLinkType } from "./link-layer.ts";

export const PCAP_MAGIC_MICROSECONDS = 0xa1b2c3d4;
export const PCAP_MAGIC_NANOSECONDS = 0xa1b23c4d;
const FILE_HEADER = 24;
const RECORD_HEADER = 16;

export class PcapReader extends CaptureReader {
  readonly format = "pcap" as const;
  /** Bytes per record at most: the file's snaplen, capped by MAX_RECORD_BYTES. */
  readonly snaplen: number;
  readonly littleEndian: boolean;
  readonly nanosecond: boolean;
  private readonly fractionToMs: number;

  /** Reads the file header; the magic (first 4 bytes) is already known to be a pcap one. */
  constructor(path: string, file: ChunkedFile) {
    super(path, file);
    if (!file.ensure(FILE_HEADER)) {
      this.fail(0, `truncated pcap file header: ${FILE_HEADER} bytes expected, ${file.buffered} present`);
    }
    const view = file.view;
    this.littleEndian = view.getUint32(0, true) === PCAP_MAGIC_MICROSECONDS || view.getUint32(0, true) === PCAP_MAGIC_NANOSECONDS;
    const magic = view.getUint32(0, this.littleEndian);
    this.nanosecond = magic === PCAP_MAGIC_NANOSECONDS;
    this.fractionToMs = this.nanosecond ? 1e-6 : 1e-3;
    const snaplen = view.getUint32(16, this.littleEndian);
    this.snaplen = snaplen === 0 || snaplen > MAX_RECORD_BYTES ? MAX_RECORD_BYTES : snaplen;
    // The upper bits of this field may carry FCS information; the link type is the low 16 bits.
    this.linkType = view.getUint32(20, this.littleEndian) & 0xffff;
    if (!isSupportedLinkType(this.linkType)) {
      this.fail(20, `unsupported link type ${this.linkType} in the pcap file header`);
    }
    file.pos = FILE_HEADER;
  }

  next(): boolean {
    const file = this.file;
    const recordOffset = file.fileOffset;
    if (!file.ensure(RECORD_HEADER)) {
      if (file.buffered === 0) return false;
      this.fail(recordOffset, `truncated record header: ${RECORD_HEADER} bytes expected, ${file.buffered} left in the file`);
    }
    const view = file.view;
    const at = file.pos;
    const le = this.littleEndian;
    const seconds = view.getUint32(at, le);
    const fraction = view.getUint32(at + 4, le);
    const captured = view.getUint32(at + 8, le);
    if (captured > this.snaplen) {
      this.fail(recordOffset, `record length ${captured} exceeds the snaplen ${this.snaplen}`);
    }
    this.originalLength = view.getUint32(at + 12, le);
    if (!file.ensure(RECORD_HEADER + captured)) {
      this.fail(recordOffset, `truncated record: ${captured} bytes of packet data expected, ${file.buffered - RECORD_HEADER} left in the file`);
    }
    this.byteOffset = recordOffset;
    this.timeMs = seconds * 1000 + fraction * this.fractionToMs;
    // ensure() may have compacted the buffer, so take pos again.
    this.setFrame(file.pos + RECORD_HEADER, captured);
    file.pos += RECORD_HEADER + captured;
    return true;
  }
}
