// MSS clamping: lower the MSS option of TCP SYN and SYN-ACK segments so that full-sized
// segments fit the tunnel MTU. Without it, hosts on both ends offer an MSS for their
// 1500-byte LAN, full segments do not fit the TUN MTU, and bulk TCP stalls on PMTU
// discovery that an overlay often breaks. The checksum is patched incrementally
// (RFC 1624), not recomputed. Runs on the hot path: no allocation.

import { updateChecksum16 } from "../packet/checksum.ts";
import { IPV4_PROTOCOL, IPV4_FLAGS_FRAGMENT, IPV4_OFFSET_MASK, IPV6_HEADER, IPV6_NEXT_HEADER, TCP_CHECKSUM, TCP_DATA_OFFSET, TCP_FLAGS, TCP_MIN_HEADER, TCPOPT_END, TCPOPT_MSS, TCPOPT_NOP } from "../packet/layout.ts";
import { PROTO_TCP, TCP_SYN } from "../packet/record.ts";

/** The largest MSS that fits a tunnel of `mtu` bytes: MTU minus the IP and TCP headers without options. */
export function mssForMtu(mtu: number, ipVersion: 4 | 6): number {
  return mtu - (ipVersion === 4 ? 20 : 40) - TCP_MIN_HEADER;
}

function swap16(v: number): number {
  return ((v & 0xff) << 8) | (v >>> 8);
}

/**
 * If buf[offset, offset+length) is a TCP segment with SYN set whose MSS option exceeds
 * the MSS for `mtu`, lowers it and fixes the TCP checksum. Returns true when it changed the packet.
 * IPv6 packets with extension headers before TCP are left alone (SYNs never carry them in practice).
 */
export function clampMss(buf: Uint8Array, offset: number, length: number, mtu: number): boolean {
  if (length < 20) return false;
  const version = buf[offset] >> 4;
  let l4: number;
  let maxMss: number;
  if (version === 4) {
    if (buf[offset + IPV4_PROTOCOL] !== PROTO_TCP) return false;
    // A non-first fragment has no TCP header; a first fragment has one and is handled as usual.
    if ((((buf[offset + IPV4_FLAGS_FRAGMENT] << 8) | buf[offset + IPV4_FLAGS_FRAGMENT + 1]) & IPV4_OFFSET_MASK) !== 0) return false;
    l4 = offset + (buf[offset] & 0x0f) * 4;
    maxMss = mssForMtu(mtu, 4);
  } else if (version === 6) {
    if (buf[offset + IPV6_NEXT_HEADER] !== PROTO_TCP) return false;
    l4 = offset + IPV6_HEADER;
    maxMss = mssForMtu(mtu, 6);
  } else {
    return false;
  }
  const end = offset + length;
  if (l4 + TCP_MIN_HEADER > end || (buf[l4 + TCP_FLAGS] & TCP_SYN) === 0) return false;
  const optionsEnd = l4 + (buf[l4 + TCP_DATA_OFFSET] >> 4) * 4;
  if (optionsEnd > end) return false;
  let i = l4 + TCP_MIN_HEADER;
  while (i < optionsEnd) {
    const kind = buf[i];
    if (kind === TCPOPT_END) return false;
    if (kind === TCPOPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= optionsEnd) return false;
    const optionLength = buf[i + 1];
    if (optionLength < 2 || i + optionLength > optionsEnd) return false;
    if (kind === TCPOPT_MSS && optionLength === 4) {
      const mss = (buf[i + 2] << 8) | buf[i + 3];
      if (mss <= maxMss) return false;
      const checksum = (buf[l4 + TCP_CHECKSUM] << 8) | buf[l4 + TCP_CHECKSUM + 1];
      // The checksum sums 16-bit words aligned to the TCP header; a value at an odd offset
      // straddles two words and contributes its bytes swapped.
      const aligned = ((i + 2 - l4) & 1) === 0;
      const updated = aligned ? updateChecksum16(checksum, mss, maxMss) : updateChecksum16(checksum, swap16(mss), swap16(maxMss));
      buf[i + 2] = maxMss >> 8;
      buf[i + 3] = maxMss & 0xff;
      buf[l4 + TCP_CHECKSUM] = updated >> 8;
      buf[l4 + TCP_CHECKSUM + 1] = updated & 0xff;
      return true;
    }
    i += optionLength;
  }
  return false;
}
