/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Sockets' policies (ipsec_setsockpolicy(3)): FreeBSD's IP_IPSEC_POLICY
 * and IPV6_IPSEC_POLICY socket options.  On a BSD kernel they are those
 * options.  Where the layer runs in netipsecd, the socket is named to it
 * over its policy socket (netipsec_pcb.h): the socket goes along
 * (SCM_RIGHTS), so the request can only be for a socket the caller
 * holds, and it must be bound, since its address and port name it.
 * Also built into the LD_PRELOAD shim, which turns an unmodified
 * program's setsockopt(2) into these calls.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libpfkey.h"
#include "pfkey_var.h"
#include "netipsec_pcb.h"

#ifdef PFKEY_NATIVE

/* The option of the socket's family. */
static int
pfkey_pcb_opt(int s, int *level, int *opt)
{
	struct sockaddr_storage ss;
	socklen_t len;

	len = sizeof(ss);
	if (getsockname(s, (struct sockaddr *)&ss, &len) == -1)
		return (-1);
	if (ss.ss_family == AF_INET6) {
		*level = IPPROTO_IPV6;
		*opt = IPV6_IPSEC_POLICY;
	} else {
		*level = IPPROTO_IP;
		*opt = IP_IPSEC_POLICY;
	}
	return (0);
}

int
ipsec_setsockpolicy(int s, const void *policy, size_t len)
{
	int level, opt;

	if (pfkey_pcb_opt(s, &level, &opt) == -1)
		return (-1);
	return (setsockopt(s, level, opt, policy, (socklen_t)len));
}

int
ipsec_getsockpolicy(int s, int dir, void *buf, size_t *lenp)
{
	struct sadb_x_policy *xpl;
	socklen_t len;
	int level, opt;

	if (*lenp < sizeof(*xpl)) {
		errno = EINVAL;
		return (-1);
	}
	if (pfkey_pcb_opt(s, &level, &opt) == -1)
		return (-1);
	/* The request names the direction; the reply overwrites it. */
	xpl = buf;
	memset(xpl, 0, sizeof(*xpl));
	xpl->sadb_x_policy_len = PFKEY_UNIT64(sizeof(*xpl));
	xpl->sadb_x_policy_exttype = SADB_X_EXT_POLICY;
	xpl->sadb_x_policy_dir = (uint8_t)dir;
	len = (socklen_t)*lenp;
	if (getsockopt(s, level, opt, buf, &len) == -1)
		return (-1);
	*lenp = len;
	return (0);
}

int
ipsec_closesockpolicy(int s)
{

	/* The kernel drops a socket's policies with its PCB. */
	(void)s;
	return (0);
}

#else /* !PFKEY_NATIVE: netipsecd */

/* Connect to the policy socket of the netipsecd that PF_KEY would reach. */
static int
pfkey_pcb_connect(void)
{
	struct sockaddr_un sun;
	socklen_t sunlen;
	const char *path;
	size_t n;
	int s, error;

	path = NULL;
	if (getuid() == geteuid() && getgid() == getegid()) {
		path = getenv(PFKEY_SOCKET_ENV);
		if (path != NULL && path[0] == '\0')
			path = NULL;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path == NULL) {
		n = strlen(NETIPSEC_PCB_ABSTRACT);
		memcpy(sun.sun_path + 1, NETIPSEC_PCB_ABSTRACT, n);
		sunlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    1 + n);
	} else {
		if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path),
		    "%s%s", path, NETIPSEC_PCB_SUFFIX) >= sizeof(sun.sun_path)) {
			errno = ENAMETOOLONG;
			return (-1);
		}
		sunlen = sizeof(sun);
	}
	if ((s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (connect(s, (struct sockaddr *)&sun, sunlen) == -1) {
		error = errno;
		(void)close(s);
		errno = error;
		return (-1);
	}
	return (s);
}

/*
 * One request for socket "s", with "data" after the header; the reply's
 * data into "out" (*outlen bytes at most).  0, or -1 with errno: the
 * daemon's answer, or why it could not be asked.
 */
static int
pfkey_pcb_call(int s, int op, int dir, const void *data, size_t len,
    void *out, size_t *outlen)
{
	union {
		struct cmsghdr	hdr;
		uint8_t		buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct netipsec_pcbmsg req, rep;
	struct cmsghdr *cm;
	struct msghdr mh;
	struct iovec iov[2];
	struct timeval tv = { 5, 0 };
	ssize_t n;
	int c, error;

	if (len > NETIPSEC_PCB_MAX) {
		errno = EINVAL;
		return (-1);
	}
	if ((c = pfkey_pcb_connect()) == -1)
		return (-1);
	(void)setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&req, 0, sizeof(req));
	req.pm_version = NETIPSEC_PCB_VERSION;
	req.pm_op = (uint16_t)op;
	req.pm_dir = (uint32_t)dir;
	req.pm_len = (uint32_t)len;
	iov[0].iov_base = &req;
	iov[0].iov_len = sizeof(req);
	iov[1].iov_base = (void *)(uintptr_t)data;
	iov[1].iov_len = len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = len > 0 ? 2 : 1;
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	mh.msg_control = cmsgbuf.buf;
	mh.msg_controllen = sizeof(cmsgbuf.buf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &s, sizeof(int));
	if (sendmsg(c, &mh, MSG_NOSIGNAL) == -1)
		goto fail;

	iov[0].iov_base = &rep;
	iov[0].iov_len = sizeof(rep);
	iov[1].iov_base = out;
	iov[1].iov_len = out != NULL ? *outlen : 0;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = out != NULL ? 2 : 1;
	if ((n = recvmsg(c, &mh, 0)) == -1)
		goto fail;
	(void)close(c);
	if ((size_t)n < sizeof(rep) || rep.pm_version != NETIPSEC_PCB_VERSION) {
		errno = EPROTO;
		return (-1);
	}
	if (rep.pm_errno != 0) {
		errno = rep.pm_errno;
		return (-1);
	}
	if (mh.msg_flags & MSG_TRUNC) {
		/* The policy is longer than the caller's buffer. */
		*outlen = rep.pm_len;
		errno = ERANGE;
		return (-1);
	}
	if (rep.pm_len != (size_t)n - sizeof(rep)) {
		errno = EPROTO;
		return (-1);
	}
	if (outlen != NULL)
		*outlen = rep.pm_len;
	return (0);
 fail:
	error = errno;
	(void)close(c);
	errno = error;
	return (-1);
}

int
ipsec_setsockpolicy(int s, const void *policy, size_t len)
{

	if (policy == NULL || len < sizeof(struct sadb_x_policy)) {
		errno = EINVAL;
		return (-1);
	}
	return (pfkey_pcb_call(s, NETIPSEC_PCB_SET, 0, policy, len, NULL,
	    NULL));
}

int
ipsec_getsockpolicy(int s, int dir, void *buf, size_t *lenp)
{

	return (pfkey_pcb_call(s, NETIPSEC_PCB_GET, dir, NULL, 0, buf, lenp));
}

int
ipsec_closesockpolicy(int s)
{

	return (pfkey_pcb_call(s, NETIPSEC_PCB_CLOSE, 0, NULL, 0, NULL,
	    NULL));
}

#endif /* PFKEY_NATIVE */
