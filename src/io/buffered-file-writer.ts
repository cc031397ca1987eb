// Appends bytes to a file through one buffer, flushed when full and on close, so
// writing a capture costs one system call per megabyte rather than one per packet.

import { closeSync, openSync, writeSync } from "node:fs";

export class BufferedFileWriter {
  buf: Uint8Array;
  view: DataView;
  /** Bytes of `buf` filled and not yet written. */
  pos = 0;
  private fd: number;

  constructor(path: string, bufferBytes = 1 << 20) {
    this.fd = openSync(path, "w");
    this.buf = new Uint8Array(bufferBytes);
    this.view = new DataView(this.buf.buffer);
  }

  /** Makes room for `n` more bytes at `pos` (flushing, or growing for an outsized record). */
  reserve(n: number): void {
    if (this.fd < 0) throw new Error("capture writer is closed");
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) {
      this.buf = new Uint8Array(n);
      this.view = new DataView(this.buf.buffer);
    }
  }

  /** Copies bytes at `pos` (after `reserve`) and advances. */
  put(src: Uint8Array, offset: number, length: number): void {
    this.buf.set(src.subarray(offset, offset + length), this.pos);
    this.pos += length;
  }

  /** Zero bytes up to the next multiple of 4 of `length` (pcapng padding). */
  pad4(length: number): void {
    const padding = (4 - (length & 3)) & 3;
    this.buf.fill(0, this.pos, this.pos + padding);
    this.pos += padding;
  }

  flush(): void {
    let written = 0;
    while (written < this.pos) written += writeSync(this.fd, this.buf, written, this.pos - written);
    this.pos = 0;
  }

  /** Flushes and closes; idempotent. */
  close(): void {
    if (this.fd < 0) return;
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }
}
