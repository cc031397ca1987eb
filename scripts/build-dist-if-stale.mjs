// `npm run build` unless dist/ is newer than everything it is built from. npm runs this
// as `prepare` (on `npm ci`, `npm install` and when `npx meshfilter` links the clone),
// and the tests' globalSetup runs it so that tests of the real bin test current code.
// dist/.built is written by `npm run build` when tsc has emitted.

import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");

function newestMtime(entry) {
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of readdirSync(entry)) newest = Math.max(newest, newestMtime(path.join(entry, name)));
  return newest;
}

const stamp = path.join(root, "dist/.built");
const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
const inputs = ["src", "tsconfig.json", "tsconfig.build.json"].map((p) => path.join(root, p));
if (inputs.some((p) => newestMtime(p) > built)) {
  console.error("meshfilter: building dist/ from src/ (npm run build)");
  execFileSync("npm", ["run", "--silent", "build"], { cwd: root, stdio: "inherit" });
}
