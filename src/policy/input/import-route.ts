// NetBird's legacy route object, which meshfilter's format spells the same way (only the
// id field differs): both importers turn it into the model's Route here, so the two
// formats cannot drift apart.

import type { Route } from "../model/model.ts";
import type { SourceMap } from "./source-map.ts";

/** The route fields both formats share, by NetBird's API names. */
export interface RouteFields {
  network_id?: string;
  network?: string;
  domains?: string[];
  peer?: string;
  peer_groups?: string[];
  groups?: string[];
  access_control_groups?: string[];
  masquerade?: boolean;
  enabled?: boolean;
}

/** The Route with id `id`: absent lists are empty, an absent network id is the route's own id, absent `enabled` and `masquerade` are true (NetBird's defaults). */
export function importRoute(id: string, r: RouteFields, path: string, where: SourceMap): Route {
  const route: Route = {
    id,
    networkId: r.network_id ?? id,
    network: r.network ?? "",
    domains: r.domains ?? [],
    peerGroups: r.peer_groups ?? [],
    groups: r.groups ?? [],
    accessControlGroups: r.access_control_groups ?? [],
    masquerade: r.masquerade ?? true,
    enabled: r.enabled ?? true,
  };
  if (r.peer !== undefined) route.peer = r.peer;
  where.record(route, path, { peerGroups: `${path}.peer_groups`, accessControlGroups: `${path}.access_control_groups` });
  return route;
}
