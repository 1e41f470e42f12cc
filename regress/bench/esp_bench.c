/*
 * ESP benchmark: encapsulation + decapsulation of 1400-byte packets per
 * transform through esp_output()/esp_input(), against the same crypto
 * done with raw OpenSSL EVP on the same buffers in the same run (keyed
 * contexts made once, as a hand-written ESP would).  Printed as the
 * ratio EVP time / ESP time (goal >= 0.8).  Kernel code (builds SAs by
 * hand), built with -D_KERNEL.
 */
#include <ukern/ukern.h>

#include <net/pfkeyv2.h>
#include <netipsec/keydb.h>
#include <netipsec/esp.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <stdio.h>
#include <time.h>

MALLOC_DEFINE(M_BENCH, "bench", "esp benchmark");

#define	PKTLEN	1400
#define	NPKT	50000

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1e9 + ts.tv_nsec);
}

struct bx {
	const char	*name;
	uint8_t		 ealg;
	size_t		 eklen;
	uint8_t		 aalg;
	size_t		 aklen;
	const char	*digest;	/* HMAC digest, NULL for AEAD */
	size_t		 icvlen;
};

static const struct bx bxs[] = {
	{ "aes-gcm-128", SADB_X_EALG_AESGCM16, 20, 0, 0, NULL, 16 },
	{ "aes-gcm-256", SADB_X_EALG_AESGCM16, 36, 0, 0, NULL, 16 },
	{ "chacha20-poly1305", SADB_X_EALG_CHACHA20POLY1305, 36, 0, 0, NULL,
	    16 },
	{ "aes-cbc-128/hmac-sha1", SADB_X_EALG_AESCBC, 16,
	    SADB_AALG_SHA1HMAC, 20, "SHA1", 12 },
	{ "aes-cbc-256/hmac-sha256", SADB_X_EALG_AESCBC, 32,
	    SADB_X_AALG_SHA2_256, 32, "SHA2-256", 16 },
	{ "aes-ctr-128/hmac-sha256", SADB_X_EALG_AESCTR, 20,
	    SADB_X_AALG_SHA2_256, 32, "SHA2-256", 16 },
	{ "aes-cbc-256/hmac-sha512", SADB_X_EALG_AESCBC, 32,
	    SADB_X_AALG_SHA2_512, 64, "SHA2-512", 32 },
};

static struct seckey *
mkkey(const uint8_t *k, size_t len)
{
	struct seckey *key;

	if (len == 0)
		return (NULL);
	key = malloc(sizeof(*key), M_BENCH, M_WAITOK | M_ZERO);
	key->bits = (uint16_t)(len * 8);
	key->key_data = malloc(len, M_BENCH, M_WAITOK);
	memcpy(key->key_data, k, len);
	return (key);
}

static struct secasvar *
mksav(const struct bx *b, const uint8_t *ek, const uint8_t *ak)
{
	struct secasvar *sav;

	sav = malloc(sizeof(*sav), M_BENCH, M_WAITOK | M_ZERO);
	sav->alg_enc = b->ealg;
	sav->alg_auth = b->aalg;
	sav->key_enc = mkkey(ek, b->eklen);
	sav->key_auth = mkkey(ak, b->aklen);
	sav->spi = htonl(0x1234);
	sav->replay = malloc(sizeof(*sav->replay), M_BENCH, M_WAITOK | M_ZERO);
	sav->replay->wsize = 128;		/* 1024 packets */
	if (esp_init(sav) != 0) {
		fprintf(stderr, "esp_bench: esp_init %s failed\n", b->name);
		exit(1);
	}
	return (sav);
}

static void
freesav(struct secasvar *sav)
{

	esp_zeroize(sav);
	if (sav->key_enc != NULL) {
		zfree(sav->key_enc->key_data, M_BENCH);
		zfree(sav->key_enc, M_BENCH);
	}
	if (sav->key_auth != NULL) {
		zfree(sav->key_auth->key_data, M_BENCH);
		zfree(sav->key_auth, M_BENCH);
	}
	free(sav->replay, M_BENCH);
	free(sav, M_BENCH);
}

