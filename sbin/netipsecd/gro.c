/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Receive coalescing of decrypted TCP segments, in the manner of the
 * kernel's GRO: consecutive segments of one TCP connection, each the
 * layer's decapsulation of an inbound ESP packet, become one larger
 * segment, so that the kernel reinjects and delivers one packet instead
 * of tens.  The netfilter queue costs a few microseconds per packet it
 * gives back (nfqueue-facts.md); most of it goes to delivering the
 * packet, which this saves.
 *
 * Only segments that are certainly for this host are taken: the
 * decrypted packet's destination is the destination of the ESP packet
 * that carried it, an address the layer found an inbound SA for.  A
 * coalesced packet is never forwarded, so it never needs the MTU of a
 * link.
 *
 * A segment joins the run when it is a plain ACK (PSH allowed), has a
 * valid checksum, carries data, and its IP and TCP headers equal those of
 * the run's first segment but for the lengths, checksums, IPv4 id and
 * sequence number, which follows the run's last byte.  PSH ends a run.
 * The run's packet carries the first segment's headers with the lengths
 * and checksums recomputed.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gro.h"

#define	IP4_HLEN	20
#define	IP6_HLEN	40
#define	IP4_OFFMF	0x3fff		/* MF and the fragment offset */
#define	PROTO_TCP	6

#define	TH_FIN		0x01
#define	TH_SYN		0x02
#define	TH_RST		0x04
#define	TH_PUSH		0x08
#define	TH_ACK		0x10

static uint16_t
gro_rd16(const uint8_t *p)
{

	return ((uint16_t)(p[0] << 8 | p[1]));
}

static void
gro_wr16(uint8_t *p, uint16_t v)
{

	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static uint32_t
gro_rd32(const uint8_t *p)
{

	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

static uint16_t
gro_fold(uint64_t sum)
{

	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)sum);
}

/*
 * The one's-complement sum of a buffer (RFC 1071), folded, as the sum of
 * its big-endian 16-bit words.  Words are added four bytes at a time;
 * the sum of big-endian words is that of the host's words byte-swapped
 * (RFC 1071 2.(B)), so only the folded result is converted.
 */
uint16_t
gro_sum(const uint8_t *p, size_t len)
{
	uint64_t	sum = 0;
	uint32_t	w;
	uint16_t	h, s;

	for (; len >= 4; p += 4, len -= 4) {
		memcpy(&w, p, 4);
		sum += w;
	}
	if (len >= 2) {
		memcpy(&h, p, 2);
		sum += h;
		p += 2;
		len -= 2;
	}
	if (len == 1) {
		h = 0;
		memcpy(&h, p, 1);	/* the byte first, a zero after */
		sum += h;
	}
	s = gro_fold(sum);
	/* Host words to big-endian ones: the bytes of the sum swap too. */
	h = 1;
	if (*(uint8_t *)&h == 1)
		s = (uint16_t)(s >> 8 | s << 8);
	return (s);
}

/* One's-complement addition of two folded sums. */
static uint16_t
gro_add(uint16_t a, uint16_t b)
{

	return (gro_fold((uint32_t)a + b));
}

/* The folded sum of the TCP pseudo-header for l4len bytes of TCP. */
static uint16_t
gro_pseudo(int af, const uint8_t *ip, size_t l4len)
{
	uint8_t	ph[40];

	memset(ph, 0, sizeof(ph));
	if (af == 4) {
		memcpy(ph, ip + 12, 8);
		ph[9] = PROTO_TCP;
		gro_wr16(ph + 10, (uint16_t)l4len);
		return (gro_sum(ph, 12));
	}
	memcpy(ph, ip + 8, 32);
	gro_wr16(ph + 34, (uint16_t)l4len);
	ph[39] = PROTO_TCP;
	return (gro_sum(ph, 40));
}

