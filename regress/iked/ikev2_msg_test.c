/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * IKEv2 messages: strongSwan's IKE_SA_INIT parsed and walked; every
 * payload type built, parsed back and decoded, inside and outside SK;
 * lengths wrong in every place, truncation at every byte, unknown
 * critical payloads, too many payloads, fragments and reassembly.
 */

#include "ikemsg_test.h"

static const uint8_t t_spi_i[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static const uint8_t t_spi_r[8] = { 8, 7, 6, 5, 4, 3, 2, 1 };

ATF_TC_WITHOUT_HEAD(strongswan_sa_init);
ATF_TC_BODY(strongswan_sa_init, tc)
{
	static struct ikemsg		 m;
	static struct ikemsg_sa		 sa;
	struct ikemsg_stats		 st;
	struct ikemsg_notify		 n;
	const struct ikemsg_pld		*pld;
	const struct ikemsg_attr	*at;
	const uint8_t			*data;
	uint8_t				*copy;
	size_t				 len;
	uint16_t			 group;
	u_int				 nn = 0;

	t_write_seed("v2_sa_init", t_v2_sa_init, sizeof(t_v2_sa_init));
	memset(&st, 0, sizeof(st));
	copy = malloc(sizeof(t_v2_sa_init));
	memcpy(copy, t_v2_sa_init, sizeof(t_v2_sa_init));
	ATF_REQUIRE_EQ(ikemsg_parse(&m, copy, sizeof(t_v2_sa_init), 0, &st),
	    IKEMSG_OK);
	ATF_CHECK_EQ(st.ims_parsed, 1);
	ATF_CHECK_EQ(m.msg_version, 2);
	ATF_CHECK_EQ(m.msg_exchange, IKEV2_EXCHANGE_IKE_SA_INIT);
	ATF_CHECK_EQ(m.msg_flags, IKEV2_FLAG_INITIATOR);
	ATF_CHECK_EQ(m.msg_npld, 8);
	ATF_CHECK_EQ(m.msg_encoff, 0);

	pld = ikemsg_find(&m, IKEV2_PAYLOAD_SA, NULL);
	ATF_REQUIRE(pld != NULL);
	ATF_REQUIRE_EQ(ikev2_pld_sa(pld, &sa), IKEMSG_OK);
	ATF_CHECK_EQ(sa.sa_nprop, 2);
	ATF_CHECK_EQ(sa.sa_prop[0].p_nxf, 7);
	ATF_CHECK_EQ(sa.sa_prop[1].p_nxf, 3);
	ATF_CHECK_EQ(sa.sa_prop[1].p_num, 2);
	ATF_CHECK_EQ(sa.sa_prop[0].p_proto, IKEV2_SAPROTO_IKE);
	ATF_CHECK_EQ(sa.sa_xf[1].xf_type, IKEV2_XFORMTYPE_ENCR);
	ATF_CHECK_EQ(sa.sa_xf[1].xf_id, IKEV2_XFORMENCR_AES_CBC);
	at = ikemsg_xf_attr(&sa, &sa.sa_xf[1], IKEV2_ATTR_KEY_LENGTH);
	ATF_REQUIRE(at != NULL);
	ATF_CHECK(at->at_tv && at->at_val == 256);
	ATF_CHECK_EQ(sa.sa_xf[4].xf_id, IKEV2_XFORMDH_CURVE25519);
	ATF_CHECK_EQ(sa.sa_xf[7].xf_id, IKEV2_XFORMENCR_AES_GCM_16);
	ATF_CHECK(ikemsg_xf_attr(&sa, &sa.sa_xf[3], 14) == NULL);

	pld = ikemsg_find(&m, IKEV2_PAYLOAD_KE, NULL);
	ATF_REQUIRE(pld != NULL);
	ATF_REQUIRE_EQ(ikev2_pld_ke(pld, &group, &data, &len), IKEMSG_OK);
	ATF_CHECK_EQ(group, IKEV2_XFORMDH_CURVE25519);
	ATF_CHECK_EQ(len, 32);
	pld = ikemsg_find(&m, IKEV2_PAYLOAD_NONCE, NULL);
	ATF_REQUIRE(pld != NULL);
	data = ikemsg_pld_body(pld, &len);
	ATF_CHECK(len == 32 && data[0] == 0xa5);

	for (pld = NULL; (pld = ikemsg_find(&m, IKEV2_PAYLOAD_NOTIFY,
	    pld)) != NULL; nn++) {
		ATF_REQUIRE_EQ(ikev2_pld_notify(pld, &n), IKEMSG_OK);
		if (nn == 0) {
			ATF_CHECK_EQ(n.n_type, IKEV2_N_NAT_DETECTION_SOURCE_IP);
			ATF_CHECK_EQ(n.n_datalen, 20);
		}
		if (nn == 3) {
			ATF_CHECK_EQ(n.n_type,
			    IKEV2_N_SIGNATURE_HASH_ALGORITHMS);
			ATF_CHECK_EQ(n.n_datalen, 8);
		}
	}
	ATF_CHECK_EQ(nn, 5);
	free(copy);

	/* The same on port 4500, after the non-ESP marker. */
	copy = malloc(4 + sizeof(t_v2_sa_init));
	memset(copy, 0, 4);
	memcpy(copy + 4, t_v2_sa_init, sizeof(t_v2_sa_init));
	ATF_CHECK_EQ(ikemsg_parse(&m, copy, 4 + sizeof(t_v2_sa_init),
	    IKEMSG_F_NATT, &st), IKEMSG_OK);
	ATF_CHECK_EQ(m.msg_npld, 8);
	copy[2] = 1;	/* an ESP SPI */
	ATF_CHECK_EQ(ikemsg_parse(&m, copy, 4 + sizeof(t_v2_sa_init),
	    IKEMSG_F_NATT, &st), IKEMSG_ENOTIKE);
	copy[0] = 0xff;	/* NAT keepalive */
	ATF_CHECK_EQ(ikemsg_parse(&m, copy, 1, IKEMSG_F_NATT, &st),
	    IKEMSG_ENOTIKE);
	ATF_CHECK_EQ(st.ims_notike, 2);
	free(copy);
}

ATF_TC_WITHOUT_HEAD(truncated);
ATF_TC_BODY(truncated, tc)
{
	t_truncate_all(t_v2_sa_init, sizeof(t_v2_sa_init));
}

/* Every length field, one too short and one too long. */
ATF_TC_WITHOUT_HEAD(lengths);
ATF_TC_BODY(lengths, tc)
{
	static struct ikemsg	 m;
	uint8_t			*copy;
	size_t			 off;
	u_int			 i;
	static const size_t	 sub[] = {
		28 + 4 + 2,			/* proposal 1 */
		28 + 4 + 8 + 2,			/* its transforms */
		28 + 4 + 8 + 12 + 2,
		28 + 4 + 8 + 24 + 2,
		28 + 4 + 8 + 56 + 2,		/* its last */
		28 + 4 + 72 + 2,		/* proposal 2 */
		28 + 4 + 72 + 8 + 2,
		28 + 4 + 72 + 28 + 2,
	};

	ATF_REQUIRE_EQ(t_parse(&m, t_v2_sa_init, sizeof(t_v2_sa_init),
	    &copy), IKEMSG_OK);
	for (i = 0; i < m.msg_npld; i++) {
		off = (size_t)(m.msg_pld[i].pld_buf - copy) + 2;
		t_len_pm1(t_v2_sa_init, sizeof(t_v2_sa_init), off, -1);
	}
	free(copy);
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++)
		t_len_pm1(t_v2_sa_init, sizeof(t_v2_sa_init), sub[i], -1);
	/* The header's length: one less and one more than the datagram. */
	t_len_pm1(t_v2_sa_init, sizeof(t_v2_sa_init), 26, -1);
}

