/*
 * The key engine through in-process PF_KEY sockets: every message type's
 * reply and routing, FreeBSD's validation rules, ACQUIRE and EXPIRE.
 */
#define	_GNU_SOURCE		/* memmem() */

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atf-c.h>

#include "keytest.h"
#include <netipsec/key.h>
#include <netipsec/keysock.h>

void	ukern_set_logger(void (*)(int, const char *));

#define	A1	"192.0.2.1"
#define	A2	"198.51.100.2"
#define	PID	4242

static const uint8_t key16[16] = "0123456789abcdef";
static const uint8_t key20[20] = "0123456789abcdefghij";

/* An ADD of an ESP SA A1 -> A2 with AES-CBC-128 + HMAC-SHA1. */
static void
mk_add(struct pb_msg *m, uint32_t spi, const char *src, const char *dst)
{

	pb_init(m, SADB_ADD, SADB_SATYPE_ESP, 0, PID);
	pb_sa(m, spi, 4, SADB_AALG_SHA1HMAC, SADB_X_EALG_AESCBC,
	    SADB_X_EXT_CYCSEQ);
	pb_addr(m, SADB_EXT_ADDRESS_SRC, src, 0, -1, IPSEC_ULPROTO_ANY);
	pb_addr(m, SADB_EXT_ADDRESS_DST, dst, 0, -1, IPSEC_ULPROTO_ANY);
	pb_key(m, SADB_EXT_KEY_AUTH, key20, sizeof(key20));
	pb_key(m, SADB_EXT_KEY_ENCRYPT, key16, sizeof(key16));
}

static int
do_add(struct tsock *ts, uint32_t spi)
{
	struct pb_msg m;

	mk_add(&m, spi, A1, A2);
	return (ts_do(ts, &m));
}

static int
do_get(struct tsock *ts, uint32_t spi, struct sadb_msg **r)
{
	struct pb_msg m;

	pb_init(&m, SADB_GET, SADB_SATYPE_ESP, 0, PID);
	pb_sa(&m, spi, 0, 0, 0, 0);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A1, 0, -1, IPSEC_ULPROTO_ANY);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, A2, 0, -1, IPSEC_ULPROTO_ANY);
	return (ts_call(ts, &m, r));
}

ATF_TC_WITHOUT_HEAD(add_get_delete);
ATF_TC_BODY(add_get_delete, tc)
{
	struct tsock *ts, *other;
	struct sadb_msg *r;
	struct sadb_sa *sa;
	struct sadb_key *k;
	struct pb_msg m;

	tk_start();
	ts = ts_open();
	other = ts_open();
	ATF_REQUIRE_EQ(do_add(ts, 0x1000), 0);
	/* The ADD reply went to everyone, without keys. */
	r = ts_recv(other);
	ATF_REQUIRE(r != NULL);
	ATF_CHECK_EQ(r->sadb_msg_type, SADB_ADD);
	ATF_CHECK(tm_getext(r, SADB_EXT_KEY_ENCRYPT) == NULL);
	ATF_CHECK(tm_getext(r, SADB_EXT_KEY_AUTH) == NULL);
	ATF_CHECK(tm_getext(r, SADB_EXT_SA) != NULL);
	free(r);

	ATF_REQUIRE_EQ(do_get(ts, 0x1000, &r), 0);
	sa = tm_getext(r, SADB_EXT_SA);
	ATF_REQUIRE(sa != NULL);
	ATF_CHECK_EQ(ntohl(sa->sadb_sa_spi), 0x1000);
	ATF_CHECK_EQ(sa->sadb_sa_state, SADB_SASTATE_MATURE);
	ATF_CHECK_EQ(sa->sadb_sa_encrypt, SADB_X_EALG_AESCBC);
	ATF_CHECK_EQ(sa->sadb_sa_replay, 4);
	k = tm_getext(r, SADB_EXT_KEY_ENCRYPT);
	ATF_REQUIRE(k != NULL);
	ATF_CHECK_EQ(k->sadb_key_bits, 128);
	ATF_CHECK(memcmp(k + 1, key16, 16) == 0);
	ATF_CHECK(tm_getext(r, SADB_EXT_LIFETIME_CURRENT) != NULL);
	ATF_CHECK(ts_pending(other) == 0);	/* GET answers one */
	free(r);

	/* Same SPI again, anywhere: EEXIST (one SPI namespace). */
	mk_add(&m, 0x1000, A2, A1);
	ATF_CHECK_EQ(ts_do(ts, &m), EEXIST);

	pb_init(&m, SADB_DELETE, SADB_SATYPE_ESP, 0, PID);
	pb_sa(&m, 0x1000, 0, 0, 0, 0);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A1, 0, -1, IPSEC_ULPROTO_ANY);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, A2, 0, -1, IPSEC_ULPROTO_ANY);
	ATF_CHECK_EQ(ts_do(ts, &m), 0);
	ATF_CHECK_EQ(ts_do(ts, &m), ESRCH);
	ATF_CHECK_EQ(do_get(ts, 0x1000, &r), ESRCH);
	free(r);
	ts_close(other);
	ts_close(ts);
	tk_stop();
}

ATF_TC_WITHOUT_HEAD(add_refused);
ATF_TC_BODY(add_refused, tc)
{
	struct tsock *ts;
	struct pb_msg m;

	tk_start();
	ts = ts_open();
	/* SPI 0-255 reserved. */
	mk_add(&m, 255, A1, A2);
	ATF_CHECK_EQ(ts_do(ts, &m), EINVAL);
	/* AES-CBC key of 20 bytes. */
	pb_init(&m, SADB_ADD, SADB_SATYPE_ESP, 0, PID);
	pb_sa(&m, 0x2000, 0, SADB_AALG_NONE, SADB_X_EALG_AESCBC, 0);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A1, 0, -1, IPSEC_ULPROTO_ANY);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, A2, 0, -1, IPSEC_ULPROTO_ANY);
	pb_key(&m, SADB_EXT_KEY_ENCRYPT, key20, 20);
	ATF_CHECK_EQ(ts_do(ts, &m), EINVAL);
	/* AES-GCM with a separate authenticator. */
	pb_init(&m, SADB_ADD, SADB_SATYPE_ESP, 0, PID);
	pb_sa(&m, 0x2001, 0, SADB_AALG_SHA1HMAC, SADB_X_EALG_AESGCM16, 0);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A1, 0, -1, IPSEC_ULPROTO_ANY);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, A2, 0, -1, IPSEC_ULPROTO_ANY);
	pb_key(&m, SADB_EXT_KEY_AUTH, key20, 20);
	pb_key(&m, SADB_EXT_KEY_ENCRYPT, key20, 20);
	ATF_CHECK_EQ(ts_do(ts, &m), EINVAL);
	/* AES-GCM-128 alone is fine. */
	pb_init(&m, SADB_ADD, SADB_SATYPE_ESP, 0, PID);
	pb_sa(&m, 0x2002, 0, SADB_AALG_NONE, SADB_X_EALG_AESGCM16, 0);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A1, 0, -1, IPSEC_ULPROTO_ANY);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, A2, 0, -1, IPSEC_ULPROTO_ANY);
	pb_key(&m, SADB_EXT_KEY_ENCRYPT, key20, 20);
	ATF_CHECK_EQ(ts_do(ts, &m), 0);
	/* ESP without an encryption key. */
	pb_init(&m, SADB_ADD, SADB_SATYPE_ESP, 0, PID);
	pb_sa(&m, 0x2003, 0, SADB_AALG_SHA1HMAC, SADB_X_EALG_AESCBC, 0);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A1, 0, -1, IPSEC_ULPROTO_ANY);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, A2, 0, -1, IPSEC_ULPROTO_ANY);
	pb_key(&m, SADB_EXT_KEY_AUTH, key20, 20);
	ATF_CHECK_EQ(ts_do(ts, &m), EINVAL);
	/* A hard lifetime without a soft one. */
	mk_add(&m, 0x2004, A1, A2);
	pb_lifetime(&m, SADB_EXT_LIFETIME_HARD, 0, 0, 10, 0);
	ATF_CHECK_EQ(ts_do(ts, &m), EINVAL);
	/* Flags beyond SADB_KEY_FLAGS_MAX. */
	pb_init(&m, SADB_ADD, SADB_SATYPE_ESP, 0, PID);
	pb_sa(&m, 0x2005, 0, SADB_AALG_NONE, SADB_EALG_NULL, 0x1000);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A1, 0, -1, IPSEC_ULPROTO_ANY);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, A2, 0, -1, IPSEC_ULPROTO_ANY);
	pb_key(&m, SADB_EXT_KEY_ENCRYPT, "", 0);
	ATF_CHECK_EQ(ts_do(ts, &m), EINVAL);
	/* NULL encryption with an empty key, GET it back (FreeBSD's empty.sh). */
	pb_init(&m, SADB_ADD, SADB_SATYPE_ESP, 0, PID);
	pb_sa(&m, 0x2008, 0, SADB_AALG_NONE, SADB_EALG_NULL, 0);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A1, 0, -1, IPSEC_ULPROTO_ANY);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, A2, 0, -1, IPSEC_ULPROTO_ANY);
	pb_key(&m, SADB_EXT_KEY_ENCRYPT, "", 0);
	ATF_CHECK_EQ(ts_do(ts, &m), 0);
	{
		struct sadb_msg *r;
		struct sadb_key *k;

		pb_init(&m, SADB_GET, SADB_SATYPE_ESP, 0, PID);
		pb_sa(&m, 0x2008, 0, 0, 0, 0);
		pb_addr(&m, SADB_EXT_ADDRESS_SRC, A1, 0, -1, 255);
		pb_addr(&m, SADB_EXT_ADDRESS_DST, A2, 0, -1, 255);
		ATF_CHECK_EQ(ts_call(ts, &m, &r), 0);
		k = r != NULL ? tm_getext(r, SADB_EXT_KEY_ENCRYPT) : NULL;
		ATF_REQUIRE(k != NULL);
		if (k != NULL)		/* cppcheck: ATF_REQUIRE returns */
			ATF_CHECK_EQ(k->sadb_key_bits, 0);
		free(r);
	}
	/* Unknown encryption algorithm (DES is not implemented). */
	pb_init(&m, SADB_ADD, SADB_SATYPE_ESP, 0, PID);
	pb_sa(&m, 0x2006, 0, SADB_AALG_NONE, SADB_EALG_DESCBC, 0);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A1, 0, -1, IPSEC_ULPROTO_ANY);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, A2, 0, -1, IPSEC_ULPROTO_ANY);
	pb_key(&m, SADB_EXT_KEY_ENCRYPT, key16, 8);
	ATF_CHECK_EQ(ts_do(ts, &m), EINVAL);
	/* NAT-T: type without ports. */
	mk_add(&m, 0x2007, A1, A2);
	{
		struct sadb_x_nat_t_type *t;

		t = pb_ext(&m, SADB_X_EXT_NAT_T_TYPE, sizeof(*t));
		t->sadb_x_nat_t_type_type = UDP_ENCAP_ESPINUDP;
	}
	ATF_CHECK_EQ(ts_do(ts, &m), EINVAL);
	ts_close(ts);
	tk_stop();
}

