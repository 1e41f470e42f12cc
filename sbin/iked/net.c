/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The IKE sockets: UDP 500 and 4500 (RFC 3947, RFC 3948: a non-ESP
 * marker before each IKE message) for IPv4 and IPv6, bound to the
 * wildcard address; the local address of each datagram comes from
 * IP_PKTINFO/IPV6_PKTINFO and replies leave from it.  They are ours
 * alone (no SO_REUSEADDR: a second daemon cannot bind them and read our
 * peers' messages), and they bypass IPsec both ways by their own
 * policies, as on FreeBSD: IKE is never caught by the SAs it negotiates,
 * and nothing but these sockets is exempt.  Also the small sockaddr
 * helpers the daemon shares.
 */

#ifdef __linux__
#define _GNU_SOURCE		/* struct in6_pktinfo in glibc */
#endif

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include <libpfkey.h>

#include "iked.h"

#define NET_BUFSIZE	65536
#define NET_NONESP	4	/* the non-ESP marker: four zero bytes */
#define IKED_SOCKBUF	(16 * 1024 * 1024)	/* per socket and way, bursts */

in_port_t
sa_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohs(((const struct sockaddr_in *)sa)->sin_port));
	if (sa->sa_family == AF_INET6)
		return (ntohs(((const struct sockaddr_in6 *)sa)->sin6_port));
	return (0);
}

void
sa_setport(struct sockaddr *sa, in_port_t port)
{
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)sa)->sin_port = htons(port);
	else if (sa->sa_family == AF_INET6)
		((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
}

socklen_t
sa_len(const struct sockaddr *sa)
{
	return (sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in));
}

/* Keep an IPv4 or IPv6 address (else none: AF_UNSPEC) in an SA. */
void
sa_set(union iked_sockaddr *u, const struct sockaddr *sa)
{
	memset(u, 0, sizeof(*u));
	if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)
		memcpy(u, sa, sa_len(sa));
}

/* And give it back where a sockaddr_storage is wanted. */
void
sa_get(struct sockaddr_storage *ss, const union iked_sockaddr *u)
{
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, u, sizeof(*u));
}

static const uint8_t *
sa_addr(const struct sockaddr *sa, size_t *len)
{
	if (sa->sa_family == AF_INET) {
		*len = 4;
		return ((const uint8_t *)
		    &((const struct sockaddr_in *)sa)->sin_addr);
	}
	if (sa->sa_family == AF_INET6) {
		*len = 16;
		return ((const uint8_t *)
		    &((const struct sockaddr_in6 *)sa)->sin6_addr);
	}
	*len = 0;
	return (NULL);
}

/* 0 when both addresses (not ports) are equal. */
int
sa_cmpaddr(const struct sockaddr *a, const struct sockaddr *b)
{
	const uint8_t	*pa, *pb;
	size_t		 la, lb;

	if (a->sa_family != b->sa_family)
		return (-1);
	pa = sa_addr(a, &la);
	pb = sa_addr(b, &lb);
	if (pa == NULL || la != lb)
		return (-1);
	return (memcmp(pa, pb, la) == 0 ? 0 : 1);
}

/*
 * A total order of addresses (family, then the address; not ports), for
 * the red-black trees that index by address.  Unknown families sort
 * first, all equal.
 */
int
sa_addrorder(const struct sockaddr *a, const struct sockaddr *b)
{
	const uint8_t	*pa, *pb;
	size_t		 la, lb;

	if (a->sa_family != b->sa_family)
		return (a->sa_family < b->sa_family ? -1 : 1);
	pa = sa_addr(a, &la);
	pb = sa_addr(b, &lb);
	if (pa == NULL || pb == NULL || la != lb)
		return (0);
	return (memcmp(pa, pb, la));
}

/* 1 when addr is inside net/plen. */
int
sa_inprefix(const struct sockaddr *addr, const struct sockaddr *net, int plen)
{
	const uint8_t	*pa, *pn;
	size_t		 la, ln;
	int		 bytes, bits;

	if (addr->sa_family != net->sa_family)
		return (0);
	pa = sa_addr(addr, &la);
	pn = sa_addr(net, &ln);
	if (pa == NULL || la != ln || plen < 0 || (size_t)plen > la * 8)
		return (0);
	bytes = plen / 8;
	bits = plen % 8;
	if (memcmp(pa, pn, bytes) != 0)
		return (0);
	if (bits != 0 && ((pa[bytes] ^ pn[bytes]) & (0xff00 >> bits)) != 0)
		return (0);
	return (1);
}

