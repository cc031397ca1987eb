// Shared helpers for the policy-input tests.

import { parsePolicyText } from "../../src/policy/input/load.ts";
import { PolicyError, type PolicyProblem } from "../../src/policy/model/model.ts";

/** The problems of the PolicyError `load` throws; any other error propagates, and no error fails with `notRefused`. */
export function refusalProblems(load: () => unknown, notRefused: string): PolicyProblem[] {
  try {
    load();
  } catch (err) {
    if (err instanceof PolicyError) return err.problems;
    throw err;
  }
  throw new Error(notRefused);
}

/** The problems parsePolicyText reports for `input` (text, or an object written as JSON); fails if it loads. */
export function problemsOf(input: string | object): PolicyProblem[] {
  const text = typeof input === "string" ? input : JSON.stringify(input);
  return refusalProblems(() => parsePolicyText(text, "test-input"), "expected the policy to be refused, but it loaded");
}

/** A document the tests reshape freely (they build invalid inputs on purpose). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Doc = Record<string, any>;

/** A small valid account in meshfilter's format; tests copy and break it. */
export function meshfilterBase(): Doc {
  return {
    peers: [
      { name: "laptop-alice", ip: "100.64.0.10", user: "alice" },
      { name: "db-1", ip: "100.64.0.20", setup_key: "servers-key" },
      { name: "router-1", ip: "100.64.0.40", setup_key: "servers-key" },
    ] as Record<string, unknown>[],
    users: [{ name: "alice", groups: ["engineering"] }] as Record<string, unknown>[],
    setup_keys: [{ name: "servers-key", groups: ["production-db"] }] as Record<string, unknown>[],
    groups: ["engineering", "production-db", "office-lan"] as unknown[],
    networks: [
      {
        name: "office",
        routers: [{ peer: "router-1" }] as Record<string, unknown>[],
        resources: [{ name: "office-lan", address: "198.18.1.0/24", groups: ["office-lan"] }] as Record<string, unknown>[],
      },
    ],
    posture_checks: [{ name: "min-version", nb_version: "0.28.0" }] as Record<string, unknown>[],
    policies: [
      {
        name: "eng-to-db",
        posture_checks: ["min-version"],
        rules: [{ sources: ["engineering"], destinations: ["production-db"], protocol: "tcp", ports: [5432] }] as Record<string, unknown>[],
      },
    ] as Record<string, unknown>[],
  };
}

/** A small valid NetBird export; tests copy and break it. */
export function netbirdBase(): Doc {
  const group = (id: string) => ({ id, name: id, peers_count: 1, resources_count: 0 });
  return {
    peers: [
      { id: "p1", name: "laptop-alice", ip: "100.64.0.10", user_id: "u1", groups: [group("g-all"), group("g-eng")], version: "0.30.1", os: "Darwin 13.2.1", kernel_version: "22.3.0", country_code: "de", city_name: "Berlin", connection_ip: "203.0.113.7", connected: true, dns_label: "laptop-alice.netbird.cloud" },
      { id: "p2", name: "db-1", ip: "100.64.0.20", user_id: "", setup_key_id: "k1", groups: [group("g-all"), group("g-db")], version: "0.30.1", os: "Ubuntu 22.04", kernel_version: "6.1.0" },
      { id: "p3", name: "router-1", ip: "100.64.0.40", groups: [{ id: "g-all", name: "All" }] },
    ] as Record<string, unknown>[],
    groups: [
      { id: "g-all", name: "All", peers: [{ id: "p1", name: "laptop-alice" }, { id: "p2", name: "db-1" }, { id: "p3", name: "router-1" }], resources: [] },
      { id: "g-eng", name: "engineering", peers: [{ id: "p1", name: "laptop-alice" }], resources: [] },
      { id: "g-db", name: "production-db", peers: ["p2"], resources: [] },
      { id: "g-lan", name: "office-lan", peers: [], resources: [{ id: "r1", type: "subnet" }] },
    ] as Record<string, unknown>[],
    users: [{ id: "u1", name: "Alice", email: "alice@example.com", role: "user", auto_groups: ["g-eng"], is_service_user: false }],
    setup_keys: [{ id: "k1", name: "servers-key", key: "A6160****", auto_groups: ["g-db"], revoked: false }],
    posture_checks: [{ id: "pc1", name: "min-version", checks: { nb_version_check: { min_version: "0.28.0" } } }] as Record<string, unknown>[],
    policies: [
      {
        id: "pol1",
        name: "eng-to-db",
        enabled: true,
        source_posture_checks: ["pc1"],
        rules: [{ id: "r-1", name: "eng-to-db", enabled: true, action: "accept", bidirectional: false, protocol: "tcp", ports: ["5432"], sources: ["g-eng"], destinations: [group("g-db")] }] as Record<string, unknown>[],
      },
    ] as Record<string, unknown>[],
    networks: [
      {
        id: "n1",
        name: "office",
        routing_peers_count: 1,
        policies: [],
        routers: [{ id: "rt1", peer: "p3", peer_groups: null, metric: 9999, masquerade: true, enabled: true }] as unknown[],
        resources: [{ id: "r1", type: "subnet", name: "office-lan", address: "198.18.1.0/24", enabled: true, groups: [group("g-lan")] }] as unknown[],
      },
    ] as Record<string, unknown>[],
  };
}
