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
#include <stdint.h>
#include <stdio.h>

#ifndef __dead
#define	__dead		__attribute__((__noreturn__))
#endif

/* The default PF_KEY address: abstract, so one per network namespace. */
#define	NETIPSECD_ABSTRACT	"netipsec.pfkey"
#define	NETIPSECD_SOCKET_ENV	"PFKEY_SOCKET"
#define	NETIPSECD_PIDFILE	"/var/run/netipsecd.pid"

/* The control socket (ctl.c): abstract, or the PF_KEY path and this. */
#define	NETIPSECD_CTL_ABSTRACT	"netipsec.ctl"
#define	NETIPSECD_CTL_SUFFIX	".ctl"

/* The packet hook (nfq.c, rules.c): -i and its tunables. */
#define	NETIPSECD_IFMAX		64
#define	NETIPSECD_QUEUE		0	/* netipsecd.queue */
#define	NETIPSECD_QMAXLEN	8192	/* netipsecd.queue_maxlen */
#define	NETIPSECD_QMAXLEN_MAX	(1024 * 1024)
#define	NETIPSECD_RCVBUF	(16 * 1024 * 1024) /* netipsecd.rcvbuf */
#define	NETIPSECD_RCVBUF_MIN	(256 * 1024)
#define	NETIPSECD_RCVBUF_MAX	(1024 * 1024 * 1024)
/*
 * netipsecd.coalesce: the kernel copies a verdict's larger payload into a
 * new linear buffer, allocated atomically; up to 16 KiB with its
 * headroom, that is 4 pages, an allocation that rarely fails.
 */
#define	NETIPSECD_COALESCE	15000
#define	NETIPSECD_COALESCE_MAX	65531	/* what a verdict carries */
#define	RULES_IPTABLES		"/usr/sbin/iptables"
#define	RULES_IP6TABLES		"/usr/sbin/ip6tables"
#define	RULES_IPTABLES_RESTORE	"/usr/sbin/iptables-restore"
#define	RULES_IP6TABLES_RESTORE	"/usr/sbin/ip6tables-restore"
#define	RULES_CHAIN_PREFIX	"NETIPSEC"
/*
 * The firewall mark of the ESP that rawout.c sends (families changed):
 * already protected, it returns from the OUT chain before the queue.
 */
#define	RAWOUT_MARK		0x4e495053	/* "NIPS" */
#define	RAWOUT_MARK_STR		"0x4e495053"
/*
 * The mark of local sockets whose outbound policy is bypass (pcb_srv.c):
 * the packets they send skip the queue in the kernel by this mark
 * (rules.c).  Only CAP_NET_ADMIN sets a socket's mark.
 */
#define	PCB_MARK		0x4e495054	/* "NIPT" */
#define	PCB_MARK_STR		"0x4e495054"

/*
 * The largest PF_KEY message: sadb_msg_len counts 64-bit words in 16
 * bits.  The promiscuous copy of one adds a sadb_msg.
 */
#define	PFKEY_MSG_MAX		(65535 * 8)

/*
 * Bytes queued to a client beyond which its broadcasts are dropped and
 * its dump waits.
 */
#define	NETIPSECD_SENDSPACE	(1024 * 1024)
#define	NETIPSECD_SENDSPACE_MIN	4096
#define	NETIPSECD_SENDSPACE_MAX	(1024 * 1024 * 1024)

/*
 * netipsecd.maxclients: PF_KEY connections at once.  A host has a few
 * (an IKE daemon, setkey runs, monitors); each may hold netipsecd.sendspace
 * bytes of output and a dump's snapshot, so the default bounds those to
 * some hundreds of MiB in the worst case.
 */
#define	NETIPSECD_MAXCLIENTS	256
#define	NETIPSECD_MAXCLIENTS_MAX 65536

