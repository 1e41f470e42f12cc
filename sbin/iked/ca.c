/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * ca.c: private keys, certificates and signatures (the interface and
 * its contracts are in ca.h).
 *
 * The store keeps what the parent handed to ca_add(), parsed once: the
 * trusted CAs and the CRLs (which ca_ready() turns into an X509_STORE),
 * the certificates of certs/ and the raw keys of pubkeys/, each under
 * its file name (a certificate is found by "<srcid>.crt", a raw key by
 * "<type>/<id>"), and private/local.key.  Nothing is read from disk or
 * looked up later, so a verdict depends only on these files and the
 * peer's message.
 *
 * A peer's certificate is checked by OpenSSL's X509_verify_cert()
 * against that store with the peer's other certificates as untrusted
 * intermediates; what OpenSSL does not decide for IKE (keyUsage, the ID
 * in the subject or subjectAltName, the rule's dstid, the AUTH method
 * the rule allows) is checked here, in that order, and every refusal
 * is one line in "why" naming the check and the certificate.
 *
 * The AUTH methods are two tables: the classic ones (RFC 7296, RFC
 * 4754), each tied to one key type and hash, and RFC 7427's signature
 * algorithms, each an AlgorithmIdentifier with a key family and a hash
 * bit of SIGNATURE_HASH_ALGORITHMS; RSASSA-PSS, whose hash lives in its
 * parameters, is the one handled apart.  Only OpenSSL 3's EVP and X509
 * interfaces are used: OPENSSL_NO_DEPRECATED below makes that a compile
 * error rather than a convention.
 */

#define OPENSSL_NO_DEPRECATED

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/ocsp.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "iked.h"
#include "ikev2.h"
#include "ca.h"

#define CA_CHAIN_DEPTH	8	/* certificates in a chain, ours or theirs */

struct ca_named {
	TAILQ_ENTRY(ca_named)	 cn_entry;
	char			*cn_name;	/* the file's, for lookups */
	X509			*cn_x509;	/* certs/ */
	EVP_PKEY		*cn_pkey;	/* pubkeys/ */
};
TAILQ_HEAD(ca_nameds, ca_named);

#define CA_XCACHE_MAX	32	/* parsed peer certificates kept */

struct ca_store {
	STACK_OF(X509)		*cs_cas;	/* ca/: trusted */
	STACK_OF(X509_CRL)	*cs_crls;	/* crls/ */
	struct ca_nameds	 cs_certs;	/* certs/ */
	struct ca_nameds	 cs_pubkeys;	/* pubkeys/ */
	EVP_PKEY		*cs_key;	/* private/local.key */
	X509_STORE		*cs_store;	/* ca_ready(): CAs and CRLs */
	int			 cs_badcrl;	/* a CRL file left out */
	/* OCSP (set ocsp): the fallback URL, NULL: off. */
	char			*cs_ocsp_url;
	long			 cs_ocsp_tolerate, cs_ocsp_maxage;
	ca_connect_fn		 cs_ocsp_connect;
	void			*cs_ocsp_arg;
	/*
	 * The peers' certificates, parsed: OpenSSL 3 takes longer to
	 * decode one (its public key through the provider decoders) than
	 * to verify both signatures of an ECDSA handshake.  By their DER,
	 * byte for byte; every check still runs on each use.
	 */
	struct ca_xcache {
		uint8_t		*xc_der;
		size_t		 xc_len;
		X509		*xc_x509;
		uint64_t	 xc_used;
	}			 cs_xcache[CA_XCACHE_MAX];
	uint64_t		 cs_xclock;
};

/* Key types, as far as the AUTH methods tell them apart. */
enum ca_keytype {
	CA_K_NONE = 0,
	CA_K_RSA,	/* rsaEncryption: PKCS#1 v1.5 and PSS */
	CA_K_RSAPSS,	/* id-RSASSA-PSS: PSS only */
	CA_K_P256,
	CA_K_P384,
	CA_K_P521,
	CA_K_EC,	/* another curve: RFC 7427 only */
	CA_K_ED25519,
	CA_K_ED448
};
#define CA_K_ISEC(k)	((k) >= CA_K_P256 && (k) <= CA_K_EC)
#define CA_K_ISRSA(k)	((k) == CA_K_RSA || (k) == CA_K_RSAPSS)

/* The classic methods: one key type, one hash each. */
static const struct ca_method {
	uint8_t		 m_method;
	enum ca_authmode m_mode;
	enum ca_keytype	 m_key;
	const char	*m_name;
	size_t		 m_half;	/* RFC 4754: bytes of r and of s */
	const EVP_MD	*(*m_md)(void);
} ca_methods[] = {
	{ IKEV2_AUTH_RSA_SIG, CA_AUTH_RSA, CA_K_RSA, "RSA", 0, EVP_sha1 },
	{ IKEV2_AUTH_ECDSA_256, CA_AUTH_ECDSA256, CA_K_P256, "ECDSA_256",
	    32, EVP_sha256 },
	{ IKEV2_AUTH_ECDSA_384, CA_AUTH_ECDSA384, CA_K_P384, "ECDSA_384",
	    48, EVP_sha384 },
	{ IKEV2_AUTH_ECDSA_521, CA_AUTH_ECDSA521, CA_K_P521, "ECDSA_521",
	    66, EVP_sha512 }
};

/*
 * RFC 7427's AlgorithmIdentifiers but RSASSA-PSS.  sa_null: the
 * parameters are NULL (PKCS#1), else absent; absent and NULL are both
 * accepted from a peer.
 */
static const struct ca_sigalg {
	int		 sa_nid;
	enum ca_keytype	 sa_key;	/* CA_K_EC: any curve */
	unsigned int	 sa_hash;
	int		 sa_null;
	const EVP_MD	*(*sa_md)(void);
} ca_sigalgs[] = {
	{ NID_sha256WithRSAEncryption, CA_K_RSA, CA_HASH_SHA256, 1,
	    EVP_sha256 },
	{ NID_sha384WithRSAEncryption, CA_K_RSA, CA_HASH_SHA384, 1,
	    EVP_sha384 },
	{ NID_sha512WithRSAEncryption, CA_K_RSA, CA_HASH_SHA512, 1,
	    EVP_sha512 },
	{ NID_ecdsa_with_SHA256, CA_K_EC, CA_HASH_SHA256, 0, EVP_sha256 },
	{ NID_ecdsa_with_SHA384, CA_K_EC, CA_HASH_SHA384, 0, EVP_sha384 },
	{ NID_ecdsa_with_SHA512, CA_K_EC, CA_HASH_SHA512, 0, EVP_sha512 },
	{ NID_ED25519, CA_K_ED25519, CA_HASH_IDENTITY, 0, NULL },
	{ NID_ED448, CA_K_ED448, CA_HASH_IDENTITY, 0, NULL }
};

static const struct ca_hash {
	unsigned int	 h_bit;
	const EVP_MD	*(*h_md)(void);
} ca_hashes[] = {
	{ CA_HASH_SHA256, EVP_sha256 },
	{ CA_HASH_SHA384, EVP_sha384 },
	{ CA_HASH_SHA512, EVP_sha512 }
};

static const char *const ca_modenames[] = {
	"psk", "rsa", "ecdsa256", "ecdsa384", "ecdsa521", "rfc7427"
};

static int
ca_why(char *why, size_t whysz, const char *fmt, ...)
	__attribute__((__format__(__printf__, 3, 4)));

/* A refusal: one line in why; OpenSSL's queue is emptied. */
static int
ca_why(char *why, size_t whysz, const char *fmt, ...)
{
	va_list	 ap;

	if (why != NULL && whysz > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whysz, fmt, ap);
		va_end(ap);
	}
	ERR_clear_error();
	return (-1);
}

static const char *
ca_modename(enum ca_authmode mode)
{
	if ((unsigned int)mode < sizeof(ca_modenames) / sizeof(ca_modenames[0]))
		return (ca_modenames[mode]);
	return ("?");
}

static enum ca_keytype
ca_keytype(const EVP_PKEY *pk)
{
	char	 group[64];
	size_t	 len;
	int	 nid;

	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
		return (CA_K_RSA);
	case EVP_PKEY_RSA_PSS:
		return (CA_K_RSAPSS);
	case EVP_PKEY_ED25519:
		return (CA_K_ED25519);
	case EVP_PKEY_ED448:
		return (CA_K_ED448);
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_group_name(pk, group, sizeof(group), &len))
			return (CA_K_EC);
		nid = OBJ_sn2nid(group);
		if (nid == NID_X9_62_prime256v1)
			return (CA_K_P256);
		if (nid == NID_secp384r1)
			return (CA_K_P384);
		if (nid == NID_secp521r1)
			return (CA_K_P521);
		return (CA_K_EC);
	default:
		return (CA_K_NONE);
	}
}

static const struct ca_method *
ca_method_bykey(enum ca_keytype kt)
{
	size_t	 i;

	for (i = 0; i < sizeof(ca_methods) / sizeof(ca_methods[0]); i++)
		if (ca_methods[i].m_key == kt)
			return (&ca_methods[i]);
	return (NULL);
}

static const struct ca_method *
ca_method_bynum(uint8_t method)
{
	size_t	 i;

	for (i = 0; i < sizeof(ca_methods) / sizeof(ca_methods[0]); i++)
		if (ca_methods[i].m_method == method)
			return (&ca_methods[i]);
	return (NULL);
}

