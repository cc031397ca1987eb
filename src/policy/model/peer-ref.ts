// Which peer a `--peer` argument (or an API's `self`) names: an id, a name, an overlay
// IPv4/IPv6 address, the FQDN NetBird's API gives in `dns_label`
// ("stage-host-1.netbird.cloud"), or the bare DNS label before the account's domain
// ("stage-host-1"). One resolver for every command and API, because a first-match rule
// is how an impostor gets picked: NetBird lets names repeat (it de-duplicates only the
// DNS label), and a peer may be *named* "100.64.0.20" beside the peer whose IP that is.
// Every peer the argument could mean is collected; more than one is an error listing
// them, so the operator picks by id, IP or FQDN. No match suggests the closest name.

import { PolicyError, type Peer } from "./model.ts";
import { suggestionFor } from "./suggest.ts";

/** No peer, or more than one, answers to the name given; a PolicyError, so callers that reject a policy reject this too. */
export class PeerRefError extends PolicyError {
  constructor(
    /** The id, name, IP, FQDN or DNS label as given. */
    readonly self: string,
    /** What is wrong, e.g. `no peer has id, name, IP, FQDN or DNS label "db1"; did you mean "db-1"?`. */
    readonly detail: string,
    /** Every id, name, IP, FQDN and DNS label in the policy, for a "did you mean". */
    readonly known: readonly string[],
  ) {
    super([{ path: "$.peers", message: detail }]);
    this.name = "PeerRefError";
  }
}

/** The bare label of a FQDN ("stage-host-1.netbird.cloud" -> "stage-host-1"). */
const labelOf = (fqdn: string): string => fqdn.split(".")[0];

/** The ways `self` names `peer`, case-insensitive for DNS names as DNS is. */
function namedBy(peer: Peer, self: string): string[] {
  const by: string[] = [];
  if (peer.id === self) by.push("id");
  if (peer.name === self) by.push("name");
  if (peer.ip === self || peer.ipv6 === self) by.push("IP");
  if (peer.dnsLabel !== undefined) {
    const name = self.toLowerCase().replace(/\.$/, "");
    if (peer.dnsLabel === name) by.push("FQDN");
    else if (!name.includes(".") && labelOf(peer.dnsLabel) === name) by.push("DNS label");
  }
  return by;
}

function knownRefs(peers: readonly Peer[]): string[] {
  return [...new Set(peers.flatMap((p) => [p.name, p.id, p.ip, ...(p.ipv6 ? [p.ipv6] : []), ...(p.dnsLabel ? [p.dnsLabel, labelOf(p.dnsLabel)] : [])]))];
}

/** The one peer `self` names by id, name, IP, FQDN or DNS label. Throws PeerRefError when none does, or several do. */
export function resolvePeer(peers: readonly Peer[], self: string): Peer {
  const matches: { peer: Peer; by: string[] }[] = [];
  for (const peer of peers) {
    const by = namedBy(peer, self);
    if (by.length > 0) matches.push({ peer, by });
  }
  if (matches.length === 1) return matches[0].peer;
  if (matches.length === 0) {
    const names = peers.flatMap((p) => [p.name, ...(p.dnsLabel ? [p.dnsLabel, labelOf(p.dnsLabel)] : [])]);
    const hint = suggestionFor(self, [...new Set(names)].map((id) => ({ id })));
    throw new PeerRefError(self, `no peer has id, name, IP, FQDN or DNS label ${JSON.stringify(self)}${hint}`, knownRefs(peers));
  }
  const candidates = matches.map(
    ({ peer, by }) =>
      `id ${JSON.stringify(peer.id)} (name ${JSON.stringify(peer.name)}, IP ${peer.ip}${peer.ipv6 ? `, ${peer.ipv6}` : ""}${peer.dnsLabel ? `, FQDN ${peer.dnsLabel}` : ""}; matched by ${by.join(" and ")})`,
  );
  throw new PeerRefError(
    self,
    `${JSON.stringify(self)} is ambiguous: it names ${matches.length} peers: ${candidates.join("; ")}; name the peer by its id, IP or FQDN`,
    knownRefs(peers),
  );
}
