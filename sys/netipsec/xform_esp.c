/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The ESP transform (RFC 4303): encapsulation and decapsulation of one
 * packet with an SA's crypto session, sequence numbers (ESN included),
 * padding and the anti-replay window.  Synchronous: crypto(9) here is a
 * call, not a queued request with a callback as in FreeBSD.
 */

#include <ukern/ukern.h>

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
	int		ex_calg;	/* UKERN_CRYPT_* */
	int		ex_aalg;	/* UKERN_AUTH_* */
	u_int		ex_ivlen;
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
		xf->ex_calg = UKERN_CRYPT_NULL;
		break;
	case SADB_X_EALG_AESCBC:
		xf->ex_calg = UKERN_CRYPT_AES_CBC;
		xf->ex_ivlen = 16;
		xf->ex_blksize = 16;
		break;
	case SADB_X_EALG_AESCTR:
		xf->ex_calg = UKERN_CRYPT_AES_CTR;
		xf->ex_ivlen = 8;
		break;
	case SADB_X_EALG_AESGCM16:
		xf->ex_calg = UKERN_CRYPT_AES_GCM;
		xf->ex_ivlen = 8;
		xf->ex_icvlen = UKERN_CRYPTO_AEAD_TAGLEN;
		xf->ex_aead = 1;
		break;
	case SADB_X_EALG_CHACHA20POLY1305:
		xf->ex_calg = UKERN_CRYPT_CHACHA20_POLY1305;
		xf->ex_ivlen = 8;
		xf->ex_icvlen = UKERN_CRYPTO_AEAD_TAGLEN;
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
			if (xf->ex_calg != UKERN_CRYPT_AES_GCM)
				return (EINVAL);
			break;
		case SADB_X_AALG_CHACHA20POLY1305:
			if (xf->ex_calg != UKERN_CRYPT_CHACHA20_POLY1305)
				return (EINVAL);
			break;
		default:
			return (EINVAL);
		}
		xf->ex_aalg = UKERN_AUTH_NONE;
		return (0);
	}
	switch (sav->alg_auth) {
	case SADB_AALG_NONE:
	case SADB_X_AALG_NULL:
		xf->ex_aalg = UKERN_AUTH_NONE;
		break;
	case SADB_AALG_SHA1HMAC:
		xf->ex_aalg = UKERN_AUTH_HMAC_SHA1;
		xf->ex_icvlen = 12;		/* RFC 2404 */
		break;
	case SADB_X_AALG_SHA2_256:
		xf->ex_aalg = UKERN_AUTH_HMAC_SHA2_256;
		xf->ex_icvlen = 16;		/* RFC 4868 */
		break;
	case SADB_X_AALG_SHA2_384:
		xf->ex_aalg = UKERN_AUTH_HMAC_SHA2_384;
		xf->ex_icvlen = 24;
		break;
	case SADB_X_AALG_SHA2_512:
		xf->ex_aalg = UKERN_AUTH_HMAC_SHA2_512;
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
	struct esp_xf xf;
	const void *akey;
	size_t akeylen;
	int error;

	if (sav->tdb_cryptoid != NULL)
		return (0);
	if (esp_xf(sav, &xf) != 0 || sav->replay == NULL ||
	    (sav->flags & SADB_X_EXT_OLD))
		return (EINVAL);
	if (xf.ex_aalg != UKERN_AUTH_NONE && sav->key_auth == NULL)
		return (EINVAL);
	akey = xf.ex_aalg != UKERN_AUTH_NONE ? sav->key_auth->key_data : NULL;
	akeylen = xf.ex_aalg != UKERN_AUTH_NONE ? sav->key_auth->bits / 8 : 0;
	error = ipsec_replay_init(sav);
	if (error != 0)
		return (error);
	error = ukern_crypto_newsession(&sav->tdb_cryptoid, xf.ex_calg,
	    xf.ex_keylen ? sav->key_enc->key_data : NULL, xf.ex_keylen,
	    xf.ex_aalg, akey, akeylen);
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

	ukern_crypto_freesession(sav->tdb_cryptoid);
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

/*
 * The next output sequence number (64 bits; without ESN only the low
 * half goes on the wire).  Refused when it would wrap, unless the SA
 * allows cycling (SADB_X_EXT_CYCSEQ; counted in the SA's overflow).
 */
static int
esp_nextseq(struct secasvar *sav, uint64_t *seqp)
{
	struct secreplay *rp;
	int wrap;

	rp = sav->replay;
	mtx_lock(&rp->lock);
	if (sav->flags & SADB_X_SAFLAGS_ESN)
		wrap = rp->count == UINT64_MAX;
	else
		wrap = (uint32_t)rp->count == UINT32_MAX;
	if (wrap) {
		if ((sav->flags & SADB_X_EXT_CYCSEQ) == 0) {
			mtx_unlock(&rp->lock);
			ESPSTAT_INC(esps_wrap);
			return (EINVAL);
		}
		rp->overflow++;
	}
	*seqp = ++rp->count;
	mtx_unlock(&rp->lock);
	return (0);
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

int
esp_output(struct secasvar *sav, struct mbuf **mp, int nxt)
{
	uint8_t trailer[ESP_MAXPAD + 2], icv[UKERN_CRYPTO_HMAC_MAX];
	uint8_t aad[12], seqhi[4], *p, *iv;
	struct ukern_crypto_session *cs;
	struct newesp *esp;
	struct esp_xf xf;
	struct mbuf *m;
	uint64_t seq;
	u_int hlen, padlen, plen, clen;
	int error;

	m = *mp;
	cs = sav->tdb_cryptoid;
	if (cs == NULL || esp_xf(sav, &xf) != 0) {
		ESPSTAT_INC(esps_noxform);
		error = EINVAL;
		goto bad;
	}
	plen = m->m_len;
	hlen = ESP_HDRLEN + xf.ex_ivlen;
	padlen = (xf.ex_blksize - (plen + 2) % xf.ex_blksize) %
	    xf.ex_blksize;
	clen = plen + padlen + 2;
	if ((size_t)hlen + clen + xf.ex_icvlen > 65535) {
		ESPSTAT_INC(esps_toobig);
		error = EMSGSIZE;
		goto bad;
	}
	error = esp_nextseq(sav, &seq);
	if (error != 0)
		goto bad;

	esp_padding(sav, trailer, padlen, nxt);
	if (!m_append(m, padlen + 2, trailer)) {
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
	if (xf.ex_calg == UKERN_CRYPT_AES_CBC)
		arc4random_buf(iv, xf.ex_ivlen);
	else if (xf.ex_ivlen == 8)
		esp_be64enc(iv, seq);
	*(uint32_t *)(void *)seqhi = htonl((uint32_t)(seq >> 32));

	if (xf.ex_aead) {
		/* RFC 4106 §5, RFC 7634 §3: SPI, [seq high,] seq low. */
		memcpy(aad, p, 4);
		if (sav->flags & SADB_X_SAFLAGS_ESN) {
			memcpy(aad + 4, seqhi, 4);
			memcpy(aad + 8, p + 4, 4);
		} else
			memcpy(aad + 4, p + 4, 4);
		error = ukern_crypto_aead_seal(cs, iv, aad,
		    (sav->flags & SADB_X_SAFLAGS_ESN) ? 12 : 8, p + hlen, clen,
		    icv);
	} else {
		error = ukern_crypto_encrypt(cs, iv, p + hlen, clen);
		/* RFC 4303 §2.2.1: the ICV covers the high bits, unsent. */
		if (error == 0 && xf.ex_aalg != UKERN_AUTH_NONE)
			error = ukern_crypto_hmac(cs, p, hlen + clen,
			    (sav->flags & SADB_X_SAFLAGS_ESN) ? seqhi : NULL,
			    4, icv);
	}
	if (error != 0) {
		ESPSTAT_INC(esps_crypto);
		goto bad;
	}
	if (xf.ex_icvlen > 0 && !m_append(m, xf.ex_icvlen, icv)) {
		error = ENOBUFS;
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
	uint8_t aad[12], seqhi[4], mac[UKERN_CRYPTO_HMAC_MAX], *p, *tr;
	struct ukern_crypto_session *cs;
	struct esp_xf xf;
	struct mbuf *m;
	uint64_t seq;
	u_int hlen, clen, padlen, i;
	int error, esn;

	m = *mp;
	cs = sav->tdb_cryptoid;
	if (cs == NULL || esp_xf(sav, &xf) != 0) {
		ESPSTAT_INC(esps_noxform);
		error = EINVAL;
		goto bad;
	}
	esn = (sav->flags & SADB_X_SAFLAGS_ESN) != 0;
	hlen = ESP_HDRLEN + xf.ex_ivlen;
	if ((u_int)m->m_len < hlen + 4 + xf.ex_icvlen) {
		ESPSTAT_INC(esps_hdrops);
		error = EINVAL;
		goto bad;
	}
	clen = m->m_len - hlen - xf.ex_icvlen;
	if (clen % xf.ex_blksize != 0) {
		ESPSTAT_INC(esps_badilen);
		error = EINVAL;
		goto bad;
	}
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

	if (xf.ex_aead) {
		memcpy(aad, p, 4);
		if (esn) {
			memcpy(aad + 4, seqhi, 4);
			memcpy(aad + 8, p + 4, 4);
		} else
			memcpy(aad + 4, p + 4, 4);
		error = ukern_crypto_aead_open(cs, p + ESP_HDRLEN, aad,
		    esn ? 12 : 8, p + hlen, clen, p + hlen + clen);
		if (error == EBADMSG) {
			ESPSTAT_INC(esps_badauth);
			goto bad;
		}
	} else if (xf.ex_aalg != UKERN_AUTH_NONE) {
		error = ukern_crypto_hmac(cs, p, hlen + clen,
		    esn ? seqhi : NULL, 4, mac);
		if (error == 0 &&
		    timingsafe_bcmp(mac, p + hlen + clen, xf.ex_icvlen) != 0) {
			ESPSTAT_INC(esps_badauth);
			error = EBADMSG;
			goto bad;
		}
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
	if (!xf.ex_aead) {
		error = ukern_crypto_decrypt(cs, p + ESP_HDRLEN, p + hlen, clen);
		if (error != 0) {
			ESPSTAT_INC(esps_crypto);
			goto bad;
		}
	}

	tr = p + hlen + clen - 2;
	padlen = tr[0];
	if (padlen + 2 > clen) {
		ESPSTAT_INC(esps_badilen);
		error = EINVAL;
		goto bad;
	}
	/* RFC 4303 §2.4: default padding may be checked; it is ours. */
	if ((sav->flags & SADB_X_EXT_PMASK) == SADB_X_EXT_PSEQ) {
		for (i = 0; i < padlen; i++)
			if (tr[(int)i - (int)padlen] != i + 1)
				break;
		if (i != padlen) {
			ESPSTAT_INC(esps_badenc);
			error = EINVAL;
			goto bad;
		}
	}
	*nxtp = tr[1];
	m_adj(m, -(int)(padlen + 2 + xf.ex_icvlen));
	m_adj(m, hlen);
	ESPSTAT_INC(esps_input);
	ESPSTAT_ADD(esps_ibytes, m->m_len);
	return (0);
bad:
	m_freem(m);
	*mp = NULL;
	return (error);
}
