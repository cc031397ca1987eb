// The body of the policy-loading worker thread (policy-load-worker.ts starts it): the
// same load, validate and compile as the command line (loadPolicyFile, compilePeer), in
// an isolate with a heap of its own, so a file that needs too much memory or time costs
// this thread, never the packet loop.

import { setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import { compilePeer } from "../policy/compile/compile.ts";
import { explain } from "../policy/explain/explain.ts";
import { loadPolicyFile } from "../policy/input/load.ts";
import { loadNetworkMapFile } from "../policy/input/netbird/network-map.ts";
import type { PolicyError } from "../policy/model/model.ts";
import { PeerRefError } from "../policy/model/peer-ref.ts";
import type { WorkerReply, WorkerRequest } from "./policy-load-worker.ts";

const { file, peer, compile, explain: question, networkMap } = workerData as WorkerRequest;
try {
  // On Linux a nice value belongs to a thread (setpriority with pid 0 is the calling
  // thread): parsing a large file at the lowest priority leaves the packet loop's thread
  // its share of a busy CPU.
  setPriority(19);
} catch {
  // Not permitted (or not Linux): parse at normal priority.
}
let reply: WorkerReply;
try {
  if (networkMap) {
    // A NetworkMap is one peer's tables already; it names no accounts' peers to explain with.
    reply = { ok: true, policy: loadNetworkMapFile(file), peerNames: [] };
  } else {
    const account = loadPolicyFile(file);
    const peerNames: [string, string][] = [];
    for (const p of account.peers) {
      if (p.ip) peerNames.push([p.ip, p.name]);
      if (p.ipv6) peerNames.push([p.ipv6, p.name]);
    }
    const explanation = question ? explain(account, peer, question.query, { ...compile, egress: question.egress }) : undefined;
    reply = { ok: true, policy: compilePeer(account, peer, compile), peerNames, explanation };
  }
} catch (err) {
  const { problems, locations } = err as Partial<PolicyError>;
  const peerRef = err instanceof PeerRefError ? { self: err.self, detail: err.detail, known: err.known } : undefined;
  reply = { ok: false, message: err instanceof Error ? err.message : String(err), problems, locations, peerRef };
}
parentPort!.postMessage(reply);
