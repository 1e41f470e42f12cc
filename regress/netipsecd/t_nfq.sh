# regress/netipsecd: netipsecd -i, the netfilter-queue hook (atf-sh, as
# root).  Two network namespaces A and B joined by a veth pair
# (192.0.2.1-2/24, 2001:db8::1-2/64); netipsecd runs in A with -i vethA.
# Traffic comes from nettool.py (raw-socket ping, TCP, UDP).
#
# Two daemons: sbin/netipsecd/netipsecd with the real IPsec layer, and
# t_netipsecd, the same objects linked with testhook.c, a test-only layer
# whose verdict is chosen by the packet's TOS (see testhook.c).

TOP=
nfq_init()
{
	TOP="$(atf_get_srcdir)/../.."
	NETIPSECD="${NETIPSECD:-$TOP/sbin/netipsecd/netipsecd}"
	TESTD="$(atf_get_srcdir)/t_netipsecd"
	SETKEY="$TOP/sbin/setkey/setkey"
	NETTOOL="$(atf_get_srcdir)/nettool.py"
	[ "$(id -u)" = 0 ] || atf_skip "needs root (network namespaces)"
	for p in ip /usr/sbin/iptables /usr/sbin/ip6tables /usr/bin/python3; do
		command -v "$p" >/dev/null 2>&1 ||
		    atf_skip "$p is not installed"
	done
	[ -x "$NETIPSECD" ] || atf_fail "netipsecd not built at $NETIPSECD"
	[ -x "$TESTD" ] || atf_fail "t_netipsecd not built at $TESTD"
	A="nfqA$$"
	B="nfqB$$"
	echo "$A $B" >netns.names
	ip netns add "$A" || atf_skip "cannot create network namespaces"
	ip netns add "$B" || atf_fail "ip netns add $B"
	ip link add vethA netns "$A" type veth peer name vethB netns "$B" ||
	    atf_fail "cannot create a veth pair"
	if [ "${1:-}" = v4only ]; then
		# No IPv6 chatter (MLD, router solicitations) in the counters.
		ip netns exec "$A" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip netns exec "$B" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	fi
	ip -n "$A" addr add 192.0.2.1/24 dev vethA
	ip -n "$B" addr add 192.0.2.2/24 dev vethB
	if [ "${1:-}" != v4only ]; then
		ip -n "$A" addr add 2001:db8::1/64 dev vethA nodad
		ip -n "$B" addr add 2001:db8::2/64 dev vethB nodad
	fi
	for ns in "$A" "$B"; do
		ip -n "$ns" link set lo up
	done
	ip -n "$A" link set vethA up
	ip -n "$B" link set vethB up
	# The first IPv6 exchange right after link-up may be lost (even
	# without netipsecd): wait until the path works, before any hook.
	if [ "${1:-}" != v4only ]; then
		i=0
		until inA /usr/bin/python3 "$NETTOOL" ping -c 1 -w 0.3 \
		    2001:db8::2 >/dev/null 2>&1; do
			i=$((i + 1)); [ $i -lt 20 ] || atf_fail "no IPv6 between A and B"
		done
	fi
}

nfq_cleanup()
{
	if [ -f netipsecd.pid ]; then
		kill -9 "$(cat netipsecd.pid)" 2>/dev/null
		rm -f netipsecd.pid
	fi
	if [ -f sink.pids ]; then
		kill $(cat sink.pids) 2>/dev/null
		rm -f sink.pids
	fi
	if [ -f netns.names ]; then
		for ns in $(cat netns.names); do
			ip netns del "$ns" 2>/dev/null
		done
	fi
	return 0
}

inA() { ip netns exec "$A" "$@"; }
inB() { ip netns exec "$B" "$@"; }

# start daemon args...: run it in A on a socket in the work directory,
# wait until its control socket answers.
start()
{
	DAEMON="$1"
	shift
	ip netns exec "$A" "$DAEMON" -d -v -s "$PWD/pfkey.sock" "$@" \
	    >>netipsecd.log 2>&1 &
	echo $! >netipsecd.pid
	i=0
	until inA "$DAEMON" -S -s "$PWD/pfkey.sock" >/dev/null 2>&1; do
		if ! kill -0 "$(cat netipsecd.pid)" 2>/dev/null; then
			cat netipsecd.log
			atf_fail "netipsecd exited at start"
		fi
		i=$((i + 1))
		[ $i -lt 500 ] || { cat netipsecd.log; atf_fail "netipsecd did not start"; }
		sleep 0.02
	done
}

