// A mesh in network namespaces for end-to-end tests and the throughput benchmark:
// an underlay namespace holding a bridge (198.18.0.0/24), one namespace per peer
// joined to it by a veth pair, optional LAN namespaces behind a routing peer, and
// `meshfilter run` started inside each peer's namespace. Names carry the pid so
// parallel runs never collide, and destroy() (also run at process exit) removes
// every namespace and process it made.
//
// The agents talk over WireGuard unless the lab is made with { transport:
// "plaintext-udp" }. Tests describe peers the same way for both: startAgent takes the
// plaintext transport's options (--listen, --peer-endpoint, --route) and, over
// WireGuard, turns them into a WireGuard configuration file (a key pair per overlay
// address, each peer's AllowedIPs its overlay address and the prefixes routed through
// it), passed as --wireguard.

import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { formatKey, generatePrivateKey, publicKeyOf } from "../../src/wireguard/keys.ts";

export const REPO = resolve(import.meta.dirname, "../..");

/** Why the kernel refuses what the lab needs, or "" when it can run. */
export function labUnavailableReason(): string {
  if (process.getuid?.() !== 0) return "not root: network namespaces and TUN devices need CAP_NET_ADMIN";
  const probe = `mfprobe${process.pid}`;
  const r = spawnSync("ip", ["netns", "add", probe], { encoding: "utf8" });
  if (r.status !== 0) return `the kernel refuses network namespaces (ip netns add: ${(r.stderr || r.error?.message || "").trim()})`;
  const tun = spawnSync("ip", ["netns", "exec", probe, "ip", "tuntap", "add", "dev", "probe0", "mode", "tun"], { encoding: "utf8" });
  spawnSync("ip", ["netns", "del", probe]);
  if (tun.status !== 0) return `the kernel refuses TUN devices (${tun.stderr.trim()})`;
  return "";
}

export interface LabPeer {
  /** Short role used in namespace names: "laptop", "db"... */
  role: string;
  /** The peer's name in the policy. */
  peer: string;
  overlay: string;
  underlay: string;
}

export interface ExecResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface AgentHandle {
  peer: LabPeer;
  process: ChildProcess;
  /** Everything the agent logged (pino JSON lines on stderr). */
  log: () => string;
  /** The agent's control socket. */
  control: string;
  /** Resolves when a log line with this message appears after `since` characters of log. */
  waitForLog: (msg: string, since?: number, timeoutMs?: number) => Promise<string>;
}

/** How the lab's agents reach each other: WireGuard, or the plaintext UDP test transport. */
export type LabTransport = "wireguard" | "plaintext-udp";

export class Lab {
  readonly tag = `mf${process.pid}`;
  readonly transport: LabTransport;
  private readonly namespaces: string[] = [];
  private readonly children: ChildProcess[] = [];
  readonly agents = new Map<string, AgentHandle>();
  private readonly exitHook = () => this.destroySync();
  /** WireGuard keys by overlay address, made when first needed; and the folder of the agents' configuration files. */
  private readonly wireguardKeys = new Map<string, { privateKey: string; publicKey: string }>();
  private configDir: string | null = null;

  constructor(options: { transport?: LabTransport } = {}) {
    this.transport = options.transport ?? "wireguard";
    process.once("exit", this.exitHook);
  }

  /** The WireGuard key pair (base64) of the peer with this overlay address. */
  wireguardKey(overlay: string): { privateKey: string; publicKey: string } {
    let key = this.wireguardKeys.get(overlay);
    if (!key) {
      const privateKey = generatePrivateKey();
      key = { privateKey: formatKey(privateKey), publicKey: formatKey(publicKeyOf(privateKey)) };
      this.wireguardKeys.set(overlay, key);
    }
    return key;
  }

