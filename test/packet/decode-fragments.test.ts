import { describe, expect, it } from "vitest";
import { buildPacket } from "../../src/packet/builder.ts";
import { MALFORMED_FRAGMENT_OVERLAP, MALFORMED_TINY_FRAGMENT, PROTO_TCP, PROTO_UDP } from "../../src/packet/record.ts";
import { buildAndDecode, decode, reason } from "./helpers.ts";

const v4 = { src: "100.64.0.10", dst: "100.64.0.20" } as const;
const v6 = { src: "fd00::10", dst: "fd00::20" } as const;

describe.each([
  ["IPv4", v4],
  ["IPv6", v6],
] as const)("%s fragments", (_name, addresses) => {
  it("a first fragment carries the L4 header and the fragment fields", () => {
    const rec = buildAndDecode({ ...addresses, protocol: "tcp", dstPort: 443, ipId: 777, moreFragments: true, payload: 64 });
    expect(reason(rec)).toBe("none");
    expect(rec).toMatchObject({ isFragment: true, moreFragments: true, fragmentOffset: 0, ipId: 777, hasL4: true, dstPort: 443 });
  });

  it("a non-first fragment has no L4 fields", () => {
    const rec = buildAndDecode({ ...addresses, protocol: "udp", ipId: 777, fragmentOffset: 1480, payload: 100 });
    expect(reason(rec)).toBe("none");
    expect(rec).toMatchObject({
      protocol: PROTO_UDP,
      isFragment: true,
      moreFragments: false,
      fragmentOffset: 1480,
      ipId: 777,
      hasL4: false,
      srcPort: 0,
      dstPort: 0,
    });
  });

  it("a UDP first fragment may announce a datagram longer than itself", () => {
    const packet = buildPacket({ ...addresses, protocol: "udp", moreFragments: true, payload: 16 });
    const l4 = packet.length - 24;
    packet[l4 + 4] = 0x05; // UDP length 1300: the rest is in later fragments
    packet[l4 + 5] = 0x14;
    const rec = decode(packet);
    expect(reason(rec)).toBe("none");
    expect(rec.payloadLength).toBe(16);
    expect(rec.hasL4).toBe(true);
  });

  it("tiny-fragment: a TCP first fragment too short to hold the flags (RFC 1858)", () => {
    const rec = buildAndDecode({ ...addresses, protocol: "tcp", moreFragments: true, rawL4: true, payload: 8 });
    expect(rec.malformed).toBe(MALFORMED_TINY_FRAGMENT);
    expect(rec.malformedAt).toBe(rec.l4Offset);
    expect(rec.hasL4).toBe(false);
  });

  it("fragment-overlap: a TCP fragment at offset 8 bytes (RFC 1858)", () => {
    const rec = buildAndDecode({ ...addresses, protocol: "tcp", fragmentOffset: 8, payload: 16 });
    expect(rec.malformed).toBe(MALFORMED_FRAGMENT_OVERLAP);
    expect(rec.protocol).toBe(PROTO_TCP);
    expect(rec.hasL4).toBe(false);
  });

  it("a UDP fragment at offset 8 is fine (only TCP flags can be rewritten that way)", () => {
    expect(reason(buildAndDecode({ ...addresses, protocol: "udp", fragmentOffset: 8, payload: 16 }))).toBe("none");
  });
});

describe("fragment-too-long: a fragment reaching past 65,535 bytes (ping of death)", () => {
  // IPv4: header + offset + data is the reassembled total length (RFC 791).
  it.each([
    ["the classic ping of death", 65528, 8, "fragment-too-long"],
    ["offset 65528 with 1,480 bytes", 65528, 1480, "fragment-too-long"],
    ["one byte past with the header counted", 65512, 4, "fragment-too-long"],
    ["exactly 65,535 with the header", 65512, 3, "none"],
    ["well inside", 1480, 1480, "none"],
  ] as const)("IPv4: %s", (_name, fragmentOffset, payload, expected) => {
    const rec = buildAndDecode({ ...v4, protocol: "udp", ipId: 3, fragmentOffset, payload });
    expect(reason(rec)).toBe(expected);
    if (expected !== "none") expect(rec).toMatchObject({ malformedAt: 6, isFragment: true, fragmentOffset, hasL4: false });
  });

  // IPv6: extension headers before the fragment header + offset + data is the payload length (RFC 8200 4.5).
  it.each([
    ["offset 65528 with 8 bytes", 65528, 8, [], "fragment-too-long"],
    ["offset + data exactly 65,535", 65520, 15, [], "none"],
    ["offset + data 65,536", 65520, 16, [], "fragment-too-long"],
    ["a destination-options header before the fragment header counts", 65520, 8, ["destination"], "fragment-too-long"],
    ["a destination-options header, still within", 65520, 7, ["destination"], "none"],
  ] as const)("IPv6: %s", (_name, fragmentOffset, payload, extensions, expected) => {
    const rec = buildAndDecode({ ...v6, protocol: "udp", ipId: 3, fragmentOffset, payload, extensionHeaders: [...extensions] });
    expect(reason(rec)).toBe(expected);
    if (expected !== "none") expect(rec.malformedAt).toBe(40 + 8 * extensions.length);
  });

  it("a first fragment never is (its own length field bounds it)", () => {
    expect(reason(buildAndDecode({ ...v4, protocol: "udp", moreFragments: true, payload: 65000 }))).toBe("none");
    expect(reason(buildAndDecode({ ...v6, protocol: "udp", moreFragments: true, payload: 65000 }))).toBe("none");
  });
});

describe("where fragment problems are reported", () => {
  it("IPv4: at the flags/fragment field; IPv6: at the fragment header", () => {
    expect(buildAndDecode({ ...v4, protocol: "tcp", fragmentOffset: 8, payload: 8 }).malformedAt).toBe(6);
    expect(buildAndDecode({ ...v6, protocol: "tcp", fragmentOffset: 8, payload: 8, extensionHeaders: ["hop-by-hop"] }).malformedAt).toBe(48);
  });

  it("IPv4: DF beside MF does not hide the fragment", () => {
    const rec = buildAndDecode({ ...v4, protocol: "udp", dontFragment: true, moreFragments: true });
    expect(rec).toMatchObject({ moreFragments: true, isFragment: true, fragmentOffset: 0 });
  });
});
