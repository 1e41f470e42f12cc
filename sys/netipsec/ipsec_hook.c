/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The packet path for hosts that hand us IP packets as mbufs
 * (ipsec_hook.h): the outbound policy check, SA choice and ESP or AH
 * encapsulation (FreeBSD's ipsec4_output()/ipsec4_allocsa()/
 * ipsec_encap()), the inbound SA lookup, ESP or AH decapsulation and
 * policy check (ipsec_common_input(), ipsec4_in_reject()), and, beyond
 * FreeBSD, a bounded queue of packets that wait for an SA while an
 * ACQUIRE is answered.
 *
 * Limits, each counted where it bites: one request per policy is applied
 * (bundles are refused), IPv6 packets with extension headers are not
 * transformed in transport mode nor taken through AH, IPComp requests are
 * refused.  SAs with NAT-T extensions are UDP-encapsulated (RFC 3948)
 * both ways.
 */

#include <ukern/ukern.h>

#include <net/pfkeyv2.h>
#include <netipsec/ipsec.h>
#include <netipsec/keydb.h>
#include <netipsec/key.h>
#include <netipsec/key_var.h>
#include <netipsec/esp.h>
#include <netipsec/ah.h>
#include <netipsec/ipsec_hook.h>
#include <netipsec/ipsec_hook_var.h>

MALLOC_DEFINE(M_IPSEC_HOLD, "ipsec-hold", "packets waiting for an SA");
MALLOC_DEFINE(M_IPSEC_PKT, "ipsec-pkt", "packets handed to the host");

/* net.inet.ipsec.acq_hold: packets kept per pending ACQUIRE, 16. */
u_int ipsec_acq_hold = 16;
/* net.inet.ipsec.acq_hold_total: packets kept in all, 1024. */
u_int ipsec_acq_hold_total = 1024;
/* net.inet.ipsec.dfbit: DF of tunnel headers (0 clear, 1 set, 2 copy), 0. */
u_int ipsec_dfbit = 0;
/* net.inet.ipsec.esp_trans_deflev: level "default" in transport mode, use. */
u_int ipsec_esp_trans_deflev = IPSEC_LEVEL_USE;
/* net.inet.ipsec.esp_net_deflev: level "default" in tunnel mode, use. */
u_int ipsec_esp_net_deflev = IPSEC_LEVEL_USE;

static PCPUSTAT_DEFINE(struct ipsecstat, ipsecstat);
PCPUSTAT_SYSINIT(ipsecstat);
#define	IPSECSTAT_INC(name)	PCPUSTAT_ADD(struct ipsecstat, ipsecstat, name, 1)

#define	IP_HDRLEN	20
#define	IP6_HDRLEN	40
#define	IP_DF		0x4000
#define	IP_OFFMASK	0x1fff
#define	IP_MF		0x2000
#define	IPPROTO_IPV4_	4
#define	IPPROTO_IPV6_	41
#define	NATT_PORT	4500

/* What the packet path needs to know of a packet. */
struct ipsec_pkt {
	int			af;
	size_t			hlen;	/* IP header (v6: 40, no ext) */
	size_t			len;	/* IP total length */
	int			v6ext;	/* IPv6 extension headers */
	uint8_t			proto;	/* upper-layer protocol */
	size_t			ulp;	/* offset of the upper layer */
	struct secpolicyindex	spidx;	/* its selector (ports in it) */
	uint8_t			ulpb[16]; /* the upper layer's first bytes */
};

static uint16_t
ipsec_rd16(const uint8_t *p)
{

	return ((uint16_t)(p[0] << 8 | p[1]));
}

static void
ipsec_wr16(uint8_t *p, uint16_t v)
{

	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* The Internet checksum of an IPv4 header (RFC 1071). */
static uint16_t
ipsec_in_cksum(const uint8_t *p, size_t len)
{
	uint32_t sum;
	size_t i;

	sum = 0;
	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)~sum);
}

void
ipsec_ip4_finish(uint8_t *ip, size_t len)
{

	ipsec_wr16(ip + 2, (uint16_t)len);
	ip[10] = ip[11] = 0;
	ipsec_wr16(ip + 10, ipsec_in_cksum(ip, (ip[0] & 0x0f) * 4));
}

/* The one's-complement sum of a buffer, folded (RFC 1071). */
uint32_t
ipsec_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (sum);
}

/*
 * Recompute the TCP or UDP checksum at "off" in an IP packet, over its
 * pseudo-header (RFC 793, 768, 8200 §8.1).  Returns 0, or -1 when the
 * packet has no such header to fix.
 */
static int
ipsec_l4_cksum(uint8_t *ip, size_t len, size_t off, int af, uint8_t proto)
{
	uint8_t pseudo[40];
	uint32_t sum;
	size_t l4len, coff, plen;
	uint16_t c;

	if (proto == IPPROTO_TCP)
		coff = 16;
	else if (proto == IPPROTO_UDP)
		coff = 6;
	else
		return (-1);
	if (off + coff + 2 > len)
		return (-1);
	l4len = len - off;
	memset(pseudo, 0, sizeof(pseudo));
	if (af == AF_INET) {
		memcpy(pseudo, ip + 12, 8);
		pseudo[9] = proto;
		pseudo[10] = (uint8_t)(l4len >> 8);
		pseudo[11] = (uint8_t)l4len;
		plen = 12;
	} else {
		memcpy(pseudo, ip + 8, 32);
		pseudo[34] = (uint8_t)(l4len >> 8);
		pseudo[35] = (uint8_t)l4len;
		pseudo[39] = proto;
		plen = 40;
	}
	ip[off + coff] = ip[off + coff + 1] = 0;
	sum = ipsec_sum(ipsec_sum(0, pseudo, plen), ip + off, l4len);
	c = (uint16_t)~sum;
	if (c == 0 && proto == IPPROTO_UDP)
		c = 0xffff;		/* 0 means "no checksum" for UDP */
	ipsec_wr16(ip + off + coff, c);
	return (0);
}

/*
 * The first len bytes of *mp contiguous (len at most the packet's, and
 * no more than an IP header: a BSD kernel's m_pullup() makes at most
 * MHLEN bytes contiguous); NULL when out of memory, the packet freed and
 * *mp NULL.
 */
static const uint8_t *
ipsec_pull(struct mbuf **mp, size_t len)
{
	struct mbuf *m = *mp;

	if ((size_t)m->m_len < len && (m = m_pullup(m, (int)len)) == NULL) {
		*mp = NULL;
		return (NULL);
	}
	*mp = m;
	return (mtod(m, const uint8_t *));
}

/*
 * The first len bytes of m contiguous for whole-packet work (rare paths:
 * reassembly, an ICMP error's quote, NAT-T checksums, the host's raw
 * output): the first mbuf's own bytes when it holds them, else a copy,
 * *copyp, to give back with ipsec_unflat().  NULL: out of memory.
 */
