/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The control socket's command line (ikectl(8)): where a line ends in
 * what a client sent, and which command its words name.  Nothing here
 * touches a socket or the daemon, so that the fuzzer
 * (regress/fuzz/fuzz_ikectl.c) takes this file alone.
 */

#include <sys/types.h>

#include <string.h>

#include "iked.h"

static const struct {
	const char		*cw_words;	/* one space between words */
	enum control_cmd	 cw_cmd;
} control_cmds[] = {
	{ "reload",	CONTROL_RELOAD },
	{ "show sa",	CONTROL_SHOW_SA },
	{ "show stats",	CONTROL_SHOW_STATS }
};

/*
 * What a client sent so far, len bytes of buf (the first
 * CONTROL_LINE_MAX are enough): CONTROL_FRAME_LINE with the line's
 * length in *linelen, without its newline or a CR before it;
 * CONTROL_FRAME_MORE when the newline may still come; or
 * CONTROL_FRAME_TOOLONG.  At end of file (eof) what was sent is the
 * line, newline or not; nothing at all is CONTROL_FRAME_MORE.
 */
enum control_frame
control_frame(const char *buf, size_t len, int eof, size_t *linelen)
{
	const char	*nl;
	size_t		 n;

	n = len < CONTROL_LINE_MAX ? len : CONTROL_LINE_MAX;
	if ((nl = memchr(buf, '\n', n)) != NULL)
		n = (size_t)(nl - buf);
	else if (len >= CONTROL_LINE_MAX)
		return (CONTROL_FRAME_TOOLONG);
	else if (!eof || len == 0)
		return (CONTROL_FRAME_MORE);
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	*linelen = n;
	return (CONTROL_FRAME_LINE);
}

/*
 * The command a line names.  Its words, separated by blanks, are also
 * written to words (wordslen bytes, at least 1) joined by one space,
 * each byte other than printable ASCII as '?': the form the daemon
 * logs and echoes in "unknown command", which must not carry a
 * client's control characters.
 */
enum control_cmd
control_parse(const char *buf, size_t len, char *words, size_t wordslen)
{
	size_t		 i, n = 0;
	int		 blank = 0;
	unsigned char	 c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)buf[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			blank = n > 0;
			continue;
		}
		if (n + blank + 1 >= wordslen)
			break;
		if (blank)
			words[n++] = ' ';
		blank = 0;
		words[n++] = c > ' ' && c < 0x7f ? (char)c : '?';
	}
	words[n] = '\0';
	if (i < len)	/* cut: not one of ours, whatever it starts with */
		return (CONTROL_UNKNOWN);
	for (i = 0; i < sizeof(control_cmds) / sizeof(control_cmds[0]); i++)
		if (strcmp(words, control_cmds[i].cw_words) == 0)
			return (control_cmds[i].cw_cmd);
	return (CONTROL_UNKNOWN);
}
