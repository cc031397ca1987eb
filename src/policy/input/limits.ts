// The bounds on a policy document, checked before anything is built from it. A hostile
// (or broken) file must be refused with a sentence, not by running out of memory: a
// 0.9 MB YAML file whose 100,000-name list is aliased 999 times is 100 million values
// once the importers copy it. The parser keeps an alias as a second reference to one
// object, so the document itself stays small; what is bounded is the document as the
// importers will see it, every alias counted as the values it repeats.
//
// The numbers sit far above real accounts: the ~50 MB generated account of
// scripts/make-large-policy.ts (140,000 peers) has about 3.1 million values.

import { PolicyError } from "../model/model.ts";
import { childPath } from "./json-path.ts";
import { formatCount } from "../../text/numbers.ts";

/** Largest policy file (or text), in bytes: 128 MiB. */
export const MAX_POLICY_BYTES = 128 * 1024 * 1024;
/** Most values (mappings, lists, scalars; keys not counted) in a document, each alias counted as the values it repeats. */
export const MAX_POLICY_NODES = 10_000_000;
/** Most values that aliases may repeat in one document, all aliases together. */
export const MAX_ALIAS_EXPANSION = 1_000_000;
/** Deepest nesting of mappings and lists (a real account nests about 6 deep). */
export const MAX_POLICY_DEPTH = 100;

const LIMITS_DOC = 'see "Limits" in docs/policy-format.md';
const count = formatCount;

/** A file (or text) longer than MAX_POLICY_BYTES is refused before it is read or parsed. */
export function checkPolicySize(bytes: number, sourceName: string): void {
  if (bytes > MAX_POLICY_BYTES) {
    throw limitError("$", `the file is ${count(bytes)} bytes, over the limit of ${count(MAX_POLICY_BYTES)} bytes (128 MiB) for a policy; ${LIMITS_DOC}`, sourceName);
  }
}

/** Where the aliases of a YAML document are: for each object an alias repeats, the text offsets of those aliases, in document order. */
export type AliasOffsets = Map<object, number[]>;

/**
 * Walks a parsed document (JSON or YAML) in document order, counting its values as the
 * importers will see them, and throws a PolicyError at the first bound exceeded, naming
 * the JSON path (and, for an alias, its line). `aliases` (YAML only) says which objects
 * are repeated; each is sized once, so the walk is linear in the size of the text.
 */
export function checkDocumentLimits(document: unknown, sourceName: string, text: string, aliases: AliasOffsets = new Map()): void {
  const sizes = new Map<object, number>();
  const aliasesSeen = new Map<object, number>();
  const steps: (string | number)[] = [];
  let nodes = 0;
  let repeated = 0;
  const pathHere = (): string => steps.reduce<string>(childPath, "$");

  const visit = (value: unknown, depth: number): number => {
    if (value === null || typeof value !== "object") {
      if (++nodes > MAX_POLICY_NODES) tooMany();
      return 1;
    }
    const offsets = aliases.get(value);
    if (offsets !== undefined) {
      const size = sizes.get(value);
      if (size !== undefined) {
        // Seen before: this occurrence is an alias repeating `size` values.
        const n = aliasesSeen.get(value) ?? 0;
        aliasesSeen.set(value, n + 1);
        nodes += size;
        repeated += size;
        if (repeated > MAX_ALIAS_EXPANSION || nodes > MAX_POLICY_NODES) aliasTooBig(offsets[n], size);
        return size;
      }
    }
    if (depth >= MAX_POLICY_DEPTH) {
      throw limitError(pathHere(), `nested more than ${MAX_POLICY_DEPTH} levels deep, the limit for a policy; ${LIMITS_DOC}`, sourceName);
    }
    if (++nodes > MAX_POLICY_NODES) tooMany();
    let size = 1;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        steps.push(i);
        size += visit(value[i], depth + 1);
        steps.pop();
      }
    } else {
      for (const key of Object.keys(value)) {
        steps.push(key);
        size += visit((value as Record<string, unknown>)[key], depth + 1);
        steps.pop();
      }
    }
    if (offsets !== undefined) sizes.set(value, size);
    return size;
  };

  const tooMany = (): never => {
    throw limitError(pathHere(), `the document has more than ${count(MAX_POLICY_NODES)} values, the limit for a policy; ${LIMITS_DOC}`, sourceName);
  };

  const aliasTooBig = (offset: number | undefined, size: number): never => {
    const where = offset === undefined ? "" : `line ${lineAt(text, offset)}: `;
    const name = offset === undefined ? "this alias" : `alias ${/^\*[^\s,[\]{}]*/.exec(text.slice(offset, offset + 200))?.[0] ?? "*"}`;
    const bound = repeated > MAX_ALIAS_EXPANSION ? `aliases may repeat ${count(MAX_ALIAS_EXPANSION)} values in all` : `a policy may have ${count(MAX_POLICY_NODES)} values in all`;
    throw limitError(pathHere(), `${where}${name} repeats ${count(size)} values, past the limit (${bound}); ${LIMITS_DOC}`, sourceName);
  };

  visit(document, 0);
}

/** 1-based line of a text offset (only computed for an error). */
function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

function limitError(path: string, message: string, sourceName: string): PolicyError {
  return new PolicyError([{ path, message }], sourceName);
}
