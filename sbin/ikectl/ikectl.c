/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * ikectl(8): talk to iked(8) over its control socket.  The words of the
 * command line go as one line; the daemon's answer is copied to
 * standard output, or, when it is an error (a line that begins with
 * "ikectl: "), to standard error with exit status 1.  The commands are
 * the daemon's to know (sbin/iked/control_cmd.c), so that the two never
 * disagree about them.  The exception is "ca", the certificate
 * authority of ikeca.c, which works on files and never on the socket.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ikectl.h"

#define IKECTL_SOCKET	"/var/run/iked.sock"	/* iked.h: IKED_SOCKET */
#define IKECTL_LINE_MAX	256			/* iked.h: CONTROL_LINE_MAX */
#define IKECTL_ERROR	"ikectl: "

static void __attribute__((__noreturn__))
usage(void)
{
	extern char	*__progname;

	fprintf(stderr, "usage: %s [-s socket] command [argument]\n"
	    "       %s [-C cadir] [-d days] [-I ikeddir] [-t keytype] "
	    "ca name command ...\n"
	    "commands: show sa | show flow | show stats | reload | "
	    "load file |\n"
	    "    reset all | reset sa | reset ike | reset id id | "
	    "couple | decouple |\n"
	    "    log verbose | log brief | initiate name | "
	    "terminate name\n"
	    "ca commands: create | delete | install [dir] | crl | show |\n"
	    "    certificate id create | delete | install [dir] | revoke |"
	    " export | show\n"
	    "    (and show ca name certificates)\n", __progname, __progname);
	exit(1);
}

/* The words, one space between them, and a newline. */
static void
ikectl_line(char *line, size_t len, int argc, char *argv[])
{
	int	 i;

	line[0] = '\0';
	for (i = 0; i < argc; i++)
		if ((i > 0 && strlcat(line, " ", len) >= len) ||
		    strlcat(line, argv[i], len) >= len ||
		    (i == argc - 1 && strlcat(line, "\n", len) >= len))
			errx(1, "command too long (at most %zu bytes)",
			    len - 2);
}

static int
ikectl_connect(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		errx(1, "%s: socket path too long", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		err(1, "socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		err(1, "%s (is iked running?)", path);
	return (fd);
}

/* The whole answer: an error is told from the first bytes. */
static char *
ikectl_read(int fd, const char *path, size_t *lenp)
{
	char	*buf = NULL, *nbuf;
	size_t	 len = 0, size = 0;
	ssize_t	 n;

	for (;;) {
		if (len == size) {
			size = size ? size * 2 : 4096;
			if ((nbuf = realloc(buf, size)) == NULL)
				err(1, NULL);
			buf = nbuf;
		}
		if ((n = read(fd, buf + len, size - len)) == 0)
			break;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			/* A refusal closes without reading our line. */
			if (errno == ECONNRESET && len > 0)
				break;
			err(1, "%s: read", path);
		}
		len += (size_t)n;
	}
	*lenp = len;
	return (buf);
}

int
main(int argc, char *argv[])
{
	struct ikeca_opts ca;
	const char	*path = IKECTL_SOCKET, *errstr;
	char		 line[IKECTL_LINE_MAX], *ans;
	char		 file[PATH_MAX];
	size_t		 len, off;
	ssize_t		 n;
	FILE		*out = stdout;
	int		 ch, fd, caopt = 0;

	memset(&ca, 0, sizeof(ca));
	while ((ch = getopt(argc, argv, "C:d:I:s:t:")) != -1) {
		switch (ch) {
		case 'C':
			ca.io_cadir = optarg;
			caopt = 1;
			break;
		case 'd':
			ca.io_days = (int)strtonum(optarg, 1, 36500, &errstr);
			if (errstr != NULL)
				errx(1, "-d %s: days %s (1 to 36500)", optarg,
				    errstr);
			caopt = 1;
			break;
		case 'I':
			ca.io_ikeddir = optarg;
			caopt = 1;
			break;
		case 's':
			path = optarg;
			break;
		case 't':
			ca.io_keytype = optarg;
			caopt = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage();
	/* The CA's commands are ours, not the daemon's. */
	if (strcmp(argv[0], "ca") == 0 || (argc >= 2 &&
	    strcmp(argv[0], "show") == 0 && strcmp(argv[1], "ca") == 0))
		return (ikeca(&ca, argc, argv));
	if (caopt)
		errx(1, "-C, -d, -I and -t are options of the ca commands");
	/* The daemon's directory is not ours: the file goes absolute. */
	if (argc == 2 && strcmp(argv[0], "load") == 0) {
		if (realpath(argv[1], file) == NULL)
			err(1, "%s", argv[1]);
		argv[1] = file;
	}
	ikectl_line(line, sizeof(line), argc, argv);

	signal(SIGPIPE, SIG_IGN);
	fd = ikectl_connect(path);
	for (off = 0; off < strlen(line); off += (size_t)n)
		if ((n = write(fd, line + off, strlen(line) - off)) == -1) {
			if (errno == EINTR) {
				n = 0;
				continue;
			}
			/* Refused before it read: the answer says why. */
			if (errno == EPIPE || errno == ECONNRESET)
				break;
			err(1, "%s: write", path);
		}
	ans = ikectl_read(fd, path, &len);
	close(fd);

	if (len >= strlen(IKECTL_ERROR) &&
	    memcmp(ans, IKECTL_ERROR, strlen(IKECTL_ERROR)) == 0)
		out = stderr;
	if (fwrite(ans, 1, len, out) != len || fflush(out) == EOF)
		err(1, "%s", out == stdout ? "stdout" : "stderr");
	free(ans);
	return (out == stderr ? 1 : 0);
}
