# iked <-> iked over IKEv2 in network namespaces: the founding scenario
# (the SPD from setkey requires ESP, the kernel's ACQUIRE starts
# IKE_SA_INIT and IKE_AUTH, the first ping is answered), IPv6, tunnel
# mode between gateways, either side initiating or both at once, wrong
# keys and proposals, INVALID_KE_PAYLOAD and COOKIE, a lossy link, child
# rekeying under traffic, a restarted peer, NAT traversal.

. "$(atf_get_srcdir)/../lib/netns.subr"
. "$(atf_get_srcdir)/../lib/ike.subr"

IKEV=ikev2

# The founding sequence over IKEv2 and what each side must have logged.
founding_check()
{
	founding_ping
	for s in 'acquire seq [0-9]*: policy' 'IKE_SA_INIT -> SA, KE' \
	    'IKE_SA_INIT <- SA' 'IKE_AUTH -> IDi, AUTH, SA, TSi, TSr' \
	    'IKE_AUTH <- IDr, AUTH verified' 'child SA done: SAs in' \
	    'IKE SA established (initiator'; do
		grep -q "$s" A.iked.log || { logs; atf_fail "A did not log '$s'"; }
	done
	for s in 'IKE_SA_INIT <- SA, KE, Ni; -> SA' \
	    'IKE_AUTH <- IDi, AUTH verified' 'IKE_AUTH -> IDr, AUTH, SA' \
	    'child SA done: SAs in' 'IKE SA established (responder'; do
		grep -q "$s" B.iked.log || { logs; atf_fail "B did not log '$s'"; }
	done
	founding_pair 4
}

atf_test_case founding4 cleanup
founding4_head()
{
	atf_set "descr" "IKEv2 founding scenario, IPv4: ACQUIRE, IKE_SA_INIT, IKE_AUTH, the first ping answered, only ESP on the wire"
	atf_set "require.user" "root"
}
founding4_body()
{
	ike_init
	founding 4 passive
	founding_check
}
founding4_cleanup() { netns_cleanup; }

atf_test_case founding6 cleanup
founding6_head()
{
	atf_set "descr" "IKEv2 founding scenario over IPv6, with x25519 and ChaCha20-Poly1305"
	atf_set "require.user" "root"
}
founding6_body()
{
	ike_init
	founding 6 passive \
	    "ikesa enc chacha20-poly1305 prf hmac-sha2-256 group curve25519 childsa enc chacha20-poly1305" \
	    "ikesa enc chacha20-poly1305 prf hmac-sha2-256 group curve25519 childsa enc chacha20-poly1305"
	founding_check
	grep -q 'esp 28/256' A.iked.log || { logs; atf_fail "not ChaCha20-Poly1305"; }
}
founding6_cleanup() { netns_cleanup; }

atf_test_case tunnel4 cleanup
tunnel4_head()
{
	atf_set "descr" "IKEv2 gateway-to-gateway tunnel mode (AES-CBC+HMAC-SHA2, ECP-384) and a second child by CREATE_CHILD_SA with PFS"
	atf_set "require.user" "root"
}
tunnel4_body()
{
	ike_init
	gateways 2
	# unique: an SA pair per policy, so the second subnet needs its own.
	gateways_spd unique
	cat >GA.conf <<X
ikev2 "site-b" active esp tunnel from 10.1.0.0/23 to 10.2.0.0/24 \\
	local 192.0.2.1 peer 192.0.2.2 \\
	ikesa enc aes-256 auth hmac-sha2-256 prf hmac-sha2-384 group ecp384 \\
	childsa enc aes-256 auth hmac-sha2-256 group ecp384 \\
	psk "$PSK"
X
	gateways_mirror
	iked GA GA.conf
	iked GB GB.conf
	capture GA gao
	in_ HA ping -c 1 -W 5 10.2.0.2 >ping.out 2>&1 ||
	    { cat ping.out; logs; atf_fail "first ping through the tunnel"; }
	in_ HB ping -c 2 -i 0.2 -W 2 10.1.0.2 >/dev/null ||
	    { logs; atf_fail "ping back through the tunnel"; }
	# The second subnet: a CREATE_CHILD_SA on the same IKE SA.
	in_ HA ping -c 1 -W 5 -I 10.1.1.2 10.2.0.2 >/dev/null ||
	    { logs; atf_fail "first ping from the second subnet"; }
	capture_stop
	grep -q 'CREATE_CHILD_SA -> SA' GA.iked.log ||
	    { logs; atf_fail "GA did not use CREATE_CHILD_SA"; }
	n=$(grep -c 'IKE_SA_INIT ->' GA.iked.log)
	atf_check_equal 1 "$n"
	grep -q 'child SA done.*tunnel, esp 12/256 auth 12, pfs' GA.iked.log ||
	    { logs; atf_fail "GA: no tunnel-mode child with PFS"; }
	atf_check_equal 4 "$(mature GA)"
	n=$(tcpdump -n -r GA-gao.pcap icmp 2>/dev/null | wc -l)
	atf_check_equal 0 "$n"
}
tunnel4_cleanup() { netns_cleanup; }

