/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Helpers of the netipsecd regression tests (pfkey_test.h).
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netipsec/ipsec.h>

#include "pfkey_test.h"

#define	PT_CHILDFILE	"netipsecd.child"	/* for the cleanup */

static pid_t	pt_dpid = -1;
static char	pt_dsock[PATH_MAX];	/* "" = abstract */
static int	pt_dabstract;

const uint8_t pt_enckey[16] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff
};
const uint8_t pt_authkey[32] = {
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
	0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
	0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
	0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf
};

static uint64_t
pt_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/*
 * The netipsecd under test: the "netipsecd" configuration variable, else
 * $NETIPSECD, else the one built in the tree beside these tests.
 */
const char *
pt_netipsecd(const atf_tc_t *tc)
{
	static char	 path[PATH_MAX];
	const char	*s;

	if (atf_tc_has_config_var(tc, "netipsecd"))
		return (atf_tc_get_config_var(tc, "netipsecd"));
	if ((s = getenv("NETIPSECD")) != NULL && *s != '\0')
		return (s);
	snprintf(path, sizeof(path), "%s/../../sbin/netipsecd/netipsecd",
	    atf_tc_get_config_var_wd(tc, "srcdir", "."));
	return (path);
}

/* Start netipsecd with args (argv[0] excluded); output to PT_LOG. */
pid_t
pt_daemon_spawn(const atf_tc_t *tc, const char *const *args)
{
	const char	*argv[PT_MAXARGS];
	const char	*path = pt_netipsecd(tc);
	pid_t		 pid;
	int		 fd, i;

	if (access(path, X_OK) == -1)
		atf_tc_fail("netipsecd not found at %s (build sbin/netipsecd "
		    "or set the netipsecd variable)", path);
	argv[0] = path;
	for (i = 0; args[i] != NULL && i < PT_MAXARGS - 2; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;

	ATF_REQUIRE((pid = fork()) != -1);
	if (pid == 0) {
		fd = open(PT_LOG, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd != -1) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		execv(path, (char *const *)argv);
		_exit(127);
	}
	return (pid);
}

/* Wait for a process: its wait status, or -1 (then killed) on timeout. */
int
pt_daemon_wait(pid_t pid, int timeout_ms)
{
	uint64_t	end = pt_now_ms() + (uint64_t)timeout_ms;
	int		status;
	pid_t		r;

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return (status);
		if (r == -1 && errno != EINTR)
			return (-1);
		if (pt_now_ms() > end)
			break;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return (-1);
}

/*
 * Start netipsecd with these arguments and wait until it accepts
 * connections at sockpath (NULL: the abstract address).
 */
void
pt_daemon_start_args(const atf_tc_t *tc, const char *sockpath,
    const char *const *args)
{
	uint64_t	 end;
	FILE		*fp;
	int		 fd, status;

	pt_dabstract = sockpath == NULL;
	strlcpy(pt_dsock, sockpath != NULL ? sockpath : "", sizeof(pt_dsock));
	pt_dpid = pt_daemon_spawn(tc, args);
	if ((fp = fopen(PT_CHILDFILE, "w")) != NULL) {
		fprintf(fp, "%ld\n", (long)pt_dpid);
		fclose(fp);
	}

	/* Up when it accepts a connection. */
	end = pt_now_ms() + 10000;
	for (;;) {
		fd = pt_dabstract ? pt_connect_abstract("netipsec.pfkey") :
		    pt_connect_path(pt_dsock);
		if (fd != -1) {
			close(fd);
			return;
		}
		if (waitpid(pt_dpid, &status, WNOHANG) == pt_dpid) {
			pt_dpid = -1;
			pt_log_print();
			atf_tc_fail("netipsecd exited at start (status %#x)",
			    status);
		}
		if (pt_now_ms() > end) {
			pt_log_print();
			atf_tc_fail("netipsecd did not come up in 10 s");
		}
		usleep(10000);
	}
}

/* -d, -s sockpath unless NULL, -g our group unless root, then ap. */
static void
pt_daemon_vstart(const atf_tc_t *tc, const char *sockpath, va_list ap)
{
	const char	*args[PT_MAXARGS];
	const char	*a;
	int		 n;

	n = pt_daemon_args(args, sockpath);
	while ((a = va_arg(ap, const char *)) != NULL && n < PT_MAXARGS - 1)
		args[n++] = a;
	args[n] = NULL;
	pt_daemon_start_args(tc, sockpath, args);
}

/*
 * The arguments every test daemon gets: -d, -s sockpath (unless NULL),
 * and -g our group when we are not root, so that we may connect.
 */
int
pt_daemon_args(const char **args, const char *sockpath)
{
	static char	gid[32];
	int		n = 0;

	args[n++] = "-d";
	if (sockpath != NULL) {
		args[n++] = "-s";
		args[n++] = sockpath;
	}
	if (geteuid() != 0) {
		snprintf(gid, sizeof(gid), "%lu", (unsigned long)getegid());
		args[n++] = "-g";
		args[n++] = gid;
	}
	args[n] = NULL;
	return (n);
}

void
pt_daemon_start(const atf_tc_t *tc, ...)
{
	va_list	ap;

	va_start(ap, tc);
	pt_daemon_vstart(tc, PT_SOCKET, ap);
	va_end(ap);
}

/* sockpath NULL: the default, abstract, address. */
void
pt_daemon_start_at(const atf_tc_t *tc, const char *sockpath, ...)
{
	va_list	ap;

	va_start(ap, sockpath);
	pt_daemon_vstart(tc, sockpath, ap);
	va_end(ap);
}

pid_t
pt_daemon_pid(void)
{
	return (pt_dpid);
}

/* SIGTERM: netipsecd must exit 0 and remove its socket. */
void
pt_daemon_stop(void)
{
	int	status;

	ATF_REQUIRE(pt_dpid != -1);
	ATF_REQUIRE(kill(pt_dpid, SIGTERM) == 0);
	status = pt_daemon_wait(pt_dpid, 10000);
	pt_dpid = -1;
	unlink(PT_CHILDFILE);
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		pt_log_print();
	ATF_REQUIRE_MSG(status != -1, "netipsecd ignored SIGTERM for 10 s");
	ATF_REQUIRE_MSG(WIFEXITED(status),
	    "netipsecd died of signal %d", WTERMSIG(status));
	ATF_REQUIRE_EQ_MSG(WEXITSTATUS(status), 0,
	    "netipsecd exited %d after SIGTERM", WEXITSTATUS(status));
	if (!pt_dabstract)
		ATF_CHECK_MSG(access(pt_dsock, F_OK) == -1 && errno == ENOENT,
		    "%s left behind", pt_dsock);
	if (pt_log_contains("ERROR: AddressSanitizer") ||
	    pt_log_contains("ERROR: LeakSanitizer") ||
	    pt_log_contains("WARNING: ThreadSanitizer") ||
	    pt_log_contains("runtime error:")) {
		pt_log_print();
		atf_tc_fail("netipsecd: sanitizer report");
	}
}

/* The cleanup routine: a daemon the body left running is killed. */
void
pt_daemon_cleanup(void)
{
	FILE	*fp;
	long	 pid;

	if ((fp = fopen(PT_CHILDFILE, "r")) == NULL)
		return;
	if (fscanf(fp, "%ld", &pid) == 1 && pid > 1)
		kill((pid_t)pid, SIGKILL);
	fclose(fp);
	unlink(PT_CHILDFILE);
}

static char *
pt_log_read(void)
{
	FILE	*fp;
	char	*buf;
	long	 len;

	if ((fp = fopen(PT_LOG, "r")) == NULL)
		return (NULL);
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	if (len < 0 || (buf = calloc(1, (size_t)len + 1)) == NULL) {
		fclose(fp);
		return (NULL);
	}
	len = (long)fread(buf, 1, (size_t)len, fp);
	buf[len] = '\0';
	fclose(fp);
	return (buf);
}

int
pt_log_contains(const char *s)
{
	char	*buf;
	int	 found;

	if ((buf = pt_log_read()) == NULL)
		return (0);
	found = strstr(buf, s) != NULL;
	free(buf);
	return (found);
}

int
pt_log_wait(const char *s, int timeout_ms)
{
	uint64_t	end = pt_now_ms() + (uint64_t)timeout_ms;

	while (!pt_log_contains(s)) {
		if (pt_now_ms() > end)
			return (0);
		usleep(20000);
	}
	return (1);
}

void
pt_log_print(void)
{
	char	*buf;

	if ((buf = pt_log_read()) == NULL)
		return;
	fprintf(stderr, "--- %s ---\n%s--- end ---\n", PT_LOG, buf);
	free(buf);
}

int
pt_connect_path(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

int
pt_connect_abstract(const char *name)
{
	struct sockaddr_un	sun;
	socklen_t		len;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, name, strlen(name));
	len = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&sun, len) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/* A new PF_KEY socket to the running netipsecd. */
int
pt_connect(void)
{
	int	fd;

	fd = pt_dabstract ? pt_connect_abstract("netipsec.pfkey") :
	    pt_connect_path(pt_dsock);
	ATF_REQUIRE_MSG(fd != -1, "connect to netipsecd: %s",
	    strerror(errno));
	return (fd);
}

/* One message; 0 at end of file, -1 on timeout. */
ssize_t
pt_recv(int fd, struct pb_msg *m, int timeout_ms)
{
	struct pollfd	pfd;
	ssize_t		n;

	memset(m, 0, sizeof(*m));
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		n = poll(&pfd, 1, timeout_ms);
		if (n == -1 && errno == EINTR)
			continue;
		ATF_REQUIRE_MSG(n != -1, "poll: %s", strerror(errno));
		if (n == 0)
			return (-1);
		n = recv(fd, m->u.buf, sizeof(m->u.buf), MSG_TRUNC);
		if (n == -1 && errno == ECONNRESET)
			return (0);
		ATF_REQUIRE_MSG(n != -1, "recv: %s", strerror(errno));
		ATF_REQUIRE_MSG((size_t)n <= sizeof(m->u.buf),
		    "a %zd-byte message: too long for the tests", n);
		m->len = (size_t)n;
		return (n);
	}
}

