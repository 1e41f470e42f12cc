/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * pfkey_sadump(), pfkey_spdump() and kdebug_sadb() against golden
 * output: FreeBSD's setkey -D / -DP formats, byte for byte (tabs,
 * trailing blanks, key wrapping, ctime() dates in UTC).
 */

#define	_GNU_SOURCE		/* asprintf() */

#include <net/if.h>

#include <netdb.h>
#include <time.h>

#include "libpfkey_test.h"

static void
t_utc(void)
{

	ATF_REQUIRE_EQ(setenv("TZ", "UTC", 1), 0);
	tzset();
}

static time_t
t_time(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (timegm(&tm));
}

static void
t_sadump(void *arg)
{

	pfkey_sadump(pb_hdr(arg));
}

static void
t_spdump(void *arg)
{

	pfkey_spdump(pb_hdr(arg));
}

static void
t_kdebug(void *arg)
{

	kdebug_sadb(pb_hdr(arg));
}

/*
 * pfkey_sadump() prints the current time and the age of the SA: dump
 * within one second, then build the expected text from that second.
 * "want" has one %s (current) and one %lu (diff) in that order.
 */
static void
t_sadump_now(struct pb_msg *m, const char *want, time_t addtime)
{
	char cur[32], *got, *exp;
	time_t t0, t1;
	int tries;

	for (tries = 0; tries < 5; tries++) {
		t0 = time(NULL);
		got = t_capture(t_sadump, m);
		t1 = time(NULL);
		if (t0 == t1)
			break;
		free(got);
		got = NULL;
	}
	ATF_REQUIRE(got != NULL);
	ATF_REQUIRE(ctime_r(&t0, cur) != NULL);
	cur[24] = '\0';
	ATF_REQUIRE(asprintf(&exp, want, cur + 4,
	    (unsigned long)(t0 - addtime)) > 0);
	T_STREQ(got, exp);
	free(got);
	free(exp);
}

static void
t_sa(struct pb_msg *m, uint32_t spi, u_int state, u_int auth, u_int enc,
    uint32_t flags, u_int replay)
{
	struct sadb_sa sa;

	memset(&sa, 0, sizeof(sa));
	sa.sadb_sa_spi = htonl(spi);
	sa.sadb_sa_state = state;
	sa.sadb_sa_auth = auth;
	sa.sadb_sa_encrypt = enc;
	sa.sadb_sa_flags = flags;
	sa.sadb_sa_replay = replay;
	pb_ext_copy(m, SADB_EXT_SA, &sa, sizeof(sa));
}

static void
t_sa2(struct pb_msg *m, u_int mode, uint32_t reqid, uint32_t seq)
{
	struct sadb_x_sa2 sa2;

	memset(&sa2, 0, sizeof(sa2));
	sa2.sadb_x_sa2_mode = mode;
	sa2.sadb_x_sa2_reqid = reqid;
	sa2.sadb_x_sa2_sequence = seq;
	pb_ext_copy(m, SADB_X_EXT_SA2, &sa2, sizeof(sa2));
}

static void
t_addr4(struct pb_msg *m, u_int type, const char *a, uint16_t port,
    u_int plen, u_int proto)
{
	struct sockaddr_in sin;

	sin = t_sin(a, port);
	pb_addr_sa(m, type, &sin, sizeof(sin), plen, proto);
}

static void
t_addr6(struct pb_msg *m, u_int type, const char *a, uint16_t port,
    u_int plen, u_int proto)
{
	struct sockaddr_in6 sin6;

	sin6 = t_sin6(a, port);
	pb_addr_sa(m, type, &sin6, sizeof(sin6), plen, proto);
}

