// Version comparison for posture checks (NetBird agent versions, OS and kernel versions).
// NetBird compares with hashicorp/go-version after cutting anything from the first "-"
// (pre-release and build tags: "0.28.0-dev", "6.1.0-18-amd64"). We do the same, numerically
// segment by segment, so "0.9.0" < "0.10.0" and a missing segment counts as 0 ("6.1" == "6.1.0").

/** The numeric segments of a version ("v0.28.4-dev" -> [0, 28, 4]), or null when it is not a version. */
export function parseVersion(text: string | undefined): number[] | null {
  if (text === undefined) return null;
  const core = text.trim().replace(/^v/i, "").split("-")[0].split("+")[0];
  if (!/^[0-9]+(\.[0-9]+)*$/.test(core)) return null;
  return core.split(".").map(Number);
}

/** Negative, zero or positive as a is older than, equal to or newer than b. */
export function compareVersionSegments(a: number[], b: number[]): number {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** Compare two version texts; throws when either is not a version. */
export function compareVersions(a: string, b: string): number {
  const left = parseVersion(a);
  const right = parseVersion(b);
  if (!left) throw new Error(`"${a}" is not a version`);
  if (!right) throw new Error(`"${b}" is not a version`);
  return compareVersionSegments(left, right);
}

/** Why `actual` does not meet `minimum`, or null when it does. A missing or unreadable version fails. */
export function versionShortfall(actual: string | undefined, minimum: string, what: string): string | null {
  const min = parseVersion(minimum);
  if (!min) return `the check's minimum ${what} "${minimum}" is not a version`;
  if (actual === undefined || actual.trim() === "") return `the peer reports no ${what}`;
  const have = parseVersion(actual);
  if (!have) return `the peer's ${what} "${actual}" is not a version`;
  if (compareVersionSegments(have, min) < 0) return `${what} ${actual} is older than the minimum ${minimum}`;
  return null;
}
