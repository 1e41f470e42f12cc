# ikectl(8) and iked's control socket: show stats, reload (a broken file
# refused, the running configuration kept), unknown commands, the mode
# of the socket and who may use it, the cap on clients and their
# timeout, a stale socket replaced and a live one respected, the file
# gone at exit; show sa against the kernel's SAs after an IKEv2
# handshake between two namespaces; iked's core dumps off.  OpenBSD's
# other commands: show flow, load, reset, couple/decouple, log; start
# and stop one rule by name (initiate, terminate) against both kernels;
# iked -p pidfile; and the administrator's iked.conf options: the
# default rule, enforcesingleikesa.

. "$(atf_get_srcdir)/../lib/netns.subr"
. "$(atf_get_srcdir)/../lib/ike.subr"

IKEV=ikev2

ctl_init()
{
	ike_init
	IKECTL="$TOP/sbin/ikectl/ikectl"
	[ -x "$IKECTL" ] || atf_fail "ikectl not built"
	SOCK="$PWD/iked.sock"
	# ikectl on A's and B's iked of a founding pair (for atf_check,
	# which runs programs, not functions).
	CA="$IKECTL -s $PWD/A.iked.ctl"
	CB="$IKECTL -s $PWD/B.iked.ctl"
}

# gw NET: an install-policies rule whose flows go into the SPD, so that
# which configuration runs can be seen with setkey -DP.
gw()
{
	echo "ikev2 \"gw\" passive esp tunnel install-policies from $1 to" \
	    "10.9.0.0/24 local 192.0.2.1 peer 192.0.2.2 psk \"$PSK\""
}

# start: iked in A on iked.conf with -s $SOCK; waits for it.
start()
{
	_started=$(grep -c 'iked started' A.iked.log 2>/dev/null || true)
	PFKEY_SOCKET="$PWD/A.sock" ip netns exec "$(ns A)" "$IKED" -d -vv \
	    -s "$SOCK" -f "$PWD/iked.conf" >>A.iked.log 2>&1 &
	echo $! >>daemons.pids
	echo $! >iked.pid
	wait_for 5 sh -c "[ \$(grep -c 'iked started' A.iked.log) -gt ${_started:-0} ]" ||
	    { cat A.iked.log; atf_fail "iked did not start"; }
}

# single: one namespace with netipsecd and iked.
single()
{
	ctl_init
	mkns A
	daemon A
	gw 10.1.0.0/24 >iked.conf
	start
}

# As uid and gid 65534, no groups (atf_check runs programs, not shell
# functions).
NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"

atf_test_case nocore cleanup
nocore_head()
{
	atf_set "descr" "iked runs with core dumps off: it holds pre-shared keys and SA keys"
	atf_set "require.user" "root"
}
nocore_body()
{
	single
	[ -r "/proc/$(cat iked.pid)/limits" ] ||
	    atf_skip "no /proc/PID/limits to read the core limit from"
	atf_check -o inline:"0 0\n" awk '/^Max core file size/ { print $5, $6 }' \
	    "/proc/$(cat iked.pid)/limits"
	# Not dumpable, yet root still reads its memory figures (t_flood).
	atf_check -o match:'^VmRSS:' grep VmRSS "/proc/$(cat iked.pid)/status"
}
nocore_cleanup() { netns_cleanup; }

