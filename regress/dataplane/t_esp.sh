# ESP on the wire, end to end: netipsecd hooks an interface in each of two
# (or five) network namespaces, setkey loads the SPD and SAs, and real
# traffic (ping, TCP) must cross protected: tcpdump on the link sees only
# ESP, and tshark, an independent ESP implementation, decrypts it with the
# same keys.  Documentation addresses only.

. "$(atf_get_srcdir)/../lib/netns.subr"

# netns_init, and nc for the TCP and UDP transfers.
esp_init()
{
	netns_init
	command -v nc >/dev/null 2>&1 || atf_skip "nc is not installed"
}

# Two hosts A (192.0.2.1, 2001:db8::1) and B (.2, ::2), both IPsec-enabled.
pair()
{
	mkns A
	mkns B
	link A vethA B vethB
	ip -n "$(ns A)" addr add 192.0.2.1/24 dev vethA
	ip -n "$(ns B)" addr add 192.0.2.2/24 dev vethB
	ip -n "$(ns A)" addr add 2001:db8::1/64 dev vethA nodad
	ip -n "$(ns B)" addr add 2001:db8::2/64 dev vethB nodad
	# Neighbour discovery before any policy asks for ESP.
	in_ A ping -c 1 -W 2 192.0.2.2 >/dev/null 2>&1
	in_ A ping -c 1 -W 2 2001:db8::2 >/dev/null 2>&1
	daemon A vethA
	daemon B vethB
}

# transport_conf SIDE AF EALG EKEY [AALG AKEY]: host-to-host ESP in
# transport mode, as SIDE (A or B) sees it; SPIs 0x1001 A->B, 0x1002 B->A.
transport_conf()
{
	if [ "$2" = 4 ]; then a=192.0.2.1 b=192.0.2.2; else a=2001:db8::1 b=2001:db8::2; fi
	alg="-E $3 $4"
	[ -n "${5:-}" ] && alg="$alg -A $5 $6"
	if [ "$1" = A ]; then me=$a peer=$b; else me=$b peer=$a; fi
	cat <<X
flush;
spdflush;
add $a $b esp 0x1001 -m transport $alg;
add $b $a esp 0x1002 -m transport $alg;
spdadd $me $peer any -P out ipsec esp/transport//require;
spdadd $peer $me any -P in ipsec esp/transport//require;
X
}

# transfer FROM TO ADDR FILE: FILE over TCP from namespace FROM to TO's
# ADDR, port 5001, compared end to end.
transfer()
{
	in_ "$2" timeout 30 nc -l "$3" 5001 >got &
	_srv=$!
	sleep 0.5
	in_ "$1" timeout 30 nc -N "$3" 5001 <"$4" ||
	    atf_fail "nc could not send"
	wait $_srv
	cmp "$4" got || atf_fail "TCP data differs"
}

# only_proto PCAP ADDR1 ADDR2 FILTER NAME: every IP packet between the
# two addresses matches the tcpdump FILTER (neighbour discovery to
# multicast addresses is not theirs); NAME says what it is.
only_proto()
{
	# "host" alone also matches ARP, which is not IP.
	total=$(tcpdump -n -r "$1" "(ip or ip6) and host $2 and host $3" \
	    2>/dev/null | wc -l)
	prot=$(tcpdump -n -r "$1" "host $2 and host $3 and $4" 2>/dev/null |
	    wc -l)
	echo "$1: $total IP packets, $prot $5"
	[ "$total" -gt 0 ] || atf_fail "nothing captured in $1"
	[ "$total" = "$prot" ] || { tcpdump -n -r "$1" 2>/dev/null | head -20;
	    atf_fail "packets without $5 on the wire in $1"; }
}

# only_esp PCAP ADDR1 ADDR2: only ESP between the two addresses.
only_esp() { only_proto "$1" "$2" "$3" esp ESP; }

# decrypts PCAP PROTO SRC DST SPI TENC EKEY TAUTH AKEY FILTER: tshark,
# with the SA's keys, finds packets matching FILTER inside the ESP.
decrypts()
{
	command -v tshark >/dev/null || { echo "no tshark: skip decryption"; return 0; }
	n=$(tshark -r "$1" -o esp.enable_encryption_decode:TRUE \
	    -o "uat:esp_sa:\"$2\",\"$3\",\"$4\",\"$5\",\"$6\",\"$7\",\"$8\",\"$9\"" \
	    -Y "esp && ${10}" 2>/dev/null | wc -l)
	echo "tshark decrypted $n packets matching '${10}'"
	[ "$n" -gt 0 ] || atf_fail "tshark found no '${10}' inside the ESP of $1"
}

atf_test_case transport4_gcm cleanup
transport4_gcm_head()
{
	atf_set descr "host to host ESP transport, IPv4, AES-GCM-128: ping and TCP cross protected"
	atf_set require.user root
}
transport4_gcm_body()
{
	esp_init
	pair
	key=0x00112233445566778899aabbccddeeffcafebabe
	transport_conf A 4 aes-gcm-16 $key >a.conf
	transport_conf B 4 aes-gcm-16 $key >b.conf
	keys A a.conf
	keys B b.conf
	capture B vethB
	atf_check -o ignore ip netns exec "$(ns A)" ping -c 3 -W 3 192.0.2.2
	# 1 MB over TCP, checked end to end.
	head -c 1000000 /dev/urandom >data
	transfer A B 192.0.2.2 data
	capture_stop
	only_esp B-vethB.pcap 192.0.2.1 192.0.2.2
	decrypts B-vethB.pcap IPv4 192.0.2.1 192.0.2.2 0x00001001 \
	    "AES-GCM with 16 octet ICV [RFC4106]" $key NULL "" "icmp.type == 8"
	[ "$(nstat A "outbound packets protected with ESP")" -gt 700 ] ||
	    atf_fail "A protected too few packets for 1 MB and 3 pings"
}
transport4_gcm_cleanup() { netns_cleanup; }

atf_test_case transport6_cbc cleanup
transport6_cbc_head()
{
	atf_set descr "host to host ESP transport, IPv6, AES-CBC + HMAC-SHA2-256"
	atf_set require.user root
}
transport6_cbc_body()
{
	esp_init
	pair
	ek=0x00112233445566778899aabbccddeeff
	ak=0xa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf
	transport_conf A 6 aes-cbc $ek hmac-sha2-256 $ak >a.conf
	transport_conf B 6 aes-cbc $ek hmac-sha2-256 $ak >b.conf
	keys A a.conf
	keys B b.conf
	capture B vethB
	atf_check -o ignore ip netns exec "$(ns A)" ping -c 3 -W 3 2001:db8::2
	capture_stop
	# Neighbour discovery is ICMPv6 too, and protected like the rest.
	only_esp B-vethB.pcap 2001:db8::1 2001:db8::2
	decrypts B-vethB.pcap IPv6 2001:db8::1 2001:db8::2 0x00001001 \
	    "AES-CBC [RFC3602]" $ek "HMAC-SHA-256-128 [RFC4868]" $ak \
	    "icmpv6.type == 128"
}
transport6_cbc_cleanup() { netns_cleanup; }

atf_test_case wrong_key cleanup
wrong_key_head()
{
	atf_set descr "different keys on the two ends: nothing gets through, the peer counts ESP failures"
	atf_set require.user root
}
wrong_key_body()
{
	esp_init
	pair
	transport_conf A 4 aes-gcm-16 0x00112233445566778899aabbccddeeffcafebabe >a.conf
	transport_conf B 4 aes-gcm-16 0x00112233445566778899aabbccddeeffcafebab0 >b.conf
	keys A a.conf
	keys B b.conf
	atf_check -s not-exit:0 -o ignore ip netns exec "$(ns A)" ping -c 2 -W 1 192.0.2.2
	[ "$(nstat B "inbound ESP packets refused")" -ge 2 ] ||
	    atf_fail "B did not count the bad ESP"
}
wrong_key_cleanup() { netns_cleanup; }

atf_test_case plaintext_refused cleanup
plaintext_refused_head()
{
	atf_set descr "B requires ESP from A; A sends in clear (no policy): B drops and counts"
	atf_set require.user root
}
plaintext_refused_body()
{
	esp_init
	pair
	transport_conf B 4 aes-gcm-16 0x00112233445566778899aabbccddeeffcafebabe >b.conf
	keys B b.conf
	atf_check -s not-exit:0 -o ignore ip netns exec "$(ns A)" ping -c 2 -W 1 192.0.2.2
	[ "$(nstat B "inbound packets violated process security policy")" -ge 2 ] ||
	    atf_fail "B did not count the policy violations"
}
plaintext_refused_cleanup() { netns_cleanup; }

