// IP address and CIDR text <-> numbers, for the cold path (policy compilation, CLI
// output, flow logs, tests). The hot path never sees strings: it works on the uint32
// words these functions produce, laid out exactly like PacketRecord's src0..src3 /
// dst0..dst3 (IPv4 in word 0, the other words 0; IPv6 as four words, most significant
// first), and matches them with maskWord and cidrContains below.
//
// Text is read and written by ipaddr.js (every IPv6 form, IPv4-mapped addresses, zone
// syntax, RFC 5952 output); this file only turns its bytes into words and back, and
// holds the rules it adds: IPv4 in four decimal parts only (no "10.1", no hex or octal,
// no leading zeros), no zone in an address a policy or packet names.

import ipaddr from "ipaddr.js";

/** Four uint32 words; IPv4 uses the first only. */
export type AddressWords = [number, number, number, number];

export interface ParsedIp {
  version: 4 | 6;
  words: AddressWords;
}

export interface ParsedCidr extends ParsedIp {
  /** Prefix length: 0..32 for IPv4, 0..128 for IPv6 (a bare address gets the full length). */
  prefixLength: number;
  /** True when the text had bits set past the prefix ("10.0.0.1/8"); `words` are masked anyway. */
  hostBitsSet: boolean;
}

/** A malformed address or CIDR; the message quotes the text and says what is wrong. */
export class AddressError extends Error {
  constructor(
    readonly text: string,
    reason: string,
  ) {
    super(`invalid IP address "${text}": ${reason}`);
    this.name = "AddressError";
  }
}

/** Parse dotted-quad IPv4 text into one uint32. Leading zeros are refused (ambiguous: octal?). */
export function parseIpv4(text: string): number {
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) {
    throw new AddressError(text, "IPv4 needs four decimal numbers 0-255, without leading zeros");
  }
  const [a, b, c, d] = ipaddr.IPv4.parse(text).octets;
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

/** Parse IPv6 text (RFC 4291 forms: "::", groups, trailing dotted IPv4) into four words. */
export function parseIpv6(text: string): AddressWords {
  if (text.includes("%")) throw new AddressError(text, "zone identifiers are not supported (a policy or overlay address names no interface)");
  if (!ipaddr.IPv6.isValid(text)) {
    throw new AddressError(text, 'IPv6 needs eight groups of 1-4 hex digits, with "::" at most once for a run of zero groups');
  }
  const p = ipaddr.IPv6.parse(text).parts;
  return [((p[0] << 16) | p[1]) >>> 0, ((p[2] << 16) | p[3]) >>> 0, ((p[4] << 16) | p[5]) >>> 0, ((p[6] << 16) | p[7]) >>> 0];
}

/** Parse an IPv4 or IPv6 address; throws AddressError when it is neither. */
export function parseIp(text: string): ParsedIp {
  const trimmed = text.trim();
  if (trimmed.includes(":")) return { version: 6, words: parseIpv6(trimmed) };
  if (trimmed.includes(".")) return { version: 4, words: [parseIpv4(trimmed), 0, 0, 0] };
  throw new AddressError(text, "neither IPv4 (dotted) nor IPv6 (colons)");
}

/** Like parseIp, but returns null instead of throwing. */
export function tryParseIp(text: string): ParsedIp | null {
  try {
    return parseIp(text);
  } catch {
    return null;
  }
}

/** The network mask word for `prefixLength` bits counted inside one 32-bit word. */
export function maskWord(bitsInWord: number): number {
  if (bitsInWord <= 0) return 0;
  if (bitsInWord >= 32) return 0xffffffff;
  return (0xffffffff << (32 - bitsInWord)) >>> 0;
}

/** Parse "10.0.0.0/8", "fd00::/8" or a bare address (a host prefix). Host bits are masked off. */
export function parseCidr(text: string): ParsedCidr {
  const trimmed = text.trim();
  const slash = trimmed.indexOf("/");
  const ip = parseIp(slash < 0 ? trimmed : trimmed.slice(0, slash));
  const maxLength = ip.version === 4 ? 32 : 128;
  let prefixLength = maxLength;
  if (slash >= 0) {
    const lengthText = trimmed.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(lengthText)) throw new AddressError(text, `prefix length "${lengthText}" is not a number`);
    prefixLength = Number(lengthText);
    if (prefixLength > maxLength) {
      throw new AddressError(text, `prefix length ${prefixLength} exceeds ${maxLength} for IPv${ip.version}`);
    }
  }
  let hostBitsSet = false;
  const words = ip.words.map((word, i) => {
    const masked = (word & maskWord(prefixLength - 32 * i)) >>> 0;
    if (masked !== word) hostBitsSet = true;
    return masked;
  }) as AddressWords;
  return { version: ip.version, words, prefixLength, hostBitsSet };
}

/** Format one uint32 as dotted-quad IPv4. */
export function formatIpv4(word: number): string {
  return ipaddr.fromByteArray([word >>> 24, (word >>> 16) & 0xff, (word >>> 8) & 0xff, word & 0xff]).toString();
}

/** Format four words as IPv6 in the RFC 5952 canonical form (lower case, longest zero run as "::"). */
export function formatIpv6(w0: number, w1: number, w2: number, w3: number): string {
  const bytes: number[] = [];
  for (const w of [w0, w1, w2, w3]) bytes.push(w >>> 24, (w >>> 16) & 0xff, (w >>> 8) & 0xff, w & 0xff);
  const address = ipaddr.fromByteArray(bytes) as ipaddr.IPv6;
  // IPv4-mapped addresses read best with the IPv4 part dotted (RFC 5952 section 5).
  if (address.isIPv4MappedAddress()) return `::ffff:${address.toIPv4Address().toString()}`;
  return address.toRFC5952String();
}

/** Format an address given as version plus words (e.g. a PacketRecord's src0..src3). */
export function formatIp(version: number, w0: number, w1 = 0, w2 = 0, w3 = 0): string {
  return version === 6 ? formatIpv6(w0, w1, w2, w3) : formatIpv4(w0);
}

/** Format a parsed address or CIDR back to text ("10.0.0.0/8" when a prefix length is present). */
export function formatParsed(parsed: ParsedIp | ParsedCidr): string {
  const [w0, w1, w2, w3] = parsed.words;
  const address = formatIp(parsed.version, w0, w1, w2, w3);
  return "prefixLength" in parsed ? `${address}/${parsed.prefixLength}` : address;
}

/** True when the address words fall inside the CIDR (same version, prefix bits equal). */
export function cidrContains(cidr: ParsedCidr, version: number, words: ArrayLike<number>): boolean {
  if (cidr.version !== version) return false;
  const count = version === 4 ? 1 : 4;
  for (let i = 0; i < count; i++) {
    const mask = maskWord(cidr.prefixLength - 32 * i);
    if (((words[i] & mask) >>> 0) !== cidr.words[i]) return false;
  }
  return true;
}
