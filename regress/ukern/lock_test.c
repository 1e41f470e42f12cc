/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * mutex(9) and rwlock(9) over pthreads: mutual exclusion, the owner
 * asserts, and the panics of an INVARIANTS kernel on misuse.
 */

#include <atf-c.h>
#include <ukern/ukern.h>

#include <signal.h>

#define	NLOOPS	100000

static struct mtx m;
static struct rwlock rw;
static long counter;
static volatile int flag;

static pthread_t
spawn(void *(*fn)(void *))
{
	pthread_t td;

	ATF_REQUIRE_EQ(pthread_create(&td, NULL, fn, NULL), 0);
	return (td);
}

ATF_TC_WITHOUT_HEAD(mtx_owner);
ATF_TC_BODY(mtx_owner, tc)
{

	mtx_init(&m, "test", NULL, MTX_DEF);
	ATF_CHECK(!mtx_owned(&m));
	mtx_assert(&m, MA_NOTOWNED);
	mtx_lock(&m);
	ATF_CHECK(mtx_owned(&m));
	mtx_assert(&m, MA_OWNED);
	mtx_unlock(&m);
	ATF_CHECK(!mtx_owned(&m));
	mtx_destroy(&m);
}

static void *
mtx_adder(void *arg __unused)
{
	int i;

	for (i = 0; i < NLOOPS; i++) {
		mtx_lock(&m);
		counter++;
		mtx_unlock(&m);
	}
	return (NULL);
}

ATF_TC_WITHOUT_HEAD(mtx_excludes);
ATF_TC_BODY(mtx_excludes, tc)
{
	pthread_t a, b;

	mtx_init(&m, "test", NULL, MTX_DEF);
	a = spawn(mtx_adder);
	b = spawn(mtx_adder);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	ATF_CHECK_EQ(counter, 2 * NLOOPS);
	mtx_destroy(&m);
}

static void *
mtx_check_not_mine(void *arg __unused)
{

	flag = mtx_owned(&m) ? 2 : 1;
	return (NULL);
}

ATF_TC_WITHOUT_HEAD(mtx_owned_per_thread);
ATF_TC_BODY(mtx_owned_per_thread, tc)
{

	mtx_init(&m, "test", NULL, MTX_DEF);
	mtx_lock(&m);
	pthread_join(spawn(mtx_check_not_mine), NULL);
	ATF_CHECK_EQ_MSG(flag, 1, "another thread thinks it owns the mutex");
	mtx_unlock(&m);
	mtx_destroy(&m);
}

ATF_TC_WITHOUT_HEAD(mtx_recursion_panics);
ATF_TC_BODY(mtx_recursion_panics, tc)
{

	atf_tc_expect_signal(SIGABRT, "recursion on a mutex panics");
	mtx_init(&m, "test", NULL, MTX_DEF);
	mtx_lock(&m);
	mtx_lock(&m);
}

ATF_TC_WITHOUT_HEAD(mtx_unlock_unowned_panics);
ATF_TC_BODY(mtx_unlock_unowned_panics, tc)
{

	atf_tc_expect_signal(SIGABRT, "unlocking an unowned mutex panics");
	mtx_init(&m, "test", NULL, MTX_DEF);
	mtx_unlock(&m);
}

static void *
mtx_unlocker(void *arg __unused)
{

	mtx_unlock(&m);
	return (NULL);
}

ATF_TC_WITHOUT_HEAD(mtx_unlock_other_thread_panics);
ATF_TC_BODY(mtx_unlock_other_thread_panics, tc)
{

	atf_tc_expect_signal(SIGABRT,
	    "unlocking another thread's mutex panics");
	mtx_init(&m, "test", NULL, MTX_DEF);
	mtx_lock(&m);
	pthread_join(spawn(mtx_unlocker), NULL);
}

ATF_TC_WITHOUT_HEAD(mtx_assert_panics);
ATF_TC_BODY(mtx_assert_panics, tc)
{

	atf_tc_expect_signal(SIGABRT, "mtx_assert(MA_OWNED) of a free mutex");
	mtx_init(&m, "test", NULL, MTX_DEF);
	mtx_assert(&m, MA_OWNED);
}

