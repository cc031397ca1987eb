// `meshfilter lint FILE [--json]`: check an account against zero-trust
// practices (src/policy/lint/lint.ts). Exit codes let CI gate on it: 1 when any error-level
// finding exists, 2 when the policy cannot be read or fails validation.

import { LINT_CHECKS, lintAccount, type Finding } from "../policy/lint/lint.ts";
import { loadPolicyFile } from "../policy/input/load.ts";
import { formatCount } from "../text/numbers.ts";
import { printableLines } from "../text/printable.ts";
import { defineCommand } from "./command.ts";
import { withPolicy } from "./common.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./exit-codes.ts";

function summary(findings: Finding[]): string {
  const count = (s: string) => findings.filter((f) => f.severity === s).length;
  const n = (k: number) => formatCount(k);
  return `${n(findings.length)} finding${findings.length === 1 ? "" : "s"}: ${n(count("error"))} error, ${n(count("warning"))} warning, ${n(count("info"))} info`;
}

export const command = defineCommand({
  name: "lint",
  usage: "FILE [--json] [--honour-bidirectional]",
  description: `Checks an account policy (JSON or YAML, meshfilter or NetBird export) against
zero-trust practices and prints one finding per line: severity, id, the reason, and
the ids of the objects involved.

checks:
${LINT_CHECKS.map((c) => `  ${c.id.padEnd(34)} ${c.severity.padEnd(8)} ${c.meaning}`).join("\n")}`,
  args: { name: "FILE", min: 1, max: 1 },
  flags: {
    json: { type: "boolean", help: 'print {"findings": [{"id", "severity", "message", "objects"}]}' },
    "honour-bidirectional": { type: "boolean", help: "judge directions as newer NetBird does (flag honoured everywhere)" },
  },
  exits: {
    [EXIT_OK]: "no error-level finding (warnings and info may be present)",
    [EXIT_FAILURE]: "at least one error-level finding",
    [EXIT_USAGE]: "bad usage, unreadable file, or a policy that fails validation (problems printed with their JSON paths)",
  },
  async run({ flags, args }) {
    const file = args[0];
    const findings = withPolicy(file, () => lintAccount(loadPolicyFile(file), { honourBidirectionalFlag: flags["honour-bidirectional"] }));
    if (flags.json) {
      console.log(JSON.stringify({ findings: findings.map(({ id, severity, message, objects }) => ({ id, severity, message, objects })) }, null, 2));
    } else {
      console.log(printableLines([`${file}: ${summary(findings)}`, ...findings.map((f) => `${f.severity.padEnd(7)} ${f.id.padEnd(34)} ${f.message} [${f.objects.join(", ")}]`)]));
    }
    return findings.some((f) => f.severity === "error") ? EXIT_FAILURE : EXIT_OK;
  },
});
