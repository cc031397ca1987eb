// `meshfilter replay` on the bundled capture of real traffic (examples/mesh.pcap, made
// by scripts/make-fixtures.sh in network namespaces): laptop-alice and web-1 query
// db-1 on tcp/5432, alice fetches from web-1 over HTTP and UDP, pings db-1 and web-1,
// tries ssh (tcp/22) on db-1, and db-1 tries ssh on alice.

import { spawnSync } from "node:child_process";
import { chmodSync, closeSync, copyFileSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCapture } from "../../src/io/capture.ts";
import { formatIp } from "../../src/packet/address.ts";
import { decodePacket } from "../../src/packet/decode.ts";
import { PacketRecord, PROTO_ICMP, PROTO_TCP } from "../../src/packet/record.ts";
import { REASON_NAMES } from "../../src/engine/reasons.ts";
import { DEFAULT_POLICY, MESH, meshfilter, RESTRICTIVE_POLICY, ROOT } from "./cli.ts";

const DB = "100.64.0.20";
const ALICE = "100.64.0.10";

interface VerdictLine {
  index: number;
  dir: "in" | "out" | "none";
  verdict: "accept" | "drop";
  reason: string;
  rule: string | null;
  state: string | null;
}

interface PacketInfo {
  index: number;
  /** Protocol and both endpoints, the same for both directions of a connection. */
  flow: string;
  /** Who sent it: "src:port > dst:port". */
  tuple: string;
  ip: Uint8Array;
}

/** Every packet of a capture with a direction-independent flow key (cold path, tests only). */
function packets(file: string): PacketInfo[] {
  const rec = new PacketRecord();
  const list: PacketInfo[] = [];
  for (const p of readCapture(file)) {
    let flow = "not-ip";
    let tuple = "not-ip";
    if (p.ip.length > 0 && decodePacket(p.ip, 0, p.ip.length, rec)) {
      const src = `${formatIp(rec.ipVersion, rec.src0, rec.src1, rec.src2, rec.src3)}:${rec.srcPort}`;
      const dst = `${formatIp(rec.ipVersion, rec.dst0, rec.dst1, rec.dst2, rec.dst3)}:${rec.dstPort}`;
      const id = rec.protocol === PROTO_ICMP ? `#${rec.icmpIsError ? "error" : rec.icmpId}` : "";
      flow = `${rec.protocol} ${[src, dst].sort().join(" ")}${id}`;
      tuple = `${rec.protocol} ${src} > ${dst}`;
    }
    list.push({ index: p.index, flow, tuple, ip: p.ip.slice() });
  }
  return list;
}

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "meshfilter-replay-test-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function readVerdicts(file: string): VerdictLine[] {
  return readFileSync(file, "utf8")
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line) as VerdictLine);
}