atf_test_case acquire_first_ping cleanup
acquire_first_ping_head()
{
	atf_set descr "no SA yet: the first ping is held, a registered daemon gets SADB_ACQUIRE, installs the SAs, and that first ping is answered"
	atf_set require.user root
}
acquire_first_ping_body()
{
	esp_init
	pair
	key=0x00112233445566778899aabbccddeeffcafebabe
	transport_conf A 4 aes-gcm-16 $key | grep -v '^add' >a-spd.conf
	# Inbound SA first, then outbound, as an IKE daemon does (UPDATE,
	# then ADD): the held ping goes out at the ADD and its reply must
	# find its SA.
	transport_conf A 4 aes-gcm-16 $key | grep '^add' | tac >a-sa.conf
	transport_conf B 4 aes-gcm-16 $key >b.conf
	keys A a-spd.conf
	keys B b.conf
	PFKEY_SOCKET="$PWD/A.sock" in_ A "$(atf_get_srcdir)/h_acquire" 10 \
	    >acquire.out 2>&1 &
	acq=$!
	echo $acq >>daemons.pids
	i=0
	until grep -q registered acquire.out 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 250 ] || atf_fail "h_acquire did not register"
		sleep 0.02
	done
	# One echo request, ten seconds to be answered.
	in_ A ping -c 1 -W 10 192.0.2.2 >ping.out 2>&1 &
	pingpid=$!
	wait $acq || { cat acquire.out; atf_fail "no ACQUIRE"; }
	cat acquire.out
	grep -q 'acquire seq=[1-9].* src=192.0.2.1 dst=192.0.2.2' acquire.out ||
	    atf_fail "ACQUIRE without the expected addresses"
	[ "$(nstat A "outbound packets held for an ACQUIRE")" -ge 1 ] ||
	    atf_fail "A held nothing"
	keys A a-sa.conf
	wait $pingpid || { cat ping.out; nstats A; atf_fail "the first ping was not answered"; }
	grep -q '1 received' ping.out || atf_fail "the held ping got no reply"
	[ "$(nstat A "packets held now")" = 0 ] || atf_fail "still held"
}
acquire_first_ping_cleanup() { netns_cleanup; }

# fbsd_tunnel AF EALG EKEY AALG AKEY TENC TAUTH: FreeBSD's
# tests/sys/netipsec/tunnel: five namespaces (hostA -LAN_A- ipsecA -PUB_A-
# router -PUB_B- ipsecB -LAN_B- hostB) with its addresses, its setkey
# file on each gateway, one transform; hostA must reach hostB, the router
# must see only ESP between the gateways, and tshark (when it knows the
# transform: TENC not empty) must decrypt the echo requests.  Keys are
# FreeBSD's strings.
fbsd_tunnel()
{
	fbsd_setup "$@"
	capture router pubA1
	atf_check -o ignore ip netns exec "$(ns hostA)" $ping -c 3 -W 3 $hb
	capture_stop
	only_esp router-pubA1.pcap $ga $gb
	[ -n "$tenc" ] || return 0
	hex() { printf '%s' "$1" | tr -d '"' | od -An -tx1 | tr -d ' \n'; }
	ak=""
	[ -n "$akey" ] && ak="0x$(hex "$akey")"
	ek="0x$(hex "$ekey")"
	[ "$ek" = 0x ] && ek=""
	if [ "$af" = 4 ]; then icmp="icmp.type == 8 && ip.dst == $hb"
	else icmp="icmpv6.type == 128 && ipv6.dst == $hb"; fi
	decrypts router-pubA1.pcap $proto $ga $gb 0x00001000 "$tenc" "$ek" \
	    "$tauth" "$ak" "$icmp"
}

# fbsd_setup AF EALG EKEY AALG AKEY TENC TAUTH: fbsd_tunnel's five
# namespaces, addresses, routes, daemons and SAs; sets ha, hb, ga, gb...
fbsd_setup()
{
	af=$1 ealg=$2 ekey=$3 aalg=$4 akey=$5 tenc=$6 tauth=$7
	esp_init
	for n in hostA ipsecA router ipsecB hostB; do mkns $n; done
	link hostA lanA0 ipsecA lanA1
	link ipsecA pubA0 router pubA1
	link router pubB1 ipsecB pubB0
	link ipsecB lanB1 hostB lanB0
	if [ "$af" = 4 ]; then
		ha=192.0.2.1 ga_lan=192.0.2.2 ga=198.51.100.2 r1=198.51.100.1
		r2=198.51.100.5 gb=198.51.100.6 gb_lan=203.0.113.2 hb=203.0.113.1
		lan_a=192.0.2.0/24 lan_b=203.0.113.0/24 p=30 ping=ping proto=IPv4
		for n in ipsecA router ipsecB; do
			in_ $n sysctl -qw net.ipv4.ip_forward=1
		done
	else
		ha=2001:db8:1::1 ga_lan=2001:db8:1::2 ga=2001:db8:23::2
		r1=2001:db8:23::1 r2=2001:db8:34::1 gb=2001:db8:34::2
		gb_lan=2001:db8:45::2 hb=2001:db8:45::1
		lan_a=2001:db8:1::/64 lan_b=2001:db8:45::/64 p=64 ping=ping
		proto=IPv6
		for n in ipsecA router ipsecB; do
			in_ $n sysctl -qw net.ipv6.conf.all.forwarding=1
		done
	fi
	nodad=""
	[ "$af" = 6 ] && nodad=nodad
	ip -n "$(ns hostA)" addr add $ha/$p dev lanA0 $nodad
	ip -n "$(ns ipsecA)" addr add $ga_lan/$p dev lanA1 $nodad
	ip -n "$(ns ipsecA)" addr add $ga/$p dev pubA0 $nodad
	ip -n "$(ns router)" addr add $r1/$p dev pubA1 $nodad
	ip -n "$(ns router)" addr add $r2/$p dev pubB1 $nodad
	ip -n "$(ns ipsecB)" addr add $gb/$p dev pubB0 $nodad
	ip -n "$(ns ipsecB)" addr add $gb_lan/$p dev lanB1 $nodad
	ip -n "$(ns hostB)" addr add $hb/$p dev lanB0 $nodad
	ip -n "$(ns hostA)" route add default via $ga_lan
	ip -n "$(ns ipsecA)" route add default via $r1
	ip -n "$(ns router)" route add $lan_a via $ga
	ip -n "$(ns router)" route add $lan_b via $gb
	ip -n "$(ns ipsecB)" route add default via $r2
	ip -n "$(ns hostB)" route add default via $gb_lan
	# The path works in clear first (and neighbours are resolved).
	i=0
	until in_ hostA $ping -c 1 -W 1 $hb >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -lt 10 ] || atf_fail "no path without IPsec"
	done
	daemon ipsecA pubA0
	daemon ipsecB pubB0
	alg="-E $ealg $ekey"
	[ -n "$aalg" ] && alg="$alg -A $aalg $akey"
	# FBSD_REQS and FBSD_SAS replace the ESP tunnel's requests and SAs
	# (@x and @y: this direction's gateways; @a and @b: A's and B's).
	reqs=${FBSD_REQS:-esp/tunnel/@x-@y/require}
	sas=${FBSD_SAS:-"add @a @b esp 0x1000 $alg;
add @b @a esp 0x1001 $alg;"}
	for side in A B; do
		if [ $side = A ]; then d1=out d2=in; else d1=in d2=out; fi
		ab=$(printf '%s' "$reqs" | sed -e "s/@x/$ga/g" -e "s/@y/$gb/g")
		ba=$(printf '%s' "$reqs" | sed -e "s/@x/$gb/g" -e "s/@y/$ga/g")
		{
			printf 'flush;\nspdflush;\n'
			echo "spdadd $lan_a $lan_b any -P $d1 ipsec $ab;"
			echo "spdadd $lan_b $lan_a any -P $d2 ipsec $ba;"
			printf '%s\n' "$sas" | sed -e "s/@a/$ga/g" -e "s/@b/$gb/g"
		} >$side.conf
		keys ipsec$side $side.conf
	done
}

# The transforms of FreeBSD's tunnel tests, each over IPv4 and IPv6.
K16='"1234567890123456"'
K20='"12345678901234567890"'
K32='"12345678901234567890123456789012"'
K36='"123456789012345678901234567890123456"'
fbsd_tc()
{
	name=$1
	shift
	for af in 4 6; do
		atf_test_case "tunnel_${name}_v$af" cleanup
		eval "tunnel_${name}_v${af}_head() {
			atf_set descr \"FreeBSD's tunnel test $name, IPv$af: hostA reaches hostB through ESP tunnel mode\"
			atf_set require.user root
		}"
		eval "tunnel_${name}_v${af}_body() { fbsd_tunnel $af $(printf "'%s' " "$@"); }"
		eval "tunnel_${name}_v${af}_cleanup() { netns_cleanup; }"
		FBSD_TCS="${FBSD_TCS:-} tunnel_${name}_v$af"
	done
}
fbsd_tc empty null '""' "" "" "NULL" "NULL"
fbsd_tc aes_cbc_128_hmac_sha1 rijndael-cbc "$K16" hmac-sha1 "$K20" \
    "AES-CBC [RFC3602]" "HMAC-SHA-1-96 [RFC2404]"
