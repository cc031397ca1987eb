// Network masks for every prefix length, precomputed so the hot path masks an
// address with one array read per word instead of computing shifts.

import { maskWord } from "../packet/address.ts";

/** MASK_V4[length] is the IPv4 mask of `length` bits (0..32). */
export const MASK_V4 = new Uint32Array(33);
/** MASK_V6[length * 4 + word] is word `word` of the IPv6 mask of `length` bits (0..128). */
export const MASK_V6 = new Uint32Array(129 * 4);

for (let length = 0; length <= 32; length++) MASK_V4[length] = maskWord(length);
for (let length = 0; length <= 128; length++) {
  for (let word = 0; word < 4; word++) MASK_V6[length * 4 + word] = maskWord(length - 32 * word);
}
