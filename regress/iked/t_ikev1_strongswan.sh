# Interop: our iked (IKEv1 Main Mode + Quick Mode, PSK) against
# strongSwan's charon, in the two namespaces of swan.subr: tunnel mode
# between 10.1.0.0/24 (S, charon) and 10.2.0.0/24 (I, netipsecd +
# setkey + iked).  charon's kernel-libipsec always asks for UDP
# encapsulation, so our side must do RFC 3947 NAT-T: vendor ID, NAT-D,
# floating to 4500 and UDP-encapsulated tunnel SAs.
#
# The cases: our iked as initiator (traffic from I triggers the
# ACQUIRE), as responder (swanctl --initiate), strongSwan rekeying the
# Quick Mode SA (swanctl --rekey --child), and our short lifetime
# rekeying it from our side; pings must cross both ways, as
# ESP-in-UDP only.

. "$(atf_get_srcdir)/../lib/netns.subr"
. "$(atf_get_srcdir)/../lib/swan.subr"

SS_V=1
SS_IKE=aes128-sha256-modp2048
SS_ESP=aes128-sha256-modp2048
# Main Mode only; charon's DPD timeout (IKEv1 only) for the dpd case.
SS_CONN_OPTS='aggressive = no
		dpd_timeout = 20s'

atf_test_case initiator cleanup
initiator_head()
{
	atf_set descr "IKEv1 MM+QM PSK, tunnel, NAT-T: iked initiates on ACQUIRE, strongSwan responds"
	atf_set require.user root
	atf_set timeout 180
}
initiator_body()
{
	setup
	# The first packets wait for the SA (ACQUIRE); poll until one passes.
	wait_for 30 in_ I ping -c 1 -W 2 -I 10.2.0.1 10.1.0.1 ||
	    { dump; atf_fail "no tunnel after the ACQUIRE"; }
	grep -q 'phase 1 established (initiator' iked.log ||
	    { dump; atf_fail "iked was not the initiator"; }
	check_sas
	check_traffic
}
initiator_cleanup() { ss_cleanup; }

atf_test_case responder cleanup
responder_head()
{
	atf_set descr "IKEv1 MM+QM PSK, tunnel, NAT-T: strongSwan initiates (swanctl --initiate), iked responds"
	atf_set require.user root
	atf_set timeout 180
}
responder_body()
{
	setup
	sw --initiate --child v1-net --timeout 30 >initiate.out 2>&1 ||
	    { cat initiate.out; dump; atf_fail "swanctl --initiate failed"; }
	grep -q 'phase 1 established (responder' iked.log ||
	    { dump; atf_fail "iked was not the responder"; }
	check_sas
	check_traffic
}
responder_cleanup() { ss_cleanup; }

atf_test_case rekey_strongswan cleanup
rekey_strongswan_head()
{
	atf_set descr "strongSwan rekeys the Quick Mode SA (swanctl --rekey --child); pings still pass"
	atf_set require.user root
	atf_set timeout 180
}
rekey_strongswan_body()
{
	setup
	sw --initiate --child v1-net --timeout 30 >initiate.out 2>&1 ||
	    { cat initiate.out; dump; atf_fail "swanctl --initiate failed"; }
	check_traffic
	spis0=$(ss_spis)
	sw --rekey --child v1-net >rekey.out 2>&1 ||
	    { cat rekey.out; dump; atf_fail "swanctl --rekey failed"; }
	ss_wait_children 30 2 ||
	    { dump; atf_fail "strongSwan did not rekey its CHILD_SA"; }
	# strongSwan keeps an IKEv1 rekeyed pair to its end (delete_rekeyed
	# = no): iked, which now has two pairs for one policy, deletes the
	# old one after its grace period and sends DELETE.
	ss_wait_children 30 1 ||
	    { dump; atf_fail "the rekeyed pair was not deleted"; }
	spis1=$(ss_spis)
	echo "strongSwan SPIs (in out): $spis0 -> $spis1"
	[ -n "$spis1" ] && [ "$spis1" != "$spis0" ] ||
	    { dump; atf_fail "no new installed child after the rekey"; }
	grep -q 'the peer rekeyed SAs' iked.log ||
	    { dump; atf_fail "iked did not see the rekey"; }
	check_traffic
	check_spis $spis1
}
rekey_strongswan_cleanup() { ss_cleanup; }

