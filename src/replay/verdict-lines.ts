// The `--verdicts FILE` stream: one JSON object per packet, in capture order,
//   {"index": 0, "dir": "in", "verdict": "accept", "reason": "rule", "rule": "p1/r1", "state": "established"}
// and, for a `tcp-out-of-window` drop, the check that failed:
//   {..., "reason": "tcp-out-of-window", ..., "state": "established", "detail": "seq-above-window"}
// Written for millions of packets, so no JSON.stringify and no string per packet: every
// reason, rule id and state name is JSON-encoded to bytes once, each combination of them
// is assembled into a line tail once, and a line is the index's digits plus a copy of
// its tail in the file writer's reusable buffer, flushed to the file when it fills.

import { BufferedFileWriter } from "../io/buffered-file-writer.ts";

const encoder = new TextEncoder();
const bytes = (text: string): Uint8Array => encoder.encode(text);

// A line is the opening, the index digits, and a tail (dir to state) assembled from
// fragments that each carry the punctuation up to the next value.
const INDEX_OPEN = bytes('{"index": ');
/** `, "dir": ..., "verdict": ..., "reason": ` by [dir][verdict]. */
const DIR_VERDICT = ["none", "in", "out"].map((dir) =>
  ["drop", "accept"].map((verdict) => bytes(`, "dir": "${dir}", "verdict": "${verdict}", "reason": `)),
);
const AFTER_REASON = ', "rule": ';
const AFTER_RULE = ', "state": ';
const LINE_END = bytes("}\n");
const NULL_RULE = bytes(`null${AFTER_RULE}`);
const NULL_STATE = bytes("null");
/** Bytes of the opening, the index (at most 16 digits) and the longest dir/verdict fragment. */
const FIXED_LINE_BYTES = INDEX_OPEN.length + 16 + 48;

const BUFFER_BYTES = 1 << 20;
/** Bound on remembered line tails (combinations of dir, verdict, reason, rule, state). */
const MAX_TAILS = 4096;

/** How the writer turns codes into names; the replay passes the engine's own lookups. */
export interface VerdictNames {
  reasonName(code: number): string;
  ruleId(index: number): string;
  stateName(code: number): string;
  /** The name of a `tcp-out-of-window` detail code (> 0). */
  detailName(code: number): string;
}

/**
 * A lazily filled cache of names encoded as JSON string literals followed by the
 * punctuation that comes after them in a line, indexed by a small non-negative code.
 * Each distinct name is encoded once.
 */
class EncodedNames {
  private readonly cache: (Uint8Array | undefined)[] = [];
  constructor(
    private readonly name: (code: number) => string,
    private readonly after: string,
  ) {}

  get(code: number): Uint8Array {
    let encoded = this.cache[code];
    if (encoded === undefined) {
      encoded = bytes(JSON.stringify(this.name(code)) + this.after);
      this.cache[code] = encoded;
    }
    return encoded;
  }
}

export class VerdictLineWriter {
  private readonly out: BufferedFileWriter;
  private readonly reasons: EncodedNames;
  private readonly rules: EncodedNames;
  private readonly states: EncodedNames;
  private readonly details: EncodedNames;
  private readonly tails = new Map<number, Uint8Array>();

  /** Opens (truncates) `path` for writing; throws OutputError (path and reason) when it cannot. */
  constructor(path: string, names: VerdictNames) {
    this.out = new BufferedFileWriter(path, BUFFER_BYTES);
    this.reasons = new EncodedNames((c) => names.reasonName(c), AFTER_REASON);
    this.rules = new EncodedNames((i) => names.ruleId(i), AFTER_RULE);
    this.states = new EncodedNames((c) => names.stateName(c), "");
    this.details = new EncodedNames((c) => names.detailName(c), "}\n");
  }

  /**
   * Append one line. `dir` is 0 none, 1 in, 2 out (the engine's DIR_*); `verdict` 0 drop,
   * 1 accept; `rule` and `state` are -1 when there is none (written as null); `detail`
   * the engine's lastDetail (0: none, left out of the line).
   */
  write(index: number, dir: number, verdict: number, reason: number, rule: number, state: number, detail = 0): void {
    const tail = this.tail(dir, verdict, reason, rule, state, detail);
    const out = this.out;
    out.reserve(FIXED_LINE_BYTES + tail.length);
    const buffer = out.buf;
    let at = out.pos;
    for (let i = 0; i < INDEX_OPEN.length; i++) buffer[at++] = INDEX_OPEN[i];
    at = putInteger(buffer, at, index);
    buffer.set(tail, at);
    out.pos = at + tail.length;
  }

  /**
   * Everything after the index, for one combination of the other fields. A capture
   * shows few combinations (established traffic is the same tail again and again), so
   * each is assembled once and then copied whole.
   */
  private tail(dir: number, verdict: number, reason: number, rule: number, state: number, detail: number): Uint8Array {
    // 3 dirs x 2 verdicts x 64 reasons x (rules + 1) x (64 states + 1) x 16 details: exact in a double.
    const key = (((((rule + 1) * 65 + (state + 1)) * 64 + reason) * 2 + verdict) * 3 + dir) * 16 + detail;
    let tail = this.tails.get(key);
    if (tail === undefined) {
      const parts = [
        DIR_VERDICT[dir][verdict],
        this.reasons.get(reason),
        rule < 0 ? NULL_RULE : this.rules.get(rule),
        state < 0 ? NULL_STATE : this.states.get(state),
        detail > 0 ? bytes(`, "detail": `) : LINE_END,
        ...(detail > 0 ? [this.details.get(detail)] : []),
      ];
      tail = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const part of parts) {
        tail.set(part, at);
        at += part.length;
      }
      if (this.tails.size >= MAX_TAILS) this.tails.clear();
      this.tails.set(key, tail);
    }
    return tail;
  }

  flush(): void {
    this.out.flush();
  }

  /** Flush and close; safe to call twice. Throws OutputError when the last lines cannot be written. */
  close(): void {
    this.out.close();
  }

  /** Closes without writing what is still buffered; never throws (after another failure). */
  abandon(): void {
    this.out.abandon();
  }
}

/** Writes the decimal digits of a non-negative integer at `at`, without a string; returns the end. */
function putInteger(buffer: Uint8Array, at: number, value: number): number {
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  const end = at + digits;
  let pos = end;
  let rest = value;
  do {
    buffer[--pos] = 48 + (rest % 10);
    rest = Math.floor(rest / 10);
  } while (rest > 0);
  return end;
}
