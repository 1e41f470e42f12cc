#define _GNU_SOURCE	/* memmem() */
/*
 * The packet path through its host interface (ipsec_hook.h), as netipsecd
 * drives it: policies and SAs installed with PF_KEY in-process, packets
 * built here, ESP done by the real transforms.  One engine plays both
 * ends: what it sends out with an SA, it takes back in with the same SA.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>
#include <zlib.h>

#include "keytest.h"
#include <netipsec/key.h>
#include <netipsec/ipsec_hook.h>
#include <netipsec/ipcomp.h>
#include <ukern/ukern_hook.h>
#include "../lib/mchain.h"

#define	PID	7

static const uint8_t gcmkey[20] = "0123456789abcdefSALT";

/* A policy with one request of protocol "proto". */
static int
spd_proto(struct tsock *ts, int proto, const char *src, int ps,
    const char *dst, int pd, int dir, int policy, int mode, int level,
    const char *tsrc, const char *tdst)
{
	struct pb_msg m;

	pb_init(&m, SADB_X_SPDADD, SADB_SATYPE_UNSPEC, 0, PID);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, src, 0, ps, 255);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, dst, 0, pd, 255);
	pb_policy(&m, dir, policy, 0, 0);
	if (policy == IPSEC_POLICY_IPSEC)
		pb_policy_req(&m, (uint16_t)proto, (uint8_t)mode,
		    (uint8_t)level, 0, tsrc, tdst);
	return (ts_do(ts, &m));
}

static int
spd(struct tsock *ts, const char *src, int ps, const char *dst, int pd,
    int dir, int policy, int mode, int level, const char *tsrc,
    const char *tdst)
{

	return (spd_proto(ts, IPPROTO_ESP, src, ps, dst, pd, dir, policy,
	    mode, level, tsrc, tdst));
}

/* An SADB_ADD of an AH SA with HMAC-SHA2-256-128 from src to dst. */
static int
sa_ah(struct tsock *ts, uint32_t spi, const char *src, const char *dst)
{
	static const uint8_t akey[32] = "0123456789abcdef0123456789abcdef";
	struct pb_msg m;

	pb_init(&m, SADB_ADD, SADB_SATYPE_AH, 0, PID);
	pb_sa(&m, spi, 8, SADB_X_AALG_SHA2_256, SADB_EALG_NONE, 0);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, src, 0, -1, 255);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, dst, 0, -1, 255);
	pb_key(&m, SADB_EXT_KEY_AUTH, akey, sizeof(akey));
	return (ts_do(ts, &m));
}

/* An SADB_ADD of an AES-GCM SA from src to dst. */
static void
sa_msg(struct pb_msg *m, uint32_t spi, const char *src, const char *dst)
{

	pb_init(m, SADB_ADD, SADB_SATYPE_ESP, 0, PID);
	pb_sa(m, spi, 8, SADB_AALG_NONE, SADB_X_EALG_AESGCM16, 0);
	pb_addr(m, SADB_EXT_ADDRESS_SRC, src, 0, -1, 255);
	pb_addr(m, SADB_EXT_ADDRESS_DST, dst, 0, -1, 255);
	pb_key(m, SADB_EXT_KEY_ENCRYPT, gcmkey, sizeof(gcmkey));
}

static int
sa(struct tsock *ts, uint32_t spi, const char *src, const char *dst)
{
	struct pb_msg m;

	sa_msg(&m, spi, src, dst);
	return (ts_do(ts, &m));
}

/* As sa(), with NAT-T: UDP encapsulation on sport -> dport. */
static int
sa_natt(struct tsock *ts, uint32_t spi, const char *src, const char *dst,
    int sport, int dport)
{
	struct sadb_x_nat_t_type *t;
	struct sadb_x_nat_t_port *p;
	struct pb_msg m;

	sa_msg(&m, spi, src, dst);
	t = pb_ext(&m, SADB_X_EXT_NAT_T_TYPE, sizeof(*t));
	t->sadb_x_nat_t_type_type = UDP_ENCAP_ESPINUDP;
	p = pb_ext(&m, SADB_X_EXT_NAT_T_SPORT, sizeof(*p));
	p->sadb_x_nat_t_port_port = htons(sport);
	p = pb_ext(&m, SADB_X_EXT_NAT_T_DPORT, sizeof(*p));
	p->sadb_x_nat_t_port_port = htons(dport);
	return (ts_do(ts, &m));
}

static uint16_t
cksum(const uint8_t *p, size_t len)
{
	uint32_t sum;
	size_t i;

	for (sum = 0, i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)~sum);
}

/* An IPv4 UDP packet src:sport -> dst:dport with "n" payload bytes. */
static size_t
udp4(uint8_t *p, const char *src, const char *dst, int sport, int dport,
    size_t n)
{
	size_t len, i;

	len = 20 + 8 + n;
	memset(p, 0, len);
	p[0] = 0x45;
	p[2] = len >> 8;
	p[3] = len & 0xff;
	p[4] = 0x12;
	p[8] = 64;
	p[9] = IPPROTO_UDP;
	inet_pton(AF_INET, src, p + 12);
	inet_pton(AF_INET, dst, p + 16);
	p[11] = 0;
	{
		uint16_t c = cksum(p, 20);

		p[10] = c >> 8;
		p[11] = c & 0xff;
	}
	p[20] = sport >> 8;
	p[21] = sport & 0xff;
	p[22] = dport >> 8;
	p[23] = dport & 0xff;
	p[24] = (8 + n) >> 8;
	p[25] = (8 + n) & 0xff;
	for (i = 0; i < n; i++)
		p[28 + i] = (uint8_t)i;
	return (len);
}

/* An IPv6 UDP packet, no extension headers. */
static size_t
udp6(uint8_t *p, const char *src, const char *dst, size_t n)
{
	size_t i;

	memset(p, 0, 48 + n);
	p[0] = 0x60;
	p[4] = (8 + n) >> 8;
	p[5] = (8 + n) & 0xff;
	p[6] = IPPROTO_UDP;
	p[7] = 64;
	inet_pton(AF_INET6, src, p + 8);
	inet_pton(AF_INET6, dst, p + 24);
	p[41] = 7;
	p[43] = 9;
	p[45] = 8 + n;
	for (i = 0; i < n; i++)
		p[48 + i] = (uint8_t)i;
	return (48 + n);
}

static struct ipsecstat
stat_now(void)
{
	struct ipsecstat st;

	ipsec_getstat(&st);
	return (st);
}

ATF_TC_WITHOUT_HEAD(pass_discard_noport);
ATF_TC_BODY(pass_discard_noport, tc)
{
	uint8_t pkt[256];
	struct tsock *ts;
	void *out;
	size_t len, olen;

	tk_start();
	ts = ts_open();
	len = udp4(pkt, "192.0.2.1", "192.0.2.2", 1000, 2000, 10);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 1, &out, &olen),
	    IPSEC_HOOK_PASS);
	ATF_REQUIRE_EQ(spd(ts, "192.0.2.1", 32, "192.0.2.2", 32,
	    IPSEC_DIR_OUTBOUND, IPSEC_POLICY_DISCARD, 0, 0, NULL, NULL), 0);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 1, &out, &olen),
	    IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(stat_now().ips_out_polvio, 1);
	/*
	 * Nothing is exempt by its port: IKE's ports are policy-checked
	 * like any other unless a socket's bypass policy names them.
	 */
	len = udp4(pkt, "192.0.2.1", "192.0.2.2", 500, 500, 10);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 1, &out, &olen),
	    IPSEC_HOOK_DROP);
	len = udp4(pkt, "192.0.2.1", "192.0.2.2", 1000, 4500, 10);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 1, &out, &olen),
	    IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(stat_now().ips_out_polvio, 3);
	/* Inbound plaintext where ESP is required is a policy violation. */
	ATF_REQUIRE_EQ(spd(ts, "192.0.2.2", 32, "192.0.2.1", 32,
	    IPSEC_DIR_INBOUND, IPSEC_POLICY_IPSEC, IPSEC_MODE_TRANSPORT,
	    IPSEC_LEVEL_REQUIRE, NULL, NULL), 0);
	len = udp4(pkt, "192.0.2.2", "192.0.2.1", 1000, 2000, 10);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, pkt, len, 1, &out, &olen),
	    IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(stat_now().ips_in_polvio, 1);
	len = udp4(pkt, "192.0.2.2", "192.0.2.1", 4500, 4500, 10);
	memset(pkt + 28, 0, 4);		/* non-ESP marker: IKE's */
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, pkt, len, 1, &out, &olen),
	    IPSEC_HOOK_DROP);
	len = udp4(pkt, "192.0.2.2", "192.0.2.1", 500, 9999, 10);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, pkt, len, 1, &out, &olen),
	    IPSEC_HOOK_DROP);
	len = udp4(pkt, "192.0.2.2", "192.0.2.1", 9999, 500, 10);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, pkt, len, 1, &out, &olen),
	    IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(stat_now().ips_in_polvio, 4);
	ts_close(ts);
	tk_stop();
}

/* Out with ESP, back in, and the original comes out. */
static void
roundtrip(const uint8_t *pkt, size_t len, int tunnel,
    const char *osrc, const char *odst, int af)
{
	uint8_t *esp, copy[2048];
	void *out, *in;
	size_t olen, ilen, hl;

	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 1, &out,
	    &olen), IPSEC_HOOK_REPLACE);
	esp = out;
	hl = af == AF_INET ? 20 : 40;
	ATF_CHECK_EQ(af == AF_INET ? esp[9] : esp[6], IPPROTO_ESP);
	ATF_CHECK_EQ(ntohl(*(uint32_t *)(void *)(esp + hl)), 0x1001);
	ATF_CHECK(olen > len);
	if (af == AF_INET) {
		ATF_CHECK_EQ(cksum(esp, 20), 0);
		ATF_CHECK_EQ((size_t)(esp[2] << 8 | esp[3]), olen);
	} else
		ATF_CHECK_EQ((size_t)(esp[4] << 8 | esp[5]), olen - 40);
	if (tunnel) {
		uint8_t a[16];

		inet_pton(af, osrc, a);
		ATF_CHECK(memcmp(esp + (af == AF_INET ? 12 : 8), a,
		    af == AF_INET ? 4 : 16) == 0);
		inet_pton(af, odst, a);
		ATF_CHECK(memcmp(esp + (af == AF_INET ? 16 : 24), a,
		    af == AF_INET ? 4 : 16) == 0);
	}
	/* The plaintext must not show on the wire. */
	ATF_CHECK(memmem(esp, olen, pkt + len - 16, 16) == NULL);
	memcpy(copy, esp, olen);

	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, esp, olen, 2, &in,
	    &ilen), IPSEC_HOOK_REPLACE);
	ATF_REQUIRE_EQ(ilen, len);
	ATF_CHECK(memcmp(in, pkt, len) == 0);
	ipsec_hook_free(in);

	/* The same packet again is a replay. */
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, copy, olen, 3, &in, &ilen),
	    IPSEC_HOOK_DROP);
	ipsec_hook_free(out);
}

ATF_TC_WITHOUT_HEAD(transport4);
ATF_TC_BODY(transport4, tc)
{
	uint8_t pkt[256];
	struct tsock *ts;
	size_t len;

	tk_start();
	ts = ts_open();
	ATF_REQUIRE_EQ(spd(ts, "192.0.2.1", 32, "192.0.2.2", 32,
	    IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, IPSEC_MODE_TRANSPORT,
	    IPSEC_LEVEL_REQUIRE, NULL, NULL), 0);
	ATF_REQUIRE_EQ(spd(ts, "192.0.2.1", 32, "192.0.2.2", 32,
	    IPSEC_DIR_INBOUND, IPSEC_POLICY_IPSEC, IPSEC_MODE_TRANSPORT,
	    IPSEC_LEVEL_REQUIRE, NULL, NULL), 0);
	ATF_REQUIRE_EQ(sa(ts, 0x1001, "192.0.2.1", "192.0.2.2"), 0);
	len = udp4(pkt, "192.0.2.1", "192.0.2.2", 1000, 2000, 100);
	roundtrip(pkt, len, 0, NULL, NULL, AF_INET);
	ATF_CHECK_EQ(stat_now().ips_out_esp, 1);
	ATF_CHECK_EQ(stat_now().ips_in_esp, 1);
	ATF_CHECK_EQ(stat_now().ips_in_espfail, 1);	/* the replay */
	ts_close(ts);
	tk_stop();
}

