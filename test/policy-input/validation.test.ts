// Every validation problem: the JSON path it names and what it says.

import { describe, expect, it } from "vitest";
import { parsePolicyText } from "../../src/policy/input/load.ts";
import { validateAccount } from "../../src/policy/model/validate.ts";
import type { Account } from "../../src/policy/model/model.ts";
import { meshfilterBase, netbirdBase, problemsOf } from "./helpers.ts";

function problem(path: string, text: string) {
  return { path, message: expect.stringContaining(text) };
}

describe("references", () => {
  it("reports an unknown group with the path of the reference", () => {
    const doc = meshfilterBase();
    doc.policies[0].rules = [{ sources: ["enginering"], destinations: ["production-db"], protocol: "tcp", ports: [5432] }];
    expect(problemsOf(doc)).toEqual([problem("$.policies[0].rules[0].sources[0]", 'unknown group "enginering"')]);
  });

  it("reports unknown groups on peers, users, setup keys, resources and routers", () => {
    const doc = meshfilterBase();
    doc.peers[0].groups = ["nope-1"];
    doc.users[0].groups = ["nope-2"];
    doc.setup_keys[0].groups = ["nope-3"];
    doc.networks[0].resources[0].groups = ["nope-4"];
    doc.networks[0].routers = [{ groups: ["nope-5"] }];
    expect(problemsOf(doc)).toEqual([
      problem("$.peers[0].groups[0]", 'unknown group "nope-1"'),
      problem("$.users[0].groups[0]", 'unknown group "nope-2"'),
      problem("$.setup_keys[0].groups[0]", 'unknown group "nope-3"'),
      problem("$.networks[0].resources[0].groups[0]", 'unknown group "nope-4"'),
      problem("$.networks[0].routers[0].groups[0]", 'unknown group "nope-5"'),
    ]);
  });

  it("reports an unknown resource", () => {
    const doc = meshfilterBase();
    doc.policies[0].rules = [{ sources: ["engineering"], destination_resource: "office-wan", protocol: "tcp", ports: [22] }];
    expect(problemsOf(doc)).toEqual([problem("$.policies[0].rules[0].destination_resource", 'unknown resource "office-wan"')]);
  });

  it("reports an unknown posture check", () => {
    const doc = meshfilterBase();
    doc.policies[0].posture_checks = ["min-version", "max-version"];
    expect(problemsOf(doc)).toEqual([problem("$.policies[0].posture_checks[1]", 'unknown posture check "max-version"')]);
  });

  it("reports an unknown user and an unknown setup key on a peer", () => {
    const doc = meshfilterBase();
    doc.peers[0].user = "bob";
    doc.peers[1].setup_key = "server-key";
    expect(problemsOf(doc)).toEqual([
      problem("$.peers[0].user", 'unknown user "bob"'),
      problem("$.peers[1].setup_key", 'unknown setup key "server-key"'),
    ]);
  });

  it("reports unknown peers in groups, routers and rules", () => {
    const doc = meshfilterBase();
    doc.groups = ["engineering", "production-db", { name: "office-lan", peers: ["db-9"] }];
    doc.networks[0].routers = [{ peer: "router-9" }];
    doc.policies.push({ name: "to-peer", sources: ["engineering"], destination_peer: "db-8", protocol: "icmp" });
    expect(problemsOf(doc)).toEqual([
      problem("$.groups[2].peers[0]", 'unknown peer "db-9"'),
      problem("$.networks[0].routers[0].peer", 'unknown peer "router-9"'),
      problem("$.policies[1].destination_peer", 'unknown peer "db-8"'),
    ]);
  });

  it("reports unknown ids in a NetBird export with NetBird's field names", () => {
    const doc = netbirdBase();
    doc.policies[0].source_posture_checks = ["pc9"];
    doc.policies[0].rules[0].destinationResource = { id: "r9", type: "subnet" };
    doc.policies[0].rules[0].destinations = [];
    doc.peers[1].setup_key_id = "k9";
    expect(problemsOf(doc)).toEqual([
      problem("$.peers[1].setup_key_id", 'unknown setup key "k9"'),
      problem("$.policies[0].source_posture_checks[0]", 'unknown posture check "pc9"'),
      problem("$.policies[0].rules[0].destinationResource.id", 'unknown resource "r9"'),
    ]);
  });
});

