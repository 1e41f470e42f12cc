# iked <-> iked over IKEv1 in network namespaces, each side running
# netipsecd (the kernel) and iked.  The cases both versions share
# (founding, tunnel mode, either side, mismatches, loss, rekey, restart,
# NAT-T) are in ikecases.subr; here what only IKEv1 has: a lost QM3,
# forced NAT-T, install-policies, the Main and Quick Mode transforms,
# RESPONDER-LIFETIME, DPD, reload, generate-policy, hostile input.

IKEV=ikev1

. "$(atf_get_srcdir)/../lib/netns.subr"
. "$(atf_get_srcdir)/../lib/ike.subr"
. "$(atf_get_srcdir)/../lib/ikecases.subr"

atf_test_case qm3_lost cleanup
qm3_lost_head()
{
	atf_set "descr" "Every QM3 lost: B's Quick Mode times out and it deletes the pair A installed, so A's next packet negotiates again instead of going into an SA B does not have"
	atf_set "require.user" "root"
	atf_set "timeout" "200"
}
qm3_lost_body()
{
	ike_init
	founding 4 passive
	in_ A ping -c 1 -W 5 192.0.2.2 >/dev/null ||
	    { logs; atf_fail "the first ping was not answered"; }
	# Phase 1 stays; the pairs go on both sides.
	setkey_ A -F
	setkey_ B -F
	atf_check_equal 0 "$(mature A)"
	atf_check_equal 0 "$(mature B)"
	# QM3 (HASH(3) only: 104 bytes of IP with AES-CBC and SHA-256) is
	# the only message from A this short; QM1 is several times longer.
	in_ B iptables -A INPUT -s 192.0.2.1 -p udp --dport 500 \
	    -m length --length 96:112 -j DROP
	in_ A ping -c 1 -W 2 192.0.2.2 >/dev/null 2>&1 || true
	wait_for 90 grep -q 'quick mode (msgid 0x[0-9a-f]*) timed out' \
	    B.iked.log || { logs; atf_fail "B's Quick Mode did not time out"; }
	n=$(in_ B iptables -vnL INPUT | awk '/length/ { print $1 }')
	[ "$n" -ge 1 ] || { logs; atf_fail "no QM3 was dropped"; }
	wait_for 10 grep -q 'informational <- DELETE SA' A.iked.log ||
	    { logs; atf_fail "A was not told"; }
	atf_check_equal 0 "$(mature A)"
	in_ B iptables -F INPUT
	# A negotiates again at the next packet.
	i=0
	until in_ A ping -c 1 -W 2 192.0.2.2 >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 10 ] || { logs; atf_fail "no new SAs"; }
	done
	atf_check_equal 2 "$(mature A)"
	atf_check_equal 2 "$(mature B)"
}
qm3_lost_cleanup() { netns_cleanup; }

atf_test_case natt_forced cleanup
natt_forced_head()
{
	atf_set "descr" "The natt keyword forces UDP encapsulation without a NAT"
	atf_set "require.user" "root"
}
natt_forced_body()
{
	ike_init
	founding 4 passive natt
	capture B vB
	in_ A ping -c 3 -i 0.2 -W 5 192.0.2.2 >/dev/null || { logs; atf_fail "pings"; }
	capture_stop
	grep -q 'floated to port 4500' A.iked.log || { logs; atf_fail "A did not float"; }
	n=$(tcpdump -n -r B-vB.pcap 'udp port 4500' 2>/dev/null | wc -l)
	[ "$n" -ge 6 ] || atf_fail "only $n packets on port 4500"
	n=$(tcpdump -n -r B-vB.pcap 'ip proto 50 or icmp' 2>/dev/null | wc -l)
	atf_check_equal 0 "$n"
	# Each side holds the one pair, both SAs ESP in UDP from port 4500
	# to 4500, with the same SPIs on both sides.
	want="192.0.2.1[4500] 192.0.2.2[4500] esp-udp mode=transport
192.0.2.2[4500] 192.0.2.1[4500] esp-udp mode=transport"
	for s in A B; do
		atf_check_equal 2 "$(mature $s)"
		got=$(sad $s | cut -d' ' -f1-4)
		[ "$got" = "$want" ] || { setkey_ $s -D; logs;
		    atf_fail "$s's SAs are not ESP in UDP 4500 <-> 4500: $got"; }
	done
	[ "$(sad A)" = "$(sad B)" ] ||
	    { sad A; sad B; atf_fail "A's and B's SAs are not the same pair"; }
}
natt_forced_cleanup() { netns_cleanup; }