const char *
print_host(const struct sockaddr *sa, char *buf, size_t len)
{
	char		 a[INET6_ADDRSTRLEN];
	const void	*p;
	size_t		 alen;

	if ((p = sa_addr(sa, &alen)) == NULL ||
	    inet_ntop(sa->sa_family, p, a, sizeof(a)) == NULL) {
		strlcpy(buf, "?", len);
		return (buf);
	}
	if (sa_port(sa) != 0)
		snprintf(buf, len, sa->sa_family == AF_INET6 ? "[%s]:%u" :
		    "%s:%u", a, sa_port(sa));
	else
		strlcpy(buf, a, len);
	return (buf);
}

/*
 * A socket is readable: up to IKED_RX_BATCH datagrams, then the other
 * events get their turn.  A batch that did not empty the socket, its
 * new exchanges more than twice those under way, makes the next one a
 * busy one, in which new exchanges are answered only in part
 * (halfopen.c): the
 * daemon reads faster than it answers, and a socket it keeps empty
 * loses nothing of the exchanges under way.
 */
static void
net_recv(evutil_socket_t fd, short event, void *arg)
{
	static int		 backlog[IKED_SOCK_MAX];
	struct iked		*env = arg;
	struct sockaddr_storage	 peer, local;
	struct msghdr		 mh;
	struct iovec		 iov;
	struct cmsghdr		*cm;
	union {
		struct cmsghdr	 hdr;
		uint8_t		 buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	}			 cbuf;
	static uint8_t		 buf[NET_BUFSIZE];
	ssize_t			 n;
	int			 i, slot = -1, natt, nread;

	(void)event;
	for (i = 0; i < IKED_SOCK_MAX; i++)
		if (env->sc_sock[i] == fd)
			slot = i;
	if (slot == -1)
		return;
	natt = slot & 1;
	halfopen_batch(env, backlog[slot]);
	for (nread = 0; nread < IKED_RX_BATCH; nread++) {
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = buf;
		iov.iov_len = sizeof(buf);
		mh.msg_name = &peer;
		mh.msg_namelen = sizeof(peer);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = &cbuf;
		mh.msg_controllen = sizeof(cbuf);
		if ((n = recvmsg(fd, &mh, 0)) == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("%s: recvmsg", __func__);
			break;
		}
		/* The local address: the socket's port, the datagram's. */
		memset(&local, 0, sizeof(local));
		local.ss_family = slot < 2 ? AF_INET : AF_INET6;
		sa_setport((struct sockaddr *)&local, natt ?
		    env->sc_nattport : env->sc_port);
		for (cm = CMSG_FIRSTHDR(&mh); cm != NULL;
		    cm = CMSG_NXTHDR(&mh, cm)) {
#ifdef IP_PKTINFO	/* Linux */
			if (cm->cmsg_level == IPPROTO_IP &&
			    cm->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				((struct sockaddr_in *)&local)->sin_addr =
				    pi.ipi_addr;
			} else
#else		/* BSD */
			if (cm->cmsg_level == IPPROTO_IP &&
			    cm->cmsg_type == IP_RECVDSTADDR) {
				memcpy(&((struct sockaddr_in *)&local)->
				    sin_addr, CMSG_DATA(cm),
				    sizeof(struct in_addr));
			} else
#endif
			if (cm->cmsg_level == IPPROTO_IPV6 &&
			    cm->cmsg_type == IPV6_PKTINFO) {
				struct in6_pktinfo pi;

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				((struct sockaddr_in6 *)&local)->sin6_addr =
				    pi.ipi6_addr;
			}
		}
		env->sc_stats.st_rx++;
		ikesa_recv(env, natt, (struct sockaddr *)&local,
		    (struct sockaddr *)&peer, buf, (size_t)n);
	}
	backlog[slot] = halfopen_batch_busy(env, nread == IKED_RX_BATCH);
}

/*
 * "in bypass" and "out bypass" on an IKE socket (IP_IPSEC_POLICY /
 * IPV6_IPSEC_POLICY; on Linux through netipsecd, once it is bound).
 */
