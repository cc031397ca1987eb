// The replay loop: every packet of a capture, judged as one peer's filter would judge
// it, on the capture's own clock. The direction is the engine's (classify: to one of
// the peer's addresses or a resource it routes = inbound; from them = outbound;
// anything else is not for this peer and is counted, not judged), found by
// `engine.judge` from the same decode that the judging uses.
//
// This loop runs once per packet over captures of any size, so it follows the hot-path
// rules: it reads the reader's and the engine's fields in place and allocates nothing
// per packet. The optional sinks (verdict lines, dropped-packet pcap, progress bar)
// are the only extra work, and they too write into reusable buffers.

import { CaptureError } from "../io/capture-error.ts";
import type { CaptureReader } from "../io/capture-reader.ts";
import type { PcapWriter } from "../io/pcap-writer.ts";
import { DIR_NONE, VERDICT_DROP } from "../engine/engine.ts";
import { REASON_NOT_FOR_PEER } from "../engine/reasons.ts";
import { ReplayCounters } from "./counters.ts";
import type { ProgressBar } from "./progress.ts";
import type { PeerFilter } from "./setup.ts";
import type { VerdictLineWriter } from "./verdict-lines.ts";

/** Resolution of the engine's clock during a replay, in ms. */
export const CLOCK_STEP_MS = 1;

export interface ReplaySinks {
  /** One JSON line per packet (--verdicts). */
  verdicts?: VerdictLineWriter;
  /** The packets the filter dropped, as raw IP (--write-dropped). */
  dropped?: PcapWriter;
  /** Drawn now and then; the caller decides whether there is one at all. */
  progress?: ProgressBar;
}

export interface ReplayResult {
  counters: ReplayCounters;
  /** Set when the capture turned out corrupt or truncated part-way: what was read before it is counted. */
  error: CaptureError | null;
  /** True when `signal` stopped the replay (replayCaptureUntil) before the end of the capture. */
  interrupted: boolean;
}

/** Packets judged between two looks at the abort signal (a turn of the event loop each). */
export const PACKETS_BETWEEN_SIGNAL_CHECKS = 16_384;
const WHOLE_CAPTURE = 0x3fff_ffff;

/** Where the loop is between two calls: the engine clock's last step, and whether the capture has ended. */
interface LoopState {
  clock: number;
  ended: boolean;
}

/**
 * Judge every packet `reader` yields with the peer's engine. Stops at the end of the
 * capture or at the first CaptureError, which is returned (not thrown) so the caller can
 * still report what was judged; any other error is a bug and propagates.
 */
export function replayCapture(reader: CaptureReader, filter: PeerFilter, sinks: ReplaySinks = {}): ReplayResult {
  const counters = new ReplayCounters();
  const state: LoopState = { clock: Number.NEGATIVE_INFINITY, ended: false };
  let error: CaptureError | null = null;
  while (error === null && !state.ended) error = judgeSome(reader, filter, sinks, counters, state, WHOLE_CAPTURE);
  return finish(reader, counters, error, false);
}

/**
 * replayCapture that also stops, at a packet boundary, once `signal` is aborted (Ctrl-C):
 * it yields to the event loop every PACKETS_BETWEEN_SIGNAL_CHECKS packets so that a
 * signal handler can run. The result says whether it was interrupted.
 */
export async function replayCaptureUntil(reader: CaptureReader, filter: PeerFilter, sinks: ReplaySinks, signal: AbortSignal): Promise<ReplayResult> {
  const counters = new ReplayCounters();
  const state: LoopState = { clock: Number.NEGATIVE_INFINITY, ended: false };
  let error: CaptureError | null = null;
  while (!signal.aborted) {
    error = judgeSome(reader, filter, sinks, counters, state, PACKETS_BETWEEN_SIGNAL_CHECKS);
    if (error !== null || state.ended) break;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return finish(reader, counters, error, error === null && !state.ended);
}

function finish(reader: CaptureReader, counters: ReplayCounters, error: CaptureError | null, interrupted: boolean): ReplayResult {
  counters.bytesRead = error ? error.byteOffset : reader.byteOffset;
  return { counters, error, interrupted };
}

/** Judges up to `limit` packets; returns the CaptureError that stopped the capture, or null. */
function judgeSome(reader: CaptureReader, filter: PeerFilter, sinks: ReplaySinks, counters: ReplayCounters, state: LoopState, limit: number): CaptureError | null {
  // The loop lives in its own function, outside this try: a double local that is live
  // into an exception handler is kept boxed, which would cost a heap number per packet.
  try {
    judgeAll(reader, filter, sinks, counters, state, limit);
  } catch (err) {
    if (!(err instanceof CaptureError)) throw err;
    return err;
  }
  return null;
}

function judgeAll(reader: CaptureReader, filter: PeerFilter, sinks: ReplaySinks, counters: ReplayCounters, state: LoopState, limit: number): void {
  const { engine } = filter;
  const { verdicts, dropped, progress } = sinks;
  let clock = state.clock;
  let left = limit | 0;
  while (left-- > 0) {
    if (!reader.next()) {
      state.ended = true;
      break;
    }
    const time = reader.timeMs;
    // The engine's clock only moves forward (captures merged from several interfaces
    // can step back a little; timeouts must never run backwards), and in steps of
    // CLOCK_STEP_MS: setTime takes a double, which V8 boxes into a fresh heap number
    // per call, the loop's only garbage if done per packet. Dense captures step by
    // microseconds; timeouts are seconds.
    if (time - clock >= CLOCK_STEP_MS) {
      clock = time;
      engine.setTime(time);
    }
    counters.countTime(time);
    const data = reader.data;
    const offset = reader.ipOffset;
    const length = reader.ipLength;
    // One decode per packet: judge classifies the decoded packet and judges it that way.
    const verdict = length > 0 ? engine.judge(data, offset, length) : VERDICT_DROP;
    const dir = length > 0 ? engine.lastDirection : DIR_NONE;
    if (dir === DIR_NONE) {
      counters.countNotForPeer(length > 0);
      if (verdicts !== undefined) verdicts.write(reader.index, DIR_NONE, VERDICT_DROP, REASON_NOT_FOR_PEER, -1, -1);
    } else {
      const reason = engine.lastReason;
      counters.countVerdict(dir, verdict, reason, length);
      if (verdicts !== undefined) verdicts.write(reader.index, dir, verdict, reason, engine.lastRule, engine.lastState, engine.lastDetail);
      if (verdict === VERDICT_DROP && dropped !== undefined) dropped.write(data, offset, length, time);
    }
    if (progress !== undefined && progress.due()) progress.show(reader.byteOffset, reader.index + 1);
  }
  state.clock = clock;
}