/* The example of the reference: an if_ipsec SA, AES-GCM, FreeBSD 11. */
ATF_TC_WITHOUT_HEAD(sadump_gcm_tunnel);
ATF_TC_BODY(sadump_gcm_tunnel, tc)
{
	struct pb_msg m;
	time_t add, use;

	t_utc();
	add = t_time(2017, 12, 1, 23, 48, 30);
	use = t_time(2017, 12, 1, 23, 49, 50);
	pb_init(&m, SADB_DUMP, SADB_SATYPE_ESP, 1, 1649);
	pb_hdr(&m)->sadb_msg_reserved = 1;
	t_sa(&m, 4097, SADB_SASTATE_MATURE, SADB_AALG_NONE,
	    SADB_X_EALG_AESGCM16, SADB_X_EXT_CYCSEQ, 0);
	t_sa2(&m, IPSEC_MODE_TUNNEL, 100, 0);
	pb_lifetime(&m, SADB_EXT_LIFETIME_CURRENT, 2, 168, (uint64_t)add,
	    (uint64_t)use);
	pb_lifetime(&m, SADB_EXT_LIFETIME_HARD, 0, 0, 0, 0);
	pb_lifetime(&m, SADB_EXT_LIFETIME_SOFT, 0, 0, 0, 0);
	t_addr4(&m, SADB_EXT_ADDRESS_SRC, "10.0.34.4", 0, 0xff, 255);
	t_addr4(&m, SADB_EXT_ADDRESS_DST, "10.0.23.2", 0, 0xff, 255);
	pb_key(&m, SADB_EXT_KEY_ENCRYPT, "12345678901234567890", 20);

	t_sadump_now(&m,
	    "10.0.34.4 10.0.23.2\n"
	    "\tesp mode=tunnel spi=4097(0x00001001) reqid=100(0x00000064)\n"
	    "\tE: aes-gcm-16  31323334 35363738 39303132 33343536 37383930\n"
	    "\tseq=0x00000000 replay=0 flags=0x00000040 state=mature \n"
	    "\tcreated: Dec  1 23:48:30 2017\tcurrent: %s\n"
	    "\tdiff: %lu(s)\thard: 0(s)\tsoft: 0(s)\n"
	    "\tlast: Dec  1 23:49:50 2017\thard: 0(s)\tsoft: 0(s)\n"
	    "\tcurrent: 168(bytes)\thard: 0(bytes)\tsoft: 0(bytes)\n"
	    "\tallocated: 2\thard: 0\tsoft: 0\n"
	    "\tsadb_seq=1 pid=1649 refcnt=1\n", add);
}

/* Authentication, lifetimes that are set, an SA never used. */
ATF_TC_WITHOUT_HEAD(sadump_cbc_hmac);
ATF_TC_BODY(sadump_cbc_hmac, tc)
{
	struct pb_msg m;
	char ekey[16], akey[32];
	time_t add;

	t_utc();
	memset(ekey, 0x11, sizeof(ekey));
	memset(akey, 0xaa, sizeof(akey));
	add = t_time(2024, 2, 29, 9, 5, 0);
	pb_init(&m, SADB_GET, SADB_SATYPE_ESP, 0, 321);
	t_sa(&m, 0x1000, SADB_SASTATE_DYING, SADB_X_AALG_SHA2_256,
	    SADB_X_EALG_AESCBC, SADB_X_EXT_CYCSEQ | SADB_X_EXT_PRAND, 4);
	t_sa2(&m, IPSEC_MODE_TRANSPORT, 0x4001, 0x10);
	pb_lifetime(&m, SADB_EXT_LIFETIME_CURRENT, 0, 0, (uint64_t)add, 0);
	pb_lifetime(&m, SADB_EXT_LIFETIME_HARD, 100, 1000000, 3600, 1800);
	pb_lifetime(&m, SADB_EXT_LIFETIME_SOFT, 80, 800000, 2880, 1440);
	t_addr4(&m, SADB_EXT_ADDRESS_SRC, "192.0.2.1", 0, 0xff, 255);
	t_addr4(&m, SADB_EXT_ADDRESS_DST, "192.0.2.2", 0, 0xff, 255);
	pb_key(&m, SADB_EXT_KEY_AUTH, akey, sizeof(akey));
	pb_key(&m, SADB_EXT_KEY_ENCRYPT, ekey, sizeof(ekey));

	t_sadump_now(&m,
	    "192.0.2.1 192.0.2.2\n"
	    "\tesp mode=transport spi=4096(0x00001000) "
	    "reqid=16385(0x00004001)\n"
	    "\tE: aes-cbc  11111111 11111111 11111111 11111111\n"
	    "\tA: hmac-sha2-256  aaaaaaaa aaaaaaaa aaaaaaaa aaaaaaaa "
	    "aaaaaaaa aaaaaaaa aaaaaaaa aaaaaaaa\n"
	    "\tseq=0x00000010 replay=4 flags=0x00000140 state=dying \n"
	    "\tcreated: Feb 29 09:05:00 2024\tcurrent: %s\n"
	    "\tdiff: %lu(s)\thard: 3600(s)\tsoft: 2880(s)\n"
	    "\tlast:                     \thard: 1800(s)\tsoft: 1440(s)\n"
	    "\tcurrent: 0(bytes)\thard: 1000000(bytes)\tsoft: 800000(bytes)\n"
	    "\tallocated: 0\thard: 100\tsoft: 80\n"
	    "\tsadb_seq=0 pid=321 refcnt=0\n", add);
}