atf_test_case either_side cleanup
either_side_head()
{
	atf_set "descr" "Either side initiates; then both acquire at once after a flush"
	atf_set "require.user" "root"
}
either_side_body()
{
	ike_init
	founding 4 active
	in_ B ping -c 1 -W 5 192.0.2.1 >/dev/null || { logs; atf_fail "B's first ping"; }
	grep -q 'IKE_SA_INIT ->' B.iked.log || { logs; atf_fail "B did not initiate"; }
	in_ A ping -c 2 -i 0.2 -W 2 192.0.2.2 >/dev/null || { logs; atf_fail "A's ping on B's SAs"; }
	grep -q 'IKE_SA_INIT ->' A.iked.log && atf_fail "A negotiated again"
	setkey_ A -F
	setkey_ B -F
	in_ A ping -c 3 -i 0.2 -W 5 192.0.2.2 >pa.out 2>&1 &
	pa=$!
	in_ B ping -c 3 -i 0.2 -W 5 192.0.2.1 >pb.out 2>&1 &
	pb=$!
	wait $pa || { cat pa.out; logs; atf_fail "A's pings while both acquired"; }
	wait $pb || { cat pb.out; logs; atf_fail "B's pings while both acquired"; }
	in_ A ping -c 2 -i 0.2 -W 2 192.0.2.2 >/dev/null || { logs; atf_fail "pings after"; }
}
either_side_cleanup() { netns_cleanup; }

atf_test_case psk_mismatch cleanup
psk_mismatch_head()
{
	atf_set "descr" "Different pre-shared keys: AUTHENTICATION_FAILED logged on both sides, no SA"
	atf_set "require.user" "root"
}
psk_mismatch_body()
{
	ike_init
	pair
	spd A 192.0.2.1 192.0.2.2
	spd B 192.0.2.2 192.0.2.1
	rule b active 192.0.2.1 192.0.2.2 >A.conf
	PSK="another-key" rule a passive 192.0.2.2 192.0.2.1 >B.conf
	iked A A.conf
	iked B B.conf
	in_ A ping -c 2 -W 3 192.0.2.2 >/dev/null 2>&1 && atf_fail "a ping crossed"
	wait_for 10 grep -q 'AUTHENTICATION_FAILED.*pre-shared key mismatch' B.iked.log ||
	    { logs; atf_fail "B did not say the keys differ"; }
	wait_for 10 grep -q 'IKE_AUTH <- AUTHENTICATION_FAILED' A.iked.log ||
	    { logs; atf_fail "A did not log B's refusal"; }
	atf_check_equal 0 "$(mature A)"
	atf_check_equal 0 "$(mature B)"
}
psk_mismatch_cleanup() { netns_cleanup; }

