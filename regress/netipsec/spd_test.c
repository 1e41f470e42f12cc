/*
 * The SPD index: for random policy sets and random packets, the indexed
 * lookup must return exactly what FreeBSD's linear first-match scan over
 * the priority-ordered list returns.  Kernel code (it links against the
 * SPD's internals), built with -D_KERNEL.
 */
#include <atf-c.h>

#include <ukern/ukern.h>

#include <net/pfkeyv2.h>
#include <netipsec/ipsec.h>
#include <netipsec/keydb.h>
#include <netipsec/key.h>
#include <netipsec/key_var.h>

MALLOC_DEFINE(M_TEST, "test", "test policies");

static uint32_t rnd_state = 12345;

static uint32_t
rnd(void)
{

	/* xorshift: deterministic, so a failure can be replayed. */
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return (rnd_state);
}

static void
set4(union sockaddr_union *su, uint32_t a, uint16_t port)
{

	memset(su, 0, sizeof(*su));
	su->sin.sin_family = AF_INET;
	su->sin.sin_addr.s_addr = htonl(a);
	su->sin.sin_port = htons(port);
}

static struct secpolicy *
mksp(uint32_t src, int ps, uint32_t dst, int pd, int proto, int sport,
    int dport, uint32_t prio, uint32_t id)
{
	struct secpolicy *sp;

	sp = malloc(sizeof(*sp), M_TEST, M_WAITOK | M_ZERO);
	set4(&sp->spidx.src, src, sport);
	set4(&sp->spidx.dst, dst, dport);
	sp->spidx.prefs = ps;
	sp->spidx.prefd = pd;
	sp->spidx.ul_proto = proto;
	sp->spidx.dir = IPSEC_DIR_OUTBOUND;
	sp->priority = prio;
	sp->id = id;
	sp->policy = IPSEC_POLICY_NONE;
	return (sp);
}

static struct secpolicy *
linear(const struct secpolicyindex *pkt)
{
	struct secpolicy *sp;

	TAILQ_FOREACH(sp, &sptree[pkt->dir], chain)
		if (key_spd_cmpspidx_withmask(&sp->spidx, pkt))
			return (sp);
	return (NULL);
}

static void
pkt4(struct secpolicyindex *p, uint32_t src, uint32_t dst, int proto,
    int sport, int dport)
{

	memset(p, 0, sizeof(*p));
	set4(&p->src, src, sport);
	set4(&p->dst, dst, dport);
	p->ul_proto = proto;
	p->dir = IPSEC_DIR_OUTBOUND;
	p->prefs = p->prefd = 32;
}

static void
flush(void)
{
	struct secpolicy *sp;
	int dir;

	SPTREE_WLOCK();
	for (dir = 0; dir < IPSEC_DIR_MAX; dir++)
		while ((sp = TAILQ_FIRST(&sptree[dir])) != NULL) {
			key_spd_remove(sp);
			free(sp, M_TEST);
		}
	SPTREE_WUNLOCK();
}

ATF_TC_WITHOUT_HEAD(first_match_rules);
ATF_TC_BODY(first_match_rules, tc)
{
	struct secpolicy *a, *b, *c, *d;
	struct secpolicyindex p;

	key_init();
	SPTREE_WLOCK();
	/* Same priority: FIFO.  Lower priority value: wins regardless. */
	a = mksp(0x0a000000, 8, 0x0b000000, 8, 255, 0, 0, 10, 1);
	b = mksp(0x0a010000, 16, 0x0b010000, 16, 255, 0, 0, 10, 2);
	c = mksp(0x0a010100, 24, 0x0b010100, 24, IPPROTO_TCP, 0, 80, 5, 3);
	d = mksp(0x0a010101, 32, 0x0b010101, 32, 255, 0, 0, 10, 4);
	ATF_REQUIRE_EQ(key_spd_insert(a), 0);
	ATF_REQUIRE_EQ(key_spd_insert(b), 0);
	ATF_REQUIRE_EQ(key_spd_insert(c), 0);
	ATF_REQUIRE_EQ(key_spd_insert(d), 0);
	SPTREE_WUNLOCK();

	pkt4(&p, 0x0a010101, 0x0b010101, IPPROTO_TCP, 1234, 80);
	ATF_CHECK(key_spd_match(&p) == c);	/* priority 5 */
	pkt4(&p, 0x0a010101, 0x0b010101, IPPROTO_TCP, 1234, 81);
	ATF_CHECK(key_spd_match(&p) == a);	/* first of priority 10 */
	pkt4(&p, 0x0a010101, 0x0b010101, IPPROTO_UDP, 1234, 80);
	ATF_CHECK(key_spd_match(&p) == a);
	pkt4(&p, 0x0c000001, 0x0b010101, IPPROTO_UDP, 1234, 80);
	ATF_CHECK(key_spd_match(&p) == NULL);
	/* Exact selector lookup ignores priorities and order. */
	ATF_CHECK(key_spd_exact(&d->spidx) == d);
	ATF_CHECK(key_spd_byid(3) == c);

	SPTREE_WLOCK();
	key_spd_remove(a);
	SPTREE_WUNLOCK();
	pkt4(&p, 0x0a010101, 0x0b010101, IPPROTO_TCP, 1234, 81);
	ATF_CHECK(key_spd_match(&p) == b);
	free(a, M_TEST);
	flush();
	key_destroy();
}

ATF_TC_WITHOUT_HEAD(random_vs_linear);
ATF_TC_BODY(random_vs_linear, tc)
{
	static const int plens[] = { 0, 8, 16, 24, 28, 32 };
	static const int protos[] = { 255, IPPROTO_TCP, IPPROTO_UDP };
	struct secpolicyindex p;
	struct secpolicy *sp, *want, *got;
	uint32_t id, base;
	int round, i, n, mismatches;

	key_init();
	mismatches = 0;
	id = 1;
	for (round = 0; round < 20; round++) {
		n = 1 + rnd() % 300;
		base = 0x0a000000;
		SPTREE_WLOCK();
		for (i = 0; i < n; i++) {
			sp = mksp(base | (rnd() & 0x0303ff),
			    plens[rnd() % nitems(plens)],
			    base | (rnd() & 0x0303ff),
			    plens[rnd() % nitems(plens)],
			    protos[rnd() % nitems(protos)],
			    rnd() % 3 == 0 ? 1000 + rnd() % 3 : 0,
			    rnd() % 3 == 0 ? 80 + rnd() % 3 : 0,
			    rnd() % 4, id++);
			if (key_spd_exact(&sp->spidx) != NULL) {
				free(sp, M_TEST);
				continue;
			}
			ATF_REQUIRE_EQ(key_spd_insert(sp), 0);
		}
		SPTREE_WUNLOCK();
		for (i = 0; i < 2000; i++) {
			pkt4(&p, base | (rnd() & 0x0303ff),
			    base | (rnd() & 0x0303ff),
			    protos[1 + rnd() % 2], 1000 + rnd() % 4,
			    80 + rnd() % 4);
			want = linear(&p);
			got = key_spd_match(&p);
			if (want != got)
				mismatches++;
		}
		flush();
	}
	ATF_CHECK_EQ_MSG(mismatches, 0, "%d lookups disagree", mismatches);
	key_destroy();
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, first_match_rules);
	ATF_TP_ADD_TC(tp, random_vs_linear);
	return (atf_no_error());
}
