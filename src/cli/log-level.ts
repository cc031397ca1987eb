// `meshfilter log-level LEVEL`: change a running agent's log level.

import { LOG_LEVELS } from "../agent/control-handlers.ts";
import { EXIT_USAGE, HELP_OPTION, parseCommandLine, fail } from "./common.ts";
import { ask, CONTROL_HELP, CONTROL_OPTIONS } from "./control-client.ts";

const HELP = `usage: meshfilter log-level LEVEL [--control PATH] [--json]

Sets a running agent's log level: ${LOG_LEVELS.join(", ")}.

options:
${CONTROL_HELP}
  -h, --help       this text`;

const COMMAND = "log-level";

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(COMMAND, HELP, { args: argv, allowPositionals: true, options: { ...CONTROL_OPTIONS, help: HELP_OPTION } });
  if (typeof parsed === "number") return parsed;
  const [level, extra] = parsed.positionals;
  if (level === undefined || extra !== undefined) return fail(COMMAND, `one LEVEL is required\n\n${HELP}`, EXIT_USAGE);
  if (!LOG_LEVELS.includes(level)) return fail(COMMAND, `"${level}" is not a log level (${LOG_LEVELS.join(", ")})`, EXIT_USAGE);
  const answer = await ask(COMMAND, "log-level", { level }, parsed.values.control);
  if (typeof answer === "number") return answer;
  const r = answer.result as { level: string; previous: string };
  console.log(parsed.values.json ? JSON.stringify(r) : `log level ${r.previous} -> ${r.level}`);
  return 0;
}