atf_test_case stats cleanup
stats_head()
{
	atf_set "descr" "show stats answers the USR1 counters; the socket is mode 0600; unknown commands are refused"
	atf_set "require.user" "root"
}
stats_body()
{
	single
	atf_check -o inline:"600 0\n" stat -c '%a %u' "$SOCK"
	atf_check -s exit:0 -o save:stats.out "$IKECTL" -s "$SOCK" show stats
	grep -q '^stats: rx 0 tx 0 dropped 0 .* halfopen-refused 0$' stats.out ||
	    { cat stats.out; atf_fail "no stats line"; }
	grep -q '^messages: parsed 0 ' stats.out ||
	    { cat stats.out; atf_fail "no messages line"; }
	if ldd --version 2>&1 | grep -qi 'gnu libc\|glibc'; then
		grep -q '^heap: [0-9]* bytes in use, [0-9]* free' stats.out ||
		    { cat stats.out; atf_fail "no heap line"; }
	fi
	# The same lines in the log on USR1.
	kill -USR1 "$(cat iked.pid)"
	wait_for 5 grep -q 'stats: rx 0 tx 0' A.iked.log ||
	    atf_fail "USR1 logged no stats"
	atf_check -s exit:0 -o empty "$IKECTL" -s "$SOCK" show sa
	atf_check -s exit:1 -o empty \
	    -e inline:"ikectl: unknown command: frobnicate now\n" \
	    "$IKECTL" -s "$SOCK" frobnicate "  now"
	atf_check -s exit:1 -o empty -e inline:"ikectl: unknown command: show\n" \
	    "$IKECTL" -s "$SOCK" show
	atf_check -s exit:1 -e match:'usage' "$IKECTL" -s "$SOCK"
	atf_check -s exit:1 -e match:'nonexistent.sock.*No such file' \
	    "$IKECTL" -s "$PWD/nonexistent.sock" show stats

	# The protocol as it is, without ikectl: a line may end at end of
	# file, blanks and CR are blanks, control bytes are not echoed.
	command -v python3 >/dev/null 2>&1 || atf_skip "python3 is not installed"
	cat >raw.py <<'X'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
s.shutdown(socket.SHUT_WR)
out = b""
while True:
    try:
        d = s.recv(4096)
    except ConnectionResetError:    # closed with our excess unread
        break
    if not d:
        break
    out += d
sys.stdout.write(out.decode("latin-1"))
X
	atf_check -o empty python3 raw.py "$SOCK" 'show sa'
	atf_check -o match:'^stats: ' python3 raw.py "$SOCK" 'show stats'
	atf_check -o match:'^stats: ' python3 raw.py "$SOCK" ' show\t stats \r\nx'
	atf_check -o inline:"ikectl: unknown command: ?[2J? x\n" \
	    python3 raw.py "$SOCK" '\x1b[2J\x01 x\n'
	atf_check -o inline:"ikectl: no command\n" python3 raw.py "$SOCK" '\n'
	atf_check -o inline:"ikectl: command too long (at most 255 bytes)\n" \
	    python3 raw.py "$SOCK" "$(printf '%0300d' 0)"
	atf_check -o empty python3 raw.py "$SOCK" ''
	kill -0 "$(cat iked.pid)" || { cat A.iked.log; atf_fail "iked died"; }
	atf_check -s exit:0 -o match:'^stats: ' "$IKECTL" -s "$SOCK" show stats
}
stats_cleanup() { netns_cleanup; }

atf_test_case reload cleanup
reload_head()
{
	atf_set "descr" "reload takes a good file, refuses a broken one with an error and keeps the running configuration"
	atf_set "require.user" "root"
}
reload_body()
{
	single
	wait_for 5 sh -c "PFKEY_SOCKET=$PWD/A.sock ip netns exec $(ns A) $SETKEY -DP | grep -q 10.1.0.0/24" ||
	    { setkey_ A -DP; atf_fail "the flows of iked.conf are not in the SPD"; }
	gw 10.3.0.0/24 >iked.conf
	atf_check -s exit:0 -o inline:"reloaded\n" "$IKECTL" -s "$SOCK" reload
	setkey_ A -DP >spd.out
	grep -q 10.3.0.0/24 spd.out && ! grep -q 10.1.0.0/24 spd.out ||
	    { cat spd.out; atf_fail "reload did not replace the flows"; }

	echo 'ikev2 "gw" passive esp bogus-keyword' >iked.conf
	atf_check -s exit:1 -o empty \
	    -e inline:"ikectl: reload: $PWD/iked.conf: errors, running configuration kept\n" \
	    "$IKECTL" -s "$SOCK" reload
	grep -q 'iked.conf:1: ' A.iked.log ||
	    { cat A.iked.log; atf_fail "the error is not in the log"; }
	# The old configuration runs on: its flows, the daemon answering.
	setkey_ A -DP >spd.out
	grep -q 10.3.0.0/24 spd.out ||
	    { cat spd.out; atf_fail "the running flows went with the broken file"; }
	kill -0 "$(cat iked.pid)" || atf_fail "iked died"
	atf_check -s exit:0 -o match:'^stats: ' "$IKECTL" -s "$SOCK" show stats
	# SIGHUP goes the same way.
	kill -HUP "$(cat iked.pid)"
	wait_for 5 sh -c "[ \$(grep -c 'keeping the running configuration' A.iked.log) -ge 2 ]" ||
	    { cat A.iked.log; atf_fail "SIGHUP did not refuse the file"; }
}
reload_cleanup() { netns_cleanup; }