fbsd_tc aes_cbc_256_hmac_sha2_256 rijndael-cbc "$K32" hmac-sha2-256 "$K32" \
    "AES-CBC [RFC3602]" "HMAC-SHA-256-128 [RFC4868]"
fbsd_tc aes_gcm_128 aes-gcm-16 "$K20" "" "" \
    "AES-GCM with 16 octet ICV [RFC4106]" "NULL"
fbsd_tc aes_gcm_256 aes-gcm-16 "$K36" "" "" \
    "AES-GCM with 16 octet ICV [RFC4106]" "NULL"
# Wireshark 4.0 has no ChaCha20-Poly1305 for ESP: no decryption check.
fbsd_tc chacha20_poly1305 chacha20-poly1305 "$K36" "" "" "" ""

atf_test_case natt_transport4 cleanup
natt_transport4_head()
{
	atf_set descr "ESP in UDP (RFC 3948) both ways, SAs with setkey -natt: pings cross as UDP 4500 and nothing else; 2000-byte pings cross as fragmented ESP in UDP, reassembled before decryption"
	atf_set require.user root
}
natt_transport4_body()
{
	esp_init
	pair
	key=0x00112233445566778899aabbccddeeffcafebabe
	for side in A B; do
		if [ $side = A ]; then me=192.0.2.1 peer=192.0.2.2; else me=192.0.2.2 peer=192.0.2.1; fi
		cat >$side.conf <<X
flush;
spdflush;
add 192.0.2.1 192.0.2.2 esp 0x1001 -m transport -natt 192.0.2.1[4500] 192.0.2.2[4500] -E aes-gcm-16 $key;
add 192.0.2.2 192.0.2.1 esp 0x1002 -m transport -natt 192.0.2.2[4500] 192.0.2.1[4500] -E aes-gcm-16 $key;
spdadd $me $peer any -P out ipsec esp/transport//require;
spdadd $peer $me any -P in ipsec esp/transport//require;
X
		keys $side $side.conf
	done
	capture B vethB
	atf_check -o ignore ip netns exec "$(ns A)" ping -c 3 -W 3 192.0.2.2
	capture_stop
	atf_check -o ignore ip netns exec "$(ns A)" ping -c 2 -s 2000 -W 3 192.0.2.2
	for h in A B; do
		[ "$(nstat $h "inbound datagrams reassembled")" -ge 2 ] ||
		    { nstats $h; atf_fail "$h reassembled no ESP in UDP"; }
	done
	total=$(tcpdump -n -r B-vethB.pcap "host 192.0.2.1 and host 192.0.2.2" 2>/dev/null | wc -l)
	natt=$(tcpdump -n -r B-vethB.pcap "host 192.0.2.1 and host 192.0.2.2 and udp port 4500" 2>/dev/null | wc -l)
	echo "$total packets between A and B, $natt in UDP 4500"
	[ "$total" -ge 4 ] && [ "$total" = "$natt" ] ||
	    { tcpdump -n -r B-vethB.pcap 2>/dev/null | head; atf_fail "not all ESP-in-UDP"; }
	# tcpdump decodes UDP 4500 as ESP-in-UDP (RFC 3948).
	tcpdump -n -r B-vethB.pcap 2>/dev/null | grep -q 'UDP-encap.*ESP(spi=0x00001001' ||
	    tcpdump -n -r B-vethB.pcap 2>/dev/null | grep -q 'ESP(spi=0x00001001' ||
	    { tcpdump -n -r B-vethB.pcap 2>/dev/null | head -3; atf_fail "tcpdump sees no ESP in the UDP"; }
}
natt_transport4_cleanup() { netns_cleanup; }