/* IPv6, a 36-byte key that wraps after 32 bytes, SA_REPLAY, larval. */
ATF_TC_WITHOUT_HEAD(sadump_v6_wrap_replay);
ATF_TC_BODY(sadump_v6_wrap_replay, tc)
{
	struct pb_msg m;
	struct sadb_x_sa_replay r;
	char key[36], *got;
	size_t i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (char)i;
	pb_init(&m, SADB_DUMP, SADB_SATYPE_ESP, 0, 0);
	t_sa(&m, 0xdeadbeef, SADB_SASTATE_LARVAL, SADB_AALG_NONE,
	    SADB_X_EALG_CHACHA20POLY1305, 0x440, 255);
	t_sa2(&m, IPSEC_MODE_ANY, 0, 5);
	memset(&r, 0, sizeof(r));
	r.sadb_x_sa_replay_replay = 1024;	/* packets: 128 bytes */
	pb_ext_copy(&m, SADB_X_EXT_SA_REPLAY, &r, sizeof(r));
	t_addr6(&m, SADB_EXT_ADDRESS_SRC, "2001:db8:23::2", 0, 0xff, 255);
	t_addr6(&m, SADB_EXT_ADDRESS_DST, "2001:db8:34::2", 0, 0xff, 255);
	pb_key(&m, SADB_EXT_KEY_ENCRYPT, key, sizeof(key));

	got = t_capture(t_sadump, &m);
	T_STREQ(got,
	    "2001:db8:23::2 2001:db8:34::2\n"
	    "\tesp mode=any spi=3735928559(0xdeadbeef) reqid=0(0x00000000)\n"
	    "\tE: chacha20-poly1305  00010203 04050607 08090a0b 0c0d0e0f "
	    "10111213 14151617 18191a1b 1c1d1e1f\n"
	    " 20212223\n"
	    "\tseq=0x00000005 replay=128 flags=0x00000440 state=larval \n"
	    "\tsadb_seq=0 pid=0 refcnt=0\n");
	free(got);
}

/* NAT-T: "esp-udp", [port] after the addresses, the NAT: line. */
ATF_TC_WITHOUT_HEAD(sadump_natt);
ATF_TC_BODY(sadump_natt, tc)
{
	struct pb_msg m;
	struct sadb_x_nat_t_type nt;
	struct sadb_x_nat_t_port np;
	char *got;

	pb_init(&m, SADB_DUMP, SADB_SATYPE_ESP, 3, 99);
	t_sa(&m, 0x2000, SADB_SASTATE_MATURE, SADB_X_AALG_SHA2_512,
	    SADB_X_EALG_AESCTR, 0, 32);
	t_sa2(&m, IPSEC_MODE_TRANSPORT, 7, 0);
	t_addr4(&m, SADB_EXT_ADDRESS_SRC, "192.0.2.1", 0, 0xff, 255);
	t_addr4(&m, SADB_EXT_ADDRESS_DST, "198.51.100.7", 0, 0xff, 255);
	memset(&nt, 0, sizeof(nt));
	nt.sadb_x_nat_t_type_type = UDP_ENCAP_ESPINUDP;
	pb_ext_copy(&m, SADB_X_EXT_NAT_T_TYPE, &nt, sizeof(nt));
	memset(&np, 0, sizeof(np));
	np.sadb_x_nat_t_port_port = htons(4500);
	pb_ext_copy(&m, SADB_X_EXT_NAT_T_SPORT, &np, sizeof(np));
	np.sadb_x_nat_t_port_port = htons(4501);
	pb_ext_copy(&m, SADB_X_EXT_NAT_T_DPORT, &np, sizeof(np));
	t_addr4(&m, SADB_X_EXT_NAT_T_OAI, "10.0.0.1", 0, 32, 0);
	t_addr4(&m, SADB_X_EXT_NAT_T_OAR, "10.0.0.2", 0, 32, 0);
	pb_key(&m, SADB_EXT_KEY_ENCRYPT, "\x01\x02\x03\x04", 4);

	got = t_capture(t_sadump, &m);
	T_STREQ(got,
	    "192.0.2.1[4500] 198.51.100.7[4501]\n"
	    "\tesp-udp mode=transport spi=8192(0x00002000) "
	    "reqid=7(0x00000007)\n"
	    "\tNAT: OAI=10.0.0.1 OAR=10.0.0.2\n"
	    "\tE: aes-ctr  01020304\n"
	    "\tseq=0x00000000 replay=32 flags=0x00000000 state=mature \n"
	    "\tsadb_seq=3 pid=99 refcnt=0\n");
	free(got);

	/* Ports without the NAT-T type are not NAT-T: no [port]. */
	pb_init(&m, SADB_DUMP, SADB_SATYPE_ESP, 3, 99);
	t_sa(&m, 0x2000, SADB_SASTATE_MATURE, 0, SADB_EALG_NULL, 0, 0);
	t_sa2(&m, IPSEC_MODE_TRANSPORT, 7, 0);
	t_addr4(&m, SADB_EXT_ADDRESS_SRC, "192.0.2.1", 0, 0xff, 255);
	t_addr4(&m, SADB_EXT_ADDRESS_DST, "198.51.100.7", 0, 0xff, 255);
	pb_ext_copy(&m, SADB_X_EXT_NAT_T_SPORT, &np, sizeof(np));
	pb_key(&m, SADB_EXT_KEY_ENCRYPT, "", 0);
	got = t_capture(t_sadump, &m);
	T_STREQ(got,
	    "192.0.2.1 198.51.100.7\n"
	    "\tesp mode=transport spi=8192(0x00002000) reqid=7(0x00000007)\n"
	    "\tE: null \n"
	    "\tseq=0x00000000 replay=0 flags=0x00000000 state=mature \n"
	    "\tsadb_seq=3 pid=99 refcnt=0\n");
	free(got);
}

