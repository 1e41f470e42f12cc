/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * netipsecd(8) itself: options, tunables, the socket and pid file,
 * signals, access control, its framing-error replies, and its output
 * queues (a huge dump to a slow reader arrives whole; a registered socket
 * that does not read loses broadcasts without slowing anyone down).
 */

#define	_GNU_SOURCE		/* unshare(2), CLONE_NEWNET */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pfkey_test.h"

static uint64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/* Run netipsecd with these arguments to its end: its exit status. */
static int
run_exit(const atf_tc_t *tc, const char *const *args)
{
	int	status;

	status = pt_daemon_wait(pt_daemon_spawn(tc, args), 10000);
	ATF_REQUIRE_MSG(status != -1, "netipsecd did not exit");
	ATF_REQUIRE_MSG(WIFEXITED(status), "netipsecd died of signal %d",
	    WTERMSIG(status));
	return (WEXITSTATUS(status));
}

/* A fresh network namespace, so that the abstract address is ours. */
static void
private_netns(void)
{
	if (unshare(CLONE_NEWNET) == -1)
		atf_tc_skip("unshare(CLONE_NEWNET): %s", strerror(errno));
	unsetenv("PFKEY_SOCKET");
}

/*
 * In a child with these credentials: connect to the abstract address and
 * ask for the supported algorithms.  Returns 0 if served, 1 if the
 * connection was closed, other values on errors.
 */
static int
child_try(uid_t uid, gid_t gid)
{
	struct sadb_msg	msg;
	struct pollfd	pfd;
	uint8_t		buf[4096];
	pid_t		pid;
	ssize_t		n;
	int		fd, status;

	if ((pid = fork()) == -1)
		return (-1);
	if (pid == 0) {
		if (setgroups(0, NULL) == -1 || setgid(gid) == -1 ||
		    setuid(uid) == -1)
			_exit(10);
		if ((fd = pt_connect_abstract("netipsec.pfkey")) == -1)
			_exit(11);
		memset(&msg, 0, sizeof(msg));
		msg.sadb_msg_version = PF_KEY_V2;
		msg.sadb_msg_type = SADB_REGISTER;
		msg.sadb_msg_len = PFKEY_UNIT64(sizeof(msg));
		msg.sadb_msg_seq = 1;
		msg.sadb_msg_pid = (uint32_t)getpid();
		(void)send(fd, &msg, sizeof(msg), MSG_NOSIGNAL);
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 5000) != 1)
			_exit(12);
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0 || (n == -1 && errno == ECONNRESET))
			_exit(1);
		if (n >= (ssize_t)sizeof(msg) &&
		    ((struct sadb_msg *)buf)->sadb_msg_type == SADB_REGISTER)
			_exit(0);
		_exit(13);
	}
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status))
		return (-1);
	return (WEXITSTATUS(status));
}

PT_TC(sigterm, "SIGTERM with clients connected: exit 0, socket removed");
ATF_TC_BODY(sigterm, tc)
{
	struct pb_msg	req;
	int		a, b;

	pt_daemon_start(tc, NULL);
	a = pt_connect();
	b = pt_connect();
	pt_register(a, SADB_SATYPE_ESP);
	pt_add(b, 0x1000, PT_SRC, PT_DST);
	pb_init(&req, SADB_DUMP, SADB_SATYPE_ESP, 5, getpid());
	pt_send(b, &req);			/* left unread */
	pt_daemon_stop();
	close(a);
	close(b);
}

PT_TC(sigint, "SIGINT: exit 0, socket removed");
ATF_TC_BODY(sigint, tc)
{
	int	status;

	pt_daemon_start(tc, NULL);
	ATF_REQUIRE(kill(pt_daemon_pid(), SIGINT) == 0);
	status = pt_daemon_wait(pt_daemon_pid(), 10000);
	ATF_REQUIRE_MSG(status != -1 && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0, "status %#x after SIGINT", status);
	ATF_CHECK(access(PT_SOCKET, F_OK) == -1);
	unlink("netipsecd.child");
}

PT_TC(sighup, "SIGHUP is ignored");
ATF_TC_BODY(sighup, tc)
{
	int	fd;

	pt_daemon_start(tc, NULL);
	ATF_REQUIRE(kill(pt_daemon_pid(), SIGHUP) == 0);
	usleep(200000);
	fd = pt_connect();
	pt_register(fd, SADB_SATYPE_UNSPEC);
	close(fd);
	pt_daemon_stop();
}

PT_TC(bad_tunable, "-o with an unknown name, a bad or out-of-range value: "
    "exit 1, nothing left behind");
ATF_TC_BODY(bad_tunable, tc)
{
	static const char *const bad[] = {
		"net.key.no_such_tunable=1",
		"net.key.larval_lifetime=abc",
		"net.key.larval_lifetime=",
		"net.key.larval_lifetime=0",
		"net.key.larval_lifetime=99999999999999999999",
		"netipsecd.sendspace=10",
		"netipsecd.maxclients=0",
		"net.key.sa_max=0",
		"larval_lifetime",
		"=5",
	};
	const char	*args[8];
	size_t		 i;

	for (i = 0; i < nitems(bad); i++) {
		args[0] = "-d";
		args[1] = "-s";
		args[2] = PT_SOCKET;
		args[3] = "-o";
		args[4] = bad[i];
		args[5] = NULL;
		ATF_CHECK_EQ_MSG(run_exit(tc, args), 1, "-o %s", bad[i]);
		ATF_CHECK_MSG(access(PT_SOCKET, F_OK) == -1,
		    "-o %s left a socket", bad[i]);
	}
	ATF_CHECK(pt_log_contains("unknown tunable"));
}

