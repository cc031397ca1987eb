#!/usr/bin/env node
// The meshfilter command: runs the JavaScript that `npm run build` emits into dist/ (npm
// runs it on install, through `prepare`; the tests rebuild it when src/ is newer).
try {
  await import("../dist/cli/main.js");
} catch (err) {
  if (err?.code !== "ERR_MODULE_NOT_FOUND" || !String(err.message).includes("dist/cli/main.js")) throw err;
  console.error("meshfilter: dist/ is missing (the build did not run); run 'npm run build' in the package folder");
  process.exitCode = 1;
}
