// `meshfilter reload`: have a running agent read its policy file again now (as SIGHUP
// does), and say whether the new policy is in force or why it was rejected.

import { printableLines } from "../text/printable.ts";
import { EXIT_USAGE, HELP_OPTION, parseCommandLine, fail } from "./common.ts";
import { ask, CONTROL_HELP, CONTROL_OPTIONS } from "./control-client.ts";

const HELP = `usage: meshfilter reload [--control PATH] [--json]

Reads the agent's policy file again. A valid policy is put in force at once and the
connections it no longer allows are cut (P14); an invalid one is rejected and the policy
in force stays. Exit 0 when applied, 1 when rejected.

options:
${CONTROL_HELP}
  -h, --help       this text`;

const COMMAND = "reload";

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(COMMAND, HELP, { args: argv, options: { ...CONTROL_OPTIONS, help: HELP_OPTION } });
  if (typeof parsed === "number") return parsed;
  const answer = await ask(COMMAND, "reload", {}, parsed.values.control);
  if (typeof answer === "number") return answer;
  const r = answer.result as { applied: boolean; error: string | null };
  if (parsed.values.json) console.log(JSON.stringify(r));
  else if (r.applied) console.log("policy applied");
  if (!r.applied && !parsed.values.json) console.error(printableLines([`meshfilter reload: policy rejected, the previous policy stays in force: ${r.error ?? "unknown reason"}`]));
  return r.applied ? 0 : 1;
}
