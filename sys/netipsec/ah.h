/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * AH (RFC 4302): the wire header, the transform's statistics and its
 * entry points (xform_ah.c).  The wire structs are usable anywhere; the
 * rest is kernel-only: include <ukern/ukern.h>, <net/pfkeyv2.h> and
 * <netipsec/keydb.h> first.
 */

#ifndef _NETIPSEC_AH_H_
#define _NETIPSEC_AH_H_

/* RFC 4302 header: the ICV (and IPv6's padding to 8 bytes) follows. */
struct newah {
	uint8_t		ah_nxt;		/* next header */
	uint8_t		ah_len;		/* in 32-bit words, minus 2 */
	uint16_t	ah_reserve;
	uint32_t	ah_spi;		/* network order */
	uint32_t	ah_seq;		/* network order, low 32 bits */
};

#define	AH_HDRLEN	12		/* sizeof(struct newah) */
#define	AH_MAXICVLEN	32		/* HMAC-SHA2-512-256 */

/* Statistics, named and counted as FreeBSD's ahstat. */
struct ahstat {
	uint64_t	ahs_hdrops;	/* packet shorter than header shows */
	uint64_t	ahs_nopf;	/* protocol family not supported */
	uint64_t	ahs_notdb;	/* no SA (the packet path's) */
	uint64_t	ahs_badkcr;	/* bad key or crypto session */
	uint64_t	ahs_badauth;	/* ICV check failed */
	uint64_t	ahs_noxform;	/* SA has no usable transform */
	uint64_t	ahs_qfull;
	uint64_t	ahs_wrap;	/* output sequence number would wrap */
	uint64_t	ahs_replay;	/* replayed or too old */
	uint64_t	ahs_badauthl;	/* AH length not the SA's */
	uint64_t	ahs_input;	/* packets accepted */
	uint64_t	ahs_output;	/* packets sent */
	uint64_t	ahs_invalid;	/* SA not valid (the packet path's) */
	uint64_t	ahs_ibytes;	/* bytes accepted (after AH) */
	uint64_t	ahs_obytes;	/* bytes sent (before AH) */
	uint64_t	ahs_toobig;	/* packet would exceed IP_MAXPACKET */
	uint64_t	ahs_pdrops;	/* dropped for policy */
	uint64_t	ahs_crypto;	/* crypto library errors */
	uint64_t	ahs_tunnel;	/* tunnel sanity check failed */
};

#ifdef _KERNEL
struct mbuf;
struct secasvar;

/* Key engine: at ADD/UPDATE (EINVAL: transform not implemented). */
int	ah_init(struct secasvar *);
/* Key engine: before the SA's keys and replay state are freed. */
void	ah_zeroize(struct secasvar *);

/*
 * Packet path.  ah_output: *mp is an IP packet of family af whose first
 * skip bytes, its IP header and any IPv6 hop-by-hop, routing and
 * destination options headers (at most IPSEC_HDRMAX in all), are
 * contiguous; AH goes in after them, the header that named what follows
 * now names AH, the length is updated and the ICV covers the packet with
 * its mutable fields zeroed (RFC 4302 §3.3.3.1; a routing header with
 * segments left is refused).  ah_input: *mp is such a packet with AH after the header;
 * once its ICV verifies it becomes what AH protected (the header and AH
 * gone), *nxtp that payload's protocol.  On error both free *mp, set it
 * to NULL and return an errno (EACCES: replay; EBADMSG: ICV; EINVAL:
 * lengths, sequence wrap).
 */
int	ah_output(struct secasvar *, struct mbuf **mp, int skip, int af);
int	ah_input(struct secasvar *, struct mbuf **mp, int skip, int af,
	    int *nxtp);
/* Largest number of bytes ah_output() adds. */
size_t	ah_hdrsiz(const struct secasvar *);
void	ah_getstat(struct ahstat *);
void	ah_zerostat(void);
#endif /* _KERNEL */

#endif /* !_NETIPSEC_AH_H_ */
