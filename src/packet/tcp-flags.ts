// TCP flags as text, for tests and CLI output: the letters tcpdump and iptables users
// know (F S R P A U E C), e.g. "SA" for a SYN-ACK.

import { TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG } from "./record.ts";

const FLAG_LETTERS: readonly [string, number][] = [
  ["F", TCP_FIN],
  ["S", TCP_SYN],
  ["R", TCP_RST],
  ["P", TCP_PSH],
  ["A", TCP_ACK],
  ["U", TCP_URG],
  ["E", TCP_ECE],
  ["C", TCP_CWR],
];

/** "SA" -> TCP_SYN | TCP_ACK. Letters F S R P A U E C in any order and case; "" is no flags. Throws on other letters. */
export function tcpFlags(text: string): number {
  let flags = 0;
  for (const letter of text.toUpperCase()) {
    const entry = FLAG_LETTERS.find(([l]) => l === letter);
    if (!entry) throw new Error(`unknown TCP flag letter "${letter}" in "${text}" (use F S R P A U E C)`);
    flags |= entry[1];
  }
  return flags;
}

/** TCP_SYN | TCP_ACK -> "SA": the set flags in the fixed order F S R P A U E C ("" for none). */
export function formatTcpFlags(flags: number): string {
  let text = "";
  for (const [letter, bit] of FLAG_LETTERS) if (flags & bit) text += letter;
  return text;
}
