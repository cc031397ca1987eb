// The agent's side of the control socket: a unix stream socket (protocol.ts) whose file
// is made mode 0600, or 0660 with a group (--control-group) so that its members may
// operate the agent without root. Each request is handed to the command's handler; a
// handler's error becomes the answer's one-line `error`, never a crash of the agent.

import { chmodSync, chownSync, lstatSync, mkdirSync, unlinkSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { dirname } from "node:path";
import { execFileSync } from "node:child_process";
import { encode, parseRequest, PROTOCOL_VERSION, ProtocolError, requestIdOf, type CommandName } from "./protocol.ts";

/** Sends one event of a streaming command; returns false once the client has gone. */
export type EmitEvent = (event: unknown) => boolean;

export interface CommandContext {
  /** For streaming commands: send an event line. */
  emit: EmitEvent;
  /** Called when the client disconnects (streaming commands stop here). */
  onClose(listener: () => void): void;
}

/** A handler answers with a result, or (streaming) with STREAMING and events through ctx.emit. */
export type Handler = (args: Record<string, unknown>, ctx: CommandContext) => unknown | Promise<unknown>;
export const STREAMING = Symbol("streaming");

export interface ControlServerOptions {
  path: string;
  /** A group name or gid: the socket becomes 0660 owned by it. */
  group?: string;
  handlers: Record<CommandName, Handler>;
  /** Reports a handler failure (the client gets the message too). */
  onError?: (command: string, err: unknown) => void;
}

export class ControlServer {
  private constructor(
    readonly path: string,
    private readonly server: Server,
    private readonly sockets: Set<Socket>,
  ) {}

  static async listen(options: ControlServerOptions): Promise<ControlServer> {
    const { path } = options;
    const gid = options.group === undefined ? undefined : groupId(options.group);
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    } catch (err) {
      throw new Error(`cannot serve the control socket at ${path}: cannot create ${dirname(path)}: ${(err as Error).message} (give --control PATH, or --no-control)`);
    }
    if (await someoneListens(path)) throw new Error(`cannot serve the control socket at ${path}: another agent is serving it (give this one --control PATH)`);
    removeStaleSocket(path);
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
      serveConnection(socket, options);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err: NodeJS.ErrnoException) => reject(new Error(`cannot serve the control socket at ${path}: ${err.message}`)));
      // The umask makes the file 0600 from its first moment; chmod/chown below widen it for a group.
      const umask = process.umask(0o177);
      server.listen(path, () => resolve());
      process.umask(umask);
    });
    try {
      if (gid !== undefined) {
        chownSync(path, process.getuid?.() ?? 0, gid);
        chmodSync(path, 0o660);
      } else {
        chmodSync(path, 0o600);
      }
    } catch (err) {
      server.close();
      throw new Error(`cannot set the control socket's owner or mode at ${path}: ${(err as Error).message}`);
    }
    return new ControlServer(path, server, sockets);
  }

  /** Stops listening, ends every connection and removes the socket file. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      // already gone (net.Server removes it on close on some platforms)
    }
  }
}

function serveConnection(socket: Socket, options: ControlServerOptions): void {
  socket.setEncoding("utf8");
  let buffered = "";
  let queue = Promise.resolve();
  const closeListeners: (() => void)[] = [];
  socket.once("close", () => closeListeners.splice(0).forEach((l) => l()));
  socket.on("error", () => socket.destroy());
  const send = (text: string): boolean => {
    if (socket.destroyed) return false;
    socket.write(text);
    return true;
  };
  socket.on("data", (chunk: string) => {
    buffered += chunk;
    if (buffered.length > MAX_REQUEST_BYTES) {
      send(encode({ v: PROTOCOL_VERSION, id: 0, ok: false, error: `request longer than ${MAX_REQUEST_BYTES} bytes` }));
      socket.end();
      return;
    }
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line === "") continue;
      queue = queue.then(() => answer(line));
    }
  });

  async function answer(line: string): Promise<void> {
    let id = 0;
    try {
      const request = parseRequest(line);
      id = request.id;
      const ctx: CommandContext = {
        emit: (event) => send(encode({ v: PROTOCOL_VERSION, id, event })),
        onClose: (l) => closeListeners.push(l),
      };
      const result = await options.handlers[request.command](request.args, ctx);
      if (result !== STREAMING) send(encode({ v: PROTOCOL_VERSION, id, ok: true, result }));
    } catch (err) {
      if (!(err instanceof ProtocolError) && !(err instanceof CommandError)) options.onError?.(line, err);
      if (id === 0) id = requestIdOf(line);
      const message = (err instanceof Error ? err.message : String(err)).split("\n")[0];
      send(encode({ v: PROTOCOL_VERSION, id, ok: false, error: message }));
    }
  }
}

/** A handler's refusal of its arguments: answered as the error, not reported as a failure. */
export class CommandError extends Error {}

const MAX_REQUEST_BYTES = 1 << 20;

/** True when a server answers at `path` (a running agent), false for nothing or a stale file. */
function someoneListens(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}

/** A socket file left by an agent that died is removed; anything else at the path is not touched. */
function removeStaleSocket(path: string): void {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new Error(`cannot serve the control socket at ${path}: a file that is not a socket is in the way`);
  unlinkSync(path);
}

function groupId(group: string): number {
  if (/^[0-9]+$/.test(group)) return Number(group);
  try {
    const line = execFileSync("getent", ["group", group], { encoding: "utf8" }).trim();
    return Number(line.split(":")[2]);
  } catch {
    throw new Error(`--control-group ${group}: no such group`);
  }
}
