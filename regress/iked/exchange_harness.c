/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The exchange tests' world (exchange_harness.h): two peers, A at
 * 192.0.2.1 and B at 192.0.2.2, each a struct iked with its own
 * configuration, SPD, SAD and outgoing datagrams, on one event base
 * whose loop never runs; and deterministic randomness.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <event2/event.h>

#include <atf-c.h>
#include <libpfkey.h>

#include "exchange_harness.h"
#include "ikev2.h"

#define XT_NONCE_LEN	32	/* ikev2.c's nonces; nothing else draws 32 */

struct iked		*iked_env;
struct xt_peer		*xt_a, *xt_b;
static struct xt_peer	 xt_peers[2];
static struct xt_peer	*xt_cur;	/* whose code runs */
static struct event_base *xt_base;
static uint32_t		 xt_rnd;

/*
 * Randomness: a counter, so every run draws the same SPIs, nonces and
 * IVs.  A test may choose the first byte of a peer's next nonces
 * (xt_nonce), to decide which of two colliding rekeys wins.
 */
void
arc4random_buf(void *buf, size_t n)
{
	uint8_t	*p = buf;
	size_t	 i;

	for (i = 0; i < n; i++) {
		xt_rnd++;
		p[i] = (uint8_t)((xt_rnd * 0x9d) ^ (xt_rnd >> 8));
	}
	if (n == XT_NONCE_LEN && xt_cur != NULL && xt_cur->p_nnonce > 0) {
		p[0] = xt_cur->p_nonce[0];
		memmove(xt_cur->p_nonce, xt_cur->p_nonce + 1,
		    --xt_cur->p_nnonce);
	}
}

uint32_t
arc4random(void)
{
	uint32_t	 v;

	arc4random_buf(&v, sizeof(v));
	return (v);
}

void
xt_nonce(struct xt_peer *p, uint8_t first)
{
	ATF_REQUIRE(p->p_nnonce < sizeof(p->p_nonce));
	p->p_nonce[p->p_nnonce++] = first;
}

struct xt_peer *
xt_peer(struct iked *env)
{
	ATF_REQUIRE(env == &xt_a->p_env || env == &xt_b->p_env);
	return ((struct xt_peer *)env);
}

struct xt_peer *
xt_byaddr(const struct sockaddr *sa)
{
	int	 i;

	for (i = 0; i < 2; i++)
		if (sa_cmpaddr((struct sockaddr *)&xt_peers[i].p_addr, sa) == 0)
			return (&xt_peers[i]);
	return (NULL);
}

/* The code about to run is p's (its randomness, its iked_env). */
void
xt_enter(struct xt_peer *p)
{
	xt_cur = p;
	iked_env = &p->p_env;
}

static void
xt_peer_init(struct xt_peer *p, const char *name, const char *addr,
    const char *conf)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&p->p_addr;
	struct iked_config	*cf;
	int			 i;

	memset(p, 0, sizeof(*p));
	p->p_name = name;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(500);
	ATF_REQUIRE(inet_pton(AF_INET, addr, &sin->sin_addr) == 1);
	TAILQ_INIT(&p->p_out);
	TAILQ_INIT(&p->p_getspi);
	p->p_nextspi = name[0] == 'A' ? 0xa0000000 : 0xb0000000;
	p->p_env.sc_conffile = name;
	p->p_env.sc_port = 500;
	p->p_env.sc_nattport = 4500;
	p->p_env.sc_pfkey = -1;
	p->p_env.sc_cafd = -1;	/* sc_ca, if a test sets one: as iked -X */
	for (i = 0; i < IKED_SOCK_MAX; i++)
		p->p_env.sc_sock[i] = -1;
	ikesa_init(&p->p_env);
	kernel_spd_init(&p->p_env);
	p->p_env.sc_evbase = xt_base;
	xt_enter(p);
	arc4random_buf(p->p_env.sc_cookie_secret,
	    sizeof(p->p_env.sc_cookie_secret));
	parse_clear_macros();
	if (parse_buffer(name, conf, strlen(conf),
	    PARSE_NOINCLUDE | PARSE_NORESOLVE, &cf) == -1)
		atf_tc_fail("peer %s: configuration refused", name);
	config_setrunning(&p->p_env, cf);
}

void
xt_setup(const char *confa, const char *confb)
{
	log_init(1, LOG_DAEMON);
	log_setverbose(getenv("XT_VERBOSE") != NULL);
	group_setweak(1);
	xt_rnd = 0;
	ATF_REQUIRE((xt_base = event_base_new()) != NULL);
	xt_a = &xt_peers[0];
	xt_b = &xt_peers[1];
	xt_peer_init(xt_a, "A", "192.0.2.1", confa);
	xt_peer_init(xt_b, "B", "192.0.2.2", confb);
}

