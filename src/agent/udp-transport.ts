// The plain UDP transport: each overlay packet travels as one UDP datagram to the
// underlay endpoint of the peer that owns its destination address.
//
// UNENCRYPTED AND UNAUTHENTICATED. Anyone on the underlay can read the traffic and
// inject packets with any inner source address. It exists to test and benchmark
// meshfilter between network namespaces; a real agent uses WireGuard (outside this project).
//
// Sends and receives go through the addon's batched socket (sendmmsg/recvmmsg): one
// system call per batch instead of one per packet; with offload (the default), runs of
// full-sized packets to one peer travel the underlay as one UDP GSO/GRO unit. The wire
// format does not change: every datagram is still exactly one overlay packet, so peers
// with and without offload interoperate. IPv4 overlay and underlay only.

import { formatIpv4, maskWord, parseCidr, parseIpv4 } from "../packet/address.ts";
import { tcp4View } from "../packet/tcp4-view.ts";
import { loadNativeAddon, type NativeUdpSocket } from "../io/tun.ts";
import { UdpReceiveBatch } from "../io/udp-receive-batch.ts";
import type { DeliverBatch, Transport, TransportCounters } from "./transport.ts";

export interface UdpPeer {
  /** The peer's overlay IPv4 address, e.g. "100.64.0.20". */
  overlay: string;
  /** Its underlay endpoint, "198.18.0.2:51820". */
  endpoint: string;
}

export interface UdpRoute {
  /** A prefix behind a routing peer, e.g. "198.18.1.0/24". */
  prefix: string;
  /** The overlay address of the routing peer (one of `peers`). */
  via: string;
}

export interface UdpTransportOptions {
  /** Local "address:port" to receive on, e.g. "198.18.0.1:51820" (port 0 picks one). */
  listen: string;
  peers: UdpPeer[];
  routes?: UdpRoute[];
  /** Largest overlay packet (the TUN MTU); datagrams larger than this are dropped on receipt. */
  mtu: number;
  /** Datagrams per recvmmsg without offload. Default 64. (With offload: 8 GRO runs of up to 64 datagrams.) */
  batchSize?: number;
  /** SO_RCVBUF / SO_SNDBUF in bytes. Default 4 MiB. */
  socketBuffer?: number;
  /** Use UDP GSO/GRO when the kernel has them (Linux 5.0+). Default true. */
  offload?: boolean;
}


/** Splits "198.18.0.2:51820" into its parts; throws naming the text when it is not IPv4:port. */
export function parseEndpoint(text: string): { address: string; port: number } {
  const colon = text.lastIndexOf(":");
  const address = text.slice(0, colon);
  const port = Number(text.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`invalid endpoint "${text}": expected IPv4:port, e.g. 198.18.0.2:51820`);
  }
  parseIpv4(address);
  return { address, port };
}

export class UdpTransport implements Transport {
  readonly counters: TransportCounters = { sentPackets: 0, sentBytes: 0, receivedPackets: 0, receivedBytes: 0, noRoute: 0, sendErrors: 0 };
  private readonly socket: NativeUdpSocket;
  // Peers sorted by overlay address, for a binary search per packet without allocation.
  private readonly peerOverlay: Uint32Array;
  private readonly peerAddr: Uint32Array;
  private readonly peerPort: Uint32Array;
  // Routed prefixes, longest first: network, mask, index into the peer arrays.
  private readonly routeNet: Uint32Array;
  private readonly routeMask: Uint32Array;
  private readonly routePeer: Int32Array;
  // Per-batch scratch, allocated once.
  private dstAddrs = new Uint32Array(0);
  private dstPorts = new Uint32Array(0);
  private readonly received: UdpReceiveBatch;

