#! /usr/bin/env atf-sh
#
# ikectl(8)'s certificate authority (sbin/ikectl/ikeca.c), checked with
# openssl(1) as an independent judge: the CA's certificate, the hosts'
# (subjectAltName by kind of ID, key usages, chain), the key types,
# revocation and the CRL, install and export in iked's layout, the
# files' modes, and refusals that exit 1 with one line and leave the
# files as they were.  No daemon: ikectl is pointed at a socket that
# does not exist.

ca_setup()
{
	IKECTL="$(atf_get_srcdir)/../../sbin/ikectl/ikectl"
	[ -x "$IKECTL" ] || atf_fail "ikectl not built"
	command -v openssl >/dev/null || atf_skip "no openssl(1)"
	CADIR="$PWD/ssl"
	# atf_check runs programs, not functions: the command as words.
	CTL="$IKECTL -s $PWD/nonexistent.sock -C $CADIR"
}

mode()
{
	stat -c %a "$1"
}

# check_mode MODE FILE...
check_mode()
{
	_m=$1
	shift
	for _f in "$@"; do
		[ "$(mode "$_f")" = "$_m" ] ||
		    atf_fail "$_f: mode $(mode "$_f"), not $_m"
	done
}

text()
{
	openssl x509 -in "$1" -noout -text
}

# verify CA CERT: the chain, as openssl verify sees it.
verify()
{
	atf_check -s exit:0 -o inline:"$2: OK\n" \
	    openssl verify -CAfile "$1" "$2"
}

# samekey KEY CERT: the key is the certificate's.
samekey()
{
	openssl pkey -in "$1" -pubout >key.pub ||
	    atf_fail "$1: not a private key"
	openssl x509 -in "$2" -noout -pubkey >crt.pub
	cmp -s key.pub crt.pub || atf_fail "$1 is not the key of $2"
}

# no_tmp DIR: no hidden file left anywhere under DIR.
no_tmp()
{
	_left=$(find "$1" -mindepth 1 -name '.*')
	[ -z "$_left" ] || atf_fail "left behind: $_left"
}

# valid_days CERT DAYS: expires between DAYS - 1 and DAYS + 1 from now.
valid_days()
{
	openssl x509 -in "$1" -noout -checkend $((($2 - 1) * 86400)) \
	    >/dev/null || atf_fail "$1 expires before $2 days"
	! openssl x509 -in "$1" -noout -checkend $((($2 + 1) * 86400)) \
	    >/dev/null || atf_fail "$1 is valid after $2 days"
}

atf_test_case ca_create
ca_create_head()
{
	atf_set "descr" "ca NAME create: the CA's files, modes, certificate" \
	    "(RSA 3072, CA:TRUE critical, keyCertSign, 10 years), empty CRL"
}
ca_create_body()
{
	ca_setup
	atf_check -s exit:0 -o empty -e empty $CTL ca test create
	D=$CADIR/test
	for f in ca.crt private/ca.key serial index test.crl; do
		[ -f "$D/$f" ] || atf_fail "no $f"
	done
	check_mode 755 "$D" "$D/certs"
	check_mode 700 "$D/private"
	check_mode 600 "$D/private/ca.key"
	check_mode 644 "$D/ca.crt" "$D/test.crl" "$D/serial" "$D/index"
	atf_check -o inline:"01\n" cat "$D/serial"
	atf_check -o empty cat "$D/index"
	no_tmp "$CADIR"

	text "$D/ca.crt" >ca.txt
	atf_check -o match:'Public-Key: \(3072 bit\)' -o match:'rsaEncryption' \
	    -o match:'sha256WithRSAEncryption' -o match:'Subject: CN ?= ?test$' \
	    -o match:'Issuer: CN ?= ?test$' -o match:'Version: 3' cat ca.txt
	atf_check -o match:'Basic Constraints: critical' \
	    -o match:'^ *CA:TRUE$' -o match:'Key Usage: critical' \
	    -o match:'^ *Certificate Sign, CRL Sign$' \
	    -o match:'Subject Key Identifier' cat ca.txt
	verify "$D/ca.crt" "$D/ca.crt"
	samekey "$D/private/ca.key" "$D/ca.crt"
	valid_days "$D/ca.crt" 3650

	atf_check -o match:'No Revoked Certificates' -o match:'CRL Number' \
	    -e match:'verify OK' \
	    openssl crl -in "$D/test.crl" -CAfile "$D/ca.crt" -noout -text
}

