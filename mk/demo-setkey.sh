#!/bin/sh
# make demo-setkey: the BSD IPsec layer at work on Linux, keyed by hand.
#
# What it does: creates a fresh network namespace, starts netipsecd (the
# process that hosts sys/netipsec and serves PF_KEY) in the foreground
# inside it with a filesystem PF_KEY socket, waits for the socket, then
# loads the example policies and SAs from share/examples with setkey and
# shows what the kernel layer holds.  Everything it creates (namespace,
# daemon, temporary directory) is removed when it exits, however it
# exits.  Needs root (ip netns).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
daemon=$top/sbin/netipsecd/netipsecd
setkey=$top/sbin/setkey/setkey

echo "demo: netipsecd in a fresh network namespace, PF_KEY through setkey"
if [ ! -x "$daemon" ]; then
	echo "demo: sbin/netipsecd/netipsecd is not built yet (it is being" \
	    "written): nothing to show."
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (ip netns add)" >&2
	exit 1
fi

ns=netipsec-demo-$$
nsb=netipsec-demob-$$
pidb=
dir=$(mktemp -d "${TMPDIR:-/tmp}/netipsec-demo.XXXXXX")
sock=$dir/pfkey.sock
pid=

cleanup()
{
	for p in $pid $pidb; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	# The hooks stay after a stop (fail closed): -U removes them.
	for n in "$ns" "$nsb"; do
		ip netns exec "$n" "$daemon" -U >/dev/null 2>&1 || true
	done
	ip netns del "$ns" 2>/dev/null || true
	ip netns del "$nsb" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
echo "demo: namespace $ns; starting netipsecd -d -s $sock"
ip netns exec "$ns" "$daemon" -d -s "$sock" >"$dir/netipsecd.log" 2>&1 &
pid=$!

# Wait (5 s at most) for the daemon's socket.
i=0
while [ ! -S "$sock" ]; do
	if ! kill -0 "$pid" 2>/dev/null || [ "$i" -ge 50 ]; then
		echo "demo: netipsecd did not come up; its output:" >&2
		cat "$dir/netipsecd.log" >&2
		exit 1
	fi
	sleep 0.1
	i=$((i + 1))
done
echo "demo: netipsecd is up (pid $pid)"

# PF_KEY clients (setkey, iked, libpfkey) find the daemon here.
PFKEY_SOCKET=$sock
export PFKEY_SOCKET

# ---- The demo's steps. ----------------------------------------------------
if [ ! -x "$setkey" ]; then
	echo "demo: sbin/setkey/setkey is not built: nothing loaded"
	exit 1
fi
ex=$top/share/examples/setkey
fail=0
step()
{
	echo
	echo "demo: $*"
}
# Run a command in the namespace, show its output indented, and return
# its own exit status (not sed's).
run()
{
	echo "  # $*"
	rc=0
	ip netns exec "$ns" "$@" >"$dir/out" 2>&1 || rc=$?
	sed 's/^/  /' "$dir/out"
	return "$rc"
}

# A promiscuous PF_KEY socket (setkey -x) sees every message the kernel
# layer sends, to anyone.
ip netns exec "$ns" "$setkey" -x >"$dir/watch.log" 2>&1 &
watch=$!

step "load host-to-host ESP transport policies and SAs ($ex/transport-esp.conf)"
run "$setkey" -f "$ex/transport-esp.conf" || fail=1
step "the SPD, as FreeBSD's setkey -DP prints it"
run "$setkey" -DP
step "the SAD, as FreeBSD's setkey -D prints it (keys included: root only)"
run "$setkey" -D
step "replace them with gateway-to-gateway tunnel mode (FreeBSD's tunnel test file; it flushes first)"
run "$setkey" -f "$ex/tunnel-v4.conf" || fail=1
run "$setkey" -DP
step "bad input is refused with FreeBSD's messages: a key length setkey checks against REGISTER, then an SPI the kernel layer already has"
printf 'add 192.0.2.1 192.0.2.2 esp 0x300 -E aes-gcm-16 0x0011;\n' \
    >"$dir/bad.conf"
run "$setkey" -f "$dir/bad.conf" && fail=1
printf 'add 192.0.2.1 192.0.2.2 esp 0x1000 -E null "";\n' >"$dir/dup.conf"
run "$setkey" -f "$dir/dup.conf" && fail=1

nsp=$(ip netns exec "$ns" "$setkey" -DP | grep -c '^	spid=' || true)
nsa=$(ip netns exec "$ns" "$setkey" -D | grep -c 'state=mature' || true)
step "flush both databases"
run "$setkey" -F
run "$setkey" -FP
run "$setkey" -D
kill "$watch" 2>/dev/null || true
wait "$watch" 2>/dev/null || true
step "what a promiscuous socket (setkey -x) saw meanwhile, by message type:"
grep -oE '^sadb_msg\{ version=2 type=[0-9]+\([A-Z_0-9]+\)' "$dir/watch.log" |
    sed 's/.*(//; s/)//' | sort | uniq -c | sed 's/^/  /'
nwatch=$(grep -c '^sadb_msg{' "$dir/watch.log" || true)

# ESP on the wire: a second namespace on a veth pair, netipsecd hooking
# each end, the transport example's SAs on both sides, and a ping.
step "ESP on the wire: namespace B on a veth pair with A (192.0.2.1 <-> .2); netipsecd -i on each end"
ip netns add "$nsb"
ip netns exec "$nsb" ip link set lo up
ip link add vethA netns "$ns" type veth peer name vethB netns "$nsb"
ip -n "$ns" addr add 192.0.2.1/24 dev vethA
ip -n "$nsb" addr add 192.0.2.2/24 dev vethB
ip -n "$ns" link set vethA up
ip -n "$nsb" link set vethB up
ip netns exec "$ns" ping -c 1 -W 2 192.0.2.2 >/dev/null 2>&1 || true
kill "$pid"
wait "$pid" 2>/dev/null || true
ip netns exec "$ns" "$daemon" -d -s "$sock" -i vethA >>"$dir/netipsecd.log" 2>&1 &
pid=$!
ip netns exec "$nsb" "$daemon" -d -s "$dir/b.sock" -i vethB >"$dir/b.log" 2>&1 &
pidb=$!
i=0
until ip netns exec "$ns" "$daemon" -S -s "$sock" >/dev/null 2>&1 &&
    ip netns exec "$nsb" "$daemon" -S -s "$dir/b.sock" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "demo: netipsecd -i did not start"; exit 1; }
	sleep 0.05
