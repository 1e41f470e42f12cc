/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Sockets' policies: the policy socket through which libpfkey names a
 * local socket and its policies to the layer (netipsec_pcb.h,
 * ipsec_pcb_setpolicy()), and the watch that forgets them when that
 * socket closes.
 *
 * The socket itself comes with each request (SCM_RIGHTS), so a client
 * can only speak for a socket it holds: its protocol, the address and
 * port it is bound to and its SO_COOKIE (unique while the system runs)
 * are read from it, and our copy is closed at once, so that the socket
 * closes when its owner closes it.
 *
 * When it does, the kernel says so: sock_diag's destroy notifications
 * (SKNLGRP_INET*_DESTROY) carry the cookie of every TCP and UDP socket
 * of this network namespace that goes, and its policies go with it.
 * Between the close and the notification, a few microseconds, the
 * endpoint is still exempt; a client that closes on purpose says so
 * first (NETIPSEC_PCB_CLOSE), so that no window is left.  Should
 * notifications be lost (the netlink socket overran), the registered
 * sockets are looked for in a dump of the namespace's sockets, as they
 * are every NETIPSECD_PCB_SWEEP seconds anyway.
 */

#define	_GNU_SOURCE		/* SO_PEERCRED, struct ucred */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include <net/pfkeyv2.h>
#include <netipsec/ipsec.h>
#include <netipsec/ipsec_hook.h>

#include "netipsecd.h"
#include "netipsec_pcb.h"

#ifndef SO_NETNS_COOKIE
#define	SO_NETNS_COOKIE	71
#endif

/* A socket that has policies, as the watch knows it. */
struct pcb_sock {
	TAILQ_ENTRY(pcb_sock)	 pk_entry;
	uint64_t		 pk_cookie;
	int			 pk_family;	/* AF_INET6: also a v4 twin */
	int			 pk_proto;
};

/* A client with its one request still to read. */
struct pcb_conn {
	TAILQ_ENTRY(pcb_conn)	 pn_entry;
	int			 pn_fd;
	pid_t			 pn_pid;
	struct event		*pn_ev;
};

static struct pcb_srv {
	const struct netipsecd_conf	*ps_conf;
	struct event_base		*ps_base;
	int				 ps_fd;		/* the listener */
	struct event			*ps_ev;
	char				 ps_name[PATH_MAX + 8];
	char				*ps_unlink;
	int				 ps_diagfd;	/* destroy events */
	struct event			*ps_diagev;
	struct event			*ps_sweepev;
	uint64_t			 ps_netns;	/* our netns cookie */
	TAILQ_HEAD(, pcb_sock)		 ps_socks;
	u_int				 ps_nsocks;
	TAILQ_HEAD(, pcb_conn)		 ps_conns;
	u_int				 ps_nconns;
	uint8_t				*ps_buf;
} pcb_srv = { .ps_fd = -1, .ps_diagfd = -1 };

/* Clients waiting to be read at once; more wait in the listen queue. */
#define	PCB_CONNS_MAX	64

static void	pcb_accept(int, short, void *);
static void	pcb_conn_read(int, short, void *);
static void	pcb_conn_close(struct pcb_conn *);
static int	pcb_request(struct pcb_conn *, const struct netipsec_pcbmsg *,
		    const uint8_t *, int, uint8_t *, size_t *);
static int	pcb_endpoint(int, int *, int *, struct sockaddr_storage *,
		    uint64_t *, int *);
static void	pcb_mark(int, const struct sockaddr_storage *, int);
static void	pcb_track(uint64_t, int, int);
static void	pcb_forget(uint64_t);
static void	pcb_diag_read(int, short, void *);
static void	pcb_sweep(int, short, void *);

/*
 * The listener, before daemon(3) like the PF_KEY one: the abstract
 * address, or the PF_KEY path with ".pcb".
 */
