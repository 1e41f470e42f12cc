#!/bin/sh
# make demo: the BSD IPsec layer at work on Linux.
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
dir=$(mktemp -d "${TMPDIR:-/tmp}/netipsec-demo.XXXXXX")
sock=$dir/pfkey.sock
pid=

cleanup()
{
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	ip netns del "$ns" 2>/dev/null || true
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

# ---- LEAD: plug the demo's steps in here. -----------------------------
# Load the examples and dump what the kernel layer holds, e.g.:
#	for f in "$top"/share/examples/*.setkey; do
#		ip netns exec "$ns" "$setkey" -f "$f"
#	done
#	ip netns exec "$ns" "$setkey" -DP	# the SPD
#	ip netns exec "$ns" "$setkey" -D	# the SAD
# (setkey is in progress: until $setkey exists, nothing is loaded.)
if [ ! -x "$setkey" ]; then
	echo "demo: sbin/setkey/setkey is not built yet: nothing loaded"
fi
# ---- end of the lead's part. ------------------------------------------

echo "demo: netipsecd's log:"
sed 's/^/    /' "$dir/netipsecd.log"
echo "demo: done; removing namespace $ns"