void
pt_recv_msg(int fd, struct pb_msg *m)
{
	ssize_t	n;

	n = pt_recv(fd, m, PT_TIMEOUT);
	ATF_REQUIRE_MSG(n != -1, "no message from netipsecd in %d ms",
	    PT_TIMEOUT);
	ATF_REQUIRE_MSG(n != 0, "netipsecd closed the connection");
}

/* Skip messages until one of this type comes: 0, or -1 on timeout. */
int
pt_recv_type(int fd, uint8_t type, struct pb_msg *m, int timeout_ms)
{
	uint64_t	end = pt_now_ms() + (uint64_t)timeout_ms;
	int64_t		left;
	ssize_t		n;

	for (;;) {
		left = (int64_t)(end - pt_now_ms());
		if ((uint64_t)pt_now_ms() >= end)
			left = 0;
		n = pt_recv(fd, m, (int)left);
		if (n == -1)
			return (-1);
		ATF_REQUIRE_MSG(n != 0, "netipsecd closed the connection");
		if (m->len >= sizeof(struct sadb_msg) &&
		    pb_hdr(m)->sadb_msg_type == type)
			return (0);
	}
}

/* 1 if no message comes for timeout_ms. */
int
pt_quiet(int fd, int timeout_ms)
{
	struct pb_msg	m;

	return (pt_recv(fd, &m, timeout_ms) == -1);
}

