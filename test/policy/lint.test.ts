import { describe, expect, it } from "vitest";
import { lintAccount, LINT_CHECKS, type Finding } from "../../src/policy/lint/lint.ts";
import type { Account } from "../../src/policy/model/model.ts";
import { account, group, peer, policy, posture, resource, rule, sharedPeers } from "./build-account.ts";

const idsOf = (findings: Finding[]) => findings.map((f) => f.id);
const only = (a: Account, id: string) => lintAccount(a).filter((f) => f.id === id);

/** The seed's recommended shape: users -> servers on named ports with a posture check. */
function recommended(): Account {
  return account({
    ...sharedPeers(),
    postureChecks: [posture("min-version", { nbVersionCheck: { minVersion: "0.28.0" } })],
    policies: [
      policy("db", [rule(["engineering"], ["production-db"], { id: "pg", protocol: "tcp", ports: [5432] })], { sourcePostureChecks: ["min-version"] }),
      policy("web", [rule(["engineering"], ["web-servers"], { id: "https", protocol: "tcp", ports: [443] })]),
      policy("office", [rule(["engineering"], ["office-resources"], { id: "ssh", protocol: "tcp", ports: [443] })]),
      policy("backup", [rule(["web-servers"], ["production-db"], { id: "replica", protocol: "tcp", ports: [8007] })]),
    ],
  });
}

