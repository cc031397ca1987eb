// Loading a policy: file -> text -> document -> Account, for both input formats
// (NetBird management export, meshfilter's own format; JSON or YAML). A policy with
// problems is never returned: PolicyError carries every problem found, each with a
// JSON path into the file.
//
// Each collection item is first checked for its shape (zod: types, required fields,
// allowed values, unknown fields in meshfilter's format); the items that pass are
// imported and the whole account is checked for meaning (validateAccount: references,
// addresses, ports, rules). Both kinds of problems are reported together.

import { detectFormat, firstIdPath, hasItemWithoutId } from "./detect-format.ts";
import { identifyMeshfilterItem, importMeshfilterDocument, unknownTopLevelKeys } from "./meshfilter/meshfilter-format.ts";
import { PolicyError, type Account, type PolicyProblem } from "../model/model.ts";
import { identifyNetBirdItem, importNetBirdExport } from "./netbird/netbird-import.ts";
import { findUnknownInExport } from "./netbird/netbird-unknown.ts";
import { ensureAllGroup, normalizeAccount } from "../model/normalize.ts";
import { parseCollections, type Unusable } from "./parse-collections.ts";
import { parseDocumentText, readTextFile, type DocumentObject } from "./parse-document.ts";
import { meshfilterCollections } from "./meshfilter/schema-meshfilter.ts";
import { netbirdCollections } from "./netbird/schema-netbird.ts";
import { locatePaths } from "./problem-location.ts";
import { SourceMap } from "./source-map.ts";
import { validateAccount } from "../model/validate.ts";

/** Load a policy file (JSON or YAML, NetBird export or meshfilter format, detected). Throws PolicyError. */
export function loadPolicyFile(path: string): Account {
  return parsePolicyText(readTextFile(path), path);
}

/** Parse policy text; `sourceName` (a file name) is used in error messages. Throws PolicyError. */
export function parsePolicyText(text: string, sourceName: string): Account {
  const doc = parseDocumentText(text, sourceName);
  const format = detectFormat(doc);
  if (format === "unknown") {
    throw new PolicyError([{ path: "$.format", message: `unknown format ${JSON.stringify(doc.format)}; use "meshfilter/v1" or "netbird"` }], sourceName);
  }
  const where = new SourceMap();
  const read = format === "netbird" ? readNetBirdExport(doc, where) : readMeshfilterDocument(doc, where);
  ensureAllGroup(read.account);
  const problems = [...read.problems, ...validateAccount(read.account, where, read.unusable)];
  if (problems.length > 0) {
    const sorted = sortByDocumentOrder(problems, doc);
    throw new PolicyError(sorted, sourceName, locatePaths(text, sorted.map((p) => p.path)));
  }
  return normalizeAccount(read.account);
}

/** An account as read, before the semantic checks: what could be read, and what could not. */
interface ReadResult {
  account: Account;
  problems: PolicyProblem[];
  unusable: Unusable;
}

function readNetBirdExport(doc: DocumentObject, where: SourceMap): ReadResult {
  const { collections, problems, unusable } = parseCollections(doc, netbirdCollections, identifyNetBirdItem);
  const imported = importNetBirdExport(collections, where, findUnknownInExport(doc));
  if (problems.length > 0) problems.push(...detectionHint(doc));
  return { account: imported.account, problems: [...problems, ...imported.problems], unusable };
}

function readMeshfilterDocument(doc: DocumentObject, where: SourceMap): ReadResult {
  const { collections, problems, unusable } = parseCollections(doc, meshfilterCollections, identifyMeshfilterItem);
  return { account: importMeshfilterDocument(collections, where), problems: [...unknownTopLevelKeys(doc), ...problems], unusable };
}

/**
 * A meshfilter file with one stray `id` is read as a NetBird export and fails in
 * puzzling ways; when the format was guessed and the document mixes items with and
 * without ids (which real exports never do), say why it was guessed.
 */
function detectionHint(doc: DocumentObject): PolicyProblem[] {
  const idPath = firstIdPath(doc);
  if (doc.format !== undefined || idPath === undefined || !hasItemWithoutId(doc)) return [];
  return [{ path: idPath, message: 'this "id" field made the file read as a NetBird export; meshfilter\'s format has no ids (add "format: meshfilter/v1" to say which it is)' }];
}

/**
 * Problems in the order of the document: by collection as the file lists them, then by
 * item; within one item, shape problems come before meaning problems.
 */
function sortByDocumentOrder(problems: PolicyProblem[], doc: DocumentObject): PolicyProblem[] {
  const collectionRank = new Map(Object.keys(doc).map((key, rank) => [key, rank]));
  const keyOf = (path: string): [number, number] => {
    const match = /^\$\.(\w+)(?:\[(\d+)\])?/.exec(path);
    if (!match) return [-1, -1];
    return [collectionRank.get(match[1]) ?? -1, match[2] === undefined ? -1 : Number(match[2])];
  };
  return problems
    .map((problem, order) => ({ problem, order, key: keyOf(problem.path) }))
    .sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || a.order - b.order)
    .map((entry) => entry.problem);
}
