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
#include <netipsec/ipcomp.h>
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
	int			v6frag;	/* ... a Fragment header among them */
	size_t			nhoff;	/* the byte naming the upper layer */
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

/*
 * In an IPv6 header with extension headers, "skip" bytes in all at ip:
 * the offset of the byte that names what follows them (6 without any);
 * -1 unless they are hop-by-hop, routing and destination options headers
 * that end exactly at skip.
 */
int
ipsec_v6_nhoff(const uint8_t *ip, int skip)
{
	int off, nhoff;
	uint8_t nh;

	nhoff = 6;
	nh = ip[6];
	for (off = IP6_HDRLEN; off < skip; off += (ip[off + 1] + 1) * 8) {
		if ((nh != 0 && nh != 43 && nh != 60) || off + 8 > skip)
			return (-1);
		nhoff = off;
		nh = ip[off];
	}
	return (off == skip ? nhoff : -1);
}

/*
 * A transport-mode header (and IPv6 extension headers) put back in front
 * of a packet now "len" bytes long: the byte at nhoff names proto, the
 * lengths and IPv4's checksum are updated.
 */
static void
ipsec_hdr_finish(uint8_t *ip, size_t nhoff, uint8_t proto, size_t len,
    int af)
{

	ip[nhoff] = proto;
	if (af == AF_INET)
		ipsec_ip4_finish(ip, len);
	else
		ipsec_wr16(ip + 4, (uint16_t)(len - IP6_HDRLEN));
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
		pi->nhoff = 9;
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
		pi->nhoff = 6;
		for (;;) {
			if (nxt != 0 && nxt != 43 && nxt != 60 && nxt != 44)
				break;
			pi->v6ext = 1;
			if (off + 8 > pi->len)
				return (EINVAL);
			pi->nhoff = off;
			/* Copied, not pulled up: there may be many. */
			m_copydata(*mp, (int)off, sizeof(eh), eh);
			if (nxt == 44) {
				pi->v6frag = 1;
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
 * A tunnel's outer header in front of *mp, carrying "proto" (RFC 4301
 * section 5.1.2: TTL 64, DSCP and ECN copied, DF per net.inet.ipsec.dfbit),
 * from the SA index's source to its destination.  Its length in *olenp.
 * ENOBUFS: *mp freed and NULL.
 */
static int
ipsec_outer(struct mbuf **mp, const struct secasindex *saidx, uint8_t proto,
    uint8_t tos, int df, size_t *olenp)
{
	uint8_t *ip;
	size_t olen, len;

	olen = saidx->dst.sa.sa_family == AF_INET ? IP_HDRLEN : IP6_HDRLEN;
	M_PREPEND(*mp, olen, M_NOWAIT);
	if (*mp == NULL)
		return (ENOBUFS);
	ip = mtod(*mp, uint8_t *);
	len = (size_t)(*mp)->m_pkthdr.len;
	memset(ip, 0, olen);
	if (saidx->dst.sa.sa_family == AF_INET) {
		ip[0] = 0x45;
		ip[1] = tos;
		ipsec_wr16(ip + 4, (uint16_t)arc4random());
		if (ipsec_dfbit == 1 || (ipsec_dfbit == 2 && df))
			ipsec_wr16(ip + 6, IP_DF);
		ip[8] = 64;
		ip[9] = proto;
		memcpy(ip + 12, &saidx->src.sin.sin_addr, 4);
		memcpy(ip + 16, &saidx->dst.sin.sin_addr, 4);
		ipsec_ip4_finish(ip, len);
	} else {
		ip[0] = 0x60 | (tos >> 4);
		ip[1] = (uint8_t)(tos << 4);
		ipsec_wr16(ip + 4, (uint16_t)(len - IP6_HDRLEN));
		ip[6] = proto;
		ip[7] = 64;
		memcpy(ip + 8, &saidx->src.sin6.sin6_addr, 16);
		memcpy(ip + 24, &saidx->dst.sin6.sin6_addr, 16);
	}
	*olenp = olen;
	return (0);
}

/*
 * AH and IPComp output: transport mode puts their header after the
 * packet's own, tunnel mode after a new one (the AH ICV covers it).
 */
static int
ipsec_hdr_encap(struct secasvar *sav, const struct secasindex *saidx,
    const struct ipsec_pkt *pi, struct mbuf **mp, int tunnel, uint8_t tos,
    int df)
{
	size_t plen, skip;
	int error, af;

	plen = (size_t)(*mp)->m_pkthdr.len - (tunnel ? 0 : pi->ulp);
	skip = pi->ulp;
	af = pi->af;
	if (tunnel) {
		error = ipsec_outer(mp, saidx, pi->af == AF_INET ?
		    IPPROTO_IPV4_ : IPPROTO_IPV6_, tos, df, &skip);
		if (error != 0)
			return (error);
		af = saidx->dst.sa.sa_family;
	}
	if (saidx->proto == IPPROTO_AH)
		error = ah_output(sav, mp, (int)skip, af);
	else
		error = ipcomp_output(sav, mp, (int)skip, af);
	if (error != 0)
		return (error);
	ipsec_sa_used(sav, plen);
	return (0);
}

/*
 * One request's transform for one packet (*mp, parsed into *pi), with its
 * SA and SA index (whose addresses are the tunnel endpoints in tunnel
 * mode): transport mode keeps the IP header and transforms what follows
 * it; tunnel mode transforms the whole packet and puts a new header in
 * front (ipsec_outer()).  *mp becomes the new packet, or NULL (freed)
 * with an errno.  SAHTREE_RLOCK held.
 */
static int
ipsec_encap(struct secasvar *sav, const struct secasindex *saidx,
    const struct ipsec_pkt *pi, struct mbuf **mp)
{
	uint8_t hdr[IPSEC_HDRMAX], *ip, tos;
	const uint8_t *p;
	struct mbuf *m;
	size_t plen, olen, len;
	int error, nxt, tunnel, df;

	/*
	 * The request decides, as FreeBSD: an SA of mode any does both.
	 * A transport request whose destination is not the packet's makes
	 * a tunnel too (the "proxy" case of FreeBSD's
	 * ipsec4_perform_request()): endpoints given to a transport
	 * request, as in ipcomp/tunnel/A-B/use esp/transport/A-B/require
	 * when the IPComp SA is not there (yet) and its request is skipped.
	 */
	tunnel = saidx->mode == IPSEC_MODE_TUNNEL ||
	    !ipsec_addr_eq(&saidx->dst, &pi->spidx.dst);
	m = *mp;
	*mp = NULL;
	/*
	 * Transport mode goes after the IPv6 extension headers (RFC 4303
	 * section 3.1.1 lets destination options go either side), not
	 * after a Fragment header: a fragment is protected whole, before.
	 */
	if (!tunnel && (pi->v6frag || pi->ulp > sizeof(hdr))) {
		m_freem(m);
		IPSECSTAT_INC(ips_out_inval);
		return (EINVAL);
	}
	/* The IP header is contiguous (ipsec_parse()). */
	ipsec_trim(m, pi->len);
	p = mtod(m, const uint8_t *);
	tos = pi->af == AF_INET ? p[1] : (uint8_t)((p[0] << 4) | (p[1] >> 4));
	df = pi->af == AF_INET && (ipsec_rd16(p + 6) & IP_DF);
	if (saidx->proto == IPPROTO_AH || saidx->proto == IPPROTO_IPCOMP) {
		*mp = m;
		return (ipsec_hdr_encap(sav, saidx, pi, mp, tunnel, tos, df));
	}
	if (!tunnel) {
		/* ESP goes between the headers and what they carry. */
		m_copydata(m, 0, (int)pi->ulp, hdr);
		m_adj(m, (int)pi->ulp);
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
		M_PREPEND(m, pi->ulp, M_NOWAIT);
		if (m == NULL)
			return (ENOBUFS);
		/* Contiguous (M_PREPEND), within MHLEN (IPSEC_HDRMAX). */
		ip = mtod(m, uint8_t *);
		memcpy(ip, hdr, pi->ulp);
		len = (size_t)m->m_pkthdr.len;
		ipsec_hdr_finish(ip, pi->nhoff, sav->natt ? IPPROTO_UDP :
		    IPPROTO_ESP, len, pi->af);
		if (pi->af == AF_INET6 && sav->natt != NULL &&
		    ipsec_l4_cksum_m(&m, pi->ulp, AF_INET6, IPPROTO_UDP) != 0)
			return (ENOBUFS);
		*mp = m;
		return (0);
	}

	error = ipsec_outer(&m, saidx, sav->natt ? IPPROTO_UDP : IPPROTO_ESP,
	    tos, df, &olen);
	if (error != 0)
		return (error);
	if (saidx->dst.sa.sa_family == AF_INET6 && sav->natt != NULL &&
	    ipsec_l4_cksum_m(&m, olen, AF_INET6, IPPROTO_UDP) != 0)
		return (ENOBUFS);
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
	u_int			ifindex;	/* IPSEC_HOOK_IF: its ipsecN */
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
    int where, u_int ifindex)
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
	h->ifindex = ifindex;
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

static int ipsec_output(int where, u_int ifindex, struct mbuf **mp,
    uint64_t cookie);

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
			v = ipsec_output(h->where, h->ifindex, &m, h->cookie);
		if (v == IPSEC_HOOK_HELD) {
			/* A bundle's next SA is missing: held again. */
			free(h, M_IPSEC_HOLD);
			continue;
		}
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

/* One request of an outbound policy, as ipsec_output() applies it. */
struct ipsec_outreq {
	u_int			idx;	/* in the policy */
	u_int			level;
	struct secasindex	saidx;
	struct secasvar		*sav;	/* NULL: none (level use: skipped) */
};

/*
 * Outbound (and forwarded) packets: FreeBSD's ipsec4_checkpolicy() and
 * ipsec4_perform_request() for each request of the policy (a bundle:
 * ipsec_process_done() going on with the next).  A packet routed into an
 * ipsecN (IPSEC_HOOK_IF, ifindex) takes that interface's policy
 * (FreeBSD's ipsec_transmit()).
 */
static int
ipsec_output1(int where, u_int ifindex, struct mbuf **mp, uint64_t cookie)
{
	struct ipsecrequest isr[IPSEC_MAXREQ];
	struct ipsec_outreq req[IPSEC_MAXREQ], *r;
	union sockaddr_union src, dst;
	const struct secasindex *outer;
	struct secasindex ox;
	struct secpolicy *sp;
	struct ipsec_pkt pi;
	const uint8_t *p;
	uint8_t *q, *copy;
	uint32_t spid;
	size_t h;
	u_int i, nreq, nsa, tcount, policy, mtu;
	int af, error, error2, first, missing, tries;

	IPSECSTAT_INC(ips_out_total);
	error = ipsec_parse(mp, where == IPSEC_HOOK_OUT, &pi);
	if (error == ENOBUFS) {
		IPSECSTAT_INC(ips_nomem);
		return (IPSEC_HOOK_DROP);
	}
	if (error != 0) {
		IPSECSTAT_INC(ips_out_inval);
		if (where == IPSEC_HOOK_IF)
			return (ipsec_drop(mp));
		return (IPSEC_HOOK_PASS);	/* not IP: not ours */
	}
	pi.spidx.dir = IPSEC_DIR_OUTBOUND;
	p = mtod(*mp, const uint8_t *);		/* the IP header */

	SPTREE_RLOCK();
	if (where == IPSEC_HOOK_IF) {
		sp = ipsec_if_policy(ifindex, pi.af);
		/*
		 * No tunnel (FreeBSD: ENETDOWN), or a loop: this tunnel's
		 * own ESP routed back into it.
		 */
		if (sp == NULL || (pi.proto == IPPROTO_ESP &&
		    ipsec_addr_eq(&sp->req[0]->saidx.src, &pi.spidx.src) &&
		    ipsec_addr_eq(&sp->req[0]->saidx.dst, &pi.spidx.dst))) {
			SPTREE_RUNLOCK();
			IPSECSTAT_INC(ips_if_down);
			return (ipsec_drop(mp));
		}
	} else
		sp = ipsec_getpolicy(where, &pi.spidx);
	if (sp == NULL) {
		SPTREE_RUNLOCK();
		return (IPSEC_HOOK_PASS);	/* def_policy none */
	}
	sp->lastused = time_uptime;
	policy = sp->policy;
	spid = sp->id;
	tcount = MIN(sp->tcount, IPSEC_MAXREQ);
	for (i = 0; i < tcount; i++)
		isr[i] = *sp->req[i];
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
	if (tcount == 0 || tcount > IPSEC_MAXREQ) {
		IPSECSTAT_INC(ips_out_bundlesa);
		return (ipsec_drop(mp));
	}

	/*
	 * Each request's SA index, in FreeBSD's order: the first request is
	 * applied first, innermost.  A transport request without endpoints
	 * takes the addresses of the packet it sees: the packet's own, or
	 * the endpoints of the last tunnel before it.  Requests for IPComp
	 * while net.inet.ipcomp.ipcomp_enable is 0 are skipped, as FreeBSD.
	 */
	memcpy(&src, &pi.spidx.src, sizeof(src));
	memcpy(&dst, &pi.spidx.dst, sizeof(dst));
	src.sin.sin_port = dst.sin.sin_port = 0;
	nreq = 0;
	for (i = 0; i < tcount; i++) {
		if (isr[i].saidx.proto == IPPROTO_IPCOMP && !ipcomp_enable)
			continue;
		r = &req[nreq++];
		r->idx = i;
		r->level = ipsec_level(&isr[i]);
		r->saidx = isr[i].saidx;
		if (r->saidx.src.sa.sa_family == 0)
			memcpy(&r->saidx.src, &src, sizeof(src));
		if (r->saidx.dst.sa.sa_family == 0)
			memcpy(&r->saidx.dst, &dst, sizeof(dst));
		r->saidx.src.sin.sin_port = r->saidx.dst.sin.sin_port = 0;
		if (r->level != IPSEC_LEVEL_UNIQUE)
			r->saidx.reqid = 0;
		/* The addresses the next request's packet has. */
		memcpy(&src, &r->saidx.src, sizeof(src));
		memcpy(&dst, &r->saidx.dst, sizeof(dst));
	}
	if (nreq == 0)
		return (IPSEC_HOOK_PASS);

	mtu = ipsec_pmtu_get(where, &req[nreq - 1].saidx, p, pi.af);
	tries = 0;
 again:
	SAHTREE_RLOCK();
	missing = -1;
	h = 0;
	nsa = 0;
	memcpy(&dst, &pi.spidx.dst, sizeof(dst));
	for (i = 0; i < nreq; i++) {
		r = &req[i];
		r->sav = key_allocsa_policy(&r->saidx);
		if (r->sav != NULL) {
			/* As ipsec_encap() will apply it: a tunnel, or not. */
			ox = r->saidx;
			if (!ipsec_addr_eq(&ox.dst, &dst))
				ox.mode = IPSEC_MODE_TUNNEL;
			if (ox.mode == IPSEC_MODE_TUNNEL)
				memcpy(&dst, &ox.dst, sizeof(dst));
			h += ipsec_sa_overhead(r->sav, &ox);
			nsa++;
		} else if (r->level != IPSEC_LEVEL_USE && missing == -1)
			missing = (int)i;
	}
	if (missing == -1 && nsa > 0) {
		outer = &req[nreq - 1].saidx;
		for (i = nreq; i-- > 0; )
			if (req[i].sav != NULL) {
				outer = &req[i].saidx;
				break;
			}
		mtu = ipsec_pmtu_check(mtu, h, pi.len, pi.af);
		if (mtu != 0) {
			SAHTREE_RUNLOCK();
			IPSECSTAT_INC(ips_out_toobig);
			/* The ICMP error quotes the packet. */
			q = ipsec_flat(*mp, pi.len, &copy);
			if (q != NULL && ipsec_pmtu_icmp(where, outer, q,
			    pi.len, pi.af, mtu) == 0)
				IPSECSTAT_INC(ips_out_icmp);
			ipsec_unflat(copy, pi.len);
			return (ipsec_drop(mp));
		}
		af = pi.af;
		first = 1;
		for (i = 0; i < nreq; i++) {
			r = &req[i];
			if (r->sav == NULL)
				continue;	/* level use, no SA: skipped */
			/* After a transform: the new packet, parsed. */
			if (!first && ipsec_parse(mp, 0, &pi) != 0) {
				SAHTREE_RUNLOCK();
				IPSECSTAT_INC(ips_out_inval);
				return (ipsec_drop(mp));
			}
			first = 0;
			error = ipsec_encap(r->sav, &r->saidx, &pi, mp);
			if (error != 0) {
				SAHTREE_RUNLOCK();
				IPSECSTAT_INC(ips_out_inval);
				return (IPSEC_HOOK_DROP);
			}
			if (r->saidx.proto == IPPROTO_AH)
				IPSECSTAT_INC(ips_out_ah);
			else if (r->saidx.proto == IPPROTO_IPCOMP)
				IPSECSTAT_INC(ips_out_ipcomp);
			else
				IPSECSTAT_INC(ips_out_esp);
		}
		SAHTREE_RUNLOCK();
		if (nsa > 1)
			IPSECSTAT_INC(ips_out_bundle);
		if (where == IPSEC_HOOK_IF) {
			IPSECSTAT_INC(ips_out_if);
			return (IPSEC_HOOK_REPLACE);	/* the host sends it */
		}
		return (ipsec_deliver(mp, af, 0));
	}
	SAHTREE_RUNLOCK();

	/*
	 * Missing SAs: an ACQUIRE for each (FreeBSD's key_allocsa_policy()
	 * sends one for every request it finds without an SA), and the
	 * packet kept while the first one a required request lacks comes.
	 * Without SAs for requests at level use only, it goes in clear.
	 */
	IPSECSTAT_INC(ips_out_nosa);
	for (i = 0; i < nreq; i++) {
		r = &req[i];
		if (r->sav != NULL)
			continue;
		error = key_acquire_req(spid, r->idx, &r->saidx.src.sa,
		    &r->saidx.dst.sa);
		if (error != 0 && error != EAGAIN)
			IPSECSTAT_INC(ips_out_acqfail);
	}
	if (missing == -1)
		return (IPSEC_HOOK_PASS);	/* in clear, as FreeBSD */
	error2 = ipsec_hold(&req[missing].saidx, *mp, cookie, where, ifindex);
	if (error2 == 0) {
		*mp = NULL;
		return (IPSEC_HOOK_HELD);
	}
	if (error2 == EEXIST && tries++ == 0)
		goto again;	/* the SA came meanwhile */
	IPSECSTAT_INC(ips_out_holddrop);
	return (ipsec_drop(mp));
}

static int
ipsec_output(int where, u_int ifindex, struct mbuf **mp, uint64_t cookie)
{
	int v;

	v = ipsec_output1(where, ifindex, mp, cookie);
	/* What goes into an ipsecN leaves protected, or not at all. */
	if (where == IPSEC_HOOK_IF && v == IPSEC_HOOK_PASS) {
		IPSECSTAT_INC(ips_if_down);
		return (ipsec_drop(mp));
	}
	return (v);
}

int
ipsec_if_output(u_int ifindex, struct mbuf **mp, uint64_t cookie)
{

	if (*mp == NULL)
		return (IPSEC_HOOK_DROP);
	KASSERT((*mp)->m_flags & M_PKTHDR, ("ipsec_if_output: no header"));
	return (ipsec_output(IPSEC_HOOK_IF, ifindex, mp, cookie));
}

static ipsec_ifinput_t *ipsec_ifinput;
static void *ipsec_ifinput_arg;

void
ipsec_hook_setifinput(ipsec_ifinput_t *fn, void *arg)
{

	ipsec_ifinput = fn;
	ipsec_ifinput_arg = arg;
}

int
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
	/*
	 * A tunnel through an SA of mode any meets a transport request
	 * that names that SA's endpoints (the peer's side of the "proxy"
	 * case in ipsec_encap(); FreeBSD takes any SA of mode any for any
	 * request), not one that names none: an SA for host-to-host
	 * traffic does not carry other hosts' packets.
	 */
	if (tunnel && saidx->mode == IPSEC_MODE_ANY &&
	    isr->saidx.mode == IPSEC_MODE_TRANSPORT &&
	    isr->saidx.src.sa.sa_family != 0)
		tunnel = 0;
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
 * The SAs an inbound packet came through, outermost first (FreeBSD's
 * PACKET_TAG_IPSEC_IN_DONE tags), and whether each carried a whole
 * packet (tunnel).
 */
struct ipsec_inhist {
	struct secasvar		*sav;
	int			 tunnel;
};

/*
 * Inbound, FreeBSD's ipsec4_in_reject() with its history check
 * (ipsec_check_history()) and RFC 4301 section 5.2's.  "spidx" is the
 * selector of the packet that comes out (the inner packet's, after a
 * tunnel), "hist" the nh SAs it came through.  In clear (nh 0): a
 * discard policy, or an IPsec policy with a request not at level use
 * (IPComp's aside), refuses it.  Through SAs: the policy must be IPsec,
 * each SA must be one that a request of it names, and every request not
 * at level use must be met by one of them, but IPComp's, which a sender
 * skips for small packets (RFC 3173 section 2.2; FreeBSD does not check
 * them either).  A packet whose policy lets it in clear may also come
 * through transport-mode SAs, as on FreeBSD and Linux; a tunnel SA is
 * never a way around the policy of the packets it carries.  The caller
 * has checked that each transport SA joins the two addresses of the
 * header it was under.
 */
static int
ipsec_in_reject(const struct secpolicyindex *spidx,
    const struct ipsec_inhist *hist, u_int nh)
{
	struct secpolicy *sp;
	const struct ipsecrequest *isr;
	u_int i, k;
	int verdict, tunnel, met;

	tunnel = 0;
	for (k = 0; k < nh; k++)
		tunnel |= hist[k].tunnel;
	SPTREE_RLOCK();
	sp = ipsec_getpolicy(IPSEC_HOOK_IN, spidx);
	verdict = IPSEC_IN_OK;
	if (sp == NULL) {
		if (tunnel)
			verdict = IPSEC_IN_SACHECK;
	} else {
		sp->lastused = time_uptime;
		switch (sp->policy) {
		case IPSEC_POLICY_DISCARD:
			verdict = IPSEC_IN_POLVIO;
			break;
		case IPSEC_POLICY_IPSEC:
			for (k = 0; k < nh && verdict == IPSEC_IN_OK; k++) {
				met = 0;
				for (i = 0; i < sp->tcount && !met; i++)
					met = ipsec_req_names(sp->req[i],
					    hist[k].sav, hist[k].tunnel);
				if (!met)
					verdict = IPSEC_IN_SACHECK;
			}
			for (i = 0; i < sp->tcount && verdict == IPSEC_IN_OK;
			    i++) {
				isr = sp->req[i];
				if (isr->saidx.proto == IPPROTO_IPCOMP ||
				    ipsec_level(isr) == IPSEC_LEVEL_USE)
					continue;
				met = 0;
				for (k = 0; k < nh && !met; k++)
					met = ipsec_req_names(isr, hist[k].sav,
					    hist[k].tunnel);
				if (!met)
					verdict = nh == 0 ? IPSEC_IN_POLVIO :
					    IPSEC_IN_SACHECK;
			}
			break;
		default:
			/* None or bypass: a socket's bypass takes both. */
			if (tunnel && sp->state != IPSEC_SPSTATE_PCB)
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
 * The transform header at the start of a packet's upper layer, if it is
 * one we take off: ESP, AH, IPComp, or ESP in UDP (RFC 3948).  Sets
 * *protop and *offp (where the header starts) and returns its SPI (the
 * CPI for IPComp), in network order; 0 if there is none.  Reassembled
 * packets have no Fragment header: one here is malformed.
 */
static uint32_t
ipsec_in_hdr(const struct ipsec_pkt *pi, int *protop, size_t *offp)
{
	uint32_t spi;
	size_t off, need, at;

	*protop = pi->proto;
	off = pi->ulp;
	at = 0;
	switch (pi->proto) {
	case IPPROTO_ESP:
		need = ESP_HDRLEN;
		break;
	case IPPROTO_AH:
		need = AH_HDRLEN;
		at = 4;
		break;
	case IPPROTO_IPCOMP:
		need = IPCOMP_HLENGTH;
		break;
	case IPPROTO_UDP:
		if (pi->ulp + 12 > pi->len || ipsec_rd16(pi->ulpb + 2) !=
		    NATT_PORT || memcmp(pi->ulpb + 8, "\0\0\0\0", 4) == 0)
			return (0);
		*protop = IPPROTO_ESP;
		off = pi->ulp + 8;
		need = ESP_HDRLEN;
		break;
	default:
		return (0);
	}
	*offp = off;
	if (off + need > pi->len || pi->v6frag)
		return (UINT32_MAX);	/* a header, malformed */
	if (pi->proto == IPPROTO_IPCOMP) {
		spi = htonl(ipsec_rd16(pi->ulpb + 2));
		return (spi != 0 ? spi : UINT32_MAX);
	}
	memcpy(&spi, pi->ulpb + (off - pi->ulp) + at, 4);
	return (spi != 0 ? spi : UINT32_MAX);
}

/*
 * An IPComp tunnel SA from the packet's source to its destination, for
 * the IP-in-IP packets that such a tunnel sends uncompressed (RFC 3173
 * section 2.2; FreeBSD's ipcomp_nonexp_input()).  SAHTREE_RLOCK held.
 */
static struct secasvar *
ipsec_in_nonexp(const struct ipsec_pkt *pi)
{
	struct secasindex saidx;

	if ((pi->proto != IPPROTO_IPV4_ && pi->proto != IPPROTO_IPV6_) ||
	    pi->v6ext || !ipcomp_enable)
		return (NULL);
	memset(&saidx, 0, sizeof(saidx));
	saidx.proto = IPPROTO_IPCOMP;
	saidx.mode = IPSEC_MODE_TUNNEL;
	memcpy(&saidx.src, &pi->spidx.src, sizeof(saidx.src));
	memcpy(&saidx.dst, &pi->spidx.dst, sizeof(saidx.dst));
	saidx.src.sin.sin_port = saidx.dst.sin.sin_port = 0;
	return (key_allocsa_policy(&saidx));
}

/*
 * Inbound: ESP (and ESP in UDP), AH and IPComp are taken off, one after
 * the other as long as the packet that comes out has another for us (a
 * bundle, or a tunnel in a tunnel); then what came out is held against
 * the inbound policy with the SAs it came through.  Packets without any
 * are held against the policy in clear.
 */
static int
ipsec_input_one(struct mbuf **mp)
{
	struct ipsec_inhist hist[IPSEC_MAXREQ];
	struct ipsec_pkt pi;
	union sockaddr_union dst;
	struct secasvar *sav;
	struct mbuf *m;
	uint8_t hdr[IPSEC_HDRMAX], *ip;
	uint32_t spi;
	size_t off, len;
	u_int i, nh, ifindex;
	int af, error, locked, nxt, tunnel, v, proto;

	if ((error = ipsec_parse(mp, 1, &pi)) != 0) {
		if (error == ENOBUFS)
			IPSECSTAT_INC(ips_nomem);
		else
			IPSECSTAT_INC(ips_in_inval);
		return (ipsec_drop(mp));
	}
	af = pi.af;
	nh = 0;
	locked = 0;
	for (;;) {
		pi.spidx.dir = IPSEC_DIR_INBOUND;
		off = 0;
		spi = ipsec_in_hdr(&pi, &proto, &off);
		if (spi == UINT32_MAX) {
			if (locked)
				SAHTREE_RUNLOCK();
			IPSECSTAT_INC(ips_in_inval);
			return (ipsec_drop(mp));
		}
		if (nh == 0 && spi == 0 &&
		    pi.proto != IPPROTO_IPV4_ && pi.proto != IPPROTO_IPV6_)
			break;			/* in clear: no lock taken */
		if (!locked) {
			SAHTREE_RLOCK();
			locked = 1;
		}
		if (spi == 0) {
			/* Uncompressed, from an IPComp tunnel? */
			if ((sav = ipsec_in_nonexp(&pi)) == NULL)
				break;
			proto = IPPROTO_IPCOMP;
		} else {
			dst = pi.spidx.dst;
			dst.sin.sin_port = 0;
			sav = key_allocsa(&dst, (uint8_t)proto, spi);
			if (sav != NULL && off != pi.ulp && sav->natt == NULL)
				sav = NULL;	/* ESP in UDP: NAT-T SAs only */
			if (sav == NULL && nh > 0)
				break;		/* not ours: it goes on as is */
			if (sav == NULL) {
				SAHTREE_RUNLOCK();
				IPSECSTAT_INC(ips_in_nosa);
				return (ipsec_drop(mp));
			}
		}
		if (nh == IPSEC_MAXREQ) {
			SAHTREE_RUNLOCK();
			IPSECSTAT_INC(ips_in_inval);
			return (ipsec_drop(mp));
		}

		/* The headers before the transform, kept for transport. */
		if (pi.ulp > sizeof(hdr)) {
			SAHTREE_RUNLOCK();
			IPSECSTAT_INC(ips_in_inval);
			return (ipsec_drop(mp));
		}
		m_copydata(*mp, 0, (int)pi.ulp, hdr);
		m = *mp;
		*mp = NULL;
		ipsec_trim(m, pi.len);
		if (spi == 0) {
			/* IP in IP: the inner packet as it came. */
			m_adj(m, (int)pi.hlen);
			nxt = pi.proto;
			error = 0;
		} else if (proto == IPPROTO_AH)
			error = ah_input(sav, &m, (int)pi.ulp, pi.af, &nxt);
		else {
			m_adj(m, (int)off);
			if (proto == IPPROTO_ESP)
				error = esp_input(sav, &m, &nxt);
			else
				error = ipcomp_input(sav, &m, &nxt);
		}
		if (error != 0) {
			SAHTREE_RUNLOCK();
			if (proto == IPPROTO_AH)
				IPSECSTAT_INC(ips_in_ahfail);
			else if (proto == IPPROTO_IPCOMP)
				IPSECSTAT_INC(ips_in_ipcompfail);
			else
				IPSECSTAT_INC(ips_in_espfail);
			return (IPSEC_HOOK_DROP);
		}
		ipsec_sa_used(sav, (size_t)m->m_pkthdr.len);
		tunnel = (nxt == IPPROTO_IPV4_ || nxt == IPPROTO_IPV6_) &&
		    sav->sah->saidx.mode != IPSEC_MODE_TRANSPORT;
		hist[nh].sav = sav;
		hist[nh].tunnel = tunnel;
		nh++;

		if (tunnel) {
			/* The inner packet is the packet now. */
			v = ipsec_parse(&m, 1, &pi);
			if (v != 0 || (pi.af == AF_INET) !=
			    (nxt == IPPROTO_IPV4_)) {
				SAHTREE_RUNLOCK();
				(void)ipsec_drop(&m);
				IPSECSTAT_INC(ips_in_inval);
				return (IPSEC_HOOK_DROP);
			}
			ipsec_trim(m, pi.len);	/* the tunnel's padding */
			*mp = m;
			continue;
		}
		/*
		 * Transport mode: only between the SA's own two addresses;
		 * the headers go back in front, naming what came out.
		 */
		if (!ipsec_addr_eq(&sav->sah->saidx.src, &pi.spidx.src) ||
		    !ipsec_addr_eq(&sav->sah->saidx.dst, &pi.spidx.dst)) {
			SAHTREE_RUNLOCK();
			m_freem(m);
			IPSECSTAT_INC(ips_in_sacheck);
			return (IPSEC_HOOK_DROP);
		}
		/* What IPComp inflated must fit the header's length field. */
		if ((size_t)m->m_pkthdr.len + pi.ulp - (pi.af == AF_INET ?
		    0 : IP6_HDRLEN) > 65535) {
			SAHTREE_RUNLOCK();
			m_freem(m);
			IPSECSTAT_INC(ips_in_inval);
			return (IPSEC_HOOK_DROP);
		}
		M_PREPEND(m, pi.ulp, M_NOWAIT);
		if (m == NULL) {
			SAHTREE_RUNLOCK();
			return (IPSEC_HOOK_DROP);
		}
		ip = mtod(m, uint8_t *);
		memcpy(ip, hdr, pi.ulp);
		len = (size_t)m->m_pkthdr.len;
		ipsec_hdr_finish(ip, pi.nhoff, (uint8_t)nxt, len, pi.af);
		/*
		 * NAT-T transport mode (RFC 3948 §3.1.2): a NAT changed the
		 * addresses the TCP or UDP checksum covers.  ESP has already
		 * authenticated the payload, so recompute it over the
		 * addresses the packet has now (FreeBSD's natt_cksum_policy
		 * 1 trusts it; this leaves a checksum that is right).
		 */
		if ((sav->natt != NULL && ipsec_l4_cksum_m(&m, pi.ulp, pi.af,
		    (uint8_t)nxt) != 0) || ipsec_parse(&m, 1, &pi) != 0) {
			SAHTREE_RUNLOCK();
			(void)ipsec_drop(&m);
			IPSECSTAT_INC(ips_in_inval);
			return (IPSEC_HOOK_DROP);
		}
		*mp = m;
	}

	/*
	 * Out of an ipsecN's tunnel (FreeBSD's ipsec_if_input()): the
	 * interface's inbound policy is met by that SA alone, and the inner
	 * packet is the interface's.
	 */
	if (nh == 1 && hist[0].tunnel &&
	    (ifindex = ipsec_if_input(hist[0].sav)) != 0) {
		IPSECSTAT_INC(ips_in_esp);
		SAHTREE_RUNLOCK();
		if (ipsec_ifinput == NULL) {
			IPSECSTAT_INC(ips_if_down);
			return (ipsec_drop(mp));
		}
		IPSECSTAT_INC(ips_in_if);
		ipsec_ifinput(ipsec_ifinput_arg, ifindex, *mp);
		*mp = NULL;
		return (IPSEC_HOOK_STOLEN);
	}
	/* What came out must be what the policy wanted, so protected. */
	pi.spidx.dir = IPSEC_DIR_INBOUND;
	v = ipsec_in_reject(&pi.spidx, hist, nh);
	for (i = 0; i < nh && v == IPSEC_IN_OK; i++) {
		proto = hist[i].sav->sah->saidx.proto;
		if (proto == IPPROTO_AH)
			IPSECSTAT_INC(ips_in_ah);
		else if (proto == IPPROTO_IPCOMP)
			IPSECSTAT_INC(ips_in_ipcomp);
		else
			IPSECSTAT_INC(ips_in_esp);
	}
	if (locked)
		SAHTREE_RUNLOCK();
	if (v != IPSEC_IN_OK) {
		(void)ipsec_drop(mp);
		return (ipsec_in_drop(v));
	}
	if (nh == 0)
		return (IPSEC_HOOK_PASS);
	if (nh > 1)
		IPSECSTAT_INC(ips_in_bundle);
	return (ipsec_deliver(mp, af, 1));
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
		return (ipsec_output(where, 0, mp, cookie));
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
ipsec_getipcompstat(struct ipcompstat *st)
{

	ipcomp_getstat(st);
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