/* IPComp's "C:" has no newline of its own, as in FreeBSD. */
ATF_TC_WITHOUT_HEAD(sadump_ipcomp);
ATF_TC_BODY(sadump_ipcomp, tc)
{
	struct pb_msg m;
	char *got;

	pb_init(&m, SADB_DUMP, SADB_X_SATYPE_IPCOMP, 0, 3);
	pb_hdr(&m)->sadb_msg_reserved = 1;
	t_sa(&m, 0x1000, SADB_SASTATE_MATURE, 0, SADB_X_CALG_DEFLATE,
	    SADB_X_EXT_RAWCPI, 0);
	t_sa2(&m, IPSEC_MODE_TUNNEL, 5, 0);
	t_addr4(&m, SADB_EXT_ADDRESS_SRC, "192.0.2.1", 0, 0xff, 255);
	t_addr4(&m, SADB_EXT_ADDRESS_DST, "192.0.2.2", 0, 0xff, 255);
	got = t_capture(t_sadump, &m);
	T_STREQ(got,
	    "192.0.2.1 192.0.2.2\n"
	    "\tipcomp mode=tunnel spi=4096(0x00001000) reqid=5(0x00000005)\n"
	    "\tC: deflate \tseq=0x00000000 replay=0 flags=0x00000080 "
	    "state=mature \n"
	    "\tsadb_seq=0 pid=3 refcnt=1\n");
	free(got);
}

/* Algorithms FreeBSD 14 dropped print as numbers, as do odd values. */
ATF_TC_WITHOUT_HEAD(sadump_numbers);
ATF_TC_BODY(sadump_numbers, tc)
{
	struct pb_msg m;
	char *got;

	pb_init(&m, SADB_DUMP, SADB_SATYPE_AH, 0, 0);
	t_sa(&m, 300, SADB_SASTATE_DEAD, SADB_AALG_MD5HMAC, 0, 0, 0);
	t_sa2(&m, 7, 0, 0);
	t_addr4(&m, SADB_EXT_ADDRESS_SRC, "192.0.2.1", 0, 0xff, 255);
	t_addr4(&m, SADB_EXT_ADDRESS_DST, "192.0.2.2", 0, 0xff, 255);
	pb_key(&m, SADB_EXT_KEY_AUTH, "\x00\x11\x22\x33\x44\x55\x66\x77"
	    "\x88\x99\xaa\xbb\xcc\xdd\xee\xff", 16);
	got = t_capture(t_sadump, &m);
	T_STREQ(got,
	    "192.0.2.1 192.0.2.2\n"
	    "\tah mode=7 spi=300(0x0000012c) reqid=0(0x00000000)\n"
	    "\tA: 2  00112233 44556677 8899aabb ccddeeff\n"
	    "\tseq=0x00000000 replay=0 flags=0x00000000 state=dead \n"
	    "\tsadb_seq=0 pid=0 refcnt=0\n");
	free(got);

	pb_init(&m, SADB_DUMP, SADB_SATYPE_ESP, 0, 0);
	t_sa(&m, 300, 9, 0, SADB_EALG_3DESCBC, 0, 0);
	t_sa2(&m, IPSEC_MODE_TRANSPORT, 0, 0);
	t_addr4(&m, SADB_EXT_ADDRESS_SRC, "192.0.2.1", 0, 0xff, 255);
	t_addr4(&m, SADB_EXT_ADDRESS_DST, "192.0.2.2", 0, 0xff, 255);
	pb_key(&m, SADB_EXT_KEY_ENCRYPT, "\xab\xcd", 2);
	got = t_capture(t_sadump, &m);
	T_STREQ(got,
	    "192.0.2.1 192.0.2.2\n"
	    "\tesp mode=transport spi=300(0x0000012c) reqid=0(0x00000000)\n"
	    "\tE: 3  abcd\n"
	    "\tseq=0x00000000 replay=0 flags=0x00000000 state=9 \n"
	    "\tsadb_seq=0 pid=0 refcnt=0\n");
	free(got);
}

