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

#include "keytest.h"
#include <netipsec/key.h>
#include <netipsec/ipsec_hook.h>

#define	PID	7

static const uint8_t gcmkey[20] = "0123456789abcdefSALT";

static int
call(struct tsock *ts, struct tmsg *m)
{
	struct sadb_msg *r;
	int e;

	e = ts_call(ts, m, &r);
	free(r);
	return (e);
}

static int
spd(struct tsock *ts, const char *src, int ps, const char *dst, int pd,
    int dir, int policy, int mode, int level, const char *tsrc,
    const char *tdst)
{
	struct tmsg m;

	tm_init(&m, SADB_X_SPDADD, SADB_SATYPE_UNSPEC, 0, PID);
	tm_addr(&m, SADB_EXT_ADDRESS_SRC, src, 0, ps, 255);
	tm_addr(&m, SADB_EXT_ADDRESS_DST, dst, 0, pd, 255);
	tm_pol(&m, dir, policy, 0, 0);
	if (policy == IPSEC_POLICY_IPSEC)
		tm_req(&m, IPPROTO_ESP, mode, level, 0, tsrc, tdst);
	tm_pol_end(&m);
	return (call(ts, &m));
}

static int
sa(struct tsock *ts, uint32_t spi, const char *src, const char *dst)
{
	struct tmsg m;

	tm_init(&m, SADB_ADD, SADB_SATYPE_ESP, 0, PID);
	tm_sa(&m, spi, 8, SADB_AALG_NONE, SADB_X_EALG_AESGCM16, 0);
	tm_addr(&m, SADB_EXT_ADDRESS_SRC, src, 0, -1, 255);
	tm_addr(&m, SADB_EXT_ADDRESS_DST, dst, 0, -1, 255);
	tm_key(&m, SADB_EXT_KEY_ENCRYPT, gcmkey, sizeof(gcmkey));
	return (call(ts, &m));
}

