/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The rest of the environment: time, random numbers, constant-time
 * comparison and erasure, log(9) and panic(9).
 */

#include <ukern/ukern.h>

#include <stdio.h>
#include <time.h>
#include <unistd.h>

/*
 * arc4random(3) is in the BSD libcs and in glibc since 2.36; elsewhere
 * (older glibc, musl) the bytes come from OpenSSL.
 */
#if defined(__GLIBC__) && defined(__GLIBC_PREREQ)
#if !__GLIBC_PREREQ(2, 36)
#define	UKERN_RAND_OPENSSL	1
#endif
#elif defined(__linux__) && !defined(__GLIBC__)
#define	UKERN_RAND_OPENSSL	1
#endif

#ifdef UKERN_RAND_OPENSSL
#include <openssl/rand.h>
#endif

/* This file implements the calls that ukern.h maps to ukern_*(). */
#undef arc4random
#undef arc4random_buf
#undef explicit_bzero
#undef log
#undef panic

int ukern_debug;

time_t
ukern_time_second(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (ts.tv_sec);
}

time_t
ukern_time_uptime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec);
}

void
ukern_arc4random_buf(void *buf, size_t len)
{

#ifdef UKERN_RAND_OPENSSL
	if (len > INT_MAX || RAND_bytes(buf, (int)len) != 1)
		ukern_panic("arc4random_buf: RAND_bytes failed");
#else
	arc4random_buf(buf, len);
#endif
}

uint32_t
ukern_arc4random(void)
{
	uint32_t v;

	ukern_arc4random_buf(&v, sizeof(v));
	return (v);
}

/*
 * Compare in time that depends only on the length: no early exit, and
 * volatile reads so that the compiler does not add one.  Returns 0 when
 * the buffers are equal, 1 otherwise.
 */
int
ukern_timingsafe_bcmp(const void *b1, const void *b2, size_t n)
{
	const volatile unsigned char *p1, *p2;
	unsigned char diff;
	size_t i;

	p1 = b1;
	p2 = b2;
	diff = 0;
	for (i = 0; i < n; i++)
		diff |= p1[i] ^ p2[i];
	return (diff != 0);
}

void
ukern_explicit_bzero(void *buf, size_t len)
{

	explicit_bzero(buf, len);
}

/* Where messages go: standard error unless the host says otherwise. */
static void
ukern_stderr_logger(int pri __unused, const char *msg)
{

	fprintf(stderr, "netipsec: %s\n", msg);
}

static void (*ukern_logger)(int, const char *) = ukern_stderr_logger;

void
ukern_set_logger(void (*logger)(int, const char *))
{

	if (logger == NULL)
		logger = ukern_stderr_logger;
	__atomic_store_n(&ukern_logger, logger, __ATOMIC_RELEASE);
}

static void
ukern_emit(int pri, const char *fmt, va_list ap)
{
	char msg[1024];
	size_t len;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* The message is one line: log(9) callers may end it with \n. */
	len = strlen(msg);
	while (len > 0 && msg[len - 1] == '\n')
		msg[--len] = '\0';
	__atomic_load_n(&ukern_logger, __ATOMIC_ACQUIRE)(pri, msg);
}

void
ukern_vlog(int pri, const char *fmt, va_list ap)
{

	if (LOG_PRI(pri) == LOG_DEBUG &&
	    !__atomic_load_n(&ukern_debug, __ATOMIC_RELAXED))
		return;
	ukern_emit(LOG_PRI(pri), fmt, ap);
}

void
ukern_log(int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ukern_vlog(pri, fmt, ap);
	va_end(ap);
}

void
ukern_panic(const char *fmt, ...)
{
	static const char prefix[] = "panic: ";
	char msg[1024];
	va_list ap;

	memcpy(msg, prefix, sizeof(prefix) - 1);
	va_start(ap, fmt);
	vsnprintf(msg + sizeof(prefix) - 1, sizeof(msg) - sizeof(prefix) + 1,
	    fmt, ap);
	va_end(ap);
	__atomic_load_n(&ukern_logger, __ATOMIC_ACQUIRE)(LOG_EMERG, msg);
	abort();
}
