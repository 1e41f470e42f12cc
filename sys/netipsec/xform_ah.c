/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The AH transform (RFC 4302): an ICV over the whole IP packet, its
 * mutable fields zeroed, with an SA's HMAC session; sequence numbers
 * (ESN included: the high half is appended to what the ICV covers) and
 * the anti-replay window as for ESP.  Synchronous, as xform_esp.c.
 */

#include <ukern/ukern.h>
#ifdef UKERN_NO_OPENCRYPTO13
#error "xform_ah.c needs the opencrypto(9) of FreeBSD 13 or later"
#endif

#include <net/pfkeyv2.h>
#include <netipsec/keydb.h>
#include <netipsec/ah.h>
#include <netipsec/ipsec_replay.h>
#include <netipsec/ipsec_hook_var.h>

static PCPUSTAT_DEFINE(struct ahstat, ahstat);
PCPUSTAT_SYSINIT(ahstat);
#define	AHSTAT_INC(name)	PCPUSTAT_ADD(struct ahstat, ahstat, name, 1)
#define	AHSTAT_ADD(name, n)	PCPUSTAT_ADD(struct ahstat, ahstat, name, (n))

#define	AH_IP4_MAXHLEN	60
#define	AH_IP6_HLEN	40
/* The IP header with IPv6's extension headers (ipsec_hook_var.h). */
#define	AH_MAXHLEN	IPSEC_HDRMAX

/*
 * The SA's HMAC and ICV length (RFC 2404, RFC 4868); EINVAL if none.
 * FreeBSD's "null" authenticator (tests only: no integrity at all) has
 * alg 0 and an ICV of 12 zero bytes.
 */
static int
ah_xf(const struct secasvar *sav, int *alg, u_int *icvlen)
{

	switch (sav->alg_auth) {
	case SADB_X_AALG_NULL:
		*alg = 0;
		*icvlen = 12;
		return (0);
	case SADB_AALG_SHA1HMAC:
		*alg = CRYPTO_SHA1_HMAC;
		*icvlen = 12;
		return (0);
	case SADB_X_AALG_SHA2_256:
		*alg = CRYPTO_SHA2_256_HMAC;
		*icvlen = 16;
		return (0);
	case SADB_X_AALG_SHA2_384:
		*alg = CRYPTO_SHA2_384_HMAC;
		*icvlen = 24;
		return (0);
	case SADB_X_AALG_SHA2_512:
		*alg = CRYPTO_SHA2_512_HMAC;
		*icvlen = 32;
		return (0);
	}
	return (EINVAL);
}

/* AH's length on the wire: header, ICV, padding to 4 (IPv4) or 8 bytes. */
static u_int
ah_len(u_int icvlen, int af)
{
	u_int len, align;

	len = AH_HDRLEN + icvlen;
	align = af == AF_INET6 ? 8 : 4;
	return ((len + align - 1) / align * align);
}

int
ah_init(struct secasvar *sav)
{
	struct crypto_session_params csp;
	u_int icvlen;
	int alg, error;

	if (sav->tdb_cryptoid != NULL)
		return (0);
	if (ah_xf(sav, &alg, &icvlen) != 0 || sav->replay == NULL ||
	    (alg != 0 && sav->key_auth == NULL) ||
	    (sav->flags & SADB_X_EXT_OLD))
		return (EINVAL);
	if (alg == 0)
		return (ipsec_replay_init(sav));
	memset(&csp, 0, sizeof(csp));
	csp.csp_mode = CSP_MODE_DIGEST;
	csp.csp_auth_alg = alg;
	csp.csp_auth_key = sav->key_auth->key_data;
	csp.csp_auth_klen = sav->key_auth->bits / 8;
	csp.csp_auth_mlen = (int)icvlen;
	if (sav->flags & SADB_X_SAFLAGS_ESN)
		csp.csp_flags = CSP_F_ESN;
	error = ipsec_replay_init(sav);
	if (error != 0)
		return (error);
	error = crypto_newsession(&sav->tdb_cryptoid, &csp,
	    CRYPTOCAP_F_SOFTWARE);
	if (error != 0) {
		ipsec_replay_fini(sav);
		return (error == ENOMEM ? ENOBUFS : EINVAL);
	}
	return (0);
}

