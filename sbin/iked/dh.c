/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Diffie-Hellman groups by IANA number, as IKE exchanges them: MODP
 * (RFC 2409, RFC 3526), ECP (RFC 5903: x || y, no point prefix) and
 * Curve25519/Curve448 (RFC 8031), over OpenSSL 3's EVP_PKEY.  Each SA
 * gets its own struct dh_group from group_get(); our private key lives
 * only in OpenSSL's EVP_PKEY, which clears it when freed.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "iked.h"

enum group_type {
	GROUP_MODP,
	GROUP_ECP,
	GROUP_ECX
};

struct group_id {
	uint16_t	 gid_id;
	enum group_type	 gid_type;
	size_t		 gid_len;	/* public value, bytes */
	size_t		 gid_seclen;	/* shared secret, bytes */
	const char	*gid_name;	/* OpenSSL curve or key type */
	const char	*gid_prime;	/* MODP: hexadecimal */
	u_int		 gid_privbits;	/* MODP: private exponent */
	int		 gid_weak;	/* refused unless group_setweak() */
};

struct dh_group {
	const struct group_id	*dh_spec;
	EVP_PKEY		*dh_key;	/* our key pair, once made */
};

/* RFC 2409 §6.1 and §6.2: the Oakley groups, generator 2. */
static const char modp768_p[] =
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A63A3620FFFFFFFFFFFFFFFF";
static const char modp1024_p[] =
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF";
static const char modp1536_p[] =
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA237327FFFFFFFFFFFFFFFF";
static const char modp2048_p[] =
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
    "3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF";
static const char modp3072_p[] =
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"

/* RFC 3526 §2, §3, §4, §5: generator 2. */
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33"
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864"
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2"
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF";
static const char modp4096_p[] =
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33"
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864"
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2"
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7"
    "88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8"
    "DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2"
    "233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9"
    "93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C934063199FFFFFFFFFFFFFFFF";

/*
 * Private exponents of twice the group's strength (RFC 3526 §8), not
 * the full length of the prime: the same security, a fraction of the
 * cost of a 4096-bit exponentiation.
 */
static const struct group_id group_ids[] = {
	{ 1, GROUP_MODP, 96, 96, NULL, modp768_p, 160, 1 },
	{ 2, GROUP_MODP, 128, 128, NULL, modp1024_p, 160, 0 },
	{ 5, GROUP_MODP, 192, 192, NULL, modp1536_p, 240, 0 },
	{ 14, GROUP_MODP, 256, 256, NULL, modp2048_p, 320, 0 },
	{ 15, GROUP_MODP, 384, 384, NULL, modp3072_p, 420, 0 },
	{ 16, GROUP_MODP, 512, 512, NULL, modp4096_p, 480, 0 },
	{ 19, GROUP_ECP, 64, 32, "P-256", NULL, 0, 0 },
	{ 20, GROUP_ECP, 96, 48, "P-384", NULL, 0, 0 },
	{ 21, GROUP_ECP, 132, 66, "P-521", NULL, 0, 0 },
	{ 31, GROUP_ECX, 32, 32, "X25519", NULL, 0, 0 },
	{ 32, GROUP_ECX, 56, 56, "X448", NULL, 0, 0 },
	{ 0, 0, 0, 0, NULL, NULL, 0, 0 }
};

static int	group_weak;

static EVP_PKEY	*modp_params(const struct group_id *);
static EVP_PKEY	*group_peer(const struct group_id *, const uint8_t *, size_t);
static int	 modp_peer_check(const BIGNUM *, const BIGNUM *);

/* Allow group 1 (768 bits), which group_get() refuses otherwise. */
void
group_setweak(int on)
{
	group_weak = on;
}

struct dh_group *
group_get(uint16_t id)
{
	const struct group_id	*gid;
	struct dh_group		*group;

	for (gid = group_ids; gid->gid_id != 0; gid++)
		if (gid->gid_id == id)
			break;
	if (gid->gid_id == 0) {
		log_debug("%s: group %u not supported", __func__, id);
		return (NULL);
	}
	if (gid->gid_weak && !group_weak) {
		log_warnx("%s: group %u refused: too weak", __func__, id);
		return (NULL);
	}
	if ((group = calloc(1, sizeof(*group))) == NULL)
		return (NULL);
	group->dh_spec = gid;
	return (group);
}

