// pcapng: a sequence of blocks (type, total length, body, total length again). A
// section header block fixes the byte order for its section and resets the interface
// list; interface description blocks give each interface its link type, snaplen and
// timestamp resolution (if_tsresol, default microseconds) and offset (if_tsoffset);
// enhanced, simple and obsolete packet blocks carry the frames. Every other block, and
// every option we do not need, is skipped.

import { CaptureReader, MAX_RECORD_BYTES, MAX_TIME_MS } from "./capture-reader.ts";
import type { ChunkedFile } from "./chunked-file.ts";
import { isSupportedLinkType } from "./link-layer.ts";

export const BLOCK_SECTION_HEADER = 0x0a0d0d0a;
export const BLOCK_INTERFACE_DESCRIPTION = 0x00000001;
export const BLOCK_OBSOLETE_PACKET = 0x00000002;
export const BLOCK_SIMPLE_PACKET = 0x00000003;
export const BLOCK_ENHANCED_PACKET = 0x00000006;
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

export const OPTION_END = 0;
export const OPTION_COMMENT = 1;
export const OPTION_IF_NAME = 2;
export const OPTION_IF_TSRESOL = 9;
export const OPTION_IF_TSOFFSET = 14;

const BLOCK_HEADER = 8; // type + total length
const BLOCK_OVERHEAD = 12; // type + total length + trailing total length
const PACKET_BLOCK_HEADER = 28; // EPB/OPB: block header + interface, 2 timestamp words, 2 lengths
const SIMPLE_BLOCK_HEADER = 12; // block header + original length
// The largest block we hold in memory: a maximal packet with its headers and some options.
const MAX_BUFFERED_BLOCK = MAX_RECORD_BYTES + 4096;
const TWO_TO_32 = 4294967296;

export class PcapngReader extends CaptureReader {
  readonly format = "pcapng" as const;
  /** Sections seen so far (a new section header block starts a new one). */
  sectionCount = 0;
  private littleEndian = true;
  // Per interface of the current section, indexed by interface id (filled on the cold path).
  private readonly interfaceLinkTypes: number[] = [];
  private readonly interfaceSnaplens: number[] = [];
  private readonly interfaceMsPerUnit: number[] = [];
  private readonly interfaceOffsetMs: number[] = [];

  /** Starts at the first block; the magic (first 4 bytes) is already known to be a section header. */
  constructor(path: string, file: ChunkedFile) {
    super(path, file);
  }

  /** Number of interfaces described in the current section. */
  get interfaceCount(): number {
    return this.interfaceLinkTypes.length;
  }

  next(): boolean {
    const file = this.file;
    for (;;) {
      const blockOffset = file.fileOffset;
      if (!file.ensure(BLOCK_HEADER)) {
        if (file.buffered === 0) return false;
        this.fail(blockOffset, `truncated block header: ${BLOCK_HEADER} bytes expected, ${file.buffered} left in the file`);
      }
      const type = file.view.getUint32(file.pos, this.littleEndian);
      if (type === BLOCK_SECTION_HEADER) this.readByteOrder(blockOffset);
      const total = file.view.getUint32(file.pos + 4, this.littleEndian);
      if (total < BLOCK_OVERHEAD || total % 4 !== 0) {
        this.fail(blockOffset + 4, `bad block total length ${total}: a multiple of 4 of at least ${BLOCK_OVERHEAD} expected`);
      }
      if (!isHeldBlock(type)) {
        this.skipBlock(blockOffset, total);
        continue;
      }
      if (total < minimumBlockLength(type)) {
        this.fail(blockOffset + 4, `block total length ${total} is too short for a block of type 0x${type.toString(16)}: at least ${minimumBlockLength(type)} expected`);
      }
      if (total > MAX_BUFFERED_BLOCK) {
        this.fail(blockOffset + 4, `block total length ${total} exceeds the bound of ${MAX_BUFFERED_BLOCK} bytes for a packet or description block`);
      }
      if (!file.ensure(total)) {
        this.fail(blockOffset, `truncated block: ${total} bytes expected, ${file.buffered} left in the file`);
      }
      const at = file.pos;
      const trailer = file.view.getUint32(at + total - 4, this.littleEndian);
      if (trailer !== total) {
        this.fail(blockOffset + total - 4, `block total length mismatch: the header says ${total}, the trailer says ${trailer}`);
      }
      let isPacket = true;
      if (type === BLOCK_ENHANCED_PACKET) this.readPacketBlock(blockOffset, at, total, file.view.getUint32(at + 8, this.littleEndian));
      else if (type === BLOCK_OBSOLETE_PACKET) this.readPacketBlock(blockOffset, at, total, file.view.getUint16(at + 8, this.littleEndian));
      else if (type === BLOCK_SIMPLE_PACKET) this.readSimplePacketBlock(blockOffset, at, total);
      else {
        isPacket = false;
        if (type === BLOCK_SECTION_HEADER) this.startSection(blockOffset, at);
        else this.addInterface(blockOffset, at, total);
      }
      file.pos = at + total;
      if (isPacket) return true;
    }
  }

