// `meshfilter trace`'s packet from flags, hex or a capture frame, and its one-line usage errors.

import { describe, expect, it } from "vitest";
import { packetFromOptions } from "../../src/cli/trace.ts";
import { readCapture } from "../../src/io/capture.ts";
import { buildPacket } from "../../src/packet/builder.ts";

describe("trace's packet", () => {
  it("is built from flags, read from hex, or taken from a capture's frame N (1-based)", () => {
    const syn = buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp", srcPort: 40000, dstPort: 5432, tcp: { flags: "S" } });
    expect(packetFromOptions({ src: "100.64.0.10", dst: "100.64.0.20", proto: "tcp", dport: "5432" })).toEqual(syn);
    expect(packetFromOptions({ hex: Buffer.from(syn).toString("hex") })).toEqual(syn);
    const third = [...readCapture("examples/mesh.pcap")][2];
    expect(packetFromOptions({ pcap: "examples/mesh.pcap", frame: "3" })).toEqual(third.ip.slice());
    const ping = packetFromOptions({ src: "100.64.0.20", dst: "100.64.0.10", proto: "icmp", "icmp-type": "echo-reply" });
    expect(ping[20]).toBe(0); // ICMP type 0
  });

  it("says what is wrong with the options, in one line", () => {
    expect(() => packetFromOptions({})).toThrow(/^give the packet one way/);
    expect(() => packetFromOptions({ hex: "abc" })).toThrow(/^--hex must be the packet's bytes/);
    expect(() => packetFromOptions({ src: "1.2.3.4", dst: "5.6.7.8", proto: "sctp" })).toThrow(/^--proto "sctp" is not tcp, udp or icmp/);
    expect(() => packetFromOptions({ src: "1.2.3.4", dst: "5.6.7.8", proto: "tcp", dport: "70000" })).toThrow(/^--dport "70000" is not a number from 0 to 65535/);
    expect(() => packetFromOptions({ src: "1.2.3.4", dst: "5.6.7.8", proto: "icmp", "icmp-type": "hello" })).toThrow(/^--icmp-type "hello" is unknown/);
    expect(() => packetFromOptions({ pcap: "examples/mesh.pcap" })).toThrow(/^--pcap needs --frame N/);
    expect(() => packetFromOptions({ pcap: "examples/mesh.pcap", frame: "100000" })).toThrow(/has fewer than 100000 frames/);
  });
});
