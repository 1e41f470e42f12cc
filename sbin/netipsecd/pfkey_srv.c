/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The PF_KEY socket service.  Each connection to the AF_UNIX
 * SOCK_SEQPACKET listener is one PF_KEY socket of the key engine
 * (keysock_attach()); each packet the client sends is one PF_KEY message
 * (key_send()), and each message the engine sends to the socket is one
 * packet back.
 *
 * Threading: everything here runs on the libevent loop thread except
 * pfkey_conn_output(), which the key engine also calls from the ukern
 * callout thread (EXPIRE, ACQUIRE...).  It only appends to the
 * connection's output queue under pc_mtx and activates the connection's
 * write event; the loop thread writes.  keysock_detach() returns only when
 * no output call for the socket is running any more, so a connection is
 * freed after it.
 *
 * Output: a reply to the socket's own request (KEY_OUT_REPLY, every
 * message of a dump included) is always queued; any other message is
 * dropped, and ENOBUFS returned for the key engine to count, while more
 * than netipsecd.sendspace bytes wait in the queue.  The loop writes with
 * non-blocking sends as the client reads, and stops reading a client's
 * requests while its queue is over the limit, so a client that asks
 * without reading cannot grow the queue without bound and a slow reader
 * delays nobody but itself.  Dumps are streamed: a dump message
 * (KEY_OUT_DUMP) that brings the queue to netipsecd.sendspace bytes
 * answers EWOULDBLOCK, which pauses the dump in the key engine, and the
 * write path resumes it (key_dump_resume()) once the client has read
 * the queue down to half of that.  A queue thus holds at most about
 * netipsecd.sendspace bytes plus one message, whatever the dump's size.
 *
 * Connections: at most netipsecd.maxclients at once.  One more is told
 * so (a sadb_msg with EUSERS, see pfkey_srv_refuse()), closed, and
 * logged.
 */

#define	_GNU_SOURCE		/* SO_PEERCRED, struct ucred, POLLRDHUP */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include <net/pfkeyv2.h>
#include <netipsec/keysock.h>

#include "netipsecd.h"

/* One message waiting to be written to a client. */
struct pfkey_omsg {
	TAILQ_ENTRY(pfkey_omsg)	 om_entry;
	size_t			 om_len;
	uint8_t			 om_data[];
};
TAILQ_HEAD(pfkey_omsgq, pfkey_omsg);

/* One client connection: one PF_KEY socket. */
struct pfkey_conn {
	TAILQ_ENTRY(pfkey_conn)	 pc_entry;
	int			 pc_fd;
	pid_t			 pc_pid;	/* SO_PEERCRED at connect */
	uid_t			 pc_uid;
	struct keycb		*pc_kp;
	struct event		*pc_rev;	/* a request to read */
	struct event		*pc_wev;	/* room to write, or output */
	int			 pc_rpaused;	/* not reading: queue full */
	int			 pc_eof;	/* client shut down its side */
	int			 pc_bigbuf;	/* SO_SNDBUF raised already */

	pthread_mutex_t		 pc_mtx;	/* protects what follows */
	struct pfkey_omsgq	 pc_outq;
	size_t			 pc_qlen;	/* bytes in pc_outq */
	int			 pc_wsched;	/* pc_wev active or pending */
	int			 pc_wdead;	/* writes fail: output dropped */
	int			 pc_dumpwait;	/* a dump waits for room */
};

static struct pfkey_srv {
	const struct netipsecd_conf	*ps_conf;
	struct event_base		*ps_base;
	int				 ps_fd;		/* the listener */
	struct event			*ps_ev;
	struct event			*ps_pausev;	/* accept paused */
	char				 ps_name[128];	/* for log messages */
	char				*ps_unlink;	/* absolute path */
	TAILQ_HEAD(, pfkey_conn)	 ps_conns;
	int				 ps_nconns;
	uint64_t			 ps_refused;	/* maxclients */
	time_t				 ps_refusedlog;	/* last line */
	uint8_t				*ps_rbuf;	/* PFKEY_MSG_MAX */
} pfkey_srv = { .ps_fd = -1 };

