/*
 * libFuzzer target: what iked's ca process reads from the IKE engine,
 * which parses the network and may be subverted (sbin/iked/auth.c,
 * auth_dispatch()), and through it what ca.c makes of a peer's
 * certificates and AUTH data.  The store holds a CA, a certificate and
 * its key, made at the first call.  The first byte chooses: a request
 * as the engine sends it; a peer's certificate list (the rest, in the
 * format of ca.h) with an AUTH of method 14; or our own certificate
 * with the rest as the AUTH data of the method the second byte names.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "iked.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct ca_store	*store;
static uint8_t		 cert[4096];
static size_t		 certlen;

/* A self-signed P-256 certificate for "fuzz.test", trusted, ours. */
static void
setup(void)
{
	EVP_PKEY	*pk;
	X509		*x;
	X509_NAME	*n;
	X509_EXTENSION	*ext;
	BIO		*b;
	BUF_MEM		*m;
	uint8_t		*p;
	int		 len;

	log_init(1, LOG_DAEMON);
	log_setverbose(0);
	if ((pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
	    (x = X509_new()) == NULL || (store = ca_new()) == NULL)
		abort();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"fuzz.test", -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, pk);
	/* An FQDN ID must be a subjectAltName. */
	if ((ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name,
	    "DNS:fuzz.test")) == NULL || X509_add_ext(x, ext, -1) != 1)
		abort();
	X509_EXTENSION_free(ext);
	if (X509_sign(x, pk, EVP_sha256()) == 0)
		abort();
	len = i2d_X509(x, NULL);
	if (len <= 0 || (size_t)len > sizeof(cert))
		abort();
	p = cert;
	certlen = (size_t)i2d_X509(x, &p);
	if (ca_add(store, CA_F_CA, "ca.crt", cert, certlen) == -1 ||
	    ca_add(store, CA_F_CERT, "fuzz.test.crt", cert, certlen) == -1)
		abort();
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL) != 1)
		abort();
	BIO_get_mem_ptr(b, &m);
	if (ca_add(store, CA_F_KEY, "local.key", (uint8_t *)m->data,
	    m->length) == -1 || ca_ready(store) == -1)
		abort();
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(pk);
}

static void
verify(const uint8_t *chain, size_t chainlen, uint8_t method,
    const uint8_t *auth, size_t authlen)
{
	static const struct iked_id	 dstid = { ID_FQDN, "fuzz.test" };
	struct ca_peer			 cp;
	char				 why[CA_WHY_MAX];
	static const uint8_t		 data[] = "signed octets";

	memset(&cp, 0, sizeof(cp));
	cp.cp_version = 2;
	cp.cp_chain = chain;
	cp.cp_chainlen = chainlen;
	cp.cp_idtype = 2;	/* FQDN */
	cp.cp_id = (const uint8_t *)"fuzz.test";
	cp.cp_idlen = 9;
	cp.cp_dstid = &dstid;
	cp.cp_mode = CA_AUTH_RFC7427;
	cp.cp_hashes = CA_HASHES_OURS;
	cp.cp_method = method;
	cp.cp_auth = auth;
	cp.cp_authlen = authlen;
	cp.cp_data = data;
	cp.cp_datalen = sizeof(data);
	(void)ca_verify(store, &cp, why, sizeof(why));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t	*rep;
	static uint8_t	 chain[2 + sizeof(cert)];
	uint8_t		*buf;

	if (store == NULL) {
		setup();
		if ((rep = malloc(AUTH_MSG_MAX)) == NULL)
			abort();
		chain[0] = (uint8_t)(certlen >> 8);
		chain[1] = (uint8_t)certlen;
		memcpy(chain + 2, cert, certlen);
	}
	if (size < 2)
		return (0);
	/* Exactly the bytes given, so that ASan sees any overread. */
	if ((buf = malloc(size - 1)) == NULL)
		return (0);
	memcpy(buf, data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		(void)auth_dispatch(store, buf, size - 1, rep, AUTH_MSG_MAX);
		break;
	case 1:
		verify(buf, size - 1, 14, (const uint8_t *)"\x00", 1);
		break;
	default:
		verify(chain, certlen + 2, buf[0], buf + 1, size - 2);
		break;
	}
	free(buf);
	return (0);
}
