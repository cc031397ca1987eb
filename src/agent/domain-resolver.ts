// Domain resources (P6) resolved at run time. A routing peer enforces route rules whose
// destination is a domain ("wiki.corp.example"); their prefixes are the domain's current
// addresses. Each name is resolved (the system resolver by default, or given servers)
// and its addresses kept in an LRU cache for the records' TTL, bounded by a minimum and a
// maximum refresh interval; the name is resolved again halfway through that time, so a
// failed refresh still has a good answer to fall back on. A resource's
// addresses are put in force in one swap (Engine.setResourceAddresses), which revokes
// the flows to addresses that left the set and keeps the others (P14). A failed
// resolution is counted and logged, and the last good set stays until its TTL runs out;
// after that the resource has no addresses (nothing to it is allowed) until one succeeds.

import { Resolver } from "node:dns/promises";
import { LRUCache } from "lru-cache";
import type { CompiledPeerPolicy } from "../filter/compiled-policy.ts";

/** One resolved address and its TTL in seconds. */
export interface ResolvedAddress {
  address: string;
  ttl: number;
}

/** Resolves a name to its IPv4 and IPv6 addresses; rejects when it cannot. */
export type ResolveName = (name: string) => Promise<ResolvedAddress[]>;

/** The system's resolver (resolv.conf), or the DNS servers given ("127.0.0.1:5353", "[::1]:53"). */
export function dnsResolver(servers?: string[]): ResolveName {
  const resolver = new Resolver({ timeout: 2000, tries: 2 });
  if (servers && servers.length > 0) resolver.setServers(servers);
  return async (name) => {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(name, { ttl: true }), resolver.resolve6(name, { ttl: true })]);
    const found = [...(v4.status === "fulfilled" ? v4.value : []), ...(v6.status === "fulfilled" ? v6.value : [])];
    if (found.length === 0) {
      const reason = v4.status === "rejected" ? (v4.reason as NodeJS.ErrnoException) : undefined;
      throw new Error(reason ? `${reason.code ?? reason.message}` : "no A or AAAA records");
    }
    return found;
  };
}

export interface DomainResolverOptions {
  resolve: ResolveName;
  /** Put a resource's addresses (CIDRs) in force. */
  apply: (resourceId: string, cidrs: string[]) => void;
  /** Shortest and longest time an answer is kept, whatever its TTL says. Defaults 5 s and 1 h. */
  minRefreshMs?: number;
  maxRefreshMs?: number;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export interface ResolverCounters {
  resolutions: number;
  failures: number;
  /** Times a resource's address set changed. */
  updates: number;
}

export class DomainResolver {
  readonly counters: ResolverCounters = { resolutions: 0, failures: 0, updates: 0 };
  private readonly cache = new LRUCache<string, string[]>({ max: 100_000, ttlAutopurge: false, allowStale: false });
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Domain -> the resources it fills; resource -> its domains (a legacy route may have several). */
  private domains = new Map<string, Set<string>>();
  private resources = new Map<string, string[]>();
  private readonly applied = new Map<string, string>();
  private readonly minMs: number;
  private readonly maxMs: number;
  private closed = false;

  constructor(private readonly options: DomainResolverOptions) {
    this.minMs = options.minRefreshMs ?? 5_000;
    this.maxMs = Math.max(this.minMs, options.maxRefreshMs ?? 3_600_000);
  }

  /** The domain resources of `policy` (after a load or reload): resolve the new names, forget the old. */
  setPolicy(policy: CompiledPeerPolicy): void {
    const resources = new Map<string, string[]>();
    for (const rule of policy.routes) {
      if (!rule.domain) continue;
      const list = resources.get(rule.resourceId) ?? [];
      if (!list.includes(rule.domain)) list.push(rule.domain);
      resources.set(rule.resourceId, list);
    }
    const domains = new Map<string, Set<string>>();
    for (const [resource, names] of resources) for (const name of names) domains.set(name, (domains.get(name) ?? new Set()).add(resource));
    for (const [name, timer] of this.timers) {
      if (!domains.has(name)) {
        clearTimeout(timer);
        this.timers.delete(name);
      }
    }
    this.resources = resources;
    this.domains = domains;
    this.applied.clear(); // a new rule table: put every known set in force again
    for (const resource of resources.keys()) this.applyResource(resource);
    for (const name of domains.keys()) if (!this.timers.has(name)) void this.refresh(name);
  }

  /** The addresses in force for a domain, or undefined when none are known (or they expired). */
  addressesOf(name: string): string[] | undefined {
    return this.cache.get(name);
  }

  /** Resolve `name` now, then again when its answer runs out. */
  async refresh(name: string): Promise<void> {
    this.timers.delete(name);
    if (this.closed || !this.domains.has(name)) return;
    if (name.startsWith("*.")) {
      this.options.log?.warn({ domain: name }, "wildcard domain resources cannot be resolved; nothing to it is allowed");
      return;
    }
    this.counters.resolutions++;
    let next: number;
    try {
      const found = await this.options.resolve(name);
      const ttlMs = Math.min(...found.map((r) => r.ttl * 1000));
      const keepMs = Math.min(this.maxMs, Math.max(this.minMs, ttlMs));
      const cidrs = [...new Set(found.map((r) => (r.address.includes(":") ? `${r.address}/128` : `${r.address}/32`)))].sort();
      this.cache.set(name, cidrs, { ttl: keepMs });
      next = Math.max(this.minMs / 2, keepMs / 2);
    } catch (err) {
      this.counters.failures++;
      // The last good set stays until its own TTL runs out; try again soon.
      const left = this.cache.getRemainingTTL(name);
      next = this.minMs / 2;
      this.options.log?.warn({ domain: name, error: (err as Error).message, keptMs: left > 0 && Number.isFinite(left) ? Math.round(left) : 0 }, "domain resolution failed; the last good addresses stay until their TTL runs out");
      if (left > 0 && left < next) next = Math.ceil(left) + 1;
    }
    if (this.closed || !this.domains.has(name)) return;
    for (const resource of this.domains.get(name) ?? []) this.applyResource(resource);
    const timer = setTimeout(() => void this.refresh(name), next);
    timer.unref();
    this.timers.set(name, timer);
  }

  /** The union of the resource's domains' live addresses, put in force when it changed. */
  private applyResource(resource: string): void {
    const cidrs = [...new Set((this.resources.get(resource) ?? []).flatMap((name) => this.cache.get(name) ?? []))].sort();
    const key = cidrs.join(",");
    if (this.applied.get(resource) === key) return;
    this.applied.set(resource, key);
    this.counters.updates++;
    this.options.apply(resource, cidrs);
    this.options.log?.info({ resource, addresses: cidrs }, "domain resource addresses in force");
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
