// The handshake's primitives as the WireGuard paper names them (section 5.4): HASH,
// HMAC, KDF1..3, AEAD, XAEAD and MAC. All come from libraries: BLAKE2s-256, HMAC and
// ChaCha20-Poly1305 from Node's crypto (OpenSSL), keyed BLAKE2s (MAC) from the same
// OpenSSL through the addon, and XChaCha20-Poly1305 (cookie replies only; OpenSSL has
// no XChaCha) from @noble/ciphers. The handshake runs a few times a minute per peer, so
// these allocate freely; the data path never calls them.

import { createCipheriv, createDecipheriv, createHash, createHmac } from "node:crypto";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { loadNativeAddon } from "../io/tun.ts";

export const HASH_LENGTH = 32;
export const TAG_LENGTH = 16;
export const MAC_LENGTH = 16;

/** HASH(input...): BLAKE2s-256 of the concatenation. */
export function hash(...parts: Uint8Array[]): Uint8Array {
  const h = createHash("blake2s256");
  for (const part of parts) h.update(part);
  return new Uint8Array(h.digest());
}

/** HMAC(key, input...) with BLAKE2s-256 (RFC 2104). */
export function hmac(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = createHmac("blake2s256", key);
  for (const part of parts) h.update(part);
  return new Uint8Array(h.digest());
}

const ONE = Uint8Array.of(1);
const TWO = Uint8Array.of(2);
const THREE = Uint8Array.of(3);

/** KDF_n(key, input): HKDF with HMAC-BLAKE2s, the first n 32-byte outputs. */
export function kdf1(key: Uint8Array, input: Uint8Array): Uint8Array {
  return hmac(hmac(key, input), ONE);
}

export function kdf2(key: Uint8Array, input: Uint8Array): [Uint8Array, Uint8Array] {
  const prk = hmac(key, input);
  const t1 = hmac(prk, ONE);
  return [t1, hmac(prk, t1, TWO)];
}

export function kdf3(key: Uint8Array, input: Uint8Array): [Uint8Array, Uint8Array, Uint8Array] {
  const prk = hmac(key, input);
  const t1 = hmac(prk, ONE);
  const t2 = hmac(prk, t1, TWO);
  return [t1, t2, hmac(prk, t2, THREE)];
}

function nonceOf(counter: number): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeUInt32LE(counter >>> 0, 4);
  nonce.writeUInt32LE(Math.floor(counter / 2 ** 32), 8);
  return nonce;
}

/** AEAD(key, counter, plaintext, aad): ChaCha20-Poly1305 (RFC 8439), ciphertext || tag. */
export function aeadSeal(key: Uint8Array, counter: number, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const cipher = createCipheriv("chacha20-poly1305", key, nonceOf(counter), { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad, { plaintextLength: plaintext.length });
  return new Uint8Array(Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]));
}

/** The plaintext of aeadSeal's output, or null when it does not authenticate. */
export function aeadOpen(key: Uint8Array, counter: number, sealed: Uint8Array, aad: Uint8Array): Uint8Array | null {
  if (sealed.length < TAG_LENGTH) return null;
  const body = sealed.subarray(0, sealed.length - TAG_LENGTH);
  const decipher = createDecipheriv("chacha20-poly1305", key, nonceOf(counter), { authTagLength: TAG_LENGTH });
  decipher.setAAD(aad, { plaintextLength: body.length });
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
  try {
    return new Uint8Array(Buffer.concat([decipher.update(body), decipher.final()]));
  } catch {
    return null;
  }
}

/** XAEAD(key, nonce24, plaintext, aad): XChaCha20-Poly1305, for cookie replies. */
export function xaeadSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  return xchacha20poly1305(key, nonce, aad).encrypt(plaintext);
}

export function xaeadOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | null {
  try {
    return xchacha20poly1305(key, nonce, aad).decrypt(sealed);
  } catch {
    return null;
  }
}

/** MAC(key, input): keyed BLAKE2s with a 16-byte output. */
export function mac(key: Uint8Array, input: Uint8Array): Uint8Array {
  const out = new Uint8Array(MAC_LENGTH);
  loadNativeAddon().blake2sMac(key, input, out);
  return out;
}

/**
 * TAI64N of `ms` (12 bytes: seconds + 2^62, big-endian, then nanoseconds). The
 * nanoseconds are rounded down to 2^24 ns (~16.8 ms), as wireguard-go does, so the
 * timestamp does not expose the sender's exact clock.
 */
export function tai64n(ms: number): Uint8Array {
  const out = new Uint8Array(12);
  const view = new DataView(out.buffer);
  const seconds = Math.floor(ms / 1000);
  view.setBigUint64(0, 0x400000000000000an + BigInt(seconds));
  const nanos = (ms - seconds * 1000) * 1e6;
  view.setUint32(8, Math.floor(nanos) & ~0xffffff);
  return out;
}