ATF_TC_WITHOUT_HEAD(transport6);
ATF_TC_BODY(transport6, tc)
{
	uint8_t pkt[256];
	struct tsock *ts;
	size_t len;

	tk_start();
	ts = ts_open();
	ATF_REQUIRE_EQ(spd(ts, "2001:db8::1", 128, "2001:db8::2", 128,
	    IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, IPSEC_MODE_TRANSPORT,
	    IPSEC_LEVEL_REQUIRE, NULL, NULL), 0);
	ATF_REQUIRE_EQ(spd(ts, "2001:db8::1", 128, "2001:db8::2", 128,
	    IPSEC_DIR_INBOUND, IPSEC_POLICY_IPSEC, IPSEC_MODE_TRANSPORT,
	    IPSEC_LEVEL_REQUIRE, NULL, NULL), 0);
	ATF_REQUIRE_EQ(sa(ts, 0x1001, "2001:db8::1", "2001:db8::2"), 0);
	len = udp6(pkt, "2001:db8::1", "2001:db8::2", 64);
	roundtrip(pkt, len, 0, NULL, NULL, AF_INET6);
	ts_close(ts);
	tk_stop();
}

ATF_TC_WITHOUT_HEAD(tunnel4);
ATF_TC_BODY(tunnel4, tc)
{
	uint8_t pkt[256];
	struct tsock *ts;
	size_t len;

	tk_start();
	ts = ts_open();
	/* FreeBSD's tunnel test: LANs behind 198.51.100.2 and .6. */
	ATF_REQUIRE_EQ(spd(ts, "192.0.2.0", 24, "203.0.113.0", 24,
	    IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, IPSEC_MODE_TUNNEL,
	    IPSEC_LEVEL_REQUIRE, "198.51.100.2", "198.51.100.6"), 0);
	ATF_REQUIRE_EQ(spd(ts, "192.0.2.0", 24, "203.0.113.0", 24,
	    IPSEC_DIR_INBOUND, IPSEC_POLICY_IPSEC, IPSEC_MODE_TUNNEL,
	    IPSEC_LEVEL_REQUIRE, "198.51.100.2", "198.51.100.6"), 0);
	ATF_REQUIRE_EQ(sa(ts, 0x1001, "198.51.100.2", "198.51.100.6"), 0);
	len = udp4(pkt, "192.0.2.1", "203.0.113.1", 1000, 2000, 200);
	roundtrip(pkt, len, 1, "198.51.100.2", "198.51.100.6", AF_INET);
	ts_close(ts);
	tk_stop();
}

ATF_TC_WITHOUT_HEAD(natt4);
ATF_TC_BODY(natt4, tc)
{
	uint8_t pkt[256], *u;
	struct tsock *ts;
	void *out, *in;
	size_t len, olen, ilen;

	tk_start();
	ts = ts_open();
	ATF_REQUIRE_EQ(spd(ts, "192.0.2.1", 32, "192.0.2.2", 32,
	    IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, IPSEC_MODE_TRANSPORT,
	    IPSEC_LEVEL_REQUIRE, NULL, NULL), 0);
	ATF_REQUIRE_EQ(spd(ts, "192.0.2.1", 32, "192.0.2.2", 32,
	    IPSEC_DIR_INBOUND, IPSEC_POLICY_IPSEC, IPSEC_MODE_TRANSPORT,
	    IPSEC_LEVEL_REQUIRE, NULL, NULL), 0);
	/* From a NAT-mapped port to the peer's NAT-T port. */
	ATF_REQUIRE_EQ(sa_natt(ts, 0x1001, "192.0.2.1", "192.0.2.2", 14500,
	    4500), 0);
	len = udp4(pkt, "192.0.2.1", "192.0.2.2", 1000, 2000, 60);
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 1, &out,
	    &olen), IPSEC_HOOK_REPLACE);
	u = out;
	/* RFC 3948: IP, UDP 14500 -> 4500, then ESP (SPI, not a zero marker). */
	ATF_CHECK_EQ(u[9], IPPROTO_UDP);
	ATF_CHECK_EQ(u[20] << 8 | u[21], 14500);
	ATF_CHECK_EQ(u[22] << 8 | u[23], 4500);
	ATF_CHECK_EQ((size_t)(u[24] << 8 | u[25]), olen - 20);
	ATF_CHECK_EQ(ntohl(*(uint32_t *)(void *)(u + 28)), 0x1001);
	ATF_CHECK_EQ(cksum(u, 20), 0);
	/* Back in, as the peer receives it on its port 4500. */
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, out, olen, 2, &in,
	    &ilen), IPSEC_HOOK_REPLACE);
	ATF_REQUIRE_EQ(ilen, len);
	/*
	 * All as sent, but the UDP checksum: NAT may have changed what it
	 * covers, so decapsulation recomputes it (RFC 3948 §3.1.2); it must
	 * verify over the pseudo-header.
	 */
	{
		uint8_t *g = in, v[512];

		memcpy(v, g + 12, 8);		/* src, dst */
		v[8] = 0;
		v[9] = IPPROTO_UDP;
		v[10] = (uint8_t)((len - 20) >> 8);
		v[11] = (uint8_t)(len - 20);
		memcpy(v + 12, g + 20, len - 20);
		ATF_CHECK(g[26] != 0 || g[27] != 0);
		ATF_CHECK_EQ(cksum(v, 12 + len - 20), 0);
		g[26] = g[27] = 0;
		ATF_CHECK(memcmp(in, pkt, len) == 0);
	}
	ipsec_hook_free(in);
	/* The same ESP without UDP is refused: this SA wants UDP. */
	memmove(u + 20, u + 28, olen - 28);
	u[9] = IPPROTO_ESP;
	u[2] = (uint8_t)((olen - 8) >> 8);
	u[3] = (uint8_t)(olen - 8);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, u, olen - 8, 3, &in,
	    &ilen), IPSEC_HOOK_DROP);
	ipsec_hook_free(out);
	ts_close(ts);
	tk_stop();
}

ATF_TC_WITHOUT_HEAD(tamper_unknown_spi);
ATF_TC_BODY(tamper_unknown_spi, tc)
{
	uint8_t pkt[256], bad[512];
	struct tsock *ts;
	void *out, *in;
	size_t len, olen, ilen;

	tk_start();
	ts = ts_open();
	ATF_REQUIRE_EQ(spd(ts, "192.0.2.1", 32, "192.0.2.2", 32,
	    IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, IPSEC_MODE_TRANSPORT,
	    IPSEC_LEVEL_REQUIRE, NULL, NULL), 0);
	ATF_REQUIRE_EQ(sa(ts, 0x1001, "192.0.2.1", "192.0.2.2"), 0);
	len = udp4(pkt, "192.0.2.1", "192.0.2.2", 1000, 2000, 50);
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 1, &out,
	    &olen), IPSEC_HOOK_REPLACE);
	memcpy(bad, out, olen);
	bad[olen - 1] ^= 1;			/* the ICV */
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, bad, olen, 1, &in, &ilen),
	    IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(stat_now().ips_in_espfail, 1);
	memcpy(bad, out, olen);
	bad[23] ^= 0x40;			/* the SPI */
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, bad, olen, 1, &in, &ilen),
	    IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(stat_now().ips_in_nosa, 1);
	/* The untouched packet still passes: failures did not move it. */
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, out, olen, 1, &in, &ilen),
	    IPSEC_HOOK_REPLACE);
	ipsec_hook_free(in);
	ipsec_hook_free(out);
	ts_close(ts);
	tk_stop();
}

/* What the host's release function was told, in order. */
static pthread_mutex_t rel_mtx = PTHREAD_MUTEX_INITIALIZER;
static uint64_t rel_cookie[16];
static int rel_verdict[16];
static uint32_t rel_seq[16];
static int rel_n;

static void
release(void *arg, uint64_t cookie, int verdict, struct mbuf *m)
{
	const uint8_t *p = NULL;
	size_t len = 0;

	(void)arg;
	if (m != NULL)
		p = ukern_m_flat(&m, &len);
	pthread_mutex_lock(&rel_mtx);
	if (rel_n < 16) {
		rel_cookie[rel_n] = cookie;
		rel_verdict[rel_n] = verdict;
		rel_seq[rel_n] = (p != NULL && len >= 28) ?
		    ntohl(*(const uint32_t *)(const void *)(p + 24)) : 0;
		rel_n++;
	}
	pthread_mutex_unlock(&rel_mtx);
	if (m != NULL)
		ukern_m_freem(m);
}

ATF_TC_WITHOUT_HEAD(acquire_hold);
ATF_TC_BODY(acquire_hold, tc)
{
	uint8_t pkt[256];
	struct tsock *ts, *ike;
	struct sadb_msg *r;
	struct pb_msg m;
	void *out;
	size_t len, olen;
	int i, nacq;

	tk_start();
	ipsec_hook_setrelease(release, NULL);
	ATF_REQUIRE_EQ(key_sysctl_set("net.inet.ipsec.acq_hold", 3), 0);
	ts = ts_open();
	ike = ts_open();
	pb_init(&m, SADB_REGISTER, SADB_SATYPE_ESP, 0, PID);
	ATF_REQUIRE_EQ(ts_do(ike, &m), 0);
	ATF_REQUIRE_EQ(spd(ts, "192.0.2.1", 32, "192.0.2.2", 32,
	    IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, IPSEC_MODE_TRANSPORT,
	    IPSEC_LEVEL_REQUIRE, NULL, NULL), 0);
	ts_drain(ike);

	len = udp4(pkt, "192.0.2.1", "192.0.2.2", 1000, 2000, 20);
	for (i = 0; i < 3; i++)
		ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 100 + i,
		    &out, &olen), IPSEC_HOOK_HELD);
	/* The fourth finds the queue for this SA index full. */
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 103, &out,
	    &olen), IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(stat_now().ips_out_holddrop, 1);
	ATF_CHECK_EQ(stat_now().ips_held_now, 3);
	/* One ACQUIRE for the lot (the throttle is by time). */
	nacq = 0;
	while ((r = ts_recv(ike)) != NULL) {
		if (r->sadb_msg_type == SADB_ACQUIRE)
			nacq++;
		free(r);
	}
	ATF_CHECK_EQ(nacq, 1);
	ATF_CHECK_EQ(rel_n, 0);

	/* The SA arrives: the held packets go, in order, protected. */
	ATF_REQUIRE_EQ(sa(ts, 0x1001, "192.0.2.1", "192.0.2.2"), 0);
	ATF_REQUIRE_EQ(rel_n, 3);
	for (i = 0; i < 3; i++) {
		ATF_CHECK_EQ(rel_cookie[i], (uint64_t)(100 + i));
		ATF_CHECK_EQ(rel_verdict[i], IPSEC_HOOK_REPLACE);
		ATF_CHECK_EQ(rel_seq[i], (uint32_t)(i + 1));
	}
	ATF_CHECK_EQ(stat_now().ips_held_now, 0);
	ts_close(ike);
	ts_close(ts);
	tk_stop();
}

ATF_TC(hold_expire);
ATF_TC_HEAD(hold_expire, tc)
{
	atf_tc_set_md_var(tc, "descr", "held packets are dropped when the "
	    "ACQUIRE times out");
	atf_tc_set_md_var(tc, "timeout", "30");
}
ATF_TC_BODY(hold_expire, tc)
{
	uint8_t pkt[256];
	struct tsock *ts;
	void *out;
	size_t len, olen;
	int i;

	tk_start();
	ipsec_hook_setrelease(release, NULL);
	ATF_REQUIRE_EQ(key_sysctl_set("net.key.blockacq_lifetime", 1), 0);
	ts = ts_open();
	ATF_REQUIRE_EQ(spd(ts, "192.0.2.1", 32, "192.0.2.2", 32,
	    IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, IPSEC_MODE_TRANSPORT,
	    IPSEC_LEVEL_REQUIRE, NULL, NULL), 0);
	len = udp4(pkt, "192.0.2.1", "192.0.2.2", 1000, 2000, 20);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 7, &out, &olen),
	    IPSEC_HOOK_HELD);
	for (i = 0; i < 50 && rel_n == 0; i++)
		usleep(100 * 1000);
	ATF_REQUIRE_EQ(rel_n, 1);
	ATF_CHECK_EQ(rel_cookie[0], 7);
	ATF_CHECK_EQ(rel_verdict[0], IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(stat_now().ips_out_holdexp, 1);
	ts_close(ts);
	tk_stop();
}

