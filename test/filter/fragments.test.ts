import { describe, expect, it } from "vitest";
import { FRAG_OVERLAP, FRAG_UNKNOWN, FragmentTable } from "../../src/filter/fragments.ts";
import { buildPacket } from "../../src/packet/builder.ts";
import { decodePacket } from "../../src/packet/decode.ts";
import { MALFORMED_TINY_FRAGMENT, PacketRecord } from "../../src/packet/record.ts";

const ACCEPT = 1;
const DROP = 0;

/** Decode one real fragment: `offset` and `bytes` count fragment data (a first UDP fragment includes its 8-byte header). */
function fragment(
  id: number,
  offset: number,
  bytes: number,
  more: boolean,
  { src = "100.64.0.10", dst = "100.64.0.20", protocol = "udp" as "udp" | "tcp" } = {},
  rec = new PacketRecord(),
): PacketRecord {
  const first = offset === 0;
  const header = first ? (protocol === "udp" ? 8 : 20) : 0;
  const buf = buildPacket({
    src,
    dst,
    protocol,
    srcPort: 5000,
    dstPort: 53,
    ipId: id,
    moreFragments: more,
    fragmentOffset: offset,
    payload: bytes - header,
  });
  decodePacket(buf, 0, buf.length, rec);
  return rec;
}

