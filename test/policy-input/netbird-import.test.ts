// Importing a NetBird management export: every collection, the forms NetBird uses.

import { describe, expect, it } from "vitest";
import { parsePolicyText } from "../../src/policy/input/load.ts";
import { netbirdBase, problemsOf, type Doc } from "./helpers.ts";

const load = (doc: object) => parsePolicyText(JSON.stringify(doc), "export.json");

describe("NetBird export import", () => {
  it("imports peers with their overlay IP, user, setup key and metadata", () => {
    const account = load(netbirdBase());
    const [alice, db, router] = account.peers;
    expect(alice).toMatchObject({ id: "p1", name: "laptop-alice", ip: "100.64.0.10", userId: "u1" });
    expect(alice.setupKeyId).toBeUndefined();
    // "Darwin 13.2.1" is NetBird's display form: family and version are split for posture checks.
    expect(alice.meta).toEqual({ version: "0.30.1", os: "darwin", osVersion: "13.2.1", kernelVersion: "22.3.0", countryCode: "DE", cityName: "Berlin", connectionIp: "203.0.113.7" });
    expect(db.userId).toBeUndefined(); // "" means no user: infrastructure
    expect(db.setupKeyId).toBe("k1");
    expect(db.meta).toMatchObject({ os: "linux", osVersion: "22.04" });
    expect(router.userId).toBeUndefined(); // no user_id at all: infrastructure
    expect(router.meta).toEqual({});
  });

  it("accepts the setup_key spelling of the setup-key extension", () => {
    const doc = netbirdBase();
    delete doc.peers[1].setup_key_id;
    doc.peers[1].setup_key = "k1";
    expect(load(doc).peers[1].setupKeyId).toBe("k1");
  });

  it("imports groups (peer ids or PeerMinimum objects), marks All, and keeps membership symmetric", () => {
    const account = load(netbirdBase());
    expect(account.groups.map((g) => [g.id, g.name, g.isAll])).toEqual([
      ["g-all", "All", true],
      ["g-eng", "engineering", false],
      ["g-db", "production-db", false],
      ["g-lan", "office-lan", false],
    ]);
    expect(account.groups[0].peers).toEqual(["p1", "p2", "p3"]);
    // engineering and production-db come from alice's and the key's auto_groups: implied, not direct.
    expect(account.groups[1].peers).toEqual([]);
    expect(account.peers[0].groups).toEqual([]);
    expect(account.groups[3].resources).toEqual(["r1"]);
  });

  it("keeps a directly assigned group on the peer and the group", () => {
    const doc = netbirdBase();
    doc.groups.push({ id: "g-mon", name: "monitoring", peers: [{ id: "p3", name: "router-1" }], resources: [] });
    const account = load(doc);
    expect(account.peers[2].groups).toEqual(["g-mon"]);
    expect(account.groups.find((g) => g.id === "g-mon")?.peers).toEqual(["p3"]);
  });

  it("adds the All group when the export has none", () => {
    const doc = netbirdBase();
    doc.groups = doc.groups.filter((g: Doc) => g.name !== "All");
    for (const peer of doc.peers) peer.groups = [];
    const all = load(doc).groups.find((g) => g.isAll);
    expect(all).toMatchObject({ id: "All", name: "All", peers: ["p1", "p2", "p3"] });
  });

  it("imports users and setup keys with their auto_groups", () => {
    const account = load(netbirdBase());
    expect(account.users).toEqual([{ id: "u1", name: "Alice", autoGroups: ["g-eng"] }]);
    expect(account.setupKeys).toEqual([{ id: "k1", name: "servers-key", autoGroups: ["g-db"] }]);
  });

  it("imports policy rules whose sources are group ids and destinations group objects", () => {
    const [policy] = load(netbirdBase()).policies;
    expect(policy).toEqual({
      id: "pol1",
      name: "eng-to-db",
      enabled: true,
      sourcePostureChecks: ["pc1"],
      rules: [
        { id: "r-1", name: "eng-to-db", enabled: true, action: "accept", bidirectional: false, protocol: "tcp", ports: [5432], portRanges: [], sources: { groups: ["g-eng"] }, destinations: { groups: ["g-db"] } },
      ],
    });
  });

  it("imports port_ranges, turning one-port ranges into ports", () => {
    const doc = netbirdBase();
    doc.policies[0].rules[0].ports = undefined;
    doc.policies[0].rules[0].port_ranges = [{ start: 6443, end: 6443 }, { start: 8080, end: 8090 }, { start: 10250, end: 10255 }];
    const [rule] = load(doc).policies[0].rules;
    expect(rule.ports).toEqual([6443]);
    expect(rule.portRanges).toEqual([{ start: 8080, end: 8090 }, { start: 10250, end: 10255 }]);
  });

  it("imports sourceResource/destinationResource: network resources and peers", () => {
    const doc = netbirdBase();
    doc.policies[0].rules.push(
      { id: "r-2", name: "lan", protocol: "tcp", ports: ["22"], sources: ["g-eng"], destinations: null, destinationResource: { id: "r1", type: "subnet" } },
      { id: "r-3", name: "to-db", protocol: "icmp", sources: ["g-eng"], destinationResource: { id: "p2", type: "peer" } },
    );
    const [, lan, toDb] = load(doc).policies[0].rules;
    expect(lan.destinations).toEqual({ groups: [], resource: "r1" });
    expect(toDb.destinations).toEqual({ groups: [], peer: "p2" });
  });

  it("applies NetBird's defaults to fields an export may omit", () => {
    const doc = netbirdBase();
    doc.policies[0] = { id: "pol1", name: "minimal", rules: [{ sources: ["g-eng"], destinations: ["g-db"] }] };
    const [policy] = load(doc).policies;
    expect(policy).toMatchObject({ enabled: true, sourcePostureChecks: [] });
    expect(policy.rules[0]).toMatchObject({ id: "1", name: "minimal", enabled: true, action: "accept", bidirectional: false, protocol: "all", ports: [], portRanges: [] });
  });

  it("imports posture checks of every kind", () => {
    const doc = netbirdBase();
    doc.posture_checks.push({
      id: "pc2",
      name: "everything",
      description: "all five",
      checks: {
        nb_version_check: { min_version: "0.28.0" },
        os_version_check: { android: { min_version: "13" }, darwin: { min_version: "14.2.1" }, ios: { min_version: "17.3.1" }, linux: { min_kernel_version: "5.3.3" }, windows: { min_kernel_version: "10.0.1234" } },
        geo_location_check: { locations: [{ country_code: "DE", city_name: "Berlin" }, { country_code: "fr" }], action: "allow" },
        peer_network_range_check: { ranges: ["192.168.1.0/24", "2001:db8:1234:1a00::/56"], action: "deny" },
        process_check: { processes: [{ linux_path: "/usr/local/bin/netbird", mac_path: "/Applications/NetBird.app/Contents/MacOS/netbird" }, { windows_path: "C:\\ProgramData\\NetBird\\netbird.exe" }] },
      },
    });
    expect(load(doc).postureChecks[1]).toEqual({
      id: "pc2",
      name: "everything",
      nbVersionCheck: { minVersion: "0.28.0" },
      osVersionCheck: { android: { minVersion: "13" }, darwin: { minVersion: "14.2.1" }, ios: { minVersion: "17.3.1" }, linux: { minKernelVersion: "5.3.3" }, windows: { minKernelVersion: "10.0.1234" } },
      geoLocationCheck: { action: "allow", locations: [{ countryCode: "DE", cityName: "Berlin" }, { countryCode: "FR" }] },
      peerNetworkRangeCheck: { action: "deny", ranges: ["192.168.1.0/24", "2001:db8:1234:1a00::/56"] },
      processCheck: { processes: [{ linuxPath: "/usr/local/bin/netbird", macPath: "/Applications/NetBird.app/Contents/MacOS/netbird" }, { windowsPath: "C:\\ProgramData\\NetBird\\netbird.exe" }] },
    });
  });

  it("imports networks with inline resources and routers", () => {
    const doc = netbirdBase();
    doc.networks[0].resources.push({ id: "r2", type: "host", name: "printer", address: "198.18.1.9", enabled: false, groups: [] }, { id: "r3", name: "wiki", address: "*.Wiki.example.com", groups: [] });
    doc.networks[0].routers.push({ id: "rt2", peer_groups: ["g-db"], masquerade: false, enabled: true });
    const account = load(doc);
    expect(account.networks).toEqual([{ id: "n1", name: "office" }]);
    expect(account.resources).toEqual([
      { id: "r1", name: "office-lan", networkId: "n1", type: "subnet", address: "198.18.1.0/24", groups: ["g-lan"], enabled: true },
      { id: "r2", name: "printer", networkId: "n1", type: "host", address: "198.18.1.9/32", groups: [], enabled: false },
      { id: "r3", name: "wiki", networkId: "n1", type: "domain", address: "*.wiki.example.com", groups: [], enabled: true },
    ]);
    expect(account.routers).toEqual([
      { id: "rt1", networkId: "n1", peer: "p3", peerGroups: [], masquerade: true, enabled: true },
      { id: "rt2", networkId: "n1", peerGroups: ["g-db"], masquerade: false, enabled: true },
    ]);
  });

  it("reports network resources and routers listed by id whose objects the export lacks", () => {
    const doc = netbirdBase();
    doc.networks[0].resources = ["r1"];
    doc.networks[0].routers = ["rt1"];
    doc.groups[3].resources = [];
    expect(problemsOf(doc)).toEqual([
      { path: "$.networks[0].resources[0]", message: expect.stringContaining('resource "r1" is listed by network "n1", but no resource object has that id; add it to network_resources (from GET /api/networks/n1/resources)') },
      { path: "$.networks[0].routers[0]", message: expect.stringContaining('router "rt1" is listed by network "n1", but no router object has that id') },
    ]);
  });

  it("reads networks as GET /api/networks returns them: id lists, with the objects in network_resources and network_routers", () => {
    const inline = netbirdBase();
    const doc = netbirdBase();
    doc.network_resources = doc.networks[0].resources;
    doc.network_routers = doc.networks[0].routers;
    doc.networks[0].resources = doc.network_resources.map((r: Doc) => r.id);
    doc.networks[0].routers = doc.network_routers.map((r: Doc) => r.id);
    const byIds = load(doc);
    expect(byIds.resources).toEqual(load(inline).resources);
    expect(byIds.routers).toEqual(load(inline).routers);
    // An object no network lists belongs to the network its network_id names.
    doc.networks[0].routers = [];
    for (const r of doc.network_routers) r.network_id = "n1";
    expect(load(doc).routers).toEqual(load(inline).routers);
    doc.network_routers[0].network_id = "n-gone";
    expect(problemsOf(doc)).toEqual([{ path: "$.network_routers[0]", message: 'router "rt1" belongs to no network: no network lists it and network "n-gone" does not exist' }]);
  });

  it("imports legacy routes", () => {
    const doc = {
      ...netbirdBase(),
      routes: [
        { id: "rt-a", network_type: "IPv4", description: "lab", network_id: "lab", enabled: true, peer: "p3", peer_groups: null, network: "198.18.2.0/24", metric: 9999, masquerade: true, groups: ["g-eng"], keep_route: true, access_control_groups: ["g-eng"] },
        { id: "rt-b", network_type: "Domain", network_id: "wiki", enabled: false, peer_groups: ["g-db"], domains: ["wiki.example.com"], groups: ["g-all"] },
      ],
    };
    expect(load(doc).routes).toEqual([
      { id: "rt-a", networkId: "lab", network: "198.18.2.0/24", domains: [], peer: "p3", peerGroups: [], groups: ["g-eng"], accessControlGroups: ["g-eng"], masquerade: true, enabled: true },
      { id: "rt-b", networkId: "wiki", network: "", domains: ["wiki.example.com"], peerGroups: ["g-db"], groups: ["g-all"], accessControlGroups: [], masquerade: true, enabled: false },
    ]);
  });

  it("treats missing or null collections as empty", () => {
    const account = load({ peers: [{ id: "p1", name: "a", ip: "100.64.0.1" }], groups: null });
    expect(account.peers).toHaveLength(1);
    expect(account.policies).toEqual([]);
    expect(account.routes).toEqual([]);
    expect(account.groups.map((g) => g.name)).toEqual(["All"]);
  });

  it("ignores the API's fields it does not need, silently", () => {
    const doc = netbirdBase();
    const plain = load(doc);
    doc.policies[0].rules[0].authorized_groups = { "g-eng": ["root"] };
    doc.networks[0].description = "office network";
    doc.peers[0].local_flags = { server_ssh_allowed: false, block_inbound: false };
    expect(load(doc)).toEqual(plain);
  });

  it("warns about fields and collections the API does not define (a newer NetBird), naming each JSON path, and loads the rest", () => {
    const doc = netbirdBase();
    const plain = load(doc);
    const extra = { ...doc, dns: { nameservers: [] } } as Record<string, unknown>;
    doc.peers[0].future_field = { nested: true };
    doc.policies[0].rules[0].future_rule_field = 1;
    const account = load(extra);
    expect(account.warnings).toEqual([
      { path: "$.peers[0].future_field", message: 'unknown field "future_field" (from a newer NetBird?); ignored' },
      { path: "$.policies[0].rules[0].future_rule_field", message: 'unknown field "future_rule_field" (from a newer NetBird?); ignored' },
      { path: "$.dns", message: 'unknown collection "dns" (from a newer NetBird?); ignored' },
    ]);
    expect({ ...account, warnings: undefined }).toEqual({ ...plain, warnings: undefined });
  });

  it("rejects only the policy whose enabled rule has an unknown protocol, action or resource type; the rest loads", () => {
    const doc = netbirdBase();
    doc.policies.push({ ...structuredClone(doc.policies[0]), id: "pol-new", name: "future" });
    doc.policies[1].rules[0].protocol = "quic";
    const account = load(doc);
    expect(account.policies.map((p) => p.id)).toEqual([doc.policies[0].id]);
    expect(account.rejectedPolicies).toEqual([
      { policyId: "pol-new", name: "future", problems: [{ path: "$.policies[1].rules[0].protocol", message: 'unknown protocol "quic" (from a newer NetBird?); known: all, tcp, udp, icmp, netbird-ssh' }] },
    ]);
    // On a disabled rule it changes nothing (P10): a warning.
    doc.policies[1].rules[0].enabled = false;
    const disabled = load(doc);
    expect(disabled.rejectedPolicies).toBeUndefined();
    expect(disabled.warnings?.[0]).toEqual({ path: "$.policies[1].rules[0].protocol", message: expect.stringContaining("the rule is disabled, so this changes nothing") });
  });

  it("refuses the account when the policy with an unknown value may drop traffic: leaving it out would widen access", () => {
    const doc = netbirdBase();
    doc.policies[0].rules[0].action = "deny-and-log";
    expect(problemsOf(doc)).toEqual([
      { path: "$.policies[0].rules[0].action", message: expect.stringContaining('unknown action "deny-and-log" (from a newer NetBird?); known: accept, drop; policy "') },
    ]);
    expect(problemsOf(doc)[0].message).toContain("leaving it out would widen access");
  });

  it("rejects the policies that use a posture check of an unknown kind", () => {
    const doc = netbirdBase();
    doc.posture_checks = [{ id: "pc-future", name: "future", checks: { nb_version_check: { min_version: "0.28.0" }, quantum_check: { qubits: 3 } } }];
    doc.policies[0].source_posture_checks = ["pc-future"];
    const account = load(doc);
    expect(account.policies).toEqual([]);
    expect(account.rejectedPolicies?.[0].problems).toEqual([
      { path: "$.posture_checks[0].checks.quantum_check", message: 'unknown posture check kind "quantum_check" (from a newer NetBird?): meshfilter cannot tell which peers pass it' },
    ]);
  });
});
