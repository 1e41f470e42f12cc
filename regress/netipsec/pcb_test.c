/*
 * Sockets' policies and the inbound checks of RFC 4301 section 5.2,
 * through the packet path's host interface (ipsec_hook.h), as an
 * attacker would try them: nothing is exempt by its port, only the
 * socket that holds a bypass policy; a forwarded packet is never a
 * socket's; and a packet that comes through an SA is taken only if the
 * policy of what it carries names that SA.  Inbound ESP is built here
 * with the NULL transform, so that any SA can be played by the test.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <atf-c.h>

#include "keytest.h"
#include <netipsec/key.h>
#include <netipsec/ipsec_hook.h>
#include <ukern/ukern_hook.h>

#define	PID	7

/* This host: 192.0.2.1; peers X .2 and Y .3 with 10.2/16, 10.3/16. */
#define	US	"192.0.2.1"
#define	PX	"192.0.2.2"
#define	PY	"192.0.2.3"

static int
spd(struct tsock *ts, const char *src, int ps, const char *dst, int pd,
    int dir, int policy, int mode, int level, int reqid, const char *tsrc,
    const char *tdst)
{
	struct pb_msg m;

	pb_init(&m, SADB_X_SPDADD, SADB_SATYPE_UNSPEC, 0, PID);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, src, 0, ps, 255);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, dst, 0, pd, 255);
	pb_policy(&m, dir, policy, 0, 0);
	if (policy == IPSEC_POLICY_IPSEC)
		pb_policy_req(&m, IPPROTO_ESP, mode, level, reqid, tsrc, tdst);
	return (ts_do(ts, &m));
}

/* An ESP SA with the NULL transform and no replay window. */
static int
nullsa(struct tsock *ts, uint32_t spi, const char *src, const char *dst,
    int mode, uint32_t reqid)
{
	struct pb_msg m;

	pb_init(&m, SADB_ADD, SADB_SATYPE_ESP, 0, PID);
	pb_sa(&m, spi, 0, SADB_AALG_NONE, SADB_EALG_NULL, 0);
	pb_sa2(&m, mode, reqid);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, src, 0, -1, 255);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, dst, 0, -1, 255);
	pb_key(&m, SADB_EXT_KEY_ENCRYPT, "", 0);	/* NULL: no key */
	return (ts_do(ts, &m));
}

