/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The pfkey_send_*() builders: each message is sent into a
 * SOCK_SEQPACKET pair, read back and decoded field by field.  Also the
 * argument checks that keep a bad request from being sent at all, the
 * REGISTER bookkeeping behind ipsec_check_keylen(), and soft rates.
 */

#include "libpfkey_test.h"

struct t_sent {
	struct sadb_msg	*msg;
	size_t		 len;
	char		*mhp[SADB_EXT_MAX + 1];
};

/* Read what the builder sent and split it; checks the common header. */
static void
t_recv(int so, struct t_sent *s, int ret, u_int type, u_int satype,
    uint32_t seq)
{

	ATF_REQUIRE_MSG(ret > 0, "builder failed: %s", ipsec_strerror());
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_NO_ERROR);
	s->msg = t_read(so, &s->len);
	ATF_CHECK_EQ((size_t)ret, s->len);
	ATF_REQUIRE_EQ(PFKEY_UNUNIT64((size_t)s->msg->sadb_msg_len), s->len);
	ATF_REQUIRE_EQ_MSG(pfkey_align(s->msg, s->mhp), 0, "%s",
	    ipsec_strerror());
	ATF_CHECK_EQ(pfkey_check(s->mhp), 0);
	ATF_CHECK_EQ(s->msg->sadb_msg_version, PF_KEY_V2);
	ATF_CHECK_EQ(s->msg->sadb_msg_type, type);
	ATF_CHECK_EQ(s->msg->sadb_msg_satype, satype);
	ATF_CHECK_EQ(s->msg->sadb_msg_errno, 0);
	ATF_CHECK_EQ(s->msg->sadb_msg_reserved, 0);
	ATF_CHECK_EQ(s->msg->sadb_msg_seq, seq);
	ATF_CHECK_EQ(s->msg->sadb_msg_pid, (uint32_t)getpid());
}

/* The extension types in the order they appear. */
static void
t_order(const struct t_sent *s, const u_int *want, size_t n)
{
	const struct sadb_ext *ext;
	size_t off, i;

	i = 0;
	for (off = sizeof(struct sadb_msg); off < s->len;
	    off += PFKEY_EXTLEN(ext), i++) {
		ext = (const struct sadb_ext *)(const void *)
		    ((const char *)s->msg + off);
		ATF_REQUIRE(i < n);
		ATF_CHECK_EQ_MSG(ext->sadb_ext_type, want[i],
		    "extension %zu is %u, want %u", i, ext->sadb_ext_type,
		    want[i]);
	}
	ATF_CHECK_EQ(i, n);
}

static void
t_check_addr(const struct t_sent *s, u_int type, const void *sa,
    size_t salen, u_int prefixlen, u_int proto)
{
	const struct sadb_address *a;

	a = (const struct sadb_address *)(const void *)s->mhp[type];
	ATF_REQUIRE(a != NULL);
	ATF_CHECK_EQ((size_t)PFKEY_EXTLEN(a), sizeof(*a) + PFKEY_ALIGN8(salen));
	ATF_CHECK_EQ(a->sadb_address_prefixlen, prefixlen);
	ATF_CHECK_EQ(a->sadb_address_proto, proto);
	ATF_CHECK_EQ(a->sadb_address_reserved, 0);
	ATF_CHECK(memcmp(a + 1, sa, salen) == 0);
}

static void
t_free(struct t_sent *s)
{

	free(s->msg);
	s->msg = NULL;
}

ATF_TC_WITHOUT_HEAD(getspi);
ATF_TC_BODY(getspi, tc)
{
	static const u_int order[] = { SADB_X_EXT_SA2, SADB_EXT_ADDRESS_SRC,
	    SADB_EXT_ADDRESS_DST, SADB_EXT_SPIRANGE };
	struct sockaddr_in src, dst;
	struct sockaddr_in6 src6;
	struct sadb_x_sa2 *sa2;
	struct sadb_spirange *r;
	struct t_sent s;
	int sv[2];

	t_sockpair(sv);
	src = t_sin("198.51.100.2", 0);
	dst = t_sin("198.51.100.6", 0);

	t_recv(sv[1], &s, pfkey_send_getspi(sv[0], SADB_SATYPE_ESP,
	    IPSEC_MODE_TUNNEL, (struct sockaddr *)&src, (struct sockaddr *)&dst,
	    0x1000, 0x1fff, 42, 77), SADB_GETSPI, SADB_SATYPE_ESP, 77);
	t_order(&s, order, 4);
	sa2 = (struct sadb_x_sa2 *)(void *)s.mhp[SADB_X_EXT_SA2];
	ATF_CHECK_EQ(sa2->sadb_x_sa2_mode, IPSEC_MODE_TUNNEL);
	ATF_CHECK_EQ(sa2->sadb_x_sa2_reqid, 42);
	ATF_CHECK_EQ(sa2->sadb_x_sa2_sequence, 0);
	t_check_addr(&s, SADB_EXT_ADDRESS_SRC, &src, sizeof(src), 32, 255);
	t_check_addr(&s, SADB_EXT_ADDRESS_DST, &dst, sizeof(dst), 32, 255);
	r = (struct sadb_spirange *)(void *)s.mhp[SADB_EXT_SPIRANGE];
	ATF_CHECK_EQ(r->sadb_spirange_min, 0x1000);
	ATF_CHECK_EQ(r->sadb_spirange_max, 0x1fff);
	ATF_CHECK_EQ(r->sadb_spirange_reserved, 0);
	t_free(&s);

	/* The full range leaves the choice to the kernel: no SPIRANGE. */
	t_recv(sv[1], &s, pfkey_send_getspi(sv[0], SADB_SATYPE_AH, 0,
	    (struct sockaddr *)&src, (struct sockaddr *)&dst, 0, UINT32_MAX,
	    0, 1), SADB_GETSPI, SADB_SATYPE_AH, 1);
	t_order(&s, order, 3);
	t_free(&s);
	t_recv(sv[1], &s, pfkey_send_getspi(sv[0], SADB_SATYPE_AH, 0,
	    (struct sockaddr *)&src, (struct sockaddr *)&dst, 256, UINT32_MAX,
	    0, 1), SADB_GETSPI, SADB_SATYPE_AH, 1);
	t_order(&s, order, 3);
	t_free(&s);

	/* Refused before anything is sent. */
	ATF_CHECK_EQ(pfkey_send_getspi(sv[0], SADB_SATYPE_ESP, 0,
	    (struct sockaddr *)&src, (struct sockaddr *)&dst, 100, 200, 0, 0),
	    -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_SPI);
	ATF_CHECK_EQ(pfkey_send_getspi(sv[0], SADB_SATYPE_ESP, 0,
	    (struct sockaddr *)&src, (struct sockaddr *)&dst, 3000, 2000, 0, 0),
	    -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_SPI);
	src6 = t_sin6("2001:db8::1", 0);
	ATF_CHECK_EQ(pfkey_send_getspi(sv[0], SADB_SATYPE_ESP, 0,
	    (struct sockaddr *)&src6, (struct sockaddr *)&dst, 0, 0, 0, 0), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_FAMILY_MISMATCH);
	ATF_CHECK_EQ(pfkey_send_getspi(sv[0], SADB_SATYPE_ESP, 0, NULL,
	    (struct sockaddr *)&dst, 0, 0, 0, 0), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_ARGUMENT);
	t_nothing_sent(sv[1]);
}