/* A name for messages, RFC 2253 with UTF-8 kept. */
static const char *
ca_name_text(const X509_NAME *name, char *buf, size_t sz)
{
	BIO	*bio;
	int	 n;

	buf[0] = '\0';
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return (buf);
	if (X509_NAME_print_ex(bio, name, 0,
	    XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    (n = BIO_read(bio, buf, (int)sz - 1)) > 0)
		buf[n] = '\0';
	BIO_free(bio);
	return (buf);
}

static const char *
ca_subject(X509 *x, char *buf, size_t sz)
{
	return (ca_name_text(X509_get_subject_name(x), buf, sz));
}

static const char *
ca_time(const ASN1_TIME *t, char *buf, size_t sz)
{
	struct tm	 tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm) ||
	    strftime(buf, sz, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		strlcpy(buf, "?", sz);
	return (buf);
}

/* "name" is want, or ends in "/want" (the parent may pass a path). */
static int
ca_name_is(const char *name, const char *want)
{
	size_t	 nl = strlen(name), wl = strlen(want);

	if (wl == 0 || nl < wl || strcasecmp(name + nl - wl, want) != 0)
		return (0);
	return (nl == wl || name[nl - wl - 1] == '/');
}

static int
ca_nopass(char *buf, int size, int rwflag, void *arg)
{
	(void)buf; (void)size; (void)rwflag; (void)arg;
	return (-1);		/* an encrypted key file is refused */
}

static int
ca_ispem(const uint8_t *buf, size_t len)
{
	return (len > 0 && buf[0] != 0x30);
}

struct ca_store *
ca_new(void)
{
	struct ca_store	*cs;

	if ((cs = calloc(1, sizeof(*cs))) == NULL)
		return (NULL);
	TAILQ_INIT(&cs->cs_certs);
	TAILQ_INIT(&cs->cs_pubkeys);
	if ((cs->cs_cas = sk_X509_new_null()) == NULL ||
	    (cs->cs_crls = sk_X509_CRL_new_null()) == NULL) {
		ca_free(cs);
		return (NULL);
	}
	return (cs);
}

static void
ca_nameds_free(struct ca_nameds *head)
{
	struct ca_named	*cn;

	while ((cn = TAILQ_FIRST(head)) != NULL) {
		TAILQ_REMOVE(head, cn, cn_entry);
		X509_free(cn->cn_x509);
		EVP_PKEY_free(cn->cn_pkey);
		free(cn->cn_name);
		free(cn);
	}
}

void
ca_free(struct ca_store *cs)
{
	int	 i;

	if (cs == NULL)
		return;
	free(cs->cs_ocsp_url);
	sk_X509_pop_free(cs->cs_cas, X509_free);
	sk_X509_CRL_pop_free(cs->cs_crls, X509_CRL_free);
	ca_nameds_free(&cs->cs_certs);
	ca_nameds_free(&cs->cs_pubkeys);
	EVP_PKEY_free(cs->cs_key);	/* OpenSSL clears the key */
	X509_STORE_free(cs->cs_store);
	for (i = 0; i < CA_XCACHE_MAX; i++) {
		X509_free(cs->cs_xcache[i].xc_x509);
		free(cs->cs_xcache[i].xc_der);
	}
	free(cs);
}

static int
ca_named_add(struct ca_nameds *head, const char *name, X509 *x,
    EVP_PKEY *pk)
{
	struct ca_named	*cn;

	if ((cn = calloc(1, sizeof(*cn))) == NULL ||
	    (cn->cn_name = strdup(name)) == NULL) {
		free(cn);
		return (-1);
	}
	cn->cn_x509 = x;
	cn->cn_pkey = pk;
	TAILQ_INSERT_TAIL(head, cn, cn_entry);
	return (0);
}

/* Every certificate of a PEM file (a bundle is fine), or the one DER. */
static STACK_OF(X509) *
ca_read_certs(const uint8_t *buf, size_t len)
{
	STACK_OF(X509)	*sk;
	const uint8_t	*p = buf;
	BIO		*bio;
	X509		*x;

	if ((sk = sk_X509_new_null()) == NULL)
		return (NULL);
	if (!ca_ispem(buf, len)) {
		if ((x = d2i_X509(NULL, &p, (long)len)) != NULL &&
		    (p != buf + len || !sk_X509_push(sk, x)))
			X509_free(x);
	} else if ((bio = BIO_new_mem_buf(buf, (int)len)) != NULL) {
		while ((x = PEM_read_bio_X509(bio, NULL, ca_nopass,
		    NULL)) != NULL)
			if (!sk_X509_push(sk, x)) {
				X509_free(x);
				break;
			}
		BIO_free(bio);
	}
	if (sk_X509_num(sk) == 0) {
		sk_X509_free(sk);
		return (NULL);
	}
	return (sk);
}

/* How many times tag begins a line of buf. */
static int
ca_pem_count(const uint8_t *buf, size_t len, const char *tag)
{
	size_t	 i, tl = strlen(tag);
	int	 n = 0;

	for (i = 0; i + tl <= len; i++)
		if ((i == 0 || buf[i - 1] == '\n') &&
		    memcmp(buf + i, tag, tl) == 0)
			n++;
	return (n);
}

/* The CRLs of a file, DER (one) or PEM (one or more), to cs; 0 or -1. */
static int
ca_read_crls(struct ca_store *cs, const uint8_t *buf, size_t len)
{
	const uint8_t	*p = buf;
	X509_CRL	*crl = NULL;
	BIO		*bio;
	int		 n = 0;

	if (!ca_ispem(buf, len)) {
		if ((crl = d2i_X509_CRL(NULL, &p, (long)len)) == NULL)
			return (-1);
		if (p != buf + len || !sk_X509_CRL_push(cs->cs_crls, crl)) {
			X509_CRL_free(crl);
			return (-1);
		}
		return (0);
	}
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL)
		return (-1);
	while ((crl = PEM_read_bio_X509_CRL(bio, NULL, ca_nopass,
	    NULL)) != NULL) {
		if (!sk_X509_CRL_push(cs->cs_crls, crl)) {
			X509_CRL_free(crl);
			BIO_free(bio);
			return (-1);
		}
		n++;
	}
	ERR_clear_error();
	BIO_free(bio);
	/* Each CRL the file begins was read: none broken, none cut. */
	return (n > 0 && n == ca_pem_count(buf, len, "-----BEGIN X509 CRL") ?
	    0 : -1);
}

static EVP_PKEY *
ca_read_key(const uint8_t *buf, size_t len, int private)
{
	const uint8_t	*p = buf;
	EVP_PKEY	*pk = NULL;
	BIO		*bio;

	if (!ca_ispem(buf, len)) {
		pk = private ? d2i_AutoPrivateKey(NULL, &p, (long)len) :
		    d2i_PUBKEY(NULL, &p, (long)len);
		if (pk != NULL && p != buf + len) {
			EVP_PKEY_free(pk);
			pk = NULL;
		}
	} else if ((bio = BIO_new_mem_buf(buf, (int)len)) != NULL) {
		pk = private ? PEM_read_bio_PrivateKey(bio, NULL, ca_nopass,
		    NULL) : PEM_read_bio_PUBKEY(bio, NULL, ca_nopass, NULL);
		BIO_free(bio);
	}
	return (pk);
}

int
ca_add(struct ca_store *cs, enum ca_filekind kind, const char *name,
    const uint8_t *buf, size_t len)
{
	STACK_OF(X509)	*sk = NULL;
	EVP_PKEY	*pk;
	X509		*x;
	const char	*what = "unreadable";

	if (name == NULL)
		name = "(unnamed)";
	if (len == 0 || len > INT_MAX)
		goto bad;
	switch (kind) {
	case CA_F_CA:
	case CA_F_CERT:
		if ((sk = ca_read_certs(buf, len)) == NULL)
			goto bad;
		while ((x = sk_X509_shift(sk)) != NULL) {
			if ((kind == CA_F_CA ? !sk_X509_push(cs->cs_cas, x) :
			    ca_named_add(&cs->cs_certs, name, x, NULL) == -1)) {
				X509_free(x);
				what = "out of memory";
				goto bad;
			}
		}
		break;
	case CA_F_CRL:
		/* Every CRL of the file; one left out fails ca_ready(). */
		if (ca_read_crls(cs, buf, len) == -1) {
			cs->cs_badcrl = 1;
			goto bad;
		}
		break;
	case CA_F_KEY:
		if ((pk = ca_read_key(buf, len, 1)) == NULL)
			goto bad;
		if (cs->cs_key != NULL)
			log_warnx("%s: %s replaces the earlier private key",
			    __func__, name);
		EVP_PKEY_free(cs->cs_key);
		cs->cs_key = pk;
		break;
	case CA_F_PUBKEY:
		if ((pk = ca_read_key(buf, len, 0)) == NULL)
			goto bad;
		if (ca_named_add(&cs->cs_pubkeys, name, NULL, pk) == -1) {
			EVP_PKEY_free(pk);
			goto bad;
		}
		break;
	default:
		what = "of an unknown kind";
		goto bad;
	}
	sk_X509_free(sk);
	ERR_clear_error();
	return (0);
 bad:
	sk_X509_pop_free(sk, X509_free);
	log_warnx("%s: %s: %s, left out", __func__, name, what);
	ERR_clear_error();
	return (-1);
}

/*
 * With CRL checking on (some CRL was loaded), OpenSSL wants a CRL for
 * every issuer; one we hold none for is not a reason to refuse.
 */
static int
ca_verify_cb(int ok, X509_STORE_CTX *ctx)
{
	struct ca_store	*cs;
	X509		*x;
	X509_NAME	*issuer;
	int		 i;

	if (ok || X509_STORE_CTX_get_error(ctx) != X509_V_ERR_UNABLE_TO_GET_CRL)
		return (ok);
	if ((cs = X509_STORE_CTX_get_app_data(ctx)) == NULL ||
	    (x = X509_STORE_CTX_get_current_cert(ctx)) == NULL)
		return (0);
	issuer = X509_get_issuer_name(x);
	for (i = 0; i < sk_X509_CRL_num(cs->cs_crls); i++)
		if (X509_NAME_cmp(X509_CRL_get_issuer(sk_X509_CRL_value(
		    cs->cs_crls, i)), issuer) == 0)
			return (0);
	X509_STORE_CTX_set_error(ctx, X509_V_OK);
	return (1);
}

