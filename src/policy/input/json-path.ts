// JSON paths ("$.policies[2].rules[0].ports[1]") for problem reports: every problem
// names where it is, in the terms of the document the user wrote.

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Append one step (a key or an array index) to a JSON path. */
export function childPath(parent: string, step: string | number): string {
  if (typeof step === "number") return `${parent}[${step}]`;
  return IDENTIFIER.test(step) ? `${parent}.${step}` : `${parent}[${JSON.stringify(step)}]`;
}

/** A JSON path from a list of steps, as zod reports them. */
export function formatPath(steps: readonly PropertyKey[]): string {
  let path = "$";
  for (const step of steps) path = childPath(path, typeof step === "symbol" ? String(step) : step);
  return path;
}

/** The steps of a JSON path made by childPath: "$.a[0][\"b c\"]" gives ["a", 0, "b c"]; undefined if it is not one. */
export function parsePath(path: string): (string | number)[] | undefined {
  if (!path.startsWith("$")) return undefined;
  const steps: (string | number)[] = [];
  const step = /\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;
  step.lastIndex = 1;
  while (step.lastIndex < path.length) {
    const m = step.exec(path);
    if (!m) return undefined;
    steps.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : (JSON.parse(m[3]) as string)));
  }
  return steps;
}
