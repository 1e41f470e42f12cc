/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * PF_KEY conformance through netipsecd: the successful reply to every
 * message type, with FreeBSD's semantics (reference: RFC 2367 and
 * FreeBSD's key.c): who gets it, its extensions, keys stripped from
 * broadcasts, dumps counting down to 0, EXPIRE soft then hard.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <netipsec/ipsec.h>

#include "pfkey_test.h"

static void
get_msg(struct pb_msg *m, uint32_t spi, const char *src, const char *dst,
    uint32_t seq)
{
	pb_init(m, SADB_GET, SADB_SATYPE_ESP, seq, getpid());
	pb_sa(m, spi, 4, 0, 0, 0);
	pb_addr(m, SADB_EXT_ADDRESS_SRC, src, 0, 32, IPSEC_ULPROTO_ANY);
	pb_addr(m, SADB_EXT_ADDRESS_DST, dst, 0, 32, IPSEC_ULPROTO_ANY);
}

/* GET: 0 and the reply, or the errno of the reply. */
static int
get_sa(int fd, uint32_t spi, const char *src, const char *dst,
    struct pb_msg *rep)
{
	struct pb_msg	req;

	get_msg(&req, spi, src, dst, 7000 + (spi & 0xff));
	pt_call(fd, &req, rep);
	return (rep->u.hdr.sadb_msg_errno);
}

static uint32_t
getspi(int fd, uint32_t min, uint32_t max, uint32_t seq)
{
	struct pb_msg	req, rep;
	uint32_t	spi;

	pb_init(&req, SADB_GETSPI, SADB_SATYPE_ESP, seq, getpid());
	pb_sa2(&req, IPSEC_MODE_TRANSPORT, 0);
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32,
	    IPSEC_ULPROTO_ANY);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, PT_DST, 0, 32,
	    IPSEC_ULPROTO_ANY);
	pb_spirange(&req, min, max);
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	ATF_REQUIRE_EQ(rep.u.hdr.sadb_msg_seq, seq);
	ATF_REQUIRE_MSG(pt_ext(&rep, SADB_EXT_SA) != NULL,
	    "GETSPI reply without an SA extension");
	ATF_CHECK(pt_ext(&rep, SADB_EXT_ADDRESS_SRC) != NULL);
	ATF_CHECK(pt_ext(&rep, SADB_EXT_ADDRESS_DST) != NULL);
	spi = pt_spi(&rep);
	ATF_REQUIRE_MSG(spi >= min && spi <= max,
	    "SPI %#x outside %#x-%#x", spi, min, max);
	return (spi);
}

static void
check_keys(const struct pb_msg *m)
{
	const struct sadb_key	*k;

	k = pt_ext(m, SADB_EXT_KEY_ENCRYPT);
	ATF_REQUIRE_MSG(k != NULL, "no KEY_ENCRYPT in GET reply");
	ATF_CHECK_EQ(k->sadb_key_bits, 128);
	ATF_CHECK(memcmp(k + 1, pt_enckey, sizeof(pt_enckey)) == 0);
	k = pt_ext(m, SADB_EXT_KEY_AUTH);
	ATF_REQUIRE_MSG(k != NULL, "no KEY_AUTH in GET reply");
	ATF_CHECK_EQ(k->sadb_key_bits, 256);
	ATF_CHECK(memcmp(k + 1, pt_authkey, sizeof(pt_authkey)) == 0);
}

/* X_POLICY id of an SPD reply. */
static uint32_t
policy_id(const struct pb_msg *m)
{
	const struct sadb_x_policy	*pol;

	pol = pt_ext(m, SADB_X_EXT_POLICY);
	ATF_REQUIRE_MSG(pol != NULL, "no X_POLICY in %s", pt_describe(m));
	return (pol->sadb_x_policy_id);
}

static uint32_t
spdadd(int fd, const char *src, const char *dst, uint8_t dir, uint32_t seq)
{
	struct pb_msg	req, rep;
	uint32_t	id;

	pt_spd_msg(&req, SADB_X_SPDADD, src, dst, dir, seq);
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	id = policy_id(&rep);
	ATF_REQUIRE_MSG(id != 0, "SPDADD reply without the policy id");
	return (id);
}

static void
spdget_msg(struct pb_msg *m, uint32_t id, uint32_t seq)
{
	pb_init(m, SADB_X_SPDGET, SADB_SATYPE_UNSPEC, seq, getpid());
	pb_policy(m, IPSEC_DIR_ANY, IPSEC_POLICY_DISCARD, id, 0);
}

PT_TC(getspi, "GETSPI: a larval SA with an SPI from the range, "
    "or the exact one asked");
ATF_TC_BODY(getspi, tc)
{
	int	fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	getspi(fd, 0x1000, 0x1fff, 42);
	ATF_CHECK_EQ(getspi(fd, 0x3000, 0x3000, 43), 0x3000);
	close(fd);
	pt_daemon_stop();
}

