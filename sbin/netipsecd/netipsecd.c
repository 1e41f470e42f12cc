/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * netipsecd: the kernel IPsec layer hosted as a process.  Options,
 * tunables, daemonizing, signals, and the libevent loop that serves
 * PF_KEY (pfkey_srv.c) and the control socket (ctl.c); with -i, the
 * netfilter rules (rules.c) and the queue thread (nfq.c) that hand the
 * interfaces' packets to the layer.
 */

#include <sys/types.h>
#include <sys/resource.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libutil.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include <netipsec/key.h>

#include "netipsecd.h"

/*
 * Last: it turns malloc(3) and free(3) into the kernel's malloc(9), so
 * this file allocates nothing itself.
 */
#include <ukern/ukern.h>

static struct netipsecd_conf	netipsecd_conf;
static struct pidfh		*netipsecd_pfh;
static char			 netipsecd_pidpath[PATH_MAX];

static __dead void usage(int);
static void	netipsecd_group(struct netipsecd_conf *, const char *);
void		netipsecd_privdrop(const char *);
static void	netipsecd_tunable(struct netipsecd_conf *, const char *);
static void	netipsecd_tunprint(const char *, long, const char *, void *);
static void	netipsecd_klog(int, const char *);
static void	netipsecd_sig(int, short, void *);
static void	netipsecd_atexit(void);
static void	netipsecd_ifadd(struct netipsecd_conf *, char *);
static void	netipsecd_nocore(void);
static int	netipsecd_detach(void);
static int	netipsecd_tunable_pfkey(struct netipsecd_conf *,
		    const char *, const char *, long);

static __dead void
usage(int status)
{
	extern char	*__progname;

	fprintf(status ? stderr : stdout, "usage: %s [-dhOv] [-g group] "
	    "[-i ifname] [-o name=value] [-p pidfile]\n"
	    "                 [-s path] [-u user]\n"
	    "       %s -S [-s path]\n"
	    "       %s -U [-o netipsecd.queue=number]\n", __progname,
	    __progname, __progname);
	exit(status);
}

