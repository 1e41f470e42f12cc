/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Between the key engine and the packet path (ipsec_hook.c), kernel-only:
 * the packet path's tunables (net.inet.ipsec.*, listed with the others in
 * key.c) and the calls by which the key engine tells the packet path that
 * held packets may have an SA now, or have waited too long.
 */

#ifndef _NETIPSEC_IPSEC_HOOK_VAR_H_
#define _NETIPSEC_IPSEC_HOOK_VAR_H_

#ifdef _KERNEL
extern u_int ipsec_acq_hold;		/* net.inet.ipsec.acq_hold */
extern u_int ipsec_acq_hold_total;	/* net.inet.ipsec.acq_hold_total */
extern u_int ipsec_dfbit;		/* net.inet.ipsec.dfbit */
extern u_int ipsec_esp_trans_deflev;	/* net.inet.ipsec.esp_trans_deflev */
extern u_int ipsec_esp_net_deflev;	/* net.inet.ipsec.esp_net_deflev */

/* An SA became usable (ADD, UPDATE): retry the held packets. */
void	ipsec_hold_kick(const struct secasindex *);
/* Once a second: drop held packets older than net.key.blockacq_lifetime. */
void	ipsec_hold_timer(time_t now);
/* key_destroy(): drop everything held. */
void	ipsec_hold_flush(void);

/* if_ipsec(4) interfaces (ipsec_if.c); see ipsec_hook.h. */
struct secpolicy;
struct secasvar;
struct secpolicy *ipsec_if_policy(u_int ifindex, int af);
int	ipsec_addr_eq(const union sockaddr_union *,
	    const union sockaddr_union *);	/* ipsec_hook.c */
u_int	ipsec_if_input(const struct secasvar *);
void	ipsec_if_flush(void);

/*
 * Transport mode keeps the IP header and the IPv6 extension headers in
 * front of the transform: at most this many bytes of them (IPv6: 72 of
 * extension headers), which with AH's stays within FreeBSD's MHLEN for
 * m_pullup().  Longer: dropped and counted.
 */
#define	IPSEC_HDRMAX	112

/* ipsec_hook.c, for the files below: buffers for the host, checksums. */
void	*ipsec_hook_alloc(size_t);
uint32_t ipsec_sum(uint32_t, const uint8_t *, size_t);
void	ipsec_ip4_finish(uint8_t *, size_t);
int	ipsec_v6_nhoff(const uint8_t *, int);

/* ipsec_pmtu.c: path MTU over an SA, the host's raw output. */
struct secasvar;
struct secasindex;
u_int	ipsec_pmtu_get(int where, const struct secasindex *,
	    const uint8_t *, int af);
size_t	ipsec_sa_overhead(const struct secasvar *,
	    const struct secasindex *);
u_int	ipsec_pmtu_check(u_int mtu, size_t overhead, size_t, int af);
int	ipsec_pmtu_icmp(int where, const struct secasindex *,
	    const uint8_t *, size_t, int af, u_int mtu);
int	ipsec_host_output(const void *, size_t);
int	ipsec_host_output_frag(const uint8_t *, size_t, int ours);

/* ipsec_reass.c: inbound fragments (ESP, and anything for this host). */
#define	IPSEC_REASS_NONE	0	/* not an ESP fragment */
#define	IPSEC_REASS_KEPT	1	/* kept: drop this packet */
#define	IPSEC_REASS_BAD		2	/* refused: drop this packet */
#define	IPSEC_REASS_DONE	3	/* the whole datagram is ready */
void	ipsec_reass_init(void);
int	ipsec_reass(const uint8_t *, size_t, int, uint8_t **, size_t *);
void	ipsec_reass_flush(void);

/* The inbound SA for an ESP packet; the caller holds SAHTREE_RLOCK. */
struct secasvar *key_allocsa(const union sockaddr_union *dst, uint8_t proto,
	    uint32_t spi);
#endif /* _KERNEL */

#endif /* !_NETIPSEC_IPSEC_HOOK_VAR_H_ */