atf_test_case refused cleanup
refused_head()
{
	atf_set "descr" "a caller other than root or iked's user is refused and logged, even through a socket opened to everyone"
	atf_set "require.user" "root"
}
refused_body()
{
	command -v setpriv >/dev/null 2>&1 || atf_skip "setpriv is not installed"
	# Where nobody can reach (kyua's work directory is closed).
	d=$(mktemp -d /tmp/t_ikectl.XXXXXX) || atf_fail "mktemp"
	echo "$d" >sockdir
	chmod 0755 "$d"
	ctl_init
	SOCK="$d/iked.sock"
	cp "$IKECTL" "$d/ikectl"	# the tree may be closed to nobody too
	mkns A
	daemon A
	gw 10.1.0.0/24 >iked.conf
	start
	# Mode 0600: the file system stops it first.
	atf_check -s exit:1 -o empty -e match:'Permission denied' \
	    $NOBODY "$d/ikectl" -s "$SOCK" show sa
	# Then the daemon's own check.
	chmod 0666 "$SOCK"
	for c in "show sa" "show stats" "reload"; do
		atf_check -s exit:1 -o empty \
		    -e inline:"ikectl: permission denied\n" \
		    $NOBODY "$d/ikectl" -s "$SOCK" $c
	done
	grep -q 'control: refused pid [0-9]* uid 65534: permission denied' \
	    A.iked.log || { cat A.iked.log; atf_fail "the refusal is not logged"; }
	grep -q 'reloading' A.iked.log && atf_fail "nobody made iked reload"
	atf_check -s exit:0 -o match:'^stats: ' "$IKECTL" -s "$SOCK" show stats
}
refused_cleanup()
{
	netns_cleanup
	[ -f sockdir ] && rm -rf "$(cat sockdir)"
	return 0
}

atf_test_case limits cleanup
limits_head()
{
	atf_set "descr" "8 clients that send nothing: a ninth is told busy; they are dropped after 5 s and the socket serves again"
	atf_set "require.user" "root"
	atf_set "timeout" "60"
}
limits_body()
{
	single
	command -v python3 >/dev/null 2>&1 || atf_skip "python3 is not installed"
	cat >idle.py <<'X'
import socket, sys, time
ss = []
for i in range(8):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    ss.append(s)
t0 = time.monotonic()
open("idle.ready", "w").close()
for s in ss:
    s.settimeout(20)
    data = s.recv(100)
    print("%.1f %r" % (time.monotonic() - t0, data))
X
	python3 idle.py "$SOCK" >idle.out 2>&1 &
	echo $! >>daemons.pids
	pid=$!
	wait_for 5 test -f idle.ready || { cat idle.out; atf_fail "idle clients"; }
	atf_check -s exit:1 -o empty -e inline:"ikectl: busy, try again\n" \
	    "$IKECTL" -s "$SOCK" show stats
	wait "$pid"
	cat idle.out
	atf_check_equal 8 "$(grep -c "^[4-6]\.[0-9] b''$" idle.out)"
	grep -q 'timed out sending a command' A.iked.log ||
	    atf_fail "the timeouts are not logged"
	atf_check -s exit:0 -o match:'^stats: ' "$IKECTL" -s "$SOCK" show stats
}
limits_cleanup() { netns_cleanup; }

atf_test_case lifecycle cleanup
lifecycle_head()
{
	atf_set "descr" "the socket file goes at exit; a stale one is replaced; one another iked answers on stops a second iked"
	atf_set "require.user" "root"
}
lifecycle_body()
{
	single
	# A second iked (in a second namespace) on the same socket.
	mkns B
	daemon B
	gw 10.5.0.0/24 >b.conf
	PFKEY_SOCKET="$PWD/B.sock" atf_check -s exit:1 \
	    -e match:"$SOCK: another iked answers on it" \
	    ip netns exec "$(ns B)" "$IKED" -d -s "$SOCK" -f "$PWD/b.conf"
	atf_check -s exit:0 -o match:'^stats: ' "$IKECTL" -s "$SOCK" show stats
	setkey_ B -DP | grep -q 10.5.0.0 &&
	    atf_fail "the refused iked left its flows"

	kill -TERM "$(cat iked.pid)"
	wait_for 5 grep -q 'iked exiting' A.iked.log || atf_fail "iked did not exit"
	wait_for 2 test ! -e "$SOCK" || atf_fail "the socket file is left"

	# Killed: its file stays, the next iked replaces it.  (Its engine
	# follows the parent: iked_kill waits for both.)
	start
	iked_kill KILL iked.pid
	[ -S "$SOCK" ] || atf_fail "no socket file after kill -9 (test assumption)"
	start
	grep -q 'removed a stale control socket' A.iked.log ||
	    { cat A.iked.log; atf_fail "the stale socket was not replaced"; }
	atf_check -s exit:0 -o match:'^stats: ' "$IKECTL" -s "$SOCK" show stats
}
lifecycle_cleanup() { netns_cleanup; }

