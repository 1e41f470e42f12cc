/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * libFuzzer target for iked's control socket: what a client sends,
 * through sbin/iked/control_cmd.c as the daemon takes it (the line
 * framed by control_frame(), its words by control_parse()).  Any input:
 * the line fits in what was sent and in CONTROL_LINE_MAX; the words the
 * daemon echoes and logs are printable ASCII, single-spaced, within
 * their buffer; a command recognised is recognised again from those
 * words (they are its canonical form), with the same argument, and not
 * from a cut buffer; an argument is a non-empty tail of the words, the
 * client's own bytes.
 *
 * Built and run by regress/fuzz/run.sh, seeds in corpus/ikectl.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iked.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A command's argument: none, or a non-empty tail of w after a space. */
static void
check_arg(const char *w, const char *arg, const char *buf, size_t len)
{
	size_t	 i;

	if (arg == NULL)
		return;
	if (arg <= w || arg > w + strlen(w) || arg[-1] != ' ' ||
	    *arg == '\0')
		abort();
	/* Taken as sent: no byte was made a '?'. */
	for (i = 0; i < len; i++)
		if ((unsigned char)buf[i] >= 0x7f || ((unsigned char)buf[i] <
		    ' ' && buf[i] != '\t' && buf[i] != '\r' && buf[i] != '\n'))
			abort();
}

static void
check_words(const char *w, size_t wlen)
{
	size_t	 i, n = strlen(w);

	if (n >= wlen)
		abort();
	for (i = 0; i < n; i++) {
		if (w[i] < ' ' || w[i] > '~')
			abort();
		if (w[i] == ' ' && (i == 0 || i == n - 1 || w[i + 1] == ' '))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*buf = (const char *)data;
	char			 words[CONTROL_LINE_MAX], again[CONTROL_LINE_MAX];
	char			 small[8];
	enum control_frame	 fr;
	enum control_cmd	 cmd;
	const char		*arg, *arg2;
	size_t			 linelen = (size_t)-1;
	int			 eof;

	for (eof = 0; eof <= 1; eof++) {
		fr = control_frame(buf, size, eof, &linelen);
		if (fr == CONTROL_FRAME_TOOLONG && size < CONTROL_LINE_MAX)
			abort();
		if (fr == CONTROL_FRAME_MORE && (eof ? size != 0 :
		    memchr(buf, '\n', size) != NULL && size > 0 &&
		    (const char *)memchr(buf, '\n', size) - buf <
		    CONTROL_LINE_MAX))
			abort();
		if (fr != CONTROL_FRAME_LINE)
			continue;
		if (linelen > size || linelen >= CONTROL_LINE_MAX)
			abort();

		cmd = control_parse(buf, linelen, words, sizeof(words), &arg);
		check_words(words, sizeof(words));
		check_arg(words, arg, buf, linelen);
		if (cmd == CONTROL_UNKNOWN && arg != NULL)
			abort();
		if (cmd != CONTROL_UNKNOWN) {
			if (control_parse(words, strlen(words), again,
			    sizeof(again), &arg2) != cmd ||
			    strcmp(words, again) != 0 ||
			    (arg == NULL) != (arg2 == NULL) ||
			    (arg != NULL && strcmp(arg, arg2) != 0))
				abort();
			/* Cut to a few bytes, a command is not one. */
			if (strlen(words) >= sizeof(small) &&
			    control_parse(buf, linelen, small,
			    sizeof(small), &arg2) != CONTROL_UNKNOWN)
				abort();
		}
		cmd = control_parse(buf, linelen, small, sizeof(small), &arg2);
		check_words(small, sizeof(small));
		check_arg(small, arg2, buf, linelen);
	}
	return (0);
}
