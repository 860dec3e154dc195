#!/usr/bin/env python3
"""Join two Linux tun devices (IFF_TUN|IFF_NO_PI) by copying IP packets between them.

Run inside one namespace; it creates both devices there and prints "ready" once
they exist.  The caller then moves the second one into the peer namespace
(`ip link set NAME2 netns NS`) and configures addresses.  A tun device has
ARPHRD_NONE, so libpcap captures on it with link type RAW (LINKTYPE_RAW 101):
IPv4 and IPv6 packets with no link-layer header.

usage: tunrelay.py NAME1 NAME2 SECONDS
"""
import fcntl, os, select, struct, sys, time

TUNSETIFF = 0x400454ca
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000


def open_tun(name):
    fd = os.open('/dev/net/tun', os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH', name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def main():
    n1, n2, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
    a, b = open_tun(n1), open_tun(n2)
    print('ready', flush=True)
    peer = {a: b, b: a}
    end = time.time() + secs
    while True:
        left = end - time.time()
        if left <= 0:
            break
        r, _, _ = select.select([a, b], [], [], min(left, 0.5))
        for fd in r:
            try:
                pkt = os.read(fd, 65536)
                os.write(peer[fd], pkt)
            except OSError:
                pass


if __name__ == '__main__':
    main()
