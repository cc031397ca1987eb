// meshfilter's own format -> Account. Objects are referenced by name and the names
// become the ids, so the Account reads like the file. References are checked by
// validateAccount, whose problems point back into the file through the SourceMap.

import { childPath } from "../json-path.ts";
import { importRoute } from "../import-route.ts";
import type { Account, Group, Peer, Policy, PolicyProblem, PolicyRule, PostureCheck, RuleEnd } from "../../model/model.ts";
import { ALL_GROUP_NAME } from "../../model/normalize.ts";
import { identifyItemsBy, stringField, type IdentifyItem } from "../parse-collections.ts";
import type { DocumentObject } from "../parse-document.ts";
import { classifyResourceAddress } from "../resource-address.ts";
import { splitPortItems } from "../schema-common.ts";
import { meshfilterCollections, type MeshfilterDocument, type MeshfilterRule } from "./schema-meshfilter.ts";
import { toPeerMeta } from "../schema-peer-meta.ts";
import type { SourceMap } from "../source-map.ts";

export function importMeshfilterDocument(doc: MeshfilterDocument, where: SourceMap): Account {
  const account: Account = {
    peers: doc.peers.map(({ value: p, index: i }) => importPeer(p, `$.peers[${i}]`, where)),
    users: doc.users.map(({ value: u, index: i }) => {
      const user = { id: u.name, name: u.name, autoGroups: u.groups ?? [] };
      where.record(user, `$.users[${i}]`, { autoGroups: `$.users[${i}].groups` });
      return user;
    }),
    setupKeys: doc.setup_keys.map(({ value: k, index: i }) => {
      const key = { id: k.name, name: k.name, autoGroups: k.groups ?? [] };
      where.record(key, `$.setup_keys[${i}]`, { autoGroups: `$.setup_keys[${i}].groups` });
      return key;
    }),
    groups: doc.groups.map(({ value: g, index: i }): Group => {
      const group: Group =
        typeof g === "string"
          ? { id: g, name: g, peers: [], resources: [], isAll: g === ALL_GROUP_NAME }
          : { id: g.name, name: g.name, peers: g.peers ?? [], resources: g.resources ?? [], isAll: g.name === ALL_GROUP_NAME };
      where.record(group, `$.groups[${i}]`);
      return group;
    }),
    policies: doc.policies.map(({ value: p, index: i }) => importPolicy(p, `$.policies[${i}]`, where)),
    postureChecks: doc.posture_checks.map(({ value: c, index: i }) => importPostureCheck(c, `$.posture_checks[${i}]`, where)),
    networks: [],
    resources: [],
    routers: [],
    routes: doc.routes.map(({ value: r, index: i }) => importRoute(r.name, r, `$.routes[${i}]`, where)),
  };
  doc.networks.forEach(({ value: n, index: i }) => {
    const path = `$.networks[${i}]`;
    const network = { id: n.name, name: n.name };
    where.record(network, path);
    account.networks.push(network);
    (n.resources ?? []).forEach((r, j) => {
      const resource = { id: r.name, name: r.name, networkId: n.name, ...classifyResourceAddress(r.address), groups: r.groups ?? [], enabled: r.enabled ?? true };
      where.record(resource, `${path}.resources[${j}]`);
      account.resources.push(resource);
    });
    (n.routers ?? []).forEach((r, j) => {
      const at = `${path}.routers[${j}]`;
      const router = { id: `${n.name}/router/${j + 1}`, networkId: n.name, peerGroups: r.groups ?? [], masquerade: r.masquerade ?? true, enabled: r.enabled ?? true };
      const withPeer = r.peer === undefined ? router : { ...router, peer: r.peer };
      where.record(withPeer, at, { peerGroups: `${at}.groups` });
      account.routers.push(withPeer);
    });
  });
  return account;
}

/** The names an item that did not parse stands for (a network also stands for its resources). */
export const identifyMeshfilterItem: IdentifyItem = identifyItemsBy(
  (raw) => (typeof raw === "string" ? raw : stringField(raw, "name")),
  (resource) => stringField(resource, "name"),
);

/** meshfilter's format is strict at the top level too: an unknown key is a typo ("polices"). */
export function unknownTopLevelKeys(doc: DocumentObject): PolicyProblem[] {
  return Object.keys(doc)
    .filter((key) => key !== "format" && !(key in meshfilterCollections))
    .map((key) => ({ path: childPath("$", key), message: `unknown field "${key}"` }));
}

