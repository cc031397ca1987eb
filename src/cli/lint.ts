// `meshfilter lint FILE [--json]`: check an account against the seed's zero-trust
// practices (src/policy/lint.ts). Exit codes let CI gate on it: 1 when any error-level
// finding exists, 2 when the policy cannot be read or fails validation.

import { LINT_CHECKS, lintAccount, type Finding } from "../policy/lint.ts";
import { loadPolicyFile } from "../policy/load.ts";
import { printableLines } from "../text/printable.ts";
import { EXIT_USAGE, fail, HELP_OPTION, parseCommandLine, policyLoadFailure } from "./common.ts";

const HELP = `usage: meshfilter lint FILE [--json] [--honour-bidirectional]

Check an account policy (JSON or YAML, meshfilter or NetBird export) against
zero-trust practices and print one finding per line: severity, id, the reason, and
the ids of the objects involved.

options:
  --json                   print {"findings": [{"id", "severity", "message", "objects"}]}
  --honour-bidirectional   judge directions as newer NetBird does (flag honoured everywhere)
  -h, --help               this text

checks:
${LINT_CHECKS.map((c) => `  ${c.id.padEnd(34)} ${c.severity.padEnd(8)} ${c.meaning}`).join("\n")}

exit codes:
  0  no error-level finding (warnings and info may be present)
  1  at least one error-level finding
  2  bad usage, unreadable file, or a policy that fails validation (problems printed
     with their JSON paths)`;

function summary(findings: Finding[]): string {
  const count = (s: string) => findings.filter((f) => f.severity === s).length;
  return `${findings.length} finding${findings.length === 1 ? "" : "s"}: ${count("error")} error, ${count("warning")} warning, ${count("info")} info`;
}

const COMMAND = "lint";

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(COMMAND, HELP, {
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      "honour-bidirectional": { type: "boolean", default: false },
      help: HELP_OPTION,
    },
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return fail(COMMAND, `give exactly one policy FILE\n\n${HELP}`, EXIT_USAGE);
  const file = positionals[0];
  let findings: Finding[];
  try {
    findings = lintAccount(loadPolicyFile(file), { honourBidirectionalFlag: values["honour-bidirectional"] });
  } catch (err) {
    return policyLoadFailure(COMMAND, err);
  }
  if (values.json) {
    console.log(JSON.stringify({ findings: findings.map(({ id, severity, message, objects }) => ({ id, severity, message, objects })) }, null, 2));
  } else {
    console.log(printableLines([`${file}: ${summary(findings)}`, ...findings.map((f) => `${f.severity.padEnd(7)} ${f.id.padEnd(34)} ${f.message} [${f.objects.join(", ")}]`)]));
  }
  return findings.some((f) => f.severity === "error") ? 1 : 0;
}
