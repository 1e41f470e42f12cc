/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * pfkey_align() and pfkey_check(): good messages are split into their
 * extensions; duplicate, unknown and mis-sized extensions, messages whose
 * extensions do not add up, and inconsistent headers are refused.
 */

#include "libpfkey_test.h"

/* A well-formed SADB_ADD reply: SA, SA2, addresses, key, lifetimes. */
static void
t_good_sa(struct pb_msg *m)
{
	struct sockaddr_in src, dst;
	struct sadb_sa sa;
	struct sadb_x_sa2 sa2;
	static const char key[16] = "0123456789abcdef";

	pb_init(m, SADB_ADD, SADB_SATYPE_ESP, 7, 4242);
	memset(&sa, 0, sizeof(sa));
	sa.sadb_sa_spi = htonl(0x1000);
	sa.sadb_sa_state = SADB_SASTATE_MATURE;
	sa.sadb_sa_encrypt = SADB_X_EALG_AESCBC;
	pb_ext_copy(m, SADB_EXT_SA, &sa, sizeof(sa));
	memset(&sa2, 0, sizeof(sa2));
	sa2.sadb_x_sa2_mode = IPSEC_MODE_TUNNEL;
	pb_ext_copy(m, SADB_X_EXT_SA2, &sa2, sizeof(sa2));
	src = t_sin("198.51.100.2", 0);
	dst = t_sin("198.51.100.6", 0);
	pb_addr_sa(m, SADB_EXT_ADDRESS_SRC, &src, sizeof(src), 32, 255);
	pb_addr_sa(m, SADB_EXT_ADDRESS_DST, &dst, sizeof(dst), 32, 255);
	pb_key(m, SADB_EXT_KEY_ENCRYPT, key, sizeof(key));
	pb_lifetime(m, SADB_EXT_LIFETIME_HARD, 0, 0, 3600, 0);
}

/* Offset of the first extension of a type in m, or 0. */
static size_t
t_find(struct pb_msg *m, u_int type)
{
	struct sadb_ext *ext;
	size_t off;

	for (off = sizeof(struct sadb_msg); off < m->len;
	    off += PFKEY_EXTLEN(ext)) {
		ext = (struct sadb_ext *)(void *)((char *)m->u.buf + off);
		if (ext->sadb_ext_type == type)
			return (off);
	}
	return (0);
}

ATF_TC_WITHOUT_HEAD(good);
ATF_TC_BODY(good, tc)
{
	struct pb_msg m;
	char *mhp[SADB_EXT_MAX + 1];
	char *base;
	int i;

	t_good_sa(&m);
	base = (char *)m.u.buf;
	for (i = 0; i <= SADB_EXT_MAX; i++)
		mhp[i] = (char *)&m;	/* garbage: must be reset */
	ATF_REQUIRE_EQ_MSG(pfkey_align(pb_hdr(&m), mhp), 0, "%s",
	    ipsec_strerror());
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_NO_ERROR);
	ATF_CHECK(mhp[0] == base);
	ATF_CHECK(mhp[SADB_EXT_SA] == base + t_find(&m, SADB_EXT_SA));
	ATF_CHECK(mhp[SADB_X_EXT_SA2] == base + t_find(&m, SADB_X_EXT_SA2));
	ATF_CHECK(mhp[SADB_EXT_ADDRESS_SRC] ==
	    base + t_find(&m, SADB_EXT_ADDRESS_SRC));
	ATF_CHECK(mhp[SADB_EXT_ADDRESS_DST] ==
	    base + t_find(&m, SADB_EXT_ADDRESS_DST));
	ATF_CHECK(mhp[SADB_EXT_KEY_ENCRYPT] ==
	    base + t_find(&m, SADB_EXT_KEY_ENCRYPT));
	ATF_CHECK(mhp[SADB_EXT_LIFETIME_HARD] ==
	    base + t_find(&m, SADB_EXT_LIFETIME_HARD));
	ATF_CHECK(mhp[SADB_EXT_KEY_AUTH] == NULL);
	ATF_CHECK(mhp[SADB_EXT_LIFETIME_SOFT] == NULL);
	ATF_CHECK(mhp[SADB_X_EXT_POLICY] == NULL);
	ATF_CHECK_EQ(pfkey_check(mhp), 0);

	/* A bare header is a message too. */
	pb_init(&m, SADB_FLUSH, SADB_SATYPE_UNSPEC, 0, 0);
	ATF_CHECK_EQ(pfkey_align(pb_hdr(&m), mhp), 0);
	ATF_CHECK_EQ(pfkey_check(mhp), 0);
	for (i = 1; i <= SADB_EXT_MAX; i++)
		ATF_CHECK(mhp[i] == NULL);
}

