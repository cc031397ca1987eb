// IP address and CIDR text <-> numbers, for the cold path (policy compilation, CLI
// output, tests). The hot path never sees strings: it works on the uint32 words these
// functions produce, laid out exactly like PacketRecord's src0..src3 / dst0..dst3
// (IPv4 in word 0, the other words 0; IPv6 as four words, most significant first).

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

const IPV4_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Parse dotted-quad IPv4 text into one uint32. Leading zeros are refused (ambiguous: octal?). */
export function parseIpv4(text: string): number {
  const parts = text.split(".");
  if (parts.length !== 4) throw new AddressError(text, "IPv4 needs four dot-separated numbers");
  let value = 0;
  for (const part of parts) {
    if (!IPV4_OCTET.test(part)) throw new AddressError(text, `"${part}" is not a decimal octet`);
    const octet = Number(part);
    if (octet > 255) throw new AddressError(text, `octet ${octet} is above 255`);
    value = value * 256 + octet;
  }
  return value >>> 0;
}

/** Parse IPv6 text (RFC 4291 forms: "::", groups, trailing dotted IPv4) into four words. */
export function parseIpv6(text: string): AddressWords {
  if (text.includes("%")) throw new AddressError(text, "zone identifiers are not supported");
  const halves = text.split("::");
  if (halves.length > 2) throw new AddressError(text, '"::" may appear only once');
  const head = halves[0] === "" ? [] : halves[0].split(":");
  const tail = halves.length === 2 && halves[1] !== "" ? halves[1].split(":") : [];
  const groups: number[] = [];
  const pushGroups = (parts: string[], isLast: boolean): void => {
    parts.forEach((part, i) => {
      if (isLast && i === parts.length - 1 && part.includes(".")) {
        const v4 = parseIpv4(part);
        groups.push(v4 >>> 16, v4 & 0xffff);
        return;
      }
      if (!HEX_GROUP.test(part)) throw new AddressError(text, `"${part}" is not a group of 1-4 hex digits`);
      groups.push(parseInt(part, 16));
    });
  };
  pushGroups(head, halves.length === 1);
  const headCount = groups.length;
  pushGroups(tail, true);
  if (halves.length === 1) {
    if (groups.length !== 8) throw new AddressError(text, "IPv6 needs eight groups (or \"::\")");
  } else {
    if (groups.length > 7) throw new AddressError(text, '"::" must stand for at least one group');
    const zeros = new Array<number>(8 - groups.length).fill(0);
    groups.splice(headCount, 0, ...zeros);
  }
  return [
    ((groups[0] << 16) | groups[1]) >>> 0,
    ((groups[2] << 16) | groups[3]) >>> 0,
    ((groups[4] << 16) | groups[5]) >>> 0,
    ((groups[6] << 16) | groups[7]) >>> 0,
  ];
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
  return `${word >>> 24}.${(word >>> 16) & 0xff}.${(word >>> 8) & 0xff}.${word & 0xff}`;
}

/** Format four words as IPv6 in the RFC 5952 canonical form (lower case, longest zero run as "::"). */
export function formatIpv6(w0: number, w1: number, w2: number, w3: number): string {
  const words = [w0, w1, w2, w3];
  const groups: number[] = [];
  for (const w of words) groups.push((w >>> 16) & 0xffff, w & 0xffff);
  // IPv4-mapped addresses read best with the IPv4 part dotted (RFC 5952 section 5).
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) return `::ffff:${formatIpv4(w3 >>> 0)}`;
  let bestStart = -1;
  let bestLength = 1; // a single zero group is never compressed (RFC 5952 4.2.2)
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
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
