/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The control socket of ikectl(8): an AF_UNIX stream socket, mode 0600
 * (/var/run/iked.sock, or -s path).  A client of uid 0 or of iked's own
 * uid writes one command line (control_cmd.c) and reads the answer as
 * text, then end of file; anyone else reads "ikectl: permission
 * denied".  Every answer that is an error is one line beginning with
 * "ikectl: ".  The clients live in the event loop: a client that is
 * slow to write or to read is dropped after CONTROL_TIMEOUT seconds,
 * and at most CONTROL_CLIENTS are served at once.
 */

#ifdef __linux__
#define _GNU_SOURCE		/* SO_PEERCRED, struct ucred */
#endif

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <libpfkey.h>

#include "iked.h"

#define CONTROL_TIMEOUT		5	/* seconds to send a line, or to read */
#define CONTROL_CLIENTS		8	/* served at once */

struct control_conn {
	TAILQ_ENTRY(control_conn) cc_entry;
	struct bufferevent	*cc_bev;
	uid_t			 cc_uid;
	long			 cc_pid;	/* -1: not known */
	int			 cc_answered;	/* close once it is sent */
	/* A reload or load, answered when the parent has done it: */
	uint32_t		 cc_id;
	enum control_cmd	 cc_cmd;
	char			*cc_arg;	/* the file of "load" */
};

static struct control {
	struct iked		*cs_env;
	int			 cs_fd;
	struct event		*cs_ev;
	struct event		*cs_pausev;	/* out of descriptors */
	char			*cs_path;	/* to unlink at exit */
	TAILQ_HEAD(, control_conn) cs_conns;
	u_int			 cs_nconns;
	uid_t			 cs_uid;	/* allowed besides root */
	uint32_t		 cs_lastid;	/* of a deferred answer */
} control = { .cs_fd = -1 };

/* Which IKE SAs control_delete() deletes. */
enum control_which {
	CONTROL_ALL,		/* every one, with its children */
	CONTROL_IKE,		/* every one, as when it ends */
	CONTROL_ID,		/* those of a peer identity */
	CONTROL_RULE		/* those of a rule */
};

static void	control_unlink_stale(const struct sockaddr_un *);
static int	control_peer(int, uid_t *, long *);
static void	control_refuse(int, const char *);
static void	control_accept(evutil_socket_t, short, void *);
static void	control_unpause(evutil_socket_t, short, void *);
static void	control_read(struct bufferevent *, void *);
static void	control_write(struct bufferevent *, void *);
static void	control_event(struct bufferevent *, short, void *);
static int	control_input(struct control_conn *, int);
static int	control_defer(struct control_conn *, enum control_cmd,
		    const char *, FILE *);
static void	control_answer(struct control_conn *, enum control_cmd,
		    const char *, const char *, FILE *);
static u_int	control_delete(struct iked *, enum control_which,
		    const char *);
static void	control_initiate(struct iked *, const char *, FILE *);
static void	control_conn_close(struct control_conn *);

/*
 * The listening socket, bound once the PF_KEY and IKE sockets are open
 * (by the parent, as root, with privilege separation).  A socket file
 * that nobody answers on is left from an iked that did not exit
 * cleanly and is replaced; one that answers belongs to a running iked
 * (in another network namespace, maybe), and this one does not start.
 */
void
control_listen(struct iked *env)
{
	struct sockaddr_un	 sun;
	const char		*path = env->sc_ctlpath;
	mode_t			 omask;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (*path == '\0' || strlcpy(sun.sun_path, path,
	    sizeof(sun.sun_path)) >= sizeof(sun.sun_path))
		fatalx("%s: bad control socket path (at most %zu bytes)",
		    path, sizeof(sun.sun_path) - 1);
	control_unlink_stale(&sun);

	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		fatal("control_init: socket");
	if (evutil_make_socket_nonblocking(fd) == -1 ||
	    evutil_make_socket_closeonexec(fd) == -1)
		fatal("control_init: %s", path);
	/* Mode 0600 from the start: no window before a chmod(2). */
	omask = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("%s: bind", path);
	umask(omask);
	if (listen(fd, CONTROL_CLIENTS) == -1)
		fatal("%s: listen", path);

	if ((control.cs_path = strdup(path)) == NULL)
		fatal("control_init");
	control.cs_fd = fd;
	/* Root, and the user who started us: not the engine's user. */
	control.cs_uid = geteuid();
}