atf_test_case show_sa cleanup
show_sa_head()
{
	atf_set "descr" "show sa after an IKEv2 handshake: the IKE SA line names ikev2 and the peer, its child the SPIs setkey -D shows"
	atf_set "require.user" "root"
}
show_sa_body()
{
	ctl_init
	founding 4 passive
	in_ A ping -c 1 -W 5 192.0.2.2 >/dev/null 2>&1 ||
	    { logs; atf_fail "the first ping was not answered"; }
	wait_for 5 has_sas A 2 || { logs; atf_fail "no SAs in A's kernel"; }

	atf_check -s exit:0 -o save:A.sa "$IKECTL" -s "$PWD/A.iked.ctl" show sa
	atf_check -s exit:0 -o save:B.sa "$IKECTL" -s "$PWD/B.iked.ctl" show sa
	cat A.sa B.sa
	atf_check_equal 1 "$(grep -c '^sa ' A.sa)"
	grep -q '^sa "b": ikev2 initiator established local 192.0.2.1:500 peer 192.0.2.2:500 nat-t no age [0-9]*s$' A.sa ||
	    atf_fail "A's IKE SA line"
	grep -q '^sa "a": ikev2 responder established local 192.0.2.2:500 peer 192.0.2.1:500 nat-t no ' B.sa ||
	    atf_fail "B's IKE SA line"
	atf_check_equal 1 "$(grep -c '^  child ' A.sa)"
	grep -q '^  child in 0x[0-9a-f]* out 0x[0-9a-f]* esp transport installed 192.0.2.1/32 -> 192.0.2.2/32 proto any age [0-9]*s$' A.sa ||
	    atf_fail "A's child line"

	# The two SPIs are the two SAs in the kernel, and B's mirror A's.
	ain=$(sed -n 's/^  child in 0x\([0-9a-f]*\) out 0x\([0-9a-f]*\).*/\1/p' A.sa)
	aout=$(sed -n 's/^  child in 0x\([0-9a-f]*\) out 0x\([0-9a-f]*\).*/\2/p' A.sa)
	[ -n "$ain" ] && [ -n "$aout" ] && [ "$ain" != "$aout" ] ||
	    atf_fail "two distinct SPIs expected"
	setkey_ A -D >A.sad
	for spi in "$ain" "$aout"; do
		grep -q "spi=$(printf %u "0x$spi")(0x$spi)" A.sad ||
		    { cat A.sad; atf_fail "SPI 0x$spi is not in A's kernel"; }
	done
	atf_check_equal "$(grep -c 'spi=' A.sad)" 2
	grep -q "^  child in 0x$aout out 0x$ain " B.sa ||
	    atf_fail "B's child is not A's, mirrored"
}
show_sa_cleanup() { netns_cleanup; }


# spd_ready NS: NS's iked has its SPD mirror (initiate needs it).
spd_ready()
{
	wait_for 5 grep -q 'spd: mirror loaded' "$1.iked.log" ||
	    { cat "$1.iked.log"; atf_fail "$1's iked has no SPD mirror"; }
}

