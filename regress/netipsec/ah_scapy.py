# AH (RFC 4302) against scapy's implementation, both ways, through the
# packet path (h_hook).  Run by t_ah_scapy with Debian's scapy:
#   /usr/bin/python3 ah_scapy.py h_hook MODE AF AALG KEYHEX SCAPYALG
# scapy protects packets that h_hook must take in (after a router has
# changed their mutable fields), refuse when tampered with; h_hook
# protects packets that scapy must verify and open.  Exit 0 when all
# holds, else 1 with the reason.
import os
import subprocess
import sys

from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import (IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop,
                                HBHOptUnknown, RouterAlert)
from scapy.layers.ipsec import AH, SecurityAssociation
from scapy.packet import Raw
from scapy.utils import wrpcap

helper, mode, af, aalg, keyhex, salg = sys.argv[1:7]
key = bytes.fromhex(keyhex)
v6 = af == "6"
tunnel = mode == "tunnel"
# AH_EXT=1 (IPv6 transport): a hop-by-hop header with a router alert and
# a destination options header with an option that may change en route
# (type 0x3e: its 0x20 bit) before the UDP.
ext = os.environ.get("AH_EXT") == "1" and v6 and not tunnel
L3 = IPv6 if v6 else IP
src, dst = ("2001:db8::1", "2001:db8::2") if v6 else ("192.0.2.1",
                                                       "192.0.2.2")
isrc, idst = (("2001:db8:1::1", "2001:db8:2::1") if v6 else
              ("10.1.0.1", "10.2.0.1"))

hook = subprocess.Popen([helper, "ah", mode, af, aalg, keyhex],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                        text=True)


def ask(direction, pkt):
    hook.stdin.write("%s %s\n" % (direction, bytes(pkt).hex()))
    hook.stdin.flush()
    words = hook.stdout.readline().split()
    if not words:
        fail("h_hook said nothing")
    return words[0], bytes.fromhex(words[1]) if len(words) > 1 else None


def fail(why):
    print("FAIL:", why)
    sys.exit(1)


def plain(i):
    a, b = (isrc, idst) if tunnel else (src, dst)
    ip = L3(src=a, dst=b)
    if ext:
        ip = (ip / IPv6ExtHdrHopByHop(options=[RouterAlert()]) /
              IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x3e,
                                                       optdata=b"abcd")]))
    return (ip / UDP(sport=12345, dport=12346) /
            Raw(b"netipsec-ah-test-%d" % i))


def mutate_ext(p):
    # The mutable option's data changes on the way; nothing else.
    if ext:
        p[IPv6ExtHdrDestOpt].options[0].optdata = b"wxyz"
    return p


def payload(raw):
    p = L3(raw)
    if UDP not in p or Raw not in p:
        fail("no UDP payload in %s" % raw.hex())
    return p[Raw].load


sa = SecurityAssociation(AH, spi=0x1001, auth_algo=salg, auth_key=key,
                         tunnel_header=L3(src=src, dst=dst) if tunnel
                         else None)

# scapy -> netipsec: mutable fields changed on the way must not matter.
for i in range(5):
    e = sa.encrypt(plain(i))
    e = L3(bytes(e))
    if v6:
        e.hlim = 7
        e.tc = 0x28
        e.fl = 0x12345
        e = mutate_ext(e)
    else:
        e.ttl = 7
        e.tos = 0x28
        del e.chksum
    verdict, got = ask("in", e)
    if verdict != "replace":
        fail("scapy's AH packet %d: %s" % (i, verdict))
    if payload(got) != b"netipsec-ah-test-%d" % i:
        fail("scapy's AH packet %d: payload %r" % (i, payload(got)))
# ... but an immutable byte changed must.
e = L3(bytes(sa.encrypt(plain(9))))
raw = bytearray(bytes(e))
raw[-1] ^= 0x01
if ask("in", raw)[0] != "drop":
    fail("scapy's AH packet with a flipped payload bit went in")
if ext:
    # The router alert's value is immutable: changed, refused.
    e = L3(bytes(sa.encrypt(plain(8))))
    e[IPv6ExtHdrHopByHop].options[0].value = 1
    if ask("in", e)[0] != "drop":
        fail("scapy's AH packet with a changed router alert went in")

# netipsec -> scapy: scapy verifies the ICV and finds the payload.
# What went out is kept in ah.pcap for tshark (t_ah_scapy).
sent = []
for i in range(5):
    verdict, got = ask("out", plain(i))
    sent.append(got)
    if verdict != "replace" or got is None:
        fail("packet %d not protected: %s" % (i, verdict))
    p = L3(got)
    if AH not in p:
        fail("packet %d has no AH: %s" % (i, got.hex()))
    if p[AH].spi != 0x1001 or p[AH].seq != i + 1:
        fail("packet %d: SPI %#x seq %d" % (i, p[AH].spi, p[AH].seq))
    if ext and (IPv6ExtHdrHopByHop not in p or
                not isinstance(p[IPv6ExtHdrDestOpt].payload, AH)):
        fail("packet %d: AH not after the extension headers" % i)
    if v6:
        p.hlim = 3
        p = mutate_ext(p)
    else:
        p.ttl = 3
        del p.chksum
    p = L3(bytes(p))
    try:
        d = L3(bytes(sa.decrypt(p)))
    except Exception as ex:  # scapy's IPSecIntegrityError, and others
        fail("scapy refused packet %d: %s" % (i, ex))
    if (UDP not in d or d[UDP].dport != 12346 or
            not bytes(d).endswith(b"netipsec-ah-test-%d" % i)):
        fail("scapy opened packet %d to %r" % (i, bytes(d)))
# scapy's check is real: a flipped bit fails it.
verdict, got = ask("out", plain(7))
bad = bytearray(got)
bad[-1] ^= 0x01
try:
    sa.decrypt(L3(bytes(bad)))
    fail("scapy took a tampered packet: its check proves nothing")
except Exception:
    pass
hook.stdin.close()
hook.wait()
wrpcap("ah.pcap", [L3(b) for b in sent])
print("ok")
