/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * PF_KEY messages for the tests: see pfkey_build.h.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pfkey_build.h"

static void
pb_bug(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fprintf(stderr, "pfkey_build: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

static void
pb_room(const struct pb_msg *m, size_t len)
{
	if (len > sizeof(m->u.buf) - m->len)
		pb_bug("%zu more bytes do not fit in %zu", len, m->len);
}

/* The lengths that follow the message's: its own and its X_POLICY's. */
static void
pb_grown(struct pb_msg *m, size_t len)
{
	struct sadb_x_policy	*pol;

	m->len += len;
	m->u.hdr.sadb_msg_len = (uint16_t)PFKEY_UNIT64(m->len);
	if (m->polofs != 0) {
		pol = (struct sadb_x_policy *)(void *)(m->u.buf + m->polofs);
		pol->sadb_x_policy_len =
		    (uint16_t)PFKEY_UNIT64(m->len - m->polofs);
	}
}

void
pb_init(struct pb_msg *m, uint8_t type, uint8_t satype, uint32_t seq,
    uint32_t pid)
{
	memset(m, 0, sizeof(*m));
	m->u.hdr.sadb_msg_version = PF_KEY_V2;
	m->u.hdr.sadb_msg_type = type;
	m->u.hdr.sadb_msg_satype = satype;
	m->u.hdr.sadb_msg_seq = seq;
	m->u.hdr.sadb_msg_pid = pid;
	m->len = sizeof(struct sadb_msg);
	m->u.hdr.sadb_msg_len = (uint16_t)PFKEY_UNIT64(m->len);
}

void *
pb_ext(struct pb_msg *m, uint16_t exttype, size_t len)
{
	struct sadb_ext	*ext;
	size_t		 plen;

	plen = PFKEY_ALIGN8(len);
	pb_room(m, plen);
	m->polofs = 0;		/* a new extension ends the policy */
	ext = (struct sadb_ext *)(void *)(m->u.buf + m->len);
	memset(ext, 0, plen);
	ext->sadb_ext_len = (uint16_t)PFKEY_UNIT64(plen);
	ext->sadb_ext_type = exttype;
	pb_grown(m, plen);
	return (ext);
}

void *
pb_ext_copy(struct pb_msg *m, uint16_t exttype, const void *data,
    size_t len)
{
	struct sadb_ext	 hdr;
	uint8_t		*p;

	if (len < sizeof(hdr))
		pb_bug("a %zu-byte extension", len);
	p = pb_ext(m, exttype, len);
	/* Byte-wise: the extension's header kept from pb_ext(). */
	memcpy(&hdr, p, sizeof(hdr));
	memcpy(p, data, len);
	memcpy(p, &hdr, sizeof(hdr));
	return (p);
}

void
pb_raw(struct pb_msg *m, const void *p, size_t len)
{
	pb_room(m, len);
	memcpy(m->u.buf + m->len, p, len);
	pb_grown(m, len);
}

struct sadb_sa *
pb_sa(struct pb_msg *m, uint32_t spi, uint8_t replay, uint8_t auth,
    uint8_t enc, uint32_t flags)
{
	struct sadb_sa	*sa;

	sa = pb_ext(m, SADB_EXT_SA, sizeof(*sa));
	sa->sadb_sa_spi = htonl(spi);
	sa->sadb_sa_replay = replay;
	sa->sadb_sa_auth = auth;
	sa->sadb_sa_encrypt = enc;
	sa->sadb_sa_flags = flags;
	return (sa);
}

void
pb_sa2(struct pb_msg *m, uint8_t mode, uint32_t reqid)
{
	struct sadb_x_sa2	*sa2;

	sa2 = pb_ext(m, SADB_X_EXT_SA2, sizeof(*sa2));
	sa2->sadb_x_sa2_mode = mode;
	sa2->sadb_x_sa2_reqid = reqid;
}

size_t
pb_sockaddr(struct sockaddr_storage *ss, const char *addr, uint16_t port)
{
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;

	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':') != NULL) {
		sin6 = (struct sockaddr_in6 *)(void *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) != 1)
			pb_bug("bad IPv6 address %s", addr);
		return (sizeof(*sin6));
	}
	sin = (struct sockaddr_in *)(void *)ss;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1)
		pb_bug("bad IPv4 address %s", addr);
	return (sizeof(*sin));
}

void
pb_addr_sa(struct pb_msg *m, uint16_t exttype, const void *sa, size_t salen,
    uint8_t prefixlen, uint8_t proto)
{
	struct sadb_address	*a;

	a = pb_ext(m, exttype, sizeof(*a) + salen);
	a->sadb_address_proto = proto;
	a->sadb_address_prefixlen = prefixlen;
	memcpy(a + 1, sa, salen);
}

void
pb_addr(struct pb_msg *m, uint16_t exttype, const char *addr, uint16_t port,
    int prefixlen, uint8_t proto)
{
	struct sockaddr_storage	ss;
	size_t			salen;

	salen = pb_sockaddr(&ss, addr, port);
	if (prefixlen < 0)
		prefixlen = ss.ss_family == AF_INET6 ? 128 : 32;
	pb_addr_sa(m, exttype, &ss, salen, (uint8_t)prefixlen, proto);
}