atf_test_case flow_load cleanup
flow_load_head()
{
	atf_set "descr" "show flow lists the policies iked installed; load FILE switches to FILE (reload then reads it), refuses a broken one; couple, decouple, log"
	atf_set "require.user" "root"
}
flow_load_body()
{
	single
	wait_for 5 sh -c "PFKEY_SOCKET=$PWD/A.sock ip netns exec $(ns A) $SETKEY -DP | grep -q 10.1.0.0/24" ||
	    { setkey_ A -DP; atf_fail "the flows of iked.conf are not in the SPD"; }
	# A policy of setkey's own is in the SPD, not in show flow.
	echo 'spdadd 10.7.0.0/24 10.8.0.0/24 any -P out ipsec esp/transport//require;' >own.spd
	keys A own.spd
	atf_check -s exit:0 -o save:flow.out "$IKECTL" -s "$SOCK" show flow
	cat flow.out
	atf_check_equal 2 "$(grep -c '^flow ' flow.out)"
	grep -q '^flow esp out from 10.1.0.0/24 to 10.9.0.0/24 tunnel local 192.0.2.1 peer 192.0.2.2 require policy [0-9]*$' flow.out ||
	    atf_fail "no outbound flow"
	grep -q '^flow esp in from 10.9.0.0/24 to 10.1.0.0/24 tunnel local 192.0.2.1 peer 192.0.2.2 require policy [0-9]*$' flow.out ||
	    atf_fail "no inbound flow"
	# The policy ids are the kernel's.
	setkey_ A -DP >spd.out
	for id in $(sed -n 's/.* policy \([0-9]*\)$/\1/p' flow.out); do
		grep -q "spid=$id " spd.out ||
		    { cat spd.out; atf_fail "policy $id is not in the SPD"; }
	done

	# load: a relative name goes absolute; reload then reads that file.
	gw 10.4.0.0/24 >other.conf
	atf_check -s exit:0 -o inline:"loaded $PWD/other.conf\n" \
	    "$IKECTL" -s "$SOCK" load other.conf
	atf_check -s exit:0 -o match:'^flow esp out from 10.4.0.0/24 ' \
	    -o not-match:'10.1.0.0' "$IKECTL" -s "$SOCK" show flow
	setkey_ A -DP >spd.out
	grep -q 10.4.0.0/24 spd.out && ! grep -q 10.1.0.0/24 spd.out ||
	    { cat spd.out; atf_fail "load did not replace the flows"; }
	gw 10.6.0.0/24 >other.conf
	atf_check -s exit:0 -o inline:"reloaded\n" "$IKECTL" -s "$SOCK" reload
	atf_check -s exit:0 -o match:'^flow esp out from 10.6.0.0/24 ' \
	    "$IKECTL" -s "$SOCK" show flow
	# A broken file, a missing one, a relative name sent raw: refused.
	echo 'bogus' >broken.conf
	atf_check -s exit:1 -o empty \
	    -e inline:"ikectl: load: $PWD/broken.conf: errors, running configuration kept\n" \
	    "$IKECTL" -s "$SOCK" load broken.conf
	atf_check -s exit:1 -o empty -e match:'nonexistent.conf' \
	    "$IKECTL" -s "$SOCK" load nonexistent.conf
	command -v python3 >/dev/null 2>&1 || atf_skip "python3 is not installed"
	cat >raw.py <<'X'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
s.shutdown(socket.SHUT_WR)
sys.stdout.write(s.recv(4096).decode("latin-1"))
X
	atf_check -o inline:"ikectl: load: other.conf: not an absolute path\n" \
	    python3 raw.py "$SOCK" 'load other.conf\n'
	# A control byte in an argument: not taken as some other name.
	atf_check -o inline:"ikectl: unknown command: load /tmp/a?b\n" \
	    python3 raw.py "$SOCK" 'load /tmp/a\x01b\n'
	atf_check -o match:'^flow esp out from 10.6.0.0/24 ' \
	    "$IKECTL" -s "$SOCK" show flow

	# couple is what runs; decouple is refused.
	atf_check -s exit:0 -o inline:"coupled\n" "$IKECTL" -s "$SOCK" couple
	atf_check -s exit:1 -o empty -e match:'^ikectl: decouple: not supported' \
	    "$IKECTL" -s "$SOCK" decouple
	# log brief: a show is no longer logged; log verbose: it is again.
	atf_check -s exit:0 -o inline:"logging brief\n" "$IKECTL" -s "$SOCK" log brief
	n=$(grep -c 'control: pid .*: show stats' A.iked.log || true)
	atf_check -s exit:0 -o ignore "$IKECTL" -s "$SOCK" show stats
	atf_check_equal "$n" "$(grep -c 'control: pid .*: show stats' A.iked.log || true)"
	atf_check -s exit:0 -o inline:"logging verbose\n" "$IKECTL" -s "$SOCK" log verbose
	atf_check -s exit:0 -o ignore "$IKECTL" -s "$SOCK" show stats
	wait_for 2 sh -c "[ \$(grep -c 'control: pid .*: show stats' A.iked.log) -gt $n ]" ||
	    atf_fail "log verbose did not bring the debug lines back"

	# reset all: no SAs, no rules, no flows, until a reload.
	atf_check -s exit:0 -o inline:"deleted 0 IKE SAs and every rule\n" \
	    "$IKECTL" -s "$SOCK" reset all
	atf_check -s exit:0 -o empty "$IKECTL" -s "$SOCK" show flow
	setkey_ A -DP | grep -q 10.6.0.0/24 && atf_fail "reset all left the flows"
	atf_check -s exit:1 -e inline:"ikectl: initiate: no rule \"gw\"\n" \
	    "$IKECTL" -s "$SOCK" initiate gw
	atf_check -s exit:0 -o inline:"reloaded\n" "$IKECTL" -s "$SOCK" reload
	atf_check -s exit:0 -o match:'^flow esp out from 10.6.0.0/24 ' \
	    "$IKECTL" -s "$SOCK" show flow
}
flow_load_cleanup() { netns_cleanup; }

