// The UDP transport over loopback: overlay destination -> peer endpoint, routes via a
// routing peer, verdicts honoured, unknown destinations counted.
import { afterEach, describe, expect, it } from "vitest";
import { parseEndpoint, UdpTransport } from "../../src/agent/udp-transport.ts";
import { buildPacket } from "../../src/packet/builder.ts";
import { packBatch } from "../support/batch.ts";

const portA = 20000 + (process.pid % 20000);
const portB = portA + 1;
const open: UdpTransport[] = [];
afterEach(() => {
  for (const t of open.splice(0)) t.close();
});

function received(t: UdpTransport, want: number): Promise<string[]> {
  const dsts: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`got ${dsts.length} of ${want}`)), 3000);
    t.start((buf, offsets, lengths, n) => {
      for (let i = 0; i < n; i++) dsts.push(Array.from(buf.subarray(offsets[i] + 16, offsets[i] + 20)).join(".") + `/${lengths[i]}`);
      if (dsts.length >= want) {
        clearTimeout(timer);
        resolve(dsts);
      }
    });
  });
}

describe("UDP transport", () => {
  it("sends each accepted packet to the peer owning its destination, or to the routing peer of its prefix", async () => {
    const b = new UdpTransport({ listen: `127.0.0.1:${portB}`, peers: [], mtu: 1420 });
    open.push(b);
    const a = new UdpTransport({
      listen: `127.0.0.1:${portA}`,
      peers: [
        { overlay: "100.64.0.20", endpoint: `127.0.0.1:${portB}` },
        { overlay: "100.64.0.40", endpoint: `127.0.0.1:${portB}` },
      ],
      routes: [{ prefix: "198.18.1.0/24", via: "100.64.0.40" }],
      mtu: 1420,
    });
    open.push(a);
    const got = received(b, 3);
    const packets = [
      buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "udp", payload: 10 }),
      buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "udp", payload: 20 }), // dropped by the filter
      buildPacket({ src: "100.64.0.10", dst: "198.18.1.10", protocol: "udp", payload: 30 }), // routed
      buildPacket({ src: "100.64.0.10", dst: "100.64.0.99", protocol: "udp", payload: 40 }), // nobody
      buildPacket({ src: "100.64.0.10", dst: "100.64.0.40", protocol: "tcp", tcp: { flags: "S" } }),
    ];
    const { buf, offsets, lengths, count } = packBatch(packets);
    expect(a.send(buf, offsets, lengths, count, Uint8Array.of(1, 0, 1, 1, 1))).toBe(3);
    expect((await got).sort()).toEqual(["100.64.0.20/38", "100.64.0.40/40", "198.18.1.10/58"].sort());
    expect(a.counters).toMatchObject({ sentPackets: 3, noRoute: 1, sendErrors: 0 });
    expect(b.counters.receivedPackets).toBe(3);
  });

  for (const offload of [true, false]) {
    it(`carries a run of full-sized packets intact, byte for byte (offload ${offload ? "on: one GSO send, GRO receive" : "off"})`, async () => {
      const b = new UdpTransport({ listen: `127.0.0.1:${portB}`, peers: [], mtu: 1420, offload });
      open.push(b);
      const a = new UdpTransport({ listen: `127.0.0.1:${portA}`, peers: [{ overlay: "100.64.0.20", endpoint: `127.0.0.1:${portB}` }], mtu: 1420, offload });
      open.push(a);
      expect(a.offload).toBe(offload);
      // 100 full-sized packets and a short one, back to back as a TUN read leaves them.
      const packets = Array.from({ length: 101 }, (_, i) =>
        buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "udp", srcPort: 1000 + i, payload: i === 100 ? 10 : 1392 }),
      );
      const arrived: Uint8Array[] = [];
      const done = new Promise<void>((resolve) =>
        b.start((buf, offsets, lengths, n) => {
          for (let i = 0; i < n; i++) arrived.push(buf.slice(offsets[i], offsets[i] + lengths[i]));
          if (arrived.length >= packets.length) resolve();
        }),
      );
      const { buf, offsets, lengths, count } = packBatch(packets);
      expect(a.send(buf, offsets, lengths, count, new Uint8Array(count).fill(1))).toBe(101);
      await done;
      const key = (p: Uint8Array) => Buffer.from(p).toString("hex");
      expect(arrived.map(key).sort()).toEqual(packets.map(key).sort());
    });
  }

  it("rejects bad endpoints and routes via unknown peers with the text that is wrong", () => {
    expect(() => parseEndpoint("198.18.0.2")).toThrow(/198\.18\.0\.2.*IPv4:port/);
    expect(() => parseEndpoint("300.1.1.1:5")).toThrow(/300/);
    expect(() => new UdpTransport({ listen: "127.0.0.1:0", peers: [], routes: [{ prefix: "198.18.1.0/24", via: "100.64.0.40" }], mtu: 1420 })).toThrow(
      /no peer endpoint has that overlay address/,
    );
  });

  it("names the address when it cannot listen", () => {
    const a = new UdpTransport({ listen: `127.0.0.1:${portA}`, peers: [], mtu: 1420 });
    open.push(a);
    expect(() => new UdpTransport({ listen: `127.0.0.1:${portA}`, peers: [], mtu: 1420 })).toThrow(new RegExp(`127.0.0.1:${portA}.*in use`, "i"));
  });
});