describe("lintAccount", () => {
  it("finds nothing in the seed's recommended shape", () => {
    expect(lintAccount(recommended())).toEqual([]);
  });

  it("every finding has a known id, a severity, a one-sentence message and the objects it names", () => {
    const a = account({ ...sharedPeers(), policies: [policy("default", [rule(["All"], ["All"], { id: "d", bidirectional: true })])] });
    for (const f of lintAccount(a)) {
      expect(LINT_CHECKS.map((c) => c.id)).toContain(f.id);
      expect(["error", "warning", "info"]).toContain(f.severity);
      expect(f.message).toMatch(/\.$/);
      expect(f.objects.length).toBeGreaterThan(0);
    }
  });

  it("default-policy: fires on an enabled All -> All protocol-all accept rule, not when disabled or with ports", () => {
    const def = (extra = {}, pol = {}) => account({ ...sharedPeers(), policies: [policy("default", [rule(["All"], ["All"], { id: "d", bidirectional: true, ...extra })], pol)] });
    expect(only(def(), "default-policy")).toEqual([expect.objectContaining({ severity: "error", objects: ["default", "default/d"] })]);
    expect(idsOf(lintAccount(def()))).toEqual(["default-policy"]); // no restatements of the same problem
    expect(only(def({}, { enabled: false }), "default-policy")).toEqual([]);
    expect(only(def({ protocol: "tcp", ports: [22] }), "default-policy")).toEqual([]);
  });

  it("mixed-group: fires on a group with a laptop and a server, not on user-only or server-only groups", () => {
    const base = sharedPeers();
    base.peers[1].groups.push("engineering"); // db-1 joins the user group
    expect(only(account({ ...base }), "mixed-group")).toEqual([expect.objectContaining({ severity: "warning", objects: ["engineering"] })]);
    expect(only(recommended(), "mixed-group")).toEqual([]);
  });

  it("mixed-group: a peer with neither user nor setup key counts as a user device when it holds a user's group", () => {
    const a = account({ users: [{ id: "u", autoGroups: ["staff"] }], peers: [peer("p", "100.64.0.1", { groups: ["staff", "mix"] }), peer("s", "100.64.0.2", { setupKeyId: "k", groups: ["mix"] })], setupKeys: [{ id: "k", autoGroups: [] }] });
    expect(only(a, "mixed-group").map((f) => f.objects[0])).toEqual(["mix"]);
  });

  it("mixed-mesh: fires on engineering <-> engineering over laptops and servers, not on an infrastructure mesh", () => {
    const base = sharedPeers();
    base.peers[1].groups.push("engineering");
    const mixed = account({ ...base, policies: [policy("eng", [rule(["engineering"], ["engineering"], { id: "m" })])] });
    expect(only(mixed, "mixed-mesh")).toEqual([expect.objectContaining({ severity: "error", objects: ["eng/m", "engineering"] })]);
    const k8s = account({ peers: [peer("k1", "100.64.1.1", { setupKeyId: "k", groups: ["k8s"] }), peer("k2", "100.64.1.2", { setupKeyId: "k", groups: ["k8s"] })], setupKeys: [{ id: "k", autoGroups: [] }], policies: [policy("k8s", [rule(["k8s"], ["k8s"], { id: "m", bidirectional: true })])] });
    expect(only(k8s, "mixed-mesh")).toEqual([]);
  });

  it("infra-to-user: fires on web-servers -> engineering, and on a bidirectional users <-> servers rule; not on users -> servers", () => {
    const a = account({ ...sharedPeers(), policies: [policy("callback", [rule(["web-servers"], ["engineering"], { id: "cb", protocol: "tcp", ports: [8080] })])] });
    expect(only(a, "infra-to-user")).toEqual([expect.objectContaining({ severity: "warning", objects: ["callback/cb"] })]);
    const both = account({ ...sharedPeers(), policies: [policy("db", [rule(["engineering"], ["production-db"], { id: "pg", protocol: "tcp", ports: [5432], bidirectional: true })])] });
    expect(only(both, "infra-to-user")).toHaveLength(1);
    expect(only(recommended(), "infra-to-user")).toEqual([]);
  });

  it("protocol-all-where-ports-would-do: fires on users -> servers with protocol all, not on an infrastructure mesh", () => {
    const a = account({ ...sharedPeers(), policies: [policy("web", [rule(["engineering"], ["web-servers"], { id: "w", protocol: "all" })])] });
    expect(only(a, "protocol-all-where-ports-would-do")).toEqual([expect.objectContaining({ severity: "warning", objects: ["web/w"] })]);
    const mesh = account({ peers: [peer("k1", "100.64.1.1", { setupKeyId: "k", groups: ["k8s"] })], setupKeys: [{ id: "k", autoGroups: [] }], policies: [policy("k8s", [rule(["k8s"], ["k8s"], { id: "m" })])] });
    expect(only(mesh, "protocol-all-where-ports-would-do")).toEqual([]);
  });

  it("ineffective-bidirectional: P5 rule without the flag warns; flag on a resource or an all/icmp rule is info; a one-way port rule is fine", () => {
    const lint = (extra: Parameters<typeof rule>[2], dst = ["web-servers"]) => only(account({ ...sharedPeers(), policies: [policy("p", [rule(["engineering"], dst, { id: "r", ...extra })])] }), "ineffective-bidirectional");
    expect(lint({ protocol: "tcp" })).toEqual([expect.objectContaining({ severity: "warning", message: expect.stringMatching(/P5/) })]);
    expect(lint({ protocol: "icmp", bidirectional: true })).toEqual([expect.objectContaining({ severity: "info" })]);
    expect(lint({ protocol: "tcp", ports: [22], bidirectional: true }, ["office-resources"])).toEqual([expect.objectContaining({ severity: "info", message: expect.stringMatching(/P6/) })]);
    expect(lint({ protocol: "tcp", ports: [443] })).toEqual([]);
    // With the flag honoured (newer NetBird), a portless rule is one-way and nothing is said.
    const a = account({ ...sharedPeers(), policies: [policy("p", [rule(["engineering"], ["web-servers"], { id: "r", protocol: "tcp" })])] });
    expect(lintAccount(a, { honourBidirectionalFlag: true }).filter((f) => f.id === "ineffective-bidirectional")).toEqual([]);
  });

  it("unknown-group: fires on a rule naming a group that does not exist, not on known groups", () => {
    const a = account({ ...sharedPeers(), groups: [group("engineering"), group("production-db"), group("routers"), group("office-resources")], policies: [policy("p", [rule(["engineering"], ["ghosts"], { id: "r", protocol: "tcp", ports: [1] })])] }, { createGroups: false });
    expect(only(a, "unknown-group")).toEqual([expect.objectContaining({ severity: "error", objects: ["p/r", "ghosts"] })]);
    expect(only(recommended(), "unknown-group")).toEqual([]);
  });

  it("unknown-reference: fires on a missing posture check", () => {
    const a = recommended();
    a.policies[1].sourcePostureChecks = ["nope"];
    expect(only(a, "unknown-reference")).toEqual([expect.objectContaining({ objects: ["web", "nope"] })]);
  });

  it("empty-group: fires on an enabled rule naming a group without members, not on a disabled one", () => {
    const a = account({ ...sharedPeers(), policies: [policy("p", [rule(["engineering"], ["nobody-here"], { id: "r", protocol: "tcp", ports: [1] })])] });
    expect(only(a, "empty-group")).toEqual([expect.objectContaining({ severity: "warning", objects: ["nobody-here", "p/r"] })]);
    a.policies[0].enabled = false;
    expect(only(a, "empty-group")).toEqual([]);
  });

  it("sensitive-without-posture: fires on users -> production-db without posture checks, not with them, not for server sources", () => {
    const a = recommended();
    expect(only(a, "sensitive-without-posture")).toEqual([]);
    a.policies[0].sourcePostureChecks = [];
    expect(only(a, "sensitive-without-posture")).toEqual([expect.objectContaining({ objects: ["db/pg"], message: expect.stringMatching(/production-db/) })]);
    // Sensitive by port: ssh to web servers.
    const ssh = account({ ...sharedPeers(), policies: [policy("ssh", [rule(["engineering"], ["web-servers"], { id: "s", protocol: "tcp", ports: [22] })])] });
    expect(only(ssh, "sensitive-without-posture")).toEqual([expect.objectContaining({ message: expect.stringMatching(/port 22/) })]);
  });

  it("shadowed-rule: fires when a broader rule covers a narrower one or a drop covers an accept; not when ports differ", () => {
    const shadow = (second: Parameters<typeof rule>[2], first: Parameters<typeof rule>[2] = { protocol: "tcp", ports: [443, 8443] }) =>
      only(account({ ...sharedPeers(), policies: [policy("a", [rule(["engineering"], ["web-servers"], { id: "wide", ...first })]), policy("b", [rule(["engineering"], ["web-servers"], { id: "narrow", ...second })])] }), "shadowed-rule");
    expect(shadow({ protocol: "tcp", ports: [443] })).toEqual([expect.objectContaining({ severity: "warning", objects: ["b/narrow", "a/wide"] })]);
    expect(shadow({ protocol: "tcp", ports: [80] })).toEqual([]);
    expect(shadow({ protocol: "tcp", ports: [443] }, { protocol: "tcp", action: "drop", portRanges: [{ start: 1, end: 1024 }] })).toHaveLength(1);
    // An accept never shadows a drop (drop wins, P9).
    expect(shadow({ protocol: "tcp", ports: [443], action: "drop" })).toEqual([]);
    // Identical rules: only the later one is reported.
    expect(shadow({ protocol: "tcp", ports: [443, 8443] }).map((f) => f.objects[0])).toEqual(["b/narrow"]);
  });
});

