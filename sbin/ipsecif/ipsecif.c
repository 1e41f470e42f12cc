/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * ipsecif: FreeBSD's ifconfig(8) words for if_ipsec(4) interfaces, for
 * netipsecd, which owns them (its TUN devices): the words go as one "if"
 * request over netipsecd's control socket, which checks and applies
 * them (sbin/netipsecd/tun.c), and what it answers is printed.  On a
 * BSD, ifconfig(8) itself does this.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define	CTL_ABSTRACT	"netipsec.ctl"
#define	CTL_SUFFIX	".ctl"
#define	SOCKET_ENV	"PFKEY_SOCKET"

static __attribute__((__noreturn__)) void
usage(void)
{
	extern char	*__progname;

	fprintf(stderr, "usage: %s [-s path] [ipsecN]\n"
	    "       %s [-s path] ipsecN create [reqid N] [mtu N] "
	    "[tunnel src dst]\n"
	    "       %s [-s path] ipsecN tunnel src dst | -tunnel | reqid N | "
	    "mtu N ...\n"
	    "       %s [-s path] ipsecN destroy\n", __progname, __progname,
	    __progname, __progname);
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_un	 sun;
	socklen_t		 slen;
	const char		*path;
	char			 req[1024], buf[65536], name[sizeof(sun.sun_path)];
	size_t			 len, got = 0;
	ssize_t			 n;
	int			 ch, fd, i;

	/*
	 * Options only before the interface's name: "-tunnel" after it is
	 * a word, which GNU getopt() would take for options.
	 */
	path = getenv(SOCKET_ENV);
	argc--;
	argv++;
	while (argc > 0 && argv[0][0] == '-') {
		if (strcmp(argv[0], "-s") == 0 && argc > 1)
			path = argv[1];
		else if (strncmp(argv[0], "-s", 2) == 0 && argv[0][2] != '\0')
			path = argv[0] + 2;
		else
			usage();
		ch = argv[0][2] == '\0' ? 2 : 1;
		argc -= ch;
		argv += ch;
	}

	len = strlcpy(req, "if", sizeof(req));
	for (i = 0; i < argc; i++) {
		if (strpbrk(argv[i], " \t\n") != NULL || argv[i][0] == '\0')
			errx(1, "%s: not one word", argv[i]);
		if (strlcat(req, " ", sizeof(req)) >= sizeof(req) ||
		    (len = strlcat(req, argv[i], sizeof(req))) >=
		    sizeof(req) - 1)
			errx(1, "too many words");
	}
	req[len++] = '\n';

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path == NULL || *path == '\0') {
		memcpy(sun.sun_path + 1, CTL_ABSTRACT, strlen(CTL_ABSTRACT));
		slen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
		    strlen(CTL_ABSTRACT));
		snprintf(name, sizeof(name), "@%s", CTL_ABSTRACT);
	} else {
		if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path),
		    "%s%s", path, CTL_SUFFIX) >= sizeof(sun.sun_path))
			errx(1, "%s%s: path too long", path, CTL_SUFFIX);
		slen = (socklen_t)sizeof(sun);
		strlcpy(name, sun.sun_path, sizeof(name));
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	if (connect(fd, (struct sockaddr *)&sun, slen) == -1)
		err(1, "%s (is netipsecd running in this network namespace?)",
		    name);
	if (write(fd, req, len) != (ssize_t)len)
		err(1, "%s: write", name);

	/* "ok" or "error: why", then what is shown: all of it first. */
	for (;;) {
		if (got == sizeof(buf))
			errx(1, "%s: answer too long", name);
		if ((n = read(fd, buf + got, sizeof(buf) - got)) == 0)
			break;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			err(1, "%s: read", name);
		}
		got += (size_t)n;
	}
	close(fd);
	if (got == 0)
		errx(1, "%s: closed without an answer (only root may ask)",
		    name);
	if (got >= 7 && strncmp(buf, "error: ", 7) == 0) {
		fputs("ipsecif: ", stderr);
		fwrite(buf + 7, 1, got - 7, stderr);
		return (1);
	}
	if (got < 3 || strncmp(buf, "ok\n", 3) != 0)
		errx(1, "%s: an answer we do not know", name);
	fwrite(buf + 3, 1, got - 3, stdout);
	if (fflush(stdout) == EOF)
		err(1, "stdout");
	return (0);
}
