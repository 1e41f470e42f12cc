# Public key authentication between two iked (iked.conf(5) rsa,
# ecdsa256, rfc7427 and the default; iked.8 PUBLIC KEY AUTHENTICATION):
# hosts A and B in network namespaces, transport mode, each with its own
# iked directory (-K) made by openssl(1) or ikectl ca.  The pair
# negotiates over IKEv2 with RSA, ECDSA and Ed25519 keys, FQDN and
# distinguished-name IDs, certificates or raw public keys, and over
# IKEv1 Main Mode with RSA signatures.  It refuses, with one line saying
# why: a certificate from a CA it does not trust, a revoked one (the CRL
# of ikectl ca), a peer whose ID is not the rule's dstid or is not in its
# certificate, a signature by another key, a pre-shared key where the
# rule wants a signature.  A reload picks up a new CA.  The private key
# lives in the ca process only: the engine signs through it.

IKEV=ikev2

. "$(atf_get_srcdir)/../lib/netns.subr"
. "$(atf_get_srcdir)/../lib/ike.subr"
. "$(atf_get_srcdir)/../lib/certs.subr"

a=192.0.2.1
b=192.0.2.2

cert_init()
{
	ike_init
	command -v openssl >/dev/null 2>&1 ||
	    atf_skip "openssl(1) is not installed (make deps)"
}

# conf NS ME PEER "RULE OPTIONS": NS.conf, one transport rule.
conf()
{
	echo "ikev2 \"to-$3\" $([ "$1" = A ] && echo active || echo passive)" \
	    "esp transport from $2 to $3 peer $3 $4" >"$1.conf"
}

# start: both iked, each with its directory NS.d.
start()
{
	spd A $a $b
	spd B $b $a
	IKED_FLAGS="-vv -K $PWD/A.d" iked A A.conf
	IKED_FLAGS="-vv -K $PWD/B.d" iked B B.conf
}

# negotiated: A's pings reach B, as ESP, one SA pair each side.
negotiated()
{
	founding_ping
	founding_pair 4
}

# refused NS WHAT: no SA, and NS logged AUTHENTICATION_FAILED with WHAT.
refused()
{
	in_ A ping -c 1 -W 3 $b >/dev/null 2>&1 &&
	    { logs; atf_fail "a ping crossed without authentication"; }
	wait_for 10 grep -q "AUTHENTICATION_FAILED: .*$2" "$1.iked.log" ||
	    { logs; atf_fail "$1 did not log the refusal '$2'"; }
	atf_check_equal 0 "$(mature A)"
	atf_check_equal 0 "$(mature B)"
}