ATF_TC_WITHOUT_HEAD(malformed);
ATF_TC_BODY(malformed, tc)
{
	static struct ikemsg	 m;
	uint8_t			 b[sizeof(t_v2_sa_init)], *copy;
	size_t			 ke = 28 + 112;	/* KE payload */

	/* Major version 3: refused, answered with INVALID_MAJOR_VERSION. */
	memcpy(b, t_v2_sa_init, sizeof(b));
	b[17] = 0x30;
	ATF_CHECK_EQ(t_parse_free(b, sizeof(b)), IKEMSG_EVERSION);
	ATF_CHECK_EQ(ikemsg_error_notify(2, IKEMSG_EVERSION),
	    IKEV2_N_INVALID_MAJOR_VERSION);
	b[17] = 0x21;	/* minor versions are ignored */
	ATF_CHECK_EQ(t_parse_free(b, sizeof(b)), IKEMSG_OK);

	/* An unknown payload type in the chain, critical or not. */
	memcpy(b, t_v2_sa_init, sizeof(b));
	b[28] = 99;	/* SA's next: the KE is now of type 99 */
	ATF_CHECK_EQ(t_parse_free(b, sizeof(b)), IKEMSG_OK);
	b[ke + 1] = IKEV2_CRITICAL_PAYLOAD;
	ATF_CHECK_EQ(t_parse(&m, b, sizeof(b), &copy), IKEMSG_ECRITICAL);
	ATF_CHECK_EQ(m.msg_badtype, 99);
	free(copy);
	ATF_CHECK_EQ(ikemsg_error_notify(2, IKEMSG_ECRITICAL),
	    IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD);

	/* Zero and 3-byte payload lengths. */
	memcpy(b, t_v2_sa_init, sizeof(b));
	t_put16(b + ke + 2, 0);
	ATF_CHECK_EQ(t_parse_free(b, sizeof(b)), IKEMSG_EBADLEN);
	t_put16(b + ke + 2, 3);
	ATF_CHECK_EQ(t_parse_free(b, sizeof(b)), IKEMSG_EBADLEN);

	/* The last payload says another follows: the chain runs out. */
	memcpy(b, t_v2_sa_init, sizeof(b));
	b[sizeof(b) - 8] = IKEV2_PAYLOAD_SA;
	ATF_CHECK_EQ(t_parse_free(b, sizeof(b)), IKEMSG_EBADLEN);
	/* ... or ends early: trailing bytes. */
	memcpy(b, t_v2_sa_init, sizeof(b));
	b[sizeof(b) - 24] = 0;
	ATF_CHECK_EQ(t_parse_free(b, sizeof(b)), IKEMSG_EBADLEN);

	/* A KEY_LENGTH written as a TLV overrunning its transform. */
	memcpy(b, t_v2_sa_init, sizeof(b));
	b[28 + 4 + 8 + 8] = 0x00;
	ATF_CHECK_EQ(t_parse_free(b, sizeof(b)), IKEMSG_EBADLEN);

	/* Proposal: "more" on the last one, a wrong transform count. */
	memcpy(b, t_v2_sa_init, sizeof(b));
	b[28 + 4 + 72] = 2;
	ATF_CHECK_EQ(t_parse_free(b, sizeof(b)), IKEMSG_ESYNTAX);
	memcpy(b, t_v2_sa_init, sizeof(b));
	b[28 + 4 + 7] = 6;
	ATF_CHECK_EQ(t_parse_free(b, sizeof(b)), IKEMSG_ESYNTAX);
	b[28 + 4 + 7] = 0;
	ATF_CHECK_EQ(t_parse_free(b, sizeof(b)), IKEMSG_ESYNTAX);
	/* An SPI larger than the proposal. */
	memcpy(b, t_v2_sa_init, sizeof(b));
	b[28 + 4 + 72 + 6] = 16;
	ATF_CHECK(t_parse_free(b, sizeof(b)) != IKEMSG_OK);

	/* NAT-D must be 20 bytes: SIGNATURE_HASH_ALGORITHMS made NAT-D. */
	memcpy(b, t_v2_sa_init, sizeof(b));
	b[ke + 40 + 36 + 28 + 28 + 8 + 7] = 0x04;
	ATF_CHECK_EQ(t_parse_free(b, sizeof(b)), IKEMSG_EBADLEN);
	ATF_CHECK_EQ(ikemsg_error_notify(2, IKEMSG_EBADLEN),
	    IKEV2_N_INVALID_SYNTAX);
}

