/*
 * The ESP transform (sys/netipsec/xform_esp.c) and its crypto(9) host
 * (sys/ukern/ukern_crypto.c): published vectors (HMAC RFC 2202/4231,
 * AES-CTR RFC 3686, AES-CBC ESP RFC 3602, AES-GCM ESP
 * draft-mcgrew-gcm-test-01, ChaCha20-Poly1305 ESP RFC 7634), round trips
 * for every transform and key size, tampering, padding, sequence-number
 * wrap and ESN.  Kernel code, built with -D_KERNEL.
 */
#include <atf-c.h>

#include <ukern/ukern.h>

#include <net/pfkeyv2.h>
#include <netipsec/keydb.h>
#include <netipsec/esp.h>
#include <netipsec/ipsec_replay.h>

#include "../lib/mchain.h"

MALLOC_DEFINE(M_TEST, "test", "esp test");

static size_t
unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n;
	int hi, c, v;

	n = 0;
	hi = -1;
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

static struct seckey *
mkkey(const uint8_t *k, size_t len)
{
	struct seckey *key;

	if (len == 0)
		return (NULL);
	key = malloc(sizeof(*key), M_TEST, M_WAITOK | M_ZERO);
	key->bits = (uint16_t)(len * 8);
	key->key_data = malloc(len, M_TEST, M_WAITOK);
	memcpy(key->key_data, k, len);
	return (key);
}

/* An SA as the key engine leaves it after ADD (GCM's auth alg set). */
static struct secasvar *
mksav(uint8_t ealg, const uint8_t *ek, size_t eklen, uint8_t aalg,
    const uint8_t *ak, size_t aklen, uint32_t flags, u_int wpackets,
    uint32_t spi)
{
	struct secasvar *sav;

	sav = malloc(sizeof(*sav), M_TEST, M_WAITOK | M_ZERO);
	sav->alg_enc = ealg;
	sav->alg_auth = aalg;
	sav->key_enc = mkkey(ek, eklen);
	sav->key_auth = mkkey(ak, aklen);
	sav->flags = flags;
	sav->spi = htonl(spi);
	sav->replay = malloc(sizeof(*sav->replay), M_TEST, M_WAITOK | M_ZERO);
	sav->replay->wsize = wpackets / 8;
	if (ealg == SADB_X_EALG_AESGCM16)
		sav->alg_auth = SADB_X_AALG_AES128GMAC;
	else if (ealg == SADB_X_EALG_CHACHA20POLY1305)
		sav->alg_auth = SADB_X_AALG_CHACHA20POLY1305;
	return (sav);
}

static void
freekey(struct seckey *k)
{

	if (k == NULL)
		return;
	zfree(k->key_data, M_TEST);
	zfree(k, M_TEST);
}

static void
freesav(struct secasvar *sav)
{

	esp_zeroize(sav);
	freekey(sav->key_enc);
	freekey(sav->key_auth);
	free(sav->replay, M_TEST);
	free(sav, M_TEST);
}

static struct mbuf *
mkm(const uint8_t *p, size_t len)
{
	struct mbuf *m;

	m = m_get2((int)len, M_WAITOK, MT_DATA, M_PKTHDR);
	ATF_REQUIRE(m != NULL);
	ATF_REQUIRE(m_append(m, (int)len, p));
	return (m);
}

static struct espstat st0;

static uint64_t
statdiff(size_t off)
{
	struct espstat st;

	esp_getstat(&st);
	return (*(uint64_t *)(void *)((char *)&st + off) -
	    *(uint64_t *)(void *)((char *)&st0 + off));
}
#define	STAT(name)	statdiff(offsetof(struct espstat, name))
#define	STAT_RESET()	esp_getstat(&st0)

/* ---- crypto(9) vectors ---- */

static void
hmac_vec(int aalg, const char *key, const char *data, const char *mac)
{
	struct ukern_crypto_session *cs;
	uint8_t k[256], d[256], want[64], got[UKERN_CRYPTO_HMAC_MAX];
	size_t kl, dl, wl;

	kl = unhex(key, k, sizeof(k));
	dl = unhex(data, d, sizeof(d));
	wl = unhex(mac, want, sizeof(want));
	ATF_REQUIRE_EQ(ukern_crypto_newsession(&cs, UKERN_CRYPT_NULL, NULL, 0,
	    aalg, k, kl), 0);
	ATF_REQUIRE_EQ(ukern_crypto_hmac_len(aalg), wl);
	/* Twice, split differently: the session restarts from its key. */
	ATF_REQUIRE_EQ(ukern_crypto_hmac(cs, d, dl, NULL, 0, got), 0);
	ATF_CHECK_MSG(memcmp(got, want, wl) == 0, "hmac %d key %s", aalg, key);
	ATF_REQUIRE_EQ(ukern_crypto_hmac(cs, d, dl / 2, d + dl / 2,
	    dl - dl / 2, got), 0);
	ATF_CHECK_MSG(memcmp(got, want, wl) == 0, "hmac %d split", aalg);
	ukern_crypto_freesession(cs);
}

#define	HI_THERE	"4869205468657265"
#define	JEFE		"4a656665"
#define	WANT_NOTHING	"7768617420646f2079612077616e7420666f72206e6f7468696e673f"
#define	K0B20		"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"

