/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Keys, certificates and CRLs for the tests (certgen.h).
 */

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <atf-c.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certgen.h"

EVP_PKEY *
genkey(const char *kind)
{
	EVP_PKEY	*pk = NULL;
	EVP_PKEY_CTX	*ctx;

	if (strcmp(kind, "rsa") == 0)
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	else if (strcmp(kind, "rsa-pss") == 0) {
		/* An id-RSASSA-PSS key, without parameter restrictions. */
		ATF_REQUIRE((ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS",
		    NULL)) != NULL);
		ATF_REQUIRE(EVP_PKEY_keygen_init(ctx) == 1);
		ATF_REQUIRE(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048) == 1);
		ATF_REQUIRE(EVP_PKEY_generate(ctx, &pk) == 1);
		EVP_PKEY_CTX_free(ctx);
	} else if (strncmp(kind, "P-", 2) == 0)
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", kind);
	else
		pk = EVP_PKEY_Q_keygen(NULL, NULL, kind);
	ATF_REQUIRE_MSG(pk != NULL, "keygen %s", kind);
	return (pk);
}

static void
addext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION	*ext;

	ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	ATF_REQUIRE_MSG(ext != NULL, "extension %s", value);
	ATF_REQUIRE(X509_add_ext(x, ext, -1));
	X509_EXTENSION_free(ext);
}

/* Signed by (issuer, ikey), or self-signed with issuer NULL. */
X509 *
mkcert(EVP_PKEY *pub, X509 *issuer, EVP_PKEY *ikey,
    const struct certopt *o)
{
	X509		*x;
	X509_NAME	*name;
	X509V3_CTX	 ctx;
	int		 ed;

	ATF_REQUIRE((x = X509_new()) != NULL);
	ATF_REQUIRE(X509_set_version(x, 2));
	ATF_REQUIRE(ASN1_INTEGER_set(X509_get_serialNumber(x),
	    o->serial != 0 ? o->serial : 1));
	name = X509_get_subject_name(x);
	ATF_REQUIRE(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	    (const unsigned char *)"Test", -1, -1, 0));
	ATF_REQUIRE(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)o->cn, -1, -1, 0));
	ATF_REQUIRE(X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : name));
	ATF_REQUIRE(X509_gmtime_adj(X509_getm_notBefore(x),
	    o->from != 0 ? o->from : -3600) != NULL);
	ATF_REQUIRE(X509_gmtime_adj(X509_getm_notAfter(x),
	    o->to != 0 ? o->to : 86400) != NULL);
	ATF_REQUIRE(X509_set_pubkey(x, pub));
	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	addext(x, &ctx, NID_basic_constraints, o->ca ? "critical,CA:TRUE" :
	    "CA:FALSE");
	addext(x, &ctx, NID_subject_key_identifier, "hash");
	addext(x, &ctx, NID_authority_key_identifier, "keyid:always");
	if (o->ku != NULL)
		addext(x, &ctx, NID_key_usage, o->ku);
	if (o->san != NULL)
		addext(x, &ctx, NID_subject_alt_name, o->san);
	ed = EVP_PKEY_get_base_id(ikey) == EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_base_id(ikey) == EVP_PKEY_ED448;
	ATF_REQUIRE(X509_sign(x, ikey, ed ? NULL : EVP_sha256()) > 0);
	return (x);
}

X509 *
mkca(EVP_PKEY *key, const char *cn)
{
	struct certopt	 o = { .cn = cn, .ku = "keyCertSign,cRLSign",
	    .ca = 1 };

	return (mkcert(key, NULL, key, &o));
}

X509 *
mkinter(EVP_PKEY *key, const char *cn, X509 *root, EVP_PKEY *rootkey)
{
	struct certopt	 o = { .cn = cn, .ku = "keyCertSign,cRLSign",
	    .ca = 1, .serial = 50 };

	return (mkcert(key, root, rootkey, &o));
}

/* An end-entity certificate for cn with a dNSName SAN of cn. */
X509 *
mkee(EVP_PKEY *key, const char *cn, X509 *ca, EVP_PKEY *cakey, long serial)
{
	struct certopt	 o = { .cn = cn, .serial = serial,
	    .ku = "digitalSignature" };
	char		 san[128];

	snprintf(san, sizeof(san), "DNS:%s", cn);
	o.san = san;
	return (mkcert(key, ca, cakey, &o));
}

X509_CRL *
mkcrl(X509 *ca, EVP_PKEY *cakey, X509 *revoked)
{
	X509_CRL	*crl;
	X509_REVOKED	*rev;
	ASN1_TIME	*t;

	ATF_REQUIRE((crl = X509_CRL_new()) != NULL);
	ATF_REQUIRE(X509_CRL_set_version(crl, 1));
	ATF_REQUIRE(X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)));
	ATF_REQUIRE((t = X509_gmtime_adj(NULL, -3600)) != NULL);
	ATF_REQUIRE(X509_CRL_set1_lastUpdate(crl, t));
	ATF_REQUIRE(X509_gmtime_adj(t, 86400) != NULL);
	ATF_REQUIRE(X509_CRL_set1_nextUpdate(crl, t));
	/* revoked NULL: an empty CRL. */
	if (revoked != NULL) {
		ATF_REQUIRE((rev = X509_REVOKED_new()) != NULL);
		ATF_REQUIRE(X509_REVOKED_set_serialNumber(rev,
		    X509_get_serialNumber(revoked)));
		ATF_REQUIRE(X509_REVOKED_set_revocationDate(rev, t));
		ATF_REQUIRE(X509_CRL_add0_revoked(crl, rev));
	}
	ATF_REQUIRE(X509_CRL_sort(crl));
	ATF_REQUIRE(X509_CRL_sign(crl, cakey, EVP_sha256()) > 0);
	ASN1_TIME_free(t);
	return (crl);
}

/* ---- handing them to ca_add(), as PEM or DER ---- */

void
add(struct ca_store *cs, enum ca_filekind kind, const char *name,
    enum obj what, void *obj, int der)
{
	BIO		*bio;
	uint8_t		*buf = NULL;
	char		*mem;
	long		 len;
	int		 n = 0, ok;

	if (der) {
		switch (what) {
		case O_CERT:
			n = i2d_X509(obj, &buf);
			break;
		case O_CRL:
			n = i2d_X509_CRL(obj, &buf);
			break;
		case O_KEY:
			n = i2d_PrivateKey(obj, &buf);
			break;
		case O_PUBKEY:
			n = i2d_PUBKEY(obj, &buf);
			break;
		}
		ATF_REQUIRE(n > 0);
		ATF_REQUIRE(ca_add(cs, kind, name, buf, (size_t)n) == 0);
		OPENSSL_clear_free(buf, (size_t)n);
		return;
	}
	ATF_REQUIRE((bio = BIO_new(BIO_s_mem())) != NULL);
	switch (what) {
	case O_CERT:
		ok = PEM_write_bio_X509(bio, obj);
		break;
	case O_CRL:
		ok = PEM_write_bio_X509_CRL(bio, obj);
		break;
	case O_KEY:
		ok = PEM_write_bio_PrivateKey(bio, obj, NULL, NULL, 0, NULL,
		    NULL);
		break;
	default:
		ok = PEM_write_bio_PUBKEY(bio, obj);
		break;
	}
	ATF_REQUIRE(ok);
	len = BIO_get_mem_data(bio, &mem);
	ATF_REQUIRE(ca_add(cs, kind, name, (uint8_t *)mem, (size_t)len) == 0);
	BIO_free(bio);
}

