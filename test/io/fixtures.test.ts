// The committed captures, made by scripts/make-fixtures.sh from real traffic and
// documented in fixtures/README.md and examples/README.md, decode to exactly the
// documented counts; tcpdump agrees on the packet counts and reads the pcapng our
// writer makes from its own pcap the same way.

import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openCapture } from "../../src/io/capture.ts";
import { summarizeCapture } from "../../src/io/capture-summary.ts";
import type { CaptureSummary } from "../../src/io/capture-summary.ts";
import { PcapngWriter } from "../../src/io/pcapng-writer.ts";
import { EXAMPLES, FIXTURES, makeTempDir } from "./helpers.ts";

type Counts = Partial<Omit<CaptureSummary, "firstTimeMs" | "lastTimeMs" | "ipBytes">>;

// Keep in step with fixtures/README.md and examples/README.md.
const EXPECTED: Record<string, Counts> = {
  "fixtures/ethernet.pcap": {
    format: "pcap", packets: 99, nonIp: 2, ipv4: 87, ipv6: 10, tcp: 75, udp: 6, icmp: 6, icmpv6: 10,
    echoRequests: 5, echoReplies: 5, tcpSyn: 1, tcpSynAck: 1, tcpRst: 0, malformed: 0, linkTypes: { 1: 99 },
  },
  "fixtures/raw-ip.pcap": {
    format: "pcap", packets: 104, nonIp: 0, ipv4: 98, ipv6: 6, tcp: 86, udp: 6, icmp: 6, icmpv6: 6,
    echoRequests: 5, echoReplies: 5, tcpSyn: 1, tcpSynAck: 1, tcpRst: 0, malformed: 0, linkTypes: { 101: 104 },
  },
  "fixtures/linux-sll.pcap": {
    format: "pcap", packets: 203, nonIp: 2, ipv4: 185, ipv6: 16, tcp: 161, udp: 12, icmp: 12, icmpv6: 16,
    echoRequests: 10, echoReplies: 10, tcpSyn: 2, tcpSynAck: 2, tcpRst: 0, malformed: 0, linkTypes: { 113: 203 },
  },
  "fixtures/linux-sll2-nano.pcap": {
    format: "pcap", packets: 200, nonIp: 2, ipv4: 185, ipv6: 13, tcp: 161, udp: 12, icmp: 12, icmpv6: 13,
    echoRequests: 10, echoReplies: 10, tcpSyn: 2, tcpSynAck: 2, tcpRst: 0, malformed: 0, linkTypes: { 276: 200 },
  },
  "fixtures/multi-interface.pcapng": {
    format: "pcapng", packets: 403, nonIp: 4, ipv4: 370, ipv6: 29, tcp: 322, udp: 24, icmp: 24, icmpv6: 29,
    echoRequests: 20, echoReplies: 20, tcpSyn: 4, tcpSynAck: 4, tcpRst: 0, malformed: 0,
    linkTypes: { 1: 99, 101: 104, 276: 200 }, interfaces: { 0: 99, 1: 104, 2: 200 },
  },
  "fixtures/sections-big-endian.pcapng": {
    format: "pcapng", packets: 307, nonIp: 2, ipv4: 283, ipv6: 22, tcp: 247, udp: 18, icmp: 18, icmpv6: 22,
    echoRequests: 15, echoReplies: 15, tcpSyn: 3, tcpSynAck: 3, tcpRst: 0, malformed: 0,
    linkTypes: { 101: 104, 113: 203 }, interfaces: { 0: 307 },
  },
  "examples/mesh.pcap": {
    format: "pcap", packets: 345, nonIp: 6, ipv4: 339, ipv6: 0, tcp: 325, udp: 4, icmp: 10, icmpv6: 0,
    echoRequests: 5, echoReplies: 5, tcpSyn: 5, tcpSynAck: 3, tcpRst: 2, malformed: 0, linkTypes: { 1: 345 },
  },
};

const root = join(FIXTURES, "..");
const hasTcpdump = spawnSync("tcpdump", ["--version"]).status === 0;
if (!hasTcpdump) console.warn("fixtures.test: tcpdump is not installed; the cross-checks against tcpdump are skipped");

describe("committed captures", () => {
  it.each(Object.entries(EXPECTED))("%s decodes to the documented counts", (file, expected) => {
    const summary = summarizeCapture(join(root, file));
    const picked = Object.fromEntries(Object.keys(expected).map((key) => [key, summary[key as keyof CaptureSummary]]));
    expect(picked).toEqual(expected);
  });

  it("the mesh capture holds only the documented peers", () => {
    const reader = openCapture(join(EXAMPLES, "mesh.pcap"));
    const peers = new Set<string>();
    while (reader.next()) {
      if (reader.ipLength === 0) continue;
      const d = reader.data;
      const at = reader.ipOffset;
      peers.add(`${d[at + 12]}.${d[at + 13]}.${d[at + 14]}.${d[at + 15]}`);
      peers.add(`${d[at + 16]}.${d[at + 17]}.${d[at + 18]}.${d[at + 19]}`);
    }
    reader.close();
    expect([...peers].sort()).toEqual(["100.64.0.10", "100.64.0.20", "100.64.0.30"]);
  });

  it.skipIf(!hasTcpdump).each(Object.keys(EXPECTED).filter((f) => f.endsWith(".pcap")))(
    "tcpdump counts as many packets in %s",
    (file) => {
      const out = execFileSync("tcpdump", ["-r", join(root, file), "-n", "-q"], { stdio: ["ignore", "pipe", "ignore"] });
      expect(out.toString().trim().split("\n").length).toBe(EXPECTED[file].packets);
    },
  );
});

describe("pcapng writer against tcpdump", () => {
  const tmp = makeTempDir("fixtures");
  afterAll(() => tmp.remove());

  it.skipIf(!hasTcpdump)("tcpdump prints a pcapng made by PcapngWriter exactly like the pcap it came from (both byte orders)", () => {
    for (const [name, bigEndian] of [["ethernet.pcap", false], ["linux-sll.pcap", true]] as const) {
      const source = join(FIXTURES, name);
      const converted = tmp.path(`${name}.pcapng`);
      const reader = openCapture(source);
      const writer = PcapngWriter.open(converted, { bigEndian, comment: "converted" });
      // Microsecond resolution like the source: timeMs is a float whose error at today's
      // epoch (~0.24 us) would show as an occasional 1 us difference in tcpdump's output.
      const id = writer.addInterface(reader.linkType, { name: "veth" });
      while (reader.next()) {
        writer.write(id, reader.data, reader.frameOffset, reader.capturedLength, reader.timeMs, reader.originalLength);
      }
      reader.close();
      writer.close();
      const print = (path: string) =>
        execFileSync("tcpdump", ["-r", path, "-n", "-tt", "-v"], { stdio: ["ignore", "pipe", "ignore"] }).toString();
      expect(print(converted)).toBe(print(source));
    }
  });
});