void
group_free(struct dh_group *group)
{
	if (group == NULL)
		return;
	EVP_PKEY_free(group->dh_key);
	free(group);
}

uint16_t
group_id(const struct dh_group *group)
{
	return (group->dh_spec->gid_id);
}

/* The length of the KE payload's data for this group. */
size_t
dh_getlen(const struct dh_group *group)
{
	return (group->dh_spec->gid_len);
}

size_t
dh_secretlen(const struct dh_group *group)
{
	return (group->dh_spec->gid_seclen);
}

/*
 * Domain parameters of a MODP group, made once per group and kept: key
 * generation starts from them.
 */
static EVP_PKEY *
modp_params(const struct group_id *gid)
{
	static EVP_PKEY		*cache[sizeof(group_ids) / sizeof(group_ids[0])];
	EVP_PKEY		**slot;
	OSSL_PARAM_BLD		*bld = NULL;
	OSSL_PARAM		*params = NULL;
	EVP_PKEY_CTX		*ctx = NULL;
	BIGNUM			*p = NULL, *g = NULL;

	slot = &cache[gid - group_ids];
	if (*slot != NULL)
		return (*slot);
	if (BN_hex2bn(&p, gid->gid_prime) == 0 || (g = BN_new()) == NULL ||
	    !BN_set_word(g, 2))
		goto done;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, p) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, g) ||
	    !OSSL_PARAM_BLD_push_int(bld, OSSL_PKEY_PARAM_DH_PRIV_LEN,
	    (int)gid->gid_privbits) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto done;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, slot, EVP_PKEY_KEY_PARAMETERS, params) <= 0)
		*slot = NULL;
 done:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(p);
	BN_free(g);
	return (*slot);
}

static int
group_keygen(struct dh_group *group)
{
	const struct group_id	*gid = group->dh_spec;
	EVP_PKEY_CTX		*ctx = NULL;
	EVP_PKEY		*params;
	int			 ret = -1;

	if (gid->gid_type == GROUP_MODP) {
		if ((params = modp_params(gid)) == NULL)
			return (-1);
		ctx = EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL);
	} else if (gid->gid_type == GROUP_ECP)
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	else
		ctx = EVP_PKEY_CTX_new_from_name(NULL, gid->gid_name, NULL);
	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0)
		goto done;
	if (gid->gid_type == GROUP_ECP &&
	    EVP_PKEY_CTX_set_group_name(ctx, gid->gid_name) <= 0)
		goto done;
	if (EVP_PKEY_generate(ctx, &group->dh_key) <= 0)
		goto done;
	ret = 0;
 done:
	EVP_PKEY_CTX_free(ctx);
	return (ret);
}

/*
 * Our public value, made on first use, as the KE payload carries it:
 * MODP left-padded to the prime's length, ECP x || y.
 */
int
dh_create_exchange(struct dh_group *group, uint8_t **pubp, size_t *publenp)
{
	const struct group_id	*gid = group->dh_spec;
	BIGNUM			*y = NULL;
	uint8_t			*pub, buf[1 + 2 * 66];
	size_t			 len;
	int			 ret = -1;

	*pubp = NULL;
	*publenp = 0;
	if (group->dh_key == NULL && group_keygen(group) == -1) {
		log_warnx("%s: group %u: key generation failed", __func__,
		    gid->gid_id);
		return (-1);
	}
	if ((pub = malloc(gid->gid_len)) == NULL)
		return (-1);
	switch (gid->gid_type) {
	case GROUP_MODP:
		if (!EVP_PKEY_get_bn_param(group->dh_key,
		    OSSL_PKEY_PARAM_PUB_KEY, &y) ||
		    BN_bn2binpad(y, pub, (int)gid->gid_len) < 0)
			goto done;
		break;
	case GROUP_ECP:
		if (!EVP_PKEY_get_octet_string_param(group->dh_key,
		    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, buf, sizeof(buf),
		    &len) || len != gid->gid_len + 1 ||
		    buf[0] != POINT_CONVERSION_UNCOMPRESSED)
			goto done;
		memcpy(pub, buf + 1, gid->gid_len);
		break;
	case GROUP_ECX:
		len = gid->gid_len;
		if (!EVP_PKEY_get_raw_public_key(group->dh_key, pub, &len) ||
		    len != gid->gid_len)
			goto done;
		break;
	}
	*pubp = pub;
	*publenp = gid->gid_len;
	pub = NULL;
	ret = 0;
 done:
	BN_free(y);
	free(pub);
	return (ret);
}

