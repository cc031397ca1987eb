// Masquerade on a routing peer, end to end in network namespaces: laptop-alice reaches a
// LAN host behind router-1 whose LAN has no route back to the overlay. With the network
// router's `masquerade: true` the LAN host sees the router's LAN address and answers it;
// with `masquerade: false` it sees alice's overlay address, has no route to it, and the
// connection fails.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Lab, labUnavailableReason, waitListening, type AgentHandle, type LabPeer } from "./lab.ts";

const unavailable = labUnavailableReason();
if (unavailable) {
  if (process.env.CI === "true") throw new Error(`test/e2e/masquerade: CI must run these tests, but ${unavailable}`);
  console.warn(`test/e2e: skipping the masquerade tests: ${unavailable}`);
}

const laptop: LabPeer = { role: "laptop", peer: "laptop-alice", overlay: "100.64.0.10", underlay: "198.18.0.10" };
const router: LabPeer = { role: "router", peer: "router-1", overlay: "100.64.0.40", underlay: "198.18.0.40" };
const LAN_HOST = "198.18.1.10";
const ROUTER_LAN = "198.18.1.1";
const PORT = 51820;

function policyYaml(masquerade: boolean): string {
  return `format: meshfilter/v1
users: [{ name: alice, groups: [engineering] }]
setup_keys: [{ name: routers-key, groups: [routers] }]
groups: [engineering, routers, office]
peers:
  - { name: laptop-alice, ip: ${laptop.overlay}, user: alice }
  - { name: router-1, ip: ${router.overlay}, setup_key: routers-key }
networks:
  - name: office
    routers: [{ peer: router-1, masquerade: ${masquerade} }]
    resources: [{ name: office-lan, address: 198.18.1.0/24, groups: [office] }]
policies:
  - name: engineering-to-office
    protocol: tcp
    ports: [8000]
    sources: [engineering]
    destinations: [office]
`;
}

/** A server on the LAN host that answers each connection with the address it came from. */
const WHO_IS_CALLING = `import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 8000)); s.listen()
while True:
    c, a = s.accept(); c.sendall((a[0] + "\\n").encode()); c.close()`;

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
    const args = (self: LabPeer, other: LabPeer) => ["--policy", policyFile, "--peer", self.peer, "--tun", "mf0", "--listen", `${self.underlay}:${PORT}`, "--peer-endpoint", `${other.overlay}=${other.underlay}:${PORT}`];
    routerAgent = await lab.startAgent(router, args(router, laptop));
    await lab.startAgent(laptop, [...args(laptop, router), "--route", `198.18.1.0/24=${router.overlay}`]);
    lab.spawn("lan", ["python3", "-c", WHO_IS_CALLING]);
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