PT_TC(update, "UPDATE of a larval SA from GETSPI makes it mature; "
    "the reply carries no keys");
ATF_TC_BODY(update, tc)
{
	struct pb_msg		 req, rep;
	const struct sadb_sa	*sa;
	uint32_t		 spi;
	int			 fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	spi = getspi(fd, 0x2000, 0x2fff, 50);
	pt_add_msg(&req, SADB_UPDATE, spi, PT_SRC, PT_DST, 50);
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	ATF_CHECK_EQ(pt_spi(&rep), spi);
	ATF_CHECK(pt_ext(&rep, SADB_EXT_ADDRESS_SRC) != NULL);
	ATF_CHECK(pt_ext(&rep, SADB_EXT_ADDRESS_DST) != NULL);
	ATF_CHECK_MSG(!pt_has_keys(&rep), "UPDATE reply carries keys");

	ATF_REQUIRE_EQ(get_sa(fd, spi, PT_SRC, PT_DST, &rep), 0);
	sa = pt_ext(&rep, SADB_EXT_SA);
	ATF_REQUIRE(sa != NULL);
	ATF_CHECK_EQ(sa->sadb_sa_state, SADB_SASTATE_MATURE);
	check_keys(&rep);
	close(fd);
	pt_daemon_stop();
}

PT_TC(update_mode_any, "UPDATE with SA2 (transport) of a larval SA "
    "from a GETSPI without SA2 (mode any): FreeBSD matches the SA index "
    "with CMP_MODE_REQID, so it succeeds");
ATF_TC_BODY(update_mode_any, tc)
{
	struct pb_msg	req, rep;
	uint32_t	spi;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	pb_init(&req, SADB_GETSPI, SADB_SATYPE_ESP, 55, getpid());
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, 255);
	pb_spirange(&req, 0x2100, 0x21ff);
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	spi = pt_spi(&rep);
	pt_add_msg(&req, SADB_UPDATE, spi, PT_SRC, PT_DST, 55);
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	close(fd);
	pt_daemon_stop();
}

PT_TC(add, "ADD: reply with SA, SRC, DST and no keys");
ATF_TC_BODY(add, tc)
{
	struct pb_msg	req, rep;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	pt_add_msg(&req, SADB_ADD, 0x10001, PT_SRC, PT_DST, 60);
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	ATF_CHECK_EQ(rep.u.hdr.sadb_msg_satype, SADB_SATYPE_ESP);
	ATF_CHECK_EQ(pt_spi(&rep), 0x10001);
	ATF_CHECK(pt_ext(&rep, SADB_EXT_ADDRESS_SRC) != NULL);
	ATF_CHECK(pt_ext(&rep, SADB_EXT_ADDRESS_DST) != NULL);
	ATF_CHECK_MSG(!pt_has_keys(&rep), "ADD reply carries keys");
	close(fd);
	pt_daemon_stop();
}

PT_TC(get, "GET: the whole SA, keys and current lifetime included");
ATF_TC_BODY(get, tc)
{
	struct pb_msg		 rep;
	const struct sadb_sa	*sa;
	int			 fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	pt_add(fd, 0x10002, PT_SRC, PT_DST);
	ATF_REQUIRE_EQ_MSG(get_sa(fd, 0x10002, PT_SRC, PT_DST, &rep), 0,
	    "GET: %s", pt_describe(&rep));
	ATF_REQUIRE(pt_wellformed(&rep));
	sa = pt_ext(&rep, SADB_EXT_SA);
	ATF_REQUIRE(sa != NULL);
	ATF_CHECK_EQ(ntohl(sa->sadb_sa_spi), 0x10002);
	ATF_CHECK_EQ(sa->sadb_sa_auth, SADB_X_AALG_SHA2_256);
	ATF_CHECK_EQ(sa->sadb_sa_encrypt, SADB_X_EALG_AESCBC);
	ATF_CHECK(pt_ext(&rep, SADB_EXT_ADDRESS_SRC) != NULL);
	ATF_CHECK(pt_ext(&rep, SADB_EXT_ADDRESS_DST) != NULL);
	ATF_CHECK(pt_ext(&rep, SADB_EXT_LIFETIME_CURRENT) != NULL);
	ATF_CHECK(pt_ext(&rep, SADB_X_EXT_SA2) != NULL);
	check_keys(&rep);
	close(fd);
	pt_daemon_stop();
}

