// What the policy commands (compile, explain, lint, replay, watch, run) share: the flags
// that choose a policy and a peer, and turning a policy that cannot be used (a PolicyError
// with every problem and its JSON path, a file that cannot be read, a --peer that names no
// peer) into a CliError.

import { systemReason } from "../io/system-reason.ts";
import { PolicyError } from "../policy/model/model.ts";
import { PeerRefError } from "../policy/model/peer-ref.ts";
import { NetworkMapError } from "../policy/input/netbird/network-map.ts";
import { parseResolveOptions, ResolveOptionError } from "../engine/resolved-domains.ts";
import { buildPeerFilter, type PeerFilter } from "../replay/setup.ts";
import { CliError, UsageError, type FlagSpec } from "./command.ts";
import { didYouMean } from "./did-you-mean.ts";
import { EXIT_USAGE } from "./exit-codes.ts";

export const POLICY_FLAG = {
  type: "string",
  value: "FILE",
  required: true,
  help: "account policy (JSON or YAML, meshfilter or NetBird export)",
} as const satisfies FlagSpec;

export const PEER_FLAG = {
  type: "string",
  value: "PEER",
  required: true,
  help: "the peer whose filter judges: id, name, overlay IP, FQDN or DNS label",
} as const satisfies FlagSpec;

/** A NetBird peer's NetworkMap, instead of --policy and --peer (the map is one peer's already). */
export const NETWORK_MAP_FLAG = {
  type: "string",
  value: "FILE",
  help: "instead of --policy and --peer: a NetBird peer's NetworkMap (network_map.json of a debug bundle, or binary protobuf)",
} as const satisfies FlagSpec;

/** --policy and --peer, each optional since --network-map may stand for both (policySource checks). */
export const POLICY_OR_MAP_FLAGS = {
  policy: { ...POLICY_FLAG, required: false },
  peer: { ...PEER_FLAG, required: false },
  "network-map": NETWORK_MAP_FLAG,
} as const satisfies Record<string, FlagSpec>;

/** Where a peer's tables come from: --network-map, or --policy with --peer. Throws UsageError for anything else. */
export function policySource(flags: { policy?: string; peer?: string; "network-map"?: string }): { policyPath?: string; peer?: string; networkMapPath?: string } {
  const map = flags["network-map"];
  if (map !== undefined) {
    if (flags.policy !== undefined || flags.peer !== undefined) throw new UsageError("--network-map is one peer's tables already: give it without --policy and --peer");
    return { networkMapPath: map };
  }
  const missing = [flags.policy === undefined ? "--policy" : "", flags.peer === undefined ? "--peer" : ""].filter(Boolean);
  if (missing.length > 0) throw new UsageError(`missing ${missing.join(", ")} (or --network-map)`);
  return { policyPath: flags.policy, peer: flags.peer };
}

export const RESOLVE_FLAG = {
  type: "string",
  value: "NAME=IP[,IP]",
  multiple: true,
  help: "the addresses of a domain resource, where a running agent would ask DNS",
} as const satisfies FlagSpec;

export const JSON_FLAG = { type: "boolean", help: "print the result as JSON" } as const satisfies FlagSpec;

export const HONOUR_BIDIRECTIONAL_FLAG = {
  type: "boolean",
  help: "honour the bidirectional flag for every protocol (newer NetBird)",
} as const satisfies FlagSpec;

export const EGRESS_FLAG = {
  type: "boolean",
  help: "also enforce outbound rules (off by default, as in NetBird; P13)",
} as const satisfies FlagSpec;

/** The flags replay and watch share: which policy and peer, and how the filter judges. */
export const PEER_FILTER_FLAGS = {
  ...POLICY_OR_MAP_FLAGS,
  resolve: RESOLVE_FLAG,
  egress: EGRESS_FLAG,
  "honour-bidirectional": HONOUR_BIDIRECTIONAL_FLAG,
  "loose-tcp": { type: "boolean", help: "accept TCP connections picked up mid-stream (capture or watch began late)" },
} as const satisfies Record<string, FlagSpec>;

/** The filter switches of PEER_FILTER_FLAGS, as parsed. */
export interface PeerFilterFlags {
  policy: string | undefined;
  peer: string | undefined;
  "network-map": string | undefined;
  resolve: string[];
  egress: boolean;
  "honour-bidirectional": boolean;
  "loose-tcp": boolean;
}

/**
 * The CliError for an error thrown while reading or compiling a policy or a NetworkMap, or
 * undefined when it is not one (a bug): a peer that the --peer flag names wrongly, with the
 * closest name; a PolicyError (one line per problem, with its JSON path and line:column); a
 * NetworkMapError or ResolveOptionError; a file-system error. All are bad input, exit 2.
 */
export function policyFailure(err: unknown, policyPath: string, peerFlag = "--peer"): CliError | undefined {
  if (err instanceof PeerRefError) {
    const unknown = err.detail.startsWith("no peer");
    const message = unknown
      ? `${peerFlag} ${JSON.stringify(err.self)}: ${policyPath} has no peer with that id, name, IP, FQDN or DNS label${didYouMean(err.self, err.known)}`
      : `${peerFlag} ${err.detail}`;
    return new CliError(message, EXIT_USAGE);
  }
  if (err instanceof PolicyError || err instanceof NetworkMapError || err instanceof ResolveOptionError) return new CliError(err.message, EXIT_USAGE);
  if ((err as NodeJS.ErrnoException).code !== undefined) return new CliError(`${policyPath}: ${systemReason(err)}`, EXIT_USAGE);
  return undefined;
}

/** Runs `load` (reading or compiling the policy at `policyPath`); its failures become policyFailure's CliError. */
export function withPolicy<T>(policyPath: string, load: () => T): T {
  try {
    return load();
  } catch (err) {
    throw policyFailure(err, policyPath) ?? err;
  }
}

/** buildPeerFilter for replay and watch; a policy that cannot be used is a CliError (exit 2). */
export function loadPeerFilter(flags: PeerFilterFlags): PeerFilter {
  const source = policySource(flags);
  return withPolicy(source.networkMapPath ?? source.policyPath ?? "", () =>
    buildPeerFilter({
      ...source,
      resolve: flags.resolve.length > 0 ? parseResolveOptions(flags.resolve) : undefined,
      egress: flags.egress,
      honourBidirectional: flags["honour-bidirectional"],
      looseTcp: flags["loose-tcp"],
    }),
  );
}
