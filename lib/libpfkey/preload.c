/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * libpfkey_preload.so: lets an unmodified PF_KEY program talk to
 * netipsecd.  Loaded with LD_PRELOAD, it turns
 * socket(PF_KEY, SOCK_RAW, PF_KEY_V2) into an AF_UNIX SOCK_SEQPACKET
 * socket connected to netipsecd, found as pfkey_open() finds it
 * ($PFKEY_SOCKET, else the abstract address).  SEQPACKET keeps message
 * boundaries, so the program's send/recv/read/write work unchanged.
 * Every other socket() call goes to the C library.
 */

#ifndef _GNU_SOURCE
#define	_GNU_SOURCE		/* RTLD_NEXT */
#endif

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "libpfkey.h"
#include "pfkey_var.h"

#ifndef SOCK_NONBLOCK
#define	SOCK_NONBLOCK	0
#endif
#ifndef SOCK_CLOEXEC
#define	SOCK_CLOEXEC	0
#endif

/* Linux's numbers of the options (FreeBSD: 21 and 28). */
#ifndef IP_IPSEC_POLICY
#define	IP_IPSEC_POLICY		16
#endif
#ifndef IPV6_IPSEC_POLICY
#define	IPV6_IPSEC_POLICY	34
#endif

int	socket(int, int, int);
int	setsockopt(int, int, int, const void *, socklen_t);
int	getsockopt(int, int, int, void *, socklen_t *);
int	bind(int, const struct sockaddr *, socklen_t);
int	connect(int, const struct sockaddr *, socklen_t);
ssize_t	sendto(int, const void *, size_t, int, const struct sockaddr *,
	    socklen_t);
ssize_t	sendmsg(int, const struct msghdr *, int);
int	close(int);

typedef int socket_fn(int, int, int);
typedef int setsockopt_fn(int, int, int, const void *, socklen_t);
typedef int getsockopt_fn(int, int, int, void *, socklen_t *);
typedef int bind_fn(int, const struct sockaddr *, socklen_t);
typedef ssize_t sendto_fn(int, const void *, size_t, int,
	    const struct sockaddr *, socklen_t);
typedef ssize_t sendmsg_fn(int, const struct msghdr *, int);
typedef int close_fn(int);

static socket_fn *preload_real_socket;
static setsockopt_fn *preload_real_setsockopt;
static getsockopt_fn *preload_real_getsockopt;
static bind_fn *preload_real_bind;
static bind_fn *preload_real_connect;
static sendto_fn *preload_real_sendto;
static sendmsg_fn *preload_real_sendmsg;
static close_fn *preload_real_close;

/*
 * Sockets with policies: set (netipsecd has them) or waiting for the
 * socket to be bound.  Few: a list.
 */
struct preload_sock {
	struct preload_sock	*ps_next;
	int			 ps_fd;
	int			 ps_set;	/* netipsecd has some */
	void			*ps_pol[2];	/* waiting: in, out */
	size_t			 ps_len[2];
};
static struct preload_sock *preload_socks;
static pthread_mutex_t preload_mtx = PTHREAD_MUTEX_INITIALIZER;

/* Look the real calls up before any thread can race for them. */
__attribute__((constructor))
static void
preload_init(void)
{

	preload_real_socket = (socket_fn *)dlsym(RTLD_NEXT, "socket");
	preload_real_setsockopt = (setsockopt_fn *)dlsym(RTLD_NEXT,
	    "setsockopt");
	preload_real_getsockopt = (getsockopt_fn *)dlsym(RTLD_NEXT,
	    "getsockopt");
	preload_real_bind = (bind_fn *)dlsym(RTLD_NEXT, "bind");
	preload_real_connect = (bind_fn *)dlsym(RTLD_NEXT, "connect");
	preload_real_sendto = (sendto_fn *)dlsym(RTLD_NEXT, "sendto");
	preload_real_sendmsg = (sendmsg_fn *)dlsym(RTLD_NEXT, "sendmsg");
	preload_real_close = (close_fn *)dlsym(RTLD_NEXT, "close");
}

static int
preload_missing(void *fn)
{

	if (fn == NULL) {
		errno = ENOSYS;
		return (1);
	}
	return (0);
}

