#!/usr/bin/python3
# The firewall namespace's capture for the conntrack differential test: every IPv4
# packet on every interface, incoming and outgoing, as one line on stdout:
#   <unix time, s> <interface> <packet type> <IP packet hex>
# Packet type 0 is PACKET_HOST (arrived at the firewall), 4 PACKET_OUTGOING (it
# forwarded it). An AF_PACKET socket sees both at the device, before and after the
# forward path, like `tcpdump -i any` (which would need tcpdump and a pcap parser).
# On EOF of stdin it prints "stats <packets> <drops>" (the socket's own counters: a
# dropped capture copy would make a forwarded packet look dropped) and exits.
# Standard library only: runs with Debian's /usr/bin/python3.

import os
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003  # ETH_P_IP would see incoming packets only: taps of outgoing ones are ETH_P_ALL
ETH_P_IP = 0x0800
SOL_PACKET = 263
PACKET_STATISTICS = 6
SO_RCVBUFFORCE = 33

s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 32 << 20)
s.setblocking(False)
out = sys.stdout
out.write("ready\n")
out.flush()

stdin = sys.stdin.fileno()
open_stdin = True
while open_stdin:
    readable, _, _ = select.select([s, stdin], [], [])
    if s in readable:
        lines = []
        while True:
            try:
                data, addr = s.recvfrom(65535)
            except BlockingIOError:
                break
            if addr[1] != ETH_P_IP:
                continue
            lines.append("%.6f %s %d %s\n" % (time.time(), addr[0], addr[2], data.hex()))
        out.write("".join(lines))
        out.flush()
    if stdin in readable:
        if not os.read(stdin, 4096):
            open_stdin = False

packets, drops = struct.unpack("II", s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
out.write("stats %d %d\n" % (packets, drops))
out.flush()