/* As many payloads as allowed pass; one more is refused. */
ATF_TC_WITHOUT_HEAD(too_many);
ATF_TC_BODY(too_many, tc)
{
	struct ikebuf	 b;
	uint8_t		 vid[4] = { 1, 2, 3, 4 };
	u_int		 i;

	ATF_REQUIRE_EQ(ikebuf_init(&b), 0);
	ikemsg_build_hdr(&b, 2, t_spi_i, t_spi_r,
	    IKEV2_EXCHANGE_INFORMATIONAL, 0, 0);
	for (i = 0; i < IKEMSG_PLD_MAX; i++)
		ikev2_build_vendor(&b, vid, sizeof(vid));
	ATF_REQUIRE_EQ(ikemsg_build_done(&b), 0);
	ATF_CHECK_EQ(t_parse_free(b.ib_buf, b.ib_len), IKEMSG_OK);
	ikev2_build_vendor(&b, vid, sizeof(vid));
	ATF_REQUIRE_EQ(ikemsg_build_done(&b), 0);
	ATF_CHECK_EQ(t_parse_free(b.ib_buf, b.ib_len), IKEMSG_ETOOMANY);
	ikebuf_free(&b);
}

/* Pretend cipher: IV and ICV of 16 zero bytes, plaintext in clear. */
#define T_IV	16
#define T_ICV	16

static void
t_seal(struct ikebuf *outer, const struct ikebuf *inner, int frag,
    uint16_t num, uint16_t total)
{
	size_t	 off, padlen = 3, len;

	len = T_IV + inner->ib_len + padlen + 1 + T_ICV;
	if (frag)
		ATF_REQUIRE_EQ(ikev2_build_skf(outer, inner->ib_first, num,
		    total, len, &off), 0);
	else
		ATF_REQUIRE_EQ(ikev2_build_sk(outer, inner->ib_first, len,
		    &off), 0);
	ATF_REQUIRE_EQ(ikemsg_build_done(outer), 0);
	memset(outer->ib_buf + off, 0, len);
	memcpy(outer->ib_buf + off + T_IV, inner->ib_buf, inner->ib_len);
	outer->ib_buf[off + T_IV + inner->ib_len + padlen] = (uint8_t)padlen;
}

