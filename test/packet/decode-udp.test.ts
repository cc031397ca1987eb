import { describe, expect, it } from "vitest";
import { buildPacket } from "../../src/packet/builder.ts";
import { MALFORMED_BAD_CHECKSUM, MALFORMED_BAD_UDP_LENGTH, MALFORMED_TRUNCATED, PROTO_UDP } from "../../src/packet/record.ts";
import { buildAndDecode, decode, reason, setU16 } from "./helpers.ts";

const v4 = { src: "100.64.0.10", dst: "100.64.0.20", protocol: "udp" } as const;
const v6 = { src: "fd00::10", dst: "fd00::20", protocol: "udp" } as const;

describe("UDP header fields", () => {
  it.each([
    ["IPv4", v4, 20],
    ["IPv6", v6, 40],
  ] as const)("%s: ports, length, payload", (_name, addresses, ipHeader) => {
    const rec = buildAndDecode({ ...addresses, srcPort: 51820, dstPort: 53, payload: 17 });
    expect(reason(rec)).toBe("none");
    expect(rec).toMatchObject({
      protocol: PROTO_UDP,
      hasL4: true,
      srcPort: 51820,
      dstPort: 53,
      l4Offset: ipHeader,
      payloadOffset: ipHeader + 8,
      payloadLength: 17,
    });
  });

  it("takes the payload length from the UDP length when it is shorter than the IP payload", () => {
    const packet = setU16(buildPacket({ ...v4, payload: 10 }), 24, 12);
    const rec = decode(packet);
    expect(reason(rec)).toBe("none");
    expect(rec.payloadLength).toBe(4);
  });

  it("accepts a zero checksum (not computed) even when verifying", () => {
    const packet = setU16(buildPacket({ ...v4, payload: 3 }), 26, 0);
    expect(reason(decode(packet, true))).toBe("none");
  });
});

describe("UDP malformed reasons", () => {
  it("truncated: fewer than 8 bytes", () => {
    const rec = buildAndDecode({ ...v4, rawL4: true, payload: 7 });
    expect(rec.malformed).toBe(MALFORMED_TRUNCATED);
    expect(rec.malformedAt).toBe(20);
  });

  it("bad-udp-length: below 8 or beyond the datagram", () => {
    const short = decode(setU16(buildPacket({ ...v6, payload: 4 }), 44, 7));
    expect(short.malformed).toBe(MALFORMED_BAD_UDP_LENGTH);
    expect(short.malformedAt).toBe(44);
    expect(short.hasL4).toBe(false);
    const long = decode(setU16(buildPacket({ ...v4, payload: 4 }), 24, 13));
    expect(long.malformed).toBe(MALFORMED_BAD_UDP_LENGTH);
    expect(long.malformedAt).toBe(24);
  });

  it("bad-checksum: only when verification is asked for", () => {
    for (const addresses of [v4, v6]) {
      const packet = buildPacket({ ...addresses, payload: 4 });
      packet[packet.length - 2] ^= 0x10;
      expect(decode(packet).malformed).toBe(0);
      const rec = decode(packet, true);
      expect(rec.malformed).toBe(MALFORMED_BAD_CHECKSUM);
      expect(rec.malformedAt).toBe(rec.l4Offset + 6);
    }
  });
});
