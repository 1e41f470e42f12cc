# The SPD holds against an attacker, in network namespaces with netipsecd
# (and iked): nothing crosses a require policy in clear because of its
# port, whether to a host or through a gateway; a peer with a valid SA of
# its own cannot inject packets for another peer's networks; IKE passes
# by its daemon's sockets' bypass policies only, which no other user can
# share; unmodified programs set such policies through the preload shim;
# and a stop of netipsecd lets nothing out in clear.  Documentation
# addresses only.

. "$(atf_get_srcdir)/../lib/netns.subr"
. "$(atf_get_srcdir)/../lib/ike.subr"

KEY=0x00112233445566778899aabbccddeeffcafebabe

policy_init()
{
	ike_init
	[ -x /usr/bin/python3 ] || atf_skip "/usr/bin/python3 is not installed"
	UDPTOOL="$(atf_get_srcdir)/udptool.py"
	PRELOAD="$TOP/lib/libpfkey/libpfkey_preload.so"
}

# recv NS ADDR PORT SECONDS [ARGS]: udptool recv in the background, its
# output in NS-PORT.recv; waits until it listens.
recv()
{
	_n=$1 _p=$3
	in_ "$_n" /usr/bin/python3 "$UDPTOOL" recv "$2" "$3" "$4" ${5:-} \
	    >"$_n-$_p.recv" 2>"$_n-$_p.err" &
	echo $! >>daemons.pids
	wait_for 5 grep -q ready "$_n-$_p.err" ||
	    { cat "$_n-$_p.err"; atf_fail "udptool recv in $_n did not start"; }
}

# nipid NS: the pid of NS's netipsecd (daemons.pids has its shell's).
nipid()
{
	for _p in $(ip netns pids "$(ns "$1")"); do
		[ "$(cat /proc/$_p/comm 2>/dev/null)" = netipsecd ] && echo $_p
	done
}

# got NS PORT: datagrams received so far.
got() { wc -l <"$1-$2.recv"; }

# Two hosts A (192.0.2.1) and B (.2), IPv4 only, netipsecd in each.
pair4()
{
	mkns A
	mkns B
	for _n in A B; do
		in_ $_n sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	done
	link A vA B vB
	ip -n "$(ns A)" addr add 192.0.2.1/24 dev vA
	ip -n "$(ns B)" addr add 192.0.2.2/24 dev vB
	in_ A ping -c 1 -W 2 192.0.2.2 >/dev/null 2>&1
	daemon A vA
	daemon B vB
}

# require NS ME PEER: ESP required both ways between the two hosts.
require()
{
	cat >"$1.req" <<X
spdadd $2 $3 any -P out ipsec esp/transport//require;
spdadd $3 $2 any -P in ipsec esp/transport//require;
X
	keys "$1" "$1.req"
}

