/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * IKEv2 exchanges between two iked peers in one process (strongSwan's
 * exchange tests, for iked): A (192.0.2.1) and B (192.0.2.2) run the
 * real sbin/iked core; the network, PF_KEY and randomness are the
 * deterministic fakes of exchange_harness.h, so every lost message,
 * retransmission, timer and collision below happens exactly as
 * written, and the fake SADs show what would be in each kernel.
 *
 * Both peers protect 10.1.x.0/24 (behind A) <-> 10.2.x.0/24 (behind
 * B) in tunnel mode from their SPD: policy pair 1 for x = 1, pair 2
 * for x = 2.  XT_VERBOSE=1 in the environment shows the daemon's
 * debug logs.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include <atf-c.h>
#include <libpfkey.h>

#include "certgen.h"
#include "exchange_harness.h"
#include "ikev1.h"
#include "ikev2.h"

#define IKE_A	"ikesa enc aes-128-gcm prf hmac-sha2-256 group curve25519 "
#define CHILD	"childsa enc aes-128-gcm "
#define PSK	"psk \"exchange test\"\n"

static const char conf_a[] =
    "ikev2 \"a\" active esp tunnel from 10.1.0.0/16 to 10.2.0.0/16 "
    "local 192.0.2.1 peer 192.0.2.2 " IKE_A CHILD PSK;
static const char conf_b[] =
    "ikev2 \"b\" active esp tunnel from 10.2.0.0/16 to 10.1.0.0/16 "
    "local 192.0.2.2 peer 192.0.2.1 " IKE_A CHILD PSK
    /* Anyone else (the COOKIE test's flood) meets another rule. */
    "ikev2 \"flood\" passive esp tunnel from any to any peer 192.0.2.3 "
    IKE_A CHILD "psk \"other\"\n";

/* A's outbound policies: 1 and 3; B's: 11 and 13. */
static void
spd_pair(int x)
{
	char	 a[32], b[32];

	snprintf(a, sizeof(a), "10.1.%d.0", x);
	snprintf(b, sizeof(b), "10.2.%d.0", x);
	xt_spd_add(xt_a, 2 * x - 1, IPSEC_DIR_OUTBOUND, a, 24, b, 24,
	    "192.0.2.1", "192.0.2.2");
	xt_spd_add(xt_a, 2 * x, IPSEC_DIR_INBOUND, b, 24, a, 24,
	    "192.0.2.2", "192.0.2.1");
	xt_spd_add(xt_b, 10 + 2 * x - 1, IPSEC_DIR_OUTBOUND, b, 24, a, 24,
	    "192.0.2.2", "192.0.2.1");
	xt_spd_add(xt_b, 10 + 2 * x, IPSEC_DIR_INBOUND, a, 24, b, 24,
	    "192.0.2.1", "192.0.2.2");
}

static void
setup(const char *ca, const char *cb)
{
	xt_setup(ca, cb);
	spd_pair(1);
	spd_pair(2);
}

/*
 * Both sides agree: n installed children and n SA pairs each, nothing
 * larval, every outbound SA of one the inbound SA of the other with the
 * same keys, and the kernels never refused anything.
 */
static void
check_pairs(u_int n)
{
	struct xt_peer		*p, *q;
	const struct xt_sa	*o, *i;
	u_int			 k, side;

	for (side = 0; side < 2; side++) {
		p = side == 0 ? xt_a : xt_b;
		q = side == 0 ? xt_b : xt_a;
		ATF_CHECK_EQ_MSG(xt_nchildren(p, 0), n, "%s: %u children, "
		    "want %u", p->p_name, xt_nchildren(p, 0), n);
		ATF_CHECK_EQ_MSG(xt_nchildren(p, CH_S_INSTALLED), n,
		    "%s: %u installed children", p->p_name,
		    xt_nchildren(p, CH_S_INSTALLED));
		ATF_CHECK_EQ_MSG(xt_sad_count(p, 0, 1), n, "%s: %u outbound "
		    "SAs, want %u", p->p_name, xt_sad_count(p, 0, 1), n);
		ATF_CHECK_EQ_MSG(xt_sad_count(p, 0, 0), n, "%s: %u inbound "
		    "SAs, want %u", p->p_name, xt_sad_count(p, 0, 0), n);
		ATF_CHECK_EQ_MSG(xt_sad_count(p, 1, 0), 0, "%s: %u larval "
		    "SAs left", p->p_name, xt_sad_count(p, 1, 0));
		ATF_CHECK_EQ_MSG(p->p_kerrors, 0, "%s: the kernel refused "
		    "%u requests", p->p_name, p->p_kerrors);
		for (k = 0; (o = xt_sad_nth(p, 1, k)) != NULL; k++) {
			i = xt_sad_find(q, o->xs_spi, 0);
			ATF_CHECK_MSG(i != NULL, "%s's outbound SA 0x%08x is "
			    "not %s's inbound SA", p->p_name,
			    ntohl(o->xs_spi), q->p_name);
			if (i == NULL)
				continue;
			ATF_CHECK(o->xs_enc == i->xs_enc &&
			    o->xs_enclen == i->xs_enclen &&
			    o->xs_authlen == i->xs_authlen &&
			    o->xs_enclen > 0);
			ATF_CHECK_MSG(memcmp(o->xs_key, i->xs_key,
			    o->xs_enclen + o->xs_authlen) == 0,
			    "SA 0x%08x: %s's outbound key is not %s's "
			    "inbound key", ntohl(o->xs_spi), p->p_name,
			    q->p_name);
			ATF_CHECK_EQ(o->xs_mode, IPSEC_MODE_TUNNEL);
		}
	}
}

static void
check_established(void)
{
	ATF_REQUIRE_EQ(xt_nikesa(xt_a), 1);
	ATF_REQUIRE_EQ(xt_nikesa(xt_b), 1);
	ATF_REQUIRE_EQ(xt_ikesa(xt_a)->sa_state, SA_S_ESTABLISHED);
	ATF_REQUIRE_EQ(xt_ikesa(xt_b)->sa_state, SA_S_ESTABLISHED);
	ATF_CHECK(memcmp(xt_ikesa(xt_a)->sa_rspi, xt_ikesa(xt_b)->sa_rspi,
	    8) == 0);
}

/* The next datagram p sends is this exchange, request or response. */
static void
expect(struct xt_peer *p, int exch, int response)
{
	const struct xt_dgram	*dg;
	int			 r;

	ATF_REQUIRE_MSG((dg = xt_peek(p)) != NULL, "%s sent nothing, want "
	    "exchange %d", p->p_name, exch);
	ATF_REQUIRE_EQ_MSG(xt_dgram_exch(dg, &r, NULL), exch,
	    "%s sent exchange %d, want %d", p->p_name,
	    xt_dgram_exch(dg, NULL, NULL), exch);
	ATF_REQUIRE_EQ_MSG(r, response, "%s: %s, want %s", p->p_name,
	    r ? "response" : "request", response ? "response" : "request");
}

/* IKE_SA_INIT and IKE_AUTH for policy 1, nothing lost. */
static void
establish(void)
{
	xt_acquire(xt_a, 1, 1);
	xt_run();
	check_established();
	check_pairs(1);
}

/* The retransmission timer of p's outstanding request. */
static struct event *
retransmit_timer(struct xt_peer *p)
{
	return (xt_ikesa(p)->sa_tx.tx_ev);
}

/* p's child that replaced another and waits out the grace period. */
static struct iked_child *
grace_child(struct xt_peer *p, int initiator)
{
	struct iked_child	*ch;
	u_int			 i;

	for (i = 0; (ch = xt_child_nth(p, i)) != NULL; i++)
		if (ch->ch_old != NULL && ch->ch_initiator == initiator &&
		    ch->ch_state == CH_S_INSTALLED)
			return (ch);
	return (NULL);
}

/* An installed child of p whose timer (a grace period) is armed. */
static struct iked_child *
armed_child(struct xt_peer *p)
{
	struct iked_child	*ch;
	u_int			 i;

	for (i = 0; (ch = xt_child_nth(p, i)) != NULL; i++)
		if (ch->ch_state == CH_S_INSTALLED && ch->ch_timer != NULL &&
		    event_pending(ch->ch_timer, EV_TIMEOUT, NULL))
			return (ch);
	return (NULL);
}

/* The armed grace timers fire, then the exchanges they start run. */
static void
end_grace(void)
{
	struct iked_child	*ch;
	struct xt_peer		*p;
	u_int			 side;

	for (side = 0; side < 2; side++) {
		p = side == 0 ? xt_a : xt_b;
		while ((ch = armed_child(p)) != NULL)
			xt_fire(p, ch->ch_timer);
		xt_run();
	}
}

/* %%% 1. IKE_SA_INIT + IKE_AUTH */

ATF_TC_WITHOUT_HEAD(ike_auth);
ATF_TC_BODY(ike_auth, tc)
{
	setup(conf_a, conf_b);
	xt_acquire(xt_a, 1, 1);
	expect(xt_a, IKEV2_EXCHANGE_IKE_SA_INIT, 0);
	xt_deliver(xt_a);
	expect(xt_b, IKEV2_EXCHANGE_IKE_SA_INIT, 1);
	xt_deliver(xt_b);
	/* A asks its kernel for an SPI before IKE_AUTH. */
	ATF_CHECK_EQ(xt_queued(xt_a), 0);
	ATF_CHECK_EQ(xt_kernel_pending(xt_a), 1);
	xt_kernel_run(xt_a);
	expect(xt_a, IKEV2_EXCHANGE_IKE_AUTH, 0);
	xt_deliver(xt_a);
	/* So does B before its answer. */
	ATF_CHECK_EQ(xt_queued(xt_b), 0);
	xt_kernel_run(xt_b);
	expect(xt_b, IKEV2_EXCHANGE_IKE_AUTH, 1);
	xt_deliver(xt_b);
	check_established();
	check_pairs(1);
	ATF_CHECK_EQ(xt_a->p_sent, 2);
	ATF_CHECK_EQ(xt_b->p_sent, 2);
	ATF_CHECK_EQ(xt_a->p_nacqfail, 0);
	ATF_CHECK_EQ(xt_a->p_env.sc_stats.st_dropped, 0);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_dropped, 0);
	/* Nothing more to say. */
	xt_run();
	ATF_CHECK_EQ(xt_a->p_sent + xt_b->p_sent, 4);
	xt_teardown();
}

/*
 * srcid/dstid: each side sends its srcid as its ID, and a dstid must
 * match the peer's ID (names case-insensitively, an address ID the
 * peer's address); a mismatch is AUTHENTICATION_FAILED on both sides.
 */
#define CONF_ID(name, from, to, local, peer, ids)			\
    "ikev2 \"" name "\" active esp tunnel from " from " to " to	\
    " local " local " peer " peer " " ids " " IKE_A CHILD PSK

ATF_TC_WITHOUT_HEAD(identities);
ATF_TC_BODY(identities, tc)
{
	setup(CONF_ID("a", "10.1.0.0/16", "10.2.0.0/16", "192.0.2.1",
	    "192.0.2.2", "srcid a.example.com dstid \"gw@EXAMPLE.com\""),
	    CONF_ID("b", "10.2.0.0/16", "10.1.0.0/16", "192.0.2.2",
	    "192.0.2.1", "srcid gw@example.com dstid A.Example.COM"));
	establish();
	ATF_CHECK_EQ(xt_a->p_env.sc_stats.st_badauth, 0);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_badauth, 0);
	xt_teardown();

	/* An address dstid: the peer sends its address as its ID. */
	setup(CONF_ID("a", "10.1.0.0/16", "10.2.0.0/16", "192.0.2.1",
	    "192.0.2.2", "dstid 192.0.2.2"),
	    CONF_ID("b", "10.2.0.0/16", "10.1.0.0/16", "192.0.2.2",
	    "192.0.2.1", "dstid 192.0.2.1"));
	establish();
	xt_teardown();
}

ATF_TC_WITHOUT_HEAD(identities_mismatch);
ATF_TC_BODY(identities_mismatch, tc)
{
	/* B wants another name: A is refused, by B, before any child. */
	setup(CONF_ID("a", "10.1.0.0/16", "10.2.0.0/16", "192.0.2.1",
	    "192.0.2.2", "srcid a.example.com"),
	    CONF_ID("b", "10.2.0.0/16", "10.1.0.0/16", "192.0.2.2",
	    "192.0.2.1", "dstid c.example.com"));
	xt_acquire(xt_a, 1, 1);
	xt_run();
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_badauth, 1);
	ATF_CHECK_EQ(xt_nikesa(xt_a), 0);
	ATF_CHECK_EQ(xt_nikesa(xt_b), 0);
	ATF_CHECK_EQ(xt_sad_count(xt_a, 0, 1), 0);
	ATF_CHECK_EQ(xt_sad_count(xt_b, 0, 1), 0);
	ATF_CHECK_EQ(xt_a->p_nacqfail, 1);
	xt_teardown();

	/* A wants B's address, B sends a name: A refuses B's answer. */
	setup(CONF_ID("a", "10.1.0.0/16", "10.2.0.0/16", "192.0.2.1",
	    "192.0.2.2", "dstid 192.0.2.2"),
	    CONF_ID("b", "10.2.0.0/16", "10.1.0.0/16", "192.0.2.2",
	    "192.0.2.1", "srcid b.example.com"));
	xt_acquire(xt_a, 1, 1);
	xt_run();
	ATF_CHECK_EQ(xt_a->p_env.sc_stats.st_badauth, 1);
	ATF_CHECK_EQ(xt_nikesa(xt_a), 0);
	ATF_CHECK_EQ(xt_sad_count(xt_a, 0, 1), 0);
	ATF_CHECK_EQ(xt_a->p_nacqfail, 1);
	xt_teardown();
}

/*
 * The algorithms of the issue, each in an IKE SA and its first child:
 * AES-GCM-16, ChaCha20-Poly1305, AES-CBC with HMAC-SHA2, the PRFs, and
 * MODP 14/15/16, ECP 19/20/21, Curve25519 and Curve448.  Both sides
 * agree on what was chosen and on the child's keys (check_pairs).
 */
static const struct algrow {
	const char	*ike, *child;
	uint16_t	 enc, enckeylen, prf, integ, group;	/* IKE SA */
	uint16_t	 cenc, cenckeylen, cauth;		/* child */
} algrows[] = {
	{ "enc aes-128-gcm prf hmac-sha2-256 group curve25519",
	  "enc aes-128-gcm", 20, 128, 5, 0, 31, 20, 128, 0 },
	{ "enc aes-256-gcm prf hmac-sha2-384 group curve448",
	  "enc aes-256-gcm", 20, 256, 6, 0, 32, 20, 256, 0 },
	{ "enc chacha20-poly1305 prf hmac-sha2-512 group ecp256",
	  "enc chacha20-poly1305", 28, 256, 7, 0, 19, 28, 256, 0 },
	{ "enc aes-128 auth hmac-sha2-256 prf hmac-sha2-256 group ecp384",
	  "enc aes-128 auth hmac-sha2-256", 12, 128, 5, 12, 20, 12, 128, 12 },
	{ "enc aes-256 auth hmac-sha2-384 prf hmac-sha2-384 group ecp521",
	  "enc aes-256 auth hmac-sha2-384", 12, 256, 6, 13, 21, 12, 256, 13 },
	{ "enc aes-256 auth hmac-sha2-512 prf hmac-sha2-512 group modp2048",
	  "enc aes-192-gcm", 12, 256, 7, 14, 14, 20, 192, 0 },
	{ "enc aes-128-gcm prf hmac-sha2-256 group modp3072",
	  "enc aes-256 auth hmac-sha2-512", 20, 128, 5, 0, 15, 12, 256, 14 },
	{ "enc aes-256-gcm prf hmac-sha2-256 group modp4096",
	  "enc aes-128-gcm", 20, 256, 5, 0, 16, 20, 128, 0 },
};

#define CONF_ALG(name, from, to, local, peer)				\
    "ikev2 \"" name "\" active esp tunnel from " from " to " to	\
    " local " local " peer " peer " ikesa %s childsa %s " PSK

ATF_TC_WITHOUT_HEAD(algorithms);
ATF_TC_BODY(algorithms, tc)
{
	const struct algrow	*r;
	struct iked_child	*ch;
	struct iked_sa		*sa;
	struct xt_peer		*p;
	char			 ca[1024], cb[1024];
	u_int			 side;

	for (r = algrows; r < algrows + sizeof(algrows) / sizeof(algrows[0]);
	    r++) {
		snprintf(ca, sizeof(ca), CONF_ALG("a", "10.1.0.0/16",
		    "10.2.0.0/16", "192.0.2.1", "192.0.2.2"), r->ike,
		    r->child);
		snprintf(cb, sizeof(cb), CONF_ALG("b", "10.2.0.0/16",
		    "10.1.0.0/16", "192.0.2.2", "192.0.2.1"), r->ike,
		    r->child);
		setup(ca, cb);
		establish();
		for (side = 0; side < 2; side++) {
			p = side == 0 ? xt_a : xt_b;
			sa = xt_ikesa(p);
			ATF_CHECK_EQ_MSG(sa->sa_enc, r->enc, "%s", r->ike);
			ATF_CHECK_EQ_MSG(sa->sa_enckeylen, r->enckeylen, "%s",
			    r->ike);
			ATF_CHECK_EQ_MSG(sa->sa_prfid, r->prf, "%s", r->ike);
			ATF_CHECK_EQ_MSG(sa->sa_integid, r->integ, "%s",
			    r->ike);
			ATF_CHECK_EQ_MSG(sa->sa_group, r->group, "%s", r->ike);
			ATF_REQUIRE((ch = xt_child_nth(p, 0)) != NULL);
			ATF_CHECK_EQ_MSG(ch->ch_enc, r->cenc, "%s", r->child);
			ATF_CHECK_EQ_MSG(ch->ch_enckeylen, r->cenckeylen, "%s",
			    r->child);
			ATF_CHECK_EQ_MSG(ch->ch_auth, r->cauth, "%s",
			    r->child);
		}
		/* The IKE SA's keys work: a liveness check is answered. */
		xt_fire(xt_a, xt_ikesa(xt_a)->sa_dpdtimer);
		xt_run();
		ATF_CHECK_EQ(xt_a->p_env.sc_stats.st_dropped, 0);
		ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_dropped, 0);
		ATF_CHECK_EQ(xt_nikesa(xt_a), 1);
		ATF_CHECK_EQ(xt_a->p_env.sc_stats.st_retransmits, 0);
		xt_teardown();
	}
}