atf_test_case attacks cleanup
attacks_head()
{
	atf_set descr "on the wire, forged from the link (scapy): a replayed ESP packet, a forged sequence number (ICV fails) and an unknown SPI are refused and counted, and nothing is delivered"
	atf_set require.user root
}
attacks_body()
{
	esp_init
	/usr/bin/python3 -c 'import scapy' 2>/dev/null ||
	    atf_skip "scapy (python3-scapy) is not installed"
	pair
	key=0x00112233445566778899aabbccddeeffcafebabe
	# An anti-replay window (-r 4: 32 packets); setkey's default, as
	# FreeBSD's, is none.
	transport_conf A 4 aes-gcm-16 $key | sed 's/-m transport/-m transport -r 4/' >a.conf
	transport_conf B 4 aes-gcm-16 $key | sed 's/-m transport/-m transport -r 4/' >b.conf
	keys A a.conf
	keys B b.conf
	capture B vethB
	atf_check -o ignore ip netns exec "$(ns A)" ping -c 1 -W 3 192.0.2.2
	capture_stop
	refused=$(nstat B "inbound ESP packets refused")
	nosa=$(nstat B "inbound ESP packets with no SA")
	accepted=$(nstat B "inbound ESP packets accepted")
	mac=$(ip -n "$(ns B)" -o link show vethB | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
	# From A's side of the link, below A's IP stack (and its hook):
	# the captured echo request again (a replay), then with a sequence
	# number ahead of the window (past the replay check, so the ICV,
	# which covers it, must fail), then with an SPI nobody has.
	cat >forge.py <<'X'
import sys
from scapy.all import rdpcap, Ether, IP, sendp, conf
conf.verb = 0
mac = sys.argv[1]
pkts = [p for p in rdpcap("B-vethB.pcap") if IP in p and p[IP].proto == 50
    and p[IP].src == "192.0.2.1"]
raw = bytes(pkts[0][IP])
seq = bytearray(raw); seq[24:28] = (1000).to_bytes(4, "big")
spi = bytearray(raw); spi[20:24] = b"\xde\xad\xbe\xef"
for b in (raw, bytes(seq), bytes(spi)):
    sendp(Ether(dst=mac) / IP(b), iface="vethA")
X
	ip netns exec "$(ns A)" /usr/bin/python3 forge.py "$mac" ||
	    atf_fail "scapy could not send"
	sleep 0.5
	[ "$(nstat B "inbound ESP packets refused")" -ge $((refused + 2)) ] ||
	    { nstats B; atf_fail "replay and bad ICV not both refused"; }
	[ "$(nstat B "inbound ESP packets with no SA")" -ge $((nosa + 1)) ] ||
	    { nstats B; atf_fail "unknown SPI not counted"; }
	[ "$(nstat B "inbound ESP packets accepted")" = "$accepted" ] ||
	    atf_fail "a forged packet was accepted"
	[ "$(nstat B "packets replayed or too old")" -ge 1 ] ||
	    atf_fail "ESP counted no replay"
	[ "$(nstat B "packets that failed the ICV check")" -ge 1 ] ||
	    atf_fail "ESP counted no ICV failure"
}
attacks_cleanup() { netns_cleanup; }

atf_test_case lifetime_bytes cleanup
lifetime_bytes_head()
{
	atf_set descr "byte lifetimes counted by the data plane: soft then hard SADB_EXPIRE, and the SA is gone at hard"
	atf_set require.user root
}
lifetime_bytes_body()
{
	esp_init
	pair
	key=0x00112233445566778899aabbccddeeffcafebabe
	# A's outbound SA: soft at 400 bytes, hard at 800.
	transport_conf A 4 aes-gcm-16 $key |
	    sed 's/esp 0x1001 -m transport/esp 0x1001 -m transport -bs 400 -bh 800/' >a.conf
	transport_conf B 4 aes-gcm-16 $key >b.conf
	keys A a.conf
	keys B b.conf
	PFKEY_SOCKET="$PWD/A.sock" in_ A "$SETKEY" -x >watch.out 2>&1 &
	echo $! >>daemons.pids
	sleep 0.3
	# 100-byte pings: 128 bytes each on the SA; the SA dies midway.
	in_ A ping -c 12 -i 0.3 -s 100 -W 1 192.0.2.2 >ping.out 2>&1 || true
	sleep 1.5
	expires watch.out >expires.out
	cat expires.out
	[ "$(cat expires.out)" = "$(printf 'soft 4097\nhard 4097')" ] ||
	    { tail -30 watch.out; atf_fail "not one soft then one hard SADB_EXPIRE for SPI 0x1001"; }
	PFKEY_SOCKET="$PWD/A.sock" in_ A "$SETKEY" -D >sad.out
	grep -q 'spi=4097(' sad.out && atf_fail "the SA outlived its hard lifetime"
	grep -q 'spi=4098(' sad.out || atf_fail "the other SA went too"
	grep -q ' 0% packet loss' ping.out && atf_fail "all pings passed: the hard limit did not bite"
	return 0
}
lifetime_bytes_cleanup() { netns_cleanup; }

# expires FILE: the SADB_EXPIRE messages that setkey -x logged to FILE, in
# order, one line each: "soft SPI" or "hard SPI" (decimal), after the
# lifetime extension it carries (an ADD's echo carries both: skipped).
expires()
{
	awk '/^sadb_msg\{/ { inx = /type=8\(EXPIRE\)/; spi = ""; kind = "" }
	    inx && /sadb_sa\{/ { sub(/.*spi=/, ""); sub(/ .*/, ""); spi = $0 }
	    inx && /type=4\(LIFETIME_SOFT\)/ { kind = "soft" }
	    inx && /type=3\(LIFETIME_HARD\)/ { kind = "hard" }
	    inx && /^$/ { print kind, spi; inx = 0 }
	    END { if (inx) print kind, spi }' "$1"
}

atf_test_case lifetime_time cleanup
lifetime_time_head()
{
	atf_set descr "time lifetimes (setkey -ls/-lh): soft SADB_EXPIRE on time with the SA still used, hard SADB_EXPIRE on time, then the SA is gone and nothing crosses"
	atf_set require.user root
}
lifetime_time_body()
{
	esp_init
	pair
	key=0x00112233445566778899aabbccddeeffcafebabe
	# A's outbound SA: soft after 2 seconds, hard after 5.
	transport_conf A 4 aes-gcm-16 $key |
	    sed 's/esp 0x1001 -m transport/esp 0x1001 -m transport -ls 2 -lh 5/' >a.conf
	transport_conf B 4 aes-gcm-16 $key >b.conf
	keys B b.conf
	PFKEY_SOCKET="$PWD/A.sock" in_ A "$SETKEY" -x >watch.out 2>&1 &
	echo $! >>daemons.pids
	sleep 0.3
	t0=$(date +%s)
	keys A a.conf
	atf_check -o ignore ip netns exec "$(ns A)" ping -c 2 -i 0.2 -W 2 192.0.2.2
	i=0
	until expires watch.out | grep -q .; do
		i=$((i + 1)); [ $i -lt 80 ] || atf_fail "no SADB_EXPIRE within 8 s"
		sleep 0.1
	done
	tsoft=$(date +%s)
	[ "$(expires watch.out)" = "soft 4097" ] ||
	    { expires watch.out; atf_fail "the first SADB_EXPIRE is not the soft one of 0x1001"; }
	[ $((tsoft - t0)) -ge 2 ] || atf_fail "soft EXPIRE after $((tsoft - t0)) s, before 2 s"
	# Soft only warns: the dying SA still carries traffic.
	PFKEY_SOCKET="$PWD/A.sock" in_ A "$SETKEY" -D >sad.out
	grep -A 6 'spi=4097(' sad.out | grep -q 'state=dying' ||
	    { cat sad.out; atf_fail "the SA is not dying after its soft lifetime"; }
	esp=$(nstat A "outbound packets protected with ESP")
	atf_check -o ignore ip netns exec "$(ns A)" ping -c 2 -i 0.2 -W 2 192.0.2.2
	[ "$(nstat A "outbound packets protected with ESP")" -ge $((esp + 2)) ] ||
	    atf_fail "the dying SA was not used"
	i=0
	until [ "$(expires watch.out | wc -l)" -ge 2 ]; do
		i=$((i + 1)); [ $i -lt 80 ] || atf_fail "no hard SADB_EXPIRE within 8 s"
		sleep 0.1
	done
	thard=$(date +%s)
	expires watch.out
	[ "$(expires watch.out)" = "$(printf 'soft 4097\nhard 4097')" ] ||
	    atf_fail "not one soft then one hard SADB_EXPIRE for SPI 0x1001"
	[ $((thard - t0)) -ge 5 ] || atf_fail "hard EXPIRE after $((thard - t0)) s, before 5 s"
	PFKEY_SOCKET="$PWD/A.sock" in_ A "$SETKEY" -D >sad.out
	grep -q 'spi=4097(' sad.out && atf_fail "the SA outlived its hard lifetime"
	grep -q 'spi=4098(' sad.out || atf_fail "the other SA went too"
	# Hard: the SA is not used any more; the require policy finds none.
	nosa=$(nstat A "outbound packets with no SA available")
	esp=$(nstat A "outbound packets protected with ESP")
	atf_check -s not-exit:0 -o ignore ip netns exec "$(ns A)" \
	    ping -c 2 -i 0.2 -W 1 192.0.2.2
	[ "$(nstat A "outbound packets with no SA available")" -ge $((nosa + 2)) ] ||
	    { nstats A; atf_fail "no SA not counted after the hard lifetime"; }
	[ "$(nstat A "outbound packets protected with ESP")" = "$esp" ] ||
	    atf_fail "packets were still protected after the hard lifetime"
}
lifetime_time_cleanup() { netns_cleanup; }

# flood.py DST PORT SECONDS: UDP datagrams carrying a canary, as fast as
# Python sends them; prints how many the stack took.
write_flood()
{
	cat >flood.py <<'X'
import socket, sys, time
dst, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
af = socket.AF_INET6 if ":" in dst else socket.AF_INET
s = socket.socket(af, socket.SOCK_DGRAM)
s.setblocking(False)
data = b"PLAINTEXT-CANARY" * 4
n = 0
end = time.monotonic() + secs
while time.monotonic() < end:
    for i in range(100):
        try:
            s.sendto(data, (dst, port))
            n += 1
        except OSError:
            pass
print(n)
X
}

# no_plaintext PCAP: the canary is nowhere in the capture, and every
# packet between A and B, IPv4 and IPv6, is ESP.
no_plaintext()
{
	n=$(grep -c -a PLAINTEXT-CANARY "$1")
	[ "$n" = 0 ] || atf_fail "plaintext on the wire: the canary is in $1"
	only_esp "$1" 192.0.2.1 192.0.2.2
	only_esp "$1" 2001:db8::1 2001:db8::2
}

atf_test_case fail_closed_flood cleanup
fail_closed_flood_head()
{
	atf_set descr "require policies, IPv4 and IPv6: a UDP flood overflowing a 4-packet queue, then netipsecd killed with SIGKILL mid-flood: the peer's wire carries only ESP, never the plaintext; the restart leaves one set of rules"
	atf_set require.user root
}
fail_closed_flood_body()
{
	esp_init
	[ -x /usr/bin/python3 ] || atf_skip "python3 is not installed"
	DAEMON_OPTS="-o netipsecd.queue_maxlen=4"
	pair
	key=0x00112233445566778899aabbccddeeffcafebabe
	for side in A B; do
		{ transport_conf $side 4 aes-gcm-16 $key
		  transport_conf $side 6 aes-gcm-16 $key |
		      sed -e '/flush/d' -e 's/0x100\([12]\)/0x200\1/'; } \
		    >$side.conf
		keys $side $side.conf
	done
	atf_check -o ignore ip netns exec "$(ns A)" ping -c 1 -W 3 192.0.2.2
	atf_check -o ignore ip netns exec "$(ns A)" ping -c 1 -W 3 2001:db8::2
	write_flood
	# A capture that drops packets could miss a leak: a large buffer,
	# and its drops are checked.
	ip netns exec "$(ns B)" tcpdump -i vethB -B 32768 -U -n -w B-vethB.pcap \
	    >/dev/null 2>B.tcpdump &
	echo $! >>daemons.pids
	echo $! >capture.pid
	sleep 1
	rules0=$({ in_ A iptables -t mangle -S; in_ A ip6tables -t mangle -S; } |
	    sort)

	# 1. More than the queue holds, both families at once: the kernel
	# drops what does not fit, nothing goes around the layer.
	qfull=$(nstat A "dropped by the kernel: queue full")
	in_ A /usr/bin/python3 flood.py 192.0.2.2 9 2 >n4.out &
	f4=$!
	in_ A /usr/bin/python3 flood.py 2001:db8::2 9 2 >n6.out &
	f6=$!
	wait $f4 $f6
	echo "flood: $(cat n4.out) IPv4 and $(cat n6.out) IPv6 datagrams sent"
	esp=$(nstat A "outbound packets protected with ESP")
	[ "$(nstat A "dropped by the kernel: queue full")" -gt "$qfull" ] ||
	    { nstats A; atf_fail "the flood did not overflow the queue: nothing tested"; }
	[ "$esp" -gt 100 ] || atf_fail "only $esp packets protected during the flood"
	nstats A | grep -E 'queue full|protected with ESP'

	# 2. SIGKILL in the middle of a flood.
	in_ A /usr/bin/python3 flood.py 192.0.2.2 9 3 >n4.out &
	f4=$!
	in_ A /usr/bin/python3 flood.py 2001:db8::2 9 3 >n6.out &
	f6=$!
	sleep 1
	pid=$(for p in $(ip netns pids "$(ns A)"); do
		[ "$(cat /proc/$p/comm 2>/dev/null)" = netipsecd ] && echo $p
	done)
	[ -n "$pid" ] || atf_fail "no netipsecd in A"
	kill -9 $pid
	wait $f4 $f6
	echo "flood across SIGKILL: $(cat n4.out) IPv4, $(cat n6.out) IPv6"
	atf_check -s not-exit:0 -o ignore ip netns exec "$(ns A)" \
	    ping -c 2 -i 0.2 -W 1 192.0.2.2
	atf_check -s not-exit:0 -o ignore ip netns exec "$(ns A)" \
	    ping -c 2 -i 0.2 -W 1 2001:db8::2
	capture_stop
	cat B.tcpdump
	grep -q '^0 packets dropped by kernel' B.tcpdump ||
	    atf_fail "tcpdump dropped packets: the capture cannot vouch for the wire"
	no_plaintext B-vethB.pcap

	# 3. The next start removes the dead one's rules, installs the same.
	daemon A vethA
	rules1=$({ in_ A iptables -t mangle -S; in_ A ip6tables -t mangle -S; } |
	    sort)
	[ "$rules0" = "$rules1" ] ||
	    { echo "$rules0"; echo "$rules1"; atf_fail "the rules differ after the restart"; }
	keys A A.conf
	atf_check -o ignore ip netns exec "$(ns A)" ping -c 1 -W 3 192.0.2.2
}
fail_closed_flood_cleanup() { netns_cleanup; }

# big_ping NS DST SIZE: four pings of SIZE bytes of data; at least the
# last two answered (the first request and the first reply may only teach
# their sources the path MTU).
big_ping()
{
	ip netns exec "$(ns "$1")" ping -c 4 -i 0.5 -W 2 -s "$3" "$2" \
	    >ping.out 2>&1
	cat ping.out
	grep -q 'icmp_seq=3 ' ping.out && grep -q 'icmp_seq=4 ' ping.out &&
	    [ "$(grep -c ' bytes from .*icmp_seq=[34] ' ping.out)" = 2 ] ||
	    atf_fail "ping -s $3 $2 from $1: the last two pings were not answered"
}

# big_udp SRCNS DSTNS DST: one 3000-byte UDP datagram with nc, received
# whole.
big_udp()
{
	head -c 3000 /dev/urandom >udp.data
	rm -f udp.got
	ip netns exec "$(ns "$2")" timeout 10 nc -u -l "$3" 5002 >udp.got &
	srv=$!
	sleep 0.5
	ip netns exec "$(ns "$1")" nc -u -w 1 -q 1 "$3" 5002 <udp.data ||
	    atf_fail "nc could not send to $3"
	i=0
	while [ "$(cat udp.got 2>/dev/null | wc -c)" -lt 3000 ]; do
		i=$((i + 1)); [ $i -lt 30 ] || break
		sleep 0.1
	done
	kill $srv 2>/dev/null
	wait $srv 2>/dev/null
	cmp udp.data udp.got || atf_fail "the 3000-byte UDP datagram to $3 did not arrive whole"
}

atf_test_case pmtu_transport cleanup
pmtu_transport_head()
{
	atf_set descr "path MTU in transport mode, IPv4 and IPv6: pings of 1500 and 2028 bytes and a 3000-byte UDP datagram cross as fragmented ESP, reassembled before decryption; IPv4 with DF is answered with ICMP fragmentation needed"
	atf_set require.user root
}
pmtu_transport_body()
{
	esp_init
	pair
	key=0x00112233445566778899aabbccddeeffcafebabe
	for side in A B; do
		{ transport_conf $side 4 aes-gcm-16 $key
		  transport_conf $side 6 aes-gcm-16 $key |
		      sed -e '/flush/d' -e 's/0x100\([12]\)/0x200\1/'; } \
		    >$side.conf
		keys $side $side.conf
	done
	# 1500 bytes with DF (ping's default): too big with ESP, so A's
	# source is told the MTU that fits, and later pings are fragmented.
	big_ping A 192.0.2.2 1472
	grep -q 'Frag needed and DF set (mtu = 14[0-9][0-9])' ping.out ||
	    atf_fail "no ICMP fragmentation needed with the MTU less ESP"
	[ "$(nstat A "ICMP errors sent with the MTU that fits")" -ge 1 ] ||
	    atf_fail "A counted no ICMP error"
	big_ping A 192.0.2.2 2000
	big_ping A 2001:db8::2 1452
	big_ping A 2001:db8::2 2000
	big_udp A B 192.0.2.2
	big_udp A B 2001:db8::2
	[ "$(nstat B "inbound datagrams reassembled")" -ge 8 ] ||
	    { nstats B; atf_fail "B reassembled too few ESP packets"; }
	[ "$(nstat B "inbound ESP packets refused")" = 0 ] ||
	    { nstats B; atf_fail "B refused ESP"; }
}
pmtu_transport_cleanup() { netns_cleanup; }

# pmtu_tunnel AF: the same through FreeBSD's five-namespace tunnel.
pmtu_tunnel()
{
	fbsd_setup $1 aes-gcm-16 "$K20" "" "" "" ""
	if [ "$1" = 4 ]; then s1=1472; else s1=1452; fi
	big_ping hostA $hb $s1
	big_ping hostA $hb 2000
	big_ping hostB $ha 2000
	big_udp hostA hostB $hb
}

atf_test_case pmtu_tunnel_v4 cleanup
pmtu_tunnel_v4_head()
{
	atf_set descr "path MTU in tunnel mode, IPv4 (gateways): 1500- and 2028-byte pings and a 3000-byte UDP datagram cross; the outer header has no DF (dfbit 0) and is fragmented, then reassembled for ESP"
	atf_set require.user root
}
pmtu_tunnel_v4_body()
{
	pmtu_tunnel 4
	[ "$(nstat ipsecB "inbound datagrams reassembled")" -ge 4 ] ||
	    { nstats ipsecB; atf_fail "ipsecB reassembled too few ESP packets"; }
	[ "$(nstat ipsecA "ICMP errors sent with the MTU that fits")" = 0 ] ||
	    atf_fail "ipsecA sent ICMP errors though the outer header has no DF"
}
pmtu_tunnel_v4_cleanup() { netns_cleanup; }

atf_test_case pmtu_tunnel_v4_dfbit cleanup
pmtu_tunnel_v4_dfbit_head()
{
	atf_set descr "path MTU in tunnel mode, IPv4, net.inet.ipsec.dfbit=2 (DF copied): the gateway answers a 1500-byte DF packet with ICMP fragmentation needed, then pings and UDP cross"
	atf_set require.user root
}
pmtu_tunnel_v4_dfbit_body()
{
	DAEMON_OPTS="-o net.inet.ipsec.dfbit=2"
	pmtu_tunnel 4
	[ "$(nstat ipsecA "ICMP errors sent with the MTU that fits")" -ge 1 ] ||
	    atf_fail "ipsecA sent no ICMP fragmentation needed"
}
pmtu_tunnel_v4_dfbit_cleanup() { netns_cleanup; }

atf_test_case pmtu_tunnel_v6 cleanup
pmtu_tunnel_v6_head()
{
	atf_set descr "path MTU in tunnel mode, IPv6 (gateways): the gateway sends ICMPv6 packet too big with the MTU less ESP and the tunnel header, then the hosts fragment: 1500- and 2048-byte pings and a 3000-byte UDP datagram cross"
	atf_set require.user root
}
pmtu_tunnel_v6_body()
{
	pmtu_tunnel 6
	[ "$(nstat ipsecA "ICMP errors sent with the MTU that fits")" -ge 1 ] ||
	    atf_fail "ipsecA sent no packet too big"
	[ "$(nstat ipsecB "ICMP errors sent with the MTU that fits")" -ge 1 ] ||
	    atf_fail "ipsecB sent no packet too big"
}
pmtu_tunnel_v6_cleanup() { netns_cleanup; }

atf_test_case tunnel_4in6_6in4 cleanup
tunnel_4in6_6in4_head()
{
	atf_set descr "tunnel mode across families between two hosts: IPv4 inside IPv6 and IPv6 inside IPv4, both ways, protected end to end (the packets whose family changes leave through netipsecd's raw output)"
	atf_set require.user root
}
tunnel_4in6_6in4_body()
{
	esp_init
	pair
	key=0x00112233445566778899aabbccddeeffcafebabe
	# Inner addresses on lo, routed out of the veth: 198.51.100.1/.2
	# through an IPv6 SA, 2001:db8:1::1 / 2001:db8:2::2 through IPv4.
	for side in A B; do
		if [ $side = A ]; then
			i4=198.51.100.1 p4=198.51.100.2 i6=2001:db8:1::1
			p6=2001:db8:2::2 o4=192.0.2.1 q4=192.0.2.2
			o6=2001:db8::1 q6=2001:db8::2 d1=out d2=in
		else
			i4=198.51.100.2 p4=198.51.100.1 i6=2001:db8:2::2
			p6=2001:db8:1::1 o4=192.0.2.2 q4=192.0.2.1
			o6=2001:db8::2 q6=2001:db8::1 d1=in d2=out
		fi
		ip -n "$(ns $side)" addr add $i4/32 dev lo
		ip -n "$(ns $side)" addr add $i6/128 dev lo
		ip -n "$(ns $side)" route add $p4/32 dev veth$side src $i4
		ip -n "$(ns $side)" -6 route add $p6/128 dev veth$side src $i6
		cat >$side.conf <<X
flush;
spdflush;
spdadd 198.51.100.1 198.51.100.2 any -P $d1 ipsec esp/tunnel/2001:db8::1-2001:db8::2/require;
spdadd 198.51.100.2 198.51.100.1 any -P $d2 ipsec esp/tunnel/2001:db8::2-2001:db8::1/require;
spdadd 2001:db8:1::1 2001:db8:2::2 any -P $d1 ipsec esp/tunnel/192.0.2.1-192.0.2.2/require;
spdadd 2001:db8:2::2 2001:db8:1::1 any -P $d2 ipsec esp/tunnel/192.0.2.2-192.0.2.1/require;
add 2001:db8::1 2001:db8::2 esp 0x3001 -m tunnel -E aes-gcm-16 $key;
add 2001:db8::2 2001:db8::1 esp 0x3002 -m tunnel -E aes-gcm-16 $key;
add 192.0.2.1 192.0.2.2 esp 0x4001 -m tunnel -E aes-gcm-16 $key;
add 192.0.2.2 192.0.2.1 esp 0x4002 -m tunnel -E aes-gcm-16 $key;
X
		# The tunnels' endpoints protect all their own traffic too:
		# the tunnels' ESP, sent raw, must not be protected twice.
		transport_conf $side 4 aes-gcm-16 $key | sed -e '/flush/d' \
		    -e 's/0x100\([12]\)/0x500\1/' >>$side.conf
		transport_conf $side 6 aes-gcm-16 $key | sed -e '/flush/d' \
		    -e 's/0x100\([12]\)/0x600\1/' >>$side.conf
		keys $side $side.conf
	done
	capture B vethB
	atf_check -o ignore ip netns exec "$(ns A)" ping -c 3 -i 0.3 -W 2 198.51.100.2
	atf_check -o ignore ip netns exec "$(ns A)" ping -c 3 -i 0.3 -W 2 2001:db8:2::2
	atf_check -o ignore ip netns exec "$(ns B)" ping -c 3 -i 0.3 -W 2 198.51.100.1
	atf_check -o ignore ip netns exec "$(ns B)" ping -c 3 -i 0.3 -W 2 2001:db8:1::1
	capture_stop
	# The raw output does not fragment: the layer fragments the outer
	# packet it is the source of, and the peer reassembles it.
	big_ping A 198.51.100.2 1472
	big_ping A 198.51.100.2 2000
	big_ping A 2001:db8:2::2 1452
	big_ping A 2001:db8:2::2 2000
	[ "$(nstat B "inbound datagrams reassembled")" -ge 16 ] ||
	    { nstats B; atf_fail "B reassembled too few ESP packets"; }
	[ "$(nstat A "packets the raw output could not send")" = 0 ] ||
	    { nstats A; atf_fail "A's raw output failed"; }
	# IPv4 inside IPv6 ESP, IPv6 inside IPv4 ESP, nothing in clear.
	tcpdump -n -r B-vethB.pcap 2>/dev/null | grep -v ff02 | head -8
	n6=$(tcpdump -n -r B-vethB.pcap "ip6 and esp" 2>/dev/null | grep -c 'ESP(spi=0x0000300[12]')
	n4=$(tcpdump -n -r B-vethB.pcap "ip and esp" 2>/dev/null | grep -c 'ESP(spi=0x0000400[12]')
	[ "$n6" -ge 12 ] || atf_fail "$n6 IPv6 ESP packets carrying IPv4, expected 12"
	[ "$n4" -ge 12 ] || atf_fail "$n4 IPv4 ESP packets carrying IPv6, expected 12"
	[ "$(nstat A "inbound ESP packets with no SA")" = 0 ] ||
	    { nstats A; atf_fail "A got ESP it has no SA for"; }
	n=$(tcpdump -n -r B-vethB.pcap "host 198.51.100.1 or host 198.51.100.2 or host 2001:db8:1::1 or host 2001:db8:2::2" 2>/dev/null | wc -l)
	[ "$n" = 0 ] || atf_fail "inner addresses in clear on the wire"
	# tshark finds the other family inside.
	decrypts B-vethB.pcap IPv6 2001:db8::1 2001:db8::2 0x00003001 \
	    "AES-GCM with 16 octet ICV [RFC4106]" $key NULL "" \
	    "icmp.type == 8 && ip.dst == 198.51.100.2"
	decrypts B-vethB.pcap IPv4 192.0.2.1 192.0.2.2 0x00004001 \
	    "AES-GCM with 16 octet ICV [RFC4106]" $key NULL "" \
	    "icmpv6.type == 128 && ipv6.dst == 2001:db8:2::2"
	for side in A B; do
		[ "$(nstat $side "outbound packets of another family sent raw")" -ge 12 ] ||
		    { nstats $side; atf_fail "$side sent too few packets raw"; }
		[ "$(nstat $side "inbound inner packets of another family sent raw")" -ge 12 ] ||
		    { nstats $side; atf_fail "$side delivered too few inner packets"; }
		[ "$(nstat $side "dropped: address family changed")" = 0 ] ||
		    atf_fail "$side dropped packets for their family"
	done
}
tunnel_4in6_6in4_cleanup() { netns_cleanup; }

atf_test_case fail_closed_gateway cleanup
fail_closed_gateway_head()
{
	atf_set descr "a tunnel gateway (FORWARD hook) with a 4-packet queue: a UDP flood from its LAN overflows it, then its netipsecd is SIGKILLed mid-flood: the router sees only ESP between the gateways, never the hosts' addresses or the plaintext"
	atf_set require.user root
}
fail_closed_gateway_body()
{
	[ -x /usr/bin/python3 ] || atf_skip "python3 is not installed"
	DAEMON_OPTS="-o netipsecd.queue_maxlen=4"
	fbsd_setup 4 aes-gcm-16 "$K20" "" "" "" ""
	write_flood
	ip netns exec "$(ns router)" tcpdump -i pubA1 -B 32768 -U -n \
	    -w router.pcap >/dev/null 2>router.tcpdump &
	echo $! >>daemons.pids
	echo $! >capture.pid
	sleep 1
	qfull=$(nstat ipsecA "dropped by the kernel: queue full")
	in_ hostA /usr/bin/python3 flood.py $hb 9 3 >n.out &
	f=$!
	sleep 1.5
	[ "$(nstat ipsecA "dropped by the kernel: queue full")" -gt "$qfull" ] ||
	    { nstats ipsecA; atf_fail "the flood did not overflow the queue"; }
	[ "$(nstat ipsecA "outbound packets protected with ESP")" -gt 100 ] ||
	    atf_fail "too few packets protected during the flood"
	pid=$(for p in $(ip netns pids "$(ns ipsecA)"); do
		[ "$(cat /proc/$p/comm 2>/dev/null)" = netipsecd ] && echo $p
	done)
	[ -n "$pid" ] || atf_fail "no netipsecd in ipsecA"
	kill -9 $pid
	wait $f
	echo "flood: $(cat n.out) datagrams"
	atf_check -s not-exit:0 -o ignore ip netns exec "$(ns hostA)" \
	    ping -c 2 -i 0.2 -W 1 $hb
	capture_stop
	cat router.tcpdump
	grep -q '^0 packets dropped by kernel' router.tcpdump ||
	    atf_fail "tcpdump dropped packets: the capture cannot vouch for the wire"
	[ "$(grep -c -a PLAINTEXT-CANARY router.pcap)" = 0 ] ||
	    atf_fail "plaintext on the wire: the canary is in router.pcap"
	n=$(tcpdump -n -r router.pcap "host $ha or host $hb" 2>/dev/null | wc -l)
	[ "$n" = 0 ] || atf_fail "$n packets with the hosts' addresses in clear"
	only_esp router.pcap $ga $gb
}
fail_closed_gateway_cleanup() { netns_cleanup; }

# esn_conf SIDE FLAG-A FLAG-B: AES-GCM SAs 0x1001 A->B and 0x1002 B->A
# with a 64-packet replay window and the options FLAG-A on A's side,
# FLAG-B on B's.
esn_conf()
{
	if [ "$1" = A ]; then me=192.0.2.1 peer=192.0.2.2 f=$2; else me=192.0.2.2 peer=192.0.2.1 f=$3; fi
	k=0x00112233445566778899aabbccddeeffcafebabe
	cat <<X
flush;
spdflush;
add 192.0.2.1 192.0.2.2 esp 0x1001 -m transport -r 8 $f -E aes-gcm-16 $k;
add 192.0.2.2 192.0.2.1 esp 0x1002 -m transport -r 8 $f -E aes-gcm-16 $k;
spdadd $me $peer any -P out ipsec esp/transport//require;
spdadd $peer $me any -P in ipsec esp/transport//require;
X
}

atf_test_case esn_wrap cleanup
esn_wrap_head()
{
	atf_set descr "ESN (setkey -esn) with SAs counting from 2^32 - 8 (net.key.debug_seq_start): 16 pings cross the boundary of the low half, all answered, the wire shows the low half wrapping; without ESN (and -f nocyclic-seq) an SA stops at the wrap, refused and counted; ESN on one side only fails the ICV check, counted"
	atf_set require.user root
}
esn_wrap_body()
{
	esp_init
	DAEMON_OPTS="-o net.key.debug_seq_start=0xfffffff8"
	pair
	for side in A B; do esn_conf $side -esn -esn >$side.conf; keys $side $side.conf; done
	capture A vethA
	in_ A ping -c 16 -i 0.05 -W 2 192.0.2.2 >ping.out 2>&1
	capture_stop
	grep -q ' 16 received' ping.out || { cat ping.out; atf_fail "not every ping across 2^32 was answered"; }
	seqs=$(tcpdump -n -r A-vethA.pcap esp 2>/dev/null |
	    sed -n 's/.*ESP(spi=0x00001001,seq=\(0x[0-9a-f]*\)).*/\1/p' | tr '\n' ' ')
	echo "A -> B sequence numbers (low half): $seqs"
	case " $seqs" in *" 0xffffffff "*" 0x1 "*) ;;
	*) atf_fail "the wire does not show the low half wrapping" ;; esac
	[ "$(nstat B "packets that failed the ICV check")" = 0 ] ||
	    atf_fail "B refused ESN packets"

	# Without ESN: 7 numbers left, then the SA refuses to wrap.
	# (setkey's SAs cycle by default, as FreeBSD's: -f nocyclic-seq.)
	for side in A B; do
		esn_conf $side "-f nocyclic-seq" "-f nocyclic-seq" >$side.conf
		keys $side $side.conf
	done
	in_ A ping -c 10 -i 0.05 -W 1 192.0.2.2 >ping.out 2>&1 || true
	grep -q ' 7 received' ping.out || { cat ping.out; atf_fail "not 7 pings before the wrap"; }
	[ "$(nstat A "packets refused: sequence number would wrap")" -ge 1 ] ||
	    { nstats A; atf_fail "A did not count the wrap"; }

	# ESN on A only: B computes the ICV without the high half.
	esn_conf A -esn "" >A.conf; keys A A.conf
	esn_conf B -esn "" >B.conf; keys B B.conf
	in_ A ping -c 2 -i 0.1 -W 1 192.0.2.2 >/dev/null 2>&1 &&
	    atf_fail "a ping crossed with ESN on one side only"
	[ "$(nstat B "packets that failed the ICV check")" -ge 2 ] ||
	    { nstats B; atf_fail "B did not count the ICV failures"; }
}
esn_wrap_cleanup() { netns_cleanup; }

