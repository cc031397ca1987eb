// The client side of the control socket (protocol.ts): one connection per command, a
// request, and its answer (or, for watch, a stream of events). Every failure to reach the
// agent is one line saying what to do about it.

import { connect, type Socket } from "node:net";
import { DEFAULT_CONTROL_PATH, PROTOCOL_VERSION, type CommandName } from "./protocol.ts";

/** The agent could not be reached or refused the request; the message is one line for the user. */
export class ControlError extends Error {}

function connectionProblem(path: string, err: NodeJS.ErrnoException): ControlError {
  if (err.code === "ENOENT" || err.code === "ECONNREFUSED") {
    return new ControlError(`no agent is listening at ${path} (is 'meshfilter run' running, with --control ${path}?)`);
  }
  if (err.code === "EACCES" || err.code === "EPERM") {
    return new ControlError(`permission denied on ${path}: run as root, or as a member of the agent's --control-group`);
  }
  return new ControlError(`cannot reach the agent at ${path}: ${err.message}`);
}

function open(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once("connect", () => resolve(socket));
    socket.once("error", (err: NodeJS.ErrnoException) => reject(connectionProblem(path, err)));
  });
}

/** Reads the connection's answer lines, calling `onLine` with each parsed one; resolves when the agent closes. */
function readLines(socket: Socket, path: string, onLine: (msg: Record<string, unknown>) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.setEncoding("utf8");
    let buffered = "";
    socket.on("data", (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(line) as Record<string, unknown>;
        } catch {
          socket.destroy();
          reject(new ControlError(`the agent at ${path} answered something that is not JSON: ${line.slice(0, 80)}`));
          return;
        }
        if (!onLine(msg)) {
          socket.end();
          resolve();
          return;
        }
      }
    });
    socket.once("error", (err: NodeJS.ErrnoException) => reject(connectionProblem(path, err)));
    socket.once("close", () => resolve());
  });
}

/** Sends one request and resolves with its result; rejects with a ControlError. */
export async function request(command: CommandName, args: Record<string, unknown> = {}, path = DEFAULT_CONTROL_PATH): Promise<unknown> {
  const socket = await open(path);
  socket.write(JSON.stringify({ v: PROTOCOL_VERSION, id: 1, command, args }) + "\n");
  let answer: Record<string, unknown> | null = null;
  await readLines(socket, path, (msg) => {
    answer = msg;
    return false;
  });
  const a = answer as Record<string, unknown> | null;
  if (a === null) throw new ControlError(`the agent at ${path} closed the connection without answering`);
  if (a.ok !== true) throw new ControlError(String(a.error ?? "the agent refused the request"));
  return a.result;
}

/** Sends a streaming request and calls `onEvent` for each event until `signal` aborts or the agent closes. */
export async function stream(command: CommandName, args: Record<string, unknown>, path: string, onEvent: (event: unknown) => void, signal?: AbortSignal): Promise<void> {
  const socket = await open(path);
  signal?.addEventListener("abort", () => socket.end(), { once: true });
  socket.write(JSON.stringify({ v: PROTOCOL_VERSION, id: 1, command, args }) + "\n");
  let failure: string | null = null;
  await readLines(socket, path, (msg) => {
    if (msg.ok === false) {
      failure = String(msg.error);
      return false;
    }
    if ("event" in msg) onEvent(msg.event);
    return true;
  });
  if (failure !== null) throw new ControlError(failure);
}
