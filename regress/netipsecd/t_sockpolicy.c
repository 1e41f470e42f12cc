/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * netipsecd's policy socket (netipsec_pcb.h) through libpfkey's
 * ipsec_setsockpolicy(3), and raw: a socket's policies set, read back,
 * shown by SPDDUMP with scope pcb, gone when the socket closes (by the
 * kernel's notification, or the owner's word first); and every malformed
 * or dishonest request refused with an errno, the daemon unharmed.
 */

#define	_GNU_SOURCE		/* unshare(2) */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <atf-c.h>

#include <libpfkey.h>

#include "pfkey_test.h"
#include "netipsec_pcb.h"

static void
start(const atf_tc_t *tc)
{

	pt_daemon_start(tc, NULL);
	ATF_REQUIRE(setenv("PFKEY_SOCKET", PT_SOCKET, 1) == 0);
}

/* A UDP socket bound to 127.0.0.1 and an ephemeral port. */
static int
udpsock(int type)
{
	struct sockaddr_in sin;
	int s;

	ATF_REQUIRE((s = socket(AF_INET, type, 0)) != -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ATF_REQUIRE(bind(s, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	return (s);
}

static int
setpol(int s, const char *text)
{
	char *buf;
	int ret, error;

	ATF_REQUIRE((buf = ipsec_set_policy(text, (int)strlen(text))) != NULL);
	ret = ipsec_setsockpolicy(s, buf, (size_t)ipsec_get_policylen(buf));
	error = errno;
	free(buf);
	return (ret == 0 ? 0 : error);
}

/* The socket's SO_MARK, which netipsecd sets for bypass outbound. */
static uint32_t
mark(int s)
{
	socklen_t len = sizeof(uint32_t);
	uint32_t m = 0xffffffff;

	ATF_REQUIRE(getsockopt(s, SOL_SOCKET, SO_MARK, &m, &len) == 0);
	return (m);
}

/* Policies of scope pcb in an SPDDUMP, as setkey -DP sees them. */
static int
pcb_count(void)
{
	const struct sadb_x_policy *xpl;
	struct pb_msg req, rep;
	int fd, n = 0;

	fd = pt_connect();
	pb_init(&req, SADB_X_SPDDUMP, SADB_SATYPE_UNSPEC, 1, getpid());
	pb_finish(&req);
	pt_send(fd, &req);
	for (;;) {
		pt_recv_msg(fd, &rep);
		if (rep.u.hdr.sadb_msg_errno == ENOENT)
			break;
		ATF_REQUIRE_EQ(rep.u.hdr.sadb_msg_errno, 0);
		xpl = pt_ext(&rep, SADB_X_EXT_POLICY);
		if (xpl != NULL &&
		    xpl->sadb_x_policy_scope == IPSEC_POLICYSCOPE_PCB)
			n++;
		if (rep.u.hdr.sadb_msg_seq == 0)
			break;
	}
	close(fd);
	return (n);
}

/* Wait up to "ms" for the count of sockets' policies to be "want". */
static int
pcb_wait(int want, int ms)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int n;

	for (; ms > 0; ms -= 20) {
		if ((n = pcb_count()) == want)
			return (n);
		nanosleep(&ts, NULL);
	}
	return (pcb_count());
}

/*
 * A raw request on the policy socket: header fields, data, the
 * descriptors to attach; the reply's errno, or -1 if none came.
 */
static int
raw(uint16_t version, uint16_t op, uint32_t len, const void *data,
    size_t dlen, const int *fds, int nfds)
{
	union {
		struct cmsghdr	hdr;
		uint8_t		buf[CMSG_SPACE(4 * sizeof(int))];
	} cm;
	struct netipsec_pcbmsg req, rep;
	struct sockaddr_un sun;
	struct cmsghdr *c;
	struct msghdr mh;
	struct iovec iov[2];
	struct timeval tv = { 3, 0 };
	ssize_t n;
	int s;

	ATF_REQUIRE((s = socket(AF_UNIX, SOCK_SEQPACKET, 0)) != -1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s%s", PT_SOCKET,
	    NETIPSEC_PCB_SUFFIX);
	ATF_REQUIRE(connect(s, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	(void)setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&req, 0, sizeof(req));
	req.pm_version = version;
	req.pm_op = op;
	req.pm_dir = IPSEC_DIR_INBOUND;
	req.pm_len = len;
	iov[0].iov_base = &req;
	iov[0].iov_len = sizeof(req);
	iov[1].iov_base = (void *)(uintptr_t)data;
	iov[1].iov_len = dlen;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = dlen > 0 ? 2 : 1;
	if (nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	}
	ATF_REQUIRE(sendmsg(s, &mh, 0) != -1);
	n = recv(s, &rep, sizeof(rep), 0);
	close(s);
	if (n != (ssize_t)sizeof(rep))
		return (-1);
	return (rep.pm_errno);
}

PT_TC(set_get_close, "a socket's policies are set, read back, dumped with "
    "scope pcb, and gone when it closes, with or without saying so");
ATF_TC_BODY(set_get_close, tc)
{
	struct sadb_x_policy *xpl;
	uint8_t buf[256];
	size_t len;
	int s, t;

	start(tc);
	s = udpsock(SOCK_DGRAM);
	ATF_REQUIRE_EQ(setpol(s, "in bypass"), 0);
	ATF_REQUIRE_EQ(setpol(s, "out discard"), 0);
	len = sizeof(buf);
	ATF_REQUIRE(ipsec_getsockpolicy(s, IPSEC_DIR_INBOUND, buf, &len) == 0);
	xpl = (void *)buf;
	ATF_CHECK_EQ(xpl->sadb_x_policy_type, IPSEC_POLICY_BYPASS);
	ATF_CHECK_EQ(xpl->sadb_x_policy_scope, IPSEC_POLICYSCOPE_PCB);
	len = sizeof(buf);
	ATF_REQUIRE(ipsec_getsockpolicy(s, IPSEC_DIR_OUTBOUND, buf, &len) ==
	    0);
	ATF_CHECK_EQ(xpl->sadb_x_policy_type, IPSEC_POLICY_DISCARD);
	ATF_CHECK_EQ(pcb_count(), 2);
	ATF_CHECK_EQ(mark(s), 0);
	/* Bypass outbound: marked, for the kernel's shortcut. */
	ATF_REQUIRE_EQ(setpol(s, "out bypass"), 0);
	ATF_CHECK_EQ(mark(s), 0x4e495054);
	/* Entrust takes one direction back, and the mark. */
	ATF_REQUIRE_EQ(setpol(s, "out entrust"), 0);
	ATF_CHECK_EQ(pcb_count(), 1);
	ATF_CHECK_EQ(mark(s), 0);
	/* Closed without a word: the kernel's notification does it. */
	close(s);
	ATF_CHECK_EQ(pcb_wait(0, 2000), 0);
	/* A TCP socket, and the owner's word before it closes. */
	t = udpsock(SOCK_STREAM);
	ATF_REQUIRE_EQ(setpol(t, "in bypass"), 0);
	ATF_CHECK_EQ(pcb_count(), 1);
	ATF_REQUIRE(ipsec_closesockpolicy(t) == 0);
	ATF_CHECK_EQ(pcb_count(), 0);
	close(t);
	pt_daemon_stop();
}

PT_TC(refusals, "requests for what is not a bound TCP or UDP socket, and "
    "malformed requests, are refused with an errno; the daemon serves on");
ATF_TC_BODY(refusals, tc)
{
	char *pol;
	int s, u, p[2], fds[2], len;

	start(tc);
	ATF_REQUIRE((pol = ipsec_set_policy("in bypass", 9)) != NULL);
	len = ipsec_get_policylen(pol);
	/* Not bound. */
	ATF_REQUIRE((s = socket(AF_INET, SOCK_DGRAM, 0)) != -1);
	ATF_CHECK_EQ(setpol(s, "in bypass"), EINVAL);
	close(s);
	/* Not an IP socket; not a socket at all; not TCP or UDP. */
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_DGRAM, 0, p) == 0);
	ATF_CHECK_EQ(raw(NETIPSEC_PCB_VERSION, NETIPSEC_PCB_SET, len, pol,
	    len, p, 1), EAFNOSUPPORT);
	close(p[0]);
	close(p[1]);
	ATF_REQUIRE((u = open("/dev/null", O_RDONLY)) != -1);
	ATF_CHECK_EQ(raw(NETIPSEC_PCB_VERSION, NETIPSEC_PCB_SET, len, pol,
	    len, &u, 1), ENOTSOCK);
	close(u);
	if ((u = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)) != -1) {
		ATF_CHECK_EQ(raw(NETIPSEC_PCB_VERSION, NETIPSEC_PCB_SET, len,
		    pol, len, &u, 1), EPROTONOSUPPORT);
		close(u);
	}
	s = udpsock(SOCK_DGRAM);
	/* No socket, two sockets, another version, lengths that lie. */
	ATF_CHECK_EQ(raw(NETIPSEC_PCB_VERSION, NETIPSEC_PCB_SET, len, pol,
	    len, NULL, 0), EINVAL);
	fds[0] = fds[1] = s;
	ATF_CHECK_EQ(raw(NETIPSEC_PCB_VERSION, NETIPSEC_PCB_SET, len, pol,
	    len, fds, 2), EINVAL);
	ATF_CHECK_EQ(raw(9, NETIPSEC_PCB_SET, len, pol, len, &s, 1), EINVAL);
	ATF_CHECK_EQ(raw(NETIPSEC_PCB_VERSION, NETIPSEC_PCB_SET, len + 8, pol,
	    len, &s, 1), EINVAL);
	ATF_CHECK_EQ(raw(NETIPSEC_PCB_VERSION, NETIPSEC_PCB_SET, len, pol,
	    len - 8, &s, 1), EINVAL);
	ATF_CHECK_EQ(raw(NETIPSEC_PCB_VERSION, NETIPSEC_PCB_SET, 0, NULL, 0,
	    &s, 1), EINVAL);
	ATF_CHECK_EQ(raw(NETIPSEC_PCB_VERSION, 77, 0, NULL, 0, &s, 1),
	    EOPNOTSUPP);
	/* A policy that is not one: a type no socket takes. */
	((struct sadb_x_policy *)(void *)pol)->sadb_x_policy_type = 42;
	ATF_CHECK_EQ(raw(NETIPSEC_PCB_VERSION, NETIPSEC_PCB_SET, len, pol,
	    len, &s, 1), EINVAL);
	free(pol);
	ATF_CHECK_EQ(pcb_count(), 0);
	/* And after all that, a good one works. */
	ATF_CHECK_EQ(setpol(s, "in bypass"), 0);
	ATF_CHECK_EQ(pcb_count(), 1);
	close(s);
	pt_daemon_stop();
}