# by_name VERSION: initiate and terminate one rule between two ikeds.
by_name()
{
	IKEV=$1
	ctl_init
	founding 4 passive
	spd_ready A
	atf_check -s exit:1 -e inline:"ikectl: initiate: no rule \"nosuch\"\n" \
	    $CA initiate nosuch
	atf_check -s exit:1 -e inline:"ikectl: initiate: rule \"a\" is passive\n" \
	    $CB initiate a
	atf_check -s exit:1 -e inline:"ikectl: terminate: no rule \"nosuch\"\n" \
	    $CA terminate nosuch
	# No traffic: the rule alone brings the pair up in both kernels.
	atf_check -s exit:0 -o inline:"initiating 1 policies, 0 up already\n" \
	    $CA initiate b
	wait_for 10 has_sas A 2 ||
	    { logs; cat A.log B.log; $CB show stats; atf_fail "initiate: no SAs in A"; }
	wait_for 5 has_sas B 2 || { logs; atf_fail "initiate: no SAs in B"; }
	grep -q 'acquire seq [1-9]' A.iked.log &&
	    { logs; atf_fail "the kernel acquired: traffic started it"; }
	atf_check -s exit:0 -o inline:"initiating 0 policies, 1 up already\n" \
	    $CA initiate b
	atf_check -s exit:0 -o match:"^sa \"b\": $IKEV initiator established " \
	    $CA show sa
	in_ A ping -c 1 -W 5 192.0.2.2 >/dev/null || { logs; atf_fail "ping"; }

	atf_check -s exit:0 -o inline:"deleted 1 IKE SAs\n" $CA terminate b
	atf_check -s exit:0 -o empty $CA show sa
	wait_for 5 sh -c "[ \$(PFKEY_SOCKET=$PWD/A.sock ip netns exec $(ns A) $SETKEY -D | grep -c state=mature) = 0 ]" ||
	    { setkey_ A -D; logs; atf_fail "A kept the terminated SAs"; }
	wait_for 5 sh -c "[ \$(PFKEY_SOCKET=$PWD/B.sock ip netns exec $(ns B) $SETKEY -D | grep -c state=mature) = 0 ]" ||
	    { setkey_ B -D; logs; atf_fail "B kept the terminated SAs"; }
	atf_check -s exit:0 -o inline:"deleted 0 IKE SAs\n" $CA terminate b
	# And up again by name.
	atf_check -s exit:0 -o inline:"initiating 1 policies, 0 up already\n" \
	    $CA initiate b
	wait_for 10 has_sas B 2 || { logs; atf_fail "no SAs after a second initiate"; }
}

atf_test_case by_name_v2 cleanup
by_name_v2_head()
{
	atf_set "descr" "IKEv2: initiate NAME brings the rule's SAs up in both kernels without traffic, terminate NAME takes them out of both"
	atf_set "require.user" "root"
	atf_set "timeout" "60"
}
by_name_v2_body() { by_name ikev2; }
by_name_v2_cleanup() { netns_cleanup; }

atf_test_case by_name_v1 cleanup
by_name_v1_head()
{
	atf_set "descr" "IKEv1: initiate NAME brings the rule's SAs up in both kernels without traffic, terminate NAME takes them out of both"
	atf_set "require.user" "root"
	atf_set "timeout" "60"
}
by_name_v1_body() { by_name ikev1; }
by_name_v1_cleanup() { netns_cleanup; }

