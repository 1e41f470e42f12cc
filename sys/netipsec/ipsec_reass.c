/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Reassembly of inbound fragments.  On FreeBSD, ip_input() and
 * frag6_input() reassemble a packet before IPsec sees it; a host that
 * hands the packet path its packets before its own reassembly
 * (netipsecd's netfilter hook, before routing) gives it fragments
 * instead.  ESP is kept here until the datagram is whole, then decrypted
 * as one packet; so is any other datagram for this host ("anyproto", the
 * caller asks the host), so that its policy is checked with its ports
 * and its socket, as FreeBSD's udp_input() does: an IKE message larger
 * than the MTU (IKEv1 with certificates) meets the IKE socket's bypass,
 * not the SPD's policy for a portless fragment.  ESP in UDP (NAT-T) is
 * such a datagram.  Forwarded plaintext fragments are checked one by one,
 * as FreeBSD's ip_forward() path checks them.
 *
 * IPv4 fragments, and IPv6 fragments whose Fragment header directly
 * follows the IPv6 header.  Limits, in FreeBSD's spirit
 * (net.inet.ip.maxfragpackets, IPFRAGTTL): at most IPSEC_REASS_MAXQ
 * datagrams at once, IPSEC_REASS_MAXFRAG fragments each, IPSEC_REASS_TTL
 * seconds from the first fragment (a new datagram beyond the limit evicts
 * the oldest).  Overlapping fragments drop the whole datagram (RFC 5722;
 * for IPv4 too).
 */

#include <ukern/ukern.h>

#include <net/pfkeyv2.h>
#include <netipsec/ipsec.h>
#include <netipsec/keydb.h>
#include <netipsec/ipsec_hook.h>
#include <netipsec/ipsec_hook_var.h>

MALLOC_DEFINE(M_IPSEC_REASS, "ipsec-reass", "inbound fragments");

#define	IPSEC_REASS_MAXQ	64	/* datagrams being reassembled */
#define	IPSEC_REASS_MAXFRAG	64	/* fragments per datagram */
#define	IPSEC_REASS_TTL		30	/* seconds */
#define	IPSEC_REASS_MAXLEN	65535	/* bytes after the IP header */

struct ipsec_frag {
	TAILQ_ENTRY(ipsec_frag)	f_link;	/* by offset */
	u_int			f_off;
	u_int			f_len;
	uint8_t			f_data[];
};

struct ipsec_reassq {
	TAILQ_ENTRY(ipsec_reassq) rq_link;
	TAILQ_HEAD(, ipsec_frag) rq_frags;
	int			rq_af;
	uint8_t			rq_proto;	/* IPv4's; IPv6's next header */
	uint8_t			rq_src[16];
	uint8_t			rq_dst[16];
	uint32_t		rq_id;
	time_t			rq_since;
	u_int			rq_nfrags;
	u_int			rq_bytes;	/* sum of the fragments */
	u_int			rq_total;	/* 0 until the last is seen */
	size_t			rq_hlen;	/* 0 until the first is seen */
	uint8_t			rq_hdr[60];	/* the first's IP header */
};

static TAILQ_HEAD(, ipsec_reassq) ipsec_reassq =
    TAILQ_HEAD_INITIALIZER(ipsec_reassq);
static u_int ipsec_nreassq;
static struct mtx ipsec_reass_mtx;
static int ipsec_reass_inited;

void
ipsec_reass_init(void)
{

	/* Once, at the host's start, before packets flow. */
	if (!ipsec_reass_inited) {
		mtx_init(&ipsec_reass_mtx, "ipsec_reass", NULL, MTX_DEF);
		ipsec_reass_inited = 1;
	}
}

static void
ipsec_reass_free(struct ipsec_reassq *rq)
{
	struct ipsec_frag *f;

	while ((f = TAILQ_FIRST(&rq->rq_frags)) != NULL) {
		TAILQ_REMOVE(&rq->rq_frags, f, f_link);
		free(f, M_IPSEC_REASS);
	}
	free(rq, M_IPSEC_REASS);
}

/* Unlink and free; ipsec_reass_mtx held. */
static void
ipsec_reass_drop(struct ipsec_reassq *rq)
{

	mtx_assert(&ipsec_reass_mtx, MA_OWNED);
	TAILQ_REMOVE(&ipsec_reassq, rq, rq_link);
	ipsec_nreassq--;
	ipsec_reass_free(rq);
}

void
ipsec_reass_flush(void)
{
	struct ipsec_reassq *rq;

	if (!ipsec_reass_inited)
		return;
	mtx_lock(&ipsec_reass_mtx);
	while ((rq = TAILQ_FIRST(&ipsec_reassq)) != NULL)
		ipsec_reass_drop(rq);
	mtx_unlock(&ipsec_reass_mtx);
}

/* The whole datagram, in one buffer for the host (M_IPSEC_PKT). */
static int
ipsec_reass_build(struct ipsec_reassq *rq, uint8_t **wp, size_t *wlenp)
{
	struct ipsec_frag *f;
	uint8_t *w;
	size_t len;

	len = rq->rq_hlen + rq->rq_total;
	w = ipsec_hook_alloc(len);
	if (w == NULL)
		return (ENOBUFS);
	memcpy(w, rq->rq_hdr, rq->rq_hlen);
	TAILQ_FOREACH(f, &rq->rq_frags, f_link)
		memcpy(w + rq->rq_hlen + f->f_off, f->f_data, f->f_len);
	if (rq->rq_af == AF_INET) {
		w[6] = w[7] = 0;		/* no MF, offset 0 */
		ipsec_ip4_finish(w, len);
	} else {
		w[4] = (uint8_t)(rq->rq_total >> 8);
		w[5] = (uint8_t)rq->rq_total;
		w[6] = rq->rq_proto;		/* the Fragment header goes */
	}
	*wp = w;
	*wlenp = len;
	return (0);
}

/*
 * One inbound packet.  IPSEC_REASS_NONE: not a fragment, or not one of
 * ESP unless anyproto, the caller goes on with it.  IPSEC_REASS_KEPT: a fragment kept for later, or
 * IPSEC_REASS_BAD: one refused (malformed, overlapping, over a limit);
 * either way the caller drops the packet.  IPSEC_REASS_DONE: it completed
 * a datagram, *wp (*wlenp bytes) is the whole packet, for the caller to
 * free with ipsec_hook_free().
 */
int
ipsec_reass(const uint8_t *p, size_t len, int anyproto, uint8_t **wp,
    size_t *wlenp)
{
	struct ipsec_reassq *rq, *next;
	struct ipsec_frag *f, *e, *prev;
	const uint8_t *data, *src, *dst;
	size_t hlen, tlen, alen;
	uint32_t id;
	u_int off, dlen;
	int af, mf, error;
	uint8_t proto;

	*wp = NULL;
	*wlenp = 0;
	if (!ipsec_reass_inited || len < 1)
		return (IPSEC_REASS_NONE);
	switch (p[0] >> 4) {
	case 4:
		if (len < 20 || (p[9] != IPPROTO_ESP && !anyproto))
			return (IPSEC_REASS_NONE);
		off = (u_int)((p[6] << 8 | p[7]) & 0x1fff) * 8;
		mf = (p[6] & 0x20) != 0;
		if (off == 0 && !mf)
			return (IPSEC_REASS_NONE);
		af = AF_INET;
		proto = p[9];
		hlen = (size_t)(p[0] & 0x0f) * 4;
		tlen = (size_t)(p[2] << 8 | p[3]);
		id = (uint32_t)(p[4] << 8 | p[5]);
		src = p + 12;
		dst = p + 16;
		alen = 4;
		if (hlen < 20 || tlen < hlen || tlen > len)
			return (IPSEC_REASS_BAD);
		data = p + hlen;
		dlen = (u_int)(tlen - hlen);
		break;
	case 6:
		/* Only a Fragment header right after the IPv6 header. */
		if (len < 48 || p[6] != 44 ||
		    (p[40] != IPPROTO_ESP && !anyproto))
			return (IPSEC_REASS_NONE);
		af = AF_INET6;
		proto = p[40];
		off = (u_int)(p[42] << 8 | p[43]) & 0xfff8;
		mf = p[43] & 1;
		if (off == 0 && !mf)
			return (IPSEC_REASS_NONE);	/* atomic fragment */
		tlen = 40 + (size_t)(p[4] << 8 | p[5]);
		if (tlen < 48 || tlen > len)
			return (IPSEC_REASS_BAD);
		hlen = 40;
		id = (uint32_t)p[44] << 24 | (uint32_t)p[45] << 16 |
		    (uint32_t)p[46] << 8 | p[47];
		src = p + 8;
		dst = p + 24;
		alen = 16;
		data = p + 48;
		dlen = (u_int)(tlen - 48);
		break;
	default:
		return (IPSEC_REASS_NONE);
	}
	/* All but the last carry a multiple of 8 bytes. */
	if (dlen == 0 || (mf && (dlen & 7) != 0) ||
	    off + dlen > IPSEC_REASS_MAXLEN - (af == AF_INET ? hlen : 0))
		return (IPSEC_REASS_BAD);

	f = malloc(sizeof(*f) + dlen, M_IPSEC_REASS, M_NOWAIT);
	if (f == NULL)
		return (IPSEC_REASS_BAD);
	f->f_off = off;
	f->f_len = dlen;
	memcpy(f->f_data, data, dlen);

	mtx_lock(&ipsec_reass_mtx);
	/* Expired datagrams go first; then find this one's. */
	TAILQ_FOREACH_SAFE(rq, &ipsec_reassq, rq_link, next)
		if (time_uptime - rq->rq_since > IPSEC_REASS_TTL)
			ipsec_reass_drop(rq);
	TAILQ_FOREACH(rq, &ipsec_reassq, rq_link)
		if (rq->rq_af == af && rq->rq_id == id &&
		    (af == AF_INET6 || rq->rq_proto == proto) &&
		    memcmp(rq->rq_src, src, alen) == 0 &&
		    memcmp(rq->rq_dst, dst, alen) == 0)
			break;
	if (rq == NULL) {
		/* Full: the oldest goes, as ip_reass() does. */
		if (ipsec_nreassq >= IPSEC_REASS_MAXQ)
			ipsec_reass_drop(TAILQ_FIRST(&ipsec_reassq));
		rq = malloc(sizeof(*rq), M_IPSEC_REASS, M_NOWAIT | M_ZERO);
		if (rq == NULL)
			goto bad;
		TAILQ_INIT(&rq->rq_frags);
		rq->rq_af = af;
		rq->rq_proto = proto;
		rq->rq_id = id;
		memcpy(rq->rq_src, src, alen);
		memcpy(rq->rq_dst, dst, alen);
		rq->rq_since = time_uptime;
		TAILQ_INSERT_TAIL(&ipsec_reassq, rq, rq_link);
		ipsec_nreassq++;
	}

	/* In offset order; an overlap (a duplicate too) ends the datagram. */
	prev = NULL;
	TAILQ_FOREACH(e, &rq->rq_frags, f_link) {
		if (e->f_off >= off + dlen)
			break;
		if (e->f_off + e->f_len > off)
			goto baddgram;
		prev = e;
	}
	if (!mf) {
		if (rq->rq_total != 0 || (prev != NULL &&
		    TAILQ_NEXT(prev, f_link) != NULL) ||
		    (prev == NULL && !TAILQ_EMPTY(&rq->rq_frags)))
			goto baddgram;		/* a second end, or data past it */
		rq->rq_total = off + dlen;
	} else if (rq->rq_total != 0 && off + dlen >= rq->rq_total)
		goto baddgram;
	if (rq->rq_nfrags >= IPSEC_REASS_MAXFRAG)
		goto baddgram;
	if (prev == NULL)
		TAILQ_INSERT_HEAD(&rq->rq_frags, f, f_link);
	else
		TAILQ_INSERT_AFTER(&rq->rq_frags, prev, f, f_link);
	f = NULL;
	rq->rq_nfrags++;
	rq->rq_bytes += dlen;
	if (off == 0) {
		rq->rq_hlen = hlen;
		rq->rq_proto = proto;
		memcpy(rq->rq_hdr, p, hlen);
	}
	if (rq->rq_total == 0 || rq->rq_hlen == 0 ||
	    rq->rq_bytes != rq->rq_total) {
		mtx_unlock(&ipsec_reass_mtx);
		return (IPSEC_REASS_KEPT);
	}

	/* Whole: no overlaps, so the bytes cover it. */
	TAILQ_REMOVE(&ipsec_reassq, rq, rq_link);
	ipsec_nreassq--;
	mtx_unlock(&ipsec_reass_mtx);
	error = ipsec_reass_build(rq, wp, wlenp);
	ipsec_reass_free(rq);
	return (error == 0 ? IPSEC_REASS_DONE : IPSEC_REASS_BAD);

 baddgram:
	ipsec_reass_drop(rq);
 bad:
	mtx_unlock(&ipsec_reass_mtx);
	free(f, M_IPSEC_REASS);
	return (IPSEC_REASS_BAD);
}
