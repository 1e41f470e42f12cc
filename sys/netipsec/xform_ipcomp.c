/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The IPComp transform (RFC 3173) with deflate (RFC 2394), through
 * crypto(9)'s compression sessions as FreeBSD's xform_ipcomp.c: the
 * payload after the IP header is compressed unless the packet is small
 * (net.inet.ipcomp.minlen) or compression would not shrink it; then it
 * goes as it is, without an IPComp header (RFC 3173 section 2.2), which
 * is why an inbound IPComp request is never required (ipsec_hook.c).
 * No sequence numbers, no replay window, no keys.  Synchronous.
 */

#include <ukern/ukern.h>
#ifdef UKERN_NO_OPENCRYPTO13
#error "xform_ipcomp.c needs the opencrypto(9) of FreeBSD 13 or later"
#endif

#include <net/pfkeyv2.h>
#include <netipsec/keydb.h>
#include <netipsec/ipcomp.h>
#include <netipsec/ipsec_hook_var.h>

static PCPUSTAT_DEFINE(struct ipcompstat, ipcompstat);
PCPUSTAT_SYSINIT(ipcompstat);
#define	IPCOMPSTAT_INC(name)	PCPUSTAT_ADD(struct ipcompstat, ipcompstat, \
				    name, 1)
#define	IPCOMPSTAT_ADD(name, n)	PCPUSTAT_ADD(struct ipcompstat, ipcompstat, \
				    name, (n))

#define	IPCOMP_IP4_MAXHLEN	60
#define	IPCOMP_IP6_HLEN		40
#define	IPCOMP_MAXHLEN		IPSEC_HDRMAX	/* with IPv6 ext. headers */
#define	IPCOMP_MAXPACKET	65535

int ipcomp_enable = 1;
u_int ipcomp_minlen = 90;

int
ipcomp_init(struct secasvar *sav)
{
	struct crypto_session_params csp;
	int error;

	if (sav->tdb_cryptoid != NULL)
		return (0);
	if (sav->alg_comp != SADB_X_CALG_DEFLATE)
		return (EINVAL);	/* OUI and LZS: not implemented */
	memset(&csp, 0, sizeof(csp));
	csp.csp_mode = CSP_MODE_COMPRESS;
	csp.csp_cipher_alg = CRYPTO_DEFLATE_COMP;
	error = crypto_newsession(&sav->tdb_cryptoid, &csp,
	    CRYPTOCAP_F_SOFTWARE);
	if (error != 0)
		return (error == ENOMEM ? ENOBUFS : EINVAL);
	return (0);
}

void
ipcomp_zeroize(struct secasvar *sav)
{

	if (sav->tdb_cryptoid != NULL)
		crypto_freesession(sav->tdb_cryptoid);
	sav->tdb_cryptoid = NULL;
}

void
ipcomp_getstat(struct ipcompstat *st)
{

	PCPUSTAT_FETCH(struct ipcompstat, ipcompstat, st);
}

void
ipcomp_zerostat(void)
{

	PCPUSTAT_ZERO(struct ipcompstat, ipcompstat);
}

/* (De)compress the payload from "start" to the end of the packet. */
static int
ipcomp_run(struct secasvar *sav, struct mbuf *m, int start, int op,
    int *olenp)
{
	struct cryptop crp;
	int error;

	crypto_initreq(&crp, sav->tdb_cryptoid);
	crp.crp_op = op;
	crypto_use_mbuf(&crp, m);
	crp.crp_payload_start = start;
	crp.crp_payload_length = m->m_pkthdr.len - start;
	crp.crp_flags = CRYPTO_F_CBIMM;
	error = crypto_dispatch(&crp);
	if (error == 0) {
		KASSERT(crp.crp_flags & CRYPTO_F_DONE,
		    ("ipcomp: an asynchronous crypto request"));
		error = crp.crp_etype;
	}
	*olenp = crp.crp_olen;
	crypto_destroyreq(&crp);
	return (error);
}

