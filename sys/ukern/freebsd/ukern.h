/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * sys/ukern/ukern.h for a FreeBSD kernel: what PORTING.md prescribes,
 * in the tree so that "make port-check" compiles sys/netipsec with it.
 * The kernel's own headers give malloc(9), mutex(9), rwlock(9),
 * callout(9), counter(9), log(9), time_second, time_uptime,
 * arc4random(9), timingsafe_bcmp(9), explicit_bzero(9), KASSERT and hz;
 * below are the few names that have no kernel twin.
 */

#ifndef _UKERN_UKERN_H_
#define _UKERN_UKERN_H_

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/limits.h>
#include <sys/malloc.h>
#include <sys/lock.h>
#include <sys/mutex.h>
#include <sys/rwlock.h>
#include <sys/callout.h>
#include <sys/counter.h>
#include <sys/syslog.h>
#include <sys/socket.h>
#include <sys/mbuf.h>
#include <sys/queue.h>
#include <sys/tree.h>
#include <netinet/in.h>

/* Addresses carry their length. */
#define	UKERN_HAVE_SA_LEN	1
#define	SA_LEN(sa)	((sa)->sa_len)

/*
 * counter(9).  A counter is a counter_u64_t; a statistics structure of
 * uint64_t is an array of them, as VNET_PCPUSTAT_* has it, allocated at
 * boot by PCPUSTAT_SYSINIT.
 */
#define	COUNTER_ADD(c, n)	counter_u64_add((c), (n))
#define	COUNTER_FETCH(c)	counter_u64_fetch(c)
#define	COUNTER_ALLOC(c, how)						\
	(((c) = counter_u64_alloc(how)) == NULL ? ENOMEM : 0)
#define	COUNTER_FREE(c)		counter_u64_free(c)

#define	PCPUSTAT_DEFINE(type, name)					\
	counter_u64_t name[sizeof(type) / sizeof(uint64_t)]
#define	PCPUSTAT_ADD(type, name, f, v)					\
	counter_u64_add((name)[offsetof(type, f) / sizeof(uint64_t)], (v))
#define	PCPUSTAT_FETCH(type, name, dst)					\
	COUNTER_ARRAY_COPY((name), (dst), sizeof(type) / sizeof(uint64_t))
#define	PCPUSTAT_ZERO(type, name)					\
	COUNTER_ARRAY_ZERO((name), sizeof(type) / sizeof(uint64_t))
#define	PCPUSTAT_SYSINIT(name)						\
static void								\
name ## _pcpustat_init(const void *unused __unused)			\
{									\
	COUNTER_ARRAY_ALLOC(name, nitems(name), M_WAITOK);		\
}									\
SYSINIT(name ## _pcpustat_init, SI_SUB_PROTO_IFATTACHDOMAIN,		\
    SI_ORDER_FIRST, name ## _pcpustat_init, NULL);			\
static void								\
name ## _pcpustat_uninit(const void *unused __unused)			\
{									\
	COUNTER_ARRAY_FREE(name, nitems(name));				\
}									\
SYSUNINIT(name ## _pcpustat_uninit, SI_SUB_PROTO_IFATTACHDOMAIN,	\
    SI_ORDER_FIRST, name ## _pcpustat_uninit, NULL)

#if __FreeBSD_version < 1300000
/*
 * zfree(9) came with FreeBSD 13.  Before it, the allocations of
 * sys/netipsec carry their size in front, as under ukern, so that zfree
 * can zero them whole; malloc, free and zfree are these three.
 */
#define	UKERN_MHDR	16		/* keeps malloc(9)'s alignment */
static __inline void *
ukern_malloc12(size_t size, struct malloc_type *type, int flags)
{
	char *p;

	if (size > SIZE_MAX - UKERN_MHDR)
		return (NULL);
	p = (malloc)(size + UKERN_MHDR, type, flags);
	if (p == NULL)
		return (NULL);
	*(size_t *)(void *)p = size;
	return (p + UKERN_MHDR);
}

static __inline void
ukern_free12(void *addr, struct malloc_type *type, int zero)
{
	char *p;

	if (addr == NULL)
		return;
	p = (char *)addr - UKERN_MHDR;
	if (zero)
		explicit_bzero(p, *(size_t *)(void *)p + UKERN_MHDR);
	(free)(p, type);
}
#undef	malloc
#define	malloc(size, type, flags)	ukern_malloc12((size), (type), (flags))
#define	free(addr, type)		ukern_free12((addr), (type), 0)
#define	zfree(addr, type)		ukern_free12((addr), (type), 1)
#endif

/*
 * opencrypto(9): xform_esp.c calls FreeBSD 13's interface
 * (crypto_session_params, crypto_initreq(), crypto_dispatch()) with a
 * session of the software driver, whose callback has run when
 * crypto_dispatch() returns.  FreeBSD 12's interface (struct cryptoini,
 * cryptodesc chains) is another one.
 */
#include <opencrypto/cryptodev.h>
#if __FreeBSD_version < 1300000
#define	UKERN_NO_OPENCRYPTO13	1	/* xform_esp.c stops with #error */
#endif

/* Debug messages: a port may back this with a sysctl. */
extern int ukern_debug;

#endif /* !_UKERN_UKERN_H_ */
