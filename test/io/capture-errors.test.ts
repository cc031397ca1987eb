// Corrupt captures give a CaptureError naming the byte offset and what was expected
// there; the packets before the damage are still delivered.

import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { CaptureError, openCapture, readCapture } from "../../src/io/capture.ts";
import { LINKTYPE_RAW } from "../../src/io/link-layer.ts";
import { PcapWriter } from "../../src/io/pcap-writer.ts";
import { PcapngWriter } from "../../src/io/pcapng-writer.ts";
import { DEFAULT_POLICY, meshfilter } from "../replay/cli.ts";
import { makeTempDir, realIpPackets } from "./helpers.ts";

const tmp = makeTempDir("capture-errors");
afterAll(() => tmp.remove());
const packets = realIpPackets().slice(0, 4);
const lengths = packets.map((p) => p.ip.length);

function file(name: string, bytes: Uint8Array): string {
  const path = tmp.path(name);
  writeFileSync(path, bytes);
  return path;
}

function validPcap(options = {}): Uint8Array {
  const path = tmp.path("valid.pcap");
  const writer = PcapWriter.open(path, LINKTYPE_RAW, options);
  for (const p of packets) writer.write(p.ip, 0, p.ip.length, p.timeMs);
  writer.close();
  return readFileSync(path);
}

function validPcapng(): Uint8Array {
  const path = tmp.path("valid.pcapng");
  const writer = PcapngWriter.open(path);
  writer.addInterface(LINKTYPE_RAW);
  for (const p of packets) writer.write(0, p.ip, 0, p.ip.length, p.timeMs);
  writer.close();
  return readFileSync(path);
}

/** Reads to the end; returns the error thrown (expected) and how many packets came first. */
function readUntilError(path: string, chunkBytes?: number): { error: CaptureError; delivered: number } {
  let delivered = 0;
  try {
    const reader = openCapture(path, { chunkBytes });
    while (reader.next()) delivered++;
  } catch (error) {
    expect(error).toBeInstanceOf(CaptureError);
    return { error: error as CaptureError, delivered };
  }
  throw new Error("no CaptureError was thrown");
}

// Offsets in the valid pcap: 24-byte header, then 16 + length per record.
const pcapRecordOffset = (i: number) => 24 + lengths.slice(0, i).reduce((n, l) => n + 16 + l, 0);
// In the valid pcapng: section header (28) + interface (20), then 32 + padded length per block.
const padded = (n: number) => (n + 3) & ~3;
const pcapngBlockOffset = (i: number) => 48 + lengths.slice(0, i).reduce((n, l) => n + 32 + padded(l), 0);

describe("file headers", () => {
  it("rejects a bad magic at offset 0", () => {
    const { error } = readUntilError(file("magic.pcap", new TextEncoder().encode("GET / HTTP/1.1\r\n\r\nhello")));
    expect(error.byteOffset).toBe(0);
    expect(error.message).toMatch(/bad magic 0x47455420: pcap .* or pcapng .* expected/);
    expect(error.path).toContain("magic.pcap");
  });

  it("rejects an empty file and a truncated pcap header", () => {
    expect(readUntilError(file("empty.pcap", new Uint8Array(0))).error.message).toMatch(/file too short/);
    const { error } = readUntilError(file("short.pcap", validPcap().slice(0, 10)));
    expect(error.byteOffset).toBe(0);
    expect(error.message).toMatch(/truncated pcap file header: 24 bytes expected, 10 present/);
  });

  it("rejects an unsupported link type, naming the header field", () => {
    const bytes = validPcap();
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(20, 147, true); // LINKTYPE_USER0
    const { error } = readUntilError(file("usb.pcap", bytes));
    expect(error.byteOffset).toBe(20);
    expect(error.message).toMatch(/unsupported link type 147/);
  });
});

describe("pcap records", () => {
  it("a file cut inside a record header names that record's offset", () => {
    const cut = pcapRecordOffset(2) + 5;
    const { error, delivered } = readUntilError(file("cut-header.pcap", validPcap().slice(0, cut)));
    expect(delivered).toBe(2);
    expect(error.byteOffset).toBe(pcapRecordOffset(2));
    expect(error.message).toMatch(/truncated record header: 16 bytes expected, 5 left/);
  });

  it("a file cut mid-packet (a truncated final record) names that record's offset", () => {
    const cut = pcapRecordOffset(3) + 16 + 7;
    for (const chunkBytes of [undefined, 64]) {
      const { error, delivered } = readUntilError(file("cut-record.pcap", validPcap({ bigEndian: true }).slice(0, cut)), chunkBytes);
      expect(delivered).toBe(3);
      expect(error.byteOffset).toBe(pcapRecordOffset(3));
      expect(error.message).toMatch(new RegExp(`truncated record: ${lengths[3]} bytes of packet data expected, 7 left`));
    }
  });

  it("a record longer than the snaplen is rejected before anything is read", () => {
    const bytes = validPcap();
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(pcapRecordOffset(1) + 8, 0x7fffffff, true);
    const { error, delivered } = readUntilError(file("huge.pcap", bytes));
    expect(delivered).toBe(1);
    expect(error.byteOffset).toBe(pcapRecordOffset(1));
    expect(error.message).toMatch(/record length 2147483647 exceeds the snaplen 262144/);
  });
});

