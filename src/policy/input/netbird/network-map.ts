// A NetBird peer's NetworkMap -> the rule tables meshfilter enforces (CompiledPeerPolicy).
// A NetBird peer never sees policies: the management server sends it a NetworkMap with
// the firewall rules it compiled for that peer (FirewallRule, RouteFirewallRule), and
// `netbird debug bundle` writes the last one as network_map.json (a SyncResponse in
// protobuf JSON). Reading it answers "what would my peer do with this capture, under
// exactly what it was sent". Both protobuf forms are read through NetBird's own
// management.proto with protobufjs: JSON (a SyncResponse or a bare NetworkMap, with
// proto or JSON field names) and binary (a serialized NetworkMap).
//
// The map is one peer's, so no --peer is needed. It carries no rule ids or names: a rule's
// id is "<policy id>/<FirewallRules index>", and FirewallRules that differ only in their
// peer are one rule with several sources. Differences from meshfilter's own compiler are
// listed in docs/policy-semantics.md ("Differences from NetBird's compiler").

import { readFileSync } from "node:fs";
import path from "node:path";
import protobuf from "protobufjs";
import type { CompiledPeerPolicy, CompiledRouteRule, CompiledRule } from "../../../filter/compiled-policy.ts";
import type { PortRange, Protocol } from "../../model/model.ts";

const PROTO_FILE = path.resolve(import.meta.dirname, "../../../../reference/netbird/netbird-management.proto");

let root: protobuf.Root | undefined;
/** NetBird's management.proto, loaded once, with its field names as written (protojson's UseProtoNames). */
export function managementProto(): protobuf.Root {
  root ??= new protobuf.Root().loadSync(PROTO_FILE, { keepCase: true });
  return root;
}

/** A NetworkMap that cannot be read: one line naming the file and what is wrong. */
export class NetworkMapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NetworkMapError";
  }
}

/** The fields of a decoded NetworkMap this module reads (protobufjs toObject with enums and longs as strings, bytes as Buffers). */
interface DecodedPortInfo {
  port?: number;
  range?: { start: number; end: number };
}
interface DecodedFirewallRule {
  PeerIP: string;
  Direction: string;
  Action: string;
  Protocol: string;
  Port: string;
  PortInfo?: DecodedPortInfo;
  PolicyID: Uint8Array;
  sourcePrefixes: Uint8Array[];
}
interface DecodedRouteFirewallRule {
  sourceRanges: string[];
  action: string;
  destination: string;
  protocol: string;
  portInfo?: DecodedPortInfo;
  isDynamic: boolean;
  domains: string[];
  PolicyID: Uint8Array;
  RouteID: string;
}
interface DecodedNetworkMap {
  peerConfig?: { address: string; fqdn: string; address_v6: Uint8Array };
  /** The routes the peer uses or serves; a served route's Masquerade applies to its routesFirewallRules. */
  Routes: { ID: string; Masquerade: boolean }[];
  FirewallRules: DecodedFirewallRule[];
  routesFirewallRules: DecodedRouteFirewallRule[];
}

/** Read a network_map.json (protobuf JSON) or a binary NetworkMap. Throws NetworkMapError. */
export function loadNetworkMapFile(file: string): CompiledPeerPolicy {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new NetworkMapError(`cannot read ${file}: ${(err as Error).message}`);
  }
  return compileNetworkMap(decodeNetworkMap(bytes, file), file);
}