static uint8_t *
ipsec_flat(struct mbuf *m, size_t len, uint8_t **copyp)
{

	*copyp = NULL;
	if ((size_t)m->m_len >= len)
		return (mtod(m, uint8_t *));
	if ((*copyp = ipsec_hook_alloc(MAX(len, 1))) == NULL)
		return (NULL);
	m_copydata(m, 0, (int)len, *copyp);
	return (*copyp);
}

static void
ipsec_unflat(uint8_t *copy, size_t len)
{

	if (copy != NULL) {
		explicit_bzero(copy, len);	/* it may be plaintext */
		ipsec_hook_free(copy);
	}
}

/* Cut what follows the IP packet (link-layer padding) off m. */
static void
ipsec_trim(struct mbuf *m, size_t len)
{

	if ((size_t)m->m_pkthdr.len > len)
		m_adj(m, (int)len - m->m_pkthdr.len);
}

/* Free *mp (if the layer still has it) and say drop. */
static int
ipsec_drop(struct mbuf **mp)
{

	if (*mp != NULL) {
		m_freem(*mp);
		*mp = NULL;
	}
	return (IPSEC_HOOK_DROP);
}

/*
 * Parse a packet's IP header and the start of its upper layer, into a
 * selector as FreeBSD's ipsec4_setspidx_ipaddr()/ipsec4_get_ulp() build
 * it: full-length prefixes; TCP, UDP and SCTP ports; ICMP type and code
 * in the port fields; ports only when "needport" and not a fragment.
 * On success the IP header (IPv6: the fixed one) is contiguous in the
 * first mbuf and pi->ulpb holds the upper layer's first bytes (as many as
 * the packet has, zeros after).  EINVAL: not a packet to parse (*mp
 * unchanged); ENOBUFS: out of memory, *mp freed and NULL.
 */
static int
ipsec_parse(struct mbuf **mp, int needport, struct ipsec_pkt *pi)
{
	struct secpolicyindex *sp;
	const uint8_t *p;
	uint8_t eh[4];
	size_t len, off, elen;
	uint8_t nxt;
	int frag;

	memset(pi, 0, sizeof(*pi));
	sp = &pi->spidx;
	len = (size_t)(*mp)->m_pkthdr.len;
	if (len < 1)
		return (EINVAL);
	if ((p = ipsec_pull(mp, 1)) == NULL)
		return (ENOBUFS);
	frag = 0;
	switch (p[0] >> 4) {
	case 4:
		if (len < IP_HDRLEN)
			return (EINVAL);
		if ((p = ipsec_pull(mp, IP_HDRLEN)) == NULL)
			return (ENOBUFS);
		if ((p[0] & 0x0f) < 5)
			return (EINVAL);
		pi->af = AF_INET;
		pi->hlen = (size_t)(p[0] & 0x0f) * 4;
		pi->len = ipsec_rd16(p + 2);
		if (pi->hlen > pi->len || pi->len > len)
			return (EINVAL);
		if ((p = ipsec_pull(mp, pi->hlen)) == NULL)
			return (ENOBUFS);
		pi->proto = p[9];
		pi->ulp = pi->hlen;
		frag = (ipsec_rd16(p + 6) & IP_OFFMASK) != 0;
		sp->src.sin.sin_family = sp->dst.sin.sin_family = AF_INET;
#ifdef UKERN_HAVE_SA_LEN
		sp->src.sin.sin_len = sp->dst.sin.sin_len =
		    sizeof(struct sockaddr_in);
#endif
		memcpy(&sp->src.sin.sin_addr, p + 12, 4);
		memcpy(&sp->dst.sin.sin_addr, p + 16, 4);
		sp->prefs = sp->prefd = 32;
		break;
	case 6:
		if (len < IP6_HDRLEN)
			return (EINVAL);
		if ((p = ipsec_pull(mp, IP6_HDRLEN)) == NULL)
			return (ENOBUFS);
		pi->af = AF_INET6;
		pi->hlen = IP6_HDRLEN;
		pi->len = IP6_HDRLEN + ipsec_rd16(p + 4);
		if (pi->len > len)
			return (EINVAL);
		sp->src.sin6.sin6_family = sp->dst.sin6.sin6_family =
		    AF_INET6;
#ifdef UKERN_HAVE_SA_LEN
		sp->src.sin6.sin6_len = sp->dst.sin6.sin6_len =
		    sizeof(struct sockaddr_in6);
#endif
		memcpy(&sp->src.sin6.sin6_addr, p + 8, 16);
		memcpy(&sp->dst.sin6.sin6_addr, p + 24, 16);
		sp->prefs = sp->prefd = 128;
		/* Walk the extension headers to the upper layer. */
		nxt = p[6];
		off = IP6_HDRLEN;
		for (;;) {
			if (nxt != 0 && nxt != 43 && nxt != 60 && nxt != 44)
				break;
			pi->v6ext = 1;
			if (off + 8 > pi->len)
				return (EINVAL);
			/* Copied, not pulled up: there may be many. */
			m_copydata(*mp, (int)off, sizeof(eh), eh);
			if (nxt == 44) {
				frag = (ipsec_rd16(eh + 2) & 0xfff8) != 0;
				elen = 8;
			} else
				elen = ((size_t)eh[1] + 1) * 8;
			nxt = eh[0];
			off += elen;
			if (frag)
				break;
		}
		pi->proto = nxt;
		pi->ulp = off;
		break;
	default:
		return (EINVAL);
	}
	sp->ul_proto = pi->proto;
	if (pi->ulp < pi->len)
		m_copydata(*mp, (int)pi->ulp, (int)MIN(pi->len - pi->ulp,
		    sizeof(pi->ulpb)), pi->ulpb);
	if (!needport || frag)
		return (0);
	switch (pi->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case 132:		/* SCTP */
		if (pi->ulp + 4 <= pi->len) {
			memcpy(&sp->src.sin.sin_port, pi->ulpb, 2);
			memcpy(&sp->dst.sin.sin_port, pi->ulpb + 2, 2);
		}
		break;
	case IPPROTO_ICMP:
	case 58:		/* ICMPv6 */
		if (pi->ulp + 2 <= pi->len) {
			sp->src.sin.sin_port = htons(pi->ulpb[0]);
			sp->dst.sin.sin_port = htons(pi->ulpb[1]);
		}
		break;
	}
	return (0);
}

/*
 * The host's word on which addresses are its own (ipsec_hook.h), for the
 * inbound packets of sockets bound to every address, and for the
 * fragments reassembled because they are for this host.
 */
static ipsec_local_t *ipsec_local_fn;
static void *ipsec_local_arg;

void
ipsec_hook_setlocal(ipsec_local_t *fn, void *arg)
{

	ipsec_reass_init();
	ipsec_local_arg = arg;
	ipsec_local_fn = fn;
}

static int
ipsec_islocal(const union sockaddr_union *su)
{

	if (ipsec_local_fn == NULL)
		return (0);
	if (su->sa.sa_family == AF_INET6)
		return (ipsec_local_fn(ipsec_local_arg, AF_INET6,
		    &su->sin6.sin6_addr));
	return (ipsec_local_fn(ipsec_local_arg, AF_INET, &su->sin.sin_addr));
}

