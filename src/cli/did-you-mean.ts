// "did you mean ...?" for a mistyped command, flag or peer name: the closest known name by
// Levenshtein distance (the `leven` package), when it is close enough to be a typo.

import leven from "leven";

/**
 * The known name closest to `typed`, or undefined when none is plausibly meant: within a
 * third of the typed length (at least 1, at most 3 edits), or a name the typed text starts
 * or is the start of, from 3 characters on (`--pol` for `--policy`).
 */
export function closest(typed: string, known: Iterable<string>): string | undefined {
  const lower = typed.toLowerCase();
  const limit = Math.min(3, Math.max(1, Math.floor(typed.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of known) {
    const candidate = name.toLowerCase();
    const prefix = lower.length >= 3 && (candidate.startsWith(lower) || lower.startsWith(candidate));
    const distance = prefix ? 0.5 : leven(lower, candidate, { maxDistance: limit + 1 });
    if (distance <= limit && distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  return best;
}

/** " (did you mean X?)" for a message, or "" when nothing is close. */
export function didYouMean(typed: string, known: Iterable<string>, format: (name: string) => string = (n) => n): string {
  const match = closest(typed, known);
  return match === undefined ? "" : ` (did you mean ${format(match)}?)`;
}
