// Text to a plain document: JSON when the first non-blank character is "{", YAML
// otherwise (YAML is what people write by hand). Syntax errors name line and column;
// an empty file or a top level that is not an object is refused with a clear sentence.

import { readFileSync } from "node:fs";
import { parseDocument as parseYamlDocument } from "yaml";
import { PolicyError } from "./model.ts";

export type DocumentObject = Record<string, unknown>;

/** Read a file as UTF-8 text; an unreadable file becomes a PolicyError naming it. */
export function readTextFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new PolicyError([{ path: "$", message: `cannot read the file: ${reason}` }], path);
  }
}

/** Parse JSON or YAML text whose top level must be an object (mapping). */
export function parseDocumentText(text: string, sourceName: string, what = "policy"): DocumentObject {
  const withoutBom = text.replace(/^\uFEFF/, "");
  const trimmed = withoutBom.trim();
  if (trimmed === "") throw new PolicyError([{ path: "$", message: `the file is empty; expected a ${what} object` }], sourceName);
  const value = trimmed.startsWith("{") ? parseJson(withoutBom, sourceName) : parseYaml(withoutBom, sourceName);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const found = value === null ? "nothing (null)" : Array.isArray(value) ? "a list" : `a ${typeof value}`;
    throw new PolicyError([{ path: "$", message: `the top level must be a ${what} object (a mapping of keys), but it is ${found}` }], sourceName);
  }
  return value as DocumentObject;
}

function parseJson(text: string, sourceName: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err instanceof Error ? err.message : String(err)).split("\n")[0];
    // Drop the offset (given as line and column instead) and V8's quote of the whole text.
    const reason = message.replace(/,? (in JSON )?at position \d+.*$/, "").replace(/, ".*$/, "").slice(0, 120);
    throw new PolicyError([{ path: "$", message: `JSON syntax error${jsonErrorLocation(text, message)}: ${reason}` }], sourceName);
  }
}

/**
 * V8 reports some JSON errors with a character offset ("at position 42") and some with
 * none; people need a line and column. Without an offset, the YAML parser (JSON is
 * YAML 1.2) is asked where the mistake is.
 */
function jsonErrorLocation(text: string, message: string): string {
  const position = /at position (\d+)/.exec(message);
  if (position) {
    const before = text.slice(0, Number(position[1]));
    const line = before.split("\n").length;
    return ` at line ${line}, column ${before.length - before.lastIndexOf("\n")}`;
  }
  const at = parseYamlDocument(text, { prettyErrors: true }).errors[0]?.linePos?.[0];
  return at ? ` at line ${at.line}, column ${at.col}` : "";
}

function parseYaml(text: string, sourceName: string): unknown {
  const document = parseYamlDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    const problems = document.errors.map((error) => {
      const at = error.linePos?.[0];
      const where = at ? ` at line ${at.line}, column ${at.col}` : "";
      return { path: "$", message: `YAML syntax error${where}: ${plainYamlMessage(error.message)}` };
    });
    throw new PolicyError(problems, sourceName);
  }
  try {
    // Aliases are resolved here: an unknown anchor, or too many aliases (a "billion
    // laughs" document), is only found now.
    return document.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new PolicyError([{ path: "$", message: `YAML error: ${reason}` }], sourceName);
  }
}

/** The yaml package appends " at line L, column C:" and a code excerpt; the location is already given. */
function plainYamlMessage(message: string): string {
  return message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
}