void
pt_drain(int fd)
{
	struct pb_msg	m;

	while (pt_recv(fd, &m, 100) > 0)
		;
}

/* Send as built (sadb_msg_len is kept up to date by the builders). */
void
pt_send(int fd, struct pb_msg *m)
{
	pt_send_raw(fd, m->u.buf, m->len);
}

void
pt_send_raw(int fd, const void *buf, size_t len)
{
	ssize_t	n;

	n = send(fd, buf, len, MSG_NOSIGNAL);
	ATF_REQUIRE_MSG(n == (ssize_t)len, "send %zu bytes: %s", len,
	    n == -1 ? strerror(errno) : "short");
}

const void *
pt_ext(const struct pb_msg *m, uint16_t exttype)
{
	return (pb_getext(m->u.buf, m->len, exttype));
}

/* The message is whole and its extensions add up to its length. */
int
pt_wellformed(const struct pb_msg *m)
{
	const struct sadb_ext	*ext;
	size_t			 off, len;

	if (m->len < sizeof(struct sadb_msg) ||
	    PFKEY_UNUNIT64((size_t)m->u.hdr.sadb_msg_len) != m->len ||
	    m->u.hdr.sadb_msg_version != PF_KEY_V2)
		return (0);
	for (off = sizeof(struct sadb_msg); off < m->len; off += len) {
		if (off + sizeof(*ext) > m->len)
			return (0);
		ext = (const struct sadb_ext *)(m->u.buf + off);
		len = PFKEY_UNUNIT64((size_t)ext->sadb_ext_len);
		if (len == 0 || off + len > m->len)
			return (0);
	}
	return (1);
}