atf_test_case clear_ike_ports cleanup
clear_ike_ports_head()
{
	atf_set descr "a host requiring ESP takes nothing in clear from ports 500 or 4500 and sends nothing from them; a discard policy holds for port 4500"
	atf_set require.user root
}
clear_ike_ports_body()
{
	policy_init
	pair4
	# Control: without policies the datagram arrives.
	recv B 192.0.2.2 9999 30
	in_ A /usr/bin/python3 "$UDPTOOL" send 0.0.0.0 1234 192.0.2.2 9999 -n 1
	wait_for 3 sh -c "[ \$(wc -l <B-9999.recv) -ge 1 ]" ||
	    atf_fail "no datagram arrives even without policies"
	require B 192.0.2.2 192.0.2.1
	recv B 192.0.2.2 500 30
	recv B 192.0.2.2 4500 30
	capture B vB
	polvio=$(nstat B "inbound packets violated process security policy")
	for sport in 500 4500 1234; do
		in_ A /usr/bin/python3 "$UDPTOOL" send 0.0.0.0 $sport \
		    192.0.2.2 9999 -n 2
	done
	in_ A /usr/bin/python3 "$UDPTOOL" send 0.0.0.0 500 192.0.2.2 500 -n 2
	in_ A /usr/bin/python3 "$UDPTOOL" send 0.0.0.0 4500 192.0.2.2 4500 -n 2
	# And B itself sends nothing in clear from those ports.
	for sport in 500 4500; do
		in_ B /usr/bin/python3 "$UDPTOOL" send 0.0.0.0 $sport \
		    192.0.2.1 9999 -n 2
	done
	sleep 0.5
	capture_stop
	atf_check_equal 1 "$(got B 9999)"
	atf_check_equal 0 "$(got B 500)"
	atf_check_equal 0 "$(got B 4500)"
	n=$(nstat B "inbound packets violated process security policy")
	[ "$n" -ge $((polvio + 8)) ] ||
	    { cat stats.out; atf_fail "only $((n - polvio)) inbound refusals counted"; }
	n=$(tcpdump -n -r B-vB.pcap 'udp and src host 192.0.2.2' 2>/dev/null | wc -l)
	atf_check_equal 0 "$n"

	# A discard policy on A holds for a destination port of 4500.
	echo 'spdadd 192.0.2.1 192.0.2.2[4500] udp -P out discard;' >A.disc
	keys A A.disc
	o=$(nstat A "outbound packets violated process security policy")
	in_ A /usr/bin/python3 "$UDPTOOL" send 0.0.0.0 1234 192.0.2.2 4500 -n 2
	atf_check_equal $((o + 2)) \
	    "$(nstat A "outbound packets violated process security policy")"
}
clear_ike_ports_cleanup() { netns_cleanup; }

atf_test_case clear_through_gateway cleanup
clear_through_gateway_head()
{
	atf_set descr "gateways requiring a tunnel forward nothing in clear from ports 500 or 4500, either way"
	atf_set require.user root
}
clear_through_gateway_body()
{
	policy_init
	gateways
	gateways_spd require
	recv HB 10.2.0.2 9999 30
	capture GB gbo
	# Out: GA must not forward HA's datagrams in clear.
	for sport in 500 4500; do
		in_ HA /usr/bin/python3 "$UDPTOOL" send 0.0.0.0 $sport \
		    10.2.0.2 9999 -n 2
	done
	sleep 0.5
	n=$(tcpdump -n -r GB-gbo.pcap 'udp and dst host 10.2.0.2' 2>/dev/null |
	    wc -l)
	atf_check_equal 0 "$n"
	atf_check_equal 0 "$(got HB 9999)"
	# In: with GA's hook gone (an attacker on the path), GB refuses.
	p=$(nipid GA)
	kill "$p"
	wait_for 5 sh -c "! kill -0 $p 2>/dev/null"
	in_ GA "$NETIPSECD" -U >/dev/null || atf_fail "netipsecd -U in GA"
	polvio=$(nstat GB "inbound packets violated process security policy")
	for sport in 500 4500; do
		in_ HA /usr/bin/python3 "$UDPTOOL" send 0.0.0.0 $sport \
		    10.2.0.2 9999 -n 2
	done
	sleep 0.5
	capture_stop
	n=$(tcpdump -n -r GB-gbo.pcap 'udp and dst host 10.2.0.2' 2>/dev/null |
	    wc -l)
	[ "$n" -ge 4 ] || atf_fail "the clear datagrams did not reach GB ($n)"
	atf_check_equal 0 "$(got HB 9999)"
	n=$(nstat GB "inbound packets violated process security policy")
	[ "$n" -ge $((polvio + 4)) ] ||
	    { cat stats.out; atf_fail "GB counted $((n - polvio)) refusals"; }
}
clear_through_gateway_cleanup() { netns_cleanup; }

