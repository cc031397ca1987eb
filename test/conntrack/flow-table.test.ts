// The flow table: canonical keys, open addressing with backward-shift deletion, the
// hard cap, memory per flow; and the conntrack layer's eviction order, adaptive
// timeouts and incremental expiry.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Conntrack, ORIGIN_INBOUND, refEntry } from "../../src/conntrack/conntrack.ts";
import { END_EVICTED } from "../../src/conntrack/flow-event.ts";
import { FlowTable } from "../../src/conntrack/flow-table.ts";
import { TCP_CLOSED, TCP_ESTABLISHED, TCP_TIME_WAIT, UDP_REPLIED } from "../../src/conntrack/states.ts";
import { buildPacket } from "../../src/packet/builder.ts";
import { decodePacket } from "../../src/packet/decode.ts";
import { PacketRecord, PROTO_UDP } from "../../src/packet/record.ts";
import { seededRandom } from "../support/random.ts";

const key = (t: FlowTable, i: number, v6 = false): void => {
  if (v6) t.setKey(PROTO_UDP, 6, 0xfd000000, 0, 0, i, 1000 + (i & 7), 0xfd000000, 0, 0, 0x20, 53);
  else t.setKey(PROTO_UDP, 4, 0x64400000 + i, 0, 0, 0, 1000 + (i & 7), 0x64400014, 0, 0, 0, 53);
};