ATF_TC_WITHOUT_HEAD(level_use);
ATF_TC_BODY(level_use, tc)
{
	uint8_t pkt[256];
	struct tsock *ts, *ike;
	struct sadb_msg *r;
	struct pb_msg m;
	void *out;
	size_t len, olen;

	tk_start();
	ts = ts_open();
	ike = ts_open();
	pb_init(&m, SADB_REGISTER, SADB_SATYPE_ESP, 0, PID);
	ATF_REQUIRE_EQ(ts_do(ike, &m), 0);
	ATF_REQUIRE_EQ(spd(ts, "192.0.2.1", 32, "192.0.2.2", 32,
	    IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, IPSEC_MODE_TRANSPORT,
	    IPSEC_LEVEL_USE, NULL, NULL), 0);
	ts_drain(ike);
	len = udp4(pkt, "192.0.2.1", "192.0.2.2", 1000, 2000, 20);
	/* "use": in clear without an SA, but the ACQUIRE still goes. */
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 1, &out, &olen),
	    IPSEC_HOOK_PASS);
	r = ts_recv(ike);
	ATF_REQUIRE(r != NULL);
	ATF_CHECK_EQ(r->sadb_msg_type, SADB_ACQUIRE);
	free(r);
	ts_close(ike);
	ts_close(ts);
	tk_stop();
}

/*
 * The host services of path MTU discovery and family changes
 * (ipsec_hook_sethost()): an MTU of 1500 everywhere, and the packets the
 * layer sends kept here.
 */
static uint8_t sent[4][2048];
static size_t sent_len[4];
static int sent_n;

static int
host_send(void *arg __attribute__((__unused__)), const void *pkt, size_t len)
{

	if (sent_n < 4 && len <= sizeof(sent[0])) {
		memcpy(sent[sent_n], pkt, len);
		sent_len[sent_n] = len;
	}
	sent_n++;
	return (0);
}

static unsigned int
host_mtu(void *arg __attribute__((__unused__)), int af __attribute__((__unused__)),
    const void *dst __attribute__((__unused__)))
{

	return (1500);
}

/* Bytes [off, off + n) of an IPv4 packet as a fragment (mf: more). */
static size_t
frag4(const uint8_t *pkt, size_t off, size_t n, int mf, uint8_t *f)
{
	uint16_t c;

	memcpy(f, pkt, 20);
	memcpy(f + 20, pkt + 20 + off, n);
	f[2] = (uint8_t)((20 + n) >> 8);
	f[3] = (uint8_t)(20 + n);
	f[6] = (uint8_t)((mf ? 0x20 : 0) | (off / 8) >> 8);
	f[7] = (uint8_t)(off / 8);
	f[10] = f[11] = 0;
	c = cksum(f, 20);
	f[10] = c >> 8;
	f[11] = c & 0xff;
	return (20 + n);
}

/* The same for IPv6, with a Fragment header (id 0x1234). */
static size_t
frag6(const uint8_t *pkt, size_t off, size_t n, int mf, uint8_t *f)
{

	memcpy(f, pkt, 40);
	f[4] = (uint8_t)((8 + n) >> 8);
	f[5] = (uint8_t)(8 + n);
	f[6] = 44;
	memset(f + 40, 0, 8);
	f[40] = pkt[6];
	f[42] = (uint8_t)(off >> 8);
	f[43] = (uint8_t)((off & 0xf8) | (mf ? 1 : 0));
	f[46] = 0x12;
	f[47] = 0x34;
	memcpy(f + 48, pkt + 40 + off, n);
	return (48 + n);
}

/* ESP of a big UDP packet, fragmented, arrives out of order: reassembled. */
static void
reass(int af)
{
	uint8_t pkt[1600], esp[1700], f[3][1700];
	struct tsock *ts;
	void *out, *in;
	size_t len, olen, ilen, pl, fl[3];
	const char *a, *b;

	tk_start();
	ipsec_hook_sethost(host_send, host_mtu, NULL);
	ts = ts_open();
	a = af == AF_INET ? "192.0.2.1" : "2001:db8::1";
	b = af == AF_INET ? "192.0.2.2" : "2001:db8::2";
	ATF_REQUIRE_EQ(spd(ts, a, af == AF_INET ? 32 : 128, b,
	    af == AF_INET ? 32 : 128, IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC,
	    IPSEC_MODE_TRANSPORT, IPSEC_LEVEL_REQUIRE, NULL, NULL), 0);
	ATF_REQUIRE_EQ(spd(ts, a, af == AF_INET ? 32 : 128, b,
	    af == AF_INET ? 32 : 128, IPSEC_DIR_INBOUND, IPSEC_POLICY_IPSEC,
	    IPSEC_MODE_TRANSPORT, IPSEC_LEVEL_REQUIRE, NULL, NULL), 0);
	ATF_REQUIRE_EQ(sa(ts, 0x1001, a, b), 0);
	/* No DF: protected whole, the host fragments it. */
	len = af == AF_INET ? udp4(pkt, a, b, 1000, 2000, 1400) :
	    udp6(pkt, a, b, 1400);
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 1, &out,
	    &olen), IPSEC_HOOK_REPLACE);
	ATF_REQUIRE(olen <= sizeof(esp));
	memcpy(esp, out, olen);
	ipsec_hook_free(out);
	ATF_CHECK_EQ(sent_n, 0);

	/* Three fragments: [0, 512), [512, 1024), [1024, end). */
	pl = olen - (af == AF_INET ? 20 : 40);
	if (af == AF_INET) {
		fl[0] = frag4(esp, 0, 512, 1, f[0]);
		fl[1] = frag4(esp, 512, 512, 1, f[1]);
		fl[2] = frag4(esp, 1024, pl - 1024, 0, f[2]);
	} else {
		fl[0] = frag6(esp, 0, 512, 1, f[0]);
		fl[1] = frag6(esp, 512, 512, 1, f[1]);
		fl[2] = frag6(esp, 1024, pl - 1024, 0, f[2]);
	}
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, f[2], fl[2], 2, &in,
	    &ilen), IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, f[0], fl[0], 3, &in,
	    &ilen), IPSEC_HOOK_DROP);
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, f[1], fl[1], 4, &in,
	    &ilen), IPSEC_HOOK_REPLACE);
	ATF_REQUIRE_EQ(ilen, len);
	ATF_CHECK(memcmp(in, pkt, len) == 0);
	ipsec_hook_free(in);
	ATF_CHECK_EQ(stat_now().ips_in_frag, 3);
	ATF_CHECK_EQ(stat_now().ips_in_reass, 1);
	ATF_CHECK_EQ(stat_now().ips_in_esp, 1);

	/* An overlap (RFC 5722) ends the datagram: nothing comes out. */
	if (af == AF_INET)
		fl[1] = frag4(esp, 504, 520, 1, f[1]);
	else
		fl[1] = frag6(esp, 504, 520, 1, f[1]);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, f[0], fl[0], 5, &in,
	    &ilen), IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, f[1], fl[1], 6, &in,
	    &ilen), IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(stat_now().ips_in_fragdrop, 1);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, f[2], fl[2], 7, &in,
	    &ilen), IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(stat_now().ips_in_reass, 1);
	ATF_CHECK_EQ(stat_now().ips_in_esp, 1);
	ts_close(ts);
	tk_stop();
}

ATF_TC_WITHOUT_HEAD(reass4);
ATF_TC_BODY(reass4, tc)
{

	reass(AF_INET);
}

ATF_TC_WITHOUT_HEAD(reass6);
ATF_TC_BODY(reass6, tc)
{

	reass(AF_INET6);
}

/* ICMP need-frag for a DF packet too big once protected (RFC 1191). */
ATF_TC_WITHOUT_HEAD(pmtu4);
ATF_TC_BODY(pmtu4, tc)
{
	uint8_t pkt[1600], *ic;
	struct tsock *ts;
	void *out;
	size_t len, olen;

	tk_start();
	ipsec_hook_sethost(host_send, host_mtu, NULL);
	ts = ts_open();
	ATF_REQUIRE_EQ(spd(ts, "192.0.2.1", 32, "192.0.2.2", 32,
	    IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, IPSEC_MODE_TRANSPORT,
	    IPSEC_LEVEL_REQUIRE, NULL, NULL), 0);
	ATF_REQUIRE_EQ(sa(ts, 0x1001, "192.0.2.1", "192.0.2.2"), 0);
	len = udp4(pkt, "192.0.2.1", "192.0.2.2", 1000, 2000, 1472);
	pkt[6] = 0x40;				/* DF */
	pkt[10] = pkt[11] = 0;
	pkt[10] = cksum(pkt, 20) >> 8;
	pkt[11] = cksum(pkt, 20) & 0xff;
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 1, &out, &olen),
	    IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(stat_now().ips_out_toobig, 1);
	ATF_CHECK_EQ(stat_now().ips_out_icmp, 1);
	ATF_REQUIRE_EQ(sent_n, 1);
	ic = sent[0];
	ATF_CHECK_EQ(sent_len[0], 576);
	ATF_CHECK_EQ(ic[9], IPPROTO_ICMP);
	ATF_CHECK(memcmp(ic + 12, "\0\0\0\0", 4) == 0);	/* host's choice */
	ATF_CHECK(memcmp(ic + 16, pkt + 12, 4) == 0);	/* to the source */
	ATF_CHECK_EQ(ic[20], 3);
	ATF_CHECK_EQ(ic[21], 4);
	/* AES-GCM: ESP 8 + IV 8 + padding 3 + 2 + ICV 16 = 37. */
	ATF_CHECK_EQ(ic[26] << 8 | ic[27], 1500 - 37);
	ATF_CHECK_EQ(cksum(ic + 20, sent_len[0] - 20), 0);
	ATF_CHECK(memcmp(ic + 28, pkt, 28) == 0);
	/* What fits goes, and without DF the host fragments it. */
	len = udp4(pkt, "192.0.2.1", "192.0.2.2", 1000, 2000, 1472 - 37);
	pkt[6] = 0x40;
	pkt[10] = pkt[11] = 0;
	pkt[10] = cksum(pkt, 20) >> 8;
	pkt[11] = cksum(pkt, 20) & 0xff;
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 2, &out, &olen),
	    IPSEC_HOOK_REPLACE);
	ipsec_hook_free(out);
	len = udp4(pkt, "192.0.2.1", "192.0.2.2", 1000, 2000, 1472);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 3, &out, &olen),
	    IPSEC_HOOK_REPLACE);
	ipsec_hook_free(out);
	ATF_CHECK_EQ(sent_n, 1);
	ts_close(ts);
	tk_stop();
}

/* ICMPv6 packet too big from a tunnel gateway (RFC 8201, RFC 4443). */
ATF_TC_WITHOUT_HEAD(pmtu6_tunnel);
ATF_TC_BODY(pmtu6_tunnel, tc)
{
	uint8_t pkt[1600], *ic, a[16], pseudo[40];
	struct tsock *ts;
	void *out;
	size_t len, olen, i;
	uint32_t sum;

	tk_start();
	ipsec_hook_sethost(host_send, host_mtu, NULL);
	ts = ts_open();
	ATF_REQUIRE_EQ(spd(ts, "2001:db8:1::", 64, "2001:db8:45::", 64,
	    IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, IPSEC_MODE_TUNNEL,
	    IPSEC_LEVEL_REQUIRE, "2001:db8:23::2", "2001:db8:34::2"), 0);
	ATF_REQUIRE_EQ(sa(ts, 0x1001, "2001:db8:23::2", "2001:db8:34::2"), 0);
	len = udp6(pkt, "2001:db8:1::1", "2001:db8:45::1", 1452);
	/* Our own packets are fragmented by the host after ESP. */
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 1, &out, &olen),
	    IPSEC_HOOK_REPLACE);
	ipsec_hook_free(out);
	/* A forwarded one is refused, its source told. */
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_FWD, pkt, len, 2, &out, &olen),
	    IPSEC_HOOK_DROP);
	ATF_REQUIRE_EQ(sent_n, 1);
	ic = sent[0];
	ATF_CHECK_EQ(sent_len[0], 1280);
	ATF_CHECK_EQ(ic[6], 58);
	inet_pton(AF_INET6, "2001:db8:23::2", a);
	ATF_CHECK(memcmp(ic + 8, a, 16) == 0);
	ATF_CHECK(memcmp(ic + 24, pkt + 8, 16) == 0);
	ATF_CHECK_EQ(ic[40], 2);
	/* ESP 37 and the IPv6 header 40. */
	ATF_CHECK_EQ((uint32_t)ic[44] << 24 | ic[45] << 16 | ic[46] << 8 |
	    ic[47], 1500 - 37 - 40);
	memcpy(pseudo, ic + 8, 32);
	memset(pseudo + 32, 0, 8);
	pseudo[34] = (1280 - 40) >> 8;
	pseudo[35] = (1280 - 40) & 0xff;
	pseudo[39] = 58;
	for (sum = 0, i = 0; i < 40; i += 2)
		sum += (uint32_t)pseudo[i] << 8 | pseudo[i + 1];
	for (i = 40; i < 1280; i += 2)
		sum += (uint32_t)ic[i] << 8 | ic[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ATF_CHECK_EQ(sum, 0xffff);
	ts_close(ts);
	tk_stop();
}