atf_test_case cross_tunnel cleanup
cross_tunnel_head()
{
	atf_set descr "peer X, with its own valid SA, cannot inject packets for peer Y's network into B (RFC 4301 5.2)"
	atf_set require.user root
}
cross_tunnel_body()
{
	policy_init
	mkns X; mkns Y; mkns B
	link X vX B vBX
	link Y vY B vBY
	ip -n "$(ns X)" addr add 192.0.2.1/24 dev vX
	ip -n "$(ns B)" addr add 192.0.2.2/24 dev vBX
	ip -n "$(ns Y)" addr add 198.51.100.1/24 dev vY
	ip -n "$(ns B)" addr add 198.51.100.2/24 dev vBY
	ip -n "$(ns B)" addr add 10.9.0.1/32 dev lo
	ip -n "$(ns X)" addr add 10.2.0.5/32 dev lo
	# X also claims Y's network: the attack.
	ip -n "$(ns X)" addr add 10.3.0.5/32 dev lo
	ip -n "$(ns Y)" addr add 10.3.0.6/32 dev lo
	ip -n "$(ns X)" route add 10.9.0.0/24 via 192.0.2.2
	ip -n "$(ns Y)" route add 10.9.0.0/24 via 198.51.100.2
	in_ X ping -c 1 -W 2 192.0.2.2 >/dev/null 2>&1
	in_ Y ping -c 1 -W 2 198.51.100.2 >/dev/null 2>&1
	daemon B vBX vBY
	daemon X vX
	daemon Y vY
	cat >B.conf <<X
add 192.0.2.1 192.0.2.2 esp 0x2001 -m tunnel -E aes-gcm-16 $KEY;
add 198.51.100.1 198.51.100.2 esp 0x3001 -m tunnel -E aes-gcm-16 $KEY;
spdadd 10.2.0.0/24 10.9.0.0/24 any -P in ipsec esp/tunnel/192.0.2.1-192.0.2.2/require;
spdadd 10.3.0.0/24 10.9.0.0/24 any -P in ipsec esp/tunnel/198.51.100.1-198.51.100.2/require;
X
	cat >X.conf <<X
add 192.0.2.1 192.0.2.2 esp 0x2001 -m tunnel -E aes-gcm-16 $KEY;
spdadd 10.2.0.5 10.9.0.1 any -P out ipsec esp/tunnel/192.0.2.1-192.0.2.2/require;
spdadd 10.3.0.5 10.9.0.1 any -P out ipsec esp/tunnel/192.0.2.1-192.0.2.2/require;
X
	cat >Y.conf <<X
add 198.51.100.1 198.51.100.2 esp 0x3001 -m tunnel -E aes-gcm-16 $KEY;
spdadd 10.3.0.6 10.9.0.1 any -P out ipsec esp/tunnel/198.51.100.1-198.51.100.2/require;
X
	keys B B.conf; keys X X.conf; keys Y Y.conf
	recv B 10.9.0.1 9999 30
	capture B vBX
	# Each peer's own network, through its own SA: taken.
	in_ X /usr/bin/python3 "$UDPTOOL" send 10.2.0.5 1000 10.9.0.1 9999 -n 2
	in_ Y /usr/bin/python3 "$UDPTOOL" send 10.3.0.6 1000 10.9.0.1 9999 -n 2
	wait_for 3 sh -c "[ \$(wc -l <B-9999.recv) -ge 4 ]" ||
	    { cat B-9999.recv; atf_fail "the peers' own traffic did not arrive"; }
	before=$(nstat B "inbound packets refused: not from an SA their policy names")
	# X speaks for Y's network through X's SA: refused.
	in_ X /usr/bin/python3 "$UDPTOOL" send 10.3.0.5 1000 10.9.0.1 9999 -n 3
	sleep 0.5
	capture_stop
	n=$(tcpdump -n -r B-vBX.pcap esp 2>/dev/null | wc -l)
	[ "$n" -ge 5 ] || atf_fail "X did not send its ESP ($n packets)"
	atf_check_equal 4 "$(got B 9999)"
	grep -q '10.3.0.5' B-9999.recv && atf_fail "B took X's packet for Y's network"
	atf_check_equal $((before + 3)) \
	    "$(nstat B "inbound packets refused: not from an SA their policy names")"
}
cross_tunnel_cleanup() { netns_cleanup; }