/* %%% 2. Every message lost once */

ATF_TC_WITHOUT_HEAD(lost_once);
ATF_TC_BODY(lost_once, tc)
{
	setup(conf_a, conf_b);
	xt_acquire(xt_a, 1, 1);
	/* IKE_SA_INIT request lost: A sends it again. */
	xt_drop(xt_a);
	xt_fire(xt_a, retransmit_timer(xt_a));
	expect(xt_a, IKEV2_EXCHANGE_IKE_SA_INIT, 0);
	xt_deliver(xt_a);
	ATF_CHECK_EQ(xt_nikesa(xt_b), 1);
	/* Its response lost: B answers the retransmission from its cache. */
	xt_drop(xt_b);
	xt_fire(xt_a, retransmit_timer(xt_a));
	xt_deliver(xt_a);
	ATF_CHECK_EQ(xt_nikesa(xt_b), 1);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_retransmits, 1);
	expect(xt_b, IKEV2_EXCHANGE_IKE_SA_INIT, 1);
	xt_deliver(xt_b);
	xt_kernel_run(xt_a);
	/* IKE_AUTH request lost. */
	expect(xt_a, IKEV2_EXCHANGE_IKE_AUTH, 0);
	xt_drop(xt_a);
	xt_fire(xt_a, retransmit_timer(xt_a));
	xt_deliver(xt_a);
	xt_kernel_run(xt_b);
	ATF_CHECK_EQ(xt_ikesa(xt_b)->sa_state, SA_S_ESTABLISHED);
	/* Its response lost: from B's cache again, not processed again. */
	xt_drop(xt_b);
	xt_fire(xt_a, retransmit_timer(xt_a));
	xt_deliver(xt_a);
	ATF_CHECK_EQ(xt_kernel_pending(xt_b), 0);
	expect(xt_b, IKEV2_EXCHANGE_IKE_AUTH, 1);
	xt_deliver(xt_b);
	xt_run();
	check_established();
	check_pairs(1);
	ATF_CHECK_EQ(xt_a->p_env.sc_stats.st_retransmits, 4);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_retransmits, 2);
	ATF_CHECK_EQ(xt_b->p_ngetspi, 1);	/* IKE_AUTH processed once */
	ATF_CHECK_EQ(xt_a->p_ngetspi, 1);
	xt_teardown();
}

/*
 * A retransmitted IKE_AUTH reaches B while B still waits for its SPI:
 * B has no answer yet and must send nothing (not its IKE_SA_INIT
 * response again); the answer follows once the kernel replies.
 */
ATF_TC_WITHOUT_HEAD(retransmit_while_getspi);
ATF_TC_BODY(retransmit_while_getspi, tc)
{
	setup(conf_a, conf_b);
	xt_acquire(xt_a, 1, 1);
	xt_deliver(xt_a);
	xt_deliver(xt_b);
	xt_kernel_run(xt_a);
	xt_deliver(xt_a);
	ATF_REQUIRE_EQ(xt_kernel_pending(xt_b), 1);
	xt_fire(xt_a, retransmit_timer(xt_a));
	xt_deliver(xt_a);
	ATF_CHECK_EQ_MSG(xt_queued(xt_b), 0, "B answered a request it has "
	    "not processed yet (exchange %d)", xt_queued(xt_b) ?
	    xt_dgram_exch(xt_peek(xt_b), NULL, NULL) : 0);
	xt_drop_all(xt_b);
	xt_kernel_run(xt_b);
	expect(xt_b, IKEV2_EXCHANGE_IKE_AUTH, 1);
	xt_run();
	check_established();
	check_pairs(1);
	ATF_CHECK_EQ(xt_b->p_ngetspi, 1);
	xt_teardown();
}

/* A copy of the first datagram A has queued (its len in *len). */
static uint8_t *
a_first(size_t *len)
{
	const struct xt_dgram	*dg;
	uint8_t			*m;

	ATF_REQUIRE((dg = xt_peek(xt_a)) != NULL);
	*len = dg->dg_len;
	ATF_REQUIRE((m = malloc(*len)) != NULL);
	memcpy(m, dg->dg_buf, *len);
	return (m);
}

/* %%% 3. COOKIE */

ATF_TC_WITHOUT_HEAD(cookie);
ATF_TC_BODY(cookie, tc)
{
	struct sockaddr_in	 c;
	uint8_t			*flood;
	size_t			 len;
	int			 i;

	setup(conf_a, conf_b);
	xt_acquire(xt_a, 1, 1);
	/* 32 half-open SAs from 192.0.2.3: A's IKE_SA_INIT, other SPIs. */
	flood = a_first(&len);
	memset(&c, 0, sizeof(c));
	c.sin_family = AF_INET;
	c.sin_port = htons(500);
	inet_pton(AF_INET, "192.0.2.3", &c.sin_addr);
	for (i = 0; i < 32; i++) {
		flood[0] = 0xf0;
		flood[1] = (uint8_t)i;
		xt_inject(xt_b, (struct sockaddr *)&c, flood, len);
	}
	free(flood);
	ATF_REQUIRE_EQ(xt_nikesa(xt_b), 32);
	ATF_REQUIRE_EQ(halfopen_count(&xt_b->p_env, 2), 32);
	xt_drop_all(xt_b);		/* the answers to 192.0.2.3 */
	/* A's own: B keeps no state, demands a cookie. */
	xt_deliver(xt_a);
	ATF_CHECK_EQ(xt_nikesa(xt_b), 32);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_halfopen_refused, 1);
	expect(xt_b, IKEV2_EXCHANGE_IKE_SA_INIT, 1);
	xt_deliver(xt_b);
	ATF_CHECK(xt_ikesa(xt_a)->sa_cookie != NULL);
	/* A again, with it: accepted. */
	expect(xt_a, IKEV2_EXCHANGE_IKE_SA_INIT, 0);
	xt_deliver(xt_a);
	ATF_CHECK_EQ(xt_nikesa(xt_b), 33);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_halfopen_refused, 1);
	xt_run();
	ATF_REQUIRE_EQ(xt_ikesa(xt_a)->sa_state, SA_S_ESTABLISHED);
	ATF_CHECK_EQ(halfopen_count(&xt_b->p_env, 2), 32);
	ATF_CHECK_EQ(xt_nchildren(xt_a, CH_S_INSTALLED), 1);
	ATF_CHECK_EQ(xt_nchildren(xt_b, CH_S_INSTALLED), 1);
	ATF_CHECK_EQ(xt_a->p_sent, 3);	/* INIT, INIT + cookie, AUTH */
	xt_teardown();
}

/*
 * %%% 3a. Half-open budgets (halfopen.c): spoofed IKEv1 MM1s from
 * 198.51.100.0/24 (up to 16 per address), a COOKIE-less IKEv2 flood
 * from 192.0.2.3.
 */

#define MAIN_V1	"main enc aes-256 auth hmac-sha2-256 group modp2048 " \
		"quick enc aes-256 auth hmac-sha2-256 "

static const char conf_a1[] =
    "ikev1 \"a\" active esp tunnel from 10.1.0.0/16 to 10.2.0.0/16 "
    "local 192.0.2.1 peer 192.0.2.2 " MAIN_V1 PSK;
static const char conf_b1[] =
    "ikev1 \"b\" passive esp tunnel from 10.2.0.0/16 to 10.1.0.0/16 "
    "local 192.0.2.2 peer 192.0.2.1 " MAIN_V1 PSK
    "ikev1 \"flood\" passive esp tunnel from any to any "
    "peer 198.51.100.0/24 " MAIN_V1 "psk \"other\"\n"
    "ikev2 \"b2\" active esp tunnel from 10.2.0.0/16 to 10.1.0.0/16 "
    "local 192.0.2.2 peer 192.0.2.1 " IKE_A CHILD PSK;

/* B's SA with peer, or NULL. */
static struct iked_sa *
sa_with(struct xt_peer *p, const char *peer)
{
	struct sockaddr_in	 sin;
	struct iked_sa		*sa;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	ATF_REQUIRE(inet_pton(AF_INET, peer, &sin.sin_addr) == 1);
	TAILQ_FOREACH(sa, &p->p_env.sc_sas, sa_entry)
		if (sa_cmpaddr(&sa->sa_peer.sa, (struct sockaddr *)&sin) == 0)
			return (sa);
	return (NULL);
}

/*
 * n spoofed copies of mm1 into B, the kth (from *k on) from
 * 198.51.100.(k % 256) with CKY-I k; B's answers go nowhere.
 */
static void
flood_mm1(const uint8_t *mm1, size_t len, u_int n, u_int *k)
{
	struct sockaddr_in	 c;
	uint8_t			 m[512];
	u_int			 i;

	ATF_REQUIRE(len <= sizeof(m));
	memcpy(m, mm1, len);
	memset(&c, 0, sizeof(c));
	c.sin_family = AF_INET;
	c.sin_port = htons(500);
	for (i = 0; i < n; i++, (*k)++) {
		c.sin_addr.s_addr = htonl(0xc6336400 | (*k & 0xff));
		memset(m, 0xf1, 4);
		m[4] = *k >> 24;
		m[5] = *k >> 16;
		m[6] = *k >> 8;
		m[7] = *k;
		xt_inject(xt_b, (struct sockaddr *)&c, m, len);
	}
	/* The MM2s to nobody go, B's answers to A stay queued. */
	for (i = xt_queued(xt_b); i > 0; i--) {
		if (xt_byaddr((struct sockaddr *)&xt_peek(xt_b)->dg_dst) ==
		    NULL)
			xt_drop(xt_b);
		else
			xt_hold(xt_b);
	}
}

/* Has B the SA of flood_mm1's kth MM1? */
static int
flood_sa(u_int k)
{
	uint8_t	 spi[8];

	memset(spi, 0xf1, 4);
	spi[4] = k >> 24;
	spi[5] = k >> 16;
	spi[6] = k >> 8;
	spi[7] = k;
	return (ikesa_spi_first(&xt_b->p_env, spi) != NULL);
}

/*
 * A full IKEv1 budget: a new MM1 goes unanswered, and when it comes
 * again it evicts the oldest exchange nobody answered past MM2.  A's
 * main mode survives any number of other MM1s, before MM3 (they are new
 * ones) and after (it is past MM3); MM1s sent twice evict in turn.
 */
ATF_TC_WITHOUT_HEAD(halfopen_v1_evict);
ATF_TC_BODY(halfopen_v1_evict, tc)
{
	uint8_t			*mm1;
	size_t			 len;
	u_int			 k = 0, k0;

	setup(conf_a1, conf_b1);
	xt_acquire(xt_a, 1, 1);
	mm1 = a_first(&len);

	flood_mm1(mm1, len, IKED_HALFOPEN_V1, &k);
	ATF_CHECK_EQ(halfopen_count(&xt_b->p_env, 1), IKED_HALFOPEN_V1);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_shed, 0);
	/* Full: A's MM1 goes unanswered, its retransmission does not. */
	xt_deliver_copy(xt_a);
	ATF_CHECK_EQ(xt_queued(xt_b), 0);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_shed, 1);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_halfopen_evicted, 0);
	xt_deliver(xt_a);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_readmitted, 1);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_halfopen_evicted, 1);
	ATF_CHECK_EQ(halfopen_count(&xt_b->p_env, 1), IKED_HALFOPEN_V1);
	ATF_REQUIRE(sa_with(xt_b, "192.0.2.1") != NULL);
	ATF_CHECK(!flood_sa(0) && flood_sa(1));
	expect(xt_b, IKEV1_EXCHANGE_MAIN, 0);
	xt_deliver(xt_b);				/* MM2 */
	/* A budget's worth of new MM1s while A computes its MM3. */
	flood_mm1(mm1, len, IKED_HALFOPEN_V1, &k);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_halfopen_evicted, 1);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_shed, 1 + IKED_HALFOPEN_V1);
	ATF_REQUIRE(sa_with(xt_b, "192.0.2.1") != NULL);
	/* Sent twice, 100 of them evict the 100 oldest. */
	k0 = k;
	flood_mm1(mm1, len, 100, &k);
	k = k0;
	flood_mm1(mm1, len, 100, &k);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_halfopen_evicted, 101);
	ATF_CHECK(!flood_sa(1) && !flood_sa(100) && flood_sa(101));
	ATF_REQUIRE(sa_with(xt_b, "192.0.2.1") != NULL);
	xt_deliver(xt_a);				/* MM3 */
	ATF_CHECK_EQ(sa_with(xt_b, "192.0.2.1")->sa_ho, HO_PROVEN);
	/* Past MM3: a whole budget sent twice does not evict it. */
	k0 = k;
	flood_mm1(mm1, len, IKED_HALFOPEN_V1 + 100, &k);
	k = k0;
	flood_mm1(mm1, len, IKED_HALFOPEN_V1 + 100, &k);
	ATF_REQUIRE(sa_with(xt_b, "192.0.2.1") != NULL);
	ATF_CHECK_EQ(halfopen_count(&xt_b->p_env, 1), IKED_HALFOPEN_V1);
	xt_run();
	ATF_CHECK_EQ(sa_with(xt_a, "192.0.2.2")->sa_state, SA_S_ESTABLISHED);
	ATF_CHECK_EQ(sa_with(xt_b, "192.0.2.1")->sa_state, SA_S_ESTABLISHED);
	ATF_CHECK_EQ(halfopen_count(&xt_b->p_env, 1), IKED_HALFOPEN_V1 - 1);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_halfopen_refused, 0);
	free(mm1);
	xt_teardown();
}

/*
 * One address holds at most IKED_HALFOPEN_PEER half-open SAs of a
 * version; the next one from it is refused, another address's is not.
 */
ATF_TC_WITHOUT_HEAD(halfopen_per_source);
ATF_TC_BODY(halfopen_per_source, tc)
{
	uint8_t			*mm1;
	size_t			 len;
	u_int			 i, k;

	setup(conf_a1, conf_b1);
	xt_acquire(xt_a, 1, 1);
	mm1 = a_first(&len);
	/* k = 256 * i + 7: all from 198.51.100.7. */
	for (i = 0; i < IKED_HALFOPEN_PEER; i++) {
		k = 256 * i + 7;
		flood_mm1(mm1, len, 1, &k);
	}
	ATF_CHECK_EQ(halfopen_count(&xt_b->p_env, 1), IKED_HALFOPEN_PEER);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_halfopen_refused, 0);
	k = 256 * i + 7;
	flood_mm1(mm1, len, 1, &k);
	ATF_CHECK_EQ(halfopen_count(&xt_b->p_env, 1), IKED_HALFOPEN_PEER);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_halfopen_refused, 1);
	/* Busy too: refused, not left to be answered when repeated. */
	halfopen_batch(&xt_b->p_env, 1);
	for (i = 0; i < 2 * IKED_HALFOPEN_ADMIT; i++) {
		k = 256 * (IKED_HALFOPEN_PEER + 1 + i) + 7;
		flood_mm1(mm1, len, 1, &k);
	}
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_halfopen_refused,
	    1 + 2 * IKED_HALFOPEN_ADMIT);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_shed, 0);
	halfopen_batch(&xt_b->p_env, 0);
	k = 8;					/* 198.51.100.8 */
	flood_mm1(mm1, len, 1, &k);
	ATF_CHECK_EQ(halfopen_count(&xt_b->p_env, 1),
	    IKED_HALFOPEN_PEER + 1);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_halfopen_refused,
	    1 + 2 * IKED_HALFOPEN_ADMIT);
	/* A, from its own address, goes through. */
	xt_run();
	ATF_CHECK_EQ(sa_with(xt_a, "192.0.2.2")->sa_state, SA_S_ESTABLISHED);
	ATF_CHECK_EQ(sa_with(xt_b, "192.0.2.1")->sa_state, SA_S_ESTABLISHED);
	free(mm1);
	xt_teardown();
}

/*
 * The issue: a full IKEv1 budget (and 1000 MM1s more) leaves IKEv2
 * alone: A's IKE_SA_INIT gets an answer, without a COOKIE, and its SAs.
 */
ATF_TC_WITHOUT_HEAD(halfopen_versions);
ATF_TC_BODY(halfopen_versions, tc)
{
	uint8_t			*mm1;
	size_t			 len;
	u_int			 k = 0;

	/* A speaks IKEv1 once, for an MM1 to copy; then IKEv2. */
	setup(conf_a1, conf_b1);
	xt_acquire(xt_a, 1, 1);
	mm1 = a_first(&len);
	xt_teardown();

	setup(conf_a, conf_b1);
	flood_mm1(mm1, len, IKED_HALFOPEN_V1 + 1000, &k);
	ATF_CHECK_EQ(halfopen_count(&xt_b->p_env, 1), IKED_HALFOPEN_V1);
	ATF_CHECK_EQ(halfopen_count(&xt_b->p_env, 2), 0);
	xt_acquire(xt_a, 1, 1);
	xt_deliver(xt_a);
	expect(xt_b, IKEV2_EXCHANGE_IKE_SA_INIT, 1);
	xt_run();
	ATF_CHECK(sa_with(xt_a, "192.0.2.2")->sa_cookie == NULL);
	ATF_CHECK_EQ(sa_with(xt_a, "192.0.2.2")->sa_state, SA_S_ESTABLISHED);
	ATF_CHECK_EQ(xt_nchildren(xt_a, CH_S_INSTALLED), 1);
	ATF_CHECK_EQ(xt_nchildren(xt_b, CH_S_INSTALLED), 1);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_halfopen_refused, 0);
	ATF_CHECK_EQ(xt_a->p_sent, 2);		/* INIT, AUTH */
	free(mm1);
	xt_teardown();
}

