// The exit codes of every meshfilter command: one table, the same meaning everywhere.
// The README's "Exit codes" section lists the same table; test/cli checks they agree.

/** The command did what was asked (lint: no error-level finding; explain: accept or drop). */
export const EXIT_OK = 0;
/**
 * A failure of the work itself: a capture that cannot be read or is corrupt or truncated
 * part way (replay prints the summary so far), a device, interface or network that fails,
 * an agent that cannot be reached; and lint's "an error-level finding exists", so CI can
 * gate on it.
 */
export const EXIT_FAILURE = 1;
/**
 * Bad usage or bad input: an unknown command or flag, a missing or malformed value, a
 * policy or config file that cannot be read or fails validation, a peer the policy does
 * not have, a query that cannot be read, an output file that cannot be written.
 */
export const EXIT_USAGE = 2;
/** Stopped by Ctrl-C (SIGINT) before the work was done: 128 + SIGINT, as shells report it. */
export const EXIT_INTERRUPTED = 130;

/** The table as printed by `meshfilter help` and documented in the README. */
export const EXIT_CODE_TABLE: readonly (readonly [number, string])[] = [
  [EXIT_OK, "ok"],
  [EXIT_FAILURE, "the work failed (capture, device, network, agent), or lint found an error"],
  [EXIT_USAGE, "bad usage or bad input (flags, policy or config file, peer, query, output file)"],
  [EXIT_INTERRUPTED, "interrupted by Ctrl-C (SIGINT) before the work was done"],
];
