# Route-based tunnels, FreeBSD's if_ipsec(4): ipsecif(8) makes ipsec0 on
# two gateways (netipsecd's TUN device) with a reqid and tunnel endpoints;
# setkey adds the SAs of that reqid; routes, not the SPD, choose what goes
# in.  tcpdump between the gateways sees only ESP, tshark decrypts it,
# and a route to a new subnet works with the SPD untouched.
# Documentation and private addresses only.

. "$(atf_get_srcdir)/../lib/netns.subr"

KEY1=0x6162636465666768696a6b6c6d6e6f7071727374
KEY2=0x4142434445464748494a4b4c4d4e4f5051525354

ipsecif_init()
{
	netns_init
	IPSECIF="$TOP/sbin/ipsecif/ipsecif"
	[ -x "$IPSECIF" ] || atf_fail "ipsecif not built"
	[ -c /dev/net/tun ] || atf_skip "no /dev/net/tun"
}

# ipsecif_ NS ARGS...: ipsecif against NS's netipsecd.
ipsecif_() { _n=$1; shift; in_ "$_n" "$IPSECIF" -s "$PWD/$_n.sock" "$@"; }

# HA (10.1.0.2) - GA - 192.0.2.0/24 - GB - HB (10.2.0.2, 10.3.0.2); no
# routes between the sites: only ipsec0 will carry them.
sites()
{
	mkns HA; mkns GA; mkns GB; mkns HB
	link HA ha GA gai
	link GA gao GB gbo
	link GB gbi HB hb
	ip -n "$(ns HA)" addr add 10.1.0.2/24 dev ha
	ip -n "$(ns GA)" addr add 10.1.0.1/24 dev gai
	ip -n "$(ns GA)" addr add 192.0.2.1/24 dev gao
	ip -n "$(ns GB)" addr add 192.0.2.2/24 dev gbo
	ip -n "$(ns GB)" addr add 10.2.0.1/24 dev gbi
	ip -n "$(ns GB)" addr add 10.3.0.1/24 dev gbi
	ip -n "$(ns HB)" addr add 10.2.0.2/24 dev hb
	ip -n "$(ns HB)" addr add 10.3.0.2/24 dev hb
	ip -n "$(ns HA)" route add default via 10.1.0.1
	ip -n "$(ns HB)" route add default via 10.2.0.1
	ip -n "$(ns HA)" addr add 2001:db8:1::2/64 dev ha nodad
	ip -n "$(ns GA)" addr add 2001:db8:1::1/64 dev gai nodad
	ip -n "$(ns GB)" addr add 2001:db8:2::1/64 dev gbi nodad
	ip -n "$(ns HB)" addr add 2001:db8:2::2/64 dev hb nodad
	ip -n "$(ns HA)" -6 route add default via 2001:db8:1::1
	ip -n "$(ns HB)" -6 route add default via 2001:db8:2::1
	in_ GA sysctl -qw net.ipv4.ip_forward=1
	in_ GB sysctl -qw net.ipv4.ip_forward=1
	in_ GA sysctl -qw net.ipv6.conf.all.forwarding=1
	in_ GB sysctl -qw net.ipv6.conf.all.forwarding=1
	in_ GA ping -c 1 -W 2 192.0.2.2 >/dev/null 2>&1
	daemon GA gao
	daemon GB gbo
}

# The SAs of reqid 100, as FreeBSD's if_ipsec(4) page adds them.
sas()
{
	cat >sa.conf <<X
add 192.0.2.1 192.0.2.2 esp 0x1001 -m tunnel -u 100 -E aes-gcm-16 $KEY1;
add 192.0.2.2 192.0.2.1 esp 0x1002 -m tunnel -u 100 -E aes-gcm-16 $KEY2;
X
	keys GA sa.conf
	keys GB sa.conf
}

