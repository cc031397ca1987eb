// wireguard-go (Debian's, configured with wg) as the other end of the interop tests:
// started in the foreground inside a lab namespace, so Lab.destroy() ends it. Each
// interface gets a name unique to this process: wireguard-go's control socket lives in
// /var/run/wireguard/NAME.sock, shared by every namespace.

import { spawnSync, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Lab } from "../e2e/lab.ts";

/** Why wireguard-go cannot run here, or "". */
export function wireguardGoUnavailableReason(): string {
  for (const tool of ["wireguard-go", "wg"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `${tool} is not installed (apt-get install wireguard-go wireguard-tools)`;
  }
  return "";
}

export interface WgPeerSection {
  publicKey: string;
  allowedIps: string[];
  endpoint?: string;
  presharedKey?: string;
  persistentKeepalive?: number;
}

/** A configuration file's text ([Interface] with `extra` lines, then one [Peer] per entry). */
export function wgConfigText(privateKey: string, listenPort: number, peers: WgPeerSection[], extra: string[] = []): string {
  const lines = ["[Interface]", `PrivateKey = ${privateKey}`, `ListenPort = ${listenPort}`, ...extra];
  for (const p of peers) {
    lines.push("", "[Peer]", `PublicKey = ${p.publicKey}`, `AllowedIPs = ${p.allowedIps.join(", ")}`);
    if (p.endpoint) lines.push(`Endpoint = ${p.endpoint}`);
    if (p.presharedKey) lines.push(`PresharedKey = ${p.presharedKey}`);
    if (p.persistentKeepalive) lines.push(`PersistentKeepalive = ${p.persistentKeepalive}`);
  }
  return `${lines.join("\n")}\n`;
}

export class WireGuardGo {
  readonly iface: string;
  private process: ChildProcess | null = null;

  constructor(
    private readonly lab: Lab,
    readonly role: string,
    private readonly dir: string,
  ) {
    this.iface = `wg${process.pid % 100000}${role.slice(0, 4)}`.slice(0, 15);
  }

  /** The wireguard-go process's pid while it runs. */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Starts wireguard-go, applies `config` with `wg setconf`, sets the address and MTU, brings the link up. */
  async start(config: string, address: string, mtu = 1420): Promise<void> {
    // ip netns exec and env both exec: the child's pid is wireguard-go's.
    this.process = this.lab.spawn(this.role, ["env", "WG_PROCESS_FOREGROUND=1", "wireguard-go", this.iface]);
    const end = Date.now() + 10_000;
    while (this.lab.exec(this.role, ["wg", "show", this.iface]).status !== 0) {
      if (Date.now() > end) throw new Error(`wireguard-go ${this.iface} in ${this.role} did not come up`);
      await new Promise((r) => setTimeout(r, 50));
    }
    this.setconf(config);
    this.must(["ip", "addr", "add", address, "dev", this.iface]);
    this.must(["ip", "link", "set", this.iface, "mtu", String(mtu), "up"]);
  }

  setconf(config: string): void {
    const file = join(this.dir, `${this.iface}.conf`);
    writeFileSync(file, config);
    this.must(["wg", "setconf", this.iface, file]);
  }

  /** Stops it (the process and with it the interface). */
  async stop(): Promise<void> {
    const child = this.process;
    this.process = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise((resolve) => {
      child.once("exit", resolve);
      child.kill("SIGTERM");
    });
  }

  /** `wg show IFACE dump`'s peer lines: public key, endpoint, latest handshake (s), rx, tx. */
  peers(): { publicKey: string; endpoint: string; latestHandshake: number; rx: number; tx: number }[] {
    const out = this.must(["wg", "show", this.iface, "dump"]);
    return out
      .trim()
      .split("\n")
      .slice(1)
      .map((line) => {
        const f = line.split("\t");
        return { publicKey: f[0], endpoint: f[2], latestHandshake: Number(f[4]), rx: Number(f[5]), tx: Number(f[6]) };
      });
  }

  private must(cmd: string[]): string {
    const r = this.lab.exec(this.role, cmd);
    if (r.status !== 0) throw new Error(`${cmd.join(" ")} in ${this.role}: ${r.stderr.trim()}`);
    return r.stdout;
  }
}
