// Writes a large, valid meshfilter-format policy (YAML, or JSON with --json) for
// measuring how much memory loading, linting and compiling take: N peers, each a user
// device or a server with metadata, spread over groups, with policies joining groups.
// About 50 MB of YAML with the default --peers 140000.
//
// Usage: tsx scripts/make-large-policy.ts [--peers N] [--json] OUT
// The first peer is named "peer-0" (use it for --peer).

import { closeSync, openSync, writeSync } from "node:fs";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { peers: { type: "string", default: "140000" }, json: { type: "boolean", default: false } },
});
if (positionals.length !== 1) {
  console.error("usage: tsx scripts/make-large-policy.ts [--peers N] [--json] OUT");
  process.exit(2);
}
const peerCount = Number(values.peers);
const groupCount = Math.max(10, Math.floor(peerCount / 20));
const userCount = Math.max(1, Math.floor(peerCount / 3));
const policyCount = Math.max(1, Math.floor(peerCount / 4));

const group = (i: number): string => `group-${i % groupCount}`;
// 100.64.0.0/10 holds 4,194,304 addresses: skip .0 and .255 of each /24.
const ip = (i: number): string => {
  const n = Math.floor(i / 254) * 256 + (i % 254) + 1 + 256;
  return `100.${64 + (n >>> 16)}.${(n >>> 8) & 255}.${n & 255}`;
};

const account = {
  format: "meshfilter/v1",
  peers: Array.from({ length: peerCount }, (_, i) => {
    const peer: Record<string, unknown> = { name: `peer-${i}`, ip: ip(i) };
    if (i % 3 === 0) peer.setup_key = "servers-key";
    else peer.user = `user-${i % userCount}`;
    peer.groups = [group(i), group(i * 7 + 1), group(i * 13 + 2)];
    peer.meta = { version: "0.30.1", os: "linux", kernel_version: "6.1.0-18-amd64", country_code: "DE", city_name: "Berlin", connection_ip: `203.0.113.${i % 250}` };
    return peer;
  }),
  users: Array.from({ length: userCount }, (_, i) => ({ name: `user-${i}`, groups: [group(i * 3)] })),
  setup_keys: [{ name: "servers-key", groups: [group(0)] }],
  groups: Array.from({ length: groupCount }, (_, i) => group(i)),
  posture_checks: [{ name: "min-version", nb_version: "0.28.0" }],
  policies: Array.from({ length: policyCount }, (_, i) => ({
    name: `policy-${i}`,
    description: `Group ${i % groupCount} reaches group ${(i * 17 + 5) % groupCount} on its service ports.`,
    posture_checks: i % 10 === 0 ? ["min-version"] : [],
    rules: [
      { name: "tcp", sources: [group(i)], destinations: [group(i * 17 + 5)], protocol: "tcp", ports: [22, 443, "8000-8100"] },
      { name: "ping", sources: [group(i)], destinations: [group(i * 17 + 5)], protocol: "icmp" },
    ],
  })),
};

const out = openSync(positionals[0], "w");
let pending: string[] = [];
let pendingLength = 0;
const emit = (text: string): void => {
  pending.push(text);
  pendingLength += text.length;
  if (pendingLength > 1 << 20) flush();
};
const flush = (): void => {
  writeSync(out, pending.join(""));
  pending = [];
  pendingLength = 0;
};

if (values.json) {
  // One item per line, so the file stays readable and writing it stays streamed.
  emit("{\n");
  const keys = Object.keys(account) as (keyof typeof account)[];
  keys.forEach((key, k) => {
    const value = account[key];
    const comma = k < keys.length - 1 ? "," : "";
    if (!Array.isArray(value)) return emit(`  ${JSON.stringify(key)}: ${JSON.stringify(value)}${comma}\n`);
    emit(`  ${JSON.stringify(key)}: [\n`);
    value.forEach((item, i) => emit(`    ${JSON.stringify(item)}${i < value.length - 1 ? "," : ""}\n`));
    emit(`  ]${comma}\n`);
  });
  emit("}\n");
} else {
  // Block style for collections and items, flow style for short lists: how people write it.
  const scalar = (v: unknown): string => (typeof v === "string" && /^[\w./-]+$/.test(v) && !/^[\d.]+$/.test(v) ? v : JSON.stringify(v));
  const flow = (v: unknown): string =>
    Array.isArray(v) ? `[${v.map(flow).join(", ")}]` : v !== null && typeof v === "object" ? `{ ${Object.entries(v).map(([k, x]) => `${k}: ${flow(x)}`).join(", ")} }` : scalar(v);
  const item = (indent: string, v: Record<string, unknown>): void => {
    let first = true;
    for (const [k, x] of Object.entries(v)) {
      const lead = first ? `${indent}- ` : `${indent}  `;
      first = false;
      if (Array.isArray(x) && x.some((e) => e !== null && typeof e === "object")) {
        emit(`${lead}${k}:\n`);
        for (const e of x) item(`${indent}    `, e as Record<string, unknown>);
      } else emit(`${lead}${k}: ${flow(x)}\n`);
    }
  };
  for (const [key, value] of Object.entries(account)) {
    if (!Array.isArray(value)) {
      emit(`${key}: ${scalar(value)}\n`);
      continue;
    }
    emit(`\n${key}:\n`);
    for (const v of value) {
      if (v !== null && typeof v === "object") item("  ", v as Record<string, unknown>);
      else emit(`  - ${scalar(v)}\n`);
    }
  }
}
flush();
closeSync(out);
