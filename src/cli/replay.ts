// `meshfilter replay CAPTURE --policy FILE --peer P`: judge every packet of a capture as
// peer P's filter would, then print a summary. The work is in src/replay/; this file
// parses options, wires the optional outputs, and maps failures to exit codes.

import { statSync } from "node:fs";
import { CaptureError, openCapture } from "../io/capture.ts";
import { PcapWriter } from "../io/pcap-writer.ts";
import { LINKTYPE_RAW } from "../io/link-layer.ts";
import { OutputError } from "../io/output-error.ts";
import { systemReason } from "../io/system-reason.ts";
import { ProgressBar } from "../replay/progress.ts";
import { replayCaptureUntil, type ReplayResult, type ReplaySinks } from "../replay/replay.ts";
import { buildSummary, formatSummary } from "../replay/summary.ts";
import { VerdictLineWriter } from "../replay/verdict-lines.ts";
import { CliError, defineCommand } from "./command.ts";
import { loadPeerFilter, PEER_FILTER_FLAGS } from "./common.ts";
import { EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE } from "./exit-codes.ts";

export const command = defineCommand({
  name: "replay",
  usage: "CAPTURE (--policy FILE --peer PEER | --network-map FILE) [options]",
  description: `Judges every packet of a pcap or pcapng capture as PEER's filter would, on the
capture's own clock, and prints a summary (packets read, judged, accepted, dropped,
not for this peer; bytes; drops by reason; top rules; flows by final state).
Packets to PEER's addresses (or to a resource it routes) are inbound, packets
from them outbound; anything else is counted as not for this peer.`,
  args: { name: "CAPTURE", min: 1, max: 1 },
  flags: {
    ...PEER_FILTER_FLAGS,
    json: { type: "boolean", help: "print the summary as one JSON object" },
    verdicts: {
      type: "string",
      value: "FILE",
      help: 'write one JSON line per packet, in capture order: {"index": 0, "dir": "in", "verdict": "accept", "reason": "rule", "rule": "p1/r1", "state": "established"}',
    },
    "write-dropped": { type: "string", value: "FILE", help: "write the dropped packets to a pcap file (raw IP)" },
  },
  exits: {
    [EXIT_OK]: "the whole capture was judged",
    [EXIT_FAILURE]:
      "the capture is unreadable, corrupt or truncated (the summary of what was judged before the bad byte offset is printed first)",
    [EXIT_INTERRUPTED]: 'stopped by Ctrl-C: the summary of what was judged is printed, marked as partial ("interrupted": true in --json)',
    [EXIT_USAGE]:
      'bad usage, or a bad policy (every problem is printed with its JSON path), an unknown peer, or an output file that cannot be opened or written (full disk, no permission...): "cannot write PATH: reason (CODE)", and no summary',
  },
  async run({ flags, args }) {
    const capturePath = args[0];
    const filter = loadPeerFilter(flags);
    const { engine, policy } = filter;

    let reader: ReturnType<typeof openCapture>;
    try {
      reader = openCapture(capturePath);
    } catch (err) {
      throw new CliError(err instanceof CaptureError ? err.message : `cannot read capture ${capturePath}: ${systemReason(err)}`, EXIT_FAILURE);
    }

    const sinks: ReplaySinks = {};
    let result: ReplayResult;
    // Ctrl-C stops the replay at a packet boundary and the summary so far is printed; a
    // second Ctrl-C finds no handler and ends the process at once, as usual.
    const interrupt = new AbortController();
    const onSigint = (): void => {
      process.off("SIGINT", onSigint);
      interrupt.abort();
    };
    process.on("SIGINT", onSigint);
    try {
      if (flags.verdicts) sinks.verdicts = new VerdictLineWriter(flags.verdicts, engine);
      if (flags["write-dropped"]) sinks.dropped = PcapWriter.open(flags["write-dropped"], LINKTYPE_RAW);
      const size = statSync(capturePath).size;
      if (ProgressBar.wanted(size)) sinks.progress = new ProgressBar(size);
      result = await replayCaptureUntil(reader, filter, sinks, interrupt.signal);
      // The last buffer is written here: a full disk shows up at close as often as mid-run.
      sinks.verdicts?.close();
      sinks.dropped?.close();
    } catch (err) {
      // An output that cannot be written (full disk, no permission, a directory, a missing
      // folder) makes the run useless: say which file and why, print no summary.
      if (err instanceof OutputError) throw new CliError(err.message, EXIT_USAGE);
      throw err;
    } finally {
      process.off("SIGINT", onSigint);
      reader.close();
      sinks.progress?.clear();
      sinks.verdicts?.abandon();
      sinks.dropped?.abandon();
    }

    const summary = buildSummary(
      { capture: capturePath, policy: flags.policy ?? flags["network-map"] ?? "", peer: { name: policy.peer.name, addresses: policy.peer.addresses } },
      result.counters,
      engine,
      result.error,
      result.interrupted,
    );
    console.log(flags.json ? JSON.stringify(summary) : formatSummary(summary));
    if (result.error) throw new CliError(result.error.message, EXIT_FAILURE);
    return result.interrupted ? EXIT_INTERRUPTED : EXIT_OK;
  },
});
