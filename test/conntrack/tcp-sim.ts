// Two TCP endpoints that keep honest sequence numbers, for driving conntrack with
// real (builder-made, decoder-read) packets. Side 0 is the originator (client), side 1
// the responder (server).

import { buildPacket } from "../../src/packet/builder.ts";
import { decodePacket } from "../../src/packet/decode.ts";
import { PacketRecord } from "../../src/packet/record.ts";
import {
  CLASS_ACK,
  CLASS_ACK_ACKS_FIN,
  CLASS_FIN,
  CLASS_FIN_ACKS_FIN,
  CLASS_INVALID,
  CLASS_RST,
  CLASS_SYN,
  CLASS_SYNACK,
} from "../../src/conntrack/tcp-states.ts";

export const CLIENT = { ip: "100.64.0.10", port: 40000 };
export const SERVER = { ip: "100.64.0.20", port: 5432 };

export interface SegmentOptions {
  /** Override the sequence number (default: the side's honest next). */
  seq?: number;
  ack?: number;
  payload?: number;
  window?: number;
  windowScale?: number;
  flags?: string;
}

const CLASS_FLAGS: Record<number, string> = {
  [CLASS_SYN]: "S",
  [CLASS_SYNACK]: "SA",
  [CLASS_FIN]: "FA",
  [CLASS_FIN_ACKS_FIN]: "FA",
  [CLASS_ACK]: "A",
  [CLASS_ACK_ACKS_FIN]: "A",
  [CLASS_RST]: "RA",
  [CLASS_INVALID]: "SF",
};

export class TcpSim {
  readonly isn = [1000, 900_000];
  /** Next sequence number each side will send. */
  readonly next = [1000, 900_000];
  readonly synSent = [false, false];
  readonly finSent = [false, false];

  constructor(
    readonly client = CLIENT,
    readonly server = SERVER,
  ) {}

  /** Build the packet side `side` would send for flag class `cls`, and advance that side. */
  segment(side: 0 | 1, cls: number, options: SegmentOptions = {}): Uint8Array {
    const other = 1 - side;
    // An RST to a side that has sent nothing acknowledges nothing (a client aborting in SYN_SENT).
    const flags = options.flags ?? (cls === CLASS_RST && !this.synSent[other] ? "R" : CLASS_FLAGS[cls]);
    const isSyn = flags.includes("S");
    const isFin = flags.includes("F");
    let seq: number;
    if (isSyn) seq = this.isn[side];
    else if (isFin && this.finSent[side]) seq = this.next[side] - 1; // FIN retransmission
    else seq = this.next[side];
    let ack = 0;
    if (flags.includes("A")) {
      const acksFin = cls === CLASS_ACK_ACKS_FIN || cls === CLASS_FIN_ACKS_FIN;
      ack = this.finSent[other] && !acksFin ? this.next[other] - 1 : this.next[other];
    }
    const payload = options.payload ?? 0;
    const from = side === 0 ? this.client : this.server;
    const to = side === 0 ? this.server : this.client;
    const packet = buildPacket({
      src: from.ip,
      dst: to.ip,
      protocol: "tcp",
      srcPort: from.port,
      dstPort: to.port,
      tcp: {
        flags,
        seq: options.seq ?? seq,
        ack: options.ack ?? ack,
        window: options.window ?? 65535,
        windowScale: options.windowScale,
      },
      payload,
    });
    if (options.seq === undefined) {
      if (isSyn && !this.synSent[side]) {
        this.synSent[side] = true;
        this.next[side] = this.isn[side] + 1 + payload; // a SYN may carry data (TCP Fast Open)
      }
      if (!isSyn) this.next[side] = (seq + payload) >>> 0;
      if (isFin && !this.finSent[side]) {
        this.finSent[side] = true;
        this.next[side]++;
      } else if (isFin) this.next[side] = seq + 1;
    }
    return packet;
  }
}

/** Decode a built packet into a fresh record (throws if the builder made something undecodable). */
export function decoded(packet: Uint8Array, rec = new PacketRecord()): PacketRecord {
  if (!decodePacket(packet, 0, packet.length, rec)) throw new Error(`test packet malformed: ${rec.malformed} at ${rec.malformedAt}`);
  return rec;
}

/** For a flow opened inbound (ORIGIN_INBOUND): a packet of flow reference `ref` arrives
 *  from the mesh when it is the originator's (conntrack's path check). */
export function arrivedInbound(ref: number): boolean {
  return (ref & 1) === 0;
}