atf_test_case iked_bypass cleanup
iked_bypass_head()
{
	atf_set descr "iked's IKE passes a require-everything SPD by its sockets' bypass, shown by setkey -DP; its ports are its own while it runs (uid 65534, a second iked); the exemption ends with it"
	atf_set require.user root
}
iked_bypass_body()
{
	policy_init
	[ -x "$IKED" ] || atf_skip "iked not built"
	id nobody >/dev/null 2>&1 || atf_skip "no user nobody"
	IKEV=ikev2 founding 4 passive
	wait_for 10 in_ A ping -c 1 -W 1 192.0.2.2 ||
	    { logs; atf_fail "no ping through IKE's SAs"; }
	# Four sockets (IPv4 and IPv6, 500 and 4500), in and out each.
	setkey_ A -DP >spd.out
	n=$(grep -c 'scope=pcb' spd.out)
	[ "$n" = 8 ] || { cat spd.out; atf_fail "$n sockets' policies, not 8"; }
	# Bound to every address: the local side is 0.0.0.0/0 with the port.
	grep -q '^0\.0\.0\.0/0\[any\] 0\.0\.0\.0/0\[500\] udp' spd.out ||
	    { cat spd.out; atf_fail "no inbound policy of iked's port 500"; }
	grep -A1 '^0\.0\.0\.0/0\[4500\] 0\.0\.0\.0/0\[any\] udp' spd.out |
	    grep -q 'out bypass' || { cat spd.out; atf_fail "no out bypass on 4500"; }
	atf_check_equal 4 "$(nstat A "sockets with policies")"
	# Nobody else binds iked's ports while it runs.
	in_ A setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    /usr/bin/python3 "$UDPTOOL" bind 500 4500 >bind.out
	cat bind.out
	[ "$(grep -c ' ok$' bind.out)" = 0 ] || atf_fail "uid 65534 bound an IKE port"
	[ "$(grep -c '^4500 .* EADDRINUSE$' bind.out)" = 3 ] ||
	    atf_fail "port 4500 not refused as in use"
	# Nor does a second iked.
	PFKEY_SOCKET="$PWD/A.sock" in_ A "$IKED" -d -s "$PWD/A2.ctl" \
	    -f A.conf >A2.log 2>&1 &&
	    { cat A2.log; atf_fail "a second iked started"; }
	grep -q 'in use: is another iked running' A2.log ||
	    { cat A2.log; atf_fail "no clear message for a second iked"; }
	# iked stops: its exemption goes, and port 500 is no longer exempt.
	kill "$(cat A.iked.pid)"
	wait_for 5 sh -c "! kill -0 $(cat A.iked.pid) 2>/dev/null"
	wait_for 3 sh -c "[ \$(ip netns exec $(ns A) $NETIPSECD -S -s $PWD/A.sock |
	    awk '/sockets with policies/ { print \$1 }') = 0 ]" ||
	    { in_ A "$NETIPSECD" -S -s "$PWD/A.sock"; atf_fail "iked's policies outlived it"; }
	setkey_ A -DP | grep -q 'scope=pcb' && atf_fail "setkey -DP still shows them"
	recv B 192.0.2.2 9999 30
	in_ A /usr/bin/python3 "$UDPTOOL" send 0.0.0.0 500 192.0.2.2 9999 -n 2
	sleep 0.5
	atf_check_equal 0 "$(got B 9999)"
}
iked_bypass_cleanup() { netns_cleanup; }