  /**
   * Over WireGuard, `meshfilter run` arguments with the plaintext transport's options
   * (--listen, --peer-endpoint, --route) become the same peers in a WireGuard
   * configuration file, passed as --wireguard; the other arguments stay. Over plaintext
   * UDP the transport is named (--transport plaintext-udp). Arguments that already
   * name a transport (--wireguard FILE, --transport) are left as they are.
   */
  transportArgs(peer: LabPeer, args: string[]): string[] {
    // Arguments that choose the transport themselves pass unchanged.
    if (args.includes("--wireguard") || args.includes("--transport")) return args;
    if (this.transport === "plaintext-udp") return [...args, "--transport", "plaintext-udp"];
    const rest: string[] = [];
    let listenPort = 0;
    const endpoints: [string, string][] = [];
    const routes: [string, string][] = [];
    for (let i = 0; i < args.length; i++) {
      const value = args[i + 1] ?? "";
      if (args[i] === "--listen") listenPort = Number(value.slice(value.lastIndexOf(":") + 1));
      else if (args[i] === "--peer-endpoint") endpoints.push(value.split("=") as [string, string]);
      else if (args[i] === "--route") routes.push(value.split("=") as [string, string]);
      else {
        rest.push(args[i]);
        continue;
      }
      i++;
    }
    const lines = ["[Interface]", `PrivateKey = ${this.wireguardKey(peer.overlay).privateKey}`, `ListenPort = ${listenPort}`];
    for (const [overlay, endpoint] of endpoints) {
      const allowed = [`${overlay}/32`, ...routes.filter(([, via]) => via === overlay).map(([prefix]) => prefix)];
      lines.push("", "[Peer]", `PublicKey = ${this.wireguardKey(overlay).publicKey}`, `AllowedIPs = ${allowed.join(", ")}`, `Endpoint = ${endpoint}`);
    }
    this.configDir ??= mkdtempSync(join(tmpdir(), "mf-lab-wg-"));
    const file = join(this.configDir, `${peer.role}.conf`);
    writeFileSync(file, `${lines.join("\n")}\n`, { mode: 0o600 });
    return [...rest, "--wireguard", file];
  }

  ns(role: string): string {
    return `${this.tag}-${role}`;
  }

  private addNamespace(role: string): string {
    const name = this.ns(role);
    run("ip", ["netns", "add", name]);
    this.namespaces.push(name);
    run("ip", ["-n", name, "link", "set", "lo", "up"]);
    return name;
  }

  /** The underlay: a bridge in its own namespace and one veth per peer (eth0 inside the peer's namespace). */
  buildUnderlay(peers: LabPeer[], mtu = 1500): void {
    const ul = this.addNamespace("ul");
    run("ip", ["-n", ul, "link", "add", "br0", "type", "bridge"]);
    run("ip", ["-n", ul, "link", "set", "br0", "up"]);
    for (const p of peers) {
      const ns = this.addNamespace(p.role);
      run("ip", ["-n", ul, "link", "add", `v-${p.role}`, "mtu", String(mtu), "type", "veth", "peer", "name", "eth0", "mtu", String(mtu), "netns", ns]);
      run("ip", ["-n", ul, "link", "set", `v-${p.role}`, "master", "br0", "up"]);
      run("ip", ["-n", ns, "addr", "add", `${p.underlay}/24`, "dev", "eth0"]);
      run("ip", ["-n", ns, "link", "set", "eth0", "up"]);
    }
  }

