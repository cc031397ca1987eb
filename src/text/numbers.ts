// How every text output writes numbers: counts with thousands separators ("1,234,567"),
// sizes, rates and durations short enough to read at a glance ("1.2 GB", "3.4 M/s",
// "1:05"). The formats are fixed (en-US), not the reader's locale, so output is the same
// on every machine and can be compared and grepped. --json outputs keep the exact
// numbers; only text is rounded.

const COUNT = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const DECIMAL = new Intl.NumberFormat("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const COMPACT = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });
const BYTES = ["kilobyte", "megabyte", "gigabyte", "terabyte"].map(
  (unit) => new Intl.NumberFormat("en-US", { style: "unit", unit, unitDisplay: "short", maximumFractionDigits: 1 }),
);

/** An exact count: 1234567 -> "1,234,567". */
export function formatCount(n: number): string {
  return COUNT.format(n);
}

/** A number with one decimal: 2.345 -> "2.3", 4 -> "4.0". */
export function formatDecimal(n: number): string {
  return DECIMAL.format(n);
}

/** A size in bytes, rounded for reading (SI units): 999 -> "999 B", 1234567 -> "1.2 MB". */
export function formatBytes(n: number): string {
  if (n < 1000) return `${COUNT.format(n)} B`;
  let unit = 0;
  let value = n / 1000;
  while (value >= 1000 && unit < BYTES.length - 1) {
    value /= 1000;
    unit++;
  }
  return BYTES[unit].format(value);
}

/** A rate per second, rounded for reading: 612345.6 -> "612.3K/s". */
export function formatRate(perSecond: number, what = ""): string {
  return `${COMPACT.format(perSecond)}${what ? ` ${what}` : ""}/s`;
}

/** A duration as a clock: 65_000 ms -> "1:05", 3_723_000 -> "1:02:03". */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const s = total % 60;
  const m = Math.floor(total / 60) % 60;
  const h = Math.floor(total / 3600);
  const two = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
}
