/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * libpfkey internals shared between its files (and with the LD_PRELOAD
 * shim, which links pfkey_unix.c but not the library).
 */

#ifndef _PFKEY_VAR_H_
#define _PFKEY_VAR_H_

#include <stddef.h>

struct sockaddr;

#if defined(__GNUC__)
#define	PFKEY_HIDDEN	__attribute__((visibility("hidden")))
#else
#define	PFKEY_HIDDEN
#endif

/* Largest PF_KEY message: sadb_msg_len is 16 bits of 64-bit words. */
#define	PFKEY_MSG_MAX	(0xffff * 8)

/* Hosts with a native PF_KEY socket (and sa_len in struct sockaddr). */
#if defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__) || \
    defined(__DragonFly__)
#define	PFKEY_NATIVE	1
#endif

/* pfkey_unix.c */
struct sadb_msg;
PFKEY_HIDDEN int	pfkey_unix_connect(const char *, int);
PFKEY_HIDDEN int	pfkey_unix_default(int);
PFKEY_HIDDEN int	pfkey_unix_refusal(const struct sadb_msg *, size_t);
PFKEY_HIDDEN int	pfkey_unix_refused(int);

/* pfkey.c */
PFKEY_HIDDEN size_t	pfkey_sasize(const struct sockaddr *, size_t);

/* ipsec_strerror.c */
PFKEY_HIDDEN void	pfkey_set_syserr(int);

#endif /* !_PFKEY_VAR_H_ */