# bundle_conf SIDE AF REQS SAS: host-to-host transport bundle REQS (a
# policy's requests) with the SAs in SAS, as SIDE sees it.
bundle_conf()
{
	if [ "$2" = 4 ]; then a=192.0.2.1 b=192.0.2.2; else a=2001:db8::1 b=2001:db8::2; fi
	if [ "$1" = A ]; then me=$a peer=$b; else me=$b peer=$a; fi
	printf 'flush;\nspdflush;\n'
	printf '%s\n' "$4" | sed -e "s/@a/$a/g" -e "s/@b/$b/g"
	cat <<X
spdadd $me $peer any -P out ipsec $3;
spdadd $peer $me any -P in ipsec $3;
X
}

# no_malformed PCAP TSHARK-OPTIONS...: tshark, decrypting, finds no
# malformed packet.
no_malformed()
{
	command -v tshark >/dev/null || return 0
	_p=$1
	shift
	_m=$(tshark -r "$_p" "$@" -Y _ws.malformed 2>/dev/null | wc -l)
	[ "$_m" = 0 ] || { tshark -r "$_p" "$@" -Y _ws.malformed | head;
	    atf_fail "tshark finds $_m malformed packets in $_p"; }
}

atf_test_case bundle_ipcomp_esp cleanup
bundle_ipcomp_esp_head()
{
	atf_set descr "ipcomp/transport//use esp/transport//require (FreeBSD's order): compressed inside ESP, small packets uncompressed, 1 MB of text crosses"
	atf_set require.user root
}
bundle_ipcomp_esp_body()
{
	esp_init
	pair
	key=0x00112233445566778899aabbccddeeffcafebabe
	sas="add @a @b ipcomp 0x2001 -C deflate;
add @b @a ipcomp 0x2002 -C deflate;
add @a @b esp 0x1001 -m transport -E aes-gcm-16 $key;
add @b @a esp 0x1002 -m transport -E aes-gcm-16 $key;"
	reqs="ipcomp/transport//use esp/transport//require"
	bundle_conf A 4 "$reqs" "$sas" >a.conf
	bundle_conf B 4 "$reqs" "$sas" >b.conf
	keys A a.conf
	keys B b.conf
	capture B vethB
	atf_check -o ignore ip netns exec "$(ns A)" ping -c 3 -W 3 192.0.2.2
	atf_check -o ignore ip netns exec "$(ns A)" ping -c 3 -W 3 -s 1200 \
	    192.0.2.2
	yes "a line of text that compresses well, over and over" |
	    head -c 1000000 >data
	transfer A B 192.0.2.2 data
	capture_stop
	only_esp B-vethB.pcap 192.0.2.1 192.0.2.2
	sa="uat:esp_sa:\"IPv4\",\"192.0.2.1\",\"192.0.2.2\",\"0x00001001\",\"AES-GCM with 16 octet ICV [RFC4106]\",\"$key\",\"NULL\",\"\""
	# Small pings inside ESP as they were; the rest compressed.
	decrypts B-vethB.pcap IPv4 192.0.2.1 192.0.2.2 0x00001001 \
	    "AES-GCM with 16 octet ICV [RFC4106]" $key NULL "" \
	    "icmp.type == 8"
	decrypts B-vethB.pcap IPv4 192.0.2.1 192.0.2.2 0x00001001 \
	    "AES-GCM with 16 octet ICV [RFC4106]" $key NULL "" \
	    "ipcomp.cpi == 0x2001"
	no_malformed B-vethB.pcap -o esp.enable_encryption_decode:TRUE -o "$sa"
	c=$(nstat A "packets compressed")
	i=$(nstat B "packets decompressed")
	echo "A compressed $c packets, B decompressed $i"
	[ "$c" -gt 20 ] && [ "$i" -gt 20 ] ||
	    atf_fail "too little went compressed"
	[ "$(nstat A "packets sent uncompressed: under the threshold")" \
	    -ge 3 ] || atf_fail "small packets were not sent as they were"
	[ "$(nstat A "outbound packets through several SAs")" -gt 20 ] ||
	    atf_fail "the bundle was not applied"
	# Fewer bytes on the wire than the text: compression did its work.
	bytes=$(tshark -r B-vethB.pcap -Y "ip.src == 192.0.2.1 && esp" \
	    -T fields -e ip.len 2>/dev/null | awk '{ s += $1 } END { print s }')
	echo "A sent $bytes bytes of IP for 1000000 bytes of text"
	[ -z "$bytes" ] || [ "$bytes" -lt 500000 ] ||
	    atf_fail "$bytes bytes on the wire for 1000000 compressible"
}
bundle_ipcomp_esp_cleanup() { netns_cleanup; }