void
pcb_srv_listen(const struct netipsecd_conf *conf)
{
	struct pcb_srv		*ps = &pcb_srv;
	struct sockaddr_un	 sun;
	socklen_t		 len;
	char			 cwd[PATH_MAX];
	mode_t			 omask;
	size_t			 n;
	int			 fd;

	ps->ps_conf = conf;
	TAILQ_INIT(&ps->ps_socks);
	TAILQ_INIT(&ps->ps_conns);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (conf->nc_sockpath == NULL) {
		n = strlen(NETIPSEC_PCB_ABSTRACT);
		memcpy(sun.sun_path + 1, NETIPSEC_PCB_ABSTRACT, n);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
		    n);
		snprintf(ps->ps_name, sizeof(ps->ps_name), "@%s",
		    NETIPSEC_PCB_ABSTRACT);
	} else {
		if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path),
		    "%s%s", conf->nc_sockpath, NETIPSEC_PCB_SUFFIX) >=
		    sizeof(sun.sun_path))
			fatalx("%s%s: policy socket path too long (at most "
			    "%zu bytes)", conf->nc_sockpath,
			    NETIPSEC_PCB_SUFFIX, sizeof(sun.sun_path) - 1);
		len = sizeof(sun);
		strlcpy(ps->ps_name, sun.sun_path, sizeof(ps->ps_name));
		/* Beside our PF_KEY socket, which we hold: stale if there. */
		if (unlink(sun.sun_path) == -1 && errno != ENOENT)
			fatal("%s: unlink", sun.sun_path);
	}
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		fatal("pcb_srv_listen: socket");
	omask = umask(conf->nc_hasgid ? 0117 : 0177);
	if (bind(fd, (struct sockaddr *)&sun, len) == -1)
		fatal("%s: bind", ps->ps_name);
	umask(omask);
	if (conf->nc_sockpath != NULL) {
		if (sun.sun_path[0] == '/')
			ps->ps_unlink = strdup(sun.sun_path);
		else if (getcwd(cwd, sizeof(cwd)) == NULL ||
		    asprintf(&ps->ps_unlink, "%s/%s", cwd, sun.sun_path) ==
		    -1)
			ps->ps_unlink = NULL;
		if (ps->ps_unlink == NULL)
			fatal("pcb_srv_listen: %s", sun.sun_path);
		if (conf->nc_hasgid && chown(sun.sun_path, (uid_t)-1,
		    conf->nc_gid) == -1)
			fatal("%s: chown", sun.sun_path);
	}
	if (listen(fd, SOMAXCONN) == -1)
		fatal("%s: listen", ps->ps_name);
	ps->ps_fd = fd;
	if ((ps->ps_buf = malloc(sizeof(struct netipsec_pcbmsg) +
	    NETIPSEC_PCB_MAX)) == NULL)
		fatal("pcb_srv_listen");
}

/* Serve, and watch sockets close: after daemon(3), on the loop. */
void
pcb_srv_start(struct event_base *base)
{
	struct pcb_srv		*ps = &pcb_srv;
	struct sockaddr_nl	 snl;
	struct timeval		 tv = { NETIPSECD_PCB_SWEEP, 0 };
	socklen_t		 len;
	int			 fd, sz = 4 * 1024 * 1024;

	ps->ps_base = base;
	/* Our network namespace, which the sockets named must be in. */
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) != -1) {
		len = sizeof(ps->ps_netns);
		if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &ps->ps_netns,
		    &len) == -1)
			ps->ps_netns = 0;	/* before Linux 5.14 */
		close(fd);
	}

	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG)) == -1)
		fatal("pcb_srv_start: sock_diag socket");
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	memset(&snl, 0, sizeof(snl));
	snl.nl_family = AF_NETLINK;
	snl.nl_groups = 1 << (SKNLGRP_INET_TCP_DESTROY - 1) |
	    1 << (SKNLGRP_INET_UDP_DESTROY - 1) |
	    1 << (SKNLGRP_INET6_TCP_DESTROY - 1) |
	    1 << (SKNLGRP_INET6_UDP_DESTROY - 1);
	if (bind(fd, (struct sockaddr *)&snl, sizeof(snl)) == -1) {
		/* Without CAP_NET_ADMIN: the sweep alone, more often. */
		log_warn("sock_diag destroy notifications (sockets' policies "
		    "go within a second of their socket)");
		close(fd);
		fd = -1;
		tv.tv_sec = 1;
	}
	ps->ps_diagfd = fd;

	ps->ps_ev = event_new(base, ps->ps_fd, EV_READ | EV_PERSIST,
	    pcb_accept, NULL);
	if (ps->ps_diagfd != -1 && ((ps->ps_diagev = event_new(base,
	    ps->ps_diagfd, EV_READ | EV_PERSIST, pcb_diag_read, NULL)) ==
	    NULL || event_add(ps->ps_diagev, NULL) == -1))
		fatalx("pcb_srv_start: cannot watch sockets close");
	ps->ps_sweepev = event_new(base, -1, EV_PERSIST, pcb_sweep, NULL);
	if (ps->ps_ev == NULL || ps->ps_sweepev == NULL ||
	    event_add(ps->ps_ev, NULL) == -1 ||
	    event_add(ps->ps_sweepev, &tv) == -1)
		fatalx("pcb_srv_start: cannot set up the policy socket");
	log_debug("sockets' policies on %s", ps->ps_name);
}

