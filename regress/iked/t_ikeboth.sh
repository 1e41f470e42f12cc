# iked with an "ike" rule (either IKE version) in network namespaces: one
# responder R, an IKEv1 peer P1 and an IKEv2 peer P2, each on its own
# link to R; one rule on R serves both.  An ACQUIRE on R under an ike
# rule reuses the IKEv1 phase 1 a v1-only peer set up (Quick Mode),
# rather than starting IKEv2 at it; without one it starts IKEv2.

. "$(atf_get_srcdir)/../lib/netns.subr"
. "$(atf_get_srcdir)/../lib/ike.subr"

# R (192.0.2.2 to P1 at 192.0.2.1, 198.51.100.2 to P2 at 198.51.100.1),
# netipsecd everywhere, transport-mode SPDs from setkey between R and
# each peer.
three()
{
	mkns R
	mkns P1
	mkns P2
	link P1 p1 R r1
	link P2 p2 R r2
	ip -n "$(ns P1)" addr add 192.0.2.1/24 dev p1
	ip -n "$(ns R)" addr add 192.0.2.2/24 dev r1
	ip -n "$(ns P2)" addr add 198.51.100.1/24 dev p2
	ip -n "$(ns R)" addr add 198.51.100.2/24 dev r2
	in_ P1 ping -c 1 -W 2 192.0.2.2 >/dev/null 2>&1
	in_ P2 ping -c 1 -W 2 198.51.100.2 >/dev/null 2>&1
	daemon P1 p1
	daemon P2 p2
	daemon R r1 r2
	spd P1 192.0.2.1 192.0.2.2
	spd P2 198.51.100.1 198.51.100.2
	spd R 192.0.2.2 192.0.2.1
	spd R 198.51.100.2 198.51.100.1
}

# sas NS A B: how many mature SAs NS's kernel holds between A and B.
sas()
{
	setkey_ "$1" -D | awk -v a="$2" -v b="$3" '
	    /^[^ \t]/ { pair = ($1 == a && $2 == b) || ($1 == b && $2 == a) }
	    /state=mature/ && pair { n++ }
	    END { print n + 0 }'
}

no_sas() { [ "$(mature "$1")" -eq 0 ]; }

# pings NS DST IF: the first ping (ACQUIRE, IKE) and three more are
# answered, and on the link (IF in NS) they went only as ESP.
pings()
{
	capture "$1" "$3"
	in_ "$1" ping -c 1 -W 5 "$2" >ping.out 2>&1 ||
	    { cat ping.out; logs; atf_fail "$1: the first ping to $2"; }
	in_ "$1" ping -c 3 -i 0.2 -W 2 "$2" >/dev/null ||
	    { logs; atf_fail "$1: pings to $2 after the first"; }
	capture_stop
	n=$(tcpdump -n -r "$1-$3.pcap" icmp 2>/dev/null |
	    grep -c 'echo' || true)
	atf_check_equal 0 "$n"
	n=$(tcpdump -n -r "$1-$3.pcap" esp 2>/dev/null | wc -l)
	[ "$n" -ge 8 ] || { logs; atf_fail "only $n ESP packets from $1"; }
}

atf_test_case both_versions cleanup
both_versions_head()
{
	atf_set "descr" "one passive ike rule answers an IKEv1 peer and an IKEv2 peer, each with its own proposals; ESP flows to both"
	atf_set "require.user" "root"
}
both_versions_body()
{
	ike_init
	three
	cat >R.conf <<X
ike "any" passive esp transport peer any \\
	main enc aes-256 auth hmac-sha2-256 group modp2048 \\
	quick enc aes-256-gcm \\
	ikesa enc aes-256-gcm prf hmac-sha2-256 group curve25519 \\
	childsa enc chacha20-poly1305 \\
	psk "$PSK"
X
	cat >P1.conf <<X
ikev1 "r" active esp transport from 192.0.2.1 to 192.0.2.2 \\
	peer 192.0.2.2 \\
	main enc aes-256 auth hmac-sha2-256 group modp2048 \\
	quick enc aes-256-gcm \\
	psk "$PSK"
X
	cat >P2.conf <<X
ikev2 "r" active esp transport from 198.51.100.1 to 198.51.100.2 \\
	peer 198.51.100.2 \\
	ikesa enc aes-256-gcm prf hmac-sha2-256 group curve25519 \\
	childsa enc chacha20-poly1305 \\
	psk "$PSK"
X
	iked R R.conf
	iked P1 P1.conf
	iked P2 P2.conf
	grep -q 'policy "any" (ike, passive)' R.iked.log ||
	    { logs; atf_fail "R did not load an ike rule"; }

	pings P1 192.0.2.2 p1
	pings P2 198.51.100.2 p2

	# One IKEv1 and one IKEv2 SA, both under the one rule.
	for s in '"any" 192.0.2.1:500: main mode: MM1 <- SA, responding' \
	    '"any" 192.0.2.1:500: phase 1 established (responder' \
	    '"any" 192.0.2.1:500: quick mode done: SAs in' \
	    '"any" 198.51.100.1:500: IKE_SA_INIT <- SA, KE, Ni; -> SA' \
	    '"any" 198.51.100.1:500: IKE SA established (responder' \
	    '"any" 198.51.100.1:500: child SA done: SAs in'; do
		grep -q "$s" R.iked.log ||
		    { logs; atf_fail "R did not log '$s'"; }
	done
	n=$(grep -c 'phase 1 established\|IKE SA established' R.iked.log)
	atf_check_equal 2 "$n"
	# Each peer got its version's proposal from the rule: AES-GCM in
	# Quick Mode, ChaCha20-Poly1305 for the IKEv2 child.
	grep -q '"any" 192.0.2.1:500: quick mode done.*esp 20/256' \
	    R.iked.log || { logs; atf_fail "R's IKEv1 pair is not AES-GCM"; }
	grep -q '"any" 198.51.100.1:500: child SA done.*esp 28/256' \
	    R.iked.log ||
	    { logs; atf_fail "R's IKEv2 pair is not ChaCha20-Poly1305"; }
	# Both SA pairs in R's kernel, one per peer.
	atf_check_equal 2 "$(sas R 192.0.2.1 192.0.2.2)"
	atf_check_equal 2 "$(sas R 198.51.100.1 198.51.100.2)"
	atf_check_equal 4 "$(mature R)"
}
both_versions_cleanup() { netns_cleanup; }

