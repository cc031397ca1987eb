// The drop reasons that mean "the policy refused a new connection", as opposed to a
// packet refused by connection tracking (out of window, no connection...). Shadow
// mode reports these; the others only show in the totals.

import { REASON_DROP_RULE, REASON_NO_RULE } from "../engine/reasons.ts";

export const NEW_CONNECTION_DROP_REASONS: ReadonlySet<number> = new Set([REASON_NO_RULE, REASON_DROP_RULE]);
