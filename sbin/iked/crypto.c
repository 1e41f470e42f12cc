/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * IKE's cryptography over OpenSSL 3's EVP: PRFs and integrity (HMAC
 * through EVP_MAC), the payload ciphers (AES-CBC, 3DES-CBC, AES-GCM-16,
 * ChaCha20-Poly1305), and the key derivations of IKEv2 (RFC 7296 §2.13,
 * §2.14, §2.17) and IKEv1 (RFC 2409 §5, §5.5, Appendix B).  Transforms
 * are named by their IKEv2 IDs, as in config.c.
 *
 * The EVP contexts are the daemon's, one per transform, not each SA's:
 * a keyed context costs a kilobyte or more, and an SA uses its keys a
 * few times in its life (memory per SA is a benchmark goal).  A hash or
 * cipher object keys the shared context just before it computes; the
 * context remembers which object keyed it, so that an object never
 * computes under another's key, and freeing that object wipes it.
 * Cipher objects keep their key in a buffer freed with freezero().
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "iked.h"

/*
 * PRFs and integrity, by IKEv2 transform ID (RFC 7296 §3.3.2): HMAC,
 * keyed with the full output length, integrity truncated.
 */
struct hash_spec {
	enum iked_xftype hs_type;	/* XF_PRF or XF_AUTH */
	uint16_t	 hs_id;
	const char	*hs_digest;
	size_t		 hs_keylen;
	size_t		 hs_length;	/* output, after truncation */
};

static const struct hash_spec hash_specs[] = {
	{ XF_PRF, 2, "SHA1", 20, 20 },		/* PRF_HMAC_SHA1 */
	{ XF_PRF, 5, "SHA256", 32, 32 },	/* PRF_HMAC_SHA2_256 */
	{ XF_PRF, 6, "SHA384", 48, 48 },	/* PRF_HMAC_SHA2_384 */
	{ XF_PRF, 7, "SHA512", 64, 64 },	/* PRF_HMAC_SHA2_512 */
	{ XF_AUTH, 2, "SHA1", 20, 12 },		/* AUTH_HMAC_SHA1_96 */
	{ XF_AUTH, 12, "SHA256", 32, 16 },	/* AUTH_HMAC_SHA2_256_128 */
	{ XF_AUTH, 13, "SHA384", 48, 24 },	/* AUTH_HMAC_SHA2_384_192 */
	{ XF_AUTH, 14, "SHA512", 64, 32 },	/* AUTH_HMAC_SHA2_512_256 */
	{ 0, 0, NULL, 0, 0 }
};

/* The shared context of a hash_specs entry, made at its first use. */
struct hash_ctx {
	EVP_MAC_CTX		*hc_mac;
	EVP_MD			*hc_md;		/* the plain digest */
	const struct iked_hash	*hc_owner;	/* keyed by it */
};

static struct hash_ctx	 hash_ctxs[sizeof(hash_specs) / sizeof(hash_specs[0])];

struct iked_hash {
	const struct hash_spec	*hash_spec;
	struct hash_ctx		*hash_ctx;
};

static struct hash_ctx *
hash_ctx_get(const struct hash_spec *hs)
{
	struct hash_ctx		*hc = &hash_ctxs[hs - hash_specs];
	EVP_MAC			*mac;
	OSSL_PARAM		 params[2];

	if (hc->hc_mac != NULL)
		return (hc);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)(uintptr_t)hs->hs_digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return (NULL);
	hc->hc_mac = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);
	if (hc->hc_mac == NULL ||
	    !EVP_MAC_CTX_set_params(hc->hc_mac, params) ||
	    (hc->hc_md = EVP_MD_fetch(NULL, hs->hs_digest, NULL)) == NULL) {
		EVP_MAC_CTX_free(hc->hc_mac);
		hc->hc_mac = NULL;
		return (NULL);
	}
	return (hc);
}