/* Messages written to one client per loop iteration, for fairness. */
#define	PFKEY_WRITE_BATCH	64

/* Seconds between two log lines about refused connections. */
#define	PFKEY_REFUSED_LOGINT	10

static void	pfkey_srv_unlink_stale(const struct sockaddr_un *, socklen_t);
static void	pfkey_srv_accept(int, short, void *);
static void	pfkey_srv_unpause(int, short, void *);
static void	pfkey_srv_refuse(int, const struct ucred *);
static int	pfkey_conn_output(void *, const struct sadb_msg *, size_t,
		    int);
static void	pfkey_conn_read(int, short, void *);
static void	pfkey_conn_write(int, short, void *);
static void	pfkey_conn_senderr(struct pfkey_conn *, const uint8_t *,
		    size_t, int);
static int	pfkey_conn_hungup(int);
static void	pfkey_conn_close(struct pfkey_conn *);
static int	pfkey_conn_resume(struct pfkey_conn *);

/*
 * Create the listener.  Done before daemon(3), so that an address in use
 * is reported on the terminal.
 */
void
pfkey_srv_listen(const struct netipsecd_conf *conf)
{
	struct pfkey_srv	*ps = &pfkey_srv;
	struct sockaddr_un	 sun;
	socklen_t		 len;
	const char		*path = conf->nc_sockpath;
	char			 cwd[PATH_MAX];
	mode_t			 omask;
	int			 fd;

	ps->ps_conf = conf;
	TAILQ_INIT(&ps->ps_conns);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path == NULL) {
		/* Abstract: a leading NUL and no terminating one. */
		memcpy(sun.sun_path + 1, NETIPSECD_ABSTRACT,
		    strlen(NETIPSECD_ABSTRACT));
		len = offsetof(struct sockaddr_un, sun_path) + 1 +
		    strlen(NETIPSECD_ABSTRACT);
		snprintf(ps->ps_name, sizeof(ps->ps_name), "@%s",
		    NETIPSECD_ABSTRACT);
	} else {
		if (*path == '\0' ||
		    strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
		    sizeof(sun.sun_path))
			fatalx("%s: bad socket path (at most %zu bytes)", path,
			    sizeof(sun.sun_path) - 1);
		len = sizeof(sun);
		strlcpy(ps->ps_name, path, sizeof(ps->ps_name));
		pfkey_srv_unlink_stale(&sun, len);
	}

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		fatal("pfkey_srv_listen: socket");
	/* The mode is right from the start: no window before chmod(2). */
	omask = umask(conf->nc_hasgid ? 0117 : 0177);
	if (bind(fd, (struct sockaddr *)&sun, len) == -1) {
		if (errno == EADDRINUSE && path == NULL)
			fatalx("%s: in use: another netipsecd runs in this "
			    "network namespace", ps->ps_name);
		fatal("%s: bind", ps->ps_name);
	}
	umask(omask);

	if (path != NULL) {
		/* Remembered absolute: daemon(3) changes directory. */
		if (path[0] == '/')
			ps->ps_unlink = strdup(path);
		else if (getcwd(cwd, sizeof(cwd)) == NULL ||
		    asprintf(&ps->ps_unlink, "%s/%s", cwd, path) == -1)
			ps->ps_unlink = NULL;
		if (ps->ps_unlink == NULL)
			fatal("pfkey_srv_listen: %s", path);
		if (conf->nc_hasgid) {
			if (chown(path, (uid_t)-1, conf->nc_gid) == -1)
				fatal("%s: chown", path);
			if (chmod(path, 0660) == -1)
				fatal("%s: chmod", path);
		} else if (chmod(path, 0600) == -1)
			fatal("%s: chmod", path);
	}

	if (listen(fd, SOMAXCONN) == -1)
		fatal("%s: listen", ps->ps_name);
	ps->ps_fd = fd;

	if ((ps->ps_rbuf = malloc(PFKEY_MSG_MAX)) == NULL)
		fatal("pfkey_srv_listen");
}

/*
 * A socket file left by a netipsecd that did not exit cleanly is removed;
 * one that a live server answers on, or a file of another kind, is not.
 */
