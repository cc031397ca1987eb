// What the transport keeps per configured peer: its keys and cookie state, its current
// underlay endpoint (updated by roaming), the handshake in progress, the keypairs
// (previous, current, next, as wireguard-go rotates them), the packets waiting for a
// handshake, and the times the timers compare against.

import { parseIpv4 } from "../packet/address.ts";
import type { WireGuardPeerConfig } from "./config.ts";
import { CookieGenerator } from "./cookie.ts";
import { NO_PRESHARED_KEY, type InitiationState, type RemoteStatic } from "./handshake.ts";
import type { Keypair } from "./keypair.ts";

/** Packets kept per peer while its handshake is under way (wireguard-go's QueueStagedSize). */
export const STAGED_LIMIT = 128;

export class WireGuardPeer {
  readonly remote: RemoteStatic;
  readonly cookies: CookieGenerator;
  /** Underlay endpoint as uint32 IPv4 and port; port 0 = not known yet. */
  endpointAddress = 0;
  endpointPort = 0;
  /** Seconds between persistent keepalives, 0 = off. */
  readonly persistentKeepalive: number;

  previous: Keypair | null = null;
  current: Keypair | null = null;
  /** Responder side: keys of a handshake we answered, used once the initiator's first message under them arrives. */
  next: Keypair | null = null;

  /** The initiation we sent and wait an answer for. */
  initiation: InitiationState | null = null;
  initiationSentAt = -Infinity;
  /** When the current attempt to get keys began (retries stop after rekeyAttemptTime). */
  handshakeStartedAt = -Infinity;
  /** Timestamp of the last initiation accepted from this peer (a replayed one is not newer). */
  lastTimestamp: Uint8Array | null = null;
  lastInitiationConsumedAt = -Infinity;

  /** Any message sent / received (authenticated), and data (non-keepalive) messages. */
  lastSentAt = -Infinity;
  lastReceivedAt = -Infinity;
  lastDataSentAt = -Infinity;
  lastDataReceivedAt = -Infinity;

  /** Copies of packets waiting for keys. */
  staged: Uint8Array[] = [];

  constructor(
    readonly index: number,
    config: WireGuardPeerConfig,
    cookieRefreshMs: number,
  ) {
    this.remote = { publicKey: config.publicKey, presharedKey: config.presharedKey ?? NO_PRESHARED_KEY };
    this.cookies = new CookieGenerator(config.publicKey, cookieRefreshMs);
    this.persistentKeepalive = config.persistentKeepalive;
    if (config.endpoint) {
      this.endpointAddress = parseIpv4(config.endpoint.address);
      this.endpointPort = config.endpoint.port;
    }
  }

  /** Keeps a copy of a packet until keys arrive; the oldest goes when the queue is full. Returns false when one was dropped. */
  stage(buf: Uint8Array, offset: number, length: number): boolean {
    this.staged.push(buf.slice(offset, offset + length));
    if (this.staged.length <= STAGED_LIMIT) return true;
    this.staged.shift();
    return false;
  }
}
