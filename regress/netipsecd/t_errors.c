/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * PF_KEY conformance through netipsecd: every validation error of
 * FreeBSD's keysock.c and key.c.  Framing errors (which fail send(2) on
 * BSD) come back as netipsecd's 16-byte error reply; semantic ones as the
 * echoed request with sadb_msg_errno set.  Finally, garbage and mutated
 * messages must not bring the daemon down.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netipsec/ipsec.h>

#include "pfkey_test.h"

/* A semantic error: the reply to req carries "error". */
static void
check_sem(int fd, struct pb_msg *req, int error, const char *what)
{
	struct pb_msg	rep;

	pt_call(fd, req, &rep);
	ATF_CHECK_MSG(rep.u.hdr.sadb_msg_errno == error &&
	    rep.u.hdr.sadb_msg_satype == req->u.hdr.sadb_msg_satype &&
	    PFKEY_UNUNIT64((size_t)rep.u.hdr.sadb_msg_len) == rep.len,
	    "%s: expected errno %d (%s) in the reply, got %s", what, error,
	    strerror(error), pt_describe(&rep));
}

/* A framing error: netipsecd's 16-byte reply with the request's header. */
static void
check_framing(int fd, struct pb_msg *req, int error, const char *what)
{
	struct pb_msg	rep, want;

	pt_send(fd, req);
	pt_recv_msg(fd, &rep);
	memset(&want, 0, sizeof(want));
	memcpy(want.u.buf, req->u.buf, req->len < sizeof(struct sadb_msg) ?
	    req->len : sizeof(struct sadb_msg));
	want.u.hdr.sadb_msg_errno = (uint8_t)error;
	want.u.hdr.sadb_msg_len = 2;
	ATF_CHECK_MSG(rep.len == sizeof(struct sadb_msg) &&
	    memcmp(rep.u.buf, want.u.buf, sizeof(struct sadb_msg)) == 0,
	    "%s: expected the 16-byte framing error reply with errno %d "
	    "(%s), got %s", what, error, strerror(error), pt_describe(&rep));
}

/* An ADD whose extensions the test then spoils. */
static void
add_base(struct pb_msg *m, uint32_t seq)
{
	pb_init(m, SADB_ADD, SADB_SATYPE_ESP, seq, getpid());
	pb_sa(m, 0x40000 + seq, 4, SADB_X_AALG_SHA2_256, SADB_X_EALG_AESCBC, 0);
}

static void
add_rest(struct pb_msg *m)
{
	pb_key(m, SADB_EXT_KEY_AUTH, pt_authkey, sizeof(pt_authkey));
	pb_key(m, SADB_EXT_KEY_ENCRYPT, pt_enckey, sizeof(pt_enckey));
}

/* An address extension holding a sockaddr of "salen" bytes, family af. */
static void
addr_raw(struct pb_msg *m, uint16_t exttype, int af, size_t salen,
    size_t extlen)
{
	struct sadb_address	*ext;
	struct sockaddr		*sa;

	ext = pb_ext(m, exttype, extlen);
	ext->sadb_address_proto = IPSEC_ULPROTO_ANY;
	ext->sadb_address_prefixlen = 32;
	sa = (struct sockaddr *)(ext + 1);
	if (salen >= sizeof(sa->sa_family))
		sa->sa_family = (sa_family_t)af;
}

PT_TC(short_message, "a message shorter than struct sadb_msg");
ATF_TC_BODY(short_message, tc)
{
	struct pb_msg	req;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	pb_init(&req, SADB_REGISTER, SADB_SATYPE_ESP, 1, getpid());
	req.len = 8;
	check_framing(fd, &req, EINVAL, "8 bytes");
	req.len = 1;
	check_framing(fd, &req, EINVAL, "1 byte");
	pb_init(&req, SADB_REGISTER, SADB_SATYPE_ESP, 2, getpid());
	req.len = 15;
	check_framing(fd, &req, EINVAL, "15 bytes");
	close(fd);
	pt_daemon_stop();
}

PT_TC(length_mismatch, "length != sadb_msg_len * 8");
ATF_TC_BODY(length_mismatch, tc)
{
	struct pb_msg	req;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	pb_init(&req, SADB_REGISTER, SADB_SATYPE_ESP, 1, getpid());
	req.u.hdr.sadb_msg_len = 3;
	check_framing(fd, &req, EINVAL, "sadb_msg_len 3 in 16 bytes");

	pb_init(&req, SADB_DUMP, SADB_SATYPE_ESP, 2, getpid());
	pb_sa(&req, 0x1000, 4, 0, 0, 0);
	req.u.hdr.sadb_msg_len = 2;
	check_framing(fd, &req, EINVAL, "sadb_msg_len 2 in 32 bytes");

	pb_init(&req, SADB_REGISTER, SADB_SATYPE_ESP, 3, getpid());
	req.u.hdr.sadb_msg_len = 0;
	check_framing(fd, &req, EINVAL, "sadb_msg_len 0");
	close(fd);
	pt_daemon_stop();
}

PT_TC(oversize, "a message beyond FreeBSD's MCLBYTES (2048): ENOBUFS");
ATF_TC_BODY(oversize, tc)
{
	struct pb_msg	req;
	uint8_t		key[2400];
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	memset(key, 0x5a, sizeof(key));
	pt_add_msg(&req, SADB_ADD, 0x1234, PT_SRC, PT_DST, 1);
	pb_key(&req, SADB_EXT_SENSITIVITY, key, sizeof(key));
	check_framing(fd, &req, ENOBUFS, "2.5 kB message");
	pt_register(fd, SADB_SATYPE_UNSPEC);
	close(fd);
	pt_daemon_stop();
}

