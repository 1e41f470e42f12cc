/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * IKEv1 messages: Main Mode message 1 with NAT-T and DPD vendor IDs
 * parsed and walked; every payload type built, parsed back and decoded,
 * in the clear and as an encrypted body; lengths wrong in every place,
 * truncation at every byte, unknown payload types, other DOIs.
 */

#include "ikemsg_test.h"

static const uint8_t t_cky_i[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static const uint8_t t_cky_r[8] = { 8, 7, 6, 5, 4, 3, 2, 1 };

ATF_TC_WITHOUT_HEAD(main_mode_1);
ATF_TC_BODY(main_mode_1, tc)
{
	static struct ikemsg		 m;
	static struct ikemsg_sa		 sa;
	static const uint8_t		 natt[] = IKEV1_VID_NATT_RFC3947;
	static const uint8_t		 draft[] = IKEV1_VID_NATT_DRAFT02N;
	static const uint8_t		 dpd[] = IKEV1_VID_DPD;
	const struct ikemsg_pld		*pld;
	const struct ikemsg_attr	*at;
	const struct ikemsg_xf		*xf;
	const uint8_t			*data;
	uint8_t				*copy;
	size_t				 len;

	t_write_seed("v1_mm1", t_v1_mm1, sizeof(t_v1_mm1));
	ATF_REQUIRE_EQ(t_parse(&m, t_v1_mm1, sizeof(t_v1_mm1), &copy),
	    IKEMSG_OK);
	ATF_CHECK_EQ(m.msg_version, 1);
	ATF_CHECK_EQ(m.msg_exchange, IKEV1_EXCHANGE_MAIN);
	ATF_CHECK_EQ(m.msg_npld, 4);
	pld = ikemsg_find(&m, IKEV1_PAYLOAD_SA, NULL);
	ATF_REQUIRE(pld != NULL);
	ATF_REQUIRE_EQ(ikev1_pld_sa(pld, &sa), IKEMSG_OK);
	ATF_CHECK_EQ(sa.sa_doi, IKEV1_DOI_IPSEC);
	ATF_CHECK_EQ(sa.sa_sit, IKEV1_SIT_IDENTITY_ONLY);
	ATF_REQUIRE_EQ(sa.sa_nprop, 1);
	ATF_CHECK_EQ(sa.sa_prop[0].p_proto, IKEV1_PROTO_ISAKMP);
	ATF_REQUIRE_EQ(sa.sa_prop[0].p_nxf, 2);
	xf = &sa.sa_xf[0];
	ATF_CHECK(xf->xf_num == 1 && xf->xf_id == IKEV1_KEY_IKE);
	ATF_CHECK_EQ(xf->xf_nattr, 7);
	at = ikemsg_xf_attr(&sa, xf, IKEV1_ATTR_ENCRYPTION_ALGORITHM);
	ATF_CHECK(at != NULL && at->at_val == IKEV1_ENC_AES_CBC);
	at = ikemsg_xf_attr(&sa, xf, IKEV1_ATTR_GROUP_DESCRIPTION);
	ATF_CHECK(at != NULL && at->at_val == IKEV1_GROUP_MODP_2048);
	at = ikemsg_xf_attr(&sa, xf, IKEV1_ATTR_LIFE_DURATION);
	ATF_REQUIRE(at != NULL);
	ATF_CHECK(!at->at_tv && at->at_len == 4 && at->at_val == 86400);
	xf = &sa.sa_xf[1];
	at = ikemsg_xf_attr(&sa, xf, IKEV1_ATTR_LIFE_DURATION);
	ATF_REQUIRE(at != NULL);
	ATF_CHECK(at->at_tv && at->at_val == 28800);
	at = ikemsg_xf_attr(&sa, xf, IKEV1_ATTR_HASH_ALGORITHM);
	ATF_CHECK(at != NULL && at->at_val == IKEV1_HASH_SHA);

	pld = ikemsg_find(&m, IKEV1_PAYLOAD_VENDOR, NULL);
	ATF_REQUIRE(pld != NULL);
	data = ikemsg_pld_body(pld, &len);
	ATF_CHECK(len == 16 && memcmp(data, natt, 16) == 0);
	pld = ikemsg_find(&m, IKEV1_PAYLOAD_VENDOR, pld);
	ATF_REQUIRE(pld != NULL);
	data = ikemsg_pld_body(pld, &len);
	ATF_CHECK(len == 16 && memcmp(data, draft, 16) == 0);
	pld = ikemsg_find(&m, IKEV1_PAYLOAD_VENDOR, pld);
	ATF_REQUIRE(pld != NULL);
	data = ikemsg_pld_body(pld, &len);
	ATF_CHECK(len == 16 && memcmp(data, dpd, 16) == 0);
	ATF_CHECK(ikemsg_find(&m, IKEV1_PAYLOAD_VENDOR, pld) == NULL);
	free(copy);
}

ATF_TC_WITHOUT_HEAD(truncated);
ATF_TC_BODY(truncated, tc)
{
	t_truncate_all(t_v1_mm1, sizeof(t_v1_mm1));
}

ATF_TC_WITHOUT_HEAD(lengths);
ATF_TC_BODY(lengths, tc)
{
	static struct ikemsg	 m;
	uint8_t			*copy;
	size_t			 off;
	u_int			 i;
	static const size_t	 sub[] = {
		28 + 12 + 2,		/* proposal */
		28 + 12 + 8 + 2,	/* transform 1 */
		28 + 12 + 8 + 40 + 2,	/* transform 2 */
		28 + 12 + 8 + 8 + 24 + 2,	/* the life duration TLV */
	};

	ATF_REQUIRE_EQ(t_parse(&m, t_v1_mm1, sizeof(t_v1_mm1), &copy),
	    IKEMSG_OK);
	for (i = 0; i < m.msg_npld; i++) {
		off = (size_t)(m.msg_pld[i].pld_buf - copy) + 2;
		t_len_pm1(t_v1_mm1, sizeof(t_v1_mm1), off, -1);
	}
	free(copy);
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++)
		t_len_pm1(t_v1_mm1, sizeof(t_v1_mm1), sub[i], -1);
}

