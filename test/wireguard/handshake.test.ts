// The Noise_IKpsk2 handshake between two in-process parties: both derive the same pair of
// transport keys; a wrong static key, a different preshared key, a tampered message or a
// response to another initiation get nothing. (Interop with wireguard-go, the external
// check, is in interop.test.ts.)
import { describe, expect, it } from "vitest";
import { CookieChecker, CookieGenerator } from "../../src/wireguard/cookie.ts";
import {
  consumeInitiation,
  consumeResponse,
  createInitiation,
  createResponse,
  NO_PRESHARED_KEY,
  timestampAfter,
  type LocalStatic,
} from "../../src/wireguard/handshake.ts";
import { generatePresharedKey, generatePrivateKey, publicKeyOf } from "../../src/wireguard/keys.ts";
import { INITIATION, RESPONSE } from "../../src/wireguard/messages.ts";

function party(): LocalStatic {
  const privateKey = generatePrivateKey();
  return { privateKey, publicKey: publicKeyOf(privateKey) };
}

function handshake(psk1: Uint8Array, psk2: Uint8Array, tamper?: (m: Uint8Array) => void) {
  const i = party();
  const r = party();
  const init = createInitiation(i, { publicKey: r.publicKey, presharedKey: psk1 }, 11, Date.now())!;
  tamper?.(init.message);
  const consumed = consumeInitiation(r, init.message);
  if (!consumed) return { i, r, consumed, keys: null, responderKeys: null };
  const response = createResponse({ publicKey: i.publicKey, presharedKey: psk2 }, consumed, 22)!;
  const keys = consumeResponse(i, { publicKey: r.publicKey, presharedKey: psk1 }, init.state, response.message);
  return { i, r, consumed, keys, responderKeys: response.keys };
}

describe("handshake", () => {
  it("both sides derive the same transport keys, send of one being receive of the other", () => {
    const psk = generatePresharedKey();
    const { i, consumed, keys, responderKeys } = handshake(psk, psk);
    expect(consumed!.remoteStatic).toEqual(i.publicKey);
    expect(consumed!.senderIndex).toBe(11);
    expect(keys!.send).toEqual(responderKeys!.receive);
    expect(keys!.receive).toEqual(responderKeys!.send);
    expect(keys!.send).not.toEqual(keys!.receive);
  });

  it("differing preshared keys make the response fail to authenticate", () => {
    expect(handshake(NO_PRESHARED_KEY, generatePresharedKey()).keys).toBeNull();
  });

  it("an initiation to another static key, or with a flipped bit, does not decrypt", () => {
    const i = party();
    const init = createInitiation(i, { publicKey: party().publicKey, presharedKey: NO_PRESHARED_KEY }, 1, Date.now())!;
    expect(consumeInitiation(party(), init.message)).toBeNull();
    for (const at of [INITIATION.ephemeral + 3, INITIATION.static + 40, INITIATION.timestamp + 1]) {
      expect(handshake(NO_PRESHARED_KEY, NO_PRESHARED_KEY, (m) => (m[at] ^= 1)).consumed).toBeNull();
    }
  });

  it("a response for another initiation (receiver index) is refused", () => {
    const i = party();
    const r = party();
    const init = createInitiation(i, { publicKey: r.publicKey, presharedKey: NO_PRESHARED_KEY }, 5, Date.now())!;
    const response = createResponse({ publicKey: i.publicKey, presharedKey: NO_PRESHARED_KEY }, consumeInitiation(r, init.message)!, 6)!;
    expect(consumeResponse(i, { publicKey: r.publicKey, presharedKey: NO_PRESHARED_KEY }, { ...init.state, localIndex: 99 }, response.message)).toBeNull();
  });

  it("a later initiation carries a later timestamp; the same one is not later", () => {
    const i = party();
    const r = party();
    const first = consumeInitiation(r, createInitiation(i, { publicKey: r.publicKey, presharedKey: NO_PRESHARED_KEY }, 1, 1_000_000)!.message)!;
    const second = consumeInitiation(r, createInitiation(i, { publicKey: r.publicKey, presharedKey: NO_PRESHARED_KEY }, 2, 1_001_000)!.message)!;
    expect(timestampAfter(second.timestamp, first.timestamp)).toBe(true);
    expect(timestampAfter(first.timestamp, first.timestamp)).toBe(false);
    expect(timestampAfter(first.timestamp, null)).toBe(true);
  });
});

describe("mac1 and cookies", () => {
  it("mac1 made for the receiver's key passes; for another key it does not", () => {
    const r = party();
    const message = createInitiation(party(), { publicKey: r.publicKey, presharedKey: NO_PRESHARED_KEY }, 1, Date.now())!.message;
    new CookieGenerator(r.publicKey, 120_000).addMacs(message, INITIATION, 0);
    expect(new CookieChecker(r.publicKey, 120_000).checkMac1(message, INITIATION)).toBe(true);
    expect(new CookieChecker(party().publicKey, 120_000).checkMac1(message, INITIATION)).toBe(false);
  });

  it("a cookie reply gives the sender the cookie for its address: its next mac2 passes, from another address it does not", () => {
    const r = party();
    const checker = new CookieChecker(r.publicKey, 120_000);
    const generator = new CookieGenerator(r.publicKey, 120_000);
    const first = new Uint8Array(RESPONSE.size);
    generator.addMacs(first, RESPONSE, 0);
    expect(checker.checkMac2(first, RESPONSE, 0xc6120014, 51820, 0)).toBe(false); // mac2 zero: no cookie yet
    const reply = checker.createReply(first, RESPONSE, 7, 0xc6120014, 51820, 0);
    expect(generator.consumeReply(reply, 10)).toBe(true);
    const second = new Uint8Array(RESPONSE.size).fill(3, 0, RESPONSE.mac1);
    generator.addMacs(second, RESPONSE, 20);
    expect(checker.checkMac2(second, RESPONSE, 0xc6120014, 51820, 20)).toBe(true);
    expect(checker.checkMac2(second, RESPONSE, 0xc6120015, 51820, 20)).toBe(false);
    // A reply sealed to another message's mac1 does not open.
    const other = new Uint8Array(RESPONSE.size).fill(9);
    expect(generator.consumeReply(checker.createReply(other, RESPONSE, 7, 1, 1, 0), 30)).toBe(false);
  });

  it("the cookie expires with the refresh time, on both sides", () => {
    const r = party();
    const checker = new CookieChecker(r.publicKey, 1000);
    const generator = new CookieGenerator(r.publicKey, 1000);
    const m = new Uint8Array(RESPONSE.size);
    generator.addMacs(m, RESPONSE, 0);
    generator.consumeReply(checker.createReply(m, RESPONSE, 1, 5, 5, 0), 0);
    generator.addMacs(m, RESPONSE, 500);
    expect(checker.checkMac2(m, RESPONSE, 5, 5, 500)).toBe(true);
    generator.addMacs(m, RESPONSE, 1500);
    expect(m.subarray(RESPONSE.mac2).every((b) => b === 0)).toBe(true);
    expect(checker.checkMac2(m, RESPONSE, 5, 5, 1500)).toBe(false);
  });
});