/*
 * A busy batch answers IKED_HALFOPEN_ADMIT new exchanges of each
 * version: an MM1 flood that has taken IKEv1's share of the batch
 * leaves IKEv2's turns to a real IKEv2 peer, at its first IKE_SA_INIT.
 */
ATF_TC_WITHOUT_HEAD(busy_versions);
ATF_TC_BODY(busy_versions, tc)
{
	uint8_t			*mm1;
	size_t			 len;
	u_int			 k = 0;

	setup(conf_a1, conf_b1);
	xt_acquire(xt_a, 1, 1);
	mm1 = a_first(&len);
	xt_teardown();

	setup(conf_a, conf_b1);
	halfopen_batch(&xt_b->p_env, 1);
	flood_mm1(mm1, len, 4 * IKED_HALFOPEN_ADMIT, &k);
	ATF_CHECK_EQ(halfopen_count(&xt_b->p_env, 1), IKED_HALFOPEN_ADMIT);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_shed, 3 * IKED_HALFOPEN_ADMIT);
	/* The same busy batch: A's IKE_SA_INIT is answered at once. */
	xt_acquire(xt_a, 1, 1);
	xt_deliver(xt_a);
	expect(xt_b, IKEV2_EXCHANGE_IKE_SA_INIT, 1);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_shed, 3 * IKED_HALFOPEN_ADMIT);
	/* And IKEv1's share stays spent. */
	flood_mm1(mm1, len, 1, &k);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_shed,
	    3 * IKED_HALFOPEN_ADMIT + 1);
	halfopen_batch(&xt_b->p_env, 0);
	xt_run();
	ATF_CHECK_EQ(sa_with(xt_a, "192.0.2.2")->sa_state, SA_S_ESTABLISHED);
	free(mm1);
	xt_teardown();
}

/*
 * Busy (a batch that did not empty the socket): IKED_HALFOPEN_ADMIT
 * new exchanges are answered, the others dropped unanswered, and
 * answered when they come again; a COOKIE returned is always answered.
 * 192.0.2.3 floods B's "flood" rule with IKE_SA_INITs (A's, other
 * SPIs, other ports).
 */
/* A's IKE_SA_INIT from 192.0.2.3, port 1000 + i, with SPIi f0 i ... */
static void
inject_init(uint8_t *init, size_t len, u_int i)
{
	struct sockaddr_in	 c;

	memset(&c, 0, sizeof(c));
	c.sin_family = AF_INET;
	c.sin_port = htons(1000 + i);
	inet_pton(AF_INET, "192.0.2.3", &c.sin_addr);
	init[0] = 0xf0;
	init[1] = (uint8_t)i;
	xt_inject(xt_b, (struct sockaddr *)&c, init, len);
}

/*
 * A full batch makes the next one busy only when its new exchanges
 * outnumber twice those under way: real peers bring about one of each,
 * a flood (padded with junk or not) only new ones.
 */
ATF_TC_WITHOUT_HEAD(busy_batch);
ATF_TC_BODY(busy_batch, tc)
{
	struct sockaddr_in	 c;
	uint8_t			*init, junk[64];
	size_t			 len;
	u_int			 i;

	setup(conf_a, conf_b);
	xt_acquire(xt_a, 1, 1);
	init = a_first(&len);
	/* A real exchange: one new (IKE_SA_INIT), one under way (AUTH). */
	halfopen_batch(&xt_b->p_env, 0);
	xt_run();
	ATF_REQUIRE_EQ(sa_with(xt_b, "192.0.2.1")->sa_state,
	    SA_S_ESTABLISHED);
	ATF_CHECK(!halfopen_batch_busy(&xt_b->p_env, 1));
	inject_init(init, len, 1);
	ATF_CHECK(!halfopen_batch_busy(&xt_b->p_env, 1));	/* 2 of 1 */
	inject_init(init, len, 2);
	ATF_CHECK(halfopen_batch_busy(&xt_b->p_env, 1));	/* 3 of 1 */
	/* Not full: the socket was emptied, whatever it held. */
	ATF_CHECK(!halfopen_batch_busy(&xt_b->p_env, 0));
	/* Junk alone has nothing to shed; junk around a flood hides none. */
	memset(&c, 0, sizeof(c));
	c.sin_family = AF_INET;
	c.sin_port = htons(500);
	inet_pton(AF_INET, "192.0.2.3", &c.sin_addr);
	memset(junk, 0xa5, sizeof(junk));
	halfopen_batch(&xt_b->p_env, 0);
	for (i = 0; i < IKED_RX_BATCH - 1; i++)
		xt_inject(xt_b, (struct sockaddr *)&c, junk, sizeof(junk));
	ATF_CHECK(!halfopen_batch_busy(&xt_b->p_env, 1));
	inject_init(init, len, 3);
	ATF_CHECK(halfopen_batch_busy(&xt_b->p_env, 1));
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_shed, 0);
	free(init);
	xt_teardown();
}

/*
 * An IKEv1 message that carries an IKEv2 SA's SPIs is no IKEv1
 * exchange: an unauthenticated IKEv1 notify must not end the IKEv2 SA
 * being negotiated.
 */
ATF_TC_WITHOUT_HEAD(cross_version_spis);
ATF_TC_BODY(cross_version_spis, tc)
{
	struct iked_sa		*sa;
	struct ikebuf		 b;
	struct sockaddr_in	 c;
	uint8_t			 rspi[8];

	setup(conf_a, conf_b);
	xt_acquire(xt_a, 1, 1);
	xt_deliver(xt_a);			/* IKE_SA_INIT to B */
	ATF_REQUIRE((sa = xt_ikesa(xt_a)) != NULL);
	ATF_REQUIRE_EQ(sa->sa_state, SA_S_V2_INIT);
	/* B's answer is held back; a forger knows A's SPIi (on the wire). */
	memset(rspi, 0, sizeof(rspi));
	ATF_REQUIRE(ikebuf_init(&b) == 0);
	ikemsg_build_hdr(&b, 1, sa->sa_ispi, rspi, IKEV1_EXCHANGE_INFO, 0,
	    0);
	ikev1_build_notify(&b, IKEV1_DOI_IPSEC, IKEV1_PROTO_ISAKMP, NULL, 0,
	    IKEV1_N_NO_PROPOSAL_CHOSEN, NULL, 0);
	ATF_REQUIRE(ikemsg_build_done(&b) == 0);
	memset(&c, 0, sizeof(c));
	c.sin_family = AF_INET;
	c.sin_port = htons(500);
	inet_pton(AF_INET, "192.0.2.2", &c.sin_addr);
	xt_inject(xt_a, (struct sockaddr *)&c, b.ib_buf, b.ib_len);
	ikebuf_free(&b);
	ATF_REQUIRE((sa = xt_ikesa(xt_a)) != NULL);
	ATF_CHECK_EQ(sa->sa_state, SA_S_V2_INIT);
	xt_run();
	ATF_CHECK_EQ(xt_ikesa(xt_a)->sa_state, SA_S_ESTABLISHED);
	xt_teardown();
}

ATF_TC_WITHOUT_HEAD(busy_admission);
ATF_TC_BODY(busy_admission, tc)
{
	uint8_t			*init;
	size_t			 len;
	u_int			 i, sent;

	setup(conf_a, conf_b);
	xt_acquire(xt_a, 1, 1);
	init = a_first(&len);

	/* Not busy: every one answered (and kept: below the threshold). */
	halfopen_batch(&xt_b->p_env, 0);
	for (i = 0; i < 32 - 2 * IKED_HALFOPEN_ADMIT; i++)
		inject_init(init, len, i);
	ATF_CHECK_EQ(xt_nikesa(xt_b), 32 - 2 * IKED_HALFOPEN_ADMIT);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_shed, 0);
	/* Busy: IKED_HALFOPEN_ADMIT of 20 answered. */
	halfopen_batch(&xt_b->p_env, 1);
	sent = xt_b->p_sent;
	for (i = 100; i < 120; i++)
		inject_init(init, len, i);
	ATF_CHECK_EQ(xt_b->p_sent - sent, IKED_HALFOPEN_ADMIT);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_shed, 20 - IKED_HALFOPEN_ADMIT);
	ATF_CHECK_EQ(xt_nikesa(xt_b), 32 - IKED_HALFOPEN_ADMIT);
	/* The next busy batch: its share and one more, then 119 again. */
	halfopen_batch(&xt_b->p_env, 1);
	for (i = 200; i < 200 + IKED_HALFOPEN_ADMIT + 1; i++)
		inject_init(init, len, i);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_shed,
	    20 - IKED_HALFOPEN_ADMIT + 1);
	sent = xt_b->p_sent;
	inject_init(init, len, 119);
	ATF_CHECK_EQ(xt_b->p_sent - sent, 1);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_readmitted, 1);
	/*
	 * 32 half-open now: COOKIEs.  This batch has answered its share: A's
	 * INIT goes unanswered, its retransmission gets the COOKIE, and
	 * the INIT that returns it is answered though the batch is full.
	 */
	ATF_REQUIRE_EQ(halfopen_count(&xt_b->p_env, 2), 32);
	xt_drop_all(xt_b);
	xt_deliver_copy(xt_a);
	ATF_CHECK_EQ(xt_queued(xt_b), 0);
	xt_deliver(xt_a);
	expect(xt_b, IKEV2_EXCHANGE_IKE_SA_INIT, 1);
	xt_deliver(xt_b);
	ATF_REQUIRE(xt_ikesa(xt_a)->sa_cookie != NULL);
	expect(xt_a, IKEV2_EXCHANGE_IKE_SA_INIT, 0);
	xt_deliver(xt_a);
	expect(xt_b, IKEV2_EXCHANGE_IKE_SA_INIT, 1);
	ATF_CHECK_EQ(halfopen_count(&xt_b->p_env, 2), 33);
	halfopen_batch(&xt_b->p_env, 0);
	xt_run();
	ATF_CHECK_EQ(sa_with(xt_a, "192.0.2.2")->sa_state, SA_S_ESTABLISHED);
	ATF_CHECK_EQ(xt_nchildren(xt_b, CH_S_INSTALLED), 1);
	free(init);
	xt_teardown();
}

/* %%% 4. INVALID_KE_PAYLOAD */

ATF_TC_WITHOUT_HEAD(invalid_ke);
ATF_TC_BODY(invalid_ke, tc)
{
	static const char ca[] =
	    "ikev2 \"a\" active esp tunnel from 10.1.0.0/16 to 10.2.0.0/16 "
	    "local 192.0.2.1 peer 192.0.2.2 "
	    "ikesa enc aes-128-gcm prf hmac-sha2-256 group curve25519 "
	    "group ecp256 " CHILD PSK;
	static const char cb[] =
	    "ikev2 \"b\" active esp tunnel from 10.2.0.0/16 to 10.1.0.0/16 "
	    "local 192.0.2.2 peer 192.0.2.1 "
	    "ikesa enc aes-128-gcm prf hmac-sha2-256 group ecp256 "
	    CHILD PSK;

	setup(ca, cb);
	xt_acquire(xt_a, 1, 1);
	ATF_CHECK_EQ(xt_ikesa(xt_a)->sa_group, IKEV2_XFORMDH_CURVE25519);
	xt_deliver(xt_a);
	/* Refused without state, with the group B wants. */
	ATF_CHECK_EQ(xt_nikesa(xt_b), 0);
	expect(xt_b, IKEV2_EXCHANGE_IKE_SA_INIT, 1);
	xt_deliver(xt_b);
	ATF_CHECK_EQ(xt_ikesa(xt_a)->sa_group, IKEV2_XFORMDH_ECP_256);
	expect(xt_a, IKEV2_EXCHANGE_IKE_SA_INIT, 0);
	xt_run();
	check_established();
	check_pairs(1);
	ATF_CHECK_EQ(xt_ikesa(xt_b)->sa_group, IKEV2_XFORMDH_ECP_256);
	ATF_CHECK_EQ(xt_a->p_sent, 3);
	ATF_CHECK_EQ(xt_b->p_sent, 3);
	xt_teardown();
}

/* %%% 5. CREATE_CHILD_SA for a second policy */

ATF_TC_WITHOUT_HEAD(second_child);
ATF_TC_BODY(second_child, tc)
{
	setup(conf_a, conf_b);
	establish();
	xt_acquire(xt_a, 2, 3);
	xt_kernel_run(xt_a);
	expect(xt_a, IKEV2_EXCHANGE_CREATE_CHILD_SA, 0);
	xt_run();
	check_established();
	check_pairs(2);
	ATF_CHECK_EQ(xt_child_nth(xt_a, 1)->ch_spid, 3);
	ATF_CHECK_EQ(xt_child_nth(xt_b, 1)->ch_spid, 13);
	ATF_CHECK_EQ(xt_ikesa(xt_a)->sa_reqid, 3);
	ATF_CHECK_EQ(xt_ikesa(xt_b)->sa_peerid, 3);
	xt_teardown();
}

/* %%% 6. Child rekey */

/*
 * set maxchildren 1 on B: A's second child is refused with
 * NO_ADDITIONAL_SAS and counted; a rekey of the first is not a new
 * child and goes through; from B's side, its own second acquire is
 * refused before anything is sent.
 */
ATF_TC_WITHOUT_HEAD(maxchildren);
ATF_TC_BODY(maxchildren, tc)
{
	char			 conf[sizeof(conf_b) + 32];
	struct iked_child	*ch;
	u_int			 sent;

	snprintf(conf, sizeof(conf), "set maxchildren 1\n%s", conf_b);
	setup(conf_a, conf);
	establish();
	check_pairs(1);
	/* The peer's CREATE_CHILD_SA for a second pair. */
	xt_acquire(xt_a, 2, 3);
	xt_kernel_run(xt_a);
	expect(xt_a, IKEV2_EXCHANGE_CREATE_CHILD_SA, 0);
	xt_deliver(xt_a);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_children_refused, 1);
	ATF_CHECK_EQ(xt_b->p_ngetspi, 1);
	expect(xt_b, IKEV2_EXCHANGE_CREATE_CHILD_SA, 1);
	xt_run();
	ATF_CHECK_EQ(xt_a->p_nacqfail, 1);
	check_established();
	check_pairs(1);
	/* A rekey of the one pair is no new child. */
	ch = xt_child_nth(xt_a, 0);
	xt_expire(xt_a, ch->ch_spi_in, 0);
	xt_run();
	end_grace();
	check_pairs(1);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_children_refused, 1);
	/* B's own acquire of the second pair: refused, nothing sent. */
	sent = xt_b->p_sent;
	xt_acquire(xt_b, 3, 13);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_children_refused, 2);
	ATF_CHECK_EQ(xt_b->p_nacqfail, 1);
	ATF_CHECK_EQ(xt_b->p_sent, sent);
	ATF_CHECK_EQ(xt_queued(xt_b), 0);
	check_pairs(1);
	xt_teardown();
}

/*
 * The same in IKEv1: B answers A's second Quick Mode with
 * NO-PROPOSAL-CHOSEN (IKEv1 has no NO_ADDITIONAL_SAS) and keeps one.
 */
ATF_TC_WITHOUT_HEAD(maxchildren_v1);
ATF_TC_BODY(maxchildren_v1, tc)
{
	char	 conf[sizeof(conf_b1) + 32];

	snprintf(conf, sizeof(conf), "set maxchildren 1\n%s", conf_b1);
	setup(conf_a1, conf);
	xt_acquire(xt_a, 1, 1);
	xt_run();
	ATF_REQUIRE_EQ(sa_with(xt_b, "192.0.2.1")->sa_state,
	    SA_S_ESTABLISHED);
	ATF_CHECK_EQ(xt_nchildren(xt_b, 0), 1);
	xt_acquire(xt_a, 2, 3);
	xt_kernel_run(xt_a);
	expect(xt_a, IKEV1_EXCHANGE_QUICK, 0);
	xt_deliver(xt_a);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_children_refused, 1);
	ATF_CHECK_EQ(xt_nchildren(xt_b, 0), 1);
	ATF_CHECK_EQ(xt_b->p_ngetspi, 1);
	expect(xt_b, IKEV1_EXCHANGE_INFO, 0);
	xt_teardown();
}

/*
 * ESN (IKEv2's transform, IKEv1's RFC 4304 attribute): esn wants it,
 * noesn refuses it, neither (the default) offers both in IKEv2 (ESN
 * first) and none in IKEv1, and takes what the peer chose; the child
 * carries the result to the kernel.  A mismatch is NO_PROPOSAL_CHOSEN,
 * no pair with a sequence number the peer would read otherwise.
 * want: 1 ESN, 0 none, -1 no pair.
 */
