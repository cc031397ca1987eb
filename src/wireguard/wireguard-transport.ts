// The agent's WireGuard transport: overlay packets travel to other peers sealed as
// WireGuard transport messages, on one UDP socket, and interoperate with wireguard-go
// and the Linux module. The protocol pieces live beside this file (handshake.ts,
// cookie.ts, replay-window.ts, allowed-ips.ts, timers.ts); this file moves batches:
//
//   send:    TUN batch -> cryptokey routing (destination -> peer) -> header, counter
//            -> one native seal call for the batch -> one sendmmsg (UDP GSO runs)
//   receive: recvmmsg (UDP GRO) -> handshake messages handled one by one; transport
//            messages: receiver index -> keypair, replay pre-check -> one native open
//            call -> replay window, roaming, inner source against the sender's
//            AllowedIPs -> the agent's deliver callback, with the plaintext in place
//
// Nothing on the data path allocates per packet. Handshakes, cookies and timers are the
// cold path: a few messages a minute per peer, in plain JavaScript objects.

import { randomInt } from "node:crypto";
import { formatIpv4, parseIpv4 } from "../packet/address.ts";
import { tcp4View } from "../packet/tcp4-view.ts";
import { loadNativeAddon, type NativeKeyTable, type NativeUdpSocket } from "../io/tun.ts";
import { UdpReceiveBatch } from "../io/udp-receive-batch.ts";
import type { DeliverBatch, Transport, TransportCounters } from "../agent/transport.ts";
import { AllowedIps } from "./allowed-ips.ts";
import type { WireGuardConfig } from "./config.ts";
import { CookieChecker } from "./cookie.ts";
import { consumeInitiation, consumeResponse, createInitiation, createResponse, timestampAfter, type LocalStatic, type TransportKeys } from "./handshake.ts";
import { formatKey } from "./keys.ts";
import { Keypair } from "./keypair.ts";
import {
  COOKIE_REPLY,
  INITIATION,
  MESSAGE_COOKIE_REPLY,
  MESSAGE_INITIATION,
  MESSAGE_RESPONSE,
  MESSAGE_TRANSPORT,
  PADDING_MULTIPLE,
  RESPONSE,
  TRANSPORT,
  messageType,
  readU32,
  writeType,
  writeU32,
} from "./messages.ts";
import { WireGuardPeer } from "./peer.ts";
import { DEFAULT_TIMERS, type WireGuardTimers } from "./timers.ts";

export interface WireGuardTransportOptions {
  config: WireGuardConfig;
  /** Local IPv4 address to bind the UDP socket to. Default "0.0.0.0". */
  listenAddress?: string;
  /** Largest overlay packet (the TUN MTU). */
  mtu: number;
  /** Datagrams per recvmmsg without offload. Default 64. */
  batchSize?: number;
  /** SO_RCVBUF / SO_SNDBUF in bytes. Default 4 MiB. */
  socketBuffer?: number;
  /** UDP GSO/GRO when the kernel has them. Default true. */
  offload?: boolean;
  /** Protocol timers; tests shorten them. Default DEFAULT_TIMERS. */
  timers?: Partial<WireGuardTimers>;
  /** Handshake messages received per second above which each must carry a valid mac2 (else a cookie reply answers it). Default 64. */
  handshakesBeforeCookies?: number;
  /** How often the timers are checked, in ms. Default 100. */
  tickMs?: number;
  /** Told of handshakes and peers' endpoints changing (for the agent's log). */
  onEvent?: (event: WireGuardEvent) => void;
}

export type WireGuardEvent =
  | { type: "handshake-complete"; peer: string; endpoint: string; initiator: boolean }
  | { type: "endpoint-changed"; peer: string; endpoint: string }
  | { type: "handshake-given-up"; peer: string; dropped: number };

