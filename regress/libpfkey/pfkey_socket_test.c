/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The transport: pfkey_open() reaching a netipsecd stand-in at
 * $PFKEY_SOCKET and at the default abstract address, pfkey_recv() on
 * good, malformed and framing-error packets, and the LD_PRELOAD shim
 * turning socket(PF_KEY) of an unmodified program into a connection.
 */

#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <limits.h>
#include <stddef.h>

#include "libpfkey_test.h"

/* A listening SOCK_SEQPACKET socket at path (NULL: the default). */
static int
t_listen(const char *path)
{
	struct sockaddr_un sun;
	socklen_t len;
	int s;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path != NULL) {
		ATF_REQUIRE(strlen(path) < sizeof(sun.sun_path));
		strcpy(sun.sun_path, path);
		len = sizeof(sun);
	} else {
		memcpy(sun.sun_path + 1, PFKEY_UNIX_ABSTRACT,
		    strlen(PFKEY_UNIX_ABSTRACT));
		len = offsetof(struct sockaddr_un, sun_path) + 1 +
		    strlen(PFKEY_UNIX_ABSTRACT);
	}
	ATF_REQUIRE((s = socket(AF_UNIX, SOCK_SEQPACKET, 0)) >= 0);
	if (bind(s, (struct sockaddr *)&sun, len) < 0) {
		if (path == NULL && errno == EADDRINUSE)
			atf_tc_skip("a netipsecd already listens at the "
			    "default address in this network namespace");
		atf_tc_fail("bind: %s", strerror(errno));
	}
	ATF_REQUIRE(listen(s, 4) == 0);
	return (s);
}

/* A path for a socket in the test's work directory. */
static char *
t_sockpath(void)
{
	static char path[PATH_MAX];

	ATF_REQUIRE(getcwd(path, sizeof(path) - 16) != NULL);
	strcat(path, "/pfkey.sock");
	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		/* A deep work directory: fall back to /tmp. */
		snprintf(path, sizeof(path), "/tmp/pfkey_test.%ld.sock",
		    (long)getpid());
	}
	(void)unlink(path);
	return (path);
}

/* Send a flush through so, check it arrives intact at the server. */
static void
t_exchange(int so, int ls)
{
	struct sadb_msg *m;
	struct pb_msg reply;
	size_t len;
	int cs;

	ATF_REQUIRE((cs = accept(ls, NULL, NULL)) >= 0);
	ATF_REQUIRE_EQ(pfkey_send_flush(so, SADB_SATYPE_ESP), 16);
	m = t_read(cs, &len);
	ATF_CHECK_EQ(len, 16);
	ATF_CHECK_EQ(m->sadb_msg_type, SADB_FLUSH);
	ATF_CHECK_EQ(m->sadb_msg_satype, SADB_SATYPE_ESP);
	free(m);

	pb_init(&reply, SADB_FLUSH, SADB_SATYPE_ESP, 0, 1);
	ATF_REQUIRE(send(cs, reply.u.buf, reply.len, 0) == 16);
	m = pfkey_recv(so);
	ATF_REQUIRE(m != NULL);
	ATF_CHECK_EQ(m->sadb_msg_type, SADB_FLUSH);
	free(m);
	close(cs);
}

ATF_TC_WITHOUT_HEAD(open_env_path);
ATF_TC_BODY(open_env_path, tc)
{
	char *path;
	int ls, so, fl;

	path = t_sockpath();
	ls = t_listen(path);
	ATF_REQUIRE(setenv(PFKEY_SOCKET_ENV, path, 1) == 0);
	so = pfkey_open();
	ATF_REQUIRE_MSG(so >= 0, "pfkey_open: %s", ipsec_strerror());
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_NO_ERROR);
	/* Not leaked to programs the caller executes. */
	ATF_REQUIRE((fl = fcntl(so, F_GETFD)) >= 0);
	ATF_CHECK(fl & FD_CLOEXEC);
	t_exchange(so, ls);
	pfkey_close(so);

	so = pfkey_open_path(path);
	ATF_REQUIRE(so >= 0);
	t_exchange(so, ls);
	pfkey_close(so);
	close(ls);
	unlink(path);
}

