# regress/setkey: setkey(8) against a private netipsecd per test case,
# on a filesystem socket in the test's work directory (PFKEY_SOCKET).
# Golden -D/-DP outputs are compared byte for byte once the times and
# pids are normalized (created/current/diff/last, pid=).

TOP=
setkey_init()
{
	TOP="$(atf_get_srcdir)/../.."
	SETKEY="$TOP/sbin/setkey/setkey"
	NETIPSECD="${NETIPSECD:-$TOP/sbin/netipsecd/netipsecd}"
	EXAMPLES="$TOP/share/examples/setkey"
	GOLDEN="$(atf_get_srcdir)/golden"
	[ -x "$SETKEY" ] || atf_fail "setkey not built at $SETKEY"
	[ -x "$NETIPSECD" ] || atf_fail "netipsecd not built at $NETIPSECD"
	PFKEY_SOCKET="$PWD/pfkey.sock"
	export PFKEY_SOCKET
	"$NETIPSECD" -d -s "$PFKEY_SOCKET" >netipsecd.log 2>&1 &
	echo $! >netipsecd.pid
	i=0
	while [ ! -S "$PFKEY_SOCKET" ]; do
		i=$((i + 1))
		[ $i -lt 500 ] || { cat netipsecd.log; atf_fail "netipsecd did not start"; }
		sleep 0.02
	done
}

setkey_cleanup()
{
	[ -f netipsecd.pid ] && kill "$(cat netipsecd.pid)" 2>/dev/null
	[ -f promisc.pid ] && kill "$(cat promisc.pid)" 2>/dev/null
	return 0
}

# Times and pids vary: everything else must match.
normalize()
{
	sed -E -e 's/(created|current|last): [A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}/\1: TIME/g' \
	    -e 's/diff: [0-9]+\(s\)/diff: N(s)/' -e 's/ pid=[0-9]+/ pid=PID/'
}

# golden <name>: setkey -D and -DP against golden/<name>.D and .DP.
golden()
{
	"$SETKEY" -D | normalize >"$1.D"
	"$SETKEY" -DP | normalize >"$1.DP"
	if [ -n "${SETKEY_GOLDEN_UPDATE:-}" ]; then
		cp "$1.D" "$1.DP" "$SETKEY_GOLDEN_UPDATE"/
	fi
	diff -u "$GOLDEN/$1.D" "$1.D" || atf_fail "$1: setkey -D differs"
	diff -u "$GOLDEN/$1.DP" "$1.DP" || atf_fail "$1: setkey -DP differs"
}

example_case()
{
	atf_check -s exit:0 -o empty -e empty "$SETKEY" -f "$EXAMPLES/$1.conf"
	golden "$1"
}