static void
esn_case(int v1, const char *ea, const char *eb, int want)
{
	char			 ca[512], cb[512];
	struct iked_child	*ch;
	const char		*ver = v1 ? "ikev1" : "ikev2";
	const char		*xf = v1 ? MAIN_V1 : IKE_A CHILD;
	u_int			 side;

	snprintf(ca, sizeof(ca), "%s \"a\" active esp tunnel from "
	    "10.1.0.0/16 to 10.2.0.0/16 local 192.0.2.1 peer 192.0.2.2 %s%s "
	    PSK, ver, xf, ea);
	snprintf(cb, sizeof(cb), "%s \"b\" %s esp tunnel from 10.2.0.0/16 "
	    "to 10.1.0.0/16 local 192.0.2.2 peer 192.0.2.1 %s%s " PSK, ver,
	    v1 ? "passive" : "active", xf, eb);
	setup(ca, cb);
	xt_acquire(xt_a, 1, 1);
	xt_run();
	if (want == -1) {
		ATF_CHECK_EQ_MSG(xt_nchildren(xt_a, CH_S_INSTALLED), 0,
		    "v%d A '%s' B '%s': a pair", v1 ? 1 : 2, ea, eb);
		ATF_CHECK_EQ(xt_nchildren(xt_b, CH_S_INSTALLED), 0);
		ATF_CHECK_EQ(xt_sad_count(xt_a, 0, 1), 0);
		ATF_CHECK_EQ(xt_sad_count(xt_b, 0, 1), 0);
		xt_teardown();
		return;
	}
	check_pairs(1);
	for (side = 0; side < 2; side++) {
		ATF_REQUIRE((ch = xt_child_nth(side ? xt_b : xt_a, 0)) !=
		    NULL);
		ATF_CHECK_EQ_MSG(ch->ch_esn, want, "v%d A '%s' B '%s': %s's "
		    "ch_esn %d", v1 ? 1 : 2, ea, eb, side ? "B" : "A",
		    ch->ch_esn);
	}
	xt_teardown();
}

ATF_TC_WITHOUT_HEAD(esn_v2);
ATF_TC_BODY(esn_v2, tc)
{
	esn_case(0, "esn", "esn", 1);
	esn_case(0, "noesn", "noesn", 0);
	esn_case(0, "esn", "noesn", -1);
	esn_case(0, "noesn", "esn", -1);
	esn_case(0, "", "", 1);
	esn_case(0, "", "esn", 1);
	esn_case(0, "", "noesn", 0);
	esn_case(0, "esn", "", 1);
	esn_case(0, "noesn", "", 0);
}

ATF_TC_WITHOUT_HEAD(esn_v1);
ATF_TC_BODY(esn_v1, tc)
{
	esn_case(1, "esn", "esn", 1);
	esn_case(1, "noesn", "noesn", 0);
	esn_case(1, "esn", "noesn", -1);
	esn_case(1, "noesn", "esn", -1);
	esn_case(1, "", "", 0);
	esn_case(1, "", "esn", -1);
	esn_case(1, "", "noesn", 0);
	esn_case(1, "esn", "", 1);
	esn_case(1, "noesn", "", 0);
}

/*
 * A larval SA that expired before its UPDATE (the exchange outlived
 * net.key.larval_lifetime on a lossy link): the kernel refuses the
 * UPDATE.  The side whose inbound SA is missing must not keep the pair
 * as if it worked (the peer would send into nothing until the lifetime
 * ends): it deletes the pair, tells the peer, and the next packet gets
 * a new one.  IKEv1's responder drops its held QM2 instead and answers
 * the initiator's retransmitted QM1 with a new SPI.
 */
static void
no_pairs(void)
{
	struct xt_peer	*p;
	u_int		 side;

	for (side = 0; side < 2; side++) {
		p = side == 0 ? xt_a : xt_b;
		ATF_CHECK_EQ_MSG(xt_nchildren(p, 0), 0, "%s kept %u children",
		    p->p_name, xt_nchildren(p, 0));
		ATF_CHECK_EQ_MSG(xt_sad_count(p, 0, 1) + xt_sad_count(p, 0, 0)
		    + xt_sad_count(p, 1, 0), 0, "%s kept SAs in its kernel",
		    p->p_name);
	}
}

static void
larval_lost(const char *ca, const char *cb, struct xt_peer **who)
{
	setup(ca, cb);
	(*who)->p_larval_lost = 1;
	xt_acquire(xt_a, 1, 1);
	xt_run();
	ATF_CHECK_EQ((*who)->p_larval_lost, 0);
	ATF_CHECK_EQ((*who)->p_env.sc_stats.st_kernel_refused, 1);
	ATF_CHECK_EQ(xt_ikesa(xt_a)->sa_state, SA_S_ESTABLISHED);
	ATF_CHECK_EQ(xt_a->p_env.sc_stats.st_dropped, 0);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_dropped, 0);
	no_pairs();
	/* The next packet: a new pair on the same IKE SA. */
	xt_acquire(xt_a, 2, 1);
	xt_run();
	ATF_CHECK_EQ(xt_nikesa(xt_a), 1);
	check_pairs(1);
	xt_teardown();
}

ATF_TC_WITHOUT_HEAD(larval_lost_initiator);
ATF_TC_BODY(larval_lost_initiator, tc)
{
	larval_lost(conf_a, conf_b, &xt_a);
}

ATF_TC_WITHOUT_HEAD(larval_lost_responder);
ATF_TC_BODY(larval_lost_responder, tc)
{
	larval_lost(conf_a, conf_b, &xt_b);
}

ATF_TC_WITHOUT_HEAD(larval_lost_v1_initiator);
ATF_TC_BODY(larval_lost_v1_initiator, tc)
{
	larval_lost(conf_a1, conf_b1, &xt_a);
}

ATF_TC_WITHOUT_HEAD(larval_lost_v1_responder);
ATF_TC_BODY(larval_lost_v1_responder, tc)
{
	struct iked_child	*ch;

	setup(conf_a1, conf_b1);
	xt_b->p_larval_lost = 1;
	xt_acquire(xt_a, 1, 1);
	xt_run();
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_kernel_refused, 1);
	ATF_REQUIRE_EQ(sa_with(xt_b, "192.0.2.1")->sa_state,
	    SA_S_ESTABLISHED);
	/* B said nothing; A retransmits QM1 and gets a new SPI. */
	ATF_CHECK_EQ(xt_nchildren(xt_b, 0), 0);
	ATF_REQUIRE((ch = xt_child_nth(xt_a, 0)) != NULL);
	ATF_REQUIRE(ch->ch_state != CH_S_INSTALLED);
	xt_fire(xt_a, ch->ch_tx.tx_ev);
	xt_run();
	ATF_CHECK_EQ(xt_b->p_ngetspi, 2);
	check_pairs(1);
	xt_teardown();
}

/*
 * IKEv1 phase 1 is renewed at 90% of its life while it carries a pair:
 * a new Main Mode without INITIAL-CONTACT (that would make B drop the
 * pair in use), the pair moving to the new phase 1 on both sides, the
 * old one deleted at its end.  The pair stays in both kernels all
 * along, and its rekey then runs on the new phase 1.
 */
ATF_TC_WITHOUT_HEAD(phase1_renew);
ATF_TC_BODY(phase1_renew, tc)
{
	struct iked_sa	*olda, *oldb;

	setup(conf_a1, conf_b1);
	xt_acquire(xt_a, 1, 1);
	xt_run();
	check_pairs(1);
	olda = xt_ikesa(xt_a);
	oldb = sa_with(xt_b, "192.0.2.1");
	ATF_REQUIRE(oldb != NULL && oldb->sa_state == SA_S_ESTABLISHED);
	xt_fire(xt_a, olda->sa_timer);
	expect(xt_a, IKEV1_EXCHANGE_MAIN, 0);
	xt_run();
	check_pairs(1);
	ATF_CHECK_EQ(xt_a->p_ndelete + xt_b->p_ndelete, 0);
	ATF_CHECK_EQ(xt_nikesa(xt_a), 2);
	ATF_CHECK_EQ(xt_nikesa(xt_b), 2);
	ATF_CHECK(olda->sa_rekeyed && TAILQ_EMPTY(&olda->sa_children));
	ATF_CHECK(oldb->sa_rekeyed && TAILQ_EMPTY(&oldb->sa_children));
	/* Its end. */
	xt_fire(xt_a, olda->sa_timer);
	expect(xt_a, IKEV1_EXCHANGE_INFO, 0);
	xt_run();
	ATF_CHECK_EQ(xt_nikesa(xt_a), 1);
	ATF_CHECK_EQ(xt_nikesa(xt_b), 1);
	ATF_CHECK_EQ(xt_ikesa(xt_a)->sa_state, SA_S_ESTABLISHED);
	check_pairs(1);
	ATF_CHECK_EQ(xt_a->p_ndelete + xt_b->p_ndelete, 0);
	xt_expire(xt_a, xt_child_nth(xt_a, 0)->ch_spi_in, 0);
	xt_run();
	end_grace();
	check_pairs(1);
	ATF_CHECK_EQ(xt_a->p_nacqfail, 0);
	xt_teardown();
}

ATF_TC_WITHOUT_HEAD(rekey_child);
ATF_TC_BODY(rekey_child, tc)
{
	struct iked_child	*ch;
	uint32_t		 oin, oout;

	setup(conf_a, conf_b);
	establish();
	ch = xt_child_nth(xt_a, 0);
	oin = ch->ch_spi_in;
	oout = ch->ch_spi_out;
	xt_expire(xt_a, oin, 0);
	xt_kernel_run(xt_a);
	expect(xt_a, IKEV2_EXCHANGE_CREATE_CHILD_SA, 0);
	xt_run();
	/* Make before break: both pairs until the grace period ends. */
	check_pairs(2);
	ATF_REQUIRE((ch = grace_child(xt_a, 1)) != NULL);
	xt_fire(xt_a, ch->ch_timer);
	expect(xt_a, IKEV2_EXCHANGE_INFORMATIONAL, 0);
	xt_run();
	/*
	 * A sends no more on the old pair; its inbound SA waits out its
	 * grace although B answered: what B sent on it just before its
	 * answer may arrive after it.
	 */
	ATF_CHECK(xt_sad_find(xt_a, oout, 1) == NULL);
	ATF_CHECK(xt_sad_find(xt_a, oin, 0) != NULL);
	/* The graces end: nothing more goes. */
	end_grace();
	check_pairs(1);
	ATF_CHECK(xt_sad_find(xt_a, oin, 0) == NULL);
	check_established();
	/* The new pair rekeys in turn. */
	xt_expire(xt_a, xt_child_nth(xt_a, 0)->ch_spi_in, 0);
	xt_run();
	end_grace();
	check_pairs(1);
	xt_teardown();
}

/*
 * B refuses A's rekey of the pair after it took it for one (its policy
 * for the selectors is gone for a moment: TS_UNACCEPTABLE).  Neither
 * side keeps the pair marked as being replaced: B's own rekey of it,
 * at its next soft expiry, runs.
 */
ATF_TC_WITHOUT_HEAD(rekey_refused);
ATF_TC_BODY(rekey_refused, tc)
{
	struct iked_spds	 saved;
	struct iked_spdids	 savedids;
	struct iked_spddsts	 saveddsts;

	setup(conf_a, conf_b);
	establish();
	/* B's mirror of its SPD hidden, list and indexes. */
	TAILQ_INIT(&saved);
	TAILQ_CONCAT(&saved, &xt_b->p_env.sc_spds, spd_entry);
	savedids = xt_b->p_env.sc_spdids;
	saveddsts = xt_b->p_env.sc_spddsts;
	RB_INIT(&xt_b->p_env.sc_spdids);
	RB_INIT(&xt_b->p_env.sc_spddsts);
	xt_expire(xt_a, xt_child_nth(xt_a, 0)->ch_spi_in, 0);
	xt_kernel_run(xt_a);
	expect(xt_a, IKEV2_EXCHANGE_CREATE_CHILD_SA, 0);
	xt_run();
	TAILQ_CONCAT(&xt_b->p_env.sc_spds, &saved, spd_entry);
	xt_b->p_env.sc_spdids = savedids;
	xt_b->p_env.sc_spddsts = saveddsts;
	check_pairs(1);
	ATF_CHECK_EQ(xt_child_nth(xt_a, 0)->ch_rekeying, 0);
	ATF_CHECK_EQ(xt_child_nth(xt_b, 0)->ch_rekeying, 0);
	xt_expire(xt_b, xt_child_nth(xt_b, 0)->ch_spi_in, 0);
	xt_kernel_run(xt_b);
	expect(xt_b, IKEV2_EXCHANGE_CREATE_CHILD_SA, 0);
	xt_run();
	end_grace();
	check_pairs(1);
	check_established();
	xt_teardown();
}

/*
 * B's child for A's CREATE_CHILD_SA times out before B could answer
 * (its kernel never gave the SPI): B still answers, TEMPORARY_FAILURE,
 * and A's window is open for the next exchange.
 */
ATF_TC_WITHOUT_HEAD(unanswered_child);
ATF_TC_BODY(unanswered_child, tc)
{
	struct iked_child	*ch;
	u_int			 i;

	setup(conf_a, conf_b);
	establish();
	xt_acquire(xt_a, 2, 3);
	xt_kernel_run(xt_a);
	xt_deliver(xt_a);
	ATF_REQUIRE_EQ(xt_kernel_pending(xt_b), 1);
	for (i = 0; (ch = xt_child_nth(xt_b, i)) != NULL; i++)
		if (ch->ch_state == CH_S_GETSPI)
			break;
	ATF_REQUIRE(ch != NULL);
	xt_fire(xt_b, ch->ch_timer);
	expect(xt_b, IKEV2_EXCHANGE_CREATE_CHILD_SA, 1);
	xt_deliver(xt_b);
	ATF_CHECK_EQ(xt_ikesa(xt_a)->sa_busy, 0);
	ATF_CHECK_EQ(xt_nchildren(xt_a, 0), 1);
	ATF_CHECK_EQ(xt_nchildren(xt_b, 0), 1);
	/* The next request goes, and is answered. */
	xt_fire(xt_a, xt_ikesa(xt_a)->sa_dpdtimer);
	expect(xt_a, IKEV2_EXCHANGE_INFORMATIONAL, 0);
	xt_deliver(xt_a);
	expect(xt_b, IKEV2_EXCHANGE_INFORMATIONAL, 1);
	xt_deliver(xt_b);
	ATF_CHECK_EQ(xt_ikesa(xt_a)->sa_busy, 0);
	check_established();
	xt_teardown();
}

/* %%% 7. Simultaneous child rekeys (RFC 7296 2.8.1) */

/*
 * A and B rekey the same pair at once, both requests cross.  Which
 * rekey wins depends on the nonces: awins says A's (B's exchange holds
 * the lowest nonce).  late: B's request is lost once and arrives after
 * A's exchange completed.
 */
static void
collide(int awins, int late)
{
	uint32_t	 ain, bin, keep_a_out;
	struct iked_child *ch;

	setup(conf_a, conf_b);
	establish();
	ain = xt_child_nth(xt_a, 0)->ch_spi_in;
	bin = xt_child_nth(xt_b, 0)->ch_spi_in;
	/* Each peer draws its Ni, then its Nr for the other's rekey. */
	xt_nonce(xt_a, awins ? 0x80 : 0x10);
	xt_nonce(xt_a, awins ? 0x20 : 0x90);
	xt_nonce(xt_b, awins ? 0x10 : 0x80);
	xt_nonce(xt_b, awins ? 0x90 : 0x20);
	xt_expire(xt_a, ain, 0);
	xt_expire(xt_b, bin, 0);
	xt_kernel_run(xt_a);
	xt_kernel_run(xt_b);
	expect(xt_a, IKEV2_EXCHANGE_CREATE_CHILD_SA, 0);
	expect(xt_b, IKEV2_EXCHANGE_CREATE_CHILD_SA, 0);
	if (late) {
		xt_drop(xt_b);
		xt_deliver(xt_a);
		xt_kernel_run(xt_b);
		xt_deliver(xt_b);		/* A's exchange done */
		ATF_REQUIRE(grace_child(xt_a, 1) != NULL);
		xt_fire(xt_b, retransmit_timer(xt_b));
	}
	xt_run();
	/* The winner's new pair is the one that stays. */
	ch = grace_child(awins ? xt_a : xt_b, 1);
	ATF_REQUIRE_MSG(ch != NULL, "the winner's rekey is gone");
	keep_a_out = awins ? ch->ch_spi_out : ch->ch_spi_in;
	end_grace();
	check_pairs(1);
	check_established();
	ATF_CHECK_MSG(xt_sad_find(xt_a, keep_a_out, 1) != NULL,
	    "the surviving pair is not the winner's");
	ATF_CHECK(xt_sad_find(xt_a, ain, 0) == NULL);
	ATF_CHECK(xt_sad_find(xt_b, bin, 0) == NULL);
	ATF_CHECK_EQ(xt_a->p_nacqfail + xt_b->p_nacqfail, 0);
	xt_teardown();
}

ATF_TC_WITHOUT_HEAD(rekey_collision_a_wins);
ATF_TC_BODY(rekey_collision_a_wins, tc)
{
	collide(1, 0);
}

ATF_TC_WITHOUT_HEAD(rekey_collision_b_wins);
ATF_TC_BODY(rekey_collision_b_wins, tc)
{
	collide(0, 0);
}

ATF_TC_WITHOUT_HEAD(rekey_collision_late);
ATF_TC_BODY(rekey_collision_late, tc)
{
	collide(1, 1);
}

ATF_TC_WITHOUT_HEAD(rekey_collision_late_b_wins);
ATF_TC_BODY(rekey_collision_late_b_wins, tc)
{
	collide(0, 1);
}

/* %%% 8. Rekey vs delete */

/*
 * A rekeys the pair while B deletes it (its hard lifetime): the
 * requests cross.  B answers the rekey with CHILD_SA_NOT_FOUND, A
 * deletes the pair: none is left, and nothing larval either.
 */