ATF_TC_WITHOUT_HEAD(getspi_update);
ATF_TC_BODY(getspi_update, tc)
{
	struct tsock *ts, *other;
	struct sadb_msg *r;
	struct sadb_sa *sa;
	struct pb_msg m;
	uint32_t spi;

	tk_start();
	ts = ts_open();
	other = ts_open();
	pb_init(&m, SADB_GETSPI, SADB_SATYPE_ESP, 77, PID);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A2, 0, -1, IPSEC_ULPROTO_ANY);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, A1, 0, -1, IPSEC_ULPROTO_ANY);
	pb_sa2(&m, IPSEC_MODE_TRANSPORT, 5);
	ATF_REQUIRE_EQ(ts_call(ts, &m, &r), 0);
	ATF_CHECK_EQ(r->sadb_msg_seq, 77);
	sa = tm_getext(r, SADB_EXT_SA);
	ATF_REQUIRE(sa != NULL);
	spi = ntohl(sa->sadb_sa_spi);
	ATF_CHECK(spi >= 0x100 && spi <= 0x0fffffff);
	ATF_CHECK(tm_getext(r, SADB_EXT_ADDRESS_SRC) != NULL);
	ATF_CHECK_EQ(ts_pending(other), 0);
	free(r);

	/* Exact SPI asked for, and taken: EEXIST. */
	pb_init(&m, SADB_GETSPI, SADB_SATYPE_ESP, 0, PID);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A2, 0, -1, IPSEC_ULPROTO_ANY);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, A1, 0, -1, IPSEC_ULPROTO_ANY);
	pb_spirange(&m, spi, spi);
	ATF_CHECK_EQ(ts_do(ts, &m), EEXIST);

	/* UPDATE from another pid: EINVAL. */
	pb_init(&m, SADB_UPDATE, SADB_SATYPE_ESP, 77, PID + 1);
	pb_sa(&m, spi, 8, SADB_AALG_NONE, SADB_X_EALG_AESGCM16, 0);
	pb_sa2(&m, IPSEC_MODE_TRANSPORT, 5);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A2, 0, -1, IPSEC_ULPROTO_ANY);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, A1, 0, -1, IPSEC_ULPROTO_ANY);
	pb_key(&m, SADB_EXT_KEY_ENCRYPT, key20, 20);
	ATF_CHECK_EQ(ts_do(ts, &m), EINVAL);
	/* Another SA index (no SA2 = mode any, reqid 0): ESRCH. */
	pb_init(&m, SADB_UPDATE, SADB_SATYPE_ESP, 77, PID);
	pb_sa(&m, spi, 8, SADB_AALG_NONE, SADB_X_EALG_AESGCM16, 0);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A2, 0, -1, IPSEC_ULPROTO_ANY);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, A1, 0, -1, IPSEC_ULPROTO_ANY);
	pb_key(&m, SADB_EXT_KEY_ENCRYPT, key20, 20);
	ATF_CHECK_EQ(ts_do(ts, &m), ESRCH);
	/* Unknown SPI: EINVAL, as FreeBSD's key_update(). */
	pb_init(&m, SADB_UPDATE, SADB_SATYPE_ESP, 77, PID);
	pb_sa(&m, spi + 1, 8, SADB_AALG_NONE, SADB_X_EALG_AESGCM16, 0);
	pb_sa2(&m, IPSEC_MODE_TRANSPORT, 5);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A2, 0, -1, IPSEC_ULPROTO_ANY);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, A1, 0, -1, IPSEC_ULPROTO_ANY);
	pb_key(&m, SADB_EXT_KEY_ENCRYPT, key20, 20);
	ATF_CHECK_EQ(ts_do(ts, &m), EINVAL);
	ts_drain(other);

	/* The right one. */
	pb_init(&m, SADB_UPDATE, SADB_SATYPE_ESP, 77, PID);
	pb_sa(&m, spi, 8, SADB_AALG_NONE, SADB_X_EALG_AESGCM16, 0);
	pb_sa2(&m, IPSEC_MODE_TRANSPORT, 5);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A2, 0, -1, IPSEC_ULPROTO_ANY);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, A1, 0, -1, IPSEC_ULPROTO_ANY);
	pb_key(&m, SADB_EXT_KEY_ENCRYPT, key20, 20);
	ATF_REQUIRE_EQ(ts_do(ts, &m), 0);
	r = ts_recv(other);
	ATF_REQUIRE(r != NULL);
	ATF_CHECK_EQ(r->sadb_msg_type, SADB_UPDATE);
	ATF_CHECK(tm_getext(r, SADB_EXT_KEY_ENCRYPT) == NULL);
	free(r);
	/* A mature SA does not take keys. */
	ATF_CHECK_EQ(ts_do(ts, &m), EINVAL);

	pb_init(&m, SADB_GET, SADB_SATYPE_ESP, 0, PID);
	pb_sa(&m, spi, 0, 0, 0, 0);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A2, 0, -1, IPSEC_ULPROTO_ANY);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, A1, 0, -1, IPSEC_ULPROTO_ANY);
	ATF_REQUIRE_EQ(ts_call(ts, &m, &r), 0);
	sa = tm_getext(r, SADB_EXT_SA);
	ATF_CHECK_EQ(sa->sadb_sa_state, SADB_SASTATE_MATURE);
	/* The kernel fills in the AEAD's authenticator, as FreeBSD. */
	ATF_CHECK_EQ(sa->sadb_sa_auth, SADB_X_AALG_AES128GMAC);
	free(r);
	ts_close(other);
	ts_close(ts);
	tk_stop();
}

ATF_TC_WITHOUT_HEAD(dump_flush_deleteall);
ATF_TC_BODY(dump_flush_deleteall, tc)
{
	struct tsock *ts;
	struct sadb_msg *r;
	struct pb_msg m;
	uint32_t i, n, expect;
	u_int nsa, nsp;

	tk_start();
	ts = ts_open();
	pb_init(&m, SADB_DUMP, SADB_SATYPE_UNSPEC, 0, PID);
	ATF_CHECK_EQ(ts_do(ts, &m), ENOENT);

	n = 3000;
	for (i = 0; i < n; i++)
		ATF_REQUIRE_EQ(do_add(ts, 0x10000 + i), 0);
	key_counts(&nsa, &nsp);
	ATF_CHECK_EQ(nsa, n);
	ATF_REQUIRE_EQ(ts_send(ts, &m), 0);
	ATF_REQUIRE_EQ(ts_pending(ts), n);
	expect = n;
	while ((r = ts_recv(ts)) != NULL) {
		ATF_CHECK_EQ(r->sadb_msg_type, SADB_DUMP);
		ATF_CHECK_EQ(r->sadb_msg_seq, --expect);
		ATF_CHECK(tm_getext(r, SADB_EXT_KEY_ENCRYPT) != NULL);
		free(r);
	}
	ATF_CHECK_EQ(expect, 0);

	/* deleteall A1 -> A2: DELETE without an SA extension. */
	pb_init(&m, SADB_DELETE, SADB_SATYPE_ESP, 0, PID);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A1, 0, -1, IPSEC_ULPROTO_ANY);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, A2, 0, -1, IPSEC_ULPROTO_ANY);
	ATF_CHECK_EQ(ts_do(ts, &m), 0);
	key_counts(&nsa, &nsp);
	ATF_CHECK_EQ(nsa, 0);

	ATF_REQUIRE_EQ(do_add(ts, 0x3000), 0);
	pb_init(&m, SADB_FLUSH, SADB_SATYPE_AH, 0, PID);
	ATF_CHECK_EQ(ts_do(ts, &m), 0);
	key_counts(&nsa, &nsp);
	ATF_CHECK_EQ(nsa, 1);		/* AH flush leaves ESP */
	pb_init(&m, SADB_FLUSH, SADB_SATYPE_UNSPEC, 0, PID);
	ATF_CHECK_EQ(ts_do(ts, &m), 0);
	key_counts(&nsa, &nsp);
	ATF_CHECK_EQ(nsa, 0);
	ts_close(ts);
	tk_stop();
}

