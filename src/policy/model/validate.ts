// Every semantic check of an Account, in one place for every input format: unique
// ids, valid addresses and ports, rules that make sense, references that resolve.
// All problems are collected (never the first only). Paths point into the document
// the account was read from when a SourceMap is given, else into the Account itself.

import { AddressError, formatParsed, parseCidr, tryParseIp } from "../../packet/address.ts";
import { childPath } from "../input/json-path.ts";
import type { Account, PeerMeta, PolicyProblem, PolicyRule, RuleEnd } from "./model.ts";
import type { Unusable } from "../input/parse-collections.ts";
import { RULE_PROTOCOLS } from "../input/schema-common.ts";
import { SourceMap } from "../input/source-map.ts";
import { suggestionFor, type Candidate } from "./suggest.ts";

const PROTOCOLS = new Set<string>(RULE_PROTOCOLS);
const ACTIONS = new Set(["accept", "drop"]);
const DOMAIN = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/i;
const COUNTRY_CODE = /^[A-Z]{2}$/;
const UNIQUE_NAMES = new Set(["group", "posture check"]);

/**
 * Check an account; returns every problem found (an empty list when it is usable).
 * `unusable` names objects (by kind: "peer", "group"...) that the document has but
 * that could not be read; references to them are not reported again as unknown.
 */
export function validateAccount(account: Account, where: SourceMap = new SourceMap(), unusable: Unusable = new Map()): PolicyProblem[] {
  return new AccountChecker(account, where, unusable).run();
}

/** Where one object of the account is, and how to name the path of one of its fields. */
interface Place {
  path: string;
  field(name: string, index?: number): string;
}

class AccountChecker {
  private readonly problems: PolicyProblem[] = [];
  private readonly ids: Record<string, Map<string, string>> = {};
  private readonly candidates: Record<string, readonly Candidate[]> = {};

  constructor(
    private readonly account: Account,
    private readonly where: SourceMap,
    private readonly unusable: Unusable,
  ) {}

  run(): PolicyProblem[] {
    const a = this.account;
    // Collect ids first so references can be checked whatever the order in the file.
    this.collect("peer", a.peers, "$.peers");
    this.collect("user", a.users, "$.users");
    this.collect("setup key", a.setupKeys, "$.setupKeys");
    this.collect("group", a.groups, "$.groups");
    this.collect("posture check", a.postureChecks, "$.postureChecks");
    this.collect("network", a.networks, "$.networks");
    this.collect("resource", a.resources, "$.resources");
    this.collect("router", a.routers, "$.routers");
    this.collect("route", a.routes, "$.routes");
    this.collect("policy", a.policies, "$.policies");
    this.checkPeers();
    this.checkMemberships();
    this.checkNetworks();
    this.checkRoutes();
    this.checkPostureChecks();
    this.checkPolicies();
    return this.problems;
  }

