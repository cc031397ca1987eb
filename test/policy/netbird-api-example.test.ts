// examples/netbird-api-account.json: an account as NetBird's API returns it (and as
// `meshfilter pull` writes it): xid ids, netbird-ssh, networks with id lists, host, subnet
// and domain resources, posture checks, a route and a router with masquerade, a disabled
// policy. Every command reads it; the verdicts on the bundled capture are the expected ones.

import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { MESH, meshfilter, ROOT } from "../replay/cli.ts";

const ACCOUNT = path.join(ROOT, "examples/netbird-api-account.json");
const tmp = mkdtempSync(path.join(tmpdir(), "meshfilter-nb-example-"));

/** Verdict lines of a replay as `peer`, keyed by packet index. */
function replay(peer: string): Map<number, { dir: string; verdict: string; reason: string; rule: string | null }> {
  const out = path.join(tmp, `${peer}.ndjson`);
  const r = meshfilter("replay", MESH, "--policy", ACCOUNT, "--peer", peer, "--verdicts", out);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  const lines = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  return new Map(lines.map((l) => [l.index, l]));
}

describe("the realistic NetBird account (examples/netbird-api-account.json)", () => {
  it("passes lint: no error and no warning (no field or value it does not know)", () => {
    const r = meshfilter("lint", ACCOUNT);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/0 error, 0 warning/);
  });

  it("compiles for the database host: netbird-ssh opens 22 and 22022, by the bare DNS label", () => {
    const r = meshfilter("compile", "--policy", ACCOUNT, "--peer", "db-1", "--json");
    expect(r.status).toBe(0);
    const compiled = JSON.parse(r.stdout);
    expect(compiled.inbound.map((x: { protocol: string; ports: number[]; sources: string[] }) => `${x.protocol} ${x.ports} from ${x.sources}`)).toEqual([
      "tcp 5432 from 100.64.0.10/32",
      "tcp 5432 from 100.64.0.30/32",
      "tcp 22,22022 from 100.64.0.10/32",
    ]);
  });

  it("compiles for the routing peer (by FQDN): host, subnet and domain resources and the legacy route, one-way", () => {
    const r = meshfilter("compile", "--policy", ACCOUNT, "--peer", "router-1.netbird.cloud", "--json");
    expect(r.status).toBe(0);
    const routes = JSON.parse(r.stdout).routes as { destinations: string[]; domain?: string; ports: number[]; portRanges: unknown[] }[];
    expect(routes.map((x) => x.domain ?? x.destinations.join(","))).toEqual(["198.18.1.10/32", "198.18.1.0/24", "wiki.corp.example", "198.18.2.0/24"]);
    // router-1's network router and the lab route both have masquerade on.
    expect(routes.map((x) => (x as { masquerade?: boolean }).masquerade)).toEqual([true, true, true, true]);
    // NetBird's port_ranges [443-443, 8000-8099]: a one-port range is a port.
    expect(routes[0]).toMatchObject({ ports: [443], portRanges: [{ start: 8000, end: 8099 }] });
  });

  it("explains: 22022 is allowed by the netbird-ssh rule; the database may not ssh to the laptop", () => {
    const ssh = meshfilter("explain", "--policy", ACCOUNT, "--peer", "db-1", "tcp 100.64.0.10:51000 > 100.64.0.20:22022 S");
    expect(ssh.status).toBe(0);
    expect(ssh.stdout).toMatch(/^ACCEPT .*rule d4q0m08hhcjc73bq5l10\//);
    const back = meshfilter("explain", "--policy", ACCOUNT, "--peer", "laptop-alice", "tcp 100.64.0.20:56326 > 100.64.0.10:22 S");
    expect(back.stdout).toMatch(/^DROP/);
  });

  it("explains routed connections to the domain resource with --resolve, and a NetworkMap's verdicts with --network-map", () => {
    const wiki = "tcp 100.64.0.10:51000 > 203.0.113.5:443 S";
    const resolved = meshfilter("explain", "--policy", ACCOUNT, "--peer", "router-1", "--resolve", "wiki.corp.example=203.0.113.5", wiki);
    expect(resolved.stdout).toMatch(/^ACCEPT \(route, rules\) rule d4q0m08hhcjc73bq5l30\/d4q0m08hhcjc73bq5l30:route:d4q0p08hhcjc73bq5o10\n/);
    expect(meshfilter("explain", "--policy", ACCOUNT, "--peer", "router-1", wiki).stdout).toMatch(/^DROP \(none, not-for-peer\)/);
    const map = path.join(ROOT, "examples/netbird-network-map.db-1.json");
    expect(meshfilter("explain", "--network-map", map, "tcp 100.64.0.10:51000 > 100.64.0.20:22022 S").stdout).toMatch(/^ACCEPT \(inbound, rules\) rule d4q0m08hhcjc73bq5l10\/3\n/);
    expect(meshfilter("explain", "--network-map", map, "icmp 100.64.0.10 > 100.64.0.20 echo-request").stdout).toMatch(/^DROP \(inbound, default-deny\)\n  no rule of db-1's tables allows/);
  });

  it("replays the bundled capture as db-1 with the expected verdicts", () => {
    const v = replay("db-1");
    // alice -> db-1:5432 and web-1 -> db-1:5432 open by their rules; alice's pings are not allowed.
    expect(v.get(2)).toMatchObject({ dir: "in", verdict: "accept", reason: "rule", rule: "d4q0m08hhcjc73bq5l00/d4q0m08hhcjc73bq5l00" });
    expect(v.get(14)).toMatchObject({ dir: "in", verdict: "accept", reason: "rule", rule: "d4q0m08hhcjc73bq5l0g/d4q0m08hhcjc73bq5l0g" });
    for (const i of [327, 329, 331]) expect(v.get(i)).toMatchObject({ dir: "in", verdict: "drop", reason: "no-rule" });
    // alice -> db-1:22 opens by the netbird-ssh rule.
    expect(v.get(337)).toMatchObject({ dir: "in", verdict: "accept", reason: "rule", rule: "d4q0m08hhcjc73bq5l10/d4q0m08hhcjc73bq5l10" });
    const counts = [...v.values()].filter((l) => l.dir !== "none").reduce((c, l) => ((c[l.verdict] = (c[l.verdict] ?? 0) + 1), c), {} as Record<string, number>);
    expect(counts).toEqual({ accept: 24, drop: 6 });
  });

  it("replays the bundled capture as laptop-alice: db-1's ssh attempt is dropped (the rule is one-way)", () => {
    const v = replay("laptop-alice");
    expect(v.get(339)).toMatchObject({ dir: "in", verdict: "drop", reason: "no-rule", rule: null });
  });
});
