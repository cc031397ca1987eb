// A TUN device without the kernel, for driving the agent's PacketLoop in tests and
// benchmarks: fire() makes one batch readable and runs the readiness callback, as libuv
// would; the next read() hands the batch out and later reads find nothing until the next
// fire(). Subclasses say what a batch is (fill) and what a write does.

import type { TunDevice } from "../../src/io/tun.ts";

export abstract class StandInTun implements TunDevice {
  readonly fd = -1;
  readonly offload = false;
  readonly mergedWrites = 0;
  readonly splitReads = 0;
  closed = false;
  private ready = false;
  private callback: (() => void) | null = null;

  constructor(readonly name: string) {}

  /** Lays one batch into the caller's arrays; returns how many packets. */
  protected abstract fill(buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array): number;

  abstract write(buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, verdicts?: Uint8Array): number;

  read(buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array): number {
    if (!this.ready) return 0;
    this.ready = false;
    return this.fill(buf, offsets, lengths);
  }

  onReadable(callback: () => void): void {
    this.callback = callback;
  }

  pause(): void {}

  close(): void {
    this.closed = true;
  }

  /** Makes one batch ready and runs the readiness callback. */
  fire(): void {
    this.ready = true;
    this.callback?.();
  }
}
