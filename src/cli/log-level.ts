// `meshfilter log-level LEVEL`: change a running agent's log level.

import { LOG_LEVELS } from "../agent/control-handlers.ts";
import { defineCommand, UsageError } from "./command.ts";
import { ask, CONTROL_EXITS, CONTROL_FLAGS } from "./control-client.ts";
import { EXIT_OK } from "./exit-codes.ts";

export const command = defineCommand({
  name: "log-level",
  usage: "LEVEL [--control PATH] [--json]",
  description: `Sets a running agent's log level: ${LOG_LEVELS.join(", ")}.`,
  flags: CONTROL_FLAGS,
  args: { name: "LEVEL", min: 1, max: 1 },
  exits: CONTROL_EXITS,
  async run({ flags, args }) {
    const level = args[0];
    if (!LOG_LEVELS.includes(level)) throw new UsageError(`"${level}" is not a log level (${LOG_LEVELS.join(", ")})`);
    const r = (await ask("log-level", { level }, flags.control)) as { level: string; previous: string };
    console.log(flags.json ? JSON.stringify(r) : `log level ${r.previous} -> ${r.level}`);
    return EXIT_OK;
  },
});
