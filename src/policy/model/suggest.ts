// A hint for an unknown reference: most are typos ("enginering") or, in NetBird
// exports edited by hand, a name written where NetBird wants an id.

/** Candidates a reference may have meant: their ids and (when different) names. */
export interface Candidate {
  id: string;
  name?: string;
}

/** " (did you mean …?)" or "" when nothing is close enough. */
export function suggestionFor(reference: string, candidates: readonly Candidate[]): string {
  const byName = candidates.find((c) => c.name === reference && c.id !== reference);
  if (byName) return `; references are ids: "${reference}" is the name of "${byName.id}"`;
  // Allow one edit for short names, two for longer ones; farther than that is a guess.
  const budget = reference.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = budget + 1;
  for (const { id } of candidates) {
    if (Math.abs(id.length - reference.length) > budget) continue;
    const distance = editDistance(reference, id, budget);
    if (distance < bestDistance) [best, bestDistance] = [id, distance];
  }
  return best === undefined ? "" : `; did you mean "${best}"?`;
}

/** Levenshtein distance, giving up (returning limit + 1) once it exceeds `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      rowMin = Math.min(rowMin, current[j]);
    }
    if (rowMin > limit) return limit + 1;
    previous = current;
  }
  return previous[b.length];
}
