// The linter: the seed's best practices (seed/groups-and-policies.txt, POLICY.md "What the
// linter says") as checks over an account. Each finding has a stable id, a severity, the
// ids of the objects involved and one sentence saying why it matters. Only enabled
// policies and rules are judged (disabled ones change nothing, P10), except for references
// to unknown objects, which are mistakes wherever they are.
//
// Severities: "error" for what the seed says to remove (the Default policy, a mesh over
// mixed devices, dangling references), "warning" for what it says to avoid, "info" for
// advice and noise: a bidirectional flag that changes nothing, pings allowed back by P5,
// and sensitive destinations without posture checks (advice only: the seed's own
// recommended examples, e.g. "Engineering Database Access", carry no posture check).

import type { CompileOptions } from "../../filter/compiled-policy.ts";
import { AccountIndex } from "../model/effective-groups.ts";
import { Roles, type EndMembers } from "./lint-roles.ts";
import { findShadowedRules } from "./lint-shadowing.ts";
import type { Account, Policy, PolicyRule } from "../model/model.ts";

export type Severity = "error" | "warning" | "info";

export interface Finding {
  id: string;
  severity: Severity;
  message: string;
  objects: string[];
}

/** Every finding the linter can report, for documentation and `meshfilter lint --help`. */
export const LINT_CHECKS: readonly { id: string; severity: Severity; meaning: string }[] = [
  { id: "default-policy", severity: "error", meaning: "an enabled accept rule from All to All on every protocol (NetBird's Default policy)" },
  { id: "mixed-group", severity: "warning", meaning: "a group holds both user devices and infrastructure (servers, resources)" },
  { id: "mixed-mesh", severity: "error", meaning: "a rule uses one mixed group as both source and destination" },
  { id: "infra-to-user", severity: "warning", meaning: "infrastructure may open connections to user devices" },
  { id: "protocol-all-where-ports-would-do", severity: "warning", meaning: "protocol all towards infrastructure or resources, where a few tcp/udp ports would do" },
  { id: "ineffective-bidirectional", severity: "warning", meaning: "the bidirectional flag does not do what it says: off on an always-bidirectional all/tcp/udp rule (P5, warning; icmp: info), on for a resource or an always-bidirectional rule (info)" },
  { id: "unknown-group", severity: "error", meaning: "a rule, router or route names a group that does not exist" },
  { id: "unknown-reference", severity: "error", meaning: "a rule names a peer, resource or posture check that does not exist" },
  { id: "empty-group", severity: "warning", meaning: "an enabled rule names a group with no peers and no resources, so it never applies" },
  { id: "sensitive-without-posture", severity: "info", meaning: "user devices reach a sensitive destination (name or database/admin port) without posture checks" },
  { id: "shadowed-rule", severity: "warning", meaning: "a rule never decides anything because another rule covers all of it" },
  { id: "duplicate-peer-name", severity: "error", meaning: "two peers share a name, so --peer NAME cannot tell them apart" },
  { id: "peer-name-is-ip", severity: "error", meaning: "a peer is named after another peer's overlay IP, so --peer IP cannot tell them apart" },
  { id: "unknown-input", severity: "warning", meaning: "the export holds a field or value meshfilter does not know (from a newer NetBird) that changes nothing a peer accepts; ignored" },
  { id: "rejected-policy", severity: "error", meaning: "a policy holds a value meshfilter cannot read that would change what peers accept (an unknown protocol, action, resource type or posture check kind); it is left out and grants nothing" },
];

/** Names that mark a destination as sensitive: production, databases, administration, secrets, money, backups. */
const SENSITIVE_NAME = /(^|[^a-z])(prod|production|db|dbs|database|databases|postgres|mysql|admin|admins|mgmt|management|vault|secrets?|finance|payroll|backups?)([^a-z]|$)/i;
/** Ports of databases and remote administration: reaching them is sensitive whatever the group is called. */
const SENSITIVE_PORTS = new Set([22, 23, 445, 1433, 1521, 2379, 3306, 3389, 5432, 5900, 5984, 6379, 6443, 9200, 27017]);

const ref = (policy: Policy, rule: PolicyRule) => `${policy.id}/${rule.id}`;
const describe = (policy: Policy, rule: PolicyRule) => `rule "${rule.name}" of policy "${policy.name}"`;

export function lintAccount(account: Account, options: CompileOptions = {}): Finding[] {
  const lint = new AccountLint(account, options);
  lint.peerIdentities();
  lint.unreadableInput();
  lint.mixedGroups();
  for (const policy of account.policies) {
    lint.policyReferences(policy);
    for (const rule of policy.rules) {
      lint.ruleReferences(policy, rule);
      if (policy.enabled && rule.enabled) lint.rule(policy, rule);
    }
  }
  lint.routingReferences();
  lint.shadowedRules();
  return lint.findings;
}

