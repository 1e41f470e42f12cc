# iked's privilege separation (iked.8, PROCESSES) as a user would check
# it from /proc: the parent is root and the only process with PF_KEY;
# the IKE engine runs as _iked, chrooted to its empty home, without
# capabilities, files or PF_KEY, and still negotiates; when one of the
# two dies the other follows with a line in the log and the kernel's SAs
# stay; TERM ends both and deletes our SAs; -X runs one process.  And
# netipsecd -u: the layer as an unprivileged user with CAP_NET_ADMIN.

IKEV=ikev2

. "$(atf_get_srcdir)/../lib/netns.subr"
. "$(atf_get_srcdir)/../lib/ike.subr"

# status PID FIELD: a line of /proc/PID/status without its name.
status()
{
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr -s ' \t' ' '
}

# child NAME: A's iked child process whose comm is iked-NAME (the
# engine, the ca process), or fail.
child()
{
	_e=$(iked_pids A.iked.pid | sed 1d | while read -r _c; do
	    [ "$(cat /proc/"$_c"/comm 2>/dev/null)" = "iked-$1" ] &&
	    echo "$_c"; done)
	[ "$(echo "$_e" | wc -w)" -eq 1 ] ||
	    { logs; atf_fail "A's iked has not one iked-$1 child but: '$_e'"; }
	echo "$_e"
}
engine() { child engine; }

# sockinodes PID: the inodes of PID's sockets.
sockinodes()
{
	for _f in /proc/"$1"/fd/*; do
		readlink "$_f"
	done | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p' | sort
}

# pfkey_peers: the inodes of the clients connected to A's netipsecd's
# PF_KEY socket (the other ends of its accepted connections).
pfkey_peers()
{
	in_ A ss -xpn | awk -v path="$PWD/A.sock" \
	    '$5 == path && $8 != "*" && $8 != "0" { print $8 }' | sort
}

up()
{
	ike_init
	id _iked >/dev/null 2>&1 ||
	    atf_skip "no user _iked (make deps creates it: mk/user.sh)"
	founding 4 passive
	in_ A ping -c 1 -W 5 192.0.2.2 >/dev/null ||
	    { logs; atf_fail "the first ping was not answered"; }
	atf_check_equal 2 "$(mature A)"
}

atf_test_case processes cleanup
processes_head()
{
	atf_set "descr" "The parent is root with PF_KEY; the engine and the ca process are _iked in their chroot, without capabilities, files or PF_KEY; the ca one has no network socket; the pair negotiates"
	atf_set "require.user" "root"
	atf_set "require.progs" "ss"
}
processes_body()
{
	up
	p=$(cat A.iked.pid)
	e=$(engine)
	uid=$(id -u _iked)
	gid=$(id -g _iked)
	home=$(getent passwd _iked | cut -d: -f6)

	atf_check_equal "0 0 0 0" "$(status "$p" Uid)"
	atf_check_equal "$uid $uid $uid $uid" "$(status "$e" Uid)"
	atf_check_equal "$gid $gid $gid $gid" "$(status "$e" Gid)"
	atf_check_equal "$gid" "$(status "$e" Groups | tr -d ' ')"
	atf_check_equal 0000000000000000 "$(status "$e" CapEff)"
	atf_check_equal 0000000000000000 "$(status "$e" CapPrm)"
	atf_check_equal / "$(readlink /proc/"$p"/root)"
	# AddressSanitizer's leak check needs /proc: no chroot there.
	grep -q 'not chrooted under AddressSanitizer' A.iked.log ||
	    atf_check_equal "$home" "$(readlink /proc/"$e"/root)"
	atf_check_equal 0 "$(status "$e" TracerPid)"
	atf_check_equal 1 "$(status "$e" NoNewPrivs)"
	# The seccomp filter (mode 2), unless iked says it has none.
	grep -q 'no seccomp filter' A.iked.log ||
	    atf_check_equal 2 "$(status "$e" Seccomp)"

	# PF_KEY: one connection to netipsecd, the parent's, none the
	# engine's (what else talks to it here: nothing, setkey is done).
	pfkey_peers >peers
	sockinodes "$p" >psocks
	sockinodes "$e" >esocks
	atf_check_equal 1 "$(comm -12 peers psocks | wc -l)"
	atf_check_equal 0 "$(comm -12 peers esocks | wc -l)"

	# The engine holds the IKE sockets; no file but its stdio (the
	# log, with -d).
	in_ A ss -uapn | grep ':500 ' | grep -q "pid=$e," ||
	    { in_ A ss -uapn; atf_fail "the engine does not hold UDP 500"; }
	for f in /proc/"$e"/fd/*; do
		n=${f##*/}
		[ "$n" -le 2 ] && continue
		case $(readlink "$f") in
		socket:*|pipe:*|anon_inode:*) ;;
		*)	ls -l /proc/"$e"/fd; atf_fail "the engine holds a file: $(readlink "$f")" ;;
		esac
	done

	# The ca process: the same confinement, and no socket but its two
	# channels (the parent's, the engine's).
	c=$(child ca)
	atf_check_equal 3 "$(iked_pids A.iked.pid | wc -l)"
	atf_check_equal "$uid $uid $uid $uid" "$(status "$c" Uid)"
	atf_check_equal "$gid $gid $gid $gid" "$(status "$c" Gid)"
	atf_check_equal 0000000000000000 "$(status "$c" CapEff)"
	atf_check_equal 1 "$(status "$c" NoNewPrivs)"
	grep -q 'not chrooted under AddressSanitizer' A.iked.log ||
	    atf_check_equal "$home" "$(readlink /proc/"$c"/root)"
	grep -q 'no seccomp filter' A.iked.log ||
	    atf_check_equal 2 "$(status "$c" Seccomp)"
	sockinodes "$c" >csocks
	atf_check_equal 2 "$(wc -l <csocks)"
	atf_check_equal 0 "$(comm -12 peers csocks | wc -l)"
	in_ A ss -uapn | grep -q "pid=$c," &&
	    { in_ A ss -uapn; atf_fail "the ca process holds a UDP socket"; }
	for f in /proc/"$c"/fd/*; do
		n=${f##*/}
		[ "$n" -le 2 ] && continue
		case $(readlink "$f") in
		socket:*) ;;
		*)	ls -l /proc/"$c"/fd; atf_fail "the ca process holds: $(readlink "$f")" ;;
		esac
	done

	# ikectl talks to the engine through the socket the parent bound.
	atf_check -s exit:0 -o match:'^sa ".*": ikev2 ' -o match:'child in 0x' \
	    "$TOP/sbin/ikectl/ikectl" -s "$PWD/A.iked.ctl" show sa
	grep -q 'iked started: .*(IKE engine)' A.iked.log ||
	    { logs; atf_fail "no start line from the engine"; }
}
processes_cleanup() { netns_cleanup; }

