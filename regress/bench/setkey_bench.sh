#!/bin/sh
# setkey -f with 1k and 100k "add" lines, and with 1k and 100k "spdadd"
# lines, into a private netipsecd: per-entry cost and its growth (goal:
# flat, ratio near 1).  Needs root (netipsecd's clients must be root).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
daemon=$top/sbin/netipsecd/netipsecd
setkey=$top/sbin/setkey/setkey
if [ "$(id -u)" -ne 0 ] || [ ! -x "$daemon" ] || [ ! -x "$setkey" ]; then
	echo "setkey bench: skipped (needs root and built netipsecd, setkey)"
	exit 0
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/setkey-bench.XXXXXX")
pid=
cleanup()
{
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

"$daemon" -d -s "$dir/pfkey.sock" >"$dir/log" 2>&1 &
pid=$!
i=0
while [ ! -S "$dir/pfkey.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
PFKEY_SOCKET=$dir/pfkey.sock
export PFKEY_SOCKET

# gen KIND N: N distinct entries, 10.a.b.c <-> 11.a.b.c
gen()
{
	awk -v kind="$1" -v n="$2" 'BEGIN {
		for (i = 0; i < n; i++) {
			a = int(i / 65536); b = int(i / 256) % 256; c = i % 256;
			if (kind == "add")
				printf "add 10.%d.%d.%d 11.%d.%d.%d esp %d -E aes-gcm-16 0x00112233445566778899aabbccddeeff00112233;\n", a, b, c, a, b, c, 4096 + i;
			else
				printf "spdadd 10.%d.%d.%d 11.%d.%d.%d any -P out ipsec esp/transport//require;\n", a, b, c, a, b, c;
		}
	}'
}

# run KIND N: prints microseconds per entry
run()
{
	gen "$1" "$2" >"$dir/f"
	"$setkey" -F >/dev/null 2>&1 || true
	"$setkey" -FP >/dev/null 2>&1 || true
	t0=$(date +%s%N)
	"$setkey" -f "$dir/f" >/dev/null
	t1=$(date +%s%N)
	awk -v d="$((t1 - t0))" -v n="$2" 'BEGIN { printf "%.1f", d / 1000 / n }'
}

echo "setkey -f (us per entry, private netipsecd; goal: flat from 1k to 100k)"
printf '%10s %10s %10s %8s\n' kind 1k 100k growth
for kind in add spdadd; do
	small=$(run $kind 1000)
	big=$(run $kind 100000)
	printf '%10s %10s %10s %7s\n' "$kind" "$small" "$big" \
	    "$(awk -v a="$big" -v b="$small" 'BEGIN { printf "%.2fx", a / b }')"
done