/* IPv4 in IPv6: out and back in through the host's raw output. */
ATF_TC_WITHOUT_HEAD(tunnel4in6);
ATF_TC_BODY(tunnel4in6, tc)
{
	uint8_t pkt[1600], esp[1700];
	struct tsock *ts;
	void *out;
	size_t len, olen, elen, off;
	int i;

	tk_start();
	ipsec_hook_sethost(host_send, host_mtu, NULL);
	ts = ts_open();
	ATF_REQUIRE_EQ(spd(ts, "192.0.2.0", 24, "203.0.113.0", 24,
	    IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, IPSEC_MODE_TUNNEL,
	    IPSEC_LEVEL_REQUIRE, "2001:db8:23::2", "2001:db8:34::2"), 0);
	ATF_REQUIRE_EQ(spd(ts, "192.0.2.0", 24, "203.0.113.0", 24,
	    IPSEC_DIR_INBOUND, IPSEC_POLICY_IPSEC, IPSEC_MODE_TUNNEL,
	    IPSEC_LEVEL_REQUIRE, "2001:db8:23::2", "2001:db8:34::2"), 0);
	ATF_REQUIRE_EQ(sa(ts, 0x1001, "2001:db8:23::2", "2001:db8:34::2"), 0);
	len = udp4(pkt, "192.0.2.1", "203.0.113.1", 1000, 2000, 100);
	/* A verdict cannot carry IPv6 for IPv4: the raw output does. */
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 1, &out, &olen),
	    IPSEC_HOOK_DROP);
	ATF_REQUIRE_EQ(sent_n, 1);
	ATF_CHECK_EQ(sent[0][0] >> 4, 6);
	ATF_CHECK_EQ(sent[0][6], IPPROTO_ESP);
	ATF_CHECK_EQ(stat_now().ips_out_raw, 1);
	memcpy(esp, sent[0], sent_len[0]);
	elen = sent_len[0];
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, esp, elen, 2, &out, &olen),
	    IPSEC_HOOK_DROP);
	ATF_REQUIRE_EQ(sent_n, 2);
	ATF_REQUIRE_EQ(sent_len[1], len);
	ATF_CHECK(memcmp(sent[1], pkt, len) == 0);
	ATF_CHECK_EQ(stat_now().ips_in_raw, 1);

	/* Too big for the MTU: the outer packet, ours, is fragmented. */
	len = udp4(pkt, "192.0.2.1", "203.0.113.1", 1000, 2000, 1472);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 3, &out, &olen),
	    IPSEC_HOOK_DROP);
	ATF_REQUIRE_EQ(sent_n, 4);
	for (i = 2; i < 4; i++) {
		ATF_CHECK(sent_len[i] <= 1500);
		ATF_CHECK_EQ(sent[i][6], 44);
		ATF_CHECK_EQ(sent[i][40], IPPROTO_ESP);
	}
	off = (size_t)(sent[3][42] << 8 | (sent[3][43] & 0xf8));
	ATF_CHECK_EQ(off, sent_len[2] - 48);
	ATF_CHECK_EQ(sent[2][43] & 1, 1);
	ATF_CHECK_EQ(sent[3][43] & 1, 0);
	/* Back in, reassembled, decrypted, and out through the host. */
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, sent[3], sent_len[3], 4,
	    &out, &olen), IPSEC_HOOK_DROP);
	memcpy(esp, sent[2], sent_len[2]);
	elen = sent_len[2];
	sent_n = 1;
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, esp, elen, 5, &out, &olen),
	    IPSEC_HOOK_DROP);
	ATF_REQUIRE_EQ(sent_n, 2);
	ATF_REQUIRE_EQ(sent_len[1], len);
	ATF_CHECK(memcmp(sent[1], pkt, len) == 0);
	ATF_CHECK_EQ(stat_now().ips_in_reass, 1);
	ATF_CHECK_EQ(stat_now().ips_raw_fail, 0);
	ts_close(ts);
	tk_stop();
}

/* net.inet.ipsec.dfbit: DF of the tunnel header decides the check. */
ATF_TC_WITHOUT_HEAD(pmtu4_dfbit);
ATF_TC_BODY(pmtu4_dfbit, tc)
{
	uint8_t pkt[1600];
	struct tsock *ts;
	void *out;
	size_t len, olen;
	uint8_t *o;

	tk_start();
	ipsec_hook_sethost(host_send, host_mtu, NULL);
	ts = ts_open();
	ATF_REQUIRE_EQ(spd(ts, "192.0.2.0", 24, "203.0.113.0", 24,
	    IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, IPSEC_MODE_TUNNEL,
	    IPSEC_LEVEL_REQUIRE, "198.51.100.2", "198.51.100.6"), 0);
	ATF_REQUIRE_EQ(sa(ts, 0x1001, "198.51.100.2", "198.51.100.6"), 0);
	len = udp4(pkt, "192.0.2.1", "203.0.113.1", 1000, 2000, 1472);
	pkt[6] = 0x40;				/* DF */
	pkt[10] = pkt[11] = 0;
	pkt[10] = cksum(pkt, 20) >> 8;
	pkt[11] = cksum(pkt, 20) & 0xff;
	/* 0, the default: the outer header has no DF, the host fragments. */
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_FWD, pkt, len, 1, &out,
	    &olen), IPSEC_HOOK_REPLACE);
	o = out;
	ATF_CHECK_EQ(o[6] & 0x40, 0);
	ipsec_hook_free(out);
	ATF_CHECK_EQ(sent_n, 0);
	/* 2 copies the inner DF: refused, need-frag with 1500 - 37 - 20. */
	ATF_REQUIRE_EQ(key_sysctl_set("net.inet.ipsec.dfbit", 2), 0);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_FWD, pkt, len, 2, &out, &olen),
	    IPSEC_HOOK_DROP);
	ATF_REQUIRE_EQ(sent_n, 1);
	ATF_CHECK_EQ(sent[0][20], 3);
	ATF_CHECK_EQ(sent[0][21], 4);
	ATF_CHECK_EQ(sent[0][26] << 8 | sent[0][27], 1500 - 37 - 20);
	ATF_CHECK(memcmp(sent[0] + 16, pkt + 12, 4) == 0);
	/* What fits goes, with DF copied. */
	len = udp4(pkt, "192.0.2.1", "203.0.113.1", 1000, 2000,
	    1472 - 37 - 20);
	pkt[6] = 0x40;
	pkt[10] = pkt[11] = 0;
	pkt[10] = cksum(pkt, 20) >> 8;
	pkt[11] = cksum(pkt, 20) & 0xff;
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_FWD, pkt, len, 3, &out,
	    &olen), IPSEC_HOOK_REPLACE);
	o = out;
	ATF_CHECK_EQ(olen, 1500);
	ATF_CHECK_EQ(o[6] & 0x40, 0x40);
	ipsec_hook_free(out);
	ATF_CHECK_EQ(sent_n, 1);
	ATF_CHECK_EQ(stat_now().ips_out_toobig, 1);
	ts_close(ts);
	tk_stop();
}

/*
 * Is "got" (glen bytes) the packet "want" came back as?  After NAT-T the
 * UDP checksum was recomputed (natt4): those two bytes apart.
 */
static int
same_pkt(const uint8_t *got, size_t glen, const uint8_t *want, size_t len,
    int natt)
{

	if (glen != len)
		return (0);
	if (!natt)
		return (memcmp(got, want, len) == 0);
	return (memcmp(got, want, 26) == 0 &&
	    memcmp(got + 28, want + 28, len - 28) == 0);
}

/*
 * The packet path on mbuf chains, as a BSD kernel hands them over: pkt
 * goes out split in two at every offset (the first mbuf empty at 0) and
 * as a chain of one-byte mbufs, and comes back in flat; then ESP packets
 * made flat come in split the same ways.  What comes out is the original
 * every time, and a flipped bit in the last mbuf of a chain is caught.
 */
static void
chains(const uint8_t *pkt, size_t len, int natt)
{
	uint8_t esp[2048];
	const void *o;
	struct mbuf *m;
	void *out, *in;
	size_t k, olen, ilen, elen;
	int v;

	for (k = 0; k <= len + 1; k++) {
		m = k <= len ? mchain(pkt, len, k, 0) : mchain(pkt, len, 1, 1);
		ATF_REQUIRE(m != NULL);
		if (k == len + 1)
			ATF_REQUIRE_EQ(mchain_count(m), (int)len);
		v = ipsec_hook(IPSEC_HOOK_OUT, &m, 1);
		ATF_REQUIRE_EQ_MSG(v, IPSEC_HOOK_REPLACE, "out, split at %zu",
		    k);
		o = ukern_m_flat(&m, &olen);
		ATF_REQUIRE(o != NULL && olen <= sizeof(esp));
		memcpy(esp, o, olen);
		ukern_m_freem(m);
		ATF_REQUIRE_EQ_MSG(ukern_ipsec_hook(IPSEC_HOOK_IN, esp, olen,
		    2, &in, &ilen), IPSEC_HOOK_REPLACE, "in after out split "
		    "at %zu", k);
		ATF_CHECK_MSG(same_pkt(in, ilen, pkt, len, natt),
		    "out split at %zu: not the original", k);
		ipsec_hook_free(in);
	}

	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 3, &out,
	    &elen), IPSEC_HOOK_REPLACE);
	ipsec_hook_free(out);
	for (k = 0; k <= elen + 2; k++) {
		ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 3,
		    &out, &olen), IPSEC_HOOK_REPLACE);
		ATF_REQUIRE_EQ(olen, elen);
		if (k == elen + 2)
			((uint8_t *)out)[olen - 1] ^= 0x01;	/* the ICV */
		m = k <= elen ? mchain(out, olen, k, 0) :
		    mchain(out, olen, 1, 1);
		ipsec_hook_free(out);
		ATF_REQUIRE(m != NULL);
		v = ipsec_hook(IPSEC_HOOK_IN, &m, 4);
		if (k == elen + 2) {
			ATF_CHECK_EQ_MSG(v, IPSEC_HOOK_DROP, "a flipped ICV "
			    "bit in a chain of one-byte mbufs went in");
			ATF_CHECK(m == NULL);
			continue;
		}
		ATF_REQUIRE_EQ_MSG(v, IPSEC_HOOK_REPLACE, "in, split at %zu",
		    k);
		o = ukern_m_flat(&m, &ilen);
		ATF_REQUIRE(o != NULL);
		ATF_CHECK_MSG(same_pkt(o, ilen, pkt, len, natt),
		    "in split at %zu: not the original", k);
		ukern_m_freem(m);
	}
}