atf_test_case bundle_esp_ah cleanup
bundle_esp_ah_head()
{
	atf_set descr "esp/transport//require ah/transport//require, IPv6: AH outside ESP on the wire, ping crosses, ESP alone refused"
	atf_set require.user root
}
bundle_esp_ah_body()
{
	esp_init
	pair
	ek=0x00112233445566778899aabbccddeeff
	ak=0xa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf
	sas="add @a @b esp 0x1001 -m transport -E aes-cbc $ek -A hmac-sha2-256 $ak;
add @b @a esp 0x1002 -m transport -E aes-cbc $ek -A hmac-sha2-256 $ak;
add @a @b ah 0x3001 -A hmac-sha2-256 $ak;
add @b @a ah 0x3002 -A hmac-sha2-256 $ak;"
	reqs="esp/transport//require ah/transport//require"
	bundle_conf A 6 "$reqs" "$sas" >a.conf
	bundle_conf B 6 "$reqs" "$sas" >b.conf
	keys A a.conf
	keys B b.conf
	capture B vethB
	atf_check -o ignore ip netns exec "$(ns A)" ping -c 3 -W 3 2001:db8::2
	capture_stop
	only_proto B-vethB.pcap 2001:db8::1 2001:db8::2 "ip6 proto 51" AH
	if command -v tshark >/dev/null; then
		n=$(tshark -r B-vethB.pcap -Y "ah && esp.spi == 0x1001 && ah.spi == 0x3001" \
		    2>/dev/null | wc -l)
		[ "$n" -gt 0 ] || atf_fail "tshark sees no ESP inside AH"
		decrypts B-vethB.pcap IPv6 2001:db8::1 2001:db8::2 0x00001001 \
		    "AES-CBC [RFC3602]" $ek "HMAC-SHA-256-128 [RFC4868]" $ak \
		    "ah && icmpv6.type == 128"
		no_malformed B-vethB.pcap
	fi
	[ "$(nstat B "inbound packets through several SAs")" -ge 3 ] ||
	    atf_fail "B did not count the bundle"

	# B requires both: A sending with ESP alone is refused.
	cat >a2.conf <<X
spddelete 2001:db8::1 2001:db8::2 any -P out;
spdadd 2001:db8::1 2001:db8::2 any -P out ipsec esp/transport//require;
X
	keys A a2.conf
	in_ A ping -c 2 -i 0.2 -W 1 2001:db8::2 >/dev/null 2>&1 &&
	    atf_fail "ESP alone crossed where both are required"
	[ "$(nstat B "inbound packets refused: not from an SA their policy names")" \
	    -ge 2 ] || { nstats B; atf_fail "B did not refuse ESP alone"; }
}
bundle_esp_ah_cleanup() { netns_cleanup; }