PT_TC(bad_version, "sadb_msg_version != PF_KEY_V2: EINVAL");
ATF_TC_BODY(bad_version, tc)
{
	struct pb_msg	req;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	pb_init(&req, SADB_REGISTER, SADB_SATYPE_ESP, 1, getpid());
	req.u.hdr.sadb_msg_version = 1;
	check_sem(fd, &req, EINVAL, "version 1");
	pb_init(&req, SADB_REGISTER, SADB_SATYPE_ESP, 2, getpid());
	req.u.hdr.sadb_msg_version = 3;
	check_sem(fd, &req, EINVAL, "version 3");
	close(fd);
	pt_daemon_stop();
}

PT_TC(bad_type, "message types beyond SADB_MAX, and those only the "
    "kernel sends: EINVAL");
ATF_TC_BODY(bad_type, tc)
{
	static const struct {
		uint8_t		 type;
		const char	*what;
	} types[] = {
		{ SADB_RESERVED, "SADB_RESERVED" },
		{ SADB_EXPIRE, "SADB_EXPIRE" },
		{ SADB_X_PCHANGE, "SADB_X_PCHANGE" },
		{ SADB_X_SPDACQUIRE, "SADB_X_SPDACQUIRE" },
		{ SADB_X_SPDEXPIRE, "SADB_X_SPDEXPIRE" },
		{ SADB_MAX + 1, "SADB_MAX + 1" },
		{ 255, "type 255" },
	};
	struct pb_msg	req;
	size_t		i;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	for (i = 0; i < nitems(types); i++) {
		/* satype UNSPEC is refused for EXPIRE anyway */
		pb_init(&req, types[i].type, SADB_SATYPE_ESP, 10 + i, getpid());
		check_sem(fd, &req, EINVAL, types[i].what);
	}
	close(fd);
	pt_daemon_stop();
}

PT_TC(unknown_ext, "unknown extension types, and X_KMPRIVATE: framing "
    "error EINVAL");
ATF_TC_BODY(unknown_ext, tc)
{
	static const uint16_t	types[] = { SADB_EXT_RESERVED,
	    SADB_X_EXT_KMPRIVATE, SADB_EXT_MAX + 1, 200, 0xffff };
	struct pb_msg		req;
	char			what[64];
	size_t			i;
	int			fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	for (i = 0; i < nitems(types); i++) {
		pb_init(&req, SADB_DUMP, SADB_SATYPE_ESP, 20 + i, getpid());
		pb_ext(&req, types[i], 16);
		snprintf(what, sizeof(what), "extension type %u", types[i]);
		check_framing(fd, &req, EINVAL, what);
	}
	close(fd);
	pt_daemon_stop();
}

PT_TC(duplicate_ext, "an extension given twice: framing error EINVAL");
ATF_TC_BODY(duplicate_ext, tc)
{
	struct pb_msg	req;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	pt_add_msg(&req, SADB_ADD, 0x1000, PT_SRC, PT_DST, 1);
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	check_framing(fd, &req, EINVAL, "ADDRESS_SRC twice");

	pt_add_msg(&req, SADB_ADD, 0x1001, PT_SRC, PT_DST, 2);
	pb_sa(&req, 0x1001, 4, SADB_X_AALG_SHA2_256, SADB_X_EALG_AESCBC, 0);
	check_framing(fd, &req, EINVAL, "SA twice");
	close(fd);
	pt_daemon_stop();
}

PT_TC(bad_ext_len, "extension lengths: zero, past the end, wrong for "
    "fixed-size extensions: framing error EINVAL");
ATF_TC_BODY(bad_ext_len, tc)
{
	struct pb_msg		 req;
	struct sadb_ext		*ext;
	int			 fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();

	pb_init(&req, SADB_DUMP, SADB_SATYPE_ESP, 1, getpid());
	ext = pb_ext(&req, SADB_EXT_SA, 16);
	ext->sadb_ext_len = 0;
	check_framing(fd, &req, EINVAL, "sadb_ext_len 0");

	pb_init(&req, SADB_DUMP, SADB_SATYPE_ESP, 2, getpid());
	ext = pb_ext(&req, SADB_EXT_SA, 16);
	ext->sadb_ext_len = 4;
	check_framing(fd, &req, EINVAL, "extension past the message");

	pb_init(&req, SADB_DUMP, SADB_SATYPE_ESP, 3, getpid());
	pb_ext(&req, SADB_EXT_SA, 24);
	check_framing(fd, &req, EINVAL, "24-byte SA");

	pb_init(&req, SADB_DUMP, SADB_SATYPE_ESP, 4, getpid());
	pb_ext(&req, SADB_EXT_SA, 8);
	check_framing(fd, &req, EINVAL, "8-byte SA");

	pb_init(&req, SADB_DUMP, SADB_SATYPE_ESP, 5, getpid());
	pb_ext(&req, SADB_EXT_LIFETIME_HARD, 16);
	check_framing(fd, &req, EINVAL, "16-byte LIFETIME_HARD");

	pb_init(&req, SADB_DUMP, SADB_SATYPE_ESP, 6, getpid());
	pb_ext(&req, SADB_X_EXT_SA2, 24);
	check_framing(fd, &req, EINVAL, "24-byte X_SA2");

	pb_init(&req, SADB_DUMP, SADB_SATYPE_ESP, 7, getpid());
	pb_ext(&req, SADB_EXT_SPIRANGE, 8);
	check_framing(fd, &req, EINVAL, "8-byte SPIRANGE");

	pb_init(&req, SADB_DUMP, SADB_SATYPE_ESP, 8, getpid());
	pb_ext(&req, SADB_EXT_KEY_AUTH, 16);
	pb_ext(&req, SADB_EXT_SA, 16);
	ext = (struct sadb_ext *)(req.u.buf + sizeof(struct sadb_msg));
	ext->sadb_ext_len = 3;		/* swallows half of the next one */
	check_framing(fd, &req, EINVAL, "extensions overlapping");
	close(fd);
	pt_daemon_stop();
}