# stop: SIGTERM, exit 0 within 10 s.
stop()
{
	pid=$(cat netipsecd.pid)
	kill -TERM "$pid"
	i=0
	while kill -0 "$pid" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 500 ] || atf_fail "netipsecd did not exit on SIGTERM"
		sleep 0.02
	done
	wait "$pid"
	status=$?
	rm -f netipsecd.pid
	[ $status = 0 ] || { cat netipsecd.log; atf_fail "netipsecd exited $status after SIGTERM"; }
}

crash()
{
	pid=$(cat netipsecd.pid)
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	rm -f netipsecd.pid
}

# stat "text": the counter on the -S line that ends in that text.
stat()
{
	inA "$DAEMON" -S -s "$PWD/pfkey.sock" >stats.out ||
	    atf_fail "netipsecd -S failed"
	awk -v t="$1" 'index($0, t) && substr($0, length($0) - length(t) + 1) == t { print $1; exit }' stats.out
}

# expect_stat op value "text"
expect_stat()
{
	v=$(stat "$3")
	[ -n "$v" ] || { cat stats.out; atf_fail "no counter \"$3\" in -S"; }
	[ "$v" "$1" "$2" ] || { cat stats.out; atf_fail "\"$3\" is $v, expected $1 $2"; }
}

ping_ok()
{
	inA /usr/bin/python3 "$NETTOOL" ping "$@" >ping.out 2>&1 ||
	    { cat ping.out; atf_fail "ping $* failed"; }
}

ping_fails()
{
	if inA /usr/bin/python3 "$NETTOOL" ping -c 2 -w 0.5 "$@" >ping.out 2>&1; then
		cat ping.out
		atf_fail "ping $* got through"
	fi
}

ourchains()
{
	{ inA iptables -t mangle -S; inA ip6tables -t mangle -S; } |
	    grep -c NETIPSEC
}

tc()
{
	eval "descr_$1=\$2"
	eval "
	atf_test_case $1 cleanup
	$1_head() { atf_set descr \"\$descr_$1\"; atf_set timeout 120; atf_set require.user root; }
	$1_cleanup() { nfq_cleanup; }
	"
}

tc pass_empty_spd "empty SPD: ping (v4, v6) and a TCP transfer pass through the queue, counted"
pass_empty_spd_body()
{
	nfq_init
	start "$NETIPSECD" -i vethA
	ping_ok -c 3 192.0.2.2
	ping_ok -c 3 2001:db8::2
	inB /usr/bin/python3 "$NETTOOL" tcpserve 192.0.2.2 5001 >recv.out 2>serve.err &
	spid=$!
	i=0
	until grep -q ready serve.err 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 250 ] || atf_fail "TCP server did not start"
		sleep 0.02
	done
	inA /usr/bin/python3 "$NETTOOL" tcpsend 192.0.2.2 5001 8000000 >send.out 2>send.err ||
	    { cat send.err; atf_fail "TCP transfer failed"; }
	wait $spid
	cat send.err >&2
	[ -s recv.out ] && cmp -s send.out recv.out ||
	    atf_fail "TCP: sent $(cat send.out), received $(cat recv.out)"
	expect_stat -ge 3000 "packets queued at output"
	expect_stat -ge 100 "packets queued at input"
	expect_stat -ge 3100 "passed unmodified"
	expect_stat -eq 0 "dropped by the layer"
	expect_stat -ge 3000 "outbound packets looked at"
	expect_stat -eq 0 "dropped by the kernel: queue full"
	stop
}

