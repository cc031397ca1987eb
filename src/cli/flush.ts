// `meshfilter flush`: remove tracked connections from a running agent, like `conntrack -F`
// (or `conntrack -D` with filters). Their next packets are judged as new.

import { EXIT_USAGE, HELP_OPTION, parseCommandLine, fail } from "./common.ts";
import { ask, CONTROL_HELP, CONTROL_OPTIONS } from "./control-client.ts";
import { filterArgs, FILTER_OPTIONS } from "./flows.ts";

const HELP = `usage: meshfilter flush [filters] [--control PATH] [--json]

Removes a running agent's tracked connections: all of them, or those the filters
select (the filters of 'meshfilter flows': --address, --src, --dst, --port, --proto,
--state, --policy). A removed connection's next packet is judged as a new one: a TCP
segment that is no SYN is dropped (tcp-no-connection) unless --loose-tcp is on.

options:
${CONTROL_HELP}
  -h, --help       this text`;

const COMMAND = "flush";

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(COMMAND, HELP, { args: argv, options: { ...CONTROL_OPTIONS, ...FILTER_OPTIONS, help: HELP_OPTION } });
  if (typeof parsed === "number") return parsed;
  const answer = await ask(COMMAND, "flush", filterArgs(parsed.values), parsed.values.control);
  if (typeof answer === "number") return answer;
  const { flushed } = answer.result as { flushed: number };
  console.log(parsed.values.json ? JSON.stringify(answer.result) : `${flushed} flow${flushed === 1 ? "" : "s"} removed`);
  return 0;
}
