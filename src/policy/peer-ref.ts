// Which peer a `--peer` argument (or an API's `self`) names: an id, a name, or an
// overlay IPv4/IPv6 address. One resolver for every command and API, because a
// first-match rule is how an impostor gets picked: an export may hold two peers named
// db-1 (NetBird lets names repeat), or a peer *named* "100.64.0.20" beside the peer
// whose IP that is. Every peer the argument could mean is collected; more than one is
// an error listing them, so the operator picks by id or IP.

import { PolicyError, type Peer } from "./model.ts";

/** No peer, or more than one, answers to the name given; a PolicyError, so callers that reject a policy reject this too. */
export class PeerRefError extends PolicyError {
  constructor(
    /** The id, name or IP as given. */
    readonly self: string,
    /** What is wrong, e.g. `no peer has id, name or IP "db1"`. */
    readonly detail: string,
    /** Every id, name and IP in the policy, for a "did you mean". */
    readonly known: readonly string[],
  ) {
    super([{ path: "$.peers", message: detail }]);
    this.name = "PeerRefError";
  }
}

function knownRefs(peers: readonly Peer[]): string[] {
  return peers.flatMap((p) => [p.name, p.id, p.ip, ...(p.ipv6 ? [p.ipv6] : [])]);
}

/** The one peer `self` names by id, name, IPv4 or IPv6. Throws PeerRefError when none does, or several do. */
export function resolvePeer(peers: readonly Peer[], self: string): Peer {
  const matches: { peer: Peer; by: string[] }[] = [];
  for (const peer of peers) {
    const by: string[] = [];
    if (peer.id === self) by.push("id");
    if (peer.name === self) by.push("name");
    if (peer.ip === self || peer.ipv6 === self) by.push("IP");
    if (by.length > 0) matches.push({ peer, by });
  }
  if (matches.length === 1) return matches[0].peer;
  if (matches.length === 0) throw new PeerRefError(self, `no peer has id, name or IP ${JSON.stringify(self)}`, knownRefs(peers));
  const candidates = matches.map(({ peer, by }) => `id ${JSON.stringify(peer.id)} (name ${JSON.stringify(peer.name)}, IP ${peer.ip}${peer.ipv6 ? `, ${peer.ipv6}` : ""}; matched by ${by.join(" and ")})`);
  throw new PeerRefError(self, `${JSON.stringify(self)} is ambiguous: it names ${matches.length} peers: ${candidates.join("; ")}; name the peer by its id or IP`, knownRefs(peers));
}