/* 1 < y < p - 1 (RFC 2631 §2.1.5, NIST SP 800-56A §5.6.2.3.1). */
static int
modp_peer_check(const BIGNUM *p, const BIGNUM *y)
{
	BIGNUM		*pm1;
	int		 ret = -1;

	if ((pm1 = BN_dup(p)) == NULL || !BN_sub_word(pm1, 1))
		goto done;
	if (BN_cmp(y, BN_value_one()) > 0 && BN_cmp(y, pm1) < 0)
		ret = 0;
 done:
	BN_free(pm1);
	return (ret);
}

/* The peer's public value as an EVP_PKEY; NULL if it is not a valid one. */
static EVP_PKEY *
group_peer(const struct group_id *gid, const uint8_t *pub, size_t len)
{
	OSSL_PARAM_BLD		*bld = NULL;
	OSSL_PARAM		*params = NULL;
	EVP_PKEY_CTX		*ctx = NULL;
	EVP_PKEY		*peer = NULL, *domain;
	BIGNUM			*y = NULL, *p = NULL, *g = NULL;
	uint8_t			 buf[1 + 2 * 66];

	if (len != gid->gid_len)
		return (NULL);
	switch (gid->gid_type) {
	case GROUP_ECX:
		return (EVP_PKEY_new_raw_public_key_ex(NULL, gid->gid_name,
		    NULL, pub, len));
	case GROUP_ECP:
		buf[0] = POINT_CONVERSION_UNCOMPRESSED;
		memcpy(buf + 1, pub, len);
		if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
		    !OSSL_PARAM_BLD_push_utf8_string(bld,
		    OSSL_PKEY_PARAM_GROUP_NAME, gid->gid_name, 0) ||
		    !OSSL_PARAM_BLD_push_octet_string(bld,
		    OSSL_PKEY_PARAM_PUB_KEY, buf, len + 1))
			goto done;
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
		break;
	case GROUP_MODP:
		if ((domain = modp_params(gid)) == NULL ||
		    !EVP_PKEY_get_bn_param(domain, OSSL_PKEY_PARAM_FFC_P, &p) ||
		    !EVP_PKEY_get_bn_param(domain, OSSL_PKEY_PARAM_FFC_G, &g) ||
		    (y = BN_bin2bn(pub, (int)len, NULL)) == NULL ||
		    modp_peer_check(p, y) == -1)
			goto done;
		if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, p) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, g) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, y))
			goto done;
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
		break;
	}
	if (ctx == NULL || (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &peer, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		peer = NULL;
 done:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(p);
	BN_free(g);
	BN_free(y);
	return (peer);
}

/*
 * The shared secret g^ir with the peer's public value: MODP left-padded
 * to the prime's length (RFC 7296 §2.14), ECP the x coordinate (RFC 5903
 * §7), X25519/X448 as is (RFC 8031 §2.3).  Bad peer values (wrong
 * length, point off the curve, 0, 1, p-1, an all-zero result) fail.
 * The caller frees the secret with freezero().
 */
int
dh_create_shared(struct dh_group *group, const uint8_t *peerpub,
    size_t peerlen, uint8_t **secretp, size_t *secretlenp)
{
	const struct group_id	*gid = group->dh_spec;
	EVP_PKEY_CTX		*ctx = NULL;
	EVP_PKEY		*peer = NULL;
	uint8_t			*secret = NULL, zero;
	size_t			 len, i;
	int			 ret = -1;

	*secretp = NULL;
	*secretlenp = 0;
	if (group->dh_key == NULL) {
		log_warnx("%s: group %u: no exchange made yet", __func__,
		    gid->gid_id);
		return (-1);
	}
	if ((peer = group_peer(gid, peerpub, peerlen)) == NULL) {
		log_warnx("%s: group %u: invalid peer public value",
		    __func__, gid->gid_id);
		return (-1);
	}
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, group->dh_key,
	    NULL)) == NULL || EVP_PKEY_derive_init(ctx) <= 0 ||
	    EVP_PKEY_derive_set_peer_ex(ctx, peer, 1) <= 0 ||
	    EVP_PKEY_derive(ctx, NULL, &len) <= 0 || len > gid->gid_seclen ||
	    (secret = calloc(1, gid->gid_seclen)) == NULL)
		goto done;
	/* OpenSSL strips a DH secret's leading zeros; IKE keeps them. */
	if (EVP_PKEY_derive(ctx, secret + gid->gid_seclen - len, &len) <= 0)
		goto done;
	if (len < gid->gid_seclen) {
		memmove(secret + gid->gid_seclen - len, secret, len);
		memset(secret, 0, gid->gid_seclen - len);
	}
	for (zero = 0, i = 0; i < gid->gid_seclen; i++)
		zero |= secret[i];
	if (zero == 0)
		goto done;
	*secretp = secret;
	*secretlenp = gid->gid_seclen;
	secret = NULL;
	ret = 0;
 done:
	if (ret == -1)
		log_warnx("%s: group %u: derivation failed", __func__,
		    gid->gid_id);
	if (secret != NULL)
		freezero(secret, gid->gid_seclen);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	return (ret);
}

