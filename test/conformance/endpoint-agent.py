#!/usr/bin/python3
# One long-lived process per endpoint namespace (cli, srv) for the conntrack
# differential test: it injects crafted IPv4 packets through a raw socket and drives
# real kernel TCP sockets, on commands read from stdin, one JSON object per line.
# Each command is answered with one JSON line ({"ok": true, ...} or {"ok": false,
# "error": ...}) only once it is done, so the test can order packets by awaiting the
# answer. Python's standard library only: it runs with Debian's /usr/bin/python3.

import json
import socket
import struct
import sys

# IPPROTO_RAW implies IP_HDRINCL: the packet is sent exactly as built (checksums,
# TTL, IP id), so the copy arriving at the firewall has the bytes the test built.
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
MSG_FASTOPEN = getattr(socket, "MSG_FASTOPEN", 0x20000000)
TCP_FASTOPEN = getattr(socket, "TCP_FASTOPEN", 23)

listeners = {}
conns = {}


def answer(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def tcp_socket(cmd):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.settimeout(cmd.get("timeout", 5))
    return s


def run(cmd):
    op = cmd["op"]
    if op == "raw":
        pkt = bytes.fromhex(cmd["hex"])
        raw.sendto(pkt, (socket.inet_ntoa(pkt[16:20]), 0))
        return {}
    if op == "listen":
        s = tcp_socket(cmd)
        if cmd.get("fastopen"):
            s.setsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN, 16)
        s.bind(("0.0.0.0", cmd["port"]))
        s.listen(64)
        listeners[cmd["port"]] = s
        return {}
    if op == "accept":
        c, peer = listeners[cmd["port"]].accept()
        c.settimeout(cmd.get("timeout", 5))
        conns[cmd["id"]] = c
        return {"peer": list(peer)}
    if op == "connect":
        s = tcp_socket(cmd)
        s.bind((cmd.get("bind", "0.0.0.0"), cmd["lport"]))
        s.connect((cmd["host"], cmd["port"]))
        conns[cmd["id"]] = s
        return {}
    if op == "fastopen":
        # TCP Fast Open: the data rides on the SYN (sysctl net.ipv4.tcp_fastopen decides
        # whether a cookie is needed; the test sets "no cookie" on both ends).
        s = tcp_socket(cmd)
        s.bind(("0.0.0.0", cmd["lport"]))
        s.sendto(bytes.fromhex(cmd["hex"]), MSG_FASTOPEN, (cmd["host"], cmd["port"]))
        conns[cmd["id"]] = s
        return {}
    if op == "send":
        conns[cmd["id"]].sendall(bytes.fromhex(cmd["hex"]))
        return {}
    if op == "recv":
        c = conns[cmd["id"]]
        want = cmd["n"]
        got = b""
        while len(got) < want:
            chunk = c.recv(want - len(got))
            if not chunk:
                break
            got += chunk
        return {"hex": got.hex()}
    if op == "shutdown":
        conns[cmd["id"]].shutdown(socket.SHUT_WR)
        return {}
    if op == "close":
        conns.pop(cmd["id"]).close()
        return {}
    if op == "abort":
        # SO_LINGER {on, 0}: close() sends an RST from snd_nxt instead of a FIN.
        c = conns.pop(cmd["id"])
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
        return {}
    if op == "unlisten":
        listeners.pop(cmd["port"]).close()
        return {}
    raise ValueError("unknown op " + op)


answer({"ok": True, "ready": True})
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    try:
        cmd = json.loads(line)
        result = run(cmd)
        result["ok"] = True
        answer(result)
    except Exception as e:  # reported to the test, which fails the scenario with it
        answer({"ok": False, "error": "%s: %s" % (type(e).__name__, e)})
