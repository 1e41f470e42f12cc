/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * malloc(9) over malloc(3): per-type statistics, M_ZERO, M_NOWAIT and
 * M_WAITOK on exhaustion, zfree() zeroing, type checks.
 */

#include <atf-c.h>
#include <ukern/ukern.h>

#include <signal.h>
#include <stdalign.h>

MALLOC_DEFINE(M_TEST, "test", "malloc_test allocations");
MALLOC_DEFINE(M_OTHER, "other", "another type");

/*
 * Under AddressSanitizer an impossible allocation is fatal unless this
 * says otherwise; the tests below want malloc(3) to return NULL.
 */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{

	return ("allocator_may_return_null=1");
}

ATF_TC_WITHOUT_HEAD(statistics);
ATF_TC_BODY(statistics, tc)
{
	void *a, *b;

	ATF_REQUIRE_EQ(M_TEST->ks_calls, 0);
	a = malloc(100, M_TEST, M_WAITOK);
	b = malloc(28, M_TEST, M_NOWAIT);
	ATF_REQUIRE(a != NULL && b != NULL);
	ATF_CHECK_EQ(M_TEST->ks_calls, 2);
	ATF_CHECK_EQ(M_TEST->ks_inuse, 2);
	ATF_CHECK_EQ(M_TEST->ks_memuse, 128);
	free(a, M_TEST);
	ATF_CHECK_EQ(M_TEST->ks_inuse, 1);
	ATF_CHECK_EQ(M_TEST->ks_memuse, 28);
	zfree(b, M_TEST);
	ATF_CHECK_EQ(M_TEST->ks_calls, 2);
	ATF_CHECK_EQ(M_TEST->ks_inuse, 0);
	ATF_CHECK_EQ(M_TEST->ks_memuse, 0);
	/* Types are counted apart. */
	ATF_CHECK_EQ(M_OTHER->ks_calls, 0);
	/* free(NULL) is allowed and changes nothing. */
	free(NULL, M_TEST);
	zfree(NULL, M_TEST);
	ATF_CHECK_EQ(M_TEST->ks_inuse, 0);
}

#define	NTHREADS	2
#define	NALLOCS		20000

static void *
allocator(void *arg __unused)
{
	void *p;
	int i;

	for (i = 0; i < NALLOCS; i++) {
		p = malloc((size_t)(i % 64) + 1, M_TEST, M_WAITOK);
		free(p, M_TEST);
	}
	return (NULL);
}

ATF_TC_WITHOUT_HEAD(statistics_threads);
ATF_TC_BODY(statistics_threads, tc)
{
	pthread_t td[NTHREADS];
	int i;

	for (i = 0; i < NTHREADS; i++)
		ATF_REQUIRE_EQ(pthread_create(&td[i], NULL, allocator, NULL),
		    0);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(td[i], NULL);
	ATF_CHECK_EQ(M_TEST->ks_calls, NTHREADS * NALLOCS);
	ATF_CHECK_EQ(M_TEST->ks_inuse, 0);
	ATF_CHECK_EQ(M_TEST->ks_memuse, 0);
}

ATF_TC_WITHOUT_HEAD(zero);
ATF_TC_BODY(zero, tc)
{
	unsigned char *p;
	size_t i;
	int round;

	/* Dirty the heap first, so that zeroes are not there by luck. */
	for (round = 0; round < 4; round++) {
		p = malloc(4096, M_TEST, M_WAITOK);
		memset(p, 0xa5, 4096);
		free(p, M_TEST);
		p = malloc(4096, M_TEST, M_WAITOK | M_ZERO);
		for (i = 0; i < 4096; i++)
			ATF_REQUIRE_EQ_MSG(p[i], 0, "byte %zu is %#x", i, p[i]);
		free(p, M_TEST);
	}
}

