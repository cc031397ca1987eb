// The account model: what both importers (NetBird export, meshfilter's own file)
// produce and what validation, compilation, the linter and the explainer read.
// Plain objects, strings and ids; every reference is by id. Field names follow the
// NetBird management API (../shared/reference/netbird-management-api-schemas.yml)
// where it has them. This is the cold path: clarity over speed.

import type { Action, PortRange, Protocol } from "../../filter/compiled-policy.ts";
import { printableLines } from "../../text/printable.ts";
import type { TextPosition } from "../input/problem-location.ts";

// The filter's words for what a rule allows, which the account's rules use too.
export type { Action, PortRange, Protocol };
/** A rule's protocol: a filter protocol, or NetBird's "netbird-ssh" (tcp to the peer's SSH server, compiled as NetBird does). */
export type RuleProtocol = Protocol | "netbird-ssh";

/** Metadata a posture check reads. Every field is optional: a check on a missing field fails. */
export interface PeerMeta {
  /** NetBird agent version, e.g. "0.28.4". */
  version?: string;
  /** OS name as NetBird reports it: "linux", "darwin", "windows", "android", "ios". */
  os?: string;
  /** OS version ("14.2.1", "10.0.19045"), used by os_version_check for non-Linux OSes. */
  osVersion?: string;
  /** Linux kernel version ("6.1.0-18-amd64"), used by os_version_check for Linux. */
  kernelVersion?: string;
  countryCode?: string;
  cityName?: string;
  /** CIDRs of the peer's local interfaces, e.g. ["192.168.1.23/24"]. */
  networkAddresses?: string[];
  /** The public address the peer connects from. */
  connectionIp?: string;
  /** Executable paths of running processes. */
  processes?: string[];
}

export interface Peer {
  id: string;
  name: string;
  /** Overlay IPv4 address, e.g. "100.64.0.5". */
  ip: string;
  /** Overlay IPv6 address, optional. */
  ipv6?: string;
  /** Directly assigned group ids (does not include inherited ones nor All). */
  groups: string[];
  /** The user who enrolled the peer (a "user device"); absent for setup-key peers. */
  userId?: string;
  /** The setup key the peer registered with (an "infrastructure" peer when userId is absent). */
  setupKeyId?: string;
  /** The peer's FQDN as NetBird's API gives it in `dns_label` ("stage-host-1.netbird.cloud"); the bare label is its first part. */
  dnsLabel?: string;
  /** The peer's SSH server is on (API `ssh_enabled`) and its agent allows SSH access (`local_flags.server_ssh_allowed`): with an agent of 0.60.0 or newer, NetBird opens its native SSH port 22022 next to 22. */
  nativeSsh?: boolean;
  meta: PeerMeta;
}

export interface User {
  id: string;
  name?: string;
  autoGroups: string[];
}

export interface SetupKey {
  id: string;
  name?: string;
  autoGroups: string[];
}

export interface Group {
  id: string;
  name: string;
  /** Member peer ids as listed by the group (effective membership is computed, see compile). */
  peers: string[];
  /** Member network resource ids. */
  resources: string[];
  /** True for the special group that contains every peer. */
  isAll: boolean;
}

export interface NetworkResource {
  id: string;
  name: string;
  /** The network this resource belongs to. */
  networkId: string;
  type: "host" | "subnet" | "domain";
  /** For host/subnet: a CIDR ("10.0.1.0/24", "10.0.1.5/32"); for domain: the domain name. */
  address: string;
  /** Groups the resource belongs to. */
  groups: string[];
  enabled: boolean;
}

/** A peer (or the peers of groups) routing traffic to a network's resources. */
export interface NetworkRouter {
  id: string;
  networkId: string;
  /** A single routing peer id, or empty when peerGroups is used. */
  peer?: string;
  peerGroups: string[];
  masquerade: boolean;
  enabled: boolean;
}

export interface Network {
  id: string;
  name: string;
}

