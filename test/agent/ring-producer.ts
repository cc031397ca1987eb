// A producer thread for packet-ring.test.ts: pushes `total` numbered packets into the
// ring, waiting a millisecond whenever it is full.

import { workerData } from "node:worker_threads";
import { PacketRing, type PacketRingShape } from "../../src/agent/packet-ring.ts";

const { shape, total } = workerData as { shape: PacketRingShape; total: number };
const ring = new PacketRing(shape);
const buf = new Uint8Array(1500);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
let seq = 0;
while (seq < total) {
  const len = 20 + (seq % 1400);
  for (let i = 0; i < len; i++) buf[i] = (seq + i) & 0xff;
  if (ring.push(buf, 0, len, 1 + (seq % 7))) {
    seq++;
    if (seq % 32 === 0) ring.flush();
  } else {
    ring.flush();
    Atomics.wait(sleeper, 0, 0, 1);
  }
}
ring.flush();
