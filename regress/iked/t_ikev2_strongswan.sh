# Interop: our iked (IKEv2, PSK) against strongSwan's charon, in the
# two namespaces of swan.subr: tunnel mode between 10.1.0.0/24 (S,
# charon) and 10.2.0.0/24 (I, netipsecd + setkey + iked).  charon's
# kernel-libipsec always asks for UDP encapsulation, so IKE floats to
# port 4500 after IKE_SA_INIT, every SA here is RFC 3948 ESP-in-UDP, and
# our side must do IKEv2 NAT detection and UDP-encapsulated tunnel SAs.
#
# The cases: iked initiating (traffic from I triggers the ACQUIRE) and
# responding (swanctl --initiate), each with AES-GCM + Curve25519 and
# ChaCha20-Poly1305 + ECP-256 for both the IKE SA and ESP; the child SA
# rekeyed by strongSwan (swanctl --rekey --child) and by iked (its soft
# lifetime), with PFS; the IKE SA rekeyed by either side; strongSwan
# restarting (INITIAL_CONTACT); liveness checks both ways, and iked's
# dead-peer action when strongSwan freezes.  Pings must
# cross both ways as ESP-in-UDP only, on the SPIs both sides agree on.

. "$(atf_get_srcdir)/../lib/netns.subr"
. "$(atf_get_srcdir)/../lib/swan.subr"

SS_V=2
# strongSwan's proposals for the connection (its side picks).
SS_IKE=aes128gcm16-prfsha256-x25519
SS_ESP=aes128gcm16-x25519

# strongSwan's IKE SA SPIs ("SPIi_i SPIr_r") of its ESTABLISHED IKE SA.
ss_ikespis()
{
	sw --list-sas 2>/dev/null | awk '/ESTABLISHED, IKEv2, /{
	    sub(/.*, IKEv2, /, ""); print; exit }'
}

# The number of IKE SAs strongSwan lists.
ss_nike()
{
	sw --list-sas 2>/dev/null | grep -c ', IKEv2, '
}

# The IKE SA's SPIs are no longer $1, or iked's log matches $2.
ike_changed_or()
{
	grep -q "$2" iked.log && return 0
	ic_now=$(ss_ikespis)
	[ -n "$ic_now" ] && [ "$ic_now" != "$1" ]
}

# A ping I -> S in the background, through a rekey: bg_ping_stop
# says whether each one was answered.  The SIGINT that stops it may
# fall between the last request and its reply (about 1 run in 300 at
# 0.2 s and a 0.7 ms round trip), so that one request, and only it, may
# go unanswered: every earlier icmp_seq must have its reply.
bg_ping_start()
{
	# Not through in_: $! must be ping itself (ip netns exec execs it).
	ip netns exec "$(ns I)" ping -i 0.2 -W 2 -I 10.2.0.1 10.1.0.1 \
	    >ping-bg.out 2>&1 &
	echo $! >>daemons.pids
	echo $! >ping-bg.pid
}
bg_ping_stop()
{
	pid=$(cat ping-bg.pid)
	kill -INT "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	tail -n 2 ping-bg.out
	bg_tx=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' ping-bg.out)
	[ -n "$bg_tx" ] && [ "$bg_tx" -ge 10 ] ||
	    { dump; atf_fail "the background ping did not run"; }
	bg_seq=1
	while [ "$bg_seq" -lt "$bg_tx" ]; do
		grep -q "bytes from .* icmp_seq=$bg_seq " ping-bg.out ||
		    { dump; atf_fail "ping $bg_seq of $bg_tx lost during the rekey"; }
		bg_seq=$((bg_seq + 1))
	done
}

# iked initiates on the ACQUIRE of the first ping.
up_by_iked()
{
	wait_for 30 in_ I ping -c 1 -W 2 -I 10.2.0.1 10.1.0.1 ||
	    { dump; atf_fail "no tunnel after the ACQUIRE"; }
	grep -q 'IKE SA established (initiator, NAT-T' iked.log ||
	    { dump; atf_fail "iked was not the initiator, or did not float to 4500"; }
}

# strongSwan initiates.
up_by_strongswan()
{
	sw --initiate --child v2-net --timeout 30 >initiate.out 2>&1 ||
	    { cat initiate.out; dump; atf_fail "swanctl --initiate failed"; }
	grep -q 'IKE SA established (responder, NAT-T' iked.log ||
	    { dump; atf_fail "iked was not the responder, or did not float to 4500"; }
}