ATF_TC_WITHOUT_HEAD(register_supported);
ATF_TC_BODY(register_supported, tc)
{
	struct tsock *ts, *reg, *other;
	struct sadb_supported *sup;
	struct sadb_alg *alg;
	struct sadb_msg *r;
	struct pb_msg m;
	int found;
	size_t n;

	tk_start();
	ts = ts_open();
	reg = ts_open();
	other = ts_open();
	pb_init(&m, SADB_REGISTER, SADB_SATYPE_ESP, 0, PID);
	ATF_REQUIRE_EQ(ts_do(reg, &m), 0);
	ATF_CHECK_EQ(ts_do(reg, &m), EEXIST);

	/* UNSPEC only asks; the registered socket sees the answer too. */
	pb_init(&m, SADB_REGISTER, SADB_SATYPE_UNSPEC, 0, PID);
	ATF_REQUIRE_EQ(ts_call(ts, &m, &r), 0);
	sup = tm_getext(r, SADB_EXT_SUPPORTED_ENCRYPT);
	ATF_REQUIRE(sup != NULL);
	n = (PFKEY_UNUNIT64(sup->sadb_supported_len) - sizeof(*sup)) /
	    sizeof(*alg);
	found = 0;
	for (alg = (struct sadb_alg *)(sup + 1); n > 0; n--, alg++)
		if (alg->sadb_alg_id == SADB_X_EALG_AESGCM16 &&
		    alg->sadb_alg_minbits == 160 &&
		    alg->sadb_alg_maxbits == 288)
			found = 1;
	ATF_CHECK(found);
	ATF_CHECK(tm_getext(r, SADB_EXT_SUPPORTED_AUTH) != NULL);
	free(r);
	ATF_CHECK_EQ(ts_pending(reg), 1);
	ATF_CHECK_EQ(ts_pending(other), 0);
	ts_close(ts);
	ts_close(reg);
	ts_close(other);
	tk_stop();
}

/* Framing errors fail the send itself and leave no reply. */
ATF_TC_WITHOUT_HEAD(framing_errors);
ATF_TC_BODY(framing_errors, tc)
{
	struct sadb_address *a;
	struct sadb_ext *e;
	struct tsock *ts;
	struct pb_msg m;

	tk_start();
	ts = ts_open();
	/* Too short for a header. */
	ATF_CHECK_EQ(ts_sendraw(ts, "\x02\x03\x00\x03", 4), EINVAL);
	/* Length field disagrees with the datagram. */
	pb_init(&m, SADB_FLUSH, SADB_SATYPE_UNSPEC, 0, PID);
	pb_finish(&m);
	pb_hdr(&m)->sadb_msg_len = 3;
	ATF_CHECK_EQ(ts_sendraw(ts, m.u.buf, m.len), EINVAL);
	/* Unknown extension type, and KMPRIVATE. */
	mk_add(&m, 0x5000, A1, A2);
	e = pb_ext(&m, 40, 8);
	ATF_CHECK_EQ(ts_send(ts, &m), EINVAL);
	mk_add(&m, 0x5000, A1, A2);
	e = pb_ext(&m, SADB_X_EXT_KMPRIVATE, 8);
	ATF_CHECK_EQ(ts_send(ts, &m), EINVAL);
	/* Duplicate extension. */
	mk_add(&m, 0x5000, A1, A2);
	pb_sa2(&m, 0, 0);
	pb_sa2(&m, 0, 0);
	ATF_CHECK_EQ(ts_send(ts, &m), EINVAL);
	/* An extension running past the end. */
	mk_add(&m, 0x5000, A1, A2);
	e = pb_ext(&m, SADB_X_EXT_SA2, 8);
	e->sadb_ext_len = 4;
	ATF_CHECK_EQ(ts_send(ts, &m), EINVAL);
	/* A fixed-size extension of the wrong size. */
	mk_add(&m, 0x5000, A1, A2);
	e = pb_ext(&m, SADB_X_EXT_SA2, 24);
	ATF_CHECK_EQ(ts_send(ts, &m), EINVAL);
	/* A sockaddr_in6 in an extension sized for a sockaddr_in. */
	pb_init(&m, SADB_GETSPI, SADB_SATYPE_ESP, 0, PID);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A1, 0, -1, IPSEC_ULPROTO_ANY);
	a = pb_ext(&m,
	    SADB_EXT_ADDRESS_DST, sizeof(*a) + sizeof(struct sockaddr_in));
	((struct sockaddr *)(a + 1))->sa_family = AF_INET6;
	ATF_CHECK_EQ(ts_send(ts, &m), EINVAL);
	/* Too big for FreeBSD's key_parse(). */
	pb_init(&m, SADB_FLUSH, SADB_SATYPE_UNSPEC, 0, PID);
	pb_ext(&m, SADB_EXT_SENSITIVITY, 4000);
	ATF_CHECK_EQ(ts_send(ts, &m), ENOBUFS);
	(void)e;
	ATF_CHECK_EQ(ts_pending(ts), 0);
	ts_close(ts);
	tk_stop();
}

/* Semantic errors come back in the echoed header. */
ATF_TC_WITHOUT_HEAD(semantic_errors);
ATF_TC_BODY(semantic_errors, tc)
{
	struct sadb_address *a;
	struct tsock *ts;
	struct sadb_msg *r;
	struct pb_msg m;

	tk_start();
	ts = ts_open();
	pb_init(&m, SADB_FLUSH, SADB_SATYPE_UNSPEC, 9, PID);
	pb_hdr(&m)->sadb_msg_version = 1;
	ATF_REQUIRE_EQ(ts_call(ts, &m, &r), EINVAL);
	ATF_CHECK_EQ(r->sadb_msg_seq, 9);
	ATF_CHECK_EQ(r->sadb_msg_len, 2);
	free(r);
	pb_init(&m, SADB_MAX + 1, SADB_SATYPE_UNSPEC, 0, PID);
	ATF_CHECK_EQ(ts_do(ts, &m), EINVAL);
	pb_init(&m, SADB_EXPIRE, SADB_SATYPE_ESP, 0, PID);
	ATF_CHECK_EQ(ts_do(ts, &m), EINVAL);
	pb_init(&m, SADB_X_SPDEXPIRE, SADB_SATYPE_UNSPEC, 0, PID);
	ATF_CHECK_EQ(ts_do(ts, &m), EINVAL);
	/* satype rules. */
	mk_add(&m, 0x6000, A1, A2);
	pb_hdr(&m)->sadb_msg_satype = 0;
	ATF_CHECK_EQ(ts_do(ts, &m), EINVAL);
	mk_add(&m, 0x6000, A1, A2);
	pb_hdr(&m)->sadb_msg_satype =
	    SADB_SATYPE_RSVP;
	ATF_CHECK_EQ(ts_do(ts, &m), EOPNOTSUPP);
	pb_init(&m, SADB_X_SPDFLUSH, SADB_SATYPE_ESP, 0, PID);
	ATF_CHECK_EQ(ts_do(ts, &m), EINVAL);
	pb_init(&m, SADB_X_SPDDUMP, 8, 0, PID);
	ATF_CHECK_EQ(ts_do(ts, &m), EINVAL);
	/* Mixed families, prefix too long, unknown family. */
	mk_add(&m, 0x6000, A1, "2001:db8::1");
	ATF_CHECK_EQ(ts_do(ts, &m), EINVAL);
	pb_init(&m, SADB_GETSPI, SADB_SATYPE_ESP, 0, PID);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A1, 0, 33, IPSEC_ULPROTO_ANY);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, A2, 0, 32, IPSEC_ULPROTO_ANY);
	ATF_CHECK_EQ(ts_do(ts, &m), EINVAL);
	pb_init(&m, SADB_GETSPI, SADB_SATYPE_ESP, 0, PID);
	a = pb_ext(&m, SADB_EXT_ADDRESS_SRC, sizeof(*a) + 16);
	((struct sockaddr *)(a + 1))->sa_family = AF_UNIX;
	a = pb_ext(&m, SADB_EXT_ADDRESS_DST, sizeof(*a) + 16);
	((struct sockaddr *)(a + 1))->sa_family = AF_UNIX;
	ATF_CHECK_EQ(ts_do(ts, &m), EAFNOSUPPORT);
	/* Mandatory extensions. */
	pb_init(&m, SADB_ADD, SADB_SATYPE_ESP, 0, PID);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A1, 0, -1, IPSEC_ULPROTO_ANY);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, A2, 0, -1, IPSEC_ULPROTO_ANY);
	ATF_CHECK_EQ(ts_do(ts, &m), EINVAL);
	pb_init(&m, SADB_GETSPI, SADB_SATYPE_ESP, 0, PID);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A1, 0, -1, IPSEC_ULPROTO_ANY);
	ATF_CHECK_EQ(ts_do(ts, &m), EINVAL);
	pb_init(&m, SADB_X_SPDADD, SADB_SATYPE_UNSPEC, 0, PID);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A1, 0, -1, IPSEC_ULPROTO_ANY);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, A2, 0, -1, IPSEC_ULPROTO_ANY);
	ATF_CHECK_EQ(ts_do(ts, &m), EINVAL);
	ts_close(ts);
	tk_stop();
}