PT_TC(show_tunables, "-O lists the tunables with values and descriptions, "
    "after the -o given before it");
ATF_TC_BODY(show_tunables, tc)
{
	const char	*args[] = { "-o", "net.key.larval_lifetime=77", "-O",
	    NULL };

	ATF_REQUIRE_EQ(run_exit(tc, args), 0);
	ATF_CHECK(pt_log_contains("net.key.larval_lifetime=77"));
	ATF_CHECK(pt_log_contains("net.key.blockacq_lifetime="));
	ATF_CHECK(pt_log_contains("netipsecd.sendspace=1048576"));
	ATF_CHECK(pt_log_contains("netipsecd.maxclients=256"));
	ATF_CHECK(pt_log_contains("net.key.sa_max=65536"));
	ATF_CHECK(pt_log_contains("net.key.sp_max=65536"));
	ATF_CHECK(pt_log_contains("net.key.acq_max=4096"));
	ATF_CHECK(pt_log_contains("# "));
}

PT_TC(usage, "-h prints the usage (exit 0); bad options, operands and the "
    "-S with -i, an interface name -i refuses, -S with no daemon exit 1");
ATF_TC_BODY(usage, tc)
{
	const char	*h[] = { "-h", NULL };
	const char	*x[] = { "-x", NULL };
	/* Never a valid -i here: it would hook the host's interface. */
	const char	*i[] = { "-d", "-i", "bad/name", NULL };
	const char	*iS[] = { "-S", "-i", "nosuchif9", NULL };
	const char	*S[] = { "-S", "-s", "no-such.sock", NULL };
	const char	*op[] = { "-d", "extra", NULL };

	ATF_CHECK_EQ(run_exit(tc, h), 0);
	ATF_CHECK(pt_log_contains("usage: netipsecd"));
	ATF_CHECK_EQ(run_exit(tc, x), 1);
	ATF_CHECK_EQ(run_exit(tc, i), 1);
	ATF_CHECK_EQ(run_exit(tc, iS), 1);
	ATF_CHECK_EQ(run_exit(tc, S), 1);
	ATF_CHECK_EQ(run_exit(tc, op), 1);
}

PT_TC(pidfile, "-p: the pid file holds the pid, a second instance with "
    "the same pid file refuses to start, the file goes at exit");
ATF_TC_BODY(pidfile, tc)
{
	const char	*args[PT_MAXARGS];
	FILE		*fp;
	long		 pid = 0;
	int		 n;

	pt_daemon_start(tc, "-p", "np.pid", NULL);
	ATF_REQUIRE((fp = fopen("np.pid", "r")) != NULL);
	ATF_CHECK(fscanf(fp, "%ld", &pid) == 1);
	fclose(fp);
	ATF_CHECK_EQ(pid, (long)pt_daemon_pid());

	n = pt_daemon_args(args, "other.sock");
	args[n++] = "-p";
	args[n++] = "np.pid";
	args[n] = NULL;
	ATF_CHECK_EQ(run_exit(tc, args), 1);
	ATF_CHECK(pt_log_contains("already running"));
	ATF_CHECK(access("other.sock", F_OK) == -1);

	pt_daemon_stop();
	ATF_CHECK_MSG(access("np.pid", F_OK) == -1, "pid file left");
}

PT_TC(daemonize, "without -d: detaches, writes the pid file, serves, and "
    "cleans up on SIGTERM");
ATF_TC_BODY(daemonize, tc)
{
	const char	*args[PT_MAXARGS];
	FILE		*fp;
	long		 pid = 0;
	uint64_t	 end;
	int		 fd, n;

	/* As pt_daemon_args() makes them, -d replaced with -p np.pid. */
	n = pt_daemon_args(args + 1, PT_SOCKET) + 1;
	args[0] = "-p";
	args[1] = "np.pid";
	args[n] = NULL;
	ATF_REQUIRE_EQ_MSG(run_exit(tc, args), 0, "the parent exits 0");
	/* The parent waits for the child: pid file and socket are there. */
	ATF_REQUIRE((fp = fopen("np.pid", "r")) != NULL);
	if (fscanf(fp, "%ld", &pid) != 1)
		pid = 0;
	fclose(fp);
	ATF_REQUIRE_MSG(pid > 1, "no pid in the pid file when the parent "
	    "returned");
	if ((fp = fopen("netipsecd.child", "w")) != NULL) {
		fprintf(fp, "%ld\n", pid);
		fclose(fp);
	}
	fd = pt_connect_path(PT_SOCKET);
	ATF_REQUIRE_MSG(fd != -1, "cannot connect to the daemon");
	pt_register(fd, SADB_SATYPE_UNSPEC);
	close(fd);

	ATF_REQUIRE(kill((pid_t)pid, SIGTERM) == 0);
	end = now_ms() + 10000;
	while ((access("np.pid", F_OK) == 0 || access(PT_SOCKET, F_OK) == 0) &&
	    now_ms() < end)
		usleep(20000);
	ATF_CHECK_MSG(access("np.pid", F_OK) == -1, "pid file left");
	ATF_CHECK_MSG(access(PT_SOCKET, F_OK) == -1, "socket left");
	unlink("netipsecd.child");
}

PT_TC(socket_in_use, "a second netipsecd on the same socket exits 1; the "
    "first one goes on");