void
ah_zeroize(struct secasvar *sav)
{

	if (sav->tdb_cryptoid != NULL)
		crypto_freesession(sav->tdb_cryptoid);
	sav->tdb_cryptoid = NULL;
	ipsec_replay_fini(sav);
}

size_t
ah_hdrsiz(const struct secasvar *sav)
{
	u_int icvlen;
	int alg;

	if (ah_xf(sav, &alg, &icvlen) != 0)
		icvlen = AH_MAXICVLEN;
	return (ah_len(icvlen, AF_INET6));
}

void
ah_getstat(struct ahstat *st)
{

	PCPUSTAT_FETCH(struct ahstat, ahstat, st);
}

void
ah_zerostat(void)
{

	PCPUSTAT_ZERO(struct ahstat, ahstat);
}

/*
 * Zero what may change in transit (RFC 4302 §3.3.3.1), in the IP header
 * of "skip" bytes at ip: IPv4's TOS, flags and offset, TTL, checksum and
 * its options but those RFC 4302 Appendix A calls immutable (Linux's and
 * FreeBSD's set: end, no-op, security, extended security, CIPSO, router
 * alert); IPv6's traffic class, flow label and hop limit, and in its
 * hop-by-hop and destination options headers the data of each option
 * whose type says it may change en route (RFC 8200 section 4.2).  A
 * routing header must have no segments left (the ICV would be over the
 * addresses as the destination sees them, which this does not rebuild):
 * -1 for it, for a Fragment header, and for malformed headers.
 */
static int
ah_massage(uint8_t *ip, int skip, int af)
{
	int off, olen, o, end;
	uint8_t nh;

	if (af == AF_INET6) {
		ip[0] &= 0xf0;
		ip[1] = ip[2] = ip[3] = 0;
		ip[7] = 0;
		if (ipsec_v6_nhoff(ip, skip) < 0)
			return (-1);
		nh = ip[6];
		for (off = AH_IP6_HLEN; off < skip; off = end) {
			end = off + (ip[off + 1] + 1) * 8;
			if (nh == 43) {
				if (ip[off + 3] != 0)
					return (-1);
			} else {
				/* Hop-by-hop or destination options. */
				for (o = off + 2; o < end; o += olen) {
					if (ip[o] == 0) {	/* Pad1 */
						olen = 1;
						continue;
					}
					if (o + 2 > end ||
					    o + 2 + ip[o + 1] > end)
						return (-1);
					olen = 2 + ip[o + 1];
					if (ip[o] & 0x20)
						memset(ip + o + 2, 0,
						    ip[o + 1]);
				}
			}
			nh = ip[off];
		}
		return (0);
	}
	ip[1] = 0;
	ip[6] = ip[7] = ip[8] = 0;
	ip[10] = ip[11] = 0;
	for (off = 20; off < skip; off += olen) {
		switch (ip[off]) {
		case 0:				/* end of options */
			return (0);
		case 1:				/* no-op */
			olen = 1;
			continue;
		}
		olen = off + 1 < skip ? ip[off + 1] : 0;
		if (olen < 2 || olen > skip - off) {
			/* Malformed: all that is left is zeroed. */
			memset(ip + off, 0, skip - off);
			return (0);
		}
		switch (ip[off]) {
		case 130:			/* security */
		case 133:			/* extended security */
		case 134:			/* CIPSO */
		case 148:			/* router alert */
			break;
		default:
			memset(ip + off, 0, olen);
			break;
		}
	}
	return (0);
}

/*
 * The ICV over the packet as it is now; written at the ICV's place (left
 * zero by the null authenticator).
 */
