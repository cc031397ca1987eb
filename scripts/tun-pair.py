#!/usr/bin/env python3
"""Creates two TUN devices and copies every packet written to one into the other, so
two network namespaces can talk through a TUN point-to-point link (the way a mesh-VPN
agent sees traffic: raw IP, no link layer). Used by make-fixtures.sh to capture real
raw-IP traffic on a TUN device.

Usage: tun-pair.py NAME_A NAME_B   (prints "ready" once both exist; runs until killed)
"""
import fcntl
import os
import select
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def open_tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def main() -> None:
    a, b = open_tun(sys.argv[1]), open_tun(sys.argv[2])
    print("ready", flush=True)
    peer = {a: b, b: a}
    while True:
        readable, _, _ = select.select([a, b], [], [])
        for fd in readable:
            packet = os.read(fd, 65536)
            try:
                os.write(peer[fd], packet)
            except OSError:
                pass  # the other side is not up yet: drop, as a link would


if __name__ == "__main__":
    main()
