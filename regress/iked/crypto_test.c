/*
 * sbin/iked/crypto.c: HMAC PRFs and integrity (RFC 2202, RFC 4231), the
 * payload ciphers (AES-CBC RFC 3602 and NIST SP 800-38A F.2, AES-GCM-16
 * and ChaCha20-Poly1305 with the ESP vectors of draft-mcgrew-gcm-test-01
 * and RFC 7634 Appendix A, which use the IKE construction of RFC 5282
 * and RFC 7634: salt | 8-byte IV, tag 16), and the key derivations of
 * IKEv2 and IKEv1 against values computed independently with Python's
 * hmac and hashlib.  Forgeries and truncated inputs are refused.
 */
#include <atf-c.h>

#include <stdlib.h>
#include <string.h>

#include "iked.h"

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

static int
eqhex(const uint8_t *p, size_t len, const char *hex)
{
	uint8_t		 want[512];
	size_t		 wl;

	wl = unhex(hex, want, sizeof(want));
	return (wl == len && memcmp(p, want, len) == 0);
}

/* ---- HMAC ---- */

#define K0B20	"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"
#define HI	"Hi There"
#define JEFE	"Jefe"
#define WHAT	"what do ya want for nothing?"
#define LARGE	"Test Using Larger Than Block-Size Key - Hash Key First"

struct hmacvec {
	uint16_t	 prf;		/* PRF transform ID */
	uint16_t	 auth;		/* the integrity one with that hash */
	const char	*key;		/* hex, or NULL: textkey */
	const char	*textkey;
	size_t		 repeat;	/* key is 0xaa x repeat */
	const char	*data;
	const char	*mac;
};

