/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * ikectl(8): what ikectl.c, the control socket's client, and ikeca.c,
 * the certificate authority, share.
 */

#ifndef IKECTL_H
#define IKECTL_H

#define IKECA_CADIR	"/etc/ssl"	/* -C: where the CAs live */
#define IKECA_IKEDDIR	"/etc/iked"	/* -I: iked(8)'s directory */

/* The options of the "ca" commands, as given (NULL or 0: the default). */
struct ikeca_opts {
	const char	*io_cadir;	/* -C dir */
	const char	*io_ikeddir;	/* -I dir */
	const char	*io_keytype;	/* -t type */
	int		 io_days;	/* -d days */
};

/* ikeca.c */
int	 ikeca(const struct ikeca_opts *, int, char *[]);

#endif /* IKECTL_H */
