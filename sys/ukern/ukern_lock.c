/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * mutex(9) and rwlock(9) over POSIX threads.  The locks remember their
 * owner so that mtx_assert() and rw_assert() can check it, and misuse
 * (recursion, releasing a lock the thread does not hold) panics as it
 * does in a kernel built with INVARIANTS.
 */

#include <ukern/ukern.h>

/*
 * The owner of a lock: a flag and a thread id.  Only the owner sets them
 * (id first, then the flag with release semantics) and clears the flag
 * before it unlocks, so a thread that reads the flag with acquire
 * semantics and then the id learns reliably whether it is the owner.
 */
static void
ukern_owner_set(int *owned, pthread_t *owner)
{
	pthread_t self;

	self = pthread_self();
	__atomic_store(owner, &self, __ATOMIC_RELAXED);
	__atomic_store_n(owned, 1, __ATOMIC_RELEASE);
}

static int
ukern_owner_is_me(int *owned, pthread_t *owner)
{
	pthread_t who;

	if (!__atomic_load_n(owned, __ATOMIC_ACQUIRE))
		return (0);
	__atomic_load(owner, &who, __ATOMIC_RELAXED);
	return (pthread_equal(who, pthread_self()));
}

void
mtx_init(struct mtx *m, const char *name, const char *type __unused,
    int opts)
{
	pthread_mutexattr_t attr;
	int error;

	KASSERT(opts == MTX_DEF, ("mtx_init(%s): unsupported opts %#x",
	    name, opts));
	memset(m, 0, sizeof(*m));
	m->mtx_name = name;
	if ((error = pthread_mutexattr_init(&attr)) != 0 ||
	    (error = pthread_mutexattr_settype(&attr,
	    PTHREAD_MUTEX_ERRORCHECK)) != 0 ||
	    (error = pthread_mutex_init(&m->mtx_m, &attr)) != 0)
		panic("mtx_init(%s): %s", name, strerror(error));
	pthread_mutexattr_destroy(&attr);
}

void
mtx_destroy(struct mtx *m)
{
	int error;

	if (mtx_owned(m))
		mtx_unlock(m);
	if ((error = pthread_mutex_destroy(&m->mtx_m)) != 0)
		panic("mtx_destroy(%s): %s", m->mtx_name, strerror(error));
}

int
mtx_owned(struct mtx *m)
{

	return (ukern_owner_is_me(&m->mtx_owned, &m->mtx_owner));
}

void
mtx_lock(struct mtx *m)
{
	int error;

	if (mtx_owned(m))
		panic("mtx_lock: recursed on non-recursive mutex %s",
		    m->mtx_name);
	if ((error = pthread_mutex_lock(&m->mtx_m)) != 0)
		panic("mtx_lock(%s): %s", m->mtx_name, strerror(error));
	ukern_owner_set(&m->mtx_owned, &m->mtx_owner);
}

void
mtx_unlock(struct mtx *m)
{
	int error;

	if (!mtx_owned(m))
		panic("mtx_unlock: mutex %s not owned", m->mtx_name);
	__atomic_store_n(&m->mtx_owned, 0, __ATOMIC_RELAXED);
	if ((error = pthread_mutex_unlock(&m->mtx_m)) != 0)
		panic("mtx_unlock(%s): %s", m->mtx_name, strerror(error));
}

void
ukern_mtx_assert(struct mtx *m, int what, const char *file, int line)
{

	switch (what) {
	case MA_OWNED:
		if (!mtx_owned(m))
			panic("mutex %s not owned at %s:%d", m->mtx_name,
			    file, line);
		break;
	case MA_NOTOWNED:
		if (mtx_owned(m))
			panic("mutex %s owned at %s:%d", m->mtx_name, file,
			    line);
		break;
	default:
		panic("mtx_assert(%s): unknown assertion %d at %s:%d",
		    m->mtx_name, what, file, line);
	}
}

/*
 * A pthread rwlock does not say who holds it for reading, so each thread
 * keeps a short list of the read locks it holds (with a count: read
 * locks may be taken recursively, as in FreeBSD).
 */
#define	RW_MAXREAD	16

struct rw_held {
	struct rwlock	*rh_lock;
	int		 rh_count;
};

static _Thread_local struct rw_held rw_held[RW_MAXREAD];

