// The differential test's network: three namespaces joined by two veth pairs,
//   cli (100.64.1.10) --- c0 [fw] s0 --- srv (100.64.2.20)
// with fw forwarding between them under the nftables judge (policy.ts). Built once
// per test run; names carry the pid so parallel runs never clash, and destroy()
// (also registered for process exit) removes the namespaces and everything in them.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { CLIENT, FW_CLIENT_SIDE, FW_SERVER_SIDE, judgeRuleset, SERVER, silenceRuleset } from "./policy.ts";

export type Role = "cli" | "fw" | "srv";

/** The firewall's interfaces towards the client and the server. */
export const FW_CLIENT_IF = "c0";
export const FW_SERVER_IF = "s0";

/** Debian's python, which CI installs; a python earlier on PATH (pyenv) may not exist under `ip netns exec`'s root. */
export const PYTHON = "/usr/bin/python3";

function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", input, timeout: 20_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${(r.stderr || r.error?.message || "").trim()}`);
  return r.stdout;
}

function probe(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", input, timeout: 20_000 });
  if (r.error) return `${cmd}: ${r.error.message}`;
  return r.status === 0 ? "" : `${cmd} ${args.join(" ")}: ${(r.stderr || r.stdout).trim()}`;
}

/** Why this machine cannot run the differential test, or "" when it can. */
export function topologyUnavailableReason(): string {
  if (process.getuid?.() !== 0) return "not root: network namespaces, nftables and raw sockets need CAP_NET_ADMIN and CAP_NET_RAW";
  const ns = `mfctprobe${process.pid}`;
  const add = probe("ip", ["netns", "add", ns]);
  if (add) return `network namespaces unavailable (${add})`;
  try {
    const nft = probe("ip", ["netns", "exec", ns, "nft", "-f", "-"], judgeRuleset("lo", "lo"));
    if (nft) return `nftables with conntrack unavailable (${nft}); apt-get install nftables`;
    const py = probe("ip", ["netns", "exec", ns, PYTHON, "-c", "import socket; socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW); socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, 0)"]);
    if (py) return `raw or packet sockets unavailable with ${PYTHON} (${py})`;
    return "";
  } finally {
    spawnSync("ip", ["netns", "del", ns]);
  }
}

export class Topology {
  readonly tag = `mfct${process.pid}`;
  private readonly made: string[] = [];
  private readonly children: ChildProcess[] = [];
  private readonly exitHook = () => this.destroy();

  constructor() {
    process.once("exit", this.exitHook);
  }

  ns(role: Role): string {
    return `${this.tag}-${role}`;
  }

  /** Runs a command in a namespace and returns its stdout; throws on failure. */
  exec(role: Role, cmd: string[], input?: string): string {
    return run("ip", ["netns", "exec", this.ns(role), ...cmd], input);
  }

  /** A long-running process in a namespace; killed by destroy(). */
  spawn(role: Role, cmd: string[]): ChildProcess {
    const child = spawn("ip", ["netns", "exec", this.ns(role), ...cmd], { stdio: ["pipe", "pipe", "pipe"] });
    this.children.push(child);
    return child;
  }

  private sysctl(role: Role, ...settings: string[]): void {
    for (const s of settings) this.exec(role, ["sysctl", "-q", "-w", s]);
  }

  private mac(role: Role, dev: string): string {
    const info = JSON.parse(run("ip", ["-n", this.ns(role), "-j", "link", "show", "dev", dev])) as { address: string }[];
    return info[0].address;
  }

