// Prints the counts of each capture given (see src/io/capture-summary.ts), one JSON
// line per file: the numbers fixtures/README.md and examples/README.md quote.
// Usage: tsx scripts/capture-summary.ts FILE...
import { summarizeCapture } from "../src/io/capture-summary.ts";

for (const path of process.argv.slice(2)) {
  const { firstTimeMs, lastTimeMs, ...counts } = summarizeCapture(path);
  console.log(JSON.stringify({ path, ...counts, durationMs: Math.round(lastTimeMs - firstTimeMs) }));
}
