/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The ESP transform (RFC 4303): encapsulation and decapsulation of one
 * packet with an SA's crypto session, sequence numbers (ESN included),
 * padding and the anti-replay window.  Synchronous: crypto(9) here is a
 * call, not a queued request with a callback as in FreeBSD.
 */

#include <ukern/ukern.h>
#ifdef UKERN_NO_OPENCRYPTO13
#error "xform_esp.c needs the opencrypto(9) of FreeBSD 13 or later"
#endif

#include <net/pfkeyv2.h>
#include <netipsec/keydb.h>
#include <netipsec/esp.h>
#include <netipsec/ipsec_replay.h>

static PCPUSTAT_DEFINE(struct espstat, espstat);
PCPUSTAT_SYSINIT(espstat);
#define	ESPSTAT_INC(name)	PCPUSTAT_ADD(struct espstat, espstat, name, 1)
#define	ESPSTAT_ADD(name, n)	PCPUSTAT_ADD(struct espstat, espstat, name, (n))

/* What a packet needs to know of an SA's transform. */
struct esp_xf {
	int		ex_calg;	/* CRYPTO_* (opencrypto) */
	int		ex_aalg;	/* CRYPTO_*_HMAC, 0: none */
	u_int		ex_ivlen;	/* in the packet */
	u_int		ex_saltlen;	/* key's trailing nonce bytes */
	u_int		ex_blksize;	/* padding boundary, at least 4 */
	u_int		ex_icvlen;
	u_int		ex_keylen;	/* encryption key bytes, salt included */
	int		ex_aead;
};

/* The SA's transform, or EINVAL if we do not implement it. */
static int
esp_xf(const struct secasvar *sav, struct esp_xf *xf)
{
	u_int ebytes;

	memset(xf, 0, sizeof(*xf));
	ebytes = sav->key_enc != NULL ? sav->key_enc->bits / 8 : 0;
	xf->ex_keylen = ebytes;
	xf->ex_blksize = 4;
	switch (sav->alg_enc) {
	case SADB_EALG_NULL:
		xf->ex_calg = CRYPTO_NULL_CBC;
		break;
	case SADB_X_EALG_AESCBC:
		xf->ex_calg = CRYPTO_AES_CBC;
		xf->ex_ivlen = 16;
		xf->ex_blksize = 16;
		break;
	case SADB_X_EALG_AESCTR:
		xf->ex_calg = CRYPTO_AES_ICM;
		xf->ex_ivlen = 8;
		xf->ex_saltlen = 4;		/* RFC 3686 nonce */
		break;
	case SADB_X_EALG_AESGCM16:
		xf->ex_calg = CRYPTO_AES_NIST_GCM_16;
		xf->ex_ivlen = 8;
		xf->ex_saltlen = 4;		/* RFC 4106 salt */
		xf->ex_icvlen = ESP_AEAD_ICVLEN;
		xf->ex_aead = 1;
		break;
	case SADB_X_EALG_CHACHA20POLY1305:
		xf->ex_calg = CRYPTO_CHACHA20_POLY1305;
		xf->ex_ivlen = 8;
		xf->ex_saltlen = 4;		/* RFC 7634 salt */
		xf->ex_icvlen = ESP_AEAD_ICVLEN;
		xf->ex_aead = 1;
		break;
	default:
		return (EINVAL);
	}
	if (xf->ex_aead) {
		/* The key engine names the implied authenticator. */
		switch (sav->alg_auth) {
		case SADB_AALG_NONE:
			break;
		case SADB_X_AALG_AES128GMAC:
		case SADB_X_AALG_AES192GMAC:
		case SADB_X_AALG_AES256GMAC:
			if (xf->ex_calg != CRYPTO_AES_NIST_GCM_16)
				return (EINVAL);
			break;
		case SADB_X_AALG_CHACHA20POLY1305:
			if (xf->ex_calg != CRYPTO_CHACHA20_POLY1305)
				return (EINVAL);
			break;
		default:
			return (EINVAL);
		}
		xf->ex_aalg = 0;
		return (0);
	}
	switch (sav->alg_auth) {
	case SADB_AALG_NONE:
	case SADB_X_AALG_NULL:
		xf->ex_aalg = 0;
		break;
	case SADB_AALG_SHA1HMAC:
		xf->ex_aalg = CRYPTO_SHA1_HMAC;
		xf->ex_icvlen = 12;		/* RFC 2404 */
		break;
	case SADB_X_AALG_SHA2_256:
		xf->ex_aalg = CRYPTO_SHA2_256_HMAC;
		xf->ex_icvlen = 16;		/* RFC 4868 */
		break;
	case SADB_X_AALG_SHA2_384:
		xf->ex_aalg = CRYPTO_SHA2_384_HMAC;
		xf->ex_icvlen = 24;
		break;
	case SADB_X_AALG_SHA2_512:
		xf->ex_aalg = CRYPTO_SHA2_512_HMAC;
		xf->ex_icvlen = 32;
		break;
	default:
		return (EINVAL);
	}
	/*
	 * RFC 4303 §3.2 wants confidentiality or integrity, but FreeBSD
	 * accepts NULL encryption without an authenticator, and its tunnel
	 * tests (empty.sh) use it: so do we, for tests only.
	 */
	return (0);
}