atf_test_case routed cleanup
routed_head()
{
	atf_set "descr" "if_ipsec(4) on netipsecd: ipsec0 with reqid 100 and a tunnel on two gateways, its ifnet-scope policies in setkey -DP as FreeBSD prints them, traffic routed into it (IPv4 and IPv6 inside) leaves as ESP with that reqid's SA (tshark decrypts it) and comes out of ipsec0 on the far side; a new subnet needs a route only, the SPD stays as it was"
	atf_set "require.user" "root"
	atf_set "timeout" "90"
}
routed_body()
{
	ipsecif_init
	sites
	ipsecif_ GA ipsec0 create reqid 100 tunnel 192.0.2.1 192.0.2.2 ||
	    atf_fail "ipsecif create on GA"
	ipsecif_ GB ipsec0 create reqid 100 ||
	    atf_fail "ipsecif create on GB"
	ipsecif_ GB ipsec0 tunnel 192.0.2.2 192.0.2.1 ||
	    atf_fail "ipsecif tunnel on GB"
	ipsecif_ GA ipsec0 >show.out || atf_fail "ipsecif ipsec0 (show)"
	cat show.out
	grep -q '^ipsec0: index [0-9]* mtu 1400$' show.out ||
	    atf_fail "no mtu 1400 in the show"
	grep -q 'tunnel inet 192.0.2.1 --> 192.0.2.2' show.out ||
	    atf_fail "no tunnel in the show"
	grep -q 'reqid: 100' show.out || atf_fail "no reqid in the show"
	ip -n "$(ns GA)" link show ipsec0 | grep -q ',UP' ||
	    atf_fail "ipsec0 is not up"

	# Four policies each, of ifnet scope, as FreeBSD shows them.
	setkey_ GA -DP >spd.out
	cat spd.out
	atf_check_equal 4 "$(grep -c 'scope=ifnet ifname=ipsec0' spd.out)"
	tr -s ' \t\n' ' ' <spd.out >spd.flat
	for p in "0.0.0.0/0\[any\] 0.0.0.0/0\[any\] any in ipsec esp/tunnel/192.0.2.2-192.0.2.1/unique:100" \
	    "0.0.0.0/0\[any\] 0.0.0.0/0\[any\] any out ipsec esp/tunnel/192.0.2.1-192.0.2.2/unique:100" \
	    "::/0\[any\] ::/0\[any\] any in ipsec esp/tunnel/192.0.2.2-192.0.2.1/unique:100" \
	    "::/0\[any\] ::/0\[any\] any out ipsec esp/tunnel/192.0.2.1-192.0.2.2/unique:100"; do
		grep -q "$p" spd.flat || atf_fail "no policy '$p'"
	done
	setkey_ GA -DPg | grep -q 'No SPD entries' ||
	    atf_fail "setkey -DPg shows ifnet policies"

	sas
	ip -n "$(ns GA)" route add 10.2.0.0/24 dev ipsec0
	ip -n "$(ns GB)" route add 10.1.0.0/24 dev ipsec0
	capture GA gao
	in_ HA ping -c 3 -i 0.2 -W 2 10.2.0.2 >ping.out 2>&1 ||
	    { cat ping.out; nstats GA; nstats GB; atf_fail "HA cannot reach HB through ipsec0"; }
	in_ HB ping -c 2 -i 0.2 -W 2 10.1.0.2 >/dev/null 2>&1 ||
	    atf_fail "HB cannot reach HA through ipsec0"
	# IPv6 inside the IPv4 tunnel: the ::/0 policies.
	ip -n "$(ns GA)" -6 route add 2001:db8:2::/64 dev ipsec0
	ip -n "$(ns GB)" -6 route add 2001:db8:1::/64 dev ipsec0
	in_ HA ping -6 -c 2 -i 0.2 -W 2 2001:db8:2::2 >/dev/null 2>&1 ||
	    atf_fail "IPv6 inside the tunnel: HA cannot reach HB"
	# 10.3.0.0/24: a route, nothing else.
	in_ HA ping -c 1 -W 1 10.3.0.2 >/dev/null 2>&1 &&
	    atf_fail "10.3.0.2 reachable before its route"
	ip -n "$(ns GA)" route add 10.3.0.0/24 dev ipsec0
	in_ HA ping -c 3 -i 0.2 -W 2 10.3.0.2 >/dev/null 2>&1 ||
	    atf_fail "HA cannot reach 10.3.0.2 after the route change"
	# The same policies (pid= is the asking setkey's).
	setkey_ GA -DP | sed 's/ pid=[0-9]*//' >spd2.out
	sed 's/ pid=[0-9]*//' spd.out | cmp -s - spd2.out ||
	    { diff spd.out spd2.out; atf_fail "the SPD changed"; }
	capture_stop

	[ "$(nstat GA "packets routed into an ipsec interface, protected")" -ge 6 ] ||
	    { nstats GA; atf_fail "GA protected too little from ipsec0"; }
	[ "$(nstat GB "packets out of an ipsec interface's tunnel")" -ge 6 ] ||
	    { nstats GB; atf_fail "GB took too little out of the tunnel"; }
	ipsecif_ GB ipsec0 | grep -q 'packets: [0-9]* out, [1-9][0-9]* in' ||
	    { ipsecif_ GB ipsec0; atf_fail "GB's ipsec0 received nothing"; }
	n=$(tcpdump -n -r GA-gao.pcap 'icmp or proto 4 or proto 41 or
	    (ip6 and net 2001:db8::/32)' 2>/dev/null | wc -l)
	atf_check_equal 0 "$n"
	n=$(tcpdump -n -r GA-gao.pcap 'esp and src 192.0.2.1' 2>/dev/null |
	    grep -c 'spi=0x00001001' || true)
	[ "$n" -ge 6 ] || atf_fail "only $n ESP packets of SPI 0x1001"
	if command -v tshark >/dev/null; then
		n=$(tshark -r GA-gao.pcap -o esp.enable_encryption_decode:TRUE \
		    -o "uat:esp_sa:\"IPv4\",\"192.0.2.1\",\"192.0.2.2\",\"0x00001001\",\"AES-GCM with 16 octet ICV [RFC4106]\",\"$KEY1\",\"NULL\",\"\"" \
		    -Y 'esp && icmp.type == 8 && ip.dst == 10.3.0.2' 2>/dev/null | wc -l)
		echo "tshark decrypted $n echo requests to 10.3.0.2"
		[ "$n" -ge 3 ] || atf_fail "tshark decrypted $n pings to 10.3.0.2"
		n=$(tshark -r GA-gao.pcap -o esp.enable_encryption_decode:TRUE \
		    -o "uat:esp_sa:\"IPv4\",\"192.0.2.1\",\"192.0.2.2\",\"0x00001001\",\"AES-GCM with 16 octet ICV [RFC4106]\",\"$KEY1\",\"NULL\",\"\"" \
		    -Y '_ws.malformed' 2>/dev/null | wc -l)
		atf_check_equal 0 "$n"
	fi

	# Without its tunnel nothing leaves; destroyed, its policies go.
	ipsecif_ GA ipsec0 -tunnel || atf_fail "ipsecif -tunnel"
	in_ HA ping -c 1 -W 1 10.2.0.2 >/dev/null 2>&1 &&
	    atf_fail "a ping crossed without a tunnel"
	ipsecif_ GA ipsec0 destroy || atf_fail "ipsecif destroy"
	ip -n "$(ns GA)" link show ipsec0 >/dev/null 2>&1 &&
	    atf_fail "ipsec0 still exists"
	n=$(setkey_ GA -DP | grep -c 'scope=ifnet' || true)
	atf_check_equal 0 "$n"
	ipsecif_ GA ipsec0 2>err.out && atf_fail "show of a destroyed ipsec0"
	grep -q 'no such interface' err.out || atf_fail "no clear error"
}
routed_cleanup() { netns_cleanup; }

atf_test_case errors cleanup
errors_head()
{
	atf_set "descr" "ipsecif's errors are clear and change nothing: a name that is not ipsecN, a reqid out of range or taken, half a tunnel, mixed families, an unknown word, an interface that does not exist"
	atf_set "require.user" "root"
}
errors_body()
{
	ipsecif_init
	mkns A
	mkns B
	link A va B vb
	ip -n "$(ns A)" addr add 192.0.2.1/24 dev va
	daemon A va
	ipsecif_ A ipsec0 create reqid 7 || atf_fail "create"
	for c in "eth0 create|not an ipsecN name" \
	    "ipsec1 create reqid 16384|not 0 to 16383" \
	    "ipsec1 create reqid 7|reqid in use" \
	    "ipsec0 create|exists" \
	    "ipsec0 tunnel 192.0.2.1|unknown or incomplete" \
	    "ipsec0 tunnel 192.0.2.1 2001:db8::2|not two addresses of one family" \
	    "ipsec0 tunnel 0.0.0.0 192.0.2.2|Cannot assign requested address" \
	    "ipsec0 frobnicate|unknown or incomplete" \
	    "ipsec9 destroy|no such interface" \
	    "ipsec9 tunnel 192.0.2.1 192.0.2.2|no such interface"; do
		args=${c%%|*} msg=${c#*|}
		# shellcheck disable=SC2086
		ipsecif_ A $args 2>err.out && atf_fail "'$args' succeeded"
		grep -q "$msg" err.out ||
		    { cat err.out; atf_fail "'$args': not '$msg'"; }
	done
	ip -n "$(ns A)" link show ipsec1 >/dev/null 2>&1 &&
	    atf_fail "a refused create left ipsec1"
	ipsecif_ A ipsec0 | grep -q 'reqid: 7' || atf_fail "reqid changed"
	ipsecif_ A ipsec0 | grep -q tunnel && atf_fail "a tunnel appeared"
	n=$(setkey_ A -DP | grep -c 'scope=ifnet' || true)
	atf_check_equal 0 "$n"
	# Without -i, netipsecd has no way out for ESP: a clear refusal.
	mkns C
	in_ C "$NETIPSECD" -d -s "$PWD/C.sock" >>C.log 2>&1 &
	echo $! >>daemons.pids
	wait_for 5 in_ C "$NETIPSECD" -S -s "$PWD/C.sock" >/dev/null 2>&1
	ipsecif_ C ipsec0 create 2>err.out && atf_fail "create without -i"
	grep -q 'hooks no interface' err.out || { cat err.out; atf_fail "not clear"; }
}
errors_cleanup() { netns_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case routed
	atf_add_test_case errors
}
