// `meshfilter explain --policy FILE --peer P "tcp 100.64.0.5:51000 > 100.64.0.9:5432 S"`:
// say whether a new connection would be accepted by peer P's filter, and why.

import { explain, ExplainQueryError } from "../policy/explain.ts";
import { loadPolicyFile } from "../policy/load.ts";
import { printableLines } from "../text/printable.ts";
import { EXIT_USAGE, fail, HELP_OPTION, parseCommandLine, policyLoadFailure } from "./common.ts";

const HELP = `usage: meshfilter explain --policy FILE --peer PEER "QUERY" [--json] [--egress] [--honour-bidirectional]

Say what PEER's filter does with a NEW connection arriving at it, leaving it, or
routed through it to a network resource, and why: the rule and policy that decided,
or the reason for a drop (no rule, a drop rule, a failed posture check, a disabled
policy or rule, a one-way rule that allows the other direction, not a new connection).

QUERY (tcpdump-like):
  "tcp 100.64.0.5:51000 > 100.64.0.9:5432 S"     TCP flags optional (default S)
  "udp 1.2.3.4:53000 > 100.64.0.9:53"
  "icmp 100.64.0.5 > 100.64.0.9 echo-request"    ICMP type name or number (default echo-request)
  "tcp [fd00::1]:51000 > [fd00::9]:443"          IPv6 in brackets when a port follows

options:
  --policy FILE            account policy (JSON or YAML, meshfilter or NetBird export)
  --peer PEER              id, name or overlay IP of the peer whose filter judges
  --json                   print {"verdict", "stage", "direction", "rule", "policy", "reason", "query"}
  --egress                 judge outbound connections by the outbound rules (P13)
  --honour-bidirectional   honour the bidirectional flag for every protocol
  -h, --help               this text

exit codes: 0 explained (accept or drop); 1 the query cannot be read; 2 bad usage,
bad policy or unknown peer`;

const COMMAND = "explain";

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(COMMAND, HELP, {
    args: argv,
    allowPositionals: true,
    options: {
      policy: { type: "string" },
      peer: { type: "string" },
      json: { type: "boolean", default: false },
      egress: { type: "boolean", default: false },
      "honour-bidirectional": { type: "boolean", default: false },
      help: HELP_OPTION,
    },
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (!values.policy || !values.peer || positionals.length === 0) {
    return fail(COMMAND, `--policy, --peer and a QUERY are required\n\n${HELP}`, EXIT_USAGE);
  }
  // The query may be given as one quoted argument or as several words.
  const query = positionals.join(" ");
  try {
    const account = loadPolicyFile(values.policy);
    const answer = explain(account, values.peer, query, { egress: values.egress, honourBidirectionalFlag: values["honour-bidirectional"] });
    if (values.json) console.log(JSON.stringify(answer, null, 2));
    else {
      console.log(printableLines([`${answer.verdict.toUpperCase()} (${answer.direction}, ${answer.stage})${answer.rule ? ` rule ${answer.rule}` : ""}`, `  ${answer.reason}`]));
    }
    return 0;
  } catch (err) {
    if (err instanceof ExplainQueryError) return fail(COMMAND, `bad query: ${err.message}`, 1);
    return policyLoadFailure(COMMAND, err);
  }
}