PT_TC_ROOT(other_netns, "a socket of another network namespace is refused "
    "(EXDEV): it is no socket of this stack");
ATF_TC_BODY(other_netns, tc)
{
	union {
		struct cmsghdr	hdr;
		uint8_t		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *c;
	char byte = 0;
	pid_t pid;
	int sp[2], s, status;

	start(tc);
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_DGRAM, 0, sp) == 0);
	if ((pid = fork()) == 0) {
		/* The child's socket, in a network namespace of its own. */
		if (unshare(CLONE_NEWNET) == -1)
			_exit(2);
		s = udpsock(SOCK_DGRAM);
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = &byte;
		iov.iov_len = 1;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &s, sizeof(int));
		_exit(sendmsg(sp[1], &mh, 0) == 1 ? 0 : 1);
	}
	ATF_REQUIRE(pid != -1);
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2)
		atf_tc_skip("cannot create a network namespace");
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = &byte;
	iov.iov_len = 1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	ATF_REQUIRE(recvmsg(sp[0], &mh, 0) == 1);
	c = CMSG_FIRSTHDR(&mh);
	ATF_REQUIRE(c != NULL && c->cmsg_type == SCM_RIGHTS);
	memcpy(&s, CMSG_DATA(c), sizeof(int));
	ATF_CHECK_EQ(setpol(s, "in bypass"), EXDEV);
	ATF_CHECK_EQ(pcb_count(), 0);
	close(s);
	pt_daemon_stop();
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, set_get_close);
	ATF_TP_ADD_TC(tp, refusals);
	ATF_TP_ADD_TC(tp, other_netns);
	return (atf_no_error());
}
