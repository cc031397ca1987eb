// Loading a policy in a worker thread with memory and time limits: the same result as
// the command line's load + compile, the same problems for an invalid file, and a file
// that exhausts a limit rejected like an invalid one while this thread runs on.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadPolicyInWorker } from "../../src/agent/policy-load-worker.ts";
import type { Explanation } from "../../src/policy/explain/explain.ts";
import { compilePeer } from "../../src/policy/compile/compile.ts";
import { loadPolicyFile } from "../../src/policy/input/load.ts";
import { PolicyError } from "../../src/policy/model/model.ts";
import { loadNetworkMapFile } from "../../src/policy/input/netbird/network-map.ts";
import { aliasAmplificationYaml, hugePolicyYaml } from "../e2e/hostile-policies.ts";
import { BAD_POLICY_YAML } from "../e2e/mesh-policy.ts";

const dir = mkdtempSync(join(tmpdir(), "mf-policy-worker-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Runs `load` and counts the turns of this thread's event loop until it settles. */
async function withTicks<T>(load: Promise<T>): Promise<{ result: PromiseSettledResult<T>; ticks: number }> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const [result] = await Promise.allSettled([load]);
  clearInterval(timer);
  return { result, ticks };
}

describe("policy loading in a worker thread", () => {
  it("gives the same compiled policy as loading and compiling on this thread", async () => {
    const policy = await loadPolicyInWorker("examples/restrictive.yaml", "db-1");
    expect(policy).toEqual(compilePeer(loadPolicyFile("examples/restrictive.yaml"), "db-1"));
  });

  it("explains a connection against the file it loads (trace's why): the posture check that excluded the source", async () => {
    let why: Explanation | undefined;
    await loadPolicyInWorker("examples/seed-patterns.yaml", "portal-1", {
      explain: { query: { protocol: "tcp", src: "100.64.0.11", srcPort: 40000, dst: "100.64.0.31", dstPort: 443, tcpFlags: "S" }, egress: false },
      onExplanation: (e) => (why = e),
    });
    expect(why).toMatchObject({ verdict: "drop", stage: "posture", engineReason: "no-rule", postureCheck: { checkName: "netbird-latest-version" } });
    expect(why!.reason).toMatch(/laptop-carol fails posture check "netbird-latest-version"/);
  });

  it("rejects an invalid file with the loader's problems, naming the file", async () => {
    const bad = file("bad.yaml", BAD_POLICY_YAML);
    const err = await loadPolicyInWorker(bad, "db-1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyError);
    let direct: unknown;
    try {
      loadPolicyFile(bad);
    } catch (e) {
      direct = e;
    }
    expect((err as PolicyError).problems).toEqual((direct as PolicyError).problems);
    expect((err as PolicyError).source).toBe(bad);
    expect(await loadPolicyInWorker(join(dir, "missing.yaml"), "db-1").catch((e: Error) => e.message)).toMatch(/missing\.yaml.*cannot read the file/s);
  });

  it("rejects a YAML alias amplification (at the loader's alias limit, before memory runs out), and this thread keeps running meanwhile", async () => {
    const amplified = file("alias.yaml", aliasAmplificationYaml());
    const { result, ticks } = await withTicks(loadPolicyInWorker(amplified, "db-1", { memoryMb: 128 }));
    expect(result.status).toBe("rejected");
    const err = (result as PromiseRejectedResult).reason as PolicyError;
    expect(err).toBeInstanceOf(PolicyError);
    expect(err.source).toBe(amplified);
    expect(err.problems[0].message).toMatch(/alias \*\S+ repeats .* past the limit/);
    expect(ticks).toBeGreaterThan(10);
  }, 60_000);

  it("rejects a file that needs more than the memory limit, and this thread keeps running meanwhile", async () => {
    const huge = file("huge-memory.yaml", hugePolicyYaml(50_000));
    const { result, ticks } = await withTicks(loadPolicyInWorker(huge, "db-1", { memoryMb: 16 }));
    expect(result.status).toBe("rejected");
    const err = (result as PromiseRejectedResult).reason as PolicyError;
    expect(err).toBeInstanceOf(PolicyError);
    expect(err.problems).toEqual([{ path: "$", message: expect.stringMatching(/more than the 16 MB memory limit/) }]);
    expect(ticks).toBeGreaterThan(0);
  }, 60_000);

  it("rejects a file that takes longer than the time limit", async () => {
    const huge = file("huge.yaml", hugePolicyYaml(50_000));
    const err = (await loadPolicyInWorker(huge, "db-1", { timeoutMs: 100 }).catch((e: unknown) => e)) as PolicyError;
    expect(err).toBeInstanceOf(PolicyError);
    expect(err.problems[0].message).toMatch(/longer than the 0.1 s time limit/);
  }, 30_000);

  it("stops a load when its signal aborts (an agent that closes is not kept alive by a worker)", async () => {
    const huge = file("huge-abort.yaml", hugePolicyYaml(50_000));
    const stop = new AbortController();
    const load = loadPolicyInWorker(huge, "db-1", { signal: stop.signal });
    stop.abort();
    expect(await load.catch((e: Error) => e.message)).toMatch(/huge-abort\.yaml.*loading was stopped/s);
  });
});

describe("a NetBird NetworkMap in the loader thread", () => {
  it("gives the same tables as reading the map on this thread, and its error as a PolicyError", async () => {
    const map = "examples/netbird-network-map.db-1.json";
    expect(await loadPolicyInWorker(map, "", { networkMap: true })).toEqual(loadNetworkMapFile(map));
    const bad = file("bad-map.json", "{ not json");
    await expect(loadPolicyInWorker(bad, "", { networkMap: true })).rejects.toThrow(/not JSON/);
  });
});