atf_test_case install_policies cleanup
install_policies_head()
{
	atf_set "descr" "install-policies: iked puts the rule's flows in the SPD (OpenBSD's model) and takes them out at exit"
	atf_set "require.user" "root"
}
install_policies_body()
{
	ike_init
	pair
	echo "ikev1 \"b\" active esp transport install-policies from 192.0.2.1 to 192.0.2.2 local 192.0.2.1 peer 192.0.2.2 psk \"$PSK\"" >A.conf
	echo "ikev1 \"a\" passive esp transport install-policies from 192.0.2.2 to 192.0.2.1 local 192.0.2.2 peer 192.0.2.1 psk \"$PSK\"" >B.conf
	iked A A.conf
	iked B B.conf
	wait_for 5 sh -c "PFKEY_SOCKET=$PWD/A.sock ip netns exec $(ns A) $SETKEY -DP | grep -q 'esp/transport//require'" ||
	    { setkey_ A -DP; atf_fail "A's SPD has no installed policy"; }
	in_ A ping -c 2 -i 0.2 -W 5 192.0.2.2 >/dev/null || { logs; atf_fail "pings"; }
	atf_check_equal 2 "$(mature A)"
	kill "$(cat A.iked.pid)"
	wait_for 5 sh -c "! kill -0 $(cat A.iked.pid)"
	n=$(setkey_ A -DP | grep -c 'esp/transport' || true)
	[ "$n" = 0 ] || { setkey_ A -DP; logs; cat A.log; atf_fail "A's policies stayed after iked exited"; }
	[ "$(mature A)" = 0 ] || { setkey_ A -D; logs; atf_fail "A's SAs stayed after iked exited"; }
}
install_policies_cleanup() { netns_cleanup; }