ATF_TC_WITHOUT_HEAD(chains);
ATF_TC_BODY(chains, tc)
{
	static const struct {
		const char	*src, *dst, *tsrc, *tdst;
		int		 plen, mode, natt, af, proto;
	} c[] = {
		{ "192.0.2.1", "192.0.2.2", NULL, NULL, 32,
		    IPSEC_MODE_TRANSPORT, 0, AF_INET, IPPROTO_ESP },
		{ "192.0.2.3", "192.0.2.4", NULL, NULL, 32,
		    IPSEC_MODE_TRANSPORT, 1, AF_INET, IPPROTO_ESP },
		{ "192.0.2.0", "203.0.113.0", "198.51.100.2", "198.51.100.6",
		    24, IPSEC_MODE_TUNNEL, 0, AF_INET, IPPROTO_ESP },
		{ "2001:db8::1", "2001:db8::2", NULL, NULL, 128,
		    IPSEC_MODE_TRANSPORT, 0, AF_INET6, IPPROTO_ESP },
		{ "192.0.2.5", "192.0.2.6", NULL, NULL, 32,
		    IPSEC_MODE_TRANSPORT, 0, AF_INET, IPPROTO_AH },
		{ "2001:db8::5", "2001:db8::6", NULL, NULL, 128,
		    IPSEC_MODE_TRANSPORT, 0, AF_INET6, IPPROTO_AH },
	};
	uint8_t pkt[256];
	struct tsock *ts;
	size_t i, len;
	int dir;

	tk_start();
	ts = ts_open();
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		for (dir = IPSEC_DIR_INBOUND; dir <= IPSEC_DIR_OUTBOUND; dir++)
			ATF_REQUIRE_EQ(spd_proto(ts, c[i].proto, c[i].src,
			    c[i].plen, c[i].dst, c[i].plen, dir,
			    IPSEC_POLICY_IPSEC, c[i].mode, IPSEC_LEVEL_REQUIRE,
			    c[i].tsrc, c[i].tdst), 0);
		if (c[i].proto == IPPROTO_AH)
			ATF_REQUIRE_EQ(sa_ah(ts, 0x2000 + (uint32_t)i,
			    c[i].src, c[i].dst), 0);
		else if (c[i].natt)
			ATF_REQUIRE_EQ(sa_natt(ts, 0x2000 + (uint32_t)i,
			    c[i].src, c[i].dst, 14500, 4500), 0);
		else
			ATF_REQUIRE_EQ(sa(ts, 0x2000 + (uint32_t)i,
			    c[i].tsrc != NULL ? c[i].tsrc : c[i].src,
			    c[i].tdst != NULL ? c[i].tdst : c[i].dst), 0);
		if (c[i].af == AF_INET6)
			len = udp6(pkt, c[i].src, c[i].dst, 37);
		else if (c[i].mode == IPSEC_MODE_TUNNEL)
			len = udp4(pkt, "192.0.2.9", "203.0.113.9", 1000,
			    2000, 41);
		else
			len = udp4(pkt, c[i].src, c[i].dst, 1000, 2000, 41);
		chains(pkt, len, c[i].natt);
	}
	ts_close(ts);
	tk_stop();
}

/*
 * AH in transport mode: the payload goes in clear after AH; a router may
 * change the mutable fields (TTL, TOS, checksum) and the packet still
 * verifies; any other changed byte, or the same packet again, is refused.
 */
ATF_TC_WITHOUT_HEAD(ah_transport4);
ATF_TC_BODY(ah_transport4, tc)
{
	uint8_t pkt[256], esp[512], bad[512];
	struct tsock *ts;
	void *out, *in;
	size_t len, olen, ilen;
	int dir;

	tk_start();
	ts = ts_open();
	for (dir = IPSEC_DIR_INBOUND; dir <= IPSEC_DIR_OUTBOUND; dir++)
		ATF_REQUIRE_EQ(spd_proto(ts, IPPROTO_AH, "192.0.2.1", 32,
		    "192.0.2.2", 32, dir, IPSEC_POLICY_IPSEC,
		    IPSEC_MODE_TRANSPORT, IPSEC_LEVEL_REQUIRE, NULL, NULL), 0);
	ATF_REQUIRE_EQ(sa_ah(ts, 0x3001, "192.0.2.1", "192.0.2.2"), 0);
	len = udp4(pkt, "192.0.2.1", "192.0.2.2", 1000, 2000, 50);
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 1, &out,
	    &olen), IPSEC_HOOK_REPLACE);
	/* IP, AH of 12 + 16 bytes (SHA2-256-128), then the packet's UDP. */
	ATF_REQUIRE_EQ(olen, len + 28);
	memcpy(esp, out, olen);
	ipsec_hook_free(out);
	ATF_CHECK_EQ(esp[9], IPPROTO_AH);
	ATF_CHECK_EQ(cksum(esp, 20), 0);
	ATF_CHECK_EQ((size_t)(esp[2] << 8 | esp[3]), olen);
	ATF_CHECK_EQ(esp[20], IPPROTO_UDP);
	ATF_CHECK_EQ(esp[21], 28 / 4 - 2);
	ATF_CHECK_EQ(ntohl(*(uint32_t *)(void *)(esp + 24)), 0x3001);
	ATF_CHECK_EQ(ntohl(*(uint32_t *)(void *)(esp + 28)), 1);
	ATF_CHECK(memcmp(esp + 48, pkt + 20, len - 20) == 0);

	/* Mutable fields changed on the way: still good. */
	memcpy(bad, esp, olen);
	bad[8] = 3;			/* TTL */
	bad[1] = 0xb8;			/* TOS */
	bad[10] = bad[11] = 0;
	bad[10] = (uint8_t)(cksum(bad, 20) >> 8);
	bad[11] = (uint8_t)cksum(bad, 20);
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, bad, olen, 2, &in,
	    &ilen), IPSEC_HOOK_REPLACE);
	ATF_CHECK_EQ(ilen, len);
	ATF_CHECK(memcmp((uint8_t *)in + 20, pkt + 20, len - 20) == 0);
	ATF_CHECK_EQ(((uint8_t *)in)[8], 3);
	ATF_CHECK_EQ(((uint8_t *)in)[9], IPPROTO_UDP);
	ipsec_hook_free(in);
	/* The same packet again: a replay. */
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, esp, olen, 3, &in, &ilen),
	    IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(stat_now().ips_in_ahfail, 1);

	/* Immutable bytes: the ID, the source, the payload, the AH. */
	{
		static const size_t at[] = { 4, 13, 22, 30, 60 };
		size_t k;

		for (k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
			ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt,
			    len, 4, &out, &olen), IPSEC_HOOK_REPLACE);
			memcpy(bad, out, olen);
			ipsec_hook_free(out);
			bad[at[k]] ^= 0x04;
			bad[10] = bad[11] = 0;
			bad[10] = (uint8_t)(cksum(bad, 20) >> 8);
			bad[11] = (uint8_t)cksum(bad, 20);
			ATF_CHECK_EQ_MSG(ukern_ipsec_hook(IPSEC_HOOK_IN, bad,
			    olen, 5, &in, &ilen), IPSEC_HOOK_DROP,
			    "byte %zu changed and it went in", at[k]);
		}
	}
	/* In clear where AH is required: refused. */
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, pkt, len, 6, &in, &ilen),
	    IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(stat_now().ips_out_ah, 6);
	ATF_CHECK_EQ(stat_now().ips_in_ah, 1);
	ts_close(ts);
	tk_stop();
}

/*
 * A policy of "n" requests (a bundle), protos[i] in mode[i] at level
 * require, tunnel requests between tsrc and tdst; the selector's
 * destination port dport (0: any) and upper protocol ul (255: any).
 */
static int
spd_bundle(struct tsock *ts, const char *src, int ps, const char *dst,
    int pd, int dport, int ul, int dir, int n, const int *protos,
    const int *modes, const char *tsrc, const char *tdst)
{
	struct pb_msg m;
	int i;

	pb_init(&m, SADB_X_SPDADD, SADB_SATYPE_UNSPEC, 0, PID);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, src, 0, ps, ul);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, dst, (uint16_t)dport, pd, ul);
	pb_policy(&m, dir, IPSEC_POLICY_IPSEC, 0, 0);
	for (i = 0; i < n; i++)
		pb_policy_req(&m, (uint16_t)protos[i], (uint8_t)modes[i],
		    IPSEC_LEVEL_REQUIRE, 0,
		    modes[i] == IPSEC_MODE_TUNNEL ? tsrc : NULL,
		    modes[i] == IPSEC_MODE_TUNNEL ? tdst : NULL);
	return (ts_do(ts, &m));
}

/* An SADB_ADD of a deflate IPComp SA of CPI cpi (mode: SA2's). */
static int
sa_ipcomp(struct tsock *ts, uint16_t cpi, const char *src, const char *dst,
    int mode)
{
	struct pb_msg m;

	pb_init(&m, SADB_ADD, SADB_X_SATYPE_IPCOMP, 0, PID);
	pb_sa(&m, cpi, 0, SADB_AALG_NONE, SADB_X_CALG_DEFLATE, 0);
	pb_sa2(&m, (uint8_t)mode, 0);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, src, 0, -1, 255);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, dst, 0, -1, 255);
	return (ts_do(ts, &m));
}

/* Raw deflate (RFC 2394) or inflate with zlib itself: len of out. */
static size_t
zraw(int comp, const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	z_stream z;
	int r;

	memset(&z, 0, sizeof(z));
	r = comp ? deflateInit2(&z, 9, Z_DEFLATED, -15, 8,
	    Z_DEFAULT_STRATEGY) : inflateInit2(&z, -15);
	ATF_REQUIRE_EQ(r, Z_OK);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	r = comp ? deflate(&z, Z_FINISH) : inflate(&z, Z_FINISH);
	ATF_REQUIRE_EQ_MSG(r, Z_STREAM_END, "zlib: %d", r);
	n = cap - z.avail_out;
	if (comp)
		deflateEnd(&z);
	else
		inflateEnd(&z);
	return (n);
}

/* An IPv4 IPComp packet src -> dst of CPI cpi, nxt, over data. */
static size_t
ipcomp4(uint8_t *p, const char *src, const char *dst, uint16_t cpi,
    uint8_t nxt, const uint8_t *data, size_t n)
{
	size_t len;
	uint16_t c;

	len = udp4(p, src, dst, 1, 2, 0) - 8 + 4 + n;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[9] = IPPROTO_IPCOMP;
	p[10] = p[11] = 0;
	c = cksum(p, 20);
	p[10] = (uint8_t)(c >> 8);
	p[11] = (uint8_t)c;
	p[20] = nxt;
	p[21] = 0;
	p[22] = (uint8_t)(cpi >> 8);
	p[23] = (uint8_t)cpi;
	memcpy(p + 24, data, n);
	return (len);
}