static void
pfkey_srv_unlink_stale(const struct sockaddr_un *sun, socklen_t len)
{
	struct stat	 st;
	const char	*path = sun->sun_path;
	int		 fd, error;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return;
		fatal("%s", path);
	}
	if (!S_ISSOCK(st.st_mode))
		fatalx("%s: exists and is not a socket", path);

	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1)
		fatal("pfkey_srv_unlink_stale: socket");
	error = connect(fd, (const struct sockaddr *)sun, len) == -1 ?
	    errno : 0;
	close(fd);
	if (error != ECONNREFUSED)
		fatalx("%s: in use by another server", path);
	if (unlink(path) == -1)
		fatal("%s: unlink", path);
	log_info("%s: removed a stale socket", path);
}

void
pfkey_srv_start(struct event_base *base)
{
	struct pfkey_srv	*ps = &pfkey_srv;

	ps->ps_base = base;
	ps->ps_ev = event_new(base, ps->ps_fd, EV_READ | EV_PERSIST,
	    pfkey_srv_accept, NULL);
	ps->ps_pausev = evtimer_new(base, pfkey_srv_unpause, NULL);
	if (ps->ps_ev == NULL || ps->ps_pausev == NULL ||
	    event_add(ps->ps_ev, NULL) == -1)
		fatalx("pfkey_srv_start: cannot set up the listener");
	log_info("serving PF_KEY on %s", ps->ps_name);
}

/* Close every connection and the listener. */
void
pfkey_srv_stop(void)
{
	struct pfkey_srv	*ps = &pfkey_srv;
	struct pfkey_conn	*pc;

	while ((pc = TAILQ_FIRST(&ps->ps_conns)) != NULL)
		pfkey_conn_close(pc);
	if (ps->ps_ev != NULL)
		event_free(ps->ps_ev);
	if (ps->ps_pausev != NULL)
		event_free(ps->ps_pausev);
	ps->ps_ev = ps->ps_pausev = NULL;
	if (ps->ps_fd != -1)
		close(ps->ps_fd);
	ps->ps_fd = -1;
	if (ps->ps_unlink != NULL) {
		if (unlink(ps->ps_unlink) == -1 && errno != ENOENT)
			log_warn("%s: unlink", ps->ps_unlink);
		free(ps->ps_unlink);
		ps->ps_unlink = NULL;
	}
	free(ps->ps_rbuf);
	ps->ps_rbuf = NULL;
}

static void
pfkey_srv_accept(int fd, short event __attribute__((__unused__)),
    void *arg __attribute__((__unused__)))
{
	struct pfkey_srv	*ps = &pfkey_srv;
	struct pfkey_conn	*pc;
	struct ucred		 uc;
	socklen_t		 len;
	struct timeval		 tv = { 1, 0 };
	int			 cfd;

	if ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1) {
		switch (errno) {
		case EINTR:
		case EAGAIN:
		case ECONNABORTED:
			return;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			/* Out of descriptors: do not spin, retry in 1 s. */
			log_warn("pfkey_srv_accept: pausing for 1 s");
			event_del(ps->ps_ev);
			evtimer_add(ps->ps_pausev, &tv);
			return;
		default:
			log_warn("pfkey_srv_accept");
			return;
		}
	}

	len = sizeof(uc);
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1) {
		log_warn("pfkey_srv_accept: SO_PEERCRED");
		close(cfd);
		return;
	}
	if (!pfkey_srv_allowed(&uc)) {
		log_warnx("pfkey_srv_accept: refused pid %ld uid %lu gid %lu",
		    (long)uc.pid, (unsigned long)uc.uid, (unsigned long)uc.gid);
		close(cfd);
		return;
	}
	if (ps->ps_nconns >= ps->ps_conf->nc_maxclients) {
		pfkey_srv_refuse(cfd, &uc);
		return;
	}

	if ((pc = calloc(1, sizeof(*pc))) == NULL) {
		log_warn("pfkey_srv_accept");
		close(cfd);
		return;
	}
	pc->pc_fd = cfd;
	pc->pc_pid = uc.pid;
	pc->pc_uid = uc.uid;
	TAILQ_INIT(&pc->pc_outq);
	pc->pc_rev = event_new(ps->ps_base, cfd, EV_READ | EV_PERSIST,
	    pfkey_conn_read, pc);
	pc->pc_wev = event_new(ps->ps_base, cfd, EV_WRITE, pfkey_conn_write,
	    pc);
	if (pc->pc_rev == NULL || pc->pc_wev == NULL ||
	    pthread_mutex_init(&pc->pc_mtx, NULL) != 0) {
		log_warnx("pfkey_srv_accept: out of memory");
		goto fail;
	}
	/* The output callback may run as soon as the socket is attached. */
	if ((pc->pc_kp = keysock_attach(pfkey_conn_output, pc)) == NULL) {
		log_warnx("pfkey_srv_accept: pid %ld: keysock_attach failed",
		    (long)pc->pc_pid);
		pthread_mutex_destroy(&pc->pc_mtx);
		goto fail;
	}
	TAILQ_INSERT_TAIL(&ps->ps_conns, pc, pc_entry);
	ps->ps_nconns++;
	event_add(pc->pc_rev, NULL);
	log_debug("pfkey_srv_accept: pid %ld uid %lu connected",
	    (long)pc->pc_pid, (unsigned long)pc->pc_uid);
	return;

 fail:
	if (pc->pc_rev != NULL)
		event_free(pc->pc_rev);
	if (pc->pc_wev != NULL)
		event_free(pc->pc_wev);
	free(pc);
	close(cfd);
}