describe("replay of the bundled capture", () => {
  it("P2: with the Default policy, every packet for db-1 is accepted", () => {
    const r = meshfilter("replay", MESH, "--policy", DEFAULT_POLICY, "--peer", "db-1", "--json");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.packets.judged).toBeGreaterThan(0);
    expect(s.packets.dropped).toBe(0);
    expect(s.packets.accepted).toBe(s.packets.judged);
    expect(s.bytes.dropped).toBe(0);
  });

  it("P3/P7: with the restrictive policy, the drops are exactly the forbidden new connections (ping and tcp/22 to db-1)", () => {
    const verdictsFile = path.join(dir, "restrictive.jsonl");
    const r = meshfilter("replay", MESH, "--policy", RESTRICTIVE_POLICY, "--peer", "db-1", "--verdicts", verdictsFile);
    expect(r.status).toBe(0);
    const verdicts = readVerdicts(verdictsFile);
    const info = packets(MESH);
    expect(verdicts).toHaveLength(info.length);

    // Group the judged packets by connection; a connection is "dropped" when any packet of it is.
    const droppedFlows = new Set<string>();
    const judgedFlows = new Set<string>();
    for (const v of verdicts) {
      if (v.dir === "none") continue;
      judgedFlows.add(info[v.index].flow);
      if (v.verdict === "drop") droppedFlows.add(info[v.index].flow);
    }
    // Exactly two connections lose packets: alice's pings to db-1 and alice's tcp/22 to db-1.
    const icmpFlow = [...droppedFlows].filter((f) => f.startsWith(`${PROTO_ICMP} `));
    const sshFlow = [...droppedFlows].filter((f) => f.startsWith(`${PROTO_TCP} `) && f.includes(`${DB}:22`));
    expect(icmpFlow).toHaveLength(1);
    expect(icmpFlow[0]).toContain(`${ALICE}:0 ${DB}:0`);
    expect(sshFlow).toHaveLength(1);
    expect(sshFlow[0]).toContain(`${ALICE}:`);
    expect(droppedFlows.size).toBe(2);
    // What alice sends to open them is refused by the policy (no rule); db-1's answers
    // (echo replies, the RST) belong to no tracked connection, so they go too.
    for (const v of verdicts.filter((x) => x.verdict === "drop")) {
      if (v.dir === "none") continue;
      if (info[v.index].tuple.startsWith(`${PROTO_ICMP} ${ALICE}`) || info[v.index].tuple.includes(`> ${DB}:22`)) {
        expect(v).toMatchObject({ dir: "in", reason: "no-rule", rule: null });
      } else {
        expect(v.dir).toBe("out");
        expect(["icmp-no-request", "tcp-no-connection"]).toContain(v.reason);
      }
    }
    // Nothing of an allowed connection (the postgres queries, db-1's own ssh attempt) is dropped.
    const allowed = [...judgedFlows].filter((f) => !droppedFlows.has(f));
    expect(allowed.some((f) => f.includes(`${DB}:5432`))).toBe(true);
    for (const v of verdicts) {
      if (v.dir !== "none" && allowed.includes(info[v.index].flow)) expect(v.verdict).toBe("accept");
    }
  });

  it("--verdicts writes one well-formed line per packet, in capture order", () => {
    const verdictsFile = path.join(dir, "format.jsonl");
    const r = meshfilter("replay", MESH, "--policy", RESTRICTIVE_POLICY, "--peer", "db-1", "--verdicts", verdictsFile, "--json");
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout);
    const lines = readFileSync(verdictsFile, "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(summary.packets.read);
    lines.forEach((line, i) => {
      const v = JSON.parse(line);
      expect(Object.keys(v)).toEqual(["index", "dir", "verdict", "reason", "rule", "state"]);
      expect(v.index).toBe(i);
      expect(["in", "out", "none"]).toContain(v.dir);
      expect(["accept", "drop"]).toContain(v.verdict);
      expect(REASON_NAMES).toContain(v.reason);
      expect(v.rule === null || typeof v.rule === "string").toBe(true);
      expect(v.state === null || typeof v.state === "string").toBe(true);
      if (v.dir === "none") expect(v).toMatchObject({ verdict: "drop", reason: "not-for-peer", rule: null, state: null });
    });
    const parsed = lines.map((l) => JSON.parse(l) as VerdictLine);
    expect(parsed.filter((v) => v.dir === "none")).toHaveLength(summary.packets.notForPeer);
    expect(parsed.filter((v) => v.dir !== "none" && v.verdict === "drop")).toHaveLength(summary.packets.dropped);
    // A connection a rule opened names its rule on the opening packet.
    expect(parsed.some((v) => v.reason === "rule" && typeof v.rule === "string" && v.state !== null)).toBe(true);
  });

  it("--json prints one summary object whose counts add up", () => {
    const r = meshfilter("replay", MESH, "--policy", RESTRICTIVE_POLICY, "--peer", "db-1", "--json");
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ capture: MESH, complete: true, error: null, peer: { name: "db-1", addresses: [DB] } });
    const p = s.packets;
    expect(p.read).toBe(p.judged + p.notForPeer);
    expect(p.judged).toBe(p.accepted + p.dropped);
    expect(p.dropped).toBeGreaterThan(0);
    expect(s.inbound.dropped + s.outbound.dropped).toBe(p.dropped);
    expect(Object.values(s.dropsByReason as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(p.dropped);
    expect(Object.values(s.acceptsByReason as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(p.accepted);
    expect(s.topRules.length).toBeGreaterThan(0);
    for (const rule of s.topRules) expect(rule).toMatchObject({ rule: expect.any(String), action: expect.stringMatching(/^(accept|drop)$/), hits: expect.any(Number) });
    expect(Object.keys(s.flowsByState).length).toBeGreaterThan(0);
    expect(Date.parse(s.firstPacket)).toBeLessThanOrEqual(Date.parse(s.lastPacket));
  });

  it("prints a tcpdump-style text summary by default", () => {
    const r = meshfilter("replay", MESH, "--policy", RESTRICTIVE_POLICY, "--peer", "db-1");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\d+ packets read from .*mesh\.pcap\n\d+ packets judged for peer db-1 \(100\.64\.0\.20\)/);
    expect(r.stdout).toMatch(/\n\d+ packets accepted\n[1-9]\d* packets dropped\n\d+ packets not for this peer/);
    expect(r.stdout).toContain("Drops by reason:");
    expect(r.stdout).toContain("Top rules by hits");
    expect(r.stdout).toContain("Flows by final state:");
  });

  it("--write-dropped writes a valid pcap holding exactly the dropped packets", () => {
    const verdictsFile = path.join(dir, "dropped.jsonl");
    const droppedFile = path.join(dir, "dropped.pcap");
    const r = meshfilter("replay", MESH, "--policy", RESTRICTIVE_POLICY, "--peer", "db-1", "--verdicts", verdictsFile, "--write-dropped", droppedFile);
    expect(r.status).toBe(0);
    const info = packets(MESH);
    const expected = readVerdicts(verdictsFile)
      .filter((v) => v.dir !== "none" && v.verdict === "drop")
      .map((v) => info[v.index]);
    const written = [...readCapture(droppedFile)];
    expect(written.length).toBe(expected.length);
    expect(written.length).toBeGreaterThan(0);
    written.forEach((p, i) => {
      expect(p.linkType).toBe(101);
      expect(Buffer.from(p.ip).equals(Buffer.from(expected[i].ip))).toBe(true);
    });
    const original = [...readCapture(MESH)];
    const times = new Set(original.map((p) => Math.round(p.timeMs * 1000)));
    for (const p of written) expect(times.has(Math.round(p.timeMs * 1000))).toBe(true);
  });
});

