// A capture much larger than the chunk buffer is read completely in bounded memory:
// the reader keeps one buffer (never replaced) and neither heap nor RSS grows with the
// file's size.

import { statSync } from "node:fs";
import { afterAll, expect, it } from "vitest";
import { DEFAULT_CHUNK_BYTES, openCapture } from "../../src/io/capture.ts";
import { LINKTYPE_ETHERNET } from "../../src/io/link-layer.ts";
import { PcapWriter } from "../../src/io/pcap-writer.ts";
import { ethernetFrame, makeTempDir, realIpPackets } from "./helpers.ts";

const tmp = makeTempDir("capture-memory");
afterAll(() => tmp.remove());

it("reads a ~50 MB capture through one 1 MiB buffer without heap or RSS growing with the file", () => {
  const frames = realIpPackets().map((p) => ethernetFrame(p.ip));
  const path = tmp.path("large.pcap");
  const writer = PcapWriter.open(path, LINKTYPE_ETHERNET);
  let written = 0;
  while (written < 80_000) {
    const frame = frames[written % frames.length];
    writer.write(frame, 0, frame.length, 1_700_000_000_000 + written);
    written++;
  }
  writer.close();
  const fileBytes = statSync(path).size;
  expect(fileBytes).toBeGreaterThan(45 * DEFAULT_CHUNK_BYTES);

  const before = process.memoryUsage();
  const reader = openCapture(path);
  const buffer = reader.data;
  let count = 0;
  let lastTime = 0;
  let sameBuffer = true;
  while (reader.next()) {
    count++;
    lastTime = reader.timeMs;
    if (reader.data !== buffer) sameBuffer = false;
  }
  reader.close();
  const after = process.memoryUsage();

  expect(count).toBe(written);
  expect(lastTime).toBe(1_700_000_000_000 + written - 1);
  expect(sameBuffer).toBe(true);
  expect(buffer.length).toBe(DEFAULT_CHUNK_BYTES);
  // The whole file is ~50 MB; reading it may not keep more than a small fraction alive.
  expect(after.heapUsed - before.heapUsed).toBeLessThan(fileBytes / 8);
  expect(after.rss - before.rss).toBeLessThan(fileBytes / 4);
});