# --------------------------------------------------------------- cases

atf_test_case initiator_gcm_x25519 cleanup
initiator_gcm_x25519_head()
{
	atf_set descr "IKEv2 PSK, tunnel, NAT-T: iked initiates on ACQUIRE; AES-GCM and Curve25519 for IKE and ESP"
	atf_set require.user root
	atf_set timeout 180
}
initiator_gcm_x25519_body()
{
	setup
	up_by_iked
	check_sas AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519 AES_GCM_16-128
	check_traffic
	check_spis $(ss_spis)
}
initiator_gcm_x25519_cleanup() { ss_cleanup; }

atf_test_case initiator_chacha_ecp256 cleanup
initiator_chacha_ecp256_head()
{
	atf_set descr "IKEv2 PSK, tunnel, NAT-T: iked initiates; ChaCha20-Poly1305 and ECP-256 (after INVALID_KE_PAYLOAD)"
	atf_set require.user root
	atf_set timeout 180
}
initiator_chacha_ecp256_body()
{
	SS_IKE=chacha20poly1305-prfsha256-ecp256
	SS_ESP=chacha20poly1305-ecp256
	setup
	up_by_iked
	# Our first KE is Curve25519: strongSwan asks for its group.
	grep -q 'INVALID_KE_PAYLOAD: retrying with group 19' iked.log ||
	    { dump; atf_fail "iked did not retry with strongSwan's group"; }
	check_sas CHACHA20_POLY1305/PRF_HMAC_SHA2_256/ECP_256 CHACHA20_POLY1305
	check_traffic
	check_spis $(ss_spis)
}
initiator_chacha_ecp256_cleanup() { ss_cleanup; }

atf_test_case responder_gcm_ecp256 cleanup
responder_gcm_ecp256_head()
{
	atf_set descr "IKEv2 PSK, tunnel, NAT-T: strongSwan initiates, iked responds; AES-GCM and ECP-256"
	atf_set require.user root
	atf_set timeout 180
}
responder_gcm_ecp256_body()
{
	SS_IKE=aes128gcm16-prfsha256-ecp256
	SS_ESP=aes128gcm16-ecp256
	setup
	up_by_strongswan
	check_sas AES_GCM_16-128/PRF_HMAC_SHA2_256/ECP_256 AES_GCM_16-128
	check_traffic
	check_spis $(ss_spis)
}
responder_gcm_ecp256_cleanup() { ss_cleanup; }

atf_test_case responder_chacha_x25519 cleanup
responder_chacha_x25519_head()
{
	atf_set descr "IKEv2 PSK, tunnel, NAT-T: strongSwan initiates, iked responds; ChaCha20-Poly1305 and Curve25519"
	atf_set require.user root
	atf_set timeout 180
}
responder_chacha_x25519_body()
{
	SS_IKE=chacha20poly1305-prfsha256-x25519
	SS_ESP=chacha20poly1305-x25519
	setup
	up_by_strongswan
	check_sas CHACHA20_POLY1305/PRF_HMAC_SHA2_256/CURVE_25519 CHACHA20_POLY1305
	check_traffic
	check_spis $(ss_spis)
}
responder_chacha_x25519_cleanup() { ss_cleanup; }

atf_test_case fragments cleanup
fragments_head()
{
	atf_set descr "IKEv2 fragmentation (RFC 7383) both ways: with small fragments on each side (200 bytes of IP for charon, 160 of IKE for iked), IKE_AUTH goes in pieces and each reassembles the other's"
	atf_set require.user root
	atf_set timeout 180
}
fragments_body()
{
	SS_CHARON_OPTS="fragment_size = 200"
	setup "" "set fragmentation
set fragment_size 160"
	up_by_iked
	grep -q 'IKE_AUTH -> ' iked.log || { dump; atf_fail "no IKE_AUTH"; }
	grep -Eq 'a [0-9]+-byte message sent as [2-9] fragments' iked.log ||
	    { dump; atf_fail "iked did not fragment its IKE_AUTH"; }
	grep -Eq 'a [0-9]+-byte message reassembled from [2-9] fragments' \
	    iked.log || { dump; atf_fail "iked reassembled nothing"; }
	grep -q 'reassembled fragmented IKE message' ss/charon.log ||
	    { dump; atf_fail "strongSwan reassembled nothing"; }
	check_sas AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519 AES_GCM_16-128
	check_traffic
	check_spis $(ss_spis)
}
fragments_cleanup() { ss_cleanup; }