ATF_TC_WITHOUT_HEAD(ipcomp_transport4);
ATF_TC_BODY(ipcomp_transport4, tc)
{
	static const int proto[] = { IPPROTO_IPCOMP };
	static const int mode[] = { IPSEC_MODE_TRANSPORT };
	uint8_t pkt[1600], got[1600], z[70000], big[100000];
	struct ipcompstat cs;
	struct tsock *ts;
	void *out, *in;
	size_t len, olen, ilen, n, i;
	int dir;

	tk_start();
	ts = ts_open();
	for (dir = IPSEC_DIR_INBOUND; dir <= IPSEC_DIR_OUTBOUND; dir++)
		ATF_REQUIRE_EQ(spd_bundle(ts, "192.0.2.1", 32, "192.0.2.2", 32,
		    0, 255, dir, 1, proto, mode, NULL, NULL), 0);
	ATF_REQUIRE_EQ(sa_ipcomp(ts, 0x1000, "192.0.2.1", "192.0.2.2",
	    IPSEC_MODE_ANY), 0);

	/* Compressible: IPComp after the header, the payload deflated. */
	len = udp4(pkt, "192.0.2.1", "192.0.2.2", 1000, 2000, 1200);
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 1, &out,
	    &olen), IPSEC_HOOK_REPLACE);
	memcpy(got, out, olen);
	ipsec_hook_free(out);
	ATF_CHECK(olen < len / 2);
	ATF_CHECK_EQ(got[9], IPPROTO_IPCOMP);
	ATF_CHECK_EQ(cksum(got, 20), 0);
	ATF_CHECK_EQ((size_t)(got[2] << 8 | got[3]), olen);
	ATF_CHECK_EQ(got[20], IPPROTO_UDP);
	ATF_CHECK_EQ(got[21], 0);
	ATF_CHECK_EQ(got[22] << 8 | got[23], 0x1000);
	/* zlib, not our code, reads it back. */
	n = zraw(0, got + 24, olen - 24, z, sizeof(z));
	ATF_REQUIRE_EQ(n, len - 20);
	ATF_CHECK(memcmp(z, pkt + 20, n) == 0);
	/* And we take it in: the packet as it was. */
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, got, olen, 2, &in,
	    &ilen), IPSEC_HOOK_REPLACE);
	ATF_REQUIRE_EQ(ilen, len);
	ATF_CHECK(memcmp(in, pkt, len) == 0);
	ipsec_hook_free(in);
	/* zlib's own deflate at another level and window: the same. */
	n = zraw(1, pkt + 20, len - 20, z, sizeof(z));
	olen = ipcomp4(got, "192.0.2.1", "192.0.2.2", 0x1000, IPPROTO_UDP,
	    z, n);
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, got, olen, 3, &in,
	    &ilen), IPSEC_HOOK_REPLACE);
	ATF_REQUIRE_EQ(ilen, len);
	ATF_CHECK(memcmp(in, pkt, len) == 0);
	ipsec_hook_free(in);

	/* Small (<= 90 bytes) or incompressible: sent as it is. */
	len = udp4(pkt, "192.0.2.1", "192.0.2.2", 1000, 2000, 62);
	ATF_REQUIRE_EQ(len, 90);
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 4, &out,
	    &olen), IPSEC_HOOK_REPLACE);
	ATF_CHECK(olen == len && memcmp(out, pkt, len) == 0);
	ipsec_hook_free(out);
	len = udp4(pkt, "192.0.2.1", "192.0.2.2", 1000, 2000, 600);
	for (i = 28; i < len; i++)
		pkt[i] = (uint8_t)arc4random();
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 5, &out,
	    &olen), IPSEC_HOOK_REPLACE);
	ATF_CHECK(olen == len && memcmp(out, pkt, len) == 0);
	ipsec_hook_free(out);
	ipsec_getipcompstat(&cs);
	ATF_CHECK_EQ(cs.ipcomps_threshold, 1);
	ATF_CHECK_EQ(cs.ipcomps_uncompr, 1);
	ATF_CHECK_EQ(cs.ipcomps_output, 2);
	/* ... and taken in as it is: IPComp is never required. */
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, pkt, len, 6, &in, &ilen),
	    IPSEC_HOOK_PASS);

	/* Hostile: garbage, a bomb, IPComp in IPComp, an unknown CPI. */
	memset(z, 0xa5, 200);
	olen = ipcomp4(got, "192.0.2.1", "192.0.2.2", 0x1000, IPPROTO_UDP,
	    z, 200);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, got, olen, 7, &in,
	    &ilen), IPSEC_HOOK_DROP);
	memset(big, 0, sizeof(big));
	n = zraw(1, big, sizeof(big), z, sizeof(z));
	ATF_REQUIRE(n < 1400);
	olen = ipcomp4(got, "192.0.2.1", "192.0.2.2", 0x1000, IPPROTO_UDP,
	    z, n);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, got, olen, 8, &in,
	    &ilen), IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(stat_now().ips_in_ipcompfail, 2);
	/* Within what inflates, but too long for IPv4 with its header. */
	n = zraw(1, big, 65530, z, sizeof(z));
	olen = ipcomp4(got, "192.0.2.1", "192.0.2.2", 0x1000, IPPROTO_UDP,
	    z, n);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, got, olen, 8, &in,
	    &ilen), IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(stat_now().ips_in_inval, 1);
	n = zraw(1, pkt + 20, len - 20, z, sizeof(z));
	olen = ipcomp4(got, "192.0.2.1", "192.0.2.2", 0x1000, IPPROTO_IPCOMP,
	    z, n);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, got, olen, 9, &in,
	    &ilen), IPSEC_HOOK_DROP);
	ipsec_getipcompstat(&cs);
	ATF_CHECK_EQ(cs.ipcomps_pdrops, 1);
	ATF_CHECK_EQ(cs.ipcomps_crypto, 2);
	olen = ipcomp4(got, "192.0.2.1", "192.0.2.2", 0x1001, IPPROTO_UDP,
	    z, n);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, got, olen, 10, &in,
	    &ilen), IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(stat_now().ips_in_nosa, 1);
	ATF_CHECK_EQ(stat_now().ips_in_ipcomp, 2);
	ts_close(ts);
	tk_stop();
}

/*
 * ipcomp/transport//require esp/transport//require: compressed, then
 * ESP over it; back in, both come off.  A packet through the IPComp SA
 * alone, where the policy wants ESP too, is refused.
 */
ATF_TC_WITHOUT_HEAD(bundle_ipcomp_esp4);
ATF_TC_BODY(bundle_ipcomp_esp4, tc)
{
	static const int proto[] = { IPPROTO_IPCOMP, IPPROTO_ESP };
	static const int mode[] = { IPSEC_MODE_TRANSPORT,
	    IPSEC_MODE_TRANSPORT };
	uint8_t pkt[1600], got[1600], copy[1600], z[2000];
	struct tsock *ts;
	void *out, *in;
	size_t len, olen, ilen, n;
	int dir;

	tk_start();
	ts = ts_open();
	for (dir = IPSEC_DIR_INBOUND; dir <= IPSEC_DIR_OUTBOUND; dir++)
		ATF_REQUIRE_EQ(spd_bundle(ts, "192.0.2.1", 32, "192.0.2.2", 32,
		    0, 255, dir, 2, proto, mode, NULL, NULL), 0);
	ATF_REQUIRE_EQ(sa_ipcomp(ts, 0x1000, "192.0.2.1", "192.0.2.2",
	    IPSEC_MODE_TRANSPORT), 0);
	ATF_REQUIRE_EQ(sa(ts, 0x1001, "192.0.2.1", "192.0.2.2"), 0);

	len = udp4(pkt, "192.0.2.1", "192.0.2.2", 1000, 2000, 1200);
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 1, &out,
	    &olen), IPSEC_HOOK_REPLACE);
	memcpy(got, out, olen);
	ipsec_hook_free(out);
	/* ESP outside (the last request), over much less than the UDP. */
	ATF_CHECK_EQ(got[9], IPPROTO_ESP);
	ATF_CHECK_EQ(ntohl(*(uint32_t *)(void *)(got + 20)), 0x1001);
	ATF_CHECK(olen < len / 2);
	ATF_CHECK_EQ(stat_now().ips_out_bundle, 1);
	memcpy(copy, got, olen);
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, got, olen, 2, &in,
	    &ilen), IPSEC_HOOK_REPLACE);
	ATF_REQUIRE_EQ(ilen, len);
	ATF_CHECK(memcmp(in, pkt, len) == 0);
	ipsec_hook_free(in);
	ATF_CHECK_EQ(stat_now().ips_in_bundle, 1);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, copy, olen, 3, &in,
	    &ilen), IPSEC_HOOK_DROP);	/* a replay */

	/* Small: ESP only on the wire (IPComp sent it as it was); good. */
	len = udp4(pkt, "192.0.2.1", "192.0.2.2", 1000, 2000, 20);
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 4, &out,
	    &olen), IPSEC_HOOK_REPLACE);
	memcpy(got, out, olen);
	ipsec_hook_free(out);
	ATF_CHECK_EQ(got[9], IPPROTO_ESP);
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, got, olen, 5, &in,
	    &ilen), IPSEC_HOOK_REPLACE);
	ATF_CHECK(ilen == len && memcmp(in, pkt, len) == 0);
	ipsec_hook_free(in);

	/* Through the IPComp SA only: ESP is missing.  Refused. */
	len = udp4(pkt, "192.0.2.1", "192.0.2.2", 1000, 2000, 1200);
	n = zraw(1, pkt + 20, len - 20, z, sizeof(z));
	olen = ipcomp4(got, "192.0.2.1", "192.0.2.2", 0x1000, IPPROTO_UDP,
	    z, n);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, got, olen, 6, &in,
	    &ilen), IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(stat_now().ips_in_sacheck, 1);
	/* In clear: refused. */
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, pkt, len, 7, &in, &ilen),
	    IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(stat_now().ips_in_polvio, 1);
	ts_close(ts);
	tk_stop();
}

/* One policy with a single request, at level require (ul any). */
static int
spd_req(struct tsock *ts, const char *src, int ps, const char *dst, int pd,
    int dir, int proto, int mode, const char *tsrc, const char *tdst)
{
	struct pb_msg m;

	pb_init(&m, SADB_X_SPDADD, SADB_SATYPE_UNSPEC, 0, PID);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, src, 0, ps, 255);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, dst, 0, pd, 255);
	pb_policy(&m, dir, IPSEC_POLICY_IPSEC, 0, 0);
	pb_policy_req(&m, (uint16_t)proto, (uint8_t)mode, IPSEC_LEVEL_REQUIRE,
	    0, tsrc, tdst);
	return (ts_do(ts, &m));
}

/*
 * FreeBSD's "proxy" case: a transport request whose endpoints are not
 * the packet's is applied as a tunnel (what iked's IPComp tunnels need
 * when the IPComp request is skipped).  Back in, a tunnel through an
 * ESP SA of mode any meets a transport request naming its endpoints;
 * a transport request naming none refuses it.
 */
ATF_TC_WITHOUT_HEAD(proxy_any4);
ATF_TC_BODY(proxy_any4, tc)
{
	uint8_t pkt[256], got[512];
	struct tsock *ts;
	void *out, *in;
	size_t len, olen, ilen;
	int dir;

	tk_start();
	ts = ts_open();
	for (dir = IPSEC_DIR_INBOUND; dir <= IPSEC_DIR_OUTBOUND; dir++)
		ATF_REQUIRE_EQ(spd_req(ts, "10.1.0.0", 24, "10.2.0.0", 24, dir,
		    IPPROTO_ESP, IPSEC_MODE_TRANSPORT, "192.0.2.1",
		    "192.0.2.2"), 0);
	/* 10.3/24: out with endpoints, in without them. */
	ATF_REQUIRE_EQ(spd_req(ts, "10.3.0.0", 24, "10.2.0.0", 24,
	    IPSEC_DIR_OUTBOUND, IPPROTO_ESP, IPSEC_MODE_TRANSPORT,
	    "192.0.2.1", "192.0.2.2"), 0);
	ATF_REQUIRE_EQ(spd_req(ts, "10.3.0.0", 24, "10.2.0.0", 24,
	    IPSEC_DIR_INBOUND, IPPROTO_ESP, IPSEC_MODE_TRANSPORT, NULL,
	    NULL), 0);
	ATF_REQUIRE_EQ(sa(ts, 0x2001, "192.0.2.1", "192.0.2.2"), 0);

	len = udp4(pkt, "10.1.0.5", "10.2.0.5", 1000, 2000, 40);
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 1, &out,
	    &olen), IPSEC_HOOK_REPLACE);
	ATF_REQUIRE(olen <= sizeof(got));
	memcpy(got, out, olen);
	ipsec_hook_free(out);
	/* A tunnel: the SA's endpoints outside, ESP, IP in it. */
	ATF_CHECK(memcmp(got + 12, "\xc0\x00\x02\x01\xc0\x00\x02\x02", 8)
	    == 0);
	ATF_CHECK_EQ(got[9], IPPROTO_ESP);
	ATF_CHECK_EQ(ntohl(*(uint32_t *)(void *)(got + 20)), 0x2001);
	ATF_CHECK(olen >= len + 20 + 8 + 2);
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, got, olen, 2, &in,
	    &ilen), IPSEC_HOOK_REPLACE);
	ATF_CHECK(ilen == len && memcmp(in, pkt, len) == 0);
	ipsec_hook_free(in);

	/* From 10.3/24: out the same way; in, its policy names no SA. */
	len = udp4(pkt, "10.3.0.5", "10.2.0.5", 1000, 2000, 40);
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 3, &out,
	    &olen), IPSEC_HOOK_REPLACE);
	ATF_REQUIRE(olen <= sizeof(got));
	memcpy(got, out, olen);
	ipsec_hook_free(out);
	ATF_CHECK_EQ(got[9], IPPROTO_ESP);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, got, olen, 4, &in,
	    &ilen), IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(stat_now().ips_in_sacheck, 1);
	ts_close(ts);
	tk_stop();
}