atf_test_case rekey_iked cleanup
rekey_iked_head()
{
	atf_set descr "iked rekeys on its short Quick Mode lifetime (soft EXPIRE); pings still pass"
	atf_set require.user root
	atf_set timeout 240
}
rekey_iked_body()
{
	setup "lifetime 30s"
	wait_for 30 in_ I ping -c 1 -W 2 -I 10.2.0.1 10.1.0.1 ||
	    { dump; atf_fail "no tunnel after the ACQUIRE"; }
	check_traffic
	spis0=$(ss_spis)
	# The soft lifetime comes before 30 s: a second Quick Mode, then the
	# old pair goes (DELETE) after the grace period.
	wait_for 90 grep -q 'rekeyed, deleting old SAs' iked.log ||
	    { dump; atf_fail "iked did not rekey within 90 s"; }
	grep 'soft lifetime\|quick mode done\|deleting old' iked.log
	ss_wait_children 30 1 ||
	    { dump; atf_fail "strongSwan kept the rekeyed pair"; }
	spis1=$(ss_spis)
	echo "strongSwan SPIs (in out): $spis0 -> $spis1"
	[ -n "$spis1" ] && [ "$spis1" != "$spis0" ] ||
	    { dump; atf_fail "no new installed child after the rekey"; }
	check_traffic
	check_spis $spis1
}
rekey_iked_cleanup() { ss_cleanup; }

atf_test_case restart cleanup
restart_head()
{
	atf_set descr "strongSwan crashes and comes back: its INITIAL-CONTACT clears iked's stale SAs, traffic resumes"
	atf_set require.user root
	atf_set timeout 180
}
restart_body()
{
	setup
	sw --initiate --child v1-net --timeout 30 >initiate.out 2>&1 ||
	    { cat initiate.out; dump; atf_fail "swanctl --initiate failed"; }
	check_traffic
	spis0=$(ss_spis)
	# A crash: no DELETE reaches iked, whose SAs are now stale.
	pid=$(cat charon.pid)
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	charon_start
	sw --initiate --child v1-net --timeout 30 >initiate.out 2>&1 ||
	    { cat initiate.out; dump; atf_fail "swanctl --initiate after the restart failed"; }
	grep -q 'INITIAL-CONTACT: the peer restarted' iked.log ||
	    { dump; atf_fail "iked did not act on INITIAL-CONTACT"; }
	spis1=$(ss_spis)
	echo "strongSwan SPIs (in out): $spis0 -> $spis1"
	[ -n "$spis1" ] && [ "$spis1" != "$spis0" ] ||
	    { dump; atf_fail "no new child after the restart"; }
	check_sas
	[ "$(grep -c 'esp-udp mode=tunnel' sad.out)" -eq 2 ] ||
	    { dump; atf_fail "stale SAs left in our SAD"; }
	check_traffic
	check_spis $spis1
}
restart_cleanup() { ss_cleanup; }