/* Incomplete or malformed messages: FreeBSD's one-line complaints. */
ATF_TC_WITHOUT_HEAD(sadump_bad);
ATF_TC_BODY(sadump_bad, tc)
{
	struct pb_msg m;
	char *got;

	pb_init(&m, SADB_DUMP, SADB_SATYPE_ESP, 0, 0);
	t_sa(&m, 300, 1, 0, 0, 0, 0);
	t_addr4(&m, SADB_EXT_ADDRESS_SRC, "192.0.2.1", 0, 0xff, 255);
	t_addr4(&m, SADB_EXT_ADDRESS_DST, "192.0.2.2", 0, 0xff, 255);
	got = t_capture(t_sadump, &m);
	T_STREQ(got, "192.0.2.1 192.0.2.2\nno SA2 extension.\n");
	free(got);

	pb_init(&m, SADB_DUMP, SADB_SATYPE_ESP, 0, 0);
	t_sa(&m, 300, 1, 0, 0, 0, 0);
	got = t_capture(t_sadump, &m);
	T_STREQ(got, "no ADDRESS_SRC extension.\n");
	free(got);

	pb_init(&m, SADB_DUMP, SADB_SATYPE_ESP, 0, 0);
	t_sa(&m, 300, 1, 0, 0, 0, 0);
	t_sa(&m, 300, 1, 0, 0, 0, 0);
	got = t_capture(t_sadump, &m);
	T_STREQ(got, "Invalid extension type\n");
	free(got);

	pb_init(&m, SADB_DUMP, SADB_SATYPE_ESP, 0, 0);
	pb_hdr(&m)->sadb_msg_version = 1;
	got = t_capture(t_sadump, &m);
	T_STREQ(got, "Invalid version\n");
	free(got);
}

/* The reference's global spdadd policy. */
ATF_TC_WITHOUT_HEAD(spdump_global);
ATF_TC_BODY(spdump_global, tc)
{
	struct pb_msg m;
	struct sadb_x_policy *xpl;
	char *pol, *got;
	int plen;

	pol = ipsec_set_policy("out ipsec "
	    "esp/tunnel/66.22.66.22-44.33.44.33/require", 1000);
	ATF_REQUIRE(pol != NULL);
	plen = ipsec_get_policylen(pol);
	pb_init(&m, SADB_X_SPDDUMP, 0, 0, 4242);
	pb_hdr(&m)->sadb_msg_reserved = 1;
	t_addr4(&m, SADB_EXT_ADDRESS_SRC, "192.168.1.0", 0, 24, 255);
	t_addr4(&m, SADB_EXT_ADDRESS_DST, "172.16.100.0", 0, 24, 255);
	xpl = pb_ext_copy(&m, SADB_X_EXT_POLICY, pol, (size_t)plen);
	xpl->sadb_x_policy_id = 1;
	xpl->sadb_x_policy_scope = IPSEC_POLICYSCOPE_GLOBAL;
	free(pol);

	got = t_capture(t_spdump, &m);
	T_STREQ(got,
	    "192.168.1.0/24[any] 172.16.100.0/24[any] any\n"
	    "\tout ipsec\n"
	    "\tesp/tunnel/66.22.66.22-44.33.44.33/require\n"
	    "\tspid=1 seq=0 pid=4242 scope=global \n"
	    "\trefcnt=1\n");
	free(got);
}