ATF_TC_BODY(socket_in_use, tc)
{
	const char	*args[PT_MAXARGS];
	int		 fd;

	pt_daemon_start(tc, NULL);
	pt_daemon_args(args, PT_SOCKET);
	ATF_CHECK_EQ(run_exit(tc, args), 1);
	fd = pt_connect();
	pt_register(fd, SADB_SATYPE_UNSPEC);
	close(fd);
	pt_daemon_stop();
}

PT_TC(stale_socket, "a socket file nobody listens on is replaced; a file "
    "that is not a socket is left alone (exit 1)");
ATF_TC_BODY(stale_socket, tc)
{
	const char		*args[PT_MAXARGS];
	struct sockaddr_un	 sun;
	struct stat		 st;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, PT_SOCKET, sizeof(sun.sun_path));
	ATF_REQUIRE((fd = socket(AF_UNIX, SOCK_SEQPACKET, 0)) != -1);
	ATF_REQUIRE(bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	close(fd);
	pt_daemon_start(tc, NULL);
	ATF_CHECK(pt_log_contains("removed a stale socket"));
	pt_daemon_stop();

	ATF_REQUIRE((fd = open("plain", O_WRONLY | O_CREAT, 0644)) != -1);
	close(fd);
	pt_daemon_args(args, "plain");
	ATF_CHECK_EQ(run_exit(tc, args), 1);
	ATF_REQUIRE(stat("plain", &st) == 0);
	ATF_CHECK(S_ISREG(st.st_mode));
}

PT_TC(socket_mode, "the socket is 0600, or 0660 with the -g group");
ATF_TC_BODY(socket_mode, tc)
{
	struct stat	st;

	pt_daemon_start(tc, NULL);
	ATF_REQUIRE(stat(PT_SOCKET, &st) == 0);
	ATF_CHECK(S_ISSOCK(st.st_mode));
	/* Not root, the tests run it with -g (our group). */
	if (geteuid() == 0)
		ATF_CHECK_EQ(st.st_mode & 07777, 0600);
	else {
		ATF_CHECK_EQ(st.st_mode & 07777, 0660);
		ATF_CHECK_EQ(st.st_gid, getegid());
	}
	pt_daemon_stop();

	if (geteuid() != 0)
		return;
	pt_daemon_start(tc, "-g", "65534", NULL);
	ATF_REQUIRE(stat(PT_SOCKET, &st) == 0);
	ATF_CHECK_EQ(st.st_mode & 07777, 0660);
	ATF_CHECK_EQ(st.st_gid, 65534);
	pt_daemon_stop();
}

PT_TC(env_socket, "PFKEY_SOCKET names the socket when -s is not given");
ATF_TC_BODY(env_socket, tc)
{
	const char	*args[PT_MAXARGS];
	int		 fd;

	ATF_REQUIRE(setenv("PFKEY_SOCKET", "env.sock", 1) == 0);
	pt_daemon_args(args, NULL);
	pt_daemon_start_args(tc, "env.sock", args);
	fd = pt_connect();
	pt_register(fd, SADB_SATYPE_UNSPEC);
	close(fd);
	pt_daemon_stop();
}

PT_TC(framing_truncated, "a packet longer than any PF_KEY message: the "
    "16-byte EINVAL reply");
ATF_TC_BODY(framing_truncated, tc)
{
	struct pb_msg	 req, rep;
	uint8_t		*big;
	size_t		 len = 65535 * 8 + 8;
	int		 fd, sz = 4 * 1024 * 1024;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) == -1)
		atf_tc_skip("SO_SNDBUFFORCE: %s (a big send needs root)",
		    strerror(errno));
	ATF_REQUIRE((big = calloc(1, len)) != NULL);
	pb_init(&req, SADB_DUMP, SADB_SATYPE_ESP, 77, getpid());
	req.u.hdr.sadb_msg_len = 0xffff;
	memcpy(big, req.u.buf, sizeof(struct sadb_msg));
	pt_send_raw(fd, big, len);
	free(big);
	pt_recv_msg(fd, &rep);
	pt_expect_framing(&req, &rep, EINVAL);
	pt_register(fd, SADB_SATYPE_UNSPEC);
	close(fd);
	pt_daemon_stop();
}

PT_TC(framing_empty, "an empty packet: the 16-byte EINVAL reply, all zero "
    "but the errno and length; the connection stays up");
ATF_TC_BODY(framing_empty, tc)
{
	struct pb_msg	req, rep;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	ATF_REQUIRE(send(fd, "", 0, 0) == 0);
	pt_recv_msg(fd, &rep);
	memset(&req, 0, sizeof(req));
	pt_expect_framing(&req, &rep, EINVAL);
	pt_register(fd, SADB_SATYPE_UNSPEC);
	close(fd);
	pt_daemon_stop();
}

PT_TC(framing_control, "a message with control data (a file descriptor): "
    "the 16-byte EOPNOTSUPP reply, and the descriptor is not kept");