describe("FragmentTable", () => {
  it("applies the first fragment's verdict to the rest, in order", () => {
    const table = new FragmentTable(64, 30_000);
    table.rememberFirst(fragment(1, 0, 40, true), ACCEPT, 0);
    table.rememberFirst(fragment(2, 0, 40, true), DROP, 0);
    expect(table.lookup(fragment(1, 40, 40, true), 1)).toBe(ACCEPT);
    expect(table.lookup(fragment(2, 40, 40, true), 1)).toBe(DROP);
    expect(table.lookup(fragment(1, 80, 8, false), 2)).toBe(ACCEPT);
  });

  it("frees a datagram once its fragments cover it exactly", () => {
    const table = new FragmentTable(64, 30_000);
    table.rememberFirst(fragment(1, 0, 40, true), ACCEPT, 0);
    expect(table.size(0)).toBe(1);
    expect(table.lookup(fragment(1, 40, 16, false), 1)).toBe(ACCEPT);
    expect(table.size(1)).toBe(0);
    expect(table.lookup(fragment(1, 40, 16, false), 1)).toBe(FRAG_UNKNOWN);
  });

  it("accepts non-first fragments out of order after the first one", () => {
    const table = new FragmentTable(64, 30_000);
    table.rememberFirst(fragment(9, 0, 40, true), ACCEPT, 0);
    expect(table.lookup(fragment(9, 120, 8, false), 1)).toBe(ACCEPT); // last first
    expect(table.lookup(fragment(9, 80, 40, true), 1)).toBe(ACCEPT);
    expect(table.size(1)).toBe(1);
    expect(table.lookup(fragment(9, 40, 40, true), 1)).toBe(ACCEPT); // fills the gap: complete
    expect(table.size(1)).toBe(0);
  });

  it("drops non-first fragments that arrive before their first fragment (FRAG_UNKNOWN), by design", () => {
    const table = new FragmentTable(64, 30_000);
    expect(table.lookup(fragment(3, 40, 40, false), 0)).toBe(FRAG_UNKNOWN);
    table.rememberFirst(fragment(3, 0, 40, true), ACCEPT, 1);
    // the early fragment is gone; a retransmitted one passes
    expect(table.lookup(fragment(3, 40, 40, false), 2)).toBe(ACCEPT);
  });

  it("keys on addresses, id and protocol", () => {
    const table = new FragmentTable(64, 30_000);
    table.rememberFirst(fragment(5, 0, 40, true), ACCEPT, 0);
    expect(table.lookup(fragment(5, 40, 8, false, { src: "100.64.0.11" }), 0)).toBe(FRAG_UNKNOWN);
    expect(table.lookup(fragment(5, 40, 8, false, { dst: "100.64.0.21" }), 0)).toBe(FRAG_UNKNOWN);
    expect(table.lookup(fragment(6, 40, 8, false), 0)).toBe(FRAG_UNKNOWN);
    expect(table.lookup(fragment(5, 40, 8, false, { protocol: "tcp" }), 0)).toBe(FRAG_UNKNOWN);
    expect(table.lookup(fragment(5, 40, 8, false), 0)).toBe(ACCEPT);
  });

  it("IPv6 fragments use the fragment header's 32-bit identification", () => {
    const table = new FragmentTable(64, 30_000);
    const v6 = { src: "fd00::10", dst: "fd00::20" };
    table.rememberFirst(fragment(0x12345678, 0, 40, true, v6), ACCEPT, 0);
    expect(table.lookup(fragment(0x12345679, 40, 8, false, v6), 0)).toBe(FRAG_UNKNOWN);
    expect(table.lookup(fragment(0x12345678, 40, 8, false, v6), 0)).toBe(ACCEPT);
  });

  it("overlapping fragments poison the datagram (FRAG_OVERLAP), also for later fragments", () => {
    const table = new FragmentTable(64, 30_000);
    table.rememberFirst(fragment(4, 0, 40, true), ACCEPT, 0);
    expect(table.lookup(fragment(4, 32, 16, true), 1)).toBe(FRAG_OVERLAP); // rewrites bytes 32..40 of the first
    expect(table.lookup(fragment(4, 48, 8, false), 1)).toBe(FRAG_OVERLAP);
    table.rememberFirst(fragment(8, 0, 40, true), ACCEPT, 0);
    expect(table.lookup(fragment(8, 40, 40, true), 1)).toBe(ACCEPT);
    expect(table.lookup(fragment(8, 40, 40, true), 1)).toBe(FRAG_OVERLAP); // an exact duplicate overlaps too
  });

  it("fragments that contradict the datagram's length count as overlaps", () => {
    const table = new FragmentTable(64, 30_000);
    table.rememberFirst(fragment(4, 0, 40, true), ACCEPT, 0);
    expect(table.lookup(fragment(4, 80, 8, false), 1)).toBe(ACCEPT); // total is 88
    expect(table.lookup(fragment(4, 88, 8, true), 1)).toBe(FRAG_OVERLAP); // beyond the end
  });

  it(`gives up (FRAG_OVERLAP) when a datagram arrives in more disjoint pieces than it can track`, () => {
    const table = new FragmentTable(64, 30_000);
    table.rememberFirst(fragment(4, 0, 8, true), ACCEPT, 0);
    expect(table.lookup(fragment(4, 16, 8, true), 1)).toBe(ACCEPT);
    expect(table.lookup(fragment(4, 32, 8, true), 1)).toBe(ACCEPT);
    expect(table.lookup(fragment(4, 48, 8, true), 1)).toBe(ACCEPT); // four disjoint ranges now
    expect(table.lookup(fragment(4, 64, 8, true), 1)).toBe(FRAG_OVERLAP);
  });

  it("forgets a datagram after the timeout", () => {
    const table = new FragmentTable(64, 1_000);
    table.rememberFirst(fragment(1, 0, 40, true), ACCEPT, 5_000);
    expect(table.lookup(fragment(1, 40, 8, true), 5_999)).toBe(ACCEPT);
    expect(table.lookup(fragment(1, 48, 8, true), 6_000)).toBe(FRAG_UNKNOWN);
    table.rememberFirst(fragment(2, 0, 40, true), ACCEPT, 5_000);
    table.rememberFirst(fragment(3, 0, 40, true), ACCEPT, 5_500);
    expect(table.expire(6_000)).toBe(2); // ids 1 and 2
    expect(table.size(6_000)).toBe(1);
  });

  it("never holds more than its capacity; the oldest datagrams go first", () => {
    const table = new FragmentTable(100, 30_000);
    expect(table.capacity).toBeLessThanOrEqual(100);
    const rec = new PacketRecord();
    const from = (id: number) => ({ src: `100.64.${id >> 8}.${id & 255}` });
    for (let id = 0; id < 1000; id++) {
      table.rememberFirst(fragment(id, 0, 40, true, from(id), rec), ACCEPT, id);
      expect(table.size(id)).toBeLessThanOrEqual(table.capacity);
    }
    expect(table.size(1000)).toBe(table.capacity);
    expect(table.lookup(fragment(0, 48, 8, true, from(0), rec), 1000)).toBe(FRAG_UNKNOWN); // the oldest were evicted
  });

  it("records only well-formed first fragments (not tiny ones, not whole packets)", () => {
    const table = new FragmentTable(64, 30_000);
    const tinyBuf = buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp", ipId: 1, moreFragments: true, rawL4: true, payload: 8 });
    const tiny = new PacketRecord();
    decodePacket(tinyBuf, 0, tinyBuf.length, tiny);
    expect(tiny.malformed).toBe(MALFORMED_TINY_FRAGMENT);
    table.rememberFirst(tiny, ACCEPT, 0);
    const whole = fragment(2, 0, 40, false);
    expect(whole.isFragment).toBe(false);
    table.rememberFirst(whole, ACCEPT, 0);
    expect(table.size(0)).toBe(0);
  });

  it("refuses a bad capacity, timeout or share", () => {
    expect(() => new FragmentTable(0)).toThrow(/capacity/);
    expect(() => new FragmentTable(10, 0)).toThrow(/timeoutMs/);
    expect(() => new FragmentTable(10, 10, 1, 0)).toThrow(/share/);
  });
});