/* As sa(), with NAT-T: UDP encapsulation on sport -> dport. */
static int
sa_natt(struct tsock *ts, uint32_t spi, const char *src, const char *dst,
    int sport, int dport)
{
	struct sadb_x_nat_t_type *t;
	struct sadb_x_nat_t_port *p;
	struct tmsg m;

	tm_init(&m, SADB_ADD, SADB_SATYPE_ESP, 0, PID);
	tm_sa(&m, spi, 8, SADB_AALG_NONE, SADB_X_EALG_AESGCM16, 0);
	tm_addr(&m, SADB_EXT_ADDRESS_SRC, src, 0, -1, 255);
	tm_addr(&m, SADB_EXT_ADDRESS_DST, dst, 0, -1, 255);
	tm_key(&m, SADB_EXT_KEY_ENCRYPT, gcmkey, sizeof(gcmkey));
	t = tm_ext(&m, sizeof(*t), SADB_X_EXT_NAT_T_TYPE);
	t->sadb_x_nat_t_type_type = UDP_ENCAP_ESPINUDP;
	p = tm_ext(&m, sizeof(*p), SADB_X_EXT_NAT_T_SPORT);
	p->sadb_x_nat_t_port_port = htons(sport);
	p = tm_ext(&m, sizeof(*p), SADB_X_EXT_NAT_T_DPORT);
	p->sadb_x_nat_t_port_port = htons(dport);
	return (call(ts, &m));
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

ATF_TC_WITHOUT_HEAD(pass_discard_ike);
ATF_TC_BODY(pass_discard_ike, tc)
{
	uint8_t pkt[256];
	struct tsock *ts;
	void *out;
	size_t len, olen;

	tk_start();
	ts = ts_open();
	len = udp4(pkt, "192.0.2.1", "192.0.2.2", 1000, 2000, 10);
	ATF_CHECK_EQ(ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 1, &out, &olen),
	    IPSEC_HOOK_PASS);
	ATF_REQUIRE_EQ(spd(ts, "192.0.2.1", 32, "192.0.2.2", 32,
	    IPSEC_DIR_OUTBOUND, IPSEC_POLICY_DISCARD, 0, 0, NULL, NULL), 0);
	ATF_CHECK_EQ(ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 1, &out, &olen),
	    IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(stat_now().ips_out_polvio, 1);
	/* IKE is never touched, whatever the policy. */
	len = udp4(pkt, "192.0.2.1", "192.0.2.2", 500, 500, 10);
	ATF_CHECK_EQ(ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 1, &out, &olen),
	    IPSEC_HOOK_PASS);
	/* Inbound plaintext where ESP is required is a policy violation. */
	ATF_REQUIRE_EQ(spd(ts, "192.0.2.2", 32, "192.0.2.1", 32,
	    IPSEC_DIR_INBOUND, IPSEC_POLICY_IPSEC, IPSEC_MODE_TRANSPORT,
	    IPSEC_LEVEL_REQUIRE, NULL, NULL), 0);
	len = udp4(pkt, "192.0.2.2", "192.0.2.1", 1000, 2000, 10);
	ATF_CHECK_EQ(ipsec_hook(IPSEC_HOOK_IN, pkt, len, 1, &out, &olen),
	    IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(stat_now().ips_in_polvio, 1);
	len = udp4(pkt, "192.0.2.2", "192.0.2.1", 4500, 4500, 10);
	memset(pkt + 28, 0, 4);		/* non-ESP marker: IKE */
	ATF_CHECK_EQ(ipsec_hook(IPSEC_HOOK_IN, pkt, len, 1, &out, &olen),
	    IPSEC_HOOK_PASS);
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

	ATF_REQUIRE_EQ(ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 1, &out, &olen),
	    IPSEC_HOOK_REPLACE);
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

	ATF_REQUIRE_EQ(ipsec_hook(IPSEC_HOOK_IN, esp, olen, 2, &in, &ilen),
	    IPSEC_HOOK_REPLACE);
	ATF_REQUIRE_EQ(ilen, len);
	ATF_CHECK(memcmp(in, pkt, len) == 0);
	ipsec_hook_free(in);

	/* The same packet again is a replay. */
	ATF_CHECK_EQ(ipsec_hook(IPSEC_HOOK_IN, copy, olen, 3, &in, &ilen),
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
	ATF_REQUIRE_EQ(ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 1, &out, &olen),
	    IPSEC_HOOK_REPLACE);
	u = out;
	/* RFC 3948: IP, UDP 14500 -> 4500, then ESP (SPI, not a zero marker). */
	ATF_CHECK_EQ(u[9], IPPROTO_UDP);
	ATF_CHECK_EQ(u[20] << 8 | u[21], 14500);
	ATF_CHECK_EQ(u[22] << 8 | u[23], 4500);
	ATF_CHECK_EQ((size_t)(u[24] << 8 | u[25]), olen - 20);
	ATF_CHECK_EQ(ntohl(*(uint32_t *)(void *)(u + 28)), 0x1001);
	ATF_CHECK_EQ(cksum(u, 20), 0);
	/* Back in, as the peer receives it on its port 4500. */
	ATF_REQUIRE_EQ(ipsec_hook(IPSEC_HOOK_IN, out, olen, 2, &in, &ilen),
	    IPSEC_HOOK_REPLACE);
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
	ATF_CHECK_EQ(ipsec_hook(IPSEC_HOOK_IN, u, olen - 8, 3, &in, &ilen),
	    IPSEC_HOOK_DROP);
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
	ATF_REQUIRE_EQ(ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 1, &out, &olen),
	    IPSEC_HOOK_REPLACE);
	memcpy(bad, out, olen);
	bad[olen - 1] ^= 1;			/* the ICV */
	ATF_CHECK_EQ(ipsec_hook(IPSEC_HOOK_IN, bad, olen, 1, &in, &ilen),
	    IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(stat_now().ips_in_espfail, 1);
	memcpy(bad, out, olen);
	bad[23] ^= 0x40;			/* the SPI */
	ATF_CHECK_EQ(ipsec_hook(IPSEC_HOOK_IN, bad, olen, 1, &in, &ilen),
	    IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(stat_now().ips_in_nosa, 1);
	/* The untouched packet still passes: failures did not move it. */
	ATF_CHECK_EQ(ipsec_hook(IPSEC_HOOK_IN, out, olen, 1, &in, &ilen),
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
release(void *arg, uint64_t cookie, int verdict, const void *pkt,
    size_t len)
{
	const uint8_t *p = pkt;

	(void)arg;
	pthread_mutex_lock(&rel_mtx);
	if (rel_n < 16) {
		rel_cookie[rel_n] = cookie;
		rel_verdict[rel_n] = verdict;
		rel_seq[rel_n] = (p != NULL && len >= 28) ?
		    ntohl(*(const uint32_t *)(const void *)(p + 24)) : 0;
		rel_n++;
	}
	pthread_mutex_unlock(&rel_mtx);
}

ATF_TC_WITHOUT_HEAD(acquire_hold);
ATF_TC_BODY(acquire_hold, tc)
{
	uint8_t pkt[256];
	struct tsock *ts, *ike;
	struct sadb_msg *r;
	struct tmsg m;
	void *out;
	size_t len, olen;
	int i, nacq;

	tk_start();
	ipsec_hook_setrelease(release, NULL);
	ATF_REQUIRE_EQ(key_sysctl_set("net.inet.ipsec.acq_hold", 3), 0);
	ts = ts_open();
	ike = ts_open();
	tm_init(&m, SADB_REGISTER, SADB_SATYPE_ESP, 0, PID);
	ATF_REQUIRE_EQ(call(ike, &m), 0);
	ATF_REQUIRE_EQ(spd(ts, "192.0.2.1", 32, "192.0.2.2", 32,
	    IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, IPSEC_MODE_TRANSPORT,
	    IPSEC_LEVEL_REQUIRE, NULL, NULL), 0);
	ts_drain(ike);

	len = udp4(pkt, "192.0.2.1", "192.0.2.2", 1000, 2000, 20);
	for (i = 0; i < 3; i++)
		ATF_CHECK_EQ(ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 100 + i,
		    &out, &olen), IPSEC_HOOK_HELD);
	/* The fourth finds the queue for this SA index full. */
	ATF_CHECK_EQ(ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 103, &out, &olen),
	    IPSEC_HOOK_DROP);
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
	ATF_CHECK_EQ(ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 7, &out, &olen),
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
	struct tmsg m;
	void *out;
	size_t len, olen;

	tk_start();
	ts = ts_open();
	ike = ts_open();
	tm_init(&m, SADB_REGISTER, SADB_SATYPE_ESP, 0, PID);
	ATF_REQUIRE_EQ(call(ike, &m), 0);
	ATF_REQUIRE_EQ(spd(ts, "192.0.2.1", 32, "192.0.2.2", 32,
	    IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, IPSEC_MODE_TRANSPORT,
	    IPSEC_LEVEL_USE, NULL, NULL), 0);
	ts_drain(ike);
	len = udp4(pkt, "192.0.2.1", "192.0.2.2", 1000, 2000, 20);
	/* "use": in clear without an SA, but the ACQUIRE still goes. */
	ATF_CHECK_EQ(ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 1, &out, &olen),
	    IPSEC_HOOK_PASS);
	r = ts_recv(ike);
	ATF_REQUIRE(r != NULL);
	ATF_CHECK_EQ(r->sadb_msg_type, SADB_ACQUIRE);
	free(r);
	ts_close(ike);
	ts_close(ts);
	tk_stop();
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, pass_discard_ike);
	ATF_TP_ADD_TC(tp, transport4);
	ATF_TP_ADD_TC(tp, transport6);
	ATF_TP_ADD_TC(tp, tunnel4);
	ATF_TP_ADD_TC(tp, natt4);
	ATF_TP_ADD_TC(tp, tamper_unknown_spi);
	ATF_TP_ADD_TC(tp, acquire_hold);
	ATF_TP_ADD_TC(tp, hold_expire);
	ATF_TP_ADD_TC(tp, level_use);
	return (atf_no_error());
}
