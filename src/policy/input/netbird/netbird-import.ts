// NetBird management export -> Account. The export is one object whose keys are the
// API's collections (peers, groups, users, setup_keys, posture_checks, policies,
// networks, network_resources, network_routers, legacy routes). References are ids, as
// in NetBird; they are checked by validateAccount, whose problems point back here
// through the SourceMap.
//
// A newer NetBird may send what meshfilter cannot read. When it changes nothing a peer
// accepts (an unknown field, a disabled rule's unknown protocol) it is a warning; when it
// would (an enabled rule's unknown protocol, action or resource type, a posture check of
// an unknown kind), its policy is rejected: left out, so it grants nothing, while the rest
// of the account loads. Leaving out a policy that may drop traffic would widen access,
// so such a policy's problem refuses the whole account instead.

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
  RejectedPolicy,
  RuleEnd,
  RuleProtocol,
  SetupKey,
  User,
} from "../../model/model.ts";
import { NETBIRD_API_ENUMS } from "./netbird-api-fields.ts";
import type { UnknownInExport } from "./netbird-unknown.ts";
import { importRoute } from "../import-route.ts";
import { ALL_GROUP_NAME } from "../../model/normalize.ts";
import { classifyResourceAddress } from "../resource-address.ts";
import { splitPortItems } from "../schema-common.ts";
import { identifyItemsBy, stringField, type IdentifyItem } from "../parse-collections.ts";
import type { NetBirdExport, NetBirdNetworkResource, NetBirdNetworkRouter, NetBirdRule } from "./schema-netbird.ts";
import { toPeerMeta } from "../schema-peer-meta.ts";
import type { SourceMap } from "../source-map.ts";

type Ref = string | { id: string };

const idOf = (ref: Ref): string => (typeof ref === "string" ? ref : ref.id);

export interface ImportResult {
  account: Account;
  /** Problems that only the importer can see (the model cannot express them). */
  problems: PolicyProblem[];
}

/** A policy's problems that reject it alone (see the top of this file), collected while importing. */
type PolicyTrouble = Map<Policy, PolicyProblem[]>;

export function importNetBirdExport(doc: NetBirdExport, where: SourceMap, unknown: UnknownInExport = { warnings: [], unknownChecks: new Map() }): ImportResult {
  const problems: PolicyProblem[] = [];
  const warnings = [...unknown.warnings];
  const trouble: PolicyTrouble = new Map();
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
    policies: doc.policies.map(({ value: p, index: i }) => importPolicy(p, `$.policies[${i}]`, where, trouble, warnings)),
    postureChecks: doc.posture_checks.map(({ value: c, index: i }) => importPostureCheck(c, `$.posture_checks[${i}]`, where)),
    networks: [],
    resources: [],
    routers: [],
    routes: doc.routes.map(({ value: r, index: i }) => importRoute(r.id, r, `$.routes[${i}]`, where)),
  };
  importNetworks(doc, account, problems, where);
  for (const policy of account.policies) {
    for (const checkId of policy.sourcePostureChecks) {
      const problem = unknown.unknownChecks.get(checkId);
      if (problem && policy.enabled) troubleFor(trouble, policy).push(problem);
      else if (problem) warnings.push({ ...problem, message: `${problem.message}; policy "${policy.name}" is disabled, so this changes nothing` });
    }
  }
  const rejected = rejectPolicies(account, trouble, problems);
  if (rejected.length > 0) account.rejectedPolicies = rejected;
  if (warnings.length > 0) account.warnings = warnings;
  return { account, problems };
}

const troubleFor = (trouble: PolicyTrouble, policy: Policy): PolicyProblem[] => {
  let list = trouble.get(policy);
  if (!list) trouble.set(policy, (list = []));
  return list;
};

/** Leave out the policies in trouble, or refuse the account when one of them may drop traffic. */
function rejectPolicies(account: Account, trouble: PolicyTrouble, problems: PolicyProblem[]): RejectedPolicy[] {
  const rejected: RejectedPolicy[] = [];
  for (const [policy, found] of trouble) {
    const mayDrop = policy.rules.some((r) => r.enabled && r.action !== "accept");
    if (mayDrop) {
      for (const p of found) problems.push({ path: p.path, message: `${p.message}; policy "${policy.name}" may drop traffic, so leaving it out would widen access and the account is refused` });
      continue;
    }
    rejected.push({ policyId: policy.id, name: policy.name, problems: found });
  }
  account.policies = account.policies.filter((p) => !trouble.has(p) || !rejected.some((r) => r.policyId === p.id));
  return rejected;
}

/**
 * Networks, their resources and their routers. GET /networks lists resources and routers
 * by id; their objects come from the export's network_resources and network_routers (as
 * `pull` writes them, each with its network_id) or inline in the network.
 */