/* An ESP SA in tunnel mode with a reqid (as for an ipsecN). */
static int
sa_tunnel(struct tsock *ts, uint32_t spi, const char *src, const char *dst,
    uint32_t reqid)
{
	struct pb_msg m;

	sa_msg(&m, spi, src, dst);
	pb_sa2(&m, IPSEC_MODE_TUNNEL, reqid);
	return (ts_do(ts, &m));
}

/* What an ipsecN's host got from the layer (ipsec_hook_setifinput()). */
static u_int ifin_index, ifin_n;
static uint8_t ifin_pkt[512];
static size_t ifin_len;

static void
ifinput(void *arg, unsigned int ifindex, struct mbuf *m)
{
	const void *p;
	size_t len;

	(void)arg;
	p = ukern_m_flat(&m, &len);
	ifin_index = ifindex;
	ifin_n++;
	ifin_len = p != NULL && len <= sizeof(ifin_pkt) ? len : 0;
	if (ifin_len > 0)
		memcpy(ifin_pkt, p, ifin_len);
	ukern_m_freem(m);
}

static struct sockaddr_in
sin4(const char *a)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, a, &sin.sin_addr);
	return (sin);
}

/*
 * if_ipsec(4): an interface with reqid 100 and a tunnel has four
 * ifnet-scope policies (dumped with its index, not deletable, never
 * matched by a selector); what is routed into it waits for an ACQUIRE,
 * then leaves as ESP of the SA with its reqid; what comes out of the
 * peer's SA with that reqid and those endpoints is the interface's.
 * Without a tunnel, or for a loop, nothing leaves.
 */
ATF_TC_WITHOUT_HEAD(ipsec_if4);
ATF_TC_BODY(ipsec_if4, tc)
{
	struct sockaddr_in a, b, z;
	struct sockaddr_storage ss, sd;
	uint8_t pkt[256], got[512];
	struct tsock *ts, *ike;
	struct sadb_x_policy *xpl, *xout;
	struct sadb_x_ipsecrequest *xisr;
	struct sadb_msg *r;
	struct pb_msg m;
	void *out, *in;
	size_t len, olen, ilen;
	uint32_t reqid, outid, acqid;
	int n, nacq;

	tk_start();
	rel_n = 0;
	ipsec_hook_setrelease(release, NULL);
	ipsec_hook_setifinput(ifinput, NULL);
	ts = ts_open();
	ike = ts_open();
	pb_init(&m, SADB_REGISTER, SADB_SATYPE_ESP, 0, PID);
	ATF_REQUIRE_EQ(ts_do(ike, &m), 0);
	ts_drain(ike);
	a = sin4("192.0.2.1");
	b = sin4("192.0.2.2");
	z = sin4("0.0.0.0");

	ATF_REQUIRE_EQ(ipsec_if_create(7, 100), 0);
	ATF_CHECK_EQ(ipsec_if_create(7, 0), EEXIST);
	ATF_CHECK_EQ(ipsec_if_create(8, 100), EEXIST);	/* the reqid */
	ATF_CHECK_EQ(ipsec_if_create(8, 0x4000), EINVAL);
	ATF_CHECK_EQ(ipsec_if_settunnel(9, (void *)&a, (void *)&b), ENXIO);
	ATF_CHECK_EQ(ipsec_if_settunnel(7, (void *)&z, (void *)&b),
	    EADDRNOTAVAIL);

	/* No tunnel yet: nothing leaves. */
	len = udp4(pkt, "10.1.0.5", "10.2.0.5", 1000, 2000, 40);
	ATF_CHECK_EQ(ukern_ipsec_if_output(7, pkt, len, 1, &out, &olen),
	    IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(stat_now().ips_if_down, 1);

	ATF_REQUIRE_EQ(ipsec_if_settunnel(7, (void *)&a, (void *)&b), 0);
	ATF_REQUIRE_EQ(ipsec_if_get(7, &ss, &sd, &reqid), 0);
	ATF_CHECK_EQ(reqid, 100);
	ATF_CHECK_EQ(ss.ss_family, AF_INET);

	/* SPDDUMP: four ifnet policies, index 7, unique:100, endpoints. */
	pb_init(&m, SADB_X_SPDDUMP, SADB_SATYPE_UNSPEC, 0, PID);
	ATF_REQUIRE_EQ(ts_send(ts, &m), 0);
	n = 0;
	outid = 0;
	while ((r = ts_recv(ts)) != NULL) {
		xpl = tm_getext(r, SADB_X_EXT_POLICY);
		ATF_REQUIRE(xpl != NULL);
		ATF_CHECK_EQ(xpl->sadb_x_policy_scope, IPSEC_POLICYSCOPE_IFNET);
		ATF_CHECK_EQ(xpl->sadb_x_policy_priority, 7);
		xisr = (void *)(xpl + 1);
		ATF_CHECK_EQ(xisr->sadb_x_ipsecrequest_proto, IPPROTO_ESP);
		ATF_CHECK_EQ(xisr->sadb_x_ipsecrequest_mode,
		    IPSEC_MODE_TUNNEL);
		ATF_CHECK_EQ(xisr->sadb_x_ipsecrequest_level,
		    IPSEC_LEVEL_UNIQUE);
		ATF_CHECK_EQ(xisr->sadb_x_ipsecrequest_reqid, 100);
		if (xpl->sadb_x_policy_dir == IPSEC_DIR_OUTBOUND &&
		    outid == 0)
			outid = xpl->sadb_x_policy_id;
		n++;
		free(r);
	}
	ATF_CHECK_EQ(n, 4);
	/* Scope ifnet alone: the same four; global: none. */
	pb_init(&m, SADB_X_SPDDUMP, IPSEC_POLICYSCOPE_GLOBAL, 0, PID);
	ATF_CHECK_EQ(ts_do(ts, &m), ENOENT);
	/* Not the admin's to delete. */
	pb_init(&m, SADB_X_SPDDELETE2, SADB_SATYPE_UNSPEC, 0, PID);
	pb_policy(&m, 0, 0, outid, 0);
	ATF_CHECK_EQ(ts_do(ts, &m), EACCES);
	/* Never a selector's: a packet 10.1 -> 10.2 on the hook passes. */
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_FWD, pkt, len, 2, &out,
	    &olen), IPSEC_HOOK_PASS);

	/* Routed into ipsec7: held, and an ACQUIRE of its policy. */
	ATF_CHECK_EQ(ukern_ipsec_if_output(7, pkt, len, 3, &out, &olen),
	    IPSEC_HOOK_HELD);
	nacq = 0;
	acqid = 0;
	while ((r = ts_recv(ike)) != NULL) {
		if (r->sadb_msg_type == SADB_ACQUIRE) {
			nacq++;
			xout = tm_getext(r, SADB_X_EXT_POLICY);
			if (xout != NULL)
				acqid = xout->sadb_x_policy_id;
		}
		free(r);
	}
	ATF_CHECK_EQ(nacq, 1);
	ATF_CHECK_EQ(acqid, outid);
	/* An SA of another reqid does not serve it. */
	ATF_REQUIRE_EQ(sa_tunnel(ts, 0x3009, "192.0.2.1", "192.0.2.2", 101),
	    0);
	ATF_CHECK_EQ(rel_n, 0);
	ATF_REQUIRE_EQ(sa_tunnel(ts, 0x3001, "192.0.2.1", "192.0.2.2", 100),
	    0);
	ATF_REQUIRE_EQ(rel_n, 1);
	ATF_CHECK_EQ(rel_cookie[0], 3);
	ATF_CHECK_EQ(rel_verdict[0], IPSEC_HOOK_REPLACE);

	/* Then at once: ESP of 0x3001 between the endpoints, IP inside. */
	ATF_REQUIRE_EQ(ukern_ipsec_if_output(7, pkt, len, 4, &out, &olen),
	    IPSEC_HOOK_REPLACE);
	ATF_REQUIRE(olen <= sizeof(got));
	memcpy(got, out, olen);
	ipsec_hook_free(out);
	ATF_CHECK(memcmp(got + 12, "\xc0\x00\x02\x01\xc0\x00\x02\x02", 8) ==
	    0);
	ATF_CHECK_EQ(got[9], IPPROTO_ESP);
	ATF_CHECK_EQ(ntohl(*(uint32_t *)(void *)(got + 20)), 0x3001);
	ATF_CHECK_EQ(stat_now().ips_out_if, 2);
	/* That ESP routed back into ipsec7 is a loop: dropped. */
	ATF_CHECK_EQ(ukern_ipsec_if_output(7, got, olen, 5, &out, &olen),
	    IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(stat_now().ips_if_down, 2);

	/*
	 * The peer's side, made here with a global policy: 10.2 -> 10.1
	 * in the tunnel 192.0.2.2 -> .1, SA 0x3002 of reqid 100.  Back in,
	 * the inner packet is ipsec7's.
	 */
	ATF_REQUIRE_EQ(spd_req(ts, "10.2.0.0", 24, "10.1.0.0", 24,
	    IPSEC_DIR_OUTBOUND, IPPROTO_ESP, IPSEC_MODE_TUNNEL, "192.0.2.2",
	    "192.0.2.1"), 0);
	ATF_REQUIRE_EQ(sa_tunnel(ts, 0x3002, "192.0.2.2", "192.0.2.1", 100),
	    0);
	len = udp4(pkt, "10.2.0.5", "10.1.0.5", 2000, 1000, 40);
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_FWD, pkt, len, 6, &out,
	    &olen), IPSEC_HOOK_REPLACE);
	ATF_REQUIRE(olen <= sizeof(got));
	memcpy(got, out, olen);
	ipsec_hook_free(out);
	ATF_CHECK_EQ(ntohl(*(uint32_t *)(void *)(got + 20)), 0x3002);
	ifin_n = 0;
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, got, olen, 7, &in,
	    &ilen), IPSEC_HOOK_STOLEN);
	ATF_CHECK(in == NULL);
	ATF_CHECK_EQ(ifin_n, 1);
	ATF_CHECK_EQ(ifin_index, 7);
	ATF_CHECK(ifin_len == len && memcmp(ifin_pkt, pkt, len) == 0);
	ATF_CHECK_EQ(stat_now().ips_in_if, 1);

	/* Without the tunnel: its policies go, nothing leaves or comes. */
	ATF_REQUIRE_EQ(ipsec_if_deltunnel(7), 0);
	pb_init(&m, SADB_X_SPDDUMP, IPSEC_POLICYSCOPE_IFNET, 0, PID);
	ATF_CHECK_EQ(ts_do(ts, &m), ENOENT);
	ATF_CHECK_EQ(ukern_ipsec_if_output(7, pkt, len, 8, &out, &olen),
	    IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, got, olen, 9, &in,
	    &ilen), IPSEC_HOOK_DROP);	/* a replay, and no interface */
	ATF_CHECK_EQ(ifin_n, 1);

	/* Another reqid, of the kernel's; then gone. */
	ATF_REQUIRE_EQ(ipsec_if_setreqid(7, 0), 0);
	ATF_REQUIRE_EQ(ipsec_if_get(7, &ss, &sd, &reqid), 0);
	ATF_CHECK(reqid > 0x3fff);
	ATF_CHECK_EQ(ss.ss_family, 0);
	ATF_CHECK_EQ(ipsec_if_destroy(7), 0);
	ATF_CHECK_EQ(ipsec_if_destroy(7), ENXIO);
	ipsec_hook_setifinput(NULL, NULL);
	ts_close(ike);
	ts_close(ts);
	tk_stop();
}

/*
 * esp/transport//require ah/transport//require: an ACQUIRE for each
 * missing SA, the packet held until both are there, AH outside ESP;
 * ESP alone where the policy wants both is refused.
 */
