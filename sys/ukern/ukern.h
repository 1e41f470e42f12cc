/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The userland kernel environment: the few kernel services sys/netipsec
 * uses, with FreeBSD's names and semantics, implemented over libc,
 * pthreads and OpenSSL.  This is the only host header sys/netipsec
 * includes.  A FreeBSD port replaces this file with one that includes the
 * real kernel's <sys/param.h>, <sys/systm.h>, <sys/malloc.h>,
 * <sys/mutex.h>, <sys/rwlock.h>, <sys/callout.h> ... (see
 * sys/netipsec/PORTING.md).
 *
 * Include it before anything else: it defines malloc(9) and free(9) as
 * macros that take a malloc type, so libc's malloc(3) cannot be called
 * from a file that includes it.
 */

#ifndef _UKERN_UKERN_H_
#define _UKERN_UKERN_H_

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <sys/tree.h>
#include <netinet/in.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>		/* before the malloc(9) macros below */
#include <string.h>
#include <strings.h>
#include <syslog.h>		/* LOG_ERR ... for log(9) */

/* Compiler and alignment helpers, as <sys/param.h> has them. */
#ifndef nitems
#define	nitems(x)	(sizeof((x)) / sizeof((x)[0]))
#endif
#ifndef howmany
#define	howmany(x, y)	(((x) + ((y) - 1)) / (y))
#endif
#ifndef roundup2
#define	roundup2(x, y)	(((x) + ((y) - 1)) & (~((__typeof(x))(y) - 1)))
#endif
#ifndef __predict_false
#define	__predict_false(exp)	__builtin_expect((exp), 0)
#define	__predict_true(exp)	__builtin_expect((exp), 1)
#endif
#ifndef __unused
#define	__unused	__attribute__((__unused__))
#endif
#ifndef MIN
#define	MIN(a, b)	(((a) < (b)) ? (a) : (b))
#define	MAX(a, b)	(((a) > (b)) ? (a) : (b))
#endif

/*
 * The length of a sockaddr.  BSD hosts have sa_len; elsewhere it follows
 * from the family (0 for families the IPsec layer does not know).
 */
#if defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__) || \
    defined(__DragonFly__) || defined(__APPLE__)
#define	UKERN_HAVE_SA_LEN	1
#define	SA_LEN(sa)	((sa)->sa_len)
#else
static inline size_t
ukern_sa_len(const struct sockaddr *sa)
{
	switch (sa->sa_family) {
	case AF_INET:
		return (sizeof(struct sockaddr_in));
	case AF_INET6:
		return (sizeof(struct sockaddr_in6));
	}
	return (0);
}
#define	SA_LEN(sa)	ukern_sa_len((const struct sockaddr *)(sa))
#endif

/*
 * malloc(9): typed allocations, with per-type statistics.
 */
struct malloc_type {
	const char		*ks_shortdesc;
	uint64_t		 ks_calls;	/* allocations made */
	int64_t			 ks_inuse;	/* allocations outstanding */
	int64_t			 ks_memuse;	/* bytes outstanding */
};

#define	MALLOC_DEFINE(type, shortdesc, longdesc)			\
	struct malloc_type type[1] = { { .ks_shortdesc = (shortdesc) } }
#define	MALLOC_DECLARE(type)	extern struct malloc_type type[1]

#define	M_NOWAIT	0x0001	/* may fail: returns NULL */
#define	M_WAITOK	0x0002	/* never fails (aborts on exhaustion) */
#define	M_ZERO		0x0100	/* zero the allocation */

void	*ukern_malloc(size_t, struct malloc_type *, int);
void	 ukern_free(void *, struct malloc_type *);
void	 ukern_zfree(void *, struct malloc_type *);	/* zero, then free */

/*
 * A test hook, not part of malloc(9): when set, it is called with each
 * allocation (address, size, type) just before the memory goes back to
 * the host, after zfree() has zeroed it.
 */
extern void (*ukern_free_hook)(void *, size_t, struct malloc_type *);

#define	malloc(size, type, flags)	ukern_malloc((size), (type), (flags))
#define	free(addr, type)		ukern_free((addr), (type))
#define	zfree(addr, type)		ukern_zfree((addr), (type))

