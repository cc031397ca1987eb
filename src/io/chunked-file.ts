// Sequential reads of a file through one fixed buffer, so a capture of any size is read
// in bounded memory. Readers ask for `ensure(n)` bytes at `pos`; when they are not all
// in the buffer, the unread remainder moves to the front and the rest is refilled. A
// record bigger than the buffer grows it once (callers bound record sizes first).
// Reads are sequential (no positions), so pipes such as /dev/stdin work too.

import { closeSync, openSync, readSync } from "node:fs";

export class ChunkedFile {
  /** The buffer; replaced (rarely) when it grows, so re-read it after `ensure`. */
  buf: Uint8Array;
  /** A view over `buf` for multi-byte fields in either byte order. */
  view: DataView;
  /** Index in `buf` of the next unconsumed byte. */
  pos = 0;
  /** Index in `buf` just past the last byte read from the file. */
  end = 0;
  /** File offset of `buf[0]`. */
  private bufFileOffset = 0;
  private fd: number;
  private atEof = false;

  constructor(path: string, chunkSize: number) {
    this.fd = openSync(path, "r");
    this.buf = new Uint8Array(chunkSize);
    this.view = new DataView(this.buf.buffer);
  }

  /** File offset of the byte at `pos`. */
  get fileOffset(): number {
    return this.bufFileOffset + this.pos;
  }

  /** Bytes from `pos` to the end of what has been read so far. */
  get buffered(): number {
    return this.end - this.pos;
  }

  /** Makes `n` bytes available from `pos`; false when the file ends first. */
  ensure(n: number): boolean {
    if (this.end - this.pos >= n) return true;
    return this.refill(n);
  }

  /** Consumes `n` bytes, reading past the buffer when needed; false when the file ends first. */
  skip(n: number): boolean {
    while (this.end - this.pos < n) {
      n -= this.end - this.pos;
      this.pos = this.end;
      if (!this.refill(1)) return false;
    }
    this.pos += n;
    return true;
  }

  close(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }

  private refill(n: number): boolean {
    if (this.pos > 0) {
      this.buf.copyWithin(0, this.pos, this.end);
      this.bufFileOffset += this.pos;
      this.end -= this.pos;
      this.pos = 0;
    }
    if (n > this.buf.length) this.grow(n);
    if (this.fd < 0) throw new Error("capture file is closed");
    while (this.end < n && !this.atEof) {
      const got = readSync(this.fd, this.buf, this.end, this.buf.length - this.end, null);
      if (got === 0) this.atEof = true;
      this.end += got;
    }
    return this.end >= n;
  }

  private grow(n: number): void {
    const bigger = new Uint8Array(Math.max(n, this.buf.length * 2));
    bigger.set(this.buf.subarray(0, this.end));
    this.buf = bigger;
    this.view = new DataView(bigger.buffer);
  }
}
