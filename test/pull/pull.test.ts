// `meshfilter pull` against a NetBird management API on loopback (HTTP, and HTTPS with a
// self-signed certificate), serving responses built from NetBird's OpenAPI file, and bad
// ones: every failure is one line, and nothing is written.

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { execute } from "../../src/cli/command.ts";
import { command as pullCommand } from "../../src/cli/pull.ts";
import { compilePeer } from "../../src/policy/compile/compile.ts";
import { loadPolicyFile } from "../../src/policy/input/load.ts";
import { MESHFILTER_BIN, ROOT, runCommand } from "../support/cli.ts";
import { accountRoutes, selfSignedCertificate, startServer, type TestServer } from "./netbird-test-server.ts";

const runPull = (argv: string[]) => execute(pullCommand, argv);
const dir = mkdtempSync(path.join(tmpdir(), "meshfilter-pull-"));
const tokenFile = path.join(dir, "token");
writeFileSync(tokenFile, "nbp_TestToken0123456789\n");
let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

let fileCounter = 0;
const outFile = () => path.join(dir, `account-${++fileCounter}.json`);
const pull = (url: string, out: string, ...extra: string[]) => runCommand(runPull, ["--url", url, "--token-file", tokenFile, "--out", out, "--retries", "2", "--timeout", "5", ...extra]);

