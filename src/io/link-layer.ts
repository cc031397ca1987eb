// Link-layer types of pcap/pcapng (tcpdump.org LINKTYPE_* values) and where the IP
// packet starts inside a frame of each. Called once per packet, so it only reads a few
// header bytes and returns numbers.

export const LINKTYPE_NULL = 0; // BSD loopback: 4-byte address family in the capturing host's byte order
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW_BSD_12 = 12; // raw IP as written by some BSDs (DLT_RAW = 12)
export const LINKTYPE_RAW_BSD_14 = 14; // raw IP as written by BSD/OS (DLT_RAW = 14)
export const LINKTYPE_RAW = 101; // raw IPv4/IPv6, version from the first nibble
export const LINKTYPE_LOOP = 108; // OpenBSD loopback: address family in network byte order
export const LINKTYPE_LINUX_SLL = 113; // Linux cooked capture v1 (tcpdump -i any)
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276; // Linux cooked capture v2

const LINK_TYPE_NAMES: Record<number, string> = {
  [LINKTYPE_NULL]: "bsd-loopback",
  [LINKTYPE_ETHERNET]: "ethernet",
  [LINKTYPE_RAW_BSD_12]: "raw-ip",
  [LINKTYPE_RAW_BSD_14]: "raw-ip",
  [LINKTYPE_RAW]: "raw-ip",
  [LINKTYPE_LOOP]: "openbsd-loopback",
  [LINKTYPE_LINUX_SLL]: "linux-cooked-v1",
  [LINKTYPE_IPV4]: "raw-ipv4",
  [LINKTYPE_IPV6]: "raw-ipv6",
  [LINKTYPE_LINUX_SLL2]: "linux-cooked-v2",
};

export function isSupportedLinkType(linkType: number): boolean {
  return LINK_TYPE_NAMES[linkType] !== undefined;
}

/** A readable name for a link type ("ethernet", "linux-cooked-v2", ...; "linktype-N" when unknown). */
export function linkTypeName(linkType: number): string {
  return LINK_TYPE_NAMES[linkType] ?? `linktype-${linkType}`;
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
// VLAN tags that may be stacked in front of the real EtherType: 802.1Q, 802.1ad (QinQ)
// and the pre-standard 0x9100 QinQ tag.
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_OLD = 0x9100;

const ETHERNET_HEADER = 14;
const VLAN_TAG = 4;
const SLL_HEADER = 16;
const SLL_PROTOCOL = 14;
const SLL2_HEADER = 20;
const SLL2_PROTOCOL = 0;
const LOOPBACK_HEADER = 4;

// Address families in loopback headers: AF_INET is 2 everywhere; AF_INET6 is 10 on
// Linux, 24 on NetBSD/OpenBSD, 28 on FreeBSD, 30 on macOS.
const AF_INET = 2;

function isIpEtherType(type: number): boolean {
  return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6;
}

function isIpAddressFamily(family: number): boolean {
  return family === AF_INET || family === 10 || family === 24 || family === 28 || family === 30;
}

function readU16(buf: Uint8Array, at: number): number {
  return (buf[at] << 8) | buf[at + 1];
}

/**
 * Bytes of link-layer header in front of the IP packet of a frame, or -1 when the frame
 * does not carry IPv4/IPv6 (ARP, LLDP, a too-short frame...).
 */
export function linkHeaderLength(linkType: number, buf: Uint8Array, frameOffset: number, frameLength: number): number {
  switch (linkType) {
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_BSD_12:
    case LINKTYPE_RAW_BSD_14: {
      if (frameLength < 1) return -1;
      const version = buf[frameOffset] >> 4;
      return version === 4 || version === 6 ? 0 : -1;
    }
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      return frameLength > 0 ? 0 : -1;
    case LINKTYPE_ETHERNET: {
      if (frameLength < ETHERNET_HEADER) return -1;
      let headerLength = ETHERNET_HEADER;
      let type = readU16(buf, frameOffset + ETHERNET_HEADER - 2);
      while (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD) {
        if (frameLength < headerLength + VLAN_TAG) return -1;
        type = readU16(buf, frameOffset + headerLength + 2);
        headerLength += VLAN_TAG;
      }
      return isIpEtherType(type) ? headerLength : -1;
    }
    case LINKTYPE_LINUX_SLL:
      if (frameLength < SLL_HEADER) return -1;
      return isIpEtherType(readU16(buf, frameOffset + SLL_PROTOCOL)) ? SLL_HEADER : -1;
    case LINKTYPE_LINUX_SLL2:
      if (frameLength < SLL2_HEADER) return -1;
      return isIpEtherType(readU16(buf, frameOffset + SLL2_PROTOCOL)) ? SLL2_HEADER : -1;
    case LINKTYPE_NULL: {
      if (frameLength < LOOPBACK_HEADER) return -1;
      // Written in the capturing host's byte order: every family fits in one byte, so it
      // is the first byte (little-endian host) or the last (big-endian host).
      const family = buf[frameOffset] !== 0 ? buf[frameOffset] : buf[frameOffset + 3];
      return isIpAddressFamily(family) ? LOOPBACK_HEADER : -1;
    }
    case LINKTYPE_LOOP:
      if (frameLength < LOOPBACK_HEADER) return -1;
      return isIpAddressFamily(buf[frameOffset + 3]) && buf[frameOffset] === 0 ? LOOPBACK_HEADER : -1;
    default:
      return -1;
  }
}

/**
 * Length of the IP packet starting at `ipOffset`, given `available` bytes to the end of
 * the captured frame: the length the IP header declares when that is shorter (Ethernet
 * pads frames to 60 bytes and may carry a trailing FCS), else everything available
 * (a snaplen-cut or malformed packet is left for the decoder to judge).
 */
export function ipPacketLength(buf: Uint8Array, ipOffset: number, available: number): number {
  if (available < 1) return 0;
  const version = buf[ipOffset] >> 4;
  if (version === 4 && available >= 4) {
    const total = readU16(buf, ipOffset + 2);
    if (total >= 20 && total < available) return total;
  } else if (version === 6 && available >= 6) {
    const payload = readU16(buf, ipOffset + 4);
    // 0 is a jumbogram (the length is in a hop-by-hop option): keep what was captured.
    if (payload > 0 && 40 + payload < available) return 40 + payload;
  }
  return available;
}