static int
spdadd(struct tsock *ts, int type, const char *src, int sp, const char *dst,
    int dp, int proto, int dir, int policy, uint32_t prio, uint32_t *idp)
{
	struct sadb_x_policy *xpl;
	struct sadb_msg *r;
	struct pb_msg m;
	int e;

	pb_init(&m, type, SADB_SATYPE_UNSPEC, 0, PID);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, src, sp, -1, proto);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, dst, dp, -1, proto);
	pb_policy(&m, dir, policy, 0, prio);
	if (policy == IPSEC_POLICY_IPSEC)
		pb_policy_req(&m, IPPROTO_ESP, IPSEC_MODE_TRANSPORT,
		    IPSEC_LEVEL_REQUIRE, 0, NULL, NULL);
	e = ts_call(ts, &m, &r);
	if (e == 0 && idp != NULL) {
		xpl = tm_getext(r, SADB_X_EXT_POLICY);
		*idp = xpl != NULL ? xpl->sadb_x_policy_id : 0;
	}
	free(r);
	return (e);
}

ATF_TC_WITHOUT_HEAD(spd_messages);
ATF_TC_BODY(spd_messages, tc)
{
	struct sadb_x_ipsecrequest *xisr;
	struct sadb_x_policy *xpl;
	struct tsock *ts;
	struct sadb_msg *r;
	struct pb_msg m;
	uint32_t id1, id2, id3, expect;
	u_int nsa, nsp;

	tk_start();
	ts = ts_open();
	ATF_REQUIRE_EQ(spdadd(ts, SADB_X_SPDADD, A1, 0, A2, 0, 255,
	    IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, 0, &id1), 0);
	ATF_CHECK(id1 != 0);
	ATF_CHECK_EQ(spdadd(ts, SADB_X_SPDADD, A1, 0, A2, 0, 255,
	    IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, 0, NULL), EEXIST);
	/* The same selector inbound is another policy. */
	ATF_REQUIRE_EQ(spdadd(ts, SADB_X_SPDADD, A1, 0, A2, 0, 255,
	    IPSEC_DIR_INBOUND, IPSEC_POLICY_IPSEC, 0, &id2), 0);
	/* SPDUPDATE replaces, with a new id. */
	ATF_REQUIRE_EQ(spdadd(ts, SADB_X_SPDUPDATE, A1, 0, A2, 0, 255,
	    IPSEC_DIR_OUTBOUND, IPSEC_POLICY_DISCARD, 0, &id3), 0);
	ATF_CHECK(id3 != id1);
	key_counts(&nsa, &nsp);
	ATF_CHECK_EQ(nsp, 2);

	pb_init(&m, SADB_X_SPDGET, SADB_SATYPE_UNSPEC, 0, PID);
	pb_policy(&m, 0, 0, id3, 0);
	ATF_REQUIRE_EQ(ts_call(ts, &m, &r), 0);
	xpl = tm_getext(r, SADB_X_EXT_POLICY);
	ATF_REQUIRE(xpl != NULL);
	ATF_CHECK_EQ(xpl->sadb_x_policy_type, IPSEC_POLICY_DISCARD);
	ATF_CHECK_EQ(xpl->sadb_x_policy_id, id3);
	free(r);
	pb_init(&m, SADB_X_SPDGET, SADB_SATYPE_UNSPEC, 0, PID);
	pb_policy(&m, 0, 0, id1, 0);
	ATF_CHECK_EQ(ts_do(ts, &m), ENOENT);

	/* unique without a reqid: the kernel picks one above 0x3fff. */
	pb_init(&m, SADB_X_SPDADD, SADB_SATYPE_UNSPEC, 0, PID);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, "10.0.0.0", 0, 8, 255);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, "10.1.0.0", 0, 16, 255);
	pb_policy(&m, IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, 0, 0);
	pb_policy_req(&m, IPPROTO_ESP, IPSEC_MODE_TUNNEL, IPSEC_LEVEL_UNIQUE, 0,
	    A1, A2);
	ATF_REQUIRE_EQ(ts_call(ts, &m, &r), 0);
	xpl = tm_getext(r, SADB_X_EXT_POLICY);
	xisr = (struct sadb_x_ipsecrequest *)(xpl + 1);
	ATF_CHECK(xisr->sadb_x_ipsecrequest_reqid > IPSEC_MANUAL_REQID_MAX);
	free(r);

	/* Refusals. */
	pb_init(&m, SADB_X_SPDADD, SADB_SATYPE_UNSPEC, 0, PID);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, "10.2.0.0", 0, 16, 255);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, "10.3.0.0", 0, 16, 255);
	pb_policy(&m, IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, 0, 0);
	pb_policy_req(&m, IPPROTO_ESP, IPSEC_MODE_TUNNEL, IPSEC_LEVEL_REQUIRE, 0,
	    NULL, NULL);
	ATF_CHECK_EQ(ts_do(ts, &m), EINVAL);	/* tunnel, no endpoints */
	pb_init(&m, SADB_X_SPDADD, SADB_SATYPE_UNSPEC, 0, PID);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, "10.2.0.0", 0, 16, 255);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, "10.3.0.0", 0, 16, 255);
	pb_policy(&m, IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, 0, 0);
	pb_policy_req(&m, IPPROTO_UDP, IPSEC_MODE_TRANSPORT, IPSEC_LEVEL_REQUIRE, 0,
	    NULL, NULL);
	ATF_CHECK_EQ(ts_do(ts, &m), EPROTONOSUPPORT);
	pb_init(&m, SADB_X_SPDADD, SADB_SATYPE_UNSPEC, 0, PID);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, "10.2.0.0", 0, 16, 255);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, "10.3.0.0", 0, 16, 255);
	pb_policy(&m, IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, 0, 0);
	ATF_CHECK_EQ(ts_do(ts, &m), EINVAL);	/* ipsec, no request */
	ATF_CHECK_EQ(spdadd(ts, SADB_X_SPDADD, A1, 0, A2, 0, 255,
	    IPSEC_DIR_OUTBOUND, IPSEC_POLICY_ENTRUST, 0, NULL), EINVAL);
	ATF_CHECK_EQ(spdadd(ts, SADB_X_SPDADD, A1, 0, A2, 0, 255,
	    IPSEC_DIR_ANY, IPSEC_POLICY_NONE, 0, NULL), EINVAL);
	pb_init(&m, SADB_X_SPDADD, SADB_SATYPE_UNSPEC, 0, PID);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, "10.2.0.0", 0, 16, 255);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, "10.3.0.0", 0, 16, 255);
	pb_policy(&m, IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, 0, 0);
	for (expect = 0; expect < 5; expect++)
		pb_policy_req(&m, IPPROTO_ESP, IPSEC_MODE_TRANSPORT,
		    IPSEC_LEVEL_REQUIRE, 0, NULL, NULL);
	ATF_CHECK_EQ(ts_do(ts, &m), EINVAL);	/* five requests */

	/* Dump: inbound first, then outbound by priority; seq down to 0. */
	ATF_REQUIRE_EQ(spdadd(ts, SADB_X_SPDADD, "192.0.2.9", 0, A2, 0, 255,
	    IPSEC_DIR_OUTBOUND, IPSEC_POLICY_NONE, 0, &id1), 0);
	pb_init(&m, SADB_X_SPDDUMP, SADB_SATYPE_UNSPEC, 0, PID);
	ATF_REQUIRE_EQ(ts_send(ts, &m), 0);
	ATF_REQUIRE_EQ(ts_pending(ts), 4);
	expect = 4;
	while ((r = ts_recv(ts)) != NULL) {
		ATF_CHECK_EQ(r->sadb_msg_seq, --expect);
		xpl = tm_getext(r, SADB_X_EXT_POLICY);
		if (expect == 3)
			ATF_CHECK_EQ(xpl->sadb_x_policy_dir,
			    IPSEC_DIR_INBOUND);
		if (expect == 0)
			ATF_CHECK_EQ(xpl->sadb_x_policy_id, id1);
		free(r);
	}

	/* SPDDELETE by selector (EINVAL when absent), SPDDELETE2 by id. */
	pb_init(&m, SADB_X_SPDDELETE, SADB_SATYPE_UNSPEC, 0, PID);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A1, 0, -1, 255);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, A2, 0, -1, 255);
	pb_policy(&m, IPSEC_DIR_INBOUND, IPSEC_POLICY_NONE, 0, 0);
	ATF_REQUIRE_EQ(ts_call(ts, &m, &r), 0);
	xpl = tm_getext(r, SADB_X_EXT_POLICY);
	ATF_CHECK_EQ(xpl->sadb_x_policy_id, id2);
	free(r);
	ATF_CHECK_EQ(ts_do(ts, &m), EINVAL);
	pb_init(&m, SADB_X_SPDDELETE2, SADB_SATYPE_UNSPEC, 0, PID);
	pb_policy(&m, 0, 0, id1, 0);
	ATF_CHECK_EQ(ts_do(ts, &m), 0);
	ATF_CHECK_EQ(ts_do(ts, &m), EINVAL);

	pb_init(&m, SADB_X_SPDFLUSH, SADB_SATYPE_UNSPEC, 0, PID);
	ATF_CHECK_EQ(ts_do(ts, &m), 0);
	key_counts(&nsa, &nsp);
	ATF_CHECK_EQ(nsp, 0);
	pb_init(&m, SADB_X_SPDDUMP, SADB_SATYPE_UNSPEC, 0, PID);
	ATF_CHECK_EQ(ts_do(ts, &m), ENOENT);
	ts_close(ts);
	tk_stop();
}

