// The data path's AEAD through Node's crypto API, one createCipheriv per packet (the
// cost a JavaScript data path would pay), beside bench/aead/compare.c's native figures.
//   npx tsx bench/aead/node-per-packet.ts
import { createCipheriv, randomBytes } from "node:crypto";

const PACKET = 1420;
const ROUNDS = 100_000;
const key = randomBytes(32);
const packet = randomBytes(PACKET);
const nonce = Buffer.alloc(12);
for (let pass = 0; pass < 2; pass++) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) {
    nonce.writeUInt32LE(i, 4);
    const cipher = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 });
    cipher.update(packet);
    cipher.final();
    cipher.getAuthTag();
  }
  const ns = Number(process.hrtime.bigint() - start) / ROUNDS;
  console.log(`Node createCipheriv seal            ${ns.toFixed(0).padStart(7)} ns/packet  ${((PACKET * 8) / ns).toFixed(2).padStart(5)} Gbit/s`);
}
