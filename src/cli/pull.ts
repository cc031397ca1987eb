// `meshfilter pull --out FILE [--url URL] [--token-file FILE]`: read an account from a
// NetBird management API (src/pull/) and write it as one export file that lint, compile,
// explain, replay and run read. The file is written only when the whole account was read
// and loads; an existing file is replaced atomically.

import { readFileSync } from "node:fs";
import { lintAccount } from "../policy/lint.ts";
import { parsePolicyText } from "../policy/load.ts";
import { PolicyError } from "../policy/model.ts";
import { NetBirdApiClient } from "../pull/api-client.ts";
import { writeFileAtomic } from "../pull/atomic-write.ts";
import { pullAccount } from "../pull/pull-account.ts";
import { PullError } from "../pull/pull-error.ts";
import { EXIT_USAGE, fail, HELP_OPTION, parseCommandLine } from "./common.ts";

export const NETBIRD_CLOUD_API = "https://api.netbird.io";

const HELP = `usage: meshfilter pull --out FILE [--url URL] [--token-file FILE]

Read an account from a NetBird management API (peers, groups, users, posture checks,
policies, routes, networks with their resources and routers) and write it to FILE as
one NetBird export, then print what it got and the account's lint summary.

options:
  --out FILE          where to write the account (replaced atomically; untouched on failure)
  --url URL           the management URL (default ${NETBIRD_CLOUD_API})
  --token-file FILE   a file holding a personal access token; default: $NETBIRD_API_TOKEN
  --timeout SECONDS   per request attempt (default 30)
  --retries N         retries on 429, 5xx and network errors, with backoff (default 4)
  -h, --help          this text

The token is sent as "Authorization: Token <PAT>". For a private CA, set
NODE_EXTRA_CA_CERTS to its PEM file. See docs/netbird.md.

exit codes:
  0  written
  1  the API could not be read (the request and the reason are printed), or the
     account it returned does not load
  2  bad usage, no token, or FILE cannot be written`;

const COMMAND = "pull";

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(COMMAND, HELP, {
    args: argv,
    options: {
      out: { type: "string" },
      url: { type: "string", default: NETBIRD_CLOUD_API },
      "token-file": { type: "string" },
      timeout: { type: "string", default: "30" },
      retries: { type: "string", default: "4" },
      help: HELP_OPTION,
    },
  });
  if (typeof parsed === "number") return parsed;
  const { values } = parsed;
  if (!values.out) return fail(COMMAND, `--out FILE is required\n\n${HELP}`, EXIT_USAGE);
  const timeout = Number(values.timeout);
  const retries = Number(values.retries);
  if (!(timeout > 0)) return fail(COMMAND, `--timeout must be a positive number of seconds, not "${values.timeout}"`, EXIT_USAGE);
  if (!Number.isInteger(retries) || retries < 0) return fail(COMMAND, `--retries must be a whole number, not "${values.retries}"`, EXIT_USAGE);
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    return fail(COMMAND, `--url "${values.url}" is not a URL (e.g. ${NETBIRD_CLOUD_API})`, EXIT_USAGE);
  }
  const token = readToken(values["token-file"]);
  if (typeof token !== "string") return fail(COMMAND, token.error, EXIT_USAGE);

  const progress = progressLine();
  const client = new NetBirdApiClient({
    baseUrl: url.href,
    token,
    timeoutMs: timeout * 1000,
    retries,
    onRetry: (what, waitMs) => progress.note(`${what}; retrying in ${(waitMs / 1000).toFixed(1)} s`),
  });
  let text: string;
  let counts: Record<string, number>;
  let findings: ReturnType<typeof lintAccount>;
  try {
    const pulled = await pullAccount(client, (step) => progress.show(`pull: GET ${step}`));
    text = JSON.stringify(pulled.document, null, 2) + "\n";
    counts = pulled.counts;
    findings = lintAccount(parsePolicyText(text, `the account from ${url.origin}`));
  } catch (err) {
    progress.clear();
    if (err instanceof PullError) return fail(COMMAND, err.message, 1);
    if (err instanceof PolicyError) return fail(COMMAND, `nothing written: ${err.message}`, 1);
    throw err;
  }
  progress.clear();
  try {
    writeFileAtomic(values.out, text);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return fail(COMMAND, `cannot write ${values.out}: ${e.message}`, EXIT_USAGE);
  }
  const count = (s: string) => findings.filter((f) => f.severity === s).length;
  console.log(`${values.out}: ${Object.entries(counts).map(([k, n]) => `${n} ${k.replace(/_/g, " ")}`).join(", ")}`);
  console.log(`lint: ${findings.length} finding${findings.length === 1 ? "" : "s"}: ${count("error")} error, ${count("warning")} warning, ${count("info")} info (meshfilter lint ${values.out})`);
  return 0;
}

/** The token from --token-file, else NETBIRD_API_TOKEN; or why there is none. */
function readToken(file: string | undefined): string | { error: string } {
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      return { error: `cannot read the token file ${file}: ${(err as Error).message}` };
    }
    return text.trim() || { error: `the token file ${file} is empty` };
  }
  const env = process.env.NETBIRD_API_TOKEN?.trim();
  return env || { error: "no token: give --token-file FILE or set NETBIRD_API_TOKEN (a NetBird personal access token, see docs/netbird.md)" };
}

/** One status line on stderr, rewritten in place, only when stderr is a terminal. */
function progressLine() {
  const tty = process.stderr.isTTY === true;
  return {
    show(text: string) {
      if (tty) process.stderr.write(`\r\x1b[K${text}`);
    },
    note(text: string) {
      if (tty) process.stderr.write(`\r\x1b[K${text}\n`);
    },
    clear() {
      if (tty) process.stderr.write("\r\x1b[K");
    },
  };
}