PT_TC(delete_sa, "DELETE with an SA extension removes that SA");
ATF_TC_BODY(delete_sa, tc)
{
	struct pb_msg	req, rep;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	pt_add(fd, 0x10003, PT_SRC, PT_DST);
	pt_add(fd, 0x10004, PT_SRC, PT_DST);
	pb_init(&req, SADB_DELETE, SADB_SATYPE_ESP, 70, getpid());
	pb_sa(&req, 0x10003, 4, 0, 0, 0);
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, 255);
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	ATF_CHECK_EQ(pt_spi(&rep), 0x10003);
	ATF_CHECK_EQ(get_sa(fd, 0x10003, PT_SRC, PT_DST, &rep), ESRCH);
	ATF_CHECK_EQ(get_sa(fd, 0x10004, PT_SRC, PT_DST, &rep), 0);
	close(fd);
	pt_daemon_stop();
}

PT_TC(delete_all, "DELETE without an SA extension removes every SA "
    "from SRC to DST of the satype, and only those");
ATF_TC_BODY(delete_all, tc)
{
	struct pb_msg	req, rep;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	pt_add(fd, 0x10011, PT_SRC, PT_DST);
	pt_add(fd, 0x10012, PT_SRC, PT_DST);
	pt_add(fd, 0x10013, PT_SRC, PT_DST);
	pt_add(fd, 0x10014, PT_SRC, "192.0.2.3");
	pb_init(&req, SADB_DELETE, SADB_SATYPE_ESP, 71, getpid());
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, 255);
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	ATF_CHECK(pt_ext(&rep, SADB_EXT_ADDRESS_SRC) != NULL);
	ATF_CHECK(pt_ext(&rep, SADB_EXT_ADDRESS_DST) != NULL);
	ATF_CHECK_EQ(get_sa(fd, 0x10011, PT_SRC, PT_DST, &rep), ESRCH);
	ATF_CHECK_EQ(get_sa(fd, 0x10012, PT_SRC, PT_DST, &rep), ESRCH);
	ATF_CHECK_EQ(get_sa(fd, 0x10013, PT_SRC, PT_DST, &rep), ESRCH);
	ATF_CHECK_EQ(get_sa(fd, 0x10014, PT_SRC, "192.0.2.3", &rep), 0);
	close(fd);
	pt_daemon_stop();
}

PT_TC(acquire, "ACQUIRE from userland: the kernel sends an ACQUIRE "
    "to the registered sockets; the IKE-failure form gets no reply");
ATF_TC_BODY(acquire, tc)
{
	struct pb_msg	req, rep;
	int		reg, fd;

	pt_daemon_start(tc, NULL);
	reg = pt_connect();
	fd = pt_connect();
	pt_register(reg, SADB_SATYPE_ESP);

	pb_init(&req, SADB_ACQUIRE, SADB_SATYPE_ESP, 80, getpid());
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, 255);
	pb_prop(&req);
	pt_send(fd, &req);
	ATF_REQUIRE_MSG(pt_recv_type(reg, SADB_ACQUIRE, &rep, PT_TIMEOUT) ==
	    0, "the registered socket got no ACQUIRE");
	ATF_CHECK_MSG(pt_wellformed(&rep), "%s", pt_describe(&rep));
	ATF_CHECK_EQ(rep.u.hdr.sadb_msg_errno, 0);
	ATF_CHECK_EQ(rep.u.hdr.sadb_msg_satype, SADB_SATYPE_ESP);
	ATF_CHECK(rep.u.hdr.sadb_msg_seq != 0);
	ATF_CHECK(pt_ext(&rep, SADB_EXT_ADDRESS_SRC) != NULL);
	ATF_CHECK(pt_ext(&rep, SADB_EXT_ADDRESS_DST) != NULL);

	/* IKE failed: a bare header with errno and the ACQUIRE's seq. */
	pb_init(&req, SADB_ACQUIRE, SADB_SATYPE_ESP,
	    rep.u.hdr.sadb_msg_seq, getpid());
	req.u.hdr.sadb_msg_errno = ENOENT;
	pt_send(fd, &req);
	ATF_CHECK_MSG(pt_quiet(fd, 300), "a reply to the IKE-failure ACQUIRE");
	pt_register(fd, SADB_SATYPE_UNSPEC);	/* still served */
	close(fd);
	close(reg);
	pt_daemon_stop();
}

static int
has_alg(const struct pb_msg *m, uint16_t exttype, uint8_t id, uint16_t bits)
{
	const struct sadb_supported	*sup;
	const struct sadb_alg		*alg, *end;

	if ((sup = pt_ext(m, exttype)) == NULL)
		return (0);
	end = (const struct sadb_alg *)((const uint8_t *)sup +
	    PFKEY_UNUNIT64(sup->sadb_supported_len));
	for (alg = (const struct sadb_alg *)(sup + 1); alg < end; alg++)
		if (alg->sadb_alg_id == id && alg->sadb_alg_minbits <= bits &&
		    alg->sadb_alg_maxbits >= bits)
			return (1);
	return (0);
}

PT_TC(register, "REGISTER: the supported algorithms, to the sender "
    "and to every other registered socket");