ATF_TC_WITHOUT_HEAD(add_esp);
ATF_TC_BODY(add_esp, tc)
{
	static const u_int order[] = { SADB_EXT_SA, SADB_X_EXT_SA2,
	    SADB_EXT_ADDRESS_SRC, SADB_EXT_ADDRESS_DST, SADB_EXT_KEY_ENCRYPT,
	    SADB_EXT_KEY_AUTH, SADB_EXT_LIFETIME_HARD, SADB_EXT_LIFETIME_SOFT };
	/* 20 bytes of AES-GCM-16 key + salt, then 32 of HMAC key. */
	char keymat[52];
	struct sockaddr_in6 src, dst;
	struct sadb_sa *sa;
	struct sadb_x_sa2 *sa2;
	struct sadb_key *k;
	struct sadb_lifetime *h, *sl;
	struct t_sent s;
	size_t i;
	int sv[2];

	for (i = 0; i < sizeof(keymat); i++)
		keymat[i] = (char)i;
	t_sockpair(sv);
	src = t_sin6("2001:db8:23::2", 0);
	dst = t_sin6("2001:db8:34::2", 0);

	t_recv(sv[1], &s, pfkey_send_add(sv[0], SADB_SATYPE_ESP,
	    IPSEC_MODE_TRANSPORT, (struct sockaddr *)&src,
	    (struct sockaddr *)&dst, htonl(0x1001), 100, 8, keymat,
	    SADB_X_EALG_AESGCM16, 20, SADB_X_AALG_SHA2_256, 32,
	    SADB_X_EXT_CYCSEQ, 10, 1000000, 3600, 600, 5),
	    SADB_ADD, SADB_SATYPE_ESP, 5);
	t_order(&s, order, 8);

	sa = (struct sadb_sa *)(void *)s.mhp[SADB_EXT_SA];
	ATF_CHECK_EQ(ntohl(sa->sadb_sa_spi), 0x1001);
	ATF_CHECK_EQ(sa->sadb_sa_replay, 8);
	ATF_CHECK_EQ(sa->sadb_sa_state, SADB_SASTATE_LARVAL);
	ATF_CHECK_EQ(sa->sadb_sa_auth, SADB_X_AALG_SHA2_256);
	ATF_CHECK_EQ(sa->sadb_sa_encrypt, SADB_X_EALG_AESGCM16);
	ATF_CHECK_EQ(sa->sadb_sa_flags, SADB_X_EXT_CYCSEQ);
	sa2 = (struct sadb_x_sa2 *)(void *)s.mhp[SADB_X_EXT_SA2];
	ATF_CHECK_EQ(sa2->sadb_x_sa2_mode, IPSEC_MODE_TRANSPORT);
	ATF_CHECK_EQ(sa2->sadb_x_sa2_reqid, 100);
	t_check_addr(&s, SADB_EXT_ADDRESS_SRC, &src, sizeof(src), 128, 255);
	t_check_addr(&s, SADB_EXT_ADDRESS_DST, &dst, sizeof(dst), 128, 255);

	/* Keys: bits, padding to 8 bytes with zeros, content. */
	k = (struct sadb_key *)(void *)s.mhp[SADB_EXT_KEY_ENCRYPT];
	ATF_CHECK_EQ(k->sadb_key_bits, 160);
	ATF_CHECK_EQ(PFKEY_EXTLEN(k), 8 + 24);
	ATF_CHECK(memcmp(k + 1, keymat, 20) == 0);
	ATF_CHECK(memcmp((char *)(k + 1) + 20, "\0\0\0\0", 4) == 0);
	k = (struct sadb_key *)(void *)s.mhp[SADB_EXT_KEY_AUTH];
	ATF_CHECK_EQ(k->sadb_key_bits, 256);
	ATF_CHECK_EQ(PFKEY_EXTLEN(k), 8 + 32);
	ATF_CHECK(memcmp(k + 1, keymat + 20, 32) == 0);

	/* HARD as given, SOFT at the default 80 %. */
	h = (struct sadb_lifetime *)(void *)s.mhp[SADB_EXT_LIFETIME_HARD];
	ATF_CHECK_EQ(h->sadb_lifetime_allocations, 10);
	ATF_CHECK_EQ(h->sadb_lifetime_bytes, 1000000);
	ATF_CHECK_EQ(h->sadb_lifetime_addtime, 3600);
	ATF_CHECK_EQ(h->sadb_lifetime_usetime, 600);
	sl = (struct sadb_lifetime *)(void *)s.mhp[SADB_EXT_LIFETIME_SOFT];
	ATF_CHECK_EQ(sl->sadb_lifetime_allocations, 8);
	ATF_CHECK_EQ(sl->sadb_lifetime_bytes, 800000);
	ATF_CHECK_EQ(sl->sadb_lifetime_addtime, 2880);
	ATF_CHECK_EQ(sl->sadb_lifetime_usetime, 480);
	t_free(&s);

	/* UPDATE: the same message but its type; 64-bit byte counts. */
	t_recv(sv[1], &s, pfkey_send_update(sv[0], SADB_SATYPE_ESP, 0,
	    (struct sockaddr *)&src, (struct sockaddr *)&dst, htonl(0x1001), 0,
	    0, keymat, SADB_EALG_NULL, 0, SADB_AALG_NONE, 0, 0, 0,
	    UINT64_MAX, 0, 0, 9), SADB_UPDATE, SADB_SATYPE_ESP, 9);
	/* ESP-NULL still carries an (empty) encryption key extension. */
	k = (struct sadb_key *)(void *)s.mhp[SADB_EXT_KEY_ENCRYPT];
	ATF_REQUIRE(k != NULL);
	ATF_CHECK_EQ(k->sadb_key_bits, 0);
	ATF_CHECK_EQ(PFKEY_EXTLEN(k), 8);
	ATF_CHECK(s.mhp[SADB_EXT_KEY_AUTH] == NULL);
	h = (struct sadb_lifetime *)(void *)s.mhp[SADB_EXT_LIFETIME_HARD];
	ATF_CHECK_EQ(h->sadb_lifetime_bytes, UINT64_MAX);
	sl = (struct sadb_lifetime *)(void *)s.mhp[SADB_EXT_LIFETIME_SOFT];
	ATF_CHECK_EQ(sl->sadb_lifetime_bytes, UINT64_MAX / 100 * 80 +
	    UINT64_MAX % 100 * 80 / 100);
	t_free(&s);
	t_nothing_sent(sv[1]);
}