# A test case with its daemon: tc name "description".
tc()
{
	eval "descr_$1=\$2"
	eval "
	atf_test_case $1 cleanup
	$1_head() { atf_set descr \"\$descr_$1\"; atf_set timeout 60; }
	$1_cleanup() { setkey_cleanup; }
	"
}

tc transport_esp "share/examples/setkey/transport-esp.conf, golden -D/-DP"
transport_esp_body() { setkey_init; example_case transport-esp; }
tc tunnel_v4 "FreeBSD's tunnel test file (v4), golden -D/-DP"
tunnel_v4_body() { setkey_init; example_case tunnel-v4; }
tc tunnel_v6 "FreeBSD's tunnel test file (v6), golden -D/-DP"
tunnel_v6_body() { setkey_init; example_case tunnel-v6; }
tc natt "-natt and -natt_mtu: esp-udp SAs with OAI/OAR, golden -D/-DP"
natt_body() { setkey_init; example_case natt; }
tc ah_ipcomp "IPComp, AH, TCP-MD5, -r -f -lh -ls -esn, icmp6: golden"
ah_ipcomp_body() { setkey_init; example_case ah-ipcomp; }

tc extensions "each SA extension shows in setkey -D"
extensions_body()
{
	setkey_init
	cat >x.conf <<'X'
add 192.0.2.1 192.0.2.2 esp 1001 -m tunnel -u 42 -E aes-cbc "1234567890123456";
add 192.0.2.1 192.0.2.2 esp 1002 -r 64 -f zero-pad -E aes-cbc "1234567890123456";
add 192.0.2.1 192.0.2.2 esp 1003 -r 1000 -f nocyclic-seq -E aes-cbc "1234567890123456";
add 192.0.2.1 192.0.2.2 esp 1004 -lh 100 -ls 80 -bh 5000 -bs 4000 -esn -E null;
add 192.0.2.1 192.0.2.2 esp 1005 -f random-pad -m transport -E aes-ctr 0x0102030405060708090a0b0c0d0e0f1011121314;
add 192.0.2.1 192.0.2.2 ipcomp 1006 -C deflate;
add 192.0.2.1 192.0.2.2 ipcomp 1007 -C deflate -R;
X
	atf_check -s exit:0 "$SETKEY" -f x.conf
	"$SETKEY" -D >d
	for spi in 1001 1002 1003 1004 1005 1006 1007; do
		grep -A3 "spi=$spi(" d >"s$spi"
	done
	atf_check -o match:'esp mode=tunnel spi=1001.* reqid=42\(0x0000002a\)' cat s1001
	atf_check -o match:'replay=64 flags=0x00000240 ' cat s1002
	atf_check -o match:'replay=1000 flags=0x00000000 ' cat s1003
	atf_check -o match:'E: null' -o match:'flags=0x00000440 ' cat s1004
	grep -A7 'spi=1004(' d >l1004
	atf_check -o match:'hard: 100\(s\)	soft: 80\(s\)' \
	    -o match:'hard: 5000\(bytes\)	soft: 4000\(bytes\)' cat l1004
	atf_check -o match:'mode=transport' -o match:'flags=0x00000140 ' cat s1005
	atf_check -o match:'C: deflate 	seq=0x00000000 replay=0 flags=0x00000040 ' cat s1006
	atf_check -o match:'flags=0x000000c0 ' cat s1007
	# get shows one SA; delete and deleteall remove them.
	atf_check -o match:'spi=1001\(' -o not-match:'spi=1002' \
	    "$SETKEY" -c <<'X'
get 192.0.2.1 192.0.2.2 esp 1001;
X
	atf_check -s exit:0 -o empty "$SETKEY" -c <<'X'
delete 192.0.2.1 192.0.2.2 esp 1001;
deleteall 192.0.2.1 192.0.2.2 esp;
X
	atf_check -o match:'ipcomp' -o not-match:'esp' "$SETKEY" -D
}

tc algorithms "every -E, -A and -C name; legacy names refused by the kernel"
algorithms_body()
{
	setkey_init
	k16='"1234567890123456"'
	cat >a.conf <<X
add 192.0.2.1 192.0.2.2 esp 2001 -E null "";
add 192.0.2.1 192.0.2.2 esp 2002 -E aes-cbc $k16 -A hmac-sha1 "12345678901234567890";
add 192.0.2.1 192.0.2.2 esp 2003 -E rijndael-cbc "123456789012345678901234" -A hmac-sha2-256 "12345678901234567890123456789012";
add 192.0.2.1 192.0.2.2 esp 2004 -E aes-ctr "123456789012345678901234567890123456" -A hmac-sha2-384 "123456789012345678901234567890123456789012345678";
add 192.0.2.1 192.0.2.2 esp 2005 -E aes-gcm-16 "12345678901234567890";
add 192.0.2.1 192.0.2.2 esp 2006 -E chacha20-poly1305 "123456789012345678901234567890123456";
add 192.0.2.1 192.0.2.2 ah 2007 -A hmac-sha2-512 0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f;
add 192.0.2.1 192.0.2.2 ah 2009 -A null;
add 192.0.2.1 192.0.2.2 tcp 2010 -A tcp-md5 "secret";
add 192.0.2.1 192.0.2.2 ipcomp 2011 -C deflate;
X
	atf_check -s exit:0 -o empty -e empty "$SETKEY" -f a.conf
	"$SETKEY" -D >d
	for a in 'E: null' 'E: aes-cbc' 'A: hmac-sha1' 'A: hmac-sha2-256' \
	    'E: aes-ctr' 'A: hmac-sha2-384' 'E: aes-gcm-16' \
	    'E: chacha20-poly1305' 'A: hmac-sha2-512' \
	    'A: tcp-md5' 'C: deflate'; do
		grep -q "	$a" d || atf_fail "no '$a' in setkey -D"
	done
	[ "$(grep -c 'state=mature' d)" = 10 ] || atf_fail "not 10 SAs"
	# aes-xcbc-mac is a name setkey knows, but no transform here does it:
	# REGISTER does not list it, so setkey refuses it, as FreeBSD's does
	# for an algorithm its kernel lacks.
	atf_check -s exit:1 -o inline:'parse failed, line 1.\n' \
	    -e inline:'line 1: Not supported at ["1234567890123456"]\n' \
	    "$SETKEY" -c <<'X'
add 192.0.2.1 192.0.2.2 ah 2008 -A aes-xcbc-mac "1234567890123456";
X
	# FreeBSD 13's names parse; this kernel refuses them.
	atf_check -s exit:1 -o inline:'The result of line 1: Invalid argument.\nThe result of line 2: Invalid argument.\n' \
	    -e empty "$SETKEY" -c <<'X'
add 192.0.2.1 192.0.2.2 esp 2101 -E 3des-cbc "123456789012345678901234";
add 192.0.2.1 192.0.2.2 ah 2102 -A hmac-md5 "1234567890123456";
X
}

tc keylen "key lengths checked against SADB_REGISTER, salt included"
keylen_body()
{
	setkey_init
	atf_check -s exit:1 -o inline:'parse failed, line 2.\n' \
	    -e inline:'line 2: Invalid key length at ["short"]\n' \
	    "$SETKEY" -c <<'X'
add 192.0.2.1 192.0.2.2 esp 3001 -E aes-cbc "1234567890123456";
add 192.0.2.1 192.0.2.2 esp 3002 -E aes-cbc "short";
add 192.0.2.1 192.0.2.2 esp 3003 -E aes-cbc "1234567890123456";
X
	# The first command ran, the third did not.
	atf_check -o match:'spi=3001' -o not-match:'spi=3003' "$SETKEY" -D
	# AES-GCM: 16 bytes are no key with its salt.
	atf_check -s exit:1 -o ignore \
	    -e inline:'line 1: Invalid key length at [0x00112233445566778899aabbccddeeff]\n' \
	    "$SETKEY" -c <<'X'
add 192.0.2.1 192.0.2.2 esp 3004 -E aes-gcm-16 0x00112233445566778899aabbccddeeff;
X
	atf_check -s exit:1 -o ignore \
	    -e inline:'line 1: Invalid key length at ["123"]\n' \
	    "$SETKEY" -c <<'X'
add 192.0.2.1 192.0.2.2 ah 3005 -A hmac-sha1 "123";
X
}

tc parse_errors "parse errors: message, line, token, exit 1, nothing after"
parse_errors_body()
{
	setkey_init
	printf 'add 192.0.2.1 192.0.2.2 esp 4001 -E null;\n\n# comment\nbogus;\nadd 192.0.2.1 192.0.2.2 esp 4002 -E null;\n' >p.conf
	atf_check -s exit:1 -o inline:'parse failed, line 4.\n' \
	    -e inline:'line 4: syntax error at [bogus]\n' "$SETKEY" -f p.conf
	atf_check -o match:'spi=4001' -o not-match:'spi=4002' "$SETKEY" -D
	while IFS='	' read -r cmd msg; do
		printf '%s\n' "$cmd" >e.conf
		atf_check -s exit:1 -o inline:'parse failed, line 1.\n' \
		    -e inline:"$msg\n" "$SETKEY" -f e.conf
	done <<'X'
add 192.0.2.1 192.0.2.2 esp 4003 -E foo "x";	line 1: syntax error at [foo]
add 192.0.2.1 192.0.2.2 esp 4003 -m sideways -E null;	line 1: syntax error at [sideways]
add 192.0.2.1 192.0.2.2 esp-old 4003 -r 4 -E null;	line 1: replay prevention cannot be used with ah/esp-old at [-r]
add 192.0.2.1 192.0.2.2 esp 0x100000000 -E null;	line 1: value out of range at [0x100000000]
add 192.0.2.1 192.0.2.2 esp 4003 -E aes-cbc 0xzz;	line 1: syntax error at [0xzz]
add 192.0.2.1 192.0.2.2 foo 4003;	line 1: syntax error at [foo]
add 192.0.2.1 2001:db8::1 esp 4003 -E null;	line 1: address family mismatch at [;]
spdadd 10.0.0.0/8 10.1.0.0/16 any -P out ipsec esp/bogus;	line 1: Invalid ipsec mode at [out ipsec esp/bogus]
spdadd 10.0.0.0/8 10.1.0.0/16 foo -P out none;	line 1: invalid upper layer protocol at [foo]
spdadd 10.0.0.0/33 10.1.0.0/16 any -P out none;	line 1: invalid prefix length at [;]
spdadd 10.0.0.0/8 10.1.0.0/16 any out none;	line 1: syntax error at [out]
spdadd 10.0.0.0/8 10.1.0.0/16 any -P fwd ipsec esp/tunnel/10.0.0.1-10.0.0.2/require;	line 1: no fwd direction in FreeBSD's IPsec, use in or out at [fwd ipsec esp/tunnel/10.0.0.1-10.0.0.2/require]
spdadd tagged "foo" -P out none;	line 1: tagged policies are not supported at [;]
X
	atf_check -o inline:'No SPD entries.\n' "$SETKEY" -DP
	# The end of the input where a ';' was due.
	printf 'add 192.0.2.1 192.0.2.2 esp 4003 -E null' >eof.conf
	atf_check -s exit:1 -o inline:'parse failed, line 1.\n' \
	    -e inline:'line 1: syntax error at []\n' "$SETKEY" -f eof.conf
}

tc kernel_errors "kernel errors: The result of line N, rest still run, exit 1"
kernel_errors_body()
{
	setkey_init
	cat >k.conf <<'X'
add 192.0.2.1 192.0.2.2 esp 5001 -E null;
add 192.0.2.1 192.0.2.2 esp 5001 -E null;
delete 192.0.2.1 192.0.2.2 esp 5999;
add 192.0.2.1 192.0.2.2 esp 100 -E null;
spddelete 10.0.0.0/8 10.1.0.0/16 any -P out;
get 192.0.2.1 192.0.2.2 esp 5999;
add 192.0.2.1 192.0.2.2 esp 5002 -E null;
X
	atf_check -s exit:1 -e empty -o inline:'The result of line 2: File exists.
The result of line 3: No such process.
The result of line 4: Invalid argument.
The result of line 5: Invalid argument.
The result of line 6: No such process.
' "$SETKEY" -f k.conf
	atf_check -o match:'spi=5001' -o match:'spi=5002' "$SETKEY" -D
	# An empty dump is no failure.
	atf_check -s exit:0 -o inline:'The result of line 2: No SAD entries.\n' \
	    "$SETKEY" -c <<'X'
flush;
dump;
X
}

tc flush "-F, -FP, flush, spdflush; empty dumps"
flush_body()
{
	setkey_init
	atf_check -s exit:0 "$SETKEY" -f "$EXAMPLES/tunnel-v4.conf"
	atf_check -s exit:0 -o empty "$SETKEY" -F
	atf_check -s exit:0 -o inline:'No SAD entries.\n' "$SETKEY" -D
	atf_check -s exit:0 -o match:'spid=' "$SETKEY" -DP
	atf_check -s exit:0 -o empty "$SETKEY" -FP
	atf_check -s exit:0 -o inline:'No SPD entries.\n' "$SETKEY" -DP
	atf_check -s exit:0 "$SETKEY" -f "$EXAMPLES/transport-esp.conf"
	atf_check -s exit:0 -o empty "$SETKEY" -c <<'X'
flush esp;
spdflush;
X
	atf_check -o inline:'No SAD entries.\n' "$SETKEY" -D
	atf_check -o inline:'No SPD entries.\n' "$SETKEY" -DP
	# The end of the input where a ';' was due.
	printf 'add 192.0.2.1 192.0.2.2 esp 4003 -E null' >eof.conf
	atf_check -s exit:1 -o inline:'parse failed, line 1.\n' \
	    -e inline:'line 1: syntax error at []\n' "$SETKEY" -f eof.conf
}

tc stdin "-f - and -c read standard input; dump and spddump commands"
stdin_body()
{
	setkey_init
	atf_check -s exit:0 "$SETKEY" -f - <"$EXAMPLES/tunnel-v6.conf"
	golden tunnel-v6
	"$SETKEY" -D | normalize >d1
	echo 'dump esp;' | "$SETKEY" -c | normalize >d2
	atf_check cmp d1 d2
	"$SETKEY" -DP | normalize >p1
	echo 'spddump;' | "$SETKEY" -c | normalize >p2
	atf_check cmp p1 p2
}

tc usage "usage text and exit status"
usage_body()
{
	setkey_init
	u='usage: setkey [-v] -c
       setkey [-v] -f filename
       setkey [-Pagltv] -D
       setkey [-Pv] -F
       setkey [-h] -x
'
	atf_check -s exit:1 -o inline:"$u" "$SETKEY"
	atf_check -s exit:1 -o inline:"$u" -e ignore "$SETKEY" -Z
	atf_check -s exit:1 -o inline:"$u" "$SETKEY" -D extra
	atf_check -s exit:1 -e match:'fopen' "$SETKEY" -f /nonexistent
}

tc spd "spdadd, spdupdate, spddelete; ranges, ports, upper layers, IPv6"
spd_body()
{
	setkey_init
	atf_check -s exit:0 -o empty -e empty "$SETKEY" -c <<'X'
spdadd 10.0.11.41/32[21] 10.0.11.33/32[any] any -P out ipsec esp/tunnel/192.168.0.1-192.168.1.2/require;
spdadd 10.0.0.1 10.0.0.2 tcp -P in discard;
spdadd 10.0.0.1[any] 10.0.0.2[53] udp -P out none;
spdadd 10.0.0.1 10.0.0.2 17 -P in none;
spdadd 2001:db8::/32 2001:db8:1::/48 icmp6 128 -P out none;
spdadd -6 fe80::1%lo/128 ::/0 ip4 -P out discard;
spdupdate 10.0.0.1 10.0.0.2 tcp -P in ipsec ah/transport//require;
X
	"$SETKEY" -DP >d
	atf_check -o match:'^10\.0\.11\.41\[21\] 10\.0\.11\.33\[any\] any$' cat d
	atf_check -o match:'^10\.0\.0\.1\[any\] 10\.0\.0\.2\[any\] tcp$' cat d
	atf_check -o match:'^	ah/transport//require$' cat d
	atf_check -o match:'^10\.0\.0\.1\[any\] 10\.0\.0\.2\[53\] udp$' cat d
	atf_check -o match:'^2001:db8::/32 2001:db8:1::/48 icmp6 128,0$' cat d
	atf_check -o match:'^fe80::1%lo\[any\] ::/0\[any\] ip4$' cat d
	atf_check -s exit:0 -o empty "$SETKEY" -c <<'X'
spddelete 10.0.0.1 10.0.0.2 tcp -P in;
spddelete 10.0.0.1[any] 10.0.0.2[53] udp -P out none;
X
	atf_check -o not-match:'tcp$' -o not-match:'\[53\] udp$' \
	    -o match:'^10\.0\.0\.1\[any\] 10\.0\.0\.2\[any\] udp$' "$SETKEY" -DP
	# Only global policies exist: -DP -t finds none.
	atf_check -o match:'scope=global' "$SETKEY" -DP -g
}

tc names "host names: -4, -6, -n; all pairs; multiple address refused"
names_body()
{
	setkey_init
	atf_check -s exit:0 "$SETKEY" -c <<'X'
add -4 localhost localhost esp 6001 -E null;
spdadd -4 localhost localhost any -P out none;
X
	atf_check -o match:'^127\.0\.0\.1 127\.0\.0\.1$' "$SETKEY" -D
	atf_check -o match:'^127\.0\.0\.1\[any\] 127\.0\.0\.1\[any\] any$' \
	    "$SETKEY" -DP
	atf_check -s exit:1 -o inline:'parse failed, line 1.\n' \
	    -e match:'^line 1: .* at \[localhost\]$' "$SETKEY" -c <<'X'
add -n localhost 127.0.0.1 esp 6002 -E null;
X
	if [ "$(getent ahostsv4 localhost | wc -l)" -ge 1 ] &&
	    [ "$(getent ahostsv6 localhost | grep -c '^::1 ')" -ge 1 ]; then
		atf_check -s exit:0 "$SETKEY" -c <<'X'
add localhost localhost esp 6003 -E null;
X
		atf_check -o match:'^::1 ::1$' -o match:'^127\.0\.0\.1 127\.0\.0\.1$' \
		    "$SETKEY" -D
		atf_check -s exit:1 -o inline:'parse failed, line 1.\n' \
		    -e inline:'line 1: multiple address specified at [;]\n' \
		    "$SETKEY" -c <<'X'
delete localhost localhost esp 6003;
X
	fi
}

tc promisc "setkey -x sees another client's messages; -h hexdumps"
promisc_body()
{
	setkey_init
	"$SETKEY" -x >x.out 2>&1 &
	echo $! >promisc.pid
	"$SETKEY" -xx -h >xx.out 2>&1 &
	echo $! >>promisc.pid
	sleep 0.5
	atf_check -s exit:0 "$SETKEY" -c <<'X'
add 192.0.2.1 192.0.2.2 esp 7001 -E null;
X
	sleep 0.5
	kill $(cat promisc.pid); rm -f promisc.pid
	atf_check -o match:'type=3\(ADD\)' -o match:'spi=7001' \
	    -o match:'^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} $' cat x.out
	atf_check -o match:'^[0-9]+\.[0-9]{6} $' -o match:'^00000000: 02 03 ' \
	    cat xx.out
}

tc verbose "-v dumps each message sent and received; -D -l short format"
verbose_body()
{
	setkey_init
	atf_check -s exit:0 -o match:'type=3\(ADD\)' -o match:'sadb_sa\{ spi=8001' \
	    "$SETKEY" -v -c <<'X'
add 192.0.2.1 192.0.2.2 esp 8001 -E null;
X
	atf_check -s exit:0 -o match:'type=10\(DUMP\)' "$SETKEY" -v -D
	"$SETKEY" -D -l >l.out 2>&1 &
	pid=$!
	sleep 1.5
	kill $pid
	atf_check -o match:'^time p   s spi      ltime   src -> dst$' \
	    -o match:'^[0-9]{4} esp M 00001f41 [?]{3}/[?]{3} 192\.0\.2\.1 -> 192\.0\.2\.2$' \
	    cat l.out
}

atf_init_test_cases()
{
	for t in transport_esp tunnel_v4 tunnel_v6 natt ah_ipcomp extensions \
	    algorithms keylen parse_errors kernel_errors flush stdin usage spd \
	    names promisc verbose; do
		atf_add_test_case $t
	done
}