/** Decode either form; JSON when the file starts (after white space) with "{". */
export function decodeNetworkMap(bytes: Uint8Array, file: string): DecodedNetworkMap {
  const type = managementProto().lookupType("management.NetworkMap");
  let message: protobuf.Message;
  const text = Buffer.from(bytes).toString("utf8");
  try {
    if (/^\s*\{/.test(text)) {
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch (err) {
        throw new NetworkMapError(`${file}: not JSON: ${(err as Error).message}`);
      }
      // A SyncResponse (what the debug bundle writes) holds the map and the peer's own config.
      const inner = (json.NetworkMap ?? json.networkMap) as Record<string, unknown> | undefined;
      const map = inner ?? json;
      if (inner && map.peerConfig === undefined && json.peerConfig !== undefined) map.peerConfig = json.peerConfig;
      message = type.fromObject(toProtoNames(map, type, inner ? "$.NetworkMap" : "$", file));
    } else {
      message = type.decode(bytes);
    }
  } catch (err) {
    if (err instanceof NetworkMapError) throw err;
    throw new NetworkMapError(`${file}: not a NetBird NetworkMap: ${(err as Error).message}`);
  }
  return type.toObject(message, { enums: String, longs: String, bytes: Buffer, defaults: true, arrays: true }) as unknown as DecodedNetworkMap;
}

/**
 * protojson writes JSON names (lowerCamelCase) unless told to keep proto names; accept both,
 * as protojson does. Enum values are checked here, since protobufjs's fromObject passes an
 * unknown name over silently.
 */
function toProtoNames(value: Record<string, unknown>, type: protobuf.Type, at: string, file: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const field = type.fields[key] ?? Object.values(type.fields).find((f) => jsonName(f.name) === key);
    if (!field) continue; // a field from a newer NetBird: nothing meshfilter reads
    field.resolve();
    const resolved = field.resolvedType;
    const convert = (v: unknown, path: string): unknown => {
      if (resolved instanceof protobuf.Type && v !== null && typeof v === "object" && !Array.isArray(v)) return toProtoNames(v as Record<string, unknown>, resolved, path, file);
      if (resolved instanceof protobuf.Enum && v !== null && !(typeof v === "string" ? v in resolved.values : Object.values(resolved.values).includes(v as number))) {
        throw new NetworkMapError(`${file}: ${path}: ${JSON.stringify(v)} is not a ${resolved.name} (${Object.keys(resolved.values).join(", ")})`);
      }
      return v;
    };
    const path = `${at}.${key}`;
    out[field.name] = Array.isArray(child) ? child.map((c, i) => convert(c, `${path}[${i}]`)) : convert(child, path);
  }
  return out;
}

const jsonName = (name: string) => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

const PROTOCOLS: Record<string, Protocol> = { ALL: "all", TCP: "tcp", UDP: "udp", ICMP: "icmp", NETBIRD_SSH: "tcp" };

/** The tables a NetworkMap makes: FirewallRules IN -> inbound, OUT -> outbound, routesFirewallRules -> routes. */
export function compileNetworkMap(map: DecodedNetworkMap, file: string): CompiledPeerPolicy {
  const config = map.peerConfig;
  if (!config?.address) throw new NetworkMapError(`${file}: the NetworkMap has no peerConfig.address, so whose map it is is unknown`);
  const addresses = [config.address.split("/")[0]];
  if (config.address_v6?.length === 17) addresses.push(prefixOf(config.address_v6, `${file}: peerConfig.address_v6`).split("/")[0]);
  const selfPrefixes = addresses.map((a) => (a.includes(":") ? `${a}/128` : `${a}/32`));
  const name = config.fqdn ? config.fqdn.split(".")[0] : addresses[0];
  const policy: CompiledPeerPolicy = { peer: { id: config.fqdn || addresses[0], name, addresses }, inbound: [], outbound: [], routes: [] };

  // FirewallRules that differ only in their peer become one rule with several peers.
  const merged = new Map<string, CompiledRule>();
  map.FirewallRules.forEach((rule, i) => {
    const at = `${file}: FirewallRules[${i}]`;
    const protocol = protocolOf(rule.Protocol, at);
    const ports = portsOf(rule.Port, rule.PortInfo, at);
    const peers = rule.sourcePrefixes.length > 0 ? rule.sourcePrefixes.map((p, j) => prefixOf(p, `${at}.sourcePrefixes[${j}]`)) : [hostPrefix(rule.PeerIP, `${at}.PeerIP`)];
    const policyId = Buffer.from(rule.PolicyID).toString("utf8") || "(no policy id)";
    const inbound = rule.Direction !== "OUT";
    const key = [rule.Direction, rule.Action, protocol, ports.ports.join(","), ports.portRanges.map((r) => `${r.start}-${r.end}`).join(","), policyId].join("|");
    const existing = merged.get(key);
    if (existing) {
      for (const p of peers) if (!(inbound ? existing.sources : existing.destinations).includes(p)) (inbound ? existing.sources : existing.destinations).push(p);
      return;
    }
    const compiled: CompiledRule = {
      id: `${policyId}/${i}`,
      policyId,
      policyName: `policy ${policyId}`,
      ruleId: String(i),
      ruleName: `FirewallRules[${i}]`,
      action: actionOf(rule.Action, at),
      protocol,
      sources: inbound ? peers : [...selfPrefixes],
      destinations: inbound ? [...selfPrefixes] : peers,
      ...ports,
      reverse: false,
    };
    merged.set(key, compiled);
    (inbound ? policy.inbound : policy.outbound).push(compiled);
  });

  const masqueraded = new Set(map.Routes.filter((r) => r.Masquerade).map((r) => r.ID));
  map.routesFirewallRules.forEach((rule, i) => {
    const at = `${file}: routesFirewallRules[${i}]`;
    const policyId = Buffer.from(rule.PolicyID).toString("utf8") || `route:${rule.RouteID}`;
    const base: CompiledRouteRule = {
      id: `${policyId}/route${i}`,
      policyId,
      policyName: `policy ${policyId}`,
      ruleId: `route${i}`,
      ruleName: `routesFirewallRules[${i}]`,
      action: actionOf(rule.action, at),
      protocol: protocolOf(rule.protocol, at),
      sources: rule.sourceRanges.map((r) => (r.includes("/") ? r : hostPrefix(r, `${at}.sourceRanges`))),
      destinations: [],
      ...portsOf("", rule.portInfo, at),
      reverse: false,
      resourceId: rule.RouteID,
      resourceName: rule.isDynamic ? rule.domains.join(",") : rule.destination,
    };
    if (masqueraded.has(rule.RouteID)) base.masquerade = true;
    if (!rule.isDynamic) policy.routes.push({ ...base, destinations: [rule.destination] });
    else rule.domains.forEach((domain, j) => policy.routes.push({ ...base, id: `${base.id}:${j}`, domain }));
  });
  return policy;
}

