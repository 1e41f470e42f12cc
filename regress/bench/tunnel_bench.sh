#!/bin/sh
# iperf3 TCP through netipsecd, between two network namespaces on a veth
# pair (documentation addresses), BENCH_SECONDS (5) each:
#   - hook only: netipsecd -i on both ends, empty SPD (the queue's own
#     limit, the reference);
#   - ESP: the same with transport-mode AES-GCM-128 SAs;
#   - strongSwan: charon's kernel-libipsec tunnel with ESP AES-GCM-128
#     (swan_bench.sh), when strongSwan is installed.
# Prints the three, the ratios and a line per goal (ESP/hook >= 0.7,
# ESP/strongSwan >= 3).  Needs root and iperf3.  NETIPSECD=path runs
# another netipsecd build (before/after comparisons).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
daemon=${NETIPSECD:-$top/sbin/netipsecd/netipsecd}	# or another build
setkey=$top/sbin/setkey/setkey
SECS=${BENCH_SECONDS:-5}
if [ "$(id -u)" -ne 0 ] || ! command -v iperf3 >/dev/null ||
    [ ! -x "$daemon" ] || [ ! -x "$setkey" ]; then
	echo "tunnel bench: skipped (needs root, iperf3, netipsecd, setkey)"
	exit 0
fi
A=benchA$$ B=benchB$$
dir=$(mktemp -d "${TMPDIR:-/tmp}/tunnel-bench.XXXXXX")
cleanup()
{
	for p in $(cat "$dir/pids" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
	sleep 0.3
	ip netns del "$A" 2>/dev/null || true
	ip netns del "$B" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
ip netns add "$A"
ip netns add "$B"
ip link add vethA netns "$A" type veth peer name vethB netns "$B"
ip -n "$A" addr add 192.0.2.1/24 dev vethA
ip -n "$B" addr add 192.0.2.2/24 dev vethB
ip -n "$A" link set vethA up
ip -n "$B" link set vethB up
ip -n "$A" link set lo up
ip -n "$B" link set lo up
ip netns exec "$A" ping -c 1 -W 2 192.0.2.2 >/dev/null
for n in A B; do
	eval ns=\$$n
	ip netns exec "$ns" "$daemon" -d -s "$dir/$n.sock" -i veth$n \
	    >"$dir/$n.log" 2>&1 &
	echo $! >>"$dir/pids"
done
for n in A B; do
	eval ns=\$$n
	i=0
	until ip netns exec "$ns" "$daemon" -S -s "$dir/$n.sock" >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -lt 200 ] || { cat "$dir/$n.log"; exit 1; }
		sleep 0.05
	done
done
ip netns exec "$B" iperf3 -s -D -B 192.0.2.2 --pidfile "$dir/iperf.pid" >/dev/null
sleep 0.5
cat "$dir/iperf.pid" >>"$dir/pids"

# Gbit/s of a SECS-second TCP stream A -> B
run()
{
	ip netns exec "$A" iperf3 -c 192.0.2.2 -t "$SECS" -J 2>/dev/null |
	    /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.2f" % (d["end"]["sum_received"]["bits_per_second"] / 1e9))'
}

hook=$(run)
key=0x00112233445566778899aabbccddeeffcafebabe
for n in A B; do
	eval ns=\$$n
	if [ $n = A ]; then d1=out d2=in; else d1=in d2=out; fi
	cat >"$dir/$n.conf" <<X
add 192.0.2.1 192.0.2.2 esp 0x1001 -m transport -E aes-gcm-16 $key;
add 192.0.2.2 192.0.2.1 esp 0x1002 -m transport -E aes-gcm-16 $key;
spdadd 192.0.2.1 192.0.2.2 any -P $d1 ipsec esp/transport//require;
spdadd 192.0.2.2 192.0.2.1 any -P $d2 ipsec esp/transport//require;
X
	PFKEY_SOCKET="$dir/$n.sock" ip netns exec "$ns" "$setkey" -f "$dir/$n.conf"
done
esp=$(run)
# The reference peer, alone on the machine: our daemons are stopped.
cleanup
trap - EXIT
why=$(mktemp "${TMPDIR:-/tmp}/swan-bench-why.XXXXXX")
trap 'rm -f "$why"' EXIT
swan=$("$top/regress/bench/swan_bench.sh" "$SECS" 2>"$why") || swan=
echo "iperf3 TCP A -> B, ${SECS} s each, receiver's Gbit/s (one run)"
printf '  %-48s %6s\n' "netipsecd hook only (empty SPD)" "$hook"
printf '  %-48s %6s\n' "netipsecd ESP AES-GCM-128 (transport)" "$esp"
if [ -n "$swan" ]; then
	printf '  %-48s %6s\n' "strongSwan kernel-libipsec AES-GCM-128 (tunnel)" \
	    "$swan"
else
	printf '  %-48s %6s\n' "strongSwan kernel-libipsec" "-"
	sed 's/^/    /' "$why"
fi
awk -v e="$esp" -v h="$hook" -v s="$swan" 'BEGIN {
	r = h > 0 ? e / h : 0
	printf "ratio ESP/hook-only:   %.2f\n", r
	if (s != "" && s > 0)
		printf "ratio ESP/strongSwan:  %.2f\n", e / s
	printf "goal ESP/hook-only >= 0.7: %s (%.2f)\n",
	    (r >= 0.7 ? "met" : "NOT met"), r
	if (s == "" || s <= 0)
		printf "goal ESP/strongSwan >= 3: not measured (no strongSwan)\n"
	else
		printf "goal ESP/strongSwan >= 3: %s (%.2f)\n",
		    (e / s >= 3 ? "met" : "NOT met"), e / s
}'
