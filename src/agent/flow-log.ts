// Flow events as NDJSON: one JSON object per line, appended to a file, for `jq` and log
// shippers. Cold path: events are per flow (opened, closed, expired, revoked), not per packet.

import { createWriteStream, type WriteStream } from "node:fs";

export class FlowLog {
  private readonly stream: WriteStream;

  constructor(path: string) {
    this.stream = createWriteStream(path, { flags: "a" });
  }

  write(event: object): void {
    this.stream.write(JSON.stringify({ time: new Date().toISOString(), ...event }) + "\n");
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(resolve));
  }
}
