// A DNS server for the namespace tests, run as its own process inside a namespace:
//   node --import tsx test/e2e/dns-server.ts HOST PORT ANSWERS_FILE
// ANSWERS_FILE holds JSON {"name": {"addresses": [...], "ttl": N}}, read again for every
// query, so a test changes the answers by rewriting the file.

import { readFileSync } from "node:fs";
import { startDnsResponder } from "../agent/dns-responder.ts";

const [host, port, file] = process.argv.slice(2);
const responder = await startDnsResponder(host, Number(port));
const answers = responder.answers;
const reload = () => {
  answers.clear();
  try {
    for (const [name, answer] of Object.entries(JSON.parse(readFileSync(file, "utf8")) as Record<string, { addresses: string[]; ttl: number }>)) answers.set(name, answer);
  } catch {
    // a file being rewritten: the previous answers went with clear(); the next query reads it again
  }
};
// Re-read before each query is answered: the responder looks answers up when a message arrives.
const originalGet = answers.get.bind(answers);
answers.get = (name: string) => {
  reload();
  return originalGet(name);
};
reload();
console.log(`dns on ${responder.server}`);
