// What the replay loop counts, per packet, in plain number fields and typed arrays
// (no maps, no strings: this is updated millions of times a second). Only the
// per-direction, per-verdict counts are kept; totals are sums, computed when read. The
// summary (summary.ts) turns it into names and tables once, at the end.

/** Number slots for per-reason counts; the engine's reason codes are small integers. */
const REASON_SLOTS = 64;

export class ReplayCounters {
  inboundAccepted = 0;
  inboundDropped = 0;
  outboundAccepted = 0;
  outboundDropped = 0;
  /** IP bytes (the IP header and what follows) of accepted / dropped packets. */
  acceptedBytes = 0;
  droppedBytes = 0;
  /** Neither from nor to this peer (nor routed by it), or not IP at all: counted, not judged. */
  notForPeer = 0;
  /** Of those, the frames that carried no IPv4/IPv6 packet (ARP, LLDP...). */
  nonIp = 0;
  /** Accepted / dropped packets by the engine's reason code. */
  readonly acceptedByReason = new Float64Array(REASON_SLOTS);
  readonly droppedByReason = new Float64Array(REASON_SLOTS);
  /** Capture time of the first and last (latest) packet, ms since the epoch; NaN before any. */
  firstTimeMs = Number.NaN;
  lastTimeMs = Number.NaN;
  /** File offset just past the last record read: how far the replay got. */
  bytesRead = 0;

  get accepted(): number {
    return this.inboundAccepted + this.outboundAccepted;
  }

  get dropped(): number {
    return this.inboundDropped + this.outboundDropped;
  }

  /** Packets handed to the engine (inbound or outbound). */
  get judged(): number {
    return this.accepted + this.dropped;
  }

  /** Packets the capture reader returned. */
  get read(): number {
    return this.judged + this.notForPeer;
  }

  /** Count one packet's capture time (keeps the first and the latest). */
  countTime(timeMs: number): void {
    if (this.read === 0) this.firstTimeMs = this.lastTimeMs = timeMs;
    else if (timeMs > this.lastTimeMs) this.lastTimeMs = timeMs;
  }

  /** Count one judged packet. `dir` is the engine's DIR_IN (1) or DIR_OUT (2). */
  countVerdict(dir: number, verdict: number, reason: number, ipBytes: number): void {
    const slot = reason >= 0 && reason < REASON_SLOTS ? reason : REASON_SLOTS - 1;
    if (verdict === 1) {
      if (dir === 1) this.inboundAccepted++;
      else this.outboundAccepted++;
      this.acceptedBytes += ipBytes;
      this.acceptedByReason[slot]++;
    } else {
      if (dir === 1) this.inboundDropped++;
      else this.outboundDropped++;
      this.droppedBytes += ipBytes;
      this.droppedByReason[slot]++;
    }
  }

  /** Count one packet that is not for this peer; `isIp` false for frames carrying no IP packet. */
  countNotForPeer(isIp: boolean): void {
    this.notForPeer++;
    if (!isIp) this.nonIp++;
  }
}
