/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Logging, the OpenBSD daemon way: to standard error in the foreground,
 * to syslog(3) otherwise.  log_warn() appends the errno string, log_warnx()
 * does not; log_debug() prints only when verbose; fatal() and fatalx()
 * end the process.  Safe to call from any thread.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static int	log_debug_mode = 1;	/* to stderr until log_init() */
static int	log_verbose;

void
log_init(int n_debug, int facility)
{
	extern char	*__progname;

	log_debug_mode = n_debug;
	if (!log_debug_mode)
		openlog(__progname, LOG_PID | LOG_NDELAY, facility);
	tzset();
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return (log_verbose);
}

void
logit(int pri, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char	buf[1024];

	if (log_debug_mode) {
		/* One write per line, so threads do not interleave. */
		vsnprintf(buf, sizeof(buf), fmt, ap);
		fprintf(stderr, "%s\n", buf);
		fflush(stderr);
	} else
		vsyslog(pri, fmt, ap);
}

static void
log_errno(int pri, int saved_errno, const char *emsg, va_list ap)
{
	char	buf[1024];

	if (emsg == NULL) {
		logit(pri, "%s", strerror(saved_errno));
		return;
	}
	vsnprintf(buf, sizeof(buf), emsg, ap);
	logit(pri, "%s: %s", buf, strerror(saved_errno));
}

void
log_warn(const char *emsg, ...)
{
	va_list	ap;
	int	saved_errno = errno;

	va_start(ap, emsg);
	log_errno(LOG_ERR, saved_errno, emsg, ap);
	va_end(ap);
	errno = saved_errno;
}

void
log_warnx(const char *emsg, ...)
{
	va_list	ap;

	va_start(ap, emsg);
	vlog(LOG_ERR, emsg, ap);
	va_end(ap);
}

void
log_info(const char *emsg, ...)
{
	va_list	ap;

	va_start(ap, emsg);
	vlog(LOG_INFO, emsg, ap);
	va_end(ap);
}

void
log_debug(const char *emsg, ...)
{
	va_list	ap;

	if (log_verbose) {
		va_start(ap, emsg);
		vlog(LOG_DEBUG, emsg, ap);
		va_end(ap);
	}
}

static void
vfatalc(int code, const char *emsg, va_list ap)
{
	char	buf[1024];

	if (emsg == NULL)
		buf[0] = '\0';
	else
		vsnprintf(buf, sizeof(buf), emsg, ap);
	if (code)
		logit(LOG_CRIT, "fatal: %s%s%s", buf, buf[0] ? ": " : "",
		    strerror(code));
	else
		logit(LOG_CRIT, "fatal: %s", buf);
}

void
fatal(const char *emsg, ...)
{
	va_list	ap;
	int	saved_errno = errno;

	va_start(ap, emsg);
	vfatalc(saved_errno, emsg, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *emsg, ...)
{
	va_list	ap;

	va_start(ap, emsg);
	vfatalc(0, emsg, ap);
	va_end(ap);
	exit(1);
}