/*
 * The policy of a packet (FreeBSD's ipsec4_checkpolicy()): its socket's,
 * if it is a local socket's that has one for the direction, else the
 * SPD's; NULL for none.  Forwarded packets are never a socket's.  The
 * caller holds SPTREE_RLOCK while it uses the policy.
 */
static struct secpolicy *
ipsec_getpolicy(int where, const struct secpolicyindex *spidx)
{
	struct secpolicy *sp;

	if (where != IPSEC_HOOK_FWD) {
		sp = key_spd_pcb_match(spidx, ipsec_islocal);
		if (sp != NULL) {
			if (spidx->dir == IPSEC_DIR_OUTBOUND)
				IPSECSTAT_INC(ips_out_pcb);
			else
				IPSECSTAT_INC(ips_in_pcb);
			return (sp);
		}
	}
	return (key_spd_match(spidx));
}

static u_int
ipsec_level(const struct ipsecrequest *isr)
{

	if (isr->level != IPSEC_LEVEL_DEFAULT)
		return (isr->level);
	/* As FreeBSD: anything but use, require and unique is require. */
	switch (isr->saidx.mode == IPSEC_MODE_TUNNEL ?
	    ipsec_esp_net_deflev : ipsec_esp_trans_deflev) {
	case IPSEC_LEVEL_USE:
		return (IPSEC_LEVEL_USE);
	case IPSEC_LEVEL_UNIQUE:
		return (IPSEC_LEVEL_UNIQUE);
	}
	return (IPSEC_LEVEL_REQUIRE);
}

/* A buffer the host frees with ipsec_hook_free(). */
void *
ipsec_hook_alloc(size_t len)
{

	return (malloc(len, M_IPSEC_PKT, M_NOWAIT));
}

void
ipsec_hook_free(void *p)
{

	free(p, M_IPSEC_PKT);
}

/*
 * The packet the layer made of one the host gave it (of family "af",
 * coming in if "in"): a replacement, or, when the family changed, which
 * a verdict cannot do, sent by the host's raw output instead of the
 * original, which is dropped; fragmented if need be, since the raw
 * output does not (going out, the tunnel's outer header is ours).
 */
static int
ipsec_deliver(struct mbuf **mp, int af, int in)
{
	uint8_t *p, *copy;
	size_t len;
	int v;

	v = (mtod(*mp, uint8_t *)[0] >> 4) == 4 ? AF_INET : AF_INET6;
	if (v == af)
		return (IPSEC_HOOK_REPLACE);
	len = (size_t)(*mp)->m_pkthdr.len;
	p = ipsec_flat(*mp, len, &copy);
	v = p != NULL ? ipsec_host_output_frag(p, len, !in) : ENOBUFS;
	ipsec_unflat(copy, len);
	if (v == 0) {
		if (in)
			IPSECSTAT_INC(ips_in_raw);
		else
			IPSECSTAT_INC(ips_out_raw);
	} else
		IPSECSTAT_INC(ips_raw_fail);
	return (ipsec_drop(mp));
}

/*
 * ipsec_l4_cksum() over a whole packet (NAT-T's checksums only): in
 * place, or over a copy whose new checksum is written back.  ENOBUFS:
 * *mp freed and NULL.
 */
static int
ipsec_l4_cksum_m(struct mbuf **mp, size_t off, int af, uint8_t proto)
{
	uint8_t *p, *copy;
	size_t len, coff;

	len = (size_t)(*mp)->m_pkthdr.len;
	if ((p = ipsec_flat(*mp, len, &copy)) == NULL) {
		(void)ipsec_drop(mp);
		return (ENOBUFS);
	}
	if (ipsec_l4_cksum(p, len, off, af, proto) == 0 && copy != NULL) {
		coff = off + (proto == IPPROTO_TCP ? 16 : 6);
		m_copyback(*mp, (int)coff, 2, copy + coff);
	}
	ipsec_unflat(copy, len);
	return (0);
}

