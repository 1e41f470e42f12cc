/*
 * libFuzzer target: packets from the network through the packet path
 * (ipsec_hook), inbound and outbound, against an engine holding a
 * transport policy pair, a tunnel policy pair and their SAs (one with
 * NAT-T), so that the fuzzer reaches ESP decapsulation and the policy
 * checks, fragment reassembly (of ESP, and of anything for the two
 * addresses the host calls its own) and path MTU (small MTUs from the
 * host), AH (an SA whose null ICV the fuzzer can forge) bundled with
 * IPComp (whose deflate streams the fuzzer writes), null AH over IPv6
 * after extension headers, and an if_ipsec(4) interface (what comes out
 * of its tunnel's null-ESP SA, and what is routed into it).  The first
 * input byte picks the direction (modulo 3; 0xfe: into the interface)
 * and how the packet lies in mbufs (the rest: flat, split, a byte per
 * mbuf).
 */
#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../netipsec/keytest.h"
#include <netipsec/key.h>
#include <netipsec/ipsec_hook.h>
#include <netipsec/ipcomp.h>
#include <ukern/ukern_hook.h>
#include "../lib/mchain.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
release(void *arg, uint64_t cookie, int verdict, struct mbuf *m)
{

	(void)arg;
	(void)cookie;
	(void)verdict;
	if (m != NULL)
		ukern_m_freem(m);
}

/* What comes out of the interface's tunnel. */
static void
ifinput(void *arg, unsigned int ifindex, struct mbuf *m)
{

	(void)arg;
	(void)ifindex;
	ukern_m_freem(m);
}

/* The host's raw output and MTU: path MTU and family changes reached. */
static int
hostsend(void *arg, const void *pkt, size_t len)
{

	(void)arg;
	(void)pkt;
	(void)len;
	return (0);
}

static unsigned int
hostmtu(void *arg, int af, const void *dst)
{

	(void)arg;
	(void)dst;
	return (af == AF_INET ? 576 : 1280);
}

/* Ours: 192.0.2.2 and 198.51.100.2, so their fragments are reassembled. */
static int
hostlocal(void *arg, int af, const void *addr)
{
	static const uint8_t a[4] = { 192, 0, 2, 2 }, b[4] = { 198, 51, 100, 2 };

	(void)arg;
	return (af == AF_INET && (memcmp(addr, a, 4) == 0 ||
	    memcmp(addr, b, 4) == 0));
}