/* ESP: output on one SA, input on its peer, one mbuf reused. */
static double
run_esp(const struct bx *b, const uint8_t *payload, const uint8_t *ek,
    const uint8_t *ak)
{
	struct secasvar *out, *in;
	struct mbuf *m;
	double t0, t;
	int i, nxt;

	out = mksav(b, ek, ak);
	in = mksav(b, ek, ak);
	m = m_get2(PKTLEN + 128, M_WAITOK, MT_DATA, M_PKTHDR);
	t0 = now_ns();
	for (i = 0; i < NPKT; i++) {
		m->m_data = m->m_buf + max_linkhdr;
		m->m_len = m->m_pkthdr.len = 0;
		if (!m_append(m, PKTLEN, payload) ||
		    esp_output(out, &m, 4) != 0 ||
		    esp_input(in, &m, &nxt) != 0 || m->m_len != PKTLEN) {
			fprintf(stderr, "esp_bench: %s: ESP failed\n",
			    b->name);
			exit(1);
		}
	}
	t = (now_ns() - t0) / NPKT;
	m_freem(m);
	freesav(out);
	freesav(in);
	return (t);
}

static const EVP_CIPHER *
evp_cipher(const struct bx *b)
{

	switch (b->ealg) {
	case SADB_X_EALG_AESGCM16:
		return (b->eklen == 20 ? EVP_aes_128_gcm() : EVP_aes_256_gcm());
	case SADB_X_EALG_CHACHA20POLY1305:
		return (EVP_chacha20_poly1305());
	case SADB_X_EALG_AESCTR:
		return (EVP_aes_128_ctr());
	}
	return (b->eklen == 16 ? EVP_aes_128_cbc() : EVP_aes_256_cbc());
}

/*
 * Raw EVP: the same work on the same sizes (header 8, IV, 1400 bytes +
 * trailer, ICV): seal or encrypt-then-MAC, then verify and decrypt.
 */
