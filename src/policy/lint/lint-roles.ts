// Who is a user device and what is infrastructure. NetBird draws no technical line
// between "user groups" and "peer groups"; the seed draws it by how a peer joined:
// - a peer enrolled by a user (userId) is a user device;
// - a peer registered with a setup key and no user is infrastructure;
// - a peer with neither (an export that lost the enrolment) is a user device when it
//   holds a user's auto-group, infrastructure otherwise.
// Network resources are infrastructure.

import type { AccountIndex } from "../model/effective-groups.ts";
import type { NetworkResource, Peer, RuleEnd } from "../model/model.ts";

export type Role = "user" | "infrastructure";

/** Peers and resources on one end of a rule, split by role. */
export interface EndMembers {
  users: Peer[];
  infrastructure: Peer[];
  resources: NetworkResource[];
}

export class Roles {
  private readonly userGroupIds: Set<string>;
  private readonly roleOf = new Map<string, Role>();

  constructor(private readonly index: AccountIndex) {
    this.userGroupIds = new Set(index.account.users.flatMap((u) => u.autoGroups));
  }

  role(peer: Peer): Role {
    let role = this.roleOf.get(peer.id);
    if (!role) {
      if (peer.userId) role = "user";
      else if (peer.setupKeyId) role = "infrastructure";
      else role = peer.groups.some((g) => this.userGroupIds.has(g)) ? "user" : "infrastructure";
      this.roleOf.set(peer.id, role);
    }
    return role;
  }

  /** The members of some groups (plus a single peer or resource), split by role. */
  members(groups: readonly string[], single: Pick<RuleEnd, "peer" | "resource"> = {}): EndMembers {
    const peers = this.index.peersOfGroups(groups);
    const lone = single.peer ? this.index.peersById.get(single.peer) : undefined;
    if (lone && !peers.includes(lone)) peers.push(lone);
    const resources = new Set<NetworkResource>();
    for (const g of groups) for (const r of this.index.resourcesOf(g)) resources.add(r);
    const named = single.resource ? this.index.resourcesById.get(single.resource) : undefined;
    if (named) resources.add(named);
    return {
      users: peers.filter((p) => this.role(p) === "user"),
      infrastructure: peers.filter((p) => this.role(p) === "infrastructure"),
      resources: [...resources],
    };
  }
}