static struct rw_held *
rw_held_find(struct rwlock *rw)
{
	int i;

	for (i = 0; i < RW_MAXREAD; i++)
		if (rw_held[i].rh_lock == rw)
			return (&rw_held[i]);
	return (NULL);
}

void
rw_init(struct rwlock *rw, const char *name)
{
	int error;

	memset(rw, 0, sizeof(*rw));
	rw->rw_name = name;
	if ((error = pthread_rwlock_init(&rw->rw_l, NULL)) != 0)
		panic("rw_init(%s): %s", name, strerror(error));
}

void
rw_destroy(struct rwlock *rw)
{
	int error;

	if (rw_wowned(rw) || rw_held_find(rw) != NULL)
		panic("rw_destroy: lock %s still held", rw->rw_name);
	if ((error = pthread_rwlock_destroy(&rw->rw_l)) != 0)
		panic("rw_destroy(%s): %s", rw->rw_name, strerror(error));
}

int
rw_wowned(struct rwlock *rw)
{

	return (ukern_owner_is_me(&rw->rw_wlocked, &rw->rw_writer));
}

void
rw_rlock(struct rwlock *rw)
{
	struct rw_held *rh;
	int error;

	if (rw_wowned(rw))
		panic("rw_rlock: wlock already held for %s", rw->rw_name);
	if ((rh = rw_held_find(rw)) == NULL &&
	    (rh = rw_held_find(NULL)) == NULL)
		panic("rw_rlock(%s): more than %d read locks held",
		    rw->rw_name, RW_MAXREAD);
	if ((error = pthread_rwlock_rdlock(&rw->rw_l)) != 0)
		panic("rw_rlock(%s): %s", rw->rw_name, strerror(error));
	rh->rh_lock = rw;
	rh->rh_count++;
}

void
rw_runlock(struct rwlock *rw)
{
	struct rw_held *rh;
	int error;

	if ((rh = rw_held_find(rw)) == NULL)
		panic("rw_runlock: lock %s not read-locked", rw->rw_name);
	if (--rh->rh_count == 0)
		rh->rh_lock = NULL;
	if ((error = pthread_rwlock_unlock(&rw->rw_l)) != 0)
		panic("rw_runlock(%s): %s", rw->rw_name, strerror(error));
}

void
rw_wlock(struct rwlock *rw)
{
	int error;

	if (rw_wowned(rw))
		panic("rw_wlock: recursed on non-recursive rwlock %s",
		    rw->rw_name);
	if (rw_held_find(rw) != NULL)
		panic("rw_wlock: rlock already held for %s", rw->rw_name);
	if ((error = pthread_rwlock_wrlock(&rw->rw_l)) != 0)
		panic("rw_wlock(%s): %s", rw->rw_name, strerror(error));
	ukern_owner_set(&rw->rw_wlocked, &rw->rw_writer);
}

void
rw_wunlock(struct rwlock *rw)
{
	int error;

	if (!rw_wowned(rw))
		panic("rw_wunlock: lock %s not write-locked by this thread",
		    rw->rw_name);
	__atomic_store_n(&rw->rw_wlocked, 0, __ATOMIC_RELAXED);
	if ((error = pthread_rwlock_unlock(&rw->rw_l)) != 0)
		panic("rw_wunlock(%s): %s", rw->rw_name, strerror(error));
}

void
ukern_rw_assert(struct rwlock *rw, int what, const char *file, int line)
{
	int rlocked, wlocked;

	rlocked = rw_held_find(rw) != NULL;
	wlocked = rw_wowned(rw);
	switch (what) {
	case RA_LOCKED:
		if (!rlocked && !wlocked)
			panic("lock %s not locked at %s:%d", rw->rw_name,
			    file, line);
		break;
	case RA_RLOCKED:
		if (!rlocked)
			panic("lock %s not read-locked at %s:%d",
			    rw->rw_name, file, line);
		break;
	case RA_WLOCKED:
		if (!wlocked)
			panic("lock %s not write-locked at %s:%d",
			    rw->rw_name, file, line);
		break;
	case RA_UNLOCKED:
		if (rlocked || wlocked)
			panic("lock %s locked at %s:%d", rw->rw_name, file,
			    line);
		break;
	default:
		panic("rw_assert(%s): unknown assertion %d at %s:%d",
		    rw->rw_name, what, file, line);
	}
}