static double
run_evp(const struct bx *b, const uint8_t *payload, const uint8_t *ek,
    const uint8_t *ak)
{
	static uint8_t buf[2048];
	EVP_CIPHER_CTX *enc, *dec;
	EVP_MAC_CTX *mac;
	EVP_MAC *hmac;
	OSSL_PARAM params[2];
	uint8_t iv[16], tag[64], tag2[64];
	double t0, t;
	size_t clen, hlen, outl;
	int i, n, aead;

	aead = b->digest == NULL;
	hlen = 8 + (b->ealg == SADB_X_EALG_AESCBC ? 16 : 8);
	clen = b->ealg == SADB_X_EALG_AESCBC ? 1408 : 1404;
	memset(iv, 0x42, sizeof(iv));
	enc = EVP_CIPHER_CTX_new();
	dec = EVP_CIPHER_CTX_new();
	EVP_EncryptInit_ex2(enc, evp_cipher(b), ek, NULL, NULL);
	EVP_DecryptInit_ex2(dec, evp_cipher(b), ek, NULL, NULL);
	EVP_CIPHER_CTX_set_padding(enc, 0);
	EVP_CIPHER_CTX_set_padding(dec, 0);
	mac = NULL;
	if (!aead) {
		hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		mac = EVP_MAC_CTX_new(hmac);
		EVP_MAC_free(hmac);
		params[0] = OSSL_PARAM_construct_utf8_string(
		    OSSL_MAC_PARAM_DIGEST, (char *)(uintptr_t)b->digest, 0);
		params[1] = OSSL_PARAM_construct_end();
		EVP_MAC_init(mac, ak, b->aklen, params);
	}
	t0 = now_ns();
	for (i = 0; i < NPKT; i++) {
		memcpy(buf + hlen, payload, PKTLEN);
		if (aead) {
			EVP_EncryptInit_ex2(enc, NULL, NULL, iv, NULL);
			EVP_EncryptUpdate(enc, NULL, &n, buf, 8);
			EVP_EncryptUpdate(enc, buf + hlen, &n, buf + hlen,
			    (int)clen);
			EVP_EncryptFinal_ex(enc, buf + hlen + n, &n);
			EVP_CIPHER_CTX_ctrl(enc, EVP_CTRL_AEAD_GET_TAG, 16,
			    buf + hlen + clen);
			EVP_DecryptInit_ex2(dec, NULL, NULL, iv, NULL);
			EVP_CIPHER_CTX_ctrl(dec, EVP_CTRL_AEAD_SET_TAG, 16,
			    buf + hlen + clen);
			EVP_DecryptUpdate(dec, NULL, &n, buf, 8);
			EVP_DecryptUpdate(dec, buf + hlen, &n, buf + hlen,
			    (int)clen);
			if (EVP_DecryptFinal_ex(dec, buf + hlen + n, &n) != 1)
				goto bad;
		} else {
			EVP_CipherInit_ex2(enc, NULL, NULL, iv, -1, NULL);
			EVP_CipherUpdate(enc, buf + hlen, &n, buf + hlen,
			    (int)clen);
			EVP_MAC_init(mac, NULL, 0, NULL);
			EVP_MAC_update(mac, buf, hlen + clen);
			EVP_MAC_final(mac, tag, &outl, sizeof(tag));
			memcpy(buf + hlen + clen, tag, b->icvlen);
			EVP_MAC_init(mac, NULL, 0, NULL);
			EVP_MAC_update(mac, buf, hlen + clen);
			EVP_MAC_final(mac, tag2, &outl, sizeof(tag2));
			if (CRYPTO_memcmp(tag2, buf + hlen + clen,
			    b->icvlen) != 0)
				goto bad;
			EVP_CipherInit_ex2(dec, NULL, NULL, iv, -1, NULL);
			EVP_CipherUpdate(dec, buf + hlen, &n, buf + hlen,
			    (int)clen);
		}
	}
	t = (now_ns() - t0) / NPKT;
	if (memcmp(buf + hlen, payload, PKTLEN) != 0)
		goto bad;
	EVP_CIPHER_CTX_free(enc);
	EVP_CIPHER_CTX_free(dec);
	EVP_MAC_CTX_free(mac);
	return (t);
bad:
	fprintf(stderr, "esp_bench: %s: EVP reference failed\n", b->name);
	exit(1);
}

int
main(void)
{
	uint8_t payload[PKTLEN], ek[64], ak[64];
	double e, r, best_e, best_r, worst;
	const char *wname;
	size_t i;
	int round;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)i;
	for (i = 0; i < sizeof(ek); i++) {
		ek[i] = (uint8_t)(i * 3 + 1);
		ak[i] = (uint8_t)(i * 5 + 2);
	}
	worst = 1e18;
	wname = "-";
	printf("\nESP encap+decap of %d-byte packets (ns per packet; "
	    "reference: raw OpenSSL EVP, same buffers)\n", PKTLEN);
	printf("%-26s %10s %10s %8s\n", "transform", "esp", "evp",
	    "evp/esp");
	for (i = 0; i < nitems(bxs); i++) {
		best_e = best_r = 1e18;
		/* Interleaved, best of three: both see the same machine. */
		for (round = 0; round < 3; round++) {
			e = run_esp(&bxs[i], payload, ek, ak);
			r = run_evp(&bxs[i], payload, ek, ak);
			best_e = MIN(best_e, e);
			best_r = MIN(best_r, r);
		}
		printf("%-26s %10.0f %10.0f %7.2f%s\n", bxs[i].name, best_e,
		    best_r, best_r / best_e,
		    best_r / best_e >= 0.8 ? "" : "  (goal >= 0.8)");
		if (best_r / best_e < worst) {
			worst = best_r / best_e;
			wname = bxs[i].name;
		}
	}
	printf("goal ESP/OpenSSL >= 0.8: %s (lowest %.2f, %s)\n",
	    worst >= 0.8 ? "met" : "NOT met", worst, wname);
	return (0);
}
