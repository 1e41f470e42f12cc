/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Helpers shared by the libpfkey tests: sockaddrs, a message assembler
 * for hand-made PF_KEY messages, a SOCK_SEQPACKET pair standing in for a
 * PF_KEY socket, and stdout capture for the formatters.
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

/* A PF_KEY message put together extension by extension. */
struct t_msg {
	_Alignas(8) unsigned char m_buf[65536];
	size_t		m_len;
};

static inline struct sadb_msg *
t_msg_hdr(struct t_msg *m)
{

	return ((struct sadb_msg *)(void *)m->m_buf);
}

/* Byte-wise, which keeps gcc's object-size tracking out of it. */
static inline void
t_msg_setlen(struct t_msg *m)
{
	uint16_t len;

	len = (uint16_t)PFKEY_UNIT64(m->m_len);
	memcpy(m->m_buf + offsetof(struct sadb_msg, sadb_msg_len), &len,
	    sizeof(len));
}

static inline void
t_msg_init(struct t_msg *m, u_int type, u_int satype, uint32_t seq,
    uint32_t pid)
{
	struct sadb_msg h;

	memset(m, 0, sizeof(*m));
	memset(&h, 0, sizeof(h));
	h.sadb_msg_version = PF_KEY_V2;
	h.sadb_msg_type = type;
	h.sadb_msg_satype = satype;
	h.sadb_msg_seq = seq;
	h.sadb_msg_pid = pid;
	memcpy(m->m_buf, &h, sizeof(h));
	m->m_len = sizeof(h);
	t_msg_setlen(m);
}

/*
 * Append an extension: its header fields are set from "type" and the
 * padded length, the rest is copied from data.  Returns it.
 */
static inline void *
t_msg_ext(struct t_msg *m, u_int type, const void *data, size_t len)
{
	struct sadb_ext ext;
	size_t plen;
	unsigned char *p;

	plen = PFKEY_ALIGN8(len);
	ATF_REQUIRE(len >= sizeof(ext) && m->m_len + plen <= sizeof(m->m_buf));
	p = m->m_buf + m->m_len;
	memset(p, 0, plen);
	memcpy(p, data, len);
	ext.sadb_ext_len = (uint16_t)PFKEY_UNIT64(plen);
	ext.sadb_ext_type = (uint16_t)type;
	memcpy(p, &ext, sizeof(ext));
	m->m_len += plen;
	t_msg_setlen(m);
	return (p);
}

static inline void
t_msg_addr(struct t_msg *m, u_int type, const void *sa, size_t salen,
    u_int prefixlen, u_int proto)
{
	char buf[sizeof(struct sadb_address) + 32];
	struct sadb_address a;

	memset(&a, 0, sizeof(a));
	a.sadb_address_proto = proto;
	a.sadb_address_prefixlen = prefixlen;
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &a, sizeof(a));
	memcpy(buf + sizeof(a), sa, salen);
	t_msg_ext(m, type, buf, sizeof(a) + salen);
}

static inline void
t_msg_key(struct t_msg *m, u_int type, const void *key, size_t keylen)
{
	char buf[sizeof(struct sadb_key) + 256];
	struct sadb_key k;

	ATF_REQUIRE(keylen <= 256);
	memset(&k, 0, sizeof(k));
	k.sadb_key_bits = keylen * 8;
	memcpy(buf, &k, sizeof(k));
	memcpy(buf + sizeof(k), key, keylen);
	t_msg_ext(m, type, buf, sizeof(k) + keylen);
}

static inline void
t_msg_lifetime(struct t_msg *m, u_int type, uint32_t alloc, uint64_t bytes,
    uint64_t addtime, uint64_t usetime)
{
	struct sadb_lifetime l;

	memset(&l, 0, sizeof(l));
	l.sadb_lifetime_allocations = alloc;
	l.sadb_lifetime_bytes = bytes;
	l.sadb_lifetime_addtime = addtime;
	l.sadb_lifetime_usetime = usetime;
	t_msg_ext(m, type, &l, sizeof(l));
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
