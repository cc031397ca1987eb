// `meshfilter pull --out FILE [--url URL] [--token-file FILE]`: read an account from a
// NetBird management API (src/pull/) and write it as one export file that lint, compile,
// explain, replay and run read. The file is written only when the whole account was read
// and loads; an existing file is replaced atomically.

import { readFileSync } from "node:fs";
import { lintAccount } from "../policy/lint/lint.ts";
import { parsePolicyText } from "../policy/input/load.ts";
import { PolicyError } from "../policy/model/model.ts";
import { NetBirdApiClient } from "../pull/api-client.ts";
import { writeFileAtomic } from "../pull/atomic-write.ts";
import { pullAccount } from "../pull/pull-account.ts";
import { PullError } from "../pull/pull-error.ts";
import { CliError, defineCommand, UsageError } from "./command.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./exit-codes.ts";

export const NETBIRD_CLOUD_API = "https://api.netbird.io";

export const command = defineCommand({
  name: "pull",
  usage: "--out FILE [--url URL] [--token-file FILE] [options]",
  description: `Reads an account from a NetBird management API (peers, groups, users, posture
checks, policies, routes, networks with their resources and routers) and writes it to
FILE as one NetBird export, then prints what it got and the account's lint summary.
The token (a personal access token, from --token-file or NETBIRD_API_TOKEN) is sent as
"Authorization: Token <PAT>". For a private CA, set NODE_EXTRA_CA_CERTS to its PEM
file. See docs/netbird.md.`,
  flags: {
    out: { type: "string", value: "FILE", required: true, help: "where to write the account (replaced atomically; untouched on failure)" },
    url: { type: "string", value: "URL", help: `the management URL (default ${NETBIRD_CLOUD_API})` },
    "token-file": { type: "string", value: "FILE", help: "a file holding a personal access token; default: $NETBIRD_API_TOKEN" },
    timeout: { type: "string", value: "SECONDS", help: "per request attempt (default 30)" },
    retries: { type: "string", value: "N", help: "retries on 429, 5xx and network errors, with backoff honouring Retry-After (default 4)" },
  },
  exits: {
    [EXIT_OK]: "written",
    [EXIT_FAILURE]: "the API could not be read (the request and the reason are printed), or the account it returned does not load; nothing written",
    [EXIT_USAGE]: "bad usage, no token, or FILE cannot be written",
  },
  async run({ flags }) {
    const timeout = Number(flags.timeout ?? "30");
    const retries = Number(flags.retries ?? "4");
    if (!(timeout > 0)) throw new UsageError(`--timeout must be a positive number of seconds, not "${flags.timeout}"`);
    if (!Number.isInteger(retries) || retries < 0) throw new UsageError(`--retries must be a whole number, not "${flags.retries}"`);
    let url: URL;
    try {
      url = new URL(flags.url ?? NETBIRD_CLOUD_API);
    } catch {
      throw new UsageError(`--url "${flags.url}" is not a URL (e.g. ${NETBIRD_CLOUD_API})`);
    }
    const token = readToken(flags["token-file"]);

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
      if (err instanceof PullError) throw new CliError(err.message, EXIT_FAILURE);
      if (err instanceof PolicyError) throw new CliError(`nothing written: ${err.message}`, EXIT_FAILURE);
      throw err;
    } finally {
      progress.clear();
    }
    try {
      writeFileAtomic(flags.out, text);
    } catch (err) {
      throw new CliError(`cannot write ${flags.out}: ${(err as Error).message}`, EXIT_USAGE);
    }
    const count = (s: string) => findings.filter((f) => f.severity === s).length;
    console.log(`${flags.out}: ${Object.entries(counts).map(([k, n]) => `${n} ${k.replace(/_/g, " ")}`).join(", ")}`);
    console.log(`lint: ${findings.length} finding${findings.length === 1 ? "" : "s"}: ${count("error")} error, ${count("warning")} warning, ${count("info")} info (meshfilter lint ${flags.out})`);
    return EXIT_OK;
  },
});

/** The token from --token-file, else NETBIRD_API_TOKEN; a CliError (exit 2) says why there is none. */
function readToken(file: string | undefined): string {
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new CliError(`cannot read the token file ${file}: ${(err as Error).message}`, EXIT_USAGE);
    }
    const token = text.trim();
    if (!token) throw new CliError(`the token file ${file} is empty`, EXIT_USAGE);
    return token;
  }
  const env = process.env.NETBIRD_API_TOKEN?.trim();
  if (!env) throw new CliError("no token: give --token-file FILE or set NETBIRD_API_TOKEN (a NetBird personal access token, see docs/netbird.md)", EXIT_USAGE);
  return env;
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
