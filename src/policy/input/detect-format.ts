// Which of the two formats a parsed document is written in.
//
// The rule: a top-level `format` key decides when present ("meshfilter/v1" or
// "netbird"). Otherwise the document is a NetBird export when any item of its
// top-level collections has an `id` field, because every object the NetBird API
// returns carries one, while meshfilter's format has no `id` anywhere (names are the
// ids). A document with no such item is read as meshfilter's format; for a document
// with only empty collections both readings give the same (empty) account.

import type { DocumentObject } from "./parse-document.ts";

export type PolicyFormat = "netbird" | "meshfilter";

const COLLECTIONS = ["peers", "groups", "users", "setup_keys", "posture_checks", "policies", "networks", "network_resources", "network_routers", "routes"];

/** The document's format: named by the `format` marker ("unknown" for an unrecognized one), else guessed by ids. */
export function detectFormat(doc: DocumentObject): PolicyFormat | "unknown" {
  const marker = doc.format;
  if (marker !== undefined) {
    if (marker === "netbird") return "netbird";
    if (marker === "meshfilter/v1") return "meshfilter";
    return "unknown";
  }
  return firstIdPath(doc) === undefined ? "meshfilter" : "netbird";
}

/** The path of the first collection item with an `id` (what makes a document a NetBird export). */
export function firstIdPath(doc: DocumentObject): string | undefined {
  for (const key of COLLECTIONS) {
    const items = doc[key];
    if (!Array.isArray(items)) continue;
    const index = items.findIndex((item) => item !== null && typeof item === "object" && "id" in item);
    if (index >= 0) return `$.${key}[${index}].id`;
  }
  return undefined;
}

/** True when some collection item has no `id`: never so in a real NetBird export. */
export function hasItemWithoutId(doc: DocumentObject): boolean {
  return COLLECTIONS.some((key) => {
    const items = doc[key];
    return Array.isArray(items) && items.some((item) => item === null || typeof item !== "object" || !("id" in item));
  });
}