ATF_TC_WITHOUT_HEAD(malformed);
ATF_TC_BODY(malformed, tc)
{
	static struct ikemsg	 m;
	uint8_t			 b[sizeof(t_v1_mm1) + 8], *copy;

	/* Trailing bytes after the header's length are ignored in IKEv1. */
	memcpy(b, t_v1_mm1, sizeof(t_v1_mm1));
	memset(b + sizeof(t_v1_mm1), 0xee, 8);
	ATF_CHECK_EQ(t_parse_free(b, sizeof(b)), IKEMSG_OK);

	memcpy(b, t_v1_mm1, sizeof(t_v1_mm1));
	b[17] = 0x30;
	ATF_CHECK_EQ(t_parse_free(b, sizeof(t_v1_mm1)), IKEMSG_EVERSION);
	ATF_CHECK_EQ(ikemsg_error_notify(1, IKEMSG_EVERSION),
	    IKEV1_N_INVALID_MAJOR_VERSION);

	/* Unknown payload type; private-use types are skipped. */
	memcpy(b, t_v1_mm1, sizeof(t_v1_mm1));
	b[28] = 50;	/* SA's next: the first VID becomes type 50 */
	ATF_CHECK_EQ(t_parse(&m, b, sizeof(t_v1_mm1), &copy),
	    IKEMSG_EPLDTYPE);
	ATF_CHECK_EQ(m.msg_badtype, 50);
	free(copy);
	ATF_CHECK_EQ(ikemsg_error_notify(1, IKEMSG_EPLDTYPE),
	    IKEV1_N_INVALID_PAYLOAD_TYPE);
	b[28] = 200;
	ATF_CHECK_EQ(t_parse_free(b, sizeof(t_v1_mm1)), IKEMSG_OK);
	/* A proposal payload outside an SA. */
	b[28] = IKEV1_PAYLOAD_PROPOSAL;
	ATF_CHECK_EQ(t_parse_free(b, sizeof(t_v1_mm1)), IKEMSG_EPLDTYPE);

	/* DOI and situation. */
	memcpy(b, t_v1_mm1, sizeof(t_v1_mm1));
	b[28 + 7] = 2;
	ATF_CHECK_EQ(t_parse_free(b, sizeof(t_v1_mm1)), IKEMSG_EDOI);
	ATF_CHECK_EQ(ikemsg_error_notify(1, IKEMSG_EDOI),
	    IKEV1_N_DOI_NOT_SUPPORTED);
	memcpy(b, t_v1_mm1, sizeof(t_v1_mm1));
	b[28 + 11] = 3;
	ATF_CHECK_EQ(t_parse_free(b, sizeof(t_v1_mm1)), IKEMSG_ESYNTAX);

	/* Transform chaining: "more" on the last, missing on the first. */
	memcpy(b, t_v1_mm1, sizeof(t_v1_mm1));
	b[28 + 12 + 8 + 40] = 3;
	ATF_CHECK_EQ(t_parse_free(b, sizeof(t_v1_mm1)), IKEMSG_ESYNTAX);
	memcpy(b, t_v1_mm1, sizeof(t_v1_mm1));
	b[28 + 12 + 8] = 0;
	ATF_CHECK_EQ(t_parse_free(b, sizeof(t_v1_mm1)), IKEMSG_ESYNTAX);

	/* The life duration TLV overrunning its transform. */
	memcpy(b, t_v1_mm1, sizeof(t_v1_mm1));
	b[28 + 12 + 8 + 8 + 24 + 3] = 5;
	ATF_CHECK_EQ(t_parse_free(b, sizeof(t_v1_mm1)), IKEMSG_EBADLEN);
	ATF_CHECK_EQ(ikemsg_error_notify(1, IKEMSG_EBADLEN),
	    IKEV1_N_PAYLOAD_MALFORMED);

	/* Zero-length VID. */
	memcpy(b, t_v1_mm1, sizeof(t_v1_mm1));
	t_put16(b + 28 + 92 + 2, 0);
	ATF_CHECK_EQ(t_parse_free(b, sizeof(t_v1_mm1)), IKEMSG_EBADLEN);

	/* E flag with nothing after the header. */
	memcpy(b, t_v1_mm1, 28);
	b[19] = IKEV1_FLAG_ENC;
	t_put32(b + 24, 28);
	ATF_CHECK_EQ(t_parse_free(b, 28), IKEMSG_EBADLEN);
}

