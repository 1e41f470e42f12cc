/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * IP payload compression (RFC 3173) with deflate (RFC 2394), as
 * FreeBSD's netipsec/ipcomp.h and ipcomp_var.h.
 */

#ifndef _NETIPSEC_IPCOMP_H_
#define	_NETIPSEC_IPCOMP_H_

#ifndef IPPROTO_IPCOMP
#define	IPPROTO_IPCOMP	108		/* Linux calls it IPPROTO_COMP */
#endif

struct ipcomp {
	uint8_t		comp_nxt;	/* next header */
	uint8_t		comp_flags;	/* reserved, zero */
	uint16_t	comp_cpi;	/* network order */
};

#define	IPCOMP_HLENGTH	4		/* sizeof(struct ipcomp) */

/* Well-known CPIs (RFC 2407 section 4.4.5), below the negotiated ones. */
#define	IPCOMP_OUI	1
#define	IPCOMP_DEFLATE	2		/* RFC 2394 */
#define	IPCOMP_LZS	3		/* RFC 2395 */
#define	IPCOMP_MAX	4
#define	IPCOMP_CPI_NEGOTIATE_MIN	256

#define	IPCOMP_ALG_MAX	8

/* Statistics, named and counted as FreeBSD's ipcompstat. */
struct ipcompstat {
	uint64_t	ipcomps_hdrops;	/* packet shorter than header shows */
	uint64_t	ipcomps_nopf;	/* protocol family not supported */
	uint64_t	ipcomps_notdb;	/* no SA (the packet path's) */
	uint64_t	ipcomps_badkcr;
	uint64_t	ipcomps_qfull;
	uint64_t	ipcomps_noxform;	/* SA has no usable transform */
	uint64_t	ipcomps_wrap;
	uint64_t	ipcomps_input;	/* packets decompressed */
	uint64_t	ipcomps_output;	/* packets given to compression */
	uint64_t	ipcomps_invalid;
	uint64_t	ipcomps_ibytes;	/* bytes after decompression */
	uint64_t	ipcomps_obytes;	/* bytes before compression */
	uint64_t	ipcomps_toobig;	/* would exceed IP_MAXPACKET */
	uint64_t	ipcomps_pdrops;	/* IPComp in IPComp, or disabled */
	uint64_t	ipcomps_crypto;	/* (de)compression failed */
	uint64_t	ipcomps_hist[IPCOMP_ALG_MAX];	/* by algorithm */
	uint64_t	ipcomps_threshold;	/* sent as is: under minlen */
	uint64_t	ipcomps_uncompr;	/* sent as is: did not shrink */
};

#ifdef _KERNEL
struct mbuf;
struct secasvar;

/* net.inet.ipcomp.ipcomp_enable (FreeBSD's), 1. */
extern int	ipcomp_enable;
/*
 * net.inet.ipcomp.minlen: packets of this many bytes or fewer (IP header
 * included) go uncompressed; 90, FreeBSD's deflate threshold.
 */
extern u_int	ipcomp_minlen;

/* Key engine: at ADD/UPDATE (EINVAL: algorithm not implemented). */
int	ipcomp_init(struct secasvar *);
void	ipcomp_zeroize(struct secasvar *);

/*
 * Packet path.  ipcomp_output: *mp is an IP packet of family af whose
 * first skip bytes, its IP header, are contiguous; what follows is
 * compressed and IPComp goes in after the header, whose protocol and
 * length are updated, unless the packet is at most ipcomp_minlen bytes
 * or would not shrink: then it is left as it is (RFC 3173 section 2.2).
 * ipcomp_input: *mp starts with the IPComp header; it becomes the
 * decompressed payload, *nxtp its protocol.  On error both free *mp,
 * set it to NULL and return an errno.
 */
int	ipcomp_output(struct secasvar *, struct mbuf **mp, int skip, int af);
int	ipcomp_input(struct secasvar *, struct mbuf **mp, int *nxtp);
void	ipcomp_getstat(struct ipcompstat *);
void	ipcomp_zerostat(void);
#endif /* _KERNEL */

#endif /* !_NETIPSEC_IPCOMP_H_ */
