// One canonical Account, whatever the input said and however it said it, so that the
// same account written as a NetBird export or in meshfilter's format loads equal:
//
// - The All group always exists (NetBird accounts always have it; meshfilter files may
//   use "All" without declaring it). It lists every peer.
// - Membership is one relation seen from both sides: NetBird lists it on peers AND on
//   groups, meshfilter's format on either. After loading, Peer.groups and Group.peers
//   (likewise NetworkResource.groups and Group.resources) list the same pairs.
// - A peer's groups leave out All and the groups it inherits from its user's or its
//   setup key's auto_groups: NetBird copies those onto the peer at registration,
//   meshfilter's format does not, and the effective groups (direct ∪ inherited ∪ All,
//   computed at compile time) are the same either way.
// - A port range of one port ({start: 443, end: 443}, NetBird's way of mixing single
//   ports and ranges) becomes a single port; duplicates are dropped.

import type { Account, Group, PolicyRule } from "./model.ts";

export const ALL_GROUP_NAME = "All";

/** Add the All group when the input has none (its id is "All"). Run before validation. */
export function ensureAllGroup(account: Account): void {
  if (!account.groups.some((g) => g.isAll)) {
    account.groups.unshift({ id: ALL_GROUP_NAME, name: ALL_GROUP_NAME, peers: [], resources: [], isAll: true });
  }
}

/** Bring a valid account to the canonical form described above (in place). */
export function normalizeAccount(account: Account): Account {
  normalizePeerMembership(account);
  normalizeResourceMembership(account);
  for (const policy of account.policies) for (const rule of policy.rules) normalizePorts(rule);
  return account;
}

// Large accounts (thousands of peers, hundreds of groups) must load fast: membership
// is built once as sets, never by scanning lists inside loops.
function normalizePeerMembership(account: Account): void {
  const members = membershipOf(account.groups, (g) => g.peers, account.peers);
  const userGroups = new Map(account.users.map((u) => [u.id, u.autoGroups]));
  const keyGroups = new Map(account.setupKeys.map((k) => [k.id, k.autoGroups]));
  for (const peer of account.peers) {
    const groups = members.get(peer.id)!;
    for (const id of (peer.userId !== undefined && userGroups.get(peer.userId)) || []) groups.delete(id);
    for (const id of (peer.setupKeyId !== undefined && keyGroups.get(peer.setupKeyId)) || []) groups.delete(id);
  }
  assignBothSides(account.groups, account.peers, members, (g, ids) => (g.peers = g.isAll ? account.peers.map((p) => p.id) : ids));
}

function normalizeResourceMembership(account: Account): void {
  const members = membershipOf(account.groups, (g) => g.resources, account.resources);
  assignBothSides(account.groups, account.resources, members, (g, ids) => (g.resources = ids));
}

/** Member id -> group ids, from both the groups' member lists and the members' group lists. */
function membershipOf(groups: Group[], listedBy: (g: Group) => string[], members: { id: string; groups: string[] }[]): Map<string, Set<string>> {
  const membership = new Map<string, Set<string>>();
  for (const member of members) membership.set(member.id, new Set(member.groups));
  for (const group of groups) for (const id of listedBy(group)) membership.get(id)?.add(group.id);
  return membership;
}

/** Write one membership relation onto both sides, in the order of the account's lists; All is never on the member side. */
function assignBothSides(groups: Group[], members: { id: string; groups: string[] }[], membership: Map<string, Set<string>>, setGroupMembers: (g: Group, ids: string[]) => void): void {
  const byGroup = new Map<string, string[]>(groups.map((g) => [g.id, []]));
  for (const member of members) {
    const of = membership.get(member.id)!;
    member.groups = groups.filter((g) => !g.isAll && of.has(g.id)).map((g) => g.id);
    for (const id of member.groups) byGroup.get(id)?.push(member.id);
  }
  for (const group of groups) setGroupMembers(group, byGroup.get(group.id) ?? []);
}

function normalizePorts(rule: PolicyRule): void {
  const ports = [...rule.ports];
  const ranges: PolicyRule["portRanges"] = [];
  for (const range of rule.portRanges) {
    if (range.start === range.end) ports.push(range.start);
    else if (!ranges.some((r) => r.start === range.start && r.end === range.end)) ranges.push(range);
  }
  rule.ports = [...new Set(ports)];
  rule.portRanges = ranges;
}
