// Every scenario, in the order they run.

import type { Scenario } from "../scenario.ts";
import { blindInjection } from "./blind.ts";
import { handshake } from "./handshake.ts";
import { holes } from "./holes.ts";
import { icmpScenarios } from "./icmp.ts";
import { midStream } from "./mid-stream.ts";
import { teardown } from "./teardown.ts";
import { timeWait } from "./time-wait.ts";
import { udpScenarios } from "./udp.ts";
import { window } from "./window.ts";
import { windowScale } from "./window-scale.ts";

export const SCENARIOS: Scenario[] = [
  ...handshake,
  ...timeWait,
  ...window,
  ...windowScale,
  ...holes,
  ...blindInjection,
  ...teardown,
  ...midStream,
  ...udpScenarios,
  ...icmpScenarios,
];
