#!/bin/sh
# make demo: the founding sequence, end to end, with the real daemons.
#
# Two network namespaces, A (192.0.2.1) and B (192.0.2.2), on a veth
# pair.  Each runs netipsecd (the kernel IPsec layer: SPD, SAD, PF_KEY,
# ESP on its end of the link) and iked.  setkey loads policies that
# require ESP in transport mode between them, with no SA; iked.conf has a
# pre-shared key, or with AUTH=cert none: a CA made with ikectl ca signs
# a certificate for each host, and the hosts sign their AUTH (or IKEv1
# SIG) with their keys.  A pings B once.  The script then tells what happened,
# in order, from the daemons' own logs and from PF_KEY as a promiscuous
# socket (setkey -x) saw it: the SPD verdict and the ACQUIRE, each Main
# Mode and Quick Mode message, the SPIs each side chose, the SAD updates,
# ESP on the wire, the reply.  It ends with both SADs and PASS or FAIL,
# and removes everything it made.  Needs root (ip netns).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
netipsecd=$top/sbin/netipsecd/netipsecd
setkey=$top/sbin/setkey/setkey
iked=$top/sbin/iked/iked
ikectl=$top/sbin/ikectl/ikectl
ike=${IKE:-1}
[ -n "$ike" ] || ike=1
auth=${AUTH:-psk}
[ -n "$auth" ] || auth=psk
case $auth in
psk|cert) ;;
*)	echo "demo: AUTH=$auth: psk (the default) or cert" >&2
	exit 1
	;;
esac
# IKEv1's MM5 with a 3072-bit RSA certificate exceeds the link's MTU,
# and netipsecd does not yet reassemble plaintext fragments before its
# policy check (IKEv2 fragments its own messages, RFC 7383).
if [ "$auth" = cert ] && [ "$ike" != 2 ]; then
	echo "demo: AUTH=cert is for IKE=2" >&2
	exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (ip netns add)" >&2
	exit 1
fi
for p in "$netipsecd" "$setkey" "$iked" "$ikectl"; do
	[ -x "$p" ] || { echo "demo: $p is not built" >&2; exit 1; }
done
case $ike in
1)	ver=ikev1
	steps="Main Mode and Quick Mode"
	authdone='\[B iked\].*MM5 <- IDii, [A-Z]*_I verified'
	;;
2)	ver=ikev2
	steps="IKE_SA_INIT and IKE_AUTH"
	authdone='\[B iked\].*IKE_AUTH <- IDi, AUTH verified'
	;;
*)	echo "demo: IKE=$ike: 1 (IKEv1, the default) or 2 (IKEv2)" >&2
	exit 1
	;;
esac

A=demoA$$
B=demoB$$
dir=$(mktemp -d "${TMPDIR:-/tmp}/netipsec-demo.XXXXXX")
pids=

