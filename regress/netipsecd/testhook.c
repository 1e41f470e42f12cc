/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * A test-only IPsec layer for netipsecd's packet hook (t_nfq): the
 * ipsec_hook(9) interface of sys/netipsec/ipsec_hook.h with verdicts
 * chosen by the packet's TOS (IPv4) or traffic class (IPv6), so that a
 * test picks the verdict of each packet it sends:
 *
 *	0x04	IPSEC_HOOK_DROP
 *	0x08	IPSEC_HOOK_REPLACE with an identical copy
 *	0x0c	IPSEC_HOOK_HELD, released 100 ms later with REPLACE
 *	0x10	IPSEC_HOOK_HELD, released 100 ms later with DROP
 *	0x14	IPSEC_HOOK_REPLACE with a packet of the other family
 *	other	IPSEC_HOOK_PASS
 *
 * Linked into t_netipsecd ahead of libnetipsec.a (whose definitions it
 * overrides); never part of netipsecd itself.
 */

#include <sys/types.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netipsec/ipsec_hook.h>
#include <ukern/ukern_hook.h>

static ipsec_release_t	*th_release;
static void		*th_release_arg;
static pthread_mutex_t	 th_mtx = PTHREAD_MUTEX_INITIALIZER;

struct th_held {
	uint64_t	 cookie;
	int		 verdict;
	struct mbuf	*m;
};

static void *
th_release_later(void *arg)
{
	struct th_held		*h = arg;
	struct timespec		 ts = { 0, 100 * 1000 * 1000 };
	ipsec_release_t		*fn;
	void			*fnarg;

	nanosleep(&ts, NULL);
	pthread_mutex_lock(&th_mtx);
	fn = th_release;
	fnarg = th_release_arg;
	pthread_mutex_unlock(&th_mtx);
	if (h->verdict == IPSEC_HOOK_DROP) {
		ukern_m_freem(h->m);
		h->m = NULL;
	}
	if (fn != NULL)
		fn(fnarg, h->cookie, h->verdict, h->m);
	else if (h->m != NULL)
		ukern_m_freem(h->m);
	free(h);
	return (NULL);
}

int
ipsec_hook(int where, struct mbuf **mp, uint64_t cookie)
{
	const uint8_t	*p;
	struct th_held	*h;
	pthread_t	 t;
	uint8_t		 o[40];
	size_t		 len;
	int		 tos;

	(void)where;
	if ((p = ukern_m_flat(mp, &len)) == NULL)
		return (IPSEC_HOOK_DROP);
	if (len < 2)
		return (IPSEC_HOOK_PASS);
	if (p[0] >> 4 == 4)
		tos = p[1];
	else if (p[0] >> 4 == 6)
		tos = (p[0] & 0x0f) << 4 | p[1] >> 4;
	else
		return (IPSEC_HOOK_PASS);

	switch (tos & 0xfc) {
	case 0x04:
		break;
	case 0x08:
		return (IPSEC_HOOK_REPLACE);	/* the same bytes */
	case 0x0c:
	case 0x10:
		if ((h = malloc(sizeof(*h))) == NULL)
			break;
		h->cookie = cookie;
		h->verdict = (tos & 0xfc) == 0x0c ? IPSEC_HOOK_REPLACE :
		    IPSEC_HOOK_DROP;
		h->m = *mp;
		if (pthread_create(&t, NULL, th_release_later, h) != 0) {
			free(h);
			break;
		}
		*mp = NULL;
		pthread_detach(t);
		return (IPSEC_HOOK_HELD);
	case 0x14:
		/* An IPv6 header for an IPv4 packet, or the reverse. */
		memset(o, 0, sizeof(o));
		o[0] = p[0] >> 4 == 4 ? 0x60 : 0x45;
		len = p[0] >> 4 == 4 ? 40 : 20;
		ukern_m_freem(*mp);
		*mp = ukern_m_frombuf(o, len);
		return (*mp != NULL ? IPSEC_HOOK_REPLACE : IPSEC_HOOK_DROP);
	default:
		return (IPSEC_HOOK_PASS);
	}
	ukern_m_freem(*mp);
	*mp = NULL;
	return (IPSEC_HOOK_DROP);
}

void
ipsec_hook_free(void *p)
{
	free(p);
}

void
ipsec_hook_setrelease(ipsec_release_t *fn, void *arg)
{
	pthread_mutex_lock(&th_mtx);
	th_release = fn;
	th_release_arg = arg;
	pthread_mutex_unlock(&th_mtx);
}

void
ipsec_getstat(struct ipsecstat *st)
{
	memset(st, 0, sizeof(*st));
}