static void
setup(void)
{
	struct sadb_x_nat_t_type *t;
	struct sadb_x_nat_t_port *p;
	struct sadb_msg *r;
	struct tsock *ts;
	struct pb_msg m;
	int dir;

	tk_start();
	ipsec_hook_setrelease(release, NULL);
	ipsec_hook_sethost(hostsend, hostmtu, NULL);
	ipsec_hook_setlocal(hostlocal, NULL);
	ipsec_hook_setifinput(ifinput, NULL);
	ts = ts_open();
	for (dir = IPSEC_DIR_INBOUND; dir <= IPSEC_DIR_OUTBOUND; dir++) {
		pb_init(&m, SADB_X_SPDADD, SADB_SATYPE_UNSPEC, 0, 1);
		pb_addr(&m, SADB_EXT_ADDRESS_SRC, "192.0.2.1", 0, 32, 255);
		pb_addr(&m, SADB_EXT_ADDRESS_DST, "192.0.2.2", 0, 32, 255);
		pb_policy(&m, dir, IPSEC_POLICY_IPSEC, 0, 0);
		pb_policy_req(&m, IPPROTO_ESP, IPSEC_MODE_TRANSPORT,
		    IPSEC_LEVEL_REQUIRE, 0, NULL, NULL);
		(void)ts_call(ts, &m, &r);
		free(r);
		pb_init(&m, SADB_X_SPDADD, SADB_SATYPE_UNSPEC, 0, 1);
		pb_addr(&m, SADB_EXT_ADDRESS_SRC, "10.1.0.0", 0, 16, 255);
		pb_addr(&m, SADB_EXT_ADDRESS_DST, "10.2.0.0", 0, 16, 255);
		pb_policy(&m, dir, IPSEC_POLICY_IPSEC, 0, 0);
		pb_policy_req(&m, IPPROTO_ESP, IPSEC_MODE_TUNNEL,
		    IPSEC_LEVEL_REQUIRE, 0, "198.51.100.1", "198.51.100.2");
		(void)ts_call(ts, &m, &r);
		free(r);
	}
	pb_init(&m, SADB_ADD, SADB_SATYPE_ESP, 0, 1);
	pb_sa(&m, 0x1001, 32, SADB_AALG_NONE, SADB_X_EALG_AESGCM16, 0);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, "192.0.2.1", 0, -1, 255);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, "192.0.2.2", 0, -1, 255);
	pb_key(&m, SADB_EXT_KEY_ENCRYPT, "0123456789abcdefSALT", 20);
	(void)ts_call(ts, &m, &r);
	free(r);
	/* NULL encryption: the fuzzer can forge what decrypts. */
	pb_init(&m, SADB_ADD, SADB_SATYPE_ESP, 0, 1);
	pb_sa(&m, 0x1002, 32, SADB_AALG_NONE, SADB_EALG_NULL, 0);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, "198.51.100.1", 0, -1, 255);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, "198.51.100.2", 0, -1, 255);
	pb_key(&m, SADB_EXT_KEY_ENCRYPT, "", 0);
	t = pb_ext(&m, SADB_X_EXT_NAT_T_TYPE, sizeof(*t));
	t->sadb_x_nat_t_type_type = UDP_ENCAP_ESPINUDP;
	p = pb_ext(&m, SADB_X_EXT_NAT_T_SPORT, sizeof(*p));
	p->sadb_x_nat_t_port_port = 0x9411;
	p = pb_ext(&m, SADB_X_EXT_NAT_T_DPORT, sizeof(*p));
	p->sadb_x_nat_t_port_port = 0x9411;
	(void)ts_call(ts, &m, &r);
	free(r);
	/*
	 * A bundle, IPComp then AH: a policy pair 203.0.113.1 <-> .2 in
	 * transport mode, an IPComp SA, and an AH SA with the null
	 * authenticator, whose ICV (12 zero bytes) the fuzzer can forge, so
	 * that it reaches what follows the check: decompression, the next
	 * layer, the history check.
	 */
	for (dir = IPSEC_DIR_INBOUND; dir <= IPSEC_DIR_OUTBOUND; dir++) {
		pb_init(&m, SADB_X_SPDADD, SADB_SATYPE_UNSPEC, 0, 1);
		pb_addr(&m, SADB_EXT_ADDRESS_SRC, "203.0.113.1", 0, 32, 255);
		pb_addr(&m, SADB_EXT_ADDRESS_DST, "203.0.113.2", 0, 32, 255);
		pb_policy(&m, dir, IPSEC_POLICY_IPSEC, 0, 0);
		pb_policy_req(&m, IPPROTO_IPCOMP, IPSEC_MODE_TRANSPORT,
		    IPSEC_LEVEL_REQUIRE, 0, NULL, NULL);
		pb_policy_req(&m, IPPROTO_AH, IPSEC_MODE_TRANSPORT,
		    IPSEC_LEVEL_REQUIRE, 0, NULL, NULL);
		(void)ts_call(ts, &m, &r);
		free(r);
	}
	pb_init(&m, SADB_ADD, SADB_SATYPE_AH, 0, 1);
	pb_sa(&m, 0x1003, 32, SADB_X_AALG_NULL, SADB_EALG_NONE, 0);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, "203.0.113.1", 0, -1, 255);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, "203.0.113.2", 0, -1, 255);
	(void)ts_call(ts, &m, &r);
	free(r);
	/*
	 * The same null AH for IPv6, 2001:db8:ff::1 <-> ::2, for AH after
	 * extension headers (their mutable options, routing headers).
	 */
	for (dir = IPSEC_DIR_INBOUND; dir <= IPSEC_DIR_OUTBOUND; dir++) {
		pb_init(&m, SADB_X_SPDADD, SADB_SATYPE_UNSPEC, 0, 1);
		pb_addr(&m, SADB_EXT_ADDRESS_SRC, "2001:db8:ff::1", 0, 128,
		    255);
		pb_addr(&m, SADB_EXT_ADDRESS_DST, "2001:db8:ff::2", 0, 128,
		    255);
		pb_policy(&m, dir, IPSEC_POLICY_IPSEC, 0, 0);
		pb_policy_req(&m, IPPROTO_AH, IPSEC_MODE_TRANSPORT,
		    IPSEC_LEVEL_REQUIRE, 0, NULL, NULL);
		(void)ts_call(ts, &m, &r);
		free(r);
	}
	pb_init(&m, SADB_ADD, SADB_SATYPE_AH, 0, 1);
	pb_sa(&m, 0x1005, 32, SADB_X_AALG_NULL, SADB_EALG_NONE, 0);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, "2001:db8:ff::1", 0, -1, 255);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, "2001:db8:ff::2", 0, -1, 255);
	(void)ts_call(ts, &m, &r);
	free(r);
	pb_init(&m, SADB_ADD, SADB_X_SATYPE_IPCOMP, 0, 1);
	pb_sa(&m, 0x1004, 0, SADB_AALG_NONE, SADB_X_CALG_DEFLATE, 0);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, "203.0.113.1", 0, -1, 255);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, "203.0.113.2", 0, -1, 255);
	(void)ts_call(ts, &m, &r);
	free(r);
	/*
	 * ipsec9, reqid 300, tunnel 198.51.100.2 -> .9: null ESP both ways
	 * (tunnel mode, its reqid), so that the fuzzer reaches delivery to
	 * the interface and what is routed into it reaches ESP.
	 */
	{
		struct sockaddr_in a, b;

		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		a.sin_family = b.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(0xc6336402);	/* 198.51.100.2 */
		b.sin_addr.s_addr = htonl(0xc6336409);	/* 198.51.100.9 */
		(void)ipsec_if_create(9, 300);
		(void)ipsec_if_settunnel(9, (struct sockaddr *)&a,
		    (struct sockaddr *)&b);
	}
	pb_init(&m, SADB_ADD, SADB_SATYPE_ESP, 0, 1);
	pb_sa(&m, 0x1006, 32, SADB_AALG_NONE, SADB_EALG_NULL, 0);
	pb_sa2(&m, IPSEC_MODE_TUNNEL, 300);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, "198.51.100.9", 0, -1, 255);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, "198.51.100.2", 0, -1, 255);
	pb_key(&m, SADB_EXT_KEY_ENCRYPT, "", 0);
	(void)ts_call(ts, &m, &r);
	free(r);
	pb_init(&m, SADB_ADD, SADB_SATYPE_ESP, 0, 1);
	pb_sa(&m, 0x1007, 32, SADB_AALG_NONE, SADB_EALG_NULL, 0);
	pb_sa2(&m, IPSEC_MODE_TUNNEL, 300);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, "198.51.100.2", 0, -1, 255);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, "198.51.100.9", 0, -1, 255);
	pb_key(&m, SADB_EXT_KEY_ENCRYPT, "", 0);
	(void)ts_call(ts, &m, &r);
	free(r);
	/* The socket stays: the SAs must live as long as the process. */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int inited;
	struct mbuf *m;
	void *out;
	size_t outlen;
	int v, where, split;

	if (!inited) {
		setup();
		inited = 1;
	}
	if (size < 1)
		return (0);
	if (data[0] == 0xfe) {
		v = ukern_ipsec_if_output(9, data + 1, size - 1, 1, &out,
		    &outlen);
		if (v == IPSEC_HOOK_REPLACE)
			ipsec_hook_free(out);
		return (0);
	}
	where = data[0] % 3 == 0 ? IPSEC_HOOK_OUT :
	    data[0] % 3 == 1 ? IPSEC_HOOK_IN : IPSEC_HOOK_FWD;
	/*
	 * The rest of the first byte picks the packet's mbufs: flat (one),
	 * split after so many bytes, or one mbuf per byte.
	 */
	split = data[0] / 3;
	if (split == 0) {
		v = ukern_ipsec_hook(where, data + 1, size - 1, 1, &out,
		    &outlen);
		if (v == IPSEC_HOOK_REPLACE)
			ipsec_hook_free(out);
		return (0);
	}
	m = split == 255 / 3 ? mchain(data + 1, size - 1, 1, 1) :
	    mchain(data + 1, size - 1, (size_t)split, 0);
	if (m == NULL)
		return (0);
	(void)ipsec_hook(where, &m, 1);
	if (m != NULL)
		ukern_m_freem(m);
	return (0);
}
