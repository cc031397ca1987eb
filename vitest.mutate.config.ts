// The tests `npm run mutate` (StrykerJS, stryker.config.json) runs against each mutant:
// those that exercise the TCP tracker and the TCP/IPv4 header view, without the slow
// end-to-end, replay and benchmark suites.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "test/conntrack/**/*.test.ts",
      "test/engine/tcp*.test.ts",
      "test/engine/segment-runs.test.ts",
      "test/packet/segment-run.test.ts",
      "test/packet/decode-fast-path.test.ts",
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
