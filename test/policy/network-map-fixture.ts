// NetworkMaps for peers of examples/netbird-api-account.json, written out as NetBird's
// management server computes them (management/server/types/account.go,
// connResourcesGenerator and ExpandPortsAndRanges; shared/management/networkmap/encode.go)
// and built through NetBird's management.proto with protobufjs, so that only messages the
// proto accepts come out. Not made by meshfilter's compiler: the point is to compare them.

import protobuf from "protobufjs";
import { managementProto } from "../../src/policy/input/netbird/network-map.ts";

const ALICE = "100.64.0.10";
const WEB = "100.64.0.30";
const DB = "100.64.0.20";
const POLICY = { engDb: "d4q0m08hhcjc73bq5l00", webDb: "d4q0m08hhcjc73bq5l0g", ssh: "d4q0m08hhcjc73bq5l10", web: "d4q0m08hhcjc73bq5l1g", office: "d4q0m08hhcjc73bq5l30", lab: "d4q0m08hhcjc73bq5l3g" };

const b64 = (bytes: number[] | string) => Buffer.from(bytes as never).toString("base64");
/** NetBird's compact prefix of a host: the 4 address bytes and the prefix length 32. */
const hostBytes = (ip: string) => b64([...ip.split(".").map(Number), 32]);

/** One FirewallRule as protojson writes it (proto names, enums by name, bytes in base64). */
function fw(peerIp: string, direction: "IN" | "OUT", protocol: string, port: string, policyId: string) {
  return { PeerIP: peerIp, Direction: direction, Action: "ACCEPT", Protocol: protocol, Port: port, PolicyID: b64(policyId), sourcePrefixes: [hostBytes(peerIp)] };
}

function routeRule(source: string, destination: string, protocol: string, portInfo: object, policyId: string, routeId: string, domains: string[] = []) {
  return { sourceRanges: [`${source}/32`], action: "ACCEPT", destination, protocol, portInfo, isDynamic: domains.length > 0, domains, PolicyID: b64(policyId), RouteID: routeId };
}

/** The NetworkMap (protobuf JSON, proto field names) NetBird sends each peer. */
export const NETWORK_MAPS: Record<string, object> = {
  "db-1": {
    Serial: "42",
    peerConfig: { address: `${DB}/16`, fqdn: "db-1.netbird.cloud" },
    FirewallRules: [
      fw(ALICE, "IN", "TCP", "5432", POLICY.engDb),
      fw(WEB, "IN", "TCP", "5432", POLICY.webDb),
      // netbird-ssh is sent as TCP, with NetBird's SSH port 22022 beside 22.
      fw(ALICE, "IN", "TCP", "22", POLICY.ssh),
      fw(ALICE, "IN", "TCP", "22022", POLICY.ssh),
    ],
    firewallRulesIsEmpty: false,
  },
  "web-1": {
    Serial: "42",
    peerConfig: { address: `${WEB}/16`, fqdn: "web-1.netbird.cloud" },
    FirewallRules: [fw(ALICE, "IN", "TCP", "80", POLICY.web), fw(ALICE, "IN", "TCP", "443", POLICY.web), fw(ALICE, "IN", "UDP", "53", POLICY.web), fw(ALICE, "IN", "ICMP", "", POLICY.web)],
  },
  "laptop-alice": {
    Serial: "42",
    peerConfig: { address: `${ALICE}/16`, fqdn: "laptop-alice.netbird.cloud" },
    FirewallRules: [
      fw(DB, "OUT", "TCP", "5432", POLICY.engDb),
      fw(DB, "OUT", "TCP", "22", POLICY.ssh),
      fw(DB, "OUT", "TCP", "22022", POLICY.ssh),
      fw(WEB, "OUT", "TCP", "80", POLICY.web),
      fw(WEB, "OUT", "TCP", "443", POLICY.web),
      fw(WEB, "OUT", "UDP", "53", POLICY.web),
      fw(WEB, "OUT", "ICMP", "", POLICY.web),
    ],
  },
  "router-1": {
    Serial: "42",
    peerConfig: { address: "100.64.0.40/16", fqdn: "router-1.netbird.cloud" },
    FirewallRules: [],
    firewallRulesIsEmpty: true,
    routesFirewallRules: [
      routeRule(ALICE, "198.18.1.10/32", "TCP", { port: 443 }, POLICY.office, "d4q0p08hhcjc73bq5o00"),
      routeRule(ALICE, "198.18.1.10/32", "TCP", { range: { start: 8000, end: 8099 } }, POLICY.office, "d4q0p08hhcjc73bq5o00"),
      routeRule(ALICE, "198.18.1.0/24", "TCP", { port: 443 }, POLICY.office, "d4q0p08hhcjc73bq5o0g"),
      routeRule(ALICE, "198.18.1.0/24", "TCP", { range: { start: 8000, end: 8099 } }, POLICY.office, "d4q0p08hhcjc73bq5o0g"),
      routeRule(ALICE, "0.0.0.0/0", "TCP", { port: 443 }, POLICY.office, "d4q0p08hhcjc73bq5o10", ["wiki.corp.example"]),
      routeRule(ALICE, "0.0.0.0/0", "TCP", { range: { start: 8000, end: 8099 } }, POLICY.office, "d4q0p08hhcjc73bq5o10", ["wiki.corp.example"]),
      routeRule(ALICE, "198.18.2.0/24", "ALL", {}, POLICY.lab, "d4q0r08hhcjc73bq5q00"),
    ],
    routesFirewallRulesIsEmpty: false,
  },
};

/** The proto type, with a check that the object is a valid message of it. */
function message(name: string, object: object): { type: protobuf.Type; message: protobuf.Message } {
  const type = managementProto().lookupType(name);
  const message = type.fromObject(object);
  const problem = type.verify(message);
  if (problem) throw new Error(`${name}: ${problem}`);
  return { type, message };
}

/** A debug bundle's network_map.json: a SyncResponse in protobuf JSON with proto names, as protojson writes it. */
export function debugBundleJson(peer: string): string {
  const map = message("management.NetworkMap", NETWORK_MAPS[peer]);
  const json = map.type.toObject(map.message, { enums: String, longs: String, bytes: String, defaults: true, arrays: true });
  const sync = { peerConfig: json.peerConfig, NetworkMap: json };
  message("management.SyncResponse", sync);
  return JSON.stringify(sync, null, 2) + "\n";
}

/** The binary form: a serialized NetworkMap. */
export function networkMapBinary(peer: string): Uint8Array {
  const map = message("management.NetworkMap", NETWORK_MAPS[peer]);
  return map.type.encode(map.message).finish();
}
