/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * crypto(9) for sys/netipsec: the ESP transforms over OpenSSL 3 EVP.
 * The only file of the tree, with ukern_subr.c's fallback RNG, that
 * includes OpenSSL headers.
 *
 * A session owns its EVP contexts, keyed once when it is made: a packet
 * only sets an IV and runs the cipher, and HMAC restarts from the key it
 * was given (EVP_MAC_init() with a NULL key).
 *
 * Two layers: the ukern_crypto_* primitives (cipher, HMAC, AEAD on one
 * buffer), and over them opencrypto(9)'s interface, crypto_newsession()
 * and crypto_dispatch(), which sys/netipsec calls as on FreeBSD.
 */

#include <ukern/ukern.h>

#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <zlib.h>

MALLOC_DEFINE(M_CRYPTO_DATA, "crypto", "crypto(9) sessions");

struct ukern_crypto_session {
	pthread_mutex_t		 cs_lock;
	int			 cs_calg;
	int			 cs_aalg;
	size_t			 cs_maclen;
	EVP_CIPHER_CTX		*cs_enc;	/* keyed for encryption */
	EVP_CIPHER_CTX		*cs_dec;	/* keyed for decryption */
	EVP_MAC_CTX		*cs_mac;
	uint8_t			 cs_salt[4];	/* CTR nonce, AEAD salt */
	/* crypto_newsession()'s: */
	int			 cs_mode;	/* CSP_MODE_* */
	int			 cs_flags;	/* CSP_F_* */
	int			 cs_ivlen;
	int			 cs_mlen;	/* digest bytes sent */
	/* CSP_MODE_COMPRESS: one stream each way, reset per packet. */
	z_stream		 cs_zdef;
	z_stream		 cs_zinf;
	uint8_t			*cs_zout;	/* their output, under cs_lock */
};

/*
 * Deflate (RFC 2394) as FreeBSD's cryptodeflate.c: raw streams, a
 * 4 KiB window out and any window in.  Nothing decompresses beyond
 * what an IP packet can hold.
 */
#define	UKERN_DEFLATE_WBITS_OUT		(-12)
#define	UKERN_DEFLATE_WBITS_IN		(-15)
#define	UKERN_DEFLATE_MAXOUT		65535

/* The EVP cipher of an algorithm for a key of klen bytes (without salt). */
static const EVP_CIPHER *
ukern_crypto_cipher(int calg, size_t klen)
{

	switch (calg) {
	case UKERN_CRYPT_AES_CBC:
		return (klen == 16 ? EVP_aes_128_cbc() : klen == 24 ?
		    EVP_aes_192_cbc() : klen == 32 ? EVP_aes_256_cbc() : NULL);
	case UKERN_CRYPT_AES_CTR:
		return (klen == 16 ? EVP_aes_128_ctr() : klen == 24 ?
		    EVP_aes_192_ctr() : klen == 32 ? EVP_aes_256_ctr() : NULL);
	case UKERN_CRYPT_AES_GCM:
		return (klen == 16 ? EVP_aes_128_gcm() : klen == 24 ?
		    EVP_aes_192_gcm() : klen == 32 ? EVP_aes_256_gcm() : NULL);
	case UKERN_CRYPT_CHACHA20_POLY1305:
		return (klen == 32 ? EVP_chacha20_poly1305() : NULL);
	}
	return (NULL);
}

static const char *
ukern_crypto_digest(int aalg)
{

	switch (aalg) {
	case UKERN_AUTH_HMAC_SHA1:
		return ("SHA1");
	case UKERN_AUTH_HMAC_SHA2_256:
		return ("SHA2-256");
	case UKERN_AUTH_HMAC_SHA2_384:
		return ("SHA2-384");
	case UKERN_AUTH_HMAC_SHA2_512:
		return ("SHA2-512");
	}
	return (NULL);
}

size_t
ukern_crypto_hmac_len(int aalg)
{

	switch (aalg) {
	case UKERN_AUTH_HMAC_SHA1:
		return (20);
	case UKERN_AUTH_HMAC_SHA2_256:
		return (32);
	case UKERN_AUTH_HMAC_SHA2_384:
		return (48);
	case UKERN_AUTH_HMAC_SHA2_512:
		return (64);
	}
	return (0);
}