atf_test_case acquire_v1 cleanup
acquire_v1_head()
{
	atf_set "descr" "an ACQUIRE on R under an ike rule, with an IKEv1 phase 1 from a v1-only peer in place: Quick Mode on it, no IKE_SA_INIT"
	atf_set "require.user" "root"
}
acquire_v1_body()
{
	ike_init
	three
	cat >R.conf <<X
ike "p1" active esp transport peer 192.0.2.1 psk "$PSK"
X
	cat >P1.conf <<X
ikev1 "r" active esp transport from 192.0.2.1 to 192.0.2.2 \\
	peer 192.0.2.2 psk "$PSK"
X
	iked R R.conf
	iked P1 P1.conf
	# P1 sets up phase 1 and the first pair, R answering under "p1".
	in_ P1 ping -c 1 -W 5 192.0.2.2 >/dev/null ||
	    { logs; atf_fail "P1's first ping"; }
	grep -q '"p1" 192.0.2.1:500: phase 1 established (responder' \
	    R.iked.log || { logs; atf_fail "R: no IKEv1 phase 1"; }
	# The pair goes (R tells P1 with an IKEv1 DELETE); phase 1 stays.
	out=$(sed -n 's/.*quick mode done: SAs in 0x[0-9a-f]* out 0x\([0-9a-f]*\).*/\1/p' \
	    R.iked.log | tail -1)
	[ -n "$out" ] || { logs; atf_fail "R logged no SPIs"; }
	echo "delete 192.0.2.2 192.0.2.1 esp 0x$out;" | setkey_ R -c ||
	    atf_fail "setkey delete"
	wait_for 5 no_sas P1 || { logs; atf_fail "P1 kept its SAs"; }
	atf_check_equal 0 "$(mature R)"

	# R's traffic to P1: the ACQUIRE finds the IKEv1 phase 1.
	in_ R ping -c 1 -W 5 192.0.2.1 >ping.out 2>&1 ||
	    { cat ping.out; logs; atf_fail "R's ping to P1 after the delete"; }
	in_ R ping -c 3 -i 0.2 -W 2 192.0.2.1 >/dev/null ||
	    { logs; atf_fail "R's pings after the first"; }
	for s in 'acquire seq [0-9]*: policy [0-9]*, peer 192.0.2.1:500, rule "p1"' \
	    '"p1" 192.0.2.1:500: quick mode: QM1 -> HASH(1)'; do
		grep -q "$s" R.iked.log ||
		    { logs; atf_fail "R did not log '$s'"; }
	done
	grep -q 'IKE_SA_INIT' R.iked.log &&
	    { logs; atf_fail "R started IKEv2 at a v1 peer"; }
	grep -q 'QM1 <- HASH(1) verified' P1.iked.log ||
	    { logs; atf_fail "P1 answered no Quick Mode"; }
	atf_check_equal 1 "$(grep -c 'phase 1 established' R.iked.log)"
	atf_check_equal 2 "$(mature R)"
	atf_check_equal 2 "$(mature P1)"
}
acquire_v1_cleanup() { netns_cleanup; }

atf_test_case initiate_v2 cleanup
initiate_v2_head()
{
	atf_set "descr" "an active ike rule initiates with IKEv2"
	atf_set "require.user" "root"
}
initiate_v2_body()
{
	ike_init
	three
	cat >R.conf <<X
ike "p2" active esp transport peer 198.51.100.1 psk "$PSK"
X
	cat >P2.conf <<X
ikev2 "r" passive esp transport peer 198.51.100.2 psk "$PSK"
X
	iked R R.conf
	iked P2 P2.conf
	pings R 198.51.100.1 r2
	for s in '"p2" 198.51.100.1:500: IKE_SA_INIT -> SA, KE' \
	    '"p2" 198.51.100.1:500: IKE SA established (initiator'; do
		grep -q "$s" R.iked.log ||
		    { logs; atf_fail "R did not log '$s'"; }
	done
	grep -q 'main mode' R.iked.log &&
	    { logs; atf_fail "R started IKEv1"; }
	atf_check_equal 2 "$(mature R)"
}
initiate_v2_cleanup() { netns_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case both_versions
	atf_add_test_case acquire_v1
	atf_add_test_case initiate_v2
}