atf_test_case reset cleanup
reset_head()
{
	atf_set "descr" "reset sa, reset id ID and reset ike delete the SAs in both kernels; an ID of no peer deletes none"
	atf_set "require.user" "root"
	atf_set "timeout" "60"
}
reset_body()
{
	IKEV=ikev2
	ctl_init
	founding 4 passive
	spd_ready A
	for what in "sa" "id 192.0.2.2" "ike"; do
		atf_check -s exit:0 -o match:'^initiating 1 policies' \
		    $CA initiate b
		wait_for 10 has_sas B 2 || { logs; atf_fail "no SAs before reset $what"; }
		wait_for 5 has_sas A 2 || { logs; atf_fail "no SAs before reset $what"; }
		atf_check -s exit:0 -o inline:"deleted 0 IKE SAs\n" \
		    $CA reset id nobody.example.com
		atf_check_equal 2 "$(mature A)"
		atf_check -s exit:0 -o inline:"deleted 1 IKE SAs\n" \
		    $CA reset $what
		atf_check -s exit:0 -o empty $CA show sa
		wait_for 5 sh -c "[ \$(PFKEY_SOCKET=$PWD/A.sock ip netns exec $(ns A) $SETKEY -D | grep -c state=mature) = 0 ]" ||
		    { setkey_ A -D; logs; atf_fail "reset $what: A kept the SAs"; }
		wait_for 5 sh -c "[ \$(PFKEY_SOCKET=$PWD/B.sock ip netns exec $(ns B) $SETKEY -D | grep -c state=mature) = 0 ]" ||
		    { setkey_ B -D; logs; atf_fail "reset $what: B kept the SAs"; }
		wait_for 5 sh -c "! $IKECTL -s $PWD/B.iked.ctl show sa | grep -q ." ||
		    { logs; atf_fail "reset $what: B kept its IKE SA"; }
	done
}
reset_cleanup() { netns_cleanup; }

atf_test_case pidfile cleanup
pidfile_head()
{
	atf_set "descr" "iked -p: the daemon's pid in the file, a second iked on it refused, the file gone at exit"
	atf_set "require.user" "root"
}
pidfile_body()
{
	ctl_init
	mkns A
	daemon A
	gw 10.1.0.0/24 >iked.conf
	# Daemonized (no -d): the pid written is the daemon's.
	PFKEY_SOCKET="$PWD/A.sock" ip netns exec "$(ns A)" "$IKED" \
	    -p iked.pid -s "$SOCK" -f "$PWD/iked.conf" ||
	    atf_fail "iked did not start"
	wait_for 5 test -s iked.pid || atf_fail "no pid in iked.pid"
	pid=$(cat iked.pid)
	echo "$pid" >>daemons.pids
	atf_check -o match:'iked' cat "/proc/$pid/comm"
	atf_check -s exit:0 -o match:'^stats: ' "$IKECTL" -s "$SOCK" show stats
	# Another iked on the file: refused, the file left alone.
	mkns B
	daemon B
	PFKEY_SOCKET="$PWD/B.sock" atf_check -s exit:1 \
	    -e match:"iked.pid: iked already running, pid $pid" \
	    ip netns exec "$(ns B)" "$IKED" -d -p "$PWD/iked.pid" \
	    -s "$PWD/b.sock" -f "$PWD/iked.conf"
	atf_check_equal "$pid" "$(cat iked.pid)"
	kill -TERM "$pid"
	wait_for 5 test ! -e iked.pid || atf_fail "iked.pid is left at exit"
	wait_for 5 sh -c "! kill -0 $pid" || atf_fail "iked did not exit"
}
pidfile_cleanup() { netns_cleanup; }

atf_test_case default_rule cleanup
default_rule_head()
{
	atf_set "descr" "a responder whose rules do not match the peer answers with its default rule; without one it refuses"
	atf_set "require.user" "root"
	atf_set "timeout" "60"
}
default_rule_body()
{
	IKEV=ikev2
	ctl_init
	pair
	spd A 192.0.2.1 192.0.2.2
	spd B 192.0.2.2 192.0.2.1
	rule b active 192.0.2.1 192.0.2.2 >A.conf
	# B's only rule is for another peer.
	echo "ikev2 \"other\" passive esp transport peer 192.0.2.99 psk \"$PSK\"" >B.conf
	iked A A.conf
	iked B B.conf
	spd_ready A
	atf_check -s exit:0 -o ignore $CA initiate b
	wait_for 10 grep -q 'IKE_SA_INIT from a peer no ikev2 rule matches, dropped' B.iked.log ||
	    { logs; atf_fail "B did not drop a peer no rule matches"; }
	atf_check_equal 0 "$(mature B)"
	# The same rule marked default answers A.
	echo "ikev2 \"other\" default passive esp transport peer 192.0.2.99 psk \"$PSK\"" >B.conf
	atf_check -s exit:0 -o inline:"reloaded\n" $CB reload
	atf_check -s exit:0 -o ignore $CA reset sa
	atf_check -s exit:0 -o match:'^initiating 1 ' $CA initiate b
	wait_for 10 has_sas B 2 || { logs; atf_fail "the default rule did not answer"; }
	atf_check -s exit:0 \
	    -o match:'^sa "other": ikev2 responder established local 192.0.2.2:500 peer 192.0.2.1:500 ' \
	    $CB show sa
}
default_rule_cleanup() { netns_cleanup; }

