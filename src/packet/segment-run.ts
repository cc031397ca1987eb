// Runs of TCP segments in a batch: a packet followed by the in-order data segments that
// continue it on the same connection. A TUN read splits one TSO packet of the sender
// into up to ~45 such segments; a UDP GRO read delivers a peer's burst back to back.
// Linux conntrack sees such a run as one GSO/GRO packet and judges it once; the engine
// does likewise with what this finds (Engine.judgeBatch): one flow lookup for the first
// packet, then the rest of the run checked and counted in one step
// (Conntrack.trackRunRest), so a bulk transfer costs one lookup per run, not per segment.
//
// Only what the decoder's TCP/IPv4 fast path would itself accept as well formed joins a
// run, and only what makes the run equal to one larger segment: the same addresses,
// ports, ACK number, window and header length, contiguous sequence numbers, flags ACK or
// PSH|ACK, no fragments, no IP options, TCP options none or NOP NOP timestamp, and an IP
// total length equal to the captured length. The first packet is held to the same.

import { viewOf } from "./buffer-view.ts";
import { commonTcpIpv4HeaderLength } from "./decode-common-tcp-ipv4.ts";
import * as layout from "./layout.ts";
import { tcp4View } from "./tcp4-view.ts";

/** Payload bytes a run may carry, as a GSO packet may (64 KiB less the headers). */
export const MAX_RUN_PAYLOAD = 65535 - 40;

/** Byte 0 of an IPv4 header without options: version 4, IHL 5. */
const IPV4_NO_OPTIONS = 0x45;
/** TCP options word of NOP, NOP, timestamp (kind 8, length 10). */
const NOP_NOP_TIMESTAMP = 0x0101080a;
/** Runs take IPv4 headers without options only: the TCP header starts here. */
const L4 = layout.IPV4_MIN_HEADER;
const PROTO_TCP = 6;
/** Flags and fragment offset less the DF bit: zero for a packet that is no fragment. */
const FRAGMENT_BITS = layout.IPV4_FLAG_MF | layout.IPV4_OFFSET_MASK;
/** Flags a continuation may carry: ACK, or PSH|ACK (the last segment of a TSO split). */
const TCP_ACK = 0x10;
const TCP_PSH_ACK = 0x18;

/** What tcpSegmentRun writes into its `run` array (for runs of more than one packet), as int32. */
export const RUN_LAST_SEQ = 0; // the last packet's sequence number
export const RUN_END = 1; // the sequence number after the last packet's data
export const RUN_REST_BYTES = 2; // IP bytes of the packets after the first

/**
 * How many packets from index `first` on form one run of segments of the same
 * connection: 1 when the next packet does not continue it (or the first cannot start a
 * run). For a longer run, `run` receives RUN_LAST_SEQ, RUN_END and RUN_REST_BYTES.
 */
export function tcpSegmentRun(buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, first: number, count: number, run: Int32Array): number {
  if (first + 1 >= count) return 1;
  const view = viewOf(buf);
  if (view === null) return 1;
  const tcp4 = tcp4View;
  const base = offsets[first];
  const firstLength = lengths[first];
  // The ports first: in traffic of many flows, the test that fails soonest.
  const ports = base + L4 + 4 <= buf.length ? tcp4.l4Ports(view, base + L4) : -1;
  const next = offsets[first + 1];
  if (next + L4 + 4 > buf.length || tcp4.l4Ports(view, next + L4) !== ports) return 1;
  const headerLength = commonTcpIpv4HeaderLength(buf, view, base, firstLength);
  if (headerLength === 0 || tcp4.ipv4TotalLength(view, base) !== firstLength) return 1;
  let payload = firstLength - L4 - headerLength;
  // Data offset, reserved bits 0, flags left out, window: what every continuation has.
  const firstOffsetFlagsWindow = tcp4.tcpOffsetFlagsWindow(view, base + L4);
  const flags = tcp4.flagsOf(firstOffsetFlagsWindow);
  if (payload === 0 || (flags !== TCP_ACK && flags !== TCP_PSH_ACK)) return 1;
  const offsetWindow = (firstOffsetFlagsWindow & 0xff00ffff) >>> 0;
  const src = tcp4.ipv4Src(view, base);
  const dst = tcp4.ipv4Dst(view, base);
  const ack = tcp4.tcpAck(view, base + L4);
  let restBytes = 0;
  let lastSeq = tcp4.tcpSeq(view, base + L4);
  let nextSeq = (lastSeq + payload) | 0;
  let n = 1;
  for (let j = first + 1; j < count; j++) {
    const o = offsets[j];
    const length = lengths[j];
    if (length < L4 + 20 || o + length > buf.length) break;
    // The ports first: in traffic of many flows, the test that fails soonest.
    if (tcp4.l4Ports(view, o + L4) !== ports) break;
    const versionToLength = tcp4.ipv4VersionToLength(view, o);
    const segmentPayload = length - L4 - headerLength;
    if (
      versionToLength >>> 24 !== IPV4_NO_OPTIONS ||
      (versionToLength & 0xffff) !== length ||
      segmentPayload <= 0 ||
      payload + segmentPayload > MAX_RUN_PAYLOAD ||
      tcp4.ipv4Protocol(view, o) !== PROTO_TCP ||
      (tcp4.ipv4IdFragment(view, o) & FRAGMENT_BITS) !== 0 ||
      tcp4.ipv4Src(view, o) !== src ||
      tcp4.ipv4Dst(view, o) !== dst ||
      tcp4.tcpSeq(view, o + L4) !== nextSeq ||
      tcp4.tcpAck(view, o + L4) !== ack
    ) break;
    const offsetFlagsWindow = tcp4.tcpOffsetFlagsWindow(view, o + L4);
    const segmentFlags = tcp4.flagsOf(offsetFlagsWindow);
    if ((offsetFlagsWindow & 0xff00ffff) >>> 0 !== offsetWindow || (segmentFlags !== TCP_ACK && segmentFlags !== TCP_PSH_ACK)) break;
    if (headerLength === 32 && tcp4.tcpFirstOptionWord(view, o + L4) !== NOP_NOP_TIMESTAMP) break;
    payload += segmentPayload;
    restBytes += length;
    lastSeq = nextSeq;
    nextSeq = (nextSeq + segmentPayload) | 0;
    n++;
  }
  run[RUN_LAST_SEQ] = lastSeq;
  run[RUN_END] = nextSeq;
  run[RUN_REST_BYTES] = restBytes;
  return n;
}