int
main(int argc, char *argv[])
{
	struct netipsecd_conf	*conf = &netipsecd_conf;
	struct event_base	*base;
	struct event		*evterm, *evint;
	sigset_t		 set, oset;
	char			 cwd[PATH_MAX];
	const char		*s;
	pid_t			 otherpid;
	int			 ch, showtun = 0, showstats = 0, unhook = 0;
	int			 readyfd = -1;

	log_init(1, LOG_DAEMON);
	netipsecd_nocore();
	conf->nc_sendspace = NETIPSECD_SENDSPACE;
	conf->nc_maxclients = NETIPSECD_MAXCLIENTS;
	conf->nc_queue = NETIPSECD_QUEUE;
	conf->nc_qmaxlen = NETIPSECD_QMAXLEN;
	conf->nc_rcvbuf = NETIPSECD_RCVBUF;
	conf->nc_coalesce = NETIPSECD_COALESCE;

	while ((ch = getopt(argc, argv, "dg:hi:o:Op:s:Su:Uv")) != -1) {
		switch (ch) {
		case 'd':
			conf->nc_debug = 1;
			break;
		case 'g':
			netipsecd_group(conf, optarg);
			break;
		case 'h':
			usage(0);
		case 'i':
			netipsecd_ifadd(conf, optarg);
			break;
		case 'S':
			showstats = 1;
			break;
		case 'U':
			unhook = 1;
			break;
		case 'u':
			conf->nc_user = optarg;
			break;
		case 'o':
			netipsecd_tunable(conf, optarg);
			break;
		case 'O':
			showtun = 1;
			break;
		case 'p':
			conf->nc_pidfile = optarg;
			break;
		case 's':
			conf->nc_sockpath = optarg;
			break;
		case 'v':
			conf->nc_verbose++;
			break;
		default:
			usage(1);
		}
	}
	if (optind != argc)
		usage(1);

	if (showtun) {
		key_sysctl_foreach(netipsecd_tunprint, NULL);
		netipsecd_tunprint("netipsecd.sendspace", conf->nc_sendspace,
		    "bytes queued to a PF_KEY socket beyond which "
		    "broadcasts to it are dropped", NULL);
		netipsecd_tunprint("netipsecd.maxclients",
		    conf->nc_maxclients, "PF_KEY connections at once; "
		    "more are refused", NULL);
		netipsecd_tunprint("netipsecd.queue", conf->nc_queue,
		    "the netfilter queue number of -i", NULL);
		netipsecd_tunprint("netipsecd.queue_maxlen", conf->nc_qmaxlen,
		    "packets the kernel keeps waiting in the queue; "
		    "more are dropped", NULL);
		netipsecd_tunprint("netipsecd.rcvbuf", conf->nc_rcvbuf,
		    "receive buffer of the queue's netlink socket, bytes",
		    NULL);
		netipsecd_tunprint("netipsecd.coalesce", conf->nc_coalesce,
		    "largest packet made of decrypted TCP segments, bytes; "
		    "0: off", NULL);
		exit(0);
	}

	if (unhook) {
		/*
		 * The admin's explicit act: the hook of a stopped netipsecd
		 * goes, and the interfaces' traffic flows without IPsec.
		 */
		if (showstats || conf->nc_nifs > 0)
			usage(1);
		log_setverbose(conf->nc_verbose);
		if (rules_unhook((int)conf->nc_queue) != 0) {
			printf("netfilter queue %ld: no rules\n",
			    conf->nc_queue);
			exit(1);
		}
		printf("netfilter queue %ld: rules removed\n", conf->nc_queue);
		exit(0);
	}
	if (conf->nc_sockpath == NULL &&
	    (s = getenv(NETIPSECD_SOCKET_ENV)) != NULL && *s != '\0')
		conf->nc_sockpath = s;
	if (showstats) {
		if (conf->nc_nifs > 0)
			usage(1);
		exit(ctl_show(conf));
	}
	if (conf->nc_pidfile == NULL && !conf->nc_debug)
		conf->nc_pidfile = NETIPSECD_PIDFILE;
	if (conf->nc_pidfile != NULL) {
		/* Absolute: removed after daemon(3) changed directory. */
		if (conf->nc_pidfile[0] != '/') {
			if (getcwd(cwd, sizeof(cwd)) == NULL)
				err(1, "getcwd");
			if ((size_t)snprintf(netipsecd_pidpath,
			    sizeof(netipsecd_pidpath), "%s/%s", cwd,
			    conf->nc_pidfile) >= sizeof(netipsecd_pidpath))
				errx(1, "%s: path too long", conf->nc_pidfile);
			conf->nc_pidfile = netipsecd_pidpath;
		}
		netipsecd_pfh = pidfile_open(conf->nc_pidfile, 0644,
		    &otherpid);
		if (netipsecd_pfh == NULL) {
			if (errno == EEXIST)
				errx(1, "already running, pid %ld",
				    (long)otherpid);
			err(1, "%s", conf->nc_pidfile);
		}
		/*
		 * In the foreground the pid is already the daemon's: write
		 * it before the sockets exist, so that whoever waits for a
		 * socket finds the pid file complete.
		 */
		if (conf->nc_debug && pidfile_write(netipsecd_pfh) == -1)
			err(1, "%s", conf->nc_pidfile);
	}
	atexit(netipsecd_atexit);

	/* Signals wait for the loop; the callout thread never takes them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &oset);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);

	log_setverbose(conf->nc_verbose);	/* -v shows the rules */
	pfkey_srv_listen(conf);
	ctl_listen(conf);
	pcb_srv_listen(conf);
	if (conf->nc_nifs > 0) {
		/* The queue first: the rules' packets find it bound. */
		nfq_init((int)conf->nc_queue, (int)conf->nc_qmaxlen,
		    (int)conf->nc_rcvbuf, (int)conf->nc_coalesce);
		rules_init((int)conf->nc_queue, conf->nc_ifs, conf->nc_nifs);
		rawout_init();
	}

	/* Before any thread exists: it forks. */
	if (!conf->nc_debug) {
		readyfd = netipsecd_detach();
		log_init(0, LOG_DAEMON);
		log_setverbose(conf->nc_verbose);
		if (netipsecd_pfh != NULL &&
		    pidfile_write(netipsecd_pfh) == -1)
			fatal("%s", conf->nc_pidfile);
	}

	/* Everything that needs root is open: the threads start after. */
	if (conf->nc_user != NULL)
		netipsecd_privdrop(conf->nc_user);

	ukern_set_logger(netipsecd_klog);
	ukern_debug = conf->nc_verbose > 0;
	if (ukern_init() != 0)
		fatalx("ukern_init failed");
	key_init();
	local_init();
	nfq_start();

	if (evthread_use_pthreads() == -1)
		fatalx("evthread_use_pthreads failed");
	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	evterm = evsignal_new(base, SIGTERM, netipsecd_sig, base);
	evint = evsignal_new(base, SIGINT, netipsecd_sig, base);
	if (evterm == NULL || evint == NULL ||
	    evsignal_add(evterm, NULL) == -1 || evsignal_add(evint, NULL) == -1)
		fatalx("cannot set up signal events");
	pfkey_srv_start(base);
	ctl_start(base);
	tun_start(base);
	pcb_srv_start(base);
	local_start(base);
	pthread_sigmask(SIG_SETMASK, &oset, NULL);
	if (readyfd != -1) {
		/* Serving: the parent may exit 0 now. */
		if (write(readyfd, "", 1) != 1)
			log_warn("cannot tell the parent");
		close(readyfd);
	}

	if (event_base_dispatch(base) == -1)
		fatalx("event_base_dispatch failed");

	/*
	 * Close the queue; the rules stay (fail closed): the kernel drops
	 * what they send to a queue nobody reads, until netipsecd runs
	 * again or the admin removes them (-U).
	 */
	nfq_stop();
	if (conf->nc_nifs > 0)
		log_info("the hook stays: the hooked interfaces carry nothing "
		    "until netipsecd runs again (netipsecd -U removes it)");
	tun_stop();
	local_stop();
	rawout_fini();
	pcb_srv_stop();
	ctl_stop();
	pfkey_srv_stop();
	key_destroy();
	ukern_fini();
	event_free(evterm);
	event_free(evint);
	event_base_free(base);
	libevent_global_shutdown();
	log_info("exiting");
	return (0);
}

