// Ctrl-C during `meshfilter replay`, with a real SIGINT to the running bin: the replay
// stops at a packet boundary, prints the summary so far marked as partial, exits 130;
// on a terminal the progress line (packets, rate, elapsed, ETA) is erased first.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PcapWriter } from "../../src/io/pcap-writer.ts";
import { LINKTYPE_RAW } from "../../src/io/link-layer.ts";
import { buildPacket } from "../../src/packet/builder.ts";
import { MESHFILTER_BIN } from "../support/cli.ts";
import { RESTRICTIVE_POLICY, ROOT } from "../replay/cli.ts";

// Enough packets that the replay is still running when the signal arrives (about 130 MB;
// the progress bar needs a file of 16 MB or more).
const PACKETS = 2_000_000;
const dir = mkdtempSync(path.join(tmpdir(), "meshfilter-interrupt-"));
const capture = path.join(dir, "long.pcap");

beforeAll(() => {
  const writer = PcapWriter.open(capture, LINKTYPE_RAW);
  const packets = [5432, 22, 443].map((dstPort) => buildPacket({ src: "100.64.0.10", dst: "100.64.0.20", protocol: "tcp", srcPort: 40000, dstPort, tcp: { flags: "S" } }));
  for (let i = 0; i < PACKETS; i++) {
    const p = packets[i % packets.length];
    writer.write(p, 0, p.length, 1_700_000_000_000 + i);
  }
  writer.close();
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Resolves once `ready()` holds, polling; rejects after `ms`. */
async function until(ready: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("Ctrl-C during replay", () => {
  it("SIGINT: stops at a packet boundary, prints the partial summary (--json: interrupted, exact counts), exits 130", async () => {
    const verdicts = path.join(dir, "verdicts.ndjson");
    const child = spawn(process.execPath, [MESHFILTER_BIN, "replay", capture, "--policy", RESTRICTIVE_POLICY, "--peer", "db-1", "--json", "--verdicts", verdicts], { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    // The verdict file fills as packets are judged: the replay is under way.
    await until(() => existsSync(verdicts) && statSync(verdicts).size > 0, 60_000, "the first verdicts");
    expect(child.exitCode, "the replay finished before Ctrl-C could be sent; make the capture longer").toBeNull();
    child.kill("SIGINT");
    const code = await exited;
    await new Promise((r) => setImmediate(r));
    expect(stderr).toBe("");
    expect(code).toBe(130);
    const summary = JSON.parse(stdout);
    expect(summary.interrupted).toBe(true);
    expect(summary.complete).toBe(false);
    expect(summary.error).toBeNull();
    expect(summary.packets.read).toBeGreaterThan(0);
    expect(summary.packets.read).toBeLessThan(PACKETS);
    // Stopped at a packet boundary: every packet read was judged and has its verdict line.
    expect(summary.packets.judged).toBe(summary.packets.read);
    const lines = spawnSync("wc", ["-l", verdicts], { encoding: "utf8" }).stdout.trim().split(" ")[0];
    expect(Number(lines)).toBe(summary.packets.read);
  }, 120_000);

  it("on a terminal: progress with packets, rate, elapsed and ETA; Ctrl-C erases it and the text summary says partial", async () => {
    // `script` gives the bin a pseudo-terminal; writing ^C into it is a Ctrl-C typed at
    // that terminal (the line discipline sends SIGINT to the foreground process).
    const command = [process.execPath, MESHFILTER_BIN, "replay", capture, "--policy", RESTRICTIVE_POLICY, "--peer", "db-1"].map((a) => `'${a}'`).join(" ");
    const child = spawn("script", ["-qefc", command, "/dev/null"], { cwd: ROOT, env: { ...process.env, TERM: "dumb" } });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    await until(() => out.includes("ETA "), 60_000, "the progress line");
    child.stdin.write("\x03");
    const code = await exited;
    expect(code).toBe(130);
    const progress = /\r\x1b\[2K\[[#.]{30}\]\s+[\d.]+%  [\d,]+ packets  [\d.]+[KMB]? packets\/s  elapsed \d+:\d\d  ETA (\d+:\d\d|\?)/;
    expect(out).toMatch(progress);
    // The last thing drawn before the summary erases the progress line.
    const summaryStart = out.indexOf(" packets read from ");
    expect(summaryStart).toBeGreaterThan(0);
    const before = out.slice(0, summaryStart);
    expect(before).toMatch(/\r\x1b\[2K(\^C)?[\d,]+$/);
    expect(out).toMatch(/\x1b\[2K[\d,]+ packets read from .*long\.pcap \(interrupted: partial, the figures cover the packets before Ctrl-C\)\r?$/m);
  }, 120_000);
});