/*
 * Called by the key engine when an SA gets its keys (ADD, UPDATE of a
 * larval SA): make the crypto session and the replay window, so that an
 * SA we cannot process is refused then and never at packet time.
 */
int
esp_init(struct secasvar *sav)
{
	struct crypto_session_params csp;
	struct esp_xf xf;
	int error;

	if (sav->tdb_cryptoid != NULL)
		return (0);
	if (esp_xf(sav, &xf) != 0 || sav->replay == NULL ||
	    (sav->flags & SADB_X_EXT_OLD))
		return (EINVAL);
	if (xf.ex_aalg != 0 && sav->key_auth == NULL)
		return (EINVAL);
	if (xf.ex_keylen < xf.ex_saltlen ||
	    (xf.ex_keylen > 0 && sav->key_enc == NULL))
		return (EINVAL);

	/* As FreeBSD's esp_init(): the salt stays out of the session. */
	memset(&csp, 0, sizeof(csp));
	csp.csp_cipher_alg = xf.ex_calg;
	if (xf.ex_calg != CRYPTO_NULL_CBC) {
		csp.csp_cipher_key = sav->key_enc->key_data;
		csp.csp_cipher_klen = (int)(xf.ex_keylen - xf.ex_saltlen);
	}
	switch (xf.ex_calg) {
	case CRYPTO_AES_CBC:
	case CRYPTO_AES_ICM:
		csp.csp_ivlen = AES_BLOCK_LEN;
		break;
	case CRYPTO_AES_NIST_GCM_16:
	case CRYPTO_CHACHA20_POLY1305:
		csp.csp_ivlen = AES_GCM_IV_LEN;
		break;
	}
	if (xf.ex_aead) {
		csp.csp_mode = CSP_MODE_AEAD;
		csp.csp_flags = CSP_F_SEPARATE_AAD;	/* ESN: built apart */
		csp.csp_auth_mlen = (int)xf.ex_icvlen;
	} else if (xf.ex_aalg != 0) {
		csp.csp_mode = CSP_MODE_ETA;
		csp.csp_auth_alg = xf.ex_aalg;
		csp.csp_auth_key = sav->key_auth->key_data;
		csp.csp_auth_klen = sav->key_auth->bits / 8;
		csp.csp_auth_mlen = (int)xf.ex_icvlen;
		if (sav->flags & SADB_X_SAFLAGS_ESN)
			csp.csp_flags = CSP_F_ESN;
	} else
		csp.csp_mode = CSP_MODE_CIPHER;

	error = ipsec_replay_init(sav);
	if (error != 0)
		return (error);
	/* The software driver: esp_output()/esp_input() wait for it. */
	error = crypto_newsession(&sav->tdb_cryptoid, &csp,
	    CRYPTOCAP_F_SOFTWARE);
	if (error != 0) {
		ipsec_replay_fini(sav);
		return (error == ENOMEM ? ENOBUFS : EINVAL);
	}
	return (0);
}

/* Free the crypto session (its keys are erased) and the replay window. */
void
esp_zeroize(struct secasvar *sav)
{

	if (sav->tdb_cryptoid != NULL)
		crypto_freesession(sav->tdb_cryptoid);
	sav->tdb_cryptoid = NULL;
	ipsec_replay_fini(sav);
}

