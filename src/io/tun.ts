// A Linux TUN device through meshfilter's native addon (native/): open or attach a
// device by name, read many packets per readiness into one caller-owned buffer, write
// many packets per call, close idempotently. Readiness comes from libuv (uv_poll on the
// device's non-blocking fd), so no thread-pool thread ever blocks on a read.

import { createRequire } from "node:module";

/** What the addon (native/src/addon.cc) exports; used by this file and the agent's UDP transport. */
export interface NativeAddon {
  TunDevice: new (name: string, multiQueue: boolean, clonePath: string, offload: boolean) => NativeTun;
  UdpSocket: new (address: string, port: number, bufferBytes?: number, offload?: boolean) => NativeUdpSocket;
  /** WireGuard's data-path AEAD (native/src/wireguard_crypto.h). */
  KeyTable: new () => NativeKeyTable;
  /** Keyed BLAKE2s with an output of out.length bytes (WireGuard's MAC). */
  blake2sMac(key: Uint8Array, data: Uint8Array, out: Uint8Array): void;
  /** Copies src[srcOffset, +length) to dst at dstOffset without making a view (native/src/copy_bytes.h). */
  copyBytes(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number, length: number): number;
}

/** ChaCha20-Poly1305 keys by slot; seals and opens WireGuard transport messages a batch per call. */
export interface NativeKeyTable {
  setKey(slot: number, key: Uint8Array): void;
  clearKey(slot: number): void;
  seal(
    src: Uint8Array,
    srcOffsets: Uint32Array,
    srcLengths: Uint32Array,
    count: number,
    dst: Uint8Array,
    dstOffsets: Uint32Array,
    dstLengths: Uint32Array,
    slots: Int32Array,
  ): number;
  open(buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, slots: Int32Array, ok: Uint8Array): number;
}

interface NativePolled {
  readonly fd: number;
  readonly closed: boolean;
  onReadable(callback: (error?: string) => void): void;
  pause(): void;
  close(): void;
}

interface NativeTun extends NativePolled {
  readonly name: string;
  readonly offload: boolean;
  readonly mergedWrites: number;
  readonly splitReads: number;
  read(buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, maxPackets: number, packetRoom: number): number;
  write(buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, verdicts?: Uint8Array): number;
}

/** The batched UDP socket of the addon (recvmmsg/sendmmsg); IPv4 addresses as uint32 numbers. */
export interface NativeUdpSocket extends NativePolled {
  readonly localPort: number;
  /** True when UDP GSO sends and GRO receives are on (asked for, and the kernel has them). */
  readonly offload: boolean;
  recv(
    buf: Uint8Array,
    offsets: Uint32Array,
    lengths: Uint32Array,
    maxPackets: number,
    slotSize: number,
    srcAddrs: Uint32Array,
    srcPorts: Uint32Array,
  ): number;
  send(buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, dstAddrs: Uint32Array, dstPorts: Uint32Array): number;
}

let addon: NativeAddon | undefined;

/** Loads native/build/Release/meshfilter_native.node once, with a clear error when it was not built. */
export function loadNativeAddon(): NativeAddon {
  if (addon) return addon;
  const require = createRequire(import.meta.url);
  try {
    addon = require("../../native/build/Release/meshfilter_native.node") as NativeAddon;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(
      `meshfilter's native addon is not built (${why}); build it with 'npx node-gyp rebuild -C native' ` +
        `(npm ci does this; it needs python3, make and g++)`,
    );
  }
  return addon;
}