ATF_TC_WITHOUT_HEAD(hmac_vectors);
ATF_TC_BODY(hmac_vectors, tc)
{

	/* RFC 2202 §3, test cases 1 and 2. */
	hmac_vec(UKERN_AUTH_HMAC_SHA1, K0B20, HI_THERE,
	    "b617318655057264e28bc0b6fb378c8ef146be00");
	hmac_vec(UKERN_AUTH_HMAC_SHA1, JEFE, WANT_NOTHING,
	    "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
	/* RFC 4231 §4.2 and §4.3. */
	hmac_vec(UKERN_AUTH_HMAC_SHA2_256, K0B20, HI_THERE,
	    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	hmac_vec(UKERN_AUTH_HMAC_SHA2_384, K0B20, HI_THERE,
	    "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
	    "faea9ea9076ede7f4af152e8b2fa9cb6");
	hmac_vec(UKERN_AUTH_HMAC_SHA2_512, K0B20, HI_THERE,
	    "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
	    "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854");
	hmac_vec(UKERN_AUTH_HMAC_SHA2_256, JEFE, WANT_NOTHING,
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	hmac_vec(UKERN_AUTH_HMAC_SHA2_384, JEFE, WANT_NOTHING,
	    "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
	    "8e2240ca5e69e2c78b3239ecfab21649");
	hmac_vec(UKERN_AUTH_HMAC_SHA2_512, JEFE, WANT_NOTHING,
	    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
	    "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
}

static void
ctr_vec(const char *key, const char *nonce, const char *iv, const char *pt,
    const char *ct)
{
	struct ukern_crypto_session *cs;
	uint8_t k[40], v[8], p[64], c[64];
	size_t kl, pl, cl;

	kl = unhex(key, k, sizeof(k));
	kl += unhex(nonce, k + kl, sizeof(k) - kl);
	unhex(iv, v, sizeof(v));
	pl = unhex(pt, p, sizeof(p));
	cl = unhex(ct, c, sizeof(c));
	ATF_REQUIRE_EQ(pl, cl);
	ATF_REQUIRE_EQ(ukern_crypto_newsession(&cs, UKERN_CRYPT_AES_CTR, k, kl,
	    UKERN_AUTH_NONE, NULL, 0), 0);
	ATF_REQUIRE_EQ(ukern_crypto_encrypt(cs, v, p, pl), 0);
	ATF_CHECK_MSG(memcmp(p, c, cl) == 0, "ctr key %s", key);
	ATF_REQUIRE_EQ(ukern_crypto_decrypt(cs, v, p, pl), 0);
	unhex(pt, c, sizeof(c));
	ATF_CHECK(memcmp(p, c, pl) == 0);
	ukern_crypto_freesession(cs);
}

/* RFC 3686 §6, test vectors 1, 2, 3, 4 and 7. */
ATF_TC_WITHOUT_HEAD(ctr_vectors);
ATF_TC_BODY(ctr_vectors, tc)
{

	ctr_vec("ae6852f8121067cc4bf7a5765577f39e", "00000030",
	    "0000000000000000", "53696e676c6520626c6f636b206d7367",
	    "e4095d4fb7a7b3792d6175a3261311b8");
	ctr_vec("7e24067817fae0d743d6ce1f32539163", "006cb6db",
	    "c0543b59da48d90b",
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	    "5104a106168a72d9790d41ee8edad388eb2e1efc46da57c8fce630df9141be28");
	ctr_vec("7691be035e5020a8ac6e618529f9a0dc", "00e0017b",
	    "27777f3f4a1786f0",
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	    "20212223",
	    "c1cf48a89f2ffdd9cf4652e9efdb72d74540a42bde6d7836d59a5ceaaef31053"
	    "25b2072f");
	ctr_vec("16af5b145fc9f579c175f93e3bfb0eed863d06ccfdb78515", "00000048",
	    "36733c147d6d93cb", "53696e676c6520626c6f636b206d7367",
	    "4b55384fe259c9c84e7935a003cbe928");
	ctr_vec("776beff2851db06f4c8a0542c8696f6c6a81af1eec96b4d37fc1d689e6c1c104",
	    "00000060", "db5672c97aa8f0b2", "53696e676c6520626c6f636b206d7367",
	    "145ad01dbf824ec7560863dc71e3e0c0");
}

/* ---- ESP vectors: decapsulated by esp_input(), and sealed ---- */

struct espvec {
	const char	*name;
	uint8_t		 ealg;
	const char	*key;		/* with salt/nonce */
	uint64_t	 seq;		/* 64 bits if ESN */
	int		 esn;
	const char	*iv;
	const char	*plain;		/* payload, padding, pad length, nh */
	const char	*packet;	/* SPI, seq, IV, ciphertext, ICV */
};

/*
 * draft-mcgrew-gcm-test-01 (AES-GCM-16; the key ends with the 4-byte
 * salt), RFC 7634 Appendix A (ChaCha20-Poly1305), RFC 3602 §4 cases 5-8
 * (AES-CBC, no authenticator).
 */
static const struct espvec espvecs[] = {
	{ "gcm-1", SADB_X_EALG_AESGCM16,
	    "4c80cdefbb5d10da906ac73c3613a634 2e443b68",
	    0x8765432100000000ULL, 1, "4956ed7e3b244cfe",
	    "45000048699a000080114db7c0a80102c0a801010a9bf15638d3010000010000"
	    "00000000045f736970045f756470037369700963796265726369747902646b00"
	    "0021000101020201",
	    "00004321000000004956ed7e3b244cfe"
	    "fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34"
	    "cfa2436f14a3f3cf65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce"
	    "61bc17d768fd9732459018148f6cbe722fd04796562dfdb4" },
	{ "gcm-2", SADB_X_EALG_AESGCM16,
	    "feffe9928665731c6d6a8f9467308308 cafebabe", 0xa, 0,
	    "facedbaddecaf888",
	    "4500003e698f000080114dccc0a80102c0a801010a980035002a2343b2d00100"
	    "0001000000000000037369700963796265726369747902646b00000100010001",
	    "0000a5f80000000afacedbaddecaf888"
	    "deb22cd9b07c72c16e3a65beeb8df304a5a5897d33ae530f1ba76d5d114d2a5c"
	    "3de81827c10e9a4f51330d0eec416642cfbb85a5b47e48a4ec3b9ba95d918bd1"
	    "83b70d3aa8bc6ee4c309e9d85a41ad4a" },
	{ "gcm-3", SADB_X_EALG_AESGCM16,
	    "abbccddef00112233445566778899aababbccddef00112233445566778899aab"
	    "11223344", 2, 0, "0102030405060708",
	    "4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee000000000"
	    "7002400020bf0000020405b40101040201020201",
	    "4a2cbfe3000000020102030405060708"
	    "ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763"
	    "748a637985771d347f0545659f14e99def842d8eb335f4eecfdbf831824b4c49"
	    "15956c96" },
	{ "gcm-4", SADB_X_EALG_AESGCM16,
	    "00000000000000000000000000000000 00000000", 1, 0,
	    "0000000000000000",
	    "4500003c99c500008001cb7a40679318010101010800075c0200440061626364"
	    "65666768696a6b6c6d6e6f707172737475767761626364656667686901020201",
	    "00000000000000010000000000000000"
	    "4688daf2f973a392732909c331d56d60f694abaa414b5e7ff5fdcdfff5e9a284"
	    "456476492719ffb64de7d9dca1e1d894bc3bd57873ed4d181d19d4d5c8c18af3"
	    "f821d496eeb096e98ad2b69e4799c71d" },
	{ "gcm-5", SADB_X_EALG_AESGCM16,
	    "3de09874b388e6491988d0c3607eae1f 57690e43",
	    0x1010101010101010ULL, 1, "4e280000a2fca1a3",
	    "4500003c99c300008001cb7c40679318010101010800085c0200430061626364"
	    "65666768696a6b6c6d6e6f707172737475767761626364656667686901020201",
	    "42f67e3f101010104e280000a2fca1a3"
	    "fba2caa4853cf9f0f22cb10d86dd83b0fec75691cf1a04b00d1138ec9c357917"
	    "65acbd8701ad79845bf9fe3fba487bc91755e6662b4c8d0d1f5e22739530320a"
	    "e0d731cc978ecafaeae88f00e80d6e48" },
	{ "gcm-7", SADB_X_EALG_AESGCM16,
	    "feffe9928665731c6d6a8f9467308308feffe9928665731c cafebabe",
	    0xa, 0, "facedbaddecaf888",
	    "45000028a4ad4000400678800a01038f0a010612802306b8cb712602dd6bb03e"
	    "501016d075680001",
	    "0000a5f80000000afacedbaddecaf888"
	    "a5b1f8066029aea40e598b8122de02420938b3ab33f828e687b8858b5bfbdbd0"
	    "315b27452144cc7795457b9652037f5318027b5b4cd7a636" },
	{ "gcm-8", SADB_X_EALG_AESGCM16,
	    "abbccddef00112233445566778899aab decaf888", 1, 1,
	    "cafedebaceface74",
	    "4500004933ba00007f119106c3fb1d10c2b1d326c02831ce0035dd7b800302d5"
	    "00004e20001e8c18d75b81dc91baa0476b91b924b280389d92c963bac046ec95"
	    "9b6266c04722b14923010101",
	    "0000010000000001cafedebaceface74"
	    "18a6fd42f72cbf4ab2a2ea901f73d814e3e7f243d95412e1c349c1d2fbec168f"
	    "9190feebaf2cb01984e65863965d7472b79da345e0e780191f0d2f0e0f496c22"
	    "6f2127b27db35724e7845d68651f57e65f354f75ff17015769623436" },
	{ "gcm-9", SADB_X_EALG_AESGCM16,
	    "abbccddef00112233445566778899aababbccddef00112233445566778899aab"
	    "73616c74", 0x156f3126dd0db99bULL, 1, "616e640169766563",
	    "45080028732c00004006e9f90a0106120a01038f06b88023dd6bafbecb712602"
	    "50101f646d540001",
	    "17405e67dd0db99b616e640169766563"
	    "f2d69ecdbd5a0d5b8d5ef38bad4da58d1f278fde98ef67549d524a3018d9a57f"
	    "f4d3a31ce673119e451626c2415771e3b7eebca614c89b35" },
	{ "gcm-12", SADB_X_EALG_AESGCM16,
	    "7d773d00c144c525ac619d18c84a3f47 d9664267", 0xffffffff, 0,
	    "43457e9182443bc6", "01020201",
	    "335467aeffffffff43457e9182443bc6"
	    "437f866bcb3f699fe9b0822bac961c4504bef270" },
	{ "gcm-14", SADB_X_EALG_AESGCM16,
	    "6c6567616c697a656d6172696a75616e61616e64646f69746265666f72656961"
	    "7475726e", 0xffffffffffffffffULL, 1, "333021696765746d",
	    "45000030da3a00008001df3bc0a80005c0a800010800c6cd0200070061626364"
	    "65666768696a6b6c6d6e6f707172737401020201",
	    "796b6963ffffffff333021696765746d"
	    "f97ab2aa356d8edce17644ac8c78e25dd24dedbb29ebf1b64a274b39b49c3a86"
	    "4cd3d78ca4ae68a32b42458fb57dbe821dcc63b9d0937ba2945f669368661a32"
	    "9fb4c053" },
	{ "chacha-rfc7634", SADB_X_EALG_CHACHA20POLY1305,
	    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
	    "a0a1a2a3", 5, 0, "1011121314151617",
	    "45000054a6f200004001e778c6336405c000020508005b7a3a080000553bec10"
	    "0007362708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223"
	    "2425262728292a2b2c2d2e2f303132333435363701020204",
	    "01020304000000051011121314151617"
	    "24039428b97f417e3c13753a4f05087b67c352e6a7fab1b982d466ef407ae5c6"
	    "14ee8099d52844eb61aa95dfab4c02f72aa71e7c4c4f64c9befe2facc638e8f3"
	    "cbec163fac469b502773f6fb94e664da9165b82829f641e0"
	    "76aaa8266b7fb0f7b11b369907e1ad43" },
	{ "cbc-rfc3602-5", SADB_X_EALG_AESCBC,
	    "90d382b410eeba7ad938c46cec1a82bf", 1, 0,
	    "e96e8c08ab465763fd098d45dd3ff893",
	    "08000ebda70a00008e9c083db95b070008090a0b0c0d0e0f1011121314151617"
	    "18191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637"
	    "0102030405060708090a0b0c0d0e0e01",
	    "0000432100000001e96e8c08ab465763fd098d45dd3ff893"
	    "f663c25d325c18c6a9453e194e120849a4870b66cc6b9965330013b4898dc856"
	    "a4699e523a55db080b59ec3a8e4b7e52775b07d1db34ed9c538ab50c551b874a"
	    "a269add047ad2d5913ac19b7cfbad4a6" },
	{ "cbc-rfc3602-6", SADB_X_EALG_AESCBC,
	    "90d382b410eeba7ad938c46cec1a82bf", 8, 0,
	    "69d08df7d203329db093fc4924e5bd80",
	    "0800b5e8a80a0500a69c083d0b660e00777777777777777777777777"
	    "01020201",
	    "000043210000000869d08df7d203329db093fc4924e5bd80"
	    "f51995881ec4e0c4488987ce742e8109689bb379d2d750c0d915dca346a89f75" },
	{ "cbc-rfc3602-7", SADB_X_EALG_AESCBC,
	    "0123456789abcdef0123456789abcdef", 2, 0,
	    "f4e765244f6407adf13dc1380f673f37",
	    "45000054090400004001f988c0a87b03c0a87bc808009f76a90a0100b49c083d"
	    "02a2040008090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223"
	    "2425262728292a2b2c2d2e2f30313233343536370102030405060708090a0a04",
	    "0000876500000002f4e765244f6407adf13dc1380f673f37"
	    "773b5241a4c449225e4f3ce5ed611b0c237ca96cf74a93013c1b0ea1a0cf70f8"
	    "e4ecaec78ac53aad7a0f022b859243c647752e94a859352b8a4d4d2decd136e5"
	    "c177f132ad3fbfb2201ac9904c74ee0a109e0ca1e4dfe9d5a100b842f1c22f0d" },
	{ "cbc-rfc3602-8", SADB_X_EALG_AESCBC,
	    "0123456789abcdef0123456789abcdef", 5, 0,
	    "85d47224b5f3dd5d2101d4ea8dffab22",
	    "45000044090c00004001f990c0a87b03c0a87bc80800d63caa0a0200c69c083d"
	    "a3de0300ffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
	    "ffffffff0102030405060708090a0a04",
	    "000087650000000585d47224b5f3dd5d2101d4ea8dffab22"
	    "15b92683819596a8047232cc00f7048fe45318e11f8a0f62ede3c3fc61203bb5"
	    "0f980a08c9843fd3a1b06d5c07ff9639b7eb7dfb3512e5de435e7207ed971ef3"
	    "d2726d9b5ef6affc6d17a0decbb13892" },
};

ATF_TC_WITHOUT_HEAD(esp_vectors);
ATF_TC_BODY(esp_vectors, tc)
{
	const struct espvec *v;
	struct ukern_crypto_session *cs;
	struct secasvar *sav;
	struct mbuf *m;
	uint8_t key[64], pkt[512], plain[512], iv[16], aad[12], tag[16];
	size_t kl, pl, ll, ivl, i, hl, cl, tl;
	int nxt;

	for (i = 0; i < nitems(espvecs); i++) {
		v = &espvecs[i];
		kl = unhex(v->key, key, sizeof(key));
		pl = unhex(v->packet, pkt, sizeof(pkt));
		ll = unhex(v->plain, plain, sizeof(plain));
		ivl = unhex(v->iv, iv, sizeof(iv));
		sav = mksav(v->ealg, key, kl, SADB_AALG_NONE, NULL, 0,
		    v->esn ? SADB_X_SAFLAGS_ESN : 0, 64,
		    ntohl(*(uint32_t *)(void *)pkt));
		ATF_REQUIRE_EQ_MSG(esp_init(sav), 0, "%s", v->name);
		/* The receiver has seen the previous packet. */
		sav->replay->last = v->seq - 1;

		/* Decapsulation of the published packet. */
		m = mkm(pkt, pl);
		ATF_REQUIRE_EQ_MSG(esp_input(sav, &m, &nxt), 0, "%s", v->name);
		tl = plain[ll - 2] + 2;
		ATF_CHECK_EQ_MSG(nxt, plain[ll - 1], "%s", v->name);
		ATF_CHECK_EQ_MSG((size_t)m->m_len, ll - tl, "%s", v->name);
		ATF_CHECK_MSG(memcmp(mtod(m, uint8_t *), plain, ll - tl) == 0,
		    "%s: payload", v->name);
		m_freem(m);

		/*
		 * Encapsulation with the same IV gives the same bytes (the
		 * primitives, keyed with the published key and salt).
		 */
		ATF_REQUIRE_EQ(ukern_crypto_newsession(&cs,
		    v->ealg == SADB_X_EALG_AESCBC ? UKERN_CRYPT_AES_CBC :
		    v->ealg == SADB_X_EALG_AESGCM16 ? UKERN_CRYPT_AES_GCM :
		    UKERN_CRYPT_CHACHA20_POLY1305, key, kl, UKERN_AUTH_NONE,
		    NULL, 0), 0);
		hl = 8 + ivl;
		cl = ll;
		memcpy(pkt + 512 - ll, plain, ll);
		if (v->ealg == SADB_X_EALG_AESCBC) {
			ATF_REQUIRE_EQ(ukern_crypto_encrypt(cs,
			    iv, plain, ll), 0);
			ATF_CHECK_MSG(memcmp(plain, pkt + hl, cl) == 0,
			    "%s: seal", v->name);
		} else {
			memcpy(aad, pkt, 4);
			if (v->esn) {
				*(uint32_t *)(void *)(aad + 4) =
				    htonl((uint32_t)(v->seq >> 32));
				memcpy(aad + 8, pkt + 4, 4);
			} else
				memcpy(aad + 4, pkt + 4, 4);
			ATF_REQUIRE_EQ(ukern_crypto_aead_seal(cs,
			    iv, aad, v->esn ? 12 : 8, plain, ll, tag), 0);
			ATF_CHECK_MSG(memcmp(plain, pkt + hl, cl) == 0 &&
			    memcmp(tag, pkt + hl + cl, 16) == 0,
			    "%s: seal", v->name);
		}
		ukern_crypto_freesession(cs);

		/* The same packet again is a replay. */
		STAT_RESET();
		m = mkm(pkt, pl);
		ATF_CHECK_EQ(esp_input(sav, &m, &nxt), EACCES);
		ATF_CHECK(m == NULL);
		ATF_CHECK_EQ(STAT(esps_replay), 1);
		freesav(sav);
	}
}

/* ---- every transform, every key size ---- */

struct xform {
	const char	*name;
	uint8_t		 ealg;
	size_t		 eklen;
	uint8_t		 aalg;
	size_t		 aklen;
	u_int		 blk;
	u_int		 overhead;	/* header + IV + ICV */
};

static const struct xform xforms[] = {
	{ "null-sha1", SADB_EALG_NULL, 0, SADB_AALG_SHA1HMAC, 20, 4, 8 + 12 },
	{ "cbc128-sha1", SADB_X_EALG_AESCBC, 16, SADB_AALG_SHA1HMAC, 20, 16,
	    8 + 16 + 12 },
	{ "cbc192-sha256", SADB_X_EALG_AESCBC, 24, SADB_X_AALG_SHA2_256, 32, 16,
	    8 + 16 + 16 },
	{ "cbc256-sha384", SADB_X_EALG_AESCBC, 32, SADB_X_AALG_SHA2_384, 48, 16,
	    8 + 16 + 24 },
	{ "cbc256-sha512", SADB_X_EALG_AESCBC, 32, SADB_X_AALG_SHA2_512, 64, 16,
	    8 + 16 + 32 },
	{ "cbc128-sha256", SADB_X_EALG_AESCBC, 16, SADB_X_AALG_SHA2_256, 32, 16,
	    8 + 16 + 16 },
	{ "ctr128-sha256", SADB_X_EALG_AESCTR, 20, SADB_X_AALG_SHA2_256, 32, 4,
	    8 + 8 + 16 },
	{ "ctr192-sha1", SADB_X_EALG_AESCTR, 28, SADB_AALG_SHA1HMAC, 20, 4,
	    8 + 8 + 12 },
	{ "ctr256-sha512", SADB_X_EALG_AESCTR, 36, SADB_X_AALG_SHA2_512, 64, 4,
	    8 + 8 + 32 },
	{ "gcm128", SADB_X_EALG_AESGCM16, 20, 0, 0, 4, 8 + 8 + 16 },
	{ "gcm192", SADB_X_EALG_AESGCM16, 28, 0, 0, 4, 8 + 8 + 16 },
	{ "gcm256", SADB_X_EALG_AESGCM16, 36, 0, 0, 4, 8 + 8 + 16 },
	{ "chacha20-poly1305", SADB_X_EALG_CHACHA20POLY1305, 36, 0, 0, 4,
	    8 + 8 + 16 },
	{ "cbc128-noauth", SADB_X_EALG_AESCBC, 16, SADB_AALG_NONE, 0, 16,
	    8 + 16 },
};

static void
keyfill(uint8_t *k, size_t len, int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		k[i] = (uint8_t)(seed * 31 + i * 7);
}

static struct secasvar *
xsav(const struct xform *x, uint32_t flags, u_int w)
{
	struct secasvar *sav;
	uint8_t ek[64], ak[64];

	keyfill(ek, x->eklen, 1);
	keyfill(ak, x->aklen, 2);
	sav = mksav(x->ealg, ek, x->eklen, x->aalg, ak, x->aklen, flags, w,
	    0x1000);
	ATF_REQUIRE_EQ_MSG(esp_init(sav), 0, "%s", x->name);
	return (sav);
}

ATF_TC_WITHOUT_HEAD(roundtrip);
ATF_TC_BODY(roundtrip, tc)
{
	static const int lens[] = { 0, 1, 2, 3, 13, 14, 15, 16, 17, 100, 255,
	    1400, 1500 };
	const struct xform *x;
	struct secasvar *out, *in;
	struct mbuf *m;
	uint8_t payload[1500];
	size_t i, j;
	u_int clen;
	int esn, nxt;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 13);
	for (i = 0; i < nitems(xforms); i++)
	for (esn = 0; esn < 2; esn++) {
		x = &xforms[i];
		out = xsav(x, esn ? SADB_X_SAFLAGS_ESN : 0, 64);
		in = xsav(x, esn ? SADB_X_SAFLAGS_ESN : 0, 64);
		for (j = 0; j < nitems(lens); j++) {
			STAT_RESET();
			m = mkm(payload, lens[j]);
			ATF_REQUIRE_EQ_MSG(esp_output(out, &m, 17), 0, "%s",
			    x->name);
			clen = m->m_len - x->overhead;
			ATF_CHECK_MSG(clen % x->blk == 0 && clen % 4 == 0 &&
			    clen >= (u_int)lens[j] + 2 &&
			    clen < (u_int)lens[j] + 2 + x->blk,
			    "%s len %d: clen %u", x->name, lens[j], clen);
			ATF_CHECK((size_t)m->m_len - lens[j] <= esp_hdrsiz(out));
			ATF_CHECK_EQ(ntohl(*mtod(m, uint32_t *)), 0x1000);
			ATF_CHECK_EQ(ntohl(mtod(m, uint32_t *)[1]), j + 1);
			ATF_REQUIRE_EQ_MSG(esp_input(in, &m, &nxt), 0,
			    "%s esn %d len %d", x->name, esn, lens[j]);
			ATF_CHECK_EQ(nxt, 17);
			ATF_CHECK_EQ(m->m_len, lens[j]);
			ATF_CHECK(memcmp(mtod(m, uint8_t *), payload,
			    lens[j]) == 0);
			m_freem(m);
			ATF_CHECK_EQ(STAT(esps_output), 1);
			ATF_CHECK_EQ(STAT(esps_input), 1);
			ATF_CHECK_EQ(STAT(esps_obytes), (uint64_t)lens[j]);
			ATF_CHECK_EQ(STAT(esps_ibytes), (uint64_t)lens[j]);
		}
		freesav(out);
		freesav(in);
	}
}

/*
 * ESP on mbuf chains: every transform, the payload split in two at every
 * offset (the first mbuf empty at 0) and one byte per mbuf, out and then
 * back in split the same way (the ESP packet's header split too); the
 * payload comes back, and a flipped bit in the last mbuf is refused.
 */
ATF_TC_WITHOUT_HEAD(chains);
ATF_TC_BODY(chains, tc)
{
	const struct xform *x;
	struct secasvar *out, *in;
	struct mbuf *m;
	uint8_t payload[61], pkt[200], flat[200];
	size_t i, k, len;
	int nxt, olen, err;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 29 + 1);
	for (i = 0; i < nitems(xforms); i++) {
		x = &xforms[i];
		out = xsav(x, SADB_X_SAFLAGS_ESN, 64);
		in = xsav(x, SADB_X_SAFLAGS_ESN, 64);
		for (k = 0; k <= sizeof(payload) + 2; k++) {
			m = k <= sizeof(payload) ? mchain(payload,
			    sizeof(payload), k, 0) : mchain(payload,
			    sizeof(payload), 1, 1);
			ATF_REQUIRE(m != NULL);
			ATF_REQUIRE_EQ_MSG(esp_output(out, &m, 6), 0,
			    "%s out split at %zu", x->name, k);
			olen = m->m_pkthdr.len;
			ATF_REQUIRE((size_t)olen <= sizeof(pkt));
			ATF_REQUIRE_EQ((int)m_length(m, NULL), olen);
			m_copydata(m, 0, olen, pkt);
			m_freem(m);
			if (k == sizeof(payload) + 2)
				pkt[olen - 1] ^= 0x80;	/* ICV or payload */
			m = k <= sizeof(payload) ? mchain(pkt, (size_t)olen,
			    k, 0) : mchain(pkt, (size_t)olen, 1, 1);
			ATF_REQUIRE(m != NULL);
			err = esp_input(in, &m, &nxt);
			if (k == sizeof(payload) + 2) {
				/* Without an ICV nothing is authenticated. */
				if (x->aalg != SADB_AALG_NONE ||
				    x->ealg == SADB_X_EALG_AESGCM16 ||
				    x->ealg == SADB_X_EALG_CHACHA20POLY1305)
					ATF_CHECK_EQ_MSG(err, EBADMSG,
					    "%s: a flipped bit went in",
					    x->name);
				if (m != NULL)
					m_freem(m);
				continue;
			}
			ATF_REQUIRE_EQ_MSG(err, 0, "%s in split at %zu",
			    x->name, k);
			ATF_CHECK_EQ(nxt, 6);
			len = (size_t)m->m_pkthdr.len;
			ATF_REQUIRE_EQ(len, sizeof(payload));
			m_copydata(m, 0, (int)len, flat);
			ATF_CHECK_MSG(memcmp(flat, payload, len) == 0,
			    "%s split at %zu: not the payload", x->name, k);
			m_freem(m);
		}
		freesav(out);
		freesav(in);
	}
}

/* One flipped bit anywhere that is authenticated: refused and counted. */
ATF_TC_WITHOUT_HEAD(tamper);
ATF_TC_BODY(tamper, tc)
{
	const struct xform *x;
	struct secasvar *out, *in;
	struct mbuf *m, *m2;
	uint8_t payload[200];
	size_t i, k;
	int nxt, len, pos[4];

	memset(payload, 0x5a, sizeof(payload));
	for (i = 0; i < nitems(xforms); i++) {
		x = &xforms[i];
		if (x->aalg == SADB_AALG_NONE && x->ealg != SADB_X_EALG_AESGCM16 &&
		    x->ealg != SADB_X_EALG_CHACHA20POLY1305)
			continue;	/* nothing authenticates */
		out = xsav(x, 0, 64);
		in = xsav(x, 0, 64);
		m = mkm(payload, sizeof(payload));
		ATF_REQUIRE_EQ(esp_output(out, &m, 6), 0);
		len = m->m_len;
		pos[0] = len - 1;		/* ICV */
		pos[1] = 30;			/* ciphertext */
		pos[2] = 2;			/* SPI */
		pos[3] = 7;			/* sequence number */
		for (k = 0; k < nitems(pos); k++) {
			STAT_RESET();
			m2 = mkm(mtod(m, uint8_t *), len);
			mtod(m2, uint8_t *)[pos[k]] ^= 0x10;
			ATF_CHECK_EQ_MSG(esp_input(in, &m2, &nxt), EBADMSG,
			    "%s pos %d", x->name, pos[k]);
			ATF_CHECK(m2 == NULL);
			ATF_CHECK_EQ(STAT(esps_badauth), 1);
			ATF_CHECK_EQ(STAT(esps_input), 0);
		}
		/* A failed ICV does not move the window: the good one passes. */
		ATF_CHECK_EQ(esp_input(in, &m, &nxt), 0);
		ATF_CHECK_EQ(nxt, 6);
		m_freem(m);
		freesav(out);
		freesav(in);
	}
}

ATF_TC_WITHOUT_HEAD(lengths);
ATF_TC_BODY(lengths, tc)
{
	struct secasvar *sav;
	struct mbuf *m;
	uint8_t junk[64];
	int nxt;

	memset(junk, 0, sizeof(junk));
	sav = xsav(&xforms[1], 0, 64);		/* cbc128-sha1 */
	STAT_RESET();
	m = mkm(junk, 8 + 16 + 12);		/* no ciphertext at all */
	ATF_CHECK_EQ(esp_input(sav, &m, &nxt), EINVAL);
	ATF_CHECK_EQ(STAT(esps_hdrops), 1);
	m = mkm(junk, 8 + 16 + 20 + 12);	/* not whole blocks */
	ATF_CHECK_EQ(esp_input(sav, &m, &nxt), EINVAL);
	ATF_CHECK_EQ(STAT(esps_badilen), 1);
	freesav(sav);
}

/* Padding: the SA's choice on output, 1, 2, 3... checked on input. */
ATF_TC_WITHOUT_HEAD(padding);
ATF_TC_BODY(padding, tc)
{
	struct secasvar *seq, *zero, *rnd, *in;
	struct mbuf *m;
	uint8_t p[5] = { 1, 2, 3, 4, 5 };
	uint8_t *t;
	int nxt;

	/* NULL encryption: the trailer is visible. 5 + 2 -> 1 byte of pad. */
	seq = xsav(&xforms[0], SADB_X_EXT_PSEQ, 64);
	zero = xsav(&xforms[0], SADB_X_EXT_PZERO, 64);
	rnd = xsav(&xforms[0], SADB_X_EXT_PRAND, 64);
	in = xsav(&xforms[0], SADB_X_EXT_PSEQ, 64);

	m = mkm(p, 5);
	ATF_REQUIRE_EQ(esp_output(seq, &m, 41), 0);
	t = mtod(m, uint8_t *) + 8 + 5;
	ATF_CHECK(t[0] == 1 && t[1] == 1 && t[2] == 41);
	ATF_CHECK_EQ(esp_input(in, &m, &nxt), 0);
	ATF_CHECK_EQ(nxt, 41);
	m_freem(m);

	zero->replay->count = 10;		/* not a replay for "in" */
	m = mkm(p, 5);
	ATF_REQUIRE_EQ(esp_output(zero, &m, 4), 0);
	t = mtod(m, uint8_t *) + 8 + 5;
	ATF_CHECK(t[0] == 0 && t[1] == 1 && t[2] == 4);
	STAT_RESET();
	ATF_CHECK_EQ(esp_input(in, &m, &nxt), EINVAL);	/* not 1, 2, 3 */
	ATF_CHECK_EQ(STAT(esps_badenc), 1);

	/* A receiver set for zero or random padding does not check it. */
	m = mkm(p, 5);
	ATF_REQUIRE_EQ(esp_output(zero, &m, 4), 0);
	ATF_CHECK_EQ(esp_input(rnd, &m, &nxt), 0);
	m_freem(m);
	m = mkm(p, 5);
	ATF_REQUIRE_EQ(esp_output(rnd, &m, 4), 0);
	ATF_CHECK_EQ(esp_input(zero, &m, &nxt), 0);
	m_freem(m);

	freesav(seq);
	freesav(zero);
	freesav(rnd);
	freesav(in);
}

ATF_TC_WITHOUT_HEAD(seqwrap);
ATF_TC_BODY(seqwrap, tc)
{
	struct secasvar *sav, *in;
	struct mbuf *m;
	uint8_t p[8];
	int nxt;

	memset(p, 1, sizeof(p));
	/* Without ESN or CYCSEQ the last number is 2^32 - 1. */
	sav = xsav(&xforms[9], 0, 64);
	sav->replay->count = 0xfffffffeU;
	m = mkm(p, 8);
	ATF_CHECK_EQ(esp_output(sav, &m, 1), 0);
	ATF_CHECK_EQ(ntohl(mtod(m, uint32_t *)[1]), 0xffffffffU);
	m_freem(m);
	STAT_RESET();
	m = mkm(p, 8);
	ATF_CHECK_EQ(esp_output(sav, &m, 1), EINVAL);
	ATF_CHECK(m == NULL);
	ATF_CHECK_EQ(STAT(esps_wrap), 1);
	ATF_CHECK_EQ(STAT(esps_output), 0);
	freesav(sav);

	/* CYCSEQ lets it cycle, and counts it. */
	sav = xsav(&xforms[9], SADB_X_EXT_CYCSEQ, 64);
	sav->replay->count = 0xffffffffU;
	m = mkm(p, 8);
	ATF_CHECK_EQ(esp_output(sav, &m, 1), 0);
	ATF_CHECK_EQ(sav->replay->overflow, 1);
	m_freem(m);
	freesav(sav);

	/*
	 * ESN: the low half wraps, the receiver infers the high half, and
	 * the ICV covers it (a receiver guessing wrong fails the ICV).
	 */
	sav = xsav(&xforms[2], SADB_X_SAFLAGS_ESN, 64);
	in = xsav(&xforms[2], SADB_X_SAFLAGS_ESN, 64);
	sav->replay->count = 0xfffffffdU;
	in->replay->last = 0xfffffffdU;
	for (int i = 0; i < 5; i++) {
		m = mkm(p, 8);
		ATF_REQUIRE_EQ(esp_output(sav, &m, 1), 0);
		ATF_REQUIRE_EQ(esp_input(in, &m, &nxt), 0);
		m_freem(m);
	}
	ATF_CHECK_EQ(in->replay->last, 0x100000002ULL);
	ATF_CHECK_EQ(sav->replay->count, 0x100000002ULL);
	freesav(in);
	in = xsav(&xforms[2], SADB_X_SAFLAGS_ESN, 0);
	in->replay->last = 0x280000000ULL;	/* two subspaces away */
	m = mkm(p, 8);
	ATF_REQUIRE_EQ(esp_output(sav, &m, 1), 0);
	STAT_RESET();
	ATF_CHECK_EQ(esp_input(in, &m, &nxt), EBADMSG);
	ATF_CHECK_EQ(STAT(esps_badauth), 1);
	freesav(in);
	sav->replay->count = UINT64_MAX;
	m = mkm(p, 8);
	ATF_CHECK_EQ(esp_output(sav, &m, 1), EINVAL);
	freesav(sav);
}

/* What esp_init() refuses, at SA setup and never at packet time. */
ATF_TC_WITHOUT_HEAD(init_refuses);
ATF_TC_BODY(init_refuses, tc)
{
	static const struct {
		uint8_t	ealg;
		size_t	eklen;
		uint8_t	aalg;
		size_t	aklen;
	} bad[] = {
		{ SADB_EALG_3DESCBC, 24, SADB_AALG_SHA1HMAC, 20 },
		{ SADB_X_EALG_AESCBC, 16, SADB_AALG_MD5HMAC, 16 },
		{ SADB_X_EALG_AESCBC, 16, SADB_X_AALG_AES_XCBC_MAC, 16 },
		/*
		 * NULL encryption without an authenticator is accepted, as
		 * FreeBSD accepts it (key_test and the setkey tests add one).
		 */
		{ SADB_X_EALG_AESCBC, 20, SADB_AALG_SHA1HMAC, 20 },
		{ SADB_X_EALG_AESCTR, 16, SADB_AALG_SHA1HMAC, 20 },
		{ SADB_X_EALG_AESGCM16, 16, 0, 0 },
		{ SADB_X_EALG_CHACHA20POLY1305, 32, 0, 0 },
		{ SADB_X_EALG_AESGCM8, 20, 0, 0 },
		{ SADB_X_EALG_AESCBC, 16, SADB_AALG_SHA1HMAC, 0 },
	};
	struct secasvar *sav;
	struct mbuf *m;
	uint8_t k[64];
	size_t i;
	int nxt;

	memset(k, 7, sizeof(k));
	for (i = 0; i < nitems(bad); i++) {
		sav = mksav(bad[i].ealg, k, bad[i].eklen, bad[i].aalg, k,
		    bad[i].aklen, 0, 64, 1);
		ATF_CHECK_EQ_MSG(esp_init(sav), EINVAL, "case %zu", i);
		ATF_CHECK(sav->tdb_cryptoid == NULL);
		STAT_RESET();
		m = mkm(k, 16);
		ATF_CHECK_EQ(esp_output(sav, &m, 1), EINVAL);
		m = mkm(k, 64);
		ATF_CHECK_EQ(esp_input(sav, &m, &nxt), EINVAL);
		ATF_CHECK_EQ(STAT(esps_noxform), 2);
		freesav(sav);
	}
	/* GCM with a separate authenticator. */
	sav = mksav(SADB_X_EALG_AESGCM16, k, 20, 0, NULL, 0, 0, 64, 1);
	sav->alg_auth = SADB_AALG_SHA1HMAC;
	ATF_CHECK_EQ(esp_init(sav), EINVAL);
	freesav(sav);
	/* Old-style SAs (no replay state). */
	sav = mksav(SADB_X_EALG_AESGCM16, k, 20, 0, NULL, 0, 0, 64, 1);
	free(sav->replay, M_TEST);
	sav->replay = NULL;
	ATF_CHECK_EQ(esp_init(sav), EINVAL);
	sav->replay = malloc(sizeof(*sav->replay), M_TEST, M_WAITOK | M_ZERO);
	freesav(sav);
	/* A window larger than we keep. */
	sav = mksav(SADB_X_EALG_AESGCM16, k, 20, 0, NULL, 0, 0, 64, 1);
	sav->replay->wsize = IPSEC_REPLAY_MAXWINDOW / 8 + 1;
	ATF_CHECK_EQ(esp_init(sav), EINVAL);
	freesav(sav);
}

/* Freed sessions leave no key material behind. */
static int dirty_frees;

static void
check_zero(void *p, size_t len, struct malloc_type *type)
{
	const uint8_t *b;
	size_t i;

	if (strcmp(type->ks_shortdesc, "crypto") != 0)
		return;
	b = p;
	for (i = 0; i < len; i++)
		if (b[i] != 0) {
			dirty_frees++;
			return;
		}
}

ATF_TC_WITHOUT_HEAD(zeroize);
ATF_TC_BODY(zeroize, tc)
{
	struct secasvar *sav;
	size_t i;

	ukern_free_hook = check_zero;
	for (i = 0; i < nitems(xforms); i++) {
		sav = xsav(&xforms[i], 0, 64);
		ATF_CHECK(sav->tdb_cryptoid != NULL);
		esp_zeroize(sav);
		ATF_CHECK(sav->tdb_cryptoid == NULL);
		ATF_CHECK(sav->replay->bitmap == NULL);
		esp_zeroize(sav);		/* idempotent */
		freesav(sav);
	}
	ukern_free_hook = NULL;
	ATF_CHECK_EQ(dirty_frees, 0);
}

/* ---- opencrypto(9): the interface xform_esp.c calls ---- */

static int ocf_calls;

static int
ocf_done(struct cryptop *crp)
{

	ATF_CHECK(crp->crp_flags & CRYPTO_F_DONE);
	ocf_calls++;
	return (0);
}

/* Run crp and return crp_etype; the callback must have run once. */
static int
ocf_run(struct cryptop *crp)
{

	ocf_calls = 0;
	crp->crp_callback = ocf_done;
	ATF_REQUIRE_EQ(crypto_dispatch(crp), 0);
	ATF_CHECK_EQ(ocf_calls, 1);
	return (crp->crp_etype);
}

/*
 * Encrypt-then-authenticate as ESP uses it (AES-CBC, HMAC-SHA2-256-128,
 * the ESN bits in the digest): a round trip; a wrong digest, a wrong ESN
 * or a flipped ciphertext bit gives EBADMSG and decrypts nothing; regions
 * outside the mbuf and a request without CRYPTO_F_IV_SEPARATE are EINVAL.
 */
ATF_TC_WITHOUT_HEAD(ocf_eta);
ATF_TC_BODY(ocf_eta, tc)
{
	struct crypto_session_params csp;
	crypto_session_t cs;
	struct cryptop crp;
	struct mbuf *m;
	uint8_t ckey[16], akey[32], buf[24 + 64 + 16], ct[64];
	size_t i;

	for (i = 0; i < sizeof(ckey); i++)
		ckey[i] = (uint8_t)i;
	for (i = 0; i < sizeof(akey); i++)
		akey[i] = (uint8_t)(0x80 + i);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7);
	memset(&csp, 0, sizeof(csp));
	csp.csp_mode = CSP_MODE_ETA;
	csp.csp_flags = CSP_F_ESN;
	csp.csp_ivlen = AES_BLOCK_LEN;
	csp.csp_cipher_alg = CRYPTO_AES_CBC;
	csp.csp_cipher_key = ckey;
	csp.csp_cipher_klen = sizeof(ckey);
	csp.csp_auth_alg = CRYPTO_SHA2_256_HMAC;
	csp.csp_auth_key = akey;
	csp.csp_auth_klen = sizeof(akey);
	csp.csp_auth_mlen = 16;
	ATF_REQUIRE_EQ(crypto_newsession(&cs, &csp, CRYPTOCAP_F_SOFTWARE), 0);

	/* Header 8 + IV 16 (the AAD), payload 64, digest 16. */
	m = mkm(buf, sizeof(buf));
#define	OCF_REQ(op) do {						\
	crypto_initreq(&crp, cs);					\
	crp.crp_op = (op);						\
	crp.crp_flags = CRYPTO_F_IV_SEPARATE;				\
	crypto_use_mbuf(&crp, m);					\
	crp.crp_aad_start = 0;						\
	crp.crp_aad_length = 24;					\
	crp.crp_payload_start = 24;					\
	crp.crp_payload_length = 64;					\
	crp.crp_digest_start = 88;					\
	memcpy(crp.crp_iv, mtod(m, uint8_t *) + 8, 16);			\
	memcpy(crp.crp_esn, "\0\0\0\1", 4);				\
} while (0)
	OCF_REQ(CRYPTO_OP_ENCRYPT | CRYPTO_OP_COMPUTE_DIGEST);
	ATF_REQUIRE_EQ(ocf_run(&crp), 0);
	crypto_destroyreq(&crp);
	ATF_CHECK(memcmp(mtod(m, uint8_t *) + 24, buf + 24, 64) != 0);
	memcpy(ct, mtod(m, uint8_t *) + 24, 64);

	/* A wrong ESN: the digest does not verify, nothing decrypted. */
	OCF_REQ(CRYPTO_OP_DECRYPT | CRYPTO_OP_VERIFY_DIGEST);
	crp.crp_esn[3] = 2;
	ATF_CHECK_EQ(ocf_run(&crp), EBADMSG);
	ATF_CHECK(memcmp(mtod(m, uint8_t *) + 24, ct, 64) == 0);
	/* A flipped ciphertext bit likewise. */
	mtod(m, uint8_t *)[40] ^= 1;
	OCF_REQ(CRYPTO_OP_DECRYPT | CRYPTO_OP_VERIFY_DIGEST);
	ATF_CHECK_EQ(ocf_run(&crp), EBADMSG);
	mtod(m, uint8_t *)[40] ^= 1;
	ATF_CHECK(memcmp(mtod(m, uint8_t *) + 24, ct, 64) == 0);
	/* Regions outside the buffer, and an IV not given apart. */
	OCF_REQ(CRYPTO_OP_DECRYPT | CRYPTO_OP_VERIFY_DIGEST);
	crp.crp_digest_start = 89;
	ATF_CHECK_EQ(ocf_run(&crp), EINVAL);
	OCF_REQ(CRYPTO_OP_DECRYPT | CRYPTO_OP_VERIFY_DIGEST);
	crp.crp_payload_length = 81;
	ATF_CHECK_EQ(ocf_run(&crp), EINVAL);
	OCF_REQ(CRYPTO_OP_DECRYPT | CRYPTO_OP_VERIFY_DIGEST);
	crp.crp_aad_start = -1;
	ATF_CHECK_EQ(ocf_run(&crp), EINVAL);
	OCF_REQ(CRYPTO_OP_DECRYPT | CRYPTO_OP_VERIFY_DIGEST);
	crp.crp_flags = 0;
	ATF_CHECK_EQ(ocf_run(&crp), EINVAL);
	ATF_CHECK(memcmp(mtod(m, uint8_t *) + 24, ct, 64) == 0);
	/* The right one decrypts. */
	OCF_REQ(CRYPTO_OP_DECRYPT | CRYPTO_OP_VERIFY_DIGEST);
	ATF_CHECK_EQ(ocf_run(&crp), 0);
	ATF_CHECK(memcmp(mtod(m, uint8_t *), buf, 88) == 0);
#undef OCF_REQ
	m_freem(m);
	crypto_freesession(cs);
}