done
# B's file: the same SAs, the policies' directions swapped.
sed 's/-P out/-P IN_/; s/-P in/-P out/; s/-P IN_/-P in/' \
    "$ex/transport-esp.conf" >"$dir/b.conf"
run "$setkey" -f "$ex/transport-esp.conf" || fail=1
PFKEY_SOCKET=$dir/b.sock run "$setkey" -f "$dir/b.conf" || fail=1
ip netns exec "$nsb" tcpdump -i vethB -n -l -c 4 esp >"$dir/wire.txt" \
    2>/dev/null &
tcpd=$!
sleep 1
step "ping B from A: the SPD says ESP, the SAD has the SAs"
run ping -c 2 -W 2 192.0.2.2 || fail=1
sleep 0.3
kill "$tcpd" 2>/dev/null || true
wait "$tcpd" 2>/dev/null || true
step "what tcpdump saw on B's end of the link"
sed 's/^/  /' "$dir/wire.txt"
nesp=$(grep -c 'ESP(spi=' "$dir/wire.txt" || true)
step "A's packet path counters (netipsecd -S)"
ip netns exec "$ns" "$daemon" -S -s "$sock" |
    grep -E 'protected with ESP|ESP packets accepted' | sed 's/^/  /'

# The tunnel file left 2 policies and 2 SAs behind (counted before the
# flush); the pings crossed as ESP.
echo
if [ "$fail" -eq 0 ] && [ "$nsp" -eq 2 ] && [ "$nsa" -eq 2 ] &&
    [ "$nwatch" -gt 10 ] && [ "$nesp" -ge 4 ]; then
	echo "demo: PASS: $nsp policies and $nsa SAs loaded, dumped and" \
	    "flushed through PF_KEY; pings crossed as ESP ($nesp packets)"
else
	echo "demo: FAIL: policies=$nsp (want 2) SAs=$nsa (want 2)" \
	    "failed steps=$fail messages seen=$nwatch ESP packets=$nesp"
	exit 1
fi
# ---- end of the demo's steps. ---------------------------------------------

echo "demo: netipsecd's log:"
sed 's/^/    /' "$dir/netipsecd.log"
echo "demo: done; removing namespace $ns"
