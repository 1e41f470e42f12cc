/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Privilege separation (iked.8, PROCESSES), OpenBSD's model:
 *
 * parent	root.  Reads iked.conf, opens PF_KEY, binds the IKE sockets
 *		and the control socket, forks the engine, then only: parses
 *		the configuration again on HUP or when ikectl asks, and
 *		passes PF_KEY messages between the engine and the kernel,
 *		the engine's only after pfkey_filter() allows them.
 * engine	IKED_USER, chrooted to its home directory (an empty one),
 *		with no PF_KEY socket and no file: parses every packet from
 *		the network, runs both versions' state machines and serves
 *		ikectl on the socket the parent bound.
 *
 * The engine inherits the IKE and control sockets across fork(2), with
 * the configuration the parent parsed at start; a reload comes as
 * messages (cfgmsg.c).  Two channels join them: an imsg socketpair
 * (configuration, reloads) and a SOCK_SEQPACKET pair carrying PF_KEY
 * messages, one per datagram, so that the engine's kernel.c speaks
 * PF_KEY to the parent as it would to the kernel.
 *
 * When one of them dies the other follows, with a line in the log; the
 * kernel's SAs stay as they are.  TERM or INT to the parent ends the
 * engine as iked -X ends: our SAs are deleted and the peers told, and
 * the parent passes those last messages on before it exits.
 *
 * The place for pledge(2)/unveil(2) (OpenBSD) or Capsicum (FreeBSD) in
 * the engine is proc_engine_restrict().
 */

#ifdef __linux__
#define _GNU_SOURCE	/* glibc: setresuid(2), setresgid(2) */
#endif

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/ioctl.h>
#include <sys/prctl.h>
#endif

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include <openssl/evp.h>

#ifdef HAVE_SECCOMP
#include <seccomp.h>
#endif

#include <libpfkey.h>

#include "iked.h"

/*
 * Built with AddressSanitizer (make check SANITIZE=1): its leak check
 * at exit reads /proc and traces the process, so the engine is neither
 * chrooted nor filtered there, and says so.
 */
#if defined(__SANITIZE_ADDRESS__)
#define PROC_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PROC_ASAN	1
#endif
#endif

#define PROC_PFKEY_MAX		(64 * 1024)	/* an engine's message */
#define PROC_QUEUE_MAX		(8 * 1024 * 1024) /* kernel to engine */
#define PROC_SOCKBUF		(2 * 1024 * 1024)
#define PROC_SEND_WAIT		1000		/* ms for room at the kernel */

struct proc_msg {
	TAILQ_ENTRY(proc_msg)	 pm_entry;
	size_t			 pm_len;
	uint8_t			 pm_buf[];
};
TAILQ_HEAD(proc_msgq, proc_msg);

static struct proc_parent {
	struct iked		*pp_env;
	struct event_base	*pp_base;
	pid_t			 pp_engine;	/* 0: gone */
	int			 pp_status;	/* its exit status */
	struct imsgbuf		 pp_ibuf;
	struct event		*pp_ibev;
	struct event		*pp_ibwev;
	int			 pp_kfd;	/* PF_KEY */
	struct event		*pp_kev;
	int			 pp_efd;	/* the engine's PF_KEY channel */
	struct event		*pp_eev;
	struct event		*pp_ewev;
	struct proc_msgq	 pp_q;		/* to the engine, waiting */
	size_t			 pp_qbytes;
	uint64_t		 pp_qdrops;
	struct pfkey_ids	*pp_ids;	/* the engine's policies */
	uint8_t			*pp_buf;	/* PROC_PFKEY_MAX */
	pid_t			 pp_ca;		/* the ca process, 0: gone */
	struct imsgbuf		 pp_cabuf;	/* to it */
	struct event		*pp_caev;	/* its requests (OCSP) */
	int			 pp_exiting;	/* TERM: the engine ends */
	int			 pp_edone;	/* it wrote its last request */
} pp;

static struct cfgmsg_state	 proc_cfgstate;	/* the engine's */

static void	proc_parent_imsg(evutil_socket_t, short, void *);
static void	proc_parent_iwrite(evutil_socket_t, short, void *);
static void	proc_parent_kernel(evutil_socket_t, short, void *);
static void	proc_parent_engine(evutil_socket_t, short, void *);
static void	proc_parent_ewrite(evutil_socket_t, short, void *);
static void	proc_parent_caflush(void);
static void	proc_parent_ca(evutil_socket_t, short, void *);

static void
proc_nonblock(int fd)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		fatal("%s", __func__);
}

/*
 * The engine's user: its home is the engine's root, which must be a
 * directory that only root may change (as sshd(8) checks its own).
 */
static void
proc_check_home(const struct passwd *pw)
{
	struct stat	 st;

	if (pw->pw_dir == NULL || pw->pw_dir[0] != '/')
		fatalx("user %s: its home directory is not an absolute path",
		    pw->pw_name);
	if (stat(pw->pw_dir, &st) == -1)
		fatal("user %s: %s", pw->pw_name, pw->pw_dir);
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		fatalx("user %s: %s must be a directory owned by root and "
		    "writable by root only", pw->pw_name, pw->pw_dir);
}

/*
 * What the engine needs from files, loaded while it can still read
 * them: OpenSSL's configuration and algorithms, the time zone of the
 * log.
 */
static void
proc_engine_preload(void)
{
	EVP_CIPHER	*c;
	EVP_MD		*md;

	if (OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL) != 1)
		fatalx("OpenSSL does not start");
	if ((c = EVP_CIPHER_fetch(NULL, "AES-128-CBC", NULL)) != NULL)
		EVP_CIPHER_free(c);
	if ((md = EVP_MD_fetch(NULL, "SHA256", NULL)) != NULL)
		EVP_MD_free(md);
	tzset();
}

/* What ps(1) shows: "iked-engine", "iked-ca" (Linux's comm is short). */
static void
proc_title(const char *name)
{
#ifdef __linux__
	char	 comm[16];

	(void)snprintf(comm, sizeof(comm), "iked-%s", name);
	(void)prctl(PR_SET_NAME, comm, 0, 0, 0);
#else
	setproctitle("%s", name);
#endif
}