/* Replay windows over 255 bytes also go in SA_REPLAY, in packets. */
ATF_TC_WITHOUT_HEAD(add_replay);
ATF_TC_BODY(add_replay, tc)
{
	static const u_int order[] = { SADB_EXT_SA, SADB_X_EXT_SA2,
	    SADB_X_EXT_SA_REPLAY, SADB_EXT_ADDRESS_SRC, SADB_EXT_ADDRESS_DST,
	    SADB_EXT_KEY_AUTH, SADB_EXT_LIFETIME_HARD, SADB_EXT_LIFETIME_SOFT };
	char key[20];
	struct sockaddr_in src, dst;
	struct sadb_sa *sa;
	struct sadb_x_sa_replay *r;
	struct t_sent s;
	int sv[2];

	memset(key, 'k', sizeof(key));
	t_sockpair(sv);
	src = t_sin("192.0.2.1", 0);
	dst = t_sin("192.0.2.2", 0);

	t_recv(sv[1], &s, pfkey_send_add(sv[0], SADB_SATYPE_AH, 0,
	    (struct sockaddr *)&src, (struct sockaddr *)&dst, htonl(300), 0,
	    1024, key, SADB_EALG_NONE, 0, SADB_AALG_SHA1HMAC, 20, 0, 0, 0, 0, 0,
	    0), SADB_ADD, SADB_SATYPE_AH, 0);
	t_order(&s, order, 8);
	sa = (struct sadb_sa *)(void *)s.mhp[SADB_EXT_SA];
	ATF_CHECK_EQ(sa->sadb_sa_replay, 255);
	r = (struct sadb_x_sa_replay *)(void *)s.mhp[SADB_X_EXT_SA_REPLAY];
	ATF_CHECK_EQ(r->sadb_x_sa_replay_replay, 1024 * 8);
	t_free(&s);

	t_recv(sv[1], &s, pfkey_send_add(sv[0], SADB_SATYPE_AH, 0,
	    (struct sockaddr *)&src, (struct sockaddr *)&dst, htonl(300), 0,
	    255, key, SADB_EALG_NONE, 0, SADB_AALG_SHA1HMAC, 20, 0, 0, 0, 0, 0,
	    0), SADB_ADD, SADB_SATYPE_AH, 0);
	ATF_CHECK(s.mhp[SADB_X_EXT_SA_REPLAY] == NULL);
	t_free(&s);

	/* The largest window FreeBSD takes, and one more. */
	t_recv(sv[1], &s, pfkey_send_add(sv[0], SADB_SATYPE_AH, 0,
	    (struct sockaddr *)&src, (struct sockaddr *)&dst, htonl(300), 0,
	    (UINT32_MAX - 32) >> 3, key, SADB_EALG_NONE, 0, SADB_AALG_SHA1HMAC,
	    20, 0, 0, 0, 0, 0, 0), SADB_ADD, SADB_SATYPE_AH, 0);
	t_free(&s);
	ATF_CHECK_EQ(pfkey_send_add(sv[0], SADB_SATYPE_AH, 0,
	    (struct sockaddr *)&src, (struct sockaddr *)&dst, htonl(300), 0,
	    ((UINT32_MAX - 32) >> 3) + 1, key, SADB_EALG_NONE, 0,
	    SADB_AALG_SHA1HMAC, 20, 0, 0, 0, 0, 0, 0), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_ARGUMENT);
	t_nothing_sent(sv[1]);
}

