# AH (RFC 4302) against an independent implementation, scapy's (Debian's,
# under /usr/bin/python3): both ways, transport and tunnel, IPv4 and
# IPv6 (with extension headers), every HMAC; mutable fields changed in
# transit are ignored,
# anything else changed is refused (ah_scapy.py).

A20=a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3
A32=a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf
A48=${A32}c0c1c2c3c4c5c6c7c8c9cacbcccdcecf
A64=${A48}d0d1d2d3d4d5d6d7d8d9dadbdcdddedf

# check MODE AF AALG KEY SCAPY-ALG
check()
{
	/usr/bin/python3 -c 'import scapy.layers.ipsec' 2>/dev/null ||
	    atf_skip "Debian's python3-scapy is not installed"
	atf_check -o match:'^ok$' /usr/bin/python3 \
	    "$(atf_get_srcdir)/ah_scapy.py" "$(atf_get_srcdir)/h_hook" \
	    "$1" "$2" "$3" "$4" "$5"
	# tshark dissects what we sent: AH with our SPI and sequence
	# numbers, the UDP inside, nothing malformed.
	command -v tshark >/dev/null || return 0
	tshark -r ah.pcap -T fields -e ah.spi -e ah.sequence \
	    -e udp.dstport -e _ws.malformed >fields 2>tshark.err ||
	    { cat tshark.err; atf_fail "tshark failed"; }
	cat fields
	[ "$(wc -l <fields)" -eq 5 ] || atf_fail "not 5 packets"
	for i in 1 2 3 4 5; do
		grep -q "^0x0*1001	$i	12346	*$" fields ||
		    atf_fail "tshark: packet $i is not AH 0x1001/$i over UDP"
	done
}

tc()
{
	atf_test_case "$1"
	eval "${1}_head() { atf_set descr '$2'; }"
}

tc sha1_transport4 "AH HMAC-SHA1-96, transport, IPv4"
sha1_transport4_body()
{
	check transport 4 3 "$A20" HMAC-SHA1-96
}

tc sha256_transport6 "AH HMAC-SHA2-256-128, transport, IPv6 (padded to 8)"
sha256_transport6_body()
{
	check transport 6 5 "$A32" SHA2-256-128
}

tc sha256_transport6_ext "AH HMAC-SHA2-256-128, transport, IPv6 with hop-by-hop and destination options (a mutable option changed in transit)"
sha256_transport6_ext_body()
{
	AH_EXT=1 check transport 6 5 "$A32" SHA2-256-128
}

tc sha384_tunnel4 "AH HMAC-SHA2-384-192, tunnel, IPv4"
sha384_tunnel4_body()
{
	check tunnel 4 6 "$A48" SHA2-384-192
}

tc sha512_tunnel6 "AH HMAC-SHA2-512-256, tunnel, IPv6"
sha512_tunnel6_body()
{
	check tunnel 6 7 "$A64" SHA2-512-256
}

atf_init_test_cases()
{
	for t in sha1_transport4 sha256_transport6 sha256_transport6_ext \
	    sha384_tunnel4 sha512_tunnel6; do
		atf_add_test_case "$t"
	done
}
