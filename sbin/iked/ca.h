/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * ca.c: private keys, certificates and signatures.  Everything here
 * runs in the process that holds the private key (iked's authentication
 * process, "ca"; the one process of iked -X) and nowhere else: the IKE
 * engine only ever sees what ca_sign() returns and ca_verify()'s verdict.
 *
 * The files come from the parent, which reads OpenBSD's layout under
 * the iked directory (ca/, certs/, crls/, private/local.key, pubkeys/)
 * and passes each one, whole, to ca_add().  Nothing here opens a file.
 *
 * A certificate list ("chain") is, on the wire between the processes
 * and in these calls, a sequence of [2 bytes length, network order][DER
 * certificate], the end-entity certificate first.
 */

#ifndef IKED_CA_H
#define IKED_CA_H

#include <stddef.h>
#include <stdint.h>

struct iked_id;

enum ca_filekind {
	CA_F_CA = 1,		/* ca/: a trusted certificate (PEM or DER) */
	CA_F_CERT,		/* certs/<id>.crt: ours (or a known peer's) */
	CA_F_CRL,		/* crls/: a CRL (PEM or DER) */
	CA_F_KEY,		/* private/local.key (PEM or DER) */
	CA_F_PUBKEY		/* pubkeys/<type>/<id>: a peer's raw key */
};

/* iked.conf's authentication keywords that take a key pair. */
enum ca_authmode {
	CA_AUTH_NONE = 0,	/* psk: nothing for us */
	CA_AUTH_RSA,		/* rsa: IKEv2 method 1, IKEv1 RSA_SIG */
	CA_AUTH_ECDSA256,	/* ecdsa256: method 9 */
	CA_AUTH_ECDSA384,	/* ecdsa384: method 10 */
	CA_AUTH_ECDSA521,	/* ecdsa521: method 11 */
	CA_AUTH_RFC7427		/* rfc7427: method 14 (and the default) */
};

/*
 * Hash algorithms of RFC 7427's SIGNATURE_HASH_ALGORITHMS, as a bit
 * each: bit n is hash algorithm number n (RFC 7427 section 7, RFC 8420).
 */
#define CA_HASH_SHA1		(1U << 1)
#define CA_HASH_SHA256		(1U << 2)
#define CA_HASH_SHA384		(1U << 3)
#define CA_HASH_SHA512		(1U << 4)
#define CA_HASH_IDENTITY	(1U << 5)
#define CA_HASHES_OURS		(CA_HASH_SHA256 | CA_HASH_SHA384 | \
				    CA_HASH_SHA512 | CA_HASH_IDENTITY)

#define CA_CHAIN_MAX		(12 * 1024)	/* our chain, the peer's */
#define CA_SIG_MAX		1200		/* RFC 7427 AUTH data: RSA-8192 */
#define CA_ID_MAX		1024		/* an ID payload's data */
#define CA_WHY_MAX		256

struct ca_store;

struct ca_store	*ca_new(void);
void		 ca_free(struct ca_store *);
/*
 * One file, whole, name as the parent found it (for the log).  0, or
 * -1 with a line in the log: the file is left out, the rest stays.
 */
int		 ca_add(struct ca_store *, enum ca_filekind, const char *,
		    const uint8_t *, size_t);
/* After the last ca_add(): builds the trust store.  0 or -1. */
int		 ca_ready(struct ca_store *);
/* Whether there is a private key (some rule may then sign). */
int		 ca_haskey(const struct ca_store *);

/*
 * Our side.  srcid: the rule's srcid, or ID_NONE.  The certificate is
 * the one in certs/ named by srcid, else the one whose public key is
 * private/local.key's; its chain (intermediates found in ca/, never a
 * self-signed root) into chain.  With no certificate but a key, an
 * empty chain (raw public key).  The ID to send: srcid in IKEv2's wire
 * form (ASN1_DN as DER), or, without srcid, the certificate's subject
 * (ASN1_DN, type 9).  0, or -1 with the reason in why.
 */