/* chroot(2) to the user's home, then become the user, for good. */
static void
proc_engine_privdrop(const struct passwd *pw)
{
#ifndef PROC_ASAN
	if (chroot(pw->pw_dir) == -1 || chdir("/") == -1)
		fatal("chroot %s", pw->pw_dir);
#else
	if (chdir(pw->pw_dir) == -1)
		fatal("%s", pw->pw_dir);
	log_info("engine: not chrooted under AddressSanitizer");
#endif
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		fatal("cannot become user %s", pw->pw_name);
	if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid ||
	    getgid() != pw->pw_gid || getegid() != pw->pw_gid ||
	    setuid(0) != -1)
		fatalx("still privileged after becoming user %s", pw->pw_name);
#ifdef __linux__
	/* No execve(2) could make us privileged again. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_NO_NEW_PRIVS)");
#endif
}

/*
 * The system calls the engine may make once its event loop runs: what
 * libevent, the IKE sockets, the control socket, OpenSSL and malloc
 * need.  On Linux a seccomp filter (libseccomp): any other call fails
 * with EPERM, and those that only an intruder would make (execve,
 * ptrace, another process's memory) kill the engine, and with it iked.
 * On OpenBSD the place for pledge("stdio inet recvfd"); on FreeBSD for
 * cap_enter(2), the sockets limited with cap_rights_limit(2).  Not
 * under AddressSanitizer (PROC_ASAN).
 */
#if defined(HAVE_SECCOMP) && !defined(PROC_ASAN)
static const int proc_syscalls[] = {
	SCMP_SYS(read), SCMP_SYS(readv), SCMP_SYS(write), SCMP_SYS(writev),
	SCMP_SYS(recvfrom), SCMP_SYS(recvmsg),
	SCMP_SYS(sendto), SCMP_SYS(sendmsg),
	SCMP_SYS(getsockopt), SCMP_SYS(close), SCMP_SYS(fcntl),
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select),
	SCMP_SYS(pselect6), SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres),
	SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(nanosleep),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(getpid), SCMP_SYS(getppid),
	SCMP_SYS(gettid), SCMP_SYS(getuid), SCMP_SYS(geteuid),
	SCMP_SYS(getgid), SCMP_SYS(getegid), SCMP_SYS(fstat),
	SCMP_SYS(newfstatat), SCMP_SYS(statx), SCMP_SYS(lseek),
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap),
	SCMP_SYS(mremap), SCMP_SYS(mprotect), SCMP_SYS(madvise),
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(sigaltstack), SCMP_SYS(getrandom),
	SCMP_SYS(futex), SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity),
	SCMP_SYS(sysinfo), SCMP_SYS(uname), SCMP_SYS(getrusage),
	SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(restart_syscall),
	SCMP_SYS(tgkill), SCMP_SYS(rseq)
};

/*
 * The engine's besides: the control socket's clients, batches of
 * datagrams, libevent's epoll.  The ca process, which talks only over
 * its two channels from a poll(2) loop (and to an OCSP responder over
 * a socket the parent connected), makes none of them.
 */
static const int proc_engine_syscalls[] = {
	SCMP_SYS(recvmmsg), SCMP_SYS(sendmmsg),
	SCMP_SYS(accept), SCMP_SYS(accept4), SCMP_SYS(shutdown),
	SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl)
};

static const int proc_killcalls[] = {
	SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(ptrace),
	SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev)
};
#endif

#if defined(HAVE_SECCOMP) && !defined(PROC_ASAN)
static void
proc_seccomp_add(scmp_filter_ctx ctx, uint32_t action, const int *calls,
    size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (seccomp_rule_add(ctx, action, calls[i], 0) != 0)
			fatalx("seccomp: system call %d", calls[i]);
}
#endif

static void
proc_engine_restrict(const char *who, int engine)
{
	(void)who;	/* unused where there is no filter */
	(void)engine;
#if defined(HAVE_SECCOMP) && !defined(PROC_ASAN)
	struct scmp_arg_cmp	 ioarg;
	scmp_filter_ctx		 ctx;

	if ((ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM))) == NULL)
		fatalx("seccomp_init");
	proc_seccomp_add(ctx, SCMP_ACT_ALLOW, proc_syscalls,
	    sizeof(proc_syscalls) / sizeof(proc_syscalls[0]));
	if (engine)
		proc_seccomp_add(ctx, SCMP_ACT_ALLOW, proc_engine_syscalls,
		    sizeof(proc_engine_syscalls) /
		    sizeof(proc_engine_syscalls[0]));
	proc_seccomp_add(ctx, SCMP_ACT_KILL_PROCESS, proc_killcalls,
	    sizeof(proc_killcalls) / sizeof(proc_killcalls[0]));
	/*
	 * ioctl(2): what libevent asks of a socket; not TIOCSTI & co.
	 * (The comparison spelled out: SCMP_A1() leaves a field to the
	 * compiler, which clang's -Wextra does not accept.)
	 */
	ioarg.arg = 1;
	ioarg.op = SCMP_CMP_EQ;
	ioarg.datum_a = FIONREAD;
	ioarg.datum_b = 0;
	if (engine && seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW,
	    SCMP_SYS(ioctl), 1, &ioarg) != 0)
		fatalx("seccomp: ioctl");
	if (seccomp_load(ctx) != 0)
		fatalx("seccomp: cannot load the filter");
	seccomp_release(ctx);
	log_debug("%s: seccomp filter on", who);
#elif defined(HAVE_SECCOMP)
	log_info("%s: no seccomp filter under AddressSanitizer", who);
#elif defined(__linux__)
	log_info("%s: no seccomp filter: built without libseccomp", who);
#endif
}

/*
 * The engine: the child of fork(2), with the parent's sockets.  ifd and
 * efd: its ends of the two channels.
 */
static __dead void
proc_engine(struct iked *env, const struct passwd *pw, int ifd, int efd)
{
	iked_pidfile_forget();
	proc_title("engine");
	proc_engine_preload();
	proc_engine_privdrop(pw);
	/* setuid(2) may make us dumpable again. */
	iked_nocore();

	env->sc_privsep = 1;
	env->sc_parent = getppid();
	env->sc_pfkey = efd;
	if ((env->sc_ibuf = calloc(1, sizeof(*env->sc_ibuf))) == NULL)
		fatal("%s", __func__);
	imsg_init(env->sc_ibuf, ifd);
	iked_run(env);
	exit(0);
}