/* Everything goes, as at iked's exit; ASan sees what leaks. */
void
xt_teardown(void)
{
	struct xt_peer		*p;
	struct xt_getspi	*gs;
	int			 i;

	for (i = 0; i < 2; i++) {
		p = &xt_peers[i];
		xt_enter(p);
		p->p_env.sc_exiting = 1;
		iked_shutdown_sas(&p->p_env);
		halfopen_clear(&p->p_env);
	}
	for (i = 0; i < 2; i++) {
		p = &xt_peers[i];
		xt_drop_all(p);
		while ((gs = TAILQ_FIRST(&p->p_getspi)) != NULL) {
			TAILQ_REMOVE(&p->p_getspi, gs, gs_entry);
			free(gs);
		}
		kernel_spd_flush(&p->p_env);
		auth_close(&p->p_env);
		config_unref(p->p_env.sc_config);
		p->p_env.sc_config = NULL;
	}
	event_base_free(xt_base);
	xt_base = NULL;
	xt_cur = NULL;
	iked_env = NULL;
}

/* %%% The network */

u_int
xt_queued(struct xt_peer *p)
{
	struct xt_dgram	*dg;
	u_int		 n = 0;

	TAILQ_FOREACH(dg, &p->p_out, dg_entry)
		n++;
	return (n);
}

const struct xt_dgram *
xt_peek(struct xt_peer *p)
{
	return (TAILQ_FIRST(&p->p_out));
}

/* The exchange type of a datagram; *response, *msgid. */
int
xt_dgram_exch(const struct xt_dgram *dg, int *response, uint32_t *msgid)
{
	const uint8_t	*h = dg->dg_buf + (dg->dg_natt ? 4 : 0);

	ATF_REQUIRE(dg->dg_len >= (dg->dg_natt ? 4 : 0) + 28);
	if (response != NULL)
		*response = (h[19] & IKEV2_FLAG_RESPONSE) != 0;
	if (msgid != NULL)
		*msgid = (uint32_t)h[20] << 24 | (uint32_t)h[21] << 16 |
		    (uint32_t)h[22] << 8 | h[23];
	return (h[18]);
}

static void
xt_dgram_free(struct xt_dgram *dg)
{
	free(dg->dg_buf);
	free(dg);
}

static void
xt_send_to(const struct xt_dgram *dg)
{
	struct xt_peer	*to;

	/* Nobody (a flood's fake source): lost. */
	if ((to = xt_byaddr((struct sockaddr *)&dg->dg_dst)) == NULL)
		return;
	xt_enter(to);
	to->p_env.sc_stats.st_rx++;
	ikesa_recv(&to->p_env, dg->dg_natt, (struct sockaddr *)&dg->dg_dst,
	    (struct sockaddr *)&dg->dg_src, dg->dg_buf, dg->dg_len);
}

void
xt_deliver(struct xt_peer *p)
{
	struct xt_dgram	*dg;

	ATF_REQUIRE_MSG((dg = TAILQ_FIRST(&p->p_out)) != NULL,
	    "%s sent nothing to deliver", p->p_name);
	TAILQ_REMOVE(&p->p_out, dg, dg_entry);
	xt_send_to(dg);
	xt_dgram_free(dg);
}

void
xt_deliver_copy(struct xt_peer *p)
{
	struct xt_dgram	*dg;

	ATF_REQUIRE_MSG((dg = TAILQ_FIRST(&p->p_out)) != NULL,
	    "%s sent nothing to deliver", p->p_name);
	xt_send_to(dg);
}

void
xt_drop(struct xt_peer *p)
{
	struct xt_dgram	*dg;

	ATF_REQUIRE_MSG((dg = TAILQ_FIRST(&p->p_out)) != NULL,
	    "%s sent nothing to drop", p->p_name);
	TAILQ_REMOVE(&p->p_out, dg, dg_entry);
	xt_dgram_free(dg);
}

/* The first queued datagram is overtaken by the others (reordering). */
void
xt_hold(struct xt_peer *p)
{
	struct xt_dgram	*dg;

	ATF_REQUIRE_MSG((dg = TAILQ_FIRST(&p->p_out)) != NULL,
	    "%s sent nothing to hold", p->p_name);
	TAILQ_REMOVE(&p->p_out, dg, dg_entry);
	TAILQ_INSERT_TAIL(&p->p_out, dg, dg_entry);
}

void
xt_drop_all(struct xt_peer *p)
{
	while (!TAILQ_EMPTY(&p->p_out))
		xt_drop(p);
}

/* A datagram to p from any address (a third party). */
void
xt_inject(struct xt_peer *p, const struct sockaddr *from, const uint8_t *buf,
    size_t len)
{
	struct xt_dgram	 dg;

	memset(&dg, 0, sizeof(dg));
	memcpy(&dg.dg_src, from, sa_len(from));
	dg.dg_dst = p->p_addr;
	dg.dg_buf = (uint8_t *)(uintptr_t)buf;
	dg.dg_len = len;
	xt_send_to(&dg);
}

/*
 * Kernel replies, the ca's answers and datagrams, in turn, until
 * nothing moves.
 */