/* Count use of an SA for its lifetimes (bytes, first use). */
static void
ipsec_sa_used(struct secasvar *sav, size_t bytes)
{
	time_t zero;

	COUNTER_ADD(sav->lft_c_bytes, bytes);
	zero = 0;
	if (sav->firstused == 0)
		__atomic_compare_exchange_n(&sav->firstused, &zero,
		    time_uptime, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/*
 * AH output: transport mode puts AH after the packet's own header,
 * tunnel mode after a new one; the ICV covers both (ipsec_encap()).
 */
static int
ipsec_ah_encap(struct secasvar *sav, const struct secasindex *saidx,
    const struct ipsec_pkt *pi, struct mbuf **mp, int tunnel, uint8_t tos,
    int df)
{
	struct mbuf *m;
	uint8_t *ip;
	size_t plen, olen, len;
	int error, oaf;

	m = *mp;
	*mp = NULL;
	plen = (size_t)m->m_pkthdr.len - (tunnel ? 0 : pi->hlen);
	if (!tunnel) {
		error = ah_output(sav, &m, (int)pi->hlen, pi->af);
		if (error != 0)
			return (error);
		ipsec_sa_used(sav, plen);
		*mp = m;
		return (0);
	}
	oaf = saidx->dst.sa.sa_family;
	olen = oaf == AF_INET ? IP_HDRLEN : IP6_HDRLEN;
	M_PREPEND(m, olen, M_NOWAIT);
	if (m == NULL)
		return (ENOBUFS);
	ip = mtod(m, uint8_t *);
	len = (size_t)m->m_pkthdr.len;
	memset(ip, 0, olen);
	if (oaf == AF_INET) {
		ip[0] = 0x45;
		ip[1] = tos;
		ipsec_wr16(ip + 4, (uint16_t)arc4random());
		if (ipsec_dfbit == 1 || (ipsec_dfbit == 2 && df))
			ipsec_wr16(ip + 6, IP_DF);
		ip[8] = 64;
		ip[9] = pi->af == AF_INET ? IPPROTO_IPV4_ : IPPROTO_IPV6_;
		memcpy(ip + 12, &saidx->src.sin.sin_addr, 4);
		memcpy(ip + 16, &saidx->dst.sin.sin_addr, 4);
		ipsec_ip4_finish(ip, len);
	} else {
		ip[0] = 0x60 | (tos >> 4);
		ip[1] = (uint8_t)(tos << 4);
		ipsec_wr16(ip + 4, (uint16_t)(len - IP6_HDRLEN));
		ip[6] = pi->af == AF_INET ? IPPROTO_IPV4_ : IPPROTO_IPV6_;
		ip[7] = 64;
		memcpy(ip + 8, &saidx->src.sin6.sin6_addr, 16);
		memcpy(ip + 24, &saidx->dst.sin6.sin6_addr, 16);
	}
	error = ah_output(sav, &m, (int)olen, oaf);
	if (error != 0)
		return (error);
	ipsec_sa_used(sav, plen);
	*mp = m;
	return (0);
}

/*
 * ESP or AH output for one packet (*mp, parsed into *pi), SA and
 * request's SA index (whose addresses are the tunnel endpoints in tunnel
 * mode): transport mode keeps the IP header and protects what follows
 * it; tunnel mode protects the whole packet and puts a new header in
 * front (RFC 4301 §5.1.2: TTL 64, DSCP and ECN copied, DF per
 * net.inet.ipsec.dfbit).  *mp becomes the protected packet, or NULL
 * (freed) with an errno.  SAHTREE_RLOCK held.
 */
static int
ipsec_encap(struct secasvar *sav, const struct secasindex *saidx,
    const struct ipsec_pkt *pi, struct mbuf **mp)
{
	uint8_t hdr[60], *ip, tos;
	const uint8_t *p;
	struct mbuf *m;
	size_t plen, olen, len;
	int error, nxt, tunnel, oaf, df;

	/* The request decides, as FreeBSD: an SA of mode any does both. */
	tunnel = saidx->mode == IPSEC_MODE_TUNNEL;
	m = *mp;
	*mp = NULL;
	if (!tunnel && pi->v6ext) {
		m_freem(m);
		IPSECSTAT_INC(ips_out_inval);
		return (EINVAL);
	}
	/* The IP header is contiguous (ipsec_parse()). */
	ipsec_trim(m, pi->len);
	p = mtod(m, const uint8_t *);
	tos = pi->af == AF_INET ? p[1] : (uint8_t)((p[0] << 4) | (p[1] >> 4));
	df = pi->af == AF_INET && (ipsec_rd16(p + 6) & IP_DF);
	if (saidx->proto == IPPROTO_AH) {
		*mp = m;
		return (ipsec_ah_encap(sav, saidx, pi, mp, tunnel, tos, df));
	}
	if (!tunnel) {
		/* ESP goes between the header and what it carries. */
		memcpy(hdr, p, pi->hlen);
		m_adj(m, (int)pi->hlen);
	}
	plen = (size_t)m->m_pkthdr.len;
	nxt = tunnel ? (pi->af == AF_INET ? IPPROTO_IPV4_ : IPPROTO_IPV6_) :
	    pi->proto;
	error = esp_output(sav, &m, nxt);
	if (error != 0)
		return (error);
	ipsec_sa_used(sav, plen);
	if (sav->natt != NULL) {
		/*
		 * RFC 3948: a UDP header with the SA's ports (network order,
		 * sport for packets from the SA's source) before ESP; the
		 * checksum is 0 for IPv4 and filled in below for IPv6.
		 */
		M_PREPEND(m, 8, M_NOWAIT);
		if (m == NULL)
			return (ENOBUFS);
		ip = mtod(m, uint8_t *);
		memcpy(ip, &sav->natt->sport, 2);
		memcpy(ip + 2, &sav->natt->dport, 2);
		ipsec_wr16(ip + 4, (uint16_t)m->m_pkthdr.len);
		ip[6] = ip[7] = 0;
	}

	if (!tunnel) {
		M_PREPEND(m, pi->hlen, M_NOWAIT);
		if (m == NULL)
			return (ENOBUFS);
		ip = mtod(m, uint8_t *);
		memcpy(ip, hdr, pi->hlen);
		len = (size_t)m->m_pkthdr.len;
		if (pi->af == AF_INET) {
			ip[9] = sav->natt ? IPPROTO_UDP : IPPROTO_ESP;
			ipsec_ip4_finish(ip, len);
		} else {
			ip[6] = sav->natt ? IPPROTO_UDP : IPPROTO_ESP;
			ipsec_wr16(ip + 4, (uint16_t)(len - IP6_HDRLEN));
			if (sav->natt != NULL && ipsec_l4_cksum_m(&m,
			    pi->hlen, AF_INET6, IPPROTO_UDP) != 0)
				return (ENOBUFS);
		}
		*mp = m;
		return (0);
	}

	oaf = saidx->dst.sa.sa_family;
	olen = oaf == AF_INET ? IP_HDRLEN : IP6_HDRLEN;
	M_PREPEND(m, olen, M_NOWAIT);
	if (m == NULL)
		return (ENOBUFS);
	ip = mtod(m, uint8_t *);
	len = (size_t)m->m_pkthdr.len;
	memset(ip, 0, olen);
	if (oaf == AF_INET) {
		ip[0] = 0x45;
		ip[1] = tos;
		ipsec_wr16(ip + 4, (uint16_t)arc4random());
		if (ipsec_dfbit == 1 || (ipsec_dfbit == 2 && df))
			ipsec_wr16(ip + 6, IP_DF);
		ip[8] = 64;
		ip[9] = sav->natt ? IPPROTO_UDP : IPPROTO_ESP;
		memcpy(ip + 12, &saidx->src.sin.sin_addr, 4);
		memcpy(ip + 16, &saidx->dst.sin.sin_addr, 4);
		ipsec_ip4_finish(ip, len);
	} else {
		ip[0] = 0x60 | (tos >> 4);
		ip[1] = (uint8_t)(tos << 4);
		ipsec_wr16(ip + 4, (uint16_t)(len - IP6_HDRLEN));
		ip[6] = sav->natt ? IPPROTO_UDP : IPPROTO_ESP;
		ip[7] = 64;
		memcpy(ip + 8, &saidx->src.sin6.sin6_addr, 16);
		memcpy(ip + 24, &saidx->dst.sin6.sin6_addr, 16);
		if (sav->natt != NULL && ipsec_l4_cksum_m(&m, olen, AF_INET6,
		    IPPROTO_UDP) != 0)
			return (ENOBUFS);
	}
	*mp = m;
	return (0);
}

/*
 * Held packets.  One list, in arrival order; each entry knows the SA index
 * it waits for, so the bound per pending ACQUIRE is a count over the list
 * (at most net.inet.ipsec.acq_hold_total entries).
 */
struct ipsec_held {
	TAILQ_ENTRY(ipsec_held)	link;
	LIST_ENTRY(ipsec_held)	hash;		/* ipsec_heldhash */
	struct secasindex	saidx;
	uint64_t		cookie;
	int			where;
	time_t			since;
	struct mbuf		*m;		/* the packet */
};

static TAILQ_HEAD(, ipsec_held) ipsec_heldq =
    TAILQ_HEAD_INITIALIZER(ipsec_heldq);
static u_int ipsec_nheld;
/*
 * The same by SA index (key_saidx_hash()): an SA added kicks only the
 * packets it may serve, and a packet counts only its own index's.
 */
#define	IPSEC_HOLD_NHASH	1024		/* a power of two */
static LIST_HEAD(, ipsec_held) ipsec_heldhash[IPSEC_HOLD_NHASH];
#define	IPSEC_HELDHASH(saidx)	(&ipsec_heldhash[key_saidx_hash(saidx) & \
				    (IPSEC_HOLD_NHASH - 1)])
static struct mtx ipsec_hold_mtx;
static int ipsec_hold_inited;
static ipsec_release_t *ipsec_release;
static void *ipsec_release_arg;

