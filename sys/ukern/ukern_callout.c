/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * callout(9) on one host thread.  Pending callouts sit on one list in
 * the order they are due; the thread sleeps on a condition variable
 * (timed on CLOCK_MONOTONIC) until the first is due or the list changes,
 * then runs it with no lock held, so that a callout may reset, stop or
 * drain itself or any other.  ukern_init() starts the thread and
 * ukern_fini() stops it: they live here because the thread is all that
 * the environment has to start.
 */

#include <ukern/ukern.h>

#include <time.h>

int hz = 1000;

/* Private to this file: a callout_drain() waits for this callout. */
#define	CALLOUT_DRAINING	0x8000

static TAILQ_HEAD(, callout) co_list = TAILQ_HEAD_INITIALIZER(co_list);
static pthread_mutex_t	 co_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 co_wakeup;	/* the list changed, or stop */
static pthread_cond_t	 co_done;	/* co_running finished */
static pthread_once_t	 co_once = PTHREAD_ONCE_INIT;
static pthread_t	 co_thread;
static struct callout	*co_running;	/* being run, or NULL */
static bool		 co_started;
static bool		 co_stopping;

static void
co_setup(void)
{
	pthread_condattr_t attr;
	int error;

	if ((error = pthread_condattr_init(&attr)) != 0 ||
	    (error = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)) != 0 ||
	    (error = pthread_cond_init(&co_wakeup, &attr)) != 0 ||
	    (error = pthread_cond_init(&co_done, &attr)) != 0)
		panic("callout: cannot set up: %s", strerror(error));
	pthread_condattr_destroy(&attr);
}

static void
co_lock(void)
{

	pthread_once(&co_once, co_setup);
	pthread_mutex_lock(&co_mtx);
}

static void
co_unlock(void)
{

	pthread_mutex_unlock(&co_mtx);
}

static uint64_t
co_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec);
}

static bool
co_on_thread(void)
{

	return (co_started && pthread_equal(co_thread, pthread_self()));
}

/* Unlink a pending callout; true if it was pending. */
static bool
co_remove(struct callout *c)
{

	if ((c->c_flags & CALLOUT_PENDING) == 0)
		return (false);
	TAILQ_REMOVE(&co_list, c, c_link);
	c->c_flags &= ~CALLOUT_PENDING;
	return (true);
}

void
callout_init(struct callout *c, int mpsafe __unused)
{

	memset(c, 0, sizeof(*c));
}

int
callout_reset(struct callout *c, int ticks, void (*func)(void *), void *arg)
{
	struct callout *next;
	uint64_t now;
	int pending;

	if (ticks <= 0)
		ticks = 1;
	co_lock();
	/* A callout being drained is not re-armed, not even by itself. */
	if (c->c_flags & CALLOUT_DRAINING) {
		co_unlock();
		return (0);
	}
	pending = co_remove(c);
	/*
	 * Due "ticks" whole milliseconds from now, rounded up, so that it
	 * never runs early.
	 */
	now = co_now_ns();
	c->c_time = (now + 999999) / 1000000 +
	    ((uint64_t)ticks * 1000 + (uint64_t)hz - 1) / (uint64_t)hz;
	c->c_func = func;
	c->c_arg = arg;
	c->c_flags |= CALLOUT_PENDING | CALLOUT_ACTIVE;
	/* After those due at the same time: equal delays run in order. */
	TAILQ_FOREACH(next, &co_list, c_link)
		if (next->c_time > c->c_time)
			break;
	if (next != NULL)
		TAILQ_INSERT_BEFORE(next, c, c_link);
	else
		TAILQ_INSERT_TAIL(&co_list, c, c_link);
	if (TAILQ_FIRST(&co_list) == c)
		pthread_cond_signal(&co_wakeup);
	co_unlock();
	return (pending);
}

int
callout_stop(struct callout *c)
{
	int pending;

	co_lock();
	pending = co_remove(c);
	c->c_flags &= ~CALLOUT_ACTIVE;
	co_unlock();
	return (pending);
}

int
callout_drain(struct callout *c)
{
	int pending;

	co_lock();
	pending = co_remove(c);
	c->c_flags &= ~CALLOUT_ACTIVE;
	/*
	 * Wait until it has finished, unless this is the callout thread
	 * (the callout draining itself, or another one): it cannot be
	 * running elsewhere then, and waiting would never end.
	 */
	if (co_running == c && !co_on_thread()) {
		c->c_flags |= CALLOUT_DRAINING;
		while (co_running == c)
			pthread_cond_wait(&co_done, &co_mtx);
		c->c_flags &= ~CALLOUT_DRAINING;
	}
	co_unlock();
	return (pending);
}

int
callout_pending(struct callout *c)
{
	int pending;

	co_lock();
	pending = (c->c_flags & CALLOUT_PENDING) != 0;
	co_unlock();
	return (pending);
}

static void *
co_main(void *arg __unused)
{
	struct callout *c;
	struct timespec ts;
	void (*func)(void *);
	void *farg;
	uint64_t due;

	co_lock();
	while (!co_stopping) {
		if ((c = TAILQ_FIRST(&co_list)) == NULL) {
			pthread_cond_wait(&co_wakeup, &co_mtx);
			continue;
		}
		due = c->c_time * 1000000;
		if (co_now_ns() < due) {
			ts.tv_sec = (time_t)(due / 1000000000);
			ts.tv_nsec = (long)(due % 1000000000);
			pthread_cond_timedwait(&co_wakeup, &co_mtx, &ts);
			continue;
		}
		co_remove(c);
		func = c->c_func;
		farg = c->c_arg;
		co_running = c;
		co_unlock();
		func(farg);
		/* c may be gone now: compare the pointer, never follow it. */
		co_lock();
		co_running = NULL;
		pthread_cond_broadcast(&co_done);
	}
	co_unlock();
	return (NULL);
}

int
ukern_init(void)
{
	int error;

	co_lock();
	error = 0;
	if (!co_started) {
		co_stopping = false;
		error = pthread_create(&co_thread, NULL, co_main, NULL);
		co_started = (error == 0);
	}
	co_unlock();
	return (error);
}

void
ukern_fini(void)
{
	struct callout *c;
	pthread_t td;

	co_lock();
	/* Not from a callout: the thread cannot wait for itself to end. */
	if (!co_started || co_on_thread()) {
		co_unlock();
		return;
	}
	co_stopping = true;
	pthread_cond_signal(&co_wakeup);
	td = co_thread;
	co_unlock();
	pthread_join(td, NULL);

	/* Callouts still pending never run; the next ukern_init() is clean. */
	co_lock();
	co_started = false;
	while ((c = TAILQ_FIRST(&co_list)) != NULL)
		co_remove(c);
	co_unlock();
}
