// The flow-owner table of the multi-queue agent (src/agent/flow-owners.ts): a packet and
// its reply hash alike, the first claim owns a flow, a full bucket gives up the entry
// used longest ago, and two threads claiming the same flows agree on every owner.

import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { FlowOwners, createFlowOwners, flowHash } from "../../src/agent/flow-owners.ts";
import { workerEntry } from "../../src/agent/worker-entry.ts";
import { buildPacket } from "../../src/packet/builder.ts";

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const hashOf = (b: Uint8Array) => flowHash(b, view(b), 0, b.length);

describe("flowHash", () => {
  it("is the same for a TCP packet and its reply, and differs between connections", () => {
    const out = buildPacket({ protocol: "tcp", src: "100.64.0.10", dst: "100.64.0.20", srcPort: 40000, dstPort: 5201 });
    const back = buildPacket({ protocol: "tcp", src: "100.64.0.20", dst: "100.64.0.10", srcPort: 5201, dstPort: 40000 });
    const other = buildPacket({ protocol: "tcp", src: "100.64.0.10", dst: "100.64.0.20", srcPort: 40001, dstPort: 5201 });
    const swappedPorts = buildPacket({ protocol: "tcp", src: "100.64.0.10", dst: "100.64.0.20", srcPort: 5201, dstPort: 40000 });
    expect(hashOf(out)).toBe(hashOf(back));
    expect(hashOf(out)).not.toBe(hashOf(other));
    expect(hashOf(out)).not.toBe(hashOf(swappedPorts));
    expect(hashOf(out)).not.toBe(0);
  });

  it("hashes UDP by addresses and protocol (every fragment of a datagram meets the same engine), and a non-IPv4 packet to 0", () => {
    const a = buildPacket({ protocol: "udp", src: "100.64.0.10", dst: "100.64.0.20", srcPort: 1, dstPort: 53 });
    const b = buildPacket({ protocol: "udp", src: "100.64.0.20", dst: "100.64.0.10", srcPort: 53, dstPort: 2 });
    expect(hashOf(a)).toBe(hashOf(b));
    const v6 = buildPacket({ protocol: "udp", src: "fd00::1", dst: "fd00::2" });
    expect(hashOf(v6)).toBe(0);
  });

  it("hashes every fragment of a TCP segment alike (a fragment after the first carries no ports)", () => {
    const first = buildPacket({ protocol: "tcp", src: "100.64.0.10", dst: "100.64.0.20", srcPort: 40000, dstPort: 5201, moreFragments: true, payload: 16 });
    const rest = buildPacket({ protocol: "tcp", src: "100.64.0.10", dst: "100.64.0.20", fragmentOffset: 40, payload: 16 });
    expect(hashOf(first)).toBe(hashOf(rest));
  });
});

describe("FlowOwners", () => {
  it("the first claim owns a flow; later claims and lookups name that owner", () => {
    const owners = new FlowOwners(createFlowOwners(16));
    expect(owners.owner(0x12345678)).toBe(-1);
    expect(owners.claim(0x12345678, 1, 100)).toBe(1);
    expect(owners.claim(0x12345678, 0, 101)).toBe(1);
    expect(owners.owner(0x12345678)).toBe(1);
    // Same bucket (low bits), another flow: its own owner.
    expect(owners.claim(0x22345678, 0, 101)).toBe(0);
    expect(owners.owner(0x22345678)).toBe(0);
    expect(owners.owner(0x12345678)).toBe(1);
  });

  it("a full bucket gives up the entry used longest ago", () => {
    const owners = new FlowOwners(createFlowOwners(1));
    const hashes = [0x100, 0x200, 0x300, 0x400];
    hashes.forEach((h, i) => owners.claim(h, i, 10 + i));
    owners.claim(0x100, 9, 20); // used again: now the newest
    expect(owners.claim(0x500, 7, 21)).toBe(7);
    expect(owners.owner(0x200)).toBe(-1); // used at 11: the oldest, gone
    expect(owners.owner(0x100)).toBe(0);
    expect(owners.owner(0x300)).toBe(2);
    expect(owners.owner(0x400)).toBe(3);
    expect(owners.owner(0x500)).toBe(7);
  });

  it("two threads claiming the same flows at once agree on every owner", async () => {
    // Hashes 1..count fall in buckets of their own, so no entry is given up and every claim must stick.
    const count = 200_000;
    const shape = createFlowOwners(1 << 18);
    const owners = new FlowOwners(shape);
    const results = new Int32Array(new SharedArrayBuffer(count * 4 * 2));
    const { entry, eval: isCode } = workerEntry(new URL("./owner-claimer.ts", import.meta.url));
    const gate = new Int32Array(new SharedArrayBuffer(8));
    const worker = new Worker(entry, { eval: isCode, workerData: { shape, count, results: results.buffer, worker: 1, gate: gate.buffer } });
    // This thread claims the same hashes as worker 0 while the other thread claims them as worker 1, from the same moment.
    const deadline = Date.now() + 30_000;
    while (Atomics.load(gate, 0) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    Atomics.store(gate, 1, 1);
    Atomics.notify(gate, 1);
    for (let i = 0; i < count; i++) results[i] = owners.claim(i + 1, 0, 1);
    await new Promise((r) => worker.once("exit", r));
    let disagree = 0;
    for (let i = 0; i < count; i++) if (results[i] !== results[count + i] || owners.owner(i + 1) !== results[i]) disagree++;
    expect(disagree).toBe(0);
    // Both threads won some: the claims really raced.
    const won = [0, 0];
    for (let i = 0; i < count; i++) won[results[i]]++;
    expect(Math.min(...won), `owners: ${won}`).toBeGreaterThan(0);
  }, 60_000);
});
