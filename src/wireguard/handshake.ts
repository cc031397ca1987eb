// The Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s handshake as WireGuard runs it (paper,
// section 5.4.2-5.4.5): the initiator's first message, the responder's answer, and the
// transport keys both derive. Pure functions of keys and messages: the transport owns
// indexes, timers and which peer a message belongs to; cookie.ts adds and checks mac1/mac2.

import { dh, generatePrivateKey, publicKeyOf, sameKey, KEY_LENGTH } from "./keys.ts";
import { INITIATION, MESSAGE_INITIATION, MESSAGE_RESPONSE, RESPONSE, readU32, writeType, writeU32 } from "./messages.ts";
import { aeadOpen, aeadSeal, hash, kdf1, kdf2, kdf3, tai64n } from "./noise-crypto.ts";

const CONSTRUCTION = new TextEncoder().encode("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s");
const IDENTIFIER = new TextEncoder().encode("WireGuard v1 zx2c4 Jason@zx2c4.com");
/** C_i = HASH(CONSTRUCTION), H_i = HASH(C_i || IDENTIFIER): the same for every handshake. */
const INITIAL_CHAIN = hash(CONSTRUCTION);
const INITIAL_HASH = hash(INITIAL_CHAIN, IDENTIFIER);
const EMPTY = new Uint8Array(0);
const ZERO_KEY = new Uint8Array(KEY_LENGTH);