static void
ip4_cksum(uint8_t *p)
{
	uint32_t sum;
	int i;

	p[10] = p[11] = 0;
	for (sum = 0, i = 0; i < 20; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	p[10] = (uint8_t)(~sum >> 8);
	p[11] = (uint8_t)~sum;
}

static void
ip4(uint8_t *p, const char *src, const char *dst, int proto, size_t len)
{

	memset(p, 0, 20);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[8] = 64;
	p[9] = (uint8_t)proto;
	inet_pton(AF_INET, src, p + 12);
	inet_pton(AF_INET, dst, p + 16);
	ip4_cksum(p);
}

/* UDP sport -> dport with 8 bytes of payload (zero: IKE's marker). */
static size_t
udp(uint8_t *p, const char *src, const char *dst, int sport, int dport)
{

	ip4(p, src, dst, IPPROTO_UDP, 36);
	memset(p + 20, 0, 16);
	p[20] = (uint8_t)(sport >> 8);
	p[21] = (uint8_t)sport;
	p[22] = (uint8_t)(dport >> 8);
	p[23] = (uint8_t)dport;
	p[25] = 16;
	return (36);
}

/*
 * ESP with the NULL transform, outer src -> dst: SPI, sequence number,
 * "pl" (an inner IP packet in tunnel mode, a UDP header and payload in
 * transport mode), padding 1, 2, ..., pad length, next header.
 */
static size_t
esp(uint8_t *p, const char *src, const char *dst, uint32_t spi,
    uint32_t seq, const uint8_t *pl, size_t pllen, int nxt)
{
	size_t len, pad, i;

	pad = (4 - (pllen + 2) % 4) % 4;
	len = 20 + 8 + pllen + pad + 2;
	ip4(p, src, dst, IPPROTO_ESP, len);
	spi = htonl(spi);
	seq = htonl(seq);
	memcpy(p + 20, &spi, 4);
	memcpy(p + 24, &seq, 4);
	memcpy(p + 28, pl, pllen);
	for (i = 0; i < pad; i++)
		p[28 + pllen + i] = (uint8_t)(i + 1);
	p[28 + pllen + pad] = (uint8_t)pad;
	p[29 + pllen + pad] = (uint8_t)nxt;
	return (len);
}

/* ESP in tunnel mode: outer src -> dst carrying inner UDP isrc -> idst. */
static int
tunnel_in(const char *src, const char *dst, uint32_t spi, uint32_t seq,
    const char *isrc, const char *idst)
{
	uint8_t inner[64], pkt[256];
	void *out;
	size_t len, olen;
	int v;

	len = udp(inner, isrc, idst, 1000, 2000);
	len = esp(pkt, src, dst, spi, seq, inner, len, 4);
	v = ukern_ipsec_hook(IPSEC_HOOK_IN, pkt, len, 1, &out, &olen);
	if (v == IPSEC_HOOK_REPLACE) {
		/* What comes out is the inner packet, whole. */
		ATF_CHECK_EQ(olen, 36);
		ATF_CHECK(memcmp(out, inner, 36) == 0);
		ipsec_hook_free(out);
	}
	return (v);
}

/* ESP in transport mode: src -> dst, UDP inside. */
static int
transport_in(const char *src, const char *dst, uint32_t spi, uint32_t seq)
{
	uint8_t inner[64], pkt[256];
	void *out;
	size_t len, olen;
	int v;

	len = udp(inner, src, dst, 1000, 2000);
	len = esp(pkt, src, dst, spi, seq, inner + 20, len - 20, IPPROTO_UDP);
	v = ukern_ipsec_hook(IPSEC_HOOK_IN, pkt, len, 1, &out, &olen);
	if (v == IPSEC_HOOK_REPLACE)
		ipsec_hook_free(out);
	return (v);
}

static int
hook(int where, const char *src, const char *dst, int sport, int dport)
{
	uint8_t pkt[64];
	void *out;
	size_t len, olen;
	int v;

	len = udp(pkt, src, dst, sport, dport);
	v = ukern_ipsec_hook(where, pkt, len, 1, &out, &olen);
	if (v == IPSEC_HOOK_REPLACE)
		ipsec_hook_free(out);
	return (v);
}

static struct ipsecstat
st(void)
{
	struct ipsecstat s;

	ipsec_getstat(&s);
	return (s);
}

/* The policy ipsec_set_policy(3) makes for "in bypass" and such. */
static size_t
xpl(uint8_t *buf, int dir, int type)
{
	struct sadb_x_policy *p = (void *)buf;

	memset(p, 0, sizeof(*p));
	p->sadb_x_policy_len = PFKEY_UNIT64(sizeof(*p));
	p->sadb_x_policy_exttype = SADB_X_EXT_POLICY;
	p->sadb_x_policy_type = (uint16_t)type;
	p->sadb_x_policy_dir = (uint8_t)dir;
	return (sizeof(*p));
}

static int
setpol(const char *addr, int port, uint64_t id, int priv, int dir, int type)
{
	struct sockaddr_storage ss;
	uint8_t buf[64];
	size_t len;

	pb_sockaddr(&ss, addr, port);
	len = xpl(buf, dir, type);
	return (ipsec_pcb_setpolicy((struct sockaddr *)&ss, IPPROTO_UDP, id,
	    PID, priv, buf, len));
}

/* The host's addresses, for sockets bound to all of them: only US. */
static int
islocal(void *arg __attribute__((__unused__)), int af, const void *addr)
{
	struct in_addr a;

	inet_pton(AF_INET, US, &a);
	return (af == AF_INET && memcmp(addr, &a, 4) == 0);
}

/* Host-to-host ESP required both ways between US and PX. */
static void
require_esp(struct tsock *ts)
{

	ATF_REQUIRE_EQ(spd(ts, US, 32, PX, 32, IPSEC_DIR_OUTBOUND,
	    IPSEC_POLICY_IPSEC, IPSEC_MODE_TRANSPORT, IPSEC_LEVEL_REQUIRE, 0,
	    NULL, NULL), 0);
	ATF_REQUIRE_EQ(spd(ts, PX, 32, US, 32, IPSEC_DIR_INBOUND,
	    IPSEC_POLICY_IPSEC, IPSEC_MODE_TRANSPORT, IPSEC_LEVEL_REQUIRE, 0,
	    NULL, NULL), 0);
}

ATF_TC_WITHOUT_HEAD(bypass_is_the_socket);
ATF_TC_BODY(bypass_is_the_socket, tc)
{
	struct tsock *ts;

	tk_start();
	ts = ts_open();
	require_esp(ts);
	/* No socket has a policy yet: IKE's ports are like any other. */
	ATF_CHECK(hook(IPSEC_HOOK_OUT, US, PX, 500, 500) != IPSEC_HOOK_PASS);
	ATF_CHECK_EQ(hook(IPSEC_HOOK_IN, PX, US, 500, 500), IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(hook(IPSEC_HOOK_IN, PX, US, 4500, 4500), IPSEC_HOOK_DROP);

	/* iked's socket, bound to US:500, bypasses both ways. */
	ATF_REQUIRE_EQ(setpol(US, 500, 11, 1, IPSEC_DIR_INBOUND,
	    IPSEC_POLICY_BYPASS), 0);
	ATF_REQUIRE_EQ(setpol(US, 500, 11, 1, IPSEC_DIR_OUTBOUND,
	    IPSEC_POLICY_BYPASS), 0);
	ATF_CHECK_EQ(hook(IPSEC_HOOK_OUT, US, PX, 500, 500), IPSEC_HOOK_PASS);
	ATF_CHECK_EQ(hook(IPSEC_HOOK_OUT, US, PX, 500, 9999), IPSEC_HOOK_PASS);
	ATF_CHECK_EQ(hook(IPSEC_HOOK_IN, PX, US, 500, 500), IPSEC_HOOK_PASS);
	ATF_CHECK_EQ(hook(IPSEC_HOOK_IN, PX, US, 9999, 500), IPSEC_HOOK_PASS);
	ATF_CHECK_EQ(st().ips_out_pcb, 2);
	ATF_CHECK_EQ(st().ips_in_pcb, 2);
	/* Nothing else: other ports, either way. */
	ATF_CHECK(hook(IPSEC_HOOK_OUT, US, PX, 4500, 500) != IPSEC_HOOK_PASS);
	ATF_CHECK(hook(IPSEC_HOOK_OUT, US, PX, 501, 500) != IPSEC_HOOK_PASS);
	ATF_CHECK_EQ(hook(IPSEC_HOOK_IN, PX, US, 500, 9999), IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(hook(IPSEC_HOOK_IN, PX, US, 500, 4500), IPSEC_HOOK_DROP);
	/* A forwarded packet is nobody's socket's. */
	ATF_CHECK(hook(IPSEC_HOOK_FWD, US, PX, 500, 500) != IPSEC_HOOK_PASS);
	/* TCP to the port is not the UDP socket's. */
	{
		uint8_t pkt[64];
		void *out;
		size_t olen, len;

		len = udp(pkt, PX, US, 500, 500);
		pkt[9] = IPPROTO_TCP;
		ip4_cksum(pkt);
		ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, pkt, len, 1, &out,
		    &olen), IPSEC_HOOK_DROP);
	}

	/* The socket closes: its exemption goes with it. */
	ATF_CHECK_EQ(ipsec_pcb_detach(12), 0);
	ATF_CHECK_EQ(hook(IPSEC_HOOK_IN, PX, US, 500, 500), IPSEC_HOOK_PASS);
	ATF_CHECK_EQ(ipsec_pcb_detach(11), 1);
	ATF_CHECK_EQ(hook(IPSEC_HOOK_IN, PX, US, 500, 500), IPSEC_HOOK_DROP);
	ATF_CHECK(hook(IPSEC_HOOK_OUT, US, PX, 500, 500) != IPSEC_HOOK_PASS);
	ts_close(ts);
	tk_stop();
}

ATF_TC_WITHOUT_HEAD(wildcard_only_local);
ATF_TC_BODY(wildcard_only_local, tc)
{
	struct tsock *ts;

	tk_start();
	ts = ts_open();
	require_esp(ts);
	/* And traffic through us to 198.51.100.0/24 behind us. */
	ATF_REQUIRE_EQ(spd(ts, PX, 32, "198.51.100.0", 24, IPSEC_DIR_INBOUND,
	    IPSEC_POLICY_IPSEC, IPSEC_MODE_TRANSPORT, IPSEC_LEVEL_REQUIRE, 0,
	    NULL, NULL), 0);
	ATF_REQUIRE_EQ(setpol("0.0.0.0", 4500, 21, 1, IPSEC_DIR_INBOUND,
	    IPSEC_POLICY_BYPASS), 0);
	/* Without the host's word, no inbound packet is a wildcard's. */
	ATF_CHECK_EQ(hook(IPSEC_HOOK_IN, PX, US, 4500, 4500), IPSEC_HOOK_DROP);
	ipsec_hook_setlocal(islocal, NULL);
	ATF_CHECK_EQ(hook(IPSEC_HOOK_IN, PX, US, 4500, 4500), IPSEC_HOOK_PASS);
	ATF_CHECK_EQ(hook(IPSEC_HOOK_IN, PX, "198.51.100.9", 4500, 4500),
	    IPSEC_HOOK_DROP);
	/* A socket bound to US:4500 itself wins over the wildcard one. */
	ATF_REQUIRE_EQ(setpol(US, 4500, 22, 0, IPSEC_DIR_INBOUND,
	    IPSEC_POLICY_DISCARD), 0);
	ATF_CHECK_EQ(hook(IPSEC_HOOK_IN, PX, US, 4500, 4500), IPSEC_HOOK_DROP);
	ipsec_hook_setlocal(NULL, NULL);
	ts_close(ts);
	tk_stop();
}

/*
 * A UDP datagram src:sport -> dst:dport of 1208 bytes after the IP
 * header, id 0x4242, as two fragments [0, 600) and [600, 1208): *whole
 * gets the datagram, f[0] and f[1] the fragments.
 */
static void
udpfrags(const char *src, const char *dst, int sport, int dport,
    uint8_t *whole, uint8_t f[2][700], size_t fl[2])
{
	size_t i;

	ip4(whole, src, dst, IPPROTO_UDP, 20 + 1208);
	whole[4] = whole[5] = 0x42;
	ip4_cksum(whole);
	whole[20] = (uint8_t)(sport >> 8);
	whole[21] = (uint8_t)sport;
	whole[22] = (uint8_t)(dport >> 8);
	whole[23] = (uint8_t)dport;
	whole[24] = 1208 >> 8;
	whole[25] = 1208 & 0xff;
	whole[26] = whole[27] = 0;		/* no UDP checksum */
	for (i = 28; i < 20 + 1208; i++)
		whole[i] = (uint8_t)(i * 7 + 1);
	memcpy(f[0], whole, 20 + 600);
	f[0][2] = (20 + 600) >> 8;
	f[0][3] = (20 + 600) & 0xff;
	f[0][6] = 0x20;				/* MF */
	ip4_cksum(f[0]);
	memcpy(f[1], whole, 20);
	memcpy(f[1] + 20, whole + 20 + 600, 608);
	f[1][2] = (20 + 608) >> 8;
	f[1][3] = (20 + 608) & 0xff;
	f[1][6] = 0;
	f[1][7] = 600 / 8;
	ip4_cksum(f[1]);
	fl[0] = 20 + 600;
	fl[1] = 20 + 608;
}

/*
 * A datagram for this host that comes in fragments (an IKEv1 message
 * with a certificate, larger than the MTU) is reassembled before its
 * policy is checked, as FreeBSD's ip_input() reassembles before
 * udp_input(): the IKE socket's bypass takes it whole, while its
 * non-first fragment alone, without ports, would meet the SPD's require.
 * Another port still meets the SPD; a forwarded datagram's fragments are
 * checked one by one, none held.
 */
ATF_TC_WITHOUT_HEAD(fragments_for_us);
ATF_TC_BODY(fragments_for_us, tc)
{
	uint8_t whole[1300], f[2][700];
	struct tsock *ts;
	void *out;
	size_t fl[2], olen;

	tk_start();
	ts = ts_open();
	require_esp(ts);
	ATF_REQUIRE_EQ(setpol(US, 500, 11, 1, IPSEC_DIR_INBOUND,
	    IPSEC_POLICY_BYPASS), 0);
	ipsec_hook_setlocal(islocal, NULL);

	/* Out of order: the last fragment is kept, the first completes. */
	udpfrags(PX, US, 500, 500, whole, f, fl);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, f[1], fl[1], 1, &out,
	    &olen), IPSEC_HOOK_DROP);
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, f[0], fl[0], 2, &out,
	    &olen), IPSEC_HOOK_REPLACE);
	ATF_CHECK_EQ(olen, 20 + 1208);
	ATF_CHECK(olen == 20 + 1208 && memcmp(out, whole, olen) == 0);
	ipsec_hook_free(out);
	ATF_CHECK_EQ(st().ips_in_reass, 1);
	ATF_CHECK_EQ(st().ips_in_pcb, 1);

	/* Not the socket's port: the whole datagram meets require. */
	udpfrags(PX, US, 500, 9999, whole, f, fl);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, f[0], fl[0], 3, &out,
	    &olen), IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, f[1], fl[1], 4, &out,
	    &olen), IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(st().ips_in_reass, 2);
	ATF_CHECK_EQ(st().ips_in_pcb, 1);

	/* Through us, in no policy: each fragment goes on as it is. */
	udpfrags(PX, "198.51.100.9", 500, 500, whole, f, fl);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, f[1], fl[1], 5, &out,
	    &olen), IPSEC_HOOK_PASS);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, f[0], fl[0], 6, &out,
	    &olen), IPSEC_HOOK_PASS);
	ATF_CHECK_EQ(st().ips_in_reass, 2);

	/* Under require, a forwarded fragment is refused, not held. */
	udpfrags(PX, "198.51.100.9", 500, 500, whole, f, fl);
	ATF_REQUIRE_EQ(spd(ts, PX, 32, "198.51.100.0", 24, IPSEC_DIR_INBOUND,
	    IPSEC_POLICY_IPSEC, IPSEC_MODE_TRANSPORT, IPSEC_LEVEL_REQUIRE, 0,
	    NULL, NULL), 0);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_IN, f[1], fl[1], 7, &out,
	    &olen), IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(st().ips_in_frag, 4);
	ipsec_hook_setlocal(NULL, NULL);
	ts_close(ts);
	tk_stop();
}