  constructor(options: UdpTransportOptions) {
    const listen = parseEndpoint(options.listen);
    const peers = options.peers
      .map((p) => ({ overlay: parseIpv4(p.overlay), ...parseEndpoint(p.endpoint) }))
      .sort((a, b) => a.overlay - b.overlay);
    for (let i = 1; i < peers.length; i++) {
      if (peers[i].overlay === peers[i - 1].overlay) throw new Error(`peer ${formatIpv4(peers[i].overlay)} has two endpoints`);
    }
    this.peerOverlay = Uint32Array.from(peers, (p) => p.overlay);
    this.peerAddr = Uint32Array.from(peers, (p) => parseIpv4(p.address));
    this.peerPort = Uint32Array.from(peers, (p) => p.port);
    const routes = (options.routes ?? [])
      .map((r) => {
        const cidr = parseCidr(r.prefix);
        if (cidr.version !== 4) throw new Error(`route ${r.prefix}: the UDP transport routes IPv4 prefixes only`);
        const peer = this.findPeer(parseIpv4(r.via));
        if (peer < 0) throw new Error(`route ${r.prefix} via ${r.via}: no peer endpoint has that overlay address`);
        return { net: cidr.words[0], mask: maskWord(cidr.prefixLength), length: cidr.prefixLength, peer };
      })
      .sort((a, b) => b.length - a.length);
    this.routeNet = Uint32Array.from(routes, (r) => r.net);
    this.routeMask = Uint32Array.from(routes, (r) => r.mask);
    this.routePeer = Int32Array.from(routes, (r) => r.peer);

    const { UdpSocket } = loadNativeAddon();
    this.socket = new UdpSocket(listen.address, listen.port, options.socketBuffer ?? 4 * 1024 * 1024, options.offload ?? true);
    this.received = new UdpReceiveBatch(this.socket, options.batchSize ?? 64, options.mtu);
  }

  /** True when UDP GSO/GRO are in use. */
  get offload(): boolean {
    return this.socket.offload;
  }

  /** The bound UDP port (useful with port 0). */
  get localPort(): number {
    return this.socket.localPort;
  }

  send(buf: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, verdicts: Uint8Array): number {
    if (this.dstPorts.length < count) {
      this.dstAddrs = new Uint32Array(count);
      this.dstPorts = new Uint32Array(count);
    }
    const dstAddrs = this.dstAddrs;
    const dstPorts = this.dstPorts;
    let routable = 0;
    let bytes = 0;
    const tcp4 = tcp4View;
    for (let i = 0; i < count; i++) {
      dstPorts[i] = 0; // 0 = do not send
      if (verdicts[i] === 0) continue;
      const off = offsets[i];
      const peer = tcp4.ipVersionByte(buf, off) === 4 ? this.peerFor(tcp4.ipv4DstBytes(buf, off)) : -1;
      if (peer < 0) {
        this.counters.noRoute++;
        continue;
      }
      dstAddrs[i] = this.peerAddr[peer];
      dstPorts[i] = this.peerPort[peer];
      routable++;
      bytes += lengths[i];
    }
    if (routable === 0) return 0;
    const sent = this.socket.send(buf, offsets, lengths, count, dstAddrs, dstPorts);
    this.counters.sentPackets += sent;
    // Bytes are counted for the whole routable batch; only a full socket buffer makes them differ.
    if (sent === routable) this.counters.sentBytes += bytes;
    else this.counters.sendErrors += routable - sent;
    return sent;
  }

  start(deliver: DeliverBatch): void {
    const { socket, received, counters } = this;
    const { buf, offsets, lengths } = received;
    socket.onReadable(() => {
      // A bounded number of batches per readiness keeps the TUN side of the agent served too.
      for (let round = 0; round < 8; round++) {
        const n = received.receive();
        if (n === 0) return;
        counters.receivedPackets += n;
        for (let i = 0; i < n; i++) counters.receivedBytes += lengths[i];
        deliver(buf, offsets, lengths, n);
      }
    });
  }

  close(): void {
    this.socket.close();
  }

  private findPeer(overlay: number): number {
    let lo = 0;
    let hi = this.peerOverlay.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.peerOverlay[mid];
      if (v === overlay) return mid;
      if (v < overlay) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** The peer index that gets packets for `dst`: its owner, else the routing peer of the longest matching prefix. */
  private peerFor(dst: number): number {
    const direct = this.findPeer(dst);
    if (direct >= 0) return direct;
    for (let r = 0; r < this.routeNet.length; r++) {
      if (((dst & this.routeMask[r]) >>> 0) === this.routeNet[r]) return this.routePeer[r];
    }
    return -1;
  }
}