function importPeer(p: MeshfilterDocument["peers"][number]["value"], path: string, where: SourceMap): Peer {
  const peer: Peer = { id: p.name, name: p.name, ip: p.ip.trim(), groups: p.groups ?? [], meta: toPeerMeta(p.meta ?? {}) };
  if (p.ipv6 !== undefined) peer.ipv6 = p.ipv6.trim();
  if (p.user !== undefined) peer.userId = p.user;
  if (p.setup_key !== undefined) peer.setupKeyId = p.setup_key;
  where.record(peer, path, { userId: `${path}.user`, setupKeyId: `${path}.setup_key` });
  const meta = `${path}.meta`;
  where.record(peer.meta, meta, { networkAddresses: `${meta}.network_addresses`, connectionIp: `${meta}.connection_ip`, countryCode: `${meta}.country_code` });
  return peer;
}

function importPolicy(p: MeshfilterDocument["policies"][number]["value"], path: string, where: SourceMap): Policy {
  // A policy without "rules" is itself its only rule (the common case, kept short).
  const rules = p.rules === undefined ? [importRule({ ...p, name: undefined }, 0, p.name, path, where)] : p.rules.map((r, i) => importRule(r, i, p.name, `${path}.rules[${i}]`, where));
  const policy: Policy = { id: p.name, name: p.name, enabled: p.enabled ?? true, sourcePostureChecks: p.posture_checks ?? [], rules };
  if (p.description !== undefined) policy.description = p.description;
  where.record(policy, path, { sourcePostureChecks: `${path}.posture_checks` });
  return policy;
}

function importRule(r: MeshfilterRule, index: number, policyName: string, path: string, where: SourceMap): PolicyRule {
  const split = splitPortItems(r.ports ?? [], `${path}.ports`);
  const rule: PolicyRule = {
    // Rule ids only need to be unique within their policy: the rule's name, else its position.
    id: r.name ?? String(index + 1),
    name: r.name ?? policyName,
    enabled: r.enabled ?? true,
    action: r.action ?? "accept",
    bidirectional: r.bidirectional ?? false,
    protocol: (r.protocol ?? "all") as PolicyRule["protocol"],
    ports: split.ports,
    portRanges: split.portRanges,
    sources: ruleEnd(r.sources, r.source_resource, r.source_peer, path, "source", where),
    destinations: ruleEnd(r.destinations, r.destination_resource, r.destination_peer, path, "destination", where),
  };
  where.record(rule, path, { ports: split.portPaths, portRanges: split.rangePaths });
  return rule;
}

function ruleEnd(groups: string[] | undefined, resource: string | undefined, peer: string | undefined, rulePath: string, side: "source" | "destination", where: SourceMap): RuleEnd {
  const end: RuleEnd = { groups: groups ?? [] };
  if (resource !== undefined) end.resource = resource;
  if (peer !== undefined) end.peer = peer;
  where.record(end, `${rulePath}.${side}s`, { groups: `${rulePath}.${side}s`, resource: `${rulePath}.${side}_resource`, peer: `${rulePath}.${side}_peer` });
  return end;
}

function importPostureCheck(c: MeshfilterDocument["posture_checks"][number]["value"], path: string, where: SourceMap): PostureCheck {
  const check: PostureCheck = { id: c.name, name: c.name };
  if (c.nb_version !== undefined) check.nbVersionCheck = { minVersion: c.nb_version };
  if (c.os_version !== undefined) {
    const { android, darwin, ios, linux, windows } = c.os_version;
    check.osVersionCheck = {};
    if (android !== undefined) check.osVersionCheck.android = { minVersion: android };
    if (darwin !== undefined) check.osVersionCheck.darwin = { minVersion: darwin };
    if (ios !== undefined) check.osVersionCheck.ios = { minVersion: ios };
    if (linux !== undefined) check.osVersionCheck.linux = { minKernelVersion: linux };
    if (windows !== undefined) check.osVersionCheck.windows = { minKernelVersion: windows };
  }
  if (c.geo_location !== undefined) {
    check.geoLocationCheck = {
      action: c.geo_location.action,
      locations: c.geo_location.locations.map((l) => {
        if (typeof l === "string") return { countryCode: l.trim().toUpperCase() };
        return l.city === undefined ? { countryCode: l.country.trim().toUpperCase() } : { countryCode: l.country.trim().toUpperCase(), cityName: l.city };
      }),
    };
  }
  if (c.network_range !== undefined) check.peerNetworkRangeCheck = { action: c.network_range.action, ranges: c.network_range.ranges };
  if (c.processes !== undefined) {
    check.processCheck = {
      processes: c.processes.map((p) => {
        const process: { linuxPath?: string; macPath?: string; windowsPath?: string } = {};
        if (p.linux !== undefined) process.linuxPath = p.linux;
        if (p.mac !== undefined) process.macPath = p.mac;
        if (p.windows !== undefined) process.windowsPath = p.windows;
        return process;
      }),
    };
  }
  where.record(check, path, {
    "geoLocationCheck.locations": `${path}.geo_location.locations`,
    "peerNetworkRangeCheck.ranges": `${path}.network_range.ranges`,
    "processCheck.processes": `${path}.processes`,
    checks: path,
  });
  return check;
}
