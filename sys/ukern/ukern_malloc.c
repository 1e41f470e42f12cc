/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * malloc(9) over malloc(3).  Each allocation carries a header with its
 * size and type, so that free(9) can keep the per-type statistics and
 * zfree(9) knows how much to zero.
 */

#include <ukern/ukern.h>

/* This file calls libc's allocator: drop the malloc(9) macros. */
#undef malloc
#undef free
#undef zfree

#define	UKERN_MALLOC_MAGIC	0x6d616c6cU	/* "mall" */
#define	UKERN_FREED_MAGIC	0x66726565U	/* "free" */

/*
 * The header in front of every allocation.  The union keeps the memory
 * handed out aligned as malloc(3)'s is.
 */
union malloc_hdr {
	struct {
		size_t			 mh_size;
		struct malloc_type	*mh_type;
		uint32_t		 mh_magic;
	} mh_s;
	max_align_t		 mh_align;
};

void	(*ukern_free_hook)(void *, size_t, struct malloc_type *);

static union malloc_hdr *
malloc_hdr(void *addr, struct malloc_type *type, const char *func)
{
	union malloc_hdr *mh;

	mh = (union malloc_hdr *)addr - 1;
	if (mh->mh_s.mh_magic != UKERN_MALLOC_MAGIC)
		panic("%s(%p, %s): not allocated by malloc(9) (magic %#x)",
		    func, addr, type->ks_shortdesc, mh->mh_s.mh_magic);
	if (mh->mh_s.mh_type != type)
		panic("%s(%p, %s): allocated with type %s", func, addr,
		    type->ks_shortdesc, mh->mh_s.mh_type->ks_shortdesc);
	return (mh);
}

void *
ukern_malloc(size_t size, struct malloc_type *type, int flags)
{
	union malloc_hdr *mh;
	int wait;

	wait = flags & (M_NOWAIT | M_WAITOK);
	KASSERT(wait == M_NOWAIT || wait == M_WAITOK,
	    ("malloc(%zu, %s): need exactly one of M_NOWAIT, M_WAITOK "
	    "(flags %#x)", size, type->ks_shortdesc, flags));

	mh = NULL;
	if (size <= SIZE_MAX - sizeof(*mh))
		mh = (flags & M_ZERO) ? calloc(1, sizeof(*mh) + size) :
		    malloc(sizeof(*mh) + size);
	if (mh == NULL) {
		if (flags & M_WAITOK)
			panic("malloc(%zu, %s, M_WAITOK): out of memory",
			    size, type->ks_shortdesc);
		return (NULL);
	}
	mh->mh_s.mh_size = size;
	mh->mh_s.mh_type = type;
	mh->mh_s.mh_magic = UKERN_MALLOC_MAGIC;

	__atomic_fetch_add(&type->ks_calls, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&type->ks_inuse, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&type->ks_memuse, (int64_t)size, __ATOMIC_RELAXED);
	return (mh + 1);
}

static void
malloc_release(union malloc_hdr *mh, struct malloc_type *type)
{
	size_t size;
	void (*hook)(void *, size_t, struct malloc_type *);

	size = mh->mh_s.mh_size;
	hook = __atomic_load_n(&ukern_free_hook, __ATOMIC_ACQUIRE);
	if (hook != NULL)
		hook(mh + 1, size, type);

	__atomic_fetch_sub(&type->ks_inuse, 1, __ATOMIC_RELAXED);
	__atomic_fetch_sub(&type->ks_memuse, (int64_t)size, __ATOMIC_RELAXED);
	mh->mh_s.mh_magic = UKERN_FREED_MAGIC;
	free(mh);
}

void
ukern_free(void *addr, struct malloc_type *type)
{

	if (addr == NULL)
		return;
	malloc_release(malloc_hdr(addr, type, "free"), type);
}

void
ukern_zfree(void *addr, struct malloc_type *type)
{
	union malloc_hdr *mh;

	if (addr == NULL)
		return;
	mh = malloc_hdr(addr, type, "zfree");
	ukern_explicit_bzero(addr, mh->mh_s.mh_size);
	malloc_release(mh, type);
}
