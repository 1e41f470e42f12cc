/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * iked(8): the IKEv1 and IKEv2 daemon.  For now it reads and checks its
 * configuration only; the daemon core (sockets, PF_KEY, negotiation) is
 * being written.
 */

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "iked.h"

static __dead void
usage(void)
{
	extern char	*__progname;

	fprintf(stderr, "usage: %s [-dnv] [-D macro=value] [-f file]\n",
	    __progname);
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct iked		 env;
	struct iked_config	*cf;
	int			 ch, noaction = 0;

	memset(&env, 0, sizeof(env));
	env.sc_conffile = IKED_CONFIG;
	log_init(1, LOG_DAEMON);

	while ((ch = getopt(argc, argv, "dD:f:nv")) != -1) {
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
	log_setverbose(env.sc_verbose);

	if (parse_config(env.sc_conffile, 0, &cf) == -1)
		exit(1);
	config_setrunning(&env, cf);

	if (noaction) {
		if (env.sc_verbose)
			print_config(stdout, env.sc_config, env.sc_verbose);
		fprintf(stderr, "configuration OK\n");
		config_free(env.sc_config);
		exit(0);
	}

	log_warnx("%s: configuration OK, but the daemon core (sockets, "
	    "PF_KEY, negotiation) is not implemented yet", env.sc_conffile);
	config_free(env.sc_config);
	exit(1);
}
