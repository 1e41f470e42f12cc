# Interop: our iked (IKEv1 Main Mode + Quick Mode, PSK) against
# strongSwan's charon, in two network namespaces joined by a veth pair.
#
#   S (strongSwan)                         I (netipsecd + setkey + iked)
#   vS 192.0.2.1/24  <------ veth ------>  vI 192.0.2.2/24
#   lo 10.1.0.1/32                         lo 10.2.0.1/32
#         tunnel mode, 10.1.0.0/24 <-> 10.2.0.0/24
#
# charon uses its kernel-libipsec plugin (userland ESP on a TUN device):
# the kernels this runs on have no ESP transform.  libipsec does tunnel
# mode only and always asks for UDP encapsulation (it fakes the NAT-D
# hashes), so every SA here is RFC 3948 ESP-in-UDP on port 4500, and our
# side must do RFC 3947 NAT-T: vendor ID, NAT-D, floating to 4500 and
# UDP-encapsulated tunnel SAs.  The strongSwan setup follows
# shared/tools/strongswan-pair.sh (its own strongswan.conf without
# /etc/strongswan.d, /run bind-mounted per instance for charon.pid, the
# fwmark pair that keeps charon's own packets out of its ipsec0 routes).
#
# The cases: our iked as initiator (traffic from I triggers the
# ACQUIRE), as responder (swanctl --initiate), strongSwan rekeying the
# Quick Mode SA (swanctl --rekey --child), and our short lifetime
# rekeying it from our side; pings must cross both ways, as
# ESP-in-UDP only.  Documentation addresses only; the root namespace is
# never touched.

CHARON=/usr/lib/ipsec/charon
SS_PSK='ss-interop-reference-psk-0123456789'	# a test key, not a secret
TOP=

ss_init()
{
	TOP="$(atf_get_srcdir)/../.."
	NETIPSECD="$TOP/sbin/netipsecd/netipsecd"
	SETKEY="$TOP/sbin/setkey/setkey"
	IKED="$TOP/sbin/iked/iked"
	[ "$(id -u)" = 0 ] || atf_skip "needs root (network namespaces)"
	[ -x "$CHARON" ] || atf_skip "strongSwan's charon ($CHARON) is not" \
	    "installed (make deps installs it)"
	command -v swanctl >/dev/null 2>&1 ||
	    atf_skip "strongSwan's swanctl is not installed (make deps)"
	ls /usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so \
	    >/dev/null 2>&1 || atf_skip "strongSwan's kernel-libipsec plugin" \
	    "is not installed (libcharon-extra-plugins)"
	for p in ip ping tcpdump mount /usr/sbin/iptables; do
		command -v "$p" >/dev/null 2>&1 || atf_skip "$p is not installed"
	done
	[ -x "$NETIPSECD" ] || atf_fail "netipsecd not built"
	[ -x "$SETKEY" ] || atf_fail "setkey not built"
	[ -x "$IKED" ] || atf_fail "iked not built"
	: >netns.names
	: >daemons.pids
}

ss_cleanup()
{
	[ -f daemons.pids ] && for p in $(cat daemons.pids); do
		kill -TERM "$p" 2>/dev/null
	done
	sleep 0.5
	[ -f daemons.pids ] && for p in $(cat daemons.pids); do
		kill -9 "$p" 2>/dev/null
	done
	[ -f netns.names ] && for ns in $(cat netns.names); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}

mkns()
{
	ip netns add "$1$$" || atf_skip "cannot create network namespaces"
	echo "$1$$" >>netns.names
	ip -n "$1$$" link set lo up
}
ns() { echo "$1$$"; }
in_() { n=$1; shift; ip netns exec "$(ns "$n")" "$@"; }

