/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * lib/libpfkey against a real netipsecd: the KAME API (pfkey_open(),
 * pfkey_send_*(), pfkey_recv(), ipsec_set_policy()) drives an SA and a
 * policy through their life, and sees a framing error as a message.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpfkey.h>

#include "pfkey_test.h"

static struct sockaddr_in	lp_src, lp_dst;

static void
lp_addrs(void)
{
	memset(&lp_src, 0, sizeof(lp_src));
	memset(&lp_dst, 0, sizeof(lp_dst));
	lp_src.sin_family = lp_dst.sin_family = AF_INET;
	inet_pton(AF_INET, PT_SRC, &lp_src.sin_addr);
	inet_pton(AF_INET, PT_DST, &lp_dst.sin_addr);
}

/* The next message of this type, checked by pfkey_align/pfkey_check. */
static struct sadb_msg *
lp_recv(int so, uint8_t type, caddr_t *mhp)
{
	struct sadb_msg	*msg;
	struct pollfd	 pfd;
	int		 i;

	for (i = 0; i < 100; i++) {
		pfd.fd = so;
		pfd.events = POLLIN;
		ATF_REQUIRE_MSG(poll(&pfd, 1, PT_TIMEOUT) == 1,
		    "no message of type %u", type);
		msg = pfkey_recv(so);
		ATF_REQUIRE_MSG(msg != NULL, "pfkey_recv: %s",
		    ipsec_strerror());
		if (msg->sadb_msg_type != type) {
			free(msg);
			continue;
		}
		if (mhp != NULL && msg->sadb_msg_errno == 0) {
			ATF_REQUIRE_MSG(pfkey_align(msg, mhp) == 0,
			    "pfkey_align: %s", ipsec_strerror());
			ATF_REQUIRE_MSG(pfkey_check(mhp) == 0,
			    "pfkey_check: %s", ipsec_strerror());
		}
		return (msg);
	}
	atf_tc_fail("no message of type %u", type);
}

PT_TC(sa_life, "REGISTER, GETSPI, UPDATE, GET, ADD, DUMP, DELETE, FLUSH "
    "through libpfkey");