int
ipcomp_output(struct secasvar *sav, struct mbuf **mp, int skip, int af)
{
	uint8_t save[IPCOMP_MAXHLEN], *ip;
	struct mbuf *m;
	u_int len;
	int error, olen, plen, nhoff;

	m = *mp;
	if (sav->tdb_cryptoid == NULL ||
	    skip < (af == AF_INET6 ? IPCOMP_IP6_HLEN : 20) ||
	    skip > (af == AF_INET6 ? IPCOMP_MAXHLEN : IPCOMP_IP4_MAXHLEN) ||
	    m->m_pkthdr.len < skip) {
		IPCOMPSTAT_INC(ipcomps_noxform);
		error = EINVAL;
		goto bad;
	}
	if ((u_int)m->m_pkthdr.len <= ipcomp_minlen) {
		IPCOMPSTAT_INC(ipcomps_threshold);
		return (0);
	}
	if (m->m_pkthdr.len + IPCOMP_HLENGTH > IPCOMP_MAXPACKET) {
		IPCOMPSTAT_INC(ipcomps_toobig);
		error = EMSGSIZE;
		goto bad;
	}
	if (m->m_len < skip && (m = m_pullup(m, skip)) == NULL) {
		IPCOMPSTAT_INC(ipcomps_hdrops);
		*mp = NULL;
		return (ENOBUFS);
	}
	*mp = m;
	nhoff = af == AF_INET6 ? ipsec_v6_nhoff(mtod(m, uint8_t *), skip) : 9;
	if (nhoff < 0) {
		IPCOMPSTAT_INC(ipcomps_hdrops);
		error = EINVAL;
		goto bad;
	}
	plen = m->m_pkthdr.len - skip;
	IPCOMPSTAT_INC(ipcomps_output);
	IPCOMPSTAT_ADD(ipcomps_obytes, plen);
	error = ipcomp_run(sav, m, skip, CRYPTO_OP_COMPRESS, &olen);
	if (error != 0) {
		IPCOMPSTAT_INC(ipcomps_crypto);
		goto bad;
	}
	IPCOMPSTAT_INC(ipcomps_hist[SADB_X_CALG_DEFLATE]);
	if (olen >= plen) {
		/* Left as it was: it goes uncompressed. */
		IPCOMPSTAT_INC(ipcomps_uncompr);
		return (0);
	}

	/* IPComp between the IP header and the compressed payload. */
	memcpy(save, mtod(m, uint8_t *), skip);
	m_adj(m, skip);
	M_PREPEND(m, skip + IPCOMP_HLENGTH, M_NOWAIT);
	*mp = m;
	if (m == NULL)
		return (ENOBUFS);
	ip = mtod(m, uint8_t *);
	memcpy(ip, save, skip);
	len = (u_int)m->m_pkthdr.len;
	ip[skip] = ip[nhoff];
	ip[nhoff] = IPPROTO_IPCOMP;
	if (af == AF_INET6) {
		ip[4] = (uint8_t)((len - IPCOMP_IP6_HLEN) >> 8);
		ip[5] = (uint8_t)(len - IPCOMP_IP6_HLEN);
	} else
		ipsec_ip4_finish(ip, len);
	ip[skip + 1] = 0;
	/* The CPI is the low 16 bits of the SA's SPI. */
	ip[skip + 2] = (uint8_t)(ntohl(sav->spi) >> 8);
	ip[skip + 3] = (uint8_t)ntohl(sav->spi);
	return (0);
bad:
	m_freem(m);
	*mp = NULL;
	return (error);
}

int
ipcomp_input(struct secasvar *sav, struct mbuf **mp, int *nxtp)
{
	struct ipcomp ic;
	struct mbuf *m;
	int error, olen;

	m = *mp;
	if (sav->tdb_cryptoid == NULL) {
		IPCOMPSTAT_INC(ipcomps_noxform);
		error = EINVAL;
		goto bad;
	}
	if (!ipcomp_enable) {
		IPCOMPSTAT_INC(ipcomps_pdrops);
		error = EOPNOTSUPP;
		goto bad;
	}
	if (m->m_pkthdr.len <= IPCOMP_HLENGTH) {
		IPCOMPSTAT_INC(ipcomps_hdrops);
		error = EINVAL;
		goto bad;
	}
	m_copydata(m, 0, IPCOMP_HLENGTH, (void *)&ic);
	/* Compressing twice cannot help: someone plays tricks. */
	if (ic.comp_nxt == IPPROTO_IPCOMP) {
		IPCOMPSTAT_INC(ipcomps_pdrops);
		error = EINVAL;
		goto bad;
	}
	error = ipcomp_run(sav, m, IPCOMP_HLENGTH, CRYPTO_OP_DECOMPRESS,
	    &olen);
	if (error != 0) {
		IPCOMPSTAT_INC(ipcomps_crypto);
		goto bad;
	}
	IPCOMPSTAT_INC(ipcomps_hist[SADB_X_CALG_DEFLATE]);
	m_adj(m, IPCOMP_HLENGTH);
	IPCOMPSTAT_INC(ipcomps_input);
	IPCOMPSTAT_ADD(ipcomps_ibytes, olen);
	*nxtp = ic.comp_nxt;
	return (0);
bad:
	m_freem(m);
	*mp = NULL;
	return (error);
}