static int
ah_digest(struct secasvar *sav, struct mbuf *m, int skip, uint64_t seq)
{
	struct cryptop crp;
	uint8_t seqhi[4];
	int error;

	if (sav->alg_auth == SADB_X_AALG_NULL)
		return (0);
	crypto_initreq(&crp, sav->tdb_cryptoid);
	crp.crp_op = CRYPTO_OP_COMPUTE_DIGEST;
	crypto_use_mbuf(&crp, m);
	crp.crp_payload_start = 0;
	crp.crp_payload_length = m->m_pkthdr.len;
	crp.crp_digest_start = skip + AH_HDRLEN;
	*(uint32_t *)(void *)seqhi = htonl((uint32_t)(seq >> 32));
	memcpy(crp.crp_esn, seqhi, sizeof(crp.crp_esn));
	crp.crp_flags = CRYPTO_F_CBIMM;
	error = crypto_dispatch(&crp);
	if (error == 0) {
		KASSERT(crp.crp_flags & CRYPTO_F_DONE,
		    ("ah: an asynchronous crypto request"));
		error = crp.crp_etype;
	}
	crypto_destroyreq(&crp);
	return (error);
}

int
ah_output(struct secasvar *sav, struct mbuf **mp, int skip, int af)
{
	uint8_t save[AH_MAXHLEN], *ip, *ah;
	struct mbuf *m;
	uint64_t seq;
	u_int icvlen, ahlen, len;
	int alg, error, nxt, nhoff;

	m = *mp;
	if (ah_xf(sav, &alg, &icvlen) != 0 ||
	    (alg != 0 && sav->tdb_cryptoid == NULL) ||
	    skip < (af == AF_INET6 ? AH_IP6_HLEN : 20) ||
	    skip > (af == AF_INET6 ? AH_MAXHLEN : AH_IP4_MAXHLEN)) {
		AHSTAT_INC(ahs_noxform);
		error = EINVAL;
		goto bad;
	}
	ahlen = ah_len(icvlen, af);
	len = (u_int)m->m_pkthdr.len;
	if (len < (u_int)skip || (size_t)len + ahlen > 65535) {
		AHSTAT_INC(ahs_toobig);
		error = EMSGSIZE;
		goto bad;
	}
	if (m->m_len < skip && (m = m_pullup(m, skip)) == NULL) {
		AHSTAT_INC(ahs_hdrops);
		*mp = NULL;
		return (ENOBUFS);
	}
	error = ipsec_nextseq(sav, &seq);
	if (error != 0) {
		AHSTAT_INC(ahs_wrap);
		goto bad;
	}

	/* AH between the IP header and what follows it. */
	memcpy(save, mtod(m, uint8_t *), skip);
	m_adj(m, skip);
	M_PREPEND(m, skip + ahlen, M_NOWAIT);
	*mp = m;
	if (m == NULL)
		return (ENOBUFS);
	ip = mtod(m, uint8_t *);
	memcpy(ip, save, skip);
	ah = ip + skip;
	nhoff = af == AF_INET6 ? ipsec_v6_nhoff(ip, skip) : 9;
	if (nhoff < 0) {
		AHSTAT_INC(ahs_hdrops);
		error = EINVAL;
		goto bad;
	}
	nxt = ip[nhoff];
	memset(ah, 0, ahlen);
	ah[0] = (uint8_t)nxt;
	ah[1] = (uint8_t)(ahlen / 4 - 2);
	memcpy(ah + 4, &sav->spi, 4);
	*(uint32_t *)(void *)(ah + 8) = htonl((uint32_t)seq);
	len = (u_int)m->m_pkthdr.len;
	ip[nhoff] = IPPROTO_AH;
	if (af == AF_INET6) {
		ip[4] = (uint8_t)((len - AH_IP6_HLEN) >> 8);
		ip[5] = (uint8_t)(len - AH_IP6_HLEN);
	} else {
		ip[2] = (uint8_t)(len >> 8);
		ip[3] = (uint8_t)len;
	}

	/* The ICV over the header with its mutable fields zeroed. */
	memcpy(save, ip, skip);
	error = ah_massage(ip, skip, af) == 0 ? ah_digest(sav, m, skip, seq) :
	    EINVAL;
	memcpy(mtod(m, uint8_t *), save, skip);
	if (error != 0) {
		AHSTAT_INC(ahs_crypto);
		goto bad;
	}
	if (af == AF_INET)
		ipsec_ip4_finish(mtod(m, uint8_t *), len);
	AHSTAT_INC(ahs_output);
	AHSTAT_ADD(ahs_obytes, len - skip - ahlen);
	return (0);
bad:
	m_freem(m);
	*mp = NULL;
	return (error);
}

