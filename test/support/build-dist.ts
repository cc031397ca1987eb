// vitest globalSetup: the tests that run the real bin (bin/meshfilter.js runs dist/) must
// test the current sources, so dist/ is rebuilt first when src/ is newer than it.

import { execFileSync } from "node:child_process";
import path from "node:path";

export default function buildDist(): void {
  execFileSync(process.execPath, [path.resolve(import.meta.dirname, "../../scripts/build-dist-if-stale.mjs")], { stdio: "inherit" });
}
