// What a meshfilter command is: its name, usage, flags (with types and help) and handler,
// and the one parser and help printer that every command shares. A command module
// exports `command = defineCommand({...})`; src/cli/registry.ts lists the modules and
// says how to add one.
//
// Errors are thrown, not printed: UsageError (bad flags or arguments: two lines, the
// second "try 'meshfilter CMD --help'", exit 2) and CliError (anything else with its
// exit code from exit-codes.ts: a one-line message naming what and where). reportError
// prints them; no command prints its own errors.

import { printableLines } from "../text/printable.ts";
import { didYouMean } from "./did-you-mean.ts";
import { EXIT_FAILURE, EXIT_USAGE } from "./exit-codes.ts";

/** A flag: `--name VALUE` (type "string") or `--name` (type "boolean"). */
export interface FlagSpec {
  type: "string" | "boolean";
  /** One line (wrapped at 80 columns by the help printer) saying what it does. */
  help: string;
  /** The value's placeholder in the help, e.g. FILE or ADDR:PORT (string flags). */
  value?: string;
  /** A one-letter alias, e.g. "o" for -o. */
  short?: string;
  /** May be repeated; the handler gets every value in order. */
  multiple?: boolean;
  /** Must be given: a usage error names every missing one. */
  required?: boolean;
}

type Flags = Record<string, FlagSpec>;

/** The parsed value of one flag: booleans default to false, repeated flags to []. */
export type FlagValue<S extends FlagSpec> = S["type"] extends "boolean"
  ? boolean
  : S["multiple"] extends true
    ? string[]
    : S["required"] extends true
      ? string
      : string | undefined;

export type FlagValues<F extends Flags> = { [K in keyof F]: FlagValue<F[K]> };

/** What a handler receives. */
export interface Invocation<F extends Flags> {
  flags: FlagValues<F>;
  /** The non-flag arguments, in order (everything after `--` included). */
  args: string[];
}

export interface CommandSpec<F extends Flags> {
  /** The word after `meshfilter`; must match the command's entry in registry.ts. */
  name: string;
  /** The synopsis after `meshfilter NAME`, e.g. "CAPTURE --policy FILE --peer PEER [options]". */
  usage: string;
  /** Paragraphs shown by `meshfilter NAME --help` between the usage line and the flags. */
  description: string;
  flags: F;
  /** How many non-flag arguments the command takes, and their name in messages. */
  args?: { name: string; min: number; max: number };
  /** What each exit code (from exit-codes.ts) means for this command, for its help. */
  exits: Record<number, string>;
  /** Does the work; returns the exit code. Throws UsageError or CliError for failures. */
  run(invocation: Invocation<F>): Promise<number>;
}

/** Bad usage: printed as `meshfilter CMD: message` and `try 'meshfilter CMD --help'`, exit 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A failure with its exit code, printed as `meshfilter CMD: message` (one line). */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

const HELP_FLAG: FlagSpec = { type: "boolean", short: "h", help: "this text" };

function flagLabel(name: string, spec: FlagSpec): string {
  const short = spec.short ? `-${spec.short}, ` : "";
  return `${short}--${name}${spec.type === "string" ? ` ${spec.value ?? "VALUE"}` : ""}`;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines;
}

/** The text of `meshfilter NAME --help`. */
export function formatHelp(spec: AnyCommand): string {
  const flags: Flags = { ...(spec.flags as Flags), help: HELP_FLAG };
  const labels = Object.entries(flags).map(([name, f]) => [flagLabel(name, f), f] as const);
  const width = Math.min(28, Math.max(...labels.map(([l]) => l.length)) + 2);
  const lines = [`usage: meshfilter ${spec.name} ${spec.usage}`, ""];
  if (spec.description) lines.push(spec.description, "");
  lines.push("options:");
  for (const [label, f] of labels) {
    const help = wrap(f.help + (f.multiple ? " (repeat for more)" : ""), 80 - 2 - width);
    if (label.length + 2 > width) lines.push(`  ${label}`, ...help.map((h) => `  ${" ".repeat(width)}${h}`));
    else lines.push(`  ${label.padEnd(width)}${help[0]}`, ...help.slice(1).map((h) => `  ${" ".repeat(width)}${h}`));
  }
  lines.push("", "exit codes:");
  for (const [code, meaning] of Object.entries(spec.exits)) {
    const [first, ...rest] = wrap(meaning, 72);
    lines.push(`  ${code.padStart(3)}  ${first}`, ...rest.map((r) => `       ${r}`));
  }
  return lines.join("\n");
}

/**
 * Reads argv against the declared flags. Throws UsageError naming the first problem: an
 * unknown flag (with the closest known one), a missing value, a value given to a switch,
 * a repeated single flag, missing required flags, or the wrong number of arguments.
 * Returns null when --help was asked for.
 */