static void
proc_engine_iwrite(evutil_socket_t fd, short event, void *arg)
{
	struct iked	*env = arg;

	(void)fd;
	(void)event;
	if (imsg_flush(env->sc_ibuf) == -1) {
		log_warn("engine: to the parent");
		event_base_loopexit(env->sc_evbase, NULL);
	} else if (TAILQ_EMPTY(&env->sc_ibuf->out))
		event_del(env->sc_ibufwev);
}

static int
proc_engine_flush(struct iked *env)
{
	switch (imsg_flush(env->sc_ibuf)) {
	case 0:
		return (0);
	case 1:
		return (event_add(env->sc_ibufwev, NULL));
	default:
		return (-1);
	}
}

static void
proc_engine_dispatch(struct iked *env, struct imsg *im)
{
	static char		*conffile;
	struct iked_config	*cf;
	const char		*file;
	char			*name;
	size_t			 len;
	int			 ok;

	switch (im->hdr.type) {
	case IMSG_CFG_START:
	case IMSG_CFG_POLICY:
	case IMSG_CFG_FLOW:
	case IMSG_CFG_PROPOSAL:
	case IMSG_CFG_END:
		switch (cfgmsg_recv(&proc_cfgstate, im, &cf)) {
		case 1:
			iked_apply(env, cf, 0);
			break;
		case -1:
			log_warnx("engine: a broken configuration from the "
			    "parent (message %u): ignored", im->hdr.type);
			break;
		default:
			break;
		}
		break;
	case IMSG_RELOADED:
		/* int ok, then the file read, NUL-terminated. */
		len = imsg_datalen(im);
		file = (const char *)im->data + sizeof(ok);
		if (len <= sizeof(ok) || len > sizeof(ok) + PATH_MAX ||
		    file[len - sizeof(ok) - 1] != '\0') {
			log_warnx("engine: a broken message from the parent");
			break;
		}
		memcpy(&ok, im->data, sizeof(ok));
		/* The ca process has read the iked directory again. */
		auth_forget();
		if (ok == 0 && strcmp(file, env->sc_conffile) != 0 &&
		    (name = strdup(file)) != NULL) {
			/* "load": the file the parent reads from now on. */
			free(conffile);
			env->sc_conffile = conffile = name;
		}
		control_reloaded(im->hdr.peerid, ok, file);
		break;
	default:
		log_warnx("engine: unknown message %u from the parent",
		    im->hdr.type);
		break;
	}
}

/* The parent is gone: so are we, leaving the kernel's SAs. */
static __dead void
proc_engine_orphan(struct iked *env)
{
	(void)env;
	log_warnx("engine: the parent process is gone; exiting");
	exit(1);
}

static void
proc_engine_imsg(evutil_socket_t fd, short event, void *arg)
{
	struct iked	*env = arg;
	struct imsg	 im;
	ssize_t		 n;
	int		 r;

	(void)fd;
	(void)event;
	if ((n = imsg_read(env->sc_ibuf)) == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		log_warn("engine: from the parent");
		proc_engine_orphan(env);
	}
	if (n == 0)
		proc_engine_orphan(env);
	while ((r = imsg_get(env->sc_ibuf, &im)) == 1) {
		proc_engine_dispatch(env, &im);
		if (im.fd != -1)
			close(im.fd);
		imsg_free(&im);
	}
	if (r == -1) {
		log_warn("engine: from the parent");
		proc_engine_orphan(env);
	}
}

/*
 * The engine is set up: its channel to the parent goes into its event
 * loop, and then its system calls are restricted.
 */
void
proc_engine_start(struct iked *env)
{
	proc_nonblock(env->sc_ibuf->fd);
	env->sc_ibufev = event_new(env->sc_evbase, env->sc_ibuf->fd,
	    EV_READ | EV_PERSIST, proc_engine_imsg, env);
	env->sc_ibufwev = event_new(env->sc_evbase, env->sc_ibuf->fd,
	    EV_WRITE, proc_engine_iwrite, env);
	if (env->sc_ibufev == NULL || env->sc_ibufwev == NULL ||
	    event_add(env->sc_ibufev, NULL) == -1)
		fatalx("%s: cannot listen to the parent", __func__);
	proc_engine_restrict("engine", 1);
}

void
proc_engine_close(struct iked *env)
{
	if (env->sc_ibuf == NULL)
		return;
	if (env->sc_ibufev != NULL)
		event_free(env->sc_ibufev);
	if (env->sc_ibufwev != NULL)
		event_free(env->sc_ibufwev);
	env->sc_ibufev = env->sc_ibufwev = NULL;
	cfgmsg_abort(&proc_cfgstate);
	close(env->sc_ibuf->fd);
	imsg_clear(env->sc_ibuf);
	free(env->sc_ibuf);
	env->sc_ibuf = NULL;
}

/*
 * The engine asks the parent to read file (NULL: the running one's)
 * again; the answer to control client id (0: none) comes back as
 * IMSG_RELOADED.  0, or -1 if it cannot be asked.
 */
int
proc_reload(struct iked *env, uint32_t id, const char *file)
{
	const char	*f = file != NULL ? file : "";

	if (env->sc_ibuf == NULL || imsg_compose(env->sc_ibuf, IMSG_RELOAD,
	    id, -1, f, strlen(f) + 1) == -1 || proc_engine_flush(env) == -1) {
		log_warn("engine: cannot ask the parent for a reload");
		return (-1);
	}
	return (0);
}


/* %%% The authentication process */

static struct ca_store	*proc_castore;	/* in use */
static struct ca_store	*proc_canext;	/* being loaded */
static struct imsgbuf	 proc_caib;	/* to the parent */
static int		 proc_ca_busy;	/* answering the engine */
static int		 proc_ca_endwait;	/* an END came meanwhile */
static int		 proc_ca_connfd = -2;	/* IMSG_CA_CONNECTED's */
static char		*proc_ocsp_url;	/* the next set's OCSP */
static long		 proc_ocsp_tolerate, proc_ocsp_maxage = -1;

static void	proc_ca_parent(void);

