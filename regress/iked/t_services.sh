# The service files of etc/: systemd-analyze verify accepts the units;
# the units' own command lines (ExecStartPre, ExecStart, ExecReload),
# run as systemd would run them but in network namespaces where no
# systemd runs, bring up netipsecd as _netipsec and iked separated, and
# the two hosts negotiate; the rc.d ipsec script loads and flushes a
# setkey file, run by a minimal stand-in for FreeBSD's rc.subr.

IKEV=ikev2

. "$(atf_get_srcdir)/../lib/netns.subr"
. "$(atf_get_srcdir)/../lib/ike.subr"

ETC="$(atf_get_srcdir)/../../etc"

# unit NAME: etc/systemd/NAME.service.in with the programs of this tree.
unit()
{
	sed -e "s|@PREFIX@/sbin/\([a-z]*\)|$TOP/sbin/\1/\1|g" \
	    "$ETC/systemd/$1.service.in" >"$1.service"
}

# exec_line UNIT KEY: the command line of KEY= in UNIT.service.
exec_line()
{
	sed -n "s/^$2=//p" "$1.service"
}

atf_test_case verify
verify_head()
{
	atf_set "descr" "systemd-analyze verify accepts both units, iked's ordered after netipsecd's"
	atf_set "require.progs" "systemd-analyze"
}
verify_body()
{
	TOP="$(atf_get_srcdir)/../.."
	[ -x "$TOP/sbin/iked/iked" ] || atf_fail "iked not built"
	unit netipsecd
	unit iked
	# --man=no: the manual pages are this tree's, not installed.
	atf_check -s exit:0 -o ignore -e empty systemd-analyze verify --man=no \
	    "$PWD/netipsecd.service" "$PWD/iked.service"
	grep -q '^After=netipsecd.service' iked.service ||
	    atf_fail "iked does not start after netipsecd"
	grep -q '^Requires=netipsecd.service' iked.service ||
	    atf_fail "iked does not require netipsecd"
	for k in NoNewPrivileges ProtectSystem PrivateTmp; do
		grep -q "^$k=" iked.service || atf_fail "iked.service: no $k"
		grep -q "^$k=" netipsecd.service ||
		    atf_fail "netipsecd.service: no $k"
	done
}

atf_test_case units cleanup
units_head()
{
	atf_set "descr" "The units' command lines start netipsecd (-u _netipsec) and iked in two namespaces; they negotiate; ExecReload reloads; TERM stops both"
	atf_set "require.user" "root"
}
units_body()
{
	ike_init
	id _netipsec >/dev/null 2>&1 && id _iked >/dev/null 2>&1 ||
	    atf_skip "no users _netipsec and _iked (make deps: mk/user.sh)"
	unit netipsecd
	unit iked
	mkns A
	mkns B
	link A vA B vB
	ip -n "$(ns A)" addr add 192.0.2.1/24 dev vA
	ip -n "$(ns B)" addr add 192.0.2.2/24 dev vB
	in_ A ping -c 1 -W 2 192.0.2.2 >/dev/null 2>&1
	for n in A B; do
		# What /etc/default/netipsecd and /etc/default/iked would say;
		# PF_KEY on netipsecd's default (abstract, per namespace)
		# address, as the unit has it.
		NETIPSECD_FLAGS="-i v$n" ip netns exec "$(ns "$n")" sh -c \
		    "exec $(exec_line netipsecd ExecStart)" >>"$n.log" 2>&1 &
		echo $! >>daemons.pids
	done
	wait_for 5 sh -c "grep -q 'with CAP_NET_ADMIN only' A.log && grep -q 'with CAP_NET_ADMIN only' B.log" ||
	    { cat A.log B.log; atf_fail "netipsecd did not start as _netipsec"; }
	for n in A B; do
		[ $n = A ] && me=192.0.2.1 peer=192.0.2.2 m=active ||
		    me=192.0.2.2 peer=192.0.2.1 m=passive
		cat >"$n.spd" <<X
spdadd $me $peer any -P out ipsec esp/transport//require;
spdadd $peer $me any -P in ipsec esp/transport//require;
X
		ip netns exec "$(ns "$n")" "$SETKEY" -f "$n.spd" ||
		    atf_fail "setkey in $n"
		rule x $m $me $peer >"$n.conf"
		flags="-f $PWD/$n.conf -s $PWD/$n.iked.ctl"
		IKED_FLAGS="$flags" ip netns exec "$(ns "$n")" sh -c \
		    "exec $(exec_line iked ExecStartPre)" ||
		    atf_fail "ExecStartPre (iked -n) refused $n.conf"
		IKED_FLAGS="$flags" ip netns exec "$(ns "$n")" sh -c \
		    "exec $(exec_line iked ExecStart)" >>"$n.iked.log" 2>&1 &
		echo $! >"$n.iked.pid"
		echo $! >>daemons.pids
		wait_for 5 grep -q 'iked started' "$n.iked.log" ||
		    { cat "$n.iked.log"; atf_fail "iked did not start in $n"; }
	done
	in_ A ping -c 2 -i 0.2 -W 5 192.0.2.2 >/dev/null ||
	    { logs; atf_fail "no ping through the SAs"; }
	[ "$(ip netns exec "$(ns A)" "$SETKEY" -D | grep -c state=mature)" -eq 2 ] ||
	    atf_fail "A has not 2 SAs"

	MAINPID=$(cat A.iked.pid) sh -c "$(exec_line iked ExecReload)" ||
	    atf_fail "ExecReload failed"
	wait_for 5 grep -q 'configuration reloaded' A.iked.log ||
	    { logs; atf_fail "ExecReload did not reload"; }

	# systemctl stop: TERM to the control group's processes.
	pids=$(ip netns pids "$(ns A)")
	# shellcheck disable=SC2086 # one word per pid
	kill -TERM $pids
	# shellcheck disable=SC2086
	wait_for 10 gone $pids || atf_fail "A's daemons did not stop on TERM"
	grep -q 'iked exiting' A.iked.log || atf_fail "iked did not exit cleanly"
}
units_cleanup() { netns_cleanup; }