ATF_TC_WITHOUT_HEAD(alignment);
ATF_TC_BODY(alignment, tc)
{
	void *p;
	size_t size;

	for (size = 0; size < 100; size += 7) {
		p = malloc(size, M_TEST, M_WAITOK);
		ATF_CHECK_EQ((uintptr_t)p % alignof(max_align_t), 0);
		free(p, M_TEST);
	}
}

ATF_TC_WITHOUT_HEAD(nowait_exhausted);
ATF_TC_BODY(nowait_exhausted, tc)
{

	ATF_CHECK(malloc(SIZE_MAX / 2, M_TEST, M_NOWAIT) == NULL);
	/* The header must not wrap the size around. */
	ATF_CHECK(malloc(SIZE_MAX - 4, M_TEST, M_NOWAIT | M_ZERO) == NULL);
	ATF_CHECK_EQ(M_TEST->ks_calls, 0);
	ATF_CHECK_EQ(M_TEST->ks_inuse, 0);
	ATF_CHECK_EQ(M_TEST->ks_memuse, 0);
}

ATF_TC_WITHOUT_HEAD(waitok_exhausted_panics);
ATF_TC_BODY(waitok_exhausted_panics, tc)
{

	atf_tc_expect_signal(SIGABRT, "M_WAITOK never returns NULL");
	(void)malloc(SIZE_MAX / 2, M_TEST, M_WAITOK);
}

/* What the free hook saw of the last allocation released. */
static size_t hook_size, hook_nonzero;
static struct malloc_type *hook_type;

static void
free_hook(void *addr, size_t size, struct malloc_type *type)
{
	const unsigned char *p;
	size_t i;

	p = addr;
	hook_size = size;
	hook_type = type;
	hook_nonzero = 0;
	for (i = 0; i < size; i++)
		if (p[i] != 0)
			hook_nonzero++;
}

ATF_TC_WITHOUT_HEAD(zfree_zeroes);
ATF_TC_BODY(zfree_zeroes, tc)
{
	unsigned char *key;

	ukern_free_hook = free_hook;

	/* free() leaves the contents alone: the hook can tell. */
	key = malloc(48, M_TEST, M_WAITOK);
	memset(key, 0x5a, 48);
	free(key, M_TEST);
	ATF_CHECK_EQ(hook_size, 48);
	ATF_CHECK(hook_type == M_TEST);
	ATF_CHECK_EQ(hook_nonzero, 48);

	key = malloc(37, M_TEST, M_WAITOK);
	memset(key, 0x5a, 37);
	zfree(key, M_TEST);
	ATF_CHECK_EQ(hook_size, 37);
	ATF_CHECK_EQ_MSG(hook_nonzero, 0, "%zu bytes not zeroed",
	    hook_nonzero);

	ukern_free_hook = NULL;
}

ATF_TC_WITHOUT_HEAD(free_wrong_type_panics);
ATF_TC_BODY(free_wrong_type_panics, tc)
{
	void *p;

	atf_tc_expect_signal(SIGABRT, "free with another type panics");
	p = malloc(10, M_TEST, M_WAITOK);
	free(p, M_OTHER);
}

ATF_TC_WITHOUT_HEAD(bad_flags_panic);
ATF_TC_BODY(bad_flags_panic, tc)
{

	atf_tc_expect_signal(SIGABRT, "neither M_WAITOK nor M_NOWAIT");
	(void)malloc(10, M_TEST, M_ZERO);
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, statistics);
	ATF_TP_ADD_TC(tp, statistics_threads);
	ATF_TP_ADD_TC(tp, zero);
	ATF_TP_ADD_TC(tp, alignment);
	ATF_TP_ADD_TC(tp, nowait_exhausted);
	ATF_TP_ADD_TC(tp, waitok_exhausted_panics);
	ATF_TP_ADD_TC(tp, zfree_zeroes);
	ATF_TP_ADD_TC(tp, free_wrong_type_panics);
	ATF_TP_ADD_TC(tp, bad_flags_panic);
	return (atf_no_error());
}