ATF_TC_BODY(register, tc)
{
	struct pb_msg	req, rep;
	int		a, b;

	pt_daemon_start(tc, NULL);
	a = pt_connect();
	b = pt_connect();
	pb_init(&req, SADB_REGISTER, SADB_SATYPE_ESP, 90, getpid());
	pt_call(a, &req, &rep);
	pt_expect_ok(&req, &rep);
	ATF_CHECK_EQ(rep.u.hdr.sadb_msg_satype, SADB_SATYPE_ESP);
	ATF_CHECK_MSG(has_alg(&rep, SADB_EXT_SUPPORTED_ENCRYPT,
	    SADB_X_EALG_AESCBC, 128), "AES-CBC-128 not in SUPPORTED_ENCRYPT");
	ATF_CHECK_MSG(has_alg(&rep, SADB_EXT_SUPPORTED_AUTH,
	    SADB_X_AALG_SHA2_256, 256), "HMAC-SHA2-256 not in SUPPORTED_AUTH");

	pb_init(&req, SADB_REGISTER, SADB_SATYPE_ESP, 91, getpid());
	pt_call(b, &req, &rep);
	pt_expect_ok(&req, &rep);
	ATF_REQUIRE_MSG(pt_recv_type(a, SADB_REGISTER, &rep, PT_TIMEOUT) == 0,
	    "a registered socket did not get another's REGISTER");
	ATF_CHECK_EQ(rep.u.hdr.sadb_msg_seq, 91);
	ATF_CHECK(pt_ext(&rep, SADB_EXT_SUPPORTED_ENCRYPT) != NULL);
	close(a);
	close(b);
	pt_daemon_stop();
}

PT_TC(flush, "FLUSH removes the SAs of the satype");
ATF_TC_BODY(flush, tc)
{
	struct pb_msg	req, rep;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	pt_add(fd, 0x10021, PT_SRC, PT_DST);
	pt_add(fd, 0x10022, PT_DST, PT_SRC);
	pb_init(&req, SADB_FLUSH, SADB_SATYPE_ESP, 100, getpid());
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	ATF_CHECK_EQ(get_sa(fd, 0x10021, PT_SRC, PT_DST, &rep), ESRCH);
	ATF_CHECK_EQ(get_sa(fd, 0x10022, PT_DST, PT_SRC, &rep), ESRCH);
	pb_init(&req, SADB_DUMP, SADB_SATYPE_ESP, 101, getpid());
	pt_call(fd, &req, &rep);
	pt_expect_error(&req, &rep, ENOENT);

	pb_init(&req, SADB_FLUSH, SADB_SATYPE_UNSPEC, 102, getpid());
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	close(fd);
	pt_daemon_stop();
}

PT_TC(dump, "DUMP: one message per SA, seq counting down to 0");
ATF_TC_BODY(dump, tc)
{
	struct pb_msg	req, rep;
	uint32_t	spi, seen = 0;
	int		fd, i;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	pt_add(fd, 0x10031, PT_SRC, PT_DST);
	pt_add(fd, 0x10032, PT_SRC, PT_DST);
	pt_add(fd, 0x10033, PT_DST, PT_SRC);
	pb_init(&req, SADB_DUMP, SADB_SATYPE_ESP, 110, getpid());
	pt_send(fd, &req);
	for (i = 2; i >= 0; i--) {
		pt_recv_msg(fd, &rep);
		ATF_REQUIRE_MSG(rep.u.hdr.sadb_msg_type == SADB_DUMP &&
		    rep.u.hdr.sadb_msg_errno == 0, "%s", pt_describe(&rep));
		ATF_CHECK(pt_wellformed(&rep));
		ATF_CHECK_EQ(rep.u.hdr.sadb_msg_seq, (uint32_t)i);
		ATF_CHECK_EQ(rep.u.hdr.sadb_msg_satype, SADB_SATYPE_ESP);
		spi = pt_spi(&rep);
		ATF_REQUIRE_MSG(spi >= 0x10031 && spi <= 0x10033,
		    "dumped SPI %#x", spi);
		seen |= 1u << (spi - 0x10031);
	}
	ATF_CHECK_EQ(seen, 7);
	ATF_CHECK_MSG(pt_quiet(fd, 200), "more than 3 dump messages");
	close(fd);
	pt_daemon_stop();
}

PT_TC(promisc, "X_PROMISC: a promiscuous socket gets a copy of every "
    "message, wrapped in an extra sadb_msg");
