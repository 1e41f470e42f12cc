/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * netipsecd: hosts the kernel IPsec layer (sys/netipsec) as a process on
 * kernels without it, and serves its PF_KEY sockets over AF_UNIX.
 */

#ifndef _NETIPSECD_H_
#define _NETIPSECD_H_

#include <sys/types.h>

#include <stdarg.h>
#include <stddef.h>

#ifndef __dead
#define	__dead		__attribute__((__noreturn__))
#endif

/* The default PF_KEY address: abstract, so one per network namespace. */
#define	NETIPSECD_ABSTRACT	"netipsec.pfkey"
#define	NETIPSECD_SOCKET_ENV	"PFKEY_SOCKET"
#define	NETIPSECD_PIDFILE	"/var/run/netipsecd.pid"

/*
 * The largest PF_KEY message: sadb_msg_len counts 64-bit words in 16
 * bits.  The promiscuous copy of one adds a sadb_msg.
 */
#define	PFKEY_MSG_MAX		(65535 * 8)

/* Bytes queued to a client beyond which its broadcasts are dropped. */
#define	NETIPSECD_SENDSPACE	(1024 * 1024)
#define	NETIPSECD_SENDSPACE_MIN	4096
#define	NETIPSECD_SENDSPACE_MAX	(1024 * 1024 * 1024)

struct netipsecd_conf {
	const char	*nc_sockpath;	/* NULL: the abstract address */
	const char	*nc_pidfile;	/* NULL: none */
	gid_t		 nc_gid;	/* group allowed besides root */
	int		 nc_hasgid;
	int		 nc_debug;	/* foreground, log to stderr */
	int		 nc_verbose;
	long		 nc_sendspace;	/* netipsecd.sendspace */
};

struct event_base;

/* log.c */
void	log_init(int, int);
void	log_setverbose(int);
int	log_getverbose(void);
void	log_warn(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
void	log_warnx(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
void	log_info(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
void	log_debug(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
void	logit(int, const char *, ...)
	    __attribute__((__format__(__printf__, 2, 3)));
void	vlog(int, const char *, va_list)
	    __attribute__((__format__(__printf__, 2, 0)));
__dead void fatal(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
__dead void fatalx(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));

/* pfkey_srv.c */
void	pfkey_srv_listen(const struct netipsecd_conf *);
void	pfkey_srv_start(struct event_base *);
void	pfkey_srv_stop(void);

#endif /* !_NETIPSECD_H_ */