ATF_TC_WITHOUT_HEAD(acquire);
ATF_TC_BODY(acquire, tc)
{
	struct sockaddr_storage s, d;
	struct sadb_x_policy *xpl;
	struct sadb_address *addr;
	struct tsock *ike, *plain;
	struct sadb_msg *r;
	struct pb_msg m;
	uint32_t id, seq;

	tk_start();
	ATF_REQUIRE_EQ(key_sysctl_set("net.key.blockacq_interval", 3600), 0);
	ike = ts_open();
	plain = ts_open();
	pb_init(&m, SADB_REGISTER, SADB_SATYPE_ESP, 0, PID);
	ATF_REQUIRE_EQ(ts_do(ike, &m), 0);
	ATF_REQUIRE_EQ(spdadd(ike, SADB_X_SPDADD, A1, 0, A2, 0, 255,
	    IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, 0, &id), 0);
	ts_drain(ike);
	ts_drain(plain);

	pb_sockaddr(&s, A1, 0);
	pb_sockaddr(&d, A2, 0);
	ATF_REQUIRE_EQ(key_acquire_spid(id, (struct sockaddr *)&s,
	    (struct sockaddr *)&d), 0);
	r = ts_recv(ike);
	ATF_REQUIRE(r != NULL);
	ATF_CHECK_EQ(r->sadb_msg_type, SADB_ACQUIRE);
	ATF_CHECK_EQ(r->sadb_msg_satype, SADB_SATYPE_ESP);
	seq = r->sadb_msg_seq;
	ATF_CHECK(seq != 0);
	xpl = tm_getext(r, SADB_X_EXT_POLICY);
	ATF_REQUIRE(xpl != NULL);
	ATF_CHECK_EQ(xpl->sadb_x_policy_id, id);
	addr = tm_getext(r, SADB_EXT_ADDRESS_DST);
	ATF_REQUIRE(addr != NULL);
	ATF_CHECK_EQ(((struct sockaddr_in *)(addr + 1))->sin_addr.s_addr,
	    ((struct sockaddr_in *)&d)->sin_addr.s_addr);
	ATF_CHECK(tm_getext(r, SADB_EXT_PROPOSAL) != NULL);
	free(r);
	/* Only registered sockets hear it. */
	ATF_CHECK_EQ(ts_pending(plain), 0);

	/* Throttled by time: a flood gives nothing more. */
	ATF_CHECK_EQ(key_acquire_spid(id, (struct sockaddr *)&s,
	    (struct sockaddr *)&d), EAGAIN);
	ATF_CHECK_EQ(ts_pending(ike), 0);

	/* The IKE daemon reports failure: the next one goes, same seq. */
	pb_init(&m, SADB_ACQUIRE, SADB_SATYPE_ESP, seq, PID);
	pb_hdr(&m)->sadb_msg_errno = ETIMEDOUT;
	ATF_REQUIRE_EQ(ts_send(ike, &m), 0);
	ATF_CHECK_EQ(ts_pending(ike), 0);	/* no reply */
	ATF_REQUIRE_EQ(key_acquire_spid(id, (struct sockaddr *)&s,
	    (struct sockaddr *)&d), 0);
	r = ts_recv(ike);
	ATF_REQUIRE(r != NULL);
	ATF_CHECK_EQ(r->sadb_msg_seq, seq);
	free(r);

	/* GETSPI with the ACQUIRE's seq completes it: a new one is new. */
	pb_init(&m, SADB_GETSPI, SADB_SATYPE_ESP, seq, PID);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A1, 0, -1, IPSEC_ULPROTO_ANY);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, A2, 0, -1, IPSEC_ULPROTO_ANY);
	pb_sa2(&m, IPSEC_MODE_TRANSPORT, 0);
	ATF_REQUIRE_EQ(ts_do(ike, &m), 0);
	ATF_REQUIRE_EQ(key_acquire_spid(id, (struct sockaddr *)&s,
	    (struct sockaddr *)&d), 0);
	r = ts_recv(ike);
	ATF_REQUIRE(r != NULL);
	ATF_CHECK(r->sadb_msg_seq != seq);
	free(r);
	ATF_CHECK_EQ(key_acquire_spid(id + 1000, (struct sockaddr *)&s,
	    (struct sockaddr *)&d), ENOENT);
	ts_close(ike);
	ts_close(plain);
	tk_stop();
}

ATF_TC(expire);
ATF_TC_HEAD(expire, tc)
{
	atf_tc_set_md_var(tc, "descr", "soft then hard EXPIRE, real timers");
	atf_tc_set_md_var(tc, "timeout", "30");
}
ATF_TC_BODY(expire, tc)
{
	struct sadb_lifetime *l;
	struct tsock *ts, *reg;
	struct sadb_msg *r;
	struct pb_msg m;
	u_int nsa, nsp;

	tk_start();
	ts = ts_open();
	reg = ts_open();
	pb_init(&m, SADB_REGISTER, SADB_SATYPE_ESP, 0, PID);
	ATF_REQUIRE_EQ(ts_do(reg, &m), 0);
	mk_add(&m, 0x7000, A1, A2);
	pb_hdr(&m)->sadb_msg_seq = 31;
	pb_lifetime(&m, SADB_EXT_LIFETIME_HARD, 0, 0, 2, 0);
	pb_lifetime(&m, SADB_EXT_LIFETIME_SOFT, 0, 0, 1, 0);
	ATF_REQUIRE_EQ(ts_do(ts, &m), 0);
	ts_drain(reg);

	r = ts_wait(reg, 5000);
	ATF_REQUIRE_MSG(r != NULL, "no soft EXPIRE");
	ATF_CHECK_EQ(r->sadb_msg_type, SADB_EXPIRE);
	ATF_CHECK_EQ(r->sadb_msg_seq, 31);
	ATF_CHECK(tm_getext(r, SADB_EXT_LIFETIME_SOFT) != NULL);
	ATF_CHECK(tm_getext(r, SADB_EXT_LIFETIME_HARD) == NULL);
	ATF_CHECK(tm_getext(r, SADB_EXT_KEY_ENCRYPT) == NULL);
	free(r);
	ATF_REQUIRE_EQ(do_get(ts, 0x7000, &r), 0);
	ATF_CHECK_EQ(((struct sadb_sa *)tm_getext(r, SADB_EXT_SA))->
	    sadb_sa_state, SADB_SASTATE_DYING);
	free(r);

	r = ts_wait(reg, 5000);
	ATF_REQUIRE_MSG(r != NULL, "no hard EXPIRE");
	ATF_CHECK_EQ(r->sadb_msg_type, SADB_EXPIRE);
	l = tm_getext(r, SADB_EXT_LIFETIME_HARD);
	ATF_REQUIRE(l != NULL);
	ATF_CHECK_EQ(l->sadb_lifetime_addtime, 2);
	free(r);
	key_counts(&nsa, &nsp);
	ATF_CHECK_EQ(nsa, 0);
	ATF_CHECK_EQ(do_get(ts, 0x7000, &r), ESRCH);
	free(r);

	/* A larval SA dies silently after net.key.larval_lifetime. */
	ATF_REQUIRE_EQ(key_sysctl_set("net.key.larval_lifetime", 1), 0);
	pb_init(&m, SADB_GETSPI, SADB_SATYPE_ESP, 0, PID);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A1, 0, -1, IPSEC_ULPROTO_ANY);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, A2, 0, -1, IPSEC_ULPROTO_ANY);
	ATF_REQUIRE_EQ(ts_do(ts, &m), 0);
	key_counts(&nsa, &nsp);
	ATF_CHECK_EQ(nsa, 1);
	sleep(3);
	key_counts(&nsa, &nsp);
	ATF_CHECK_EQ(nsa, 0);
	ATF_CHECK_EQ(ts_pending(reg), 0);
	ts_close(ts);
	ts_close(reg);
	tk_stop();
}