size_t
esp_hdrsiz(const struct secasvar *sav)
{
	struct esp_xf xf;

	if (esp_xf(sav, &xf) != 0)
		return (ESP_HDRLEN + ESP_MAXIVLEN + ESP_MAXPAD + 2 +
		    ESP_MAXICVLEN);
	return (ESP_HDRLEN + xf.ex_ivlen + xf.ex_blksize - 1 + 2 +
	    xf.ex_icvlen);
}

void
esp_getstat(struct espstat *st)
{

	PCPUSTAT_FETCH(struct espstat, espstat, st);
}

void
esp_zerostat(void)
{

	PCPUSTAT_ZERO(struct espstat, espstat);
}

static void
esp_be64enc(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* Fill a trailer: padding per the SA's flags, pad length, next header. */
static void
esp_padding(const struct secasvar *sav, uint8_t *tr, u_int padlen, int nxt)
{
	u_int i;

	switch (sav->flags & SADB_X_EXT_PMASK) {
	case SADB_X_EXT_PRAND:
		arc4random_buf(tr, padlen);
		break;
	case SADB_X_EXT_PZERO:
		memset(tr, 0, padlen);
		break;
	default:
		/* RFC 4303 §2.4: 1, 2, 3, ... */
		for (i = 0; i < padlen; i++)
			tr[i] = (uint8_t)(i + 1);
		break;
	}
	tr[padlen] = (uint8_t)padlen;
	tr[padlen + 1] = (uint8_t)nxt;
}

/*
 * The request's nonce (CRYPTO_F_IV_SEPARATE), as FreeBSD's ESP makes it:
 * CBC's IV; CTR's counter block, nonce || IV || 1 (RFC 3686); the AEAD
 * nonce, salt || IV (RFC 4106, RFC 7634).  iv: the packet's IV.
 */
static void
esp_crp_iv(const struct secasvar *sav, const struct esp_xf *xf,
    struct cryptop *crp, const uint8_t *iv)
{
	const uint8_t *salt;

	crp->crp_flags |= CRYPTO_F_IV_SEPARATE;
	salt = xf->ex_saltlen != 0 ? (const uint8_t *)sav->key_enc->key_data +
	    xf->ex_keylen - xf->ex_saltlen : NULL;
	switch (xf->ex_calg) {
	case CRYPTO_AES_CBC:
		memcpy(crp->crp_iv, iv, AES_BLOCK_LEN);
		break;
	case CRYPTO_AES_ICM:
		memcpy(crp->crp_iv, salt, 4);
		memcpy(crp->crp_iv + 4, iv, 8);
		crp->crp_iv[12] = crp->crp_iv[13] = crp->crp_iv[14] = 0;
		crp->crp_iv[15] = 1;
		break;
	case CRYPTO_AES_NIST_GCM_16:
	case CRYPTO_CHACHA20_POLY1305:
		memcpy(crp->crp_iv, salt, 4);
		memcpy(crp->crp_iv + 4, iv, 8);
		break;
	}
}

/*
 * The AAD of RFC 4106 §5 and RFC 7634 §3: SPI, [high sequence bits,] the
 * low ones; apart from the packet (CSP_F_SEPARATE_AAD).  Its length.
 */
static int
esp_aead_aad(const struct secasvar *sav, const uint8_t *esph,
    const uint8_t *seqhi, uint8_t *aad)
{

	memcpy(aad, esph, 4);
	if (sav->flags & SADB_X_SAFLAGS_ESN) {
		memcpy(aad + 4, seqhi, 4);
		memcpy(aad + 8, esph + 4, 4);
		return (12);
	}
	memcpy(aad + 4, esph + 4, 4);
	return (8);
}

/*
 * The request for a packet m = ESP header || IV || payload (clen bytes)
 * || ICV, the header and IV hlen bytes and contiguous in the first mbuf
 * (the rest may be anywhere in the chain): the payload, the ICV after it,
 * the nonce, and what the ICV covers besides the payload: the header
 * and IV with the high sequence bits (RFC 4303 §2.2.1), or the AEAD's
 * AAD built in aad.  seqhi: the high 32 bits, network order.
 */
static void
esp_crp_init(struct cryptop *crp, struct secasvar *sav,
    const struct esp_xf *xf, struct mbuf *m, int op, u_int hlen, u_int clen,
    const uint8_t *seqhi, uint8_t *aad)
{
	uint8_t *p;

	p = mtod(m, uint8_t *);
	crypto_initreq(crp, sav->tdb_cryptoid);
	crp->crp_op = op;
	crypto_use_mbuf(crp, m);
	crp->crp_payload_start = (int)hlen;
	crp->crp_payload_length = (int)clen;
	crp->crp_digest_start = (int)(hlen + clen);
	esp_crp_iv(sav, xf, crp, p + ESP_HDRLEN);
	if (xf->ex_aead) {
		crp->crp_aad = aad;
		crp->crp_aad_length = esp_aead_aad(sav, p, seqhi, aad);
	} else {
		crp->crp_aad_start = 0;
		crp->crp_aad_length = (int)hlen;
		memcpy(crp->crp_esn, seqhi, sizeof(crp->crp_esn));
	}
}

/*
 * The session is the software driver's (CRYPTOCAP_F_SOFTWARE) and the
 * request is not CRYPTO_F_ASYNC: the callback has run when
 * crypto_dispatch() returns, and the caller reads crp_etype.
 */
static int
esp_crypto_done(struct cryptop *crp)
{

	(void)crp;
	return (0);
}

static int
esp_crypto_run(struct cryptop *crp)
{
	int error;

	crp->crp_callback = esp_crypto_done;
	crp->crp_flags |= CRYPTO_F_CBIMM;
	error = crypto_dispatch(crp);
	if (error == 0) {
		KASSERT(crp->crp_flags & CRYPTO_F_DONE,
		    ("esp: an asynchronous crypto request"));
		error = crp->crp_etype;
	}
	crypto_destroyreq(crp);
	return (error);
}

int
esp_output(struct secasvar *sav, struct mbuf **mp, int nxt)
{
	static const uint8_t zero[ESP_MAXICVLEN];
	uint8_t trailer[ESP_MAXPAD + 2], aad[12], seqhi[4], *p, *iv;
	struct cryptop crp;
	crypto_session_t cs;
	struct newesp *esp;
	struct esp_xf xf;
	struct mbuf *m;
	uint64_t seq;
	u_int hlen, padlen, plen, clen;
	int error;

	m = *mp;
	cs = sav->tdb_cryptoid;
	if (cs == NULL || esp_xf(sav, &xf) != 0 ||
	    xf.ex_icvlen > sizeof(zero)) {
		ESPSTAT_INC(esps_noxform);
		error = EINVAL;
		goto bad;
	}
	plen = m->m_pkthdr.len;
	hlen = ESP_HDRLEN + xf.ex_ivlen;
	padlen = (xf.ex_blksize - (plen + 2) % xf.ex_blksize) %
	    xf.ex_blksize;
	clen = plen + padlen + 2;
	if ((size_t)hlen + clen + xf.ex_icvlen > 65535) {
		ESPSTAT_INC(esps_toobig);
		error = EMSGSIZE;
		goto bad;
	}
	error = ipsec_nextseq(sav, &seq);
	if (error != 0) {
		ESPSTAT_INC(esps_wrap);
		goto bad;
	}

	esp_padding(sav, trailer, padlen, nxt);
	/*
	 * The trailer, and room for the ICV the digest is written to, after
	 * the last mbuf; the header and IV in front of the first, contiguous
	 * (M_PREPEND).
	 */
	if (!m_append(m, padlen + 2, trailer) ||
	    (xf.ex_icvlen > 0 && !m_append(m, xf.ex_icvlen, zero))) {
		error = ENOBUFS;
		goto bad;
	}
	M_PREPEND(m, hlen, M_NOWAIT);
	*mp = m;
	if (m == NULL)
		return (ENOBUFS);
	p = mtod(m, uint8_t *);
	esp = (struct newesp *)(void *)p;
	esp->esp_spi = sav->spi;
	esp->esp_seq = htonl((uint32_t)seq);
	iv = p + ESP_HDRLEN;
	/*
	 * Counter modes need a unique IV, and the 64-bit sequence number is
	 * one (FreeBSD's cntr); CBC needs an unpredictable one.
	 */
	if (xf.ex_calg == CRYPTO_AES_CBC)
		arc4random_buf(iv, xf.ex_ivlen);
	else if (xf.ex_ivlen == 8)
		esp_be64enc(iv, seq);
	*(uint32_t *)(void *)seqhi = htonl((uint32_t)(seq >> 32));

	esp_crp_init(&crp, sav, &xf, m, CRYPTO_OP_ENCRYPT |
	    CRYPTO_OP_COMPUTE_DIGEST, hlen, clen, seqhi, aad);
	error = esp_crypto_run(&crp);
	if (error != 0) {
		ESPSTAT_INC(esps_crypto);
		goto bad;
	}
	ESPSTAT_INC(esps_output);
	ESPSTAT_ADD(esps_obytes, plen);
	return (0);
bad:
	m_freem(m);
	*mp = NULL;
	return (error);
}

int
esp_input(struct secasvar *sav, struct mbuf **mp, int *nxtp)
{
	uint8_t aad[12], seqhi[4], tr[ESP_MAXPAD + 2], *p;
	struct cryptop crp;
	crypto_session_t cs;
	struct esp_xf xf;
	struct mbuf *m;
	uint64_t seq;
	u_int hlen, clen, padlen, i;
	int error, nxt;

	m = *mp;
	cs = sav->tdb_cryptoid;
	if (cs == NULL || esp_xf(sav, &xf) != 0) {
		ESPSTAT_INC(esps_noxform);
		error = EINVAL;
		goto bad;
	}
	hlen = ESP_HDRLEN + xf.ex_ivlen;
	if ((u_int)m->m_pkthdr.len < hlen + 4 + xf.ex_icvlen) {
		ESPSTAT_INC(esps_hdrops);
		error = EINVAL;
		goto bad;
	}
	clen = m->m_pkthdr.len - hlen - xf.ex_icvlen;
	if (clen % xf.ex_blksize != 0) {
		ESPSTAT_INC(esps_badilen);
		error = EINVAL;
		goto bad;
	}
	/* The header and IV contiguous; the rest may stay a chain. */
	if (m->m_len < (int)hlen && (m = m_pullup(m, (int)hlen)) == NULL) {
		ESPSTAT_INC(esps_hdrops);
		*mp = NULL;
		return (ENOBUFS);
	}
	*mp = m;
	p = mtod(m, uint8_t *);

	/* RFC 4303 §3.4.3: replay check first, window update after ICV. */
	error = ipsec_chkreplay(sav, ntohl(((struct newesp *)(void *)p)->
	    esp_seq), &seq);
	if (error != 0) {
		ESPSTAT_INC(esps_replay);
		error = EACCES;
		goto bad;
	}
	*(uint32_t *)(void *)seqhi = htonl((uint32_t)(seq >> 32));

	/* The ICV (or tag) first: nothing is decrypted unless it verifies. */
	esp_crp_init(&crp, sav, &xf, m, CRYPTO_OP_DECRYPT |
	    CRYPTO_OP_VERIFY_DIGEST, hlen, clen, seqhi, aad);
	error = esp_crypto_run(&crp);
	if (error == EBADMSG) {
		ESPSTAT_INC(esps_badauth);
		goto bad;
	}
	if (error != 0) {
		ESPSTAT_INC(esps_crypto);
		goto bad;
	}
	if (ipsec_updatereplay(sav, seq) != 0) {
		ESPSTAT_INC(esps_replay);
		error = EACCES;
		goto bad;
	}

	/* The trailer: pad length and next header, the padding before. */
	m_copydata(m, (int)(hlen + clen - 2), 2, tr);
	padlen = tr[0];
	nxt = tr[1];
	if (padlen + 2 > clen) {
		ESPSTAT_INC(esps_badilen);
		error = EINVAL;
		goto bad;
	}
	/* RFC 4303 §2.4: default padding may be checked; it is ours. */
	if ((sav->flags & SADB_X_EXT_PMASK) == SADB_X_EXT_PSEQ) {
		m_copydata(m, (int)(hlen + clen - 2 - padlen), (int)padlen, tr);
		for (i = 0; i < padlen; i++)
			if (tr[i] != i + 1)
				break;
		if (i != padlen) {
			ESPSTAT_INC(esps_badenc);
			error = EINVAL;
			goto bad;
		}
	}
	m_adj(m, -(int)(padlen + 2 + xf.ex_icvlen));
	m_adj(m, hlen);
	*nxtp = nxt;
	ESPSTAT_INC(esps_input);
	ESPSTAT_ADD(esps_ibytes, m->m_pkthdr.len);
	return (0);
bad:
	m_freem(m);
	*mp = NULL;
	return (error);
}
