// What the commands that talk to a running agent share (status, flows, flush, trace,
// counters, reload, log-level): the --control option, one request, and the one-line
// message when the agent cannot be reached (exit 1) or refuses (exit 1).

import { ControlError, request } from "../control/client.ts";
import { DEFAULT_CONTROL_PATH, type CommandName } from "../control/protocol.ts";
import { fail } from "./common.ts";

export const CONTROL_OPTIONS = {
  control: { type: "string", default: DEFAULT_CONTROL_PATH },
  json: { type: "boolean", default: false },
} as const;

export const CONTROL_HELP = `  --control PATH   the agent's control socket (default ${DEFAULT_CONTROL_PATH})
  --json           print the agent's answer as JSON`;

/** Exit code when the agent cannot be reached or refuses the request. */
export const EXIT_AGENT = 1;

/** Asks the agent; on failure prints the one-line reason and returns the exit code instead. */
export async function ask(command: string, name: CommandName, args: Record<string, unknown>, path: string): Promise<{ result: unknown } | number> {
  try {
    return { result: await request(name, args, path) };
  } catch (err) {
    if (err instanceof ControlError) return fail(command, err.message, EXIT_AGENT);
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
