// What the policy commands (compile, explain, lint, replay, watch) share: the flags that
// choose a policy and a peer, and turning a policy that cannot be used (a PolicyError with
// every problem and its JSON path, or a file that cannot be read) into a CliError.

import { PolicyError } from "../policy/model.ts";
import { buildPeerFilter, type PeerFilter } from "../replay/setup.ts";
import { CliError, type FlagSpec } from "./command.ts";
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
  help: "the peer whose filter judges: id, name or overlay IP",
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
  policy: POLICY_FLAG,
  peer: PEER_FLAG,
  egress: EGRESS_FLAG,
  "honour-bidirectional": HONOUR_BIDIRECTIONAL_FLAG,
  "loose-tcp": { type: "boolean", help: "accept TCP connections picked up mid-stream (capture or watch began late)" },
} as const satisfies Record<string, FlagSpec>;

/** The filter switches of PEER_FILTER_FLAGS, as parsed. */
export interface PeerFilterFlags {
  policy: string;
  peer: string;
  egress: boolean;
  "honour-bidirectional": boolean;
  "loose-tcp": boolean;
}

/**
 * Runs `load` (reading or compiling a policy); a PolicyError or a file-system error
 * (it has an errno code) becomes a CliError with exit 2. Anything else is a bug and
 * goes on up.
 */
export function withPolicy<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof PolicyError || (err as NodeJS.ErrnoException).code !== undefined) {
      throw new CliError((err as Error).message, EXIT_USAGE);
    }
    throw err;
  }
}

/** buildPeerFilter for replay and watch; a policy that cannot be used is a CliError (exit 2). */
export function loadPeerFilter(flags: PeerFilterFlags): PeerFilter {
  return withPolicy(() =>
    buildPeerFilter({
      policyPath: flags.policy,
      peer: flags.peer,
      egress: flags.egress,
      honourBidirectional: flags["honour-bidirectional"],
      looseTcp: flags["loose-tcp"],
    }),
  );
}