int
ca_ready(struct ca_store *cs)
{
	X509_STORE	*st;
	int		 i;

	X509_STORE_free(cs->cs_store);
	cs->cs_store = NULL;
	/*
	 * A CRL that did not load would let its issuer's revoked
	 * certificates in: no store at all rather than that.
	 */
	if (cs->cs_badcrl) {
		log_warnx("%s: a CRL could not be read: no certificate is "
		    "accepted until it can", __func__);
		return (-1);
	}
	if ((st = X509_STORE_new()) == NULL)
		goto fail;
	/*
	 * Security level 2: RSA and DH keys of 2048 bits, ECC of 224, no
	 * signature with SHA-1 or MD5, anywhere in a chain.
	 */
	X509_VERIFY_PARAM_set_auth_level(X509_STORE_get0_param(st), 2);
	for (i = 0; i < sk_X509_num(cs->cs_cas); i++)
		if (!X509_STORE_add_cert(st, sk_X509_value(cs->cs_cas, i)))
			goto fail;
	for (i = 0; i < sk_X509_CRL_num(cs->cs_crls); i++)
		if (!X509_STORE_add_crl(st, sk_X509_CRL_value(cs->cs_crls, i)))
			goto fail;
	/* The whole chain, intermediates too, against the CRLs we have. */
	if (sk_X509_CRL_num(cs->cs_crls) > 0)
		X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK |
		    X509_V_FLAG_CRL_CHECK_ALL);
	X509_STORE_set_verify_cb(st, ca_verify_cb);
	cs->cs_store = st;
	log_debug("%s: %d CAs, %d CRLs, %s", __func__,
	    sk_X509_num(cs->cs_cas), sk_X509_CRL_num(cs->cs_crls),
	    cs->cs_key != NULL ? "a private key" : "no private key");
	ERR_clear_error();
	return (0);
 fail:
	X509_STORE_free(st);
	log_warnx("%s: cannot build the trust store", __func__);
	ERR_clear_error();
	return (-1);
}

int
ca_haskey(const struct ca_store *cs)
{
	return (cs->cs_key != NULL);
}

/* ---- distinguished names and IDs ---- */

/*
 * One "type=value" of a DN string, up to an unescaped separator (a '+'
 * says the next one is in the same RDN), with \, \+ \= \/ \\ and RFC
 * 4514's \XX unescaped into val.
 */
static const char *
ca_dn_ava(const char *s, const char *seps, char *type, size_t tsz,
    char *val, size_t vsz, int *plus)
{
	size_t	 n = 0, keep = 0;
	char	 hex[3] = "";

	while (*s == ' ')
		s++;
	while (*s != '=' && *s != '\0' && strchr(seps, *s) == NULL) {
		if (n + 1 >= tsz)
			return (NULL);
		type[n++] = *s++;
	}
	while (n > 0 && type[n - 1] == ' ')
		n--;
	type[n] = '\0';
	if (*s++ != '=' || n == 0)
		return (NULL);
	while (*s == ' ')
		s++;
	for (n = 0; *s != '\0' && strchr(seps, *s) == NULL; s++) {
		if (n + 1 >= vsz)
			return (NULL);
		if (*s == '\\' && isxdigit((unsigned char)s[1]) &&
		    isxdigit((unsigned char)s[2])) {
			memcpy(hex, s + 1, 2);
			if ((val[n++] = (char)strtoul(hex, NULL, 16)) == '\0')
				return (NULL);
			s += 2;
			keep = n;
		} else if (*s == '\\' && s[1] != '\0') {
			val[n++] = *++s;
			keep = n;
		} else
			val[n++] = *s;
	}
	while (n > keep && val[n - 1] == ' ')
		n--;
	val[n] = '\0';
	if (n == 0)
		return (NULL);
	*plus = (*s == '+');
	if (*s != '\0')
		s++;
	return (s);
}

int
ca_dn_der(const char *str, uint8_t *out, size_t outsz, size_t *outlen)
{
	X509_NAME	*name = NULL;
	const char	*s, *seps;
	char		 type[64], val[IKED_ID_MAX];
	uint8_t		*p;
	int		 plus, prevplus = 0, rfc4514, len, ret = -1;

	if (str == NULL || strchr(str, '=') == NULL ||
	    (name = X509_NAME_new()) == NULL)
		goto done;
	/*
	 * The slash form is in DER order; RFC 4514 writes the most specific
	 * RDN first, which is the last in DER: each RDN is put in front.
	 */
	rfc4514 = (str[0] != '/');
	seps = rfc4514 ? ",;+" : "/";
	s = rfc4514 ? str : str + 1;
	while (*s != '\0') {
		if ((s = ca_dn_ava(s, seps, type, sizeof(type), val,
		    sizeof(val), &plus)) == NULL)
			goto done;
		if (strcasecmp(type, "E") == 0 ||
		    strcasecmp(type, "email") == 0)
			strlcpy(type, "emailAddress", sizeof(type));
		/* A '+' joins the RDN put in just before. */
		if (X509_NAME_add_entry_by_txt(name, type, MBSTRING_UTF8,
		    (unsigned char *)val, -1, rfc4514 ? 0 : -1,
		    prevplus ? (rfc4514 ? 1 : -1) : 0) != 1)
			goto done;
		prevplus = plus;
	}
	if (prevplus || X509_NAME_entry_count(name) == 0)
		goto done;
	if ((len = i2d_X509_NAME(name, NULL)) <= 0 || (size_t)len > outsz)
		goto done;
	p = out;
	if (i2d_X509_NAME(name, &p) != len)
		goto done;
	*outlen = (size_t)len;
	ret = 0;
 done:
	X509_NAME_free(name);
	ERR_clear_error();
	return (ret);
}

/* IKEv2's ID types of iked.conf's IDs, and pubkeys/'s folder names. */
static const struct ca_idtype {
	enum iked_idtype it_conf;
	uint8_t		 it_wire;
	const char	*it_name;
} ca_idtypes[] = {
	{ ID_FQDN, IKEV2_ID_FQDN, "fqdn" },
	{ ID_UFQDN, IKEV2_ID_UFQDN, "ufqdn" },
	{ ID_IPV4, IKEV2_ID_IPV4, "ipv4" },
	{ ID_IPV6, IKEV2_ID_IPV6, "ipv6" },
	{ ID_ASN1DN, IKEV2_ID_ASN1_DN, "asn1dn" }
};

static const struct ca_idtype *
ca_idtype(int byconf, unsigned int type)
{
	size_t	 i;

	for (i = 0; i < sizeof(ca_idtypes) / sizeof(ca_idtypes[0]); i++)
		if ((byconf ? (unsigned int)ca_idtypes[i].it_conf :
		    ca_idtypes[i].it_wire) == type)
			return (&ca_idtypes[i]);
	return (NULL);
}

/* A DER name, all of the bytes and nothing else. */
static X509_NAME *
ca_name_d2i(const uint8_t *der, size_t len)
{
	const uint8_t	*p = der;
	X509_NAME	*name;

	if (len == 0 || len > CA_ID_MAX ||
	    (name = d2i_X509_NAME(NULL, &p, (long)len)) == NULL)
		return (NULL);
	/* An empty name names no one (a certificate with SANs only). */
	if (p != der + len || X509_NAME_entry_count(name) == 0) {
		X509_NAME_free(name);
		return (NULL);
	}
	return (name);
}

static int
ca_caseeq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t	 i;

	if (alen != blen)
		return (0);
	for (i = 0; i < alen; i++)
		if (tolower(a[i]) != tolower(b[i]))
			return (0);
	return (1);
}

/* An iked.conf ID in IKEv2's wire form. */
static int
ca_id_wire(const struct iked_id *cid, uint8_t *type, uint8_t *out,
    size_t sz, size_t *len)
{
	const struct ca_idtype	*it;
	size_t			 n;

	if ((it = ca_idtype(1, cid->id_type)) == NULL)
		return (-1);
	*type = it->it_wire;
	switch (cid->id_type) {
	case ID_ASN1DN:
		return (ca_dn_der(cid->id_str, out, sz, len));
	case ID_IPV4:
	case ID_IPV6:
		n = cid->id_type == ID_IPV4 ? 4 : 16;
		if (sz < n || inet_pton(cid->id_type == ID_IPV4 ? AF_INET :
		    AF_INET6, cid->id_str, out) != 1)
			return (-1);
		break;
	default:
		n = strnlen(cid->id_str, sizeof(cid->id_str));
		if (n == 0 || n > sz)
			return (-1);
		memcpy(out, cid->id_str, n);
		break;
	}
	*len = n;
	return (0);
}

/*
 * A peer's ID as text, for messages and for pubkeys/ ("<type>/<text>"):
 * -1 if it is malformed (length, a NUL or a '/' in a name, bad DER).
 */