ATF_TC_BODY(promisc, tc)
{
	struct pb_msg		 req, rep;
	const struct sadb_msg	*inner;
	int			 p, fd, i, plain = 0;

	pt_daemon_start(tc, NULL);
	p = pt_connect();
	fd = pt_connect();

	pb_init(&req, SADB_X_PROMISC, 1, 120, getpid());
	pt_send(p, &req);
	/* The echo goes to everyone; p may get it wrapped too. */
	for (i = 0; i < 2 && pt_recv(p, &rep, 500) > 0; i++)
		if (rep.len == sizeof(struct sadb_msg) &&
		    rep.u.hdr.sadb_msg_type == SADB_X_PROMISC &&
		    rep.u.hdr.sadb_msg_errno == 0)
			plain = 1;
	ATF_CHECK_MSG(plain, "no X_PROMISC echo to the sender");
	ATF_REQUIRE_MSG(pt_recv_type(fd, SADB_X_PROMISC, &rep, PT_TIMEOUT) ==
	    0, "the X_PROMISC echo was not broadcast");
	pt_drain(p);

	/* A reply to fd alone: p gets it wrapped. */
	get_msg(&req, 0x9999, PT_SRC, PT_DST, 121);
	pt_call(fd, &req, &rep);
	pt_expect_error(&req, &rep, ESRCH);
	ATF_REQUIRE_MSG(pt_recv(p, &rep, PT_TIMEOUT) > 0,
	    "the promiscuous socket got no copy");
	ATF_REQUIRE_MSG(rep.u.hdr.sadb_msg_type == SADB_X_PROMISC &&
	    rep.len >= 2 * sizeof(struct sadb_msg) &&
	    PFKEY_UNUNIT64((size_t)rep.u.hdr.sadb_msg_len) == rep.len,
	    "not a wrapped copy: %s", pt_describe(&rep));
	inner = (const struct sadb_msg *)(rep.u.buf + sizeof(struct sadb_msg));
	ATF_CHECK_EQ(inner->sadb_msg_type, SADB_GET);
	ATF_CHECK_EQ(inner->sadb_msg_seq, 121);
	ATF_CHECK_EQ(inner->sadb_msg_errno, ESRCH);
	ATF_CHECK_EQ(PFKEY_UNUNIT64((size_t)inner->sadb_msg_len),
	    rep.len - sizeof(struct sadb_msg));

	/* Off again: no more copies. */
	pb_init(&req, SADB_X_PROMISC, 0, 122, getpid());
	pt_send(p, &req);
	pt_drain(p);
	pt_drain(fd);
	get_msg(&req, 0x9999, PT_SRC, PT_DST, 123);
	pt_call(fd, &req, &rep);
	ATF_CHECK_MSG(pt_quiet(p, 300), "a copy after promiscuous mode off");
	close(fd);
	close(p);
	pt_daemon_stop();
}

PT_TC(spdadd, "X_SPDADD: reply with the new policy id, broadcast");
ATF_TC_BODY(spdadd, tc)
{
	struct pb_msg	req, rep;
	uint32_t	id;
	int		fd, other;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	other = pt_connect();
	pt_spd_msg(&req, SADB_X_SPDADD, "10.0.0.1", "10.0.1.1",
	    IPSEC_DIR_OUTBOUND, 130);
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	id = policy_id(&rep);
	ATF_CHECK(id != 0);
	ATF_CHECK(pt_ext(&rep, SADB_EXT_ADDRESS_SRC) != NULL);
	ATF_CHECK(pt_ext(&rep, SADB_EXT_ADDRESS_DST) != NULL);
	ATF_REQUIRE_MSG(pt_recv_type(other, SADB_X_SPDADD, &rep,
	    PT_TIMEOUT) == 0, "SPDADD was not broadcast");
	ATF_CHECK_EQ(policy_id(&rep), id);
	close(other);
	close(fd);
	pt_daemon_stop();
}

PT_TC(spdupdate, "X_SPDUPDATE replaces the policy with the same index "
    "(new id), and adds one that does not exist");
ATF_TC_BODY(spdupdate, tc)
{
	struct pb_msg	req, rep;
	uint32_t	id, id2;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	id = spdadd(fd, "10.0.0.1", "10.0.1.1", IPSEC_DIR_OUTBOUND, 140);
	pt_spd_msg(&req, SADB_X_SPDUPDATE, "10.0.0.1", "10.0.1.1",
	    IPSEC_DIR_OUTBOUND, 141);
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	id2 = policy_id(&rep);
	ATF_CHECK(id2 != 0);
	spdget_msg(&req, id2, 142);
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	if (id2 != id) {
		spdget_msg(&req, id, 143);
		pt_call(fd, &req, &rep);
		pt_expect_error(&req, &rep, ENOENT);
	}

	pt_spd_msg(&req, SADB_X_SPDUPDATE, "10.0.0.2", "10.0.1.2",
	    IPSEC_DIR_OUTBOUND, 144);
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	ATF_CHECK(policy_id(&rep) != 0);
	close(fd);
	pt_daemon_stop();
}