atf_test_case rekey_child_strongswan cleanup
rekey_child_strongswan_head()
{
	atf_set descr "strongSwan rekeys the child SA (CREATE_CHILD_SA, REKEY_SA, PFS ECP-256); pings cross on the new SPIs"
	atf_set require.user root
	atf_set timeout 180
}
rekey_child_strongswan_body()
{
	SS_IKE=chacha20poly1305-prfsha256-ecp256
	SS_ESP=chacha20poly1305-ecp256
	setup
	up_by_strongswan
	check_traffic
	spis0=$(ss_spis)
	bg_ping_start
	sleep 1
	sw --rekey --child v2-net >rekey.out 2>&1 ||
	    { cat rekey.out; dump; atf_fail "swanctl --rekey --child failed"; }
	# strongSwan deletes the old pair once the new one is in (IKEv2).
	wait_for 30 grep -q 'INFORMATIONAL <- DELETE child SA' iked.log ||
	    { dump; atf_fail "strongSwan did not rekey (and delete) its child"; }
	ss_wait_children 30 1 ||
	    { dump; atf_fail "strongSwan still lists the rekeyed child"; }
	sleep 1
	bg_ping_stop
	spis1=$(ss_spis)
	echo "strongSwan SPIs (in out): $spis0 -> $spis1"
	[ -n "$spis1" ] && [ "$spis1" != "$spis0" ] ||
	    { dump; atf_fail "no new installed child after the rekey"; }
	grep -q 'CREATE_CHILD_SA <- SA .*(rekey)' iked.log ||
	    { dump; atf_fail "iked did not see a REKEY_SA"; }
	grep 'CREATE_CHILD_SA\|child SA done\|DELETE' iked.log
	check_sas CHACHA20_POLY1305/PRF_HMAC_SHA2_256/ECP_256 \
	    CHACHA20_POLY1305/ECP_256
	check_traffic
	check_spis $spis1
}
rekey_child_strongswan_cleanup() { ss_cleanup; }

# iked's soft lifetime (24 s of 30) starts CREATE_CHILD_SA with
# REKEY_SA and PFS, then iked deletes the old pair after its grace
# period; pings run all along.  $1, $2: the algorithms check_sas wants.
rekey_child_iked_run()
{
	setup "lifetime 30s"
	up_by_iked
	check_traffic
	spis0=$(ss_spis)
	bg_ping_start
	wait_for 90 grep -q 'rekeyed, deleting old SAs' iked.log ||
	    { dump; atf_fail "iked did not rekey within 90 s"; }
	grep 'soft lifetime\|CREATE_CHILD_SA\|child SA done\|DELETE\|deleting old' iked.log
	ss_wait_children 30 1 ||
	    { dump; atf_fail "strongSwan kept the rekeyed pair"; }
	bg_ping_stop
	spis1=$(ss_spis)
	echo "strongSwan SPIs (in out): $spis0 -> $spis1"
	[ -n "$spis1" ] && [ "$spis1" != "$spis0" ] ||
	    { dump; atf_fail "no new installed child after the rekey"; }
	check_sas "$1" "$2"
	check_traffic
	check_spis $spis1
}

atf_test_case rekey_child_iked cleanup
rekey_child_iked_head()
{
	atf_set descr "iked rekeys the child SA on its short lifetime (soft EXPIRE -> CREATE_CHILD_SA, REKEY_SA, PFS Curve25519); no ping lost, then pings cross on the new SPIs"
	atf_set require.user root
	atf_set timeout 240
}
rekey_child_iked_body()
{
	rekey_child_iked_run AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519 \
	    AES_GCM_16-128/CURVE_25519
}
rekey_child_iked_cleanup() { ss_cleanup; }