/*
 * Parse pkt as a TCP segment that may be coalesced, after an ESP packet
 * whose IP header is outer.  Fills the offsets and the sum of the
 * payload; 0, or -1.
 */
static int
gro_parse(const uint8_t *pkt, size_t len, const uint8_t *outer,
    size_t outerlen, struct gro_seg *sg)
{
	const uint8_t	*th;
	uint8_t		 flags;

	if (len < IP4_HLEN || outerlen < IP4_HLEN ||
	    pkt[0] >> 4 != outer[0] >> 4)
		return (-1);
	switch (pkt[0] >> 4) {
	case 4:
		if (pkt[0] != 0x45 || pkt[9] != PROTO_TCP ||
		    gro_rd16(pkt + 2) != len ||
		    (gro_rd16(pkt + 6) & IP4_OFFMF) != 0 ||
		    (outer[0] & 0x0f) < 5 ||
		    memcmp(pkt + 16, outer + 16, 4) != 0)
			return (-1);
		sg->sg_af = 4;
		sg->sg_hlen = IP4_HLEN;
		break;
	case 6:
		if (len < IP6_HLEN || outerlen < IP6_HLEN ||
		    pkt[6] != PROTO_TCP ||
		    gro_rd16(pkt + 4) + (size_t)IP6_HLEN != len ||
		    memcmp(pkt + 24, outer + 24, 16) != 0)
			return (-1);
		sg->sg_af = 6;
		sg->sg_hlen = IP6_HLEN;
		break;
	default:
		return (-1);
	}
	if (len < sg->sg_hlen + 20)
		return (-1);
	th = pkt + sg->sg_hlen;
	sg->sg_thlen = (size_t)(th[12] >> 4) * 4;
	if (sg->sg_thlen < 20 || sg->sg_hlen + sg->sg_thlen >= len)
		return (-1);		/* no data */
	flags = th[13];
	if ((flags & ~(TH_ACK | TH_PUSH)) != 0 || !(flags & TH_ACK))
		return (-1);
	sg->sg_plen = len - sg->sg_hlen - sg->sg_thlen;
	sg->sg_psum = gro_sum(th + sg->sg_thlen, sg->sg_plen);
	/* A segment whose checksum is wrong goes alone: TCP drops it. */
	if (gro_add(gro_add(gro_pseudo(sg->sg_af, pkt, len - sg->sg_hlen),
	    gro_sum(th, sg->sg_thlen)), sg->sg_psum) != 0xffff)
		return (-1);
	sg->sg_seq = gro_rd32(th + 4);
	sg->sg_push = (flags & TH_PUSH) != 0;
	return (0);
}

int
gro_init(struct gro *g, size_t max)
{

	memset(g, 0, sizeof(*g));
	if (max == 0)
		return (0);
	if (max > GRO_MAX)
		max = GRO_MAX;
	if ((g->g_buf = malloc(max)) == NULL)
		return (-1);
	g->g_max = max;
	return (0);
}

void
gro_fini(struct gro *g)
{

	free(g->g_buf);
	memset(g, 0, sizeof(*g));
}

/*
 * Whether a decrypted packet may be coalesced at all: its facts in *sg.
 */
int
gro_check(const struct gro *g, const uint8_t *pkt, size_t len,
    const uint8_t *outer, size_t outerlen, struct gro_seg *sg)
{

	if (g->g_max == 0 || len >= g->g_max)
		return (0);
	return (gro_parse(pkt, len, outer, outerlen, sg) == 0);
}

/*
 * Append a checked segment to the run: 0, or -1 when it does not follow
 * the run (or there is none, or no room): the caller finishes the run
 * and starts another with it.
 */
