// What the differential test reads from a captured IPv4 packet: the fields it needs
// to assign the packet to its scenario and to describe it in one line. Deliberately
// independent of meshfilter's decoder, which is one of the two things under test.

import { CLIENT } from "./policy.ts";

export interface PacketView {
  src: string;
  dst: string;
  protocol: number;
  /** TCP/UDP ports; ICMP echo: the id in both. */
  srcPort: number;
  dstPort: number;
  /** TCP. */
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** TCP/UDP payload length. */
  payload: number;
  /** ICMP. */
  icmpType: number;
  icmpCode: number;
  /** The quoted packet of an ICMP error. */
  inner: PacketView | null;
}

const FLAG_LETTERS = "FSRPAUEC";

export function flagText(flags: number): string {
  let s = "";
  for (let i = 0; i < 8; i++) if (flags & (1 << i)) s += FLAG_LETTERS[i];
  return s === "" ? "none" : s;
}

function ip(b: Uint8Array, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** Parses an IPv4 packet (or a truncated quote of one); null when it is not IPv4. */
export function viewPacket(b: Uint8Array, quoted = false): PacketView | null {
  if (b.length < 20 || b[0] >> 4 !== 4) return null;
  const d = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ihl = (b[0] & 15) * 4;
  const total = quoted ? b.length : Math.min(d.getUint16(2), b.length);
  const v: PacketView = {
    src: ip(b, 12), dst: ip(b, 16), protocol: b[9], srcPort: 0, dstPort: 0,
    seq: 0, ack: 0, flags: 0, window: 0, payload: 0, icmpType: -1, icmpCode: -1, inner: null,
  };
  const l4 = ihl;
  if (v.protocol === 6 && b.length >= l4 + 8) {
    v.srcPort = d.getUint16(l4);
    v.dstPort = d.getUint16(l4 + 2);
    v.seq = d.getUint32(l4 + 4);
    if (b.length >= l4 + 16) {
      v.ack = d.getUint32(l4 + 8);
      v.flags = b[l4 + 13];
      v.window = d.getUint16(l4 + 14);
      v.payload = quoted ? 0 : total - l4 - (b[l4 + 12] >> 4) * 4;
    }
  } else if (v.protocol === 17 && b.length >= l4 + 8) {
    v.srcPort = d.getUint16(l4);
    v.dstPort = d.getUint16(l4 + 2);
    v.payload = d.getUint16(l4 + 4) - 8;
  } else if (v.protocol === 1 && b.length >= l4 + 8) {
    v.icmpType = b[l4];
    v.icmpCode = b[l4 + 1];
    if (v.icmpType === 0 || v.icmpType === 8) {
      v.srcPort = v.dstPort = d.getUint16(l4 + 4);
    } else if (!quoted && [3, 4, 5, 11, 12].includes(v.icmpType)) {
      v.inner = viewPacket(b.subarray(l4 + 8, total), true);
    }
  }
  return v;
}

/** The client-side port (or echo id) of a packet: the key of its scenario. An ICMP error's is its quote's. */
export function clientPort(v: PacketView): number {
  if (v.inner) return clientPort(v.inner);
  if (v.protocol === 1) return v.srcPort;
  if (v.src === CLIENT) return v.srcPort;
  if (v.dst === CLIENT) return v.dstPort;
  return -1;
}

/** One line: direction, protocol, flags, seq/ack/len/window (TCP), the quote (ICMP errors). */
export function describe(v: PacketView): string {
  const dir = v.src === CLIENT ? "c>s" : "s>c";
  if (v.protocol === 6) {
    return `${dir} tcp ${v.srcPort}>${v.dstPort} ${flagText(v.flags)} seq=${v.seq} ack=${v.ack} len=${v.payload} win=${v.window}`;
  }
  if (v.protocol === 17) return `${dir} udp ${v.srcPort}>${v.dstPort} len=${v.payload}`;
  if (v.protocol === 1) {
    if (v.inner) return `${dir} icmp ${v.icmpType}/${v.icmpCode} quoting [${describe(v.inner)}]`;
    return `${dir} icmp ${v.icmpType === 8 ? "echo-request" : v.icmpType === 0 ? "echo-reply" : `${v.icmpType}/${v.icmpCode}`} id=${v.srcPort}`;
  }
  return `${dir} proto ${v.protocol}`;
}
