/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Keys, certificates and CRLs made with OpenSSL for the tests of iked's
 * public key authentication (ca_test, exchange_test), and handed to
 * ca_add() as the parent hands the files.  Every failure is an ATF
 * failure.
 */

#ifndef CERTGEN_H
#define CERTGEN_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "iked.h"

struct certopt {
	const char	*cn;
	const char	*san;		/* "DNS:a,IP:192.0.2.1", or NULL */
	const char	*ku;		/* keyUsage, or NULL: none */
	long		 from, to;	/* seconds from now */
	int		 ca;
	long		 serial;
};

enum obj { O_CERT, O_CRL, O_KEY, O_PUBKEY };

/* "rsa", "rsa-pss", "P-256", "P-384", "P-521", "ED25519", "ED448" */
EVP_PKEY	*genkey(const char *);
/* Signed by (issuer, ikey), or self-signed with issuer NULL. */
X509		*mkcert(EVP_PKEY *, X509 *, EVP_PKEY *, const struct certopt *);
X509		*mkca(EVP_PKEY *, const char *);
X509		*mkinter(EVP_PKEY *, const char *, X509 *, EVP_PKEY *);
/* An end-entity certificate for cn with a dNSName SAN of cn. */
X509		*mkee(EVP_PKEY *, const char *, X509 *, EVP_PKEY *, long);
/* A CRL of ca revoking revoked (NULL: none). */
X509_CRL	*mkcrl(X509 *, EVP_PKEY *, X509 *);
/* obj to ca_add() as kind, named name, in PEM or (der) DER. */
void		 add(struct ca_store *, enum ca_filekind, const char *,
		    enum obj, void *, int);

#endif /* CERTGEN_H */