static int
ca_id_text(uint8_t type, const uint8_t *id, size_t len, char *buf,
    size_t sz)
{
	X509_NAME	*name;
	size_t		 i;

	buf[0] = '\0';
	switch (type) {
	case IKEV2_ID_IPV4:
	case IKEV2_ID_IPV6:
		if (len != (type == IKEV2_ID_IPV4 ? 4U : 16U) ||
		    inet_ntop(type == IKEV2_ID_IPV4 ? AF_INET : AF_INET6, id,
		    buf, (socklen_t)sz) == NULL)
			return (-1);
		return (0);
	case IKEV2_ID_FQDN:
	case IKEV2_ID_UFQDN:
		if (len == 0 || len >= sz)
			return (-1);
		for (i = 0; i < len; i++)
			if (!isgraph(id[i]) || id[i] == '/')
				return (-1);
		memcpy(buf, id, len);
		buf[len] = '\0';
		return (0);
	case IKEV2_ID_ASN1_DN:
		if ((name = ca_name_d2i(id, len)) == NULL)
			return (-1);
		ca_name_text(name, buf, sz);
		X509_NAME_free(name);
		return (0);
	default:
		return (-1);
	}
}

/* ASN1_DN: the subject; the others: a subjectAltName of their kind. */
static int
ca_id_in_cert(X509 *x, uint8_t type, const uint8_t *id, size_t len)
{
	GENERAL_NAMES		*gens;
	GENERAL_NAME		*gen;
	X509_NAME		*name;
	const ASN1_STRING	*str;
	int			 i, gtype, found = 0;

	switch (type) {
	case IKEV2_ID_ASN1_DN:
		if ((name = ca_name_d2i(id, len)) == NULL)
			return (0);
		found = X509_NAME_cmp(name, X509_get_subject_name(x)) == 0;
		X509_NAME_free(name);
		return (found);
	case IKEV2_ID_FQDN:
		gtype = GEN_DNS;
		break;
	case IKEV2_ID_UFQDN:
		gtype = GEN_EMAIL;
		break;
	case IKEV2_ID_IPV4:
	case IKEV2_ID_IPV6:
		gtype = GEN_IPADD;
		break;
	default:
		return (0);
	}
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (i = 0; !found && i < sk_GENERAL_NAME_num(gens); i++) {
		gen = sk_GENERAL_NAME_value(gens, i);
		if (gen->type != gtype)
			continue;
		str = GENERAL_NAME_get0_value(gen, NULL);
		if (gtype == GEN_IPADD)
			found = (size_t)ASN1_STRING_length(str) == len &&
			    memcmp(ASN1_STRING_get0_data(str), id, len) == 0;
		else
			found = ca_caseeq(ASN1_STRING_get0_data(str),
			    (size_t)ASN1_STRING_length(str), id, len);
	}
	GENERAL_NAMES_free(gens);
	return (found);
}

/* The rule's dstid: names by DN compare, addresses exactly. */
static int
ca_id_is(const struct iked_id *cid, uint8_t type, const uint8_t *id,
    size_t len)
{
	X509_NAME	*a, *b;
	uint8_t		 want[CA_ID_MAX], wtype;
	size_t		 wlen;
	int		 eq;

	if (ca_id_wire(cid, &wtype, want, sizeof(want), &wlen) == -1 ||
	    wtype != type)
		return (0);
	switch (type) {
	case IKEV2_ID_ASN1_DN:
		a = ca_name_d2i(want, wlen);
		b = ca_name_d2i(id, len);
		eq = a != NULL && b != NULL && X509_NAME_cmp(a, b) == 0;
		X509_NAME_free(a);
		X509_NAME_free(b);
		return (eq);
	case IKEV2_ID_IPV4:
	case IKEV2_ID_IPV6:
		return (wlen == len && memcmp(want, id, len) == 0);
	default:
		return (ca_caseeq(want, wlen, id, len));
	}
}

/* ---- signatures ---- */

static const char *
ca_keyname(enum ca_keytype kt)
{
	static const char *const names[] = { "unsupported", "RSA", "RSA-PSS",
	    "ECDSA P-256", "ECDSA P-384", "ECDSA P-521", "ECDSA",
	    "Ed25519", "Ed448" };

	return (names[kt]);
}

static const char *
ca_methodname(uint8_t method)
{
	const struct ca_method	*m;

	if ((m = ca_method_bynum(method)) != NULL)
		return (m->m_name);
	if (method == IKEV2_AUTH_SIG)
		return ("DIGITAL_SIGNATURE");
	if (method == IKEV2_AUTH_SHARED_KEY_MIC)
		return ("PSK");
	return ("unknown");
}

/* psslen: RSASSA-PSS with that salt and MGF1 over md, or -1. */
static int
ca_evp_init(EVP_MD_CTX *ctx, EVP_PKEY *pk, const EVP_MD *md, int psslen,
    int sign)
{
	EVP_PKEY_CTX	*pctx;

	if ((sign ? EVP_DigestSignInit(ctx, &pctx, md, NULL, pk) :
	    EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pk)) != 1)
		return (-1);
	if (psslen >= 0 &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, psslen) != 1))
		return (-1);
	return (0);
}

static int
ca_evp_sign(EVP_PKEY *pk, const EVP_MD *md, int psslen,
    const uint8_t *data, size_t len, uint8_t *out, size_t outsz,
    size_t *outlen)
{
	EVP_MD_CTX	*ctx;
	size_t		 n;
	int		 ret = -1;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return (-1);
	if (ca_evp_init(ctx, pk, md, psslen, 1) == 0 &&
	    EVP_DigestSign(ctx, NULL, &n, data, len) == 1 && n <= outsz &&
	    EVP_DigestSign(ctx, out, &n, data, len) == 1) {
		*outlen = n;
		ret = 0;
	}
	EVP_MD_CTX_free(ctx);
	return (ret);
}

static int
ca_evp_verify(EVP_PKEY *pk, const EVP_MD *md, int psslen,
    const uint8_t *sig, size_t siglen, const uint8_t *data, size_t len)
{
	EVP_MD_CTX	*ctx;
	int		 ret = -1;

	if (siglen == 0 || (ctx = EVP_MD_CTX_new()) == NULL)
		return (-1);
	if (ca_evp_init(ctx, pk, md, psslen, 0) == 0 &&
	    EVP_DigestVerify(ctx, sig, siglen, data, len) == 1)
		ret = 0;
	EVP_MD_CTX_free(ctx);
	return (ret);
}

/* RFC 4754: r|s, each padded to half; OpenSSL's is DER. */
static int
ca_ecdsa_der2raw(const uint8_t *der, size_t len, uint8_t *out,
    size_t half)
{
	ECDSA_SIG	*es;
	const BIGNUM	*r, *s;
	const uint8_t	*p = der;
	int		 ret = -1;

	if ((es = d2i_ECDSA_SIG(NULL, &p, (long)len)) == NULL)
		return (-1);
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_bn2binpad(r, out, (int)half) == (int)half &&
	    BN_bn2binpad(s, out + half, (int)half) == (int)half)
		ret = 0;
	ECDSA_SIG_free(es);
	return (ret);
}

static int
ca_ecdsa_raw2der(const uint8_t *raw, size_t half, uint8_t *out,
    size_t outsz, size_t *outlen)
{
	ECDSA_SIG	*es;
	BIGNUM		*r, *s;
	uint8_t		*p = out;
	int		 n, ret = -1;

	r = BN_bin2bn(raw, (int)half, NULL);
	s = BN_bin2bn(raw + half, (int)half, NULL);
	if (r == NULL || s == NULL || (es = ECDSA_SIG_new()) == NULL) {
		BN_free(r);
		BN_free(s);
		return (-1);
	}
	ECDSA_SIG_set0(es, r, s);
	if ((n = i2d_ECDSA_SIG(es, NULL)) > 0 && (size_t)n <= outsz &&
	    i2d_ECDSA_SIG(es, &p) == n) {
		*outlen = (size_t)n;
		ret = 0;
	}
	ECDSA_SIG_free(es);
	return (ret);
}

static const struct ca_hash *
ca_hash_bynid(int nid)
{
	size_t	 i;

	for (i = 0; i < sizeof(ca_hashes) / sizeof(ca_hashes[0]); i++)
		if (EVP_MD_get_type(ca_hashes[i].h_md()) == nid)
			return (&ca_hashes[i]);
	return (NULL);
}

/* The key's own hash if the peer has it, else any SHA-2 it has. */
static const struct ca_hash *
ca_hash_pick(enum ca_keytype kt, unsigned int have)
{
	unsigned int	 want;
	size_t		 i;

	want = kt == CA_K_P384 ? CA_HASH_SHA384 :
	    kt == CA_K_P521 ? CA_HASH_SHA512 : CA_HASH_SHA256;
	for (i = 0; i < sizeof(ca_hashes) / sizeof(ca_hashes[0]); i++)
		if (ca_hashes[i].h_bit == want && (have & want))
			return (&ca_hashes[i]);
	for (i = 0; i < sizeof(ca_hashes) / sizeof(ca_hashes[0]); i++)
		if (have & ca_hashes[i].h_bit)
			return (&ca_hashes[i]);
	return (NULL);
}

static int
ca_sigalg_fits(const struct ca_sigalg *sa, enum ca_keytype kt)
{
	return (sa->sa_key == CA_K_EC ? CA_K_ISEC(kt) : sa->sa_key == kt);
}

/*
 * RSASSA-PSS's AlgorithmIdentifier (RFC 4055): hash, MGF1 with the same
 * hash, salt as long as the hash, the usual trailer.  It is all we make
 * and all we take.
 */