PT_TC(bad_sockaddr, "address extensions whose sockaddr does not fill "
    "them exactly: framing error EINVAL");
ATF_TC_BODY(bad_sockaddr, tc)
{
	struct pb_msg	req;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();

	add_base(&req, 1);
	addr_raw(&req, SADB_EXT_ADDRESS_SRC, AF_INET, 16, 40);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, 255);
	add_rest(&req);
	check_framing(fd, &req, EINVAL, "sockaddr_in in a 40-byte extension");

	add_base(&req, 2);
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, "2001:db8::1", 0, 128, 255);
	addr_raw(&req, SADB_EXT_ADDRESS_DST, AF_INET6, 28, 24);
	add_rest(&req);
	check_framing(fd, &req, EINVAL, "sockaddr_in6 in a 24-byte extension");

	add_base(&req, 3);
	addr_raw(&req, SADB_EXT_ADDRESS_SRC, AF_INET, 0, 8);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, 255);
	add_rest(&req);
	check_framing(fd, &req, EINVAL, "address extension without sockaddr");

	/* FreeBSD's key_updateaddresses() overrun: bounded here. */
	pt_add(fd, 0x50000, PT_SRC, PT_DST);
	pb_init(&req, SADB_UPDATE, SADB_SATYPE_ESP, 4, getpid());
	pb_sa(&req, 0x50000, 4, SADB_X_AALG_SHA2_256, SADB_X_EALG_AESCBC, 0);
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, 255);
	addr_raw(&req, SADB_X_EXT_NEW_ADDRESS_SRC, AF_INET, 16, 8 + 256);
	pb_addr(&req, SADB_X_EXT_NEW_ADDRESS_DST, PT_DST, 0, 32, 255);
	check_framing(fd, &req, EINVAL, "oversized X_NEW_ADDRESS_SRC");

	pt_register(fd, SADB_SATYPE_UNSPEC);		/* still alive */
	close(fd);
	pt_daemon_stop();
}

PT_TC(address_mismatch, "SRC and DST of different families or upper "
    "protocols, prefix lengths too long: EINVAL");
ATF_TC_BODY(address_mismatch, tc)
{
	struct pb_msg	req;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();

	add_base(&req, 1);
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, "2001:db8::2", 0, 128, 255);
	add_rest(&req);
	check_sem(fd, &req, EINVAL, "IPv4 to IPv6");

	add_base(&req, 2);
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, IPPROTO_TCP);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, IPPROTO_UDP);
	add_rest(&req);
	check_sem(fd, &req, EINVAL, "TCP to UDP");

	add_base(&req, 3);
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 33, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, 255);
	add_rest(&req);
	check_sem(fd, &req, EINVAL, "IPv4 prefix 33");

	pt_spd_msg(&req, SADB_X_SPDADD, "2001:db8::1", "2001:db8::2",
	    IPSEC_DIR_OUTBOUND, 4);
	((struct sadb_address *)pt_ext(&req, SADB_EXT_ADDRESS_DST))->
	    sadb_address_prefixlen = 129;
	check_sem(fd, &req, EINVAL, "IPv6 prefix 129");
	close(fd);
	pt_daemon_stop();
}

PT_TC(unknown_family, "SRC and DST of an unknown address family: "
    "EAFNOSUPPORT (FreeBSD), or EINVAL for a sockaddr whose size is "
    "unknown without sa_len");
ATF_TC_BODY(unknown_family, tc)
{
	struct pb_msg	req, rep;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	add_base(&req, 1);
	addr_raw(&req, SADB_EXT_ADDRESS_SRC, AF_APPLETALK, 16, 24);
	addr_raw(&req, SADB_EXT_ADDRESS_DST, AF_APPLETALK, 16, 24);
	add_rest(&req);
	pt_send(fd, &req);
	pt_recv_msg(fd, &rep);
	if (rep.len == sizeof(struct sadb_msg) &&
	    rep.u.hdr.sadb_msg_errno == EINVAL)
		pt_expect_framing(&req, &rep, EINVAL);
	else
		pt_expect_error(&req, &rep, EAFNOSUPPORT);
	close(fd);
	pt_daemon_stop();
}

PT_TC(bad_satype, "satypes: UNSPEC where one is needed, SA types for SPD "
    "messages, RSVP/OSPF/RIP/MIP, undefined ones");
ATF_TC_BODY(bad_satype, tc)
{
	struct pb_msg	req;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();

	pb_init(&req, SADB_GETSPI, SADB_SATYPE_UNSPEC, 1, getpid());
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, 255);
	check_sem(fd, &req, EINVAL, "GETSPI UNSPEC");

	pt_add_msg(&req, SADB_ADD, 0x1000, PT_SRC, PT_DST, 2);
	req.u.hdr.sadb_msg_satype = SADB_SATYPE_UNSPEC;
	check_sem(fd, &req, EINVAL, "ADD UNSPEC");

	pt_add_msg(&req, SADB_ADD, 0x1000, PT_SRC, PT_DST, 3);
	req.u.hdr.sadb_msg_satype = SADB_SATYPE_RSVP;
	check_sem(fd, &req, EOPNOTSUPP, "ADD RSVP");

	pt_add_msg(&req, SADB_ADD, 0x1000, PT_SRC, PT_DST, 4);
	req.u.hdr.sadb_msg_satype = SADB_SATYPE_MIP;
	check_sem(fd, &req, EOPNOTSUPP, "ADD MIP");

	pt_add_msg(&req, SADB_ADD, 0x1000, PT_SRC, PT_DST, 5);
	req.u.hdr.sadb_msg_satype = 4;
	check_sem(fd, &req, EINVAL, "ADD satype 4");

	pt_spd_msg(&req, SADB_X_SPDADD, "10.0.0.1", "10.0.1.1",
	    IPSEC_DIR_OUTBOUND, 6);
	req.u.hdr.sadb_msg_satype = SADB_SATYPE_ESP;
	check_sem(fd, &req, EINVAL, "SPDADD ESP");

	pb_init(&req, SADB_REGISTER, SADB_SATYPE_MAX + 1, 7, getpid());
	check_sem(fd, &req, EINVAL, "REGISTER satype 13");

	pb_init(&req, SADB_X_PROMISC, 2, 8, getpid());
	check_sem(fd, &req, EINVAL, "X_PROMISC 2");
	close(fd);
	pt_daemon_stop();
}