ATF_TC_WITHOUT_HEAD(every_extension);
ATF_TC_BODY(every_extension, tc)
{
	struct pb_msg m;
	char *mhp[SADB_EXT_MAX + 1];
	struct sockaddr_in6 a6;
	uint64_t zero[8];
	char pol[16];
	struct sadb_x_policy *xpl;

	/* Each allowed type once, each of its minimum size. */
	memset(zero, 0, sizeof(zero));
	pb_init(&m, SADB_DUMP, SADB_SATYPE_ESP, 0, 0);
	pb_ext_copy(&m, SADB_EXT_SA, zero, sizeof(struct sadb_sa));
	pb_ext_copy(&m, SADB_EXT_LIFETIME_CURRENT, zero, 32);
	pb_ext_copy(&m, SADB_EXT_LIFETIME_HARD, zero, 32);
	pb_ext_copy(&m, SADB_EXT_LIFETIME_SOFT, zero, 32);
	a6 = t_sin6("2001:db8::1", 500);
	pb_addr_sa(&m, SADB_EXT_ADDRESS_SRC, &a6, sizeof(a6), 128, 17);
	pb_addr_sa(&m, SADB_EXT_ADDRESS_DST, &a6, sizeof(a6), 128, 17);
	pb_addr_sa(&m, SADB_EXT_ADDRESS_PROXY, &a6, sizeof(a6), 128, 17);
	pb_key(&m, SADB_EXT_KEY_AUTH, "", 0);
	pb_key(&m, SADB_EXT_KEY_ENCRYPT, "", 0);
	pb_ext_copy(&m, SADB_EXT_IDENTITY_SRC, zero, 16);
	pb_ext_copy(&m, SADB_EXT_IDENTITY_DST, zero, 16);
	pb_ext_copy(&m, SADB_EXT_SENSITIVITY, zero, 16);
	pb_ext_copy(&m, SADB_EXT_PROPOSAL, zero, 8);
	pb_ext_copy(&m, SADB_EXT_SUPPORTED_AUTH, zero, 8);
	pb_ext_copy(&m, SADB_EXT_SUPPORTED_ENCRYPT, zero, 8);
	pb_ext_copy(&m, SADB_EXT_SPIRANGE, zero, 16);
	memset(pol, 0, sizeof(pol));
	xpl = pb_ext_copy(&m, SADB_X_EXT_POLICY, pol, sizeof(pol));
	(void)xpl;
	pb_ext_copy(&m, SADB_X_EXT_SA2, zero, 16);
	pb_ext_copy(&m, SADB_X_EXT_NAT_T_TYPE, zero, 8);
	pb_ext_copy(&m, SADB_X_EXT_NAT_T_SPORT, zero, 8);
	pb_ext_copy(&m, SADB_X_EXT_NAT_T_DPORT, zero, 8);
	pb_addr_sa(&m, SADB_X_EXT_NAT_T_OAI, &a6, sizeof(a6), 128, 0);
	pb_addr_sa(&m, SADB_X_EXT_NAT_T_OAR, &a6, sizeof(a6), 128, 0);
	pb_ext_copy(&m, SADB_X_EXT_NAT_T_FRAG, zero, 8);
	pb_ext_copy(&m, SADB_X_EXT_SA_REPLAY, zero, 8);
	pb_addr_sa(&m, SADB_X_EXT_NEW_ADDRESS_SRC, &a6, sizeof(a6), 128, 0);
	pb_addr_sa(&m, SADB_X_EXT_NEW_ADDRESS_DST, &a6, sizeof(a6), 128, 0);
	pb_ext_copy(&m, SADB_X_EXT_LFT_CUR_SW_OFFL, zero, 32);
	pb_ext_copy(&m, SADB_X_EXT_LFT_CUR_HW_OFFL, zero, 32);
	pb_ext_copy(&m, SADB_X_EXT_IF_HW_OFFL, zero, 40);
	/* FreeBSD 15 sends one IF_HW_OFFL per interface: allowed. */
	pb_ext_copy(&m, SADB_X_EXT_IF_HW_OFFL, zero, 40);
	ATF_REQUIRE_EQ_MSG(pfkey_align(pb_hdr(&m), mhp), 0, "%s",
	    ipsec_strerror());
	ATF_CHECK(mhp[SADB_X_EXT_KMPRIVATE] == NULL);
	ATF_CHECK(mhp[SADB_X_EXT_IF_HW_OFFL] ==
	    (char *)m.u.buf + t_find(&m, SADB_X_EXT_IF_HW_OFFL));
	ATF_CHECK_EQ(pfkey_check(mhp), 0);
}