uint32_t
pt_spi(const struct pb_msg *m)
{
	const struct sadb_sa	*sa;

	if ((sa = pt_ext(m, SADB_EXT_SA)) == NULL)
		return (0);
	return (ntohl(sa->sadb_sa_spi));
}

int
pt_has_keys(const struct pb_msg *m)
{
	return (pt_ext(m, SADB_EXT_KEY_AUTH) != NULL ||
	    pt_ext(m, SADB_EXT_KEY_ENCRYPT) != NULL);
}

const char *
pt_describe(const struct pb_msg *m)
{
	static char	buf[128];

	if (m->len < sizeof(struct sadb_msg)) {
		snprintf(buf, sizeof(buf), "%zu-byte message", m->len);
		return (buf);
	}
	snprintf(buf, sizeof(buf), "type %u satype %u errno %u (%s) len %u "
	    "(%zu bytes) seq %u", m->u.hdr.sadb_msg_type,
	    m->u.hdr.sadb_msg_satype, m->u.hdr.sadb_msg_errno,
	    m->u.hdr.sadb_msg_errno ? strerror(m->u.hdr.sadb_msg_errno) : "-",
	    m->u.hdr.sadb_msg_len, m->len, m->u.hdr.sadb_msg_seq);
	return (buf);
}

/*
 * Send a request and wait for the reply to it: the first message with
 * its type, seq and pid (broadcasts from elsewhere are skipped).
 */
void
pt_call(int fd, struct pb_msg *req, struct pb_msg *rep)
{
	uint64_t	end;
	ssize_t		n;

	pt_send(fd, req);
	end = pt_now_ms() + PT_TIMEOUT;
	for (;;) {
		n = pt_recv(fd, rep, (int)(end > pt_now_ms() ?
		    end - pt_now_ms() : 0));
		ATF_REQUIRE_MSG(n != -1, "no reply to a message of type %u "
		    "in %d ms", req->u.hdr.sadb_msg_type, PT_TIMEOUT);
		ATF_REQUIRE_MSG(n != 0, "netipsecd closed the connection");
		if (rep->len >= sizeof(struct sadb_msg) &&
		    rep->u.hdr.sadb_msg_type == req->u.hdr.sadb_msg_type &&
		    rep->u.hdr.sadb_msg_seq == req->u.hdr.sadb_msg_seq &&
		    rep->u.hdr.sadb_msg_pid == req->u.hdr.sadb_msg_pid)
			return;
	}
}

void
pt_expect_ok(const struct pb_msg *req, const struct pb_msg *rep)
{
	ATF_REQUIRE_MSG(rep->len >= sizeof(struct sadb_msg) &&
	    rep->u.hdr.sadb_msg_errno == 0,
	    "request type %u: expected success, got %s",
	    req->u.hdr.sadb_msg_type, pt_describe(rep));
	ATF_REQUIRE_MSG(pt_wellformed(rep), "malformed reply: %s",
	    pt_describe(rep));
	ATF_REQUIRE_EQ(rep->u.hdr.sadb_msg_type, req->u.hdr.sadb_msg_type);
}

/* A semantic error: the request's header, with sadb_msg_errno set. */
void
pt_expect_error(const struct pb_msg *req, const struct pb_msg *rep,
    int error)
{
	ATF_REQUIRE_MSG(rep->len >= sizeof(struct sadb_msg),
	    "request type %u: expected %s, got %s", req->u.hdr.sadb_msg_type,
	    strerror(error), pt_describe(rep));
	ATF_REQUIRE_MSG(rep->u.hdr.sadb_msg_errno == error,
	    "request type %u: expected errno %d (%s), got %s",
	    req->u.hdr.sadb_msg_type, error, strerror(error),
	    pt_describe(rep));
	ATF_CHECK_EQ(rep->u.hdr.sadb_msg_type, req->u.hdr.sadb_msg_type);
	ATF_CHECK_EQ(rep->u.hdr.sadb_msg_satype,
	    req->u.hdr.sadb_msg_satype);
	ATF_CHECK_EQ(rep->u.hdr.sadb_msg_seq, req->u.hdr.sadb_msg_seq);
	ATF_CHECK_EQ(rep->u.hdr.sadb_msg_pid, req->u.hdr.sadb_msg_pid);
	ATF_CHECK_MSG(PFKEY_UNUNIT64((size_t)rep->u.hdr.sadb_msg_len) ==
	    rep->len, "inconsistent error reply: %s", pt_describe(rep));
}