describe("FlowTable", () => {
  it("a packet and its reply compute the same key; srcIsA tells the directions apart", () => {
    const t = new FlowTable(16);
    t.setKey(PROTO_UDP, 4, 0x64400010, 0, 0, 0, 5000, 0x64400014, 0, 0, 0, 53);
    const forward = [...t.key];
    const forwardHash = t.keyHash;
    const forwardIsA = t.srcIsA;
    t.setKey(PROTO_UDP, 4, 0x64400014, 0, 0, 0, 53, 0x64400010, 0, 0, 0, 5000);
    expect([...t.key]).toEqual(forward);
    expect(t.keyHash).toBe(forwardHash);
    expect(t.srcIsA).toBe(!forwardIsA);
    // setKey4 is the same key as setKey for IPv4
    t.setKey4(PROTO_UDP, 0x64400014, 53, 0x64400010, 5000);
    expect([...t.key]).toEqual(forward);
  });

  it("IPv4 and IPv6 keys with the same low words are different flows", () => {
    const t = new FlowTable(16);
    t.setKey(PROTO_UDP, 4, 1, 0, 0, 0, 1, 2, 0, 0, 0, 2);
    t.insert(0, UDP_REPLIED, 0, 0);
    t.setKey(PROTO_UDP, 6, 1, 0, 0, 0, 1, 2, 0, 0, 0, 2);
    expect(t.find()).toBe(-1);
  });

  it("hashes differ between tables (random multipliers per table)", () => {
    const a = new FlowTable(16);
    const b = new FlowTable(16);
    let same = 0;
    for (let i = 0; i < 32; i++) {
      key(a, i);
      key(b, i);
      if (a.keyHash === b.keyHash) same++;
    }
    expect(same).toBeLessThan(2);
  });

  it("random inserts and removals agree with a Map model; the index never holds stale slots", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 200 }), fc.boolean()), { maxLength: 400 }), (ops) => {
        const t = new FlowTable(64, seededRandom(7));
        const model = new Map<string, number>();
        for (const [add, i, v6] of ops) {
          key(t, i, v6);
          const id = `${v6}:${i}`;
          const found = t.find();
          expect(found >= 0).toBe(model.has(id));
          if (add && found < 0 && t.count < t.capacity) model.set(id, t.insert(0, UDP_REPLIED, i, 0));
          else if (!add && found >= 0) {
            t.remove(found);
            model.delete(id);
          }
        }
        expect(t.count).toBe(model.size);
        let occupied = 0;
        for (let s = 0; s < t.slotCount; s++) if (t.slots[s] !== 0) occupied++;
        expect(occupied).toBe(model.size);
        for (const [id, entry] of model) {
          const [v6, i] = id.split(":");
          key(t, Number(i), v6 === "true");
          expect(t.find()).toBe(entry);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("holds at most `capacity` entries and at most half of its index slots are in use", () => {
    const t = new FlowTable(1000);
    expect(t.slotCount).toBeGreaterThanOrEqual(2000);
    for (let i = 0; i < 1000; i++) {
      key(t, i);
      expect(t.insert(0, UDP_REPLIED, 0, 0)).toBeGreaterThanOrEqual(0);
    }
    key(t, 5000);
    expect(t.insert(0, UDP_REPLIED, 0, 0)).toBe(-1);
    expect(t.count).toBe(1000);
  });

  it("spreads structured keys over the index: no long runs of occupied slots, whatever part of the key varies", () => {
    // Linear probing is only as good as its hash: a hash whose index bits ignore part of
    // the key piles such keys into a few runs, and every lookup walks them.
    const families: [string, (t: FlowTable, i: number) => void][] = [
      ["source ports of one client", (t, i) => t.setKey(PROTO_UDP, 4, 0x64400100 + (i >>> 15), 10_000 + (i & 0x7fff), 0x64400014, 0, 0, 0, 0, 0, 0, 53)],
      ["consecutive client addresses", (t, i) => t.setKey(PROTO_UDP, 4, 0x0a000000 + i, 0, 0, 0, 40_000, 0x64400014, 0, 0, 0, 53)],
      ["addresses that differ in their top bits", (t, i) => t.setKey(PROTO_UDP, 4, (i << 16) | 1, 0, 0, 0, 40_000, 0x64400014, 0, 0, 0, 53)],
      ["destination ports", (t, i) => t.setKey(PROTO_UDP, 4, 0x64400100 + (i >>> 16), 0, 0, 0, 40_000, 0x64400014, 0, 0, 0, i & 0xffff)],
      ["IPv6 interface identifiers", (t, i) => t.setKey(PROTO_UDP, 6, 0xfd000000, 0, i >>> 8, (i & 0xff) << 24, 40_000, 0xfd000000, 0, 0, 1, 53)],
    ];
    for (const [name, setKey] of families) {
      const t = new FlowTable(65536, seededRandom(7));
      for (let i = 0; i < 65536; i++) {
        setKey(t, i);
        expect(t.find(), name).toBe(-1);
        expect(t.insert(0, UDP_REPLIED, 0, 0), name).toBeGreaterThanOrEqual(0);
      }
      let longest = 0;
      let run = 0;
      let runs = 0;
      for (let i = 0; i < 2 * t.slotCount; i++) {
        if (t.slots[i % t.slotCount] !== 0) run++;
        else {
          if (run > 0) runs++;
          longest = Math.max(longest, run);
          run = 0;
        }
      }
      // Uniform hashing at load 0.5 over 131,072 slots: runs of ~2 slots on average, the
      // longest a few dozen; the eviction sample looks 64 slots far.
      expect(longest, `${name}: longest run`).toBeLessThan(64);
      expect((2 * t.count) / runs, `${name}: mean run`).toBeLessThan(4);
    }
  });

  it("uses 140 bytes per tracked flow at a power-of-two capacity: a 128-byte record, 8 of index, 4 of hash (within the 160-byte budget)", () => {
    const t = new FlowTable(65536);
    expect(t.byteSize / t.capacity).toBe(140);
  });

  it("rejects a nonsensical capacity with a clear error", () => {
    expect(() => new FlowTable(0)).toThrow(/capacity 0/);
    expect(() => new FlowTable(1.5)).toThrow(/capacity 1.5/);
  });
});

