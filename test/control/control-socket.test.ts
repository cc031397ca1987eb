// The control socket on its own: protocol errors answered in one line, the socket's mode,
// a stale socket file replaced, a live one refused, streaming, and the client's one-line
// messages when no agent listens or permission is missing.

import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ControlError, request, stream } from "../../src/control/client.ts";
import { CommandError, ControlServer, STREAMING, type Handler } from "../../src/control/server.ts";
import type { CommandName } from "../../src/control/protocol.ts";

const dir = mkdtempSync(join(tmpdir(), "mf-control-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function handlers(extra: Partial<Record<CommandName, Handler>> = {}): Record<CommandName, Handler> {
  const refuse: Handler = () => {
    throw new CommandError("not here");
  };
  return { status: () => ({ peer: { name: "db-1" } }), flows: refuse, watch: refuse, flush: refuse, trace: refuse, counters: refuse, reload: refuse, "log-level": refuse, ...extra };
}

/** Sends raw lines and collects the answer lines. */
function raw(path: string, text: string, answers: number): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let buf = "";
    socket.on("data", (d) => {
      buf += d.toString();
      const lines = buf.split("\n").filter(Boolean);
      if (lines.length >= answers) {
        socket.destroy();
        resolve(lines.map((l) => JSON.parse(l) as Record<string, unknown>));
      }
    });
    socket.on("error", reject);
    socket.write(text);
  });
}

describe("control socket", () => {
  it("answers a request, and each bad line with a one-line error carrying its id", async () => {
    const path = join(dir, "a.sock");
    const server = await ControlServer.listen({ path, handlers: handlers() });
    try {
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(await request("status", {}, path)).toEqual({ peer: { name: "db-1" } });
      const answers = await raw(
        path,
        ['{"v":1,"id":5,"command":"status"}', "not json", '{"v":2,"id":6,"command":"status"}', '{"v":1,"id":7,"command":"rm -rf"}', '{"v":1,"id":8,"command":"flows"}'].join("\n") + "\n",
        5,
      );
      expect(answers[0]).toEqual({ v: 1, id: 5, ok: true, result: { peer: { name: "db-1" } } });
      expect(answers[1]).toMatchObject({ ok: false, error: expect.stringMatching(/^request is not JSON/) });
      expect(answers[2]).toMatchObject({ id: 6, ok: false, error: expect.stringMatching(/protocol version 2 is not spoken here \(this agent speaks version 1\)/) });
      expect(answers[3]).toMatchObject({ id: 7, ok: false, error: expect.stringMatching(/\$\.command "rm -rf" is not one of status, flows/) });
      expect(answers[4]).toEqual({ v: 1, id: 8, ok: false, error: "not here" });
      await expect(request("flows", {}, path)).rejects.toThrow(new ControlError("not here"));
    } finally {
      await server.close();
    }
    expect(() => statSync(path)).toThrow(); // removed on close
  });

  it("a handler that throws unexpectedly is reported and answered, and the server keeps serving", async () => {
    const path = join(dir, "b.sock");
    const failures: string[] = [];
    const server = await ControlServer.listen({
      path,
      handlers: handlers({ counters: () => { throw new TypeError("boom\nsecond line"); } }),
      onError: (line) => failures.push(line),
    });
    try {
      await expect(request("counters", {}, path)).rejects.toThrow(/^boom$/);
      expect(failures).toHaveLength(1);
      expect(await request("status", {}, path)).toEqual({ peer: { name: "db-1" } });
    } finally {
      await server.close();
    }
  });

  it("streams events until the client goes, then stops", async () => {
    const path = join(dir, "c.sock");
    let closed = false;
    const server = await ControlServer.listen({
      path,
      handlers: handlers({
        watch: (_args, ctx) => {
          let n = 0;
          const timer = setInterval(() => ctx.emit({ n: n++ }), 5);
          ctx.onClose(() => {
            clearInterval(timer);
            closed = true;
          });
          return STREAMING;
        },
      }),
    });
    try {
      const seen: unknown[] = [];
      const stop = new AbortController();
      await stream("watch", {}, path, (e) => {
        seen.push(e);
        if (seen.length === 3) stop.abort();
      }, stop.signal);
      expect(seen.slice(0, 3)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
      const until = Date.now() + 2000;
      while (!closed && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      expect(closed).toBe(true);
    } finally {
      await server.close();
    }
  });

  it("replaces a stale socket file, refuses to take over a live one, and leaves other files alone", async () => {
    const path = join(dir, "d.sock");
    // A socket file whose server is gone (python leaves the file behind when it exits).
    execFileSync("python3", ["-c", `import socket; s=socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(path)})`]);
    const server = await ControlServer.listen({ path, handlers: handlers() });
    try {
      await expect(ControlServer.listen({ path, handlers: handlers() })).rejects.toThrow(/another agent is serving it/);
    } finally {
      await server.close();
    }
    writeFileSync(join(dir, "plain-file"), "");
    await expect(ControlServer.listen({ path: join(dir, "plain-file", "x.sock"), handlers: handlers() })).rejects.toThrow(/^cannot serve the control socket at .*x\.sock: cannot create .*plain-file: .*\(give --control PATH, or --no-control\)$/);
    const file = join(dir, "not-a-socket");
    writeFileSync(file, "keep me");
    await expect(ControlServer.listen({ path: file, handlers: handlers() })).rejects.toThrow(/a file that is not a socket is in the way/);
  });

  it("the client says in one line that no agent listens, or that permission is missing", async () => {
    await expect(request("status", {}, join(dir, "none.sock"))).rejects.toThrow(/^no agent is listening at .*none\.sock \(is 'meshfilter run' running/);
    if (process.getuid?.() !== 0) return; // the permission case needs root to drop to another user
    const path = join(dir, "e.sock");
    const server = await ControlServer.listen({ path, handlers: handlers() });
    try {
      chmodSync(dir, 0o755);
      const r = execFileSync(
        "setpriv",
        ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "--import", "tsx", "--input-type=module", "-e", `import { request } from ${JSON.stringify(join(import.meta.dirname, "../../src/control/client.ts"))}; request("status", {}, ${JSON.stringify(path)}).catch((e) => console.log(e.message));`],
        { encoding: "utf8", cwd: join(import.meta.dirname, "../..") },
      );
      expect(r).toMatch(/permission denied on .*e\.sock: run as root, or as a member of the agent's --control-group/);
    } finally {
      await server.close();
    }
  });

  it("--control-group makes the socket 0660, owned by the group", async () => {
    const path = join(dir, "g.sock");
    const server = await ControlServer.listen({ path, group: "0", handlers: handlers() });
    try {
      const st = statSync(path);
      expect(st.mode & 0o777).toBe(0o660);
      expect(st.gid).toBe(0);
    } finally {
      await server.close();
    }
    await expect(ControlServer.listen({ path, group: "no-such-group-here", handlers: handlers() })).rejects.toThrow(/--control-group no-such-group-here: no such group/);
  });
});