ATF_TC_WITHOUT_HEAD(rekey_vs_delete);
ATF_TC_BODY(rekey_vs_delete, tc)
{
	setup(conf_a, conf_b);
	establish();
	xt_expire(xt_a, xt_child_nth(xt_a, 0)->ch_spi_in, 0);
	xt_kernel_run(xt_a);
	xt_expire(xt_b, xt_child_nth(xt_b, 0)->ch_spi_in, 1);
	expect(xt_a, IKEV2_EXCHANGE_CREATE_CHILD_SA, 0);
	expect(xt_b, IKEV2_EXCHANGE_INFORMATIONAL, 0);
	xt_deliver(xt_a);
	xt_deliver(xt_b);
	xt_run();
	end_grace();
	check_pairs(0);
	check_established();
	ATF_CHECK_EQ(xt_a->p_nacqfail, 0);
	xt_teardown();
}

/* The same, the other way: B's DELETE reaches A first. */
ATF_TC_WITHOUT_HEAD(delete_vs_rekey);
ATF_TC_BODY(delete_vs_rekey, tc)
{
	setup(conf_a, conf_b);
	establish();
	xt_expire(xt_a, xt_child_nth(xt_a, 0)->ch_spi_in, 0);
	xt_kernel_run(xt_a);
	xt_expire(xt_b, xt_child_nth(xt_b, 0)->ch_spi_in, 1);
	xt_deliver(xt_b);
	xt_deliver(xt_a);
	xt_run();
	end_grace();
	check_pairs(0);
	check_established();
	xt_teardown();
}

/*
 * B deletes the pair after it answered A's rekey: the DELETE of the old
 * pair crosses the rekey's response; the new pair stays.
 */
ATF_TC_WITHOUT_HEAD(delete_after_rekey);
ATF_TC_BODY(delete_after_rekey, tc)
{
	uint32_t	 bold;

	setup(conf_a, conf_b);
	establish();
	bold = xt_child_nth(xt_b, 0)->ch_spi_in;
	xt_expire(xt_a, xt_child_nth(xt_a, 0)->ch_spi_in, 0);
	xt_kernel_run(xt_a);
	xt_deliver(xt_a);
	xt_kernel_run(xt_b);
	xt_expire(xt_b, bold, 1);
	xt_run();
	end_grace();
	check_pairs(1);
	check_established();
	xt_teardown();
}

/* %%% 9. DELETE of the IKE SA */

ATF_TC_WITHOUT_HEAD(delete_ike_sa);
ATF_TC_BODY(delete_ike_sa, tc)
{
	setup(conf_a, conf_b);
	establish();
	xt_acquire(xt_a, 2, 3);
	xt_run();
	check_pairs(2);
	/* A deletes its IKE SA: its children go with it. */
	ikesa_send_delete(xt_ikesa(xt_a), NULL);
	expect(xt_a, IKEV2_EXCHANGE_INFORMATIONAL, 0);
	xt_run();
	ATF_CHECK_EQ(xt_nikesa(xt_a), 0);
	ATF_CHECK_EQ(xt_nikesa(xt_b), 0);
	ATF_CHECK_EQ(xt_sad_count(xt_a, 0, -1) + xt_sad_count(xt_a, 1, 0), 0);
	ATF_CHECK_EQ(xt_sad_count(xt_b, 0, -1) + xt_sad_count(xt_b, 1, 0), 0);
	xt_teardown();
}

/* B's lifetime ends instead: the responder's DELETE works alike. */
ATF_TC_WITHOUT_HEAD(delete_ike_sa_responder);
ATF_TC_BODY(delete_ike_sa_responder, tc)
{
	setup(conf_a, conf_b);
	establish();
	ikesa_send_delete(xt_ikesa(xt_b), NULL);
	expect(xt_b, IKEV2_EXCHANGE_INFORMATIONAL, 0);
	xt_run();
	ATF_CHECK_EQ(xt_nikesa(xt_a), 0);
	ATF_CHECK_EQ(xt_nikesa(xt_b), 0);
	ATF_CHECK_EQ(xt_sad_count(xt_a, 0, -1) + xt_sad_count(xt_a, 1, 0), 0);
	ATF_CHECK_EQ(xt_sad_count(xt_b, 0, -1) + xt_sad_count(xt_b, 1, 0), 0);
	xt_teardown();
}

/* %%% 10. IKE SA rekey (RFC 7296 2.18) */

/*
 * The IKE SA's lifetime timer of x rekeys it: one IKE SA left on each
 * side (the new one), the child pairs moved to it and still matching,
 * and the new IKE SA carries a further exchange.
 */
static void
ike_rekey_from(int fromb)
{
	struct xt_peer	*x;
	uint8_t		 oldspi[8];

	setup(conf_a, conf_b);
	establish();
	x = fromb ? xt_b : xt_a;
	xt_acquire(xt_a, 2, 3);
	xt_run();
	check_pairs(2);
	memcpy(oldspi, xt_ikesa(x)->sa_ispi, 8);
	xt_fire(x, xt_ikesa(x)->sa_timer);
	expect(x, IKEV2_EXCHANGE_CREATE_CHILD_SA, 0);
	xt_run();
	ATF_CHECK_EQ(xt_nikesa(xt_a), 1);
	ATF_CHECK_EQ(xt_nikesa(xt_b), 1);
	ATF_CHECK(memcmp(xt_ikesa(x)->sa_ispi, oldspi, 8) != 0);
	ATF_CHECK(memcmp(xt_ikesa(xt_a)->sa_ispi, xt_ikesa(xt_b)->sa_ispi,
	    8) == 0);
	ATF_CHECK(memcmp(xt_ikesa(xt_a)->sa_rspi, xt_ikesa(xt_b)->sa_rspi,
	    8) == 0);
	check_pairs(2);
	check_established();
	/* Liveness on the new IKE SA is answered. */
	xt_fire(xt_a, xt_ikesa(xt_a)->sa_dpdtimer);
	expect(xt_a, IKEV2_EXCHANGE_INFORMATIONAL, 0);
	xt_run();
	ATF_CHECK_EQ(xt_nikesa(xt_a), 1);
	check_pairs(2);
	xt_teardown();
}

ATF_TC_WITHOUT_HEAD(ike_rekey_initiator);
ATF_TC_BODY(ike_rekey_initiator, tc)
{
	ike_rekey_from(0);
}

ATF_TC_WITHOUT_HEAD(ike_rekey_responder);
ATF_TC_BODY(ike_rekey_responder, tc)
{
	ike_rekey_from(1);
}

/*
 * A's CREATE_CHILD_SA for a second pair crosses B's rekey of the IKE
 * SA, and A answers B's rekey first: A's child moves to the new IKE SA
 * while its exchange runs on the old one.  Both sides key the pair from
 * the old IKE SA's SK_d.  late: B's kernel gives the SPI only after B's
 * rekey is done; B's child answers on the old IKE SA all the same, then
 * joins the new one.
 */
static void
child_vs_ike_rekey(int late)
{
	setup(conf_a, conf_b);
	establish();
	xt_acquire(xt_a, 2, 3);
	xt_kernel_run(xt_a);
	expect(xt_a, IKEV2_EXCHANGE_CREATE_CHILD_SA, 0);
	xt_fire(xt_b, xt_ikesa(xt_b)->sa_timer);
	expect(xt_b, IKEV2_EXCHANGE_CREATE_CHILD_SA, 0);
	xt_deliver(xt_b);		/* B's rekey: A answers */
	xt_deliver(xt_a);		/* A's child: B asks for an SPI */
	expect(xt_a, IKEV2_EXCHANGE_CREATE_CHILD_SA, 1);
	if (!late) {
		xt_kernel_run(xt_b);	/* B answers A's child */
		xt_deliver(xt_a);	/* B's rekey done */
	} else {
		xt_deliver(xt_a);	/* B's rekey done, DELETE of the old */
		xt_kernel_run(xt_b);	/* B answers A's child */
		xt_hold(xt_b);		/* the DELETE after the answer */
	}
	xt_run();
	ATF_CHECK_EQ(xt_nikesa(xt_a), 1);
	ATF_CHECK_EQ(xt_nikesa(xt_b), 1);
	check_pairs(2);
	check_established();
	xt_teardown();
}

ATF_TC_WITHOUT_HEAD(child_vs_ike_rekey_initiator);
ATF_TC_BODY(child_vs_ike_rekey_initiator, tc)
{
	child_vs_ike_rekey(0);
}

ATF_TC_WITHOUT_HEAD(child_vs_ike_rekey_responder);
ATF_TC_BODY(child_vs_ike_rekey_responder, tc)
{
	child_vs_ike_rekey(1);
}

/* %%% 10b. Simultaneous IKE SA rekeys (RFC 7296 2.8.2) */

/*
 * xt_run(), counting the INFORMATIONAL requests p sends on the IKE SA
 * whose SPIi is ispi.
 */
static u_int
run_count_delete(struct xt_peer *p, const uint8_t *ispi)
{
	const struct xt_dgram	*dg;
	struct xt_peer		*q;
	u_int			 n = 0, side, rounds = 0;
	int			 moved, r;

	do {
		moved = 0;
		for (side = 0; side < 2; side++) {
			q = side == 0 ? xt_a : xt_b;
			if (xt_kernel_pending(q) > 0) {
				xt_kernel_run(q);
				moved = 1;
			}
		}
		for (side = 0; side < 2; side++) {
			q = side == 0 ? xt_a : xt_b;
			if ((dg = xt_peek(q)) == NULL)
				continue;
			if (q == p && xt_dgram_exch(dg, &r, NULL) ==
			    IKEV2_EXCHANGE_INFORMATIONAL && !r &&
			    dg->dg_len >= 8 && memcmp(dg->dg_buf, ispi, 8) == 0)
				n++;
			xt_deliver(q);
			moved = 1;
		}
		ATF_REQUIRE_MSG(++rounds < 1000, "the peers never settle");
	} while (moved);
	return (n);
}

/*
 * A and B rekey the IKE SA at once (both lifetime timers fire), with
 * two child pairs on it.  Crossing (late 0): both exchanges succeed and
 * the nonces decide, as for children: awins says A's new IKE SA stays
 * (B's exchange holds the lowest nonce), and B deletes its own new SA
 * with a DELETE on it.  late 1: B's request is lost once; A's exchange
 * completes first, A deletes the old SA, and B's retransmission meets
 * TEMPORARY_FAILURE (or the DELETE first): A's SA stays whatever the
 * nonces.  late 2: the same, A's DELETE lost once, so B sees the
 * TEMPORARY_FAILURE first.  Either way one IKE SA is left on each side,
 * the same, carrying both pairs unchanged.
 */
static void
ike_collide(int awins, int late)
{
	struct xt_peer	*winner, *loser;
	uint8_t		 oldi[8], ai[8], bi[8], keepi[8], loseri[8];
	uint32_t	 cin[2];
	u_int		 i;

	setup(conf_a, conf_b);
	establish();
	xt_acquire(xt_a, 2, 3);
	xt_run();
	check_pairs(2);
	for (i = 0; i < 2; i++)
		cin[i] = xt_child_nth(xt_a, i)->ch_spi_in;
	memcpy(oldi, xt_ikesa(xt_a)->sa_ispi, 8);
	/* Each peer draws its Ni, then its Nr for the other's rekey. */
	xt_nonce(xt_a, awins ? 0x80 : 0x10);
	xt_nonce(xt_a, awins ? 0x20 : 0x90);
	xt_nonce(xt_b, awins ? 0x10 : 0x80);
	xt_nonce(xt_b, awins ? 0x90 : 0x20);
	xt_fire(xt_a, xt_ikesa(xt_a)->sa_timer);
	xt_fire(xt_b, xt_ikesa(xt_b)->sa_timer);
	expect(xt_a, IKEV2_EXCHANGE_CREATE_CHILD_SA, 0);
	expect(xt_b, IKEV2_EXCHANGE_CREATE_CHILD_SA, 0);
	ATF_REQUIRE(xt_ikesa(xt_a)->sa_rekey != NULL);
	ATF_REQUIRE(xt_ikesa(xt_b)->sa_rekey != NULL);
	memcpy(ai, xt_ikesa(xt_a)->sa_rekey->sa_ispi, 8);
	memcpy(bi, xt_ikesa(xt_b)->sa_rekey->sa_ispi, 8);
	winner = awins || late ? xt_a : xt_b;
	loser = winner == xt_a ? xt_b : xt_a;
	memcpy(keepi, winner == xt_a ? ai : bi, 8);
	memcpy(loseri, winner == xt_a ? bi : ai, 8);
	if (late) {
		xt_drop(xt_b);
		xt_deliver(xt_a);	/* B answers, its own rekey out */
		xt_deliver(xt_b);	/* A's exchange done */
		ATF_CHECK(xt_ikesa(xt_a)->sa_rekeyed);
		expect(xt_a, IKEV2_EXCHANGE_INFORMATIONAL, 0);
		if (late == 2) {
			xt_drop(xt_a);	/* A's DELETE of the old SA */
			xt_fire(xt_b, retransmit_timer(xt_b));
			xt_deliver(xt_b);	/* late: TEMPORARY_FAILURE */
			xt_deliver(xt_a);
			/* B moved the pairs to A's SA; the old one waits. */
			ATF_CHECK_EQ(xt_ikesa(xt_b)->sa_rekey_peer, NULL);
			ATF_CHECK(TAILQ_EMPTY(&xt_ikesa(xt_b)->sa_children));
			xt_fire(xt_a, retransmit_timer(xt_a));
		} else
			xt_fire(xt_b, retransmit_timer(xt_b));
		ATF_CHECK_EQ(run_count_delete(winner, oldi), 1);
	} else {
		/* The redundant new SA goes by its creator's DELETE on it. */
		ATF_CHECK_EQ_MSG(run_count_delete(loser, loseri), 1,
		    "%s did not delete its redundant IKE SA", loser->p_name);
	}
	ATF_CHECK_EQ(xt_nikesa(xt_a), 1);
	ATF_CHECK_EQ(xt_nikesa(xt_b), 1);
	check_established();
	ATF_CHECK_MSG(memcmp(xt_ikesa(xt_a)->sa_ispi, keepi, 8) == 0,
	    "A's IKE SA is not %s's new one", winner->p_name);
	ATF_CHECK(memcmp(xt_ikesa(xt_a)->sa_ispi, xt_ikesa(xt_b)->sa_ispi,
	    8) == 0);
	ATF_CHECK(xt_ikesa(xt_a)->sa_rekey == NULL &&
	    xt_ikesa(xt_a)->sa_rekey_peer == NULL);
	ATF_CHECK(xt_ikesa(xt_b)->sa_rekey == NULL &&
	    xt_ikesa(xt_b)->sa_rekey_peer == NULL);
	/* No pair lost or replaced: the same SAs, on the surviving SA. */
	check_pairs(2);
	for (i = 0; i < 2; i++)
		ATF_CHECK(xt_sad_find(xt_a, cin[i], 0) != NULL);
	ATF_CHECK_EQ(xt_a->p_nacqfail + xt_b->p_nacqfail, 0);
	/* The survivor carries exchanges: liveness, then a new child. */
	xt_fire(xt_b, xt_ikesa(xt_b)->sa_dpdtimer);
	expect(xt_b, IKEV2_EXCHANGE_INFORMATIONAL, 0);
	xt_run();
	check_pairs(2);
	ATF_CHECK_EQ(xt_nikesa(xt_a), 1);
	ATF_CHECK_EQ(xt_nikesa(xt_b), 1);
	xt_teardown();
}

ATF_TC_WITHOUT_HEAD(ike_rekey_collision_a_wins);
ATF_TC_BODY(ike_rekey_collision_a_wins, tc)
{
	ike_collide(1, 0);
}

ATF_TC_WITHOUT_HEAD(ike_rekey_collision_b_wins);
ATF_TC_BODY(ike_rekey_collision_b_wins, tc)
{
	ike_collide(0, 0);
}

/* B's exchange would hold the highest nonce: A's still stays. */
ATF_TC_WITHOUT_HEAD(ike_rekey_collision_late);
ATF_TC_BODY(ike_rekey_collision_late, tc)
{
	ike_collide(0, 1);
}

ATF_TC_WITHOUT_HEAD(ike_rekey_collision_late_refused);
ATF_TC_BODY(ike_rekey_collision_late_refused, tc)
{
	ike_collide(0, 2);
}

/* p's IKE SA whose SPIi is ispi, or NULL. */
static struct iked_sa *
ikesa_byispi(struct xt_peer *p, const uint8_t *ispi)
{
	struct iked_sa	*sa;

	TAILQ_FOREACH(sa, &p->p_env.sc_sas, sa_entry)
		if (memcmp(sa->sa_ispi, ispi, 8) == 0)
			return (sa);
	return (NULL);
}

/* Nothing in flight: no datagram queued, no request retransmitted. */
static void
check_quiet(void)
{
	struct xt_peer	*p;
	struct iked_sa	*sa;
	u_int		 side;

	for (side = 0; side < 2; side++) {
		p = side == 0 ? xt_a : xt_b;
		ATF_CHECK_EQ_MSG(xt_queued(p), 0, "%s: %u datagrams queued",
		    p->p_name, xt_queued(p));
		TAILQ_FOREACH(sa, &p->p_env.sc_sas, sa_entry) {
			ATF_CHECK_MSG(!sa->sa_busy, "%s: a request is out",
			    p->p_name);
			ATF_CHECK_MSG(sa->sa_tx.tx_ev == NULL ||
			    !event_pending(sa->sa_tx.tx_ev, EV_TIMEOUT, NULL),
			    "%s: a request is still retransmitted", p->p_name);
		}
	}
}