/** A UDP packet record from 100.64.x.y:port to 100.64.0.20:53. */
function udpRecord(i: number, rec = new PacketRecord()): PacketRecord {
  rec.ipVersion = 4;
  rec.protocol = PROTO_UDP;
  rec.src0 = 0x64400100 + i;
  rec.dst0 = 0x64400014;
  rec.srcPort = 1000 + (i & 1023);
  rec.dstPort = 53;
  rec.ipTotalLength = 60;
  rec.hasL4 = true;
  return rec;
}

describe("Conntrack capacity, eviction and timeouts", () => {
  it("when full, evicts closing, closed and unreplied flows, never active established ones", () => {
    const ct = new Conntrack({ capacity: 8, evictionSample: 64 });
    const ids: number[] = [];
    for (let i = 0; i < 8; i++) {
      const rec = udpRecord(i);
      ct.lookup(rec);
      ids.push(refEntry(ct.create(rec, ORIGIN_INBOUND, 0)));
    }
    // Pretend some are TCP in late states: the ranks only look at the state byte.
    ct.table.setState(ids[0], TCP_ESTABLISHED);
    ct.table.setState(ids[1], TCP_TIME_WAIT);
    ct.table.setState(ids[2], TCP_CLOSED);
    for (let i = 3; i < 8; i++) ct.table.setState(ids[i], i === 5 ? UDP_REPLIED - 1 /* unreplied */ : UDP_REPLIED);
    const evicted: number[] = [];
    ct.listener = (e) => {
      if (e.reason === END_EVICTED) evicted.push(e.srcPort);
    };
    ct.now = 10; // the newcomers are more recent than the unreplied flow 5
    for (let n = 0; n < 3; n++) {
      const rec = udpRecord(100 + n);
      expect(ct.lookup(rec)).toBe(-1);
      expect(ct.create(rec, ORIGIN_INBOUND, 0)).toBeGreaterThanOrEqual(0);
    }
    expect(evicted).toHaveLength(3);
    for (const port of evicted) expect([1001, 1002, 1005, 1100, 1101, 1102]).toContain(port);
    expect(ct.count).toBe(8);
    for (const i of [0, 3, 4, 6, 7]) expect(ct.lookup(udpRecord(i)), `established flow ${i}`).toBeGreaterThanOrEqual(0);
  });

  it("among established flows the least recently seen is evicted, if idle for a minute", () => {
    const ct = new Conntrack({ capacity: 4, timeouts: { udpReplied: 10_000_000 } });
    for (let i = 0; i < 4; i++) {
      ct.now = 1000 + i * 10;
      const rec = udpRecord(i);
      ct.lookup(rec);
      const e = refEntry(ct.create(rec, ORIGIN_INBOUND, 0));
      ct.table.setState(e, UDP_REPLIED);
    }
    ct.now = 100_000;
    ct.update(ct.lookup(udpRecord(0)), udpRecord(0), true); // touch 0: 1 is now the oldest
    const ended: number[] = [];
    ct.listener = (e) => {
      if (e.kind === 1) ended.push(e.srcPort);
    };
    const rec = udpRecord(50);
    ct.lookup(rec);
    expect(ct.create(rec, ORIGIN_INBOUND, 0)).toBeGreaterThanOrEqual(0);
    expect(ended).toEqual([1001]);
  });

  it("an active established flow is never evicted: the newcomer is refused instead", () => {
    const ct = new Conntrack({ capacity: 2 });
    for (let i = 0; i < 2; i++) {
      const rec = udpRecord(i);
      ct.lookup(rec);
      ct.table.setState(refEntry(ct.create(rec, ORIGIN_INBOUND, 0)), UDP_REPLIED);
    }
    ct.now = 30_000;
    const rec = udpRecord(9);
    ct.lookup(rec);
    expect(ct.create(rec, ORIGIN_INBOUND, 0)).toBe(-1);
    expect(ct.count).toBe(2);
  });

  it("adaptive timeouts: past 60% of capacity every timeout shrinks linearly", () => {
    const ct = new Conntrack({ capacity: 100, timeouts: { udpUnreplied: 30_000 } });
    for (let i = 0; i < 60; i++) {
      const rec = udpRecord(i);
      ct.lookup(rec);
      ct.create(rec, ORIGIN_INBOUND, 0);
    }
    expect(ct.adaptiveScale).toBe(1);
    for (let i = 60; i < 90; i++) {
      const rec = udpRecord(i);
      ct.lookup(rec);
      ct.create(rec, ORIGIN_INBOUND, 0);
    }
    expect(ct.adaptiveScale).toBeCloseTo((120 - 90) / (120 - 60));
    ct.now = 16_000; // more than 30 s x 0.5
    expect(ct.lookup(udpRecord(0))).toBe(-1);
  });

  it("incremental expiry sweeps a bounded slice per call and eventually the whole table", () => {
    const ct = new Conntrack({ capacity: 1024 });
    for (let i = 0; i < 500; i++) {
      const rec = udpRecord(i);
      ct.lookup(rec);
      ct.create(rec, ORIGIN_INBOUND, 0);
    }
    let removed = 0;
    const first = ct.expireSome(60_000, 100);
    expect(first).toBeLessThanOrEqual(100);
    removed += first;
    for (let n = 0; n < 10; n++) removed += ct.expireSome(60_000, 100);
    expect(removed).toBe(500);
    expect(ct.count).toBe(0);
  });
});


