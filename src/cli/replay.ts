// `meshfilter replay CAPTURE --policy FILE --peer P`: judge every packet of a capture as
// peer P's filter would, then print a summary. The work is in src/replay/; this file
// parses options, wires the optional outputs, and maps failures to exit codes.

import { statSync } from "node:fs";
import { CaptureError, openCapture } from "../io/capture.ts";
import { PcapWriter } from "../io/pcap-writer.ts";
import { LINKTYPE_RAW } from "../io/link-layer.ts";
import { OutputError } from "../io/output-error.ts";
import { ProgressBar } from "../replay/progress.ts";
import { replayCapture, type ReplaySinks } from "../replay/replay.ts";
import { buildSummary, formatSummary } from "../replay/summary.ts";
import { VerdictLineWriter } from "../replay/verdict-lines.ts";
import { EXIT_USAGE, fail, HELP_OPTION, loadPeerFilter, parseCommandLine, PEER_FILTER_OPTIONS } from "./common.ts";

const HELP = `usage: meshfilter replay CAPTURE --policy FILE --peer PEER [options]

Judge every packet of a pcap or pcapng capture as PEER's filter would, on the
capture's own clock, and print a summary (packets read, judged, accepted, dropped,
not for this peer; bytes; drops by reason; top rules; flows by final state).
Packets to PEER's addresses (or to a resource it routes) are inbound, packets
from them outbound; anything else is counted as not for this peer.

options:
  --policy FILE            account policy (JSON or YAML, meshfilter or NetBird export)
  --peer PEER              the peer whose filter judges: id, name, overlay IP, FQDN or DNS label
  --network-map FILE       instead of --policy and --peer: a NetBird peer's NetworkMap
                           (network_map.json of a debug bundle, or binary protobuf)
  --resolve NAME=IP[,IP]   the addresses of a domain resource (repeatable), where a
                           running agent would ask DNS
  --json                   print the summary as one JSON object
  --verdicts FILE          write one JSON line per packet, in capture order:
                           {"index": 0, "dir": "in", "verdict": "accept", "reason": "rule", "rule": "p1/r1", "state": "established"}
  --write-dropped FILE     write the dropped packets to a pcap file (raw IP)
  --egress                 also enforce outbound rules (off by default, as in NetBird)
  --honour-bidirectional   honour the bidirectional flag for every protocol
  --loose-tcp              accept TCP connections picked up mid-stream (capture began late)
  -h, --help               this text

exit codes:
  0  the whole capture was judged
  1  the capture is unreadable, corrupt or truncated (the summary of what was judged
     before the bad byte offset is printed first)
  2  bad usage, or a bad policy (every problem is printed with its JSON path), an
     unknown peer, or an output file that cannot be opened or written (full disk, no
     permission...): "cannot write PATH: reason (CODE)", and no summary`;

const COMMAND = "replay";

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(COMMAND, HELP, {
    args: argv,
    allowPositionals: true,
    options: {
      ...PEER_FILTER_OPTIONS,
      json: { type: "boolean", default: false },
      verdicts: { type: "string" },
      "write-dropped": { type: "string" },
      help: HELP_OPTION,
    },
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return fail(COMMAND, `expected one capture file, got ${positionals.length}\n\n${HELP}`, EXIT_USAGE);
  if (!values["network-map"] && (!values.policy || !values.peer)) return fail(COMMAND, `--policy and --peer (or --network-map) are required\n\n${HELP}`, EXIT_USAGE);
  const capturePath = positionals[0];

  const filter = loadPeerFilter(COMMAND, values.policy, values.peer, values);
  if (typeof filter === "number") return filter;
  const { engine, policy } = filter;

  let reader: ReturnType<typeof openCapture>;
  try {
    reader = openCapture(capturePath);
  } catch (err) {
    return fail(COMMAND, err instanceof CaptureError ? err.message : `cannot read ${capturePath}: ${(err as Error).message}`, 1);
  }

  const sinks: ReplaySinks = {};
  let result: ReturnType<typeof replayCapture>;
  try {
    if (values.verdicts) sinks.verdicts = new VerdictLineWriter(values.verdicts, engine);
    if (values["write-dropped"]) sinks.dropped = PcapWriter.open(values["write-dropped"], LINKTYPE_RAW);
    const size = statSync(capturePath).size;
    if (ProgressBar.wanted(size)) sinks.progress = new ProgressBar(size);
    result = replayCapture(reader, filter, sinks);
    // The last buffer is written here: a full disk shows up at close as often as mid-run.
    sinks.verdicts?.close();
    sinks.dropped?.close();
  } catch (err) {
    // An output that cannot be written (full disk, no permission, a directory, a missing
    // folder) makes the run useless: say which file and why, print no summary.
    if (err instanceof OutputError) return fail(COMMAND, err.message, EXIT_USAGE);
    throw err;
  } finally {
    reader.close();
    sinks.progress?.clear();
    sinks.verdicts?.abandon();
    sinks.dropped?.abandon();
  }

  const summary = buildSummary(
    { capture: capturePath, policy: values.policy ?? values["network-map"] ?? "", peer: { name: policy.peer.name, addresses: policy.peer.addresses } },
    result.counters,
    engine,
    result.error,
  );
  console.log(values.json ? JSON.stringify(summary) : formatSummary(summary));
  if (result.error) return fail(COMMAND, result.error.message, 1);
  return 0;
}
