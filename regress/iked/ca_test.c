/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * sbin/iked/ca.c: keys, certificates and signatures.  Every key,
 * certificate and CRL is made here with OpenSSL and handed to ca_add()
 * as the parent would hand the files.  A signature is made by one
 * store (key, certificate, CA) and checked by a second one that holds
 * only the CA, as the peer would; the wire format of each method is
 * also checked here with plain EVP calls, so that ca.c does not only
 * agree with itself.  Then every refusal, by its "why".
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <atf-c.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "iked.h"
#include "ca.h"

static const uint8_t	 data[] = "octets an IKE_AUTH signs: message, "
			    "nonce, prf(SK_p, IDi')";

#include "certgen.h"

static struct ca_store *
store(void)
{
	struct ca_store	*cs;

	ATF_REQUIRE((cs = ca_new()) != NULL);
	return (cs);
}

/* A peer's store: only the CA (and a CRL), ready. */
static struct ca_store *
peerstore(X509 *ca, X509_CRL *crl)
{
	struct ca_store	*cs = store();

	add(cs, CA_F_CA, "ca/ca.crt", O_CERT, ca, 0);
	if (crl != NULL)
		add(cs, CA_F_CRL, "crls/ca.crl", O_CRL, crl, 0);
	ATF_REQUIRE(ca_ready(cs) == 0);
	return (cs);
}

/* ---- one side of IKE_AUTH ---- */

struct side {
	uint8_t		 chain[CA_CHAIN_MAX];
	size_t		 chainlen;
	uint8_t		 idtype;
	uint8_t		 id[CA_ID_MAX];
	size_t		 idlen;
	uint8_t		 method;
	uint8_t		 auth[CA_SIG_MAX];
	size_t		 authlen;
};

static struct iked_id *
mkid(enum iked_idtype type, const char *str)
{
	static struct iked_id	 ids[4];
	static int		 n;
	struct iked_id		*id = &ids[n++ % 4];

	memset(id, 0, sizeof(*id));
	id->id_type = type;
	strlcpy(id->id_str, str, sizeof(id->id_str));
	return (id);
}

/* The signer: CA, its certificate as certs/<cn>.crt, its key. */
static struct ca_store *
signer(X509 *ca, X509 *ee, EVP_PKEY *key, const char *certname)
{
	struct ca_store	*cs = store();

	add(cs, CA_F_CA, "ca/ca.crt", O_CERT, ca, 0);
	if (ee != NULL)
		add(cs, CA_F_CERT, certname, O_CERT, ee, 0);
	add(cs, CA_F_KEY, "private/local.key", O_KEY, key, 0);
	ATF_REQUIRE(ca_ready(cs) == 0);
	ATF_REQUIRE(ca_haskey(cs));
	return (cs);
}

static void
sign(struct ca_store *cs, const struct iked_id *srcid, enum ca_authmode mode,
    unsigned int hashes, struct side *s)
{
	char	 why[CA_WHY_MAX];

	memset(s, 0, sizeof(*s));
	ATF_REQUIRE_MSG(ca_local(cs, srcid, s->chain, sizeof(s->chain),
	    &s->chainlen, &s->idtype, s->id, sizeof(s->id), &s->idlen, why,
	    sizeof(why)) == 0, "ca_local: %s", why);
	ATF_REQUIRE_MSG(ca_sign(cs, mode, hashes, data, sizeof(data),
	    &s->method, s->auth, sizeof(s->auth), &s->authlen, why,
	    sizeof(why)) == 0, "ca_sign: %s", why);
}

static void
peer(struct ca_peer *cp, const struct side *s, enum ca_authmode mode)
{
	memset(cp, 0, sizeof(*cp));
	cp->cp_version = 2;
	cp->cp_chain = s->chain;
	cp->cp_chainlen = s->chainlen;
	cp->cp_idtype = s->idtype;
	cp->cp_id = s->id;
	cp->cp_idlen = s->idlen;
	cp->cp_mode = mode;
	cp->cp_hashes = CA_HASHES_OURS;
	cp->cp_method = s->method;
	cp->cp_auth = s->auth;
	cp->cp_authlen = s->authlen;
	cp->cp_data = data;
	cp->cp_datalen = sizeof(data);
}

static void
verify_ok(struct ca_store *cs, const struct ca_peer *cp)
{
	char	 why[CA_WHY_MAX] = "";

	ATF_REQUIRE_MSG(ca_verify(cs, cp, why, sizeof(why)) == 0,
	    "ca_verify: %s", why);
}

static void
verify_no(struct ca_store *cs, const struct ca_peer *cp, const char *w1,
    const char *w2)
{
	char	 why[CA_WHY_MAX] = "";

	ATF_REQUIRE_MSG(ca_verify(cs, cp, why, sizeof(why)) == -1,
	    "accepted, wanted \"%s\"", w1);
	ATF_REQUIRE_MSG(strstr(why, w1) != NULL, "why \"%s\" lacks \"%s\"",
	    why, w1);
	ATF_REQUIRE_MSG(w2 == NULL || strstr(why, w2) != NULL,
	    "why \"%s\" lacks \"%s\"", why, w2);
	ATF_REQUIRE(strchr(why, '\n') == NULL);
	ATF_REQUIRE(ERR_peek_error() == 0);
}

/* Sign with key (certificate for peer.example), verify by a peer. */
static void
roundtrip(EVP_PKEY *key, enum ca_authmode mode, unsigned int hashes,
    uint8_t method, struct side *s)
{
	EVP_PKEY	*cakey = genkey("P-256");
	X509		*ca = mkca(cakey, "Test CA");
	X509		*ee = mkee(key, "peer.example", ca, cakey, 2);
	struct ca_store	*a = signer(ca, ee, key, "certs/peer.example.crt");
	struct ca_store	*b = peerstore(ca, NULL);
	struct ca_peer	 cp;

	sign(a, mkid(ID_FQDN, "peer.example"), mode, hashes, s);
	ATF_REQUIRE_EQ_MSG(s->method, method, "method %u, wanted %u",
	    s->method, method);
	ATF_REQUIRE_EQ(s->idtype, 2);
	ATF_REQUIRE(s->idlen == 12 && memcmp(s->id, "peer.example", 12) == 0);
	peer(&cp, s, mode);
	verify_ok(b, &cp);
	ca_free(a);
	ca_free(b);
	X509_free(ee);
	X509_free(ca);
	EVP_PKEY_free(cakey);
}

/* ---- independent checks of the wire formats ---- */

static int
evp_verify(EVP_PKEY *pk, const EVP_MD *md, int pss, const uint8_t *sig,
    size_t siglen)
{
	EVP_MD_CTX	*ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX	*pctx;
	int		 ok;

	ATF_REQUIRE(EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pk) == 1);
	if (pss > 0) {
		ATF_REQUIRE(EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING) == 1);
		ATF_REQUIRE(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, pss) == 1);
		ATF_REQUIRE(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) == 1);
	}
	ok = EVP_DigestVerify(ctx, sig, siglen, data, sizeof(data)) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return (ok);
}

/* RFC 7427's AUTH data: the AlgorithmIdentifier's NID, and the rest. */
static int
algid(const struct side *s, int *ptype, const uint8_t **sig,
    size_t *siglen, X509_ALGOR **palg)
{
	const uint8_t		*p = s->auth + 1;
	const ASN1_OBJECT	*obj;
	const void		*pval;
	X509_ALGOR		*alg;
	int			 nid;

	ATF_REQUIRE(s->authlen > 1 && s->auth[0] + 1U < s->authlen);
	alg = d2i_X509_ALGOR(NULL, &p, s->auth[0]);
	ATF_REQUIRE(alg != NULL && p == s->auth + 1 + s->auth[0]);
	X509_ALGOR_get0(&obj, ptype, &pval, alg);
	nid = OBJ_obj2nid(obj);
	*sig = p;
	*siglen = s->authlen - 1 - s->auth[0];
	if (palg != NULL)
		*palg = alg;
	else
		X509_ALGOR_free(alg);
	return (nid);
}

ATF_TC_WITHOUT_HEAD(sign_rsa);
ATF_TC_BODY(sign_rsa, tc)
{
	EVP_PKEY	*key = genkey("rsa");
	struct side	 s;

	/* Method 1: PKCS#1 v1.5 with SHA-1 over the octets themselves. */
	roundtrip(key, CA_AUTH_RSA, CA_HASHES_OURS, 1, &s);
	ATF_REQUIRE_EQ(s.authlen, 256);
	ATF_REQUIRE(evp_verify(key, EVP_sha1(), 0, s.auth, s.authlen));
	/* RFC 7427's rule, and a peer that sent no hashes: method 1. */
	roundtrip(key, CA_AUTH_RFC7427, 0, 1, &s);
	ATF_REQUIRE(evp_verify(key, EVP_sha1(), 0, s.auth, s.authlen));
	/* Or only SHA-1, which we do not sign with. */
	roundtrip(key, CA_AUTH_RFC7427, CA_HASH_SHA1, 1, &s);
	EVP_PKEY_free(key);
}

