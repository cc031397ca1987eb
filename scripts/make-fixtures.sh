#!/usr/bin/env bash
# Makes the capture fixtures from real traffic: network namespaces joined by a veth
# pair, a TUN point-to-point link and a bridge (this kernel has no 802.1Q module, so
# VLAN-tagged frames are made by the tests from these captures);
# real ping, curl from an HTTP server, UDP and TCP exchanges; captured by tcpdump in
# several link types, then some converted to pcapng. Run as root. Always cleans up.
#
# Usage: scripts/make-fixtures.sh [--out DIR] [--mesh FILE] [--no-mesh] [--no-fixtures]
#   --out DIR      where the link-type fixtures go (default: fixtures)
#   --mesh FILE    where the bundled main-job capture goes (default: examples/mesh.pcap)
#   --no-mesh      skip the mesh capture;  --no-fixtures  skip the link-type fixtures
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/fixtures"
MESH="$ROOT/examples/mesh.pcap"
DO_FIXTURES=1
DO_MESH=1
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --mesh) MESH=$2; shift 2 ;;
    --no-mesh) DO_MESH=0; shift ;;
    --no-fixtures) DO_FIXTURES=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "make-fixtures.sh needs root (network namespaces)" >&2; exit 1; }
for tool in ip tcpdump ping curl python3 nc ss; do
  command -v "$tool" >/dev/null || { echo "make-fixtures.sh needs $tool" >&2; exit 1; }
done
mkdir -p "$OUT" "$(dirname "$MESH")"
OUT=$(cd "$OUT" && pwd)

# Unique names, so parallel runs (tests) do not collide; interface names stay <= 15 chars.
TAG="mf$$"
WORK=$(mktemp -d)
NAMESPACES=()
PIDS=()