/*
 * mutex(9) and rwlock(9).  Only the default (MTX_DEF) kind is provided;
 * locks are not recursive.
 */
struct mtx {
	pthread_mutex_t		 mtx_m;
	const char		*mtx_name;
	pthread_t		 mtx_owner;
	int			 mtx_owned;
};

#define	MTX_DEF		0x0000
#define	MA_OWNED	0x01
#define	MA_NOTOWNED	0x02

void	mtx_init(struct mtx *, const char *name, const char *type, int opts);
void	mtx_destroy(struct mtx *);
void	mtx_lock(struct mtx *);
void	mtx_unlock(struct mtx *);
int	mtx_owned(struct mtx *);
#define	mtx_assert(m, what)	ukern_mtx_assert((m), (what), __FILE__, __LINE__)
void	ukern_mtx_assert(struct mtx *, int, const char *, int);

struct rwlock {
	pthread_rwlock_t	 rw_l;
	const char		*rw_name;
	pthread_t		 rw_writer;	/* valid while rw_wlocked */
	int			 rw_wlocked;
};

#define	RA_LOCKED	0x01	/* read or write */
#define	RA_RLOCKED	0x02
#define	RA_WLOCKED	0x04
#define	RA_UNLOCKED	0x00

void	rw_init(struct rwlock *, const char *name);
void	rw_destroy(struct rwlock *);
void	rw_rlock(struct rwlock *);
void	rw_runlock(struct rwlock *);
void	rw_wlock(struct rwlock *);
void	rw_wunlock(struct rwlock *);
int	rw_wowned(struct rwlock *);
#define	rw_assert(rw, what)	ukern_rw_assert((rw), (what), __FILE__, __LINE__)
void	ukern_rw_assert(struct rwlock *, int, const char *, int);

/*
 * callout(9).  Callouts run on one host thread, one at a time, without
 * any lock of the caller held; "mpsafe" is accepted and ignored.  Times
 * are in ticks of 1/hz seconds.
 */
extern int hz;				/* ticks per second: 1000 */

struct callout {
	TAILQ_ENTRY(callout)	 c_link;
	uint64_t		 c_time;	/* due, in ms of monotonic time */
	void			(*c_func)(void *);
	void			*c_arg;
	int			 c_flags;
#define	CALLOUT_PENDING		0x0001
#define	CALLOUT_ACTIVE		0x0002
};

void	callout_init(struct callout *, int mpsafe);
int	callout_reset(struct callout *, int ticks, void (*)(void *), void *);
int	callout_stop(struct callout *);		/* 1 if it was pending */
int	callout_drain(struct callout *);	/* stop, and wait if running */
int	callout_pending(struct callout *);

/*
 * Time.  time_second is the wall clock (for reports), time_uptime the
 * monotonic clock in seconds (for lifetimes and timeouts).
 */
time_t	ukern_time_second(void);
time_t	ukern_time_uptime(void);
#define	time_second	ukern_time_second()
#define	time_uptime	ukern_time_uptime()

/*
 * Random numbers: arc4random(9).  The host's are cryptographically strong
 * (glibc 2.36 and BSD libcs have arc4random(3); elsewhere ukern uses
 * OpenSSL's RAND_bytes()).
 */
uint32_t ukern_arc4random(void);
void	 ukern_arc4random_buf(void *, size_t);
#define	arc4random()		ukern_arc4random()
#define	arc4random_buf(p, n)	ukern_arc4random_buf((p), (n))

/*
 * Constant-time comparison and key-material erasure, as the kernel has
 * them.
 */
int	ukern_timingsafe_bcmp(const void *, const void *, size_t);
#define	timingsafe_bcmp(a, b, n)	ukern_timingsafe_bcmp((a), (b), (n))
void	ukern_explicit_bzero(void *, size_t);
#define	explicit_bzero(p, n)		ukern_explicit_bzero((p), (n))

/*
 * log(9), printf(9) and panic(9).  The host decides where messages go
 * (ukern_set_logger()); the default is standard error.  LOG_DEBUG
 * messages are passed on only while ukern_debug is set.
 */
