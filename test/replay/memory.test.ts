// The replay loop allocates nothing per packet, so a capture of any size replays in
// bounded memory. Shown here on a generated capture of established traffic: after a
// warm-up pass, a second pass over 400,000 packets must neither trigger a single
// young-generation collection nor grow new space (beyond one-off costs), which
// per-packet garbage would (test/engine/allocation-probe.ts says why this is the
// robust proof under load).
// No timing is asserted. (The 1 GiB figure, peak RSS, is in the replay benchmark.)

import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { serverPolicy, writeSyntheticCapture } from "../../bench/synthetic-capture.ts";
import { Engine } from "../../src/engine/engine.ts";
import { openCapture } from "../../src/io/capture.ts";
import { replayCapture } from "../../src/replay/replay.ts";
import type { CaptureReader } from "../../src/io/capture-reader.ts";
import type { ReplayResult } from "../../src/replay/replay.ts";
import type { PeerFilter } from "../../src/replay/setup.ts";
import { probeAllocation } from "../engine/allocation-probe.ts";

const dir = mkdtempSync(path.join(os.tmpdir(), "meshfilter-replay-memory-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PACKETS = 400_000;

function replayOnce(file: string): ReplayResult {
  const policy = serverPolicy();
  const filter = { policy, engine: new Engine(policy) };
  const reader = openCapture(file);
  const result = replayCapture(reader, filter);
  reader.close();
  return result;
}

it("replays 400,000 packets without growing new space or collecting young garbage", () => {
  const file = path.join(dir, "established.pcap");
  writeSyntheticCapture(file, { flows: 2_000, packets: PACKETS });
  expect(replayOnce(file).counters.accepted).toBe(PACKETS); // warm-up; every packet is allowed traffic
  replayOnce(file);

  // A fresh engine and reader per attempt, made outside the measurement: only the loop is probed.
  let filter: PeerFilter | undefined;
  let reader: CaptureReader | undefined;
  let result: ReplayResult | undefined;
  const probe = probeAllocation(
    () => {
      result = replayCapture(reader!, filter!);
    },
    1 << 20,
    () => {
      const policy = serverPolicy();
      filter = { policy, engine: new Engine(policy) };
      reader?.close();
      reader = openCapture(file);
    },
  );
  reader?.close();

  expect(result?.error).toBeNull();
  expect(result?.counters.accepted).toBe(PACKETS);
  // The smallest per-packet garbage, one heap number, would be 16 bytes a packet (~6 MB here).
  expect(probe.newSpaceGrowth).toBeLessThan(1 << 20);
  expect(probe.youngCollections).toBe(0);
});
