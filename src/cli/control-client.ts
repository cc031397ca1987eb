// What the commands that talk to a running agent share (status, flows, flush, trace,
// counters, reload, log-level): the --control and --json flags, one request, and the
// one-line message when the agent cannot be reached or refuses (exit 1).

import { ControlError, request } from "../control/client.ts";
import { DEFAULT_CONTROL_PATH, type CommandName } from "../control/protocol.ts";
import { CliError } from "./command.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./exit-codes.ts";

export const CONTROL_FLAGS = {
  control: { type: "string", value: "PATH", help: `the agent's control socket (default ${DEFAULT_CONTROL_PATH})` },
  json: { type: "boolean", help: "print the agent's answer as JSON" },
} as const;

export const CONTROL_EXITS = {
  [EXIT_OK]: "done",
  [EXIT_FAILURE]: "no agent listens at the socket, permission is missing, or the agent refused",
  [EXIT_USAGE]: "bad usage",
};

/** Asks the agent at `path` (default socket when undefined); a failure is a one-line CliError (exit 1). */
export async function ask(name: CommandName, args: Record<string, unknown>, path: string | undefined): Promise<unknown> {
  try {
    return await request(name, args, path ?? DEFAULT_CONTROL_PATH);
  } catch (err) {
    if (err instanceof ControlError) throw new CliError(err.message, EXIT_FAILURE);
    throw err;
  }
}

/** Milliseconds as "3s", "5m 3s", "2h 5m". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}
