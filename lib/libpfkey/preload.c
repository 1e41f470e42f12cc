/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * libpfkey_preload.so: lets an unmodified PF_KEY program talk to
 * netipsecd.  Loaded with LD_PRELOAD, it turns
 * socket(PF_KEY, SOCK_RAW, PF_KEY_V2) into an AF_UNIX SOCK_SEQPACKET
 * socket connected to netipsecd, found as pfkey_open() finds it
 * ($PFKEY_SOCKET, else the abstract address).  SEQPACKET keeps message
 * boundaries, so the program's send/recv/read/write work unchanged.
 * Every other socket() call goes to the C library.
 */

#ifndef _GNU_SOURCE
#define	_GNU_SOURCE		/* RTLD_NEXT */
#endif

#include <sys/types.h>
#include <sys/socket.h>

#include <dlfcn.h>
#include <errno.h>

#include "libpfkey.h"
#include "pfkey_var.h"

#ifndef SOCK_NONBLOCK
#define	SOCK_NONBLOCK	0
#endif
#ifndef SOCK_CLOEXEC
#define	SOCK_CLOEXEC	0
#endif

int	socket(int, int, int);

typedef int socket_fn(int, int, int);

static socket_fn *preload_real_socket;

/* Look the real socket() up before any thread can race for it. */
__attribute__((constructor))
static void
preload_init(void)
{

	preload_real_socket = (socket_fn *)dlsym(RTLD_NEXT, "socket");
}

int
socket(int domain, int type, int protocol)
{
	int flags;

	flags = type & (SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (domain == PF_KEY && (type & ~flags) == SOCK_RAW &&
	    protocol == PF_KEY_V2)
		return (pfkey_unix_default(flags));

	if (preload_real_socket == NULL)
		preload_init();
	if (preload_real_socket == NULL) {
		errno = ENOSYS;
		return (-1);
	}
	return (preload_real_socket(domain, type, protocol));
}