describe("duplicates and addresses", () => {
  it("reports two peers with one IP", () => {
    const doc = meshfilterBase();
    doc.peers[2].ip = "100.64.0.20";
    expect(problemsOf(doc)).toEqual([problem("$.peers[2].ip", 'IP address 100.64.0.20 is already used by peer "db-1"')]);
  });

  it("reports duplicate names (ids) in meshfilter's format", () => {
    const doc = meshfilterBase();
    doc.peers.push({ name: "db-1", ip: "100.64.0.21" });
    doc.groups.push("engineering");
    doc.policies.push({ ...doc.policies[0] });
    expect(problemsOf(doc)).toEqual([
      problem("$.peers[3]", 'duplicate peer "db-1": already defined at $.peers[1]'),
      problem("$.groups[3]", 'duplicate group "engineering": already defined at $.groups[0]'),
      problem("$.policies[1]", 'duplicate policy "eng-to-db": already defined at $.policies[0]'),
    ]);
  });

  it("reports duplicate ids and duplicate group names in a NetBird export, but allows repeated peer names", () => {
    const doc = netbirdBase();
    doc.groups.push({ id: "g-db", name: "databases", peers: [], resources: [] });
    doc.groups.push({ id: "g-eng2", name: "engineering", peers: [], resources: [] });
    doc.peers[2].name = "db-1"; // two hosts may share a hostname in NetBird
    expect(problemsOf(doc)).toEqual([
      problem("$.groups[4]", 'duplicate group "g-db": already defined at $.groups[2]'),
      problem("$.groups[5].name", 'duplicate group name "engineering": already used at $.groups[1]'),
    ]);
  });

  it("reports an invalid peer IP, IPv6 and connection IP", () => {
    const doc = meshfilterBase();
    doc.peers[0].ip = "100.64.0.300";
    doc.peers[1].ipv6 = "fd00::zz";
    doc.peers[2].meta = { connection_ip: "35.64.0" };
    expect(problemsOf(doc)).toEqual([
      problem("$.peers[0].ip", '"100.64.0.300" is not a valid IPv4 address'),
      problem("$.peers[1].ipv6", '"fd00::zz" is not a valid IPv6 address'),
      problem("$.peers[2].meta.connection_ip", '"35.64.0" is not a valid IP address'),
    ]);
  });

  it("reports an invalid CIDR, and host bits set in a resource subnet", () => {
    const doc = meshfilterBase();
    doc.networks[0].resources = [
      { name: "office-lan", address: "198.18.1.0/33", groups: ["office-lan"] },
      { name: "office-lan-2", address: "198.18.1.1/24" },
    ];
    expect(problemsOf(doc)).toEqual([
      problem("$.networks[0].resources[0].address", '"198.18.1.0/33" is not a valid CIDR'),
      problem("$.networks[0].resources[1].address", "did you mean 198.18.1.0/24?"),
    ]);
  });

  it("reports an invalid range in a network-range posture check and a bad interface address", () => {
    const doc = meshfilterBase();
    doc.posture_checks.push({ name: "no-home", network_range: { action: "deny", ranges: ["192.168.0.0/16", "192.168/16"] } });
    doc.peers[0].meta = { network_addresses: ["192.168.1.23/24", "nonsense"] };
    expect(problemsOf(doc)).toEqual([
      problem("$.peers[0].meta.network_addresses[1]", '"nonsense" is not a valid CIDR'),
      problem("$.posture_checks[1].network_range.ranges[1]", '"192.168/16" is not a valid CIDR'),
    ]);
  });
});