ATF_TC(spd_expire);
ATF_TC_HEAD(spd_expire, tc)
{
	atf_tc_set_md_var(tc, "descr", "a policy's hard lifetime: SPDEXPIRE");
	atf_tc_set_md_var(tc, "timeout", "30");
}
ATF_TC_BODY(spd_expire, tc)
{
	struct sadb_x_policy *xpl;
	struct sadb_lifetime *l;
	struct tsock *ts, *reg;
	struct sadb_msg *r;
	struct pb_msg m;
	u_int nsa, nsp;
	uint32_t id;

	tk_start();
	ts = ts_open();
	reg = ts_open();
	pb_init(&m, SADB_REGISTER, SADB_SATYPE_ESP, 0, PID);
	ATF_REQUIRE_EQ(ts_do(reg, &m), 0);
	pb_init(&m, SADB_X_SPDADD, SADB_SATYPE_UNSPEC, 0, PID);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A1, 0, -1, 255);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, A2, 0, -1, 255);
	pb_policy(&m, IPSEC_DIR_OUTBOUND, IPSEC_POLICY_DISCARD, 0, 0);
	pb_lifetime(&m, SADB_EXT_LIFETIME_HARD, 0, 0, 1, 0);
	ATF_REQUIRE_EQ(ts_call(ts, &m, &r), 0);
	xpl = tm_getext(r, SADB_X_EXT_POLICY);
	id = xpl->sadb_x_policy_id;
	free(r);
	ts_drain(reg);

	r = ts_wait(reg, 5000);
	ATF_REQUIRE_MSG(r != NULL, "no SPDEXPIRE");
	ATF_CHECK_EQ(r->sadb_msg_type, SADB_X_SPDEXPIRE);
	xpl = tm_getext(r, SADB_X_EXT_POLICY);
	ATF_REQUIRE(xpl != NULL);
	ATF_CHECK_EQ(xpl->sadb_x_policy_id, id);
	l = tm_getext(r, SADB_EXT_LIFETIME_HARD);
	ATF_REQUIRE(l != NULL);
	ATF_CHECK_EQ(l->sadb_lifetime_addtime, 1);
	ATF_CHECK(tm_getext(r, SADB_EXT_LIFETIME_CURRENT) != NULL);
	free(r);
	key_counts(&nsa, &nsp);
	ATF_CHECK_EQ(nsp, 0);
	/* Not sent to sockets that did not register. */
	ATF_CHECK_EQ(ts_pending(ts), 0);
	ts_close(ts);
	ts_close(reg);
	tk_stop();
}

ATF_TC_WITHOUT_HEAD(promisc);
ATF_TC_BODY(promisc, tc)
{
	struct tsock *ts, *watcher;
	struct sadb_msg *r, *inner;
	struct pb_msg m;

	tk_start();
	ts = ts_open();
	watcher = ts_open();
	pb_init(&m, SADB_X_PROMISC, 1, 0, PID);
	ATF_REQUIRE_EQ(ts_do(watcher, &m), 0);
	ts_drain(watcher);
	ts_drain(ts);

	/* A reply meant for one socket reaches the watcher, wrapped. */
	pb_init(&m, SADB_DUMP, SADB_SATYPE_UNSPEC, 0, PID);
	ATF_CHECK_EQ(ts_do(ts, &m), ENOENT);
	r = ts_recv(watcher);
	ATF_REQUIRE(r != NULL);
	ATF_CHECK_EQ(r->sadb_msg_type, SADB_X_PROMISC);
	inner = r + 1;
	ATF_CHECK_EQ(inner->sadb_msg_type, SADB_DUMP);
	ATF_CHECK_EQ(inner->sadb_msg_errno, ENOENT);
	free(r);
	ATF_CHECK_EQ(ts_pending(watcher), 0);

	/* Off again. */
	pb_init(&m, SADB_X_PROMISC, 0, 0, PID);
	ATF_REQUIRE_EQ(ts_do(watcher, &m), 0);
	ts_drain(watcher);
	/* The switch itself was echoed to everyone (FreeBSD: ALL). */
	r = ts_recv(ts);
	ATF_REQUIRE(r != NULL);
	ATF_CHECK_EQ(r->sadb_msg_type, SADB_X_PROMISC);
	free(r);
	pb_init(&m, SADB_DUMP, SADB_SATYPE_UNSPEC, 0, PID);
	ATF_CHECK_EQ(ts_do(ts, &m), ENOENT);
	ATF_CHECK_EQ(ts_pending(watcher), 0);
	ts_close(ts);
	ts_close(watcher);
	tk_stop();
}

ATF_TC_WITHOUT_HEAD(tunables);
ATF_TC_BODY(tunables, tc)
{
	long v;

	ATF_CHECK_EQ(key_sysctl_get("net.key.larval_lifetime", &v), 0);
	ATF_CHECK_EQ(v, 30);
	ATF_CHECK_EQ(key_sysctl_set("net.key.larval_lifetime", 5), 0);
	ATF_CHECK_EQ(key_sysctl_get("net.key.larval_lifetime", &v), 0);
	ATF_CHECK_EQ(v, 5);
	ATF_CHECK_EQ(key_sysctl_set("net.key.larval_lifetime", 0), EINVAL);
	ATF_CHECK_EQ(key_sysctl_set("net.key.nonesuch", 1), ENOENT);
	ATF_CHECK_EQ(key_sysctl_set("net.key.spi_minval", 0x10000000),
	    EINVAL);	/* above spi_maxval */
}

/* The log(9) lines of the engine that mention "what". */
static const char *loglines_what;
static int loglines;

static void
count_log(int pri, const char *msg)
{

	(void)pri;
	if (strstr(msg, loglines_what) != NULL)
		loglines++;
}

static int
do_getspi(struct tsock *ts, const char *dst)
{
	struct pb_msg m;

	pb_init(&m, SADB_GETSPI, SADB_SATYPE_ESP, 0, PID);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A1, 0, -1, IPSEC_ULPROTO_ANY);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, dst, 0, -1, IPSEC_ULPROTO_ANY);
	return (ts_do(ts, &m));
}

ATF_TC_WITHOUT_HEAD(sa_max);
ATF_TC_BODY(sa_max, tc)
{
	struct keystat st;
	struct sadb_msg *r;
	struct tsock *ts;
	struct pb_msg m;
	u_int nsa, nsp, i;

	ATF_REQUIRE_EQ(key_sysctl_set("net.key.sa_max", 0), EINVAL);
	ATF_REQUIRE_EQ(key_sysctl_set("net.key.sa_max", 3), 0);
	loglines_what = "net.key.sa_max=3";
	ukern_set_logger(count_log);
	tk_start();
	ts = ts_open();
	ATF_REQUIRE_EQ(do_add(ts, 0x1001), 0);
	ATF_REQUIRE_EQ(do_add(ts, 0x1002), 0);
	ATF_REQUIRE_EQ(do_getspi(ts, A2), 0);	/* larval SAs count */

	/* Full: ADD and GETSPI answer ENOBUFS, the request echoed. */
	mk_add(&m, 0x1003, A1, A2);
	ATF_CHECK_EQ(ts_call(ts, &m, &r), ENOBUFS);
	ATF_REQUIRE(r != NULL);
	ATF_CHECK_EQ(r->sadb_msg_type, SADB_ADD);
	ATF_CHECK_EQ(PFKEY_UNUNIT64((size_t)r->sadb_msg_len), m.len);
	free(r);
	for (i = 0; i < 50; i++)
		ATF_CHECK_EQ(do_getspi(ts, A2), ENOBUFS);
	key_counts(&nsa, &nsp);
	ATF_CHECK_EQ(nsa, 3);
	key_getstat(&st);
	ATF_CHECK_EQ(st.ks_sadfull, 51);
	ATF_CHECK_EQ_MSG(loglines, 1, "%d log lines for 51 refusals",
	    loglines);

	/* Nothing lost, and room again once an SA goes. */
	r = NULL;
	ATF_CHECK_EQ(do_get(ts, 0x1001, &r), 0);
	free(r);
	pb_init(&m, SADB_DELETE, SADB_SATYPE_ESP, 0, PID);
	pb_sa(&m, 0x1002, 0, 0, 0, 0);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A1, 0, -1, IPSEC_ULPROTO_ANY);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, A2, 0, -1, IPSEC_ULPROTO_ANY);
	ATF_CHECK_EQ(ts_do(ts, &m), 0);
	ATF_CHECK_EQ(do_add(ts, 0x1003), 0);
	ATF_CHECK_EQ(do_add(ts, 0x1004), ENOBUFS);
	ts_close(ts);
	tk_stop();
	ukern_set_logger(NULL);
}