PT_TC(missing_ext, "a mandatory extension missing: EINVAL");
ATF_TC_BODY(missing_ext, tc)
{
	struct pb_msg	req;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();

	pb_init(&req, SADB_ADD, SADB_SATYPE_ESP, 1, getpid());
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, 255);
	add_rest(&req);
	check_sem(fd, &req, EINVAL, "ADD without SA");

	add_base(&req, 2);
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	add_rest(&req);
	check_sem(fd, &req, EINVAL, "ADD without DST");

	add_base(&req, 3);
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, 255);
	pb_key(&req, SADB_EXT_KEY_AUTH, pt_authkey, sizeof(pt_authkey));
	check_sem(fd, &req, EINVAL, "ADD ESP without KEY_ENCRYPT");

	pb_init(&req, SADB_GETSPI, SADB_SATYPE_ESP, 4, getpid());
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	check_sem(fd, &req, EINVAL, "GETSPI without DST");

	pb_init(&req, SADB_UPDATE, SADB_SATYPE_ESP, 5, getpid());
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, 255);
	add_rest(&req);
	check_sem(fd, &req, EINVAL, "UPDATE without SA");

	pb_init(&req, SADB_DELETE, SADB_SATYPE_ESP, 6, getpid());
	pb_sa(&req, 0x1000, 4, 0, 0, 0);
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	check_sem(fd, &req, EINVAL, "DELETE without DST");

	pb_init(&req, SADB_GET, SADB_SATYPE_ESP, 7, getpid());
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, 255);
	check_sem(fd, &req, EINVAL, "GET without SA");

	pb_init(&req, SADB_ACQUIRE, SADB_SATYPE_ESP, 8, getpid());
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, 255);
	check_sem(fd, &req, EINVAL, "ACQUIRE without PROPOSAL");

	pb_init(&req, SADB_X_SPDADD, SADB_SATYPE_UNSPEC, 9, getpid());
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, "10.0.0.1", 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, "10.0.1.1", 0, 32, 255);
	check_sem(fd, &req, EINVAL, "SPDADD without X_POLICY");

	pb_init(&req, SADB_X_SPDADD, SADB_SATYPE_UNSPEC, 10, getpid());
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, "10.0.0.1", 0, 32, 255);
	pb_policy(&req, IPSEC_DIR_OUTBOUND, IPSEC_POLICY_DISCARD, 0, 0);
	check_sem(fd, &req, EINVAL, "SPDADD without DST");

	pb_init(&req, SADB_X_SPDGET, SADB_SATYPE_UNSPEC, 11, getpid());
	check_sem(fd, &req, EINVAL, "SPDGET without X_POLICY");

	pb_init(&req, SADB_X_SPDDELETE2, SADB_SATYPE_UNSPEC, 12, getpid());
	check_sem(fd, &req, EINVAL, "SPDDELETE2 without X_POLICY");
	close(fd);
	pt_daemon_stop();
}

PT_TC(lifetime_pair, "LIFETIME_HARD and LIFETIME_SOFT come together or "
    "not at all: EINVAL");
ATF_TC_BODY(lifetime_pair, tc)
{
	struct pb_msg	req;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	pt_add_msg(&req, SADB_ADD, 0x1000, PT_SRC, PT_DST, 1);
	pb_lifetime(&req, SADB_EXT_LIFETIME_HARD, 0, 0, 100, 0);
	check_sem(fd, &req, EINVAL, "HARD alone");
	pt_add_msg(&req, SADB_ADD, 0x1000, PT_SRC, PT_DST, 2);
	pb_lifetime(&req, SADB_EXT_LIFETIME_SOFT, 0, 0, 100, 0);
	check_sem(fd, &req, EINVAL, "SOFT alone");
	close(fd);
	pt_daemon_stop();
}

PT_TC(add_invalid, "ADD with a reserved SPI, unknown algorithm, bad key "
    "length or flags beyond SADB_KEY_FLAGS_MAX: EINVAL");
ATF_TC_BODY(add_invalid, tc)
{
	struct pb_msg	req;
	struct sadb_sa	*sa;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	pt_add_msg(&req, SADB_ADD, 200, PT_SRC, PT_DST, 1);
	check_sem(fd, &req, EINVAL, "SPI 200");

	pt_add_msg(&req, SADB_ADD, 0x1000, PT_SRC, PT_DST, 2);
	sa = (struct sadb_sa *)pt_ext(&req, SADB_EXT_SA);
	sa->sadb_sa_encrypt = 99;
	check_sem(fd, &req, EINVAL, "encryption algorithm 99");

	pt_add_msg(&req, SADB_ADD, 0x1000, PT_SRC, PT_DST, 3);
	sa = (struct sadb_sa *)pt_ext(&req, SADB_EXT_SA);
	sa->sadb_sa_flags = SADB_KEY_FLAGS_MAX + 1;
	check_sem(fd, &req, EINVAL, "flags 0x1000");

	add_base(&req, 4);
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, 255);
	pb_key(&req, SADB_EXT_KEY_AUTH, pt_authkey, sizeof(pt_authkey));
	pb_key(&req, SADB_EXT_KEY_ENCRYPT, pt_enckey, 5);
	check_sem(fd, &req, EINVAL, "40-bit AES key");
	close(fd);
	pt_daemon_stop();
}

