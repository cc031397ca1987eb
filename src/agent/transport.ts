// How an agent moves packets to other peers. The agent hands a transport the batch it
// read from the TUN device (with the filter's verdicts), and the transport hands the
// agent batches it received. A real deployment plugs WireGuard in here; meshfilter ships
// only the unencrypted UDP transport (udp-transport.ts) for tests and benchmarks.

/** Called with a batch of received packets: packet i is buf[offsets[i], offsets[i] + lengths[i]). */
export type DeliverBatch = (buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number) => void;

export interface Transport {
  /**
   * Sends each packet i < count whose verdicts[i] is not 0 to the peer that owns its
   * destination address; packets with no such peer are counted and dropped. Returns how many were sent.
   * Must not keep references to `buf` after returning (the agent reuses it).
   */
  send(buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, verdicts: Uint8Array): number;
  /** Starts receiving; `deliver` is called on the event loop with each batch (valid only during the call). */
  start(deliver: DeliverBatch): void;
  /** Stops receiving and releases sockets. Idempotent; never throws. */
  close(): void;
  /** Running totals for metrics. */
  readonly counters: TransportCounters;
}

export interface TransportCounters {
  sentPackets: number;
  sentBytes: number;
  receivedPackets: number;
  receivedBytes: number;
  /** Accepted packets whose destination belongs to no known peer or route. */
  noRoute: number;
  /** Packets the socket refused (buffer full, unreachable). */
  sendErrors: number;
}
