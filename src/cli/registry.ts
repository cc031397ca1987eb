// Every meshfilter command, in the order `meshfilter help` lists them.
//
// To add a command:
//   1. Write src/cli/NAME.ts exporting `command = defineCommand({ name, usage, description,
//      flags, args, exits, run })` (see command.ts; replay.ts is a full example). Declare
//      every flag with its type and help; `required: true` instead of checking by hand.
//   2. In run(), throw UsageError for bad usage and CliError(message, EXIT_...) for other
//      failures, one line naming what and where; use only the codes in exit-codes.ts.
//      Return EXIT_OK when done. Print results with console.log; never process.exit.
//   3. Add one line below: name, one-line summary (lower case, no full stop), loader.
//   4. Test it through the real bin (`meshfilter(...)` in test/replay/cli.ts), as test/cli/ does.
// Commands are loaded on demand, so `meshfilter --help` and each command pay only for
// what they use.

import type { AnyCommand } from "./command.ts";

export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<{ command: AnyCommand }>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: "replay", summary: "judge every packet of a pcap/pcapng capture as a peer's filter would", load: () => import("./replay.ts") },
  { name: "lint", summary: "check a policy against zero-trust practices", load: () => import("./lint.ts") },
  { name: "explain", summary: "say why a new connection would be accepted or dropped", load: () => import("./explain.ts") },
  { name: "compile", summary: "print the rule tables one peer enforces", load: () => import("./compile.ts") },
  { name: "pull", summary: "read an account from a NetBird management API into one file", load: () => import("./pull.ts") },
  { name: "run", summary: "run a peer agent: TUN device, filter, UDP transport", load: () => import("./run.ts") },
  { name: "stats", summary: "print a running agent's counters (from its metrics port)", load: () => import("./stats.ts") },
  { name: "status", summary: "what a running agent is: peer, policy, table, counters", load: () => import("./status.ts") },
  { name: "flows", summary: "a running agent's tracked connections (conntrack -L), --watch for events", load: () => import("./flows.ts") },
  { name: "trace", summary: "run a packet through a running agent's filter, stage by stage", load: () => import("./trace.ts") },
  { name: "counters", summary: "a running agent's per-rule totals and verdicts by reason", load: () => import("./counters.ts") },
  { name: "reload", summary: "have a running agent read its policy file again", load: () => import("./reload.ts") },
  { name: "log-level", summary: "change a running agent's log level", load: () => import("./log-level.ts") },
  { name: "flush", summary: "remove a running agent's tracked connections", load: () => import("./flush.ts") },
  { name: "watch", summary: "shadow mode: judge live traffic on an interface without enforcing", load: () => import("./watch.ts") },
];