atf_test_case rekey_child_iked_ecp256 cleanup
rekey_child_iked_ecp256_head()
{
	atf_set descr "iked rekeys the child SA with ChaCha20-Poly1305 and PFS ECP-256, strongSwan's only group (INVALID_KE_PAYLOAD obeyed)"
	atf_set require.user root
	atf_set timeout 240
}
rekey_child_iked_ecp256_body()
{
	SS_IKE=chacha20poly1305-prfsha256-ecp256
	SS_ESP=chacha20poly1305-ecp256
	rekey_child_iked_run CHACHA20_POLY1305/PRF_HMAC_SHA2_256/ECP_256 \
	    CHACHA20_POLY1305/ECP_256
}
rekey_child_iked_ecp256_cleanup() { ss_cleanup; }

atf_test_case rekey_ike_strongswan cleanup
rekey_ike_strongswan_head()
{
	atf_set descr "strongSwan rekeys the IKE SA (swanctl --rekey --ike): new IKE SPIs, the child SA and traffic stay"
	atf_set require.user root
	atf_set timeout 180
}
rekey_ike_strongswan_body()
{
	setup
	up_by_strongswan
	check_traffic
	ike0=$(ss_ikespis)
	spis0=$(ss_spis)
	sw --rekey --ike v2-net >rekey.out 2>&1 ||
	    { cat rekey.out; dump; atf_fail "swanctl --rekey --ike failed"; }
	wait_for 30 ike_changed_or "$ike0" 'IKE SA rekey refused'
	grep -q 'IKE SA rekey refused' iked.log &&
	    { grep 'IKE SA rekey' iked.log; dump;
	    atf_fail "iked refused strongSwan's IKE SA rekey"; }
	ike1=$(ss_ikespis)
	echo "strongSwan IKE SPIs: $ike0 -> $ike1"
	[ -n "$ike1" ] && [ "$ike1" != "$ike0" ] ||
	    { dump; atf_fail "the IKE SA was not rekeyed"; }
	[ "$(ss_nike)" = 1 ] ||
	    { dump; atf_fail "strongSwan kept the old IKE SA"; }
	# The child moves to the new IKE SA as it is.
	[ "$(ss_spis)" = "$spis0" ] ||
	    { dump; atf_fail "the child SA changed with the IKE rekey"; }
	check_sas
	check_traffic
	check_spis $spis0
	# The new IKE SA works: a child rekey over it.
	sw --rekey --child v2-net >rekey.out 2>&1 ||
	    { cat rekey.out; dump; atf_fail "swanctl --rekey --child failed"; }
	ss_wait_children 30 1 && [ "$(ss_spis)" != "$spis0" ] ||
	    { dump; atf_fail "no child rekey over the new IKE SA"; }
	check_traffic
	check_spis $(ss_spis)
}
rekey_ike_strongswan_cleanup() { ss_cleanup; }

atf_test_case rekey_ike_iked cleanup
rekey_ike_iked_head()
{
	atf_set descr "iked rekeys its IKE SA before its short ikelifetime: new IKE SPIs, the child SA and traffic stay"
	atf_set require.user root
	atf_set timeout 240
}
rekey_ike_iked_body()
{
	setup "ikelifetime 40s"
	up_by_iked
	check_traffic
	ike0=$(ss_ikespis)
	spis0=$(ss_spis)
	# Before 40 s the IKE SA must be replaced by a rekeyed one.
	wait_for 60 ike_changed_or "$ike0" 'IKE SA lifetime expired'
	grep -q 'IKE SA lifetime expired' iked.log &&
	    { grep 'IKE SA' iked.log; dump;
	    atf_fail "iked let its IKE SA expire instead of rekeying it"; }
	ike1=$(ss_ikespis)
	echo "strongSwan IKE SPIs: $ike0 -> $ike1"
	[ -n "$ike1" ] && [ "$ike1" != "$ike0" ] ||
	    { dump; atf_fail "the IKE SA was not rekeyed"; }
	[ "$(ss_nike)" = 1 ] ||
	    { dump; atf_fail "strongSwan kept the old IKE SA"; }
	[ "$(ss_spis)" = "$spis0" ] ||
	    { dump; atf_fail "the child SA changed with the IKE rekey"; }
	check_sas
	check_traffic
	check_spis $spis0
}
rekey_ike_iked_cleanup() { ss_cleanup; }

