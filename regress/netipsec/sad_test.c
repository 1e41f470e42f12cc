/*
 * The SAD from the packet path's side: which SA outbound traffic uses
 * (key_allocsa_policy(), net.key.preferred_oldsa, mode and reqid
 * matching).  SAs are installed through in-process PF_KEY; kernel code,
 * built with -D_KERNEL.
 */
#include <atf-c.h>

#include <ukern/ukern.h>

#include <net/pfkeyv2.h>
#include <netipsec/ipsec.h>
#include <netipsec/keydb.h>
#include <netipsec/key.h>
#include <netipsec/key_var.h>

#include "keytest.h"

static int
add(struct tsock *ts, uint32_t spi, int mode, uint32_t reqid)
{
	struct sadb_msg *r;
	struct pb_msg m;
	int e;

	pb_init(&m, SADB_ADD, SADB_SATYPE_ESP, 0, 1);
	pb_sa(&m, spi, 4, SADB_AALG_NONE, SADB_EALG_NULL, 0);
	pb_sa2(&m, mode, reqid);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, "192.0.2.1", 0, -1, 255);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, "192.0.2.2", 0, -1, 255);
	pb_key(&m, SADB_EXT_KEY_ENCRYPT, "", 0);
	e = ts_call(ts, &m, &r);
	ukern_free_libc(r);
	return (e);
}

static uint32_t
choose(int mode, uint32_t reqid)
{
	struct sockaddr_storage ss;
	struct secasindex saidx;
	struct secasvar *sav;
	uint32_t spi;

	memset(&saidx, 0, sizeof(saidx));
	pb_sockaddr(&ss, "192.0.2.1", 0);
	memcpy(&saidx.src, &ss, sizeof(struct sockaddr_in));
	pb_sockaddr(&ss, "192.0.2.2", 0);
	memcpy(&saidx.dst, &ss, sizeof(struct sockaddr_in));
	saidx.proto = IPPROTO_ESP;
	saidx.mode = mode;
	saidx.reqid = reqid;
	SAHTREE_RLOCK();
	sav = key_allocsa_policy(&saidx);
	spi = sav != NULL ? ntohl(sav->spi) : 0;
	SAHTREE_RUNLOCK();
	return (spi);
}

ATF_TC_WITHOUT_HEAD(preferred_oldsa);
ATF_TC_BODY(preferred_oldsa, tc)
{
	struct tsock *ts;

	tk_start();
	ts = ts_open();
	ATF_CHECK_EQ(choose(IPSEC_MODE_TRANSPORT, 0), 0);
	ATF_REQUIRE_EQ(add(ts, 0x1001, IPSEC_MODE_ANY, 0), 0);
	ATF_REQUIRE_EQ(add(ts, 0x1002, IPSEC_MODE_ANY, 0), 0);
	/* Default: the oldest SA carries traffic until it goes. */
	ATF_CHECK_EQ(choose(IPSEC_MODE_TRANSPORT, 0), 0x1001);
	ATF_REQUIRE_EQ(key_sysctl_set("net.key.preferred_oldsa", 0), 0);
	ATF_CHECK_EQ(choose(IPSEC_MODE_TRANSPORT, 0), 0x1002);
	ts_close(ts);
	tk_stop();
}

ATF_TC_WITHOUT_HEAD(mode_reqid);
ATF_TC_BODY(mode_reqid, tc)
{
	struct tsock *ts;

	tk_start();
	ts = ts_open();
	ATF_REQUIRE_EQ(add(ts, 0x2001, IPSEC_MODE_TUNNEL, 7), 0);
	/* A head of mode tunnel serves no transport request. */
	ATF_CHECK_EQ(choose(IPSEC_MODE_TRANSPORT, 0), 0);
	ATF_CHECK_EQ(choose(IPSEC_MODE_TUNNEL, 0), 0x2001);
	/* A request with a reqid (unique) wants that reqid. */
	ATF_CHECK_EQ(choose(IPSEC_MODE_TUNNEL, 8), 0);
	ATF_CHECK_EQ(choose(IPSEC_MODE_TUNNEL, 7), 0x2001);
	/* A head of mode any serves every mode. */
	ATF_REQUIRE_EQ(add(ts, 0x2002, IPSEC_MODE_ANY, 0), 0);
	ATF_CHECK_EQ(choose(IPSEC_MODE_TRANSPORT, 0), 0x2002);
	ts_close(ts);
	tk_stop();
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, preferred_oldsa);
	ATF_TP_ADD_TC(tp, mode_reqid);
	return (atf_no_error());
}