atf_test_case dpd cleanup
dpd_head()
{
	atf_set descr "RFC 3706 DPD both ways: each side answers the other's R-U-THERE; the SAs stay"
	atf_set require.user root
	atf_set timeout 180
}
dpd_body()
{
	SS_DPD_DELAY=5s
	setup "" "set dpd_check_interval 5"
	sw --initiate --child v1-net --timeout 30 >initiate.out 2>&1 ||
	    { cat initiate.out; dump; atf_fail "swanctl --initiate failed"; }
	# Unanswered, iked gives up after its 5th probe (about 30 s);
	# strongSwan after dpd_timeout (20 s) without an answer.
	wait_for 90 sh -c '[ "$(grep -c "informational -> R-U-THERE$" iked.log)" -ge 7 ] || grep -q "dead peer" iked.log' ||
	    { dump; atf_fail "iked sent no DPD probes"; }
	grep -q 'dead peer' iked.log &&
	    { dump; atf_fail "strongSwan does not answer iked's R-U-THERE"; }
	grep -q 'informational -> R-U-THERE-ACK' iked.log ||
	    { dump; atf_fail "strongSwan sent no R-U-THERE, or iked did not answer"; }
	grep -iq 'DPD.*timeout\|giving up' ss/charon.log &&
	    { dump; atf_fail "strongSwan declared iked dead"; }
	check_sas
	check_traffic
}
dpd_cleanup() { ss_cleanup; }

atf_test_case cert_initiator cleanup
cert_initiator_head()
{
	atf_set descr "IKEv1 Main Mode with RSA signatures and certificates from strongSwan's pki: iked initiates; both verify the other's SIG"
	atf_set require.user root
	atf_set timeout 180
}
cert_initiator_body()
{
	SS_PKI="rsa rsa"
	SS_LOCAL_ID="id = s.ss.test"
	SS_REMOTE_ID="id = i.ss.test"
	SS_IKED_CONF="$(atf_get_srcdir)/../../share/examples/iked/strongswan-ikev1-cert.conf"
	setup "srcid i.ss.test dstid s.ss.test"
	wait_for 30 in_ I ping -c 1 -W 2 -I 10.2.0.1 10.1.0.1 ||
	    { dump; atf_fail "no tunnel after the ACQUIRE"; }
	grep -q "main mode: the peer's RSA signature verified (certificate)" iked.log ||
	    { dump; atf_fail "iked did not verify charon's signature"; }
	grep -q "authentication of 'i.ss.test' with RSA.* successful" ss/charon.log ||
	    { dump; atf_fail "charon did not verify iked's signature"; }
	check_sas
	check_traffic
}
cert_initiator_cleanup() { ss_cleanup; }

atf_test_case cert_responder cleanup
cert_responder_head()
{
	atf_set descr "IKEv1 Main Mode with RSA-4096 signatures and certificates over a 1280-byte MTU: strongSwan initiates, its MM5 crosses as IP fragments that netipsecd reassembles before the policy check; iked responds and verifies charon's SIG"
	atf_set require.user root
	atf_set timeout 180
}
cert_responder_body()
{
	SS_PKI="rsa4096 rsa4096"
	SS_LOCAL_ID="id = s.ss.test"
	SS_REMOTE_ID="id = i.ss.test"
	SS_IKED_CONF="$(atf_get_srcdir)/../../share/examples/iked/strongswan-ikev1-cert.conf"
	setup "srcid i.ss.test dstid s.ss.test"
	ip -n "$(ns I)" link set vI mtu 1280
	ip -n "$(ns S)" link set vS mtu 1280
	sw --initiate --child v1-net --timeout 30 >initiate.out 2>&1 ||
	    { cat initiate.out; dump; atf_fail "swanctl --initiate failed"; }
	grep -q 'phase 1 established (responder' iked.log ||
	    { dump; atf_fail "iked was not the responder"; }
	grep -q "main mode: the peer's RSA signature verified (certificate)" iked.log ||
	    { dump; atf_fail "iked did not verify charon's signature"; }
	[ "$(nstat I "inbound datagrams reassembled")" -ge 1 ] ||
	    { nstats I; atf_fail "no IKE message came in fragments"; }
	check_sas
	check_traffic
}
cert_responder_cleanup() { ss_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case initiator
	atf_add_test_case responder
	atf_add_test_case rekey_strongswan
	atf_add_test_case rekey_iked
	atf_add_test_case restart
	atf_add_test_case dpd
	atf_add_test_case cert_initiator
	atf_add_test_case cert_responder
}
