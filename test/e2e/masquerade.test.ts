// Masquerade on a routing peer, end to end in network namespaces: laptop-alice reaches a
// LAN host behind router-1 whose LAN has no route back to the overlay. With the network
// router's `masquerade: true` the LAN host sees the router's LAN address and answers it;
// with `masquerade: false` it sees alice's overlay address, has no route to it, and the
// connection fails.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Lab, waitListening, type AgentHandle } from "./lab.ts";
import { agentArgs, lanServer, laptop, router, routingLabUnavailable, routingPolicyYaml } from "./routing-peer-lab.ts";

const unavailable = routingLabUnavailable("masquerade");
const LAN_HOST = "198.18.1.10";
const ROUTER_LAN = "198.18.1.1";

const policyYaml = (masquerade: boolean) =>
  routingPolicyYaml(`{ peer: router-1, masquerade: ${masquerade} }`, "{ name: office-lan, address: 198.18.1.0/24, groups: [office] }");

describe.skipIf(unavailable !== "")("masquerade on a routing peer, in network namespaces", () => {
  let lab: Lab;
  let dir: string;
  let policyFile: string;
  let routerAgent: AgentHandle;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "mf-masq-"));
    policyFile = join(dir, "policy.yaml");
    writeFileSync(policyFile, policyYaml(true));
    lab = new Lab();
    lab.buildUnderlay([laptop, router]);
    lab.addLan("router", "lan", `${ROUTER_LAN}/24`, `${LAN_HOST}/24`);
    // The LAN knows nothing of the overlay: no route back through the router.
    lab.exec("lan", ["ip", "route", "del", "default"]);
    routerAgent = await lab.startAgent(router, agentArgs(policyFile, router, laptop));
    await lab.startAgent(laptop, [...agentArgs(policyFile, laptop, router), "--route", `198.18.1.0/24=${router.overlay}`]);
    lab.spawn("lan", ["python3", "-c", lanServer()]);
    await waitListening(lab, "lan", 8000);
  }, 90_000);

  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const call = () => lab.execAsync("laptop", ["nc", "-w", "3", LAN_HOST, "8000"], { timeoutMs: 10_000 });

  it("with masquerade the LAN host sees the router's LAN address, and the connection works", async () => {
    const r = await call();
    expect(r.stdout.trim()).toBe(ROUTER_LAN);
    expect(lab.exec("router", ["nft", "list", "table", "inet", "meshfilter_mf0"]).stdout).toContain("198.18.1.0/24");
  });

  it("without masquerade the LAN host has no route back to the overlay: the connection fails", async () => {
    const mark = routerAgent.log().length;
    writeFileSync(policyFile, policyYaml(false));
    await routerAgent.waitForLog("policy applied", mark);
    expect(lab.exec("router", ["nft", "list", "tables"]).stdout).not.toContain("meshfilter_mf0");
    const r = await call();
    expect(r.stdout.trim()).toBe("");
  });
});
