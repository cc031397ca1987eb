// NetBird management export -> Account. The export is one object whose keys are the
// API's collections (peers, groups, users, setup_keys, posture_checks, policies,
// networks with inline resources and routers, legacy routes). References are ids, as
// in NetBird; they are checked by validateAccount, whose problems point back here
// through the SourceMap.

import type {
  Account,
  Group,
  Network,
  NetworkResource,
  NetworkRouter,
  Peer,
  PolicyProblem,
  PolicyRule,
  Policy,
  PostureCheck,
  RuleEnd,
  SetupKey,
  User,
} from "./model.ts";
import { importRoute } from "./import-route.ts";
import { ALL_GROUP_NAME } from "./normalize.ts";
import { classifyResourceAddress } from "./resource-address.ts";
import { splitPortItems } from "./schema-common.ts";
import { identifyItemsBy, stringField, type IdentifyItem } from "./parse-collections.ts";
import type { NetBirdExport, NetBirdRule } from "./schema-netbird.ts";
import { toPeerMeta } from "./schema-peer-meta.ts";
import type { SourceMap } from "./source-map.ts";

type Ref = string | { id: string };

const idOf = (ref: Ref): string => (typeof ref === "string" ? ref : ref.id);

export interface ImportResult {
  account: Account;
  /** Problems that only the importer can see (the model cannot express them). */
  problems: PolicyProblem[];
}

export function importNetBirdExport(doc: NetBirdExport, where: SourceMap): ImportResult {
  const problems: PolicyProblem[] = [];
  const account: Account = {
    peers: doc.peers.map(({ value: p, index: i }) => importPeer(p, `$.peers[${i}]`, where)),
    users: doc.users.map(({ value: u, index: i }): User => {
      const user: User = { id: u.id, autoGroups: u.auto_groups };
      if (u.name !== undefined) user.name = u.name;
      where.record(user, `$.users[${i}]`, { autoGroups: `$.users[${i}].auto_groups` });
      return user;
    }),
    setupKeys: doc.setup_keys.map(({ value: k, index: i }): SetupKey => {
      const key: SetupKey = { id: k.id, autoGroups: k.auto_groups };
      if (k.name !== undefined) key.name = k.name;
      where.record(key, `$.setup_keys[${i}]`, { autoGroups: `$.setup_keys[${i}].auto_groups` });
      return key;
    }),
    groups: doc.groups.map(({ value: g, index: i }): Group => {
      const group: Group = {
        id: g.id,
        name: g.name,
        peers: g.peers.map(idOf),
        resources: g.resources.map(idOf),
        isAll: g.name === ALL_GROUP_NAME,
      };
      where.record(group, `$.groups[${i}]`);
      return group;
    }),
    policies: doc.policies.map(({ value: p, index: i }) => importPolicy(p, `$.policies[${i}]`, where)),
    postureChecks: doc.posture_checks.map(({ value: c, index: i }) => importPostureCheck(c, `$.posture_checks[${i}]`, where)),
    networks: [],
    resources: [],
    routers: [],
    routes: doc.routes.map(({ value: r, index: i }) => importRoute(r.id, r, `$.routes[${i}]`, where)),
  };
  doc.networks.forEach(({ value: n, index: i }) => {
    const path = `$.networks[${i}]`;
    const network: Network = { id: n.id, name: n.name };
    where.record(network, path);
    account.networks.push(network);
    n.resources.forEach((r, j) => {
      const at = `${path}.resources[${j}]`;
      if (typeof r === "string") {
        problems.push(listedByIdOnly("resource", r, n.id, at));
        return;
      }
      const resource: NetworkResource = {
        id: r.id,
        name: r.name,
        networkId: n.id,
        ...classifyResourceAddress(r.address),
        groups: r.groups.map(idOf),
        enabled: r.enabled,
      };
      where.record(resource, at);
      account.resources.push(resource);
    });
    n.routers.forEach((r, j) => {
      const at = `${path}.routers[${j}]`;
      if (typeof r === "string") {
        problems.push(listedByIdOnly("router", r, n.id, at));
        return;
      }
      const router: NetworkRouter = { id: r.id, networkId: n.id, peerGroups: r.peer_groups, masquerade: r.masquerade, enabled: r.enabled };
      if (r.peer !== undefined) router.peer = r.peer;
      where.record(router, at, { peerGroups: `${at}.peer_groups` });
      account.routers.push(router);
    });
  });
  return { account, problems };
}

/** A network's resource or router given by its id alone: only the inline object says what it is. */
function listedByIdOnly(kind: "resource" | "router", id: string, networkId: string, path: string): PolicyProblem {
  return { path, message: `${kind} "${id}" is listed by id only; inline the ${kind} object (from GET /networks/${networkId}/${kind}s)` };
}

/** The ids an export item that did not parse stands for (a network also stands for its inline resources). */
export const identifyNetBirdItem: IdentifyItem = identifyItemsBy(
  (raw) => stringField(raw, "id"),
  (resource) => (typeof resource === "string" ? resource : stringField(resource, "id")),
);