/* RFC 4754: r|s, each as long as the field, verified as DER by EVP. */
static void
ecdsa_classic(const char *curve, enum ca_authmode mode, uint8_t method,
    size_t half, const EVP_MD *md)
{
	EVP_PKEY	*key = genkey(curve);
	ECDSA_SIG	*es;
	BIGNUM		*r, *s;
	uint8_t		*der = NULL;
	struct side	 sd;
	int		 n;

	roundtrip(key, mode, CA_HASHES_OURS, method, &sd);
	ATF_REQUIRE_EQ(sd.authlen, 2 * half);
	r = BN_bin2bn(sd.auth, (int)half, NULL);
	s = BN_bin2bn(sd.auth + half, (int)half, NULL);
	ATF_REQUIRE((es = ECDSA_SIG_new()) != NULL);
	ATF_REQUIRE(ECDSA_SIG_set0(es, r, s));
	ATF_REQUIRE((n = i2d_ECDSA_SIG(es, &der)) > 0);
	ATF_REQUIRE(evp_verify(key, md, 0, der, (size_t)n));
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	/* RFC 7427's rule without hashes from the peer: the same method. */
	roundtrip(key, CA_AUTH_RFC7427, 0, method, &sd);
	ATF_REQUIRE_EQ(sd.authlen, 2 * half);
	EVP_PKEY_free(key);
}

ATF_TC_WITHOUT_HEAD(sign_ecdsa);
ATF_TC_BODY(sign_ecdsa, tc)
{
	ecdsa_classic("P-256", CA_AUTH_ECDSA256, 9, 32, EVP_sha256());
	ecdsa_classic("P-384", CA_AUTH_ECDSA384, 10, 48, EVP_sha384());
	ecdsa_classic("P-521", CA_AUTH_ECDSA521, 11, 66, EVP_sha512());
}

ATF_TC_WITHOUT_HEAD(sign_7427_rsa);
ATF_TC_BODY(sign_7427_rsa, tc)
{
	static const struct {
		unsigned int	 hashes;
		int		 nid;
		const EVP_MD	*(*md)(void);
	} v[] = {
		{ CA_HASHES_OURS, NID_sha256WithRSAEncryption, EVP_sha256 },
		{ CA_HASH_SHA384 | CA_HASH_SHA512, NID_sha384WithRSAEncryption,
		    EVP_sha384 },
		{ CA_HASH_SHA512 | CA_HASH_SHA1, NID_sha512WithRSAEncryption,
		    EVP_sha512 }
	};
	EVP_PKEY	*key = genkey("rsa");
	const uint8_t	*sig;
	struct side	 s;
	size_t		 i, siglen;
	int		 ptype;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		roundtrip(key, CA_AUTH_RFC7427, v[i].hashes, 14, &s);
		ATF_REQUIRE_EQ(algid(&s, &ptype, &sig, &siglen, NULL),
		    v[i].nid);
		ATF_REQUIRE_EQ(ptype, V_ASN1_NULL);	/* RFC 4055 */
		ATF_REQUIRE_EQ(siglen, 256);
		ATF_REQUIRE(evp_verify(key, v[i].md(), 0, sig, siglen));
	}
	EVP_PKEY_free(key);
}

ATF_TC_WITHOUT_HEAD(sign_7427_pss);
ATF_TC_BODY(sign_7427_pss, tc)
{
	static const struct {
		unsigned int	 hashes;
		const EVP_MD	*(*md)(void);
	} v[] = {
		{ CA_HASHES_OURS, EVP_sha256 },
		{ CA_HASH_SHA384, EVP_sha384 },
		{ CA_HASH_SHA512, EVP_sha512 }
	};
	EVP_PKEY	*key = genkey("rsa-pss"), *rsa = genkey("rsa");
	EVP_PKEY	*cakey = genkey("P-256");
	X509		*ca = mkca(cakey, "Test CA");
	X509		*ee = mkee(rsa, "peer.example", ca, cakey, 2);
	struct ca_store	*b = peerstore(ca, NULL), *a;
	RSA_PSS_PARAMS	*pss;
	X509_ALGOR	*alg, *mgfmd;
	const void	*pval;
	const ASN1_OBJECT *obj;
	const uint8_t	*sig;
	EVP_MD_CTX	*ctx;
	EVP_PKEY_CTX	*pctx;
	struct ca_peer	 cp;
	struct side	 s, t;
	size_t		 i, siglen, n;
	int		 ptype, mdlen;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		/* An RSA-PSS key signs with PSS (and nothing else). */
		roundtrip(key, CA_AUTH_RFC7427, v[i].hashes, 14, &s);
		ATF_REQUIRE_EQ(algid(&s, &ptype, &sig, &siglen, &alg),
		    NID_rsassaPss);
		ATF_REQUIRE_EQ(ptype, V_ASN1_SEQUENCE);
		X509_ALGOR_get0(&obj, &ptype, &pval, alg);
		pss = ASN1_item_unpack(pval, ASN1_ITEM_rptr(RSA_PSS_PARAMS));
		ATF_REQUIRE(pss != NULL);
		mdlen = EVP_MD_get_size(v[i].md());
		ATF_REQUIRE_EQ(OBJ_obj2nid(pss->hashAlgorithm->algorithm),
		    EVP_MD_get_type(v[i].md()));
		ATF_REQUIRE_EQ(OBJ_obj2nid(pss->maskGenAlgorithm->algorithm),
		    NID_mgf1);
		X509_ALGOR_get0(&obj, &ptype, &pval, pss->maskGenAlgorithm);
		mgfmd = ASN1_item_unpack(pval, ASN1_ITEM_rptr(X509_ALGOR));
		ATF_REQUIRE(mgfmd != NULL);
		ATF_REQUIRE_EQ(OBJ_obj2nid(mgfmd->algorithm),
		    EVP_MD_get_type(v[i].md()));
		ATF_REQUIRE_EQ(ASN1_INTEGER_get(pss->saltLength), mdlen);
		ATF_REQUIRE(evp_verify(key, v[i].md(), mdlen, sig, siglen));
		X509_ALGOR_free(mgfmd);
		RSA_PSS_PARAMS_free(pss);
		X509_ALGOR_free(alg);

		/*
		 * And a peer with an rsaEncryption key signing PSS (as
		 * strongSwan may): the same AlgorithmIdentifier, EVP's
		 * signature, accepted by ca_verify().
		 */
		t = s;
		n = sizeof(t.auth) - 1 - t.auth[0];
		ATF_REQUIRE((ctx = EVP_MD_CTX_new()) != NULL);
		ATF_REQUIRE(EVP_DigestSignInit(ctx, &pctx, v[i].md(), NULL,
		    rsa) == 1);
		ATF_REQUIRE(EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING) == 1);
		ATF_REQUIRE(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, mdlen) == 1);
		ATF_REQUIRE(EVP_DigestSign(ctx, t.auth + 1 + t.auth[0], &n,
		    data, sizeof(data)) == 1);
		EVP_MD_CTX_free(ctx);
		t.authlen = 1 + t.auth[0] + n;
		a = signer(ca, ee, rsa, "certs/peer.example.crt");
		ATF_REQUIRE(ca_local(a, mkid(ID_FQDN, "peer.example"),
		    t.chain, sizeof(t.chain), &t.chainlen, &t.idtype, t.id,
		    sizeof(t.id), &t.idlen, NULL, 0) == 0);
		peer(&cp, &t, CA_AUTH_RFC7427);
		verify_ok(b, &cp);
		/* A salt of another length is refused. */
		t.auth[t.auth[0]]--;	/* saltLength, the last octet */
		peer(&cp, &t, CA_AUTH_RFC7427);
		verify_no(b, &cp, "not supported", NULL);
		ca_free(a);
	}
	ca_free(b);
	X509_free(ee);
	X509_free(ca);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(key);
}

ATF_TC_WITHOUT_HEAD(sign_7427_ecdsa);
ATF_TC_BODY(sign_7427_ecdsa, tc)
{
	static const struct {
		const char	*curve;
		unsigned int	 hashes;
		int		 nid;
		const EVP_MD	*(*md)(void);
	} v[] = {
		{ "P-256", CA_HASHES_OURS, NID_ecdsa_with_SHA256, EVP_sha256 },
		{ "P-384", CA_HASHES_OURS, NID_ecdsa_with_SHA384, EVP_sha384 },
		{ "P-521", CA_HASHES_OURS, NID_ecdsa_with_SHA512, EVP_sha512 },
		/* The key's own hash missing: another one the peer has. */
		{ "P-256", CA_HASH_SHA512, NID_ecdsa_with_SHA512, EVP_sha512 }
	};
	EVP_PKEY	*key;
	ECDSA_SIG	*es;
	const uint8_t	*sig, *p;
	struct side	 s;
	size_t		 i, siglen;
	int		 ptype;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		key = genkey(v[i].curve);
		roundtrip(key, CA_AUTH_RFC7427, v[i].hashes, 14, &s);
		ATF_REQUIRE_EQ(algid(&s, &ptype, &sig, &siglen, NULL),
		    v[i].nid);
		ATF_REQUIRE_EQ(ptype, V_ASN1_UNDEF);	/* RFC 5758 */
		/* The signature is the DER ECDSA-Sig-Value, all of it. */
		p = sig;
		ATF_REQUIRE((es = d2i_ECDSA_SIG(NULL, &p, (long)siglen)) !=
		    NULL);
		ATF_REQUIRE(p == sig + siglen);
		ECDSA_SIG_free(es);
		ATF_REQUIRE(evp_verify(key, v[i].md(), 0, sig, siglen));
		EVP_PKEY_free(key);
	}
}

