// Two WireGuardTransports in this process, talking over real UDP sockets on 127.0.0.1,
// with the protocol's timers shortened so keepalives, rekeys, key expiry, handshake
// retries and cookies under load all happen within a test. (Interop with wireguard-go
// is interop.test.ts; these are the behaviours wireguard-go cannot be made to show
// quickly, since its timers are constants.)

import { createSocket } from "node:dgram";
import { PerformanceObserver, constants } from "node:perf_hooks";
import { afterEach, describe, expect, it } from "vitest";
import { parseCidr } from "../../src/packet/address.ts";
import { buildPacket } from "../../src/packet/builder.ts";
import type { WireGuardConfig } from "../../src/wireguard/config.ts";
import { CookieGenerator } from "../../src/wireguard/cookie.ts";
import { createInitiation, NO_PRESHARED_KEY } from "../../src/wireguard/handshake.ts";
import { INITIATION } from "../../src/wireguard/messages.ts";
import { generatePresharedKey, generatePrivateKey, publicKeyOf } from "../../src/wireguard/keys.ts";
import type { WireGuardTimers } from "../../src/wireguard/timers.ts";
import { WireGuardTransport, type WireGuardEvent } from "../../src/wireguard/wireguard-transport.ts";

const A = "100.64.0.10";
const B = "100.64.0.20";
const open: WireGuardTransport[] = [];
afterEach(() => open.splice(0).forEach((t) => t.close()));

interface Side {
  transport: WireGuardTransport;
  received: Uint8Array[];
  events: WireGuardEvent[];
}

function side(config: WireGuardConfig, timers: Partial<WireGuardTimers> = {}, extra: { handshakesBeforeCookies?: number } = {}): Side {
  const events: WireGuardEvent[] = [];
  const transport = new WireGuardTransport({ config, listenAddress: "127.0.0.1", mtu: 1420, timers, tickMs: 10, onEvent: (e) => events.push(e), ...extra });
  open.push(transport);
  const received: Uint8Array[] = [];
  transport.start((buf, offsets, lengths, count) => {
    for (let i = 0; i < count; i++) received.push(buf.slice(offsets[i], offsets[i] + lengths[i]));
  });
  return { transport, received, events };
}

/** A and B, each allowed its own overlay address; B knows A's endpoint, A learns B's from the handshake. */
function pair(
  options: { timers?: Partial<WireGuardTimers>; aPsk?: Uint8Array; bPsk?: Uint8Array; bKeepalive?: number; aCookiesAfter?: number; bAllowed?: string[] } = {},
) {
  const aKey = generatePrivateKey();
  const bKey = generatePrivateKey();
  const a = side(
    {
      privateKey: aKey,
      publicKey: publicKeyOf(aKey),
      listenPort: 0,
      addresses: [],
      mtu: null,
      peers: [{ publicKey: publicKeyOf(bKey), presharedKey: options.aPsk ?? null, allowedIps: (options.bAllowed ?? [`${B}/32`]).map((p) => parseCidr(p)), endpoint: null, persistentKeepalive: 0 }],
    },
    options.timers,
    { handshakesBeforeCookies: options.aCookiesAfter },
  );
  const b = side(
    {
      privateKey: bKey,
      publicKey: publicKeyOf(bKey),
      listenPort: 0,
      addresses: [],
      mtu: null,
      peers: [
        {
          publicKey: publicKeyOf(aKey),
          presharedKey: options.bPsk ?? null,
          allowedIps: [parseCidr(`${A}/32`)],
          endpoint: { address: "127.0.0.1", port: a.transport.localPort },
          persistentKeepalive: options.bKeepalive ?? 0,
        },
      ],
    },
    options.timers,
  );
  return { a, b, aKey, bKey };
}

