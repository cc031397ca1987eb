// One direction pair of transport keys from one handshake: the key-table slots holding
// them (native/src/wireguard_crypto.h), the indexes that name the session on the wire,
// the send counter and the receive replay window.

import { ReplayWindow } from "./replay-window.ts";

export class Keypair {
  /** Next counter to send (the nonce of the next message). */
  sendCounter = 0;
  readonly replay = new ReplayWindow();

  constructor(
    /** The peer's index in the transport's peer list. */
    readonly peer: number,
    readonly sendSlot: number,
    readonly receiveSlot: number,
    /** Our index: the receiver field of messages sealed to us with these keys. */
    readonly localIndex: number,
    /** The peer's index: the receiver field of messages we seal. */
    readonly remoteIndex: number,
    /** True when we sent the initiation (only the initiator rekeys on age). */
    readonly initiator: boolean,
    readonly createdAt: number,
  ) {}
}