describe("rules", () => {
  it("reports ports outside 1-65535 and a range whose start is after its end", () => {
    const doc = meshfilterBase();
    doc.policies[0].rules[0].ports = [0, "65536", "8090-8080", "10-70000"];
    expect(problemsOf(doc)).toEqual([
      problem("$.policies[0].rules[0].ports[0]", "port 0 is outside 1-65535"),
      problem("$.policies[0].rules[0].ports[1]", "port 65536 is outside 1-65535"),
      problem("$.policies[0].rules[0].ports[2]", "port range 8090-8080 starts after it ends"),
      problem("$.policies[0].rules[0].ports[3]", "port range 10-70000 is outside 1-65535"),
    ]);
  });

  it("reports a NetBird port_ranges entry with start > end at its own path", () => {
    const doc = netbirdBase();
    doc.policies[0].rules[0].ports = [];
    doc.policies[0].rules[0].port_ranges = [{ start: 443, end: 443 }, { start: 9000, end: 8000 }];
    expect(problemsOf(doc)).toEqual([problem("$.policies[0].rules[0].port_ranges[1]", "port range 9000-8000 starts after it ends")]);
  });

  it("reports a port that is not a number", () => {
    const doc = meshfilterBase();
    doc.policies[0].rules[0].ports = ["https"];
    expect(problemsOf(doc)).toEqual([problem("$.policies[0].rules[0].ports[0]", '"https" is not a port')]);
  });

  it("reports ports on an all rule and on an icmp rule", () => {
    const doc = meshfilterBase();
    doc.policies[0].rules = [
      { sources: ["engineering"], destinations: ["production-db"], protocol: "all", ports: [22] },
      { sources: ["engineering"], destinations: ["production-db"], protocol: "icmp", ports: ["1-10"] },
    ];
    expect(problemsOf(doc)).toEqual([
      problem("$.policies[0].rules[0].ports[0]", "a rule with protocol all cannot have ports"),
      problem("$.policies[0].rules[1].ports[0]", "a rule with protocol icmp cannot have ports"),
    ]);
  });

  it("reports a rule with both groups and a resource on one side", () => {
    const doc = meshfilterBase();
    doc.policies[0].rules[0].destination_resource = "office-lan";
    expect(problemsOf(doc)).toEqual([problem("$.policies[0].rules[0].destination_resource", "one side is either groups, one resource or one peer")]);
  });

  it("reports a NetBird rule with both destinations and destinationResource", () => {
    const doc = netbirdBase();
    doc.policies[0].rules[0].destinationResource = { id: "r1", type: "subnet" };
    expect(problemsOf(doc)).toEqual([problem("$.policies[0].rules[0].destinationResource.id", "one side is either groups, one resource or one peer")]);
  });

  it("reports a rule with neither groups nor a resource", () => {
    const doc = meshfilterBase();
    doc.policies[0].rules = [{ destinations: ["production-db"], protocol: "tcp", ports: [5432] }];
    expect(problemsOf(doc)).toEqual([problem("$.policies[0].rules[0].sources", "the rule has no sources")]);
  });

  it("reports an unknown protocol and an unknown action", () => {
    const doc = meshfilterBase();
    doc.policies[0].rules[0].protocol = "sctp";
    doc.policies[0].rules[0].action = "allow";
    expect(problemsOf(doc)).toEqual([
      problem("$.policies[0].rules[0].action", 'must be one of "accept", "drop"'),
      problem("$.policies[0].rules[0].protocol", 'unknown protocol "sctp"'),
    ]);
  });

  it("reads NetBird's netbird-ssh protocol in both formats (compile-ports tests say what it compiles to)", () => {
    const doc = netbirdBase();
    doc.policies[0].rules[0].protocol = "netbird-ssh";
    expect(parsePolicyText(JSON.stringify(doc), "x.json").policies[0].rules[0].protocol).toBe("netbird-ssh");
    const mine = meshfilterBase();
    mine.policies[0].rules[0].protocol = "netbird-ssh";
    expect(parsePolicyText(JSON.stringify(mine), "x.json").policies[0].rules[0].protocol).toBe("netbird-ssh");
  });

  it("reports two rules with the same id in one policy", () => {
    const doc = meshfilterBase();
    const rule = { name: "pg", sources: ["engineering"], destinations: ["production-db"], protocol: "tcp", ports: [5432] };
    doc.policies[0].rules = [rule, rule];
    expect(problemsOf(doc)).toEqual([problem("$.policies[0].rules[1]", 'duplicate rule "pg" in policy "eng-to-db"')]);
  });

  it("reports rule fields on a policy that also lists rules", () => {
    const doc = meshfilterBase();
    doc.policies[0].protocol = "udp";
    expect(problemsOf(doc)).toEqual([problem("$.policies[0].protocol", '"protocol" belongs in a rule')]);
  });
});