/** This device's static key pair. */
export interface LocalStatic {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

/** What the handshake needs to know of a configured peer. */
export interface RemoteStatic {
  publicKey: Uint8Array;
  /** 32 zero bytes when the peer has no PresharedKey. */
  presharedKey: Uint8Array;
}

/** The two keys a finished handshake gives one side. */
export interface TransportKeys {
  send: Uint8Array;
  receive: Uint8Array;
}

/** What an initiator keeps between sending its initiation and receiving the response. */
export interface InitiationState {
  chain: Uint8Array;
  hash: Uint8Array;
  ephemeralPrivate: Uint8Array;
  localIndex: number;
}

/** An initiation that decrypted: who sent it, and what the responder needs to answer. */
export interface ConsumedInitiation {
  remoteStatic: Uint8Array;
  remoteEphemeral: Uint8Array;
  senderIndex: number;
  /** TAI64N, 12 bytes: compared against the peer's last to refuse a replayed initiation. */
  timestamp: Uint8Array;
  chain: Uint8Array;
  hash: Uint8Array;
}

/**
 * Writes a handshake initiation from `local` to `remote` (mac1/mac2 left zero for
 * cookie.ts) and returns the state the response will need. Null only when `remote`'s
 * public key is a low-order point.
 */
export function createInitiation(
  local: LocalStatic,
  remote: RemoteStatic,
  localIndex: number,
  nowMs: number,
): { message: Uint8Array; state: InitiationState } | null {
  const message = new Uint8Array(INITIATION.size);
  writeType(message, 0, MESSAGE_INITIATION);
  writeU32(message, INITIATION.sender, localIndex);
  let h = hash(INITIAL_HASH, remote.publicKey);
  const ephemeralPrivate = generatePrivateKey();
  const ephemeralPublic = publicKeyOf(ephemeralPrivate);
  let c = kdf1(INITIAL_CHAIN, ephemeralPublic);
  message.set(ephemeralPublic, INITIATION.ephemeral);
  h = hash(h, ephemeralPublic);
  const es = dh(ephemeralPrivate, remote.publicKey);
  if (!es) return null;
  let key: Uint8Array;
  [c, key] = kdf2(c, es);
  const sealedStatic = aeadSeal(key, 0, local.publicKey, h);
  message.set(sealedStatic, INITIATION.static);
  h = hash(h, sealedStatic);
  const ss = dh(local.privateKey, remote.publicKey);
  if (!ss) return null;
  [c, key] = kdf2(c, ss);
  const sealedTimestamp = aeadSeal(key, 0, tai64n(nowMs), h);
  message.set(sealedTimestamp, INITIATION.timestamp);
  h = hash(h, sealedTimestamp);
  return { message, state: { chain: c, hash: h, ephemeralPrivate, localIndex } };
}

/** Decrypts an initiation addressed to `local` (its mac1 already checked). Null when it does not authenticate. */
export function consumeInitiation(local: LocalStatic, message: Uint8Array): ConsumedInitiation | null {
  if (message.length !== INITIATION.size || message[0] !== MESSAGE_INITIATION) return null;
  let h = hash(INITIAL_HASH, local.publicKey);
  const remoteEphemeral = message.slice(INITIATION.ephemeral, INITIATION.ephemeral + KEY_LENGTH);
  let c = kdf1(INITIAL_CHAIN, remoteEphemeral);
  h = hash(h, remoteEphemeral);
  const es = dh(local.privateKey, remoteEphemeral);
  if (!es) return null;
  let key: Uint8Array;
  [c, key] = kdf2(c, es);
  const sealedStatic = message.subarray(INITIATION.static, INITIATION.timestamp);
  const remoteStatic = aeadOpen(key, 0, sealedStatic, h);
  if (!remoteStatic) return null;
  h = hash(h, sealedStatic);
  const ss = dh(local.privateKey, remoteStatic);
  if (!ss) return null;
  [c, key] = kdf2(c, ss);
  const sealedTimestamp = message.subarray(INITIATION.timestamp, INITIATION.mac1);
  const timestamp = aeadOpen(key, 0, sealedTimestamp, h);
  if (!timestamp) return null;
  h = hash(h, sealedTimestamp);
  return { remoteStatic, remoteEphemeral, senderIndex: readU32(message, INITIATION.sender), timestamp, chain: c, hash: h };
}

/**
 * Writes the response to a consumed initiation from `remote` (mac1/mac2 left zero) and
 * returns the responder's transport keys. Null when the initiator's ephemeral key is a low-order point.
 */
export function createResponse(
  remote: RemoteStatic,
  initiation: ConsumedInitiation,
  localIndex: number,
): { message: Uint8Array; keys: TransportKeys } | null {
  const message = new Uint8Array(RESPONSE.size);
  writeType(message, 0, MESSAGE_RESPONSE);
  writeU32(message, RESPONSE.sender, localIndex);
  writeU32(message, RESPONSE.receiver, initiation.senderIndex);
  const ephemeralPrivate = generatePrivateKey();
  const ephemeralPublic = publicKeyOf(ephemeralPrivate);
  let c = kdf1(initiation.chain, ephemeralPublic);
  message.set(ephemeralPublic, RESPONSE.ephemeral);
  let h = hash(initiation.hash, ephemeralPublic);
  const ee = dh(ephemeralPrivate, initiation.remoteEphemeral);
  const se = dh(ephemeralPrivate, remote.publicKey);
  if (!ee || !se) return null;
  c = kdf1(c, ee);
  c = kdf1(c, se);
  const [c2, tau, key] = kdf3(c, remote.presharedKey);
  h = hash(h, tau);
  const sealedEmpty = aeadSeal(key, 0, EMPTY, h);
  message.set(sealedEmpty, RESPONSE.empty);
  const [receive, send] = kdf2(c2, EMPTY);
  return { message, keys: { send, receive } };
}

/** Checks a response to `state` from `remote` (mac1 already checked) and returns the initiator's transport keys, or null. */
export function consumeResponse(local: LocalStatic, remote: RemoteStatic, state: InitiationState, message: Uint8Array): TransportKeys | null {
  if (message.length !== RESPONSE.size || message[0] !== MESSAGE_RESPONSE) return null;
  if (readU32(message, RESPONSE.receiver) !== state.localIndex) return null;
  const remoteEphemeral = message.subarray(RESPONSE.ephemeral, RESPONSE.ephemeral + KEY_LENGTH);
  let c = kdf1(state.chain, remoteEphemeral);
  let h = hash(state.hash, remoteEphemeral);
  const ee = dh(state.ephemeralPrivate, remoteEphemeral);
  const se = dh(local.privateKey, remoteEphemeral);
  if (!ee || !se) return null;
  c = kdf1(c, ee);
  c = kdf1(c, se);
  const [c2, tau, key] = kdf3(c, remote.presharedKey);
  h = hash(h, tau);
  if (!aeadOpen(key, 0, message.subarray(RESPONSE.empty, RESPONSE.mac1), h)) return null;
  const [send, receive] = kdf2(c2, EMPTY);
  return { send, receive };
}

/** True when TAI64N timestamp `a` is later than `b` (big-endian bytes compare as numbers). */
export function timestampAfter(a: Uint8Array, b: Uint8Array | null): boolean {
  return b === null || Buffer.compare(a, b) > 0;
}

export { ZERO_KEY as NO_PRESHARED_KEY, sameKey };
