/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * iked(8): the IKE daemon.  It reads iked.conf(5), opens the IKE sockets
 * and the PF_KEY socket, and runs one libevent loop: the kernel's
 * ACQUIREs start negotiations, peers' messages are answered, the SAs go
 * into the kernel.  HUP reloads the configuration (established SAs
 * stay), TERM and INT delete our SAs, tell the peers, and exit.
 */

#include <sys/types.h>
#include <sys/resource.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <errno.h>
#include <libutil.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "iked.h"

#define IKED_KEEPALIVE	20	/* seconds between NAT keepalives */

struct iked	*iked_env;
static struct pidfh *iked_pfh;		/* -p */

/*
 * Read the configuration again: the new one replaces the running one
 * only if it parses without an error.  SIGHUP and ikectl's "reload".
 */
int
iked_reload(struct iked *env)
{
	return (iked_load(env, env->sc_conffile));
}

/*
 * The configuration of file (absolute) replaces the running one if it
 * parses without an error; then it is the file that "reload" and HUP
 * read.  ikectl's "load".
 */
int
iked_load(struct iked *env, const char *file)
{
	static char		*loaded;	/* sc_conffile, if ours */
	struct iked_config	*cf;
	char			*name = NULL;

	log_info("%s %s", file == env->sc_conffile ? "reloading" :
	    "loading", file);
	if (file != env->sc_conffile && (name = strdup(file)) == NULL) {
		log_warn("%s", __func__);
		return (-1);
	}
	parse_clear_macros();
	if (parse_config(file, 0, &cf) == -1) {
		log_warnx("%s: errors, keeping the running configuration",
		    file);
		free(name);
		return (-1);
	}
	kernel_remove_flows(env);
	config_setrunning(env, cf);
	(void)kernel_install_flows(env);
	if (name != NULL) {
		free(loaded);
		env->sc_conffile = loaded = name;
	}
	log_info("configuration %s; established SAs kept",
	    name != NULL ? "loaded" : "reloaded");
	return (0);
}

static void
iked_sighup(evutil_socket_t sig, short event, void *arg)
{
	(void)sig;
	(void)event;
	(void)iked_reload(arg);
}

static void
iked_sigterm(evutil_socket_t sig, short event, void *arg)
{
	struct iked	*env = arg;

	(void)event;
	log_info("exiting on signal %d", (int)sig);
	event_base_loopexit(env->sc_evbase, NULL);
}

/* USR1: the SAs and the counters, to the log, as "ikectl show" says. */
/* Log what fn writes, line by line. */
static void
iked_logtext(struct iked *env, void (*fn)(FILE *, const struct iked *))
{
	FILE		*fp;
	char		*text = NULL, *p, *line;
	size_t		 len = 0;

	if ((fp = open_memstream(&text, &len)) == NULL) {
		log_warn("%s", __func__);
		return;
	}
	fn(fp, env);
	if (fclose(fp) == 0)
		for (p = text; (line = strsep(&p, "\n")) != NULL;)
			if (*line != '\0')
				log_info("%s", line);
	free(text);
}

/*
 * USR1: the SAs, then the counters, to the log.  One at a time: the
 * heap line must not count the text of the SAs.
 */
static void
iked_sigusr1(evutil_socket_t sig, short event, void *arg)
{
	struct iked	*env = arg;

	(void)sig;
	(void)event;
	iked_logtext(env, show_sas);
	iked_logtext(env, show_stats);
}

static void
iked_keepalive(evutil_socket_t fd, short event, void *arg)
{
	struct iked	*env = arg;
	struct iked_sa	*sa;

	(void)fd;
	(void)event;
	TAILQ_FOREACH(sa, &env->sc_sas, sa_entry)
		if (sa->sa_state == SA_S_ESTABLISHED &&
		    (sa->sa_nat & SA_NATT_FLOAT) &&
		    (sa->sa_nat & SA_NAT_LOCAL))
			net_keepalive(env, sa);
}

/*
 * No core dumps: iked holds pre-shared keys and the keys of every SA.
 * On Linux it is also no longer "dumpable": its /proc files belong to
 * root and no other process of its user may ptrace it.
 */
static void
iked_nocore(void)
{
	struct rlimit	 rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		fatal("setrlimit(RLIMIT_CORE)");
#ifdef PR_SET_DUMPABLE
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_DUMPABLE)");
#endif
}

static __dead void
usage(void)
{
	extern char	*__progname;

	fprintf(stderr, "usage: %s [-dnv] [-D macro=value] [-f file] "
	    "[-p pidfile] [-s socket]\n", __progname);
	exit(1);
}