static X509_ALGOR *
ca_pss_algor(const EVP_MD *md)
{
	RSA_PSS_PARAMS	*pss;
	X509_ALGOR	*alg = NULL;
	ASN1_STRING	*mgf = NULL, *params = NULL;

	if ((pss = RSA_PSS_PARAMS_new()) == NULL)
		return (NULL);
	if ((pss->hashAlgorithm = X509_ALGOR_new()) == NULL ||
	    (pss->maskGenAlgorithm = X509_ALGOR_new()) == NULL ||
	    (pss->saltLength = ASN1_INTEGER_new()) == NULL)
		goto done;
	X509_ALGOR_set_md(pss->hashAlgorithm, md);
	if ((mgf = ASN1_item_pack(pss->hashAlgorithm,
	    ASN1_ITEM_rptr(X509_ALGOR), NULL)) == NULL ||
	    !X509_ALGOR_set0(pss->maskGenAlgorithm, OBJ_nid2obj(NID_mgf1),
	    V_ASN1_SEQUENCE, mgf))
		goto done;
	mgf = NULL;
	if (!ASN1_INTEGER_set(pss->saltLength, EVP_MD_get_size(md)) ||
	    (params = ASN1_item_pack(pss, ASN1_ITEM_rptr(RSA_PSS_PARAMS),
	    NULL)) == NULL || (alg = X509_ALGOR_new()) == NULL)
		goto done;
	if (!X509_ALGOR_set0(alg, OBJ_nid2obj(NID_rsassaPss),
	    V_ASN1_SEQUENCE, params)) {
		X509_ALGOR_free(alg);
		alg = NULL;
		goto done;
	}
	params = NULL;
 done:
	ASN1_STRING_free(mgf);
	ASN1_STRING_free(params);
	RSA_PSS_PARAMS_free(pss);
	return (alg);
}

static const struct ca_hash *
ca_pss_hash(const X509_ALGOR *alg)
{
	RSA_PSS_PARAMS		*pss = NULL;
	X509_ALGOR		*mgfmd = NULL;
	const ASN1_OBJECT	*obj;
	const void		*pval;
	const struct ca_hash	*h = NULL;
	int			 ptype, hnid;

	X509_ALGOR_get0(&obj, &ptype, &pval, alg);
	if (ptype != V_ASN1_SEQUENCE || (pss = ASN1_item_unpack(pval,
	    ASN1_ITEM_rptr(RSA_PSS_PARAMS))) == NULL ||
	    pss->hashAlgorithm == NULL || pss->maskGenAlgorithm == NULL ||
	    pss->saltLength == NULL)
		goto done;	/* absent: SHA-1, refused */
	hnid = OBJ_obj2nid(pss->hashAlgorithm->algorithm);
	X509_ALGOR_get0(&obj, &ptype, &pval, pss->maskGenAlgorithm);
	if (OBJ_obj2nid(obj) != NID_mgf1 || ptype != V_ASN1_SEQUENCE ||
	    (mgfmd = ASN1_item_unpack(pval, ASN1_ITEM_rptr(X509_ALGOR))) ==
	    NULL || OBJ_obj2nid(mgfmd->algorithm) != hnid)
		goto done;
	if ((h = ca_hash_bynid(hnid)) != NULL &&
	    (ASN1_INTEGER_get(pss->saltLength) != EVP_MD_get_size(h->h_md()) ||
	    (pss->trailerField != NULL &&
	    ASN1_INTEGER_get(pss->trailerField) != 1)))
		h = NULL;
 done:
	X509_ALGOR_free(mgfmd);
	RSA_PSS_PARAMS_free(pss);
	return (h);
}

/* RFC 7427: 0, 1 if no hash in common (the caller falls back), -1. */
static int
ca_sign_7427(EVP_PKEY *pk, enum ca_keytype kt, unsigned int peerhashes,
    const uint8_t *data, size_t len, uint8_t *out, size_t outsz,
    size_t *outlen, char *why, size_t whysz)
{
	const struct ca_sigalg	*sa = NULL;
	const struct ca_hash	*h = NULL;
	const EVP_MD		*md = NULL;
	X509_ALGOR		*alg = NULL;
	uint8_t			*p;
	size_t			 i, siglen;
	int			 n;
	unsigned int		 have = peerhashes & CA_HASHES_OURS;

	if (kt == CA_K_ED25519 || kt == CA_K_ED448) {
		if ((have & CA_HASH_IDENTITY) == 0)
			return (1);
	} else if ((h = ca_hash_pick(kt, have)) == NULL)
		return (1);
	else
		md = h->h_md();
	for (i = 0; kt != CA_K_RSAPSS &&
	    i < sizeof(ca_sigalgs) / sizeof(ca_sigalgs[0]); i++)
		if (ca_sigalg_fits(&ca_sigalgs[i], kt) &&
		    ca_sigalgs[i].sa_hash == (h ? h->h_bit : CA_HASH_IDENTITY))
			sa = &ca_sigalgs[i];
	if (kt == CA_K_RSAPSS)
		alg = ca_pss_algor(md);
	else if (sa != NULL && (alg = X509_ALGOR_new()) != NULL &&
	    !X509_ALGOR_set0(alg, OBJ_nid2obj(sa->sa_nid),
	    sa->sa_null ? V_ASN1_NULL : V_ASN1_UNDEF, NULL)) {
		X509_ALGOR_free(alg);
		alg = NULL;
	}
	if (alg == NULL)
		return (ca_why(why, whysz, "no RFC 7427 signature for the "
		    "%s key", ca_keyname(kt)));
	n = i2d_X509_ALGOR(alg, NULL);
	p = out + 1;
	if (n <= 0 || n > 255 || (size_t)n + 1 > outsz ||
	    i2d_X509_ALGOR(alg, &p) != n) {
		X509_ALGOR_free(alg);
		return (ca_why(why, whysz, "AUTH buffer too small"));
	}
	X509_ALGOR_free(alg);
	out[0] = (uint8_t)n;
	if (ca_evp_sign(pk, md, kt == CA_K_RSAPSS ? EVP_MD_get_size(md) : -1,
	    data, len, out + 1 + n, outsz - 1 - (size_t)n, &siglen) == -1)
		return (ca_why(why, whysz, "cannot sign with the %s key",
		    ca_keyname(kt)));
	*outlen = 1 + (size_t)n + siglen;
	return (0);
}

int
ca_sign(struct ca_store *cs, enum ca_authmode mode, unsigned int peerhashes,
    const uint8_t *data, size_t len, uint8_t *method, uint8_t *out,
    size_t outsz, size_t *outlen, char *why, size_t whysz)
{
	const struct ca_method	*m = NULL;
	enum ca_keytype		 kt;
	uint8_t			 der[CA_SIG_MAX];
	size_t			 i, derlen;
	int			 rv;

	ERR_clear_error();
	if (cs->cs_key == NULL)
		return (ca_why(why, whysz, "no private key "
		    "(private/local.key)"));
	kt = ca_keytype(cs->cs_key);
	switch (mode) {
	case CA_AUTH_RFC7427:
		rv = ca_sign_7427(cs->cs_key, kt, peerhashes, data, len, out,
		    outsz, outlen, why, whysz);
		if (rv <= 0) {
			*method = IKEV2_AUTH_SIG;
			ERR_clear_error();
			return (rv);
		}
		if ((m = ca_method_bykey(kt)) == NULL)
			return (ca_why(why, whysz, "no signature hash in "
			    "common with the peer, and the %s key has no "
			    "other method", ca_keyname(kt)));
		break;
	case CA_AUTH_RSA:
	case CA_AUTH_ECDSA256:
	case CA_AUTH_ECDSA384:
	case CA_AUTH_ECDSA521:
		for (i = 0; i < sizeof(ca_methods) / sizeof(ca_methods[0]); i++)
			if (ca_methods[i].m_mode == mode)
				m = &ca_methods[i];
		if (m->m_key != kt)
			return (ca_why(why, whysz, "rule (%s) signs with %s "
			    "but private/local.key is %s", ca_modename(mode),
			    ca_keyname(m->m_key), ca_keyname(kt)));
		break;
	default:
		return (ca_why(why, whysz, "rule (%s) does not sign",
		    ca_modename(mode)));
	}
	if (m->m_half > 0 ? (outsz < 2 * m->m_half ||
	    ca_evp_sign(cs->cs_key, m->m_md(), -1, data, len, der,
	    sizeof(der), &derlen) == -1 ||
	    ca_ecdsa_der2raw(der, derlen, out, m->m_half) == -1) :
	    ca_evp_sign(cs->cs_key, m->m_md(), -1, data, len, out, outsz,
	    outlen) == -1)
		return (ca_why(why, whysz, "cannot sign with method %u (%s)",
		    m->m_method, m->m_name));
	if (m->m_half > 0)
		*outlen = 2 * m->m_half;
	*method = m->m_method;
	ERR_clear_error();
	return (0);
}

int
ca_sign_v1(struct ca_store *cs, const uint8_t *data, size_t len,
    uint8_t *out, size_t outsz, size_t *outlen, char *why, size_t whysz)
{
	EVP_PKEY_CTX	*pctx;
	size_t		 n;
	int		 ok;

	ERR_clear_error();
	if (cs->cs_key == NULL)
		return (ca_why(why, whysz, "no private key "
		    "(private/local.key)"));
	if (ca_keytype(cs->cs_key) != CA_K_RSA)
		return (ca_why(why, whysz, "IKEv1 signs with RSA, "
		    "private/local.key is %s", ca_keyname(ca_keytype(
		    cs->cs_key))));
	/* No digest set: PKCS#1 type 1 over HASH_x itself (RFC 2409). */
	if ((pctx = EVP_PKEY_CTX_new_from_pkey(NULL, cs->cs_key, NULL)) == NULL)
		return (ca_why(why, whysz, "out of memory"));
	ok = EVP_PKEY_sign_init(pctx) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
	    EVP_PKEY_sign(pctx, NULL, &n, data, len) == 1 && n <= outsz &&
	    EVP_PKEY_sign(pctx, out, &n, data, len) == 1;
	EVP_PKEY_CTX_free(pctx);
	if (!ok)
		return (ca_why(why, whysz, "cannot sign %zu bytes with RSA",
		    len));
	*outlen = n;
	ERR_clear_error();
	return (0);
}