/* Serve the socket of control_listen() in the event loop. */
void
control_init(struct iked *env)
{
	control.cs_env = env;
	TAILQ_INIT(&control.cs_conns);
	control.cs_ev = event_new(env->sc_evbase, control.cs_fd,
	    EV_READ | EV_PERSIST, control_accept, NULL);
	control.cs_pausev = evtimer_new(env->sc_evbase, control_unpause,
	    NULL);
	if (control.cs_ev == NULL || control.cs_pausev == NULL ||
	    event_add(control.cs_ev, NULL) == -1)
		fatalx("control_init: cannot set up the control socket");
	log_debug("control socket on %s", control.cs_path);
}

/*
 * The parent's part once the engine serves the socket: our copy of it
 * goes; its name stays, to unlink at exit (the engine cannot: chroot).
 */
void
control_forget(void)
{
	if (control.cs_fd != -1)
		close(control.cs_fd);
	control.cs_fd = -1;
}

static void
control_unlink_stale(const struct sockaddr_un *sun)
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
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		fatal("control_unlink_stale: socket");
	error = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) ==
	    -1 ? errno : 0;
	close(fd);
	if (error == 0)
		fatalx("%s: another iked answers on it", path);
	if (error != ECONNREFUSED)
		fatalx("%s: %s", path, strerror(error));
	if (unlink(path) == -1)
		fatal("%s: unlink", path);
	log_info("%s: removed a stale control socket", path);
}

/* At exit: every client, the listener and the socket file. */
void
control_close(void)
{
	struct control_conn	*cc;

	while ((cc = TAILQ_FIRST(&control.cs_conns)) != NULL)
		control_conn_close(cc);
	if (control.cs_ev != NULL)
		event_free(control.cs_ev);
	if (control.cs_pausev != NULL)
		event_free(control.cs_pausev);
	control.cs_ev = control.cs_pausev = NULL;
	if (control.cs_fd != -1)
		close(control.cs_fd);
	control.cs_fd = -1;
	/* The engine's root is not the file system's: the parent unlinks. */
	if (control.cs_path != NULL && (control.cs_env == NULL ||
	    !control.cs_env->sc_privsep)) {
		if (unlink(control.cs_path) == -1 && errno != ENOENT)
			log_warn("%s: unlink", control.cs_path);
	}
	free(control.cs_path);
	control.cs_path = NULL;
}

/* The client's uid (and pid, where the system says). */
static int
control_peer(int fd, uid_t *uid, long *pid)
{
#ifdef __linux__
	struct ucred	 uc;
	socklen_t	 len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1)
		return (-1);
	*uid = uc.uid;
	*pid = (long)uc.pid;
#else	/* BSD: getpeereid(3) */
	gid_t		 gid;

	if (getpeereid(fd, uid, &gid) == -1)
		return (-1);
	*pid = -1;
#endif
	return (0);
}

/*
 * One line to a client that is not served, then close.  A fresh socket
 * takes these few bytes at once; if not, the client is told nothing.
 */
