// NetworkMap input: NetBird's per-peer firewall rules, read through its management.proto,
// give the same verdicts on the bundled capture as meshfilter's compilation of the same
// account, except where docs/policy-semantics.md says the two compilers differ.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadNetworkMapFile } from "../../src/policy/input/netbird/network-map.ts";
import { MESH, meshfilter, ROOT } from "../replay/cli.ts";
import { debugBundleJson, NETWORK_MAPS, networkMapBinary } from "./network-map-fixture.ts";

const ACCOUNT = path.join(ROOT, "examples/netbird-api-account.json");
const tmp = mkdtempSync(path.join(tmpdir(), "meshfilter-network-map-"));

function mapFile(peer: string, form: "json" | "binary"): string {
  const file = path.join(tmp, `${peer}.${form === "json" ? "json" : "bin"}`);
  writeFileSync(file, form === "json" ? debugBundleJson(peer) : networkMapBinary(peer));
  return file;
}

/** "index verdict reason" per packet judged for the peer. */
function verdicts(...source: string[]): string[] {
  const out = path.join(tmp, `verdicts-${Math.random().toString(36).slice(2)}.ndjson`);
  const r = meshfilter("replay", MESH, ...source, "--verdicts", out);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return readFileSync(out, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .filter((l) => l.dir !== "none")
    .map((l) => `${l.index} ${l.dir} ${l.verdict} ${l.reason}`);
}

describe("--network-map", () => {
  it("the committed example is the fixture built through management.proto", () => {
    expect(readFileSync(path.join(ROOT, "examples/netbird-network-map.db-1.json"), "utf8")).toBe(debugBundleJson("db-1"));
  });

  it.each(["db-1", "web-1", "laptop-alice"])("replaying the capture as %s gives the policy path's verdicts, from JSON and from binary", (peer) => {
    const fromPolicy = verdicts("--policy", ACCOUNT, "--peer", peer);
    expect(fromPolicy.length).toBeGreaterThan(10);
    expect(verdicts("--network-map", mapFile(peer, "json"))).toEqual(fromPolicy);
    expect(verdicts("--network-map", mapFile(peer, "binary"))).toEqual(fromPolicy);
  });

  it("the tables differ only where documented: alice's inbound icmp from web-1 (P5: icmp is always bidirectional here; NetBird honours the flag)", () => {
    const compiled = (...source: string[]) => JSON.parse(meshfilter("compile", ...source, "--json").stdout);
    const policy = compiled("--policy", ACCOUNT, "--peer", "laptop-alice");
    const map = compiled("--network-map", mapFile("laptop-alice", "json"));
    expect(policy.inbound.map((r: { id: string; protocol: string; sources: string[] }) => `${r.id} ${r.protocol} ${r.sources}`)).toEqual(["d4q0m08hhcjc73bq5l1g/d4q0m08hhcjc73bq5l2g:rev icmp 100.64.0.30/32"]);
    expect(map.inbound).toEqual([]);
    // Outbound: the same connections to peers (NetBird's one rule per port is one rule with several
    // ports here). meshfilter's egress mode also lists routed resources (":to:" rules), which NetBird
    // leaves to the routing peer.
    type Rule = { id: string; protocol: string; destinations: string[]; ports: number[] };
    const opens = (rules: Rule[]) => rules.filter((r) => !r.id.includes(":to:")).flatMap((r) => (r.ports.length ? r.ports : [0]).map((p) => `${r.protocol} ${r.destinations} ${p}`)).sort();
    expect(opens(map.outbound)).toEqual(opens(policy.outbound));
    expect(policy.outbound.filter((r: Rule) => r.id.includes(":to:")).map((r: Rule) => r.destinations.join())).toEqual(["198.18.1.10/32", "198.18.1.0/24", "198.18.2.0/24"]);
  });

  it("compiles a routing peer's routesFirewallRules: prefixes, port ranges and domains", () => {
    const map = loadNetworkMapFile(mapFile("router-1", "json"));
    expect(map.peer).toEqual({ id: "router-1.netbird.cloud", name: "router-1", addresses: ["100.64.0.40"] });
    expect(map.routes.map((r) => `${r.protocol} ${r.domain ?? r.destinations.join()} ${r.ports}${r.portRanges.map((p) => `${p.start}-${p.end}`)}`)).toEqual([
      "tcp 198.18.1.10/32 443",
      "tcp 198.18.1.10/32 8000-8099",
      "tcp 198.18.1.0/24 443",
      "tcp 198.18.1.0/24 8000-8099",
      "tcp wiki.corp.example 443",
      "tcp wiki.corp.example 8000-8099",
      "all 198.18.2.0/24 ",
    ]);
  });

  it("reads protojson's JSON names and a bare NetworkMap as well as the debug bundle's SyncResponse", () => {
    const bare = path.join(tmp, "bare.json");
    writeFileSync(bare, JSON.stringify({ ...NETWORK_MAPS["db-1"], firewall_rules_is_empty: false }).replace('"FirewallRules"', '"FirewallRules"').replace('"peerConfig"', '"peerConfig"'));
    expect(loadNetworkMapFile(bare).inbound).toHaveLength(4);
  });

  it("a file that is not a NetworkMap, or a rule it cannot enforce, is one line with the file and the place", () => {
    const bad = path.join(tmp, "bad.json");
    writeFileSync(bad, JSON.stringify({ NetworkMap: { peerConfig: { address: "100.64.0.20/16" }, FirewallRules: [{ PeerIP: "100.64.0.10", Direction: "IN", Protocol: "CUSTOM", customProtocol: 47 }] } }));
    const r = meshfilter("compile", "--network-map", bad);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`meshfilter compile: ${bad}: FirewallRules[0]: protocol CUSTOM is not one meshfilter filters (all, tcp, udp, icmp); the map cannot be enforced as sent\n`);
    writeFileSync(bad, JSON.stringify({ NetworkMap: { FirewallRules: [{ Direction: "SIDEWAYS" }] } }));
    expect(meshfilter("compile", "--network-map", bad).stderr).toBe(`meshfilter compile: ${bad}: $.NetworkMap.FirewallRules[0].Direction: "SIDEWAYS" is not a RuleDirection (IN, OUT)\n`);
    writeFileSync(bad, "{ not json");
    expect(meshfilter("compile", "--network-map", bad).stderr).toMatch(/^meshfilter compile: \S+: not JSON: /);
  });
});