atf_test_case gateways_ah_tunnel cleanup
gateways_ah_tunnel_head()
{
	atf_set descr "two gateways, AH tunnel mode (HMAC-SHA2-256), IPv4 and IPv6: hostA reaches hostB, the router sees only AH, tshark checks it"
	atf_set require.user root
}
gateways_ah_tunnel_body()
{
	k='"12345678901234567890123456789012"'
	for af in 4 6; do
		FBSD_REQS="ah/tunnel/@x-@y/require" FBSD_SAS="add @a @b ah 0x1000 -A hmac-sha2-256 $k;
add @b @a ah 0x1001 -A hmac-sha2-256 $k;" fbsd_setup $af "" "" "" "" "" ""
		capture router pubA1
		atf_check -o ignore ip netns exec "$(ns hostA)" $ping -c 3 \
		    -W 3 $hb
		capture_stop
		only_proto router-pubA1.pcap $ga $gb \
		    "(ip proto 51 or ip6 proto 51)" AH
		if command -v tshark >/dev/null; then
			# AH does not hide: tshark sees the inner echo requests.
			if [ "$af" = 4 ]; then f="ah && icmp.type == 8 && ip.dst == $hb"
			else f="ah && icmpv6.type == 128 && ipv6.dst == $hb"; fi
			m=$(tshark -r router-pubA1.pcap -Y "$f" 2>/dev/null |
			    wc -l)
			[ "$m" -ge 3 ] || atf_fail "IPv$af: tshark sees $m requests"
			no_malformed router-pubA1.pcap
		fi
		netns_cleanup
		rm -f daemons.pids netns.names
	done
}
gateways_ah_tunnel_cleanup() { netns_cleanup; }

