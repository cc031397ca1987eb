// WireGuard configuration files: the format `wg setconf` reads, plus wg-quick's
// [Interface] Address and MTU (other wg-quick keys, which configure the host rather than
// the tunnel, are refused with their line so nobody believes they took effect).
//
//   [Interface]
//   PrivateKey = <base64>
//   ListenPort = 51820
//   Address = 100.64.0.10/16
//
//   [Peer]
//   PublicKey = <base64>
//   PresharedKey = <base64>
//   AllowedIPs = 100.64.0.20/32, 10.0.0.0/24
//   Endpoint = 198.18.0.20:51820
//   PersistentKeepalive = 25
//
// Errors name the file and line: "wg0.conf:7: [Peer] PublicKey: not a WireGuard key ...".

import { readFileSync } from "node:fs";
import { parseCidr, parseIpv4, type ParsedCidr } from "../packet/address.ts";
import { parseKey, publicKeyOf, sameKey } from "./keys.ts";

export interface WireGuardPeerConfig {
  publicKey: Uint8Array;
  /** Null when the peer has none. */
  presharedKey: Uint8Array | null;
  allowedIps: ParsedCidr[];
  /** IPv4 underlay endpoint; null until the peer's first authenticated packet tells it. */
  endpoint: { address: string; port: number } | null;
  /** Seconds between keepalives when nothing else is sent; 0 = off. */
  persistentKeepalive: number;
}

export interface WireGuardConfig {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
  /** UDP port to listen on; 0 picks one. */
  listenPort: number;
  /** wg-quick's Address lines (the TUN device's addresses). */
  addresses: ParsedCidr[];
  /** wg-quick's MTU, when given. */
  mtu: number | null;
  peers: WireGuardPeerConfig[];
}

/** A configuration that cannot be read or is wrong; the message is one line naming the file (and line). */
export class WireGuardConfigError extends Error {
  override name = "WireGuardConfigError";
}

/** Reads and parses a configuration file; errors name the path (and the OS reason when it cannot be read). */
export function readWireGuardConfig(path: string): WireGuardConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // "ENOENT: no such file or directory, open '...'" -> "no such file or directory (ENOENT)"
    const reason = e.message.replace(/^[A-Z]+: /, "").replace(/, \w+ '.*$/, "").split("\n")[0];
    throw new WireGuardConfigError(`cannot read WireGuard configuration ${path}: ${reason}${e.code ? ` (${e.code})` : ""}`);
  }
  return parseWireGuardConfig(text, path);
}

const HOST_ONLY_KEYS = new Set(["dns", "table", "preup", "postup", "predown", "postdown", "saveconfig"]);

/** Parses configuration text; `source` names it in errors (WireGuardConfigError). */
export function parseWireGuardConfig(text: string, source: string): WireGuardConfig {
  try {
    return parseText(text, source);
  } catch (err) {
    throw err instanceof WireGuardConfigError ? err : new WireGuardConfigError(err instanceof Error ? err.message : String(err));
  }
}

function parseText(text: string, source: string): WireGuardConfig {
  let privateKey: Uint8Array | null = null;
  let listenPort = 0;
  let mtu: number | null = null;
  const addresses: ParsedCidr[] = [];
  const peers: WireGuardPeerConfig[] = [];
  let section: "none" | "interface" | "peer" = "none";
  let peer: (Partial<WireGuardPeerConfig> & { line: number; allowedIps: ParsedCidr[] }) | null = null;

  const finishPeer = (): void => {
    if (!peer) return;
    if (!peer.publicKey) throw new Error(`${source}:${peer.line}: [Peer] has no PublicKey`);
    peers.push({
      publicKey: peer.publicKey,
      presharedKey: peer.presharedKey ?? null,
      allowedIps: peer.allowedIps,
      endpoint: peer.endpoint ?? null,
      persistentKeepalive: peer.persistentKeepalive ?? 0,
    });
    peer = null;
  };

  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const at = `${source}:${i + 1}`;
    const line = lines[i].replace(/#.*/, "").trim();
    if (line === "") continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      finishPeer();
      const name = header[1].toLowerCase();
      if (name === "interface") {
        if (section === "interface" || privateKey) throw new Error(`${at}: a second [Interface] section`);
        section = "interface";
      } else if (name === "peer") {
        section = "peer";
        peer = { line: i + 1, allowedIps: [] };
      } else {
        throw new Error(`${at}: unknown section [${header[1]}]; expected [Interface] or [Peer]`);
      }
      continue;
    }
    const eq = line.indexOf("=");
    if (eq <= 0) throw new Error(`${at}: expected "Key = Value" or a [Section] header`);
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    const where = `${at}: [${section === "peer" ? "Peer" : "Interface"}] ${key}`;
    const lower = key.toLowerCase();
    try {
      if (section === "interface") {
        if (lower === "privatekey") privateKey = parseKey(value, "PrivateKey");
        else if (lower === "listenport") listenPort = integer(value, 0, 65535);
        else if (lower === "address") addresses.push(...list(value).map((a) => parseCidr(a)));
        else if (lower === "mtu") mtu = integer(value, 576, 65535);
        else if (lower === "fwmark") integer(value === "off" ? "0" : value, 0, 0xffffffff);
        else if (HOST_ONLY_KEYS.has(lower)) throw new Error(`wg-quick's ${key} configures the host; meshfilter does not run it`);
        else throw new Error("unknown key");
      } else if (section === "peer" && peer) {
        if (lower === "publickey") peer.publicKey = parseKey(value, "PublicKey");
        else if (lower === "presharedkey") peer.presharedKey = parseKey(value, "PresharedKey");
        else if (lower === "allowedips") peer.allowedIps.push(...list(value).map((a) => parseCidr(a)));
        else if (lower === "endpoint") peer.endpoint = endpoint(value);
        else if (lower === "persistentkeepalive") peer.persistentKeepalive = value === "off" ? 0 : integer(value, 0, 65535);
        else throw new Error("unknown key");
      } else {
        throw new Error("outside any section; start with [Interface]");
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(`${where}: ${message.replace(/^PrivateKey: |^PublicKey: |^PresharedKey: /, "")}`);
    }
  }
  finishPeer();
  if (!privateKey) throw new Error(`${source}: no [Interface] PrivateKey`);
  const publicKey = publicKeyOf(privateKey);
  for (let i = 0; i < peers.length; i++) {
    if (sameKey(peers[i].publicKey, publicKey)) throw new Error(`${source}: [Peer] ${i + 1} has this interface's own public key`);
    for (let j = 0; j < i; j++) {
      if (sameKey(peers[i].publicKey, peers[j].publicKey)) throw new Error(`${source}: [Peer] ${i + 1} repeats the PublicKey of [Peer] ${j + 1}`);
    }
  }
  return { privateKey, publicKey, listenPort, addresses, mtu, peers };
}

function list(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function integer(value: string, min: number, max: number): number {
  const n = /^(0x[0-9a-f]+|[0-9]+)$/i.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`"${value}" is not an integer from ${min} to ${max}`);
  return n;
}

function endpoint(value: string): { address: string; port: number } {
  const colon = value.lastIndexOf(":");
  const address = value.slice(0, colon);
  if (colon < 0 || !/^\d+\.\d+\.\d+\.\d+$/.test(address)) {
    throw new Error(`"${value}" is not IPv4:port (host names and IPv6 endpoints are not supported)`);
  }
  parseIpv4(address);
  return { address, port: integer(value.slice(colon + 1), 1, 65535) };
}