static void
run(struct iked *env)
{
	struct event	*ev[5];
	struct timeval	 tv = { IKED_KEEPALIVE, 0 };
	int		 i;

	signal(SIGPIPE, SIG_IGN);
	ikesa_init(env);
	for (i = 0; i < IKED_SOCK_MAX; i++)
		env->sc_sock[i] = -1;
	env->sc_pfkey = -1;
	if ((env->sc_evbase = event_base_new()) == NULL)
		fatalx("event_base_new");
	arc4random_buf(env->sc_cookie_secret, sizeof(env->sc_cookie_secret));
	if (kernel_init(env) == -1)
		fatalx("cannot talk to the kernel's PF_KEY");
	if (net_init(env) == -1)
		fatalx("cannot open the IKE sockets");
	control_init(env);
	(void)kernel_install_flows(env);
	ev[0] = evsignal_new(env->sc_evbase, SIGHUP, iked_sighup, env);
	ev[1] = evsignal_new(env->sc_evbase, SIGTERM, iked_sigterm, env);
	ev[2] = evsignal_new(env->sc_evbase, SIGINT, iked_sigterm, env);
	ev[3] = evsignal_new(env->sc_evbase, SIGUSR1, iked_sigusr1, env);
	ev[4] = event_new(env->sc_evbase, -1, EV_PERSIST, iked_keepalive, env);
	for (i = 0; i < 5; i++)
		if (ev[i] == NULL || event_add(ev[i], i == 4 ? &tv : NULL) == -1)
			fatalx("event_add");
	log_info("iked started: %u rules from %s", env->sc_config ?
	    env->sc_config->cfg_npolicies : 0, env->sc_conffile);

	event_base_dispatch(env->sc_evbase);

	env->sc_exiting = 1;
	iked_shutdown_sas(env);
	halfopen_clear(env);
	kernel_remove_flows(env);
	control_close();
	net_close(env);
	kernel_close(env);
	for (i = 0; i < 5; i++)
		event_free(ev[i]);
	event_base_free(env->sc_evbase);
	config_unref(env->sc_config);
	log_info("iked exiting");
}

/* The pid file goes at any exit, fatal() too; a refused one is not ours. */
static void
iked_atexit(void)
{
	if (iked_pfh != NULL)
		pidfile_remove(iked_pfh);
	iked_pfh = NULL;
}

int
main(int argc, char *argv[])
{
	struct iked		 env;
	struct iked_config	*cf;
	static char		 ctlpath[PATH_MAX], pidpath[PATH_MAX];
	char			 cwd[PATH_MAX];
	const char		*pidfile = NULL;
	pid_t			 otherpid;
	int			 ch, noaction = 0;

	memset(&env, 0, sizeof(env));
	env.sc_conffile = IKED_CONFIG;
	env.sc_port = 500;
	env.sc_nattport = 4500;
	env.sc_ctlpath = IKED_SOCKET;
	log_init(1, LOG_DAEMON);

	while ((ch = getopt(argc, argv, "dD:f:np:s:v")) != -1) {
		switch (ch) {
		case 'd':
			env.sc_debug = 1;
			break;
		case 'D':
			if (cmdline_symset(optarg) < 0)
				fatalx("could not parse macro definition %s",
				    optarg);
			break;
		case 'f':
			env.sc_conffile = optarg;
			break;
		case 'n':
			noaction = 1;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 's':
			env.sc_ctlpath = optarg;
			break;
		case 'v':
			env.sc_verbose++;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	if (argc != 0)
		usage();
	/* Made absolute: daemon(3) changes the directory. */
	if (env.sc_ctlpath[0] != '/' || (pidfile != NULL &&
	    pidfile[0] != '/')) {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			fatal("getcwd");
	}
	if (env.sc_ctlpath[0] != '/') {
		if ((size_t)snprintf(ctlpath, sizeof(ctlpath), "%s/%s", cwd,
		    env.sc_ctlpath) >= sizeof(ctlpath))
			fatalx("%s: path too long", env.sc_ctlpath);
		env.sc_ctlpath = ctlpath;
	}
	if (pidfile != NULL && pidfile[0] != '/') {
		if ((size_t)snprintf(pidpath, sizeof(pidpath), "%s/%s", cwd,
		    pidfile) >= sizeof(pidpath))
			fatalx("%s: path too long", pidfile);
		pidfile = pidpath;
	}
	log_setverbose(env.sc_verbose);

	/* Before the first secret is read. */
	iked_nocore();
	if (parse_config(env.sc_conffile, 0, &cf) == -1)
		exit(1);
	config_setrunning(&env, cf);

	if (noaction) {
		if (env.sc_verbose)
			print_config(stdout, env.sc_config, env.sc_verbose);
		fprintf(stderr, "configuration OK\n");
		config_unref(env.sc_config);
		exit(0);
	}

	/*
	 * Locked before daemon(3): a second iked on the same file stops
	 * here, with the pid of the one that holds it.
	 */
	if (pidfile != NULL && (iked_pfh = pidfile_open(pidfile, 0644,
	    &otherpid)) == NULL) {
		if (errno == EEXIST)
			fatalx("%s: iked already running, pid %ld", pidfile,
			    (long)otherpid);
		fatal("%s", pidfile);
	}
	atexit(iked_atexit);
	if (!env.sc_debug && daemon(0, 0) == -1)
		fatal("daemon");
	log_init(env.sc_debug, LOG_DAEMON);
	log_setverbose(env.sc_verbose);
	if (iked_pfh != NULL && pidfile_write(iked_pfh) == -1)
		fatal("%s", pidfile);
	iked_env = &env;
	run(&env);
	return (0);
}