atf_test_case algorithms cleanup
algorithms_head()
{
	atf_set "descr" "Main Mode and Quick Mode transforms: 3DES/SHA1/MODP1024 to AES-256/SHA2-512/ECP-384, ESP with AES-CBC+HMAC-SHA2, GCM and ChaCha20-Poly1305, with and without PFS"
	atf_set "require.user" "root"
	atf_set "timeout" "120"
}
algorithms_body()
{
	ike_init
	pair
	spd A 192.0.2.1 192.0.2.2
	spd B 192.0.2.2 192.0.2.1
	for t in \
	    "main enc 3des auth hmac-sha1 group modp1024 quick enc aes-128 auth hmac-sha1|3des|esp 12/128 auth 2" \
	    "main enc aes-192 auth hmac-sha2-384 group modp1536 quick enc aes-256 auth hmac-sha2-384 group modp1536|aes|esp 12/256 auth 13, pfs" \
	    "main enc aes-256 auth hmac-sha2-512 group ecp384 quick enc chacha20-poly1305|aes|esp 28/256 auth 0" \
	    "main enc aes-128 auth hmac-sha2-256 group ecp256 quick enc aes-256-gcm group ecp521|aes|esp 20/256 auth 0, pfs" \
	    "main enc aes-256 auth hmac-sha2-256 group modp3072 quick enc aes-128 auth hmac-sha2-512 group modp2048|aes|esp 12/128 auth 14, pfs"; do
		xf=${t%%|*}
		want=${t##*|}
		[ -f A.iked.pid ] && kill "$(cat A.iked.pid)" "$(cat B.iked.pid)"
		sleep 0.3
		setkey_ A -F
		setkey_ B -F
		rule b active 192.0.2.1 192.0.2.2 $xf >A.conf
		rule a passive 192.0.2.2 192.0.2.1 $xf >B.conf
		: >A.iked.log
		: >B.iked.log
		iked A A.conf
		iked B B.conf
		in_ A ping -c 2 -i 0.2 -W 5 192.0.2.2 >/dev/null ||
		    { logs; atf_fail "no ping with: $xf"; }
		grep -q "quick mode done.*$want" A.iked.log ||
		    { logs; atf_fail "$xf: A did not install '$want'"; }
		echo "ok: $xf"
	done
}
algorithms_cleanup() { netns_cleanup; }

atf_test_case responder_lifetime cleanup
responder_lifetime_head()
{
	atf_set "descr" "A responder with a shorter lifetime says RESPONDER-LIFETIME; both sides' SAs get it"
	atf_set "require.user" "root"
}
responder_lifetime_body()
{
	ike_init
	founding 4 passive "lifetime 2h" "lifetime 20m bytes 100M"
	in_ A ping -c 1 -W 5 192.0.2.2 >/dev/null || { logs; atf_fail "ping"; }
	grep -q 'RESPONDER-LIFETIME: 1200 s, 104857600 bytes' A.iked.log ||
	    { logs; atf_fail "A did not take B's lifetimes"; }
	for s in A B; do
		n=$(setkey_ $s -D | grep -c 'hard: 1200(s)' || true)
		[ "$n" = 2 ] || { setkey_ $s -D; atf_fail "$s: SAs without the 1200 s hard lifetime"; }
	done
}
responder_lifetime_cleanup() { netns_cleanup; }

atf_test_case dpd cleanup
dpd_head()
{
	atf_set "descr" "Dead peer detection: B's iked stops answering, A declares it dead after dpd_maxfail R-U-THERE and deletes the SAs"
	atf_set "require.user" "root"
	atf_set "timeout" "120"
}
dpd_body()
{
	ike_init
	pair
	spd A 192.0.2.1 192.0.2.2
	spd B 192.0.2.2 192.0.2.1
	{ echo "set dpd_check_interval 2"; echo "set dpd_maxfail 3"
	    rule b active 192.0.2.1 192.0.2.2; } >A.conf
	{ echo "set dpd_check_interval 2"; rule a passive 192.0.2.2 192.0.2.1; } >B.conf
	iked A A.conf
	iked B B.conf
	in_ A ping -c 1 -W 5 192.0.2.2 >/dev/null || { logs; atf_fail "ping"; }
	# A live peer answers: no miss after a few probes.
	sleep 5
	grep -q 'dead peer' A.iked.log && { logs; atf_fail "a live peer declared dead"; }
	atf_check_equal 2 "$(mature A)"
	iked_kill STOP B.iked.pid
	wait_for 30 grep -q 'dead peer: 3 R-U-THERE unanswered' A.iked.log ||
	    { iked_kill CONT B.iked.pid; logs; atf_fail "A did not detect the dead peer"; }
	iked_kill CONT B.iked.pid
	wait_for 5 sh -c "[ \$(PFKEY_SOCKET=$PWD/A.sock ip netns exec $(ns A) $SETKEY -D | grep -c state=mature) = 0 ]" ||
	    { setkey_ A -D; atf_fail "A kept the dead peer's SAs"; }
}
dpd_cleanup() { netns_cleanup; }

atf_test_case reload cleanup
reload_head()
{
	atf_set "descr" "SIGHUP reloads iked.conf: established SAs stay, a broken file is refused, the new rules apply"
	atf_set "require.user" "root"
}
reload_body()
{
	ike_init
	founding 4 passive "" "quick enc aes-128-gcm enc aes-256-gcm"
	in_ A ping -c 1 -W 5 192.0.2.2 >/dev/null || { logs; atf_fail "ping"; }
	before=$(setkey_ A -D | grep -o 'spi=[0-9]*' | sort)
	echo 'ikev1 "broken" active esp nonsense' >>A.conf
	kill -HUP "$(cat A.iked.pid)"
	wait_for 5 grep -q 'keeping the running configuration' A.iked.log ||
	    { logs; atf_fail "A accepted a broken file"; }
	grep -q 'A.conf:2:' A.iked.log || { logs; atf_fail "no file:line for the error"; }
	rule b active 192.0.2.1 192.0.2.2 "quick enc aes-256-gcm" >A.conf
	kill -HUP "$(cat A.iked.pid)"
	wait_for 5 grep -q 'configuration reloaded' A.iked.log ||
	    { logs; atf_fail "A did not reload"; }
	after=$(setkey_ A -D | grep -o 'spi=[0-9]*' | sort)
	atf_check_equal "$before" "$after"
	in_ A ping -c 2 -i 0.2 -W 2 192.0.2.2 >/dev/null || { logs; atf_fail "pings after the reload"; }
	# New negotiations use the new rule.
	setkey_ A -F
	setkey_ B -F
	in_ A ping -c 1 -W 5 192.0.2.2 >/dev/null || { logs; atf_fail "ping with the new rule"; }
	grep -q 'quick mode done.*esp 20/256' A.iked.log ||
	    { logs; atf_fail "the new rule's transform was not used"; }
}
reload_cleanup() { netns_cleanup; }

atf_test_case generate_policy cleanup
generate_policy_head()
{
	atf_set "descr" "generate-policy: a responder without policies installs the peer's selectors (with a warning) and traffic flows"
	atf_set "require.user" "root"
}
generate_policy_body()
{
	ike_init
	pair
	spd A 192.0.2.1 192.0.2.2
	rule b active 192.0.2.1 192.0.2.2 >A.conf
	echo "ikev1 \"gen\" passive esp transport generate-policy from any to any peer any psk \"$PSK\"" >B.conf
	iked A A.conf
	iked B B.conf
	grep -q 'generate-policy.*dangerous' B.iked.log || { logs; atf_fail "no warning at start"; }
	in_ A ping -c 2 -i 0.2 -W 5 192.0.2.2 >/dev/null || { logs; atf_fail "pings"; }
	grep -q 'generate-policy: installing' B.iked.log || { logs; atf_fail "B installed nothing"; }
	setkey_ B -DP | grep -q 'esp/transport//require' || { setkey_ B -DP; atf_fail "B's SPD has no generated policy"; }
	atf_check_equal 2 "$(mature B)"
}
generate_policy_cleanup() { netns_cleanup; }

atf_test_case hostile cleanup
hostile_head()
{
	atf_set "descr" "Garbage datagrams and a flood of Main Mode starts from one address: all dropped and counted, iked stays up, another peer still negotiates"
	atf_set "require.user" "root"
	atf_set "timeout" "120"
}
hostile_body()
{
	ike_init
	command -v python3 >/dev/null || atf_skip "python3 is not installed"
	pair
	ip -n "$(ns A)" addr add 192.0.2.11/24 dev vA
	spd A 192.0.2.1 192.0.2.2
	spd B 192.0.2.2 192.0.2.1
	rule b active 192.0.2.1 192.0.2.2 >A.conf
	echo "ikev1 \"any\" passive esp transport from any to any peer any psk \"$PSK\"" >B.conf
	iked B B.conf
	# A real MM1 (the fuzz seed): a flood of it with fresh cookies.
	mm1="$TOP/regress/fuzz/corpus/iked/mm1"
	[ -f "$mm1" ] || atf_fail "no MM1 seed at $mm1"
	cat >flood.py <<'X'
import os, random, socket, sys
mm1 = open(sys.argv[1], "rb").read()[3:]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.0.2.11", 500))
t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t.bind(("192.0.2.11", 4500))
rnd = random.Random(7)
for i in range(300):
    junk = bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 600)))
    if i % 3 == 0 and len(junk) >= 28:
        junk = junk[:17] + b"\x10" + junk[18:]     # claims IKEv1
    (t if i % 5 == 0 else s).sendto(junk if i % 5 else b"\0\0\0\0" + junk,
                                    ("192.0.2.2", 4500 if i % 5 == 0 else 500))
