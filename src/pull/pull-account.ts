// `meshfilter pull`'s work: read an account from a NetBird management API, collection by
// collection, into one export document that every other command reads (the NetBird
// format of docs/policy-format.md). Networks keep the id lists GET /api/networks returns;
// their resources and routers (GET /api/networks/{id}/resources and /routers) go to
// network_resources and network_routers with the network's id. Each response is checked
// against the importer's schema as it arrives, so a response of the wrong shape is named
// by its endpoint and JSON path.

import { formatPath } from "../policy/input/json-path.ts";
import { netbirdCollections } from "../policy/input/netbird/schema-netbird.ts";
import { problemsFromZod } from "../policy/input/zod-problems.ts";
import type { NetBirdApiClient } from "./api-client.ts";
import { PullError } from "./pull-error.ts";

/** The export's collections and the endpoint each comes from. */
const ENDPOINTS = [
  ["peers", "/api/peers"],
  ["groups", "/api/groups"],
  ["users", "/api/users"],
  ["posture_checks", "/api/posture-checks"],
  ["policies", "/api/policies"],
  ["routes", "/api/routes"],
  ["networks", "/api/networks"],
] as const;

type Collection = keyof typeof netbirdCollections;
type Item = Record<string, unknown>;

export interface PulledAccount {
  /** The export document, ready to be written as JSON. */
  document: Record<string, unknown>;
  /** Items per collection. */
  counts: Record<string, number>;
}

/** Fetch every collection; `progress` is told each endpoint as it is read. Throws PullError. */
export async function pullAccount(client: NetBirdApiClient, progress: (step: string) => void = () => {}): Promise<PulledAccount> {
  const document: Record<string, unknown> = { format: "netbird" };
  const fetchList = async (collection: Collection, path: string, extra: Item = {}): Promise<Item[]> => {
    progress(path);
    const body = await client.getJson(path);
    const items = checkList(body, collection, client.describe(path));
    return items.map((item) => ({ ...item, ...extra }));
  };
  for (const [collection, path] of ENDPOINTS) document[collection] = await fetchList(collection, path);
  const resources: Item[] = [];
  const routers: Item[] = [];
  for (const network of document.networks as Item[]) {
    const id = encodeURIComponent(String(network.id));
    resources.push(...(await fetchList("network_resources", `/api/networks/${id}/resources`, { network_id: network.id })));
    routers.push(...(await fetchList("network_routers", `/api/networks/${id}/routers`, { network_id: network.id })));
  }
  document.network_resources = resources;
  document.network_routers = routers;
  const counts: Record<string, number> = {};
  for (const [key, value] of Object.entries(document)) if (Array.isArray(value)) counts[key] = value.length;
  return { document, counts };
}

/** The response as a list of objects the importer can read, or a PullError naming the first mismatch. */
function checkList(body: unknown, collection: Collection, request: string): Item[] {
  if (!Array.isArray(body)) {
    throw new PullError(`${request}: the response does not match NetBird's API: $ should be a list, found ${body === null ? "null" : typeof body}`);
  }
  body.forEach((item, index) => {
    const parsed = netbirdCollections[collection].safeParse(item);
    if (!parsed.success) {
      const [first] = problemsFromZod(parsed.error);
      throw new PullError(`${request}: the response does not match NetBird's API: ${formatPath([index])}${first.path.slice(1)}: ${first.message}`);
    }
  });
  return body as Item[];
}
