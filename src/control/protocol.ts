// The control socket's protocol, version 1: JSON lines over a unix stream socket.
//
// The client writes one request per line:
//   {"v": 1, "id": 7, "command": "flows", "args": {"port": 5432}}
// and the agent answers each with one line carrying the same id:
//   {"v": 1, "id": 7, "ok": true, "result": ...}
//   {"v": 1, "id": 7, "ok": false, "error": "one line saying what is wrong"}
// A streaming command (watch) answers with any number of event lines,
//   {"v": 1, "id": 7, "event": {...}}
// until the client closes the connection. Requests on one connection are answered in
// order. A request with another "v" is refused with an error naming the versions spoken.
// docs/operating.md documents every command's arguments and result.

export const PROTOCOL_VERSION = 1;

/** The commands the agent serves. */
export const COMMANDS = ["status", "flows", "watch", "flush", "trace", "counters", "reload", "log-level"] as const;
export type CommandName = (typeof COMMANDS)[number];

export interface Request {
  v: number;
  id: number;
  command: CommandName;
  args: Record<string, unknown>;
}

export type Response = { v: number; id: number; ok: true; result: unknown } | { v: number; id: number; ok: false; error: string } | { v: number; id: number; event: unknown };

/** A request line that cannot be served; the message is the answer's `error`. */
export class ProtocolError extends Error {}

/** Reads one request line; throws ProtocolError naming what is wrong. */
export function parseRequest(line: string): Request {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new ProtocolError(`request is not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new ProtocolError("request is not a JSON object");
  const r = value as Record<string, unknown>;
  if (r.v !== PROTOCOL_VERSION) throw new ProtocolError(`protocol version ${JSON.stringify(r.v)} is not spoken here (this agent speaks version ${PROTOCOL_VERSION})`);
  if (typeof r.id !== "number" || !Number.isInteger(r.id)) throw new ProtocolError("request $.id must be an integer");
  if (typeof r.command !== "string" || !(COMMANDS as readonly string[]).includes(r.command)) {
    throw new ProtocolError(`request $.command ${JSON.stringify(r.command)} is not one of ${COMMANDS.join(", ")}`);
  }
  const args = r.args ?? {};
  if (typeof args !== "object" || args === null || Array.isArray(args)) throw new ProtocolError("request $.args must be an object");
  return { v: PROTOCOL_VERSION, id: r.id, command: r.command as CommandName, args: args as Record<string, unknown> };
}

/** The id of a line that failed parseRequest, when it has one (so the error can be matched to it). */
export function requestIdOf(line: string): number {
  try {
    const id = (JSON.parse(line) as { id?: unknown }).id;
    return typeof id === "number" ? id : 0;
  } catch {
    return 0;
  }
}

export function encode(response: Response): string {
  return JSON.stringify(response) + "\n";
}

/** The default socket path (systemd's RuntimeDirectory=meshfilter makes /run/meshfilter). */
export const DEFAULT_CONTROL_PATH = "/run/meshfilter/meshfilter.sock";