/** The CLI in a child process (for NODE_EXTRA_CA_CERTS, read at start-up). */
function pullChild(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MESHFILTER_BIN, "pull", ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("meshfilter pull", () => {
  it("reads every collection with the token, writes an account that compiles, and prints counts and the lint summary", async () => {
    server = await startServer(accountRoutes());
    const out = outFile();
    const r = await pull(server.url, out);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `${out}: 3 peers, 4 groups, 1 users, 1 posture checks, 1 policies, 0 routes, 1 networks, 1 network resources, 1 network routers\n` +
        `lint: 0 findings: 0 error, 0 warning, 0 info (meshfilter lint ${out})`,
    );
    expect(new Set(server.requests.map((q) => q.authorization))).toEqual(new Set(["Token nbp_TestToken0123456789"]));
    const account = loadPolicyFile(out);
    expect(account.warnings).toBeUndefined(); // every field the API sends is known
    expect(compilePeer(account, "db-1").inbound.map((x) => `${x.sources} ${x.ports}`)).toEqual(["100.64.0.10/32 5432"]);
    expect(compilePeer(account, "router-1").routes.map((x) => x.destinations.join())).toEqual([]); // no policy reaches office-lan
    expect(account.resources).toMatchObject([{ id: "d4q0p08hhcjc73bq5o0g", networkId: "d4q0o08hhcjc73bq5n00", type: "subnet" }]);
  });

  it("takes the token from NETBIRD_API_TOKEN when no --token-file is given", async () => {
    server = await startServer(accountRoutes());
    const before = process.env.NETBIRD_API_TOKEN;
    process.env.NETBIRD_API_TOKEN = "nbp_FromEnvironment";
    try {
      const r = await runCommand(runPull, ["--url", server.url, "--out", outFile()]);
      expect(r.code).toBe(0);
      expect(server.requests[0].authorization).toBe("Token nbp_FromEnvironment");
    } finally {
      if (before === undefined) delete process.env.NETBIRD_API_TOKEN;
      else process.env.NETBIRD_API_TOKEN = before;
    }
  });

  it("draws a progress line on a terminal (script(1) gives it one), and none otherwise", async () => {
    server = await startServer(accountRoutes());
    const out = outFile();
    const command = [process.execPath, MESHFILTER_BIN, "pull", "--url", server.url, "--token-file", tokenFile, "--out", out].map((a) => `'${a}'`).join(" ");
    // script is util-linux's (bsdutils, essential in Debian): it runs the command on a pseudo-terminal.
    const onTty = await new Promise<string>((resolve) => {
      const child = spawn("script", ["-qfec", command, "/dev/null"], { cwd: ROOT });
      let text = "";
      child.stdout.on("data", (d) => (text += d));
      child.on("close", () => resolve(text));
    });
    expect(onTty).toContain("\r\x1b[Kpull: GET /api/networks");
    expect(onTty).toContain(`${out}: 3 peers`);
    const piped = await pullChild(["--url", server.url, "--token-file", tokenFile, "--out", outFile()], {});
    expect(piped.stderr).toBe("");
  });

  it("retries 429 and 5xx, honouring Retry-After, then succeeds", async () => {
    const routes = accountRoutes();
    routes.set("/api/groups", [{ status: 429, headers: { "retry-after": "0" } }, { status: 503, headers: { "retry-after": "0" } }, ...routes.get("/api/groups")!]);
    server = await startServer(routes);
    const r = await pull(server.url, outFile());
    expect(r.code).toBe(0);
    expect(server.requests.filter((q) => q.path === "/api/groups")).toHaveLength(3);
  });

  const failures: [string, (routes: ReturnType<typeof accountRoutes>) => void, RegExp][] = [
    ["401: the token", (r) => r.set("/api/peers", [{ status: 401, body: { message: "token invalid" } }]), /^meshfilter pull: GET http:\/\/127\.0\.0\.1:\d+\/api\/peers: 401 Unauthorized: the token was refused; give a valid personal access token with --token-file or NETBIRD_API_TOKEN/],
    ["403: which permission", (r) => r.set("/api/policies", [{ status: 403, body: { message: "forbidden" } }]), /GET \S+\/api\/policies: 403 Forbidden: the token's user may not read policies; use a token of a user or service user with read permission on policies/],
    ["404: the URL", (r) => r.delete("/api/peers"), /GET \S+\/api\/peers: 404 Not Found: no NetBird management API answers here; check --url/],
    ["5xx beyond the retries", (r) => r.set("/api/routes", [{ status: 502, headers: { "retry-after": "0" } }]), /GET \S+\/api\/routes: 502 Bad Gateway \(after 3 attempts\)$/],
    ["a response of the wrong shape: endpoint and JSON path", (r) => r.get("/api/peers")![0].body = [{ ...(r.get("/api/peers")![0].body as object[])[0], ip: 42 }], /GET \S+\/api\/peers: the response does not match NetBird's API: \$\[0\]\.ip: expected a string, found a number$/],
    ["an object where a list belongs", (r) => r.set("/api/users", [{ body: { users: [] } }]), /GET \S+\/api\/users: the response does not match NetBird's API: \$ should be a list, found object$/],
    ["a body that is not JSON", (r) => r.set("/api/groups", [{ body: "<html>login</html>" }]), /GET \S+\/api\/groups: the response is not JSON/],
  ];
  it.each(failures)("%s is one line on stderr, exit 1, and the existing file is left as it was", async (_name, breakIt, message) => {
    const routes = accountRoutes();
    breakIt(routes);
    server = await startServer(routes);
    const out = outFile();
    writeFileSync(out, "previous account\n");
    const r = await pull(server.url, out);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(readFileSync(out, "utf8")).toBe("previous account\n");
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("writes nothing when there is no file yet and the pull fails", async () => {
    const routes = accountRoutes();
    routes.set("/api/peers", [{ status: 401 }]);
    server = await startServer(routes);
    const out = outFile();
    expect((await pull(server.url, out)).code).toBe(1);
    expect(existsSync(out)).toBe(false);
  });

  it("without a token, or with an unreadable token file, says so (exit 2) and asks nothing", async () => {
    server = await startServer(accountRoutes());
    const missing = path.join(dir, "no-such-token");
    const r = await runCommand(runPull, ["--url", server.url, "--token-file", missing, "--out", outFile()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`meshfilter pull: cannot read the token file ${missing}: ENOENT: no such file or directory, open '${missing}'`);
    expect(server.requests).toEqual([]);
  });

  describe("over HTTPS", () => {
    const tls = selfSignedCertificate();

    it("pulls when the certificate is trusted (NODE_EXTRA_CA_CERTS)", async () => {
      server = await startServer(accountRoutes(), tls);
      const out = outFile();
      const r = await pullChild(["--url", server.url, "--token-file", tokenFile, "--out", out], { NODE_EXTRA_CA_CERTS: tls.certFile });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(compilePeer(loadPolicyFile(out), "db-1").inbound).toHaveLength(1);
    });

    it("a certificate it cannot verify is one TLS line, not retried, nothing written", async () => {
      server = await startServer(accountRoutes(), tls);
      const out = outFile();
      const r = await pull(server.url, out);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^meshfilter pull: GET https:\/\/127\.0\.0\.1:\d+\/api\/peers: TLS failure: self[- ]signed certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\); for a private CA, set NODE_EXTRA_CA_CERTS to its PEM file$/);
      expect(server.requests).toEqual([]);
      expect(existsSync(out)).toBe(false);
    });
  });
});