ATF_TC_WITHOUT_HEAD(add_refused);
ATF_TC_BODY(add_refused, tc)
{
	struct sockaddr_in src, dst;
	struct sockaddr sa_unix;
	char key[16];
	int sv[2];

	memset(key, 0, sizeof(key));
	t_sockpair(sv);
	src = t_sin("192.0.2.1", 0);
	dst = t_sin("192.0.2.2", 0);
#define	ADD(satype, e, el, a, al)					\
	pfkey_send_add(sv[0], (satype), 0, (struct sockaddr *)&src,	\
	    (struct sockaddr *)&dst, htonl(1000), 0, 0, key, (e), (el), (a), \
	    (al), 0, 0, 0, 0, 0, 0)

	ATF_CHECK_EQ(ADD(SADB_SATYPE_ESP, SADB_EALG_NONE, 0,
	    SADB_AALG_SHA1HMAC, 16), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_NO_ALGS);
	ATF_CHECK_EQ(ADD(SADB_SATYPE_AH, SADB_X_EALG_AESCBC, 16,
	    SADB_AALG_SHA1HMAC, 0), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_ALGS);
	ATF_CHECK_EQ(ADD(SADB_SATYPE_AH, SADB_EALG_NONE, 0, SADB_AALG_NONE,
	    0), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_NO_ALGS);
	ATF_CHECK_EQ(ADD(SADB_X_SATYPE_IPCOMP, SADB_X_CALG_NONE, 0,
	    SADB_AALG_NONE, 0), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_ALGS);
	ATF_CHECK_EQ(ADD(SADB_X_SATYPE_IPCOMP, SADB_X_CALG_DEFLATE, 0,
	    SADB_AALG_SHA1HMAC, 16), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_NO_ALGS);
	ATF_CHECK_EQ(ADD(SADB_X_SATYPE_TCPSIGNATURE, SADB_EALG_NONE, 0,
	    SADB_AALG_SHA1HMAC, 16), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_ALGS);
	ATF_CHECK_EQ(ADD(SADB_SATYPE_RSVP, SADB_X_EALG_AESCBC, 16,
	    SADB_AALG_NONE, 0), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_SATYPE);
	/* sadb_key_bits is 16 bits: no 8 KiB keys. */
	ATF_CHECK_EQ(ADD(SADB_SATYPE_ESP, SADB_X_EALG_AESCBC, 8192,
	    SADB_AALG_NONE, 0), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_KEYLEN);
	ATF_CHECK_EQ(pfkey_send_add(sv[0], SADB_SATYPE_ESP, 0,
	    (struct sockaddr *)&src, (struct sockaddr *)&dst, htonl(1000), 0, 0,
	    NULL, SADB_X_EALG_AESCBC, 16, SADB_AALG_NONE, 0, 0, 0, 0, 0, 0, 0),
	    -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_ARGUMENT);
	memset(&sa_unix, 0, sizeof(sa_unix));
	sa_unix.sa_family = AF_UNIX;
	ATF_CHECK_EQ(pfkey_send_add(sv[0], SADB_SATYPE_ESP, 0, &sa_unix,
	    &sa_unix, htonl(1000), 0, 0, key, SADB_X_EALG_AESCBC, 16,
	    SADB_AALG_NONE, 0, 0, 0, 0, 0, 0, 0), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_FAMILY);
#undef ADD
	t_nothing_sent(sv[1]);

	/* IPComp and TCP-MD5 as they should be. */
	ATF_CHECK(pfkey_send_add(sv[0], SADB_X_SATYPE_IPCOMP, 0,
	    (struct sockaddr *)&src, (struct sockaddr *)&dst, htonl(1000), 0, 0,
	    NULL, SADB_X_CALG_DEFLATE, 0, SADB_AALG_NONE, 0, 0, 0, 0, 0, 0, 0)
	    > 0);
	free(t_read(sv[1], &(size_t){0}));
	ATF_CHECK(pfkey_send_add(sv[0], SADB_X_SATYPE_TCPSIGNATURE, 0,
	    (struct sockaddr *)&src, (struct sockaddr *)&dst, htonl(1000), 0, 0,
	    key, SADB_EALG_NONE, 0, SADB_X_AALG_TCP_MD5, 16, 0, 0, 0, 0, 0, 0)
	    > 0);
	free(t_read(sv[1], &(size_t){0}));
}