static void
netipsecd_group(struct netipsecd_conf *conf, const char *name)
{
	struct group	*gr;
	const char	*errstr;

	if ((gr = getgrnam(name)) != NULL)
		conf->nc_gid = gr->gr_gid;
	else {
		conf->nc_gid = (gid_t)strtonum(name, 0, UINT32_MAX - 1,
		    &errstr);
		if (errstr != NULL)
			errx(1, "-g %s: no such group", name);
	}
	conf->nc_hasgid = 1;
}

/*
 * -o name=value: a tunable of the key engine (net.key.*), set before
 * key_init() as a loader tunable would be, or one of netipsecd's own.
 */
static void
netipsecd_tunable(struct netipsecd_conf *conf, const char *arg)
{
	char		 name[128];
	const char	*eq;
	char		*end;
	long		 v;
	size_t		 len;

	if ((eq = strchr(arg, '=')) == NULL || eq == arg ||
	    (len = (size_t)(eq - arg)) >= sizeof(name))
		errx(1, "-o %s: expected name=value", arg);
	memcpy(name, arg, len);
	name[len] = '\0';
	errno = 0;
	v = strtol(eq + 1, &end, 0);
	if (eq[1] == '\0' || *end != '\0' || errno == ERANGE)
		errx(1, "-o %s: bad value", arg);

	if (strcmp(name, "netipsecd.queue") == 0) {
		if (v < 0 || v > 65535)
			errx(1, "-o %s: out of range (0 to 65535)", arg);
		conf->nc_queue = v;
		return;
	}
	if (strcmp(name, "netipsecd.queue_maxlen") == 0) {
		if (v < 1 || v > NETIPSECD_QMAXLEN_MAX)
			errx(1, "-o %s: out of range (1 to %d)", arg,
			    NETIPSECD_QMAXLEN_MAX);
		conf->nc_qmaxlen = v;
		return;
	}
	if (strcmp(name, "netipsecd.rcvbuf") == 0) {
		if (v < NETIPSECD_RCVBUF_MIN || v > NETIPSECD_RCVBUF_MAX)
			errx(1, "-o %s: out of range (%d to %d)", arg,
			    NETIPSECD_RCVBUF_MIN, NETIPSECD_RCVBUF_MAX);
		conf->nc_rcvbuf = v;
		return;
	}
	if (strcmp(name, "netipsecd.coalesce") == 0) {
		if (v < 0 || v > NETIPSECD_COALESCE_MAX)
			errx(1, "-o %s: out of range (0 to %d)", arg,
			    NETIPSECD_COALESCE_MAX);
		conf->nc_coalesce = v;
		return;
	}
	if (netipsecd_tunable_pfkey(conf, arg, name, v))
		return;
	if (strcmp(name, "netipsecd.sendspace") == 0) {
		if (v < NETIPSECD_SENDSPACE_MIN || v > NETIPSECD_SENDSPACE_MAX)
			errx(1, "-o %s: out of range (%d to %d)", arg,
			    NETIPSECD_SENDSPACE_MIN, NETIPSECD_SENDSPACE_MAX);
		conf->nc_sendspace = v;
		return;
	}
	switch (key_sysctl_set(name, v)) {
	case 0:
		break;
	case ENOENT:
		errx(1, "-o %s: unknown tunable (netipsecd -O lists them)",
		    arg);
	case EINVAL:
		errx(1, "-o %s: value out of range", arg);
	default:
		errx(1, "-o %s: cannot be set", arg);
	}
}

