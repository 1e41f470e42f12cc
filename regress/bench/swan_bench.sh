#!/bin/sh
# iperf3 TCP through strongSwan's userland IPsec (charon with the
# kernel-libipsec plugin: ESP-in-UDP over a TUN device), the reference
# peer of tunnel_bench.sh: two network namespaces on a veth pair, one
# charon each with a private configuration, an IKEv2 PSK tunnel with
# ESP AES-GCM-128 between 198.51.100.1 and 203.0.113.1 (documentation
# addresses on lo; outer 192.0.2.1 and .2).  Nothing is started outside
# the two namespaces; charon's hard-coded pid file goes to a private
# directory bind-mounted over /run in its own mount namespace.
#
# Usage: swan_bench.sh SECONDS.  Prints the receiver's Gbit/s on standard
# output and exits 0; prints why on standard error and exits 2 when
# strongSwan is not installed or the tunnel does not come up.
set -eu
SECS=${1:-5}
CHARON=/usr/lib/ipsec/charon
PLUGINS=/usr/lib/ipsec/plugins
if [ "$(id -u)" -ne 0 ] || [ ! -x "$CHARON" ] ||
    [ ! -e $PLUGINS/libstrongswan-kernel-libipsec.so ] ||
    [ ! -e $PLUGINS/libstrongswan-openssl.so ] ||
    [ ! -e $PLUGINS/libstrongswan-gcm.so ] ||
    ! command -v swanctl >/dev/null || ! command -v iperf3 >/dev/null; then
	echo "strongSwan: not installed (charon, swanctl, its kernel-libipsec," \
	    "openssl and gcm plugins: make deps)" >&2
	exit 2
fi
A=swanA$$ B=swanB$$
dir=$(mktemp -d "${TMPDIR:-/tmp}/swan-bench.XXXXXX")
cleanup()
{
	# Only the processes started here, by pid and name.
	for f in "$dir"/*.pid; do
		[ -f "$f" ] || continue
		read -r p c <"$f"
		[ "$(cat /proc/"$p"/comm 2>/dev/null)" = "$c" ] &&
		    kill "$p" 2>/dev/null || true
	done
	sleep 0.3
	ip netns del "$A" 2>/dev/null || true
	ip netns del "$B" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
fail()
{
	echo "strongSwan: $*" >&2
	exit 2
}
sw()
{
	n=$1
	shift
	SWANCTL_DIR="$dir/$n/swanctl" STRONGSWAN_CONF="$dir/$n/strongswan.conf" \
	    swanctl "$@" --uri "unix://$dir/$n/charon.vici"
}

ip netns add "$A"
ip netns add "$B"
ip link add swvA netns "$A" type veth peer name swvB netns "$B"
ip -n "$A" addr add 192.0.2.1/24 dev swvA
ip -n "$B" addr add 192.0.2.2/24 dev swvB
ip -n "$A" addr add 198.51.100.1/32 dev lo
ip -n "$B" addr add 203.0.113.1/32 dev lo
for n in A B; do
	eval ns=\$$n
	ip -n "$ns" link set lo up
	ip -n "$ns" link set swv$n up
done
ip netns exec "$A" ping -c 1 -W 2 192.0.2.2 >/dev/null

for n in A B; do
	eval ns=\$$n
	d=$dir/$n
	mkdir -p "$d/run" "$d/swanctl/private" "$d/swanctl/x509" \
	    "$d/swanctl/x509ca" "$d/swanctl/pubkey" "$d/swanctl/rsa" \
	    "$d/swanctl/ecdsa" "$d/swanctl/pkcs8" "$d/swanctl/pkcs12" \
	    "$d/swanctl/x509ocsp" "$d/swanctl/x509aa" "$d/swanctl/x509ac" \
	    "$d/swanctl/x509crl" "$d/swanctl/bliss"
	if [ $n = A ]; then
		me=192.0.2.1 peer=192.0.2.2
		lts=198.51.100.0/24 rts=203.0.113.0/24
	else
		me=192.0.2.2 peer=192.0.2.1
		lts=203.0.113.0/24 rts=198.51.100.0/24
	fi
	cat >"$d/strongswan.conf" <<X
charon {
	load_modular = no
	load = random nonce openssl pem pkcs1 pkcs8 x509 pubkey curve25519 aes gcm sha1 sha2 hmac kdf kernel-libipsec kernel-netlink socket-default vici
	install_routes = yes
	filelog {
		bench {
			path = $d/charon.log
			default = 0
		}
	}
	plugins {
		vici {
			socket = unix://$d/charon.vici
		}
	}
}
swanctl {
	socket = unix://$d/charon.vici
}
X
	cat >"$d/swanctl/swanctl.conf" <<X
connections {
	bench {
		version = 2
		local_addrs = $me
		remote_addrs = $peer
		proposals = aes128gcm16-prfsha256-x25519
		local {
			auth = psk
			id = $me
		}
		remote {
			auth = psk
			id = $peer
		}
		children {
			bench {
				mode = tunnel
				local_ts = $lts
				remote_ts = $rts
				esp_proposals = aes128gcm16
				start_action = none
			}
		}
	}
}
secrets {
	ike-bench {
		secret = "bench-only-psk-0123456789abcdef"
	}
}
X
	# ip netns exec and sh both exec(): $! is charon itself.
	ip netns exec "$ns" env STRONGSWAN_CONF="$d/strongswan.conf" \
	    sh -c 'mount --bind "$1" /run && exec "$2"' sh "$d/run" "$CHARON" \
	    >"$d/charon.out" 2>&1 </dev/null &
	echo "$! charon" >"$dir/charon$n.pid"
done
for n in A B; do
	i=0
	until [ -S "$dir/$n/charon.vici" ] && sw $n --stats >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 100 ] || fail "charon did not start (see $dir/$n)"
		sleep 0.1
	done
	sw $n --load-all --noprompt >"$dir/$n/load.out" 2>&1 ||
	    fail "swanctl --load-all: $(tail -n 1 "$dir/$n/load.out")"
done
sw A --initiate --child bench --timeout 30 >"$dir/initiate.out" 2>&1 ||
    fail "the tunnel did not come up: $(tail -n 1 "$dir/initiate.out")"

ip netns exec "$B" iperf3 -s -D -B 203.0.113.1 --pidfile "$dir/iperf.pidf" \
    >/dev/null
sleep 0.5
echo "$(cat "$dir/iperf.pidf") iperf3" >"$dir/iperf.pid"
ip netns exec "$A" iperf3 -c 203.0.113.1 -B 198.51.100.1 -t "$SECS" -J \
    2>/dev/null | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.2f" % (d["end"]["sum_received"]["bits_per_second"] / 1e9))'
