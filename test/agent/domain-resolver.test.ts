// Domain resources resolved at run time, against a DNS server on loopback: the routing
// peer's engine accepts what the domain resolves to, follows changes of the answer
// (P14: flows to addresses that left the set are cut, the others keep flowing), keeps
// the last good set through failures until its TTL runs out, and counts the failures.

import { afterEach, describe, expect, it } from "vitest";
import { DomainResolver, dnsResolver } from "../../src/agent/domain-resolver.ts";
import { Engine, VERDICT_ACCEPT, VERDICT_DROP } from "../../src/engine/engine.ts";
import { buildPacket } from "../../src/packet/builder.ts";
import { compilePeer } from "../../src/policy/compile/compile.ts";
import { loadPolicyFile } from "../../src/policy/input/load.ts";
import { startDnsResponder, type DnsResponder } from "./dns-responder.ts";

const WIKI = "wiki.corp.example";
const WIKI_RESOURCE = "d4q0p08hhcjc73bq5o10";
let dns: DnsResponder | undefined;
let resolver: DomainResolver | undefined;
afterEach(async () => {
  resolver?.close();
  await dns?.close();
  dns = undefined;
  resolver = undefined;
});

/** Polls until `check` holds; a generous bound against hanging, not a speed figure. */
async function eventually(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function routingPeer(options: { minRefreshMs: number; maxRefreshMs: number }) {
  dns = await startDnsResponder();
  const policy = compilePeer(loadPolicyFile("examples/netbird-api-account.json"), "router-1");
  const engine = new Engine(policy);
  const log: string[] = [];
  resolver = new DomainResolver({
    resolve: dnsResolver([dns.server]),
    apply: (resource, cidrs) => {
      engine.setResourceAddresses(resource, cidrs);
      while (!engine.revokeSlice(Infinity));
    },
    ...options,
    log: { info: (_o, msg) => log.push(msg), warn: (o, msg) => log.push(`${msg} ${JSON.stringify(o)}`) },
  });
  let clock = 1;
  /** A packet from laptop-alice to `dst`:443, and its routed reply. */
  const send = (dst: string, flags: string, srcPort = 40000) => {
    engine.setTime(clock++);
    const p = buildPacket({ src: "100.64.0.10", dst, protocol: "tcp", srcPort, dstPort: 443, tcp: { flags, seq: flags === "S" ? 1000 : 1001, ack: flags === "S" ? 0 : 5001 } });
    return engine.inbound(p, 0, p.length);
  };
  const synAck = (from: string, dstPort: number) => {
    engine.setTime(clock++);
    const p = buildPacket({ src: from, dst: "100.64.0.10", protocol: "tcp", srcPort: 443, dstPort, tcp: { flags: "SA", seq: 5000, ack: 1001 } });
    return engine.outbound(p, 0, p.length);
  };
  return { engine, resolver, send, synAck, log, policy };
}

describe("domain resources resolved at run time", () => {
  it("P6: the routing peer accepts connections to what the domain resolves to, and only that", async () => {
    const { resolver: r, send, policy } = await routingPeer({ minRefreshMs: 50, maxRefreshMs: 60_000 });
    dns!.answers.set(WIKI, { addresses: ["203.0.113.5", "2001:db8::5"], ttl: 300 });
    expect(send("203.0.113.5", "S")).toBe(VERDICT_DROP); // nothing resolved yet: nothing allowed
    r.setPolicy(policy);
    await eventually(() => r.addressesOf(WIKI) !== undefined, "the first resolution");
    expect(r.addressesOf(WIKI)).toEqual(["2001:db8::5/128", "203.0.113.5/32"]);
    expect(send("203.0.113.5", "S", 40001)).toBe(VERDICT_ACCEPT);
    expect(send("203.0.113.99", "S", 40002)).toBe(VERDICT_DROP);
  });

  it("P14: a changed answer cuts flows to the address that left, keeps the others, and admits the new one", async () => {
    const { resolver: r, send, synAck, policy } = await routingPeer({ minRefreshMs: 100, maxRefreshMs: 60_000 });
    dns!.answers.set(WIKI, { addresses: ["203.0.113.5", "203.0.113.7"], ttl: 0 });
    r.setPolicy(policy);
    await eventually(() => r.addressesOf(WIKI)?.length === 2, "the first resolution");
    expect(send("203.0.113.5", "S", 41000)).toBe(VERDICT_ACCEPT);
    expect(send("203.0.113.7", "S", 41001)).toBe(VERDICT_ACCEPT);
    expect(synAck("203.0.113.5", 41000)).toBe(VERDICT_ACCEPT);
    expect(synAck("203.0.113.7", 41001)).toBe(VERDICT_ACCEPT);
    dns!.answers.set(WIKI, { addresses: ["203.0.113.6", "203.0.113.7"], ttl: 0 });
    await eventually(() => r.addressesOf(WIKI)?.includes("203.0.113.6/32") === true, "the refresh (TTL 0: the minimum interval)");
    expect(send("203.0.113.5", "A", 41000)).toBe(VERDICT_DROP); // revoked
    expect(send("203.0.113.7", "A", 41001)).toBe(VERDICT_ACCEPT); // still in the set: keeps flowing
    expect(send("203.0.113.6", "S", 41002)).toBe(VERDICT_ACCEPT);
  });

  it("a failed resolution keeps the last good set until its TTL runs out, then nothing; failures are counted and logged", async () => {
    const { resolver: r, send, policy, log } = await routingPeer({ minRefreshMs: 100, maxRefreshMs: 60_000 });
    dns!.answers.set(WIKI, { addresses: ["203.0.113.5"], ttl: 2 });
    r.setPolicy(policy);
    await eventually(() => r.addressesOf(WIKI) !== undefined, "the first resolution");
    dns!.answers.set(WIKI, "fail");
    await eventually(() => r.counters.failures > 0, "a failed refresh");
    expect(send("203.0.113.5", "S", 42000)).toBe(VERDICT_ACCEPT); // the last good set, within its TTL
    expect(log.some((l) => l.startsWith("domain resolution failed") && l.includes(WIKI))).toBe(true);
    await eventually(() => r.addressesOf(WIKI) === undefined && send("203.0.113.5", "S", 42001) === VERDICT_DROP, "the TTL of the last good set to run out");
    dns!.answers.set(WIKI, { addresses: ["203.0.113.5"], ttl: 300 });
    await eventually(() => r.addressesOf(WIKI) !== undefined, "recovery");
    expect(send("203.0.113.5", "S", 42002)).toBe(VERDICT_ACCEPT);
  });

  it("the TTL is held between the minimum and maximum refresh intervals", async () => {
    const { resolver: r, policy } = await routingPeer({ minRefreshMs: 200, maxRefreshMs: 400 });
    dns!.answers.set(WIKI, { addresses: ["203.0.113.5"], ttl: 3600 });
    r.setPolicy(policy);
    await eventually(() => r.addressesOf(WIKI) !== undefined, "the first resolution");
    const before = dns!.queries;
    // Kept at most 400 ms (refreshed at half that) although the record says an hour: asked again (a generous bound, not a speed figure).
    await eventually(() => dns!.queries > before, "a refresh after the maximum interval", 5_000);
  });

  it("the engine refuses addresses for a resource that is not a domain resource, changing nothing", async () => {
    const { engine } = await routingPeer({ minRefreshMs: 100, maxRefreshMs: 1000 });
    expect(() => engine.setResourceAddresses("d4q0p08hhcjc73bq5o0g", ["10.0.0.0/8"])).toThrow(/not a domain resource/);
    expect(engine.revocationPending).toBe(false);
  });

  it("the example's routing peer has one domain resource, the wiki", () => {
    expect(compilePeer(loadPolicyFile("examples/netbird-api-account.json"), "router-1").routes.filter((r) => r.domain).map((r) => r.resourceId)).toEqual([WIKI_RESOURCE]);
  });
});
