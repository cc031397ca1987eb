// Zod building blocks shared by the input formats. Zod is used because its schemas
// are TypeScript-first (the parsed value's type is inferred from the schema, so the
// importers cannot drift from what is validated), it reports every issue with a
// precise path in one pass, and it is the most widely used validator in the
// TypeScript ecosystem.

import { z } from "zod";

/** A port item: 5432, "5432" or a range "8080-8090". Values are range-checked later, on the model. */
export const portItem = z.union([z.number(), z.string()]).superRefine((value, ctx) => {
  if (typeof value === "number" ? !Number.isInteger(value) : !PORT_TEXT.test(value.trim())) {
    ctx.addIssue({ code: "custom", message: `"${value}" is not a port: write a number like 5432 or a range like "8080-8090"` });
  }
});

const PORT_TEXT = /^\d+(\s*-\s*\d+)?$/;

/** A port item as a range ({start, end} equal for a single port); the item passed `portItem`. */
function portRangeOf(item: number | string): { start: number; end: number } {
  if (typeof item === "number") return { start: item, end: item };
  const [start, end = start] = item.split("-").map((part) => Number(part.trim()));
  return { start, end };
}

/**
 * A version: a string, or a whole number. YAML reads `0.30` as the number 0.3, which
 * would silently become the wrong version, so fractional numbers are refused.
 */
export const versionText = z.union([z.string(), z.number()]).transform((value, ctx) => {
  if (typeof value === "string") return value.trim();
  if (!Number.isInteger(value)) {
    ctx.addIssue({ code: "custom", message: `the version was read as the number ${value}, which may have lost digits ("0.30" becomes 0.3); write it in quotes` });
    return z.NEVER;
  }
  return String(value);
});

/** A policy action. */
export const actionText = z.enum(["accept", "drop"]);

/** A rule protocol, as NetBird's API spells them ("netbird-ssh" is tcp to NetBird's SSH server, see compile-ports.ts). */
export const RULE_PROTOCOLS = ["all", "tcp", "udp", "icmp", "netbird-ssh"] as const;

/** A rule protocol in a hand-written file: an unknown one is a mistake. */
export const protocolText = z.string().superRefine((value, ctx) => {
  if (!(RULE_PROTOCOLS as readonly string[]).includes(value)) {
    ctx.addIssue({ code: "custom", message: `unknown protocol "${value}"; use one of ${RULE_PROTOCOLS.join(", ")}` });
  }
});

/** allow | deny, for the geo-location and network-range posture checks. */
export const allowDeny = z.enum(["allow", "deny"]);

/** A list that may be absent or null (NetBird returns null for empty lists). */
export function list<T extends z.ZodType>(item: T) {
  return z
    .array(item)
    .nullish()
    .transform((items) => items ?? []);
}

/** An optional string that may also be null or empty (NetBird's way of saying "none"). */
export const optionalText = z
  .string()
  .nullish()
  .transform((value) => (value === null || value === undefined || value.trim() === "" ? undefined : value.trim()));

/** Port items split the way the model holds them, with the document path of each. */
export interface SplitPorts {
  ports: number[];
  portPaths: string[];
  portRanges: { start: number; end: number }[];
  rangePaths: string[];
}

/** Split port items (single ports and "a-b" ranges) read at `path` into the model's two lists. */
export function splitPortItems(items: readonly (number | string)[], path: string): SplitPorts {
  const split: SplitPorts = { ports: [], portPaths: [], portRanges: [], rangePaths: [] };
  items.forEach((item, i) => {
    const range = portRangeOf(item);
    if (typeof item === "string" && item.includes("-")) {
      split.portRanges.push(range);
      split.rangePaths.push(`${path}[${i}]`);
    } else {
      split.ports.push(range.start);
      split.portPaths.push(`${path}[${i}]`);
    }
  });
  return split;
}
