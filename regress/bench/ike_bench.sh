#!/bin/sh
# IKEv2 handshakes per second and memory per IKE SA, iked against iked,
# and strongSwan's charon against charon in the same run (issue 6).
#
# N independent host pairs (IKE_BENCH_N, 200): namespace A holds
# 198.51.100.i, namespace B 203.0.113.i (i = 1..N, documentation
# addresses, /32 on the veth between them, link 192.0.2.1/.2).  Each
# pair i negotiates its own IKE SA (PSK, Curve25519, AES-GCM-128,
# PRF HMAC-SHA2-256) with one child pair (ESP AES-GCM-128):
#   - iked: netipsecd in each namespace, N transport policy pairs from
#     setkey on each side, N active rules on A (one per peer: an active
#     rule needs a peer address), one passive "peer any" rule on B.  One
#     process sends one UDP datagram from each 198.51.100.i to
#     203.0.113.i at once: N ACQUIREs.  The clock runs from the first
#     send to the N-th "child SA done" of A's iked (its log lines are
#     stamped as they are written).  Then B must have received the N
#     datagrams through their ESP SAs (the kernel holds the packet that
#     triggered the ACQUIRE), and N more sent afterwards; both counts
#     are printed.
#   - strongSwan (swan_ike_bench in this file, when installed): charon
#     with kernel-libipsec in each namespace, N connections loaded on A
#     (tunnel mode with /32 selectors: libipsec has no transport mode),
#     one responder connection on B.  One vici client initiates all N
#     without waiting (timeout -1) and counts child-updown events; the
#     clock runs from the first initiate to the N-th child up.
# Handshakes/s = N / time.  Memory per SA = (VmRSS of the daemon with
# all N SAs established - VmRSS with its configuration loaded) / N, for
# both ends.  charon's figure includes its userland SAD (libipsec); ours
# does not (netipsecd holds it, as a kernel would).  iked's heap in use
# (glibc's mallinfo2, from its USR1 stats) is printed beside it: what
# the SAs hold, without the allocator's slack.
#
# Both stacks run with their defaults, DoS protections included: iked
# asks for COOKIEs from 32 half-open SAs on, charon from 30
# (cookie_threshold); the N peers have N addresses, so no per-address
# limit applies (iked 32, charon block_threshold 5).
#
# Goals: iked's rate >= 2 x strongSwan's; <= 4 KiB per SA (the larger
# of the two ikeds).  A first pair (.254) is negotiated before the
# clock and the memory baseline: one-time allocations (OpenSSL's, the
# first exchange's buffers) are not the SAs'.  Needs root and python3;
# IKE_BENCH_N=n (1..253), IKE_BENCH_KEEP=1 (keep the work directory and
# charon's logs), IKED=path (another iked build).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
netipsecd=$top/sbin/netipsecd/netipsecd
setkey=$top/sbin/setkey/setkey
iked=${IKED:-$top/sbin/iked/iked}
N=${IKE_BENCH_N:-200}
W=254		# the warm-up pair
CHARON=/usr/lib/ipsec/charon
PLUGINS=/usr/lib/ipsec/plugins
PSK=ike-bench-only-psk-0123456789abcdef
PY=/usr/bin/python3
if [ "$(id -u)" -ne 0 ] || [ ! -x "$PY" ] || [ ! -x "$netipsecd" ] ||
    [ ! -x "$setkey" ] || [ ! -x "$iked" ]; then
	echo "IKE bench: skipped (needs root, python3, netipsecd, setkey, iked)"
	exit 0
fi
if [ "$N" -lt 1 ] || [ "$N" -ge $W ]; then
	echo "IKE bench: IKE_BENCH_N must be 1..$((W - 1))" >&2
	exit 1
fi
A=ikebA$$ B=ikebB$$
dir=$(mktemp -d "${TMPDIR:-/tmp}/ike-bench.XXXXXX")