atf_test_case restart cleanup
restart_head()
{
	atf_set descr "strongSwan crashes and comes back: its INITIAL_CONTACT clears iked's stale SAs, traffic resumes"
	atf_set require.user root
	atf_set timeout 180
}
restart_body()
{
	setup
	up_by_strongswan
	check_traffic
	spis0=$(ss_spis)
	# A crash: no DELETE reaches iked, whose SAs are now stale.
	pid=$(cat charon.pid)
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	charon_start
	sw --initiate --child v2-net --timeout 30 >initiate.out 2>&1 ||
	    { cat initiate.out; dump; atf_fail "swanctl --initiate after the restart failed"; }
	grep -q 'INITIAL-CONTACT: the peer restarted' iked.log ||
	    { dump; atf_fail "iked did not act on INITIAL_CONTACT"; }
	spis1=$(ss_spis)
	echo "strongSwan SPIs (in out): $spis0 -> $spis1"
	[ -n "$spis1" ] && [ "$spis1" != "$spis0" ] ||
	    { dump; atf_fail "no new child after the restart"; }
	check_sas			# exactly one pair in our SAD
	check_traffic
	check_spis $spis1
}
restart_cleanup() { ss_cleanup; }

atf_test_case liveness cleanup
liveness_head()
{
	atf_set descr "IKEv2 liveness checks both ways: each side answers the other's empty INFORMATIONAL; the SAs stay"
	atf_set require.user root
	atf_set timeout 180
}
liveness_body()
{
	# strongSwan checks after 3 s without a message from iked, iked
	# every 10 s: both kinds of check happen.
	SS_DPD_DELAY=3s
	setup "" "set dpd_check_interval 10"
	up_by_strongswan
	ike0=$(ss_ikespis)
	# charon's log (ENC, level 1) shows both directions: its requests
	# and our answers, our requests and its answers.
	wait_for 60 sh -c '
	    [ "$(grep -c "generating INFORMATIONAL request [0-9]* \[ \]" ss/charon.log)" -ge 3 ] &&
	    [ "$(grep -c "parsed INFORMATIONAL response [0-9]* \[ \]" ss/charon.log)" -ge 3 ] &&
	    [ "$(grep -c "parsed INFORMATIONAL request [0-9]* \[ \]" ss/charon.log)" -ge 3 ] &&
	    [ "$(grep -c "generating INFORMATIONAL response [0-9]* \[ \]" ss/charon.log)" -ge 3 ]' ||
	    { dump; atf_fail "liveness checks are not sent or not answered both ways"; }
	grep 'INFORMATIONAL' ss/charon.log | tail -n 8
	grep -c 'INFORMATIONAL -> liveness check' iked.log
	grep -q 'it is dead' iked.log &&
	    { dump; atf_fail "iked declared strongSwan dead"; }
	grep -iq 'giving up\|peer not responding' ss/charon.log &&
	    { dump; atf_fail "strongSwan declared iked dead"; }
	[ "$(ss_ikespis)" = "$ike0" ] ||
	    { dump; atf_fail "the IKE SA changed"; }
	check_sas
	check_traffic
}
liveness_cleanup() { ss_cleanup; }

atf_test_case liveness_dead cleanup
liveness_dead_head()
{
	atf_set descr "strongSwan freezes (SIGSTOP): iked's unanswered liveness check declares it dead and deletes its SAs"
	atf_set require.user root
	atf_set timeout 240
}
liveness_dead_body()
{
	setup "" "set dpd_check_interval 5"
	up_by_strongswan
	check_sas
	pid=$(cat charon.pid)
	kill -STOP "$pid"
	# The check after 5 s, retransmitted after 1, 2, 4, 8, 16 and 32 s.
	wait_for 120 grep -q 'INFORMATIONAL request: it is dead' iked.log ||
	    { kill -CONT "$pid"; dump; atf_fail "iked did not declare the frozen peer dead"; }
	grep 'it is dead\|IKE SA' iked.log
	PFKEY_SOCKET="$PWD/I.sock" in_ I "$SETKEY" -D >sad.out 2>&1
	kill -CONT "$pid"
	grep -v "^	[EA]:" sad.out
	[ "$(grep -c 'esp-udp' sad.out)" -eq 0 ] ||
	    { dump; atf_fail "the dead peer's SAs are still in our SAD"; }
}
liveness_dead_cleanup() { ss_cleanup; }


