// GET requests to a NetBird management API, with the platform's fetch: the token in
// `Authorization: Token <PAT>` (the API's TokenAuth scheme), a timeout per attempt, and
// retries with exponential backoff on 429 and 5xx that honour Retry-After. Every failure
// becomes one PullError line naming the request.

import { PullError } from "./pull-error.ts";

export interface ApiClientOptions {
  /** The management URL, e.g. https://api.netbird.io; paths start with /api/. */
  baseUrl: string;
  token: string;
  /** Per attempt. */
  timeoutMs?: number;
  /** Attempts after the first, on 429, 5xx and network errors. */
  retries?: number;
  /** The first backoff; each retry doubles it (capped at maxBackoffMs) unless Retry-After says otherwise. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Told before each wait between attempts. */
  onRetry?: (what: string, waitMs: number) => void;
}

/** Read permissions by endpoint, for a 403's message (NetBird's permission modules). */
const MODULE_OF: Record<string, string> = {
  peers: "peers",
  groups: "groups",
  policies: "policies",
  "posture-checks": "policies (posture checks)",
  routes: "routes",
  networks: "networks",
  users: "users",
};

export class NetBirdApiClient {
  private readonly baseUrl: string;

  constructor(private readonly options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
  }

  /** How errors name a request: "GET https://api.netbird.io/api/peers". */
  describe(path: string): string {
    return `GET ${this.baseUrl}${path}`;
  }

  /** GET `path` ("/api/peers") and parse its JSON body. Throws PullError. */
  async getJson(path: string): Promise<unknown> {
    const { retries = 4, backoffMs = 500, maxBackoffMs = 30_000 } = this.options;
    const what = this.describe(path);
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.attempt(path, what);
      if (outcome.ok) return outcome.body;
      if (!outcome.retry || attempt >= retries) throw new PullError(`${what}: ${outcome.reason}${attempt > 0 ? ` (after ${attempt + 1} attempts)` : ""}`);
      const wait = outcome.retryAfterMs ?? Math.min(maxBackoffMs, backoffMs * 2 ** attempt);
      this.options.onRetry?.(`${what}: ${outcome.reason}`, wait);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  private async attempt(path: string, what: string): Promise<{ ok: true; body: unknown } | { ok: false; retry: boolean; reason: string; retryAfterMs?: number }> {
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    let response: Response;
    try {
      response = await fetch(this.baseUrl + path, {
        headers: { Authorization: `Token ${this.options.token}`, Accept: "application/json" },
        signal: AbortSignal.timeout(timeoutMs),
        redirect: "error",
      });
    } catch (err) {
      return { ok: false, ...networkFailure(err, timeoutMs) };
    }
    const status = `${response.status} ${response.statusText}`.trim();
    if (response.status === 429 || response.status >= 500) {
      await response.body?.cancel();
      return { ok: false, retry: true, reason: status, retryAfterMs: retryAfter(response.headers.get("retry-after")) };
    }
    if (response.status === 401) {
      return { ok: false, retry: false, reason: `${status}: the token was refused; give a valid personal access token with --token-file or NETBIRD_API_TOKEN (sent as "Authorization: Token <PAT>")` };
    }
    if (response.status === 403) {
      const module = MODULE_OF[path.split("/")[2] ?? ""] ?? path;
      return { ok: false, retry: false, reason: `${status}: the token's user may not read ${module}; use a token of a user or service user with read permission on ${module} (an admin, or a custom role)` };
    }
    if (response.status === 404) {
      return { ok: false, retry: false, reason: `${status}: no NetBird management API answers here; check --url (the management URL, e.g. https://api.netbird.io or https://netbird.example.com)` };
    }
    if (!response.ok) return { ok: false, retry: false, reason: status };
    const text = await response.text();
    try {
      return { ok: true, body: JSON.parse(text) };
    } catch {
      return { ok: false, retry: false, reason: `the response is not JSON (${JSON.stringify(text.slice(0, 60))}...); is --url the management API?` };
    }
  }
}

/** Retry-After in milliseconds: seconds, or an HTTP date; undefined when absent or unreadable. */
function retryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** TLS, DNS, refused connections and timeouts, in one line each. Network errors are retried; TLS errors are not. */
function networkFailure(err: unknown, timeoutMs: number): { retry: boolean; reason: string } {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === "TimeoutError") return { retry: true, reason: `no answer within ${timeoutMs / 1000} s` };
  const code = e.cause?.code ?? "";
  const detail = e.cause?.message ?? e.message;
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code) || /certificate|tls|ssl/i.test(detail)) {
    return { retry: false, reason: `TLS failure: ${detail}${code ? ` (${code})` : ""}; for a private CA, set NODE_EXTRA_CA_CERTS to its PEM file` };
  }
  return { retry: true, reason: `${detail}${code && !detail.includes(code) ? ` (${code})` : ""}` };
}
