// A progress bar for long replays, drawn on stderr only when stderr is a terminal (so
// pipes, logs and tests see nothing). Progress is bytes read against the file size.
// The replay loop calls `due()` (a counter check) per packet and `show()` only when it
// says so, and `show()` redraws at most every REDRAW_MS, so the bar costs nothing.

const REDRAW_MS = 200;
const CHECK_EVERY_PACKETS = 65_536;
const BAR_WIDTH = 30;

export class ProgressBar {
  private countdown = CHECK_EVERY_PACKETS;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private drawn = false;

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
    const percent = (fraction * 100).toFixed(1).padStart(5);
    this.stream.write(`\r[${bar}] ${percent}%  ${packets.toLocaleString("en-US")} packets`);
    this.drawn = true;
  }

  /** Erase the bar so the summary starts on a clean line. */
  clear(): void {
    if (this.drawn) this.stream.write(`\r${" ".repeat(BAR_WIDTH + 40)}\r`);
    this.drawn = false;
  }
}