static int
ca_verify_v1(EVP_PKEY *pk, const struct ca_peer *cp, char *why,
    size_t whysz)
{
	EVP_PKEY_CTX	*pctx;
	uint8_t		*buf;
	size_t		 n;
	int		 ok = 0;

	if (ca_keytype(pk) != CA_K_RSA)
		return (ca_why(why, whysz, "IKEv1 signature needs an RSA key, "
		    "the peer's is %s", ca_keyname(ca_keytype(pk))));
	n = (size_t)EVP_PKEY_get_size(pk);
	if ((buf = malloc(n)) == NULL)
		return (ca_why(why, whysz, "out of memory"));
	if ((pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) != NULL &&
	    cp->cp_authlen > 0 &&
	    EVP_PKEY_verify_recover_init(pctx) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
	    EVP_PKEY_verify_recover(pctx, buf, &n, cp->cp_auth,
	    cp->cp_authlen) == 1)
		ok = n == cp->cp_datalen &&
		    CRYPTO_memcmp(buf, cp->cp_data, n) == 0;
	EVP_PKEY_CTX_free(pctx);
	free(buf);
	if (!ok)
		return (ca_why(why, whysz, "signature does not verify "
		    "(IKEv1 RSA)"));
	return (0);
}

static int
ca_verify_7427(EVP_PKEY *pk, const struct ca_peer *cp, char *why,
    size_t whysz)
{
	const struct ca_sigalg	*sa = NULL;
	const struct ca_hash	*h = NULL;
	const ASN1_OBJECT	*obj;
	const void		*pval;
	const uint8_t		*p;
	X509_ALGOR		*alg;
	enum ca_keytype		 kt = ca_keytype(pk);
	size_t			 i, n;
	unsigned int		 hash;
	int			 nid, ptype, fits, psslen = -1;
	char			 oid[80];

	if (cp->cp_authlen < 2 || (n = cp->cp_auth[0]) == 0 ||
	    n + 1 >= cp->cp_authlen)
		return (ca_why(why, whysz, "RFC 7427 AUTH data malformed "
		    "(AlgorithmIdentifier length)"));
	p = cp->cp_auth + 1;
	if ((alg = d2i_X509_ALGOR(NULL, &p, (long)n)) == NULL ||
	    p != cp->cp_auth + 1 + n) {
		X509_ALGOR_free(alg);
		return (ca_why(why, whysz, "RFC 7427 AUTH data malformed "
		    "(AlgorithmIdentifier)"));
	}
	X509_ALGOR_get0(&obj, &ptype, &pval, alg);
	nid = OBJ_obj2nid(obj);
	OBJ_obj2txt(oid, sizeof(oid), obj, 0);
	if (nid == NID_rsassaPss) {
		h = ca_pss_hash(alg);
		hash = h != NULL ? h->h_bit : 0;
		fits = CA_K_ISRSA(kt);
		psslen = h != NULL ? EVP_MD_get_size(h->h_md()) : -1;
	} else {
		for (i = 0; i < sizeof(ca_sigalgs) / sizeof(ca_sigalgs[0]); i++)
			if (ca_sigalgs[i].sa_nid == nid)
				sa = &ca_sigalgs[i];
		/* Parameters absent, or NULL (RFC 4055's "should" aside). */
		if (sa != NULL && ptype != V_ASN1_UNDEF && ptype != V_ASN1_NULL)
			sa = NULL;
		hash = sa != NULL ? sa->sa_hash : 0;
		fits = sa != NULL && ca_sigalg_fits(sa, kt);
	}
	X509_ALGOR_free(alg);
	if (hash == 0)
		return (ca_why(why, whysz, "signature algorithm %s (or its "
		    "parameters) not supported", oid));
	if ((hash & cp->cp_hashes) == 0)
		return (ca_why(why, whysz, "signature algorithm %s: hash "
		    "not announced in our SIGNATURE_HASH_ALGORITHMS", oid));
	if (!fits)
		return (ca_why(why, whysz, "signature algorithm %s does not "
		    "fit the peer's %s key", oid, ca_keyname(kt)));
	if (ca_evp_verify(pk, sa != NULL && sa->sa_md != NULL ? sa->sa_md() :
	    h != NULL ? h->h_md() : NULL, psslen, cp->cp_auth + 1 + n,
	    cp->cp_authlen - 1 - n, cp->cp_data, cp->cp_datalen) == -1)
		return (ca_why(why, whysz, "signature does not verify "
		    "(method 14, %s)", oid));
	return (0);
}

/* The AUTH method against the rule's keyword, then the signature. */
static int
ca_verify_sig(EVP_PKEY *pk, const struct ca_peer *cp, char *why,
    size_t whysz)
{
	const struct ca_method	*m;
	enum ca_keytype		 kt = ca_keytype(pk);
	uint8_t			 der[CA_SIG_MAX];
	size_t			 derlen;
	int			 bad;

	if (cp->cp_version == 1) {
		if (cp->cp_mode != CA_AUTH_RSA &&
		    cp->cp_mode != CA_AUTH_RFC7427)
			return (ca_why(why, whysz, "IKEv1 RSA signature "
			    "refused by rule (%s)", ca_modename(cp->cp_mode)));
		return (ca_verify_v1(pk, cp, why, whysz));
	}
	m = ca_method_bynum(cp->cp_method);
	/*
	 * rsa and ecdsa* name a kind of key: the RFC 7427 signature a peer
	 * makes with such a key (strongSwan's choice when we announce our
	 * hashes) is as good as the classic method.
	 */
	if (cp->cp_method == IKEV2_AUTH_SIG && ((cp->cp_mode == CA_AUTH_RSA &&
	    (kt == CA_K_RSA || kt == CA_K_RSAPSS)) ||
	    (cp->cp_mode == CA_AUTH_ECDSA256 && kt == CA_K_P256) ||
	    (cp->cp_mode == CA_AUTH_ECDSA384 && kt == CA_K_P384) ||
	    (cp->cp_mode == CA_AUTH_ECDSA521 && kt == CA_K_P521)))
		return (ca_verify_7427(pk, cp, why, whysz));
	/* RFC 7427's rule takes a peer's fallback to its key's method. */
	if (cp->cp_mode == CA_AUTH_RFC7427 ?
	    m == NULL && cp->cp_method != IKEV2_AUTH_SIG :
	    m == NULL || m->m_mode != cp->cp_mode)
		return (ca_why(why, whysz, "method %u (%s) refused by rule "
		    "(%s)", cp->cp_method, ca_methodname(cp->cp_method),
		    ca_modename(cp->cp_mode)));
	if (m == NULL)
		return (ca_verify_7427(pk, cp, why, whysz));
	if (m->m_key != kt)
		return (ca_why(why, whysz, "method %u (%s) does not fit the "
		    "peer's %s key", m->m_method, m->m_name, ca_keyname(kt)));
	if (m->m_half > 0) {
		if (cp->cp_authlen != 2 * m->m_half)
			return (ca_why(why, whysz, "method %u (%s): signature "
			    "of %zu bytes, not %zu", m->m_method, m->m_name,
			    cp->cp_authlen, 2 * m->m_half));
		bad = ca_ecdsa_raw2der(cp->cp_auth, m->m_half, der,
		    sizeof(der), &derlen) == -1 ||
		    ca_evp_verify(pk, m->m_md(), -1, der, derlen, cp->cp_data,
		    cp->cp_datalen) == -1;
	} else
		bad = ca_evp_verify(pk, m->m_md(), -1, cp->cp_auth,
		    cp->cp_authlen, cp->cp_data, cp->cp_datalen) == -1;
	if (bad)
		return (ca_why(why, whysz, "signature does not verify "
		    "(method %u, %s)", m->m_method, m->m_name));
	return (0);
}

/* ---- certificates ---- */

/*
 * The certificate of these n DER bytes, from the cache or parsed (and
 * then cached, in place of the least recently used); a reference the
 * caller frees, or NULL.
 */
static X509 *
ca_x509_d2i(struct ca_store *cs, const uint8_t *p, size_t n)
{
	struct ca_xcache	*xc, *old = NULL;
	const uint8_t		*q = p;
	X509			*x;
	int			 i;

	for (i = 0; i < CA_XCACHE_MAX; i++) {
		xc = &cs->cs_xcache[i];
		if (xc->xc_x509 != NULL && xc->xc_len == n &&
		    memcmp(xc->xc_der, p, n) == 0) {
			xc->xc_used = ++cs->cs_xclock;
			return (X509_up_ref(xc->xc_x509) == 1 ?
			    xc->xc_x509 : NULL);
		}
		if (old == NULL || xc->xc_used < old->xc_used)
			old = xc;
	}
	if ((x = d2i_X509(NULL, &q, (long)n)) == NULL)
		return (NULL);
	if (q != p + n) {
		X509_free(x);
		return (NULL);
	}
	X509_free(old->xc_x509);
	free(old->xc_der);
	old->xc_x509 = NULL;
	if ((old->xc_der = malloc(n)) != NULL && X509_up_ref(x) == 1) {
		memcpy(old->xc_der, p, n);
		old->xc_len = n;
		old->xc_x509 = x;
		old->xc_used = ++cs->cs_xclock;
	}
	return (x);
}

/* The [2 bytes length][DER] sequence of ca.h, end-entity first. */
static STACK_OF(X509) *
ca_chain_d2i(struct ca_store *cs, const uint8_t *p, size_t len)
{
	STACK_OF(X509)	*sk;
	X509		*x;
	size_t		 n;

	if (len > CA_CHAIN_MAX || (sk = sk_X509_new_null()) == NULL)
		return (NULL);
	while (len > 0) {
		if (len < 2 || sk_X509_num(sk) >= CA_CHAIN_DEPTH)
			goto bad;
		n = (size_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
		if (n == 0 || n > len)
			goto bad;
		if ((x = ca_x509_d2i(cs, p, n)) == NULL)
			goto bad;
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			goto bad;
		}
		p += n;
		len -= n;
	}
	if (sk_X509_num(sk) > 0)
		return (sk);
 bad:
	sk_X509_pop_free(sk, X509_free);
	return (NULL);
}