export interface WireGuardCounters extends TransportCounters {
  handshakeInitiationsSent: number;
  handshakeResponsesSent: number;
  handshakesCompleted: number;
  cookieRepliesSent: number;
  cookieRepliesReceived: number;
  keepalivesSent: number;
  keepalivesReceived: number;
  /** Handshake messages whose mac1 was not made for our key, or that did not authenticate. */
  handshakesRejected: number;
  /** Initiations not newer than the peer's last (a replayed initiation), or too soon after it. */
  handshakesReplayed: number;
  /** Transport messages naming a receiver index we do not have (or keys past their age). */
  unknownReceiver: number;
  /** Transport messages that did not authenticate. */
  authenticationFailed: number;
  /** Transport messages whose counter was seen before or fell out of the window. */
  replayed: number;
  /** Decrypted packets whose inner source is not in the sending peer's AllowedIPs. */
  allowedIpsMismatch: number;
  /** Datagrams that are no WireGuard message, or decrypted packets that are no IPv4 packet. */
  malformed: number;
  /** Packets dropped while waiting for a handshake (queue full, or the handshake given up). */
  stagedDropped: number;
}

const UNDER_LOAD_HOLD_MS = 1000;

export class WireGuardTransport implements Transport {
  readonly counters: WireGuardCounters = {
    sentPackets: 0,
    sentBytes: 0,
    receivedPackets: 0,
    receivedBytes: 0,
    noRoute: 0,
    sendErrors: 0,
    handshakeInitiationsSent: 0,
    handshakeResponsesSent: 0,
    handshakesCompleted: 0,
    cookieRepliesSent: 0,
    cookieRepliesReceived: 0,
    keepalivesSent: 0,
    keepalivesReceived: 0,
    handshakesRejected: 0,
    handshakesReplayed: 0,
    unknownReceiver: 0,
    authenticationFailed: 0,
    replayed: 0,
    allowedIpsMismatch: 0,
    malformed: 0,
    stagedDropped: 0,
  };
  readonly publicKey: Uint8Array;
  readonly peers: WireGuardPeer[];
  private readonly local: LocalStatic;
  private readonly timers: WireGuardTimers;
  private readonly socket: NativeUdpSocket;
  private readonly keys: NativeKeyTable;
  private readonly allowed: AllowedIps;
  private readonly cookieChecker: CookieChecker;
  private readonly peerByKey = new Map<string, WireGuardPeer>();
  /** Our session indexes: keypairs by their local index, and initiations waiting for a response. */
  private readonly keypairs = new Map<number, Keypair>();
  private readonly initiations = new Map<number, WireGuardPeer>();
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;
  private readonly mtu: number;
  private readonly handshakesBeforeCookies: number;
  private handshakeWindowStart = 0;
  private handshakesInWindow = 0;
  private underLoadUntil = -Infinity;
  private readonly onEvent: (event: WireGuardEvent) => void;
  private readonly tickMs: number;
  private ticker: NodeJS.Timeout | null = null;
  private deliver: DeliverBatch | null = null;
  private closed = false;

  // Send scratch, grown to the largest batch seen.
  private sealBuf = new Uint8Array(0);
  private sealOffsets = new Uint32Array(0);
  private sealLengths = new Uint32Array(0);
  private sealSlots = new Int32Array(0);
  private dstAddrs = new Uint32Array(0);
  private dstPorts = new Uint32Array(0);
  // Receive scratch.
  private readonly received: UdpReceiveBatch;
  private readonly openSlots: Int32Array;
  private readonly openOk: Uint8Array;
  private readonly openKeypairs: (Keypair | null)[];
  private readonly deliverOffsets: Uint32Array;
  private readonly deliverLengths: Uint32Array;