/*
 * Tests only: use a given private key (big-endian scalar for ECP, the
 * RFC 7748 string for X25519/X448) so published vectors can be checked.
 */
int
dh_setprivate(struct dh_group *group, const uint8_t *priv, size_t len)
{
	const struct group_id	*gid = group->dh_spec;
	OSSL_PARAM_BLD		*bld = NULL;
	OSSL_PARAM		*params = NULL;
	EVP_PKEY_CTX		*ctx = NULL;
	EC_GROUP		*ecg = NULL;
	EC_POINT		*pt = NULL;
	BIGNUM			*x = NULL;
	uint8_t			 buf[1 + 2 * 66];
	size_t			 blen;
	int			 ret = -1;

	EVP_PKEY_free(group->dh_key);
	group->dh_key = NULL;
	if (gid->gid_type == GROUP_ECX) {
		group->dh_key = EVP_PKEY_new_raw_private_key_ex(NULL,
		    gid->gid_name, NULL, priv, len);
		return (group->dh_key == NULL ? -1 : 0);
	}
	if (gid->gid_type != GROUP_ECP)
		return (-1);
	/* The provider does not derive the public point from the scalar. */
	if ((x = BN_bin2bn(priv, (int)len, NULL)) == NULL ||
	    (ecg = EC_GROUP_new_by_curve_name(EC_curve_nist2nid(
	    gid->gid_name))) == NULL || (pt = EC_POINT_new(ecg)) == NULL ||
	    !EC_POINT_mul(ecg, pt, x, NULL, NULL, NULL) ||
	    (blen = EC_POINT_point2oct(ecg, pt, POINT_CONVERSION_UNCOMPRESSED,
	    buf, sizeof(buf), NULL)) == 0)
		goto done;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    gid->gid_name, 0) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, x) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    buf, blen) || (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto done;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &group->dh_key, EVP_PKEY_KEYPAIR,
	    params) <= 0)
		goto done;
	ret = 0;
 done:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EC_POINT_free(pt);
	EC_GROUP_free(ecg);
	BN_clear_free(x);
	return (ret);
}