ATF_TC_WITHOUT_HEAD(rw_owner);
ATF_TC_BODY(rw_owner, tc)
{

	rw_init(&rw, "test");
	rw_assert(&rw, RA_UNLOCKED);
	rw_rlock(&rw);
	rw_assert(&rw, RA_RLOCKED);
	rw_assert(&rw, RA_LOCKED);
	ATF_CHECK(!rw_wowned(&rw));
	/* Read locks may recurse. */
	rw_rlock(&rw);
	rw_runlock(&rw);
	rw_assert(&rw, RA_RLOCKED);
	rw_runlock(&rw);
	rw_assert(&rw, RA_UNLOCKED);
	rw_wlock(&rw);
	ATF_CHECK(rw_wowned(&rw));
	rw_assert(&rw, RA_WLOCKED);
	rw_assert(&rw, RA_LOCKED);
	rw_wunlock(&rw);
	ATF_CHECK(!rw_wowned(&rw));
	rw_assert(&rw, RA_UNLOCKED);
	rw_destroy(&rw);
}

static void *
rw_reader(void *arg __unused)
{

	rw_rlock(&rw);
	rw_assert(&rw, RA_RLOCKED);
	flag = rw_wowned(&rw) ? 2 : 1;
	rw_runlock(&rw);
	return (NULL);
}

ATF_TC_WITHOUT_HEAD(rw_readers_share);
ATF_TC_BODY(rw_readers_share, tc)
{

	rw_init(&rw, "test");
	rw_rlock(&rw);
	/* Would hang if a second reader were refused while we read. */
	pthread_join(spawn(rw_reader), NULL);
	ATF_CHECK_EQ(flag, 1);
	rw_runlock(&rw);
	rw_destroy(&rw);
}

static void *
rw_adder(void *arg __unused)
{
	int i;

	for (i = 0; i < NLOOPS; i++) {
		rw_wlock(&rw);
		counter++;
		rw_wunlock(&rw);
		rw_rlock(&rw);
		if (counter <= 0)
			flag = 3;
		rw_runlock(&rw);
	}
	return (NULL);
}

ATF_TC_WITHOUT_HEAD(rw_writers_exclude);
ATF_TC_BODY(rw_writers_exclude, tc)
{
	pthread_t a, b;

	rw_init(&rw, "test");
	a = spawn(rw_adder);
	b = spawn(rw_adder);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	ATF_CHECK_EQ(counter, 2 * NLOOPS);
	ATF_CHECK_EQ(flag, 0);
	rw_destroy(&rw);
}

ATF_TC_WITHOUT_HEAD(rw_wlock_recursion_panics);
ATF_TC_BODY(rw_wlock_recursion_panics, tc)
{

	atf_tc_expect_signal(SIGABRT, "rw_wlock twice panics");
	rw_init(&rw, "test");
	rw_wlock(&rw);
	rw_wlock(&rw);
}

ATF_TC_WITHOUT_HEAD(rw_rlock_under_wlock_panics);
ATF_TC_BODY(rw_rlock_under_wlock_panics, tc)
{

	atf_tc_expect_signal(SIGABRT, "rw_rlock while write-locked panics");
	rw_init(&rw, "test");
	rw_wlock(&rw);
	rw_rlock(&rw);
}

ATF_TC_WITHOUT_HEAD(rw_runlock_unlocked_panics);
ATF_TC_BODY(rw_runlock_unlocked_panics, tc)
{

	atf_tc_expect_signal(SIGABRT, "rw_runlock without a read lock");
	rw_init(&rw, "test");
	rw_runlock(&rw);
}

ATF_TC_WITHOUT_HEAD(rw_assert_panics);
ATF_TC_BODY(rw_assert_panics, tc)
{

	atf_tc_expect_signal(SIGABRT, "rw_assert(RA_WLOCKED) under rlock");
	rw_init(&rw, "test");
	rw_rlock(&rw);
	rw_assert(&rw, RA_WLOCKED);
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, mtx_owner);
	ATF_TP_ADD_TC(tp, mtx_excludes);
	ATF_TP_ADD_TC(tp, mtx_owned_per_thread);
	ATF_TP_ADD_TC(tp, mtx_recursion_panics);
	ATF_TP_ADD_TC(tp, mtx_unlock_unowned_panics);
	ATF_TP_ADD_TC(tp, mtx_unlock_other_thread_panics);
	ATF_TP_ADD_TC(tp, mtx_assert_panics);
	ATF_TP_ADD_TC(tp, rw_owner);
	ATF_TP_ADD_TC(tp, rw_readers_share);
	ATF_TP_ADD_TC(tp, rw_writers_exclude);
	ATF_TP_ADD_TC(tp, rw_wlock_recursion_panics);
	ATF_TP_ADD_TC(tp, rw_rlock_under_wlock_panics);
	ATF_TP_ADD_TC(tp, rw_runlock_unlocked_panics);
	ATF_TP_ADD_TC(tp, rw_assert_panics);
	return (atf_no_error());
}