void
ukern_crypto_freesession(struct ukern_crypto_session *cs)
{

	if (cs == NULL)
		return;
	/* The _free calls cleanse the key schedules they hold. */
	EVP_CIPHER_CTX_free(cs->cs_enc);
	EVP_CIPHER_CTX_free(cs->cs_dec);
	EVP_MAC_CTX_free(cs->cs_mac);
	if (cs->cs_mode == CSP_MODE_COMPRESS) {
		(void)deflateEnd(&cs->cs_zdef);
		(void)inflateEnd(&cs->cs_zinf);
		if (cs->cs_zout != NULL)
			zfree(cs->cs_zout, M_CRYPTO_DATA);
	}
	pthread_mutex_destroy(&cs->cs_lock);
	zfree(cs, M_CRYPTO_DATA);
}

/*
 * A session keyed with ckey (klen bytes, without any salt); salt, the
 * 4 bytes the primitives put before a CTR or AEAD IV, may be NULL when
 * the caller gives whole nonces (crypto_dispatch()).
 */
static int
ukern_crypto_session_new(struct ukern_crypto_session **csp, int calg,
    const void *ckey, size_t klen, const uint8_t *salt, int aalg,
    const void *akey, size_t akeylen)
{
	struct ukern_crypto_session *cs;
	const EVP_CIPHER *cipher;
	const char *digest;
	EVP_MAC *mac;
	OSSL_PARAM params[2];
	int aead;

	*csp = NULL;
	aead = (calg == UKERN_CRYPT_AES_GCM ||
	    calg == UKERN_CRYPT_CHACHA20_POLY1305);
	if (aead && aalg != UKERN_AUTH_NONE)
		return (EINVAL);
	digest = ukern_crypto_digest(aalg);
	if (aalg != UKERN_AUTH_NONE && (digest == NULL || akeylen == 0))
		return (EINVAL);
	cipher = NULL;
	switch (calg) {
	case UKERN_CRYPT_NULL:
		if (klen != 0)
			return (EINVAL);
		break;
	case UKERN_CRYPT_AES_CTR:
	case UKERN_CRYPT_AES_GCM:
	case UKERN_CRYPT_CHACHA20_POLY1305:
	case UKERN_CRYPT_AES_CBC:
		cipher = ukern_crypto_cipher(calg, klen);
		if (cipher == NULL)
			return (EINVAL);
		break;
	default:
		return (EINVAL);
	}

	cs = malloc(sizeof(*cs), M_CRYPTO_DATA, M_NOWAIT | M_ZERO);
	if (cs == NULL)
		return (ENOMEM);
	pthread_mutex_init(&cs->cs_lock, NULL);
	cs->cs_calg = calg;
	cs->cs_aalg = aalg;
	cs->cs_maclen = ukern_crypto_hmac_len(aalg);
	if (salt != NULL)
		memcpy(cs->cs_salt, salt, 4);
	if (cipher != NULL) {
		cs->cs_enc = EVP_CIPHER_CTX_new();
		cs->cs_dec = EVP_CIPHER_CTX_new();
		if (cs->cs_enc == NULL || cs->cs_dec == NULL ||
		    EVP_EncryptInit_ex2(cs->cs_enc, cipher, ckey, NULL,
		    NULL) != 1 ||
		    EVP_DecryptInit_ex2(cs->cs_dec, cipher, ckey, NULL,
		    NULL) != 1 ||
		    EVP_CIPHER_CTX_set_padding(cs->cs_enc, 0) != 1 ||
		    EVP_CIPHER_CTX_set_padding(cs->cs_dec, 0) != 1)
			goto fail;
	}
	if (digest != NULL) {
		mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		if (mac == NULL)
			goto fail;
		cs->cs_mac = EVP_MAC_CTX_new(mac);
		EVP_MAC_free(mac);
		params[0] = OSSL_PARAM_construct_utf8_string(
		    OSSL_MAC_PARAM_DIGEST, (char *)(uintptr_t)digest, 0);
		params[1] = OSSL_PARAM_construct_end();
		if (cs->cs_mac == NULL ||
		    EVP_MAC_init(cs->cs_mac, akey, akeylen, params) != 1)
			goto fail;
	}
	*csp = cs;
	return (0);
fail:
	ukern_crypto_freesession(cs);
	return (ENOMEM);
}

