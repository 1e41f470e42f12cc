/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The connection to netipsecd on hosts without a PF_KEY socket: an
 * AF_UNIX SOCK_SEQPACKET socket, one PF_KEYv2 message per packet.  Used
 * by pfkey_open() and by the LD_PRELOAD shim, so both find netipsecd the
 * same way.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libpfkey.h"
#include "pfkey_var.h"

/*
 * Connect to netipsecd at "path", a filesystem socket, or at the default
 * abstract address when path is NULL.  "flags" may carry SOCK_NONBLOCK
 * and SOCK_CLOEXEC.  Returns the socket, or -1 with errno set.
 */
int
pfkey_unix_connect(const char *path, int flags)
{
	struct sockaddr_un sun;
	socklen_t sunlen;
	size_t n;
	int s, error;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path == NULL) {
#ifdef __linux__
		/*
		 * The abstract namespace belongs to the network namespace,
		 * like a kernel's PF_KEY: each netns has its own netipsecd.
		 */
		n = strlen(PFKEY_UNIX_ABSTRACT);
		memcpy(sun.sun_path + 1, PFKEY_UNIX_ABSTRACT, n);
		sunlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    1 + n);
#else
		errno = EAFNOSUPPORT;
		return (-1);
#endif
	} else {
		n = strlen(path);
		if (n == 0) {
			errno = ENOENT;
			return (-1);
		}
		if (n >= sizeof(sun.sun_path)) {
			errno = ENAMETOOLONG;
			return (-1);
		}
		memcpy(sun.sun_path, path, n);
		sunlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    n + 1);
	}

	s = socket(AF_UNIX, SOCK_SEQPACKET | flags, 0);
	if (s < 0)
		return (-1);
	if (connect(s, (struct sockaddr *)&sun, sunlen) < 0) {
		error = errno;
		(void)close(s);
		errno = error;
		return (-1);
	}
	return (s);
}

/*
 * Connect to the netipsecd named by $PFKEY_SOCKET, or to the default one.
 * A set-id program ignores the variable: it must not let its caller
 * point it at a fake key engine.
 */
int
pfkey_unix_default(int flags)
{
	const char *path;

	path = NULL;
	if (getuid() == geteuid() && getgid() == getegid()) {
		path = getenv(PFKEY_SOCKET_ENV);
		if (path != NULL && path[0] == '\0')
			path = NULL;
	}
	return (pfkey_unix_connect(path, flags));
}

/*
 * netipsecd refuses a connection beyond its netipsecd.maxclients after
 * connect(2) has already succeeded, so it says why in the first message
 * and closes: a bare sadb_msg whose only fields set are the version, the
 * length and sadb_msg_errno, EUSERS, which the key engine never sends.
 * Returns that errno if msg is the notice, else 0.
 */
int
pfkey_unix_refusal(const struct sadb_msg *msg, size_t len)
{
	struct sadb_msg notice;

	memset(&notice, 0, sizeof(notice));
	notice.sadb_msg_version = PF_KEY_V2;
	notice.sadb_msg_errno = EUSERS;
	notice.sadb_msg_len = PFKEY_UNIT64(sizeof(notice));
	if (len != sizeof(notice) || memcmp(msg, &notice, len) != 0)
		return (0);
	return (EUSERS);
}

/*
 * A send or receive failed because the peer closed: if it closed after
 * its refusal notice, take the notice and return its errno, else 0.
 */
int
pfkey_unix_refused(int so)
{
	struct sadb_msg msg;
	ssize_t n;
	int error;

	n = recv(so, &msg, sizeof(msg), MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && errno == ECONNRESET)	/* reported before the data */
		n = recv(so, &msg, sizeof(msg), MSG_PEEK | MSG_DONTWAIT);
	if (n != (ssize_t)sizeof(msg) ||
	    (error = pfkey_unix_refusal(&msg, sizeof(msg))) == 0)
		return (0);
	(void)recv(so, &msg, sizeof(msg), MSG_DONTWAIT);
	return (error);
}
