// What every capture reader (pcap, pcapng) exposes: a pull interface whose `next()`
// moves to the next packet and updates plain number fields in place, pointing into
// the reader's chunk buffer. Nothing is allocated per packet, so a replay loop can run
// straight from `data[ipOffset .. ipOffset + ipLength)` into the decoder.

import { CaptureError } from "./capture-error.ts";
import type { ChunkedFile } from "./chunked-file.ts";
import { ipPacketLength, linkHeaderLength } from "./link-layer.ts";

/** The largest packet record accepted (libpcap's MAXIMUM_SNAPLEN); bounds buffer growth too. */
export const MAX_RECORD_BYTES = 262_144;

/**
 * The largest timestamp a capture may carry, in ms either side of the Unix epoch: the
 * range of a JavaScript Date (about 273,790 years). pcapng's 64-bit timestamps, with
 * a 2^-n resolution and a 64-bit if_tsoffset, reach far past it; such a time could not
 * be printed or compared, so the reader reports it where it is instead.
 */
export const MAX_TIME_MS = 8.64e15;

export abstract class CaptureReader {
  abstract readonly format: "pcap" | "pcapng";

  /** The buffer holding the current packet (the reader's chunk; it is reused, copy what you keep). */
  data: Uint8Array;
  /** Offset in `data` of the link-layer frame. */
  frameOffset = 0;
  /** Offset in `data` of the IP packet inside the frame (equals frameOffset when there is none). */
  ipOffset = 0;
  /** Length of the IP packet; 0 when the frame carries no IPv4/IPv6 (ARP, LLDP...). */
  ipLength = 0;
  /** Packet time in milliseconds since the Unix epoch (fractional: micro/nanoseconds kept). */
  timeMs = 0;
  /** 0-based index of the current packet in the file; -1 before the first `next()`. */
  index = -1;
  /** Link type (LINKTYPE_*) of the current packet. */
  linkType = 0;
  /** pcapng interface id of the current packet (always 0 for pcap). */
  interfaceId = 0;
  /** Bytes of the frame present in the file. */
  capturedLength = 0;
  /** Length of the frame on the wire (larger than capturedLength when cut by the snaplen). */
  originalLength = 0;
  /** File offset of the current packet's record (pcap) or block (pcapng). */
  byteOffset = 0;

  protected constructor(
    readonly path: string,
    protected readonly file: ChunkedFile,
  ) {
    this.data = file.buf;
  }

  /** File offset just past the current packet's record or block: how much of the file has been consumed. */
  get consumedBytes(): number {
    return this.file.fileOffset;
  }

  /** Advances to the next packet; false at the clean end of the file. Throws CaptureError on corrupt input. */
  abstract next(): boolean;

  /** Releases the file; idempotent. */
  close(): void {
    this.file.close();
  }

  /** Closes the file (a corrupt capture cannot be read further) and throws a CaptureError. */
  protected fail(byteOffset: number, detail: string): never {
    this.file.close();
    throw new CaptureError(this.path, byteOffset, detail);
  }

  /** Publishes the frame at `frameOffset` of the current buffer and locates its IP packet. */
  protected setFrame(frameOffset: number, capturedLength: number): void {
    const data = this.file.buf;
    this.data = data;
    this.frameOffset = frameOffset;
    this.capturedLength = capturedLength;
    this.index++;
    const header = linkHeaderLength(this.linkType, data, frameOffset, capturedLength);
    if (header < 0) {
      this.ipOffset = frameOffset;
      this.ipLength = 0;
    } else {
      this.ipOffset = frameOffset + header;
      this.ipLength = ipPacketLength(data, this.ipOffset, capturedLength - header);
    }
  }
}
