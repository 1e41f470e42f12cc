/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The rest of sys/ukern: timingsafe_bcmp(), explicit_bzero(), time,
 * arc4random(), SA_LEN(), log(9) and its logger hook, panic(9) and
 * KASSERT().
 */

#define	INVARIANTS	1	/* KASSERT() is compiled in */

#include <atf-c.h>
#include <ukern/ukern.h>

#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

ATF_TC_WITHOUT_HEAD(timingsafe_bcmp);
ATF_TC_BODY(timingsafe_bcmp, tc)
{
	unsigned char a[64], b[64];
	size_t i;
	int bit;

	for (i = 0; i < sizeof(a); i++)
		a[i] = b[i] = (unsigned char)(i * 7 + 1);
	ATF_CHECK_EQ(timingsafe_bcmp(a, b, sizeof(a)), 0);
	ATF_CHECK_EQ(timingsafe_bcmp(a, b, 0), 0);
	/* Any one bit that differs, anywhere, is seen. */
	for (i = 0; i < sizeof(a); i++)
		for (bit = 0; bit < 8; bit++) {
			b[i] ^= (unsigned char)(1 << bit);
			ATF_CHECK_MSG(timingsafe_bcmp(a, b, sizeof(a)) != 0,
			    "byte %zu bit %d", i, bit);
			/* ... but not outside the length compared. */
			if (i > 0)
				ATF_CHECK_EQ(timingsafe_bcmp(a, b, i), 0);
			b[i] ^= (unsigned char)(1 << bit);
		}
}

ATF_TC_WITHOUT_HEAD(explicit_bzero);
ATF_TC_BODY(explicit_bzero, tc)
{
	unsigned char buf[33];
	size_t i;

	memset(buf, 0xff, sizeof(buf));
	explicit_bzero(buf + 1, 31);
	ATF_CHECK_EQ(buf[0], 0xff);
	for (i = 1; i < 32; i++)
		ATF_CHECK_EQ(buf[i], 0);
	ATF_CHECK_EQ(buf[32], 0xff);
}

ATF_TC_WITHOUT_HEAD(time);
ATF_TC_BODY(time, tc)
{
	time_t up, up2, wall;

	wall = time(NULL);
	ATF_CHECK(time_second >= wall && time_second <= wall + 2);
	up = time_uptime;
	up2 = time_uptime;
	ATF_CHECK(up >= 0);
	ATF_CHECK(up2 >= up);
}

ATF_TC_WITHOUT_HEAD(arc4random);
ATF_TC_BODY(arc4random, tc)
{
	unsigned char a[32], b[32], zero[32];
	uint32_t v, ored;
	int i;

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	memset(zero, 0, sizeof(zero));
	arc4random_buf(a, sizeof(a));
	arc4random_buf(b, sizeof(b));
	/* 2^-256 chances of a false failure. */
	ATF_CHECK(memcmp(a, b, sizeof(a)) != 0);
	ATF_CHECK(memcmp(a, zero, sizeof(a)) != 0);
	v = arc4random();
	ored = 0;
	for (i = 0; i < 8; i++)
		ored |= arc4random() ^ v;
	ATF_CHECK(ored != 0);
}

ATF_TC_WITHOUT_HEAD(sa_len);
ATF_TC_BODY(sa_len, tc)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	sin.sin_family = AF_INET;
	sin6.sin6_family = AF_INET6;
#ifdef UKERN_HAVE_SA_LEN
	sin.sin_len = sizeof(sin);
	sin6.sin6_len = sizeof(sin6);
#endif
	ATF_CHECK_EQ(SA_LEN(&sin), sizeof(sin));
	ATF_CHECK_EQ(SA_LEN(&sin6), sizeof(sin6));
}

/* The last messages the logger hook was given. */
static int nlogged, logged_pri;
static char logged_msg[256];

static void
test_logger(int pri, const char *msg)
{

	nlogged++;
	logged_pri = pri;
	snprintf(logged_msg, sizeof(logged_msg), "%s", msg);
}

ATF_TC_WITHOUT_HEAD(logger_hook);
ATF_TC_BODY(logger_hook, tc)
{

	ukern_set_logger(test_logger);
	log(LOG_WARNING, "key_%s: %d SAs\n", "flush", 3);
	ATF_CHECK_EQ(nlogged, 1);
	ATF_CHECK_EQ(logged_pri, LOG_WARNING);
	ATF_CHECK_STREQ(logged_msg, "key_flush: 3 SAs");

	/* LOG_DEBUG only while ukern_debug is set. */
	ukern_debug = 0;
	log(LOG_DEBUG, "hidden");
	ATF_CHECK_EQ(nlogged, 1);
	ukern_debug = 1;
	log(LOG_DEBUG, "shown");
	ATF_CHECK_EQ(nlogged, 2);
	ATF_CHECK_EQ(logged_pri, LOG_DEBUG);
	ATF_CHECK_STREQ(logged_msg, "shown");
	ukern_debug = 0;

	/* NULL restores the default: the hook sees nothing more. */
	ukern_set_logger(NULL);
	log(LOG_ERR, "to stderr");
	ATF_CHECK_EQ(nlogged, 2);
}

/* Run log() calls with stderr sent to a file; return what it got. */
static void
capture_stderr(char *buf, size_t len)
{
	FILE *f;
	size_t n;
	int fd, saved;

	f = tmpfile();
	ATF_REQUIRE(f != NULL);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	fd = fileno(f);
	ATF_REQUIRE(saved >= 0 && dup2(fd, STDERR_FILENO) >= 0);

	ukern_debug = 0;
	log(LOG_ERR, "esp_input: bad ICV, SPI %#x", 0x1234);
	log(LOG_DEBUG, "not shown");
	log(LOG_NOTICE, "two\n");

	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

ATF_TC_WITHOUT_HEAD(default_logger);
ATF_TC_BODY(default_logger, tc)
{
	char buf[512];

	capture_stderr(buf, sizeof(buf));
	ATF_CHECK_STREQ(buf, "netipsec: esp_input: bad ICV, SPI 0x1234\n"
	    "netipsec: two\n");
}

ATF_TC_WITHOUT_HEAD(panic_aborts);
ATF_TC_BODY(panic_aborts, tc)
{

	atf_tc_expect_signal(SIGABRT, "panic() logs and aborts");
	panic("test panic %d", 42);
}

ATF_TC_WITHOUT_HEAD(kassert);
ATF_TC_BODY(kassert, tc)
{
	int x;

	x = 1;
	KASSERT(x == 1, ("true assertion fired"));
	atf_tc_expect_signal(SIGABRT, "a false KASSERT panics");
	KASSERT(x == 2, ("x is %d", x));
}

ATF_TP_ADD_TCS(tp)
{

	ATF_TP_ADD_TC(tp, timingsafe_bcmp);
	ATF_TP_ADD_TC(tp, explicit_bzero);
	ATF_TP_ADD_TC(tp, time);
	ATF_TP_ADD_TC(tp, arc4random);
	ATF_TP_ADD_TC(tp, sa_len);
	ATF_TP_ADD_TC(tp, logger_hook);
	ATF_TP_ADD_TC(tp, default_logger);
	ATF_TP_ADD_TC(tp, panic_aborts);
	ATF_TP_ADD_TC(tp, kassert);
	return (atf_no_error());
}
