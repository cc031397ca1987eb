// The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement
// sum of the data taken as big-endian 16-bit words. Sums are kept as plain numbers
// (they stay far below 2^53 for any packet) and folded to 16 bits at the end, so a sum
// can be started over a pseudo-header and continued over the payload.

/** Add the bytes buf[offset, offset+length) as big-endian 16-bit words to `sum` (an odd last byte is padded with zero). */
export function sumWords(buf: Uint8Array, offset: number, length: number, sum = 0): number {
  const end = offset + length;
  let i = offset;
  for (; i + 1 < end; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  if (i < end) sum += buf[i] << 8;
  return sum;
}

/** Fold a running sum to 16 bits with end-around carry. */
export function foldSum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** The checksum field value for a running sum: the complement of the folded sum. */
export function finishChecksum(sum: number): number {
  return ~foldSum(sum) & 0xffff;
}

/** The Internet checksum of buf[offset, offset+length). Over data that includes a correct checksum field it is 0. */
export function internetChecksum(buf: Uint8Array, offset: number, length: number): number {
  return finishChecksum(sumWords(buf, offset, length));
}

/** Sum of the IPv4 pseudo-header (RFC 793/768): source, destination, protocol, L4 length. */
export function pseudoHeaderSumV4(src: number, dst: number, protocol: number, l4Length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + l4Length;
}

function wordPairSum(word: number): number {
  return (word >>> 16) + (word & 0xffff);
}

/** Sum of the IPv6 pseudo-header (RFC 8200 section 8.1): both addresses as words, upper-layer length, next header. */
export function pseudoHeaderSumV6(
  src: ArrayLike<number>,
  dst: ArrayLike<number>,
  nextHeader: number,
  l4Length: number,
): number {
  let sum = nextHeader + (l4Length >>> 16) + (l4Length & 0xffff);
  for (let i = 0; i < 4; i++) sum += wordPairSum(src[i]) + wordPairSum(dst[i]);
  return sum;
}

/**
 * The TCP/UDP/ICMPv6 checksum of the L4 segment buf[l4Offset, l4Offset+l4Length) of the IP packet
 * starting at `ipOffset`, with the pseudo-header taken from that packet's addresses. The checksum
 * field inside the segment must be zero when computing, or left in place when verifying (result 0).
 */
export function transportChecksum(
  buf: Uint8Array,
  ipOffset: number,
  l4Offset: number,
  l4Length: number,
  protocol: number,
): number {
  let sum: number;
  if (buf[ipOffset] >> 4 === 4) {
    // Source and destination sit at bytes 12..19 of the IPv4 header.
    sum = sumWords(buf, ipOffset + 12, 8) + protocol + l4Length;
  } else {
    // Source and destination sit at bytes 8..39 of the IPv6 header.
    sum = sumWords(buf, ipOffset + 8, 32) + protocol + (l4Length >>> 16) + (l4Length & 0xffff);
  }
  return finishChecksum(sumWords(buf, l4Offset, l4Length, sum));
}

/**
 * RFC 1624 incremental update (eqn. 3: HC' = ~(~HC + ~m + m')): the new checksum field
 * after one 16-bit word of the covered data changes from `oldWord` to `newWord`.
 */
export function updateChecksum16(oldChecksum: number, oldWord: number, newWord: number): number {
  const sum = (~oldChecksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  return ~foldSum(sum) & 0xffff;
}

/** Incremental update for a 32-bit field (an IPv4 address, a sequence number): two 16-bit updates. */
export function updateChecksum32(oldChecksum: number, oldValue: number, newValue: number): number {
  const high = updateChecksum16(oldChecksum, oldValue >>> 16, newValue >>> 16);
  return updateChecksum16(high, oldValue & 0xffff, newValue & 0xffff);
}
