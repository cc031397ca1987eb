// Recording why a packet is malformed: one place, so every decoder reports the same way.

import type { PacketRecord } from "./record.ts";

/** Mark `rec` malformed with `reason` (a MALFORMED_* code) found at byte `at` of the packet. Keeps the first reason. */
export function markMalformed(rec: PacketRecord, reason: number, at: number): void {
  if (rec.malformed !== 0) return;
  rec.malformed = reason;
  rec.malformedAt = at;
}