atf_test_case cert_create
cert_create_head()
{
	atf_set "descr" "certificate ID create: subjectAltName by the ID's" \
	    "kind, key usages, serials, one year, the chain, the modes"
}
cert_create_body()
{
	ca_setup
	atf_check $CTL ca test create
	D=$CADIR/test
	for id in 192.0.2.1 2001:db8::1 host.example.com user@example.com; do
		atf_check -s exit:0 -o empty -e empty \
		    $CTL ca test certificate $id create
		check_mode 644 "$D/certs/$id.crt"
		check_mode 600 "$D/private/$id.key"
		verify "$D/ca.crt" "$D/certs/$id.crt"
		samekey "$D/private/$id.key" "$D/certs/$id.crt"
		valid_days "$D/certs/$id.crt" 365
		text "$D/certs/$id.crt" >$id.txt
		atf_check -o match:"Subject: CN ?= ?$id\$" \
		    -o match:'Issuer: CN ?= ?test$' \
		    -o match:'Public-Key: \(3072 bit\)' \
		    -o match:'Key Usage: critical' \
		    -o match:'^ *Digital Signature, Key Encipherment$' \
		    -o match:'TLS Web Server Authentication, TLS Web Client Authentication, 1\.3\.6\.1\.5\.5\.8\.2\.2$' \
		    -o match:'^ *CA:FALSE$' cat $id.txt
	done
	no_tmp "$CADIR"
	atf_check -o match:'^ *IP Address:192\.0\.2\.1$' cat 192.0.2.1.txt
	atf_check -o match:'^ *IP Address:2001:DB8:0:0:0:0:0:1$' \
	    cat 2001:db8::1.txt
	atf_check -o match:'^ *DNS:host\.example\.com$' cat host.example.com.txt
	atf_check -o match:'^ *email:user@example\.com$' cat user@example.com.txt
	atf_check -o not-match:'email:|IP Address:' cat host.example.com.txt

	# The authorityKeyIdentifier is the CA's subjectKeyIdentifier.
	ski=$(text "$D/ca.crt" | sed -n '/Subject Key Identifier/{n;s/ //g;p;}')
	[ -n "$ski" ] || atf_fail "CA without subjectKeyIdentifier"
	atf_check -o match:"$ski" sed -n '/Authority Key Identifier/{n;s/ //g;p;}' \
	    192.0.2.1.txt

	# Serials one after the other, each in the index.
	atf_check -o inline:"05\n" cat "$D/serial"
	n=1
	for id in 192.0.2.1 2001:db8::1 host.example.com user@example.com; do
		atf_check -o inline:"serial=0$n\n" openssl x509 -noout -serial \
		    -in "$D/certs/$id.crt"
		atf_check -o match:"^V	[0-9]+Z		0$n	certs/$id\.crt	/CN=$id\$" \
		    cat "$D/index"
		n=$((n + 1))
	done
	atf_check -o match:'^host\.example\.com serial 03 valid until 20' \
	    $CTL show ca test certificates
}

