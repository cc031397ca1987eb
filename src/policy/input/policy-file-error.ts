// A policy file that cannot be read (missing, no permission, a directory): one line
// naming the file and the system's reason. A PolicyError, so every caller that rejects a
// bad policy (the agent keeps the one in force) rejects this one the same way.

import { PolicyError } from "../model/model.ts";

export class PolicyFileError extends PolicyError {
  constructor(
    /** The path as given. */
    readonly path: string,
    /** What the system said, e.g. "no such file or directory (ENOENT)". */
    readonly reason: string,
  ) {
    super([{ path: "$", message: `cannot read the file: ${reason}` }], path);
    this.name = "PolicyFileError";
    this.message = `cannot read policy file ${path}: ${reason}`;
  }
}
