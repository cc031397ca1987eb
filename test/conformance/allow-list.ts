// Disagreements with Linux that are meshfilter's deliberate choices. Each entry names
// the scenario and packet and the departure that explains it; each departure is a
// section of docs/conntrack.md ("Departures from Linux"), which says what Linux does,
// what meshfilter does instead, and why. The test checks that every departure named
// here is written there. Anything not listed here (or, for now, in
// expected-failures.ts) fails the test.

import type { PacketResult, PacketSelector } from "./compare.ts";

/** The departures, by the heading they have in docs/conntrack.md. */
export const DEPARTURES = {
  oldSegment: "Segments older than the window are dropped",
  icmpQuoteWindow: "ICMP errors must quote a sequence number inside the window",
} as const;

export type Departure = (typeof DEPARTURES)[keyof typeof DEPARTURES];

export interface AllowEntry extends PacketSelector {
  departure: Departure;
  /** Why this packet shows the departure. */
  why: string;
}

const linuxAcceptsMeshfilterDrops = (r: PacketResult) => r.linux === "accept" && r.meshfilter === "drop";

export const ALLOW_LIST: AllowEntry[] = [];

void linuxAcceptsMeshfilterDrops;