atf_test_case proposal_mismatch cleanup
proposal_mismatch_head()
{
	atf_set "descr" "No common IKE proposal (NO_PROPOSAL_CHOSEN), then no common child proposal (the IKE SA stands, no child)"
	atf_set "require.user" "root"
}
proposal_mismatch_body()
{
	ike_init
	pair
	spd A 192.0.2.1 192.0.2.2
	spd B 192.0.2.2 192.0.2.1
	rule b active 192.0.2.1 192.0.2.2 "ikesa enc aes-256-gcm group ecp256" >A.conf
	rule a passive 192.0.2.2 192.0.2.1 "ikesa enc aes-128-gcm group ecp256" >B.conf
	iked A A.conf
	iked B B.conf
	in_ A ping -c 1 -W 3 192.0.2.2 >/dev/null 2>&1 && atf_fail "a ping crossed"
	wait_for 5 grep -q 'IKE_SA_INIT: no proposal chosen' B.iked.log ||
	    { logs; atf_fail "B did not log the IKE SA mismatch"; }
	wait_for 5 grep -q 'IKE_SA_INIT <- NO_PROPOSAL_CHOSEN' A.iked.log ||
	    { logs; atf_fail "A did not log B's refusal"; }
	kill "$(cat A.iked.pid)" "$(cat B.iked.pid)"
	sleep 0.5
	rule b active 192.0.2.1 192.0.2.2 "childsa enc aes-256-gcm" >A.conf
	rule a passive 192.0.2.2 192.0.2.1 "childsa enc aes-128 auth hmac-sha2-512" >B.conf
	iked A A.conf
	iked B B.conf
	in_ A ping -c 1 -W 3 192.0.2.2 >/dev/null 2>&1 && atf_fail "a ping crossed"
	wait_for 5 grep -q 'child SA: NO_PROPOSAL_CHOSEN' B.iked.log ||
	    { logs; atf_fail "B did not log the child mismatch"; }
	grep -q 'IKE SA established' A.iked.log || { logs; atf_fail "no IKE SA"; }
	atf_check_equal 0 "$(mature A)"
	atf_check_equal 0 "$(mature B)"
}
proposal_mismatch_cleanup() { netns_cleanup; }

atf_test_case invalid_ke cleanup
invalid_ke_head()
{
	atf_set "descr" "INVALID_KE_PAYLOAD: A's KE is curve25519, B takes only ECP-256; A retries with ECP-256"
	atf_set "require.user" "root"
}
invalid_ke_body()
{
	ike_init
	founding 4 passive "ikesa enc aes-128-gcm prf hmac-sha2-256 group curve25519 group ecp256" \
	    "ikesa enc aes-128-gcm prf hmac-sha2-256 group ecp256"
	in_ A ping -c 1 -W 5 192.0.2.2 >/dev/null || { logs; atf_fail "ping"; }
	grep -q 'KE of group 31, we want 19: INVALID_KE_PAYLOAD' B.iked.log ||
	    { logs; atf_fail "B did not ask for its group"; }
	grep -q 'INVALID_KE_PAYLOAD: retrying with group 19' A.iked.log ||
	    { logs; atf_fail "A did not retry"; }
	grep -q 'IKE_SA_INIT <- SA (.*group 19)' A.iked.log ||
	    { logs; atf_fail "not ECP-256"; }
}
invalid_ke_cleanup() { netns_cleanup; }