ATF_TC_WITHOUT_HEAD(policy_types);
ATF_TC_BODY(policy_types, tc)
{
	struct sockaddr_storage ss;
	struct sadb_x_policy *p;
	struct tsock *ts;
	uint8_t buf[256];
	size_t len;

	tk_start();
	ts = ts_open();
	/* Bypass, none and ipsec need privilege; discard does not. */
	ATF_CHECK_EQ(setpol(US, 7000, 31, 0, IPSEC_DIR_OUTBOUND,
	    IPSEC_POLICY_BYPASS), EACCES);
	ATF_CHECK_EQ(setpol(US, 7000, 31, 0, IPSEC_DIR_OUTBOUND,
	    IPSEC_POLICY_NONE), EACCES);
	ATF_CHECK_EQ(setpol(US, 7000, 31, 0, IPSEC_DIR_OUTBOUND,
	    IPSEC_POLICY_DISCARD), 0);
	/* A discarding socket sends nothing, whatever the (empty) SPD. */
	ATF_CHECK_EQ(hook(IPSEC_HOOK_OUT, US, PX, 7000, 53), IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(st().ips_out_polvio, 1);
	ATF_CHECK_EQ(hook(IPSEC_HOOK_IN, PX, US, 53, 7000), IPSEC_HOOK_PASS);
	/* Entrust: the SPD decides again. */
	ATF_CHECK_EQ(setpol(US, 7000, 31, 0, IPSEC_DIR_OUTBOUND,
	    IPSEC_POLICY_ENTRUST), 0);
	ATF_CHECK_EQ(hook(IPSEC_HOOK_OUT, US, PX, 7000, 53), IPSEC_HOOK_PASS);

	/* get: entrust when none is set, else what was set. */
	pb_sockaddr(&ss, US, 7000);
	len = sizeof(buf);
	ATF_REQUIRE_EQ(ipsec_pcb_getpolicy((struct sockaddr *)&ss,
	    IPPROTO_UDP, IPSEC_DIR_OUTBOUND, buf, &len), 0);
	p = (void *)buf;
	ATF_CHECK_EQ(len, sizeof(*p));
	ATF_CHECK_EQ(p->sadb_x_policy_type, IPSEC_POLICY_ENTRUST);
	ATF_REQUIRE_EQ(setpol(US, 7000, 31, 1, IPSEC_DIR_INBOUND,
	    IPSEC_POLICY_BYPASS), 0);
	len = sizeof(buf);
	ATF_REQUIRE_EQ(ipsec_pcb_getpolicy((struct sockaddr *)&ss,
	    IPPROTO_UDP, IPSEC_DIR_INBOUND, buf, &len), 0);
	ATF_CHECK_EQ(p->sadb_x_policy_type, IPSEC_POLICY_BYPASS);
	ATF_CHECK_EQ(p->sadb_x_policy_dir, IPSEC_DIR_INBOUND);
	ATF_CHECK_EQ(p->sadb_x_policy_scope, IPSEC_POLICYSCOPE_PCB);
	ATF_CHECK(p->sadb_x_policy_id != 0);
	len = 8;
	ATF_CHECK_EQ(ipsec_pcb_getpolicy((struct sockaddr *)&ss,
	    IPPROTO_UDP, IPSEC_DIR_INBOUND, buf, &len), ERANGE);
	ATF_CHECK_EQ(len, sizeof(*p));

	/* Refusals: bad length, direction, type, socket. */
	len = xpl(buf, IPSEC_DIR_INBOUND, IPSEC_POLICY_BYPASS);
	ATF_CHECK_EQ(ipsec_pcb_setpolicy((struct sockaddr *)&ss, IPPROTO_UDP,
	    31, PID, 1, buf, len - 1), EINVAL);
	p->sadb_x_policy_len = 7;
	ATF_CHECK_EQ(ipsec_pcb_setpolicy((struct sockaddr *)&ss, IPPROTO_UDP,
	    31, PID, 1, buf, len), EINVAL);
	ATF_CHECK_EQ(setpol(US, 7000, 31, 1, IPSEC_DIR_ANY,
	    IPSEC_POLICY_BYPASS), EINVAL);
	ATF_CHECK_EQ(setpol(US, 7000, 31, 1, IPSEC_DIR_INBOUND, 99), EINVAL);
	ATF_CHECK_EQ(setpol(US, 0, 31, 1, IPSEC_DIR_INBOUND,
	    IPSEC_POLICY_BYPASS), EINVAL);		/* not bound */
	len = xpl(buf, IPSEC_DIR_INBOUND, IPSEC_POLICY_BYPASS);
	ATF_CHECK_EQ(ipsec_pcb_setpolicy((struct sockaddr *)&ss, IPPROTO_ICMP,
	    31, PID, 1, buf, len), EINVAL);
	/* An ipsec policy without a request is no policy. */
	len = xpl(buf, IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC);
	ATF_CHECK_EQ(ipsec_pcb_setpolicy((struct sockaddr *)&ss, IPPROTO_UDP,
	    31, PID, 1, buf, len), EINVAL);
	ts_close(ts);
	tk_stop();
}

/* A socket's ipsec policy: its own requests, whatever the SPD says. */
ATF_TC_WITHOUT_HEAD(socket_ipsec);
ATF_TC_BODY(socket_ipsec, tc)
{
	struct sockaddr_storage ss;
	struct pb_msg m;
	struct tsock *ts;
	uint8_t pkt[64];
	void *out;
	size_t len, olen;

	tk_start();
	ts = ts_open();
	ATF_REQUIRE_EQ(nullsa(ts, 0x5001, US, PX, IPSEC_MODE_ANY, 0), 0);
	pb_init(&m, 0, 0, 0, 0);
	pb_policy(&m, IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, 0, 0);
	pb_policy_req(&m, IPPROTO_ESP, IPSEC_MODE_TRANSPORT, IPSEC_LEVEL_REQUIRE, 0,
	    NULL, NULL);
	pb_sockaddr(&ss, US, 7100);
	ATF_REQUIRE_EQ(ipsec_pcb_setpolicy((struct sockaddr *)&ss,
	    IPPROTO_UDP, 41, PID, 1, m.u.buf + sizeof(struct sadb_msg),
	    m.len - sizeof(struct sadb_msg)), 0);
	len = udp(pkt, US, PX, 7100, 53);
	ATF_REQUIRE_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 1, &out,
	    &olen), IPSEC_HOOK_REPLACE);
	ATF_CHECK_EQ(((uint8_t *)out)[9], IPPROTO_ESP);
	ipsec_hook_free(out);
	/* Another socket's packet to the same peer: the SPD's (none). */
	len = udp(pkt, US, PX, 7101, 53);
	ATF_CHECK_EQ(ukern_ipsec_hook(IPSEC_HOOK_OUT, pkt, len, 1, &out, &olen),
	    IPSEC_HOOK_PASS);
	ts_close(ts);
	tk_stop();
}