# wait_for SECONDS COMMAND...: poll every 0.2 s until COMMAND succeeds.
wait_for()
{
	w_n=$(($1 * 5))
	shift
	while [ $w_n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		w_n=$((w_n - 1))
		sleep 0.2
	done
	return 1
}

sw()
{
	SWANCTL_DIR="$PWD/ss/swanctl" STRONGSWAN_CONF="$PWD/ss/strongswan.conf" \
	    swanctl "$@" --uri "unix://$PWD/ss/charon.vici"
}

topology()
{
	mkns S
	mkns I
	ip link add vS netns "$(ns S)" type veth peer name vI \
	    netns "$(ns I)" || atf_fail "veth vS-vI"
	ip -n "$(ns S)" link set vS up
	ip -n "$(ns I)" link set vI up
	ip -n "$(ns S)" addr add 192.0.2.1/24 dev vS
	ip -n "$(ns I)" addr add 192.0.2.2/24 dev vI
	ip -n "$(ns S)" addr add 10.1.0.1/32 dev lo
	ip -n "$(ns I)" addr add 10.2.0.1/32 dev lo
	# Our side routes the far subnet to the gateway; the SPD tunnels it.
	ip -n "$(ns I)" route add 10.1.0.0/24 via 192.0.2.1 src 10.2.0.1 ||
	    atf_fail "route in I"
	in_ I ping -c 1 -W 2 192.0.2.1 >/dev/null 2>&1
}

# strongSwan in S: what strongswan-pair.sh does for one instance.
charon_start()
{
	d="$PWD/ss"
	mkdir -p "$d/run" "$d/swanctl"
	for x in x509 x509ca x509ocsp x509aa x509ac x509crl pubkey private \
	    rsa ecdsa bliss pkcs8 pkcs12; do
		mkdir -p "$d/swanctl/$x"
	done
	cat >"$d/strongswan.conf" <<EOF
charon {
	load_modular = no
	load = random nonce openssl pem pkcs1 pkcs8 x509 pubkey curve25519 aes gcm chapoly sha1 sha2 hmac kdf kernel-libipsec kernel-netlink socket-default vici
	port = 500
	port_nat_t = 4500
	install_routes = yes
	# a lost Quick Mode message is retransmitted soon
	retransmit_timeout = 2
	retransmit_tries = 4
	filelog {
		sslog {
			path = $d/charon.log
			time_format = %F %T
			ike_name = yes
			append = yes
			flush_line = yes
			default = 1
			ike = 2
			knl = 2
		}
	}
	plugins {
		kernel-libipsec {
			allow_peer_ts = yes
		}
		kernel-netlink {
			fwmark = !0x5353
		}
		socket-default {
			fwmark = 0x5353
		}
		vici {
			socket = unix://$d/charon.vici
		}
	}
}
swanctl {
	socket = unix://$d/charon.vici
}
EOF
	cat >"$d/swanctl/swanctl.conf" <<EOF
connections {
	v1-net {
		version = 1
		aggressive = no
		local_addrs = 192.0.2.1
		remote_addrs = 192.0.2.2
		proposals = aes128-sha256-modp2048
		dpd_delay = ${SS_DPD_DELAY:-0s}
		dpd_timeout = 20s
		local {
			auth = psk
			id = a.v1-net.ss.test
		}
		remote {
			auth = psk
			id = b.v1-net.ss.test
		}
		children {
			v1-net {
				mode = tunnel
				local_ts = 10.1.0.0/24
				remote_ts = 10.2.0.0/24
				esp_proposals = aes128-sha256-modp2048
				start_action = none
			}
		}
	}
}
secrets {
	ike-1 {
		secret = $SS_PSK
	}
}
EOF
	# ip netns exec gives a private mount namespace: /run is this
	# charon's own, for its hard-wired /var/run/charon.pid.  ip and sh
	# both exec, so $! is charon.
	ip netns exec "$(ns S)" env STRONGSWAN_CONF="$d/strongswan.conf" \
	    sh -c 'mount --bind "$1" /run && exec "$2"' sh "$d/run" \
	    "$CHARON" >>"$d/charon.out" 2>&1 </dev/null &
	echo $! >>daemons.pids
	echo $! >charon.pid
	wait_for 20 sw --stats || { cat "$d/charon.out" "$d/charon.log";
	    atf_fail "charon did not start"; }
	sw --load-all --noprompt >"$d/load.out" 2>&1 ||
	    { cat "$d/load.out"; atf_fail "swanctl --load-all failed"; }
}

# netipsecd, the SPD and iked in I.  $1: extra options of the rule,
# $2: lines before it ("set ...").
iked_start()
{
	# Not through in_: a function in the background is a subshell, and
	# $! must be the daemon's pid (ip netns exec execs it).
	ip netns exec "$(ns I)" "$NETIPSECD" -d -s "$PWD/I.sock" -i vI \
	    >>netipsecd.log 2>&1 &
	echo $! >>daemons.pids
	wait_for 10 in_ I "$NETIPSECD" -S -s "$PWD/I.sock" ||
	    { cat netipsecd.log; atf_fail "netipsecd did not start"; }
	cat >spd.conf <<EOF
spdflush;
spdadd 10.2.0.0/24 10.1.0.0/24 any -P out ipsec esp/tunnel/192.0.2.2-192.0.2.1/require;
spdadd 10.1.0.0/24 10.2.0.0/24 any -P in ipsec esp/tunnel/192.0.2.1-192.0.2.2/require;
EOF
	PFKEY_SOCKET="$PWD/I.sock" in_ I "$SETKEY" -f spd.conf ||
	    atf_fail "setkey -f spd.conf failed"
	{ [ -z "${2:-}" ] || echo "$2"; sed -e "s|@PSK@|$SS_PSK|" \
	    -e "s|@EXTRA@|${1:-}|" \
	    "$TOP/share/examples/iked/strongswan-ikev1.conf"; } >iked.conf
	"$IKED" -n -f iked.conf || atf_fail "iked -n refuses iked.conf"
	PFKEY_SOCKET="$PWD/I.sock" ip netns exec "$(ns I)" "$IKED" -d -vv \
	    -s "$PWD/iked.ctl" -f iked.conf >>iked.log 2>&1 &
	echo $! >>daemons.pids
	wait_for 10 sh -c "ip netns exec $(ns I) ss -lnu | grep -q ':4500 '" ||
	    { cat iked.log; atf_fail "iked is not listening on 4500"; }
}

# capture: tcpdump on I's side of the link into wire.pcap, a new file
# each time (the previous one is kept as wire.N.pcap).
capture()
{
	[ -f wire.pcap ] && mv wire.pcap "wire.$(ls | grep -c '^wire\.').pcap"
	: >tcpdump.err
	ip netns exec "$(ns I)" tcpdump -i vI -U --immediate-mode -n -s 256 \
	    -w wire.pcap not arp >/dev/null 2>tcpdump.err &
	echo $! >>daemons.pids
	echo $! >capture.pid
	wait_for 10 grep -q 'listening on' tcpdump.err ||
	    echo "tcpdump did not say it listens" >&2
}

capture_stop()
{
	sleep 1			# the last replies reach tcpdump
	pid=$(cat capture.pid)
	kill -INT "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null		# our child: returns once it is gone
}

# ESP-in-UDP: port 4500 and not the non-ESP marker (IKE).
ESPINUDP='udp port 4500 and udp[8:4] != 0'

# The tunnel carries pings both ways, and the wire only ESP-in-UDP.
check_traffic()
{
	capture
	in_ I ping -c 3 -i 0.3 -W 3 -I 10.2.0.1 10.1.0.1 >ping-I.out 2>&1 ||
	    { cat ping-I.out; dump; atf_fail "ping I -> S through the tunnel failed"; }
	in_ S ping -c 3 -i 0.3 -W 3 -I 10.1.0.1 10.2.0.1 >ping-S.out 2>&1 ||
	    { cat ping-S.out; dump; atf_fail "ping S -> I through the tunnel failed"; }
	capture_stop
	n_esp=$(tcpdump -n -r wire.pcap "$ESPINUDP" 2>/dev/null | wc -l)
	n_raw=$(tcpdump -n -r wire.pcap esp 2>/dev/null | wc -l)
	n_icmp=$(tcpdump -n -r wire.pcap icmp 2>/dev/null | wc -l)
	echo "wire: ESP-in-UDP $n_esp, raw ESP $n_raw, plaintext ICMP $n_icmp"
	tcpdump -n -r wire.pcap "$ESPINUDP" 2>/dev/null | head -4
	[ "$n_esp" -ge 12 ] || { dump; atf_fail "expected >= 12 ESP-in-UDP packets, saw $n_esp"; }
	[ "$n_icmp" -eq 0 ] || { dump; atf_fail "plaintext ICMP on the wire"; }
}

# Both sides agree: strongSwan lists an IKEv1 SA and an installed
# UDP-encapsulated tunnel, our SAD two SAs with NAT-T ports.
check_sas()
{
	sw --list-sas >sas.out 2>&1
	cat sas.out
	grep -q 'ESTABLISHED, IKEv1' sas.out ||
	    { dump; atf_fail "strongSwan has no established IKEv1 SA"; }
	grep -q 'INSTALLED, TUNNEL-in-UDP' sas.out ||
	    { dump; atf_fail "strongSwan has no installed UDP-encapsulated tunnel SA"; }
	PFKEY_SOCKET="$PWD/I.sock" in_ I "$SETKEY" -D >sad.out 2>&1
	grep -v "^	[EA]:" sad.out	# the SAs, without their keys
	[ "$(grep -c 'esp-udp mode=tunnel' sad.out)" -ge 2 ] ||
	    { dump; atf_fail "our SAD lacks the UDP-encapsulated tunnel SAs"; }
}

# strongSwan's SPIs ("in out") of its INSTALLED child: its inbound one
# is our outbound one.  Rekeyed children linger a while in other states.
ss_spis()
{
	sw --list-sas 2>/dev/null | awk '/, INSTALLED, /{ f = 1 }
	    f && $1 == "in" { sub(",", "", $2); i = $2 }
	    f && $1 == "out" { sub(",", "", $2); print i, $2; exit }'
}

# Only the SAs SPI_IN (strongSwan's inbound) and SPI_OUT carried the
# last capture's ESP: the rekeyed pair is in use both ways.
check_spis()
{
	n_in=$(tcpdump -n -r wire.pcap "src 192.0.2.2 and $ESPINUDP" \
	    2>/dev/null | grep -c "spi=0x$1,")
	n_out=$(tcpdump -n -r wire.pcap "src 192.0.2.1 and $ESPINUDP" \
	    2>/dev/null | grep -c "spi=0x$2,")
	echo "wire: $n_in packets I -> S on SPI 0x$1, $n_out S -> I on SPI 0x$2"
	[ "$n_in" -ge 6 ] || { dump; atf_fail "iked does not send on the new SA 0x$1"; }
	[ "$n_out" -ge 6 ] || { dump; atf_fail "strongSwan does not send on the new SA 0x$2"; }
}

# The number of CHILD_SAs strongSwan lists, in whatever state.
ss_nchildren()
{
	sw --list-sas 2>/dev/null | grep -c ', reqid '
}

dump()
{
	echo "==== iked.log"; tail -n 80 iked.log
	echo "==== charon.log"; tail -n 80 ss/charon.log
	echo "==== netipsecd"; in_ I "$NETIPSECD" -S -s "$PWD/I.sock" 2>&1 | head -60
}

setup()
{
	ss_init
	topology
	charon_start
	iked_start "${1:-}" "${2:-}"
}

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
	wait_for 30 sh -c "[ \"\$(SWANCTL_DIR=$PWD/ss/swanctl STRONGSWAN_CONF=$PWD/ss/strongswan.conf swanctl --list-sas --uri unix://$PWD/ss/charon.vici | grep -c ', reqid ')\" = 2 ]" ||
	    { dump; atf_fail "strongSwan did not rekey its CHILD_SA"; }
	# strongSwan keeps an IKEv1 rekeyed pair to its end (delete_rekeyed
	# = no): iked, which now has two pairs for one policy, deletes the
	# old one after its grace period and sends DELETE.
	wait_for 30 sh -c "[ \"\$(SWANCTL_DIR=$PWD/ss/swanctl STRONGSWAN_CONF=$PWD/ss/strongswan.conf swanctl --list-sas --uri unix://$PWD/ss/charon.vici | grep -c ', reqid ')\" = 1 ]" ||
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
	wait_for 30 sh -c "[ \"\$(SWANCTL_DIR=$PWD/ss/swanctl STRONGSWAN_CONF=$PWD/ss/strongswan.conf swanctl --list-sas --uri unix://$PWD/ss/charon.vici | grep -c ', reqid ')\" = 1 ]" ||
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

atf_init_test_cases()
{
	atf_add_test_case initiator
	atf_add_test_case responder
	atf_add_test_case rekey_strongswan
	atf_add_test_case rekey_iked
	atf_add_test_case restart
	atf_add_test_case dpd
}