static int
ca_chain_i2d(X509 *x, uint8_t *chain, size_t chainsz, size_t *chainlen)
{
	uint8_t	*p;
	int	 n;

	if ((n = i2d_X509(x, NULL)) <= 0 || n > 0xffff ||
	    *chainlen + 2 + (size_t)n > chainsz)
		return (-1);
	p = chain + *chainlen;
	p[0] = (uint8_t)(n >> 8);
	p[1] = (uint8_t)n;
	p += 2;
	if (i2d_X509(x, &p) != n)
		return (-1);
	*chainlen += 2 + (size_t)n;
	return (0);
}

/* X509_verify_cert() against ca/ and crls/; its refusal as one line. */
/* ---- OCSP (RFC 6960) ---- */

void
ca_set_ocsp(struct ca_store *cs, const char *url, long tolerate,
    long maxage, ca_connect_fn fn, void *arg)
{
	free(cs->cs_ocsp_url);
	cs->cs_ocsp_url = url != NULL ? strdup(url) : NULL;
	cs->cs_ocsp_tolerate = tolerate;
	cs->cs_ocsp_maxage = maxage;
	cs->cs_ocsp_connect = fn;
	cs->cs_ocsp_arg = arg;
}

/*
 * The status of verified's end entity (its issuer next in the chain),
 * asked of the responder its certificate names (authorityInfoAccess)
 * or else of "set ocsp"'s URL, over plain HTTP, through a socket that
 * cs_ocsp_connect opens.  Only GOOD, signed by the CA or its delegate,
 * fresh (thisUpdate/nextUpdate with the tolerance, maxage) and with our
 * nonce if the responder echoes one, passes.  0, or -1 with why.
 */
static int
ca_ocsp(struct ca_store *cs, STACK_OF(X509) *verified, char *why,
    size_t whysz)
{
	X509			*ee, *issuer;
	STACK_OF(OPENSSL_STRING) *aia;
	OCSP_CERTID		*id = NULL;
	OCSP_REQUEST		*req = NULL;
	OCSP_RESPONSE		*resp = NULL;
	OCSP_BASICRESP		*bs = NULL;
	ASN1_GENERALIZEDTIME	*rev, *thisupd, *nextupd;
	BIO			*bio = NULL;
	char			*host = NULL, *port = NULL, *path = NULL;
	char			 url[512], name[CA_WHY_MAX];
	int			 ssl, fd, status, reason, ret = -1;

	if (sk_X509_num(verified) < 2)
		return (0);	/* a trust anchor itself: nothing to ask */
	ee = sk_X509_value(verified, 0);
	issuer = sk_X509_value(verified, 1);
	ca_subject(ee, name, sizeof(name));
	aia = X509_get1_ocsp(ee);
	snprintf(url, sizeof(url), "%s", aia != NULL &&
	    sk_OPENSSL_STRING_num(aia) > 0 ? sk_OPENSSL_STRING_value(aia, 0) :
	    cs->cs_ocsp_url);
	X509_email_free(aia);
	if (OSSL_HTTP_parse_url(url, &ssl, NULL, &host, &port, NULL, &path,
	    NULL, NULL) != 1 || ssl) {
		ca_why(why, whysz, "certificate \"%s\": OCSP responder %s: "
		    "not an http URL", name, url);
		goto done;
	}
	if ((req = OCSP_REQUEST_new()) == NULL ||
	    (id = OCSP_cert_to_id(NULL, ee, issuer)) == NULL ||
	    OCSP_request_add0_id(req, id) == NULL) {
		ca_why(why, whysz, "out of memory");
		goto done;
	}
	/* The request has it; another to look the answer up. */
	id = NULL;
	if (OCSP_request_add1_nonce(req, NULL, -1) != 1 ||
	    (id = OCSP_cert_to_id(NULL, ee, issuer)) == NULL) {
		ca_why(why, whysz, "out of memory");
		goto done;
	}
	if (cs->cs_ocsp_connect == NULL || (fd = cs->cs_ocsp_connect(host,
	    port, cs->cs_ocsp_arg)) == -1) {
		ca_why(why, whysz, "certificate \"%s\": OCSP responder %s "
		    "cannot be reached", name, url);
		goto done;
	}
	if ((bio = BIO_new_socket(fd, BIO_CLOSE)) == NULL) {
		close(fd);
		ca_why(why, whysz, "out of memory");
		goto done;
	}
	if ((resp = OCSP_sendreq_bio(bio, path, req)) == NULL) {
		ca_why(why, whysz, "certificate \"%s\": no answer from OCSP "
		    "responder %s", name, url);
		goto done;
	}
	if ((status = OCSP_response_status(resp)) !=
	    OCSP_RESPONSE_STATUS_SUCCESSFUL ||
	    (bs = OCSP_response_get1_basic(resp)) == NULL) {
		ca_why(why, whysz, "certificate \"%s\": OCSP responder %s "
		    "answers %s", name, url, OCSP_response_status_str(status));
		goto done;
	}
	/* Signed by the issuer or a responder it delegated to. */
	if (OCSP_check_nonce(req, bs) == 0 ||
	    OCSP_basic_verify(bs, verified, cs->cs_store, 0) != 1) {
		ca_why(why, whysz, "certificate \"%s\": the OCSP answer of "
		    "%s does not verify", name, url);
		goto done;
	}
	if (OCSP_resp_find_status(bs, id, &status, &reason, &rev, &thisupd,
	    &nextupd) != 1) {
		ca_why(why, whysz, "certificate \"%s\": OCSP responder %s "
		    "does not answer for it", name, url);
		goto done;
	}
	if (OCSP_check_validity(thisupd, nextupd, cs->cs_ocsp_tolerate,
	    cs->cs_ocsp_maxage) != 1) {
		ca_why(why, whysz, "certificate \"%s\": the OCSP answer of "
		    "%s is stale", name, url);
		goto done;
	}
	switch (status) {
	case V_OCSP_CERTSTATUS_GOOD:
		log_info("OCSP: certificate \"%s\": good (%s)", name, url);
		ret = 0;
		break;
	case V_OCSP_CERTSTATUS_REVOKED:
		ca_why(why, whysz, "certificate \"%s\": revoked (OCSP%s%s)",
		    name, reason >= 0 ? ", " : "", reason >= 0 ?
		    OCSP_crl_reason_str(reason) : "");
		break;
	default:
		ca_why(why, whysz, "certificate \"%s\": unknown to OCSP "
		    "responder %s", name, url);
		break;
	}
 done:
	OCSP_CERTID_free(id);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	OCSP_REQUEST_free(req);
	BIO_free_all(bio);
	OPENSSL_free(host);
	OPENSSL_free(port);
	OPENSSL_free(path);
	ERR_clear_error();
	return (ret);
}


static int
ca_verify_chain(struct ca_store *cs, STACK_OF(X509) *chain,
    STACK_OF(X509) **verified, char *why, size_t whysz)
{
	X509_STORE_CTX	*ctx;
	X509		*x = sk_X509_value(chain, 0);
	char		 name[CA_WHY_MAX], t[64];
	int		 err;

	if (cs->cs_store == NULL || (ctx = X509_STORE_CTX_new()) == NULL)
		return (ca_why(why, whysz, "certificate \"%s\": no trust store",
		    ca_subject(x, name, sizeof(name))));
	if (X509_STORE_CTX_init(ctx, cs->cs_store, x, chain) != 1 ||
	    !X509_STORE_CTX_set_app_data(ctx, cs)) {
		X509_STORE_CTX_free(ctx);
		return (ca_why(why, whysz, "out of memory"));
	}
	if (X509_verify_cert(ctx) == 1) {
		*verified = X509_STORE_CTX_get1_chain(ctx);
		X509_STORE_CTX_free(ctx);
		return (*verified != NULL ? 0 : ca_why(why, whysz,
		    "out of memory"));
	}
	err = X509_STORE_CTX_get_error(ctx);
	if (X509_STORE_CTX_get_current_cert(ctx) != NULL)
		x = X509_STORE_CTX_get_current_cert(ctx);
	ca_subject(x, name, sizeof(name));
	switch (err) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		ca_why(why, whysz, "certificate \"%s\": expired (notAfter %s)",
		    name, ca_time(X509_get0_notAfter(x), t, sizeof(t)));
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		ca_why(why, whysz, "certificate \"%s\": not yet valid "
		    "(notBefore %s)", name,
		    ca_time(X509_get0_notBefore(x), t, sizeof(t)));
		break;
	case X509_V_ERR_CERT_REVOKED:
		ca_why(why, whysz, "certificate \"%s\": revoked", name);
		break;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_UNTRUSTED:
		ca_why(why, whysz, "certificate \"%s\": not signed by a "
		    "trusted CA (%s)", name,
		    X509_verify_cert_error_string(err));
		break;
	default:
		ca_why(why, whysz, "certificate \"%s\": %s", name,
		    X509_verify_cert_error_string(err));
		break;
	}
	X509_STORE_CTX_free(ctx);
	return (-1);
}

static EVP_PKEY *
ca_pubkey(struct ca_store *cs, const char *type, const char *id)
{
	struct ca_named	*cn;
	char		 want[IKED_ID_MAX + 16];

	if (snprintf(want, sizeof(want), "%s/%s", type, id) >=
	    (int)sizeof(want))
		return (NULL);
	TAILQ_FOREACH(cn, &cs->cs_pubkeys, cn_entry)
		if (ca_name_is(cn->cn_name, want))
			return (cn->cn_pkey);
	return (NULL);
}

