// `meshfilter reload`: have a running agent read its policy file again now (as SIGHUP
// does), and say whether the new policy is in force or why it was rejected.

import { CliError, defineCommand } from "./command.ts";
import { ask, CONTROL_FLAGS } from "./control-client.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./exit-codes.ts";

export const command = defineCommand({
  name: "reload",
  usage: "[--control PATH] [--json]",
  description: `Reads the agent's policy file again. A valid policy is put in force at once and the
connections it no longer allows are cut (P14); an invalid one is rejected and the policy
in force stays.`,
  flags: CONTROL_FLAGS,
  exits: {
    [EXIT_OK]: "the policy was applied",
    [EXIT_FAILURE]: "the policy was rejected (the one in force stays), or no agent could be reached",
    [EXIT_USAGE]: "bad usage",
  },
  async run({ flags }) {
    const r = (await ask("reload", {}, flags.control)) as { applied: boolean; error: string | null };
    if (flags.json) console.log(JSON.stringify(r));
    if (!r.applied) {
      if (flags.json) return EXIT_FAILURE;
      throw new CliError(`policy rejected, the previous policy stays in force: ${r.error ?? "unknown reason"}`, EXIT_FAILURE);
    }
    if (!flags.json) console.log("policy applied");
    return EXIT_OK;
  },
});
