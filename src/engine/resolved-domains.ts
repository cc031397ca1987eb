// `--resolve name=ip,...`: the addresses of domain resources for offline use (replay,
// explain), where the agent would ask DNS (src/agent/domain-resolver.ts). Each name must
// be a domain of one of the peer's route rules; its addresses go into the engine the same
// way the agent's resolver puts them (Engine.setResourceAddresses).

import type { Engine } from "./engine.ts";
import { tryParseIp } from "../packet/address.ts";
import type { CompiledPeerPolicy } from "../filter/compiled-policy.ts";

/** A bad --resolve value: one line saying which and why. */
export class ResolveOptionError extends Error {}

/** "wiki.corp.example=203.0.113.5,2001:db8::5" (repeatable) -> name -> CIDRs. */
export function parseResolveOptions(values: readonly string[]): Map<string, string[]> {
  const resolved = new Map<string, string[]>();
  for (const value of values) {
    const eq = value.indexOf("=");
    const name = value.slice(0, eq).trim().toLowerCase();
    if (eq <= 0 || name === "") throw new ResolveOptionError(`--resolve ${JSON.stringify(value)}: write NAME=IP[,IP...], e.g. wiki.corp.example=203.0.113.5`);
    const cidrs = value
      .slice(eq + 1)
      .split(",")
      .map((ip) => ip.trim())
      .filter((ip) => ip !== "")
      .map((ip) => {
        if (!tryParseIp(ip)) throw new ResolveOptionError(`--resolve ${name}: "${ip}" is not an IP address`);
        return ip.includes(":") ? `${ip}/128` : `${ip}/32`;
      });
    resolved.set(name, [...(resolved.get(name) ?? []), ...cidrs]);
  }
  return resolved;
}

/** Put the given addresses in force for the peer's domain resources; a name no route rule has is an error. */
export function applyResolved(engine: Engine, policy: CompiledPeerPolicy, resolved: Map<string, string[]>): void {
  const byResource = new Map<string, string[]>();
  const domains = new Set(policy.routes.flatMap((r) => (r.domain ? [r.domain] : [])));
  for (const [name, cidrs] of resolved) {
    if (!domains.has(name)) {
      const known = domains.size > 0 ? `its domain resources: ${[...domains].join(", ")}` : "it routes to no domain resource";
      throw new ResolveOptionError(`--resolve ${name}: peer ${policy.peer.name} has no domain resource of that name (${known})`);
    }
    for (const rule of policy.routes) {
      if (rule.domain === name) byResource.set(rule.resourceId, [...new Set([...(byResource.get(rule.resourceId) ?? []), ...cidrs])]);
    }
  }
  for (const [resource, cidrs] of byResource) engine.setResourceAddresses(resource, cidrs);
  while (!engine.revokeSlice(Infinity));
}