/*
 * One connection too many (netipsecd.maxclients): tell the client why,
 * then close.  Its connect(2) succeeded before we could refuse, so the
 * reason comes as the first message: a bare sadb_msg whose only field
 * set is sadb_msg_errno, EUSERS, which libpfkey reports at the first
 * pfkey_send() or pfkey_recv().  At most one log line in
 * PFKEY_REFUSED_LOGINT seconds, with the count so far.
 */
static void
pfkey_srv_refuse(int cfd, const struct ucred *uc)
{
	struct pfkey_srv	*ps = &pfkey_srv;
	struct sadb_msg		 msg;
	struct timespec		 now;

	memset(&msg, 0, sizeof(msg));
	msg.sadb_msg_version = PF_KEY_V2;
	msg.sadb_msg_errno = EUSERS;
	msg.sadb_msg_len = PFKEY_UNIT64(sizeof(msg));
	(void)send(cfd, &msg, sizeof(msg), MSG_DONTWAIT | MSG_NOSIGNAL);
	close(cfd);
	ps->ps_refused++;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (ps->ps_refusedlog != 0 &&
	    now.tv_sec - ps->ps_refusedlog < PFKEY_REFUSED_LOGINT)
		return;
	ps->ps_refusedlog = now.tv_sec != 0 ? now.tv_sec : 1;
	log_warnx("pfkey_srv_accept: refused pid %ld uid %lu: %d clients "
	    "connected (netipsecd.maxclients), %ju refused so far",
	    (long)uc->pid, (unsigned long)uc->uid, ps->ps_nconns,
	    (uintmax_t)ps->ps_refused);
}

/* Connections refused for netipsecd.maxclients (netipsecd -S). */
uint64_t
pfkey_srv_refused(void)
{

	return (pfkey_srv.ps_refused);
}

static void
pfkey_srv_unpause(int fd __attribute__((__unused__)),
    short event __attribute__((__unused__)),
    void *arg __attribute__((__unused__)))
{
	event_add(pfkey_srv.ps_ev, NULL);
}

/*
 * Root may use PF_KEY, as on BSD; with -g, so may the members of that
 * group (by the peer's gid, or the supplementary groups of its user).
 */
