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
	int			 cw_arg;	/* followed by an argument */
} control_cmds[] = {
	{ "couple",		CONTROL_COUPLE,		0 },
	{ "decouple",		CONTROL_DECOUPLE,	0 },
	{ "initiate",		CONTROL_INITIATE,	1 },
	{ "load",		CONTROL_LOAD,		1 },
	{ "log brief",		CONTROL_LOG_BRIEF,	0 },
	{ "log verbose",	CONTROL_LOG_VERBOSE,	0 },
	{ "reload",		CONTROL_RELOAD,		0 },
	{ "reset all",		CONTROL_RESET_ALL,	0 },
	{ "reset id",		CONTROL_RESET_ID,	1 },
	{ "reset ike",		CONTROL_RESET_IKE,	0 },
	{ "reset sa",		CONTROL_RESET_SA,	0 },
	{ "show flow",		CONTROL_SHOW_FLOW,	0 },
	{ "show sa",		CONTROL_SHOW_SA,	0 },
	{ "show stats",		CONTROL_SHOW_STATS,	0 },
	{ "terminate",		CONTROL_TERMINATE,	1 }
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
 * client's control characters.  A command that takes an argument
 * (a rule's name, an identity, a file) has it in *arg: the words after
 * the command's, in words; one that takes none has *arg NULL.  An
 * argument must be there, and must be the client's bytes as they
 * were: a line with a byte other than printable ASCII or a blank names
 * no command that takes one.
 */
enum control_cmd
control_parse(const char *buf, size_t len, char *words, size_t wordslen,
    const char **arg)
{
	size_t		 i, n = 0, wl;
	int		 blank = 0, changed = 0;
	unsigned char	 c;

	*arg = NULL;
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
		if (c > ' ' && c < 0x7f)
			words[n++] = (char)c;
		else {
			words[n++] = '?';
			changed = 1;
		}
	}
	words[n] = '\0';
	if (i < len)	/* cut: not one of ours, whatever it starts with */
		return (CONTROL_UNKNOWN);
	for (i = 0; i < sizeof(control_cmds) / sizeof(control_cmds[0]); i++) {
		if (!control_cmds[i].cw_arg) {
			if (strcmp(words, control_cmds[i].cw_words) == 0)
				return (control_cmds[i].cw_cmd);
			continue;
		}
		wl = strlen(control_cmds[i].cw_words);
		if (strncmp(words, control_cmds[i].cw_words, wl) != 0 ||
		    words[wl] != ' ' || changed)
			continue;
		*arg = words + wl + 1;
		return (control_cmds[i].cw_cmd);
	}
	return (CONTROL_UNKNOWN);
}