# Stop what this script started: by pid, if the pid still runs the
# program recorded with it.
stop_recorded()
{
	for f in "$dir"/*.pid; do
		[ -f "$f" ] || continue
		read -r p c <"$f"
		[ "$(cat /proc/"$p"/comm 2>/dev/null)" = "$c" ] &&
		    kill "$p" 2>/dev/null || true
		rm -f "$f"
	done
}
netns_down()
{
	stop_recorded
	sleep 0.3
	ip netns del "$A" 2>/dev/null || true
	ip netns del "$B" 2>/dev/null || true
}
cleanup()
{
	netns_down
	if [ "${IKE_BENCH_KEEP:-0}" = 1 ]; then
		echo "IKE bench: kept $dir" >&2
	else
		rm -rf "$dir"
	fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# record NAME PID COMM
record() { echo "$2 $3" >"$dir/$1.pid"; }
rss() { awk '/^VmRSS:/ { print $2 }' /proc/"$1"/status; }

# The two namespaces, the link and the N address pairs.
netns_up()
{
	ip netns add "$A"
	ip netns add "$B"
	ip link add ikvA netns "$A" type veth peer name ikvB netns "$B"
	ip -n "$A" addr add 192.0.2.1/24 dev ikvA
	ip -n "$B" addr add 192.0.2.2/24 dev ikvB
	for i in $(seq 1 "$N") $W; do
		echo "address add 198.51.100.$i/32 dev ikvA"
	done >"$dir/A.ip"
	sed 's/198\.51\.100\./203.0.113./; s/ikvA/ikvB/' "$dir/A.ip" >"$dir/B.ip"
	echo "route add 203.0.113.0/24 dev ikvA" >>"$dir/A.ip"
	echo "route add 198.51.100.0/24 dev ikvB" >>"$dir/B.ip"
	for n in A B; do
		eval ns=\$$n
		ip -n "$ns" link set lo up
		ip -n "$ns" link set ikv$n up
		ip -n "$ns" -batch "$dir/$n.ip"
	done
	ip netns exec "$A" ping -c 1 -W 2 192.0.2.2 >/dev/null
}

# --- iked <-> iked ---------------------------------------------------

# heap A|B: the bytes malloc has handed out and not had back, from the
# last USR1 stats (glibc's mallinfo2; 0 elsewhere).
heap()
{
	sed -n 's/.*heap: \([0-9]*\) bytes in use.*/\1/p' "$dir/$1.iked.log" |
	    tail -n 1 | grep . || echo 0
}

# children: how many child SAs A's iked has completed.
children() { grep -c 'child SA done' "$dir/A.iked.log" || true; }

# burst FIRST LAST WANT: a datagram from each 198.51.100.i to
# 203.0.113.i, i = FIRST..LAST, all at once, then wait (60 s at most)
# until A's iked has completed WANT children and B has received the
# datagrams (or none came for 3 s: lost ones are counted, not waited
# for).  Prints when the first was sent, when the last child was done
# (from A's log, stamped as it was written) and how many datagrams B
# got.
burst()
{
	ip netns exec "$B" "$PY" "$dir/recv.py" $(($2 - $1 + 1)) 60 3 \
	    >"$dir/recv.out" &
	record recv $! python3
	i=0
	until grep -q ready "$dir/recv.out" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 100 ] || return 1; sleep 0.05
	done
	_t0=$(ip netns exec "$A" "$PY" "$dir/send.py" "$1" "$2")
	i=0
	until [ "$(children)" -ge "$3" ]; do
		i=$((i + 1))
		[ $i -lt 1200 ] || { echo "iked: $(children) of $3 child SAs" \
		    "in 60 s" >&2; return 1; }
		sleep 0.05
	done
	while kill -0 "$(cut -d' ' -f1 "$dir/recv.pid")" 2>/dev/null; do
		sleep 0.05
	done
	rm -f "$dir/recv.pid"
	echo "$_t0 $(grep 'child SA done' "$dir/A.iked.log" | tail -n 1 |
	    cut -d' ' -f1) $(sed -n 2p "$dir/recv.out")"
}

