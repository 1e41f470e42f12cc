/*
 * sbin/iked/dh.c: RFC 5903 §8 (ECP 256/384/521), RFC 7748 §6.1 and §6.2
 * (X25519, X448) with given private keys; the MODP primes against RFC
 * 2409/3526's formula and OpenSSL's own RFC 3526 groups; round trips in
 * every group; and the peer values IKE must refuse.  dh.c is included
 * so the test can see its prime table.
 */
#include <atf-c.h>

#include <openssl/sha.h>

#include "dh.c"

static size_t
unhex(const char *s, uint8_t *out, size_t max)
{
	size_t	 n = 0;
	int	 hi = -1, v, c;

	for (; *s != '\0'; s++) {
		c = *s;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			continue;
		if (hi < 0)
			hi = v;
		else {
			ATF_REQUIRE(n < max);
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	ATF_REQUIRE(hi < 0);
	return (n);
}

struct dhvec {
	uint16_t	 id;
	const char	*i, *gi, *r, *gr, *gir;
};

static const struct dhvec dhvecs[] = {
	/* RFC 5903 §8.1: the public values are x || y. */
	{ 19,
	  "c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433",
	  "dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180"
	  "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3",
	  "c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53",
	  "d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63"
	  "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab",
	  "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de" },
	/* RFC 5903 §8.2 */
	{ 20,
	  "099f3c7034d4a2c699884d73a375a67f7624ef7c6b3c0f160647b67414dce655"
	  "e35b538041e649ee3faef896783ab194",
	  "667842d7d180ac2cde6f74f37551f55755c7645c20ef73e31634fe72b4c55ee6"
	  "de3ac808acb4bdb4c88732aee95f41aa"
	  "9482ed1fc0eeb9cafc4984625ccfc23f65032149e0e144ada024181535a0f38e"
	  "eb9fcff3c2c947dae69b4c634573a81c",
	  "41cb0779b4bdb85d47846725fbec3c9430fab46cc8dc5060855cc9bda0aa2942"
	  "e0308312916b8ed2960e4bd55a7448fc",
	  "e558dbef53eecde3d3fccfc1aea08a89a987475d12fd950d83cfa41732bc509d"
	  "0d1ac43a0336def96fda41d0774a3571"
	  "dcfbec7aacf3196472169e838430367f66eebe3c6e70c416dd5f0c68759dd1ff"
	  "f83fa40142209dff5eaad96db9e6386c",
	  "11187331c279962d93d604243fd592cb9d0a926f422e47187521287e7156c5c4"
	  "d603135569b9e9d09cf5d4a270f59746" },
	/* RFC 5903 §8.3 */
	{ 21,
	  "0037ade9319a89f4dabdb3ef411aaccca5123c61acab57b5393dce47608172a0"
	  "95aa85a30fe1c2952c6771d937ba9777f5957b2639bab072462f68c27a57382d"
	  "4a52",
	  "0015417e84dbf28c0ad3c278713349dc7df153c897a1891bd98bab4357c9ecbe"
	  "e1e3bf42e00b8e380aeae57c2d107564941885942af5a7f4601723c4195d176c"
	  "ed3e"
	  "017cae20b6641d2eeb695786d8c946146239d099e18e1d5a514c739d7cb4a10a"
	  "d8a788015ac405d7799dc75e7b7d5b6cf2261a6a7f1507438bf01beb6ca3926f"
	  "9582",
	  "0145ba99a847af43793fdd0e872e7cdfa16be30fdc780f97bccc3f078380201e"
	  "9c677d600b343757a3bdbf2a3163e4c2f869cca7458aa4a4effc311f5cb15168"
	  "5eb9",
	  "00d0b3975ac4b799f5bea16d5e13e9af971d5e9b984c9f39728b5e5739735a21"
	  "9b97c356436adc6e95bb0352f6be64a6c2912d4ef2d0433ced2b6171640012d9"
	  "460f"
	  "015c68226383956e3bd066e797b623c27ce0eac2f551a10c2c724d9852077b87"
	  "220b6536c5c408a1d2aebb8e86d678ae49cb57091f4732296579ab44fcd17f0f"
	  "c56a",
	  "01144c7d79ae6956bc8edb8e7c787c4521cb086fa64407f97894e5e6b2d79b04"
	  "d1427e73ca4baa240a34786859810c06b3c715a3a8cc3151f2bee417996d19f3"
	  "ddea" },
	/* RFC 7748 §6.1 */
	{ 31,
	  "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	  "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
	  "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
	  "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
	  "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742" },
	/* RFC 7748 §6.2 */
	{ 32,
	  "9a8f4925d1519f5775cf46b04b5800d4ee9ee8bae8bc5565d498c28dd9c9baf5"
	  "74a9419744897391006382a6f127ab1d9ac2d8c0a598726b",
	  "9b08f7cc31b7e3e67d22d5aea121074a273bd2b83de09c63faa73d2c22c5d9bb"
	  "c836647241d953d40c5b12da88120d53177f80e532c41fa0",
	  "1c306a7ac2a0e2e0990b294470cba339e6453772b075811d8fad0d1d6927c120"
	  "bb5ee8972b0d3e21374c9c921b09d1b0366f10b65173992d",
	  "3eb7a829b0cd20f5bcfc0b599b6feccf6da4627107bdb0d4f345b43027d8b972"
	  "fc3e34fb4232a13ca706dcb57aec3dae07bdc1c67bf33609",
	  "07fff4181ac6cc95ec1c16a94a0f74d12da232ce40a77552281d282bb60c0b56"
	  "fd2464c335543936521c24403085d59a449a5037514a879d" },
};

/* One side of a vector: its public value, and g^ir from the other's. */
static void
check_side(uint16_t id, const char *priv, const char *pub, const char *peer,
    const char *gir)
{
	struct dh_group	*g;
	uint8_t		 k[80], want[140], p[140], s[80], *out, *sec;
	size_t		 kl, wl, pl, sl, outlen, seclen;

	kl = unhex(priv, k, sizeof(k));
	wl = unhex(pub, want, sizeof(want));
	pl = unhex(peer, p, sizeof(p));
	sl = unhex(gir, s, sizeof(s));
	ATF_REQUIRE((g = group_get(id)) != NULL);
	ATF_REQUIRE_EQ(dh_setprivate(g, k, kl), 0);
	ATF_REQUIRE_EQ(dh_create_exchange(g, &out, &outlen), 0);
	ATF_CHECK_EQ(outlen, dh_getlen(g));
	ATF_CHECK_MSG(outlen == wl && memcmp(out, want, wl) == 0,
	    "group %u: public value", id);
	ATF_REQUIRE_EQ(dh_create_shared(g, p, pl, &sec, &seclen), 0);
	ATF_CHECK_EQ(seclen, dh_secretlen(g));
	ATF_CHECK_MSG(seclen == sl && memcmp(sec, s, sl) == 0,
	    "group %u: shared secret", id);
	free(out);
	freezero(sec, seclen);
	group_free(g);
}

ATF_TC_WITHOUT_HEAD(vectors);
ATF_TC_BODY(vectors, tc)
{
	const struct dhvec *v;

	for (v = dhvecs; v < dhvecs + sizeof(dhvecs) / sizeof(dhvecs[0]);
	    v++) {
		check_side(v->id, v->i, v->gi, v->gr, v->gir);
		check_side(v->id, v->r, v->gr, v->gi, v->gir);
	}
}

/*
 * SHA-256 of each prime (big-endian, full length), computed from the
 * RFCs' formula p = 2^n - 2^(n-64) - 1 + 2^64 * ([2^(n-130) pi] + c).
 */
static const struct {
	uint16_t	 id;
	const char	*sha256;
	const char	*openssl;	/* the same group in OpenSSL */
} primes[] = {
	{ 1, "b52ba6a3026520a6c49d37e4587601801bee500123b3259b6bf03e7cecc3e63d",
	    NULL },
	{ 2, "3f35a3f5f6c4376a744acad409bb22f8d897f949d2311d885adaa890981b67a0",
	    NULL },
	{ 5, "64fcc83ec403930bf18393dbc883ccaa1fbb08ac876f77f7aa99748ca945019b",
	    "modp_1536" },
	{ 14, "d66436f79bbd6b2e38c0ffbd079be904d2641415e2e67140e09448be9a60890e",
	    "modp_2048" },
	{ 15, "48cf8b092fbce4359d9871abf74f98e25b6163379eaa15cd9087e800c6d1c55c",
	    "modp_3072" },
	{ 16, "4ee95187682bcb230ad26a95205f6920e84708f6251b3894329b09ec23919e33",
	    "modp_4096" },
};

static const struct group_id *
spec(uint16_t id)
{
	const struct group_id *gid;

	for (gid = group_ids; gid->gid_id != 0; gid++)
		if (gid->gid_id == id)
			return (gid);
	atf_tc_fail("group %u missing", id);
	return (NULL);
}

ATF_TC_WITHOUT_HEAD(modp_primes);
ATF_TC_BODY(modp_primes, tc)
{
	const struct group_id *gid;
	EVP_PKEY_CTX	*ctx;
	EVP_PKEY	*named;
	BIGNUM		*p, *q;
	uint8_t		 buf[512], md[32], want[32];
	size_t		 i;

	for (i = 0; i < sizeof(primes) / sizeof(primes[0]); i++) {
		gid = spec(primes[i].id);
		p = NULL;
		ATF_REQUIRE(BN_hex2bn(&p, gid->gid_prime) > 0);
		ATF_REQUIRE_EQ((size_t)BN_num_bytes(p), gid->gid_len);
		ATF_REQUIRE(BN_bn2binpad(p, buf, (int)gid->gid_len) > 0);
		SHA256(buf, gid->gid_len, md);
		unhex(primes[i].sha256, want, sizeof(want));
		ATF_CHECK_MSG(memcmp(md, want, 32) == 0, "group %u prime",
		    gid->gid_id);
		if (primes[i].openssl != NULL) {
			ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
			named = NULL;
			q = NULL;
			ATF_REQUIRE(ctx != NULL &&
			    EVP_PKEY_paramgen_init(ctx) > 0 &&
			    EVP_PKEY_CTX_set_group_name(ctx,
			    primes[i].openssl) > 0 &&
			    EVP_PKEY_generate(ctx, &named) > 0);
			ATF_REQUIRE(EVP_PKEY_get_bn_param(named,
			    OSSL_PKEY_PARAM_FFC_P, &q));
			ATF_CHECK_MSG(BN_cmp(p, q) == 0, "group %u vs %s",
			    gid->gid_id, primes[i].openssl);
			BN_free(q);
			EVP_PKEY_free(named);
			EVP_PKEY_CTX_free(ctx);
		}
		BN_free(p);
	}
}

/* Two fresh instances agree, in every group. */
ATF_TC_WITHOUT_HEAD(roundtrip);
ATF_TC_BODY(roundtrip, tc)
{
	static const uint16_t ids[] = { 2, 5, 14, 15, 16, 19, 20, 21, 31, 32 };
	struct dh_group	*a, *b;
	uint8_t		*pa, *pb, *sa, *sb;
	size_t		 la, lb, sla, slb, i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		ATF_REQUIRE((a = group_get(ids[i])) != NULL);
		ATF_REQUIRE((b = group_get(ids[i])) != NULL);
		ATF_CHECK_EQ(group_id(a), ids[i]);
		ATF_REQUIRE_EQ(dh_create_exchange(a, &pa, &la), 0);
		ATF_REQUIRE_EQ(dh_create_exchange(b, &pb, &lb), 0);
		ATF_CHECK_EQ(la, dh_getlen(a));
		ATF_CHECK(la != lb || memcmp(pa, pb, la) != 0);
		ATF_REQUIRE_EQ(dh_create_shared(a, pb, lb, &sa, &sla), 0);
		ATF_REQUIRE_EQ(dh_create_shared(b, pa, la, &sb, &slb), 0);
		ATF_CHECK_EQ(sla, dh_secretlen(a));
		ATF_CHECK_MSG(sla == slb && memcmp(sa, sb, sla) == 0,
		    "group %u: secrets differ", ids[i]);
		free(pa);
		free(pb);
		freezero(sa, sla);
		freezero(sb, slb);
		group_free(a);
		group_free(b);
	}
}

ATF_TC_WITHOUT_HEAD(unknown_and_weak);
ATF_TC_BODY(unknown_and_weak, tc)
{
	struct dh_group	*g;

	ATF_CHECK(group_get(0) == NULL);
	ATF_CHECK(group_get(3) == NULL);	/* EC2N: never */
	ATF_CHECK(group_get(22) == NULL);	/* RFC 5114: no */
	ATF_CHECK(group_get(1) == NULL);
	group_setweak(1);
	ATF_REQUIRE((g = group_get(1)) != NULL);
	ATF_CHECK_EQ(dh_getlen(g), 96);
	group_free(g);
	group_setweak(0);
	ATF_CHECK(group_get(1) == NULL);
}

static int
try_shared(struct dh_group *g, const uint8_t *p, size_t len)
{
	uint8_t		*sec = NULL;
	size_t		 seclen = 0;
	int		 ret;

	ret = dh_create_shared(g, p, len, &sec, &seclen);
	if (ret == 0)
		freezero(sec, seclen);
	else
		ATF_CHECK(sec == NULL && seclen == 0);
	return (ret);
}

ATF_TC_WITHOUT_HEAD(bad_modp);
ATF_TC_BODY(bad_modp, tc)
{
	struct dh_group	*g;
	BIGNUM		*p = NULL;
	uint8_t		*pub, v[256];
	size_t		 len;

	ATF_REQUIRE((g = group_get(14)) != NULL);
	/* No exchange of ours yet. */
	memset(v, 0, sizeof(v));
	v[255] = 2;
	ATF_CHECK_EQ(try_shared(g, v, 256), -1);
	ATF_REQUIRE_EQ(dh_create_exchange(g, &pub, &len), 0);
	free(pub);
	ATF_CHECK_EQ(try_shared(g, v, 256), 0);		/* 2: fine */
	ATF_CHECK_EQ(try_shared(g, v + 1, 255), -1);	/* short */
	v[255] = 0;
	ATF_CHECK_EQ(try_shared(g, v, 256), -1);	/* 0 */
	v[255] = 1;
	ATF_CHECK_EQ(try_shared(g, v, 256), -1);	/* 1 */
	ATF_REQUIRE(BN_hex2bn(&p, spec(14)->gid_prime) > 0);
	ATF_REQUIRE(BN_bn2binpad(p, v, 256) == 256);
	ATF_CHECK_EQ(try_shared(g, v, 256), -1);	/* p */
	v[255] -= 1;
	ATF_CHECK_EQ(try_shared(g, v, 256), -1);	/* p - 1 */
	/* p - 2 is in range but outside the subgroup of order (p-1)/2. */
	v[255] -= 1;
	ATF_CHECK_EQ(try_shared(g, v, 256), -1);	/* p - 2 */
	memset(v, 0xff, sizeof(v));
	ATF_CHECK_EQ(try_shared(g, v, 256), -1);	/* > p */
	BN_free(p);
	group_free(g);
}

ATF_TC_WITHOUT_HEAD(bad_ecp);
ATF_TC_BODY(bad_ecp, tc)
{
	struct dh_group	*g;
	uint8_t		*pub, v[140];
	size_t		 len, vl;

	ATF_REQUIRE((g = group_get(19)) != NULL);
	ATF_REQUIRE_EQ(dh_create_exchange(g, &pub, &len), 0);
	free(pub);
	vl = unhex(dhvecs[0].gr, v, sizeof(v));
	ATF_CHECK_EQ(try_shared(g, v, vl), 0);
	ATF_CHECK_EQ(try_shared(g, v, vl - 1), -1);	/* short */
	v[vl - 1] ^= 1;					/* off the curve */
	ATF_CHECK_EQ(try_shared(g, v, vl), -1);
	memset(v, 0, vl);				/* (0, 0) */
	ATF_CHECK_EQ(try_shared(g, v, vl), -1);
	group_free(g);
}

ATF_TC_WITHOUT_HEAD(bad_ecx);
ATF_TC_BODY(bad_ecx, tc)
{
	struct dh_group	*g;
	uint8_t		*pub, v[56];
	size_t		 len;

	ATF_REQUIRE((g = group_get(31)) != NULL);
	ATF_REQUIRE_EQ(dh_create_exchange(g, &pub, &len), 0);
	free(pub);
	memset(v, 0, sizeof(v));
	ATF_CHECK_EQ(try_shared(g, v, 32), -1);		/* all-zero result */
	v[0] = 1;
	ATF_CHECK_EQ(try_shared(g, v, 32), -1);		/* order 1 */
	v[0] = 9;
	ATF_CHECK_EQ(try_shared(g, v, 31), -1);		/* short */
	ATF_CHECK_EQ(try_shared(g, v, 32), 0);		/* the base point */
	group_free(g);
	ATF_REQUIRE((g = group_get(32)) != NULL);
	ATF_REQUIRE_EQ(dh_create_exchange(g, &pub, &len), 0);
	free(pub);
	memset(v, 0, sizeof(v));
	ATF_CHECK_EQ(try_shared(g, v, 56), -1);
	group_free(g);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, vectors);
	ATF_TP_ADD_TC(tp, modp_primes);
	ATF_TP_ADD_TC(tp, roundtrip);
	ATF_TP_ADD_TC(tp, unknown_and_weak);
	ATF_TP_ADD_TC(tp, bad_modp);
	ATF_TP_ADD_TC(tp, bad_ecp);
	ATF_TP_ADD_TC(tp, bad_ecx);
	return (atf_no_error());
}
