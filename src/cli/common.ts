// What the policy commands (compile, explain, lint, replay, watch) share: reading the
// command line with the same usage-error and --help behaviour, and printing a bad
// policy (a PolicyError lists every problem with its JSON path) the same way everywhere.

import { parseArgs, type ParseArgsConfig } from "node:util";
import { PolicyError } from "../policy/model.ts";
import { NetworkMapError } from "../policy/network-map.ts";
import { parseResolveOptions, ResolveOptionError } from "../replay/resolved-domains.ts";
import { printableLines } from "../text/printable.ts";
import { buildPeerFilter, type PeerFilter } from "../replay/setup.ts";

/** Exit code for bad usage, a bad policy, an unknown peer or an unreadable policy file. */
export const EXIT_USAGE = 2;

/** Prints `meshfilter COMMAND: message` on stderr and returns `code`, for `return fail(...)`. */
export function fail(command: string, message: string, code: number): number {
  // Messages quote file names and policy names: every line made printable, the line breaks kept.
  console.error(printableLines(`meshfilter ${command}: ${message}`.split("\n")));
  return code;
}

/** Every command's -h/--help; parseCommandLine answers it. */
export const HELP_OPTION = { type: "boolean", short: "h", default: false } as const;

type Parsed<T extends ParseArgsConfig> = ReturnType<typeof parseArgs<T>>;

/**
 * parseArgs, plus the two outcomes every command handles alike: an unknown or malformed
 * option prints the message and the usage text (exit 2), and --help prints the usage text
 * (exit 0). Returns the parsed options, or the exit code to return at once.
 */
export function parseCommandLine<T extends ParseArgsConfig>(command: string, help: string, config: T): Parsed<T> | number {
  let parsed: Parsed<T>;
  try {
    parsed = parseArgs(config);
  } catch (err) {
    return fail(command, `${(err as Error).message}\n\n${help}`, EXIT_USAGE);
  }
  if ((parsed.values as { help?: boolean }).help) {
    console.log(help);
    return 0;
  }
  return parsed;
}

/**
 * The exit code for an error thrown while loading or compiling a policy: a PolicyError or
 * a file-system error (it has an errno code) is printed as is (exit 2); anything else is a
 * bug and is rethrown.
 */
export function policyLoadFailure(command: string, err: unknown): number {
  if (err instanceof PolicyError || err instanceof NetworkMapError || (err as NodeJS.ErrnoException).code !== undefined) {
    return fail(command, (err as Error).message, EXIT_USAGE);
  }
  throw err;
}

/** The options replay and watch share: which policy and peer, and how the filter judges. */
export const PEER_FILTER_OPTIONS = {
  policy: { type: "string" },
  peer: { type: "string" },
  egress: { type: "boolean", default: false },
  "honour-bidirectional": { type: "boolean", default: false },
  "loose-tcp": { type: "boolean", default: false },
  "network-map": { type: "string" },
  resolve: { type: "string", multiple: true },
} as const;

/** The filter switches of PEER_FILTER_OPTIONS, as parseArgs returns them. */
export interface PeerFilterFlags {
  egress: boolean;
  "honour-bidirectional": boolean;
  "loose-tcp": boolean;
}

/**
 * buildPeerFilter for replay and watch: returns the filter, or prints why there is none
 * (every policy problem, or why the file cannot be used) and returns exit code 2.
 */
export function loadPeerFilter(command: string, policyPath: string | undefined, peer: string | undefined, flags: PeerFilterFlags & { "network-map"?: string; resolve?: string[] }): PeerFilter | number {
  try {
    return buildPeerFilter({
      resolve: flags.resolve ? parseResolveOptions(flags.resolve) : undefined,
      policyPath,
      networkMapPath: flags["network-map"],
      peer,
      egress: flags.egress,
      honourBidirectional: flags["honour-bidirectional"],
      looseTcp: flags["loose-tcp"],
    });
  } catch (err) {
    if (err instanceof PolicyError || err instanceof NetworkMapError || err instanceof ResolveOptionError) return fail(command, err.message, EXIT_USAGE);
    return fail(command, `cannot use policy ${policyPath}: ${(err as Error).message}`, EXIT_USAGE);
  }
}