# Prints "seconds rssA0 rssA1 rssB0 rssB1 retransmits-A cookies-B
# refused-B" or fails.
iked_bench()
{
	netns_up
	for n in A B; do
		eval ns=\$$n
		ip netns exec "$ns" "$netipsecd" -d -s "$dir/$n.sock" -i ikv$n \
		    >"$dir/$n.netipsecd.log" 2>&1 &
		record $n.netipsecd $! netipsecd
	done
	for n in A B; do
		eval ns=\$$n
		i=0
		until ip netns exec "$ns" "$netipsecd" -S -s "$dir/$n.sock" \
		    >/dev/null 2>&1; do
			i=$((i + 1))
			[ $i -lt 200 ] || { cat "$dir/$n.netipsecd.log" >&2;
			    return 1; }
			sleep 0.05
		done
	done
	: >"$dir/A.spd"
	: >"$dir/B.spd"
	# With a psk, iked reads only files nobody else may read.
	umask 077
	: >"$dir/A.conf"
	for i in $(seq 1 "$N") $W; do
		a=198.51.100.$i b=203.0.113.$i
		cat >>"$dir/A.spd" <<X
spdadd $a $b any -P out ipsec esp/transport//require;
spdadd $b $a any -P in ipsec esp/transport//require;
X
		cat >>"$dir/B.spd" <<X
spdadd $b $a any -P out ipsec esp/transport//require;
spdadd $a $b any -P in ipsec esp/transport//require;
X
		cat >>"$dir/A.conf" <<X
ikev2 "p$i" active esp transport from $a to $b local $a peer $b \\
	ikesa enc aes-128-gcm prf hmac-sha2-256 group curve25519 \\
	childsa enc aes-128-gcm psk "$PSK"
X
	done
	cat >"$dir/B.conf" <<X
ikev2 "any" passive esp transport from any to any peer any \\
	ikesa enc aes-128-gcm prf hmac-sha2-256 group curve25519 \\
	childsa enc aes-128-gcm psk "$PSK"
X
	for n in A B; do
		eval ns=\$$n
		PFKEY_SOCKET="$dir/$n.sock" ip netns exec "$ns" "$setkey" \
		    -f "$dir/$n.spd"
		# Each line stamped as it comes (for the end of the clock).
		mkfifo "$dir/$n.fifo"
		"$PY" -c 'import sys, time
for l in sys.stdin:
    sys.stdout.write("%.6f %s" % (time.monotonic(), l))
    sys.stdout.flush()' <"$dir/$n.fifo" >"$dir/$n.iked.log" &
		record $n.stamp $! python3
		# ip netns exec execs: $! is iked itself.
		# Its own control socket, when this iked has one (IKED=).
		ctl=
		"$iked" -n -s "$dir/$n.iked.ctl" -f "$dir/$n.conf" \
		    >/dev/null 2>&1 && ctl="-s $dir/$n.iked.ctl"
		PFKEY_SOCKET="$dir/$n.sock" ip netns exec "$ns" "$iked" -d \
		    $ctl -f "$dir/$n.conf" >"$dir/$n.fifo" 2>&1 &
		record $n.iked $! iked
		eval pid$n=$!
	done
	for n in A B; do
		i=0
		until grep -q 'iked started' "$dir/$n.iked.log"; do
			i=$((i + 1))
			[ $i -lt 100 ] || { cat "$dir/$n.iked.log" >&2; return 1; }
			sleep 0.05
		done
	done

	cat >"$dir/recv.py" <<'X'
import socket, sys, time
n, limit, idle = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.bind(("0.0.0.0", 9))
print("ready", flush=True)
seen, end = set(), time.monotonic() + limit
while len(seen) < n:
    left = end - time.monotonic()
    if seen:
        left = min(left, idle)
    s.settimeout(max(left, 0.001))
    try:
        _, src = s.recvfrom(64)
    except socket.timeout:
        break
    seen.add(src[0])
print(len(seen), flush=True)
X
	cat >"$dir/send.py" <<'X'
import socket, sys, time
first, last = int(sys.argv[1]), int(sys.argv[2])
socks = []
for i in range(first, last + 1):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.51.100.%d" % i, 0))
    socks.append((i, s))
t0 = time.monotonic()
for i, s in socks:
    s.sendto(b"ike-bench", ("203.0.113.%d" % i, 9))
print("%.6f" % t0)
X
	# The warm-up pair: the first negotiation's one-time allocations
	# (OpenSSL's tables, libevent's) are not the SAs'.
	burst $W $W 1 >/dev/null || return 1
	# The baseline: the heap first (USR1's own first-time allocations
	# are not the SAs'), then VmRSS.
	kill -USR1 "$pidA" "$pidB"
	sleep 0.5
	ha0=$(heap A) hb0=$(heap B)
	a0=$(rss "$pidA") b0=$(rss "$pidB")
	_b=$(burst 1 "$N" $((N + 1))) || return 1
	set -- $_b
	t0=$1 t1=$2 first=$3
	# Every pair carries traffic now.
	_b=$(burst 1 "$N" $((N + 1))) || return 1
	set -- $_b
	again=$3
	sleep 0.5
	a1=$(rss "$pidA") b1=$(rss "$pidB")
	sas=$(PFKEY_SOCKET="$dir/A.sock" ip netns exec "$A" "$setkey" -D |
	    grep -c 'state=mature' || true)
	[ "$sas" -eq $((2 * N + 2)) ] ||
	    echo "iked: A holds $sas mature SAs, not $((2 * N + 2))" >&2
	kill -USR1 "$pidA" "$pidB"
	sleep 0.3
	st()
	{
		sed -n "s/.*stats:.* $2 \([0-9]*\).*/\1/p" "$dir/$1.iked.log" |
		    tail -n 1
	}
	cookies=$(grep -c 'IKE_SA_INIT <- N(COOKIE)' "$dir/A.iked.log" || true)
	echo "$t0 $t1 $a0 $a1 $b0 $b1 $(st A retransmits) $cookies" \
	    "$(st B halfopen-refused) $first $again" \
	    "$ha0 $(heap A) $hb0 $(heap B)"
	netns_down
}

