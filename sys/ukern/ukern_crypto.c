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
 */

#include <ukern/ukern.h>

#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

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
};

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
	pthread_mutex_destroy(&cs->cs_lock);
	zfree(cs, M_CRYPTO_DATA);
}

int
ukern_crypto_newsession(struct ukern_crypto_session **csp, int calg,
    const void *ckey, size_t ckeylen, int aalg, const void *akey,
    size_t akeylen)
{
	struct ukern_crypto_session *cs;
	const EVP_CIPHER *cipher;
	const char *digest;
	EVP_MAC *mac;
	OSSL_PARAM params[2];
	size_t klen;
	int aead;

	*csp = NULL;
	aead = (calg == UKERN_CRYPT_AES_GCM ||
	    calg == UKERN_CRYPT_CHACHA20_POLY1305);
	if (aead && aalg != UKERN_AUTH_NONE)
		return (EINVAL);
	digest = ukern_crypto_digest(aalg);
	if (aalg != UKERN_AUTH_NONE && (digest == NULL || akeylen == 0))
		return (EINVAL);
	klen = ckeylen;
	cipher = NULL;
	switch (calg) {
	case UKERN_CRYPT_NULL:
		if (ckeylen != 0)
			return (EINVAL);
		break;
	case UKERN_CRYPT_AES_CTR:
	case UKERN_CRYPT_AES_GCM:
	case UKERN_CRYPT_CHACHA20_POLY1305:
		if (ckeylen < 4)
			return (EINVAL);
		klen = ckeylen - 4;
		/* FALLTHROUGH */
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
	if (klen < ckeylen)
		memcpy(cs->cs_salt, (const uint8_t *)ckey + klen, 4);
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

static int
ukern_crypto_cipher_run(struct ukern_crypto_session *cs, EVP_CIPHER_CTX *ctx,
    const uint8_t *iv, void *buf, size_t len)
{
	uint8_t blk[16];
	const uint8_t *ivp;
	int n, ok;

	switch (cs->cs_calg) {
	case UKERN_CRYPT_NULL:
		return (0);
	case UKERN_CRYPT_AES_CBC:
		if (len % 16 != 0)
			return (EINVAL);
		ivp = iv;
		break;
	case UKERN_CRYPT_AES_CTR:
		ukern_crypto_ctrblk(cs, iv, blk);
		ivp = blk;
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

int
ukern_crypto_hmac(struct ukern_crypto_session *cs, const void *p1, size_t l1,
    const void *p2, size_t l2, uint8_t *mac)
{
	size_t outl;
	int ok;

	if (cs->cs_mac == NULL)
		return (EINVAL);
	pthread_mutex_lock(&cs->cs_lock);
	ok = EVP_MAC_init(cs->cs_mac, NULL, 0, NULL) == 1 &&
	    EVP_MAC_update(cs->cs_mac, p1, l1) == 1 &&
	    (p2 == NULL || EVP_MAC_update(cs->cs_mac, p2, l2) == 1) &&
	    EVP_MAC_final(cs->cs_mac, mac, &outl, UKERN_CRYPTO_HMAC_MAX) == 1 &&
	    outl == cs->cs_maclen;
	pthread_mutex_unlock(&cs->cs_lock);
	return (ok ? 0 : EIO);
}

static int
ukern_crypto_aead_ok(const struct ukern_crypto_session *cs, size_t aadlen,
    size_t len)
{

	return ((cs->cs_calg == UKERN_CRYPT_AES_GCM ||
	    cs->cs_calg == UKERN_CRYPT_CHACHA20_POLY1305) &&
	    len <= INT_MAX && aadlen <= INT_MAX);
}

int
ukern_crypto_aead_seal(struct ukern_crypto_session *cs, const uint8_t *iv,
    const void *aad, size_t aadlen, void *buf, size_t len, uint8_t *tag)
{
	EVP_CIPHER_CTX *ctx;
	uint8_t nonce[12];
	int n, ok;

	if (!ukern_crypto_aead_ok(cs, aadlen, len))
		return (EINVAL);
	memcpy(nonce, cs->cs_salt, 4);
	memcpy(nonce + 4, iv, 8);
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
ukern_crypto_aead_open(struct ukern_crypto_session *cs, const uint8_t *iv,
    const void *aad, size_t aadlen, void *buf, size_t len, const uint8_t *tag)
{
	EVP_CIPHER_CTX *ctx;
	uint8_t nonce[12];
	int n, ok;

	if (!ukern_crypto_aead_ok(cs, aadlen, len))
		return (EINVAL);
	memcpy(nonce, cs->cs_salt, 4);
	memcpy(nonce + 4, iv, 8);
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