  constructor(options: WireGuardTransportOptions) {
    const { config } = options;
    this.local = { privateKey: config.privateKey, publicKey: config.publicKey };
    this.publicKey = config.publicKey;
    this.timers = { ...DEFAULT_TIMERS, ...options.timers };
    this.mtu = options.mtu;
    this.handshakesBeforeCookies = options.handshakesBeforeCookies ?? 64;
    this.onEvent = options.onEvent ?? (() => {});
    this.tickMs = options.tickMs ?? 100;
    this.peers = config.peers.map((p, i) => new WireGuardPeer(i, p, this.timers.cookieRefreshTime));
    for (const peer of this.peers) this.peerByKey.set(formatKey(peer.remote.publicKey), peer);
    this.allowed = new AllowedIps(config.peers.map((p) => p.allowedIps));
    this.cookieChecker = new CookieChecker(config.publicKey, this.timers.cookieRefreshTime);

    const addon = loadNativeAddon();
    this.keys = new addon.KeyTable();
    const listen = options.listenAddress ?? "0.0.0.0";
    parseIpv4(listen);
    this.socket = new addon.UdpSocket(listen, config.listenPort, options.socketBuffer ?? 4 * 1024 * 1024, options.offload ?? true);
    // The largest message: a full MTU packet, padded, with its transport header and tag.
    this.received = new UdpReceiveBatch(this.socket, options.batchSize ?? 64, this.mtu + TRANSPORT.minSize + PADDING_MULTIPLE);
    const size = this.received.size;
    this.openSlots = new Int32Array(size);
    this.openOk = new Uint8Array(size);
    this.openKeypairs = new Array<Keypair | null>(size).fill(null);
    this.deliverOffsets = new Uint32Array(size);
    this.deliverLengths = new Uint32Array(size);
  }

  /** The bound UDP port (useful with ListenPort 0). */
  get localPort(): number {
    return this.socket.localPort;
  }

  /** True when UDP GSO/GRO are in use. */
  get offload(): boolean {
    return this.socket.offload;
  }

  // ---- sending -------------------------------------------------------------------

  send(buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, verdicts: Uint8Array): number {
    if (this.closed) return 0;
    this.growSendScratch(count);
    const { sealOffsets, sealLengths, sealSlots, dstAddrs, dstPorts, counters, timers } = this;
    const tcp4 = tcp4View;
    const now = Date.now();
    let cursor = 0;
    let sealed = 0;
    let bytes = 0;
    for (let i = 0; i < count; i++) {
      sealSlots[i] = -1;
      dstPorts[i] = 0;
      sealLengths[i] = 0;
      sealOffsets[i] = cursor;
      if (verdicts[i] === 0) continue;
      const off = offsets[i];
      const len = lengths[i];
      const p = len <= this.mtu && len >= 20 && tcp4.ipVersionByte(buf, off) === 4 ? this.allowed.lookup(tcp4.ipv4DstBytes(buf, off)) : -1;
      if (p < 0) {
        counters.noRoute++;
        continue;
      }
      const peer = this.peers[p];
      const kp = peer.current;
      if (kp === null || !this.canSend(kp, now) || peer.endpointPort === 0) {
        if (!peer.stage(buf, off, len)) counters.stagedDropped++;
        this.initiateHandshake(peer, now, false);
        continue;
      }
      // Padded to a multiple of 16, but never past the MTU (as wireguard-go pads).
      const padded = Math.min((len + PADDING_MULTIPLE - 1) & ~(PADDING_MULTIPLE - 1), this.mtu);
      this.writeTransportHeader(cursor, kp);
      sealSlots[i] = kp.sendSlot;
      sealLengths[i] = TRANSPORT.headerSize + padded + 16;
      dstAddrs[i] = peer.endpointAddress;
      dstPorts[i] = peer.endpointPort;
      cursor += sealLengths[i];
      sealed++;
      bytes += len;
      peer.lastSentAt = now;
      peer.lastDataSentAt = now;
      if (kp.initiator && (now - kp.createdAt >= timers.rekeyAfterTime || kp.sendCounter >= timers.rekeyAfterMessages)) {
        this.initiateHandshake(peer, now, false);
      }
    }
    if (sealed === 0) return 0;
    this.keys.seal(buf, offsets, lengths, count, this.sealBuf, sealOffsets, sealLengths, sealSlots);
    const sent = this.socket.send(this.sealBuf, sealOffsets, sealLengths, count, dstAddrs, dstPorts);
    counters.sentPackets += sent;
    if (sent === sealed) counters.sentBytes += bytes;
    else counters.sendErrors += sealed - sent;
    return sent;
  }

