// The shape of a NetBird management export: one object whose keys are the API's
// collections, each holding what the list endpoint returns (field names as in the
// management API schemas). Fields a filter does not need are ignored (zod strips them);
// fields the API does not define are reported as warnings by netbird-unknown.ts. Rule
// protocols and actions are read as text here: an unknown one rejects its policy only
// (netbird-import.ts), not the whole account.

import { z } from "zod";
import type { Collections } from "../parse-collections.ts";
import { peerMetaFields } from "../schema-peer-meta.ts";
import { allowDeny, list, optionalText, portItem, versionText } from "../schema-common.ts";

/** A group reference: a group id, or a GroupMinimum object ({id, name, ...}). */
const groupRef = z.union([z.string(), z.looseObject({ id: z.string() })], {
  error: "expected a group id or a group object with an id",
});

/** A member reference in a group's `peers` / `resources`: an id or an object with an id. */
const memberRef = z.union([z.string(), z.looseObject({ id: z.string() })], {
  error: "expected an id or an object with an id",
});

const peer = z.object({
  id: z.string(),
  name: z.string(),
  ip: z.string(),
  ipv6: optionalText,
  groups: list(groupRef),
  user_id: optionalText,
  // Not in NetBird's API (peers do not say which key registered them); accepted so an
  // export can be completed by hand. Either spelling.
  setup_key: optionalText,
  setup_key_id: optionalText,
  ...peerMetaFields,
  os: z.string().nullish(),
  // The FQDN ("stage-host-1.netbird.cloud"), despite the name.
  dns_label: optionalText,
  ssh_enabled: z.boolean().nullish(),
  local_flags: z.looseObject({ server_ssh_allowed: z.boolean().nullish() }).nullish(),
});

const group = z.object({
  id: z.string(),
  name: z.string(),
  peers: list(memberRef),
  resources: list(memberRef),
});

const user = z.object({
  id: z.string(),
  name: optionalText,
  auto_groups: list(z.string()),
});

const setupKey = z.object({
  id: z.string(),
  name: optionalText,
  auto_groups: list(z.string()),
});

const minVersion = z.object({ min_version: versionText });
const minKernelVersion = z.object({ min_kernel_version: versionText });

const postureCheck = z.object({
  id: z.string(),
  name: z.string(),
  description: optionalText,
  checks: z.object({
    nb_version_check: minVersion.nullish(),
    os_version_check: z
      .object({
        android: minVersion.nullish(),
        darwin: minVersion.nullish(),
        ios: minVersion.nullish(),
        linux: minKernelVersion.nullish(),
        windows: minKernelVersion.nullish(),
      })
      .nullish(),
    geo_location_check: z
      .object({
        locations: z.array(z.object({ country_code: z.string(), city_name: optionalText })),
        action: allowDeny,
      })
      .nullish(),
    peer_network_range_check: z.object({ ranges: z.array(z.string()), action: allowDeny }).nullish(),
    process_check: z
      .object({
        processes: z.array(z.object({ linux_path: optionalText, mac_path: optionalText, windows_path: optionalText })),
      })
      .nullish(),
  }),
});

/** A rule's sourceResource / destinationResource: {id, type}; type "peer" names a peer. */
const ruleResource = z.object({ id: z.string(), type: z.string().optional() }).nullish();

const rule = z.object({
  id: optionalText,
  name: optionalText,
  description: optionalText,
  enabled: z.boolean().default(true),
  action: z.string().default("accept"),
  bidirectional: z.boolean().default(false),
  protocol: z.string().default("all"),
  ports: list(portItem),
  port_ranges: list(z.object({ start: z.number().int(), end: z.number().int() })),
  sources: list(groupRef),
  destinations: list(groupRef),
  sourceResource: ruleResource,
  destinationResource: ruleResource,
});

const policy = z.object({
  id: z.string(),
  name: z.string(),
  description: optionalText,
  enabled: z.boolean().default(true),
  source_posture_checks: list(z.string()),
  rules: list(rule),
});

const networkResource = z.object({
  id: z.string(),
  name: z.string(),
  description: optionalText,
  // The API's type (host, subnet, domain) is what the address says (resource-address.ts).
  address: z.string(),
  enabled: z.boolean().default(true),
  groups: list(groupRef),
  // Not in the API object: the network it was listed under (GET /networks/{id}/resources), as `pull` writes it.
  network_id: optionalText,
});

const networkRouter = z.object({
  id: z.string(),
  peer: optionalText,
  peer_groups: list(z.string()),
  masquerade: z.boolean().default(true),
  enabled: z.boolean().default(true),
  network_id: optionalText,
});

const network = z.object({
  id: z.string(),
  name: z.string(),
  description: optionalText,
  // GET /networks returns ids here, whose objects are in the export's network_resources
  // and network_routers; an export may also inline the objects.
  resources: list(z.union([z.string(), networkResource])),
  routers: list(z.union([z.string(), networkRouter])),
});

const route = z.object({
  id: z.string(),
  network_id: optionalText,
  description: optionalText,
  enabled: z.boolean().default(true),
  peer: optionalText,
  peer_groups: list(z.string()),
  network: optionalText,
  domains: list(z.string()),
  groups: list(z.string()),
  access_control_groups: list(z.string()),
  masquerade: z.boolean().default(true),
});

/** Each collection's item schema; collections are parsed item by item (see parse-collections.ts). */
export const netbirdCollections = {
  peers: peer,
  groups: group,
  users: user,
  setup_keys: setupKey,
  posture_checks: postureCheck,
  policies: policy,
  networks: network,
  network_resources: networkResource,
  network_routers: networkRouter,
  routes: route,
};

export type NetBirdExport = Collections<typeof netbirdCollections>;
export type NetBirdRule = z.infer<typeof rule>;
export type NetBirdNetworkResource = z.infer<typeof networkResource>;
export type NetBirdNetworkRouter = z.infer<typeof networkRouter>;
