// Running meshfilter's command line from tests: in this process through a command's
// run(argv), or as a user would, through bin/meshfilter.js in a child process.

import path from "node:path";
import { vi } from "vitest";

/** The repository's root folder (the working directory the CLI expects). */
export const ROOT = path.resolve(import.meta.dirname, "../..");
/** The installed entry point, `meshfilter` on a user's PATH. */
export const MESHFILTER_BIN = path.join(ROOT, "bin/meshfilter.js");

export interface CommandOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command's run(argv) in this process and captures what it prints (console.log / console.error). */
export async function runCommand(run: (argv: string[]) => Promise<number>, argv: string[]): Promise<CommandOutput> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...a) => void out.push(a.join(" ")));
  const error = vi.spyOn(console, "error").mockImplementation((...a) => void err.push(a.join(" ")));
  try {
    const code = await run(argv);
    return { code, stdout: out.join("\n"), stderr: err.join("\n") };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}
