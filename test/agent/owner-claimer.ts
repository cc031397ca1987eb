// A second thread for flow-owners.test.ts: claims the same flow hashes as the test's
// thread (in the opposite order), as another worker, and records the owner each claim returned.

import { workerData } from "node:worker_threads";
import { FlowOwners, type FlowOwnersShape } from "../../src/agent/flow-owners.ts";

const { shape, count, results, worker, gate } = workerData as { shape: FlowOwnersShape; count: number; results: SharedArrayBuffer; worker: number; gate: SharedArrayBuffer };
const owners = new FlowOwners(shape);
const out = new Int32Array(results);
// Both threads start claiming at the same moment: say ready, wait for the go.
const g = new Int32Array(gate);
Atomics.store(g, 0, 1);
Atomics.notify(g, 0);
Atomics.wait(g, 1, 0);
// From the last hash to the first (the test's thread goes the other way): the two meet somewhere in the middle.
for (let i = count - 1; i >= 0; i--) out[count + i] = owners.claim(i + 1, worker, 1);
