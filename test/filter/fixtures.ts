// Small builders for compiled rules and packet records, shared by the filter tests.

import { parseIp } from "../../src/packet/address.ts";
import { PacketRecord, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP } from "../../src/packet/record.ts";
import type { CompiledPeerPolicy, CompiledRouteRule, CompiledRule } from "../../src/filter/compiled-policy.ts";
import { compiledPolicy, compiledRule } from "../support/compiled-policy.ts";

export const SELF = "100.64.0.20";
export const SELF6 = "fd00::20";

/** An inbound rule from any overlay peer to SELF; its policy name, rule id and rule name are the whole id. */
export function rule(id: string, fields: Partial<CompiledRule> = {}): CompiledRule {
  return compiledRule(id, {
    policyName: id,
    ruleId: id,
    ruleName: id,
    sources: ["100.64.0.0/16", "fd00::/64"],
    destinations: [`${SELF}/32`, `${SELF6}/128`],
    ...fields,
  });
}

export function route(id: string, resourceId: string, fields: Partial<CompiledRouteRule> = {}): CompiledRouteRule {
  return {
    ...rule(id, { destinations: ["198.18.1.0/24"] }),
    resourceId,
    resourceName: resourceId,
    ...fields,
  };
}

export function policy(parts: Partial<Omit<CompiledPeerPolicy, "peer">> = {}): CompiledPeerPolicy {
  return compiledPolicy("db-1", [SELF, SELF6], parts);
}

/** A record as the decoder would fill it for a connection-opening packet. */
export function packet(
  protocol: "tcp" | "udp" | "icmp" | number,
  source: string,
  destination: string,
  dstPort = 0,
  rec = new PacketRecord(),
): PacketRecord {
  const src = parseIp(source);
  const dst = parseIp(destination);
  rec.ipVersion = src.version;
  rec.protocol =
    typeof protocol === "number"
      ? protocol
      : protocol === "tcp"
        ? PROTO_TCP
        : protocol === "udp"
          ? PROTO_UDP
          : src.version === 6
            ? PROTO_ICMPV6
            : PROTO_ICMP;
  [rec.src0, rec.src1, rec.src2, rec.src3] = src.words;
  [rec.dst0, rec.dst1, rec.dst2, rec.dst3] = dst.words;
  rec.dstPort = protocol === "tcp" || protocol === "udp" ? dstPort : 0;
  rec.hasL4 = true;
  return rec;
}