/** The facts one rule's checks share: who its ends are, and how it is shaped. */
interface RuleShape {
  id: string;
  sources: EndMembers;
  destinations: EndMembers;
  /** Groups that are both a source and a destination: the rule makes a mesh of them. */
  meshGroups: string[];
  anyAll: boolean;
  accept: boolean;
}

/** The linter's checks over one account, each a named step; findings accumulate in order. */
class AccountLint {
  readonly findings: Finding[] = [];
  private readonly index: AccountIndex;
  private readonly roles: Roles;
  private readonly postureIds: Set<string>;

  constructor(
    private readonly account: Account,
    private readonly options: CompileOptions,
  ) {
    this.index = new AccountIndex(account);
    this.roles = new Roles(this.index);
    this.postureIds = new Set(account.postureChecks.map((c) => c.id));
  }

  private add(id: string, message: string, objects: string[], severity?: Severity): void {
    this.findings.push({ id, severity: severity ?? LINT_CHECKS.find((c) => c.id === id)!.severity, message: message[0].toUpperCase() + message.slice(1), objects });
  }
  private groupName(id: string): string {
    return this.index.groupsById.get(id)?.name ?? id;
  }
  private isAll(id: string): boolean {
    return this.index.groupsById.get(id)?.isAll === true;
  }
  private isMixed(m: EndMembers): boolean {
    return m.users.length > 0 && (m.infrastructure.length > 0 || m.resources.length > 0);
  }

  /**
   * A name must say which peer it is: NetBird lets peer names repeat, and an IP-shaped
   * name can pass for another peer's address. Either way `--peer` (and whoever reads the
   * policy) could take the wrong peer, so both are errors, naming the ids involved.
   */
  peerIdentities(): void {
    const byName = new Map<string, string[]>();
    for (const p of this.account.peers) {
      const ids = byName.get(p.name);
      if (ids) ids.push(p.id);
      else byName.set(p.name, [p.id]);
    }
    for (const [name, ids] of byName) {
      if (ids.length > 1) this.add("duplicate-peer-name", `${ids.length} peers are named "${name}" (ids ${ids.join(", ")}), so --peer ${name} and a reader cannot tell them apart; rename all but one.`, ids);
    }
    const byIp = new Map<string, string>();
    for (const p of this.account.peers) {
      byIp.set(p.ip, p.id);
      if (p.ipv6) byIp.set(p.ipv6, p.id);
    }
    for (const p of this.account.peers) {
      const owner = byIp.get(p.name);
      if (owner !== undefined && owner !== p.id) {
        this.add("peer-name-is-ip", `Peer "${p.name}" (id ${p.id}) is named after the overlay IP of peer ${owner}, so --peer ${p.name} and a reader cannot tell them apart; rename it.`, [p.id, owner]);
      }
    }
  }

  /** What the importer could not read from a newer NetBird: ignored fields, and policies left out. */
  unreadableInput(): void {
    for (const w of this.account.warnings ?? []) this.add("unknown-input", `${w.path}: ${w.message}.`, []);
    for (const r of this.account.rejectedPolicies ?? []) {
      this.add("rejected-policy", `Policy "${r.name}" is left out and grants nothing: ${r.problems.map((p) => `${p.path}: ${p.message}`).join("; ")}.`, [r.policyId]);
    }
  }

  /** The seed: keep user devices and infrastructure in separate groups. */
  mixedGroups(): void {
    for (const group of this.account.groups) {
      if (group.isAll) continue;
      const m = this.roles.members([group.id]);
      if (!this.isMixed(m)) continue;
      const server = m.infrastructure[0]?.name ?? m.resources[0].name;
      this.add("mixed-group", `Group "${group.name}" holds user devices (e.g. ${m.users[0].name}) and infrastructure (e.g. ${server}); keep users and servers in separate groups so policies say who reaches what.`, [group.id]);
    }
  }

  /** A posture check a policy requires must exist, or no source can pass it. */
  policyReferences(policy: Policy): void {
    for (const c of policy.sourcePostureChecks) {
      if (!this.postureIds.has(c)) this.add("unknown-reference", `Policy "${policy.name}" requires posture check "${c}", which does not exist, so no source peer can pass it.`, [policy.id, c]);
    }
  }

