import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  AddressError,
  cidrContains,
  formatIp,
  formatIpv4,
  formatIpv6,
  formatParsed,
  maskWord,
  parseCidr,
  parseIp,
  parseIpv4,
  parseIpv6,
  tryParseIp,
} from "../../src/packet/address.ts";

describe("IPv4 text", () => {
  it("parses dotted quads to one uint32", () => {
    expect(parseIpv4("100.64.0.10")).toBe(0x6440000a);
    expect(parseIpv4("255.255.255.255")).toBe(0xffffffff);
    expect(parseIpv4("0.0.0.0")).toBe(0);
    expect(parseIp("198.18.1.7")).toEqual({ version: 4, words: [0xc6120107, 0, 0, 0] });
  });

  it.each(["1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "a.b.c.d", "1..2.3", "", "1.2.3.-4"])(
    "refuses %j with an AddressError naming the text",
    (text) => {
      expect(() => parseIpv4(text)).toThrow(AddressError);
      expect(() => parseIpv4(text)).toThrow(`"${text}"`);
    },
  );

  it("formats uint32 back to text", () => {
    expect(formatIpv4(0x6440000a)).toBe("100.64.0.10");
    expect(formatIpv4(0xffffffff)).toBe("255.255.255.255");
  });
});

describe("IPv6 text", () => {
  it("parses full, compressed and dotted-tail forms", () => {
    expect(parseIpv6("fd00::1")).toEqual([0xfd000000, 0, 0, 1]);
    expect(parseIpv6("::")).toEqual([0, 0, 0, 0]);
    expect(parseIpv6("::1")).toEqual([0, 0, 0, 1]);
    expect(parseIpv6("1::")).toEqual([0x00010000, 0, 0, 0]);
    expect(parseIpv6("2001:db8:0:0:1:0:0:1")).toEqual([0x20010db8, 0, 0x00010000, 1]);
    expect(parseIpv6("::ffff:100.64.0.10")).toEqual([0, 0, 0xffff, 0x6440000a]);
    expect(parseIpv6("FD00:AB::CD")).toEqual([0xfd0000ab, 0, 0, 0xcd]);
  });

  it.each(["1:2:3:4:5:6:7", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "fe80::1%eth0", "g::1", ":1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8::"])(
    "refuses %j",
    (text) => {
      expect(() => parseIpv6(text)).toThrow(AddressError);
    },
  );

  it("formats in RFC 5952 canonical form", () => {
    expect(formatIpv6(0x20010db8, 0, 0x00010000, 1)).toBe("2001:db8::1:0:0:1");
    expect(formatIpv6(0xfd000000, 0, 0, 1)).toBe("fd00::1");
    expect(formatIpv6(0, 0, 0, 0)).toBe("::");
    expect(formatIpv6(0x20010db8, 0x00000001, 0x00010001, 0x00010001)).toBe("2001:db8:0:1:1:1:1:1");
    expect(formatIpv6(0, 0, 0xffff, 0x6440000a)).toBe("::ffff:100.64.0.10");
    expect(formatIp(6, 0xfd000000, 0, 0, 1)).toBe("fd00::1");
    expect(formatIp(4, 0x6440000a)).toBe("100.64.0.10");
  });

  it("round-trips any address through format and parse", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(0xffffffff), { minLength: 4, maxLength: 4 }), (words) => {
        const text = formatIpv6(words[0], words[1], words[2], words[3]);
        expect(parseIpv6(text)).toEqual(words);
      }),
    );
    fc.assert(
      fc.property(fc.nat(0xffffffff), (word) => {
        expect(parseIpv4(formatIpv4(word))).toBe(word);
      }),
    );
  });
});

describe("parseIp / tryParseIp", () => {
  it("tells the versions apart and trims blanks", () => {
    expect(parseIp(" fd00::1 ").version).toBe(6);
    expect(parseIp("10.0.0.1").version).toBe(4);
    expect(() => parseIp("localhost")).toThrow(/neither IPv4/);
    expect(tryParseIp("nope")).toBeNull();
    expect(tryParseIp("10.0.0.1")?.words[0]).toBe(0x0a000001);
  });
});

describe("CIDR", () => {
  it("parses prefixes and masks host bits, saying so", () => {
    expect(parseCidr("100.64.0.0/16")).toEqual({ version: 4, words: [0x64400000, 0, 0, 0], prefixLength: 16, hostBitsSet: false });
    expect(parseCidr("100.64.0.10/16")).toMatchObject({ words: [0x64400000, 0, 0, 0], hostBitsSet: true });
    expect(parseCidr("100.64.0.10")).toMatchObject({ prefixLength: 32, hostBitsSet: false });
    expect(parseCidr("0.0.0.0/0")).toMatchObject({ words: [0, 0, 0, 0], prefixLength: 0 });
    expect(parseCidr("fd00::1/64")).toMatchObject({ version: 6, words: [0xfd000000, 0, 0, 0], prefixLength: 64, hostBitsSet: true });
    expect(parseCidr("fd00:1:2:3:4::/80").words).toEqual([0xfd000001, 0x00020003, 0x00040000, 0]);
    expect(parseCidr("::/0").prefixLength).toBe(0);
    expect(parseCidr("fd00::5").prefixLength).toBe(128);
  });

  it.each(["10.0.0.0/33", "fd00::/129", "10.0.0.0/x", "10.0.0.0/", "10.0.0.0/-1"])("refuses %j", (text) => {
    expect(() => parseCidr(text)).toThrow(AddressError);
  });

  it("formats back and tests membership", () => {
    expect(formatParsed(parseCidr("198.18.1.0/24"))).toBe("198.18.1.0/24");
    expect(formatParsed(parseIp("fd00::1"))).toBe("fd00::1");
    const lan = parseCidr("198.18.1.0/24");
    expect(cidrContains(lan, 4, [parseIpv4("198.18.1.77"), 0, 0, 0])).toBe(true);
    expect(cidrContains(lan, 4, [parseIpv4("198.18.2.1"), 0, 0, 0])).toBe(false);
    expect(cidrContains(lan, 6, [0, 0, 0, 0])).toBe(false);
    expect(cidrContains(parseCidr("fd00::/8"), 6, parseIpv6("fdff::9"))).toBe(true);
    expect(cidrContains(parseCidr("fd00::/8"), 6, parseIpv6("fe00::9"))).toBe(false);
    expect(maskWord(0)).toBe(0);
    expect(maskWord(8)).toBe(0xff000000);
    expect(maskWord(40)).toBe(0xffffffff);
  });
});
