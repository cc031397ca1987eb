// Posture checks (P8): conditions a policy's SOURCE peers must meet. A check object may
// hold several kinds; the peer passes the check only when it passes every kind present.
// Each evaluator returns null (pass) or a sentence saying why the peer failed, so that
// compile can drop the peer and explain can tell the user why.
//
// Where the account is silent, we follow NetBird's management server
// (management/server/posture/*.go), with the differences documented in
// docs/policy-semantics.md:
// - nb_version_check: agent version >= min; a missing or unreadable version fails.
// - os_version_check: android/darwin/ios compare the OS version, linux the kernel version
//   cut at "-", windows the kernel version (NetBird reports e.g. "10.0.19045"). One of these
//   five OSes that the check does not list fails ("OS not allowed"); an OS outside the five
//   passes, as in NetBird; a peer reporting no OS at all fails (model.ts: missing data fails).
// - geo_location_check: a location matches on country code, and on city when the entry
//   names one; allow passes only on a match, deny fails on a match; no location fails.
// - peer_network_range_check: matches when any local interface address or the connection
//   IP lies inside a range (NetBird compares masked interface prefixes for equality; we
//   use containment, which also covers that case); no addresses at all fails.
// - process_check: every listed process must run, matched by its path for the peer's OS
//   (linux, darwin, windows); an entry without a path for that OS, or another OS, fails.

import { parseCidr, parseIp, cidrContains, type ParsedCidr } from "../../packet/address.ts";
import type { Account, Peer, PeerMeta, PostureCheck } from "../model/model.ts";
import { versionShortfall } from "./version.ts";

export type PostureKind =
  | "nb_version_check"
  | "os_version_check"
  | "geo_location_check"
  | "peer_network_range_check"
  | "process_check";

/** Why a peer failed a posture check. */
export interface PostureFailure {
  checkId: string;
  checkName: string;
  kind: PostureKind | "unknown_check";
  reason: string;
}

function nbVersionShortfall(minVersion: string, meta: PeerMeta): string | null {
  return versionShortfall(meta.version, minVersion, "NetBird version");
}

const OSES_NETBIRD_KNOWS = new Set(["android", "darwin", "ios", "linux", "windows"]);

function osVersionShortfall(check: NonNullable<PostureCheck["osVersionCheck"]>, meta: PeerMeta): string | null {
  const os = meta.os?.trim().toLowerCase();
  if (!os) return "the peer reports no OS";
  if (!OSES_NETBIRD_KNOWS.has(os)) return null;
  switch (os) {
    case "linux":
      if (!check.linux) return "OS linux is not allowed by the check";
      return versionShortfall(meta.kernelVersion?.split("-")[0], check.linux.minKernelVersion, "linux kernel version");
    case "windows":
      if (!check.windows) return "OS windows is not allowed by the check";
      return versionShortfall(meta.kernelVersion ?? meta.osVersion, check.windows.minKernelVersion, "windows kernel version");
    default: {
      const entry = check[os as "android" | "darwin" | "ios"];
      if (!entry) return `OS ${os} is not allowed by the check`;
      return versionShortfall(meta.osVersion, entry.minVersion, `${os} version`);
    }
  }
}

function geoLocationShortfall(check: NonNullable<PostureCheck["geoLocationCheck"]>, meta: PeerMeta): string | null {
  const country = meta.countryCode?.trim().toUpperCase();
  const city = meta.cityName?.trim().toLowerCase();
  if (!country) return "the peer's location is unknown";
  const matched = check.locations.find(
    (l) => l.countryCode.trim().toUpperCase() === country && (!l.cityName || l.cityName.trim().toLowerCase() === city),
  );
  const where = city ? `${meta.cityName}, ${country}` : country;
  if (check.action === "deny") return matched ? `location ${where} is denied` : null;
  return matched ? null : `location ${where} is not in the allowed locations`;
}

