// vitest globalSetup: the tests that run the real bin (bin/meshfilter.js runs dist/) must
// test the current sources, so dist/ is rebuilt first whenever something it is built
// from is newer than the last build. On a fresh clone `npm ci` has just built it, and
// nothing is done.

import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "../..");
/** Written after each build by this setup; `npm run build` writes it too (package.json). */
const STAMP = path.join(ROOT, "dist/.built");

function newestMtime(entry: string): number {
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of readdirSync(entry)) newest = Math.max(newest, newestMtime(path.join(entry, name)));
  return newest;
}

export default function buildDist(): void {
  const inputs = ["src", "tsconfig.json", "tsconfig.build.json", "package.json"].map((p) => path.join(ROOT, p));
  const built = existsSync(STAMP) ? statSync(STAMP).mtimeMs : 0;
  if (inputs.every((p) => newestMtime(p) <= built)) return;
  console.log("building dist/ (src/ changed since the last build): npm run build");
  execFileSync("npm", ["run", "--silent", "build"], { cwd: ROOT, stdio: "inherit" });
  writeFileSync(STAMP, "");
}
