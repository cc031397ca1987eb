// Parses the CIDR strings of a compiled policy once each. Large policies repeat the
// same prefixes (a group's peers appear in many rules), so parsing through a cache
// keeps building 100,000 rules fast.

import { AddressError, maskWord, parseCidr, type ParsedCidr } from "../packet/address.ts";
import { FilterError } from "./filter-error.ts";

export class CidrCache {
  private readonly parsed = new Map<string, ParsedCidr>();

  /** The parsed prefix; throws FilterError naming `path` when the text is not an address or CIDR. */
  parse(text: string, path: string): ParsedCidr {
    if (typeof text !== "string") throw new FilterError(path, `expected a CIDR string, got ${typeof text}`);
    let cidr = this.parsed.get(text);
    if (cidr === undefined) {
      try {
        cidr = parseIpv4CidrQuickly(text) ?? parseCidr(text);
      } catch (error) {
        if (error instanceof AddressError) throw new FilterError(path, error.message);
        throw error;
      }
      this.parsed.set(text, cidr);
    }
    return cidr;
  }

  parseAll(texts: readonly string[], path: string): ParsedCidr[] {
    if (!Array.isArray(texts)) throw new FilterError(path, "expected a list of CIDR strings");
    return texts.map((text, i) => this.parse(text, `${path}[${i}]`));
  }
}

const DOT = 46;
const SLASH = 47;
const DIGIT_0 = 48;
const DIGIT_9 = 57;

/**
 * The common case, "a.b.c.d/len" or "a.b.c.d" in canonical form, parsed with a char loop
 * (large policies hold hundreds of thousands of these). Returns null for anything else
 * (IPv6, leading zeros, out-of-range values, junk), which then goes through parseCidr
 * and gets its exact error message there.
 */
function parseIpv4CidrQuickly(text: string): ParsedCidr | null {
  let address = 0;
  let octets = 0;
  let value = -1; // digits of the current number; -1 before its first digit
  let digits = 0;
  let at = 0;
  for (; at < text.length; at++) {
    const c = text.charCodeAt(at);
    if (c >= DIGIT_0 && c <= DIGIT_9) {
      if (value === 0) return null; // leading zero
      value = (value < 0 ? 0 : value * 10) + (c - DIGIT_0);
      if (++digits > 3 || value > 255) return null;
      continue;
    }
    if (c !== DOT && c !== SLASH) return null;
    if (value < 0) return null;
    address = address * 256 + value;
    octets++;
    value = -1;
    digits = 0;
    if (c === SLASH) break;
    if (octets === 4) return null;
  }
  let prefixLength = 32;
  if (at === text.length) {
    if (value < 0 || octets !== 3) return null;
    address = address * 256 + value;
    octets++;
  } else {
    if (octets !== 4) return null;
    const lengthText = text.slice(at + 1);
    if (!/^(0|[1-9][0-9]?)$/.test(lengthText)) return null;
    prefixLength = Number(lengthText);
    if (prefixLength > 32) return null;
  }
  const masked = (address & maskWord(prefixLength)) >>> 0;
  return { version: 4, words: [masked, 0, 0, 0], prefixLength, hostBitsSet: masked !== address };
}