ATF_TC_WITHOUT_HEAD(open_fails);
ATF_TC_BODY(open_fails, tc)
{
	char *path;

	path = t_sockpath();
	ATF_REQUIRE(setenv(PFKEY_SOCKET_ENV, path, 1) == 0);
	ATF_CHECK_EQ(pfkey_open(), -1);
	ATF_CHECK_EQ(errno, ENOENT);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_SYSTEM_ERROR);
	ATF_CHECK_STREQ(ipsec_strerror(), strerror(ENOENT));

	ATF_CHECK_EQ(pfkey_open_path("/nonexistent/dir/pfkey.sock"), -1);
	ATF_CHECK_EQ(errno, ENOENT);
	ATF_CHECK_EQ(pfkey_open_path(""), -1);
	{
		char longpath[200];

		memset(longpath, 'x', sizeof(longpath) - 1);
		longpath[sizeof(longpath) - 1] = '\0';
		ATF_CHECK_EQ(pfkey_open_path(longpath), -1);
		ATF_CHECK_EQ(errno, ENAMETOOLONG);
	}
}

ATF_TC_WITHOUT_HEAD(open_default);
ATF_TC_BODY(open_default, tc)
{
	int ls, so;

	ATF_REQUIRE(unsetenv(PFKEY_SOCKET_ENV) == 0);
	ls = t_listen(NULL);
	so = pfkey_open();
	ATF_REQUIRE_MSG(so >= 0, "pfkey_open: %s", ipsec_strerror());
	t_exchange(so, ls);
	pfkey_close(so);

	/* An empty variable means the default too. */
	ATF_REQUIRE(setenv(PFKEY_SOCKET_ENV, "", 1) == 0);
	so = pfkey_open();
	ATF_REQUIRE(so >= 0);
	t_exchange(so, ls);
	pfkey_close(so);
	close(ls);
}

ATF_TC_WITHOUT_HEAD(recv_messages);
ATF_TC_BODY(recv_messages, tc)
{
	struct pb_msg m;
	struct sadb_msg *r, hdr;
	struct sadb_sa sa;
	int sv[2];

	t_sockpair(sv);

	/* A message is returned in a buffer of exactly its size. */
	pb_init(&m, SADB_GET, SADB_SATYPE_ESP, 5, 6);
	memset(&sa, 0, sizeof(sa));
	pb_ext_copy(&m, SADB_EXT_SA, &sa, sizeof(sa));
	ATF_REQUIRE(send(sv[1], m.u.buf, m.len, 0) == 32);
	r = pfkey_recv(sv[0]);
	ATF_REQUIRE_MSG(r != NULL, "%s", ipsec_strerror());
	ATF_CHECK(memcmp(r, m.u.buf, 32) == 0);
	free(r);

	/* The largest message PF_KEY can describe. */
	pb_init(&m, SADB_DUMP, SADB_SATYPE_ESP, 0, 0);
	pb_hdr(&m)->sadb_msg_len = 0xffff;
	{
		char *big;

		ATF_REQUIRE((big = calloc(1, 0xffff * 8)) != NULL);
		memcpy(big, m.u.buf, 16);
		ATF_REQUIRE(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF,
		    &(int){ 1 << 20 }, sizeof(int)) == 0);
		if (send(sv[1], big, 0xffff * 8, 0) == 0xffff * 8) {
			r = pfkey_recv(sv[0]);
			ATF_REQUIRE_MSG(r != NULL, "%s", ipsec_strerror());
			ATF_CHECK_EQ(r->sadb_msg_len, 0xffff);
			free(r);
		}
		free(big);
	}

	/* A header that claims less than the packet holds: dropped. */
	pb_init(&m, SADB_GET, SADB_SATYPE_ESP, 0, 0);
	pb_ext_copy(&m, SADB_EXT_SA, &sa, sizeof(sa));
	pb_hdr(&m)->sadb_msg_len = 2;
	ATF_REQUIRE(send(sv[1], m.u.buf, 32, 0) == 32);
	ATF_CHECK(pfkey_recv(sv[0]) == NULL);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_SADBMSG);
	t_nothing_sent(sv[0]);

	/* ... or more. */
	pb_hdr(&m)->sadb_msg_len = 6;
	ATF_REQUIRE(send(sv[1], m.u.buf, 32, 0) == 32);
	ATF_CHECK(pfkey_recv(sv[0]) == NULL);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_SADBMSG);
	t_nothing_sent(sv[0]);

	/* Shorter than a header. */
	ATF_REQUIRE(send(sv[1], m.u.buf, 10, 0) == 10);
	ATF_CHECK(pfkey_recv(sv[0]) == NULL);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_INVAL_SADBMSG);
	t_nothing_sent(sv[0]);

	/*
	 * netipsecd's answer to a framing error: the 16 header bytes it
	 * read, with sadb_msg_errno set, whatever their length said.
	 */
	memset(&hdr, 0, sizeof(hdr));
	hdr.sadb_msg_version = PF_KEY_V2;
	hdr.sadb_msg_type = SADB_ADD;
	hdr.sadb_msg_len = 40;
	hdr.sadb_msg_errno = EINVAL;
	hdr.sadb_msg_seq = 17;
	ATF_REQUIRE(send(sv[1], &hdr, sizeof(hdr), 0) == 16);
	r = pfkey_recv(sv[0]);
	ATF_REQUIRE_MSG(r != NULL, "%s", ipsec_strerror());
	ATF_CHECK_EQ(r->sadb_msg_errno, EINVAL);
	ATF_CHECK_EQ(r->sadb_msg_len, 2);
	ATF_CHECK_EQ(r->sadb_msg_type, SADB_ADD);
	ATF_CHECK_EQ(r->sadb_msg_seq, 17);
	free(r);
	hdr.sadb_msg_len = 0;
	ATF_REQUIRE(send(sv[1], &hdr, sizeof(hdr), 0) == 16);
	r = pfkey_recv(sv[0]);
	ATF_REQUIRE(r != NULL);
	ATF_CHECK_EQ(r->sadb_msg_len, 2);
	free(r);
	/* Without errno a bad length is just a bad message. */
	hdr.sadb_msg_errno = 0;
	ATF_REQUIRE(send(sv[1], &hdr, sizeof(hdr), 0) == 16);
	ATF_CHECK(pfkey_recv(sv[0]) == NULL);

	/* The peer went away: an error, not a hang or a spin. */
	close(sv[1]);
	ATF_CHECK(pfkey_recv(sv[0]) == NULL);
	ATF_CHECK_EQ(errno, ECONNRESET);
	ATF_CHECK_EQ(__ipsec_errcode, EIPSEC_SYSTEM_ERROR);
	close(sv[0]);
}

