// Watches the policy file and calls back once per burst of changes. The directory is
// watched, not the file: editors and config managers often replace the file (write a
// temporary, rename over), which ends a watch on the old inode.

import { watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";

export class PolicyWatcher {
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly path: string,
    private readonly onChange: () => void,
    /** Quiet time after the last event before reloading, so a half-written file is not read. */
    private readonly debounceMs = 200,
  ) {}

  start(): void {
    const name = basename(this.path);
    this.watcher = watch(dirname(this.path), { persistent: true }, (_event, filename) => {
      if (filename !== null && filename !== name) return;
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.timer = null;
        this.onChange();
      }, this.debounceMs);
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
}
