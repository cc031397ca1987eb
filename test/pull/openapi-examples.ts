// Objects shaped exactly as NetBird's API returns them, built from the `example` values of
// the OpenAPI file in reference/netbird: every field the schema defines, none it does not.
// Tests then set the ids, addresses and references that make an account.

import { readFileSync } from "node:fs";
import path from "node:path";
import yaml from "js-yaml";

type Schema = { $ref?: string; allOf?: Schema[]; properties?: Record<string, Schema>; example?: unknown; items?: Schema; type?: string; enum?: unknown[] };

const file = path.resolve(import.meta.dirname, "../../reference/netbird/netbird-openapi.yml");
const schemas = (yaml.load(readFileSync(file, "utf8")) as { components: { schemas: Record<string, Schema> } }).components.schemas;

function valueOf(schema: Schema): unknown {
  if (schema.$ref) return valueOf(schemas[schema.$ref.split("/").pop()!]);
  if (schema.example !== undefined) return structuredClone(schema.example);
  if (schema.allOf || schema.properties) {
    const out: Record<string, unknown> = {};
    for (const part of schema.allOf ?? []) {
      const value = valueOf(part);
      if (value === null || typeof value !== "object") return value; // an enum narrowed by allOf
      Object.assign(out, value);
    }
    for (const [key, property] of Object.entries(schema.properties ?? {})) out[key] = valueOf(property);
    return out;
  }
  if (schema.enum) return schema.enum[0];
  if (schema.type === "array") return schema.items ? [valueOf(schema.items)] : [];
  if (schema.type === "boolean") return false;
  if (schema.type === "integer" || schema.type === "number") return 0;
  if (schema.type === "object") return {};
  return "";
}

/** An example of the API schema `name` (e.g. "Peer"), with `fields` set over it. */
export function apiObject(name: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  if (!schemas[name]) throw new Error(`no schema ${name} in the OpenAPI file`);
  return { ...(valueOf({ $ref: `#/components/schemas/${name}` }) as Record<string, unknown>), ...fields };
}
