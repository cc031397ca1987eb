// Counts what a capture holds (packets per link type and interface, IPv4/IPv6,
// TCP/UDP/ICMP, echo requests and replies, handshakes, resets, malformed packets).
// Cold path: used by tests to check fixtures, by the fixture documentation, and handy
// for a quick look at a capture before replaying it.

import { decodePacket } from "../packet/decode.ts";
import { PacketRecord, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP, TCP_ACK, TCP_RST, TCP_SYN } from "../packet/record.ts";
import { openCapture } from "./capture.ts";
import type { CaptureOptions } from "./capture.ts";

export interface CaptureSummary {
  format: "pcap" | "pcapng";
  packets: number;
  /** Frames without an IPv4/IPv6 packet (ARP, ...). */
  nonIp: number;
  ipv4: number;
  ipv6: number;
  tcp: number;
  udp: number;
  /** ICMPv4 packets. */
  icmp: number;
  icmpv6: number;
  /** ICMP/ICMPv6 echo requests and replies. */
  echoRequests: number;
  echoReplies: number;
  /** TCP segments with SYN and no ACK, SYN+ACK, and RST. */
  tcpSyn: number;
  tcpSynAck: number;
  tcpRst: number;
  /** IP packets the decoder calls malformed. */
  malformed: number;
  /** Packets per link type ("1": n) and per pcapng interface id ("0": n). */
  linkTypes: Record<string, number>;
  interfaces: Record<string, number>;
  /** Bytes of IP packets, and the first and last packet times (ms). */
  ipBytes: number;
  firstTimeMs: number;
  lastTimeMs: number;
}

export function summarizeCapture(path: string, options: CaptureOptions = {}): CaptureSummary {
  const reader = openCapture(path, options);
  const rec = new PacketRecord();
  const s: CaptureSummary = {
    format: reader.format,
    packets: 0, nonIp: 0, ipv4: 0, ipv6: 0, tcp: 0, udp: 0, icmp: 0, icmpv6: 0,
    echoRequests: 0, echoReplies: 0, tcpSyn: 0, tcpSynAck: 0, tcpRst: 0, malformed: 0,
    linkTypes: {}, interfaces: {}, ipBytes: 0, firstTimeMs: NaN, lastTimeMs: NaN,
  };
  try {
    while (reader.next()) {
      s.packets++;
      s.linkTypes[reader.linkType] = (s.linkTypes[reader.linkType] ?? 0) + 1;
      s.interfaces[reader.interfaceId] = (s.interfaces[reader.interfaceId] ?? 0) + 1;
      if (s.packets === 1) s.firstTimeMs = reader.timeMs;
      s.lastTimeMs = reader.timeMs;
      if (reader.ipLength === 0) {
        s.nonIp++;
        continue;
      }
      s.ipBytes += reader.ipLength;
      if (!decodePacket(reader.data, reader.ipOffset, reader.ipLength, rec)) s.malformed++;
      if (rec.ipVersion === 4) s.ipv4++;
      else if (rec.ipVersion === 6) s.ipv6++;
      if (rec.malformed !== 0) continue;
      if (rec.protocol === PROTO_TCP) {
        s.tcp++;
        if (rec.hasL4 && rec.tcpFlags & TCP_SYN) {
          if (rec.tcpFlags & TCP_ACK) s.tcpSynAck++;
          else s.tcpSyn++;
        }
        if (rec.hasL4 && rec.tcpFlags & TCP_RST) s.tcpRst++;
      } else if (rec.protocol === PROTO_UDP) s.udp++;
      else if (rec.protocol === PROTO_ICMP || rec.protocol === PROTO_ICMPV6) {
        if (rec.protocol === PROTO_ICMP) s.icmp++;
        else s.icmpv6++;
        if (rec.icmpIsEchoRequest) s.echoRequests++;
        if (rec.icmpIsEchoReply) s.echoReplies++;
      }
    }
  } finally {
    reader.close();
  }
  return s;
}
