#! /usr/bin/env atf-sh
#
# iked(8) -n and iked.conf(5): the examples, the canonical form of -nv,
# each kind of error as "file:line: message" with exit status 1, macros
# and include, defaults, the psk forms, OpenBSD's rules as written.

# The daemon under test (atf_check runs programs, not shell functions).
iked_setup()
{
	IKED="$(atf_get_srcdir)/../../sbin/iked/iked"
	# iked refuses a configuration with a psk that others may read.
	umask 077
}

# private FILE: a copy only we may read, for iked (git keeps 0644), its
# placeholders for the interop tests (@PSK@, @EXTRA@) filled in.
private()
{
	sed -e 's/@PSK@/example-psk/' -e 's/@EXTRA@//' "$1" >"$2" ||
	    atf_fail "cannot copy $1"
	chmod 600 "$2"
}

# keys: an iked directory, keys.d, with an RSA key and a certificate
# for i.ss.test (the examples' srcid), for the rules that sign.
keys()
{
	command -v openssl >/dev/null 2>&1 ||
	    atf_skip "openssl(1) is not installed (make deps)"
	mkdir -p keys.d/private keys.d/certs keys.d/ca
	openssl req -x509 -newkey rsa:2048 -nodes -days 30 \
	    -keyout keys.d/private/local.key -out keys.d/certs/i.ss.test.crt \
	    -subj /CN=i.ss.test -addext subjectAltName=DNS:i.ss.test \
	    >/dev/null 2>&1 || atf_fail "openssl: cannot make a key"
	cp keys.d/certs/i.ss.test.crt keys.d/ca/
}