# --- charon <-> charon -----------------------------------------------

# Prints "seconds rssA0 rssA1 rssB0 rssB1" or fails, with the reason on
# standard error.
swan_ike_bench()
{
	if [ ! -x "$CHARON" ] || ! command -v swanctl >/dev/null; then
		echo "not installed (charon, swanctl: make deps)" >&2
		return 2
	fi
	for p in kernel-libipsec openssl gcm curve25519 vici; do
		[ -e $PLUGINS/libstrongswan-$p.so ] ||
		    { echo "its $p plugin is not installed" >&2; return 2; }
	done
	loglevel=0
	[ "${IKE_BENCH_KEEP:-0}" = 0 ] || loglevel=1
	netns_up
	for n in A B; do
		eval ns=\$$n
		d=$dir/swan$n
		mkdir -p "$d/run" "$d/swanctl"
		for s in private x509 x509ca x509ocsp x509aa x509ac x509crl \
		    pubkey rsa ecdsa bliss pkcs8 pkcs12; do
			mkdir -p "$d/swanctl/$s"
		done
		cat >"$d/strongswan.conf" <<X
charon {
	load_modular = no
	load = random nonce openssl pem pkcs1 pkcs8 x509 pubkey curve25519 aes gcm sha1 sha2 hmac kdf kernel-libipsec kernel-netlink socket-default vici
	install_routes = yes
	filelog {
		bench {
			path = $d/charon.log
			default = $loglevel
		}
	}
	plugins {
		# Host-to-host selectors: routes via ipsec0 (table 220)
		# for everything but charon's own marked IKE packets.
		kernel-libipsec {
			allow_peer_ts = yes
		}
		kernel-netlink {
			fwmark = !0x5353
		}
		socket-default {
			fwmark = 0x5353
		}
		vici {
			socket = unix://$d/charon.vici
		}
	}
}
swanctl {
	socket = unix://$d/charon.vici
}
X
		{
			echo "connections {"
			if [ $n = A ]; then
				for i in $(seq 1 "$N") $W; do
					a=198.51.100.$i b=203.0.113.$i
					cat <<X
	c$i {
		local_addrs = $a
		remote_addrs = $b
		proposals = aes128gcm16-prfsha256-x25519
		local { auth = psk
			id = $a }
		remote { auth = psk
			id = $b }
		children { c$i {
			local_ts = $a/32
			remote_ts = $b/32
			esp_proposals = aes128gcm16 } }
	}
X
				done
			else
				cat <<X
	any {
		local_addrs = 203.0.113.0/24
		proposals = aes128gcm16-prfsha256-x25519
		local { auth = psk }
		remote { auth = psk }
		children { any {
			esp_proposals = aes128gcm16 } }
	}
X
			fi
			echo "}"
			echo "secrets { ike-bench { secret = \"$PSK\" } }"
		} >"$d/swanctl/swanctl.conf"
		# ip netns exec and sh both exec(): $! is charon itself.
		# charon's pid file is fixed: a private /run for each.
		ip netns exec "$ns" env STRONGSWAN_CONF="$d/strongswan.conf" \
		    sh -c 'mount --bind "$1" /run && exec "$2"' sh "$d/run" \
		    "$CHARON" >"$d/charon.out" 2>&1 </dev/null &
		record swan$n $! charon
		eval pid$n=$!
	done
	for n in A B; do
		d=$dir/swan$n
		i=0
		until [ -S "$d/charon.vici" ] && SWANCTL_DIR="$d/swanctl" \
		    STRONGSWAN_CONF="$d/strongswan.conf" swanctl --stats \
		    --uri "unix://$d/charon.vici" >/dev/null 2>&1; do
			i=$((i + 1))
			[ $i -lt 100 ] || { echo "charon did not start" >&2;
			    return 1; }
			sleep 0.1
		done
		SWANCTL_DIR="$d/swanctl" STRONGSWAN_CONF="$d/strongswan.conf" \
		    swanctl --load-all --noprompt --uri "unix://$d/charon.vici" \
		    >"$d/load.out" 2>&1 ||
		    { echo "swanctl --load-all: $(tail -n 1 "$d/load.out")" >&2;
		    return 1; }
	done
	SWANCTL_DIR="$dir/swanA/swanctl" \
	    STRONGSWAN_CONF="$dir/swanA/strongswan.conf" \
	    ip netns exec "$A" swanctl --initiate --child c$W --timeout 10 \
	    --uri "unix://$dir/swanA/charon.vici" >"$dir/swanA/warmup.out" 2>&1 ||
	    { echo "the warm-up pair failed:" \
	    "$(tail -n 1 "$dir/swanA/warmup.out")" >&2; return 1; }
	sleep 0.5
	a0=$(rss "$pidA") b0=$(rss "$pidB")
	# A minimal vici client (the protocol: strongSwan's
	# src/libcharon/plugins/vici/README.md).
	cat >"$dir/vici.py" <<'X'
import select, socket, struct, sys, time
path, n, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s
def send(s, ptype, name, kv=()):
    b = bytes([ptype, len(name)]) + name.encode()
    for k, v in kv:
        b += bytes([3, len(k)]) + k.encode() + struct.pack("!H", len(v)) + v.encode()
    s.sendall(struct.pack("!I", len(b)) + b)
class Reader:
    def __init__(self, s):
        self.s, self.buf = s, b""
    def packets(self):
        d = self.s.recv(65536)
        if not d:
            raise SystemExit("charon closed the vici socket")
        self.buf += d
        while len(self.buf) >= 4:
            l, = struct.unpack("!I", self.buf[:4])
            if len(self.buf) < 4 + l:
                break
            yield self.buf[4:4 + l]
            self.buf = self.buf[4 + l:]
ev, cmd = conn(), conn()
send(ev, 3, "child-updown")		# EVENT_REGISTER
er = Reader(ev)
while not any(p[0] == 5 for p in er.packets()):	# EVENT_CONFIRM
    pass
t0 = time.monotonic()
for i in range(1, n + 1):
    send(cmd, 0, "initiate", (("child", "c%d" % i), ("timeout", "-1")))
cr = Reader(cmd)
up, replies, fail, end = 0, 0, 0, t0 + limit
while up < n and time.monotonic() < end:
    r, _, _ = select.select([ev, cmd], [], [], end - time.monotonic())
    if ev in r:
        for p in er.packets():
            if p[0] == 7 and b"\x03\x02up\x00\x03yes" in p:
                up += 1
                last = time.monotonic()
    if cmd in r:
        for p in cr.packets():
            replies += 1
            if b"\x03\x07success\x00\x03yes" not in p:
                fail += 1
print(up, "%.6f" % (last - t0) if up else "-", fail)
X
	set -- $(ip netns exec "$A" "$PY" "$dir/vici.py" \
	    "$dir/swanA/charon.vici" "$N" 60)
	if [ "$1" -ne "$N" ]; then
		echo "only $1 of $N CHILD_SAs up in 60 s (see the charon logs)" >&2
		return 1
	fi
	secs=$2
	sleep 0.5
	a1=$(rss "$pidA") b1=$(rss "$pidB")
	echo "$secs $a0 $a1 $b0 $b1"
	netns_down
}

