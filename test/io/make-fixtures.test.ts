// Runs scripts/make-fixtures.sh for real (network namespaces, veth, TUN, a bridge,
// ping, curl, UDP and TCP exchanges, tcpdump) into a temporary directory and decodes
// every capture it makes, checking the traffic it must contain. Skipped, with the
// reason printed, where namespaces, TUN or the tools are not available.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { openCapture } from "../../src/io/capture.ts";
import { summarizeCapture } from "../../src/io/capture-summary.ts";
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_RAW } from "../../src/io/link-layer.ts";
import type { PcapReader } from "../../src/io/pcap-reader.ts";
import { SCRIPTS, makeTempDir } from "./helpers.ts";

function whyUnavailable(): string | null {
  if (process.getuid?.() !== 0) return "not running as root";
  if (!existsSync("/dev/net/tun")) return "/dev/net/tun is missing";
  for (const tool of ["ip", "tcpdump", "ping", "curl", "python3", "nc", "ss"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  const probe = `mfprobe${process.pid}`;
  if (spawnSync("ip", ["netns", "add", probe]).status !== 0) return "the kernel refuses `ip netns add`";
  spawnSync("ip", ["netns", "del", probe]);
  return null;
}

const reason = whyUnavailable();
if (reason) console.warn(`make-fixtures.test skipped: ${reason}`);
const tmp = makeTempDir("make-fixtures");
afterAll(() => tmp.remove());

it.skipIf(reason !== null)(
  "make-fixtures.sh captures real traffic in every link type, and the captures decode to what was sent",
  () => {
    const mesh = tmp.path("mesh.pcap");
    const run = spawnSync("bash", [join(SCRIPTS, "make-fixtures.sh"), "--out", tmp.dir, "--mesh", mesh], { encoding: "utf8" });
    expect(run.status, `make-fixtures.sh failed: ${run.stderr}`).toBe(0);

    // Over veth, then TUN: 3 IPv4 + 2 IPv6 pings, one HTTP download (one handshake), 3 UDP datagrams each way.
    const perLink = { echoRequests: 5, echoReplies: 5, tcpSyn: 1, tcpSynAck: 1, udp: 6, malformed: 0 };
    const ethernet = summarizeCapture(join(tmp.dir, "ethernet.pcap"));
    expect(ethernet).toMatchObject({ ...perLink, linkTypes: { [LINKTYPE_ETHERNET]: ethernet.packets } });
    expect(ethernet.nonIp).toBeGreaterThanOrEqual(2); // ARP request and reply
    expect(ethernet.ipv6).toBeGreaterThanOrEqual(4);
    expect(ethernet.tcp).toBeGreaterThan(64 * 1024 / 1500); // the 64 KiB download, in wire-sized segments

    const raw = summarizeCapture(join(tmp.dir, "raw-ip.pcap"));
    expect(raw).toMatchObject({ ...perLink, nonIp: 0, linkTypes: { [LINKTYPE_RAW]: raw.packets } });
    expect(raw.ipv6).toBeGreaterThanOrEqual(4);

    // `-i any` in the server's namespace sees both links.
    const both = { echoRequests: 10, echoReplies: 10, tcpSyn: 2, tcpSynAck: 2, udp: 12, malformed: 0 };
    const sll = summarizeCapture(join(tmp.dir, "linux-sll.pcap"));
    expect(sll).toMatchObject({ ...both, linkTypes: { [LINKTYPE_LINUX_SLL]: sll.packets } });
    const sll2 = summarizeCapture(join(tmp.dir, "linux-sll2-nano.pcap"));
    expect(sll2).toMatchObject({ ...both, linkTypes: { [LINKTYPE_LINUX_SLL2]: sll2.packets } });
    const nano = openCapture(join(tmp.dir, "linux-sll2-nano.pcap")) as PcapReader;
    expect(nano.nanosecond).toBe(true);
    nano.close();

    const multi = summarizeCapture(join(tmp.dir, "multi-interface.pcapng"));
    expect(multi.format).toBe("pcapng");
    expect(multi.interfaces).toEqual({ 0: ethernet.packets, 1: raw.packets, 2: sll2.packets });
    expect(multi.echoRequests).toBe(ethernet.echoRequests + raw.echoRequests + sll2.echoRequests);
    const sections = summarizeCapture(join(tmp.dir, "sections-big-endian.pcapng"));
    expect(sections.packets).toBe(raw.packets + sll.packets);

    // The mesh: 2 connections to db-1:5432, 1 HTTP download, 2 refused SSH attempts (5 SYN,
    // 3 SYN-ACK, 2 RST), 3 + 2 pings, 2 DNS-port datagrams each way, ARP, nothing else.
    const m = summarizeCapture(mesh);
    expect(m).toMatchObject({ tcpSyn: 5, tcpSynAck: 3, tcpRst: 2, echoRequests: 5, echoReplies: 5, udp: 4, ipv6: 0, malformed: 0 });
    expect(m.icmp).toBe(10);
    expect(m.nonIp).toBeGreaterThanOrEqual(4);
    expect(m.tcp).toBeGreaterThan(200); // 300 KB over HTTP, in wire-sized segments
  },
  180_000,
);