PT_TC(spddelete, "X_SPDDELETE by index: reply with the policy's id");
ATF_TC_BODY(spddelete, tc)
{
	struct pb_msg	req, rep;
	uint32_t	id;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	id = spdadd(fd, "10.0.0.1", "10.0.1.1", IPSEC_DIR_OUTBOUND, 150);
	pb_init(&req, SADB_X_SPDDELETE, SADB_SATYPE_UNSPEC, 151, getpid());
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, "10.0.0.1", 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, "10.0.1.1", 0, 32, 255);
	pb_policy(&req, IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, 0, 0);
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	ATF_CHECK_EQ(policy_id(&rep), id);
	spdget_msg(&req, id, 152);
	pt_call(fd, &req, &rep);
	pt_expect_error(&req, &rep, ENOENT);
	close(fd);
	pt_daemon_stop();
}

PT_TC(spdget, "X_SPDGET by id: the policy with its request");
ATF_TC_BODY(spdget, tc)
{
	struct pb_msg				 req, rep;
	const struct sadb_x_policy		*pol;
	const struct sadb_x_ipsecrequest	*ir;
	uint32_t				 id;
	int					 fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	id = spdadd(fd, "10.0.0.1", "10.0.1.1", IPSEC_DIR_OUTBOUND, 160);
	spdget_msg(&req, id, 161);
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	pol = pt_ext(&rep, SADB_X_EXT_POLICY);
	ATF_REQUIRE(pol != NULL);
	ATF_CHECK_EQ(pol->sadb_x_policy_id, id);
	ATF_CHECK_EQ(pol->sadb_x_policy_type, IPSEC_POLICY_IPSEC);
	ATF_CHECK_EQ(pol->sadb_x_policy_dir, IPSEC_DIR_OUTBOUND);
	ATF_REQUIRE(PFKEY_UNUNIT64((size_t)pol->sadb_x_policy_len) >=
	    sizeof(*pol) + sizeof(*ir));
	ir = (const struct sadb_x_ipsecrequest *)(pol + 1);
	ATF_CHECK_EQ(ir->sadb_x_ipsecrequest_proto, IPPROTO_ESP);
	ATF_CHECK_EQ(ir->sadb_x_ipsecrequest_mode, IPSEC_MODE_TRANSPORT);
	ATF_CHECK_EQ(ir->sadb_x_ipsecrequest_level, IPSEC_LEVEL_REQUIRE);
	ATF_CHECK(pt_ext(&rep, SADB_EXT_ADDRESS_SRC) != NULL);
	ATF_CHECK(pt_ext(&rep, SADB_EXT_ADDRESS_DST) != NULL);
	close(fd);
	pt_daemon_stop();
}

PT_TC(spddump, "X_SPDDUMP: one message per policy, seq down to 0");
ATF_TC_BODY(spddump, tc)
{
	struct pb_msg	req, rep;
	int		fd, i;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	spdadd(fd, "10.0.0.1", "10.0.1.1", IPSEC_DIR_OUTBOUND, 170);
	spdadd(fd, "10.0.1.1", "10.0.0.1", IPSEC_DIR_INBOUND, 171);
	spdadd(fd, "10.0.0.2", "10.0.1.2", IPSEC_DIR_OUTBOUND, 172);
	pb_init(&req, SADB_X_SPDDUMP, SADB_SATYPE_UNSPEC, 173, getpid());
	pt_send(fd, &req);
	for (i = 2; i >= 0; i--) {
		pt_recv_msg(fd, &rep);
		ATF_REQUIRE_MSG(rep.u.hdr.sadb_msg_type == SADB_X_SPDDUMP &&
		    rep.u.hdr.sadb_msg_errno == 0, "%s", pt_describe(&rep));
		ATF_CHECK(pt_wellformed(&rep));
		ATF_CHECK_EQ(rep.u.hdr.sadb_msg_seq, (uint32_t)i);
		ATF_CHECK(policy_id(&rep) != 0);
	}
	ATF_CHECK_MSG(pt_quiet(fd, 200), "more than 3 dump messages");
	close(fd);
	pt_daemon_stop();
}

PT_TC(spdflush, "X_SPDFLUSH empties the SPD");
ATF_TC_BODY(spdflush, tc)
{
	struct pb_msg	req, rep;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	spdadd(fd, "10.0.0.1", "10.0.1.1", IPSEC_DIR_OUTBOUND, 180);
	spdadd(fd, "10.0.1.1", "10.0.0.1", IPSEC_DIR_INBOUND, 181);
	pb_init(&req, SADB_X_SPDFLUSH, SADB_SATYPE_UNSPEC, 182, getpid());
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	pb_init(&req, SADB_X_SPDDUMP, SADB_SATYPE_UNSPEC, 183, getpid());
	pt_call(fd, &req, &rep);
	pt_expect_error(&req, &rep, ENOENT);
	close(fd);
	pt_daemon_stop();
}