out=$(iked_bench)
set -- $out
ours=$(awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }')
ia0=$3 ia1=$4 ib0=$5 ib1=$6 retx=$7 cookies=$8 refused=$9
shift 9
first=$1 again=$2 ha0=$3 ha1=$4 hb0=$5 hb1=$6
why=$dir/swan.why
if swan=$(swan_ike_bench 2>"$why"); then
	set -- $swan
	theirs=$1 sa0=$2 sa1=$3 sb0=$4 sb1=$5
else
	theirs= sa0=0 sa1=0 sb0=0 sb1=0
	netns_down
fi

echo "IKEv2 handshakes (PSK, Curve25519, AES-GCM-128, one child each)," \
    "$N pairs at once (one run)"
awk -v n="$N" -v o="$ours" -v s="$theirs" -v ia0="$ia0" -v ia1="$ia1" \
    -v ib0="$ib0" -v ib1="$ib1" -v sa0="$sa0" -v sa1="$sa1" \
    -v sb0="$sb0" -v sb1="$sb1" -v ha0="$ha0" -v ha1="$ha1" \
    -v hb0="$hb0" -v hb1="$hb1" 'BEGIN {
	printf "  %-44s %7.3f s %8.1f /s\n", "iked <-> iked (transport)", o, n / o
	if (s != "")
		printf "  %-44s %7.3f s %8.1f /s\n",
		    "strongSwan charon <-> charon (libipsec, tunnel)", s, n / s
	else
		printf "  %-44s %7s   %8s\n", "strongSwan charon <-> charon", "-", "-"
	printf "memory per IKE SA with one child pair (VmRSS growth / %d)\n", n
	ma = (ia1 - ia0) * 1024 / n; mb = (ib1 - ib0) * 1024 / n
	printf "  %-44s %7.0f B initiator %7.0f B responder\n", "iked", ma, mb
	if (ha1 > 0)
		printf "  %-44s %7.0f B initiator %7.0f B responder\n",
		    "iked, heap in use (mallinfo2)", (ha1 - ha0) / n,
		    (hb1 - hb0) / n
	if (s != "")
		printf "  %-44s %7.0f B initiator %7.0f B responder\n",
		    "strongSwan charon (includes its SAD)",
		    (sa1 - sa0) * 1024 / n, (sb1 - sb0) * 1024 / n
	if (s != "" && s > 0)
		printf "ratio iked/strongSwan handshakes/s: %.2f\n", s / o
	if (s == "" || s <= 0)
		printf "goal handshakes/s >= 2 x strongSwan: not measured (no strongSwan)\n"
	else
		printf "goal handshakes/s >= 2 x strongSwan: %s (%.2f)\n",
		    (s / o >= 2 ? "met" : "NOT met"), s / o
	m = ma > mb ? ma : mb
	printf "goal memory per SA <= 4096 B: %s (%.0f B)\n",
	    (m <= 4096 ? "met" : "NOT met"), m
}'
echo "  iked: A retransmitted $retx, A got $cookies COOKIE requests," \
    "B refused $refused half-open; B got $first of the $N first packets" \
    "(held through the ACQUIRE), $again of $N sent afterwards"
[ -n "$theirs" ] || sed 's/^/  strongSwan: /' "$why"