static void
control_refuse(int fd, const char *msg)
{
	(void)send(fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

static void
control_accept(evutil_socket_t lfd, short event, void *arg)
{
	struct control_conn	*cc;
	struct timeval		 tv = { CONTROL_TIMEOUT, 0 };
	struct timeval		 pause = { 1, 0 };
	uid_t			 uid;
	long			 pid;
	int			 fd;

	(void)event;
	(void)arg;
	if ((fd = accept(lfd, NULL, NULL)) == -1) {
		switch (errno) {
		case EAGAIN:
		case EINTR:
		case ECONNABORTED:
			return;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			/* The listener stays readable: do not spin on it. */
			log_warn("control_accept: pausing for 1 s");
			event_del(control.cs_ev);
			evtimer_add(control.cs_pausev, &pause);
			return;
		default:
			log_warn("control_accept");
			return;
		}
	}
	if (control_peer(fd, &uid, &pid) == -1) {
		log_warn("control_accept: peer credentials");
		close(fd);
		return;
	}
	if (uid != 0 && uid != control.cs_uid) {
		log_warnx("control: refused pid %ld uid %lu: permission denied",
		    pid, (unsigned long)uid);
		control_refuse(fd, "ikectl: permission denied\n");
		return;
	}
	if (control.cs_nconns >= CONTROL_CLIENTS) {
		log_warnx("control: refused pid %ld uid %lu: %d clients "
		    "already", pid, (unsigned long)uid, CONTROL_CLIENTS);
		control_refuse(fd, "ikectl: busy, try again\n");
		return;
	}
	if (evutil_make_socket_nonblocking(fd) == -1 ||
	    evutil_make_socket_closeonexec(fd) == -1 ||
	    (cc = calloc(1, sizeof(*cc))) == NULL) {
		log_warn("control_accept");
		close(fd);
		return;
	}
	if ((cc->cc_bev = bufferevent_socket_new(control.cs_env->sc_evbase,
	    fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		log_warnx("control_accept: out of memory");
		close(fd);
		free(cc);
		return;
	}
	cc->cc_uid = uid;
	cc->cc_pid = pid;
	/* The line's bytes are all we read: more is an error anyway. */
	bufferevent_setwatermark(cc->cc_bev, EV_READ, 0, CONTROL_LINE_MAX);
	bufferevent_set_timeouts(cc->cc_bev, &tv, &tv);
	bufferevent_setcb(cc->cc_bev, control_read, control_write,
	    control_event, cc);
	if (bufferevent_enable(cc->cc_bev, EV_READ) == -1) {
		log_warnx("control_accept: cannot read the client");
		bufferevent_free(cc->cc_bev);
		free(cc);
		return;
	}
	TAILQ_INSERT_TAIL(&control.cs_conns, cc, cc_entry);
	control.cs_nconns++;
}

static void
control_unpause(evutil_socket_t fd, short event, void *arg)
{
	(void)fd;
	(void)event;
	(void)arg;
	if (event_add(control.cs_ev, NULL) == -1)
		log_warnx("control_unpause: the control socket is off");
}

static void
control_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	(void)control_input(arg, 0);
}

/* The answer has gone out. */
static void
control_write(struct bufferevent *bev, void *arg)
{
	struct control_conn	*cc = arg;

	(void)bev;
	if (cc->cc_answered)
		control_conn_close(cc);
}

static void
control_event(struct bufferevent *bev, short what, void *arg)
{
	struct control_conn	*cc = arg;

	(void)bev;
	/* A client may close its side after the line, or end it so. */
	if ((what & BEV_EVENT_EOF) && (what & BEV_EVENT_READING) &&
	    !cc->cc_answered) {
		if (control_input(cc, 1))
			return;
	} else if (what & BEV_EVENT_TIMEOUT)
		log_warnx("control: pid %ld uid %lu: timed out %s",
		    cc->cc_pid, (unsigned long)cc->cc_uid,
		    cc->cc_answered ? "reading the answer" :
		    "sending a command");
	control_conn_close(cc);
}

/*
 * What the client sent: a whole line is answered, once.  0: wait for
 * more; else the connection is answered or closed (cc may be gone).
 */
static int
control_input(struct control_conn *cc, int eof)
{
	struct evbuffer		*in = bufferevent_get_input(cc->cc_bev);
	enum control_cmd	 cmd;
	char			 words[CONTROL_LINE_MAX];
	const char		*buf, *arg;
	char			*text = NULL;
	size_t			 len, n, linelen = 0, tlen = 0;
	FILE			*fp;

	if (cc->cc_answered)
		return (1);
	len = evbuffer_get_length(in);
	n = len < CONTROL_LINE_MAX ? len : CONTROL_LINE_MAX;
	buf = n > 0 ? (const char *)evbuffer_pullup(in, (ssize_t)n) : "";
	if (buf == NULL) {
		log_warnx("control_input: out of memory");
		control_conn_close(cc);
		return (1);
	}
	if ((fp = open_memstream(&text, &tlen)) == NULL) {
		log_warn("control_input");
		control_conn_close(cc);
		return (1);
	}
	switch (control_frame(buf, n, eof, &linelen)) {
	case CONTROL_FRAME_MORE:
		fclose(fp);
		free(text);
		return (0);
	case CONTROL_FRAME_TOOLONG:
		log_warnx("control: pid %ld uid %lu: command too long",
		    cc->cc_pid, (unsigned long)cc->cc_uid);
		fprintf(fp, "ikectl: command too long (at most %d bytes)\n",
		    CONTROL_LINE_MAX - 1);
		break;
	case CONTROL_FRAME_LINE:
		cmd = control_parse(buf, linelen, words, sizeof(words), &arg);
		control_answer(cc, cmd, words, arg, fp);
		break;
	}
	cc->cc_answered = 1;
	evbuffer_drain(in, evbuffer_get_length(in));
	bufferevent_disable(cc->cc_bev, EV_READ);
	if (fclose(fp) != 0 || (tlen > 0 &&
	    bufferevent_write(cc->cc_bev, text, tlen) == -1)) {
		log_warnx("control: pid %ld uid %lu: cannot answer",
		    cc->cc_pid, (unsigned long)cc->cc_uid);
		tlen = 0;
	}
	free(text);
	/* Nothing to send ("show sa", no SAs), unless it comes later. */
	if (tlen == 0 && cc->cc_id == 0)
		control_conn_close(cc);
	return (1);
}

static void
control_answer(struct control_conn *cc, enum control_cmd cmd,
    const char *words, const char *arg, FILE *fp)
{
	struct iked		*env = control.cs_env;
	struct iked_config	*cf;
	u_int			 n;

	/* What changes things is always in the log; the rest with -v. */
	if (cmd == CONTROL_UNKNOWN || cmd == CONTROL_SHOW_SA ||
	    cmd == CONTROL_SHOW_FLOW || cmd == CONTROL_SHOW_STATS)
		log_debug("control: pid %ld uid %lu: %s", cc->cc_pid,
		    (unsigned long)cc->cc_uid, words);
	else
		log_info("control: pid %ld uid %lu: %s", cc->cc_pid,
		    (unsigned long)cc->cc_uid, words);
	switch (cmd) {
	case CONTROL_SHOW_SA:
		show_sas(fp, env);
		break;
	case CONTROL_SHOW_FLOW:
		show_flows(fp, env);
		break;
	case CONTROL_SHOW_STATS:
		show_stats(fp, env);
		break;
	case CONTROL_RELOAD:
		if (env->sc_privsep)
			(void)control_defer(cc, cmd, NULL, fp);
		else if (iked_reload(env) == 0)
			fprintf(fp, "reloaded\n");
		else
			fprintf(fp, "ikectl: reload: %s: errors, running "
			    "configuration kept\n", env->sc_conffile);
		break;
	case CONTROL_LOAD:
		/* Our directory is not the client's (daemon(3)). */
		if (*arg != '/')
			fprintf(fp, "ikectl: load: %s: not an absolute "
			    "path\n", arg);
		else if (env->sc_privsep)
			(void)control_defer(cc, cmd, arg, fp);
		else if (iked_load(env, arg) == 0)
			fprintf(fp, "loaded %s\n", arg);
		else
			fprintf(fp, "ikectl: load: %s: errors, running "
			    "configuration kept\n", arg);
		break;
	case CONTROL_RESET_ALL:
		/* OpenBSD's: no SAs, no rules, until a reload or load. */
		if ((cf = config_new()) == NULL) {
			fprintf(fp, "ikectl: reset all: out of memory\n");
			break;
		}
		n = control_delete(env, CONTROL_ALL, NULL);
		kernel_remove_flows(env);
		config_setrunning(env, cf);
		fprintf(fp, "deleted %u IKE SAs and every rule\n", n);
		break;
	case CONTROL_RESET_SA:
		fprintf(fp, "deleted %u IKE SAs\n",
		    control_delete(env, CONTROL_ALL, NULL));
		break;
	case CONTROL_RESET_IKE:
		fprintf(fp, "deleted %u IKE SAs\n",
		    control_delete(env, CONTROL_IKE, NULL));
		break;
	case CONTROL_RESET_ID:
		fprintf(fp, "deleted %u IKE SAs\n",
		    control_delete(env, CONTROL_ID, arg));
		break;
	case CONTROL_TERMINATE:
		/* Its SAs may be from a configuration before this one. */
		if ((n = control_delete(env, CONTROL_RULE, arg)) == 0 &&
		    policy_byname(env->sc_config, arg) == NULL)
			fprintf(fp, "ikectl: terminate: no rule \"%s\"\n",
			    arg);
		else
			fprintf(fp, "deleted %u IKE SAs\n", n);
		break;
	case CONTROL_INITIATE:
		control_initiate(env, arg, fp);
		break;
	case CONTROL_COUPLE:
		fprintf(fp, "coupled\n");	/* always */
		break;
	case CONTROL_DECOUPLE:
		fprintf(fp, "ikectl: decouple: not supported: every SA "
		    "iked negotiates goes into the kernel\n");
		break;
	case CONTROL_LOG_VERBOSE:
		log_setverbose(env->sc_verbose > 0 ? env->sc_verbose : 1);
		fprintf(fp, "logging verbose\n");
		break;
	case CONTROL_LOG_BRIEF:
		log_setverbose(0);
		fprintf(fp, "logging brief\n");
		break;
	case CONTROL_UNKNOWN:
		if (*words == '\0')
			fprintf(fp, "ikectl: no command\n");
		else
			fprintf(fp, "ikectl: unknown command: %s\n", words);
		break;
	}
}

/* Does id name sa's peer (ikesa_peerid(); a name in any case)? */
static int
control_idmatch(const struct iked_sa *sa, const char *id)
{
	char	 buf[IKED_ID_MAX];

	ikesa_peerid(sa, buf, sizeof(buf));
	return (strcasecmp(buf, id) == 0);
}

/*
 * ikectl's reset and terminate: the IKE SAs (each with its children,
 * ikesa_delete()) of every peer, of the peer whose identity is arg, or
 * of the rule named arg; CONTROL_IKE: the IKE SAs alone, as when one
 * ends (ikesa_dead(): IKEv1 phase 2 SAs stay to their lifetime, IKEv2
 * children go with theirs).  How many went.
 */
static u_int
control_delete(struct iked *env, enum control_which which, const char *arg)
{
	struct iked_sa	*sa;
	u_int		 n = 0;

	/* Each search starts afresh: ikesa_free() may free two SAs. */
	for (;;) {
		TAILQ_FOREACH(sa, &env->sc_sas, sa_entry) {
			if (which == CONTROL_ALL ||
			    (which == CONTROL_IKE &&
			    sa->sa_state != SA_S_DEAD) ||
			    (which == CONTROL_ID && control_idmatch(sa, arg)) ||
			    (which == CONTROL_RULE && sa->sa_pol != NULL &&
			    strcmp(sa->sa_pol->pol_name, arg) == 0))
				break;
		}
		if (sa == NULL)
			break;
		n++;
		if (which == CONTROL_IKE) {
			if (sa->sa_state == SA_S_ESTABLISHED)
				ikesa_send_delete(sa, NULL);
			ikesa_dead(sa, "deleted by ikectl");
		} else {
			log_info("%s: %s deleted by ikectl", sa->sa_name,
			    sa->sa_proto->ip_saname);
			ikesa_delete(sa);
		}
	}
	return (n);
}

/*
 * ikectl's initiate: the outbound policies the rule's flows cover are
 * negotiated now, as if the kernel had acquired them (ikesa_acquire()
 * chooses the rule as for an acquire).  A policy with a pair up or
 * being negotiated is left alone.
 */
static void
control_initiate(struct iked *env, const char *name, FILE *fp)
{
	struct iked_policy	*pol;
	struct iked_spd		*spd;
	struct sockaddr_storage	 src, dst;
	const struct sockaddr	*peer;
	u_int			 n = 0, up = 0;

	if ((pol = policy_byname(env->sc_config, name)) == NULL) {
		fprintf(fp, "ikectl: initiate: no rule \"%s\"\n", name);
		return;
	}
	if ((pol->pol_flags & POL_PASSIVE) ||
	    (env->sc_config->cfg_flags & CFG_PASSIVE)) {
		fprintf(fp, "ikectl: initiate: rule \"%s\" is passive\n",
		    name);
		return;
	}
	/* ikesa_acquire() may free a child, never a policy of sc_spds. */
	TAILQ_FOREACH(spd, &env->sc_spds, spd_entry) {
		if (spd->spd_dir != IPSEC_DIR_OUTBOUND ||
		    spd->spd_type != IPSEC_POLICY_IPSEC ||
		    !policy_flow_match(pol, spd))
			continue;
		peer = spd->spd_mode == IPSEC_MODE_TUNNEL ?
		    (const struct sockaddr *)&spd->spd_tdst :
		    (const struct sockaddr *)&spd->spd_dst;
		if (peer->sa_family == AF_UNSPEC ||
		    !addr_match(&pol->pol_peer, peer))
			continue;
		if (child_byspid(env, spd->spd_id) != NULL) {
			up++;
			continue;
		}
		memcpy(&src, &spd->spd_src, sizeof(src));
		memcpy(&dst, &spd->spd_dst, sizeof(dst));
		ikesa_acquire(env, 0, spd, (struct sockaddr *)&src,
		    (struct sockaddr *)&dst);
		n++;
	}
	if (n == 0 && up == 0)
		fprintf(fp, "ikectl: initiate: rule \"%s\": no outbound "
		    "policy of its flows in the SPD\n", name);
	else
		fprintf(fp, "initiating %u policies, %u up already\n", n,
		    up);
}

static void
control_conn_close(struct control_conn *cc)
{
	TAILQ_REMOVE(&control.cs_conns, cc, cc_entry);
	control.cs_nconns--;
	bufferevent_free(cc->cc_bev);
	free(cc->cc_arg);
	free(cc);
}

/*
 * The parent has read file for the reload or load of client id (ok:
 * 0), or failed to (-1): its answer.
 */
void
control_reloaded(uint32_t id, int ok, const char *file)
{
	struct control_conn	*cc;
	char			 buf[PATH_MAX + 80];

	TAILQ_FOREACH(cc, &control.cs_conns, cc_entry)
		if (cc->cc_id == id)
			break;
	if (cc == NULL)
		return;		/* gone, or timed out */
	cc->cc_id = 0;
	if (cc->cc_cmd == CONTROL_RELOAD && ok == 0)
		snprintf(buf, sizeof(buf), "reloaded\n");
	else if (cc->cc_cmd == CONTROL_RELOAD)
		snprintf(buf, sizeof(buf), "ikectl: reload: %s: errors, "
		    "running configuration kept\n", file);
	else if (ok == 0)
		snprintf(buf, sizeof(buf), "loaded %s\n", cc->cc_arg);
	else
		snprintf(buf, sizeof(buf), "ikectl: load: %s: errors, "
		    "running configuration kept\n", cc->cc_arg);
	if (bufferevent_write(cc->cc_bev, buf, strlen(buf)) == -1)
		control_conn_close(cc);
}

/*
 * With privilege separation the parent reads the file: the answer comes
 * with control_reloaded().  0, or -1 after the error went to fp.
 */
static int
control_defer(struct control_conn *cc, enum control_cmd cmd,
    const char *arg, FILE *fp)
{
	if (arg != NULL && (cc->cc_arg = strdup(arg)) == NULL) {
		fprintf(fp, "ikectl: out of memory\n");
		return (-1);
	}
	if (++control.cs_lastid == 0)
		control.cs_lastid = 1;
	cc->cc_id = control.cs_lastid;
	cc->cc_cmd = cmd;
	if (proc_reload(control.cs_env, cc->cc_id, arg) == -1) {
		cc->cc_id = 0;
		fprintf(fp, "ikectl: cannot reach iked's parent process\n");
		return (-1);
	}
	return (0);
}