static void
ipsec_hold_init(void)
{

	/* Set up once, by the first ipsec_hook_setrelease(). */
	if (!ipsec_hold_inited) {
		mtx_init(&ipsec_hold_mtx, "ipsec_hold", NULL, MTX_DEF);
		ipsec_hold_inited = 1;
	}
	ipsec_reass_init();
}

void
ipsec_hook_setrelease(ipsec_release_t *fn, void *arg)
{

	ipsec_hold_init();
	mtx_lock(&ipsec_hold_mtx);
	ipsec_release = fn;
	ipsec_release_arg = arg;
	mtx_unlock(&ipsec_hold_mtx);
}

static int
ipsec_saidx_eq(const struct secasindex *a, const struct secasindex *b)
{

	return (a->proto == b->proto && a->mode == b->mode &&
	    a->reqid == b->reqid &&
	    memcmp(&a->src, &b->src, sizeof(a->src)) == 0 &&
	    memcmp(&a->dst, &b->dst, sizeof(a->dst)) == 0);
}

/*
 * Keep a packet for later: 0 when it is kept (the caller then says
 * IPSEC_HOOK_HELD), else an errno and the caller still has it.
 */
static int
ipsec_hold(const struct secasindex *saidx, struct mbuf *m, uint64_t cookie,
    int where)
{
	struct ipsec_held *h, *e;
	u_int n;

	if (!ipsec_hold_inited || ipsec_acq_hold == 0)
		return (EAGAIN);
	h = malloc(sizeof(*h), M_IPSEC_HOLD, M_NOWAIT);
	if (h == NULL)
		return (ENOBUFS);
	h->saidx = *saidx;
	h->cookie = cookie;
	h->where = where;
	h->since = time_uptime;
	h->m = m;
	mtx_lock(&ipsec_hold_mtx);
	/*
	 * An UPDATE/ADD may have made the SA between the caller's lookup
	 * and here, its ipsec_hold_kick() finding nothing to send: look
	 * again under the hold lock (which the kick takes too), so that no
	 * packet waits for a kick that already happened.
	 */
	SAHTREE_RLOCK();
	n = key_allocsa_policy(saidx) != NULL;
	SAHTREE_RUNLOCK();
	if (n) {
		mtx_unlock(&ipsec_hold_mtx);
		free(h, M_IPSEC_HOLD);
		return (EEXIST);
	}
	n = 0;
	LIST_FOREACH(e, IPSEC_HELDHASH(saidx), hash)
		if (ipsec_saidx_eq(&e->saidx, saidx))
			n++;
	if (ipsec_release == NULL || n >= ipsec_acq_hold ||
	    ipsec_nheld >= ipsec_acq_hold_total) {
		mtx_unlock(&ipsec_hold_mtx);
		free(h, M_IPSEC_HOLD);
		return (ENOBUFS);
	}
	TAILQ_INSERT_TAIL(&ipsec_heldq, h, link);
	LIST_INSERT_HEAD(IPSEC_HELDHASH(saidx), h, hash);
	ipsec_nheld++;
	mtx_unlock(&ipsec_hold_mtx);
	IPSECSTAT_INC(ips_out_hold);
	return (0);
}

static int ipsec_output(int where, struct mbuf **mp, uint64_t cookie,
    int canhold);

/*
 * Send the packets that may go: those whose SA index has an SA now (in
 * arrival order), only those that an SA of kick's index may serve (its
 * protocol and addresses), or, with "expire", those that waited too
 * long (drop).
 */
static void
ipsec_hold_run(int expire, time_t now, const struct secasindex *kick)
{
	TAILQ_HEAD(, ipsec_held) ready;
	struct ipsec_held *h, *next, *hnext;
	ipsec_release_t *fn;
	struct mbuf *m;
	void *arg;
	int v, avail;

	if (!ipsec_hold_inited)
		return;
	TAILQ_INIT(&ready);
	mtx_lock(&ipsec_hold_mtx);
	fn = ipsec_release;
	arg = ipsec_release_arg;
	TAILQ_FOREACH_SAFE(h, &ipsec_heldq, link, next) {
		if (kick != NULL)
			break;		/* by its hash chain, below */
		if (expire)
			avail = now - h->since > (time_t)key_blockacq_lifetime;
		else {
			SAHTREE_RLOCK();
			avail = key_allocsa_policy(&h->saidx) != NULL;
			SAHTREE_RUNLOCK();
		}
		if (!avail)
			continue;
		TAILQ_REMOVE(&ipsec_heldq, h, link);
		LIST_REMOVE(h, hash);
		ipsec_nheld--;
		TAILQ_INSERT_TAIL(&ready, h, link);
	}
	/* The chain is newest first: taken in arrival order. */
	if (kick != NULL) {
		LIST_FOREACH_SAFE(h, IPSEC_HELDHASH(kick), hash, hnext) {
			SAHTREE_RLOCK();
			avail = key_allocsa_policy(&h->saidx) != NULL;
			SAHTREE_RUNLOCK();
			if (!avail)
				continue;
			TAILQ_REMOVE(&ipsec_heldq, h, link);
			LIST_REMOVE(h, hash);
			ipsec_nheld--;
			TAILQ_INSERT_HEAD(&ready, h, link);
		}
	}
	mtx_unlock(&ipsec_hold_mtx);

	while ((h = TAILQ_FIRST(&ready)) != NULL) {
		TAILQ_REMOVE(&ready, h, link);
		m = h->m;
		if (expire) {
			v = ipsec_drop(&m);
			IPSECSTAT_INC(ips_out_holdexp);
		} else
			v = ipsec_output(h->where, &m, h->cookie, 0);
		/* Passed: the policy changed meanwhile; sent as it was. */
		if ((v == IPSEC_HOOK_PASS || v == IPSEC_HOOK_REPLACE) &&
		    m != NULL)
			fn(arg, h->cookie, IPSEC_HOOK_REPLACE, m);
		else {
			(void)ipsec_drop(&m);
			fn(arg, h->cookie, IPSEC_HOOK_DROP, NULL);
		}
		free(h, M_IPSEC_HOLD);
	}
}

void
ipsec_hold_kick(const struct secasindex *saidx)
{

	ipsec_hold_run(0, 0, saidx);
}

void
ipsec_hold_timer(time_t now)
{

	ipsec_hold_run(1, now, NULL);
}

void
ipsec_hold_flush(void)
{

	/* Everything is older than "forever from now". */
	ipsec_hold_run(1, time_uptime + (time_t)key_blockacq_lifetime + 1,
	    NULL);
	ipsec_reass_flush();
}

/*
 * Outbound (and forwarded) packets: FreeBSD's ipsec4_checkpolicy() and
 * ipsec4_perform_request() for the first request of the policy.
 */