/* The key of CTR and the AEADs ends with its 4-byte salt (RFC 3686...). */
int
ukern_crypto_newsession(struct ukern_crypto_session **csp, int calg,
    const void *ckey, size_t ckeylen, int aalg, const void *akey,
    size_t akeylen)
{

	*csp = NULL;
	switch (calg) {
	case UKERN_CRYPT_AES_CTR:
	case UKERN_CRYPT_AES_GCM:
	case UKERN_CRYPT_CHACHA20_POLY1305:
		if (ckeylen < 4)
			return (EINVAL);
		return (ukern_crypto_session_new(csp, calg, ckey, ckeylen - 4,
		    (const uint8_t *)ckey + ckeylen - 4, aalg, akey, akeylen));
	}
	return (ukern_crypto_session_new(csp, calg, ckey, ckeylen, NULL, aalg,
	    akey, akeylen));
}

/* The counter block of RFC 3686: nonce || IV || 1. */
static void
ukern_crypto_ctrblk(const struct ukern_crypto_session *cs, const uint8_t *iv,
    uint8_t *blk)
{

	memcpy(blk, cs->cs_salt, 4);
	memcpy(blk + 4, iv, 8);
	blk[12] = blk[13] = blk[14] = 0;
	blk[15] = 1;
}

/* ivp: CBC's IV, or CTR's whole counter block. */
static int
ukern_crypto_cipher_iv(struct ukern_crypto_session *cs, EVP_CIPHER_CTX *ctx,
    const uint8_t *ivp, void *buf, size_t len)
{
	int n, ok;

	switch (cs->cs_calg) {
	case UKERN_CRYPT_NULL:
		return (0);
	case UKERN_CRYPT_AES_CBC:
		if (len % 16 != 0)
			return (EINVAL);
		break;
	case UKERN_CRYPT_AES_CTR:
		break;
	default:
		return (EINVAL);
	}
	if (len > INT_MAX)
		return (EINVAL);
	pthread_mutex_lock(&cs->cs_lock);
	ok = EVP_CipherInit_ex2(ctx, NULL, NULL, ivp, -1, NULL) == 1 &&
	    EVP_CipherUpdate(ctx, buf, &n, buf, (int)len) == 1 &&
	    (size_t)n == len;
	pthread_mutex_unlock(&cs->cs_lock);
	return (ok ? 0 : EIO);
}

static int
ukern_crypto_cipher_run(struct ukern_crypto_session *cs, EVP_CIPHER_CTX *ctx,
    const uint8_t *iv, void *buf, size_t len)
{
	uint8_t blk[16];

	if (cs->cs_calg == UKERN_CRYPT_AES_CTR) {
		ukern_crypto_ctrblk(cs, iv, blk);
		iv = blk;
	}
	return (ukern_crypto_cipher_iv(cs, ctx, iv, buf, len));
}

int
ukern_crypto_encrypt(struct ukern_crypto_session *cs, const uint8_t *iv,
    void *buf, size_t len)
{

	return (ukern_crypto_cipher_run(cs, cs->cs_enc, iv, buf, len));
}

int
ukern_crypto_decrypt(struct ukern_crypto_session *cs, const uint8_t *iv,
    void *buf, size_t len)
{

	return (ukern_crypto_cipher_run(cs, cs->cs_dec, iv, buf, len));
}

/* Full-length HMAC of p1 || p2 || p3 (p2, p3 may be NULL). */
static int
ukern_crypto_hmac3(struct ukern_crypto_session *cs, const void *p1, size_t l1,
    const void *p2, size_t l2, const void *p3, size_t l3, uint8_t *mac)
{
	size_t outl;
	int ok;

	if (cs->cs_mac == NULL)
		return (EINVAL);
	pthread_mutex_lock(&cs->cs_lock);
	ok = EVP_MAC_init(cs->cs_mac, NULL, 0, NULL) == 1 &&
	    EVP_MAC_update(cs->cs_mac, p1, l1) == 1 &&
	    (p2 == NULL || EVP_MAC_update(cs->cs_mac, p2, l2) == 1) &&
	    (p3 == NULL || EVP_MAC_update(cs->cs_mac, p3, l3) == 1) &&
	    EVP_MAC_final(cs->cs_mac, mac, &outl, UKERN_CRYPTO_HMAC_MAX) == 1 &&
	    outl == cs->cs_maclen;
	pthread_mutex_unlock(&cs->cs_lock);
	return (ok ? 0 : EIO);
}