void
pcb_srv_stop(void)
{
	struct pcb_srv	*ps = &pcb_srv;
	struct pcb_conn	*pn;
	struct pcb_sock	*pk;

	while ((pn = TAILQ_FIRST(&ps->ps_conns)) != NULL)
		pcb_conn_close(pn);
	while ((pk = TAILQ_FIRST(&ps->ps_socks)) != NULL) {
		TAILQ_REMOVE(&ps->ps_socks, pk, pk_entry);
		free(pk);
	}
	ps->ps_nsocks = 0;
	if (ps->ps_ev != NULL)
		event_free(ps->ps_ev);
	if (ps->ps_diagev != NULL)
		event_free(ps->ps_diagev);
	if (ps->ps_sweepev != NULL)
		event_free(ps->ps_sweepev);
	ps->ps_ev = ps->ps_diagev = ps->ps_sweepev = NULL;
	if (ps->ps_fd != -1)
		close(ps->ps_fd);
	if (ps->ps_diagfd != -1)
		close(ps->ps_diagfd);
	ps->ps_fd = ps->ps_diagfd = -1;
	if (ps->ps_unlink != NULL) {
		if (unlink(ps->ps_unlink) == -1 && errno != ENOENT)
			log_warn("%s: unlink", ps->ps_unlink);
		free(ps->ps_unlink);
		ps->ps_unlink = NULL;
	}
	free(ps->ps_buf);
	ps->ps_buf = NULL;
}

static void
pcb_accept(int fd, short event __attribute__((__unused__)),
    void *arg __attribute__((__unused__)))
{
	struct pcb_srv	*ps = &pcb_srv;
	struct pcb_conn	*pn;
	struct ucred	 uc = { 0, (uid_t)-1, (gid_t)-1 };
	struct timeval	 tv = { 2, 0 };
	socklen_t	 len;
	int		 cfd;

	if (ps->ps_nconns >= PCB_CONNS_MAX)
		return;		/* the listen queue keeps them */
	if ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("pcb_accept");
		return;
	}
	len = sizeof(uc);
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1 ||
	    !pfkey_srv_allowed(&uc)) {
		log_warnx("pcb_accept: refused pid %ld uid %lu",
		    (long)uc.pid, (unsigned long)uc.uid);
		close(cfd);
		return;
	}
	if ((pn = calloc(1, sizeof(*pn))) == NULL) {
		log_warn("pcb_accept");
		close(cfd);
		return;
	}
	pn->pn_fd = cfd;
	pn->pn_pid = uc.pid;
	/* One request, soon: a client that sends none is dropped. */
	if ((pn->pn_ev = event_new(ps->ps_base, cfd, EV_READ | EV_TIMEOUT,
	    pcb_conn_read, pn)) == NULL || event_add(pn->pn_ev, &tv) == -1) {
		if (pn->pn_ev != NULL)
			event_free(pn->pn_ev);
		free(pn);
		close(cfd);
		return;
	}
	TAILQ_INSERT_TAIL(&ps->ps_conns, pn, pn_entry);
	ps->ps_nconns++;
}