export interface TunOptions {
  /** Open one queue of a multi-queue device (IFF_MULTI_QUEUE); every opener must agree. Default false. */
  multiQueue?: boolean;
  /** The clone device to open. Default "/dev/net/tun". */
  clonePath?: string;
  /** Bytes a read must have free before taking another packet: the largest packet expected (the MTU). Default 65535. */
  packetRoom?: number;
  /**
   * Kernel offloads through a virtio-net header (IFF_VNET_HDR): reads take the kernel's large
   * TCPv4 packets (TSO, up to 64 KiB) and split them into ordinary segments; writes hand the
   * kernel runs of TCP segments merged into one GSO packet (userspace GRO). JavaScript still
   * sees plain IP packets; the kernel's TCP paths run once per 64 KiB instead of per packet.
   * Call read() until it returns 0: a large packet that did not fit one batch waits for the next call.
   * Give reads room for one large packet (64 KiB + 64 headers, and 64+ offsets): one that cannot fit
   * even an empty batch is dropped. Default false.
   */
  offload?: boolean;
}

/** A failure opening or using a TUN device: `code` is the errno name (ENOENT, EPERM, EBUSY, EINVAL...). */
export class TunError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly device: string,
  ) {
    super(message);
    this.name = "TunError";
  }
}

export interface TunDevice {
  /** The interface name the kernel gave (the asked name, or the filled-in pattern such as "mf%d"). */
  readonly name: string;
  readonly fd: number;
  readonly closed: boolean;
  /** True when opened with offload (writes merge TCP runs). */
  readonly offload: boolean;
  /** Writes that carried a merged run of TCP segments (offload only): packets written / merged writes shows the gain. */
  readonly mergedWrites: number;
  /** Large TCP packets from the kernel (TSO) read and split into segments (offload only). */
  readonly splitReads: number;
  /**
   * Reads the packets that are ready, back to back into `buf`, up to `maxPackets` (default: the
   * length of `offsets`) and while `packetRoom` bytes remain; packet i is buf[offsets[i], offsets[i] + lengths[i]).
   * Returns how many were read (0 when none is ready). Never blocks. Read until it returns 0.
   */
  read(buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, maxPackets?: number): number;
  /** Writes packets 0..count-1 (those with verdicts[i] != 0 when `verdicts` is given); returns how many the kernel took. */
  write(buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, verdicts?: Uint8Array): number;
  /** Calls `callback` on the event loop whenever packets are waiting; it should read until read() returns 0 or a batch is full. */
  onReadable(callback: () => void): void;
  /** Stops readiness callbacks (the device stays open); onReadable() resumes. */
  pause(): void;
  /** Stops callbacks and closes the fd. Idempotent; never throws. A non-persistent device disappears. */
  close(): void;
}

/** Opens (creating if needed) or attaches to the TUN device `name` (IFF_TUN | IFF_NO_PI). Throws TunError. */
export function openTun(name: string, options: TunOptions = {}): TunDevice {
  const native = loadNativeAddon();
  let tun: NativeTun;
  try {
    tun = new native.TunDevice(name, options.multiQueue ?? false, options.clonePath ?? "/dev/net/tun", options.offload ?? false);
  } catch (err) {
    const e = err as Error & { code?: string };
    throw new TunError(e.message, e.code ?? "ERR_TUN", name);
  }
  const packetRoom = options.packetRoom ?? 65535;
  return {
    get name() {
      return tun.name;
    },
    get fd() {
      return tun.fd;
    },
    get closed() {
      return tun.closed;
    },
    get offload() {
      return tun.offload;
    },
    get mergedWrites() {
      return tun.mergedWrites;
    },
    get splitReads() {
      return tun.splitReads;
    },
    read(buf, offsets, lengths, maxPackets = offsets.length) {
      return tun.read(buf, offsets, lengths, maxPackets, packetRoom);
    },
    write(buf, offsets, lengths, count, verdicts) {
      return verdicts ? tun.write(buf, offsets, lengths, count, verdicts) : tun.write(buf, offsets, lengths, count);
    },
    onReadable(callback) {
      tun.onReadable(() => callback());
    },
    pause() {
      tun.pause();
    },
    close() {
      try {
        tun.close();
      } catch {
        // Closing must never throw (it runs from shutdown paths); the addon's close does not, this is belt and braces.
      }
    },
  };
}