/* -o for the PF_KEY service's ceilings: 1 if "name" is one of them. */
static int
netipsecd_tunable_pfkey(struct netipsecd_conf *conf, const char *arg,
    const char *name, long v)
{

	if (strcmp(name, "netipsecd.maxclients") != 0)
		return (0);
	if (v < 1 || v > NETIPSECD_MAXCLIENTS_MAX)
		errx(1, "-o %s: out of range (1 to %d)", arg,
		    NETIPSECD_MAXCLIENTS_MAX);
	conf->nc_maxclients = v;
	return (1);
}

static void
netipsecd_tunprint(const char *name, long value, const char *descr,
    void *arg __unused)
{
	char	buf[128];

	snprintf(buf, sizeof(buf), "%s=%ld", name, value);
	printf("%-36s # %s\n", buf, descr);
}

/* log(9) of the kernel layer, to our log. */
static void
netipsecd_klog(int pri, const char *msg)
{
	size_t	len = strlen(msg);

	while (len > 0 && msg[len - 1] == '\n')
		len--;
	logit(pri, "kernel: %.*s", (int)len, msg);
}

static void
netipsecd_sig(int sig, short event __unused, void *arg)
{
	struct event_base	*base = arg;

	log_info("received signal %d, exiting", sig);
	event_base_loopbreak(base);
}

/*
 * -i ifname: a name iptables accepts for -i/-o (a trailing "+" matches
 * every name with that prefix).
 */
static void
netipsecd_ifadd(struct netipsecd_conf *conf, char *name)
{
	size_t	len = strlen(name), i;
	int	j;

	if (len == 0 || len >= IFNAMSIZ)
		errx(1, "-i %s: bad interface name", name);
	for (i = 0; i < len; i++)
		if (name[i] == '/' || name[i] == ' ' || name[i] == '!' ||
		    (name[i] == '-' && i == 0) ||
		    (unsigned char)name[i] < 0x21 ||
		    (unsigned char)name[i] > 0x7e)
			errx(1, "-i %s: bad interface name", name);
	for (j = 0; j < conf->nc_nifs; j++)
		if (strcmp(conf->nc_ifs[j], name) == 0)
			return;
	if (conf->nc_nifs == NETIPSECD_IFMAX)
		errx(1, "-i %s: at most %d interfaces", name, NETIPSECD_IFMAX);
	conf->nc_ifs[conf->nc_nifs++] = name;
}

/*
 * No core dumps, and on Linux no ptrace by other users and no
 * /proc/PID/mem for them: the process holds every SA's keys.  Done first,
 * before there is anything to leak.
 */
static void
netipsecd_nocore(void)
{
	struct rlimit	rl;

	rl.rlim_cur = rl.rlim_max = 0;
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		err(1, "setrlimit(RLIMIT_CORE)");
#ifdef __linux__
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		err(1, "prctl(PR_SET_DUMPABLE)");
#endif
}

/*
 * daemon(3), except that the parent exits only when the child says it
 * serves (0), or when the child died before that (1): whoever started
 * netipsecd finds its sockets and its pid file in place when it returns,
 * and sees a failure in the exit status.  Returns the child's end of the
 * pipe, to be written once ready.
 */
static int
netipsecd_detach(void)
{
	int	 p[2], fd;
	char	 c;

	if (pipe(p) == -1)
		fatal("pipe");
	switch (fork()) {
	case -1:
		fatal("fork");
	case 0:
		break;
	default:
		close(p[1]);
		_exit(read(p[0], &c, 1) == 1 ? 0 : 1);
	}
	close(p[0]);
	if (setsid() == -1)
		fatal("setsid");
	if (chdir("/") == -1)
		fatal("chdir /");
	if ((fd = open("/dev/null", O_RDWR)) == -1)
		fatal("/dev/null");
	(void)dup2(fd, STDIN_FILENO);
	(void)dup2(fd, STDOUT_FILENO);
	(void)dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
	return (p[1]);
}

static void
netipsecd_atexit(void)
{
	/* The rules stay, whatever the exit: see main(). */
	if (netipsecd_pfh != NULL)
		pidfile_remove(netipsecd_pfh);
	netipsecd_pfh = NULL;
}
