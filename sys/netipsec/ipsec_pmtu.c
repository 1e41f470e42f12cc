/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Path MTU over an SA, and the host's raw output (ipsec_hook_sethost()).
 *
 * FreeBSD's ipsec4_check_pmtu()/ipsec6_check_pmtu(): a packet that will
 * leave with DF (IPv4) or that nobody on the way may fragment (IPv6), and
 * that no longer fits the MTU once ESP, a NAT-T header and a tunnel
 * header are added, is dropped, and its source is told the MTU less that
 * overhead: ICMP "fragmentation needed" (RFC 1191) or ICMPv6 "packet too
 * big" (RFC 8201).  Where the packet leaves without DF (IPv4 tunnel mode
 * with net.inet.ipsec.dfbit 0, the default, or a source that did not set
 * DF), the protected packet is fragmented by the host's IP output, as
 * FreeBSD's ip_output() fragments it.  One difference: a locally generated
 * IPv6 packet is not refused but fragmented after protection by the host,
 * as a source may fragment its own packets; the host's stack fragments
 * what it sends only after the hook has seen it, so a "packet too big"
 * would never make it send smaller packets.
 *
 * The MTU is the host's, of the interface towards the outer destination
 * (ipsec_mtu_t); ICMP errors and packets of another family leave through
 * the host's raw output (ipsec_send_t).  Without those services nothing
 * is checked, and packets of another family are dropped.
 */

#include <ukern/ukern.h>

#include <net/pfkeyv2.h>
#include <netipsec/ipsec.h>
#include <netipsec/keydb.h>
#include <netipsec/esp.h>
#include <netipsec/ah.h>
#include <netipsec/ipcomp.h>
#include <netipsec/ipsec_hook.h>
#include <netipsec/ipsec_hook_var.h>

#define	IP_DF		0x4000
#define	ICMP_UNREACH	3
#define	ICMP_NEEDFRAG	4
#define	ICMP6_TOOBIG	2
#define	ICMP_QUOTE4	(576 - 28)	/* RFC 1812 §4.3.2.3 */
#define	ICMP_QUOTE6	(1280 - 48)	/* RFC 4443 §2.4 (c) */
#define	IPV6_MMTU	1280
#define	ICMP_LIM	200		/* errors per second, as icmplim */

static ipsec_send_t *ipsec_host_send;
static ipsec_mtu_t *ipsec_host_mtu;
static void *ipsec_host_arg;

void
ipsec_hook_sethost(ipsec_send_t *send, ipsec_mtu_t *mtu, void *arg)
{

	ipsec_reass_init();
	ipsec_host_send = send;
	ipsec_host_mtu = mtu;
	ipsec_host_arg = arg;
}

int
ipsec_host_output(const void *pkt, size_t len)
{

	if (ipsec_host_send == NULL)
		return (ENXIO);
	return (ipsec_host_send(ipsec_host_arg, pkt, len));
}

/*
 * ipsec_host_output() for a packet that may be larger than the MTU
 * towards its destination (a raw output does not fragment): an IPv4
 * packet without DF is fragmented (RFC 791), and so is an IPv6 packet
 * whose source we are ("ours": the outer header of a tunnel), with a
 * Fragment header after the IPv6 header (RFC 8200 §4.5); anything else
 * goes as it is.
 */
