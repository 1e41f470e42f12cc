/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Helpers shared by the libpfkey tests: sockaddrs, a SOCK_SEQPACKET pair
 * standing in for a PF_KEY socket, and stdout capture for the formatters.
 * Hand-made PF_KEY messages come from ../lib/pfkey_build.h.
 */

#ifndef _LIBPFKEY_TEST_H_
#define _LIBPFKEY_TEST_H_

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <atf-c.h>
#include <poll.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libpfkey.h"

#include "../lib/pfkey_build.h"

static inline struct sockaddr_in
t_sin(const char *addr, uint16_t port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	ATF_REQUIRE_EQ_MSG(inet_pton(AF_INET, addr, &sin.sin_addr), 1,
	    "bad IPv4 address %s", addr);
	return (sin);
}

static inline struct sockaddr_in6
t_sin6(const char *addr, uint16_t port)
{
	struct sockaddr_in6 sin6;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(port);
	ATF_REQUIRE_EQ_MSG(inet_pton(AF_INET6, addr, &sin6.sin6_addr), 1,
	    "bad IPv6 address %s", addr);
	return (sin6);
}

/* A connected SOCK_SEQPACKET pair: [0] plays the PF_KEY socket. */
static inline void
t_sockpair(int sv[2])
{

	ATF_REQUIRE_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
}

/* Read one packet from so into a malloc'd buffer of its size. */
static inline struct sadb_msg *
t_read(int so, size_t *lenp)
{
	static uint64_t buf[(0xffff * 8 + 16) / 8];
	struct sadb_msg *m;
	ssize_t n;

	n = recv(so, buf, sizeof(buf), MSG_DONTWAIT);
	ATF_REQUIRE_MSG(n >= 0, "nothing was sent");
	m = malloc(n > 0 ? (size_t)n : 1);
	ATF_REQUIRE(m != NULL);
	memcpy(m, buf, (size_t)n);
	*lenp = (size_t)n;
	return (m);
}

/* As t_read(), waiting up to 10 s for the packet. */
static inline struct sadb_msg *
t_read_wait(int so, size_t *lenp)
{
	struct pollfd pfd;

	pfd.fd = so;
	pfd.events = POLLIN;
	pfd.revents = 0;
	ATF_REQUIRE_MSG(poll(&pfd, 1, 10000) == 1, "nothing came");
	return (t_read(so, lenp));
}

/* Nothing more waiting on so. */
static inline void
t_nothing_sent(int so)
{
	char c;

	ATF_REQUIRE(recv(so, &c, 1, MSG_DONTWAIT) < 0);
}

/* Run fn(arg) with stdout going to a string; returns it (malloc'd). */
static inline char *
t_capture(void (*fn)(void *), void *arg)
{
	FILE *tmp;
	char *s;
	long n;
	int saved;

	fflush(stdout);
	ATF_REQUIRE((tmp = tmpfile()) != NULL);
	ATF_REQUIRE((saved = dup(STDOUT_FILENO)) >= 0);
	ATF_REQUIRE(dup2(fileno(tmp), STDOUT_FILENO) >= 0);
	fn(arg);
	fflush(stdout);
	ATF_REQUIRE(dup2(saved, STDOUT_FILENO) >= 0);
	close(saved);
	ATF_REQUIRE(fseek(tmp, 0, SEEK_END) == 0);
	n = ftell(tmp);
	rewind(tmp);
	ATF_REQUIRE((s = calloc(1, (size_t)n + 1)) != NULL);
	ATF_REQUIRE(fread(s, 1, (size_t)n, tmp) == (size_t)n);
	fclose(tmp);
	return (s);
}

/* Compare strings, showing both (with tabs visible) when they differ. */
#define	T_STREQ(got, want) do {						\
	const char *_g = (got), *_w = (want);				\
	if (strcmp(_g, _w) != 0) {					\
		fprintf(stderr, "--- want\n%s\n--- got\n%s\n---\n", _w, _g); \
		atf_tc_fail_nonfatal("%s:%d: output differs (see stderr)", \
		    __FILE__, __LINE__);				\
	}								\
} while (0)

#endif /* !_LIBPFKEY_TEST_H_ */
