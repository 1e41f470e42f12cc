/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * PF_KEY messages built field by field for the tests (regress/netipsec,
 * regress/netipsecd, regress/libpfkey, regress/fuzz): well-formed ones
 * and, with pb_raw() and the header at hand, malformed ones.  Every
 * append keeps sadb_msg_len and the open X_POLICY's length up to date.
 * A message that does not fit, or an address that does not parse, is a
 * bug of the test: the builders abort.
 */

#ifndef _REGRESS_PFKEY_BUILD_H_
#define _REGRESS_PFKEY_BUILD_H_

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include <net/pfkeyv2.h>

#define	PB_MSG_MAX	65536

/* A message under construction, or one received. */
struct pb_msg {
	size_t		len;
	size_t		polofs;		/* the last X_POLICY, for requests */
	union {
		struct sadb_msg	hdr;
		uint8_t		buf[PB_MSG_MAX];
		uint64_t	align;
	} u;
};

static inline struct sadb_msg *
pb_hdr(struct pb_msg *m)
{
	return (&m->u.hdr);
}

void	pb_init(struct pb_msg *, uint8_t type, uint8_t satype, uint32_t seq,
	    uint32_t pid);
/* A zeroed extension of len bytes, padded to 8; returns it. */
void	*pb_ext(struct pb_msg *, uint16_t exttype, size_t len);
/* An extension copied from data (its sadb_ext header is set over). */
void	*pb_ext_copy(struct pb_msg *, uint16_t exttype, const void *data,
	    size_t len);
/* Bytes as they are, unpadded (malformed extensions). */
void	pb_raw(struct pb_msg *, const void *, size_t);
struct sadb_sa *pb_sa(struct pb_msg *, uint32_t spi, uint8_t replay,
	    uint8_t auth, uint8_t enc, uint32_t flags);
void	pb_sa2(struct pb_msg *, uint8_t mode, uint32_t reqid);
/* prefixlen -1: the address's full length. */
void	pb_addr(struct pb_msg *, uint16_t exttype, const char *addr,
	    uint16_t port, int prefixlen, uint8_t proto);
void	pb_addr_sa(struct pb_msg *, uint16_t exttype, const void *sa,
	    size_t salen, uint8_t prefixlen, uint8_t proto);
void	pb_key(struct pb_msg *, uint16_t exttype, const void *key,
	    size_t len);
void	pb_lifetime(struct pb_msg *, uint16_t exttype, uint32_t alloc,
	    uint64_t bytes, uint64_t addtime, uint64_t usetime);
void	pb_spirange(struct pb_msg *, uint32_t min, uint32_t max);
/* An X_POLICY; the requests that follow it are its own. */
void	pb_policy(struct pb_msg *, uint8_t dir, uint16_t type, uint32_t id,
	    uint32_t priority);
/* A request of the last X_POLICY; src NULL: no tunnel endpoints. */
void	pb_policy_req(struct pb_msg *, uint16_t proto, uint8_t mode,
	    uint8_t level, uint16_t reqid, const char *src, const char *dst);
/* A PROPOSAL with one combination: AES-CBC with HMAC-SHA2-256. */
void	pb_prop(struct pb_msg *);
/* sadb_msg_len from len (after the test changed len itself). */
struct sadb_msg *pb_finish(struct pb_msg *);

/* An AF_INET or AF_INET6 sockaddr from a numeric address; its length. */
size_t	pb_sockaddr(struct sockaddr_storage *, const char *addr,
	    uint16_t port);
/* The first extension of that type in a message of len bytes, or NULL. */
void	*pb_getext(const void *msg, size_t len, uint16_t exttype);

#endif /* !_REGRESS_PFKEY_BUILD_H_ */
