// A large capture of established TCP traffic for the replay benchmark and the
// bounded-memory run: many clients open connections to one server peer, then the flows
// exchange data segments round-robin (so every packet hits a different flow in turn,
// the hard case for the conntrack table). Sequence and acknowledgement numbers advance
// correctly, so the engine's window checks see a well-behaved conversation.
//
// Each flow's two data packets are built once and then patched in place (seq, ack,
// TCP checksum via RFC 1624) for every segment: writing a gigabyte takes seconds.

import { PcapWriter } from "../src/io/pcap-writer.ts";
import { LINKTYPE_RAW } from "../src/io/link-layer.ts";
import { formatIpv4, parseIpv4 } from "../src/packet/address.ts";
import { buildPacket } from "../src/packet/builder.ts";
import { updateChecksum32 } from "../src/packet/checksum.ts";
import type { CompiledPeerPolicy } from "../src/filter/compiled-policy.ts";
import { compiledPolicy, compiledRule } from "../test/support/compiled-policy.ts";

export const SERVER_IP = "100.64.0.20";
export const SERVER_PORT = 5432;
const CLIENT_BASE = parseIpv4("100.64.1.0");
const CLIENTS = 250;
const START_MS = Date.UTC(2026, 0, 1);
/** Capture time between consecutive packets: 1 µs, so no flow ever times out. */
const STEP_MS = 0.001;
const IP_HEADER = 20;
const TCP_SEQ = IP_HEADER + 4;
const TCP_ACK = IP_HEADER + 8;
const TCP_CHECKSUM = IP_HEADER + 16;

export interface SyntheticCaptureOptions {
  flows: number;
  /** Stop once this many packets are written (handshakes included). */
  packets: number;
  /** IP packet size in bytes (>= 40: IPv4 + TCP headers, the rest payload). Default 100. */
  packetBytes?: number;
}

export interface SyntheticCapture {
  packets: number;
  /** File size in bytes. */
  bytes: number;
}

/** The compiled policy of the server peer: any overlay peer may open tcp/5432 to it. */
export function serverPolicy(): CompiledPeerPolicy {
  return compiledPolicy("db-1", [SERVER_IP], {
    inbound: [compiledRule("bench/postgres", { protocol: "tcp", sources: ["100.64.0.0/16"], destinations: [`${SERVER_IP}/32`], ports: [SERVER_PORT] })],
  });
}

function client(flow: number): { ip: string; port: number } {
  return { ip: formatIpv4(CLIENT_BASE + (flow % CLIENTS)), port: 10_000 + Math.floor(flow / CLIENTS) };
}

/** Rewrites a TCP segment's seq and ack fields, keeping its checksum right. */
function patchSeqAck(view: DataView, seq: number, ack: number): void {
  let checksum = view.getUint16(TCP_CHECKSUM);
  checksum = updateChecksum32(checksum, view.getUint32(TCP_SEQ), seq);
  checksum = updateChecksum32(checksum, view.getUint32(TCP_ACK), ack);
  view.setUint32(TCP_SEQ, seq);
  view.setUint32(TCP_ACK, ack);
  view.setUint16(TCP_CHECKSUM, checksum);
}

export function writeSyntheticCapture(path: string, options: SyntheticCaptureOptions): SyntheticCapture {
  const { flows, packets } = options;
  const payload = (options.packetBytes ?? 100) - 40;
  if (payload < 0) throw new Error("packetBytes must be at least 40");
  if (flows < 1) throw new Error("flows must be at least 1");
  const writer = PcapWriter.open(path, LINKTYPE_RAW);
  let written = 0;
  let bytes = 24;
  const put = (packet: Uint8Array): boolean => {
    if (written >= packets) return false;
    writer.write(packet, 0, packet.length, START_MS + written * STEP_MS);
    written++;
    bytes += 16 + packet.length;
    return true;
  };

  // Per flow: the next sequence number each side sends, and its data packet template.
  const clientSeq = new Uint32Array(flows);
  const serverSeq = new Uint32Array(flows);
  const toServer: Uint8Array[] = [];
  const toClient: Uint8Array[] = [];
  for (let f = 0; f < flows && written < packets; f++) {
    const { ip, port } = client(f);
    const clientIsn = (f * 7919 + 1000) >>> 0;
    const serverIsn = (f * 104_729 + 5000) >>> 0;
    const base = { srcPort: port, dstPort: SERVER_PORT, protocol: "tcp" as const };
    const back = { srcPort: SERVER_PORT, dstPort: port, protocol: "tcp" as const };
    put(buildPacket({ ...base, src: ip, dst: SERVER_IP, tcp: { flags: "S", seq: clientIsn, mss: 1400 } }));
    put(buildPacket({ ...back, src: SERVER_IP, dst: ip, tcp: { flags: "SA", seq: serverIsn, ack: clientIsn + 1, mss: 1400 } }));
    put(buildPacket({ ...base, src: ip, dst: SERVER_IP, tcp: { flags: "A", seq: clientIsn + 1, ack: serverIsn + 1 } }));
    clientSeq[f] = clientIsn + 1;
    serverSeq[f] = serverIsn + 1;
    toServer.push(buildPacket({ ...base, src: ip, dst: SERVER_IP, tcp: { flags: "PA", seq: clientSeq[f], ack: serverSeq[f] }, payload }));
    toClient.push(buildPacket({ ...back, src: SERVER_IP, dst: ip, tcp: { flags: "PA", seq: serverSeq[f], ack: clientSeq[f] }, payload }));
  }
  const views = {
    toServer: toServer.map((p) => new DataView(p.buffer, p.byteOffset, p.byteLength)),
    toClient: toClient.map((p) => new DataView(p.buffer, p.byteOffset, p.byteLength)),
  };
  // Data rounds: even rounds client -> server, odd rounds the answer, every flow in turn.
  for (let round = 0; written < packets; round++) {
    const fromClient = round % 2 === 0;
    for (let f = 0; f < toServer.length && written < packets; f++) {
      if (fromClient) {
        patchSeqAck(views.toServer[f], clientSeq[f], serverSeq[f]);
        put(toServer[f]);
        clientSeq[f] = (clientSeq[f] + payload) >>> 0;
      } else {
        patchSeqAck(views.toClient[f], serverSeq[f], clientSeq[f]);
        put(toClient[f]);
        serverSeq[f] = (serverSeq[f] + payload) >>> 0;
      }
    }
  }
  writer.close();
  return { packets: written, bytes };
}