ATF_TC_WITHOUT_HEAD(sign_7427_eddsa);
ATF_TC_BODY(sign_7427_eddsa, tc)
{
	static const struct {
		const char	*kind;
		int		 nid;
		size_t		 siglen;
	} v[] = {
		{ "ED25519", NID_ED25519, 64 },
		{ "ED448", NID_ED448, 114 }
	};
	EVP_PKEY	*key;
	struct ca_store	*cs;
	const uint8_t	*sig;
	struct side	 s;
	size_t		 i, siglen, len;
	uint8_t		 method, auth[CA_SIG_MAX];
	char		 why[CA_WHY_MAX];
	int		 ptype;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		key = genkey(v[i].kind);
		roundtrip(key, CA_AUTH_RFC7427, CA_HASHES_OURS, 14, &s);
		ATF_REQUIRE_EQ(algid(&s, &ptype, &sig, &siglen, NULL),
		    v[i].nid);
		ATF_REQUIRE_EQ(ptype, V_ASN1_UNDEF);	/* RFC 8410 */
		ATF_REQUIRE_EQ(siglen, v[i].siglen);
		ATF_REQUIRE(evp_verify(key, NULL, 0, sig, siglen));
		/* Without "identity" from the peer, nothing to fall to. */
		cs = store();
		add(cs, CA_F_KEY, "private/local.key", O_KEY, key, 1);
		ATF_REQUIRE(ca_sign(cs, CA_AUTH_RFC7427, CA_HASH_SHA256, data,
		    sizeof(data), &method, auth, sizeof(auth), &len, why,
		    sizeof(why)) == -1);
		ATF_REQUIRE_MSG(strstr(why, "Ed") != NULL, "%s", why);
		ca_free(cs);
		EVP_PKEY_free(key);
	}
}

ATF_TC_WITHOUT_HEAD(sign_mode_key);
ATF_TC_BODY(sign_mode_key, tc)
{
	static const struct {
		const char	*kind;
		enum ca_authmode mode;
		const char	*w1, *w2;
	} v[] = {
		{ "rsa", CA_AUTH_ECDSA256, "ecdsa256", "is RSA" },
		{ "P-256", CA_AUTH_RSA, "(rsa)", "is ECDSA P-256" },
		{ "P-256", CA_AUTH_ECDSA384, "P-384", "is ECDSA P-256" },
		{ "P-521", CA_AUTH_ECDSA256, "P-256", "is ECDSA P-521" },
		{ "rsa-pss", CA_AUTH_RSA, "(rsa)", "RSA-PSS" },
		{ "rsa", CA_AUTH_NONE, "psk", "does not sign" }
	};
	struct ca_store	*cs;
	EVP_PKEY	*key;
	uint8_t		 method, auth[CA_SIG_MAX];
	size_t		 i, len;
	char		 why[CA_WHY_MAX];

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		cs = store();
		ATF_REQUIRE(!ca_haskey(cs));
		ATF_REQUIRE(ca_sign(cs, v[i].mode, 0, data, sizeof(data),
		    &method, auth, sizeof(auth), &len, why,
		    sizeof(why)) == -1);
		ATF_REQUIRE(strstr(why, "no private key") != NULL);
		key = genkey(v[i].kind);
		add(cs, CA_F_KEY, "private/local.key", O_KEY, key, 0);
		ATF_REQUIRE(ca_sign(cs, v[i].mode, CA_HASHES_OURS, data,
		    sizeof(data), &method, auth, sizeof(auth), &len, why,
		    sizeof(why)) == -1);
		ATF_REQUIRE_MSG(strstr(why, v[i].w1) != NULL &&
		    strstr(why, v[i].w2) != NULL, "%s", why);
		ca_free(cs);
		EVP_PKEY_free(key);
	}
	/* An AUTH buffer too small is an error, not an overflow. */
	cs = store();
	key = genkey("rsa");
	add(cs, CA_F_KEY, "private/local.key", O_KEY, key, 1);
	ATF_REQUIRE(ca_sign(cs, CA_AUTH_RFC7427, CA_HASHES_OURS, data,
	    sizeof(data), &method, auth, 100, &len, why, sizeof(why)) == -1);
	ATF_REQUIRE(ca_sign(cs, CA_AUTH_RSA, 0, data, sizeof(data), &method,
	    auth, 255, &len, why, sizeof(why)) == -1);
	ca_free(cs);
	EVP_PKEY_free(key);
}

/* ---- the peer's certificate ---- */

struct pki {
	EVP_PKEY	*cakey, *key;
	X509		*ca;
};

static void
pki(struct pki *p)
{
	p->cakey = genkey("P-256");
	p->key = genkey("P-256");
	p->ca = mkca(p->cakey, "Test CA");
}

static void
pki_free(struct pki *p)
{
	X509_free(p->ca);
	EVP_PKEY_free(p->key);
	EVP_PKEY_free(p->cakey);
}

/* What a peer with ee (and inter) and p->key sends for ID id. */
static void
sent(const struct pki *p, X509 *ee, X509 *inter, uint8_t idtype,
    const void *id, size_t idlen, struct side *s)
{
	struct ca_store	*cs = store();
	uint8_t		*q;
	int		 n;

	memset(s, 0, sizeof(*s));
	add(cs, CA_F_KEY, "private/local.key", O_KEY, p->key, 0);
	ATF_REQUIRE(ca_sign(cs, CA_AUTH_RFC7427, CA_HASHES_OURS, data,
	    sizeof(data), &s->method, s->auth, sizeof(s->auth), &s->authlen,
	    NULL, 0) == 0);
	ca_free(cs);
	for (q = s->chain; ee != NULL; ee = inter, inter = NULL) {
		ATF_REQUIRE((n = i2d_X509(ee, NULL)) > 0);
		*q++ = (uint8_t)(n >> 8);
		*q++ = (uint8_t)n;
		ATF_REQUIRE(i2d_X509(ee, &q) == n);
	}
	s->chainlen = (size_t)(q - s->chain);
	s->idtype = idtype;
	memcpy(s->id, id, idlen);
	s->idlen = idlen;
}

static void
sent_fqdn(const struct pki *p, X509 *ee, const char *fqdn, struct side *s)
{
	sent(p, ee, NULL, 2, fqdn, strlen(fqdn), s);
}

