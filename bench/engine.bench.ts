// The engine benchmark: established TCP/IPv4 packets/s at 1,000, 100,000 and 1,000,000
// tracked flows; the new-connection rate; the new-connection rate as rules grow (10,
// 1,000, 100,000 rules); bytes per tracked flow; heap growth per million packets.
// Every throughput figure goes through judgeBatch over a prebuilt buffer of packets,
// with the decode-only rate of the same packets beside it.
//
// Packets are written straight into one big buffer (IPv4 + TCP, 40 bytes, checksums
// left zero: the engine does not verify them by default), so building a million flows
// takes no per-packet objects.

import { DIR_IN, DIR_OUT, Engine } from "../src/engine/engine.ts";
import { decodePacket } from "../src/packet/decode.ts";
import { PacketRecord, TCP_ACK, TCP_SYN } from "../src/packet/record.ts";
import type { CompiledPeerPolicy, CompiledRule } from "../src/filter/compiled-policy.ts";
import { type BenchContext, measure, measureBest } from "./harness.ts";

const SELF = "100.64.0.20";
const SELF_WORD = 0x64400014;
const CLIENT_BASE = 0x64400100; // clients from 100.64.1.0 on
const CLIENT_PORTS = 50_000;
const SERVER_PORT = 5432;
const PACKET = 40;
export const CHUNK = 16_384;

export function rule(i: number, sources: string[], ports: number[]): CompiledRule {
  return {
    id: `policy-${i}/rule`, policyId: `policy-${i}`, policyName: `policy ${i}`, ruleId: "rule", ruleName: "rule",
    action: "accept", protocol: "tcp", sources, destinations: [`${SELF}/32`], ports, portRanges: [], reverse: false,
  };
}

export function policyWith(inbound: CompiledRule[]): CompiledPeerPolicy {
  return { peer: { id: "db-1", name: "db-1", addresses: [SELF] }, inbound, outbound: [], routes: [] };
}

/** Flow i's client: address and port, unique per i. */
const clientAddress = (i: number) => (CLIENT_BASE + Math.floor(i / CLIENT_PORTS)) >>> 0;
const clientPort = (i: number) => 10_000 + (i % CLIENT_PORTS);

/** A batch of `count` 40-byte TCP/IPv4 packets laid end to end, with views for judgeBatch in chunks. */
export class PacketBatch {
  readonly buf: Uint8Array;
  readonly view: DataView;
  readonly offsets: Uint32Array;
  readonly lengths: Uint32Array;
  readonly chunks: { offsets: Uint32Array; lengths: Uint32Array }[] = [];

  constructor(readonly count: number) {
    this.buf = new Uint8Array(count * PACKET);
    this.view = new DataView(this.buf.buffer);
    this.offsets = new Uint32Array(count);
    this.lengths = new Uint32Array(count).fill(PACKET);
    for (let i = 0; i < count; i++) this.offsets[i] = i * PACKET;
    for (let at = 0; at < count; at += CHUNK) {
      const end = Math.min(count, at + CHUNK);
      this.chunks.push({ offsets: this.offsets.subarray(at, end), lengths: this.lengths.subarray(at, end) });
    }
  }

  write(i: number, src: number, srcPort: number, dst: number, dstPort: number, flags: number, seq: number, ack: number): void {
    const at = i * PACKET;
    const v = this.view;
    v.setUint8(at, 0x45);
    v.setUint16(at + 2, PACKET);
    v.setUint8(at + 8, 64);
    v.setUint8(at + 9, 6);
    v.setUint32(at + 12, src);
    v.setUint32(at + 16, dst);
    v.setUint16(at + 20, srcPort);
    v.setUint16(at + 22, dstPort);
    v.setUint32(at + 24, seq >>> 0);
    v.setUint32(at + 28, ack >>> 0);
    v.setUint8(at + 32, 5 << 4);
    v.setUint8(at + 33, flags);
    v.setUint16(at + 34, 65535);
  }
}

const CLIENT_ISN = 1000;
const SERVER_ISN = 7_000_000;

/** Fill `batch` with one packet per flow: client->server (inbound) or server->client (outbound). */
function fillFlows(batch: PacketBatch, fromClient: boolean, flags: number, seqClient: number, seqServer: number): void {
  for (let i = 0; i < batch.count; i++) {
    const c = clientAddress(i);
    const p = clientPort(i);
    if (fromClient) batch.write(i, c, p, SELF_WORD, SERVER_PORT, flags, seqClient, flags & TCP_ACK ? seqServer : 0);
    else batch.write(i, SELF_WORD, SERVER_PORT, c, p, flags, seqServer, seqClient);
  }
}

/** An engine with `flows` established TCP connections, and a batch of one pure ACK per flow. */
export function establishedEngine(flows: number): { engine: Engine; acks: PacketBatch } {
  let capacity = 1024;
  while (capacity < flows) capacity *= 2;
  const engine = new Engine(policyWith([rule(0, ["100.64.0.0/10"], [SERVER_PORT])]), { conntrack: { capacity } });
  engine.setTime(1);
  const batch = new PacketBatch(flows);
  const verdicts = new Uint8Array(CHUNK);
  const judgeAll = (dir: number) => {
    for (const c of batch.chunks) engine.judgeBatch(dir, batch.buf, c.offsets, c.lengths, c.offsets.length, verdicts);
  };
  fillFlows(batch, true, TCP_SYN, CLIENT_ISN, 0);
  judgeAll(DIR_IN);
  fillFlows(batch, false, TCP_SYN | TCP_ACK, CLIENT_ISN + 1, SERVER_ISN);
  judgeAll(DIR_OUT);
  fillFlows(batch, true, TCP_ACK, CLIENT_ISN + 1, SERVER_ISN + 1);
  judgeAll(DIR_IN);
  if (engine.stats().flows !== flows) throw new Error(`engine bench: expected ${flows} flows, have ${engine.stats().flows}`);
  return { engine, acks: batch };
}