atf_test_case engine_dies cleanup
engine_dies_head()
{
	atf_set "descr" "The engine killed: the parent logs it and exits 1, removes the control socket, leaves the kernel's SAs"
	atf_set "require.user" "root"
}
engine_dies_body()
{
	up
	p=$(cat A.iked.pid)
	kill -KILL "$(engine)"
	wait_for 5 gone "$p" || { logs; atf_fail "the parent outlived its engine"; }
	grep -q 'the IKE engine was killed by signal 9; iked exiting' A.iked.log ||
	    { logs; atf_fail "no line about the engine's death"; }
	[ -e A.iked.ctl ] && atf_fail "the control socket file is left"
	atf_check_equal 2 "$(mature A)"
}
engine_dies_cleanup() { netns_cleanup; }

atf_test_case ca_dies cleanup
ca_dies_head()
{
	atf_set "descr" "The ca process killed: the parent logs it and exits 1, the engine follows, the kernel's SAs stay"
	atf_set "require.user" "root"
}
ca_dies_body()
{
	up
	p=$(cat A.iked.pid)
	e=$(engine)
	kill -KILL "$(child ca)"
	wait_for 5 gone "$p" "$e" || { logs; atf_fail "iked outlived its ca process"; }
	grep -q 'the authentication process was killed by signal 9; iked exiting' A.iked.log ||
	    { logs; atf_fail "no line about the ca process's death"; }
	atf_check_equal 2 "$(mature A)"
}
ca_dies_cleanup() { netns_cleanup; }