int
pfkey_srv_allowed(const struct ucred *uc)
{
	const struct netipsecd_conf	*conf = pfkey_srv.ps_conf;
	struct passwd			*pw;
	gid_t				*groups;
	int				 i, n, ngroups, ok;

	if (uc->uid == 0)
		return (1);
	if (!conf->nc_hasgid)
		return (0);
	if (uc->gid == conf->nc_gid)
		return (1);
	if ((pw = getpwuid(uc->uid)) == NULL)
		return (0);

	for (n = 32;; n = ngroups) {
		if ((groups = calloc(n, sizeof(*groups))) == NULL)
			return (0);
		ngroups = n;
		if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &ngroups) !=
		    -1)
			break;
		free(groups);
		if (ngroups <= n)
			return (0);
	}
	for (ok = 0, i = 0; i < ngroups && !ok; i++)
		ok = groups[i] == conf->nc_gid;
	free(groups);
	return (ok);
}

/*
 * key_output_t: the key engine sends one message to this socket.  Runs on
 * the loop thread (replies, broadcasts caused by a request) or on the
 * callout thread (EXPIRE, ACQUIRE); never blocks.
 */
static int
pfkey_conn_output(void *arg, const struct sadb_msg *msg, size_t len,
    int flags)
{
	struct pfkey_conn	*pc = arg;
	struct pfkey_omsg	*om;
	size_t			 limit = pfkey_srv.ps_conf->nc_sendspace;
	int			 error;

	if (len == 0 || len > PFKEY_MSG_MAX + sizeof(struct sadb_msg))
		return (EINVAL);

	pthread_mutex_lock(&pc->pc_mtx);
	if (pc->pc_wdead) {
		/*
		 * The client is gone; its last requests are still read.  A
		 * dump stops here: it goes when the connection closes.
		 */
		pthread_mutex_unlock(&pc->pc_mtx);
		return ((flags & KEY_OUT_DUMP) ? EWOULDBLOCK : 0);
	}
	if (!(flags & KEY_OUT_REPLY) && pc->pc_qlen + len > limit) {
		pthread_mutex_unlock(&pc->pc_mtx);
		return (ENOBUFS);
	}
	if ((om = malloc(sizeof(*om) + len)) == NULL) {
		pthread_mutex_unlock(&pc->pc_mtx);
		return (ENOBUFS);
	}
	om->om_len = len;
	memcpy(om->om_data, msg, len);
	TAILQ_INSERT_TAIL(&pc->pc_outq, om, om_entry);
	pc->pc_qlen += len;
	if (!pc->pc_wsched) {
		pc->pc_wsched = 1;
		event_active(pc->pc_wev, EV_WRITE, 1);
	}
	/* A dump goes on when the client has read (pfkey_conn_resume()). */
	error = 0;
	if ((flags & KEY_OUT_DUMP) && pc->pc_qlen >= limit) {
		pc->pc_dumpwait = 1;
		error = EWOULDBLOCK;
	}
	pthread_mutex_unlock(&pc->pc_mtx);
	return (error);
}

/* A request from the client: one packet, one PF_KEY message. */
static void
pfkey_conn_read(int fd, short event __attribute__((__unused__)), void *arg)
{
	struct pfkey_conn	*pc = arg;
	uint8_t			*buf = pfkey_srv.ps_rbuf;
	struct msghdr		 mh;
	struct iovec		 iov;
	ssize_t			 n;
	int			 error, busy;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = PFKEY_MSG_MAX;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if ((n = recvmsg(fd, &mh, MSG_DONTWAIT)) == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		if (errno == ECONNRESET) {
			/*
			 * Linux reports a peer that closed with replies
			 * unread before the requests it sent last: those are
			 * still queued.  Drop the output, read on to EOF.
			 */
			pthread_mutex_lock(&pc->pc_mtx);
			pc->pc_wdead = 1;
			pthread_mutex_unlock(&pc->pc_mtx);
			return;
		}
		log_debug("pfkey_conn_read: pid %ld: %s", (long)pc->pc_pid,
		    strerror(errno));
		pfkey_conn_close(pc);
		return;
	}
	if (n == 0 && pfkey_conn_hungup(fd)) {
		event_del(pc->pc_rev);
		pc->pc_eof = 1;
		pthread_mutex_lock(&pc->pc_mtx);
		busy = pc->pc_wsched;
		pthread_mutex_unlock(&pc->pc_mtx);
		/* Pending replies are still written: SHUT_WR then read. */
		if (!busy)
			pfkey_conn_close(pc);
		return;
	}

	/*
	 * Framing errors, which BSD returns from send(2), come back as a
	 * bare sadb_msg with the error (netipsecd(8)).
	 */
	if (mh.msg_flags & MSG_TRUNC)
		error = EINVAL;		/* longer than any PF_KEY message */
	else if (mh.msg_flags & MSG_CTRUNC)
		error = EOPNOTSUPP;	/* control data, as BSD refuses */
	else
		error = key_send(pc->pc_kp, buf, (size_t)n);
	if (error != 0)
		pfkey_conn_senderr(pc, buf, (size_t)n, error);
	explicit_bzero(buf, (size_t)n);		/* keys */

	/* Stop reading requests while the replies pile up. */
	pthread_mutex_lock(&pc->pc_mtx);
	if (pc->pc_qlen > (size_t)pfkey_srv.ps_conf->nc_sendspace) {
		event_del(pc->pc_rev);
		pc->pc_rpaused = 1;
	}
	pthread_mutex_unlock(&pc->pc_mtx);
}

