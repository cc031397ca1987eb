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

  it("never holds more than its capacity; the newest datagram is always kept", () => {
    const table = new FragmentTable(100, 30_000);
    expect(table.capacity).toBeLessThanOrEqual(100);
    const rec = new PacketRecord();
    for (let id = 0; id < 1000; id++) {
      table.rememberFirst(fragment(id, 0, 40, true, {}, rec), ACCEPT, id);
      expect(table.lookup(fragment(id, 40, 8, true, {}, rec), id)).toBe(ACCEPT);
      expect(table.size(id)).toBeLessThanOrEqual(table.capacity);
    }
    expect(table.size(1000)).toBe(table.capacity);
    expect(table.lookup(fragment(0, 48, 8, true, {}, rec), 1000)).toBe(FRAG_UNKNOWN); // the oldest were evicted
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

  it("refuses a bad capacity or timeout", () => {
    expect(() => new FragmentTable(0)).toThrow(/capacity/);
    expect(() => new FragmentTable(10, 0)).toThrow(/timeoutMs/);
  });
});
