// The peer metadata posture checks read, as written in files: a peer's `meta` in
// meshfilter's format, a peer-metadata file (peer-meta.ts), and the same snake_case
// field names NetBird's API uses on peers. One schema, one conversion to PeerMeta.

import { z } from "zod";
import type { PeerMeta } from "../model/model.ts";
import { versionText } from "./schema-common.ts";

export const peerMetaFields = {
  version: versionText.optional(),
  os: z.string().optional(),
  os_version: versionText.optional(),
  kernel_version: versionText.optional(),
  country_code: z.string().optional(),
  city_name: z.string().optional(),
  network_addresses: z.array(z.string()).optional(),
  connection_ip: z.string().optional(),
  processes: z.array(z.string()).optional(),
};

/** Strict: in a hand-written file an unknown key is almost always a typo. */
export const peerMetaSchema = z.strictObject(peerMetaFields);

export type PeerMetaInput = z.infer<typeof peerMetaSchema>;

/** Convert the file form to PeerMeta; empty strings mean "unknown" and are left out. */
export function toPeerMeta(input: PeerMetaInput): PeerMeta {
  const meta: PeerMeta = {};
  const os = input.os?.trim() ? splitOsText(input.os) : undefined;
  setIfPresent(meta, "version", input.version);
  setIfPresent(meta, "os", os?.os);
  setIfPresent(meta, "osVersion", input.os_version ?? os?.version);
  setIfPresent(meta, "kernelVersion", input.kernel_version);
  setIfPresent(meta, "countryCode", input.country_code?.trim().toUpperCase());
  setIfPresent(meta, "cityName", input.city_name);
  if (input.network_addresses) meta.networkAddresses = input.network_addresses.map((a) => a.trim());
  setIfPresent(meta, "connectionIp", input.connection_ip);
  if (input.processes) meta.processes = [...input.processes];
  return meta;
}

function setIfPresent(meta: PeerMeta, key: Exclude<keyof PeerMeta, "networkAddresses" | "processes">, value: string | undefined): void {
  if (value !== undefined && value.trim() !== "") meta[key] = value.trim();
}

const OS_NAMES: [RegExp, string][] = [
  [/^(darwin|mac ?os|os ?x)\b/i, "darwin"],
  [/windows/i, "windows"],
  [/^android\b/i, "android"],
  [/^(ios|ipados)\b/i, "ios"],
];

/**
 * NetBird's API shows `os` as the OS name and version in one string ("Darwin 13.2.1",
 * "Ubuntu 22.04", "Windows 10.0.19045"), while posture checks need the OS family
 * (linux, darwin, windows, android, ios). Anything that is not one of the other
 * families is a Linux distribution. A version-looking token becomes the OS version.
 */
export function splitOsText(text: string): { os: string; version?: string } {
  const trimmed = text.trim();
  const family = OS_NAMES.find(([pattern]) => pattern.test(trimmed))?.[1] ?? "linux";
  const version = /\b(\d+(?:\.\d+)*)\b/.exec(trimmed)?.[1];
  return version === undefined ? { os: family } : { os: family, version };
}