function send(from: Side, packets: Uint8Array[]): number {
  const total = packets.reduce((n, p) => n + p.length, 0);
  const buf = new Uint8Array(total);
  const offsets = new Uint32Array(packets.length);
  const lengths = new Uint32Array(packets.length);
  let at = 0;
  packets.forEach((p, i) => {
    buf.set(p, at);
    offsets[i] = at;
    lengths[i] = p.length;
    at += p.length;
  });
  return from.transport.send(buf, offsets, lengths, packets.length, new Uint8Array(packets.length).fill(1));
}

function ping(src: string, dst: string, id: number): Uint8Array {
  return buildPacket({ src, dst, protocol: "icmp", icmp: { type: 8, code: 0, id, seq: 1 }, payload: 56 });
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("WireGuardTransport", () => {
  it("packets sent before any handshake wait for it, then arrive intact; then both directions flow", async () => {
    const { a, b } = pair();
    const first = [ping(B, A, 1), ping(B, A, 2)];
    expect(send(b, first)).toBe(0); // staged: no keys yet
    await until(() => a.received.length === 2);
    expect(a.received).toEqual(first);
    const reply = ping(A, B, 3);
    expect(send(a, [reply])).toBe(1);
    await until(() => b.received.length === 1);
    expect(b.received[0]).toEqual(reply);
    expect(b.events.filter((e) => e.type === "handshake-complete")).toHaveLength(1);
    expect(a.transport.counters.handshakesCompleted).toBe(1);
  });

  it("a packet to an address no peer owns is counted as no route; a non-IPv4 packet too", () => {
    const { b } = pair();
    expect(send(b, [ping(B, "100.64.0.99", 1), buildPacket({ src: "fd00::1", dst: "fd00::2", protocol: "udp", dstPort: 1 })])).toBe(0);
    expect(b.transport.counters.noRoute).toBe(2);
  });

  it("a decrypted packet whose inner source is not the sender's is dropped and counted", async () => {
    const { a, b } = pair();
    send(b, [ping("100.64.0.99", A, 1), ping(B, A, 2)]);
    await until(() => a.received.length === 1);
    expect(a.received[0]).toEqual(ping(B, A, 2));
    await until(() => a.transport.counters.allowedIpsMismatch === 1);
  });

  it("differing preshared keys: no handshake completes, nothing is delivered", async () => {
    const { a, b } = pair({ aPsk: generatePresharedKey(), bPsk: generatePresharedKey(), timers: { rekeyTimeout: 50, rekeyTimeoutJitter: 0, rekeyAttemptTime: 300 } });
    send(b, [ping(B, A, 1)]);
    await until(() => b.events.some((e) => e.type === "handshake-given-up"));
    expect(a.received).toHaveLength(0);
    expect(b.transport.counters.handshakesRejected).toBeGreaterThan(0); // the response did not authenticate
    expect(b.transport.counters.handshakeInitiationsSent).toBeGreaterThan(1); // retried every rekeyTimeout
    expect(b.transport.counters.stagedDropped).toBe(1);
  });

  it("the initiator rekeys after rekeyAfterTime while traffic keeps flowing", async () => {
    const { a, b } = pair({ timers: { rekeyAfterTime: 100 } });
    let id = 0;
    const deadline = Date.now() + 600;
    while (Date.now() < deadline) {
      send(b, [ping(B, A, ++id)]);
      await new Promise((r) => setTimeout(r, 20));
    }
    await until(() => a.received.length >= id - 2);
    expect(b.transport.counters.handshakesCompleted).toBeGreaterThanOrEqual(3);
  });

  it("keys past rejectAfterTime are not used: the next packet waits for a new handshake", async () => {
    const { a, b } = pair({ timers: { rejectAfterTime: 150, rekeyAfterTime: 10_000 } });
    send(b, [ping(B, A, 1)]);
    await until(() => a.received.length === 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(send(b, [ping(B, A, 2)])).toBe(0); // staged
    await until(() => a.received.length === 2);
    expect(b.transport.counters.handshakesCompleted).toBe(2);
  });

  it("a peer that received data and sent nothing answers with a keepalive after keepaliveTimeout", async () => {
    const { a, b } = pair({ timers: { keepaliveTimeout: 100 } });
    send(b, [ping(B, A, 1)]);
    await until(() => a.received.length === 1);
    await until(() => a.transport.counters.keepalivesSent >= 1);
    await until(() => b.transport.counters.keepalivesReceived >= 1);
  });

  it("persistent keepalive: the peer is reached at start and kept warm without traffic", async () => {
    const { a, b } = pair({ bKeepalive: 1 });
    await until(() => a.transport.counters.handshakesCompleted === 1);
    await until(() => a.transport.counters.keepalivesReceived >= 2);
    expect(b.received).toHaveLength(0);
  });

  it("under load the responder answers with a cookie; the initiator retries with mac2 and gets through", async () => {
    const { a, b } = pair({ aCookiesAfter: 0, timers: { rekeyTimeout: 100, rekeyTimeoutJitter: 0 } });
    send(b, [ping(B, A, 1)]);
    await until(() => a.received.length === 1);
    expect(a.transport.counters.cookieRepliesSent).toBe(1);
    expect(b.transport.counters.cookieRepliesReceived).toBe(1);
    expect(b.transport.counters.handshakeInitiationsSent).toBe(2);
  });

  it("a replayed initiation (the same bytes again) gets no second response", async () => {
    const { a, aKey, bKey } = pair();
    const initiation = createInitiation({ privateKey: bKey, publicKey: publicKeyOf(bKey) }, { publicKey: publicKeyOf(aKey), presharedKey: NO_PRESHARED_KEY }, 7, Date.now())!;
    new CookieGenerator(publicKeyOf(aKey), 120_000).addMacs(initiation.message, INITIATION, Date.now());
    const socket = createSocket("udp4");
    const responses: Buffer[] = [];
    socket.on("message", (m) => responses.push(m));
    await new Promise<void>((r) => socket.bind(0, "127.0.0.1", r));
    try {
      for (let i = 0; i < 2; i++) {
        socket.send(initiation.message, a.transport.localPort, "127.0.0.1");
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(responses).toHaveLength(1);
      expect(a.transport.counters.handshakeResponsesSent).toBe(1);
      expect(a.transport.counters.handshakesReplayed).toBe(1);
      expect(a.transport.peerStatus(0).endpoint).toBe(`127.0.0.1:${(socket.address() as { port: number }).port}`);
    } finally {
      socket.close();
    }
  });

  it("seals and sends a million packets without allocating (no young-generation GC, no heap growth)", async () => {
    const { a, b } = pair();
    send(b, [ping(B, A, 1)]);
    await until(() => a.received.length === 1);
    const packet = buildPacket({ src: B, dst: A, protocol: "udp", srcPort: 1, dstPort: 2, payload: 36 });
    const count = 64;
    const buf = new Uint8Array(count * packet.length);
    const offsets = new Uint32Array(count);
    const lengths = new Uint32Array(count).fill(packet.length);
    for (let i = 0; i < count; i++) {
      buf.set(packet, i * packet.length);
      offsets[i] = i * packet.length;
    }
    const verdicts = new Uint8Array(count).fill(1);
    for (let i = 0; i < 2000; i++) b.transport.send(buf, offsets, lengths, count, verdicts); // warm-up: let the JIT settle
    globalThis.gc?.();
    await new Promise((r) => setImmediate(r));
    // Any allocation per packet (16+ bytes each, 16+ MB for a million) would fill the young
    // generation and show up as scavenges, and in heap growth if it survived them.
    let scavenges = 0;
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
    });
    observer.observe({ entryTypes: ["gc"] });
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 1_000_000 / count; i++) b.transport.send(buf, offsets, lengths, count, verdicts);
    const grown = process.memoryUsage().heapUsed - before;
    await new Promise((r) => setImmediate(r));
    observer.disconnect();
    expect(b.transport.counters.sentPackets + b.transport.counters.sendErrors).toBeGreaterThanOrEqual(1_000_000);
    expect(scavenges).toBe(0);
    expect(grown).toBeLessThan(1024 * 1024);
  }, 60_000);
});