describe("other objects", () => {
  it("reports a router with both a peer and peer groups, and one with neither", () => {
    const doc = meshfilterBase();
    doc.networks[0].routers = [{ peer: "router-1", groups: ["production-db"] }, { masquerade: false }];
    expect(problemsOf(doc)).toEqual([
      problem("$.networks[0].routers[0].peer", "either one peer or peer groups, not both"),
      problem("$.networks[0].routers[1]", "needs a peer or peer groups"),
    ]);
  });

  it("reports a route without a network, and one with a bad domain", () => {
    const doc = { ...meshfilterBase(), routes: [{ name: "r1", peer: "router-1", groups: ["engineering"] }, { name: "r2", peer: "router-1", domains: ["bad_domain"], groups: ["engineering"] }] };
    expect(problemsOf(doc)).toEqual([problem("$.routes[0]", "needs a network (CIDR) or domains"), problem("$.routes[1].domains[0]", '"bad_domain" is not a domain name')]);
  });

  it("reports an empty posture check, a bad country code and a process without paths", () => {
    const doc = meshfilterBase();
    doc.posture_checks.push({ name: "empty" }, { name: "geo", geo_location: { action: "allow", locations: ["DEU"] } }, { name: "proc", processes: [{}] });
    expect(problemsOf(doc)).toEqual([
      problem("$.posture_checks[1]", 'posture check "empty" has no checks'),
      problem("$.posture_checks[2].geo_location.locations[0]", '"DEU" is not a two-letter country code'),
      problem("$.posture_checks[3].processes[0]", "at least one executable path"),
    ]);
  });

  it("asks for quotes around a version YAML read as a fractional number", () => {
    expect(problemsOf("posture_checks:\n  - name: v\n    nb_version: 0.30\n")).toEqual([problem("$.posture_checks[0].nb_version", "the version was read as the number 0.3, which may have lost digits")]);
  });

  it("reports unknown fields in meshfilter's format (typos)", () => {
    const doc = meshfilterBase();
    doc.policies[0].rules[0].destination = ["production-db"];
    expect(problemsOf(doc)).toContainEqual(problem("$.policies[0].rules[0].destination", 'unknown field "destination"'));
  });

  it("reports missing required fields and wrong types", () => {
    expect(problemsOf({ peers: [{ ip: "100.64.0.1" }], groups: [42] })).toEqual([
      problem("$.peers[0].name", "required field is missing (expected a string)"),
      problem("$.groups[0]", "expected a group name or an object"),
    ]);
    expect(problemsOf({ peers: [{ id: "p", name: "p", ip: 5 }] })).toEqual([problem("$.peers[0].ip", "expected a string, found a number")]);
  });
});

it("reports every problem at once", () => {
  const doc = meshfilterBase();
  doc.peers[2].ip = "100.64.0.10";
  doc.policies[0].posture_checks = ["nope"];
  doc.policies[0].rules[0].ports = [99999];
  doc.policies[0].rules[0].destinations = ["nowhere"];
  expect(problemsOf(doc).map((p) => p.path)).toEqual([
    "$.peers[2].ip",
    "$.policies[0].posture_checks[0]",
    "$.policies[0].rules[0].ports[0]",
    "$.policies[0].rules[0].destinations[0]",
  ]);
});