atf_test_case cookie cleanup
cookie_head()
{
	atf_set "descr" "COOKIE: with 32 half-open SAs B asks new initiators for a cookie; A retries with it and gets its SAs"
	atf_set "require.user" "root"
	atf_set "timeout" "120"
}
cookie_body()
{
	ike_init
	command -v python3 >/dev/null || atf_skip "python3 is not installed"
	founding 4 passive
	ip -n "$(ns A)" addr add 192.0.2.11/24 dev vA
	# A real IKE_SA_INIT to replay, from a first negotiation.
	ip netns exec "$(ns B)" tcpdump -i vB -U -n --immediate-mode -w init.pcap \
	    'udp dst port 500' >/dev/null 2>&1 &
	tp=$!
	echo $tp >>daemons.pids
	sleep 1
	in_ A ping -c 1 -W 5 192.0.2.2 >/dev/null || { logs; atf_fail "first negotiation"; }
	sleep 0.3
	kill -INT $tp
	wait $tp
	kill "$(cat A.iked.pid)" "$(cat B.iked.pid)"
	sleep 0.5
	setkey_ A -F
	setkey_ B -F
	: >A.iked.log
	: >B.iked.log
	echo "ikev2 \"any\" passive esp transport from any to any peer any psk \"$PSK\"" >B.conf
	iked B B.conf
	cat >flood.py <<'X'
import os, socket, sys
from scapy.all import rdpcap, UDP
init = None
for p in rdpcap(sys.argv[1]):
    if UDP in p and p[UDP].dport == 500:
        b = bytes(p[UDP].payload)
        if len(b) > 28 and b[18] == 34:
            init = bytearray(b)
            break
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.0.2.11", 500))
for i in range(40):
    init[0:8] = os.urandom(8)
    s.sendto(bytes(init), ("192.0.2.2", 500))
X
	in_ A /usr/bin/python3 flood.py init.pcap || atf_fail "the replay script failed"
	sleep 1
	iked A A.conf
	in_ A ping -c 1 -W 8 192.0.2.2 >/dev/null || { logs | tail -40; atf_fail "no SA behind the cookie"; }
	grep -q 'IKE_SA_INIT <- N(COOKIE)' A.iked.log || { cat A.iked.log B.iked.log; atf_fail "A got no COOKIE"; }
	grep -q 'IKE_SA_INIT -> SA, KE (group [0-9]*), Ni, N(NAT_D), N(COOKIE)' A.iked.log ||
	    { logs | tail -40; atf_fail "A did not retry with the cookie"; }
}
cookie_cleanup() { netns_cleanup; }

atf_test_case lossy cleanup
lossy_head()
{
	atf_set "descr" "30% random loss of IKE packets both ways: retransmissions and the response cache still establish the SAs"
	atf_set "require.user" "root"
	atf_set "timeout" "300"
}
lossy_body()
{
	ike_init
	founding 4 passive
	in_ B iptables -A INPUT -p udp --dport 500 -m statistic \
	    --mode random --probability 0.3 -j DROP
	in_ B iptables -A OUTPUT -p udp --sport 500 -m statistic \
	    --mode random --probability 0.3 -j DROP
	i=0
	until in_ A ping -c 1 -W 2 192.0.2.2 >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 60 ] || { logs; atf_fail "no SA after 60 tries"; }
	done
	in_ A ping -c 3 -i 0.2 -W 2 192.0.2.2 >/dev/null || { logs; atf_fail "pings after"; }
	atf_check_equal 2 "$(mature B)"
}
lossy_cleanup() { netns_cleanup; }

atf_test_case rekey cleanup
rekey_head()
{
	atf_set "descr" "A 12 s child lifetime: CREATE_CHILD_SA with REKEY_SA under a continuous ping that loses nothing"
	atf_set "require.user" "root"
	atf_set "timeout" "120"
}
rekey_body()
{
	ike_init
	founding 4 passive "lifetime 12s" "lifetime 12s"
	in_ A ping -c 1 -W 5 192.0.2.2 >/dev/null || { logs; atf_fail "first ping"; }
	in_ A ping -c 150 -i 0.2 -W 1 192.0.2.2 >ping.out 2>&1
	tail -3 ping.out
	grep -q ' 0% packet loss' ping.out || { logs; atf_fail "packets lost across the rekey"; }
	grep -q 'CREATE_CHILD_SA -> N(REKEY_SA)' A.iked.log || { logs; atf_fail "A did not rekey"; }
	grep -q 'rekeyed, deleting old SAs' A.iked.log || { logs; atf_fail "A did not retire the old SAs"; }
	n=$(grep -c 'child SA done' A.iked.log)
	[ "$n" -ge 3 ] || { logs; atf_fail "only $n children in 30 s"; }
	[ "$(mature A)" -le 4 ] || { setkey_ A -D; atf_fail "old SAs piled up"; }
}
rekey_cleanup() { netns_cleanup; }