static void
pcb_conn_close(struct pcb_conn *pn)
{
	struct pcb_srv	*ps = &pcb_srv;

	TAILQ_REMOVE(&ps->ps_conns, pn, pn_entry);
	ps->ps_nconns--;
	event_free(pn->pn_ev);
	close(pn->pn_fd);
	free(pn);
	/* Room again: take what waits in the listen queue. */
	if (ps->ps_nconns == PCB_CONNS_MAX - 1)
		event_active(ps->ps_ev, EV_READ, 1);
}

/* The request: one packet, with one socket attached. */
static void
pcb_conn_read(int fd, short event, void *arg)
{
	struct pcb_conn		*pn = arg;
	struct netipsec_pcbmsg	 req, *rep;
	union {
		struct cmsghdr	 hdr;
		uint8_t		 buf[CMSG_SPACE(4 * sizeof(int))];
	} cmsgbuf;
	struct cmsghdr		*cm;
	struct msghdr		 mh;
	struct iovec		 iov;
	uint8_t			*buf = pcb_srv.ps_buf;
	size_t			 outlen;
	ssize_t			 n;
	int			 fds[4], nfds = 0, i, error;

	if (event & EV_TIMEOUT) {
		log_debug("pcb_conn_read: pid %ld sent nothing",
		    (long)pn->pn_pid);
		pcb_conn_close(pn);
		return;
	}
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = sizeof(req) + NETIPSEC_PCB_MAX;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cmsgbuf.buf;
	mh.msg_controllen = sizeof(cmsgbuf.buf);
	if ((n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC)) == -1) {
		if (errno == EAGAIN || errno == EINTR) {
			struct timeval tv = { 2, 0 };

			event_add(pn->pn_ev, &tv);
			return;
		}
		pcb_conn_close(pn);
		return;
	}
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (i = 0; (size_t)i < (cm->cmsg_len - CMSG_LEN(0)) /
		    sizeof(int) && nfds < 4; i++)
			memcpy(&fds[nfds++], CMSG_DATA(cm) + i * sizeof(int),
			    sizeof(int));
	}

	error = EINVAL;
	outlen = 0;
	memset(&req, 0, sizeof(req));
	if ((size_t)n < sizeof(req) || (mh.msg_flags & (MSG_TRUNC |
	    MSG_CTRUNC)) || nfds != 1)
		goto reply;
	memcpy(&req, buf, sizeof(req));
	if (req.pm_version != NETIPSEC_PCB_VERSION ||
	    req.pm_len != (size_t)n - sizeof(req))
		goto reply;
	error = pcb_request(pn, &req, buf + sizeof(req), fds[0],
	    buf + sizeof(req), &outlen);
 reply:
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	/* The reply goes where the request was: the policy follows it. */
	rep = (struct netipsec_pcbmsg *)(void *)buf;
	memset(rep, 0, sizeof(*rep));
	rep->pm_version = NETIPSEC_PCB_VERSION;
	rep->pm_op = req.pm_op;
	rep->pm_errno = error;
	rep->pm_len = error == 0 ? (uint32_t)outlen : 0;
	if (send(fd, buf, sizeof(*rep) + rep->pm_len, MSG_DONTWAIT |
	    MSG_NOSIGNAL) == -1)
		log_debug("pcb_conn_read: pid %ld: reply: %s",
		    (long)pn->pn_pid, strerror(errno));
	explicit_bzero(buf, sizeof(*rep) + (size_t)n);
	pcb_conn_close(pn);
}

/*
 * The socket's endpoint: its family and protocol, the address and port
 * it is bound to, its cookie, and whether an IPv6 socket bound to every
 * address takes IPv4 too.  An IPv4-mapped address is taken as IPv4.
 */