/* Too many attributes in one transform. */
ATF_TC_WITHOUT_HEAD(too_many_attrs);
ATF_TC_BODY(too_many_attrs, tc)
{
	static struct ikemsg_sa	 sa;
	struct ikebuf		 b;
	u_int			 i;

	ikemsg_sa_init(&sa, IKEV1_DOI_IPSEC, IKEV1_SIT_IDENTITY_ONLY);
	ikemsg_sa_prop(&sa, 1, IKEV1_PROTO_ISAKMP, NULL, 0);
	ikemsg_sa_xf(&sa, 0, 1, IKEV1_KEY_IKE);
	for (i = 0; i < IKEMSG_XFATTR_MAX; i++)
		ATF_REQUIRE_EQ(ikemsg_sa_attr(&sa, 1, i), 0);
	ATF_CHECK_EQ(ikemsg_sa_attr(&sa, 1, i), -1);
	ATF_REQUIRE_EQ(ikebuf_init(&b), 0);
	ikemsg_build_hdr(&b, 1, t_cky_i, t_cky_r, IKEV1_EXCHANGE_MAIN, 0, 0);
	ikev1_build_sa(&b, &sa);
	ATF_REQUIRE_EQ(ikemsg_build_done(&b), 0);
	ATF_CHECK_EQ(t_parse_free(b.ib_buf, b.ib_len), IKEMSG_OK);
	/* One more attribute, written by hand into the transform. */
	ikebuf_free(&b);
	sa.sa_xf[0].xf_nattr++;
	sa.sa_attr[sa.sa_nattr++] = sa.sa_attr[0];
	ATF_REQUIRE_EQ(ikebuf_init(&b), 0);
	ikemsg_build_hdr(&b, 1, t_cky_i, t_cky_r, IKEV1_EXCHANGE_MAIN, 0, 0);
	ikev1_build_sa(&b, &sa);
	ATF_REQUIRE_EQ(ikemsg_build_done(&b), 0);
	ATF_CHECK_EQ(t_parse_free(b.ib_buf, b.ib_len), IKEMSG_ETOOMANY);
	ikebuf_free(&b);
}

