// `--resolve NAME=IP,...`: a routing peer's domain resources judged offline, with the
// addresses given where the agent would ask DNS.

import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PcapWriter } from "../../src/io/pcap-writer.ts";
import { buildPacket } from "../../src/packet/builder.ts";
import { meshfilter, ROOT } from "./cli.ts";

const ACCOUNT = path.join(ROOT, "examples/netbird-api-account.json");
const tmp = mkdtempSync(path.join(tmpdir(), "meshfilter-resolve-"));

/** laptop-alice opens tcp/443 to 203.0.113.5 (the wiki) and to 203.0.113.9 (not the wiki), through router-1. */
function routedCapture(): string {
  const file = path.join(tmp, "routed.pcap");
  const writer = PcapWriter.open(file);
  let t = 1_000;
  for (const [server, port] of [["203.0.113.5", 40000], ["203.0.113.9", 40001]] as const) {
    for (const p of [
      buildPacket({ src: "100.64.0.10", dst: server, protocol: "tcp", srcPort: port, dstPort: 443, tcp: { flags: "S", seq: 1000 } }),
      buildPacket({ src: server, dst: "100.64.0.10", protocol: "tcp", srcPort: 443, dstPort: port, tcp: { flags: "SA", seq: 5000, ack: 1001 } }),
    ]) writer.write(p, 0, p.length, t++);
  }
  writer.close();
  return file;
}

function verdicts(...args: string[]): { status: number | null; lines: string[]; stderr: string } {
  const out = path.join(tmp, `v${Math.random().toString(36).slice(2)}.ndjson`);
  const r = meshfilter("replay", routedCapture(), "--policy", ACCOUNT, "--peer", "router-1", "--verdicts", out, ...args);
  const lines = r.status === 0 ? readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l)).map((l) => `${l.dir} ${l.verdict} ${l.reason}`) : [];
  return { status: r.status, lines, stderr: r.stderr };
}

describe("replay --resolve", () => {
  it("P6: the wiki's given address is routed by the Office network rule; another address is not", () => {
    const r = verdicts("--resolve", "wiki.corp.example=203.0.113.5,2001:db8::5");
    expect(r.stderr).toBe("");
    expect(r.lines).toEqual(["in accept rule", "out accept established", "none drop not-for-peer", "none drop not-for-peer"]);
  });

  it("without --resolve the domain has no addresses: nothing to it is routed", () => {
    const r = verdicts();
    expect(r.lines).toEqual(["none drop not-for-peer", "none drop not-for-peer", "none drop not-for-peer", "none drop not-for-peer"]);
  });

  it("a name that is not one of the peer's domain resources, or an address that is not one, is one line, exit 2", () => {
    const unknown = verdicts("--resolve", "wiki.example.org=203.0.113.5");
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toBe("meshfilter replay: --resolve wiki.example.org: peer router-1 has no domain resource of that name (its domain resources: wiki.corp.example)\n");
    const bad = verdicts("--resolve", "wiki.corp.example=203.0.113.500");
    expect(bad.stderr).toBe('meshfilter replay: --resolve wiki.corp.example: "203.0.113.500" is not an IP address\n');
  });
});