function importPeer(p: NetBirdExport["peers"][number]["value"], path: string, where: SourceMap): Peer {
  const peer: Peer = { id: p.id, name: p.name, ip: p.ip.trim(), groups: p.groups.map(idOf), meta: toPeerMeta({ ...p, os: p.os ?? undefined }) };
  if (p.ipv6 !== undefined) peer.ipv6 = p.ipv6;
  if (p.user_id !== undefined) peer.userId = p.user_id;
  const setupKey = p.setup_key_id ?? p.setup_key;
  if (setupKey !== undefined) peer.setupKeyId = setupKey;
  where.record(peer, path, { userId: `${path}.user_id`, setupKeyId: `${path}.${p.setup_key_id !== undefined ? "setup_key_id" : "setup_key"}` });
  where.record(peer.meta, path, { networkAddresses: `${path}.network_addresses`, connectionIp: `${path}.connection_ip`, countryCode: `${path}.country_code` });
  return peer;
}

function importPolicy(p: NetBirdExport["policies"][number]["value"], path: string, where: SourceMap): Policy {
  const policy: Policy = {
    id: p.id,
    name: p.name,
    enabled: p.enabled,
    sourcePostureChecks: p.source_posture_checks,
    rules: p.rules.map((r, i) => importRule(r, i, p.name, `${path}.rules[${i}]`, where)),
  };
  if (p.description !== undefined) policy.description = p.description;
  where.record(policy, path, { sourcePostureChecks: `${path}.source_posture_checks` });
  return policy;
}

function importRule(r: NetBirdRule, index: number, policyName: string, path: string, where: SourceMap): PolicyRule {
  const split = splitPortItems(r.ports, `${path}.ports`);
  r.port_ranges.forEach((range, i) => {
    split.portRanges.push({ start: range.start, end: range.end });
    split.rangePaths.push(`${path}.port_ranges[${i}]`);
  });
  const rule: PolicyRule = {
    id: r.id ?? String(index + 1),
    name: r.name ?? policyName,
    enabled: r.enabled,
    action: r.action,
    bidirectional: r.bidirectional,
    protocol: r.protocol as PolicyRule["protocol"],
    ports: split.ports,
    portRanges: split.portRanges,
    sources: ruleEnd(r.sources, r.sourceResource, `${path}.sources`, `${path}.sourceResource`, where),
    destinations: ruleEnd(r.destinations, r.destinationResource, `${path}.destinations`, `${path}.destinationResource`, where),
  };
  where.record(rule, path, { ports: split.portPaths, portRanges: split.rangePaths });
  return rule;
}

function ruleEnd(groups: Ref[], resource: { id: string; type?: string } | null | undefined, groupsPath: string, resourcePath: string, where: SourceMap): RuleEnd {
  const end: RuleEnd = { groups: groups.map(idOf) };
  if (resource) {
    if (resource.type === "peer") end.peer = resource.id;
    else end.resource = resource.id;
  }
  where.record(end, groupsPath, { groups: groupsPath, resource: `${resourcePath}.id`, peer: `${resourcePath}.id` });
  return end;
}

function importPostureCheck(c: NetBirdExport["posture_checks"][number]["value"], path: string, where: SourceMap): PostureCheck {
  const check: PostureCheck = { id: c.id, name: c.name };
  const { nb_version_check, os_version_check, geo_location_check, peer_network_range_check, process_check } = c.checks;
  if (nb_version_check) check.nbVersionCheck = { minVersion: nb_version_check.min_version };
  if (os_version_check) {
    check.osVersionCheck = {};
    for (const os of ["android", "darwin", "ios"] as const) {
      const v = os_version_check[os];
      if (v) check.osVersionCheck[os] = { minVersion: v.min_version };
    }
    for (const os of ["linux", "windows"] as const) {
      const v = os_version_check[os];
      if (v) check.osVersionCheck[os] = { minKernelVersion: v.min_kernel_version };
    }
  }
  if (geo_location_check) {
    check.geoLocationCheck = {
      action: geo_location_check.action,
      locations: geo_location_check.locations.map((l) =>
        l.city_name === undefined ? { countryCode: l.country_code.toUpperCase() } : { countryCode: l.country_code.toUpperCase(), cityName: l.city_name },
      ),
    };
  }
  if (peer_network_range_check) check.peerNetworkRangeCheck = { action: peer_network_range_check.action, ranges: peer_network_range_check.ranges };
  if (process_check) {
    check.processCheck = {
      processes: process_check.processes.map((p) => {
        const process: { linuxPath?: string; macPath?: string; windowsPath?: string } = {};
        if (p.linux_path !== undefined) process.linuxPath = p.linux_path;
        if (p.mac_path !== undefined) process.macPath = p.mac_path;
        if (p.windows_path !== undefined) process.windowsPath = p.windows_path;
        return process;
      }),
    };
  }
  const checks = `${path}.checks`;
  where.record(check, path, {
    "geoLocationCheck.locations": `${checks}.geo_location_check.locations`,
    "peerNetworkRangeCheck.ranges": `${checks}.peer_network_range_check.ranges`,
    "processCheck.processes": `${checks}.process_check.processes`,
    checks,
  });
  return check;
}