void	ukern_log(int pri, const char *fmt, ...)
	    __attribute__((__format__(__printf__, 2, 3)));
void	ukern_vlog(int pri, const char *fmt, va_list);
void	ukern_set_logger(void (*)(int pri, const char *msg));
extern int ukern_debug;
#define	log		ukern_log

void	ukern_panic(const char *fmt, ...)
	    __attribute__((__noreturn__, __format__(__printf__, 1, 2)));
#define	panic		ukern_panic

#ifdef INVARIANTS
#define	KASSERT(exp, msg) do {						\
	if (__predict_false(!(exp)))					\
		panic msg;						\
} while (0)
#else
#define	KASSERT(exp, msg) do { } while (0)
#endif
#define	MPASS(ex)	KASSERT((ex), ("Assertion %s failed at %s:%d",	\
			    #ex, __FILE__, __LINE__))

/*
 * counter(9): a per-CPU array in the kernel, a relaxed atomic here.  The
 * same source serves both: a counter is a counter_u64_t, allocated with
 * COUNTER_ALLOC (0 or ENOMEM) and freed with COUNTER_FREE, bumped with
 * COUNTER_ADD and read with COUNTER_FETCH; a statistics structure of
 * uint64_t (FreeBSD's VNET_PCPUSTAT_*: an array of counter_u64_t there)
 * is defined with PCPUSTAT_DEFINE, allocated by PCPUSTAT_SYSINIT, and
 * used with PCPUSTAT_ADD, PCPUSTAT_FETCH and PCPUSTAT_ZERO.
 */
typedef uint64_t	counter_u64_t;
#define	COUNTER_ADD(var, n)	__atomic_fetch_add(&(var), (n), __ATOMIC_RELAXED)
#define	COUNTER_FETCH(var)	__atomic_load_n(&(var), __ATOMIC_RELAXED)
#define	COUNTER_ALLOC(var, how)	((var) = 0, 0)
#define	COUNTER_FREE(var)	((void)0)

