// Converts pcap files (as tcpdump writes them) into one pcapng file: each input becomes
// an interface with its own link type, and packets are merged in time order, the way a
// multi-interface capture interleaves them. Used by make-fixtures.sh.
//
// Usage: tsx scripts/pcap-to-pcapng.ts [--big-endian] [--sections] [--nano-interface N] OUT.pcapng IN.pcap...
//   --sections          put each input in its own section instead of one section
//   --nano-interface N  give input N (0-based) nanosecond timestamps (if_tsresol = 9)
//   --comment TEXT      comment (opt_comment) on the section headers and on the first packet block

import { basename } from "node:path";
import { parseArgs } from "node:util";
import { openCapture } from "../src/io/capture.ts";
import type { CaptureReader } from "../src/io/capture-reader.ts";
import { PcapngWriter } from "../src/io/pcapng-writer.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    "big-endian": { type: "boolean", default: false },
    sections: { type: "boolean", default: false },
    "nano-interface": { type: "string" },
    comment: { type: "string" },
  },
});
const [outPath, ...inPaths] = positionals;
if (!outPath || inPaths.length === 0) {
  console.error("usage: pcap-to-pcapng.ts [--big-endian] [--sections] [--nano-interface N] [--comment TEXT] OUT.pcapng IN.pcap...");
  process.exit(2);
}
const nanoInput = values["nano-interface"] === undefined ? -1 : Number(values["nano-interface"]);
const writer = PcapngWriter.open(outPath, { bigEndian: values["big-endian"], comment: values.comment });

function describe(reader: CaptureReader, input: number): number {
  return writer.addInterface(reader.linkType, { name: basename(inPaths[input]), tsresolDecimal: input === nanoInput ? 9 : 6 });
}

let commentPending = values.comment;
function copy(reader: CaptureReader, interfaceId: number): void {
  writer.write(interfaceId, reader.data, reader.frameOffset, reader.capturedLength, reader.timeMs, reader.originalLength, commentPending);
  commentPending = undefined;
}

const readers = inPaths.map((path) => openCapture(path));
if (values.sections) {
  readers.forEach((reader, input) => {
    if (input > 0) writer.startSection(values.comment);
    if (!reader.next()) return;
    const id = describe(reader, input);
    do copy(reader, id);
    while (reader.next());
  });
} else {
  // Each reader holds its next packet; the earliest one is written first.
  const ids: number[] = [];
  const pending = readers.map((reader, input) => {
    const has = reader.next();
    ids.push(has ? describe(reader, input) : -1);
    return has;
  });
  for (;;) {
    let earliest = -1;
    for (let i = 0; i < readers.length; i++) {
      if (pending[i] && (earliest < 0 || readers[i].timeMs < readers[earliest].timeMs)) earliest = i;
    }
    if (earliest < 0) break;
    copy(readers[earliest], ids[earliest]);
    pending[earliest] = readers[earliest].next();
  }
}
for (const reader of readers) reader.close();
writer.close();