  build(): void {
    for (const role of ["cli", "fw", "srv"] as Role[]) {
      run("ip", ["netns", "add", this.ns(role)]);
      this.made.push(this.ns(role));
      // No IPv6: router solicitations and DAD would only add noise to the capture.
      this.sysctl(role, "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
      run("ip", ["-n", this.ns(role), "link", "set", "lo", "up"]);
    }
    const fw = this.ns("fw");
    run("ip", ["-n", fw, "link", "add", FW_CLIENT_IF, "type", "veth", "peer", "name", "eth0", "netns", this.ns("cli")]);
    run("ip", ["-n", fw, "link", "add", FW_SERVER_IF, "type", "veth", "peer", "name", "eth0", "netns", this.ns("srv")]);
    const links: [Role, string, string][] = [
      ["fw", FW_CLIENT_IF, `${FW_CLIENT_SIDE}/24`],
      ["fw", FW_SERVER_IF, `${FW_SERVER_SIDE}/24`],
      ["cli", "eth0", `${CLIENT}/24`],
      ["srv", "eth0", `${SERVER}/24`],
    ];
    for (const [role, dev, addr] of links) {
      run("ip", ["-n", this.ns(role), "addr", "add", addr, "dev", dev]);
      // Segments must cross the firewall as sent, one by one: no GSO/GRO aggregates.
      run("ip", ["-n", this.ns(role), "link", "set", dev, "gso_max_size", "1500", "gro_max_size", "1500", "up"]);
    }
    run("ip", ["-n", this.ns("cli"), "route", "add", "default", "via", FW_CLIENT_SIDE]);
    run("ip", ["-n", this.ns("srv"), "route", "add", "default", "via", FW_SERVER_SIDE]);
    // Permanent neighbours: an ARP exchange in the middle of a scenario would delay
    // one packet behind the next and make the arrival order at fw nondeterministic.
    const neighbours: [Role, string, string, string][] = [
      ["cli", "eth0", FW_CLIENT_SIDE, this.mac("fw", FW_CLIENT_IF)],
      ["fw", FW_CLIENT_IF, CLIENT, this.mac("cli", "eth0")],
      ["fw", FW_SERVER_IF, SERVER, this.mac("srv", "eth0")],
      ["srv", "eth0", FW_SERVER_SIDE, this.mac("fw", FW_SERVER_IF)],
    ];
    for (const [role, dev, ip, mac] of neighbours) {
      run("ip", ["-n", this.ns(role), "neigh", "replace", ip, "lladdr", mac, "dev", dev, "nud", "permanent"]);
    }
    this.sysctl("fw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf.all.rp_filter=0");
    this.exec("fw", ["nft", "-f", "-"], judgeRuleset(FW_CLIENT_IF, FW_SERVER_IF));
    // Linux's defaults, set explicitly: the judge must be stock conntrack, whatever the
    // host has (these are per namespace once the ruleset above loaded nf_conntrack).
    this.sysctl("fw", "net.netfilter.nf_conntrack_tcp_loose=1", "net.netfilter.nf_conntrack_tcp_be_liberal=0", "net.netfilter.nf_conntrack_checksum=1");
    if (process.env.MFCT_LOG_INVALID) {
      // Debugging aid: conntrack logs why it found a packet invalid (or ignored it) to
      // the kernel log (dmesg). Needs net.netfilter.nf_log_all_netns=1 on the host.
      this.sysctl("fw", "net.netfilter.nf_log.2=nf_log_ipv4", "net.netfilter.nf_conntrack_log_invalid=255");
    }
    this.exec("cli", ["nft", "-f", "-"], silenceRuleset("client"));
    this.exec("srv", ["nft", "-f", "-"], silenceRuleset("server"));
    // TCP Fast Open without cookies (client 0x1|0x4, server 0x2|0x200): the SYN carries
    // data on the first connection; only listeners with TCP_FASTOPEN set accept it.
    this.sysctl("cli", "net.ipv4.tcp_fastopen=5");
    this.sysctl("srv", "net.ipv4.tcp_fastopen=514");
    // Kernel-chosen ports stay out of the ranges the scenarios own.
    for (const role of ["cli", "srv"] as Role[]) this.sysctl(role, "net.ipv4.ip_local_port_range=50000 60999");
  }

  /** Kills the processes it started and deletes the namespaces (idempotent). */
  destroy(): void {
    for (const child of this.children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    for (const ns of this.made.splice(0)) spawnSync("ip", ["netns", "del", ns]);
    process.off("exit", this.exitHook);
  }
}
