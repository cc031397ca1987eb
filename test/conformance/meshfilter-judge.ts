// meshfilter as the second judge: the packets as they arrived at the firewall, in
// capture order and on the capture's clock, through an Engine for peer "server"
// under the policy Linux enforces (policy.ts). The engine classifies each packet by
// the server's address: from the client = inbound, from the server = outbound.

import { createFirewall, VERDICT_ACCEPT } from "../../src/index.ts";
import { parsePolicyText } from "../../src/policy/input/load.ts";
import { stateName } from "../../src/conntrack/states.ts";
import type { Arrival } from "./capture.ts";
import { MESHFILTER_POLICY_YAML } from "./policy.ts";

export interface MeshfilterVerdict {
  accepted: boolean;
  reason: string;
  state: string | null;
}

export function judgeWithMeshfilter(arrivals: readonly Arrival[]): MeshfilterVerdict[] {
  // Default engine options: the semantics an agent gets (P13: own traffic unfiltered, tracked).
  const engine = createFirewall({ policy: parsePolicyText(MESHFILTER_POLICY_YAML, "conformance-policy.yaml"), peer: "server" });
  const t0 = arrivals.length > 0 ? Math.floor(arrivals[0].timeMs) : 0;
  let clock = 1000;
  return arrivals.map((a) => {
    // The engine's clock starts at a small positive value and never goes backwards.
    clock = Math.max(clock, 1000 + Math.floor(a.timeMs) - t0);
    engine.setTime(clock);
    const verdict = engine.judge(a.bytes, 0, a.bytes.length);
    return {
      accepted: verdict === VERDICT_ACCEPT,
      reason: engine.reasonName(engine.lastReason),
      state: engine.lastState >= 0 ? stateName(engine.lastState) : null,
    };
  });
}
