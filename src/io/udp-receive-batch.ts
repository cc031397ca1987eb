// Where one batched receive (recvmmsg) of the addon's UDP socket lands: a buffer of
// slots, each datagram's offset and length, and its source address and port. Both
// transports (the plaintext test transport and WireGuard) read through one.

import type { NativeUdpSocket } from "./tun.ts";

// With GRO, one received message may hold up to 64 datagrams: read into 64 KiB slots.
const GRO_SLOT = 65536;
const GRO_MESSAGES = 8;
const GRO_MAX_SEGMENTS = 64;

export class UdpReceiveBatch {
  /** The most datagrams one receive returns (with GRO: segments of all messages). */
  readonly size: number;
  private readonly slotSize: number;
  readonly buf: Uint8Array;
  readonly offsets: Uint32Array;
  readonly lengths: Uint32Array;
  /** Sources as IPv4 uint32 and port, per datagram. */
  readonly srcAddrs: Uint32Array;
  readonly srcPorts: Uint32Array;

  /**
   * For `socket`: with GRO (socket.offload) 8 messages of 64 KiB slots; without it
   * `batchSize` slots, 64-byte aligned and a little larger than `largestDatagram`, so that
   * an over-long datagram shows as truncated.
   */
  constructor(
    private readonly socket: NativeUdpSocket,
    batchSize: number,
    largestDatagram: number,
  ) {
    if (socket.offload) {
      this.slotSize = GRO_SLOT;
      this.size = GRO_MESSAGES * GRO_MAX_SEGMENTS;
      this.buf = new Uint8Array(GRO_MESSAGES * GRO_SLOT);
    } else {
      this.size = batchSize;
      this.slotSize = (largestDatagram + 64 + 63) & ~63;
      this.buf = new Uint8Array(batchSize * this.slotSize);
    }
    this.offsets = new Uint32Array(this.size);
    this.lengths = new Uint32Array(this.size);
    this.srcAddrs = new Uint32Array(this.size);
    this.srcPorts = new Uint32Array(this.size);
  }

  /** One receive into the batch: how many datagrams arrived (0: none waiting). */
  receive(): number {
    return this.socket.recv(this.buf, this.offsets, this.lengths, this.size, this.slotSize, this.srcAddrs, this.srcPorts);
  }
}
