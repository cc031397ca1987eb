// The shape of meshfilter's own policy format (JSON or YAML), written for people:
// everything is referenced by name, ports are one list of numbers and "a-b" ranges,
// and a policy with a single rule may carry the rule's fields itself. Objects are
// strict: an unknown key in a hand-written file is a typo worth reporting.
// The format is described in docs/policy-format.md.

import { z } from "zod";
import type { Collections } from "../parse-collections.ts";
import { peerMetaSchema } from "../schema-peer-meta.ts";
import { actionText, allowDeny, portItem, protocolText, versionText } from "../schema-common.ts";

const names = z.array(z.string());

const peer = z.strictObject({
  name: z.string(),
  ip: z.string(),
  ipv6: z.string().optional(),
  /** The user who enrolled the peer: a user device, inheriting the user's groups. */
  user: z.string().optional(),
  /** The setup key the peer registered with: infrastructure, inheriting the key's groups. */
  setup_key: z.string().optional(),
  groups: names.optional(),
  meta: peerMetaSchema.optional(),
});

const user = z.strictObject({ name: z.string(), groups: names.optional() });

const setupKey = z.strictObject({ name: z.string(), groups: names.optional() });

const group = z.union([z.string(), z.strictObject({ name: z.string(), peers: names.optional(), resources: names.optional() })], {
  error: "expected a group name or an object {name, peers, resources}",
});

const resource = z.strictObject({
  name: z.string(),
  description: z.string().optional(),
  address: z.string(),
  groups: names.optional(),
  enabled: z.boolean().optional(),
});

const router = z.strictObject({
  peer: z.string().optional(),
  groups: names.optional(),
  masquerade: z.boolean().optional(),
  enabled: z.boolean().optional(),
});

const network = z.strictObject({
  name: z.string(),
  description: z.string().optional(),
  routers: z.array(router).optional(),
  resources: z.array(resource).optional(),
});

const route = z.strictObject({
  name: z.string(),
  description: z.string().optional(),
  network_id: z.string().optional(),
  network: z.string().optional(),
  domains: names.optional(),
  peer: z.string().optional(),
  peer_groups: names.optional(),
  groups: names.optional(),
  access_control_groups: names.optional(),
  masquerade: z.boolean().optional(),
  enabled: z.boolean().optional(),
});

const location = z.union([z.string(), z.strictObject({ country: z.string(), city: z.string().optional() })], {
  error: 'expected a country code like "DE" or an object {country, city}',
});

const postureCheck = z.strictObject({
  name: z.string(),
  description: z.string().optional(),
  /** Minimum NetBird agent version. */
  nb_version: versionText.optional(),
  /** Minimum OS version per OS; for linux and windows it is the kernel version. */
  os_version: z
    .strictObject({
      android: versionText.optional(),
      darwin: versionText.optional(),
      ios: versionText.optional(),
      linux: versionText.optional(),
      windows: versionText.optional(),
    })
    .optional(),
  geo_location: z.strictObject({ action: allowDeny, locations: z.array(location) }).optional(),
  network_range: z.strictObject({ action: allowDeny, ranges: names }).optional(),
  processes: z.array(z.strictObject({ linux: z.string().optional(), mac: z.string().optional(), windows: z.string().optional() })).optional(),
});

/** The fields of one rule; a single-rule policy may carry them directly. */
const ruleFields = {
  description: z.string().optional(),
  enabled: z.boolean().optional(),
  action: actionText.optional(),
  bidirectional: z.boolean().optional(),
  protocol: protocolText.optional(),
  ports: z.array(portItem).optional(),
  sources: names.optional(),
  destinations: names.optional(),
  source_resource: z.string().optional(),
  destination_resource: z.string().optional(),
  source_peer: z.string().optional(),
  destination_peer: z.string().optional(),
};

const rule = z.strictObject({ name: z.string().optional(), ...ruleFields });

const RULE_KEYS = ["action", "bidirectional", "protocol", "ports", "sources", "destinations", "source_resource", "destination_resource", "source_peer", "destination_peer"] as const;

const policy = z
  .strictObject({
    name: z.string(),
    posture_checks: names.optional(),
    rules: z.array(rule).optional(),
    ...ruleFields,
  })
  .superRefine(
    (p, ctx) => {
      // Runs even when other fields have issues (see `when`), so it must not trust `p`'s shape.
      if (typeof p !== "object" || p === null || p.rules === undefined) return;
      for (const key of RULE_KEYS) {
        if (p[key] !== undefined) {
          ctx.addIssue({ code: "custom", path: [key], message: `"${key}" belongs in a rule: a policy either lists "rules" or is itself a single rule, not both` });
        }
      }
    },
    { when: () => true },
  );

/** Each collection's item schema; collections are parsed item by item (see parse-collections.ts). */
export const meshfilterCollections = {
  peers: peer,
  users: user,
  setup_keys: setupKey,
  groups: group,
  networks: network,
  routes: route,
  posture_checks: postureCheck,
  policies: policy,
};

export type MeshfilterDocument = Collections<typeof meshfilterCollections>;
export type MeshfilterRule = z.infer<typeof rule>;