describe("pcapng blocks", () => {
  it("a block length that is not a multiple of 4 names the length field", () => {
    const bytes = validPcapng();
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(pcapngBlockOffset(1) + 4, 37, true);
    const { error, delivered } = readUntilError(file("odd.pcapng", bytes));
    expect(delivered).toBe(1);
    expect(error.byteOffset).toBe(pcapngBlockOffset(1) + 4);
    expect(error.message).toMatch(/bad block total length 37/);
  });

  it("a trailer that disagrees with the header names the trailer", () => {
    const bytes = validPcapng();
    const total = 32 + padded(lengths[2]);
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(pcapngBlockOffset(2) + total - 4, total + 4, true);
    const { error, delivered } = readUntilError(file("mismatch.pcapng", bytes));
    expect(delivered).toBe(2);
    expect(error.byteOffset).toBe(pcapngBlockOffset(2) + total - 4);
    expect(error.message).toMatch(new RegExp(`block total length mismatch: the header says ${total}, the trailer says ${total + 4}`));
  });

  it("a packet on an interface the section never described", () => {
    const bytes = validPcapng();
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(pcapngBlockOffset(0) + 8, 3, true);
    const { error, delivered } = readUntilError(file("interface.pcapng", bytes));
    expect(delivered).toBe(0);
    expect(error.byteOffset).toBe(pcapngBlockOffset(0) + 8);
    expect(error.message).toMatch(/unknown interface id 3: the section describes 1 interface/);
  });

  it("a file cut inside a block names the block", () => {
    const cut = pcapngBlockOffset(3) + 20;
    const { error, delivered } = readUntilError(file("cut.pcapng", validPcapng().slice(0, cut)));
    expect(delivered).toBe(3);
    expect(error.byteOffset).toBe(pcapngBlockOffset(3));
    expect(error.message).toMatch(/truncated block: \d+ bytes expected, 20 left/);
  });

  it("a captured length larger than its block", () => {
    const bytes = validPcapng();
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(pcapngBlockOffset(0) + 20, 5000, true);
    const { error } = readUntilError(file("caplen.pcapng", bytes));
    expect(error.byteOffset).toBe(pcapngBlockOffset(0) + 20);
    expect(error.message).toMatch(/captured length 5000 does not fit in a block/);
  });

  it("a bad byte-order magic in the section header", () => {
    const bytes = validPcapng();
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(8, 0x12345678, true);
    const { error } = readUntilError(file("bom.pcapng", bytes));
    expect(error.byteOffset).toBe(8);
    expect(error.message).toMatch(/bad byte-order magic 0x78563412 .* 0x1a2b3c4d expected/);
  });

  it("an unsupported link type in an interface description", () => {
    const bytes = validPcapng();
    new DataView(bytes.buffer, bytes.byteOffset).setUint16(28 + 8, 220, true);
    const { error } = readUntilError(file("usb.pcapng", bytes));
    expect(error.byteOffset).toBe(36);
    expect(error.message).toMatch(/unsupported link type 220 in interface description block/);
  });
});

describe("never crashes on garbage", () => {
  it("random damage gives either packets or a CaptureError, never another exception", () => {
    const sources = [validPcap(), validPcapng()];
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let round = 0; round < 400; round++) {
      const bytes = sources[round % 2].slice();
      const hits = 1 + Math.floor(random() * 6);
      for (let h = 0; h < hits; h++) bytes[4 + Math.floor(random() * (bytes.length - 4))] = Math.floor(random() * 256);
      const path = file("fuzz.bin", bytes.slice(0, Math.floor(bytes.length * (0.5 + random() / 2))));
      try {
        const reader = openCapture(path, { chunkBytes: 128 });
        while (reader.next()) expect(reader.ipOffset + reader.ipLength).toBeLessThanOrEqual(reader.data.length);
        reader.close();
      } catch (error) {
        expect(error).toBeInstanceOf(CaptureError);
      }
    }
  });
});