atf_test_case keytypes
keytypes_head()
{
	atf_set "descr" "-t ecdsa256|ecdsa384|ecdsa521|ed25519|rsa: the keys" \
	    "and signatures of CAs and hosts, mixed, that openssl verifies"
}
keytypes_body()
{
	ca_setup
	for t in ecdsa256:prime256v1:SHA256 ecdsa384:secp384r1:SHA384 \
	    ecdsa521:secp521r1:SHA512; do
		kt=${t%%:*}
		curve=${t#*:}
		curve=${curve%:*}
		md=${t##*:}
		atf_check $CTL -t $kt ca $kt create
		atf_check $CTL -t $kt ca $kt certificate h.example create
		D=$CADIR/$kt
		verify "$D/ca.crt" "$D/certs/h.example.crt"
		samekey "$D/private/h.example.key" "$D/certs/h.example.crt"
		check_mode 600 "$D/private/ca.key" "$D/private/h.example.key"
		text "$D/ca.crt" >ca.txt
		text "$D/certs/h.example.crt" >h.txt
		atf_check -o match:"ASN1 OID: $curve" \
		    -o match:"Signature Algorithm: ecdsa-with-$md" \
		    -o match:'id-ecPublicKey' cat ca.txt
		atf_check -o match:"ASN1 OID: $curve" \
		    -o match:"Signature Algorithm: ecdsa-with-$md" cat h.txt
	done

	atf_check $CTL -t ed25519 ca ed create
	atf_check $CTL -t ed25519 ca ed certificate 198.51.100.7 create
	atf_check $CTL ca ed certificate rsa.example create
	D=$CADIR/ed
	verify "$D/ca.crt" "$D/certs/198.51.100.7.crt"
	verify "$D/ca.crt" "$D/certs/rsa.example.crt"
	text "$D/ca.crt" >ca.txt
	text "$D/certs/198.51.100.7.crt" >ip.txt
	text "$D/certs/rsa.example.crt" >rsa.txt
	atf_check -o match:'Public Key Algorithm: ED25519' \
	    -o match:'Signature Algorithm: ED25519' cat ca.txt
	atf_check -o match:'Public Key Algorithm: ED25519' cat ip.txt
	atf_check -o match:'Public-Key: \(3072 bit\)' \
	    -o match:'Signature Algorithm: ED25519' cat rsa.txt
	# The CRL of an Ed25519 CA.
	atf_check $CTL ca ed certificate 198.51.100.7 revoke
	atf_check -e match:'verify OK' -o ignore \
	    openssl crl -in "$D/ed.crl" -CAfile "$D/ca.crt" -noout
	atf_check -s not-exit:0 -o ignore -e match:'certificate revoked' \
	    openssl verify -crl_check -CRLfile "$D/ed.crl" -CAfile "$D/ca.crt" \
	    "$D/certs/198.51.100.7.crt"
	no_tmp "$CADIR"
}

atf_test_case revoke
revoke_head()
{
	atf_set "descr" "certificate ID revoke and ca NAME crl: the index," \
	    "the CRL (numbered, 30 days), openssl verify -crl_check"
}
revoke_body()
{
	ca_setup
	atf_check $CTL -t ecdsa256 ca test create
	atf_check $CTL -t ecdsa256 ca test certificate a.example create
	atf_check $CTL -t ecdsa256 ca test certificate b.example create
	D=$CADIR/test
	CRLV="openssl verify -crl_check -CRLfile $D/test.crl -CAfile $D/ca.crt"
	atf_check -o match:OK $CRLV "$D/certs/a.example.crt"
	atf_check -o inline:"crlNumber=0x01\n" \
	    openssl crl -in "$D/test.crl" -noout -crlnumber

	atf_check -s exit:0 -o empty -e empty \
	    $CTL ca test certificate a.example revoke
	atf_check -s not-exit:0 -o ignore -e match:'certificate revoked' \
	    openssl verify -crl_check -CRLfile "$D/test.crl" \
	    -CAfile "$D/ca.crt" "$D/certs/a.example.crt"
	atf_check -s exit:0 -o inline:"$D/certs/b.example.crt: OK\n" \
	    openssl verify -crl_check -CRLfile "$D/test.crl" \
	    -CAfile "$D/ca.crt" "$D/certs/b.example.crt"
	atf_check -o match:'^R	[0-9]+Z	[0-9]+Z	01	certs/a\.example\.crt	/CN=a\.example$' \
	    -o match:'^V	[0-9]+Z		02	certs/b\.example\.crt' cat "$D/index"
	atf_check -o inline:"crlNumber=0x02\n" \
	    openssl crl -in "$D/test.crl" -noout -crlnumber
	atf_check -o match:'Serial Number: 01' -o not-match:'Serial Number: 02' \
	    -e match:'verify OK' \
	    openssl crl -in "$D/test.crl" -CAfile "$D/ca.crt" -noout -text
	check_mode 644 "$D/test.crl" "$D/index"

	# nextUpdate: 30 days from now.
	next=$(openssl crl -in "$D/test.crl" -noout -nextupdate | sed 's/^nextUpdate=//')
	d=$(( $(date -u -d "$next" +%s) - $(date -u +%s) ))
	[ $d -gt $((30 * 86400 - 300)) ] && [ $d -le $((30 * 86400)) ] ||
	    atf_fail "nextUpdate $next is not 30 days from now"

	atf_check -s exit:1 -o empty \
	    -e inline:"ikectl: certificate a.example: already revoked\n" \
	    $CTL ca test certificate a.example revoke
	atf_check -s exit:1 -o empty -e match:'^ikectl: certificate c\.example: no such certificate in CA test$' \
	    $CTL ca test certificate c.example revoke

	# crl: the same revocations, the next number.
	atf_check -s exit:0 -o empty -e empty $CTL ca test crl
	atf_check -o inline:"crlNumber=0x03\n" \
	    openssl crl -in "$D/test.crl" -noout -crlnumber
	atf_check -s not-exit:0 -o ignore -e match:'certificate revoked' \
	    $CRLV "$D/certs/a.example.crt"
	atf_check -o match:OK $CRLV "$D/certs/b.example.crt"
	atf_check -o match:'^a\.example serial 01 revoked 20' \
	    -o match:'^b\.example serial 02 valid until 20' \
	    $CTL show ca test certificates
	no_tmp "$CADIR"
}

atf_test_case install
install_head()
{
	atf_set "descr" "ca NAME install and certificate ID install: iked's" \
	    "layout (ca/ca.crt, crls/ca.crl, certs/ID.crt, private/local.key)"
}
install_body()
{
	ca_setup
	atf_check $CTL -t ecdsa256 ca test create
	atf_check $CTL -t ecdsa256 ca test certificate gw.example create
	D=$CADIR/test

	# -I, then the argument over -I.
	atf_check -s exit:0 -o empty -e empty $CTL -I "$PWD/iked" ca test install
	atf_check -s exit:0 -o empty -e empty \
	    $CTL -I "$PWD/iked" ca test certificate gw.example install
	atf_check cmp "$D/ca.crt" iked/ca/ca.crt
	atf_check cmp "$D/test.crl" iked/crls/ca.crl
	atf_check cmp "$D/certs/gw.example.crt" iked/certs/gw.example.crt
	atf_check cmp "$D/private/gw.example.key" iked/private/local.key
	check_mode 755 iked iked/ca iked/crls iked/certs
	check_mode 700 iked/private
	check_mode 600 iked/private/local.key
	check_mode 644 iked/ca/ca.crt iked/crls/ca.crl iked/certs/gw.example.crt
	verify iked/ca/ca.crt iked/certs/gw.example.crt
	samekey iked/private/local.key iked/certs/gw.example.crt
	no_tmp iked

	atf_check $CTL -I "$PWD/nowhere" ca test install "$PWD/other"
	atf_check $CTL ca test certificate gw.example install "$PWD/other"
	[ ! -e nowhere ] || atf_fail "-I used over the argument"
	atf_check cmp "$D/ca.crt" other/ca/ca.crt
	atf_check cmp "$D/private/gw.example.key" other/private/local.key

	# After a revocation, install again gives iked the new CRL.
	atf_check $CTL ca test certificate r.example create
	atf_check $CTL ca test certificate r.example revoke
	atf_check $CTL -I "$PWD/iked" ca test install
	atf_check cmp "$D/test.crl" iked/crls/ca.crl
	atf_check -o match:'Serial Number: 02' -e ignore \
	    openssl crl -in iked/crls/ca.crl -noout -text

	atf_check -s exit:1 -o empty -e match:'^ikectl: certificate x\.example: no such certificate in CA test$' \
	    $CTL ca test certificate x.example install "$PWD/iked"
	no_tmp iked
}

atf_test_case export
export_head()
{
	atf_set "descr" "certificate ID export: ./ID in iked's layout, for" \
	    "the peer; never over an existing one"
}
export_body()
{
	ca_setup
	atf_check $CTL ca test create
	atf_check $CTL -t ed25519 ca test certificate peer@example.com create
	D=$CADIR/test
	atf_check -s exit:0 -o empty -e empty \
	    $CTL ca test certificate peer@example.com export
	E=peer@example.com
	atf_check cmp "$D/ca.crt" $E/ca/ca.crt
	atf_check cmp "$D/test.crl" $E/crls/ca.crl
	atf_check cmp "$D/certs/$E.crt" $E/certs/$E.crt
	atf_check cmp "$D/private/$E.key" $E/private/local.key
	check_mode 755 $E $E/ca $E/crls $E/certs
	check_mode 700 $E/private
	check_mode 600 $E/private/local.key
	verify $E/ca/ca.crt $E/certs/$E.crt
	no_tmp .

	atf_check -s exit:1 -o empty -e inline:"ikectl: $E: already exists\n" \
	    $CTL ca test certificate $E export
	no_tmp .
	atf_check -s exit:1 -o empty -e match:'no such certificate' \
	    $CTL ca test certificate other.example export
	[ ! -e other.example ] || atf_fail "export of nothing left a directory"
}

atf_test_case delete
delete_head()
{
	atf_set "descr" "certificate ID delete and ca NAME delete"
}
delete_body()
{
	ca_setup
	atf_check $CTL -t ecdsa256 ca test create
	atf_check $CTL -t ecdsa256 ca test certificate h.example create
	D=$CADIR/test
	atf_check -s exit:0 -o empty -e empty \
	    $CTL ca test certificate h.example delete
	[ ! -e "$D/certs/h.example.crt" ] && [ ! -e "$D/private/h.example.key" ] ||
	    atf_fail "certificate delete left files"
	atf_check -s exit:1 -e match:'no such certificate' \
	    $CTL ca test certificate h.example delete
	# The index keeps it; the name may be issued again.
	atf_check -o match:'^V.*certs/h\.example\.crt' cat "$D/index"
	atf_check $CTL -t ecdsa256 ca test certificate h.example create
	atf_check -o inline:"serial=02\n" \
	    openssl x509 -noout -serial -in "$D/certs/h.example.crt"

	atf_check -s exit:0 -o empty -e empty $CTL ca test delete
	[ ! -e "$D" ] || atf_fail "ca delete left $D"
	atf_check -o empty ls -A "$CADIR"
	atf_check -s exit:1 -o empty \
	    -e inline:"ikectl: CA test: no such CA in $CADIR\n" \
	    $CTL ca test delete
}

atf_test_case show
show_head()
{
	atf_set "descr" "ca NAME show, certificate ID show, show ca NAME" \
	    "certificates"
}
show_body()
{
	ca_setup
	atf_check $CTL -t ecdsa256 ca test create
	atf_check $CTL -t ecdsa256 ca test certificate 192.0.2.9 create
	atf_check -s exit:0 -o match:'Subject: CN ?= ?test' \
	    -o match:'CA:TRUE' -e empty $CTL ca test show
	atf_check -s exit:0 -o match:'Subject: CN ?= ?192\.0\.2\.9' \
	    -o match:'IP Address:192\.0\.2\.9' -e empty \
	    $CTL ca test certificate 192.0.2.9 show
	atf_check -s exit:0 -e empty \
	    -o match:'^192\.0\.2\.9 serial 01 valid until [0-9-]+ [0-9:]+ UTC$' \
	    $CTL show ca test certificates
	atf_check -s exit:1 -o empty -e match:'^ikectl: usage: show ca name certificates' \
	    $CTL show ca test
}

atf_test_case days
days_head()
{
	atf_set "descr" "-d DAYS: the validity of the certificates made"
}
days_body()
{
	ca_setup
	atf_check $CTL -d 100 -t ecdsa256 ca test create
	valid_days "$CADIR/test/ca.crt" 100
	atf_check $CTL -d 30 -t ecdsa256 ca test certificate h.example create
	valid_days "$CADIR/test/certs/h.example.crt" 30
	for d in 0 -1 36501 x; do
		atf_check -s exit:1 -o empty -e match:"^ikectl: -d $d: days " \
		    $CTL -d $d ca test certificate i.example create
	done
	[ ! -e "$CADIR/test/certs/i.example.crt" ] || atf_fail "-d refused, made"
}

atf_test_case modes
modes_head()
{
	atf_set "descr" "the modes whatever the umask"
}
modes_body()
{
	ca_setup
	for u in 000 077; do
		(umask $u && exec $CTL -t ecdsa256 ca u$u create) ||
		    atf_fail "create under umask $u"
		(umask $u && exec $CTL -t ecdsa256 ca u$u certificate h.example \
		    create) || atf_fail "certificate under umask $u"
		(umask $u && exec $CTL -I "$PWD/iked$u" ca u$u certificate \
		    h.example install) || atf_fail "install under umask $u"
		D=$CADIR/u$u
		check_mode 755 "$D" "$D/certs" iked$u/certs
		check_mode 700 "$D/private" iked$u/private
		check_mode 600 "$D/private/ca.key" "$D/private/h.example.key" \
		    iked$u/private/local.key
		check_mode 644 "$D/ca.crt" "$D/certs/h.example.crt" \
		    "$D/serial" "$D/index" "$D/u$u.crl" iked$u/certs/h.example.crt
	done
}

atf_test_case errors
errors_head()
{
	atf_set "descr" "refusals: exit 1, one line on stderr, nothing" \
	    "written or half-written"
}
errors_body()
{
	ca_setup
	# Unknown CA: nothing created.
	for c in "certificate h.example create" install crl show delete \
	    "certificate h.example revoke"; do
		atf_check -s exit:1 -o empty \
		    -e inline:"ikectl: CA nosuch: no such CA in $CADIR\n" \
		    $CTL ca nosuch $c
	done
	[ ! -e "$CADIR" ] || atf_fail "a refusal made $CADIR"

	# Bad key type, bad names.
	atf_check -s exit:1 -o empty \
	    -e inline:"ikectl: key type \"dsa\": not one of rsa, ecdsa256, ecdsa384, ecdsa521, ed25519\n" \
	    $CTL -t dsa ca test create
	for n in .hidden a/b "a b" ""; do
		atf_check -s exit:1 -o empty -e match:'^ikectl: CA name ' \
		    $CTL ca "$n" create
	done
	[ ! -e "$CADIR" ] || atf_fail "a refusal made $CADIR"

	atf_check $CTL -t ecdsa256 ca test create
	D=$CADIR/test
	cp -p "$D/ca.crt" ca.crt.before
	cp -p "$D/private/ca.key" ca.key.before

	# Twice: refused, the first kept.
	atf_check -s exit:1 -o empty \
	    -e inline:"ikectl: CA test: already exists in $CADIR\n" \
	    $CTL ca test create
	atf_check cmp ca.crt.before "$D/ca.crt"
	atf_check cmp ca.key.before "$D/private/ca.key"

	# Bad IDs.
	long=$(printf '%065d' 0)
	# (--: GNU getopt would take -x for an option.)
	for id in ../x a/b "a b" "" -x .x "a,b" "@example.com" "u@" \
	    "$long.example"; do
		atf_check -s exit:1 -o empty -e match:'^ikectl: ID ' \
		    $CTL -- ca test certificate "$id" create
	done
	atf_check -o empty ls -A "$D/certs"

	# A host twice: refused, nothing changed.
	atf_check $CTL -t ecdsa256 ca test certificate h.example create
	cp -p "$D/certs/h.example.crt" h.crt.before
	cp -p "$D/index" index.before
	cp -p "$D/serial" serial.before
	atf_check -s exit:1 -o empty \
	    -e inline:"ikectl: certificate h.example: already exists in CA test\n" \
	    $CTL ca test certificate h.example create
	atf_check cmp h.crt.before "$D/certs/h.example.crt"
	atf_check cmp index.before "$D/index"
	atf_check cmp serial.before "$D/serial"

	# A failure after the serial and the index are written (private/
	# is not a directory): none of them renamed into place.
	mv "$D/private" "$D/private.d"
	touch "$D/private"
	atf_check -s exit:1 -o empty -e match:'^ikectl: .*private/' \
	    $CTL -t ecdsa256 ca test certificate j.example create
	rm "$D/private"
	mv "$D/private.d" "$D/private"
	atf_check cmp index.before "$D/index"
	atf_check cmp serial.before "$D/serial"
	[ ! -e "$D/certs/j.example.crt" ] || atf_fail "half a certificate"
	no_tmp "$CADIR"

	# A CA directory that is a file.
	touch notadir
	atf_check -s exit:1 -o empty -e match:'^ikectl: .*notadir' \
	    $IKECTL -C "$PWD/notadir" -t ecdsa256 ca x create

	# Commands and arguments.
	atf_check -s exit:1 -o empty -e inline:"ikectl: ca test frob: unknown command\n" \
	    $CTL ca test frob
	atf_check -s exit:1 -o empty \
	    -e inline:"ikectl: ca test certificate h.example frob: unknown command\n" \
	    $CTL ca test certificate h.example frob
	atf_check -s exit:1 -o empty -e inline:"ikectl: ca test create: too many arguments\n" \
	    $CTL ca test create pwfile
	atf_check -s exit:1 -o empty -e match:'^ikectl: usage: ca name command' \
	    $CTL ca test
	atf_check -s exit:1 -o empty -e match:'^ikectl: usage: ca name command' \
	    $CTL ca
	atf_check -s exit:1 -o empty -e match:'^ikectl: usage: ca name certificate' \
	    $CTL ca test certificate h.example
	no_tmp "$CADIR"
}

atf_test_case nodaemon
nodaemon_head()
{
	atf_set "descr" "the ca commands never use the control socket; the" \
	    "daemon's commands still do, and refuse the CA's options"
}
nodaemon_body()
{
	ca_setup
	atf_check -s exit:0 $CTL -t ecdsa256 ca test create
	atf_check -s exit:1 -o empty -e match:'nonexistent\.sock.*is iked running' \
	    $IKECTL -s "$PWD/nonexistent.sock" show sa
	for o in "-C $CADIR" "-I /tmp" "-t rsa" "-d 3"; do
		atf_check -s exit:1 -o empty \
		    -e inline:"ikectl: -C, -d, -I and -t are options of the ca commands\n" \
		    $IKECTL -s "$PWD/nonexistent.sock" $o show sa
	done
}

atf_init_test_cases()
{
	atf_add_test_case ca_create
	atf_add_test_case cert_create
	atf_add_test_case keytypes
	atf_add_test_case revoke
	atf_add_test_case install
	atf_add_test_case export
	atf_add_test_case delete
	atf_add_test_case show
	atf_add_test_case days
	atf_add_test_case modes
	atf_add_test_case errors
	atf_add_test_case nodaemon
}
