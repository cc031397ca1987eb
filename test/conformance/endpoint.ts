// The test's hands in the endpoint namespaces: endpoint-agent.py running in cli or
// srv, spoken to one JSON command per line. Each call resolves when the agent has
// done it (a raw packet sent, a connect completed...), which is what orders the
// packets of a scenario.

import type { ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { PYTHON, type Role, type Topology } from "./topology.ts";

const AGENT = resolve(import.meta.dirname, "endpoint-agent.py");

export interface AgentAnswer {
  ok: boolean;
  error?: string;
  hex?: string;
  [key: string]: unknown;
}

export class Endpoint {
  private readonly child: ChildProcess;
  private readonly waiting: ((a: AgentAnswer) => void)[] = [];
  private stderr = "";
  private readonly ready: Promise<AgentAnswer>;

  constructor(topology: Topology, readonly role: Role) {
    this.child = topology.spawn(role, [PYTHON, "-u", AGENT]);
    this.child.stderr!.on("data", (d: Buffer) => (this.stderr += d.toString()));
    createInterface({ input: this.child.stdout! }).on("line", (line) => {
      const w = this.waiting.shift();
      if (w) w(JSON.parse(line) as AgentAnswer);
    });
    this.child.once("exit", (code) => {
      for (const w of this.waiting.splice(0)) w({ ok: false, error: `agent in ${role} exited (${code}): ${this.stderr}` });
    });
    this.ready = new Promise((r) => this.waiting.push(r));
  }

  async start(): Promise<void> {
    const a = await this.ready;
    if (!a.ok) throw new Error(a.error);
  }

  /** Runs one command; rejects with the agent's error. */
  async call(cmd: Record<string, unknown>): Promise<AgentAnswer> {
    const answer = await this.tryCall(cmd);
    if (!answer.ok) throw new Error(`${this.role}: ${JSON.stringify(cmd).slice(0, 200)}: ${answer.error}`);
    return answer;
  }

  /** Runs one command and returns the answer, failed or not (for operations a scenario expects to fail). */
  tryCall(cmd: Record<string, unknown>): Promise<AgentAnswer> {
    return new Promise((resolvePromise) => {
      this.waiting.push(resolvePromise);
      this.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
    });
  }

  /** Sends one IPv4 packet exactly as built. */
  sendRaw(packet: Uint8Array): Promise<AgentAnswer> {
    return this.call({ op: "raw", hex: Buffer.from(packet).toString("hex") });
  }

  stop(): void {
    this.child.stdin!.end();
  }
}
