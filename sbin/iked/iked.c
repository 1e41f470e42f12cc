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
#include <pwd.h>
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
	return (iked_load(env, NULL));
}

/*
 * The configuration of file (absolute; NULL: the running one's file)
 * replaces the running one if it parses without an error; then it is
 * the file that "reload" and HUP read.  ikectl's "load".  The engine
 * asks the parent, which reads the file and sends what it parsed.
 */
int
iked_load(struct iked *env, const char *file)
{
	struct iked_config	*cf;

	if (env->sc_privsep)
		return (proc_reload(env, 0, file));
	if (iked_loadfile(env, file, &cf) == -1)
		return (-1);
	iked_apply(env, cf, file != NULL);
	iked_loadkeys(env);
	return (0);
}

/*
 * iked -X: the iked directory read again into the process's store; the
 * old one stays if the new one cannot be made.
 */
void
iked_loadkeys(struct iked *env)
{
	struct ca_store	*ca;

	if ((ca = auth_load(env->sc_authdir)) == NULL) {
		log_warnx("%s: keys and certificates not reloaded",
		    env->sc_authdir);
		return;
	}
	ca_free(env->sc_ca);
	env->sc_ca = ca;
	auth_set_ocsp(ca, env->sc_config);
	if (env->sc_config != NULL)
		(void)auth_check_config(ca, env->sc_config, env->sc_authdir,
		    0);
}

/* The parsing half of iked_load(): 0 and *cfp, or -1 (errors logged). */
int
iked_loadfile(struct iked *env, const char *file, struct iked_config **cfp)
{
	static char	*loaded;	/* sc_conffile, if ours */
	char		*name = NULL;

	log_info("%s %s", file == NULL ? "reloading" : "loading",
	    file == NULL ? env->sc_conffile : file);
	if (file != NULL && (name = strdup(file)) == NULL) {
		log_warn("%s", __func__);
		return (-1);
	}
	parse_clear_macros();
	if (parse_config(file != NULL ? file : env->sc_conffile, 0,
	    cfp) == -1) {
		log_warnx("%s: errors, keeping the running configuration",
		    file != NULL ? file : env->sc_conffile);
		free(name);
		return (-1);
	}
	if (name != NULL) {
		free(loaded);
		env->sc_conffile = loaded = name;
	}
	return (0);
}

/* The other half: cf runs; the established SAs stay. */
void
iked_apply(struct iked *env, struct iked_config *cf, int loaded)
{
	kernel_remove_flows(env);
	auth_forget();
	config_setrunning(env, cf);
	(void)kernel_install_flows(env);
	log_info("configuration %s; established SAs kept",
	    loaded ? "loaded" : "reloaded");
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
	log_info("%sexiting on signal %d", env->sc_privsep ? "engine: " : "",
	    (int)sig);
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
void
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

	fprintf(stderr, "usage: %s [-dnvX] [-D macro=value] [-f file] "
	    "[-K dir] [-p pidfile] [-s socket]\n", __progname);
	exit(1);
}

/*
 * The event loop of the IKE engine (or of the one process, with -X),
 * until TERM or INT; then our SAs go and the peers are told.
 */
void
iked_run(struct iked *env)
{
	struct event	*ev[5];
	struct timeval	 tv = { IKED_KEEPALIVE, 0 };
	int		 i;

	signal(SIGPIPE, SIG_IGN);
	if (!env->sc_privsep)
		iked_loadkeys(env);
	ikesa_init(env);
	if ((env->sc_evbase = event_base_new()) == NULL)
		fatalx("event_base_new");
	arc4random_buf(env->sc_cookie_secret, sizeof(env->sc_cookie_secret));
	if (kernel_init(env) == -1)
		fatalx("cannot talk to the kernel's PF_KEY");
	if (!env->sc_privsep && net_open(env) == -1)
		fatalx("cannot open the IKE sockets");
	if (net_init(env) == -1)
		fatalx("cannot listen on the IKE sockets");
	if (!env->sc_privsep)
		control_listen(env);
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
	/* The line scripts wait for: negotiations may start. */
	log_info("iked started: %u rules from %s%s", env->sc_config ?
	    env->sc_config->cfg_npolicies : 0, env->sc_conffile,
	    env->sc_privsep ? " (IKE engine)" : "");
	if (env->sc_privsep)
		proc_engine_start(env);

	event_base_dispatch(env->sc_evbase);

	env->sc_exiting = 1;
	iked_shutdown_sas(env);
	halfopen_clear(env);
	kernel_remove_flows(env);
	control_close();
	net_close(env);
	kernel_close(env);
	proc_engine_close(env);
	for (i = 0; i < 5; i++)
		event_free(ev[i]);
	auth_close(env);
	event_base_free(env->sc_evbase);
	config_unref(env->sc_config);
	ca_free(env->sc_ca);
	env->sc_ca = NULL;
	if (env->sc_cafd != -1)
		close(env->sc_cafd);
	env->sc_cafd = -1;
	log_info("%s exiting", env->sc_privsep ? "IKE engine" : "iked");
}

/*
 * The engine has its own copy of the pid file's descriptor: closed,
 * not removed, at its exit (the lock stays the parent's).
 */
void
iked_pidfile_forget(void)
{
	if (iked_pfh != NULL)
		pidfile_close(iked_pfh);
	iked_pfh = NULL;
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
	struct passwd		*pw = NULL;
	static char		 ctlpath[PATH_MAX], pidpath[PATH_MAX];
	char			 cwd[PATH_MAX];
	const char		*pidfile = NULL;
	pid_t			 otherpid;
	int			 ch, i, noaction = 0, nosep = 0;

	/* Nothing inherited past stdio: each process keeps what it needs. */
	closefrom(STDERR_FILENO + 1);
	memset(&env, 0, sizeof(env));
	env.sc_conffile = IKED_CONFIG;
	env.sc_port = 500;
	env.sc_nattport = 4500;
	env.sc_ctlpath = IKED_SOCKET;
	env.sc_pfkey = -1;
	env.sc_cafd = -1;
	env.sc_authdir = IKED_DIR;
	for (i = 0; i < IKED_SOCK_MAX; i++)
		env.sc_sock[i] = -1;
	log_init(1, LOG_DAEMON);

	while ((ch = getopt(argc, argv, "dD:f:K:np:s:vX")) != -1) {
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
		case 'K':
			env.sc_authdir = optarg;
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
		case 'X':
			nosep = 1;
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
		struct ca_store	*ca = NULL;
		int		 bad = 0;

		/* The rules that sign can. */
		if (config_needkeys(env.sc_config)) {
			ca = auth_load(env.sc_authdir);
			bad = auth_check_config(ca, env.sc_config,
			    env.sc_authdir, 1);
			ca_free(ca);
		}
		if (bad) {
			config_unref(env.sc_config);
			exit(1);
		}
		if (env.sc_verbose)
			print_config(stdout, env.sc_config, env.sc_verbose);
		fprintf(stderr, "configuration OK\n");
		config_unref(env.sc_config);
		exit(0);
	}

	/* The engine's user, before anything changes. */
	if (!nosep && (pw = getpwnam(IKED_USER)) == NULL)
		fatalx("unknown user %s: create it (iked.8), or run "
		    "without privilege separation (-X, for debugging)",
		    IKED_USER);

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
	if (nosep) {
		log_warnx("running without privilege separation (-X)");
		iked_run(&env);
	} else
		proc_parent(&env, pw);
	return (0);
}