/*
 * recv(2) returned 0: the client closed or shut down its side, or sent an
 * empty packet.
 */
static int
pfkey_conn_hungup(int fd)
{
	struct pollfd	pfd;

	pfd.fd = fd;
	pfd.events = POLLIN | POLLRDHUP;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) == -1)
		return (1);
	return ((pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0);
}

static void
pfkey_conn_senderr(struct pfkey_conn *pc, const uint8_t *buf, size_t len,
    int error)
{
	struct sadb_msg	msg;

	log_debug("pfkey_conn_senderr: pid %ld: %zu-byte message: %s",
	    (long)pc->pc_pid, len, strerror(error));
	memset(&msg, 0, sizeof(msg));
	memcpy(&msg, buf, len < sizeof(msg) ? len : sizeof(msg));
	msg.sadb_msg_errno = (uint8_t)error;
	msg.sadb_msg_len = PFKEY_UNIT64(sizeof(msg));
	if (pfkey_conn_output(pc, &msg, sizeof(msg), KEY_OUT_REPLY) != 0)
		log_warnx("pfkey_conn_senderr: pid %ld: error reply lost",
		    (long)pc->pc_pid);
}

/* Write queued messages as the client reads them. */
static void
pfkey_conn_write(int fd, short event __attribute__((__unused__)),
    void *arg)
{
	struct pfkey_conn	*pc = arg;
	struct pfkey_omsg	*om;
	size_t			 limit = pfkey_srv.ps_conf->nc_sendspace;
	ssize_t			 n;
	int			 sz, batch, error = 0, done = 0;

	pthread_mutex_lock(&pc->pc_mtx);
	for (batch = 0; batch < PFKEY_WRITE_BATCH; batch++) {
		if ((om = TAILQ_FIRST(&pc->pc_outq)) == NULL) {
			pc->pc_wsched = 0;
			done = 1;
			break;
		}
		n = send(fd, om->om_data, om->om_len,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				event_add(pc->pc_wev, NULL);
				break;
			}
			if (errno == EMSGSIZE && !pc->pc_bigbuf) {
				/* A huge message: make room once, as root. */
				pc->pc_bigbuf = 1;
				sz = PFKEY_MSG_MAX + 4096;
				if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE,
				    &sz, sizeof(sz)) == -1)
					(void)setsockopt(fd, SOL_SOCKET,
					    SO_SNDBUF, &sz, sizeof(sz));
				continue;
			}
			if (errno != EMSGSIZE) {
				error = errno;
				break;
			}
			log_warnx("pfkey_conn_write: pid %ld: %zu-byte "
			    "message dropped: %s", (long)pc->pc_pid,
			    om->om_len, strerror(errno));
		}
		TAILQ_REMOVE(&pc->pc_outq, om, om_entry);
		pc->pc_qlen -= om->om_len;
		explicit_bzero(om->om_data, om->om_len);
		free(om);
	}
	if (batch == PFKEY_WRITE_BATCH)
		event_active(pc->pc_wev, EV_WRITE, 1);	/* others first */
	if (pc->pc_rpaused && !pc->pc_eof && pc->pc_qlen <= limit / 2) {
		pc->pc_rpaused = 0;
		event_add(pc->pc_rev, NULL);
	}
	pthread_mutex_unlock(&pc->pc_mtx);
	if (error == 0)
		done = pfkey_conn_resume(pc);

	if (error != 0) {
		log_debug("pfkey_conn_write: pid %ld: %s", (long)pc->pc_pid,
		    strerror(error));
		/*
		 * A client that sent its last requests and closed (iked
		 * deleting its SAs at exit) must not lose them because a
		 * reply to the first one failed: drop the output, keep
		 * reading until end of file.
		 */
		pthread_mutex_lock(&pc->pc_mtx);
		pc->pc_wdead = 1;
		while ((om = TAILQ_FIRST(&pc->pc_outq)) != NULL) {
			TAILQ_REMOVE(&pc->pc_outq, om, om_entry);
			explicit_bzero(om->om_data, om->om_len);
			free(om);
		}
		pc->pc_qlen = 0;
		pc->pc_wsched = 0;
		if (pc->pc_rpaused && !pc->pc_eof) {
			pc->pc_rpaused = 0;
			event_add(pc->pc_rev, NULL);
		}
		pthread_mutex_unlock(&pc->pc_mtx);
		if (pc->pc_eof)
			pfkey_conn_close(pc);
	} else if (done && pc->pc_eof)
		pfkey_conn_close(pc);
}