  private canSend(kp: Keypair, now: number): boolean {
    return now - kp.createdAt < this.timers.rejectAfterTime && kp.sendCounter < this.timers.rejectAfterMessages;
  }

  private writeTransportHeader(at: number, kp: Keypair): void {
    const out = this.sealBuf;
    writeType(out, at, MESSAGE_TRANSPORT);
    writeU32(out, at + TRANSPORT.receiver, kp.remoteIndex);
    const counter = kp.sendCounter++;
    writeU32(out, at + TRANSPORT.counter, counter >>> 0);
    writeU32(out, at + TRANSPORT.counter + 4, Math.floor(counter / 2 ** 32));
  }

  private growSendScratch(count: number): void {
    if (this.sealSlots.length >= count) return;
    this.sealBuf = new Uint8Array(count * (this.mtu + TRANSPORT.minSize + PADDING_MULTIPLE));
    this.sealOffsets = new Uint32Array(count);
    this.sealLengths = new Uint32Array(count);
    this.sealSlots = new Int32Array(count);
    this.dstAddrs = new Uint32Array(count);
    this.dstPorts = new Uint32Array(count);
  }

  /** Sends the packets that waited for keys (a batch through send()), or a keepalive to confirm the keys when none waited. */
  private flushStaged(peer: WireGuardPeer, now: number): void {
    const staged = peer.staged;
    peer.staged = [];
    if (staged.length === 0) {
      this.sendKeepalive(peer, now);
      return;
    }
    const total = staged.reduce((n, p) => n + p.length, 0);
    const buf = new Uint8Array(total);
    const offsets = new Uint32Array(staged.length);
    const lengths = new Uint32Array(staged.length);
    let at = 0;
    staged.forEach((p, i) => {
      buf.set(p, at);
      offsets[i] = at;
      lengths[i] = p.length;
      at += p.length;
    });
    this.send(buf, offsets, lengths, staged.length, new Uint8Array(staged.length).fill(1));
  }

  /** An empty transport message: keeps NAT mappings and tells the peer we are alive. */
  private sendKeepalive(peer: WireGuardPeer, now: number): void {
    const kp = peer.current;
    if (kp === null || !this.canSend(kp, now) || peer.endpointPort === 0) {
      this.initiateHandshake(peer, now, false);
      return;
    }
    this.growSendScratch(1);
    this.sealOffsets[0] = 0;
    this.sealLengths[0] = TRANSPORT.minSize;
    this.sealSlots[0] = kp.sendSlot;
    this.writeTransportHeader(0, kp);
    this.keys.seal(this.sealBuf, this.sealOffsets, this.zeroLength, 1, this.sealBuf, this.sealOffsets, this.sealLengths, this.sealSlots);
    this.sendMessage(this.sealBuf.subarray(0, TRANSPORT.minSize), peer.endpointAddress, peer.endpointPort);
    peer.lastSentAt = now;
    this.counters.keepalivesSent++;
  }

  private readonly zeroLength = new Uint32Array(1);

  private sendMessage(message: Uint8Array, address: number, port: number): void {
    const sent = this.socket.send(message, Uint32Array.of(0), Uint32Array.of(message.length), 1, Uint32Array.of(address), Uint32Array.of(port));
    if (sent !== 1) this.counters.sendErrors++;
  }

  // ---- handshakes ------------------------------------------------------------------