PT_TC(spdsetidx, "X_SPDSETIDX adds a policy as X_SPDADD does");
ATF_TC_BODY(spdsetidx, tc)
{
	struct pb_msg	req, rep;
	uint32_t	id;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	pt_spd_msg(&req, SADB_X_SPDSETIDX, "10.0.0.1", "10.0.1.1",
	    IPSEC_DIR_OUTBOUND, 190);
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	id = policy_id(&rep);
	ATF_CHECK(id != 0);
	spdget_msg(&req, id, 191);
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	close(fd);
	pt_daemon_stop();
}

PT_TC(spddelete2, "X_SPDDELETE2 removes a policy by id");
ATF_TC_BODY(spddelete2, tc)
{
	struct pb_msg	req, rep;
	uint32_t	id;
	int		fd;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	id = spdadd(fd, "10.0.0.1", "10.0.1.1", IPSEC_DIR_OUTBOUND, 200);
	pb_init(&req, SADB_X_SPDDELETE2, SADB_SATYPE_UNSPEC, 201, getpid());
	pb_policy(&req, IPSEC_DIR_ANY, IPSEC_POLICY_DISCARD, id, 0);
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	ATF_CHECK_EQ(policy_id(&rep), id);
	spdget_msg(&req, id, 202);
	pt_call(fd, &req, &rep);
	pt_expect_error(&req, &rep, ENOENT);
	close(fd);
	pt_daemon_stop();
}

PT_TC(broadcast, "ADD, UPDATE, DELETE, FLUSH and SPDFLUSH reach the "
    "other sockets without keys; GETSPI and GET do not");
ATF_TC_BODY(broadcast, tc)
{
	struct pb_msg	req, rep;
	uint32_t	spi;
	int		fd, other;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	other = pt_connect();

	pt_add(fd, 0x10041, PT_SRC, PT_DST);
	ATF_REQUIRE_MSG(pt_recv_type(other, SADB_ADD, &rep, PT_TIMEOUT) == 0,
	    "ADD was not broadcast");
	ATF_CHECK_EQ(pt_spi(&rep), 0x10041);
	ATF_CHECK(pt_ext(&rep, SADB_EXT_ADDRESS_SRC) != NULL);
	ATF_CHECK_MSG(!pt_has_keys(&rep), "keys in the ADD broadcast");

	spi = getspi(fd, 0x20000, 0x2ffff, 210);
	ATF_CHECK_MSG(pt_quiet(other, 200), "GETSPI was broadcast");
	pt_add_msg(&req, SADB_UPDATE, spi, PT_SRC, PT_DST, 210);
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	ATF_REQUIRE_MSG(pt_recv_type(other, SADB_UPDATE, &rep, PT_TIMEOUT) ==
	    0, "UPDATE was not broadcast");
	ATF_CHECK_EQ(pt_spi(&rep), spi);
	ATF_CHECK_MSG(!pt_has_keys(&rep), "keys in the UPDATE broadcast");

	ATF_REQUIRE_EQ(get_sa(fd, spi, PT_SRC, PT_DST, &rep), 0);
	ATF_CHECK_MSG(pt_quiet(other, 200), "GET was broadcast");

	pb_init(&req, SADB_DELETE, SADB_SATYPE_ESP, 211, getpid());
	pb_sa(&req, 0x10041, 4, 0, 0, 0);
	pb_addr(&req, SADB_EXT_ADDRESS_SRC, PT_SRC, 0, 32, 255);
	pb_addr(&req, SADB_EXT_ADDRESS_DST, PT_DST, 0, 32, 255);
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	ATF_REQUIRE_MSG(pt_recv_type(other, SADB_DELETE, &rep, PT_TIMEOUT) ==
	    0, "DELETE was not broadcast");
	ATF_CHECK_EQ(pt_spi(&rep), 0x10041);

	pb_init(&req, SADB_FLUSH, SADB_SATYPE_UNSPEC, 212, getpid());
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	ATF_CHECK_MSG(pt_recv_type(other, SADB_FLUSH, &rep, PT_TIMEOUT) == 0,
	    "FLUSH was not broadcast");

	pb_init(&req, SADB_X_SPDFLUSH, SADB_SATYPE_UNSPEC, 213, getpid());
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);
	ATF_CHECK_MSG(pt_recv_type(other, SADB_X_SPDFLUSH, &rep,
	    PT_TIMEOUT) == 0, "SPDFLUSH was not broadcast");
	close(other);
	close(fd);
	pt_daemon_stop();
}

PT_TC(expire, "EXPIRE: soft, then hard, to the registered sockets; the "
    "SA is gone after the hard one");