/*
 * The shim: h_preload_test, run with LD_PRELOAD, opens
 * socket(PF_KEY, SOCK_RAW, PF_KEY_V2) itself, sends a flush, prints
 * the reply's type and makes a UDP socket (not intercepted).
 */
ATF_TC(preload);
ATF_TC_HEAD(preload, tc)
{

	atf_tc_set_md_var(tc, "descr", "libpfkey_preload.so connects an "
	    "unmodified PF_KEY program to netipsecd");
}
ATF_TC_BODY(preload, tc)
{
	char helper[PATH_MAX], shim[PATH_MAX], *path, out[64];
	struct sadb_msg *m;
	struct pb_msg reply;
	size_t len;
	ssize_t n;
	pid_t pid;
	int ls, cs, pfd[2], status;

	snprintf(helper, sizeof(helper), "%s/h_preload_test",
	    atf_tc_get_config_var_wd(tc, "srcdir", "."));
	snprintf(shim, sizeof(shim), "%s/../../lib/libpfkey/"
	    "libpfkey_preload.so", atf_tc_get_config_var_wd(tc, "srcdir", "."));
	if (access(helper, X_OK) != 0 || access(shim, R_OK) != 0)
		atf_tc_fail("%s or %s is not built", helper, shim);

	path = t_sockpath();
	ls = t_listen(path);
	ATF_REQUIRE(pipe(pfd) == 0);
	ATF_REQUIRE((pid = fork()) >= 0);
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		close(pfd[0]);
		setenv(PFKEY_SOCKET_ENV, path, 1);
		setenv("LD_PRELOAD", shim, 1);
		execl(helper, helper, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);

	ATF_REQUIRE((cs = accept(ls, NULL, NULL)) >= 0);
	m = t_read_wait(cs, &len);
	ATF_CHECK_EQ(len, 16);
	ATF_CHECK_EQ(m->sadb_msg_type, SADB_FLUSH);
	free(m);
	pb_init(&reply, SADB_FLUSH, 0, 0, 0);
	pb_hdr(&reply)->sadb_msg_errno = 0;
	ATF_REQUIRE(send(cs, reply.u.buf, reply.len, 0) == 16);

	memset(out, 0, sizeof(out));
	n = read(pfd[0], out, sizeof(out) - 1);
	ATF_REQUIRE(n > 0);
	ATF_REQUIRE(waitpid(pid, &status, 0) == pid);
	ATF_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "helper failed (status %d), said \"%s\"", status, out);
	ATF_CHECK_STREQ(out, "reply type 9 udp ok\n");
	close(cs);
	close(ls);
	unlink(path);
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, open_env_path);
	ATF_TP_ADD_TC(tp, open_fails);
	ATF_TP_ADD_TC(tp, open_default);
	ATF_TP_ADD_TC(tp, recv_messages);
	ATF_TP_ADD_TC(tp, preload);
	return (atf_no_error());
}