static int
pcb_endpoint(int s, int *domainp, int *proto, struct sockaddr_storage *ss,
    uint64_t *cookie, int *dual)
{
	struct sockaddr_in6	*sin6;
	struct sockaddr_in	 sin;
	struct stat		 st;
	socklen_t		 len;
	uint64_t		 netns;
	int			 domain, v6only;

	if (fstat(s, &st) == -1 || !S_ISSOCK(st.st_mode))
		return (ENOTSOCK);
	len = sizeof(domain);
	if (getsockopt(s, SOL_SOCKET, SO_DOMAIN, &domain, &len) == -1)
		return (errno);
	if (domain != AF_INET && domain != AF_INET6)
		return (EAFNOSUPPORT);
	*domainp = domain;
	len = sizeof(*proto);
	if (getsockopt(s, SOL_SOCKET, SO_PROTOCOL, proto, &len) == -1)
		return (errno);
	if (*proto != IPPROTO_UDP && *proto != IPPROTO_TCP)
		return (EPROTONOSUPPORT);
	len = sizeof(netns);
	if (pcb_srv.ps_netns != 0 && getsockopt(s, SOL_SOCKET,
	    SO_NETNS_COOKIE, &netns, &len) == 0 && netns != pcb_srv.ps_netns)
		return (EXDEV);		/* another network stack's */
	len = sizeof(*cookie);
	if (getsockopt(s, SOL_SOCKET, SO_COOKIE, cookie, &len) == -1)
		return (errno);
	len = sizeof(*ss);
	memset(ss, 0, sizeof(*ss));
	if (getsockname(s, (struct sockaddr *)ss, &len) == -1)
		return (errno);
	*dual = 0;
	if (ss->ss_family != AF_INET6)
		return (0);
	sin6 = (struct sockaddr_in6 *)ss;
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = sin6->sin6_port;
		memcpy(&sin.sin_addr, &sin6->sin6_addr.s6_addr[12], 4);
		memset(ss, 0, sizeof(*ss));
		memcpy(ss, &sin, sizeof(sin));
	} else if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr)) {
		len = sizeof(v6only);
		if (getsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len) ==
		    0 && !v6only)
			*dual = 1;
	}
	return (0);
}

static int
pcb_request(struct pcb_conn *pn, const struct netipsec_pcbmsg *req,
    const uint8_t *pol, int s, uint8_t *out, size_t *outlen)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	 any4;
	uint64_t		 cookie;
	size_t			 len;
	int			 domain = 0, proto = 0, dual = 0, error;

	if ((error = pcb_endpoint(s, &domain, &proto, &ss, &cookie,
	    &dual)) != 0)
		return (error);
	switch (req->pm_op) {
	case NETIPSEC_PCB_SET:
		if (pcb_srv.ps_nsocks >= NETIPSECD_PCB_MAX) {
			log_warnx("pid %ld: policy refused: %u sockets have "
			    "policies already", (long)pn->pn_pid,
			    pcb_srv.ps_nsocks);
			return (ENOBUFS);
		}
		/* Clients of PF_KEY are privileged, as on BSD. */
		error = ipsec_pcb_setpolicy((struct sockaddr *)&ss, proto,
		    cookie, (uint32_t)pn->pn_pid, 1, pol, req->pm_len);
		if (error == 0 && dual) {
			memset(&any4, 0, sizeof(any4));
			any4.sin_family = AF_INET;
			any4.sin_port = ((struct sockaddr_in6 *)&ss)->sin6_port;
			error = ipsec_pcb_setpolicy((struct sockaddr *)&any4,
			    proto, cookie, (uint32_t)pn->pn_pid, 1, pol,
			    req->pm_len);
		}
		if (error != 0) {
			log_debug("pid %ld: socket policy refused: %s",
			    (long)pn->pn_pid, strerror(error));
			return (error);
		}
		pcb_track(cookie, domain, proto);
		pcb_mark(s, &ss, proto);
		log_debug("pid %ld: socket %ju: policy set",
		    (long)pn->pn_pid, (uintmax_t)cookie);
		return (0);
	case NETIPSEC_PCB_GET:
		len = NETIPSEC_PCB_MAX;
		error = ipsec_pcb_getpolicy((struct sockaddr *)&ss, proto,
		    (int)req->pm_dir, out, &len);
		if (error == 0)
			*outlen = len;
		return (error);
	case NETIPSEC_PCB_CLOSE:
		pcb_forget(cookie);
		return (0);
	}
	return (EOPNOTSUPP);
}

