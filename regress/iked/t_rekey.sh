# Rekeys without loss: iked against iked in network namespaces with
# netipsecd, pings every 20 ms across several child SA and IKE SA
# (IKEv1: phase 1) rekeys with short lifetimes.  IKEv1 runs over IPv4
# and IKEv2 over IPv6 between the same two hosts, at the same time.
# Not one ping may be lost, and at the end each kernel holds exactly one
# SA pair per version and each iked one IKE SA with one child per
# version: no SA is left behind.

. "$(atf_get_srcdir)/../lib/netns.subr"
. "$(atf_get_srcdir)/../lib/ike.subr"

# The lifetimes: a child rekeys every 6 to 7 s, an IKE SA every 16 to
# 18 s; RUN seconds of pings see 2 IKE SA and 6 child SA rekeys.
LIFE=8
IKELIFE=20
RUN=44

# sas NS A B: the SAs (any state but larval) NS's kernel holds between
# A and B.
sas()
{
	setkey_ "$1" -D | awk -v a="$2" -v b="$3" '
	    /^[^ \t]/ { pair = ($1 == a && $2 == b) || ($1 == b && $2 == a) }
	    /state=/ && !/state=larval/ && pair { n++ }
	    END { print n + 0 }'
}

# ikesas NS VERSION: the IKE SAs (established or not) and the children
# of that version NS's iked holds, as "SAS CHILDREN".
ikesas()
{
	"$IKECTL" -s "$PWD/$1.iked.ctl" show sa | awk -v v="ikev$2" '
	    /^sa / { cur = ($3 == v); if (cur) n++ }
	    /^  child / && cur { c++ }
	    END { print n + 0, c + 0 }'
}

# settled: one pair per version in both kernels, one IKE SA with one
# child per version in both ikeds.
settled()
{
	for s in A B; do
		[ "$(sas $s 192.0.2.1 192.0.2.2)" = 2 ] || return 1
		[ "$(sas $s 2001:db8::1 2001:db8::2)" = 2 ] || return 1
		[ "$(ikesas $s 1)" = "1 1" ] || return 1
		[ "$(ikesas $s 2)" = "1 1" ] || return 1
	done
}

# state: what settled looks at, for a failure.
state()
{
	for s in A B; do
		echo "==== $s: setkey -D"
		setkey_ $s -D
		echo "==== $s: ikectl show sa"
		"$IKECTL" -s "$PWD/$s.iked.ctl" show sa
	done
}

atf_test_case lossless cleanup
lossless_head()
{
	atf_set "descr" "Pings every 20 ms across child and IKE SA rekeys of IKEv1 and IKEv2 lose nothing; one SA pair per version is left"
	atf_set "require.user" "root"
	atf_set "timeout" "150"
}
lossless_body()
{
	ike_init
	IKECTL="$TOP/sbin/ikectl/ikectl"
	[ -x "$IKECTL" ] || atf_fail "ikectl not built"
	pair
	spd A 192.0.2.1 192.0.2.2
	spd B 192.0.2.2 192.0.2.1
	spd A 2001:db8::1 2001:db8::2
	spd B 2001:db8::2 2001:db8::1
	life="ikelifetime $IKELIFE lifetime $LIFE"
	{ IKEV=ikev1 rule v1 active 192.0.2.1 192.0.2.2 $life
	  IKEV=ikev2 rule v2 active 2001:db8::1 2001:db8::2 $life; } >A.conf
	{ IKEV=ikev1 rule v1 passive 192.0.2.2 192.0.2.1 $life
	  IKEV=ikev2 rule v2 passive 2001:db8::2 2001:db8::1 $life; } >B.conf
	iked A A.conf
	iked B B.conf
	in_ A ping -c 1 -W 5 192.0.2.2 >/dev/null ||
	    { logs; atf_fail "first IKEv1 ping"; }
	in_ A ping -c 1 -W 5 2001:db8::2 >/dev/null ||
	    { logs; atf_fail "first IKEv2 ping"; }
	n=$((RUN * 50))
	in_ A ping -q -c $n -i 0.02 -W 1 192.0.2.2 >ping4.out 2>&1 &
	p4=$!
	in_ A ping -q -c $n -i 0.02 -W 1 2001:db8::2 >ping6.out 2>&1 &
	p6=$!
	wait $p4
	wait $p6
	cat ping4.out ping6.out
	grep -q "$n packets transmitted, $n received" ping4.out ||
	    { logs; atf_fail "IKEv1: pings lost across the rekeys"; }
	grep -q "$n packets transmitted, $n received" ping6.out ||
	    { logs; atf_fail "IKEv2: pings lost across the rekeys"; }
	# Several rekeys of each kind and version.
	n=$(grep -c '"v1" .*quick mode done' A.iked.log)
	[ "$n" -ge 5 ] || { logs; atf_fail "IKEv1: only $n quick modes"; }
	n=$(grep -c '"v1" .*phase 1 established' A.iked.log)
	[ "$n" -ge 3 ] || { logs; atf_fail "IKEv1: only $n phase 1s"; }
	# Phase 1 renewed before it expired, each time.
	grep -q '"v1" .*renewing it' A.iked.log ||
	    { logs; atf_fail "IKEv1: phase 1 not renewed"; }
	! grep '"v1" .*phase 1 lifetime expired' A.iked.log B.iked.log ||
	    { logs; atf_fail "IKEv1: phase 1 expired unrenewed"; }
	n=$(cat A.iked.log B.iked.log | grep -c '"v2" .*child SA done')
	[ "$n" -ge 10 ] || { logs; atf_fail "IKEv2: only $n child SAs"; }
	n=$(grep -c '"v2" .*IKE SA rekeyed' A.iked.log)
	[ "$n" -ge 2 ] || { logs; atf_fail "IKEv2: only $n IKE SA rekeys"; }
	# Between two rekeys (one every 6 s or so, and the old pair lives on
	# for a second or two after each): nothing left behind.
	wait_for $((2 * LIFE)) settled ||
	    { state; logs; atf_fail "SAs left behind"; }
}
lossless_cleanup() { netns_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case lossless
}
