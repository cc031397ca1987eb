// Writes pcapng files: sections, interfaces with their own link type and timestamp
// resolution, enhanced and simple packet blocks, and arbitrary other blocks (for tests
// of what a reader must skip). Used to turn tcpdump's pcap output into pcapng fixtures.

import { BufferedFileWriter } from "./buffered-file-writer.ts";
import { isSupportedLinkType } from "./link-layer.ts";
import {
  BLOCK_ENHANCED_PACKET,
  BLOCK_INTERFACE_DESCRIPTION,
  BLOCK_SECTION_HEADER,
  BLOCK_SIMPLE_PACKET,
  BYTE_ORDER_MAGIC,
  OPTION_COMMENT,
  OPTION_END,
  OPTION_IF_NAME,
  OPTION_IF_TSRESOL,
} from "./pcapng-reader.ts";

export interface PcapngWriterOptions {
  /** Big-endian blocks instead of little-endian. */
  bigEndian?: boolean;
  /** A comment (opt_comment) on the first section header. */
  comment?: string;
}

export interface PcapngInterfaceOptions {
  snaplen?: number;
  /** Timestamp resolution as a negative power of ten (if_tsresol): 6 = microseconds (the default), 9 = nanoseconds. */
  tsresolDecimal?: number;
  /** Interface name (if_name option). */
  name?: string;
}

interface Option {
  code: number;
  value: Uint8Array;
}

const TWO_TO_32 = 4294967296;
const encoder = new TextEncoder();

export class PcapngWriter {
  private readonly le: boolean;
  // Units per millisecond of each interface of the current section.
  private unitsPerMs: number[] = [];

  private constructor(
    private readonly out: BufferedFileWriter,
    options: PcapngWriterOptions,
  ) {
    this.le = !options.bigEndian;
    this.startSection(options.comment);
  }

  /** Creates (or truncates) `path` and writes the first section header block. */
  static open(path: string, options: PcapngWriterOptions = {}): PcapngWriter {
    return new PcapngWriter(new BufferedFileWriter(path), options);
  }

  /** Starts a new section; interfaces must be added again (their ids restart at 0). */
  startSection(comment?: string): void {
    const options: Option[] = comment === undefined ? [] : [{ code: OPTION_COMMENT, value: encoder.encode(comment) }];
    const body = 16 + optionsLength(options);
    const at = this.beginBlock(BLOCK_SECTION_HEADER, body);
    const view = this.out.view;
    view.setUint32(at, BYTE_ORDER_MAGIC, this.le);
    view.setUint16(at + 4, 1, this.le);
    view.setUint16(at + 6, 0, this.le);
    view.setBigInt64(at + 8, -1n, this.le); // section length not given
    this.out.pos = at + 16;
    this.putOptions(options);
    this.endBlock(body);
    this.unitsPerMs = [];
  }

  /** Adds an interface description block; returns the interface id to write packets with. */
  addInterface(linkType: number, options: PcapngInterfaceOptions = {}): number {
    if (!isSupportedLinkType(linkType)) throw new Error(`unsupported link type ${linkType}`);
    const tsresol = options.tsresolDecimal ?? 6;
    const list: Option[] = [];
    if (options.name !== undefined) list.push({ code: OPTION_IF_NAME, value: encoder.encode(options.name) });
    if (tsresol !== 6) list.push({ code: OPTION_IF_TSRESOL, value: Uint8Array.of(tsresol) });
    const body = 8 + optionsLength(list);
    const at = this.beginBlock(BLOCK_INTERFACE_DESCRIPTION, body);
    const view = this.out.view;
    view.setUint16(at, linkType, this.le);
    view.setUint16(at + 2, 0, this.le);
    view.setUint32(at + 4, options.snaplen ?? 262_144, this.le);
    this.out.pos = at + 8;
    this.putOptions(list);
    this.endBlock(body);
    this.unitsPerMs.push(10 ** (tsresol - 3));
    return this.unitsPerMs.length - 1;
  }

