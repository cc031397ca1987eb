// What `replay` and `watch` both do before the first packet: read the policy file,
// compile it for the chosen peer, and build the engine. Problems come back as a
// PolicyError (every problem with its JSON path) for the commands to print.

import { Engine } from "../engine/engine.ts";
import { compilePeer } from "../policy/compile/compile.ts";
import type { CompiledPeerPolicy } from "../filter/compiled-policy.ts";
import { loadPolicyFile } from "../policy/input/load.ts";
import { loadNetworkMapFile } from "../policy/input/netbird/network-map.ts";
import { applyResolved } from "../engine/resolved-domains.ts";

export interface FilterOptions {
  /** An account policy file, compiled for `peer`; or, instead, */
  policyPath?: string;
  /** a NetBird NetworkMap (network_map.json or binary), already one peer's. */
  networkMapPath?: string;
  /** Peer id, name or overlay IP (with policyPath). */
  peer?: string;
  /** Enforce outbound rules too (P13); off by default, as in NetBird. */
  egress?: boolean;
  /** Honour the bidirectional flag for every protocol instead of P5. */
  honourBidirectional?: boolean;
  /** Accept TCP connections picked up mid-stream (no SYN seen), as when a capture starts late. */
  looseTcp?: boolean;
  /** Addresses of domain resources by name (--resolve), for offline use. */
  resolve?: Map<string, string[]>;
}

export interface PeerFilter {
  policy: CompiledPeerPolicy;
  engine: Engine;
}

/** Throws PolicyError for a bad policy or an unknown peer, NetworkMapError for a bad map, ResolveOptionError for a bad --resolve, or the fs error for an unreadable file. */
export function buildPeerFilter(options: FilterOptions): PeerFilter {
  const policy = options.networkMapPath
    ? loadNetworkMapFile(options.networkMapPath)
    : compilePeer(loadPolicyFile(options.policyPath ?? ""), options.peer ?? "", { honourBidirectionalFlag: options.honourBidirectional ?? false });
  const engine = new Engine(policy, { egress: options.egress ?? false, looseTcp: options.looseTcp ?? false });
  if (options.resolve) applyResolved(engine, policy, options.resolve);
  return { policy, engine };
}
