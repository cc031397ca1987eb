// Compile time for one peer of a large account: 10,000 peers, 1,000 groups, 2,000 rules
// (quick mode: a tenth of each). The account is generated deterministically; the peer
// compiled is a member of several groups so many rules concern it.

import type { BenchContext } from "./harness.ts";
import { measure } from "./harness.ts";
import { compilePeer } from "../src/policy/compile/compile.ts";
import type { Account, Group, Peer, Policy, Protocol } from "../src/policy/model/model.ts";
import { seededRandom } from "../test/support/random.ts";

export function generateAccount(peerCount: number, groupCount: number, ruleCount: number): Account {
  // Seeded, so every run compiles the same account.
  const rand = seededRandom(42);
  const pick = (n: number) => Math.floor(rand() * n);
  const groups: Group[] = [{ id: "all", name: "All", peers: [], resources: [], isAll: true }];
  for (let g = 0; g < groupCount; g++) groups.push({ id: `g${g}`, name: `group-${g}`, peers: [], resources: [], isAll: false });
  const users = Array.from({ length: 100 }, (_, u) => ({ id: `u${u}`, autoGroups: [`g${pick(groupCount)}`] }));
  const setupKeys = Array.from({ length: 20 }, (_, k) => ({ id: `k${k}`, autoGroups: [`g${pick(groupCount)}`] }));
  const peers: Peer[] = [];
  for (let p = 0; p < peerCount; p++) {
    const isUserDevice = p % 5 === 0;
    peers.push({
      id: `p${p}`,
      name: `peer-${p}`,
      ip: `100.${64 + (p >> 16)}.${(p >> 8) & 0xff}.${p & 0xff}`,
      groups: Array.from({ length: 1 + pick(3) }, () => `g${pick(groupCount)}`),
      userId: isUserDevice ? `u${pick(users.length)}` : undefined,
      setupKeyId: isUserDevice ? undefined : `k${pick(setupKeys.length)}`,
      meta: { version: `0.${20 + pick(10)}.0` },
    });
  }
  peers[0].groups = Array.from({ length: 20 }, () => `g${pick(groupCount)}`);
  const protocols: Protocol[] = ["tcp", "tcp", "tcp", "udp", "icmp", "all"];
  const policies: Policy[] = [];
  for (let r = 0; r < ruleCount; r++) {
    const protocol = protocols[pick(protocols.length)];
    const hasPorts = protocol === "tcp" || protocol === "udp";
    policies.push({
      id: `pol${r}`,
      name: `policy-${r}`,
      enabled: true,
      sourcePostureChecks: r % 10 === 0 ? ["min-version"] : [],
      rules: [
        {
          id: `r${r}`,
          name: `rule-${r}`,
          enabled: true,
          action: r % 17 === 0 ? "drop" : "accept",
          bidirectional: r % 3 === 0,
          protocol,
          ports: hasPorts ? [1 + pick(65535)] : [],
          portRanges: [],
          sources: { groups: Array.from({ length: 1 + pick(3) }, () => `g${pick(groupCount)}`) },
          destinations: { groups: Array.from({ length: 1 + pick(2) }, () => `g${pick(groupCount)}`) },
        },
      ],
    });
  }
  return {
    peers,
    users,
    setupKeys,
    groups,
    policies,
    postureChecks: [{ id: "min-version", name: "min-version", nbVersionCheck: { minVersion: "0.25.0" } }],
    networks: [],
    resources: [],
    routers: [],
    routes: [],
  };
}

export default async function (ctx: BenchContext): Promise<void> {
  const scale = ctx.quick ? 10 : 1;
  const account = generateAccount(10_000 / scale, 1_000 / scale, 2_000 / scale);
  const sample = compilePeer(account, "p0");
  const figure = measure(`compile/${account.peers.length}-peers-${account.policies.length}-rules`, 1, () => compilePeer(account, "p0"), ctx.quick ? 0.5 : 3);
  ctx.record({
    ...figure,
    extra: {
      msPerCompile: Number((figure.nsPerOp / 1e6).toFixed(2)),
      inboundRules: sample.inbound.length,
      outboundRules: sample.outbound.length,
      sourcePrefixes: sample.inbound.reduce((n, r) => n + r.sources.length, 0),
    },
  });
}
