// What one peer must enforce: the filter's input, which it builds its hot-path tables
// from. It lives with the filter, its consumer: whatever produces it (src/policy's
// compiler from an account, or a NetBird NetworkMap) depends on the filter, never the
// other way round. Kept small on purpose: addresses are CIDR strings here (cold path);
// the filter turns them into numbers.

/** The protocols a rule can name. */
export type Protocol = "all" | "tcp" | "udp" | "icmp";
export type Action = "accept" | "drop";

export interface PortRange {
  start: number;
  end: number;
}

export interface CompiledRule {
  /** Stable id for counters, verdict streams and logs: "<policyId>/<ruleId>" plus a suffix
   *  (":rev" for the reverse half of a bidirectional rule, ":route:<resourceId|routeId>" for route
   *  rules, ":to:<resourceId|routeId>" for outbound rules towards a routed resource; a legacy route
   *  without access-control groups yields "route:<routeId>/default-permit"). */
  id: string;
  policyId: string;
  policyName: string;
  ruleId: string;
  ruleName: string;
  action: Action;
  protocol: Protocol;
  /** Prefixes of the peers that may initiate ("100.64.0.5/32", "fd00::5/128", "0.0.0.0/0"). */
  sources: string[];
  /** Prefixes the connection may go to: this peer's own addresses for inbound rules, remote
   *  peers for outbound rules, the resource's prefixes for route rules. */
  destinations: string[];
  /** Destination ports of the initiating packet (P12). Both empty = any port. Never used for ICMP. */
  ports: number[];
  portRanges: PortRange[];
  /** True when this rule is the reverse half of a bidirectional (or always-bidirectional, P5) rule. */
  reverse: boolean;
}

export interface CompiledRouteRule extends CompiledRule {
  resourceId: string;
  resourceName: string;
  /** For a domain resource: the domain whose resolved addresses fill `destinations` at run time
   *  (see the filter's setResourceAddresses); `destinations` starts empty. */
  domain?: string;
  /** Traffic this peer forwards under the rule leaves with the peer's own address on the
   *  resource's side (the route's or network router's `masquerade`; src/agent/masquerade.ts). */
  masquerade?: boolean;
}

export interface CompiledPeer {
  id: string;
  name: string;
  /** The peer's overlay addresses (IPv4, then IPv6 if any), without prefix length. */
  addresses: string[];
}

export interface CompiledPeerPolicy {
  peer: CompiledPeer;
  /** Connections other peers may open to this peer (enforced on its inbound path, P3). */
  inbound: CompiledRule[];
  /** Connections this peer may open; enforced only in egress mode (P13). */
  outbound: CompiledRule[];
  /** Traffic this peer routes to network resources (P6); empty unless it is a routing peer. */
  routes: CompiledRouteRule[];
}

export interface CompileOptions {
  /** Honour the bidirectional flag for every protocol (newer NetBird) instead of P5. Default false. */
  honourBidirectionalFlag?: boolean;
}