static int
net_bypass(int s)
{
	static const char *const pol[] = { "in bypass", "out bypass" };
	char	*buf;
	size_t	 i;
	int	 ret, error;

	for (i = 0; i < sizeof(pol) / sizeof(pol[0]); i++) {
		if ((buf = ipsec_set_policy(pol[i], (int)strlen(pol[i]))) ==
		    NULL) {
			errno = EINVAL;
			return (-1);
		}
		ret = ipsec_setsockpolicy(s, buf,
		    (size_t)ipsec_get_policylen(buf));
		error = errno;
		free(buf);
		if (ret == -1) {
			errno = error;
			return (-1);
		}
	}
	return (0);
}

/*
 * Both buffers of socket s at size bytes, above the system's ceiling
 * where we may (Linux, as root).  Failure is harmless: the defaults.
 */
void
net_sockbuf(int s, int size)
{
#ifdef SO_RCVBUFFORCE	/* Linux, as root: above net.core.rmem_max */
	if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof(size)) == -1)
#endif
		(void)setsockopt(s, SOL_SOCKET, SO_RCVBUF, &size,
		    sizeof(size));
#ifdef SO_SNDBUFFORCE
	if (setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &size,
	    sizeof(size)) == -1)
#endif
		(void)setsockopt(s, SOL_SOCKET, SO_SNDBUF, &size,
		    sizeof(size));
}

static int
net_socket(struct iked *env, int af, in_port_t port)
{
	struct sockaddr_storage	 ss;
	int			 s, on = 1, error;

	if ((s = socket(af, SOCK_DGRAM, IPPROTO_UDP)) == -1)
		return (-1);
	/*
	 * One socket takes every peer's messages, and one thread computes:
	 * room for a burst (thousands of IKE_SA_INITs at once) instead of
	 * drops and 1 s retransmissions.  Both ways: what we send waits in
	 * the send buffer while the IPsec hook (netipsecd's queue) holds
	 * it, and a full one fails the send (ENOBUFS), a lost message.
	 * Failure is harmless.
	 */
	net_sockbuf(s, IKED_SOCKBUF);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = af;
	sa_setport((struct sockaddr *)&ss, port);
	if (af == AF_INET) {
#ifdef IP_PKTINFO	/* Linux */
		if (setsockopt(s, IPPROTO_IP, IP_PKTINFO, &on,
		    sizeof(on)) == -1)
#else		/* BSD */
		if (setsockopt(s, IPPROTO_IP, IP_RECVDSTADDR, &on,
		    sizeof(on)) == -1)
#endif
			goto fail;
	} else {
		if (setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &on,
		    sizeof(on)) == -1 ||
		    setsockopt(s, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on,
		    sizeof(on)) == -1)
			goto fail;
	}
	if (bind(s, (struct sockaddr *)&ss, sa_len((struct sockaddr *)&ss))
	    == -1) {
		if (errno == EADDRINUSE)
			fatalx("udp %s port %u: in use: is another iked "
			    "running?", af == AF_INET ? "inet" : "inet6",
			    port);
		goto fail;
	}
	if (net_bypass(s) == -1) {
		error = errno;
		log_warn("udp %s port %u: cannot bypass IPsec on the IKE "
		    "socket", af == AF_INET ? "inet" : "inet6", port);
		close(s);
		errno = error;
		return (-1);
	}
	if (fcntl(s, F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(s, F_SETFD, FD_CLOEXEC) == -1)
		goto fail;
	(void)env;
	return (s);
 fail:
	error = errno;
	close(s);
	errno = error;
	return (-1);
}

/*
 * Slots: 0 IPv4/500, 1 IPv4/4500, 2 IPv6/500, 3 IPv6/4500.  A family
 * the host lacks is skipped; having neither is fatal.  With privilege
 * separation the parent opens them (the ports are privileged) and the
 * engine inherits them.
 */
int
net_open(struct iked *env)
{
	int	 i, af, nok = 0;

	for (i = 0; i < IKED_SOCK_MAX; i++) {
		af = i < 2 ? AF_INET : AF_INET6;
		env->sc_sock[i] = net_socket(env, af,
		    (i & 1) ? env->sc_nattport : env->sc_port);
		if (env->sc_sock[i] == -1) {
			log_warn("udp %s port %u", af == AF_INET ? "inet" :
			    "inet6", (i & 1) ? env->sc_nattport :
			    env->sc_port);
			continue;
		}
		nok++;
	}
	return (nok > 0 ? 0 : -1);
}