int		 ca_local(struct ca_store *, const struct iked_id *srcid,
		    uint8_t *chain, size_t chainsz, size_t *chainlen,
		    uint8_t *idtype, uint8_t *id, size_t idsz, size_t *idlen,
		    char *why, size_t whysz);

/*
 * SHA-1 hashes of the trusted CAs' SubjectPublicKeyInfo, 20 bytes each
 * (IKEv2 CERTREQ, encoding 4).  0 or -1.
 */
int		 ca_certreq(struct ca_store *, uint8_t *, size_t, size_t *);

/*
 * IKEv2 AUTH (RFC 7296 2.15, RFC 7427, RFC 4754): signs data with
 * private/local.key.  mode: the rule's keyword; peerhashes: what the
 * peer's SIGNATURE_HASH_ALGORITHMS said (CA_HASH_* bits, 0: none sent).
 * With CA_AUTH_RFC7427 and no hash in common, the key's own method
 * (1 or 9/10/11) if it has one.  *method and the AUTH data (after the
 * method and reserved bytes) are the result.  0, or -1 with why.
 */
int		 ca_sign(struct ca_store *, enum ca_authmode, unsigned int,
		    const uint8_t *, size_t, uint8_t *method, uint8_t *,
		    size_t, size_t *, char *why, size_t whysz);

/* IKEv1 RSA signature (RFC 2409 5.1): PKCS#1 v1.5 type 1 over HASH_x. */
int		 ca_sign_v1(struct ca_store *, const uint8_t *, size_t,
		    uint8_t *, size_t, size_t *, char *why, size_t whysz);

struct ca_peer {
	int		 cp_version;	/* 1 or 2 */
	const uint8_t	*cp_chain;	/* its CERT payloads, maybe none */
	size_t		 cp_chainlen;
	uint8_t		 cp_idtype;	/* IKEv2 ID type (IKEv1: the same) */
	const uint8_t	*cp_id;		/* its ID payload's data */
	size_t		 cp_idlen;
	const struct iked_id *cp_dstid;	/* the rule's, or NULL */
	enum ca_authmode cp_mode;	/* the rule's keyword */
	unsigned int	 cp_hashes;	/* what we sent (CA_HASH_*) */
	uint8_t		 cp_method;	/* IKEv2 AUTH method (v2 only) */
	const uint8_t	*cp_auth;	/* AUTH data / IKEv1 SIG */
	size_t		 cp_authlen;
	const uint8_t	*cp_data;	/* the signed octets / HASH_x */
	size_t		 cp_datalen;
};

/*
 * The peer's signature: its certificate chains to a trusted CA, is
 * valid now, is not revoked by a CRL we have, may sign (keyUsage), and
 * names the ID it sent (subject or subjectAltName), which matches the
 * rule's dstid; or, with no certificate, its raw key is in pubkeys/
 * under that ID.  Then the signature, with the method the rule allows.
 * 0, or -1 with one line in why saying which check refused what.
 */
int		 ca_verify(struct ca_store *, const struct ca_peer *,
		    char *why, size_t whysz);

/*
 * OCSP (set ocsp): url the responder of certificates that name none
 * (NULL: no OCSP), tolerate and maxage OCSP_check_validity()'s (seconds,
 * maxage -1: any).  fn opens a TCP connection to host and port, with
 * timeouts, for the check: the ca process has no network of its own and
 * asks the parent.  A certificate is then accepted only if its responder
 * says GOOD.
 */
typedef int	(*ca_connect_fn)(const char *, const char *, void *);
void		 ca_set_ocsp(struct ca_store *, const char *, long, long,
		    ca_connect_fn, void *);

/*
 * iked.conf's srcid/dstid strings that are distinguished names ("/C=DE
 * /O=x/CN=y" as OpenBSD writes them, or "CN=y, O=x" as RFC 4514): the
 * DER of the name.  0, or -1 if it is not a name.
 */
int		 ca_dn_der(const char *, uint8_t *, size_t, size_t *);

#endif /* IKED_CA_H */
