// The routes `meshfilter run` takes from the policy when no --route is given: network
// resources a peer may reach (by the routing peer's compiled rules) and legacy routes
// distributed to its groups, each via its routing peer.

import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseRunArgs } from "../../src/cli/run.ts";
import { loadPolicyFile } from "../../src/policy/input/load.ts";
import { routesFromPolicy } from "../../src/policy/compile/peer-routes.ts";
import { ROOT } from "../replay/cli.ts";

const account = loadPolicyFile(path.join(ROOT, "examples/account.yaml"));

describe("routes from the policy", () => {
  it("P6: a peer a rule lets reach the office LAN gets it via router-1, with the legacy route to its group", () => {
    expect(routesFromPolicy(account, "laptop-alice")).toEqual([
      { prefix: "198.18.1.0/24", via: "100.64.0.40" },
      { prefix: "198.18.2.0/24", via: "100.64.0.40" },
    ]);
  });

  it("P1: a peer no rule lets reach a resource gets no route to it; a disabled resource gives none", () => {
    expect(routesFromPolicy(account, "db-1")).toEqual([]);
    expect(routesFromPolicy(account, "laptop-alice").map((r) => r.prefix)).not.toContain("198.18.1.9/32");
  });

  it("the routing peer itself gets no route through itself", () => {
    expect(routesFromPolicy(account, "router-1")).toEqual([]);
  });

  it("a legacy route goes only to the peers of its distribution groups", () => {
    const noLegacy = { ...account, routes: account.routes.map((r) => ({ ...r, groups: [] })) };
    expect(routesFromPolicy(noLegacy, "laptop-alice")).toEqual([{ prefix: "198.18.1.0/24", via: "100.64.0.40" }]);
  });

  it("run: the policy's routes unless --route (or the config file) gives some", () => {
    const base = ["--policy", "p.yaml", "--peer", "db-1", "--transport", "plaintext-udp", "--listen", "198.18.0.20:51820"];
    expect(parseRunArgs(base).routesFromPolicy).toBe(true);
    expect(parseRunArgs([...base, "--route", "198.18.1.0/24=100.64.0.40"]).routesFromPolicy).toBe(false);
  });
});
