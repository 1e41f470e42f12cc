/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Receive coalescing of decrypted TCP segments (gro.c).
 */

#ifndef _NETIPSECD_GRO_H_
#define _NETIPSECD_GRO_H_

#include <stddef.h>
#include <stdint.h>

/* The largest coalesced packet: what a verdict's attribute carries. */
#define	GRO_MAX		65531

/* One segment's facts, from gro_check(). */
struct gro_seg {
	int		sg_af;		/* 4 or 6 */
	size_t		sg_hlen;	/* IP header */
	size_t		sg_thlen;	/* TCP header */
	size_t		sg_plen;	/* payload */
	uint16_t	sg_psum;	/* its folded sum */
	uint32_t	sg_seq;
	int		sg_push;
};

/* The run being built. */
struct gro {
	uint8_t		*g_buf;		/* g_max bytes */
	size_t		 g_max;		/* 0: coalescing is off */
	size_t		 g_len;
	int		 g_nseg;	/* 0: no run */
	int		 g_af;
	size_t		 g_hlen, g_thlen;
	uint16_t	 g_psum;	/* sum of the payload so far */
	uint32_t	 g_nextseq;
	int		 g_push;
};

int		 gro_init(struct gro *, size_t);
void		 gro_fini(struct gro *);
int		 gro_check(const struct gro *, const uint8_t *, size_t,
		    const uint8_t *, size_t, struct gro_seg *);
int		 gro_append(struct gro *, const uint8_t *,
		    const struct gro_seg *);
void		 gro_start(struct gro *, const uint8_t *, size_t,
		    const struct gro_seg *);
const uint8_t	*gro_finish(struct gro *, size_t *);
uint16_t	 gro_sum(const uint8_t *, size_t);

#endif /* !_NETIPSECD_GRO_H_ */