/* The INFORMATIONAL responses p has queued on the IKE SA ispi. */
static u_int
count_info_resp(struct xt_peer *p, const uint8_t *ispi)
{
	const struct xt_dgram	*dg;
	u_int			 n = 0;
	int			 r;

	TAILQ_FOREACH(dg, &p->p_out, dg_entry)
		if (xt_dgram_exch(dg, &r, NULL) ==
		    IKEV2_EXCHANGE_INFORMATIONAL && r &&
		    memcmp(dg->dg_buf, ispi, 8) == 0)
			n++;
	return (n);
}

/*
 * p still holds the peer-made IKE SA ispi, childless: it must go soon,
 * not at the end of its lifetime.  Its timer fires (the wait is over),
 * then the exchanges run.
 */
static void
end_redundant(struct xt_peer *p, const uint8_t *ispi)
{
	struct iked_sa	*sa;
	struct timeval	 tv, now;

	if ((sa = ikesa_byispi(p, ispi)) == NULL)
		return;
	ATF_CHECK(!sa->sa_initiator);
	ATF_CHECK(TAILQ_EMPTY(&sa->sa_children));
	ATF_REQUIRE_MSG(event_pending(sa->sa_timer, EV_TIMEOUT, &tv),
	    "%s: the redundant IKE SA has no timer", p->p_name);
	ATF_REQUIRE(evutil_gettimeofday(&now, NULL) == 0);
	ATF_CHECK_MSG(tv.tv_sec - now.tv_sec <= 60, "%s keeps the redundant "
	    "IKE SA for %lld s", p->p_name,
	    (long long)(tv.tv_sec - now.tv_sec));
	xt_fire(p, sa->sa_timer);
	/* Its DELETE on it, sent once: the peer may not know it. */
	expect(p, IKEV2_EXCHANGE_INFORMATIONAL, 0);
	ATF_CHECK(memcmp(xt_peek(p)->dg_buf, ispi, 8) == 0);
	ATF_CHECK(ikesa_byispi(p, ispi) == NULL);
	xt_run();
}

/*
 * Both peers rekey the IKE SA at once and each answers the other.  The
 * winner (awins: A; the loser's exchange holds the lowest nonce) has
 * its response first and deletes the old SA.  crossdel 0: that DELETE
 * overtakes the winner's answer to the loser's rekey: the loser, its
 * rekey unanswered, forgets it (RFC 7296 2.25.2), and the answer that
 * follows meets no SA; the loser can never delete its redundant new
 * SA.  crossdel 1: the answer comes first, but the loser's DELETE of
 * its redundant SA is held back until the winner deleted that SA too.
 * Either way: one IKE SA left on each side, the winner's, the same,
 * carrying both pairs unchanged, nothing half made, nothing left to
 * retransmit, and the survivor works (liveness, another rekey).
 */
static void
ike_collide_deleted(int awins, int crossdel)
{
	struct xt_peer	*winner, *loser, *p;
	struct iked_sa	*sa;
	uint8_t		 oldi[8], keepi[8], loseri[8];
	uint32_t	 cin[2];
	u_int		 i, side;

	setup(conf_a, conf_b);
	establish();
	xt_acquire(xt_a, 2, 3);
	xt_run();
	check_pairs(2);
	for (i = 0; i < 2; i++)
		cin[i] = xt_child_nth(xt_a, i)->ch_spi_in;
	memcpy(oldi, xt_ikesa(xt_a)->sa_ispi, 8);
	winner = awins ? xt_a : xt_b;
	loser = awins ? xt_b : xt_a;
	/* Each peer draws its Ni, then its Nr for the other's rekey. */
	xt_nonce(winner, 0x80);
	xt_nonce(winner, 0x20);
	xt_nonce(loser, 0x10);
	xt_nonce(loser, 0x90);
	xt_fire(xt_a, xt_ikesa(xt_a)->sa_timer);
	xt_fire(xt_b, xt_ikesa(xt_b)->sa_timer);
	expect(xt_a, IKEV2_EXCHANGE_CREATE_CHILD_SA, 0);
	expect(xt_b, IKEV2_EXCHANGE_CREATE_CHILD_SA, 0);
	ATF_REQUIRE(xt_ikesa(winner)->sa_rekey != NULL);
	ATF_REQUIRE(xt_ikesa(loser)->sa_rekey != NULL);
	memcpy(keepi, xt_ikesa(winner)->sa_rekey->sa_ispi, 8);
	memcpy(loseri, xt_ikesa(loser)->sa_rekey->sa_ispi, 8);
	xt_deliver(winner);	/* the loser answers the winner's rekey */
	xt_deliver(loser);	/* the winner answers the loser's */
	ATF_REQUIRE(xt_ikesa(winner)->sa_rekey_peer != NULL);
	expect(loser, IKEV2_EXCHANGE_CREATE_CHILD_SA, 1);
	xt_deliver(loser);	/* the winner's exchange is done */
	ATF_CHECK(xt_ikesa(winner)->sa_rekeyed);
	/* Out: its answer to the loser's rekey, its DELETE of the old SA. */
	ATF_REQUIRE_EQ(xt_queued(winner), 2);
	expect(winner, IKEV2_EXCHANGE_CREATE_CHILD_SA, 1);
	if (crossdel) {
		xt_deliver(winner);	/* the loser's exchange is done */
		ATF_CHECK(xt_ikesa(loser)->sa_rekeyed);
		/* Its DELETE of its redundant SA waits in the network. */
		expect(loser, IKEV2_EXCHANGE_INFORMATIONAL, 0);
		ATF_REQUIRE(xt_queued(loser) == 1 &&
		    memcmp(xt_peek(loser)->dg_buf, loseri, 8) == 0);
		ATF_REQUIRE((sa = ikesa_byispi(winner, loseri)) != NULL);
		xt_fire(winner, sa->sa_timer);
		/* The winner's DELETE of it crosses the loser's. */
		ATF_CHECK(ikesa_byispi(winner, loseri) == NULL);
		while (xt_queued(winner) > 0)
			xt_deliver(winner);
		/* Answered: the loser deletes it and stops retransmitting. */
		ATF_CHECK(ikesa_byispi(loser, loseri) == NULL);
		ATF_CHECK_EQ(count_info_resp(loser, loseri), 1);
	} else {
		xt_hold(winner);
		expect(winner, IKEV2_EXCHANGE_INFORMATIONAL, 0);
		xt_deliver(winner);	/* the DELETE overtakes the answer */
		/* The loser gave its rekey up: the pairs are on keepi. */
		ATF_CHECK(ikesa_byispi(loser, oldi) == NULL);
		ATF_CHECK(ikesa_byispi(loser, loseri) == NULL);
		ATF_CHECK_EQ(xt_nikesa(loser), 1);
		ATF_CHECK_EQ(xt_nchildren(loser, CH_S_INSTALLED), 2);
		ATF_CHECK(xt_ikesa(loser)->sa_rekey == NULL &&
		    xt_ikesa(loser)->sa_rekey_peer == NULL);
	}
	xt_run();
	end_redundant(winner, loseri);
	ATF_CHECK_EQ(xt_nikesa(xt_a), 1);
	ATF_CHECK_EQ(xt_nikesa(xt_b), 1);
	check_established();
	ATF_CHECK_MSG(memcmp(xt_ikesa(xt_a)->sa_ispi, keepi, 8) == 0,
	    "the IKE SA left is not %s's new one", winner->p_name);
	ATF_CHECK(memcmp(xt_ikesa(xt_a)->sa_ispi, xt_ikesa(xt_b)->sa_ispi,
	    8) == 0);
	for (side = 0; side < 2; side++) {
		p = side == 0 ? xt_a : xt_b;
		sa = xt_ikesa(p);
		ATF_CHECK_MSG(sa->sa_rekey == NULL && sa->sa_rekey_peer ==
		    NULL && !sa->sa_rekeyed && !sa->sa_rekeywait,
		    "%s: rekey state left on the survivor", p->p_name);
		ATF_CHECK_EQ(halfopen_count(&p->p_env, 1) +
		    halfopen_count(&p->p_env, 2), 0);
	}
	check_quiet();
	/* No pair lost or replaced: the same SAs, on the surviving SA. */
	check_pairs(2);
	for (i = 0; i < 2; i++)
		ATF_CHECK(xt_sad_find(xt_a, cin[i], 0) != NULL);
	ATF_CHECK_EQ(xt_a->p_nacqfail + xt_b->p_nacqfail, 0);
	/* The survivor carries exchanges: liveness, then a rekey. */
	xt_fire(loser, xt_ikesa(loser)->sa_dpdtimer);
	expect(loser, IKEV2_EXCHANGE_INFORMATIONAL, 0);
	xt_run();
	check_pairs(2);
	xt_fire(loser, xt_ikesa(loser)->sa_timer);
	expect(loser, IKEV2_EXCHANGE_CREATE_CHILD_SA, 0);
	xt_run();
	ATF_CHECK_EQ(xt_nikesa(xt_a), 1);
	ATF_CHECK_EQ(xt_nikesa(xt_b), 1);
	check_established();
	ATF_CHECK(memcmp(xt_ikesa(xt_a)->sa_ispi, keepi, 8) != 0);
	check_pairs(2);
	check_quiet();
	xt_teardown();
}

ATF_TC_WITHOUT_HEAD(ike_rekey_collision_deleted_a_wins);
ATF_TC_BODY(ike_rekey_collision_deleted_a_wins, tc)
{
	ike_collide_deleted(1, 0);
}

ATF_TC_WITHOUT_HEAD(ike_rekey_collision_deleted_b_wins);
ATF_TC_BODY(ike_rekey_collision_deleted_b_wins, tc)
{
	ike_collide_deleted(0, 0);
}

ATF_TC_WITHOUT_HEAD(ike_rekey_collision_crossed_delete);
ATF_TC_BODY(ike_rekey_collision_crossed_delete, tc)
{
	ike_collide_deleted(1, 1);
}

/*
 * Both peers delete the IKE SA at once: the DELETEs cross, each is
 * answered (an empty INFORMATIONAL), and nothing is left or pending.
 */
ATF_TC_WITHOUT_HEAD(delete_ike_sa_crossed);
ATF_TC_BODY(delete_ike_sa_crossed, tc)
{
	setup(conf_a, conf_b);
	establish();
	ikesa_send_delete(xt_ikesa(xt_a), NULL);
	ikesa_send_delete(xt_ikesa(xt_b), NULL);
	expect(xt_a, IKEV2_EXCHANGE_INFORMATIONAL, 0);
	expect(xt_b, IKEV2_EXCHANGE_INFORMATIONAL, 0);
	xt_deliver(xt_a);
	expect(xt_b, IKEV2_EXCHANGE_INFORMATIONAL, 0);	/* B's DELETE */
	xt_deliver(xt_b);
	expect(xt_a, IKEV2_EXCHANGE_INFORMATIONAL, 1);	/* A answers it */
	expect(xt_b, IKEV2_EXCHANGE_INFORMATIONAL, 1);	/* B answered A's */
	xt_run();
	ATF_CHECK_EQ(xt_nikesa(xt_a), 0);
	ATF_CHECK_EQ(xt_nikesa(xt_b), 0);
	ATF_CHECK_EQ(xt_sad_count(xt_a, 0, -1) + xt_sad_count(xt_a, 1, 0), 0);
	ATF_CHECK_EQ(xt_sad_count(xt_b, 0, -1) + xt_sad_count(xt_b, 1, 0), 0);
	check_quiet();
	xt_teardown();
}

/*
 * A rekeys the IKE SA while B deletes it: the requests cross.  B,
 * closing it, answers the rekey with TEMPORARY_FAILURE; A's unanswered
 * new SA goes with the old one.  delfirst: B's DELETE reaches A before
 * A's request reaches B.  Nothing is left on either side.
 */
static void
ike_rekey_delete(int delfirst)
{
	setup(conf_a, conf_b);
	establish();
	xt_acquire(xt_a, 2, 3);
	xt_run();
	check_pairs(2);
	xt_fire(xt_a, xt_ikesa(xt_a)->sa_timer);
	ikesa_send_delete(xt_ikesa(xt_b), NULL);
	expect(xt_a, IKEV2_EXCHANGE_CREATE_CHILD_SA, 0);
	expect(xt_b, IKEV2_EXCHANGE_INFORMATIONAL, 0);
	if (delfirst)
		xt_deliver(xt_b);
	xt_run();
	ATF_CHECK_EQ(xt_nikesa(xt_a), 0);
	ATF_CHECK_EQ(xt_nikesa(xt_b), 0);
	ATF_CHECK_EQ(xt_sad_count(xt_a, 0, -1) + xt_sad_count(xt_a, 1, 0), 0);
	ATF_CHECK_EQ(xt_sad_count(xt_b, 0, -1) + xt_sad_count(xt_b, 1, 0), 0);
	ATF_CHECK_EQ(xt_a->p_kerrors + xt_b->p_kerrors, 0);
	xt_teardown();
}

ATF_TC_WITHOUT_HEAD(ike_rekey_vs_delete);
ATF_TC_BODY(ike_rekey_vs_delete, tc)
{
	ike_rekey_delete(0);
}

ATF_TC_WITHOUT_HEAD(ike_delete_vs_rekey);
ATF_TC_BODY(ike_delete_vs_rekey, tc)
{
	ike_rekey_delete(1);
}

/*
 * The IKE SA's rekey falls due while a child's CREATE_CHILD_SA is out:
 * with a window of 1 it waits for that answer, then goes at once (not
 * a tenth of the lifetime later), and the new child moves with the
 * others.
 */
ATF_TC_WITHOUT_HEAD(ike_rekey_window);
ATF_TC_BODY(ike_rekey_window, tc)
{
	uint8_t	 oldi[8];

	setup(conf_a, conf_b);
	establish();
	memcpy(oldi, xt_ikesa(xt_a)->sa_ispi, 8);
	xt_acquire(xt_a, 2, 3);
	xt_kernel_run(xt_a);
	expect(xt_a, IKEV2_EXCHANGE_CREATE_CHILD_SA, 0);
	xt_fire(xt_a, xt_ikesa(xt_a)->sa_timer);
	/* Nothing more goes out yet: the child's request is unanswered. */
	ATF_CHECK_EQ(xt_queued(xt_a), 1);
	ATF_CHECK_EQ(xt_nikesa(xt_a), 1);
	ATF_CHECK(xt_ikesa(xt_a)->sa_rekey == NULL);
	xt_deliver(xt_a);
	xt_kernel_run(xt_b);
	xt_deliver(xt_b);		/* the child's answer */
	/* The rekey follows it at once. */
	expect(xt_a, IKEV2_EXCHANGE_CREATE_CHILD_SA, 0);
	ATF_CHECK(xt_ikesa(xt_a)->sa_rekey != NULL);
	xt_run();
	ATF_CHECK_EQ(xt_nikesa(xt_a), 1);
	ATF_CHECK_EQ(xt_nikesa(xt_b), 1);
	ATF_CHECK(memcmp(xt_ikesa(xt_a)->sa_ispi, oldi, 8) != 0);
	check_established();
	ATF_CHECK(memcmp(xt_ikesa(xt_a)->sa_ispi, xt_ikesa(xt_b)->sa_ispi,
	    8) == 0);
	check_pairs(2);
	xt_teardown();
}

/* %%% 11. Fragmentation (RFC 7383) */

static const char conf_fa[] =
    "set fragmentation\nset fragment_size 150\n"
    "ikev2 \"a\" active esp tunnel from 10.1.0.0/16 to 10.2.0.0/16 "
    "local 192.0.2.1 peer 192.0.2.2 " IKE_A CHILD PSK;
static const char conf_fb[] =
    "set fragmentation\nset fragment_size 150\n"
    "ikev2 \"b\" active esp tunnel from 10.2.0.0/16 to 10.1.0.0/16 "
    "local 192.0.2.2 peer 192.0.2.1 " IKE_A CHILD PSK;

/*
 * With a 150-byte limit IKE_AUTH goes in fragments both ways and is
 * reassembled; one lost fragment makes the whole request go again, and
 * a retransmitted first fragment of an answered request gets the whole
 * response again.  Without "set fragmentation" on one side, nothing is
 * fragmented.
 */
ATF_TC_WITHOUT_HEAD(fragments);
ATF_TC_BODY(fragments, tc)
{
	u_int	 n;

	setup(conf_fa, conf_fb);
	xt_acquire(xt_a, 1, 1);
	xt_deliver(xt_a);		/* IKE_SA_INIT, never fragmented */
	xt_deliver(xt_b);
	xt_kernel_run(xt_a);
	n = xt_queued(xt_a);
	ATF_CHECK_MSG(n > 1, "IKE_AUTH in %u datagram(s)", n);
	/* The second fragment is lost: B waits, A sends all again. */
	xt_deliver(xt_a);
	xt_drop(xt_a);
	while (xt_queued(xt_a) > 0)
		xt_deliver(xt_a);
	ATF_CHECK_EQ(xt_queued(xt_b), 0);
	xt_fire(xt_a, retransmit_timer(xt_a));
	ATF_CHECK_EQ(xt_queued(xt_a), n);
	while (xt_queued(xt_a) > 0)
		xt_deliver(xt_a);
	xt_kernel_run(xt_b);
	ATF_CHECK_MSG(xt_queued(xt_b) > 1, "the response is not fragmented");
	xt_run();
	check_established();
	check_pairs(1);
	xt_teardown();

	/* One side without it: IKE_AUTH goes whole. */
	setup(conf_fa, conf_b);
	xt_acquire(xt_a, 1, 1);
	xt_deliver(xt_a);
	xt_deliver(xt_b);
	xt_kernel_run(xt_a);
	ATF_CHECK_EQ(xt_queued(xt_a), 1);
	xt_run();
	check_established();
	xt_teardown();
}