atf_test_case rsa cleanup
rsa_head()
{
	atf_set descr "rsa: RSA certificates with FQDN IDs (method 1)," \
	    "signed in the ca process"
	atf_set require.user root
}
rsa_body()
{
	cert_init
	certs_ca ca
	certs_host ca A.d a.test rsa /CN=a.test DNS:a.test
	certs_host ca B.d b.test rsa /CN=b.test DNS:b.test
	pair
	conf A $a $b 'srcid a.test dstid b.test rsa'
	conf B $b $a 'srcid b.test dstid a.test rsa'
	atf_check -s exit:0 -e match:"configuration OK" \
	    "$IKED" -n -K "$PWD/A.d" -f A.conf
	start
	negotiated
	grep -q "signature verified (AUTH method 1, certificate)" A.iked.log ||
	    { logs; atf_fail "A did not verify B's RSA signature"; }
	grep -q "signature verified (AUTH method 1, certificate)" B.iked.log ||
	    { logs; atf_fail "B did not verify A's RSA signature"; }
	# Three processes: the ca one, unprivileged, holds no socket but
	# its two channels, and no file.
	_ca=$(iked_pids A.iked.pid | while read -r p; do
	    [ "$(cat /proc/"$p"/comm)" = iked-ca ] && echo "$p"; done)
	[ -n "$_ca" ] || { ps -ef | grep iked; atf_fail "no iked-ca process"; }
	_uid=$(sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$_ca/status")
	atf_check_equal "$(id -u _iked)" "$_uid"
	_n=$(find /proc/"$_ca"/fd -lname 'socket:*' | wc -l)
	atf_check_equal 2 "$_n"
	# Past stdio (the log, with -d): nothing but the two channels.
	_n=$(find /proc/"$_ca"/fd ! -name 0 ! -name 1 ! -name 2 \
	    ! -lname 'socket:*' -type l | wc -l)
	atf_check_equal 0 "$_n"
}
rsa_cleanup() { netns_cleanup; }

atf_test_case ecdsa cleanup
ecdsa_head()
{
	atf_set descr "ecdsa256 on both sides (method 9); IPv6"
	atf_set require.user root
}
ecdsa_body()
{
	cert_init
	certs_ca ca
	certs_host ca A.d a.test p256 /CN=a.test DNS:a.test
	certs_host ca B.d b.test p256 /CN=b.test DNS:b.test
	pair
	a=2001:db8::1 b=2001:db8::2
	conf A $a $b 'srcid a.test dstid b.test ecdsa256'
	conf B $b $a 'srcid b.test dstid a.test ecdsa256'
	start
	negotiated
	grep -q "signature verified (AUTH method 9, certificate)" A.iked.log ||
	    { logs; atf_fail "A did not verify B's ECDSA signature"; }
}
ecdsa_cleanup() { netns_cleanup; }

atf_test_case rfc7427 cleanup
rfc7427_head()
{
	atf_set descr "the default (rfc7427): Ed25519 against P-384," \
	    "distinguished-name IDs from the certificates' subjects"
	atf_set require.user root
}
rfc7427_body()
{
	cert_init
	certs_ca ca
	certs_host ca A.d a ed25519 "/O=netipsec test/CN=a.test" DNS:a.test
	certs_host ca B.d b p384 "/O=netipsec test/CN=b.test" DNS:b.test
	pair
	# No srcid: the ID is the certificate's subject.  dstid as RFC 4514.
	conf A $a $b 'dstid "CN=b.test, O=netipsec test"'
	conf B $b $a 'dstid "/O=netipsec test/CN=a.test" rfc7427'
	start
	negotiated
	grep -q "signature verified (AUTH method 14, certificate)" A.iked.log ||
	    { logs; atf_fail "A did not verify B's RFC 7427 signature"; }
	grep -q "signature verified (AUTH method 14, certificate)" B.iked.log ||
	    { logs; atf_fail "B did not verify A's Ed25519 signature"; }
}
rfc7427_cleanup() { netns_cleanup; }

atf_test_case ikev1 cleanup
ikev1_head()
{
	atf_set descr "IKEv1 Main Mode with RSA signatures and" \
	    "certificates (SIG, CERT, CR); RSA-4096 keys and a 1280-byte MTU" \
	    "make MM5 and MM6 IP fragments, reassembled before the policy" \
	    "check as FreeBSD does; a wrong dstid is refused"
	atf_set require.user root
}
ikev1_body()
{
	cert_init
	certs_ca ca
	certs_host ca A.d a.test rsa4096 /CN=a.test DNS:a.test
	certs_host ca B.d b.test rsa4096 /CN=b.test DNS:b.test
	pair
	ip -n "$(ns A)" link set vA mtu 1280
	ip -n "$(ns B)" link set vB mtu 1280
	conf A $a $b 'srcid a.test dstid b.test rsa'
	conf B $b $a 'srcid b.test dstid a.test'
	sed -i 's/^ikev2/ikev1/' A.conf
	# B: one "ike" rule for both versions, signatures by default.
	sed -i 's/^ikev2/ike/' B.conf
	start
	negotiated
	grep -q "main mode: the peer's RSA signature verified (certificate)" A.iked.log ||
	    { logs; atf_fail "A did not verify B's SIG_R"; }
	grep -q "main mode: the peer's RSA signature verified (certificate)" B.iked.log ||
	    { logs; atf_fail "B did not verify A's SIG_I"; }
	for h in A B; do
		[ "$(nstat $h "inbound datagrams reassembled")" -ge 1 ] ||
		    { nstats $h; atf_fail "$h reassembled no IKE message"; }
	done
	iked_kill TERM A.iked.pid
	iked_kill TERM B.iked.pid
	wait_for 5 gone $(cat A.iked.pid) $(cat B.iked.pid) || true
	sed -i 's/dstid b.test/dstid c.test/' A.conf
	IKED_FLAGS="-vv -K $PWD/A.d" iked A A.conf
	IKED_FLAGS="-vv -K $PWD/B.d" iked B B.conf
	in_ A ping -c 1 -W 3 $b >/dev/null 2>&1 &&
	    { logs; atf_fail "a ping crossed with the wrong dstid"; }
	wait_for 10 grep -q "main mode: AUTHENTICATION_FAILED: .*dstid" A.iked.log ||
	    { logs; atf_fail "A did not refuse B's ID"; }
}
ikev1_cleanup() { netns_cleanup; }

atf_test_case rawkey cleanup
rawkey_head()
{
	atf_set descr "raw public keys (OpenBSD's pubkeys/fqdn/ID), no" \
	    "certificate: the pair negotiates; a key of another peer is refused"
	atf_set require.user root
}
rawkey_body()
{
	cert_init
	for h in A B; do
		mkdir -p $h.d/private $h.d/pubkeys/fqdn
		chmod 700 $h.d/private
		openssl genpkey -algorithm ed25519 -out $h.d/private/local.key \
		    2>/dev/null || atf_fail "openssl genpkey"
		chmod 600 $h.d/private/local.key
	done
	openssl pkey -in B.d/private/local.key -pubout \
	    -out A.d/pubkeys/fqdn/b.test 2>/dev/null
	openssl pkey -in A.d/private/local.key -pubout \
	    -out B.d/pubkeys/fqdn/a.test 2>/dev/null
	pair
	conf A $a $b 'srcid a.test dstid b.test'
	conf B $b $a 'srcid b.test dstid a.test'
	start
	negotiated
	grep -q "signature verified (AUTH method 14, raw public key)" A.iked.log ||
	    { logs; atf_fail "A did not verify B's raw key signature"; }
	# B's key replaced by another: A refuses what B signs.
	openssl genpkey -algorithm ed25519 2>/dev/null |
	    openssl pkey -pubout -out A.d/pubkeys/fqdn/b.test 2>/dev/null
	iked_kill TERM A.iked.pid
	iked_kill TERM B.iked.pid
	wait_for 5 gone $(cat A.iked.pid) $(cat B.iked.pid) || true
	IKED_FLAGS="-vv -K $PWD/A.d" iked A A.conf
	IKED_FLAGS="-vv -K $PWD/B.d" iked B B.conf
	refused A "signature"
}
rawkey_cleanup() { netns_cleanup; }

atf_test_case untrusted cleanup
untrusted_head()
{
	atf_set descr "a certificate from a CA A does not trust is refused;" \
	    "after the CA is installed, a reload lets the peer in"
	atf_set require.user root
}
untrusted_body()
{
	cert_init
	certs_ca ca
	certs_ca other
	certs_host ca A.d a.test p256 /CN=a.test DNS:a.test
	certs_host other B.d b.test p256 /CN=b.test DNS:b.test
	cp ca.crt B.d/ca/
	pair
	conf A $a $b 'srcid a.test dstid b.test'
	conf B $b $a 'srcid b.test dstid a.test'
	start
	refused A "not signed by a trusted CA"
	# The CA, then HUP: the parent passes the new file to the ca process.
	cp other.crt A.d/ca/
	iked_kill HUP A.iked.pid
	wait_for 5 grep -q "configuration reloaded" A.iked.log ||
	    { logs; atf_fail "A did not reload"; }
	sleep 1
	negotiated
}
untrusted_cleanup() { netns_cleanup; }

atf_test_case revoked cleanup
revoked_head()
{
	atf_set descr "a PKI made by ikectl ca: the pair negotiates; once" \
	    "B's certificate is revoked and the CRL installed, A refuses it"
	atf_set require.user root
}
revoked_body()
{
	cert_init
	ikectl="$TOP/sbin/ikectl/ikectl"
	[ -x "$ikectl" ] || atf_fail "ikectl not built"
	atf_check -o ignore -e ignore "$ikectl" -C "$PWD/cas" -t ecdsa256 \
	    ca vpn create
	for h in a b; do
		H=$(echo $h | tr ab AB)
		atf_check -o ignore -e ignore "$ikectl" -C "$PWD/cas" \
		    -t ecdsa256 ca vpn certificate $h.test create
		atf_check -o ignore -e ignore "$ikectl" -C "$PWD/cas" \
		    -I "$PWD/$H.d" ca vpn install
		atf_check -o ignore -e ignore "$ikectl" -C "$PWD/cas" \
		    -I "$PWD/$H.d" ca vpn certificate $h.test install
	done
	pair
	conf A $a $b 'srcid a.test dstid b.test'
	conf B $b $a 'srcid b.test dstid a.test'
	start
	negotiated
	# Revoked, the CRL given to A; the next negotiation is refused.
	atf_check -o ignore -e ignore "$ikectl" -C "$PWD/cas" \
	    ca vpn certificate b.test revoke
	atf_check -o ignore -e ignore "$ikectl" -C "$PWD/cas" \
	    -I "$PWD/A.d" ca vpn install
	iked_kill TERM A.iked.pid
	iked_kill TERM B.iked.pid
	wait_for 5 gone $(cat A.iked.pid) $(cat B.iked.pid) || true
	atf_check_equal 0 "$(mature A)"
	IKED_FLAGS="-vv -K $PWD/A.d" iked A A.conf
	IKED_FLAGS="-vv -K $PWD/B.d" iked B B.conf
	refused A "revoked"
}
revoked_cleanup() { netns_cleanup; }

atf_test_case ocsp cleanup
ocsp_head()
{
	atf_set descr "set ocsp: A asks openssl(1)'s OCSP responder about" \
	    "B's certificate (ikectl ca's index): good, then revoked (its" \
	    "CRL still old), then no responder: refused, fail closed"
	atf_set require.user root
}
ocsp_body()
{
	cert_init
	ikectl="$TOP/sbin/ikectl/ikectl"
	[ -x "$ikectl" ] || atf_fail "ikectl not built"
	atf_check -o ignore -e ignore "$ikectl" -C "$PWD/cas" -t ecdsa256 \
	    ca vpn create
	for h in a b; do
		H=$(echo $h | tr ab AB)
		atf_check -o ignore -e ignore "$ikectl" -C "$PWD/cas" \
		    -t ecdsa256 ca vpn certificate $h.test create
		atf_check -o ignore -e ignore "$ikectl" -C "$PWD/cas" \
		    -I "$PWD/$H.d" ca vpn install
		atf_check -o ignore -e ignore "$ikectl" -C "$PWD/cas" \
		    -I "$PWD/$H.d" ca vpn certificate $h.test install
	done
	pair
	# The responder, in A, signing with the CA's key.
	ocsp_start()
	{
		ip netns exec "$(ns A)" openssl ocsp -index cas/vpn/index \
		    -port 8888 -rsigner cas/vpn/ca.crt \
		    -rkey cas/vpn/private/ca.key -CA cas/vpn/ca.crt \
		    -nmin 10 >ocsp.log 2>&1 &
		echo $! >>daemons.pids
		echo $! >ocsp.pid
		wait_for 5 sh -c "ip netns exec $(ns A) ss -lnt | grep -q ':8888 '" ||
		    { cat ocsp.log; atf_fail "openssl ocsp did not start"; }
	}
	ocsp_start
	conf A $a $b 'srcid a.test dstid b.test'
	sed -i '1i set ocsp "http://127.0.0.1:8888/"' A.conf
	conf B $b $a 'srcid b.test dstid a.test'
	start
	negotiated
	grep -q 'OCSP: certificate "CN=b.test": good' A.iked.log ||
	    { logs; atf_fail "A did not ask the responder"; }
	restart()
	{
		iked_kill TERM A.iked.pid
		iked_kill TERM B.iked.pid
		wait_for 5 gone $(cat A.iked.pid) $(cat B.iked.pid) || true
		IKED_FLAGS="-vv -K $PWD/A.d" iked A A.conf
		IKED_FLAGS="-vv -K $PWD/B.d" iked B B.conf
	}
	# Revoked in the CA's index only: the responder knows, A's CRL not.
	atf_check -o ignore -e ignore "$ikectl" -C "$PWD/cas" \
	    ca vpn certificate b.test revoke
	kill "$(cat ocsp.pid)"
	ocsp_start
	restart
	refused A "revoked (OCSP"
	# No responder: no certificate passes.
	kill "$(cat ocsp.pid)"
	restart
	refused A "OCSP responder .* cannot be reached"
}
ocsp_cleanup() { netns_cleanup; }

atf_test_case dstid cleanup
dstid_head()
{
	atf_set descr "a valid certificate for another ID than the rule's" \
	    "dstid is refused, as is an ID the certificate does not name"
	atf_set require.user root
}
dstid_body()
{
	cert_init
	certs_ca ca
	certs_host ca A.d a.test p256 /CN=a.test DNS:a.test
	certs_host ca B.d b.test p256 /CN=b.test DNS:b.test
	pair
	conf A $a $b 'srcid a.test dstid c.test'
	conf B $b $a 'srcid b.test dstid a.test'
	start
	refused A "dstid"
	# B claims an ID its certificate does not name (the file is the
	# certificate iked finds by that ID).
	iked_kill TERM A.iked.pid
	iked_kill TERM B.iked.pid
	wait_for 5 gone $(cat A.iked.pid) $(cat B.iked.pid) || true
	cp B.d/certs/b.test.crt B.d/certs/c.test.crt
	conf B $b $a 'srcid c.test dstid a.test'
	conf A $a $b 'srcid a.test dstid c.test'
	: >A.iked.log
	: >B.iked.log
	IKED_FLAGS="-vv -K $PWD/A.d" iked A A.conf
	IKED_FLAGS="-vv -K $PWD/B.d" iked B B.conf
	refused A "c.test"
}
dstid_cleanup() { netns_cleanup; }

atf_test_case psk_signature cleanup
psk_signature_head()
{
	atf_set descr "a peer with a pre-shared key where the rule wants" \
	    "a signature is refused, and the other way round"
	atf_set require.user root
}
psk_signature_body()
{
	cert_init
	certs_ca ca
	certs_host ca A.d a.test p256 /CN=a.test DNS:a.test
	certs_host ca B.d b.test p256 /CN=b.test DNS:b.test
	pair
	conf A $a $b "psk \"$PSK\""
	conf B $b $a 'srcid b.test'
	start
	refused B "pre-shared key"
	grep -q "AUTHENTICATION_FAILED" A.iked.log ||
	    grep -q "IKE_AUTH refused\|authentication failed" A.iked.log ||
	    { logs; atf_fail "A did not see the refusal"; }
}
psk_signature_cleanup() { netns_cleanup; }

atf_test_case nokey
nokey_head()
{
	atf_set descr "iked -n: a rule that signs without a private key," \
	    "or a key others may read, is an error naming the file"
}
nokey_body()
{
	command -v openssl >/dev/null 2>&1 ||
	    atf_skip "openssl(1) is not installed (make deps)"
	IKED="$(atf_get_srcdir)/../../sbin/iked/iked"
	[ -x "$IKED" ] || atf_fail "iked not built"
	mkdir empty
	echo 'ikev2 "x" passive esp from 192.0.2.1 to 192.0.2.2 rsa' >x.conf
	atf_check -s exit:1 -e match:"x.conf:1: .*rsa: no private key in .*empty/private/local.key" \
	    "$IKED" -n -K "$PWD/empty" -f x.conf
	certs_ca ca
	certs_host ca k.d k.test rsa /CN=k.test DNS:k.test
	atf_check -s exit:0 -e match:"configuration OK" \
	    "$IKED" -n -K "$PWD/k.d" -f x.conf
	chmod 644 k.d/private/local.key
	atf_check -s exit:1 -e match:"may be read by others" \
	    "$IKED" -n -K "$PWD/k.d" -f x.conf
}

atf_init_test_cases()
{
	atf_add_test_case rsa
	atf_add_test_case ecdsa
	atf_add_test_case rfc7427
	atf_add_test_case ikev1
	atf_add_test_case rawkey
	atf_add_test_case untrusted
	atf_add_test_case revoked
	atf_add_test_case ocsp
	atf_add_test_case dstid
	atf_add_test_case psk_signature
	atf_add_test_case nokey
}