ATF_TC_BODY(framing_control, tc)
{
	struct pb_msg	 req, rep;
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	union {
		struct cmsghdr	hdr;
		uint8_t		buf[CMSG_SPACE(sizeof(int))];
	} cmsg;
	int		 fd, passed;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	pb_init(&req, SADB_REGISTER, SADB_SATYPE_UNSPEC, 88, getpid());
	ATF_REQUIRE((passed = open("/dev/null", O_RDONLY)) != -1);
	memset(&mh, 0, sizeof(mh));
	memset(&cmsg, 0, sizeof(cmsg));
	iov.iov_base = req.u.buf;
	iov.iov_len = req.len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cmsg.buf;
	mh.msg_controllen = sizeof(cmsg.buf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &passed, sizeof(int));
	ATF_REQUIRE(sendmsg(fd, &mh, 0) == (ssize_t)req.len);
	close(passed);
	pt_recv_msg(fd, &rep);
	pt_expect_framing(&req, &rep, EOPNOTSUPP);
	pt_register(fd, SADB_SATYPE_UNSPEC);
	close(fd);
	pt_daemon_stop();
}

PT_TC(slow_dump, "a dump of 5000 SAs arrives whole and in order to a "
    "client that reads slowly, past netipsecd.sendspace, while another "
    "client is served at once");
ATF_TC_BODY(slow_dump, tc)
{
	struct pb_msg	 req, rep;
	uint8_t		*seen;
	uint64_t	 t0;
	uint32_t	 spi;
	int		 fd, other, i, n = 5000;

	pt_daemon_start(tc, "-o", "netipsecd.sendspace=65536", NULL);
	fd = pt_connect();
	for (i = 0; i < n; i++)
		pt_add(fd, 0x100000 + (uint32_t)i, PT_SRC, PT_DST);
	pb_init(&req, SADB_DUMP, SADB_SATYPE_ESP, 99, getpid());
	pt_send(fd, &req);
	usleep(500000);			/* nothing read yet */

	other = pt_connect();
	t0 = now_ms();
	pt_register(other, SADB_SATYPE_UNSPEC);
	ATF_CHECK_MSG(now_ms() - t0 < 1000, "another client waited %ju ms",
	    (uintmax_t)(now_ms() - t0));
	close(other);

	ATF_REQUIRE((seen = calloc((size_t)n, 1)) != NULL);
	for (i = n - 1; i >= 0; i--) {
		if (i % 500 == 0)
			usleep(20000);
		pt_recv_msg(fd, &rep);
		ATF_REQUIRE_MSG(rep.u.hdr.sadb_msg_type == SADB_DUMP &&
		    rep.u.hdr.sadb_msg_errno == 0, "message %d: %s", n - 1 - i,
		    pt_describe(&rep));
		ATF_REQUIRE_EQ_MSG(rep.u.hdr.sadb_msg_seq, (uint32_t)i,
		    "dump seq %u where %d was due", rep.u.hdr.sadb_msg_seq, i);
		spi = pt_spi(&rep) - 0x100000;
		ATF_REQUIRE_MSG(spi < (uint32_t)n && !seen[spi],
		    "SPI %#x dumped twice or unknown", spi + 0x100000);
		seen[spi] = 1;
	}
	free(seen);
	ATF_CHECK_MSG(pt_quiet(fd, 200), "more than %d dump messages", n);
	close(fd);
	pt_daemon_stop();
}

/* A process's resident set, in kB, from /proc/PID/status. */
static long
vmrss_kb(pid_t pid)
{
	FILE	*fp;
	char	 path[64], line[256];
	long	 kb = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	ATF_REQUIRE_MSG((fp = fopen(path, "r")) != NULL, "%s: %s", path,
	    strerror(errno));
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(fp);
	ATF_REQUIRE_MSG(kb > 0, "no VmRSS in %s", path);
	return (kb);
}

/* n ESP SAs from src to dst, SPIs base, base + 1... */
static void
add_many(int fd, uint32_t base, int n, const char *src, const char *dst)
{
	int	i;

	for (i = 0; i < n; i++)
		pt_add(fd, base + (uint32_t)i, src, dst);
}

/*
 * A dump as a client reads it: each message of type "type" and pid ours
 * is checked (no error, seq strictly decreasing) and its SPI marked in
 * seen[spi - base] (n entries); others (broadcasts, other replies) are
 * passed to "other" if not NULL, else skipped.  Stops after "max" dump
 * messages or the one with seq 0; returns how many came.
 */
struct dumpread {
	uint8_t		*seen;
	uint32_t	 base;
	uint32_t	 n;
	uint32_t	 lastseq;
	int		 nmsg;
	int		 done;
	int		 alien;		/* SPIs outside base..base+n */
};

static int
dump_read(int fd, struct dumpread *dr, int max,
    void (*other)(const struct pb_msg *, void *), void *arg)
{
	struct pb_msg	rep;
	uint32_t	spi;
	int		got = 0;

	while (!dr->done && got < max) {
		pt_recv_msg(fd, &rep);
		if (rep.u.hdr.sadb_msg_type != SADB_DUMP ||
		    rep.u.hdr.sadb_msg_pid != (uint32_t)getpid() ||
		    rep.u.hdr.sadb_msg_errno != 0) {
			if (other != NULL)
				other(&rep, arg);
			continue;
		}
		ATF_REQUIRE_MSG(dr->nmsg == 0 ||
		    rep.u.hdr.sadb_msg_seq < dr->lastseq,
		    "dump seq %u after %u", rep.u.hdr.sadb_msg_seq,
		    dr->lastseq);
		dr->lastseq = rep.u.hdr.sadb_msg_seq;
		dr->nmsg++;
		got++;
		dr->done = rep.u.hdr.sadb_msg_seq == 0;
		ATF_REQUIRE_MSG(pt_has_keys(&rep), "a dumped SA without keys");
		spi = pt_spi(&rep) - dr->base;
		if (spi >= dr->n) {
			dr->alien++;
			continue;
		}
		ATF_REQUIRE_MSG(!dr->seen[spi], "SPI %#x dumped twice",
		    spi + dr->base);
		dr->seen[spi] = 1;
	}
	return (got);
}