/*
 * ca.c's way to an OCSP responder: the parent connects (we have no
 * network) and passes the socket.  Messages about the next set of files
 * may come meanwhile; they wait (proc_ca_endwait).  The socket, or -1.
 */
static int
proc_ca_connect(const char *host, const char *port, void *arg)
{
	struct pollfd	 pfd;
	char		 buf[NI_MAXHOST + 16];
	size_t		 hl = strlen(host) + 1, pl = strlen(port) + 1;
	int		 waited = 0, fd;

	(void)arg;
	if (hl + pl > sizeof(buf))
		return (-1);
	memcpy(buf, host, hl);
	memcpy(buf + hl, port, pl);
	if (imsg_compose(&proc_caib, IMSG_CA_CONNECT, 0, -1, buf,
	    hl + pl) == -1)
		return (-1);
	while (imsg_flush(&proc_caib) == 1) {
		pfd.fd = proc_caib.fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 1000) <= 0)
			return (-1);
	}
	proc_ca_connfd = -2;
	while (proc_ca_connfd == -2 && waited < 4000) {
		pfd.fd = proc_caib.fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 100) == 1)
			proc_ca_parent();
		else
			waited += 100;
	}
	fd = proc_ca_connfd >= 0 ? proc_ca_connfd : -1;
	proc_ca_connfd = -2;
	return (fd);
}

/* The set of files loaded: in use from now on, if it is usable. */
static void
proc_ca_install(void)
{
	if (proc_canext == NULL && (proc_canext = ca_new()) == NULL)
		fatal("ca");
	ca_set_ocsp(proc_canext, proc_ocsp_url, proc_ocsp_tolerate,
	    proc_ocsp_maxage, proc_ca_connect, NULL);
	if (ca_ready(proc_canext) == -1) {
		log_warnx("ca: the keys and certificates read are not "
		    "usable; keeping the old");
		ca_free(proc_canext);
	} else {
		ca_free(proc_castore);
		proc_castore = proc_canext;
		log_debug("ca: keys and certificates loaded%s",
		    proc_ocsp_url != NULL ? ", OCSP on" : "");
	}
	proc_canext = NULL;
}

static void
proc_ca_parent(void)
{
	struct imsg	 im;
	const char	*name;
	uint8_t		*buf, kind;
	size_t		 len, blen;
	ssize_t		 n;
	long		 v[2];
	int		 r;

	if ((n = imsg_read(&proc_caib)) == -1 && errno != EAGAIN &&
	    errno != EINTR)
		fatal("ca: from the parent");
	if (n == 0)
		exit(0);	/* the parent is gone: it said why */
	while ((r = imsg_get(&proc_caib, &im)) == 1) {
		len = imsg_datalen(&im);
		switch (im.hdr.type) {
		case IMSG_CA_BEGIN:
			ca_free(proc_canext);
			proc_canext = NULL;
			proc_ca_endwait = 0;
			free(proc_ocsp_url);
			proc_ocsp_url = NULL;
			break;
		case IMSG_CA_OCSPCONF:
			/* long tolerate, long maxage, the URL NUL-ended. */
			name = (const char *)im.data + sizeof(v);
			if (len <= sizeof(v) + 1 || len > sizeof(v) + 512 ||
			    name[len - sizeof(v) - 1] != '\0') {
				log_warnx("ca: a broken OCSP message");
				break;
			}
			memcpy(v, im.data, sizeof(v));
			free(proc_ocsp_url);
			proc_ocsp_url = strdup(name);
			proc_ocsp_tolerate = v[0];
			proc_ocsp_maxage = v[1];
			break;
		case IMSG_CA_FILE:
			/* u8 kind, the name NUL-terminated; the file. */
			name = (const char *)im.data + 1;
			if (im.fd == -1 || len < 3 || len > NAME_MAX + 32 ||
			    name[len - 2] != '\0') {
				log_warnx("ca: a broken file message");
				break;
			}
			kind = *(const uint8_t *)im.data;
			if (proc_canext == NULL &&
			    (proc_canext = ca_new()) == NULL)
				fatal("ca");
			if ((buf = auth_readfd(im.fd, name, &blen)) != NULL) {
				(void)ca_add(proc_canext,
				    (enum ca_filekind)kind, name, buf, blen);
				freezero(buf, blen + 1);
			}
			break;
		case IMSG_CA_END:
			/* Not under a request that uses the old store. */
			if (proc_ca_busy)
				proc_ca_endwait = 1;
			else
				proc_ca_install();
			break;
		case IMSG_CA_CONNECTED:
			/* The socket to the OCSP responder, or none. */
			proc_ca_connfd = im.fd;
			im.fd = -1;
			break;
		default:
			log_warnx("ca: unknown message %u from the parent",
			    im.hdr.type);
			break;
		}
		if (im.fd != -1)
			close(im.fd);
		imsg_free(&im);
	}
	if (r == -1)
		fatalx("ca: a broken message from the parent");
}

/*
 * The ca process: the parent's channel (files) and the engine's
 * (requests), until either closes.
 */
