// Runs the scenarios one after another against the live topology: each gets its own
// block of client-side ports, and the next starts only when the endpoint kernels
// have stopped answering the previous one, so arrivals at fw are in script order.

import type { Capture } from "./capture.ts";
import type { Endpoint } from "./endpoint.ts";
import { PORTS_PER_SCENARIO, REAL_PORTS, SCRIPTED_PORTS, TCP_FASTOPEN_LISTENER, TCP_LISTENER, TCP_PLAIN_LISTENER } from "./policy.ts";
import { ScenarioContext, type Scenario } from "./scenario.ts";

export interface ScenarioRun {
  contexts: ScenarioContext[];
  /** Scenarios that threw (a socket call failed, a packet never reached fw). */
  errors: { scenario: string; error: string }[];
}

export async function runScenarios(scenarios: readonly Scenario[], client: Endpoint, server: Endpoint, capture: Capture): Promise<ScenarioRun> {
  await server.call({ op: "listen", port: TCP_LISTENER });
  await server.call({ op: "listen", port: TCP_FASTOPEN_LISTENER, fastopen: true });
  await server.call({ op: "listen", port: TCP_PLAIN_LISTENER });
  const run: ScenarioRun = { contexts: [], errors: [] };
  let scripted = 0;
  let kernel = 0;
  for (const s of scenarios) {
    const base = s.kind === "scripted" ? SCRIPTED_PORTS.first + PORTS_PER_SCENARIO * scripted++ : REAL_PORTS.first + PORTS_PER_SCENARIO * kernel++;
    const ctx = new ScenarioContext(s, base, client, server, capture);
    run.contexts.push(ctx);
    try {
      await s.run(ctx);
      await ctx.settle(s.kind === "kernel" ? 60 : 5);
    } catch (e) {
      run.errors.push({ scenario: s.name, error: e instanceof Error ? e.message : String(e) });
      await ctx.settle(60);
    }
  }
  return run;
}