PT_TC(dump_bounded, "a dump of 20000 SAs to a client that does not read: "
    "netipsecd grows by about netipsecd.sendspace, not by the dump; then "
    "the client reads every SA once, seq down to 0");
ATF_TC_BODY(dump_bounded, tc)
{
	struct dumpread	 dr;
	struct pb_msg	 req;
	long		 rss0, rss1;
	int		 fd, n = 20000;

	pt_daemon_start(tc, "-o", "netipsecd.sendspace=65536", NULL);
	fd = pt_connect();
	add_many(fd, 0x100000, n, PT_SRC, PT_DST);
	rss0 = vmrss_kb(pt_daemon_pid());
	pb_init(&req, SADB_DUMP, SADB_SATYPE_UNSPEC, 1, getpid());
	pt_send(fd, &req);
	usleep(1500000);		/* it goes as far as it may */
	rss1 = vmrss_kb(pt_daemon_pid());
	/* The whole dump, queued, would be some 7 MB. */
	ATF_CHECK_MSG(rss1 - rss0 < 2048, "netipsecd grew by %ld kB (%ld "
	    "to %ld) for a dump nobody reads", rss1 - rss0, rss0, rss1);

	memset(&dr, 0, sizeof(dr));
	ATF_REQUIRE((dr.seen = calloc((size_t)n, 1)) != NULL);
	dr.base = 0x100000;
	dr.n = (uint32_t)n;
	dump_read(fd, &dr, n + 1, NULL, NULL);
	ATF_CHECK(dr.done);
	ATF_CHECK_EQ_MSG(dr.nmsg, n, "%d SAs dumped of %d", dr.nmsg, n);
	ATF_CHECK_EQ(dr.alien, 0);
	free(dr.seen);
	ATF_CHECK_MSG(pt_quiet(fd, 200), "more than %d dump messages", n);
	close(fd);
	pt_daemon_stop();
}

PT_TC(dump_delete, "SAs deleted while their dump waits for the client: "
    "skipped, never read, and the dump still ends with seq 0");
ATF_TC_BODY(dump_delete, tc)
{
	struct dumpread	 dr;
	struct pb_msg	 req, rep;
	int		 fd, other, n = 10000;

	pt_daemon_start(tc, "-o", "netipsecd.sendspace=4096", NULL);
	fd = pt_connect();
	other = pt_connect();
	/* Two SA heads, dumped one after the other. */
	add_many(other, 0x100000, n, PT_SRC, PT_DST);
	add_many(other, 0x100000 + (uint32_t)n, n, "192.0.2.3",
	    "192.0.2.4");
	pt_drain(fd);

	memset(&dr, 0, sizeof(dr));
	ATF_REQUIRE((dr.seen = calloc(2 * (size_t)n, 1)) != NULL);
	dr.base = 0x100000;
	dr.n = 2 * (uint32_t)n;
	pb_init(&req, SADB_DUMP, SADB_SATYPE_ESP, 1, getpid());
	pt_send(fd, &req);
	ATF_REQUIRE_EQ(dump_read(fd, &dr, 100, NULL, NULL), 100);
	/* The second head goes while the dump is in the first. */
	pb_init(&req, SADB_DELETE, SADB_SATYPE_ESP, 2, getpid());
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, "192.0.2.3", 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, "192.0.2.4", 0, 32, 255);
	pt_call(other, &req, &rep);
	pt_expect_ok(&req, &rep);
	dump_read(fd, &dr, 2 * n, NULL, NULL);
	ATF_CHECK_MSG(dr.done, "no seq 0 after %d messages", dr.nmsg);
	ATF_CHECK_EQ_MSG(dr.nmsg, n, "%d SAs dumped, %d were left", dr.nmsg,
	    n);
	ATF_CHECK(memchr(dr.seen, 0, (size_t)n) == NULL);	/* all once */
	ATF_CHECK(memchr(dr.seen + n, 1, (size_t)n) == NULL);	/* none */

	/* Everything goes mid-dump: the client still gets its seq 0. */
	memset(dr.seen, 0, 2 * (size_t)n);
	dr.nmsg = 0;
	dr.done = 0;
	pb_init(&req, SADB_DUMP, SADB_SATYPE_ESP, 3, getpid());
	pt_send(fd, &req);
	ATF_REQUIRE_EQ(dump_read(fd, &dr, 100, NULL, NULL), 100);
	pb_init(&req, SADB_FLUSH, SADB_SATYPE_UNSPEC, 4, getpid());
	pt_call(other, &req, &rep);
	pt_expect_ok(&req, &rep);
	dump_read(fd, &dr, n, NULL, NULL);
	ATF_CHECK_MSG(dr.done, "no seq 0 after %d messages", dr.nmsg);
	ATF_CHECK_MSG(dr.nmsg < n, "all %d SAs dumped after the flush", n);
	free(dr.seen);
	close(other);
	close(fd);
	pt_daemon_stop();
}

struct busyseen {
	int	get, dump_busy, spddump_busy, unexpected;
};

