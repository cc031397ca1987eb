// UDP header (RFC 768).

import { transportChecksum } from "./checksum.ts";
import * as layout from "./layout.ts";
import { markMalformed } from "./malformed.ts";
import * as record from "./record.ts";
import type { PacketRecord } from "./record.ts";

// Module-local copies of imported constants: V8 folds these into the optimized code as
// literals, whereas it re-reads an imported binding (with a TDZ check) at every use.
const MALFORMED_BAD_CHECKSUM = record.MALFORMED_BAD_CHECKSUM;
const MALFORMED_BAD_UDP_LENGTH = record.MALFORMED_BAD_UDP_LENGTH;
const MALFORMED_TRUNCATED = record.MALFORMED_TRUNCATED;
const PROTO_UDP = record.PROTO_UDP;
const UDP_CHECKSUM = layout.UDP_CHECKSUM;
const UDP_HEADER = layout.UDP_HEADER;
const UDP_LENGTH = layout.UDP_LENGTH;

/** Decode the UDP datagram buf[l4, end) of the packet starting at `base`; writes every common L4 field. */
export function decodeUdp(buf: Uint8Array, base: number, l4: number, end: number, rec: PacketRecord, verify: boolean): void {
  const available = end - l4;
  if (available < UDP_HEADER) {
    rec.srcPort = 0;
    rec.dstPort = 0;
    rec.payloadOffset = 0;
    rec.payloadLength = 0;
    markMalformed(rec, MALFORMED_TRUNCATED, l4 - base);
    return;
  }
  rec.srcPort = (buf[l4] << 8) | buf[l4 + 1];
  rec.dstPort = (buf[l4 + 2] << 8) | buf[l4 + 3];
  const udpLength = (buf[l4 + UDP_LENGTH] << 8) | buf[l4 + UDP_LENGTH + 1];
  rec.payloadOffset = l4 + UDP_HEADER - base;
  // A first fragment holds only part of the datagram the length field describes.
  if (udpLength < UDP_HEADER || (!rec.isFragment && udpLength > available)) {
    rec.payloadLength = 0;
    markMalformed(rec, MALFORMED_BAD_UDP_LENGTH, l4 + UDP_LENGTH - base);
    return;
  }
  rec.payloadLength = rec.isFragment ? available - UDP_HEADER : udpLength - UDP_HEADER;
  // Checksum 0 means "not computed" (allowed for UDP over IPv4 only, but tolerated for both).
  const checksumField = (buf[l4 + UDP_CHECKSUM] << 8) | buf[l4 + UDP_CHECKSUM + 1];
  if (verify && !rec.isFragment && checksumField !== 0 && transportChecksum(buf, base, l4, udpLength, PROTO_UDP) !== 0) {
    markMalformed(rec, MALFORMED_BAD_CHECKSUM, l4 + UDP_CHECKSUM - base);
    return;
  }
  rec.hasL4 = true;
}
