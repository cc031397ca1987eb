// A document's collections, parsed item by item. One broken item (a typo in a
// protocol, a missing field) must not hide the problems of every other item: the
// items that parse are imported and checked for meaning, the ones that do not are
// reported, and references to them are not reported again as "unknown".

import type { z } from "zod";
import { childPath } from "./json-path.ts";
import type { PolicyProblem } from "../model/model.ts";
import type { DocumentObject } from "./parse-document.ts";
import { problemsFromZod } from "./zod-problems.ts";

/** A parsed item and its position in the document (for paths). */
export interface Indexed<T> {
  value: T;
  index: number;
}

export type Collections<S extends Record<string, z.ZodType>> = { [K in keyof S]: Indexed<z.output<S[K]>>[] };

/** What the ids of an item that did not parse are, so references to it are not "unknown". */
export type IdentifyItem = (collection: string, raw: unknown) => { kind: string; id: string }[];

/** Ids (by kind: "peer", "group"...) of objects the document has but that did not parse; "all" when a whole collection did not. */
export type Unusable = Map<string, Set<string> | "all">;

export interface ParsedCollections<S extends Record<string, z.ZodType>> {
  collections: Collections<S>;
  problems: PolicyProblem[];
  unusable: Unusable;
}

/** The kind of object each collection holds (both formats use the same collection names). */
export const KIND_OF_COLLECTION: Record<string, string> = {
  peers: "peer",
  users: "user",
  setup_keys: "setup key",
  groups: "group",
  networks: "network",
  network_resources: "resource",
  network_routers: "router",
  routes: "route",
  posture_checks: "posture check",
  policies: "policy",
};

/** Kinds held inside another collection's items (networks carry their resources and routers). */
const NESTED_KINDS: Record<string, string[]> = { networks: ["resource", "router"] };

export function parseCollections<S extends Record<string, z.ZodType>>(doc: DocumentObject, schemas: S, identify: IdentifyItem): ParsedCollections<S> {
  const problems: PolicyProblem[] = [];
  const unusable: Unusable = new Map();
  const collections = {} as Record<string, Indexed<unknown>[]>;
  for (const [key, schema] of Object.entries(schemas)) {
    const items = doc[key];
    collections[key] = [];
    if (items === undefined || items === null) continue; // missing collections are empty
    if (!Array.isArray(items)) {
      for (const kind of [KIND_OF_COLLECTION[key], ...(NESTED_KINDS[key] ?? [])]) unusable.set(kind, "all");
      problems.push({ path: childPath("$", key), message: `expected a list, found ${typeof items === "object" ? "an object" : `a ${typeof items}`}` });
      continue;
    }
    items.forEach((raw, index) => {
      const parsed = schema.safeParse(raw);
      if (parsed.success) {
        collections[key].push({ value: parsed.data, index });
        return;
      }
      const base = childPath(childPath("$", key), index);
      for (const p of problemsFromZod(parsed.error)) problems.push({ path: base + p.path.slice(1), message: p.message });
      for (const { kind, id } of identify(key, raw)) {
        const ids = unusable.get(kind) ?? new Set<string>();
        if (ids !== "all") unusable.set(kind, ids.add(id));
      }
    });
  }
  return { collections: collections as Collections<S>, problems, unusable };
}

/**
 * An IdentifyItem for a format: the item stands for the id `itemId` finds in it and, for a
 * network, for each inline resource's id `resourceId` finds (both formats nest resources
 * in networks; they differ in which field is the id).
 */
export function identifyItemsBy(itemId: (raw: unknown) => string | undefined, resourceId: (raw: unknown) => string | undefined): IdentifyItem {
  return (collection, raw) => {
    const found: { kind: string; id: string }[] = [];
    const id = itemId(raw);
    if (id !== undefined) found.push({ kind: KIND_OF_COLLECTION[collection], id });
    if (collection === "networks") {
      const resources = raw !== null && typeof raw === "object" ? (raw as { resources?: unknown }).resources : undefined;
      if (Array.isArray(resources)) {
        for (const r of resources) {
          const rid = resourceId(r);
          if (rid !== undefined) found.push({ kind: "resource", id: rid });
        }
      }
    }
    return found;
  };
}

/** The string value of `raw[field]`, if `raw` is an object that has one. */
export function stringField(raw: unknown, field: string): string | undefined {
  if (raw === null || typeof raw !== "object") return undefined;
  const value = (raw as Record<string, unknown>)[field];
  return typeof value === "string" ? value : undefined;
}