void
xt_run(void)
{
	int	 i, moved, rounds = 0;

	do {
		moved = 0;
		for (i = 0; i < 2; i++)
			if (xt_kernel_pending(&xt_peers[i]) > 0) {
				xt_kernel_run(&xt_peers[i]);
				moved = 1;
			}
		/* The ca's answers (in process, as iked -X). */
		for (i = 0; i < 2; i++)
			if (auth_ready(&xt_peers[i].p_env) > 0) {
				xt_enter(&xt_peers[i]);
				auth_deliver(&xt_peers[i].p_env);
				moved = 1;
			}
		for (i = 0; i < 2; i++)
			if (!TAILQ_EMPTY(&xt_peers[i].p_out)) {
				xt_deliver(&xt_peers[i]);
				moved = 1;
			}
		ATF_REQUIRE_MSG(++rounds < 1000, "the peers never settle");
	} while (moved);
}

/* %%% The kernel: SPD entries and its events */

static void
xt_addr(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (s == NULL)
		return;
	sin->sin_family = AF_INET;
	ATF_REQUIRE(inet_pton(AF_INET, s, &sin->sin_addr) == 1);
}

/* An ESP policy "require"; tunnel mode with endpoints, else transport. */
struct iked_spd *
xt_spd_add(struct xt_peer *p, uint32_t id, uint8_t dir, const char *src,
    int splen, const char *dst, int dplen, const char *tsrc, const char *tdst)
{
	struct iked_spd	*spd;

	ATF_REQUIRE((spd = calloc(1, sizeof(*spd))) != NULL);
	spd->spd_id = id;
	spd->spd_dir = dir;
	spd->spd_type = IPSEC_POLICY_IPSEC;
	xt_addr(src, &spd->spd_src);
	xt_addr(dst, &spd->spd_dst);
	spd->spd_sprefix = (uint8_t)splen;
	spd->spd_dprefix = (uint8_t)dplen;
	spd->spd_ulproto = IPSEC_ULPROTO_ANY;
	spd->spd_proto = IPPROTO_ESP;
	spd->spd_mode = tsrc != NULL ? IPSEC_MODE_TUNNEL : IPSEC_MODE_TRANSPORT;
	spd->spd_level = IPSEC_LEVEL_REQUIRE;
	xt_addr(tsrc, &spd->spd_tsrc);
	xt_addr(tdst, &spd->spd_tdst);
	kernel_spd_insert(&p->p_env, spd);
	return (spd);
}

/* SADB_ACQUIRE seq for the outbound policy spid. */
void
xt_acquire(struct xt_peer *p, uint32_t seq, uint32_t spid)
{
	struct iked_spd	*spd;

	ATF_REQUIRE((spd = kernel_spd_byid(&p->p_env, spid)) != NULL);
	xt_enter(p);
	ikesa_acquire(&p->p_env, seq, spd, (struct sockaddr *)&spd->spd_src,
	    (struct sockaddr *)&spd->spd_dst);
}

/* SADB_EXPIRE of the SA spi (network order). */
void
xt_expire(struct xt_peer *p, uint32_t spi, int hard)
{
	xt_enter(p);
	ikesa_expire(&p->p_env, spi, hard);
}

/* %%% Time: one timer fires, now, whatever its delay. */

void
xt_fire(struct xt_peer *p, struct event *ev)
{
	event_callback_fn	 cb;
	void			*arg;

	ATF_REQUIRE_MSG(ev != NULL && event_pending(ev, EV_TIMEOUT, NULL),
	    "%s: the timer is not armed", p->p_name);
	cb = event_get_callback(ev);
	arg = event_get_callback_arg(ev);
	event_del(ev);
	xt_enter(p);
	cb(-1, EV_TIMEOUT, arg);
}

/* %%% The daemon's state */

struct iked_sa *
xt_ikesa(struct xt_peer *p)
{
	return (TAILQ_FIRST(&p->p_env.sc_sas));
}

u_int
xt_nikesa(struct xt_peer *p)
{
	struct iked_sa	*sa;
	u_int		 n = 0;

	TAILQ_FOREACH(sa, &p->p_env.sc_sas, sa_entry)
		n++;
	return (n);
}

/* Children in state st (0: any). */
u_int
xt_nchildren(struct xt_peer *p, int st)
{
	struct iked_sa		*sa;
	struct iked_child	*ch;
	u_int			 n = 0;

	TAILQ_FOREACH(sa, &p->p_env.sc_sas, sa_entry)
		TAILQ_FOREACH(ch, &sa->sa_children, ch_entry)
			if (st == 0 || (int)ch->ch_state == st)
				n++;
	return (n);
}

struct iked_child *
xt_child_nth(struct xt_peer *p, u_int nth)
{
	struct iked_sa		*sa;
	struct iked_child	*ch;

	TAILQ_FOREACH(sa, &p->p_env.sc_sas, sa_entry)
		TAILQ_FOREACH(ch, &sa->sa_children, ch_entry)
			if (nth-- == 0)
				return (ch);
	return (NULL);
}
