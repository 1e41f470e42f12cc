/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The key engine's interface to its host and to the rest of the IPsec
 * layer: start and stop, tunables, and (for the data plane) the SPD and
 * SAD lookups and the ACQUIRE trigger.
 */

#ifndef _NETIPSEC_KEY_H_
#define _NETIPSEC_KEY_H_

/* Start and stop the key engine (tables, the once-a-second timer). */
void	key_init(void);
void	key_destroy(void);

/*
 * Tunables, named like FreeBSD's sysctls ("net.key.larval_lifetime").
 * key_sysctl_set() returns 0, ENOENT for an unknown name or EINVAL for a
 * value out of range; key_sysctl_foreach() walks them all in name order.
 */
int	key_sysctl_set(const char *name, long value);
int	key_sysctl_get(const char *name, long *value);
void	key_sysctl_foreach(void (*)(const char *name, long value,
	    const char *descr, void *arg), void *arg);

/*
 * The packet path asks for an SA: a packet from "src" to "dst" matched
 * policy "spid" and no SA serves its first request.  Sends SADB_ACQUIRE to
 * the registered sockets unless the throttle holds it back (EAGAIN);
 * ENOENT for an unknown or non-IPsec policy.  key_acquire_req(): the same
 * for request idx of a bundle, src and dst being the addresses of the
 * packet that request sees (a tunnel's endpoints after a tunnel request).
 */
struct sockaddr;
int	key_acquire_spid(uint32_t spid, const struct sockaddr *src,
	    const struct sockaddr *dst);
int	key_acquire_req(uint32_t spid, u_int idx, const struct sockaddr *src,
	    const struct sockaddr *dst);

/* The numbers of SAs and of policies. */
void	key_counts(unsigned int *nsa, unsigned int *nsp);

/* The key engine's refusals at its ceilings (not in FreeBSD). */
struct keystat {
	uint64_t	ks_sadfull;	/* GETSPI, ADD: net.key.sa_max */
	uint64_t	ks_spdfull;	/* SPDADD: net.key.sp_max */
	uint64_t	ks_acqfull;	/* ACQUIREs not sent: net.key.acq_max */
	uint64_t	ks_dumpbusy;	/* DUMPs refused: one in progress */
};
void	key_getstat(struct keystat *);

#endif /* !_NETIPSEC_KEY_H_ */
