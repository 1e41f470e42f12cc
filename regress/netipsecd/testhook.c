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

static ipsec_release_t	*th_release;
static void		*th_release_arg;
static pthread_mutex_t	 th_mtx = PTHREAD_MUTEX_INITIALIZER;

struct th_held {
	uint64_t	cookie;
	int		verdict;
	size_t		len;
	uint8_t		pkt[];
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
	if (fn != NULL)
		fn(fnarg, h->cookie, h->verdict,
		    h->verdict == IPSEC_HOOK_DROP ? NULL : h->pkt,
		    h->verdict == IPSEC_HOOK_DROP ? 0 : h->len);
	free(h);
	return (NULL);
}

int
ipsec_hook(int where, const void *pkt, size_t len, uint64_t cookie,
    void **outp, size_t *outlenp)
{
	const uint8_t	*p = pkt;
	struct th_held	*h;
	pthread_t	 t;
	uint8_t		*o;
	int		 tos;

	(void)where;
	*outp = NULL;
	*outlenp = 0;
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
		return (IPSEC_HOOK_DROP);
	case 0x08:
		if ((o = malloc(len)) == NULL)
			return (IPSEC_HOOK_DROP);
		memcpy(o, pkt, len);
		*outp = o;
		*outlenp = len;
		return (IPSEC_HOOK_REPLACE);
	case 0x0c:
	case 0x10:
		if ((h = malloc(sizeof(*h) + len)) == NULL)
			return (IPSEC_HOOK_DROP);
		h->cookie = cookie;
		h->verdict = (tos & 0xfc) == 0x0c ? IPSEC_HOOK_REPLACE :
		    IPSEC_HOOK_DROP;
		h->len = len;
		memcpy(h->pkt, pkt, len);
		if (pthread_create(&t, NULL, th_release_later, h) != 0) {
			free(h);
			return (IPSEC_HOOK_DROP);
		}
		pthread_detach(t);
		return (IPSEC_HOOK_HELD);
	case 0x14:
		/* An IPv6 header for an IPv4 packet, or the reverse. */
		if ((o = calloc(1, 40)) == NULL)
			return (IPSEC_HOOK_DROP);
		o[0] = p[0] >> 4 == 4 ? 0x60 : 0x45;
		*outp = o;
		*outlenp = p[0] >> 4 == 4 ? 40 : 20;
		return (IPSEC_HOOK_REPLACE);
	}
	return (IPSEC_HOOK_PASS);
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
