// Loading a policy off the packet thread: parse, validate and compile run in a worker
// thread (policy-worker.ts) with a memory limit (V8 resourceLimits: the worker's heap,
// not the process's) and a time limit. The packet loop keeps judging with the policy in
// force meanwhile. A file that exhausts either limit is rejected like an invalid one: a
// PolicyError naming the file and the limit; the agent goes on.

import { Worker } from "node:worker_threads";
import { PolicyError, type PolicyProblem } from "../policy/model/model.ts";
import { PeerRefError } from "../policy/model/peer-ref.ts";
import type { CompiledPeerPolicy, CompileOptions } from "../filter/compiled-policy.ts";
import type { Explanation } from "../policy/explain/explain.ts";
import type { ExplainQuery } from "../policy/explain/explain-query.ts";
import { siblingModule, workerEntry } from "./worker-entry.ts";

export interface PolicyLoadLimits {
  /** Heap of the loading thread, in MB (V8 old generation). Default 1024. */
  memoryMb?: number;
  /** Wall-clock time allowed for load + validate + compile, in ms. Default 60 000. */
  timeoutMs?: number;
  /** Stops the load (the worker is terminated and the promise rejects): the agent is closing. */
  signal?: AbortSignal;
  /** How to compile (honour NetBird's bidirectional flag...). */
  compile?: CompileOptions;
  /** Filled on success with the account's peers by overlay address (for the flow log's names). */
  peerNames?: Map<string, string>;
  /** Also explain this new connection against the loaded account (trace's "why", cold path). */
  explain?: { query: ExplainQuery; egress: boolean };
  /** Receives the explanation asked for with `explain`. */
  onExplanation?: (explanation: Explanation) => void;
  /** The file is a NetBird NetworkMap (one peer's already; `peer` is not used). */
  networkMap?: boolean;
}

export const DEFAULT_POLICY_MEMORY_MB = 1024;
export const DEFAULT_POLICY_TIMEOUT_MS = 60_000;

/** What the worker is given. */
export interface WorkerRequest {
  file: string;
  peer: string;
  compile?: CompileOptions;
  explain?: { query: ExplainQuery; egress: boolean };
  networkMap?: boolean;
}

/** What the worker answers (structured clone). */
export type WorkerReply =
  | { ok: true; policy: CompiledPeerPolicy; peerNames: [string, string][]; explanation?: Explanation }
  | {
      ok: false;
      message: string;
      problems?: PolicyProblem[];
      /** Where each problem is in the file (PolicyError.locations). */
      locations?: PolicyError["locations"];
      /** Set when the peer named is not one peer of the policy (PeerRefError's fields). */
      peerRef?: { self: string; detail: string; known: readonly string[] };
    };

// The worker runs policy-worker.ts (worker-entry.ts starts it from the built package or
// the sources) at the lowest priority (see policy-worker.ts).
const WORKER_URL = siblingModule(import.meta.url, "policy-worker");

/**
 * Load, validate and compile `file` for `peer` in a worker thread. Resolves with the
 * compiled policy; rejects with a PolicyError (the file's problems, or the limit it
 * exceeded). Never throws synchronously.
 */
export function loadPolicyInWorker(file: string, peer: string, limits: PolicyLoadLimits = {}): Promise<CompiledPeerPolicy> {
  const memoryMb = limits.memoryMb ?? DEFAULT_POLICY_MEMORY_MB;
  const timeoutMs = limits.timeoutMs ?? DEFAULT_POLICY_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const fail = (message: string) => reject(new PolicyError([{ path: "$", message }], file));
    let worker: Worker;
    try {
      const { entry, eval: isCode } = workerEntry(WORKER_URL, true);
      worker = new Worker(entry, {
        eval: isCode,
        workerData: { file, peer, compile: limits.compile, explain: limits.explain, networkMap: limits.networkMap } satisfies WorkerRequest,
        resourceLimits: { maxOldGenerationSizeMb: memoryMb },
        stdout: true, // the loader prints nothing; keep stray output out of the agent's log
        stderr: true,
      });
    } catch (err) {
      fail(`cannot start the policy loader thread: ${(err as Error).message}`);
      return;
    }
    let settled = false;
    const settle = (action: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      limits.signal?.removeEventListener("abort", onAbort);
      action();
      // The worker has answered or failed: nothing of it is needed any more.
      void worker.terminate();
    };
    const timer = setTimeout(
      () => settle(() => fail(`loading took longer than the ${timeoutMs / 1000} s time limit; the file was not read to the end`)),
      timeoutMs,
    );
    const onAbort = () => settle(() => fail("loading was stopped: the agent is closing"));
    limits.signal?.addEventListener("abort", onAbort, { once: true });
    if (limits.signal?.aborted) onAbort();
    worker.once("message", (reply: WorkerReply) =>
      settle(() => {
        if (reply.ok) {
          for (const [address, name] of reply.peerNames) limits.peerNames?.set(address, name);
          if (reply.explanation) limits.onExplanation?.(reply.explanation);
          resolve(reply.policy);
        } else if (reply.peerRef) reject(new PeerRefError(reply.peerRef.self, reply.peerRef.detail, reply.peerRef.known));
        else if (reply.problems && reply.problems.length > 0) reject(new PolicyError(reply.problems, file, reply.locations));
        else fail(reply.message);
      }),
    );
    worker.once("error", (err: Error & { code?: string }) =>
      settle(() =>
        fail(
          err.code === "ERR_WORKER_OUT_OF_MEMORY"
            ? `loading needs more than the ${memoryMb} MB memory limit (a very large file, or YAML aliases that expand to one)`
            : `the policy loader failed: ${err.message.split("\n")[0]}`,
        ),
      ),
    );
    worker.once("exit", (code) => settle(() => fail(`the policy loader stopped (exit code ${code}) before it answered`)));
  });
}
