// tcp-states.ts builds its tables when it loads. Imported inside a test, so that a table
// that fails to build fails a test (a test file that cannot load runs no test, and a
// mutation tool counts no failure for it).

import { expect, it } from "vitest";

it("tcp-states.ts loads, with a full transition table and the documented class names", async () => {
  const m = await import("../../src/conntrack/tcp-states.ts");
  expect(m.TCP_TRANSITIONS).toHaveLength(2 * 8 * 12);
  expect(m.CLASS_NAMES).toEqual(["syn", "synack", "fin", "fin-acks-fin", "ack", "ack-acks-fin", "rst", "invalid"]);
  expect([m.T_INVALID, m.T_RESTART, m.T_IGNORE]).toEqual([-1, -2, -3]);
});
