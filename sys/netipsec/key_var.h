/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Key engine internals shared by key.c, key_spd.c and keysock.c: the
 * tunables, the lock macros, and the SPD index interface.  Kernel-only.
 */

#ifndef _NETIPSEC_KEY_VAR_H_
#define _NETIPSEC_KEY_VAR_H_

#ifdef _KERNEL

MALLOC_DECLARE(M_IPSEC_SP);
MALLOC_DECLARE(M_IPSEC_SR);
MALLOC_DECLARE(M_IPSEC_SAH);
MALLOC_DECLARE(M_IPSEC_SA);
MALLOC_DECLARE(M_IPSEC_SAQ);
MALLOC_DECLARE(M_IPSEC_MISC);

/* Tunables (net.key.*); each is described where it is defined, key.c. */
extern int key_debug_level;		/* net.key.debug */
extern u_int key_spi_trycnt;		/* net.key.spi_trycnt */
extern uint32_t key_spi_minval;		/* net.key.spi_minval */
extern uint32_t key_spi_maxval;		/* net.key.spi_maxval */
extern u_int key_larval_lifetime;	/* net.key.larval_lifetime */
extern uint32_t key_debug_seq_start;	/* net.key.debug_seq_start */
extern u_int key_blockacq_interval;	/* net.key.blockacq_interval */
extern u_int key_blockacq_lifetime;	/* net.key.blockacq_lifetime */
extern int key_preferred_oldsa;		/* net.key.preferred_oldsa */
extern u_int key_esp_keymin;		/* net.key.esp_keymin */
extern u_int key_ah_keymin;		/* net.key.ah_keymin */
extern int key_esp_auth;		/* net.key.esp_auth */
extern u_int key_sa_max;		/* net.key.sa_max */
extern u_int key_sp_max;		/* net.key.sp_max */
extern u_int key_acq_max;		/* net.key.acq_max */

#define	KEYDEBUG_STAMP		0x00000001	/* path */
#define	KEYDEBUG_DATA		0x00000002	/* data */
#define	KEYDEBUG_DUMP		0x00000004	/* dump */
#define	KEYDEBUG_KEY_DUMP	0x00000040	/* key dumps (secrets!) */

#define	ipseclog(x)	do { if (key_debug_level) log x; } while (0)

/*
 * Locks, one family per table, as FreeBSD.  The SPD and the SAD are read
 * by the packet path and written by PF_KEY; ACQUIRE entries and the
 * registration table have mutexes.  The dumps in progress have a mutex,
 * held while a dump builds and sends its messages.  Lock order: DUMP,
 * SPTREE, SAHTREE, ACQ, REGTREE; keysock's list lock is taken last and
 * never held while calling into key.c.
 */
extern struct rwlock sptree_lock;
#define	SPTREE_RLOCK()		rw_rlock(&sptree_lock)
#define	SPTREE_RUNLOCK()	rw_runlock(&sptree_lock)
#define	SPTREE_WLOCK()		rw_wlock(&sptree_lock)
#define	SPTREE_WUNLOCK()	rw_wunlock(&sptree_lock)
#define	SPTREE_WLOCK_ASSERT()	rw_assert(&sptree_lock, RA_WLOCKED)

extern struct rwlock sahtree_lock;
#define	SAHTREE_RLOCK()		rw_rlock(&sahtree_lock)
#define	SAHTREE_RUNLOCK()	rw_runlock(&sahtree_lock)
#define	SAHTREE_WLOCK()		rw_wlock(&sahtree_lock)
#define	SAHTREE_WUNLOCK()	rw_wunlock(&sahtree_lock)
#define	SAHTREE_WLOCK_ASSERT()	rw_assert(&sahtree_lock, RA_WLOCKED)

extern struct mtx acq_lock;
#define	ACQ_LOCK()		mtx_lock(&acq_lock)
#define	ACQ_UNLOCK()		mtx_unlock(&acq_lock)

extern struct mtx regtree_lock;
#define	REGTREE_LOCK()		mtx_lock(&regtree_lock)
#define	REGTREE_UNLOCK()	mtx_unlock(&regtree_lock)

extern struct mtx dump_lock;
#define	DUMP_LOCK()		mtx_lock(&dump_lock)
#define	DUMP_UNLOCK()		mtx_unlock(&dump_lock)
#define	DUMP_LOCK_ASSERT()	mtx_assert(&dump_lock, MA_OWNED)

/*
 * The SPD (key_spd.c): per direction, a list in first-match order
 * (priority ascending, FIFO within a priority) for dumps, an index for
 * packet lookups whose cost does not grow with the number of policies,
 * and a tree by policy id.  Callers hold the SPTREE lock (write lock for
 * changes).
 */
TAILQ_HEAD(sptree_head, secpolicy);
extern struct sptree_head sptree[IPSEC_DIR_MAX];
extern u_int sptree_count[IPSEC_DIR_MAX];

