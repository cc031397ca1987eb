// Shared helpers for the packet tests: build, decode into a fresh record, patch bytes.

import { buildPacket } from "../../src/packet/builder.ts";
import type { PacketSpec } from "../../src/packet/builder.ts";
import { decodePacket } from "../../src/packet/decode.ts";
import { MALFORMED_REASONS, PacketRecord } from "../../src/packet/record.ts";

export { concatBytes } from "../support/batch.ts";

export function decode(packet: Uint8Array, verify = false, rec = new PacketRecord()): PacketRecord {
  decodePacket(packet, 0, packet.length, rec, verify);
  return rec;
}

export function buildAndDecode(spec: PacketSpec, verify = true): PacketRecord {
  return decode(buildPacket(spec), verify);
}

/** The malformed reason's name, so failures read "bad-options" rather than 10. */
export function reason(rec: PacketRecord): string {
  return MALFORMED_REASONS[rec.malformed];
}

export function setU16(packet: Uint8Array, at: number, value: number): Uint8Array {
  packet[at] = value >>> 8;
  packet[at + 1] = value & 0xff;
  return packet;
}

/**
 * Every decoded field of the record as a plain object. Not commonShape: it records which
 * decoder wrote the record last, not anything about the packet.
 */
export function snapshot(rec: PacketRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rec)) {
    if (key === "commonShape") continue;
    out[key] = value;
  }
  return out;
}
