// The fields NetBird's management API defines on each object an account export holds
// (reference/netbird/netbird-openapi.yml; a test checks these lists against it). A field
// outside them comes from a newer NetBird: it is reported as a warning with its JSON
// path, since meshfilter cannot know what it means (see netbird-unknown.ts).

/** Known fields per object kind, as the API's schemas name them. */
export const NETBIRD_API_FIELDS = {
  Peer: [
    "id", "name", "created_at", "ip", "ipv6", "connection_ip", "connected", "last_seen", "os", "kernel_version", "geoname_id",
    "version", "groups", "ssh_enabled", "user_id", "hostname", "ui_version", "dns_label", "login_expiration_enabled",
    "login_expired", "last_login", "inactivity_expiration_enabled", "approval_required", "disapproval_reason", "country_code",
    "city_name", "serial_number", "extra_dns_labels", "ephemeral", "local_flags", "accessible_peers_count",
  ],
  PeerLocalFlags: [
    "rosenpass_enabled", "rosenpass_permissive", "server_ssh_allowed", "disable_client_routes", "disable_server_routes",
    "disable_dns", "disable_firewall", "block_lan_access", "block_inbound", "lazy_connection_enabled",
  ],
  Group: ["id", "name", "peers_count", "resources_count", "issued", "peers", "resources"],
  Policy: ["id", "name", "description", "enabled", "source_posture_checks", "rules"],
  PolicyRule: [
    "id", "name", "description", "enabled", "action", "bidirectional", "protocol", "ports", "port_ranges", "authorized_groups",
    "sources", "sourceResource", "destinations", "destinationResource",
  ],
  PostureCheck: ["id", "name", "description", "checks"],
  Checks: ["nb_version_check", "os_version_check", "geo_location_check", "peer_network_range_check", "process_check"],
  Route: [
    "id", "network_type", "description", "network_id", "enabled", "peer", "peer_groups", "network", "domains", "metric",
    "masquerade", "groups", "keep_route", "access_control_groups", "skip_auto_apply",
  ],
  Network: ["id", "name", "description", "routers", "routing_peers_count", "resources", "policies"],
  NetworkResource: ["id", "type", "groups", "name", "description", "address", "enabled"],
  NetworkRouter: ["id", "peer", "peer_groups", "metric", "masquerade", "enabled"],
  User: [
    "id", "email", "password", "name", "role", "status", "last_login", "auto_groups", "is_current", "is_service_user",
    "is_blocked", "pending_approval", "issued", "idp_id", "permissions",
  ],
  SetupKey: [
    "id", "name", "expires", "type", "valid", "revoked", "used_times", "last_used", "state", "auto_groups", "updated_at",
    "usage_limit", "ephemeral", "allow_extra_dns_labels", "key",
  ],
} as const satisfies Record<string, readonly string[]>;

export type NetBirdObjectKind = keyof typeof NETBIRD_API_FIELDS;

/** Fields an export may carry beyond the API's: what meshfilter's importer reads from a hand-completed export, and what `meshfilter pull` adds. */
export const EXPORT_EXTRA_FIELDS: Partial<Record<NetBirdObjectKind, readonly string[]>> = {
  // Peers do not say which setup key registered them; an export may be completed by hand.
  Peer: ["setup_key", "setup_key_id", "os_version", "network_addresses", "processes"],
  // `pull` records which network a resource or router came from (GET /networks/{id}/resources).
  NetworkResource: ["network_id"],
  NetworkRouter: ["network_id"],
};

/** The API's enum values meshfilter reads, per field: another value comes from a newer NetBird. */
export const NETBIRD_API_ENUMS = {
  "PolicyRule.protocol": ["all", "tcp", "udp", "icmp", "netbird-ssh"],
  "PolicyRule.action": ["accept", "drop"],
  "NetworkResource.type": ["host", "subnet", "domain"],
  "Resource.type": ["host", "subnet", "domain", "peer"],
} as const satisfies Record<string, readonly string[]>;