/* The reference's if_ipsec policies: IPv6 selector, ifnet scope. */
ATF_TC_WITHOUT_HEAD(spdump_ifnet);
ATF_TC_BODY(spdump_ifnet, tc)
{
	struct pb_msg m;
	struct sadb_x_policy *xpl;
	char ifname[IF_NAMESIZE], *pol, *got, *want;
	int plen;

	pol = ipsec_set_policy("in ipsec "
	    "esp/tunnel/10.0.34.4-10.0.23.2/unique:100", 1000);
	ATF_REQUIRE(pol != NULL);
	plen = ipsec_get_policylen(pol);
	pb_init(&m, SADB_X_SPDDUMP, 0, 2, 778);
	pb_hdr(&m)->sadb_msg_reserved = 1;
	t_addr6(&m, SADB_EXT_ADDRESS_SRC, "::", 0, 0, 255);
	t_addr6(&m, SADB_EXT_ADDRESS_DST, "::", 0, 0, 255);
	xpl = pb_ext_copy(&m, SADB_X_EXT_POLICY, pol, (size_t)plen);
	xpl->sadb_x_policy_id = 3;
	xpl->sadb_x_policy_scope = IPSEC_POLICYSCOPE_IFNET;
	xpl->sadb_x_policy_ifindex = 1;
	free(pol);

	/* Interface 1 is the loopback; its name is the system's. */
	ATF_REQUIRE(asprintf(&want,
	    "::/0[any] ::/0[any] any\n"
	    "\tin ipsec\n"
	    "\tesp/tunnel/10.0.34.4-10.0.23.2/unique:100\n"
	    "\tspid=3 seq=2 pid=778 scope=ifnet %s%s\n"
	    "\trefcnt=1\n",
	    if_indextoname(1, ifname) != NULL ? "ifname=" : "",
	    if_indextoname(1, ifname) != NULL ? ifname : "") > 0);
	got = t_capture(t_spdump, &m);
	T_STREQ(got, want);
	free(got);
	free(want);
}

/* Ports, a protocol name, a kernel reqid ('#'), an SP lifetime. */
ATF_TC_WITHOUT_HEAD(spdump_ports_lifetime);
ATF_TC_BODY(spdump_ports_lifetime, tc)
{
	struct pb_msg m;
	struct sadb_x_policy *xpl;
	struct protoent *pe;
	char *pol, *got, *want;
	int plen;

	t_utc();
	pol = ipsec_set_policy("out ipsec esp/transport//unique:20000", 1000);
	ATF_REQUIRE(pol != NULL);
	plen = ipsec_get_policylen(pol);
	pb_init(&m, SADB_X_SPDDUMP, 0, 3, 1);
	pb_hdr(&m)->sadb_msg_reserved = 2;
	t_addr4(&m, SADB_EXT_ADDRESS_SRC, "10.0.0.1", 80, 32, IPPROTO_TCP);
	t_addr4(&m, SADB_EXT_ADDRESS_DST, "10.0.0.0", 0, 8, IPPROTO_TCP);
	pb_lifetime(&m, SADB_EXT_LIFETIME_CURRENT, 0, 0,
	    (uint64_t)t_time(2020, 1, 2, 3, 4, 5), 0);
	pb_lifetime(&m, SADB_EXT_LIFETIME_HARD, 0, 0, 3600, 600);
	xpl = pb_ext_copy(&m, SADB_X_EXT_POLICY, pol, (size_t)plen);
	xpl->sadb_x_policy_id = 5;
	xpl->sadb_x_policy_scope = IPSEC_POLICYSCOPE_GLOBAL;
	free(pol);

	pe = getprotobynumber(IPPROTO_TCP);
	ATF_REQUIRE(asprintf(&want,
	    "10.0.0.1[80] 10.0.0.0/8[any] %s\n"
	    "\tout ipsec\n"
	    "\tesp/transport//unique#20000\n"
	    "\tcreated: Jan  2 03:04:05 2020  lastused:                     \n"
	    "\tlifetime: 3600(s) validtime: 600(s)\n"
	    "\tspid=5 seq=3 pid=1 scope=global \n"
	    "\trefcnt=2\n", pe != NULL ? pe->p_name : "6") > 0);
	got = t_capture(t_spdump, &m);
	T_STREQ(got, want);
	free(got);
	free(want);
}