static int
ipsec_output(int where, struct mbuf **mp, uint64_t cookie, int canhold)
{
	struct ipsecrequest isr;
	struct secasindex saidx;
	struct secpolicy *sp;
	struct secasvar *sav;
	struct ipsec_pkt pi;
	const uint8_t *p;
	uint8_t *q, *copy;
	uint32_t spid;
	u_int level, tcount, policy, mtu;
	int error, error2, tries;

	IPSECSTAT_INC(ips_out_total);
	error = ipsec_parse(mp, where == IPSEC_HOOK_OUT, &pi);
	if (error == ENOBUFS) {
		IPSECSTAT_INC(ips_nomem);
		return (IPSEC_HOOK_DROP);
	}
	if (error != 0) {
		IPSECSTAT_INC(ips_out_inval);
		return (IPSEC_HOOK_PASS);	/* not IP: not ours */
	}
	pi.spidx.dir = IPSEC_DIR_OUTBOUND;
	p = mtod(*mp, const uint8_t *);		/* the IP header */

	SPTREE_RLOCK();
	sp = ipsec_getpolicy(where, &pi.spidx);
	if (sp == NULL) {
		SPTREE_RUNLOCK();
		return (IPSEC_HOOK_PASS);	/* def_policy none */
	}
	sp->lastused = time_uptime;
	policy = sp->policy;
	spid = sp->id;
	tcount = sp->tcount;
	if (tcount > 0)
		isr = *sp->req[0];
	SPTREE_RUNLOCK();

	switch (policy) {
	case IPSEC_POLICY_DISCARD:
		IPSECSTAT_INC(ips_out_polvio);
		return (ipsec_drop(mp));
	case IPSEC_POLICY_IPSEC:
		break;
	default:
		return (IPSEC_HOOK_PASS);
	}
	if (tcount != 1 || (isr.saidx.proto != IPPROTO_ESP &&
	    isr.saidx.proto != IPPROTO_AH)) {
		IPSECSTAT_INC(ips_out_bundlesa);
		return (ipsec_drop(mp));
	}

	/* The SA index: transport mode takes the packet's addresses. */
	level = ipsec_level(&isr);
	saidx = isr.saidx;
	if (saidx.src.sa.sa_family == 0)
		memcpy(&saidx.src, &pi.spidx.src, sizeof(saidx.src));
	if (saidx.dst.sa.sa_family == 0)
		memcpy(&saidx.dst, &pi.spidx.dst, sizeof(saidx.dst));
	saidx.src.sin.sin_port = saidx.dst.sin.sin_port = 0;
	if (level != IPSEC_LEVEL_UNIQUE)
		saidx.reqid = 0;

	mtu = ipsec_pmtu_get(where, &saidx, p, pi.af);
	tries = 0;
 again:
	SAHTREE_RLOCK();
	sav = key_allocsa_policy(&saidx);
	if (sav != NULL) {
		mtu = ipsec_pmtu_check(mtu, sav, &saidx, pi.len, pi.af);
		if (mtu != 0) {
			SAHTREE_RUNLOCK();
			IPSECSTAT_INC(ips_out_toobig);
			/* The ICMP error quotes the packet. */
			q = ipsec_flat(*mp, pi.len, &copy);
			if (q != NULL && ipsec_pmtu_icmp(where, &saidx, q,
			    pi.len, pi.af, mtu) == 0)
				IPSECSTAT_INC(ips_out_icmp);
			ipsec_unflat(copy, pi.len);
			return (ipsec_drop(mp));
		}
		error = ipsec_encap(sav, &saidx, &pi, mp);
		SAHTREE_RUNLOCK();
		if (error != 0) {
			IPSECSTAT_INC(ips_out_inval);
			return (IPSEC_HOOK_DROP);
		}
		if (saidx.proto == IPPROTO_AH)
			IPSECSTAT_INC(ips_out_ah);
		else
			IPSECSTAT_INC(ips_out_esp);
		return (ipsec_deliver(mp, pi.af, 0));
	}
	SAHTREE_RUNLOCK();

	/* No SA: ask for one, and keep the packet while it comes. */
	IPSECSTAT_INC(ips_out_nosa);
	error = key_acquire_spid(spid, &pi.spidx.src.sa, &pi.spidx.dst.sa);
	if (error != 0 && error != EAGAIN)
		IPSECSTAT_INC(ips_out_acqfail);
	if (level == IPSEC_LEVEL_USE)
		return (IPSEC_HOOK_PASS);	/* in clear, as FreeBSD */
	if (canhold) {
		error2 = ipsec_hold(&saidx, *mp, cookie, where);
		if (error2 == 0) {
			*mp = NULL;
			return (IPSEC_HOOK_HELD);
		}
		if (error2 == EEXIST && tries++ == 0)
			goto again;	/* the SA came meanwhile */
		IPSECSTAT_INC(ips_out_holddrop);
	}
	return (ipsec_drop(mp));
}

static int
ipsec_addr_eq(const union sockaddr_union *a, const union sockaddr_union *b)
{

	if (a->sa.sa_family != b->sa.sa_family)
		return (0);
	if (a->sa.sa_family == AF_INET6)
		return (memcmp(&a->sin6.sin6_addr, &b->sin6.sin6_addr,
		    sizeof(a->sin6.sin6_addr)) == 0);
	return (a->sin.sin_addr.s_addr == b->sin.sin_addr.s_addr);
}

/*
 * Does request "isr" name the SA "sav" that a packet came through
 * ("tunnel": the SA carried a whole packet)?  RFC 4301 section 5.2: its
 * protocol, its mode (unless the SA's is any), the tunnel's endpoints
 * when the request gives them, and at level unique its reqid.
 */
static int
ipsec_req_names(const struct ipsecrequest *isr, const struct secasvar *sav,
    int tunnel)
{
	const struct secasindex *saidx;

	saidx = &sav->sah->saidx;
	if (isr->saidx.proto != saidx->proto)
		return (0);
	if (isr->saidx.mode != (tunnel ? IPSEC_MODE_TUNNEL :
	    IPSEC_MODE_TRANSPORT))
		return (0);
	if (saidx->mode != IPSEC_MODE_ANY && saidx->mode != isr->saidx.mode)
		return (0);
	if (isr->saidx.src.sa.sa_family != 0 &&
	    (!ipsec_addr_eq(&isr->saidx.src, &saidx->src) ||
	    !ipsec_addr_eq(&isr->saidx.dst, &saidx->dst)))
		return (0);
	if (ipsec_level(isr) == IPSEC_LEVEL_UNIQUE &&
	    isr->saidx.reqid != saidx->reqid)
		return (0);
	return (1);
}

/* Why an inbound packet is refused (ipsec_in_reject()). */
#define	IPSEC_IN_OK		0
#define	IPSEC_IN_POLVIO		1	/* its policy refuses it */
#define	IPSEC_IN_SACHECK	2	/* not through an SA its policy names */

/*
 * Inbound, FreeBSD's ipsec4_in_reject() with RFC 4301 section 5.2's
 * check.  "spidx" is the packet's selector (the inner packet's, after a
 * tunnel).  In clear ("sav" NULL): a discard policy, or an IPsec policy
 * whose requests are not all at level use, refuses it.  Through SA
 * "sav": the policy must be IPsec and one of its requests must name
 * that SA; but a packet whose policy lets it in clear may also come
 * through a transport-mode SA, as on FreeBSD and Linux.  A tunnel SA is
 * never a way around the policy of the packets it carries, and a
 * transport SA carries only packets between its own two addresses
 * ("osrc" and "odst" are the packet's outer ones).
 */