describe("replay of a damaged capture", () => {
  it("a capture truncated mid-record: prints what was judged, then the byte offset, exit 1", () => {
    const all = [...readCapture(MESH)];
    const cut = Math.min(10, all.length - 1);
    const file = path.join(dir, "truncated.pcap");
    copyFileSync(MESH, file);
    truncateSync(file, all[cut].byteOffset + 20); // inside packet `cut`: header and 4 bytes of data
    const r = meshfilter("replay", file, "--policy", DEFAULT_POLICY, "--peer", "db-1");
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^${cut} packets read from `));
    expect(r.stderr).toContain(`byte offset ${all[cut].byteOffset}`);

    const json = meshfilter("replay", file, "--policy", DEFAULT_POLICY, "--peer", "db-1", "--json");
    expect(json.status).toBe(1);
    const s = JSON.parse(json.stdout);
    expect(s.complete).toBe(false);
    expect(s.packets.read).toBe(cut);
    expect(s.error.byteOffset).toBe(all[cut].byteOffset);
  });

  it("a corrupt record length: stops at that record's byte offset, exit 1", () => {
    const all = [...readCapture(MESH)];
    const bad = Math.min(5, all.length - 1);
    const file = path.join(dir, "corrupt.pcap");
    copyFileSync(MESH, file);
    const fd = openSync(file, "r+");
    const huge = Buffer.alloc(4);
    huge.writeUInt32LE(0x7fffffff); // assumes the fixture is little-endian pcap, as tcpdump writes on x86
    writeSync(fd, huge, 0, 4, all[bad].byteOffset + 8);
    closeSync(fd);
    const r = meshfilter("replay", file, "--policy", DEFAULT_POLICY, "--peer", "db-1", "--json");
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).packets.read).toBe(bad);
    expect(r.stderr).toContain(`byte offset ${all[bad].byteOffset}`);
  });

  it("a file that is not a capture: exit 1 with the offset, no summary", () => {
    const r = meshfilter("replay", path.join(ROOT, "package.json"), "--policy", DEFAULT_POLICY, "--peer", "db-1");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("byte offset 0");
    expect(r.stdout).toBe("");
  });

  it("a missing capture: exit 1", () => {
    const r = meshfilter("replay", path.join(dir, "nope.pcap"), "--policy", DEFAULT_POLICY, "--peer", "db-1");
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/nope\.pcap/);
  });
});

describe("replay usage and policy errors", () => {
  it("a bad policy: every problem with its JSON path, exit 2", () => {
    const file = path.join(dir, "bad.yaml");
    const text = readFileSync(RESTRICTIVE_POLICY, "utf8");
    // An impossible port and an unknown group appended to an otherwise valid policy list.
    expect(text).toMatch(/^policies:/m);
    const broken = `${text.trimEnd()}\n  - name: broken\n    action: accept\n    protocol: tcp\n    ports: [70000]\n    sources: [nonexistent-group]\n    destinations: [nonexistent-group]\n`;
    writeFileSync(file, broken);
    const r = meshfilter("replay", MESH, "--policy", file, "--peer", "db-1");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/\$\.policies\[\d+\]/);
    expect(r.stdout).toBe("");
  });

  it("an unknown peer: exit 2", () => {
    const r = meshfilter("replay", MESH, "--policy", RESTRICTIVE_POLICY, "--peer", "no-such-peer");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("no-such-peer");
  });

  it("missing options: usage, exit 2; --help: exit 0 and names the exit codes", () => {
    expect(meshfilter("replay", MESH).status).toBe(2);
    const help = meshfilter("replay", "--help");
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("--verdicts");
    expect(help.stdout).toMatch(/2\s+bad usage, or a bad policy/);
  });
});

describe("replay to an output that cannot be written", () => {
  // Each case: exit 2, one line on stderr naming the file and the system's reason, no summary.
  function expectOutputFailure(option: "--verdicts" | "--write-dropped", file: string, reason: RegExp): void {
    const r = meshfilter("replay", MESH, "--policy", RESTRICTIVE_POLICY, "--peer", "db-1", option, file);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^meshfilter replay: cannot write ${file}: `));
    expect(lines[0]).toMatch(reason);
  }

  /** A 64 KiB tmpfs filled to the last byte; undefined (with the reason printed) where mounting is refused. */
  function fullFilesystem(): { dir: string; unmount(): void } | undefined {
    const mountPoint = mkdtempSync(path.join(os.tmpdir(), "meshfilter-full-"));
    const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mountPoint], { encoding: "utf8" });
    if (mounted.status !== 0) {
      rmSync(mountPoint, { recursive: true, force: true });
      console.warn(`skipped the full-filesystem case: mount -t tmpfs refused (${(mounted.stderr || mounted.error?.message || "").trim()}); run as root`);
      return undefined;
    }
    const fill = openSync(path.join(mountPoint, "fill"), "w");
    try {
      for (;;) writeSync(fill, Buffer.alloc(4096));
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe("ENOSPC");
    } finally {
      closeSync(fill);
    }
    return {
      dir: mountPoint,
      unmount: () => {
        spawnSync("umount", [mountPoint]);
        rmSync(mountPoint, { recursive: true, force: true });
      },
    };
  }

  it("a full filesystem (tmpfs): --verdicts and --write-dropped name the file, ENOSPC, exit 2", () => {
    const full = fullFilesystem();
    if (!full) return;
    try {
      expectOutputFailure("--verdicts", path.join(full.dir, "verdicts.ndjson"), /no space left on device \(ENOSPC\)$/);
      expectOutputFailure("--write-dropped", path.join(full.dir, "dropped.pcap"), /no space left on device \(ENOSPC\)$/);
    } finally {
      full.unmount();
    }
  });

  it("/dev/full: ENOSPC on the first write, exit 2", () => {
    if (!existsSync("/dev/full")) return void console.warn("skipped: no /dev/full");
    expectOutputFailure("--verdicts", "/dev/full", /no space left on device \(ENOSPC\)$/);
    expectOutputFailure("--write-dropped", "/dev/full", /no space left on device \(ENOSPC\)$/);
  });

  it("a missing folder, a directory, an unwritable path: exit 2 with the reason", () => {
    expectOutputFailure("--verdicts", path.join(dir, "no-such-folder", "v.ndjson"), /no such file or directory \(ENOENT\)$/);
    expectOutputFailure("--write-dropped", dir, /illegal operation on a directory \(EISDIR\)$/);
    if (process.getuid?.() === 0) {
      // Root writes through file modes; a read-only mount stops it.
      const readOnly = mkdtempSync(path.join(os.tmpdir(), "meshfilter-ro-"));
      const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", readOnly], { encoding: "utf8" });
      try {
        if (mounted.status === 0) expectOutputFailure("--verdicts", path.join(readOnly, "v.ndjson"), /read-only file system \(EROFS\)$/);
        else console.warn(`skipped the read-only case: mount refused (${mounted.stderr.trim()})`);
      } finally {
        if (mounted.status === 0) spawnSync("umount", [readOnly]);
        rmSync(readOnly, { recursive: true, force: true });
      }
    } else {
      const locked = mkdtempSync(path.join(os.tmpdir(), "meshfilter-locked-"));
      chmodSync(locked, 0o500);
      try {
        expectOutputFailure("--write-dropped", path.join(locked, "d.pcap"), /permission denied \(EACCES\)$/);
      } finally {
        rmSync(locked, { recursive: true, force: true });
      }
    }
  });
});