/* %%% 12. Late answers and restarts: nothing freed while reachable */

/*
 * A child's timer (60 s) falls due while the request carrying it is
 * still retransmitted (up to 63 s): the request, not the timer, decides
 * the child's fate, and the late answer installs the pair on both
 * sides.  A child of CREATE_CHILD_SA ...
 */
ATF_TC_WITHOUT_HEAD(child_timeout_ccsa_out);
ATF_TC_BODY(child_timeout_ccsa_out, tc)
{
	struct iked_child	*ch;

	setup(conf_a, conf_b);
	establish();
	xt_acquire(xt_a, 2, 3);
	xt_kernel_run(xt_a);
	expect(xt_a, IKEV2_EXCHANGE_CREATE_CHILD_SA, 0);
	ATF_REQUIRE((ch = xt_child_nth(xt_a, 1)) != NULL);
	ATF_REQUIRE_EQ(ch->ch_state, CH_S_SENT);
	xt_deliver(xt_a);
	xt_kernel_run(xt_b);
	expect(xt_b, IKEV2_EXCHANGE_CREATE_CHILD_SA, 1);	/* delayed */
	xt_fire(xt_a, ch->ch_timer);
	xt_deliver(xt_b);
	xt_run();
	check_established();
	check_pairs(2);
	ATF_CHECK_EQ(xt_child_nth(xt_a, 1)->ch_spid, 3);
	ATF_CHECK_EQ(xt_a->p_nacqfail, 0);
	check_quiet();
	/* The IKE SA carries the next exchange. */
	xt_fire(xt_a, xt_ikesa(xt_a)->sa_dpdtimer);
	expect(xt_a, IKEV2_EXCHANGE_INFORMATIONAL, 0);
	xt_run();
	check_pairs(2);
	check_quiet();
	xt_teardown();
}

/* ... and the first child, of IKE_AUTH. */
ATF_TC_WITHOUT_HEAD(child_timeout_auth_out);
ATF_TC_BODY(child_timeout_auth_out, tc)
{
	struct iked_child	*ch;

	setup(conf_a, conf_b);
	xt_acquire(xt_a, 1, 1);
	xt_deliver(xt_a);
	xt_deliver(xt_b);
	xt_kernel_run(xt_a);
	expect(xt_a, IKEV2_EXCHANGE_IKE_AUTH, 0);
	ATF_REQUIRE((ch = xt_child_nth(xt_a, 0)) != NULL);
	ATF_REQUIRE_EQ(ch->ch_state, CH_S_SENT);
	xt_deliver(xt_a);
	xt_kernel_run(xt_b);
	expect(xt_b, IKEV2_EXCHANGE_IKE_AUTH, 1);	/* delayed */
	xt_fire(xt_a, ch->ch_timer);
	xt_deliver(xt_b);
	xt_run();
	check_established();
	check_pairs(1);
	ATF_CHECK_EQ(xt_a->p_nacqfail, 0);
	check_quiet();
	xt_teardown();
}

/*
 * The child is freed while its CREATE_CHILD_SA is out (here the kernel
 * drops its larval SA: a hard EXPIRE): the request forgets it, and its
 * late answer makes A delete the pair B made for it.  Each side is left
 * with the first pair only.
 */
ATF_TC_WITHOUT_HEAD(child_freed_ccsa_out);
ATF_TC_BODY(child_freed_ccsa_out, tc)
{
	struct iked_child	*ch;

	setup(conf_a, conf_b);
	establish();
	xt_acquire(xt_a, 2, 3);
	xt_kernel_run(xt_a);
	expect(xt_a, IKEV2_EXCHANGE_CREATE_CHILD_SA, 0);
	ATF_REQUIRE((ch = xt_child_nth(xt_a, 1)) != NULL);
	xt_deliver(xt_a);
	xt_kernel_run(xt_b);
	expect(xt_b, IKEV2_EXCHANGE_CREATE_CHILD_SA, 1);	/* delayed */
	xt_expire(xt_a, ch->ch_spi_in, 1);
	ATF_REQUIRE_EQ(xt_nchildren(xt_a, 0), 1);
	xt_deliver(xt_b);
	expect(xt_a, IKEV2_EXCHANGE_INFORMATIONAL, 0);
	xt_run();
	check_established();
	check_pairs(1);
	check_quiet();
	xt_teardown();
}

/*
 * p's iked restarts: at its exit it takes its SAs out of its kernel
 * (its DELETEs are lost), and it starts again knowing nothing.
 */
static void
restart(struct xt_peer *p)
{
	xt_enter(p);
	p->p_env.sc_exiting = 1;
	iked_shutdown_sas(&p->p_env);
	p->p_env.sc_exiting = 0;
	xt_drop_all(p);
	ATF_REQUIRE_EQ(xt_nikesa(p), 0);
}

/*
 * B restarts while A's rekey of their IKE SA is out (lost): B's new
 * IKE SA says INITIAL_CONTACT, and A forgets every older SA with B, the
 * old IKE SA and the half-made one of its rekey with it.  One IKE SA
 * is left on each side, the new one, with the new pair only; A
 * retransmits nothing for the SAs it forgot.
 */
ATF_TC_WITHOUT_HEAD(initial_contact_rekey_out);
ATF_TC_BODY(initial_contact_rekey_out, tc)
{
	uint8_t		 oldi[8], rekeyi[8];

	setup(conf_a, conf_b);
	establish();
	memcpy(oldi, xt_ikesa(xt_a)->sa_ispi, 8);
	xt_fire(xt_a, xt_ikesa(xt_a)->sa_timer);
	expect(xt_a, IKEV2_EXCHANGE_CREATE_CHILD_SA, 0);
	ATF_REQUIRE(xt_ikesa(xt_a)->sa_rekey != NULL);
	memcpy(rekeyi, xt_ikesa(xt_a)->sa_rekey->sa_ispi, 8);
	xt_drop(xt_a);
	restart(xt_b);
	xt_acquire(xt_b, 1, 11);
	xt_run();
	ATF_CHECK(ikesa_byispi(xt_a, oldi) == NULL);
	ATF_CHECK(ikesa_byispi(xt_a, rekeyi) == NULL);
	check_established();
	ATF_CHECK_EQ(xt_ikesa(xt_a)->sa_initiator, 0);
	check_pairs(1);
	ATF_CHECK_EQ(halfopen_count(&xt_a->p_env, 1) +
	    halfopen_count(&xt_a->p_env, 2), 0);
	ATF_CHECK_EQ(halfopen_count(&xt_b->p_env, 1) +
	    halfopen_count(&xt_b->p_env, 2), 0);
	check_quiet();
	xt_teardown();
}

/* %%% Liveness */

/* A's liveness check is answered; the pair stays. */
ATF_TC_WITHOUT_HEAD(liveness);
ATF_TC_BODY(liveness, tc)
{
	setup(conf_a, conf_b);
	establish();
	xt_fire(xt_a, xt_ikesa(xt_a)->sa_dpdtimer);
	expect(xt_a, IKEV2_EXCHANGE_INFORMATIONAL, 0);
	xt_deliver(xt_a);
	expect(xt_b, IKEV2_EXCHANGE_INFORMATIONAL, 1);
	xt_deliver(xt_b);
	ATF_CHECK(!xt_ikesa(xt_a)->sa_busy);
	ATF_CHECK(event_pending(xt_ikesa(xt_a)->sa_dpdtimer, EV_TIMEOUT,
	    NULL));
	check_established();
	check_pairs(1);
	xt_teardown();
}

/*
 * B is gone: A's liveness check goes unanswered through every
 * retransmission, then A declares B dead and removes its SAs.
 */
ATF_TC_WITHOUT_HEAD(dead_peer);
ATF_TC_BODY(dead_peer, tc)
{
	int	 i;

	setup(conf_a, conf_b);
	establish();
	xt_fire(xt_a, xt_ikesa(xt_a)->sa_dpdtimer);
	for (i = 0; i < 5; i++) {
		xt_drop(xt_a);
		xt_fire(xt_a, retransmit_timer(xt_a));
	}
	xt_drop(xt_a);
	ATF_CHECK_EQ(xt_a->p_env.sc_stats.st_retransmits, 5);
	xt_fire(xt_a, retransmit_timer(xt_a));	/* gives up */
	ATF_CHECK_EQ(xt_queued(xt_a), 0);
	ATF_CHECK_EQ(xt_nikesa(xt_a), 0);
	ATF_CHECK_EQ(xt_sad_count(xt_a, 0, -1) + xt_sad_count(xt_a, 1, 0), 0);
	xt_teardown();
}

/*
 * set dpd_action restart: the pairs of a dead peer are negotiated again
 * at once, without waiting for the kernel to acquire them; the peer's
 * stale SAs go with the INITIAL_CONTACT of the new IKE SA.
 */
ATF_TC_WITHOUT_HEAD(dead_peer_restart);
ATF_TC_BODY(dead_peer_restart, tc)
{
	static const char conf_restart[] = "set dpd_action restart\n";
	char		 ca[1024];
	uint8_t		 old[8];
	int		 i;

	snprintf(ca, sizeof(ca), "%s%s", conf_restart, conf_a);
	setup(ca, conf_b);
	establish();
	memcpy(old, xt_ikesa(xt_a)->sa_ispi, 8);
	xt_fire(xt_a, xt_ikesa(xt_a)->sa_dpdtimer);
	for (i = 0; i < 6; i++) {
		xt_drop(xt_a);
		xt_fire(xt_a, retransmit_timer(xt_a));
	}
	/* Given up: the old pair is gone, a new IKE SA is on its way. */
	expect(xt_a, IKEV2_EXCHANGE_IKE_SA_INIT, 0);
	ATF_CHECK_EQ(xt_sad_count(xt_a, 0, 1), 0);
	ATF_CHECK_EQ(xt_a->p_nacqfail, 0);
	xt_run();
	check_established();
	check_pairs(1);
	ATF_CHECK(memcmp(xt_ikesa(xt_a)->sa_ispi, old, 8) != 0);
	xt_teardown();

	/* The default (trap): nothing is sent until the kernel asks. */
	setup(conf_a, conf_b);
	establish();
	xt_fire(xt_a, xt_ikesa(xt_a)->sa_dpdtimer);
	for (i = 0; i < 6; i++) {
		xt_drop(xt_a);
		xt_fire(xt_a, retransmit_timer(xt_a));
	}
	ATF_CHECK_EQ(xt_queued(xt_a), 0);
	ATF_CHECK_EQ(xt_nikesa(xt_a), 0);
	xt_teardown();
}

/*
 * %%% Public key authentication, ca.c in process (as iked -X): each
 * method of iked.conf(5), and each refusal, through real IKE_SA_INIT
 * and IKE_AUTH exchanges.
 */

#define CONF_CERT(name, from, to, local, peer, auth)			\
    "ikev2 \"" name "\" active esp tunnel from " from " to " to	\
    " local " local " peer " peer " " auth " " IKE_A CHILD "\n"

/* A store as the parent would fill it: CA (and CRL), our key and cert. */
static struct ca_store *
xt_store(X509 *ca, EVP_PKEY *key, X509 *cert, const char *name,
    X509 *inter, X509_CRL *crl)
{
	struct ca_store	*cs;

	ATF_REQUIRE((cs = ca_new()) != NULL);
	add(cs, CA_F_CA, "ca.crt", O_CERT, ca, 0);
	if (inter != NULL)
		add(cs, CA_F_CERT, "inter.crt", O_CERT, inter, 0);
	add(cs, CA_F_CERT, name, O_CERT, cert, 1);
	add(cs, CA_F_KEY, "local.key", O_KEY, key, 0);
	if (crl != NULL)
		add(cs, CA_F_CRL, "ca.crl", O_CRL, crl, 0);
	ATF_REQUIRE(ca_ready(cs) == 0);
	return (cs);
}

/* A and B with these stores and rules, A's ACQUIRE run to its end. */
static void
xt_cert_run(const char *authA, const char *authB, struct ca_store *ca,
    struct ca_store *cb)
{
	char	 confa[512], confb[512];

	snprintf(confa, sizeof(confa), CONF_CERT("a", "10.1.0.0/16",
	    "10.2.0.0/16", "192.0.2.1", "192.0.2.2", "%s"), authA);
	snprintf(confb, sizeof(confb), CONF_CERT("b", "10.2.0.0/16",
	    "10.1.0.0/16", "192.0.2.2", "192.0.2.1", "%s"), authB);
	setup(confa, confb);
	xt_a->p_env.sc_ca = ca;
	xt_b->p_env.sc_ca = cb;
	xt_acquire(xt_a, 1, 1);
	xt_run();
}

static const struct {
	const char	*key;		/* genkey() */
	const char	*auth;		/* the rules' keyword */
} certrows[] = {
	{ "rsa", "rsa" },
	{ "P-256", "ecdsa256" },
	{ "P-384", "ecdsa384" },
	{ "P-521", "ecdsa521" },
	{ "rsa", "rfc7427" },
	{ "rsa-pss", "rfc7427" },
	{ "P-256", "" },		/* the default: rfc7427 */
	{ "ED25519", "" },
	{ "ED448", "rfc7427" },
};

ATF_TC_WITHOUT_HEAD(cert_methods);
ATF_TC_BODY(cert_methods, tc)
{
	EVP_PKEY	*cakey, *ka, *kb;
	X509		*ca, *xa, *xb;
	struct ca_store	*sa, *sb;
	char		 auth[128];
	size_t		 i;

	cakey = genkey("P-256");
	ca = mkca(cakey, "XT CA");
	for (i = 0; i < sizeof(certrows) / sizeof(certrows[0]); i++) {
		ka = genkey(certrows[i].key);
		kb = genkey(certrows[i].key);
		xa = mkee(ka, "a.example", ca, cakey, 2);
		xb = mkee(kb, "b.example", ca, cakey, 3);
		sa = xt_store(ca, ka, xa, "a.example.crt", NULL, NULL);
		sb = xt_store(ca, kb, xb, "b.example.crt", NULL, NULL);
		snprintf(auth, sizeof(auth), "srcid a.example dstid b.example %s",
		    certrows[i].auth);
		xt_cert_run(auth, "srcid b.example dstid a.example", sa, sb);
		/* B's rule is the default: it takes what A's allows. */
		ATF_CHECK_EQ_MSG(xt_nikesa(xt_a), 1, "%s %s: A has no IKE SA",
		    certrows[i].key, certrows[i].auth);
		ATF_CHECK_EQ_MSG(xt_a->p_env.sc_stats.st_badauth +
		    xt_b->p_env.sc_stats.st_badauth, 0, "%s %s: refused",
		    certrows[i].key, certrows[i].auth);
		if (xt_nikesa(xt_a) == 1 && xt_nikesa(xt_b) == 1) {
			check_established();
			check_pairs(1);
		}
		xt_teardown();
		ca_free(sa);
		ca_free(sb);
		X509_free(xa);
		X509_free(xb);
		EVP_PKEY_free(ka);
		EVP_PKEY_free(kb);
	}
	X509_free(ca);
	EVP_PKEY_free(cakey);
}

/*
 * The ca's answers come through the event loop: each IKE SA waits for
 * its signature and its verdict without holding up the engine, a
 * retransmission meanwhile is not taken up twice, and an SA gone
 * before its answer leaves the answer nowhere to go.  Step by step,
 * with the answers handed over by auth_deliver() as the loop would.
 */