ATF_TC_WITHOUT_HEAD(bundle_esp_ah4);
ATF_TC_BODY(bundle_esp_ah4, tc)
{
	static const int proto[] = { IPPROTO_ESP, IPPROTO_AH };
	static const int mode[] = { IPSEC_MODE_TRANSPORT,
	    IPSEC_MODE_TRANSPORT };
	uint8_t pkt[256], got[512];
	struct tsock *ts, *ike;
	struct sadb_msg *r;
	struct pb_msg m;
	void *out, *in;
	size_t len, olen, ilen;
	int dir, nesp, nah;

	tk_start();
	rel_n = 0;
	ipsec_hook_setrelease(release, NULL);
	ts = ts_open();
	ike = ts_open();
	pb_init(&m, SADB_REGISTER, SADB_SATYPE_ESP, 0, PID);
	ATF_REQUIRE_EQ(ts_do(ike, &m), 0);
	pb_init(&m, SADB_REGISTER, SADB_SATYPE_AH, 0, PID);
	ATF_REQUIRE_EQ(ts_do(ike, &m), 0);
	/* UDP to port 3000 goes with ESP alone (added first: found first). */
	ATF_REQUIRE_EQ(spd_bundle(ts, "192.0.2.1", 32, "192.0.2.2", 32,
	    3000, IPPROTO_UDP, IPSEC_DIR_OUTBOUND, 1, proto, mode, NULL,
	    NULL), 0);
	for (dir = IPSEC_DIR_INBOUND; dir <= IPSEC_DIR_OUTBOUND; dir++)
		ATF_REQUIRE_EQ(spd_bundle(ts, "192.0.2.1", 32, "192.0.2.2", 32,
		    0, 255, dir, 2, proto, mode, NULL, NULL), 0);
	ts_drain(ike);

	len = udp4(pkt, "192.0.2.1", "192.0.2.2", 1000, 2000, 40);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 100, &out,
	    &olen), IPSEC_HOOK_HELD);
	nesp = nah = 0;
	while ((r = ts_recv(ike)) != NULL) {
		if (r->sadb_msg_type == SADB_ACQUIRE &&
		    r->sadb_msg_satype == SADB_SATYPE_ESP)
			nesp++;
		if (r->sadb_msg_type == SADB_ACQUIRE &&
		    r->sadb_msg_satype == SADB_SATYPE_AH)
			nah++;
		free(r);
	}
	ATF_CHECK_EQ(nesp, 1);
	ATF_CHECK_EQ(nah, 1);
	/* ESP's SA alone does not release it: AH's is still missing. */
	ATF_REQUIRE_EQ(sa(ts, 0x1001, "192.0.2.1", "192.0.2.2"), 0);
	ATF_CHECK_EQ(rel_n, 0);
	ATF_CHECK_EQ(stat_now().ips_held_now, 1);
	ATF_REQUIRE_EQ(sa_ah(ts, 0x3001, "192.0.2.1", "192.0.2.2"), 0);
	ATF_REQUIRE_EQ(rel_n, 1);
	ATF_CHECK_EQ(rel_cookie[0], 100);
	ATF_CHECK_EQ(rel_verdict[0], IPSEC_HOOK_REPLACE);
	ATF_CHECK_EQ(stat_now().ips_held_now, 0);

	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 101, &out,
	    &olen), IPSEC_HOOK_REPLACE);
	memcpy(got, out, olen);
	ipsec_hook_free(out);
	/* IP, AH (next: ESP), ESP. */
	ATF_CHECK_EQ(got[9], IPPROTO_AH);
	ATF_CHECK_EQ(got[20], IPPROTO_ESP);
	ATF_CHECK_EQ(ntohl(*(uint32_t *)(void *)(got + 24)), 0x3001);
	ATF_CHECK_EQ(ntohl(*(uint32_t *)(void *)(got + 48)), 0x1001);
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, got, olen, 102, &in,
	    &ilen), IPSEC_HOOK_REPLACE);
	ATF_CHECK(ilen == len && memcmp(in, pkt, len) == 0);
	ipsec_hook_free(in);

	/* ESP alone, where both are required: refused. */
	len = udp4(pkt, "192.0.2.1", "192.0.2.2", 1000, 3000, 40);
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 103, &out,
	    &olen), IPSEC_HOOK_REPLACE);
	memcpy(got, out, olen);
	ipsec_hook_free(out);
	ATF_CHECK_EQ(got[9], IPPROTO_ESP);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, got, olen, 104, &in,
	    &ilen), IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(stat_now().ips_in_sacheck, 1);
	ATF_CHECK_EQ(stat_now().ips_in_esp, 1);
	ts_close(ike);
	ts_close(ts);
	tk_stop();
}

/*
 * ipcomp/tunnel: compressed packets carry IPComp after the outer header;
 * small ones go as IP in IP (RFC 3173 section 2.2), and come in through
 * the IPComp SA all the same (FreeBSD's ipcomp_nonexp_input()).  IP in
 * IP between the same gateways for a network the policy does not name
 * is refused.
 */
ATF_TC_WITHOUT_HEAD(ipcomp_tunnel4);
ATF_TC_BODY(ipcomp_tunnel4, tc)
{
	static const int proto[] = { IPPROTO_IPCOMP };
	static const int mode[] = { IPSEC_MODE_TUNNEL };
	uint8_t pkt[1600], got[1700];
	struct tsock *ts;
	void *out, *in;
	size_t len, olen, ilen;
	int dir;
	uint16_t c;

	tk_start();
	ts = ts_open();
	for (dir = IPSEC_DIR_INBOUND; dir <= IPSEC_DIR_OUTBOUND; dir++)
		ATF_REQUIRE_EQ(spd_bundle(ts, "10.1.0.0", 16, "10.2.0.0", 16,
		    0, 255, dir, 1, proto, mode, "192.0.2.1", "192.0.2.2"), 0);
	ATF_REQUIRE_EQ(sa_ipcomp(ts, 0x1000, "192.0.2.1", "192.0.2.2",
	    IPSEC_MODE_TUNNEL), 0);

	len = udp4(pkt, "10.1.0.5", "10.2.0.5", 1000, 2000, 1200);
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 1, &out,
	    &olen), IPSEC_HOOK_REPLACE);
	memcpy(got, out, olen);
	ipsec_hook_free(out);
	ATF_CHECK_EQ(got[9], IPPROTO_IPCOMP);
	ATF_CHECK_EQ(got[20], 4);	/* IPComp's next: IPv4 */
	ATF_CHECK(olen < len / 2);
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, got, olen, 2, &in,
	    &ilen), IPSEC_HOOK_REPLACE);
	ATF_CHECK(ilen == len && memcmp(in, pkt, len) == 0);
	ipsec_hook_free(in);

	len = udp4(pkt, "10.1.0.5", "10.2.0.5", 1000, 2000, 30);
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 3, &out,
	    &olen), IPSEC_HOOK_REPLACE);
	memcpy(got, out, olen);
	ipsec_hook_free(out);
	ATF_REQUIRE_EQ(olen, len + 20);
	ATF_CHECK_EQ(got[9], 4);	/* IP in IP */
	ATF_CHECK(memcmp(got + 20, pkt, len) == 0);
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, got, olen, 4, &in,
	    &ilen), IPSEC_HOOK_REPLACE);
	ATF_CHECK(ilen == len && memcmp(in, pkt, len) == 0);
	ipsec_hook_free(in);

	/* The same tunnel, an inner network no policy names. */
	len = udp4(pkt, "10.9.0.5", "10.2.0.5", 1000, 2000, 30);
	memcpy(got + 20, pkt, len);
	got[2] = (uint8_t)((len + 20) >> 8);
	got[3] = (uint8_t)(len + 20);
	got[10] = got[11] = 0;
	c = cksum(got, 20);
	got[10] = (uint8_t)(c >> 8);
	got[11] = (uint8_t)c;
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, got, len + 20, 5, &in,
	    &ilen), IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(stat_now().ips_in_sacheck, 1);
	ts_close(ts);
	tk_stop();
}

/*
 * IPv6 with a hop-by-hop and a destination options header: transport
 * ESP, and IPComp bundled with it, go after them (the headers stay in
 * front, the last one naming the transform); back in, the packet as it
 * was.  A Fragment header: refused, never sent in clear.
 */
ATF_TC_WITHOUT_HEAD(transport6_ext);
ATF_TC_BODY(transport6_ext, tc)
{
	static const int proto[] = { IPPROTO_IPCOMP, IPPROTO_ESP };
	static const int mode[] = { IPSEC_MODE_TRANSPORT,
	    IPSEC_MODE_TRANSPORT };
	static const uint8_t ext[16] = {
		60, 0, 0x05, 0x02, 0, 0, 0x01, 0x00,	/* HBH: router alert */
		IPPROTO_UDP, 0, 0x01, 0x04, 0, 0, 0, 0	/* dest: PadN */
	};
	uint8_t pkt[2048], u[2048], got[2048];
	struct tsock *ts;
	void *out, *in;
	size_t len, ulen, olen, ilen, n;
	int dir, round;

	tk_start();
	ts = ts_open();
	for (dir = IPSEC_DIR_INBOUND; dir <= IPSEC_DIR_OUTBOUND; dir++)
		ATF_REQUIRE_EQ(spd_bundle(ts, "2001:db8::1", 128, "2001:db8::2",
		    128, 0, 255, dir, 2, proto, mode, NULL, NULL), 0);
	ATF_REQUIRE_EQ(sa_ipcomp(ts, 0x1000, "2001:db8::1", "2001:db8::2",
	    IPSEC_MODE_TRANSPORT), 0);
	ATF_REQUIRE_EQ(sa(ts, 0x1001, "2001:db8::1", "2001:db8::2"), 0);
	/* Small (uncompressed) and large (compressed). */
	for (round = 0; round < 2; round++) {
		n = round == 0 ? 20 : 1000;
		ulen = udp6(u, "2001:db8::1", "2001:db8::2", n);
		memcpy(pkt, u, 40);
		pkt[6] = 0;			/* hop-by-hop next */
		memcpy(pkt + 40, ext, sizeof(ext));
		memcpy(pkt + 56, u + 40, ulen - 40);
		len = ulen + sizeof(ext);
		pkt[4] = (uint8_t)((len - 40) >> 8);
		pkt[5] = (uint8_t)(len - 40);
		ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len,
		    1, &out, &olen), IPSEC_HOOK_REPLACE);
		memcpy(got, out, olen);
		ipsec_hook_free(out);
		ATF_CHECK_EQ(got[6], 0);
		ATF_CHECK(memcmp(got + 40, ext, 8) == 0);
		ATF_CHECK_EQ(got[48], IPPROTO_ESP);
		ATF_CHECK_EQ(ntohl(*(uint32_t *)(void *)(got + 56)), 0x1001);
		ATF_CHECK_EQ((size_t)(got[4] << 8 | got[5]), olen - 40);
		ATF_CHECK(round == 0 || olen < len);
		ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, got, olen, 2,
		    &in, &ilen), IPSEC_HOOK_REPLACE);
		ATF_CHECK(ilen == len && memcmp(in, pkt, len) == 0);
		ipsec_hook_free(in);
	}
	/* A Fragment header among them: not protected, not sent. */
	pkt[40] = 44;
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 3, &out,
	    &olen), IPSEC_HOOK_DROP);
	ts_close(ts);
	tk_stop();
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, pass_discard_noport);
	ATF_TP_ADD_TC(tp, transport4);
	ATF_TP_ADD_TC(tp, chains);
	ATF_TP_ADD_TC(tp, ah_transport4);
	ATF_TP_ADD_TC(tp, ipcomp_transport4);
	ATF_TP_ADD_TC(tp, ipcomp_tunnel4);
	ATF_TP_ADD_TC(tp, bundle_ipcomp_esp4);
	ATF_TP_ADD_TC(tp, bundle_esp_ah4);
	ATF_TP_ADD_TC(tp, proxy_any4);
	ATF_TP_ADD_TC(tp, ipsec_if4);
	ATF_TP_ADD_TC(tp, transport6);
	ATF_TP_ADD_TC(tp, transport6_ext);
	ATF_TP_ADD_TC(tp, tunnel4);
	ATF_TP_ADD_TC(tp, natt4);
	ATF_TP_ADD_TC(tp, tamper_unknown_spi);
	ATF_TP_ADD_TC(tp, acquire_hold);
	ATF_TP_ADD_TC(tp, hold_expire);
	ATF_TP_ADD_TC(tp, level_use);
	ATF_TP_ADD_TC(tp, reass4);
	ATF_TP_ADD_TC(tp, reass6);
	ATF_TP_ADD_TC(tp, pmtu4);
	ATF_TP_ADD_TC(tp, pmtu4_dfbit);
	ATF_TP_ADD_TC(tp, pmtu6_tunnel);
	ATF_TP_ADD_TC(tp, tunnel4in6);
	return (atf_no_error());
}