describe("timestamps outside a date's range", () => {
  /** A little-endian pcapng: section header, one raw-IP interface with the given options, one enhanced packet block. */
  function pcapngWithTime(interfaceOptions: Uint8Array, high: number, low: number): Uint8Array {
    const ip = packets[0].ip;
    const shb = new DataView(new ArrayBuffer(28));
    shb.setUint32(0, 0x0a0d0d0a, true);
    shb.setUint32(4, 28, true);
    shb.setUint32(8, 0x1a2b3c4d, true);
    shb.setUint16(12, 1, true);
    shb.setBigInt64(16, -1n, true);
    shb.setUint32(24, 28, true);
    const idbLength = 20 + interfaceOptions.length + 4;
    const idb = new DataView(new ArrayBuffer(idbLength));
    idb.setUint32(0, 1, true);
    idb.setUint32(4, idbLength, true);
    idb.setUint16(8, LINKTYPE_RAW, true);
    idb.setUint32(12, 0, true);
    new Uint8Array(idb.buffer).set(interfaceOptions, 16);
    idb.setUint32(idbLength - 4, idbLength, true);
    const epbLength = 32 + padded(ip.length);
    const epb = new DataView(new ArrayBuffer(epbLength));
    epb.setUint32(0, 6, true);
    epb.setUint32(4, epbLength, true);
    epb.setUint32(12, high, true);
    epb.setUint32(16, low, true);
    epb.setUint32(20, ip.length, true);
    epb.setUint32(24, ip.length, true);
    new Uint8Array(epb.buffer).set(ip, 28);
    epb.setUint32(epbLength - 4, epbLength, true);
    const out = new Uint8Array(28 + idbLength + epbLength);
    out.set(new Uint8Array(shb.buffer), 0);
    out.set(new Uint8Array(idb.buffer), 28);
    out.set(new Uint8Array(epb.buffer), 28 + idbLength);
    return out;
  }
  /** if_tsresol (1 byte) and if_tsoffset (8 bytes, seconds), then opt_endofopt. */
  function options(tsresol: number, tsoffsetSeconds: bigint): Uint8Array {
    const view = new DataView(new ArrayBuffer(8 + 12 + 4));
    view.setUint16(0, 9, true);
    view.setUint16(2, 1, true);
    view.setUint8(4, tsresol);
    view.setUint16(8, 14, true);
    view.setUint16(10, 8, true);
    view.setBigInt64(12, tsoffsetSeconds, true);
    return new Uint8Array(view.buffer);
  }
  const timestampField = 28 + 20 + 24 + 4 + 12; // section, interface (with options), the EPB's timestamp

  it("a huge if_tsoffset with a 2^-127 resolution names the file and the timestamp's offset", () => {
    const path = file("far-future.pcapng", pcapngWithTime(options(0x80 | 127, 2n ** 62n), 0, 1));
    const { error, delivered } = readUntilError(path);
    expect(delivered).toBe(0);
    expect(error.byteOffset).toBe(timestampField);
    expect(error.message).toMatch(new RegExp(`^${path}: byte offset ${timestampField}: timestamp out of range: .*if_tsoffset`));
  });

  it("a timestamp of 0xffffffff00000000 microseconds is refused the same way", () => {
    const { error } = readUntilError(file("huge-units.pcapng", pcapngWithTime(new Uint8Array(0), 0xffffffff, 0)));
    expect(error.byteOffset).toBe(28 + 24 + 12); // an interface block with only opt_endofopt
    expect(error.detail).toMatch(/^timestamp out of range: 18446744069414584000 units of 0.000001 s/);
  });

  it("a negative if_tsoffset past the start of a date's range too", () => {
    const { error } = readUntilError(file("far-past.pcapng", pcapngWithTime(options(6, -(2n ** 62n)), 0, 0)));
    expect(error.detail).toMatch(/^timestamp out of range/);
  });

  it("replay prints the summary, then the file and byte offset, exit 1 (not 'Invalid time value')", () => {
    const path = file("replay-far-future.pcapng", pcapngWithTime(options(0x80 | 127, 2n ** 62n), 0, 1));
    const r = meshfilter("replay", path, "--policy", DEFAULT_POLICY, "--peer", "db-1");
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^0 packets read from/);
    expect(r.stderr.trim()).toBe(`meshfilter replay: ${path}: byte offset ${timestampField}: ${readUntilError(path).error.detail}`);
  });

  it("classic pcap cannot leave the range: the largest seconds and fractions read, in both resolutions", () => {
    for (const nanosecond of [false, true]) {
      const bytes = validPcap({ nanosecond });
      const view = new DataView(bytes.buffer, bytes.byteOffset);
      view.setUint32(24, 0xffffffff, true);
      view.setUint32(28, 0xffffffff, true);
      const path = file(`max-time-${nanosecond}.pcap`, bytes);
      const times = [...readCapture(path)].map((p) => p.timeMs);
      expect(times[0]).toBe(0xffffffff * 1000 + 0xffffffff * (nanosecond ? 1e-6 : 1e-3));
      const r = meshfilter("replay", path, "--policy", DEFAULT_POLICY, "--peer", "db-1", "--json");
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout).firstPacket).toBe(new Date(times[0]).toISOString());
    }
  });
});
