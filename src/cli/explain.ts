// `meshfilter explain --policy FILE --peer P "tcp 100.64.0.5:51000 > 100.64.0.9:5432 S"`:
// say whether a new connection would be accepted by peer P's filter, and why.

import { parseResolveOptions } from "../engine/resolved-domains.ts";
import { explain, explainCompiled, ExplainQueryError } from "../policy/explain/explain.ts";
import { loadPolicyFile } from "../policy/input/load.ts";
import { loadNetworkMapFile } from "../policy/input/netbird/network-map.ts";
import { printableLines } from "../text/printable.ts";
import { defineCommand, UsageError } from "./command.ts";
import { HONOUR_BIDIRECTIONAL_FLAG, POLICY_OR_MAP_FLAGS, policySource, RESOLVE_FLAG, withPolicy } from "./common.ts";
import { EXIT_OK, EXIT_USAGE } from "./exit-codes.ts";

export const command = defineCommand({
  name: "explain",
  usage: '(--policy FILE --peer PEER | --network-map FILE) "QUERY" [--json] [--egress] [--resolve NAME=IP,...] [--honour-bidirectional]',
  description: `Says what PEER's filter does with a NEW connection arriving at it, leaving it, or
routed through it to a network resource, and why: the rule and policy that decided,
or the reason for a drop (no rule, a drop rule, a failed posture check, a disabled
policy or rule, a one-way rule that allows the other direction, not a new connection).

QUERY (tcpdump-like; one quoted argument or several words):
  "tcp 100.64.0.5:51000 > 100.64.0.9:5432 S"     TCP flags optional (default S)
  "udp 1.2.3.4:53000 > 100.64.0.9:53"
  "icmp 100.64.0.5 > 100.64.0.9 echo-request"    ICMP type name or number (default echo-request)
  "tcp [fd00::1]:51000 > [fd00::9]:443"          IPv6 in brackets when a port follows`,
  args: { name: "QUERY", min: 1, max: Infinity },
  flags: {
    ...POLICY_OR_MAP_FLAGS,
    resolve: RESOLVE_FLAG,
    json: { type: "boolean", help: 'print {"verdict", "stage", "direction", "rule", "policy", "reason", "engineReason", "stages", "query"}' },
    egress: { type: "boolean", help: "judge outbound connections by the outbound rules (P13)" },
    "honour-bidirectional": HONOUR_BIDIRECTIONAL_FLAG,
  },
  exits: {
    [EXIT_OK]: "explained (accept or drop)",
    [EXIT_USAGE]: "bad usage, a query that cannot be read, a bad policy or an unknown peer",
  },
  async run({ flags, args }) {
    const query = args.join(" ");
    const source = policySource(flags);
    const sourcePath = source.networkMapPath ?? source.policyPath!;
    const options = {
      egress: flags.egress,
      honourBidirectionalFlag: flags["honour-bidirectional"],
      resolve: flags.resolve.length > 0 ? withPolicy(sourcePath, () => parseResolveOptions(flags.resolve)) : undefined,
    };
    // The policy (or map) is read before the query is judged, so an unreadable file is said first.
    const map = source.networkMapPath ? withPolicy(sourcePath, () => loadNetworkMapFile(source.networkMapPath!)) : undefined;
    const account = map ? undefined : withPolicy(sourcePath, () => loadPolicyFile(source.policyPath!));
    let answer: ReturnType<typeof explain>;
    try {
      answer = withPolicy(sourcePath, () => (map ? explainCompiled(map, query, options) : explain(account!, source.peer!, query, options)));
    } catch (err) {
      if (err instanceof ExplainQueryError) throw new UsageError(`bad query: ${err.message}`);
      throw err;
    }
    if (flags.json) console.log(JSON.stringify(answer, null, 2));
    else {
      console.log(printableLines([`${answer.verdict.toUpperCase()} (${answer.direction}, ${answer.stage})${answer.rule ? ` rule ${answer.rule}` : ""}`, `  ${answer.reason}`]));
    }
    return EXIT_OK;
  },
});