PT_TC(duplicate_spi, "ADD of an SPI in use, for any addresses: EEXIST");
ATF_TC_BODY(duplicate_spi, tc)
{
	struct pb_msg	req;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	pt_add(fd, 0x60000, PT_SRC, PT_DST);
	pt_add_msg(&req, SADB_ADD, 0x60000, PT_SRC, PT_DST, 1);
	check_sem(fd, &req, EEXIST, "same SA again");
	pt_add_msg(&req, SADB_ADD, 0x60000, PT_SRC, "192.0.2.9", 2);
	check_sem(fd, &req, EEXIST, "same SPI, other destination");
	close(fd);
	pt_daemon_stop();
}

PT_TC(getspi_taken, "GETSPI of exactly an SPI in use: EEXIST");
ATF_TC_BODY(getspi_taken, tc)
{
	struct pb_msg	req;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	pt_add(fd, 0x61000, PT_SRC, PT_DST);
	pb_init(&req, SADB_GETSPI, SADB_SATYPE_ESP, 1, getpid());
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, 255);
	pb_spirange(&req, 0x61000, 0x61000);
	check_sem(fd, &req, EEXIST, "GETSPI 0x61000");
	close(fd);
	pt_daemon_stop();
}

PT_TC(unknown_sa, "GET and DELETE of an SA that does not exist: ESRCH");
ATF_TC_BODY(unknown_sa, tc)
{
	struct pb_msg	req;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	pt_add(fd, 0x62000, PT_SRC, PT_DST);

	pb_init(&req, SADB_GET, SADB_SATYPE_ESP, 1, getpid());
	pb_sa(&req, 0x62001, 4, 0, 0, 0);
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, 255);
	check_sem(fd, &req, ESRCH, "GET of an unknown SPI");

	pb_init(&req, SADB_GET, SADB_SATYPE_ESP, 2, getpid());
	pb_sa(&req, 0x62000, 4, 0, 0, 0);
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, "192.0.2.9", 0, 32, 255);
	check_sem(fd, &req, ESRCH, "GET with the wrong destination");

	pb_init(&req, SADB_DELETE, SADB_SATYPE_ESP, 3, getpid());
	pb_sa(&req, 0x62001, 4, 0, 0, 0);
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, 255);
	check_sem(fd, &req, ESRCH, "DELETE of an unknown SPI");
	close(fd);
	pt_daemon_stop();
}

PT_TC(update_errors, "UPDATE: unknown SPI or another pid (EINVAL), keys "
    "for a mature SA (EINVAL), other addresses (ESRCH)");
ATF_TC_BODY(update_errors, tc)
{
	struct pb_msg	req, rep;
	uint32_t	spi;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();

	pt_add_msg(&req, SADB_UPDATE, 0x63000, PT_SRC, PT_DST, 1);
	check_sem(fd, &req, EINVAL, "UPDATE of an unknown SPI");

	pb_init(&req, SADB_GETSPI, SADB_SATYPE_ESP, 2, getpid());
	pb_sa2(&req, IPSEC_MODE_TRANSPORT, 0);
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, 255);
	pb_spirange(&req, 0x63100, 0x631ff);
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	spi = pt_spi(&rep);

	pt_add_msg(&req, SADB_UPDATE, spi, PT_SRC, PT_DST, 2);
	req.u.hdr.sadb_msg_pid++;
	check_sem(fd, &req, EINVAL, "UPDATE from another pid");

	pt_add_msg(&req, SADB_UPDATE, spi, PT_SRC, "192.0.2.9", 2);
	check_sem(fd, &req, ESRCH, "UPDATE with other addresses");

	pt_add(fd, 0x63200, PT_SRC, PT_DST);
	pt_add_msg(&req, SADB_UPDATE, 0x63200, PT_SRC, PT_DST, 0x63200);
	check_sem(fd, &req, EINVAL, "UPDATE of a mature SA with keys");
	close(fd);
	pt_daemon_stop();
}

static void
spd_id_msg(struct pb_msg *m, uint8_t type, uint32_t id, uint32_t seq)
{
	pb_init(m, type, SADB_SATYPE_UNSPEC, seq, getpid());
	pb_policy(m, IPSEC_DIR_ANY, IPSEC_POLICY_DISCARD, id, 0);
}

PT_TC(spd_errors, "SPD messages: duplicate (EEXIST), not found (EINVAL "
    "or ENOENT), bad direction, type, requests and scope");
