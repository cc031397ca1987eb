// The TUN addon against the real kernel: open, write packets in, read the kernel's
// answers back in batches, close, and every open error with its explanation.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { openTun, TunError, type TunDevice } from "../../src/io/tun.ts";
import { buildPacket } from "../../src/packet/builder.ts";
import { internetChecksum, transportChecksum } from "../../src/packet/checksum.ts";
import { packBatch } from "../support/batch.ts";

const isRoot = process.getuid?.() === 0;
const haveTun = existsSync("/dev/net/tun");
const skipReason = !haveTun ? "no /dev/net/tun on this kernel" : !isRoot ? "not root (TUN needs CAP_NET_ADMIN)" : "";
if (skipReason) console.warn(`test/native: skipping TUN tests: ${skipReason}`);

// Unique per test file run, short enough for IFNAMSIZ.
const base = `mft${process.pid % 100000}`;
// A /30 in 198.19.0.0/16 (benchmarking range) derived from the pid, so parallel runs do not collide.
const net = `198.19.${process.pid % 250}`;
const open: TunDevice[] = [];

afterEach(() => {
  for (const t of open.splice(0)) t.close();
});

function track(t: TunDevice): TunDevice {
  open.push(t);
  return t;
}

function ip(...args: string[]): void {
  execFileSync("ip", args, { stdio: "pipe" });
}

function bringUp(name: string): void {
  // No IPv6 on the test device, so the kernel sends no router solicitations into our reads.
  execFileSync("sysctl", ["-q", "-w", `net.ipv6.conf.${name}.disable_ipv6=1`], { stdio: "pipe" });
  ip("addr", "add", `${net}.1/30`, "dev", name);
  ip("link", "set", name, "up");
}

function echoRequest(seq: number): Uint8Array {
  return buildPacket({ src: `${net}.2`, dst: `${net}.1`, protocol: "icmp", icmp: { type: 8, id: 7, seq }, payload: 32 });
}