int
ca_verify(struct ca_store *cs, const struct ca_peer *cp, char *why,
    size_t whysz)
{
	const struct ca_idtype	*it;
	STACK_OF(X509)		*chain = NULL, *verified = NULL;
	EVP_PKEY		*pk;
	X509			*x;
	char			 id[CA_WHY_MAX], subj[CA_WHY_MAX];
	const char		*tname;
	int			 ret = -1;

	ERR_clear_error();
	if (cp->cp_version != 1 && cp->cp_version != 2)
		return (ca_why(why, whysz, "IKE version %d", cp->cp_version));
	it = ca_idtype(0, cp->cp_idtype);
	tname = it != NULL ? it->it_name : "of an unknown type";
	if (it == NULL || cp->cp_idlen > CA_ID_MAX || ca_id_text(cp->cp_idtype,
	    cp->cp_id, cp->cp_idlen, id, sizeof(id)) == -1)
		return (ca_why(why, whysz, "ID %s (type %u): malformed or not "
		    "supported", tname, cp->cp_idtype));
	if (cp->cp_chainlen > 0) {
		if ((chain = ca_chain_d2i(cs, cp->cp_chain,
		    cp->cp_chainlen)) == NULL)
			return (ca_why(why, whysz, "ID %s \"%s\": certificates "
			    "malformed", tname, id));
		x = sk_X509_value(chain, 0);
		ca_subject(x, subj, sizeof(subj));
		if (ca_verify_chain(cs, chain, &verified, why, whysz) == -1)
			goto done;
		/* The end entity against its CA's OCSP responder. */
		if (cs->cs_ocsp_url != NULL && ca_ocsp(cs, verified, why,
		    whysz) == -1)
			goto done;
		/* keyUsage, if any, must allow signing; no EKU is asked. */
		if ((X509_get_extension_flags(x) & EXFLAG_KUSAGE) &&
		    (X509_get_key_usage(x) &
		    (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)) == 0) {
			ca_why(why, whysz, "certificate \"%s\": keyUsage has "
			    "no digitalSignature", subj);
			goto done;
		}
		if (!ca_id_in_cert(x, cp->cp_idtype, cp->cp_id,
		    cp->cp_idlen)) {
			ca_why(why, whysz, "ID %s \"%s\" is not in certificate "
			    "\"%s\"'s %s", tname, id, subj,
			    cp->cp_idtype == IKEV2_ID_ASN1_DN ? "subject" :
			    "subjectAltName");
			goto done;
		}
		pk = X509_get0_pubkey(x);
	} else if (cp->cp_idtype == IKEV2_ID_ASN1_DN ||
	    (pk = ca_pubkey(cs, tname, id)) == NULL) {
		ca_why(why, whysz, "ID %s \"%s\": no certificate, and no "
		    "public key %s/%s", tname, id, tname, id);
		goto done;
	}
	if (cp->cp_dstid != NULL && cp->cp_dstid->id_type != ID_NONE &&
	    !ca_id_is(cp->cp_dstid, cp->cp_idtype, cp->cp_id, cp->cp_idlen)) {
		it = ca_idtype(1, cp->cp_dstid->id_type);
		ca_why(why, whysz, "ID %s \"%s\" is not the rule's dstid %s "
		    "\"%s\"", tname, id, it != NULL ? it->it_name : "?",
		    cp->cp_dstid->id_str);
		goto done;
	}
	if (pk == NULL) {
		ca_why(why, whysz, "certificate \"%s\": unusable public key",
		    subj);
		goto done;
	}
	/* As security level 2 asks of certificates: raw keys too. */
	if (EVP_PKEY_get_security_bits(pk) < 112) {
		ca_why(why, whysz, "ID %s \"%s\": a %d-bit key is too weak",
		    tname, id, EVP_PKEY_get_bits(pk));
		goto done;
	}
	ret = ca_verify_sig(pk, cp, why, whysz);
 done:
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(verified, X509_free);
	ERR_clear_error();
	return (ret);
}

/* An issuer of x among ca/ and certs/ (by name and key ID). */
static X509 *
ca_issuer(struct ca_store *cs, X509 *x)
{
	struct ca_named	*cn;
	int		 i;

	for (i = 0; i < sk_X509_num(cs->cs_cas); i++)
		if (X509_check_issued(sk_X509_value(cs->cs_cas, i), x) ==
		    X509_V_OK)
			return (sk_X509_value(cs->cs_cas, i));
	TAILQ_FOREACH(cn, &cs->cs_certs, cn_entry)
		if (cn->cn_x509 != x &&
		    X509_check_issued(cn->cn_x509, x) == X509_V_OK)
			return (cn->cn_x509);
	return (NULL);
}

int
ca_local(struct ca_store *cs, const struct iked_id *srcid, uint8_t *chain,
    size_t chainsz, size_t *chainlen, uint8_t *idtype, uint8_t *id,
    size_t idsz, size_t *idlen, char *why, size_t whysz)
{
	struct ca_named	*cn, *found = NULL;
	X509		*x = NULL, *cur;
	uint8_t		*p;
	char		 want[IKED_ID_MAX + 8], subj[CA_WHY_MAX];
	size_t		 wlen = 0;
	uint8_t		 wtype = 0;
	int		 i, n, hassrc;

	ERR_clear_error();
	*chainlen = *idlen = 0;
	hassrc = srcid != NULL && srcid->id_type != ID_NONE;
	if (hassrc && ca_id_wire(srcid, &wtype, id, idsz, &wlen) == -1)
		return (ca_why(why, whysz, "srcid \"%s\" cannot be sent as "
		    "an ID", srcid->id_str));
	if (cs->cs_key == NULL)
		return (ca_why(why, whysz, "no private key "
		    "(private/local.key)"));

	/* certs/<srcid>.crt, else the certificate of our key. */
	if (hassrc) {
		snprintf(want, sizeof(want), "%s.crt", srcid->id_str);
		TAILQ_FOREACH(cn, &cs->cs_certs, cn_entry)
			if (ca_name_is(cn->cn_name, want)) {
				found = cn;
				break;
			}
		if (found != NULL && EVP_PKEY_eq(X509_get0_pubkey(
		    found->cn_x509), cs->cs_key) != 1)
			return (ca_why(why, whysz, "certificate \"%s\" (%s) "
			    "does not match private/local.key", ca_subject(
			    found->cn_x509, subj, sizeof(subj)),
			    found->cn_name));
	}
	if (found == NULL)
		TAILQ_FOREACH(cn, &cs->cs_certs, cn_entry) {
			if (EVP_PKEY_eq(X509_get0_pubkey(cn->cn_x509),
			    cs->cs_key) != 1)
				continue;
			if (found == NULL)
				found = cn;
			/* Of our key's certificates, one naming srcid. */
			if (hassrc && ca_id_in_cert(cn->cn_x509, wtype, id,
			    wlen)) {
				found = cn;
				break;
			}
		}

	if (found != NULL) {
		x = found->cn_x509;
		if (hassrc && !ca_id_in_cert(x, wtype, id, wlen))
			log_warnx("%s: srcid \"%s\" is not in certificate "
			    "\"%s\": peers will refuse it", __func__,
			    srcid->id_str, ca_subject(x, subj, sizeof(subj)));
		/* Intermediates up to, not including, a self-signed CA. */
		for (cur = x, i = 0; i < CA_CHAIN_DEPTH; i++) {
			if (ca_chain_i2d(cur, chain, chainsz, chainlen) == -1)
				return (ca_why(why, whysz, "certificate chain "
				    "of \"%s\" does not fit in %zu bytes",
				    ca_subject(x, subj, sizeof(subj)),
				    chainsz));
			if (X509_self_signed(cur, 0) == 1 ||
			    (cur = ca_issuer(cs, cur)) == NULL ||
			    X509_self_signed(cur, 0) == 1)
				break;
		}
	}

	if (hassrc) {
		*idtype = wtype;
		*idlen = wlen;
	} else if (x != NULL) {
		p = id;
		if ((n = i2d_X509_NAME(X509_get_subject_name(x), NULL)) <= 0 ||
		    (size_t)n > idsz ||
		    i2d_X509_NAME(X509_get_subject_name(x), &p) != n) {
			*chainlen = 0;
			return (ca_why(why, whysz, "subject of \"%s\" does "
			    "not fit in %zu bytes", ca_subject(x, subj,
			    sizeof(subj)), idsz));
		}
		*idtype = IKEV2_ID_ASN1_DN;
		*idlen = (size_t)n;
	} else
		return (ca_why(why, whysz, "no certificate of "
		    "private/local.key and no srcid: no ID to send"));
	ERR_clear_error();
	return (0);
}

int
ca_certreq(struct ca_store *cs, uint8_t *out, size_t outsz, size_t *outlen)
{
	uint8_t		*der;
	int		 i, n, ok;

	*outlen = 0;
	for (i = 0; i < sk_X509_num(cs->cs_cas); i++) {
		if (*outlen + SHA_DIGEST_LENGTH > outsz)
			goto fail;
		der = NULL;
		if ((n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(
		    sk_X509_value(cs->cs_cas, i)), &der)) <= 0)
			goto fail;
		ok = EVP_Digest(der, (size_t)n, out + *outlen, NULL,
		    EVP_sha1(), NULL);
		OPENSSL_free(der);
		if (!ok)
			goto fail;
		*outlen += SHA_DIGEST_LENGTH;
	}
	ERR_clear_error();
	return (0);
 fail:
	*outlen = 0;
	ERR_clear_error();
	return (-1);
}