int
ipsec_host_output_frag(const uint8_t *p, size_t len, int ours)
{
	uint8_t *f;
	size_t hl, off, n, max, plen;
	uint32_t id;
	u_int mtu;
	int v6, error;

	v6 = (p[0] >> 4) == 6;
	if (ipsec_host_mtu == NULL || len < (v6 ? 40u : 20u))
		return (ipsec_host_output(p, len));
	mtu = ipsec_host_mtu(ipsec_host_arg, v6 ? AF_INET6 : AF_INET,
	    p + (v6 ? 24 : 16));
	if (mtu == 0 || len <= mtu || (v6 && !ours) ||
	    (!v6 && ((p[6] << 8 | p[7]) & (IP_DF | 0x3fff)) != 0))
		return (ipsec_host_output(p, len));
	hl = v6 ? 40 : (size_t)(p[0] & 0x0f) * 4;
	if (mtu < hl + (v6 ? 8u : 0u) + 8)
		return (EMSGSIZE);
	max = (mtu - hl - (v6 ? 8 : 0)) & ~(size_t)7;
	plen = len - hl;
	f = ipsec_hook_alloc(hl + 8 + max);
	if (f == NULL)
		return (ENOBUFS);
	id = arc4random();
	error = 0;
	for (off = 0; off < plen && error == 0; off += n) {
		n = MIN(max, plen - off);
		memcpy(f, p, hl);
		if (v6) {
			f[4] = (uint8_t)((8 + n) >> 8);
			f[5] = (uint8_t)(8 + n);
			f[6] = 44;
			f[40] = p[6];
			f[41] = 0;
			f[42] = (uint8_t)(off >> 8);
			f[43] = (uint8_t)((off & 0xf8) |
			    (off + n < plen ? 1 : 0));
			memcpy(f + 44, &id, 4);
			memcpy(f + 48, p + hl + off, n);
			error = ipsec_host_output(f, 48 + n);
		} else {
			f[6] = (uint8_t)((off + n < plen ? 0x20 : 0) |
			    (off / 8) >> 8);
			f[7] = (uint8_t)(off / 8);
			memcpy(f + hl, p + hl + off, n);
			ipsec_ip4_finish(f, hl + n);
			error = ipsec_host_output(f, hl + n);
		}
	}
	ipsec_hook_free(f);
	return (error);
}

/*
 * Bytes the SA adds to a packet, at most (FreeBSD's ipsec_hdrsiz()).
 * IPComp adds none: it sends a packet as it is unless that shrinks it.
 */
size_t
ipsec_sa_overhead(const struct secasvar *sav, const struct secasindex *saidx)
{
	size_t h;

	if (saidx->proto == IPPROTO_IPCOMP)
		h = 0;
	else
		h = saidx->proto == IPPROTO_AH ? ah_hdrsiz(sav) :
		    esp_hdrsiz(sav);
	if (sav->natt != NULL)
		h += 8;
	if (saidx->mode == IPSEC_MODE_TUNNEL)
		h += saidx->dst.sa.sa_family == AF_INET ? 20 : 40;
	return (h);
}

/*
 * The MTU the packet (af, at p) must fit once protected for the request's
 * SA index, or 0 if it need not: it will leave without DF, or it is our
 * own IPv6.  Asks the host: called without the layer's locks.
 */
u_int
ipsec_pmtu_get(int where, const struct secasindex *saidx, const uint8_t *p,
    int af)
{
	int oaf, df;

	if (ipsec_host_mtu == NULL || ipsec_host_send == NULL)
		return (0);
	oaf = saidx->mode == IPSEC_MODE_TUNNEL ? saidx->dst.sa.sa_family : af;
	if (oaf == AF_INET) {
		df = af == AF_INET && ((p[6] << 8 | p[7]) & IP_DF) != 0;
		if (saidx->mode == IPSEC_MODE_TUNNEL)
			df = ipsec_dfbit == 1 || (ipsec_dfbit == 2 && df);
		if (!df)
			return (0);	/* the host fragments after ESP */
	} else if (where == IPSEC_HOOK_OUT)
		return (0);		/* our own: the host fragments it */
	return (ipsec_host_mtu(ipsec_host_arg, oaf, oaf == AF_INET ?
	    (const void *)&saidx->dst.sin.sin_addr :
	    (const void *)&saidx->dst.sin6.sin6_addr));
}

/*
 * Does a packet of "len" bytes (af) fit "mtu" once its SAs add "h" bytes
 * (the sum of their ipsec_sa_overhead())?  0 if so (or mtu is 0);
 * otherwise the MTU to report to its source, and the caller drops the
 * packet.
 */
u_int
ipsec_pmtu_check(u_int mtu, size_t h, size_t len, int af)
{

	if (mtu == 0 || len + h <= mtu)
		return (0);
	if (mtu <= h + (af == AF_INET ? 68 : 0))
		return (1);		/* nothing sensible to report */
	mtu -= (u_int)h;
	if (af == AF_INET6 && mtu < IPV6_MMTU)
		mtu = IPV6_MMTU;
	return (mtu);
}

