// Runs one TUN operation in a child process, so tests can run it with fewer privileges
// (capsh/setpriv) or check how the process exits. Prints one JSON line.
// usage: node --import tsx test/native/tun-child.ts <open|exit-armed|close-armed> <name>
import { openTun, TunError } from "../../src/io/tun.ts";

const [mode, name] = process.argv.slice(2);
try {
  const tun = openTun(name);
  if (mode === "open") {
    console.log(JSON.stringify({ ok: true, name: tun.name }));
    tun.close();
  } else if (mode === "exit-armed") {
    // process.exit with an armed poll handle: the environment cleanup hook must close it quietly.
    tun.onReadable(() => {});
    console.log(JSON.stringify({ ok: true }));
    process.exit(0);
  } else if (mode === "close-armed") {
    // Closing from inside a timer with the handle armed must let the loop end by itself.
    tun.onReadable(() => {});
    setTimeout(() => {
      tun.close();
      tun.close();
      console.log(JSON.stringify({ ok: true }));
    }, 50);
  }
} catch (err) {
  const e = err as TunError;
  console.log(JSON.stringify({ ok: false, code: e.code, message: e.message }));
}