/** The peer's addresses a network range check looks at: interface addresses and the connection IP. */
function peerAddresses(meta: PeerMeta): string[] {
  const addresses = (meta.networkAddresses ?? []).map((cidr) => cidr.split("/")[0]);
  if (meta.connectionIp) addresses.push(meta.connectionIp);
  return addresses;
}

function networkRangeShortfall(check: NonNullable<PostureCheck["peerNetworkRangeCheck"]>, meta: PeerMeta): string | null {
  const addresses = peerAddresses(meta);
  if (addresses.length === 0) return "the peer reports no network addresses";
  const ranges: ParsedCidr[] = [];
  for (const range of check.ranges) {
    try {
      ranges.push(parseCidr(range));
    } catch {
      return `the check's range "${range}" is not a CIDR`;
    }
  }
  let inside: string | undefined;
  let insideRange: string | undefined;
  for (const address of addresses) {
    let ip;
    try {
      ip = parseIp(address);
    } catch {
      continue;
    }
    const index = ranges.findIndex((r) => cidrContains(r, ip.version, ip.words));
    if (index >= 0) {
      inside = address;
      insideRange = check.ranges[index];
      break;
    }
  }
  if (check.action === "deny") return inside ? `address ${inside} is in the denied range ${insideRange}` : null;
  return inside ? null : `none of the peer's addresses (${addresses.join(", ")}) is in the allowed ranges`;
}

function processShortfall(check: NonNullable<PostureCheck["processCheck"]>, meta: PeerMeta): string | null {
  const os = meta.os?.trim().toLowerCase();
  const pathKey = os === "linux" ? "linuxPath" : os === "darwin" ? "macPath" : os === "windows" ? "windowsPath" : undefined;
  if (!pathKey) return `process checks are not supported on OS ${os ?? "(none reported)"}`;
  const running = new Set(meta.processes ?? []);
  for (const process of check.processes) {
    const path = process[pathKey];
    if (!path) return `a required process has no ${os} path`;
    if (!running.has(path)) return `process ${path} is not running`;
  }
  return null;
}

/** The first kind of `check` the peer fails, or null when it passes them all. */
export function evaluatePostureCheck(check: PostureCheck, meta: PeerMeta): PostureFailure | null {
  const fail = (kind: PostureKind, reason: string | null): PostureFailure | null =>
    reason === null ? null : { checkId: check.id, checkName: check.name, kind, reason };
  return (
    (check.nbVersionCheck && fail("nb_version_check", nbVersionShortfall(check.nbVersionCheck.minVersion, meta))) ||
    (check.osVersionCheck && fail("os_version_check", osVersionShortfall(check.osVersionCheck, meta))) ||
    (check.geoLocationCheck && fail("geo_location_check", geoLocationShortfall(check.geoLocationCheck, meta))) ||
    (check.peerNetworkRangeCheck && fail("peer_network_range_check", networkRangeShortfall(check.peerNetworkRangeCheck, meta))) ||
    (check.processCheck && fail("process_check", processShortfall(check.processCheck, meta))) ||
    null
  );
}

/**
 * Evaluates a policy's posture checks for peers, caching per (check list, peer) so a peer
 * that appears in many rules of one policy is evaluated once.
 */
export class PostureEvaluator {
  private readonly checks: Map<string, PostureCheck>;
  private readonly cache = new Map<string, PostureFailure | null>();

  constructor(account: Account) {
    this.checks = new Map(account.postureChecks.map((c) => [c.id, c]));
  }

  /** The first of `checkIds` the peer fails, or null. An id naming no check fails (fail closed). */
  firstFailure(checkIds: readonly string[], peer: Peer): PostureFailure | null {
    if (checkIds.length === 0) return null;
    const key = `${checkIds.join("\u0000")}\u0001${peer.id}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    let failure: PostureFailure | null = null;
    for (const id of checkIds) {
      const check = this.checks.get(id);
      failure = check
        ? evaluatePostureCheck(check, peer.meta)
        : { checkId: id, checkName: id, kind: "unknown_check", reason: `posture check "${id}" does not exist` };
      if (failure) break;
    }
    this.cache.set(key, failure);
    return failure;
  }
}
