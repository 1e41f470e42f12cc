# iked <-> iked over IKEv2 in network namespaces, each side running
# netipsecd (the kernel) and iked.  The cases both versions share
# (founding, tunnel mode, either side, mismatches, loss, rekey, restart,
# NAT-T) are in ikecases.subr; here what only IKEv2 has:
# INVALID_KE_PAYLOAD, COOKIE and the IKE SA rekey.

IKEV=ikev2

. "$(atf_get_srcdir)/../lib/netns.subr"
. "$(atf_get_srcdir)/../lib/ike.subr"
. "$(atf_get_srcdir)/../lib/ikecases.subr"

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

atf_test_case esp_ah_bundle cleanup
esp_ah_bundle_head()
{
	atf_set "descr" "A policy esp/transport//require ah/transport//require: the kernel ACQUIREs an ESP and an AH SA; IKE cannot negotiate the pair, and iked says so once for the policy, answers each ACQUIRE with an error and starts no exchange"
	atf_set "require.user" "root"
}
esp_ah_bundle_body()
{
	ike_init
	pair
	a=192.0.2.1 b=192.0.2.2
	cat >A.spd <<X
spdadd $a $b any -P out ipsec esp/transport//require ah/transport//require;
spdadd $b $a any -P in ipsec esp/transport//require ah/transport//require;
X
	keys A A.spd
	spd B $b $a
	rule b active $a $b >A.conf
	rule a passive $b $a >B.conf
	iked A A.conf
	iked B B.conf
	capture A vA
	in_ A ping -c 1 -W 2 "$b" >/dev/null 2>&1 && atf_fail "a ping crossed"
	sleep 1.2
	in_ A ping -c 1 -W 2 "$b" >/dev/null 2>&1 && atf_fail "a ping crossed"
	capture_stop
	_n=$(grep -c 'policy [0-9]* asks for ESP and AH together, which IKE does not negotiate' A.iked.log || true)
	[ "$_n" = 1 ] || { logs; atf_fail "the error logged $_n times, not once"; }
	grep -q 'IKE_SA_INIT ->' A.iked.log && { logs; atf_fail "A started IKE"; }
	_n=$(tcpdump -n -r A-vA.pcap 'udp port 500 or icmp' 2>/dev/null | wc -l)
	[ "$_n" = 0 ] || atf_fail "$_n IKE or ICMP packets on the wire"
}
esp_ah_bundle_cleanup() { netns_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case esp_ah_bundle
	ike_add_cases
	atf_add_test_case invalid_ke
	atf_add_test_case cookie
	atf_add_test_case ike_rekey
}