ATF_TC_WITHOUT_HEAD(duplicate);
ATF_TC_BODY(duplicate, tc)
{
	struct pb_msg m;
	char *mhp[SADB_EXT_MAX + 1];
	struct sadb_x_sa2 sa2;

	t_good_sa(&m);
	memset(&sa2, 0, sizeof(sa2));
	pb_ext_copy(&m, SADB_X_EXT_SA2, &sa2, sizeof(sa2));
	ATF_CHECK_EQ(pfkey_align(pb_hdr(&m), mhp), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_EXTTYPE);
	ATF_CHECK_STREQ(ipsec_strerror(), "Invalid extension type");

	t_good_sa(&m);
	pb_key(&m, SADB_EXT_KEY_ENCRYPT, "k", 1);
	ATF_CHECK_EQ(pfkey_align(pb_hdr(&m), mhp), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_EXTTYPE);
}

ATF_TC_WITHOUT_HEAD(unknown_type);
ATF_TC_BODY(unknown_type, tc)
{
	static const u_int types[] = {
		SADB_EXT_RESERVED, SADB_X_EXT_KMPRIVATE, SADB_EXT_MAX + 1, 200,
		0xffff
	};
	struct pb_msg m;
	char *mhp[SADB_EXT_MAX + 1];
	uint64_t zero[4];
	size_t i;

	memset(zero, 0, sizeof(zero));
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		t_good_sa(&m);
		pb_ext_copy(&m, types[i], zero, sizeof(zero));
		ATF_CHECK_EQ_MSG(pfkey_align(pb_hdr(&m), mhp), -1,
		    "type %u accepted", types[i]);
		ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_EXTTYPE);
	}
}

