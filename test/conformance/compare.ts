// The comparison: per scenario, per packet, Linux's verdict against meshfilter's.
// A disagreement is explained by the allow list (a documented, deliberate departure
// from Linux), or it fails the test; an allow-list entry that explains nothing fails too. Separately, a scenario's probe whose Linux verdict is not the one
// the scenario was written for no longer probes its edge: that fails too.

import type { Arrival } from "./capture.ts";
import type { MeshfilterVerdict } from "./meshfilter-judge.ts";
import { describe, flagText, type PacketView } from "./packet-view.ts";
import type { Category, ScenarioContext, Verdict } from "./scenario.ts";

export interface PacketResult {
  scenario: string;
  category: Category;
  /** Position among the scenario's packets at fw, from 0. */
  index: number;
  label: string;
  text: string;
  linux: Verdict;
  meshfilter: Verdict;
  reason: string;
  state: string | null;
  expect?: Verdict;
}

/** A packet named by scenario and label (or a predicate on the result). */
export interface PacketSelector {
  scenario: string;
  packet: string | ((r: PacketResult) => boolean);
}

export function selects(s: PacketSelector, r: PacketResult): boolean {
  return s.scenario === r.scenario && (typeof s.packet === "string" ? s.packet === r.label : s.packet(r));
}

const verdict = (accepted: boolean): Verdict => (accepted ? "accept" : "drop");

/** The label of a packet the endpoint kernels sent: "kernel SA", "kernel udp", "kernel icmp 3/3". */
function kernelLabel(v: PacketView): string {
  if (v.protocol === 6) return `kernel ${flagText(v.flags)}`;
  if (v.protocol === 17) return "kernel udp";
  return `kernel icmp ${v.icmpType}/${v.icmpCode}`;
}

/** Joins arrivals, meshfilter's verdicts and the scenarios' labels into one result per scenario packet. */
export function results(contexts: readonly ScenarioContext[], arrivals: readonly Arrival[], mf: readonly MeshfilterVerdict[]): PacketResult[] {
  const out: PacketResult[] = [];
  for (const ctx of contexts) {
    const labels = new Map<string, { label: string; expect?: Verdict }[]>();
    for (const inj of ctx.injected) {
      const list = labels.get(inj.hex) ?? [];
      list.push({ label: inj.label, expect: inj.expect });
      labels.set(inj.hex, list);
    }
    let index = 0;
    for (const a of arrivals) {
      if (!ctx.owns(a.port)) continue;
      const known = labels.get(Buffer.from(a.bytes).toString("hex"))?.shift();
      const m = mf[a.index];
      out.push({
        scenario: ctx.scenario.name,
        category: ctx.scenario.category,
        index: index++,
        label: known?.label ?? kernelLabel(a.view),
        text: describe(a.view),
        linux: verdict(a.forwarded),
        meshfilter: verdict(m.accepted),
        reason: m.reason,
        state: m.state,
        expect: known?.expect,
      });
    }
  }
  return out;
}

export interface Explained<E> {
  result: PacketResult;
  entry: E;
}

export interface Comparison<A> {
  agreements: number;
  allowed: Explained<A>[];
  unexplained: PacketResult[];
  /** Allow-list entries that matched no disagreement (no longer a departure, or renamed). */
  unused: A[];
  /** Probes whose Linux verdict is not the one the scenario was written for. */
  offTarget: PacketResult[];
}

export function compare<A extends PacketSelector>(all: readonly PacketResult[], allowList: readonly A[]): Comparison<A> {
  const c: Comparison<A> = { agreements: 0, allowed: [], unexplained: [], unused: [], offTarget: [] };
  const used = new Set<A>();
  for (const r of all) {
    if (r.expect && r.expect !== r.linux) c.offTarget.push(r);
    if (r.linux === r.meshfilter) {
      c.agreements++;
      continue;
    }
    const allowed = allowList.find((e) => selects(e, r));
    if (allowed) {
      used.add(allowed);
      c.allowed.push({ result: r, entry: allowed });
      continue;
    }
    c.unexplained.push(r);
  }
  c.unused = allowList.filter((e) => !used.has(e));
  return c;
}

export function line(r: PacketResult): string {
  return `${r.scenario} #${r.index} [${r.label}] ${r.text}: linux ${r.linux}, meshfilter ${r.meshfilter} (${r.reason}${r.state ? `, ${r.state}` : ""})`;
}