function protocolOf(value: string, at: string): Protocol {
  const protocol = PROTOCOLS[value];
  if (!protocol) throw new NetworkMapError(`${at}: protocol ${value} is not one meshfilter filters (all, tcp, udp, icmp); the map cannot be enforced as sent`);
  return protocol;
}

function actionOf(value: string, at: string): "accept" | "drop" {
  if (value === "ACCEPT") return "accept";
  if (value === "DROP") return "drop";
  throw new NetworkMapError(`${at}: unknown action ${value}`);
}

/** The legacy Port string ("5432", "" for any) or PortInfo (a port or a range). */
function portsOf(port: string, info: DecodedPortInfo | undefined, at: string): { ports: number[]; portRanges: PortRange[] } {
  if (info?.range && (info.range.start !== 0 || info.range.end !== 0)) {
    const { start, end } = info.range;
    return start === end ? { ports: [start], portRanges: [] } : { ports: [], portRanges: [{ start, end }] };
  }
  if (info?.port) return { ports: [info.port], portRanges: [] };
  if (port === "") return { ports: [], portRanges: [] };
  const n = Number(port);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new NetworkMapError(`${at}.Port: "${port}" is not a port`);
  return { ports: [n], portRanges: [] };
}

/** NetBird's compact prefix: 4 or 16 address bytes, then the prefix length. */
function prefixOf(bytes: Uint8Array, at: string): string {
  if (bytes.length !== 5 && bytes.length !== 17) throw new NetworkMapError(`${at}: a compact prefix has 5 or 17 bytes, this one ${bytes.length}`);
  const length = bytes[bytes.length - 1];
  if (bytes.length === 5) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}/${length}`;
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return `${words.join(":")}/${length}`;
}

/** A PeerIP as a prefix; NetBird's wildcard "0.0.0.0" ("::") stands for every address. */
function hostPrefix(ip: string, at: string): string {
  if (!ip) throw new NetworkMapError(`${at}: empty, and the rule has no sourcePrefixes`);
  if (ip === "0.0.0.0") return "0.0.0.0/0";
  if (ip === "::") return "::/0";
  return ip.includes(":") ? `${ip}/128` : `${ip}/32`;
}