static __dead void
proc_ca(struct iked *env, const struct passwd *pw, int pfd, int efd)
{
	struct pollfd	 pfds[2];
	uint8_t		*req, *rep;
	size_t		 replen;
	ssize_t		 n;

	iked_pidfile_forget();
	proc_title("ca");
	/*
	 * Signals are the parent's to act on (a "kill" of every iked
	 * process, HUP to reload): this one ends when its channels close.
	 */
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	/* It holds no rule: the PSKs stay in the parent and engine. */
	config_unref(env->sc_config);
	env->sc_config = NULL;
	proc_engine_preload();
	proc_engine_privdrop(pw);
	iked_nocore();
	if ((req = malloc(AUTH_MSG_MAX)) == NULL ||
	    (rep = malloc(AUTH_MSG_MAX)) == NULL)
		fatal("ca");
	imsg_init(&proc_caib, pfd);
	proc_engine_restrict("ca", 0);
	log_debug("ca: started");
	for (;;) {
		pfds[0].fd = pfd;
		pfds[0].events = POLLIN;
		pfds[1].fd = efd;
		pfds[1].events = POLLIN;
		if (poll(pfds, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("ca: poll");
		}
		if (pfds[0].revents & (POLLIN | POLLHUP | POLLERR))
			proc_ca_parent();
		if ((pfds[1].revents & (POLLIN | POLLHUP | POLLERR)) == 0)
			continue;
		if ((n = recv(efd, req, AUTH_MSG_MAX, 0)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			fatal("ca: from the engine");
		}
		if (n == 0) {
			log_debug("ca: the engine is gone; exiting");
			exit(0);
		}
		proc_ca_busy = 1;
		replen = auth_dispatch(proc_castore, req, (size_t)n, rep,
		    AUTH_MSG_MAX);
		proc_ca_busy = 0;
		if (proc_ca_endwait) {
			proc_ca_endwait = 0;
			proc_ca_install();
		}
		explicit_bzero(req, (size_t)n);
		if (replen == 0) {
			log_warnx("ca: a broken request from the engine: "
			    "dropped");
			continue;
		}
		if (send(efd, rep, replen, 0) == -1)
			log_warn("ca: to the engine");
		explicit_bzero(rep, replen);
	}
}

/* The parent: each file of the iked directory, to the ca process. */
static void
proc_parent_cafile(enum ca_filekind kind, const char *name, int fd,
    void *arg)
{
	uint8_t		 buf[NAME_MAX + 32];
	size_t		 len = strlen(name) + 1;

	(void)arg;
	if (len + 1 > sizeof(buf)) {
		close(fd);
		return;
	}
	buf[0] = (uint8_t)kind;
	memcpy(buf + 1, name, len);
	if (imsg_compose(&pp.pp_cabuf, IMSG_CA_FILE, 0, fd, buf,
	    len + 1) == -1) {
		log_warnx("parent: %s not passed to the ca process", name);
		close(fd);
		return;
	}
	proc_parent_caflush();
}

/* Blocking: a few files, which the other side reads at once. */
static void
proc_parent_caflush(void)
{
	struct pollfd	 pfd;
	int		 r;

	while ((r = imsg_flush(&pp.pp_cabuf)) == 1) {
		pfd.fd = pp.pp_cabuf.fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 1000) <= 0) {
			/* What is left goes, with its descriptors. */
			log_warnx("parent: the ca process does not read");
			imsg_clear(&pp.pp_cabuf);
			return;
		}
	}
	if (r == -1)
		log_warn("parent: to the ca process");
}

static void
proc_parent_cafiles(const struct iked_config *cf)
{
	uint8_t		*buf;
	size_t		 len;
	long		 v[2];

	if (pp.pp_ca == 0)
		return;
	/* A set cut short before (a timeout) is forgotten. */
	if (imsg_compose(&pp.pp_cabuf, IMSG_CA_BEGIN, 0, -1, NULL, 0) == -1)
		log_warn("parent: to the ca process");
	if (cf != NULL && cf->cfg_ocsp_url != NULL) {
		len = sizeof(v) + strlen(cf->cfg_ocsp_url) + 1;
		v[0] = cf->cfg_ocsp_tolerate;
		v[1] = cf->cfg_ocsp_maxage;
		if (len <= sizeof(v) + 512 && (buf = malloc(len)) != NULL) {
			memcpy(buf, v, sizeof(v));
			memcpy(buf + sizeof(v), cf->cfg_ocsp_url,
			    len - sizeof(v));
			if (imsg_compose(&pp.pp_cabuf, IMSG_CA_OCSPCONF, 0,
			    -1, buf, len) == -1)
				log_warn("parent: to the ca process");
			free(buf);
		}
	}
	(void)auth_walk(pp.pp_env->sc_authdir, proc_parent_cafile, NULL);
	if (imsg_compose(&pp.pp_cabuf, IMSG_CA_END, 0, -1, NULL, 0) == -1)
		log_warn("parent: to the ca process");
	proc_parent_caflush();
}

/*
 * The ca process asks for a connection to an OCSP responder (it has no
 * network): the socket, or none, as IMSG_CA_CONNECTED.
 */
static void
proc_parent_ca(evutil_socket_t fd, short event, void *arg)
{
	struct imsg	 im;
	const char	*host, *port;
	size_t		 len, hl;
	ssize_t		 n;
	int		 s, r;

	(void)fd;
	(void)event;
	(void)arg;
	if ((n = imsg_read(&pp.pp_cabuf)) == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		n = 0;
	}
	if (n == 0) {
		/* Gone: its SIGCHLD says the rest. */
		event_del(pp.pp_caev);
		return;
	}
	while ((r = imsg_get(&pp.pp_cabuf, &im)) == 1) {
		len = imsg_datalen(&im);
		host = im.data;
		s = -1;
		if (im.hdr.type != IMSG_CA_CONNECT || len < 4 || len > 300 ||
		    host[len - 1] != '\0' || (hl = strlen(host)) + 2 > len ||
		    strlen(port = host + hl + 1) + hl + 2 != len ||
		    strspn(port, "0123456789") != strlen(port) || *port == '\0')
			log_warnx("parent: a broken message from the ca "
			    "process (%u)", im.hdr.type);
		else {
			log_debug("parent: OCSP responder %s port %s", host,
			    port);
			s = auth_tcp_connect(host, port);
		}
		if (imsg_compose(&pp.pp_cabuf, IMSG_CA_CONNECTED, 0, s, NULL,
		    0) == -1 && s != -1)
			close(s);
		if (im.fd != -1)
			close(im.fd);
		imsg_free(&im);
	}
	proc_parent_caflush();
}

/* The parent's side. */

static void
proc_parent_flush(void)
{
	switch (imsg_flush(&pp.pp_ibuf)) {
	case 0:
		break;
	case 1:
		(void)event_add(pp.pp_ibwev, NULL);
		break;
	default:
		log_warn("parent: to the engine");
		break;
	}
}

static void
proc_parent_iwrite(evutil_socket_t fd, short event, void *arg)
{
	(void)fd;
	(void)event;
	(void)arg;
	if (imsg_flush(&pp.pp_ibuf) != 1)
		event_del(pp.pp_ibwev);
}

