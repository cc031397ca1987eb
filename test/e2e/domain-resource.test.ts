// A domain resource end to end in network namespaces: router-1 resolves wiki.corp.example
// with a DNS server on its LAN and routes laptop-alice's connections to the addresses it
// resolves to, and to no other LAN address; when the answer changes, the new address is
// reachable and the old one no longer (P6, P14).

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Lab, waitListening, type AgentHandle } from "./lab.ts";
import { agentArgs, lanServer, laptop, router, routingLabUnavailable, routingPolicyYaml } from "./routing-peer-lab.ts";

const unavailable = routingLabUnavailable("domain resource");
const WIKI_A = "198.18.1.10";
const WIKI_B = "198.18.1.11";
const POLICY = routingPolicyYaml("{ peer: router-1 }", "{ name: wiki, address: wiki.corp.example, groups: [office] }");

describe.skipIf(unavailable !== "")("a domain resource resolved by the routing peer, in network namespaces", () => {
  let lab: Lab;
  let dir: string;
  let answers: string;
  let routerAgent: AgentHandle;

  const setAnswer = (address: string) => writeFileSync(answers, JSON.stringify({ "wiki.corp.example": { addresses: [address], ttl: 1 } }));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "mf-domain-"));
    const policyFile = join(dir, "policy.yaml");
    writeFileSync(policyFile, POLICY);
    answers = join(dir, "answers.json");
    setAnswer(WIKI_A);
    lab = new Lab();
    lab.buildUnderlay([laptop, router]);
    lab.addLan("router", "lan", "198.18.1.1/24", `${WIKI_A}/24`);
    lab.exec("lan", ["ip", "addr", "add", `${WIKI_B}/24`, "dev", "eth0"]);
    lab.spawn("lan", [process.execPath, "--import", "tsx", "test/e2e/dns-server.ts", WIKI_A, "5353", answers]);
    lab.spawn("lan", ["python3", "-c", lanServer("wiki")]);
    await waitListening(lab, "lan", 8000);
    routerAgent = await lab.startAgent(router, [...agentArgs(policyFile, router, laptop), "--dns-server", `${WIKI_A}:5353`, "--dns-min-refresh-ms", "400", "--dns-max-refresh-ms", "1000"]);
    await lab.startAgent(laptop, [...agentArgs(policyFile, laptop, router), "--route", `198.18.1.0/24=${router.overlay}`]);
  }, 90_000);

  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const reaches = async (host: string) => (await lab.execAsync("laptop", ["nc", "-w", "2", host, "8000"], { timeoutMs: 10_000 })).stdout.trim() === "wiki";

  it("P6: the address the domain resolves to is reachable through the routing peer, another LAN address is not", async () => {
    await routerAgent.waitForLog("domain resource addresses in force", 0, 20_000);
    expect(routerAgent.log()).toContain(`"addresses":["${WIKI_A}/32"]`);
    expect(await reaches(WIKI_A)).toBe(true);
    expect(await reaches(WIKI_B)).toBe(false);
  });

  it("P14: when the answer changes, the new address is reachable and the old one no longer", async () => {
    const mark = routerAgent.log().length;
    setAnswer(WIKI_B);
    const line = await routerAgent.waitForLog("domain resource addresses in force", mark, 20_000);
    expect(line).toContain(`"addresses":["${WIKI_B}/32"]`);
    expect(await reaches(WIKI_B)).toBe(true);
    expect(await reaches(WIKI_A)).toBe(false);
  });
});
