// Appends bytes to a file through one buffer, flushed when full and on close, so
// writing a capture or a verdict stream costs one system call per megabyte rather than
// one per packet. Every failure of the file (cannot open, disk full, closed under us)
// is an OutputError naming the path and the system's reason.

import { closeSync, openSync, writeSync } from "node:fs";
import { outputError } from "./output-error.ts";

export class BufferedFileWriter {
  buf: Uint8Array;
  view: DataView;
  /** Bytes of `buf` filled and not yet written. */
  pos = 0;
  private fd: number;

  /** Opens (truncates) `path`; throws OutputError when it cannot. */
  constructor(
    readonly path: string,
    bufferBytes = 1 << 20,
  ) {
    try {
      this.fd = openSync(path, "w");
    } catch (err) {
      throw outputError(path, err);
    }
    this.buf = new Uint8Array(bufferBytes);
    this.view = new DataView(this.buf.buffer);
  }

  /** Makes room for `n` more bytes at `pos` (flushing, or growing for an outsized record). */
  reserve(n: number): void {
    if (this.fd < 0) throw outputError(this.path, new Error("the file is closed"));
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

  /** Writes what is buffered. On failure the file is closed and what was buffered is dropped: the output is lost either way. */
  flush(): void {
    if (this.fd < 0) return;
    let written = 0;
    try {
      while (written < this.pos) written += writeSync(this.fd, this.buf, written, this.pos - written);
    } catch (err) {
      this.abandon();
      throw outputError(this.path, err);
    }
    this.pos = 0;
  }

  /** Flushes and closes; idempotent. Throws OutputError when the last bytes cannot be written. */
  close(): void {
    if (this.fd < 0) return;
    this.flush();
    const fd = this.fd;
    this.fd = -1;
    try {
      closeSync(fd);
    } catch (err) {
      throw outputError(this.path, err);
    }
  }

  /** Closes without writing what is buffered, and never throws: for giving up after another failure. */
  abandon(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    this.pos = 0;
    try {
      closeSync(fd);
    } catch {
      // Already failing: the first error is the one reported.
    }
  }
}