ATF_TC_WITHOUT_HEAD(sp_max);
ATF_TC_BODY(sp_max, tc)
{
	struct keystat st;
	struct tsock *ts;
	u_int nsa, nsp;

	ATF_REQUIRE_EQ(key_sysctl_set("net.key.sp_max", 2), 0);
	tk_start();
	ts = ts_open();
	ATF_REQUIRE_EQ(spdadd(ts, SADB_X_SPDADD, A1, 0, A2, 0, 255,
	    IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, 0, NULL), 0);
	ATF_REQUIRE_EQ(spdadd(ts, SADB_X_SPDADD, A2, 0, A1, 0, 255,
	    IPSEC_DIR_INBOUND, IPSEC_POLICY_IPSEC, 0, NULL), 0);
	ATF_CHECK_EQ(spdadd(ts, SADB_X_SPDADD, A1, 80, A2, 0, 6,
	    IPSEC_DIR_OUTBOUND, IPSEC_POLICY_NONE, 0, NULL), ENOBUFS);
	ATF_CHECK_EQ(spdadd(ts, SADB_X_SPDUPDATE, A1, 80, A2, 0, 6,
	    IPSEC_DIR_OUTBOUND, IPSEC_POLICY_NONE, 0, NULL), ENOBUFS);
	/* Replacing a policy keeps the count: allowed when full. */
	ATF_CHECK_EQ(spdadd(ts, SADB_X_SPDUPDATE, A1, 0, A2, 0, 255,
	    IPSEC_DIR_OUTBOUND, IPSEC_POLICY_DISCARD, 0, NULL), 0);
	key_counts(&nsa, &nsp);
	ATF_CHECK_EQ(nsp, 2);
	key_getstat(&st);
	ATF_CHECK_EQ(st.ks_spdfull, 2);
	ts_close(ts);
	tk_stop();
}

/* A userland ACQUIRE for A1 -> dst: the errno of the reply, 0 if none. */
static int
user_acquire(struct tsock *ts, const char *dst)
{
	struct sadb_prop *prop;
	struct sadb_msg *r;
	struct pb_msg m;
	int e;

	pb_init(&m, SADB_ACQUIRE, SADB_SATYPE_ESP, 0, PID);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A1, 0, -1, IPSEC_ULPROTO_ANY);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, dst, 0, -1, IPSEC_ULPROTO_ANY);
	prop = pb_ext(&m, SADB_EXT_PROPOSAL, sizeof(*prop));
	prop->sadb_prop_replay = 32;
	e = ts_call(ts, &m, &r);
	free(r);
	return (e);
}

ATF_TC_WITHOUT_HEAD(acq_max);
ATF_TC_BODY(acq_max, tc)
{
	struct keystat st;
	struct tsock *ts;

	ATF_REQUIRE_EQ(key_sysctl_set("net.key.acq_max", 2), 0);
	tk_start();
	ts = ts_open();
	/* Sent to the registered sockets (none): no reply on success. */
	ATF_CHECK_EQ(user_acquire(ts, "198.51.100.1"), -1000);
	ATF_CHECK_EQ(user_acquire(ts, "198.51.100.2"), -1000);
	ATF_CHECK_EQ(user_acquire(ts, "198.51.100.3"), ENOBUFS);
	/* A known SA index is throttled, not refused. */
	ATF_CHECK_EQ(user_acquire(ts, "198.51.100.1"), -1000);
	key_getstat(&st);
	ATF_CHECK_EQ(st.ks_acqfull, 1);
	ts_close(ts);
	tk_stop();
}

/*
 * Streamed dumps.  The test socket's output says EWOULDBLOCK once
 * "dumproom" messages wait; key_dump_resume() stands for the user's read.
 */
struct dumpcheck {
	uint8_t		*seen;		/* per SPI - base, or per policy id */
	uint32_t	 base, n;
	uint32_t	 lastseq;
	int		 nmsg, dups, done, keyless, bad;
};

/* Take what the socket holds of a dump (of type "type"). */
static void
dump_take(struct tsock *ts, struct dumpcheck *dc, int type)
{
	struct sadb_x_policy *xpl;
	struct sadb_msg *r;
	uint32_t id;

	while ((r = ts_recv(ts)) != NULL) {
		if (r->sadb_msg_type != type) {
			free(r);	/* another socket's broadcast */
			continue;
		}
		if (r->sadb_msg_errno != 0 || dc->done || (dc->nmsg > 0 &&
		    r->sadb_msg_seq >= dc->lastseq)) {
			dc->bad++;
			free(r);
			continue;
		}
		dc->lastseq = r->sadb_msg_seq;
		dc->nmsg++;
		if (r->sadb_msg_seq == 0)
			dc->done = 1;
		if (type == SADB_DUMP) {
			id = ntohl(((struct sadb_sa *)tm_getext(r,
			    SADB_EXT_SA))->sadb_sa_spi);
			if (tm_getext(r, SADB_EXT_KEY_ENCRYPT) == NULL)
				dc->keyless++;
		} else {
			xpl = tm_getext(r, SADB_X_EXT_POLICY);
			id = xpl != NULL ? xpl->sadb_x_policy_id : 0;
		}
		if (id - dc->base >= dc->n || dc->seen[id - dc->base]++ != 0)
			dc->dups++;
		free(r);
	}
}

static void
dc_init(struct dumpcheck *dc, uint32_t base, uint32_t n)
{

	memset(dc, 0, sizeof(*dc));
	dc->seen = calloc(n, 1);
	ATF_REQUIRE(dc->seen != NULL);
	dc->base = base;
	dc->n = n;
}

static int
do_delete(struct tsock *ts, uint32_t spi)
{
	struct pb_msg m;

	pb_init(&m, SADB_DELETE, SADB_SATYPE_ESP, 0, PID);
	pb_sa(&m, spi, 0, 0, 0, 0);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, A1, 0, -1, IPSEC_ULPROTO_ANY);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, A2, 0, -1, IPSEC_ULPROTO_ANY);
	return (ts_do(ts, &m));
}

ATF_TC_WITHOUT_HEAD(dump_stream);
ATF_TC_BODY(dump_stream, tc)
{
	struct dumpcheck dc;
	struct keystat st;
	struct sadb_msg *r;
	struct tsock *ts, *other;
	struct pb_msg m;
	uint32_t i, n = 1000;
	int rounds, e;

	tk_start();
	ts = ts_open();
	other = ts_open();
	for (i = 0; i < n; i++)
		ATF_REQUIRE_EQ(do_add(other, 0x10000 + i), 0);
	ts_drain(ts);
	ts->dumproom = 10;
	dc_init(&dc, 0x10000, n);
	pb_init(&m, SADB_DUMP, SADB_SATYPE_UNSPEC, 7, PID);
	ATF_REQUIRE_EQ(ts_send(ts, &m), 0);
	ATF_CHECK_EQ(ts_pending(ts), 10);
	dump_take(ts, &dc, SADB_DUMP);
	ATF_CHECK_EQ(dc.lastseq, n - 10);

	/* Meanwhile: another dump is refused, other requests served. */
	pb_init(&m, SADB_DUMP, SADB_SATYPE_ESP, 8, PID);
	ATF_CHECK_EQ(ts_do(ts, &m), EBUSY);
	pb_init(&m, SADB_X_SPDDUMP, SADB_SATYPE_UNSPEC, 9, PID);
	ATF_CHECK_EQ(ts_do(ts, &m), EBUSY);
	r = NULL;
	ATF_CHECK_EQ(do_get(ts, 0x10000 + 5, &r), 0);
	free(r);
	/* Another socket dumps at the same time, all at once. */
	pb_init(&m, SADB_DUMP, SADB_SATYPE_ESP, 10, PID);
	ATF_REQUIRE_EQ(ts_send(other, &m), 0);
	ATF_CHECK_EQ(ts_pending(other), n);
	ts_drain(other);

	for (rounds = 0; !dc.done && rounds < 1000; rounds++) {
		e = key_dump_resume(ts->kp);
		ATF_CHECK(ts_pending(ts) <= 10);
		dump_take(ts, &dc, SADB_DUMP);
		ATF_CHECK_EQ(e, dc.done ? 0 : EINPROGRESS);
	}
	ATF_CHECK_EQ(rounds, (int)(n / 10 - 1));
	ATF_CHECK(dc.done);
	ATF_CHECK_EQ(dc.nmsg, (int)n);
	ATF_CHECK_EQ(dc.dups, 0);
	ATF_CHECK_EQ(dc.bad, 0);
	ATF_CHECK_EQ(dc.keyless, 0);
	ATF_CHECK_EQ(key_dump_resume(ts->kp), 0);	/* nothing pending */
	ATF_CHECK_EQ(ts_pending(ts), 0);
	key_getstat(&st);
	ATF_CHECK_EQ(st.ks_dumpbusy, 2);
	/* Over: a new dump is welcome. */
	ts->dumproom = 0;
	pb_init(&m, SADB_DUMP, SADB_SATYPE_ESP, 11, PID);
	ATF_REQUIRE_EQ(ts_send(ts, &m), 0);
	ATF_CHECK_EQ(ts_pending(ts), n);
	free(dc.seen);
	ts_close(other);
	ts_close(ts);
	tk_stop();
}