/* Sockets' policies in SPDDUMP (scope pcb), not SPDDELETE2's nor FLUSH's. */
ATF_TC_WITHOUT_HEAD(dump_scope_pcb);
ATF_TC_BODY(dump_scope_pcb, tc)
{
	struct sadb_x_policy *xp;
	struct sadb_address *sa;
	struct sockaddr_in *sin;
	struct sadb_msg *r;
	struct tsock *ts;
	struct pb_msg m;
	uint32_t pcbid = 0;
	int nglobal = 0, npcb = 0, last = 0;

	tk_start();
	ts = ts_open();
	require_esp(ts);
	ATF_REQUIRE_EQ(setpol(US, 500, 51, 1, IPSEC_DIR_INBOUND,
	    IPSEC_POLICY_BYPASS), 0);
	ts_drain(ts);
	pb_init(&m, SADB_X_SPDDUMP, SADB_SATYPE_UNSPEC, 0, PID);
	ATF_REQUIRE_EQ(ts_send(ts, &m), 0);
	while (!last && (r = ts_wait(ts, 1000)) != NULL) {
		ATF_REQUIRE_EQ(r->sadb_msg_errno, 0);
		last = r->sadb_msg_seq == 0;
		xp = tm_getext(r, SADB_X_EXT_POLICY);
		ATF_REQUIRE(xp != NULL);
		if (xp->sadb_x_policy_scope == IPSEC_POLICYSCOPE_PCB) {
			npcb++;
			pcbid = xp->sadb_x_policy_id;
			ATF_CHECK_EQ(xp->sadb_x_policy_type,
			    IPSEC_POLICY_BYPASS);
			ATF_CHECK_EQ(xp->sadb_x_policy_dir, IPSEC_DIR_INBOUND);
			/* In: from anywhere to the socket's endpoint. */
			sa = tm_getext(r, SADB_EXT_ADDRESS_DST);
			ATF_REQUIRE(sa != NULL);
			sin = (void *)(sa + 1);
			ATF_CHECK_EQ(ntohs(sin->sin_port), 500);
			ATF_CHECK_EQ(sa->sadb_address_prefixlen, 32);
			ATF_CHECK_EQ(sa->sadb_address_proto, IPPROTO_UDP);
			sa = tm_getext(r, SADB_EXT_ADDRESS_SRC);
			ATF_CHECK_EQ(sa->sadb_address_prefixlen, 0);
		} else
			nglobal++;
		free(r);
	}
	ATF_CHECK(last);
	ATF_CHECK_EQ(nglobal, 2);
	ATF_CHECK_EQ(npcb, 1);
	/* Only the socket's owner removes it. */
	pb_init(&m, SADB_X_SPDDELETE2, SADB_SATYPE_UNSPEC, 0, PID);
	pb_policy(&m, IPSEC_DIR_INBOUND, IPSEC_POLICY_BYPASS, pcbid, 0);
	ATF_CHECK_EQ(ts_do(ts, &m), EACCES);
	pb_init(&m, SADB_X_SPDFLUSH, SADB_SATYPE_UNSPEC, 0, PID);
	ATF_CHECK_EQ(ts_do(ts, &m), 0);
	ATF_CHECK_EQ(hook(IPSEC_HOOK_IN, PX, US, 500, 500), IPSEC_HOOK_PASS);
	/* The global scope alone is empty now: ENOENT. */
	ts_drain(ts);
	pb_init(&m, SADB_X_SPDDUMP, IPSEC_POLICYSCOPE_GLOBAL, 0, PID);
	ATF_CHECK_EQ(ts_do(ts, &m), ENOENT);
	ts_close(ts);
	tk_stop();
}