static inline void
ukern_pcpustat_fetch(void *dst, const void *src, size_t len)
{
	const uint64_t *s = src;
	uint64_t *d = dst;
	size_t i;

	for (i = 0; i < len / sizeof(uint64_t); i++)
		d[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}

static inline void
ukern_pcpustat_zero(void *p, size_t len)
{
	uint64_t *s = p;
	size_t i;

	for (i = 0; i < len / sizeof(uint64_t); i++)
		__atomic_store_n(&s[i], 0, __ATOMIC_RELAXED);
}

#define	PCPUSTAT_DEFINE(type, name)	type name
#define	PCPUSTAT_SYSINIT(name)		struct __hack
#define	PCPUSTAT_ADD(type, name, f, v)	COUNTER_ADD((name).f, (v))
#define	PCPUSTAT_FETCH(type, name, dst)					\
	ukern_pcpustat_fetch((dst), &(name), sizeof(type))
#define	PCPUSTAT_ZERO(type, name)	ukern_pcpustat_zero(&(name), sizeof(type))

/*
 * Start and stop the environment: the callout thread.  The host calls
 * ukern_init() once before key_init(), and ukern_fini() after
 * key_destroy().
 */
int	ukern_init(void);
void	ukern_fini(void);

/* ---- crypto(9): the transforms ESP needs (sys/ukern/ukern_crypto.c) ----
 *
 * The kernel has opencrypto(9) sessions; here a session wraps OpenSSL 3
 * EVP contexts made once, at SA setup, so that a packet allocates
 * nothing.  A session serializes its own calls (one lock), so one SA may
 * be used from several threads.  Key material is erased when the session
 * is freed.  All calls return 0 or a positive errno.
 */
#define	UKERN_CRYPT_NULL		1	/* RFC 2410: no key */
#define	UKERN_CRYPT_AES_CBC		2	/* key 16, 24, 32; IV 16 */
#define	UKERN_CRYPT_AES_CTR		3	/* RFC 3686: key || nonce(4); IV 8 */
#define	UKERN_CRYPT_AES_GCM		4	/* RFC 4106: key || salt(4); IV 8 */
#define	UKERN_CRYPT_CHACHA20_POLY1305	5	/* RFC 7634: key(32) || salt(4) */

#define	UKERN_AUTH_NONE			0
#define	UKERN_AUTH_HMAC_SHA1		1	/* full MAC 20 bytes */
#define	UKERN_AUTH_HMAC_SHA2_256	2	/* 32 */
#define	UKERN_AUTH_HMAC_SHA2_384	3	/* 48 */
#define	UKERN_AUTH_HMAC_SHA2_512	4	/* 64 */

#define	UKERN_CRYPTO_AEAD_TAGLEN	16	/* GCM-16, Poly1305 */
#define	UKERN_CRYPTO_HMAC_MAX		64	/* longest full HMAC */

struct ukern_crypto_session;

/* AEAD algorithms take no auth algorithm (UKERN_AUTH_NONE). */
int	ukern_crypto_newsession(struct ukern_crypto_session **, int calg,
	    const void *ckey, size_t ckeylen, int aalg, const void *akey,
	    size_t akeylen);
void	ukern_crypto_freesession(struct ukern_crypto_session *);
size_t	ukern_crypto_hmac_len(int aalg);	/* full MAC length, 0 = none */

/* Cipher in place (CBC: len a multiple of 16; NULL: nothing done). */
int	ukern_crypto_encrypt(struct ukern_crypto_session *, const uint8_t *iv,
	    void *buf, size_t len);
int	ukern_crypto_decrypt(struct ukern_crypto_session *, const uint8_t *iv,
	    void *buf, size_t len);
/* Full-length HMAC of p1 || p2 (p2 may be NULL): the caller truncates. */
int	ukern_crypto_hmac(struct ukern_crypto_session *, const void *p1,
	    size_t l1, const void *p2, size_t l2, uint8_t *mac);
/*
 * AEAD in place, nonce = salt || iv(8).  open() checks the tag before it
 * returns any plaintext: EBADMSG (and the buffer erased) if it is wrong.
 */
int	ukern_crypto_aead_seal(struct ukern_crypto_session *,
	    const uint8_t *iv, const void *aad, size_t aadlen, void *buf,
	    size_t len, uint8_t *tag);
int	ukern_crypto_aead_open(struct ukern_crypto_session *,
	    const uint8_t *iv, const void *aad, size_t aadlen, void *buf,
	    size_t len, const uint8_t *tag);
/* ---- end of crypto(9) ---- */

/* ---- mbuf(9): packets as chains of buffers (ukern_mbuf.c) ----
 *
 * The subset sys/netipsec uses, with FreeBSD's names and semantics: a
 * packet is a chain of mbufs linked by m_next, the first with M_PKTHDR
 * and the total length in m_pkthdr.len.  Each mbuf owns one buffer
 * (m_buf, m_size) with leading space for headers (max_linkhdr in those
 * from m_get2()).  Unlike FreeBSD's clusters, a buffer may grow in
 * place: M_PREPEND and m_append enlarge the first and last buffer
 * rather than linking new mbufs (an allocation; the data plane sizes
 * its mbufs so that they need not).  Buffers are erased when freed.
 */
struct mbuf {
	struct mbuf		*m_next;	/* next buffer of the packet */
	uint8_t			*m_data;	/* first byte of data */
	int			 m_len;		/* bytes of data in this one */
	int			 m_flags;
	struct {
		int		 len;		/* the whole packet's */
	} m_pkthdr;
	uint8_t			*m_buf;		/* the storage (m_ext) */
	size_t			 m_size;	/* bytes of storage */
};

#define	MT_DATA		1
#define	M_PKTHDR	0x0002
#define	max_linkhdr	128		/* leading space m_get2() leaves */
#define	MLEN		256		/* storage of an m_get() mbuf */

#define	mtod(m, t)		((t)(void *)((m)->m_data))
#define	M_LEADINGSPACE(m)	((int)((m)->m_data - (m)->m_buf))
#define	M_TRAILINGSPACE(m)						\
	((int)((m)->m_buf + (m)->m_size - (m)->m_data) - (m)->m_len)

/* Room for size bytes after max_linkhdr leading bytes; m_len 0. */
struct mbuf *m_get2(int size, int how, short type, int flags);
/* A buffer of MLEN bytes, no leading space, no packet header. */
struct mbuf *m_get(int how, short type);
void	 m_freem(struct mbuf *);		/* the whole chain */
/* Grow m's own buffer so that lead bytes precede and trail follow. */
int	 ukern_m_grow(struct mbuf *, int lead, int trail);
/* 1 on success, 0 if out of memory (as FreeBSD's): after the last. */
int	 m_append(struct mbuf *, int len, const void *cp);
/* req_len > 0 trims from the head, < 0 from the tail, across buffers. */
void	 m_adj(struct mbuf *, int req_len);
void	 m_copydata(const struct mbuf *, int off, int len, void *cp);
/* Copy in at off, extending the chain past its end if need be. */
void	 m_copyback(struct mbuf *, int off, int len, const void *cp);
/* The first len bytes contiguous in the first mbuf; NULL: freed. */
struct mbuf *m_pullup(struct mbuf *, int len);
/* Bytes in the chain; *last its last mbuf (when last is not NULL). */
u_int	 m_length(struct mbuf *, struct mbuf **last);
/* Link n after m (m_catpkt also adds n's length to m's header). */
void	 m_cat(struct mbuf *m, struct mbuf *n);
void	 m_catpkt(struct mbuf *m, struct mbuf *n);
/*
 * A packet of totlen bytes copied from a device's buffer, with leading
 * and trailing space for the headers and trailers IPsec adds (one mbuf
 * here; FreeBSD's may be a chain), off more bytes of it leading (at
 * most max_linkhdr).  ifp and copy must be NULL.
 */
struct ifnet;
struct mbuf *m_devget(char *buf, int totlen, int off, struct ifnet *ifp,
	    void (*copy)(char *, char *, u_int));

/* Make plen bytes of room at the front; m becomes NULL on failure. */
#define	M_PREPEND(m, plen, how) do {					\
	if (M_LEADINGSPACE(m) < (int)(plen) &&				\
	    ukern_m_grow((m), (int)(plen), 0) != 0) {			\
		m_freem(m);						\
		(m) = NULL;						\
		break;							\
	}								\
	(m)->m_data -= (plen);						\
	(m)->m_len += (int)(plen);					\
	if ((m)->m_flags & M_PKTHDR)					\
		(m)->m_pkthdr.len += (int)(plen);			\
} while (0)
/* ---- end of mbuf(9) ---- */

