/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Helpers of the netipsecd regression tests: run a netipsecd in the test's
 * work directory, build PF_KEY messages byte by byte (malformed ones
 * included), send them and check the replies.
 */

#ifndef _PFKEY_TEST_H_
#define _PFKEY_TEST_H_

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include <atf-c.h>

#include <net/pfkeyv2.h>

#define	PT_SOCKET	"pfkey.sock"		/* in the work directory */
#define	PT_LOG		"netipsecd.log"
#define	PT_MSG_MAX	8192			/* what the tests build */
#define	PT_TIMEOUT	5000			/* ms to wait for a reply */

/* A message being built, or one received. */
struct pt_msg {
	size_t		len;
	size_t		polofs;		/* last X_POLICY, for its requests */
	union {
		struct sadb_msg	hdr;
		uint8_t		buf[PT_MSG_MAX];
		uint64_t	align;
	} u;
};
#ifndef nitems
#define	nitems(x)	(sizeof((x)) / sizeof((x)[0]))
#endif

#define	pt_hdr(m)	(&(m)->u.hdr)

/*
 * Test cases: each has a cleanup that kills a netipsecd the body left
 * running after a failed check.
 */
#define	PT_TC(name, descr)						\
	ATF_TC_WITH_CLEANUP(name);					\
	ATF_TC_HEAD(name, tc)						\
	{								\
		atf_tc_set_md_var(tc, "descr", descr);			\
		atf_tc_set_md_var(tc, "timeout", "120");		\
	}								\
	ATF_TC_CLEANUP(name, tc)					\
	{								\
		(void)tc;						\
		pt_daemon_cleanup();					\
	}

#define	PT_TC_ROOT(name, descr)						\
	ATF_TC_WITH_CLEANUP(name);					\
	ATF_TC_HEAD(name, tc)						\
	{								\
		atf_tc_set_md_var(tc, "descr", descr);			\
		atf_tc_set_md_var(tc, "timeout", "120");		\
		atf_tc_set_md_var(tc, "require.user", "root");		\
	}								\
	ATF_TC_CLEANUP(name, tc)					\
	{								\
		(void)tc;						\
		pt_daemon_cleanup();					\
	}

/* The daemon. */
const char *pt_netipsecd(const atf_tc_t *);
pid_t	pt_daemon_spawn(const atf_tc_t *, const char *const *args);
int	pt_daemon_wait(pid_t, int timeout_ms);
void	pt_daemon_start(const atf_tc_t *, ...);	/* extra args, NULL */
void	pt_daemon_start_at(const atf_tc_t *, const char *sockpath, ...);
void	pt_daemon_start_args(const atf_tc_t *, const char *sockpath,
	    const char *const *args);
int	pt_daemon_args(const char **, const char *sockpath);
#define	PT_MAXARGS	32
void	pt_daemon_stop(void);
void	pt_daemon_cleanup(void);
pid_t	pt_daemon_pid(void);
int	pt_log_contains(const char *);
int	pt_log_wait(const char *, int timeout_ms);
void	pt_log_print(void);

/* Connections. */
int	pt_connect(void);
int	pt_connect_path(const char *);
int	pt_connect_abstract(const char *);
ssize_t	pt_recv(int, struct pt_msg *, int timeout_ms);	/* -1: timeout */
void	pt_recv_msg(int, struct pt_msg *);		/* or fail */
int	pt_recv_type(int, uint8_t type, struct pt_msg *, int timeout_ms);
int	pt_quiet(int, int timeout_ms);			/* nothing comes */
void	pt_drain(int);

/* Building messages. */
void	pt_msg_init(struct pt_msg *, uint8_t type, uint8_t satype,
	    uint32_t seq);
void	*pt_msg_ext(struct pt_msg *, uint16_t exttype, size_t len);
void	pt_msg_raw(struct pt_msg *, const void *, size_t);
void	pt_msg_sa(struct pt_msg *, uint32_t spi, uint8_t auth, uint8_t enc);
void	pt_msg_addr(struct pt_msg *, uint16_t exttype, const char *addr,
	    uint16_t port, uint8_t prefixlen, uint8_t proto);
void	pt_msg_key(struct pt_msg *, uint16_t exttype, const void *, size_t);
void	pt_msg_lifetime(struct pt_msg *, uint16_t exttype, uint32_t alloc,
	    uint64_t bytes, uint64_t addtime, uint64_t usetime);
void	pt_msg_sa2(struct pt_msg *, uint8_t mode, uint32_t reqid);
void	pt_msg_spirange(struct pt_msg *, uint32_t min, uint32_t max);
void	pt_msg_policy(struct pt_msg *, uint16_t type, uint8_t dir,
	    uint32_t id);
void	pt_msg_policy_req(struct pt_msg *, uint16_t proto, uint8_t mode,
	    uint8_t level, uint16_t reqid);
void	pt_msg_prop(struct pt_msg *);
void	pt_msg_finish(struct pt_msg *);
void	pt_send(int, struct pt_msg *);
void	pt_send_raw(int, const void *, size_t);

/* Looking at replies. */
const void *pt_ext(const struct pt_msg *, uint16_t exttype);
int	pt_wellformed(const struct pt_msg *);
uint32_t pt_spi(const struct pt_msg *);
int	pt_has_keys(const struct pt_msg *);
void	pt_call(int, struct pt_msg *req, struct pt_msg *rep);
void	pt_expect_ok(const struct pt_msg *req, const struct pt_msg *rep);
void	pt_expect_error(const struct pt_msg *req, const struct pt_msg *rep,
	    int error);
void	pt_expect_echo(const struct pt_msg *req, const struct pt_msg *rep,
	    int error);
void	pt_expect_framing(const struct pt_msg *req, const struct pt_msg *rep,
	    int error);
const char *pt_describe(const struct pt_msg *);

/* Common requests: they check for success. */
extern const uint8_t pt_enckey[16], pt_authkey[32];
#define	PT_SRC		"192.0.2.1"
#define	PT_DST		"192.0.2.2"
void	pt_add_msg(struct pt_msg *, uint8_t type, uint32_t spi,
	    const char *src, const char *dst, uint32_t seq);
void	pt_add(int, uint32_t spi, const char *src, const char *dst);
void	pt_register(int, uint8_t satype);
void	pt_spd_msg(struct pt_msg *, uint8_t type, const char *src,
	    const char *dst, uint8_t dir, uint32_t seq);

#endif /* !_PFKEY_TEST_H_ */
