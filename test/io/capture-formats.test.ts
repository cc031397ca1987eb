// pcap in both byte orders and both timestamp resolutions, pcapng with several
// sections, interfaces, link types, resolutions and skipped blocks and options, every
// supported link type, and records straddling the chunk buffer. The packets are the
// real ones of fixtures/raw-ip.pcap, re-framed by the writers.

import { readFileSync, statSync, writeFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { openCapture, readCapture } from "../../src/io/capture.ts";
import type { CaptureReader } from "../../src/io/capture-reader.ts";
import {
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_LOOP,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
  LINKTYPE_RAW_BSD_12,
  LINKTYPE_RAW_BSD_14,
} from "../../src/io/link-layer.ts";
import { PcapReader } from "../../src/io/pcap-reader.ts";
import { PcapWriter } from "../../src/io/pcap-writer.ts";
import {
  BLOCK_INTERFACE_DESCRIPTION,
  BLOCK_OBSOLETE_PACKET,
  OPTION_IF_TSOFFSET,
  OPTION_IF_TSRESOL,
  PcapngReader,
} from "../../src/io/pcapng-reader.ts";
import { PcapngWriter } from "../../src/io/pcapng-writer.ts";
import {
  ARP_FRAME,
  ethernetFrame,
  hex,
  loopbackFrame,
  makeTempDir,
  realIpPackets,
  sll2Frame,
  sllFrame,
} from "./helpers.ts";

const tmp = makeTempDir("capture-formats");
afterAll(() => tmp.remove());
const packets = realIpPackets();

/** Reads every packet, returning copies of the located IP packets and the per-packet fields. */
function readAll(reader: CaptureReader) {
  const out: { ip: Uint8Array; timeMs: number; linkType: number; interfaceId: number; index: number; byteOffset: number }[] = [];
  while (reader.next()) {
    out.push({
      ip: reader.data.slice(reader.ipOffset, reader.ipOffset + reader.ipLength),
      timeMs: reader.timeMs,
      linkType: reader.linkType,
      interfaceId: reader.interfaceId,
      index: reader.index,
      byteOffset: reader.byteOffset,
    });
  }
  reader.close();
  return out;
}

function writePcap(name: string, linkType: number, frame: (ip: Uint8Array) => Uint8Array, options = {}): string {
  const path = tmp.path(name);
  const writer = PcapWriter.open(path, linkType, options);
  for (const p of packets) {
    const bytes = frame(p.ip);
    writer.write(bytes, 0, bytes.length, p.timeMs);
  }
  writer.close();
  return path;
}

describe("the real raw-IP fixture", () => {
  it("holds IPv4 and IPv6 packets to re-frame", () => {
    expect(packets.length).toBeGreaterThan(20);
    expect(packets.some((p) => p.ip[0] >> 4 === 6)).toBe(true);
    expect(packets.some((p) => p.ip[0] >> 4 === 4)).toBe(true);
  });
});

describe("pcap", () => {
  it.each([
    ["little-endian microseconds", {}],
    ["big-endian microseconds", { bigEndian: true }],
    ["little-endian nanoseconds", { nanosecond: true }],
    ["big-endian nanoseconds", { nanosecond: true, bigEndian: true }],
  ])("reads %s", (_label, options) => {
    const path = writePcap(`order-${JSON.stringify(options)}.pcap`, LINKTYPE_RAW, (ip) => ip, options);
    const reader = openCapture(path);
    expect(reader).toBeInstanceOf(PcapReader);
    const pcap = reader as PcapReader;
    expect(pcap.littleEndian).toBe(!("bigEndian" in options));
    expect(pcap.nanosecond).toBe("nanosecond" in options);
    const read = readAll(reader);
    expect(read.length).toBe(packets.length);
    read.forEach((r, i) => {
      expect(hex(r.ip)).toBe(hex(packets[i].ip));
      expect(r.timeMs).toBeCloseTo(packets[i].timeMs, 3);
      expect(r.index).toBe(i);
      expect(r.linkType).toBe(LINKTYPE_RAW);
    });
    expect(read[0].byteOffset).toBe(24);
    expect(read[1].byteOffset).toBe(24 + 16 + packets[0].ip.length);
  });

  it("keeps sub-microsecond time from nanosecond files", () => {
    const path = tmp.path("nano-time.pcap");
    const writer = PcapWriter.open(path, LINKTYPE_RAW, { nanosecond: true });
    writer.write(packets[0].ip, 0, packets[0].ip.length, 1_000_000.000_25); // 1000 s + 250 ns
    writer.close();
    const reader = openCapture(path);
    reader.next();
    expect(reader.timeMs).toBeCloseTo(1_000_000.000_25, 6);
    reader.close();
  });

  it("reads the real nanosecond capture tcpdump wrote with --nano", () => {
    const reader = openCapture(new URL("../../fixtures/linux-sll2-nano.pcap", import.meta.url).pathname) as PcapReader;
    expect(reader.nanosecond).toBe(true);
    expect(reader.linkType).toBe(LINKTYPE_LINUX_SLL2);
    let previous = 0;
    while (reader.next()) {
      expect(reader.timeMs).toBeGreaterThanOrEqual(previous);
      previous = reader.timeMs;
    }
    expect(reader.index).toBeGreaterThan(50);
    reader.close();
  });
});

describe("link types", () => {
  const cases: [string, number, (ip: Uint8Array) => Uint8Array][] = [
    ["raw IP 101", LINKTYPE_RAW, (ip) => ip],
    ["raw IP 12", LINKTYPE_RAW_BSD_12, (ip) => ip],
    ["raw IP 14", LINKTYPE_RAW_BSD_14, (ip) => ip],
    ["Ethernet", LINKTYPE_ETHERNET, (ip) => ethernetFrame(ip)],
    ["Ethernet with an FCS", LINKTYPE_ETHERNET, (ip) => ethernetFrame(ip, [], true)],
    ["Ethernet 802.1Q", LINKTYPE_ETHERNET, (ip) => ethernetFrame(ip, [[0x8100, 100]])],
    ["Ethernet stacked 802.1ad + 802.1Q", LINKTYPE_ETHERNET, (ip) => ethernetFrame(ip, [[0x88a8, 300], [0x8100, 30]])],
    ["Ethernet stacked 0x9100 + 802.1Q", LINKTYPE_ETHERNET, (ip) => ethernetFrame(ip, [[0x9100, 7], [0x8100, 8]])],
    ["Linux cooked v1", LINKTYPE_LINUX_SLL, sllFrame],
    ["Linux cooked v2", LINKTYPE_LINUX_SLL2, sll2Frame],
    ["BSD loopback, little-endian host (Linux AF_INET6 10)", LINKTYPE_NULL, (ip) => loopbackFrame(ip, 10, "little")],
    ["BSD loopback, big-endian host (FreeBSD AF_INET6 28)", LINKTYPE_NULL, (ip) => loopbackFrame(ip, 28, "big")],
    ["OpenBSD loopback (AF_INET6 24)", LINKTYPE_LOOP, (ip) => loopbackFrame(ip, 24, "big")],
  ];
  it.each(cases)("finds the IP packet in %s frames", (label, linkType, frame) => {
    const path = writePcap(`link-${label.replace(/\W+/g, "-")}.pcap`, linkType, frame);
    const read = readAll(openCapture(path));
    expect(read.map((r) => hex(r.ip))).toEqual(packets.map((p) => hex(p.ip)));
  });

  it("reads LINKTYPE_IPV4 and LINKTYPE_IPV6 interfaces side by side", () => {
    const path = tmp.path("ipv4-ipv6.pcapng");
    const writer = PcapngWriter.open(path);
    const v4 = writer.addInterface(LINKTYPE_IPV4);
    const v6 = writer.addInterface(LINKTYPE_IPV6);
    for (const p of packets) writer.write(p.ip[0] >> 4 === 6 ? v6 : v4, p.ip, 0, p.ip.length, p.timeMs);
    writer.close();
    const read = readAll(openCapture(path));
    expect(read.map((r) => hex(r.ip))).toEqual(packets.map((p) => hex(p.ip)));
    expect(read.map((r) => r.linkType)).toEqual(packets.map((p) => (p.ip[0] >> 4 === 6 ? LINKTYPE_IPV6 : LINKTYPE_IPV4)));
  });

  it("returns non-IP frames (ARP) with ipLength 0, and cuts Ethernet padding off small IP packets", () => {
    const small = packets.find((p) => p.ip.length < 46 && p.ip[0] >> 4 === 4);
    expect(small).toBeDefined();
    const path = tmp.path("arp.pcap");
    const writer = PcapWriter.open(path, LINKTYPE_ETHERNET);
    writer.write(ARP_FRAME, 0, ARP_FRAME.length, 1);
    const padded = ethernetFrame(small!.ip, [], true);
    writer.write(padded, 0, padded.length, 2);
    writer.close();
    const reader = openCapture(path);
    expect(reader.next()).toBe(true);
    expect(reader.ipLength).toBe(0);
    expect(reader.capturedLength).toBe(ARP_FRAME.length);
    expect(reader.next()).toBe(true);
    expect(reader.capturedLength).toBe(64);
    expect(reader.ipLength).toBe(small!.ip.length);
    expect(reader.ipOffset - reader.frameOffset).toBe(14);
    expect(reader.next()).toBe(false);
    reader.close();
  });
});

describe("pcapng", () => {
  it("reads several sections, byte orders, interfaces with their own link type and resolution, and skips other blocks", () => {
    const path = tmp.path("complex.pcapng");
    const writer = PcapngWriter.open(path, { comment: "section one" });
    const eth = writer.addInterface(LINKTYPE_ETHERNET, { name: "veth0" });
    const raw = writer.addInterface(LINKTYPE_RAW, { tsresolDecimal: 9, name: "tun0" });
    writer.writeBlock(0x00000004, new Uint8Array(12)); // name resolution block: skipped
    packets.forEach((p, i) => {
      const frame = i % 2 === 0 ? ethernetFrame(p.ip) : p.ip;
      writer.write(i % 2 === 0 ? eth : raw, frame, 0, frame.length, p.timeMs, frame.length, i === 0 ? "first packet" : undefined);
      if (i === 3) writer.writeBlock(0x00000005, new Uint8Array(20)); // interface statistics: skipped
      if (i === 5) writer.writeBlock(0x40000bad, Uint8Array.of(1, 2, 3)); // a local-use block: skipped
    });
    writer.close();
    const read = readAll(openCapture(path));
    expect(read.map((r) => hex(r.ip))).toEqual(packets.map((p) => hex(p.ip)));
    read.forEach((r, i) => {
      expect(r.interfaceId).toBe(i % 2);
      expect(r.linkType).toBe(i % 2 === 0 ? LINKTYPE_ETHERNET : LINKTYPE_RAW);
      expect(r.timeMs).toBeCloseTo(packets[i].timeMs, 3);
    });
  });

  it("starts over at each section header, whatever its byte order", () => {
    const path = tmp.path("sections.pcapng");
    const writer = PcapngWriter.open(path, { bigEndian: true });
    writer.addInterface(LINKTYPE_LINUX_SLL);
    const first = sllFrame(packets[0].ip);
    writer.write(0, first, 0, first.length, packets[0].timeMs);
    writer.startSection();
    writer.addInterface(LINKTYPE_NULL);
    const second = loopbackFrame(packets[1].ip, 10, "little");
    writer.write(0, second, 0, second.length, packets[1].timeMs);
    writer.close();
    // The second section of this writer is big-endian too; append a little-endian section by hand.
    const little = tmp.path("little.pcapng");
    const w2 = PcapngWriter.open(little);
    w2.addInterface(LINKTYPE_RAW);
    w2.write(0, packets[2].ip, 0, packets[2].ip.length, packets[2].timeMs);
    w2.close();
    writeFileSync(path, Buffer.concat([readFileSync(path), readFileSync(little)]));

    const reader = openCapture(path) as PcapngReader;
    const read = readAll(reader);
    expect(read.map((r) => r.linkType)).toEqual([LINKTYPE_LINUX_SLL, LINKTYPE_NULL, LINKTYPE_RAW]);
    expect(read.map((r) => hex(r.ip))).toEqual([hex(packets[0].ip), hex(packets[1].ip), hex(packets[2].ip)]);
    expect(reader.sectionCount).toBe(3);
  });

  it("applies binary if_tsresol and if_tsoffset, reads obsolete and simple packet blocks", () => {
    const path = tmp.path("tsresol.pcapng");
    const writer = PcapngWriter.open(path);
    writer.addInterface(LINKTYPE_RAW, { snaplen: 64 });
    // Interface 1 by hand: resolution 2^-10 s, offset +1000 s.
    const idb = new DataView(new ArrayBuffer(8 + 8 + 12 + 4));
    idb.setUint16(0, LINKTYPE_RAW, true);
    idb.setUint32(4, 0, true);
    idb.setUint16(8, OPTION_IF_TSRESOL, true);
    idb.setUint16(10, 1, true);
    idb.setUint8(12, 0x80 | 10);
    idb.setUint16(16, OPTION_IF_TSOFFSET, true);
    idb.setUint16(18, 8, true);
    idb.setBigInt64(20, 1000n, true);
    writer.writeBlock(BLOCK_INTERFACE_DESCRIPTION, new Uint8Array(idb.buffer));
    // An obsolete packet block on interface 1 at 2048 units = 2 s (+ 1000 s offset).
    const ip = packets[0].ip;
    const opb = new DataView(new ArrayBuffer(20 + ((ip.length + 3) & ~3)));
    opb.setUint16(0, 1, true);
    opb.setUint32(4, 0, true);
    opb.setUint32(8, 2048, true);
    opb.setUint32(12, ip.length, true);
    opb.setUint32(16, ip.length, true);
    new Uint8Array(opb.buffer).set(ip, 20);
    writer.writeBlock(BLOCK_OBSOLETE_PACKET, new Uint8Array(opb.buffer));
    // A simple packet block (interface 0, snaplen 64): a long packet is cut to 64 bytes.
    const long = packets.find((p) => p.ip.length > 100)!.ip;
    writer.writeSimple(long, 0, 64, long.length);
    writer.close();

    const reader = openCapture(path);
    expect(reader.next()).toBe(true);
    expect(reader.interfaceId).toBe(1);
    expect(reader.timeMs).toBe(1_002_000);
    expect(hex(reader.data.subarray(reader.ipOffset, reader.ipOffset + reader.ipLength))).toBe(hex(ip));
    expect(reader.next()).toBe(true);
    expect(reader.interfaceId).toBe(0);
    expect(reader.capturedLength).toBe(64);
    expect(reader.originalLength).toBe(long.length);
    expect(reader.ipLength).toBe(64);
    expect(reader.timeMs).toBe(1_002_000); // no timestamp in a simple packet block: the previous one is kept
    expect(reader.next()).toBe(false);
    reader.close();
  });
});

describe("streaming", () => {
  it("reads records that straddle the chunk end, and records larger than the chunk, with a tiny buffer", () => {
    const pcap = writePcap("straddle.pcap", LINKTYPE_ETHERNET, (ip) => ethernetFrame(ip));
    const ng = tmp.path("straddle.pcapng");
    const writer = PcapngWriter.open(ng);
    writer.addInterface(LINKTYPE_RAW);
    writer.writeBlock(0x40000bad, new Uint8Array(5000)); // a skipped block larger than the chunk
    for (const p of packets) writer.write(0, p.ip, 0, p.ip.length, p.timeMs);
    writer.close();
    for (const chunkBytes of [64, 100, 333, 4096]) {
      expect(readAll(openCapture(pcap, { chunkBytes })).map((r) => hex(r.ip))).toEqual(packets.map((p) => hex(p.ip)));
      expect(readAll(openCapture(ng, { chunkBytes })).map((r) => hex(r.ip))).toEqual(packets.map((p) => hex(p.ip)));
    }
  });

  it("consumedBytes reaches the file size at the end; chunk sizes below the minimum are refused", () => {
    const path = writePcap("consumed.pcap", LINKTYPE_RAW, (ip) => ip);
    const reader = openCapture(path, { chunkBytes: 64 });
    expect(reader.consumedBytes).toBe(24);
    while (reader.next()) expect(reader.consumedBytes).toBe(reader.byteOffset + 16 + reader.capturedLength);
    expect(reader.consumedBytes).toBe(statSync(path).size);
    reader.close();
    reader.close(); // idempotent
    expect(() => openCapture(path, { chunkBytes: 8 })).toThrow(RangeError);
  });

  it("readCapture yields copies that stay valid after the reader moves on", () => {
    const all = [...readCapture(writePcap("copies.pcap", LINKTYPE_LINUX_SLL2, sll2Frame), { chunkBytes: 256 })];
    expect(all.map((p) => hex(p.ip))).toEqual(packets.map((p) => hex(p.ip)));
    expect(all[0].frame.length).toBe(packets[0].ip.length + 20);
  });
});