ATF_TC_WITHOUT_HEAD(verify_untrusted);
ATF_TC_BODY(verify_untrusted, tc)
{
	struct pki	 p;
	EVP_PKEY	*otherkey = genkey("P-256");
	X509		*other = mkca(otherkey, "Other CA");
	X509		*ee;
	struct ca_store	*cs;
	struct ca_peer	 cp;
	struct side	 s;

	pki(&p);
	ee = mkee(p.key, "peer.example", other, otherkey, 2);
	cs = peerstore(p.ca, NULL);
	sent_fqdn(&p, ee, "peer.example", &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_no(cs, &cp, "certificate \"CN=peer.example,O=Test\"",
	    "not signed by a trusted CA");
	/* A self-signed certificate is no better. */
	X509_free(ee);
	ee = mkee(p.key, "peer.example", NULL, p.key, 2);
	sent_fqdn(&p, ee, "peer.example", &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_no(cs, &cp, "peer.example", "not signed by a trusted CA");
	ca_free(cs);
	X509_free(ee);
	X509_free(other);
	EVP_PKEY_free(otherkey);
	pki_free(&p);
}

ATF_TC_WITHOUT_HEAD(verify_validity);
ATF_TC_BODY(verify_validity, tc)
{
	struct certopt	 old = { .cn = "old.example", .san = "DNS:old.example",
	    .from = -2 * 86400, .to = -86400 };
	struct certopt	 young = { .cn = "young.example",
	    .san = "DNS:young.example", .from = 86400, .to = 2 * 86400 };
	struct pki	 p;
	struct ca_store	*cs;
	struct ca_peer	 cp;
	struct side	 s;
	X509		*ee;

	pki(&p);
	cs = peerstore(p.ca, NULL);
	ee = mkcert(p.key, p.ca, p.cakey, &old);
	sent_fqdn(&p, ee, "old.example", &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_no(cs, &cp, "\"CN=old.example,O=Test\": expired (notAfter 20",
	    "UTC)");
	X509_free(ee);
	ee = mkcert(p.key, p.ca, p.cakey, &young);
	sent_fqdn(&p, ee, "young.example", &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_no(cs, &cp, "\"CN=young.example,O=Test\": not yet valid "
	    "(notBefore 20", NULL);
	X509_free(ee);
	ca_free(cs);
	pki_free(&p);
}

ATF_TC_WITHOUT_HEAD(verify_crl);
ATF_TC_BODY(verify_crl, tc)
{
	struct pki	 p;
	EVP_PKEY	*ca2key = genkey("P-256");
	X509		*ca2 = mkca(ca2key, "Second CA");
	X509		*bad, *good, *other;
	X509_CRL	*crl;
	struct ca_store	*cs;
	struct ca_peer	 cp;
	struct side	 s;

	pki(&p);
	bad = mkee(p.key, "bad.example", p.ca, p.cakey, 7);
	good = mkee(p.key, "good.example", p.ca, p.cakey, 8);
	other = mkee(p.key, "other.example", ca2, ca2key, 7);
	crl = mkcrl(p.ca, p.cakey, bad);
	/* Both CAs trusted; a CRL (as DER) for the first only. */
	cs = store();
	add(cs, CA_F_CA, "ca/ca.crt", O_CERT, p.ca, 0);
	add(cs, CA_F_CA, "ca/ca2.der", O_CERT, ca2, 1);
	add(cs, CA_F_CRL, "crls/ca.crl", O_CRL, crl, 1);
	ATF_REQUIRE(ca_ready(cs) == 0);

	sent_fqdn(&p, bad, "bad.example", &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_no(cs, &cp, "certificate \"CN=bad.example,O=Test\": revoked",
	    NULL);
	sent_fqdn(&p, good, "good.example", &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_ok(cs, &cp);
	/* Same serial, other CA, which has no CRL: fine. */
	sent_fqdn(&p, other, "other.example", &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_ok(cs, &cp);
	ca_free(cs);
	/* Without the CRL the revoked one passes: it was the CRL. */
	cs = peerstore(p.ca, NULL);
	sent_fqdn(&p, bad, "bad.example", &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_ok(cs, &cp);
	ca_free(cs);
	X509_CRL_free(crl);
	X509_free(other);
	X509_free(good);
	X509_free(bad);
	X509_free(ca2);
	EVP_PKEY_free(ca2key);
	pki_free(&p);
}

/*
 * Review findings: a revoked intermediate refuses its leaves (the whole
 * chain is checked), a PEM file of two CRLs counts both, and a CRL that
 * cannot be read fails closed.
 */
ATF_TC_WITHOUT_HEAD(verify_crl_chain);
ATF_TC_BODY(verify_crl_chain, tc)
{
	struct pki	 p;
	EVP_PKEY	*ikey = genkey("P-256");
	X509		*inter, *ee, *good;
	X509_CRL	*rootcrl, *intercrl, *emptycrl;
	struct ca_store	*cs;
	struct ca_peer	 cp;
	struct side	 s;
	BIO		*bio;
	char		*mem;
	long		 len;

	pki(&p);
	inter = mkinter(ikey, "Inter CA", p.ca, p.cakey);
	ee = mkee(p.key, "leaf.example", inter, ikey, 9);
	good = mkee(p.key, "good.example", inter, ikey, 10);
	rootcrl = mkcrl(p.ca, p.cakey, inter);
	emptycrl = mkcrl(p.ca, p.cakey, NULL);
	intercrl = mkcrl(inter, ikey, ee);

	/* The root revokes the intermediate: its leaf is refused. */
	cs = peerstore(p.ca, rootcrl);
	sent(&p, ee, inter, 2, "leaf.example", 12, &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_no(cs, &cp, "revoked", NULL);
	ca_free(cs);

	/* One PEM file: the root's empty CRL, then the intermediate's. */
	ATF_REQUIRE((bio = BIO_new(BIO_s_mem())) != NULL);
	ATF_REQUIRE(PEM_write_bio_X509_CRL(bio, emptycrl));
	ATF_REQUIRE(PEM_write_bio_X509_CRL(bio, intercrl));
	len = BIO_get_mem_data(bio, &mem);
	cs = store();
	add(cs, CA_F_CA, "ca/ca.crt", O_CERT, p.ca, 0);
	ATF_REQUIRE(ca_add(cs, CA_F_CRL, "crls/both.pem", (uint8_t *)mem,
	    (size_t)len) == 0);
	ATF_REQUIRE(ca_ready(cs) == 0);
	verify_no(cs, &cp, "revoked", NULL);
	sent(&p, good, inter, 2, "good.example", 12, &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_ok(cs, &cp);
	ca_free(cs);

	/* A CRL file cut short: no store, so nothing passes. */
	cs = store();
	add(cs, CA_F_CA, "ca/ca.crt", O_CERT, p.ca, 0);
	/* (the second CRL loses its last line and its END line) */
	ATF_CHECK(ca_add(cs, CA_F_CRL, "crls/cut.pem", (uint8_t *)mem,
	    (size_t)len - 40) == -1);
	ATF_CHECK(ca_ready(cs) == -1);
	ca_free(cs);
	BIO_free(bio);

	X509_CRL_free(rootcrl);
	X509_CRL_free(intercrl);
	X509_CRL_free(emptycrl);
	X509_free(good);
	X509_free(ee);
	X509_free(inter);
	EVP_PKEY_free(ikey);
	pki_free(&p);
}

ATF_TC_WITHOUT_HEAD(verify_keyusage);
ATF_TC_BODY(verify_keyusage, tc)
{
	struct certopt	 enc = { .cn = "enc.example", .san = "DNS:enc.example",
	    .ku = "keyEncipherment" };
	struct certopt	 nr = { .cn = "nr.example", .san = "DNS:nr.example",
	    .ku = "nonRepudiation" };
	struct certopt	 none = { .cn = "none.example",
	    .san = "DNS:none.example" };
	struct pki	 p;
	struct ca_store	*cs;
	struct ca_peer	 cp;
	struct side	 s;
	X509		*ee;

	pki(&p);
	cs = peerstore(p.ca, NULL);
	ee = mkcert(p.key, p.ca, p.cakey, &enc);
	sent_fqdn(&p, ee, "enc.example", &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_no(cs, &cp, "\"CN=enc.example,O=Test\": keyUsage",
	    "digitalSignature");
	X509_free(ee);
	ee = mkcert(p.key, p.ca, p.cakey, &nr);
	sent_fqdn(&p, ee, "nr.example", &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_ok(cs, &cp);
	X509_free(ee);
	/* No keyUsage, no extendedKeyUsage (strongSwan's): fine. */
	ee = mkcert(p.key, p.ca, p.cakey, &none);
	sent_fqdn(&p, ee, "none.example", &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_ok(cs, &cp);
	X509_free(ee);
	ca_free(cs);
	pki_free(&p);
}

ATF_TC_WITHOUT_HEAD(verify_id_san);
ATF_TC_BODY(verify_id_san, tc)
{
	struct certopt	 o = { .cn = "peer.example", .ku = "digitalSignature",
	    .san = "DNS:peer.example,email:user@example.org,"
	    "IP:192.0.2.1,IP:2001:db8::1" };
	struct pki	 p;
	struct ca_store	*cs;
	struct ca_peer	 cp;
	struct side	 s;
	X509		*ee;
	uint8_t		 a4[4], a6[16];

	pki(&p);
	cs = peerstore(p.ca, NULL);
	ee = mkcert(p.key, p.ca, p.cakey, &o);
	sent_fqdn(&p, ee, "PEER.example", &s);		/* case differs */
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_ok(cs, &cp);
	sent(&p, ee, NULL, 3, "user@example.org", 16, &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_ok(cs, &cp);
	inet_pton(AF_INET, "192.0.2.1", a4);
	sent(&p, ee, NULL, 1, a4, 4, &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_ok(cs, &cp);
	inet_pton(AF_INET6, "2001:db8::1", a6);
	sent(&p, ee, NULL, 5, a6, 16, &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_ok(cs, &cp);

	sent_fqdn(&p, ee, "a.example", &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_no(cs, &cp, "ID fqdn \"a.example\" is not in certificate "
	    "\"CN=peer.example,O=Test\"'s subjectAltName", NULL);
	/* The CN is not a SAN. */
	o.san = "DNS:other.example";
	X509_free(ee);
	ee = mkcert(p.key, p.ca, p.cakey, &o);
	sent_fqdn(&p, ee, "peer.example", &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_no(cs, &cp, "subjectAltName", NULL);
	/* Nor is an address of the other family, or a name as UFQDN. */
	inet_pton(AF_INET, "192.0.2.2", a4);
	sent(&p, ee, NULL, 1, a4, 4, &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_no(cs, &cp, "ID ipv4 \"192.0.2.2\" is not in", NULL);
	sent(&p, ee, NULL, 3, "other.example", 13, &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_no(cs, &cp, "ID ufqdn \"other.example\"", "subjectAltName");
	X509_free(ee);
	ca_free(cs);
	pki_free(&p);
}

ATF_TC_WITHOUT_HEAD(verify_dstid);
ATF_TC_BODY(verify_dstid, tc)
{
	struct certopt	 o = { .cn = "peer.example", .ku = "digitalSignature",
	    .san = "DNS:peer.example,IP:192.0.2.1" };
	struct pki	 p;
	struct ca_store	*cs;
	struct ca_peer	 cp;
	struct side	 s;
	X509		*ee;
	uint8_t		 a4[4];

	pki(&p);
	cs = peerstore(p.ca, NULL);
	ee = mkcert(p.key, p.ca, p.cakey, &o);
	sent_fqdn(&p, ee, "peer.example", &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	cp.cp_dstid = mkid(ID_FQDN, "Peer.Example");
	verify_ok(cs, &cp);
	cp.cp_dstid = mkid(ID_NONE, "");
	verify_ok(cs, &cp);
	cp.cp_dstid = mkid(ID_FQDN, "other.example");
	verify_no(cs, &cp, "ID fqdn \"peer.example\" is not the rule's dstid "
	    "fqdn \"other.example\"", NULL);
	cp.cp_dstid = mkid(ID_IPV4, "192.0.2.1");
	verify_no(cs, &cp, "not the rule's dstid ipv4", NULL);
	inet_pton(AF_INET, "192.0.2.1", a4);
	sent(&p, ee, NULL, 1, a4, 4, &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	cp.cp_dstid = mkid(ID_IPV4, "192.0.2.1");
	verify_ok(cs, &cp);
	cp.cp_dstid = mkid(ID_IPV4, "192.0.2.10");
	verify_no(cs, &cp, "ID ipv4 \"192.0.2.1\" is not the rule's dstid",
	    NULL);
	X509_free(ee);
	ca_free(cs);
	pki_free(&p);
}

ATF_TC_WITHOUT_HEAD(verify_dn);
ATF_TC_BODY(verify_dn, tc)
{
	struct pki	 p;
	struct ca_store	*cs;
	struct ca_peer	 cp;
	struct side	 s;
	X509		*ee;
	uint8_t		*der = NULL, dn[CA_ID_MAX];
	size_t		 dnlen;
	int		 n;

	pki(&p);
	cs = peerstore(p.ca, NULL);
	ee = mkee(p.key, "peer.example", p.ca, p.cakey, 2);
	ATF_REQUIRE((n = i2d_X509_NAME(X509_get_subject_name(ee),
	    &der)) > 0);
	sent(&p, ee, NULL, 9, der, (size_t)n, &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_ok(cs, &cp);
	/* dstid in either notation; ours is UTF8String, theirs ASCII. */
	cp.cp_dstid = mkid(ID_ASN1DN, "/O=Test/CN=peer.example");
	verify_ok(cs, &cp);
	cp.cp_dstid = mkid(ID_ASN1DN, "CN=peer.example, O=Test");
	verify_ok(cs, &cp);
	cp.cp_dstid = mkid(ID_ASN1DN, "CN=other.example, O=Test");
	verify_no(cs, &cp, "ID asn1dn \"CN=peer.example,O=Test\" is not the "
	    "rule's dstid asn1dn \"CN=other.example, O=Test\"", NULL);
	/* Order matters: this is O under CN. */
	cp.cp_dstid = mkid(ID_ASN1DN, "/CN=peer.example/O=Test");
	verify_no(cs, &cp, "not the rule's dstid", NULL);
	/* An ID naming another subject. */
	ATF_REQUIRE(ca_dn_der("/O=Test/CN=else.example", dn, sizeof(dn),
	    &dnlen) == 0);
	sent(&p, ee, NULL, 9, dn, dnlen, &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_no(cs, &cp, "ID asn1dn \"CN=else.example,O=Test\" is not in "
	    "certificate \"CN=peer.example,O=Test\"'s subject", NULL);
	OPENSSL_free(der);
	X509_free(ee);
	ca_free(cs);
	pki_free(&p);
}

ATF_TC_WITHOUT_HEAD(verify_tampered);
ATF_TC_BODY(verify_tampered, tc)
{
	static const char *const kinds[] = { "rsa", "P-384", "ED25519" };
	static const enum ca_authmode modes[] = { CA_AUTH_RSA,
	    CA_AUTH_ECDSA384, CA_AUTH_RFC7427 };
	EVP_PKEY	*cakey = genkey("P-256"), *key;
	X509		*ca = mkca(cakey, "Test CA"), *ee;
	struct ca_store	*a, *b = peerstore(ca, NULL);
	struct ca_peer	 cp;
	struct side	 s;
	uint8_t		 d[sizeof(data)];
	size_t		 i;

	for (i = 0; i < 3; i++) {
		key = genkey(kinds[i]);
		ee = mkee(key, "peer.example", ca, cakey, 2);
		a = signer(ca, ee, key, "certs/peer.example.crt");
		sign(a, NULL, modes[i], CA_HASHES_OURS, &s);
		peer(&cp, &s, modes[i]);
		verify_ok(b, &cp);
		s.auth[s.authlen - 5] ^= 0x01;
		verify_no(b, &cp, "signature does not verify", NULL);
		s.auth[s.authlen - 5] ^= 0x01;
		memcpy(d, data, sizeof(d));
		d[3] ^= 0x80;
		cp.cp_data = d;
		verify_no(b, &cp, "signature does not verify", NULL);
		cp.cp_data = data;
		verify_ok(b, &cp);
		ca_free(a);
		X509_free(ee);
		EVP_PKEY_free(key);
	}
	ca_free(b);
	X509_free(ca);
	EVP_PKEY_free(cakey);
}

ATF_TC_WITHOUT_HEAD(verify_mode);
ATF_TC_BODY(verify_mode, tc)
{
	EVP_PKEY	*cakey = genkey("P-256"), *rsa = genkey("rsa");
	EVP_PKEY	*ec = genkey("P-256");
	X509		*ca = mkca(cakey, "Test CA"), *ree, *eee;
	struct ca_store	*ra, *ea, *b = peerstore(ca, NULL);
	struct ca_peer	 cp;
	struct side	 s;

	ree = mkee(rsa, "rsa.example", ca, cakey, 2);
	eee = mkee(ec, "ec.example", ca, cakey, 3);
	ra = signer(ca, ree, rsa, "certs/rsa.example.crt");
	ea = signer(ca, eee, ec, "certs/ec.example.crt");

	sign(ra, NULL, CA_AUTH_RSA, 0, &s);
	peer(&cp, &s, CA_AUTH_ECDSA256);
	verify_no(b, &cp, "method 1 (RSA) refused by rule (ecdsa256)", NULL);
	cp.cp_mode = CA_AUTH_NONE;
	verify_no(b, &cp, "refused by rule (psk)", NULL);
	/* RFC 7427's rule takes a peer's fallback to method 1. */
	cp.cp_mode = CA_AUTH_RFC7427;
	verify_ok(b, &cp);
	/* A method that does not fit the certificate's key. */
	cp.cp_method = 9;
	cp.cp_mode = CA_AUTH_ECDSA256;
	verify_no(b, &cp, "method 9 (ECDSA_256) does not fit", "RSA");

	/*
	 * rsa names the key: an RFC 7427 signature with an RSA key passes
	 * (strongSwan's answer to our hashes), one with an EC key not.
	 */
	sign(ra, NULL, CA_AUTH_RFC7427, CA_HASHES_OURS, &s);
	peer(&cp, &s, CA_AUTH_RSA);
	verify_ok(b, &cp);
	sign(ea, NULL, CA_AUTH_RFC7427, CA_HASHES_OURS, &s);
	peer(&cp, &s, CA_AUTH_RSA);
	verify_no(b, &cp, "method 14 (DIGITAL_SIGNATURE) refused by rule "
	    "(rsa)", NULL);
	cp.cp_mode = CA_AUTH_ECDSA256;
	verify_ok(b, &cp);
	cp.cp_mode = CA_AUTH_ECDSA384;
	verify_no(b, &cp, "refused by rule (ecdsa384)", NULL);

	sign(ea, NULL, CA_AUTH_ECDSA256, 0, &s);
	peer(&cp, &s, CA_AUTH_ECDSA384);
	verify_no(b, &cp, "method 9 (ECDSA_256) refused by rule (ecdsa384)",
	    NULL);
	cp.cp_mode = CA_AUTH_ECDSA256;
	verify_ok(b, &cp);
	cp.cp_mode = CA_AUTH_RFC7427;
	verify_ok(b, &cp);

	/* The hash of a 7427 signature must be one we announced. */
	sign(ea, NULL, CA_AUTH_RFC7427, CA_HASH_SHA384, &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_ok(b, &cp);
	cp.cp_hashes = CA_HASH_SHA256 | CA_HASH_SHA512;
	verify_no(b, &cp, "not announced", NULL);
	/* And the AlgorithmIdentifier must fit the key. */
	sent(&(struct pki){ .key = rsa }, eee, NULL, 2, "ec.example", 10, &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_no(b, &cp, "does not fit the peer's ECDSA P-256 key", NULL);

	ca_free(ra);
	ca_free(ea);
	ca_free(b);
	X509_free(ree);
	X509_free(eee);
	X509_free(ca);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(cakey);
}

ATF_TC_WITHOUT_HEAD(verify_intermediate);
ATF_TC_BODY(verify_intermediate, tc)
{
	struct pki	 p;
	EVP_PKEY	*ikey = genkey("P-384");
	X509		*inter, *ee;
	struct ca_store	*cs;
	struct ca_peer	 cp;
	struct side	 s;

	pki(&p);
	inter = mkinter(ikey, "Intermediate CA", p.ca, p.cakey);
	ee = mkee(p.key, "peer.example", inter, ikey, 2);
	cs = peerstore(p.ca, NULL);
	sent(&p, ee, inter, 2, "peer.example", 12, &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_ok(cs, &cp);
	sent_fqdn(&p, ee, "peer.example", &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_no(cs, &cp, "\"CN=peer.example,O=Test\": not signed by a "
	    "trusted CA", NULL);
	ca_free(cs);
	X509_free(ee);
	X509_free(inter);
	EVP_PKEY_free(ikey);
	pki_free(&p);
}

/* ---- our side ---- */

/* The chain's certificates, as X509s. */
static int
unchain(const uint8_t *p, size_t len, X509 **out, int max)
{
	const uint8_t	*q;
	size_t		 n;
	int		 i = 0;

	while (len > 0) {
		ATF_REQUIRE(len >= 2 && i < max);
		n = (size_t)p[0] << 8 | p[1];
		ATF_REQUIRE(n + 2 <= len);
		q = p + 2;
		ATF_REQUIRE((out[i] = d2i_X509(NULL, &q, (long)n)) != NULL);
		ATF_REQUIRE(q == p + 2 + n);
		p += 2 + n;
		len -= 2 + n;
		i++;
	}
	return (i);
}

static void
unchain_free(X509 **x, int n)
{
	while (n-- > 0)
		X509_free(x[n]);
}

ATF_TC_WITHOUT_HEAD(local_srcid);
ATF_TC_BODY(local_srcid, tc)
{
	struct certopt	 oa = { .cn = "a.example", .san = "DNS:a.example" };
	struct certopt	 ob = { .cn = "b.example", .serial = 2,
	    .san = "DNS:b.example,IP:192.0.2.1,DNS:c.example" };
	struct pki	 p;
	struct ca_store	*cs;
	struct side	 s;
	X509		*a, *b, *got[4];
	X509_NAME	*name;
	const uint8_t	*q;
	int		 n;

	pki(&p);
	a = mkcert(p.key, p.ca, p.cakey, &oa);
	b = mkcert(p.key, p.ca, p.cakey, &ob);
	cs = store();
	add(cs, CA_F_CA, "ca/ca.crt", O_CERT, p.ca, 0);
	add(cs, CA_F_CERT, "certs/a.example.crt", O_CERT, a, 0);
	add(cs, CA_F_CERT, "/etc/iked/certs/192.0.2.1.crt", O_CERT, b, 1);
	add(cs, CA_F_KEY, "private/local.key", O_KEY, p.key, 1);
	ATF_REQUIRE(ca_ready(cs) == 0);

	/* By file name: 192.0.2.1.crt is b; the ID is 4 bytes. */
	sign(cs, mkid(ID_IPV4, "192.0.2.1"), CA_AUTH_RFC7427, CA_HASHES_OURS,
	    &s);
	ATF_REQUIRE_EQ(unchain(s.chain, s.chainlen, got, 4), 1);
	ATF_REQUIRE(X509_cmp(got[0], b) == 0);
	unchain_free(got, 1);
	ATF_REQUIRE(s.idtype == 1 && s.idlen == 4 &&
	    memcmp(s.id, "\300\000\002\001", 4) == 0);
	sign(cs, mkid(ID_FQDN, "a.example"), CA_AUTH_RFC7427, CA_HASHES_OURS,
	    &s);
	ATF_REQUIRE_EQ(unchain(s.chain, s.chainlen, got, 4), 1);
	ATF_REQUIRE(X509_cmp(got[0], a) == 0);
	unchain_free(got, 1);
	ATF_REQUIRE(s.idtype == 2 && s.idlen == 9 &&
	    memcmp(s.id, "a.example", 9) == 0);
	/* No such file: of the key's certificates, the one naming it. */
	sign(cs, mkid(ID_FQDN, "c.example"), CA_AUTH_RFC7427, CA_HASHES_OURS,
	    &s);
	n = unchain(s.chain, s.chainlen, got, 4);
	ATF_REQUIRE(n == 1 && X509_cmp(got[0], b) == 0);
	unchain_free(got, n);
	/* ASN1_DN srcid: the DER. */
	sign(cs, mkid(ID_ASN1DN, "CN=b.example, O=Test"), CA_AUTH_RFC7427,
	    CA_HASHES_OURS, &s);
	n = unchain(s.chain, s.chainlen, got, 4);
	ATF_REQUIRE(n == 1 && X509_cmp(got[0], b) == 0);
	unchain_free(got, n);
	ATF_REQUIRE_EQ(s.idtype, 9);
	q = s.id;
	ATF_REQUIRE((name = d2i_X509_NAME(NULL, &q, (long)s.idlen)) != NULL);
	ATF_REQUIRE(X509_NAME_cmp(name, X509_get_subject_name(b)) == 0);
	X509_NAME_free(name);
	ca_free(cs);
	X509_free(a);
	X509_free(b);
	pki_free(&p);
}

ATF_TC_WITHOUT_HEAD(local_key);
ATF_TC_BODY(local_key, tc)
{
	struct pki	 p;
	EVP_PKEY	*other = genkey("P-256");
	struct ca_store	*cs;
	struct side	 s;
	X509		*mine, *theirs, *got[4];
	uint8_t		*der = NULL;
	int		 n;
	char		 why[CA_WHY_MAX];

	pki(&p);
	mine = mkee(p.key, "me.example", p.ca, p.cakey, 2);
	theirs = mkee(other, "them.example", p.ca, p.cakey, 3);
	cs = store();
	add(cs, CA_F_CA, "ca/ca.crt", O_CERT, p.ca, 0);
	add(cs, CA_F_CERT, "certs/them.example.crt", O_CERT, theirs, 0);
	add(cs, CA_F_CERT, "certs/whatever.crt", O_CERT, mine, 0);
	add(cs, CA_F_KEY, "private/local.key", O_KEY, p.key, 0);
	ATF_REQUIRE(ca_ready(cs) == 0);
	/* No srcid: the certificate of our key; its subject as the ID. */
	sign(cs, NULL, CA_AUTH_RFC7427, CA_HASHES_OURS, &s);
	n = unchain(s.chain, s.chainlen, got, 4);
	ATF_REQUIRE(n == 1 && X509_cmp(got[0], mine) == 0);
	unchain_free(got, n);
	ATF_REQUIRE((n = i2d_X509_NAME(X509_get_subject_name(mine),
	    &der)) > 0);
	ATF_REQUIRE(s.idtype == 9 && s.idlen == (size_t)n &&
	    memcmp(s.id, der, s.idlen) == 0);
	OPENSSL_free(der);
	/* certs/<srcid>.crt is another key's: refused. */
	ATF_REQUIRE(ca_local(cs, mkid(ID_FQDN, "them.example"), s.chain,
	    sizeof(s.chain), &s.chainlen, &s.idtype, s.id, sizeof(s.id),
	    &s.idlen, why, sizeof(why)) == -1);
	ATF_REQUIRE_MSG(strstr(why, "\"CN=them.example,O=Test\"") != NULL &&
	    strstr(why, "does not match private/local.key") != NULL, "%s",
	    why);
	/* A chain buffer too small. */
	ATF_REQUIRE(ca_local(cs, NULL, s.chain, 100, &s.chainlen, &s.idtype,
	    s.id, sizeof(s.id), &s.idlen, why, sizeof(why)) == -1);
	ATF_REQUIRE(strstr(why, "does not fit") != NULL);
	ca_free(cs);

	/* No certificate: a raw key with srcid, nothing without. */
	cs = store();
	add(cs, CA_F_KEY, "private/local.key", O_KEY, p.key, 0);
	ATF_REQUIRE(ca_ready(cs) == 0);
	sign(cs, mkid(ID_FQDN, "me.example"), CA_AUTH_RFC7427,
	    CA_HASHES_OURS, &s);
	ATF_REQUIRE(s.chainlen == 0 && s.idtype == 2 && s.idlen == 10);
	ATF_REQUIRE(ca_local(cs, NULL, s.chain, sizeof(s.chain), &s.chainlen,
	    &s.idtype, s.id, sizeof(s.id), &s.idlen, why, sizeof(why)) == -1);
	ATF_REQUIRE(strstr(why, "no ID to send") != NULL);
	ca_free(cs);
	/* No key at all. */
	cs = store();
	ATF_REQUIRE(ca_local(cs, NULL, s.chain, sizeof(s.chain), &s.chainlen,
	    &s.idtype, s.id, sizeof(s.id), &s.idlen, why, sizeof(why)) == -1);
	ATF_REQUIRE(strstr(why, "no private key") != NULL);
	ca_free(cs);
	X509_free(mine);
	X509_free(theirs);
	EVP_PKEY_free(other);
	pki_free(&p);
}

ATF_TC_WITHOUT_HEAD(local_chain);
ATF_TC_BODY(local_chain, tc)
{
	struct pki	 p;
	EVP_PKEY	*ikey = genkey("P-256");
	X509		*inter, *ee, *got[4];
	struct ca_store	*cs, *b;
	struct ca_peer	 cp;
	struct side	 s;
	int		 n, asfile;

	pki(&p);
	inter = mkinter(ikey, "Intermediate CA", p.ca, p.cakey);
	ee = mkee(p.key, "me.example", inter, ikey, 2);
	b = peerstore(p.ca, NULL);
	/* The intermediate in ca/, then among certs/: never the root. */
	for (asfile = 0; asfile < 2; asfile++) {
		cs = store();
		add(cs, CA_F_CA, "ca/root.crt", O_CERT, p.ca, 0);
		add(cs, asfile ? CA_F_CERT : CA_F_CA, "inter.crt", O_CERT,
		    inter, 0);
		add(cs, CA_F_CERT, "certs/me.example.crt", O_CERT, ee, 0);
		add(cs, CA_F_KEY, "private/local.key", O_KEY, p.key, 0);
		ATF_REQUIRE(ca_ready(cs) == 0);
		sign(cs, mkid(ID_FQDN, "me.example"), CA_AUTH_RFC7427,
		    CA_HASHES_OURS, &s);
		n = unchain(s.chain, s.chainlen, got, 4);
		ATF_REQUIRE_EQ(n, 2);
		ATF_REQUIRE(X509_cmp(got[0], ee) == 0);
		ATF_REQUIRE(X509_cmp(got[1], inter) == 0);
		unchain_free(got, n);
		/* What a peer with only the root accepts. */
		peer(&cp, &s, CA_AUTH_RFC7427);
		verify_ok(b, &cp);
		ca_free(cs);
	}
	ca_free(b);
	X509_free(ee);
	X509_free(inter);
	EVP_PKEY_free(ikey);
	pki_free(&p);
}

ATF_TC_WITHOUT_HEAD(rawkey);
ATF_TC_BODY(rawkey, tc)
{
	EVP_PKEY	*key = genkey("P-256"), *rsa = genkey("rsa");
	struct ca_store	*a, *b;
	struct ca_peer	 cp;
	struct side	 s;
	uint8_t		 a4[4];

	a = store();
	add(a, CA_F_KEY, "private/local.key", O_KEY, key, 0);
	ATF_REQUIRE(ca_ready(a) == 0);
	b = store();
	add(b, CA_F_PUBKEY, "pubkeys/fqdn/peer.example", O_PUBKEY, key, 0);
	add(b, CA_F_PUBKEY, "ipv4/192.0.2.1", O_PUBKEY, key, 1);
	add(b, CA_F_PUBKEY, "fqdn/rsa.example", O_PUBKEY, rsa, 0);
	ATF_REQUIRE(ca_ready(b) == 0);

	sign(a, mkid(ID_FQDN, "peer.example"), CA_AUTH_RFC7427,
	    CA_HASHES_OURS, &s);
	ATF_REQUIRE_EQ(s.chainlen, 0);
	peer(&cp, &s, CA_AUTH_RFC7427);
	cp.cp_chain = NULL;
	verify_ok(b, &cp);
	cp.cp_dstid = mkid(ID_FQDN, "peer.example");
	verify_ok(b, &cp);
	cp.cp_dstid = mkid(ID_FQDN, "x.example");
	verify_no(b, &cp, "not the rule's dstid", NULL);

	sign(a, mkid(ID_IPV4, "192.0.2.1"), CA_AUTH_ECDSA256, 0, &s);
	inet_pton(AF_INET, "192.0.2.1", a4);
	ATF_REQUIRE(s.idlen == 4 && memcmp(s.id, a4, 4) == 0);
	peer(&cp, &s, CA_AUTH_ECDSA256);
	verify_ok(b, &cp);

	sign(a, mkid(ID_FQDN, "nobody.example"), CA_AUTH_RFC7427,
	    CA_HASHES_OURS, &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_no(b, &cp, "ID fqdn \"nobody.example\": no certificate",
	    "fqdn/nobody.example");
	/* The key under that name is another one. */
	sign(a, mkid(ID_FQDN, "rsa.example"), CA_AUTH_RFC7427,
	    CA_HASHES_OURS, &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_no(b, &cp, "does not fit the peer's RSA key", NULL);
	/* A name that is not a file name. */
	sign(a, mkid(ID_FQDN, "../fqdn/peer.example"), CA_AUTH_RFC7427,
	    CA_HASHES_OURS, &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_no(b, &cp, "malformed", NULL);
	ca_free(a);
	ca_free(b);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(key);
}

ATF_TC_WITHOUT_HEAD(certreq);
ATF_TC_BODY(certreq, tc)
{
	EVP_PKEY	*k1 = genkey("P-256"), *k2 = genkey("rsa");
	X509		*c1 = mkca(k1, "One"), *c2 = mkca(k2, "Two");
	struct ca_store	*cs = store();
	uint8_t		 out[64], md[20], *der;
	size_t		 len;
	unsigned int	 mdlen;
	int		 n, i;
	EVP_PKEY	*k[2] = { k1, k2 };

	ATF_REQUIRE(ca_certreq(cs, out, sizeof(out), &len) == 0 && len == 0);
	add(cs, CA_F_CA, "ca/one.crt", O_CERT, c1, 0);
	add(cs, CA_F_CA, "ca/two.crt", O_CERT, c2, 1);
	ATF_REQUIRE(ca_ready(cs) == 0);
	ATF_REQUIRE(ca_certreq(cs, out, sizeof(out), &len) == 0);
	ATF_REQUIRE_EQ(len, 40);
	for (i = 0; i < 2; i++) {
		der = NULL;
		ATF_REQUIRE((n = i2d_PUBKEY(k[i], &der)) > 0);
		ATF_REQUIRE(EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha1(),
		    NULL));
		ATF_REQUIRE(memcmp(out + 20 * i, md, 20) == 0);
		OPENSSL_free(der);
	}
	ATF_REQUIRE(ca_certreq(cs, out, 39, &len) == -1);
	ca_free(cs);
	X509_free(c1);
	X509_free(c2);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
}

static X509_NAME *
dn(const char *s)
{
	uint8_t		 der[CA_ID_MAX];
	const uint8_t	*p = der;
	size_t		 len;
	X509_NAME	*name;

	ATF_REQUIRE_MSG(ca_dn_der(s, der, sizeof(der), &len) == 0, "%s", s);
	ATF_REQUIRE((name = d2i_X509_NAME(NULL, &p, (long)len)) != NULL);
	ATF_REQUIRE(p == der + len);
	return (name);
}

static const char *
dnentry(X509_NAME *name, int i, int *nid)
{
	X509_NAME_ENTRY	*ne = X509_NAME_get_entry(name, i);

	ATF_REQUIRE(ne != NULL);
	*nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(ne));
	return ((const char *)ASN1_STRING_get0_data(
	    X509_NAME_ENTRY_get_data(ne)));
}

ATF_TC_WITHOUT_HEAD(dn_der);
ATF_TC_BODY(dn_der, tc)
{
	uint8_t		 a[CA_ID_MAX], b[CA_ID_MAX];
	size_t		 alen, blen;
	X509_NAME	*name;
	int		 nid;

	ATF_REQUIRE(ca_dn_der("/C=DE/O=x/CN=y", a, sizeof(a), &alen) == 0);
	ATF_REQUIRE(ca_dn_der("CN=y, O=x, C=DE", b, sizeof(b), &blen) == 0);
	ATF_REQUIRE(alen == blen && memcmp(a, b, alen) == 0);
	ATF_REQUIRE(ca_dn_der("CN = y,O = x,C = DE", b, sizeof(b),
	    &blen) == 0);
	ATF_REQUIRE(alen == blen && memcmp(a, b, alen) == 0);
	/* The slash form is in DER order: C first. */
	name = dn("/C=DE/O=x/CN=y");
	ATF_REQUIRE_EQ(X509_NAME_entry_count(name), 3);
	ATF_REQUIRE_STREQ(dnentry(name, 0, &nid), "DE");
	ATF_REQUIRE_EQ(nid, NID_countryName);
	ATF_REQUIRE_STREQ(dnentry(name, 2, &nid), "y");
	ATF_REQUIRE_EQ(nid, NID_commonName);
	X509_NAME_free(name);
	/* Escapes. */
	name = dn("CN=a\\, b\\+c\\=d, O=e/f");
	ATF_REQUIRE_STREQ(dnentry(name, 1, &nid), "a, b+c=d");
	ATF_REQUIRE_STREQ(dnentry(name, 0, &nid), "e/f");
	X509_NAME_free(name);
	name = dn("/O=a\\/b/CN=c+d");
	ATF_REQUIRE_STREQ(dnentry(name, 0, &nid), "a/b");
	ATF_REQUIRE_STREQ(dnentry(name, 1, &nid), "c+d");
	X509_NAME_free(name);
	name = dn("emailAddress=u@example.org, CN=\\41B");
	ATF_REQUIRE_STREQ(dnentry(name, 0, &nid), "AB");
	X509_NAME_free(name);
	/* Not names. */
	ATF_REQUIRE(ca_dn_der("host.example", a, sizeof(a), &alen) == -1);
	ATF_REQUIRE(ca_dn_der("", a, sizeof(a), &alen) == -1);
	ATF_REQUIRE(ca_dn_der("/C=DE/CN=", a, sizeof(a), &alen) == -1);
	ATF_REQUIRE(ca_dn_der("=x", a, sizeof(a), &alen) == -1);
	ATF_REQUIRE(ca_dn_der("NOSUCHATTR=x", a, sizeof(a), &alen) == -1);
	ATF_REQUIRE(ca_dn_der("CN=y, host", a, sizeof(a), &alen) == -1);
	ATF_REQUIRE(ca_dn_der("/C=DE/O=x/CN=y", a, 10, &alen) == -1);
	ATF_REQUIRE(ERR_peek_error() == 0);
}

ATF_TC_WITHOUT_HEAD(ikev1);
ATF_TC_BODY(ikev1, tc)
{
	EVP_PKEY	*cakey = genkey("P-256"), *key = genkey("rsa");
	EVP_PKEY_CTX	*pctx;
	X509		*ca = mkca(cakey, "Test CA");
	X509		*ee = mkee(key, "peer.example", ca, cakey, 2);
	struct ca_store	*a = signer(ca, ee, key, "certs/peer.example.crt");
	struct ca_store	*b = peerstore(ca, NULL);
	struct ca_peer	 cp;
	struct side	 s;
	uint8_t		 hash[20], rec[256];
	size_t		 n;
	char		 why[CA_WHY_MAX];

	memcpy(hash, "HASH_I of RFC 2409..", 20);
	memset(&s, 0, sizeof(s));
	ATF_REQUIRE(ca_local(a, mkid(ID_FQDN, "peer.example"), s.chain,
	    sizeof(s.chain), &s.chainlen, &s.idtype, s.id, sizeof(s.id),
	    &s.idlen, why, sizeof(why)) == 0);
	ATF_REQUIRE(ca_sign_v1(a, hash, sizeof(hash), s.auth, sizeof(s.auth),
	    &s.authlen, why, sizeof(why)) == 0);
	ATF_REQUIRE_EQ(s.authlen, 256);
	/* PKCS#1 type 1 over HASH_I itself, no DigestInfo. */
	ATF_REQUIRE((pctx = EVP_PKEY_CTX_new(key, NULL)) != NULL);
	ATF_REQUIRE(EVP_PKEY_verify_recover_init(pctx) == 1);
	ATF_REQUIRE(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1);
	n = sizeof(rec);
	ATF_REQUIRE(EVP_PKEY_verify_recover(pctx, rec, &n, s.auth,
	    s.authlen) == 1);
	ATF_REQUIRE(n == 20 && memcmp(rec, hash, 20) == 0);
	EVP_PKEY_CTX_free(pctx);

	peer(&cp, &s, CA_AUTH_RSA);
	cp.cp_version = 1;
	cp.cp_method = 0;
	cp.cp_data = hash;
	cp.cp_datalen = sizeof(hash);
	verify_ok(b, &cp);
	cp.cp_mode = CA_AUTH_RFC7427;		/* the default */
	verify_ok(b, &cp);
	cp.cp_mode = CA_AUTH_ECDSA256;
	verify_no(b, &cp, "refused by rule (ecdsa256)", NULL);
	cp.cp_mode = CA_AUTH_RSA;
	hash[0] ^= 1;
	verify_no(b, &cp, "signature does not verify", NULL);
	hash[0] ^= 1;
	cp.cp_datalen = 19;
	verify_no(b, &cp, "signature does not verify", NULL);
	ca_free(a);

	/* IKEv1 signs with RSA only. */
	a = store();
	add(a, CA_F_KEY, "private/local.key", O_KEY, cakey, 0);
	ATF_REQUIRE(ca_sign_v1(a, hash, sizeof(hash), s.auth, sizeof(s.auth),
	    &s.authlen, why, sizeof(why)) == -1);
	ATF_REQUIRE(strstr(why, "RSA") != NULL);
	ca_free(a);
	ca_free(b);
	X509_free(ee);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(cakey);
}

ATF_TC_WITHOUT_HEAD(malformed);
ATF_TC_BODY(malformed, tc)
{
	static const uint8_t garbage[] = "-----BEGIN CERTIFICATE-----\nxx\n";
	struct pki	 p;
	struct ca_store	*cs;
	struct ca_peer	 cp;
	struct side	 s, t;
	X509		*ee;
	uint8_t		 v4[3] = { 192, 0, 2 };
	size_t		 i;
	char		 why[CA_WHY_MAX];

	pki(&p);
	cs = store();
	ATF_REQUIRE(ca_add(cs, CA_F_CA, "ca/garbage", garbage,
	    sizeof(garbage)) == -1);
	ATF_REQUIRE(ca_add(cs, CA_F_KEY, "k", garbage, sizeof(garbage)) ==
	    -1);
	ATF_REQUIRE(ca_add(cs, CA_F_CRL, "c", (const uint8_t *)"\x30\x03",
	    2) == -1);
	ATF_REQUIRE(ca_add(cs, CA_F_PUBKEY, "fqdn/x", garbage, 0) == -1);
	ATF_REQUIRE(ca_add(cs, 99, "x", garbage, sizeof(garbage)) == -1);
	ca_free(cs);
	cs = peerstore(p.ca, NULL);
	ee = mkee(p.key, "peer.example", p.ca, p.cakey, 2);
	sent_fqdn(&p, ee, "peer.example", &s);
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_ok(cs, &cp);

	/* Chain lengths: past the end, zero, one byte, truncated DER. */
	t = s;
	t.chain[0] = 0xff;
	peer(&cp, &t, CA_AUTH_RFC7427);
	verify_no(cs, &cp, "certificates malformed", NULL);
	t = s;
	t.chain[0] = t.chain[1] = 0;
	peer(&cp, &t, CA_AUTH_RFC7427);
	verify_no(cs, &cp, "certificates malformed", NULL);
	peer(&cp, &s, CA_AUTH_RFC7427);
	cp.cp_chainlen = 1;
	verify_no(cs, &cp, "certificates malformed", NULL);
	for (i = 3; i < s.chainlen; i += 97) {
		t = s;
		t.chain[0] = (uint8_t)((i - 2) >> 8);
		t.chain[1] = (uint8_t)(i - 2);
		t.chainlen = i;
		peer(&cp, &t, CA_AUTH_RFC7427);
		verify_no(cs, &cp, "certificates malformed", NULL);
	}
	peer(&cp, &s, CA_AUTH_RFC7427);
	cp.cp_chainlen = s.chainlen + 1;	/* a trailing byte */
	verify_no(cs, &cp, "certificates malformed", NULL);
	peer(&cp, &s, CA_AUTH_RFC7427);
	cp.cp_chainlen = CA_CHAIN_MAX + 1;
	verify_no(cs, &cp, "certificates malformed", NULL);

	/* AUTH data of 0 bytes, with every method. */
	peer(&cp, &s, CA_AUTH_RFC7427);
	cp.cp_auth = NULL;
	cp.cp_authlen = 0;
	verify_no(cs, &cp, "malformed", NULL);
	cp.cp_method = 9;
	verify_no(cs, &cp, "signature of 0 bytes", NULL);
	cp.cp_method = 1;
	verify_no(cs, &cp, "does not fit", NULL);
	cp.cp_method = 2;
	verify_no(cs, &cp, "method 2 (PSK) refused", NULL);
	/* RFC 7427: AlgorithmIdentifier's length past the end, or to it. */
	t = s;
	t.auth[0] = 200;
	t.authlen = 50;
	peer(&cp, &t, CA_AUTH_RFC7427);
	verify_no(cs, &cp, "AlgorithmIdentifier length", NULL);
	t = s;
	t.authlen = 1 + t.auth[0];
	peer(&cp, &t, CA_AUTH_RFC7427);
	verify_no(cs, &cp, "AlgorithmIdentifier length", NULL);
	t = s;
	t.auth[0]--;
	peer(&cp, &t, CA_AUTH_RFC7427);
	verify_no(cs, &cp, "malformed (AlgorithmIdentifier)", NULL);
	t = s;
	t.auth[0] = 0;
	peer(&cp, &t, CA_AUTH_RFC7427);
	verify_no(cs, &cp, "AlgorithmIdentifier length", NULL);
	t = s;
	t.auth[t.auth[0]] = 1;	/* ecdsa-with-SHA224 */
	peer(&cp, &t, CA_AUTH_RFC7427);
	verify_no(cs, &cp, "not supported", NULL);
	/* IDs: a 3-byte IPv4, an empty FQDN, a DN that is not DER. */
	sent(&p, ee, NULL, 1, v4, 3, &t);
	peer(&cp, &t, CA_AUTH_RFC7427);
	verify_no(cs, &cp, "ID ipv4 (type 1): malformed", NULL);
	sent(&p, ee, NULL, 2, "", 0, &t);
	peer(&cp, &t, CA_AUTH_RFC7427);
	verify_no(cs, &cp, "ID fqdn (type 2): malformed", NULL);
	sent(&p, ee, NULL, 2, "a\0b", 3, &t);
	peer(&cp, &t, CA_AUTH_RFC7427);
	verify_no(cs, &cp, "malformed", NULL);
	sent(&p, ee, NULL, 9, "\x30\x05\x31", 3, &t);
	peer(&cp, &t, CA_AUTH_RFC7427);
	verify_no(cs, &cp, "ID asn1dn (type 9): malformed", NULL);
	sent(&p, ee, NULL, 11, "keyid", 5, &t);
	peer(&cp, &t, CA_AUTH_RFC7427);
	verify_no(cs, &cp, "type 11", NULL);
	peer(&cp, &s, CA_AUTH_RFC7427);
	cp.cp_version = 3;
	ATF_REQUIRE(ca_verify(cs, &cp, why, sizeof(why)) == -1);
	/* And a store never made ready trusts nothing. */
	ca_free(cs);
	cs = store();
	peer(&cp, &s, CA_AUTH_RFC7427);
	verify_no(cs, &cp, "no trust store", NULL);
	ca_free(cs);
	X509_free(ee);
	pki_free(&p);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, sign_rsa);
	ATF_TP_ADD_TC(tp, sign_ecdsa);
	ATF_TP_ADD_TC(tp, sign_7427_rsa);
	ATF_TP_ADD_TC(tp, sign_7427_pss);
	ATF_TP_ADD_TC(tp, sign_7427_ecdsa);
	ATF_TP_ADD_TC(tp, sign_7427_eddsa);
	ATF_TP_ADD_TC(tp, sign_mode_key);
	ATF_TP_ADD_TC(tp, verify_untrusted);
	ATF_TP_ADD_TC(tp, verify_validity);
	ATF_TP_ADD_TC(tp, verify_crl);
	ATF_TP_ADD_TC(tp, verify_crl_chain);
	ATF_TP_ADD_TC(tp, verify_keyusage);
	ATF_TP_ADD_TC(tp, verify_id_san);
	ATF_TP_ADD_TC(tp, verify_dstid);
	ATF_TP_ADD_TC(tp, verify_dn);
	ATF_TP_ADD_TC(tp, verify_tampered);
	ATF_TP_ADD_TC(tp, verify_mode);
	ATF_TP_ADD_TC(tp, verify_intermediate);
	ATF_TP_ADD_TC(tp, local_srcid);
	ATF_TP_ADD_TC(tp, local_key);
	ATF_TP_ADD_TC(tp, local_chain);
	ATF_TP_ADD_TC(tp, rawkey);
	ATF_TP_ADD_TC(tp, certreq);
	ATF_TP_ADD_TC(tp, dn_der);
	ATF_TP_ADD_TC(tp, ikev1);
	ATF_TP_ADD_TC(tp, malformed);
	return (atf_no_error());
}