ATF_TC_WITHOUT_HEAD(delete_get);
ATF_TC_BODY(delete_get, tc)
{
	static const u_int order2[] = { SADB_EXT_SA, SADB_EXT_ADDRESS_SRC,
	    SADB_EXT_ADDRESS_DST };
	static const u_int order_all[] = { SADB_EXT_ADDRESS_SRC,
	    SADB_EXT_ADDRESS_DST };
	struct sockaddr_in src, dst;
	struct sadb_sa *sa;
	struct t_sent s;
	int sv[2];

	t_sockpair(sv);
	src = t_sin("203.0.113.1", 0);
	dst = t_sin("203.0.113.2", 0);

	t_recv(sv[1], &s, pfkey_send_delete(sv[0], SADB_SATYPE_ESP,
	    IPSEC_MODE_ANY, (struct sockaddr *)&src, (struct sockaddr *)&dst,
	    htonl(0x12345678)), SADB_DELETE, SADB_SATYPE_ESP, 0);
	t_order(&s, order2, 3);
	sa = (struct sadb_sa *)(void *)s.mhp[SADB_EXT_SA];
	ATF_CHECK_EQ(ntohl(sa->sadb_sa_spi), 0x12345678);
	ATF_CHECK_EQ(sa->sadb_sa_auth, 0);
	ATF_CHECK_EQ(sa->sadb_sa_encrypt, 0);
	ATF_CHECK_EQ(sa->sadb_sa_replay, 0);
	t_check_addr(&s, SADB_EXT_ADDRESS_SRC, &src, sizeof(src), 32, 255);
	t_free(&s);

	t_recv(sv[1], &s, pfkey_send_get(sv[0], SADB_SATYPE_AH, 0,
	    (struct sockaddr *)&src, (struct sockaddr *)&dst, htonl(999)),
	    SADB_GET, SADB_SATYPE_AH, 0);
	t_order(&s, order2, 3);
	t_free(&s);

	/* "deleteall": no SA extension. */
	t_recv(sv[1], &s, pfkey_send_delete_all(sv[0], SADB_SATYPE_ESP, 0,
	    (struct sockaddr *)&src, (struct sockaddr *)&dst), SADB_DELETE,
	    SADB_SATYPE_ESP, 0);
	t_order(&s, order_all, 2);
	t_free(&s);
	t_nothing_sent(sv[1]);
}

ATF_TC_WITHOUT_HEAD(header_only);
ATF_TC_BODY(header_only, tc)
{
	struct t_sent s;
	int sv[2];

	t_sockpair(sv);
	t_recv(sv[1], &s, pfkey_send_register(sv[0], SADB_SATYPE_ESP),
	    SADB_REGISTER, SADB_SATYPE_ESP, 0);
	ATF_CHECK_EQ(s.len, 16);
	t_free(&s);
	t_recv(sv[1], &s, pfkey_send_register(sv[0], SADB_SATYPE_UNSPEC),
	    SADB_REGISTER, SADB_SATYPE_UNSPEC, 0);
	t_free(&s);
	t_recv(sv[1], &s, pfkey_send_flush(sv[0], SADB_SATYPE_UNSPEC),
	    SADB_FLUSH, SADB_SATYPE_UNSPEC, 0);
	ATF_CHECK_EQ(s.len, 16);
	t_free(&s);
	t_recv(sv[1], &s, pfkey_send_dump(sv[0], SADB_X_SATYPE_IPCOMP),
	    SADB_DUMP, SADB_X_SATYPE_IPCOMP, 0);
	t_free(&s);
	t_recv(sv[1], &s, pfkey_send_promisc_toggle(sv[0], 1),
	    SADB_X_PROMISC, 1, 0);
	t_free(&s);
	t_recv(sv[1], &s, pfkey_send_promisc_toggle(sv[0], 0),
	    SADB_X_PROMISC, 0, 0);
	t_free(&s);
	t_recv(sv[1], &s, pfkey_send_spdflush(sv[0]), SADB_X_SPDFLUSH, 0, 0);
	ATF_CHECK_EQ(s.len, 16);
	t_free(&s);
	t_recv(sv[1], &s, pfkey_send_spddump(sv[0]), SADB_X_SPDDUMP, 0, 0);
	t_free(&s);

	ATF_CHECK_EQ(pfkey_send_flush(sv[0], SADB_SATYPE_RSVP), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_SATYPE);
	ATF_CHECK_EQ(pfkey_send_dump(sv[0], 77), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_SATYPE);
	ATF_CHECK_EQ(pfkey_send_register(sv[0], SADB_SATYPE_MIP), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_ARGUMENT);
	t_nothing_sent(sv[1]);
}

