/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The key engine's databases: security policies (SPD), security
 * association heads and variables (SAD), ACQUIRE entries and
 * registrations.  Kernel-only.  Include <ukern/ukern.h> (the kernel's
 * headers on a BSD) and <net/pfkeyv2.h> first.
 */

#ifndef _NETIPSEC_KEYDB_H_
#define _NETIPSEC_KEYDB_H_

#ifdef _KERNEL

union sockaddr_union {
	struct sockaddr		sa;
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
};

/*
 * Security policy index: the selector of a policy, or of a packet.  Ports
 * live in the sockaddrs (0 = any); ICMPv6 type and code are carried in the
 * source and destination port fields.  ul_proto 255 = any.
 */
struct secpolicyindex {
	union sockaddr_union	src;
	union sockaddr_union	dst;
	uint8_t			ul_proto;
	uint8_t			dir;
	uint8_t			prefs;		/* prefix length of src */
	uint8_t			prefd;		/* prefix length of dst */
};

/* Security association index: what an SA head is named by. */
struct secasindex {
	union sockaddr_union	src;		/* ports always 0 */
	union sockaddr_union	dst;
	uint8_t			proto;		/* IPPROTO_ESP, _AH, ... */
	uint8_t			mode;		/* IPSEC_MODE_* */
	uint32_t		reqid;
};

#define	IPSEC_MAXREQ		4	/* requests in one policy */

struct ipsecrequest {
	struct secasindex	saidx;		/* tunnel endpoints, if any */
	u_int			level;		/* IPSEC_LEVEL_* */
};

/*
 * Security policy.  Global ones are in the SPD (sptree, the lookup index
 * and the id tree); a socket's (PCB scope, state IPSEC_SPSTATE_PCB) hang
 * off its struct secpcb and share only the id tree, as do an if_ipsec(4)
 * interface's (ifnet scope, IPSEC_SPSTATE_IFNET; ipsec_if.c).
 */
struct secpolicy {
	TAILQ_ENTRY(secpolicy)	chain;		/* sptree[dir], by priority */
	RB_ENTRY(secpolicy)	idtree;		/* by id */
	struct secpolicy	*idxnext;	/* lookup index chain */
	struct spd_tuple	*tuple;		/* lookup index tuple */

	struct secpolicyindex	spidx;
	struct ipsecrequest	*req[IPSEC_MAXREQ];
	u_int			tcount;		/* requests */
	u_int			refcnt;
	u_int			policy;		/* IPSEC_POLICY_* */
	u_int			state;
#define	IPSEC_SPSTATE_DEAD	0
#define	IPSEC_SPSTATE_LARVAL	1
#define	IPSEC_SPSTATE_ALIVE	2
#define	IPSEC_SPSTATE_PCB	3		/* a socket's (key_spd.c) */
#define	IPSEC_SPSTATE_IFNET	4		/* an ipsecN's (ipsec_if.c) */
	uint32_t		priority;	/* lower value wins; ifnet: index */
	uint32_t		id;
	uint64_t		order;		/* FIFO within a priority */

	time_t			created;	/* uptime */
	time_t			lastused;	/* uptime */
	time_t			lifetime;	/* hard addtime, 0 = none */
	time_t			validtime;	/* hard usetime, 0 = none */
};

struct seckey {
	uint16_t		bits;
	uint8_t			*key_data;
};

struct seclifetime {
	uint32_t		allocations;
	uint64_t		bytes;
	uint64_t		addtime;
	uint64_t		usetime;
};

/* NAT-T parameters of an SA (RFC 3948). */
struct secnatt {
	union sockaddr_union	oai;		/* NAT-OA of the initiator */
	union sockaddr_union	oar;		/* NAT-OA of the responder */
	uint16_t		sport;		/* network byte order */
	uint16_t		dport;		/* network byte order */
	uint16_t		fraglen;
	uint16_t		flags;
#define	IPSEC_NATT_F_OAI	0x0001
#define	IPSEC_NATT_F_OAR	0x0002
};

/*
 * Anti-replay state.  count and wsize are the key engine's; the rest is
 * set up by ipsec_replay_init() (from esp_init()), used under lock by
 * ipsec_replay.c and esp_output(), and released by ipsec_replay_fini().
 */
struct secreplay {
	uint64_t		count;		/* output sequence number */
	u_int			wsize;		/* window size in bytes */
	u_int			flags;
#define	SECREPLAY_F_INIT	0x0001		/* lock and bitmap set up */
	struct mtx		lock;
	uint64_t		last;		/* highest seq accepted (64 bits) */
	uint32_t		*bitmap;	/* RFC 6479 blocks; NULL: window 0 */
	u_int			bitmap_size;	/* blocks, a power of two */
	uint64_t		overflow;	/* output cycles (CYCSEQ) */
};

/* Security association head: SAs sharing one secasindex. */
struct secashead {
	TAILQ_ENTRY(secashead)	chain;		/* sahtree, creation order */
	RB_ENTRY(secashead)	addrtree;	/* by proto, src, dst, ... */
	struct secasindex	saidx;
	TAILQ_HEAD(secasvar_list, secasvar) savtree_alive; /* newest 1st */
	struct secasvar_list	savtree_larval;
	u_int			refcnt;
	uint8_t			state;		/* SADB_SASTATE_MATURE/DEAD */
};

/* Security association variable: one SA. */
struct secasvar {
	TAILQ_ENTRY(secasvar)	chain;		/* in its SAH's list */
	RB_ENTRY(secasvar)	spitree;	/* by SPI */
	uint32_t		spi;		/* network byte order */
	uint32_t		flags;		/* sadb_sa_flags */
	uint32_t		seq;		/* PF_KEY seq of GETSPI/ADD */
	uint32_t		pid;		/* PF_KEY pid of the creator */
	struct secashead	*sah;
	struct seckey		*key_auth;
	struct seckey		*key_enc;
	struct secreplay	*replay;
	struct secnatt		*natt;
	crypto_session_t	tdb_cryptoid;	/* esp_init(): opencrypto(9) */
	uint8_t			alg_auth;
	uint8_t			alg_enc;
	uint8_t			alg_comp;
	uint8_t			state;		/* SADB_SASTATE_* */
	u_int			refcnt;

	counter_u64_t		lft_c_bytes;	/* bytes (FreeBSD: lft_c + 1) */
	struct seclifetime	*lft_h;		/* hard, if any */
	struct seclifetime	*lft_s;		/* soft, if any */
	time_t			created;	/* uptime */
	time_t			firstused;	/* uptime, 0 = never */
};

/* ACQUIRE throttle entry: one per SA index being negotiated. */
struct secacq {
	LIST_ENTRY(secacq)	chain;
	LIST_ENTRY(secacq)	addrhash;	/* FreeBSD's acqaddrhashtbl */
	LIST_ENTRY(secacq)	seqhash;	/* and acqseqhashtbl */
	struct secasindex	saidx;
	uint32_t		seq;		/* stable until done */
	time_t			created;	/* uptime */
	time_t			lastsent;	/* uptime; 0 = may send now */
	uint64_t		count;		/* triggers, sent or not */
};

#endif /* _KERNEL */
#endif /* !_NETIPSEC_KEYDB_H_ */