/* The inner chain of an IKE_AUTH with every payload type. */
static void
t_build_inner(struct ikebuf *in)
{
	static struct ikemsg_sa	 sa;
	struct ikemsg_ts	 ts[2];
	uint8_t			 spi[4] = { 0xc0, 0x01, 0xd0, 0x0d };
	uint8_t			 del[8] = { 1, 1, 1, 1, 2, 2, 2, 2 };
	uint8_t			 auth[32], cert[40];

	memset(auth, 0x33, sizeof(auth));
	memset(cert, 0x44, sizeof(cert));
	ATF_REQUIRE_EQ(ikebuf_init(in), 0);
	ikev2_build_id(in, IKEV2_PAYLOAD_IDi, IKEV2_ID_FQDN, "moon", 4);
	ikev2_build_cert(in, IKEV2_PAYLOAD_CERT, IKEV2_CERT_X509_CERT, cert,
	    sizeof(cert));
	ikev2_build_cert(in, IKEV2_PAYLOAD_CERTREQ, IKEV2_CERT_X509_CERT,
	    NULL, 0);
	ikev2_build_notify(in, 0, NULL, 0, IKEV2_N_INITIAL_CONTACT, NULL, 0);
	ikev2_build_id(in, IKEV2_PAYLOAD_IDr, IKEV2_ID_IPV4, "\xc0\x00\x02\x01",
	    4);
	ikev2_build_auth(in, IKEV2_AUTH_SHARED_KEY_MIC, auth, sizeof(auth));
	ikev2_build_notify(in, 0, NULL, 0, IKEV2_N_USE_TRANSPORT_MODE, NULL,
	    0);
	ikemsg_sa_init(&sa, 0, 0);
	ATF_REQUIRE_EQ(ikemsg_sa_prop(&sa, 1, IKEV2_SAPROTO_ESP, spi, 4), 0);
	ikemsg_sa_xf(&sa, IKEV2_XFORMTYPE_ENCR, 0, IKEV2_XFORMENCR_AES_GCM_16);
	ikemsg_sa_attr(&sa, IKEV2_ATTR_KEY_LENGTH, 128);
	ikemsg_sa_xf(&sa, IKEV2_XFORMTYPE_ESN, 0, IKEV2_XFORMESN_NONE);
	ikemsg_sa_prop(&sa, 2, IKEV2_SAPROTO_ESP, spi, 4);
	ikemsg_sa_xf(&sa, IKEV2_XFORMTYPE_ENCR, 0,
	    IKEV2_XFORMENCR_CHACHA20_POLY1305);
	ikemsg_sa_xf(&sa, IKEV2_XFORMTYPE_DH, 0, IKEV2_XFORMDH_CURVE448);
	ATF_REQUIRE_EQ(ikemsg_sa_xf(&sa, IKEV2_XFORMTYPE_ESN, 0,
	    IKEV2_XFORMESN_ESN), 0);
	ikev2_build_sa(in, &sa);
	memset(ts, 0, sizeof(ts));
	ts[0].ts_type = IKEV2_TS_IPV4_ADDR_RANGE;
	ts[0].ts_proto = 17;
	ts[0].ts_sport = 500;
	ts[0].ts_eport = 500;
	memcpy(ts[0].ts_saddr, "\x0a\x01\x00\x00", 4);
	memcpy(ts[0].ts_eaddr, "\x0a\x01\x00\xff", 4);
	ts[1].ts_type = IKEV2_TS_IPV6_ADDR_RANGE;
	ts[1].ts_eport = 65535;
	memset(ts[1].ts_eaddr, 0xff, 16);
	ikev2_build_ts(in, IKEV2_PAYLOAD_TSi, ts, 2);
	ikev2_build_ts(in, IKEV2_PAYLOAD_TSr, ts, 1);
	ikev2_build_delete(in, IKEV2_SAPROTO_ESP, 4, 2, del);
	ikev2_build_delete(in, IKEV2_SAPROTO_IKE, 0, 0, NULL);
	ikev2_build_vendor(in, "strongSwan", 10);
	ATF_REQUIRE_EQ(ikemsg_build_done(in), 0);
	ATF_CHECK_EQ(in->ib_first, IKEV2_PAYLOAD_IDi);
}