int
ukern_crypto_hmac(struct ukern_crypto_session *cs, const void *p1, size_t l1,
    const void *p2, size_t l2, uint8_t *mac)
{

	return (ukern_crypto_hmac3(cs, p1, l1, p2, l2, NULL, 0, mac));
}

static int
ukern_crypto_aead_ok(const struct ukern_crypto_session *cs, size_t aadlen,
    size_t len)
{

	return ((cs->cs_calg == UKERN_CRYPT_AES_GCM ||
	    cs->cs_calg == UKERN_CRYPT_CHACHA20_POLY1305) &&
	    len <= INT_MAX && aadlen <= INT_MAX);
}

/* AEAD with the whole 12-byte nonce. */
static int
ukern_crypto_seal(struct ukern_crypto_session *cs, const uint8_t *nonce,
    const void *aad, size_t aadlen, void *buf, size_t len, uint8_t *tag)
{
	EVP_CIPHER_CTX *ctx;
	int n, ok;

	if (!ukern_crypto_aead_ok(cs, aadlen, len))
		return (EINVAL);
	ctx = cs->cs_enc;
	pthread_mutex_lock(&cs->cs_lock);
	ok = EVP_EncryptInit_ex2(ctx, NULL, NULL, nonce, NULL) == 1 &&
	    EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aadlen) == 1 &&
	    EVP_EncryptUpdate(ctx, buf, &n, buf, (int)len) == 1 &&
	    EVP_EncryptFinal_ex(ctx, (uint8_t *)buf + n, &n) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG,
	    UKERN_CRYPTO_AEAD_TAGLEN, tag) == 1;
	pthread_mutex_unlock(&cs->cs_lock);
	return (ok ? 0 : EIO);
}

int
ukern_crypto_aead_seal(struct ukern_crypto_session *cs, const uint8_t *iv,
    const void *aad, size_t aadlen, void *buf, size_t len, uint8_t *tag)
{
	uint8_t nonce[12];

	memcpy(nonce, cs->cs_salt, 4);
	memcpy(nonce + 4, iv, 8);
	return (ukern_crypto_seal(cs, nonce, aad, aadlen, buf, len, tag));
}

static int
ukern_crypto_open(struct ukern_crypto_session *cs, const uint8_t *nonce,
    const void *aad, size_t aadlen, void *buf, size_t len, const uint8_t *tag)
{
	EVP_CIPHER_CTX *ctx;
	int n, ok;

	if (!ukern_crypto_aead_ok(cs, aadlen, len))
		return (EINVAL);
	ctx = cs->cs_dec;
	pthread_mutex_lock(&cs->cs_lock);
	ok = EVP_DecryptInit_ex2(ctx, NULL, NULL, nonce, NULL) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG,
	    UKERN_CRYPTO_AEAD_TAGLEN, (void *)(uintptr_t)tag) == 1 &&
	    EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aadlen) == 1 &&
	    EVP_DecryptUpdate(ctx, buf, &n, buf, (int)len) == 1;
	/* Final compares the tag in constant time. */
	if (ok && EVP_DecryptFinal_ex(ctx, (uint8_t *)buf + n, &n) != 1) {
		pthread_mutex_unlock(&cs->cs_lock);
		OPENSSL_cleanse(buf, len);
		return (EBADMSG);
	}
	pthread_mutex_unlock(&cs->cs_lock);
	return (ok ? 0 : EIO);
}

int
ukern_crypto_aead_open(struct ukern_crypto_session *cs, const uint8_t *iv,
    const void *aad, size_t aadlen, void *buf, size_t len, const uint8_t *tag)
{
	uint8_t nonce[12];

	memcpy(nonce, cs->cs_salt, 4);
	memcpy(nonce + 4, iv, 8);
	return (ukern_crypto_open(cs, nonce, aad, aadlen, buf, len, tag));
}

