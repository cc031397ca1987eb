import { describe, expect, it } from "vitest";
import { compilePeer } from "../../src/policy/compile/compile.ts";
import type { CompiledRule } from "../../src/filter/compiled-policy.ts";
import { PolicyError } from "../../src/policy/model/model.ts";
import { account, group, peer, policy, posture, resource, route, router, rule, sharedPeers } from "./build-account.ts";

const ids = (rules: CompiledRule[]) => rules.map((r) => r.id);

/** alice (user engineering) -> production-db on tcp/5432, the seed's recommended example. */
function dbAccess(extra: Parameters<typeof rule>[2] = {}) {
  return account({ ...sharedPeers(), policies: [policy("db-access", [rule(["engineering"], ["production-db"], { id: "pg", protocol: "tcp", ports: [5432], ...extra })])] });
}

describe("compilePeer", () => {
  it("P1: with no policy a peer has no inbound, outbound or route rules", () => {
    const c = compilePeer(account(sharedPeers()), "db-1");
    expect(c.inbound).toEqual([]);
    expect(c.outbound).toEqual([]);
    expect(c.routes).toEqual([]);
  });

  it("P1: being in the same group grants nothing without a policy", () => {
    const a = account({ peers: [peer("a", "100.64.0.1", { groups: ["team"] }), peer("b", "100.64.0.2", { groups: ["team"] })] });
    expect(compilePeer(a, "a").inbound).toEqual([]);
  });

  it("P2: the Default policy lets every other peer reach this peer on every protocol", () => {
    const a = account({ ...sharedPeers(), policies: [policy("default", [rule(["All"], ["All"], { id: "default", bidirectional: true })])] });
    const c = compilePeer(a, "db-1");
    const forward = c.inbound.find((r) => r.id === "default/default")!;
    expect(forward.protocol).toBe("all");
    expect(forward.sources.sort()).toEqual(["100.64.0.10/32", "100.64.0.30/32", "100.64.0.40/32"]);
    expect(forward.destinations).toEqual(["100.64.0.20/32"]);
    expect(ids(c.inbound)).toEqual(["default/default", "default/default:rev"]);
  });

  it("P3: a one-way rule is enforced inbound on the destination, and only there", () => {
    const a = dbAccess();
    const db = compilePeer(a, "db-1");
    expect(db.inbound).toHaveLength(1);
    expect(db.inbound[0]).toMatchObject({ id: "db-access/pg", sources: ["100.64.0.10/32"], destinations: ["100.64.0.20/32"], protocol: "tcp", ports: [5432], reverse: false });
    const laptop = compilePeer(a, "laptop-alice");
    expect(laptop.inbound).toEqual([]);
    expect(laptop.outbound).toMatchObject([{ id: "db-access/pg", sources: ["100.64.0.10/32"], destinations: ["100.64.0.20/32"] }]);
  });

  it("P4: the bidirectional flag adds the reverse half with the same protocol and ports", () => {
    const laptop = compilePeer(dbAccess({ bidirectional: true }), "laptop-alice");
    expect(laptop.inbound).toMatchObject([{ id: "db-access/pg:rev", sources: ["100.64.0.20/32"], destinations: ["100.64.0.10/32"], protocol: "tcp", ports: [5432], reverse: true }]);
    const db = compilePeer(dbAccess({ bidirectional: true }), "db-1");
    expect(ids(db.outbound)).toEqual(["db-access/pg:rev"]);
  });

  it("P5: tcp rule without ports is bidirectional even when the flag is off", () => {
    const laptop = compilePeer(dbAccess({ ports: [] }), "laptop-alice");
    expect(ids(laptop.inbound)).toEqual(["db-access/pg:rev"]);
  });

  it("P5: ICMP rule is bidirectional even when the flag is off", () => {
    const laptop = compilePeer(dbAccess({ protocol: "icmp", ports: [] }), "laptop-alice");
    expect(laptop.inbound).toMatchObject([{ id: "db-access/pg:rev", protocol: "icmp", reverse: true }]);
  });

  it("P5: protocol all is bidirectional even when the flag is off", () => {
    expect(ids(compilePeer(dbAccess({ protocol: "all", ports: [] }), "laptop-alice").inbound)).toEqual(["db-access/pg:rev"]);
  });

  it("P5: udp with a port range stays one-way", () => {
    expect(compilePeer(dbAccess({ protocol: "udp", ports: [], portRanges: [{ start: 5000, end: 5010 }] }), "laptop-alice").inbound).toEqual([]);
  });

  it("P5: the honourBidirectionalFlag option makes an all/icmp/portless rule one-way when the flag is off", () => {
    for (const extra of [{ protocol: "all" as const, ports: [] }, { protocol: "icmp" as const, ports: [] }, { ports: [] }]) {
      expect(compilePeer(dbAccess(extra), "laptop-alice", { honourBidirectionalFlag: true }).inbound).toEqual([]);
      expect(compilePeer(dbAccess({ ...extra, bidirectional: true }), "laptop-alice", { honourBidirectionalFlag: true }).inbound).toHaveLength(1);
    }
  });

  it("P6: a network resource destination becomes a one-way route rule on the routing peer", () => {
    const a = account({ ...sharedPeers(), policies: [policy("office", [rule(["engineering"], ["office-resources"], { id: "ssh", protocol: "tcp", ports: [22, 443], bidirectional: true })])] });
    const r = compilePeer(a, "router-1");
    expect(r.routes).toEqual([
      expect.objectContaining({ id: "office/ssh:route:office-lan", resourceId: "office-lan", sources: ["100.64.0.10/32"], destinations: ["198.18.1.0/24"], ports: [22, 443], reverse: false }),
    ]);
    expect(r.inbound).toEqual([]);
    // Never the reverse, whatever the flag: the laptop gets nothing inbound from the resource.
    expect(compilePeer(a, "laptop-alice").inbound).toEqual([]);
    expect(compilePeer(a, "db-1").routes).toEqual([]);
  });

  it("P6: a resource named directly by the rule, routed by a single peer, ICMP stays one-way", () => {
    const base = sharedPeers();
    const a = account({ ...base, routers: [router("office", { peer: "router-1" })], policies: [policy("office", [rule(["engineering"], [], { id: "ping", protocol: "icmp", destinationResource: "office-lan" })])] });
    expect(compilePeer(a, "router-1").routes).toMatchObject([{ id: "office/ping:route:office-lan", protocol: "icmp", destinations: ["198.18.1.0/24"] }]);
  });

  it("P6: a domain resource has a domain and empty destinations (filled at run time)", () => {
    const base = sharedPeers();
    base.resources.push(resource("wiki", "office", "wiki.example.com", ["office-resources"]));
    const a = account({ ...base, policies: [policy("office", [rule(["engineering"], ["office-resources"], { id: "web", protocol: "tcp", ports: [443] })])] });
    const wiki = compilePeer(a, "router-1").routes.find((r) => r.resourceId === "wiki")!;
    expect(wiki).toMatchObject({ domain: "wiki.example.com", destinations: [], sources: ["100.64.0.10/32"] });
  });

  it("P6: a host resource without prefix length gets /32; disabled resources and routers are ignored", () => {
    const base = sharedPeers();
    base.resources = [resource("printer", "office", "198.18.1.9", ["office-resources"])];
    const pols = [policy("office", [rule(["engineering"], ["office-resources"], { id: "print", protocol: "tcp", ports: [631] })])];
    expect(compilePeer(account({ ...base, policies: pols }), "router-1").routes[0].destinations).toEqual(["198.18.1.9/32"]);
    base.routers[0].enabled = false;
    expect(compilePeer(account({ ...base, policies: pols }), "router-1").routes).toEqual([]);
  });

  it("P6: legacy routes: access control groups select policies; without them NetBird's default permit applies", () => {
    const base = sharedPeers();
    const withAcl = route("lab", "198.18.2.0/24", { peer: "router-1", accessControlGroups: ["lab-access"] });
    const open = route("dmz", "198.18.3.0/24", { peerGroups: ["routers"] });
    const a = account({ ...base, routes: [withAcl, open], policies: [policy("lab", [rule(["engineering"], ["lab-access"], { id: "ssh", protocol: "tcp", ports: [22] })])] });
    const r = compilePeer(a, "router-1").routes;
    expect(r).toEqual([
      expect.objectContaining({ id: "lab/ssh:route:lab", sources: ["100.64.0.10/32"], destinations: ["198.18.2.0/24"], ports: [22] }),
      expect.objectContaining({ id: "route:dmz/default-permit", sources: ["0.0.0.0/0", "::/0"], destinations: ["198.18.3.0/24"], protocol: "all" }),
    ]);
  });

  it("P8: a source peer failing a posture check is removed from that policy's sources only", () => {
    const base = sharedPeers();
    base.peers.push(peer("laptop-bob", "100.64.0.11", { userId: "alice", meta: { version: "0.20.0" } }));
    const a = account({
      ...base,
      postureChecks: [posture("min-version", { nbVersionCheck: { minVersion: "0.25.0" } })],
      policies: [
        policy("strict", [rule(["engineering"], ["production-db"], { id: "pg", protocol: "tcp", ports: [5432] })], { sourcePostureChecks: ["min-version"] }),
        policy("lenient", [rule(["engineering"], ["production-db"], { id: "ssh", protocol: "tcp", ports: [22] })]),
      ],
    });
    const db = compilePeer(a, "db-1");
    expect(db.inbound.find((r) => r.id === "strict/pg")!.sources).toEqual(["100.64.0.10/32"]);
    expect(db.inbound.find((r) => r.id === "lenient/ssh")!.sources).toEqual(["100.64.0.10/32", "100.64.0.11/32"]);
    // The failing peer is not a source of the policy from its own point of view either.
    expect(ids(compilePeer(a, "laptop-bob").outbound)).toEqual(["lenient/ssh"]);
  });

  it("P8: posture checks apply to sources, not to destinations", () => {
    const a = account({
      ...sharedPeers(),
      postureChecks: [posture("geo", { geoLocationCheck: { action: "allow", locations: [{ countryCode: "DE" }] } })],
      policies: [policy("p", [rule(["engineering"], ["production-db"], { id: "pg", protocol: "tcp", ports: [5432] })], { sourcePostureChecks: ["geo"] })],
    });
    // db-1 has no location but is a destination: unaffected; alice has no location: removed.
    expect(compilePeer(a, "db-1").inbound).toEqual([]);
  });

  it("P9: drop rules are kept in the tables next to accept rules", () => {
    const a = account({
      ...sharedPeers(),
      policies: [
        policy("allow", [rule(["engineering"], ["production-db"], { id: "all" })]),
        policy("deny", [rule(["engineering"], ["production-db"], { id: "ssh", action: "drop", protocol: "tcp", ports: [22] })]),
      ],
    });
    expect(compilePeer(a, "db-1").inbound.map((r) => [r.id, r.action])).toEqual([["allow/all", "accept"], ["deny/ssh", "drop"]]);
  });

  it("P10: disabled policies and disabled rules are ignored", () => {
    const a = account({
      ...sharedPeers(),
      policies: [
        policy("off", [rule(["engineering"], ["production-db"], { id: "a" })], { enabled: false }),
        policy("on", [rule(["engineering"], ["production-db"], { id: "b", enabled: false }), rule(["engineering"], ["production-db"], { id: "c", protocol: "tcp", ports: [5432] })]),
      ],
    });
    expect(ids(compilePeer(a, "db-1").inbound)).toEqual(["on/c"]);
  });

  it("P12: ports and ranges are the rule's destination ports; an icmp rule carries none", () => {
    const c = compilePeer(dbAccess({ ports: [5432, 6432], portRanges: [{ start: 8000, end: 8010 }] }), "db-1");
    expect(c.inbound[0]).toMatchObject({ ports: [5432, 6432], portRanges: [{ start: 8000, end: 8010 }] });
    expect(compilePeer(dbAccess({ protocol: "icmp" }), "db-1").inbound[0]).toMatchObject({ ports: [], portRanges: [] });
  });

  it("P13: what the peer may initiate is compiled into the outbound table (used in egress mode)", () => {
    const laptop = compilePeer(dbAccess(), "laptop-alice");
    expect(laptop.outbound).toMatchObject([{ id: "db-access/pg", sources: ["100.64.0.10/32"], destinations: ["100.64.0.20/32"] }]);
  });

  it("a peer never filters its own traffic: self is left out of sources (mesh rule)", () => {
    const a = account({ peers: [peer("k1", "100.64.1.1", { groups: ["k8s"] }), peer("k2", "100.64.1.2", { groups: ["k8s"] })], policies: [policy("mesh", [rule(["k8s"], ["k8s"], { id: "m" })])] });
    const c = compilePeer(a, "k1");
    expect(c.inbound.map((r) => [r.id, r.sources])).toEqual([["mesh/m", ["100.64.1.2/32"]], ["mesh/m:rev", ["100.64.1.2/32"]]]);
  });

  it("effective groups: user auto-groups, setup-key auto-groups and groups listing the peer all count", () => {
    const a = account({
      users: [{ id: "u", autoGroups: ["from-user"] }],
      setupKeys: [{ id: "k", autoGroups: ["from-key"] }],
      peers: [peer("p1", "100.64.0.1", { userId: "u" }), peer("p2", "100.64.0.2", { setupKeyId: "k" }), peer("p3", "100.64.0.3"), peer("self", "100.64.0.9", { groups: ["dst"] })],
      groups: [group("listed", ["p3"])],
      policies: [policy("p", [rule(["from-user", "from-key", "listed"], ["dst"], { id: "r", protocol: "tcp", ports: [1] })])],
    });
    expect(compilePeer(a, "self").inbound[0].sources).toEqual(["100.64.0.1/32", "100.64.0.2/32", "100.64.0.3/32"]);
  });

  it("IPv6: peers with an overlay IPv6 contribute a /128 next to their /32", () => {
    const a = account({ peers: [peer("a", "100.64.0.1", { ipv6: "fd00::1", groups: ["x"] }), peer("b", "100.64.0.2", { ipv6: "fd00::2", groups: ["y"] })], policies: [policy("p", [rule(["x"], ["y"], { id: "r", protocol: "tcp", ports: [443] })])] });
    const c = compilePeer(a, "b");
    expect(c.peer).toEqual({ id: "b", name: "b", addresses: ["100.64.0.2", "fd00::2"] });
    expect(c.inbound[0]).toMatchObject({ sources: ["100.64.0.1/32", "fd00::1/128"], destinations: ["100.64.0.2/32", "fd00::2/128"] });
  });

  it("self is chosen by id, name or overlay IP; an unknown peer is a PolicyError", () => {
    const a = dbAccess();
    a.peers[1] = { ...a.peers[1], id: "peer-7f3a" };
    a.groups = a.groups.map((g) => g);
    for (const self of ["peer-7f3a", "db-1", "100.64.0.20"]) expect(compilePeer(a, self).peer.id).toBe("peer-7f3a");
    expect(() => compilePeer(a, "nobody")).toThrow(PolicyError);
  });

  it("rules sharing the same source groups share one source list", () => {
    const a = account({ ...sharedPeers(), policies: [policy("p", [rule(["engineering"], ["production-db"], { id: "a", protocol: "tcp", ports: [1] }), rule(["engineering"], ["production-db"], { id: "b", protocol: "tcp", ports: [2] })])] });
    const [x, y] = compilePeer(a, "db-1").inbound;
    expect(x.sources).toBe(y.sources);
  });
});

