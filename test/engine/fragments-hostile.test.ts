// Fragments on hostile input, through the engine: nothing reaching past 65,535 bytes
// passes (`fragment-too-long`), and first fragments from senders the rules refuse, or a
// flood from one sender they allow, cannot evict another sender's datagram.

import { describe, expect, it } from "vitest";
import { buildPacket } from "../../src/packet/builder.ts";
import type { PacketSpec } from "../../src/packet/builder.ts";
import { ALICE, DB, Harness, policyFor, WEB } from "./helpers.ts";

const first = (src: string, dst: string, id: number, dstPort = 53): PacketSpec => ({
  src, dst, protocol: "udp", srcPort: 5000, dstPort, ipId: id, moreFragments: true, payload: 64,
});
const rest = (src: string, dst: string, id: number, offset: number, more: boolean, payload = 64): PacketSpec => ({
  src, dst, protocol: "udp", ipId: id, fragmentOffset: offset, moreFragments: more, payload,
});

describe("fragment-too-long", () => {
  it("an IPv4 fragment reaching past 65,535 bytes is dropped, even after an accepted first fragment", () => {
    const h = new Harness();
    expect(h.inWhy(first(ALICE, DB, 7))).toBe("accept:rule");
    expect(h.inWhy(rest(ALICE, DB, 7, 72, true))).toBe("accept:fragment");
    expect(h.inWhy(rest(ALICE, DB, 7, 65528, false, 8))).toBe("drop:fragment-too-long");
    expect(h.inWhy(rest(ALICE, DB, 7, 65512, false, 4))).toBe("drop:fragment-too-long"); // 20 + 65512 + 4
    expect(h.inWhy(rest(ALICE, DB, 7, 65504, false, 8))).toBe("accept:fragment"); // 65,532: fits
    expect(h.engine.reasonCounts[h.engine.lastReason]).toBe(2);
  });

  it("an IPv6 fragment reaching past 65,535 bytes is dropped", () => {
    const self = "fd00::20";
    const policy = policyFor(DB, { inbound: [{ id: "udp6", protocol: "udp", sources: ["fd00::/64"], destinations: [`${self}/128`] }] });
    policy.peer.addresses = [DB, self];
    const h = new Harness(policy);
    expect(h.inWhy(first("fd00::10", self, 0x1234567))).toBe("accept:rule");
    expect(h.inWhy(rest("fd00::10", self, 0x1234567, 72, true))).toBe("accept:fragment");
    expect(h.inWhy(rest("fd00::10", self, 0x1234567, 65528, false, 8))).toBe("drop:fragment-too-long");
    expect(h.inWhy({ ...rest("fd00::10", self, 0x1234567, 65520, false, 8), extensionHeaders: ["destination"] })).toBe("drop:fragment-too-long");
    expect(h.inWhy(rest("fd00::10", self, 0x1234567, 65520, false, 15))).toBe("accept:fragment");
  });

  it("outbound too", () => {
    const h = new Harness();
    expect(h.outWhy(first(DB, WEB, 9))).toBe("accept:outbound");
    expect(h.outWhy(rest(DB, WEB, 9, 65528, false, 8))).toBe("drop:fragment-too-long");
  });
});

describe("the fragment table under a flood", () => {
  it("10,000 first fragments from spoofed, disallowed senders do not evict an allowed sender's datagram", () => {
    const h = new Harness();
    expect(h.inWhy(first(ALICE, DB, 42))).toBe("accept:rule");
    const spoofed = buildPacket(first("10.0.0.1", DB, 1));
    for (let i = 0; i < 10_000; i++) {
      // Source 10.x.y.z and id vary; the header checksum is not verified by default.
      spoofed[13] = (i >> 8) & 255;
      spoofed[14] = i & 255;
      spoofed[5] = i & 255;
      expect(h.engine.inbound(spoofed, 0, spoofed.length)).toBe(0);
    }
    expect(h.engine.reasonCounts[h.engine.lastReason]).toBe(10_000);
    expect(h.engine.reasonName(h.engine.lastReason)).toBe("no-rule");
    expect(h.inWhy(rest(ALICE, DB, 42, 72, false))).toBe("accept:fragment");
    // The spoofed datagrams' tails are dropped: their first fragments were.
    const tail = buildPacket(rest("10.0.0.7", DB, 7, 72, false));
    expect(h.inWhy(tail)).toMatch(/^drop:fragment-(first-dropped|no-first)$/);
  });

  it("a flood of first fragments from one allowed sender does not evict another sender's datagram", () => {
    const h = new Harness();
    expect(h.inWhy(first(ALICE, DB, 42))).toBe("accept:rule");
    const flood = buildPacket(first(WEB, DB, 1));
    for (let i = 0; i < 10_000; i++) {
      flood[4] = (i >> 8) & 255;
      flood[5] = i & 255;
      h.engine.inbound(flood, 0, flood.length);
    }
    expect(h.inWhy(rest(ALICE, DB, 42, 72, false))).toBe("accept:fragment");
  });
});
