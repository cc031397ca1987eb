// Who is in which group. A peer's effective groups are its direct groups, its user's
// auto_groups, its setup key's auto_groups and the All group(s); a peer is a member of
// group G when G lists it in `peers` or G is one of its effective groups. Computed once
// per account (one pass over the peers), so compiling a rule never scans all peers.

import type { Account, Group, NetworkResource, Peer } from "./model.ts";

/** Lookup tables over one account: peers, groups, resources and effective membership both ways. */
export class AccountIndex {
  readonly peersById = new Map<string, Peer>();
  readonly groupsById = new Map<string, Group>();
  readonly resourcesById = new Map<string, NetworkResource>();
  private readonly groupsOfPeer = new Map<string, Set<string>>();
  private readonly peersOfGroup = new Map<string, Peer[]>();
  private readonly resourcesOfGroup = new Map<string, NetworkResource[]>();

  constructor(readonly account: Account) {
    for (const g of account.groups) this.groupsById.set(g.id, g);
    for (const r of account.resources) this.resourcesById.set(r.id, r);
    const userGroups = new Map(account.users.map((u) => [u.id, u.autoGroups]));
    const keyGroups = new Map(account.setupKeys.map((k) => [k.id, k.autoGroups]));
    const allGroups = account.groups.filter((g) => g.isAll).map((g) => g.id);
    for (const peer of account.peers) {
      this.peersById.set(peer.id, peer);
      const groups = new Set<string>(peer.groups);
      for (const g of (peer.userId && userGroups.get(peer.userId)) || []) groups.add(g);
      for (const g of (peer.setupKeyId && keyGroups.get(peer.setupKeyId)) || []) groups.add(g);
      for (const g of allGroups) groups.add(g);
      this.groupsOfPeer.set(peer.id, groups);
    }
    // Groups that list a peer explicitly make it a member too, even without the peer listing them.
    for (const g of account.groups) {
      for (const id of g.peers) this.groupsOfPeer.get(id)?.add(g.id);
    }
    for (const peer of account.peers) {
      for (const g of this.groupsOfPeer.get(peer.id)!) {
        let members = this.peersOfGroup.get(g);
        if (!members) this.peersOfGroup.set(g, (members = []));
        members.push(peer);
      }
    }
    const addResource = (groupId: string, r: NetworkResource): void => {
      let list = this.resourcesOfGroup.get(groupId);
      if (!list) this.resourcesOfGroup.set(groupId, (list = []));
      if (!list.includes(r)) list.push(r);
    };
    for (const r of account.resources) for (const g of r.groups) addResource(g, r);
    for (const g of account.groups) {
      for (const id of g.resources) {
        const r = this.resourcesById.get(id);
        if (r) addResource(g.id, r);
      }
    }
  }

  /** Every group the peer is a member of (effective groups plus groups listing it). */
  membershipsOf(peerId: string): ReadonlySet<string> {
    return this.groupsOfPeer.get(peerId) ?? new Set();
  }

  /** The peers that are members of a group (empty for an unknown group). */
  peersOf(groupId: string): readonly Peer[] {
    return this.peersOfGroup.get(groupId) ?? [];
  }

  /** The network resources in a group (listed by the group or naming the group). */
  resourcesOf(groupId: string): readonly NetworkResource[] {
    return this.resourcesOfGroup.get(groupId) ?? [];
  }

  /** True when the peer is a member of at least one of the groups. */
  inAnyGroup(peerId: string, groupIds: readonly string[]): boolean {
    const memberships = this.groupsOfPeer.get(peerId);
    return !!memberships && groupIds.some((g) => memberships.has(g));
  }

  /** The distinct peers of several groups, in first-seen order. */
  peersOfGroups(groupIds: readonly string[]): Peer[] {
    if (groupIds.length === 1) return [...this.peersOf(groupIds[0])];
    const seen = new Set<Peer>();
    for (const g of groupIds) for (const p of this.peersOf(g)) seen.add(p);
    return [...seen];
  }
}