tc rules "rules in NETIPSEC<queue> chains for iptables and ip6tables, none by port; they stay after SIGTERM until -U"
rules_body()
{
	nfq_init
	start "$NETIPSECD" -i vethA -i vethX -o netipsecd.queue=7
	for cmd in iptables ip6tables; do
		inA $cmd -t mangle -S >rules.out
		for r in "-A OUTPUT -j NETIPSEC7-OUT" \
		    "-A PREROUTING -j NETIPSEC7-IN" \
		    "-A FORWARD -j NETIPSEC7-FWD" \
		    "-A NETIPSEC7-OUT -o vethA -j NFQUEUE --queue-num 7" \
		    "-A NETIPSEC7-OUT -o vethX -j NFQUEUE --queue-num 7" \
		    "-A NETIPSEC7-IN -i vethA -j NFQUEUE --queue-num 7" \
		    "-A NETIPSEC7-FWD -o vethA -j NFQUEUE --queue-num 7" \
		    "-A NETIPSEC7-OUT -o vethA -m mark --mark 0x4e495053 -j RETURN"; do
			grep -qx -- "$r" rules.out ||
			    { cat rules.out; atf_fail "$cmd: no rule $r"; }
		done
		# Nothing is exempt by port: IKE passes by its sockets'
		# policy; the kernel's shortcut for them is the mark of a
		# socket that bypasses outbound.  Nothing looks sockets up
		# (-m socket), which would reassemble fragments in the kernel.
		grep -q -- "-A NETIPSEC7-OUT -o vethA -m mark --mark 0x4e495054 -j RETURN" \
		    rules.out || atf_fail "$cmd: no shortcut for bypass sockets"
		if grep -E -- "--[sd]port|-m socket|-m u32" rules.out; then
			atf_fail "$cmd: a port is exempt from the queue"
		fi
		grep -q -- "bypass" rules.out &&
		    atf_fail "$cmd: --queue-bypass would fail open"
	done
	grep -q "rules: /usr/sbin/iptables-restore -w --noflush" netipsecd.log ||
	    atf_fail "the commands are not logged with -v"
	stop
	# Fail closed: the hook stays, until the admin removes it.
	[ "$(ourchains)" -gt 0 ] || atf_fail "rules removed by SIGTERM"
	grep -q "the hook stays" netipsecd.log ||
	    atf_fail "the stop does not say the hook stays"
	inA "$NETIPSECD" -U -o netipsecd.queue=7 >unhook.out ||
	    atf_fail "netipsecd -U failed: $(cat unhook.out)"
	grep -q "rules removed" unhook.out || atf_fail "-U: $(cat unhook.out)"
	[ "$(ourchains)" = 0 ] || atf_fail "rules left after -U"
	if inA "$NETIPSECD" -U -o netipsecd.queue=7 >unhook.out; then
		atf_fail "-U without rules exited 0"
	fi
	grep -q "no rules" unhook.out || atf_fail "-U again: $(cat unhook.out)"
}

tc stale_chains "a killed run's chains are replaced, not doubled, by the next start"
stale_chains_body()
{
	nfq_init
	start "$NETIPSECD" -i vethA
	crash
	[ "$(ourchains)" -gt 0 ] || atf_fail "no chains left by SIGKILL?"
	start "$NETIPSECD" -i vethA
	n=$(inA iptables -t mangle -S OUTPUT | grep -c -- "-j NETIPSEC0-OUT")
	[ "$n" = 1 ] || atf_fail "$n jumps to NETIPSEC0-OUT after restart"
	n=$(inA ip6tables -t mangle -S NETIPSEC0-OUT | grep -c NFQUEUE)
	[ "$n" = 1 ] || atf_fail "$n NFQUEUE rules in ip6tables NETIPSEC0-OUT"
	ping_ok -c 2 192.0.2.2
	stop
	start "$NETIPSECD" -i vethA
	n=$(inA iptables -t mangle -S OUTPUT | grep -c -- "-j NETIPSEC0-OUT")
	[ "$n" = 1 ] || atf_fail "$n jumps to NETIPSEC0-OUT after a stop"
	stop
	inA "$NETIPSECD" -U >/dev/null || atf_fail "netipsecd -U failed"
	[ "$(ourchains)" = 0 ] || atf_fail "rules left after -U"
}

tc sigterm_closed "after SIGTERM or SIGINT nothing passes until netipsecd runs again"
sigterm_closed_body()
{
	nfq_init
	for sig in TERM INT; do
		start "$NETIPSECD" -i vethA
		ping_ok -c 2 192.0.2.2
		ping_ok -c 2 2001:db8::2
		pid=$(cat netipsecd.pid)
		kill -$sig "$pid"
		wait "$pid"
		rm -f netipsecd.pid
		ping_fails 192.0.2.2
		ping_fails 2001:db8::2
		if inB /usr/bin/python3 "$NETTOOL" ping -c 2 -w 0.5 192.0.2.1 \
		    >ping.out 2>&1; then
			atf_fail "B's ping reached A after SIG$sig"
		fi
	done
	start "$NETIPSECD" -i vethA
	ping_ok -c 2 192.0.2.2
	stop
}

tc fail_closed "after SIGKILL the rules stay and the queue drops: no packet passes"
fail_closed_body()
{
	nfq_init
	start "$NETIPSECD" -i vethA
	ping_ok -c 2 192.0.2.2
	ping_ok -c 2 2001:db8::2
	crash
	ping_fails 192.0.2.2
	ping_fails 2001:db8::2
	# And inbound: B's packets to A do not get in either.
	if inB /usr/bin/python3 "$NETTOOL" ping -c 2 -w 0.5 192.0.2.1 >ping.out 2>&1; then
		atf_fail "B's ping reached A without netipsecd"
	fi
	start "$NETIPSECD" -i vethA
	ping_ok -c 2 192.0.2.2
	stop
}