int
socket(int domain, int type, int protocol)
{
	int flags;

	flags = type & (SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (domain == PF_KEY && (type & ~flags) == SOCK_RAW &&
	    protocol == PF_KEY_V2)
		return (pfkey_unix_default(flags));

	if (preload_real_socket == NULL)
		preload_init();
	if (preload_real_socket == NULL) {
		errno = ENOSYS;
		return (-1);
	}
	return (preload_real_socket(domain, type, protocol));
}

static int
preload_isopt(int level, int optname)
{

	return ((level == IPPROTO_IP && optname == IP_IPSEC_POLICY) ||
	    (level == IPPROTO_IPV6 && optname == IPV6_IPSEC_POLICY));
}

/* The socket's port, 0 if it is not bound (or not an IP socket). */
static int
preload_bound(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len;

	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return (0);
	if (ss.ss_family == AF_INET)
		return (((struct sockaddr_in *)&ss)->sin_port != 0);
	if (ss.ss_family == AF_INET6)
		return (((struct sockaddr_in6 *)&ss)->sin6_port != 0);
	return (0);
}

/* The entry of fd; with "create", a new one if none.  Mutex held. */
static struct preload_sock *
preload_find(int fd, int create)
{
	struct preload_sock *ps;

	for (ps = preload_socks; ps != NULL; ps = ps->ps_next)
		if (ps->ps_fd == fd)
			return (ps);
	if (!create || (ps = calloc(1, sizeof(*ps))) == NULL)
		return (NULL);
	ps->ps_fd = fd;
	ps->ps_next = preload_socks;
	preload_socks = ps;
	return (ps);
}

static void
preload_forget(int fd)
{
	struct preload_sock **pp, *ps;
	int i;

	for (pp = &preload_socks; (ps = *pp) != NULL; pp = &ps->ps_next)
		if (ps->ps_fd == fd) {
			*pp = ps->ps_next;
			for (i = 0; i < 2; i++)
				free(ps->ps_pol[i]);
			free(ps);
			return;
		}
}

/* The socket is bound now: the policies that waited go to netipsecd. */
static int
preload_flush(int fd)
{
	struct preload_sock *ps;
	void *pol[2];
	size_t len[2];
	int i, error = 0;

	pthread_mutex_lock(&preload_mtx);
	ps = preload_find(fd, 0);
	if (ps == NULL || (ps->ps_pol[0] == NULL && ps->ps_pol[1] == NULL)) {
		pthread_mutex_unlock(&preload_mtx);
		return (0);
	}
	for (i = 0; i < 2; i++) {
		pol[i] = ps->ps_pol[i];
		len[i] = ps->ps_len[i];
		ps->ps_pol[i] = NULL;
	}
	ps->ps_set = 1;
	pthread_mutex_unlock(&preload_mtx);
	/* Not under the mutex: the request's own close() comes here. */
	for (i = 0; i < 2; i++) {
		if (pol[i] != NULL && error == 0 &&
		    ipsec_setsockpolicy(fd, pol[i], len[i]) == -1)
			error = errno;
		free(pol[i]);
	}
	if (error != 0) {
		errno = error;
		return (-1);
	}
	return (0);
}

int
setsockopt(int fd, int level, int optname, const void *optval,
    socklen_t optlen)
{
	const struct sadb_x_policy *xpl;
	struct preload_sock *ps;
	void *copy;
	int dir;

	if (preload_real_setsockopt == NULL)
		preload_init();
	if (!preload_isopt(level, optname)) {
		if (preload_missing((void *)preload_real_setsockopt))
			return (-1);
		return (preload_real_setsockopt(fd, level, optname, optval,
		    optlen));
	}
	xpl = optval;
	if (optval == NULL || optlen < sizeof(*xpl)) {
		errno = EINVAL;
		return (-1);
	}
	dir = xpl->sadb_x_policy_dir;
	if (dir != IPSEC_DIR_INBOUND && dir != IPSEC_DIR_OUTBOUND) {
		errno = EINVAL;
		return (-1);
	}
	if (preload_bound(fd)) {
		if (ipsec_setsockpolicy(fd, optval, optlen) == -1)
			return (-1);
		pthread_mutex_lock(&preload_mtx);
		if ((ps = preload_find(fd, 1)) != NULL)
			ps->ps_set = 1;
		pthread_mutex_unlock(&preload_mtx);
		return (0);
	}
	/* Not bound yet: it waits for bind(2), connect(2) or a send. */
	if ((copy = malloc(optlen)) == NULL)
		return (-1);
	memcpy(copy, optval, optlen);
	pthread_mutex_lock(&preload_mtx);
	if ((ps = preload_find(fd, 1)) == NULL) {
		pthread_mutex_unlock(&preload_mtx);
		free(copy);
		errno = ENOMEM;
		return (-1);
	}
	free(ps->ps_pol[dir - 1]);
	ps->ps_pol[dir - 1] = copy;
	ps->ps_len[dir - 1] = optlen;
	pthread_mutex_unlock(&preload_mtx);
	return (0);
}

int
getsockopt(int fd, int level, int optname, void *optval, socklen_t *optlen)
{
	const struct sadb_x_policy *xpl;
	size_t len;

	if (preload_real_getsockopt == NULL)
		preload_init();
	if (!preload_isopt(level, optname)) {
		if (preload_missing((void *)preload_real_getsockopt))
			return (-1);
		return (preload_real_getsockopt(fd, level, optname, optval,
		    optlen));
	}
	/* As on a BSD: the caller's buffer names the direction. */
	xpl = optval;
	if (optval == NULL || optlen == NULL || *optlen < sizeof(*xpl)) {
		errno = EINVAL;
		return (-1);
	}
	len = *optlen;
	if (ipsec_getsockpolicy(fd, xpl->sadb_x_policy_dir, optval, &len) ==
	    -1)
		return (-1);
	*optlen = (socklen_t)len;
	return (0);
}

int
bind(int fd, const struct sockaddr *sa, socklen_t len)
{

	if (preload_real_bind == NULL)
		preload_init();
	if (preload_missing((void *)preload_real_bind))
		return (-1);
	if (preload_real_bind(fd, sa, len) == -1)
		return (-1);
	return (preload_flush(fd));
}

int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	int ret, error;

	if (preload_real_connect == NULL)
		preload_init();
	if (preload_missing((void *)preload_real_connect))
		return (-1);
	ret = preload_real_connect(fd, sa, len);
	error = errno;
	/* A TCP connect in progress has its port already. */
	if ((ret == 0 || error == EINPROGRESS) && preload_bound(fd) &&
	    preload_flush(fd) == -1)
		return (-1);
	errno = error;
	return (ret);
}