ATF_TC_WITHOUT_HEAD(spd);
ATF_TC_BODY(spd, tc)
{
	static const u_int order[] = { SADB_EXT_ADDRESS_SRC,
	    SADB_EXT_ADDRESS_DST, SADB_EXT_LIFETIME_HARD, SADB_X_EXT_POLICY };
	struct sockaddr_in src, dst;
	struct sadb_lifetime *h;
	struct t_sent s;
	char *pol, *idx;
	int sv[2], plen, ilen;

	t_sockpair(sv);
	src = t_sin("192.0.2.0", 0);
	dst = t_sin("203.0.113.0", 80);
	pol = ipsec_set_policy("out ipsec "
	    "esp/tunnel/198.51.100.2-198.51.100.6/require", 100);
	ATF_REQUIRE(pol != NULL);
	plen = ipsec_get_policylen(pol);
	idx = ipsec_set_policy("out discard", 100);
	ATF_REQUIRE(idx != NULL);
	ilen = ipsec_get_policylen(idx);
	ATF_REQUIRE_EQ(ilen, 16);

	t_recv(sv[1], &s, pfkey_send_spdadd(sv[0], (struct sockaddr *)&src,
	    24, (struct sockaddr *)&dst, 24, IPPROTO_TCP, pol, plen, 11),
	    SADB_X_SPDADD, 0, 11);
	t_order(&s, order, 4);
	t_check_addr(&s, SADB_EXT_ADDRESS_SRC, &src, sizeof(src), 24,
	    IPPROTO_TCP);
	t_check_addr(&s, SADB_EXT_ADDRESS_DST, &dst, sizeof(dst), 24,
	    IPPROTO_TCP);
	/* A HARD lifetime of 0/0 (no SP lifetime), as FreeBSD sends. */
	h = (struct sadb_lifetime *)(void *)s.mhp[SADB_EXT_LIFETIME_HARD];
	ATF_CHECK_EQ(h->sadb_lifetime_addtime, 0);
	ATF_CHECK_EQ(h->sadb_lifetime_usetime, 0);
	ATF_CHECK(memcmp(s.mhp[SADB_X_EXT_POLICY], pol, (size_t)plen) == 0);
	t_free(&s);

	t_recv(sv[1], &s, pfkey_send_spdadd2(sv[0], (struct sockaddr *)&src,
	    24, (struct sockaddr *)&dst, 24, 255, 0, 10, pol, plen, 12),
	    SADB_X_SPDADD, 0, 12);
	h = (struct sadb_lifetime *)(void *)s.mhp[SADB_EXT_LIFETIME_HARD];
	ATF_CHECK_EQ(h->sadb_lifetime_addtime, 0);
	ATF_CHECK_EQ(h->sadb_lifetime_usetime, 10);
	ATF_CHECK_EQ(h->sadb_lifetime_allocations, 0);
	ATF_CHECK_EQ(h->sadb_lifetime_bytes, 0);
	t_free(&s);

	t_recv(sv[1], &s, pfkey_send_spdupdate(sv[0], (struct sockaddr *)&src,
	    32, (struct sockaddr *)&dst, 0, 255, pol, plen, 13),
	    SADB_X_SPDUPDATE, 0, 13);
	t_free(&s);
	t_recv(sv[1], &s, pfkey_send_spdupdate2(sv[0],
	    (struct sockaddr *)&src, 32, (struct sockaddr *)&dst, 0, 255, 100,
	    50, pol, plen, 14), SADB_X_SPDUPDATE, 0, 14);
	h = (struct sadb_lifetime *)(void *)s.mhp[SADB_EXT_LIFETIME_HARD];
	ATF_CHECK_EQ(h->sadb_lifetime_addtime, 100);
	ATF_CHECK_EQ(h->sadb_lifetime_usetime, 50);
	t_free(&s);

	/* Delete and setidx take a policy without requests. */
	t_recv(sv[1], &s, pfkey_send_spddelete(sv[0], (struct sockaddr *)&src,
	    24, (struct sockaddr *)&dst, 24, 255, idx, ilen, 15),
	    SADB_X_SPDDELETE, 0, 15);
	t_order(&s, order, 4);
	t_free(&s);
	t_recv(sv[1], &s, pfkey_send_spdsetidx(sv[0], (struct sockaddr *)&src,
	    24, (struct sockaddr *)&dst, 24, 255, idx, ilen, 16),
	    SADB_X_SPDSETIDX, 0, 16);
	t_free(&s);
	ATF_CHECK_EQ(pfkey_send_spddelete(sv[0], (struct sockaddr *)&src, 24,
	    (struct sockaddr *)&dst, 24, 255, pol, plen, 0), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_ARGUMENT);
	ATF_CHECK_EQ(pfkey_send_spdsetidx(sv[0], (struct sockaddr *)&src, 24,
	    (struct sockaddr *)&dst, 24, 255, pol, plen, 0), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_ARGUMENT);

	/* Prefixes longer than the address, and bad policy buffers. */
	ATF_CHECK_EQ(pfkey_send_spdadd(sv[0], (struct sockaddr *)&src, 33,
	    (struct sockaddr *)&dst, 24, 255, pol, plen, 0), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_PREFIXLEN);
	ATF_CHECK_EQ(pfkey_send_spdadd(sv[0], (struct sockaddr *)&src, 24,
	    (struct sockaddr *)&dst, 24, 255, NULL, plen, 0), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_ARGUMENT);
	ATF_CHECK_EQ(pfkey_send_spdadd(sv[0], (struct sockaddr *)&src, 24,
	    (struct sockaddr *)&dst, 24, 255, pol, plen - 4, 0), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_ARGUMENT);
	ATF_CHECK_EQ(pfkey_send_spdadd(sv[0], (struct sockaddr *)&src, 24,
	    (struct sockaddr *)&dst, 24, 255, pol, plen - 8, 0), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_POLICY);
	t_nothing_sent(sv[1]);
	free(pol);
	free(idx);
}

ATF_TC_WITHOUT_HEAD(spd_by_id);
ATF_TC_BODY(spd_by_id, tc)
{
	struct sadb_x_policy *xpl;
	struct t_sent s;
	int sv[2];

	t_sockpair(sv);
	t_recv(sv[1], &s, pfkey_send_spdget(sv[0], 0xdeadbeef),
	    SADB_X_SPDGET, 0, 0);
	ATF_CHECK_EQ(s.len, 32);
	xpl = (struct sadb_x_policy *)(void *)s.mhp[SADB_X_EXT_POLICY];
	ATF_REQUIRE(xpl != NULL);
	ATF_CHECK_EQ(xpl->sadb_x_policy_len, 2);
	ATF_CHECK_EQ(xpl->sadb_x_policy_id, 0xdeadbeef);
	ATF_CHECK_EQ(xpl->sadb_x_policy_type, 0);
	ATF_CHECK_EQ(xpl->sadb_x_policy_dir, 0);
	t_free(&s);
	t_recv(sv[1], &s, pfkey_send_spddelete2(sv[0], 7),
	    SADB_X_SPDDELETE2, 0, 0);
	xpl = (struct sadb_x_policy *)(void *)s.mhp[SADB_X_EXT_POLICY];
	ATF_CHECK_EQ(xpl->sadb_x_policy_id, 7);
	t_free(&s);
}