/*
 * FreeBSD's key_senderror() sends the whole request back, extensions
 * included; only sadb_msg_errno changes.
 */
void
pt_expect_echo(const struct pb_msg *req, const struct pb_msg *rep,
    int error)
{
	struct pb_msg	want;

	pt_expect_error(req, rep, error);
	want = *req;
	want.u.hdr.sadb_msg_errno = (uint8_t)error;
	ATF_CHECK_MSG(rep->len == want.len &&
	    memcmp(rep->u.buf, want.u.buf, want.len) == 0,
	    "the error reply (%s) is not the %zu-byte request echoed",
	    pt_describe(rep), req->len);
}

/*
 * A framing error (netipsecd(8), DIFFERENCES FROM BSD): a 16-byte
 * sadb_msg with the header bytes of the request, zero beyond its end,
 * the error, and sadb_msg_len 2.
 */
void
pt_expect_framing(const struct pb_msg *req, const struct pb_msg *rep,
    int error)
{
	struct sadb_msg	want;

	memset(&want, 0, sizeof(want));
	memcpy(&want, req->u.buf, req->len < sizeof(want) ? req->len :
	    sizeof(want));
	want.sadb_msg_errno = (uint8_t)error;
	want.sadb_msg_len = 2;
	ATF_REQUIRE_MSG(rep->len == sizeof(want) &&
	    rep->u.hdr.sadb_msg_errno == error,
	    "expected a framing error reply with errno %d (%s), got %s",
	    error, strerror(error), pt_describe(rep));
	ATF_REQUIRE_MSG(memcmp(&want, rep->u.buf, sizeof(want)) == 0,
	    "the framing error reply does not carry the request's header");
}

/* An ADD (or UPDATE) of an ESP transport SA, AES-CBC + HMAC-SHA2-256. */
void
pt_add_msg(struct pb_msg *m, uint8_t type, uint32_t spi, const char *src,
    const char *dst, uint32_t seq)
{
	int	plen = strchr(src, ':') != NULL ? 128 : 32;

	pb_init(m, type, SADB_SATYPE_ESP, seq, getpid());
	pb_sa(m, spi, 4, SADB_X_AALG_SHA2_256, SADB_X_EALG_AESCBC, 0);
	pb_sa2(m, IPSEC_MODE_TRANSPORT, 0);
	pb_addr(m, SADB_EXT_ADDRESS_SRC, src, 0, plen, IPSEC_ULPROTO_ANY);
	pb_addr(m, SADB_EXT_ADDRESS_DST, dst, 0, plen, IPSEC_ULPROTO_ANY);
	pb_key(m, SADB_EXT_KEY_AUTH, pt_authkey, sizeof(pt_authkey));
	pb_key(m, SADB_EXT_KEY_ENCRYPT, pt_enckey, sizeof(pt_enckey));
}

void
pt_add(int fd, uint32_t spi, const char *src, const char *dst)
{
	struct pb_msg	req, rep;

	pt_add_msg(&req, SADB_ADD, spi, src, dst, spi);
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
}

void
pt_register(int fd, uint8_t satype)
{
	struct pb_msg	req, rep;

	pb_init(&req, SADB_REGISTER, satype, 1, getpid());
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
}

/* An SPD message: src -> dst (host prefixes), ESP transport required. */
void
pt_spd_msg(struct pb_msg *m, uint8_t type, const char *src, const char *dst,
    uint8_t dir, uint32_t seq)
{
	int	plen = strchr(src, ':') != NULL ? 128 : 32;

	pb_init(m, type, SADB_SATYPE_UNSPEC, seq, getpid());
	pb_addr(m, SADB_EXT_ADDRESS_SRC, src, 0, plen, IPSEC_ULPROTO_ANY);
	pb_addr(m, SADB_EXT_ADDRESS_DST, dst, 0, plen, IPSEC_ULPROTO_ANY);
	pb_policy(m, dir, IPSEC_POLICY_IPSEC, 0, 0);
	pb_policy_req(m, IPPROTO_ESP, IPSEC_MODE_TRANSPORT,
	    IPSEC_LEVEL_REQUIRE, 0, NULL, NULL);
}
