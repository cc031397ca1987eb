// netbird-ssh and NetBird's native SSH port, compiled as NetBird's ExpandPortsAndRanges
// does (shared/management/types/firewall_helpers.go at the commit in reference/netbird).

import { describe, expect, it } from "vitest";
import { compilePeer } from "../../src/policy/compile/compile.ts";
import type { PeerMeta } from "../../src/policy/model/model.ts";
import { account, peer, policy, rule } from "./build-account.ts";

function sshTo(server: { nativeSsh?: boolean; meta?: PeerMeta }, extra: Parameters<typeof rule>[2]) {
  return account({
    peers: [peer("admin", "100.64.0.10", { groups: ["admins"] }), peer("server", "100.64.0.20", { groups: ["servers"], ...server })],
    policies: [policy("ssh", [rule(["admins"], ["servers"], { id: "r", ...extra })])],
  });
}
const inbound = (a: ReturnType<typeof sshTo>) => compilePeer(a, "server").inbound.map((r) => ({ protocol: r.protocol, ports: r.ports, portRanges: r.portRanges }));

describe("netbird-ssh and port 22022", () => {
  it("a netbird-ssh rule on port 22 is tcp on 22 and 22022, whatever the peer runs", () => {
    expect(inbound(sshTo({}, { protocol: "netbird-ssh", ports: [22] }))).toEqual([{ protocol: "tcp", ports: [22, 22022], portRanges: [] }]);
  });

  it("a netbird-ssh rule without ports is tcp on every port (nothing to add)", () => {
    expect(inbound(sshTo({}, { protocol: "netbird-ssh" }))).toEqual([{ protocol: "tcp", ports: [], portRanges: [] }]);
  });

  it("nothing is added when 22022 is covered already, or 22 is not", () => {
    expect(inbound(sshTo({}, { protocol: "netbird-ssh", portRanges: [{ start: 22, end: 30000 }] }))).toEqual([{ protocol: "tcp", ports: [], portRanges: [{ start: 22, end: 30000 }] }]);
    expect(inbound(sshTo({}, { protocol: "netbird-ssh", ports: [2222] }))).toEqual([{ protocol: "tcp", ports: [2222], portRanges: [] }]);
  });

  it("a tcp rule on 22 opens 22022 too when the peer's agent is 0.60.0 or newer with SSH on and allowed", () => {
    const tcp22 = { protocol: "tcp" as const, ports: [22] };
    expect(inbound(sshTo({ nativeSsh: true, meta: { version: "0.60.0" } }, tcp22))[0].ports).toEqual([22, 22022]);
    expect(inbound(sshTo({ nativeSsh: true, meta: { version: "development" } }, tcp22))[0].ports).toEqual([22, 22022]);
    expect(inbound(sshTo({ nativeSsh: true, meta: { version: "0.59.9" } }, tcp22))[0].ports).toEqual([22]);
    expect(inbound(sshTo({ meta: { version: "0.61.0" } }, tcp22))[0].ports).toEqual([22]);
    expect(inbound(sshTo({ nativeSsh: true, meta: { version: "0.61.0" } }, { protocol: "udp", ports: [22] }))[0].ports).toEqual([22]);
  });
});