/* ---- opencrypto(9): the interface sys/netipsec calls (ukern_crypto.c) ----
 *
 * FreeBSD 13's opencrypto(9), with its names, numbers, field names and
 * callback shape, for the transforms ESP uses; on a
 * FreeBSD kernel these are the kernel's own.  A session is made from
 * struct crypto_session_params (mode, cipher and authenticator, keys
 * without the RFC 3686/4106/7634 salt); a request (struct cryptop, here
 * set up on the stack with crypto_initreq()) names regions of its mbuf
 * (AAD, payload, digest), carries the whole nonce in crp_iv
 * (CRYPTO_F_IV_SEPARATE) and the high sequence bits in crp_esn
 * (CSP_F_ESN), and crypto_dispatch() runs it and calls crp_callback
 * with crp_etype set (EBADMSG: the digest or tag did not verify, and
 * nothing was decrypted).  Here it is synchronous: the callback has run
 * when crypto_dispatch() returns, as with FreeBSD's software driver
 * (CRYPTOCAP_F_SOFTWARE) and no CRYPTO_F_ASYNC.
 */
#define	CRYPTO_SHA1_HMAC		7	/* the numbers are FreeBSD's */
#define	CRYPTO_AES_CBC			11
#define	CRYPTO_NULL_CBC			16
#define	CRYPTO_DEFLATE_COMP		17	/* RFC 2394, raw deflate */
#define	CRYPTO_SHA2_256_HMAC		18
#define	CRYPTO_SHA2_384_HMAC		19
#define	CRYPTO_SHA2_512_HMAC		20
#define	CRYPTO_AES_ICM			23	/* CTR: 16-byte counter block */
#define	CRYPTO_AES_NIST_GCM_16		25	/* nonce 12 */
#define	CRYPTO_CHACHA20_POLY1305	41	/* nonce 12; RFC 8439 */