static int
ipsec_in_reject(const struct secpolicyindex *spidx, const struct secasvar *sav,
    int tunnel, const struct secpolicyindex *outer)
{
	struct secpolicy *sp;
	u_int i;
	int verdict;

	if (sav != NULL && !tunnel &&
	    (!ipsec_addr_eq(&sav->sah->saidx.src, &outer->src) ||
	    !ipsec_addr_eq(&sav->sah->saidx.dst, &outer->dst)))
		return (IPSEC_IN_SACHECK);
	SPTREE_RLOCK();
	sp = ipsec_getpolicy(IPSEC_HOOK_IN, spidx);
	verdict = IPSEC_IN_OK;
	if (sp == NULL) {
		if (sav != NULL && tunnel)
			verdict = IPSEC_IN_SACHECK;
	} else {
		sp->lastused = time_uptime;
		switch (sp->policy) {
		case IPSEC_POLICY_DISCARD:
			verdict = IPSEC_IN_POLVIO;
			break;
		case IPSEC_POLICY_IPSEC:
			if (sav == NULL) {
				for (i = 0; i < sp->tcount; i++)
					if (ipsec_level(sp->req[i]) !=
					    IPSEC_LEVEL_USE)
						verdict = IPSEC_IN_POLVIO;
				break;
			}
			verdict = IPSEC_IN_SACHECK;
			for (i = 0; i < sp->tcount; i++)
				if (ipsec_req_names(sp->req[i], sav, tunnel))
					verdict = IPSEC_IN_OK;
			break;
		default:
			/* None or bypass: a socket's bypass takes both. */
			if (sav != NULL && tunnel &&
			    sp->state != IPSEC_SPSTATE_PCB)
				verdict = IPSEC_IN_SACHECK;
			break;
		}
	}
	SPTREE_RUNLOCK();
	return (verdict);
}

static int
ipsec_in_drop(int verdict)
{

	if (verdict == IPSEC_IN_SACHECK)
		IPSECSTAT_INC(ips_in_sacheck);
	else
		IPSECSTAT_INC(ips_in_polvio);
	return (IPSEC_HOOK_DROP);
}

/*
 * Inbound: ESP (and ESP in UDP) is decapsulated; everything else is held
 * against the inbound policy.
 */
static int
ipsec_input_one(struct mbuf **mp)
{
	struct ipsec_pkt pi, ipi;
	union sockaddr_union dst;
	struct secasvar *sav;
	struct mbuf *m;
	const uint8_t *p;
	uint8_t hdr[60], *ip;
	uint32_t spi;
	size_t espoff, len;
	int error, nxt, tunnel, v, proto;

	if ((error = ipsec_parse(mp, 1, &pi)) != 0) {
		if (error == ENOBUFS)
			IPSECSTAT_INC(ips_nomem);
		else
			IPSECSTAT_INC(ips_in_inval);
		return (ipsec_drop(mp));
	}
	pi.spidx.dir = IPSEC_DIR_INBOUND;
	/* The IP header (ipsec_parse()); the upper layer's start in ulpb. */
	p = mtod(*mp, const uint8_t *);
	espoff = 0;
	proto = IPPROTO_ESP;
	if (pi.proto == IPPROTO_ESP)
		espoff = pi.ulp;
	else if (pi.proto == IPPROTO_AH) {
		espoff = pi.ulp;
		proto = IPPROTO_AH;
	} else if (pi.proto == IPPROTO_UDP && pi.ulp + 12 <= pi.len &&
	    ipsec_rd16(pi.ulpb + 2) == NATT_PORT &&
	    memcmp(pi.ulpb + 8, "\0\0\0\0", 4) != 0)
		espoff = pi.ulp + 8;	/* RFC 3948: ESP in UDP */

	if (espoff == 0) {
		/*
		 * In clear, IKE's (a zero marker or a keepalive on 4500)
		 * as everything else: only the IKE daemon's sockets take it
		 * past a policy, by their bypass.
		 */
		if ((v = ipsec_in_reject(&pi.spidx, NULL, 0, NULL)) !=
		    IPSEC_IN_OK) {
			(void)ipsec_drop(mp);
			return (ipsec_in_drop(v));
		}
		return (IPSEC_HOOK_PASS);
	}

	/*
	 * ESP's SPI at its start, AH's after 4 bytes; AH here follows a
	 * plain IP header (its ICV covers what comes before it).
	 */
	if (espoff + (proto == IPPROTO_AH ? AH_HDRLEN : ESP_HDRLEN) >
	    pi.len || (proto == IPPROTO_AH && pi.v6ext)) {
		IPSECSTAT_INC(ips_in_inval);
		return (ipsec_drop(mp));
	}
	memcpy(&spi, pi.ulpb + (espoff - pi.ulp) +
	    (proto == IPPROTO_AH ? 4 : 0), 4);
	dst = pi.spidx.dst;
	dst.sin.sin_port = 0;
	/* The IP header, kept for transport mode; ESP is the packet now. */
	memcpy(hdr, p, pi.hlen);
	m = *mp;
	*mp = NULL;
	ipsec_trim(m, pi.len);
	if (proto == IPPROTO_ESP)
		m_adj(m, (int)espoff);

	SAHTREE_RLOCK();
	sav = key_allocsa(&dst, proto, spi);
	if (sav == NULL || (espoff != pi.ulp && sav->natt == NULL)) {
		SAHTREE_RUNLOCK();
		m_freem(m);
		IPSECSTAT_INC(ips_in_nosa);
		return (IPSEC_HOOK_DROP);
	}
	if (proto == IPPROTO_AH)
		error = ah_input(sav, &m, (int)pi.hlen, pi.af, &nxt);
	else
		error = esp_input(sav, &m, &nxt);
	if (error != 0) {
		SAHTREE_RUNLOCK();
		if (proto == IPPROTO_AH)
			IPSECSTAT_INC(ips_in_ahfail);
		else
			IPSECSTAT_INC(ips_in_espfail);
		return (IPSEC_HOOK_DROP);
	}
	ipsec_sa_used(sav, (size_t)m->m_pkthdr.len);
	tunnel = (nxt == IPPROTO_IPV4_ || nxt == IPPROTO_IPV6_) &&
	    sav->sah->saidx.mode != IPSEC_MODE_TRANSPORT;

	if (tunnel) {
		/* The inner packet is the packet now. */
		if (ipsec_parse(&m, 1, &ipi) != 0 ||
		    (ipi.af == AF_INET) != (nxt == IPPROTO_IPV4_)) {
			SAHTREE_RUNLOCK();
			(void)ipsec_drop(&m);
			IPSECSTAT_INC(ips_in_inval);
			return (IPSEC_HOOK_DROP);
		}
		ipsec_trim(m, ipi.len);	/* the padding of the tunnel */
	} else {
		if (pi.v6ext) {
			/* Transport mode here: only plain IP headers. */
			SAHTREE_RUNLOCK();
			m_freem(m);
			IPSECSTAT_INC(ips_in_inval);
			return (IPSEC_HOOK_DROP);
		}
		M_PREPEND(m, pi.hlen, M_NOWAIT);
		if (m == NULL) {
			SAHTREE_RUNLOCK();
			return (IPSEC_HOOK_DROP);
		}
		ip = mtod(m, uint8_t *);
		memcpy(ip, hdr, pi.hlen);
		len = (size_t)m->m_pkthdr.len;
		if (pi.af == AF_INET) {
			ip[9] = (uint8_t)nxt;
			ipsec_ip4_finish(ip, len);
		} else {
			ip[6] = (uint8_t)nxt;
			ipsec_wr16(ip + 4, (uint16_t)(len - IP6_HDRLEN));
		}
		/*
		 * NAT-T transport mode (RFC 3948 §3.1.2): a NAT changed the
		 * addresses the TCP or UDP checksum covers.  ESP has already
		 * authenticated the payload, so recompute it over the
		 * addresses the packet has now (FreeBSD's natt_cksum_policy
		 * 1 trusts it; this leaves a checksum that is right).
		 */
		if ((sav->natt != NULL && ipsec_l4_cksum_m(&m, pi.hlen, pi.af,
		    (uint8_t)nxt) != 0) || ipsec_parse(&m, 1, &ipi) != 0) {
			SAHTREE_RUNLOCK();
			(void)ipsec_drop(&m);
			IPSECSTAT_INC(ips_in_inval);
			return (IPSEC_HOOK_DROP);
		}
	}
	/*
	 * What came out must be what the policy wanted protected, by this
	 * SA (RFC 4301 section 5.2).
	 */
	ipi.spidx.dir = IPSEC_DIR_INBOUND;
	v = ipsec_in_reject(&ipi.spidx, sav, tunnel, &pi.spidx);
	SAHTREE_RUNLOCK();
	if (v != IPSEC_IN_OK) {
		m_freem(m);
		return (ipsec_in_drop(v));
	}
	if (proto == IPPROTO_AH)
		IPSECSTAT_INC(ips_in_ah);
	else
		IPSECSTAT_INC(ips_in_esp);
	*mp = m;
	return (ipsec_deliver(mp, pi.af, 1));
}

