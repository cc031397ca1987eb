// The agent's log lines: pino's JSON (one object a line, for journald and log shippers),
// or, for a person at a terminal, "12:00:01.234 INFO  agent running peer=db-1 tun=mf0".
// `meshfilter run --log-format text|json`; the default is text when stderr is a TTY.

import { writeSync } from "node:fs";

const LEVEL_NAMES: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };
/** pino's own fields, not repeated as key=value. */
const OWN_FIELDS = new Set(["level", "time", "msg", "pid", "hostname", "name", "v"]);

/** One pino JSON line as a human-readable line (without the newline). */
export function formatLogLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.trimEnd();
  }
  const time = typeof o.time === "number" ? new Date(o.time).toISOString().slice(11, 23) : "";
  const level = (LEVEL_NAMES[o.level as number] ?? String(o.level)).padEnd(5);
  const fields = Object.entries(o)
    .filter(([k]) => !OWN_FIELDS.has(k))
    .map(([k, v]) => `${k}=${typeof v === "string" && !/[\s"=]/.test(v) && v !== "" ? v : JSON.stringify(v)}`);
  return `${time} ${level} ${String(o.msg ?? "")}${fields.length > 0 ? " " + fields.join(" ") : ""}`;
}

/** A pino destination that writes human-readable lines to `fd`, synchronously (the last lines before an exit are never lost). */
export function textDestination(fd: number): { write(line: string): void } {
  return {
    write(line: string): void {
      writeSync(fd, formatLogLine(line) + "\n");
    },
  };
}