#define	AES_GCM_IV_LEN			12
#define	AES_BLOCK_LEN			16
#define	CHACHA20_POLY1305_IV_LEN	12
#define	EALG_MAX_BLOCK_LEN		64	/* ChaCha20's block */
#define	HASH_MAX_LEN			64	/* SHA-512 */

#define	CSP_MODE_NONE			0
#define	CSP_MODE_COMPRESS		1
#define	CSP_MODE_CIPHER			2
#define	CSP_MODE_DIGEST			3
#define	CSP_MODE_AEAD			4
#define	CSP_MODE_ETA			5	/* encrypt then authenticate */

#define	CSP_F_SEPARATE_OUTPUT		0x0001
#define	CSP_F_SEPARATE_AAD		0x0002
#define	CSP_F_ESN			0x0004

#define	CRYPTOCAP_F_HARDWARE		0x01000000
#define	CRYPTOCAP_F_SOFTWARE		0x02000000
#define	CRYPTOCAP_F_SYNC		0x04000000

struct crypto_session_params {
	int		 csp_mode;
	int		 csp_flags;
	int		 csp_ivlen;		/* nonce or IV length */
	int		 csp_cipher_alg;
	int		 csp_cipher_klen;	/* bytes */
	const void	*csp_cipher_key;
	int		 csp_auth_alg;
	int		 csp_auth_klen;		/* bytes */
	const void	*csp_auth_key;
	int		 csp_auth_mlen;		/* digest bytes; 0: full */
};

typedef struct ukern_crypto_session *crypto_session_t;

/* What a request works on: an mbuf chain. */
struct crypto_buffer {
	struct mbuf	*cb_mbuf;
};

#define	CRYPTO_OP_DECRYPT		0x0
#define	CRYPTO_OP_ENCRYPT		0x1
#define	CRYPTO_OP_IS_ENCRYPT(op)	((op) & CRYPTO_OP_ENCRYPT)
#define	CRYPTO_OP_COMPUTE_DIGEST	0x0
#define	CRYPTO_OP_VERIFY_DIGEST		0x2
#define	CRYPTO_OP_DECOMPRESS		CRYPTO_OP_DECRYPT
#define	CRYPTO_OP_COMPRESS		CRYPTO_OP_ENCRYPT
#define	CRYPTO_OP_IS_COMPRESS(op)	((op) & CRYPTO_OP_COMPRESS)

#define	CRYPTO_F_CBIMM			0x0010
#define	CRYPTO_F_DONE			0x0020
#define	CRYPTO_F_IV_SEPARATE		0x0200

struct cryptop {
	crypto_session_t crp_session;
	int		 crp_op;
	int		 crp_flags;
	int		 crp_etype;	/* 0 or an errno, when done */
	struct crypto_buffer crp_buf;	/* crypto_use_mbuf() */
	void		*crp_aad;	/* CSP_F_SEPARATE_AAD */
	int		 crp_aad_start;
	int		 crp_aad_length;
	int		 crp_payload_start;
	int		 crp_payload_length;
	int		 crp_digest_start;
	int		 crp_olen;	/* (de)compressed payload length */
	uint8_t		 crp_iv[EALG_MAX_BLOCK_LEN];
	uint8_t		 crp_esn[4];
	void		*crp_opaque;
	int		(*crp_callback)(struct cryptop *);
};

int	crypto_newsession(crypto_session_t *,
	    const struct crypto_session_params *, int crid);
void	crypto_freesession(crypto_session_t);
void	crypto_initreq(struct cryptop *, crypto_session_t);
void	crypto_destroyreq(struct cryptop *);
int	crypto_dispatch(struct cryptop *);

static inline void
crypto_use_mbuf(struct cryptop *crp, struct mbuf *m)
{

	crp->crp_buf.cb_mbuf = m;
}
/* ---- end of opencrypto(9) ---- */

#endif /* !_UKERN_UKERN_H_ */