cleanup()
{
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	sleep 0.2
	for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
	for n in $A $B; do
		# A stopped netipsecd leaves its hook (fail closed): the
		# admin's -U removes it, before the namespace goes anyway.
		ip netns exec "$n" "$netipsecd" -U >/dev/null 2>&1 || true
		ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns del "$n" 2>/dev/null || true
	done
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

say() { printf '%s\n' "$*"; }
step() { printf '\n== %s\n' "$*"; }
indent() { sed 's/^/   /'; }
t0=$(date +%s)

say "demo: the founding sequence: A pings B; the kernel asks IKE for SAs;"
say "      $(echo $ver | tr a-z A-Z | sed 's/V/v/') $steps run; the ping crosses as ESP."

# ---- The two hosts. ---------------------------------------------------------
ip netns add $A
ip netns add $B
ip -n $A link set lo up
ip -n $B link set lo up
ip link add vA netns $A type veth peer name vB netns $B
ip -n $A addr add 192.0.2.1/24 dev vA
ip -n $B addr add 192.0.2.2/24 dev vB
ip -n $A link set vA up
ip -n $B link set vB up
ip netns exec $A ping -c 1 -W 2 192.0.2.2 >/dev/null 2>&1 || true	# ARP

for s in A B; do
	eval n=\$$s
	lc=$(echo $s | tr AB ab)
	if=v$s
	ip netns exec $n "$netipsecd" -d -s "$dir/$lc.sock" -i $if \
	    >"$dir/$lc.netipsecd.log" 2>&1 &
	pids="$pids $!"
done
i=0
until ip netns exec $A "$netipsecd" -S -s "$dir/a.sock" >/dev/null 2>&1 &&
    ip netns exec $B "$netipsecd" -S -s "$dir/b.sock" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 250 ] || { cat "$dir"/*.netipsecd.log; say "demo: FAIL: netipsecd did not start"; exit 1; }
	sleep 0.02
done
sk() { _s=$1; shift; eval _n=\$$_s; _l=$(echo $_s | tr AB ab)
	PFKEY_SOCKET=$dir/$_l.sock ip netns exec $_n "$setkey" "$@"; }

# ---- The policies: ESP required, no SA. ------------------------------------
cat >"$dir/a.spd" <<EOF
spdadd 192.0.2.1 192.0.2.2 any -P out ipsec esp/transport//require;
spdadd 192.0.2.2 192.0.2.1 any -P in ipsec esp/transport//require;
EOF
cat >"$dir/b.spd" <<EOF
spdadd 192.0.2.2 192.0.2.1 any -P out ipsec esp/transport//require;
spdadd 192.0.2.1 192.0.2.2 any -P in ipsec esp/transport//require;
EOF
sk A -f "$dir/a.spd"
sk B -f "$dir/b.spd"
# With a psk, iked reads only files nobody else may read.
umask 077
if [ "$auth" = psk ]; then
	auth_a='psk "demo pre-shared key"'
	auth_b=$auth_a
else
	# A CA of our own, a certificate for each host, in its directory.
	keytype=ecdsa256
	step "0. A CA made with ikectl ca ($keytype keys); a certificate for each host"
	ca() { "$ikectl" -C "$dir/ca" -t $keytype "$@" >/dev/null ||
	    { say "demo: FAIL: ikectl $*"; exit 1; }; }
	ca ca demo create
	for h in a b; do
		ca ca demo certificate $h.demo create
		ca -I "$dir/$h.iked" ca demo install
		ca -I "$dir/$h.iked" ca demo certificate $h.demo install
		say "   $h.demo: $(cd "$dir/$h.iked" && find . -type f |
		    sed 's|^\./||' | sort | tr '\n' ' ')"
	done
	auth_a='srcid a.demo dstid b.demo'
	auth_b='srcid b.demo dstid a.demo'
fi
cat >"$dir/a.conf" <<EOF
$ver "to-B" active esp transport from 192.0.2.1 to 192.0.2.2 \\
	peer 192.0.2.2 $auth_a
EOF
cat >"$dir/b.conf" <<EOF
$ver "to-A" passive esp transport from 192.0.2.2 to 192.0.2.1 \\
	peer 192.0.2.1 $auth_b
EOF

# ---- Observers: one timeline, in the order things happen. ------------------
# PF_KEY as setkey -x sees it, one line per message; iked's log lines.
timeline=$dir/timeline
: >"$timeline"
pfkey_lines()
{
	# mawk reads its input in blocks unless told otherwise.
	_i=
	awk -W interactive 'BEGIN { }' 2>/dev/null && _i="-W interactive"
	awk $_i -v who="$1" '
	function emit() {
		if (type == "") return
		if (type ~ /^(ACQUIRE|GETSPI|UPDATE|ADD|DELETE|EXPIRE)$/) {
			l = sprintf("[%s kernel] SADB_%s seq=%s", who, type, seq)
			if (spi != "") l = l sprintf(" spi=0x%08x", spi)
			if (pol != "") l = l " policy=" pol
			if (err != "0") l = l " errno=" err
			if (l != last) print l
			last = l
			fflush()
		}
		type = ""; spi = ""; pol = ""; err = "0"
	}
	/^$/ { emit() }
	/^sadb_msg\{/ {
		emit()
		match($0, /type=[0-9]+\([A-Z_0-9]+\)/)
		type = substr($0, RSTART, RLENGTH)
		sub(/^type=[0-9]+\(/, "", type); sub(/\)$/, "", type)
		match($0, /errno=[0-9]+/); err = substr($0, RSTART + 6, RLENGTH - 6)
	}
	/^  len=/ { match($0, /seq=[0-9]+/); seq = substr($0, RSTART + 4, RLENGTH - 4) }
	/^sadb_sa\{ spi=/ { match($0, /spi=[0-9]+/); spi = substr($0, RSTART + 4, RLENGTH - 4) + 0 }
	/^sadb_x_policy\{/ { match($0, /id=[0-9]+/); pol = substr($0, RSTART + 3, RLENGTH - 3) }
	END { emit() }'
}
for s in A B; do
	sk $s -x 2>/dev/null | pfkey_lines $s >>"$timeline" &
	pids="$pids $!"
done
for s in A B; do
	eval n=\$$s
	lc=$(echo $s | tr AB ab)
	PFKEY_SOCKET=$dir/$lc.sock ip netns exec $n "$iked" -d -v \
	    -K "$dir/$lc.iked" -s "$dir/$lc.iked.ctl" -f "$dir/$lc.conf" 2>&1 |
	    sed -u "s/^/[$s iked]   /" >>"$timeline" &
	pids="$pids $!"
done
ip netns exec $B tcpdump -i vB -n --immediate-mode -U -w "$dir/wire.pcap" \
    >/dev/null 2>&1 &
tcpd=$!
pids="$pids $tcpd"
i=0
until [ "$(grep -c 'iked started' "$timeline")" -ge 2 ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { cat "$timeline"; say "demo: FAIL: iked did not start"; exit 1; }
	sleep 0.05
done
sleep 1		# tcpdump opens the interface

# ---- The founding sequence. -------------------------------------------------
step "1. The SPD on A (setkey -DP): traffic to B must be ESP; the SAD is empty"
sk A -DP | indent
sk A -D | indent

step "2. A pings B once (ping -c 1 192.0.2.2)"
first=ok
ip netns exec $A ping -c 1 -W 5 192.0.2.2 >"$dir/ping1" 2>&1 || first=lost
ip netns exec $A ping -c 2 -i 0.3 -W 2 192.0.2.2 >"$dir/ping2" 2>&1 || true
sleep 0.3
kill -INT $tcpd 2>/dev/null || true
wait $tcpd 2>/dev/null || true

step "3. What happened, in order (PF_KEY as seen by setkey -x, iked's log)"
grep -E 'SADB_|acquire seq|main mode|phase 1 established|quick mode|IKE_SA_INIT|IKE_AUTH|IKE SA established|child SA done|INITIAL-CONTACT|signature verified' \
    "$timeline" |
    sed -e 's/\(SADB_ACQUIRE.*\)/\1   <- no SA: the packet is held, IKE is asked/' \
	-e 's/\(SADB_GETSPI.*spi=[0-9a-fx]*\)/\1   <- the inbound SPI this side chose/' \
	-e 's/\(SADB_UPDATE.*\)/\1   <- the inbound SA gets its keys/' \
	-e 's/\(SADB_ADD.*\)/\1   <- the outbound SA (the peer'"'"'s SPI)/' \
	-e 's/\(SADB_DELETE seq=0\)$/\1   <- INITIAL-CONTACT: stale SAs with the peer go/' |
    indent
held=$(ip netns exec $A "$netipsecd" -S -s "$dir/a.sock" |
    awk '/held, then sent/ { print $1; exit }')
say "   A's kernel: $held packet(s) held for the ACQUIRE, then sent (netipsecd -S)"

step "4. The SPIs each side chose (SPI-a by A, SPI-b by B)"
a_in=$(grep '\[A iked\].*SAs in 0x' "$timeline" | head -1 |
    sed -n 's/.*SAs in 0x\([0-9a-f]*\) out 0x\([0-9a-f]*\).*/\1 \2/p')
say "   from A's log: inbound 0x${a_in% *} (SPI-a), outbound 0x${a_in#* } (SPI-b)"
b_line=$(grep '\[B iked\].*SAs in 0x' "$timeline" | head -1 || true)
b_in=$(echo "$b_line" | sed -n 's/.*SAs in 0x\([0-9a-f]*\) out 0x\([0-9a-f]*\).*/\2 \1/p')
say "   from B's log: inbound 0x${b_in#* } (SPI-b), outbound 0x${b_in% *} (SPI-a)"

step "5. ESP on the wire (tcpdump on B's end of the link)"
tcpdump -n -r "$dir/wire.pcap" 2>/dev/null | sed 's/^[0-9:.]* //' | head -16 | indent
nesp=$(tcpdump -n -r "$dir/wire.pcap" esp 2>/dev/null | wc -l)
nicmp=$(tcpdump -n -r "$dir/wire.pcap" icmp 2>/dev/null | wc -l)
nike=$(tcpdump -n -r "$dir/wire.pcap" udp port 500 2>/dev/null | wc -l)
say "   IKE packets (udp 500): $nike; ESP packets: $nesp; plaintext ICMP: $nicmp"

step "6. The reply: the first ping, held during the negotiation, was answered"
grep -E 'bytes from|packet loss' "$dir/ping1" | indent
grep -E 'packet loss' "$dir/ping2" | indent

step "7. Both SADs (setkey -D)"
say "   A:"
sk A -D | indent
say "   B:"
sk B -D | indent

na=$(sk A -D | grep -c 'state=mature' || true)
nb=$(sk B -D | grep -c 'state=mature' || true)
t1=$(date +%s)
echo
if [ "$first" = ok ] && [ "$na" -eq 2 ] && [ "$nb" -eq 2 ] &&
    [ "$nesp" -ge 4 ] && [ "$nicmp" -eq 0 ] && [ -n "$a_in" ] &&
    [ "$a_in" = "$b_in" ] && grep -q "$authdone" "$timeline"; then
	say "demo: PASS: first ping answered after ACQUIRE, $steps;" \
	    "2 SAs on each side (SPI-a 0x${a_in% *}, SPI-b 0x${a_in#* }); $nesp ESP packets," \
	    "no plaintext; $((t1 - t0)) s"
else
	say "demo: FAIL: first ping $first, SAs A=$na B=$nb (want 2 each)," \
	    "ESP $nesp, plaintext $nicmp, SPIs A=[$a_in] B=[$b_in]"
	say "demo: the whole timeline:"
	indent <"$timeline"
	for s in A B; do
		eval n=\$$s
		lc=$(echo $s | tr AB ab)
		say "demo: $s's packet path (netipsecd -S):"
		ip netns exec $n "$netipsecd" -S -s "$dir/$lc.sock" |
		    grep -v '^	0 ' | indent
	done
	exit 1
fi