/*
 * After a write: a dump that waits for room goes on once the client has
 * read the queue down to half of netipsecd.sendspace (the same mark at
 * which its requests are read again).  Its messages are then written
 * when the loop next finds the socket writable, not at once: activated
 * right away, the write event would run again before the loop polls, and
 * a dump to a fast reader would keep everyone else, this client's own
 * requests included, waiting until its end.  Returns 1 if nothing waits
 * to be written, 0 if the write event is scheduled.
 */
static int
pfkey_conn_resume(struct pfkey_conn *pc)
{
	size_t	limit = pfkey_srv.ps_conf->nc_sendspace;
	int	resume, sched = 1, idle;

	pthread_mutex_lock(&pc->pc_mtx);
	resume = pc->pc_dumpwait && !pc->pc_wdead && pc->pc_qlen <= limit / 2;
	if (resume) {
		pc->pc_dumpwait = 0;
		sched = pc->pc_wsched;
		pc->pc_wsched = 1;	/* pfkey_conn_output() activates none */
	}
	pthread_mutex_unlock(&pc->pc_mtx);
	/* Unlocked: the dump's messages come through pfkey_conn_output(). */
	if (resume)
		(void)key_dump_resume(pc->pc_kp);
	pthread_mutex_lock(&pc->pc_mtx);
	if (!sched) {
		if (TAILQ_EMPTY(&pc->pc_outq))
			pc->pc_wsched = 0;
		else
			event_add(pc->pc_wev, NULL);
	}
	idle = !pc->pc_wsched;
	pthread_mutex_unlock(&pc->pc_mtx);
	return (idle);
}

static void
pfkey_conn_close(struct pfkey_conn *pc)
{
	struct pfkey_omsg	*om;
	uint64_t		 drops;

	TAILQ_REMOVE(&pfkey_srv.ps_conns, pc, pc_entry);
	pfkey_srv.ps_nconns--;
	drops = keysock_drops(pc->pc_kp);
	keysock_detach(pc->pc_kp);
	/* No output call for this socket runs any more. */
	event_free(pc->pc_rev);
	event_free(pc->pc_wev);
	close(pc->pc_fd);
	while ((om = TAILQ_FIRST(&pc->pc_outq)) != NULL) {
		TAILQ_REMOVE(&pc->pc_outq, om, om_entry);
		explicit_bzero(om->om_data, om->om_len);
		free(om);
	}
	pthread_mutex_destroy(&pc->pc_mtx);
	if (drops != 0)
		log_info("pfkey_conn_close: pid %ld: %ju messages dropped",
		    (long)pc->pc_pid, (uintmax_t)drops);
	log_debug("pfkey_conn_close: pid %ld closed", (long)pc->pc_pid);
	free(pc);
}