/* ICMP errors sent in the last second (FreeBSD's badport_bandlim()). */
static int
ipsec_icmp_ratelim(void)
{
	static time_t sec;
	static u_int n;
	time_t now;

	now = time_uptime;
	if (__atomic_exchange_n(&sec, now, __ATOMIC_RELAXED) != now)
		__atomic_store_n(&n, 0, __ATOMIC_RELAXED);
	return (__atomic_add_fetch(&n, 1, __ATOMIC_RELAXED) > ICMP_LIM);
}

/*
 * Tell the source of a packet we drop that "mtu" is what fits (mtu 1:
 * nothing; only drop).  Its IPv4 source address is left 0 for the host
 * to fill in; for IPv6, whose checksum covers it, it is the packet's own
 * source for our own packets (the error is delivered locally) and the
 * tunnel's local end for forwarded ones.  0 if sent, else an errno.
 */
int
ipsec_pmtu_icmp(int where, const struct secasindex *saidx,
    const uint8_t *p, size_t len, int af, u_int mtu)
{
	uint8_t *b;
	size_t q, blen;
	uint32_t sum;
	uint16_t c;
	int error;

	if (mtu <= 1)
		return (EMSGSIZE);
	if (ipsec_icmp_ratelim())
		return (EAGAIN);
	if (af == AF_INET) {
		q = MIN(len, (size_t)ICMP_QUOTE4);
		blen = 28 + q;
	} else {
		if (where != IPSEC_HOOK_OUT &&
		    saidx->src.sa.sa_family != AF_INET6)
			return (EAFNOSUPPORT);	/* no address to send from */
		q = MIN(len, (size_t)ICMP_QUOTE6);
		blen = 48 + q;
	}
	b = ipsec_hook_alloc(blen);
	if (b == NULL)
		return (ENOBUFS);
	memset(b, 0, blen);
	if (af == AF_INET) {
		b[0] = 0x45;
		b[8] = 64;
		b[9] = IPPROTO_ICMP;
		memcpy(b + 16, p + 12, 4);		/* to the source */
		ipsec_ip4_finish(b, blen);
		b[20] = ICMP_UNREACH;
		b[21] = ICMP_NEEDFRAG;
		b[26] = (uint8_t)(mtu >> 8);
		b[27] = (uint8_t)mtu;
		memcpy(b + 28, p, q);
		c = (uint16_t)~ipsec_sum(0, b + 20, blen - 20);
		b[22] = (uint8_t)(c >> 8);
		b[23] = (uint8_t)c;
	} else {
		b[0] = 0x60;
		b[4] = (uint8_t)((blen - 40) >> 8);
		b[5] = (uint8_t)(blen - 40);
		b[6] = 58;				/* ICMPv6 */
		b[7] = 64;
		if (where == IPSEC_HOOK_OUT)
			memcpy(b + 8, p + 8, 16);
		else
			memcpy(b + 8, &saidx->src.sin6.sin6_addr, 16);
		memcpy(b + 24, p + 8, 16);		/* to the source */
		b[40] = ICMP6_TOOBIG;
		b[44] = (uint8_t)(mtu >> 24);
		b[45] = (uint8_t)(mtu >> 16);
		b[46] = (uint8_t)(mtu >> 8);
		b[47] = (uint8_t)mtu;
		memcpy(b + 48, p, q);
		/* RFC 8200 §8.1: the pseudo-header, then the message. */
		sum = ipsec_sum(0, b + 8, 32);
		sum = ipsec_sum(sum, (const uint8_t[]){ 0, 0,
		    (uint8_t)((blen - 40) >> 8), (uint8_t)(blen - 40), 0, 0, 0,
		    58 }, 8);
		sum = ipsec_sum(sum, b + 40, blen - 40);
		c = (uint16_t)~sum;
		b[42] = (uint8_t)(c >> 8);
		b[43] = (uint8_t)c;
	}
	error = ipsec_host_output(b, blen);
	ipsec_hook_free(b);
	return (error);
}