function importNetworks(doc: NetBirdExport, account: Account, problems: PolicyProblem[], where: SourceMap): void {
  const listed = { resource: new Map<string, string>(), router: new Map<string, string>() };
  const objects = {
    resource: new Map(doc.network_resources.map(({ value, index }) => [value.id, { value, path: `$.network_resources[${index}]` }])),
    router: new Map(doc.network_routers.map(({ value, index }) => [value.id, { value, path: `$.network_routers[${index}]` }])),
  };
  const addResource = (r: NetBirdNetworkResource, networkId: string, at: string): void => {
    const resource: NetworkResource = { id: r.id, name: r.name, networkId, ...classifyResourceAddress(r.address), groups: r.groups.map(idOf), enabled: r.enabled };
    where.record(resource, at);
    account.resources.push(resource);
  };
  const addRouter = (r: NetBirdNetworkRouter, networkId: string, at: string): void => {
    const router: NetworkRouter = { id: r.id, networkId, peerGroups: r.peer_groups, masquerade: r.masquerade, enabled: r.enabled };
    if (r.peer !== undefined) router.peer = r.peer;
    where.record(router, at, { peerGroups: `${at}.peer_groups` });
    account.routers.push(router);
  };
  const networkIds = new Set(doc.networks.map(({ value }) => value.id));
  doc.networks.forEach(({ value: n, index: i }) => {
    const path = `$.networks[${i}]`;
    const network: Network = { id: n.id, name: n.name };
    where.record(network, path);
    account.networks.push(network);
    const take = <T extends { id: string; network_id?: string }>(kind: "resource" | "router", entry: string | T, at: string, add: (r: T, networkId: string, at: string) => void) => {
      if (typeof entry !== "string") return add(entry, n.id, at);
      listed[kind].set(entry, n.id);
      const found = objects[kind].get(entry) as { value: T; path: string } | undefined;
      if (!found) return void problems.push(listedByIdOnly(kind, entry, n.id, at));
      if (found.value.network_id !== undefined && found.value.network_id !== n.id) {
        return void problems.push({ path: `${found.path}.network_id`, message: `${kind} "${entry}" says network "${found.value.network_id}", but network "${n.id}" lists it (${at})` });
      }
      add(found.value, n.id, found.path);
    };
    n.resources.forEach((r, j) => take("resource", r, `${path}.resources[${j}]`, addResource));
    n.routers.forEach((r, j) => take("router", r, `${path}.routers[${j}]`, addRouter));
  });
  // Objects no network lists by id belong to the network their network_id names.
  for (const kind of ["resource", "router"] as const) {
    for (const [id, { value, path }] of objects[kind]) {
      if (listed[kind].has(id)) continue;
      if (value.network_id === undefined || !networkIds.has(value.network_id)) {
        problems.push({ path, message: `${kind} "${id}" belongs to no network: no network lists it${value.network_id === undefined ? " and it has no network_id" : ` and network "${value.network_id}" does not exist`}` });
        continue;
      }
      if (kind === "resource") addResource(value as NetBirdNetworkResource, value.network_id, path);
      else addRouter(value as NetBirdNetworkRouter, value.network_id, path);
    }
  }
}

/** A network's resource or router given by its id alone: only the inline object says what it is. */
function listedByIdOnly(kind: "resource" | "router", id: string, networkId: string, path: string): PolicyProblem {
  return { path, message: `${kind} "${id}" is listed by network "${networkId}", but no ${kind} object has that id; add it to network_${kind}s (from GET /api/networks/${networkId}/${kind}s), as meshfilter pull does` };
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
  if (p.dns_label !== undefined) peer.dnsLabel = p.dns_label.toLowerCase();
  if (p.ssh_enabled && p.local_flags?.server_ssh_allowed) peer.nativeSsh = true;
  where.record(peer, path, { userId: `${path}.user_id`, setupKeyId: `${path}.${p.setup_key_id !== undefined ? "setup_key_id" : "setup_key"}` });
  where.record(peer.meta, path, { networkAddresses: `${path}.network_addresses`, connectionIp: `${path}.connection_ip`, countryCode: `${path}.country_code` });
  return peer;
}

function importPolicy(p: NetBirdExport["policies"][number]["value"], path: string, where: SourceMap, trouble: PolicyTrouble, warnings: PolicyProblem[]): Policy {
  const policy: Policy = {
    id: p.id,
    name: p.name,
    enabled: p.enabled,
    sourcePostureChecks: p.source_posture_checks,
    rules: [],
  };
  p.rules.forEach((r, i) => {
    const at = `${path}.rules[${i}]`;
    const unknown = unknownRuleValues(r, at);
    if (unknown.length === 0) return void policy.rules.push(importRule(r, i, p.name, at, where));
    // A rule that is off changes nothing (P10): its unknown values are only worth a warning.
    if (!p.enabled || !r.enabled) warnings.push(...unknown.map((u) => ({ ...u, message: `${u.message}; the ${p.enabled ? "rule" : "policy"} is disabled, so this changes nothing` })));
    else troubleFor(trouble, policy).push(...unknown);
    // Kept in the policy only as a placeholder (the policy is rejected or the rule is off).
    const placeholderProtocol = r.ports.length > 0 || r.port_ranges.length > 0 ? "tcp" : "all";
    policy.rules.push(importRule({ ...r, protocol: placeholderProtocol, action: r.action === "accept" ? "accept" : "drop" }, i, p.name, at, where));
  });
  if (p.description !== undefined) policy.description = p.description;
  where.record(policy, path, { sourcePostureChecks: `${path}.source_posture_checks` });
  return policy;
}

/** A rule's protocol, action and resource types that this NetBird API version does not define. */
function unknownRuleValues(r: NetBirdRule, path: string): PolicyProblem[] {
  const found: PolicyProblem[] = [];
  const check = (value: string | undefined, known: readonly string[], at: string, what: string) => {
    if (value !== undefined && !known.includes(value)) found.push({ path: at, message: `unknown ${what} "${value}" (from a newer NetBird?); known: ${known.join(", ")}` });
  };
  check(r.protocol, NETBIRD_API_ENUMS["PolicyRule.protocol"], `${path}.protocol`, "protocol");
  check(r.action, NETBIRD_API_ENUMS["PolicyRule.action"], `${path}.action`, "action");
  check(r.sourceResource?.type, NETBIRD_API_ENUMS["Resource.type"], `${path}.sourceResource.type`, "resource type");
  check(r.destinationResource?.type, NETBIRD_API_ENUMS["Resource.type"], `${path}.destinationResource.type`, "resource type");
  return found;
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
    action: r.action as PolicyRule["action"],
    bidirectional: r.bidirectional,
    protocol: r.protocol as RuleProtocol,
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