# ------------------------------------------------- public key authentication

# again_by SIDE: charon deletes the IKE SA, then SIDE (strongswan, iked)
# negotiates a new one, and iked verifies charon's signature again.
again_by()
{
	sw --terminate --ike v2-net --timeout 10 >/dev/null 2>&1 || true
	wait_for 10 grep -q 'deleted by the peer' iked.log ||
	    { dump; atf_fail "charon's DELETE did not reach iked"; }
	ab_n0=$(grep -c 'signature verified' iked.log)
	if [ "$1" = iked ]; then
		wait_for 30 in_ I ping -c 1 -W 2 -I 10.2.0.1 10.1.0.1 ||
		    { dump; atf_fail "no new tunnel after the ACQUIRE"; }
		grep -q 'IKE SA established (initiator' iked.log ||
		    { dump; atf_fail "iked did not initiate"; }
	else
		up_by_strongswan
	fi
	ab_n1=$(grep -c 'signature verified' iked.log)
	[ "$ab_n1" -gt "$ab_n0" ] ||
	    { dump; atf_fail "iked verified no signature the second time"; }
	check_traffic
}

# cert_setup SSKEY IKEDKEY OPTIONS [LINES]: a PKI by strongSwan's
# pki(1), iked's rule from strongswan-ikev2-cert.conf with OPTIONS, and
# LINES before it.
cert_setup()
{
	SS_PKI="$1 $2"
	SS_IKED_CONF="$(atf_get_srcdir)/../../share/examples/iked/strongswan-ikev2-cert.conf"
	setup "$3" "${4:-}"
}

atf_test_case cert_rsa cleanup
cert_rsa_head()
{
	atf_set descr "IKEv2 with certificates from strongSwan's pki: RSA both sides, FQDN IDs; iked initiates; RFC 7427 signatures (PKCS#1 v1.5 SHA-256) verified by both; the certificate-sized IKE_AUTH fragmented both ways (RFC 7383); tshark dissects every packet; then strongSwan initiates"
	atf_set require.user root
	atf_set timeout 180
}
cert_rsa_body()
{
	SS_LOCAL_ID="id = s.ss.test"
	SS_REMOTE_ID="id = i.ss.test"
	# Fragments both ways: charon's at 500 bytes, ours at 600 (an
	# IKE_AUTH with an RSA-2048 certificate is some 1200 bytes, around
	# our default of 1228).
	SS_CHARON_OPTS="fragment_size = 500"
	ss_init
	topology
	ss_pki rsa rsa
	ss_capture
	charon_start
	SS_IKED_CONF="$(atf_get_srcdir)/../../share/examples/iked/strongswan-ikev2-cert.conf"
	iked_start "srcid i.ss.test dstid s.ss.test" "set fragmentation
set fragment_size 600"
	up_by_iked
	ss_capture_stop
	ss_dissect wire.pcap
	grep -Eq 'a [0-9]+-byte message sent as [2-9] fragments' iked.log ||
	    { dump; atf_fail "iked's IKE_AUTH with its certificate was not fragmented"; }
	grep -Eq 'a [0-9]+-byte message reassembled from [2-9] fragments' \
	    iked.log || { dump; atf_fail "iked reassembled no fragments of charon's"; }
	grep -q 'reassembled fragmented IKE message' ss/charon.log ||
	    { dump; atf_fail "strongSwan reassembled nothing"; }
	grep -q 'signature verified (AUTH method 14, certificate)' iked.log ||
	    { dump; atf_fail "iked did not verify charon's signature"; }
	grep -q "authentication of 'i.ss.test' with RSA_EMSA_PKCS1_SHA2_256 successful" ss/charon.log ||
	    { dump; atf_fail "charon did not verify iked's RSA signature"; }
	check_traffic
	again_by strongswan
}
cert_rsa_cleanup() { ss_cleanup; }