void	key_spd_init(void);
void	key_spd_destroy(void);
int	key_spd_insert(struct secpolicy *);
void	key_spd_remove(struct secpolicy *);
struct secpolicy *key_spd_exact(const struct secpolicyindex *);
struct secpolicy *key_spd_match(const struct secpolicyindex *);
struct secpolicy *key_spd_byid(uint32_t);
int	key_spd_cmpspidx_withmask(const struct secpolicyindex *,
	    const struct secpolicyindex *);

/*
 * A local socket's policies (FreeBSD's struct inpcbpolicy).  Without an
 * inpcb to hang them on, the host names the socket by its protocol, the
 * address it is bound to (the unspecified address: every local one) and
 * its port, which no other socket can share (nothing here is exempt by
 * port: that socket is), and by an id of its own, so that the entry goes
 * when that socket closes (ipsec_pcb.c, ipsec_hook.h).
 */
struct secpcb {
	RB_ENTRY(secpcb)	addrtree;	/* by proto, local */
	TAILQ_ENTRY(secpcb)	chain;		/* creation order, for dumps */
	union sockaddr_union	local;		/* address and port */
	uint8_t			proto;		/* IPPROTO_UDP, IPPROTO_TCP */
	uint64_t		sockid;		/* the host's name for it */
	uint32_t		pid;		/* who set its policies */
	struct secpolicy	*sp[IPSEC_DIR_MAX]; /* NULL: entrust */
};

/*
 * Sockets' policies (PCB scope), in key_spd.c beside the SPD and under
 * its lock: set one direction's policy of a socket (NULL: entrust, which
 * drops it; the previous policy is freed), forget a socket, or every
 * socket; the policy of a packet's socket, if it has one ("islocal" says
 * whether an inbound packet's destination is one of ours, for sockets
 * bound to every address); and the list, for dumps.
 */
TAILQ_HEAD(secpcb_head, secpcb);
extern struct secpcb_head sppcb;
extern u_int sppcb_count;		/* policies, both directions */
typedef int key_islocal_t(const union sockaddr_union *);
int	key_spd_pcb_set(const union sockaddr_union *, uint8_t, uint64_t,
	    uint32_t, u_int, struct secpolicy *);
struct secpolicy *key_spd_pcb_get(const union sockaddr_union *, uint8_t,
	    u_int);
int	key_spd_pcb_detach(uint64_t);
void	key_spd_pcb_flush(void);
struct secpolicy *key_spd_pcb_match(const struct secpolicyindex *,
	    key_islocal_t *);

/*
 * if_ipsec(4) interfaces' policies (ifnet scope), in key_spd.c under its
 * lock: never matched by a packet's selector (the interface holds them,
 * FreeBSD's V_sptree_ifnet), but found by id (ACQUIRE, SPDGET) and
 * dumped, per direction in the order they came.  Their priority field
 * holds the interface's index, as FreeBSD's.
 */
extern struct sptree_head sptree_ifnet[IPSEC_DIR_MAX];
extern u_int spifnet_count;
int	key_spd_ifnet_add(struct secpolicy *);
void	key_spd_ifnet_remove(struct secpolicy *);
uint32_t key_newreqid(void);

/* Messages key.c hands to keysock.c (keysock.c). */
struct keycb;
struct key_dump;
int	key_sendup(struct keycb *, struct sadb_msg *, size_t, int);
int	key_sendup_dump(struct keycb *, struct sadb_msg *, size_t);
int	keysock_registered(const struct keycb *);
void	keysock_setregistered(struct keycb *, int);
int	keysock_promisc(struct keycb *, int);
struct key_dump *keysock_dump(const struct keycb *);
void	keysock_setdump(struct keycb *, struct key_dump *);
void	keysock_init(void);


/* The packet path's SA choice; the caller holds SAHTREE_RLOCK (key.c). */
struct secasvar *key_allocsa_policy(const struct secasindex *);
u_int	key_saidx_hash(const struct secasindex *);

/*
 * Policies from a sadb_x_policy and its requests (FreeBSD's
 * key_msg2sp()), their ids, and freeing them (key.c).
 */
struct sadb_x_policy;
void	key_sa_copy(union sockaddr_union *, const struct sockaddr *, int);
struct secpolicy *key_xpl2sp(struct sadb_x_policy *, size_t, int *);
uint32_t key_getnewspid(void);
void	key_freesp(struct secpolicy *);
size_t	key_sp2xpl(const struct secpolicy *, void *, size_t);

/* The PF_KEY message entry point and socket teardown (key.c). */
int	key_parse(struct keycb *, struct sadb_msg *, size_t);
void	key_freereg(struct keycb *);
void	key_dump_drop(struct keycb *);

#endif /* _KERNEL */
#endif /* !_NETIPSEC_KEY_VAR_H_ */
