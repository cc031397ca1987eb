// The one error type of the output files (--verdicts, --write-dropped, captures a
// script writes): which file, and the operating system's reason, in one line. A full
// disk or a missing permission is the user's to fix, so it must name the output, not
// just say "ENOSPC".

import { systemReason } from "./system-reason.ts";

export class OutputError extends Error {
  override readonly name = "OutputError";

  constructor(
    /** The output file's path, as given. */
    readonly path: string,
    /** What the system said, e.g. "no space left on device (ENOSPC)". */
    readonly reason: string,
    /** The errno code ("ENOSPC", "EACCES", ...), when there is one. */
    readonly code: string | undefined,
  ) {
    super(`cannot write ${path}: ${reason}`);
  }
}

/**
 * Wraps a failed open, write or close of `path`. Node's messages read
 * "ENOSPC: no space left on device, write"; the reason keeps the description and the
 * code and drops the syscall (and the path, which the message names already).
 */
export function outputError(path: string, err: unknown): OutputError {
  return new OutputError(path, systemReason(err), (err as NodeJS.ErrnoException).code);
}