  /** The groups, peer and resource a rule names must exist (checked for disabled rules too: a mistake wherever it is). */
  ruleReferences(policy: Policy, rule: PolicyRule): void {
    const { index } = this;
    for (const end of [rule.sources, rule.destinations]) {
      for (const g of end.groups) {
        if (!index.groupsById.has(g)) this.add("unknown-group", `${describe(policy, rule)} names group "${g}", which does not exist.`, [ref(policy, rule), g]);
      }
      if (end.peer && !index.peersById.has(end.peer)) this.add("unknown-reference", `${describe(policy, rule)} names peer "${end.peer}", which does not exist.`, [ref(policy, rule), end.peer]);
      if (end.resource && !index.resourcesById.has(end.resource)) this.add("unknown-reference", `${describe(policy, rule)} names resource "${end.resource}", which does not exist.`, [ref(policy, rule), end.resource]);
    }
  }

  /** Routers and routes must name groups that exist. */
  routingReferences(): void {
    const { index } = this;
    for (const r of this.account.routers) {
      for (const g of r.peerGroups) if (!index.groupsById.has(g)) this.add("unknown-group", `Router "${r.id}" of network "${r.networkId}" names group "${g}", which does not exist.`, [r.id, g]);
    }
    for (const r of this.account.routes) {
      for (const g of [...r.peerGroups, ...r.groups, ...r.accessControlGroups]) {
        if (!index.groupsById.has(g)) this.add("unknown-group", `Route "${r.id}" names group "${g}", which does not exist.`, [r.id, g]);
      }
    }
  }

  /** A rule that another covers entirely decides nothing. */
  shadowedRules(): void {
    for (const [shadowed, by] of findShadowedRules(this.index, this.options)) {
      const why = by.rule.action === "drop" ? "its drop rule wins over everything it would match (P9)" : "it already accepts everything this rule accepts";
      this.add("shadowed-rule", `${describe(shadowed.policy, shadowed.rule)} never decides anything: ${describe(by.policy, by.rule)} covers all of it and ${why}.`, [shadowed.key, by.key]);
    }
  }

  /** The seed's practices for one enabled rule of an enabled policy. */
  rule(policy: Policy, rule: PolicyRule): void {
    const shape: RuleShape = {
      id: ref(policy, rule),
      sources: this.roles.members(rule.sources.groups, rule.sources),
      destinations: this.roles.members(rule.destinations.groups, rule.destinations),
      meshGroups: rule.sources.groups.filter((g) => rule.destinations.groups.includes(g)),
      anyAll: [...rule.sources.groups, ...rule.destinations.groups].some((g) => this.isAll(g)),
      accept: rule.action === "accept",
    };
    this.emptyGroups(policy, rule, shape);
    if (this.defaultPolicy(policy, rule, shape)) return; // the rest (mesh, protocol all, direction) restates the same problem
    this.mixedMesh(policy, rule, shape);
    this.protocolAllToInfrastructure(policy, rule, shape);
    this.infrastructureToUsers(policy, rule, shape);
    this.ineffectiveBidirectional(policy, rule, shape);
    this.sensitiveWithoutPosture(policy, rule, shape);
  }

  private emptyGroups(policy: Policy, rule: PolicyRule, { id }: RuleShape): void {
    for (const g of [...rule.sources.groups, ...rule.destinations.groups]) {
      const group = this.index.groupsById.get(g);
      if (group && this.index.peersOf(g).length === 0 && this.index.resourcesOf(g).length === 0) {
        this.add("empty-group", `${describe(policy, rule)} names group "${group.name}", which has no peers and no resources, so the rule never applies.`, [g, id]);
      }
    }
  }

  /** P2: the Default policy (All to All, every protocol) is legitimate input, and the seed says to remove it. */
  private defaultPolicy(policy: Policy, rule: PolicyRule, { id, accept }: RuleShape): boolean {
    const allToAll = rule.sources.groups.some((g) => this.isAll(g)) && rule.destinations.groups.some((g) => this.isAll(g));
    if (!(allToAll && accept && rule.protocol === "all")) return false;
    this.add("default-policy", `Policy "${policy.name}" lets every peer reach every other peer on every protocol (All to All), which undermines zero trust; replace it with specific policies and remove it.`, [policy.id, id]);
    return true;
  }

  private mixedMesh(policy: Policy, rule: PolicyRule, { id, meshGroups, accept }: RuleShape): void {
    for (const g of meshGroups) {
      if (accept && this.isMixed(this.roles.members([g]))) {
        this.add("mixed-mesh", `${describe(policy, rule)} makes group "${this.groupName(g)}" a mesh over user devices and infrastructure, so laptops and servers can all open connections to each other.`, [id, g]);
      }
    }
  }