/* A REGISTER reply as the kernel sends it, for this process. */
static void
t_register_reply(int so, uint32_t pid)
{
	struct pb_msg m;
	char buf[8 + 3 * 8];
	struct sadb_alg alg[3];

	pb_init(&m, SADB_REGISTER, SADB_SATYPE_UNSPEC, 0, pid);
	memset(alg, 0, sizeof(alg));
	alg[0].sadb_alg_id = SADB_AALG_SHA1HMAC;
	alg[0].sadb_alg_minbits = alg[0].sadb_alg_maxbits = 160;
	alg[1].sadb_alg_id = SADB_X_AALG_SHA2_256;
	alg[1].sadb_alg_minbits = alg[1].sadb_alg_maxbits = 256;
	memset(buf, 0, sizeof(buf));
	memcpy(buf + 8, alg, 2 * sizeof(alg[0]));
	pb_ext_copy(&m, SADB_EXT_SUPPORTED_AUTH, buf, 8 + 2 * 8);
	memset(alg, 0, sizeof(alg));
	alg[0].sadb_alg_id = SADB_X_EALG_AESCBC;
	alg[0].sadb_alg_ivlen = 16;
	alg[0].sadb_alg_minbits = 128;
	alg[0].sadb_alg_maxbits = 256;
	alg[1].sadb_alg_id = SADB_EALG_NULL;
	alg[1].sadb_alg_maxbits = 2048;
	alg[2].sadb_alg_id = SADB_X_EALG_AESGCM16;
	alg[2].sadb_alg_minbits = 160;
	alg[2].sadb_alg_maxbits = 288;
	memcpy(buf + 8, alg, 3 * sizeof(alg[0]));
	pb_ext_copy(&m, SADB_EXT_SUPPORTED_ENCRYPT, buf, 8 + 3 * 8);
	ATF_REQUIRE_EQ(send(so, m.u.buf, m.len, 0), (ssize_t)m.len);
}

ATF_TC_WITHOUT_HEAD(register_keylen);
ATF_TC_BODY(register_keylen, tc)
{
	struct sadb_alg alg;
	struct pb_msg other;
	int sv[2];

	t_sockpair(sv);
	/* Before any REGISTER reply: the lists are unknown. */
	ATF_CHECK_EQ(ipsec_check_keylen(SADB_EXT_SUPPORTED_AUTH,
	    SADB_AALG_SHA1HMAC, 160), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_DO_GET_SUPP_LIST);
	ATF_CHECK_STREQ(ipsec_strerror(),
	    "Must get supported algorithms list first");

	/* Another process's reply and an unrelated message are skipped. */
	pb_init(&other, SADB_REGISTER, 0, 0, (uint32_t)getpid() + 1);
	ATF_REQUIRE(send(sv[1], other.u.buf, other.len, 0) > 0);
	pb_init(&other, SADB_FLUSH, 0, 0, (uint32_t)getpid());
	ATF_REQUIRE(send(sv[1], other.u.buf, other.len, 0) > 0);
	t_register_reply(sv[1], (uint32_t)getpid());
	ATF_REQUIRE_EQ_MSG(pfkey_recv_register(sv[0]), 0, "%s",
	    ipsec_strerror());
	t_nothing_sent(sv[0]);

	ATF_CHECK_EQ(ipsec_check_keylen(SADB_EXT_SUPPORTED_AUTH,
	    SADB_AALG_SHA1HMAC, 160), 0);
	ATF_CHECK_EQ(ipsec_check_keylen(SADB_EXT_SUPPORTED_AUTH,
	    SADB_AALG_SHA1HMAC, 128), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_KEYLEN);
	ATF_CHECK_EQ(ipsec_check_keylen(SADB_EXT_SUPPORTED_AUTH,
	    SADB_X_AALG_SHA2_512, 512), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_NOT_SUPPORTED);
	ATF_CHECK_EQ(ipsec_check_keylen(SADB_EXT_SUPPORTED_ENCRYPT,
	    SADB_X_EALG_AESCBC, 192), 0);
	ATF_CHECK_EQ(ipsec_check_keylen(SADB_EXT_SUPPORTED_ENCRYPT,
	    SADB_X_EALG_AESCBC, 512), -1);
	ATF_CHECK_EQ(ipsec_check_keylen(SADB_EXT_SUPPORTED_ENCRYPT,
	    SADB_EALG_NULL, 0), 0);
	ATF_CHECK_EQ(ipsec_check_keylen2(SADB_SATYPE_ESP,
	    SADB_X_EALG_AESGCM16, 288), 0);
	ATF_CHECK_EQ(ipsec_check_keylen2(SADB_SATYPE_AH,
	    SADB_X_AALG_SHA2_256, 256), 0);
	ATF_CHECK_EQ(ipsec_check_keylen2(SADB_X_SATYPE_IPCOMP,
	    SADB_X_CALG_DEFLATE, 0), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_DO_GET_SUPP_LIST);
	ATF_CHECK_EQ(ipsec_check_keylen(7, 1, 1), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_ARGUMENT);

	ATF_CHECK_EQ(ipsec_get_keylen(SADB_EXT_SUPPORTED_ENCRYPT,
	    SADB_X_EALG_AESCBC, &alg), 0);
	ATF_CHECK_EQ(alg.sadb_alg_ivlen, 16);
	ATF_CHECK_EQ(alg.sadb_alg_minbits, 128);
	ATF_CHECK_EQ(alg.sadb_alg_maxbits, 256);
	ATF_CHECK_EQ(ipsec_get_keylen(SADB_EXT_SUPPORTED_ENCRYPT,
	    SADB_X_EALG_AESCBC, NULL), -1);

	/* REGISTER forgets the lists until the next reply. */
	ATF_REQUIRE(pfkey_send_register(sv[0], SADB_SATYPE_UNSPEC) > 0);
	ATF_CHECK_EQ(ipsec_check_keylen(SADB_EXT_SUPPORTED_AUTH,
	    SADB_AALG_SHA1HMAC, 160), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_DO_GET_SUPP_LIST);
}

