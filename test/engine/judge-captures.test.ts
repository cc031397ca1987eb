// engine.judge, which replays and shadow mode use, must take every packet in exactly
// the direction classify gives it: real captures of every link type, a routing peer,
// IPv6, and packets too short or malformed to decode. (The replay used to find the
// direction with a shortcut of its own; these cases come from its tests.)

import { readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Engine } from "../../src/engine/engine.ts";
import { readCapture } from "../../src/io/capture.ts";
import { buildPacket } from "../../src/packet/builder.ts";
import type { CompiledPeerPolicy } from "../../src/filter/compiled-policy.ts";
import { compilePeer } from "../../src/policy/compile/compile.ts";
import { loadPolicyFile } from "../../src/policy/input/load.ts";
import { MESH, ROOT } from "../replay/cli.ts";

/** Checks every packet; returns how many went each way (index = DIR_*), so tests can see both were exercised. */
function expectSameAsClassify(policy: CompiledPeerPolicy, packets: Uint8Array[]): number[] {
  const judging = new Engine(policy);
  const classifying = new Engine(policy);
  const seen = [0, 0, 0];
  for (const [i, ip] of packets.entries()) {
    judging.judge(ip, 0, ip.length);
    const dir = judging.lastDirection;
    expect({ i, dir }).toEqual({ i, dir: classifying.classify(ip, 0, ip.length) });
    seen[dir]++;
  }
  return seen;
}

const captured = (file: string): Uint8Array[] => [...readCapture(file)].map((p) => p.ip.slice()).filter((ip) => ip.length > 0);

/** A peer living on the fixtures' underlay addresses, routing 198.18.2.0/24, so every fixture packet concerns it. */
const underlayPeer: CompiledPeerPolicy = {
  peer: { id: "u", name: "underlay", addresses: ["198.18.0.1", "fd00:18::1"] },
  inbound: [],
  outbound: [],
  routes: [
    {
      id: "p/r:route:lab",
      policyId: "p",
      policyName: "p",
      ruleId: "r",
      ruleName: "r",
      action: "accept",
      protocol: "all",
      sources: ["0.0.0.0/0"],
      destinations: ["198.18.2.0/24"],
      ports: [],
      portRanges: [],
      reverse: false,
      resourceId: "lab",
      resourceName: "lab",
    },
  ],
};

describe("Engine.judge: direction on real captures", () => {
  it("agrees with engine.classify on the bundled capture, for every peer of its account", () => {
    const account = loadPolicyFile(path.join(ROOT, "examples/restrictive.yaml"));
    for (const peer of ["db-1", "laptop-alice", "web-1"]) expectSameAsClassify(compilePeer(account, peer), captured(MESH));
  });

  it("agrees with engine.classify on every fixture capture (IPv4, IPv6, routed addresses, all link types)", () => {
    const dir = path.join(ROOT, "fixtures");
    const files = readdirSync(dir).filter((f) => /\.pcap(ng)?$/.test(f));
    expect(files.length).toBeGreaterThan(0);
    const seen = [0, 0, 0];
    for (const file of files) expectSameAsClassify(underlayPeer, captured(path.join(dir, file))).forEach((n, d) => (seen[d] += n));
    expect(seen.every((n) => n > 0)).toBe(true); // none, in and out all exercised
  });

  it("agrees with engine.classify for a routing peer and for short or malformed packets", () => {
    const account = loadPolicyFile(path.join(ROOT, "examples/account.yaml"));
    const router = compilePeer(account, "router-1");
    const tcp = buildPacket({ src: "100.64.0.10", dst: "198.18.1.5", protocol: "tcp", dstPort: 443 });
    const reply = buildPacket({ src: "198.18.1.5", dst: "100.64.0.10", protocol: "tcp", srcPort: 443, tcp: { flags: "SA" } });
    const own = buildPacket({ src: "100.64.0.40", dst: "100.64.0.10", protocol: "udp" });
    const badHeaderLength = own.slice();
    badHeaderLength[0] = 0x43; // IHL 3
    const packets = [tcp, reply, own, badHeaderLength, own.subarray(0, 19), own.subarray(0, 1), new Uint8Array([0x60, 0, 0, 0])];
    expect(expectSameAsClassify(router, packets)).toEqual([3, 1, 3]);
  });
});