static void
busy_other(const struct pb_msg *m, void *arg)
{
	struct busyseen	*bs = arg;

	if (m->u.hdr.sadb_msg_type == SADB_GET && m->u.hdr.sadb_msg_seq == 2 &&
	    m->u.hdr.sadb_msg_errno == 0)
		bs->get++;
	else if (m->u.hdr.sadb_msg_type == SADB_DUMP &&
	    m->u.hdr.sadb_msg_seq == 3 && m->u.hdr.sadb_msg_errno == EBUSY)
		bs->dump_busy++;
	else if (m->u.hdr.sadb_msg_type == SADB_X_SPDDUMP &&
	    m->u.hdr.sadb_msg_seq == 4 && m->u.hdr.sadb_msg_errno == EBUSY)
		bs->spddump_busy++;
	else {
		fprintf(stderr, "unexpected: %s\n", pt_describe(m));
		bs->unexpected++;
	}
}

PT_TC(dump_busy, "while its dump waits for it, a client's second DUMP or "
    "SPDDUMP gets EBUSY, its other requests are served");
ATF_TC_BODY(dump_busy, tc)
{
	struct busyseen	 bs;
	struct dumpread	 dr;
	struct pb_msg	 req;
	int		 fd, n = 3000;

	pt_daemon_start(tc, "-o", "netipsecd.sendspace=4096", NULL);
	fd = pt_connect();
	add_many(fd, 0x100000, n, PT_SRC, PT_DST);
	pb_init(&req, SADB_DUMP, SADB_SATYPE_ESP, 1, getpid());
	pt_send(fd, &req);
	pb_init(&req, SADB_GET, SADB_SATYPE_ESP, 2, getpid());
	pb_sa(&req, 0x100005, 4, 0, 0, 0);
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, 255);
	pt_send(fd, &req);
	pb_init(&req, SADB_DUMP, SADB_SATYPE_ESP, 3, getpid());
	pt_send(fd, &req);
	pb_init(&req, SADB_X_SPDDUMP, SADB_SATYPE_UNSPEC, 4, getpid());
	pt_send(fd, &req);

	memset(&bs, 0, sizeof(bs));
	memset(&dr, 0, sizeof(dr));
	ATF_REQUIRE((dr.seen = calloc((size_t)n, 1)) != NULL);
	dr.base = 0x100000;
	dr.n = (uint32_t)n;
	dump_read(fd, &dr, n + 1, busy_other, &bs);
	ATF_CHECK(dr.done);
	ATF_CHECK_EQ(dr.nmsg, n);
	/* The replies may come after the dump's last message. */
	while (bs.get + bs.dump_busy + bs.spddump_busy < 3 &&
	    pt_recv(fd, &req, PT_TIMEOUT) > 0)
		busy_other(&req, &bs);
	ATF_CHECK_EQ(bs.get, 1);
	ATF_CHECK_EQ(bs.dump_busy, 1);
	ATF_CHECK_EQ(bs.spddump_busy, 1);
	ATF_CHECK_EQ(bs.unexpected, 0);
	free(dr.seen);

	/* Over: dumps are welcome again. */
	pb_init(&req, SADB_DUMP, SADB_SATYPE_ESP, 5, getpid());
	pt_send(fd, &req);
	memset(&dr, 0, sizeof(dr));
	ATF_REQUIRE((dr.seen = calloc((size_t)n, 1)) != NULL);
	dr.base = 0x100000;
	dr.n = (uint32_t)n;
	dump_read(fd, &dr, n + 1, NULL, NULL);
	ATF_CHECK_EQ(dr.nmsg, n);
	free(dr.seen);
	close(fd);
	pt_daemon_stop();
}

/*
 * A connection that netipsecd serves: REGISTER is answered.  The probe
 * connection of pt_daemon_start() may still count for a moment, so a
 * refusal is retried.
 */
static int
connect_served(void)
{
	struct pb_msg	req, rep;
	int		fd, i;

	for (i = 0; i < 100; i++) {
		fd = pt_connect();
		pb_init(&req, SADB_REGISTER, SADB_SATYPE_UNSPEC, 1, getpid());
		pt_send(fd, &req);
		if (pt_recv(fd, &rep, PT_TIMEOUT) > 0 &&
		    rep.u.hdr.sadb_msg_type == SADB_REGISTER)
			return (fd);
		close(fd);
		usleep(20000);
	}
	atf_tc_fail("no connection served");
}

PT_TC(maxclients, "netipsecd.maxclients: one connection more gets a "
    "sadb_msg with EUSERS and is closed, logged; a place freed is taken");
ATF_TC_BODY(maxclients, tc)
{
	struct pb_msg	 rep;
	const char	*args[] = { "-S", "-s", PT_SOCKET, NULL };
	int		 fds[3], fd, i;

	pt_daemon_start(tc, "-o", "netipsecd.maxclients=3", NULL);
	for (i = 0; i < 3; i++)
		fds[i] = connect_served();
	for (i = 0; i < 2; i++) {
		fd = pt_connect();
		ATF_REQUIRE_MSG(pt_recv(fd, &rep, PT_TIMEOUT) > 0,
		    "connection %d: no refusal", 4 + i);
		ATF_CHECK_MSG(rep.len == sizeof(struct sadb_msg) &&
		    rep.u.hdr.sadb_msg_version == PF_KEY_V2 &&
		    rep.u.hdr.sadb_msg_type == 0 &&
		    rep.u.hdr.sadb_msg_errno == EUSERS &&
		    rep.u.hdr.sadb_msg_len == 2 &&
		    rep.u.hdr.sadb_msg_seq == 0 && rep.u.hdr.sadb_msg_pid == 0,
		    "not the refusal notice: %s", pt_describe(&rep));
		ATF_CHECK_MSG(pt_recv(fd, &rep, PT_TIMEOUT) == 0,
		    "the refused connection is still open");
		close(fd);
	}
	ATF_REQUIRE_MSG(pt_log_wait("netipsecd.maxclients", 2000),
	    "the refusal was not logged");
	/* One line for the two: the log is rate-limited. */
	ATF_CHECK(pt_log_contains("3 clients connected"));
	ATF_CHECK(pt_log_contains("1 refused so far"));
	ATF_CHECK(!pt_log_contains("2 refused so far"));
	/* The others are still served; a place freed is taken. */
	pt_register(fds[1], SADB_SATYPE_UNSPEC);
	close(fds[0]);
	fds[0] = connect_served();
	if (geteuid() == 0) {
		/* -S counts them (only root may ask). */
		ATF_CHECK_EQ(run_exit(tc, args), 0);
		ATF_CHECK(pt_log_contains("2 connections refused "
		    "(netipsecd.maxclients)"));
	}
	for (i = 0; i < 3; i++)
		close(fds[i]);
	pt_daemon_stop();
}