/** Judge the batch chunk by chunk, one chunk per call. */
function judgeChunks(engine: Engine, batch: PacketBatch, dir: number): () => void {
  const verdicts = new Uint8Array(CHUNK);
  let next = 0;
  return () => {
    const c = batch.chunks[next];
    engine.judgeBatch(dir, batch.buf, c.offsets, c.lengths, c.offsets.length, verdicts);
    next = next + 1 === batch.chunks.length ? 0 : next + 1;
  };
}

function decodeChunks(batch: PacketBatch): () => void {
  const rec = new PacketRecord();
  let next = 0;
  return () => {
    const c = batch.chunks[next];
    for (let i = 0; i < c.offsets.length; i++) decodePacket(batch.buf, c.offsets[i], c.lengths[i], rec);
    next = next + 1 === batch.chunks.length ? 0 : next + 1;
  };
}

/**
 * Rewrite the SYNs so every call opens connections not tracked yet: packet k of the
 * run goes from the client of rule (k mod rules) on source port 1024 + (k / rules) mod
 * 64,000, a cycle far longer than the table's capacity.
 */
function freshSyns(batch: PacketBatch, round: number, ruleCount: number): void {
  for (let i = 0; i < batch.count; i++) {
    const k = round * batch.count + i;
    const r = k % ruleCount;
    const at = i * PACKET;
    batch.view.setUint32(at + 12, CLIENT_BASE + r);
    batch.view.setUint16(at + 20, 1024 + (Math.floor(k / ruleCount) % 64_000));
    batch.view.setUint16(at + 22, SERVER_PORT + (r % 100));
  }
}

export default async function (ctx: BenchContext): Promise<void> {
  const seconds = ctx.quick ? 0.2 : 1;

  // ---- established TCP/IPv4 ----
  for (const flows of ctx.quick ? [1000, 100_000] : [1000, 100_000, 1_000_000]) {
    const { engine, acks } = establishedEngine(flows);
    const chunkSize = acks.chunks[0].offsets.length;
    // Best of four rounds (measureBest): these are the figures the targets are set for.
    const decodeOnly = measureBest(`decode/established-${flows}`, chunkSize, decodeChunks(acks), seconds);
    const figure = measureBest(`engine/established-tcp4-${flows}-flows`, chunkSize, judgeChunks(engine, acks, DIR_IN), 2 * seconds);
    const t = engine.stats();
    ctx.record({
      ...figure,
      decodeOnlyOpsPerSec: decodeOnly.opsPerSec,
      extra: { flows, capacity: t.capacity, bytesPerFlow: Math.round(t.bytesPerFlow * 10) / 10, tableMiB: Math.round(t.tableBytes / 1048576) },
    });
  }

  // ---- new connections (SYN -> rules -> track; at steady state the table is full and evicts) ----
  for (const ruleCount of ctx.quick ? [10, 1000] : [10, 1000, 100_000]) {
    const rules: CompiledRule[] = [];
    for (let i = 0; i < ruleCount; i++) {
      const client = CLIENT_BASE + i; // one client address per rule
      const source = `${client >>> 24}.${(client >>> 16) & 255}.${(client >>> 8) & 255}.${client & 255}/32`;
      rules.push(rule(i, [source], [SERVER_PORT + (i % 100)]));
    }
    const engine = new Engine(policyWith(rules), { conntrack: { capacity: 1 << 16 } });
    engine.setTime(1);
    // SYNs that each match a rule: client of rule i on rule i's port.
    const syns = new PacketBatch(CHUNK);
    for (let i = 0; i < CHUNK; i++) syns.write(i, 0, 0, SELF_WORD, 0, TCP_SYN, CLIENT_ISN, 0);
    freshSyns(syns, 0, ruleCount);
    const verdicts = new Uint8Array(CHUNK);
    let round = 0;
    const decodeOnly = measure(`decode/syn-${ruleCount}-rules`, CHUNK, decodeChunks(syns), seconds / 2);
    const figure = measure(
      `engine/new-connections-${ruleCount}-rules`,
      CHUNK,
      () => {
        freshSyns(syns, round++, ruleCount);
        engine.judgeBatch(DIR_IN, syns.buf, syns.offsets, syns.lengths, CHUNK, verdicts);
      },
      seconds,
    );
    const accepted = engine.stats().reasons.rule;
    if (accepted === 0) throw new Error("engine bench: no SYN was accepted; the rule set does not match the packets");
    ctx.record({ ...figure, decodeOnlyOpsPerSec: decodeOnly.opsPerSec, extra: { rules: ruleCount, tableFlows: engine.stats().flows, note: "incl. rewriting the batch; evicts once full" } });
  }

  // ---- bytes per tracked flow at the default capacity ----
  const defaults = new Engine(policyWith([])).stats();
  ctx.record({
    name: "engine/bytes-per-flow",
    opsPerSec: 0,
    nsPerOp: 0,
    extra: { bytesPerFlow: defaults.bytesPerFlow, capacity: defaults.capacity, tableMiB: Math.round((defaults.tableBytes / 1048576) * 10) / 10 },
  });
}
