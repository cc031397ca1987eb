// The handshake's and the data path's primitives against published vectors and an
// independent implementation: X25519 (RFC 7748 section 6.1, and `wg pubkey` when
// installed), BLAKE2s (RFC 7693 appendix B; the BLAKE2 reference's keyed vector),
// ChaCha20-Poly1305 as the addon seals and opens whole batches (against @noble/ciphers).

import { spawnSync } from "node:child_process";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { describe, expect, it } from "vitest";
import { loadNativeAddon } from "../../src/io/tun.ts";
import { dh, formatKey, generatePrivateKey, parseKey, publicKeyOf } from "../../src/wireguard/keys.ts";
import { aeadOpen, aeadSeal, hash, hmac, mac, tai64n } from "../../src/wireguard/noise-crypto.ts";

const hex = (s: string) => new Uint8Array(Buffer.from(s, "hex"));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const inCi = process.env.CI === "true";
const hasWg = spawnSync("sh", ["-c", "command -v wg"]).status === 0;
if (!hasWg && !inCi) console.warn("test/wireguard: skipping the `wg pubkey` comparison: wg is not installed (apt-get install wireguard-tools)");

describe("X25519", () => {
  const alice = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  const bob = hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");

  it("gives RFC 7748's public keys and shared secret", () => {
    expect(toHex(publicKeyOf(alice))).toBe("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    expect(toHex(publicKeyOf(bob))).toBe("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    expect(toHex(dh(alice, publicKeyOf(bob))!)).toBe("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    expect(toHex(dh(bob, publicKeyOf(alice))!)).toBe("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  });

  it("refuses a low-order public key (an all-zero shared secret)", () => {
    expect(dh(alice, new Uint8Array(32))).toBeNull();
    expect(dh(alice, Uint8Array.of(1, ...new Uint8Array(31)))).toBeNull();
  });

  it.skipIf(!hasWg && !inCi)("derives the public key `wg pubkey` derives", () => {
    const privateKey = formatKey(generatePrivateKey());
    const r = spawnSync("wg", ["pubkey"], { input: `${privateKey}\n`, encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(formatKey(publicKeyOf(parseKey(privateKey, "key")))).toBe(r.stdout.trim());
  });

  it("reads keys in wg's base64 form and names a bad one", () => {
    const key = generatePrivateKey();
    expect(parseKey(` ${formatKey(key)}\n`, "PrivateKey")).toEqual(key);
    expect(() => parseKey("abc", "PublicKey")).toThrow(/^PublicKey: not a WireGuard key/);
    expect(() => parseKey(Buffer.alloc(31).toString("base64"), "PublicKey")).toThrow(/not a WireGuard key/);
  });
});

describe("BLAKE2s", () => {
  it("HASH is BLAKE2s-256 (RFC 7693 appendix B)", () => {
    expect(toHex(hash(new TextEncoder().encode("abc")))).toBe("508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
    expect(toHex(hash(new TextEncoder().encode("a"), new TextEncoder().encode("bc")))).toBe(toHex(hash(new TextEncoder().encode("abc"))));
  });

  it("keyed BLAKE2s from the addon matches the BLAKE2 reference's keyed vector", () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i);
    const out = new Uint8Array(32);
    loadNativeAddon().blake2sMac(key, new Uint8Array(0), out);
    expect(toHex(out)).toBe("48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49");
  });

  it("MAC is 16 bytes and not a truncated 32-byte MAC (the digest length is part of BLAKE2s's parameters)", () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i);
    const full = new Uint8Array(32);
    loadNativeAddon().blake2sMac(key, new Uint8Array(0), full);
    const short = mac(key, new Uint8Array(0));
    expect(short.length).toBe(16);
    expect(toHex(short)).not.toBe(toHex(full.subarray(0, 16)));
  });

  it("HMAC differs from HASH of key and message", () => {
    const key = new Uint8Array(32).fill(7);
    expect(hmac(key, Uint8Array.of(1)).length).toBe(32);
    expect(toHex(hmac(key, Uint8Array.of(1)))).not.toBe(toHex(hash(key, Uint8Array.of(1))));
  });
});

describe("ChaCha20-Poly1305", () => {
  const key = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
  const nonceFor = (counter: number) => {
    const n = new Uint8Array(12);
    new DataView(n.buffer).setUint32(4, counter, true);
    return n;
  };

  it("the handshake's AEAD (Node) agrees with @noble/ciphers", () => {
    const plain = new TextEncoder().encode("Ladies and Gentlemen of the class of '99");
    const aad = hex("50515253c0c1c2c3c4c5c6c7");
    const sealed = aeadSeal(key, 5, plain, aad);
    expect(toHex(sealed)).toBe(toHex(chacha20poly1305(key, nonceFor(5), aad).encrypt(plain)));
    expect(aeadOpen(key, 5, sealed, aad)).toEqual(plain);
    sealed[3] ^= 1;
    expect(aeadOpen(key, 5, sealed, aad)).toBeNull();
  });

  it("the addon seals a batch in place as @noble/ciphers seals each packet, padding to the given length", () => {
    const table = new (loadNativeAddon().KeyTable)();
    table.setKey(3, key);
    const packets = [new Uint8Array(20).fill(1), new Uint8Array(1420).fill(2), new Uint8Array(0)];
    const src = new Uint8Array(2000);
    const srcOffsets = new Uint32Array(3);
    const srcLengths = new Uint32Array(3);
    let at = 0;
    packets.forEach((p, i) => {
      src.set(p, at);
      srcOffsets[i] = at;
      srcLengths[i] = p.length;
      at += p.length;
    });
    const padded = [32, 1420, 0]; // the last: a keepalive
    const dst = new Uint8Array(3000);
    const dstOffsets = Uint32Array.of(0, 64, 1600);
    const dstLengths = Uint32Array.from(padded, (p) => 32 + p);
    dstOffsets.forEach((off, i) => new DataView(dst.buffer).setUint32(off + 8, 100 + i, true));
    const slots = Int32Array.of(3, 3, 3);
    expect(table.seal(src, srcOffsets, srcLengths, 3, dst, dstOffsets, dstLengths, slots)).toBe(3);
    packets.forEach((p, i) => {
      const plain = new Uint8Array(padded[i]);
      plain.set(p);
      const expected = chacha20poly1305(key, nonceFor(100 + i)).encrypt(plain);
      expect(toHex(dst.subarray(dstOffsets[i] + 16, dstOffsets[i] + dstLengths[i]))).toBe(toHex(expected));
    });

    // Open them in place; a flipped bit fails only its own packet.
    dst[64 + 16 + 5] ^= 0x80;
    const ok = new Uint8Array(3);
    expect(table.open(dst, dstOffsets, dstLengths, 3, slots, ok)).toBe(2);
    expect([...ok]).toEqual([1, 0, 1]);
    expect(dst.subarray(16, 36)).toEqual(packets[0]);
    // A cleared slot opens nothing.
    table.clearKey(3);
    expect(table.open(dst, dstOffsets, dstLengths, 3, slots, ok)).toBe(0);
  });

  it("the addon refuses a message length that cannot hold the packet", () => {
    const table = new (loadNativeAddon().KeyTable)();
    table.setKey(0, key);
    const slots = Int32Array.of(0);
    expect(table.seal(new Uint8Array(100), Uint32Array.of(0), Uint32Array.of(100), 1, new Uint8Array(200), Uint32Array.of(0), Uint32Array.of(100), slots)).toBe(0);
    expect(slots[0]).toBe(-1);
    expect(() => table.setKey(0, new Uint8Array(16))).toThrow(/32-byte/);
  });
});

describe("TAI64N", () => {
  it("is seconds + 2^62 + 10, big-endian, then nanoseconds rounded down to 2^24 ns", () => {
    const t = tai64n(1_700_000_000_123);
    const view = new DataView(t.buffer);
    expect(view.getBigUint64(0)).toBe(0x400000000000000an + 1_700_000_000n);
    expect(view.getUint32(8)).toBe(123_000_000 & ~0xffffff);
    expect(Buffer.compare(tai64n(1_700_000_001_000), t)).toBe(1);
  });
});