atf_test_case examples
examples_head()
{
	atf_set "descr" "every file of share/examples/iked passes iked -n"
}
examples_body()
{
	iked_setup
	keys
	n=0
	for f in "$(atf_get_srcdir)"/../../share/examples/iked/*.conf; do
		private "$f" ex.conf
		atf_check -s exit:0 -e inline:"configuration OK\n" \
		    "$IKED" -n -K keys.d -f ex.conf
		n=$((n + 1))
	done
	[ "$n" -ge 4 ] || atf_fail "only $n example files"
}

atf_test_case canonical
canonical_head()
{
	atf_set "descr" "iked -nv prints golden.conf as golden.out"
}
canonical_body()
{
	iked_setup
	private "$(atf_get_srcdir)/golden.conf" golden.conf
	atf_check -s exit:0 -o file:"$(atf_get_srcdir)/golden.out" \
	    -e ignore "$IKED" -nv -f golden.conf
}

atf_test_case roundtrip
roundtrip_head()
{
	atf_set "descr" "the canonical form (-nvv) parses to itself"
}
roundtrip_body()
{
	iked_setup
	keys
	for f in "$(atf_get_srcdir)/golden.conf" \
	    "$(atf_get_srcdir)"/../../share/examples/iked/*.conf; do
		private "$f" in.conf
		"$IKED" -nvv -K keys.d -f in.conf >a.conf 2>/dev/null ||
		    atf_fail "$f does not parse"
		atf_check -s exit:0 -o file:a.conf -e ignore "$IKED" -nvv \
		    -K keys.d -f a.conf
	done
}

# check_error CONFIG MESSAGE...: the file gives exactly these lines on
# stderr (with "t.conf:" before each) and exit status 1.
check_error()
{
	printf '%s\n' "$1" >t.conf
	shift
	: >expect
	for m in "$@"; do
		printf 't.conf:%s\n' "$m" >>expect
	done
	atf_check -s exit:1 -o empty -e file:expect "$IKED" -n -f t.conf
}

atf_test_case errors
errors_head()
{
	atf_set "descr" "each kind of error: file:line: message, exit 1"
}
errors_body()
{
	iked_setup
	ok='peer 192.0.2.2 psk "k"'
	check_error "frobnicate on" '1: unknown keyword "frobnicate"'
	check_error "ikev2 active frobnicate $ok" \
	    '1: unknown keyword "frobnicate"'
	check_error "ikev2 passive enc aes-128 $ok" '1: unexpected "enc"'
	check_error "ikev2 active from 10.0.0.256 to any $ok" \
	    '1: bad address "10.0.0.256"'
	check_error "ikev2 active from 10.0.0.0/33 to any $ok" \
	    '1: bad address "10.0.0.0/33": prefix longer than 32'
	check_error "ikev2 active lifetime 3x $ok" '1: bad lifetime "3x"'
	check_error "ikev2 active lifetime 1h bytes 9Q $ok" \
	    '1: bad byte count "9Q"'
	check_error "ikev2 active ikesa enc aes-512 $ok" \
	    '1: unknown encryption algorithm "aes-512"'
	check_error "ikev2 active childsa auth hmac-md4 $ok" \
	    '1: unknown auth algorithm "hmac-md4"'
	check_error "ikev2 active ikesa group modp768 $ok" \
	    '1: unknown group "modp768"'
	check_error "ikev2 active ikesa prf sha256 $ok" \
	    '1: unknown prf "sha256"'
	check_error 'ikev2 "x" active esp psk "k"' \
	    '1: ikev2 "x": an active rule needs a peer address'
	check_error 'ikev2 "x" active peer 10.0.0.0/8 psk "k"' \
	    '1: ikev2 "x": an active rule needs a peer address'
	check_error "ikev2 active peer \$gw psk \"k\"" \
	    '1: macro "gw" is not defined'
	check_error 'include "/nonexistent/iked.conf"' \
	    '1: include "/nonexistent/iked.conf": No such file or directory'
	check_error 'ikev2 passive eap "mschap-v2"' '1: eap is not supported'
	check_error 'ikev2 passive rsa psk "k"' \
	    '1: more than one authentication method'
	check_error 'ikev2 passive ecdsa256 rfc7427' \
	    '1: more than one authentication method'
	check_error 'ikev2 passive psk "k" config address 10.0.0.0/24' \
	    '1: config is not supported'
	check_error 'user "u" "p"' '1: user is not supported (no eap)'
	check_error 'ikev2 passive srcid "/C=DE/CNx" psk "k"' \
	    '1: srcid: "/C=DE/CNx" is not a distinguished name'
	check_error 'ikev1 "x" passive ecdsa256' \
	    '1: ikev1 "x": ecdsa256 is not an IKEv1 method (rsa)'
	check_error 'ikev2 "x" passive dstid "/CN=peer" psk "k"' \
	    '1: ikev2 "x": distinguished-name IDs need certificates, not a psk'
	check_error "ikev1 active main enc aes-128-gcm $ok" \
	    '1: ikev1 "policy1": main aes-128-gcm is not usable in main mode'
	check_error "ikev1 active main group curve448 $ok" \
	    '1: ikev1 "policy1": main curve448 is not usable in main mode'
	check_error "ikev1 active aggressive $ok" \
	    '1: aggressive mode is not supported (it exposes the psk to offline guessing)'
	check_error "ikev1 active ikesa enc aes-128 $ok" \
	    '1: ikesa is only for ikev2 and ike rules'
	check_error "ikev2 active main enc aes-128 $ok" \
	    '1: main is only for ikev1 and ike rules'
	check_error "ikev2 active ikesa enc aes-128-gcm auth hmac-sha1 $ok" \
	    '1: ikev2 "policy1": ikesa auth with an AEAD cipher'
	check_error "ikev2 active from 10.0.0.1 to 2001:db8::1 $ok" \
	    '1: from and to are of different address families'
	check_error "ikev2 active psk 0x123 peer 192.0.2.2" '1: bad hex psk'
	check_error 'ikev2 "x" passive psk "unterminated' \
	    '1: reached end of file inside a quoted string'
	check_error 'ikev2 "x" passive esp transport iface ipsec0 psk "k"' \
	    '1: iface ipsec0: no such interface (yet): rule "x" waits for a reload' \
	    '1: ikev2 "x": iface needs tunnel mode'
	check_error 'ikev2 "x" passive ah iface ipsec0 psk "k"' \
	    '1: iface ipsec0: no such interface (yet): rule "x" waits for a reload' \
	    '1: ikev2 "x": iface needs esp'
	check_error 'ikev2 "x" passive ipcomp iface ipsec0 psk "k"' \
	    '1: iface ipsec0: no such interface (yet): rule "x" waits for a reload' \
	    '1: ikev2 "x": iface and ipcomp do not go together'
	check_error 'ikev2 "x" passive install-policies from 10.0.0.0/8 to 10.1.0.0/16 peer 192.0.2.1 iface ipsec0 psk "k"' \
	    '1: iface ipsec0: no such interface (yet): rule "x" waits for a reload' \
	    '1: ikev2 "x": iface has its own policies: no install-policies or generate-policy'
	check_error 'ikev2 "x" passive iface "ipsec 0" psk "k"' \
	    '1: iface ipsec 0: not an interface name'
	check_error "set dpd_check_interval 100000" \
	    '1: dpd_check_interval 100000 out of range (0 to 86400)'
	check_error "set dpd_action clear" '1: dpd_action clear: trap or restart'
	check_error "set dpd_maxfail 0" '1: dpd_maxfail 0 out of range (1 to 100)'
	check_error "set dpd_maxfail 101" '1: dpd_maxfail 101 out of range (1 to 100)'
	check_error "set vendorid" '1: vendorid is not supported (iked sends no vendor ID naming itself)'
	check_error "set decouple" \
	    '1: decouple is not supported (every SA negotiated goes into the kernel)'
	check_error "set fragment_size 100" \
	    '1: fragment_size 100 out of range (128 to 65535)'
	check_error "set maxchildren 0" \
	    '1: maxchildren 0 out of range (1 to 65536)'
	check_error "set maxchildren 65537" \
	    '1: maxchildren 65537 out of range (1 to 65536)'
	check_error "$(printf 'ikev2 "a" passive psk "k"\nikev2 "a" passive psk "k"')" \
	    '2: ikev2 "a": duplicate rule name'
}

atf_test_case secrecy
secrecy_head()
{
	atf_set "descr" "a configuration with a psk is refused if group or others may access one of its files, by iked -n and iked alike"
}
secrecy_body()
{
	iked_setup
	printf 'ikev2 passive psk "k"\n' >t.conf
	for m in 644 640 604 620 660 601; do
		chmod $m t.conf
		atf_check -s exit:1 -o empty -e inline:"t.conf: the configuration has a psk, but group or others may access it (mode 0$m)\n" \
		    "$IKED" -n -f t.conf
	done
	# The daemon itself says the same and stops before anything else.
	chmod 644 t.conf
	atf_check -s exit:1 -o empty -e inline:"t.conf: the configuration has a psk, but group or others may access it (mode 0644)\n" \
	    "$IKED" -d -s "$PWD/ctl" -f t.conf
	# Only we may read it: accepted.
	chmod 600 t.conf
	atf_check -s exit:0 -e inline:"configuration OK\n" "$IKED" -n -f t.conf
	chmod 400 t.conf
	atf_check -s exit:0 -e inline:"configuration OK\n" "$IKED" -n -f t.conf
	# Without a psk there is no secret to keep.
	printf 'set maxchildren 8\n' >n.conf
	chmod 644 n.conf
	atf_check -s exit:0 -e inline:"configuration OK\n" "$IKED" -n -f n.conf
	# An included file: the psk's or the includer, whichever is open.
	printf 'ikev2 passive psk "k"\n' >inc.conf
	chmod 644 inc.conf
	printf 'include "%s/inc.conf"\n' "$PWD" >t.conf
	chmod 600 t.conf
	atf_check -s exit:1 -o empty -e inline:"$PWD/inc.conf: the configuration has a psk, but group or others may access it (mode 0644)\n" \
	    "$IKED" -n -f t.conf
	chmod 600 inc.conf
	chmod 644 t.conf
	atf_check -s exit:1 -o empty -e inline:"t.conf: the configuration has a psk, but group or others may access it (mode 0644)\n" \
	    "$IKED" -n -f t.conf
	chmod 600 t.conf
	atf_check -s exit:0 -e inline:"configuration OK\n" "$IKED" -n -f t.conf
}

atf_test_case secrecy_owner
secrecy_owner_head()
{
	atf_set "descr" "a configuration with a psk is refused if someone other than root or iked's user owns it"
	atf_set "require.user" "root"
}
secrecy_owner_body()
{
	iked_setup
	printf 'ikev2 passive psk "k"\n' >t.conf
	chown 65534 t.conf
	atf_check -s exit:1 -o empty -e inline:"t.conf: the configuration has a psk, but it is owned by uid 65534, not by root or the user running iked (uid 0)\n" \
	    "$IKED" -n -f t.conf
	chown 0 t.conf
	atf_check -s exit:0 -e inline:"configuration OK\n" "$IKED" -n -f t.conf
}

atf_test_case errors_several
errors_several_head()
{
	atf_set "descr" "parsing goes on after an error and reports the next"
}
errors_several_body()
{
	iked_setup
	cat >t.conf <<'EOT'
# line 1
ikev2 passive psk "k" lifetime forever
ikev2 passive psk "k" \
	ikesa enc des
good = "192.0.2.2"
ikev2 "z" active peer $bad psk "k"
EOT
	cat >expect <<'EOT'
t.conf:2: bad lifetime "forever"
t.conf:4: unknown encryption algorithm "des"
t.conf:6: macro "bad" is not defined
EOT
	atf_check -s exit:1 -e file:expect "$IKED" -n -f t.conf
}

atf_test_case macros_include
macros_include_head()
{
	atf_set "descr" "macros, -D, include, line continuation, comments"
}
macros_include_body()
{
	iked_setup
	cat >inc.conf <<'EOT'
peer_addr = "192.0.2.2"	# a comment
EOT
	cat >t.conf <<EOT
include "$PWD/inc.conf"
mode = "transport"
ikev2 "m" active esp \$mode \\
	peer \$peer_addr \\
	psk \$secret
EOT
	atf_check -s exit:0 -o save:out -e ignore \
	    "$IKED" -nvv -D secret=0x6b -f t.conf
	atf_check -o match:'^ikev2 "m" active esp transport' cat out
	atf_check -o match:'peer 192\.0\.2\.2' cat out
	atf_check -o match:'psk 0x6b$' cat out
	# -D wins over a definition in the file.
	printf 'mode = "tunnel"\n' >>inc.conf
	atf_check -s exit:0 -o match:'esp transport' -e ignore \
	    "$IKED" -nv -D mode=transport -D secret=x -f t.conf
	# An error inside an included file names that file.
	printf 'bogus\n' >>inc.conf
	atf_check -s exit:1 -e inline:"$PWD/inc.conf:3: unknown keyword \"bogus\"\n" \
	    "$IKED" -n -D secret=x -f t.conf
}

atf_test_case defaults
defaults_head()
{
	atf_set "descr" "what a rule leaves out is filled in"
}
defaults_body()
{
	iked_setup
	printf 'ikev2 passive psk "k"\nikev1 passive psk "k"\n' >t.conf
	cat >expect <<'EOT'
set active
set couple
set nofragmentation
set noenforcesingleikesa
set novendorid
set dpd_check_interval 60
set dpd_maxfail 5
set dpd_action trap
set maxchildren 64
set ikelifetime 1d
set lifetime 3h bytes 4G
ikev2 "policy1" passive esp tunnel \
	ikesa enc aes-128-gcm prf hmac-sha2-256 group curve25519 group ecp256 group modp2048 \
	ikesa enc aes-256 auth hmac-sha2-256 prf hmac-sha2-256 group curve25519 group ecp256 group modp2048 \
	childsa enc aes-128-gcm \
	childsa enc aes-128 enc aes-256 auth hmac-sha2-256 \
	ikelifetime 1d lifetime 3h bytes 4G \
	psk "********"
ikev1 "policy2" passive esp tunnel \
	main enc aes-128 enc aes-256 auth hmac-sha2-256 group modp2048 group curve25519 group ecp256 group ecp384 group modp3072 group modp4096 \
	main enc 3des auth hmac-sha1 group modp1024 \
	quick enc aes-128-gcm \
	quick enc aes-128 enc aes-256 auth hmac-sha2-256 auth hmac-sha1 \
	ikelifetime 1d lifetime 3h bytes 4G \
	psk "********"
EOT
	atf_check -s exit:0 -o file:expect -e ignore "$IKED" -nv -f t.conf
	# A partial proposal is completed: integrity for a CBC cipher.
	printf 'ikev2 passive ikesa enc aes-256 childsa enc aes-128 psk "k"\n' \
	    >t.conf
	atf_check -s exit:0 -e ignore -o save:out "$IKED" -nv -f t.conf
	atf_check -o match:'ikesa enc aes-256 auth hmac-sha2-256 prf hmac-sha2-256 group curve25519 group ecp256 group modp2048 \\$' cat out
	atf_check -o match:'childsa enc aes-128 auth hmac-sha2-256 \\$' cat out
	# strongSwan's dpd_action: trap by default, or restart.
	printf 'set dpd_action restart\nikev2 passive psk "k"\n' >t.conf
	atf_check -s exit:0 -e ignore -o match:'^set dpd_action restart$' \
	    "$IKED" -nv -f t.conf
	# racoon's dpd_maxfail: 5 unless set.
	printf 'set dpd_maxfail 2\nikev1 passive psk "k"\n' >t.conf
	atf_check -s exit:0 -e ignore -o match:'^set dpd_maxfail 2$' \
	    "$IKED" -nv -f t.conf
	# A fragment size is printed when it is not RFC 7383's 1228.
	printf 'set fragment_size 576\nikev2 passive psk "k"\n' >t.conf
	atf_check -s exit:0 -e ignore -o match:'^set fragment_size 576$' \
	    "$IKED" -nv -f t.conf
	# Child SAs per IKE SA: 64 unless set.
	printf 'set maxchildren 4\nikev2 passive psk "k"\n' >t.conf
	atf_check -s exit:0 -e ignore -o match:'^set maxchildren 4$' \
	    "$IKED" -nv -f t.conf
	# set passive makes rules without active/passive passive.
	printf 'set passive\nikev2 psk "k"\n' >t.conf
	atf_check -s exit:0 -e ignore -o match:'"policy1" passive' \
	    "$IKED" -nv -f t.conf
}

atf_test_case psk
psk_head()
{
	atf_set "descr" "psk as a string and in hex are the same key"
}
psk_body()
{
	iked_setup
	printf 'ikev2 passive psk "secret"\n' >s.conf
	printf 'ikev2 passive psk 0x736563726574\n' >h.conf
	printf 'ikev2 passive psk "0x736563726574"\n' >q.conf
	for f in s h q; do
		atf_check -s exit:0 -e ignore \
		    -o match:'psk 0x736563726574$' "$IKED" -nvv -f $f.conf
	done
	# Not printed below -vv.
	atf_check -s exit:0 -e ignore -o not-match:'736563726574' \
	    "$IKED" -nv -f s.conf
}

atf_test_case openbsd
openbsd_head()
{
	atf_set "descr" "OpenBSD iked.conf rules as written"
}
openbsd_body()
{
	iked_setup
	# ike-daemons.md 1.4, the site-to-site example.
	cat >t.conf <<'EOT'
# site-to-site, PSK, explicit proposals
ikev2 "s2s" active esp from 10.1.1.0/24 to 10.1.2.0/24 \
      local 192.168.3.1 peer 192.168.3.2 \
      ikesa enc aes-128-gcm group curve25519 group ecp256 \
      childsa enc aes-128-gcm \
      srcid gw1.example.com dstid gw2.example.com \
      lifetime 1h bytes 1G psk "secret"
set fragmentation
set couple
set nomobike
set enforcesingleikesa
set novendorid
set dpd_check_interval 0
ikev2 "hosts" quick passive transport esp inet proto udp \
      from 192.0.2.1 to 192.0.2.2 peer 192.0.2.2 \
      ikesa enc aes-256 auth hmac-sha2-512 prf hmac-sha2-512 group modp4096 \
      ikesa enc aes-128 enc aes-256 auth hmac-sha2-256 group ecp521 \
      childsa enc aes-256-gcm enc aes-128-gcm group ecp256 noesn \
      srcid "a@example.com" dstid 192.0.2.2 ikelifetime 86400 \
      lifetime 3600 bytes 1000000 psk 0xdeadbeef
EOT
	atf_check -s exit:0 -e inline:"configuration OK\n" "$IKED" -n -f t.conf
	atf_check -s exit:0 -e ignore -o save:out "$IKED" -nv -f t.conf
	atf_check -o match:'^set fragmentation$' cat out
	atf_check -o match:'^set dpd_check_interval 0$' cat out
	atf_check -o match:'^ikev2 "s2s" active esp tunnel \\$' cat out
	atf_check -o match:'ikesa enc aes-128-gcm prf hmac-sha2-256 group curve25519 group ecp256 \\$' cat out
	atf_check -o match:'ikelifetime 1d lifetime 1h bytes 1G \\$' cat out
	atf_check -o match:'lifetime 1h bytes 1000000 \\$' cat out
}

atf_test_case ike_rule
ike_rule_head()
{
	atf_set "descr" "an ike rule: both proposal families, defaults per version"
}
ike_rule_body()
{
	iked_setup
	# Both families written, mixed: each keeps its keyword and its
	# version's completion (prf only for ikesa), IKE ones first.
	cat >t.conf <<'EOT'
ike "both" passive esp transport peer any \
	childsa enc aes-256-gcm quick enc aes-256 group modp2048 \
	ikesa enc aes-256 group curve25519 main enc aes-256 group modp3072 \
	psk "k"
EOT
	cat >expect <<'EOT'
ike "both" passive esp transport \
	peer any \
	ikesa enc aes-256 auth hmac-sha2-256 prf hmac-sha2-256 group curve25519 \
	main enc aes-256 auth hmac-sha2-256 group modp3072 \
	childsa enc aes-256-gcm \
	quick enc aes-256 auth hmac-sha2-256 group modp2048 \
	ikelifetime 1d lifetime 3h bytes 4G \
	psk "********"
EOT
	atf_check -s exit:0 -e ignore -o save:out "$IKED" -nv -f t.conf
	atf_check -o file:expect sed -n '/^ike /,$p' out
	"$IKED" -nvv -f t.conf >a.conf 2>/dev/null || atf_fail "no -nvv"
	atf_check -s exit:0 -o file:a.conf -e ignore "$IKED" -nvv -f a.conf

	# Nothing written: the defaults of each version.
	printf 'ike passive psk "k"\n' >t.conf
	cat >expect <<'EOT'
ike "policy1" passive esp tunnel \
	main enc aes-128 enc aes-256 auth hmac-sha2-256 group modp2048 group curve25519 group ecp256 group ecp384 group modp3072 group modp4096 \
	main enc 3des auth hmac-sha1 group modp1024 \
	ikesa enc aes-128-gcm prf hmac-sha2-256 group curve25519 group ecp256 group modp2048 \
	ikesa enc aes-256 auth hmac-sha2-256 prf hmac-sha2-256 group curve25519 group ecp256 group modp2048 \
	quick enc aes-128-gcm \
	quick enc aes-128 enc aes-256 auth hmac-sha2-256 auth hmac-sha1 \
	childsa enc aes-128-gcm \
	childsa enc aes-128 enc aes-256 auth hmac-sha2-256 \
	ikelifetime 1d lifetime 3h bytes 4G \
	psk "********"
EOT
	atf_check -s exit:0 -e ignore -o save:out "$IKED" -nv -f t.conf
	atf_check -o file:expect sed -n '/^ike /,$p' out
	# One family written: only that version's are left alone.
	printf 'ike passive main group modp3072 childsa enc aes-256-gcm psk "k"\n' \
	    >t.conf
	cat >expect <<'EOT'
ike "policy1" passive esp tunnel \
	main enc aes-128 auth hmac-sha2-256 group modp3072 \
	ikesa enc aes-128-gcm prf hmac-sha2-256 group curve25519 group ecp256 group modp2048 \
	ikesa enc aes-256 auth hmac-sha2-256 prf hmac-sha2-256 group curve25519 group ecp256 group modp2048 \
	childsa enc aes-256-gcm \
	quick enc aes-128-gcm \
	quick enc aes-128 enc aes-256 auth hmac-sha2-256 auth hmac-sha1 \
	ikelifetime 1d lifetime 3h bytes 4G \
	psk "********"
EOT
	atf_check -s exit:0 -e ignore -o save:out "$IKED" -nv -f t.conf
	atf_check -o file:expect sed -n '/^ike /,$p' out

	# Each proposal is checked as its version's.
	check_error 'ike "x" passive main enc aes-128-gcm psk "k"' \
	    '1: ike "x": main aes-128-gcm is not usable in main mode'
	check_error 'ike "x" passive main prf hmac-sha2-256 psk "k"' \
	    '1: ike "x": main hmac-sha2-256 is not usable in main mode'
	check_error 'ike "x" passive ikesa enc aes-128-gcm auth hmac-sha1 psk "k"' \
	    '1: ike "x": ikesa auth with an AEAD cipher'
	check_error 'ike "x" active psk "k"' \
	    '1: ike "x": an active rule needs a peer address'
	# The other version's keywords stay errors in ikev1/ikev2 rules,
	# at the line they are on.
	check_error "$(printf 'ikev1 "a" passive psk "k" \\\n\tikesa enc aes-128')" \
	    '2: ikesa is only for ikev2 and ike rules'
	check_error "$(printf 'ikev2 "a" passive psk "k" \\\n\tquick enc aes-128')" \
	    '2: quick enc/auth/group is only for ikev1 and ike rules'
}

atf_test_case no_kernel
no_kernel_head()
{
	atf_set "descr" "without a PF_KEY kernel (netipsecd), iked says so and exits 1"
}
no_kernel_body()
{
	iked_setup
	printf 'ikev1 passive esp psk "k"\n' >t.conf
	PFKEY_SOCKET=$PWD/no-such-socket atf_check -s exit:1 \
	    -e match:'PF_KEY' "$IKED" -d -f t.conf
	atf_check -s exit:1 -e match:'usage' "$IKED" -x
	atf_check -s exit:1 -e match:'nonexistent.conf' \
	    "$IKED" -n -f nonexistent.conf
}

atf_init_test_cases()
{
	atf_add_test_case examples
	atf_add_test_case canonical
	atf_add_test_case roundtrip
	atf_add_test_case errors
	atf_add_test_case secrecy
	atf_add_test_case secrecy_owner
	atf_add_test_case errors_several
	atf_add_test_case macros_include
	atf_add_test_case defaults
	atf_add_test_case psk
	atf_add_test_case openbsd
	atf_add_test_case ike_rule
	atf_add_test_case no_kernel
}