/* The answer to the engine's control client id (0: none): ok, file. */
static void
proc_parent_answer(uint32_t id, int ok, const char *file)
{
	uint8_t		*buf;
	size_t		 len = strlen(file) + 1;

	if ((buf = malloc(sizeof(ok) + len)) == NULL) {
		log_warn("parent: to the engine");
		return;
	}
	memcpy(buf, &ok, sizeof(ok));
	memcpy(buf + sizeof(ok), file, len);
	if (imsg_compose(&pp.pp_ibuf, IMSG_RELOADED, id, -1, buf,
	    sizeof(ok) + len) == -1)
		log_warn("parent: to the engine");
	free(buf);
	proc_parent_flush();
}

/*
 * Read file (NULL: the running one's) for client id, and send the
 * engine what it parsed, then the answer.
 */
static void
proc_parent_load(uint32_t id, const char *file)
{
	struct iked_config	*cf;
	int			 ok = -1;

	if (iked_loadfile(pp.pp_env, file, &cf) == 0) {
		if (cfgmsg_send(&pp.pp_ibuf, cf) == -1)
			log_warn("parent: cannot send the configuration");
		else
			ok = 0;
		/* New certificates and CRLs come with a reload. */
		proc_parent_cafiles(cf);
		config_free(cf);
	}
	proc_parent_answer(id, ok, file != NULL ? file :
	    pp.pp_env->sc_conffile);
}

/* IMSG_RELOAD: a file the engine names (absolute), or "" for ours. */
static void
proc_parent_reload(const struct imsg *im)
{
	const char	*file = im->data;
	size_t		 len = imsg_datalen(im);

	if (len == 0 || len > PATH_MAX || file[len - 1] != '\0' ||
	    strlen(file) != len - 1 || (file[0] != '\0' && file[0] != '/')) {
		log_warnx("parent: a broken reload request from the engine");
		proc_parent_answer(im->hdr.peerid, -1,
		    pp.pp_env->sc_conffile);
		return;
	}
	proc_parent_load(im->hdr.peerid, file[0] != '\0' ? file : NULL);
}

static void
proc_parent_imsg(evutil_socket_t fd, short event, void *arg)
{
	struct imsg	 im;
	ssize_t		 n;
	int		 r;

	(void)fd;
	(void)event;
	(void)arg;
	if ((n = imsg_read(&pp.pp_ibuf)) == -1 && (errno == EAGAIN ||
	    errno == EINTR))
		return;
	if (n <= 0) {
		/* Its exit status tells the rest (proc_parent_sigchld). */
		event_del(pp.pp_ibev);
		return;
	}
	while ((r = imsg_get(&pp.pp_ibuf, &im)) == 1) {
		switch (im.hdr.type) {
		case IMSG_RELOAD:
			proc_parent_reload(&im);
			break;
		default:
			log_warnx("parent: unknown message %u from the engine",
			    im.hdr.type);
			break;
		}
		if (im.fd != -1)
			close(im.fd);
		imsg_free(&im);
	}
	if (r == -1) {
		log_warnx("parent: a broken message from the engine; "
		    "stopping it");
		event_del(pp.pp_ibev);
		(void)kill(pp.pp_engine, SIGTERM);
	}
}

/* Queue len bytes for the engine's PF_KEY channel. */
static void
proc_parent_toengine(const void *buf, size_t len)
{
	struct proc_msg	*pm;
	ssize_t		 n;

	if (pp.pp_efd == -1)
		return;
	if (TAILQ_EMPTY(&pp.pp_q)) {
		n = send(pp.pp_efd, buf, len, MSG_DONTWAIT);
		if (n == (ssize_t)len)
			return;
		if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != ENOBUFS)
			return;		/* gone: SIGCHLD tells */
	}
	if (pp.pp_qbytes + len > PROC_QUEUE_MAX ||
	    (pm = malloc(sizeof(*pm) + len)) == NULL) {
		if (pp.pp_qdrops++ % 1000 == 0)
			log_warnx("parent: the engine does not read; PF_KEY "
			    "messages dropped (%llu)",
			    (unsigned long long)pp.pp_qdrops);
		return;
	}
	pm->pm_len = len;
	memcpy(pm->pm_buf, buf, len);
	TAILQ_INSERT_TAIL(&pp.pp_q, pm, pm_entry);
	pp.pp_qbytes += len;
	(void)event_add(pp.pp_ewev, NULL);
}

static void
proc_parent_ewrite(evutil_socket_t fd, short event, void *arg)
{
	struct proc_msg	*pm;
	ssize_t		 n;

	(void)event;
	(void)arg;
	while ((pm = TAILQ_FIRST(&pp.pp_q)) != NULL) {
		n = send(fd, pm->pm_buf, pm->pm_len, MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == ENOBUFS)) {
			(void)event_add(pp.pp_ewev, NULL);
			return;
		}
		TAILQ_REMOVE(&pp.pp_q, pm, pm_entry);
		pp.pp_qbytes -= pm->pm_len;
		explicit_bzero(pm->pm_buf, pm->pm_len);
		free(pm);
	}
}

/* The engine's PF_KEY channel is done: close it, dropping the queue. */
static void
proc_parent_eclose(void)
{
	struct proc_msg	*pm;

	if (pp.pp_efd == -1)
		return;
	event_del(pp.pp_eev);
	event_del(pp.pp_ewev);
	while ((pm = TAILQ_FIRST(&pp.pp_q)) != NULL) {
		TAILQ_REMOVE(&pp.pp_q, pm, pm_entry);
		explicit_bzero(pm->pm_buf, pm->pm_len);
		free(pm);
	}
	pp.pp_qbytes = 0;
	close(pp.pp_efd);
	pp.pp_efd = -1;
}

/* The kernel's messages, to the engine as they are. */
static void
proc_parent_kernel(evutil_socket_t fd, short event, void *arg)
{
	struct sadb_msg	*msg;
	size_t		 len;
	int		 n;

	(void)event;
	(void)arg;
	for (n = 0; n < 64; n++) {
		if ((msg = pfkey_recv(fd)) == NULL) {
			/* Else a bad message, dropped, as kernel.c drops it. */
			if (errno != ECONNRESET)
				return;
			/*
			 * The kernel closed: at exit, once it answered our
			 * last requests; else netipsecd went away, and the
			 * engine learns it as iked -X would.
			 */
			if (!pp.pp_exiting && !pp.pp_edone)
				log_warnx("pfkey: the kernel (netipsecd) went "
				    "away");
			event_del(pp.pp_kev);
			proc_parent_eclose();
			return;
		}
		len = PFKEY_UNUNIT64((size_t)msg->sadb_msg_len);
		pfkey_filter_learn(msg, len, (uint32_t)pp.pp_engine,
		    pp.pp_ids);
		proc_parent_toengine(msg, len);
		explicit_bzero(msg, len);
		free(msg);
	}
}