ATF_TC_BODY(expire, tc)
{
	struct pb_msg	req, rep;
	int		fd, reg;

	pt_daemon_start(tc, NULL);
	fd = pt_connect();
	reg = pt_connect();
	pt_register(reg, SADB_SATYPE_ESP);

	pt_add_msg(&req, SADB_ADD, 0x10051, PT_SRC, PT_DST, 220);
	pb_lifetime(&req, SADB_EXT_LIFETIME_HARD, 0, 0, 2, 0);
	pb_lifetime(&req, SADB_EXT_LIFETIME_SOFT, 0, 0, 1, 0);
	pt_call(fd, &req, &rep);
	pt_expect_ok(&req, &rep);

	ATF_REQUIRE_MSG(pt_recv_type(reg, SADB_EXPIRE, &rep, 4000) == 0,
	    "no soft EXPIRE within 4 s");
	ATF_CHECK(pt_wellformed(&rep));
	ATF_CHECK_EQ(rep.u.hdr.sadb_msg_satype, SADB_SATYPE_ESP);
	ATF_CHECK_EQ(rep.u.hdr.sadb_msg_seq, 220);
	ATF_CHECK_EQ(pt_spi(&rep), 0x10051);
	ATF_CHECK(pt_ext(&rep, SADB_EXT_LIFETIME_CURRENT) != NULL);
	ATF_CHECK_MSG(pt_ext(&rep, SADB_EXT_LIFETIME_SOFT) != NULL &&
	    pt_ext(&rep, SADB_EXT_LIFETIME_HARD) == NULL,
	    "the first EXPIRE is not the soft one");
	ATF_CHECK_MSG(!pt_has_keys(&rep), "keys in EXPIRE");

	ATF_REQUIRE_MSG(pt_recv_type(reg, SADB_EXPIRE, &rep, 4000) == 0,
	    "no hard EXPIRE within 4 s");
	ATF_CHECK_EQ(pt_spi(&rep), 0x10051);
	ATF_CHECK_MSG(pt_ext(&rep, SADB_EXT_LIFETIME_HARD) != NULL,
	    "the second EXPIRE is not the hard one");
	ATF_CHECK(pt_ext(&rep, SADB_EXT_ADDRESS_SRC) != NULL);
	ATF_CHECK(pt_ext(&rep, SADB_EXT_ADDRESS_DST) != NULL);

	ATF_CHECK_EQ(get_sa(fd, 0x10051, PT_SRC, PT_DST, &rep), ESRCH);
	ATF_CHECK_MSG(pt_quiet(fd, 100), "EXPIRE to an unregistered socket");
	close(reg);
	close(fd);
	pt_daemon_stop();
}

PT_TC(larval_lifetime, "-o net.key.larval_lifetime=1: a larval SA from "
    "GETSPI vanishes after about a second");
ATF_TC_BODY(larval_lifetime, tc)
{
	struct pb_msg	rep;
	uint32_t	spi;
	int		fd, i, error = 0;

	pt_daemon_start(tc, "-o", "net.key.larval_lifetime=1", NULL);
	fd = pt_connect();
	spi = getspi(fd, 0x30000, 0x3ffff, 230);
	ATF_CHECK_EQ(get_sa(fd, spi, PT_SRC, PT_DST, &rep), 0);
	for (i = 0; i < 50; i++) {
		if ((error = get_sa(fd, spi, PT_SRC, PT_DST, &rep)) != 0)
			break;
		usleep(100000);
	}
	ATF_CHECK_EQ_MSG(error, ESRCH, "larval SA still there after 5 s");
	close(fd);
	pt_daemon_stop();
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, getspi);
	ATF_TP_ADD_TC(tp, update);
	ATF_TP_ADD_TC(tp, update_mode_any);
	ATF_TP_ADD_TC(tp, add);
	ATF_TP_ADD_TC(tp, get);
	ATF_TP_ADD_TC(tp, delete_sa);
	ATF_TP_ADD_TC(tp, delete_all);
	ATF_TP_ADD_TC(tp, acquire);
	ATF_TP_ADD_TC(tp, register);
	ATF_TP_ADD_TC(tp, flush);
	ATF_TP_ADD_TC(tp, dump);
	ATF_TP_ADD_TC(tp, promisc);
	ATF_TP_ADD_TC(tp, spdadd);
	ATF_TP_ADD_TC(tp, spdupdate);
	ATF_TP_ADD_TC(tp, spddelete);
	ATF_TP_ADD_TC(tp, spdget);
	ATF_TP_ADD_TC(tp, spddump);
	ATF_TP_ADD_TC(tp, spdflush);
	ATF_TP_ADD_TC(tp, spdsetidx);
	ATF_TP_ADD_TC(tp, spddelete2);
	ATF_TP_ADD_TC(tp, broadcast);
	ATF_TP_ADD_TC(tp, expire);
	ATF_TP_ADD_TC(tp, larval_lifetime);
	return (atf_no_error());
}