describe("FlowTable.homeSlot4 (the prefetch hint, read from the header bytes through packet/tcp4-view.ts)", () => {
  it("is the slot the key of the packet's flow hashes to, for IPv4 TCP and UDP in both directions, IP options or not", () => {
    const t = new FlowTable(1024, seededRandom(7));
    const rec = new PacketRecord();
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.constantFrom("tcp" as const, "udp" as const),
        fc.constantFrom(0, 4, 8),
        (a, b, sp, dp, protocol, optionBytes) => {
          const ip = (x: number): string => [x >>> 24, (x >>> 16) & 0xff, (x >>> 8) & 0xff, x & 0xff].join(".");
          const p = buildPacket({ src: ip(a), dst: ip(b), protocol, srcPort: sp, dstPort: dp, ipOptions: new Uint8Array(optionBytes).fill(1), tcp: { flags: "A" } });
          const framed = new Uint8Array(p.length + 3);
          framed.set(p, 3);
          expect(decodePacket(p, 0, p.length, rec)).toBe(true);
          t.setKey4(rec.protocol, rec.src0 | 0, rec.srcPort, rec.dst0 | 0, rec.dstPort);
          expect(t.homeSlot4(p, 0, p.length)).toBe(t.keyHome);
          expect(t.homeSlot4(framed, 3, p.length)).toBe(t.keyHome);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("is -1 for anything else: IPv6, ICMP, a packet too short for the ports", () => {
    const t = new FlowTable(64);
    const v6 = buildPacket({ src: "fd00::1", dst: "fd00::2", protocol: "tcp", srcPort: 1, dstPort: 2, tcp: { flags: "A" } });
    expect(t.homeSlot4(v6, 0, v6.length)).toBe(-1);
    const icmp = buildPacket({ src: "100.64.0.1", dst: "100.64.0.2", protocol: "icmp" });
    expect(t.homeSlot4(icmp, 0, icmp.length)).toBe(-1);
    const tcp = buildPacket({ src: "100.64.0.1", dst: "100.64.0.2", protocol: "tcp", srcPort: 1, dstPort: 2, ipOptions: new Uint8Array(8).fill(1), tcp: { flags: "A" } });
    expect(t.homeSlot4(tcp, 0, 31)).toBe(-1); // 28 header bytes, the ports end at 32
    expect(t.homeSlot4(tcp, 0, 32)).toBeGreaterThanOrEqual(0);
  });
});
