// The meshfilter command line: --version, the general help, `help CMD`, and finding the
// command in registry.ts; command.ts runs it and turns what it throws into a message and
// an exit code (exit-codes.ts).

import { readFileSync } from "node:fs";
import { execute, formatHelp, reportError, UsageError } from "./command.ts";
import { didYouMean } from "./did-you-mean.ts";
import { EXIT_CODE_TABLE, EXIT_OK, EXIT_USAGE } from "./exit-codes.ts";
import { COMMANDS, type CommandEntry } from "./registry.ts";

function version(): string {
  // src/cli/main.ts and dist/cli/main.js are both two folders below package.json.
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

function generalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    "usage: meshfilter COMMAND [options]",
    "       meshfilter help COMMAND | meshfilter COMMAND --help",
    "       meshfilter --version",
    "",
    "commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    "exit codes (every command):",
    ...EXIT_CODE_TABLE.map(([code, meaning]) => `  ${String(code).padStart(3)}  ${meaning}`),
  ].join("\n");
}

function findCommand(name: string): CommandEntry {
  const entry = COMMANDS.find((c) => c.name === name);
  if (entry) return entry;
  throw new UsageError(`unknown command '${name}'${didYouMean(name, COMMANDS.map((c) => c.name))}`);
}

/** Runs argv (without node and the script); returns the exit code. Throws for usage errors before a command is chosen. */
async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    console.log(generalHelp());
    return EXIT_USAGE;
  }
  if (first === "-h" || first === "--help") {
    console.log(generalHelp());
    return EXIT_OK;
  }
  if (first === "--version") {
    console.log(`meshfilter ${version()}`);
    return EXIT_OK;
  }
  if (first === "help") {
    if (rest.length === 0) {
      console.log(generalHelp());
      return EXIT_OK;
    }
    const entry = findCommand(rest[0]);
    console.log(formatHelp((await entry.load()).command));
    return EXIT_OK;
  }
  if (first.startsWith("-")) {
    throw new UsageError(`unknown flag ${first}${didYouMean(first, ["--help", "--version"])}; flags go after the command`);
  }
  const entry = findCommand(first);
  return execute((await entry.load()).command, rest);
}

// `meshfilter ... | head` closes our stdout early: that is the reader's choice, not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = reportError("meshfilter", err);
  },
);