  private report(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  private place(object: object, fallback: string): Place {
    return {
      path: this.where.pathOf(object, fallback),
      field: (name, index) => this.where.fieldPath(object, fallback, name, index),
    };
  }

  /** Record ids (and names, when they differ from ids) of one collection, reporting duplicates. */
  private collect(kind: string, items: readonly { id: string; name?: string }[], base: string): void {
    const byId = new Map<string, string>();
    const byName = new Map<string, string>();
    items.forEach((item, i) => {
      const at = this.place(item, childPath(base, i));
      const first = byId.get(item.id);
      if (first !== undefined) this.report(at.path, `duplicate ${kind} "${item.id}": already defined at ${first}`);
      else byId.set(item.id, at.path);
      // NetBird itself keeps group and posture-check names unique (peer names may repeat:
      // two hosts called "ubuntu" get different DNS labels), and output names groups.
      if (item.name !== undefined && item.name !== item.id && UNIQUE_NAMES.has(kind)) {
        const sameName = byName.get(item.name);
        if (sameName !== undefined) this.report(at.field("name"), `duplicate ${kind} name "${item.name}": already used at ${sameName}`);
        else byName.set(item.name, at.path);
      }
    });
    this.ids[kind] = byId;
    this.candidates[kind] = items;
  }

  private exists(kind: string, id: string): boolean {
    const unusable = this.unusable.get(kind);
    return (this.ids[kind]?.has(id) ?? false) || unusable === "all" || (unusable?.has(id) ?? false);
  }

  /** Check a list of references of one kind; `field` is the model field holding the list. */
  private checkRefs(kind: string, ids: readonly string[], at: Place, field: string): void {
    ids.forEach((id, i) => {
      if (!this.exists(kind, id)) this.report(at.field(field, i), this.unknown(kind, id));
    });
  }

  private checkRef(kind: string, id: string | undefined, at: Place, field: string): void {
    if (id !== undefined && !this.exists(kind, id)) this.report(at.field(field), this.unknown(kind, id));
  }

  private unknown(kind: string, id: string): string {
    return `unknown ${kind} "${id}"${suggestionFor(id, this.candidates[kind] ?? [])}`;
  }

  private checkPeers(): void {
    const byIp = new Map<string, string>();
    this.account.peers.forEach((peer, i) => {
      const at = this.place(peer, `$.peers[${i}]`);
      const ip = tryParseIp(peer.ip);
      if (ip === null || ip.version !== 4) {
        this.report(at.field("ip"), `"${peer.ip}" is not a valid IPv4 address`);
      } else {
        const key = formatParsed(ip);
        const other = byIp.get(key);
        if (other !== undefined) this.report(at.field("ip"), `IP address ${key} is already used by peer "${other}"`);
        else byIp.set(key, peer.name);
      }
      if (peer.ipv6 !== undefined) {
        const ipv6 = tryParseIp(peer.ipv6);
        if (ipv6 === null || ipv6.version !== 6) this.report(at.field("ipv6"), `"${peer.ipv6}" is not a valid IPv6 address`);
        else {
          const key = formatParsed(ipv6);
          const other = byIp.get(key);
          if (other !== undefined) this.report(at.field("ipv6"), `IP address ${key} is already used by peer "${other}"`);
          else byIp.set(key, peer.name);
        }
      }
      this.checkRefs("group", peer.groups, at, "groups");
      this.checkRef("user", peer.userId, at, "userId");
      this.checkRef("setup key", peer.setupKeyId, at, "setupKeyId");
      this.problems.push(...peerMetaProblems(peer.meta, this.where, `${at.path}.meta`));
    });
  }

  private checkMemberships(): void {
    const a = this.account;
    a.users.forEach((user, i) => this.checkRefs("group", user.autoGroups, this.place(user, `$.users[${i}]`), "autoGroups"));
    a.setupKeys.forEach((key, i) => this.checkRefs("group", key.autoGroups, this.place(key, `$.setupKeys[${i}]`), "autoGroups"));
    a.groups.forEach((group, i) => {
      const at = this.place(group, `$.groups[${i}]`);
      this.checkRefs("peer", group.peers, at, "peers");
      this.checkRefs("resource", group.resources, at, "resources");
    });
  }

  private checkNetworks(): void {
    const a = this.account;
    a.resources.forEach((resource, i) => {
      const at = this.place(resource, `$.resources[${i}]`);
      this.checkRef("network", resource.networkId, at, "networkId");
      this.checkRefs("group", resource.groups, at, "groups");
      if (resource.type === "domain") {
        if (!DOMAIN.test(resource.address)) this.report(at.field("address"), `"${resource.address}" is neither an IP address, a CIDR nor a domain name`);
      } else {
        this.checkCidr(resource.address, at.field("address"), false);
      }
    });
    a.routers.forEach((router, i) => {
      const at = this.place(router, `$.routers[${i}]`);
      this.checkRef("network", router.networkId, at, "networkId");
      this.checkRef("peer", router.peer, at, "peer");
      this.checkRefs("group", router.peerGroups, at, "peerGroups");
      this.checkOnePeerOrGroups(router.peer, router.peerGroups, at, "a routing peer");
    });
  }

  private checkRoutes(): void {
    this.account.routes.forEach((route, i) => {
      const at = this.place(route, `$.routes[${i}]`);
      this.checkRef("peer", route.peer, at, "peer");
      this.checkRefs("group", route.peerGroups, at, "peerGroups");
      this.checkRefs("group", route.groups, at, "groups");
      this.checkRefs("group", route.accessControlGroups, at, "accessControlGroups");
      this.checkOnePeerOrGroups(route.peer, route.peerGroups, at, "a route");
      if (route.network !== "" && route.domains.length > 0) this.report(at.field("network"), "a route has either a network or domains, not both");
      else if (route.network === "" && route.domains.length === 0) this.report(at.path, "a route needs a network (CIDR) or domains");
      else if (route.network !== "") this.checkCidr(route.network, at.field("network"), false);
      route.domains.forEach((domain, d) => {
        if (!DOMAIN.test(domain)) this.report(at.field("domains", d), `"${domain}" is not a domain name`);
      });
    });
  }

  private checkOnePeerOrGroups(peer: string | undefined, groups: readonly string[], at: Place, what: string): void {
    if (peer !== undefined && groups.length > 0) this.report(at.field("peer"), `${what} names either one peer or peer groups, not both`);
    else if (peer === undefined && groups.length === 0) this.report(at.path, `${what} needs a peer or peer groups`);
  }

  private checkPostureChecks(): void {
    this.account.postureChecks.forEach((check, i) => {
      const at = this.place(check, `$.postureChecks[${i}]`);
      const { nbVersionCheck, osVersionCheck, geoLocationCheck, peerNetworkRangeCheck, processCheck } = check;
      if (!nbVersionCheck && !osVersionCheck && !geoLocationCheck && !peerNetworkRangeCheck && !processCheck) {
        this.report(at.field("checks"), `posture check "${check.name}" has no checks`);
      }
      geoLocationCheck?.locations.forEach((location, l) => {
        if (!COUNTRY_CODE.test(location.countryCode)) {
          this.report(at.field("geoLocationCheck.locations", l), `"${location.countryCode}" is not a two-letter country code (ISO 3166-1 alpha-2, e.g. "DE")`);
        }
      });
      peerNetworkRangeCheck?.ranges.forEach((range, r) => this.checkCidr(range, at.field("peerNetworkRangeCheck.ranges", r), true));
      processCheck?.processes.forEach((process, p) => {
        if (!process.linuxPath && !process.macPath && !process.windowsPath) {
          this.report(at.field("processCheck.processes", p), "a process needs at least one executable path (linux, mac or windows)");
        }
      });
    });
  }

  private checkPolicies(): void {
    this.account.policies.forEach((policy, i) => {
      const at = this.place(policy, `$.policies[${i}]`);
      this.checkRefs("posture check", policy.sourcePostureChecks, at, "sourcePostureChecks");
      const ruleIds = new Map<string, string>();
      policy.rules.forEach((rule, r) => {
        const ruleAt = this.place(rule, `${at.path}.rules[${r}]`);
        const first = ruleIds.get(rule.id);
        if (first !== undefined) this.report(ruleAt.path, `duplicate rule "${rule.id}" in policy "${policy.name}": already defined at ${first}`);
        else ruleIds.set(rule.id, ruleAt.path);
        this.checkRule(rule, ruleAt);
      });
    });
  }

  private checkRule(rule: PolicyRule, at: Place): void {
    if (!PROTOCOLS.has(rule.protocol)) this.report(at.field("protocol"), `unknown protocol "${rule.protocol}"; use one of ${RULE_PROTOCOLS.join(", ")}`);
    if (!ACTIONS.has(rule.action)) this.report(at.field("action"), `unknown action "${rule.action}"; use accept or drop`);
    rule.ports.forEach((port, p) => {
      if (!isPort(port)) this.report(at.field("ports", p), `port ${port} is outside 1-65535`);
    });
    rule.portRanges.forEach((range, p) => {
      const path = at.field("portRanges", p);
      if (!isPort(range.start) || !isPort(range.end)) this.report(path, `port range ${range.start}-${range.end} is outside 1-65535`);
      else if (range.start > range.end) this.report(path, `port range ${range.start}-${range.end} starts after it ends`);
    });
    if ((rule.protocol === "all" || rule.protocol === "icmp") && (rule.ports.length > 0 || rule.portRanges.length > 0)) {
      const path = rule.ports.length > 0 ? at.field("ports", 0) : at.field("portRanges", 0);
      this.report(path, `a rule with protocol ${rule.protocol} cannot have ports; use tcp or udp, or remove the ports`);
    }
    this.checkRuleEnd(rule.sources, "sources", at.path);
    this.checkRuleEnd(rule.destinations, "destinations", at.path);
  }

  private checkRuleEnd(end: RuleEnd, side: "sources" | "destinations", rulePath: string): void {
    const at = this.place(end, `${rulePath}.${side}`);
    this.checkRefs("group", end.groups, at, "groups");
    this.checkRef("resource", end.resource, at, "resource");
    this.checkRef("peer", end.peer, at, "peer");
    const kinds = (end.groups.length > 0 ? 1 : 0) + (end.resource !== undefined ? 1 : 0) + (end.peer !== undefined ? 1 : 0);
    if (kinds > 1) {
      const path = end.resource !== undefined ? at.field("resource") : at.field("peer");
      this.report(path, `the rule's ${side} mix groups, a resource or a peer; one side is either groups, one resource or one peer`);
    } else if (kinds === 0) {
      this.report(at.field("groups"), `the rule has no ${side}: list groups, or name a resource or a peer`);
    }
  }

  private checkCidr(text: string, path: string, hostBitsAllowed: boolean): void {
    const problem = cidrProblem(text, hostBitsAllowed);
    if (problem !== undefined) this.report(path, problem);
  }
}

function isPort(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= 65535;
}

/** Why `text` is not a usable CIDR (or address), or undefined when it is. */
function cidrProblem(text: string, hostBitsAllowed: boolean): string | undefined {
  try {
    const cidr = parseCidr(text);
    if (cidr.hostBitsSet && !hostBitsAllowed) {
      return `"${text}" has bits set after the prefix length; did you mean ${formatParsed(cidr)}?`;
    }
    return undefined;
  } catch (err) {
    return err instanceof AddressError ? `"${text}" is not a valid CIDR: ${err.message.replace(/^invalid IP address "[^"]*": /, "")}` : String(err);
  }
}

/** Problems in a peer's metadata (addresses, country code); shared with peer-meta files. */
export function peerMetaProblems(meta: PeerMeta, where: SourceMap, fallbackPath: string): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const at = { field: (name: string, index?: number) => where.fieldPath(meta, fallbackPath, name, index) };
  if (meta.connectionIp !== undefined && tryParseIp(meta.connectionIp) === null) {
    problems.push({ path: at.field("connectionIp"), message: `"${meta.connectionIp}" is not a valid IP address` });
  }
  meta.networkAddresses?.forEach((address, i) => {
    const problem = cidrProblem(address, true);
    if (problem !== undefined) problems.push({ path: at.field("networkAddresses", i), message: problem });
  });
  if (meta.countryCode !== undefined && !COUNTRY_CODE.test(meta.countryCode)) {
    problems.push({ path: at.field("countryCode"), message: `"${meta.countryCode}" is not a two-letter country code (ISO 3166-1 alpha-2, e.g. "DE")` });
  }
  return problems;
}
