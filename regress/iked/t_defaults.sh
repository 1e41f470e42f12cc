# iked.conf(5) DEFAULTS: a rule that names no proposals against what
# other IKE daemons offer when their own configuration names none, each
# way where the peer can start it.  strongSwan is the real thing
# (charon with kernel-libipsec, swan.subr's topology, no proposals in
# its swanctl.conf); racoon and OpenBSD's iked are our iked configured
# with exactly the proposals their documentation gives (cited below),
# in ike.subr's host pair.  Each case: the SAs come up, and the traffic
# crosses as ESP only.

. "$(atf_get_srcdir)/../lib/netns.subr"
. "$(atf_get_srcdir)/../lib/ike.subr"
. "$(atf_get_srcdir)/../lib/swan.subr"

# racoon.conf(5), EXAMPLES (ipsec-tools, NetBSD's revision 1.68), the
# configuration racoon's users start from:
#
#   remote anonymous { exchange_mode aggressive,main,base;
#     lifetime time 24 hour;
#     proposal { encryption_algorithm 3des; hash_algorithm sha1;
#       authentication_method pre_shared_key; dh_group 2; } }
#   sainfo anonymous { pfs_group 2; lifetime time 12 hour;
#     encryption_algorithm 3des, blowfish 448, twofish, rijndael;
#     authentication_algorithm hmac_sha1, hmac_md5;
#     compression_algorithm deflate; }
#
# iked has no Blowfish, Twofish or HMAC-MD5 (nor IPcomp): those
# transforms are left out, which changes nothing here, since a default
# rule takes none of them.  rijndael without a length is AES-128.
# Aggressive mode, racoon's first exchange mode there, iked refuses (it
# exposes the pre-shared key to offline guessing): racoon initiating is
# racoon with exchange_mode main.  Its default proposal_check strict
# refuses a phase 2 without its PFS group, as iked does for a rule
# with a quick group.
RACOON='main enc 3des auth hmac-sha1 group modp1024
	quick enc 3des enc aes-128 auth hmac-sha1 group modp1024
	ikelifetime 24h lifetime 12h'

# OpenBSD's iked.conf(5), CRYPTO TRANSFORMS, the transforms marked as
# the default, in the order and the proposals of its parse.y
# (ikev2_default_ike_transforms_noauth, ikev2_default_ike_transforms,
# ikev2_default_esp_transforms_noauth, ikev2_default_esp_transforms):
# AES-GCM first, then AES-CBC and 3DES with HMAC; no PFS group for
# children.  It offers ESN and no ESN; this emulation no ESN only.
OPENBSD_PRF='prf hmac-sha2-256 prf hmac-sha2-384 prf hmac-sha2-512
	prf hmac-sha1'
OPENBSD_GROUPS='group curve25519 group ecp521 group ecp384 group ecp256
	group modp4096 group modp3072 group modp2048 group modp1536
	group modp1024'
OPENBSD_AUTH='auth hmac-sha2-256 auth hmac-sha2-384 auth hmac-sha2-512
	auth hmac-sha1'
OPENBSD="ikesa enc aes-128-gcm enc aes-256-gcm $OPENBSD_PRF $OPENBSD_GROUPS
	ikesa enc aes-256 enc aes-192 enc aes-128 enc 3des $OPENBSD_AUTH
	    $OPENBSD_PRF $OPENBSD_GROUPS
	childsa enc aes-128-gcm enc aes-256-gcm
	childsa enc aes-256 enc aes-192 enc aes-128 $OPENBSD_AUTH"

# The rule against strongSwan: no proposals, nothing but the flows,
# addresses, identities and key.
ss_defaults()
{
	SS_V=$1
	SS_IKE=
	SS_ESP=
	SS_IKED_CONF="$PWD/defaults.conf"
	cat >defaults.conf <<X
ikev$SS_V "strongswan" active esp tunnel \\
	from 10.2.0.0/24 to 10.1.0.0/24 \\
	local 192.0.2.2 peer 192.0.2.1 \\
	srcid b.v$SS_V-net.ss.test dstid a.v$SS_V-net.ss.test \\
	psk "@PSK@" @EXTRA@
X
	setup
	grep -q 'proposals' ss/swanctl/swanctl.conf &&
	    atf_fail "charon's configuration names proposals"
	return 0
}

# What strongSwan chose, for the log.
ss_chosen()
{
	grep 'selected proposal' ss/charon.log | sed 's/.*selected/selected/'
}

ss_responder()
{
	ss_defaults "$1"
	sw --initiate --child "v$1-net" --timeout 30 >initiate.out 2>&1 ||
	    { cat initiate.out; dump; atf_fail "swanctl --initiate failed"; }
	ss_chosen
	check_sas
	check_traffic
}

ss_initiator()
{
	ss_defaults "$1"
	# The first packets wait for the SA (ACQUIRE); poll until one passes.
	wait_for 30 in_ I ping -c 1 -W 2 -I 10.2.0.1 10.1.0.1 ||
	    { dump; atf_fail "no tunnel after the ACQUIRE"; }
	ss_chosen
	check_sas
	check_traffic
}