/* A refusal the engine reads as the kernel's: its header, errno set. */
static void
proc_parent_refuse(const uint8_t *buf, size_t len, int error)
{
	struct sadb_msg	 m;

	memset(&m, 0, sizeof(m));
	if (len >= sizeof(m))
		memcpy(&m, buf, sizeof(m));
	log_warnx("parent: the engine's PF_KEY %s refused: %s",
	    kernel_name(m.sadb_msg_type), strerror(error));
	m.sadb_msg_errno = (uint8_t)error;
	m.sadb_msg_len = PFKEY_UNIT64(sizeof(m));
	proc_parent_toengine(&m, sizeof(m));
}

/* To the kernel, waiting for room as a BSD kernel's send(2) would. */
static int
proc_parent_tokernel(const uint8_t *buf, size_t len)
{
	struct pollfd	 pfd;

	while (send(pp.pp_kfd, buf, len, 0) == -1) {
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return (-1);
		pfd.fd = pp.pp_kfd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, PROC_SEND_WAIT) != 1) {
			errno = ENOBUFS;
			return (-1);
		}
	}
	return (0);
}

/* The engine's PF_KEY requests: checked, then to the kernel. */
static void
proc_parent_engine(evutil_socket_t fd, short event, void *arg)
{
	ssize_t		 n;
	int		 i, error;

	(void)event;
	(void)arg;
	for (i = 0; i < 64; i++) {
		n = recv(fd, pp.pp_buf, PROC_PFKEY_MAX, MSG_TRUNC |
		    MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return;
			n = 0;
		}
		if (n == 0) {
			/*
			 * The engine is done writing (its last DELETEs are
			 * in): so are we; the kernel closes once it has
			 * answered, and then the channel closes.
			 */
			event_del(pp.pp_eev);
			pp.pp_edone = 1;
			(void)shutdown(pp.pp_kfd, SHUT_WR);
			return;
		}
		if (n > PROC_PFKEY_MAX)
			error = EMSGSIZE;
		else
			error = pfkey_filter(pp.pp_buf, (size_t)n,
			    (uint32_t)pp.pp_engine, pp.pp_ids);
		if (error == 0 && proc_parent_tokernel(pp.pp_buf,
		    (size_t)n) == -1)
			error = errno;
		if (error != 0)
			proc_parent_refuse(pp.pp_buf, n > PROC_PFKEY_MAX ?
			    PROC_PFKEY_MAX : (size_t)n, error);
		explicit_bzero(pp.pp_buf, n > PROC_PFKEY_MAX ?
		    PROC_PFKEY_MAX : (size_t)n);
	}
}

static void
proc_parent_sigterm(evutil_socket_t sig, short event, void *arg)
{
	(void)event;
	(void)arg;
	if (!pp.pp_exiting)
		log_info("exiting on signal %d", (int)sig);
	pp.pp_exiting = 1;
	if (pp.pp_engine != 0)
		(void)kill(pp.pp_engine, SIGTERM);
	/* The ca process ends when the engine's channel closes. */
}

static void
proc_parent_sighup(evutil_socket_t sig, short event, void *arg)
{
	(void)sig;
	(void)event;
	(void)arg;
	proc_parent_load(0, NULL);
}

static void
proc_parent_sigusr1(evutil_socket_t sig, short event, void *arg)
{
	(void)event;
	(void)arg;
	if (pp.pp_engine != 0)
		(void)kill(pp.pp_engine, (int)sig);
}

static void
proc_parent_sigchld(evutil_socket_t sig, short event, void *arg)
{
	pid_t	 pid;
	int	 status;

	(void)sig;
	(void)event;
	(void)arg;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == pp.pp_ca) {
			pp.pp_ca = 0;
			/*
			 * It ends, with 0, when the engine's channel closes:
			 * the engine's own end says why.
			 */
			if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
				continue;
			if (WIFSIGNALED(status))
				log_warnx("the authentication process was "
				    "killed by signal %d; iked exiting, the "
				    "kernel's SAs stay", WTERMSIG(status));
			else
				log_warnx("the authentication process exited "
				    "with status %d; iked exiting",
				    WEXITSTATUS(status));
			/* The engine follows when our channels close. */
			pp.pp_status = 1;
			event_base_loopexit(pp.pp_base, NULL);
			continue;
		}
		if (pid != pp.pp_engine)
			continue;
		pp.pp_engine = 0;
		if (WIFSIGNALED(status)) {
			log_warnx("the IKE engine was killed by signal %d; "
			    "iked exiting, the kernel's SAs stay",
			    WTERMSIG(status));
			pp.pp_status = 1;
		} else if (WEXITSTATUS(status) != 0 || !pp.pp_exiting) {
			log_warnx("the IKE engine exited with status %d; "
			    "iked exiting", WEXITSTATUS(status));
			pp.pp_status = WEXITSTATUS(status) != 0 ? 1 : 0;
		}
		event_base_loopexit(pp.pp_base, NULL);
	}
}

/*
 * The parent: opens what needs root, forks the engine, and serves it
 * until it ends.  Never returns.
 */