void
pb_key(struct pb_msg *m, uint16_t exttype, const void *key, size_t len)
{
	struct sadb_key	*k;

	k = pb_ext(m, exttype, sizeof(*k) + len);
	k->sadb_key_bits = (uint16_t)(len * 8);
	memcpy(k + 1, key, len);
}

void
pb_lifetime(struct pb_msg *m, uint16_t exttype, uint32_t alloc,
    uint64_t bytes, uint64_t addtime, uint64_t usetime)
{
	struct sadb_lifetime	*l;

	l = pb_ext(m, exttype, sizeof(*l));
	l->sadb_lifetime_allocations = alloc;
	l->sadb_lifetime_bytes = bytes;
	l->sadb_lifetime_addtime = addtime;
	l->sadb_lifetime_usetime = usetime;
}

void
pb_spirange(struct pb_msg *m, uint32_t min, uint32_t max)
{
	struct sadb_spirange	*r;

	r = pb_ext(m, SADB_EXT_SPIRANGE, sizeof(*r));
	r->sadb_spirange_min = min;
	r->sadb_spirange_max = max;
}

void
pb_policy(struct pb_msg *m, uint8_t dir, uint16_t type, uint32_t id,
    uint32_t priority)
{
	struct sadb_x_policy	*pol;
	size_t			 ofs;

	ofs = m->len;
	pol = pb_ext(m, SADB_X_EXT_POLICY, sizeof(*pol));
	m->polofs = ofs;
	pol->sadb_x_policy_type = type;
	pol->sadb_x_policy_dir = dir;
	pol->sadb_x_policy_id = id;
	pol->sadb_x_policy_priority = priority;
}

void
pb_policy_req(struct pb_msg *m, uint16_t proto, uint8_t mode, uint8_t level,
    uint16_t reqid, const char *src, const char *dst)
{
	struct sadb_x_ipsecrequest	*r;
	struct sockaddr_storage		 s, d;
	size_t				 salen, len;

	if (m->polofs == 0)
		pb_bug("a policy request without its policy");
	salen = 0;
	if (src != NULL) {
		salen = pb_sockaddr(&s, src, 0);
		if (pb_sockaddr(&d, dst, 0) != salen)
			pb_bug("tunnel endpoints %s and %s", src, dst);
	}
	len = PFKEY_ALIGN8(sizeof(*r) + 2 * salen);
	pb_room(m, len);
	r = (struct sadb_x_ipsecrequest *)(void *)(m->u.buf + m->len);
	memset(r, 0, len);
	r->sadb_x_ipsecrequest_len = (uint16_t)len;	/* bytes */
	r->sadb_x_ipsecrequest_proto = proto;
	r->sadb_x_ipsecrequest_mode = mode;
	r->sadb_x_ipsecrequest_level = level;
	r->sadb_x_ipsecrequest_reqid = reqid;
	if (salen != 0) {
		memcpy(r + 1, &s, salen);
		memcpy((uint8_t *)(r + 1) + salen, &d, salen);
	}
	pb_grown(m, len);
}

void
pb_prop(struct pb_msg *m)
{
	struct sadb_prop	*prop;
	struct sadb_comb	*comb;

	prop = pb_ext(m, SADB_EXT_PROPOSAL, sizeof(*prop) + sizeof(*comb));
	prop->sadb_prop_replay = 32;
	comb = (struct sadb_comb *)(prop + 1);
	comb->sadb_comb_auth = SADB_X_AALG_SHA2_256;
	comb->sadb_comb_encrypt = SADB_X_EALG_AESCBC;
	comb->sadb_comb_auth_minbits = 256;
	comb->sadb_comb_auth_maxbits = 256;
	comb->sadb_comb_encrypt_minbits = 128;
	comb->sadb_comb_encrypt_maxbits = 256;
	comb->sadb_comb_soft_addtime = 3600;
	comb->sadb_comb_hard_addtime = 4000;
}

struct sadb_msg *
pb_finish(struct pb_msg *m)
{
	m->u.hdr.sadb_msg_len = (uint16_t)PFKEY_UNIT64(m->len);
	return (&m->u.hdr);
}

void *
pb_getext(const void *msg, size_t len, uint16_t exttype)
{
	const struct sadb_ext	*ext;
	const uint8_t		*p = msg;
	size_t			 off, elen;

	for (off = sizeof(struct sadb_msg); off + sizeof(*ext) <= len;
	    off += elen) {
		ext = (const struct sadb_ext *)(const void *)(p + off);
		elen = PFKEY_UNUNIT64((size_t)ext->sadb_ext_len);
		if (elen == 0 || elen > len - off)
			return (NULL);
		if (ext->sadb_ext_type == exttype)
			return ((void *)(uintptr_t)ext);
	}
	return (NULL);
}