/* The open sockets, in the event loop. */
int
net_init(struct iked *env)
{
	int	 i;

	for (i = 0; i < IKED_SOCK_MAX; i++) {
		if (env->sc_sock[i] == -1)
			continue;
		env->sc_sockev[i] = event_new(env->sc_evbase,
		    env->sc_sock[i], EV_READ | EV_PERSIST, net_recv, env);
		if (env->sc_sockev[i] == NULL ||
		    event_add(env->sc_sockev[i], NULL) == -1)
			return (-1);
	}
	return (0);
}

void
net_close(struct iked *env)
{
	int	 i;

	for (i = 0; i < IKED_SOCK_MAX; i++) {
		if (env->sc_sockev[i] != NULL)
			event_free(env->sc_sockev[i]);
		env->sc_sockev[i] = NULL;
		if (env->sc_sock[i] != -1) {
			/*
			 * Its exemption goes first, then the socket.  The
			 * parent's task with privilege separation.
			 */
			if (!env->sc_privsep)
				(void)ipsec_closesockpolicy(env->sc_sock[i]);
			close(env->sc_sock[i]);
		}
		env->sc_sock[i] = -1;
	}
}

/*
 * Send from local (its address and port choose the socket) to peer.  On
 * the NAT-T port the non-ESP marker goes first.
 */
int
net_send(struct iked *env, const struct sockaddr *local,
    const struct sockaddr *peer, const uint8_t *buf, size_t len)
{
	static const uint8_t	 marker[NET_NONESP];
	struct msghdr		 mh;
	struct iovec		 iov[2];
	struct cmsghdr		*cm;
	union {
		struct cmsghdr	 hdr;
		uint8_t		 buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	}			 cbuf;
	int			 natt, slot, n = 0;

	natt = sa_port(local) == env->sc_nattport;
	slot = (local->sa_family == AF_INET6 ? 2 : 0) + natt;
	if (env->sc_sock[slot] == -1 || peer->sa_family != local->sa_family)
		return (-1);
	memset(&mh, 0, sizeof(mh));
	memset(&cbuf, 0, sizeof(cbuf));
	if (natt && len > 0) {
		iov[n].iov_base = (void *)(uintptr_t)marker;
		iov[n++].iov_len = sizeof(marker);
	}
	iov[n].iov_base = (void *)(uintptr_t)buf;
	iov[n++].iov_len = len;
	mh.msg_name = (void *)(uintptr_t)peer;
	mh.msg_namelen = sa_len(peer);
	mh.msg_iov = iov;
	mh.msg_iovlen = n;
	mh.msg_control = &cbuf;
	if (local->sa_family == AF_INET) {
#ifdef IP_PKTINFO	/* Linux */
		struct in_pktinfo pi;

		memset(&pi, 0, sizeof(pi));
		pi.ipi_spec_dst = ((const struct sockaddr_in *)local)->sin_addr;
		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
#else		/* BSD */
		mh.msg_controllen = CMSG_SPACE(sizeof(struct in_addr));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_SENDSRCADDR;
		cm->cmsg_len = CMSG_LEN(sizeof(struct in_addr));
		memcpy(CMSG_DATA(cm),
		    &((const struct sockaddr_in *)local)->sin_addr,
		    sizeof(struct in_addr));
#endif
	} else {
		struct in6_pktinfo pi;

		memset(&pi, 0, sizeof(pi));
		pi.ipi6_addr = ((const struct sockaddr_in6 *)local)->sin6_addr;
		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	}
	if (sendmsg(env->sc_sock[slot], &mh, 0) == -1) {
		log_warn("%s: sendmsg", __func__);
		return (-1);
	}
	env->sc_stats.st_tx++;
	return (0);
}

/* RFC 3948 2.3: a one-byte 0xff datagram keeps the NAT mapping. */
void
net_keepalive(struct iked *env, const struct iked_sa *sa)
{
	static const uint8_t	 ka = 0xff;
	struct sockaddr_storage	 local;
	int			 slot;

	sa_get(&local, &sa->sa_local);
	slot = (local.ss_family == AF_INET6 ? 2 : 0) + 1;
	if (env->sc_sock[slot] == -1)
		return;
	(void)sendto(env->sc_sock[slot], &ka, 1, 0,
	    (const struct sockaddr *)&sa->sa_peer,
	    sa_len((const struct sockaddr *)&sa->sa_peer));
}