for i in range(400):
    m = bytearray(mm1)
    m[0:8] = os.urandom(8)
    s.sendto(bytes(m), ("192.0.2.2", 500))
X
	in_ A /usr/bin/python3 flood.py "$mm1" || in_ A python3 flood.py "$mm1" ||
	    atf_fail "the flood script failed"
	sleep 1
	kill -0 "$(cat B.iked.pid)" || { logs; atf_fail "B's iked died"; }
	kill -USR1 "$(cat B.iked.pid)"
	wait_for 5 grep -q 'stats:' B.iked.log || { logs; atf_fail "no stats"; }
	st=$(grep 'stats:' B.iked.log | tail -1)
	echo "$st"
	dropped=$(echo "$st" | sed -n 's/.* dropped \([0-9]*\) .*/\1/p')
	refused=$(echo "$st" | sed -n 's/.*halfopen-refused \([0-9]*\).*/\1/p')
	[ "${dropped:-0}" -ge 100 ] || atf_fail "only ${dropped:-0} datagrams counted as dropped"
	[ "${refused:-0}" -ge 100 ] || atf_fail "only ${refused:-0} half-open refusals"
	n=$(grep -c 'too many half-open' B.iked.log)
	[ "$n" -le 12 ] || atf_fail "$n log lines for one flood (not rate-limited)"
	# A real peer, from another address, still gets its SAs.
	iked A A.conf
	in_ A ping -c 1 -W 5 192.0.2.2 >/dev/null || { logs | tail -30; atf_fail "the real peer could not negotiate"; }
	atf_check_equal 2 "$(mature B)"
}
hostile_cleanup() { netns_cleanup; }

atf_init_test_cases()
{
	ike_add_cases
	atf_add_test_case qm3_lost
	atf_add_test_case natt_forced
	atf_add_test_case install_policies
	atf_add_test_case algorithms
	atf_add_test_case responder_lifetime
	atf_add_test_case dpd
	atf_add_test_case reload
	atf_add_test_case generate_policy
	atf_add_test_case hostile
}