ATF_TC_BODY(spd_errors, tc)
{
	struct pb_msg				 req, rep;
	struct sadb_x_policy			*pol;
	struct sadb_x_ipsecrequest		*ir;
	int					 fd, i;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();

	pb_init(&req, SADB_X_SPDDUMP, SADB_SATYPE_UNSPEC, 1, getpid());
	check_sem(fd, &req, ENOENT, "SPDDUMP of an empty SPD");

	pt_spd_msg(&req, SADB_X_SPDADD, "10.0.0.1", "10.0.1.1",
	    IPSEC_DIR_OUTBOUND, 2);
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	pt_spd_msg(&req, SADB_X_SPDADD, "10.0.0.1", "10.0.1.1",
	    IPSEC_DIR_OUTBOUND, 3);
	check_sem(fd, &req, EEXIST, "SPDADD twice");

	pb_init(&req, SADB_X_SPDDELETE, SADB_SATYPE_UNSPEC, 4, getpid());
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, "10.0.0.9", 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, "10.0.1.9", 0, 32, 255);
	pb_policy(&req, IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, 0, 0);
	pb_policy_req(&req, IPPROTO_ESP, IPSEC_MODE_TRANSPORT,
	    IPSEC_LEVEL_REQUIRE, 0, NULL, NULL);
	check_sem(fd, &req, EINVAL, "SPDDELETE of an unknown policy");

	spd_id_msg(&req, SADB_X_SPDGET, 0x7fffff, 5);
	check_sem(fd, &req, ENOENT, "SPDGET of an unknown id");
	spd_id_msg(&req, SADB_X_SPDDELETE2, 0x7fffff, 6);
	check_sem(fd, &req, EINVAL, "SPDDELETE2 of an unknown id");

	pt_spd_msg(&req, SADB_X_SPDADD, "10.0.0.2", "10.0.1.2",
	    IPSEC_DIR_ANY, 7);
	check_sem(fd, &req, EINVAL, "SPDADD direction ANY");
	pt_spd_msg(&req, SADB_X_SPDADD, "10.0.0.2", "10.0.1.2",
	    IPSEC_DIR_INVALID, 8);
	check_sem(fd, &req, EINVAL, "SPDADD direction INVALID");

	pt_spd_msg(&req, SADB_X_SPDADD, "10.0.0.2", "10.0.1.2",
	    IPSEC_DIR_OUTBOUND, 9);
	pol = (struct sadb_x_policy *)pt_ext(&req, SADB_X_EXT_POLICY);
	pol->sadb_x_policy_type = IPSEC_POLICY_ENTRUST;
	check_sem(fd, &req, EINVAL, "SPDADD type ENTRUST");

	pb_init(&req, SADB_X_SPDADD, SADB_SATYPE_UNSPEC, 10, getpid());
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, "10.0.0.2", 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, "10.0.1.2", 0, 32, 255);
	pb_policy(&req, IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, 0, 0);
	check_sem(fd, &req, EINVAL, "SPDADD IPSEC without a request");

	pt_spd_msg(&req, SADB_X_SPDADD, "10.0.0.2", "10.0.1.2",
	    IPSEC_DIR_OUTBOUND, 11);
	ir = (struct sadb_x_ipsecrequest *)((uint8_t *)pt_ext(&req,
	    SADB_X_EXT_POLICY) + sizeof(struct sadb_x_policy));
	ir->sadb_x_ipsecrequest_proto = 99;
	check_sem(fd, &req, EPROTONOSUPPORT, "SPDADD request protocol 99");

	pb_init(&req, SADB_X_SPDADD, SADB_SATYPE_UNSPEC, 12, getpid());
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, "10.0.0.2", 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, "10.0.1.2", 0, 32, 255);
	pb_policy(&req, IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, 0, 0);
	for (i = 0; i < 5; i++)
		pb_policy_req(&req, IPPROTO_ESP, IPSEC_MODE_TRANSPORT,
		    IPSEC_LEVEL_REQUIRE, 0, NULL, NULL);
	check_sem(fd, &req, EINVAL, "SPDADD with 5 requests");

	pb_init(&req, SADB_X_SPDDUMP, 0x80, 13, getpid());
	check_sem(fd, &req, EINVAL, "SPDDUMP scope 0x80");

	pb_init(&req, SADB_X_SPDFLUSH, SADB_SATYPE_UNSPEC, 14, getpid());
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, "10.0.0.2", 0, 32, 255);
	check_sem(fd, &req, EINVAL, "SPDFLUSH with an extension");
	close(fd);
	pt_daemon_stop();
}

PT_TC(sad_errors, "DUMP of an empty SAD (ENOENT), REGISTER twice (EEXIST), "
    "ACQUIRE for an existing SA (EEXIST)");
ATF_TC_BODY(sad_errors, tc)
{
	struct pb_msg	req;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	pb_init(&req, SADB_DUMP, SADB_SATYPE_ESP, 1, getpid());
	check_sem(fd, &req, ENOENT, "DUMP of an empty SAD");
	pb_init(&req, SADB_DUMP, SADB_SATYPE_UNSPEC, 2, getpid());
	check_sem(fd, &req, ENOENT, "DUMP UNSPEC of an empty SAD");

	pt_register(fd, SADB_SATYPE_ESP);
	pb_init(&req, SADB_REGISTER, SADB_SATYPE_ESP, 3, getpid());
	check_sem(fd, &req, EEXIST, "REGISTER ESP twice");

	pt_add(fd, 0x64000, PT_SRC, PT_DST);
	pt_drain(fd);
	pb_init(&req, SADB_ACQUIRE, SADB_SATYPE_ESP, 4, getpid());
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, 255);
	pb_prop(&req);
	check_sem(fd, &req, EEXIST, "ACQUIRE for an existing SA");
	close(fd);
	pt_daemon_stop();
}

/* How many lines of netipsecd's log contain s. */
static int
log_count(const char *s)
{
	FILE	*fp;
	char	 line[1024];
	int	 n = 0;

	if ((fp = fopen(PT_LOG, "r")) == NULL)
		return (0);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strstr(line, s) != NULL)
			n++;
	fclose(fp);
	return (n);
}

PT_TC(sa_max, "net.key.sa_max: GETSPI and ADD beyond it get ENOBUFS, "
    "logged once; the SAs in place stay whole; room comes back");