atf_test_case cert_ecdsa_dn cleanup
cert_ecdsa_dn_head()
{
	atf_set descr "IKEv2 with certificates: ECDSA P-256 (charon) and P-384 (iked), distinguished-name IDs from the certificates; strongSwan initiates, then iked"
	atf_set require.user root
	atf_set timeout 180
}
cert_ecdsa_dn_body()
{
	# charon's own ID: its certificate's subject; iked sends its own.
	SS_LOCAL_ID=""
	SS_REMOTE_ID='id = "O=ss test, CN=i.ss.test"'
	cert_setup ecdsa-256 ecdsa-384 'dstid "/O=ss test/CN=s.ss.test"'
	up_by_strongswan
	grep -q 'signature verified (AUTH method 14, certificate)' iked.log ||
	    { dump; atf_fail "iked did not verify charon's ECDSA signature"; }
	grep -q "authentication of 'O=ss test, CN=i.ss.test' with ECDSA.*successful" ss/charon.log ||
	    { dump; atf_fail "charon did not verify iked's ECDSA signature"; }
	check_traffic
	again_by iked
}
cert_ecdsa_dn_cleanup() { ss_cleanup; }

# ikectl_pki KEYTYPE: a PKI made by our ikectl ca (KEYTYPE keys) instead
# of pki(1): charon's certificate exported, in swanctl's directories.
ikectl_pki()
{
	_c="$TOP/sbin/ikectl/ikectl"
	[ -x "$_c" ] || atf_fail "ikectl not built"
	_k="$PWD/ss/swanctl"
	mkdir -p "$_k/x509ca" "$_k/x509" "$_k/private"
	"$_c" -C "$PWD/cas" -t "$1" ca vpn create >/dev/null &&
	"$_c" -C "$PWD/cas" -t "$1" ca vpn certificate s.ss.test create \
	    >/dev/null &&
	"$_c" -C "$PWD/cas" -t "$1" ca vpn certificate i.ss.test create \
	    >/dev/null &&
	"$_c" -C "$PWD/cas" -I "$PWD/I.d" ca vpn install >/dev/null &&
	"$_c" -C "$PWD/cas" -I "$PWD/I.d" ca vpn certificate i.ss.test \
	    install >/dev/null &&
	(cd "$PWD" && "$_c" -C "$PWD/cas" ca vpn certificate s.ss.test \
	    export >/dev/null) || atf_fail "ikectl ca failed"
	cp s.ss.test/ca/ca.crt "$_k/x509ca/ca.crt"
	cp s.ss.test/certs/s.ss.test.crt "$_k/x509/ss.crt"
	cp s.ss.test/private/local.key "$_k/private/ss.key"
	SS_AUTH=pubkey
	SS_CERT=ss.crt
	SS_IKED_FLAGS="-K $PWD/I.d"
	SS_IKED_CONF="$(atf_get_srcdir)/../../share/examples/iked/strongswan-ikev2-cert.conf"
}

atf_test_case cert_ed25519 cleanup
cert_ed25519_head()
{
	atf_set descr "IKEv2 with Ed25519 certificates made by our ikectl ca: iked initiates, then strongSwan initiates; RFC 8420 signatures verified by both"
	atf_set require.user root
	atf_set timeout 180
}
cert_ed25519_body()
{
	SS_LOCAL_ID="id = s.ss.test"
	SS_REMOTE_ID="id = i.ss.test"
	ss_init
	topology
	ikectl_pki ed25519
	ss_capture
	charon_start
	iked_start "srcid i.ss.test dstid s.ss.test"
	up_by_iked
	ss_capture_stop
	ss_dissect wire.pcap
	grep -q 'signature verified (AUTH method 14, certificate)' iked.log ||
	    { dump; atf_fail "iked did not verify charon's Ed25519 signature"; }
	grep -q "authentication of 'i.ss.test' with ED25519 successful" ss/charon.log ||
	    { dump; atf_fail "charon did not verify iked's Ed25519 signature"; }
	check_traffic
	# The other way: charon initiates a new IKE SA.
	again_by strongswan
}
cert_ed25519_cleanup() { ss_cleanup; }