atf_test_case restart cleanup
restart_head()
{
	atf_set "descr" "B restarts: its INITIAL_CONTACT makes A drop the stale SAs; traffic resumes"
	atf_set "require.user" "root"
}
restart_body()
{
	ike_init
	founding 4 active
	in_ A ping -c 2 -i 0.2 -W 5 192.0.2.2 >/dev/null || { logs; atf_fail "first pings"; }
	old=$(setkey_ A -D | grep -o 'spi=[0-9]*' | sort)
	kill -9 "$(cat B.iked.pid)"
	setkey_ B -F
	iked B B.conf
	in_ B ping -c 1 -W 15 192.0.2.1 >/dev/null || { logs; atf_fail "B's ping after its restart"; }
	grep -q 'INITIAL-CONTACT' A.iked.log || { logs; atf_fail "A saw no INITIAL_CONTACT"; }
	new=$(setkey_ A -D | grep -o 'spi=[0-9]*' | sort)
	for s in $old; do
		echo "$new" | grep -qx "$s" && atf_fail "A still holds stale SA $s"
	done
	atf_check_equal 2 "$(mature A)"
	in_ A ping -c 2 -i 0.2 -W 2 192.0.2.2 >/dev/null || { logs; atf_fail "A's pings after"; }
}
restart_cleanup() { netns_cleanup; }

atf_test_case natt cleanup
natt_head()
{
	atf_set "descr" "A behind a NAT (MASQUERADE): NAT detection, IKE floats to 4500 after IKE_SA_INIT, ESP in UDP"
	atf_set "require.user" "root"
}
natt_body()
{
	ike_init
	natt_founding
	natt_check
}
natt_cleanup() { netns_cleanup; }

atf_test_case ike_rekey cleanup
ike_rekey_head()
{
	atf_set "descr" "A 16 s IKE SA lifetime: the IKE SA is rekeyed (CREATE_CHILD_SA for IKE), the child SAs move to it, a ping loses nothing, and the new IKE SA carries later exchanges"
	atf_set "require.user" "root"
	atf_set "timeout" "120"
}
ike_rekey_body()
{
	ike_init
	founding 4 passive "ikelifetime 16s" "ikelifetime 16s"
	in_ A ping -c 1 -W 5 192.0.2.2 >/dev/null || { logs; atf_fail "first ping"; }
	in_ A ping -c 100 -i 0.2 -W 1 192.0.2.2 >ping.out 2>&1
	tail -2 ping.out
	grep -q ' 0% packet loss' ping.out || { logs; atf_fail "packets lost across the IKE SA rekey"; }
	grep -q 'rekeying the IKE SA' A.iked.log || { logs; atf_fail "A did not rekey the IKE SA"; }
	grep -q 'IKE SA rekeyed' A.iked.log || { logs; atf_fail "A: no new IKE SA"; }
	grep -q 'the peer rekeys the IKE SA' B.iked.log || { logs; atf_fail "B did not answer the rekey"; }
	grep -q 'INFORMATIONAL <- DELETE IKE SA' B.iked.log || { logs; atf_fail "the old IKE SA was not deleted"; }
	atf_check_equal 2 "$(mature A)"
	# A new child rides the rekeyed IKE SA: no new IKE_SA_INIT.
	setkey_ A -F
	setkey_ B -F
	in_ A ping -c 1 -W 5 192.0.2.2 >/dev/null || { logs; atf_fail "ping after the IKE rekey"; }
	n=$(grep -c 'IKE_SA_INIT ->' A.iked.log)
	atf_check_equal 1 "$n"
	grep -q 'CREATE_CHILD_SA -> SA' A.iked.log || { logs; atf_fail "no CREATE_CHILD_SA on the new IKE SA"; }
}
ike_rekey_cleanup() { netns_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case founding4
	atf_add_test_case founding6
	atf_add_test_case tunnel4
	atf_add_test_case either_side
	atf_add_test_case psk_mismatch
	atf_add_test_case proposal_mismatch
	atf_add_test_case invalid_ke
	atf_add_test_case cookie
	atf_add_test_case lossy
	atf_add_test_case rekey
	atf_add_test_case restart
	atf_add_test_case natt
	atf_add_test_case ike_rekey
}
