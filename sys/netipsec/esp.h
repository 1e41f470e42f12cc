/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * ESP (RFC 4303): the wire header, the transform's statistics and its
 * entry points (xform_esp.c).  The wire structs are usable anywhere; the
 * rest is kernel-only: include <ukern/ukern.h>, <net/pfkeyv2.h> and
 * <netipsec/keydb.h> first.
 */

#ifndef _NETIPSEC_ESP_H_
#define _NETIPSEC_ESP_H_

/* RFC 4303 header: SPI and sequence number, both in network order. */
struct newesp {
	uint32_t	esp_spi;
	uint32_t	esp_seq;
	/* IV, payload, padding, pad length, next header, ICV */
};

#define	ESP_HDRLEN	8		/* sizeof(struct newesp) */
#define	ESP_MAXPAD	255
#define	ESP_MAXIVLEN	16
#define	ESP_AEAD_ICVLEN	16	/* GCM-16, Poly1305 */
#define	ESP_MAXICVLEN	32		/* HMAC-SHA2-512-256 */

/* Statistics, named and counted as FreeBSD's espstat. */
struct espstat {
	uint64_t	esps_hdrops;	/* packet shorter than header shows */
	uint64_t	esps_nopf;	/* protocol family not supported */
	uint64_t	esps_notdb;	/* no SA (the packet path's) */
	uint64_t	esps_badkcr;	/* bad key or crypto session */
	uint64_t	esps_qfull;
	uint64_t	esps_noxform;	/* SA has no usable transform */
	uint64_t	esps_badilen;	/* bad length or padding length */
	uint64_t	esps_wrap;	/* output sequence number would wrap */
	uint64_t	esps_badenc;	/* bad padding after decryption */
	uint64_t	esps_badauth;	/* ICV check failed */
	uint64_t	esps_replay;	/* replayed or too old */
	uint64_t	esps_input;	/* packets accepted */
	uint64_t	esps_output;	/* packets sent */
	uint64_t	esps_invalid;	/* SA not valid (the packet path's) */
	uint64_t	esps_ibytes;	/* payload bytes accepted */
	uint64_t	esps_obytes;	/* payload bytes sent */
	uint64_t	esps_toobig;	/* packet would exceed IP_MAXPACKET */
	uint64_t	esps_pdrops;	/* dropped for policy */
	uint64_t	esps_crypto;	/* crypto library errors */
	uint64_t	esps_tunnel;	/* tunnel sanity check failed */
};

#ifdef _KERNEL
struct mbuf;
struct secasvar;

/* Key engine: at ADD/UPDATE (EINVAL: transform not implemented). */
int	esp_init(struct secasvar *);
/* Key engine: before the SA's keys and replay state are freed. */
void	esp_zeroize(struct secasvar *);

/*
 * Packet path.  esp_output: *mp holds the payload (transport mode: the
 * upper-layer payload, nxt its protocol; tunnel mode: the inner packet,
 * nxt 4 or 41) and becomes ESP header, IV, ciphertext, trailer and ICV;
 * the caller prepends the outer IP header.  esp_input: *mp holds the ESP
 * header onwards and becomes the payload, *nxtp its protocol.  On error
 * both free *mp, set it to NULL and return an errno (EACCES: replay;
 * EBADMSG: ICV; EINVAL: length, padding, sequence wrap).
 */
int	esp_output(struct secasvar *, struct mbuf **mp, int nxt);
int	esp_input(struct secasvar *, struct mbuf **mp, int *nxtp);
/* Largest number of bytes esp_output() adds (for MTU and mbuf sizing). */
size_t	esp_hdrsiz(const struct secasvar *);
void	esp_getstat(struct espstat *);
void	esp_zerostat(void);
#endif /* _KERNEL */

#endif /* !_NETIPSEC_ESP_H_ */