atf_test_case parent_dies cleanup
parent_dies_head()
{
	atf_set "descr" "The parent killed: the engine logs it and exits, the kernel's SAs stay"
	atf_set "require.user" "root"
}
parent_dies_body()
{
	up
	e=$(engine)
	kill -KILL "$(cat A.iked.pid)"
	wait_for 5 gone "$e" || { logs; atf_fail "the engine outlived its parent"; }
	grep -q 'engine: the parent process is gone; exiting' A.iked.log ||
	    { logs; atf_fail "no line about the parent's death"; }
	atf_check_equal 2 "$(mature A)"
}
parent_dies_cleanup() { netns_cleanup; }

atf_test_case term cleanup
term_head()
{
	atf_set "descr" "TERM to the parent: the engine deletes our SAs through it and tells B, then both exit 0"
	atf_set "require.user" "root"
}
term_body()
{
	up
	p=$(cat A.iked.pid)
	e=$(engine)
	kill -TERM "$p"
	wait_for 10 gone "$p" "$e" || { logs; atf_fail "iked did not exit"; }
	wait "$p" 2>/dev/null
	grep -q 'iked exiting' A.iked.log || { logs; atf_fail "no exit line"; }
	grep -q 'IKE engine exiting' A.iked.log ||
	    { logs; atf_fail "the engine did not end cleanly"; }
	atf_check_equal 0 "$(mature A)"
	wait_for 5 sh -c "[ \$(PFKEY_SOCKET=$PWD/B.sock ip netns exec $(ns B) $SETKEY -D | grep -c state=mature) = 0 ]" ||
	    { logs; atf_fail "B kept the SAs: no DELETE came"; }
	grep -q 'refused' A.iked.log && { logs; atf_fail "the parent refused one of the engine's requests"; }
	return 0
}
term_cleanup() { netns_cleanup; }

atf_test_case nosep cleanup
nosep_head()
{
	atf_set "descr" "-X: one root process, said in the log, that negotiates as the separated one does"
	atf_set "require.user" "root"
}
nosep_body()
{
	ike_init
	IKED_FLAGS="-vv -X"
	founding 4 passive
	in_ A ping -c 1 -W 5 192.0.2.2 >/dev/null ||
	    { logs; atf_fail "the first ping was not answered"; }
	atf_check_equal 2 "$(mature A)"
	atf_check_equal "" "$(iked_pids A.iked.pid | sed 1d)"
	grep -q 'running without privilege separation' A.iked.log ||
	    { logs; atf_fail "-X is not in the log"; }
}
nosep_cleanup() { netns_cleanup; }

atf_test_case netipsecd_user cleanup
netipsecd_user_head()
{
	atf_set "descr" "netipsecd -u nobody: the unprivileged layer with CAP_NET_ADMIN only still serves PF_KEY, the hook and iked's separated negotiation"
	atf_set "require.user" "root"
}
netipsecd_user_body()
{
	id nobody >/dev/null 2>&1 || atf_skip "no user nobody"
	DAEMON_OPTS="-u nobody"
	up
	in_ A ping -c 3 -i 0.2 -W 2 192.0.2.2 >/dev/null ||
	    { logs; atf_fail "pings through the SAs failed"; }
	n=""
	for q in $(ip netns pids "$(ns A)"); do
		[ "$(cat /proc/"$q"/comm 2>/dev/null)" = netipsecd ] && n=$q
	done
	[ -n "$n" ] || atf_fail "no netipsecd in A"
	u=$(id -u nobody)
	atf_check_equal "$u $u $u $u" "$(status "$n" Uid)"

	grep -q 'running as nobody (uid [0-9]*) with CAP_NET_ADMIN only' A.log ||
	    { cat A.log; atf_fail "no line about the user"; }
	# Root's setkey still talks to it: the SAs of the pings.
	atf_check_equal 2 "$(mature A)"
}
netipsecd_user_cleanup() { netns_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case netipsecd_user
	atf_add_test_case processes
	atf_add_test_case engine_dies
	atf_add_test_case ca_dies
	atf_add_test_case parent_dies
	atf_add_test_case term
	atf_add_test_case nosep
}