struct iked_hash *
hash_new(enum iked_xftype type, uint16_t id)
{
	const struct hash_spec	*hs;
	struct iked_hash	*h;

	for (hs = hash_specs; hs->hs_digest != NULL; hs++)
		if (hs->hs_type == type && hs->hs_id == id)
			break;
	if (hs->hs_digest == NULL) {
		log_debug("%s: transform %d/%u not supported", __func__,
		    type, id);
		return (NULL);
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return (NULL);
	h->hash_spec = hs;
	if ((h->hash_ctx = hash_ctx_get(hs)) == NULL) {
		free(h);
		return (NULL);
	}
	return (h);
}

void
hash_free(struct iked_hash *h)
{
	static const uint8_t	 empty[1];
	struct hash_ctx		*hc;

	if (h == NULL)
		return;
	hc = h->hash_ctx;
	if (hc->hc_owner == h) {
		/* Its key's HMAC state goes: rekeyed with no key. */
		(void)EVP_MAC_init(hc->hc_mac, empty, 0, NULL);
		hc->hc_owner = NULL;
	}
	free(h);
}

/* Output length: a PRF's full length, an integrity check's truncation. */
size_t
hash_length(const struct iked_hash *h)
{
	return (h->hash_spec->hs_length);
}

/* The key length a derivation gives it (RFC 7296 §2.13, §2.14). */
size_t
hash_keylength(const struct iked_hash *h)
{
	return (h->hash_spec->hs_keylen);
}

/*
 * Any length for a PRF (HMAC hashes long keys); the key is not kept.
 * It holds until another object of the same transform is keyed: set
 * the key just before computing.
 */
int
hash_setkey(struct iked_hash *h, const void *key, size_t keylen)
{
	static const uint8_t	 empty[1];
	struct hash_ctx		*hc = h->hash_ctx;

	hc->hc_owner = NULL;
	if (!EVP_MAC_init(hc->hc_mac, keylen ? key : empty, keylen, NULL))
		return (-1);
	hc->hc_owner = h;
	return (0);
}

int
hash_init(struct iked_hash *h)
{
	struct hash_ctx		*hc = h->hash_ctx;

	if (hc->hc_owner != h || !EVP_MAC_init(hc->hc_mac, NULL, 0, NULL))
		return (-1);
	return (0);
}

int
hash_update(struct iked_hash *h, const void *data, size_t len)
{
	struct hash_ctx		*hc = h->hash_ctx;

	if (hc->hc_owner != h)
		return (-1);
	if (len == 0)
		return (0);
	return (EVP_MAC_update(hc->hc_mac, data, len) ? 0 : -1);
}

/* Writes hash_length(h) bytes. */
int
hash_final(struct iked_hash *h, uint8_t *out)
{
	uint8_t		 buf[EVP_MAX_MD_SIZE];
	size_t		 len;

	if (h->hash_ctx->hc_owner != h ||
	    !EVP_MAC_final(h->hash_ctx->hc_mac, buf, &len, sizeof(buf)) ||
	    len < h->hash_spec->hs_length)
		return (-1);
	memcpy(out, buf, h->hash_spec->hs_length);
	explicit_bzero(buf, sizeof(buf));
	return (0);
}

/* One message under the key set last. */
int
hash_compute(struct iked_hash *h, const void *data, size_t len, uint8_t *out)
{
	if (hash_init(h) == -1 || hash_update(h, data, len) == -1)
		return (-1);
	return (hash_final(h, out));
}

/* 0 if icv is the (truncated) MAC of data, in constant time. */
int
hash_verify(struct iked_hash *h, const void *data, size_t len,
    const uint8_t *icv)
{
	uint8_t		 buf[EVP_MAX_MD_SIZE];
	int		 ret;

	if (hash_compute(h, data, len, buf) == -1)
		return (-1);
	ret = CRYPTO_memcmp(buf, icv, h->hash_spec->hs_length) == 0 ? 0 : -1;
	explicit_bzero(buf, sizeof(buf));
	return (ret);
}

/* prf(key, data), keyed for this call. */
int
prf_compute(struct iked_hash *prf, const void *key, size_t keylen,
    const void *data, size_t len, uint8_t *out)
{
	if (hash_setkey(prf, key, keylen) == -1)
		return (-1);
	return (hash_compute(prf, data, len, out));
}

/* The PRF's plain hash of a | b (IKEv1's IVs), hash_length(prf) bytes. */
int
hash_digest2(struct iked_hash *h, const void *a, size_t alen,
    const void *b, size_t blen, uint8_t *out)
{
	EVP_MD_CTX	*ctx;
	int		 ret = -1;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return (-1);
	if (EVP_DigestInit_ex2(ctx, h->hash_ctx->hc_md, NULL) &&
	    EVP_DigestUpdate(ctx, a, alen) && EVP_DigestUpdate(ctx, b, blen) &&
	    EVP_DigestFinal_ex(ctx, out, NULL))
		ret = 0;
	EVP_MD_CTX_free(ctx);
	return (ret);
}

/*
 * prf+ (RFC 7296 §2.13): T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S |
 * n), out = T1 | T2 | ..., at most 255 blocks.
 */
int
prfplus(struct iked_hash *prf, const void *key, size_t keylen,
    const void *seed, size_t seedlen, uint8_t *out, size_t outlen)
{
	uint8_t		 t[EVP_MAX_MD_SIZE];
	size_t		 hlen = hash_length(prf), n, done;
	uint8_t		 ctr;
	int		 ret = -1;

	if (outlen > 255 * hlen || hash_setkey(prf, key, keylen) == -1)
		return (-1);
	for (done = 0, ctr = 1; done < outlen; done += n, ctr++) {
		if (hash_init(prf) == -1 ||
		    (ctr > 1 && hash_update(prf, t, hlen) == -1) ||
		    hash_update(prf, seed, seedlen) == -1 ||
		    hash_update(prf, &ctr, 1) == -1 ||
		    hash_final(prf, t) == -1)
			goto done;
		n = outlen - done < hlen ? outlen - done : hlen;
		memcpy(out + done, t, n);
	}
	ret = 0;
 done:
	explicit_bzero(t, sizeof(t));
	return (ret);
}

/*
 * Payload ciphers by IKEv2 transform ID.  The key material a derivation
 * gives an AEAD is the key followed by its salt (RFC 5282 §7.1, RFC 7634
 * §2): the nonce is salt | the 8-byte IV sent with each message.  CBC
 * takes whole blocks: padding is the caller's, it differs in IKEv1 and
 * IKEv2.
 */
struct cipher_spec {
	uint16_t	 cs_id;
	uint16_t	 cs_keybits;
	const char	*cs_name;
	size_t		 cs_saltlen;
	size_t		 cs_ivlen;	/* on the wire */
	size_t		 cs_blocklen;
	size_t		 cs_taglen;
};

static const struct cipher_spec cipher_specs[] = {
	{ 3, 192, "DES-EDE3-CBC", 0, 8, 8, 0 },		/* ENCR_3DES */
	{ 12, 128, "AES-128-CBC", 0, 16, 16, 0 },	/* ENCR_AES_CBC */
	{ 12, 192, "AES-192-CBC", 0, 16, 16, 0 },
	{ 12, 256, "AES-256-CBC", 0, 16, 16, 0 },
	{ 20, 128, "AES-128-GCM", 4, 8, 1, 16 },	/* ENCR_AES_GCM_16 */
	{ 20, 192, "AES-192-GCM", 4, 8, 1, 16 },
	{ 20, 256, "AES-256-GCM", 4, 8, 1, 16 },
	{ 28, 256, "ChaCha20-Poly1305", 4, 8, 1, 16 },	/* RFC 7634 */
	{ 0, 0, NULL, 0, 0, 0, 0 }
};

#define CIPHER_SALTMAX	4
#define CIPHER_NONCEMAX	12
#define CIPHER_KEYMAX	(32 + CIPHER_SALTMAX)

/* The shared context of a cipher_specs entry, made at its first use. */
struct cipher_ctx {
	EVP_CIPHER		*cc_cipher;
	EVP_CIPHER_CTX		*cc_ctx;
	const struct iked_cipher *cc_owner;	/* keyed by it */
	int			 cc_enc;	/* for encryption */
};

static struct cipher_ctx cipher_ctxs[sizeof(cipher_specs) /
    sizeof(cipher_specs[0])];

struct iked_cipher {
	const struct cipher_spec *encr_spec;
	struct cipher_ctx	*encr_ctx;
	uint8_t			 encr_key[CIPHER_KEYMAX];	/* and salt */
	int			 encr_keyset;
};

static struct cipher_ctx *
cipher_ctx_get(const struct cipher_spec *cs)
{
	struct cipher_ctx	*cc = &cipher_ctxs[cs - cipher_specs];

	if (cc->cc_ctx != NULL)
		return (cc);
	if ((cc->cc_cipher = EVP_CIPHER_fetch(NULL, cs->cs_name, NULL)) ==
	    NULL)
		return (NULL);
	if ((cc->cc_ctx = EVP_CIPHER_CTX_new()) == NULL) {
		EVP_CIPHER_free(cc->cc_cipher);
		cc->cc_cipher = NULL;
		return (NULL);
	}
	return (cc);
}

/* keybits 0: the transform's only or smallest key length. */
struct iked_cipher *
cipher_new(uint16_t id, uint16_t keybits)
{
	const struct cipher_spec *cs;
	struct iked_cipher	*c;

	for (cs = cipher_specs; cs->cs_name != NULL; cs++)
		if (cs->cs_id == id && (keybits == 0 ||
		    cs->cs_keybits == keybits))
			break;
	if (cs->cs_name == NULL) {
		log_debug("%s: cipher %u/%u not supported", __func__, id,
		    keybits);
		return (NULL);
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	c->encr_spec = cs;
	if ((c->encr_ctx = cipher_ctx_get(cs)) == NULL) {
		free(c);
		return (NULL);
	}
	return (c);
}

void
cipher_free(struct iked_cipher *c)
{
	struct cipher_ctx	*cc;

	if (c == NULL)
		return;
	cc = c->encr_ctx;
	if (cc->cc_owner == c) {
		/* Its key schedule goes (OpenSSL clears what it frees). */
		(void)EVP_CIPHER_CTX_reset(cc->cc_ctx);
		cc->cc_owner = NULL;
	}
	freezero(c, sizeof(*c));
}

/* Key material a derivation must give it: key and salt. */
size_t
cipher_keylength(const struct iked_cipher *c)
{
	return (c->encr_spec->cs_keybits / 8 + c->encr_spec->cs_saltlen);
}

size_t
cipher_ivlength(const struct iked_cipher *c)
{
	return (c->encr_spec->cs_ivlen);
}

/* What the plaintext's length must be a multiple of. */
size_t
cipher_blocklength(const struct iked_cipher *c)
{
	return (c->encr_spec->cs_blocklen);
}

size_t
cipher_taglength(const struct iked_cipher *c)
{
	return (c->encr_spec->cs_taglen);
}

int
cipher_setkey(struct iked_cipher *c, const uint8_t *key, size_t keylen)
{
	c->encr_keyset = 0;
	if (c->encr_ctx->cc_owner == c)
		c->encr_ctx->cc_owner = NULL;
	if (keylen != cipher_keylength(c) || keylen > sizeof(c->encr_key))
		return (-1);
	memcpy(c->encr_key, key, keylen);
	c->encr_keyset = 1;
	return (0);
}

/* The shared context, keyed with c's key for enc(1) or dec(0), and iv. */
static EVP_CIPHER_CTX *
cipher_start(struct iked_cipher *c, int enc, const uint8_t *iv,
    const uint8_t *aad, size_t aadlen, size_t len)
{
	const struct cipher_spec *cs = c->encr_spec;
	struct cipher_ctx	*cc = c->encr_ctx;
	EVP_CIPHER_CTX		*ctx = cc->cc_ctx;
	uint8_t			 nonce[CIPHER_NONCEMAX];
	int			 outl;

	if (!c->encr_keyset || len % cs->cs_blocklen != 0 ||
	    len > INT32_MAX || aadlen > INT32_MAX)
		return (NULL);
	if (cc->cc_owner != c || cc->cc_enc != enc) {
		cc->cc_owner = NULL;
		if (!EVP_CipherInit_ex2(ctx, cc->cc_cipher, c->encr_key,
		    NULL, enc, NULL))
			return (NULL);
		cc->cc_owner = c;
		cc->cc_enc = enc;
	}
	if (cs->cs_taglen == 0) {
		if (aadlen != 0 ||
		    !EVP_CipherInit_ex2(ctx, NULL, NULL, iv, -1, NULL) ||
		    !EVP_CIPHER_CTX_set_padding(ctx, 0))
			return (NULL);
		return (ctx);
	}
	memcpy(nonce, c->encr_key + cs->cs_keybits / 8, cs->cs_saltlen);
	memcpy(nonce + cs->cs_saltlen, iv, cs->cs_ivlen);
	if (!EVP_CipherInit_ex2(ctx, NULL, NULL, nonce, -1, NULL))
		return (NULL);
	if (aadlen != 0 && !EVP_CipherUpdate(ctx, NULL, &outl, aad,
	    (int)aadlen))
		return (NULL);
	return (ctx);
}

/*
 * in (len bytes) to out (may be in), with the IV as sent (CBC: the
 * block before the first; AEAD: the 8 bytes after the salt).  AEADs
 * authenticate aad and write the tag; CBC takes no aad and no tag.
 */
int
cipher_encrypt(struct iked_cipher *c, const uint8_t *iv, const uint8_t *aad,
    size_t aadlen, const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
	EVP_CIPHER_CTX		*ctx;
	size_t			 taglen = c->encr_spec->cs_taglen;
	OSSL_PARAM		 params[2];
	int			 outl, finl;

	if ((ctx = cipher_start(c, 1, iv, aad, aadlen, len)) == NULL ||
	    !EVP_EncryptUpdate(ctx, out, &outl, in, (int)len) ||
	    !EVP_EncryptFinal_ex(ctx, out + outl, &finl) ||
	    (size_t)outl + (size_t)finl != len)
		return (-1);
	if (taglen == 0)
		return (0);
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG,
	    tag, taglen);
	params[1] = OSSL_PARAM_construct_end();
	return (EVP_CIPHER_CTX_get_params(ctx, params) ? 0 : -1);
}

/* As cipher_encrypt(); an AEAD's -1 also means a forged message. */
int
cipher_decrypt(struct iked_cipher *c, const uint8_t *iv, const uint8_t *aad,
    size_t aadlen, const uint8_t *in, size_t len, uint8_t *out,
    const uint8_t *tag)
{
	EVP_CIPHER_CTX		*ctx;
	size_t			 taglen = c->encr_spec->cs_taglen;
	OSSL_PARAM		 params[2];
	int			 outl, finl;

	if ((ctx = cipher_start(c, 0, iv, aad, aadlen, len)) == NULL)
		return (-1);
	if (taglen != 0) {
		params[0] = OSSL_PARAM_construct_octet_string(
		    OSSL_CIPHER_PARAM_AEAD_TAG, (void *)(uintptr_t)tag, taglen);
		params[1] = OSSL_PARAM_construct_end();
		if (!EVP_CIPHER_CTX_set_params(ctx, params))
			return (-1);
	}
	if (!EVP_DecryptUpdate(ctx, out, &outl, in, (int)len) ||
	    !EVP_DecryptFinal_ex(ctx, out + outl, &finl) ||
	    (size_t)outl + (size_t)finl != len) {
		if (len != 0)
			explicit_bzero(out, len);
		return (-1);
	}
	return (0);
}

/*
 * IKEv2 (RFC 7296 §2.14): SKEYSEED = prf(Ni | Nr, g^ir), or on an IKE SA
 * rekey (§2.18) prf(SK_d old, g^ir new | Ni | Nr) with the old SA's prf.
 * Writes hash_length(prf) bytes.
 */
int
kdf_ikev2_skeyseed(struct iked_hash *prf, const uint8_t *skd, size_t skdlen,
    const uint8_t *shared, size_t sharedlen, const uint8_t *ni, size_t nilen,
    const uint8_t *nr, size_t nrlen, uint8_t *skeyseed)
{
	uint8_t		*nonces;
	int		 ret = -1;

	if (skd != NULL) {
		if (hash_setkey(prf, skd, skdlen) == -1 ||
		    hash_init(prf) == -1 ||
		    hash_update(prf, shared, sharedlen) == -1 ||
		    hash_update(prf, ni, nilen) == -1 ||
		    hash_update(prf, nr, nrlen) == -1)
			return (-1);
		return (hash_final(prf, skeyseed));
	}
	if ((nonces = malloc(nilen + nrlen)) == NULL)
		return (-1);
	memcpy(nonces, ni, nilen);
	memcpy(nonces + nilen, nr, nrlen);
	ret = prf_compute(prf, nonces, nilen + nrlen, shared, sharedlen,
	    skeyseed);
	freezero(nonces, nilen + nrlen);
	return (ret);
}

/*
 * {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED,
 * Ni | Nr | SPIi | SPIr).  SK_d, SK_p* have the PRF's key length;
 * integlen is 0 with an AEAD, whose enclen counts its salt.
 */
int
kdf_ikev2_sa(struct iked_hash *prf, const uint8_t *skeyseed,
    const uint8_t *ni, size_t nilen, const uint8_t *nr, size_t nrlen,
    const uint8_t *spii, const uint8_t *spir, size_t integlen, size_t enclen,
    struct iked_sakeys *sk)
{
	size_t		 prflen = hash_keylength(prf), seedlen, off;
	uint8_t		*seed;
	int		 ret;

	memset(sk, 0, sizeof(*sk));
	seedlen = nilen + nrlen + 2 * IKED_SPI_LEN;
	sk->sk_len = 3 * prflen + 2 * integlen + 2 * enclen;
	if ((seed = malloc(seedlen)) == NULL)
		return (-1);
	if ((sk->sk_buf = malloc(sk->sk_len)) == NULL) {
		free(seed);
		return (-1);
	}
	memcpy(seed, ni, nilen);
	memcpy(seed + nilen, nr, nrlen);
	memcpy(seed + nilen + nrlen, spii, IKED_SPI_LEN);
	memcpy(seed + nilen + nrlen + IKED_SPI_LEN, spir, IKED_SPI_LEN);
	ret = prfplus(prf, skeyseed, hash_length(prf), seed, seedlen,
	    sk->sk_buf, sk->sk_len);
	freezero(seed, seedlen);
	if (ret == -1) {
		kdf_sakeys_free(sk);
		return (-1);
	}
	sk->sk_prflen = prflen;
	sk->sk_integlen = integlen;
	sk->sk_enclen = enclen;
	off = 0;
	sk->sk_d = sk->sk_buf + off;
	off += prflen;
	sk->sk_ai = sk->sk_buf + off;
	off += integlen;
	sk->sk_ar = sk->sk_buf + off;
	off += integlen;
	sk->sk_ei = sk->sk_buf + off;
	off += enclen;
	sk->sk_er = sk->sk_buf + off;
	off += enclen;
	sk->sk_pi = sk->sk_buf + off;
	off += prflen;
	sk->sk_pr = sk->sk_buf + off;
	return (0);
}

void
kdf_sakeys_free(struct iked_sakeys *sk)
{
	if (sk->sk_buf != NULL)
		freezero(sk->sk_buf, sk->sk_len);
	memset(sk, 0, sizeof(*sk));
}

/*
 * Child SA keys (RFC 7296 §2.17): KEYMAT = prf+(SK_d, [g^ir (new) |] Ni |
 * Nr), taken initiator to responder first, encryption before integrity
 * in each direction.  enclen counts an AEAD's salt.
 */
int
kdf_ikev2_child(struct iked_hash *prf, const uint8_t *skd, size_t skdlen,
    const uint8_t *shared, size_t sharedlen, const uint8_t *ni, size_t nilen,
    const uint8_t *nr, size_t nrlen, size_t enclen, size_t integlen,
    struct iked_childkeys *ck)
{
	size_t		 seedlen;
	uint8_t		*seed;
	int		 ret;

	memset(ck, 0, sizeof(*ck));
	if (shared == NULL)
		sharedlen = 0;
	seedlen = sharedlen + nilen + nrlen;
	ck->ck_len = 2 * (enclen + integlen);
	if ((seed = malloc(seedlen)) == NULL)
		return (-1);
	if ((ck->ck_buf = malloc(ck->ck_len)) == NULL) {
		free(seed);
		return (-1);
	}
	if (sharedlen != 0)
		memcpy(seed, shared, sharedlen);
	memcpy(seed + sharedlen, ni, nilen);
	memcpy(seed + sharedlen + nilen, nr, nrlen);
	ret = prfplus(prf, skd, skdlen, seed, seedlen, ck->ck_buf, ck->ck_len);
	freezero(seed, seedlen);
	if (ret == -1) {
		kdf_childkeys_free(ck);
		return (-1);
	}
	ck->ck_enclen = enclen;
	ck->ck_integlen = integlen;
	ck->ck_ei = ck->ck_buf;
	ck->ck_ai = ck->ck_ei + enclen;
	ck->ck_er = ck->ck_ai + integlen;
	ck->ck_ar = ck->ck_er + enclen;
	return (0);
}

void
kdf_childkeys_free(struct iked_childkeys *ck)
{
	if (ck->ck_buf != NULL)
		freezero(ck->ck_buf, ck->ck_len);
	memset(ck, 0, sizeof(*ck));
}

/*
 * IKEv1 phase 1 (RFC 2409 §5):
 *	SKEYID   = prf(psk, Ni_b | Nr_b), with pre-shared keys,
 *	SKEYID   = prf(Ni_b | Nr_b, g^xy), with signatures (psk NULL)
 *	SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)
 *	SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)
 *	SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)
 * and the encryption key: the first enclen bytes of SKEYID_e, or when
 * that is too short of Ka = K1 | K2 | ..., K1 = prf(SKEYID_e, 0), Kn =
 * prf(SKEYID_e, Kn-1) (Appendix B).
 */
int
kdf_ikev1_phase1(struct iked_hash *prf, const uint8_t *psk, size_t psklen,
    const uint8_t *ni, size_t nilen, const uint8_t *nr, size_t nrlen,
    const uint8_t *gxy, size_t gxylen, const uint8_t *ckyi,
    const uint8_t *ckyr, size_t enclen, struct iked_v1keys *k)
{
	size_t		 hlen = hash_length(prf), off;
	uint8_t		 c, zero = 0, *prev;
	int		 i;

	memset(k, 0, sizeof(*k));
	k->v1_prflen = hlen;
	k->v1_enclen = enclen;
	/* Ka's blocks, rounded up, after the four SKEYIDs. */
	k->v1_len = 4 * hlen + (enclen + hlen - 1) / hlen * hlen;
	if ((k->v1_buf = malloc(k->v1_len)) == NULL)
		return (-1);
	k->v1_skeyid = k->v1_buf;
	k->v1_d = k->v1_skeyid + hlen;
	k->v1_a = k->v1_d + hlen;
	k->v1_e = k->v1_a + hlen;
	k->v1_enc = k->v1_e + hlen;

	if (psk != NULL) {
		/* Pre-shared key: prf(pre-shared-key, Ni_b | Nr_b). */
		if (hash_setkey(prf, psk, psklen) == -1 ||
		    hash_init(prf) == -1 ||
		    hash_update(prf, ni, nilen) == -1 ||
		    hash_update(prf, nr, nrlen) == -1 ||
		    hash_final(prf, k->v1_skeyid) == -1)
			goto fail;
	} else {
		/* Signatures (RFC 2409 5): prf(Ni_b | Nr_b, g^xy). */
		uint8_t	*nn;
		int	 r;

		/* The nonces are at most IKEV1_NONCE_MAX bytes each. */
		if ((nn = malloc(nilen + nrlen)) == NULL)
			goto fail;
		memcpy(nn, ni, nilen);
		memcpy(nn + nilen, nr, nrlen);
		r = hash_setkey(prf, nn, nilen + nrlen) == -1 ||
		    hash_init(prf) == -1 ||
		    hash_update(prf, gxy, gxylen) == -1 ||
		    hash_final(prf, k->v1_skeyid) == -1;
		freezero(nn, nilen + nrlen);
		if (r)
			goto fail;
	}
	if (hash_setkey(prf, k->v1_skeyid, hlen) == -1)
		goto fail;
	prev = NULL;
	for (i = 0; i < 3; i++) {
		c = (uint8_t)i;
		if (hash_init(prf) == -1 ||
		    (prev != NULL && hash_update(prf, prev, hlen) == -1) ||
		    hash_update(prf, gxy, gxylen) == -1 ||
		    hash_update(prf, ckyi, IKED_COOKIE_LEN) == -1 ||
		    hash_update(prf, ckyr, IKED_COOKIE_LEN) == -1 ||
		    hash_update(prf, &c, 1) == -1 ||
		    hash_final(prf, k->v1_d + i * hlen) == -1)
			goto fail;
		prev = k->v1_d + i * hlen;
	}
	if (enclen <= hlen) {
		memcpy(k->v1_enc, k->v1_e, enclen);
		return (0);
	}
	if (hash_setkey(prf, k->v1_e, hlen) == -1 ||
	    hash_compute(prf, &zero, 1, k->v1_enc) == -1)
		goto fail;
	for (off = hlen; off < enclen; off += hlen)
		if (hash_compute(prf, k->v1_enc + off - hlen, hlen,
		    k->v1_enc + off) == -1)
			goto fail;
	return (0);
 fail:
	kdf_v1keys_free(k);
	return (-1);
}

void
kdf_v1keys_free(struct iked_v1keys *k)
{
	if (k->v1_buf != NULL)
		freezero(k->v1_buf, k->v1_len);
	memset(k, 0, sizeof(*k));
}

/*
 * IKEv1 IVs (RFC 2409 §5.5, Appendix B): hash(a | b) cut to ivlen.
 * Phase 1: a = g^xi, b = g^xr.  Phase 2 and informational: a = the last
 * CBC block of phase 1, b = the message ID as sent.
 */
int
kdf_ikev1_iv(struct iked_hash *prf, const uint8_t *a, size_t alen,
    const uint8_t *b, size_t blen, uint8_t *iv, size_t ivlen)
{
	uint8_t		 buf[EVP_MAX_MD_SIZE];

	if (ivlen > hash_length(prf) ||
	    hash_digest2(prf, a, alen, b, blen, buf) == -1)
		return (-1);
	memcpy(iv, buf, ivlen);
	return (0);
}

/*
 * Quick Mode KEYMAT (RFC 2409 §5.5): K1 = prf(SKEYID_d, [g(qm)^xy |]
 * protocol | SPI | Ni_b | Nr_b), Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |]
 * protocol | SPI | Ni_b | Nr_b), KEYMAT = K1 | K2 | ... cut to outlen.
 * spi as on the wire (network order); gqm NULL without PFS.
 */
int
kdf_ikev1_keymat(struct iked_hash *prf, const uint8_t *skeyid_d,
    size_t dlen, const uint8_t *gqm, size_t gqmlen, uint8_t proto,
    const uint8_t *spi, const uint8_t *ni, size_t nilen, const uint8_t *nr,
    size_t nrlen, uint8_t *out, size_t outlen)
{
	uint8_t		 k[EVP_MAX_MD_SIZE];
	size_t		 hlen = hash_length(prf), off, n;
	int		 ret = -1;

	if (gqm == NULL)
		gqmlen = 0;
	if (hash_setkey(prf, skeyid_d, dlen) == -1)
		return (-1);
	for (off = 0; off < outlen; off += n) {
		if (hash_init(prf) == -1 ||
		    (off != 0 && hash_update(prf, k, hlen) == -1) ||
		    hash_update(prf, gqm, gqmlen) == -1 ||
		    hash_update(prf, &proto, 1) == -1 ||
		    hash_update(prf, spi, 4) == -1 ||
		    hash_update(prf, ni, nilen) == -1 ||
		    hash_update(prf, nr, nrlen) == -1 ||
		    hash_final(prf, k) == -1)
			goto done;
		n = outlen - off < hlen ? outlen - off : hlen;
		memcpy(out + off, k, n);
	}
	ret = 0;
 done:
	explicit_bzero(k, sizeof(k));
	return (ret);
}