/* ---- opencrypto(9) over the primitives ---- */

static int
crypto_map_cipher(int alg, int *calg)
{

	switch (alg) {
	case CRYPTO_NULL_CBC:
		*calg = UKERN_CRYPT_NULL;
		return (0);
	case CRYPTO_AES_CBC:
		*calg = UKERN_CRYPT_AES_CBC;
		return (0);
	case CRYPTO_AES_ICM:
		*calg = UKERN_CRYPT_AES_CTR;
		return (0);
	case CRYPTO_AES_NIST_GCM_16:
		*calg = UKERN_CRYPT_AES_GCM;
		return (0);
	case CRYPTO_CHACHA20_POLY1305:
		*calg = UKERN_CRYPT_CHACHA20_POLY1305;
		return (0);
	}
	return (EINVAL);
}

static int
crypto_map_auth(int alg, int *aalg)
{

	switch (alg) {
	case 0:
		*aalg = UKERN_AUTH_NONE;
		return (0);
	case CRYPTO_SHA1_HMAC:
		*aalg = UKERN_AUTH_HMAC_SHA1;
		return (0);
	case CRYPTO_SHA2_256_HMAC:
		*aalg = UKERN_AUTH_HMAC_SHA2_256;
		return (0);
	case CRYPTO_SHA2_384_HMAC:
		*aalg = UKERN_AUTH_HMAC_SHA2_384;
		return (0);
	case CRYPTO_SHA2_512_HMAC:
		*aalg = UKERN_AUTH_HMAC_SHA2_512;
		return (0);
	}
	return (EINVAL);
}

