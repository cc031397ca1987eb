// Watches the policy file and calls back once the file is complete. The directory is
// watched, not the file: editors and config managers often replace the file (write a
// temporary, rename over), which ends a watch on the old inode.
//
// When is a file complete? Nothing tells a reader that a writer is done, so:
// - a file that replaced the old one (a new inode: renamed over it, the safe way to
//   write a policy) is complete as soon as its size and mtime hold over two looks a
//   short burst apart: rename is atomic, the new file was written before it appeared;
// - a file changed in place (same inode) is complete when its size and mtime have not
//   changed for the settle time (default 2 s). A writer that pauses longer than that
//   between two parts still gets its first part read: write a temporary and rename it.
// A half-written file is mostly invalid and rejected, but it can be valid and allow
// less than the whole file, which would cut connections the whole file allows (P14).

import { statSync, watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";

/** How long a file changed in place must keep its size and mtime before it is read. */
export const DEFAULT_SETTLE_MS = 2000;
/** Events within this gap are one burst; a replaced file is read after two equal looks this far apart. */
const BURST_MS = 50;

interface FileStamp {
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

export class PolicyWatcher {
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The file as last handed to onChange (or found at start): an in-place change keeps its inode. */
  private applied: FileStamp | null = null;
  /** The file as last looked at, and since when it has looked so. */
  private seen: FileStamp | null = null;
  private seenSince = 0;

  constructor(
    private readonly path: string,
    private readonly onChange: () => void,
    /** Quiet time a file changed in place must keep its size and mtime before it is read. */
    private readonly settleMs = DEFAULT_SETTLE_MS,
  ) {}

  start(): void {
    const name = basename(this.path);
    this.applied = stampOf(this.path);
    this.watcher = watch(dirname(this.path), { persistent: true }, (_event, filename) => {
      if (filename !== null && filename !== name) return;
      this.schedule(Math.min(BURST_MS, this.settleMs));
    });
    this.watcher.on("error", () => {
      // The directory went away; nothing to watch any more, the running policy stays.
      this.close();
    });
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.watcher?.close();
    this.watcher = null;
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(this.look, ms);
  }

  private readonly look = (): void => {
    this.timer = null;
    if (this.watcher === null) return;
    const now = Date.now();
    const stamp = stampOf(this.path);
    if (stamp === null) return; // removed (or mid-rename): the next event looks again
    if (this.applied !== null && sameStamp(stamp, this.applied)) return; // nothing new (an event for the directory entry only)
    if (this.seen === null || !sameStamp(stamp, this.seen)) {
      this.seen = stamp;
      this.seenSince = now;
    }
    const replaced = this.applied === null || this.applied.ino !== stamp.ino;
    const needed = replaced ? Math.min(BURST_MS, this.settleMs) : this.settleMs;
    const held = now - this.seenSince;
    if (held < needed) {
      this.schedule(needed - held);
      return;
    }
    this.applied = stamp;
    this.seen = null;
    this.onChange();
  };
}

function stampOf(path: string): FileStamp | null {
  try {
    const s = statSync(path);
    return { ino: s.ino, size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs };
  } catch {
    return null;
  }
}

function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}
