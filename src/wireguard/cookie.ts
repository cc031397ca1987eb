// Handshake messages carry two MACs (WireGuard paper, section 5.4.4 and 5.4.7):
// - mac1, keyed by the receiver's public key: anyone who knows whom they talk to can
//   make it, so a responder drops, before any Curve25519 work, messages from those who don't;
// - mac2, keyed by a cookie: under load a responder answers a handshake with a cookie
//   reply instead of doing the work, the cookie being a MAC of the sender's address
//   under a secret that changes every two minutes, sealed to the sender's mac1.
//   Only someone who receives at that address can then make a valid mac2.
// CookieChecker is the receiving side (this device's key); CookieGenerator the sending
// side, one per peer.

import { randomBytes } from "node:crypto";
import { COOKIE_REPLY, MESSAGE_COOKIE_REPLY, writeType, writeU32 } from "./messages.ts";
import { hash, mac, MAC_LENGTH, xaeadOpen, xaeadSeal } from "./noise-crypto.ts";

const LABEL_MAC1 = new TextEncoder().encode("mac1----");
const LABEL_COOKIE = new TextEncoder().encode("cookie--");
const NONCE_LENGTH = 24;

/** Where mac1 and mac2 sit in a handshake message (INITIATION or RESPONSE of messages.ts). */
export interface MacLayout {
  mac1: number;
  mac2: number;
}

function equal(a: Uint8Array, b: Uint8Array, bOffset: number): boolean {
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[bOffset + i];
  return diff === 0;
}

function addressBytes(addr: number, port: number): Uint8Array {
  return Uint8Array.of(addr >>> 24, addr >>> 16, addr >>> 8, addr, port >>> 8, port);
}

export class CookieChecker {
  private readonly mac1Key: Uint8Array;
  private readonly sealKey: Uint8Array;
  private secret = new Uint8Array(32);
  private secretSetAt = -Infinity;

  constructor(
    localPublicKey: Uint8Array,
    private readonly refreshMs: number,
  ) {
    this.mac1Key = hash(LABEL_MAC1, localPublicKey);
    this.sealKey = hash(LABEL_COOKIE, localPublicKey);
  }

  /** True when the message's mac1 was made for this device's public key. */
  checkMac1(message: Uint8Array, layout: MacLayout): boolean {
    return equal(mac(this.mac1Key, message.subarray(0, layout.mac1)), message, layout.mac1);
  }

  /** True when the message's mac2 was made with the cookie of the address it came from. */
  checkMac2(message: Uint8Array, layout: MacLayout, addr: number, port: number, nowMs: number): boolean {
    return equal(mac(this.cookieFor(addr, port, nowMs), message.subarray(0, layout.mac2)), message, layout.mac2);
  }

  /** The cookie reply to `message` (from addr:port, with sender index `senderIndex`). */
  createReply(message: Uint8Array, layout: MacLayout, senderIndex: number, addr: number, port: number, nowMs: number): Uint8Array {
    const reply = new Uint8Array(COOKIE_REPLY.size);
    writeType(reply, 0, MESSAGE_COOKIE_REPLY);
    writeU32(reply, COOKIE_REPLY.receiver, senderIndex);
    const nonce = randomBytes(NONCE_LENGTH);
    reply.set(nonce, COOKIE_REPLY.nonce);
    const sealed = xaeadSeal(this.sealKey, nonce, this.cookieFor(addr, port, nowMs), message.subarray(layout.mac1, layout.mac1 + MAC_LENGTH));
    reply.set(sealed, COOKIE_REPLY.cookie);
    return reply;
  }

  private cookieFor(addr: number, port: number, nowMs: number): Uint8Array {
    if (nowMs - this.secretSetAt >= this.refreshMs) {
      this.secret = new Uint8Array(randomBytes(32));
      this.secretSetAt = nowMs;
    }
    return mac(this.secret, addressBytes(addr, port));
  }
}

export class CookieGenerator {
  private readonly mac1Key: Uint8Array;
  private readonly openKey: Uint8Array;
  private cookie: Uint8Array | null = null;
  private cookieAt = 0;
  /** The mac1 of the last handshake message sent: a cookie reply is sealed to it. */
  private lastMac1: Uint8Array | null = null;

  constructor(
    remotePublicKey: Uint8Array,
    private readonly refreshMs: number,
  ) {
    this.mac1Key = hash(LABEL_MAC1, remotePublicKey);
    this.openKey = hash(LABEL_COOKIE, remotePublicKey);
  }

  /** Fills in mac1, and mac2 when a cookie younger than the refresh time is held (else mac2 stays zero). */
  addMacs(message: Uint8Array, layout: MacLayout, nowMs: number): void {
    const mac1 = mac(this.mac1Key, message.subarray(0, layout.mac1));
    message.set(mac1, layout.mac1);
    this.lastMac1 = mac1;
    if (this.cookie !== null && nowMs - this.cookieAt < this.refreshMs) {
      message.set(mac(this.cookie, message.subarray(0, layout.mac2)), layout.mac2);
    } else {
      message.fill(0, layout.mac2, layout.mac2 + MAC_LENGTH);
    }
  }

  /** Takes the cookie of a reply to our last message; false when it does not open. */
  consumeReply(reply: Uint8Array, nowMs: number): boolean {
    if (reply.length !== COOKIE_REPLY.size || this.lastMac1 === null) return false;
    const cookie = xaeadOpen(
      this.openKey,
      reply.subarray(COOKIE_REPLY.nonce, COOKIE_REPLY.nonce + NONCE_LENGTH),
      reply.subarray(COOKIE_REPLY.cookie, COOKIE_REPLY.size),
      this.lastMac1,
    );
    if (!cookie) return false;
    this.cookie = cookie;
    this.cookieAt = nowMs;
    return true;
  }
}