/** Reads until `want` ICMP echo replies arrived; returns the echo sequence numbers and the batch sizes seen. */
function collectReplies(tun: TunDevice, want: number): Promise<{ seqs: number[]; batches: number[] }> {
  const buf = new Uint8Array(64 * 1024);
  const offsets = new Uint32Array(64);
  const lengths = new Uint32Array(64);
  const seqs: number[] = [];
  const batches: number[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${seqs.length} of ${want} replies arrived`)), 5000);
    tun.onReadable(() => {
      let n: number;
      while ((n = tun.read(buf, offsets, lengths)) > 0) {
        batches.push(n);
        for (let i = 0; i < n; i++) {
          const p = offsets[i];
          // IPv4, ICMP, echo reply: take its sequence number.
          if (buf[p] >> 4 === 4 && buf[p + 9] === 1 && buf[p + 20] === 0) seqs.push((buf[p + 26] << 8) | buf[p + 27]);
        }
      }
      if (seqs.length >= want) {
        clearTimeout(timer);
        tun.pause();
        resolve({ seqs, batches });
      }
    });
  });
}

function runChild(mode: string, name: string, wrapper: string[] = []): { ok: boolean; code?: string; message?: string; status: number | null } {
  const cmd = [...wrapper, process.execPath, "--import", "tsx", "test/native/tun-child.ts", mode, name];
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8", timeout: 20_000 });
  const line = r.stdout.trim().split("\n").pop() ?? "";
  try {
    return { ...JSON.parse(line), status: r.status };
  } catch {
    return { ok: false, message: `child printed ${JSON.stringify(r.stdout)} / ${r.stderr}`, status: r.status };
  }
}

describe.skipIf(skipReason !== "")("TUN addon", () => {
  it("opens a device by name, which then exists in the kernel, and close removes it (idempotent)", () => {
    const tun = track(openTun(`${base}a`));
    expect(tun.name).toBe(`${base}a`);
    expect(tun.fd).toBeGreaterThan(2);
    expect(existsSync(`/sys/class/net/${base}a`)).toBe(true);
    expect(execFileSync("cat", [`/sys/class/net/${base}a/tun_flags`], { encoding: "utf8" }).trim()).toBe("0x1001"); // IFF_TUN|IFF_NO_PI
    tun.close();
    tun.close();
    expect(tun.closed).toBe(true);
    expect(existsSync(`/sys/class/net/${base}a`)).toBe(false);
  });

  it("lets the kernel fill in a name pattern", () => {
    const tun = track(openTun(`${base}p%d`));
    expect(tun.name).toMatch(new RegExp(`^${base}p\\d+$`));
  });

  it("writes one packet in and reads the kernel's reply", async () => {
    const tun = track(openTun(`${base}b`, { packetRoom: 1500 }));
    bringUp(tun.name);
    const packet = echoRequest(1);
    expect(tun.write(packet, Uint32Array.of(0), Uint32Array.of(packet.length), 1)).toBe(1);
    const { seqs } = await collectReplies(tun, 1);
    expect(seqs).toEqual([1]);
  });

  it("writes a batch in one call (skipping dropped verdicts) and reads many packets per readiness", async () => {
    const tun = track(openTun(`${base}c`, { packetRoom: 1500 }));
    bringUp(tun.name);
    const count = 40;
    const echoes = Array.from({ length: count }, (_, i) => echoRequest(100 + i));
    const { buf, offsets, lengths } = packBatch(echoes, count * 128);
    const verdicts = new Uint8Array(count).fill(1);
    verdicts[5] = 0; // a packet the filter dropped is not written
    expect(tun.write(buf, offsets, lengths, count, verdicts)).toBe(count - 1);
    const { seqs, batches } = await collectReplies(tun, count - 1);
    expect(seqs.sort((a, b) => a - b)).toEqual([...Array(count).keys()].filter((i) => i !== 5).map((i) => 100 + i));
    // The replies were queued before the first readiness, so reads took more than one per call.
    expect(Math.max(...batches)).toBeGreaterThan(1);
  });

  it("stops a read batch before the buffer could truncate a packet", async () => {
    const tun = track(openTun(`${base}d`, { packetRoom: 1500 }));
    bringUp(tun.name);
    const p = echoRequest(9);
    const { buf, offsets, lengths, count } = packBatch([p, p, p, p]);
    tun.write(buf, offsets, lengths, count);
    await new Promise((r) => setTimeout(r, 100));
    // 1540 bytes with a room of 1500: after one 60-byte reply fewer than 1500 remain, so the batch stops.
    const small = new Uint8Array(1540);
    expect(tun.read(small, new Uint32Array(8), new Uint32Array(8))).toBe(1);
    expect(tun.read(small, new Uint32Array(8), new Uint32Array(8), 0)).toBe(0);
  });

  it("returns 0 when nothing is waiting, and throws EBADF once closed", () => {
    const tun = track(openTun(`${base}e`));
    expect(tun.read(new Uint8Array(70000), new Uint32Array(4), new Uint32Array(4))).toBe(0);
    tun.close();
    expect(() => tun.read(new Uint8Array(70000), new Uint32Array(4), new Uint32Array(4))).toThrow(/closed/);
  });

  it("refuses bad arguments with a TypeError", () => {
    const tun = track(openTun(`${base}f`));
    expect(() => tun.read(new Uint8Array(10), new Uint8Array(4) as unknown as Uint32Array, new Uint32Array(4))).toThrow(TypeError);
  });

  it("offload: a batch of TCP segments is merged into one GSO write and the kernel's socket gets every byte in order", async () => {
    const tun = track(openTun(`${base}o`, { packetRoom: 1500, offload: true }));
    expect(tun.offload).toBe(true);
    bringUp(tun.name);
    const port = 15000 + (process.pid % 1000);
    const chunks: Buffer[] = [];
    const server: Server = createServer((socket) => socket.on("data", (d) => chunks.push(d)));
    await new Promise<void>((r) => server.listen(port, `${net}.1`, () => r()));
    try {
      const segment = (flags: string, seq: number, ack: number, payload?: Uint8Array) =>
        buildPacket({
          src: `${net}.2`, dst: `${net}.1`, protocol: "tcp", srcPort: 40000, dstPort: port,
          tcp: { flags, seq, ack, window: 65535, ...(flags === "S" ? { mss: 1400 } : {}) },
          payload, dontFragment: true,
        });
      const writeAll = (packets: Uint8Array[], verdicts?: Uint8Array) => {
        const { buf, offsets, lengths, count } = packBatch(packets);
        return tun.write(buf, offsets, lengths, count, verdicts);
      };
      // Handshake by hand, from the TUN side.
      const synAck = new Promise<number>((resolve) => {
        const buf = new Uint8Array(65536);
        const offsets = new Uint32Array(16);
        const lengths = new Uint32Array(16);
        tun.onReadable(() => {
          const n = tun.read(buf, offsets, lengths);
          for (let i = 0; i < n; i++) {
            const p = offsets[i];
            if (buf[p] >> 4 === 4 && buf[p + 9] === 6 && buf[p + 33] === 0x12) {
              tun.pause();
              resolve(new DataView(buf.buffer, p + 24, 4).getUint32(0));
            }
          }
        });
      });
      writeAll([segment("S", 1000, 0)]);
      const serverSeq = await synAck;
      const ack = (serverSeq + 1) >>> 0;
      writeAll([segment("A", 1001, ack)]);
      // 30 segments of 1000 bytes (the last shorter, with PSH), one dropped by a verdict of 0 in the middle
      // of a second batch: the run must stop there and the rest must still arrive in order.
      const data = new Uint8Array(29 * 1000 + 300).map((_, i) => (i * 7) & 0xff);
      const segments = Array.from({ length: 30 }, (_, k) =>
        segment(k === 29 ? "PA" : "A", 1001 + k * 1000, ack, data.subarray(k * 1000, Math.min(data.length, (k + 1) * 1000))),
      );
      expect(writeAll(segments.slice(0, 20))).toBe(20);
      expect(tun.mergedWrites).toBe(1);
      const verdicts = new Uint8Array(11).fill(1);
      verdicts[5] = 0;
      expect(writeAll([...segments.slice(20, 25), segments[0], ...segments.slice(25)], verdicts)).toBe(10);
      expect(tun.mergedWrites).toBe(3); // 20..24, then 25..29 after the dropped packet
      const end = Date.now() + 5000;
      while (Buffer.concat(chunks).length < data.length && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      expect(Buffer.concat(chunks).equals(Buffer.from(data))).toBe(true);
    } finally {
      server.close();
    }
  });

  it("offload: the kernel's large TCP packets are read as ordinary segments with correct checksums, in order", async () => {
    const tun = track(openTun(`${base}s`, { packetRoom: 1500, offload: true }));
    bringUp(tun.name);
    const port = 16000 + (process.pid % 1000);
    const data = Buffer.alloc(12000, 0).map((_, i) => (i * 13) & 0xff);
    const client = connect({ host: `${net}.2`, port, localAddress: `${net}.1` });
    client.on("error", () => {});
    const buf = new Uint8Array(256 * 1500);
    const offsets = new Uint32Array(256);
    const lengths = new Uint32Array(256);
    const payloads = new Map<number, Buffer>();
    let clientSeq = 0;
    const segmentsSeen: number[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`got ${[...payloads.values()].reduce((n, p) => n + p.length, 0)} bytes`)), 5000);
        tun.onReadable(() => {
          let n: number;
          while ((n = tun.read(buf, offsets, lengths)) > 0) {
            for (let i = 0; i < n; i++) {
              const p = buf.subarray(offsets[i], offsets[i] + lengths[i]);
              if (p[0] >> 4 !== 4 || p[9] !== 6) continue;
              expect(internetChecksum(p, 0, 20)).toBe(0);
              expect(transportChecksum(p, 0, 20, p.length - 20, 6)).toBe(0);
              const view = new DataView(p.buffer, p.byteOffset);
              const flags = p[33];
              const seq = view.getUint32(24);
              if (flags === 0x02) {
                // The client's SYN: answer from the TUN side with MSS 1400.
                clientSeq = (seq + 1) >>> 0;
                const synAck = buildPacket({
                  src: `${net}.2`, dst: `${net}.1`, protocol: "tcp", srcPort: port, dstPort: view.getUint16(20),
                  tcp: { flags: "SA", seq: 5000, ack: clientSeq, window: 65535, mss: 1400 }, dontFragment: true,
                });
                tun.write(synAck, Uint32Array.of(0), Uint32Array.of(synAck.length), 1);
                client.write(data);
                continue;
              }
              const dataOffset = 20 + (p[32] >> 4) * 4;
              if (p.length > dataOffset) {
                expect(p.length).toBeLessThanOrEqual(1440);
                segmentsSeen.push(p.length);
                payloads.set((seq - clientSeq) >>> 0, Buffer.from(p.subarray(dataOffset)));
              }
            }
          }
          const got = [...payloads.values()].reduce((total, p) => total + p.length, 0);
          if (got >= data.length) {
            clearTimeout(timer);
            tun.pause();
            resolve();
          }
        });
      });
      const ordered = Buffer.concat([...payloads.entries()].sort((x, y) => x[0] - y[0]).map(([, p]) => p));
      expect(ordered.subarray(0, data.length).equals(data)).toBe(true);
      expect(segmentsSeen.length).toBeGreaterThan(1);
      expect(tun.splitReads).toBeGreaterThan(0); // the kernel did hand over large packets, and they were split
    } finally {
      client.destroy();
    }
  });

  it("EBUSY: a second opener of a single-queue device is told it is busy", () => {
    track(openTun(`${base}g`));
    const err = catchTun(() => openTun(`${base}g`));
    expect(err.code).toBe("EBUSY");
    expect(err.message).toContain(`'${base}g'`);
    expect(err.message).toMatch(/busy.*another process/);
  });

  it("EINVAL: attaching multi-queue to a single-queue device is a queue-mode mismatch", () => {
    track(openTun(`${base}h`));
    const err = catchTun(() => openTun(`${base}h`, { multiQueue: true }));
    expect(err.code).toBe("EINVAL");
    expect(err.message).toMatch(/queue mode/);
    expect(err.message).toContain("multiQueue");
  });

  it("opens several queues of a multi-queue device", () => {
    const q1 = track(openTun(`${base}m`, { multiQueue: true }));
    const q2 = track(openTun(`${base}m`, { multiQueue: true }));
    expect(q1.fd).not.toBe(q2.fd);
    expect(execFileSync("cat", [`/sys/class/net/${base}m/tun_flags`], { encoding: "utf8" }).trim()).toBe("0x1101");
  });

  it("EINVAL: a name longer than IFNAMSIZ is refused with the limit", () => {
    const err = catchTun(() => openTun("a-name-far-too-long-for-linux"));
    expect(err.code).toBe("EINVAL");
    expect(err.message).toMatch(/1 to 15 bytes/);
  });

  it("ENOENT: a missing clone device says how to get one", () => {
    const err = catchTun(() => openTun(`${base}x`, { clonePath: "/nonexistent/net/tun" }));
    expect(err.code).toBe("ENOENT");
    expect(err.message).toContain(`'${base}x'`);
    expect(err.message).toContain("/nonexistent/net/tun");
    expect(err.message).toMatch(/modprobe tun/);
  });

  const dropCap = existsSync("/usr/sbin/capsh") || existsSync("/sbin/capsh")
    ? ["capsh", "--drop=cap_net_admin", "--"]
    : existsSync("/usr/bin/setpriv")
      ? ["setpriv", "--inh-caps=-net_admin", "--bounding-set=-net_admin", "--"]
      : null;
  if (!dropCap) console.warn("test/native: skipping the EPERM test: neither capsh (libcap2-bin) nor setpriv is installed");

  it.skipIf(!dropCap)("EPERM: without CAP_NET_ADMIN the error names the capability and the fixes", () => {
    const wrapper = dropCap![0] === "capsh" ? ["capsh", "--drop=cap_net_admin", "--", "-c", '"$0" "$@"'] : dropCap!;
    const r = runChild("open", `${base}n`, wrapper);
    expect(r.ok).toBe(false);
    expect(r.code).toBe("EPERM");
    expect(r.message).toContain(`'${base}n'`);
    expect(r.message).toMatch(/CAP_NET_ADMIN/);
  });

  it("a process exiting with an armed device exits cleanly (cleanup hook), and closing an armed device ends the loop", () => {
    const exited = runChild("exit-armed", `${base}q`);
    expect(exited).toMatchObject({ ok: true, status: 0 });
    const closed = runChild("close-armed", `${base}r`);
    expect(closed).toMatchObject({ ok: true, status: 0 });
    expect(existsSync(`/sys/class/net/${base}q`)).toBe(false);
  });
});

function catchTun(fn: () => unknown): TunError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TunError);
    return err as TunError;
  }
  throw new Error("expected a TunError");
}