  /** The section header's byte-order magic decides how to read the rest of the section. */
  private readByteOrder(blockOffset: number): void {
    const file = this.file;
    if (!file.ensure(BLOCK_HEADER + 4)) {
      this.fail(blockOffset, `truncated section header block: ${BLOCK_HEADER + 4} bytes expected, ${file.buffered} left in the file`);
    }
    const magicAt = file.pos + BLOCK_HEADER;
    if (file.view.getUint32(magicAt, true) === BYTE_ORDER_MAGIC) this.littleEndian = true;
    else if (file.view.getUint32(magicAt, false) === BYTE_ORDER_MAGIC) this.littleEndian = false;
    else {
      const found = file.view.getUint32(magicAt, false).toString(16).padStart(8, "0");
      this.fail(blockOffset + BLOCK_HEADER, `bad byte-order magic 0x${found} in section header block: 0x1a2b3c4d expected`);
    }
  }

  private startSection(blockOffset: number, at: number): void {
    const major = this.file.view.getUint16(at + 12, this.littleEndian);
    if (major !== 1) this.fail(blockOffset + 12, `unsupported pcapng major version ${major}: 1 expected`);
    this.sectionCount++;
    this.interfaceLinkTypes.length = 0;
    this.interfaceSnaplens.length = 0;
    this.interfaceMsPerUnit.length = 0;
    this.interfaceOffsetMs.length = 0;
  }

  private addInterface(blockOffset: number, at: number, total: number): void {
    const view = this.file.view;
    const le = this.littleEndian;
    const linkType = view.getUint16(at + 8, le);
    if (!isSupportedLinkType(linkType)) {
      this.fail(blockOffset + 8, `unsupported link type ${linkType} in interface description block (interface ${this.interfaceCount})`);
    }
    const snaplen = view.getUint32(at + 12, le);
    let msPerUnit = 1e-3; // default resolution: microseconds
    let offsetMs = 0;
    const end = at + total - 4;
    let option = at + 16;
    while (option + 4 <= end) {
      const code = view.getUint16(option, le);
      const length = view.getUint16(option + 2, le);
      const value = option + 4;
      if (code === OPTION_END) break;
      if (value + length > end) this.fail(blockOffset + (option - at), `option ${code} of length ${length} runs past the end of its block`);
      if (code === OPTION_IF_TSRESOL && length >= 1) {
        const resolution = this.file.buf[value];
        // High bit set: a negative power of 2; else a negative power of 10 (seconds per unit).
        const secondsPerUnit = resolution & 0x80 ? 2 ** -(resolution & 0x7f) : 10 ** -resolution;
        msPerUnit = secondsPerUnit * 1000;
      } else if (code === OPTION_IF_TSOFFSET && length >= 8) {
        offsetMs = Number(view.getBigInt64(value, le)) * 1000;
      }
      option = value + ((length + 3) & ~3);
    }
    this.interfaceLinkTypes.push(linkType);
    this.interfaceSnaplens.push(snaplen === 0 || snaplen > MAX_RECORD_BYTES ? MAX_RECORD_BYTES : snaplen);
    this.interfaceMsPerUnit.push(msPerUnit);
    this.interfaceOffsetMs.push(offsetMs);
  }

