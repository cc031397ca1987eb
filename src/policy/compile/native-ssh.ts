// NetBird's SSH server listens on port 22022, and NetBird redirects port 22 to it on the
// peer. So where a rule opens port 22, NetBird's compiler opens 22022 beside it
// (shared/management/types/firewall_helpers.go, ExpandPortsAndRanges):
// - always for a `netbird-ssh` rule, which is otherwise a tcp rule;
// - for a tcp rule when the peer whose tables are compiled runs an agent of 0.60.0 or
//   newer (or a development build) with its SSH server on and SSH access allowed.
// Only rules with ports are touched (a rule without ports opens every port already), and
// nothing is added when a port or range already covers 22022.

import type { Peer, PolicyRule, PortRange, Protocol } from "../model/model.ts";
import { compareVersionSegments, parseVersion } from "./version.ts";

const SSH_PORT = 22;
const NATIVE_SSH_PORT = 22022;
const NATIVE_SSH_MIN_VERSION = [0, 60, 0];

/** The filter protocol and ports a rule compiles to for `self`. */
export function rulePorts(rule: PolicyRule, self: Peer): { protocol: Protocol; ports: number[]; portRanges: PortRange[] } {
  const protocol = rule.protocol === "netbird-ssh" ? "tcp" : rule.protocol;
  // P12: a port rule never matches ICMP, so an icmp rule carries no ports at all.
  if (protocol === "icmp") return { protocol, ports: [], portRanges: [] };
  const ports = [...rule.ports];
  const portRanges = rule.portRanges.map((r) => ({ start: r.start, end: r.end }));
  const opensNative = rule.protocol === "netbird-ssh" || (protocol === "tcp" && supportsNativeSsh(self));
  const covers = (port: number) => ports.includes(port) || portRanges.some((r) => r.start <= port && port <= r.end);
  if (opensNative && !covers(NATIVE_SSH_PORT) && covers(SSH_PORT)) ports.push(NATIVE_SSH_PORT);
  return { protocol, ports, portRanges };
}

/** NetBird's condition for a tcp rule (shouldCheckRulesForNativeSSH): agent version, SSH server on, SSH allowed. */
function supportsNativeSsh(self: Peer): boolean {
  if (!self.nativeSsh) return false;
  const version = self.meta.version?.trim() ?? "";
  if (/^(development|ci-|dev-)/.test(version)) return true;
  const segments = parseVersion(version);
  return segments !== null && compareVersionSegments(segments, NATIVE_SSH_MIN_VERSION) >= 0;
}