static void
t_check_inner(const struct ikemsg *m)
{
	static struct ikemsg_sa		 sa;
	struct ikemsg_id		 id;
	struct ikemsg_ts		 ts[IKEMSG_TS_MAX];
	struct ikemsg_delete		 d;
	struct ikemsg_notify		 n;
	const struct ikemsg_pld		*pld;
	const uint8_t			*data;
	size_t				 len;
	uint8_t				 u8;
	u_int				 nts;

	pld = ikemsg_find(m, IKEV2_PAYLOAD_IDi, NULL);
	ATF_REQUIRE(pld != NULL && pld->pld_inner);
	ATF_REQUIRE_EQ(ikev2_pld_id(pld, &id), IKEMSG_OK);
	ATF_CHECK(id.id_type == IKEV2_ID_FQDN && id.id_len == 4 &&
	    memcmp(id.id_data, "moon", 4) == 0);
	pld = ikemsg_find(m, IKEV2_PAYLOAD_IDr, NULL);
	ATF_REQUIRE(pld != NULL);
	ATF_REQUIRE_EQ(ikev2_pld_id(pld, &id), IKEMSG_OK);
	ATF_CHECK(id.id_type == IKEV2_ID_IPV4 && id.id_len == 4);
	pld = ikemsg_find(m, IKEV2_PAYLOAD_CERT, NULL);
	ATF_REQUIRE(pld != NULL);
	ATF_REQUIRE_EQ(ikemsg_pld_cert(pld, &u8, &data, &len), IKEMSG_OK);
	ATF_CHECK(u8 == IKEV2_CERT_X509_CERT && len == 40 && data[39] == 0x44);
	pld = ikemsg_find(m, IKEV2_PAYLOAD_CERTREQ, NULL);
	ATF_REQUIRE(pld != NULL);
	ATF_REQUIRE_EQ(ikemsg_pld_cert(pld, &u8, &data, &len), IKEMSG_OK);
	ATF_CHECK_EQ(len, 0);
	pld = ikemsg_find(m, IKEV2_PAYLOAD_AUTH, NULL);
	ATF_REQUIRE(pld != NULL);
	ATF_REQUIRE_EQ(ikev2_pld_auth(pld, &u8, &data, &len), IKEMSG_OK);
	ATF_CHECK(u8 == IKEV2_AUTH_SHARED_KEY_MIC && len == 32);
	pld = ikemsg_find(m, IKEV2_PAYLOAD_NOTIFY, NULL);
	ATF_REQUIRE(pld != NULL);
	ATF_REQUIRE_EQ(ikev2_pld_notify(pld, &n), IKEMSG_OK);
	ATF_CHECK_EQ(n.n_type, IKEV2_N_INITIAL_CONTACT);
	pld = ikemsg_find(m, IKEV2_PAYLOAD_NOTIFY, pld);
	ATF_REQUIRE(pld != NULL);
	ATF_REQUIRE_EQ(ikev2_pld_notify(pld, &n), IKEMSG_OK);
	ATF_CHECK_EQ(n.n_type, IKEV2_N_USE_TRANSPORT_MODE);

	pld = ikemsg_find(m, IKEV2_PAYLOAD_SA, NULL);
	ATF_REQUIRE(pld != NULL);
	ATF_REQUIRE_EQ(ikev2_pld_sa(pld, &sa), IKEMSG_OK);
	ATF_CHECK_EQ(sa.sa_nprop, 2);
	ATF_CHECK_EQ(sa.sa_nxf, 5);
	ATF_CHECK_EQ(sa.sa_nattr, 1);
	ATF_CHECK_EQ(sa.sa_prop[1].p_spisize, 4);
	ATF_CHECK_EQ(memcmp(sa.sa_prop[1].p_spi, "\xc0\x01\xd0\x0d", 4), 0);
	ATF_CHECK_EQ(sa.sa_xf[sa.sa_prop[1].p_xf].xf_id,
	    IKEV2_XFORMENCR_CHACHA20_POLY1305);
	ATF_CHECK_EQ(sa.sa_xf[4].xf_type, IKEV2_XFORMTYPE_ESN);
	ATF_CHECK_EQ(sa.sa_attr[0].at_val, 128);

	pld = ikemsg_find(m, IKEV2_PAYLOAD_TSi, NULL);
	ATF_REQUIRE(pld != NULL);
	ATF_REQUIRE_EQ(ikev2_pld_ts(pld, ts, IKEMSG_TS_MAX, &nts), IKEMSG_OK);
	ATF_REQUIRE_EQ(nts, 2);
	ATF_CHECK(ts[0].ts_proto == 17 && ts[0].ts_sport == 500 &&
	    ts[0].ts_eaddr[3] == 0xff);
	ATF_CHECK(ts[1].ts_type == IKEV2_TS_IPV6_ADDR_RANGE &&
	    ts[1].ts_eport == 65535 && ts[1].ts_eaddr[15] == 0xff);
	ATF_CHECK_EQ(ikev2_pld_ts(pld, ts, 1, &nts), IKEMSG_ETOOMANY);
	pld = ikemsg_find(m, IKEV2_PAYLOAD_TSr, NULL);
	ATF_REQUIRE(pld != NULL);
	ATF_REQUIRE_EQ(ikev2_pld_ts(pld, ts, IKEMSG_TS_MAX, &nts), IKEMSG_OK);
	ATF_CHECK_EQ(nts, 1);

	pld = ikemsg_find(m, IKEV2_PAYLOAD_DELETE, NULL);
	ATF_REQUIRE(pld != NULL);
	ATF_REQUIRE_EQ(ikev2_pld_delete(pld, &d), IKEMSG_OK);
	ATF_CHECK(d.d_nspi == 2 && d.d_spisize == 4 && d.d_spi[4] == 2);
	pld = ikemsg_find(m, IKEV2_PAYLOAD_DELETE, pld);
	ATF_REQUIRE(pld != NULL);
	ATF_REQUIRE_EQ(ikev2_pld_delete(pld, &d), IKEMSG_OK);
	ATF_CHECK(d.d_proto == IKEV2_SAPROTO_IKE && d.d_nspi == 0);
	pld = ikemsg_find(m, IKEV2_PAYLOAD_VENDOR, NULL);
	ATF_REQUIRE(pld != NULL);
	data = ikemsg_pld_body(pld, &len);
	ATF_CHECK(len == 10 && memcmp(data, "strongSwan", 10) == 0);
}

