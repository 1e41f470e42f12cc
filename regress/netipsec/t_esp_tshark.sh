# ESP as an independent implementation sees it: packets protected by the
# packet path (h_esp_pcap) are decrypted by tshark with the same keys,
# which must find the original UDP payloads and good ICVs.  Wireshark 4.0
# has no ChaCha20-Poly1305 for ESP: that transform is checked against RFC
# 7634's vector in esp_test instead.

K16=00112233445566778899aabbccddeeff
K32=00112233445566778899aabbccddeeff0123456789abcdef0123456789abcdef
A20=a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3
A32=a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf
A48=${A32}c0c1c2c3c4c5c6c7c8c9cacbcccdcecf
A64=${A48}d0d1d2d3d4d5d6d7d8d9dadbdcdddedf
SALT=cafebabe

# check MODE AF EALG EKEY AALG AKEY TSHARK-ENC TSHARK-AUTH
check()
{
	mode=$1 af=$2 ealg=$3 ekey=$4 aalg=$5 akey=$6 tenc=$7 tauth=$8
	command -v tshark >/dev/null || atf_skip "tshark is not installed"
	atf_check "$(atf_get_srcdir)/h_esp_pcap" esp.pcap "$mode" "$af" \
	    "$ealg" "0x$ekey" "$aalg" "0x${akey:-}"
	if [ "$af" = 4 ]; then
		proto=IPv4 src=192.0.2.1 dst=192.0.2.2
	else
		proto=IPv6 src=2001:db8::1 dst=2001:db8::2
	fi
	akeyx=""
	[ -n "$akey" ] && akeyx="0x$akey"
	tshark -r esp.pcap -o esp.enable_encryption_decode:TRUE \
	    -o esp.enable_authentication_check:TRUE \
	    -o "uat:esp_sa:\"$proto\",\"$src\",\"$dst\",\"0x00001001\",\"$tenc\",\"0x$ekey\",\"$tauth\",\"$akeyx\"" \
	    -T fields -e udp.dstport -e data.data -e esp.icv_good \
	    >fields 2>tshark.err || { cat tshark.err; atf_fail "tshark failed"; }
	cat fields
	[ "$(wc -l <fields)" -eq 5 ] || atf_fail "not 5 packets"
	i=0
	while [ $i -lt 5 ]; do
		want=$(printf 'netipsec-esp-test-%d' $i | od -An -tx1 |
		    tr -d ' \n')
		grep -q "^12346	$want" fields ||
		    atf_fail "packet $i not decrypted to its payload"
		i=$((i + 1))
	done
	if [ -n "$akey" ] || [ "$tauth" = NULL ]; then
		# AEAD ICVs are not shown by tshark; HMAC ones must be good.
		if [ "$aalg" != 0 ]; then
			[ "$(cut -f3 fields | sort -u)" = 1 ] ||
			    atf_fail "ICV not good for tshark"
		fi
	fi
}

tc()
{
	atf_test_case "$1"
	eval "${1}_head() { atf_set descr '$2'; }"
}

tc cbc128_sha1 "AES-CBC-128 + HMAC-SHA1-96, transport, IPv4"
cbc128_sha1_body()
{
	check transport 4 12 "$K16" 3 "$A20" "AES-CBC [RFC3602]" \
	    "HMAC-SHA-1-96 [RFC2404]"
}

tc cbc256_sha256 "AES-CBC-256 + HMAC-SHA2-256-128, transport, IPv4"
cbc256_sha256_body()
{
	check transport 4 12 "$K32" 5 "$A32" "AES-CBC [RFC3602]" \
	    "HMAC-SHA-256-128 [RFC4868]"
}

tc cbc_sha384_v6 "AES-CBC + HMAC-SHA2-384-192, transport, IPv6"
cbc_sha384_v6_body()
{
	check transport 6 12 "$K16" 6 "$A48" "AES-CBC [RFC3602]" \
	    "HMAC-SHA-384-192 [RFC4868]"
}

tc cbc_sha512_tunnel "AES-CBC + HMAC-SHA2-512-256, tunnel, IPv4"
cbc_sha512_tunnel_body()
{
	check tunnel 4 12 "$K16" 7 "$A64" "AES-CBC [RFC3602]" \
	    "HMAC-SHA-512-256 [RFC4868]"
}

tc ctr_sha256 "AES-CTR-128 + HMAC-SHA2-256-128, transport, IPv4"
ctr_sha256_body()
{
	check transport 4 13 "$K16$SALT" 5 "$A32" "AES-CTR [RFC3686]" \
	    "HMAC-SHA-256-128 [RFC4868]"
}

tc gcm128 "AES-GCM-16 128, transport, IPv4"
gcm128_body()
{
	check transport 4 20 "$K16$SALT" 0 "" \
	    "AES-GCM with 16 octet ICV [RFC4106]" "NULL"
}

tc gcm256_v6_tunnel "AES-GCM-16 256, tunnel, IPv6"
gcm256_v6_tunnel_body()
{
	check tunnel 6 20 "$K32$SALT" 0 "" \
	    "AES-GCM with 16 octet ICV [RFC4106]" "NULL"
}

tc null_sha1 "NULL encryption + HMAC-SHA1-96 (RFC 2410), IPv4"
null_sha1_body()
{
	check transport 4 11 "" 3 "$A20" "NULL" "HMAC-SHA-1-96 [RFC2404]"
}

atf_init_test_cases()
{
	for t in cbc128_sha1 cbc256_sha256 cbc_sha384_v6 cbc_sha512_tunnel \
	    ctr_sha256 gcm128 gcm256_v6_tunnel null_sha1; do
		atf_add_test_case "$t"
	done
}