  /**
   * Sends a new initiation to `peer`, unless one went out less than rekeyTimeout ago
   * (`retry` is the timer's resend, which is due exactly then).
   */
  private initiateHandshake(peer: WireGuardPeer, now: number, retry: boolean): void {
    if (this.closed || peer.endpointPort === 0) return;
    if (!retry && now - peer.initiationSentAt < this.timers.rekeyTimeout) return;
    if (peer.initiation === null) peer.handshakeStartedAt = now;
    else this.initiations.delete(peer.initiation.localIndex);
    const localIndex = this.newIndex();
    const created = createInitiation(this.local, peer.remote, localIndex, now);
    if (created === null) return;
    peer.cookies.addMacs(created.message, INITIATION, now);
    peer.initiation = created.state;
    peer.initiationSentAt = now;
    this.initiations.set(localIndex, peer);
    this.sendMessage(created.message, peer.endpointAddress, peer.endpointPort);
    peer.lastSentAt = now;
    this.counters.handshakeInitiationsSent++;
  }

  /** True while handshake messages arrive faster than handshakesBeforeCookies a second (and for a second after). */
  private underLoad(now: number): boolean {
    if (now - this.handshakeWindowStart >= 1000) {
      this.handshakeWindowStart = now;
      this.handshakesInWindow = 0;
    }
    if (++this.handshakesInWindow > this.handshakesBeforeCookies) this.underLoadUntil = now + UNDER_LOAD_HOLD_MS;
    return now < this.underLoadUntil;
  }

  /** mac1, then (under load) mac2, of a handshake message; answers a missing mac2 with a cookie reply. */
  private passesMacs(message: Uint8Array, layout: typeof INITIATION | typeof RESPONSE, addr: number, port: number, now: number): boolean {
    if (!this.cookieChecker.checkMac1(message, layout)) {
      this.counters.handshakesRejected++;
      return false;
    }
    if (this.underLoad(now) && !this.cookieChecker.checkMac2(message, layout, addr, port, now)) {
      const sender = readU32(message, layout === INITIATION ? INITIATION.sender : RESPONSE.sender);
      this.sendMessage(this.cookieChecker.createReply(message, layout, sender, addr, port, now), addr, port);
      this.counters.cookieRepliesSent++;
      return false;
    }
    return true;
  }

  private onInitiation(message: Uint8Array, addr: number, port: number, now: number): void {
    if (!this.passesMacs(message, INITIATION, addr, port, now)) return;
    const consumed = consumeInitiation(this.local, message);
    const peer = consumed ? this.peerByKey.get(formatKey(consumed.remoteStatic)) : undefined;
    if (!consumed || !peer) {
      this.counters.handshakesRejected++;
      return;
    }
    if (!timestampAfter(consumed.timestamp, peer.lastTimestamp) || now - peer.lastInitiationConsumedAt < this.timers.handshakeInitiationRate) {
      this.counters.handshakesReplayed++;
      return;
    }
    const localIndex = this.newIndex();
    const response = createResponse(peer.remote, consumed, localIndex);
    if (!response) {
      this.counters.handshakesRejected++;
      return;
    }
    peer.lastTimestamp = consumed.timestamp;
    peer.lastInitiationConsumedAt = now;
    this.setEndpoint(peer, addr, port);
    peer.cookies.addMacs(response.message, RESPONSE, now);
    const kp = this.newKeypair(peer, response.keys, localIndex, consumed.senderIndex, false, now);
    if (peer.next !== null) this.dropKeypair(peer.next);
    peer.next = kp;
    this.sendMessage(response.message, addr, port);
    peer.lastSentAt = now;
    peer.lastReceivedAt = now;
    this.counters.handshakeResponsesSent++;
  }

