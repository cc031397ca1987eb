// The lookup structure for one list of rules (inbound, outbound, or routes): rules
// are filed into buckets by protocol class and destination port (port-index.ts), and
// inside a bucket by their (source, destination) prefix pairs (tuple-space.ts).
// `match` answers the best (lowest) rank of the rules matching a packet that opens a
// connection, in a bounded number of hash probes.

import type { PacketRecord } from "../packet/record.ts";
import type { CompiledRule } from "./compiled-policy.ts";
import type { CidrCache } from "./cidr-cache.ts";
import { FilterError } from "./filter-error.ts";
import { PortIndex } from "./port-index.ts";
import { classOfProtocolNumber, classesOfRuleProtocol, PORTED_CLASS_COUNT } from "./protocol-class.ts";
import { NO_MATCH, TupleSpace } from "./tuple-space.ts";

export { NO_MATCH };

/** One rule to file, with where it sits in the compiled policy (for error messages). */
export interface IndexedRule {
  rule: CompiledRule;
  rank: number;
  path: string;
}

export class RuleIndex {
  private readonly ports = new PortIndex();
  private readonly tuples = new TupleSpace();

  constructor(rules: readonly IndexedRule[], cidrs: CidrCache) {
    const buckets: number[] = [];
    for (const { rule, rank, path } of rules) {
      const sources = cidrs.parseAll(rule.sources, `${path}.sources`);
      const destinations = cidrs.parseAll(rule.destinations, `${path}.destinations`);
      buckets.length = 0;
      this.bucketsOf(rule, path, buckets);
      for (const bucket of buckets) {
        for (const source of sources) {
          for (const destination of destinations) {
            if (source.version === destination.version) this.tuples.add(bucket, source, destination, rank);
          }
        }
      }
    }
    this.ports.seal();
    this.tuples.seal(this.ports.bucketCount);
  }

  /** Number of (bucket, source prefix, destination prefix) entries: the index's size. */
  get pairCount(): number {
    return this.tuples.pairCount;
  }

  /** Number of tuples: what one lookup may probe is a few of these. */
  get tupleCount(): number {
    return this.tuples.tupleCount;
  }

  /** Hot path: the best rank among rules matching the packet, or NO_MATCH. */
  match(rec: PacketRecord): number {
    const cls = classOfProtocolNumber(rec.protocol);
    if (cls >= PORTED_CLASS_COUNT) return this.tuples.probe(this.ports.generalBucket(cls), rec, NO_MATCH);
    // The port's buckets are read first: in a large rule set that read is a cache miss,
    // which then overlaps the general bucket's probes instead of following them.
    const port = rec.dstPort;
    const exact = this.ports.exactBucket(cls, port);
    const segment = this.ports.segment(cls, port);
    let best = this.tuples.probe(this.ports.generalBucket(cls), rec, NO_MATCH);
    if (exact >= 0) best = this.tuples.probe(exact, rec, best);
    if (segment >= 0) {
      const end = this.ports.segmentEnd(segment);
      for (let i = this.ports.segmentFirst(segment); i < end; i++) {
        best = this.tuples.probe(this.ports.segmentBucket(i), rec, best);
      }
    }
    return best;
  }

  /** The buckets a rule belongs to: "all" / "icmp" / portless tcp-udp rules in the general buckets (P12). */
  private bucketsOf(rule: CompiledRule, path: string, out: number[]): void {
    const classes = classesOfRuleProtocol(rule.protocol);
    if (classes === undefined) throw new FilterError(`${path}.protocol`, `unknown protocol "${String(rule.protocol)}"`);
    const ported = rule.protocol === "tcp" || rule.protocol === "udp";
    const ports = rule.ports ?? [];
    const ranges = rule.portRanges ?? [];
    if (!ported || (ports.length === 0 && ranges.length === 0)) {
      for (const cls of classes) out.push(this.ports.generalBucket(cls));
      return;
    }
    const cls = classes[0];
    ports.forEach((port, i) => {
      checkPort(port, `${path}.ports[${i}]`);
      out.push(this.ports.addPort(cls, port));
    });
    ranges.forEach((range, i) => {
      const where = `${path}.portRanges[${i}]`;
      checkPort(range?.start, `${where}.start`);
      checkPort(range.end, `${where}.end`);
      if (range.start > range.end) throw new FilterError(where, `start ${range.start} is above end ${range.end}`);
      out.push(this.ports.addRange(cls, range.start, range.end));
    });
  }
}

function checkPort(port: unknown, path: string): void {
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new FilterError(path, `port must be an integer 0..65535, got ${JSON.stringify(port)}`);
  }
}
