/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The host's side of ipsec_hook(9) on Linux, for code that does not
 * include ukern.h (whose malloc(9) is not libc's): netipsecd makes an
 * mbuf of each queued packet and sends what comes back from its bytes;
 * tests, fuzz targets and pcap tools may call the hook with a flat
 * packet and get a replacement as a buffer to free with
 * ipsec_hook_free().  A BSD kernel's packets are mbufs already.
 */

#ifndef _UKERN_UKERN_HOOK_H_
#define _UKERN_UKERN_HOOK_H_

#include <stddef.h>
#include <stdint.h>

struct mbuf;

/* m_devget(9): the len bytes at pkt as a packet; NULL: out of memory. */
struct mbuf *ukern_m_frombuf(const void *pkt, size_t len);
/*
 * The bytes of packet *mp, contiguous: its first mbuf's data, pulled up
 * if it was a chain (*lenp bytes).  NULL: out of memory, *mp freed and
 * NULL.  Valid until *mp is freed.
 */
const void *ukern_m_flat(struct mbuf **mp, size_t *lenp);
void	ukern_m_freem(struct mbuf *);

/* ipsec_hook()'s verdicts; *outp (*outlenp bytes) only with REPLACE. */
int	ukern_ipsec_hook(int where, const void *pkt, size_t len,
	    uint64_t cookie, void **outp, size_t *outlenp);
int	ukern_ipsec_if_output(unsigned int ifindex, const void *pkt,
	    size_t len, uint64_t cookie, void **outp, size_t *outlenp);

#endif /* !_UKERN_UKERN_HOOK_H_ */
