// The meshfilter command line: one file per command, loaded on demand so that a
// command only pays for what it uses. Each command module exports
// `run(argv: string[]): Promise<number>` and returns the process exit code.

import { printableLines } from "../text/printable.ts";

const commands: Record<string, { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> }> = {
  replay: { summary: "judge every packet of a pcap/pcapng capture as a peer's filter would", load: () => import("./replay.ts") },
  lint: { summary: "check a policy against zero-trust practices", load: () => import("./lint.ts") },
  explain: { summary: "say why a new connection would be accepted or dropped", load: () => import("./explain.ts") },
  compile: { summary: "print the rule tables one peer enforces", load: () => import("./compile.ts") },
  pull: { summary: "read an account from a NetBird management API into one file", load: () => import("./pull.ts") },
  run: { summary: "run a peer agent: TUN device, filter, UDP transport", load: () => import("./run.ts") },
  stats: { summary: "print a running agent's counters", load: () => import("./stats.ts") },
  watch: { summary: "shadow mode: judge live traffic on an interface without enforcing", load: () => import("./watch.ts") },
};

function usage(): string {
  const lines = ["usage: meshfilter <command> [options]", "", "commands:"];
  for (const [name, c] of Object.entries(commands)) lines.push(`  ${name.padEnd(9)} ${c.summary}`);
  lines.push("", "Run 'meshfilter <command> --help' for a command's options.");
  return lines.join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "-h" || name === "--help" || name === "help") {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    console.error(`meshfilter: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const mod = await command.load();
  return mod.run(rest);
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
    // Expected failures (bad policy, unreadable capture) are reported by the commands
    // themselves; whatever reaches here is reported without a stack unless asked for.
    const message = err instanceof Error ? err.message : String(err);
    console.error(printableLines(`meshfilter: ${message}`.split("\n")));
    if (process.env.MESHFILTER_DEBUG && err instanceof Error) console.error(err.stack);
    process.exitCode = 1;
  },
);
