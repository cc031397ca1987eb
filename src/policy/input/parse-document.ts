// Text to a plain document: JSON when the first non-blank character is "{", YAML
// otherwise (YAML is what people write by hand). Syntax errors name line and column;
// an empty file or a top level that is not an object is refused with a clear sentence.
// Every document is held to the bounds of limits.ts before anything is built from it.
//
// YAML is read with js-yaml (YAML 1.2, core schema), which builds plain objects
// straight from the text: a 50 MB file costs about 360 MB and two seconds, where a
// parser that first builds a syntax tree and a document model (the yaml package)
// took over 3.8 GB and a minute.

import { readFileSync, statSync } from "node:fs";
import { CORE_SCHEMA, load as loadYaml, YAMLException, type State } from "js-yaml";
import { parse as parseJsonc, type ParseError } from "jsonc-parser";
import { checkDocumentLimits, checkPolicySize, MAX_POLICY_DEPTH, type AliasOffsets } from "./limits.ts";
import { systemReason } from "../../io/system-reason.ts";
import { PolicyError } from "../model/model.ts";
import { PolicyFileError } from "./policy-file-error.ts";

export type DocumentObject = Record<string, unknown>;

/** Read a file as UTF-8 text; an unreadable file is a PolicyFileError, an oversized one a PolicyError naming it. */
export function readTextFile(path: string): string {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (err) {
    throw unreadable(path, err);
  }
  // Before reading: a file past the bound is refused without being loaded.
  checkPolicySize(size, path);
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw unreadable(path, err);
  }
}

function unreadable(path: string, err: unknown): PolicyFileError {
  return new PolicyFileError(path, systemReason(err));
}

/** Parse JSON or YAML text whose top level must be an object (mapping). */
export function parseDocumentText(text: string, sourceName: string, what = "policy"): DocumentObject {
  checkPolicySize(text.length, sourceName);
  const withoutBom = text.replace(/^\uFEFF/, "");
  const trimmed = withoutBom.trim();
  if (trimmed === "") throw new PolicyError([{ path: "$", message: `the file is empty; expected a ${what} object` }], sourceName);
  const value = trimmed.startsWith("{") ? parseJson(withoutBom, sourceName) : parseYaml(withoutBom, sourceName);
  if (value === null || value === undefined || typeof value !== "object" || Array.isArray(value)) {
    const found = value === null || value === undefined ? "nothing (null)" : Array.isArray(value) ? "a list" : `a ${typeof value}`;
    throw new PolicyError([{ path: "$", message: `the top level must be a ${what} object (a mapping of keys), but it is ${found}` }], sourceName);
  }
  return value as DocumentObject;
}

function parseJson(text: string, sourceName: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const message = (err instanceof Error ? err.message : String(err)).split("\n")[0];
    // Drop the offset (given as line and column instead) and V8's quote of the whole text.
    const reason = message.replace(/,? (in JSON )?at position \d+.*$/, "").replace(/, (\.\.\.)?".*$/, "").slice(0, 120);
    throw new PolicyError([{ path: "$", message: `JSON syntax error${jsonErrorLocation(text)}: ${reason}` }], sourceName);
  }
  checkDocumentLimits(value, sourceName, text);
  return value;
}

/**
 * V8 reports some JSON errors with a character offset ("at position 42") and some with
 * none; people need a line and column. jsonc-parser (strict: no comments, no trailing
 * commas) says where the first mistake is.
 */
function jsonErrorLocation(text: string): string {
  const errors: ParseError[] = [];
  parseJsonc(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  if (errors.length === 0) return "";
  const before = text.slice(0, errors[0].offset);
  const line = before.split("\n").length;
  return ` at line ${line}, column ${before.length - before.lastIndexOf("\n")}`;
}

function parseYaml(text: string, sourceName: string): unknown {
  const aliases: AliasOffsets = new Map();
  const opened: number[] = [];
  let value: unknown;
  try {
    value = loadYaml(text, {
      filename: sourceName,
      schema: CORE_SCHEMA,
      // @ts-expect-error js-yaml 4.3 reads maxDepth; the type definitions predate it.
      maxDepth: MAX_POLICY_DEPTH,
      // An alias becomes a second reference to its anchor's object; the listener notes
      // where each one is, so the limit check can name the line of one that repeats too much.
      listener: (event: string, state: State) => {
        if (event === "open") opened.push(state.position);
        else {
          const at = opened.pop() ?? 0;
          // An alias is the one node that ends with no kind of its own and a value (an empty node has none).
          if (state.kind === null && state.result !== null && typeof state.result === "object") {
            const offset = aliasStart(text, at);
            const list = aliases.get(state.result);
            if (list === undefined) aliases.set(state.result as object, [offset]);
            else list.push(offset);
          }
        }
      },
    });
  } catch (err) {
    if (!(err instanceof YAMLException)) throw err;
    const at = err.mark;
    const where = at ? ` at line ${at.line + 1}, column ${at.column + 1}` : "";
    throw new PolicyError([{ path: "$", message: `YAML syntax error${where}: ${err.reason}` }], sourceName);
  }
  checkDocumentLimits(value, sourceName, text, aliases);
  return value;
}

/** The offset of the "*" of an alias node that starts at or after `from` (past spaces, line breaks and comments). */
function aliasStart(text: string, from: number): number {
  let i = from;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
    else if (c === 0x23 /* # */) {
      const end = text.indexOf("\n", i);
      if (end === -1) return i;
      i = end + 1;
    } else return i;
  }
}