/*
 * Cross-tunnel injection: a packet that comes through X's SA is not
 * taken for a policy that names Y's tunnel, nor for no policy at all.
 */
ATF_TC_WITHOUT_HEAD(cross_tunnel);
ATF_TC_BODY(cross_tunnel, tc)
{
	struct tsock *ts;

	tk_start();
	ts = ts_open();
	ATF_REQUIRE_EQ(spd(ts, "10.2.0.0", 16, "10.1.0.0", 16,
	    IPSEC_DIR_INBOUND, IPSEC_POLICY_IPSEC, IPSEC_MODE_TUNNEL,
	    IPSEC_LEVEL_REQUIRE, 0, PX, US), 0);
	ATF_REQUIRE_EQ(spd(ts, "10.3.0.0", 16, "10.1.0.0", 16,
	    IPSEC_DIR_INBOUND, IPSEC_POLICY_IPSEC, IPSEC_MODE_TUNNEL,
	    IPSEC_LEVEL_REQUIRE, 0, PY, US), 0);
	ATF_REQUIRE_EQ(nullsa(ts, 0x2001, PX, US, IPSEC_MODE_TUNNEL, 0), 0);
	ATF_REQUIRE_EQ(nullsa(ts, 0x3001, PY, US, IPSEC_MODE_TUNNEL, 0), 0);

	ATF_CHECK_EQ(tunnel_in(PX, US, 0x2001, 1, "10.2.0.5", "10.1.0.5"),
	    IPSEC_HOOK_REPLACE);
	ATF_CHECK_EQ(tunnel_in(PY, US, 0x3001, 1, "10.3.0.5", "10.1.0.5"),
	    IPSEC_HOOK_REPLACE);
	/* X speaks for Y's network: refused. */
	ATF_CHECK_EQ(tunnel_in(PX, US, 0x2001, 2, "10.3.0.5", "10.1.0.5"),
	    IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(st().ips_in_sacheck, 1);
	/* The outer source does not matter: the SA (by SPI) does. */
	ATF_CHECK_EQ(tunnel_in(PY, US, 0x2001, 3, "10.3.0.5", "10.1.0.5"),
	    IPSEC_HOOK_DROP);
	/* A network no policy names does not come through a tunnel. */
	ATF_CHECK_EQ(tunnel_in(PX, US, 0x2001, 4, "10.9.0.5", "10.1.0.5"),
	    IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(tunnel_in(PX, US, 0x2001, 5, "10.2.0.5", US),
	    IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(st().ips_in_sacheck, 4);
	ATF_CHECK_EQ(st().ips_in_esp, 2);
	/* And Y's network in clear is refused as it always was. */
	ATF_CHECK_EQ(hook(IPSEC_HOOK_IN, "10.3.0.5", "10.1.0.5", 1, 2),
	    IPSEC_HOOK_DROP);
	ts_close(ts);
	tk_stop();
}

/*
 * Transport mode: an SA carries only packets between its own two
 * addresses; C's SA does not carry what claims to be A's.
 */
ATF_TC_WITHOUT_HEAD(transport_spoof);
ATF_TC_BODY(transport_spoof, tc)
{
	struct tsock *ts;

	tk_start();
	ts = ts_open();
	require_esp(ts);
	ATF_REQUIRE_EQ(nullsa(ts, 0x4001, PX, US, IPSEC_MODE_TRANSPORT, 0),
	    0);
	ATF_REQUIRE_EQ(nullsa(ts, 0x4002, PY, US, IPSEC_MODE_ANY, 0), 0);
	ATF_CHECK_EQ(transport_in(PX, US, 0x4001, 1), IPSEC_HOOK_REPLACE);
	/* Y's SA, X's address: the policy wants X's SA. */
	ATF_CHECK_EQ(transport_in(PX, US, 0x4002, 1), IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(st().ips_in_sacheck, 1);
	/* Y's own traffic has no policy: through Y's SA, as on FreeBSD. */
	ATF_CHECK_EQ(transport_in(PY, US, 0x4002, 2), IPSEC_HOOK_REPLACE);
	/* A tunnel-mode SA is not a transport one. */
	ATF_REQUIRE_EQ(nullsa(ts, 0x4003, PX, US, IPSEC_MODE_TUNNEL, 0), 0);
	ATF_CHECK_EQ(transport_in(PX, US, 0x4003, 1), IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(st().ips_in_sacheck, 2);
	ts_close(ts);
	tk_stop();
}

/* At level unique the SA is named by its reqid. */
ATF_TC_WITHOUT_HEAD(unique_reqid);
ATF_TC_BODY(unique_reqid, tc)
{
	struct tsock *ts;

	tk_start();
	ts = ts_open();
	ATF_REQUIRE_EQ(spd(ts, "10.2.0.0", 16, "10.1.0.0", 16,
	    IPSEC_DIR_INBOUND, IPSEC_POLICY_IPSEC, IPSEC_MODE_TUNNEL,
	    IPSEC_LEVEL_UNIQUE, 100, PX, US), 0);
	ATF_REQUIRE_EQ(nullsa(ts, 0x6001, PX, US, IPSEC_MODE_TUNNEL, 200), 0);
	ATF_REQUIRE_EQ(nullsa(ts, 0x6002, PX, US, IPSEC_MODE_TUNNEL, 100), 0);
	ATF_CHECK_EQ(tunnel_in(PX, US, 0x6001, 1, "10.2.0.5", "10.1.0.5"),
	    IPSEC_HOOK_DROP);
	ATF_CHECK_EQ(tunnel_in(PX, US, 0x6002, 1, "10.2.0.5", "10.1.0.5"),
	    IPSEC_HOOK_REPLACE);
	ATF_CHECK_EQ(st().ips_in_sacheck, 1);
	ts_close(ts);
	tk_stop();
}


/*
 * A property test over random SPDs, sockets' policies and SAs, against a
 * model of the rules written from FreeBSD's and RFC 4301's text (first
 * match by priority, then age; a socket's policy before the SPD's; the
 * checks of section 5.2): whatever the configuration, no packet that a
 * require policy covers is delivered or sent in clear, none is taken
 * from an SA its policy does not name, and the layer's verdict is the
 * model's for every packet.
 */
#define	NPOOL	8
static const char *const pool[NPOOL] = { US, PX, PY, "192.0.2.4",
    "10.1.0.5", "10.2.0.5", "10.3.0.5", "198.51.100.7" };
static const char *const peers[] = { PX, PY, "192.0.2.4" };
static const int ports[] = { 500, 4500, 1000 };

struct msel {
	uint32_t	addr;		/* host order */
	int		plen;
};

struct mpol {
	struct msel	src, dst;
	int		proto;		/* 255: any */
	int		dir, type, mode, level, reqid, prio, order;
	uint32_t	tsrc, tdst;	/* tunnel endpoints */
};

struct mpcb {
	uint32_t	addr;		/* 0: every address */
	int		port, dir, type;
};

struct msa {
	uint32_t	spi, src, dst;
	int		mode, reqid;
};

static uint64_t prng;

static uint32_t
rnd(uint32_t n)
{

	prng ^= prng << 13;
	prng ^= prng >> 7;
	prng ^= prng << 17;
	return ((uint32_t)(prng >> 11) % n);
}

static uint32_t
a4(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return (ntohl(a.s_addr));
}

static const char *
s4(uint32_t a, char *buf)
{
	struct in_addr in;

	in.s_addr = htonl(a);
	return (inet_ntop(AF_INET, &in, buf, 16));
}

static int
mmatch(const struct msel *s, uint32_t a)
{
	uint32_t mask;

	mask = s->plen == 0 ? 0 : 0xffffffffU << (32 - s->plen);
	return ((a & mask) == (s->addr & mask));
}

/* The model's policy of a packet: its socket's, then the SPD's first. */
static const struct mpol *
mlookup(const struct mpol *pol, int npol, const struct mpcb *pcb, int npcb,
    int where, uint32_t src, uint32_t dst, int proto, int sport, int dport,
    int *pcbtype)
{
	const struct mpol *best;
	int i, dir, port;
	uint32_t me;

	*pcbtype = -1;
	dir = where == IPSEC_HOOK_IN ? IPSEC_DIR_INBOUND : IPSEC_DIR_OUTBOUND;
	if (where != IPSEC_HOOK_FWD && proto == IPPROTO_UDP) {
		me = dir == IPSEC_DIR_OUTBOUND ? src : dst;
		port = dir == IPSEC_DIR_OUTBOUND ? sport : dport;
		/* The socket bound to the address itself, else the wildcard. */
		for (i = 0; i < npcb; i++)
			if (pcb[i].addr == me && pcb[i].port == port)
				break;
		if (i == npcb && (dir == IPSEC_DIR_OUTBOUND || me == a4(US)))
			for (i = 0; i < npcb; i++)
				if (pcb[i].addr == 0 && pcb[i].port == port)
					break;
		if (i < npcb && pcb[i].dir == dir) {
			*pcbtype = pcb[i].type;
			return (NULL);
		}
	}
	best = NULL;
	for (i = 0; i < npol; i++) {
		if (pol[i].dir != dir || !mmatch(&pol[i].src, src) ||
		    !mmatch(&pol[i].dst, dst) ||
		    (pol[i].proto != 255 && pol[i].proto != proto))
			continue;
		if (best == NULL || pol[i].prio < best->prio ||
		    (pol[i].prio == best->prio && pol[i].order < best->order))
			best = &pol[i];
	}
	return (best);
}

static int
mlevel(const struct mpol *p)
{

	return (p->level == IPSEC_LEVEL_DEFAULT ? IPSEC_LEVEL_USE : p->level);
}

/* Does policy p's request name SA s (RFC 4301 5.2)? */
static int
mnames(const struct mpol *p, const struct msa *s, int tunnel)
{

	if (p->mode != (tunnel ? IPSEC_MODE_TUNNEL : IPSEC_MODE_TRANSPORT))
		return (0);
	if (s->mode != IPSEC_MODE_ANY && s->mode != p->mode)
		return (0);
	if (p->mode == IPSEC_MODE_TUNNEL && (p->tsrc != s->src ||
	    p->tdst != s->dst))
		return (0);
	if (mlevel(p) == IPSEC_LEVEL_UNIQUE && p->reqid != s->reqid)
		return (0);
	return (1);
}

static void
msel_random(struct msel *s)
{

	switch (rnd(3)) {
	case 0:
		s->addr = a4(pool[rnd(NPOOL)]);
		s->plen = 32;
		break;
	case 1:
		s->addr = a4(pool[rnd(NPOOL)]) & 0xffff0000U;
		s->plen = 16;
		break;
	default:
		s->addr = 0;
		s->plen = 0;
		break;
	}
}

static void
prop_scenario(uint64_t seed)
{
	static const int levels[] = { IPSEC_LEVEL_DEFAULT, IPSEC_LEVEL_USE,
	    IPSEC_LEVEL_REQUIRE, IPSEC_LEVEL_UNIQUE };
	struct mpol pol[16];
	struct mpcb pcb[3];
	struct msa sa[6];
	const struct mpol *p;
	struct tsock *ts;
	struct pb_msg m;
	uint8_t inner[64], pkt[256];
	char b1[16], b2[16], b3[16], b4[16], why[256];
	uint32_t src, dst, isrc, idst, seq;
	void *out;
	size_t len, olen;
	int npol, npcb, nsa, i, k, v, want, where, sport, dport, tunnel;
	int pcbtype, nxt, proto, mode, names;

	prng = seed * 0x9e3779b97f4a7c15ULL + 1;
	tk_start();
	ipsec_hook_setlocal(islocal, NULL);
	ts = ts_open();
	npol = 0;
	for (i = (int)rnd(10); i > 0; i--) {
		p = &pol[npol];
		memset(&pol[npol], 0, sizeof(pol[npol]));
		msel_random(&pol[npol].src);
		msel_random(&pol[npol].dst);
		pol[npol].proto = rnd(2) ? 255 : IPPROTO_UDP;
		pol[npol].dir = rnd(2) ? IPSEC_DIR_INBOUND : IPSEC_DIR_OUTBOUND;
		pol[npol].type = (int[]){ IPSEC_POLICY_DISCARD,
		    IPSEC_POLICY_NONE, IPSEC_POLICY_IPSEC,
		    IPSEC_POLICY_IPSEC }[rnd(4)];
		pol[npol].mode = rnd(2) ? IPSEC_MODE_TUNNEL :
		    IPSEC_MODE_TRANSPORT;
		pol[npol].level = levels[rnd(4)];
		pol[npol].reqid = pol[npol].level == IPSEC_LEVEL_UNIQUE ?
		    1 + (int)rnd(3) : 0;
		pol[npol].prio = (int)rnd(3);
		pol[npol].order = npol;
		if (pol[npol].dir == IPSEC_DIR_INBOUND) {
			pol[npol].tsrc = a4(peers[rnd(3)]);
			pol[npol].tdst = a4(US);
		} else {
			pol[npol].tsrc = a4(US);
			pol[npol].tdst = a4(peers[rnd(3)]);
		}
		pb_init(&m, SADB_X_SPDADD, SADB_SATYPE_UNSPEC, 0, PID);
		pb_addr(&m, SADB_EXT_ADDRESS_SRC, s4(p->src.addr, b1), 0,
		    p->src.plen, p->proto);
		pb_addr(&m, SADB_EXT_ADDRESS_DST, s4(p->dst.addr, b2), 0,
		    p->dst.plen, p->proto);
		pb_policy(&m, p->dir, p->type, 0, (uint32_t)p->prio);
		if (p->type == IPSEC_POLICY_IPSEC)
			pb_policy_req(&m, IPPROTO_ESP, p->mode, p->level, p->reqid,
			    p->mode == IPSEC_MODE_TUNNEL ? s4(p->tsrc, b3) :
			    NULL, p->mode == IPSEC_MODE_TUNNEL ?
			    s4(p->tdst, b4) : NULL);
		v = ts_do(ts, &m);
		if (v == EEXIST)
			continue;	/* same selector: not in the model */
		ATF_REQUIRE_EQ_MSG(v, 0, "seed %ju: SPDADD", (uintmax_t)seed);
		npol++;
	}
	npcb = 0;
	for (i = (int)rnd(3); i > 0; i--) {
		pcb[npcb].addr = rnd(2) ? a4(US) : 0;
		pcb[npcb].port = ports[rnd(2)];
		pcb[npcb].dir = rnd(2) ? IPSEC_DIR_INBOUND :
		    IPSEC_DIR_OUTBOUND;
		pcb[npcb].type = rnd(2) ? IPSEC_POLICY_BYPASS :
		    IPSEC_POLICY_DISCARD;
		for (k = 0; k < npcb; k++)
			if (pcb[k].addr == pcb[npcb].addr &&
			    pcb[k].port == pcb[npcb].port)
				break;
		if (k < npcb)
			continue;	/* one socket per endpoint */
		ATF_REQUIRE_EQ(setpol(s4(pcb[npcb].addr, b1), pcb[npcb].port,
		    (uint64_t)(100 + npcb), 1, pcb[npcb].dir,
		    pcb[npcb].type), 0);
		npcb++;
	}
	nsa = 0;
	for (i = 1 + (int)rnd(5); i > 0; i--) {
		sa[nsa].spi = 0x1000 + (uint32_t)nsa;
		sa[nsa].src = a4(rnd(4) ? peers[rnd(3)] : pool[rnd(NPOOL)]);
		sa[nsa].dst = a4(US);
		sa[nsa].mode = (int[]){ IPSEC_MODE_ANY, IPSEC_MODE_TRANSPORT,
		    IPSEC_MODE_TUNNEL }[rnd(3)];
		sa[nsa].reqid = (int)rnd(4);
		ATF_REQUIRE_EQ(nullsa(ts, sa[nsa].spi, s4(sa[nsa].src, b1),
		    US, sa[nsa].mode, (uint32_t)sa[nsa].reqid), 0);
		nsa++;
	}
	/* Outbound SAs too, from us, some of them. */
	for (i = 0; i < 3; i++)
		if (rnd(2))
			ATF_REQUIRE_EQ(nullsa(ts, 0x2000 + (uint32_t)i, US,
			    peers[i], rnd(2) ? IPSEC_MODE_TUNNEL :
			    IPSEC_MODE_ANY, 0), 0);

	seq = 1;
	for (k = 0; k < 80; k++) {
		where = IPSEC_HOOK_IN;
		sport = ports[rnd(3)];
		dport = ports[rnd(3)];
		switch (rnd(3)) {
		case 0:		/* in clear, to us or through us */
			src = a4(pool[1 + rnd(NPOOL - 1)]);
			dst = a4(pool[rnd(2) ? 0 : 4 + rnd(4)]);
			len = udp(pkt, s4(src, b1), s4(dst, b2), sport, dport);
			v = ukern_ipsec_hook(IPSEC_HOOK_IN, pkt, len, 1, &out,
			    &olen);
			p = mlookup(pol, npol, pcb, npcb, IPSEC_HOOK_IN, src,
			    dst, IPPROTO_UDP, sport, dport, &pcbtype);
			want = IPSEC_HOOK_PASS;
			if (pcbtype == IPSEC_POLICY_DISCARD ||
			    (p != NULL && p->type == IPSEC_POLICY_DISCARD) ||
			    (p != NULL && p->type == IPSEC_POLICY_IPSEC &&
			    mlevel(p) != IPSEC_LEVEL_USE))
				want = IPSEC_HOOK_DROP;
			snprintf(why, sizeof(why), "in clear %s:%d -> %s:%d",
			    b1, sport, b2, dport);
			break;
		case 1:		/* through one of the SAs */
			i = (int)rnd((uint32_t)nsa);
			tunnel = (int)rnd(2);
			isrc = a4(pool[1 + rnd(NPOOL - 1)]);
			idst = a4(pool[rnd(2) ? 0 : 4 + rnd(4)]);
			src = rnd(3) ? sa[i].src : a4(pool[1 + rnd(NPOOL - 1)]);
			dst = a4(US);
			if (tunnel) {
				len = udp(inner, s4(isrc, b1), s4(idst, b2),
				    sport, dport);
				nxt = 4;
			} else {
				len = udp(inner, s4(src, b1), s4(dst, b2),
				    sport, dport) - 20;
				memmove(inner, inner + 20, len);
				nxt = IPPROTO_UDP;
			}
			len = esp(pkt, s4(src, b3), US, sa[i].spi, seq++, inner,
			    len, nxt);
			v = ukern_ipsec_hook(IPSEC_HOOK_IN, pkt, len, 1, &out,
			    &olen);
			/* What the layer sees once ESP is off. */
			mode = nxt == 4 && sa[i].mode != IPSEC_MODE_TRANSPORT;
			if (mode) {
				proto = IPPROTO_UDP;
			} else {
				isrc = src;
				idst = dst;
				proto = nxt;
			}
			p = mlookup(pol, npol, pcb, npcb, IPSEC_HOOK_IN, isrc,
			    idst, proto, sport, dport, &pcbtype);
			names = p != NULL && p->type == IPSEC_POLICY_IPSEC &&
			    mnames(p, &sa[i], mode);
			want = IPSEC_HOOK_DROP;
			if (!mode && (src != sa[i].src || dst != sa[i].dst))
				want = IPSEC_HOOK_DROP;
			else if (pcbtype == IPSEC_POLICY_BYPASS)
				want = IPSEC_HOOK_REPLACE;
			else if (pcbtype == IPSEC_POLICY_DISCARD)
				want = IPSEC_HOOK_DROP;
			else if (p == NULL || p->type == IPSEC_POLICY_NONE)
				want = mode ? IPSEC_HOOK_DROP :
				    IPSEC_HOOK_REPLACE;
			else if (names)
				want = IPSEC_HOOK_REPLACE;
			snprintf(why, sizeof(why), "through SA 0x%x (%s, mode "
			    "%d, reqid %d) %s %s -> %s", sa[i].spi,
			    s4(sa[i].src, b4), sa[i].mode, sa[i].reqid,
			    mode ? "tunnel" : "transport", s4(isrc, b1),
			    s4(idst, b2));
			/* The properties, whatever the model says. */
			if (v == IPSEC_HOOK_REPLACE && p != NULL &&
			    p->type == IPSEC_POLICY_IPSEC &&
			    pcbtype != IPSEC_POLICY_BYPASS)
				ATF_CHECK_MSG(names, "seed %ju: %s: taken "
				    "from an SA its policy does not name",
				    (uintmax_t)seed, why);
			break;
		default:	/* ours, out */
			src = a4(US);
			dst = a4(pool[1 + rnd(NPOOL - 1)]);
			len = udp(pkt, US, s4(dst, b2), sport, dport);
			where = IPSEC_HOOK_OUT;
			v = ukern_ipsec_hook(where, pkt, len, 1, &out, &olen);
			p = mlookup(pol, npol, pcb, npcb, where, src, dst,
			    IPPROTO_UDP, sport, dport, &pcbtype);
			snprintf(why, sizeof(why), "out %s:%d -> %s:%d", US,
			    sport, b2, dport);
			if (v == IPSEC_HOOK_REPLACE) {
				/* Only ever ESP on the wire. */
				ATF_CHECK_MSG(((uint8_t *)out)[9] ==
				    IPPROTO_ESP, "seed %ju: %s: sent as %u",
				    (uintmax_t)seed, why,
				    ((uint8_t *)out)[9]);
				ipsec_hook_free(out);
			}
			if (pcbtype == IPSEC_POLICY_BYPASS)
				want = IPSEC_HOOK_PASS;
			else if (pcbtype == IPSEC_POLICY_DISCARD ||
			    (p != NULL && p->type == IPSEC_POLICY_DISCARD))
				want = IPSEC_HOOK_DROP;
			else if (p == NULL || p->type == IPSEC_POLICY_NONE)
				want = IPSEC_HOOK_PASS;
			else {
				/* ESP or nothing; in clear only at use. */
				ATF_CHECK_MSG(v != IPSEC_HOOK_PASS ||
				    mlevel(p) == IPSEC_LEVEL_USE,
				    "seed %ju: %s: in clear under require",
				    (uintmax_t)seed, why);
				continue;
			}
			break;
		}
		if (v == IPSEC_HOOK_REPLACE && where != IPSEC_HOOK_OUT)
			ipsec_hook_free(out);
		ATF_CHECK_MSG(v == want, "seed %ju: %s: verdict %d, the model "
		    "says %d", (uintmax_t)seed, why, v, want);
		if (v != want)
			break;
	}
	ipsec_hook_setlocal(NULL, NULL);
	ts_close(ts);
	tk_stop();
}

ATF_TC(property);
ATF_TC_HEAD(property, tc)
{
	atf_tc_set_md_var(tc, "descr", "random SPDs, sockets' policies and "
	    "SAs: no clear text under require, no packet from an SA its "
	    "policy does not name, the verdicts of a model");
}
ATF_TC_BODY(property, tc)
{
	uint64_t seed;

	for (seed = 1; seed <= 400; seed++)
		prop_scenario(seed);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, bypass_is_the_socket);
	ATF_TP_ADD_TC(tp, wildcard_only_local);
	ATF_TP_ADD_TC(tp, fragments_for_us);
	ATF_TP_ADD_TC(tp, policy_types);
	ATF_TP_ADD_TC(tp, socket_ipsec);
	ATF_TP_ADD_TC(tp, dump_scope_pcb);
	ATF_TP_ADD_TC(tp, cross_tunnel);
	ATF_TP_ADD_TC(tp, transport_spoof);
	ATF_TP_ADD_TC(tp, unique_reqid);
	ATF_TP_ADD_TC(tp, property);
	return (atf_no_error());
}