/* A Quick Mode chain with every payload type. */
static void
t_build_quick(struct ikebuf *b)
{
	static struct ikemsg_sa	 sa;
	uint8_t			 spi[4] = { 0xca, 0xfe, 0x00, 0x01 };
	uint8_t			 hash[32], nonce[24], ke[64], cky[16];
	uint8_t			 seq[4] = { 0, 0, 0x12, 0x34 };
	uint8_t			 natd[20];
	static const uint8_t	 sub[8] = { 10, 1, 0, 0, 255, 255, 255, 0 };
	static const uint8_t	 oa[4] = { 192, 168, 1, 2 };

	memset(hash, 0x11, sizeof(hash));
	memset(nonce, 0x22, sizeof(nonce));
	memset(ke, 0x33, sizeof(ke));
	memset(natd, 0x44, sizeof(natd));
	memcpy(cky, t_cky_i, 8);
	memcpy(cky + 8, t_cky_r, 8);

	ikev1_build_hash(b, IKEV1_PAYLOAD_HASH, hash, sizeof(hash));
	ikemsg_sa_init(&sa, IKEV1_DOI_IPSEC, IKEV1_SIT_IDENTITY_ONLY);
	ikemsg_sa_prop(&sa, 1, IKEV1_PROTO_IPSEC_ESP, spi, 4);
	ikemsg_sa_xf(&sa, 0, 1, IKEV1_ESP_AES_GCM_16);
	ikemsg_sa_attr(&sa, IKEV1_ATTR_SA_LIFE_TYPE, IKEV1_LIFE_SECONDS);
	ikemsg_sa_attr(&sa, IKEV1_ATTR_SA_LIFE_DURATION, 3600);
	ikemsg_sa_attr(&sa, IKEV1_ATTR_SA_LIFE_TYPE, IKEV1_LIFE_KILOBYTES);
	ikemsg_sa_attr(&sa, IKEV1_ATTR_SA_LIFE_DURATION, 1048576);
	ikemsg_sa_attr(&sa, IKEV1_ATTR_SA_ENCAP_MODE, IKEV1_ENCAP_UDP_TUNNEL);
	ikemsg_sa_attr(&sa, IKEV1_ATTR_SA_KEY_LENGTH, 256);
	ikemsg_sa_attr(&sa, IKEV1_ATTR_SA_GROUP_DESC, IKEV1_GROUP_ECP_256);
	ikemsg_sa_xf(&sa, 0, 2, IKEV1_ESP_AES);
	ikemsg_sa_attr(&sa, IKEV1_ATTR_SA_ENCAP_MODE,
	    IKEV1_ENCAP_UDP_TRANSPORT_DRAFT);
	ikemsg_sa_attr(&sa, IKEV1_ATTR_SA_AUTH_ALG, IKEV1_AUTH_HMAC_SHA2_256);
	ikemsg_sa_attr_var(&sa, IKEV1_ATTR_SA_COMP_PRIV_ALG,
	    (const uint8_t *)"vendor", 6);
	ikemsg_sa_prop(&sa, 1, IKEV1_PROTO_IPCOMP, (const uint8_t *)"\x12\x34",
	    2);
	ikemsg_sa_xf(&sa, 0, 1, 2 /* IPCOMP_DEFLATE */);
	ikev1_build_sa(b, &sa);
	ikev1_build_nonce(b, nonce, sizeof(nonce));
	ikev1_build_ke(b, ke, sizeof(ke));
	ikev1_build_id(b, IKEV1_ID_IPV4_ADDR_SUBNET, 17, 500, sub,
	    sizeof(sub));
	ikev1_build_id(b, IKEV1_ID_FQDN, 0, 0, "sun.example", 11);
	ikev1_build_cert(b, IKEV1_PAYLOAD_CERT, IKEV1_CERT_X509_SIG, "cert", 4);
	ikev1_build_cert(b, IKEV1_PAYLOAD_CR, IKEV1_CERT_X509_SIG, NULL, 0);
	ikev1_build_hash(b, IKEV1_PAYLOAD_SIG, hash, 16);
	ikev1_build_notify(b, IKEV1_DOI_IPSEC, IKEV1_PROTO_ISAKMP, cky, 16,
	    IKEV1_N_INITIAL_CONTACT, NULL, 0);
	ikev1_build_notify(b, IKEV1_DOI_IPSEC, IKEV1_PROTO_ISAKMP, cky, 16,
	    IKEV1_N_R_U_THERE, seq, sizeof(seq));
	ikev1_build_notify(b, IKEV1_DOI_IPSEC, IKEV1_PROTO_IPSEC_ESP, spi, 4,
	    IKEV1_N_RESPONDER_LIFETIME, "\x80\x01\x00\x01", 4);
	ikev1_build_delete(b, IKEV1_DOI_IPSEC, IKEV1_PROTO_IPSEC_ESP, 4, 1,
	    spi);
	ikev1_build_delete(b, IKEV1_DOI_IPSEC, IKEV1_PROTO_ISAKMP, 16, 1, cky);
	ikev1_build_vendor(b, "\xaf\xca", 2);
	ikev1_build_hash(b, IKEV1_PAYLOAD_NAT_D, natd, sizeof(natd));
	ikev1_build_natoa(b, IKEV1_PAYLOAD_NAT_OA, IKEV1_ID_IPV4_ADDR, oa,
	    sizeof(oa));
	ATF_REQUIRE_EQ(ikemsg_build_done(b), 0);
}