/* icmp6 keeps type and code in the ports; ip4; no selector at all. */
ATF_TC_WITHOUT_HEAD(spdump_upperspec);
ATF_TC_BODY(spdump_upperspec, tc)
{
	struct pb_msg m;
	struct sadb_x_policy xpl;
	char *got;

	memset(&xpl, 0, sizeof(xpl));
	xpl.sadb_x_policy_type = IPSEC_POLICY_NONE;
	xpl.sadb_x_policy_dir = IPSEC_DIR_INBOUND;
	xpl.sadb_x_policy_id = 6;
	xpl.sadb_x_policy_scope = IPSEC_POLICYSCOPE_GLOBAL;

	pb_init(&m, SADB_X_SPDDUMP, 0, 0, 0);
	t_addr6(&m, SADB_EXT_ADDRESS_SRC, "fe80::1", 135, 64, IPPROTO_ICMPV6);
	t_addr6(&m, SADB_EXT_ADDRESS_DST, "::", 0, 0, IPPROTO_ICMPV6);
	pb_ext_copy(&m, SADB_X_EXT_POLICY, &xpl, sizeof(xpl));
	got = t_capture(t_spdump, &m);
	T_STREQ(got,
	    "fe80::1/64 ::/0 icmp6 135,0\n"
	    "\tin none\n"
	    "\tspid=6 seq=0 pid=0 scope=global \n"
	    "\trefcnt=0\n");
	free(got);

	pb_init(&m, SADB_X_SPDDUMP, 0, 0, 0);
	t_addr6(&m, SADB_EXT_ADDRESS_SRC, "2001:db8::", 0, 32, IPPROTO_ICMPV6);
	t_addr6(&m, SADB_EXT_ADDRESS_DST, "::1", 0, 128, IPPROTO_ICMPV6);
	pb_ext_copy(&m, SADB_X_EXT_POLICY, &xpl, sizeof(xpl));
	got = t_capture(t_spdump, &m);
	T_STREQ(got,
	    "2001:db8::/32 ::1 icmp6\n"
	    "\tin none\n"
	    "\tspid=6 seq=0 pid=0 scope=global \n"
	    "\trefcnt=0\n");
	free(got);

	pb_init(&m, SADB_X_SPDDUMP, 0, 0, 0);
	t_addr4(&m, SADB_EXT_ADDRESS_SRC, "0.0.0.0", 0, 0, IPPROTO_IPIP);
	t_addr4(&m, SADB_EXT_ADDRESS_DST, "0.0.0.0", 0, 0, IPPROTO_IPIP);
	xpl.sadb_x_policy_type = IPSEC_POLICY_DISCARD;
	xpl.sadb_x_policy_dir = IPSEC_DIR_OUTBOUND;
	pb_ext_copy(&m, SADB_X_EXT_POLICY, &xpl, sizeof(xpl));
	got = t_capture(t_spdump, &m);
	T_STREQ(got,
	    "0.0.0.0/0[any] 0.0.0.0/0[any] ip4\n"
	    "\tout discard\n"
	    "\tspid=6 seq=0 pid=0 scope=global \n"
	    "\trefcnt=0\n");
	free(got);

	/* A socket policy, and a scope with no name. */
	pb_init(&m, SADB_X_SPDDUMP, 0, 0, 0);
	xpl.sadb_x_policy_type = IPSEC_POLICY_BYPASS;
	xpl.sadb_x_policy_scope = 8;
	pb_ext_copy(&m, SADB_X_EXT_POLICY, &xpl, sizeof(xpl));
	got = t_capture(t_spdump, &m);
	T_STREQ(got,
	    "(no selector, probably per-socket policy) \n"
	    "\tout bypass\n"
	    "\tspid=6 seq=0 pid=0 scope=8 \n"
	    "\trefcnt=0\n");
	free(got);

	pb_init(&m, SADB_X_SPDDUMP, 0, 0, 0);
	got = t_capture(t_spdump, &m);
	T_STREQ(got, "(no selector, probably per-socket policy) "
	    "no X_POLICY extension.\n");
	free(got);
}