/*
 * A fragment for this host: reassembled whatever it carries, as the host
 * reassembles it before its sockets (and FreeBSD before ipsec4_in_reject()).
 */
static int
ipsec_frag_forus(const uint8_t *p, size_t len)
{
	union sockaddr_union su;

	memset(&su, 0, sizeof(su));
	if (len >= IP_HDRLEN && p[0] >> 4 == 4) {
		if ((ipsec_rd16(p + 6) & (IP_MF | IP_OFFMASK)) == 0)
			return (0);
		su.sin.sin_family = AF_INET;
		memcpy(&su.sin.sin_addr, p + 16, 4);
	} else if (len >= IP6_HDRLEN + 8 && p[0] >> 4 == 6 && p[6] == 44) {
		su.sin6.sin6_family = AF_INET6;
		memcpy(&su.sin6.sin6_addr, p + 24, 16);
	} else
		return (0);
	return (ipsec_islocal(&su));
}

/*
 * Is this (its first bytes, of len in all) a fragment that ipsec_reass()
 * may take: IPv4 with MF or an offset, IPv6 with a Fragment header next?
 */
static int
ipsec_isfrag(const uint8_t *p, size_t len)
{

	if (len >= IP_HDRLEN && p[0] >> 4 == 4)
		return ((ipsec_rd16(p + 6) & (IP_MF | IP_OFFMASK)) != 0);
	return (len >= IP6_HDRLEN + 8 && p[0] >> 4 == 6 && p[6] == 44);
}

/*
 * Inbound, fragments first (ipsec_reass.c): ESP, and every datagram for
 * this host, is reassembled; the fragment that completes a datagram is
 * replaced by what comes out of it, the whole datagram when it passes in
 * clear.
 */
static int
ipsec_input(struct mbuf **mp)
{
	const uint8_t *p;
	uint8_t *whole, *copy;
	size_t len, wlen;
	int r, v;

	IPSECSTAT_INC(ips_in_total);
	len = (size_t)(*mp)->m_pkthdr.len;
	if (len == 0) {
		IPSECSTAT_INC(ips_in_inval);
		return (ipsec_drop(mp));
	}
	if ((p = ipsec_pull(mp, MIN(len, (size_t)IP6_HDRLEN + 8))) == NULL) {
		IPSECSTAT_INC(ips_nomem);
		return (IPSEC_HOOK_DROP);
	}
	if (!ipsec_isfrag(p, len))
		return (ipsec_input_one(mp));
	/* A fragment is kept whole, out of its mbufs. */
	if ((p = ipsec_flat(*mp, len, &copy)) == NULL) {
		IPSECSTAT_INC(ips_nomem);
		return (ipsec_drop(mp));
	}
	r = ipsec_reass(p, len, ipsec_frag_forus(p, len), &whole, &wlen);
	ipsec_unflat(copy, len);
	switch (r) {
	case IPSEC_REASS_NONE:
		return (ipsec_input_one(mp));
	case IPSEC_REASS_KEPT:
		IPSECSTAT_INC(ips_in_frag);
		return (ipsec_drop(mp));
	case IPSEC_REASS_DONE:
		IPSECSTAT_INC(ips_in_frag);
		IPSECSTAT_INC(ips_in_reass);
		(void)ipsec_drop(mp);
		*mp = m_devget((char *)whole, (int)wlen, 0, NULL, NULL);
		explicit_bzero(whole, wlen);
		ipsec_hook_free(whole);
		if (*mp == NULL) {
			IPSECSTAT_INC(ips_nomem);
			return (IPSEC_HOOK_DROP);
		}
		v = ipsec_input_one(mp);
		/* Never the last fragment alone: all of it. */
		return (v == IPSEC_HOOK_PASS ? IPSEC_HOOK_REPLACE : v);
	}
	IPSECSTAT_INC(ips_in_fragdrop);
	return (ipsec_drop(mp));
}

int
ipsec_hook(int where, struct mbuf **mp, uint64_t cookie)
{

	if (*mp == NULL)
		return (IPSEC_HOOK_DROP);
	KASSERT((*mp)->m_flags & M_PKTHDR, ("ipsec_hook: no packet header"));
	switch (where) {
	case IPSEC_HOOK_OUT:
	case IPSEC_HOOK_FWD:
		return (ipsec_output(where, mp, cookie, 1));
	case IPSEC_HOOK_IN:
		return (ipsec_input(mp));
	}
	return (IPSEC_HOOK_PASS);
}

void
ipsec_getstat(struct ipsecstat *st)
{

	PCPUSTAT_FETCH(struct ipsecstat, ipsecstat, st);
	st->ips_held_now = ipsec_nheld;
}

void
ipsec_getahstat(struct ahstat *st)
{

	ah_getstat(st);
}

void
ipsec_getespstat(struct espstat *st)
{

	esp_getstat(st);
}
