import { describe, expect, it } from "vitest";
import { explain, ExplainQueryError, parseExplainQuery } from "../../src/policy/explain/explain.ts";
import type { Account } from "../../src/policy/model/model.ts";
import { account, peer, policy, posture, rule, sharedPeers } from "./build-account.ts";

const ALICE = "100.64.0.10";
const DB = "100.64.0.20";

/** alice -> db-1 tcp/5432 (posture: NetBird >= 0.25), a drop of tcp/22, a disabled ssh accept, office access. */
function scenario(): Account {
  const base = sharedPeers();
  base.peers.push(peer("laptop-old", "100.64.0.11", { userId: "alice", meta: { version: "0.20.1" } }));
  return account({
    ...base,
    postureChecks: [posture("recent-agent", { nbVersionCheck: { minVersion: "0.25.0" } })],
    policies: [
      policy("db-access", [rule(["engineering"], ["production-db"], { id: "pg", name: "postgres", protocol: "tcp", ports: [5432] })], { sourcePostureChecks: ["recent-agent"] }),
      policy("no-ssh", [rule(["engineering"], ["production-db"], { id: "ssh", action: "drop", protocol: "tcp", ports: [22] })]),
      policy("ssh-admin", [rule(["engineering"], ["production-db"], { id: "ssh", protocol: "tcp", ports: [22, 2222] })]),
      policy("metrics", [rule(["engineering"], ["production-db"], { id: "prom", protocol: "tcp", ports: [9100] })], { enabled: false }),
      policy("office", [rule(["engineering"], ["office-resources"], { id: "https", protocol: "tcp", ports: [443] })]),
      policy("ping", [rule(["engineering"], ["production-db"], { id: "icmp", protocol: "icmp" })]),
    ],
  });
}

describe("parseExplainQuery", () => {
  it("reads tcp with flags, udp, icmp types and bracketed IPv6", () => {
    expect(parseExplainQuery("tcp 100.64.0.5:51000 > 100.64.0.9:5432 S")).toMatchObject({ protocol: "tcp", src: "100.64.0.5", srcPort: 51000, dst: "100.64.0.9", dstPort: 5432, tcpFlags: "S" });
    expect(parseExplainQuery("udp 1.2.3.4:53000 > 100.64.0.9:53")).toMatchObject({ protocol: "udp", dstPort: 53 });
    expect(parseExplainQuery("icmp 100.64.0.5 > 100.64.0.9 echo-request")).toMatchObject({ protocol: "icmp", icmpType: 8 });
    expect(parseExplainQuery("tcp [fd00::1]:443 > [fd00::9]:8443")).toMatchObject({ src: "fd00::1", srcPort: 443, dst: "fd00::9", dstPort: 8443, tcpFlags: "S" });
  });
  it("rejects a bad query with a message naming the part at fault", () => {
    expect(() => parseExplainQuery("tcp 100.64.0.5 > 100.64.0.9")).toThrow(/needs a port/);
    expect(() => parseExplainQuery("sctp 1.1.1.1:1 > 2.2.2.2:2")).toThrow(ExplainQueryError);
    expect(() => parseExplainQuery("tcp 1.1.1.1:1 > 2.2.2.2:99999")).toThrow(/port "99999"/);
    expect(() => parseExplainQuery("tcp nonsense")).toThrow(/expected/);
  });
});