ATF_TC_WITHOUT_HEAD(dump_delete);
ATF_TC_BODY(dump_delete, tc)
{
	struct dumpcheck dc;
	struct tsock *ts, *other;
	struct pb_msg m;
	uint32_t i, n = 200, gone;
	int rounds;

	tk_start();
	ts = ts_open();
	other = ts_open();
	for (i = 0; i < n; i++)
		ATF_REQUIRE_EQ(do_add(other, 0x10000 + i), 0);
	ts_drain(ts);
	ts->dumproom = 10;
	dc_init(&dc, 0x10000, n);
	pb_init(&m, SADB_DUMP, SADB_SATYPE_ESP, 1, PID);
	ATF_REQUIRE_EQ(ts_send(ts, &m), 0);
	dump_take(ts, &dc, SADB_DUMP);
	ATF_REQUIRE_EQ(dc.nmsg, 10);

	/* Half the SAs not dumped yet go, and new ones come. */
	gone = 0;
	for (i = 0; i < n; i += 2)
		if (!dc.seen[i]) {
			ATF_REQUIRE_EQ(do_delete(other, 0x10000 + i), 0);
			dc.seen[i] = 2;		/* may still come once */
			gone++;
		}
	for (i = 0; i < 20; i++)
		ATF_REQUIRE_EQ(do_add(other, 0x20000 + i), 0);
	for (rounds = 0; !dc.done && rounds < 1000; rounds++) {
		(void)key_dump_resume(ts->kp);
		dump_take(ts, &dc, SADB_DUMP);
	}
	ATF_CHECK(dc.done);
	ATF_CHECK_EQ(dc.bad, 0);
	/* Every survivor once; of the deleted, at most the one built. */
	for (i = 0; i < n; i++) {
		if (dc.seen[i] == 2 || dc.seen[i] == 3)
			continue;
		ATF_CHECK_EQ_MSG(dc.seen[i], 1, "SPI %#x seen %d times",
		    0x10000 + i, dc.seen[i]);
	}
	ATF_CHECK_MSG(dc.dups <= 1, "%d deleted SAs dumped", dc.dups);
	ATF_CHECK_EQ(dc.nmsg, (int)(n - gone) + dc.dups);

	/* Everything goes mid-dump: the message built is the last one. */
	ts_drain(ts);
	free(dc.seen);
	dc_init(&dc, 0x10000, 0x20000);
	pb_init(&m, SADB_DUMP, SADB_SATYPE_ESP, 2, PID);
	ATF_REQUIRE_EQ(ts_send(ts, &m), 0);
	dump_take(ts, &dc, SADB_DUMP);
	ATF_REQUIRE_EQ(dc.nmsg, 10);
	ATF_REQUIRE(!dc.done);
	pb_init(&m, SADB_FLUSH, SADB_SATYPE_UNSPEC, 0, PID);
	ATF_REQUIRE_EQ(ts_do(other, &m), 0);
	ATF_CHECK_EQ(key_dump_resume(ts->kp), 0);
	dump_take(ts, &dc, SADB_DUMP);
	ATF_CHECK_EQ(dc.nmsg, 11);
	ATF_CHECK(dc.done);
	ATF_CHECK_EQ(dc.bad, 0);
	free(dc.seen);
	ts_close(other);
	ts_close(ts);
	tk_stop();
}

ATF_TC_WITHOUT_HEAD(spddump_stream);
ATF_TC_BODY(spddump_stream, tc)
{
	struct dumpcheck dc;
	struct tsock *ts, *other;
	struct pb_msg m;
	uint32_t i, n = 300, first = 0, id;
	int rounds;

	tk_start();
	ts = ts_open();
	other = ts_open();
	for (i = 0; i < n; i++) {
		ATF_REQUIRE_EQ(spdadd(other, SADB_X_SPDADD, A1, 1000 + i, A2,
		    0, IPPROTO_UDP, i % 2 ? IPSEC_DIR_INBOUND :
		    IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, 0, &id), 0);
		if (i == 0)
			first = id;
		ATF_REQUIRE_EQ(id, first + i);
	}
	ts_drain(ts);
	ts->dumproom = 7;
	dc_init(&dc, first, n);
	pb_init(&m, SADB_X_SPDDUMP, SADB_SATYPE_UNSPEC, 1, PID);
	ATF_REQUIRE_EQ(ts_send(ts, &m), 0);
	ATF_CHECK_EQ(ts_pending(ts), 7);
	for (rounds = 0; !dc.done && rounds < 1000; rounds++) {
		dump_take(ts, &dc, SADB_X_SPDDUMP);
		(void)key_dump_resume(ts->kp);
	}
	dump_take(ts, &dc, SADB_X_SPDDUMP);
	ATF_CHECK(dc.done);
	ATF_CHECK_EQ(dc.nmsg, (int)n);
	ATF_CHECK_EQ(dc.dups, 0);
	ATF_CHECK_EQ(dc.bad, 0);

	/* SPDFLUSH midway: the message built ends the dump. */
	free(dc.seen);
	dc_init(&dc, first, n);
	ATF_REQUIRE_EQ(ts_send(ts, &m), 0);
	dump_take(ts, &dc, SADB_X_SPDDUMP);
	ATF_REQUIRE_EQ(dc.nmsg, 7);
	pb_init(&m, SADB_X_SPDFLUSH, SADB_SATYPE_UNSPEC, 0, PID);
	ATF_REQUIRE_EQ(ts_do(other, &m), 0);
	ATF_CHECK_EQ(key_dump_resume(ts->kp), 0);
	dump_take(ts, &dc, SADB_X_SPDDUMP);
	ATF_CHECK_EQ(dc.nmsg, 8);
	ATF_CHECK(dc.done);
	ATF_CHECK_EQ(dc.bad, 0);
	/* An empty SPD: ENOENT, as before. */
	pb_init(&m, SADB_X_SPDDUMP, SADB_SATYPE_UNSPEC, 2, PID);
	ATF_CHECK_EQ(ts_do(ts, &m), ENOENT);
	free(dc.seen);
	ts_close(other);
	ts_close(ts);
	tk_stop();
}

/* What ukern's free() releases: does any of it still hold a key? */
struct malloc_type;
extern void (*ukern_free_hook)(void *, size_t, struct malloc_type *);
static int dirty_frees;

static void
find_key(void *p, size_t len, struct malloc_type *type)
{

	(void)type;
	if (memmem(p, len, key16, sizeof(key16)) != NULL)
		dirty_frees++;
}

ATF_TC_WITHOUT_HEAD(dump_detach);
ATF_TC_BODY(dump_detach, tc)
{
	struct tsock *ts, *other;
	struct pb_msg m;
	uint32_t i;
	u_int nsa, nsp;

	tk_start();
	other = ts_open();
	for (i = 0; i < 100; i++)
		ATF_REQUIRE_EQ(do_add(other, 0x10000 + i), 0);
	ukern_free_hook = find_key;
	ts = ts_open();
	ts->dumproom = 5;
	pb_init(&m, SADB_DUMP, SADB_SATYPE_ESP, 1, PID);
	ATF_REQUIRE_EQ(ts_send(ts, &m), 0);
	ATF_CHECK_EQ(ts_pending(ts), 5);
	/* The socket goes mid-dump: its dump goes with it. */
	ts_close(ts);
	ATF_CHECK_EQ(key_dump_resume(other->kp), 0);
	key_counts(&nsa, &nsp);
	ATF_CHECK_EQ(nsa, 100);
	ts_close(other);
	tk_stop();
	ukern_free_hook = NULL;
	ATF_CHECK_EQ_MSG(dirty_frees, 0, "%d buffers freed with a key in "
	    "them", dirty_frees);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, add_get_delete);
	ATF_TP_ADD_TC(tp, add_refused);
	ATF_TP_ADD_TC(tp, getspi_update);
	ATF_TP_ADD_TC(tp, dump_flush_deleteall);
	ATF_TP_ADD_TC(tp, register_supported);
	ATF_TP_ADD_TC(tp, framing_errors);
	ATF_TP_ADD_TC(tp, semantic_errors);
	ATF_TP_ADD_TC(tp, spd_messages);
	ATF_TP_ADD_TC(tp, acquire);
	ATF_TP_ADD_TC(tp, expire);
	ATF_TP_ADD_TC(tp, spd_expire);
	ATF_TP_ADD_TC(tp, promisc);
	ATF_TP_ADD_TC(tp, tunables);
	ATF_TP_ADD_TC(tp, sa_max);
	ATF_TP_ADD_TC(tp, sp_max);
	ATF_TP_ADD_TC(tp, acq_max);
	ATF_TP_ADD_TC(tp, dump_stream);
	ATF_TP_ADD_TC(tp, dump_delete);
	ATF_TP_ADD_TC(tp, spddump_stream);
	ATF_TP_ADD_TC(tp, dump_detach);
	return (atf_no_error());
}
