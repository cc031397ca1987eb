import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The real bin runs dist/: rebuilt first when src/ is newer.
    globalSetup: ["test/support/build-dist.ts"],
    // Native addon and network-namespace tests need real processes, not worker threads.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
