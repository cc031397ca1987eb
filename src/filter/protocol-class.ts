// The four protocol classes rule lookup distinguishes. Rules say "tcp", "udp",
// "icmp" or "all"; packets carry IP protocol numbers. ICMPv4 and ICMPv6 are one
// class (a rule's "icmp" means both), and every other protocol (GRE, SCTP, ...)
// can only be matched by an "all" rule.

import type { Protocol } from "./compiled-policy.ts";
import { PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP } from "../packet/record.ts";

export const CLASS_TCP = 0;
export const CLASS_UDP = 1;
export const CLASS_ICMP = 2;
export const CLASS_OTHER = 3;
export const CLASS_COUNT = 4;

/** Classes with destination ports; lower than every portless class, so `cls < PORTED_CLASS_COUNT` tests it. */
export const PORTED_CLASS_COUNT = 2;

/** The class of an IP protocol number (a packet's `protocol`). */
export function classOfProtocolNumber(protocol: number): number {
  if (protocol === PROTO_TCP) return CLASS_TCP;
  if (protocol === PROTO_UDP) return CLASS_UDP;
  if (protocol === PROTO_ICMP || protocol === PROTO_ICMPV6) return CLASS_ICMP;
  return CLASS_OTHER;
}

/** The classes a rule protocol covers. */
export function classesOfRuleProtocol(protocol: Protocol): readonly number[] {
  switch (protocol) {
    case "tcp":
      return [CLASS_TCP];
    case "udp":
      return [CLASS_UDP];
    case "icmp":
      return [CLASS_ICMP];
    case "all":
      return [CLASS_TCP, CLASS_UDP, CLASS_ICMP, CLASS_OTHER];
  }
}