ATF_TC_BODY(sa_life, tc)
{
	char			 keymat[sizeof(pt_enckey) + sizeof(pt_authkey)];
	caddr_t			 mhp[SADB_EXT_MAX + 1];
	struct sadb_msg		*msg;
	const struct sadb_sa	*sa;
	const struct sadb_key	*key;
	uint32_t		 spi;
	int			 so, i;

	pt_daemon_start(tc, NULL);
	lp_addrs();
	so = pfkey_open_path(PT_SOCKET);
	ATF_REQUIRE_MSG(so >= 0, "pfkey_open_path: %s", ipsec_strerror());

	ATF_REQUIRE(pfkey_send_register(so, SADB_SATYPE_ESP) > 0);
	ATF_REQUIRE_EQ_MSG(pfkey_recv_register(so), 0, "pfkey_recv_register: "
	    "%s", ipsec_strerror());
	ATF_CHECK(ipsec_check_keylen(SADB_EXT_SUPPORTED_ENCRYPT,
	    SADB_X_EALG_AESCBC, 128) == 0);

	ATF_REQUIRE(pfkey_send_getspi(so, SADB_SATYPE_ESP,
	    IPSEC_MODE_TRANSPORT, (struct sockaddr *)&lp_src,
	    (struct sockaddr *)&lp_dst, 0x1000, 0x1fff, 0, 31) > 0);
	msg = lp_recv(so, SADB_GETSPI, mhp);
	ATF_REQUIRE_EQ_MSG(msg->sadb_msg_errno, 0, "GETSPI errno %u",
	    msg->sadb_msg_errno);
	sa = (const struct sadb_sa *)mhp[SADB_EXT_SA];
	ATF_REQUIRE(sa != NULL);
	spi = sa->sadb_sa_spi;		/* network order, as libpfkey takes */
	free(msg);

	memcpy(keymat, pt_enckey, sizeof(pt_enckey));
	memcpy(keymat + sizeof(pt_enckey), pt_authkey, sizeof(pt_authkey));
	ATF_REQUIRE(pfkey_send_update(so, SADB_SATYPE_ESP,
	    IPSEC_MODE_TRANSPORT, (struct sockaddr *)&lp_src,
	    (struct sockaddr *)&lp_dst, spi, 0, 4, keymat,
	    SADB_X_EALG_AESCBC, sizeof(pt_enckey), SADB_X_AALG_SHA2_256,
	    sizeof(pt_authkey), 0, 0, 0, 3600, 0, 31) > 0);
	msg = lp_recv(so, SADB_UPDATE, mhp);
	ATF_REQUIRE_EQ_MSG(msg->sadb_msg_errno, 0, "UPDATE errno %u",
	    msg->sadb_msg_errno);
	ATF_CHECK(mhp[SADB_EXT_KEY_ENCRYPT] == NULL);
	free(msg);

	ATF_REQUIRE(pfkey_send_get(so, SADB_SATYPE_ESP, IPSEC_MODE_ANY,
	    (struct sockaddr *)&lp_src, (struct sockaddr *)&lp_dst, spi) > 0);
	msg = lp_recv(so, SADB_GET, mhp);
	ATF_REQUIRE_EQ(msg->sadb_msg_errno, 0);
	key = (const struct sadb_key *)mhp[SADB_EXT_KEY_ENCRYPT];
	ATF_REQUIRE(key != NULL);
	ATF_CHECK(memcmp(key + 1, pt_enckey, sizeof(pt_enckey)) == 0);
	ATF_CHECK(mhp[SADB_EXT_LIFETIME_HARD] != NULL);
	ATF_CHECK(mhp[SADB_EXT_LIFETIME_SOFT] != NULL);
	free(msg);

	ATF_REQUIRE(pfkey_send_add(so, SADB_SATYPE_ESP, IPSEC_MODE_TRANSPORT,
	    (struct sockaddr *)&lp_dst, (struct sockaddr *)&lp_src,
	    htonl(0x5000), 0, 4, keymat, SADB_X_EALG_AESCBC,
	    sizeof(pt_enckey), SADB_X_AALG_SHA2_256, sizeof(pt_authkey), 0, 0,
	    0, 0, 0, 32) > 0);
	msg = lp_recv(so, SADB_ADD, mhp);
	ATF_REQUIRE_EQ_MSG(msg->sadb_msg_errno, 0, "ADD errno %u",
	    msg->sadb_msg_errno);
	free(msg);

	ATF_REQUIRE(pfkey_send_dump(so, SADB_SATYPE_ESP) > 0);
	for (i = 1; i >= 0; i--) {
		msg = lp_recv(so, SADB_DUMP, mhp);
		ATF_CHECK_EQ(msg->sadb_msg_seq, (uint32_t)i);
		free(msg);
	}

	ATF_REQUIRE(pfkey_send_delete(so, SADB_SATYPE_ESP, IPSEC_MODE_ANY,
	    (struct sockaddr *)&lp_src, (struct sockaddr *)&lp_dst, spi) > 0);
	msg = lp_recv(so, SADB_DELETE, mhp);
	ATF_CHECK_EQ(msg->sadb_msg_errno, 0);
	free(msg);

	ATF_REQUIRE(pfkey_send_flush(so, SADB_SATYPE_UNSPEC) > 0);
	msg = lp_recv(so, SADB_FLUSH, NULL);
	ATF_CHECK_EQ(msg->sadb_msg_errno, 0);
	free(msg);
	pfkey_close(so);
	pt_daemon_stop();
}

PT_TC(spd_life, "SPDADD with ipsec_set_policy(), SPDDUMP, SPDFLUSH "
    "through libpfkey");
ATF_TC_BODY(spd_life, tc)
{
	const char		*pol = "out ipsec esp/transport//require";
	caddr_t			 mhp[SADB_EXT_MAX + 1];
	struct sadb_msg		*msg;
	char			*buf;
	int			 so;

	pt_daemon_start(tc, NULL);
	lp_addrs();
	ATF_REQUIRE((so = pfkey_open_path(PT_SOCKET)) >= 0);
	buf = ipsec_set_policy(pol, (int)strlen(pol));
	ATF_REQUIRE_MSG(buf != NULL, "ipsec_set_policy: %s",
	    ipsec_strerror());
	ATF_REQUIRE(pfkey_send_spdadd(so, (struct sockaddr *)&lp_src, 32,
	    (struct sockaddr *)&lp_dst, 32, IPSEC_ULPROTO_ANY, buf,
	    ipsec_get_policylen(buf), 41) > 0);
	free(buf);
	msg = lp_recv(so, SADB_X_SPDADD, mhp);
	ATF_REQUIRE_EQ_MSG(msg->sadb_msg_errno, 0, "SPDADD errno %u",
	    msg->sadb_msg_errno);
	ATF_CHECK(mhp[SADB_X_EXT_POLICY] != NULL);
	free(msg);

	ATF_REQUIRE(pfkey_send_spddump(so) > 0);
	msg = lp_recv(so, SADB_X_SPDDUMP, mhp);
	ATF_CHECK_EQ(msg->sadb_msg_errno, 0);
	ATF_CHECK_EQ(msg->sadb_msg_seq, 0);
	free(msg);

	ATF_REQUIRE(pfkey_send_spdflush(so) > 0);
	msg = lp_recv(so, SADB_X_SPDFLUSH, NULL);
	ATF_CHECK_EQ(msg->sadb_msg_errno, 0);
	free(msg);
	pfkey_close(so);
	pt_daemon_stop();
}