/* Outer payloads, then SK around every other type, built and parsed. */
ATF_TC_WITHOUT_HEAD(roundtrip_sk);
ATF_TC_BODY(roundtrip_sk, tc)
{
	static struct ikemsg	 m;
	struct ikemsg_sk	 sk;
	struct ikebuf		 out, in;
	uint8_t			 ke[32], nonce[16];
	uint16_t		 group;
	const uint8_t		*data;
	size_t			 len, plen;

	memset(ke, 7, sizeof(ke));
	memset(nonce, 9, sizeof(nonce));
	t_build_inner(&in);
	ATF_REQUIRE_EQ(ikebuf_init(&out), 0);
	ikemsg_build_hdr(&out, 2, t_spi_i, t_spi_r, IKEV2_EXCHANGE_IKE_AUTH,
	    IKEV2_FLAG_INITIATOR, 1);
	/* Outside SK: KE and a nonce (as in CREATE_CHILD_SA, for shape). */
	ikev2_build_ke(&out, IKEV2_XFORMDH_ECP_256, ke, sizeof(ke));
	ikev2_build_nonce(&out, nonce, sizeof(nonce));
	t_seal(&out, &in, 0, 0, 0);
	t_write_seed("v2_ike_auth_clear", out.ib_buf, out.ib_len);

	ATF_REQUIRE_EQ(t_parse_free(out.ib_buf, out.ib_len), IKEMSG_OK);
	ATF_REQUIRE_EQ(ikemsg_parse(&m, out.ib_buf, out.ib_len, 0, NULL),
	    IKEMSG_OK);
	ATF_CHECK_EQ(m.msg_msgid, 1);
	ATF_CHECK_EQ(m.msg_npld, 3);
	ATF_CHECK_EQ(m.msg_enctype, IKEV2_PAYLOAD_SK);
	ATF_CHECK_EQ(m.msg_encnext, IKEV2_PAYLOAD_IDi);
	ATF_REQUIRE_EQ(ikev2_pld_ke(&m.msg_pld[0], &group, &data, &len),
	    IKEMSG_OK);
	ATF_CHECK(group == IKEV2_XFORMDH_ECP_256 && len == 32);

	ATF_REQUIRE_EQ(ikemsg_sk(&m, T_IV, T_ICV, &sk), IKEMSG_OK);
	ATF_CHECK_EQ(sk.sk_aadlen, 28 + 40 + 20 + 4);
	ATF_CHECK_EQ(sk.sk_icv + T_ICV, out.ib_buf + out.ib_len);
	ATF_CHECK_EQ(ikemsg_sk(&m, T_IV, m.msg_enclen, &sk), IKEMSG_EBADLEN);
	ATF_REQUIRE_EQ(ikemsg_sk(&m, T_IV, T_ICV, &sk), IKEMSG_OK);
	ATF_REQUIRE_EQ(ikemsg_sk_unpad(sk.sk_data, sk.sk_datalen, &plen),
	    IKEMSG_OK);
	ATF_CHECK_EQ(plen, in.ib_len);
	ATF_REQUIRE_EQ(ikemsg_parse_inner(&m, sk.sk_data, plen, NULL),
	    IKEMSG_OK);
	ATF_CHECK_EQ(m.msg_npld, 3 + 13);
	t_check_inner(&m);

	/* Inner chain cut short, and a nested SK: refused. */
	ATF_REQUIRE_EQ(ikemsg_parse(&m, out.ib_buf, out.ib_len, 0, NULL),
	    IKEMSG_OK);
	ATF_CHECK_EQ(ikemsg_parse_inner(&m, sk.sk_data, plen - 1, NULL),
	    IKEMSG_EBADLEN);
	ikebuf_free(&out);
	ikebuf_free(&in);

	/* SK not last; an empty SK (liveness check) is fine. */
	ATF_REQUIRE_EQ(ikebuf_init(&out), 0);
	ikemsg_build_hdr(&out, 2, t_spi_i, t_spi_r,
	    IKEV2_EXCHANGE_INFORMATIONAL, 0, 2);
	ATF_REQUIRE_EQ(ikebuf_init(&in), 0);
	t_seal(&out, &in, 0, 0, 0);
	ATF_REQUIRE_EQ(ikemsg_parse(&m, out.ib_buf, out.ib_len, 0, NULL),
	    IKEMSG_OK);
	ATF_CHECK_EQ(m.msg_encnext, 0);
	ATF_CHECK_EQ(ikemsg_parse_inner(&m, NULL, 0, NULL), IKEMSG_OK);
	ikev2_build_vendor(&out, "x", 1);
	ATF_REQUIRE_EQ(ikemsg_build_done(&out), 0);
	ATF_CHECK_EQ(t_parse_free(out.ib_buf, out.ib_len), IKEMSG_ESYNTAX);
	ikebuf_free(&out);
	ikebuf_free(&in);

	/* Bad pad length bytes. */
	ATF_CHECK_EQ(ikemsg_sk_unpad((const uint8_t *)"\x01", 1, &plen),
	    IKEMSG_EBADLEN);
	ATF_CHECK_EQ(ikemsg_sk_unpad((const uint8_t *)"\x00", 1, &plen),
	    IKEMSG_OK);
	ATF_CHECK_EQ(plen, 0);
}