  /** A LAN namespace behind a routing peer: router side `routerAddress`, host `hostAddress` (with prefix). */
  addLan(routerRole: string, hostRole: string, routerAddress: string, hostAddress: string): void {
    const router = this.ns(routerRole);
    const host = this.addNamespace(hostRole);
    run("ip", ["-n", router, "link", "add", "lan0", "type", "veth", "peer", "name", "eth0", "netns", host]);
    run("ip", ["-n", router, "addr", "add", routerAddress, "dev", "lan0"]);
    run("ip", ["-n", router, "link", "set", "lan0", "up"]);
    run("ip", ["-n", host, "addr", "add", hostAddress, "dev", "eth0"]);
    run("ip", ["-n", host, "link", "set", "eth0", "up"]);
    run("ip", ["-n", host, "route", "add", "default", "via", routerAddress.split("/")[0]]);
    run("ip", ["netns", "exec", router, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
  }

  /** Runs a command inside a namespace and waits for it. */
  exec(role: string, cmd: string[], options: { timeoutMs?: number; input?: string } = {}): ExecResult {
    const r = spawnSync("ip", ["netns", "exec", this.ns(role), ...cmd], {
      encoding: "utf8",
      timeout: options.timeoutMs ?? 20_000,
      input: options.input,
      cwd: REPO,
    });
    return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  }

  /** Runs a command inside a namespace without blocking the event loop (so servers in this process keep working). */
  execAsync(role: string, cmd: string[], options: { timeoutMs?: number } = {}): Promise<ExecResult> {
    const child = this.spawn(role, cmd);
    child.stdin!.end();
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 20_000);
    return new Promise((resolvePromise) =>
      child.once("close", (status) => {
        clearTimeout(timer);
        resolvePromise({ status, stdout, stderr });
      }),
    );
  }

  /** Starts a long-running command inside a namespace; it is killed by destroy(). */
  spawn(role: string, cmd: string[]): ChildProcess {
    const child = spawn("ip", ["netns", "exec", this.ns(role), ...cmd], { cwd: REPO, stdio: ["pipe", "pipe", "pipe"] });
    this.children.push(child);
    return child;
  }

  /** Starts `meshfilter run` for `peer` and waits until it logs "agent running". */
  async startAgent(peer: LabPeer, args: string[], nodeArgs: string[] = [], wrapper: string[] = []): Promise<AgentHandle> {
    // `wrapper` runs the agent through another command, e.g. ["nice", "-n", "-10"].
    // Each agent gets a control socket of its own (the file system is shared by the namespaces).
    const control = args.includes("--control") ? args[args.indexOf("--control") + 1] : `/tmp/${this.tag}-${peer.role}.sock`;
    const controlArgs = args.includes("--control") || args.includes("--no-control") ? [] : ["--control", control];
    const runArgs = this.transportArgs(peer, args);
    const child = this.spawn(peer.role, [...wrapper, process.execPath, ...nodeArgs, "--import", "tsx", "src/cli/main.ts", "run", ...controlArgs, ...runArgs]);
    let log = "";
    const waiters: (() => void)[] = [];
    child.stderr!.on("data", (d: Buffer) => {
      log += d.toString();
      for (const w of waiters.splice(0)) w();
    });
    child.stdout!.on("data", (d: Buffer) => {
      log += d.toString();
    });
    const waitForLog = (msg: string, since = 0, timeoutMs = 15_000) =>
      new Promise<string>((resolvePromise, reject) => {
        const timer = setTimeout(() => reject(new Error(`${peer.peer}: no "${msg}" in the log within ${timeoutMs} ms:\n${log}`)), timeoutMs);
        const check = () => {
          const line = log.slice(since).split("\n").find((l) => l.includes(`"msg":"${msg}"`));
          if (line !== undefined) {
            clearTimeout(timer);
            resolvePromise(line);
          } else if (child.exitCode !== null) {
            clearTimeout(timer);
            reject(new Error(`${peer.peer}: agent exited (${child.exitCode}) before "${msg}":\n${log}`));
          } else {
            waiters.push(check);
          }
        };
        child.once("exit", () => waiters.splice(0).forEach((w) => w()));
        check();
      });
    const handle: AgentHandle = { peer, process: child, log: () => log, waitForLog, control };
    this.agents.set(peer.role, handle);
    // Generous: on a loaded machine four agents starting at once (tsx, the policy loader thread) take a while.
    await waitForLog("agent running", 0, 60_000);
    return handle;
  }

  /** Sends SIGTERM to an agent and resolves with its exit code. */
  stopAgent(role: string, timeoutMs = 10_000): Promise<number | null> {
    const agent = this.agents.get(role);
    if (!agent) return Promise.resolve(null);
    this.agents.delete(role);
    const child = agent.process;
    if (child.exitCode !== null) return Promise.resolve(child.exitCode);
    return new Promise((resolvePromise) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
      }, timeoutMs);
      child.once("exit", (code) => {
        clearTimeout(timer);
        resolvePromise(code);
      });
      child.kill("SIGTERM");
    });
  }

  /** Stops every agent (SIGTERM), kills other processes, deletes every namespace. */
  async destroy(): Promise<void> {
    await Promise.all([...this.agents.keys()].map((role) => this.stopAgent(role)));
    this.destroySync();
    process.off("exit", this.exitHook);
  }

  private destroySync(): void {
    if (this.configDir) rmSync(this.configDir, { recursive: true, force: true });
    this.configDir = null;
    for (const child of this.children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    // Deleting a namespace also kills nothing by itself, but its veths and TUNs go with it.
    for (const ns of this.namespaces.splice(0).reverse()) {
      // Any process still inside would keep the namespace's devices alive: kill them first.
      const pids = spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8" }).stdout?.trim().split(/\s+/).filter(Boolean) ?? [];
      for (const pid of pids) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {
          // already gone
        }
      }
      spawnSync("ip", ["netns", "del", ns]);
    }
  }
}

function run(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
  } catch (err) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${(err as { stderr?: Buffer }).stderr?.toString().trim()}`);
  }
}

/** Waits until something listens on TCP `port` inside the namespace of `role`. */
export async function waitListening(lab: Lab, role: string, port: number, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (lab.exec(role, ["ss", "-Hltn", `sport = :${port}`]).stdout.trim() !== "") return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on tcp/${port} in ${role} after ${timeoutMs} ms`);
}
