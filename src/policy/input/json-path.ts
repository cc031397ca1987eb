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