atf_test_case gateways_ipcomp_esp cleanup
gateways_ipcomp_esp_head()
{
	atf_set descr "two gateways, ipcomp/tunnel/gA-gB/use esp/transport/gA-gB/require: pings small and large, and a compressible TCP transfer, cross"
	atf_set require.user root
}
gateways_ipcomp_esp_body()
{
	key=0x00112233445566778899aabbccddeeffcafebabe
	FBSD_REQS="ipcomp/tunnel/@x-@y/use esp/transport/@x-@y/require" \
	FBSD_SAS="add @a @b ipcomp 0x2000 -m tunnel -C deflate;
add @b @a ipcomp 0x2001 -m tunnel -C deflate;
add @a @b esp 0x1000 -m transport -E aes-gcm-16 $key;
add @b @a esp 0x1001 -m transport -E aes-gcm-16 $key;" \
	    fbsd_setup 4 "" "" "" "" "" ""
	capture router pubA1
	atf_check -o ignore ip netns exec "$(ns hostA)" ping -c 3 -W 3 $hb
	atf_check -o ignore ip netns exec "$(ns hostA)" ping -c 3 -W 3 \
	    -s 1200 $hb
	yes "lines of text for the tunnel to compress" | head -c 300000 >data
	transfer hostA hostB $hb data
	capture_stop
	only_esp router-pubA1.pcap $ga $gb
	decrypts router-pubA1.pcap IPv4 $ga $gb 0x00001000 \
	    "AES-GCM with 16 octet ICV [RFC4106]" $key NULL "" \
	    "ipcomp.cpi == 0x2000"
	decrypts router-pubA1.pcap IPv4 $ga $gb 0x00001000 \
	    "AES-GCM with 16 octet ICV [RFC4106]" $key NULL "" \
	    "icmp.type == 8 && ip.dst == $hb"
	[ "$(nstat ipsecA "packets compressed")" -gt 10 ] ||
	    atf_fail "gateway A compressed too little"
	[ "$(nstat ipsecB "inbound packets through several SAs")" -gt 10 ] ||
	    atf_fail "gateway B did not take the bundle"
}
gateways_ipcomp_esp_cleanup() { netns_cleanup; }

atf_test_case example_ah_ipcomp cleanup
example_ah_ipcomp_head()
{
	atf_set descr "share/examples/setkey/ah-ipcomp.conf carries TCP: IPComp under ESP (AES-CTR) under AH (HMAC-SHA2-512, ESN), IPv6"
	atf_set require.user root
}
example_ah_ipcomp_body()
{
	esp_init
	pair
	ex="$TOP/share/examples/setkey/ah-ipcomp.conf"
	keys A "$ex"
	# B: the file's SAs, and its policy the other way round.
	{
		grep -v '^spdadd\|^	ipcomp/\|^	esp/\|tcp-md5' "$ex"
		echo "spdadd 2001:db8::1 2001:db8::2 tcp -P in ipsec"
		echo "	ipcomp/transport//use esp/transport//require ah/transport//require;"
	} >b.conf
	keys B b.conf
	capture B vethB
	yes "a BGP table is mostly the same few words" | head -c 200000 >data
	transfer A B 2001:db8::2 data
	capture_stop
	# From A to B: AH outside, then ESP (IPComp inside cannot be seen).
	n=$(tcpdump -n -r B-vethB.pcap \
	    "src host 2001:db8::1 and dst host 2001:db8::2" 2>/dev/null |
	    wc -l)
	ah=$(tcpdump -n -r B-vethB.pcap \
	    "src host 2001:db8::1 and dst host 2001:db8::2 and ip6 proto 51" \
	    2>/dev/null | wc -l)
	echo "A to B: $n packets, $ah AH"
	[ "$n" -gt 0 ] && [ "$n" = "$ah" ] || atf_fail "not all AH from A"
	if command -v tshark >/dev/null; then
		m=$(tshark -r B-vethB.pcap -Y "ah.spi == 0x3003 && esp.spi == 0x3002" \
		    2>/dev/null | wc -l)
		[ "$m" = "$n" ] || atf_fail "tshark: $m of $n are AH over ESP"
		no_malformed B-vethB.pcap
	fi
	[ "$(nstat A "packets compressed")" -gt 10 ] ||
	    atf_fail "A compressed too little"
	[ "$(nstat B "inbound packets through several SAs")" -gt 10 ] ||
	    atf_fail "B did not take the bundle"
}
example_ah_ipcomp_cleanup() { netns_cleanup; }

atf_init_test_cases()
{
	atf_add_test_case example_ah_ipcomp
	atf_add_test_case gateways_ah_tunnel
	atf_add_test_case gateways_ipcomp_esp
	atf_add_test_case bundle_ipcomp_esp
	atf_add_test_case bundle_esp_ah
	atf_add_test_case attacks
	atf_add_test_case esn_wrap
	atf_add_test_case lifetime_bytes
	atf_add_test_case lifetime_time
	atf_add_test_case fail_closed_flood
	atf_add_test_case fail_closed_gateway
	atf_add_test_case pmtu_transport
	atf_add_test_case pmtu_tunnel_v4
	atf_add_test_case pmtu_tunnel_v4_dfbit
	atf_add_test_case pmtu_tunnel_v6
	atf_add_test_case tunnel_4in6_6in4
	atf_add_test_case natt_transport4
	atf_add_test_case transport4_gcm
	atf_add_test_case transport6_cbc
	atf_add_test_case wrong_key
	atf_add_test_case plaintext_refused
	atf_add_test_case acquire_first_ping
	for t in $FBSD_TCS; do
		atf_add_test_case "$t"
	done
}