/*
 * A send on a socket whose policies wait binds it first, so that its
 * first datagram already goes by them.
 */
static int
preload_bindfirst(int fd)
{
	struct sockaddr_storage ss;
	struct preload_sock *ps;
	socklen_t len;
	int waiting;

	pthread_mutex_lock(&preload_mtx);
	ps = preload_find(fd, 0);
	waiting = ps != NULL && (ps->ps_pol[0] != NULL ||
	    ps->ps_pol[1] != NULL);
	pthread_mutex_unlock(&preload_mtx);
	if (!waiting || preload_bound(fd))
		return (waiting ? preload_flush(fd) : 0);
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return (-1);
	/* The family's wildcard address, an ephemeral port. */
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = 0;
	else if (ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port = 0;
	return (bind(fd, (struct sockaddr *)&ss, len));
}

ssize_t
sendto(int fd, const void *buf, size_t n, int flags,
    const struct sockaddr *sa, socklen_t len)
{

	if (preload_real_sendto == NULL)
		preload_init();
	if (preload_missing((void *)preload_real_sendto) ||
	    (__atomic_load_n(&preload_socks, __ATOMIC_RELAXED) != NULL &&
	    preload_bindfirst(fd) == -1))
		return (-1);
	return (preload_real_sendto(fd, buf, n, flags, sa, len));
}

ssize_t
sendmsg(int fd, const struct msghdr *mh, int flags)
{

	if (preload_real_sendmsg == NULL)
		preload_init();
	if (preload_missing((void *)preload_real_sendmsg) ||
	    (__atomic_load_n(&preload_socks, __ATOMIC_RELAXED) != NULL &&
	    preload_bindfirst(fd) == -1))
		return (-1);
	return (preload_real_sendmsg(fd, mh, flags));
}

int
close(int fd)
{
	struct preload_sock *ps;
	int set = 0;

	if (preload_real_close == NULL)
		preload_init();
	if (preload_missing((void *)preload_real_close))
		return (-1);
	if (__atomic_load_n(&preload_socks, __ATOMIC_RELAXED) != NULL) {
		pthread_mutex_lock(&preload_mtx);
		if ((ps = preload_find(fd, 0)) != NULL) {
			set = ps->ps_set;
			preload_forget(fd);
		}
		pthread_mutex_unlock(&preload_mtx);
		/* Its exemption goes before the socket does. */
		if (set)
			(void)ipsec_closesockpolicy(fd);
	}
	return (preload_real_close(fd));
}
