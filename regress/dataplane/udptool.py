#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
#
# UDP for t_policy, with sockets' own IPsec policies set as an unmodified
# BSD program sets them: setsockopt(IP_IPSEC_POLICY / IPV6_IPSEC_POLICY)
# with a struct sadb_x_policy, which libpfkey_preload.so (LD_PRELOAD)
# turns into a policy in netipsecd.
#
#   udptool.py send SRC SPORT DST DPORT [-b when] [-n count]
#	send count datagrams "udptool SPORT i" from SRC:SPORT; -b before or
#	after: "in bypass" and "out bypass" set before or after bind(2).
#   udptool.py recv ADDR PORT SECONDS [-b when]
#	print each datagram received for SECONDS; "ready" on stderr first.
#   udptool.py getpol ADDR PORT
#	bind, set "in bypass", print the types getsockopt(2) reads back
#	for both directions (4 bypass, 3 entrust).
#   udptool.py bind PORT...
#	try to bind UDP 0.0.0.0, 127.0.0.1 and :: on each port; print
#	"PORT ADDR ok" or "PORT ADDR ERRNONAME" per try.

import argparse
import errno
import socket
import struct
import sys
import time

IP_IPSEC_POLICY = 16		# Linux's numbers; the shim takes them
IPV6_IPSEC_POLICY = 34
SADB_X_EXT_POLICY = 18
IPSEC_POLICY_BYPASS = 4
IPSEC_DIR_INBOUND, IPSEC_DIR_OUTBOUND = 1, 2


def policy(ptype, pdir):
    # struct sadb_x_policy: len (8-byte units), exttype, type, dir,
    # scope, id, priority.
    return struct.pack("=HHHBBII", 2, SADB_X_EXT_POLICY, ptype, pdir, 0, 0,
                       0)


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def opt(s):
    if s.family == socket.AF_INET6:
        return socket.IPPROTO_IPV6, IPV6_IPSEC_POLICY
    return socket.IPPROTO_IP, IP_IPSEC_POLICY


def bypass(s):
    level, name = opt(s)
    for d in (IPSEC_DIR_INBOUND, IPSEC_DIR_OUTBOUND):
        s.setsockopt(level, name, policy(IPSEC_POLICY_BYPASS, d))


def sock(addr, port, when):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    if when == "before":
        bypass(s)
    s.bind((addr, port))
    if when == "after":
        bypass(s)
    return s


def send(a):
    s = sock(a.src, a.sport, a.bypass)
    for i in range(a.count):
        s.sendto(b"udptool %d %d" % (a.sport, i), (a.dst, a.dport))
        time.sleep(0.02)
    s.close()
    return 0


def recv(a):
    s = sock(a.addr, a.port, a.bypass)
    s.settimeout(0.1)
    print("ready", file=sys.stderr, flush=True)
    end = time.time() + a.seconds
    while time.time() < end:
        try:
            data, peer = s.recvfrom(65535)
        except socket.timeout:
            continue
        print(data.decode(errors="replace"), peer[0], peer[1], flush=True)
    return 0


def getpol(a):
    s = socket.socket(family(a.addr), socket.SOCK_DGRAM)
    s.bind((a.addr, a.port))
    level, name = opt(s)
    s.setsockopt(level, name, policy(IPSEC_POLICY_BYPASS, IPSEC_DIR_INBOUND))
    out = []
    for d in (IPSEC_DIR_INBOUND, IPSEC_DIR_OUTBOUND):
        buf = bytearray(policy(0, d) + bytes(48))
        got = s.getsockopt(level, name, len(buf))
        out.append(str(struct.unpack("=HHHBBII", got[:16])[2]))
    print(" ".join(out))
    return 0


def bindtry(a):
    for port in a.ports:
        for addr in ("0.0.0.0", "127.0.0.1", "::"):
            s = socket.socket(family(addr), socket.SOCK_DGRAM)
            try:
                s.bind((addr, port))
                print(port, addr, "ok")
            except OSError as e:
                print(port, addr, errno.errorcode.get(e.errno, e.errno))
            s.close()
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("send")
    q.add_argument("src")
    q.add_argument("sport", type=int)
    q.add_argument("dst")
    q.add_argument("dport", type=int)
    q.add_argument("-b", dest="bypass", choices=("before", "after"))
    q.add_argument("-n", dest="count", type=int, default=3)
    q = sub.add_parser("recv")
    q.add_argument("addr")
    q.add_argument("port", type=int)
    q.add_argument("seconds", type=float)
    q.add_argument("-b", dest="bypass", choices=("before", "after"))
    q = sub.add_parser("getpol")
    q.add_argument("addr")
    q.add_argument("port", type=int)
    q = sub.add_parser("bind")
    q.add_argument("ports", type=int, nargs="+")
    a = p.parse_args()
    return {"send": send, "recv": recv, "getpol": getpol,
            "bind": bindtry}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
