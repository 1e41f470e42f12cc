/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The network of the exchange tests: net_send() queues the datagram on
 * its sender instead of sending it (exchange_harness.c delivers it, or
 * drops, duplicates, reorders it).  sbin/iked/net.c is linked too, for
 * its sockaddr helpers, with its own net_send renamed away (Makefile).
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>

#include "exchange_harness.h"

#define NET_NONESP	4	/* the non-ESP marker of port 4500 */

int
net_send(struct iked *env, const struct sockaddr *local,
    const struct sockaddr *peer, const uint8_t *buf, size_t len)
{
	struct xt_peer	*p = xt_peer(env);
	struct xt_dgram	*dg;
	size_t		 off;

	if (peer->sa_family != local->sa_family ||
	    (dg = calloc(1, sizeof(*dg))) == NULL)
		return (-1);
	/* On 4500 the receiver expects the marker, as from the socket. */
	dg->dg_natt = sa_port(local) == env->sc_nattport;
	off = dg->dg_natt ? NET_NONESP : 0;
	if ((dg->dg_buf = calloc(1, len + off)) == NULL) {
		free(dg);
		return (-1);
	}
	memcpy(dg->dg_buf + off, buf, len);
	dg->dg_len = len + off;
	memcpy(&dg->dg_src, local, sa_len(local));
	memcpy(&dg->dg_dst, peer, sa_len(peer));
	TAILQ_INSERT_TAIL(&p->p_out, dg, dg_entry);
	p->p_sent++;
	env->sc_stats.st_tx++;
	return (0);
}