tc no_port_exemption "UDP from and to ports 500 and 4500 is queued like any other"
no_port_exemption_body()
{
	nfq_init v4only
	# Listeners: no ICMP port unreachable to count.
	for ns in "$A" "$B"; do
		ip netns exec "$ns" /usr/bin/python3 "$NETTOOL" sink 500 4500 \
		    >sink.$ns 2>&1 &
		echo $! >>sink.pids
	done
	start "$NETIPSECD" -i vethA
	for ns in "$A" "$B"; do
		i=0
		until grep -q ready sink.$ns; do
			i=$((i + 1)); [ $i -lt 250 ] || atf_fail "UDP sink did not start"
			sleep 0.02
		done
	done
	sleep 0.2
	out0=$(stat "packets queued at output")
	in0=$(stat "packets queued at input")
	inA /usr/bin/python3 "$NETTOOL" udp 192.0.2.2 500 -s 500
	inA /usr/bin/python3 "$NETTOOL" udp 192.0.2.2 4500 -s 4500
	inA /usr/bin/python3 "$NETTOOL" udp 192.0.2.2 500 -s 5555
	inB /usr/bin/python3 "$NETTOOL" udp 192.0.2.1 500 -s 500
	inB /usr/bin/python3 "$NETTOOL" udp 192.0.2.1 4500 -s 4500
	sleep 0.2
	expect_stat -eq $((out0 + 3)) "packets queued at output"
	expect_stat -eq $((in0 + 2)) "packets queued at input"
	stop
	kill $(cat sink.pids)
	rm -f sink.pids
}

tc verdicts "PASS, REPLACE, DROP, HELD then sent or dropped, family change (test layer)"
verdicts_body()
{
	nfq_init
	start "$TESTD" -i vethA
	ping_ok -c 2 192.0.2.2
	expect_stat -eq 0 "replaced"
	ping_ok -c 2 -t 0x08 192.0.2.2
	ping_ok -c 2 -t 0x08 2001:db8::2
	expect_stat -ge 8 "replaced"
	ping_fails -t 0x04 192.0.2.2
	ping_fails -t 0x04 2001:db8::2
	expect_stat -ge 4 "dropped by the layer"
	ping_ok -c 2 -w 2 -t 0x0c 192.0.2.2
	expect_stat -ge 4 "held, then sent"
	ping_fails -t 0x10 192.0.2.2
	sleep 0.3
	expect_stat -ge 2 "held, then dropped"
	ping_fails -t 0x14 192.0.2.2
	ping_fails -t 0x14 2001:db8::2
	expect_stat -ge 4 "dropped: address family changed"
	expect_stat -eq 0 "netlink errors (receive 0, send 0, error messages 0)"
	expect_stat -eq 0 "packets waiting in the kernel"
	stop
}

tc spd_policies "the real layer: a discard policy drops pings (counted), none passes them"
spd_policies_body()
{
	nfq_init
	[ -x "$SETKEY" ] || atf_fail "setkey not built at $SETKEY"
	start "$NETIPSECD" -i vethA
	PFKEY_SOCKET="$PWD/pfkey.sock"
	export PFKEY_SOCKET
	ping_ok -c 2 192.0.2.2
	echo "spdadd 192.0.2.1 192.0.2.2 any -P out discard;" >discard.conf
	atf_check -s exit:0 "$SETKEY" -f discard.conf
	ping_fails 192.0.2.2
	expect_stat -ge 2 "dropped by the layer"
	expect_stat -ge 2 "outbound packets violated process security policy"
	printf 'spdflush;\nspdadd 192.0.2.1 192.0.2.2 any -P out none;\n' >none.conf
	atf_check -s exit:0 "$SETKEY" -f none.conf
	ping_ok -c 2 192.0.2.2
	stop
}

tc stats_errors "-S with no daemon, or with -i: exit 1 with a message"
stats_errors_body()
{
	TOP="$(atf_get_srcdir)/../.."
	NETIPSECD="${NETIPSECD:-$TOP/sbin/netipsecd/netipsecd}"
	atf_check -s exit:1 -e match:"is netipsecd running" \
	    "$NETIPSECD" -S -s "$PWD/none.sock"
	atf_check -s exit:1 -e match:usage "$NETIPSECD" -S -i eth0
	atf_check -s exit:1 -e match:"bad interface name" \
	    "$NETIPSECD" -d -s "$PWD/x.sock" -i "a/b"
}

atf_init_test_cases()
{
	atf_add_test_case pass_empty_spd
	atf_add_test_case rules
	atf_add_test_case stale_chains
	atf_add_test_case fail_closed
	atf_add_test_case no_port_exemption
	atf_add_test_case sigterm_closed
	atf_add_test_case verdicts
	atf_add_test_case spd_policies
	atf_add_test_case stats_errors
}
