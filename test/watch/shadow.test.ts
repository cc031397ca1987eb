// The shadow-mode judge without libpcap: Ethernet frames built here, judged for a peer
// whose policy allows tcp/8080 only. (watch.test.ts does the same on a real veth.)

import { describe, expect, it } from "vitest";
import { Engine } from "../../src/engine/engine.ts";
import { LINKTYPE_ETHERNET, LINKTYPE_RAW } from "../../src/io/link-layer.ts";
import { buildPacket, type PacketSpec } from "../../src/packet/builder.ts";
import { NEW_CONNECTION_DROP_REASONS } from "../../src/replay/new-connection-drops.ts";
import { formatDropReport, ShadowJudge, type DropReport } from "../../src/replay/shadow.ts";
import { compiledPolicy, compiledRule } from "../support/compiled-policy.ts";

const policy = compiledPolicy("server", ["100.64.0.20"], {
  inbound: [compiledRule("web/web", { protocol: "tcp", sources: ["100.64.0.10/32"], destinations: ["100.64.0.20/32"], ports: [8080] })],
});

function ethernet(ip: Uint8Array, etherType = 0x0800): Uint8Array {
  const frame = new Uint8Array(14 + ip.length);
  frame[12] = etherType >> 8;
  frame[13] = etherType & 0xff;
  frame.set(ip, 14);
  return frame;
}

const fromClient = (spec: Partial<PacketSpec>): Uint8Array =>
  buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp", ...spec } as PacketSpec);

function judge(linkType: number): { judge: ShadowJudge; reports: DropReport[] } {
  const reports: DropReport[] = [];
  const shadow = new ShadowJudge({ policy, engine: new Engine(policy) }, linkType, NEW_CONNECTION_DROP_REASONS, (r) => reports.push(r));
  return { judge: shadow, reports };
}

describe("ShadowJudge", () => {
  it("P3: reports each forbidden new connection once, not the allowed one, and counts everything", () => {
    const { judge: shadow, reports } = judge(LINKTYPE_ETHERNET);
    const t = Date.UTC(2026, 0, 1);
    const frames = [
      ethernet(fromClient({ srcPort: 40000, dstPort: 8080, tcp: { flags: "S" } })),
      ethernet(fromClient({ srcPort: 40001, dstPort: 22, tcp: { flags: "S" } })),
      ethernet(fromClient({ srcPort: 40001, dstPort: 22, tcp: { flags: "S" } })), // retransmission
      ethernet(fromClient({ protocol: "icmp", icmp: { id: 7, seq: 1 } })),
      ethernet(new Uint8Array(28), 0x0806), // ARP
      ethernet(buildPacket({ src: "100.64.0.10", dst: "100.64.0.30", protocol: "udp" })), // not for this peer
    ];
    frames.forEach((f, i) => shadow.frame(f, f.length, t + i));

    expect(reports.map(formatDropReport)).toEqual([
      "2026-01-01T00:00:00.001Z in tcp 100.64.0.10:40001 > 100.64.0.20:22 dropped: no-rule",
      "2026-01-01T00:00:00.003Z in icmp 100.64.0.10 > 100.64.0.20 type 8 dropped: no-rule",
    ]);
    const c = shadow.counters;
    expect({ read: c.read, judged: c.judged, accepted: c.accepted, dropped: c.dropped, notForPeer: c.notForPeer, nonIp: c.nonIp }).toEqual({
      read: 6,
      judged: 4,
      accepted: 1,
      dropped: 3,
      notForPeer: 2,
      nonIp: 1,
    });
  });

  it("reads raw IP links (TUN) too", () => {
    const { judge: shadow, reports } = judge(LINKTYPE_RAW);
    const packet = fromClient({ dstPort: 5432, tcp: { flags: "S" } });
    shadow.frame(packet, packet.length, Date.UTC(2026, 0, 1));
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ protocol: "tcp", dst: "100.64.0.20", dstPort: 5432, reason: "no-rule", rule: null, direction: "in" });
  });
});