atf_test_case singleikesa cleanup
singleikesa_head()
{
	atf_set "descr" "enforcesingleikesa: a peer identity established again from another address ends its older IKE SA and SAs, in both kernels; without it both stay"
	atf_set "require.user" "root"
	atf_set "timeout" "60"
}
singleikesa_body()
{
	IKEV=ikev2
	ctl_init
	pair
	ip -n "$(ns B)" addr add 192.0.2.3/24 dev vB
	: >A.spd
	for b in 192.0.2.2 192.0.2.3; do
		cat >>A.spd <<X
spdadd 192.0.2.1 $b any -P out ipsec esp/transport//require;
spdadd $b 192.0.2.1 any -P in ipsec esp/transport//require;
X
		cat >>B.spd <<X
spdadd $b 192.0.2.1 any -P out ipsec esp/transport//require;
spdadd 192.0.2.1 $b any -P in ipsec esp/transport//require;
X
		echo "ikev2 \"a$b\" active esp transport from $b to 192.0.2.1 local $b peer 192.0.2.1 srcid rw.example.com psk \"$PSK\"" >>B.conf
	done
	keys A A.spd
	keys B B.spd
	# One identity, B, from two addresses: two IKE SAs unless enforced.
	echo "ikev2 \"rw\" passive esp transport peer any dstid rw.example.com psk \"$PSK\"" >A.conf
	iked A A.conf
	iked B B.conf
	spd_ready B
	for b in 192.0.2.2 192.0.2.3; do
		atf_check -s exit:0 -o match:'^initiating 1 ' $CB initiate a$b
		wait_for 10 sh -c "$CA show sa | grep -q 'peer $b:500'" ||
		    { logs; atf_fail "no IKE SA from $b"; }
	done
	atf_check_equal 2 "$($CA show sa | grep -c '^sa "rw": .* established ')"
	atf_check -s exit:0 -o inline:"deleted 2 IKE SAs\n" $CB reset sa
	wait_for 5 sh -c "! $CA show sa | grep -q ." || { logs; atf_fail "reset sa"; }

	{ echo "set enforcesingleikesa"; cat A.conf; } >A2.conf
	atf_check -s exit:0 -o match:'^loaded ' $CA load "$PWD/A2.conf"
	for b in 192.0.2.2 192.0.2.3; do
		atf_check -s exit:0 -o match:'^initiating 1 ' $CB initiate a$b
		wait_for 10 sh -c "$CA show sa | grep -q 'peer $b:500'" ||
		    { logs; atf_fail "no IKE SA from $b"; }
	done
	grep -q 'enforcesingleikesa: identity rw.example.com now at 192.0.2.3' A.iked.log ||
	    { logs; atf_fail "A did not enforce one IKE SA"; }
	atf_check -s exit:0 -o save:A.sa $CA show sa
	cat A.sa
	atf_check_equal 1 "$(grep -c '^sa ' A.sa)"
	grep -q '^sa "rw": ikev2 responder established local 192.0.2.1:500 peer 192.0.2.3:500 ' A.sa ||
	    atf_fail "A's IKE SA is not the one with 192.0.2.3"
	sad A >A.sad
	grep -q 192.0.2.2 A.sad && { cat A.sad; atf_fail "A kept the SAs with 192.0.2.2"; }
	atf_check_equal 2 "$(wc -l <A.sad)"
	# B was told: its SAs from 192.0.2.2 are gone too.
	wait_for 5 sh -c "! $CB show sa | grep -q 'local 192.0.2.2:'" ||
	    { logs; atf_fail "B kept the IKE SA A deleted"; }
	sad B >B.sad
	grep -q 192.0.2.2 B.sad && { cat B.sad; atf_fail "B kept the SAs with 192.0.2.2"; }
	atf_check_equal 2 "$(wc -l <B.sad)"
}
singleikesa_cleanup() { netns_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case stats
	atf_add_test_case nocore
	atf_add_test_case reload
	atf_add_test_case refused
	atf_add_test_case limits
	atf_add_test_case lifecycle
	atf_add_test_case show_sa
	atf_add_test_case flow_load
	atf_add_test_case by_name_v2
	atf_add_test_case by_name_v1
	atf_add_test_case reset
	atf_add_test_case pidfile
	atf_add_test_case default_rule
	atf_add_test_case singleikesa
}
