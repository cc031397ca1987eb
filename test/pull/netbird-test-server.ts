// A NetBird management API on loopback for pull's tests (node:http, or node:https with a
// self-signed certificate made by openssl for 127.0.0.1). It answers GET requests from a
// table of path -> responses; a path may answer a sequence (e.g. 429, then 200).
// Every request is recorded with its Authorization header.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { apiObject } from "./openapi-examples.ts";

export interface Answer {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface TestServer {
  url: string;
  requests: { path: string; authorization: string | undefined }[];
  routes: Map<string, Answer[]>;
  close(): Promise<void>;
}

/** A certificate and key for 127.0.0.1, self-signed (so a client trusts it only when told to). */
export function selfSignedCertificate(): { cert: string; key: string; certFile: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "meshfilter-tls-"));
  const certFile = path.join(dir, "cert.pem");
  const keyFile = path.join(dir, "key.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-out", certFile, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
  return { cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8"), certFile };
}

export async function startServer(routes: Map<string, Answer[]>, tls?: { cert: string; key: string }): Promise<TestServer> {
  const requests: TestServer["requests"] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = req.url ?? "/";
    requests.push({ path: url, authorization: req.headers.authorization });
    const answers = routes.get(url);
    const answer = answers && answers.length > 1 ? answers.shift()! : answers?.[0];
    if (!answer) {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ message: "not found", code: 404 }));
      return;
    }
    res.writeHead(answer.status ?? 200, { "content-type": "application/json", ...answer.headers });
    res.end(answer.body === undefined ? "" : typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body));
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
    requests,
    routes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A small account, every object an OpenAPI example with the ids and references set: alice reaches db-1 on tcp/5432. */
export function accountRoutes(): Map<string, Answer[]> {
  const group = (id: string, name: string) => ({ id, name, peers_count: 1, resources_count: 0, issued: "api" });
  const eng = group("d4q0kv8hhcjc73bq5j3g", "engineering");
  const db = group("d4q0kv8hhcjc73bq5j40", "production-db");
  const all = group("d4q0kv8hhcjc73bq5j30", "All");
  const lan = group("d4q0kv8hhcjc73bq5j5g", "office-lan");
  const peer = (id: string, name: string, ip: string, groups: object[], userId: string) =>
    apiObject("Peer", { id, name, ip, ipv6: undefined, dns_label: `${name}.netbird.cloud`, extra_dns_labels: [], groups, user_id: userId, version: "0.61.0" });
  const peers = [
    peer("d4q0l18hhcjc73bq5k00", "laptop-alice", "100.64.0.10", [all, eng], "u-alice"),
    peer("d4q0l18hhcjc73bq5k0g", "db-1", "100.64.0.20", [all, db], ""),
    peer("d4q0l18hhcjc73bq5k1g", "router-1", "100.64.0.40", [all], ""),
  ];
  const member = (p: Record<string, unknown>) => ({ id: p.id, name: p.name });
  const rule = apiObject("PolicyRule", {
    id: "d4q0m08hhcjc73bq5l00", name: "eng-to-db", protocol: "tcp", ports: ["5432"], port_ranges: undefined, bidirectional: false,
    sources: [eng], destinations: [db], sourceResource: undefined, destinationResource: undefined,
  });
  const networkId = "d4q0o08hhcjc73bq5n00";
  return new Map<string, Answer[]>([
    ["/api/peers", [{ body: peers }]],
    ["/api/groups", [{ body: [
      { ...apiObject("Group"), ...all, peers: peers.map(member), resources: [] },
      { ...apiObject("Group"), ...eng, peers: [member(peers[0])], resources: [] },
      { ...apiObject("Group"), ...db, peers: [member(peers[1])], resources: [] },
      { ...apiObject("Group"), ...lan, peers: [], resources: [{ id: "d4q0p08hhcjc73bq5o0g", type: "subnet" }] },
    ] }]],
    ["/api/users", [{ body: [apiObject("User", { id: "u-alice", auto_groups: [eng.id] })] }]],
    ["/api/posture-checks", [{ body: [apiObject("PostureCheck", { id: "d4q0n08hhcjc73bq5m00", checks: { nb_version_check: { min_version: "0.28.0" } } })] }]],
    ["/api/policies", [{ body: [apiObject("Policy", { id: "d4q0m08hhcjc73bq5l00", name: "eng-to-db", source_posture_checks: ["d4q0n08hhcjc73bq5m00"], rules: [rule] })] }]],
    ["/api/routes", [{ body: [] }]],
    ["/api/networks", [{ body: [apiObject("Network", { id: networkId, routers: ["d4q0q08hhcjc73bq5p00"], resources: ["d4q0p08hhcjc73bq5o0g"], policies: [] })] }]],
    [`/api/networks/${networkId}/resources`, [{ body: [apiObject("NetworkResource", { id: "d4q0p08hhcjc73bq5o0g", type: "subnet", address: "198.18.1.0/24", groups: [lan] })] }]],
    [`/api/networks/${networkId}/routers`, [{ body: [apiObject("NetworkRouter", { id: "d4q0q08hhcjc73bq5p00", peer: "d4q0l18hhcjc73bq5k1g", peer_groups: undefined })] }]],
  ]);
}