describe("explain", () => {
  it("P3: accepts a new connection allowed by a rule and names the rule and policy", () => {
    const e = explain(scenario(), "db-1", `tcp ${ALICE}:51000 > ${DB}:5432 S`);
    expect(e).toMatchObject({ verdict: "accept", stage: "rules", direction: "inbound", rule: "db-access/pg", policy: "db-access" });
  });

  it("P1: no rule means default deny", () => {
    const e = explain(scenario(), "db-1", `tcp ${ALICE}:51000 > ${DB}:8080`);
    expect(e).toMatchObject({ verdict: "drop", stage: "default-deny", rule: null, policy: null, reason: expect.stringMatching(/P1/) });
  });

  it("P9: a drop rule beats the accept rule that also matches", () => {
    const e = explain(scenario(), "db-1", `tcp ${ALICE}:51000 > ${DB}:22`);
    expect(e).toMatchObject({ verdict: "drop", stage: "rules", rule: "no-ssh/ssh", reason: expect.stringMatching(/P9/) });
    expect(explain(scenario(), "db-1", `tcp ${ALICE}:51000 > ${DB}:2222`)).toMatchObject({ verdict: "accept", rule: "ssh-admin/ssh" });
  });

  it("P8: names the posture check that removed the source and why it failed", () => {
    const e = explain(scenario(), "db-1", `tcp 100.64.0.11:40000 > ${DB}:5432`);
    expect(e).toMatchObject({ verdict: "drop", stage: "posture", rule: "db-access/pg", postureCheck: { checkId: "recent-agent", kind: "nb_version_check" } });
    expect(e.reason).toMatch(/laptop-old fails posture check "recent-agent".*0\.20\.1 is older than the minimum 0\.25\.0/);
  });

  it("P10: says a disabled policy would have allowed it", () => {
    const e = explain(scenario(), "db-1", `tcp ${ALICE}:51000 > ${DB}:9100`);
    expect(e).toMatchObject({ verdict: "drop", stage: "disabled", rule: "metrics/prom", reason: expect.stringMatching(/policy "metrics" is disabled/) });
  });

  it("P3/P7: a one-way rule does not let the destination open a connection back", () => {
    const e = explain(scenario(), "laptop-alice", `tcp ${DB}:40000 > ${ALICE}:5432`);
    expect(e).toMatchObject({ verdict: "drop", stage: "direction", rule: "db-access/pg", reason: expect.stringMatching(/one-way \(P3\)/) });
  });

  it("P5: the icmp rule is bidirectional, so db-1 may ping alice", () => {
    expect(explain(scenario(), "laptop-alice", `icmp ${DB} > ${ALICE} echo-request`)).toMatchObject({ verdict: "accept", rule: "ping/icmp:rev" });
  });

  it("P7: a TCP packet without a bare SYN is not a new connection", () => {
    const e = explain(scenario(), "db-1", `tcp ${ALICE}:51000 > ${DB}:5432 A`);
    expect(e).toMatchObject({ verdict: "drop", stage: "not-new", reason: expect.stringMatching(/tracker/) });
  });

  it("P11: an echo reply or an ICMP error needs tracked traffic", () => {
    expect(explain(scenario(), "db-1", `icmp ${ALICE} > ${DB} echo-reply`)).toMatchObject({ verdict: "drop", stage: "not-new" });
    expect(explain(scenario(), "db-1", `icmp ${ALICE} > ${DB} destination-unreachable`)).toMatchObject({ verdict: "drop", stage: "not-new", reason: expect.stringMatching(/quotes/) });
    expect(explain(scenario(), "db-1", `icmp ${ALICE} > ${DB} redirect`)).toMatchObject({ verdict: "drop", stage: "not-new", reason: expect.stringMatching(/quotes/) });
    expect(explain(scenario(), "db-1", `icmp ${ALICE} > ${DB} 4`)).toMatchObject({ verdict: "drop", stage: "not-new", reason: expect.stringMatching(/never passes/) });
  });

  it("P12: a port rule never matches ICMP", () => {
    const a = scenario();
    a.policies = a.policies.filter((p) => p.id !== "ping");
    expect(explain(a, "db-1", `icmp ${ALICE} > ${DB}`)).toMatchObject({ verdict: "drop", stage: "default-deny" });
  });

  it("P6: a connection routed to a network resource is judged by the route rules, and the resource cannot initiate", () => {
    expect(explain(scenario(), "router-1", `tcp ${ALICE}:50000 > 198.18.1.7:443`)).toMatchObject({ verdict: "accept", direction: "route", rule: "office/https:route:office-lan" });
    expect(explain(scenario(), "router-1", `tcp ${ALICE}:50000 > 198.18.1.7:22`)).toMatchObject({ verdict: "drop", direction: "route", stage: "default-deny" });
    expect(explain(scenario(), "router-1", `tcp 198.18.1.7:50000 > ${ALICE}:443`)).toMatchObject({ verdict: "drop", stage: "direction", reason: expect.stringMatching(/P6/) });
  });

  it("P13: outbound connections are not filtered unless egress mode is on", () => {
    expect(explain(scenario(), "laptop-alice", `tcp ${ALICE}:50000 > 100.64.0.30:80`)).toMatchObject({ verdict: "accept", stage: "outbound-unfiltered", direction: "outbound" });
    expect(explain(scenario(), "laptop-alice", `tcp ${ALICE}:50000 > 100.64.0.30:80`, { egress: true })).toMatchObject({ verdict: "drop", stage: "default-deny" });
    expect(explain(scenario(), "laptop-alice", `tcp ${ALICE}:50000 > ${DB}:5432`, { egress: true })).toMatchObject({ verdict: "accept", rule: "db-access/pg" });
  });

  it("a connection neither to nor from the peer is not for it", () => {
    expect(explain(scenario(), "db-1", `tcp ${ALICE}:1 > 100.64.0.30:80`)).toMatchObject({ verdict: "drop", stage: "not-for-peer", direction: "none" });
  });

  it("IPv6 overlay addresses are matched too", () => {
    const a = account({ peers: [peer("a", "100.64.0.1", { ipv6: "fd00::1", groups: ["x"] }), peer("b", "100.64.0.2", { ipv6: "fd00::2", groups: ["y"] })], policies: [policy("p", [rule(["x"], ["y"], { id: "r", protocol: "tcp", ports: [443] })])] });
    expect(explain(a, "b", "tcp [fd00::1]:50000 > [fd00::2]:443")).toMatchObject({ verdict: "accept", rule: "p/r" });
  });
});
