#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
#
# Traffic for t_nfq, without ping(8) or nc(1):
#
#   nettool.py ping ADDR [-c count] [-t tos] [-w seconds]
#	ICMP or ICMPv6 echo over a raw socket; exit 0 if every request was
#	answered, 1 otherwise.  -t sets the TOS / traffic class.
#   nettool.py tcpserve ADDR PORT
#	accept one connection, read to EOF, print the byte count and
#	SHA-256; prints "ready" on stderr once listening.
#   nettool.py tcpsend ADDR PORT BYTES
#	send BYTES pseudo-random bytes, print their count, SHA-256 and rate.
#   nettool.py udp ADDR DPORT [-s sport]
#	send one UDP datagram.
#   nettool.py sink PORT...
#	bind UDP (IPv4) on these ports and read until killed, so that
#	datagrams to them draw no ICMP port unreachable; prints "ready".

import argparse
import hashlib
import os
import select
import socket
import struct
import sys
import time


def cksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ping(a):
    v6 = ":" in a.addr
    if v6:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW,
                          socket.IPPROTO_ICMPV6)
        if a.tos:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS, a.tos)
        req, rep = 128, 129
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW,
                          socket.IPPROTO_ICMP)
        if a.tos:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, a.tos)
        req, rep = 8, 0
    ident = os.getpid() & 0xFFFF
    ok = 0
    for seq in range(1, a.count + 1):
        payload = b"netipsecd-t_nfq" + bytes(40)
        hdr = struct.pack("!BBHHH", req, 0, 0, ident, seq)
        if not v6:    # the kernel computes ICMPv6 checksums
            hdr = struct.pack("!BBHHH", req, 0, cksum(hdr + payload),
                              ident, seq)
        s.sendto(hdr + payload, (a.addr, 0))
        end = time.monotonic() + a.wait
        got = False
        while not got:
            left = end - time.monotonic()
            if left <= 0 or not select.select([s], [], [], left)[0]:
                break
            data = s.recv(65535)
            if not v6:
                data = data[(data[0] & 0x0F) * 4:]
            if len(data) >= 8:
                t, _, _, i, q = struct.unpack("!BBHHH", data[:8])
                got = t == rep and i == ident and q == seq
        ok += got
        print("seq %d: %s" % (seq, "reply" if got else "timeout"))
    print("%d/%d answered" % (ok, a.count))
    return 0 if ok == a.count else 1


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def tcpserve(a):
    s = socket.socket(family(a.addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a.addr, a.port))
    s.listen(1)
    sys.stderr.write("ready\n")
    sys.stderr.flush()
    c, _ = s.accept()
    h = hashlib.sha256()
    n = 0
    while True:
        d = c.recv(1 << 16)
        if not d:
            break
        h.update(d)
        n += len(d)
    print("%d %s" % (n, h.hexdigest()))
    return 0


def tcpsend(a):
    s = socket.create_connection((a.addr, a.port), timeout=30)
    h = hashlib.sha256()
    block = os.urandom(1 << 16)
    n = 0
    t0 = time.monotonic()
    while n < a.bytes:
        d = block[:min(len(block), a.bytes - n)]
        s.sendall(d)
        h.update(d)
        n += len(d)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    dt = time.monotonic() - t0
    print("%d %s" % (n, h.hexdigest()))
    sys.stderr.write("%.1f Mbit/s\n" % (n * 8 / dt / 1e6))
    return 0


def udp(a):
    s = socket.socket(family(a.addr), socket.SOCK_DGRAM)
    if a.sport:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::" if ":" in a.addr else "0.0.0.0", a.sport))
    s.sendto(b"netipsecd-t_nfq", (a.addr, a.port))
    return 0


def sink(a):
    socks = []
    for port in a.ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        socks.append(s)
    print("ready", flush=True)
    while True:
        for s in select.select(socks, [], [])[0]:
            s.recv(65535)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("ping")
    q.add_argument("addr")
    q.add_argument("-c", dest="count", type=int, default=3)
    q.add_argument("-t", dest="tos", type=lambda x: int(x, 0), default=0)
    q.add_argument("-w", dest="wait", type=float, default=1.0)
    q = sub.add_parser("tcpserve")
    q.add_argument("addr")
    q.add_argument("port", type=int)
    q = sub.add_parser("tcpsend")
    q.add_argument("addr")
    q.add_argument("port", type=int)
    q.add_argument("bytes", type=int)
    q = sub.add_parser("udp")
    q.add_argument("addr")
    q.add_argument("port", type=int)
    q.add_argument("-s", dest="sport", type=int, default=0)
    q = sub.add_parser("sink")
    q.add_argument("ports", type=int, nargs="+")
    a = p.parse_args()
    return {"ping": ping, "tcpserve": tcpserve, "tcpsend": tcpsend,
            "udp": udp, "sink": sink}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