/* Does the socket bypass IPsec in direction dir? */
static int
pcb_bypasses(const struct sockaddr_storage *ss, int proto, int dir)
{
	uint8_t			 buf[NETIPSEC_PCB_MAX];
	struct sadb_x_policy	 xpl;
	size_t			 len = sizeof(buf);

	if (ipsec_pcb_getpolicy((const struct sockaddr *)ss, proto, dir, buf,
	    &len) != 0 || len < sizeof(xpl))
		return (0);
	memcpy(&xpl, buf, sizeof(xpl));		/* buf is not aligned */
	return (xpl.sadb_x_policy_type == IPSEC_POLICY_BYPASS ||
	    xpl.sadb_x_policy_type == IPSEC_POLICY_NONE);
}

/*
 * A UDP socket that bypasses outbound gets PCB_MARK, by which the kernel
 * lets the packets it sends skip the queue (rules.c): the layer would
 * pass them anyway.  One that no longer does loses it.  A mark of the
 * program's own is left alone: its packets take the queue.
 */
static void
pcb_mark(int s, const struct sockaddr_storage *ss, int proto)
{
	socklen_t	len;
	uint32_t	mark, want;

	len = sizeof(mark);
	if (proto != IPPROTO_UDP ||
	    getsockopt(s, SOL_SOCKET, SO_MARK, &mark, &len) == -1 ||
	    (mark != 0 && mark != PCB_MARK))
		return;
	want = pcb_bypasses(ss, proto, IPSEC_DIR_OUTBOUND) ? PCB_MARK : 0;
	if (want != mark && setsockopt(s, SOL_SOCKET, SO_MARK, &want,
	    sizeof(want)) == -1)
		log_warn("pcb_mark: SO_MARK");
}

static void
pcb_track(uint64_t cookie, int family, int proto)
{
	struct pcb_srv	*ps = &pcb_srv;
	struct pcb_sock	*pk;

	TAILQ_FOREACH(pk, &ps->ps_socks, pk_entry)
		if (pk->pk_cookie == cookie)
			return;
	if ((pk = calloc(1, sizeof(*pk))) == NULL) {
		/* Still forgotten when it closes, by the notification. */
		log_warn("pcb_track");
		return;
	}
	pk->pk_cookie = cookie;
	pk->pk_family = family;
	pk->pk_proto = proto;
	TAILQ_INSERT_TAIL(&ps->ps_socks, pk, pk_entry);
	ps->ps_nsocks++;
}

/* A socket closed, or is about to: its policies go. */
static void
pcb_forget(uint64_t cookie)
{
	struct pcb_srv	*ps = &pcb_srv;
	struct pcb_sock	*pk;

	(void)ipsec_pcb_detach(cookie);
	TAILQ_FOREACH(pk, &ps->ps_socks, pk_entry)
		if (pk->pk_cookie == cookie)
			break;
	if (pk == NULL)
		return;
	TAILQ_REMOVE(&ps->ps_socks, pk, pk_entry);
	ps->ps_nsocks--;
	free(pk);
	log_debug("socket %ju closed: its policies are gone",
	    (uintmax_t)cookie);
}

static uint64_t
pcb_diag_cookie(const struct inet_diag_msg *m)
{

	return ((uint64_t)m->id.idiag_cookie[0] |
	    (uint64_t)m->id.idiag_cookie[1] << 32);
}

/* Destroy notifications: every TCP and UDP socket of the netns that goes. */
static void
pcb_diag_read(int fd, short event __attribute__((__unused__)),
    void *arg __attribute__((__unused__)))
{
	struct pcb_srv		*ps = &pcb_srv;
	uint8_t			 buf[16384];
	struct nlmsghdr		*nh;
	struct pcb_sock		*pk;
	ssize_t			 n;
	size_t			 len;
	uint64_t		 cookie;
	int			 batch;

	for (batch = 0; batch < 64; batch++) {
		if ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) == -1) {
			if (errno == ENOBUFS) {
				/* Some were lost: look for ours. */
				log_warnx("socket close notifications lost: "
				    "checking the sockets with policies");
				pcb_sweep(-1, 0, NULL);
				continue;
			}
			if (errno != EAGAIN && errno != EINTR)
				log_warn("pcb_diag_read");
			return;
		}
		len = (size_t)n;
		for (nh = (struct nlmsghdr *)(void *)buf; NLMSG_OK(nh, len);
		    nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
			    nh->nlmsg_len < NLMSG_LENGTH(
			    sizeof(struct inet_diag_msg)))
				continue;
			cookie = pcb_diag_cookie(NLMSG_DATA(nh));
			TAILQ_FOREACH(pk, &ps->ps_socks, pk_entry)
				if (pk->pk_cookie == cookie)
					break;
			if (pk != NULL)
				pcb_forget(cookie);
		}
	}
}