static void
t_check_quick(const struct ikemsg *m)
{
	static struct ikemsg_sa		 sa;
	struct ikemsg_id		 id;
	struct ikemsg_notify		 n;
	struct ikemsg_delete		 d;
	const struct ikemsg_pld		*pld;
	const struct ikemsg_attr	*at;
	const uint8_t			*data;
	size_t				 len;
	uint8_t				 u8;

	ATF_CHECK_EQ(m->msg_pld[0].pld_type, IKEV1_PAYLOAD_HASH);
	pld = ikemsg_find(m, IKEV1_PAYLOAD_SA, NULL);
	ATF_REQUIRE(pld != NULL);
	ATF_REQUIRE_EQ(ikev1_pld_sa(pld, &sa), IKEMSG_OK);
	ATF_CHECK_EQ(sa.sa_nprop, 2);
	ATF_CHECK_EQ(sa.sa_nxf, 3);
	ATF_CHECK_EQ(sa.sa_nattr, 10);
	ATF_CHECK(sa.sa_prop[0].p_proto == IKEV1_PROTO_IPSEC_ESP &&
	    sa.sa_prop[0].p_spisize == 4 && sa.sa_prop[0].p_spi[0] == 0xca);
	ATF_CHECK(sa.sa_prop[1].p_proto == IKEV1_PROTO_IPCOMP &&
	    sa.sa_prop[1].p_spisize == 2 && sa.sa_prop[1].p_num == 1);
	ATF_CHECK_EQ(sa.sa_xf[0].xf_id, IKEV1_ESP_AES_GCM_16);
	/* The 4-byte life duration: 1048576 KB as a TLV. */
	ATF_CHECK(!sa.sa_attr[3].at_tv && sa.sa_attr[3].at_len == 4 &&
	    sa.sa_attr[3].at_val == 1048576);
	ATF_CHECK(sa.sa_attr[1].at_tv && sa.sa_attr[1].at_val == 3600);
	at = ikemsg_xf_attr(&sa, &sa.sa_xf[0], IKEV1_ATTR_SA_ENCAP_MODE);
	ATF_CHECK(at != NULL && at->at_val == IKEV1_ENCAP_UDP_TUNNEL);
	at = ikemsg_xf_attr(&sa, &sa.sa_xf[1], IKEV1_ATTR_SA_ENCAP_MODE);
	ATF_CHECK(at != NULL && at->at_val == IKEV1_ENCAP_UDP_TRANSPORT_DRAFT);
	at = ikemsg_xf_attr(&sa, &sa.sa_xf[1], IKEV1_ATTR_SA_COMP_PRIV_ALG);
	ATF_REQUIRE(at != NULL);
	ATF_CHECK(at->at_len == 6 && memcmp(at->at_data, "vendor", 6) == 0);

	pld = ikemsg_find(m, IKEV1_PAYLOAD_NONCE, NULL);
	ATF_REQUIRE(pld != NULL);
	ikemsg_pld_body(pld, &len);
	ATF_CHECK_EQ(len, 24);
	pld = ikemsg_find(m, IKEV1_PAYLOAD_KE, NULL);
	ATF_REQUIRE(pld != NULL);
	ikemsg_pld_body(pld, &len);
	ATF_CHECK_EQ(len, 64);
	pld = ikemsg_find(m, IKEV1_PAYLOAD_ID, NULL);
	ATF_REQUIRE(pld != NULL);
	ATF_REQUIRE_EQ(ikev1_pld_id(pld, &id), IKEMSG_OK);
	ATF_CHECK(id.id_type == IKEV1_ID_IPV4_ADDR_SUBNET &&
	    id.id_proto == 17 && id.id_port == 500 && id.id_len == 8);
	pld = ikemsg_find(m, IKEV1_PAYLOAD_ID, pld);
	ATF_REQUIRE(pld != NULL);
	ATF_REQUIRE_EQ(ikev1_pld_id(pld, &id), IKEMSG_OK);
	ATF_CHECK(id.id_type == IKEV1_ID_FQDN && id.id_len == 11);
	pld = ikemsg_find(m, IKEV1_PAYLOAD_CERT, NULL);
	ATF_REQUIRE(pld != NULL);
	ATF_REQUIRE_EQ(ikemsg_pld_cert(pld, &u8, &data, &len), IKEMSG_OK);
	ATF_CHECK(u8 == IKEV1_CERT_X509_SIG && len == 4);
	pld = ikemsg_find(m, IKEV1_PAYLOAD_CR, NULL);
	ATF_REQUIRE(pld != NULL);
	ATF_REQUIRE_EQ(ikemsg_pld_cert(pld, &u8, &data, &len), IKEMSG_OK);
	ATF_CHECK_EQ(len, 0);
	ATF_CHECK(ikemsg_find(m, IKEV1_PAYLOAD_SIG, NULL) != NULL);

	pld = ikemsg_find(m, IKEV1_PAYLOAD_NOTIFY, NULL);
	ATF_REQUIRE(pld != NULL);
	ATF_REQUIRE_EQ(ikev1_pld_notify(pld, &n), IKEMSG_OK);
	ATF_CHECK(n.n_type == IKEV1_N_INITIAL_CONTACT && n.n_spisize == 16 &&
	    n.n_datalen == 0 && n.n_doi == IKEV1_DOI_IPSEC);
	pld = ikemsg_find(m, IKEV1_PAYLOAD_NOTIFY, pld);
	ATF_REQUIRE(pld != NULL);
	ATF_REQUIRE_EQ(ikev1_pld_notify(pld, &n), IKEMSG_OK);
	ATF_CHECK(n.n_type == IKEV1_N_R_U_THERE && n.n_datalen == 4 &&
	    n.n_data[3] == 0x34);
	pld = ikemsg_find(m, IKEV1_PAYLOAD_NOTIFY, pld);
	ATF_REQUIRE(pld != NULL);
	ATF_REQUIRE_EQ(ikev1_pld_notify(pld, &n), IKEMSG_OK);
	ATF_CHECK(n.n_type == IKEV1_N_RESPONDER_LIFETIME && n.n_spisize == 4);

	pld = ikemsg_find(m, IKEV1_PAYLOAD_DELETE, NULL);
	ATF_REQUIRE(pld != NULL);
	ATF_REQUIRE_EQ(ikev1_pld_delete(pld, &d), IKEMSG_OK);
	ATF_CHECK(d.d_proto == IKEV1_PROTO_IPSEC_ESP && d.d_nspi == 1 &&
	    d.d_spi[1] == 0xfe);
	pld = ikemsg_find(m, IKEV1_PAYLOAD_DELETE, pld);
	ATF_REQUIRE(pld != NULL);
	ATF_REQUIRE_EQ(ikev1_pld_delete(pld, &d), IKEMSG_OK);
	ATF_CHECK(d.d_spisize == 16);
	ATF_CHECK(ikemsg_find(m, IKEV1_PAYLOAD_VENDOR, NULL) != NULL);
	pld = ikemsg_find(m, IKEV1_PAYLOAD_NAT_D, NULL);
	ATF_REQUIRE(pld != NULL);
	ikemsg_pld_body(pld, &len);
	ATF_CHECK_EQ(len, 20);
	pld = ikemsg_find(m, IKEV1_PAYLOAD_NAT_OA, NULL);
	ATF_REQUIRE(pld != NULL);
	ATF_REQUIRE_EQ(ikev1_pld_natoa(pld, &u8, &data, &len), IKEMSG_OK);
	ATF_CHECK(u8 == IKEV1_ID_IPV4_ADDR && len == 4 && data[3] == 2);
}