  /** Appends an enhanced packet block (with an opt_comment when `comment` is given). */
  write(interfaceId: number, data: Uint8Array, offset: number, length: number, timeMs: number, originalLength = length, comment?: string): void {
    const unitsPerMs = this.unitsPerMs[interfaceId];
    if (unitsPerMs === undefined) throw new Error(`unknown interface id ${interfaceId}`);
    const options: Option[] = comment === undefined ? [] : [{ code: OPTION_COMMENT, value: encoder.encode(comment) }];
    const body = 20 + padded(length) + optionsLength(options);
    const at = this.beginBlock(BLOCK_ENHANCED_PACKET, body);
    const units = Math.round(timeMs * unitsPerMs);
    const high = Math.floor(units / TWO_TO_32);
    const view = this.out.view;
    view.setUint32(at, interfaceId, this.le);
    view.setUint32(at + 4, high, this.le);
    view.setUint32(at + 8, units - high * TWO_TO_32, this.le);
    view.setUint32(at + 12, length, this.le);
    view.setUint32(at + 16, originalLength, this.le);
    this.out.pos = at + 20;
    this.out.put(data, offset, length);
    this.out.pad4(length);
    this.putOptions(options);
    this.endBlock(body);
  }

  /** Appends a simple packet block (interface 0, no timestamp); `originalLength` beyond `length` means a cut frame. */
  writeSimple(data: Uint8Array, offset: number, length: number, originalLength = length): void {
    if (this.unitsPerMs.length === 0) throw new Error("a simple packet block needs interface 0");
    const body = 4 + padded(length);
    const at = this.beginBlock(BLOCK_SIMPLE_PACKET, body);
    this.out.view.setUint32(at, originalLength, this.le);
    this.out.pos = at + 4;
    this.out.put(data, offset, length);
    this.out.pad4(length);
    this.endBlock(body);
  }

  /** Appends a block of any type with the given body (padded to 4 bytes), e.g. one a reader must skip. */
  writeBlock(type: number, body: Uint8Array): void {
    const length = padded(body.length);
    const at = this.beginBlock(type, length);
    this.out.pos = at;
    this.out.put(body, 0, body.length);
    this.out.pad4(body.length);
    this.endBlock(length);
  }

  /** Flushes and closes the file; idempotent. Throws OutputError (path and reason) when it cannot be written. */
  close(): void {
    this.out.close();
  }

  /** Closes without writing what is still buffered; never throws (after another failure). */
  abandon(): void {
    this.out.abandon();
  }

  /** Writes type and total length; returns where the body goes. */
  private beginBlock(type: number, bodyLength: number): number {
    this.out.reserve(bodyLength + 12);
    const at = this.out.pos;
    this.out.view.setUint32(at, type, this.le);
    this.out.view.setUint32(at + 4, bodyLength + 12, this.le);
    return at + 8;
  }

  private endBlock(bodyLength: number): void {
    this.out.view.setUint32(this.out.pos, bodyLength + 12, this.le);
    this.out.pos += 4;
  }

  private putOptions(options: Option[]): void {
    if (options.length === 0) return;
    const view = this.out.view;
    for (const option of options) {
      view.setUint16(this.out.pos, option.code, this.le);
      view.setUint16(this.out.pos + 2, option.value.length, this.le);
      this.out.pos += 4;
      this.out.put(option.value, 0, option.value.length);
      this.out.pad4(option.value.length);
    }
    view.setUint32(this.out.pos, OPTION_END, this.le);
    this.out.pos += 4;
  }
}

function padded(length: number): number {
  return (length + 3) & ~3;
}

/** Bytes the options take, with the end-of-options marker; 0 for none. */
function optionsLength(options: Option[]): number {
  if (options.length === 0) return 0;
  let total = 4;
  for (const option of options) total += 4 + padded(option.value.length);
  return total;
}