static int
pcb_cookie_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

/*
 * The cookies of the sockets of one family and protocol in this
 * namespace, sorted, from a sock_diag dump: their number, or -1 if the
 * dump failed.
 */
static ssize_t
pcb_cookies(int family, int proto, uint64_t **cookiesp)
{
	struct {
		struct nlmsghdr		nh;
		struct inet_diag_req_v2	req;
	} q;
	struct sockaddr_nl	 snl;
	uint8_t			 buf[16384];
	struct nlmsghdr		*nh;
	uint64_t		*c = NULL, *nc;
	size_t			 n = 0, cap = 0, len;
	ssize_t			 r;
	int			 s, done = 0;

	*cookiesp = NULL;
	if ((s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG)) == -1)
		return (-1);
	memset(&q, 0, sizeof(q));
	q.nh.nlmsg_len = sizeof(q);
	q.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	q.req.sdiag_family = (uint8_t)family;
	q.req.sdiag_protocol = (uint8_t)proto;
	q.req.idiag_states = ~0U;
	memset(&snl, 0, sizeof(snl));
	snl.nl_family = AF_NETLINK;
	if (sendto(s, &q, sizeof(q), 0, (struct sockaddr *)&snl,
	    sizeof(snl)) == -1)
		goto fail;
	while (!done) {
		if ((r = recv(s, buf, sizeof(buf), 0)) <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			goto fail;
		}
		len = (size_t)r;
		for (nh = (struct nlmsghdr *)(void *)buf; NLMSG_OK(nh, len);
		    nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (nh->nlmsg_type == NLMSG_ERROR)
				goto fail;
			if (nh->nlmsg_len < NLMSG_LENGTH(
			    sizeof(struct inet_diag_msg)))
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 256;
				if ((nc = reallocarray(c, cap, sizeof(*c))) ==
				    NULL)
					goto fail;
				c = nc;
			}
			c[n++] = pcb_diag_cookie(NLMSG_DATA(nh));
		}
	}
	close(s);
	if (n > 0)
		qsort(c, n, sizeof(*c), pcb_cookie_cmp);
	*cookiesp = c;
	return ((ssize_t)n);
 fail:
	close(s);
	free(c);
	return (-1);
}

/*
 * Forget the sockets with policies that are gone: one dump per family
 * and protocol among them, whatever their number.
 */
static void
pcb_sweep(int fd __attribute__((__unused__)),
    short event __attribute__((__unused__)),
    void *arg __attribute__((__unused__)))
{
	static const int fams[] = { AF_INET, AF_INET6 };
	static const int protos[] = { IPPROTO_UDP, IPPROTO_TCP };
	struct pcb_srv	*ps = &pcb_srv;
	struct pcb_sock	*pk, *next;
	uint64_t	*c;
	ssize_t		 n;
	size_t		 f, p;

	for (f = 0; f < nitems(fams); f++)
		for (p = 0; p < nitems(protos); p++) {
			TAILQ_FOREACH(pk, &ps->ps_socks, pk_entry)
				if (pk->pk_family == fams[f] &&
				    pk->pk_proto == protos[p])
					break;
			if (pk == NULL)
				continue;
			/* A dump that fails keeps them all. */
			if ((n = pcb_cookies(fams[f], protos[p], &c)) < 0)
				continue;
			TAILQ_FOREACH_SAFE(pk, &ps->ps_socks, pk_entry, next)
				if (pk->pk_family == fams[f] &&
				    pk->pk_proto == protos[p] &&
				    (n == 0 || bsearch(&pk->pk_cookie, c,
				    (size_t)n, sizeof(*c),
				    pcb_cookie_cmp) == NULL))
					pcb_forget(pk->pk_cookie);
			free(c);
		}
}

/* How many sockets have policies, for -S. */
u_int
pcb_srv_count(void)
{

	return (pcb_srv.ps_nsocks);
}