int
ah_input(struct secasvar *sav, struct mbuf **mp, int skip, int af, int *nxtp)
{
	uint8_t icv[AH_MAXICVLEN], *ip, *ah;
	struct mbuf *m;
	uint64_t seq;
	u_int icvlen, ahlen;
	int alg, error, nxt;

	m = *mp;
	if (ah_xf(sav, &alg, &icvlen) != 0 ||
	    (alg != 0 && sav->tdb_cryptoid == NULL) ||
	    skip < (af == AF_INET6 ? AH_IP6_HLEN : 20) ||
	    skip > (af == AF_INET6 ? AH_MAXHLEN : AH_IP4_MAXHLEN)) {
		AHSTAT_INC(ahs_noxform);
		error = EINVAL;
		goto bad;
	}
	ahlen = ah_len(icvlen, af);
	if ((u_int)m->m_pkthdr.len < skip + ahlen) {
		AHSTAT_INC(ahs_hdrops);
		error = EINVAL;
		goto bad;
	}
	/* The IP headers and AH: at most 112 + 48 bytes, within MHLEN. */
	if (m->m_len < (int)(skip + ahlen) &&
	    (m = m_pullup(m, (int)(skip + ahlen))) == NULL) {
		AHSTAT_INC(ahs_hdrops);
		*mp = NULL;
		return (ENOBUFS);
	}
	*mp = m;
	ip = mtod(m, uint8_t *);
	ah = ip + skip;
	/* RFC 4302 §2.2: the length must be the SA's ICV's. */
	if ((u_int)(ah[1] + 2) * 4 != ahlen) {
		AHSTAT_INC(ahs_badauthl);
		error = EINVAL;
		goto bad;
	}
	nxt = ah[0];

	/* RFC 4302 §3.4.3: replay check first, window update after ICV. */
	error = ipsec_chkreplay(sav, ntohl(*(uint32_t *)(void *)(ah + 8)),
	    &seq);
	if (error != 0) {
		AHSTAT_INC(ahs_replay);
		error = EACCES;
		goto bad;
	}
	/* The ICV is computed with the ICV field and the mutable ones 0. */
	memcpy(icv, ah + AH_HDRLEN, icvlen);
	memset(ah + AH_HDRLEN, 0, ahlen - AH_HDRLEN);
	if (ah_massage(ip, skip, af) != 0) {
		AHSTAT_INC(ahs_hdrops);
		error = EINVAL;
		goto bad;
	}
	error = ah_digest(sav, m, skip, seq);
	if (error != 0) {
		AHSTAT_INC(ahs_crypto);
		goto bad;
	}
	ip = mtod(m, uint8_t *);
	if (timingsafe_bcmp(ip + skip + AH_HDRLEN, icv, icvlen) != 0) {
		AHSTAT_INC(ahs_badauth);
		error = EBADMSG;
		goto bad;
	}
	if (ipsec_updatereplay(sav, seq) != 0) {
		AHSTAT_INC(ahs_replay);
		error = EACCES;
		goto bad;
	}
	m_adj(m, (int)(skip + ahlen));
	*nxtp = nxt;
	AHSTAT_INC(ahs_input);
	AHSTAT_ADD(ahs_ibytes, m->m_pkthdr.len);
	return (0);
bad:
	m_freem(m);
	*mp = NULL;
	return (error);
}
