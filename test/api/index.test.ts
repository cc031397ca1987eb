import { describe, expect, it } from "vitest";
import {
  buildPacket,
  compilePolicy,
  createFirewall,
  lintPolicy,
  VERDICT_ACCEPT,
  VERDICT_DROP,
} from "../../src/index.ts";

// The facade an agent author starts from: a policy file and a peer name in, a firewall out.
describe("public API", () => {
  const syn = (dstPort: number) =>
    buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp", srcPort: 41000, dstPort, tcp: { flags: "S", seq: 1 } });

  it("createFirewall loads, compiles and judges with a policy file", () => {
    const fw = createFirewall({ policy: "examples/restrictive.yaml", peer: "db-1" });
    fw.setTime(1000);
    const allowed = syn(5432);
    expect(fw.inbound(allowed, 0, allowed.length)).toBe(VERDICT_ACCEPT);
    const forbidden = syn(22);
    expect(fw.inbound(forbidden, 0, forbidden.length)).toBe(VERDICT_DROP);
    expect(fw.reasonName(fw.lastReason)).toBe("no-rule");
  });

  it("createFirewall accepts tables compiled beforehand, and applyPolicy swaps them", () => {
    const fw = createFirewall({ policy: compilePolicy("examples/default.yaml", "db-1"), peer: "db-1" });
    fw.setTime(1000);
    const ssh = syn(22);
    expect(fw.inbound(ssh, 0, ssh.length)).toBe(VERDICT_ACCEPT);
    // The restrictive policy no longer allows the tracked ssh connection: it is revoked (P14).
    expect(fw.applyPolicy(compilePolicy("examples/restrictive.yaml", "db-1"))).toBe(1);
  });

  it("lintPolicy reports the Default policy", () => {
    expect(lintPolicy("examples/default.yaml").map((f) => f.id)).toContain("default-policy");
  });
});
