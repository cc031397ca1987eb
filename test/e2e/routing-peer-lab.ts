// What the routing-peer tests in network namespaces share (masquerade, domain
// resources): laptop-alice and router-1, an account where engineering reaches one
// network resource behind router-1 on tcp/8000, and a server on the LAN host.

import { labUnavailableReason, type LabPeer } from "./lab.ts";

/** Why these tests cannot run here, or ""; under CI=true they must run, so that is an error. */
export function routingLabUnavailable(what: string): string {
  const reason = labUnavailableReason();
  if (reason && process.env.CI === "true") throw new Error(`test/e2e: CI must run the ${what} tests, but ${reason}`);
  if (reason) console.warn(`test/e2e: skipping the ${what} tests: ${reason}`);
  return reason;
}

export const laptop: LabPeer = { role: "laptop", peer: "laptop-alice", overlay: "100.64.0.10", underlay: "198.18.0.10" };
export const router: LabPeer = { role: "router", peer: "router-1", overlay: "100.64.0.40", underlay: "198.18.0.40" };
export const PORT = 51820;

/** The account: `router` and `resource` are the network's router and resource, as meshfilter-format YAML flow maps. */
export function routingPolicyYaml(router: string, resource: string): string {
  return `format: meshfilter/v1
users: [{ name: alice, groups: [engineering] }]
setup_keys: [{ name: routers-key, groups: [routers] }]
groups: [engineering, routers, office]
peers:
  - { name: laptop-alice, ip: ${laptop.overlay}, user: alice }
  - { name: router-1, ip: 100.64.0.40, setup_key: routers-key }
networks:
  - name: office
    routers: [${router}]
    resources: [${resource}]
policies:
  - name: engineering-to-office
    protocol: tcp
    ports: [8000]
    sources: [engineering]
    destinations: [office]
`;
}

/** A tcp/8000 server for the LAN host (python3): answers each connection with the caller's address, or with `reply`. */
export function lanServer(reply?: string): string {
  const answer = reply === undefined ? `(a[0] + "\\n").encode()` : JSON.stringify(`${reply}\n`) + ".encode()";
  return `import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 8000)); s.listen()
while True:
    c, a = s.accept(); c.sendall(${answer}); c.close()`;
}

/** `meshfilter run` arguments for `self`, talking to `other` over the underlay. */
export function agentArgs(policyFile: string, self: LabPeer, other: LabPeer): string[] {
  return ["--policy", policyFile, "--peer", self.peer, "--tun", "mf0", "--listen", `${self.underlay}:${PORT}`, "--peer-endpoint", `${other.overlay}=${other.underlay}:${PORT}`];
}