/*
 * Sessions refused: a mode without its transform, an AEAD cipher in ETA
 * mode, a wrong nonce length, a digest longer than the hash.
 */
ATF_TC_WITHOUT_HEAD(ocf_refuses);
ATF_TC_BODY(ocf_refuses, tc)
{
	struct crypto_session_params csp;
	crypto_session_t cs;
	uint8_t key[32];

	memset(key, 1, sizeof(key));
	memset(&csp, 0, sizeof(csp));
	csp.csp_mode = CSP_MODE_ETA;
	csp.csp_cipher_alg = CRYPTO_AES_CBC;
	csp.csp_cipher_key = key;
	csp.csp_cipher_klen = 16;
	csp.csp_ivlen = AES_BLOCK_LEN;
	ATF_CHECK_EQ(crypto_newsession(&cs, &csp, 0), EINVAL);
	csp.csp_auth_alg = CRYPTO_SHA1_HMAC;
	csp.csp_auth_key = key;
	csp.csp_auth_klen = 20;
	csp.csp_auth_mlen = 21;
	ATF_CHECK_EQ(crypto_newsession(&cs, &csp, 0), EINVAL);
	csp.csp_auth_mlen = 12;
	csp.csp_ivlen = 12;
	ATF_CHECK_EQ(crypto_newsession(&cs, &csp, 0), EINVAL);
	csp.csp_ivlen = AES_BLOCK_LEN;
	ATF_REQUIRE_EQ(crypto_newsession(&cs, &csp, 0), 0);
	crypto_freesession(cs);
	csp.csp_cipher_alg = CRYPTO_AES_NIST_GCM_16;
	csp.csp_ivlen = AES_GCM_IV_LEN;
	ATF_CHECK_EQ(crypto_newsession(&cs, &csp, 0), EINVAL);
	csp.csp_mode = CSP_MODE_AEAD;
	csp.csp_auth_alg = 0;
	csp.csp_auth_mlen = 0;
	ATF_REQUIRE_EQ(crypto_newsession(&cs, &csp, 0), 0);
	crypto_freesession(cs);
	csp.csp_mode = CSP_MODE_NONE;
	ATF_CHECK_EQ(crypto_newsession(&cs, &csp, 0), EINVAL);
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, hmac_vectors);
	ATF_TP_ADD_TC(tp, ctr_vectors);
	ATF_TP_ADD_TC(tp, esp_vectors);
	ATF_TP_ADD_TC(tp, roundtrip);
	ATF_TP_ADD_TC(tp, chains);
	ATF_TP_ADD_TC(tp, tamper);
	ATF_TP_ADD_TC(tp, lengths);
	ATF_TP_ADD_TC(tp, padding);
	ATF_TP_ADD_TC(tp, seqwrap);
	ATF_TP_ADD_TC(tp, init_refuses);
	ATF_TP_ADD_TC(tp, zeroize);
	ATF_TP_ADD_TC(tp, ocf_eta);
	ATF_TP_ADD_TC(tp, ocf_refuses);
	return (atf_no_error());
}