ATF_TC_WITHOUT_HEAD(kdebug);
ATF_TC_BODY(kdebug, tc)
{
	struct pb_msg m;
	struct sadb_x_policy *xpl;
	char *pol, *got;

	pb_init(&m, SADB_ADD, SADB_SATYPE_ESP, 7, 4242);
	t_sa(&m, 4096, SADB_SASTATE_MATURE, 0, SADB_X_EALG_AESCBC, 0, 0);
	t_sa2(&m, IPSEC_MODE_TUNNEL, 0, 0);
	t_addr4(&m, SADB_EXT_ADDRESS_SRC, "198.51.100.2", 0, 32, 255);
	pb_key(&m, SADB_EXT_KEY_ENCRYPT, "0123456789abcdef", 16);
	pb_lifetime(&m, SADB_EXT_LIFETIME_HARD, 0, 0, 3600, 0);
	pol = ipsec_set_policy("out ipsec "
	    "esp/tunnel/66.22.66.22-44.33.44.33/require", 1000);
	ATF_REQUIRE(pol != NULL);
	xpl = pb_ext_copy(&m, SADB_X_EXT_POLICY, pol,
	    (size_t)ipsec_get_policylen(pol));
	xpl->sadb_x_policy_id = 0x1f;
	free(pol);

	got = t_capture(t_kdebug, &m);
	T_STREQ(got,
	    "sadb_msg{ version=2 type=3(ADD) errno=0 satype=3\n"
	    "  len=23 reserved=0 seq=7 pid=4242\n"
	    "sadb_ext{ len=2 type=1(SA) }\n"
	    "sadb_sa{ spi=4096 replay=0 state=1\n"
	    "  auth=0 encrypt=12 flags=0x00000000 }\n"
	    "sadb_ext{ len=2 type=19(SA2) }\n"
	    "sadb_x_sa2{ mode=2 reqid=0\n"
	    "  reserved1=0 reserved2=0 sequence=0 }\n"
	    "sadb_ext{ len=3 type=5(ADDRESS_SRC) }\n"
	    "sadb_address{ proto=255 prefixlen=32 reserved=0x0000 }\n"
	    "sockaddr{ len=16 family=2 addr=198.51.100.2 }\n"
	    "sadb_ext{ len=3 type=9(KEY_ENCRYPT) }\n"
	    "sadb_key{ bits=128 reserved=0\n"
	    "  key= 30313233 34353637 38396162 63646566 }\n"
	    "sadb_ext{ len=4 type=3(LIFETIME_HARD) }\n"
	    "sadb_lifetime{ alloc=0, bytes=0\n"
	    "  addtime=3600, usetime=0 }\n"
	    "sadb_ext{ len=7 type=18(POLICY) }\n"
	    "sadb_x_policy{ type=2 dir=2 id=1f scope=0 priority=0 }\n"
	    " { len=40 proto=50 mode=2 level=2 reqid=0\n"
	    "sockaddr{ len=16 family=2 addr=66.22.66.22 }\n"
	    "sockaddr{ len=16 family=2 addr=44.33.44.33 }\n"
	    " }\n");
	free(got);

	/* It stops at an extension that overruns the message. */
	pb_init(&m, SADB_GET, SADB_SATYPE_AH, 0, 0);
	t_sa(&m, 1, 0, 0, 0, 0, 0);
	pb_hdr(&m)->sadb_msg_len = 3;
	got = t_capture(t_kdebug, &m);
	T_STREQ(got,
	    "sadb_msg{ version=2 type=5(GET) errno=0 satype=2\n"
	    "  len=3 reserved=0 seq=0 pid=0\n"
	    "sadb_ext{ len=2 type=1(SA) }\n"
	    "kdebug_sadb: ext_len too big (16 > 8).\n");
	free(got);
}

static void
t_hexdump(void *arg)
{

	ipsec_hexdump(arg, 33);
}

ATF_TC_WITHOUT_HEAD(hexdump);
ATF_TC_BODY(hexdump, tc)
{
	char buf[33], *got;
	size_t i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(0xe0 + i);
	got = t_capture(t_hexdump, buf);
	T_STREQ(got, " e0e1e2e3 e4e5e6e7 e8e9eaeb ecedeeef f0f1f2f3 f4f5f6f7 "
	    "f8f9fafb fcfdfeff\n 00");
	free(got);
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, sadump_gcm_tunnel);
	ATF_TP_ADD_TC(tp, sadump_cbc_hmac);
	ATF_TP_ADD_TC(tp, sadump_v6_wrap_replay);
	ATF_TP_ADD_TC(tp, sadump_natt);
	ATF_TP_ADD_TC(tp, sadump_ipcomp);
	ATF_TP_ADD_TC(tp, sadump_numbers);
	ATF_TP_ADD_TC(tp, sadump_bad);
	ATF_TP_ADD_TC(tp, spdump_global);
	ATF_TP_ADD_TC(tp, spdump_ifnet);
	ATF_TP_ADD_TC(tp, spdump_ports_lifetime);
	ATF_TP_ADD_TC(tp, spdump_upperspec);
	ATF_TP_ADD_TC(tp, kdebug);
	ATF_TP_ADD_TC(tp, hexdump);
	return (atf_no_error());
}
