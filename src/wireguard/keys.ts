// WireGuard keys: Curve25519 keys in wg's base64 form (44 characters, 32 bytes), and
// X25519 through Node's crypto (OpenSSL). Private keys are clamped by X25519 itself.

import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";

export const KEY_LENGTH = 32;

/** Decodes a key as `wg genkey` / `wg pubkey` print it; throws naming `what` when it is not 32 bytes of base64. */
export function parseKey(text: string, what: string): Uint8Array {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/.test(trimmed)) {
    throw new Error(`${what}: not a WireGuard key (44 characters of base64 encoding 32 bytes, as \`wg genkey\` prints)`);
  }
  return new Uint8Array(Buffer.from(trimmed, "base64"));
}

/** A key in wg's base64 form. */
export function formatKey(key: Uint8Array): string {
  return Buffer.from(key).toString("base64");
}

/** A new random private key (`wg genkey`). */
export function generatePrivateKey(): Uint8Array {
  const jwk = generateKeyPairSync("x25519").privateKey.export({ format: "jwk" });
  return new Uint8Array(Buffer.from(jwk.d as string, "base64url"));
}

/** A random 32-byte preshared key (`wg genpsk`). */
export function generatePresharedKey(): Uint8Array {
  return new Uint8Array(randomBytes(KEY_LENGTH));
}

// The DER wrappers of a raw X25519 key (RFC 8410): PKCS#8 for a private key, SPKI for a public one.
const PKCS8_X25519 = Buffer.from("302e020100300506032b656e04220420", "hex");
const SPKI_X25519 = Buffer.from("302a300506032b656e032100", "hex");

function privateKeyObject(privateKey: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_X25519, privateKey]), format: "der", type: "pkcs8" });
}

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_X25519, publicKey]), format: "der", type: "spki" });
}

/** The public key of a private key (`wg pubkey`). */
export function publicKeyOf(privateKey: Uint8Array): Uint8Array {
  const jwk = createPublicKey(privateKeyObject(privateKey)).export({ format: "jwk" });
  return new Uint8Array(Buffer.from(jwk.x as string, "base64url"));
}

/**
 * X25519(privateKey, publicKey). Returns null for a low-order public key (the shared
 * secret is all zeros), which the handshake must refuse.
 */
export function dh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array | null {
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey: privateKeyObject(privateKey), publicKey: publicKeyObject(publicKey) });
  } catch {
    return null; // OpenSSL refuses an all-zero result
  }
  return shared.every((b) => b === 0) ? null : new Uint8Array(shared);
}

/** True when two keys are equal (constant time is not needed: keys compared here are public). */
export function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}