export function parseFlags<F extends Flags>(spec: CommandSpec<F>, argv: readonly string[]): Invocation<F> | null {
  const byShort = new Map<string, string>();
  for (const [name, f] of Object.entries(spec.flags)) if (f.short) byShort.set(f.short, name);
  const known = Object.keys(spec.flags).map((n) => `--${n}`);
  const values: Record<string, string | string[] | boolean | undefined> = {};
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "-h" || arg === "--help") return null;
    if (!arg.startsWith("-") || arg === "-") {
      args.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const raw = eq > 0 ? arg.slice(0, eq) : arg;
    const name = raw.startsWith("--") ? raw.slice(2) : byShort.get(raw.slice(1));
    const flag = name === undefined ? undefined : spec.flags[name];
    if (name === undefined || flag === undefined) {
      throw new UsageError(`unknown flag ${raw}${didYouMean(raw.replace(/^-+/, "--"), known)}`);
    }
    if (flag.type === "boolean") {
      if (eq > 0) throw new UsageError(`${raw} takes no value (got "${arg.slice(eq + 1)}")`);
      values[name] = true;
      continue;
    }
    let value: string;
    if (eq > 0) value = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith("-") && next.length > 1)) {
        throw new UsageError(`${raw} needs a value (${flag.value ?? "VALUE"})`);
      }
      value = next;
      i++;
    }
    if (flag.multiple) values[name] = [...((values[name] as string[] | undefined) ?? []), value];
    else if (values[name] !== undefined) throw new UsageError(`${raw} given twice ("${values[name]}" and "${value}")`);
    else values[name] = value;
  }
  const missing = Object.entries(spec.flags)
    .filter(([name, f]) => f.required && values[name] === undefined)
    .map(([name]) => `--${name}`);
  if (missing.length > 0) throw new UsageError(`missing ${missing.join(", ")}`);
  const { min, max, name: argName } = spec.args ?? { min: 0, max: 0, name: "" };
  if (args.length < min) throw new UsageError(`missing ${argName}`);
  if (args.length > max) {
    throw new UsageError(max === 0 ? `unexpected argument "${args[0]}"` : `expected at most ${max} ${argName}, got ${args.length}: ${args.map((a) => `"${a}"`).join(" ")}`);
  }
  for (const [name, f] of Object.entries(spec.flags)) {
    if (values[name] === undefined) values[name] = f.type === "boolean" ? false : f.multiple ? [] : undefined;
  }
  return { flags: values as FlagValues<F>, args };
}

/** Declares a command; the identity, there to infer the flags' types for the handler. */
export function defineCommand<const F extends Flags>(spec: CommandSpec<F>): CommandSpec<F> {
  return spec;
}

/** Any command, as the registry loads it. */
export type AnyCommand = CommandSpec<any>;

/**
 * Runs a command on its argv: prints its help for -h/--help, else parses the flags and
 * calls the handler. Returns the exit code; throws UsageError or CliError.
 */
export async function invoke(spec: AnyCommand, argv: readonly string[]): Promise<number> {
  const invocation = parseFlags(spec, argv);
  if (invocation === null) {
    console.log(formatHelp(spec));
    return 0;
  }
  return spec.run(invocation);
}

/**
 * Prints an error the way every command does and returns its exit code: a UsageError as
 * `PREFIX: message` and `try 'PREFIX --help'` (2), a CliError as `PREFIX: message` (its
 * code), anything else as a one-line internal error (1; the stack with MESHFILTER_DEBUG=1).
 * `prefix` is "meshfilter" or "meshfilter CMD".
 */
export function reportError(prefix: string, err: unknown): number {
  // Messages quote file, peer and policy names: every line made printable.
  if (err instanceof UsageError) {
    console.error(printableLines([`${prefix}: ${err.message}`, `try '${prefix} --help'`]));
    return EXIT_USAGE;
  }
  if (err instanceof CliError) {
    console.error(printableLines(`${prefix}: ${err.message}`.split("\n")));
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  console.error(printableLines([`${prefix}: internal error: ${message} (MESHFILTER_DEBUG=1 shows the stack)`]));
  if (process.env.MESHFILTER_DEBUG && err instanceof Error) console.error(err.stack);
  return EXIT_FAILURE;
}

/** invoke, with a thrown error printed by reportError: the exit code, whatever happens. */
export async function execute(spec: AnyCommand, argv: readonly string[]): Promise<number> {
  try {
    return await invoke(spec, argv);
  } catch (err) {
    return reportError(`meshfilter ${spec.name}`, err);
  }
}

/** Throws the UsageError for a bad flag value: `--NAME "VALUE": what was expected`. */
export function badFlagValue(flag: string, value: string, expected: string): never {
  throw new UsageError(`--${flag} "${value}": ${expected}`);
}
