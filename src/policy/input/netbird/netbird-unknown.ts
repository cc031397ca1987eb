// What a newer NetBird may add to an export, found by comparing the document with the
// API's field lists (netbird-api-fields.ts). A field meshfilter does not know changes
// nothing it compiles, so it is a warning naming its JSON path; a posture check of an
// unknown kind would change which peers may connect, so it is reported per check, and
// the importer rejects the policies that use it (see netbird-import.ts).

import { childPath } from "../json-path.ts";
import type { PolicyProblem } from "../../model/model.ts";
import { EXPORT_EXTRA_FIELDS, NETBIRD_API_FIELDS, type NetBirdObjectKind } from "./netbird-api-fields.ts";
import type { DocumentObject } from "../parse-document.ts";

export interface UnknownInExport {
  /** Unknown fields and top-level keys: warnings. */
  warnings: PolicyProblem[];
  /** Posture check id -> the unknown check kind in it, with its path. */
  unknownChecks: Map<string, PolicyProblem>;
}

/** Each collection's object kind in the API. */
const COLLECTION_KINDS: Record<string, NetBirdObjectKind> = {
  peers: "Peer",
  groups: "Group",
  users: "User",
  setup_keys: "SetupKey",
  posture_checks: "PostureCheck",
  policies: "Policy",
  networks: "Network",
  network_resources: "NetworkResource",
  network_routers: "NetworkRouter",
  routes: "Route",
};

/** Objects nested in a kind, by field: a list of objects or one object. */
const NESTED: Partial<Record<NetBirdObjectKind, Record<string, NetBirdObjectKind>>> = {
  Peer: { local_flags: "PeerLocalFlags" },
  Policy: { rules: "PolicyRule" },
  PostureCheck: { checks: "Checks" },
  Network: { resources: "NetworkResource", routers: "NetworkRouter" },
};

/** Top-level keys an export may have besides the collections: the format marker (detect-format.ts). */
const EXPORT_KEYS = new Set(["format"]);

export function findUnknownInExport(doc: DocumentObject): UnknownInExport {
  const found: UnknownInExport = { warnings: [], unknownChecks: new Map() };
  for (const [key, items] of Object.entries(doc)) {
    const kind = COLLECTION_KINDS[key];
    if (kind === undefined) {
      if (!EXPORT_KEYS.has(key)) found.warnings.push({ path: childPath("$", key), message: `unknown collection "${key}" (from a newer NetBird?); ignored` });
      continue;
    }
    if (!Array.isArray(items)) continue; // reported by the shape check
    items.forEach((item, i) => visit(item, kind, childPath(childPath("$", key), i), found, item));
  }
  return found;
}

function visit(value: unknown, kind: NetBirdObjectKind, path: string, found: UnknownInExport, item: unknown): void {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return;
  const known = new Set<string>([...NETBIRD_API_FIELDS[kind], ...(EXPORT_EXTRA_FIELDS[kind] ?? [])]);
  for (const [field, child] of Object.entries(value)) {
    const at = childPath(path, field);
    if (!known.has(field)) {
      if (kind === "Checks") {
        const id = (item as { id?: unknown }).id;
        if (typeof id === "string") found.unknownChecks.set(id, { path: at, message: `unknown posture check kind "${field}" (from a newer NetBird?): meshfilter cannot tell which peers pass it` });
      } else {
        found.warnings.push({ path: at, message: `unknown field "${field}" (from a newer NetBird?); ignored` });
      }
      continue;
    }
    const nested = NESTED[kind]?.[field];
    if (nested === undefined) continue;
    if (Array.isArray(child)) child.forEach((c, j) => visit(c, nested, childPath(at, j), found, item));
    else visit(child, nested, at, found, item);
  }
}
