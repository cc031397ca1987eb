// The layout of one connection-tracking entry: its key words, flag bits and the words
// of its record (see flow-table.ts for how records and the index are stored). Kept
// apart so that the fast paths can copy these numbers into module-local constants:
// V8 reads an imported or exported binding through its module cell, with a check, at
// every use, while a module-local const is folded into the optimised code as a literal
// (measured: ~15 ns a packet on the established-flow path).

/** Key words: A address (4), B address (4), ports (A port << 16 | B port), protocol | version << 8. */
export const KEY_WORDS = 10;
export const KEY_PORTS = 8;
export const KEY_PROTO = 9;

// Entry flag bits.
export const F_LIVE = 0x01;
/** The originator is endpoint A of the canonical key. */
export const F_ORIG_IS_A = 0x02;
/** The responder has sent at least one packet. */
export const F_REPLIED = 0x04;
/** How the flow was opened: by a remote peer to this peer, by this peer, or through this peer to a routed resource. */
export const F_INBOUND = 0x08;
export const F_OUTBOUND = 0x10;
export const F_ROUTED = 0x20;
/** Picked up mid-stream (loose TCP): windows unknown, so sequence checks are skipped. */
export const F_LIBERAL = 0x40;
/** Unused (kept free): the ignored-SYN note lives in the last-packet word (K_LAST). */
export const F_SPARE = 0x80;

// Per-direction TCP flag bits (tdFlags).
/** The SYN in this direction carried a window-scale option. */
export const TD_WSCALE = 0x01;
/** This direction has sent its FIN (its td_end then includes the FIN). */
export const TD_FIN_SEEN = 0x02;


// Layout of one entry's record, in 32-bit words (doubles at even word offsets): 128
// bytes, two cache lines. The key's hash is not in it (FlowTable.hashes): only removal
// reads it, for the other members of an index cluster, and there a dense array of
// hashes costs one cache line where the records would cost a line per member.
export const RECORD_WORDS = 32;
export const RECORD_DOUBLES = RECORD_WORDS / 2;
// words 0-7: address A (4 words), address B (4 words)
export const K_PORTS = 8;
export const K_PROTO = 9;
/** Meta word: bits 0-7 state, 8-15 flags (F_*), then a byte per direction (window scale | TD_* flags << 4). */
export const K_META = 10;
export const META_FLAGS_SHIFT = 8;
export const META_TD_SHIFT = 16;
/** Words 11-16: TCP window tracking, three words per direction (TD_*). */
export const K_TCP = 11;
export const K_RULE = 17;
export const K_PACKETS = 18; // and 19 for the reply direction
/** Next free record, while the record is free (NO_FREE ends the chain). */
export const K_NEXT_FREE = 20;
/** The same word while the record is live: what the last TCP packet of the flow that
 *  conntrack passed was (Linux last_dir / last_index): LAST_* bits below. The two uses
 *  never overlap, so no record word is added for it. */
export const K_LAST = K_NEXT_FREE;
/** Word 21: the note of a packet passed without a state change (noteIgnored), read
 *  only while K_LAST says that packet was the flow's last: for an ignored SYN, the
 *  sequence number after it (Linux last_end); for an ignored challenge ACK in SYN_SENT,
 *  its ACK number (Linux last_ack: the originator's RST answering it carries it as its
 *  seq). One word serves both, since the rules read last_end only after a SYN and
 *  last_ack only after an ACK. */
export const K_NOTE = 21;
// doubles (index within the record's RECORD_DOUBLES): words 22-29
export const D_CREATED = 11;
export const D_LAST_SEEN = 12;
export const D_BYTES = 13; // and 14 for the reply direction
/** Words 30-31: td_maxack per direction (tcp-window.ts says what it holds before the first ACK). */
export const K_MAXACK = 30;

// The last-packet word (K_LAST): bit 0 its direction, bits 1-3 its flag class
// (tcp-states.ts CLASS_*), bit 4 set when it was ignored (passed without a state change),
// bits 5-9 an ignored SYN's window scale option (bit 9: offered, bits 5-8: shift).
export const LAST_DIR = 0x01;
export const LAST_CLASS_SHIFT = 1;
export const LAST_IGNORED = 0x10;
export const LAST_SCALE_SHIFT = 5;
export const LAST_SCALE_OFFERED = 0x200;
/** No packet noted yet: an impossible class (7 = CLASS_INVALID never passes). */
export const LAST_NONE = 7 << LAST_CLASS_SHIFT;
/** Linux tcp_in_window's td_end: highest sequence number sent + 1. */
export const TD_END = 0;
/** td_maxend: highest sequence number this direction may send (peer's ack + peer's window). */
export const TD_MAXEND = 1;
/** td_maxwin: largest (scaled) window this direction advertised. */
export const TD_MAXWIN = 2;
