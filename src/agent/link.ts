// Configures the agent's TUN interface with iproute2, as an agent author expects the
// agent to do: MTU, queue length, overlay address, link up, and a route into the tunnel for every
// prefix reached through a routing peer. Cold path; needs CAP_NET_ADMIN.

import { execFileSync } from "node:child_process";

export interface LinkConfig {
  /** Interface name, e.g. "mf0". */
  name: string;
  /** Overlay address with the overlay's prefix length, e.g. "100.64.0.10/16". */
  address: string;
  mtu: number;
  /**
   * Packets the kernel may queue for the agent to read. When the queue is full the kernel
   * drops instead of pushing back, and TCP reads each drop as congestion: the default 500 is
   * too short for the bursts a fast sender makes while the agent waits for its turn on the CPU.
   */
  txQueueLength: number;
  /** Prefixes behind routing peers that must enter the tunnel, e.g. ["198.18.1.0/24"]. */
  routes: string[];
}

function ip(args: string[]): void {
  try {
    execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`ip ${args.join(" ")} failed: ${stderr || (err as Error).message}`);
  }
}

export function configureLink(link: LinkConfig): void {
  ip(["link", "set", "dev", link.name, "mtu", String(link.mtu), "txqueuelen", String(link.txQueueLength)]);
  // "replace" makes a restart of the agent on a persistent device idempotent.
  ip(["addr", "replace", link.address, "dev", link.name]);
  ip(["link", "set", "dev", link.name, "up"]);
  for (const prefix of link.routes) ip(["route", "replace", prefix, "dev", link.name]);
}
