/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Anti-replay window (RFC 4303 §3.4.3, RFC 6479 bitmap, ESN per RFC 4303
 * Appendix A).  Kernel-only.  Include <ukern/ukern.h>, <net/pfkeyv2.h>
 * and <netipsec/keydb.h> first.
 *
 * Inbound: ipsec_chkreplay() before the ICV is checked (cheap rejection,
 * and it infers the high-order ESN bits the ICV covers), then
 * ipsec_updatereplay() only once the ICV has passed.  Both take the
 * replay lock themselves.
 */

#ifndef _NETIPSEC_IPSEC_REPLAY_H_
#define _NETIPSEC_IPSEC_REPLAY_H_

#ifdef _KERNEL

/* Largest window, in packets (wsize * 8), ipsec_replay_init() accepts. */
#define	IPSEC_REPLAY_MAXWINDOW	(1U << 20)

int	ipsec_replay_init(struct secasvar *);
void	ipsec_replay_fini(struct secasvar *);
int	ipsec_chkreplay(struct secasvar *, uint32_t seq, uint64_t *seq64);
/* Output: the SA's next sequence number; EINVAL when it would wrap. */
int	ipsec_nextseq(struct secasvar *, uint64_t *seq64);
int	ipsec_updatereplay(struct secasvar *, uint64_t seq64);

#endif /* _KERNEL */
#endif /* !_NETIPSEC_IPSEC_REPLAY_H_ */