static const struct hmacvec hmacvecs[] = {
	/* RFC 2202 §3, test cases 1, 2, 6. */
	{ 2, 2, K0B20, NULL, 0, HI,
	    "b617318655057264e28bc0b6fb378c8ef146be00" },
	{ 2, 2, NULL, JEFE, 0, WHAT,
	    "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
	{ 2, 2, NULL, NULL, 80, LARGE,
	    "aa4ae5e15272d00e95705637ce8a3b55ed402112" },
	/* RFC 4231 §4.2, §4.3, §4.7. */
	{ 5, 12, K0B20, NULL, 0, HI,
	    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	{ 6, 13, K0B20, NULL, 0, HI,
	    "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
	    "faea9ea9076ede7f4af152e8b2fa9cb6" },
	{ 7, 14, K0B20, NULL, 0, HI,
	    "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
	    "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
	{ 5, 12, NULL, JEFE, 0, WHAT,
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ 6, 13, NULL, JEFE, 0, WHAT,
	    "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
	    "8e2240ca5e69e2c78b3239ecfab21649" },
	{ 7, 14, NULL, JEFE, 0, WHAT,
	    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
	    "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
	{ 5, 12, NULL, NULL, 131, LARGE,
	    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	{ 6, 13, NULL, NULL, 131, LARGE,
	    "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
	    "0c2ef6ab4030fe8296248df163f44952" },
	{ 7, 14, NULL, NULL, 131, LARGE,
	    "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
	    "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598" },
};

ATF_TC_WITHOUT_HEAD(hmac);
ATF_TC_BODY(hmac, tc)
{
	const struct hmacvec *v;
	struct iked_hash *prf, *integ;
	uint8_t		 key[256], want[64], out[64];
	size_t		 kl, wl, dl;

	for (v = hmacvecs; v < hmacvecs + sizeof(hmacvecs) /
	    sizeof(hmacvecs[0]); v++) {
		if (v->key != NULL)
			kl = unhex(v->key, key, sizeof(key));
		else if (v->textkey != NULL) {
			kl = strlen(v->textkey);
			memcpy(key, v->textkey, kl);
		} else {
			kl = v->repeat;
			memset(key, 0xaa, kl);
		}
		wl = unhex(v->mac, want, sizeof(want));
		dl = strlen(v->data);
		ATF_REQUIRE((prf = hash_new(XF_PRF, v->prf)) != NULL);
		ATF_REQUIRE((integ = hash_new(XF_AUTH, v->auth)) != NULL);
		ATF_CHECK_EQ(hash_length(prf), wl);
		ATF_CHECK_EQ(hash_keylength(prf), wl);
		ATF_CHECK_EQ(hash_keylength(integ), wl);
		/* Truncated to half (SHA-1: 96 bits, RFC 2404). */
		ATF_CHECK_EQ(hash_length(integ), v->auth == 2 ? 12 : wl / 2);
		ATF_REQUIRE_EQ(prf_compute(prf, key, kl, v->data, dl, out), 0);
		ATF_CHECK_MSG(memcmp(out, want, wl) == 0, "prf %u", v->prf);
		/* In pieces, twice: the key stays set. */
		ATF_REQUIRE_EQ(hash_init(prf), 0);
		ATF_REQUIRE_EQ(hash_update(prf, v->data, 3), 0);
		ATF_REQUIRE_EQ(hash_update(prf, v->data + 3, dl - 3), 0);
		ATF_REQUIRE_EQ(hash_final(prf, out), 0);
		ATF_CHECK(memcmp(out, want, wl) == 0);
		ATF_REQUIRE_EQ(hash_setkey(integ, key, kl), 0);
		ATF_REQUIRE_EQ(hash_compute(integ, v->data, dl, out), 0);
		ATF_CHECK(memcmp(out, want, hash_length(integ)) == 0);
		ATF_CHECK_EQ(hash_verify(integ, v->data, dl, want), 0);
		want[hash_length(integ) - 1] ^= 0x01;
		ATF_CHECK_EQ(hash_verify(integ, v->data, dl, want), -1);
		hash_free(prf);
		hash_free(integ);
	}
}

/* RFC 2202 §3 test case 5: HMAC-SHA-1-96. */
ATF_TC_WITHOUT_HEAD(hmac_sha1_96);
ATF_TC_BODY(hmac_sha1_96, tc)
{
	struct iked_hash *h;
	uint8_t		 key[20], out[12];

	memset(key, 0x0c, sizeof(key));
	ATF_REQUIRE((h = hash_new(XF_AUTH, 2)) != NULL);
	ATF_REQUIRE_EQ(hash_setkey(h, key, sizeof(key)), 0);
	ATF_REQUIRE_EQ(hash_compute(h, "Test With Truncation", 20, out), 0);
	ATF_CHECK(eqhex(out, 12, "4c1a03424b55e07fe7f27be1"));
	hash_free(h);
}

/*
 * The EVP contexts are shared by the objects of one transform: each
 * computes under its own key whatever the other did in between, and a
 * hash keyed by another since refuses rather than use that key.
 */
ATF_TC_WITHOUT_HEAD(shared_contexts);
ATF_TC_BODY(shared_contexts, tc)
{
	struct iked_cipher *a, *b;
	struct iked_hash *h1, *h2;
	uint8_t		 ka[20], kb[20], iv[8], pt[48], ct[2][48], tag[2][16];
	uint8_t		 out[48], m1[32], m2[32], want[32];
	int		 i;

	memset(ka, 0x11, sizeof(ka));
	memset(kb, 0x22, sizeof(kb));
	memset(iv, 0x33, sizeof(iv));
	memset(pt, 0x44, sizeof(pt));
	ATF_REQUIRE((a = cipher_new(20, 128)) != NULL);
	ATF_REQUIRE((b = cipher_new(20, 128)) != NULL);
	ATF_REQUIRE_EQ(cipher_setkey(a, ka, sizeof(ka)), 0);
	ATF_REQUIRE_EQ(cipher_setkey(b, kb, sizeof(kb)), 0);
	/* Interleaved, in both directions. */
	for (i = 0; i < 2; i++) {
		ATF_REQUIRE_EQ(cipher_encrypt(a, iv, NULL, 0, pt, 48, ct[0],
		    tag[0]), 0);
		ATF_REQUIRE_EQ(cipher_encrypt(b, iv, NULL, 0, pt, 48, ct[1],
		    tag[1]), 0);
		ATF_CHECK(memcmp(ct[0], ct[1], 48) != 0);
		ATF_REQUIRE_EQ(cipher_decrypt(a, iv, NULL, 0, ct[0], 48, out,
		    tag[0]), 0);
		ATF_CHECK(memcmp(out, pt, 48) == 0);
		/* b's key does not open a's message, nor a's b's. */
		ATF_CHECK_EQ(cipher_decrypt(b, iv, NULL, 0, ct[0], 48, out,
		    tag[0]), -1);
		ATF_CHECK_EQ(cipher_decrypt(a, iv, NULL, 0, ct[1], 48, out,
		    tag[1]), -1);
		ATF_REQUIRE_EQ(cipher_decrypt(b, iv, NULL, 0, ct[1], 48, out,
		    tag[1]), 0);
		ATF_CHECK(memcmp(out, pt, 48) == 0);
	}
	/* Freeing the last user wipes the context; the other goes on. */
	cipher_free(b);
	ATF_REQUIRE_EQ(cipher_decrypt(a, iv, NULL, 0, ct[0], 48, out,
	    tag[0]), 0);
	ATF_CHECK(memcmp(out, pt, 48) == 0);
	cipher_free(a);

	ATF_REQUIRE((h1 = hash_new(XF_PRF, 5)) != NULL);
	ATF_REQUIRE((h2 = hash_new(XF_PRF, 5)) != NULL);
	ATF_REQUIRE_EQ(prf_compute(h1, ka, sizeof(ka), pt, 48, want), 0);
	ATF_REQUIRE_EQ(hash_setkey(h1, ka, sizeof(ka)), 0);
	ATF_REQUIRE_EQ(hash_setkey(h2, kb, sizeof(kb)), 0);
	/* h2 keyed the context last: h1 must not compute under kb. */
	ATF_CHECK_EQ(hash_compute(h1, pt, 48, m1), -1);
	ATF_CHECK_EQ(hash_init(h1), -1);
	ATF_REQUIRE_EQ(hash_compute(h2, pt, 48, m2), 0);
	ATF_CHECK(memcmp(m2, want, 32) != 0);
	ATF_REQUIRE_EQ(hash_setkey(h1, ka, sizeof(ka)), 0);
	ATF_REQUIRE_EQ(hash_compute(h1, pt, 48, m1), 0);
	ATF_CHECK(memcmp(m1, want, 32) == 0);
	ATF_CHECK_EQ(hash_compute(h2, pt, 48, m2), -1);
	hash_free(h1);
	ATF_CHECK_EQ(hash_compute(h2, pt, 48, m2), -1);
	hash_free(h2);
}

ATF_TC_WITHOUT_HEAD(hash_unknown);
ATF_TC_BODY(hash_unknown, tc)
{
	struct iked_hash *h;

	ATF_CHECK(hash_new(XF_PRF, 1) == NULL);		/* HMAC-MD5 */
	ATF_CHECK(hash_new(XF_PRF, 12) == NULL);	/* an AUTH ID */
	ATF_CHECK(hash_new(XF_AUTH, 5) == NULL);	/* AES-XCBC-96 */
	ATF_REQUIRE((h = hash_new(XF_AUTH, 12)) != NULL);
	ATF_CHECK_EQ(hash_init(h), -1);			/* no key yet */
	hash_free(h);
}

/* ---- ciphers ---- */

struct ciphervec {
	const char	*name;
	uint16_t	 id, keybits;
	const char	*key;		/* with the salt */
	const char	*iv;
	const char	*aad;
	const char	*plain;
	const char	*cipher;	/* then the tag */
};

/*
 * The ESP packets of draft-mcgrew-gcm-test-01 and RFC 7634 Appendix A cut
 * into RFC 5282's and RFC 7634's IKE terms: aad = SPI | sequence (the IKE
 * header and SK payload header in IKE), IV, ciphertext, tag.
 */
static const struct ciphervec ciphervecs[] = {
	/* RFC 3602 §4 cases 1 and 2. */
	{ "cbc-rfc3602-1", 12, 128, "06a9214036b8a15b512e03d534120006",
	    "3dafba429d9eb430b422da802c9fac41", "",
	    "53696e676c6520626c6f636b206d7367",
	    "e353779c1079aeb82708942dbe77181a" },
	{ "cbc-rfc3602-2", 12, 128, "c286696d887c9aa0611bbb3e2025a45a",
	    "562e17996d093d28ddb3ba695a2e6f58", "",
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	    "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1" },
	/* NIST SP 800-38A F.2.3 and F.2.5, first block. */
	{ "cbc-sp800-38a-192", 12, 192,
	    "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
	    "000102030405060708090a0b0c0d0e0f", "",
	    "6bc1bee22e409f96e93d7e117393172a",
	    "4f021db243bc633d7178183a9fa071e8" },
	{ "cbc-sp800-38a-256", 12, 256,
	    "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
	    "000102030405060708090a0b0c0d0e0f", "",
	    "6bc1bee22e409f96e93d7e117393172a",
	    "f58c4c04d6e5f1ba779eabfb5f7bfbd6" },
	/* 3DES: no published IKE vector; Python's cryptography module. */
	{ "3des", 3, 0,
	    "0123456789abcdef23456789abcdef01456789abcdef0123",
	    "0001020304050607", "",
	    "54686520717569636b2062726f776e20666f78206a756d70",
	    "29b01b011b9ebb6f10308a42938279068782e8bec97fe03f" },
	/* draft-mcgrew-gcm-test-01 §2 cases 2, 3, 4 and 7. */
	{ "gcm-2", 20, 128, "feffe9928665731c6d6a8f9467308308 cafebabe",
	    "facedbaddecaf888", "0000a5f80000000a",
	    "4500003e698f000080114dccc0a80102c0a801010a980035002a2343b2d00100"
	    "0001000000000000037369700963796265726369747902646b00000100010001",
	    "deb22cd9b07c72c16e3a65beeb8df304a5a5897d33ae530f1ba76d5d114d2a5c"
	    "3de81827c10e9a4f51330d0eec416642cfbb85a5b47e48a4ec3b9ba95d918bd1"
	    "83b70d3aa8bc6ee4c309e9d85a41ad4a" },
	{ "gcm-3", 20, 256,
	    "abbccddef00112233445566778899aababbccddef00112233445566778899aab"
	    "11223344", "0102030405060708", "4a2cbfe300000002",
	    "4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee000000000"
	    "7002400020bf0000020405b40101040201020201",
	    "ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763"
	    "748a637985771d347f0545659f14e99def842d8eb335f4eecfdbf831824b4c49"
	    "15956c96" },
	{ "gcm-4", 20, 128, "00000000000000000000000000000000 00000000",
	    "0000000000000000", "0000000000000001",
	    "4500003c99c500008001cb7a40679318010101010800075c0200440061626364"
	    "65666768696a6b6c6d6e6f707172737475767761626364656667686901020201",
	    "4688daf2f973a392732909c331d56d60f694abaa414b5e7ff5fdcdfff5e9a284"
	    "456476492719ffb64de7d9dca1e1d894bc3bd57873ed4d181d19d4d5c8c18af3"
	    "f821d496eeb096e98ad2b69e4799c71d" },
	{ "gcm-7", 20, 192,
	    "feffe9928665731c6d6a8f9467308308feffe9928665731c cafebabe",
	    "facedbaddecaf888", "0000a5f80000000a",
	    "45000028a4ad4000400678800a01038f0a010612802306b8cb712602dd6bb03e"
	    "501016d075680001",
	    "a5b1f8066029aea40e598b8122de02420938b3ab33f828e687b8858b5bfbdbd0"
	    "315b27452144cc7795457b9652037f5318027b5b4cd7a636" },
	/* RFC 7634 Appendix A */
	{ "chacha-rfc7634", 28, 256,
	    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
	    "a0a1a2a3", "1011121314151617", "0102030400000005",
	    "45000054a6f200004001e778c6336405c000020508005b7a3a080000553bec10"
	    "0007362708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223"
	    "2425262728292a2b2c2d2e2f303132333435363701020204",
	    "24039428b97f417e3c13753a4f05087b67c352e6a7fab1b982d466ef407ae5c6"
	    "14ee8099d52844eb61aa95dfab4c02f72aa71e7c4c4f64c9befe2facc638e8f3"
	    "cbec163fac469b502773f6fb94e664da9165b82829f641e0"
	    "76aaa8266b7fb0f7b11b369907e1ad43" },
};

ATF_TC_WITHOUT_HEAD(cipher_vectors);
ATF_TC_BODY(cipher_vectors, tc)
{
	const struct ciphervec *v;
	struct iked_cipher *c;
	uint8_t		 key[40], iv[16], aad[16], pt[256], ct[256];
	uint8_t		 out[256], tag[16];
	size_t		 kl, ivl, al, pl, cl, tl;

	for (v = ciphervecs; v < ciphervecs + sizeof(ciphervecs) /
	    sizeof(ciphervecs[0]); v++) {
		kl = unhex(v->key, key, sizeof(key));
		ivl = unhex(v->iv, iv, sizeof(iv));
		al = unhex(v->aad, aad, sizeof(aad));
		pl = unhex(v->plain, pt, sizeof(pt));
		cl = unhex(v->cipher, ct, sizeof(ct));
		ATF_REQUIRE_MSG((c = cipher_new(v->id, v->keybits)) != NULL,
		    "%s", v->name);
		tl = cipher_taglength(c);
		ATF_REQUIRE_EQ(cl, pl + tl);
		ATF_CHECK_EQ(cipher_keylength(c), kl);
		ATF_CHECK_EQ(cipher_ivlength(c), ivl);
		ATF_REQUIRE_EQ(cipher_setkey(c, key, kl), 0);
		ATF_REQUIRE_EQ(cipher_encrypt(c, iv, aad, al, pt, pl, out, tag),
		    0);
		ATF_CHECK_MSG(memcmp(out, ct, pl) == 0, "%s: ciphertext",
		    v->name);
		ATF_CHECK_MSG(tl == 0 || memcmp(tag, ct + pl, tl) == 0,
		    "%s: tag", v->name);
		memset(out, 0, sizeof(out));
		ATF_REQUIRE_MSG(cipher_decrypt(c, iv, aad, al, ct, pl, out,
		    ct + pl) == 0, "%s: decrypt", v->name);
		ATF_CHECK_MSG(memcmp(out, pt, pl) == 0, "%s: plaintext",
		    v->name);
		/* In place. */
		memcpy(out, ct, pl);
		ATF_REQUIRE_EQ(cipher_decrypt(c, iv, aad, al, out, pl, out,
		    ct + pl), 0);
		ATF_CHECK(memcmp(out, pt, pl) == 0);
		if (tl != 0) {
			/* A flipped tag, ciphertext bit or aad bit: refused. */
			ct[pl + tl - 1] ^= 0x80;
			ATF_CHECK_EQ(cipher_decrypt(c, iv, aad, al, ct, pl, out,
			    ct + pl), -1);
			ct[pl + tl - 1] ^= 0x80;
			ct[0] ^= 0x01;
			ATF_CHECK_EQ(cipher_decrypt(c, iv, aad, al, ct, pl, out,
			    ct + pl), -1);
			ct[0] ^= 0x01;
			aad[al - 1] ^= 0x01;
			ATF_CHECK_EQ(cipher_decrypt(c, iv, aad, al, ct, pl, out,
			    ct + pl), -1);
			aad[al - 1] ^= 0x01;
			/* And then the genuine one still passes. */
			ATF_CHECK_EQ(cipher_decrypt(c, iv, aad, al, ct, pl, out,
			    ct + pl), 0);
		} else {
			/* CBC: whole blocks only, no aad. */
			ATF_CHECK_EQ(cipher_encrypt(c, iv, NULL, 0, pt, pl - 1,
			    out, NULL), -1);
			ATF_CHECK_EQ(cipher_encrypt(c, iv, aad, 1, pt, pl,
			    out, NULL), -1);
		}
		cipher_free(c);
	}
}

/*
 * IKEv1's CBC chaining (RFC 2409 Appendix B): the next message's IV is
 * the last ciphertext block of the previous one, so two messages
 * encrypted in turn equal one CBC run over both.
 */
ATF_TC_WITHOUT_HEAD(cipher_chain);
ATF_TC_BODY(cipher_chain, tc)
{
	struct iked_cipher *c;
	uint8_t		 key[32], iv[16], pt[64], whole[64], parts[64];
	size_t		 bl;

	memset(key, 0x5a, sizeof(key));
	memset(iv, 0xa5, sizeof(iv));
	memset(pt, 0x11, sizeof(pt));
	ATF_REQUIRE((c = cipher_new(12, 256)) != NULL);
	bl = cipher_blocklength(c);
	ATF_CHECK_EQ(bl, 16);
	ATF_REQUIRE_EQ(cipher_setkey(c, key, 32), 0);
	ATF_REQUIRE_EQ(cipher_encrypt(c, iv, NULL, 0, pt, 64, whole, NULL), 0);
	ATF_REQUIRE_EQ(cipher_encrypt(c, iv, NULL, 0, pt, 32, parts, NULL), 0);
	ATF_REQUIRE_EQ(cipher_encrypt(c, parts + 32 - bl, NULL, 0, pt + 32, 32,
	    parts + 32, NULL), 0);
	ATF_CHECK(memcmp(whole, parts, 64) == 0);
	ATF_REQUIRE_EQ(cipher_decrypt(c, whole + 32 - bl, NULL, 0, whole + 32,
	    32, parts, NULL), 0);
	ATF_CHECK(memcmp(parts, pt + 32, 32) == 0);
	cipher_free(c);
}

ATF_TC_WITHOUT_HEAD(cipher_params);
ATF_TC_BODY(cipher_params, tc)
{
	static const struct {
		uint16_t id, bits;
		size_t	 keylen, ivlen, block, tag;
	} p[] = {
		{ 3, 0, 24, 8, 8, 0 },
		{ 12, 0, 16, 16, 16, 0 },
		{ 12, 192, 24, 16, 16, 0 },
		{ 12, 256, 32, 16, 16, 0 },
		{ 20, 128, 20, 8, 1, 16 },
		{ 20, 192, 28, 8, 1, 16 },
		{ 20, 256, 36, 8, 1, 16 },
		{ 28, 0, 36, 8, 1, 16 },
	};
	struct iked_cipher *c;
	uint8_t		 key[36];
	size_t		 i;

	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		ATF_REQUIRE((c = cipher_new(p[i].id, p[i].bits)) != NULL);
		ATF_CHECK_EQ(cipher_keylength(c), p[i].keylen);
		ATF_CHECK_EQ(cipher_ivlength(c), p[i].ivlen);
		ATF_CHECK_EQ(cipher_blocklength(c), p[i].block);
		ATF_CHECK_EQ(cipher_taglength(c), p[i].tag);
		memset(key, 0, sizeof(key));
		ATF_CHECK_EQ(cipher_setkey(c, key, p[i].keylen - 1), -1);
		ATF_CHECK_EQ(cipher_encrypt(c, key, NULL, 0, key, 16, key,
		    key), -1);				/* no key yet */
		cipher_free(c);
	}
	ATF_CHECK(cipher_new(12, 64) == NULL);
	ATF_CHECK(cipher_new(2, 0) == NULL);		/* DES */
	ATF_CHECK(cipher_new(28, 128) == NULL);
}

/* ---- key derivation ---- */

/*
 * Expected values computed at test-writing time with Python's hmac and
 * hashlib, following RFC 7296 §2.13/§2.14/§2.17/§2.18 and RFC 2409 §5,
 * §5.5 and Appendix B literally.  Inputs:
 *	prf+: key 00..1f, seed "prf+ seed for iked"; SHA-1 with key "key".
 *	IKEv2: Ni = 10..2f, Nr = 30..4f, g^ir = a0..df, SPIi 0102..08,
 *	    SPIr 1112..18, PRF HMAC-SHA2-256.
 *	IKEv1: psk "ikev1 pre-shared key", Ni_b = 40..4f, Nr_b = 50..6f,
 *	    g^xy[i] = 7i + 3, CKY-I a1..a8, CKY-R b1..b8; g^xi = 00..7f,
 *	    g^xr = 80..ff; last block 0011..ff, M-ID deadbeef; ESP SPI
 *	    c0ffee01.
 */
#define PRFPLUS_SHA256 \
	"6b43be3c966b120032e523d1d164a678ec6a1520fdbeeda95a5a5050eb7536c3" \
	"1a1ad4c8f8fb4ecef9afdbff5f26b5ecb7e82dfa1bab7829705867b48afc6651" \
	"ca33252fa432b2f3401db973f03767ee250fcbececa8ab6219d64bdb32b56045" \
	"33fd46f034087e41c301a4de439ad47436374d6c3bd729ff97fe8d47575a0098" \
	"8749e9b9f37d6474872f2531a13ab19cc258df11ec6c11e0056b431bcff6a289" \
	"6c24555f42009d6a20b5f82c3bb1ff439b1cf1c40154a535716da44cae37c1f9" \
	"278d02567cb9cf40"

#define PRFPLUS_SHA1 \
	"da83d05fba2561681af781fef63f6eae9c736bedadad7c2c79da97b4e262bc52" \
	"1d51eb53872156721052ce65e76f6cbef28e"

#define SKEYSEED \
	"b08b0fb340d75c251fbf32fc913fb1eefb92e9fc547ae4cd4e522395889a74de"

#define SAKEYS_CBC \
	"2ad7c5e116eb22801df5aff1569f1c7b4f35feef53eee929905beb3b05bf329d" \
	"09c7542140b367cf6b7e3d53b860cb24e5980bce7356a032a4e512e6b06ca6b8" \
	"f245c61721f091f68d27a30a7b3df8cedc42402c58624496174868a904bf0dd7" \
	"d9eb328d98da72a57a8c0f5812cefab68ee6f980e83c56ba2368b169d6f5f8b5" \
	"1b560f72a3aaa9c01ec3a1bd9758acd0639f044adfa99537c6d105b261a2a1f6" \
	"33fb49ebd3fb6e7f9c489667c02a92035daf507a1e095b7b938399ffc0c309f9"

#define SAKEYS_GCM \
	"2ad7c5e116eb22801df5aff1569f1c7b4f35feef53eee929905beb3b05bf329d" \
	"09c7542140b367cf6b7e3d53b860cb24e5980bce7356a032a4e512e6b06ca6b8" \
	"f245c61721f091f68d27a30a7b3df8cedc42402c58624496174868a904bf0dd7" \
	"d9eb328d98da72a57a8c0f5812cefab68ee6f980e83c56ba2368b169d6f5f8b5" \
	"1b560f72a3aaa9c01ec3a1bd9758acd0639f044adfa99537c6d105b261a2a1f6" \
	"33fb49ebd3fb6e7f"

#define SKEYSEED_REKEY \
	"bcae2b136b583adcc682b52c451de9f71553b0b482db2221cc2842aa4b6460f4"

#define CHILD_GCM \
	"88385e69340955e4e084e7219224d84619aea0d4757e9582ab133bd50745568a" \
	"a9bde9b9de28ca0e104a48fd5811056784a81179e73b1a89457ee53ea377ad44" \
	"ac5f6f855f46bb62"

#define CHILD_CBC_PFS \
	"b46532a73f966880a4c92947d62086e10d89cfeaa0622e129c5dda3f7c0269f3" \
	"6fd687001a250f1e7f387a1a7602b1f817e3af7c4dc2f9c9b9bc54e9773d52ec" \
	"49c5cb0665517a36211168f81a12ad78e575712abaf61c01d746fb48f80e91a6"

#define V1_SHA1_AES256_SKEYID \
	"948c97b0a090990d73fae052c7abbe92a76739ff"

#define V1_SHA1_AES256_D \
	"a52bb4e823a829c986e5c31d12361fad5e012ab1"

#define V1_SHA1_AES256_A \
	"b3754559ceee7283305a9e4e018c54bbf74d9f5f"

#define V1_SHA1_AES256_E \
	"ff241ded2e31a9a3a19337bff3367fd4623c4029"

#define V1_SHA1_AES256_ENC \
	"18360f469bea0f0b9ad330de92e4c01020beb7b3f6aeb1e37067c8113415cbac"

#define V1_SHA256_3DES_SKEYID \
	"e3102045897eeb91da00efb437dee34e08044c65c7a0a03f1f3ad0d0d2435456"

#define V1_SHA256_3DES_D \
	"94809a7effdae5bc316b41b183b9bd23b46945cd7705440ffc9a58432145bab9"

#define V1_SHA256_3DES_A \
	"4d81b7f5dfc0adefb9c2e616be4e129d55cfc5b09560666eb748ffded3ca09ae"

#define V1_SHA256_3DES_E \
	"20abff41d0cbb146bc0bca68c01a19ab10e8f77bd5d179fc725332af49af7d1e"

#define V1_SHA256_3DES_ENC \
	"20abff41d0cbb146bc0bca68c01a19ab10e8f77bd5d179fc"

#define V1_IV1 \
	"4916d6bdb7f78e6803698cab32d1586e"

#define V1_IV2 \
	"70dd5133f96ae91253b47ff4ee9b6ad8"

#define V1_KEYMAT \
	"3ddfff888ea1dda31853f841008fca6ee5e98844936d8d5cddf3d9e6e9743735" \
	"fbc714fc"

#define V1_KEYMAT_PFS \
	"04af785c4f3a95ea668a25d94c5991b3b50796259836df050ad4dfb1f2fa5d24" \
	"efe645682ffdb46c6a5418fe0e5384a76df07980"

#define V1_SHA1_AES128_ENC \
	"ff241ded2e31a9a3a19337bff3367fd4"

static void
seq(uint8_t *p, size_t len, unsigned first)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(first + i);
}

ATF_TC_WITHOUT_HEAD(prfplus);
ATF_TC_BODY(prfplus, tc)
{
	static const char seed[] = "prf+ seed for iked";
	struct iked_hash *prf;
	uint8_t		 key[32], out[255 * 20 + 1];

	seq(key, sizeof(key), 0);
	ATF_REQUIRE((prf = hash_new(XF_PRF, 5)) != NULL);
	ATF_REQUIRE_EQ(prfplus(prf, key, 32, seed, strlen(seed), out, 200), 0);
	ATF_CHECK(eqhex(out, 200, PRFPLUS_SHA256));
	/* A prefix is the same bytes. */
	ATF_REQUIRE_EQ(prfplus(prf, key, 32, seed, strlen(seed), out, 33), 0);
	ATF_CHECK(eqhex(out, 33, "6b43be3c966b120032e523d1d164a678"
	    "ec6a1520fdbeeda95a5a5050eb7536c31a"));
	hash_free(prf);
	ATF_REQUIRE((prf = hash_new(XF_PRF, 2)) != NULL);
	ATF_REQUIRE_EQ(prfplus(prf, "key", 3, seed, strlen(seed), out, 50), 0);
	ATF_CHECK(eqhex(out, 50, PRFPLUS_SHA1));
	/* 255 blocks at most (RFC 7296 §2.13). */
	ATF_CHECK_EQ(prfplus(prf, "key", 3, seed, 1, out, 255 * 20), 0);
	ATF_CHECK_EQ(prfplus(prf, "key", 3, seed, 1, out, 255 * 20 + 1), -1);
	hash_free(prf);
}

ATF_TC_WITHOUT_HEAD(ikev2_keys);
ATF_TC_BODY(ikev2_keys, tc)
{
	static const uint8_t spii[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t spir[8] = {
	    0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18 };
	struct iked_hash *prf;
	struct iked_sakeys sk;
	struct iked_childkeys ck;
	uint8_t		 ni[32], nr[32], gir[64], skeyseed[32], all[512];
	size_t		 len;

	seq(ni, 32, 0x10);
	seq(nr, 32, 0x30);
	seq(gir, 64, 0xa0);
	ATF_REQUIRE((prf = hash_new(XF_PRF, 5)) != NULL);
	ATF_REQUIRE_EQ(kdf_ikev2_skeyseed(prf, NULL, 0, gir, 64, ni, 32, nr,
	    32, skeyseed), 0);
	ATF_CHECK(eqhex(skeyseed, 32, SKEYSEED));

	/* AES-CBC-128 with HMAC-SHA2-256-128. */
	ATF_REQUIRE_EQ(kdf_ikev2_sa(prf, skeyseed, ni, 32, nr, 32, spii, spir,
	    32, 16, &sk), 0);
	len = unhex(SAKEYS_CBC, all, sizeof(all));
	ATF_REQUIRE_EQ(sk.sk_len, len);
	ATF_CHECK(memcmp(sk.sk_d, all, 32) == 0);
	ATF_CHECK(memcmp(sk.sk_ai, all + 32, 32) == 0);
	ATF_CHECK(memcmp(sk.sk_ar, all + 64, 32) == 0);
	ATF_CHECK(memcmp(sk.sk_ei, all + 96, 16) == 0);
	ATF_CHECK(memcmp(sk.sk_er, all + 112, 16) == 0);
	ATF_CHECK(memcmp(sk.sk_pi, all + 128, 32) == 0);
	ATF_CHECK(memcmp(sk.sk_pr, all + 160, 32) == 0);
	ATF_CHECK_EQ(sk.sk_prflen, 32);
	ATF_CHECK_EQ(sk.sk_integlen, 32);
	ATF_CHECK_EQ(sk.sk_enclen, 16);

	/* IKE SA rekey (§2.18) from this SA's SK_d. */
	ATF_REQUIRE_EQ(kdf_ikev2_skeyseed(prf, sk.sk_d, 32, gir, 64, ni, 32,
	    nr, 32, skeyseed), 0);
	ATF_CHECK(eqhex(skeyseed, 32, SKEYSEED_REKEY));

	/* Child SAs: AES-GCM-256 (36 bytes with salt), no PFS. */
	ATF_REQUIRE_EQ(kdf_ikev2_child(prf, sk.sk_d, 32, NULL, 0, ni, 32, nr,
	    32, 36, 0, &ck), 0);
	len = unhex(CHILD_GCM, all, sizeof(all));
	ATF_REQUIRE_EQ(ck.ck_len, len);
	ATF_CHECK(memcmp(ck.ck_ei, all, 36) == 0);
	ATF_CHECK(memcmp(ck.ck_er, all + 36, 36) == 0);
	ATF_CHECK_EQ(ck.ck_integlen, 0);
	kdf_childkeys_free(&ck);
	ATF_CHECK(ck.ck_buf == NULL);
	/* AES-CBC-128 + HMAC-SHA2-256 with PFS: ei, ai, er, ar. */
	ATF_REQUIRE_EQ(kdf_ikev2_child(prf, sk.sk_d, 32, gir, 64, ni, 32, nr,
	    32, 16, 32, &ck), 0);
	len = unhex(CHILD_CBC_PFS, all, sizeof(all));
	ATF_REQUIRE_EQ(ck.ck_len, len);
	ATF_CHECK(memcmp(ck.ck_ei, all, 16) == 0);
	ATF_CHECK(memcmp(ck.ck_ai, all + 16, 32) == 0);
	ATF_CHECK(memcmp(ck.ck_er, all + 48, 16) == 0);
	ATF_CHECK(memcmp(ck.ck_ar, all + 64, 32) == 0);
	kdf_childkeys_free(&ck);
	kdf_sakeys_free(&sk);
	ATF_CHECK(sk.sk_buf == NULL && sk.sk_d == NULL);

	/* AES-GCM-256 IKE SA: no integrity keys, 36-byte SK_e. */
	ATF_REQUIRE_EQ(kdf_ikev2_skeyseed(prf, NULL, 0, gir, 64, ni, 32, nr,
	    32, skeyseed), 0);
	ATF_REQUIRE_EQ(kdf_ikev2_sa(prf, skeyseed, ni, 32, nr, 32, spii, spir,
	    0, 36, &sk), 0);
	len = unhex(SAKEYS_GCM, all, sizeof(all));
	ATF_REQUIRE_EQ(sk.sk_len, len);
	ATF_CHECK(memcmp(sk.sk_d, all, 32) == 0);
	ATF_CHECK(sk.sk_ai == sk.sk_ei && sk.sk_ar == sk.sk_ei);
	ATF_CHECK(memcmp(sk.sk_ei, all + 32, 36) == 0);
	ATF_CHECK(memcmp(sk.sk_er, all + 68, 36) == 0);
	ATF_CHECK(memcmp(sk.sk_pi, all + 104, 32) == 0);
	ATF_CHECK(memcmp(sk.sk_pr, all + 136, 32) == 0);
	kdf_sakeys_free(&sk);
	hash_free(prf);
}

static void
v1inputs(uint8_t *ni, uint8_t *nr, uint8_t *gxy, uint8_t *ckyi,
    uint8_t *ckyr)
{
	size_t i;

	seq(ni, 16, 0x40);
	seq(nr, 32, 0x50);
	for (i = 0; i < 128; i++)
		gxy[i] = (uint8_t)(i * 7 + 3);
	seq(ckyi, 8, 0xa1);
	seq(ckyr, 8, 0xb1);
}

ATF_TC_WITHOUT_HEAD(ikev1_keys);
ATF_TC_BODY(ikev1_keys, tc)
{
	static const char psk[] = "ikev1 pre-shared key";
	struct iked_hash *prf;
	struct iked_v1keys k;
	uint8_t		 ni[16], nr[32], gxy[128], ckyi[8], ckyr[8];

	v1inputs(ni, nr, gxy, ckyi, ckyr);

	/* SHA-1 with AES-256: SKEYID_e is short, Appendix B expands it. */
	ATF_REQUIRE((prf = hash_new(XF_PRF, 2)) != NULL);
	ATF_REQUIRE_EQ(kdf_ikev1_phase1(prf, (const uint8_t *)psk,
	    strlen(psk), ni, 16, nr, 32, gxy, 128, ckyi, ckyr, 32, &k), 0);
	ATF_CHECK_EQ(k.v1_prflen, 20);
	ATF_CHECK(eqhex(k.v1_skeyid, 20, V1_SHA1_AES256_SKEYID));
	ATF_CHECK(eqhex(k.v1_d, 20, V1_SHA1_AES256_D));
	ATF_CHECK(eqhex(k.v1_a, 20, V1_SHA1_AES256_A));
	ATF_CHECK(eqhex(k.v1_e, 20, V1_SHA1_AES256_E));
	ATF_CHECK_EQ(k.v1_enclen, 32);
	ATF_CHECK(eqhex(k.v1_enc, 32, V1_SHA1_AES256_ENC));
	kdf_v1keys_free(&k);
	/* SHA-1 with AES-128: the first bytes of SKEYID_e. */
	ATF_REQUIRE_EQ(kdf_ikev1_phase1(prf, (const uint8_t *)psk,
	    strlen(psk), ni, 16, nr, 32, gxy, 128, ckyi, ckyr, 16, &k), 0);
	ATF_CHECK(eqhex(k.v1_enc, 16, V1_SHA1_AES128_ENC));
	kdf_v1keys_free(&k);
	ATF_CHECK(k.v1_buf == NULL);
	hash_free(prf);

	/* SHA2-256 with 3DES. */
	ATF_REQUIRE((prf = hash_new(XF_PRF, 5)) != NULL);
	ATF_REQUIRE_EQ(kdf_ikev1_phase1(prf, (const uint8_t *)psk,
	    strlen(psk), ni, 16, nr, 32, gxy, 128, ckyi, ckyr, 24, &k), 0);
	ATF_CHECK(eqhex(k.v1_skeyid, 32, V1_SHA256_3DES_SKEYID));
	ATF_CHECK(eqhex(k.v1_d, 32, V1_SHA256_3DES_D));
	ATF_CHECK(eqhex(k.v1_a, 32, V1_SHA256_3DES_A));
	ATF_CHECK(eqhex(k.v1_e, 32, V1_SHA256_3DES_E));
	ATF_CHECK(eqhex(k.v1_enc, 24, V1_SHA256_3DES_ENC));
	kdf_v1keys_free(&k);
	hash_free(prf);
}

ATF_TC_WITHOUT_HEAD(ikev1_iv_keymat);
ATF_TC_BODY(ikev1_iv_keymat, tc)
{
	static const char psk[] = "ikev1 pre-shared key";
	static const uint8_t mid[4] = { 0xde, 0xad, 0xbe, 0xef };
	static const uint8_t spi[4] = { 0xc0, 0xff, 0xee, 0x01 };
	struct iked_hash *prf;
	struct iked_v1keys k;
	uint8_t		 ni[16], nr[32], gxy[128], ckyi[8], ckyr[8];
	uint8_t		 gxi[128], gxr[128], last[16], iv[16], km[52];
	size_t		 i;

	v1inputs(ni, nr, gxy, ckyi, ckyr);
	seq(gxi, 128, 0);
	seq(gxr, 128, 128);
	for (i = 0; i < 16; i++)
		last[i] = (uint8_t)(i * 0x11);
	ATF_REQUIRE((prf = hash_new(XF_PRF, 2)) != NULL);
	ATF_REQUIRE_EQ(kdf_ikev1_iv(prf, gxi, 128, gxr, 128, iv, 16), 0);
	ATF_CHECK(eqhex(iv, 16, V1_IV1));
	ATF_REQUIRE_EQ(kdf_ikev1_iv(prf, last, 16, mid, 4, iv, 16), 0);
	ATF_CHECK(eqhex(iv, 16, V1_IV2));
	ATF_CHECK_EQ(kdf_ikev1_iv(prf, last, 16, mid, 4, iv, 21), -1);

	ATF_REQUIRE_EQ(kdf_ikev1_phase1(prf, (const uint8_t *)psk,
	    strlen(psk), ni, 16, nr, 32, gxy, 128, ckyi, ckyr, 16, &k), 0);
	/* ESP AES-128 + HMAC-SHA1: 36 bytes, K1 | K2. */
	ATF_REQUIRE_EQ(kdf_ikev1_keymat(prf, k.v1_d, 20, NULL, 0, 3, spi,
	    ni, 16, nr, 32, km, 36), 0);
	ATF_CHECK(eqhex(km, 36, V1_KEYMAT));
	/* With PFS, three blocks. */
	ATF_REQUIRE_EQ(kdf_ikev1_keymat(prf, k.v1_d, 20, gxy, 128, 3, spi,
	    ni, 16, nr, 32, km, 52), 0);
	ATF_CHECK(eqhex(km, 52, V1_KEYMAT_PFS));
	kdf_v1keys_free(&k);
	hash_free(prf);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, hmac);
	ATF_TP_ADD_TC(tp, hmac_sha1_96);
	ATF_TP_ADD_TC(tp, shared_contexts);
	ATF_TP_ADD_TC(tp, hash_unknown);
	ATF_TP_ADD_TC(tp, cipher_vectors);
	ATF_TP_ADD_TC(tp, cipher_chain);
	ATF_TP_ADD_TC(tp, cipher_params);
	ATF_TP_ADD_TC(tp, prfplus);
	ATF_TP_ADD_TC(tp, ikev2_keys);
	ATF_TP_ADD_TC(tp, ikev1_keys);
	ATF_TP_ADD_TC(tp, ikev1_iv_keymat);
	return (atf_no_error());
}