ATF_TC_WITHOUT_HEAD(roundtrip);
ATF_TC_BODY(roundtrip, tc)
{
	static struct ikemsg	 m;
	struct ikebuf		 b;
	uint8_t			*copy;
	u_int			 i;
	size_t			 off;

	ATF_REQUIRE_EQ(ikebuf_init(&b), 0);
	ikemsg_build_hdr(&b, 1, t_cky_i, t_cky_r, IKEV1_EXCHANGE_QUICK, 0,
	    0x12345678);
	t_build_quick(&b);
	t_write_seed("v1_quick_clear", b.ib_buf, b.ib_len);
	ATF_REQUIRE_EQ(t_parse(&m, b.ib_buf, b.ib_len, &copy), IKEMSG_OK);
	ATF_CHECK_EQ(m.msg_npld, 17);
	ATF_CHECK_EQ(m.msg_msgid, 0x12345678);
	t_check_quick(&m);
	for (i = 0; i < m.msg_npld; i++) {
		off = (size_t)(m.msg_pld[i].pld_buf - copy) + 2;
		t_len_pm1(b.ib_buf, b.ib_len, off, -1);
	}
	free(copy);
	t_truncate_all(b.ib_buf, b.ib_len);
	ikebuf_free(&b);
}

/* An encrypted body: the header alone, then the chain with padding. */
ATF_TC_WITHOUT_HEAD(encrypted);
ATF_TC_BODY(encrypted, tc)
{
	static struct ikemsg	 m;
	struct ikebuf		 b, in;
	uint8_t			*plain;
	size_t			 plen;

	ATF_REQUIRE_EQ(ikebuf_init(&in), 0);
	t_build_quick(&in);
	plen = (in.ib_len + 16) & ~(size_t)15;	/* CBC padding */
	plain = calloc(1, plen);
	memcpy(plain, in.ib_buf, in.ib_len);

	ATF_REQUIRE_EQ(ikebuf_init(&b), 0);
	ikemsg_build_hdr(&b, 1, t_cky_i, t_cky_r, IKEV1_EXCHANGE_QUICK, 0, 7);
	ikemsg_build_body(&b, in.ib_first, plain, plen);
	ATF_REQUIRE_EQ(ikemsg_build_done(&b), 0);
	t_write_seed("v1_quick_enc", b.ib_buf, b.ib_len);
	ATF_REQUIRE_EQ(ikemsg_parse(&m, b.ib_buf, b.ib_len, 0, NULL),
	    IKEMSG_OK);
	ATF_CHECK_EQ(m.msg_npld, 0);
	ATF_CHECK(m.msg_flags & IKEV1_FLAG_ENC);
	ATF_CHECK_EQ(m.msg_encoff, 28);
	ATF_CHECK_EQ(m.msg_enclen, plen);
	ATF_CHECK_EQ(m.msg_encnext, IKEV1_PAYLOAD_HASH);
	/* The decrypted body, padding and all. */
	ATF_REQUIRE_EQ(ikemsg_parse_inner(&m, plain, plen, NULL), IKEMSG_OK);
	ATF_CHECK_EQ(m.msg_npld, 17);
	ATF_CHECK(m.msg_pld[0].pld_inner);
	t_check_quick(&m);
	/* Decrypted with the wrong key: garbage is refused, not read past. */
	ATF_REQUIRE_EQ(ikemsg_parse(&m, b.ib_buf, b.ib_len, 0, NULL),
	    IKEMSG_OK);
	memset(plain, 0xa7, plen);
	ATF_CHECK(ikemsg_parse_inner(&m, plain, plen, NULL) != IKEMSG_OK);
	free(plain);
	ikebuf_free(&b);
	ikebuf_free(&in);
}