describe("lintAccount severities", () => {
  it("ineffective-bidirectional: an icmp rule answered back by P5 is only info; sensitive-without-posture is advice (info)", () => {
    const a = account({ ...sharedPeers(), policies: [policy("p", [rule(["engineering"], ["web-servers"], { id: "ping", protocol: "icmp" })]), policy("db", [rule(["engineering"], ["production-db"], { id: "pg", protocol: "tcp", ports: [5432] })])] });
    expect(lintAccount(a).map((f) => [f.id, f.severity])).toEqual([["ineffective-bidirectional", "info"], ["sensitive-without-posture", "info"]]);
  });
});

describe("peer identities", () => {
  it("duplicate-peer-name: two peers named db-1 (a NetBird export allows it) is an error naming both ids", () => {
    const a = account({ peers: [peer("db-1", "100.64.0.20", { id: "p-db" }), peer("db-1", "100.64.0.99", { id: "p-evil" }), peer("web-1", "100.64.0.30")] });
    expect(only(a, "duplicate-peer-name")).toEqual([expect.objectContaining({ severity: "error", objects: ["p-db", "p-evil"] })]);
    expect(only(a, "duplicate-peer-name")[0].message).toMatch(/^2 peers are named "db-1" \(ids p-db, p-evil\)/);
  });

  it("peer-name-is-ip: a peer named after another peer's IPv4 or IPv6 is an error; its own IP as its name is not", () => {
    const a = account({
      peers: [
        peer("db-1", "100.64.0.20", { ipv6: "fd00::20" }),
        peer("100.64.0.20", "100.64.0.66", { id: "impostor" }),
        peer("fd00::20", "100.64.0.67", { id: "impostor6" }),
        peer("100.64.0.30", "100.64.0.30", { id: "self-named" }),
      ],
    });
    expect(only(a, "peer-name-is-ip")).toEqual([
      expect.objectContaining({ severity: "error", objects: ["impostor", "db-1"] }),
      expect.objectContaining({ severity: "error", objects: ["impostor6", "db-1"] }),
    ]);
  });
});