/* A deflate session: no key, two zlib streams. */
static int
crypto_newsession_comp(crypto_session_t *cses,
    const struct crypto_session_params *csp)
{
	struct ukern_crypto_session *cs;

	if (csp->csp_cipher_alg != CRYPTO_DEFLATE_COMP ||
	    csp->csp_auth_alg != 0 || csp->csp_cipher_klen != 0 ||
	    csp->csp_ivlen != 0)
		return (EINVAL);
	cs = malloc(sizeof(*cs), M_CRYPTO_DATA, M_NOWAIT | M_ZERO);
	if (cs == NULL)
		return (ENOMEM);
	/* One output buffer for the session, not 64 KiB per packet. */
	if ((cs->cs_zout = malloc(UKERN_DEFLATE_MAXOUT, M_CRYPTO_DATA,
	    M_NOWAIT)) == NULL) {
		free(cs, M_CRYPTO_DATA);
		return (ENOMEM);
	}
	if (deflateInit2(&cs->cs_zdef, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
	    UKERN_DEFLATE_WBITS_OUT, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(cs->cs_zout, M_CRYPTO_DATA);
		free(cs, M_CRYPTO_DATA);
		return (ENOMEM);
	}
	if (inflateInit2(&cs->cs_zinf, UKERN_DEFLATE_WBITS_IN) != Z_OK) {
		(void)deflateEnd(&cs->cs_zdef);
		free(cs->cs_zout, M_CRYPTO_DATA);
		free(cs, M_CRYPTO_DATA);
		return (ENOMEM);
	}
	pthread_mutex_init(&cs->cs_lock, NULL);
	cs->cs_mode = CSP_MODE_COMPRESS;
	cs->cs_calg = UKERN_CRYPT_NULL;
	*cses = cs;
	return (0);
}

int
crypto_newsession(crypto_session_t *cses,
    const struct crypto_session_params *csp, int crid)
{
	struct ukern_crypto_session *cs;
	int calg, aalg, aead, error, ivlen, mlen;
	size_t klen;

	(void)crid;		/* one software driver */
	*cses = NULL;
	if (csp->csp_mode == CSP_MODE_COMPRESS)
		return (crypto_newsession_comp(cses, csp));
	calg = UKERN_CRYPT_NULL;
	aalg = UKERN_AUTH_NONE;
	switch (csp->csp_mode) {
	case CSP_MODE_CIPHER:
	case CSP_MODE_AEAD:
	case CSP_MODE_ETA:
		if (crypto_map_cipher(csp->csp_cipher_alg, &calg) != 0)
			return (EINVAL);
		break;
	case CSP_MODE_DIGEST:
		break;
	default:
		return (EINVAL);
	}
	if (csp->csp_mode == CSP_MODE_DIGEST || csp->csp_mode == CSP_MODE_ETA) {
		if (crypto_map_auth(csp->csp_auth_alg, &aalg) != 0 ||
		    aalg == UKERN_AUTH_NONE || csp->csp_auth_klen <= 0)
			return (EINVAL);
	} else if (csp->csp_auth_alg != 0)
		return (EINVAL);
	aead = calg == UKERN_CRYPT_AES_GCM ||
	    calg == UKERN_CRYPT_CHACHA20_POLY1305;
	if (aead != (csp->csp_mode == CSP_MODE_AEAD))
		return (EINVAL);
	switch (calg) {
	case UKERN_CRYPT_AES_CBC:
		ivlen = AES_BLOCK_LEN;
		break;
	case UKERN_CRYPT_AES_CTR:
		ivlen = AES_BLOCK_LEN;
		break;
	case UKERN_CRYPT_AES_GCM:
	case UKERN_CRYPT_CHACHA20_POLY1305:
		ivlen = AES_GCM_IV_LEN;
		break;
	default:
		ivlen = 0;
		break;
	}
	if (csp->csp_ivlen != ivlen && calg != UKERN_CRYPT_NULL)
		return (EINVAL);
	mlen = aead ? UKERN_CRYPTO_AEAD_TAGLEN :
	    (int)ukern_crypto_hmac_len(aalg);
	if (csp->csp_auth_mlen < 0 || csp->csp_auth_mlen > mlen)
		return (EINVAL);
	if (csp->csp_auth_mlen != 0 && aead &&
	    csp->csp_auth_mlen != UKERN_CRYPTO_AEAD_TAGLEN)
		return (EINVAL);
	if (csp->csp_auth_mlen != 0)
		mlen = csp->csp_auth_mlen;
	klen = calg == UKERN_CRYPT_NULL ? 0 : (size_t)csp->csp_cipher_klen;
	if (klen > 0 && csp->csp_cipher_key == NULL)
		return (EINVAL);
	/* Requests carry whole nonces: no salt in the session. */
	error = ukern_crypto_session_new(&cs, calg, csp->csp_cipher_key, klen,
	    NULL, aalg, csp->csp_auth_key, (size_t)csp->csp_auth_klen);
	if (error != 0)
		return (error);
	cs->cs_mode = csp->csp_mode;
	cs->cs_flags = csp->csp_flags;
	cs->cs_ivlen = ivlen;
	cs->cs_mlen = mlen;
	*cses = cs;
	return (0);
}

void
crypto_freesession(crypto_session_t cses)
{

	ukern_crypto_freesession(cses);
}

void
crypto_initreq(struct cryptop *crp, crypto_session_t cses)
{

	memset(crp, 0, sizeof(*crp));
	crp->crp_session = cses;
}

void
crypto_destroyreq(struct cryptop *crp)
{

	explicit_bzero(crp->crp_iv, sizeof(crp->crp_iv));
}

/* Does [start, start + len) lie within a buffer of size bytes? */
static int
crypto_region_ok(int start, int len, int size)
{

	return (start >= 0 && len >= 0 && start <= size && len <= size - start);
}

/* The request over "size" contiguous bytes at buf. */
static int
crypto_run_buf(struct cryptop *crp, uint8_t *buf, int size)
{
	struct ukern_crypto_session *cs = crp->crp_session;
	uint8_t mac[UKERN_CRYPTO_HMAC_MAX];
	const uint8_t *aad;
	uint8_t *pl, *dg;
	EVP_CIPHER_CTX *ctx;
	size_t esnlen;
	int enc, error;

	if (!crypto_region_ok(crp->crp_payload_start,
	    crp->crp_payload_length, size))
		return (EINVAL);
	pl = buf + crp->crp_payload_start;
	enc = CRYPTO_OP_IS_ENCRYPT(crp->crp_op);
	aad = NULL;
	if (cs->cs_mode == CSP_MODE_AEAD || cs->cs_mode == CSP_MODE_ETA ||
	    cs->cs_mode == CSP_MODE_DIGEST) {
		if (!crypto_region_ok(crp->crp_digest_start, cs->cs_mlen,
		    size))
			return (EINVAL);
		if (crp->crp_aad != NULL) {
			if ((cs->cs_flags & CSP_F_SEPARATE_AAD) == 0 ||
			    crp->crp_aad_length < 0)
				return (EINVAL);
			aad = crp->crp_aad;
		} else {
			if (!crypto_region_ok(crp->crp_aad_start,
			    crp->crp_aad_length, size))
				return (EINVAL);
			aad = buf + crp->crp_aad_start;
		}
	}
	dg = aad != NULL ? buf + crp->crp_digest_start : NULL;
	esnlen = (cs->cs_flags & CSP_F_ESN) ? sizeof(crp->crp_esn) : 0;
	ctx = enc ? cs->cs_enc : cs->cs_dec;

	switch (cs->cs_mode) {
	case CSP_MODE_CIPHER:
		return (ukern_crypto_cipher_iv(cs, ctx, crp->crp_iv, pl,
		    (size_t)crp->crp_payload_length));
	case CSP_MODE_AEAD:
		if (enc)
			return (ukern_crypto_seal(cs, crp->crp_iv, aad,
			    (size_t)crp->crp_aad_length, pl,
			    (size_t)crp->crp_payload_length, dg));
		return (ukern_crypto_open(cs, crp->crp_iv, aad,
		    (size_t)crp->crp_aad_length, pl,
		    (size_t)crp->crp_payload_length, dg));
	case CSP_MODE_ETA:
	case CSP_MODE_DIGEST:
		if (enc && cs->cs_mode == CSP_MODE_ETA) {
			error = ukern_crypto_cipher_iv(cs, ctx, crp->crp_iv,
			    pl, (size_t)crp->crp_payload_length);
			if (error != 0)
				return (error);
		}
		/* The digest covers AAD || payload [|| ESN]. */
		error = ukern_crypto_hmac3(cs, aad,
		    (size_t)crp->crp_aad_length, pl,
		    (size_t)crp->crp_payload_length,
		    esnlen ? crp->crp_esn : NULL, esnlen, mac);
		if (error != 0)
			return (error);
		if (crp->crp_op & CRYPTO_OP_VERIFY_DIGEST) {
			error = timingsafe_bcmp(mac, dg, (size_t)cs->cs_mlen) ?
			    EBADMSG : 0;
			explicit_bzero(mac, sizeof(mac));
			if (error != 0)
				return (error);
		} else {
			memcpy(dg, mac, (size_t)cs->cs_mlen);
			explicit_bzero(mac, sizeof(mac));
		}
		if (!enc && cs->cs_mode == CSP_MODE_ETA)
			return (ukern_crypto_cipher_iv(cs, ctx, crp->crp_iv,
			    pl, (size_t)crp->crp_payload_length));
		return (0);
	}
	return (EINVAL);
}

/*
 * Deflate or inflate the payload, which ends the packet (FreeBSD's
 * swcr_compdec()): the result replaces it and the packet shrinks or
 * grows; crp_olen is the result's length.  Compression that does not
 * shrink the payload leaves the packet as it was, with crp_olen not
 * smaller than crp_payload_length, for the caller to send it so
 * (RFC 3173 section 2.2).  Decompression refuses (EINVAL) what is not a
 * deflate stream and (EMSGSIZE) what would exceed an IP packet.
 */
static int
crypto_run_comp(struct cryptop *crp, struct mbuf *m)
{
	struct ukern_crypto_session *cs = crp->crp_session;
	uint8_t *in, *inbuf, *out;
	z_stream *z;
	size_t len, cap, res;
	int comp, size, ret, error;

	size = (int)m_length(m, NULL);
	if (!crypto_region_ok(crp->crp_payload_start,
	    crp->crp_payload_length, size) ||
	    crp->crp_payload_start + crp->crp_payload_length != size)
		return (EINVAL);
	len = (size_t)crp->crp_payload_length;
	comp = CRYPTO_OP_IS_COMPRESS(crp->crp_op);
	if (len == 0)
		return (comp ? (crp->crp_olen = 0, 0) : EINVAL);
	inbuf = NULL;
	if (m->m_next == NULL)
		in = mtod(m, uint8_t *) + crp->crp_payload_start;
	else {
		if ((inbuf = malloc(len, M_CRYPTO_DATA, M_NOWAIT)) == NULL)
			return (ENOMEM);
		m_copydata(m, crp->crp_payload_start, (int)len, inbuf);
		in = inbuf;
	}
	/* Compressed output is only of use if it is shorter. */
	cap = comp ? len - 1 : UKERN_DEFLATE_MAXOUT;

	pthread_mutex_lock(&cs->cs_lock);
	out = cs->cs_zout;
	z = comp ? &cs->cs_zdef : &cs->cs_zinf;
	ret = comp ? deflateReset(z) : inflateReset(z);
	z->next_in = in;
	z->avail_in = (uInt)len;
	z->next_out = out;
	z->avail_out = (uInt)cap;
	if (ret == Z_OK)
		ret = comp ? deflate(z, Z_FINISH) : inflate(z, Z_FINISH);
	res = cap - z->avail_out;
	if (comp)
		/* Did not fit in fewer bytes: useless, not an error. */
		error = ret == Z_STREAM_END ? 0 : ret == Z_OK ||
		    ret == Z_BUF_ERROR ? -1 : EINVAL;
	else if (ret == Z_STREAM_END)
		error = 0;
	else if ((ret == Z_OK || ret == Z_BUF_ERROR) && z->avail_in == 0 &&
	    z->avail_out > 0)
		error = 0;	/* all input, no final block: as Linux */
	else if (ret == Z_OK || ret == Z_BUF_ERROR)
		error = EMSGSIZE;
	else
		error = EINVAL;
	z->next_in = z->next_out = NULL;

	/* The session's buffer is shared: copied back under its lock. */
	if (error == -1) {
		crp->crp_olen = (int)len;
		error = 0;
	} else if (error == 0) {
		crp->crp_olen = (int)res;
		m_copyback(m, crp->crp_payload_start, (int)res, out);
		if (res < len)
			m_adj(m, -(int)(len - res));
		if (m_length(m, NULL) != (u_int)(crp->crp_payload_start +
		    (int)res))
			error = ENOMEM;	/* m_copyback() could not grow it */
	}
	explicit_bzero(out, res);
	pthread_mutex_unlock(&cs->cs_lock);
	if (inbuf != NULL)
		zfree(inbuf, M_CRYPTO_DATA);
	return (error);
}

/*
 * A packet in one mbuf (netipsecd's, from m_devget()) is worked on in
 * place.  A chain goes through a contiguous copy that is written back
 * when the request succeeds (FreeBSD's software driver walks the
 * segments with a crypto_buffer_cursor; chains are not this host's hot
 * path).  The copy holds plaintext: erased when freed.
 */
static int
crypto_run(struct cryptop *crp)
{
	struct mbuf *m = crp->crp_buf.cb_mbuf;
	uint8_t *buf;
	int error, size;

	if (crp->crp_session == NULL || m == NULL)
		return (EINVAL);
	if (crp->crp_session->cs_mode == CSP_MODE_COMPRESS)
		return (crypto_run_comp(crp, m));
	/* A nonce comes apart from the packet; a digest alone has none. */
	if (
	    (crp->crp_session->cs_mode != CSP_MODE_DIGEST &&
	    (crp->crp_flags & CRYPTO_F_IV_SEPARATE) == 0))
		return (EINVAL);
	if (m->m_next == NULL)
		return (crypto_run_buf(crp, mtod(m, uint8_t *), m->m_len));
	size = (int)m_length(m, NULL);
	buf = malloc(MAX(size, 1), M_CRYPTO_DATA, M_NOWAIT);
	if (buf == NULL)
		return (ENOMEM);
	m_copydata(m, 0, size, buf);
	error = crypto_run_buf(crp, buf, size);
	if (error == 0)
		m_copyback(m, 0, size, buf);
	zfree(buf, M_CRYPTO_DATA);
	return (error);
}

int
crypto_dispatch(struct cryptop *crp)
{

	crp->crp_etype = crypto_run(crp);
	crp->crp_flags |= CRYPTO_F_DONE;
	if (crp->crp_callback != NULL)
		(void)crp->crp_callback(crp);
	return (0);
}