cleanup() {
  local pid ns
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

new_ns() {
  ip netns add "$1"
  NAMESPACES+=("$1")
  ip -n "$1" link set lo up
}

# Starts tcpdump in namespace $1 writing $2, with further tcpdump arguments; waits until it listens.
start_capture() {
  local ns=$1 file=$2; shift 2
  local log="$WORK/$(basename "$file").log"
  # --immediate-mode: deliver each packet at once, or the last ones can still sit in the
  # kernel ring when SIGINT arrives; -B: a 32 MB ring, so bursts are not "dropped by kernel".
  ip netns exec "$ns" tcpdump --immediate-mode -B 32768 -U -n -s 0 -w "$file" "$@" 2>"$log" &
  PIDS+=($!)
  CAPTURE_PIDS+=($!)
  for _ in $(seq 100); do grep -qs "listening on" "$log" && return 0; sleep 0.05; done
  echo "tcpdump did not start: $(cat "$log")" >&2
  exit 1
}

# Stops the running captures (SIGINT so tcpdump flushes) after late packets have arrived.
stop_captures() {
  sleep 0.5
  local pid
  for pid in "${CAPTURE_PIDS[@]}"; do kill -INT "$pid"; done
  for pid in "${CAPTURE_PIDS[@]}"; do wait "$pid" || true; done
  CAPTURE_PIDS=()
  # A fixture with holes would make the documented counts a matter of luck: refuse it.
  local log
  for log in "$WORK"/*.pcap.log; do
    if grep -Eq "^[1-9][0-9]* packets dropped by kernel" "$log"; then
      echo "tcpdump lost packets ($(basename "$log" .log)): $(tail -n 3 "$log" | tr '\n' ' ')" >&2
      exit 1
    fi
  done
  rm -f "$WORK"/*.pcap.log
}

# Starts a background server in namespace $1 and waits until it listens on $2/$3 (tcp|udp, port).
start_server() {
  local ns=$1 proto=$2 port=$3; shift 3
  ip netns exec "$ns" "$@" >/dev/null 2>&1 &
  PIDS+=($!)
  local flag=-ltn
  [ "$proto" = udp ] && flag=-lun
  for _ in $(seq 100); do
    ip netns exec "$ns" ss -H $flag "sport = :$port" | grep -q . && return 0
    sleep 0.05
  done
  echo "server on $proto/$port in $ns did not start" >&2
  exit 1
}

# A UDP echo server: answers every datagram with the same bytes.
UDP_ECHO='import socket,sys
s=socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET,socket.SOCK_DGRAM)
s.bind((sys.argv[1],int(sys.argv[2])))
while True:
    d,a=s.recvfrom(2048); s.sendto(d,a)'
# A UDP client: sends N datagrams to host:port from a fixed source port, waits for each echo.
UDP_CLIENT='import socket,sys
host,port,n,sport=sys.argv[1],int(sys.argv[2]),int(sys.argv[3]),int(sys.argv[4])
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(2); s.bind(("0.0.0.0",sport))
for i in range(n):
    s.sendto(b"query %d" % i,(host,port)); s.recvfrom(2048)'
# A TCP server: for each of N connections, reads one message, answers, closes.
TCP_SERVER='import socket,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)
s.bind((sys.argv[1],int(sys.argv[2]))); s.listen(8)
for _ in range(int(sys.argv[3])):
    c,_a=s.accept(); c.recv(4096); c.sendall(b"reply " + b"x"*200); c.close()'
# A TCP client: sends one message, reads the answer until the server closes, closes.
TCP_CLIENT='import socket,sys
c=socket.create_connection((sys.argv[1],int(sys.argv[2])),timeout=3)
c.sendall(sys.argv[3].encode())
while c.recv(4096): pass
c.close()'

make_link_type_fixtures() {
  local a="$TAG-a" b="$TAG-b"
  new_ns "$a"
  new_ns "$b"
  ip link add va netns "$a" type veth peer name vb netns "$b"
  local ns side
  for side in a b; do
    ns="$TAG-$side"
    local dev="v$side" n=1
    [ "$side" = b ] && n=2
    # One TCP segment per skb, so captures hold wire-sized packets rather than 64 KB GSO frames.
    ip -n "$ns" link set "$dev" gso_max_segs 1 up
    ip -n "$ns" addr add "198.18.0.$n/24" dev "$dev"
    ip -n "$ns" addr add "fd00:18::$n/64" dev "$dev" nodad
  done

  # The TUN link: a relay process owns both TUN devices; one is moved into namespace b.
  ip netns exec "$a" python3 "$ROOT/scripts/tun-pair.py" ta tb >"$WORK/tun.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do grep -qs ready "$WORK/tun.log" && break; sleep 0.05; done
  grep -q ready "$WORK/tun.log" || { echo "TUN relay did not start: $(cat "$WORK/tun.log")" >&2; exit 1; }
  ip -n "$a" link set tb netns "$b"
  ip -n "$a" link set ta up
  ip -n "$b" link set tb up
  ip -n "$a" addr add 198.18.2.1 peer 198.18.2.2 dev ta
  ip -n "$b" addr add 198.18.2.2 peer 198.18.2.1 dev tb
  ip -n "$a" addr add fd00:2::1/64 dev ta nodad
  ip -n "$b" addr add fd00:2::2/64 dev tb nodad

  head -c 65536 /dev/urandom >"$WORK/blob"
  start_server "$b" tcp 8080 python3 -m http.server 8080 --bind :: --directory "$WORK"
  start_server "$b" udp 5353 python3 -c "$UDP_ECHO" 0.0.0.0 5353

  CAPTURE_PIDS=()
  start_capture "$b" "$WORK/ethernet.pcap" -i vb
  start_capture "$b" "$WORK/linux-sll.pcap" -i any -y LINUX_SLL
  start_capture "$b" "$WORK/linux-sll2-nano.pcap" -i any -y LINUX_SLL2 --nano
  start_capture "$a" "$WORK/raw-ip.pcap" -i ta

  # Over the veth pair (Ethernet), then over the TUN link (raw IP).
  ip netns exec "$a" ping -n -q -c 3 -i 0.2 198.18.0.2 >/dev/null
  ip netns exec "$a" ping -n -q -6 -c 2 -i 0.2 fd00:18::2 >/dev/null
  ip netns exec "$a" curl -s -o /dev/null http://198.18.0.2:8080/blob
  ip netns exec "$a" python3 -c "$UDP_CLIENT" 198.18.0.2 5353 3 40000
  ip netns exec "$a" ping -n -q -c 3 -i 0.2 198.18.2.2 >/dev/null
  ip netns exec "$a" ping -n -q -6 -c 2 -i 0.2 fd00:2::2 >/dev/null
  ip netns exec "$a" curl -s -o /dev/null http://198.18.2.2:8080/blob
  ip netns exec "$a" python3 -c "$UDP_CLIENT" 198.18.2.2 5353 3 40001
  stop_captures

  local name
  for name in ethernet linux-sll linux-sll2-nano raw-ip; do cp "$WORK/$name.pcap" "$OUT/$name.pcap"; done
  # pcapng: the three link types interleaved in one section (the sll2 interface with
  # nanosecond if_tsresol), and a big-endian file with one section per input.
  (cd "$ROOT" && npx tsx scripts/pcap-to-pcapng.ts --nano-interface 2 --comment "meshfilter fixture" \
    "$OUT/multi-interface.pcapng" "$OUT/ethernet.pcap" "$OUT/raw-ip.pcap" "$OUT/linux-sll2-nano.pcap")
  (cd "$ROOT" && npx tsx scripts/pcap-to-pcapng.ts --big-endian --sections \
    "$OUT/sections-big-endian.pcapng" "$OUT/raw-ip.pcap" "$OUT/linux-sll.pcap")
}

# The bundled main job: laptop-alice, db-1 and web-1 on one bridge (in its own
# namespace), captured on the bridge device. See examples/README.md for the flows.
make_mesh_capture() {
  local br="$TAG-br" alice="$TAG-alice" db="$TAG-db" web="$TAG-web"
  new_ns "$br"
  ip -n "$br" link add br0 type bridge
  # No multicast snooping: the bridge would otherwise send IGMP queries of its own.
  ip -n "$br" link set br0 type bridge mcast_snooping 0
  ip -n "$br" link set br0 up
  local peer ns ip
  for peer in alice:"$alice":100.64.0.10 db:"$db":100.64.0.20 web:"$web":100.64.0.30; do
    IFS=: read -r name ns ip <<<"$peer"
    new_ns "$ns"
    # No IPv6: the job is about the IPv4 overlay, and router/multicast chatter would only add noise.
    ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip link add eth0 netns "$ns" type veth peer name "p-$name" netns "$br"
    ip -n "$ns" link set eth0 gso_max_segs 1 up
    ip -n "$ns" addr add "$ip/16" dev eth0
    ip -n "$br" link set "p-$name" master br0 up
  done
  ip netns exec "$br" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1

  mkdir -p "$WORK/www"
  head -c 307200 /dev/urandom >"$WORK/www/release.tar.gz"
  start_server "$db" tcp 5432 python3 -c "$TCP_SERVER" 100.64.0.20 5432 2
  start_server "$web" tcp 80 python3 -m http.server 80 --bind 100.64.0.30 --directory "$WORK/www"
  start_server "$web" udp 53 python3 -c "$UDP_ECHO" 100.64.0.30 53

  CAPTURE_PIDS=()
  # br0 is promiscuous under tcpdump, so it receives every frame the bridge forwards, once.
  start_capture "$br" "$WORK/mesh.pcap" -i br0

  ip netns exec "$alice" python3 -c "$TCP_CLIENT" 100.64.0.20 5432 "SELECT 1 -- from laptop-alice"
  sleep 0.2
  ip netns exec "$web" python3 -c "$TCP_CLIENT" 100.64.0.20 5432 "SELECT 2 -- from web-1"
  sleep 0.2
  ip netns exec "$alice" curl -s -o /dev/null http://100.64.0.30/release.tar.gz
  sleep 0.2
  ip netns exec "$alice" ping -n -q -c 3 -i 0.2 100.64.0.20 >/dev/null
  ip netns exec "$alice" ping -n -q -c 2 -i 0.2 100.64.0.30 >/dev/null
  ip netns exec "$alice" nc -z -w 1 100.64.0.20 22 || true
  sleep 0.2
  ip netns exec "$db" nc -z -w 1 100.64.0.10 22 || true
  sleep 0.2
  ip netns exec "$alice" python3 -c "$UDP_CLIENT" 100.64.0.30 53 2 40053
  stop_captures
  cp "$WORK/mesh.pcap" "$MESH"
}

# (Not `cond && fn`: set -e does not apply inside an && list, and a failed step must stop the script.)
if [ "$DO_FIXTURES" = 1 ]; then
  make_link_type_fixtures
  echo "fixtures written to $OUT"
fi
if [ "$DO_MESH" = 1 ]; then
  make_mesh_capture
  echo "mesh capture written to $MESH"
fi