ATF_TC_WITHOUT_HEAD(bad_length);
ATF_TC_BODY(bad_length, tc)
{
	struct pb_msg m;
	char *mhp[SADB_EXT_MAX + 1];
	struct sadb_ext *ext;
	struct sadb_key *key;
	struct sockaddr_in6 a6;
	uint64_t zero[8];

	memset(zero, 0, sizeof(zero));

	/* An extension of length 0 (KAME: an endless loop). */
	t_good_sa(&m);
	ext = (struct sadb_ext *)(void *)((char *)m.u.buf +
	    t_find(&m, SADB_EXT_LIFETIME_HARD));
	ext->sadb_ext_len = 0;
	ATF_CHECK_EQ(pfkey_align(pb_hdr(&m), mhp), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_SADBMSG);

	/* The last extension runs past the message. */
	t_good_sa(&m);
	ext->sadb_ext_len = 5;
	ATF_CHECK_EQ(pfkey_align(pb_hdr(&m), mhp), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_SADBMSG);

	/* The message is shorter than its header. */
	t_good_sa(&m);
	pb_hdr(&m)->sadb_msg_len = 1;
	ATF_CHECK_EQ(pfkey_align(pb_hdr(&m), mhp), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_SADBMSG);
	pb_hdr(&m)->sadb_msg_len = 0;
	ATF_CHECK_EQ(pfkey_align(pb_hdr(&m), mhp), -1);

	/* Fixed-size extensions of the wrong size. */
	pb_init(&m, SADB_GET, SADB_SATYPE_ESP, 0, 0);
	pb_ext_copy(&m, SADB_EXT_SA, zero, 24);
	ATF_CHECK_EQ(pfkey_align(pb_hdr(&m), mhp), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_SADBMSG);
	pb_init(&m, SADB_GET, SADB_SATYPE_ESP, 0, 0);
	pb_ext_copy(&m, SADB_EXT_LIFETIME_CURRENT, zero, 24);
	ATF_CHECK_EQ(pfkey_align(pb_hdr(&m), mhp), -1);
	pb_init(&m, SADB_GET, SADB_SATYPE_ESP, 0, 0);
	pb_ext_copy(&m, SADB_X_EXT_POLICY, zero, 8);
	ATF_CHECK_EQ(pfkey_align(pb_hdr(&m), mhp), -1);
	pb_init(&m, SADB_GET, SADB_SATYPE_ESP, 0, 0);
	pb_ext_copy(&m, SADB_X_EXT_SA_REPLAY, zero, 16);
	ATF_CHECK_EQ(pfkey_align(pb_hdr(&m), mhp), -1);

	/* An address extension must hold exactly its padded sockaddr. */
	a6 = t_sin6("::1", 0);
	pb_init(&m, SADB_GET, SADB_SATYPE_ESP, 0, 0);
	pb_addr_sa(&m, SADB_EXT_ADDRESS_SRC, &a6, 16, 128, 0);
	ATF_CHECK_EQ(pfkey_align(pb_hdr(&m), mhp), -1);
	pb_init(&m, SADB_GET, SADB_SATYPE_ESP, 0, 0);
	pb_addr_sa(&m, SADB_EXT_ADDRESS_SRC, &a6, sizeof(a6), 128, 0);
	pb_ext_copy(&m, SADB_X_EXT_SA_REPLAY, zero, 8);
	ext = (struct sadb_ext *)(void *)((char *)m.u.buf + 16);
	ext->sadb_ext_len++;	/* swallows the next extension */
	ATF_CHECK_EQ(pfkey_align(pb_hdr(&m), mhp), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_SADBMSG);
	/* ... and be of a family PF_KEY carries. */
	pb_init(&m, SADB_GET, SADB_SATYPE_ESP, 0, 0);
	a6.sin6_family = AF_UNIX;
	pb_addr_sa(&m, SADB_EXT_ADDRESS_SRC, &a6, sizeof(a6), 128, 0);
	ATF_CHECK_EQ(pfkey_align(pb_hdr(&m), mhp), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_FAMILY);

	/* A key longer than its extension. */
	pb_init(&m, SADB_GET, SADB_SATYPE_ESP, 0, 0);
	key = pb_ext_copy(&m, SADB_EXT_KEY_ENCRYPT, zero, 16);
	key->sadb_key_bits = 65;	/* 9 bytes in 8 */
	ATF_CHECK_EQ(pfkey_align(pb_hdr(&m), mhp), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_KEYLEN);
	key->sadb_key_bits = 64;
	ATF_CHECK_EQ(pfkey_align(pb_hdr(&m), mhp), 0);

	ATF_CHECK_EQ(pfkey_align(NULL, mhp), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_ARGUMENT);
	ATF_CHECK_EQ(pfkey_align(pb_hdr(&m), NULL), -1);
}

