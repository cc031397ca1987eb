// Zod issues as PolicyProblems: a JSON path and a plain sentence. Zod's default
// wording ("Invalid input: expected string, received undefined") is turned into what
// a person editing the file needs to read.

import type { z } from "zod";
import { childPath, formatPath } from "./json-path.ts";
import type { PolicyProblem } from "../model/model.ts";

export function problemsFromZod(error: z.ZodError): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  for (const issue of error.issues) {
    const path = formatPath(issue.path);
    if (issue.code === "unrecognized_keys") {
      // One problem per unknown key, pointing at the key itself: usually a typo.
      for (const key of issue.keys) problems.push({ path: childPath(path, key), message: `unknown field "${key}"` });
    } else if (issue.code === "invalid_type" && /received undefined$/.test(issue.message)) {
      problems.push({ path, message: `required field is missing (expected ${article(issue.expected)})` });
    } else if (issue.code === "invalid_type") {
      const received = /received (\w+)$/.exec(issue.message)?.[1] ?? "something else";
      problems.push({ path, message: `expected ${article(issue.expected)}, found ${article(received)}` });
    } else if (issue.code === "invalid_value") {
      problems.push({ path, message: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}` });
    } else {
      problems.push({ path, message: issue.message });
    }
  }
  return problems;
}

function article(typeName: string): string {
  if (typeName === "array") return "a list";
  if (typeName === "object") return "an object";
  if (typeName === "undefined" || typeName === "null") return typeName;
  return /^[aeiou]/.test(typeName) ? `an ${typeName}` : `a ${typeName}`;
}
