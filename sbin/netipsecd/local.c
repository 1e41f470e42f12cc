/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * This host's addresses, for the packet path (ipsec_hook_setlocal()): an
 * inbound packet is for a socket bound to every address only if its
 * destination is one of ours, since a forwarded packet is nobody's
 * socket's.  The table is read from getifaddrs(3) at start and again
 * whenever rtnetlink says an address came or went; the queue thread
 * reads it under a read lock.  Until a new address is in the table, its
 * packets get the SPD's policy, never a socket's: that fails closed.
 */

#define	_GNU_SOURCE

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <errno.h>
#include <ifaddrs.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include <netipsec/ipsec_hook.h>

#include "netipsecd.h"

struct local_addr {
	int		la_af;
	uint8_t		la_addr[16];
};

static struct local {
	pthread_rwlock_t	 lo_lock;
	struct local_addr	*lo_addrs;
	size_t			 lo_n;
	int			 lo_fd;		/* rtnetlink: addresses */
	struct event		*lo_ev;
} local = { .lo_lock = PTHREAD_RWLOCK_INITIALIZER, .lo_fd = -1 };

static int	local_islocal(void *, int, const void *);
static void	local_load(void);
static void	local_read(int, short, void *);

/* ipsec_local_t: a linear look, hosts have few addresses. */
static int
local_islocal(void *arg __attribute__((__unused__)), int af,
    const void *addr)
{
	size_t	i, alen = af == AF_INET6 ? 16 : 4;
	int	found = 0;

	pthread_rwlock_rdlock(&local.lo_lock);
	for (i = 0; i < local.lo_n && !found; i++)
		found = local.lo_addrs[i].la_af == af &&
		    memcmp(local.lo_addrs[i].la_addr, addr, alen) == 0;
	pthread_rwlock_unlock(&local.lo_lock);
	return (found);
}

/* Read the addresses again; on failure the old table stays. */
static void
local_load(void)
{
	struct ifaddrs		*ifa, *ifap;
	struct local_addr	*t;
	size_t			 n;

	if (getifaddrs(&ifap) == -1) {
		log_warn("getifaddrs");
		return;
	}
	for (n = 0, ifa = ifap; ifa != NULL; ifa = ifa->ifa_next)
		n++;
	if ((t = calloc(n + 1, sizeof(*t))) == NULL) {
		log_warn("local_load");
		freeifaddrs(ifap);
		return;
	}
	for (n = 0, ifa = ifap; ifa != NULL; ifa = ifa->ifa_next) {
		if (ifa->ifa_addr == NULL)
			continue;
		if (ifa->ifa_addr->sa_family == AF_INET) {
			t[n].la_af = AF_INET;
			memcpy(t[n++].la_addr, &((struct sockaddr_in *)(void *)
			    ifa->ifa_addr)->sin_addr, 4);
		} else if (ifa->ifa_addr->sa_family == AF_INET6) {
			t[n].la_af = AF_INET6;
			memcpy(t[n++].la_addr, &((struct sockaddr_in6 *)(void *)
			    ifa->ifa_addr)->sin6_addr, 16);
		}
	}
	freeifaddrs(ifap);
	pthread_rwlock_wrlock(&local.lo_lock);
	free(local.lo_addrs);
	local.lo_addrs = t;
	local.lo_n = n;
	pthread_rwlock_unlock(&local.lo_lock);
	log_debug("local: %zu addresses", n);
}

/*
 * Before the queue starts: the table, and the subscription that keeps
 * it current (opened first, so that no change falls between the two).
 */
void
local_init(void)
{
	struct sockaddr_nl	snl;
	int			fd;

	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    NETLINK_ROUTE)) == -1)
		fatal("local_init: rtnetlink socket");
	memset(&snl, 0, sizeof(snl));
	snl.nl_family = AF_NETLINK;
	snl.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
	if (bind(fd, (struct sockaddr *)&snl, sizeof(snl)) == -1)
		fatal("local_init: rtnetlink bind");
	local.lo_fd = fd;
	local_load();
	ipsec_hook_setlocal(local_islocal, NULL);
}

void
local_start(struct event_base *base)
{

	if ((local.lo_ev = event_new(base, local.lo_fd, EV_READ | EV_PERSIST,
	    local_read, NULL)) == NULL || event_add(local.lo_ev, NULL) == -1)
		fatalx("local_start: cannot watch the addresses");
}

void
local_stop(void)
{

	ipsec_hook_setlocal(NULL, NULL);
	if (local.lo_ev != NULL)
		event_free(local.lo_ev);
	local.lo_ev = NULL;
	if (local.lo_fd != -1)
		close(local.lo_fd);
	local.lo_fd = -1;
	pthread_rwlock_wrlock(&local.lo_lock);
	free(local.lo_addrs);
	local.lo_addrs = NULL;
	local.lo_n = 0;
	pthread_rwlock_unlock(&local.lo_lock);
}

/* An address came or went (or some were lost): read them all again. */
static void
local_read(int fd, short event __attribute__((__unused__)),
    void *arg __attribute__((__unused__)))
{
	uint8_t	buf[8192];
	ssize_t	n;
	int	changed = 0;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) != 0) {
		if (n == -1) {
			if (errno == ENOBUFS) {
				changed = 1;
				continue;
			}
			break;
		}
		changed = 1;
	}
	if (changed)
		local_load();
}