ATF_TC_BODY(sa_max, tc)
{
	struct pb_msg	req, rep;
	int		fd, i, n;

	pt_daemon_start(tc, "-o", "net.key.sa_max=10", NULL);
	fd = pt_connect();
	for (i = 0; i < 10; i++)
		pt_add(fd, 0x70000 + (uint32_t)i, PT_SRC, PT_DST);
	for (i = 0; i < 20; i++) {
		pt_add_msg(&req, SADB_ADD, 0x70100 + (uint32_t)i, PT_SRC,
		    PT_DST, 100 + (uint32_t)i);
		pt_call(fd, &req, &rep);
		pt_expect_echo(&req, &rep, ENOBUFS);
	}
	pb_init(&req, SADB_GETSPI, SADB_SATYPE_ESP, 200, getpid());
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, 255);
	pt_call(fd, &req, &rep);
	pt_expect_echo(&req, &rep, ENOBUFS);
	ATF_CHECK_MSG(pt_log_wait("net.key.sa_max=10", 2000),
	    "the refusal was not logged");
	ATF_CHECK_EQ_MSG(log_count("net.key.sa_max=10"), 1,
	    "%d log lines for 21 refusals", log_count("net.key.sa_max=10"));

	/* Nothing lost: the ten SAs, with their keys. */
	pb_init(&req, SADB_DUMP, SADB_SATYPE_ESP, 201, getpid());
	pt_send(fd, &req);
	for (n = 0; n < 11; n++) {
		pt_recv_msg(fd, &rep);
		ATF_REQUIRE_MSG(rep.u.hdr.sadb_msg_type == SADB_DUMP &&
		    rep.u.hdr.sadb_msg_errno == 0, "%s", pt_describe(&rep));
		ATF_CHECK(pt_has_keys(&rep));
		ATF_CHECK(pt_spi(&rep) >= 0x70000 && pt_spi(&rep) < 0x7000a);
		if (rep.u.hdr.sadb_msg_seq == 0)
			break;
	}
	ATF_CHECK_EQ(n, 9);

	/* One goes, one comes. */
	pb_init(&req, SADB_DELETE, SADB_SATYPE_ESP, 202, getpid());
	pb_sa(&req, 0x70003, 4, 0, 0, 0);
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, 255);
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	pt_add(fd, 0x70100, PT_SRC, PT_DST);
	close(fd);
	pt_daemon_stop();
}

PT_TC(sp_max, "net.key.sp_max: SPDADD beyond it gets ENOBUFS; SPDUPDATE "
    "of a policy in place still works");
ATF_TC_BODY(sp_max, tc)
{
	struct pb_msg	req, rep;
	int		fd;

	pt_daemon_start(tc, "-o", "net.key.sp_max=2", NULL);
	fd = pt_connect();
	pt_spd_msg(&req, SADB_X_SPDADD, PT_SRC, PT_DST, IPSEC_DIR_OUTBOUND, 1);
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	pt_spd_msg(&req, SADB_X_SPDADD, PT_DST, PT_SRC, IPSEC_DIR_INBOUND, 2);
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	pt_spd_msg(&req, SADB_X_SPDADD, PT_SRC, "192.0.2.9",
	    IPSEC_DIR_OUTBOUND, 3);
	check_sem(fd, &req, ENOBUFS, "SPDADD beyond net.key.sp_max");
	pt_spd_msg(&req, SADB_X_SPDUPDATE, PT_SRC, PT_DST, IPSEC_DIR_OUTBOUND,
	    4);
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	ATF_CHECK(pt_log_wait("net.key.sp_max=2", 2000));
	close(fd);
	pt_daemon_stop();
}

PT_TC(semantic_echo, "a semantic error sends the whole request back with "
    "sadb_msg_errno set, as FreeBSD's key_senderror()");
ATF_TC_BODY(semantic_echo, tc)
{
	struct pb_msg	req, rep;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	pb_init(&req, SADB_GET, SADB_SATYPE_ESP, 1, getpid());
	pb_sa(&req, 0x65000, 4, 0, 0, 0);
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, 255);
	pt_call(fd, &req, &rep);
	pt_expect_echo(&req, &rep, ESRCH);

	pt_add_msg(&req, SADB_ADD, 0x65000, PT_SRC, PT_DST, 2);
	req.u.hdr.sadb_msg_version = 1;
	pt_call(fd, &req, &rep);
	pt_expect_echo(&req, &rep, EINVAL);
	close(fd);
	pt_daemon_stop();
}

/*
 * Robustness: valid messages of every kind, mutated, and random bytes.
 * Deterministic (fixed seed).  Every 25 messages a REGISTER UNSPEC with a
 * fresh seq synchronizes: its reply comes after those of the messages
 * before it.
 */
