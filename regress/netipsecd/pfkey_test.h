/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Helpers of the netipsecd regression tests: run a netipsecd in the test's
 * work directory, send it PF_KEY messages (built with ../lib/pfkey_build.h,
 * malformed ones included) and check the replies.
 */

#ifndef _PFKEY_TEST_H_
#define _PFKEY_TEST_H_

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <atf-c.h>

#include <net/pfkeyv2.h>

#include "../lib/pfkey_build.h"

#define	PT_SOCKET	"pfkey.sock"		/* in the work directory */
#define	PT_LOG		"netipsecd.log"
#define	PT_TIMEOUT	5000			/* ms to wait for a reply */

#ifndef nitems
#define	nitems(x)	(sizeof((x)) / sizeof((x)[0]))
#endif

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
ssize_t	pt_recv(int, struct pb_msg *, int timeout_ms);	/* -1: timeout */
void	pt_recv_msg(int, struct pb_msg *);		/* or fail */
int	pt_recv_type(int, uint8_t type, struct pb_msg *, int timeout_ms);
int	pt_quiet(int, int timeout_ms);			/* nothing comes */
void	pt_drain(int);

void	pt_send(int, struct pb_msg *);
void	pt_send_raw(int, const void *, size_t);

/* Looking at replies. */
const void *pt_ext(const struct pb_msg *, uint16_t exttype);
int	pt_wellformed(const struct pb_msg *);
uint32_t pt_spi(const struct pb_msg *);
int	pt_has_keys(const struct pb_msg *);
void	pt_call(int, struct pb_msg *req, struct pb_msg *rep);
void	pt_expect_ok(const struct pb_msg *req, const struct pb_msg *rep);
void	pt_expect_error(const struct pb_msg *req, const struct pb_msg *rep,
	    int error);
void	pt_expect_echo(const struct pb_msg *req, const struct pb_msg *rep,
	    int error);
void	pt_expect_framing(const struct pb_msg *req, const struct pb_msg *rep,
	    int error);
const char *pt_describe(const struct pb_msg *);

/* Common requests: they check for success. */
extern const uint8_t pt_enckey[16], pt_authkey[32];
#define	PT_SRC		"192.0.2.1"
#define	PT_DST		"192.0.2.2"
void	pt_add_msg(struct pb_msg *, uint8_t type, uint32_t spi,
	    const char *src, const char *dst, uint32_t seq);
void	pt_add(int, uint32_t spi, const char *src, const char *dst);
void	pt_register(int, uint8_t satype);
void	pt_spd_msg(struct pb_msg *, uint8_t type, const char *src,
	    const char *dst, uint8_t dir, uint32_t seq);

#endif /* !_PFKEY_TEST_H_ */