describe("compilePeer: single-peer rule ends", () => {
  it("P3: a rule naming a source peer (NetBird sourceResource of type peer) reaches a destination peer", () => {
    const a = account({ ...sharedPeers(), policies: [policy("p", [rule([], [], { id: "r", protocol: "tcp", ports: [22], sourcePeer: "web-1", destinationPeer: "db-1" })])] });
    expect(compilePeer(a, "db-1").inbound).toMatchObject([{ id: "p/r", sources: ["100.64.0.30/32"], destinations: ["100.64.0.20/32"] }]);
    expect(compilePeer(a, "web-1").outbound).toMatchObject([{ id: "p/r", destinations: ["100.64.0.20/32"] }]);
  });
});

describe("compilePeer: outbound towards resources (egress mode)", () => {
  it("P13: a source peer's outbound table holds one-way rules to the resources and routed prefixes it may reach", () => {
    const base = sharedPeers();
    const lab = route("lab", "198.18.2.0/24", { peer: "router-1", accessControlGroups: ["lab-access"], groups: ["engineering"] });
    const dmz = route("dmz", "198.18.3.0/24", { peerGroups: ["routers"] });
    const a = account({
      ...base,
      routes: [lab, dmz],
      policies: [
        policy("office", [rule(["engineering"], ["office-resources"], { id: "ssh", protocol: "tcp", ports: [22] })]),
        policy("lab", [rule(["engineering"], ["lab-access"], { id: "web", protocol: "tcp", ports: [443] })]),
      ],
    });
    const laptop = compilePeer(a, "laptop-alice");
    expect(laptop.outbound.map((r) => [r.id, r.destinations, r.ports])).toEqual([
      ["office/ssh:to:office-lan", ["198.18.1.0/24"], [22]],
      ["lab/web:to:lab", ["198.18.2.0/24"], [443]],
      ["route:dmz/default-permit:to:dmz", ["198.18.3.0/24"], []],
    ]);
    expect(laptop.inbound).toEqual([]); // P6: never the reverse
    // The routing peer does not list its own routes as outbound destinations.
    expect(compilePeer(a, "router-1").outbound).toEqual([]);
  });
});