PT_TC(open_env, "pfkey_open() reaches the netipsecd named by PFKEY_SOCKET");
ATF_TC_BODY(open_env, tc)
{
	struct sadb_msg	*msg;
	int		 so;

	pt_daemon_start(tc, NULL);
	ATF_REQUIRE(setenv(PFKEY_SOCKET_ENV, PT_SOCKET, 1) == 0);
	so = pfkey_open();
	ATF_REQUIRE_MSG(so >= 0, "pfkey_open: %s", ipsec_strerror());
	ATF_REQUIRE(pfkey_send_register(so, SADB_SATYPE_UNSPEC) > 0);
	msg = lp_recv(so, SADB_REGISTER, NULL);
	ATF_CHECK_EQ(msg->sadb_msg_errno, 0);
	free(msg);
	pfkey_close(so);
	pt_daemon_stop();
}

PT_TC(open_refused, "beyond netipsecd.maxclients: pfkey_open() succeeds "
    "(connect(2) does), the first pfkey_send() or pfkey_recv() fails with "
    "EUSERS, \"Too many users\"");
ATF_TC_BODY(open_refused, tc)
{
	struct sadb_msg	*msg;
	struct pollfd	 pfd;
	int		 held, so, i, sent;

	pt_daemon_start(tc, "-o", "netipsecd.maxclients=1", NULL);
	/* The one place (pt_daemon_start()'s probe may hold it a moment). */
	for (i = 0; i < 100; i++) {
		ATF_REQUIRE((held = pfkey_open_path(PT_SOCKET)) >= 0);
		if (pfkey_send_register(held, SADB_SATYPE_UNSPEC) > 0 &&
		    (msg = pfkey_recv(held)) != NULL) {
			free(msg);
			break;
		}
		pfkey_close(held);
		usleep(20000);
	}
	ATF_REQUIRE(i < 100);

	ATF_REQUIRE((so = pfkey_open_path(PT_SOCKET)) >= 0);
	sent = pfkey_send_register(so, SADB_SATYPE_UNSPEC);
	if (sent > 0) {
		msg = pfkey_recv(so);
		ATF_CHECK_MSG(msg == NULL, "a message from a refused "
		    "connection: type %u", msg->sadb_msg_type);
	}
	ATF_CHECK_EQ_MSG(errno, EUSERS, "errno %d (%s)", errno,
	    strerror(errno));
	ATF_CHECK_STREQ(ipsec_strerror(), strerror(EUSERS));
	pfkey_close(so);

	/* Sending after netipsecd closed: EUSERS, not EPIPE. */
	ATF_REQUIRE((so = pfkey_open_path(PT_SOCKET)) >= 0);
	pfd.fd = so;
	pfd.events = 0;			/* POLLHUP: netipsecd closed */
	ATF_REQUIRE_MSG(poll(&pfd, 1, PT_TIMEOUT) == 1 &&
	    (pfd.revents & POLLHUP), "the connection was not closed");
	ATF_CHECK(pfkey_send_register(so, SADB_SATYPE_UNSPEC) < 0);
	ATF_CHECK_EQ_MSG(errno, EUSERS, "errno %d (%s)", errno,
	    strerror(errno));
	ATF_CHECK_STREQ(ipsec_strerror(), strerror(EUSERS));
	pfkey_close(so);
	pfkey_close(held);
	pt_daemon_stop();
}

PT_TC(framing_error, "a framing error reaches pfkey_recv() as a message "
    "with sadb_msg_errno");
ATF_TC_BODY(framing_error, tc)
{
	struct pb_msg	 req;
	struct sadb_msg	*msg;
	int		 so;

	pt_daemon_start(tc, NULL);
	ATF_REQUIRE((so = pfkey_open_path(PT_SOCKET)) >= 0);
	pb_init(&req, SADB_DUMP, SADB_SATYPE_ESP, 51, getpid());
	pb_ext(&req, SADB_X_EXT_KMPRIVATE, 8);
	ATF_REQUIRE(pfkey_send(so, &req.u.hdr, (int)req.len) ==
	    (int)req.len);
	msg = lp_recv(so, SADB_DUMP, NULL);
	ATF_CHECK_EQ(msg->sadb_msg_errno, EINVAL);
	ATF_CHECK_EQ(msg->sadb_msg_len, 2);
	ATF_CHECK_EQ(msg->sadb_msg_seq, 51);
	free(msg);
	pfkey_close(so);
	pt_daemon_stop();
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, sa_life);
	ATF_TP_ADD_TC(tp, spd_life);
	ATF_TP_ADD_TC(tp, open_env);
	ATF_TP_ADD_TC(tp, framing_error);
	ATF_TP_ADD_TC(tp, open_refused);
	return (atf_no_error());
}
