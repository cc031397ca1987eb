// meshfilter's own format: names as ids, port strings and ranges, defaults, shorthands.

import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { parsePolicyText } from "../../src/policy/input/load.ts";
import { meshfilterBase } from "./helpers.ts";

const YAML = `
peers:
  - name: laptop-alice
    ip: 100.64.0.10
    user: alice
    meta: { version: 0.30.1, os: linux, kernel_version: 6.1.0-18-amd64, country_code: de }
  - name: db-1
    ip: 100.64.0.20
    setup_key: servers-key
  - name: router-1
    ip: 100.64.0.40
    ipv6: fd00::40
    setup_key: routers-key
    groups: [monitoring]
users:
  - name: alice
    groups: [engineering]
setup_keys:
  - { name: servers-key, groups: [production-db] }
  - { name: routers-key, groups: [routers] }
groups:
  - engineering
  - production-db
  - routers
  - monitoring
  - name: office-lan
    resources: [printer]
networks:
  - name: office
    routers: [{ peer: router-1 }, { groups: [routers], masquerade: false }]
    resources:
      - { name: office-net, address: 198.18.1.0/24, groups: [office-lan] }
      - { name: printer, address: 198.18.1.9 }
posture_checks:
  - name: min-version
    nb_version: 0.28.0
  - name: everything
    os_version: { linux: 5.10.0, windows: 10.0.19045, darwin: "14.0", android: 13, ios: 17.3.1 }
    geo_location: { action: deny, locations: [ru, { country: FR, city: Paris }] }
    network_range: { action: allow, ranges: [10.0.0.0/8] }
    processes: [{ linux: /usr/bin/falcon-sensor, windows: 'C:\\falcon.exe' }]
policies:
  - name: eng-to-db
    posture_checks: [min-version]
    sources: [engineering]
    destinations: [production-db]
    protocol: tcp
    ports: [5432, "5433", "8080-8090", " 9000 - 9001 "]
  - name: multi
    enabled: false
    rules:
      - name: lan
        sources: [engineering]
        destination_resource: office-net
        protocol: tcp
        ports: ["22"]
      - sources: [monitoring]
        destination_peer: db-1
        protocol: udp
        action: drop
        bidirectional: true
        enabled: false
`;

describe("meshfilter format", () => {
  const account = parsePolicyText(YAML, "test.yaml");

  it("uses names as ids everywhere", () => {
    expect(account.peers.map((p) => p.id)).toEqual(["laptop-alice", "db-1", "router-1"]);
    expect(account.peers[0]).toMatchObject({ name: "laptop-alice", ip: "100.64.0.10", userId: "alice" });
    expect(account.peers[1]).toMatchObject({ setupKeyId: "servers-key" });
    expect(account.peers[2]).toMatchObject({ ipv6: "fd00::40", groups: ["monitoring"] });
    expect(account.users).toEqual([{ id: "alice", name: "alice", autoGroups: ["engineering"] }]);
    expect(account.setupKeys[0]).toEqual({ id: "servers-key", name: "servers-key", autoGroups: ["production-db"] });
  });

  it("reads peer metadata with NetBird's field names", () => {
    expect(account.peers[0].meta).toEqual({ version: "0.30.1", os: "linux", kernelVersion: "6.1.0-18-amd64", countryCode: "DE" });
  });

  it("declares groups by name or as objects, and adds the implicit All group", () => {
    expect(account.groups.map((g) => g.id)).toEqual(["All", "engineering", "production-db", "routers", "monitoring", "office-lan"]);
    expect(account.groups[0]).toEqual({ id: "All", name: "All", peers: ["laptop-alice", "db-1", "router-1"], resources: [], isAll: true });
    // Membership from either side ends up on both sides.
    expect(account.groups.find((g) => g.id === "office-lan")?.resources).toEqual(["office-net", "printer"]);
    expect(account.resources.find((r) => r.id === "printer")?.groups).toEqual(["office-lan"]);
  });

  it("reads networks: routers get ids <network>/router/<n>, resource types follow the address", () => {
    expect(account.networks).toEqual([{ id: "office", name: "office" }]);
    expect(account.routers).toEqual([
      { id: "office/router/1", networkId: "office", peer: "router-1", peerGroups: [], masquerade: true, enabled: true },
      { id: "office/router/2", networkId: "office", peerGroups: ["routers"], masquerade: false, enabled: true },
    ]);
    expect(account.resources.map((r) => [r.id, r.type, r.address])).toEqual([
      ["office-net", "subnet", "198.18.1.0/24"],
      ["printer", "host", "198.18.1.9/32"],
    ]);
  });

  it("reads ports as numbers, numeric strings and ranges in one list", () => {
    const [rule] = account.policies[0].rules;
    expect(rule.ports).toEqual([5432, 5433]);
    expect(rule.portRanges).toEqual([{ start: 8080, end: 8090 }, { start: 9000, end: 9001 }]);
  });

  it("treats a policy without rules as its own single rule, with defaults", () => {
    const [policy] = account.policies;
    expect(policy).toMatchObject({ id: "eng-to-db", name: "eng-to-db", enabled: true, sourcePostureChecks: ["min-version"] });
    expect(policy.rules).toHaveLength(1);
    expect(policy.rules[0]).toMatchObject({ id: "1", name: "eng-to-db", enabled: true, action: "accept", bidirectional: false, protocol: "tcp", sources: { groups: ["engineering"] }, destinations: { groups: ["production-db"] } });
  });

  it("reads rule lists: rule ids are names or positions; resources and peers as destinations", () => {
    const [, multi] = account.policies;
    expect(multi.enabled).toBe(false);
    expect(multi.rules.map((r) => [r.id, r.name])).toEqual([["lan", "lan"], ["2", "multi"]]);
    expect(multi.rules[0].destinations).toEqual({ groups: [], resource: "office-net" });
    expect(multi.rules[1]).toMatchObject({ action: "drop", bidirectional: true, enabled: false, protocol: "udp", destinations: { groups: [], peer: "db-1" } });
  });

  it("defaults the protocol to all", () => {
    const doc = meshfilterBase();
    doc.policies[0].rules = [{ sources: ["engineering"], destinations: ["production-db"] }];
    const [rule] = parsePolicyText(JSON.stringify(doc), "t.json").policies[0].rules;
    expect(rule.protocol).toBe("all");
  });

  it("reads posture checks of every kind", () => {
    expect(account.postureChecks[1]).toEqual({
      id: "everything",
      name: "everything",
      osVersionCheck: { linux: { minKernelVersion: "5.10.0" }, windows: { minKernelVersion: "10.0.19045" }, darwin: { minVersion: "14.0" }, android: { minVersion: "13" }, ios: { minVersion: "17.3.1" } },
      geoLocationCheck: { action: "deny", locations: [{ countryCode: "RU" }, { countryCode: "FR", cityName: "Paris" }] },
      peerNetworkRangeCheck: { action: "allow", ranges: ["10.0.0.0/8"] },
      processCheck: { processes: [{ linuxPath: "/usr/bin/falcon-sensor", windowsPath: "C:\\falcon.exe" }] },
    });
  });

  it("accepts the optional format marker, and JSON as well as YAML", () => {
    const doc = { format: "meshfilter/v1", ...meshfilterBase() };
    const fromJson = parsePolicyText(JSON.stringify(doc, null, 2), "t.json");
    const fromYaml = parsePolicyText(stringify(doc), "t.yaml");
    expect(fromJson).toEqual(fromYaml);
  });
});
