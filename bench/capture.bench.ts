// Capture read rate: how fast openCapture streams a large generated capture (real
// packets from fixtures/raw-ip.pcap, framed as Ethernet in pcap and as raw IP in
// pcapng), in packets/s and MB/s, alone and with decodePacket, so replay throughput
// can be compared against the cost of reading.

import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openCapture, readCapture } from "../src/io/capture.ts";
import { LINKTYPE_ETHERNET, LINKTYPE_RAW } from "../src/io/link-layer.ts";
import { PcapWriter } from "../src/io/pcap-writer.ts";
import { PcapngWriter } from "../src/io/pcapng-writer.ts";
import { decodePacket } from "../src/packet/decode.ts";
import { PacketRecord } from "../src/packet/record.ts";
import { measure } from "./harness.ts";
import type { BenchContext } from "./harness.ts";

const ETHERNET_HEADER = Uint8Array.of(2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00);

export default async function (ctx: BenchContext): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "meshfilter-bench-capture-"));
  try {
    const packets = [...readCapture(new URL("../fixtures/raw-ip.pcap", import.meta.url).pathname)].map((p) => p.ip);
    const count = ctx.quick ? 20_000 : 200_000;
    const pcapPath = join(dir, "large.pcap");
    const ngPath = join(dir, "large.pcapng");
    const pcap = PcapWriter.open(pcapPath, LINKTYPE_ETHERNET);
    const ng = PcapngWriter.open(ngPath);
    ng.addInterface(LINKTYPE_RAW);
    const frame = new Uint8Array(14 + 65536);
    frame.set(ETHERNET_HEADER);
    for (let i = 0; i < count; i++) {
      const ip = packets[i % packets.length];
      frame[12] = ip[0] >> 4 === 6 ? 0x86 : 0x08;
      frame[13] = ip[0] >> 4 === 6 ? 0xdd : 0x00;
      frame.set(ip, 14);
      pcap.write(frame, 0, 14 + ip.length, 1_700_000_000_000 + i);
      ng.write(0, ip, 0, ip.length, 1_700_000_000_000 + i);
    }
    pcap.close();
    ng.close();

    const seconds = ctx.quick ? 0.3 : 2;
    const rec = new PacketRecord();
    for (const [label, path] of [["pcap-ethernet", pcapPath], ["pcapng-raw", ngPath]] as const) {
      const fileBytes = statSync(path).size;
      let checksum = 0;
      const readOnly = measure(`capture/read-${label}`, count, () => {
        const reader = openCapture(path);
        while (reader.next()) checksum += reader.ipLength;
        reader.close();
      }, seconds);
      const withDecode = measure(`capture/read+decode-${label}`, count, () => {
        const reader = openCapture(path);
        while (reader.next()) if (decodePacket(reader.data, reader.ipOffset, reader.ipLength, rec)) checksum += rec.srcPort;
        reader.close();
      }, seconds);
      const mbPerSec = (fileBytes / count) * readOnly.opsPerSec / 1e6;
      ctx.record({ ...readOnly, extra: { fileMB: +(fileBytes / 1e6).toFixed(1), packets: count, MBperSec: Math.round(mbPerSec), checksum: checksum % 1000 } });
      ctx.record({ ...withDecode, extra: { MBperSec: Math.round((fileBytes / count) * withDecode.opsPerSec / 1e6) } });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