describe("FragmentTable: dropped first fragments and per-source shares", () => {
  const VICTIM = { src: "100.64.0.10" };
  const FLOODER = { src: "100.64.0.66" };
  const SEED = 1; // a seed under which the sources below have counters of their own (checked through heldBy)

  it("a dropped first fragment takes no slot; its later fragments get the drop while it is remembered", () => {
    const table = new FragmentTable(64, 30_000, SEED);
    table.rememberFirst(fragment(1, 0, 40, true, VICTIM), ACCEPT, 0);
    const rec = new PacketRecord();
    for (let i = 0; i < 10_000; i++) {
      const spoofed = { src: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` };
      table.rememberFirst(fragment(i & 0xffff, 0, 40, true, spoofed, rec), DROP, 1);
    }
    expect(table.size(1)).toBe(1);
    expect(table.lookup(fragment(1, 40, 8, false, VICTIM), 2)).toBe(ACCEPT);
    // The last spoofed datagram's tail: its first fragment was dropped, and that is remembered...
    expect(table.lookup(fragment(9_999, 40, 8, false, { src: "10.0.39.15" }), 2)).toBe(DROP);
    // ...for the timeout; after it (or once overwritten), the tail has no first fragment.
    expect(table.lookup(fragment(9_999, 40, 8, false, { src: "10.0.39.15" }), 30_001)).toBe(FRAG_UNKNOWN);
  });

  it("a first fragment dropped on repetition frees the datagram's slot", () => {
    const table = new FragmentTable(64, 30_000, SEED);
    table.rememberFirst(fragment(3, 0, 40, true), ACCEPT, 0);
    table.rememberFirst(fragment(3, 0, 40, true), DROP, 1);
    expect(table.size(1)).toBe(0);
    expect(table.lookup(fragment(3, 40, 8, false), 1)).toBe(DROP);
    table.rememberFirst(fragment(3, 0, 40, true), ACCEPT, 2);
    expect(table.lookup(fragment(3, 40, 8, false), 2)).toBe(ACCEPT);
  });

  it("a flood of first fragments from one allowed source evicts its own datagrams, never another source's", () => {
    const table = new FragmentTable(64, 30_000, SEED);
    expect(table.share).toBe(8);
    const victim = fragment(1, 0, 40, true, VICTIM);
    table.rememberFirst(victim, ACCEPT, 0);
    expect(table.heldBy(victim)).toBe(1);
    const rec = new PacketRecord();
    for (let id = 0; id < 10_000; id++) {
      table.rememberFirst(fragment(id, 0, 40, true, FLOODER, rec), ACCEPT, 1 + id / 1000);
      expect(table.heldBy(rec)).toBeLessThanOrEqual(table.share);
    }
    expect(table.heldBy(victim)).toBe(1);
    expect(table.lookup(fragment(1, 40, 8, false, VICTIM), 20)).toBe(ACCEPT);
  });

  it("a full set evicts the datagram of its largest holder, and only a holder larger than the newcomer", () => {
    // Capacity 8: one set of 8 ways, so every datagram competes for the same slots.
    const table = new FragmentTable(8, 30_000, SEED, 8);
    for (let id = 0; id < 7; id++) table.rememberFirst(fragment(id, 0, 40, true, FLOODER), ACCEPT, id);
    table.rememberFirst(fragment(100, 0, 40, true, VICTIM), ACCEPT, 10);
    expect(table.size(10)).toBe(8);
    expect(table.heldBy(fragment(0, 0, 40, true, FLOODER))).toBe(7);
    // A new source evicts the flooder's oldest, not the victim's (older than most of the flooder's).
    table.rememberFirst(fragment(200, 0, 40, true, { src: "100.64.0.77" }), ACCEPT, 11);
    expect(table.lookup(fragment(0, 40, 8, true, FLOODER), 11)).toBe(FRAG_UNKNOWN);
    // The flooder itself, with the set full, can only replace its own.
    table.rememberFirst(fragment(7, 0, 40, true, FLOODER), ACCEPT, 12);
    expect(table.lookup(fragment(1, 40, 8, true, FLOODER), 12)).toBe(FRAG_UNKNOWN);
    expect(table.lookup(fragment(100, 40, 8, true, VICTIM), 12)).toBe(ACCEPT);
    expect(table.lookup(fragment(200, 40, 8, true, { src: "100.64.0.77" }), 12)).toBe(ACCEPT);
  });

  it("among equal holders the oldest goes; a holder no larger than the newcomer is never evicted for it", () => {
    const table = new FragmentTable(8, 30_000, SEED, 8);
    const source = (i: number) => ({ src: `100.64.1.${i}` });
    for (let i = 0; i < 8; i++) table.rememberFirst(fragment(i, 0, 40, true, source(i)), ACCEPT, i);
    // Source 3 holds one datagram, as every other: its second replaces its own first.
    table.rememberFirst(fragment(30, 0, 40, true, source(3)), ACCEPT, 20);
    expect(table.lookup(fragment(3, 40, 8, true, source(3)), 20)).toBe(FRAG_UNKNOWN);
    expect(table.lookup(fragment(30, 40, 8, true, source(3)), 20)).toBe(ACCEPT);
    // A source holding nothing evicts the oldest of the equal holders (source 0).
    table.rememberFirst(fragment(90, 0, 40, true, source(9)), ACCEPT, 21);
    expect(table.lookup(fragment(0, 40, 8, true, source(0)), 21)).toBe(FRAG_UNKNOWN);
    for (const i of [1, 2, 4, 5, 6, 7]) expect(table.lookup(fragment(i, 40, 8, true, source(i)), 21)).toBe(ACCEPT);
  });

  it("a source at its share replaces its own oldest datagram where it can, else its new datagram is not recorded", () => {
    const table = new FragmentTable(64, 30_000, SEED, 2);
    const rec = new PacketRecord();
    let unrecorded = 0;
    for (let id = 0; id < 200; id++) {
      table.rememberFirst(fragment(id, 0, 40, true, FLOODER, rec), ACCEPT, id);
      expect(table.heldBy(rec)).toBeLessThanOrEqual(2);
      if (table.lookup(fragment(id, 40, 8, true, FLOODER, rec), id) === FRAG_UNKNOWN) unrecorded++;
    }
    expect(table.size(200)).toBe(2);
    expect(unrecorded).toBeGreaterThan(0);
    expect(unrecorded).toBeLessThan(200);
  });

  it("expired datagrams stop counting for their source once freed", () => {
    const table = new FragmentTable(64, 1_000, SEED, 2);
    table.rememberFirst(fragment(1, 0, 40, true, FLOODER), ACCEPT, 0);
    table.rememberFirst(fragment(2, 0, 40, true, FLOODER), ACCEPT, 0);
    expect(table.heldBy(fragment(3, 0, 40, true, FLOODER))).toBe(2);
    table.expire(1_000);
    expect(table.heldBy(fragment(3, 0, 40, true, FLOODER))).toBe(0);
    table.rememberFirst(fragment(3, 0, 40, true, FLOODER), ACCEPT, 1_000);
    expect(table.lookup(fragment(3, 40, 8, true, FLOODER), 1_000)).toBe(ACCEPT);
    table.clear();
    expect(table.heldBy(fragment(3, 0, 40, true, FLOODER))).toBe(0);
  });
});