ATF_TC_WITHOUT_HEAD(set_supported);
ATF_TC_BODY(set_supported, tc)
{
	struct sadb_msg *msg;
	size_t len;
	int sv[2];

	t_sockpair(sv);
	t_register_reply(sv[1], 1);
	msg = t_read(sv[0], &len);

	/* Length in 64-bit words (as received) or bytes (KAME's way). */
	ATF_CHECK_EQ(pfkey_set_supported(msg, (int)len), 0);
	ATF_CHECK_EQ(ipsec_check_keylen(SADB_EXT_SUPPORTED_AUTH,
	    SADB_X_AALG_SHA2_256, 256), 0);
	msg->sadb_msg_len = (uint16_t)len;
	ATF_CHECK_EQ(pfkey_set_supported(msg, (int)len), 0);
	ATF_CHECK_EQ(pfkey_set_supported(msg, (int)len - 8), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_ARGUMENT);
	ATF_CHECK_EQ(pfkey_set_supported(NULL, 16), -1);

	/* An extension that is not a SUPPORTED list. */
	((struct sadb_ext *)(void *)(msg + 1))->sadb_ext_type = SADB_EXT_SA;
	ATF_CHECK_EQ(pfkey_set_supported(msg, (int)len), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_SATYPE);
	free(msg);
}

ATF_TC_WITHOUT_HEAD(softrate);
ATF_TC_BODY(softrate, tc)
{
	struct sockaddr_in src, dst;
	struct sadb_lifetime *sl;
	struct t_sent s;
	char key[16];
	int sv[2];

	ATF_CHECK_EQ(pfkey_get_softrate(SADB_X_LIFETIME_ADDTIME), 80);
	ATF_CHECK_EQ(pfkey_set_softrate(SADB_X_LIFETIME_ADDTIME, 50), 0);
	ATF_CHECK_EQ(pfkey_get_softrate(SADB_X_LIFETIME_ADDTIME), 50);
	ATF_CHECK_EQ(pfkey_set_softrate(SADB_X_LIFETIME_BYTES, 0), 0);
	ATF_CHECK_EQ(pfkey_get_softrate(SADB_X_LIFETIME_BYTES), 100);
	ATF_CHECK_EQ(pfkey_set_softrate(SADB_X_LIFETIME_USETIME, 101), 0);
	ATF_CHECK_EQ(pfkey_get_softrate(SADB_X_LIFETIME_USETIME), 100);
	ATF_CHECK_EQ(pfkey_set_softrate(9, 50), 1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_ARGUMENT);
	ATF_CHECK_EQ(pfkey_get_softrate(9), ~0U);

	t_sockpair(sv);
	memset(key, 1, sizeof(key));
	src = t_sin("192.0.2.1", 0);
	dst = t_sin("192.0.2.2", 0);
	t_recv(sv[1], &s, pfkey_send_add(sv[0], SADB_SATYPE_ESP, 0,
	    (struct sockaddr *)&src, (struct sockaddr *)&dst, htonl(1000), 0, 0,
	    key, SADB_X_EALG_AESCBC, 16, SADB_AALG_NONE, 0, 0, 100, 1000, 3600,
	    7200, 0), SADB_ADD, SADB_SATYPE_ESP, 0);
	sl = (struct sadb_lifetime *)(void *)s.mhp[SADB_EXT_LIFETIME_SOFT];
	ATF_CHECK_EQ(sl->sadb_lifetime_allocations, 80);
	ATF_CHECK_EQ(sl->sadb_lifetime_bytes, 1000);
	ATF_CHECK_EQ(sl->sadb_lifetime_addtime, 1800);
	ATF_CHECK_EQ(sl->sadb_lifetime_usetime, 7200);
	t_free(&s);
}

/* A send(2) failure is reported as a system error with its text. */
ATF_TC_WITHOUT_HEAD(send_error);
ATF_TC_BODY(send_error, tc)
{
	int sv[2];

	t_sockpair(sv);
	close(sv[1]);
	ATF_CHECK_EQ(pfkey_send_flush(sv[0], 0), -1);
	ATF_CHECK_EQ(errno, EPIPE);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_SYSTEM_ERROR);
	ATF_CHECK_STREQ(ipsec_strerror(), strerror(EPIPE));
	ATF_CHECK_EQ(pfkey_send(sv[0], NULL, 16), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_ARGUMENT);
	close(sv[0]);
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, getspi);
	ATF_TP_ADD_TC(tp, add_esp);
	ATF_TP_ADD_TC(tp, add_replay);
	ATF_TP_ADD_TC(tp, add_refused);
	ATF_TP_ADD_TC(tp, delete_get);
	ATF_TP_ADD_TC(tp, header_only);
	ATF_TP_ADD_TC(tp, spd);
	ATF_TP_ADD_TC(tp, spd_by_id);
	ATF_TP_ADD_TC(tp, register_keylen);
	ATF_TP_ADD_TC(tp, set_supported);
	ATF_TP_ADD_TC(tp, softrate);
	ATF_TP_ADD_TC(tp, send_error);
	return (atf_no_error());
}