  private onResponse(message: Uint8Array, addr: number, port: number, now: number): void {
    if (!this.passesMacs(message, RESPONSE, addr, port, now)) return;
    const receiver = readU32(message, RESPONSE.receiver);
    const peer = this.initiations.get(receiver);
    const keys = peer?.initiation ? consumeResponse(this.local, peer.remote, peer.initiation, message) : null;
    if (!peer || !keys) {
      this.counters.handshakesRejected++;
      return;
    }
    this.initiations.delete(receiver);
    peer.initiation = null;
    peer.initiationSentAt = -Infinity;
    const kp = this.newKeypair(peer, keys, receiver, readU32(message, RESPONSE.sender), true, now);
    // As wireguard-go: an unconfirmed next keypair becomes the previous one, else the current does.
    const old = peer.next ?? peer.current;
    if (peer.next !== null && peer.current !== null) this.dropKeypair(peer.current);
    if (peer.previous !== null) this.dropKeypair(peer.previous);
    peer.previous = old;
    peer.next = null;
    peer.current = kp;
    this.setEndpoint(peer, addr, port);
    peer.lastReceivedAt = now;
    this.counters.handshakesCompleted++;
    this.onEvent({ type: "handshake-complete", peer: formatKey(peer.remote.publicKey), endpoint: endpointText(addr, port), initiator: true });
    this.flushStaged(peer, now);
  }

  private onCookieReply(message: Uint8Array, now: number): void {
    const receiver = readU32(message, COOKIE_REPLY.receiver);
    const peer = this.initiations.get(receiver) ?? this.peerOfKeypair(receiver);
    if (peer && peer.cookies.consumeReply(message, now)) this.counters.cookieRepliesReceived++;
    else this.counters.handshakesRejected++;
  }

  private peerOfKeypair(index: number): WireGuardPeer | undefined {
    const kp = this.keypairs.get(index);
    return kp ? this.peers[kp.peer] : undefined;
  }

  private setEndpoint(peer: WireGuardPeer, addr: number, port: number): void {
    if (peer.endpointAddress === addr && peer.endpointPort === port) return;
    const known = peer.endpointPort !== 0;
    peer.endpointAddress = addr;
    peer.endpointPort = port;
    if (known) this.onEvent({ type: "endpoint-changed", peer: formatKey(peer.remote.publicKey), endpoint: endpointText(addr, port) });
  }

  private newIndex(): number {
    for (;;) {
      const index = randomInt(0, 2 ** 32 - 1);
      if (!this.keypairs.has(index) && !this.initiations.has(index)) return index;
    }
  }

  private newKeypair(peer: WireGuardPeer, keys: TransportKeys, localIndex: number, remoteIndex: number, initiator: boolean, now: number): Keypair {
    const sendSlot = this.freeSlots.pop() ?? this.nextSlot++;
    const receiveSlot = this.freeSlots.pop() ?? this.nextSlot++;
    this.keys.setKey(sendSlot, keys.send);
    this.keys.setKey(receiveSlot, keys.receive);
    keys.send.fill(0);
    keys.receive.fill(0);
    const kp = new Keypair(peer.index, sendSlot, receiveSlot, localIndex, remoteIndex, initiator, now);
    this.keypairs.set(localIndex, kp);
    return kp;
  }

  private dropKeypair(kp: Keypair): void {
    this.keys.clearKey(kp.sendSlot);
    this.keys.clearKey(kp.receiveSlot);
    this.freeSlots.push(kp.sendSlot, kp.receiveSlot);
    this.keypairs.delete(kp.localIndex);
  }

  // ---- receiving -------------------------------------------------------------------

  start(deliver: DeliverBatch): void {
    this.deliver = deliver;
    this.socket.onReadable(() => {
      // A bounded number of batches per readiness keeps the TUN side of the agent served too.
      for (let round = 0; round < 8; round++) {
        const n = this.received.receive();
        if (n === 0) return;
        this.receiveBatch(n);
      }
    });
    this.ticker = setInterval(() => this.tick(Date.now()), this.tickMs);
    this.ticker.unref();
    // Peers with a persistent keepalive are reached at once, as wg does.
    const now = Date.now();
    for (const peer of this.peers) if (peer.persistentKeepalive > 0) this.initiateHandshake(peer, now, false);
  }

