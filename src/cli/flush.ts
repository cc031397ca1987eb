// `meshfilter flush`: remove tracked connections from a running agent, like `conntrack -F`
// (or `conntrack -D` with filters). Their next packets are judged as new.

import { defineCommand } from "./command.ts";
import { ask, CONTROL_EXITS, CONTROL_FLAGS } from "./control-client.ts";
import { EXIT_OK } from "./exit-codes.ts";
import { filterArgs, FILTER_FLAGS } from "./flows.ts";

export const command = defineCommand({
  name: "flush",
  usage: "[filters] [--control PATH] [--json]",
  description: `Removes a running agent's tracked connections: all of them, or those the filters
select (the filters of 'meshfilter flows'). A removed connection's next packet is judged
as a new one: a TCP segment that is no SYN is dropped (tcp-no-connection) unless
--loose-tcp is on.`,
  flags: { ...FILTER_FLAGS, ...CONTROL_FLAGS },
  exits: CONTROL_EXITS,
  async run({ flags }) {
    const r = (await ask("flush", filterArgs(flags), flags.control)) as { flushed: number };
    console.log(flags.json ? JSON.stringify(r) : `${r.flushed} flow${r.flushed === 1 ? "" : "s"} removed`);
    return EXIT_OK;
  },
});