/* The SK message's payloads one by one through the length checks. */
ATF_TC_WITHOUT_HEAD(roundtrip_lengths);
ATF_TC_BODY(roundtrip_lengths, tc)
{
	static struct ikemsg	 m;
	struct ikemsg_sk	 sk;
	struct ikebuf		 in, out;
	uint8_t			*p;
	size_t			 plen;
	u_int			 i;
	uint16_t		 v;
	int			 d, error;

	t_build_inner(&in);
	for (i = 1; i < in.ib_len; i++) {
		/* The inner chain cut at every byte. */
		ATF_REQUIRE_EQ(ikebuf_init(&out), 0);
		ikemsg_build_hdr(&out, 2, t_spi_i, t_spi_r,
		    IKEV2_EXCHANGE_IKE_AUTH, 0, 1);
		t_seal(&out, &in, 0, 0, 0);
		ATF_REQUIRE_EQ(ikemsg_parse(&m, out.ib_buf, out.ib_len, 0,
		    NULL), IKEMSG_OK);
		ATF_REQUIRE_EQ(ikemsg_sk(&m, T_IV, T_ICV, &sk), IKEMSG_OK);
		ikemsg_sk_unpad(sk.sk_data, sk.sk_datalen, &plen);
		p = malloc(i);
		memcpy(p, sk.sk_data, i);
		error = ikemsg_parse_inner(&m, p, i, NULL);
		ATF_CHECK_MSG(error != IKEMSG_OK, "inner cut at %u", i);
		free(p);
		ikebuf_free(&out);
	}
	/* Each inner payload's length one off. */
	ATF_REQUIRE_EQ(ikebuf_init(&out), 0);
	ikemsg_build_hdr(&out, 2, t_spi_i, t_spi_r, IKEV2_EXCHANGE_IKE_AUTH,
	    0, 1);
	t_seal(&out, &in, 0, 0, 0);
	ATF_REQUIRE_EQ(ikemsg_parse(&m, out.ib_buf, out.ib_len, 0, NULL),
	    IKEMSG_OK);
	ATF_REQUIRE_EQ(ikemsg_sk(&m, T_IV, T_ICV, &sk), IKEMSG_OK);
	ikemsg_sk_unpad(sk.sk_data, sk.sk_datalen, &plen);
	p = malloc(plen);
	memcpy(p, sk.sk_data, plen);
	ATF_REQUIRE_EQ(ikemsg_parse_inner(&m, p, plen, NULL), IKEMSG_OK);
	for (i = 1; i < m.msg_npld; i++) {
		size_t off = (size_t)(m.msg_pld[i].pld_buf - p) + 2;

		for (d = -1; d <= 1; d += 2) {
			static struct ikemsg m2;

			v = t_get16(p + off);
			t_put16(p + off, (uint16_t)(v + d));
			ATF_REQUIRE_EQ(ikemsg_parse(&m2, out.ib_buf,
			    out.ib_len, 0, NULL), IKEMSG_OK);
			error = ikemsg_parse_inner(&m2, p, plen, NULL);
			ATF_CHECK_MSG(error != IKEMSG_OK,
			    "inner payload %u length %+d", i, d);
			t_put16(p + off, v);
		}
	}
	free(p);
	ikebuf_free(&out);
	ikebuf_free(&in);
}

/* RFC 7383: three fragments, out of order, a duplicate, then whole. */
ATF_TC_WITHOUT_HEAD(fragments);
ATF_TC_BODY(fragments, tc)
{
	static struct ikemsg	 m, whole;
	struct ikemsg_frag	 fr;
	struct ikemsg_sk	 sk;
	struct ikebuf		 in, part[3], out;
	uint8_t			*buf;
	size_t			 len, plen, cut[4];
	uint8_t			 first;
	int			 order[4] = { 2, 0, 2, 1 }, i, complete;

	t_build_inner(&in);
	cut[0] = 0;
	cut[1] = in.ib_len / 3;
	cut[2] = 2 * in.ib_len / 3;
	cut[3] = in.ib_len;
	ikemsg_frag_init(&fr);
	for (i = 0; i < 4; i++) {
		int k = order[i];
		struct ikebuf *pb = &part[k];

		ATF_REQUIRE_EQ(ikebuf_init(pb), 0);
		ikebuf_add(pb, in.ib_buf + cut[k], cut[k + 1] - cut[k]);
		pb->ib_first = in.ib_first;
		ATF_REQUIRE_EQ(ikebuf_init(&out), 0);
		ikemsg_build_hdr(&out, 2, t_spi_i, t_spi_r,
		    IKEV2_EXCHANGE_IKE_AUTH, 0, 1);
		t_seal(&out, pb, 1, (uint16_t)(k + 1), 3);
		if (k == 0)
			t_write_seed("v2_skf1", out.ib_buf, out.ib_len);
		ATF_REQUIRE_EQ(ikemsg_parse(&m, out.ib_buf, out.ib_len, 0,
		    NULL), IKEMSG_OK);
		ATF_CHECK_EQ(m.msg_fragnum, k + 1);
		ATF_CHECK_EQ(m.msg_fragtotal, 3);
		ATF_CHECK_EQ(m.msg_encnext, k == 0 ? IKEV2_PAYLOAD_IDi : 0);
		ATF_REQUIRE_EQ(ikemsg_sk(&m, T_IV, T_ICV, &sk), IKEMSG_OK);
		ATF_CHECK_EQ(sk.sk_aadlen, 28 + 8);
		ATF_REQUIRE_EQ(ikemsg_sk_unpad(sk.sk_data, sk.sk_datalen,
		    &plen), IKEMSG_OK);
		ATF_REQUIRE_EQ(ikemsg_frag_add(&fr, &m, sk.sk_data, plen,
		    &complete), IKEMSG_OK);
		ATF_CHECK_EQ(complete, i == 3);
		ikebuf_free(&out);
		ikebuf_free(pb);
	}
	ATF_REQUIRE_EQ(ikemsg_frag_take(&fr, &buf, &len, &first), IKEMSG_OK);
	ATF_CHECK_EQ(len, in.ib_len);
	ATF_CHECK_EQ(first, IKEV2_PAYLOAD_IDi);
	ATF_CHECK_EQ(memcmp(buf, in.ib_buf, len), 0);
	ATF_CHECK_EQ(fr.fr_total, 0);

	/* The reassembled chain parsed as the inner payloads. */
	memset(&whole, 0, sizeof(whole));
	whole.msg_version = 2;
	whole.msg_encoff = 28 + 8;
	whole.msg_encnext = first;
	ATF_REQUIRE_EQ(ikemsg_parse_inner(&whole, buf, len, NULL), IKEMSG_OK);
	t_check_inner(&whole);
	free(buf);
	ikebuf_free(&in);

	/* Fragment numbers: 0, beyond the total, totals too large. */
	ATF_REQUIRE_EQ(ikebuf_init(&out), 0);
	ikemsg_build_hdr(&out, 2, t_spi_i, t_spi_r, IKEV2_EXCHANGE_IKE_AUTH,
	    0, 1);
	ATF_REQUIRE_EQ(ikebuf_init(&in), 0);
	ikebuf_add(&in, "abcd", 4);
	in.ib_first = IKEV2_PAYLOAD_VENDOR;
	t_seal(&out, &in, 1, 2, 2);
	ATF_REQUIRE_EQ(t_parse_free(out.ib_buf, out.ib_len), IKEMSG_OK);
	t_put16(out.ib_buf + 28 + 4, 0);
	ATF_CHECK_EQ(t_parse_free(out.ib_buf, out.ib_len), IKEMSG_EFRAG);
	t_put16(out.ib_buf + 28 + 4, 3);
	ATF_CHECK_EQ(t_parse_free(out.ib_buf, out.ib_len), IKEMSG_EFRAG);
	t_put16(out.ib_buf + 28 + 4, 1);
	t_put16(out.ib_buf + 28 + 6, IKEMSG_FRAG_MAX + 1);
	ATF_CHECK_EQ(t_parse_free(out.ib_buf, out.ib_len), IKEMSG_EFRAG);
	/* Non-first fragment naming a first payload. */
	t_put16(out.ib_buf + 28 + 4, 2);
	t_put16(out.ib_buf + 28 + 6, 2);
	out.ib_buf[28] = IKEV2_PAYLOAD_SA;
	ATF_CHECK_EQ(t_parse_free(out.ib_buf, out.ib_len), IKEMSG_EFRAG);
	out.ib_buf[28] = 0;

	/* Reassembly: a larger total restarts, a smaller one is dropped. */
	ATF_REQUIRE_EQ(ikemsg_parse(&m, out.ib_buf, out.ib_len, 0, NULL),
	    IKEMSG_OK);
	ikemsg_frag_init(&fr);
	ATF_CHECK_EQ(ikemsg_frag_add(&fr, &m, (const uint8_t *)"ab", 2,
	    &complete), IKEMSG_OK);
	ATF_CHECK_EQ(fr.fr_count, 1);
	m.msg_fragtotal = 3;
	ATF_CHECK_EQ(ikemsg_frag_add(&fr, &m, (const uint8_t *)"ab", 2,
	    &complete), IKEMSG_OK);
	ATF_CHECK(fr.fr_count == 1 && fr.fr_total == 3);
	m.msg_fragtotal = 2;
	m.msg_fragnum = 1;
	ATF_CHECK_EQ(ikemsg_frag_add(&fr, &m, (const uint8_t *)"ab", 2,
	    &complete), IKEMSG_OK);
	ATF_CHECK(fr.fr_count == 1 && !complete);
	ATF_CHECK_EQ(ikemsg_frag_take(&fr, &buf, &len, &first), IKEMSG_EFRAG);
	/* Size limit. */
	{
		static uint8_t big[IKEMSG_FRAG_SIZE];

		m.msg_fragtotal = 3;
		m.msg_fragnum = 1;
		ATF_CHECK_EQ(ikemsg_frag_add(&fr, &m, big, sizeof(big),
		    &complete), IKEMSG_ETOOMANY);
	}
	ikemsg_frag_clear(&fr);
	ikebuf_free(&out);
	ikebuf_free(&in);
}