ATF_TC_WITHOUT_HEAD(check);
ATF_TC_BODY(check, tc)
{
	struct pb_msg m;
	char *mhp[SADB_EXT_MAX + 1];
	struct sockaddr_in a4;
	struct sockaddr_in6 a6;

	t_good_sa(&m);
	ATF_REQUIRE_EQ(pfkey_align(pb_hdr(&m), mhp), 0);
	pb_hdr(&m)->sadb_msg_version = 1;
	ATF_CHECK_EQ(pfkey_check(mhp), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_VERSION);
	pb_hdr(&m)->sadb_msg_version = PF_KEY_V2;

	pb_hdr(&m)->sadb_msg_type = SADB_MAX + 1;
	ATF_CHECK_EQ(pfkey_check(mhp), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_MSGTYPE);

	/* SA messages need an SA type, SPD messages must not have one. */
	pb_hdr(&m)->sadb_msg_type = SADB_ADD;
	pb_hdr(&m)->sadb_msg_satype = SADB_SATYPE_UNSPEC;
	ATF_CHECK_EQ(pfkey_check(mhp), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_SATYPE);
	pb_hdr(&m)->sadb_msg_type = SADB_X_SPDADD;
	pb_hdr(&m)->sadb_msg_satype = SADB_SATYPE_ESP;
	ATF_CHECK_EQ(pfkey_check(mhp), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_SATYPE);
	pb_hdr(&m)->sadb_msg_type = SADB_ADD;
	pb_hdr(&m)->sadb_msg_satype = SADB_SATYPE_RSVP;
	ATF_CHECK_EQ(pfkey_check(mhp), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_NOT_SUPPORTED);
	pb_hdr(&m)->sadb_msg_satype = 1;
	ATF_CHECK_EQ(pfkey_check(mhp), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_SATYPE);
	pb_hdr(&m)->sadb_msg_satype = SADB_X_SATYPE_TCPSIGNATURE;
	ATF_CHECK_EQ(pfkey_check(mhp), 0);

	pb_init(&m, SADB_X_PROMISC, 1, 0, 0);
	ATF_REQUIRE_EQ(pfkey_align(pb_hdr(&m), mhp), 0);
	ATF_CHECK_EQ(pfkey_check(mhp), 0);

	/* Source and destination agree on protocol and family. */
	a4 = t_sin("192.0.2.1", 0);
	a6 = t_sin6("2001:db8::1", 0);
	pb_init(&m, SADB_X_SPDADD, 0, 0, 0);
	pb_addr_sa(&m, SADB_EXT_ADDRESS_SRC, &a4, sizeof(a4), 24, 6);
	pb_addr_sa(&m, SADB_EXT_ADDRESS_DST, &a4, sizeof(a4), 24, 17);
	ATF_REQUIRE_EQ(pfkey_align(pb_hdr(&m), mhp), 0);
	ATF_CHECK_EQ(pfkey_check(mhp), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_PROTO_MISMATCH);
	pb_init(&m, SADB_X_SPDADD, 0, 0, 0);
	pb_addr_sa(&m, SADB_EXT_ADDRESS_SRC, &a4, sizeof(a4), 24, 6);
	pb_addr_sa(&m, SADB_EXT_ADDRESS_DST, &a6, sizeof(a6), 24, 6);
	ATF_REQUIRE_EQ(pfkey_align(pb_hdr(&m), mhp), 0);
	ATF_CHECK_EQ(pfkey_check(mhp), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_FAMILY_MISMATCH);
	/* The kernel's 0xff "full mask" prefix in SA messages is fine. */
	pb_init(&m, SADB_GET, SADB_SATYPE_AH, 0, 0);
	pb_addr_sa(&m, SADB_EXT_ADDRESS_SRC, &a6, sizeof(a6), 0xff, 255);
	pb_addr_sa(&m, SADB_EXT_ADDRESS_DST, &a6, sizeof(a6), 0xff, 255);
	ATF_REQUIRE_EQ(pfkey_align(pb_hdr(&m), mhp), 0);
	ATF_CHECK_EQ(pfkey_check(mhp), 0);

	ATF_CHECK_EQ(pfkey_check(NULL), -1);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_ARGUMENT);
}

/* pfkey_salen(): what a sockaddr's sa_len would say. */
ATF_TC_WITHOUT_HEAD(salen);
ATF_TC_BODY(salen, tc)
{
	struct sockaddr_in a4;
	struct sockaddr_in6 a6;
	struct sockaddr sa;

	a4 = t_sin("192.0.2.1", 0);
	a6 = t_sin6("::1", 0);
	ATF_CHECK_EQ(pfkey_salen((struct sockaddr *)&a4), 16);
	ATF_CHECK_EQ(pfkey_salen((struct sockaddr *)&a6), 28);
	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_UNIX;
	ATF_CHECK_EQ(pfkey_salen(&sa), 0);
	ATF_CHECK_EQ(pfkey_salen(NULL), 0);
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, good);
	ATF_TP_ADD_TC(tp, every_extension);
	ATF_TP_ADD_TC(tp, duplicate);
	ATF_TP_ADD_TC(tp, unknown_type);
	ATF_TP_ADD_TC(tp, bad_length);
	ATF_TP_ADD_TC(tp, check);
	ATF_TP_ADD_TC(tp, salen);
	return (atf_no_error());
}