  /** Enhanced and obsolete packet blocks: same layout after the interface id field. */
  private readPacketBlock(blockOffset: number, at: number, total: number, interfaceId: number): void {
    const view = this.file.view;
    const le = this.littleEndian;
    this.checkInterface(blockOffset, interfaceId);
    const captured = view.getUint32(at + 20, le);
    if (captured > total - PACKET_BLOCK_HEADER - 4) {
      this.fail(blockOffset + 20, `captured length ${captured} does not fit in a block of ${total} bytes`);
    }
    if (captured > this.interfaceSnaplens[interfaceId]) {
      this.fail(blockOffset + 20, `captured length ${captured} exceeds the snaplen ${this.interfaceSnaplens[interfaceId]} of interface ${interfaceId}`);
    }
    const units = view.getUint32(at + 12, le) * TWO_TO_32 + view.getUint32(at + 16, le);
    const timeMs = units * this.interfaceMsPerUnit[interfaceId] + this.interfaceOffsetMs[interfaceId];
    // Written so that NaN fails too; one comparison pair per packet, no allocation.
    if (!(timeMs >= -MAX_TIME_MS && timeMs <= MAX_TIME_MS)) this.failTime(blockOffset + 12, interfaceId, units, timeMs);
    this.byteOffset = blockOffset;
    this.interfaceId = interfaceId;
    this.linkType = this.interfaceLinkTypes[interfaceId];
    this.timeMs = timeMs;
    this.originalLength = view.getUint32(at + 24, le);
    this.setFrame(at + PACKET_BLOCK_HEADER, captured);
  }

  /** Simple packet blocks belong to interface 0 and carry no timestamp: the previous packet's time is kept. */
  private readSimplePacketBlock(blockOffset: number, at: number, total: number): void {
    this.checkInterface(blockOffset, 0);
    const original = this.file.view.getUint32(at + 8, this.littleEndian);
    this.byteOffset = blockOffset;
    this.interfaceId = 0;
    this.linkType = this.interfaceLinkTypes[0];
    this.originalLength = original;
    this.setFrame(at + SIMPLE_BLOCK_HEADER, Math.min(original, this.interfaceSnaplens[0], total - SIMPLE_BLOCK_HEADER - 4));
  }

  /** A timestamp no Date can hold (a huge if_tsoffset, or 2^64 units of a coarse if_tsresol). */
  private failTime(fieldOffset: number, interfaceId: number, units: number, timeMs: number): never {
    const secondsPerUnit = this.interfaceMsPerUnit[interfaceId] / 1000;
    const offsetSeconds = this.interfaceOffsetMs[interfaceId] / 1000;
    this.fail(
      fieldOffset,
      `timestamp out of range: ${units} units of ${secondsPerUnit} s plus if_tsoffset ${offsetSeconds} s (interface ${interfaceId}) is ${timeMs} ms from 1970, beyond the ±${MAX_TIME_MS} ms a date can hold`,
    );
  }

  private checkInterface(blockOffset: number, interfaceId: number): void {
    if (interfaceId >= this.interfaceLinkTypes.length) {
      this.fail(blockOffset + 8, `unknown interface id ${interfaceId}: the section describes ${this.interfaceLinkTypes.length} interface(s)`);
    }
  }

  /** Blocks we do not need are passed over without holding them, however large. */
  private skipBlock(blockOffset: number, total: number): void {
    const file = this.file;
    if (!file.skip(total - 4) || !file.ensure(4)) {
      this.fail(blockOffset, `truncated block: ${total} bytes expected, the file ends first`);
    }
    const trailer = file.view.getUint32(file.pos, this.littleEndian);
    if (trailer !== total) {
      this.fail(blockOffset + total - 4, `block total length mismatch: the header says ${total}, the trailer says ${trailer}`);
    }
    file.pos += 4;
  }
}

/** The fixed part of each block we read, so reading it never runs past the block. */
function minimumBlockLength(type: number): number {
  switch (type) {
    case BLOCK_SECTION_HEADER:
      return 28; // + byte-order magic, versions, section length
    case BLOCK_INTERFACE_DESCRIPTION:
      return 20; // + link type, reserved, snaplen
    case BLOCK_SIMPLE_PACKET:
      return 16; // + original length
    default:
      return PACKET_BLOCK_HEADER + 4;
  }
}

function isHeldBlock(type: number): boolean {
  return (
    type === BLOCK_ENHANCED_PACKET ||
    type === BLOCK_SIMPLE_PACKET ||
    type === BLOCK_OBSOLETE_PACKET ||
    type === BLOCK_SECTION_HEADER ||
    type === BLOCK_INTERFACE_DESCRIPTION
  );
}
