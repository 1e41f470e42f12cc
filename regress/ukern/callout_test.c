/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * callout(9) on the ukern callout thread: order and delay, reset, stop,
 * drain, callouts that re-arm or drain themselves, ukern_fini().
 */

#include <atf-c.h>
#include <ukern/ukern.h>

#include <time.h>

/* What the callouts did, in order; read by the test's own thread. */
static struct {
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cv;
	int		 n;
	int		 id[16];
	uint64_t	 when[16];	/* ms since the test started */
	int		 ret[16];	/* a value the callout reports */
	volatile int	 started;
	volatile int	 done;
} rec = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
	.cv = PTHREAD_COND_INITIALIZER,
};

static uint64_t t0;

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
}

static void
msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0)
		continue;
}

static void
record(int id, int ret)
{

	pthread_mutex_lock(&rec.mtx);
	if (rec.n < (int)nitems(rec.id)) {
		rec.id[rec.n] = id;
		rec.when[rec.n] = now_us() - t0;
		rec.ret[rec.n] = ret;
		rec.n++;
	}
	pthread_cond_broadcast(&rec.cv);
	pthread_mutex_unlock(&rec.mtx);
}

/* Wait until n records exist or ms have passed; the number there is. */
static int
wait_records(int n, int ms)
{
	struct timespec ts;
	int got;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&rec.mtx);
	while (rec.n < n &&
	    pthread_cond_timedwait(&rec.cv, &rec.mtx, &ts) == 0)
		continue;
	got = rec.n;
	pthread_mutex_unlock(&rec.mtx);
	return (got);
}

static void
setup(void)
{

	ATF_REQUIRE_EQ(ukern_init(), 0);
	t0 = now_us();
}

static void
fire(void *arg)
{

	record((int)(intptr_t)arg, 0);
}

ATF_TC_WITHOUT_HEAD(order_and_delay);
ATF_TC_BODY(order_and_delay, tc)
{
	static const int delay[] = { 60, 20, 40, 20, 1 };
	static const int expect[] = { 5, 2, 4, 3, 1 };
	struct callout c[5];
	int i;

	setup();
	for (i = 0; i < 5; i++) {
		callout_init(&c[i], 1);
		ATF_REQUIRE_EQ(callout_reset(&c[i], delay[i] * hz / 1000,
		    fire, (void *)(intptr_t)(i + 1)), 0);
		ATF_REQUIRE(callout_pending(&c[i]));
	}
	ATF_REQUIRE_EQ(wait_records(5, 1000), 5);
	for (i = 0; i < 5; i++) {
		ATF_CHECK_EQ_MSG(rec.id[i], expect[i],
		    "callout %d ran as number %d", rec.id[i], i + 1);
		ATF_CHECK_MSG(rec.when[i] >= (uint64_t)delay[rec.id[i] - 1] *
		    1000, "callout %d (%d ms) ran after %ju us", rec.id[i],
		    delay[rec.id[i] - 1], (uintmax_t)rec.when[i]);
		ATF_CHECK(!callout_pending(&c[i]));
	}
	ukern_fini();
}

ATF_TC_WITHOUT_HEAD(reset_rearms);
ATF_TC_BODY(reset_rearms, tc)
{
	struct callout c;

	setup();
	callout_init(&c, 1);
	ATF_REQUIRE(!callout_pending(&c));
	ATF_REQUIRE_EQ(callout_reset(&c, 30, fire, (void *)1), 0);
	/* Re-armed while pending: the new function, time and argument. */
	ATF_REQUIRE_EQ(callout_reset(&c, 10, fire, (void *)2), 1);
	ATF_REQUIRE(callout_pending(&c));
	ATF_REQUIRE_EQ(wait_records(1, 1000), 1);
	ATF_CHECK_EQ(rec.id[0], 2);
	ATF_CHECK(rec.when[0] >= 10000);
	/* Once run, it is not pending, and the first arming is gone. */
	msleep(40);
	ATF_CHECK_EQ(wait_records(2, 0), 1);
	ATF_CHECK(!callout_pending(&c));
	ATF_CHECK_EQ(callout_reset(&c, 1, fire, (void *)3), 0);
	ATF_REQUIRE_EQ(wait_records(2, 1000), 2);
	ATF_CHECK_EQ(rec.id[1], 3);
	ukern_fini();
}

ATF_TC_WITHOUT_HEAD(stop);
ATF_TC_BODY(stop, tc)
{
	struct callout c;

	setup();
	callout_init(&c, 1);
	ATF_REQUIRE_EQ(callout_stop(&c), 0);
	callout_reset(&c, 20, fire, (void *)1);
	ATF_CHECK_EQ(callout_stop(&c), 1);
	ATF_CHECK_EQ(callout_stop(&c), 0);
	ATF_CHECK(!callout_pending(&c));
	msleep(40);
	ATF_CHECK_EQ(wait_records(1, 0), 0);
	ukern_fini();
}

static struct callout slow_c;

static void
slow(void *arg __unused)
{

	rec.started = 1;
	msleep(100);
	rec.done = 1;
	record(1, 0);
}