atf_test_case strongswan_v1_responder cleanup
strongswan_v1_responder_head()
{
	atf_set descr "IKEv1: strongSwan's default proposals initiate, a rule without proposals responds"
	atf_set require.user root
	atf_set timeout 120
}
strongswan_v1_responder_body()
{
	ss_responder 1
	grep -q 'phase 1 established (responder' iked.log ||
	    { dump; atf_fail "iked was not the responder"; }
}
strongswan_v1_responder_cleanup() { ss_cleanup; }

atf_test_case strongswan_v1_initiator cleanup
strongswan_v1_initiator_head()
{
	atf_set descr "IKEv1: a rule without proposals initiates, strongSwan's default proposals respond"
	atf_set require.user root
	atf_set timeout 120
}
strongswan_v1_initiator_body()
{
	ss_initiator 1
	grep -q 'phase 1 established (initiator' iked.log ||
	    { dump; atf_fail "iked was not the initiator"; }
}
strongswan_v1_initiator_cleanup() { ss_cleanup; }

atf_test_case strongswan_v2_responder cleanup
strongswan_v2_responder_head()
{
	atf_set descr "IKEv2: strongSwan's default proposals initiate, a rule without proposals responds"
	atf_set require.user root
	atf_set timeout 120
}
strongswan_v2_responder_body()
{
	ss_responder 2
}
strongswan_v2_responder_cleanup() { ss_cleanup; }

atf_test_case strongswan_v2_initiator cleanup
strongswan_v2_initiator_head()
{
	atf_set descr "IKEv2: a rule without proposals initiates, strongSwan's default proposals respond"
	atf_set require.user root
	atf_set timeout 120
}
strongswan_v2_initiator_body()
{
	ss_initiator 2
}
strongswan_v2_initiator_cleanup() { ss_cleanup; }

# emulated VERSION A_EXTRA B_EXTRA: A initiates with its rule's extra
# words, B answers with its; the SAs and ESP of the founding scenario.
emulated()
{
	ike_init
	IKEV=ikev$1
	founding 4 passive "$(echo $2)" "$(echo $3)"
	founding_ping
	# IKEv1: MM1-MM6 and QM1-QM3; IKEv2: IKE_SA_INIT and IKE_AUTH.
	if [ "$1" = 1 ]; then founding_pair 9; else founding_pair 4; fi
}

# The transform MM2 chose, from the capture: tcpdump decodes it.
mm2_chose()
{
	tcpdump -n -vvv -r A-vA.pcap 'udp port 500 and src 192.0.2.2' \
	    2>/dev/null | grep -m 1 "type=enc value=$1" >/dev/null ||
	    { tcpdump -n -vvv -r A-vA.pcap 'udp port 500' 2>/dev/null |
	    head -20; logs; atf_fail "MM2 did not choose $1"; }
}

atf_test_case racoon_responder cleanup
racoon_responder_head()
{
	atf_set descr "IKEv1: racoon.conf(5)'s example proposals initiate, a rule without proposals responds"
	atf_set require.user root
	atf_set timeout 60
}
racoon_responder_body()
{
	emulated 1 "$RACOON" ""
	# Its only Main Mode transform, and AES-128 with HMAC-SHA1 (2) and
	# its PFS group in Quick Mode.
	mm2_chose 3des
	grep -q 'quick mode done: .*esp 12/128 auth 2, pfs' B.iked.log ||
	    { logs; atf_fail "B did not choose AES-128, HMAC-SHA1, PFS"; }
}
racoon_responder_cleanup() { netns_cleanup; }

atf_test_case racoon_initiator cleanup
racoon_initiator_head()
{
	atf_set descr "IKEv1: a rule without main proposals initiates, racoon.conf(5)'s example responds (quick as DEFAULTS says)"
	atf_set require.user root
	atf_set timeout 60
}
racoon_initiator_body()
{
	# Main Mode from the defaults; Quick Mode as iked.conf(5) DEFAULTS
	# tells, for racoon's PFS group.
	emulated 1 "quick enc aes-128 auth hmac-sha1 group modp1024" "$RACOON"
	mm2_chose 3des
	grep -q 'quick mode done: .*esp 12/128 auth 2, pfs' A.iked.log ||
	    { logs; atf_fail "A did not get AES-128, HMAC-SHA1, PFS"; }
}
racoon_initiator_cleanup() { netns_cleanup; }

atf_test_case openbsd_responder cleanup
openbsd_responder_head()
{
	atf_set descr "IKEv2: OpenBSD iked's default proposals initiate, a rule without proposals responds"
	atf_set require.user root
	atf_set timeout 60
}
openbsd_responder_body()
{
	emulated 2 "$OPENBSD" ""
}
openbsd_responder_cleanup() { netns_cleanup; }

atf_test_case openbsd_initiator cleanup
openbsd_initiator_head()
{
	atf_set descr "IKEv2: a rule without proposals initiates, OpenBSD iked's default proposals respond"
	atf_set require.user root
	atf_set timeout 60
}
openbsd_initiator_body()
{
	emulated 2 "" "$OPENBSD"
}
openbsd_initiator_cleanup() { netns_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case strongswan_v1_responder
	atf_add_test_case strongswan_v1_initiator
	atf_add_test_case strongswan_v2_responder
	atf_add_test_case strongswan_v2_initiator
	atf_add_test_case racoon_responder
	atf_add_test_case racoon_initiator
	atf_add_test_case openbsd_responder
	atf_add_test_case openbsd_initiator
}