/* A chain of SA payloads, each claiming another follows, until none fit. */
ATF_TC_WITHOUT_HEAD(chain_runs_out);
ATF_TC_BODY(chain_runs_out, tc)
{
	uint8_t	 b[28 + 40];
	u_int	 i;

	memset(b, 0, sizeof(b));
	b[16] = IKEV2_PAYLOAD_VENDOR;
	b[17] = IKEV2_VERSION;
	t_put32(b + 24, sizeof(b));
	for (i = 0; i < 10; i++) {
		b[28 + 4 * i] = IKEV2_PAYLOAD_VENDOR;
		t_put16(b + 28 + 4 * i + 2, 4);
	}
	/* Ten empty vendor IDs chained, the last one points to another. */
	ATF_CHECK_EQ(t_parse_free(b, sizeof(b)), IKEMSG_EBADLEN);
	b[28 + 36] = 0;
	/* VENDOR needs a byte: 4-byte ones are too short. */
	ATF_CHECK_EQ(t_parse_free(b, sizeof(b)), IKEMSG_EBADLEN);
	b[16] = 200;	/* unknown, not critical: 4 bytes are enough */
	for (i = 0; i < 10; i++)
		b[28 + 4 * i] = i < 9 ? 200 : 0;
	ATF_CHECK_EQ(t_parse_free(b, sizeof(b)), IKEMSG_OK);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, strongswan_sa_init);
	ATF_TP_ADD_TC(tp, truncated);
	ATF_TP_ADD_TC(tp, lengths);
	ATF_TP_ADD_TC(tp, malformed);
	ATF_TP_ADD_TC(tp, too_many);
	ATF_TP_ADD_TC(tp, roundtrip_sk);
	ATF_TP_ADD_TC(tp, roundtrip_lengths);
	ATF_TP_ADD_TC(tp, fragments);
	ATF_TP_ADD_TC(tp, chain_runs_out);
	return (atf_no_error());
}