__dead void
proc_parent(struct iked *env, struct passwd *pw)
{
	struct event	*ev[5];
	int		 ich[2], ech[2], cach[2], rpc[2], i;
	pid_t		 pid;

	proc_check_home(pw);
	signal(SIGPIPE, SIG_IGN);
	memset(&pp, 0, sizeof(pp));
	pp.pp_env = env;

	/*
	 * The ca process first, before anything it must not hold (PF_KEY,
	 * the IKE and control sockets) is open.
	 */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, cach) == -1 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, rpc) == -1)
		fatal("socketpair");
	net_sockbuf(rpc[0], 2 * AUTH_MSG_MAX);
	net_sockbuf(rpc[1], 2 * AUTH_MSG_MAX);
	switch ((pid = fork())) {
	case -1:
		fatal("fork");
	case 0:
		close(cach[0]);
		close(rpc[0]);
		proc_ca(env, pw, cach[1], rpc[1]);
	default:
		break;
	}
	close(cach[1]);
	close(rpc[1]);
	pp.pp_ca = pid;
	imsg_init(&pp.pp_cabuf, cach[0]);
	proc_nonblock(cach[0]);
	log_debug("ca: pid %ld", (long)pid);
	proc_parent_cafiles(env->sc_config);

	TAILQ_INIT(&pp.pp_q);
	if ((pp.pp_ids = pfkey_ids_new()) == NULL ||
	    (pp.pp_buf = malloc(PROC_PFKEY_MAX)) == NULL)
		fatal("%s", __func__);
	if ((pp.pp_kfd = pfkey_open()) == -1)
		fatalx("cannot talk to the kernel's PF_KEY: %s (is "
		    "netipsecd running?)", ipsec_strerror());
	/* The engine's REGISTER comes through it. */
	proc_nonblock(pp.pp_kfd);
	if (net_open(env) == -1)
		fatalx("cannot open the IKE sockets");
	control_listen(env);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, ich) == -1 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, ech) == -1)
		fatal("socketpair");
	/* Room for a burst of PF_KEY messages. */
	net_sockbuf(ech[0], PROC_SOCKBUF);
	net_sockbuf(ech[1], PROC_SOCKBUF);
	for (i = 0; i < 2; i++) {
		proc_nonblock(ich[i]);
		proc_nonblock(ech[i]);
	}
	switch ((pid = fork())) {
	case -1:
		fatal("fork");
	case 0:
		close(ich[0]);
		close(ech[0]);
		close(pp.pp_kfd);
		close(pp.pp_cabuf.fd);
		imsg_clear(&pp.pp_cabuf);
		pfkey_ids_free(pp.pp_ids);
		free(pp.pp_buf);
		env->sc_cafd = rpc[0];
		proc_engine(env, pw, ich[1], ech[1]);
	default:
		break;
	}
	close(ich[1]);
	close(ech[1]);
	close(rpc[0]);
	pp.pp_engine = pid;
	pp.pp_efd = ech[0];
	imsg_init(&pp.pp_ibuf, ich[0]);
	/* The engine has them now: the listener, the PSKs. */
	control_forget();
	config_unref(env->sc_config);
	env->sc_config = NULL;
	log_debug("IKE engine: pid %ld, user %s, root %s", (long)pid,
	    pw->pw_name, pw->pw_dir);

	if ((pp.pp_base = event_base_new()) == NULL)
		fatalx("event_base_new");
	pp.pp_ibev = event_new(pp.pp_base, ich[0], EV_READ | EV_PERSIST,
	    proc_parent_imsg, NULL);
	pp.pp_ibwev = event_new(pp.pp_base, ich[0], EV_WRITE,
	    proc_parent_iwrite, NULL);
	pp.pp_kev = event_new(pp.pp_base, pp.pp_kfd, EV_READ | EV_PERSIST,
	    proc_parent_kernel, NULL);
	pp.pp_eev = event_new(pp.pp_base, pp.pp_efd, EV_READ | EV_PERSIST,
	    proc_parent_engine, NULL);
	pp.pp_ewev = event_new(pp.pp_base, pp.pp_efd, EV_WRITE,
	    proc_parent_ewrite, NULL);
	pp.pp_caev = event_new(pp.pp_base, pp.pp_cabuf.fd,
	    EV_READ | EV_PERSIST, proc_parent_ca, NULL);
	if (pp.pp_caev == NULL || event_add(pp.pp_caev, NULL) == -1)
		fatalx("%s: the ca process's channel", __func__);
	if (pp.pp_ibev == NULL || pp.pp_ibwev == NULL || pp.pp_kev == NULL ||
	    pp.pp_eev == NULL || pp.pp_ewev == NULL ||
	    event_add(pp.pp_ibev, NULL) == -1 ||
	    event_add(pp.pp_kev, NULL) == -1 ||
	    event_add(pp.pp_eev, NULL) == -1)
		fatalx("%s: event_add", __func__);
	ev[0] = evsignal_new(pp.pp_base, SIGTERM, proc_parent_sigterm, NULL);
	ev[1] = evsignal_new(pp.pp_base, SIGINT, proc_parent_sigterm, NULL);
	ev[2] = evsignal_new(pp.pp_base, SIGHUP, proc_parent_sighup, NULL);
	ev[3] = evsignal_new(pp.pp_base, SIGUSR1, proc_parent_sigusr1, NULL);
	ev[4] = evsignal_new(pp.pp_base, SIGCHLD, proc_parent_sigchld, NULL);
	for (i = 0; i < 5; i++)
		if (ev[i] == NULL || event_add(ev[i], NULL) == -1)
			fatalx("%s: signals", __func__);
	/* A child that ended before the handler was in place. */
	proc_parent_sigchld(SIGCHLD, 0, NULL);

	event_base_dispatch(pp.pp_base);

	/*
	 * After TERM the engine has ended as asked.  Else a process died:
	 * the engine sees our channels close and leaves the SAs as they
	 * are, as does the ca process.
	 */
	if (pp.pp_engine != 0 && pp.pp_exiting) {
		(void)kill(pp.pp_engine, SIGTERM);
		(void)waitpid(pp.pp_engine, NULL, 0);
	}
	for (i = 0; i < 5; i++)
		event_free(ev[i]);
	proc_parent_eclose();
	event_free(pp.pp_ibev);
	event_free(pp.pp_ibwev);
	event_free(pp.pp_kev);
	event_free(pp.pp_eev);
	event_free(pp.pp_ewev);
	close(pp.pp_ibuf.fd);
	imsg_clear(&pp.pp_ibuf);
	event_free(pp.pp_caev);
	close(pp.pp_cabuf.fd);
	imsg_clear(&pp.pp_cabuf);
	if (pp.pp_ca != 0 && pp.pp_exiting)
		(void)waitpid(pp.pp_ca, NULL, 0);
	pfkey_close(pp.pp_kfd);
	pfkey_ids_free(pp.pp_ids);
	free(pp.pp_buf);
	net_close(env);
	control_close();
	event_base_free(pp.pp_base);
	log_info("iked exiting");
	exit(pp.pp_status);
}