atf_test_case preload_setsockopt cleanup
preload_setsockopt_head()
{
	atf_set descr "an unmodified program's setsockopt(IP_IPSEC_POLICY) bypass, before or after bind, through libpfkey_preload.so; others stay under the SPD; getsockopt reads it back; closing ends it"
	atf_set require.user root
}
preload_setsockopt_body()
{
	policy_init
	[ -f "$PRELOAD" ] || atf_fail "libpfkey_preload.so not built"
	pair4
	require A 192.0.2.1 192.0.2.2
	require B 192.0.2.2 192.0.2.1
	export LD_PRELOAD="$PRELOAD"
	PFKEY_SOCKET="$PWD/B.sock" recv B 192.0.2.2 9999 30 "-b before"
	PFKEY_SOCKET="$PWD/A.sock" in_ A /usr/bin/python3 "$UDPTOOL" send \
	    0.0.0.0 7000 192.0.2.2 9999 -n 2 -b before ||
	    atf_fail "setsockopt before bind failed"
	PFKEY_SOCKET="$PWD/A.sock" in_ A /usr/bin/python3 "$UDPTOOL" send \
	    0.0.0.0 7001 192.0.2.2 9999 -n 2 -b after ||
	    atf_fail "setsockopt after bind failed"
	# A socket without a policy, in the same program's environment.
	PFKEY_SOCKET="$PWD/A.sock" in_ A /usr/bin/python3 "$UDPTOOL" send \
	    0.0.0.0 7002 192.0.2.2 9999 -n 2
	PFKEY_SOCKET="$PWD/A.sock" in_ A /usr/bin/python3 "$UDPTOOL" getpol \
	    0.0.0.0 7003 >getpol.out || atf_fail "getsockopt failed"
	unset LD_PRELOAD
	sleep 0.5
	cat B-9999.recv
	atf_check_equal 4 "$(got B 9999)"
	grep -q '^udptool 7002' B-9999.recv && atf_fail "a socket without a policy passed"
	atf_check_equal "4 3" "$(cat getpol.out)"
	# The programs are gone, and so are their sockets' policies.
	wait_for 3 sh -c "[ \$(ip netns exec $(ns A) $NETIPSECD -S -s $PWD/A.sock |
	    awk '/sockets with policies/ { print \$1 }') = 0 ]" ||
	    atf_fail "closed sockets kept their policies"
}
preload_setsockopt_cleanup() { netns_cleanup; }

atf_test_case stop_fails_closed cleanup
stop_fails_closed_head()
{
	atf_set descr "pings during and after SIGTERM, then SIGINT, of netipsecd: only ESP or nothing on the wire, and no reply"
	atf_set require.user root
}
stop_fails_closed_body()
{
	policy_init
	pair4
	for s in A B; do
		if [ $s = A ]; then me=192.0.2.1 peer=192.0.2.2; else me=192.0.2.2 peer=192.0.2.1; fi
		cat >$s.conf <<X
add 192.0.2.1 192.0.2.2 esp 0x1001 -m transport -E aes-gcm-16 $KEY;
add 192.0.2.2 192.0.2.1 esp 0x1002 -m transport -E aes-gcm-16 $KEY;
spdadd $me $peer any -P out ipsec esp/transport//require;
spdadd $peer $me any -P in ipsec esp/transport//require;
X
		keys $s $s.conf
	done
	atf_check -o ignore ip netns exec "$(ns A)" ping -c 1 -W 2 192.0.2.2
	apid=$(nipid A)
	[ -n "$apid" ] || atf_fail "no netipsecd in A"
	capture B vB
	for sig in TERM INT; do
		in_ A ping -i 0.05 -c 40 -W 1 192.0.2.2 >ping.$sig 2>&1 &
		p=$!
		sleep 0.7
		kill -$sig "$apid"
		wait_for 5 sh -c "! kill -0 $apid 2>/dev/null" ||
		    atf_fail "netipsecd did not stop on SIG$sig"
		wait $p
		cat ping.$sig
		grep -q ' 0% packet loss' ping.$sig &&
		    atf_fail "pings answered after SIG$sig"
		if in_ A ping -c 2 -W 1 192.0.2.2 >/dev/null 2>&1; then
			atf_fail "a ping passed after SIG$sig"
		fi
		# Back, for the next signal: its rules replace the old ones.
		daemon A vA
		apid=$(nipid A)
		keys A A.conf
		atf_check -o ignore ip netns exec "$(ns A)" ping -c 1 -W 2 192.0.2.2
		n=$({ in_ A iptables -t mangle -S OUTPUT; } | grep -c NETIPSEC)
		atf_check_equal 1 "$n"
	done
	capture_stop
	n=$(tcpdump -n -r B-vB.pcap esp 2>/dev/null | wc -l)
	[ "$n" -ge 20 ] || atf_fail "only $n ESP packets captured"
	n=$(tcpdump -n -r B-vB.pcap 'src host 192.0.2.1 and not esp and not arp' \
	    2>/dev/null | wc -l)
	atf_check_equal 0 "$n"
}
stop_fails_closed_cleanup() { netns_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case clear_ike_ports
	atf_add_test_case clear_through_gateway
	atf_add_test_case cross_tunnel
	atf_add_test_case iked_bypass
	atf_add_test_case preload_setsockopt
	atf_add_test_case stop_fails_closed
}
