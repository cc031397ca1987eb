// Build CompiledPeerPolicy objects by hand (no dependency on the policy compiler), and
// drive an Engine with builder-made packets on an injected clock.

import { Engine, VERDICT_ACCEPT } from "../../src/engine/engine.ts";
import type { EngineOptions } from "../../src/engine/engine.ts";
import { buildPacket } from "../../src/packet/builder.ts";
import type { PacketSpec } from "../../src/packet/builder.ts";
import type { CompiledPeerPolicy, CompiledRouteRule, CompiledRule } from "../../src/filter/compiled-policy.ts";
import type { Protocol } from "../../src/policy/model/model.ts";
import { compiledPolicy, compiledRule } from "../support/compiled-policy.ts";

export const ALICE = "100.64.0.10";
export const DB = "100.64.0.20";
export const WEB = "100.64.0.30";
export const ROUTER = "100.64.0.40";
export const OFFICE_HOST = "198.18.1.7";

export interface RuleSpec {
  id?: string;
  action?: "accept" | "drop";
  protocol?: Protocol;
  sources?: string[];
  destinations?: string[];
  ports?: number[];
  portRanges?: { start: number; end: number }[];
}

let ruleCounter = 0;

export function rule(spec: RuleSpec): CompiledRule {
  const id = spec.id ?? `p${++ruleCounter}/r`;
  // The whole id names the policy, the rule and both names (the ids the engine reports).
  return compiledRule(id, {
    policyId: id.split("/")[0],
    policyName: id,
    ruleId: id,
    ruleName: id,
    action: spec.action ?? "accept",
    protocol: spec.protocol ?? "all",
    sources: spec.sources ?? ["0.0.0.0/0"],
    destinations: spec.destinations ?? [],
    ports: spec.ports ?? [],
    portRanges: spec.portRanges ?? [],
  });
}

export function routeRule(spec: RuleSpec & { resourceId?: string }): CompiledRouteRule {
  return { ...rule(spec), resourceId: spec.resourceId ?? "office-lan", resourceName: spec.resourceId ?? "office-lan" };
}

/** A policy for peer `self`; inbound rules default their destinations to the peer's address. */
export function policyFor(
  self: string,
  lists: { inbound?: RuleSpec[]; outbound?: RuleSpec[]; routes?: (RuleSpec & { resourceId?: string })[] } = {},
): CompiledPeerPolicy {
  return compiledPolicy(self, [self], {
    inbound: (lists.inbound ?? []).map((r) => rule({ destinations: [`${self}/32`], ...r })),
    outbound: (lists.outbound ?? []).map((r) => rule({ sources: [`${self}/32`], destinations: ["0.0.0.0/0"], ...r })),
    routes: (lists.routes ?? []).map((r) => routeRule(r)),
  });
}

/** db-1 accepting tcp/5432 from alice only (one-way), and icmp from anyone. */
export function dbPolicy(): CompiledPeerPolicy {
  return policyFor(DB, {
    inbound: [
      { id: "pg/alice", protocol: "tcp", sources: [`${ALICE}/32`], ports: [5432] },
      { id: "icmp/all", protocol: "icmp", sources: ["100.64.0.0/16"] },
      { id: "dns/udp", protocol: "udp", sources: ["100.64.0.0/16"], ports: [53] },
    ],
  });
}

/** An engine plus helpers that build, judge and describe packets. */
export class Harness {
  readonly engine: Engine;
  now = 1_000_000;

  constructor(policy: CompiledPeerPolicy = dbPolicy(), options: EngineOptions = {}) {
    this.engine = new Engine(policy, options);
    this.engine.setTime(this.now);
  }

  advance(ms: number): void {
    this.now += ms;
    this.engine.setTime(this.now);
  }

  in(packet: Uint8Array | PacketSpec): number {
    const p = packet instanceof Uint8Array ? packet : buildPacket(packet);
    return this.engine.inbound(p, 0, p.length);
  }

  out(packet: Uint8Array | PacketSpec): number {
    const p = packet instanceof Uint8Array ? packet : buildPacket(packet);
    return this.engine.outbound(p, 0, p.length);
  }

  /** Judge inbound and return "accept:<reason>" / "drop:<reason>" for readable assertions. */
  inWhy(packet: Uint8Array | PacketSpec): string {
    const v = this.in(packet);
    return `${v === VERDICT_ACCEPT ? "accept" : "drop"}:${this.engine.reasonName(this.engine.lastReason)}`;
  }

  outWhy(packet: Uint8Array | PacketSpec): string {
    const v = this.out(packet);
    return `${v === VERDICT_ACCEPT ? "accept" : "drop"}:${this.engine.reasonName(this.engine.lastReason)}`;
  }

  get state(): string {
    return this.engine.stateName(this.engine.lastState);
  }
}
