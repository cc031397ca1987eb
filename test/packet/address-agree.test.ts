// The hot path's word-level address code agrees with ipaddr.js, the library that reads
// and writes address text on the cold paths: on random IPv4 and IPv6 addresses and
// prefixes, the words the decoder reads from a packet are the address's bytes, the
// masking of a prefix is ipaddr's network address, and cidrContains is ipaddr's match.

import fc from "fast-check";
import ipaddr from "ipaddr.js";
import { describe, expect, it } from "vitest";
import { cidrContains, formatIp, parseCidr, parseIp, type AddressWords } from "../../src/packet/address.ts";
import { buildPacket } from "../../src/packet/builder.ts";
import { decodePacket } from "../../src/packet/decode.ts";
import { PacketRecord } from "../../src/packet/record.ts";

const byte = fc.integer({ min: 0, max: 255 });
const v4 = fc.array(byte, { minLength: 4, maxLength: 4 });
// IPv6 with runs of zero groups, so that "::" compression is exercised.
const v6 = fc.array(fc.oneof(fc.constant(0), fc.constant(0), byte), { minLength: 16, maxLength: 16 });
const address = fc.oneof(v4, v6);

function wordsOf(bytes: number[]): AddressWords {
  const words: AddressWords = [0, 0, 0, 0];
  for (let i = 0; i < bytes.length; i += 4) words[i / 4] = ((bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3]) >>> 0;
  return words;
}

describe("word-level addresses agree with ipaddr.js", () => {
  it("the text round-trips, and a decoded packet's address words are the address's bytes", () => {
    const rec = new PacketRecord();
    fc.assert(
      fc.property(address, address, (srcBytes, dstRaw) => {
        const dstBytes = dstRaw.length === srcBytes.length ? dstRaw : srcBytes.length === 4 ? dstRaw.slice(0, 4) : [...dstRaw, ...dstRaw, ...dstRaw, ...dstRaw].slice(0, 16);
        const src = ipaddr.fromByteArray(srcBytes).toString();
        const dst = ipaddr.fromByteArray(dstBytes).toString();
        const words = wordsOf(srcBytes);
        expect(parseIp(src).words).toEqual(words);
        // formatIp's text names the same address for ipaddr.
        expect(ipaddr.parse(formatIp(srcBytes.length === 4 ? 4 : 6, ...words)).toByteArray()).toEqual(srcBytes);
        const packet = buildPacket({ src, dst, protocol: "udp", srcPort: 1000, dstPort: 53 });
        expect(decodePacket(packet, 0, packet.length, rec)).toBe(true);
        expect([rec.src0, rec.src1, rec.src2, rec.src3]).toEqual(words);
        expect([rec.dst0, rec.dst1, rec.dst2, rec.dst3]).toEqual(wordsOf(dstBytes));
      }),
      { numRuns: 500 },
    );
  });

  it("a prefix's masked words are ipaddr's network address, and cidrContains is ipaddr's match", () => {
    fc.assert(
      fc.property(address, address, fc.integer({ min: 0, max: 128 }), (netBytes, hostRaw, rawLength) => {
        const version = netBytes.length === 4 ? 4 : 6;
        const length = version === 4 ? rawLength % 33 : rawLength;
        const hostBytes = version === 4 ? hostRaw.slice(0, 4).concat([0, 0, 0, 0]).slice(0, 4) : [...hostRaw, ...hostRaw, ...hostRaw, ...hostRaw].slice(0, 16);
        const net = ipaddr.fromByteArray(netBytes);
        const text = `${net.toString()}/${length}`;
        const cidr = parseCidr(text);
        const network = version === 4 ? ipaddr.IPv4.networkAddressFromCIDR(text) : ipaddr.IPv6.networkAddressFromCIDR(text);
        expect(cidr.words).toEqual(wordsOf(network.toByteArray()));
        expect(cidr.hostBitsSet).toBe(network.toString() !== net.toString());
        const host = ipaddr.fromByteArray(hostBytes);
        const expected = host.kind() === net.kind() && host.match(ipaddr.parseCIDR(text));
        expect(cidrContains(cidr, version, wordsOf(hostBytes))).toBe(expected);
        // The prefix's own network address is always inside it.
        expect(cidrContains(cidr, version, cidr.words)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
