#!/bin/sh
# iperf3 TCP through netipsecd, between two network namespaces on a veth
# pair (documentation addresses), 5 s each:
#   - hook only: netipsecd -i on both ends, empty SPD (the queue's own
#     limit, the reference);
#   - ESP: the same with transport-mode AES-GCM-128 SAs.
# Prints both and the ratio (goal >= 0.7).  Needs root and iperf3.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
daemon=$top/sbin/netipsecd/netipsecd
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
echo "iperf3 TCP A -> B through netipsecd (Gbit/s; reference: the same path, hook passing packets unmodified)"
printf '%24s %8s\n' "hook only (empty SPD)" "$hook"
printf '%24s %8s\n' "ESP AES-GCM-128" "$esp"
awk -v a="$esp" -v b="$hook" 'BEGIN { printf "ratio esp/hook: %.2f (goal >= 0.7)\n", a / b }'