struct netipsecd_conf {
	const char	*nc_sockpath;	/* NULL: the abstract address */
	const char	*nc_pidfile;	/* NULL: none */
	gid_t		 nc_gid;	/* group allowed besides root */
	const char	*nc_user;	/* -u: run as, CAP_NET_ADMIN kept */
	int		 nc_hasgid;
	int		 nc_debug;	/* foreground, log to stderr */
	int		 nc_verbose;
	long		 nc_sendspace;	/* netipsecd.sendspace */
	long		 nc_maxclients;	/* netipsecd.maxclients */
	char		*nc_ifs[NETIPSECD_IFMAX];	/* -i */
	int		 nc_nifs;
	long		 nc_queue;	/* netipsecd.queue */
	long		 nc_qmaxlen;	/* netipsecd.queue_maxlen */
	long		 nc_rcvbuf;	/* netipsecd.rcvbuf */
	long		 nc_coalesce;	/* netipsecd.coalesce */
};

/* The queue's counters (nfq.c), updated atomically. */
struct nfq_stats {
	uint64_t	ns_out, ns_in, ns_fwd;		/* queued, per hook */
	uint64_t	ns_pass, ns_replace, ns_held, ns_drop;
	uint64_t	ns_stolen;	/* given to an ipsecN */
	uint64_t	ns_rel_replace, ns_rel_drop;	/* held, released */
	uint64_t	ns_family;	/* REPLACE changed the family */
	uint64_t	ns_toobig;	/* payload beyond a netlink attr */
	uint64_t	ns_badhook, ns_badverdict, ns_badmsg;
	uint64_t	ns_gro_segs;	/* segments coalesced... */
	uint64_t	ns_gro_pkts;	/* ...into so many packets */
	uint64_t	ns_recvcalls, ns_sendcalls;
	uint64_t	ns_recverr, ns_senderr, ns_nlerr;
};
extern struct nfq_stats nfq_stats;

struct event_base;

/* log.c (shared: sbin/common) */
#include "../common/log.h"

/*
 * Sockets' policies (pcb_srv.c): at most so many sockets have them, and
 * every so many seconds those are looked for among the sockets that
 * exist, should a close notification have been lost.
 */
#define	NETIPSECD_PCB_MAX	4096
#define	NETIPSECD_PCB_SWEEP	10

/* pfkey_srv.c */
struct ucred;
int	pfkey_srv_allowed(const struct ucred *);
void	pfkey_srv_listen(const struct netipsecd_conf *);
void	pfkey_srv_start(struct event_base *);
void	pfkey_srv_stop(void);
uint64_t pfkey_srv_refused(void);

/* pcb_srv.c */
void	pcb_srv_listen(const struct netipsecd_conf *);
void	pcb_srv_start(struct event_base *);
void	pcb_srv_stop(void);
u_int	pcb_srv_count(void);

/* local.c */
void	local_init(void);
void	local_start(struct event_base *);
void	local_stop(void);

/* ctl.c */
void	ctl_listen(const struct netipsecd_conf *);
void	ctl_start(struct event_base *);
void	ctl_stop(void);
void	ctl_stats(FILE *);
int	ctl_show(const struct netipsecd_conf *);

/* nfq.c */
void	nfq_init(int, int, int, int);
void	nfq_start(void);
void	nfq_stop(void);
int	nfq_queue(void);
int	nfq_kstats(unsigned int *, unsigned int *, unsigned int *);

/* rawout.c */
void	rawout_init(void);
void	rawout_fini(void);
int	rawout_ready(void);
int	rawout_packet(const void *, size_t);

/* tun.c: the ipsecN interfaces (if_ipsec(4)) */
struct mbuf;
void	tun_start(struct event_base *);
void	tun_stop(void);
int	tun_release(uint64_t, int, struct mbuf *);
void	tun_ctl(int, char **, FILE *);

/* rules.c */
void	rules_init(int, char *const *, int);
int	rules_unhook(int);

#ifndef nitems
#define	nitems(x)	(sizeof((x)) / sizeof((x)[0]))
#endif

#endif /* !_NETIPSECD_H_ */
