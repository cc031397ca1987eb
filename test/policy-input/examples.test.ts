// The example policies: every file loads, and each meshfilter/NetBird pair describes
// the same account.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadPolicyFile, parsePolicyText } from "../../src/policy/input/load.ts";
import { loadPeerMeta } from "../../src/policy/input/peer-meta.ts";
import type { Account, PolicyRule } from "../../src/policy/model/model.ts";

// The index of the examples names every file; other engineers' files in examples/ are not policies.
const listed = [...readFileSync("examples/README-policies.md", "utf8").matchAll(/`([\w.-]+\.(?:ya?ml|json))`/g)].map((m) => m[1]);
const metaFiles = listed.filter((f) => f.startsWith("peer-meta."));
// NetworkMaps (a peer's tables, read by --network-map) are listed too: they are not accounts.
const policyFiles = [...new Set(listed.filter((f) => !f.startsWith("peer-meta.") && !/network[-_]map/.test(f)))];
const pairs = policyFiles.filter((f) => f.endsWith(".netbird.json")).map((f) => f.replace(/\.netbird\.json$/, ""));

/** Order-insensitive form: every array sorted by the JSON text of its canonical elements. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, canonical(v)]));
  }
  return value;
}

describe("example policy files", () => {
  it("include every expected pair", () => {
    expect(pairs.sort()).toEqual(["account", "default", "mixed-group", "restrictive", "seed-patterns"]);
  });

  it.each(policyFiles)("%s loads without problems", (file) => {
    const account = loadPolicyFile(`examples/${file}`);
    expect(account.peers.length).toBeGreaterThan(0);
    expect(account.policies.length).toBeGreaterThan(0);
  });

  it.each(metaFiles)("%s loads as peer metadata", (file) => {
    expect(loadPeerMeta(`examples/${file}`).version).toBeDefined();
  });

  it.each(pairs)("%s.yaml and %s.netbird.json describe the same account", (name) => {
    const mine = loadPolicyFile(`examples/${name}.yaml`);
    const netbird = loadPolicyFile(`examples/${name}.netbird.json`);
    // NetBird gives each peer an FQDN (dns_label); the hand-written files leave it out.
    for (const peer of netbird.peers) delete peer.dnsLabel;
    expect(canonical(netbird)).toEqual(canonical(mine));
  });
});

/** Group ids a peer is in: direct, inherited from its user or setup key, and All. */
function effectiveGroups(account: Account, peerName: string): Set<string> {
  const peer = account.peers.find((p) => p.name === peerName)!;
  const user = account.users.find((u) => u.id === peer.userId);
  const key = account.setupKeys.find((k) => k.id === peer.setupKeyId);
  const all = account.groups.filter((g) => g.isAll).map((g) => g.id);
  return new Set([...peer.groups, ...(user?.autoGroups ?? []), ...(key?.autoGroups ?? []), ...all]);
}

/** Enabled accept rules whose destinations (or, when bidirectional, sources) include the peer. */
function rulesReaching(account: Account, peerName: string): PolicyRule[] {
  const groups = effectiveGroups(account, peerName);
  const peerId = account.peers.find((p) => p.name === peerName)!.id;
  const touches = (end: PolicyRule["sources"]) => end.peer === peerId || end.groups.some((g) => groups.has(g));
  return account.policies
    .filter((p) => p.enabled)
    .flatMap((p) => p.rules)
    .filter((r) => r.enabled && r.action === "accept" && (touches(r.destinations) || touches(r.sources)));
}

describe("restrictive.yaml (the bundled capture's policy)", () => {
  const account = loadPolicyFile("examples/restrictive.yaml");

  it("has the shared peers with the shared addresses", () => {
    expect(account.peers.map((p) => [p.name, p.ip])).toEqual([
      ["laptop-alice", "100.64.0.10"],
      ["db-1", "100.64.0.20"],
      ["web-1", "100.64.0.30"],
    ]);
  });

  it("lets nobody ping db-1 or reach it on tcp/22", () => {
    for (const rule of rulesReaching(account, "db-1")) {
      expect(rule.protocol).toBe("tcp");
      expect(rule.portRanges).toEqual([]);
      expect(rule.ports).toEqual([5432]);
      expect(rule.bidirectional).toBe(false);
    }
  });

  it("holds the agreed rules", () => {
    const summary = account.policies.flatMap((p) => p.rules.map((r) => `${r.sources.groups}->${r.destinations.groups} ${r.protocol}/${r.ports.join(",")}`));
    expect(summary).toEqual([
      "engineering->production-db tcp/5432",
      "web-servers->production-db tcp/5432",
      "engineering->web-servers tcp/80,443",
      "engineering->web-servers udp/53",
      "engineering->web-servers icmp/",
    ]);
  });

  it("default.yaml is the same account with only the Default policy", () => {
    const defaults = loadPolicyFile("examples/default.yaml");
    expect(defaults.peers).toEqual(account.peers);
    expect(defaults.policies).toHaveLength(1);
    expect(defaults.policies[0]).toMatchObject({ name: "Default", rules: [{ protocol: "all", bidirectional: true, sources: { groups: ["All"] }, destinations: { groups: ["All"] } }] });
  });
});

it("mixed-group.yaml puts a user device and servers in one group", () => {
  const account = loadPolicyFile("examples/mixed-group.yaml");
  const members = account.peers.filter((p) => effectiveGroups(account, p.name).has("engineering-mixed"));
  expect(members.map((p) => [p.name, p.userId !== undefined])).toEqual([
    ["laptop-alice", true],
    ["db-1", false],
    ["web-1", false],
  ]);
});

it("the full example in docs/policy-format.md loads", () => {
  const docs = readFileSync("docs/policy-format.md", "utf8");
  const example = /```yaml\n(format: meshfilter\/v1[\s\S]*?)```/.exec(docs)?.[1];
  expect(example).toBeDefined();
  const account = parsePolicyText(example!, "docs/policy-format.md");
  expect(account.policies.map((p) => p.name)).toEqual(["eng-to-db", "eng-to-web", "office-access", "no-db-ssh"]);
});

it("account.netbird.json exercises NetBird's alternative forms", () => {
  const doc = JSON.parse(readFileSync("examples/account.netbird.json", "utf8"));
  const rules = doc.policies.flatMap((p: { rules: unknown[] }) => p.rules);
  expect(rules.some((r: { sources: unknown[] }) => typeof r.sources[0] === "string")).toBe(true);
  expect(rules.some((r: { sources: unknown[] }) => typeof r.sources[0] === "object")).toBe(true);
  expect(rules.some((r: { port_ranges?: unknown[] }) => r.port_ranges !== undefined)).toBe(true);
  expect(rules.some((r: { destinationResource?: { type: string } }) => r.destinationResource?.type === "peer")).toBe(true);
  expect(rules.some((r: { destinationResource?: { type: string } }) => r.destinationResource?.type === "subnet")).toBe(true);
  expect(doc.peers.some((p: { setup_key_id?: string }) => p.setup_key_id !== undefined)).toBe(true);
  // NetBird lists inherited groups on peers; the import must not double count them.
  expect(doc.peers[0].groups.map((g: { name: string }) => g.name)).toEqual(["All", "engineering"]);
  expect(doc.routes).toHaveLength(1);
});