  private receiveBatch(n: number): void {
    const { buf, offsets, lengths, srcAddrs, srcPorts } = this.received;
    const { openSlots, openKeypairs, counters } = this;
    const tcp4 = tcp4View;
    const now = Date.now();
    let toOpen = 0;
    for (let i = 0; i < n; i++) {
      openSlots[i] = -1;
      openKeypairs[i] = null;
      const off = offsets[i];
      const len = lengths[i];
      const type = messageType(buf, off, len);
      if (type === MESSAGE_TRANSPORT && len >= TRANSPORT.minSize) {
        const kp = this.keypairs.get(readU32(buf, off + TRANSPORT.receiver));
        if (kp === undefined || now - kp.createdAt >= this.timers.rejectAfterTime) {
          counters.unknownReceiver++;
          continue;
        }
        if (!kp.replay.mayAccept(counterAt(buf, off))) {
          counters.replayed++;
          continue;
        }
        openSlots[i] = kp.receiveSlot;
        openKeypairs[i] = kp;
        toOpen++;
      } else if (type === MESSAGE_INITIATION && len === INITIATION.size) {
        this.onInitiation(buf.slice(off, off + len), srcAddrs[i], srcPorts[i], now);
      } else if (type === MESSAGE_RESPONSE && len === RESPONSE.size) {
        this.onResponse(buf.slice(off, off + len), srcAddrs[i], srcPorts[i], now);
      } else if (type === MESSAGE_COOKIE_REPLY && len === COOKIE_REPLY.size) {
        this.onCookieReply(buf.slice(off, off + len), now);
      } else {
        counters.malformed++;
      }
    }
    if (toOpen === 0) return;
    this.keys.open(buf, offsets, lengths, n, openSlots, this.openOk);
    const { deliverOffsets, deliverLengths, openOk } = this;
    let m = 0;
    for (let i = 0; i < n; i++) {
      const kp = openKeypairs[i];
      if (kp === null) continue;
      openKeypairs[i] = null;
      if (openOk[i] === 0) {
        counters.authenticationFailed++;
        continue;
      }
      const off = offsets[i];
      if (!kp.replay.accept(counterAt(buf, off))) {
        counters.replayed++;
        continue;
      }
      const peer = this.peers[kp.peer];
      if (peer.next === kp) this.confirmNext(peer, now);
      this.setEndpoint(peer, srcAddrs[i], srcPorts[i]);
      peer.lastReceivedAt = now;
      if (kp.initiator && now - kp.createdAt >= this.timers.rejectAfterTime - this.timers.keepaliveTimeout - this.timers.rekeyTimeout) {
        this.initiateHandshake(peer, now, false);
      }
      const body = lengths[i] - TRANSPORT.minSize;
      if (body === 0) {
        counters.keepalivesReceived++;
        continue;
      }
      const inner = off + TRANSPORT.headerSize;
      const total = body >= 20 && tcp4.ipVersionByte(buf, inner) === 4 ? tcp4.ipv4TotalLengthBytes(buf, inner) : 0;
      if (total < 20 || total > body) {
        counters.malformed++;
        continue;
      }
      if (this.allowed.lookup(tcp4.ipv4SrcBytes(buf, inner)) !== kp.peer) {
        counters.allowedIpsMismatch++;
        continue;
      }
      peer.lastDataReceivedAt = now;
      deliverOffsets[m] = inner;
      deliverLengths[m] = total;
      counters.receivedBytes += total;
      m++;
    }
    counters.receivedPackets += m;
    if (m > 0 && this.deliver !== null) this.deliver(buf, deliverOffsets, deliverLengths, m);
  }

