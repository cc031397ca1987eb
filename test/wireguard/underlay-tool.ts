// A hostile sender on the underlay, run inside a lab namespace by the interop tests:
//   flood PUBKEY ADDR:PORT COUNT  - COUNT handshake initiations to the peer with public key
//                                   PUBKEY, each from a fresh unknown static key but with a
//                                   valid mac1 (anyone who knows the public key can make one);
//                                   prints {"sent":N,"cookieReplies":M}
//   resend ADDR:PORT HEX...       - sends each hex string as one datagram (replayed captures)
import { createSocket } from "node:dgram";
import { CookieGenerator } from "../../src/wireguard/cookie.ts";
import { createInitiation } from "../../src/wireguard/handshake.ts";
import { generatePrivateKey, parseKey, publicKeyOf } from "../../src/wireguard/keys.ts";
import { INITIATION, MESSAGE_COOKIE_REPLY } from "../../src/wireguard/messages.ts";

const [mode, ...args] = process.argv.slice(2);
const socket = createSocket("udp4");

function target(text: string): { address: string; port: number } {
  const colon = text.lastIndexOf(":");
  return { address: text.slice(0, colon), port: Number(text.slice(colon + 1)) };
}

function send(message: Uint8Array, to: { address: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => socket.send(message, to.port, to.address, (err) => (err ? reject(err) : resolve())));
}

if (mode === "flood") {
  const remote = parseKey(args[0], "PUBKEY");
  const to = target(args[1]);
  const count = Number(args[2]);
  let cookieReplies = 0;
  socket.on("message", (msg) => {
    if (msg[0] === MESSAGE_COOKIE_REPLY) cookieReplies++;
  });
  const cookies = new CookieGenerator(remote, 120_000);
  for (let i = 0; i < count; i++) {
    const privateKey = generatePrivateKey();
    const created = createInitiation({ privateKey, publicKey: publicKeyOf(privateKey) }, { publicKey: remote, presharedKey: new Uint8Array(32) }, i, Date.now());
    if (!created) continue;
    cookies.addMacs(created.message, INITIATION, Date.now());
    await send(created.message, to);
  }
  await new Promise((r) => setTimeout(r, 500));
  console.log(JSON.stringify({ sent: count, cookieReplies }));
} else if (mode === "resend") {
  const to = target(args[0]);
  for (const hex of args.slice(1)) await send(Buffer.from(hex, "hex"), to);
  console.log(JSON.stringify({ sent: args.length - 1 }));
} else {
  console.error("usage: underlay-tool.ts flood PUBKEY ADDR:PORT COUNT | resend ADDR:PORT HEX...");
  process.exitCode = 2;
}
socket.close();