it("validateAccount checks an Account built in code, with paths into the Account", () => {
  const account: Account = {
    peers: [{ id: "a", name: "a", ip: "100.64.0.1", groups: ["g"], meta: {} }],
    users: [],
    setupKeys: [],
    groups: [],
    policies: [
      {
        id: "p",
        name: "p",
        enabled: true,
        sourcePostureChecks: [],
        rules: [{ id: "1", name: "p", enabled: true, action: "accept", bidirectional: false, protocol: "tcp", ports: [0], portRanges: [{ start: 5, end: 1 }], sources: { groups: [] }, destinations: { groups: ["g"] } }],
      },
    ],
    postureChecks: [],
    networks: [],
    resources: [],
    routers: [],
    routes: [],
  };
  expect(validateAccount(account)).toEqual([
    problem("$.peers[0].groups[0]", 'unknown group "g"'),
    problem("$.policies[0].rules[0].ports[0]", "port 0 is outside 1-65535"),
    problem("$.policies[0].rules[0].portRanges[0]", "port range 5-1 starts after it ends"),
    problem("$.policies[0].rules[0].sources.groups", "the rule has no sources"),
    problem("$.policies[0].rules[0].destinations.groups[0]", 'unknown group "g"'),
  ]);
});

describe("hints for unknown references", () => {
  it("suggests the closest name for a typo", () => {
    const doc = meshfilterBase();
    doc.policies[0].rules[0].sources = ["enginering"];
    doc.policies[0].rules[0].destinations = ["qqqqqq"];
    expect(problemsOf(doc).map((p) => p.message)).toEqual(['unknown group "enginering"; did you mean "engineering"?', 'unknown group "qqqqqq"']);
  });

  it("says when a NetBird export uses a name where an id belongs", () => {
    const doc = netbirdBase();
    doc.policies[0].rules[0].sources = ["engineering"];
    expect(problemsOf(doc)).toEqual([problem("$.policies[0].rules[0].sources[0]", 'unknown group "engineering"; references are ids: "engineering" is the name of "g-eng"')]);
  });
});

describe("shape and meaning problems together", () => {
  it("reports a broken item and the other items' problems at once, in document order", () => {
    const doc = meshfilterBase();
    doc.peers[0].ip = "100.64.0.999";
    doc.policies.push({ name: "broken", sources: ["engineering"], destinations: ["production-db"], protocol: "tpc" });
    doc.policies.push({ name: "typo", sources: ["enginering"], destinations: ["production-db"] });
    expect(problemsOf(doc)).toEqual([
      problem("$.peers[0].ip", "is not a valid IPv4 address"),
      problem("$.policies[1].protocol", 'unknown protocol "tpc"'),
      problem("$.policies[2].sources[0]", 'unknown group "enginering"'),
    ]);
  });

  it("does not call a reference unknown when its target exists but is broken", () => {
    const doc = meshfilterBase();
    doc.groups = ["engineering", { name: "production-db", peers: 5 }, "office-lan"];
    doc.peers[1].meta = { versoin: "1" };
    doc.networks[0].resources[0].enabled = "yes";
    doc.policies.push({ name: "to-db-1", sources: ["engineering"], destination_peer: "db-1", protocol: "icmp" });
    doc.policies.push({ name: "to-lan", sources: ["engineering"], destination_resource: "office-lan", protocol: "icmp" });
    expect(problemsOf(doc)).toEqual([
      problem("$.peers[1].meta.versoin", 'unknown field "versoin"'),
      problem("$.groups[1]", "expected a group name or an object {name, peers, resources}"),
      problem("$.networks[0].resources[0].enabled", "expected a boolean, found a string"),
    ]);
  });

  it("does the same for a NetBird export, by id", () => {
    const doc = netbirdBase();
    doc.groups[1].peers = "p1";
    doc.posture_checks[0].checks = { nb_version_check: { min_version: 0.28 } };
    expect(problemsOf(doc)).toEqual([
      problem("$.groups[1].peers", "expected a list, found a string"),
      problem("$.posture_checks[0].checks.nb_version_check.min_version", "the version was read as the number 0.28"),
    ]);
  });

  it("reports an unknown top-level key and a collection that is not a list", () => {
    const doc: Record<string, unknown> = { ...meshfilterBase(), polices: [], users: { name: "alice" } };
    expect(problemsOf(doc)).toEqual([
      problem("$.users", "expected a list, found an object"),
      problem("$.polices", 'unknown field "polices"'),
    ]);
  });
});