ATF_TC_WITHOUT_HEAD(drain_waits);
ATF_TC_BODY(drain_waits, tc)
{
	int i;

	setup();
	callout_init(&slow_c, 1);
	callout_reset(&slow_c, 1, slow, NULL);
	for (i = 0; i < 1000 && !rec.started; i++)
		msleep(1);
	ATF_REQUIRE(rec.started);
	/* Not pending (it is running), so drain returns 0, after it ends. */
	ATF_CHECK_EQ(callout_drain(&slow_c), 0);
	ATF_CHECK_EQ(rec.done, 1);
	ukern_fini();
}

ATF_TC_WITHOUT_HEAD(drain_pending);
ATF_TC_BODY(drain_pending, tc)
{
	struct callout c;

	setup();
	callout_init(&c, 1);
	callout_reset(&c, 20, fire, (void *)1);
	ATF_CHECK_EQ(callout_drain(&c), 1);
	msleep(40);
	ATF_CHECK_EQ(wait_records(1, 0), 0);
	ukern_fini();
}

static struct callout self_c;

static void
drain_self(void *arg __unused)
{

	/* From the callout thread: must return at once, not wait for us. */
	record(1, callout_drain(&self_c));
	record(2, callout_stop(&self_c));
}

ATF_TC_WITHOUT_HEAD(drain_from_callout);
ATF_TC_BODY(drain_from_callout, tc)
{

	setup();
	callout_init(&self_c, 1);
	callout_reset(&self_c, 1, drain_self, NULL);
	ATF_REQUIRE_EQ_MSG(wait_records(2, 1000), 2,
	    "callout_drain() from the callout itself did not return");
	ATF_CHECK_EQ(rec.ret[0], 0);
	ATF_CHECK_EQ(rec.ret[1], 0);
	ukern_fini();
}

static struct callout rearm_c;
static int rearm_count;

static void
rearm(void *arg __unused)
{
	int ret;

	ret = -1;
	if (++rearm_count < 5)
		ret = callout_reset(&rearm_c, 2, rearm, NULL);
	record(rearm_count, ret);
}

ATF_TC_WITHOUT_HEAD(rearm_itself);
ATF_TC_BODY(rearm_itself, tc)
{
	int i;

	setup();
	callout_init(&rearm_c, 1);
	callout_reset(&rearm_c, 1, rearm, NULL);
	ATF_REQUIRE_EQ(wait_records(5, 1000), 5);
	for (i = 0; i < 4; i++) {
		ATF_CHECK_EQ(rec.id[i], i + 1);
		/* It was not pending while it ran. */
		ATF_CHECK_EQ(rec.ret[i], 0);
		ATF_CHECK(rec.when[i + 1] >= rec.when[i] + 2000);
	}
	msleep(10);
	ATF_CHECK_EQ(wait_records(6, 0), 5);
	ATF_CHECK(!callout_pending(&rearm_c));
	ukern_fini();
}

static struct callout busy_c;

static void
busy_rearm(void *arg __unused)
{

	rec.started = 1;
	msleep(50);
	record(1, callout_reset(&busy_c, 1, busy_rearm, NULL));
}

ATF_TC_WITHOUT_HEAD(drain_blocks_rearm);
ATF_TC_BODY(drain_blocks_rearm, tc)
{
	int i;

	setup();
	callout_init(&busy_c, 1);
	callout_reset(&busy_c, 1, busy_rearm, NULL);
	for (i = 0; i < 1000 && !rec.started; i++)
		msleep(1);
	ATF_REQUIRE(rec.started);
	callout_drain(&busy_c);
	ATF_CHECK_EQ(wait_records(1, 0), 1);
	/* The re-arming during the drain did not happen. */
	ATF_CHECK(!callout_pending(&busy_c));
	msleep(20);
	ATF_CHECK_EQ(wait_records(2, 0), 1);
	ukern_fini();
}

ATF_TC_WITHOUT_HEAD(fini_stops);
ATF_TC_BODY(fini_stops, tc)
{
	struct callout c;

	setup();
	callout_init(&c, 1);
	callout_reset(&c, 10, fire, (void *)1);
	ukern_fini();
	ATF_CHECK(!callout_pending(&c));
	msleep(30);
	ATF_CHECK_EQ(wait_records(1, 0), 0);

	/* And it starts again. */
	ATF_REQUIRE_EQ(ukern_init(), 0);
	callout_reset(&c, 1, fire, (void *)2);
	ATF_REQUIRE_EQ(wait_records(1, 1000), 1);
	ATF_CHECK_EQ(rec.id[0], 2);
	ukern_fini();
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, order_and_delay);
	ATF_TP_ADD_TC(tp, reset_rearms);
	ATF_TP_ADD_TC(tp, stop);
	ATF_TP_ADD_TC(tp, drain_waits);
	ATF_TP_ADD_TC(tp, drain_pending);
	ATF_TP_ADD_TC(tp, drain_from_callout);
	ATF_TP_ADD_TC(tp, rearm_itself);
	ATF_TP_ADD_TC(tp, drain_blocks_rearm);
	ATF_TP_ADD_TC(tp, fini_stops);
	return (atf_no_error());
}