ATF_TC_WITHOUT_HEAD(cert_async);
ATF_TC_BODY(cert_async, tc)
{
	EVP_PKEY	*cakey, *ka, *kb;
	X509		*ca, *xa, *xb;
	struct ca_store	*sa, *sb;
	char		 confa[512], confb[512];
	int		 round;

	cakey = genkey("P-256");
	ca = mkca(cakey, "XT CA");
	ka = genkey("P-256");
	kb = genkey("P-256");
	xa = mkee(ka, "a.example", ca, cakey, 2);
	xb = mkee(kb, "b.example", ca, cakey, 3);
	snprintf(confa, sizeof(confa), CONF_CERT("a", "10.1.0.0/16",
	    "10.2.0.0/16", "192.0.2.1", "192.0.2.2", "%s"),
	    "srcid a.example dstid b.example");
	snprintf(confb, sizeof(confb), CONF_CERT("b", "10.2.0.0/16",
	    "10.1.0.0/16", "192.0.2.2", "192.0.2.1", "%s"),
	    "srcid b.example dstid a.example");
	for (round = 0; round < 3; round++) {
		sa = xt_store(ca, ka, xa, "a.example.crt", NULL, NULL);
		sb = xt_store(ca, kb, xb, "b.example.crt", NULL, NULL);
		setup(confa, confb);
		xt_a->p_env.sc_ca = sa;
		xt_b->p_env.sc_ca = sb;
		xt_acquire(xt_a, 1, 1);
		expect(xt_a, IKEV2_EXCHANGE_IKE_SA_INIT, 0);
		xt_deliver(xt_a);
		expect(xt_b, IKEV2_EXCHANGE_IKE_SA_INIT, 1);
		xt_deliver(xt_b);
		/* A asked for its signature with the GETSPI. */
		ATF_CHECK_EQ(auth_ready(&xt_a->p_env), 1);
		ATF_CHECK_EQ(xt_kernel_pending(xt_a), 1);
		xt_kernel_run(xt_a);
		ATF_CHECK_EQ_MSG(xt_queued(xt_a), 0, "IKE_AUTH went out "
		    "before its signature");
		if (round == 2) {
			/* A's SA goes while its signature is out. */
			ikesa_dead(xt_ikesa(xt_a), "dropped by the test");
			ATF_CHECK_EQ(xt_nikesa(xt_a), 0);
			xt_enter(xt_a);
			auth_deliver(&xt_a->p_env);
			ATF_CHECK_EQ(xt_queued(xt_a), 0);
			goto next;
		}
		xt_enter(xt_a);
		auth_deliver(&xt_a->p_env);
		expect(xt_a, IKEV2_EXCHANGE_IKE_AUTH, 0);
		/* B verifies A's AUTH: nothing answered meanwhile. */
		xt_deliver_copy(xt_a);
		ATF_CHECK_EQ(auth_ready(&xt_b->p_env), 1);
		ATF_CHECK_EQ(xt_queued(xt_b), 0);
		ATF_CHECK(xt_ikesa(xt_b)->sa_held != NULL);
		/* A's retransmission: dropped, not asked again. */
		xt_deliver(xt_a);
		ATF_CHECK_EQ(auth_ready(&xt_b->p_env), 1);
		ATF_CHECK_EQ(xt_queued(xt_b), 0);
		if (round == 1) {
			/* B's SA goes while its verdict is out. */
			ikesa_dead(xt_ikesa(xt_b), "dropped by the test");
			ATF_CHECK_EQ(xt_nikesa(xt_b), 0);
			xt_enter(xt_b);
			auth_deliver(&xt_b->p_env);
			ATF_CHECK_EQ(xt_queued(xt_b), 0);
			ATF_CHECK_EQ(xt_kernel_pending(xt_b), 0);
			goto next;
		}
		/* Verified, B's own AUTH signed with it; then its SPI. */
		xt_enter(xt_b);
		auth_deliver(&xt_b->p_env);
		ATF_CHECK_EQ(xt_ikesa(xt_b)->sa_peerok, 1);
		ATF_CHECK(xt_ikesa(xt_b)->sa_mysig != NULL);
		ATF_CHECK_EQ(xt_queued(xt_b), 0);
		ATF_CHECK_EQ(auth_ready(&xt_b->p_env), 0);
		ATF_CHECK_EQ(xt_kernel_pending(xt_b), 1);
		xt_kernel_run(xt_b);
		expect(xt_b, IKEV2_EXCHANGE_IKE_AUTH, 1);
		xt_deliver(xt_b);
		/* A's verdict on B's AUTH, then the child. */
		ATF_CHECK_EQ(auth_ready(&xt_a->p_env), 1);
		ATF_CHECK_EQ(xt_ikesa(xt_a)->sa_state, SA_S_V2_AUTH);
		xt_run();
		check_established();
		check_pairs(1);
		ATF_CHECK_EQ(xt_a->p_env.sc_stats.st_badauth +
		    xt_b->p_env.sc_stats.st_badauth, 0);
 next:
		xt_teardown();
		ca_free(sa);
		ca_free(sb);
	}
	X509_free(xa);
	X509_free(xb);
	X509_free(ca);
	EVP_PKEY_free(ka);
	EVP_PKEY_free(kb);
	EVP_PKEY_free(cakey);
}

/* The same in IKEv1's Main Mode: MM5 waits for SIG_I, MM6 for both. */
ATF_TC_WITHOUT_HEAD(cert_async_v1);
ATF_TC_BODY(cert_async_v1, tc)
{
	EVP_PKEY	*cakey, *ka, *kb;
	X509		*ca, *xa, *xb;
	struct ca_store	*sa, *sb;
	int		 round, i;
	static const char confa[] =
	    "ikev1 \"a\" active esp tunnel from 10.1.0.0/16 to 10.2.0.0/16 "
	    "local 192.0.2.1 peer 192.0.2.2 " MAIN_V1
	    "srcid a.example dstid b.example rsa\n";
	static const char confb[] =
	    "ikev1 \"b\" passive esp tunnel from 10.2.0.0/16 to 10.1.0.0/16 "
	    "local 192.0.2.2 peer 192.0.2.1 " MAIN_V1
	    "srcid b.example dstid a.example rsa\n";

	cakey = genkey("P-256");
	ca = mkca(cakey, "XT CA");
	ka = genkey("rsa");
	kb = genkey("rsa");
	xa = mkee(ka, "a.example", ca, cakey, 2);
	xb = mkee(kb, "b.example", ca, cakey, 3);
	for (round = 0; round < 2; round++) {
		sa = xt_store(ca, ka, xa, "a.example.crt", NULL, NULL);
		sb = xt_store(ca, kb, xb, "b.example.crt", NULL, NULL);
		setup(confa, confb);
		xt_a->p_env.sc_ca = sa;
		xt_b->p_env.sc_ca = sb;
		xt_acquire(xt_a, 1, 1);
		/* MM1 to MM4. */
		for (i = 0; i < 4; i++) {
			expect(i % 2 ? xt_b : xt_a, IKEV1_EXCHANGE_MAIN, 0);
			xt_deliver(i % 2 ? xt_b : xt_a);
		}
		/* MM5 waits for A's SIG_I. */
		ATF_CHECK_EQ(xt_queued(xt_a), 0);
		ATF_CHECK_EQ(auth_ready(&xt_a->p_env), 1);
		xt_enter(xt_a);
		auth_deliver(&xt_a->p_env);
		expect(xt_a, IKEV1_EXCHANGE_MAIN, 0);
		/* B verifies; A's retransmission meanwhile is dropped. */
		xt_deliver_copy(xt_a);
		ATF_CHECK_EQ(auth_ready(&xt_b->p_env), 1);
		ATF_CHECK(xt_ikesa(xt_b)->sa_held != NULL);
		xt_deliver(xt_a);
		ATF_CHECK_EQ(auth_ready(&xt_b->p_env), 1);
		ATF_CHECK_EQ(xt_queued(xt_b), 0);
		if (round == 1) {
			ikesa_dead(xt_ikesa(xt_b), "dropped by the test");
			ATF_CHECK_EQ(xt_nikesa(xt_b), 0);
			xt_enter(xt_b);
			auth_deliver(&xt_b->p_env);
			ATF_CHECK_EQ(xt_queued(xt_b), 0);
			goto next;
		}
		/* Verified, SIG_R signed with it: MM6. */
		xt_enter(xt_b);
		auth_deliver(&xt_b->p_env);
		ATF_CHECK_EQ(xt_ikesa(xt_b)->sa_peerok, 1);
		ATF_CHECK_EQ(auth_ready(&xt_b->p_env), 0);
		expect(xt_b, IKEV1_EXCHANGE_MAIN, 0);
		ATF_CHECK_EQ(xt_ikesa(xt_b)->sa_state, SA_S_ESTABLISHED);
		xt_deliver(xt_b);
		ATF_CHECK_EQ(auth_ready(&xt_a->p_env), 1);
		ATF_CHECK_EQ(xt_ikesa(xt_a)->sa_state, SA_S_MM5);
		xt_run();
		ATF_CHECK_EQ(xt_ikesa(xt_a)->sa_state, SA_S_ESTABLISHED);
		ATF_CHECK_EQ(xt_nchildren(xt_a, CH_S_INSTALLED), 1);
		ATF_CHECK_EQ(xt_nchildren(xt_b, CH_S_INSTALLED), 1);
		ATF_CHECK_EQ(xt_a->p_env.sc_stats.st_badauth +
		    xt_b->p_env.sc_stats.st_badauth, 0);
 next:
		xt_teardown();
		ca_free(sa);
		ca_free(sb);
	}
	X509_free(xa);
	X509_free(xb);
	X509_free(ca);
	EVP_PKEY_free(ka);
	EVP_PKEY_free(kb);
	EVP_PKEY_free(cakey);
}

/*
 * Refusals: a CA B does not trust, an expired certificate, a name that
 * is not B's dstid, a revoked certificate; and a chain through an
 * intermediate CA, accepted.
 */
ATF_TC_WITHOUT_HEAD(cert_refusals);
ATF_TC_BODY(cert_refusals, tc)
{
	struct certopt	 old = { .cn = "a.example", .san = "DNS:a.example",
	    .ku = "digitalSignature", .from = -3 * 86400, .to = -86400,
	    .serial = 4 };
	EVP_PKEY	*cakey, *otherkey, *ikey, *ka, *kb;
	X509		*ca, *other, *inter, *xa, *xb, *xo, *xexp, *xi;
	X509_CRL	*crl;
	struct ca_store	*sa, *sb;
	int		 k;

	cakey = genkey("P-256");
	otherkey = genkey("P-256");
	ikey = genkey("P-256");
	ka = genkey("P-256");
	kb = genkey("P-256");
	ca = mkca(cakey, "XT CA");
	other = mkca(otherkey, "Other CA");
	inter = mkinter(ikey, "XT Inter", ca, cakey);
	xa = mkee(ka, "a.example", ca, cakey, 2);
	xb = mkee(kb, "b.example", ca, cakey, 3);
	xo = mkee(ka, "a.example", other, otherkey, 2);
	xexp = mkcert(ka, ca, cakey, &old);
	xi = mkee(ka, "a.example", inter, ikey, 5);
	crl = mkcrl(ca, cakey, xa);

	for (k = 0; k < 5; k++) {
		sb = xt_store(ca, kb, xb, "b.example.crt", NULL,
		    k == 3 ? crl : NULL);
		switch (k) {
		case 0:		/* another CA */
			sa = xt_store(other, ka, xo, "a.example.crt", NULL,
			    NULL);
			break;
		case 1:		/* expired */
			sa = xt_store(ca, ka, xexp, "a.example.crt", NULL,
			    NULL);
			break;
		case 4:		/* through the intermediate: fine */
			sa = xt_store(ca, ka, xi, "a.example.crt", inter,
			    NULL);
			break;
		default:
			sa = xt_store(ca, ka, xa, "a.example.crt", NULL,
			    NULL);
			break;
		}
		xt_cert_run("srcid a.example dstid b.example", k == 2 ?
		    "srcid b.example dstid c.example" :
		    "srcid b.example dstid a.example", sa, sb);
		if (k == 4) {
			check_established();
			check_pairs(1);
			ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_badauth, 0);
		} else {
			ATF_CHECK_EQ_MSG(xt_b->p_env.sc_stats.st_badauth, 1,
			    "case %d: B did not refuse A", k);
			ATF_CHECK_EQ_MSG(xt_nikesa(xt_a) + xt_nikesa(xt_b), 0,
			    "case %d: an IKE SA is left", k);
			ATF_CHECK_EQ(xt_sad_count(xt_a, 0, 1), 0);
			ATF_CHECK_EQ(xt_sad_count(xt_b, 0, 1), 0);
			ATF_CHECK_EQ(xt_a->p_nacqfail, 1);
		}
		xt_teardown();
		ca_free(sa);
		ca_free(sb);
	}
	X509_CRL_free(crl);
	X509_free(xi);
	X509_free(xexp);
	X509_free(xo);
	X509_free(xb);
	X509_free(xa);
	X509_free(inter);
	X509_free(other);
	X509_free(ca);
	EVP_PKEY_free(kb);
	EVP_PKEY_free(ka);
	EVP_PKEY_free(ikey);
	EVP_PKEY_free(otherkey);
	EVP_PKEY_free(cakey);
}

/*
 * B trusts A, A does not trust B: A refuses B's IKE_AUTH answer after
 * B installed its child, and tells B, which deletes it (RFC 7296
 * 2.21.2): no SA is left on either side.
 */
ATF_TC_WITHOUT_HEAD(cert_initiator_refuses);
ATF_TC_BODY(cert_initiator_refuses, tc)
{
	EVP_PKEY	*cakey, *otherkey, *ka, *kb;
	X509		*ca, *other, *xa, *xb;
	struct ca_store	*sa, *sb;

	cakey = genkey("P-256");
	otherkey = genkey("P-256");
	ka = genkey("P-256");
	kb = genkey("P-256");
	ca = mkca(cakey, "XT CA");
	other = mkca(otherkey, "Other CA");
	xa = mkee(ka, "a.example", ca, cakey, 2);
	xb = mkee(kb, "b.example", other, otherkey, 3);
	sa = xt_store(ca, ka, xa, "a.example.crt", NULL, NULL);
	/* B trusts A's CA, and has its own certificate from the other. */
	sb = xt_store(ca, kb, xb, "b.example.crt", NULL, NULL);
	xt_cert_run("srcid a.example", "srcid b.example", sa, sb);
	ATF_CHECK_EQ(xt_a->p_env.sc_stats.st_badauth, 1);
	ATF_CHECK_EQ(xt_b->p_env.sc_stats.st_badauth, 1);
	ATF_CHECK_EQ(xt_nikesa(xt_a), 0);
	ATF_CHECK_EQ(xt_nikesa(xt_b), 0);
	ATF_CHECK_EQ(xt_sad_count(xt_b, 0, 1), 0);
	ATF_CHECK_EQ(xt_sad_count(xt_b, 0, 0), 0);
	xt_teardown();
	ca_free(sa);
	ca_free(sb);
	X509_free(xa);
	X509_free(xb);
	X509_free(ca);
	X509_free(other);
	EVP_PKEY_free(ka);
	EVP_PKEY_free(kb);
	EVP_PKEY_free(otherkey);
	EVP_PKEY_free(cakey);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, ike_auth);
	ATF_TP_ADD_TC(tp, cert_methods);
	ATF_TP_ADD_TC(tp, cert_refusals);
	ATF_TP_ADD_TC(tp, cert_async);
	ATF_TP_ADD_TC(tp, cert_async_v1);
	ATF_TP_ADD_TC(tp, cert_initiator_refuses);
	ATF_TP_ADD_TC(tp, identities);
	ATF_TP_ADD_TC(tp, identities_mismatch);
	ATF_TP_ADD_TC(tp, algorithms);
	ATF_TP_ADD_TC(tp, lost_once);
	ATF_TP_ADD_TC(tp, retransmit_while_getspi);
	ATF_TP_ADD_TC(tp, cookie);
	ATF_TP_ADD_TC(tp, halfopen_v1_evict);
	ATF_TP_ADD_TC(tp, halfopen_per_source);
	ATF_TP_ADD_TC(tp, halfopen_versions);
	ATF_TP_ADD_TC(tp, busy_admission);
	ATF_TP_ADD_TC(tp, busy_batch);
	ATF_TP_ADD_TC(tp, busy_versions);
	ATF_TP_ADD_TC(tp, cross_version_spis);
	ATF_TP_ADD_TC(tp, invalid_ke);
	ATF_TP_ADD_TC(tp, second_child);
	ATF_TP_ADD_TC(tp, rekey_child);
	ATF_TP_ADD_TC(tp, rekey_refused);
	ATF_TP_ADD_TC(tp, unanswered_child);
	ATF_TP_ADD_TC(tp, maxchildren);
	ATF_TP_ADD_TC(tp, maxchildren_v1);
	ATF_TP_ADD_TC(tp, esn_v2);
	ATF_TP_ADD_TC(tp, esn_v1);
	ATF_TP_ADD_TC(tp, larval_lost_initiator);
	ATF_TP_ADD_TC(tp, larval_lost_responder);
	ATF_TP_ADD_TC(tp, larval_lost_v1_initiator);
	ATF_TP_ADD_TC(tp, larval_lost_v1_responder);
	ATF_TP_ADD_TC(tp, phase1_renew);
	ATF_TP_ADD_TC(tp, rekey_collision_a_wins);
	ATF_TP_ADD_TC(tp, rekey_collision_b_wins);
	ATF_TP_ADD_TC(tp, rekey_collision_late);
	ATF_TP_ADD_TC(tp, rekey_collision_late_b_wins);
	ATF_TP_ADD_TC(tp, rekey_vs_delete);
	ATF_TP_ADD_TC(tp, delete_vs_rekey);
	ATF_TP_ADD_TC(tp, delete_after_rekey);
	ATF_TP_ADD_TC(tp, delete_ike_sa);
	ATF_TP_ADD_TC(tp, ike_rekey_initiator);
	ATF_TP_ADD_TC(tp, fragments);
	ATF_TP_ADD_TC(tp, ike_rekey_responder);
	ATF_TP_ADD_TC(tp, child_vs_ike_rekey_initiator);
	ATF_TP_ADD_TC(tp, child_vs_ike_rekey_responder);
	ATF_TP_ADD_TC(tp, ike_rekey_collision_a_wins);
	ATF_TP_ADD_TC(tp, ike_rekey_collision_b_wins);
	ATF_TP_ADD_TC(tp, ike_rekey_collision_late);
	ATF_TP_ADD_TC(tp, ike_rekey_collision_late_refused);
	ATF_TP_ADD_TC(tp, ike_rekey_collision_deleted_a_wins);
	ATF_TP_ADD_TC(tp, ike_rekey_collision_deleted_b_wins);
	ATF_TP_ADD_TC(tp, ike_rekey_collision_crossed_delete);
	ATF_TP_ADD_TC(tp, ike_rekey_vs_delete);
	ATF_TP_ADD_TC(tp, ike_delete_vs_rekey);
	ATF_TP_ADD_TC(tp, ike_rekey_window);
	ATF_TP_ADD_TC(tp, delete_ike_sa_responder);
	ATF_TP_ADD_TC(tp, delete_ike_sa_crossed);
	ATF_TP_ADD_TC(tp, liveness);
	ATF_TP_ADD_TC(tp, dead_peer);
	ATF_TP_ADD_TC(tp, dead_peer_restart);
	ATF_TP_ADD_TC(tp, child_timeout_ccsa_out);
	ATF_TP_ADD_TC(tp, child_timeout_auth_out);
	ATF_TP_ADD_TC(tp, child_freed_ccsa_out);
	ATF_TP_ADD_TC(tp, initial_contact_rekey_out);
	return (atf_no_error());
}
