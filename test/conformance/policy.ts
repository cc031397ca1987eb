// The one access policy both judges enforce, in both forms side by side so that they
// cannot drift apart: meshfilter's policy for peer "server" and the nftables ruleset
// Linux runs in the firewall namespace. Peer = the server: the client may reach it on
// TCP_PORTS, UDP_PORTS and by ping; the server's own traffic is not filtered but
// tracked (P13), so its replies and its own connections pass.

export const CLIENT = "100.64.1.10";
export const SERVER = "100.64.2.20";
export const FW_CLIENT_SIDE = "100.64.1.1";
export const FW_SERVER_SIDE = "100.64.2.1";

/** Scripted scenarios' server port (nobody listens) and the real listeners' ports. */
export const TCP_SCRIPTED = 5001;
export const TCP_LISTENER = 5002;
export const TCP_FASTOPEN_LISTENER = 5003;
export const TCP_PLAIN_LISTENER = 5004;
export const TCP_PORTS = [TCP_SCRIPTED, TCP_LISTENER, TCP_FASTOPEN_LISTENER, TCP_PLAIN_LISTENER];
/** No rule allows it. */
export const TCP_CLOSED = 5999;
export const UDP_PORT = 6001;
export const UDP_CLOSED = 6999;

/**
 * The client-side ports (and ICMP echo ids) of scripted scenarios: the endpoint kernels
 * ignore these (see silenceRuleset) so that only the scripted packets are on the wire.
 * Real-kernel scenarios use the ports from REAL_PORTS on.
 */
export const SCRIPTED_PORTS = { first: 40000, last: 44999 };
export const REAL_PORTS = { first: 45000, last: 49999 };
/** Ports each scenario owns: the scenario of a packet is found from its client-side port. */
export const PORTS_PER_SCENARIO = 10;

export const MESHFILTER_POLICY_YAML = `
format: meshfilter/v1
peers:
  - name: client
    ip: ${CLIENT}
    groups: [clients]
  - name: server
    ip: ${SERVER}
    groups: [servers]
groups: [clients, servers]
policies:
  - name: client-to-server
    rules:
      - name: tcp
        sources: [clients]
        destinations: [servers]
        protocol: tcp
        ports: [${TCP_PORTS.join(", ")}]
      - name: udp
        sources: [clients]
        destinations: [servers]
        protocol: udp
        ports: [${UDP_PORT}]
      - name: ping
        sources: [clients]
        destinations: [servers]
        protocol: icmp
`;

/**
 * Linux as the judge, in the firewall namespace's forward path. The order mirrors
 * meshfilter's decision order: a packet conntrack finds invalid is dropped first
 * (meshfilter: window and state checks), packets of tracked connections and related
 * ICMP errors pass, then the rules decide new connections: from the client only a
 * bare SYN to an allowed port (meshfilter opens TCP only on a SYN), UDP to the allowed
 * port and an echo request (meshfilter opens ICMP sessions on echo only); from the
 * server anything conntrack calls new (P13), which with the default
 * nf_conntrack_tcp_loose=1 includes a mid-stream TCP segment. Everything else: policy drop.
 */
export function judgeRuleset(clientIf: string, serverIf: string): string {
  return `
table inet mfct {
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state invalid drop
    ct state established,related accept
    iifname "${serverIf}" ip saddr ${SERVER} ct state new accept
    iifname "${clientIf}" ip saddr ${CLIENT} ip daddr ${SERVER} tcp dport { ${TCP_PORTS.join(", ")} } tcp flags & (fin | syn | rst | ack) == syn ct state new accept
    iifname "${clientIf}" ip saddr ${CLIENT} ip daddr ${SERVER} udp dport ${UDP_PORT} ct state new accept
    iifname "${clientIf}" ip saddr ${CLIENT} ip daddr ${SERVER} icmp type echo-request ct state new accept
  }
}
`;
}

/**
 * In the endpoint namespaces: the kernels must not answer scripted packets (a RST or
 * port unreachable from a real stack would be a packet the script did not write), so
 * their input drops every packet of the scripted port range, before any socket sees
 * it. No conntrack here (no ct expression): only the firewall tracks.
 */
export function silenceRuleset(side: "client" | "server"): string {
  const ports = `${SCRIPTED_PORTS.first}-${SCRIPTED_PORTS.last}`;
  const dir = side === "client" ? "dport" : "sport";
  return `
table inet mfsilence {
  chain input {
    type filter hook input priority filter; policy accept;
    tcp ${dir} ${ports} drop
    udp ${dir} ${ports} drop
    icmp type { echo-request, echo-reply } icmp id ${ports} drop
  }
}
`;
}
