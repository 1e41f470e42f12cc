/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * sbin/common/imsg.c: messages between a daemon's processes, over a
 * real socketpair: whole messages in order, descriptors passed, partial
 * reads and writes, and a broken peer's input refused.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <atf-c.h>

#include "imsg.h"

static int	 sv[2];
static struct imsgbuf ib_w, ib_r;

static void
pair(int nonblock)
{
	ATF_REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	if (nonblock) {
		ATF_REQUIRE(fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0);
		ATF_REQUIRE(fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
	}
	imsg_init(&ib_w, sv[0]);
	imsg_init(&ib_r, sv[1]);
}

static void
unpair(void)
{
	imsg_clear(&ib_w);
	imsg_clear(&ib_r);
	close(sv[0]);
	close(sv[1]);
}

/* The next message, reading as needed (the socket is blocking). */
static int
next(struct imsg *im)
{
	int	 r;

	while ((r = imsg_get(&ib_r, im)) == 0)
		if (imsg_read(&ib_r) <= 0)
			return (-1);
	return (r);
}

ATF_TC_WITHOUT_HEAD(roundtrip);
ATF_TC_BODY(roundtrip, tc)
{
	static uint8_t	 big[IMSG_MAXDATA];
	struct imsg	 im;
	uint32_t	 v = 0xdeadbeef, got;
	size_t		 i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	pair(0);
	ATF_REQUIRE(imsg_compose(&ib_w, 1, 10, -1, NULL, 0) == 0);
	ATF_REQUIRE(imsg_compose(&ib_w, 2, 20, -1, &v, sizeof(v)) == 0);
	ATF_REQUIRE(imsg_compose(&ib_w, 3, 30, -1, big, sizeof(big)) == 0);
	ATF_REQUIRE_EQ(imsg_flush(&ib_w), 0);

	ATF_REQUIRE_EQ(next(&im), 1);
	ATF_CHECK_EQ(im.hdr.type, 1);
	ATF_CHECK_EQ(im.hdr.peerid, 10);
	ATF_CHECK_EQ(im.hdr.pid, (uint32_t)getpid());
	ATF_CHECK_EQ(imsg_datalen(&im), 0);
	ATF_CHECK_EQ(im.fd, -1);
	imsg_free(&im);

	ATF_REQUIRE_EQ(next(&im), 1);
	ATF_CHECK_EQ(im.hdr.type, 2);
	ATF_REQUIRE_EQ(imsg_get_data(&im, &got, sizeof(got)), 0);
	ATF_CHECK_EQ(got, v);
	imsg_free(&im);

	ATF_REQUIRE_EQ(next(&im), 1);
	ATF_CHECK_EQ(im.hdr.type, 3);
	ATF_REQUIRE_EQ(imsg_datalen(&im), sizeof(big));
	ATF_CHECK(memcmp(im.data, big, sizeof(big)) == 0);
	imsg_free(&im);
	ATF_CHECK_EQ(imsg_get(&ib_r, &im), 0);
	unpair();
}

/* A typed receiver takes a payload of exactly its size. */
ATF_TC_WITHOUT_HEAD(exact_length);
ATF_TC_BODY(exact_length, tc)
{
	struct imsg	 im;
	uint64_t	 v = 1, got;
	uint32_t	 small;

	pair(0);
	ATF_REQUIRE(imsg_compose(&ib_w, 7, 0, -1, &v, sizeof(v)) == 0);
	ATF_REQUIRE_EQ(imsg_flush(&ib_w), 0);
	ATF_REQUIRE_EQ(next(&im), 1);
	errno = 0;
	ATF_CHECK_EQ(imsg_get_data(&im, &small, sizeof(small)), -1);
	ATF_CHECK_EQ(errno, EBADMSG);
	ATF_CHECK_EQ(imsg_get_data(&im, &got, sizeof(got)), 0);
	ATF_CHECK_EQ(got, v);
	imsg_free(&im);
	unpair();
}

/* A descriptor goes with its message; the sender's copy is closed. */
ATF_TC_WITHOUT_HEAD(fd_passing);
ATF_TC_BODY(fd_passing, tc)
{
	struct imsg	 im;
	int		 p[2];
	char		 buf[8];

	pair(0);
	ATF_REQUIRE(pipe(p) == 0);
	ATF_REQUIRE(imsg_compose(&ib_w, 1, 0, -1, "a", 1) == 0);
	ATF_REQUIRE(imsg_compose(&ib_w, 2, 0, p[1], "b", 1) == 0);
	ATF_REQUIRE(imsg_compose(&ib_w, 3, 0, -1, "c", 1) == 0);
	ATF_REQUIRE_EQ(imsg_flush(&ib_w), 0);
	ATF_CHECK_EQ(fcntl(p[1], F_GETFD), -1);		/* closed */

	ATF_REQUIRE_EQ(next(&im), 1);
	ATF_CHECK_EQ(im.fd, -1);
	imsg_free(&im);
	ATF_REQUIRE_EQ(next(&im), 1);
	ATF_CHECK_EQ(im.hdr.type, 2);
	ATF_REQUIRE(im.fd != -1);
	ATF_CHECK(im.hdr.flags & IMSGF_HASFD);
	ATF_REQUIRE_EQ(write(im.fd, "hello", 5), 5);
	close(im.fd);
	imsg_free(&im);
	ATF_REQUIRE_EQ(read(p[0], buf, sizeof(buf)), 5);
	ATF_CHECK(memcmp(buf, "hello", 5) == 0);
	ATF_REQUIRE_EQ(next(&im), 1);
	ATF_CHECK_EQ(im.hdr.type, 3);
	ATF_CHECK_EQ(im.fd, -1);
	imsg_free(&im);
	close(p[0]);
	unpair();
}

/*
 * A full socket: imsg_flush() says "again" and loses nothing; the
 * reader, fed in pieces, sees every message whole and in order.
 */
ATF_TC_WITHOUT_HEAD(partial);
ATF_TC_BODY(partial, tc)
{
	static uint8_t	 data[5000];
	struct imsg	 im;
	uint32_t	 i, n = 200, seen = 0;
	int		 r, again = 0;

	pair(1);
	for (i = 0; i < n; i++) {
		memset(data, (int)i, sizeof(data));
		ATF_REQUIRE(imsg_compose(&ib_w, i, 0, -1, data,
		    sizeof(data)) == 0);
	}
	while ((r = imsg_flush(&ib_w)) != 0) {
		ATF_REQUIRE_EQ(r, 1);
		again = 1;
		/* Drain part of it. */
		if (imsg_read(&ib_r) == -1)
			ATF_REQUIRE(errno == EAGAIN);
		while (imsg_get(&ib_r, &im) == 1) {
			ATF_REQUIRE_EQ(im.hdr.type, seen);
			ATF_REQUIRE_EQ(imsg_datalen(&im), sizeof(data));
			ATF_REQUIRE_EQ(((uint8_t *)im.data)[4999],
			    (uint8_t)seen);
			seen++;
			imsg_free(&im);
		}
	}
	ATF_CHECK(again);		/* 1 MB does not fit a socket */
	for (;;) {
		while (imsg_get(&ib_r, &im) == 1) {
			ATF_REQUIRE_EQ(im.hdr.type, seen);
			seen++;
			imsg_free(&im);
		}
		if (seen == n || imsg_read(&ib_r) <= 0)
			break;
	}
	ATF_CHECK_EQ(seen, n);
	unpair();
}

/* A message arriving a byte at a time is taken only once whole. */
ATF_TC_WITHOUT_HEAD(byte_by_byte);
ATF_TC_BODY(byte_by_byte, tc)
{
	struct imsg_hdr	 h;
	struct imsg	 im;
	uint8_t		 msg[IMSG_HDRLEN + 3] = { 0 };
	size_t		 i;

	pair(0);
	memset(&h, 0, sizeof(h));
	h.type = 9;
	h.len = sizeof(msg);
	memcpy(msg, &h, IMSG_HDRLEN);
	memcpy(msg + IMSG_HDRLEN, "xyz", 3);
	for (i = 0; i < sizeof(msg); i++) {
		ATF_CHECK_EQ(imsg_get(&ib_r, &im), 0);
		ATF_REQUIRE_EQ(write(sv[0], msg + i, 1), 1);
		ATF_REQUIRE_EQ(imsg_read(&ib_r), 1);
	}
	ATF_REQUIRE_EQ(imsg_get(&ib_r, &im), 1);
	ATF_CHECK_EQ(im.hdr.type, 9);
	ATF_CHECK(memcmp(im.data, "xyz", 3) == 0);
	imsg_free(&im);
	unpair();
}

/* What a broken (or subverted) peer writes is refused, not trusted. */
static void
expect_broken(uint16_t len, uint16_t flags)
{
	struct imsg_hdr	 h;
	struct imsg	 im;

	pair(0);
	memset(&h, 0, sizeof(h));
	h.type = 1;
	h.len = len;
	h.flags = flags;
	ATF_REQUIRE_EQ(write(sv[0], &h, sizeof(h)), (ssize_t)sizeof(h));
	ATF_REQUIRE(imsg_read(&ib_r) > 0);
	errno = 0;
	ATF_CHECK_EQ(imsg_get(&ib_r, &im), -1);
	ATF_CHECK_EQ(errno, EBADMSG);
	unpair();
}

ATF_TC_WITHOUT_HEAD(broken_peer);
ATF_TC_BODY(broken_peer, tc)
{
	expect_broken(IMSG_HDRLEN - 1, 0);	/* shorter than its header */
	expect_broken(IMSG_MAXSIZE + 1, 0);	/* longer than allowed */
	expect_broken(IMSG_HDRLEN, 0x8000);	/* unknown flag */
	expect_broken(IMSG_HDRLEN, IMSGF_HASFD);	/* no descriptor came */
}

/* The writer's limits: size, a peer that does not read. */
ATF_TC_WITHOUT_HEAD(compose_limits);
ATF_TC_BODY(compose_limits, tc)
{
	static uint8_t	 big[IMSG_MAXDATA + 1];
	int		 p[2];

	pair(0);
	errno = 0;
	ATF_CHECK_EQ(imsg_compose(&ib_w, 1, 0, -1, big, sizeof(big)), -1);
	ATF_CHECK_EQ(errno, EMSGSIZE);
	ib_w.outmax = 3 * IMSG_HDRLEN;
	ATF_CHECK_EQ(imsg_compose(&ib_w, 1, 0, -1, NULL, 0), 0);
	ATF_CHECK_EQ(imsg_compose(&ib_w, 2, 0, -1, NULL, 0), 0);
	ATF_CHECK_EQ(imsg_compose(&ib_w, 3, 0, -1, NULL, 0), 0);
	ATF_REQUIRE(pipe(p) == 0);
	errno = 0;
	ATF_CHECK_EQ(imsg_compose(&ib_w, 4, 0, p[0], NULL, 0), -1);
	ATF_CHECK_EQ(errno, ENOBUFS);
	ATF_CHECK(fcntl(p[0], F_GETFD) != -1);	/* still the caller's */
	close(p[0]);
	close(p[1]);
	unpair();
}

/* The other end gone: end of file, and EPIPE rather than SIGPIPE. */
ATF_TC_WITHOUT_HEAD(peer_gone);
ATF_TC_BODY(peer_gone, tc)
{
	pair(0);
	close(sv[0]);
	ATF_CHECK_EQ(imsg_read(&ib_r), 0);
	imsg_clear(&ib_w);
	imsg_clear(&ib_r);
	close(sv[1]);

	pair(0);
	close(sv[1]);
	ATF_REQUIRE(imsg_compose(&ib_w, 1, 0, -1, "x", 1) == 0);
	errno = 0;
	ATF_CHECK_EQ(imsg_flush(&ib_w), -1);
	ATF_CHECK_EQ(errno, EPIPE);
	imsg_clear(&ib_w);
	close(sv[0]);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, roundtrip);
	ATF_TP_ADD_TC(tp, exact_length);
	ATF_TP_ADD_TC(tp, fd_passing);
	ATF_TP_ADD_TC(tp, partial);
	ATF_TP_ADD_TC(tp, byte_by_byte);
	ATF_TP_ADD_TC(tp, broken_peer);
	ATF_TP_ADD_TC(tp, compose_limits);
	ATF_TP_ADD_TC(tp, peer_gone);
	return (atf_no_error());
}