PT_TC(no_core, "no core dumps: RLIMIT_CORE 0; /proc/PID/status is still "
    "readable; the process is not dumpable (checked when not root)");
ATF_TC_BODY(no_core, tc)
{
	FILE	*fp;
	char	 path[64], line[256];
	long	 soft = -1, hard = -1;
	int	 fd;

	pt_daemon_start(tc, NULL);
	ATF_CHECK(vmrss_kb(pt_daemon_pid()) > 0);
	snprintf(path, sizeof(path), "/proc/%ld/limits",
	    (long)pt_daemon_pid());
	ATF_REQUIRE((fp = fopen(path, "r")) != NULL);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "Max core file size %ld %ld", &soft,
		    &hard) == 2)
			break;
	fclose(fp);
	ATF_CHECK_EQ_MSG(soft, 0, "core size limit %ld", soft);
	ATF_CHECK_EQ_MSG(hard, 0, "core size hard limit %ld", hard);
	/*
	 * A dumpable process of our own user would let us read its
	 * environment; root reads it anyway.
	 */
	if (geteuid() != 0) {
		snprintf(path, sizeof(path), "/proc/%ld/environ",
		    (long)pt_daemon_pid());
		fd = open(path, O_RDONLY);
		ATF_CHECK_MSG(fd == -1 && errno == EACCES,
		    "%s readable: the process is dumpable", path);
		if (fd != -1)
			close(fd);
	}
	pt_daemon_stop();
}

/* The drop count netipsecd logged when a connection closed, or -1. */
static long
logged_drops(void)
{
	FILE	*fp;
	char	 line[512], *p;
	long	 n = -1;

	if ((fp = fopen(PT_LOG, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), fp) != NULL)
		if ((p = strstr(line, " messages dropped")) != NULL) {
			while (p > line && p[-1] >= '0' && p[-1] <= '9')
				p--;
			n = strtol(p, NULL, 10);
		}
	fclose(fp);
	return (n);
}

PT_TC(slow_registered, "a registered socket that does not read loses "
    "broadcasts, counted, while the sender is served without delay");
ATF_TC_BODY(slow_registered, tc)
{
	struct pb_msg	rep;
	uint64_t	t0;
	long		drops;
	int		reg, fd, i, got = 0, n = 3000;

	pt_daemon_start(tc, "-o", "netipsecd.sendspace=16384", NULL);
	reg = pt_connect();
	pt_register(reg, SADB_SATYPE_ESP);
	fd = pt_connect();
	t0 = now_ms();
	for (i = 0; i < n; i++)
		pt_add(fd, 0x200000 + (uint32_t)i, PT_SRC, PT_DST);
	ATF_CHECK_MSG(now_ms() - t0 < 30000, "%d ADDs took %ju ms", n,
	    (uintmax_t)(now_ms() - t0));

	while (pt_recv(reg, &rep, 500) > 0)
		if (rep.u.hdr.sadb_msg_type == SADB_ADD)
			got++;
	ATF_CHECK_MSG(got > 0 && got < n, "the reader got %d of %d "
	    "broadcasts", got, n);
	close(reg);
	ATF_REQUIRE_MSG(pt_log_wait("messages dropped", 5000),
	    "no drop count logged");
	drops = logged_drops();
	ATF_CHECK_EQ_MSG(got + drops, n, "%d received + %ld dropped != %d",
	    got, drops, n);
	close(fd);
	pt_daemon_stop();
}

PT_TC(many_clients, "100 clients, half of them gone without reading: the "
    "others are served and the daemon exits cleanly");
ATF_TC_BODY(many_clients, tc)
{
	struct pb_msg	rep;
	int		fds[100], i, fd;

	pt_daemon_start(tc, NULL);
	for (i = 0; i < 100; i++) {
		fds[i] = pt_connect();
		pt_register(fds[i], SADB_SATYPE_ESP);
	}
	for (i = 0; i < 100; i += 2)
		close(fds[i]);
	fd = pt_connect();
	pt_add(fd, 0x3000, PT_SRC, PT_DST);
	for (i = 1; i < 100; i += 2) {
		ATF_CHECK_MSG(pt_recv_type(fds[i], SADB_ADD, &rep,
		    PT_TIMEOUT) == 0, "client %d missed the ADD", i);
	}
	close(fd);
	pt_daemon_stop();
	for (i = 1; i < 100; i += 2)
		close(fds[i]);
}

PT_TC(half_close, "a client that shuts down its sending side still gets "
    "the replies due, then end of file");