atf_test_case rc_ipsec cleanup
rc_ipsec_head()
{
	atf_set "descr" "rc.d/ipsec start loads ipsec_file with setkey, stop flushes the SAD and SPD, as FreeBSD's (rc.subr stood in for)"
	atf_set "require.user" "root"
}
rc_ipsec_body()
{
	netns_init
	TOP="$(atf_get_srcdir)/../.."
	mkns A
	daemon A
	# The few rc.subr functions the script calls, FreeBSD's meaning.
	cat >rc.subr <<'X'
load_rc_config() { :; }
warn() { echo "$0: WARNING: $*" >&2; }
checkyesno() { case $(eval echo \$$1) in [Yy][Ee][Ss]) return 0;; esac; return 1; }
run_rc_command()
{
	rc_arg=$1
	checkyesno "$rcvar" || return 0
	eval _pre=\$${rc_arg}_precmd _cmd=\$${rc_arg}_cmd
	if [ -n "$_pre" ]; then $_pre || return 1; fi
	$_cmd
}
X
	sed -e "s|@PREFIX@/sbin/setkey|$SETKEY|" -e "s|^\. /etc/rc.subr|. $PWD/rc.subr|" \
	    "$ETC/rc.d/ipsec.in" >ipsec
	cat >ipsec.conf <<X
add 192.0.2.1 192.0.2.2 esp 0x1001 -E aes-gcm-16 0x0102030405060708090a0b0c0d0e0f1011121314;
spdadd 192.0.2.1 192.0.2.2 any -P out ipsec esp/transport//require;
X
	run()
	{
		ip netns exec "$(ns A)" env PFKEY_SOCKET="$PWD/A.sock" \
		    ipsec_enable=YES ipsec_file="$1" sh ./ipsec "$2"
	}
	run "$PWD/ipsec.conf" start >start.out 2>&1 || { cat start.out; atf_fail "start failed"; }
	atf_check_equal 1 "$(setkey_ A -D | grep -c 'spi=4097')"
	atf_check_equal 1 "$(setkey_ A -DP | grep -c '192.0.2.1\[any\] 192.0.2.2\[any\]')"
	run "$PWD/ipsec.conf" stop >stop.out 2>&1 || { cat stop.out; atf_fail "stop failed"; }
	atf_check_equal 0 "$(setkey_ A -D | grep -c 'spi=')"
	atf_check_equal 0 "$(setkey_ A -DP | grep -c '192.0.2')"
	# A missing file: start refuses, nothing is loaded.
	run "$PWD/none.conf" start >none.out 2>&1 && atf_fail "start without the file succeeded"
	grep -q 'none.conf not readable' none.out || { cat none.out; atf_fail "no warning"; }
	atf_check -s exit:0 sh -n "$ETC/rc.d/iked.in"
}
rc_ipsec_cleanup() { netns_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case verify
	atf_add_test_case units
	atf_add_test_case rc_ipsec
}