/** A legacy NetBird network route: a prefix reached through a peer or peer groups. */
export interface Route {
  id: string;
  networkId: string;
  /** CIDR, or empty for domain routes. */
  network: string;
  domains: string[];
  peer?: string;
  peerGroups: string[];
  /** Groups whose peers get the route. */
  groups: string[];
  /** Groups allowed to use the route (access control groups); empty means not enforced. */
  accessControlGroups: string[];
  /** Forwarded traffic leaves the routing peer with its own LAN address (see src/agent/masquerade.ts). */
  masquerade: boolean;
  enabled: boolean;
}

export interface RuleEnd {
  /** Group ids. Empty when `resource` is set. */
  groups: string[];
  /** A network resource id, instead of groups. */
  resource?: string;
  /** A single peer id, instead of groups (NetBird's `sourceResource`/`destinationResource` of type "peer"). */
  peer?: string;
}

export interface PolicyRule {
  id: string;
  name: string;
  enabled: boolean;
  action: Action;
  bidirectional: boolean;
  protocol: RuleProtocol;
  ports: number[];
  portRanges: PortRange[];
  sources: RuleEnd;
  destinations: RuleEnd;
}

export interface Policy {
  id: string;
  name: string;
  description?: string;
  enabled: boolean;
  /** Posture check ids that every source peer must pass (P8). */
  sourcePostureChecks: string[];
  rules: PolicyRule[];
}

export interface VersionCheck {
  minVersion: string;
}

export interface OsVersionCheck {
  /** Per OS: a minimum OS version (android, darwin, ios, windows) or kernel version (linux). */
  android?: { minVersion: string };
  darwin?: { minVersion: string };
  ios?: { minVersion: string };
  windows?: { minKernelVersion: string };
  linux?: { minKernelVersion: string };
}

export interface GeoLocationCheck {
  locations: { countryCode: string; cityName?: string }[];
  action: "allow" | "deny";
}

export interface PeerNetworkRangeCheck {
  ranges: string[];
  action: "allow" | "deny";
}

export interface ProcessCheck {
  processes: { linuxPath?: string; macPath?: string; windowsPath?: string }[];
}

export interface PostureCheck {
  id: string;
  name: string;
  nbVersionCheck?: VersionCheck;
  osVersionCheck?: OsVersionCheck;
  geoLocationCheck?: GeoLocationCheck;
  peerNetworkRangeCheck?: PeerNetworkRangeCheck;
  processCheck?: ProcessCheck;
}

export interface Account {
  peers: Peer[];
  users: User[];
  setupKeys: SetupKey[];
  groups: Group[];
  policies: Policy[];
  postureChecks: PostureCheck[];
  networks: Network[];
  resources: NetworkResource[];
  routers: NetworkRouter[];
  routes: Route[];
  /** What the input holds that meshfilter does not know (a field or value from a newer NetBird) and that changes nothing a peer accepts. */
  warnings?: PolicyProblem[];
  /** Policies left out because they hold something meshfilter cannot read that would change what a peer accepts; they grant nothing. */
  rejectedPolicies?: RejectedPolicy[];
}

/** A policy left out of the account, and why (each problem with its JSON path). */
export interface RejectedPolicy {
  policyId: string;
  name: string;
  problems: PolicyProblem[];
}

/** One problem found in an input, with where it is. */
export interface PolicyProblem {
  /** JSON path into the input document, e.g. "$.policies[2].rules[0].ports[1]". */
  path: string;
  /** A plain sentence saying what is wrong. */
  message: string;
}

/** Thrown (or returned) when an input cannot be used; it carries every problem found. */
export class PolicyError extends Error {
  constructor(
    readonly problems: PolicyProblem[],
    readonly source?: string,
    /** Line and column of each problem's path in the source text, where known (problem-location.ts). */
    readonly locations?: readonly (TextPosition | undefined)[],
  ) {
    // The message is printed: each of its lines made printable (names come from the file).
    // One problem is one line; several are a count and a line each.
    const lines = problems.map((p, i) => {
      const at = locations?.[i];
      return `${at ? `line ${at.line}:${at.column} ` : ""}${p.path}: ${p.message}`;
    });
    const from = source ? `${source}: ` : "";
    super(printableLines(lines.length === 1 ? [`${from}${lines[0]}`] : [`${from}${problems.length} problems in policy:`, ...lines.map((l) => `  ${l}`)]));
    this.name = "PolicyError";
  }
}
