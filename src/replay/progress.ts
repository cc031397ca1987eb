// A progress bar for long replays, drawn on stderr only when stderr is a terminal (so
// pipes and logs see nothing). Progress is bytes read against the file size; the line
// also says packets so far, their rate, the time elapsed and the time left at that rate.
// The replay loop calls `due()` (a counter check) per packet and `show()` only when it
// says so, and `show()` redraws at most every REDRAW_MS, so the bar costs nothing.

import { formatCount, formatDecimal, formatDuration, formatRate } from "../text/numbers.ts";

const REDRAW_MS = 200;
const CHECK_EVERY_PACKETS = 65_536;
const BAR_WIDTH = 30;

export class ProgressBar {
  private countdown = CHECK_EVERY_PACKETS;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private drawn = false;
  private readonly start = performance.now();

  constructor(
    private readonly totalBytes: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  /** Whether a bar should be drawn at all: a terminal, and a file worth waiting for. */
  static wanted(totalBytes: number, stream: NodeJS.WriteStream = process.stderr): boolean {
    return stream.isTTY === true && totalBytes >= 16 * 1024 * 1024;
  }

  /** Cheap per-packet check: true once every CHECK_EVERY_PACKETS calls. */
  due(): boolean {
    if (--this.countdown > 0) return false;
    this.countdown = CHECK_EVERY_PACKETS;
    return true;
  }

  show(bytesRead: number, packets: number): void {
    const now = performance.now();
    if (now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    const fraction = this.totalBytes > 0 ? Math.min(1, bytesRead / this.totalBytes) : 0;
    const filled = Math.round(fraction * BAR_WIDTH);
    const bar = "#".repeat(filled) + ".".repeat(BAR_WIDTH - filled);
    const percent = `${formatDecimal(fraction * 100)}%`.padStart(6);
    const elapsed = now - this.start;
    const rate = elapsed > 0 ? (packets * 1000) / elapsed : 0;
    const eta = fraction > 0 ? (elapsed * (1 - fraction)) / fraction : Number.NaN;
    const left = Number.isFinite(eta) ? formatDuration(eta) : "?";
    // \r and "erase line" (ESC [2K): the line is redrawn in place, whatever its length was.
    this.stream.write(`\r\x1b[2K[${bar}] ${percent}  ${formatCount(packets)} packets  ${formatRate(rate, "packets")}  elapsed ${formatDuration(elapsed)}  ETA ${left}`);
    this.drawn = true;
  }

  /** Erase the bar so the summary starts on a clean line. */
  clear(): void {
    if (this.drawn) this.stream.write("\r\x1b[2K");
    this.drawn = false;
  }
}