static void
fuzz_templates(struct pb_msg *t, int *nt)
{
	struct sadb_x_nat_t_type	*nt_type;
	struct sadb_x_nat_t_port	*port;
	int				 n = 0;

	pt_add_msg(&t[n], SADB_ADD, 0x70000, PT_SRC, PT_DST, 1);
	pb_lifetime(&t[n], SADB_EXT_LIFETIME_HARD, 0, 0, 100, 0);
	pb_lifetime(&t[n], SADB_EXT_LIFETIME_SOFT, 0, 0, 80, 0);
	n++;
	pt_add_msg(&t[n], SADB_ADD, 0x70001, "2001:db8::1", "2001:db8::2", 1);
	nt_type = pb_ext(&t[n], SADB_X_EXT_NAT_T_TYPE, sizeof(*nt_type));
	nt_type->sadb_x_nat_t_type_type = UDP_ENCAP_ESPINUDP;
	port = pb_ext(&t[n], SADB_X_EXT_NAT_T_SPORT, sizeof(*port));
	port->sadb_x_nat_t_port_port = htons(4500);
	port = pb_ext(&t[n], SADB_X_EXT_NAT_T_DPORT, sizeof(*port));
	port->sadb_x_nat_t_port_port = htons(4500);
	n++;
	pt_add_msg(&t[n], SADB_UPDATE, 0x70000, PT_SRC, PT_DST, 1);
	pb_addr(&t[n], SADB_X_EXT_NEW_ADDRESS_SRC, "192.0.2.7", 0, 32,
	    255);
	pb_addr(&t[n], SADB_X_EXT_NEW_ADDRESS_DST, "192.0.2.8", 0, 32,
	    255);
	n++;
	pb_init(&t[n], SADB_GETSPI, SADB_SATYPE_ESP, 2, getpid());
	pb_sa2(&t[n], IPSEC_MODE_TUNNEL, 5);
	pb_addr(&t[n], SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	pb_addr(&t[n], SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, 255);
	pb_spirange(&t[n], 0x100, 0x200);
	n++;
	pb_init(&t[n], SADB_DELETE, SADB_SATYPE_ESP, 3, getpid());
	pb_sa(&t[n], 0x70000, 4, 0, 0, 0);
	pb_addr(&t[n], SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	pb_addr(&t[n], SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, 255);
	n++;
	pb_init(&t[n], SADB_ACQUIRE, SADB_SATYPE_ESP, 4, getpid());
	pb_addr(&t[n], SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	pb_addr(&t[n], SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, 255);
	pb_prop(&t[n]);
	n++;
	pt_spd_msg(&t[n], SADB_X_SPDADD, "10.0.0.1", "10.0.1.1",
	    IPSEC_DIR_OUTBOUND, 5);
	pb_lifetime(&t[n], SADB_EXT_LIFETIME_HARD, 0, 0, 100, 0);
	n++;
	pt_spd_msg(&t[n], SADB_X_SPDUPDATE, "2001:db8::1", "2001:db8::2",
	    IPSEC_DIR_INBOUND, 6);
	n++;
	pb_init(&t[n], SADB_X_SPDDELETE2, SADB_SATYPE_UNSPEC, 7, getpid());
	pb_policy(&t[n], IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, 1, 0);
	n++;
	pb_init(&t[n], SADB_X_PROMISC, 1, 8, getpid());
	pb_sa(&t[n], 0x70000, 4, 0, 0, 0);
	n++;
	pb_init(&t[n], SADB_DUMP, SADB_SATYPE_UNSPEC, 9, getpid());
	n++;
	pb_init(&t[n], SADB_X_SPDDUMP, SADB_SATYPE_UNSPEC, 10, getpid());
	n++;
	*nt = n;
}

static void
fuzz_sync(int fd, uint32_t seq)
{
	struct pb_msg	req, rep;

	pb_init(&req, SADB_REGISTER, SADB_SATYPE_UNSPEC, seq, getpid());
	req.u.hdr.sadb_msg_pid = 0xfffffff0;
	pt_call(fd, &req, &rep);
}

PT_TC(fuzz, "mutated and random messages do not bring netipsecd down");
ATF_TC_BODY(fuzz, tc)
{
	struct pb_msg	t[16], m;
	size_t		off;
	uint32_t	sync = 1000000;
	int		fd, nt, i, k, nmut;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	fuzz_templates(t, &nt);
	srandom(2367);
	for (i = 0; i < 6000; i++) {
		if (i % 5 == 4) {
			/* Random bytes, 0 to 300 of them. */
			memset(&m, 0, sizeof(m));
			m.len = (size_t)(random() % 301);
			for (off = 0; off < m.len; off++)
				m.u.buf[off] = (uint8_t)random();
			if (m.len >= sizeof(struct sadb_msg) && random() % 2) {
				m.u.hdr.sadb_msg_version = PF_KEY_V2;
				m.u.hdr.sadb_msg_len = PFKEY_UNIT64(m.len);
			}
		} else {
			m = t[random() % nt];
			nmut = 1 + (int)(random() % 4);
			for (k = 0; k < nmut; k++) {
				off = (size_t)random() % m.len;
				switch (random() % 4) {
				case 0:
					m.u.buf[off] = (uint8_t)random();
					break;
				case 1:
					m.u.buf[off] ^= (uint8_t)(1 <<
					    (random() % 8));
					break;
				case 2:
					m.u.buf[off] = (uint8_t)(random() % 2 ?
					    0 : 0xff);
					break;
				default:
					m.len = off > sizeof(struct sadb_msg) ?
					    off & ~(size_t)7 : m.len;
					break;
				}
			}
			if (random() % 10 != 0) {
				m.u.hdr.sadb_msg_version = PF_KEY_V2;
				m.u.hdr.sadb_msg_len = PFKEY_UNIT64(m.len);
			}
		}
		if (m.len == 0)
			m.len = 1;	/* empty packets: t_daemon */
		pt_send(fd, &m);
		if (i % 25 == 24)
			fuzz_sync(fd, sync++);
	}
	fuzz_sync(fd, sync++);
	close(fd);

	fd = pt_connect();
	pt_register(fd, SADB_SATYPE_UNSPEC);
	close(fd);
	pt_daemon_stop();
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, short_message);
	ATF_TP_ADD_TC(tp, length_mismatch);
	ATF_TP_ADD_TC(tp, oversize);
	ATF_TP_ADD_TC(tp, bad_version);
	ATF_TP_ADD_TC(tp, bad_type);
	ATF_TP_ADD_TC(tp, unknown_ext);
	ATF_TP_ADD_TC(tp, duplicate_ext);
	ATF_TP_ADD_TC(tp, bad_ext_len);
	ATF_TP_ADD_TC(tp, bad_sockaddr);
	ATF_TP_ADD_TC(tp, address_mismatch);
	ATF_TP_ADD_TC(tp, unknown_family);
	ATF_TP_ADD_TC(tp, bad_satype);
	ATF_TP_ADD_TC(tp, missing_ext);
	ATF_TP_ADD_TC(tp, lifetime_pair);
	ATF_TP_ADD_TC(tp, add_invalid);
	ATF_TP_ADD_TC(tp, duplicate_spi);
	ATF_TP_ADD_TC(tp, getspi_taken);
	ATF_TP_ADD_TC(tp, unknown_sa);
	ATF_TP_ADD_TC(tp, update_errors);
	ATF_TP_ADD_TC(tp, spd_errors);
	ATF_TP_ADD_TC(tp, sad_errors);
	ATF_TP_ADD_TC(tp, semantic_echo);
	ATF_TP_ADD_TC(tp, sa_max);
	ATF_TP_ADD_TC(tp, sp_max);
	ATF_TP_ADD_TC(tp, fuzz);
	return (atf_no_error());
}
