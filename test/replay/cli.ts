// Runs the real command line (`bin/meshfilter.js`) in a child process, as a user would.

import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const MESH = path.join(ROOT, "examples/mesh.pcap");
export const DEFAULT_POLICY = path.join(ROOT, "examples/default.yaml");
export const RESTRICTIVE_POLICY = path.join(ROOT, "examples/restrictive.yaml");

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function meshfilter(...args: string[]): CliResult {
  const r = spawnSync(process.execPath, [path.join(ROOT, "bin/meshfilter.js"), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 60_000,
    maxBuffer: 64 << 20,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