atf_test_case cert_revoked cleanup
cert_revoked_head()
{
	atf_set descr "IKEv2 with certificates, both revoked by pki(1) CRLs: iked refuses charon's (strongSwan initiating), charon refuses ours (iked initiating); no SA either way"
	atf_set require.user root
	atf_set timeout 180
}
cert_revoked_body()
{
	SS_LOCAL_ID="id = s.ss.test"
	SS_REMOTE_ID="id = i.ss.test"
	ss_init
	topology
	ss_pki ecdsa-256 ecdsa-256
	# Both certificates revoked, each side given the CRL.
	for c in ss iked; do
		pki --signcrl --cacert pki/ca.crt --cakey pki/ca.key \
		    --cert pki/$c.crt --reason key-compromise --lifetime 30 \
		    --outform der >pki/$c.crl ||
		    atf_fail "pki --signcrl"
	done
	mkdir -p I.d/crls ss/swanctl/x509crl
	cp pki/ss.crl I.d/crls/ss.crl
	cp pki/iked.crl ss/swanctl/x509crl/iked.crl
	SS_IKED_CONF="$(atf_get_srcdir)/../../share/examples/iked/strongswan-ikev2-cert.conf"
	charon_start
	iked_start "srcid i.ss.test dstid s.ss.test"
	sw --initiate --child v2-net --timeout 20 >initiate.out 2>&1 &&
	    { dump; atf_fail "charon's revoked certificate was accepted"; }
	grep -q 'AUTHENTICATION_FAILED: certificate "CN=s.ss.test,O=ss test": revoked' iked.log ||
	    { dump; atf_fail "iked did not say it refused a revoked certificate"; }
	in_ I ping -c 1 -W 3 -I 10.2.0.1 10.1.0.1 >/dev/null 2>&1 &&
	    { dump; atf_fail "a ping crossed with a revoked certificate"; }
	wait_for 15 grep -q 'certificate was revoked' ss/charon.log ||
	    { dump; atf_fail "charon did not refuse iked's revoked certificate"; }
	atf_check_equal 0 "$(PFKEY_SOCKET="$PWD/I.sock" in_ I "$SETKEY" -D | grep -c 'state=mature' || true)"
}
cert_revoked_cleanup() { ss_cleanup; }

atf_test_case cert_untrusted cleanup
cert_untrusted_head()
{
	atf_set descr "IKEv2 with certificates: charon's certificate from a CA iked does not trust is refused with AUTHENTICATION_FAILED, and no SA is installed"
	atf_set require.user root
	atf_set timeout 180
}
cert_untrusted_body()
{
	SS_LOCAL_ID="id = s.ss.test"
	SS_REMOTE_ID="id = i.ss.test"
	ss_init
	topology
	ss_pki ecdsa-256 ecdsa-256
	# iked trusts another CA only.
	pki --gen --type ecdsa --size 256 --outform pem >pki/other.key
	pki --self --ca --lifetime 30 --in pki/other.key --type ecdsa \
	    --dn "CN=other CA" --outform pem >I.d/ca/ca.crt ||
	    atf_fail "pki: cannot make the other CA"
	charon_start
	SS_IKED_CONF="$(atf_get_srcdir)/../../share/examples/iked/strongswan-ikev2-cert.conf"
	iked_start "srcid i.ss.test dstid s.ss.test"
	sw --initiate --child v2-net --timeout 20 >initiate.out 2>&1 &&
	    { dump; atf_fail "swanctl --initiate succeeded"; }
	grep -q 'AUTHENTICATION_FAILED: certificate "CN=s.ss.test,O=ss test": not signed by a trusted CA' iked.log ||
	    { dump; atf_fail "iked did not say why it refused"; }
	grep -q 'AUTHENTICATION_FAILED' ss/charon.log ||
	    { dump; atf_fail "charon was not told"; }
	atf_check_equal 0 "$(PFKEY_SOCKET="$PWD/I.sock" in_ I "$SETKEY" -D | grep -c 'state=mature' || true)"
}
cert_untrusted_cleanup() { ss_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case fragments
	atf_add_test_case initiator_gcm_x25519
	atf_add_test_case initiator_chacha_ecp256
	atf_add_test_case responder_gcm_ecp256
	atf_add_test_case responder_chacha_x25519
	atf_add_test_case rekey_child_strongswan
	atf_add_test_case rekey_child_iked
	atf_add_test_case rekey_child_iked_ecp256
	atf_add_test_case rekey_ike_strongswan
	atf_add_test_case rekey_ike_iked
	atf_add_test_case restart
	atf_add_test_case liveness
	atf_add_test_case liveness_dead
	atf_add_test_case cert_rsa
	atf_add_test_case cert_ecdsa_dn
	atf_add_test_case cert_untrusted
	atf_add_test_case cert_ed25519
	atf_add_test_case cert_revoked
}