ATF_TC_WITHOUT_HEAD(aggressive_and_stats);
ATF_TC_BODY(aggressive_and_stats, tc)
{
	static struct ikemsg	 m;
	struct ikemsg_stats	 st;
	uint8_t			 b[sizeof(t_v1_mm1)];

	memset(&st, 0, sizeof(st));
	memcpy(b, t_v1_mm1, sizeof(b));
	b[18] = IKEV1_EXCHANGE_AGGRESSIVE;
	ATF_CHECK_EQ(ikemsg_parse(&m, b, sizeof(b), 0, &st), IKEMSG_OK);
	ATF_CHECK_EQ(m.msg_exchange, IKEV1_EXCHANGE_AGGRESSIVE);
	ATF_CHECK_EQ(ikemsg_parse(&m, b, 10, 0, &st), IKEMSG_ESHORT);
	t_put16(b + 28 + 2, 0);
	ATF_CHECK_EQ(ikemsg_parse(&m, b, sizeof(b), 0, &st), IKEMSG_EBADLEN);
	b[17] = 0x40;
	ATF_CHECK_EQ(ikemsg_parse(&m, b, sizeof(b), 0, &st), IKEMSG_EVERSION);
	ATF_CHECK_EQ(st.ims_parsed, 1);
	ATF_CHECK_EQ(st.ims_dropped_short, 1);
	ATF_CHECK_EQ(st.ims_dropped_badlen, 1);
	ATF_CHECK_EQ(st.ims_dropped_version, 1);
	ATF_CHECK_STREQ(ikemsg_strerror(IKEMSG_EVERSION),
	    "unsupported major version");
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, main_mode_1);
	ATF_TP_ADD_TC(tp, truncated);
	ATF_TP_ADD_TC(tp, lengths);
	ATF_TP_ADD_TC(tp, malformed);
	ATF_TP_ADD_TC(tp, too_many_attrs);
	ATF_TP_ADD_TC(tp, roundtrip);
	ATF_TP_ADD_TC(tp, encrypted);
	ATF_TP_ADD_TC(tp, aggressive_and_stats);
	return (atf_no_error());
}