  /** The initiator's first message under our answered handshake's keys: they become current. */
  private confirmNext(peer: WireGuardPeer, now: number): void {
    if (peer.previous !== null) this.dropKeypair(peer.previous);
    peer.previous = peer.current;
    peer.current = peer.next;
    peer.next = null;
    this.counters.handshakesCompleted++;
    this.onEvent({ type: "handshake-complete", peer: formatKey(peer.remote.publicKey), endpoint: endpointText(peer.endpointAddress, peer.endpointPort), initiator: false });
    if (peer.staged.length > 0) this.flushStaged(peer, now);
  }

  // ---- timers ----------------------------------------------------------------------

  /** The protocol's timers (paper, section 6.2-6.5), checked every tickMs for every peer. */
  private tick(now: number): void {
    if (this.closed) return;
    const t = this.timers;
    for (const peer of this.peers) {
      // An unanswered initiation: resend after rekeyTimeout (+ jitter), give up after rekeyAttemptTime.
      if (peer.initiation !== null && now - peer.initiationSentAt >= t.rekeyTimeout + randomInt(0, t.rekeyTimeoutJitter + 1)) {
        if (now - peer.handshakeStartedAt >= t.rekeyAttemptTime) {
          this.initiations.delete(peer.initiation.localIndex);
          peer.initiation = null;
          const dropped = peer.staged.length;
          this.counters.stagedDropped += dropped;
          peer.staged = [];
          this.onEvent({ type: "handshake-given-up", peer: formatKey(peer.remote.publicKey), dropped });
        } else {
          this.initiateHandshake(peer, now, true);
        }
      }
      // Data received and nothing sent back for keepaliveTimeout: a keepalive.
      if (peer.lastDataReceivedAt > peer.lastSentAt && now - peer.lastDataReceivedAt >= t.keepaliveTimeout) this.sendKeepalive(peer, now);
      // Data sent and nothing heard for keepaliveTimeout + rekeyTimeout: the keys may be dead; a new handshake.
      if (peer.lastDataSentAt > peer.lastReceivedAt && now - peer.lastDataSentAt >= t.keepaliveTimeout + t.rekeyTimeout && peer.initiation === null) {
        peer.lastDataSentAt = -Infinity;
        this.initiateHandshake(peer, now, false);
      }
      if (peer.persistentKeepalive > 0 && now - peer.lastSentAt >= peer.persistentKeepalive * 1000) this.sendKeepalive(peer, now);
      // Keys past three times rejectAfterTime are erased.
      for (const slot of ["previous", "current", "next"] as const) {
        const kp = peer[slot];
        if (kp !== null && now - kp.createdAt >= 3 * t.rejectAfterTime) {
          this.dropKeypair(kp);
          peer[slot] = null;
        }
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.ticker !== null) clearInterval(this.ticker);
    for (const kp of this.keypairs.values()) this.dropKeypair(kp);
    this.socket.close();
  }

  /** A peer's state for `wg show`-like output and tests. */
  peerStatus(index: number): { publicKey: string; endpoint: string | null; hasKeys: boolean; lastHandshakeAt: number | null } {
    const peer = this.peers[index];
    return {
      publicKey: formatKey(peer.remote.publicKey),
      endpoint: peer.endpointPort === 0 ? null : endpointText(peer.endpointAddress, peer.endpointPort),
      hasKeys: peer.current !== null,
      lastHandshakeAt: peer.current?.createdAt ?? null,
    };
  }
}

/** A transport message's 64-bit counter as a number (exact below 2^53, and ReplayWindow refuses the rest). */
function counterAt(buf: Uint8Array, off: number): number {
  return readU32(buf, off + TRANSPORT.counter) + readU32(buf, off + TRANSPORT.counter + 4) * 2 ** 32;
}

function endpointText(addr: number, port: number): string {
  return `${formatIpv4(addr)}:${port}`;
}