  private protocolAllToInfrastructure(policy: Policy, rule: PolicyRule, { id, destinations, meshGroups, accept }: RuleShape): void {
    const destinationIsInfrastructure = destinations.infrastructure.length > 0 || destinations.resources.length > 0;
    if (accept && rule.protocol === "all" && meshGroups.length === 0 && destinationIsInfrastructure) {
      this.add("protocol-all-where-ports-would-do", `${describe(policy, rule)} allows every protocol and port to infrastructure; name the tcp/udp ports the service needs instead.`, [id]);
    }
  }

  /** The seed: users are the source, servers the destination. */
  private infrastructureToUsers(policy: Policy, rule: PolicyRule, { id, sources, destinations, meshGroups, anyAll, accept }: RuleShape): void {
    if (!accept || anyAll || meshGroups.length > 0) return;
    const forwardInfraToUser = sources.users.length === 0 && sources.infrastructure.length > 0 && destinations.users.length > 0;
    // Only the explicit flag counts here; a reverse that P5 adds silently is ineffective-bidirectional's finding.
    const reverseInfraToUser = rule.bidirectional && destinations.users.length === 0 && destinations.infrastructure.length > 0 && sources.users.length > 0;
    if (forwardInfraToUser || reverseInfraToUser) {
      const how = forwardInfraToUser ? "lets infrastructure open connections to user devices" : "works both ways, so infrastructure may open connections to user devices";
      this.add("infra-to-user", `${describe(policy, rule)} ${how}; a compromised server could reach laptops (users should be the source, servers the destination).`, [id]);
    }
  }

  /** P5 and P6: a bidirectional flag that changes nothing, or its absence where the rule works both ways anyway. */
  private ineffectiveBidirectional(policy: Policy, rule: PolicyRule, { id, destinations, meshGroups, anyAll }: RuleShape): void {
    const peerDestinations = destinations.users.length + destinations.infrastructure.length > 0;
    const alwaysBoth = !this.options.honourBidirectionalFlag && (rule.protocol === "all" || rule.protocol === "icmp" || (rule.ports.length === 0 && rule.portRanges.length === 0));
    const what = rule.protocol === "all" || rule.protocol === "icmp" ? `protocol ${rule.protocol}` : `${rule.protocol} without ports`;
    if (rule.bidirectional && !peerDestinations && destinations.resources.length > 0) {
      this.add("ineffective-bidirectional", `${describe(policy, rule)} is marked bidirectional, but a network resource can never open connections back (P6), so the flag has no effect.`, [id], "info");
    } else if (rule.bidirectional && alwaysBoth) {
      this.add("ineffective-bidirectional", `${describe(policy, rule)} is marked bidirectional, but ${what} is always bidirectional (P5), so the flag has no effect.`, [id], "info");
    } else if (!rule.bidirectional && alwaysBoth && peerDestinations && meshGroups.length === 0 && !anyAll) {
      // Pings back are harmless enough to mention only; any port back is real access.
      const severity = rule.protocol === "icmp" ? "info" : "warning";
      this.add("ineffective-bidirectional", `${describe(policy, rule)} is not marked bidirectional, but ${what} is always bidirectional (P5): its destinations may open connections to its sources too${rule.protocol === "icmp" ? "" : "; name ports to make it one-way"}.`, [id], severity);
    }
  }

  private sensitiveWithoutPosture(policy: Policy, rule: PolicyRule, { id, sources, destinations, accept }: RuleShape): void {
    if (!accept || policy.sourcePostureChecks.length > 0 || sources.users.length === 0) return;
    const sensitive = this.sensitiveDestination(rule, destinations);
    if (sensitive) {
      this.add("sensitive-without-posture", `${describe(policy, rule)} lets user devices reach ${sensitive} without posture checks; require e.g. a minimum NetBird version or OS version on its sources.`, [id]);
    }
  }

  /** Why the rule's destination is sensitive, or null: a sensitive name, or database/admin ports on infrastructure. */
  private sensitiveDestination(rule: PolicyRule, destinations: EndMembers): string | null {
    const named = [...rule.destinations.groups.map((g) => this.groupName(g)), ...destinations.resources.map((r) => r.name), ...(rule.destinations.peer ? [this.index.peersById.get(rule.destinations.peer)?.name ?? ""] : [])];
    const byName = named.find((n) => SENSITIVE_NAME.test(n));
    if (byName) return `"${byName}"`;
    const port = rule.ports.find((p) => SENSITIVE_PORTS.has(p)) ?? [...SENSITIVE_PORTS].find((p) => rule.portRanges.some((r) => r.start <= p && p <= r.end));
    if (port !== undefined && rule.protocol !== "icmp" && (destinations.infrastructure.length > 0 || destinations.resources.length > 0)) return `port ${port} (database or remote administration) on infrastructure`;
    return null;
  }
}
