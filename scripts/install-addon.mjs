// npm's `install` step: builds the TUN addon (node-gyp rebuild -C native) unless the built
// addon is newer than its sources and was built for this Node ABI, platform and CPU. A
// rebuild takes most of a minute; skipping an up-to-date one keeps `npm ci` and the first
// `npx meshfilter` in a clone fast.

import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

const native = path.resolve(import.meta.dirname, "../native");
const addon = path.join(native, "build/Release/meshfilter_native.node");
const stamp = path.join(native, "build/.built-for");
const target = `${process.versions.modules} ${process.platform} ${process.arch}`;

function upToDate() {
  if (!existsSync(addon) || !existsSync(stamp) || readFileSync(stamp, "utf8") !== target) return false;
  const built = statSync(addon).mtimeMs;
  const sources = [path.join(native, "binding.gyp"), ...readdirSync(path.join(native, "src")).map((f) => path.join(native, "src", f))];
  return sources.every((f) => statSync(f).mtimeMs <= built);
}

if (!upToDate()) {
  // npm puts its own node-gyp on PATH for install scripts.
  execFileSync("node-gyp", ["rebuild", "-C", native], { stdio: "inherit" });
  writeFileSync(stamp, target);
}