int
gro_append(struct gro *g, const uint8_t *pkt, const struct gro_seg *sg)
{
	const uint8_t	*b = g->g_buf, *th, *bth;

	if (g->g_nseg == 0 || g->g_push || sg->sg_af != g->g_af ||
	    sg->sg_hlen != g->g_hlen || sg->sg_thlen != g->g_thlen ||
	    sg->sg_seq != g->g_nextseq ||
	    g->g_len + sg->sg_plen > g->g_max)
		return (-1);
	/* IP: addresses, TOS/TTL (v4), class, flow label, hop limit (v6). */
	if (g->g_af == 4) {
		if (pkt[1] != b[1] || pkt[8] != b[8] ||
		    (pkt[6] & 0x40) != (b[6] & 0x40) ||
		    memcmp(pkt + 12, b + 12, 8) != 0)
			return (-1);
	} else if (memcmp(pkt, b, 4) != 0 || pkt[7] != b[7] ||
	    memcmp(pkt + 8, b + 8, 32) != 0)
		return (-1);
	/* TCP: ports, ack, offset, window, urgent pointer, options. */
	th = pkt + sg->sg_hlen;
	bth = b + g->g_hlen;
	if (memcmp(th, bth, 4) != 0 || memcmp(th + 8, bth + 8, 5) != 0 ||
	    (th[13] & ~TH_PUSH) != (bth[13] & ~TH_PUSH) ||
	    memcmp(th + 14, bth + 14, 2) != 0 ||
	    memcmp(th + 18, bth + 18, 2) != 0 ||
	    memcmp(th + 20, bth + 20, sg->sg_thlen - 20) != 0)
		return (-1);
	memcpy(g->g_buf + g->g_len, th + sg->sg_thlen, sg->sg_plen);
	/* A payload that starts at an odd offset adds its sum swapped. */
	g->g_psum = gro_add(g->g_psum, (g->g_len - g->g_hlen -
	    g->g_thlen) & 1 ? (uint16_t)(sg->sg_psum >> 8 |
	    sg->sg_psum << 8) : sg->sg_psum);
	g->g_len += sg->sg_plen;
	g->g_nextseq += (uint32_t)sg->sg_plen;
	g->g_push = sg->sg_push;
	g->g_nseg++;
	return (0);
}

/* Start a run with a checked segment. */
void
gro_start(struct gro *g, const uint8_t *pkt, size_t len,
    const struct gro_seg *sg)
{

	memcpy(g->g_buf, pkt, len);
	g->g_len = len;
	g->g_af = sg->sg_af;
	g->g_hlen = sg->sg_hlen;
	g->g_thlen = sg->sg_thlen;
	g->g_psum = sg->sg_psum;
	g->g_nextseq = sg->sg_seq + (uint32_t)sg->sg_plen;
	g->g_push = sg->sg_push;
	g->g_nseg = 1;
}

/*
 * End the run: its packet, with lengths and checksums made right, and
 * its length in *lenp; NULL if there is no run.  The buffer is the run's
 * until the next gro_start().
 */
const uint8_t *
gro_finish(struct gro *g, size_t *lenp)
{
	uint8_t		*ip = g->g_buf, *th;
	uint16_t	 sum;
	size_t		 l4len;

	if (g->g_nseg == 0)
		return (NULL);
	th = ip + g->g_hlen;
	l4len = g->g_len - g->g_hlen;
	if (g->g_nseg > 1) {
		if (g->g_af == 4) {
			gro_wr16(ip + 2, (uint16_t)g->g_len);
			ip[10] = ip[11] = 0;
			gro_wr16(ip + 10, (uint16_t)~gro_sum(ip, IP4_HLEN));
		} else
			gro_wr16(ip + 4, (uint16_t)l4len);
		if (g->g_push)
			th[13] |= TH_PUSH;
		th[16] = th[17] = 0;
		sum = gro_add(gro_add(gro_pseudo(g->g_af, ip, l4len),
		    gro_sum(th, g->g_thlen)), g->g_psum);
		gro_wr16(th + 16, (uint16_t)~sum);
	}
	*lenp = g->g_len;
	g->g_nseg = 0;
	return (g->g_buf);
}
