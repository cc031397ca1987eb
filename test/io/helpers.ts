// Shared helpers of the capture tests: temporary directories, the real raw-IP packets
// of a committed fixture, and frame builders that wrap an IP packet in each link layer.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readCapture } from "../../src/io/capture.ts";
import { concatBytes } from "../support/batch.ts";

export const FIXTURES = fileURLToPath(new URL("../../fixtures/", import.meta.url));
export const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));
export const SCRIPTS = fileURLToPath(new URL("../../scripts/", import.meta.url));

export function makeTempDir(label: string): { dir: string; path(name: string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `meshfilter-${label}-${process.pid}-`));
  return { dir, path: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RealPacket {
  ip: Uint8Array;
  timeMs: number;
}

/** The IP packets (IPv4 and IPv6) of fixtures/raw-ip.pcap, captured on a TUN device. */
export function realIpPackets(): RealPacket[] {
  return [...readCapture(join(FIXTURES, "raw-ip.pcap"))].map((p) => ({ ip: p.ip, timeMs: p.timeMs }));
}

function etherTypeOf(ip: Uint8Array): number {
  return ip[0] >> 4 === 6 ? 0x86dd : 0x0800;
}

const MACS = Uint8Array.of(0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01);

/** Ethernet frame, with VLAN tags (outermost first, each [tpid, vlan id]) and padding to 60 bytes plus a fake FCS. */
export function ethernetFrame(ip: Uint8Array, tags: [number, number][] = [], withFcs = false): Uint8Array {
  const tagBytes = tags.map(([tpid, id]) => Uint8Array.of(tpid >> 8, tpid & 0xff, id >> 8, id & 0xff));
  const type = etherTypeOf(ip);
  const frame = concatBytes(MACS, ...tagBytes, Uint8Array.of(type >> 8, type & 0xff), ip);
  const padded = frame.length < 60 ? concatBytes(frame, new Uint8Array(60 - frame.length)) : frame;
  return withFcs ? concatBytes(padded, Uint8Array.of(0xde, 0xad, 0xbe, 0xef)) : padded;
}

/** Linux cooked v1: packet type, ARPHRD, address length, 8 address bytes, protocol. */
export function sllFrame(ip: Uint8Array): Uint8Array {
  const type = etherTypeOf(ip);
  const header = Uint8Array.of(0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, type >> 8, type & 0xff);
  return concatBytes(header, ip);
}

/** Linux cooked v2: protocol, reserved, interface index, ARPHRD, packet type, address length, 8 address bytes. */
export function sll2Frame(ip: Uint8Array): Uint8Array {
  const type = etherTypeOf(ip);
  const header = Uint8Array.of(type >> 8, type & 0xff, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0);
  return concatBytes(header, ip);
}

/** BSD loopback: the address family as a 32-bit word, little-endian host (NULL) or network order (LOOP). */
export function loopbackFrame(ip: Uint8Array, family6: number, order: "little" | "big"): Uint8Array {
  const family = ip[0] >> 4 === 6 ? family6 : 2;
  const word = order === "little" ? Uint8Array.of(family, 0, 0, 0) : Uint8Array.of(0, 0, 0, family);
  return concatBytes(word, ip);
}

export const ARP_FRAME = Uint8Array.from([
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x06,
  0, 1, 0x08, 0, 6, 4, 0, 1, 0x02, 0, 0, 0, 0, 0x01, 198, 18, 0, 1, 0, 0, 0, 0, 0, 0, 198, 18, 0, 2,
  ...new Array(18).fill(0),
]);

/** Bytes as hex, so comparisons of many packets stay fast and their diffs readable. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}