ATF_TC_BODY(half_close, tc)
{
	struct pb_msg	req, rep;
	int		fd, i;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	for (i = 0; i < 100; i++)
		pt_add(fd, 0x4000 + (uint32_t)i, PT_SRC, PT_DST);
	pb_init(&req, SADB_DUMP, SADB_SATYPE_ESP, 7, getpid());
	pt_send(fd, &req);
	ATF_REQUIRE(shutdown(fd, SHUT_WR) == 0);
	for (i = 99; i >= 0; i--) {
		pt_recv_msg(fd, &rep);
		ATF_REQUIRE_EQ(rep.u.hdr.sadb_msg_seq, (uint32_t)i);
	}
	ATF_CHECK_MSG(pt_recv(fd, &rep, PT_TIMEOUT) == 0,
	    "no end of file after the replies");
	close(fd);
	pt_daemon_stop();
}

PT_TC_ROOT(refuse_nonroot, "a client that is not root is refused: closed "
    "at once and logged with its pid and uid");
ATF_TC_BODY(refuse_nonroot, tc)
{
	char	line[128];
	int	fd, r;

	private_netns();
	pt_daemon_start_at(tc, NULL, NULL);
	fd = pt_connect();
	pt_register(fd, SADB_SATYPE_UNSPEC);
	r = child_try(65534, 65534);
	ATF_CHECK_EQ_MSG(r, 1, "uid 65534: child result %d (0: served, "
	    "1: refused)", r);
	snprintf(line, sizeof(line), "uid 65534");
	ATF_CHECK_MSG(pt_log_wait(line, 2000), "the refusal was not logged");
	ATF_CHECK(pt_log_contains("refused pid"));
	pt_register(fd, SADB_SATYPE_UNSPEC);
	close(fd);
	pt_daemon_stop();
}

PT_TC_ROOT(group_access, "-g group lets in its members: by the peer's "
    "group, or by the user's supplementary groups; others stay out");
ATF_TC_BODY(group_access, tc)
{
	struct passwd	*pw;
	int		 r;

	if ((pw = getpwnam("nobody")) == NULL)
		atf_tc_skip("no user nobody");
	private_netns();
	pt_daemon_start_at(tc, NULL, "-g", "65534", NULL);
	if (pw->pw_gid == 65534) {
		r = child_try(pw->pw_uid, 12345);
		ATF_CHECK_EQ_MSG(r, 0, "nobody, gid 12345 (user in group "
		    "65534): child result %d", r);
	}
	r = child_try(54321, 65534);
	ATF_CHECK_EQ_MSG(r, 0, "uid 54321 gid 65534: child result %d", r);
	r = child_try(54321, 12345);
	ATF_CHECK_EQ_MSG(r, 1, "uid 54321 gid 12345: child result %d", r);
	pt_daemon_stop();
}

PT_TC_ROOT(abstract_netns, "the default abstract address: one netipsecd "
    "per network namespace, unseen from another namespace");
ATF_TC_BODY(abstract_netns, tc)
{
	const char	*args[PT_MAXARGS];
	pid_t		 pid;
	int		 fd, status;

	private_netns();
	pt_daemon_start_at(tc, NULL, NULL);
	pt_daemon_args(args, NULL);
	ATF_CHECK_EQ(run_exit(tc, args), 1);
	ATF_CHECK(pt_log_contains("another netipsecd runs in this network "
	    "namespace"));

	ATF_REQUIRE((pid = fork()) != -1);
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) == -1)
			_exit(2);
		_exit(pt_connect_abstract("netipsec.pfkey") == -1 ? 0 : 1);
	}
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	ATF_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "reached netipsecd from another namespace (status %#x)", status);

	fd = pt_connect();
	pt_register(fd, SADB_SATYPE_UNSPEC);
	close(fd);
	pt_daemon_stop();
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, sigterm);
	ATF_TP_ADD_TC(tp, sigint);
	ATF_TP_ADD_TC(tp, sighup);
	ATF_TP_ADD_TC(tp, bad_tunable);
	ATF_TP_ADD_TC(tp, show_tunables);
	ATF_TP_ADD_TC(tp, usage);
	ATF_TP_ADD_TC(tp, pidfile);
	ATF_TP_ADD_TC(tp, daemonize);
	ATF_TP_ADD_TC(tp, socket_in_use);
	ATF_TP_ADD_TC(tp, stale_socket);
	ATF_TP_ADD_TC(tp, socket_mode);
	ATF_TP_ADD_TC(tp, env_socket);
	ATF_TP_ADD_TC(tp, framing_truncated);
	ATF_TP_ADD_TC(tp, framing_empty);
	ATF_TP_ADD_TC(tp, framing_control);
	ATF_TP_ADD_TC(tp, slow_dump);
	ATF_TP_ADD_TC(tp, slow_registered);
	ATF_TP_ADD_TC(tp, dump_bounded);
	ATF_TP_ADD_TC(tp, dump_delete);
	ATF_TP_ADD_TC(tp, dump_busy);
	ATF_TP_ADD_TC(tp, maxclients);
	ATF_TP_ADD_TC(tp, no_core);
	ATF_TP_ADD_TC(tp, many_clients);
	ATF_TP_ADD_TC(tp, half_close);
	ATF_TP_ADD_TC(tp, refuse_nonroot);
	ATF_TP_ADD_TC(tp, group_access);
	ATF_TP_ADD_TC(tp, abstract_netns);
	return (atf_no_error());
}
